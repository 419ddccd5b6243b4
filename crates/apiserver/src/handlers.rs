//! The resource handlers: HTTP requests for `get`, `list`, `watch`, `create`, `update`,
//! `delete` and `deletecollection` turned into generic store calls and encoded responses.

use std::sync::Arc;
use std::time::Duration;

use apimachinery::fields::FieldSelector;
use apimachinery::labels::Selector;
use apimachinery::{ApiError, ApiResult, ErrorList, FieldError};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use serde_json::Value;

use crate::Api;
use crate::cache::{Filter, Start, WatchMsg};
use crate::codec::{self, MAX_BODY};
use crate::negotiate::{Output, negotiate};
use crate::registry::{Object, Resource};
use crate::request::{Query, RequestInfo};
use crate::response::{self, Body, IncludeObject};
use crate::store::{self, DeleteOptions, Deleted, ListOptions, Part, WriteOptions};

/// Handles one resource request.
pub async fn handle(api: &Arc<Api>, info: RequestInfo, query: Query, headers: HeaderMap, body: Incoming) -> Response<Body> {
    match dispatch(api, &info, &query, &headers, body).await {
        Ok(r) => r,
        Err(e) => response::error(&e),
    }
}

async fn dispatch(api: &Arc<Api>, info: &RequestInfo, query: &Query, headers: &HeaderMap, body: Incoming) -> ApiResult<Response<Body>> {
    let res = api.resource(&info.group, &info.version, &info.resource).ok_or_else(ApiError::path_not_found)?;
    // scope checks: a namespaced object needs a namespace (except cross-namespace list/watch);
    // a cluster-scoped one must not have one
    let namespaced = res.info.namespaced;
    let ns = info.namespace.as_str();
    let is_namespace_itself = res.info.plural == "namespaces" && res.info.group.is_empty();
    if !namespaced && !ns.is_empty() && !is_namespace_itself {
        return Err(ApiError::path_not_found());
    }
    if namespaced && ns.is_empty() && !matches!(info.verb.as_str(), "list" | "watch") {
        return Err(ApiError::path_not_found());
    }
    let ns = if is_namespace_itself { "" } else { ns };
    if crate::registry::reviews::is_review(&res.info) {
        if info.verb != "create" || !info.subresource.is_empty() {
            return Err(ApiError::method_not_allowed(&res.info.group, &res.info.plural, &info.verb));
        }
        let bytes = response::read_body(body, MAX_BODY).await?;
        let user = crate::context::user();
        let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let out = crate::auth::reviews::handle(api, &user, &res, ns, ct, &bytes)?;
        return Ok(response::json(StatusCode::CREATED, serde_json::to_vec(&out).map_err(ApiError::internal)?));
    }
    let part = match info.subresource.as_str() {
        "" => Part::Main,
        "status" if res.strategy.has_status() => Part::Status,
        _ => return crate::subresources::handle(api, &res, info, query, headers, body).await,
    };
    if !res.info.has_verb(&info.verb) && part == Part::Main {
        return Err(ApiError::method_not_allowed(&res.info.group, &res.info.plural, &info.verb));
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    match info.verb.as_str() {
        "get" => get(api, &res, ns, &info.name, query, accept).await,
        "list" => list(api, &res, ns, query, accept).await,
        "watch" => watch(api, &res, ns, query, accept).await,
        "create" if part == Part::Main && info.name.is_empty() => create(api, &res, ns, query, headers, body).await,
        "update" => update(api, &res, ns, &info.name, part, query, headers, body).await,
        "delete" if part == Part::Main => delete(api, &res, ns, &info.name, query, headers, body).await,
        "deletecollection" => delete_collection(api, &res, ns, query, headers, body).await,
        "patch" => crate::patch::handle(api, &res, ns, &info.name, part, query, headers, body).await,
        _ => Err(ApiError::method_not_allowed(&res.info.group, &res.info.plural, &info.verb)),
    }
}

pub(crate) fn respond(status: StatusCode, (bytes, ct): (Bytes, &'static str), warnings: &[String]) -> Response<Body> {
    let mut r = response::with_type(status, bytes, ct);
    add_warnings(r.headers_mut(), warnings);
    r
}

/// Adds `Warning: 299 - "..."` headers.
pub fn add_warnings(h: &mut HeaderMap, warnings: &[String]) {
    for w in warnings {
        let text = format!("299 - {:?}", w);
        if let Ok(v) = HeaderValue::from_str(&text) {
            h.append(header::WARNING, v);
        }
    }
}

pub(crate) async fn get(api: &Arc<Api>, res: &Arc<Resource>, ns: &str, name: &str, query: &Query, accept: Option<&str>) -> ApiResult<Response<Body>> {
    let output = negotiate(accept, true)?;
    if let Output::PartialMetadata(_) = output
        && accept.is_some_and(|a| a.contains("as=PartialObjectMetadataList")) && !accept.is_some_and(|a| a.contains("as=PartialObjectMetadata;")) {
            return Err(ApiError::not_acceptable(&["application/json", "application/yaml"]));
        }
    let include = IncludeObject::parse(query.get("includeObject"))?;
    let cache = api.caches.cache(res).ok_or_else(|| ApiError::internal("no cache"))?;
    match query.str("resourceVersion") {
        "" => {
            api.caches.wait_fresh().await?;
        }
        "0" => {}
        rv => {
            let want = rv.parse::<i64>().map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv:?}")))?;
            api.caches.wait_for(want, Duration::from_secs(3)).await?;
        }
    }
    let (obj, _) = cache.get(&res.key(ns, name));
    let obj = obj.ok_or_else(|| ApiError::not_found(&res.info.group, &res.info.plural, name))?;
    Ok(respond(StatusCode::OK, response::object(res, &obj, output, include)?, &[]))
}

fn parse_filter(res: &Resource, ns: &str, query: &Query) -> ApiResult<Filter> {
    let labels = Selector::parse(query.str("labelSelector")).map_err(ApiError::bad_request)?;
    let fields = FieldSelector::parse(query.str("fieldSelector")).map_err(ApiError::bad_request)?;
    fields.check_supported(res.strategy.field_labels()).map_err(ApiError::bad_request)?;
    Ok(Filter { namespace: ns.to_string(), labels, fields })
}

fn parse_limit(query: &Query) -> ApiResult<i64> {
    query.int("limit").map(|l| l.unwrap_or(0).max(0)).map_err(|v| ApiError::bad_request(format!("invalid limit: {v:?}")))
}

async fn list(api: &Arc<Api>, res: &Arc<Resource>, ns: &str, query: &Query, accept: Option<&str>) -> ApiResult<Response<Body>> {
    let output = negotiate(accept, true)?;
    let include = IncludeObject::parse(query.get("includeObject"))?;
    let opts = ListOptions {
        filter: parse_filter(res, ns, query)?,
        resource_version: query.get("resourceVersion").map(str::to_string),
        resource_version_match: query.get("resourceVersionMatch").map(str::to_string),
        limit: parse_limit(query)?,
        continue_token: query.get("continue").map(str::to_string),
    };
    let result = store::list(api, res, &opts).await?;
    let meta = response::list_meta(result.rv, result.continue_token.as_deref(), result.remaining);
    Ok(respond(StatusCode::OK, response::list(res, &result.items, meta, output, include)?, &[]))
}

fn watch_event(kind: &str, object: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(object.len() + 32);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(object);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

fn bookmark(res: &Resource, rv: i64, initial_end: bool) -> Bytes {
    let mut meta = serde_json::json!({ "resourceVersion": rv.to_string() });
    if initial_end {
        meta["annotations"] = serde_json::json!({ "k8s.io/initial-events-end": "true" });
    }
    let obj = serde_json::json!({ "kind": res.info.kind, "apiVersion": res.info.api_version(), "metadata": meta });
    watch_event("BOOKMARK", &serde_json::to_vec(&obj).unwrap_or_default())
}

struct WatchEncoder {
    res: Arc<Resource>,
    output: Output,
    include: IncludeObject,
    headers_sent: bool,
}

impl WatchEncoder {
    fn encode(&mut self, msg: &WatchMsg) -> Bytes {
        let kind = msg.kind.as_str();
        let obj = &msg.obj;
        let body: Result<Vec<u8>, ApiError> = match self.output {
            Output::Json | Output::Yaml => {
                return match self.res.served_json(&obj.json) {
                    Ok(j) => watch_event(kind, &j),
                    Err(e) => watch_event("ERROR", &serde_json::to_vec(&ApiError::internal(e).to_status()).unwrap_or_default()),
                };
            }
            Output::PartialMetadata(v) => serde_json::from_slice::<MetadataOnly>(&obj.json)
                .map_err(ApiError::internal)
                .and_then(|m| {
                    let pm = serde_json::json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": format!("meta.k8s.io/{v}"),
                        "metadata": m.metadata,
                    });
                    serde_json::to_vec(&pm).map_err(ApiError::internal)
                }),
            Output::Table(v) => {
                let meta = serde_json::json!({ "resourceVersion": obj.rv.to_string() });
                let headers = !self.headers_sent;
                self.headers_sent = true;
                response::table(&self.res, &[obj.as_ref()], self.include, v, meta, headers)
                    .and_then(|t| serde_json::to_vec(&t).map_err(ApiError::internal))
            }
        };
        match body {
            Ok(b) => watch_event(kind, &b),
            Err(e) => watch_event("ERROR", &serde_json::to_vec(&e.to_status()).unwrap_or_default()),
        }
    }
}

/// An object's metadata alone: the rest of the JSON is skipped, not built (a metadata-only
/// watch of pods, the garbage collector's, decodes each event's metadata and nothing else).
#[derive(serde::Deserialize)]
struct MetadataOnly {
    #[serde(default)]
    metadata: Value,
}

/// The watch parameters of a request.
struct WatchParams {
    start: Start,
    wait_rev: Option<i64>,
    fresh: bool,
    bookmarks: bool,
    send_initial: bool,
    timeout: Duration,
}

fn watch_params(query: &Query) -> ApiResult<WatchParams> {
    let rv = query.str("resourceVersion");
    let rv_match = query.str("resourceVersionMatch");
    let send_initial = query.get("sendInitialEvents").map(|v| matches!(v, "true" | "1"));
    let bookmarks = query.flag("allowWatchBookmarks");
    let mut errs = ErrorList::new();
    if let Some(si) = send_initial {
        if rv_match != "NotOlderThan" {
            errs.push(FieldError::forbidden(
                "resourceVersionMatch",
                "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            ));
        }
        if si && !bookmarks {
            errs.push(FieldError::forbidden("allowWatchBookmarks", "allowWatchBookmarks required when sendInitialEvents is true"));
        }
    } else if !rv_match.is_empty() {
        errs.push(FieldError::forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"));
    }
    if !errs.is_empty() {
        return Err(ApiError::invalid("meta.k8s.io", "ListOptions", "", &errs));
    }
    let parsed = match rv {
        "" => None,
        s => Some(s.parse::<i64>().map_err(|_| ApiError::bad_request(format!("invalid resource version: {s:?}")))?),
    };
    let timeout = match query.int("timeoutSeconds").map_err(|v| ApiError::bad_request(format!("invalid timeoutSeconds: {v:?}")))? {
        Some(t) if t > 0 => Duration::from_secs(t as u64),
        _ => Duration::from_secs(1800 + rand::random_range(0..1800)),
    };
    let send_initial = send_initial.unwrap_or(false);
    let (start, wait_rev, fresh) = match (send_initial, parsed) {
        (true, None) => (Start::Current, None, true),
        (true, Some(0)) => (Start::Current, None, false),
        (true, Some(n)) => (Start::Current, Some(n), false),
        (false, None) => (Start::Current, None, true),
        (false, Some(0)) => (Start::Current, None, false),
        (false, Some(n)) => (Start::After(n), Some(n), false),
    };
    Ok(WatchParams { start, wait_rev, fresh, bookmarks, send_initial, timeout })
}

/// How often idle watches get a bookmark.
pub const BOOKMARK_INTERVAL: Duration = Duration::from_secs(30);

async fn watch(api: &Arc<Api>, res: &Arc<Resource>, ns: &str, query: &Query, accept: Option<&str>) -> ApiResult<Response<Body>> {
    let output = negotiate(accept, true)?;
    let include = IncludeObject::parse(query.get("includeObject"))?;
    let filter = parse_filter(res, ns, query)?;
    let params = watch_params(query)?;
    let cache = api.caches.cache(res).ok_or_else(|| ApiError::internal("no cache"))?;
    if params.fresh {
        api.caches.wait_fresh().await?;
    }
    if let Some(rev) = params.wait_rev {
        api.caches.wait_for(rev, Duration::from_secs(3)).await?;
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(16);
    let mut encoder = WatchEncoder { res: res.clone(), output, include, headers_sent: false };
    match cache.watch(filter, params.start) {
        Err(e) => {
            // upstream's watch cache answers a too-old resourceVersion with an ERROR event
            let _ = tx.try_send(Ok(Frame::data(watch_event("ERROR", &serde_json::to_vec(&e.to_status()).unwrap_or_default()))));
            drop(tx);
        }
        Ok(mut reg) => {
            let res = res.clone();
            let cache = cache.clone();
            tokio::spawn(async move {
                let deadline = tokio::time::sleep(params.timeout);
                tokio::pin!(deadline);
                let mut last_rv = reg.rv;
                let mut ok = true;
                for msg in std::mem::take(&mut reg.initial) {
                    last_rv = last_rv.max(msg.obj.rv);
                    if tx.send(Ok(Frame::data(encoder.encode(&msg)))).await.is_err() {
                        ok = false;
                        break;
                    }
                }
                if ok && params.send_initial {
                    ok = tx.send(Ok(Frame::data(bookmark(&res, reg.rv, true)))).await.is_ok();
                }
                let mut tick = tokio::time::interval(BOOKMARK_INTERVAL);
                tick.tick().await;
                while ok {
                    tokio::select! {
                        m = reg.rx.recv() => match m {
                            Some(msg) => {
                                last_rv = last_rv.max(msg.obj.rv);
                                ok = tx.send(Ok(Frame::data(encoder.encode(&msg)))).await.is_ok();
                            }
                            None => break,
                        },
                        _ = tick.tick(), if params.bookmarks => {
                            let rv = cache.rv();
                            if rv > last_rv {
                                last_rv = rv;
                                ok = tx.send(Ok(Frame::data(bookmark(&res, rv, false)))).await.is_ok();
                            }
                        }
                        _ = &mut deadline => break,
                        _ = tx.closed() => break,
                    }
                }
                cache.unwatch(reg.id);
            });
        }
    }
    let stream = tokio_stream_from(rx);
    let body = StreamBody::new(stream).boxed();
    let mut r = Response::new(body);
    let ct = match output {
        Output::Yaml => "application/yaml;stream=watch",
        _ => "application/json",
    };
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    Ok(r)
}

pub(crate) fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<Frame<Bytes>, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Frame<Bytes>, std::io::Error>> + Send + Sync + 'static {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// How unknown and duplicate fields in a body are handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldValidation {
    /// Dropped silently.
    Ignore,
    /// Dropped with a warning.
    Warn,
    /// Rejected with 400.
    Strict,
}

/// Parses `fieldValidation` (default Warn, as upstream).
pub fn field_validation(query: &Query) -> ApiResult<FieldValidation> {
    match query.str("fieldValidation") {
        "" | "Warn" => Ok(FieldValidation::Warn),
        "Ignore" => Ok(FieldValidation::Ignore),
        "Strict" => Ok(FieldValidation::Strict),
        other => Err(ApiError::bad_request(format!(
            "fieldValidation parameter unsupported: {other}. Valid values are Strict, Warn, Ignore"
        ))),
    }
}

/// The write options of a request: `dryRun` and the field manager (`fieldManager`, or the
/// user agent's product name as upstream defaults it).
pub fn write_options(query: &Query, headers: &HeaderMap) -> ApiResult<WriteOptions> {
    let manager = match query.get("fieldManager") {
        Some(m) => m.to_string(),
        None => headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.split('/').next().unwrap_or("").to_string())
            .unwrap_or_default(),
    };
    let mut errs = ErrorList::new();
    if manager.chars().count() > 128 {
        errs.push(FieldError::too_long("fieldManager", 128));
    }
    if manager.chars().any(|c| c.is_control()) {
        errs.push(FieldError::invalid("fieldManager", manager.as_str(), "must be made of printable characters"));
    }
    if !errs.is_empty() {
        return Err(ApiError::invalid("meta.k8s.io", "CreateOptions", "", &errs));
    }
    Ok(WriteOptions { dry_run: dry_run(query)?, field_manager: manager, ..Default::default() })
}

/// Parses `dryRun`.
pub fn dry_run(query: &Query) -> ApiResult<bool> {
    match query.get("dryRun") {
        None | Some("") => Ok(false),
        Some("All") => Ok(true),
        Some(other) => {
            let mut errs = ErrorList::new();
            errs.push(FieldError::not_supported("dryRun", other, &["All"]));
            Err(ApiError::invalid("meta.k8s.io", "CreateOptions", "", &errs))
        }
    }
}

/// Decodes a request body into an object of the resource, enforcing apiVersion/kind and field
/// validation. Returns the object and warnings.
pub fn decode_object(res: &Resource, headers: &HeaderMap, body: &[u8], validation: FieldValidation) -> ApiResult<(Box<dyn Object>, Vec<String>)> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let api_version = res.info.api_version();
    let is_json = ct.is_none_or(|c| c.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json"));
    let (mut value, duplicates) = if is_json {
        codec::decode_json_checked(body)?
    } else {
        (codec::decode_body_as(ct, body, Some((&api_version, &res.info.kind)))?, Vec::new())
    };
    if !duplicates.is_empty() {
        let list: Vec<String> = duplicates.iter().map(|p| format!("duplicate field {p:?}")).collect();
        match validation {
            FieldValidation::Strict => {
                // upstream reports duplicates and unknown fields together; unknown ones are found
                // while decoding, so decode first to collect them
                let (_, unknown) = decode_value(res, &mut value.clone(), FieldValidation::Warn)?;
                let mut all: Vec<String> = unknown;
                all.extend(list);
                return Err(ApiError::bad_request(format!("strict decoding error: {}", all.join(", "))));
            }
            FieldValidation::Warn => {
                let (obj, mut warnings) = decode_value(res, &mut value, validation)?;
                warnings.extend(list);
                return Ok((obj, warnings));
            }
            FieldValidation::Ignore => {}
        }
    }
    decode_value(res, &mut value, validation)
}

/// Decodes a JSON value into an object of the resource (see [`decode_object`]).
pub fn decode_value(res: &Resource, value: &mut Value, validation: FieldValidation) -> ApiResult<(Box<dyn Object>, Vec<String>)> {
    let info = &res.info;
    let Some(map) = value.as_object_mut() else {
        return Err(ApiError::bad_request(format!(
            "the object provided is unrecognized (must be of type {}): couldn't get version/kind; json parse error: expected an object",
            info.kind
        )));
    };
    let expected = info.api_version();
    match map.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("apiVersion".into(), Value::String(expected.clone()));
        }
        Some(v) if v != expected => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({expected})"
            )));
        }
        _ => {}
    }
    match map.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("kind".into(), Value::String(info.kind.clone()));
        }
        Some(k) if k != info.kind => {
            return Err(ApiError::bad_request(format!(
                "the object provided is unrecognized (must be of type {}): {k} is not a {}",
                info.kind, info.kind
            )));
        }
        _ => {}
    }
    let mut unknown = Vec::new();
    let cannot = |e: String| {
        ApiError::bad_request(format!("{} in version \"{}\" cannot be handled as a {}: {e}", info.kind, info.version, info.kind))
    };
    let obj = match &res.version {
        None => res.strategy.decode(value.take(), &mut unknown).map_err(cannot)?,
        Some(v) => {
            let mut served = v.decoder.decode(value.take(), &mut unknown).map_err(cannot)?;
            v.decoder.defaults(served.as_mut());
            let served = served.to_value().map_err(ApiError::internal)?;
            let stored = (v.to_storage)(served).map_err(cannot)?;
            let mut ignored = Vec::new();
            res.strategy.decode(stored, &mut ignored).map_err(cannot)?
        }
    };
    let mut warnings = Vec::new();
    if !unknown.is_empty() {
        match validation {
            FieldValidation::Ignore => {}
            FieldValidation::Warn => warnings.extend(unknown.iter().map(|p| format!("unknown field {p:?}"))),
            FieldValidation::Strict => {
                let list: Vec<String> = unknown.iter().map(|p| format!("unknown field {p:?}")).collect();
                return Err(ApiError::bad_request(format!("strict decoding error: {}", list.join(", "))));
            }
        }
    }
    let mut obj = obj;
    res.strategy.defaults(obj.as_mut());
    Ok((obj, warnings))
}

async fn create(api: &Arc<Api>, res: &Arc<Resource>, ns: &str, query: &Query, headers: &HeaderMap, body: Incoming) -> ApiResult<Response<Body>> {
    let output = negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()), false)?;
    let validation = field_validation(query)?;
    let opts = write_options(query, headers)?;
    let bytes = response::read_body(body, MAX_BODY).await?;
    let (obj, mut warnings) = decode_object(res, headers, &bytes, validation)?;
    warnings.extend(res.strategy.warnings(obj.as_ref()));
    let json = store::create(api, res, ns, obj, &opts).await?;
    Ok(respond(StatusCode::CREATED, encode_written(res, json, output)?, &warnings))
}

pub(crate) fn encode_written(res: &Resource, json: Bytes, output: Output) -> ApiResult<(Bytes, &'static str)> {
    encode_written_list(res.served_json(&json).map_err(ApiError::internal)?, output)
}

#[allow(clippy::too_many_arguments)]
async fn update(api: &Arc<Api>, res: &Arc<Resource>, ns: &str, name: &str, part: Part, query: &Query, headers: &HeaderMap, body: Incoming) -> ApiResult<Response<Body>> {
    let output = negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()), false)?;
    let validation = field_validation(query)?;
    let opts = write_options(query, headers)?;
    let bytes = response::read_body(body, MAX_BODY).await?;
    let (obj, mut warnings) = decode_object(res, headers, &bytes, validation)?;
    warnings.extend(res.strategy.warnings(obj.as_ref()));
    let (json, created) = store::update(api, res, ns, name, obj, part, &opts).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(respond(status, encode_written(res, json, output)?, &warnings))
}

fn encode_written_list(json: Bytes, output: Output) -> ApiResult<(Bytes, &'static str)> {
    match output {
        Output::Yaml => {
            let v: Value = serde_json::from_slice(&json).map_err(ApiError::internal)?;
            Ok((Bytes::from(codec::to_yaml(&v)), "application/yaml"))
        }
        _ => Ok((json, "application/json")),
    }
}

/// Reads delete options from the body (a `DeleteOptions` object) and the query.
async fn delete_options(query: &Query, headers: &HeaderMap, body: Incoming) -> ApiResult<DeleteOptions> {
    let bytes = response::read_body(body, MAX_BODY).await?;
    let mut opts = if bytes.iter().all(u8::is_ascii_whitespace) {
        DeleteOptions::default()
    } else {
        let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let v = codec::decode_body(ct, &bytes)?;
        serde_json::from_value::<DeleteOptions>(v).map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
    };
    if let Some(g) = query.int("gracePeriodSeconds").map_err(|v| ApiError::bad_request(format!("invalid gracePeriodSeconds: {v:?}")))? {
        opts.grace_period_seconds = Some(g);
    }
    if let Some(p) = query.get("propagationPolicy") {
        opts.propagation_policy = Some(p.to_string());
    }
    if let Some(o) = query.get("orphanDependents") {
        opts.orphan_dependents = Some(matches!(o, "true" | "1"));
    }
    if let Some(d) = query.get("dryRun") {
        opts.dry_run = vec![d.to_string()];
    }
    store::validate_delete_options(&opts)?;
    Ok(opts)
}

async fn delete(api: &Arc<Api>, res: &Arc<Resource>, ns: &str, name: &str, query: &Query, headers: &HeaderMap, body: Incoming) -> ApiResult<Response<Body>> {
    let output = negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()), false)?;
    let opts = delete_options(query, headers, body).await?;
    match store::delete(api, res, ns, name, &opts).await? {
        Deleted::Marked(json) => Ok(respond(StatusCode::OK, encode_written(res, json, output)?, &[])),
        Deleted::Gone(json, obj) => {
            if res.strategy.return_deleted_object() {
                Ok(respond(StatusCode::OK, encode_written(res, json, output)?, &[]))
            } else {
                let uid = obj.meta().uid.clone().unwrap_or_default();
                let status = apimachinery::status::success_status(name, &res.info.group, &res.info.plural, &uid);
                Ok(response::json(StatusCode::OK, serde_json::to_vec(&status).unwrap_or_default()))
            }
        }
    }
}

async fn delete_collection(api: &Arc<Api>, res: &Arc<Resource>, ns: &str, query: &Query, headers: &HeaderMap, body: Incoming) -> ApiResult<Response<Body>> {
    let output = negotiate(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()), false)?;
    let filter = parse_filter(res, ns, query)?;
    let opts = delete_options(query, headers, body).await?;
    let listed = store::list(api, res, &ListOptions { filter, ..Default::default() }).await?;
    let mut deleted = Vec::new();
    for item in &listed.items {
        match store::delete(api, res, &item.namespace, &item.name, &opts).await {
            Ok(Deleted::Gone(json, _)) | Ok(Deleted::Marked(json)) => deleted.push(res.served_json(&json).map_err(ApiError::internal)?),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    let rv = api.caches.published.get();
    let mut out = format!(
        "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",\"metadata\":{{\"resourceVersion\":\"{rv}\"}},\"items\":[",
        res.info.list_kind(),
        res.info.api_version()
    )
    .into_bytes();
    for (i, j) in deleted.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(j);
    }
    out.extend_from_slice(b"]}");
    Ok(respond(StatusCode::OK, encode_written_list(Bytes::from(out), output)?, &[]))
}
