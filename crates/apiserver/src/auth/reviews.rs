//! Answers to the review APIs: access reviews (`kubectl auth can-i`), rules reviews
//! (`kubectl auth can-i --list`), token reviews and self-subject reviews (`kubectl auth
//! whoami`). Nothing is stored; the request object comes back with its status filled in.

use apimachinery::{ApiError, ApiResult, ErrorList, FieldError};
use serde_json::{Value, json};

use super::UserInfo;
use super::authz::{self, Attributes, Decision};
use crate::Api;

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

fn attributes(spec: &Value, kind: &str) -> ApiResult<Attributes> {
    let ra = spec.get("resourceAttributes").filter(|v| !v.is_null());
    let na = spec.get("nonResourceAttributes").filter(|v| !v.is_null());
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    match (ra, na) {
        (Some(r), None) => Ok(Attributes {
            verb: s(r, "verb"),
            namespace: s(r, "namespace"),
            api_group: s(r, "group"),
            api_version: s(r, "version"),
            resource: s(r, "resource"),
            subresource: s(r, "subresource"),
            name: s(r, "name"),
            path: String::new(),
            resource_request: true,
        }),
        (None, Some(n)) => Ok(Attributes { verb: s(n, "verb"), path: s(n, "path"), resource_request: false, ..Default::default() }),
        (r, _) => {
            let mut errs = ErrorList::new();
            let path = if r.is_some() { "spec.resourceAttributes" } else { "spec.nonResourceAttributes" };
            errs.push(FieldError::invalid(path, Value::Null, "exactly one of nonResourceAttributes or resourceAttributes must be specified"));
            Err(ApiError::invalid("authorization.k8s.io", kind, "", &errs))
        }
    }
}

fn access_status(api: &Api, user: &UserInfo, a: &Attributes) -> Value {
    match authz::authorize(api, user, a) {
        Decision::Allow(r) => json!({"allowed": true, "reason": r}),
        Decision::Deny(r) => json!({"allowed": false, "denied": true, "reason": r}),
        Decision::NoOpinion(r) => {
            let mut v = json!({"allowed": false});
            if !r.is_empty() {
                v["reason"] = json!(r);
            }
            v
        }
    }
}

fn respond(mut obj: Value, status: Value) -> Value {
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.entry("creationTimestamp").or_insert(Value::Null);
    } else {
        obj["metadata"] = json!({"creationTimestamp": null});
    }
    obj["status"] = status;
    obj
}

/// Answers a review; `ns` is the request's namespace (local access reviews).
pub fn handle(api: &Api, requester: &UserInfo, res: &crate::registry::Resource, ns: &str, content_type: Option<&str>, body: &[u8]) -> ApiResult<Value> {
    let plural = res.info.plural.as_str();
    let mut obj = crate::codec::decode_body_as(content_type, body, Some((&res.info.api_version(), &res.info.kind)))?;
    if !obj.is_object() {
        return Err(ApiError::bad_request("the request body must be an object"));
    }
    let spec = obj.get("spec").cloned().unwrap_or(json!({}));
    match plural {
        "selfsubjectaccessreviews" => {
            let a = attributes(&spec, "SelfSubjectAccessReview")?;
            Ok(respond(obj, access_status(api, requester, &a)))
        }
        "subjectaccessreviews" | "localsubjectaccessreviews" => {
            let kind = if plural == "subjectaccessreviews" { "SubjectAccessReview" } else { "LocalSubjectAccessReview" };
            let a = attributes(&spec, kind)?;
            let user = spec.get("user").and_then(Value::as_str).unwrap_or("").to_string();
            let groups = strs(spec.get("groups"));
            let mut errs = ErrorList::new();
            if user.is_empty() && groups.is_empty() {
                errs.push(FieldError::invalid("spec.user", "", "at least one of user or group must be specified"));
            }
            if plural == "localsubjectaccessreviews" {
                let ans = obj.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or(ns);
                if a.resource_request && a.namespace != ns {
                    errs.push(FieldError::invalid("spec.resourceAttributes.namespace", a.namespace.as_str(), "must match metadata.namespace"));
                }
                if ans != ns {
                    errs.push(FieldError::invalid("metadata.namespace", ans, "must match the namespace of the request"));
                }
                if !a.resource_request {
                    errs.push(FieldError::invalid("spec.nonResourceAttributes", Value::Null, "disallowed on this kind of request"));
                }
            }
            if !errs.is_empty() {
                return Err(ApiError::invalid("authorization.k8s.io", kind, "", &errs));
            }
            let mut u = UserInfo { name: user, groups, uid: spec.get("uid").and_then(Value::as_str).unwrap_or("").into(), ..Default::default() };
            if let Some(extra) = spec.get("extra").and_then(Value::as_object) {
                for (k, v) in extra {
                    u.extra.insert(k.clone(), strs(Some(v)));
                }
            }
            Ok(respond(obj, access_status(api, &u, &a)))
        }
        "selfsubjectrulesreviews" => {
            let namespace = spec.get("namespace").and_then(Value::as_str).unwrap_or("").to_string();
            let (mut resource_rules, mut non_resource_rules) = (Vec::new(), Vec::new());
            if requester.in_group(super::SYSTEM_MASTERS) {
                resource_rules.push(json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}));
                non_resource_rules.push(json!({"verbs": ["*"], "nonResourceURLs": ["*"]}));
            }
            let snap = api.rbac_snapshot();
            let (rr, nr) = rbac::rules_for(&*snap, &requester.name, &requester.groups, &namespace);
            for r in rr {
                let mut v = json!({"verbs": r.verbs, "apiGroups": r.api_groups.unwrap_or_default(), "resources": r.resources.unwrap_or_default()});
                if let Some(n) = r.resource_names.filter(|n| !n.is_empty()) {
                    v["resourceNames"] = json!(n);
                }
                resource_rules.push(v);
            }
            for r in nr {
                non_resource_rules.push(json!({"verbs": r.verbs, "nonResourceURLs": r.non_resource_urls.unwrap_or_default()}));
            }
            Ok(respond(obj, json!({"resourceRules": resource_rules, "nonResourceRules": non_resource_rules, "incomplete": false})))
        }
        "tokenreviews" => {
            let token = spec.get("token").and_then(Value::as_str).unwrap_or("");
            if token.is_empty() {
                let mut errs = ErrorList::new();
                errs.push(FieldError::required("spec.token", ""));
                return Err(ApiError::invalid("authentication.k8s.io", "TokenReview", "", &errs));
            }
            let wanted = strs(spec.get("audiences"));
            let status = match &api.tokens {
                Some(issuer) => {
                    let auds = if wanted.is_empty() { issuer.api_audiences.clone() } else { wanted };
                    match issuer.validate(api, token, &auds) {
                        Ok((u, matched)) => json!({"authenticated": true, "user": serde_json::to_value(&u).unwrap_or_default(), "audiences": matched}),
                        Err(e) => json!({"user": {}, "error": format!("[invalid bearer token, {e}]")}),
                    }
                }
                None => json!({"user": {}, "error": "token authentication is not configured"}),
            };
            obj.as_object_mut().map(|m| m.remove("spec"));
            obj["spec"] = json!({"token": token});
            if let Some(a) = spec.get("audiences") {
                obj["spec"]["audiences"] = a.clone();
            }
            Ok(respond(obj, status))
        }
        "selfsubjectreviews" => Ok(respond(obj, json!({"userInfo": serde_json::to_value(requester).unwrap_or_default()}))),
        _ => Err(ApiError::path_not_found()),
    }
}
