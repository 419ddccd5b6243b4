//! Authentication of a request: the TLS client certificate (CN = user, O = groups), else a
//! bearer token — a ServiceAccount JWT or a bootstrap token. A request with no credentials is
//! anonymous, which ferrokube lets reach only the health and version probes.

use http::HeaderMap;
use serde_json::Value;

use super::UserInfo;
use crate::Api;

/// The outcome of authenticating a request.
#[derive(Debug)]
pub enum Authn {
    /// Authenticated.
    User(UserInfo),
    /// No credentials at all.
    Anonymous,
    /// Credentials that were refused (logged, never shown to the client).
    Refused(String),
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty()).then_some(token)
}

/// Authenticates a request from its verified client certificate and headers.
pub fn authenticate(api: &Api, cert_user: Option<&UserInfo>, headers: &HeaderMap) -> Authn {
    if let Some(u) = cert_user {
        return Authn::User(u.clone());
    }
    let Some(token) = bearer(headers) else { return Authn::Anonymous };
    if let Some(u) = bootstrap_token(api, token) {
        return u;
    }
    match &api.tokens {
        Some(issuer) if pki::jwt::looks_like_jwt(token) => match issuer.validate(api, token, &issuer.api_audiences) {
            Ok((u, _)) => Authn::User(u),
            Err(e) => Authn::Refused(e),
        },
        _ => Authn::Refused("invalid bearer token".into()),
    }
}

/// A bootstrap token `<id>.<secret>` (`[a-z0-9]{6}.[a-z0-9]{16}`) backed by the Secret
/// `kube-system/bootstrap-token-<id>` of type `bootstrap.kubernetes.io/token`.
fn bootstrap_token(api: &Api, token: &str) -> Option<Authn> {
    let (id, secret) = token.split_once('.')?;
    let ok = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !ok(id, 6) || !ok(secret, 16) {
        return None;
    }
    let refused = |m: &str| Some(Authn::Refused(format!("bootstrap token {id}: {m}")));
    let Some((_, obj)) = super::tokens::cached_uid(api, "", "v1", "secrets", "kube-system", &format!("bootstrap-token-{id}")) else {
        return refused("no such token");
    };
    if obj.get("type").and_then(Value::as_str) != Some("bootstrap.kubernetes.io/token") {
        return refused("secret has the wrong type");
    }
    if obj.pointer("/metadata/deletionTimestamp").is_some() {
        return refused("token is being deleted");
    }
    let data = |k: &str| -> String {
        use base64::Engine;
        obj.pointer(&format!("/data/{k}"))
            .and_then(Value::as_str)
            .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default()
    };
    if data("token-id") != id || !constant_time_eq(data("token-secret").as_bytes(), secret.as_bytes()) {
        return refused("token does not match");
    }
    if data("usage-bootstrap-authentication") != "true" {
        return refused("token may not be used for authentication");
    }
    let exp = data("expiration");
    if !exp.is_empty() {
        match exp.parse::<jiff::Timestamp>() {
            Ok(t) if t > jiff::Timestamp::now() => {}
            _ => return refused("token has expired"),
        }
    }
    let mut groups = vec!["system:bootstrappers".to_string()];
    for g in data("auth-extra-groups").split(',').map(str::trim).filter(|g| !g.is_empty()) {
        if g.starts_with("system:bootstrappers:") && !groups.iter().any(|x| x == g) {
            groups.push(g.to_string());
        }
    }
    Some(Authn::User(UserInfo::new(format!("system:bootstrap:{id}"), groups)))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(http::header::AUTHORIZATION, "Bearer abc.def".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc.def"));
        h.insert(http::header::AUTHORIZATION, "bearer   xyz ".parse().unwrap());
        assert_eq!(bearer(&h), Some("xyz"));
        h.insert(http::header::AUTHORIZATION, "Basic Zm9vOmJhcg==".parse().unwrap());
        assert_eq!(bearer(&h), None);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
