//! The server side of RFC 6455 WebSockets, as much as the streaming subresources need: the
//! opening handshake (`Sec-WebSocket-Accept`, subprotocol choice) and the frame codec (masked
//! client frames in, unmasked server frames out, fragments joined, control frames answered by
//! the caller). No extension is negotiated, so reserved bits must be zero.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

/// Opcodes of RFC 6455 section 5.2.
pub const CONTINUATION: u8 = 0x0;
pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;

/// Close codes used here.
pub const NORMAL_CLOSURE: u16 = 1000;
pub const PROTOCOL_ERROR: u16 = 1002;
pub const UNSUPPORTED_DATA: u16 = 1003;
pub const MESSAGE_TOO_BIG: u16 = 1009;
pub const INTERNAL_ERROR: u16 = 1011;

/// The largest message accepted from a client (stdin chunks and tunneled frames are far smaller).
pub const MAX_MESSAGE: usize = 16 << 20;

/// Whether a request asks to become a WebSocket (`Connection: upgrade` and `Upgrade: websocket`).
pub fn is_upgrade(headers: &http::HeaderMap) -> bool {
    let has_token = |name: http::header::HeaderName, token: &str| {
        headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    has_token(http::header::CONNECTION, "upgrade") && has_token(http::header::UPGRADE, "websocket")
}

/// The subprotocols a client offers, in its order (`Sec-WebSocket-Protocol`, possibly repeated).
pub fn offered_protocols(headers: &http::HeaderMap) -> Vec<String> {
    headers
        .get_all(http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

/// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key` (RFC 6455 section 4.2.2).
pub fn accept_key(key: &str) -> String {
    use base64::Engine;
    const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, format!("{}{GUID}", key.trim()).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
}

/// The headers of a `101 Switching Protocols` answer choosing `protocol`, or why the request
/// is not a WebSocket handshake this server can take.
pub fn handshake(headers: &http::HeaderMap, protocol: &str) -> Result<http::HeaderMap, String> {
    let version = headers.get(http::header::SEC_WEBSOCKET_VERSION).and_then(|v| v.to_str().ok()).unwrap_or("");
    if version.trim() != "13" {
        return Err(format!("unsupported WebSocket version {version:?}: only 13 is supported"));
    }
    let key = headers.get(http::header::SEC_WEBSOCKET_KEY).and_then(|v| v.to_str().ok()).unwrap_or("");
    if key.trim().is_empty() {
        return Err("missing Sec-WebSocket-Key".into());
    }
    let mut out = http::HeaderMap::new();
    out.insert(http::header::UPGRADE, http::HeaderValue::from_static("websocket"));
    out.insert(http::header::CONNECTION, http::HeaderValue::from_static("Upgrade"));
    let accept = http::HeaderValue::from_str(&accept_key(key)).map_err(|e| e.to_string())?;
    out.insert(http::header::SEC_WEBSOCKET_ACCEPT, accept);
    let protocol = http::HeaderValue::from_str(protocol).map_err(|e| e.to_string())?;
    out.insert(http::header::SEC_WEBSOCKET_PROTOCOL, protocol);
    Ok(out)
}

/// One frame on the wire: FIN set, unmasked when `mask` is `None` (a server's frames).
pub fn frame(opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(0x80 | (opcode & 0x0F));
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= 0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(m) => {
            out.extend_from_slice(&m);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ m[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// A close frame with a status code and a reason (truncated to fit a control frame).
pub fn close_frame(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    payload.extend_from_slice(&reason.as_bytes()[..end]);
    frame(CLOSE, &payload, None)
}

/// A whole message, or a control frame, from the peer.
#[derive(Debug, PartialEq, Eq)]
pub enum Message {
    Text(Vec<u8>),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// The peer's close: its code (if any) and reason.
    Close(Option<u16>, String),
}

/// A violation of the protocol, with the close code to answer it with.
#[derive(Debug)]
pub struct ProtocolError {
    pub code: u16,
    pub reason: String,
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "websocket: {} ({})", self.reason, self.code)
    }
}

impl std::error::Error for ProtocolError {}

fn violation(code: u16, reason: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, ProtocolError { code, reason: reason.into() })
}

/// The close code that answers a read error (1002 for a protocol violation, 1009 for size).
pub fn close_code_for(e: &io::Error) -> u16 {
    e.get_ref().and_then(|inner| inner.downcast_ref::<ProtocolError>()).map(|p| p.code).unwrap_or(INTERNAL_ERROR)
}

/// Reads messages from a client: frames must be masked; fragments are joined (control
/// frames may come between them and are returned at once).
pub struct Reader<R> {
    inner: R,
    /// The opcode and data of a fragmented message being joined.
    partial: Option<(u8, Vec<u8>)>,
    /// Whether frames must be masked (true for a server reading a client).
    require_mask: bool,
}

impl<R: AsyncRead + Unpin> Reader<R> {
    /// A server's reader of a client's frames.
    pub fn server(inner: R) -> Self {
        Self { inner, partial: None, require_mask: true }
    }

    /// A client's reader of a server's (unmasked) frames (the tests' side).
    #[cfg(test)]
    pub fn client(inner: R) -> Self {
        Self { inner, partial: None, require_mask: false }
    }

    /// The next message; `None` when the connection ended between frames.
    pub async fn next(&mut self) -> io::Result<Option<Message>> {
        loop {
            let mut head = [0u8; 2];
            match self.inner.read_exact(&mut head[..1]).await {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && self.partial.is_none() => return Ok(None),
                Err(e) => return Err(e),
            }
            self.inner.read_exact(&mut head[1..]).await?;
            let fin = head[0] & 0x80 != 0;
            if head[0] & 0x70 != 0 {
                return Err(violation(PROTOCOL_ERROR, "reserved bits set without a negotiated extension"));
            }
            let opcode = head[0] & 0x0F;
            let masked = head[1] & 0x80 != 0;
            if masked != self.require_mask {
                return Err(violation(PROTOCOL_ERROR, if masked { "masked frame from a server" } else { "unmasked frame from a client" }));
            }
            let len = match head[1] & 0x7F {
                126 => u64::from(self.inner.read_u16().await?),
                127 => self.inner.read_u64().await?,
                n => u64::from(n),
            };
            let control = opcode & 0x8 != 0;
            if control && (!fin || len > 125) {
                return Err(violation(PROTOCOL_ERROR, "fragmented or oversized control frame"));
            }
            let so_far = self.partial.as_ref().map(|(_, d)| d.len()).unwrap_or(0) as u64;
            if len + so_far > MAX_MESSAGE as u64 {
                return Err(violation(MESSAGE_TOO_BIG, format!("message larger than {MAX_MESSAGE} bytes")));
            }
            let mut key = [0u8; 4];
            if masked {
                self.inner.read_exact(&mut key).await?;
            }
            let mut payload = vec![0u8; len as usize];
            self.inner.read_exact(&mut payload).await?;
            if masked {
                for (i, b) in payload.iter_mut().enumerate() {
                    *b ^= key[i % 4];
                }
            }
            match opcode {
                PING => return Ok(Some(Message::Ping(payload))),
                PONG => return Ok(Some(Message::Pong(payload))),
                CLOSE => {
                    let code = (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                    let reason = String::from_utf8_lossy(payload.get(2..).unwrap_or_default()).into_owned();
                    return Ok(Some(Message::Close(code, reason)));
                }
                TEXT | BINARY => {
                    if self.partial.is_some() {
                        return Err(violation(PROTOCOL_ERROR, "a new message began inside a fragmented one"));
                    }
                    if fin {
                        return Ok(Some(if opcode == TEXT { Message::Text(payload) } else { Message::Binary(payload) }));
                    }
                    self.partial = Some((opcode, payload));
                }
                CONTINUATION => {
                    let Some((op, mut data)) = self.partial.take() else {
                        return Err(violation(PROTOCOL_ERROR, "continuation frame without a message"));
                    };
                    data.extend_from_slice(&payload);
                    if fin {
                        return Ok(Some(if op == TEXT { Message::Text(data) } else { Message::Binary(data) }));
                    }
                    self.partial = Some((op, data));
                }
                other => return Err(violation(PROTOCOL_ERROR, format!("unknown opcode {other:#x}"))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    async fn read_all(bytes: Vec<u8>, server: bool) -> Vec<io::Result<Option<Message>>> {
        let mut r = if server { Reader::server(&bytes[..]) } else { Reader::client(&bytes[..]) };
        let mut out = Vec::new();
        loop {
            let m = r.next().await;
            let end = !matches!(m, Ok(Some(_)));
            out.push(m);
            if end {
                return out;
            }
        }
    }

    #[test]
    fn accept_key_matches_the_rfc_example() {
        assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn handshake_needs_version_13_and_a_key() {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::CONNECTION, "keep-alive, Upgrade".parse().unwrap());
        h.insert(http::header::UPGRADE, "WebSocket".parse().unwrap());
        h.append(http::header::SEC_WEBSOCKET_PROTOCOL, "v5.channel.k8s.io, v4.channel.k8s.io".parse().unwrap());
        h.append(http::header::SEC_WEBSOCKET_PROTOCOL, "channel.k8s.io".parse().unwrap());
        assert!(is_upgrade(&h));
        assert_eq!(offered_protocols(&h), ["v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io"]);
        assert!(handshake(&h, "v5.channel.k8s.io").unwrap_err().contains("version"));
        h.insert(http::header::SEC_WEBSOCKET_VERSION, "13".parse().unwrap());
        assert!(handshake(&h, "v5.channel.k8s.io").unwrap_err().contains("Sec-WebSocket-Key"));
        h.insert(http::header::SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ==".parse().unwrap());
        let out = handshake(&h, "v5.channel.k8s.io").unwrap();
        assert_eq!(out[http::header::SEC_WEBSOCKET_ACCEPT], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(out[http::header::SEC_WEBSOCKET_PROTOCOL], "v5.channel.k8s.io");
        let mut plain = http::HeaderMap::new();
        plain.insert(http::header::CONNECTION, "Upgrade".parse().unwrap());
        plain.insert(http::header::UPGRADE, "SPDY/3.1".parse().unwrap());
        assert!(!is_upgrade(&plain));
    }

    #[test]
    fn frames_encode_the_three_length_forms() {
        assert_eq!(frame(BINARY, b"hi", None), [0x82, 2, b'h', b'i']);
        let mid = frame(BINARY, &[0u8; 300], None);
        assert_eq!(&mid[..4], &[0x82, 126, 1, 44]);
        assert_eq!(mid.len(), 304);
        let big = frame(BINARY, &vec![0u8; 70_000], None);
        assert_eq!(&big[..10], &[0x82, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
        let masked = frame(TEXT, b"Hello", Some(MASK));
        assert_eq!(masked, [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        let close = close_frame(1000, "");
        assert_eq!(close, [0x88, 2, 0x03, 0xe8]);
    }

    #[tokio::test]
    async fn reads_masked_messages_joins_fragments_and_passes_control_frames_between() {
        let mut bytes = frame(BINARY, &[1, b'o', b'u', b't'], Some(MASK));
        // "Hel" + ping + "lo": a fragmented text message with a ping inside it
        let mut first = frame(TEXT, b"Hel", Some(MASK));
        first[0] &= 0x7F; // not FIN
        bytes.extend(first);
        bytes.extend(frame(PING, b"hb", Some(MASK)));
        bytes.extend(frame(CONTINUATION, b"lo", Some(MASK)));
        bytes.extend(frame(BINARY, &vec![7u8; 70_000], Some(MASK)));
        bytes.extend({
            let mut c = 1000u16.to_be_bytes().to_vec();
            c.extend_from_slice(b"bye");
            frame(CLOSE, &c, Some(MASK))
        });
        let got = read_all(bytes, true).await;
        let got: Vec<Message> = got.into_iter().map(|m| m.unwrap()).take_while(|m| m.is_some()).map(Option::unwrap).collect();
        assert_eq!(got.len(), 5);
        assert_eq!(got[0], Message::Binary(vec![1, b'o', b'u', b't']));
        assert_eq!(got[1], Message::Ping(b"hb".to_vec()));
        assert_eq!(got[2], Message::Text(b"Hello".to_vec()));
        assert_eq!(got[3], Message::Binary(vec![7u8; 70_000]));
        assert_eq!(got[4], Message::Close(Some(1000), "bye".into()));
    }

    #[tokio::test]
    async fn protocol_violations_are_errors_with_their_close_codes() {
        // unmasked frame from a client
        let e = read_all(frame(BINARY, b"x", None), true).await.pop().unwrap().unwrap_err();
        assert_eq!(close_code_for(&e), PROTOCOL_ERROR);
        // a masked frame from a server
        let e = read_all(frame(BINARY, b"x", Some(MASK)), false).await.pop().unwrap().unwrap_err();
        assert_eq!(close_code_for(&e), PROTOCOL_ERROR);
        // reserved bits
        let mut f = frame(BINARY, b"x", Some(MASK));
        f[0] |= 0x40;
        assert_eq!(close_code_for(&read_all(f, true).await.pop().unwrap().unwrap_err()), PROTOCOL_ERROR);
        // a continuation with nothing to continue
        let e = read_all(frame(CONTINUATION, b"x", Some(MASK)), true).await.pop().unwrap().unwrap_err();
        assert!(e.to_string().contains("continuation"), "{e}");
        // a message over the limit is refused from its header, before its payload is read
        let mut huge = vec![0x82, 0xFF];
        huge.extend_from_slice(&((MAX_MESSAGE as u64) + 1).to_be_bytes());
        let e = read_all(huge, true).await.pop().unwrap().unwrap_err();
        assert_eq!(close_code_for(&e), MESSAGE_TOO_BIG);
        // a connection cut inside a frame is an error; between frames it is the end
        let mut cut = frame(BINARY, b"abcdef", Some(MASK));
        cut.truncate(8);
        assert_eq!(read_all(cut, true).await.pop().unwrap().unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
        assert!(matches!(read_all(Vec::new(), true).await.pop().unwrap(), Ok(None)));
        // an unknown opcode
        let e = read_all(frame(0x3, b"", Some(MASK)), true).await.pop().unwrap().unwrap_err();
        assert!(e.to_string().contains("unknown opcode"), "{e}");
    }
}
