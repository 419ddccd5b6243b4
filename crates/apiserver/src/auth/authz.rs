//! Authorization: upstream's chain — the privileged group `system:masters`, then the Node
//! authorizer, then RBAC. A request nobody allows is denied with upstream's 403 text, which
//! tools (and people) read: `pods is forbidden: User "jane" cannot list resource "pods" in API
//! group "" in the namespace "default"`.

use apimachinery::ApiError;

use super::UserInfo;
use crate::Api;
use crate::request::RequestInfo;

/// What is being asked, as upstream's `authorizer.Attributes`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    /// `get`, `list`, `create`, ... (resource requests) or the lower-case HTTP method
    /// (non-resource requests).
    pub verb: String,
    /// Namespace ("" when cluster-scoped or across namespaces).
    pub namespace: String,
    /// API group.
    pub api_group: String,
    /// API version.
    pub api_version: String,
    /// Resource plural.
    pub resource: String,
    /// Subresource.
    pub subresource: String,
    /// Object name.
    pub name: String,
    /// URL path (non-resource requests).
    pub path: String,
    /// A resource request (else a non-resource URL).
    pub resource_request: bool,
}

impl Attributes {
    /// The attributes of a resource request.
    pub fn resource(info: &RequestInfo) -> Attributes {
        Attributes {
            verb: info.verb.clone(),
            namespace: info.namespace.clone(),
            api_group: info.group.clone(),
            api_version: info.version.clone(),
            resource: info.resource.clone(),
            subresource: info.subresource.clone(),
            name: info.name.clone(),
            path: String::new(),
            resource_request: true,
        }
        .normalized()
    }

    /// The attributes of a non-resource request.
    pub fn non_resource(method: &http::Method, path: &str) -> Attributes {
        let verb = match *method {
            http::Method::GET | http::Method::HEAD => "get",
            http::Method::POST => "post",
            http::Method::PUT => "put",
            http::Method::PATCH => "patch",
            http::Method::DELETE => "delete",
            _ => "",
        };
        Attributes { verb: verb.into(), path: path.into(), resource_request: false, ..Default::default() }
    }

    /// The namespace object itself is cluster-scoped: `namespaces/<name>` has no namespace.
    fn normalized(mut self) -> Attributes {
        if self.api_group.is_empty() && self.resource == "namespaces" {
            self.namespace.clear();
        }
        self
    }
}

/// The decision of one authorizer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Allowed, with the reason.
    Allow(String),
    /// Denied outright (no later authorizer may allow), with the reason.
    Deny(String),
    /// This authorizer has no opinion, with a reason to show if nobody allows.
    NoOpinion(String),
}

/// Runs the authorizer chain.
pub fn authorize(api: &Api, user: &UserInfo, a: &Attributes) -> Decision {
    if user.in_group(super::SYSTEM_MASTERS) {
        return Decision::Allow(String::new());
    }
    let mut reasons = Vec::new();
    match super::node::authorize(api, user, a) {
        Decision::NoOpinion(r) => {
            if !r.is_empty() {
                reasons.push(r);
            }
        }
        d => return d,
    }
    let ra = rbac::Attributes {
        user: user.name.clone(),
        groups: user.groups.clone(),
        verb: a.verb.clone(),
        namespace: a.namespace.clone(),
        api_group: a.api_group.clone(),
        resource: a.resource.clone(),
        subresource: a.subresource.clone(),
        name: a.name.clone(),
        path: a.path.clone(),
        resource_request: a.resource_request,
    };
    match rbac::authorize(&*api.rbac_snapshot(), &ra) {
        rbac::Decision::Allow(r) => Decision::Allow(r),
        rbac::Decision::NoOpinion(r) => {
            if !r.is_empty() {
                reasons.push(r);
            }
            Decision::NoOpinion(reasons.join(", "))
        }
    }
}

/// Whether the chain allows.
pub fn allowed(api: &Api, user: &UserInfo, a: &Attributes) -> bool {
    matches!(authorize(api, user, a), Decision::Allow(_))
}

/// Upstream's forbidden error for a denied request.
pub fn forbidden(user: &UserInfo, a: &Attributes, reason: &str) -> ApiError {
    let detail = if a.resource_request {
        let mut resource = a.resource.clone();
        if !a.subresource.is_empty() {
            resource = format!("{resource}/{}", a.subresource);
        }
        let scope = if a.namespace.is_empty() {
            "at the cluster scope".to_string()
        } else {
            format!("in the namespace \"{}\"", a.namespace)
        };
        format!("User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\" {scope}", user.name, a.verb, a.api_group)
    } else {
        format!("User \"{}\" cannot {} path \"{}\"", user.name, a.verb, a.path)
    };
    let detail = if reason.is_empty() { detail } else { format!("{detail}: {reason}") };
    if a.resource_request {
        ApiError::forbidden(&a.api_group, &a.resource, &a.name, &detail)
    } else {
        let mut e = ApiError::new(403, apimachinery::status::Reason::Forbidden, format!("forbidden: {detail}"));
        e.details = None;
        e
    }
}

/// Checks a request, returning upstream's 403 when nobody allows it.
pub fn check(api: &Api, user: &UserInfo, a: &Attributes) -> Result<(), ApiError> {
    match authorize(api, user, a) {
        Decision::Allow(_) => Ok(()),
        Decision::Deny(r) | Decision::NoOpinion(r) => Err(forbidden(user, a, &r)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_texts_match_upstream() {
        let u = UserInfo::new("jane", vec![]);
        let a = Attributes { verb: "list".into(), namespace: "default".into(), resource: "pods".into(), resource_request: true, ..Default::default() };
        assert_eq!(
            forbidden(&u, &a, "").message,
            "pods is forbidden: User \"jane\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
        );
        let a = Attributes { verb: "get".into(), api_group: "apps".into(), resource: "deployments".into(), subresource: "scale".into(), name: "web".into(), namespace: "x".into(), resource_request: true, ..Default::default() };
        assert_eq!(
            forbidden(&u, &a, "").message,
            "deployments.apps \"web\" is forbidden: User \"jane\" cannot get resource \"deployments/scale\" in API group \"apps\" in the namespace \"x\""
        );
        let a = Attributes { verb: "list".into(), resource: "nodes".into(), resource_request: true, ..Default::default() };
        assert!(forbidden(&u, &a, "").message.ends_with("at the cluster scope"));
        let a = Attributes::non_resource(&http::Method::GET, "/metrics");
        assert_eq!(forbidden(&u, &a, "").message, "forbidden: User \"jane\" cannot get path \"/metrics\"");
    }
}
