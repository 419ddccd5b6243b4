//! The client side of SPDY/3.1 framing, as much as the kubelet's streaming protocol
//! (`v4.channel.k8s.io` over SPDY) needs when the apiserver translates a WebSocket client to it:
//! SYN_STREAM with a name/value header block, DATA with FIN, PING answers, and reading frames.
//!
//! Header blocks travel in one zlib stream per connection. The blocks written here are zlib
//! "stored" deflate blocks, which every inflater reads (with or without SPDY's dictionary);
//! the peer's compressed header blocks (SYN_REPLY) are skipped, never inflated, because nothing
//! in them is needed.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

pub const SYN_STREAM: u16 = 1;
pub const RST_STREAM: u16 = 3;
pub const PING: u16 = 6;

/// The FIN flag of SYN_STREAM and DATA frames: the sender will write no more on the stream.
pub const FLAG_FIN: u8 = 0x01;

/// The largest DATA payload written in one frame.
pub const MAX_DATA: usize = 32 * 1024;

/// An empty non-final stored block: what a zlib sync flush writes.
const SYNC_FLUSH: [u8; 5] = [0x00, 0x00, 0x00, 0xFF, 0xFF];

/// The zlib stream of a connection's outgoing header blocks.
#[derive(Default)]
pub struct HeaderEncoder {
    started: bool,
}

impl HeaderEncoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The compressed block for `pairs` (names are lowercased, as SPDY requires).
    pub fn encode(&mut self, pairs: &[(&str, &str)]) -> Vec<u8> {
        let mut raw = Vec::new();
        raw.extend_from_slice(&(pairs.len() as u32).to_be_bytes());
        for (name, value) in pairs {
            let name = name.to_ascii_lowercase();
            raw.extend_from_slice(&(name.len() as u32).to_be_bytes());
            raw.extend_from_slice(name.as_bytes());
            raw.extend_from_slice(&(value.len() as u32).to_be_bytes());
            raw.extend_from_slice(value.as_bytes());
        }
        let mut out = Vec::with_capacity(raw.len() + 8);
        if !self.started {
            // CMF 0x78 (deflate, 32K window), FLG 0x01: no preset dictionary, check bits valid
            out.extend_from_slice(&[0x78, 0x01]);
            self.started = true;
        }
        for chunk in raw.chunks(0xFFFF) {
            // a non-final stored block: the block ends on a byte boundary, as a sync flush does
            let len = chunk.len() as u16;
            out.push(0x00);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&(!len).to_le_bytes());
            out.extend_from_slice(chunk);
        }
        // and an empty stored block, the sync-flush marker: Go's inflater hands over what it
        // has only at a flush (after a non-empty stored block it would read on for the next
        // block, past the end of the frame)
        out.extend_from_slice(&SYNC_FLUSH);
        out
    }
}

fn control(kind: u16, flags: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + body.len());
    out.extend_from_slice(&(0x8000u16 | 3).to_be_bytes());
    out.extend_from_slice(&kind.to_be_bytes());
    out.push(flags);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// SYN_STREAM opening stream `id` (odd: client-initiated) with an encoded header block.
pub fn syn_stream(id: u32, block: &[u8], fin: bool) -> Vec<u8> {
    let mut body = Vec::with_capacity(10 + block.len());
    body.extend_from_slice(&(id & 0x7FFF_FFFF).to_be_bytes());
    body.extend_from_slice(&0u32.to_be_bytes()); // associated-to stream
    body.extend_from_slice(&[0, 0]); // priority 0, slot 0
    body.extend_from_slice(block);
    control(SYN_STREAM, if fin { FLAG_FIN } else { 0 }, &body)
}

/// DATA frames carrying `payload` on stream `id` (split at [`MAX_DATA`]); with `fin`, the last
/// (or an empty one) closes the stream for writing.
pub fn data(id: u32, payload: &[u8], fin: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 8);
    let mut chunks: Vec<&[u8]> = payload.chunks(MAX_DATA).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let last = chunks.len() - 1;
    for (i, chunk) in chunks.into_iter().enumerate() {
        out.extend_from_slice(&(id & 0x7FFF_FFFF).to_be_bytes());
        out.push(if fin && i == last { FLAG_FIN } else { 0 });
        out.extend_from_slice(&(chunk.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(chunk);
    }
    out
}

/// A PING (the answer to a peer's PING carries the same id).
pub fn ping(id: u32) -> Vec<u8> {
    control(PING, 0, &id.to_be_bytes())
}

/// A frame read from the peer.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    Data { stream: u32, fin: bool, data: Vec<u8> },
    /// A control frame: its type, flags and body (header blocks still compressed).
    Control { kind: u16, flags: u8, body: Vec<u8> },
}

impl Frame {
    /// The first 32-bit word of a control frame's body (its stream id, or a PING's id).
    pub fn control_word(body: &[u8]) -> Option<u32> {
        body.get(..4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) & 0x7FFF_FFFF)
    }
}

/// The next frame; `None` when the connection ended between frames.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> io::Result<Option<Frame>> {
    let mut head = [0u8; 8];
    match r.read_exact(&mut head[..1]).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    r.read_exact(&mut head[1..]).await?;
    let flags = head[4];
    let len = u32::from_be_bytes([0, head[5], head[6], head[7]]) as usize;
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await?;
    if head[0] & 0x80 != 0 {
        let version = u16::from_be_bytes([head[0] & 0x7F, head[1]]);
        if version != 3 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("SPDY version {version} frame; only 3 is spoken")));
        }
        Ok(Some(Frame::Control { kind: u16::from_be_bytes([head[2], head[3]]), flags, body }))
    } else {
        let stream = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) & 0x7FFF_FFFF;
        Ok(Some(Frame::Data { stream, fin: flags & FLAG_FIN != 0, data: body }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses a raw (inflated) name/value block.
    fn pairs(raw: &[u8]) -> Vec<(String, String)> {
        let word = |at: usize| u32::from_be_bytes(raw[at..at + 4].try_into().unwrap()) as usize;
        let (mut at, mut out) = (4, Vec::new());
        for _ in 0..word(0) {
            let n = word(at);
            let name = String::from_utf8(raw[at + 4..at + 4 + n].to_vec()).unwrap();
            at += 4 + n;
            let v = word(at);
            let value = String::from_utf8(raw[at + 4..at + 4 + v].to_vec()).unwrap();
            at += 4 + v;
            out.push((name, value));
        }
        out
    }

    #[test]
    fn header_blocks_are_one_zlib_stream_that_an_inflater_reads_frame_by_frame() {
        let mut enc = HeaderEncoder::new();
        let first = enc.encode(&[("streamType", "error")]);
        let second = enc.encode(&[("streamtype", "stdin"), ("x-extra", "a")]);
        assert_eq!(&first[..2], &[0x78, 0x01]);
        assert!(first.ends_with(&SYNC_FLUSH) && second.ends_with(&SYNC_FLUSH), "each block ends at a flush");
        assert_eq!((0x78u32 * 256 + 0x01) % 31, 0, "zlib header check bits");
        // one inflater over the connection's blocks, each read as it arrives (SPDY peers do this)
        let mut z = flate2::Decompress::new(true);
        let mut inflate = |input: &[u8]| {
            let mut out = vec![0u8; 4096];
            let before = z.total_out();
            z.decompress(input, &mut out, flate2::FlushDecompress::Sync).unwrap();
            out.truncate((z.total_out() - before) as usize);
            out
        };
        assert_eq!(pairs(&inflate(&first)), [("streamtype".to_string(), "error".to_string())]);
        assert_eq!(pairs(&inflate(&second)), [("streamtype".into(), "stdin".into()), ("x-extra".into(), "a".into())]);
    }

    #[tokio::test]
    async fn frames_round_trip() {
        let mut enc = HeaderEncoder::new();
        let block = enc.encode(&[("streamtype", "stdout")]);
        let mut wire = syn_stream(3, &block, false);
        wire.extend(data(3, b"hello", false));
        wire.extend(data(3, &[], true));
        wire.extend(ping(7));
        wire.extend(data(5, &vec![1u8; MAX_DATA + 10], true));
        let mut r = &wire[..];
        match read_frame(&mut r).await.unwrap().unwrap() {
            Frame::Control { kind, flags, body } => {
                assert_eq!((kind, flags), (SYN_STREAM, 0));
                assert_eq!(Frame::control_word(&body), Some(3));
                assert_eq!(&body[10..], &block[..]);
            }
            f => panic!("{f:?}"),
        }
        assert_eq!(read_frame(&mut r).await.unwrap().unwrap(), Frame::Data { stream: 3, fin: false, data: b"hello".to_vec() });
        assert_eq!(read_frame(&mut r).await.unwrap().unwrap(), Frame::Data { stream: 3, fin: true, data: vec![] });
        assert_eq!(read_frame(&mut r).await.unwrap().unwrap(), Frame::Control { kind: PING, flags: 0, body: 7u32.to_be_bytes().to_vec() });
        assert_eq!(read_frame(&mut r).await.unwrap().unwrap(), Frame::Data { stream: 5, fin: false, data: vec![1u8; MAX_DATA] });
        assert_eq!(read_frame(&mut r).await.unwrap().unwrap(), Frame::Data { stream: 5, fin: true, data: vec![1u8; 10] });
        assert_eq!(read_frame(&mut r).await.unwrap(), None);
        // a frame of another SPDY version is refused
        let mut v2 = ping(1);
        v2[1] = 2;
        assert!(read_frame(&mut &v2[..]).await.unwrap_err().to_string().contains("version 2"));
        // a cut frame is an error, not an end
        let cut = &data(1, b"abc", false)[..9];
        assert_eq!(read_frame(&mut &cut[..]).await.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }
}
