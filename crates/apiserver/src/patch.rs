//! PATCH: JSON patch (RFC 6902) and JSON merge patch (RFC 7386) applied to the stored object,
//! then written through the generic update (so validation, no-op detection and concurrency are
//! the same as for PUT).

use std::sync::Arc;

use apimachinery::{ApiError, ApiResult};
use http::{HeaderMap, Response, StatusCode, header};
use hyper::body::Incoming;
use serde_json::Value;

use crate::Api;
use crate::codec::MAX_BODY;
use crate::handlers::{add_warnings, decode_value, field_validation};
use crate::registry::Resource;
use crate::request::Query;
use crate::response::{self, Body};
use crate::store::{self, Part};

/// Patch media types accepted for built-in kinds.
pub const PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];

/// Patch media types accepted for custom resources (no strategic merge patch, as upstream).
pub const CUSTOM_PATCH_TYPES: &[&str] = &["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"];

/// Handles a PATCH request.
#[allow(clippy::too_many_arguments)]
pub async fn handle(api: &Arc<Api>, res: &Arc<Resource>, ns: &str, name: &str, part: Part, query: &Query, headers: &HeaderMap, body: Incoming) -> ApiResult<Response<Body>> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media = ct.split(';').next().unwrap_or("").trim();
    let kind = match media {
        "application/json-patch+json" => PatchKind::Json,
        "application/merge-patch+json" => PatchKind::Merge,
        "application/strategic-merge-patch+json" if res.strategy.strategic_merge() => PatchKind::Strategic,
        "application/apply-patch+yaml" | "application/apply-patch+json" => {
            return apply(api, res, ns, name, part, query, headers, body).await;
        }
        _ => {
            let accepted: &[&str] = if res.strategy.strategic_merge() { PATCH_TYPES } else { CUSTOM_PATCH_TYPES };
            return Err(ApiError::unsupported_media_type(media, accepted));
        }
    };
    if query.flag("force") {
        let mut errs = apimachinery::ErrorList::new();
        errs.push(apimachinery::FieldError::forbidden("force", "may not be specified for non-apply patch"));
        return Err(ApiError::invalid("meta.k8s.io", "PatchOptions", "", &errs));
    }
    let validation = field_validation(query)?;
    let opts = crate::handlers::write_options(query, headers)?;
    let bytes = response::read_body(body, MAX_BODY).await?;
    let patch: Value = serde_json::from_slice(&bytes).map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let key = res.key(ns, name);
    for _ in 0..16 {
        let Some((current, rev)) = store::read(api, res, &key).await? else {
            return Err(ApiError::not_found(&res.info.group, &res.info.plural, name));
        };
        let mut doc = current.to_value().map_err(ApiError::internal)?;
        if let Some(v) = &res.version {
            doc = (v.from_storage)(doc).map_err(ApiError::internal)?;
        }
        doc["metadata"]["resourceVersion"] = Value::String(rev.to_string());
        let patched = match kind {
            PatchKind::Json => apimachinery::patch::json_patch(doc, &patch)?,
            PatchKind::Merge => {
                if !patch.is_object() {
                    return Err(ApiError::bad_request("merge patch must be a JSON object"));
                }
                apimachinery::patch::merge_patch(doc, &patch)
            }
            PatchKind::Strategic => {
                let (schema, root) = res.decoder().merge_schema().ok_or_else(|| ApiError::internal("no schema for strategic merge patch"))?;
                apimachinery::patch::strategic::apply(&doc, &patch, &schema, &root)?
            }
        };
        // a patch that names a resourceVersion is a precondition; otherwise retry on conflict
        let precondition = patched["metadata"]["resourceVersion"].as_str().map(str::to_string);
        let explicit = precondition.as_deref() != Some(rev.to_string().as_str());
        let mut patched = patched;
        let (obj, warnings) = decode_value(res, &mut patched, validation)?;
        match store::update(api, res, ns, name, obj, part, &opts).await {
            Ok((json, _)) => {
                let json = res.served_json(&json).map_err(ApiError::internal)?;
                let mut r = response::json(StatusCode::OK, json);
                add_warnings(r.headers_mut(), &warnings);
                return Ok(r);
            }
            Err(e) if e.code == 409 && e.reason == apimachinery::status::Reason::Conflict && !explicit => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::modified(&res.info.group, &res.info.plural, name))
}

/// Server-side apply (`application/apply-patch+yaml`): merges the applied configuration into
/// the live object, tracking field ownership per manager; conflicts are a 409 unless `force`.
#[allow(clippy::too_many_arguments)]
async fn apply(api: &Arc<Api>, res: &Arc<Resource>, ns: &str, name: &str, part: Part, query: &Query, headers: &HeaderMap, body: Incoming) -> ApiResult<Response<Body>> {
    let mut opts = crate::handlers::write_options(query, headers)?;
    if query.get("fieldManager").is_none_or(str::is_empty) {
        let mut errs = apimachinery::ErrorList::new();
        errs.push(apimachinery::FieldError::required("fieldManager", "is required for apply patch"));
        return Err(ApiError::invalid("meta.k8s.io", "PatchOptions", "", &errs));
    }
    let force = query.flag("force");
    let validation = field_validation(query)?;
    let bytes = response::read_body(body, MAX_BODY).await?;
    let applied = crate::codec::decode_yaml(&bytes)?;
    if !applied.is_object() {
        return Err(ApiError::bad_request("the applied configuration must be an object"));
    }
    let (schema, root) = res.decoder().merge_schema().ok_or_else(|| ApiError::internal("no schema for apply"))?;
    let api_version = res.info.api_version();
    let key = res.key(ns, name);
    for _ in 0..16 {
        let current = store::read(api, res, &key).await?;
        let live = match &current {
            Some((obj, rev)) => {
                let mut v = obj.to_value().map_err(ApiError::internal)?;
                if let Some(conv) = &res.version {
                    v = (conv.from_storage)(v).map_err(ApiError::internal)?;
                }
                v["metadata"]["resourceVersion"] = Value::String(rev.to_string());
                Some(v)
            }
            None => None,
        };
        if live.is_none() && part != Part::Main {
            return Err(ApiError::not_found(&res.info.group, &res.info.plural, name));
        }
        let time = crate::registry::format_time(&store::now());
        let mut manager = apimachinery::managedfields::Manager::new(&opts.field_manager, &api_version, &time);
        manager.kind = &res.info.kind;
        manager.subresource = if part == Part::Status { "status" } else { "" };
        let reset: &[&str] = if res.strategy.has_status() { if part == Part::Status { &["spec"] } else { &["status"] } } else { &[] };
        manager.reset_fields = reset;
        let mut merged = apimachinery::managedfields::apply(live.as_ref(), &applied, &manager, force, &schema, &root).map_err(ApiError::from)?;
        if merged["metadata"]["name"].as_str().is_some_and(|n| n != name) {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                merged["metadata"]["name"].as_str().unwrap_or("")
            )));
        }
        merged["metadata"]["name"] = Value::String(name.to_string());
        let (obj, warnings) = decode_value(res, &mut merged, validation)?;
        opts.managed_fields_done = true;
        let result = match current {
            Some(_) => store::update(api, res, ns, name, obj, part, &opts).await.map(|(j, _)| (j, StatusCode::OK)),
            None => store::create(api, res, ns, obj, &opts).await.map(|j| (j, StatusCode::CREATED)),
        };
        match result {
            Ok((json, status)) => {
                let json = res.served_json(&json).map_err(ApiError::internal)?;
                let mut r = response::json(status, json);
                add_warnings(r.headers_mut(), &warnings);
                return Ok(r);
            }
            Err(e) if e.code == 409 && (e.reason == apimachinery::status::Reason::Conflict || e.reason == apimachinery::status::Reason::AlreadyExists) && e.details.as_ref().is_none_or(|d| d.causes.is_empty()) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::modified(&res.info.group, &res.info.plural, name))
}

enum PatchKind {
    Json,
    Merge,
    Strategic,
}


