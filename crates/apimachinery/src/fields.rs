//! Field selectors as Kubernetes 1.32 parses, prints and matches them.
//!
//! The grammar is upstream's (`k8s.io/apimachinery/pkg/fields`): comma-separated terms
//! `field=value`, `field==value` or `field!=value`. In values, `\`, `,` and `=` must be escaped
//! with a backslash (`\\`, `\,`, `\=`); the field name has no escaping and ends at the first
//! operator. Empty terms are skipped, terms whose field and value are both empty are dropped,
//! and the terms are sorted as text before parsing, so errors name the first bad term in that
//! order. A field the object does not have reads as the empty string when matching.
//!
//! The apiserver then checks every field against the kind's supported fields
//! ([`FieldSelector::transform`] or [`FieldSelector::check_supported`]) and answers 400 with
//! [`field_label_not_supported`]'s text (`field label not supported: <name>`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The message of the 400 returned when a GET of a named object carries a field selector that
/// does not require that very name.
pub const NAME_MISMATCH: &str = "fieldSelector metadata.name doesn't match requested name";

/// How a term compares the field's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldOperator {
    /// `=` or `==`.
    Equals,
    /// `!=`.
    NotEquals,
}

impl FieldOperator {
    /// `=` or `!=` (how the term prints; `==` prints as `=`).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldOperator::Equals => "=",
            FieldOperator::NotEquals => "!=",
        }
    }
}

/// One term of a field selector, with the value unescaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRequirement {
    /// The field, e.g. `metadata.name`.
    pub field: String,
    /// The comparison.
    pub operator: FieldOperator,
    /// The literal value.
    pub value: String,
}

impl FieldRequirement {
    fn matches(&self, actual: &str) -> bool {
        match self.operator {
            FieldOperator::Equals => actual == self.value,
            FieldOperator::NotEquals => actual != self.value,
        }
    }
}

impl fmt::Display for FieldRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.field, self.operator.as_str(), escape_value(&self.value))
    }
}

/// A field selector: terms that must all hold, or the selector matching nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    terms: Vec<FieldRequirement>,
    nothing: bool,
}

/// Escapes a literal for use as a field selector value: `\` → `\\`, `,` → `\,`, `=` → `\=`.
pub fn escape_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Reverses [`escape_value`], with upstream's errors: an unknown escape gives
/// `invalid field selector: invalid escape sequence: \x`, a lone trailing backslash
/// `... invalid escape sequence: \`, and an unescaped `,` or `=`
/// `invalid field selector: unescaped character in value: 44` (or `61`; upstream prints the
/// character's code).
pub fn unescape_value(s: &str) -> Result<String, String> {
    if !s.contains(['\\', ',', '=']) {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            if matches!(c, '\\' | ',' | '=') {
                out.push(c);
            } else {
                return Err(format!("invalid field selector: invalid escape sequence: \\{c}"));
            }
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            ',' | '=' => {
                return Err(format!("invalid field selector: unescaped character in value: {}", u32::from(c)));
            }
            _ => out.push(c),
        }
    }
    if in_slash {
        return Err("invalid field selector: invalid escape sequence: \\".to_string());
    }
    Ok(out)
}

/// Splits at commas not escaped by a backslash (the backslashes stay in the terms).
fn split_terms(s: &str) -> Vec<&str> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in s.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&s[start..i]);
            start = i + 1;
        }
    }
    terms.push(&s[start..]);
    terms
}

/// Splits a term at the first operator, trying `!=`, then `==`, then `=` at each position.
fn split_term(term: &str) -> Option<(&str, FieldOperator, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        if let Some(r) = rest.strip_prefix("!=") {
            return Some((&term[..i], FieldOperator::NotEquals, r));
        }
        if let Some(r) = rest.strip_prefix("==") {
            return Some((&term[..i], FieldOperator::Equals, r));
        }
        if let Some(r) = rest.strip_prefix('=') {
            return Some((&term[..i], FieldOperator::Equals, r));
        }
    }
    None
}

/// Upstream's text for a field the kind does not support in selectors.
pub fn field_label_not_supported(label: &str) -> String {
    format!("field label not supported: {label}")
}

/// Upstream's text for a field of a kind with no field-label conversion registered (only
/// `metadata.name` and `metadata.namespace` are accepted there):
/// `"<label>" is not a known field selector: only "metadata.name", "metadata.namespace"`.
pub fn unknown_field_selector(label: &str) -> String {
    format!(
        "{} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
        crate::validation::go_quote(label)
    )
}

/// Upstream's default field-label conversion, for use with [`FieldSelector::transform`]:
/// accepts `metadata.name` and `metadata.namespace`, rejects anything else with
/// [`unknown_field_selector`].
pub fn default_metadata_conversion(field: &str, value: &str) -> Result<(String, String), String> {
    match field {
        "metadata.name" | "metadata.namespace" => Ok((field.to_string(), value.to_string())),
        _ => Err(unknown_field_selector(field)),
    }
}

impl FieldSelector {
    /// Parses a field selector with upstream's grammar and errors; `""` selects everything.
    /// A term without an operator gives `invalid selector: '<whole>'; can't understand '<term>'`.
    pub fn parse(s: &str) -> Result<FieldSelector, String> {
        let mut parts = split_terms(s);
        parts.sort_unstable();
        let mut terms = Vec::new();
        for part in parts {
            if part.is_empty() {
                continue;
            }
            let Some((field, operator, rhs)) = split_term(part) else {
                return Err(format!("invalid selector: '{s}'; can't understand '{part}'"));
            };
            let value = unescape_value(rhs)?;
            if field.is_empty() && value.is_empty() {
                continue;
            }
            terms.push(FieldRequirement { field: field.to_string(), operator, value });
        }
        Ok(FieldSelector { terms, nothing: false })
    }

    /// The selector that matches everything.
    pub fn everything() -> FieldSelector {
        FieldSelector::default()
    }

    /// The selector that matches nothing.
    pub fn nothing() -> FieldSelector {
        FieldSelector { terms: Vec::new(), nothing: true }
    }

    /// A selector with the single term `field=value` (upstream's `OneTermEqualSelector`).
    pub fn one_term_equal(field: &str, value: &str) -> FieldSelector {
        FieldSelector {
            terms: vec![FieldRequirement {
                field: field.to_string(),
                operator: FieldOperator::Equals,
                value: value.to_string(),
            }],
            nothing: false,
        }
    }

    /// A selector with the single term `field!=value` (upstream's `OneTermNotEqualSelector`).
    pub fn one_term_not_equal(field: &str, value: &str) -> FieldSelector {
        FieldSelector {
            terms: vec![FieldRequirement {
                field: field.to_string(),
                operator: FieldOperator::NotEquals,
                value: value.to_string(),
            }],
            nothing: false,
        }
    }

    /// A selector requiring each field of the map to equal its value, in key order.
    pub fn from_set(fields: &BTreeMap<String, String>) -> FieldSelector {
        FieldSelector {
            terms: fields
                .iter()
                .map(|(k, v)| FieldRequirement { field: k.clone(), operator: FieldOperator::Equals, value: v.clone() })
                .collect(),
            nothing: false,
        }
    }

    /// Both selectors' terms (upstream's `AndSelectors`); with a nothing selector, nothing.
    pub fn and(&self, other: &FieldSelector) -> FieldSelector {
        if self.nothing || other.nothing {
            return FieldSelector::nothing();
        }
        let mut terms = self.terms.clone();
        terms.extend(other.terms.iter().cloned());
        FieldSelector { terms, nothing: false }
    }

    /// Whether the selector places no restriction.
    pub fn is_empty(&self) -> bool {
        !self.nothing && self.terms.is_empty()
    }

    /// Whether this is the selector that matches nothing.
    pub fn is_nothing(&self) -> bool {
        self.nothing
    }

    /// The terms, in selector order (so the server can check each field is supported).
    pub fn requirements(&self) -> &[FieldRequirement] {
        &self.terms
    }

    /// Whether an object matches, reading its fields through `get`; a field `get` does not know
    /// counts as `""`, as upstream's `fields.Set`.
    pub fn matches<F>(&self, get: F) -> bool
    where
        F: Fn(&str) -> Option<String>,
    {
        !self.nothing && self.terms.iter().all(|t| t.matches(get(&t.field).as_deref().unwrap_or("")))
    }

    /// [`FieldSelector::matches`] against a map of field values.
    pub fn matches_map(&self, fields: &BTreeMap<String, String>) -> bool {
        self.matches(|f| fields.get(f).cloned())
    }

    /// The value the first `=` term on `field` requires, if any (upstream's
    /// `RequiresExactMatch`; `!=` terms never count).
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        if self.nothing {
            return None;
        }
        self.terms
            .iter()
            .find(|t| t.field == field && t.operator == FieldOperator::Equals)
            .map(|t| t.value.as_str())
    }

    /// The name a `metadata.name=<name>` term pins the selection to (how upstream spots a
    /// single-object list or watch).
    pub fn exact_name(&self) -> Option<&str> {
        self.requires_exact_match("metadata.name")
    }

    /// Rewrites every term through `f(field, value) -> (field, value)` (upstream's
    /// `Transform`, which the apiserver runs with the kind's field-label conversion); terms
    /// that come back with both parts empty are dropped, and the first error is returned as
    /// is (the server answers it as a 400 BadRequest).
    pub fn transform<F>(&self, mut f: F) -> Result<FieldSelector, String>
    where
        F: FnMut(&str, &str) -> Result<(String, String), String>,
    {
        if self.nothing {
            return Ok(self.clone());
        }
        let mut terms = Vec::with_capacity(self.terms.len());
        for t in &self.terms {
            let (field, value) = f(&t.field, &t.value)?;
            if field.is_empty() && value.is_empty() {
                continue;
            }
            terms.push(FieldRequirement { field, operator: t.operator, value });
        }
        Ok(FieldSelector { terms, nothing: false })
    }

    /// Checks every field against the kind's supported fields, in selector order; the first
    /// unsupported one gives [`field_label_not_supported`]'s text.
    pub fn check_supported(&self, supported: &[&str]) -> Result<(), String> {
        match self.terms.iter().find(|t| !supported.contains(&t.field.as_str())) {
            Some(t) => Err(field_label_not_supported(&t.field)),
            None => Ok(()),
        }
    }
}

impl fmt::Display for FieldSelector {
    /// Terms joined by `,`, values escaped, `==` printed as `=`; everything and nothing print
    /// `""`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{t}")?;
        }
        Ok(())
    }
}

impl FromStr for FieldSelector {
    type Err = String;
    fn from_str(s: &str) -> Result<FieldSelector, String> {
        FieldSelector::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> FieldSelector {
        FieldSelector::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn parse_and_print() {
        let cases = [
            ("", ""),
            (",", ""),
            ("a=b", "a=b"),
            ("a==b", "a=b"),
            ("a!=b", "a!=b"),
            ("b=1,a=2", "a=2,b=1"),
            ("a=b,,c=d", "a=b,c=d"),
            ("x=a\\,b", "x=a\\,b"),
            ("x=a\\=b", "x=a\\=b"),
            ("x=a\\\\b", "x=a\\\\b"),
            ("x=", "x="),
            ("=", ""),
            ("!=", ""),
            ("==,a=b", "a=b"),
            ("=v", "=v"),
            ("a=!b", "a=!b"),
            ("a!b=c", "a!b=c"),
            ("metadata.name=my-pod,spec.nodeName!=", "metadata.name=my-pod,spec.nodeName!="),
            ("a=日本", "a=日本"),
            (" a = b ", " a = b "),
        ];
        for (input, want) in cases {
            let sel = parse(input);
            assert_eq!(sel.to_string(), want, "{input:?}");
            assert_eq!(parse(&sel.to_string()), sel, "round trip of {input:?}");
        }
        let sel = parse("x=a\\,b\\=c\\\\d");
        assert_eq!(sel.requirements()[0].value, "a,b=c\\d");
        assert_eq!(parse(" a = b ").requirements()[0].field, " a ");
        assert_eq!("a=b".parse::<FieldSelector>().map(|s| s.requirements().len()), Ok(1));
    }

    #[test]
    fn parse_errors_have_upstream_text() {
        let cases = [
            ("abc", "invalid selector: 'abc'; can't understand 'abc'"),
            ("b=c,a", "invalid selector: 'b=c,a'; can't understand 'a'"),
            // terms are sorted first, so the first bad term in sorted order is reported
            ("zz,aa", "invalid selector: 'zz,aa'; can't understand 'aa'"),
            ("a===b", "invalid field selector: unescaped character in value: 61"),
            ("a=b=c", "invalid field selector: unescaped character in value: 61"),
            ("a=b\\", "invalid field selector: invalid escape sequence: \\"),
            ("a=b\\n", "invalid field selector: invalid escape sequence: \\n"),
            ("a=\\é", "invalid field selector: invalid escape sequence: \\é"),
            ("a\\,b", "invalid selector: 'a\\,b'; can't understand 'a\\,b'"),
        ];
        for (input, want) in cases {
            assert_eq!(FieldSelector::parse(input), Err(want.to_string()), "{input:?}");
        }
    }

    #[test]
    fn escaping() {
        assert_eq!(escape_value("a,b=c\\d!e"), "a\\,b\\=c\\\\d!e");
        for raw in ["", "plain", "a,b", "=", "\\", "x\\,=y", "日本,語"] {
            assert_eq!(unescape_value(&escape_value(raw)), Ok(raw.to_string()), "{raw:?}");
        }
        assert_eq!(unescape_value("a,b"), Err("invalid field selector: unescaped character in value: 44".into()));
        assert_eq!(unescape_value("a\\!"), Err("invalid field selector: invalid escape sequence: \\!".into()));
    }

    #[test]
    fn matching() {
        let obj = map(&[("metadata.name", "web"), ("status.phase", "Running"), ("spec.nodeName", "")]);
        let cases = [
            ("", true),
            ("metadata.name=web", true),
            ("metadata.name==web", true),
            ("metadata.name=db", false),
            ("metadata.name!=db", true),
            ("metadata.name!=web", false),
            ("metadata.name=web,status.phase=Running", true),
            ("metadata.name=web,status.phase=Pending", false),
            ("spec.nodeName=", true),
            ("spec.nodeName!=", false),
            // unknown fields read as ""
            ("spec.unknown=", true),
            ("spec.unknown!=x", true),
            ("spec.unknown=x", false),
        ];
        for (sel, want) in cases {
            assert_eq!(parse(sel).matches_map(&obj), want, "{sel}");
            assert_eq!(parse(sel).matches(|f| obj.get(f).cloned()), want, "{sel}");
        }
        assert!(!FieldSelector::nothing().matches(|_| None));
        assert!(FieldSelector::everything().matches(|_| None));
        assert!(FieldSelector::one_term_not_equal("a", "b").matches(|_| Some("c".into())));
        assert!(!FieldSelector::one_term_not_equal("a", "b").matches(|_| Some("b".into())));
    }

    #[test]
    fn exact_matches() {
        let sel = parse("metadata.namespace=ns,metadata.name=web");
        assert_eq!(sel.exact_name(), Some("web"));
        assert_eq!(sel.requires_exact_match("metadata.namespace"), Some("ns"));
        assert_eq!(parse("metadata.name!=web").exact_name(), None);
        assert_eq!(parse("metadata.name!=a,metadata.name=b").exact_name(), Some("b"));
        assert_eq!(parse("status.phase=Running").exact_name(), None);
        assert_eq!(FieldSelector::nothing().exact_name(), None);
        assert_eq!(FieldSelector::one_term_equal("metadata.name", "x").exact_name(), Some("x"));
        assert_eq!(FieldSelector::one_term_equal("metadata.name", "a,b").to_string(), "metadata.name=a\\,b");
    }

    #[test]
    fn empty_and_nothing() {
        assert!(parse("").is_empty());
        assert!(parse("=").is_empty());
        assert!(!parse("a=").is_empty());
        assert!(!FieldSelector::nothing().is_empty());
        assert!(FieldSelector::nothing().is_nothing());
        assert_eq!(FieldSelector::nothing().to_string(), "");
        assert!(parse("a=b").and(&FieldSelector::nothing()).is_nothing());
        assert_eq!(parse("b=1").and(&parse("a=2")).to_string(), "b=1,a=2");
        assert_eq!(FieldSelector::from_set(&map(&[("b", "1"), ("a", "x,y")])).to_string(), "a=x\\,y,b=1");
    }

    #[test]
    fn supported_fields() {
        let pod_fields = ["metadata.name", "metadata.namespace", "spec.nodeName", "status.phase"];
        assert_eq!(parse("spec.nodeName=n1,status.phase!=Failed").check_supported(&pod_fields), Ok(()));
        assert_eq!(
            parse("spec.nodeName=n1,spec.bogus=x,aaa=1").check_supported(&pod_fields),
            Err("field label not supported: aaa".to_string())
        );
        assert_eq!(
            parse("metadata.name=a,spec.x=1").transform(default_metadata_conversion),
            Err("\"spec.x\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"".to_string())
        );
        let converted = parse("spec.host=n1,status.phase=Running")
            .transform(|f, v| match f {
                "spec.host" => Ok(("spec.nodeName".to_string(), v.to_string())),
                "status.phase" => Ok((String::new(), String::new())),
                other => Err(field_label_not_supported(other)),
            })
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(converted.to_string(), "spec.nodeName=n1");
        assert_eq!(
            parse("a=1").transform(|f, _| Err(field_label_not_supported(f))),
            Err("field label not supported: a".to_string())
        );
        assert!(FieldSelector::nothing().transform(|f, _| Err(f.to_string())).is_ok_and(|s| s.is_nothing()));
    }

    #[test]
    fn no_panics_on_odd_input() {
        for input in ["\\", "\\\\", ",,,", "é=ü\\", "=\\,", "!", "!=!=", "\0=\0", "a\\é=b"] {
            let _ = FieldSelector::parse(input);
        }
        assert_eq!(parse("a\\é=b").requirements()[0].field, "a\\é");
    }
}
