//! Files in the data directory: log segments `wal-<first revision>.log`, snapshots
//! `snap-<revision>.snap` (written as `*.tmp`, fsynced, renamed, directory fsynced), and `LOCK`.
//! Start-up recovery (newest snapshot + log replay, torn-tail repair) and snapshot writing.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::codec::{self, WAL_MAGIC};
use super::state::{HistEvent, MemState};
use super::tree::Tree;
use crate::{Error, Result};

pub(crate) fn wal_name(first_rev: i64) -> String {
    format!("wal-{first_rev:020}.log")
}

pub(crate) fn snap_name(rev: i64) -> String {
    format!("snap-{rev:020}.snap")
}

fn parse_name(name: &str, prefix: &str, suffix: &str) -> Option<i64> {
    let digits = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Makes a directory's entries (creations, renames, removals) durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The files of the data directory, sorted by revision.
struct Listing {
    wals: Vec<(i64, PathBuf)>,
    snaps: Vec<(i64, PathBuf)>,
    tmps: Vec<PathBuf>,
}

fn list(dir: &Path) -> io::Result<Listing> {
    let mut l = Listing { wals: Vec::new(), snaps: Vec::new(), tmps: Vec::new() };
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(r) = parse_name(name, "wal-", ".log") {
            l.wals.push((r, entry.path()));
        } else if let Some(r) = parse_name(name, "snap-", ".snap") {
            l.snaps.push((r, entry.path()));
        } else if name.starts_with("snap-") && name.ends_with(".tmp") {
            l.tmps.push(entry.path());
        }
    }
    l.wals.sort();
    l.snaps.sort();
    Ok(l)
}

/// The log segment the committer appends to.
pub(crate) struct Segment {
    pub file: File,
    /// Its size in bytes.
    pub bytes: u64,
}

impl Segment {
    /// Creates an empty segment for revisions from `first_rev` on and makes it durable.
    pub fn create(dir: &Path, first_rev: i64) -> io::Result<Segment> {
        let path = dir.join(wal_name(first_rev));
        let file = OpenOptions::new().create(true).append(true).mode(0o600).open(&path)?;
        let bytes = file.metadata()?.len();
        file.sync_all()?;
        sync_dir(dir)?;
        Ok(Segment { file, bytes })
    }
}

/// The state rebuilt at start-up.
pub(crate) struct Recovered {
    pub mem: MemState,
    pub segment: Segment,
    /// Revision of the newest snapshot on disk (1 if none: the empty store).
    pub snapshot_rev: i64,
}

fn corrupt(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Corrupt(format!("{}: {what}", path.display()))
}

/// Loads the newest snapshot and replays the log after it.
pub(crate) fn recover(dir: &Path, max_history_bytes: usize) -> Result<Recovered> {
    let listing = list(dir)?;
    let mut changed_dir = false;
    for t in &listing.tmps {
        // A snapshot that never got renamed: never complete, never referenced.
        fs::remove_file(t)?;
        changed_dir = true;
    }
    let (mut mem, snapshot_rev) = match listing.snaps.last() {
        Some((rev, path)) => {
            let f = File::open(path)?;
            let snap = codec::read_snapshot(BufReader::with_capacity(1 << 20, f)).map_err(|e| corrupt(path, e))?;
            if snap.rev != *rev {
                return Err(corrupt(path, format!("holds revision {} but is named for {rev}", snap.rev)));
            }
            (MemState::from_snapshot(snap.rev, snap.entries, snap.event), snap.rev)
        }
        None => (MemState::new(), 1),
    };
    for (_, path) in listing.snaps.iter().rev().skip(1) {
        fs::remove_file(path)?;
        changed_dir = true;
    }

    let mut active = None;
    let n = listing.wals.len();
    for (i, (_, path)) in listing.wals.iter().enumerate() {
        let last = i + 1 == n;
        let data = fs::read(path)?;
        let mut off = 0usize;
        let mut newest = 0i64;
        while off < data.len() {
            let Some((start, end)) = codec::frame_at(&data, off) else {
                if !last {
                    return Err(corrupt(path, format!("corrupt record at offset {off} in a sealed log segment")));
                }
                if codec::valid_frame_after(&data, off + 1, WAL_MAGIC) {
                    return Err(corrupt(path, format!("corrupt record at offset {off} followed by valid records")));
                }
                tracing::warn!(
                    segment = %path.display(),
                    offset = off,
                    dropped_bytes = data.len() - off,
                    "torn write at the end of the log (crash during a write); truncating it"
                );
                let f = OpenOptions::new().write(true).open(path)?;
                f.set_len(off as u64)?;
                f.sync_all()?;
                break;
            };
            let payload = data.get(start..end).unwrap_or_default();
            let entries =
                codec::decode_wal_payload(payload).map_err(|e| corrupt(path, format!("offset {off}: {e}")))?;
            for e in entries {
                newest = newest.max(e.rev);
                if e.rev <= mem.latest {
                    if e.rev <= snapshot_rev {
                        continue; // already in the snapshot
                    }
                    return Err(corrupt(path, format!("revision {} appears twice", e.rev)));
                }
                if e.rev != mem.latest + 1 {
                    return Err(corrupt(path, format!("revision {} follows {}: the log has a gap", e.rev, mem.latest)));
                }
                if e.key.is_empty() {
                    return Err(corrupt(path, format!("revision {} has an empty key", e.rev)));
                }
                match e.value {
                    Some(v) => {
                        let k = mem.intern(&e.key);
                        mem.put(k, v);
                    }
                    None => {
                        if mem.delete(&e.key).is_none() {
                            return Err(corrupt(path, format!("revision {} deletes missing key {:?}", e.rev, e.key)));
                        }
                    }
                }
            }
            mem.trim(max_history_bytes, mem.latest, usize::MAX);
            off = end;
        }
        if last {
            active = Some(path.clone());
        } else if newest <= snapshot_rev {
            // Every revision in it is in the snapshot (a crash came between writing the
            // snapshot and deleting the segments it replaced).
            fs::remove_file(path)?;
            changed_dir = true;
        }
    }
    if changed_dir {
        sync_dir(dir)?;
    }
    let segment = match active {
        Some(path) => {
            let file = OpenOptions::new().append(true).open(&path)?;
            let bytes = file.metadata()?.len();
            Segment { file, bytes }
        }
        None => Segment::create(dir, mem.latest + 1)?,
    };
    Ok(Recovered { mem, segment, snapshot_rev })
}

/// A snapshot being written is synced every this many bytes.
const SNAPSHOT_SYNC_BYTES: u64 = 4 << 20;

/// Writes a snapshot of `tree` (the state at `rev`) durably, then deletes the log segments and
/// snapshots it replaces. `abort` stops it early (leaving no trace).
pub(crate) fn write_snapshot(
    dir: &Path,
    tree: &Tree,
    rev: i64,
    event: Option<&HistEvent>,
    abort: &AtomicBool,
) -> io::Result<()> {
    let final_path = dir.join(snap_name(rev));
    let tmp = dir.join(format!("{}.tmp", snap_name(rev)));
    let res = (|| {
        let file = OpenOptions::new().create(true).write(true).truncate(true).mode(0o600).open(&tmp)?;
        let mut w = codec::SnapWriter::new(BufWriter::with_capacity(1 << 20, file), rev, event)?;
        let mut synced = 0;
        for (i, (k, r)) in tree.iter_from("").enumerate() {
            if i % 4096 == 0 && abort.load(Ordering::Relaxed) {
                return Err(io::Error::new(io::ErrorKind::Interrupted, "snapshot aborted"));
            }
            w.entry(&k, &r)?;
            if w.written() - synced >= SNAPSHOT_SYNC_BYTES {
                // Write back as we go: one big sync at the end would hold up the log's
                // fdatasyncs behind it (the filesystem journal orders them).
                synced = w.written();
                let bw = w.inner_mut();
                bw.flush()?;
                bw.get_ref().sync_data()?;
            }
        }
        let file = w.finish()?.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        if abort.load(Ordering::Relaxed) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "snapshot aborted"));
        }
        fs::rename(&tmp, &final_path)?;
        sync_dir(dir)
    })();
    if let Err(e) = res {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    // The snapshot is durable: older snapshots and every segment holding only revisions <= rev
    // (all segments named below rev + 1, which is where the live segment starts) are garbage.
    let listing = list(dir)?;
    for (r, path) in &listing.wals {
        if *r <= rev {
            fs::remove_file(path)?;
        }
    }
    for (r, path) in &listing.snaps {
        if *r < rev {
            fs::remove_file(path)?;
        }
    }
    sync_dir(dir)
}

/// Appends `frames` (each sealed here) to the segment, syncing after each one so that only the
/// last frame can ever be torn.
pub(crate) fn append_frames(seg: &mut Segment, frames: &mut [Vec<u8>]) -> io::Result<u64> {
    let mut syncs = 0;
    for f in frames.iter_mut() {
        codec::seal_frame(f);
        let res = seg.file.write_all(f).and_then(|()| seg.file.sync_data());
        if let Err(e) = res {
            // Best effort: cut a partial frame off again. The store stops writing either way, so
            // a partial frame can only ever be the log's torn tail.
            let _ = seg.file.set_len(seg.bytes);
            return Err(e);
        }
        seg.bytes += f.len() as u64;
        syncs += 1;
    }
    Ok(syncs)
}
