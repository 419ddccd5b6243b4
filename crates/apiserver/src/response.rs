//! Response bodies and their encodings: objects, lists, tables, partial metadata, `Status`.

use std::convert::Infallible;

use apimachinery::ApiError;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use serde_json::Value;

use crate::cache::CachedObject;
use crate::codec::to_yaml;
use crate::negotiate::Output;
use crate::registry::Resource;

/// The body type of every response.
pub type Body = BoxBody<Bytes, std::io::Error>;

/// A body from bytes.
pub fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|e: Infallible| match e {}).boxed()
}

/// A JSON response.
pub fn json(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    with_type(status, body, "application/json")
}

/// A response with a content type.
pub fn with_type(status: StatusCode, body: impl Into<Bytes>, content_type: &'static str) -> Response<Body> {
    let body: Bytes = body.into();
    if content_type.starts_with("application/json") {
        crate::context::record_response(&body);
    }
    let mut r = Response::new(full(body));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A `Status` error response.
pub fn error(e: &ApiError) -> Response<Body> {
    let body = serde_json::to_vec(&e.to_status()).unwrap_or_default();
    json(StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), body)
}

/// Table options from the query (`includeObject`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncludeObject {
    /// No object.
    None,
    /// PartialObjectMetadata (default).
    Metadata,
    /// The full object.
    Object,
}

impl IncludeObject {
    /// Parses `includeObject`.
    pub fn parse(v: Option<&str>) -> Result<IncludeObject, ApiError> {
        match v.unwrap_or("") {
            "" | "Metadata" => Ok(IncludeObject::Metadata),
            "None" => Ok(IncludeObject::None),
            "Object" => Ok(IncludeObject::Object),
            other => Err(ApiError::bad_request(format!("unrecognized includeObject value: {other:?}"))),
        }
    }
}

fn partial_metadata(obj: &Value, version: &str) -> Value {
    serde_json::json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": obj.get("metadata").cloned().unwrap_or(Value::Object(Default::default())),
    })
}

fn decode_value(res: &Resource, o: &CachedObject) -> Result<Value, ApiError> {
    let json = res.served_json(&o.json).map_err(ApiError::internal)?;
    serde_json::from_slice(&json).map_err(ApiError::internal)
}

/// Table rows for objects.
pub fn table_rows(res: &Resource, items: &[&CachedObject], include: IncludeObject, version: &str) -> Result<Vec<Value>, ApiError> {
    let now = jiff::Timestamp::now();
    let mut rows = Vec::with_capacity(items.len());
    for o in items {
        let typed = res.strategy.decode_stored(&o.json).map_err(ApiError::internal)?;
        let cells = res.strategy.cells(typed.as_ref(), now);
        let object = match include {
            IncludeObject::None => Value::Null,
            IncludeObject::Metadata => partial_metadata(&decode_value(res, o)?, version),
            IncludeObject::Object => decode_value(res, o)?,
        };
        let mut row = serde_json::json!({ "cells": cells });
        if !object.is_null() {
            row["object"] = object;
        }
        rows.push(row);
    }
    Ok(rows)
}

/// A Table of objects.
pub fn table(
    res: &Resource,
    items: &[&CachedObject],
    include: IncludeObject,
    version: &str,
    list_meta: Value,
    headers: bool,
) -> Result<Value, ApiError> {
    let columns = if headers { serde_json::to_value(res.strategy.columns()).map_err(ApiError::internal)? } else { Value::Null };
    Ok(serde_json::json!({
        "kind": "Table",
        "apiVersion": format!("meta.k8s.io/{version}"),
        "metadata": list_meta,
        "columnDefinitions": columns,
        "rows": table_rows(res, items, include, version)?,
    }))
}

/// Encodes one object for a response.
pub fn object(res: &Resource, o: &CachedObject, output: Output, include: IncludeObject) -> Result<(Bytes, &'static str), ApiError> {
    match output {
        Output::Json => Ok((res.served_json(&o.json).map_err(ApiError::internal)?, "application/json")),
        Output::Yaml => Ok((Bytes::from(to_yaml(&decode_value(res, o)?)), "application/yaml")),
        Output::PartialMetadata(v) => {
            let pm = partial_metadata(&decode_value(res, o)?, v);
            Ok((Bytes::from(serde_json::to_vec(&pm).map_err(ApiError::internal)?), "application/json"))
        }
        Output::Table(v) => {
            let meta = serde_json::json!({ "resourceVersion": o.rv.to_string() });
            let t = table(res, &[o], include, v, meta, true)?;
            Ok((Bytes::from(serde_json::to_vec(&t).map_err(ApiError::internal)?), "application/json"))
        }
    }
}

/// List metadata.
pub fn list_meta(rv: i64, continue_token: Option<&str>, remaining: Option<i64>) -> Value {
    let mut m = serde_json::json!({ "resourceVersion": rv.to_string() });
    if let Some(c) = continue_token {
        m["continue"] = Value::String(c.to_string());
    }
    if let Some(r) = remaining.filter(|r| *r > 0) {
        m["remainingItemCount"] = Value::from(r);
    }
    m
}

/// Encodes a list for a response.
pub fn list(
    res: &Resource,
    items: &[std::sync::Arc<CachedObject>],
    meta: Value,
    output: Output,
    include: IncludeObject,
) -> Result<(Bytes, &'static str), ApiError> {
    match output {
        Output::Json => {
            let head = serde_json::json!({
                "kind": res.info.list_kind(),
                "apiVersion": res.info.api_version(),
                "metadata": meta,
            });
            let head = serde_json::to_vec(&head).map_err(ApiError::internal)?;
            let total: usize = items.iter().map(|o| o.json.len() + 1).sum();
            let mut out = Vec::with_capacity(head.len() + total + 16);
            out.extend_from_slice(&head[..head.len() - 1]);
            out.extend_from_slice(b",\"items\":[");
            for (i, o) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if res.version.is_some() {
                    out.extend_from_slice(&res.served_json(&o.json).map_err(ApiError::internal)?);
                } else {
                    out.extend_from_slice(&o.json);
                }
            }
            out.extend_from_slice(b"]}");
            Ok((Bytes::from(out), "application/json"))
        }
        Output::Yaml => {
            let mut values = Vec::with_capacity(items.len());
            for o in items {
                values.push(decode_value(res, o)?);
            }
            let v = serde_json::json!({
                "kind": res.info.list_kind(),
                "apiVersion": res.info.api_version(),
                "metadata": meta,
                "items": values,
            });
            Ok((Bytes::from(to_yaml(&v)), "application/yaml"))
        }
        Output::PartialMetadata(ver) => {
            let mut values = Vec::with_capacity(items.len());
            for o in items {
                values.push(partial_metadata(&decode_value(res, o)?, ver));
            }
            let v = serde_json::json!({
                "kind": "PartialObjectMetadataList",
                "apiVersion": format!("meta.k8s.io/{ver}"),
                "metadata": meta,
                "items": values,
            });
            Ok((Bytes::from(serde_json::to_vec(&v).map_err(ApiError::internal)?), "application/json"))
        }
        Output::Table(ver) => {
            let refs: Vec<&CachedObject> = items.iter().map(|o| o.as_ref()).collect();
            let t = table(res, &refs, include, ver, meta, true)?;
            Ok((Bytes::from(serde_json::to_vec(&t).map_err(ApiError::internal)?), "application/json"))
        }
    }
}

/// Reads a request body up to `limit` bytes; larger bodies are a 413.
pub async fn read_body(body: hyper::body::Incoming, limit: usize) -> Result<Bytes, ApiError> {
    let limited = http_body_util::Limited::new(body, limit);
    match limited.collect().await {
        Ok(c) => {
            let b = c.to_bytes();
            crate::context::record_request(&b);
            Ok(b)
        }
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                Err(ApiError::too_large(limit))
            } else {
                Err(ApiError::bad_request(format!("error reading request body: {e}")))
            }
        }
    }
}
