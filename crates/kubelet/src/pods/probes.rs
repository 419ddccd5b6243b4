//! Probes (startup, liveness, readiness) and lifecycle hooks: exec through CRI ExecSync,
//! httpGet and tcpSocket against the pod's IP (or the node for host-network pods), gRPC health.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ExecAction, HTTPGetAction, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// A probe's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Passed.
    Success,
    /// Failed, with why (for the Unhealthy event).
    Failure(String),
}

/// The state of one probe of one container.
#[derive(Clone, Debug)]
pub struct ProbeState {
    /// When it runs next.
    pub next: Instant,
    /// Consecutive successes.
    pub successes: i32,
    /// Consecutive failures.
    pub failures: i32,
    /// The current verdict (readiness starts false, liveness true).
    pub ok: bool,
}

impl ProbeState {
    /// A probe of a container started now.
    pub fn new(p: &Probe, initially_ok: bool) -> ProbeState {
        ProbeState { next: Instant::now() + Duration::from_secs(p.initial_delay_seconds.unwrap_or(0).max(0) as u64), successes: 0, failures: 0, ok: initially_ok }
    }

    /// Records an outcome; returns whether the verdict changed.
    pub fn record(&mut self, p: &Probe, o: &Outcome) -> bool {
        self.next = Instant::now() + Duration::from_secs(p.period_seconds.unwrap_or(10).max(1) as u64);
        let before = self.ok;
        match o {
            Outcome::Success => {
                self.successes += 1;
                self.failures = 0;
                if self.successes >= p.success_threshold.unwrap_or(1).max(1) {
                    self.ok = true;
                }
            }
            Outcome::Failure(_) => {
                self.failures += 1;
                self.successes = 0;
                if self.failures >= p.failure_threshold.unwrap_or(3).max(1) {
                    self.ok = false;
                }
            }
        }
        before != self.ok
    }
}

fn port(p: &IntOrString, container: &k8s_openapi::api::core::v1::Container) -> Option<u16> {
    match p {
        IntOrString::Int(n) => u16::try_from(*n).ok(),
        IntOrString::String(name) => container.ports.iter().flatten().find(|cp| cp.name.as_deref() == Some(name)).and_then(|cp| u16::try_from(cp.container_port).ok()),
    }
}

/// Runs an exec action in a container; Success on exit 0.
pub async fn exec(rt: &cri::Runtime, container_id: &str, e: &ExecAction, timeout: Duration) -> Outcome {
    let mut r = rt.runtime.clone();
    let req = cri::api::ExecSyncRequest { container_id: container_id.into(), cmd: e.command.clone().unwrap_or_default(), timeout: timeout.as_secs().max(1) as i64 };
    match tokio::time::timeout(timeout + Duration::from_secs(2), r.exec_sync(req)).await {
        Err(_) => Outcome::Failure(format!("command timed out after {}s", timeout.as_secs())),
        Ok(Err(s)) => Outcome::Failure(s.message().to_string()),
        Ok(Ok(resp)) => {
            let resp = resp.into_inner();
            if resp.exit_code == 0 {
                Outcome::Success
            } else {
                let mut out = String::from_utf8_lossy(&resp.stdout).into_owned();
                out.push_str(&String::from_utf8_lossy(&resp.stderr));
                Outcome::Failure(if out.trim().is_empty() { format!("command {:?} exited with {}", e.command.clone().unwrap_or_default(), resp.exit_code) } else { out })
            }
        }
    }
}

/// An HTTP GET; Success on 200–399 (as upstream).
pub async fn http_get(host: &str, h: &HTTPGetAction, container: &k8s_openapi::api::core::v1::Container, timeout: Duration) -> Outcome {
    let Some(p) = port(&h.port, container) else { return Outcome::Failure(format!("invalid port {:?}", h.port)) };
    let host = h.host.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| host.to_string());
    if h.scheme.as_deref() == Some("HTTPS") {
        return tcp(&host, p, timeout).await;
    }
    let path = h.path.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "/".into());
    let path = if path.starts_with('/') { path } else { format!("/{path}") };
    let fut = async {
        let stream = tokio::net::TcpStream::connect((host.as_str(), p)).await.map_err(|e| e.to_string())?;
        let (mut send, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let mut req = http::Request::get(&path).header("host", format!("{host}:{p}")).header("user-agent", "kube-probe/1.32").header("accept", "*/*");
        for hh in h.http_headers.iter().flatten() {
            req = req.header(hh.name.as_str(), hh.value.as_str());
        }
        let req = req.body(http_body_util::Empty::<bytes::Bytes>::new()).map_err(|e| e.to_string())?;
        let resp = send.send_request(req).await.map_err(|e| e.to_string())?;
        Ok::<u16, String>(resp.status().as_u16())
    };
    match tokio::time::timeout(timeout, fut).await {
        Err(_) => Outcome::Failure(format!("Get \"http://{host}:{p}{path}\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)")),
        Ok(Err(e)) => Outcome::Failure(format!("Get \"http://{host}:{p}{path}\": {e}")),
        Ok(Ok(code)) if (200..400).contains(&code) => Outcome::Success,
        Ok(Ok(code)) => Outcome::Failure(format!("HTTP probe failed with statuscode: {code}")),
    }
}

/// A TCP connect.
pub async fn tcp(host: &str, port: u16, timeout: Duration) -> Outcome {
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect((host, port))).await {
        Ok(Ok(_)) => Outcome::Success,
        Ok(Err(e)) => Outcome::Failure(format!("dial tcp {host}:{port}: {e}")),
        Err(_) => Outcome::Failure(format!("dial tcp {host}:{port}: i/o timeout")),
    }
}

/// A gRPC health check (`grpc.health.v1.Health/Check`) over plain HTTP/2.
pub async fn grpc(host: &str, port: u16, service: &str, timeout: Duration) -> Outcome {
    let fut = async {
        let stream = tokio::net::TcpStream::connect((host, port)).await.map_err(|e| e.to_string())?;
        let (mut send, conn) = hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), hyper_util::rt::TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        // HealthCheckRequest { service = 1 }: one length-prefixed gRPC message
        let mut msg = Vec::new();
        if !service.is_empty() {
            msg.push(0x0a);
            msg.push(service.len() as u8);
            msg.extend_from_slice(service.as_bytes());
        }
        let mut body = vec![0u8];
        body.extend_from_slice(&(msg.len() as u32).to_be_bytes());
        body.extend_from_slice(&msg);
        let req = http::Request::post(format!("http://{host}:{port}/grpc.health.v1.Health/Check"))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(http_body_util::Full::new(bytes::Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let resp = send.send_request(req).await.map_err(|e| e.to_string())?;
        use http_body_util::BodyExt;
        let bytes = resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        // HealthCheckResponse { status = 1 (varint) }: SERVING is 1
        let msg = bytes.get(5..).unwrap_or_default();
        let status = if msg.len() >= 2 && msg[0] == 0x08 { msg[1] } else { 0 };
        Ok::<u8, String>(status)
    };
    match tokio::time::timeout(timeout, fut).await {
        Err(_) => Outcome::Failure(format!("timeout: health rpc did not complete within {}s", timeout.as_secs())),
        Ok(Err(e)) => Outcome::Failure(format!("failed to connect service \"{host}:{port}\" within {}s: {e}", timeout.as_secs())),
        Ok(Ok(1)) => Outcome::Success,
        Ok(Ok(s)) => Outcome::Failure(format!("service unhealthy (responded with \"{}\")", match s { 2 => "NOT_SERVING", 3 => "SERVICE_UNKNOWN", _ => "UNKNOWN" })),
    }
}

/// Runs a probe against a container.
pub async fn run(rt: &cri::Runtime, pod_ip: &str, container: &k8s_openapi::api::core::v1::Container, container_id: &str, p: &Probe) -> Outcome {
    let timeout = Duration::from_secs(p.timeout_seconds.unwrap_or(1).max(1) as u64);
    if let Some(e) = &p.exec {
        exec(rt, container_id, e, timeout).await
    } else if let Some(h) = &p.http_get {
        http_get(pod_ip, h, container, timeout).await
    } else if let Some(t) = &p.tcp_socket {
        match port(&t.port, container) {
            Some(port) => tcp(t.host.as_deref().filter(|h| !h.is_empty()).unwrap_or(pod_ip), port, timeout).await,
            None => Outcome::Failure(format!("invalid port {:?}", t.port)),
        }
    } else if let Some(g) = &p.grpc {
        grpc(pod_ip, g.port as u16, g.service.as_deref().unwrap_or(""), timeout).await
    } else {
        Outcome::Failure("probe has no handler".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_flip_the_verdict() {
        let p = Probe { failure_threshold: Some(2), success_threshold: Some(1), ..Default::default() };
        let mut s = ProbeState::new(&p, true);
        assert!(!s.record(&p, &Outcome::Failure("x".into())));
        assert!(s.ok);
        assert!(s.record(&p, &Outcome::Failure("x".into())));
        assert!(!s.ok);
        assert!(s.record(&p, &Outcome::Success));
        assert!(s.ok);
    }

    #[tokio::test]
    async fn tcp_and_http_against_a_local_listener() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            loop {
                let (mut s, _) = l.accept().await.unwrap();
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 1024];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let code = if String::from_utf8_lossy(&buf[..n]).starts_with("GET /bad") { "500 Oops" } else { "200 OK" };
                let _ = s.write_all(format!("HTTP/1.1 {code}\r\ncontent-length: 0\r\n\r\n").as_bytes()).await;
            }
        });
        assert_eq!(tcp("127.0.0.1", port, Duration::from_secs(1)).await, Outcome::Success);
        let c = k8s_openapi::api::core::v1::Container::default();
        let ok = HTTPGetAction { port: IntOrString::Int(port as i32), path: Some("/healthz".into()), ..Default::default() };
        assert_eq!(http_get("127.0.0.1", &ok, &c, Duration::from_secs(1)).await, Outcome::Success);
        let bad = HTTPGetAction { port: IntOrString::Int(port as i32), path: Some("/bad".into()), ..Default::default() };
        assert_eq!(http_get("127.0.0.1", &bad, &c, Duration::from_secs(1)).await, Outcome::Failure("HTTP probe failed with statuscode: 500".into()));
    }

    /// A gRPC health server over HTTP/2 answering SERVING for "" and NOT_SERVING otherwise.
    async fn grpc_health_server() -> u16 {
        use http_body_util::StreamBody;
        use hyper::body::Frame;
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            loop {
                let (s, _) = l.accept().await.unwrap();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(|req: http::Request<hyper::body::Incoming>| async move {
                        use http_body_util::BodyExt;
                        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        // an empty HealthCheckRequest asks for the server as a whole
                        let status: u8 = if body.len() <= 5 { 1 } else { 2 };
                        let mut trailers = http::HeaderMap::new();
                        trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
                        let frames: Vec<Result<Frame<bytes::Bytes>, std::convert::Infallible>> =
                            vec![Ok(Frame::data(bytes::Bytes::from(vec![0, 0, 0, 0, 2, 0x08, status]))), Ok(Frame::trailers(trailers))];
                        let resp = http::Response::builder().header("content-type", "application/grpc").body(StreamBody::new(futures::stream::iter(frames))).unwrap();
                        Ok::<_, std::convert::Infallible>(resp)
                    });
                    let _ = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new()).serve_connection(hyper_util::rt::TokioIo::new(s), svc).await;
                });
            }
        });
        port
    }

    #[tokio::test]
    async fn grpc_health_checks() {
        let port = grpc_health_server().await;
        assert_eq!(grpc("127.0.0.1", port, "", Duration::from_secs(2)).await, Outcome::Success);
        assert_eq!(grpc("127.0.0.1", port, "other", Duration::from_secs(2)).await, Outcome::Failure("service unhealthy (responded with \"NOT_SERVING\")".into()));
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
        assert!(matches!(grpc("127.0.0.1", closed, "", Duration::from_secs(2)).await, Outcome::Failure(m) if m.starts_with("failed to connect service")));
    }
}
