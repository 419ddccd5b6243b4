//! `Status` errors: every failure the API reports, with upstream's HTTP code, reason and message.
//!
//! Constructors mirror upstream's `k8s.io/apimachinery/pkg/api/errors` so that clients which
//! match on reason, code or message text (kubectl prints `Error from server (NotFound): ...`)
//! see what they expect. This is the one place errors become `Status` objects.

use serde::Serialize;
use serde_json::Value;

use crate::field::ErrorList;

/// The reason of a failed `Status` (upstream's `metav1.StatusReason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Reason {
    Unauthorized,
    Forbidden,
    NotFound,
    AlreadyExists,
    Conflict,
    Gone,
    Invalid,
    ServerTimeout,
    Timeout,
    TooManyRequests,
    BadRequest,
    MethodNotAllowed,
    NotAcceptable,
    RequestEntityTooLarge,
    UnsupportedMediaType,
    InternalError,
    Expired,
    ServiceUnavailable,
    Unknown,
}

impl Reason {
    /// The reason named by a `Status` text (`Unknown` for any other).
    pub fn parse(s: &str) -> Reason {
        const ALL: [Reason; 18] = [
            Reason::Unauthorized,
            Reason::Forbidden,
            Reason::NotFound,
            Reason::AlreadyExists,
            Reason::Conflict,
            Reason::Gone,
            Reason::Invalid,
            Reason::ServerTimeout,
            Reason::Timeout,
            Reason::TooManyRequests,
            Reason::BadRequest,
            Reason::MethodNotAllowed,
            Reason::NotAcceptable,
            Reason::RequestEntityTooLarge,
            Reason::UnsupportedMediaType,
            Reason::InternalError,
            Reason::Expired,
            Reason::ServiceUnavailable,
        ];
        ALL.into_iter().find(|r| r.as_str() == s).unwrap_or(Reason::Unknown)
    }

    /// The reason as it appears in a `Status` (empty for `Unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Unauthorized => "Unauthorized",
            Reason::Forbidden => "Forbidden",
            Reason::NotFound => "NotFound",
            Reason::AlreadyExists => "AlreadyExists",
            Reason::Conflict => "Conflict",
            Reason::Gone => "Gone",
            Reason::Invalid => "Invalid",
            Reason::ServerTimeout => "ServerTimeout",
            Reason::Timeout => "Timeout",
            Reason::TooManyRequests => "TooManyRequests",
            Reason::BadRequest => "BadRequest",
            Reason::MethodNotAllowed => "MethodNotAllowed",
            Reason::NotAcceptable => "NotAcceptable",
            Reason::RequestEntityTooLarge => "RequestEntityTooLarge",
            Reason::UnsupportedMediaType => "UnsupportedMediaType",
            Reason::InternalError => "InternalError",
            Reason::Expired => "Expired",
            Reason::ServiceUnavailable => "ServiceUnavailable",
            Reason::Unknown => "",
        }
    }
}

/// One cause in `Status.details.causes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cause {
    /// Machine-readable reason, e.g. `FieldValueRequired`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Human-readable message.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The field path, e.g. `spec.containers[0].name`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub field: String,
}

/// `Status.details`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Details {
    /// The object's name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The API group (empty for the core group).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// The kind or resource the error is about.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The object's UID.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// The causes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<Cause>,
    /// Seconds a client should wait before retrying.
    #[serde(rename = "retryAfterSeconds", skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<i32>,
}

/// An API error: what a handler returns and what the client receives as a `Status` object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// The reason.
    pub reason: Reason,
    /// The message shown to a person.
    pub message: String,
    /// Optional details (boxed: errors travel in `Result`s on every path).
    pub details: Option<Box<Details>>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

/// `Result` with [`ApiError`].
pub type ApiResult<T> = Result<T, ApiError>;

/// A resource name qualified by group, as upstream prints it: `pods`, `deployments.apps`.
pub fn qualified(resource: &str, group: &str) -> String {
    if group.is_empty() { resource.to_string() } else { format!("{resource}.{group}") }
}

impl ApiError {
    /// An error with a code, reason and message, no details.
    pub fn new(code: u16, reason: Reason, message: impl Into<String>) -> Self {
        ApiError { code, reason, message: message.into(), details: None }
    }

    /// Sets the details (name, group, kind) of the error.
    pub fn with_details(mut self, name: &str, group: &str, kind: &str) -> Self {
        self.details = Some(Box::new(Details {
            name: name.to_string(),
            group: group.to_string(),
            kind: kind.to_string(),
            ..Default::default()
        }));
        self
    }

    /// 404: `pods "x" not found`.
    pub fn not_found(group: &str, resource: &str, name: &str) -> Self {
        Self::new(404, Reason::NotFound, format!("{} \"{name}\" not found", qualified(resource, group)))
            .with_details(name, group, resource)
    }

    /// 409: `pods "x" already exists`.
    pub fn already_exists(group: &str, resource: &str, name: &str) -> Self {
        Self::new(409, Reason::AlreadyExists, format!("{} \"{name}\" already exists", qualified(resource, group)))
            .with_details(name, group, resource)
    }

    /// 409 Conflict: `Operation cannot be fulfilled on pods "x": <detail>`.
    pub fn conflict(group: &str, resource: &str, name: &str, detail: &str) -> Self {
        Self::new(
            409,
            Reason::Conflict,
            format!("Operation cannot be fulfilled on {} \"{name}\": {detail}", qualified(resource, group)),
        )
        .with_details(name, group, resource)
    }

    /// The optimistic-concurrency conflict every client retries on.
    pub fn modified(group: &str, resource: &str, name: &str) -> Self {
        Self::conflict(group, resource, name, OBJECT_MODIFIED)
    }

    /// 422 Invalid: `Pod "x" is invalid: [errors]`, with one cause per field error.
    pub fn invalid(group: &str, kind: &str, name: &str, errors: &ErrorList) -> Self {
        let qualified_kind = if group.is_empty() { kind.to_string() } else { format!("{kind}.{group}") };
        let list = errors.aggregate_message();
        let message = format!("{qualified_kind} \"{name}\" is invalid: {list}");
        let mut err = Self::new(422, Reason::Invalid, message).with_details(name, group, kind);
        if let Some(d) = err.details.as_mut() {
            d.causes = errors
                .iter()
                .map(|e| Cause { reason: e.kind.cause_reason().to_string(), message: e.body(), field: e.path.clone() })
                .collect();
        }
        err
    }

    /// 404 for a path that names no resource (upstream's text).
    pub fn path_not_found() -> Self {
        let mut e = Self::new(404, Reason::NotFound, "the server could not find the requested resource");
        e.details = Some(Box::default());
        e
    }

    /// 400 BadRequest with a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, Reason::BadRequest, message)
    }

    /// 401.
    pub fn unauthorized() -> Self {
        Self::new(401, Reason::Unauthorized, "Unauthorized")
    }

    /// 403: `pods "x" is forbidden: <detail>` (name may be empty).
    pub fn forbidden(group: &str, resource: &str, name: &str, detail: &str) -> Self {
        let q = qualified(resource, group);
        let message = if name.is_empty() {
            format!("{q} is forbidden: {detail}")
        } else {
            format!("{q} \"{name}\" is forbidden: {detail}")
        };
        Self::new(403, Reason::Forbidden, message).with_details(name, group, resource)
    }

    /// 405.
    pub fn method_not_allowed(group: &str, resource: &str, verb: &str) -> Self {
        let _ = verb;
        Self::new(405, Reason::MethodNotAllowed, "the server does not allow this method on the requested resource")
            .with_details("", group, resource)
    }

    /// 406: the client accepts no media type the server can produce.
    pub fn not_acceptable(accepted: &[&str]) -> Self {
        Self::new(
            406,
            Reason::NotAcceptable,
            format!("only the following media types are accepted: {}", accepted.join(", ")),
        )
    }

    /// 415: the body is in a format the server does not read.
    pub fn unsupported_media_type(content_type: &str, accepted: &[&str]) -> Self {
        let _ = content_type;
        Self::new(
            415,
            Reason::UnsupportedMediaType,
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
    }

    /// 413.
    pub fn too_large(limit: usize) -> Self {
        Self::new(413, Reason::RequestEntityTooLarge, format!("Request entity too large: limit is {limit}"))
    }

    /// 410 Expired: a watch or list asked for history that is gone.
    pub fn resource_expired(message: impl Into<String>) -> Self {
        Self::new(410, Reason::Expired, message)
    }

    /// 410 Gone (the plain form, used by a few paths upstream).
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, Reason::Gone, message)
    }

    /// 504 Timeout: the requested resource version is newer than the server has seen.
    pub fn too_large_resource_version(requested: i64, current: i64) -> Self {
        let mut e = Self::new(
            504,
            Reason::Timeout,
            format!("Timeout: Too large resource version: {requested}, current: {current}"),
        );
        e.details = Some(Box::new(Details {
            causes: vec![Cause {
                reason: "ResourceVersionTooLarge".into(),
                message: "Too large resource version".into(),
                field: String::new(),
            }],
            retry_after_seconds: Some(1),
            ..Default::default()
        }));
        e
    }

    /// 500 InternalError: `Internal error occurred: <message>`.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        let mut e = Self::new(500, Reason::InternalError, format!("Internal error occurred: {message}"));
        e.details = Some(Box::new(Details {
            causes: vec![Cause { reason: String::new(), message: message.to_string(), field: String::new() }],
            ..Default::default()
        }));
        e
    }

    /// 503.
    pub fn service_unavailable(message: impl Into<String>) -> Self {
        Self::new(503, Reason::ServiceUnavailable, message)
    }

    /// 429.
    pub fn too_many_requests(message: impl Into<String>, retry_after: i32) -> Self {
        let mut e = Self::new(429, Reason::TooManyRequests, message);
        e.details = Some(Box::new(Details { retry_after_seconds: Some(retry_after), ..Default::default() }));
        e
    }

    /// The `Status` object as JSON.
    pub fn to_status(&self) -> Value {
        let mut status = serde_json::json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "code": self.code,
        });
        if self.reason != Reason::Unknown {
            status["reason"] = Value::String(self.reason.as_str().to_string());
        }
        if let Some(d) = &self.details {
            status["details"] = serde_json::to_value(d).unwrap_or(Value::Null);
        }
        status
    }
}

/// Upstream's optimistic-concurrency conflict detail.
pub const OBJECT_MODIFIED: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

/// A successful `Status` (used by deletes of kinds that do not return the object).
pub fn success_status(name: &str, group: &str, kind: &str, uid: &str) -> Value {
    let mut details = serde_json::json!({ "name": name, "kind": kind });
    if !group.is_empty() {
        details["group"] = Value::String(group.to_string());
    }
    if !uid.is_empty() {
        details["uid"] = Value::String(uid.to_string());
    }
    serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::{FieldError, ErrorList};

    #[test]
    fn not_found_matches_upstream() {
        let e = ApiError::not_found("apps", "deployments", "web");
        assert_eq!(e.code, 404);
        assert_eq!(e.message, "deployments.apps \"web\" not found");
        let s = e.to_status();
        assert_eq!(s["reason"], "NotFound");
        assert_eq!(s["details"]["group"], "apps");
        assert_eq!(s["details"]["kind"], "deployments");
        let core = ApiError::not_found("", "pods", "x");
        assert_eq!(core.message, "pods \"x\" not found");
        assert!(core.to_status()["details"].get("group").is_none());
    }

    #[test]
    fn invalid_lists_causes() {
        let mut errs = ErrorList::new();
        errs.push(FieldError::required("spec.containers", ""));
        let e = ApiError::invalid("", "Pod", "p", &errs);
        assert_eq!(e.message, "Pod \"p\" is invalid: spec.containers: Required value");
        let s = e.to_status();
        assert_eq!(s["code"], 422);
        assert_eq!(s["details"]["causes"][0]["reason"], "FieldValueRequired");
        assert_eq!(s["details"]["causes"][0]["field"], "spec.containers");
        errs.push(FieldError::invalid("metadata.name", "A", "bad"));
        let e = ApiError::invalid("apps", "Deployment", "d", &errs);
        assert_eq!(
            e.message,
            "Deployment.apps \"d\" is invalid: [spec.containers: Required value, metadata.name: Invalid value: \"A\": bad]"
        );
    }

    #[test]
    fn conflict_text() {
        let e = ApiError::modified("", "configmaps", "c");
        assert_eq!(
            e.message,
            "Operation cannot be fulfilled on configmaps \"c\": the object has been modified; please apply your changes to the latest version and try again"
        );
    }
}
