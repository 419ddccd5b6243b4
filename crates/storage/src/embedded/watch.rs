//! Watch streams. A watcher owns nothing but a cursor (the next revision it must deliver) into
//! the store's shared history, so a slow watcher costs no memory; if the history it still needs
//! is compacted away (by `compact`, or by the history size bound), its stream yields
//! [`Error::Compacted`] and ends. It never yields `WatchLagged`.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::StreamExt;
use tokio::time::Instant;

use super::Shared;
use crate::{Error, WatchResponse, WatchStream};

/// History entries looked at per lock acquisition.
const MAX_SCAN: usize = 16_384;
/// Events per response.
const MAX_EVENTS: usize = 1_000;
/// "Never" for a progress interval too large to add to an instant.
const FAR_FUTURE: std::time::Duration = std::time::Duration::from_secs(1 << 30);

struct Watcher {
    shared: Arc<Shared>,
    prefix: String,
    /// The next revision to deliver.
    next: i64,
    rx: tokio::sync::watch::Receiver<i64>,
    /// When the last response went out.
    last_sent: Option<Instant>,
    /// The cursor moved past revisions outside the prefix since the last response.
    progress_pending: bool,
    done: bool,
}

enum Scan {
    Compacted(i64),
    Got(Vec<super::state::HistEvent>, i64),
    CaughtUp,
}

impl Watcher {
    async fn next_item(&mut self) -> Option<Result<WatchResponse, Error>> {
        if self.done {
            return None;
        }
        loop {
            self.rx.borrow_and_update();
            if self.shared.closed.load(Ordering::Acquire) {
                self.done = true;
                return Some(Err(Error::Closed));
            }
            let scan = {
                let g = self.shared.state.lock();
                let durable = self.shared.durable.load(Ordering::Acquire);
                if self.next > durable {
                    Scan::CaughtUp
                } else if self.next < g.mem.hist_start || self.next < g.mem.compact {
                    Scan::Compacted(g.mem.compact)
                } else {
                    let (events, last) = g.mem.scan(&self.prefix, self.next, durable, MAX_SCAN, MAX_EVENTS);
                    Scan::Got(events, last)
                }
            };
            match scan {
                Scan::Compacted(compacted) => {
                    self.done = true;
                    return Some(Err(Error::Compacted { requested: self.next, compacted }));
                }
                Scan::Got(events, last) => {
                    if last < self.next {
                        // The history lacks revisions it must hold (cannot happen); end rather
                        // than spin or skip.
                        self.done = true;
                        return Some(Err(Error::Backend(format!("watch history has no revision {}", self.next))));
                    }
                    self.next = last + 1;
                    if !events.is_empty() {
                        self.last_sent = Some(Instant::now());
                        self.progress_pending = false;
                        let events = events.iter().map(|e| e.to_event()).collect();
                        return Some(Ok(WatchResponse { events, revision: last }));
                    }
                    self.progress_pending = true;
                    continue; // scan on until caught up
                }
                Scan::CaughtUp => {}
            }
            if self.progress_pending {
                let now = Instant::now();
                let due = match self.last_sent {
                    None => now,
                    Some(t) => t.checked_add(self.shared.opts.progress_interval).unwrap_or(now + FAR_FUTURE),
                };
                if now >= due {
                    self.progress_pending = false;
                    self.last_sent = Some(now);
                    return Some(Ok(WatchResponse { events: Vec::new(), revision: self.next - 1 }));
                }
                tokio::select! {
                    _ = self.rx.changed() => {}
                    _ = tokio::time::sleep_until(due) => {}
                }
                continue;
            }
            if self.rx.changed().await.is_err() {
                self.done = true;
                return Some(Err(Error::Closed));
            }
        }
    }
}

/// A stream of changes to keys under `prefix` from revision `next` on.
pub(crate) fn stream(shared: Arc<Shared>, prefix: String, next: i64) -> WatchStream {
    let rx = shared.notify.subscribe();
    let w = Watcher { shared, prefix, next, rx, last_sent: None, progress_pending: false, done: false };
    futures::stream::unfold(w, |mut w| async move {
        let item = w.next_item().await?;
        Some((item, w))
    })
    .boxed()
}
