//! Proxying an exec, attach or port-forward stream to the runtime's streaming server: the
//! client's request (SPDY or WebSocket upgrade) goes to the URL CRI returned, byte for byte;
//! when the runtime switches protocols both connections are joined, otherwise its answer
//! (a refused upgrade, for instance) goes back to the client as it is.

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, Uri, header};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use super::{Body, text};

/// Headers a proxy never forwards: credentials meant for this hop and hop-by-hop fields other
/// than the upgrade itself.
const DROPPED: &[&str] = &["authorization", "proxy-authorization", "host", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "content-length"];

/// Sends `req` to `url` (an `http://host:port/path` of the runtime's streaming server) and
/// relays the answer; an upgrade joins the two connections until either side closes.
pub async fn proxy(url: &str, mut req: Request<Incoming>) -> Response<Body> {
    let uri: Uri = match url.parse() {
        Ok(u) => u,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("runtime returned an unusable streaming URL {url:?}: {e}")),
    };
    if uri.scheme_str() != Some("http") {
        return text(StatusCode::INTERNAL_SERVER_ERROR, format!("runtime streaming URL {url:?}: only http:// is supported"));
    }
    let Some(authority) = uri.authority().cloned() else {
        return text(StatusCode::INTERNAL_SERVER_ERROR, format!("runtime streaming URL {url:?} has no host"));
    };
    let tcp = match tokio::net::TcpStream::connect(authority.as_str()).await {
        Ok(t) => t,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("dialing the runtime's streaming server at {authority}: {e}")),
    };
    let _ = tcp.set_nodelay(true);
    let (mut sender, conn) = match hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(tcp)).await {
        Ok(x) => x,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("runtime streaming server at {authority}: {e}")),
    };
    tokio::spawn(async move {
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!(error = %e, "streaming server connection ended");
        }
    });
    let mut out = Request::builder()
        .method(req.method().clone())
        .uri(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
        .body(Empty::<Bytes>::new())
        .expect("method and path come from parsed values");
    for (name, value) in req.headers() {
        if !DROPPED.contains(&name.as_str()) {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    if let Ok(h) = HeaderValue::from_str(authority.as_str()) {
        out.headers_mut().insert(header::HOST, h);
    }
    let client_upgrade = hyper::upgrade::on(&mut req);
    let mut resp = match sender.send_request(out).await {
        Ok(r) => r,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("runtime streaming server at {authority}: {e}")),
    };
    if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
        let (parts, body) = resp.into_parts();
        return Response::from_parts(parts, body.map_err(std::io::Error::other).boxed());
    }
    let runtime_upgrade = hyper::upgrade::on(&mut resp);
    tokio::spawn(async move {
        let (client, runtime) = tokio::join!(client_upgrade, runtime_upgrade);
        match (client, runtime) {
            (Ok(c), Ok(r)) => {
                let (mut c, mut r) = (TokioIo::new(c), TokioIo::new(r));
                if let Err(e) = tokio::io::copy_bidirectional(&mut c, &mut r).await {
                    tracing::debug!(error = %e, "stream ended");
                }
            }
            (c, r) => tracing::debug!(client = ?c.err(), runtime = ?r.err(), "upgrade failed"),
        }
    });
    let mut back = Response::new(Empty::<Bytes>::new().map_err(|never| match never {}).boxed());
    *back.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    *back.headers_mut() = resp.headers().clone();
    back
}
