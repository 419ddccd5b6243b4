//! Behaviour of the embedded store through the `Backend` contract.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use storage::embedded::{EmbeddedStore, Options};
use storage::{
    Backend, Error, Event, EventType, KeyValue, RangeRequest, TxnOp, TxnResponse, WatchResponse, WatchStream,
    prefix_end,
};

fn b(s: &str) -> Bytes {
    Bytes::from(s.to_string())
}

async fn open(dir: &Path) -> Arc<EmbeddedStore> {
    EmbeddedStore::open(dir, Options::default()).await.expect("open")
}

async fn put(s: &EmbeddedStore, key: &str, expected: i64, v: &str) -> TxnResponse {
    s.txn(key, expected, TxnOp::Put(b(v))).await.expect("txn")
}

async fn get(s: &EmbeddedStore, key: &str) -> Option<KeyValue> {
    let mut r = s.range(RangeRequest::key(key)).await.expect("range");
    assert!(r.kvs.len() <= 1);
    r.kvs.pop()
}

async fn next(w: &mut WatchStream) -> WatchResponse {
    tokio::time::timeout(Duration::from_secs(5), w.next())
        .await
        .expect("watch response in time")
        .expect("stream not ended")
        .expect("not an error")
}

/// Reads events from a watch until `n` have arrived.
async fn events(w: &mut WatchStream, n: usize) -> Vec<Event> {
    let mut out = Vec::new();
    while out.len() < n {
        out.extend(next(w).await.events);
    }
    assert_eq!(out.len(), n, "more events than expected");
    out
}

fn wal_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("wal-")))
        .collect();
    v.sort();
    v
}

fn snap_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("snap-") && n.ends_with(".snap"))
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn put_get_and_compare_and_swap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path()).await;
    assert_eq!(s.current_revision().await.expect("rev"), 1, "an empty store is at revision 1");
    assert_eq!(s.compact_revision().await.expect("rev"), 0);

    // create-if-absent
    let r = put(&s, "/a", 0, "one").await;
    assert!(r.succeeded);
    assert_eq!(r.revision, 2, "first write gets revision 2, as in etcd");
    assert_eq!(
        r.kv,
        Some(KeyValue { key: "/a".into(), value: b("one"), create_revision: 2, mod_revision: 2, version: 1 })
    );
    let again = put(&s, "/a", 0, "other").await;
    assert!(!again.succeeded, "create of an existing key must fail");
    assert_eq!(again.revision, 2, "a failed compare does not bump the revision");
    assert_eq!(again.kv.as_ref().map(|kv| kv.value.clone()), Some(b("one")), "failure returns the current value");
    assert_eq!(get(&s, "/a").await.map(|kv| kv.value), Some(b("one")));

    // update with the right mod revision; stale compare fails
    let r = put(&s, "/a", 2, "two").await;
    assert!(r.succeeded);
    assert_eq!(r.revision, 3);
    let stale = put(&s, "/a", 2, "three").await;
    assert!(!stale.succeeded);
    assert_eq!(stale.revision, 3);
    assert_eq!(stale.kv.map(|kv| (kv.value, kv.mod_revision)), Some((b("two"), 3)));
    let wrong_create = s.txn("/missing", 7, TxnOp::Put(b("x"))).await.expect("txn");
    assert!(!wrong_create.succeeded, "expected revision on a missing key");
    assert_eq!(wrong_create.kv, None);

    // deletes
    let stale_del = s.txn("/a", 2, TxnOp::Delete).await.expect("txn");
    assert!(!stale_del.succeeded);
    assert!(get(&s, "/a").await.is_some());
    let del = s.txn("/a", 3, TxnOp::Delete).await.expect("txn");
    assert!(del.succeeded);
    assert_eq!(del.revision, 4);
    assert_eq!(del.kv.map(|kv| (kv.value, kv.mod_revision)), Some((b("two"), 3)), "delete returns the key as it was");
    assert_eq!(get(&s, "/a").await, None);
    // deleting a missing key with compare 0: holds, no-op, no revision
    let noop = s.txn("/a", 0, TxnOp::Delete).await.expect("txn");
    assert_eq!(noop, TxnResponse { succeeded: true, revision: 4, kv: None });
    let noop_wrong = s.txn("/a", 3, TxnOp::Delete).await.expect("txn");
    assert!(!noop_wrong.succeeded);
    assert_eq!(s.current_revision().await.expect("rev"), 4);
    assert!(matches!(s.txn("", 0, TxnOp::Put(b("x"))).await, Err(Error::Backend(_))), "empty key");
}

#[tokio::test]
async fn versions_and_revisions_across_delete_and_recreate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path()).await;
    put(&s, "/other", 0, "x").await; // rev 2
    let r1 = put(&s, "/k", 0, "a").await; // rev 3
    let r2 = put(&s, "/k", 3, "b").await; // rev 4
    let r3 = put(&s, "/k", 4, "c").await; // rev 5
    let kv = r3.kv.expect("kv");
    assert_eq!((r1.revision, r2.revision, r3.revision), (3, 4, 5));
    assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (3, 5, 3));
    s.txn("/k", 5, TxnOp::Delete).await.expect("delete"); // rev 6
    let again = put(&s, "/k", 0, "d").await; // rev 7
    let kv = again.kv.expect("kv");
    assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (7, 7, 1), "re-create starts over");
    let kv = put(&s, "/k", 7, "e").await.kv.expect("kv");
    assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (7, 8, 2));
    // other keys keep their own bookkeeping
    let other = get(&s, "/other").await.expect("other");
    assert_eq!((other.create_revision, other.mod_revision, other.version), (2, 2, 1));
}

#[tokio::test]
async fn range_prefix_limit_count_and_past_revisions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path()).await;
    for i in 0..10 {
        put(&s, &format!("/p/{i:02}"), 0, &format!("v{i}")).await; // revs 2..=11
    }
    put(&s, "/q/x", 0, "q").await; // 12
    put(&s, "/o", 0, "o").await; // 13
    let all = s.range(RangeRequest::prefix("/p/")).await.expect("range");
    assert_eq!(all.count, 10);
    assert!(!all.more);
    assert_eq!(all.revision, 13);
    let keys: Vec<&str> = all.kvs.iter().map(|kv| kv.key.as_str()).collect();
    let want: Vec<String> = (0..10).map(|i| format!("/p/{i:02}")).collect();
    assert_eq!(keys, want.iter().map(String::as_str).collect::<Vec<_>>(), "key order, prefix only");

    // paging with limit
    let mut start = "/p/".to_string();
    let mut seen = Vec::new();
    loop {
        let page = s
            .range(RangeRequest { start: start.clone(), end: prefix_end("/p/"), limit: 3, ..Default::default() })
            .await
            .expect("page");
        assert!(page.kvs.len() <= 3);
        assert_eq!(page.count, 10 - seen.len() as i64, "count covers the whole remaining range");
        seen.extend(page.kvs.iter().map(|kv| kv.key.clone()));
        match page.kvs.last() {
            Some(last) if page.more => start = format!("{}\0", last.key),
            _ => break,
        }
    }
    assert_eq!(seen, want);
    let counted = s.range(RangeRequest { count_only: true, ..RangeRequest::prefix("/p/") }).await.expect("count");
    assert_eq!((counted.count, counted.kvs.len(), counted.more), (10, 0, false));
    let exact = s.range(RangeRequest { limit: 10, ..RangeRequest::prefix("/p/") }).await.expect("limit = count");
    assert!(!exact.more);

    // change history, then read the past
    put(&s, "/p/03", 5, "changed").await; // 14
    s.txn("/p/04", 6, TxnOp::Delete).await.expect("delete"); // 15
    put(&s, "/p/10", 0, "new").await; // 16
    let now = s.range(RangeRequest::prefix("/p/")).await.expect("now");
    assert_eq!(now.count, 10);
    assert_eq!(now.kvs[3].value, b("changed"));
    assert!(now.kvs.iter().all(|kv| kv.key != "/p/04"));
    let past = s.range(RangeRequest { revision: 13, ..RangeRequest::prefix("/p/") }).await.expect("past");
    assert_eq!(past.revision, 13);
    assert_eq!(past.count, 10);
    assert_eq!(past.kvs, all.kvs, "range at 13 is what it was at 13");
    let mid = s.range(RangeRequest { revision: 14, limit: 5, ..RangeRequest::prefix("/p/") }).await.expect("mid");
    assert_eq!((mid.count, mid.kvs.len(), mid.more), (10, 5, true));
    assert_eq!(mid.kvs[3].value, b("changed"));
    assert_eq!(mid.kvs[4].key, "/p/04", "deleted later, still there at 14");
    let early = s.range(RangeRequest { revision: 5, ..RangeRequest::prefix("/p/") }).await.expect("early");
    assert_eq!(early.count, 4);
    let empty_store = s.range(RangeRequest { revision: 1, ..RangeRequest::prefix("/") }).await.expect("rev 1");
    assert_eq!(empty_store.count, 0);
    let gone = s.range(RangeRequest { revision: 15, ..RangeRequest::key("/p/04") }).await.expect("single past");
    assert!(gone.kvs.is_empty());
    let there = s.range(RangeRequest { revision: 14, ..RangeRequest::key("/p/04") }).await.expect("single past");
    assert_eq!(there.kvs[0].value, b("v4"));

    // errors
    assert!(matches!(
        s.range(RangeRequest { revision: 17, ..RangeRequest::prefix("/p/") }).await,
        Err(Error::FutureRevision { requested: 17, current: 16 })
    ));
    s.compact(10).await.expect("compact");
    assert_eq!(s.compact_revision().await.expect("c"), 10);
    assert!(matches!(
        s.range(RangeRequest { revision: 9, ..RangeRequest::prefix("/p/") }).await,
        Err(Error::Compacted { requested: 9, compacted: 10 })
    ));
    let at_compact =
        s.range(RangeRequest { revision: 10, ..RangeRequest::prefix("/p/") }).await.expect("at compact rev");
    assert_eq!(at_compact.count, 9);
    s.compact(5).await.expect("compacting below is a no-op");
    assert_eq!(s.compact_revision().await.expect("c"), 10);
    assert!(matches!(s.compact(100).await, Err(Error::FutureRevision { .. })));
    // an inverted range is empty
    let inv = s.range(RangeRequest { start: "/z".into(), end: "/a".into(), ..Default::default() }).await.expect("inv");
    assert_eq!((inv.count, inv.kvs.len()), (0, 0));
}

/// A tiny deterministic PRNG for the model tests.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The state at every revision, computed independently.
struct Model {
    states: BTreeMap<i64, BTreeMap<String, KeyValue>>,
    events: Vec<Event>,
}

impl Model {
    fn new() -> Self {
        let mut states = BTreeMap::new();
        states.insert(1, BTreeMap::new());
        Model { states, events: Vec::new() }
    }
    fn latest(&self) -> (i64, &BTreeMap<String, KeyValue>) {
        let (r, s) = self.states.iter().next_back().expect("state");
        (*r, s)
    }
    fn range(&self, rev: i64, start: &str, end: &str, limit: i64) -> (Vec<KeyValue>, i64) {
        let st = &self.states[&rev];
        let inside: Vec<KeyValue> = st
            .values()
            .filter(
                |kv| if end.is_empty() { kv.key == start } else { kv.key.as_str() >= start && kv.key.as_str() < end },
            )
            .cloned()
            .collect();
        let count = inside.len() as i64;
        let kvs = if limit > 0 { inside.into_iter().take(limit as usize).collect() } else { inside };
        (kvs, count)
    }
}

/// Random writes, then every kind of read at every revision against an independent model.
async fn random_history(s: &EmbeddedStore, m: &mut Model, rng: &mut Rng, ops: usize) {
    for _ in 0..ops {
        let key = format!("/{}/{}", ["a", "b", "ab"][rng.below(3) as usize], rng.below(12));
        let (rev, cur) = m.latest();
        let existing = cur.get(&key).cloned();
        let actual_mod = existing.as_ref().map_or(0, |kv| kv.mod_revision);
        let expected = if rng.below(5) == 0 { actual_mod + 1 } else { actual_mod };
        let delete = rng.below(4) == 0;
        let value = format!("v{}", rng.next());
        let op = if delete { TxnOp::Delete } else { TxnOp::Put(b(&value)) };
        let r = s.txn(&key, expected, op).await.expect("txn");
        let holds = expected == actual_mod;
        assert_eq!(r.succeeded, holds);
        let mut next = cur.clone();
        if !holds || (delete && existing.is_none()) {
            assert_eq!(r.revision, rev);
            continue;
        }
        let new_rev = rev + 1;
        assert_eq!(r.revision, new_rev);
        if delete {
            next.remove(&key);
            m.events.push(Event {
                kind: EventType::Delete,
                kv: KeyValue {
                    key: key.clone(),
                    value: Bytes::new(),
                    create_revision: 0,
                    mod_revision: new_rev,
                    version: 0,
                },
                prev_kv: existing,
            });
        } else {
            let kv = KeyValue {
                key: key.clone(),
                value: b(&value),
                create_revision: existing.as_ref().map_or(new_rev, |e| e.create_revision),
                mod_revision: new_rev,
                version: existing.as_ref().map_or(1, |e| e.version + 1),
            };
            assert_eq!(r.kv.as_ref(), Some(&kv));
            next.insert(key.clone(), kv.clone());
            m.events.push(Event { kind: EventType::Put, kv, prev_kv: existing });
        }
        m.states.insert(new_rev, next);
    }
}

async fn check_reads(s: &EmbeddedStore, m: &Model, rng: &mut Rng, from_rev: i64) {
    let (latest, _) = m.latest();
    let bounds: Vec<(String, String)> = vec![
        ("/a/".into(), prefix_end("/a/")),
        ("/ab/".into(), prefix_end("/ab/")),
        ("/".into(), prefix_end("/")),
        ("/a/3".into(), String::new()),
        ("/a/1".into(), "/b/5".into()),
        ("/ab/10".into(), "/ab/4".into()),
    ];
    for rev in from_rev..=latest {
        for (start, end) in &bounds {
            let limit = [0, 1, 2, 5][rng.below(4) as usize];
            let req = RangeRequest {
                start: start.clone(),
                end: end.clone(),
                revision: if rev == latest && rng.below(2) == 0 { 0 } else { rev },
                limit,
                count_only: false,
            };
            let got = s.range(req).await.expect("range");
            let (kvs, count) = m.range(rev, start, end, limit);
            assert_eq!(got.revision, rev);
            assert_eq!(got.count, count, "count at {rev} in {start}..{end}");
            assert_eq!(got.kvs, kvs, "kvs at {rev} in {start}..{end} limit {limit}");
            assert_eq!(got.more, (kvs.len() as i64) < count);
        }
    }
}

#[tokio::test]
async fn mvcc_reads_match_a_model_before_and_after_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut m = Model::new();
    let mut rng = Rng(0x2545F4914F6CDD1D);
    {
        let s = open(dir.path()).await;
        random_history(&s, &mut m, &mut rng, 300).await;
        check_reads(&s, &m, &mut rng, 1).await;
        // watch from the beginning replays exactly the model's events
        let mut w = s.watch("/", 2).await.expect("watch");
        let got = events(&mut w, m.events.len()).await;
        assert_eq!(got, m.events);
        let mut w = s.watch("/ab/", 2).await.expect("watch");
        let want: Vec<Event> = m.events.iter().filter(|e| e.kv.key.starts_with("/ab/")).cloned().collect();
        assert_eq!(events(&mut w, want.len()).await, want);
        // dropped without close
    }
    let s = open(dir.path()).await;
    let (latest, _) = m.latest();
    assert_eq!(s.current_revision().await.expect("rev"), latest);
    assert_eq!(s.compact_revision().await.expect("c"), 0, "no snapshot yet: the whole log is history");
    check_reads(&s, &m, &mut rng, 1).await;
    random_history(&s, &mut m, &mut rng, 200).await;
    check_reads(&s, &m, &mut rng, latest).await;
    s.close().await.expect("close");
    drop(s);
    let s = open(dir.path()).await;
    let (latest, _) = m.latest();
    assert_eq!(s.compact_revision().await.expect("c"), latest, "history before the snapshot is gone");
    check_reads(&s, &m, &mut rng, latest).await;
    assert!(matches!(
        s.range(RangeRequest { revision: latest - 1, ..RangeRequest::prefix("/") }).await,
        Err(Error::Compacted { .. })
    ));
    // a watch from exactly the snapshot revision still gets that revision's event
    let mut w = s.watch("/", latest).await.expect("watch at snapshot rev");
    let got = events(&mut w, 1).await;
    assert_eq!(got[0], *m.events.last().expect("event"));
}

#[tokio::test]
async fn watch_replays_filters_and_goes_live() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path()).await;
    put(&s, "/a/1", 0, "x").await; // 2
    put(&s, "/b/1", 0, "y").await; // 3
    put(&s, "/a/1", 2, "x2").await; // 4
    s.txn("/a/1", 4, TxnOp::Delete).await.expect("delete"); // 5
    put(&s, "/a/2", 0, "z").await; // 6

    // from revision 1 (the empty store): everything
    let mut w1 = s.watch("/", 1).await.expect("watch from 1");
    let all = events(&mut w1, 5).await;
    assert_eq!(all.iter().map(|e| e.kv.mod_revision).collect::<Vec<_>>(), vec![2, 3, 4, 5, 6]);

    let mut w = s.watch("/a/", 3).await.expect("watch");
    let ev = events(&mut w, 3).await;
    assert_eq!(ev.iter().map(|e| e.kv.mod_revision).collect::<Vec<_>>(), vec![4, 5, 6]);
    assert_eq!(ev[0].kind, EventType::Put);
    assert_eq!(ev[0].kv.value, b("x2"));
    assert_eq!(ev[0].kv.version, 2);
    assert_eq!(ev[0].prev_kv.as_ref().map(|p| (p.value.clone(), p.mod_revision)), Some((b("x"), 2)));
    assert_eq!(ev[1].kind, EventType::Delete);
    assert_eq!((ev[1].kv.key.as_str(), ev[1].kv.value.len(), ev[1].kv.mod_revision), ("/a/1", 0, 5));
    assert_eq!(ev[1].prev_kv.as_ref().map(|p| p.value.clone()), Some(b("x2")));
    assert_eq!(ev[2].kind, EventType::Put);
    assert_eq!(ev[2].prev_kv, None);

    // live
    let mut from_now = s.watch("/a/", 0).await.expect("watch");
    let dir2 = tempfile::tempdir().expect("tempdir");
    let fresh = open(dir2.path()).await;
    let mut on_empty = fresh.watch("/", 1).await.expect("watch an empty store from 1");
    put(&fresh, "/first", 0, "x").await;
    assert_eq!(events(&mut on_empty, 1).await[0].kv.mod_revision, 2);
    put(&s, "/b/2", 0, "other").await; // 7, not ours
    put(&s, "/a/3", 0, "live").await; // 8
    for w in [&mut w, &mut from_now] {
        let mut got = Vec::new();
        while got.is_empty() {
            let r = next(w).await;
            assert!(r.revision >= 7);
            got = r.events;
        }
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].kv.key.as_str(), got[0].kv.mod_revision), ("/a/3", 8));
    }
}

#[tokio::test]
async fn watch_progress_when_other_prefixes_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path()).await;
    let mut w = s.watch("/quiet/", 0).await.expect("watch");
    let r = put(&s, "/busy/0", 0, "x").await;
    let p = next(&mut w).await;
    assert!(p.events.is_empty());
    assert_eq!(p.revision, r.revision, "progress says the watcher is current");

    // under a stream of writes elsewhere, progress responses come at most every 100 ms
    let writer = {
        let s = s.clone();
        tokio::spawn(async move {
            let start = Instant::now();
            let mut i = 1;
            while start.elapsed() < Duration::from_millis(700) {
                put(&s, &format!("/busy/{i}"), 0, "x").await;
                i += 1;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    let mut stamps = Vec::new();
    let mut last_rev = p.revision;
    let deadline = Instant::now() + Duration::from_millis(650);
    while Instant::now() < deadline {
        if let Ok(item) = tokio::time::timeout(Duration::from_millis(300), w.next()).await {
            let r = item.expect("open").expect("ok");
            assert!(r.events.is_empty());
            assert!(r.revision > last_rev, "progress moves forward");
            last_rev = r.revision;
            stamps.push(Instant::now());
        }
    }
    writer.await.expect("writer");
    assert!(stamps.len() >= 3, "progress keeps coming ({} responses)", stamps.len());
    assert!(stamps.len() <= 8, "progress is rate limited ({} responses)", stamps.len());
    for pair in stamps.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_millis(80), "progress {:?} apart", pair[1] - pair[0]);
    }
    // an event in the prefix still comes through
    let ours = put(&s, "/quiet/x", 0, "y").await;
    loop {
        let r = next(&mut w).await;
        if let Some(e) = r.events.first() {
            assert_eq!(e.kv.mod_revision, ours.revision);
            break;
        }
    }
}

#[tokio::test]
async fn watch_compacted_at_start_and_when_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path()).await;
    for i in 0..20 {
        put(&s, &format!("/k/{i}"), 0, "v").await; // 2..=21
    }
    s.compact(10).await.expect("compact");
    assert!(matches!(s.watch("/k/", 9).await, Err(Error::Compacted { requested: 9, compacted: 10 })));
    let mut at = s.watch("/k/", 10).await.expect("watch at the compact revision");
    assert_eq!(next(&mut at).await.events[0].kv.mod_revision, 10);

    // a watcher that has not caught up when its history is compacted away
    let mut slow = s.watch("/k/", 12).await.expect("watch");
    s.compact(15).await.expect("compact");
    match tokio::time::timeout(Duration::from_secs(5), slow.next()).await.expect("in time") {
        Some(Err(Error::Compacted { requested: 12, compacted: 15 })) => {}
        other => panic!("expected Compacted, got {other:?}"),
    }
    assert!(slow.next().await.is_none(), "the stream ends after the error");
}

#[tokio::test]
async fn reopen_after_drop_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut acked = Vec::new();
    {
        let s = open(dir.path()).await;
        let mut tasks = Vec::new();
        for t in 0..8 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                for i in 0..50 {
                    let key = format!("/t{t}/{i}");
                    let r = s.txn(&key, 0, TxnOp::Put(b(&format!("{t}-{i}")))).await.expect("txn");
                    assert!(r.succeeded);
                    mine.push((key, r.revision));
                }
                mine
            }));
        }
        for t in tasks {
            acked.extend(t.await.expect("join"));
        }
        // crash: no close
    }
    let s = open(dir.path()).await;
    let mut revs: Vec<i64> = acked.iter().map(|(_, r)| *r).collect();
    revs.sort();
    revs.dedup();
    assert_eq!(revs.len(), acked.len(), "every write its own revision");
    assert_eq!(revs, (2..2 + acked.len() as i64).collect::<Vec<_>>(), "no gaps");
    for (key, rev) in &acked {
        let kv = get(&s, key).await.unwrap_or_else(|| panic!("{key} lost"));
        assert_eq!((kv.mod_revision, kv.create_revision, kv.version), (*rev, *rev, 1));
    }
    let max = *revs.last().expect("revs");
    assert_eq!(s.current_revision().await.expect("rev"), max);
    let r = put(&s, "/after", 0, "x").await;
    assert_eq!(r.revision, max + 1, "revisions go on from where they were");
}

#[tokio::test]
async fn torn_tail_is_truncated_and_middle_corruption_refused() {
    // garbage appended after the last record
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let s = open(dir.path()).await;
        for i in 0..5 {
            put(&s, &format!("/k/{i}"), 0, "v").await;
        }
    }
    let wal = wal_files(dir.path()).pop().expect("a log segment");
    let clean_len = std::fs::metadata(&wal).expect("meta").len();
    let mut data = std::fs::read(&wal).expect("read");
    data.extend_from_slice(&[0x55; 37]);
    std::fs::write(&wal, &data).expect("write");
    {
        let s = open(dir.path()).await;
        assert_eq!(s.current_revision().await.expect("rev"), 6);
        assert_eq!(std::fs::metadata(&wal).expect("meta").len(), clean_len, "garbage truncated");
        put(&s, "/k/5", 0, "v").await; // 7, appended after the repaired tail
    }
    // a record cut in the middle (the last write was torn)
    let data = std::fs::read(&wal).expect("read");
    std::fs::write(&wal, &data[..data.len() - 3]).expect("truncate");
    {
        let s = open(dir.path()).await;
        assert_eq!(s.current_revision().await.expect("rev"), 6, "the torn record is dropped, the rest kept");
        assert!(get(&s, "/k/4").await.is_some());
        assert!(get(&s, "/k/5").await.is_none());
        let r = put(&s, "/k/5", 0, "again").await;
        assert_eq!(r.revision, 7);
    }
    // a flipped byte in an early record, with valid records after it: corrupt
    let mut data = std::fs::read(&wal).expect("read");
    data[12] ^= 0xff;
    std::fs::write(&wal, &data).expect("write");
    match EmbeddedStore::open(dir.path(), Options::default()).await {
        Err(Error::Corrupt(msg)) => assert!(msg.contains("followed by valid records"), "{msg}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn snapshots_rotate_the_log_and_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = Options { snapshot_log_bytes: 16 << 10, ..Options::default() };
    let value = "x".repeat(300);
    let mut expect = BTreeMap::new();
    {
        let s = EmbeddedStore::open(dir.path(), opts.clone()).await.expect("open");
        for i in 0..400 {
            let key = format!("/s/{}", i % 150);
            let cur = expect.get(&key).map_or(0, |(_, rev)| *rev);
            let r = put(&s, &key, cur, &format!("{value}{i}")).await;
            assert!(r.succeeded);
            expect.insert(key, (format!("{value}{i}"), r.revision));
            if i % 7 == 0 {
                let k = format!("/s/{}", (i * 13) % 150);
                if let Some((_, rev)) = expect.get(&k).cloned() {
                    s.txn(&k, rev, TxnOp::Delete).await.expect("delete");
                    expect.remove(&k);
                }
            }
        }
        // wait for the background snapshot(s)
        let t0 = Instant::now();
        while s.stats().snapshots == 0 && t0.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let st = s.stats();
        assert!(st.snapshots >= 1, "a snapshot was taken: {st:?}");
        // ~130 KiB of log went through 16 KiB segments: without deletion there would be ~8
        // (at most one snapshot is in flight, so at most its old segment, its new one and the
        // segment the snapshot before it started are still there)
        assert!(wal_files(dir.path()).len() <= 3, "old segments deleted: {:?}", wal_files(dir.path()));
        assert!(snap_files(dir.path()).len() <= 2);
        // crash: the newest snapshot + the log after it
    }
    let check = |s: Arc<EmbeddedStore>, expect: BTreeMap<String, (String, i64)>| async move {
        let all = s.range(RangeRequest::prefix("/s/")).await.expect("range");
        let got: BTreeMap<String, (String, i64)> = all
            .kvs
            .iter()
            .map(|kv| (kv.key.clone(), (String::from_utf8(kv.value.to_vec()).expect("utf8"), kv.mod_revision)))
            .collect();
        assert_eq!(got, expect);
    };
    let s = EmbeddedStore::open(dir.path(), opts.clone()).await.expect("reopen");
    let snap_rev: i64 = snap_files(dir.path())[0]
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("snap-")?.strip_suffix(".snap")?.parse().ok())
        .expect("snapshot revision");
    assert_eq!(s.compact_revision().await.expect("c"), snap_rev);
    check(s.clone(), expect.clone()).await;
    s.close().await.expect("close");
    assert!(matches!(s.current_revision().await, Err(Error::Closed)));
    assert!(matches!(s.txn("/x", 0, TxnOp::Delete).await, Err(Error::Closed)));
    let latest = expect.values().map(|(_, r)| *r).max().expect("some");
    drop(s);
    // after a clean close: one snapshot at the latest revision, one empty segment
    let snaps = snap_files(dir.path());
    assert_eq!(snaps.len(), 1);
    let s = EmbeddedStore::open(dir.path(), opts).await.expect("reopen after close");
    let cur = s.current_revision().await.expect("rev");
    assert!(cur >= latest);
    assert_eq!(s.compact_revision().await.expect("c"), cur);
    assert_eq!(wal_files(dir.path()).len(), 1);
    assert_eq!(std::fs::metadata(&wal_files(dir.path())[0]).expect("meta").len(), 0);
    check(s, expect).await;
}

#[tokio::test]
async fn close_ends_watches_and_the_directory_is_locked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let s = open(&data).await;
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&data).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    match EmbeddedStore::open(&data, Options::default()).await {
        Err(Error::Backend(msg)) => assert!(msg.contains("in use"), "{msg}"),
        other => panic!("second open must fail, got {other:?}"),
    }
    let mut w = s.watch("/", 0).await.expect("watch");
    put(&s, "/a", 0, "x").await;
    assert_eq!(next(&mut w).await.events.len(), 1);
    s.close().await.expect("close");
    s.close().await.expect("closing twice is fine");
    match tokio::time::timeout(Duration::from_secs(5), w.next()).await.expect("in time") {
        Some(Err(Error::Closed)) => {}
        other => panic!("expected Closed, got {other:?}"),
    }
    assert!(w.next().await.is_none());
    drop(s);
    let s = open(&data).await; // the lock is free again
    assert_eq!(get(&s, "/a").await.map(|kv| kv.value), Some(b("x")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_cas_increments_are_linearizable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path()).await;
    const TASKS: usize = 32;
    const EACH: usize = 40;
    let mut handles = Vec::new();
    for _ in 0..TASKS {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            let mut wins = Vec::new();
            let mut cur = get(&s, "/counter").await;
            while wins.len() < EACH {
                let (n, rev) = match &cur {
                    Some(kv) => {
                        (std::str::from_utf8(&kv.value).expect("utf8").parse::<usize>().expect("int"), kv.mod_revision)
                    }
                    None => (0, 0),
                };
                let r = s.txn("/counter", rev, TxnOp::Put(b(&(n + 1).to_string()))).await.expect("txn");
                if r.succeeded {
                    wins.push((r.revision, n + 1));
                }
                cur = r.kv;
            }
            wins
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.expect("join"));
    }
    all.sort();
    // every successful increment saw exactly the value before it: in revision order the values
    // written are 1, 2, 3, ... with no duplicate and no gap
    let values: Vec<usize> = all.iter().map(|(_, v)| *v).collect();
    assert_eq!(values, (1..=TASKS * EACH).collect::<Vec<_>>());
    let revs: Vec<i64> = all.iter().map(|(r, _)| *r).collect();
    assert_eq!(revs, (2..2 + (TASKS * EACH) as i64).collect::<Vec<_>>());
    let kv = get(&s, "/counter").await.expect("counter");
    assert_eq!(kv.value, b(&(TASKS * EACH).to_string()));
    assert_eq!(kv.version, (TASKS * EACH) as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_shares_syncs_between_writers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path()).await;
    const WRITERS: usize = 64;
    const EACH: usize = 150;
    let t0 = Instant::now();
    let mut handles = Vec::new();
    for w in 0..WRITERS {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            for i in 0..EACH {
                let r = s.txn(&format!("/w/{w}/{i}"), 0, TxnOp::Put(Bytes::from(vec![b'x'; 200]))).await.expect("txn");
                assert!(r.succeeded);
            }
        }));
    }
    for h in handles {
        h.await.expect("join");
    }
    let elapsed = t0.elapsed();
    let st = s.stats();
    let n = (WRITERS * EACH) as u64;
    println!(
        "group commit: {n} txns from {WRITERS} writers in {elapsed:?} = {:.0} txn/s; {} fdatasyncs ({:.1} txns per sync)",
        n as f64 / elapsed.as_secs_f64(),
        st.syncs,
        n as f64 / st.syncs.max(1) as f64
    );
    assert_eq!(st.writes, n);
    assert!(st.syncs * 4 <= n, "{} syncs for {n} writes: no group commit", st.syncs);
    assert_eq!(st.durable_revision, 1 + n as i64);
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").metadata().expect("metadata").len())
        .sum()
}

/// 100,000 objects created and deleted by 32 writers, with the periodic compaction the apiserver
/// runs: the directory returns near its size before the churn without any manual step, and no
/// write waits long behind compaction or snapshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_returns_disk_space_without_manual_steps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(dir.path()).await;
    // a small cluster's worth of objects that stay
    let value = Bytes::from("v".repeat(1500));
    for i in 0..200 {
        assert!(s.txn(&format!("/registry/configmaps/base/{i}"), 0, TxnOp::Put(value.clone())).await.expect("put").succeeded);
    }
    let first = s.current_revision().await.expect("rev");
    s.compact(first).await.expect("compact");
    let t0 = Instant::now();
    while dir_bytes(dir.path()) > 1 << 20 && t0.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let baseline = dir_bytes(dir.path());

    const OBJECTS: usize = 100_000;
    const WRITERS: usize = 32;
    let worst = Arc::new(parking_lot::Mutex::new(Duration::ZERO));
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (s, value, worst) = (s.clone(), value.clone(), worst.clone());
        tasks.push(tokio::spawn(async move {
            for i in (w..OBJECTS).step_by(WRITERS) {
                let key = format!("/registry/pods/churn/p{i}");
                let t = Instant::now();
                let r = s.txn(&key, 0, TxnOp::Put(value.clone())).await.expect("create");
                assert!(r.succeeded);
                let d = s.txn(&key, r.revision, TxnOp::Delete).await.expect("delete");
                assert!(d.succeeded);
                let took = t.elapsed() / 2;
                let mut m = worst.lock();
                *m = (*m).max(took);
            }
        }));
    }
    // the apiserver's compaction loop, sped up: keep one interval of history
    let compactor = {
        let s = s.clone();
        tokio::spawn(async move {
            let mut previous = None;
            loop {
                tokio::time::sleep(Duration::from_millis(300)).await;
                if let Some(rev) = previous {
                    s.compact(rev).await.expect("compact");
                }
                previous = Some(s.current_revision().await.expect("rev"));
            }
        })
    };
    for t in tasks {
        t.await.expect("writer");
    }
    compactor.abort();
    let peak = s.stats();
    assert_eq!(peak.keys, 200, "only the lasting objects remain");
    // the next periodic compaction after the churn
    let rev = s.current_revision().await.expect("rev");
    s.compact(rev).await.expect("compact");
    let t0 = Instant::now();
    let mut size = dir_bytes(dir.path());
    while size > baseline + (1 << 20) && t0.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        size = dir_bytes(dir.path());
    }
    let worst = *worst.lock();
    println!(
        "churn: {OBJECTS} creates+deletes, baseline {baseline} B, after {size} B, {} log bytes written, longest write {worst:?}",
        peak.log_bytes
    );
    assert!(peak.log_bytes > 100 * (1 << 20), "the churn wrote a lot of log: {peak:?}");
    assert!(size <= baseline + (1 << 20), "disk returned near its baseline: {baseline} -> {size}");
    // a sanity bound, not a benchmark (`ferrokube bench churn` measures it)
    assert!(worst < Duration::from_secs(2), "no write stalled for long: {worst:?}");
    // and the remaining state is intact after a restart
    drop(s);
    let s = open(dir.path()).await;
    let r = s.range(RangeRequest::prefix("/registry/")).await.expect("range");
    assert_eq!(r.count, 200);
}

/// A snapshot taken while writers go on is the state at one revision, and restores into a new
/// store with the same keys, values and revisions. A damaged snapshot is refused whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_during_writes_restores_one_consistent_revision() {
    use storage::embedded::snapshot;
    let dir = tempfile::tempdir().expect("tempdir");
    let s = open(&dir.path().join("db")).await;
    for i in 0..2500 {
        put(&s, &format!("/registry/secrets/ns/s{i:05}"), 0, &format!("value {i}")).await;
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (s, stop) = (s.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let key = format!("/registry/secrets/ns/s{:05}", n % 2500);
                let cur = get(&s, &key).await.map_or(0, |kv| kv.mod_revision);
                s.txn(&key, cur, TxnOp::Put(Bytes::from(format!("rewrite {n}")))).await.expect("write");
                n += 1;
                if n % 7 == 0 {
                    let gone = format!("/registry/secrets/ns/s{:05}", (n * 31) % 2500);
                    if let Some(kv) = get(&s, &gone).await {
                        s.txn(&gone, kv.mod_revision, TxnOp::Delete).await.expect("delete");
                    }
                }
            }
            n
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let backend: Arc<dyn Backend> = s.clone();
    let mut bytes = Vec::new();
    let mut chunks = snapshot::save(backend);
    while let Some(c) = chunks.next().await {
        bytes.extend_from_slice(&c.expect("chunk"));
        tokio::task::yield_now().await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let rewrites = writer.await.expect("writer");
    assert!(rewrites > 10, "writes went on during the snapshot: {rewrites}");

    // damaged: refused, nothing created
    let mut bad = bytes.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x55;
    let bad_dir = dir.path().join("bad");
    assert!(matches!(snapshot::restore(&bad[..], &bad_dir), Err(Error::Corrupt(_))));
    assert!(!bad_dir.exists());

    let new_dir = dir.path().join("restored");
    let restored = snapshot::restore(&bytes[..], &new_dir).expect("restore");
    // the source at the snapshot's revision, read through MVCC
    let want = s
        .range(RangeRequest { revision: restored.revision, ..RangeRequest::prefix("/registry/") })
        .await
        .expect("range at the snapshot revision");
    assert_eq!(restored.keys as usize, want.kvs.len());
    let r = open(&new_dir).await;
    assert_eq!(r.current_revision().await.expect("rev"), restored.revision);
    let got = r.range(RangeRequest::prefix("/registry/")).await.expect("range");
    assert_eq!(got.kvs, want.kvs, "same keys, values and revisions");
    // the restored store goes on from there
    let next = put(&r, "/registry/secrets/ns/new", 0, "after").await;
    assert_eq!(next.revision, restored.revision + 1);
    // restore refuses a directory in use
    assert!(matches!(snapshot::restore(&bytes[..], &new_dir), Err(Error::Backend(_))));
}
