//! WebSocket clients of `pods/exec|attach|portforward` bridged to a kubelet that speaks SPDY.
//!
//! - `v5.channel.k8s.io` (kubectl ≥ 1.30's exec, attach and cp): each binary message is one
//!   channel byte (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize) and its data; `[255, c]`
//!   closes channel `c` (stdin's end of file). The kubelet side is `v4.channel.k8s.io` over
//!   SPDY: one stream per channel, stdin's close a FIN, the exit status a `Status` on the error
//!   stream, which reaches the client verbatim on channel 3. The client is upgraded first, so a
//!   failure to reach the kubelet arrives as a `Status` on channel 3 (as upstream's translator).
//! - `SPDY/3.1+portforward.k8s.io` (kubectl ≥ 1.31's port-forward): the client's SPDY session
//!   travels inside binary messages; the kubelet is upgraded to SPDY `portforward.k8s.io` first
//!   and the bytes are relayed unchanged both ways.
//!
//! Pings are answered with pongs; a client's close ends the bridge; the kubelet's end of the
//! connection closes the WebSocket normally after everything it sent was delivered.

use std::collections::HashMap;
use std::future::Future;

use apimachinery::{ApiError, ApiResult};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::spdy::{self, Frame, HeaderEncoder};
use super::websocket::{self, Message};

/// The remote-command protocol with stream close, which the apiserver translates.
pub const V5: &str = "v5.channel.k8s.io";
/// The port-forward protocol the kubelet speaks over SPDY.
pub const PORT_FORWARD: &str = "portforward.k8s.io";
/// Port-forward's SPDY tunneled through a WebSocket.
pub const TUNNEL: &str = "SPDY/3.1+portforward.k8s.io";
/// The remote-command protocol asked of the kubelet.
pub const V4: &str = "v4.channel.k8s.io";

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;
const RESIZE: u8 = 4;
const STREAM_CLOSE: u8 = 255;

/// Frames waiting for a slow side before its reader stops reading (the back-pressure bound).
const QUEUE: usize = 64;

/// Which streams an exec or attach asked for.
#[derive(Clone, Copy, Debug)]
pub struct Streams {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

/// Writes what it is handed to `w` in order, then shuts `w` down when every sender is gone.
fn writer<W: AsyncWrite + Unpin + Send + 'static>(mut w: W) -> (mpsc::Sender<Vec<u8>>, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(QUEUE);
    let task = tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if w.write_all(&bytes).await.is_err() {
                break;
            }
            // a batch already queued goes out before the next flush
            if rx.is_empty() && w.flush().await.is_err() {
                break;
            }
        }
        let _ = w.shutdown().await;
    });
    (tx, task)
}

fn binary(channel: u8, data: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(data.len() + 1);
    m.push(channel);
    m.extend_from_slice(data);
    websocket::frame(websocket::BINARY, &m, None)
}

/// What a client's message other than data asks of the bridge.
enum Control {
    /// A frame back to the client (a pong).
    Reply(Vec<u8>),
    Ignore,
    /// The bridge ends, after this frame to the client (a close).
    End(Vec<u8>),
}

/// The common answers to control frames and protocol errors; data messages pass.
fn control(m: std::io::Result<Option<Message>>) -> Result<Vec<u8>, Control> {
    match m {
        Ok(Some(Message::Binary(data))) => Ok(data),
        Ok(Some(Message::Ping(p))) => Err(Control::Reply(websocket::frame(websocket::PONG, &p, None))),
        Ok(Some(Message::Pong(_))) => Err(Control::Ignore),
        Ok(Some(Message::Close(..))) | Ok(None) => Err(Control::End(websocket::close_frame(websocket::NORMAL_CLOSURE, ""))),
        Ok(Some(Message::Text(_))) => Err(Control::End(websocket::close_frame(websocket::UNSUPPORTED_DATA, "only binary messages are part of this protocol"))),
        Err(e) => Err(Control::End(websocket::close_frame(websocket::close_code_for(&e), &e.to_string()))),
    }
}

/// The client's side of a bridge: its messages, and the task that carries the kubelet's
/// bytes to it.
struct ClientSide<R> {
    reader: websocket::Reader<R>,
    to_client: JoinHandle<()>,
    ws_tx: mpsc::Sender<Vec<u8>>,
    kubelet_done: bool,
}

impl<R: AsyncRead + Unpin> ClientSide<R> {
    fn new(cr: R, to_client: JoinHandle<()>, ws_tx: mpsc::Sender<Vec<u8>>) -> Self {
        ClientSide { reader: websocket::Reader::server(cr), to_client, ws_tx, kubelet_done: false }
    }

    /// The client's next data message, answering pings on the way; `None` when the bridge
    /// ends (the client closed or broke the protocol, or the kubelet's direction finished).
    async fn next(&mut self) -> Option<Vec<u8>> {
        loop {
            let m = tokio::select! {
                _ = &mut self.to_client => {
                    self.kubelet_done = true;
                    return None;
                }
                m = self.reader.next() => m,
            };
            match control(m) {
                Ok(data) => return Some(data),
                Err(Control::Ignore) => {}
                Err(Control::Reply(frame)) => {
                    let _ = self.ws_tx.send(frame).await;
                }
                Err(Control::End(frame)) => {
                    let _ = self.ws_tx.send(frame).await;
                    return None;
                }
            }
        }
    }

    /// Stops the kubelet's direction if it still runs.
    async fn finish(mut self) {
        if !self.kubelet_done {
            self.to_client.abort();
            let _ = (&mut self.to_client).await;
        }
    }
}

/// Bridges a v5 client (already upgraded) to the kubelet that `connect` upgrades to SPDY.
pub async fn remote_command<C, K, F>(client: C, connect: F, streams: Streams)
where
    C: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    K: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    F: Future<Output = ApiResult<K>>,
{
    let (cr, cw) = tokio::io::split(client);
    let (ws_tx, ws_task) = writer(cw);
    let kubelet = match connect.await {
        Ok(k) => k,
        Err(e) => {
            tracing::debug!(error = %e.message, "exec translator: kubelet not reached");
            let status = serde_json::to_vec(&e.to_status()).unwrap_or_default();
            let _ = ws_tx.send(binary(ERROR, &status)).await;
            let _ = ws_tx.send(websocket::close_frame(websocket::NORMAL_CLOSURE, "")).await;
            drop(ws_tx);
            let _ = ws_task.await;
            return;
        }
    };
    let (mut kr, kw) = tokio::io::split(kubelet);
    let (spdy_tx, spdy_task) = writer(kw);

    // one SPDY stream per channel, as upstream's v4 client opens them
    let mut enc = HeaderEncoder::new();
    let mut stream_of: HashMap<u8, u32> = HashMap::new();
    let mut opening = Vec::new();
    let wanted = [
        (ERROR, "error", true),
        (STDIN, "stdin", streams.stdin),
        (STDOUT, "stdout", streams.stdout),
        (STDERR, "stderr", streams.stderr && !streams.tty),
        (RESIZE, "resize", streams.tty),
    ];
    let mut next_id = 1u32;
    for (channel, name, want) in wanted {
        if want {
            opening.extend(spdy::syn_stream(next_id, &enc.encode(&[("streamType", name)]), false));
            stream_of.insert(channel, next_id);
            next_id += 2;
        }
    }
    // nothing is written on the error stream: our side of it is closed at once
    opening.extend(spdy::data(stream_of[&ERROR], &[], true));
    if spdy_tx.send(opening).await.is_err() {
        return;
    }
    let channel_of: HashMap<u32, u8> = stream_of.iter().map(|(c, s)| (*s, *c)).collect();

    // kubelet → client: each DATA frame becomes a message on its channel
    let (to_client_ws, to_client_spdy) = (ws_tx.clone(), spdy_tx.clone());
    let to_client = tokio::spawn(async move {
        loop {
            match spdy::read_frame(&mut kr).await {
                Ok(Some(Frame::Data { stream, data, .. })) => {
                    if let Some(ch) = channel_of.get(&stream).filter(|_| !data.is_empty())
                        && to_client_ws.send(binary(*ch, &data)).await.is_err()
                    {
                        return;
                    }
                }
                Ok(Some(Frame::Control { kind: spdy::PING, body, .. })) => {
                    if let Some(id) = Frame::control_word(&body) {
                        let _ = to_client_spdy.send(spdy::ping(id)).await;
                    }
                }
                Ok(Some(Frame::Control { kind: spdy::RST_STREAM, body, .. })) => {
                    tracing::debug!(stream = ?Frame::control_word(&body), "exec translator: the kubelet reset a stream");
                }
                Ok(Some(Frame::Control { .. })) => {}
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!(error = %e, "exec translator: kubelet connection");
                    break;
                }
            }
        }
        let _ = to_client_ws.send(websocket::close_frame(websocket::NORMAL_CLOSURE, "")).await;
    });

    // client → kubelet: stdin and resize data, and their CLOSE signals as FINs
    let mut closed: Vec<u8> = Vec::new();
    let mut client = ClientSide::new(cr, to_client, ws_tx.clone());
    while let Some(data) = client.next().await {
        let bytes = match data.split_first() {
            Some((&STREAM_CLOSE, rest)) => match rest.first().and_then(|c| stream_of.get(c).map(|s| (*c, *s))) {
                Some((c, s)) if (c == STDIN || c == RESIZE) && !closed.contains(&c) => {
                    closed.push(c);
                    spdy::data(s, &[], true)
                }
                _ => continue,
            },
            Some((&c @ (STDIN | RESIZE), rest)) if !closed.contains(&c) && !rest.is_empty() => match stream_of.get(&c) {
                Some(s) => spdy::data(*s, rest, false),
                None => continue,
            },
            _ => continue,
        };
        if spdy_tx.send(bytes).await.is_err() {
            break;
        }
    }
    client.finish().await;
    drop(spdy_tx);
    drop(ws_tx);
    let _ = tokio::join!(spdy_task, ws_task);
}

/// Relays a tunneled SPDY session between a client (already upgraded) and a kubelet
/// connection already upgraded to SPDY `portforward.k8s.io`.
pub async fn tunnel<C, K>(client: C, kubelet: K)
where
    C: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    K: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (cr, cw) = tokio::io::split(client);
    let (ws_tx, ws_task) = writer(cw);
    let (mut kr, mut kw) = tokio::io::split(kubelet);
    let to_client_ws = ws_tx.clone();
    let to_client = tokio::spawn(async move {
        let mut buf = vec![0u8; spdy::MAX_DATA];
        loop {
            match kr.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => {
                    if to_client_ws.send(websocket::frame(websocket::BINARY, &buf[..n], None)).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e, "port-forward tunnel: kubelet connection");
                    break;
                }
            }
        }
        let _ = to_client_ws.send(websocket::close_frame(websocket::NORMAL_CLOSURE, "")).await;
    });
    let mut client = ClientSide::new(cr, to_client, ws_tx.clone());
    while let Some(data) = client.next().await {
        if kw.write_all(&data).await.is_err() || kw.flush().await.is_err() {
            break;
        }
    }
    let _ = kw.shutdown().await;
    client.finish().await;
    drop(ws_tx);
    let _ = ws_task.await;
}

/// An error for a kubelet that would not upgrade, from its answer (as upstream's translator
/// reports its SPDY client's failure: an internal error naming the kubelet's reason).
pub fn refused(code: http::StatusCode, body: &[u8]) -> ApiError {
    let text = String::from_utf8_lossy(body).trim().to_string();
    let text = if text.is_empty() { format!("the kubelet answered {}", code.as_u16()) } else { text };
    ApiError::internal(format_args!("unable to upgrade connection: {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::duplex;

    const MASK: Option<[u8; 4]> = Some([1, 2, 3, 4]);

    fn client_msg(channel: u8, data: &[u8]) -> Vec<u8> {
        let mut m = vec![channel];
        m.extend_from_slice(data);
        websocket::frame(websocket::BINARY, &m, MASK)
    }

    /// A fake kubelet end for the logic: reads the client's SPDY frames until stdin's FIN, then
    /// answers on stdout and the error stream and hangs up.
    async fn kubelet_side(mut k: tokio::io::DuplexStream) -> Vec<Frame> {
        let mut seen = Vec::new();
        let mut stdin_id = None;
        loop {
            let f = spdy::read_frame(&mut k).await.unwrap().unwrap();
            if let Frame::Control { kind: spdy::SYN_STREAM, body, .. } = &f {
                // the block is stored zlib: its stream type is readable in the clear
                if body.windows(5).any(|w| w == b"stdin") {
                    stdin_id = Frame::control_word(body);
                }
            }
            let done = matches!(&f, Frame::Data { stream, fin: true, .. } if Some(*stream) == stdin_id);
            seen.push(f);
            if done {
                break;
            }
        }
        k.write_all(&spdy::ping(9)).await.unwrap();
        k.write_all(&spdy::data(5, b"out", false)).await.unwrap();
        k.write_all(&spdy::data(1, br#"{"status":"Success"}"#, true)).await.unwrap();
        // the ping's answer comes back before the bridge notices the end
        loop {
            if let Frame::Control { kind: spdy::PING, body, .. } = spdy::read_frame(&mut k).await.unwrap().unwrap() {
                assert_eq!(Frame::control_word(&body), Some(9));
                break;
            }
        }
        seen
    }

    #[tokio::test]
    async fn v5_channels_become_spdy_streams_and_back() {
        let (client, client_far) = duplex(1 << 16);
        let (kubelet, kubelet_far) = duplex(1 << 16);
        let bridge = tokio::spawn(remote_command(client_far, async move { Ok(kubelet_far) }, Streams { stdin: true, stdout: true, stderr: true, tty: false }));
        let fake = tokio::spawn(kubelet_side(kubelet));
        let (cr, mut cw) = tokio::io::split(client);
        cw.write_all(&websocket::frame(websocket::PING, b"hb", MASK)).await.unwrap();
        cw.write_all(&client_msg(STDIN, b"hello")).await.unwrap();
        cw.write_all(&websocket::frame(websocket::BINARY, &[STREAM_CLOSE, STDIN], MASK)).await.unwrap();
        let mut r = websocket::Reader::client(cr);
        let mut got = Vec::new();
        while let Some(m) = r.next().await.unwrap() {
            let end = matches!(m, Message::Close(..));
            got.push(m);
            if end {
                break;
            }
        }
        assert_eq!(
            got,
            [
                Message::Pong(b"hb".to_vec()),
                Message::Binary(b"\x01out".to_vec()),
                Message::Binary(b"\x03{\"status\":\"Success\"}".to_vec()),
                Message::Close(Some(1000), String::new()),
            ]
        );
        let frames = fake.await.unwrap();
        // error, stdin, stdout, stderr opened as 1, 3, 5, 7; the error stream closed at once;
        // stdin's data and then its FIN
        let syns: Vec<u32> = frames.iter().filter_map(|f| match f {
            Frame::Control { kind: spdy::SYN_STREAM, body, .. } => Frame::control_word(body),
            _ => None,
        }).collect();
        assert_eq!(syns, [1, 3, 5, 7]);
        let data: Vec<(u32, bool, Vec<u8>)> = frames.into_iter().filter_map(|f| match f {
            Frame::Data { stream, fin, data } => Some((stream, fin, data)),
            _ => None,
        }).collect();
        assert_eq!(data, [(1, true, vec![]), (3, false, b"hello".to_vec()), (3, true, vec![])]);
        bridge.await.unwrap();
    }

    #[tokio::test]
    async fn a_kubelet_that_cannot_be_reached_is_a_status_on_the_error_channel() {
        let (client, client_far) = duplex(1 << 16);
        let failing = async { Err::<tokio::io::DuplexStream, _>(refused(http::StatusCode::NOT_FOUND, b"pod not found")) };
        tokio::spawn(remote_command(client_far, failing, Streams { stdin: false, stdout: true, stderr: true, tty: false }));
        let mut r = websocket::Reader::client(client);
        let Some(Message::Binary(m)) = r.next().await.unwrap() else { panic!("a status first") };
        assert_eq!(m[0], ERROR);
        let status: serde_json::Value = serde_json::from_slice(&m[1..]).unwrap();
        assert_eq!(status["code"].as_i64(), Some(500));
        assert!(status["message"].as_str().unwrap().ends_with("unable to upgrade connection: pod not found"), "{status}");
        assert_eq!(r.next().await.unwrap(), Some(Message::Close(Some(1000), String::new())));
    }

    #[tokio::test]
    async fn a_tty_session_opens_resize_instead_of_stderr_and_text_is_refused() {
        let (client, client_far) = duplex(1 << 16);
        let (mut kubelet, kubelet_far) = duplex(1 << 16);
        tokio::spawn(remote_command(client_far, async move { Ok(kubelet_far) }, Streams { stdin: false, stdout: true, stderr: true, tty: true }));
        let (cr, mut cw) = tokio::io::split(client);
        cw.write_all(&client_msg(RESIZE, br#"{"Width":100,"Height":40}"#)).await.unwrap();
        let mut syns = Vec::new();
        let resize = loop {
            match spdy::read_frame(&mut kubelet).await.unwrap().unwrap() {
                Frame::Control { kind: spdy::SYN_STREAM, body, .. } => syns.push(String::from_utf8_lossy(&body).into_owned()),
                Frame::Data { data, .. } if !data.is_empty() => break data,
                _ => {}
            }
        };
        assert_eq!(resize, br#"{"Width":100,"Height":40}"#);
        assert_eq!(syns.len(), 3, "error, stdout, resize");
        assert!(syns[2].contains("resize") && !syns.iter().any(|s| s.contains("stderr")), "{syns:?}");
        cw.write_all(&websocket::frame(websocket::TEXT, b"x", MASK)).await.unwrap();
        let mut r = websocket::Reader::client(cr);
        assert!(matches!(r.next().await.unwrap(), Some(Message::Close(Some(websocket::UNSUPPORTED_DATA), _))));
    }

    #[tokio::test]
    async fn the_tunnel_relays_bytes_both_ways_and_closes_when_the_kubelet_hangs_up() {
        let (client, client_far) = duplex(1 << 16);
        let (mut kubelet, kubelet_far) = duplex(1 << 16);
        tokio::spawn(tunnel(client_far, kubelet_far));
        let (cr, mut cw) = tokio::io::split(client);
        cw.write_all(&websocket::frame(websocket::BINARY, b"spdy-bytes", MASK)).await.unwrap();
        let mut buf = [0u8; 10];
        kubelet.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"spdy-bytes");
        kubelet.write_all(b"answer").await.unwrap();
        drop(kubelet);
        let mut r = websocket::Reader::client(cr);
        assert_eq!(r.next().await.unwrap(), Some(Message::Binary(b"answer".to_vec())));
        assert_eq!(r.next().await.unwrap(), Some(Message::Close(Some(1000), String::new())));
    }
}
