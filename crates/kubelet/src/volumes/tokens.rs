//! Service account tokens for projected volumes (upstream's kubelet token manager).
//!
//! Tokens come from the TokenRequest API, bound to the pod, with the projection's audience and
//! expirationSeconds. They are cached per (account, audience, lifetime, pod) and requested
//! again when 80% of their lifetime has passed, or when they are older than 24 hours, minus a
//! jitter of up to 10 seconds so that many pods do not renew at once.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::Api;
use kube::api::PostParams;

/// Tokens older than this are renewed whatever their lifetime.
const MAX_TTL: SignedDuration = SignedDuration::from_hours(24);
/// Upper bound of the renewal jitter.
const MAX_JITTER_SECS: i64 = 10;

/// What a token is asked for; equal keys share a token.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TokenKey {
    /// Namespace of the pod and account.
    pub namespace: String,
    /// The service account.
    pub account: String,
    /// The audience (empty: the apiserver's).
    pub audience: String,
    /// The lifetime asked for.
    pub expiration_seconds: Option<i64>,
    /// The pod the token is bound to.
    pub pod_name: String,
    /// Its UID.
    pub pod_uid: String,
}

/// A token the apiserver issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// The JWT.
    pub token: String,
    /// When it expires.
    pub expiration: Timestamp,
    /// The lifetime the apiserver granted (`spec.expirationSeconds` of the answer).
    pub expiration_seconds: i64,
}

/// Whether `t` should be renewed at `now`, with `jitter_secs` (0..10) taken off the deadlines.
pub fn requires_refresh(t: &Token, now: Timestamp, jitter_secs: i64) -> bool {
    let jitter = SignedDuration::from_secs(jitter_secs.clamp(0, MAX_JITTER_SECS));
    let ttl = SignedDuration::from_secs(t.expiration_seconds);
    let iat = t.expiration - ttl;
    if now > iat + MAX_TTL - jitter {
        return true;
    }
    let margin = SignedDuration::from_secs(t.expiration_seconds * 20 / 100);
    now > t.expiration - margin - jitter
}

/// A pseudo-random jitter (0..10 s) for one decision.
fn jitter(now: Timestamp) -> i64 {
    i64::from(now.subsec_nanosecond().unsigned_abs() % (MAX_JITTER_SECS as u32 + 1))
}

/// The cache of issued tokens.
#[derive(Default)]
pub struct TokenCache {
    tokens: parking_lot::Mutex<HashMap<TokenKey, Token>>,
}

impl TokenCache {
    /// The token for `key`: the cached one while it is fresh, otherwise a new TokenRequest.
    pub async fn get(&self, client: &kube::Client, key: &TokenKey, now: Timestamp) -> Result<Token, String> {
        if let Some(t) = self.tokens.lock().get(key).cloned()
            && !requires_refresh(&t, now, jitter(now))
        {
            return Ok(t);
        }
        match request(client, key).await {
            Ok(t) => {
                self.tokens.lock().insert(key.clone(), t.clone());
                Ok(t)
            }
            Err(e) => {
                // A token that is still valid serves until it expires.
                if let Some(t) = self.tokens.lock().get(key).cloned()
                    && t.expiration > now
                {
                    tracing::warn!(account = %key.account, namespace = %key.namespace, error = %e, "token renewal failed; keeping the current token");
                    return Ok(t);
                }
                Err(e)
            }
        }
    }

    /// Forgets the tokens bound to the pod `uid`.
    pub fn forget_pod(&self, uid: &str) {
        self.tokens.lock().retain(|k, _| k.pod_uid != uid);
    }
}

async fn request(client: &kube::Client, key: &TokenKey) -> Result<Token, String> {
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), &key.namespace);
    let req = TokenRequest {
        spec: TokenRequestSpec {
            audiences: if key.audience.is_empty() { Vec::new() } else { vec![key.audience.clone()] },
            expiration_seconds: key.expiration_seconds,
            bound_object_ref: Some(BoundObjectReference {
                api_version: Some("v1".to_string()),
                kind: Some("Pod".to_string()),
                name: Some(key.pod_name.clone()),
                uid: Some(key.pod_uid.clone()),
            }),
        },
        ..Default::default()
    };
    let tr = api
        .create_token_request(&key.account, &PostParams::default(), &req)
        .await
        .map_err(|e| format!("failed to fetch token: {}", crate::env::api_message(e)))?;
    let status = tr.status.ok_or("failed to fetch token: the TokenRequest answer has no status")?;
    let expiration_seconds = tr.spec.expiration_seconds.ok_or("failed to fetch token: the TokenRequest answer has no expirationSeconds")?;
    Ok(Token { token: status.token, expiration: status.expiration_timestamp.0, expiration_seconds })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(issued: Timestamp, ttl: i64) -> Token {
        Token { token: "t".into(), expiration: issued + SignedDuration::from_secs(ttl), expiration_seconds: ttl }
    }

    #[test]
    fn refresh_at_eighty_percent() {
        let iat: Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
        let t = token(iat, 3600);
        let at = |s: i64| iat + SignedDuration::from_secs(s);
        assert!(!requires_refresh(&t, at(0), 0));
        assert!(!requires_refresh(&t, at(2880), 0), "exactly 80% is not yet past");
        assert!(requires_refresh(&t, at(2881), 0));
        assert!(!requires_refresh(&t, at(2870), 0));
        assert!(requires_refresh(&t, at(2871), 10), "jitter renews up to 10 s earlier");
        assert!(requires_refresh(&t, at(4000), 0), "expired");
    }

    #[test]
    fn refresh_after_a_day_whatever_the_lifetime() {
        let iat: Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
        let year = token(iat, 365 * 24 * 3600);
        assert!(!requires_refresh(&year, iat + SignedDuration::from_hours(23), 0));
        assert!(requires_refresh(&year, iat + SignedDuration::from_hours(24) + SignedDuration::from_secs(1), 0));
    }

    #[test]
    fn jitter_is_bounded() {
        for n in [0, 1, 999_999_999, 123_456_789] {
            let t = Timestamp::new(1_700_000_000, n).unwrap();
            assert!((0..=MAX_JITTER_SECS).contains(&jitter(t)));
        }
    }
}
