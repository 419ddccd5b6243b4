//! ServiceAccount tokens: issuing bound tokens (the TokenRequest API,
//! `POST .../serviceaccounts/<name>/token`), legacy Secret-based tokens, and validating both —
//! signature, issuer, audience, time window, and that the objects a token is bound to still
//! exist with the same uid.

use std::sync::Arc;

use apimachinery::{ApiError, ApiResult, ErrorList, FieldError};
use serde_json::{Value, json};

use super::UserInfo;
use crate::Api;

/// Settings and key of ServiceAccount tokens.
pub struct TokenIssuer {
    /// The signing key.
    pub key: Arc<pki::jwt::SigningKey>,
    /// `iss` of bound tokens (`--service-account-issuer`).
    pub issuer: String,
    /// Audiences the API accepts (`--api-audiences`, default: the issuer).
    pub api_audiences: Vec<String>,
    /// Longest expiration a TokenRequest may ask for.
    pub max_expiration_seconds: i64,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer").field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

/// Issuer of legacy Secret-based tokens (upstream's constant).
pub const LEGACY_ISSUER: &str = pki::jwt::LEGACY_ISSUER;
/// Shortest expiration of a TokenRequest.
pub const MIN_EXPIRATION_SECONDS: i64 = 600;

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// The uid of an object in the watch cache, if it exists.
pub fn cached_uid(api: &Api, group: &str, version: &str, plural: &str, ns: &str, name: &str) -> Option<(String, Value)> {
    let res = api.resource(group, version, plural)?;
    let cache = api.caches.cache(&res)?;
    let obj = cache.get(&res.key(ns, name)).0?;
    let v: Value = serde_json::from_slice(&obj.json).ok()?;
    let uid = v.pointer("/metadata/uid")?.as_str()?.to_string();
    Some((uid, v))
}

/// [`cached_uid`], looking again once the cache has caught up with storage when the object is
/// not there (it may have been created an instant ago, by the same client).
pub async fn fresh_uid(api: &Api, group: &str, plural: &str, ns: &str, name: &str) -> Option<(String, Value)> {
    if let Some(found) = cached_uid(api, group, "v1", plural, ns, name) {
        return Some(found);
    }
    api.caches.wait_fresh().await.ok()?;
    cached_uid(api, group, "v1", plural, ns, name)
}

/// What a TokenRequest binds a token to.
#[derive(Clone, Debug, Default)]
pub struct Binding {
    /// `Pod`, `Secret` or `Node`.
    pub kind: String,
    /// Object name.
    pub name: String,
    /// Object uid.
    pub uid: String,
}

impl TokenIssuer {
    /// Signs a bound token for a service account.
    #[allow(clippy::too_many_arguments)]
    pub fn issue(
        &self,
        ns: &str,
        sa_name: &str,
        sa_uid: &str,
        audiences: &[String],
        expiration_seconds: i64,
        bound: Option<&Binding>,
        node: Option<&Binding>,
    ) -> ApiResult<(String, i64)> {
        let iat = now();
        let exp = iat + expiration_seconds;
        let mut k8s = json!({"namespace": ns, "serviceaccount": {"name": sa_name, "uid": sa_uid}});
        if let Some(b) = bound {
            k8s[b.kind.to_lowercase()] = json!({"name": b.name, "uid": b.uid});
        }
        if let Some(n) = node {
            k8s["node"] = json!({"name": n.name, "uid": n.uid});
        }
        let claims = json!({
            "aud": audiences,
            "exp": exp,
            "iat": iat,
            "iss": self.issuer,
            "jti": uuid::Uuid::new_v4().to_string(),
            "kubernetes.io": k8s,
            "nbf": iat,
            "sub": format!("system:serviceaccount:{ns}:{sa_name}"),
        });
        let token = self.key.sign(&claims).map_err(ApiError::internal)?;
        Ok((token, exp))
    }

    /// Validates a token; `audiences` are the audiences the caller accepts (the API's own for
    /// authentication, a TokenReview's for reviews). Returns the user and the audiences of the
    /// token that matched.
    pub fn validate(&self, api: &Api, token: &str, audiences: &[String]) -> Result<(UserInfo, Vec<String>), String> {
        let claims = self.key.verify(token).map_err(|e| e.to_string())?;
        let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
        if iss == LEGACY_ISSUER {
            return self.validate_legacy(api, token, &claims).map(|u| (u, audiences.to_vec()));
        }
        if iss != self.issuer {
            return Err("token issuer is not trusted".into());
        }
        let token_aud: Vec<String> = match claims.get("aud") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
            _ => vec![],
        };
        let matched: Vec<String> = token_aud.iter().filter(|a| audiences.contains(a)).cloned().collect();
        if matched.is_empty() {
            return Err("token audiences are invalid".into());
        }
        let t = now();
        const LEEWAY: i64 = 60;
        let exp = claims.get("exp").and_then(Value::as_i64).ok_or("token has no expiration")?;
        if t > exp + LEEWAY {
            return Err("service account token has expired".into());
        }
        if let Some(nbf) = claims.get("nbf").and_then(Value::as_i64)
            && t + LEEWAY < nbf
        {
            return Err("service account token is not valid yet".into());
        }
        let k = claims.get("kubernetes.io").ok_or("token has no kubernetes.io claim")?;
        let s = |p: &str| k.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
        let (ns, sa, sa_uid) = (s("/namespace"), s("/serviceaccount/name"), s("/serviceaccount/uid"));
        if ns.is_empty() || sa.is_empty() {
            return Err("token has no service account".into());
        }
        match cached_uid(api, "", "v1", "serviceaccounts", &ns, &sa) {
            Some((uid, _)) if uid == sa_uid => {}
            Some(_) => return Err(format!("service account UID ({sa_uid}) does not match claim")),
            None => return Err(format!("service account {ns}/{sa} has been deleted")),
        }
        let mut user = sa_user(&ns, &sa, &sa_uid);
        if let Some(jti) = claims.get("jti").and_then(Value::as_str) {
            user.extra.insert("authentication.kubernetes.io/credential-id".into(), vec![format!("JTI={jti}")]);
        }
        for (kind, plural) in [("pod", "pods"), ("secret", "secrets")] {
            let name = s(&format!("/{kind}/name"));
            if name.is_empty() {
                continue;
            }
            let want = s(&format!("/{kind}/uid"));
            match cached_uid(api, "", "v1", plural, &ns, &name) {
                Some((uid, obj)) if uid == want => {
                    if kind == "pod" {
                        if obj.pointer("/metadata/deletionTimestamp").is_some() {
                            return Err(format!("pod {ns}/{name} is being deleted"));
                        }
                        user.extra.insert("authentication.kubernetes.io/pod-name".into(), vec![name.clone()]);
                        user.extra.insert("authentication.kubernetes.io/pod-uid".into(), vec![uid]);
                    }
                }
                Some(_) => return Err(format!("{kind} {ns}/{name} UID ({want}) does not match the bound object")),
                None => return Err(format!("{kind} {ns}/{name} has been deleted")),
            }
        }
        let node = s("/node/name");
        if !node.is_empty() {
            let want = s("/node/uid");
            match cached_uid(api, "", "v1", "nodes", "", &node) {
                Some((uid, _)) if uid == want => {
                    user.extra.insert("authentication.kubernetes.io/node-name".into(), vec![node.clone()]);
                    user.extra.insert("authentication.kubernetes.io/node-uid".into(), vec![uid]);
                }
                Some(_) => return Err(format!("node {node} UID does not match the bound object")),
                None => return Err(format!("node {node} has been deleted")),
            }
        }
        Ok((user, matched))
    }

    fn validate_legacy(&self, api: &Api, token: &str, claims: &Value) -> Result<UserInfo, String> {
        let s = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let (ns, secret, sa, sa_uid) = (
            s("kubernetes.io/serviceaccount/namespace"),
            s("kubernetes.io/serviceaccount/secret.name"),
            s("kubernetes.io/serviceaccount/service-account.name"),
            s("kubernetes.io/serviceaccount/service-account.uid"),
        );
        let Some((_, obj)) = cached_uid(api, "", "v1", "secrets", &ns, &secret) else {
            return Err(format!("secret {ns}/{secret} has been deleted"));
        };
        let stored = obj.pointer("/data/token").and_then(Value::as_str).unwrap_or("");
        use base64::Engine;
        let stored = base64::engine::general_purpose::STANDARD.decode(stored).unwrap_or_default();
        if stored != token.as_bytes() {
            return Err("token does not match the secret's".into());
        }
        match cached_uid(api, "", "v1", "serviceaccounts", &ns, &sa) {
            Some((uid, _)) if uid == sa_uid => {}
            _ => return Err(format!("service account {ns}/{sa} has been deleted or recreated")),
        }
        let mut user = sa_user(&ns, &sa, &sa_uid);
        user.extra.insert("authentication.kubernetes.io/credential-id".into(), vec![format!("JTI=legacy-secret/{secret}")]);
        Ok(user)
    }
}

/// The user of a service account.
pub fn sa_user(ns: &str, name: &str, uid: &str) -> UserInfo {
    let mut u = UserInfo::new(
        format!("system:serviceaccount:{ns}:{name}"),
        vec!["system:serviceaccounts".into(), format!("system:serviceaccounts:{ns}")],
    );
    u.uid = uid.to_string();
    u
}

/// `POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token`.
pub async fn token_request(api: &Api, ns: &str, name: &str, content_type: Option<&str>, body: &[u8], dry_run: bool) -> ApiResult<Value> {
    let issuer = api.tokens.as_ref().ok_or_else(|| ApiError::new(404, apimachinery::status::Reason::NotFound, "token issuing is not configured"))?;
    let req: Value = crate::codec::decode_body_as(content_type, body, Some(("authentication.k8s.io/v1", "TokenRequest")))?;
    if let Some(kind) = req.get("kind").and_then(Value::as_str)
        && kind != "TokenRequest"
    {
        return Err(ApiError::bad_request(format!("expected a TokenRequest, got {kind}")));
    }
    let spec = req.get("spec").cloned().unwrap_or(json!({}));
    let mut audiences: Vec<String> = spec
        .get("audiences")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    if audiences.is_empty() {
        audiences = issuer.api_audiences.clone();
    }
    let exp = spec.get("expirationSeconds").and_then(Value::as_i64).unwrap_or(3600);
    let mut errs = ErrorList::new();
    if exp < MIN_EXPIRATION_SECONDS {
        errs.push(FieldError::invalid("spec.expirationSeconds", exp, "may not specify a duration less than 10 minutes"));
    }
    if exp > 1 << 32 {
        errs.push(FieldError::invalid("spec.expirationSeconds", exp, "may not specify a duration larger than 2^32 seconds"));
    }
    if !errs.is_empty() {
        return Err(ApiError::invalid("authentication.k8s.io", "TokenRequest", name, &errs));
    }
    let exp = exp.min(issuer.max_expiration_seconds);
    let Some((sa_uid, _)) = fresh_uid(api, "", "serviceaccounts", ns, name).await else {
        return Err(ApiError::not_found("", "serviceaccounts", name));
    };
    let mut bound = None;
    let mut node = None;
    if let Some(r) = spec.get("boundObjectRef").filter(|v| !v.is_null()) {
        let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let (kind, obj_name, uid) = (s("kind"), s("name"), s("uid"));
        let (plural, obj_ns) = match kind.as_str() {
            "Pod" => ("pods", ns),
            "Secret" => ("secrets", ns),
            "Node" => ("nodes", ""),
            other => {
                let mut errs = ErrorList::new();
                errs.push(FieldError::not_supported("spec.boundObjectRef.kind", other, &["Pod", "Node", "Secret"]));
                return Err(ApiError::invalid("authentication.k8s.io", "TokenRequest", name, &errs));
            }
        };
        let Some((actual, obj)) = fresh_uid(api, "", plural, obj_ns, &obj_name).await else {
            return Err(ApiError::not_found("", plural, &obj_name));
        };
        if !uid.is_empty() && uid != actual {
            return Err(ApiError::conflict(
                "",
                plural,
                &obj_name,
                &format!("the UID in the bound object reference ({uid}) does not match the UID in record. The object might have been deleted and then recreated"),
            ));
        }
        if kind == "Pod" {
            if let Some(sa) = obj.pointer("/spec/serviceAccountName").and_then(Value::as_str)
                && sa != name
            {
                return Err(ApiError::bad_request(format!("cannot bind token for serviceaccount {name:?} to pod running with different serviceaccount name.")));
            }
            if let Some(n) = obj.pointer("/spec/nodeName").and_then(Value::as_str)
                && let Some((nuid, _)) = cached_uid(api, "", "v1", "nodes", "", n)
            {
                node = Some(Binding { kind: "Node".into(), name: n.into(), uid: nuid });
            }
        }
        bound = Some(Binding { kind, name: obj_name, uid: actual });
    }
    let (token, exp_at) = if dry_run {
        (String::new(), jiff::Timestamp::now().as_second() + exp)
    } else {
        issuer.issue(ns, name, &sa_uid, &audiences, exp, bound.as_ref(), if bound.as_ref().is_some_and(|b| b.kind == "Node") { None } else { node.as_ref() })?
    };
    let exp_ts = jiff::Timestamp::from_second(exp_at).map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default();
    let mut out_spec = spec.clone();
    out_spec["audiences"] = json!(audiences);
    out_spec["expirationSeconds"] = json!(exp);
    if out_spec.get("boundObjectRef").is_none() {
        out_spec["boundObjectRef"] = Value::Null;
    }
    Ok(json!({
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": null},
        "spec": out_spec,
        "status": {"token": token, "expirationTimestamp": exp_ts},
    }))
}
