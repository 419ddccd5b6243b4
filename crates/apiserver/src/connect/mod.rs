//! The connect subresources, where the apiserver is a client of a node's kubelet:
//! `pods/log` (streamed), `pods/exec`, `pods/attach`, `pods/portforward` (HTTP upgrades to SPDY
//! or WebSocket, proxied byte for byte) and `nodes/proxy` (any path of the kubelet API).
//!
//! The kubelet is dialed at the node's first address (InternalIP, then Hostname, then
//! ExternalIP) and `status.daemonEndpoints.kubeletEndpoint.Port`, over TLS that verifies the
//! kubelet's serving certificate against the cluster CA and the dialed address (upstream does
//! not verify by default; ferrokube does), presenting the apiserver's kubelet client
//! certificate (`kube-apiserver-kubelet-client`).
//!
//! SPDY clients and WebSocket clients of `v1`–`v4.channel.k8s.io` are proxied byte for byte
//! (the runtime's stream server speaks those). WebSocket `v5.channel.k8s.io` (stream close)
//! and port-forward's `SPDY/3.1+portforward.k8s.io` tunnel, which kubectl 1.31+ offers first,
//! are translated here to SPDY towards the kubelet ([`translate`]). A WebSocket `GET` of
//! exec, attach or port-forward also needs `create` on the subresource (upstream 1.35's
//! compound check, on by default here), so read-only `get` never grants a shell.
//! A refused upgrade reaches the client as the kubelet's (or runtime's) non-101 answer.

mod spdy;
mod translate;
mod websocket;

use std::net::IpAddr;
use std::sync::Arc;

use apimachinery::status::Reason;
use apimachinery::{ApiError, ApiResult, ErrorList, FieldError};
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1 as core;
use rustls::pki_types::ServerName;

use crate::Api;
use crate::request::{RequestInfo, pairs};
use crate::response::{self, Body};

/// Whether a request is one of the subresources this module serves.
pub fn handles(info: &RequestInfo) -> bool {
    info.group.is_empty()
        && matches!((info.resource.as_str(), info.subresource.as_str()), ("pods", "log" | "exec" | "attach" | "portforward") | ("nodes", "proxy"))
}

/// Serves a connect subresource.
pub async fn handle(api: &Arc<Api>, info: &RequestInfo, req: Request<Incoming>) -> Response<Body> {
    match dispatch(api, info, req).await {
        Ok(r) => r,
        Err(e) => response::error(&e),
    }
}

async fn dispatch(api: &Arc<Api>, info: &RequestInfo, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let query = pairs(req.uri().query());
    let method = req.method().clone();
    let getish = method == http::Method::GET || method == http::Method::HEAD;
    match (info.resource.as_str(), info.subresource.as_str()) {
        ("pods", "log") if getish => logs(api, &info.namespace, &info.name, &query).await,
        ("pods", "exec" | "attach" | "portforward") if getish || method == http::Method::POST => stream(api, info, &query, req).await,
        ("nodes", "proxy") => node_proxy(api, &info.name, req).await,
        _ => Err(ApiError::method_not_allowed("", &format!("{}/{}", info.resource, info.subresource), &info.verb)),
    }
}

fn first<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

fn all<'a>(q: &'a [(String, String)], k: &str) -> Vec<&'a str> {
    q.iter().filter(|(n, _)| n == k).map(|(_, v)| v.as_str()).collect()
}

/// A boolean query parameter as Go's `strconv.ParseBool` reads it.
fn boolean(q: &[(String, String)], k: &str, kind: &str) -> ApiResult<bool> {
    match first(q, k) {
        None | Some("") => Ok(false),
        Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
        Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
        Some(v) => Err(ApiError::bad_request(format!("{kind} in version \"v1\" cannot be handled as a {kind}: strconv.ParseBool: parsing {v:?}: invalid syntax"))),
    }
}

fn integer(q: &[(String, String)], k: &str, kind: &str) -> ApiResult<Option<i64>> {
    match first(q, k) {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("{kind} in version \"v1\" cannot be handled as a {kind}: strconv.ParseInt: parsing {v:?}: invalid syntax"))),
    }
}

async fn pod(api: &Arc<Api>, ns: &str, name: &str) -> ApiResult<core::Pod> {
    let res = api.resource("", "v1", "pods").ok_or_else(|| ApiError::internal("pods are not served"))?;
    let (obj, _) = crate::store::read(api, &res, &res.key(ns, name)).await?.ok_or_else(|| ApiError::not_found("", "pods", name))?;
    obj.as_any().downcast_ref::<core::Pod>().cloned().ok_or_else(|| ApiError::internal("stored pod is not a Pod"))
}

async fn node(api: &Arc<Api>, name: &str) -> ApiResult<core::Node> {
    let res = api.resource("", "v1", "nodes").ok_or_else(|| ApiError::internal("nodes are not served"))?;
    let (obj, _) = crate::store::read(api, &res, &res.key("", name)).await?.ok_or_else(|| ApiError::not_found("", "nodes", name))?;
    obj.as_any().downcast_ref::<core::Node>().cloned().ok_or_else(|| ApiError::internal("stored node is not a Node"))
}

fn has_container(pod: &core::Pod, name: &str) -> bool {
    let Some(spec) = &pod.spec else { return false };
    spec.containers.iter().any(|c| c.name == name)
        || spec.init_containers.iter().flatten().any(|c| c.name == name)
        || spec.ephemeral_containers.iter().flatten().any(|c| c.name == name)
}

/// The container a request addresses: the one named, or the pod's only container (upstream's
/// texts otherwise).
fn container(pod: &core::Pod, name: &str, wanted: &str) -> ApiResult<String> {
    if !wanted.is_empty() {
        if !has_container(pod, wanted) {
            return Err(ApiError::bad_request(format!("container {wanted} is not valid for pod {name}")));
        }
        return Ok(wanted.to_string());
    }
    let spec = pod.spec.as_ref();
    let containers: Vec<&str> = spec.map(|s| s.containers.iter().map(|c| c.name.as_str()).collect()).unwrap_or_default();
    match containers.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(ApiError::bad_request(format!("a container name must be specified for pod {name}"))),
        many => {
            let mut msg = format!("a container name must be specified for pod {name}, choose one of: [{}]", many.join(" "));
            let init: Vec<&str> = spec.and_then(|s| s.init_containers.as_ref()).map(|v| v.iter().map(|c| c.name.as_str()).collect()).unwrap_or_default();
            if !init.is_empty() {
                msg.push_str(&format!(" or one of the init containers: [{}]", init.join(" ")));
            }
            Err(ApiError::bad_request(msg))
        }
    }
}

/// Where a node's kubelet listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeletAddress {
    /// The IP address or host name dialed, and verified in the serving certificate.
    pub host: String,
    /// The kubelet's port.
    pub port: u16,
}

/// The kubelet of `node`: its first address by type preference, and its port (10250 when the
/// node reports none).
pub fn kubelet_address(node: &core::Node) -> ApiResult<KubeletAddress> {
    let status = node.status.as_ref();
    let addresses = status.and_then(|s| s.addresses.clone()).unwrap_or_default();
    let host = ["InternalIP", "Hostname", "ExternalIP", "InternalDNS", "ExternalDNS"]
        .iter()
        .find_map(|t| addresses.iter().find(|a| a.type_ == *t && !a.address.is_empty()))
        .map(|a| a.address.clone())
        .ok_or_else(|| {
            let known: Vec<String> = addresses.iter().map(|a| format!("{{{} {}}}", a.type_, a.address)).collect();
            ApiError::new(500, Reason::InternalError, format!("no preferred addresses found; known addresses: [{}]", known.join(" ")))
        })?;
    let port = status
        .and_then(|s| s.daemon_endpoints.as_ref())
        .and_then(|d| d.kubelet_endpoint.as_ref())
        .map(|e| e.port)
        .filter(|p| *p > 0 && *p <= 65535)
        .unwrap_or(10250) as u16;
    Ok(KubeletAddress { host, port })
}

fn tls_client(api: &Api) -> ApiResult<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in pki::certs_from_pem(&api.config.client_ca).map_err(ApiError::internal)? {
        roots.add(c).map_err(ApiError::internal)?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(ApiError::internal)?
        .with_root_certificates(roots);
    let mut cfg = match &api.config.kubelet_client {
        Some(pair) => builder
            .with_client_auth_cert(pki::certs_from_pem(&pair.cert_pem).map_err(ApiError::internal)?, pki::key_from_pem(&pair.key_pem).map_err(ApiError::internal)?)
            .map_err(ApiError::internal)?,
        None => builder.with_no_client_auth(),
    };
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}

type KubeletStream = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

/// A TLS connection to a kubelet; errors read as Go's for the same failure.
async fn dial(api: &Api, to: &KubeletAddress, url: &str) -> ApiResult<KubeletStream> {
    let fail = |e: &dyn std::fmt::Display| ApiError::new(500, Reason::InternalError, format!("Get {url:?}: {e}"));
    let server_name = match to.host.parse::<IpAddr>() {
        Ok(ip) => ServerName::IpAddress(ip.into()),
        Err(_) => ServerName::try_from(to.host.clone()).map_err(|e| fail(&e))?,
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(tls_client(api)?));
    let addr = authority(to);
    let tcp = tokio::time::timeout(std::time::Duration::from_secs(30), tokio::net::TcpStream::connect(&addr))
        .await
        .map_err(|_| fail(&format_args!("dial tcp {addr}: i/o timeout")))?
        .map_err(|e| fail(&format_args!("dial tcp {addr}: {e}")))?;
    let _ = tcp.set_nodelay(true);
    connector.connect(server_name, tcp).await.map_err(|e| fail(&format_args!("tls: failed to verify the kubelet at {addr}: {e}")))
}

fn url_of(to: &KubeletAddress, path_and_query: &str) -> String {
    let host = if to.host.contains(':') { format!("[{}]", to.host) } else { to.host.clone() };
    format!("https://{host}:{}{path_and_query}", to.port)
}

/// Encodes a query value as Go's `url.Values.Encode` does.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn query_string(params: &[(&str, String)]) -> String {
    let mut sorted: Vec<&(&str, String)> = params.iter().collect();
    sorted.sort_by_key(|(k, _)| *k);
    let q: Vec<String> = sorted.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    if q.is_empty() { String::new() } else { format!("?{}", q.join("&")) }
}

/// Headers that concern only the hop to us: credentials and connection management (the
/// upgrade itself is kept).
const HOP: &[&str] = &["authorization", "proxy-authorization", "host", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding"];

fn strip(headers: &http::HeaderMap, out: &mut http::HeaderMap, host: &str) {
    for (k, v) in headers {
        let n = k.as_str();
        if HOP.contains(&n) || n.starts_with("impersonate-") {
            continue;
        }
        out.append(k.clone(), v.clone());
    }
    if let Ok(h) = HeaderValue::from_str(host) {
        out.insert(header::HOST, h);
    }
}

/// Sends a request to the kubelet; with `client_upgrade`, an answer of 101 joins the client's
/// connection to the kubelet's.
async fn forward(api: &Api, to: &KubeletAddress, req: Request<Incoming>, path_and_query: &str, with_body: bool) -> ApiResult<Response<Body>> {
    let url = url_of(to, path_and_query);
    let mut sender = connection(api, to, &url, "Get").await?;
    let (mut parts, body) = req.into_parts();
    let on_upgrade = parts.extensions.remove::<hyper::upgrade::OnUpgrade>();
    let body: Body = if with_body { body.map_err(std::io::Error::other).boxed() } else { Empty::<Bytes>::new().map_err(|never| match never {}).boxed() };
    let mut out = Request::builder().method(parts.method.clone()).uri(path_and_query).body(body).map_err(ApiError::internal)?;
    strip(&parts.headers, out.headers_mut(), &authority(to));
    let mut resp = sender.send_request(out).await.map_err(|e| ApiError::new(500, Reason::InternalError, format!("Get {url:?}: {e}")))?;
    if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
        let (parts, body) = resp.into_parts();
        return Ok(Response::from_parts(parts, body.map_err(std::io::Error::other).boxed()));
    }
    let Some(on_upgrade) = on_upgrade else {
        // the client did not ask for an upgrade over a connection that can do one (HTTP/2)
        return Err(ApiError::bad_request("Upgrade request required"));
    };
    let kubelet_upgrade = hyper::upgrade::on(&mut resp);
    tokio::spawn(async move {
        match tokio::join!(on_upgrade, kubelet_upgrade) {
            (Ok(c), Ok(k)) => {
                let (mut c, mut k) = (TokioIo::new(c), TokioIo::new(k));
                if let Err(e) = tokio::io::copy_bidirectional(&mut c, &mut k).await {
                    tracing::debug!(error = %e, "proxied stream ended");
                }
            }
            (c, k) => tracing::debug!(client = ?c.err(), kubelet = ?k.err(), "upgrade failed"),
        }
    });
    Ok(switching(resp.headers().clone()))
}

/// `host:port` of the kubelet (brackets around an IPv6 address).
fn authority(to: &KubeletAddress) -> String {
    if to.host.contains(':') { format!("[{}]:{}", to.host, to.port) } else { format!("{}:{}", to.host, to.port) }
}

/// An HTTP/1.1 connection to the kubelet that can be upgraded; errors read as Go's client's
/// for `method url`.
async fn connection(api: &Api, to: &KubeletAddress, url: &str, method: &str) -> ApiResult<hyper::client::conn::http1::SendRequest<Body>> {
    let tls = dial(api, to, url).await?;
    let (sender, conn) = hyper::client::conn::http1::handshake::<_, Body>(TokioIo::new(tls))
        .await
        .map_err(|e| ApiError::new(500, Reason::InternalError, format!("{method} {url:?}: {e}")))?;
    tokio::spawn(async move {
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!(error = %e, "kubelet connection ended");
        }
    });
    Ok(sender)
}

/// Upgrades a new connection to the kubelet to SPDY/3.1 with the streaming `protocol`
/// (`v4.channel.k8s.io`, `portforward.k8s.io`); a refusal is the kubelet's answer as an error.
async fn upgrade_to_spdy(api: &Api, to: &KubeletAddress, path_and_query: &str, protocol: &str) -> ApiResult<TokioIo<hyper::upgrade::Upgraded>> {
    let url = url_of(to, path_and_query);
    let mut sender = connection(api, to, &url, "Post").await?;
    let req = Request::builder()
        .method(http::Method::POST)
        .uri(path_and_query)
        .header(header::HOST, authority(to))
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "SPDY/3.1")
        .header("X-Stream-Protocol-Version", protocol)
        .body(Empty::<Bytes>::new().map_err(|never| match never {}).boxed())
        .map_err(ApiError::internal)?;
    let mut resp = sender.send_request(req).await.map_err(|e| ApiError::new(500, Reason::InternalError, format!("Post {url:?}: {e}")))?;
    if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
        let status = resp.status();
        let body = http_body_util::Limited::new(resp.into_body(), 64 * 1024).collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        return Err(translate::refused(status, &body));
    }
    let upgraded = hyper::upgrade::on(&mut resp).await.map_err(|e| ApiError::internal(format_args!("unable to upgrade connection: {e}")))?;
    Ok(TokioIo::new(upgraded))
}

/// A `101 Switching Protocols` answer with `headers`.
fn switching(headers: http::HeaderMap) -> Response<Body> {
    let mut back = Response::new(Empty::<Bytes>::new().map_err(|never| match never {}).boxed());
    *back.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    *back.headers_mut() = headers;
    back
}

/// The WebSocket protocols translated here (v5 remote command, the port-forward tunnel):
/// handled when offered, else `None` and the request is proxied as it is.
async fn websocket_bridge(
    api: &Arc<Api>,
    info: &RequestInfo,
    to: &KubeletAddress,
    path_and_query: &str,
    streams: translate::Streams,
    req: Request<Incoming>,
) -> Result<ApiResult<Response<Body>>, Request<Incoming>> {
    if !websocket::is_upgrade(req.headers()) {
        return Err(req);
    }
    let offered = websocket::offered_protocols(req.headers());
    let port_forward = info.subresource == "portforward";
    let wanted = if port_forward { translate::TUNNEL } else { translate::V5 };
    if !offered.iter().any(|p| p == wanted) {
        return Err(req);
    }
    let headers = match websocket::handshake(req.headers(), wanted) {
        Ok(h) => h,
        Err(e) => return Ok(Err(ApiError::bad_request(e))),
    };
    let (mut parts, _) = req.into_parts();
    let Some(on_upgrade) = parts.extensions.remove::<hyper::upgrade::OnUpgrade>() else {
        return Ok(Err(ApiError::bad_request("Upgrade request required")));
    };
    if port_forward {
        // the kubelet first: a refusal is still an HTTP answer the client can fall back on
        let kubelet = match upgrade_to_spdy(api, to, path_and_query, translate::PORT_FORWARD).await {
            Ok(k) => k,
            Err(e) => return Ok(Err(e)),
        };
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(client) => translate::tunnel(TokioIo::new(client), kubelet).await,
                Err(e) => tracing::debug!(error = %e, "port-forward client upgrade failed"),
            }
        });
    } else {
        let (api, to, pq) = (api.clone(), to.clone(), path_and_query.to_string());
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(client) => translate::remote_command(TokioIo::new(client), async move { upgrade_to_spdy(&api, &to, &pq, translate::V4).await }, streams).await,
                Err(e) => tracing::debug!(error = %e, "exec client upgrade failed"),
            }
        });
    }
    Ok(Ok(switching(headers)))
}

/// A WebSocket `GET` of exec, attach or port-forward is authorized as `get`; it must also be
/// allowed to `create` the subresource, as a `POST` (SPDY) is.
fn authorize_create(api: &Api, info: &RequestInfo) -> ApiResult<()> {
    let user = crate::context::user();
    let mut attrs = crate::auth::authz::Attributes::resource(info);
    attrs.verb = "create".into();
    match crate::auth::authz::authorize(api, &user, &attrs) {
        crate::auth::authz::Decision::Allow(_) => Ok(()),
        crate::auth::authz::Decision::Deny(reason) | crate::auth::authz::Decision::NoOpinion(reason) => Err(crate::auth::authz::forbidden(&user, &attrs, &reason)),
    }
}

/// `GET pods/<name>/log`: validated as upstream, then streamed from the kubelet.
async fn logs(api: &Arc<Api>, ns: &str, name: &str, q: &[(String, String)]) -> ApiResult<Response<Body>> {
    const KIND: &str = "PodLogOptions";
    let follow = boolean(q, "follow", KIND)?;
    let previous = boolean(q, "previous", KIND)?;
    let timestamps = boolean(q, "timestamps", KIND)?;
    let tail_lines = integer(q, "tailLines", KIND)?;
    let limit_bytes = integer(q, "limitBytes", KIND)?;
    let since_seconds = integer(q, "sinceSeconds", KIND)?;
    let since_time = match first(q, "sinceTime") {
        None | Some("") => None,
        Some(t) => Some(t.parse::<jiff::Timestamp>().map_err(|e| ApiError::bad_request(format!("{KIND} in version \"v1\" cannot be handled as a {KIND}: parsing time {t:?}: {e}")))?),
    };
    let mut errs = ErrorList::new();
    if let Some(n) = tail_lines.filter(|n| *n < 0) {
        errs.push(FieldError::invalid("tailLines", n, "must be greater than or equal to 0"));
    }
    if let Some(n) = limit_bytes.filter(|n| *n < 1) {
        errs.push(FieldError::invalid("limitBytes", n, "must be greater than 0"));
    }
    if since_seconds.is_some() && since_time.is_some() {
        errs.push(FieldError::forbidden("", "at most one of `sinceTime` or `sinceSeconds` may be specified"));
    }
    if let Some(n) = since_seconds.filter(|n| *n < 1) {
        errs.push(FieldError::invalid("sinceSeconds", n, "must be greater than 0"));
    }
    if !errs.is_empty() {
        return Err(ApiError::invalid("", KIND, name, &errs));
    }
    let pod = pod(api, ns, name).await?;
    let container = container(&pod, name, first(q, "container").unwrap_or(""))?;
    let node_name = pod.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default();
    if node_name.is_empty() {
        // upstream: no host yet, no logs (an empty answer)
        return Ok(response::with_type(StatusCode::OK, Bytes::new(), "text/plain"));
    }
    let to = kubelet_address(&node(api, &node_name).await?)?;
    let mut params: Vec<(&str, String)> = Vec::new();
    if follow {
        params.push(("follow", "true".into()));
    }
    if previous {
        params.push(("previous", "true".into()));
    }
    if timestamps {
        params.push(("timestamps", "true".into()));
    }
    if let Some(n) = since_seconds {
        params.push(("sinceSeconds", n.to_string()));
    }
    if let Some(t) = since_time {
        params.push(("sinceTime", t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()));
    }
    if let Some(n) = tail_lines {
        params.push(("tailLines", n.to_string()));
    }
    if let Some(n) = limit_bytes {
        params.push(("limitBytes", n.to_string()));
    }
    let path = format!("/containerLogs/{}/{}/{}{}", encode(ns), encode(name), encode(&container), query_string(&params));
    let url = url_of(&to, &path);
    let tls = dial(api, &to, &url).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(tls))
        .await
        .map_err(|e| ApiError::new(500, Reason::InternalError, format!("Get {url:?}: {e}")))?;
    tokio::spawn(conn);
    let mut out = Request::builder().method(http::Method::GET).uri(&path).body(Empty::new()).map_err(ApiError::internal)?;
    strip(&http::HeaderMap::new(), out.headers_mut(), &format!("{}:{}", to.host, to.port));
    let resp = sender.send_request(out).await.map_err(|e| ApiError::new(500, Reason::InternalError, format!("Get {url:?}: {e}")))?;
    let status = resp.status();
    if !(200..=206).contains(&status.as_u16()) {
        let body = http_body_util::Limited::new(resp.into_body(), 50_000).collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        return Err(kubelet_error(status, &String::from_utf8_lossy(&body), name));
    }
    let mut r = Response::new(resp.into_body().map_err(std::io::Error::other).boxed());
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(r)
}

/// A kubelet's error answer to a log request, as upstream's response checker turns it into a
/// Status.
fn kubelet_error(status: StatusCode, body: &str, name: &str) -> ApiError {
    let code = status.as_u16();
    match code {
        500 => ApiError::internal(body),
        400 => ApiError::bad_request(body),
        _ => {
            let (reason, message) = match code {
                404 => (Reason::NotFound, "the server could not find the requested resource".to_string()),
                401 => (Reason::Unauthorized, "the server has asked for the client to provide credentials".to_string()),
                403 => (Reason::Forbidden, body.to_string()),
                422 => (Reason::Invalid, "the server rejected our request due to an error in our request".to_string()),
                c if c >= 500 => (Reason::InternalError, format!("an error on the server ({body:?}) has prevented the request from succeeding")),
                c => (Reason::Unknown, format!("the server responded with the status code {c} but did not return more information")),
            };
            ApiError::new(code, reason, format!("{message} ( pods/log {name})")).with_details(name, "", "pods/log")
        }
    }
}

/// `pods/<name>/{exec,attach,portforward}`: the upgrade goes to the kubelet.
async fn stream(api: &Arc<Api>, info: &RequestInfo, q: &[(String, String)], req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let (ns, name) = (info.namespace.as_str(), info.name.as_str());
    let pod = pod(api, ns, name).await?;
    let sub = info.subresource.as_str();
    let mut params: Vec<(&str, String)> = Vec::new();
    let path = if sub == "portforward" {
        let mut ports = Vec::new();
        for p in all(q, "ports").into_iter().flat_map(|v| v.split(',')).map(str::trim).filter(|p| !p.is_empty()) {
            match p.parse::<u16>() {
                Ok(n) if n > 0 => ports.push(n.to_string()),
                _ => return Err(ApiError::bad_request(format!("PodPortForwardOptions in version \"v1\" cannot be handled as a PodPortForwardOptions: invalid port {p:?}"))),
            }
        }
        if !ports.is_empty() {
            params.push(("port", ports.join(",")));
        }
        let node_name = pod.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default();
        if node_name.is_empty() {
            return Err(ApiError::bad_request(format!("pod {name} does not have a host assigned")));
        }
        (node_name, format!("/portForward/{}/{}", encode(ns), encode(name)))
    } else {
        let kind = if sub == "exec" { "PodExecOptions" } else { "PodAttachOptions" };
        let container = container(&pod, name, first(q, "container").unwrap_or(""))?;
        let node_name = pod.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default();
        if node_name.is_empty() {
            return Err(ApiError::bad_request(format!("pod {name} does not have a host assigned")));
        }
        for (param, kubelet) in [("stdin", "input"), ("stdout", "output"), ("stderr", "error"), ("tty", "tty")] {
            if boolean(q, param, kind)? {
                params.push((kubelet, "1".into()));
            }
        }
        if sub == "exec" {
            for c in all(q, "command") {
                params.push(("command", c.to_string()));
            }
        }
        let segment = if sub == "exec" { "exec" } else { "attach" };
        (node_name, format!("/{segment}/{}/{}/{}", encode(ns), encode(name), encode(&container)))
    };
    let (node_name, path) = path;
    if req.method() == http::Method::GET {
        authorize_create(api, info)?;
    }
    let to = kubelet_address(&node(api, &node_name).await?)?;
    // sorted by key as Go's url.Values.Encode; the sort is stable, so commands keep their order
    let query = query_string(&params);
    let pq = format!("{path}{query}");
    let on = |k: &str| params.iter().any(|(p, _)| *p == k);
    let streams = translate::Streams { stdin: on("input"), stdout: on("output"), stderr: on("error"), tty: on("tty") };
    match websocket_bridge(api, info, &to, &pq, streams, req).await {
        Ok(answer) => answer,
        Err(req) => forward(api, &to, req, &pq, false).await,
    }
}

/// `nodes/<name>/proxy/<path>`: any request to the node's kubelet.
async fn node_proxy(api: &Arc<Api>, name: &str, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let (node_name, port) = match name.split_once(':') {
        Some((n, p)) => (n, Some(p.parse::<u16>().map_err(|_| ApiError::bad_request(format!("invalid port in node name {name:?}")))?)),
        None => (name, None),
    };
    let mut to = kubelet_address(&node(api, node_name).await?)?;
    if let Some(p) = port {
        to.port = p;
    }
    let full = req.uri().path();
    let marker = format!("/nodes/{name}/proxy");
    let rest = full.find(&marker).map(|i| &full[i + marker.len()..]).unwrap_or("");
    let rest = if rest.is_empty() { "/" } else { rest };
    let pq = match req.uri().query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_string(),
    };
    forward(api, &to, req, &pq, true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(addresses: &[(&str, &str)], port: i32) -> core::Node {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "n"},
            "status": {
                "addresses": addresses.iter().map(|(t, a)| serde_json::json!({"type": t, "address": a})).collect::<Vec<_>>(),
                "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
            }
        }))
        .unwrap()
    }

    #[test]
    fn kubelet_addresses_by_preference() {
        let n = node(&[("Hostname", "h"), ("ExternalIP", "1.2.3.4"), ("InternalIP", "10.0.0.1")], 12345);
        assert_eq!(kubelet_address(&n).unwrap(), KubeletAddress { host: "10.0.0.1".into(), port: 12345 });
        let n = node(&[("ExternalIP", "1.2.3.4"), ("Hostname", "h")], 0);
        assert_eq!(kubelet_address(&n).unwrap(), KubeletAddress { host: "h".into(), port: 10250 });
        let e = kubelet_address(&node(&[], 1)).unwrap_err();
        assert_eq!(e.message, "no preferred addresses found; known addresses: []");
    }

    fn pod(containers: &[&str], init: &[&str]) -> core::Pod {
        let c = |names: &[&str]| names.iter().map(|n| serde_json::json!({"name": n, "image": "i"})).collect::<Vec<_>>();
        serde_json::from_value(serde_json::json!({"metadata": {"name": "p"}, "spec": {"containers": c(containers), "initContainers": c(init)}})).unwrap()
    }

    #[test]
    fn container_defaulting_texts() {
        assert_eq!(container(&pod(&["a"], &[]), "p", "").unwrap(), "a");
        assert_eq!(container(&pod(&["a", "b"], &["i"]), "p", "i").unwrap(), "i");
        assert_eq!(container(&pod(&["a"], &[]), "p", "x").unwrap_err().message, "container x is not valid for pod p");
        assert_eq!(
            container(&pod(&["a", "b"], &[]), "p", "").unwrap_err().message,
            "a container name must be specified for pod p, choose one of: [a b]"
        );
        assert_eq!(
            container(&pod(&["a", "b"], &["i"]), "p", "").unwrap_err().message,
            "a container name must be specified for pod p, choose one of: [a b] or one of the init containers: [i]"
        );
    }

    #[test]
    fn query_encoding_as_go() {
        assert_eq!(encode("sh -c echo/$x"), "sh+-c+echo%2F%24x");
        assert_eq!(query_string(&[("tailLines", "3".into()), ("follow", "true".into())]), "?follow=true&tailLines=3");
        assert_eq!(query_string(&[]), "");
    }

    #[test]
    fn kubelet_errors_become_statuses() {
        let e = kubelet_error(StatusCode::BAD_REQUEST, "previous terminated container \"c\" in pod \"p\" not found", "p");
        assert_eq!((e.code, e.message.as_str()), (400, "previous terminated container \"c\" in pod \"p\" not found"));
        let e = kubelet_error(StatusCode::FORBIDDEN, "Forbidden (user=u, verb=get, resource=nodes, subresource=proxy)", "p");
        assert_eq!(e.code, 403);
        assert!(e.message.starts_with("Forbidden (user=u"));
        let e = kubelet_error(StatusCode::NOT_FOUND, "pod \"p\" does not exist", "p");
        assert_eq!(e.message, "the server could not find the requested resource ( pods/log p)");
    }
}
