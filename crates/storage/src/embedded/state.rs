//! The in-memory state: the current key space (a persistent counted B+tree) and the retained
//! event history, plus the MVCC reads built on them.
//!
//! The tree always holds the newest state, including writes that are not yet durable. The
//! history holds one event per revision, contiguous, from `hist_start` to `latest`. A read at an
//! older revision `r` takes the tree (an O(1) clone) and an *overlay*: for every key in the range
//! changed after `r`, its state at `r` (the `prev` of the first event after `r`). Merging the two
//! in key order yields the range at `r`; counting is the tree's O(log n) range count corrected by
//! the overlay. So a page costs O(log n + limit + changes since r), never a walk over the whole
//! key space.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;

use super::tree::{Rec, Tree};
use crate::{Event, EventType, KeyValue, RangeResponse};

/// One retained change.
#[derive(Clone, Debug)]
pub(crate) struct HistEvent {
    pub rev: i64,
    pub key: Arc<str>,
    /// The key after the change; `None` for a delete.
    pub new: Option<Rec>,
    /// The key before the change, if it existed.
    pub prev: Option<Rec>,
}

impl HistEvent {
    /// Bytes of keys and values this event keeps alive (an upper bound: values are shared with
    /// the current state and with neighbouring events).
    pub fn weight(&self) -> usize {
        let v = |r: &Option<Rec>| r.as_ref().map_or(0, |r| r.value.len());
        96 + self.key.len() + v(&self.new) + v(&self.prev)
    }

    pub fn to_event(&self) -> Event {
        match &self.new {
            Some(n) => Event {
                kind: EventType::Put,
                kv: to_kv(&self.key, n),
                prev_kv: self.prev.as_ref().map(|p| to_kv(&self.key, p)),
            },
            None => Event {
                kind: EventType::Delete,
                kv: KeyValue {
                    key: self.key.to_string(),
                    value: Bytes::new(),
                    create_revision: 0,
                    mod_revision: self.rev,
                    version: 0,
                },
                prev_kv: self.prev.as_ref().map(|p| to_kv(&self.key, p)),
            },
        }
    }
}

pub(crate) fn to_kv(key: &str, r: &Rec) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: r.value.clone(),
        create_revision: r.create,
        mod_revision: r.modr,
        version: r.version,
    }
}

/// Events per history chunk.
const CHUNK: usize = 4096;

/// The retained events, in revision order: a deque of fixed-size chunks, so that growing it
/// never moves (copies) more than one chunk — a plain `VecDeque` of a million events would copy
/// them all, under the lock, each time it doubles — and compaction frees whole chunks.
#[derive(Default)]
pub(crate) struct History {
    chunks: VecDeque<VecDeque<HistEvent>>,
    len: usize,
}

impl History {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn push_back(&mut self, ev: HistEvent) {
        match self.chunks.back_mut() {
            Some(c) if c.len() < CHUNK => c.push_back(ev),
            _ => {
                let mut c = VecDeque::with_capacity(CHUNK);
                c.push_back(ev);
                self.chunks.push_back(c);
            }
        }
        self.len += 1;
    }

    pub fn pop_front(&mut self) -> Option<HistEvent> {
        let first = self.chunks.front_mut()?;
        let ev = first.pop_front();
        if first.is_empty() {
            self.chunks.pop_front();
        }
        if ev.is_some() {
            self.len -= 1;
        }
        ev
    }

    pub fn back(&self) -> Option<&HistEvent> {
        self.chunks.back()?.back()
    }

    /// The events from position `i` on. Every chunk but the first is full or is the last, so a
    /// position maps to a chunk arithmetically.
    pub fn iter_from(&self, i: usize) -> impl Iterator<Item = &HistEvent> {
        let first = self.chunks.front().map_or(0, VecDeque::len);
        let (chunk, offset) = if i < first { (0, i) } else { (1 + (i - first) / CHUNK, (i - first) % CHUNK) };
        self.chunks.range(chunk.min(self.chunks.len())..).enumerate().flat_map(move |(n, c)| {
            let skip = if n == 0 { offset } else { 0 };
            c.range(skip.min(c.len())..)
        })
    }
}

/// The in-memory store.
pub(crate) struct MemState {
    pub tree: Tree,
    /// The newest assigned revision (possibly not yet durable).
    pub latest: i64,
    /// Reads and watches below this revision fail with `Compacted`.
    pub compact: i64,
    /// Events of revisions `hist_start ..= latest`, in order.
    pub history: History,
    pub hist_start: i64,
    /// Sum of the weights of the retained events.
    pub hist_bytes: usize,
    /// Bytes of keys and values in the current key space (what a snapshot holds).
    pub live_bytes: u64,
}

/// A range bound: `[start, end)`, or exactly `start` when `end` is empty.
pub(crate) struct Bounds {
    pub start: String,
    pub end: String,
}

impl Bounds {
    pub fn contains(&self, key: &str) -> bool {
        if self.end.is_empty() { key == self.start } else { key >= self.start.as_str() && key < self.end.as_str() }
    }
    pub fn is_empty_range(&self) -> bool {
        !self.end.is_empty() && self.end <= self.start
    }
}

/// Everything a range read needs, taken under the lock in O(changes since the read revision);
/// evaluated outside it.
pub(crate) struct RangePlan {
    pub tree: Tree,
    /// For keys in range changed after the read revision: their state at the read revision.
    pub overlay: BTreeMap<Arc<str>, Option<Rec>>,
    pub rev: i64,
}

impl MemState {
    /// An empty store at revision 1 (like etcd, the first write gets revision 2).
    pub fn new() -> Self {
        MemState {
            tree: Tree::default(),
            latest: 1,
            compact: 0,
            history: History::default(),
            hist_start: 2,
            hist_bytes: 0,
            live_bytes: 0,
        }
    }

    /// A store loaded from a snapshot at `rev`: history before it is gone.
    pub fn from_snapshot(rev: i64, entries: Vec<(Arc<str>, Rec)>, event: Option<HistEvent>) -> Self {
        let mut tree = Tree::default();
        let mut live_bytes = 0;
        for (k, r) in entries {
            live_bytes += (k.len() + r.value.len()) as u64;
            tree.insert(k, r);
        }
        let mut s = MemState {
            tree,
            latest: rev,
            compact: rev,
            history: History::default(),
            hist_start: rev + 1,
            hist_bytes: 0,
            live_bytes,
        };
        if let Some(ev) = event.filter(|e| e.rev == rev) {
            s.hist_start = rev;
            s.hist_bytes = ev.weight();
            s.history.push_back(ev);
        }
        s
    }

    fn push_event(&mut self, ev: HistEvent) {
        self.hist_bytes += ev.weight();
        self.history.push_back(ev);
    }

    /// The key's canonical `Arc` (shared with the tree if the key exists).
    pub fn intern(&self, key: &str) -> Arc<str> {
        match self.tree.get(key) {
            Some((k, _)) => k.clone(),
            None => Arc::from(key),
        }
    }

    /// Applies a put at revision `latest + 1`; returns the new record.
    pub fn put(&mut self, key: Arc<str>, value: Bytes) -> Rec {
        let rev = self.latest + 1;
        let prev = self.tree.get(&key).map(|(_, r)| r.clone());
        self.live_bytes += value.len() as u64;
        let new = match &prev {
            Some(p) => {
                self.live_bytes = self.live_bytes.saturating_sub(p.value.len() as u64);
                Rec { value, create: p.create, modr: rev, version: p.version + 1 }
            }
            None => {
                self.live_bytes += key.len() as u64;
                Rec { value, create: rev, modr: rev, version: 1 }
            }
        };
        self.tree.insert(key.clone(), new.clone());
        self.latest = rev;
        self.push_event(HistEvent { rev, key, new: Some(new.clone()), prev });
        new
    }

    /// Applies a delete at revision `latest + 1` if the key exists; returns its last record.
    pub fn delete(&mut self, key: &str) -> Option<Rec> {
        let (k, _) = self.tree.get(key)?;
        let k = k.clone();
        let prev = self.tree.remove(key)?;
        self.live_bytes = self.live_bytes.saturating_sub((key.len() + prev.value.len()) as u64);
        let rev = self.latest + 1;
        self.latest = rev;
        self.push_event(HistEvent { rev, key: k, new: None, prev: Some(prev.clone()) });
        Some(prev)
    }

    /// Drops history below `rev` (which must be <= the durable revision).
    pub fn compact(&mut self, rev: i64) {
        while !self.compact_step(rev, usize::MAX, &mut Vec::new()) {}
    }

    /// One bounded step of [`MemState::compact`]: raises the compact revision to `rev` (reads
    /// and watches below it fail from now on) and moves at most `max_events` of the events below
    /// it into `dropped`, for the caller to free outside the lock. Returns whether history below
    /// `rev` is all gone.
    pub fn compact_step(&mut self, rev: i64, max_events: usize, dropped: &mut Vec<HistEvent>) -> bool {
        self.compact = self.compact.max(rev);
        let mut n = 0;
        while self.hist_start < rev {
            if n == max_events {
                return false;
            }
            match self.history.pop_front() {
                Some(ev) => {
                    self.hist_bytes = self.hist_bytes.saturating_sub(ev.weight());
                    self.hist_start += 1;
                    dropped.push(ev);
                    n += 1;
                }
                None => {
                    self.hist_start = self.latest + 1;
                    break;
                }
            }
        }
        true
    }

    /// Compacts the oldest history (at most `budget` events) while it weighs more than
    /// `max_bytes`, never past `durable`. Writers call it with a small budget, so that each
    /// write pays O(1) amortised and never holds the lock for a long trim.
    pub fn trim(&mut self, max_bytes: usize, durable: i64, budget: usize) {
        if self.hist_bytes <= max_bytes {
            return;
        }
        let mut rev = self.hist_start;
        let mut bytes = self.hist_bytes;
        for ev in self.history.iter_from(0).take(budget) {
            if bytes <= max_bytes || ev.rev >= durable {
                break;
            }
            bytes = bytes.saturating_sub(ev.weight());
            rev = ev.rev + 1;
        }
        if rev > self.compact {
            self.compact(rev);
        }
    }

    /// Index of the event of `rev` in `history`.
    fn index_of(&self, rev: i64) -> usize {
        usize::try_from(rev - self.hist_start).unwrap_or(0)
    }

    /// Prepares a range read at `rev` (`compact <= rev <= latest`, checked by the caller).
    pub fn plan_range(&self, b: &Bounds, rev: i64) -> RangePlan {
        let mut overlay = BTreeMap::new();
        if rev < self.latest {
            for ev in self.history.iter_from(self.index_of(rev + 1)) {
                if b.contains(&ev.key) {
                    overlay.entry(ev.key.clone()).or_insert_with(|| ev.prev.clone());
                }
            }
        }
        RangePlan { tree: self.tree.clone(), overlay, rev }
    }

    /// Events of revisions `from ..= to` for keys starting with `prefix`: at most `max_events`
    /// events and `max_scan` revisions looked at. Returns the events and the last revision
    /// looked at. `from >= hist_start` is checked by the caller.
    pub fn scan(&self, prefix: &str, from: i64, to: i64, max_scan: usize, max_events: usize) -> (Vec<HistEvent>, i64) {
        let mut out = Vec::new();
        let mut last = from - 1;
        for ev in self.history.iter_from(self.index_of(from)).take(max_scan) {
            if ev.rev > to {
                break;
            }
            last = ev.rev;
            if ev.key.starts_with(prefix) {
                out.push(ev.clone());
                if out.len() >= max_events {
                    break;
                }
            }
        }
        (out, last)
    }
}

impl RangePlan {
    /// Evaluates the read (outside any lock).
    pub fn run(self, b: &Bounds, limit: i64, count_only: bool) -> RangeResponse {
        let mut resp = RangeResponse { revision: self.rev, ..Default::default() };
        if b.is_empty_range() {
            return resp;
        }
        if b.end.is_empty() {
            let now = self.tree.get(&b.start).map(|(_, r)| r.clone());
            let at = match self.overlay.get(b.start.as_str()) {
                Some(o) => o.clone(),
                None => now,
            };
            if let Some(r) = at {
                resp.count = 1;
                if !count_only {
                    resp.kvs.push(to_kv(&b.start, &r));
                }
            }
            return resp;
        }
        let mut count = self.tree.count_range(&b.start, Some(&b.end)) as i64;
        for (k, at) in &self.overlay {
            count += i64::from(at.is_some()) - i64::from(self.tree.get(k).is_some());
        }
        resp.count = count;
        if count_only {
            return resp;
        }
        let want = if limit > 0 { usize::try_from(limit).unwrap_or(usize::MAX) } else { usize::MAX };
        let mut cur = self.tree.iter_from(&b.start).take_while(|(k, _)| **k < *b.end).peekable();
        let mut over = self.overlay.iter().peekable();
        while resp.kvs.len() < want {
            let take_over = match (cur.peek(), over.peek()) {
                (None, None) => break,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some((ck, _)), Some((ok, _))) => {
                    if **ck == ***ok {
                        cur.next();
                        true
                    } else {
                        ***ok < **ck
                    }
                }
            };
            if take_over {
                if let Some((k, Some(r))) = over.next() {
                    resp.kvs.push(to_kv(k, r));
                }
            } else if let Some((k, r)) = cur.next() {
                resp.kvs.push(to_kv(&k, &r));
            }
        }
        resp.more = (resp.kvs.len() as i64) < count;
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(rev: i64) -> HistEvent {
        HistEvent { rev, key: Arc::from("/k"), new: None, prev: None }
    }

    #[test]
    fn chunked_history_indexes_across_chunks_and_pops() {
        let mut h = History::default();
        let mut next = 0i64;
        let mut first = 0i64;
        for round in 0..6 {
            for _ in 0..(CHUNK + 1234) {
                h.push_back(ev(next));
                next += 1;
            }
            for _ in 0..(round * 1500 + 7) {
                assert_eq!(h.pop_front().map(|e| e.rev), Some(first));
                first += 1;
            }
            assert_eq!(h.len() as i64, next - first);
            assert_eq!(h.back().map(|e| e.rev), Some(next - 1));
            for i in [0, 1, 100, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 5, h.len() - 1, h.len(), h.len() + 9] {
                let got: Vec<i64> = h.iter_from(i).take(3).map(|e| e.rev).collect();
                let want: Vec<i64> = (first + i as i64..next).take(3).collect();
                assert_eq!(got, want, "position {i} in round {round}");
            }
            assert_eq!(h.iter_from(0).count(), h.len());
        }
        while h.pop_front().is_some() {}
        assert_eq!(h.len(), 0);
        assert!(h.chunks.is_empty(), "emptied chunks are freed");
    }
}
