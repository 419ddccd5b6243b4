//! Subresources other than `status`: `scale` (workloads and custom resources), `pods/binding`,
//! `pods/eviction` (honouring PodDisruptionBudgets) and `namespaces/finalize`.

use std::sync::Arc;

use apimachinery::labels::Selector;
use apimachinery::{ApiError, ApiResult, ErrorList, FieldError};
use http::{HeaderMap, Response, StatusCode, header};
use hyper::body::Incoming;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::policy::v1 as policy;
use serde_json::{Value, json};

use crate::Api;
use crate::cache::Filter;
use crate::codec::{self, MAX_BODY};
use crate::handlers::{FieldValidation, decode_object, dry_run, field_validation};
use crate::registry::{Resource, ScalePaths, SelectorSource};
use crate::request::{Query, RequestInfo};
use crate::response::{self, Body};
use crate::store::{self, DeleteOptions, Part, WriteOptions};

/// Handles a subresource request.
pub async fn handle(api: &Arc<Api>, res: &Arc<Resource>, info: &RequestInfo, query: &Query, headers: &HeaderMap, body: Incoming) -> ApiResult<Response<Body>> {
    let ns = if res.info.namespaced { info.namespace.as_str() } else { "" };
    match (res.info.group.as_str(), res.info.plural.as_str(), info.subresource.as_str(), info.verb.as_str()) {
        ("", "namespaces", "finalize", "update") => finalize(api, res, &info.name, query, headers, body).await,
        (_, _, "scale", verb) if res.scale.is_some() => scale(api, res, ns, &info.name, verb, query, headers, body).await,
        ("", "pods", "binding", "create") => binding(api, res, ns, &info.name, query, headers, body).await,
        ("", "pods", "eviction", "create") => eviction(api, res, ns, &info.name, query, headers, body).await,
        ("certificates.k8s.io", "certificatesigningrequests", "approval", "get") => crate::handlers::get(api, res, "", &info.name, query, headers.get(header::ACCEPT).and_then(|v| v.to_str().ok())).await,
        ("certificates.k8s.io", "certificatesigningrequests", "approval", "update") => approval(api, res, &info.name, query, headers, body).await,
        ("", "serviceaccounts", "token", "create") => {
            let bytes = response::read_body(body, MAX_BODY).await?;
            let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
            let out = crate::auth::tokens::token_request(api, ns, &info.name, ct, &bytes, crate::handlers::dry_run(query)?).await?;
            Ok(response::json(http::StatusCode::CREATED, serde_json::to_vec(&out).map_err(ApiError::internal)?))
        }
        (_, _, "status", _) => Err(ApiError::path_not_found()),
        (_, _, _, "get" | "update" | "patch" | "create") => Err(ApiError::path_not_found()),
        _ => Err(ApiError::method_not_allowed(&res.info.group, &res.info.plural, &info.verb)),
    }
}

/// `PUT /api/v1/namespaces/<name>/finalize`: replaces `spec.finalizers` only. A terminating
/// namespace left without finalizers is deleted.
async fn finalize(api: &Arc<Api>, res: &Arc<Resource>, name: &str, query: &Query, headers: &HeaderMap, body: Incoming) -> ApiResult<Response<Body>> {
    let validation = field_validation(query).unwrap_or(FieldValidation::Warn);
    let mut opts = crate::handlers::write_options(query, headers)?;
    opts.subresource = "finalize".into();
    let bytes = response::read_body(body, MAX_BODY).await?;
    let (obj, _) = decode_object(res, headers, &bytes, validation)?;
    let wanted = obj
        .as_any()
        .downcast_ref::<core::Namespace>()
        .and_then(|n| n.spec.as_ref())
        .and_then(|s| s.finalizers.clone())
        .unwrap_or_default();
    let key = res.key("", name);
    for _ in 0..16 {
        let Some((old, rev)) = store::read(api, res, &key).await? else {
            return Err(ApiError::not_found("", "namespaces", name));
        };
        let mut ns = old.as_any().downcast_ref::<core::Namespace>().cloned().ok_or_else(|| ApiError::internal("not a namespace"))?;
        ns.spec.get_or_insert_with(Default::default).finalizers = Some(wanted.clone());
        ns.metadata.resource_version = Some(rev.to_string());
        match store::update(api, res, "", name, Box::new(ns), Part::Prepared, &opts).await {
            Ok((json, _)) => return Ok(response::json(StatusCode::OK, json)),
            Err(e) if e.code == 409 => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::modified("", "namespaces", name))
}

fn selector_string(obj: &Value, source: &SelectorSource) -> Option<String> {
    match source {
        SelectorSource::None => None,
        SelectorSource::String(p) => obj.pointer(p).and_then(Value::as_str).map(str::to_string),
        SelectorSource::Map(p) => {
            let m = obj.pointer(p)?.as_object()?;
            let labels = m.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))).collect();
            Some(Selector::from_set(&labels).to_string())
        }
        SelectorSource::LabelSelector(p) => {
            let sel: k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector = serde_json::from_value(obj.pointer(p)?.clone()).ok()?;
            apimachinery::labels::from_label_selector(&sel).ok().map(|s| s.to_string())
        }
    }
}

/// The autoscaling/v1 Scale of an object (served JSON).
fn scale_of(obj: &Value, paths: &ScalePaths) -> Value {
    let meta = &obj["metadata"];
    let mut m = json!({ "name": meta["name"], "uid": meta["uid"], "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"] });
    if !meta["namespace"].is_null() {
        m["namespace"] = meta["namespace"].clone();
    }
    let mut status = json!({ "replicas": obj.pointer(&paths.status_replicas).and_then(Value::as_i64).unwrap_or(0) });
    if let Some(sel) = selector_string(obj, &paths.selector) {
        status["selector"] = Value::String(sel);
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": m,
        "spec": { "replicas": obj.pointer(&paths.spec_replicas).and_then(Value::as_i64).unwrap_or(0) },
        "status": status,
    })
}

fn set_pointer(v: &mut Value, pointer: &str, value: Value) {
    let mut cur = v;
    let parts: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for (i, p) in parts.iter().enumerate() {
        let key = p.replace("~1", "/").replace("~0", "~");
        if !cur.is_object() {
            *cur = json!({});
        }
        let m = cur.as_object_mut().expect("just made an object");
        if i == parts.len() - 1 {
            m.insert(key, value);
            return;
        }
        cur = m.entry(key).or_insert_with(|| json!({}));
    }
}

#[allow(clippy::too_many_arguments)]
async fn scale(api: &Arc<Api>, res: &Arc<Resource>, ns: &str, name: &str, verb: &str, query: &Query, headers: &HeaderMap, body: Incoming) -> ApiResult<Response<Body>> {
    let paths = res.scale.clone().ok_or_else(ApiError::path_not_found)?;
    let key = res.key(ns, name);
    let current = |obj: &dyn crate::registry::Object, rev: i64| -> ApiResult<Value> {
        let json = codec::with_resource_version(&obj.to_json().map_err(ApiError::internal)?, rev);
        let json = res.served_json(&json).map_err(ApiError::internal)?;
        serde_json::from_slice(&json).map_err(ApiError::internal)
    };
    if verb == "get" {
        let (obj, rev) = store::read(api, res, &key).await?.ok_or_else(|| ApiError::not_found(&res.info.group, &res.info.plural, name))?;
        let s = scale_of(&current(obj.as_ref(), rev)?, &paths);
        return Ok(response::json(StatusCode::OK, serde_json::to_vec(&s).map_err(ApiError::internal)?));
    }
    let mut opts = crate::handlers::write_options(query, headers)?;
    opts.subresource = "scale".into();
    let bytes = response::read_body(body, MAX_BODY).await?;
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    for _ in 0..16 {
        let (obj, rev) = store::read(api, res, &key).await?.ok_or_else(|| ApiError::not_found(&res.info.group, &res.info.plural, name))?;
        let mut served = current(obj.as_ref(), rev)?;
        let old_scale = scale_of(&served, &paths);
        let wanted: Value = match verb {
            "update" => codec::decode_body_as(Some(ct), &bytes, Some(("autoscaling/v1", "Scale")))?,
            "patch" => {
                let media = ct.split(';').next().unwrap_or("").trim();
                let patch: Value = serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
                match media {
                    "application/merge-patch+json" | "application/strategic-merge-patch+json" => apimachinery::patch::merge_patch(old_scale.clone(), &patch),
                    "application/json-patch+json" => apimachinery::patch::json_patch(old_scale.clone(), &patch)?,
                    _ => return Err(ApiError::unsupported_media_type(media, crate::patch::PATCH_TYPES)),
                }
            }
            _ => return Err(ApiError::method_not_allowed(&res.info.group, &res.info.plural, verb)),
        };
        let replicas = wanted["spec"]["replicas"].as_i64().unwrap_or(0);
        if replicas < 0 {
            let mut errs = ErrorList::new();
            errs.push(FieldError::invalid("spec.replicas", replicas, "must be greater than or equal to 0"));
            return Err(ApiError::invalid("autoscaling", "Scale", name, &errs));
        }
        let explicit_rv = wanted["metadata"]["resourceVersion"].as_str().filter(|s| !s.is_empty()).map(str::to_string);
        if let Some(rv) = &explicit_rv
            && *rv != rev.to_string() {
                return Err(ApiError::modified(&res.info.group, &res.info.plural, name));
            }
        set_pointer(&mut served, &paths.spec_replicas, Value::from(replicas));
        served["metadata"]["resourceVersion"] = Value::String(rev.to_string());
        let (obj, _) = crate::handlers::decode_value(res, &mut served, FieldValidation::Ignore)?;
        match store::update(api, res, ns, name, obj, Part::Main, &opts).await {
            Ok((json, _)) => {
                let json = res.served_json(&json).map_err(ApiError::internal)?;
                let v: Value = serde_json::from_slice(&json).map_err(ApiError::internal)?;
                let s = scale_of(&v, &paths);
                return Ok(response::json(StatusCode::OK, serde_json::to_vec(&s).map_err(ApiError::internal)?));
            }
            Err(e) if e.code == 409 && explicit_rv.is_none() => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::modified(&res.info.group, &res.info.plural, name))
}

fn success(code: u16) -> Response<Body> {
    let s = json!({ "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code });
    response::json(StatusCode::from_u16(code).unwrap_or(StatusCode::OK), serde_json::to_vec(&s).unwrap_or_default())
}

/// `POST pods/<name>/binding`: assigns an unscheduled pod to a node (the scheduler's write).
async fn binding(api: &Arc<Api>, res: &Arc<Resource>, ns: &str, name: &str, query: &Query, headers: &HeaderMap, body: Incoming) -> ApiResult<Response<Body>> {
    let bytes = response::read_body(body, MAX_BODY).await?;
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let b: core::Binding = serde_json::from_value(codec::decode_body_as(ct, &bytes, Some(("v1", "Binding")))?)
        .map_err(|e| ApiError::bad_request(format!("Binding in version \"v1\" cannot be handled as a Binding: {e}")))?;
    if b.metadata.name.as_deref().is_some_and(|n| n != name) {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            b.metadata.name.as_deref().unwrap_or("")
        )));
    }
    let node = b.target.name.clone().unwrap_or_default();
    if node.is_empty() {
        let mut errs = ErrorList::new();
        errs.push(FieldError::required("target.name", ""));
        return Err(ApiError::invalid("", "Binding", name, &errs));
    }
    let mut opts = crate::handlers::write_options(query, headers)?;
    opts.subresource = "binding".into();
    // Upstream's binding writes storage directly (GuaranteedUpdate), past the field manager:
    // the pod's managedFields stay as they were (no entry for the scheduler), and the
    // scheduler's hottest write skips the field-set computation.
    opts.managed_fields_done = true;
    let key = res.key(ns, name);
    for _ in 0..16 {
        let (obj, rev) = store::read(api, res, &key).await?.ok_or_else(|| ApiError::not_found("", "pods", name))?;
        let mut pod = obj.as_any().downcast_ref::<core::Pod>().cloned().ok_or_else(|| ApiError::internal("not a pod"))?;
        if pod.metadata.deletion_timestamp.is_some() {
            return Err(ApiError::conflict("", "pods", name, "pod is being deleted, cannot be assigned to a host"));
        }
        let spec = pod.spec.get_or_insert_with(Default::default);
        if let Some(current) = spec.node_name.as_deref().filter(|n| !n.is_empty()) {
            return Err(ApiError::conflict("", "pods", name, &format!("pod {name} is already assigned to node {current:?}")));
        }
        if let Some(uid) = b.metadata.uid.as_deref().filter(|u| !u.is_empty())
            && pod.metadata.uid.as_deref() != Some(uid) {
                return Err(ApiError::conflict("", "pods", name, &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {}", pod.metadata.uid.as_deref().unwrap_or(""))));
            }
        spec.node_name = Some(node.clone());
        let status = pod.status.get_or_insert_with(Default::default);
        let conds = status.conditions.get_or_insert_with(Vec::new);
        conds.retain(|c| c.type_ != "PodScheduled");
        conds.push(core::PodCondition { type_: "PodScheduled".into(), status: "True".into(), last_transition_time: Some(store::now()), ..Default::default() });
        for (k, v) in b.metadata.annotations.clone().unwrap_or_default() {
            pod.metadata.annotations.get_or_insert_with(Default::default).insert(k, v);
        }
        pod.metadata.resource_version = Some(rev.to_string());
        match store::update(api, res, ns, name, Box::new(pod), Part::Assign, &opts).await {
            Ok(_) => return Ok(success(201)),
            Err(e) if e.code == 409 && e.reason == apimachinery::status::Reason::Conflict && e.message.contains("has been modified") => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::modified("", "pods", name))
}

/// `POST pods/<name>/eviction`: deletes a pod unless a PodDisruptionBudget forbids it (429).
async fn eviction(api: &Arc<Api>, res: &Arc<Resource>, ns: &str, name: &str, query: &Query, headers: &HeaderMap, body: Incoming) -> ApiResult<Response<Body>> {
    let bytes = response::read_body(body, MAX_BODY).await?;
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let ev: policy::Eviction = serde_json::from_value(codec::decode_body_as(ct, &bytes, Some(("policy/v1", "Eviction")))?)
        .map_err(|e| ApiError::bad_request(format!("Eviction in version \"v1\" cannot be handled as a Eviction: {e}")))?;
    if ev.metadata.name.as_deref().is_some_and(|n| n != name) {
        return Err(ApiError::bad_request("name in URL does not match name in Eviction object"));
    }
    let mut opts: DeleteOptions = match &ev.delete_options {
        Some(d) => serde_json::from_value(serde_json::to_value(d).map_err(ApiError::internal)?).map_err(|e| ApiError::bad_request(e.to_string()))?,
        None => DeleteOptions::default(),
    };
    if dry_run(query)? {
        opts.dry_run = vec!["All".into()];
    }
    let (obj, _) = store::read(api, res, &res.key(ns, name)).await?.ok_or_else(|| ApiError::not_found("", "pods", name))?;
    let pod = obj.as_any().downcast_ref::<core::Pod>().cloned().ok_or_else(|| ApiError::internal("not a pod"))?;
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("");
    let terminal = phase == "Succeeded" || phase == "Failed";
    if !terminal && pod.metadata.deletion_timestamp.is_none() {
        let pdbs = api.resource("policy", "v1", "poddisruptionbudgets").ok_or_else(|| ApiError::internal("no PDBs"))?;
        let cache = api.caches.cache(&pdbs).ok_or_else(|| ApiError::internal("no PDB cache"))?;
        api.caches.wait_fresh().await?;
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        let mut matching = Vec::new();
        for item in cache.list(&Filter { namespace: ns.to_string(), ..Default::default() }).0 {
            let pdb: policy::PodDisruptionBudget = serde_json::from_slice(&item.json).map_err(ApiError::internal)?;
            let sel = pdb.spec.as_ref().and_then(|s| s.selector.as_ref());
            let Some(sel) = sel else { continue };
            match apimachinery::labels::from_label_selector(sel) {
                Ok(s) if !s.is_empty() && s.matches(&labels) => matching.push(pdb),
                _ => {}
            }
        }
        if matching.len() > 1 {
            return Err(ApiError::internal("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."));
        }
        if let Some(pdb) = matching.first() {
            let status = pdb.status.clone().unwrap_or_default();
            let generation = pdb.metadata.generation.unwrap_or(0);
            let pdb_name = pdb.metadata.name.clone().unwrap_or_default();
            let blocked = if status.observed_generation.unwrap_or(0) < generation {
                Some(format!("Cannot evict pod as it would violate the pod's disruption budget. The disruption budget {pdb_name} is still being processed by the server."))
            } else if status.disruptions_allowed <= 0 {
                Some("Cannot evict pod as it would violate the pod's disruption budget.".to_string())
            } else {
                None
            };
            if let Some(msg) = blocked {
                let mut e = ApiError::too_many_requests(msg, 10);
                if let Some(d) = e.details.as_mut() {
                    d.causes.push(apimachinery::status::Cause {
                        reason: "DisruptionBudget".into(),
                        message: format!(
                            "The disruption budget {pdb_name} needs {} healthy pods and has {} currently",
                            status.desired_healthy, status.current_healthy
                        ),
                        field: String::new(),
                    });
                }
                return Err(e);
            }
            // record the disruption so concurrent evictions see it
            let mut next = pdb.clone();
            let st = next.status.get_or_insert_with(Default::default);
            st.disruptions_allowed -= 1;
            st.disrupted_pods.get_or_insert_with(Default::default).insert(name.to_string(), store::now());
            if opts.dry_run.is_empty() {
                store::update(api, &pdbs, ns, &pdb_name, Box::new(next), Part::Status, &WriteOptions::default()).await?;
            }
        }
    }
    match store::delete(api, res, ns, name, &opts).await {
        Ok(_) => Ok(success(201)),
        Err(e) => Err(e),
    }
}


/// `PUT .../certificatesigningrequests/<name>/approval`: only `status.conditions` change
/// (Approved/Denied); the certificate and the spec stay as they are.
async fn approval(api: &Arc<Api>, res: &Arc<Resource>, name: &str, query: &Query, headers: &HeaderMap, body: Incoming) -> ApiResult<Response<Body>> {
    let validation = field_validation(query)?;
    let mut opts = crate::handlers::write_options(query, headers)?;
    opts.subresource = "approval".into();
    let bytes = response::read_body(body, MAX_BODY).await?;
    let (obj, warnings) = crate::handlers::decode_object(res, headers, &bytes, validation)?;
    let sent = obj.as_any().downcast_ref::<k8s_openapi::api::certificates::v1::CertificateSigningRequest>().cloned().ok_or_else(|| ApiError::internal("not a CSR"))?;
    let key = res.key("", name);
    for _ in 0..16 {
        let (old, rev) = store::read(api, res, &key).await?.ok_or_else(|| ApiError::not_found(&res.info.group, &res.info.plural, name))?;
        let mut csr = old.as_any().downcast_ref::<k8s_openapi::api::certificates::v1::CertificateSigningRequest>().cloned().ok_or_else(|| ApiError::internal("not a CSR"))?;
        if let Some(rv) = sent.metadata.resource_version.as_deref().filter(|r| !r.is_empty())
            && rv != rev.to_string()
        {
            return Err(ApiError::modified(&res.info.group, &res.info.plural, name));
        }
        let old_csr = csr.clone();
        let conditions = sent.status.as_ref().and_then(|s| s.conditions.clone());
        csr.status.get_or_insert_with(Default::default).conditions = conditions;
        csr.metadata.resource_version = Some(rev.to_string());
        let errs = crate::validation::certificate_signing_request_approval_update(&csr, &old_csr);
        if !errs.is_empty() {
            return Err(ApiError::invalid(&res.info.group, &res.info.kind, name, &errs));
        }
        match store::update(api, res, "", name, Box::new(csr), Part::Assign, &opts).await {
            Ok((json, _)) => {
                let output = crate::negotiate::negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()), false)?;
                return Ok(crate::handlers::respond(http::StatusCode::OK, crate::handlers::encode_written(res, json, output)?, &warnings));
            }
            Err(e) if e.code == 409 && sent.metadata.resource_version.as_deref().is_none_or(str::is_empty) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::modified(&res.info.group, &res.info.plural, name))
}
