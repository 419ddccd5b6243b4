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
use crate::auth::{self, UserInfo};
use crate::context::{self, RequestContext};
use crate::request::{self, Query};
use crate::response::{self, Body};
use crate::{discovery, handlers, openapi};

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
        .with_single_cert(serving_chain(cert_pem, client_ca_pem)?, pki::key_from_pem(key_pem)?)?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

/// The serving certificate followed by the cluster CA (which issued it): a joining node pins
/// the CA by its hash from the join token, so it must see the CA in the handshake.
fn serving_chain(cert_pem: &str, ca_pem: &str) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, TlsError> {
    let mut chain = pki::certs_from_pem(cert_pem)?;
    for ca in pki::certs_from_pem(ca_pem)? {
        if !chain.contains(&ca) {
            chain.push(ca);
        }
    }
    Ok(chain)
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
        if !api.config.allowed_cidrs.is_empty()
            && !api.config.allowed_cidrs.iter().any(|c| match peer.ip() {
                std::net::IpAddr::V4(ip) => c.contains(ip),
                std::net::IpAddr::V6(ip) => ip.to_ipv4_mapped().is_some_and(|ip| c.contains(ip)),
            })
        {
            tracing::debug!(%peer, "connection from outside --api-allowed-cidrs refused");
            drop(tcp);
            continue;
        }
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
            let user = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(|der| pki::cert_info_der(der))
                .map(|info| UserInfo::new(info.common_name, info.organizations));
            serve_connection(api, tls, user, peer).await;
        });
    }
}

async fn serve_connection(api: Arc<Api>, tls: tokio_rustls::server::TlsStream<tokio::net::TcpStream>, user: Option<UserInfo>, peer: SocketAddr) {
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
        async move { Ok::<_, Infallible>(route(api, req, user, peer).await) }
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

/// `GET` streams a consistent snapshot of the store (see `storage::embedded::snapshot`) for
/// `ferrokube snapshot save`: a non-resource URL, so only cluster administrators may read it.
pub const SNAPSHOT_PATH: &str = "/ferrokube/v1/snapshot";

fn snapshot(api: &Api, method: &http::Method) -> Response<Body> {
    use futures::StreamExt;
    if method != http::Method::GET {
        return crate::response::error(&apimachinery::ApiError::new(405, apimachinery::status::Reason::MethodNotAllowed, format!("{} is not supported on {SNAPSHOT_PATH}; use GET", method.as_str())));
    }
    let mut chunks = storage::embedded::snapshot::save(api.raw_storage.clone());
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        while let Some(chunk) = chunks.next().await {
            let item = chunk.map(hyper::body::Frame::data).map_err(|e| {
                tracing::warn!(error = %e, "snapshot failed while streaming");
                std::io::Error::other(e.to_string())
            });
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    let chunks = crate::handlers::tokio_stream_from(rx);
    let mut resp = Response::new(http_body_util::BodyExt::boxed(http_body_util::StreamBody::new(chunks)));
    resp.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/octet-stream"));
    resp
}

/// Routes one request: the anonymous probes, then authentication, impersonation, audit and
/// authorization, then the API itself within the request's context.
pub async fn route(api: Arc<Api>, req: Request<Incoming>, cert_user: Option<UserInfo>, peer: SocketAddr) -> Response<Body> {
    let received = jiff::Timestamp::now();
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
    let mut authn = auth::authn::authenticate(&api, cert_user.as_ref(), req.headers());
    if matches!(authn, auth::authn::Authn::Refused(_)) {
        // a token's objects (its service account, pod, bootstrap Secret) may have been written
        // an instant ago: look again once the watch cache has caught up with storage
        if api.caches.wait_fresh().await.is_ok() {
            authn = auth::authn::authenticate(&api, cert_user.as_ref(), req.headers());
        }
    }
    let authenticated = match authn {
        auth::authn::Authn::User(u) => u,
        auth::authn::Authn::Anonymous => return response::error(&ApiError::unauthorized()),
        auth::authn::Authn::Refused(why) => {
            tracing::debug!(reason = %why, "authentication refused");
            return response::error(&ApiError::unauthorized());
        }
    };
    let user = match auth::impersonate::apply(&api, authenticated.clone(), req.headers()) {
        Ok(u) => u,
        Err(e) => return response::error(&e),
    };
    let method = req.method().clone();
    let query = Query::parse(req.uri().query());
    let info = request::parse(&method, &path, &query);
    let attrs = match &info {
        Some(info) => {
            let mut a = auth::authz::Attributes::resource(info);
            // a list or watch of one object by name is authorized as that object (as upstream)
            if a.name.is_empty() && matches!(a.verb.as_str(), "list" | "watch")
                && let Some(n) = query.get("fieldSelector").and_then(|f| f.strip_prefix("metadata.name=")).filter(|n| !n.contains(','))
            {
                a.name = n.to_string();
            }
            a
        }
        None => auth::authz::Attributes::non_resource(&method, trimmed),
    };
    let ctx = Arc::new(RequestContext::new(user.clone()));
    let level = api.audit.as_ref().map(|a| a.policy.level(&authenticated, &attrs)).unwrap_or_default();
    ctx.audit.lock().level = level;
    let uri = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| path.clone());
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let mut decision = auth::authz::authorize(&api, &user, &attrs);
    if !matches!(decision, auth::authz::Decision::Allow(_)) && api.caches.wait_fresh().await.is_ok() {
        // a role or binding may have been written an instant ago: decide again on a cache
        // that has caught up with storage (only refusals pay for this)
        decision = auth::authz::authorize(&api, &user, &attrs);
    }
    let mut resp = match decision {
        auth::authz::Decision::Allow(reason) => {
            {
                let mut a = ctx.audit.lock();
                a.annotations.insert("authorization.k8s.io/decision".into(), "allow".into());
                a.annotations.insert("authorization.k8s.io/reason".into(), reason.into());
            }
            context::scope(ctx.clone(), serve_authorized(api.clone(), req, path.clone(), query, info)).await
        }
        auth::authz::Decision::Deny(reason) | auth::authz::Decision::NoOpinion(reason) => {
            ctx.audit.lock().annotations.insert("authorization.k8s.io/decision".into(), "forbid".into());
            response::error(&auth::authz::forbidden(&user, &attrs, &reason))
        }
    };
    let warnings = std::mem::take(&mut *ctx.warnings.lock());
    handlers::add_warnings(resp.headers_mut(), &warnings);
    if let Some(auditor) = &api.audit
        && level > crate::audit::Level::None
    {
        let impersonated = (user != authenticated).then_some(&user);
        let entry = crate::audit::Entry {
            uri: &uri,
            attrs: &attrs,
            user: &authenticated,
            impersonated,
            source_ip: peer.ip().to_string(),
            user_agent: &user_agent,
            code: resp.status().as_u16(),
            received,
        };
        let rec = std::mem::take(&mut *ctx.audit.lock());
        auditor.log(&crate::audit::event(&entry, &rec, auditor.policy.omit_managed_fields.unwrap_or(true)));
    }
    resp
}

async fn serve_authorized(api: Arc<Api>, req: Request<Incoming>, path: String, query: Query, info: Option<request::RequestInfo>) -> Response<Body> {
    let trimmed = path.trim_end_matches('/');
    let method = req.method().clone();
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).map(str::to_string);
    if method == http::Method::GET {
        match trimmed {
            "/.well-known/openid-configuration" => return json_value(&api.openid_configuration()),
            "/openid/v1/jwks" => {
                if let Some(t) = &api.tokens {
                    return response::with_type(StatusCode::OK, serde_json::to_vec(&t.key.jwks()).unwrap_or_default(), "application/jwk-set+json");
                }
                return not_found();
            }
            _ => {}
        }
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
    if let Some(r) = crate::encryption::handle(&api, &method, trimmed).await {
        return r;
    }
    if trimmed == SNAPSHOT_PATH {
        return snapshot(&api, &method);
    }
    match info {
        Some(info) if crate::connect::handles(&info) => crate::connect::handle(&api, &info, req).await,
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
