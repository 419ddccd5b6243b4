//! The embedded backend: a durable, revisioned key-value store in the data directory, with
//! etcd v3 semantics (see [`crate::Backend`]).
//!
//! **Revisions.** An empty store is at revision 1 and its first write gets revision 2, as in
//! etcd. Every successful write (a put, or a delete of an existing key) takes the next revision;
//! a failed compare or a delete of a missing key takes none.
//!
//! **State and MVCC.** One mutex guards the in-memory state: the current key space in a
//! persistent (copy-on-write, O(1) clone) B+tree that counts the keys under each node, and the
//! retained history, one event (key, new record, previous record) per revision. Values are
//! `Bytes` shared by the tree and the history, never copied. A read at revision `r` clones the
//! tree and collects, for the keys in range changed after `r`, their state at `r`; merging the two
//! gives the range at `r` in O(log n + limit + changes since r), and the count in O(log n +
//! changes since r). Reads walk the tree outside the lock.
//!
//! **Durability and visibility.** A write, under the lock, evaluates its compare against the
//! newest state (including writes not yet on disk — that keeps compare-and-swap linearizable),
//! applies itself, takes the next revision and appends its log entry to the commit queue. A
//! single committer thread takes everything queued, writes it as one log record (one `write`,
//! one `fdatasync`; a batch over 32 MiB becomes several records, each synced), then raises the *durable revision* and acknowledges every writer of the
//! batch: group commit, one sync for many writes, no I/O under the lock. Readers never see past
//! the durable revision: "latest" reads are MVCC reads at it, `current_revision` returns it,
//! reads at a later revision fail with `FutureRevision`, watches deliver only up to it and are
//! woken when it moves. A failed compare (whose answer may show a not-yet-durable write) and a
//! no-op delete also wait until the state they reported is durable. After a failed write or
//! sync the store refuses all further writes (the state on disk is unknown); reads go on.
//!
//! **On disk** (`dir`, mode 0700, locked by `LOCK`): log segments `wal-<first rev>.log` of
//! records `[len u32][crc32 u32][payload]`, one record per group commit holding its entries
//! (revision, op, key, value); and snapshots `snap-<rev>.snap` (the whole key space at a
//! revision plus that revision's event; same framing, written to a temporary file, fsynced,
//! renamed, directory fsynced). When the live segment exceeds [`Options::snapshot_log_bytes`],
//! and on [`EmbeddedStore::close`], the committer starts a new segment and snapshots the state
//! as of the end of the old one — an O(1) tree clone under the lock, written by a background
//! thread — after which older segments and snapshots are deleted. Start-up loads the newest
//! snapshot and replays the log after it; because each record is synced before the next is
//! written, only the last record of the last segment can be torn by a crash: an invalid record
//! there with nothing valid after it is truncated (with a warning); anything else invalid is
//! [`Error::Corrupt`]. (That is why a record is a group commit rather than a single write: a
//! torn multi-record write could leave valid records behind an invalid one, which would look like
//! corruption in the middle.) Dropping the store without `close` is a crash as far as the disk
//! is concerned, and safe.
//!
//! **History and memory.** History is kept in memory for watches and past reads until
//! [`Backend::compact`] drops it. After a restart the compact revision is the loaded snapshot's
//! revision (compactions are not logged; the log replay rebuilds history after the snapshot).
//! History is also bounded by [`Options::max_history_bytes`]: beyond it the oldest history is
//! compacted away automatically. Watchers hold only a cursor into the shared history, so a slow
//! watcher costs no memory; one whose history is compacted away gets `Compacted` (never
//! `WatchLagged`). A caught-up watcher whose cursor moved over writes outside its prefix gets a
//! progress response (no events, the revision it is current to), at most one per
//! [`Options::progress_interval`].

mod codec;
mod committer;
mod disk;
pub mod snapshot;
mod state;
mod tree;
mod watch;

#[cfg(test)]
mod tests;

use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
use tokio::sync::oneshot;

use crate::{Backend, Error, RangeRequest, RangeResponse, Result, Revision, TxnOp, TxnResponse, WatchStream};
use state::{Bounds, MemState, to_kv};

/// History events freed per lock acquisition by [`Backend::compact`].
const COMPACT_STEP: usize = 4096;

/// Tuning of an [`EmbeddedStore`].
#[derive(Clone, Debug)]
pub struct Options {
    /// Start a new log segment and write a snapshot once the live segment holds this many bytes
    /// and more bytes than the key space itself (default 8 MiB). The second rule keeps the cost
    /// of snapshots proportional to the log written (each snapshot follows at least its own size
    /// of log), the first keeps the disk near the size of the data: at most the snapshot, its
    /// size again of log, and this much. After a compaction, a log of more than an eighth of
    /// this that outweighs the key space is replaced at once.
    pub snapshot_log_bytes: u64,
    /// Most bytes of keys and values the retained history may keep alive; beyond it the oldest
    /// history is compacted automatically (default 512 MiB).
    pub max_history_bytes: usize,
    /// Least time between two progress responses of one watch (default 100 ms).
    pub progress_interval: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            snapshot_log_bytes: 8 << 20,
            max_history_bytes: 512 << 20,
            progress_interval: Duration::from_millis(100),
        }
    }
}

/// Counters of an [`EmbeddedStore`] since it was opened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Writes acknowledged as durable (each took a revision).
    pub writes: u64,
    /// `fdatasync` calls on the log.
    pub syncs: u64,
    /// Group commits (log records written).
    pub batches: u64,
    /// Bytes appended to the log.
    pub log_bytes: u64,
    /// Snapshots written.
    pub snapshots: u64,
    /// The durable revision.
    pub durable_revision: Revision,
    /// The compact revision.
    pub compact_revision: Revision,
    /// Events in the retained history.
    pub history_events: u64,
    /// Live keys.
    pub keys: u64,
}

#[derive(Default)]
struct Counters {
    writes: AtomicU64,
    syncs: AtomicU64,
    batches: AtomicU64,
    log_bytes: AtomicU64,
    snapshots: AtomicU64,
}

/// The result a writer waits for: `Err` carries the log failure.
type Ack = std::result::Result<(), Arc<str>>;

/// What the lock guards.
struct Inner {
    mem: MemState,
    /// Log records not yet handed to the committer (each with room for its header).
    frames: Vec<Vec<u8>>,
    /// Writers (and failed compares) waiting for everything queued so far to be durable.
    waiters: Vec<oneshot::Sender<Ack>>,
    /// Set once a log write failed: no more writes.
    failed: Option<Arc<str>>,
    /// `close` was called: no more writes.
    closing: bool,
    /// A compaction asked the committer to snapshot and drop the log if it outweighs the key
    /// space.
    roll_requested: bool,
    /// The store was dropped: the committer flushes and exits.
    shutdown: bool,
    close_req: Option<oneshot::Sender<Result<()>>>,
    /// Test hook: the committer takes nothing from the queue while set.
    #[cfg(test)]
    paused: bool,
    /// Test hook: the committer's next log write fails.
    #[cfg(test)]
    fail_write: bool,
}

impl Inner {
    /// Nothing for the committer to do.
    fn idle(&self) -> bool {
        self.frames.is_empty() && self.waiters.is_empty()
    }

    #[cfg(test)]
    fn paused(&self) -> bool {
        self.paused
    }
    #[cfg(not(test))]
    fn paused(&self) -> bool {
        false
    }

    #[cfg(test)]
    fn take_fail_write(&mut self) -> bool {
        std::mem::take(&mut self.fail_write)
    }
    #[cfg(not(test))]
    fn take_fail_write(&mut self) -> bool {
        false
    }

    fn enqueue(&mut self, rev: i64, key: &str, value: Option<&[u8]>) {
        if self.frames.last().is_none_or(|f| f.len() >= codec::FRAME_TARGET) {
            self.frames.push(codec::new_frame(codec::WAL_MAGIC));
        }
        if let Some(f) = self.frames.last_mut() {
            codec::encode_entry(f, rev, key, value);
        }
    }
}

/// State shared by the store handle, the committer thread and watch streams.
pub(crate) struct Shared {
    state: Mutex<Inner>,
    /// Wakes the committer.
    wake: Condvar,
    /// Everything up to this revision is on disk; the only revisions readers see.
    durable: AtomicI64,
    /// Carries the durable revision to watchers (and wakes them on close).
    notify: tokio::sync::watch::Sender<i64>,
    /// Closed or dropped: reads and watches end.
    closed: AtomicBool,
    opts: Options,
    dir: PathBuf,
    stats: Counters,
}

/// The embedded, durable [`Backend`]. Open with [`EmbeddedStore::open`]; close with
/// [`EmbeddedStore::close`] (dropping it without closing is crash-safe too).
pub struct EmbeddedStore {
    shared: Arc<Shared>,
    committer: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore").field("dir", &self.shared.dir).finish_non_exhaustive()
    }
}

fn io_failed(msg: &str) -> Error {
    Error::Io(std::io::Error::other(msg.to_string()))
}

impl EmbeddedStore {
    /// Opens (creating if needed) the store in `dir`: loads the newest snapshot and replays the
    /// log. Runs the blocking work on tokio's blocking pool.
    pub async fn open(dir: &Path, opts: Options) -> Result<Arc<EmbeddedStore>> {
        let dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || Self::open_blocking(&dir, opts))
            .await
            .map_err(|e| Error::Backend(format!("opening the store failed: {e}")))?
    }

    /// [`EmbeddedStore::open`] for callers outside an async context.
    pub fn open_blocking(dir: &Path, opts: Options) -> Result<Arc<EmbeddedStore>> {
        if !dir.exists() {
            DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                disk::sync_dir(parent)?;
            }
        }
        let lock = OpenOptions::new().create(true).truncate(false).write(true).mode(0o600).open(dir.join("LOCK"))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::Backend(format!("data directory {} is in use by another store", dir.display())));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::Io(e)),
        }
        let rec = disk::recover(dir, opts.max_history_bytes)?;
        let latest = rec.mem.latest;
        let (notify, _) = tokio::sync::watch::channel(latest);
        let shared = Arc::new(Shared {
            state: Mutex::new(Inner {
                mem: rec.mem,
                frames: Vec::new(),
                waiters: Vec::new(),
                failed: None,
                closing: false,
                roll_requested: false,
                shutdown: false,
                close_req: None,
                #[cfg(test)]
                paused: false,
                #[cfg(test)]
                fail_write: false,
            }),
            wake: Condvar::new(),
            durable: AtomicI64::new(latest),
            notify,
            closed: AtomicBool::new(false),
            opts,
            dir: dir.to_path_buf(),
            stats: Counters::default(),
        });
        let c = committer::Committer {
            shared: shared.clone(),
            seg: rec.segment,
            snapshot_rev: rec.snapshot_rev,
            snap: None,
            retry_at: None,
            _lock: lock,
        };
        let handle = std::thread::Builder::new().name("storage-committer".into()).spawn(move || c.run())?;
        Ok(Arc::new(EmbeddedStore { shared, committer: Mutex::new(Some(handle)) }))
    }

    /// Flushes every queued write, writes a final snapshot and stops the store: every later call
    /// fails with [`Error::Closed`] and watch streams end with it. Closing twice is a no-op.
    pub async fn close(&self) -> Result<()> {
        let rx = {
            let mut g = self.shared.state.lock();
            if g.closing {
                return Ok(());
            }
            g.closing = true;
            let (tx, rx) = oneshot::channel();
            g.close_req = Some(tx);
            rx
        };
        self.shared.wake.notify_all();
        let res = rx.await.unwrap_or(Err(Error::Closed));
        self.mark_closed();
        if let Some(h) = self.committer.lock().take() {
            // Already finished (it answered the close): this does not block.
            let _ = h.join();
        }
        res
    }

    fn mark_closed(&self) {
        self.shared.closed.store(true, Ordering::Release);
        let rev = self.shared.durable.load(Ordering::Acquire);
        self.shared.notify.send_replace(rev);
    }

    /// Counters and gauges.
    pub fn stats(&self) -> Stats {
        let g = self.shared.state.lock();
        let c = &self.shared.stats;
        Stats {
            writes: c.writes.load(Ordering::Relaxed),
            syncs: c.syncs.load(Ordering::Relaxed),
            batches: c.batches.load(Ordering::Relaxed),
            log_bytes: c.log_bytes.load(Ordering::Relaxed),
            snapshots: c.snapshots.load(Ordering::Relaxed),
            durable_revision: self.shared.durable.load(Ordering::Acquire),
            compact_revision: g.mem.compact,
            history_events: g.mem.history.len() as u64,
            keys: g.mem.tree.len() as u64,
        }
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    fn check_open(&self) -> Result<()> {
        if self.shared.closed.load(Ordering::Acquire) { Err(Error::Closed) } else { Ok(()) }
    }
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        self.shared.state.lock().shutdown = true;
        self.shared.wake.notify_all();
        if let Some(h) = self.committer.lock().take() {
            // Writes already queued are flushed (their writers are gone or about to be told);
            // a background snapshot is abandoned. Short: one sync at most.
            let _ = h.join();
        }
        self.mark_closed();
    }
}

#[async_trait::async_trait]
impl Backend for EmbeddedStore {
    async fn range(&self, req: RangeRequest) -> Result<RangeResponse> {
        self.check_open()?;
        let bounds = Bounds { start: req.start, end: req.end };
        let plan = {
            let g = self.shared.state.lock();
            let durable = self.shared.durable.load(Ordering::Acquire);
            let rev = if req.revision <= 0 { durable } else { req.revision };
            if rev > durable {
                return Err(Error::FutureRevision { requested: rev, current: durable });
            }
            if rev < g.mem.compact {
                return Err(Error::Compacted { requested: rev, compacted: g.mem.compact });
            }
            g.mem.plan_range(&bounds, rev)
        };
        Ok(plan.run(&bounds, req.limit, req.count_only))
    }

    async fn txn(&self, key: &str, expected_mod_revision: Revision, op: TxnOp) -> Result<TxnResponse> {
        if key.is_empty() {
            return Err(Error::Backend("empty key".into()));
        }
        let size = key.len() + if let TxnOp::Put(v) = &op { v.len() } else { 0 };
        if size > codec::MAX_VALUE {
            return Err(Error::Backend(format!("key and value larger than {} bytes", codec::MAX_VALUE)));
        }
        let shared = &self.shared;
        let (resp, rx, wrote) = {
            let mut g = shared.state.lock();
            if g.closing || g.shutdown {
                return Err(Error::Closed);
            }
            if let Some(msg) = &g.failed {
                return Err(io_failed(msg));
            }
            let cur = g.mem.tree.get(key).map(|(_, r)| r.clone());
            let cur_mod = cur.as_ref().map_or(0, |r| r.modr);
            let mut wrote = false;
            let resp = if cur_mod != expected_mod_revision {
                TxnResponse { succeeded: false, revision: g.mem.latest, kv: cur.map(|r| to_kv(key, &r)) }
            } else {
                match op {
                    TxnOp::Put(value) => {
                        let k = g.mem.intern(key);
                        let rec = g.mem.put(k, value);
                        g.enqueue(rec.modr, key, Some(&rec.value));
                        wrote = true;
                        TxnResponse { succeeded: true, revision: rec.modr, kv: Some(to_kv(key, &rec)) }
                    }
                    TxnOp::Delete => match g.mem.delete(key) {
                        Some(prev) => {
                            let rev = g.mem.latest;
                            g.enqueue(rev, key, None);
                            wrote = true;
                            TxnResponse { succeeded: true, revision: rev, kv: Some(to_kv(key, &prev)) }
                        }
                        None => TxnResponse { succeeded: true, revision: g.mem.latest, kv: None },
                    },
                }
            };
            // Every answer waits until what it reports is durable: a write for itself, a failed
            // compare or no-op delete for the (maybe not yet durable) state it looked at.
            let durable = shared.durable.load(Ordering::Acquire);
            let rx = (g.mem.latest > durable).then(|| {
                let (tx, rx) = oneshot::channel();
                g.waiters.push(tx);
                rx
            });
            if wrote {
                g.mem.trim(shared.opts.max_history_bytes, durable, 1024);
            }
            (resp, rx, wrote)
        };
        if let Some(rx) = rx {
            shared.wake.notify_one();
            match rx.await {
                Ok(Ok(())) => {}
                Ok(Err(msg)) => return Err(io_failed(&msg)),
                Err(_) => return Err(Error::Closed),
            }
        }
        if wrote {
            shared.stats.writes.fetch_add(1, Ordering::Relaxed);
        }
        Ok(resp)
    }

    async fn watch(&self, prefix: &str, start_revision: Revision) -> Result<WatchStream> {
        self.check_open()?;
        let next = {
            let g = self.shared.state.lock();
            let durable = self.shared.durable.load(Ordering::Acquire);
            if start_revision <= 0 {
                durable + 1
            } else if start_revision < g.mem.compact {
                return Err(Error::Compacted { requested: start_revision, compacted: g.mem.compact });
            } else {
                // Revision 1 is the empty store: no change has it.
                start_revision.max(2)
            }
        };
        Ok(watch::stream(self.shared.clone(), prefix.to_string(), next))
    }

    async fn current_revision(&self) -> Result<Revision> {
        self.check_open()?;
        Ok(self.shared.durable.load(Ordering::Acquire))
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        self.check_open()?;
        // In steps of a few thousand events, each freed outside the lock: compacting a long
        // history never holds writers up for more than one step.
        let mut dropped = Vec::with_capacity(COMPACT_STEP);
        loop {
            let done = {
                let mut g = self.shared.state.lock();
                let durable = self.shared.durable.load(Ordering::Acquire);
                if revision > durable {
                    return Err(Error::FutureRevision { requested: revision, current: durable });
                }
                let done = g.mem.compact_step(revision, COMPACT_STEP, &mut dropped);
                if done {
                    // The log before the compacted history is now mostly dead weight: let the
                    // committer replace it with a snapshot if that returns space.
                    g.roll_requested = true;
                }
                done
            };
            dropped.clear();
            if done {
                break;
            }
            tokio::task::yield_now().await;
        }
        self.shared.wake.notify_one();
        Ok(())
    }

    async fn compact_revision(&self) -> Result<Revision> {
        self.check_open()?;
        Ok(self.shared.state.lock().mem.compact)
    }
}
