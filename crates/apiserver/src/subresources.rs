//! Subresources other than `status`: `namespaces/finalize` for now.

use std::sync::Arc;

use apimachinery::{ApiError, ApiResult};
use http::{HeaderMap, Response, StatusCode, header};
use hyper::body::Incoming;
use k8s_openapi::api::core::v1 as core;

use crate::Api;
use crate::codec::MAX_BODY;
use crate::handlers::{FieldValidation, decode_object, dry_run, field_validation};
use crate::registry::Resource;
use crate::request::{Query, RequestInfo};
use crate::response::{self, Body};
use crate::store::{self, WriteOptions};

/// Handles a subresource request.
pub async fn handle(api: &Arc<Api>, res: &Arc<Resource>, info: &RequestInfo, query: &Query, headers: &HeaderMap, body: Incoming) -> ApiResult<Response<Body>> {
    match (res.info.group.as_str(), res.info.plural.as_str(), info.subresource.as_str(), info.verb.as_str()) {
        ("", "namespaces", "finalize", "update") => finalize(api, res, &info.name, query, headers, body).await,
        _ => Err(ApiError::path_not_found()),
    }
}

/// `PUT /api/v1/namespaces/<name>/finalize`: replaces `spec.finalizers` only. A terminating
/// namespace left without finalizers is deleted.
async fn finalize(api: &Arc<Api>, res: &Arc<Resource>, name: &str, query: &Query, headers: &HeaderMap, body: Incoming) -> ApiResult<Response<Body>> {
    let validation = field_validation(query).unwrap_or(FieldValidation::Warn);
    let opts = WriteOptions { dry_run: dry_run(query)?, field_manager: query.str("fieldManager").to_string() };
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
        match store::update(api, res, "", name, Box::new(ns), store::Part::Prepared, &opts).await.map(|(j, _)| j) {
            Ok(json) => {
                let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
                let _ = accept;
                return Ok(response::json(StatusCode::OK, json));
            }
            Err(e) if e.code == 409 => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::modified("", "namespaces", name))
}
