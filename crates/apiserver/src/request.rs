//! Request attributes: which verb, group, version, namespace, resource, name and subresource an
//! HTTP request addresses (upstream's `RequestInfo`), and the query parameters of API calls.

use std::collections::HashMap;

/// What a resource request addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`.
    pub verb: String,
    /// API group ("" for core).
    pub group: String,
    /// API version.
    pub version: String,
    /// Namespace ("" when none).
    pub namespace: String,
    /// Resource plural.
    pub resource: String,
    /// Object name ("" when none).
    pub name: String,
    /// Subresource ("" when none).
    pub subresource: String,
}

/// Subresources of namespaces that follow the namespace name directly.
const NAMESPACE_SUBRESOURCES: &[&str] = &["status", "finalize"];

/// Parses the path of a resource request (`/api/v1/...` or `/apis/<group>/<version>/...`).
/// Returns `None` for paths that are not resource requests (discovery, health, ...).
pub fn parse(method: &http::Method, path: &str, query: &Query) -> Option<RequestInfo> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').filter(|p| !p.is_empty()).collect();
    let (group, version, mut rest) = match parts.as_slice() {
        ["api", version, rest @ ..] => (String::new(), version.to_string(), rest),
        ["apis", group, version, rest @ ..] => (group.to_string(), version.to_string(), rest),
        _ => return None,
    };
    if rest.is_empty() {
        return None;
    }
    let mut info = RequestInfo { group, version, ..Default::default() };
    let mut legacy_watch = false;
    if rest[0] == "watch" {
        legacy_watch = true;
        rest = &rest[1..];
    }
    if rest.is_empty() {
        return None;
    }
    if rest[0] == "namespaces"
        && rest.len() > 1 {
            info.namespace = rest[1].to_string();
            if rest.len() > 2 && !NAMESPACE_SUBRESOURCES.contains(&rest[2]) {
                rest = &rest[2..];
            }
        }
    info.resource = rest[0].to_string();
    if rest.len() > 1 {
        info.name = rest[1].to_string();
    }
    if rest.len() > 2 {
        info.subresource = rest[2].to_string();
    }
    // only a proxy subresource continues with a path of its own
    if rest.len() > 3 && info.subresource != "proxy" {
        return None;
    }
    // "namespaces/<name>" addresses the namespace object itself
    if info.resource == "namespaces" && !info.namespace.is_empty() && info.name.is_empty() && rest.len() >= 2 {
        info.name = info.namespace.clone();
    }
    let has_name = !info.name.is_empty();
    info.verb = match *method {
        http::Method::GET | http::Method::HEAD => {
            if legacy_watch || query.flag("watch") {
                "watch"
            } else if has_name {
                "get"
            } else {
                "list"
            }
        }
        http::Method::POST => "create",
        http::Method::PUT => "update",
        http::Method::PATCH => "patch",
        http::Method::DELETE => {
            if has_name {
                "delete"
            } else {
                "deletecollection"
            }
        }
        _ => "",
    }
    .to_string();
    Some(info)
}

/// Decoded query parameters.
#[derive(Clone, Debug, Default)]
pub struct Query(HashMap<String, String>);

impl Query {
    /// Parses a raw query string (`a=b&c=d`), percent-decoding keys and values.
    pub fn parse(raw: Option<&str>) -> Query {
        let mut map = HashMap::new();
        if let Some(raw) = raw {
            for pair in raw.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                map.insert(apimachinery::query::decode_form(k), apimachinery::query::decode_form(v));
            }
        }
        Query(map)
    }
    /// A parameter's value.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }
    /// A parameter's value, empty when absent.
    pub fn str(&self, k: &str) -> &str {
        self.get(k).unwrap_or("")
    }
    /// A boolean flag (`true`, `1`).
    pub fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true" | "1" | "True" | "TRUE"))
    }
    /// An integer parameter; `Err` with the text when it does not parse.
    pub fn int(&self, k: &str) -> Result<Option<i64>, String> {
        match self.get(k) {
            None | Some("") => Ok(None),
            Some(v) => v.parse::<i64>().map(Some).map_err(|_| v.to_string()),
        }
    }
}

/// Every parameter of a raw query string in order, repeated keys kept (`command=a&command=b`).
pub use apimachinery::query::pairs;

#[cfg(test)]
mod tests {
    use super::*;

    fn p(m: http::Method, path: &str, q: &str) -> RequestInfo {
        parse(&m, path, &Query::parse(Some(q))).unwrap()
    }

    #[test]
    fn resource_paths() {
        let r = p(http::Method::GET, "/api/v1/namespaces/default/pods/web", "");
        assert_eq!((r.verb.as_str(), r.namespace.as_str(), r.resource.as_str(), r.name.as_str()), ("get", "default", "pods", "web"));
        let r = p(http::Method::GET, "/apis/apps/v1/deployments", "");
        assert_eq!((r.verb.as_str(), r.group.as_str(), r.resource.as_str()), ("list", "apps", "deployments"));
        let r = p(http::Method::GET, "/api/v1/namespaces/default/pods", "watch=true");
        assert_eq!(r.verb, "watch");
        let r = p(http::Method::GET, "/api/v1/watch/namespaces/default/pods", "");
        assert_eq!((r.verb.as_str(), r.namespace.as_str()), ("watch", "default"));
        let r = p(http::Method::PUT, "/api/v1/namespaces/default/pods/web/status", "");
        assert_eq!((r.verb.as_str(), r.subresource.as_str()), ("update", "status"));
        let r = p(http::Method::DELETE, "/api/v1/namespaces/default/configmaps", "");
        assert_eq!(r.verb, "deletecollection");
    }

    #[test]
    fn namespace_paths() {
        let r = p(http::Method::GET, "/api/v1/namespaces/kube-system", "");
        assert_eq!((r.verb.as_str(), r.resource.as_str(), r.name.as_str()), ("get", "namespaces", "kube-system"));
        let r = p(http::Method::PUT, "/api/v1/namespaces/x/finalize", "");
        assert_eq!((r.resource.as_str(), r.name.as_str(), r.subresource.as_str()), ("namespaces", "x", "finalize"));
        let r = p(http::Method::GET, "/api/v1/namespaces", "");
        assert_eq!((r.verb.as_str(), r.resource.as_str()), ("list", "namespaces"));
        assert!(parse(&http::Method::GET, "/api/v1", &Query::default()).is_none());
        assert!(parse(&http::Method::GET, "/healthz", &Query::default()).is_none());
    }

    #[test]
    fn proxy_paths_and_repeated_parameters() {
        let r = p(http::Method::GET, "/api/v1/nodes/n1/proxy/stats/summary", "");
        assert_eq!((r.verb.as_str(), r.resource.as_str(), r.name.as_str(), r.subresource.as_str()), ("get", "nodes", "n1", "proxy"));
        let r = p(http::Method::POST, "/api/v1/namespaces/d/pods/web/exec", "command=ls");
        assert_eq!((r.verb.as_str(), r.subresource.as_str()), ("create", "exec"));
        assert!(parse(&http::Method::GET, "/api/v1/namespaces/d/pods/web/log/extra", &Query::default()).is_none());
        assert_eq!(
            pairs(Some("command=sh&command=-c&command=echo+a%26b&stdin=true")),
            vec![("command".into(), "sh".into()), ("command".into(), "-c".into()), ("command".into(), "echo a&b".into()), ("stdin".into(), "true".into())]
        );
    }

    #[test]
    fn query_decoding() {
        let q = Query::parse(Some("labelSelector=app%20in%20(a%2Cb)&limit=2&watch=1&x=a+b"));
        assert_eq!(q.str("labelSelector"), "app in (a,b)");
        assert_eq!(q.int("limit").unwrap(), Some(2));
        assert!(q.flag("watch"));
        assert_eq!(q.str("x"), "a b");
        assert!(Query::parse(Some("limit=x")).int("limit").is_err());
        assert_eq!(Query::parse(Some("a=%")).str("a"), "%");
        assert_eq!(Query::parse(Some("a=%4")).str("a"), "%4");
    }
}
