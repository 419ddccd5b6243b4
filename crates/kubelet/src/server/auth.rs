//! Who is asking and may they: the kubelet API's authentication (a client certificate signed by
//! the cluster CA, or a bearer token checked with a TokenReview) and authorization (a
//! SubjectAccessReview on `nodes/<subresource>` of this node), as upstream's kubelet with
//! webhook authentication and authorization and anonymous access off.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use k8s_openapi::api::authentication::v1 as authn;
use k8s_openapi::api::authorization::v1 as authz;
use kube::api::PostParams;
use parking_lot::Mutex;

/// An authenticated user.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct User {
    /// User name.
    pub name: String,
    /// Groups, `system:authenticated` included.
    pub groups: Vec<String>,
    /// UID (tokens only).
    pub uid: Option<String>,
    /// Extra attributes (tokens only).
    pub extra: BTreeMap<String, Vec<String>>,
}

impl User {
    /// The user named by a client certificate: CN is the user, O are the groups.
    pub fn from_certificate(common_name: String, organizations: Vec<String>) -> User {
        let mut groups = organizations;
        if !groups.iter().any(|g| g == "system:authenticated") {
            groups.push("system:authenticated".into());
        }
        User { name: common_name, groups, ..Default::default() }
    }
}

/// What a request asks of the node, for the SubjectAccessReview.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Attributes {
    /// `get`, `create`, `update`, `patch`, `delete` (from the HTTP method).
    pub verb: String,
    /// `proxy`, `log`, `stats` or `metrics` (from the path).
    pub subresource: &'static str,
}

/// The attributes of a request, as upstream's kubelet derives them (without the alpha
/// fine-grained authorization): the verb from the method, the subresource from the path.
pub fn attributes(method: &http::Method, path: &str) -> Attributes {
    let verb = match *method {
        http::Method::POST => "create",
        http::Method::GET | http::Method::HEAD => "get",
        http::Method::PUT => "update",
        http::Method::PATCH => "patch",
        http::Method::DELETE => "delete",
        _ => "",
    };
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    let subresource = if under("/stats") {
        "stats"
    } else if under("/metrics") {
        "metrics"
    } else if path.starts_with("/logs/") {
        "log"
    } else {
        "proxy"
    };
    Attributes { verb: verb.into(), subresource }
}

/// Upstream's 403 text.
pub fn forbidden_text(user: &User, a: &Attributes) -> String {
    format!("Forbidden (user={}, verb={}, resource=nodes, subresource={})", user.name, a.verb, a.subresource)
}

/// Upstream's text when the authorizer could not be asked.
pub fn authz_error_text(user: &User, a: &Attributes) -> String {
    format!("Authorization error (user={}, verb={}, resource=nodes, subresource={})", user.name, a.verb, a.subresource)
}

/// How long answers are reused (upstream's kubelet defaults: tokens 2 min; authorization 5 min
/// when allowed, 30 s when denied).
const TOKEN_TTL: Duration = Duration::from_secs(120);
const ALLOWED_TTL: Duration = Duration::from_secs(300);
const DENIED_TTL: Duration = Duration::from_secs(30);
const CACHE_MAX: usize = 1024;

/// The answers of the apiserver, reused for a while as upstream's kubelet does.
#[derive(Default)]
pub struct Reviews {
    tokens: Mutex<HashMap<String, (Instant, Option<User>)>>,
    decisions: Mutex<HashMap<(User, Attributes), (Instant, bool)>>,
}

impl std::fmt::Debug for Reviews {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reviews").finish_non_exhaustive()
    }
}

fn remember<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, (Instant, V)>, key: K, value: V, ttl: Duration) {
    let now = Instant::now();
    if map.len() >= CACHE_MAX {
        map.retain(|_, (until, _)| *until > now);
        if map.len() >= CACHE_MAX {
            map.clear();
        }
    }
    map.insert(key, (now + ttl, value));
}

impl Reviews {
    /// The user a bearer token belongs to (`None`: not a valid token), by a TokenReview.
    pub async fn token(&self, client: &kube::Client, token: &str) -> Result<Option<User>, kube::Error> {
        if let Some((until, user)) = self.tokens.lock().get(token)
            && *until > Instant::now()
        {
            return Ok(user.clone());
        }
        let review = authn::TokenReview {
            spec: authn::TokenReviewSpec { token: Some(token.to_string()), audiences: None },
            ..Default::default()
        };
        let out = kube::Api::<authn::TokenReview>::all(client.clone()).create(&PostParams::default(), &review).await?;
        let status = out.status.unwrap_or_default();
        let user = match (status.authenticated, status.user) {
            (Some(true), Some(u)) => Some(User {
                name: u.username.unwrap_or_default(),
                groups: u.groups.unwrap_or_default(),
                uid: u.uid,
                extra: u.extra.unwrap_or_default(),
            }),
            _ => None,
        };
        remember(&mut self.tokens.lock(), token.to_string(), user.clone(), TOKEN_TTL);
        Ok(user)
    }

    /// Whether `user` may do `a` on node `node`, by a SubjectAccessReview.
    pub async fn allowed(&self, client: &kube::Client, node: &str, user: &User, a: &Attributes) -> Result<bool, kube::Error> {
        let key = (user.clone(), a.clone());
        if let Some((until, allowed)) = self.decisions.lock().get(&key)
            && *until > Instant::now()
        {
            return Ok(*allowed);
        }
        let review = authz::SubjectAccessReview {
            spec: authz::SubjectAccessReviewSpec {
                user: Some(user.name.clone()),
                groups: Some(user.groups.clone()),
                uid: user.uid.clone(),
                extra: (!user.extra.is_empty()).then(|| user.extra.clone()),
                resource_attributes: Some(authz::ResourceAttributes {
                    verb: Some(a.verb.clone()),
                    group: Some(String::new()),
                    version: Some("v1".into()),
                    resource: Some("nodes".into()),
                    subresource: Some(a.subresource.into()),
                    name: Some(node.to_string()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let out = kube::Api::<authz::SubjectAccessReview>::all(client.clone()).create(&PostParams::default(), &review).await?;
        let allowed = out.status.is_some_and(|s| s.allowed && !s.denied.unwrap_or(false));
        remember(&mut self.decisions.lock(), key, allowed, if allowed { ALLOWED_TTL } else { DENIED_TTL });
        Ok(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_follow_upstream() {
        let a = |m: http::Method, p: &str| {
            let a = attributes(&m, p);
            (a.verb, a.subresource)
        };
        assert_eq!(a(http::Method::GET, "/containerLogs/ns/p/c"), ("get".into(), "proxy"));
        assert_eq!(a(http::Method::POST, "/exec/ns/p/c"), ("create".into(), "proxy"));
        assert_eq!(a(http::Method::GET, "/exec/ns/p/c"), ("get".into(), "proxy"));
        assert_eq!(a(http::Method::GET, "/stats/summary"), ("get".into(), "stats"));
        assert_eq!(a(http::Method::GET, "/stats"), ("get".into(), "stats"));
        assert_eq!(a(http::Method::GET, "/statsfoo"), ("get".into(), "proxy"));
        assert_eq!(a(http::Method::GET, "/metrics/cadvisor"), ("get".into(), "metrics"));
        assert_eq!(a(http::Method::GET, "/logs/syslog"), ("get".into(), "log"));
        assert_eq!(a(http::Method::DELETE, "/pods"), ("delete".into(), "proxy"));
        let u = User::from_certificate("kube-apiserver-kubelet-client".into(), vec!["g".into()]);
        assert_eq!(u.groups, vec!["g".to_string(), "system:authenticated".to_string()]);
        assert_eq!(
            forbidden_text(&u, &attributes(&http::Method::POST, "/exec/a/b/c")),
            "Forbidden (user=kube-apiserver-kubelet-client, verb=create, resource=nodes, subresource=proxy)"
        );
    }

    #[test]
    fn caches_are_bounded() {
        let mut m = HashMap::new();
        for i in 0..(CACHE_MAX + 10) {
            remember(&mut m, i, (), Duration::from_secs(60));
        }
        assert!(m.len() <= CACHE_MAX);
    }
}
