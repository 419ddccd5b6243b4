//! Byte formats of the write-ahead log and of snapshots.
//!
//! Both files are sequences of frames `[len u32][crc32 u32][payload]` (little endian, crc32 of
//! the payload, crc32fast/IEEE). Every payload starts with a 4-byte magic naming its kind.
//!
//! * A log frame (magic `FKW1`) is one group commit: the entries of every write the committer
//!   synced together, each `[revision i64][op u8][key_len u32][key][value_len u32][value]` (no
//!   value for a delete). It is written with one `write` and then `fdatasync`ed before the next
//!   frame is written, so after a crash only the last frame of the last segment can be torn.
//! * A snapshot is a header frame (`FKSH`: revision, and the event of that revision so a watch
//!   can start exactly at it), entry frames (`FKSE`: a count, then
//!   `[key_len u32][key][create i64][mod i64][version i64][value_len u32][value]` in key order),
//!   and an end frame (`FKSZ`: the total number of keys). A snapshot without its end frame is
//!   invalid.

use std::io::{Read, Write};
use std::sync::Arc;

use bytes::Bytes;

use super::state::HistEvent;
use super::tree::Rec;

/// Bytes before a frame's payload: length and crc.
pub(crate) const FRAME_HEADER: usize = 8;
/// Magic of a log frame.
pub(crate) const WAL_MAGIC: u32 = u32::from_le_bytes(*b"FKW1");
/// Magic of a snapshot's header frame.
pub(crate) const SNAP_HEAD: u32 = u32::from_le_bytes(*b"FKSH");
/// Magic of a snapshot's entry frames.
pub(crate) const SNAP_ENTRIES: u32 = u32::from_le_bytes(*b"FKSE");
/// Magic of a snapshot's end frame.
pub(crate) const SNAP_END: u32 = u32::from_le_bytes(*b"FKSZ");
/// Largest payload a reader accepts (a larger length is garbage).
pub(crate) const MAX_PAYLOAD: usize = 1 << 31;
/// A log frame is closed (and a new one started) once it holds this many bytes.
pub(crate) const FRAME_TARGET: usize = 32 << 20;
/// Revisions at or above this in a file are corrupt (keeps every `+ 1` far from overflow).
pub(crate) const MAX_REVISION: i64 = i64::MAX / 4;
/// The most bytes of key and value one write may carry.
pub(crate) const MAX_VALUE: usize = 1 << 30;

const OP_PUT: u8 = 1;
const OP_DELETE: u8 = 2;

/// A new frame buffer: room for the header, then the magic.
pub(crate) fn new_frame(magic: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(4096);
    v.extend_from_slice(&[0; FRAME_HEADER]);
    v.extend_from_slice(&magic.to_le_bytes());
    v
}

/// Fills in a frame's header (length and crc of everything after it).
pub(crate) fn seal_frame(buf: &mut [u8]) {
    let Some((head, payload)) = buf.split_at_mut_checked(FRAME_HEADER) else { return };
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let crc = crc32fast::hash(payload);
    head[..4].copy_from_slice(&len.to_le_bytes());
    head[4..].copy_from_slice(&crc.to_le_bytes());
}

/// Appends one log entry.
pub(crate) fn encode_entry(buf: &mut Vec<u8>, rev: i64, key: &str, value: Option<&[u8]>) {
    buf.extend_from_slice(&rev.to_le_bytes());
    buf.push(if value.is_some() { OP_PUT } else { OP_DELETE });
    put_bytes(buf, key.as_bytes());
    if let Some(v) = value {
        put_bytes(buf, v);
    }
}

fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    buf.extend_from_slice(&(b.len() as u32).to_le_bytes());
    buf.extend_from_slice(b);
}

fn put_rec(buf: &mut Vec<u8>, r: &Rec) {
    buf.extend_from_slice(&r.create.to_le_bytes());
    buf.extend_from_slice(&r.modr.to_le_bytes());
    buf.extend_from_slice(&r.version.to_le_bytes());
    put_bytes(buf, &r.value);
}

/// The frame at `off` in `data`: `Some((payload_start, payload_end))` if it is complete and its
/// crc matches.
pub(crate) fn frame_at(data: &[u8], off: usize) -> Option<(usize, usize)> {
    let head = data.get(off..off.checked_add(FRAME_HEADER)?)?;
    let len = u32::from_le_bytes(head.get(..4)?.try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(head.get(4..)?.try_into().ok()?);
    if len > MAX_PAYLOAD {
        return None;
    }
    let start = off + FRAME_HEADER;
    let end = start.checked_add(len)?;
    let payload = data.get(start..end)?;
    (crc32fast::hash(payload) == crc).then_some((start, end))
}

/// Whether a complete, crc-valid frame with this magic starts anywhere at or after `from`:
/// after a bad frame, that tells corruption in the middle of a log (valid data follows) from a
/// torn write at its end (nothing valid follows).
pub(crate) fn valid_frame_after(data: &[u8], from: usize, magic: u32) -> bool {
    let m = magic.to_le_bytes();
    let mut off = from;
    while off + FRAME_HEADER + 4 <= data.len() {
        if data.get(off + FRAME_HEADER..off + FRAME_HEADER + 4) == Some(&m[..]) && frame_at(data, off).is_some() {
            return true;
        }
        off += 1;
    }
    false
}

/// A decoder over a payload; every read returns `None` past the end.
pub(crate) struct Dec<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Dec<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Dec { buf, pos: 0 }
    }
    pub fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.buf.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    pub fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    pub fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    pub fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    pub fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    pub fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }
    fn rec(&mut self) -> Option<Rec> {
        let create = self.i64()?;
        let modr = self.i64()?;
        let version = self.i64()?;
        let value = Bytes::copy_from_slice(self.bytes()?);
        Some(Rec { value, create, modr, version })
    }
}

/// One decoded log entry.
#[derive(Debug)]
pub(crate) struct WalEntry {
    pub rev: i64,
    pub key: String,
    /// `Some` for a put, `None` for a delete.
    pub value: Option<Bytes>,
}

/// Decodes a (crc-valid) log frame payload.
pub(crate) fn decode_wal_payload(payload: &[u8]) -> Result<Vec<WalEntry>, String> {
    let mut d = Dec::new(payload);
    if d.u32() != Some(WAL_MAGIC) {
        return Err("log frame has a bad magic".into());
    }
    let mut out = Vec::new();
    while !d.done() {
        let entry = (|| {
            let rev = d.i64()?;
            let op = d.u8()?;
            let key = d.str()?.to_string();
            let value = match op {
                OP_PUT => Some(Bytes::copy_from_slice(d.bytes()?)),
                OP_DELETE => None,
                _ => return None,
            };
            Some(WalEntry { rev, key, value })
        })();
        match entry {
            Some(e) => out.push(e),
            None => return Err("log frame holds a malformed entry".into()),
        }
    }
    Ok(out)
}

/// Writes a snapshot as frames.
pub(crate) struct SnapWriter<W: Write> {
    w: W,
    frame: Vec<u8>,
    in_frame: u32,
    total: u64,
    written: u64,
}

/// A snapshot entry frame is closed once it holds this many bytes.
const SNAP_FRAME_TARGET: usize = 1 << 20;

impl<W: Write> SnapWriter<W> {
    /// Starts a snapshot of the state at `rev`; `event` is the event of revision `rev` (if any).
    pub fn new(mut w: W, rev: i64, event: Option<&HistEvent>) -> std::io::Result<Self> {
        let mut f = new_frame(SNAP_HEAD);
        f.extend_from_slice(&1u32.to_le_bytes());
        f.extend_from_slice(&rev.to_le_bytes());
        match event {
            Some(ev) => {
                f.push(1);
                encode_event(&mut f, ev);
            }
            None => f.push(0),
        }
        seal_frame(&mut f);
        w.write_all(&f)?;
        Ok(SnapWriter { w, frame: Vec::new(), in_frame: 0, total: 0, written: f.len() as u64 })
    }

    /// Adds one key (keys must come in increasing order).
    pub fn entry(&mut self, key: &str, r: &Rec) -> std::io::Result<()> {
        if self.frame.is_empty() {
            self.frame = new_frame(SNAP_ENTRIES);
            self.frame.extend_from_slice(&0u32.to_le_bytes());
        }
        put_bytes(&mut self.frame, key.as_bytes());
        put_rec(&mut self.frame, r);
        self.in_frame += 1;
        self.total += 1;
        if self.frame.len() >= SNAP_FRAME_TARGET {
            self.flush_frame()?;
        }
        Ok(())
    }

    fn flush_frame(&mut self) -> std::io::Result<()> {
        if self.frame.is_empty() {
            return Ok(());
        }
        let n = self.in_frame.to_le_bytes();
        if let Some(slot) = self.frame.get_mut(FRAME_HEADER + 4..FRAME_HEADER + 8) {
            slot.copy_from_slice(&n);
        }
        seal_frame(&mut self.frame);
        self.w.write_all(&self.frame)?;
        self.written += self.frame.len() as u64;
        self.frame.clear();
        self.in_frame = 0;
        Ok(())
    }

    /// Bytes handed to the writer so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The underlying writer.
    pub fn inner_mut(&mut self) -> &mut W {
        &mut self.w
    }

    /// Writes the end frame; returns the writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.flush_frame()?;
        let mut f = new_frame(SNAP_END);
        f.extend_from_slice(&self.total.to_le_bytes());
        seal_frame(&mut f);
        self.w.write_all(&f)?;
        self.w.flush()?;
        Ok(self.w)
    }
}

fn encode_event(buf: &mut Vec<u8>, ev: &HistEvent) {
    buf.extend_from_slice(&ev.rev.to_le_bytes());
    put_bytes(buf, ev.key.as_bytes());
    for r in [&ev.new, &ev.prev] {
        match r {
            Some(r) => {
                buf.push(1);
                put_rec(buf, r);
            }
            None => buf.push(0),
        }
    }
}

fn decode_event(d: &mut Dec<'_>) -> Option<HistEvent> {
    let rev = d.i64()?;
    let key: Arc<str> = Arc::from(d.str()?);
    let mut recs = [None, None];
    for slot in &mut recs {
        *slot = match d.u8()? {
            0 => None,
            1 => Some(d.rec()?),
            _ => return None,
        };
    }
    let [new, prev] = recs;
    Some(HistEvent { rev, key, new, prev })
}

/// A loaded snapshot.
pub(crate) struct Snapshot {
    pub rev: i64,
    pub event: Option<HistEvent>,
    /// Entries in key order.
    pub entries: Vec<(Arc<str>, Rec)>,
}

fn read_frame<R: Read>(r: &mut R) -> Result<Vec<u8>, String> {
    let mut head = [0u8; FRAME_HEADER];
    r.read_exact(&mut head).map_err(|e| format!("snapshot truncated: {e}"))?;
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    if len > MAX_PAYLOAD {
        return Err("snapshot frame length is out of range".into());
    }
    let mut payload = Vec::new();
    r.take(len as u64).read_to_end(&mut payload).map_err(|e| format!("snapshot read failed: {e}"))?;
    if payload.len() != len {
        return Err("snapshot truncated".into());
    }
    if crc32fast::hash(&payload) != crc {
        return Err("snapshot frame checksum mismatch".into());
    }
    Ok(payload)
}

/// Reads and verifies a whole snapshot.
pub(crate) fn read_snapshot<R: Read>(mut r: R) -> Result<Snapshot, String> {
    let head = read_frame(&mut r)?;
    let mut d = Dec::new(&head);
    let bad = || "snapshot header is malformed".to_string();
    if d.u32() != Some(SNAP_HEAD) || d.u32() != Some(1) {
        return Err("not a snapshot (bad magic or version)".into());
    }
    let rev = d.i64().ok_or_else(bad)?;
    let event = match d.u8().ok_or_else(bad)? {
        0 => None,
        1 => Some(decode_event(&mut d).ok_or_else(bad)?),
        _ => return Err(bad()),
    };
    if !d.done() || !(1..MAX_REVISION).contains(&rev) || event.as_ref().is_some_and(|e| e.rev != rev) {
        return Err(bad());
    }
    let mut entries: Vec<(Arc<str>, Rec)> = Vec::new();
    loop {
        let f = read_frame(&mut r)?;
        let mut d = Dec::new(&f);
        match d.u32() {
            Some(SNAP_ENTRIES) => {
                let n = d.u32().ok_or("snapshot entry frame is malformed")?;
                for _ in 0..n {
                    let e = (|| {
                        let key: Arc<str> = Arc::from(d.str()?);
                        let rec = d.rec()?;
                        Some((key, rec))
                    })()
                    .ok_or("snapshot entry is malformed")?;
                    if entries.last().is_some_and(|(k, _)| **k >= *e.0) {
                        return Err("snapshot keys are out of order".into());
                    }
                    let r = &e.1;
                    if r.modr > rev || r.create < 2 || r.create > r.modr || r.version < 1 || r.version > r.modr {
                        return Err(format!("snapshot entry {:?} has impossible revisions", e.0));
                    }
                    entries.push(e);
                }
                if !d.done() {
                    return Err("snapshot entry frame has trailing bytes".into());
                }
            }
            Some(SNAP_END) => {
                let total = d.u64().ok_or("snapshot end frame is malformed")?;
                if total != entries.len() as u64 {
                    return Err("snapshot key count mismatch".into());
                }
                let mut rest = [0u8; 1];
                if r.read(&mut rest).map_err(|e| e.to_string())? != 0 {
                    return Err("snapshot has data after its end".into());
                }
                return Ok(Snapshot { rev, event, entries });
            }
            _ => return Err("snapshot frame has a bad magic".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wal_frame_round_trip_and_damage() {
        let mut f = new_frame(WAL_MAGIC);
        encode_entry(&mut f, 7, "/a", Some(b"hello"));
        encode_entry(&mut f, 8, "/b", None);
        seal_frame(&mut f);
        let (s, e) = frame_at(&f, 0).expect("valid frame");
        let entries = decode_wal_payload(&f[s..e]).expect("decodes");
        assert_eq!(entries.len(), 2);
        assert_eq!((entries[0].rev, entries[0].key.as_str()), (7, "/a"));
        assert_eq!(entries[0].value.as_deref(), Some(&b"hello"[..]));
        assert_eq!((entries[1].rev, entries[1].key.as_str(), entries[1].value.is_none()), (8, "/b", true));
        // every truncation is detected
        for cut in 0..f.len() {
            assert!(frame_at(&f[..cut], 0).is_none(), "cut at {cut}");
        }
        // every single-bit flip is detected
        for i in 0..f.len() {
            let mut g = f.clone();
            g[i] ^= 0x10;
            assert!(frame_at(&g, 0).is_none(), "flip at {i}");
        }
        // a valid frame after garbage is found
        let mut data = vec![0xAB; 13];
        data.extend_from_slice(&f);
        assert!(valid_frame_after(&data, 1, WAL_MAGIC));
        assert!(!valid_frame_after(&data, 14, WAL_MAGIC));
    }

    #[test]
    fn snapshot_round_trip_and_truncation() {
        let ev = HistEvent {
            rev: 9,
            key: Arc::from("/x"),
            new: None,
            prev: Some(Rec { value: Bytes::from_static(b"old"), create: 3, modr: 5, version: 2 }),
        };
        let mut w = SnapWriter::new(Vec::new(), 9, Some(&ev)).expect("header");
        for i in 0..5000 {
            let r = Rec { value: Bytes::from(vec![b'v'; i % 700]), create: 2, modr: 8, version: 3 };
            w.entry(&format!("/k/{i:05}"), &r).expect("entry");
        }
        let buf = w.finish().expect("finish");
        let snap = read_snapshot(&buf[..]).expect("reads back");
        assert_eq!(snap.rev, 9);
        assert_eq!(snap.entries.len(), 5000);
        assert_eq!(&*snap.entries[4999].0, "/k/04999");
        assert_eq!(snap.entries[699].1.value.len(), 699);
        let e = snap.event.expect("event");
        assert_eq!((e.rev, &*e.key, e.new.is_none()), (9, "/x", true));
        assert_eq!(e.prev.map(|p| p.version), Some(2));
        for cut in [0, 5, 8, 100, buf.len() / 2, buf.len() - 1] {
            assert!(read_snapshot(&buf[..cut]).is_err(), "cut at {cut}");
        }
        let mut extra = buf.clone();
        extra.push(0);
        assert!(read_snapshot(&extra[..]).is_err());
    }
}
