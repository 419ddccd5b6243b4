//! Field errors (upstream's `field.Error` / `field.ErrorList`): what validation returns, with
//! upstream's message bodies, so `kubectl` shows the same text as against any cluster.

use serde_json::Value;

/// The kind of a field error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ErrorKind {
    NotFound,
    Required,
    Duplicate,
    Invalid,
    NotSupported,
    Forbidden,
    TooLong,
    TooMany,
    Internal,
    TypeInvalid,
}

impl ErrorKind {
    /// The text upstream prints for this kind.
    pub fn text(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "Not found",
            ErrorKind::Required => "Required value",
            ErrorKind::Duplicate => "Duplicate value",
            ErrorKind::Invalid => "Invalid value",
            ErrorKind::NotSupported => "Unsupported value",
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::TooLong => "Too long",
            ErrorKind::TooMany => "Too many",
            ErrorKind::Internal => "Internal error",
            ErrorKind::TypeInvalid => "Invalid value",
        }
    }

    /// The `Status` cause reason for this kind.
    pub fn cause_reason(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "FieldValueNotFound",
            ErrorKind::Required => "FieldValueRequired",
            ErrorKind::Duplicate => "FieldValueDuplicate",
            ErrorKind::Invalid => "FieldValueInvalid",
            ErrorKind::NotSupported => "FieldValueNotSupported",
            ErrorKind::Forbidden => "FieldValueForbidden",
            ErrorKind::TooLong => "FieldValueTooLong",
            ErrorKind::TooMany => "FieldValueTooMany",
            ErrorKind::Internal => "InternalError",
            ErrorKind::TypeInvalid => "FieldValueTypeInvalid",
        }
    }
}

/// One validation failure at a field path.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// The kind.
    pub kind: ErrorKind,
    /// The field path, e.g. `spec.containers[0].image`.
    pub path: String,
    /// The offending value, for kinds that print it.
    pub value: Option<Value>,
    /// Extra detail.
    pub detail: String,
}

impl FieldError {
    fn new(kind: ErrorKind, path: impl Into<String>, value: Option<Value>, detail: impl Into<String>) -> Self {
        FieldError { kind, path: path.into(), value, detail: detail.into() }
    }
    /// Required value.
    pub fn required(path: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Required, path, None, detail)
    }
    /// Invalid value.
    pub fn invalid(path: impl Into<String>, value: impl Into<Value>, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, path, Some(value.into()), detail)
    }
    /// Duplicate value.
    pub fn duplicate(path: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::new(ErrorKind::Duplicate, path, Some(value.into()), "")
    }
    /// Unsupported value, listing the supported ones.
    pub fn not_supported(path: impl Into<String>, value: impl Into<Value>, supported: &[&str]) -> Self {
        let detail = if supported.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        Self::new(ErrorKind::NotSupported, path, Some(value.into()), detail)
    }
    /// Forbidden.
    pub fn forbidden(path: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, path, None, detail)
    }
    /// Too long.
    pub fn too_long(path: impl Into<String>, max: usize) -> Self {
        Self::new(ErrorKind::TooLong, path, None, format!("may not be more than {max} bytes"))
    }
    /// Too many items.
    pub fn too_many(path: impl Into<String>, actual: usize, max: usize) -> Self {
        Self::new(ErrorKind::TooMany, path, Some(Value::from(actual)), format!("must have at most {max} items"))
    }
    /// Not found.
    pub fn not_found(path: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::new(ErrorKind::NotFound, path, Some(value.into()), "")
    }
    /// Internal error.
    pub fn internal(path: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, path, None, detail)
    }

    /// The message without the path (upstream's `ErrorBody`), e.g. `Invalid value: "x": detail`.
    pub fn body(&self) -> String {
        let mut s = match self.kind {
            ErrorKind::Required | ErrorKind::Forbidden | ErrorKind::TooLong | ErrorKind::Internal => {
                self.kind.text().to_string()
            }
            _ => format!("{}: {}", self.kind.text(), format_value(self.value.as_ref())),
        };
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() { write!(f, "{}", self.body()) } else { write!(f, "{}: {}", self.path, self.body()) }
    }
}

/// Formats a bad value as upstream does: strings quoted, numbers and booleans bare, null as null.
fn format_value(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "null".to_string(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(other) => other.to_string(),
    }
}

/// A list of field errors.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ErrorList(pub Vec<FieldError>);

impl ErrorList {
    /// An empty list.
    pub fn new() -> Self {
        ErrorList(Vec::new())
    }
    /// Adds one error.
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e)
    }
    /// Adds all errors of another list.
    pub fn extend(&mut self, other: ErrorList) {
        self.0.extend(other.0)
    }
    /// Whether there is no error.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The number of errors.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Iterates the errors.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }
    /// Upstream's aggregate text: the single message, or `[a, b, ...]`.
    pub fn aggregate_message(&self) -> String {
        // upstream de-duplicates identical messages when aggregating
        let mut msgs: Vec<String> = Vec::new();
        for e in &self.0 {
            let m = e.to_string();
            if !msgs.contains(&m) {
                msgs.push(m);
            }
        }
        match msgs.len() {
            0 => String::new(),
            1 => msgs.remove(0),
            _ => format!("[{}]", msgs.join(", ")),
        }
    }
}

impl From<Vec<FieldError>> for ErrorList {
    fn from(v: Vec<FieldError>) -> Self {
        ErrorList(v)
    }
}

impl IntoIterator for ErrorList {
    type Item = FieldError;
    type IntoIter = std::vec::IntoIter<FieldError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Builds field paths: `Path::new("spec").child("containers").index(0).child("name")` →
/// `spec.containers[0].name`; `.key("app")` → `metadata.labels[app]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Path(String);

impl Path {
    /// A root path.
    pub fn new(root: &str) -> Self {
        Path(root.to_string())
    }
    /// A child field.
    pub fn child(&self, name: &str) -> Self {
        if self.0.is_empty() { Path(name.to_string()) } else { Path(format!("{}.{}", self.0, name)) }
    }
    /// A list index.
    pub fn index(&self, i: usize) -> Self {
        Path(format!("{}[{}]", self.0, i))
    }
    /// A map key.
    pub fn key(&self, k: &str) -> Self {
        Path(format!("{}[{}]", self.0, k))
    }
    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Path> for String {
    fn from(p: Path) -> String {
        p.0
    }
}

impl From<&Path> for String {
    fn from(p: &Path) -> String {
        p.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_match_upstream() {
        assert_eq!(FieldError::required("spec.x", "").to_string(), "spec.x: Required value");
        assert_eq!(
            FieldError::invalid("metadata.name", "Foo", "must be lower case").to_string(),
            "metadata.name: Invalid value: \"Foo\": must be lower case"
        );
        assert_eq!(
            FieldError::not_supported("spec.restartPolicy", "X", &["Always", "Never", "OnFailure"]).to_string(),
            "spec.restartPolicy: Unsupported value: \"X\": supported values: \"Always\", \"Never\", \"OnFailure\""
        );
        assert_eq!(FieldError::invalid("spec.replicas", -1, "must be >= 0").body(), "Invalid value: -1: must be >= 0");
        assert_eq!(FieldError::duplicate("spec.c[1].name", "a").to_string(), "spec.c[1].name: Duplicate value: \"a\"");
        assert_eq!(FieldError::forbidden("spec", "nope").to_string(), "spec: Forbidden: nope");
    }

    #[test]
    fn paths() {
        let p = Path::new("spec").child("containers").index(2).child("name");
        assert_eq!(p.as_str(), "spec.containers[2].name");
        assert_eq!(Path::new("metadata").child("labels").key("a/b").as_str(), "metadata.labels[a/b]");
    }

    #[test]
    fn aggregate_dedups() {
        let l = ErrorList(vec![FieldError::required("a", ""), FieldError::required("a", "")]);
        assert_eq!(l.aggregate_message(), "a: Required value");
    }
}
