//! The kubelet's HTTPS API, what the apiserver calls for `kubectl logs`, `exec`, `attach`,
//! `port-forward` and the node's stats, as upstream's kubelet serves it on port 10250.
//!
//! Every request is authenticated — a client certificate verified against the cluster CA
//! (user = CN, groups = O) or a bearer token checked with a TokenReview; nothing is anonymous —
//! and authorized with a SubjectAccessReview on `nodes/{proxy,log,stats,metrics}` of this node,
//! both asked of the apiserver with the kubelet's own identity. Streams (exec, attach,
//! port-forward) are proxied byte for byte to the URL the runtime's CRI `Exec`/`Attach`/
//! `PortForward` returns, whatever protocol the client upgrades to (SPDY or WebSocket).
//! There is no read-only port.

pub mod auth;
pub mod logs;
mod stats;
mod stream;
pub mod tls;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use cri::api;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use k8s_openapi::api::core::v1::Pod;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

pub use auth::User;
pub use tls::{CertSlot, TlsError};

/// Response bodies.
pub type Body = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

/// What the server needs besides its certificate.
#[derive(Clone)]
pub struct ServerContext {
    /// The kubelet's client (node identity): TokenReviews, SubjectAccessReviews, pod lookups.
    pub client: kube::Client,
    /// The CRI runtime the node's containers run on.
    pub runtime: cri::Runtime,
    /// This node's name (the `nodes/<name>` requests are authorized against).
    pub node_name: String,
    /// The cluster CA (PEM) that client certificates must chain to.
    pub client_ca_pem: String,
    /// The agent's directory (pod logs, pod volumes, containerd's root): for `/stats/summary`.
    pub agent_dir: std::path::PathBuf,
}

impl std::fmt::Debug for ServerContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerContext").field("node_name", &self.node_name).finish_non_exhaustive()
    }
}

struct Shared {
    ctx: ServerContext,
    reviews: auth::Reviews,
    cpu: stats::CpuSamples,
}

/// Serves the kubelet API on `listener` with the certificate in `certs` until the task is
/// dropped or aborted. Fails at once when `ctx.client_ca_pem` holds no usable CA.
pub async fn serve(listener: TcpListener, certs: Arc<CertSlot>, ctx: ServerContext) -> Result<(), TlsError> {
    let acceptor = TlsAcceptor::from(Arc::new(tls::server_config(certs, &ctx.client_ca_pem)?));
    let shared = Arc::new(Shared { ctx, reviews: auth::Reviews::default(), cpu: stats::CpuSamples::default() });
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "kubelet server: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let shared = shared.clone();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                Ok(Ok(t)) => t,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "kubelet server: tls handshake failed");
                    return;
                }
                Err(_) => return,
            };
            let cert_user = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(|der| pki::cert_info_der(der))
                .map(|i| User::from_certificate(i.common_name, i.organizations));
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder.http1().timer(TokioTimer::new());
            builder.http2().timer(TokioTimer::new());
            let svc = service_fn(move |req: Request<Incoming>| {
                let shared = shared.clone();
                let user = cert_user.clone();
                async move { Ok::<_, Infallible>(route(&shared, req, user).await) }
            });
            if let Err(e) = builder.serve_connection_with_upgrades(TokioIo::new(tls), svc).await {
                tracing::debug!(%peer, error = %e, "kubelet server: connection ended");
            }
        });
    }
}

pub(crate) fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()).map_err(|never| match never {}).boxed());
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

fn json(value: &impl serde::Serialize) -> Response<Body> {
    let mut r = text(StatusCode::OK, serde_json::to_vec(value).unwrap_or_default());
    r.headers_mut().insert(header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    r
}

async fn authenticate(shared: &Shared, cert_user: Option<User>, headers: &http::HeaderMap) -> Result<Option<User>, kube::Error> {
    if let Some(u) = cert_user {
        return Ok(Some(u));
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    match token {
        Some(t) => shared.reviews.token(&shared.ctx.client, t).await,
        None => Ok(None),
    }
}

async fn route(shared: &Shared, req: Request<Incoming>, cert_user: Option<User>) -> Response<Body> {
    let user = match authenticate(shared, cert_user, req.headers()).await {
        Ok(Some(u)) => u,
        Ok(None) => return text(StatusCode::UNAUTHORIZED, "Unauthorized"),
        Err(e) => {
            tracing::warn!(error = %e, "kubelet server: unable to authenticate the request");
            return text(StatusCode::UNAUTHORIZED, "Unauthorized");
        }
    };
    let path = req.uri().path().to_string();
    let attrs = auth::attributes(req.method(), &path);
    match shared.reviews.allowed(&shared.ctx.client, &shared.ctx.node_name, &user, &attrs).await {
        Ok(true) => {}
        Ok(false) => return text(StatusCode::FORBIDDEN, auth::forbidden_text(&user, &attrs)),
        Err(e) => {
            tracing::warn!(error = %e, "kubelet server: authorization error");
            return text(StatusCode::INTERNAL_SERVER_ERROR, auth::authz_error_text(&user, &attrs));
        }
    }
    let query = Query::parse(req.uri().query());
    let parts: Vec<String> = path.trim_matches('/').split('/').map(apimachinery::query::decode).collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let method = req.method().clone();
    let get = method == http::Method::GET || method == http::Method::HEAD;
    let stream_method = get || method == http::Method::POST;
    match parts.as_slice() {
        ["healthz"] if get => text(StatusCode::OK, "ok"),
        ["pods"] if get => pods(shared).await,
        ["containerLogs", ns, pod, container] if get => container_logs(shared, ns, pod, container, &query).await,
        ["exec", ns, pod, container] | ["exec", ns, pod, _, container] if stream_method => {
            let uid = (parts.len() == 5).then(|| parts[3]);
            exec_or_attach(shared, req, Streaming::Exec, ns, pod, uid, container, &query).await
        }
        ["attach", ns, pod, container] | ["attach", ns, pod, _, container] if stream_method => {
            let uid = (parts.len() == 5).then(|| parts[3]);
            exec_or_attach(shared, req, Streaming::Attach, ns, pod, uid, container, &query).await
        }
        ["portForward", ns, pod] | ["portForward", ns, pod, _] if stream_method => {
            let uid = (parts.len() == 4).then(|| parts[3]);
            port_forward(shared, req, ns, pod, uid, &query).await
        }
        ["stats", "summary"] if get => match stats::summary(&shared.ctx, &shared.cpu).await {
            Ok(v) => json(&v),
            Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("Internal Error: failed to get node stats summary: {e}")),
        },
        _ => text(StatusCode::NOT_FOUND, "404 page not found\n"),
    }
}

/// Query parameters, repeated keys kept (`command=a&command=b`).
#[derive(Debug, Default)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<&str>) -> Query {
        Query(apimachinery::query::pairs(raw))
    }
    fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }
    fn all(&self, k: &str) -> Vec<&str> {
        self.0.iter().filter(|(n, _)| n == k).map(|(_, v)| v.as_str()).collect()
    }
    fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("1" | "true" | "True" | "TRUE"))
    }
}

const POD_NAME: &str = "io.kubernetes.pod.name";
const POD_NAMESPACE: &str = "io.kubernetes.pod.namespace";
const POD_UID: &str = "io.kubernetes.pod.uid";
const CONTAINER_NAME: &str = "io.kubernetes.container.name";
const RESTART_COUNT: &str = "io.kubernetes.container.restartCount";

async fn get_pod(shared: &Shared, ns: &str, name: &str) -> Result<Option<Pod>, kube::Error> {
    kube::Api::<Pod>::namespaced(shared.ctx.client.clone(), ns).get_opt(name).await
}

/// The containers of a pod's container name, the latest attempt first.
async fn containers(rt: &cri::Runtime, ns: &str, pod: &str, uid: Option<&str>, container: &str) -> Result<Vec<api::Container>, tonic::Status> {
    let mut labels = std::collections::HashMap::from([
        (POD_NAMESPACE.to_string(), ns.to_string()),
        (POD_NAME.to_string(), pod.to_string()),
        (CONTAINER_NAME.to_string(), container.to_string()),
    ]);
    if let Some(uid) = uid {
        labels.insert(POD_UID.into(), uid.into());
    }
    let filter = api::ContainerFilter { label_selector: labels, ..Default::default() };
    let mut list = rt.runtime.clone().list_containers(api::ListContainersRequest { filter: Some(filter) }).await?.into_inner().containers;
    let attempt = |c: &api::Container| -> i64 {
        c.annotations.get(RESTART_COUNT).and_then(|v| v.parse().ok()).unwrap_or_else(|| c.metadata.as_ref().map(|m| m.attempt as i64).unwrap_or(0))
    };
    list.sort_by_key(|c| std::cmp::Reverse((attempt(c), c.created_at)));
    Ok(list)
}

fn pod_has_container(pod: &Pod, name: &str) -> bool {
    let Some(spec) = &pod.spec else { return false };
    spec.containers.iter().any(|c| c.name == name)
        || spec.init_containers.iter().flatten().any(|c| c.name == name)
        || spec.ephemeral_containers.iter().flatten().any(|c| c.name == name)
}

fn status_text(s: &tonic::Status) -> String {
    s.message().to_string()
}

async fn container_logs(shared: &Shared, ns: &str, pod_name: &str, container: &str, query: &Query) -> Response<Body> {
    let opts = match logs::LogOptions::from_query(|k| query.get(k)) {
        Ok(o) => o,
        Err(logs::QueryError::Decode) => return text(StatusCode::BAD_REQUEST, r#"{"message": "Unable to decode query."}"#),
        Err(logs::QueryError::Invalid) => return text(StatusCode::UNPROCESSABLE_ENTITY, r#"{"message": "Invalid request."}"#),
    };
    let pod = match get_pod(shared, ns, pod_name).await {
        Ok(Some(p)) => p,
        Ok(None) => return text(StatusCode::NOT_FOUND, format!("pod {pod_name:?} does not exist")),
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("looking up pod {ns}/{pod_name}: {e}")),
    };
    if !pod_has_container(&pod, container) {
        return text(StatusCode::NOT_FOUND, format!("container {container:?} not found in pod {pod_name:?}"));
    }
    let rt = &shared.ctx.runtime;
    let list = match containers(rt, ns, pod_name, pod.metadata.uid.as_deref(), container).await {
        Ok(l) => l,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, status_text(&e)),
    };
    let chosen = if opts.previous {
        match list.get(1) {
            Some(c) => c,
            None => return text(StatusCode::BAD_REQUEST, format!("previous terminated container {container:?} in pod {pod_name:?} not found")),
        }
    } else {
        match list.first() {
            Some(c) => c,
            None => return text(StatusCode::BAD_REQUEST, format!("container {container:?} in pod {pod_name:?} is waiting to start: ContainerCreating")),
        }
    };
    let id = chosen.id.clone();
    let status = match rt.runtime.clone().container_status(api::ContainerStatusRequest { container_id: id.clone(), verbose: false }).await {
        Ok(s) => s.into_inner().status.unwrap_or_default(),
        Err(e) => return text(StatusCode::BAD_REQUEST, status_text(&e)),
    };
    if status.log_path.is_empty() {
        return text(StatusCode::BAD_REQUEST, format!("container {container:?} in pod {pod_name:?} has no log file"));
    }
    let path = std::path::PathBuf::from(&status.log_path);
    if let Err(e) = tokio::fs::metadata(&path).await {
        return text(StatusCode::BAD_REQUEST, format!("failed to open log file {:?}: {e}", status.log_path));
    }
    let mut opts = opts;
    // only a running container is followed
    opts.follow &= status.state == api::ContainerState::ContainerRunning as i32;
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    let runtime = rt.clone();
    tokio::spawn(async move {
        let running = move || {
            let mut rt = runtime.runtime.clone();
            let id = id.clone();
            async move {
                match rt.container_status(api::ContainerStatusRequest { container_id: id, verbose: false }).await {
                    Ok(s) => s.into_inner().status.is_some_and(|s| s.state == api::ContainerState::ContainerRunning as i32),
                    Err(_) => false,
                }
            }
        };
        if let Err(e) = logs::stream(path, opts, tx, running).await {
            tracing::debug!(error = %e, "log stream ended");
        }
    });
    let frames = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (Ok::<_, std::io::Error>(Frame::data(b)), rx)) });
    let mut r = Response::new(BodyExt::boxed(StreamBody::new(frames)));
    r.headers_mut().insert(header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain"));
    r
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Streaming {
    Exec,
    Attach,
}

#[allow(clippy::too_many_arguments)]
async fn exec_or_attach(shared: &Shared, req: Request<Incoming>, kind: Streaming, ns: &str, pod_name: &str, uid: Option<&str>, container: &str, query: &Query) -> Response<Body> {
    let tty = query.flag("tty");
    let stdin = query.flag("input") || query.flag("stdin");
    let stdout = query.flag("output") || query.flag("stdout");
    // upstream: a TTY merges stderr into stdout
    let stderr = (query.flag("error") || query.flag("stderr")) && !tty;
    if !stdin && !stdout && !stderr {
        return text(StatusCode::BAD_REQUEST, "you must specify at least 1 of stdin, stdout, stderr");
    }
    let pod = match get_pod(shared, ns, pod_name).await {
        Ok(Some(p)) => p,
        Ok(None) => return text(StatusCode::NOT_FOUND, "pod does not exist"),
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("looking up pod {ns}/{pod_name}: {e}")),
    };
    let uid = uid.map(str::to_string).or(pod.metadata.uid.clone());
    let rt = &shared.ctx.runtime;
    let list = match containers(rt, ns, pod_name, uid.as_deref(), container).await {
        Ok(l) => l,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, status_text(&e)),
    };
    let Some(c) = list.iter().find(|c| c.state == api::ContainerState::ContainerRunning as i32) else {
        return text(StatusCode::INTERNAL_SERVER_ERROR, format!("container not found ({container:?})"));
    };
    let url = match kind {
        Streaming::Exec => {
            let cmd: Vec<String> = query.all("command").into_iter().map(str::to_string).collect();
            let r = api::ExecRequest { container_id: c.id.clone(), cmd, tty, stdin, stdout, stderr };
            rt.runtime.clone().exec(r).await.map(|r| r.into_inner().url)
        }
        Streaming::Attach => {
            let r = api::AttachRequest { container_id: c.id.clone(), stdin, tty, stdout, stderr };
            rt.runtime.clone().attach(r).await.map(|r| r.into_inner().url)
        }
    };
    match url {
        Ok(url) => stream::proxy(&url, req).await,
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, status_text(&e)),
    }
}

async fn port_forward(shared: &Shared, req: Request<Incoming>, ns: &str, pod_name: &str, uid: Option<&str>, query: &Query) -> Response<Body> {
    let pod = match get_pod(shared, ns, pod_name).await {
        Ok(Some(p)) => p,
        Ok(None) => return text(StatusCode::NOT_FOUND, "pod does not exist"),
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("looking up pod {ns}/{pod_name}: {e}")),
    };
    let mut ports = Vec::new();
    for p in query.all("port").into_iter().flat_map(|v| v.split(',')).filter(|p| !p.is_empty()) {
        match p.trim().parse::<u16>() {
            Ok(n) if n > 0 => ports.push(n as i32),
            _ => return text(StatusCode::BAD_REQUEST, format!("unable to parse {p:?} as a port: port must be > 0 and < 65536")),
        }
    }
    let uid = uid.map(str::to_string).or(pod.metadata.uid.clone());
    let mut labels = std::collections::HashMap::from([(POD_NAMESPACE.to_string(), ns.to_string()), (POD_NAME.to_string(), pod_name.to_string())]);
    if let Some(uid) = uid {
        labels.insert(POD_UID.into(), uid);
    }
    let filter = api::PodSandboxFilter {
        label_selector: labels,
        state: Some(api::PodSandboxStateValue { state: api::PodSandboxState::SandboxReady as i32 }),
        ..Default::default()
    };
    let rt = &shared.ctx.runtime;
    let sandboxes = match rt.runtime.clone().list_pod_sandbox(api::ListPodSandboxRequest { filter: Some(filter) }).await {
        Ok(r) => r.into_inner().items,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, status_text(&e)),
    };
    let Some(sandbox) = sandboxes.iter().max_by_key(|s| s.created_at) else {
        return text(StatusCode::INTERNAL_SERVER_ERROR, format!("pod not found (\"{pod_name}_{ns}\")"));
    };
    match rt.runtime.clone().port_forward(api::PortForwardRequest { pod_sandbox_id: sandbox.id.clone(), port: ports }).await {
        Ok(r) => stream::proxy(&r.into_inner().url, req).await,
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, status_text(&e)),
    }
}

async fn pods(shared: &Shared) -> Response<Body> {
    let lp = kube::api::ListParams::default().fields(&format!("spec.nodeName={}", shared.ctx.node_name));
    match kube::Api::<Pod>::all(shared.ctx.client.clone()).list(&lp).await {
        Ok(list) => json(&serde_json::json!({
            "kind": "PodList",
            "apiVersion": "v1",
            "metadata": {},
            "items": list.items,
        })),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("listing the node's pods: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_keep_repeated_keys() {
        let q = Query::parse(Some("command=sh&command=-c&command=echo%20a+b&stdin=1&tty=true&x"));
        assert_eq!(q.all("command"), vec!["sh", "-c", "echo a b"]);
        assert!(q.flag("stdin") && q.flag("tty") && !q.flag("stdout"));
        assert_eq!(q.get("x"), Some(""));
        assert_eq!(apimachinery::query::decode("a%2Fb%zz%4"), "a/b%zz%4");
    }
}
