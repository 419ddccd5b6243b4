//! The committer thread: group commit, the durable watermark, log rotation and snapshots.

use std::fs::File;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::Shared;
use super::disk::{self, Segment};
use super::state::HistEvent;
use super::tree::Tree;
use crate::{Error, Result};

/// Wait after a failed snapshot before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(10);

pub(crate) struct Committer {
    pub shared: Arc<Shared>,
    pub seg: Segment,
    /// Revision of the newest snapshot known to be on disk.
    pub snapshot_rev: i64,
    /// The background snapshot in progress: its revision, thread and abort flag.
    pub snap: Option<(i64, JoinHandle<io::Result<()>>, Arc<AtomicBool>)>,
    /// After a failed snapshot, no new one is tried before this.
    pub retry_at: Option<Instant>,
    /// Holds the data directory's lock until the thread ends.
    pub _lock: File,
}

impl Committer {
    /// Joins a finished background snapshot (or, with `wait`, a running one).
    fn reap(&mut self, wait: bool) {
        let finished = self.snap.as_ref().is_some_and(|(_, h, _)| h.is_finished());
        if !(finished || wait) {
            return;
        }
        if let Some((rev, h, _)) = self.snap.take() {
            match h.join() {
                Ok(Ok(())) => {
                    self.snapshot_rev = self.snapshot_rev.max(rev);
                    tracing::debug!(revision = rev, "storage snapshot written");
                }
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Ok(Err(e)) => {
                    tracing::warn!(revision = rev, error = %e, "storage snapshot failed; the log is kept");
                    self.retry_at = Some(Instant::now() + RETRY_AFTER);
                }
                Err(_) => tracing::warn!(revision = rev, "storage snapshot thread panicked; the log is kept"),
            }
        }
    }

    /// Starts a new log segment after `rev` and snapshots `tree` (the state at `rev`) in the
    /// background, or in this thread when `inline`.
    fn snapshot(&mut self, tree: Tree, rev: i64, event: Option<HistEvent>, inline: bool) -> Result<()> {
        // Rotate first: the new segment begins exactly after the snapshot's revision, so the
        // snapshot plus the segments from it on always hold the whole history.
        self.seg = Segment::create(&self.shared.dir, rev + 1)?;
        let dir = self.shared.dir.clone();
        let abort = Arc::new(AtomicBool::new(false));
        if inline {
            disk::write_snapshot(&dir, &tree, rev, event.as_ref(), &abort)?;
            self.snapshot_rev = rev;
            self.shared.stats.snapshots.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let flag = abort.clone();
        let shared = self.shared.clone();
        let h = std::thread::Builder::new().name("storage-snapshot".into()).spawn(move || {
            let res = disk::write_snapshot(&dir, &tree, rev, event.as_ref(), &flag);
            if res.is_ok() {
                shared.stats.snapshots.fetch_add(1, Ordering::Relaxed);
            }
            res
        })?;
        self.snap = Some((rev, h, abort));
        Ok(())
    }

    pub fn run(mut self) {
        let shared = self.shared.clone();
        loop {
            self.reap(false);
            let mut g = shared.state.lock();
            while !g.shutdown && g.close_req.is_none() && ((g.idle() && !g.roll_requested) || g.paused()) {
                shared.wake.wait(&mut g);
            }
            let mut frames = std::mem::take(&mut g.frames);
            let waiters = std::mem::take(&mut g.waiters);
            let close_req = g.close_req.take();
            let shutdown = g.shutdown;
            let failed = g.failed.clone();
            let inject_failure = g.take_fail_write();
            let last_rev = g.mem.latest;
            let batch_bytes: u64 = frames.iter().map(|f| f.len() as u64).sum();
            let log_bytes = self.seg.bytes + batch_bytes;
            let live = g.mem.live_bytes;
            let roll_requested = std::mem::take(&mut g.roll_requested);
            let log_full = self.snap.is_none()
                && log_bytes > live
                && (log_bytes >= shared.opts.snapshot_log_bytes
                    || (roll_requested && log_bytes >= shared.opts.snapshot_log_bytes / 8))
                && self.retry_at.is_none_or(|t| Instant::now() >= t);
            let want_snapshot =
                failed.is_none() && !shutdown && last_rev > self.snapshot_rev && (close_req.is_some() || log_full);
            // O(1): the tree is persistent; the snapshot thread walks its own version of it.
            let snap_src = want_snapshot
                .then(|| (g.mem.tree.clone(), g.mem.history.back().filter(|e| e.rev == last_rev).cloned()));
            drop(g);

            let written = match failed {
                Some(msg) => Err(msg),
                None if frames.is_empty() => Ok(()),
                None => match if inject_failure {
                    Err(io::Error::other("injected failure"))
                } else {
                    disk::append_frames(&mut self.seg, &mut frames)
                } {
                    Ok(syncs) => {
                        let st = &shared.stats;
                        st.syncs.fetch_add(syncs, Ordering::Relaxed);
                        st.batches.fetch_add(1, Ordering::Relaxed);
                        st.log_bytes.fetch_add(batch_bytes, Ordering::Relaxed);
                        shared.durable.store(last_rev, Ordering::Release);
                        shared.notify.send_replace(last_rev);
                        Ok(())
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "storage log write failed; the store refuses further writes");
                        let msg: Arc<str> = Arc::from(format!("write-ahead log write failed: {e}"));
                        shared.state.lock().failed = Some(msg.clone());
                        Err(msg)
                    }
                },
            };
            for w in waiters {
                let _ = w.send(written.clone());
            }

            let mut close_result = match &written {
                Ok(()) => Ok(()),
                Err(msg) => Err(Error::Io(io::Error::other(msg.to_string()))),
            };
            if close_req.is_some() {
                // A clean close leaves a finished snapshot: wait for the one in flight.
                self.reap(true);
            }
            // (the snapshot just reaped may already cover everything)
            if let (Some((tree, event)), Ok(())) = (snap_src, &written)
                && last_rev > self.snapshot_rev
                && let Err(e) = self.snapshot(tree, last_rev, event, close_req.is_some())
            {
                tracing::warn!(revision = last_rev, error = %e, "storage snapshot failed; the log is kept");
                self.retry_at = Some(Instant::now() + RETRY_AFTER);
                if close_result.is_ok() {
                    close_result = Err(e);
                }
            }
            if let Some(tx) = close_req {
                let _ = tx.send(close_result);
                break;
            }
            if shutdown {
                break;
            }
        }
        // Dropped without close, or closed: stop a background snapshot (an aborted one leaves
        // only a temporary file that start-up removes) before the directory lock is released.
        if let Some((_, _, abort)) = &self.snap {
            abort.store(true, Ordering::Relaxed);
        }
        self.reap(true);
    }
}
