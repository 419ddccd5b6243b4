//! HTTPS serving: TLS (rustls, client certificates verified against the cluster CA), HTTP/1.1
//! and HTTP/2, authentication of the peer, and routing of every path the API serves.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use apimachinery::ApiError;
use http::{Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::Api;
use crate::request::{self, Query};
use crate::response::{self, Body};
use crate::{discovery, handlers, openapi};

/// Who is making a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// User name (certificate CN).
    pub name: String,
    /// Groups (certificate O entries, plus `system:authenticated`).
    pub groups: Vec<String>,
}

/// Errors building the TLS configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Certificates or keys could not be parsed.
    #[error("tls material: {0}")]
    Pem(#[from] pki::Error),
    /// rustls refused the configuration.
    #[error("tls configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client verifier could not be built.
    #[error("client certificate verifier: {0}")]
    Verifier(String),
}

/// Builds the server TLS configuration: TLS 1.2+ with rustls' default (strong) suites, h2 and
/// http/1.1 via ALPN, client certificates optional but verified against `client_ca_pem`.
pub fn tls_config(cert_pem: &str, key_pem: &str, client_ca_pem: &str) -> Result<rustls::ServerConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in pki::certs_from_pem(client_ca_pem)? {
        roots.add(c)?;
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|e| TlsError::Verifier(e.to_string()))?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(verifier)
        .with_single_cert(pki::certs_from_pem(cert_pem)?, pki::key_from_pem(key_pem)?)?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

/// Accepts connections until the listener fails.
pub async fn serve(api: Arc<Api>, listener: TcpListener, tls: Arc<rustls::ServerConfig>) {
    let acceptor = TlsAcceptor::from(tls);
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let api = api.clone();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                Ok(Ok(t)) => t,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "tls handshake failed");
                    return;
                }
                Err(_) => return,
            };
            let user = tls.get_ref().1.peer_certificates().and_then(|c| c.first()).and_then(|der| pki::cert_info_der(der)).map(|info| {
                let mut groups = info.organizations;
                groups.push("system:authenticated".to_string());
                User { name: info.common_name, groups }
            });
            serve_connection(api, tls, user, peer).await;
        });
    }
}

async fn serve_connection(api: Arc<Api>, tls: tokio_rustls::server::TlsStream<tokio::net::TcpStream>, user: Option<User>, peer: SocketAddr) {
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new());
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(1000)
        .keep_alive_interval(Some(Duration::from_secs(30)));
    let svc = service_fn(move |req: Request<Incoming>| {
        let api = api.clone();
        let user = user.clone();
        async move { Ok::<_, Infallible>(route(api, req, user).await) }
    });
    if let Err(e) = builder.serve_connection_with_upgrades(TokioIo::new(tls), svc).await {
        tracing::debug!(%peer, error = %e, "connection ended");
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    response::with_type(status, body, "text/plain; charset=utf-8")
}

fn json_value(v: &serde_json::Value) -> Response<Body> {
    response::json(StatusCode::OK, serde_json::to_vec(v).unwrap_or_default())
}

fn not_found() -> Response<Body> {
    response::error(&ApiError::path_not_found())
}

/// Routes one request.
pub async fn route(api: Arc<Api>, req: Request<Incoming>, user: Option<User>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let trimmed = path.trim_end_matches('/');
    // unauthenticated health and version endpoints
    match trimmed {
        "/healthz" | "/livez" | "/readyz" => return text(StatusCode::OK, "ok"),
        p if p.starts_with("/healthz/") || p.starts_with("/livez/") || p.starts_with("/readyz/") => {
            return text(StatusCode::OK, "ok");
        }
        "/version" => return json_value(&api.version_info()),
        _ => {}
    }
    let Some(_user) = user else {
        return response::error(&ApiError::unauthorized());
    };
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).map(str::to_string);
    let method = req.method().clone();
    let query = Query::parse(req.uri().query());
    if method == http::Method::GET {
        let reg = api.registry.read();
        let parts: Vec<&str> = trimmed.trim_start_matches('/').split('/').collect();
        let doc = match parts.as_slice() {
            ["api"] => Some(match discovery::wants_aggregated(accept.as_deref()) {
                Some(v) => return aggregated(&reg, true, v),
                None => discovery::api_versions(&api.advertise()),
            }),
            ["apis"] => Some(match discovery::wants_aggregated(accept.as_deref()) {
                Some(v) => return aggregated(&reg, false, v),
                None => discovery::api_group_list(&reg),
            }),
            ["api", "v1"] => discovery::api_resource_list(&reg, "", "v1"),
            ["apis", group] => match discovery::api_group(&reg, group) {
                Some(d) => Some(d),
                None => return not_found(),
            },
            ["apis", group, version] => match discovery::api_resource_list(&reg, group, version) {
                Some(d) => Some(d),
                None => return not_found(),
            },
            _ => None,
        };
        if let Some(doc) = doc {
            return json_value(&doc);
        }
        drop(reg);
        if trimmed == "/openapi/v2" || trimmed.starts_with("/openapi/") {
            return openapi::handle(&api, trimmed, accept.as_deref());
        }
    }
    match request::parse(&method, &path, &query) {
        Some(info) => {
            let headers = req.headers().clone();
            handlers::handle(&api, info, query, headers, req.into_body()).await
        }
        None => not_found(),
    }
}

fn aggregated(reg: &crate::registry::Registry, legacy: bool, version: &str) -> Response<Body> {
    let doc = discovery::aggregated(reg, legacy, version);
    let ct = if version == "v2" { discovery::AGGREGATED_V2 } else { discovery::AGGREGATED_V2BETA1 };
    let mut r = response::with_type(StatusCode::OK, serde_json::to_vec(&doc).unwrap_or_default(), ct);
    r.headers_mut().insert(header::VARY, http::HeaderValue::from_static("Accept"));
    r
}
