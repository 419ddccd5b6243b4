//! Portable snapshots: the whole key space of any [`Backend`] at one revision, in the embedded
//! store's snapshot format (framed, checksummed, keys in order, each with its create and mod
//! revisions and version), and their restore into a fresh embedded store directory.
//!
//! A snapshot is read as MVCC pages at one fixed revision, so it is consistent while writers go
//! on, costs the store no lock longer than one page, and works the same on etcd. A restored store
//! starts at the snapshot's revision, so every `resourceVersion` stays what clients saw.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};

use super::codec::{self, SnapWriter};
use super::disk;
use super::tree::Rec;
use crate::{Backend, Error, Result, Revision};

/// Keys read per page.
const PAGE: i64 = 1000;

struct Saving {
    backend: Arc<dyn Backend>,
    rev: Revision,
    /// The first key of the next page; `None` when every page is written.
    next: Option<String>,
    out: Option<SnapWriter<Vec<u8>>>,
}

/// A consistent snapshot of `backend` at its current revision, as a stream of byte chunks (the
/// header first, then about one chunk per page of keys, then the end frame). The revision is in
/// the header; [`restore`] reads it back.
pub fn save(backend: Arc<dyn Backend>) -> BoxStream<'static, Result<Bytes>> {
    let start = async move {
        let rev = backend.current_revision().await?;
        let out = SnapWriter::new(Vec::new(), rev, None)?;
        Ok::<_, Error>(Saving { backend, rev, next: Some(String::new()), out: Some(out) })
    };
    stream::once(start)
        .map(|first| {
            let state = first.map(Some);
            stream::try_unfold(state, |state| async move {
                let Some(mut s) = state? else { return Ok(None) };
                let Some(mut out) = s.out.take() else { return Ok(None) };
                let Some(from) = s.next.take() else {
                    // Every page written: the end frame, then the stream ends.
                    let tail = out.finish()?;
                    return Ok(Some((Bytes::from(tail), Ok(None))));
                };
                let (kvs, next) = crate::page_at(&*s.backend, s.rev, &from, PAGE).await?;
                for kv in &kvs {
                    let rec = Rec {
                        value: kv.value.clone(),
                        create: kv.create_revision,
                        modr: kv.mod_revision,
                        version: kv.version,
                    };
                    out.entry(&kv.key, &rec)?;
                }
                s.next = next;
                let chunk = Bytes::from(std::mem::take(out.inner_mut()));
                s.out = Some(out);
                Ok(Some((chunk, Ok(Some(s)))))
            })
        })
        .flatten()
        .boxed()
}

/// What [`restore`] found in a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Restored {
    /// The revision the snapshot was taken at (the restored store's revision).
    pub revision: Revision,
    /// Keys restored.
    pub keys: u64,
}

/// Verifies the snapshot read from `src` (every checksum, key order, revisions) and makes it the
/// state of a new embedded store in `db_dir`, which must not exist or be empty. Nothing is
/// written unless the whole snapshot is valid.
pub fn restore(mut src: impl Read, db_dir: &Path) -> Result<Restored> {
    if db_dir.exists() && fs::read_dir(db_dir)?.next().is_some() {
        return Err(Error::Backend(format!("{} is not empty: restore needs a fresh directory", db_dir.display())));
    }
    let mut data = Vec::new();
    src.read_to_end(&mut data)?;
    let snap = codec::read_snapshot(&data[..]).map_err(|e| Error::Corrupt(format!("snapshot: {e}")))?;
    let restored = Restored { revision: snap.rev, keys: snap.entries.len() as u64 };
    drop(snap);
    DirBuilder::new().recursive(true).mode(0o700).create(db_dir)?;
    let name = disk::snap_name(restored.revision);
    let tmp = db_dir.join(format!("{name}.tmp"));
    let mut f = OpenOptions::new().create(true).write(true).truncate(true).mode(0o600).open(&tmp)?;
    f.write_all(&data)?;
    f.sync_all()?;
    fs::rename(&tmp, db_dir.join(&name))?;
    disk::sync_dir(db_dir)?;
    if let Some(parent) = db_dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        disk::sync_dir(parent)?;
    }
    Ok(restored)
}
