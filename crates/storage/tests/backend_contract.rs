//! The `Backend` contract, checked the same way against both backends: the embedded store (in a
//! temporary directory) and a real etcd (started here, `storage::etcd::testing`). Every contract
//! test runs twice, as `<test>::embedded` and `<test>::etcd`; a few etcd-only tests follow
//! (TLS, a 3-member cluster, compaction by `etcdctl`, connection loss, watch cancellation).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use storage::embedded::{EmbeddedStore, Options};
use storage::etcd::testing::EtcdProcess;
use storage::etcd::{EtcdOptions, EtcdStore};
use storage::{
    Backend, Error, Event, EventType, KeyValue, RangeRequest, Revision, TxnOp, TxnResponse, WatchResponse, WatchStream,
    prefix_end,
};

/// A backend under test and what keeps it alive.
struct Harness {
    store: Arc<dyn Backend>,
    etcd: Option<EtcdProcess>,
    _dir: Option<tempfile::TempDir>,
}

impl Harness {
    /// Compacts through another client where there is one (`etcdctl`), else through the store.
    fn compact_externally(&self, rev: Revision) -> bool {
        match &self.etcd {
            Some(etcd) => {
                match etcd.etcdctl(&["compact", &rev.to_string()]) {
                    Ok(_) => {}
                    Err(e) if e.to_string().contains("required revision has been compacted") => {}
                    Err(e) => panic!("etcdctl compact {rev}: {e}"),
                }
                true
            }
            None => false,
        }
    }
}

async fn embedded() -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = EmbeddedStore::open(dir.path(), Options::default()).await.expect("open");
    Harness { store, etcd: None, _dir: Some(dir) }
}

async fn start_etcd(n: usize, tls: bool) -> EtcdProcess {
    tokio::task::spawn_blocking(move || EtcdProcess::start_cluster(n, tls))
        .await
        .expect("join")
        .expect("etcd starts (scripts/test installs etcd-server)")
}

async fn etcd() -> Harness {
    let etcd = start_etcd(1, false).await;
    let store = EtcdStore::connect(etcd.options()).await.expect("connect");
    Harness { store, etcd: Some(etcd), _dir: None }
}

/// Each contract test as `<name>::embedded` and `<name>::etcd`.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                super::$name(super::embedded().await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn etcd() {
                super::$name(super::etcd().await).await
            }
        }
    )*};
}

contract!(
    create_update_conflict_delete,
    versions_across_delete_and_recreate,
    range_limit_count_more_and_past_revisions,
    compaction_and_revision_errors,
    compact_revision_sees_other_clients,
    reads_and_watch_match_a_model,
    watch_from_a_revision,
    watch_progress_when_other_prefixes_change,
    watch_compacted,
    concurrent_cas_increments_are_linearizable,
    bench_runs,
);

fn b(s: &str) -> Bytes {
    Bytes::from(s.to_string())
}

async fn put(s: &dyn Backend, key: &str, expected: i64, v: &str) -> TxnResponse {
    s.txn(key, expected, TxnOp::Put(b(v))).await.expect("txn")
}

async fn get(s: &dyn Backend, key: &str) -> Option<KeyValue> {
    let mut r = s.range(RangeRequest::key(key)).await.expect("range");
    assert!(r.kvs.len() <= 1);
    r.kvs.pop()
}

async fn next(w: &mut WatchStream) -> WatchResponse {
    tokio::time::timeout(Duration::from_secs(10), w.next())
        .await
        .expect("watch response in time")
        .expect("stream not ended")
        .expect("not an error")
}

/// Reads from a watch until `n` events have arrived; checks each response's revision covers its
/// events.
async fn events(w: &mut WatchStream, n: usize) -> Vec<Event> {
    let mut out = Vec::new();
    while out.len() < n {
        let r = next(w).await;
        if let Some(last) = r.events.last() {
            assert!(r.revision >= last.kv.mod_revision, "response revision {} below its events", r.revision);
        }
        out.extend(r.events);
    }
    assert_eq!(out.len(), n, "more events than expected");
    out
}

async fn create_update_conflict_delete(h: Harness) {
    let s = &*h.store;
    assert_eq!(s.current_revision().await.expect("rev"), 1, "an empty store is at revision 1");
    assert_eq!(s.compact_revision().await.expect("rev"), 0);

    let r = put(s, "/a", 0, "one").await;
    assert!(r.succeeded);
    assert_eq!(r.revision, 2, "first write gets revision 2");
    assert_eq!(
        r.kv,
        Some(KeyValue { key: "/a".into(), value: b("one"), create_revision: 2, mod_revision: 2, version: 1 })
    );
    let again = put(s, "/a", 0, "other").await;
    assert!(!again.succeeded, "create of an existing key fails");
    assert_eq!(again.revision, 2, "a failed compare does not bump the revision");
    assert_eq!(
        again.kv,
        Some(KeyValue { key: "/a".into(), value: b("one"), create_revision: 2, mod_revision: 2, version: 1 }),
        "failure returns the current key"
    );
    assert_eq!(get(s, "/a").await.map(|kv| kv.value), Some(b("one")));

    let r = put(s, "/a", 2, "two").await;
    assert!(r.succeeded);
    assert_eq!(r.revision, 3);
    assert_eq!(
        r.kv,
        Some(KeyValue { key: "/a".into(), value: b("two"), create_revision: 2, mod_revision: 3, version: 2 })
    );
    let stale = put(s, "/a", 2, "three").await;
    assert!(!stale.succeeded);
    assert_eq!(stale.revision, 3);
    assert_eq!(stale.kv.map(|kv| (kv.value, kv.mod_revision)), Some((b("two"), 3)));
    let wrong_create = s.txn("/missing", 7, TxnOp::Put(b("x"))).await.expect("txn");
    assert_eq!(
        wrong_create,
        TxnResponse { succeeded: false, revision: 3, kv: None },
        "expected revision on a missing key"
    );

    let stale_del = s.txn("/a", 2, TxnOp::Delete).await.expect("txn");
    assert!(!stale_del.succeeded);
    assert_eq!(stale_del.kv.map(|kv| kv.mod_revision), Some(3));
    assert!(get(s, "/a").await.is_some());
    let del = s.txn("/a", 3, TxnOp::Delete).await.expect("txn");
    assert_eq!(
        del,
        TxnResponse {
            succeeded: true,
            revision: 4,
            kv: Some(KeyValue { key: "/a".into(), value: b("two"), create_revision: 2, mod_revision: 3, version: 2 }),
        },
        "delete returns the key as it was"
    );
    assert_eq!(get(s, "/a").await, None);
    let noop = s.txn("/a", 0, TxnOp::Delete).await.expect("txn");
    assert_eq!(
        noop,
        TxnResponse { succeeded: true, revision: 4, kv: None },
        "deleting a missing key: holds, no revision"
    );
    let noop_wrong = s.txn("/a", 3, TxnOp::Delete).await.expect("txn");
    assert_eq!(noop_wrong, TxnResponse { succeeded: false, revision: 4, kv: None });
    assert_eq!(s.current_revision().await.expect("rev"), 4);
    assert!(matches!(s.txn("", 0, TxnOp::Put(b("x"))).await, Err(Error::Backend(_))), "empty key");
    // an empty value is a value
    let empty = put(s, "/e", 0, "").await;
    assert!(empty.succeeded);
    assert_eq!(get(s, "/e").await.map(|kv| (kv.value.len(), kv.version)), Some((0, 1)));
}

async fn versions_across_delete_and_recreate(h: Harness) {
    let s = &*h.store;
    put(s, "/other", 0, "x").await; // 2
    let r1 = put(s, "/k", 0, "a").await; // 3
    let r2 = put(s, "/k", 3, "b").await; // 4
    let r3 = put(s, "/k", 4, "c").await; // 5
    let kv = r3.kv.expect("kv");
    assert_eq!((r1.revision, r2.revision, r3.revision), (3, 4, 5));
    assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (3, 5, 3));
    s.txn("/k", 5, TxnOp::Delete).await.expect("delete"); // 6
    let kv = put(s, "/k", 0, "d").await.kv.expect("kv"); // 7
    assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (7, 7, 1), "re-create starts over");
    let kv = put(s, "/k", 7, "e").await.kv.expect("kv"); // 8
    assert_eq!((kv.create_revision, kv.mod_revision, kv.version), (7, 8, 2));
    assert_eq!(get(s, "/k").await, Some(kv));
    let other = get(s, "/other").await.expect("other");
    assert_eq!((other.create_revision, other.mod_revision, other.version), (2, 2, 1));
}

async fn range_limit_count_more_and_past_revisions(h: Harness) {
    let s = &*h.store;
    for i in 0..10 {
        put(s, &format!("/p/{i:02}"), 0, &format!("v{i}")).await; // revs 2..=11
    }
    put(s, "/q/x", 0, "q").await; // 12
    put(s, "/o", 0, "o").await; // 13
    let all = s.range(RangeRequest::prefix("/p/")).await.expect("range");
    assert_eq!((all.count, all.more, all.revision), (10, false, 13));
    let want: Vec<String> = (0..10).map(|i| format!("/p/{i:02}")).collect();
    assert_eq!(all.kvs.iter().map(|kv| kv.key.clone()).collect::<Vec<_>>(), want, "key order, prefix only");
    assert_eq!(
        all.kvs[4],
        KeyValue { key: "/p/04".into(), value: b("v4"), create_revision: 6, mod_revision: 6, version: 1 }
    );

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
        assert_eq!(page.more, seen.len() + page.kvs.len() < 10);
        seen.extend(page.kvs.iter().map(|kv| kv.key.clone()));
        match page.kvs.last() {
            Some(last) if page.more => start = format!("{}\0", last.key),
            _ => break,
        }
    }
    assert_eq!(seen, want);
    let counted = s.range(RangeRequest { count_only: true, ..RangeRequest::prefix("/p/") }).await.expect("count");
    assert_eq!((counted.count, counted.kvs.len(), counted.more, counted.revision), (10, 0, false, 13));
    let counted =
        s.range(RangeRequest { count_only: true, limit: 2, ..RangeRequest::prefix("/p/") }).await.expect("count");
    assert_eq!((counted.count, counted.kvs.len(), counted.more), (10, 0, false), "count_only with a limit");
    let exact = s.range(RangeRequest { limit: 10, ..RangeRequest::prefix("/p/") }).await.expect("limit = count");
    assert!(!exact.more);

    // history, then the past
    put(s, "/p/03", 5, "changed").await; // 14
    s.txn("/p/04", 6, TxnOp::Delete).await.expect("delete"); // 15
    put(s, "/p/10", 0, "new").await; // 16
    let now = s.range(RangeRequest::prefix("/p/")).await.expect("now");
    assert_eq!((now.count, now.revision), (10, 16));
    assert_eq!(now.kvs[3].value, b("changed"));
    assert!(now.kvs.iter().all(|kv| kv.key != "/p/04"));
    let past = s.range(RangeRequest { revision: 13, ..RangeRequest::prefix("/p/") }).await.expect("past");
    assert_eq!(past.revision, 13, "a past read answers its revision");
    assert_eq!(past.kvs, all.kvs, "range at 13 is what it was at 13");
    let mid = s.range(RangeRequest { revision: 14, limit: 5, ..RangeRequest::prefix("/p/") }).await.expect("mid");
    assert_eq!((mid.count, mid.kvs.len(), mid.more, mid.revision), (10, 5, true, 14));
    assert_eq!(mid.kvs[3].value, b("changed"));
    assert_eq!(mid.kvs[4].key, "/p/04", "deleted later, still there at 14");
    let early = s.range(RangeRequest { revision: 5, ..RangeRequest::prefix("/p/") }).await.expect("early");
    assert_eq!(early.count, 4);
    let empty_store = s.range(RangeRequest { revision: 1, ..RangeRequest::prefix("/") }).await.expect("rev 1");
    assert_eq!((empty_store.count, empty_store.revision), (0, 1));
    let gone = s.range(RangeRequest { revision: 15, ..RangeRequest::key("/p/04") }).await.expect("single past");
    assert!(gone.kvs.is_empty());
    let there = s.range(RangeRequest { revision: 14, ..RangeRequest::key("/p/04") }).await.expect("single past");
    assert_eq!(there.kvs[0].value, b("v4"));

    // odd bounds: inverted, empty start, "\0" end, the whole key space
    let inv = s.range(RangeRequest { start: "/z".into(), end: "/a".into(), ..Default::default() }).await.expect("inv");
    assert_eq!((inv.count, inv.kvs.len(), inv.revision), (0, 0, 16));
    let nul = s.range(RangeRequest { start: "/p/".into(), end: "\0".into(), ..Default::default() }).await.expect("nul");
    assert_eq!(nul.count, 0, "an end of \"\\0\" is an end, not \"to the end\"");
    let none = s.range(RangeRequest { start: String::new(), ..Default::default() }).await.expect("empty key");
    assert_eq!((none.count, none.revision), (0, 16));
    let head =
        s.range(RangeRequest { start: String::new(), end: "/p/".into(), ..Default::default() }).await.expect("head");
    assert_eq!(head.kvs.iter().map(|kv| kv.key.as_str()).collect::<Vec<_>>(), vec!["/o"]);
    let everything = s.range(RangeRequest::prefix("")).await.expect("all");
    assert_eq!(everything.count, 12);
    let single_past_empty =
        s.range(RangeRequest { start: "/z".into(), end: "/a".into(), revision: 3, ..Default::default() }).await;
    assert_eq!(single_past_empty.expect("inverted past").revision, 3);
}

async fn compaction_and_revision_errors(h: Harness) {
    let s = &*h.store;
    for i in 0..15 {
        put(s, &format!("/p/{i:02}"), 0, "v").await; // 2..=16
    }
    match s.range(RangeRequest { revision: 17, ..RangeRequest::prefix("/p/") }).await {
        Err(Error::FutureRevision { requested: 17, current: 16 }) => {}
        other => panic!("expected FutureRevision, got {other:?}"),
    }
    match s.range(RangeRequest { revision: 17, start: "/z".into(), end: "/a".into(), ..Default::default() }).await {
        Err(Error::FutureRevision { requested: 17, current: 16 }) => {}
        other => panic!("an inverted range still checks its revision: {other:?}"),
    }
    s.compact(10).await.expect("compact");
    assert_eq!(s.compact_revision().await.expect("c"), 10);
    match s.range(RangeRequest { revision: 9, ..RangeRequest::prefix("/p/") }).await {
        Err(Error::Compacted { requested: 9, compacted: 10 }) => {}
        other => panic!("expected Compacted, got {other:?}"),
    }
    match s.range(RangeRequest { revision: 2, ..RangeRequest::key("/p/00") }).await {
        Err(Error::Compacted { requested: 2, compacted: 10 }) => {}
        other => panic!("expected Compacted, got {other:?}"),
    }
    let at = s.range(RangeRequest { revision: 10, ..RangeRequest::prefix("/p/") }).await.expect("at compact rev");
    assert_eq!((at.count, at.revision), (9, 10));
    let latest = s.range(RangeRequest::prefix("/p/")).await.expect("latest");
    assert_eq!(latest.count, 15);
    s.compact(5).await.expect("compacting below is a no-op");
    s.compact(10).await.expect("compacting at the compact revision is a no-op");
    assert_eq!(s.compact_revision().await.expect("c"), 10);
    match s.compact(100).await {
        Err(Error::FutureRevision { requested: 100, current: 16 }) => {}
        other => panic!("expected FutureRevision, got {other:?}"),
    }
    s.compact(16).await.expect("compact at the current revision");
    assert_eq!(s.compact_revision().await.expect("c"), 16);
    assert_eq!(s.range(RangeRequest::prefix("/p/")).await.expect("latest").count, 15);
    let r = put(s, "/p/new", 0, "v").await;
    assert_eq!(r.revision, 17, "revisions go on after compaction");
}

async fn compact_revision_sees_other_clients(h: Harness) {
    let s = &*h.store;
    for i in 0..40 {
        put(s, &format!("/c/{i}"), 0, "v").await; // 2..=41
    }
    for (rev, expect) in [(7, 7), (23, 23), (23, 23), (12, 23), (41, 41)] {
        if !h.compact_externally(rev) {
            s.compact(rev).await.expect("compact");
        }
        assert_eq!(s.compact_revision().await.expect("c"), expect, "after compacting at {rev}");
        match s.range(RangeRequest { revision: expect - 1, ..RangeRequest::prefix("/c/") }).await {
            Err(Error::Compacted { requested, compacted }) => assert_eq!((requested, compacted), (expect - 1, expect)),
            other => panic!("expected Compacted, got {other:?}"),
        }
    }
}

/// The state at every revision, computed independently.
struct Model {
    states: BTreeMap<i64, BTreeMap<String, KeyValue>>,
    events: Vec<Event>,
}

impl Model {
    fn latest(&self) -> (i64, &BTreeMap<String, KeyValue>) {
        let (r, s) = self.states.iter().next_back().expect("state");
        (*r, s)
    }
}

/// A tiny deterministic PRNG.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

async fn reads_and_watch_match_a_model(h: Harness) {
    let s = &*h.store;
    let mut m = Model { states: BTreeMap::from([(1, BTreeMap::new())]), events: Vec::new() };
    let mut rng = Rng(0x2545F4914F6CDD1D);
    for _ in 0..150 {
        let key = format!("/{}/{}", ["a", "b", "ab"][rng.below(3) as usize], rng.below(8));
        let (rev, cur) = m.latest();
        let existing = cur.get(&key).cloned();
        let actual = existing.as_ref().map_or(0, |kv| kv.mod_revision);
        let expected = if rng.below(5) == 0 { actual + 1 } else { actual };
        let delete = rng.below(4) == 0;
        let value = format!("v{}", rng.below(1 << 30));
        let op = if delete { TxnOp::Delete } else { TxnOp::Put(b(&value)) };
        let r = s.txn(&key, expected, op).await.expect("txn");
        assert_eq!(r.succeeded, expected == actual);
        if !r.succeeded {
            assert_eq!((r.revision, r.kv), (rev, existing));
            continue;
        }
        if delete && existing.is_none() {
            assert_eq!((r.revision, r.kv), (rev, None));
            continue;
        }
        let new_rev = rev + 1;
        assert_eq!(r.revision, new_rev);
        let mut next = cur.clone();
        if delete {
            next.remove(&key);
            assert_eq!(r.kv, existing);
            let kv = KeyValue {
                key: key.clone(),
                value: Bytes::new(),
                create_revision: 0,
                mod_revision: new_rev,
                version: 0,
            };
            m.events.push(Event { kind: EventType::Delete, kv, prev_kv: existing });
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
    let (latest, _) = m.latest();
    let bounds: Vec<(&str, String)> = vec![
        ("/a/", prefix_end("/a/")),
        ("/ab/", prefix_end("/ab/")),
        ("/a/3", String::new()),
        ("/a/1", "/b/5".into()),
    ];
    for rev in 1..=latest {
        let state = &m.states[&rev];
        for (start, end) in &bounds {
            let limit = [0, 1, 3][rng.below(3) as usize];
            let got = s
                .range(RangeRequest {
                    start: start.to_string(),
                    end: end.clone(),
                    revision: rev,
                    limit,
                    count_only: false,
                })
                .await
                .expect("range");
            let inside: Vec<KeyValue> = state
                .values()
                .filter(|kv| if end.is_empty() { kv.key == *start } else { kv.key.as_str() >= *start && kv.key < *end })
                .cloned()
                .collect();
            let count = inside.len() as i64;
            let kvs: Vec<KeyValue> = if limit > 0 { inside.into_iter().take(limit as usize).collect() } else { inside };
            assert_eq!(got.revision, rev);
            assert_eq!(got.count, count, "count at {rev} in {start}..{end}");
            assert_eq!(got.more, (kvs.len() as i64) < count);
            assert_eq!(got.kvs, kvs, "kvs at {rev} in {start}..{end} limit {limit}");
        }
    }
    let mut w = s.watch("/", 2).await.expect("watch");
    assert_eq!(events(&mut w, m.events.len()).await, m.events, "a watch from 2 replays the history");
    let mut w = s.watch("/ab/", 1).await.expect("watch");
    let want: Vec<Event> = m.events.iter().filter(|e| e.kv.key.starts_with("/ab/")).cloned().collect();
    assert_eq!(events(&mut w, want.len()).await, want, "a prefix watch from 1 replays the prefix's history");
}

async fn watch_from_a_revision(h: Harness) {
    let s = &*h.store;
    put(s, "/a/1", 0, "x").await; // 2
    put(s, "/b/1", 0, "y").await; // 3
    put(s, "/a/1", 2, "x2").await; // 4
    s.txn("/a/1", 4, TxnOp::Delete).await.expect("delete"); // 5
    put(s, "/a/2", 0, "z").await; // 6

    let mut all = s.watch("/", 1).await.expect("watch from 1");
    let ev = events(&mut all, 5).await;
    assert_eq!(ev.iter().map(|e| e.kv.mod_revision).collect::<Vec<_>>(), vec![2, 3, 4, 5, 6]);

    let mut w = s.watch("/a/", 3).await.expect("watch");
    let ev = events(&mut w, 3).await;
    assert_eq!(
        ev[0],
        Event {
            kind: EventType::Put,
            kv: KeyValue { key: "/a/1".into(), value: b("x2"), create_revision: 2, mod_revision: 4, version: 2 },
            prev_kv: Some(KeyValue {
                key: "/a/1".into(),
                value: b("x"),
                create_revision: 2,
                mod_revision: 2,
                version: 1
            }),
        }
    );
    assert_eq!(
        ev[1],
        Event {
            kind: EventType::Delete,
            kv: KeyValue { key: "/a/1".into(), value: Bytes::new(), create_revision: 0, mod_revision: 5, version: 0 },
            prev_kv: Some(KeyValue {
                key: "/a/1".into(),
                value: b("x2"),
                create_revision: 2,
                mod_revision: 4,
                version: 2
            }),
        }
    );
    assert_eq!(
        ev[2],
        Event {
            kind: EventType::Put,
            kv: KeyValue { key: "/a/2".into(), value: b("z"), create_revision: 6, mod_revision: 6, version: 1 },
            prev_kv: None,
        }
    );

    // live, from now and from a revision, and a watch from the future
    let mut from_now = s.watch("/a/", 0).await.expect("watch");
    let mut future = s.watch("/a/", 9).await.expect("watch from a future revision");
    put(s, "/b/2", 0, "other").await; // 7, not ours
    put(s, "/a/3", 0, "live").await; // 8
    for w in [&mut w, &mut from_now] {
        let mut got = Vec::new();
        while got.is_empty() {
            let r = next(w).await;
            assert!(r.revision >= 7, "progress or events from 7 on: {}", r.revision);
            got = r.events;
        }
        assert_eq!(got.iter().map(|e| (e.kv.key.as_str(), e.kv.mod_revision)).collect::<Vec<_>>(), vec![("/a/3", 8)]);
    }
    put(s, "/a/4", 0, "later").await; // 9
    let ev = events(&mut future, 1).await;
    assert_eq!((ev[0].kv.key.as_str(), ev[0].kv.mod_revision), ("/a/4", 9), "nothing before 9");
}

async fn watch_progress_when_other_prefixes_change(h: Harness) {
    let s = h.store.clone();
    let mut w = s.watch("/quiet/", 0).await.expect("watch");
    let r = put(&*s, "/busy/0", 0, "x").await;
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
                put(&*s, &format!("/busy/{i}"), 0, "x").await;
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
    // the last progress catches up with the last write
    let current = s.current_revision().await.expect("rev");
    while last_rev < current {
        let r = next(&mut w).await;
        assert!(r.events.is_empty());
        last_rev = r.revision;
    }
    assert_eq!(last_rev, current);
    let ours = put(&*s, "/quiet/x", 0, "y").await;
    let r = next(&mut w).await;
    assert_eq!(r.events.len(), 1);
    assert_eq!((r.events[0].kv.mod_revision, r.revision), (ours.revision, ours.revision));
}

async fn watch_compacted(h: Harness) {
    let s = &*h.store;
    for i in 0..20 {
        put(s, &format!("/k/{i}"), 0, "v").await; // 2..=21
    }
    s.compact(10).await.expect("compact");
    // a compacted start: the call's error or the stream's first item
    match s.watch("/k/", 9).await {
        Err(Error::Compacted { requested: 9, compacted: 10 }) => {}
        Err(e) => panic!("expected Compacted, got {e:?}"),
        Ok(mut w) => match tokio::time::timeout(Duration::from_secs(5), w.next()).await.expect("in time") {
            Some(Err(Error::Compacted { requested: 9, compacted: 10 })) => {}
            other => panic!("expected Compacted, got {other:?}"),
        },
    }
    let mut at = s.watch("/k/", 10).await.expect("watch at the compact revision");
    let ev = events(&mut at, 12).await;
    assert_eq!(ev.iter().map(|e| e.kv.mod_revision).collect::<Vec<_>>(), (10..=21).collect::<Vec<_>>());

    // a watcher whose history is compacted away before it read it: Compacted, or (etcd already
    // sent it) the events in order
    let mut slow = s.watch("/k/", 12).await.expect("watch");
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.compact(15).await.expect("compact");
    match tokio::time::timeout(Duration::from_secs(5), slow.next()).await.expect("in time") {
        Some(Err(Error::Compacted { requested: 12, compacted: 15 })) => {
            assert!(slow.next().await.is_none(), "the stream ends after the error");
        }
        Some(Ok(r)) => assert_eq!(r.events.first().map(|e| e.kv.mod_revision), Some(12)),
        other => panic!("expected Compacted or events from 12, got {other:?}"),
    }
}

async fn concurrent_cas_increments_are_linearizable(h: Harness) {
    const TASKS: usize = 8;
    const EACH: usize = 15;
    let mut handles = Vec::new();
    for _ in 0..TASKS {
        let s = h.store.clone();
        handles.push(tokio::spawn(async move {
            let mut wins = Vec::new();
            let mut cur = get(&*s, "/counter").await;
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
    assert_eq!(all.iter().map(|(_, v)| *v).collect::<Vec<_>>(), (1..=TASKS * EACH).collect::<Vec<_>>());
    assert_eq!(all.iter().map(|(r, _)| *r).collect::<Vec<_>>(), (2..2 + (TASKS * EACH) as i64).collect::<Vec<_>>());
    let kv = get(&*h.store, "/counter").await.expect("counter");
    assert_eq!(kv.version, (TASKS * EACH) as i64);
}

async fn bench_runs(h: Harness) {
    let r = storage::bench::store_bench(h.store.clone(), 4, 40).await.expect("bench");
    assert_eq!(r.writes, 40);
    println!("{r}");
    assert_eq!(h.store.range(RangeRequest::prefix("/bench/")).await.expect("range").count, 0);
    assert_eq!(h.store.current_revision().await.expect("rev"), 1 + 40 + 20);
}

// ---- etcd only ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_over_tls_with_client_certificates() {
    let etcd = start_etcd(1, true).await;
    let tls = etcd.tls().expect("tls files").clone();
    assert!(etcd.endpoints()[0].starts_with("https://127.0.0.1:"));
    let s = EtcdStore::connect(etcd.options()).await.expect("connect with a client certificate");
    let r = put(&*s, "/tls/a", 0, "x").await;
    assert!(r.succeeded);
    let mut w = s.watch("/tls/", 2).await.expect("watch");
    assert_eq!(events(&mut w, 1).await[0].kv.value, b("x"));
    assert_eq!(etcd.etcdctl(&["get", "/tls/a", "--print-value-only"]).expect("etcdctl").trim(), "x");

    // without a client certificate the member refuses the handshake
    let mut o = etcd.options();
    o.cert_file = None;
    o.key_file = None;
    o.request_timeout = Duration::from_secs(5);
    match EtcdStore::connect(o).await {
        Err(Error::Backend(msg)) => assert!(msg.contains(&etcd.endpoints()[0]), "names the endpoint: {msg}"),
        other => panic!("expected a Backend error, got {other:?}"),
    }
    // a CA that did not sign the server's certificate
    let mut o = etcd.options();
    o.ca_file = Some(tls.client_cert_file.clone());
    o.request_timeout = Duration::from_secs(5);
    assert!(matches!(EtcdStore::connect(o).await, Err(Error::Backend(_))));
    // configuration errors
    let mut o = etcd.options();
    o.key_file = None;
    assert!(matches!(EtcdStore::connect(o).await, Err(Error::Backend(m)) if m.contains("together")));
    let mut o = etcd.options();
    o.ca_file = Some(etcd.dir().join("missing.crt"));
    assert!(matches!(EtcdStore::connect(o).await, Err(Error::Backend(m)) if m.contains("missing.crt")));
    let mut o = etcd.options();
    o.ca_file = None;
    assert!(matches!(EtcdStore::connect(o).await, Err(Error::Backend(m)) if m.contains("CA")));
    assert!(matches!(EtcdStore::connect(EtcdOptions::new(["127.0.0.1:2379"])).await, Err(Error::Backend(_))));
    assert!(matches!(EtcdStore::connect(EtcdOptions::default()).await, Err(Error::Backend(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_three_member_tls_cluster_survives_one_member() {
    let mut etcd = start_etcd(3, true).await;
    assert_eq!(etcd.endpoints().len(), 3);
    let s = EtcdStore::connect(etcd.options()).await.expect("connect");
    let mut w = s.watch("/c/", 0).await.expect("watch");
    let r = put(&*s, "/c/1", 0, "a").await;
    assert_eq!(events(&mut w, 1).await[0].kv.mod_revision, r.revision);
    // every member serves the same data
    for ep in etcd.endpoints() {
        let mut o = etcd.options();
        o.endpoints = vec![ep.clone()];
        let one = EtcdStore::connect(o).await.expect("connect one member");
        assert_eq!(get(&*one, "/c/1").await.map(|kv| kv.value), Some(b("a")), "{ep}");
    }
    etcd.stop_member(2).expect("stop");
    let mut o = etcd.options();
    o.endpoints.truncate(2);
    let s2 = EtcdStore::connect(o).await.expect("connect to the two left");
    let r2 = put(&*s2, "/c/1", r.revision, "b").await;
    assert!(r2.succeeded, "two of three members still make a quorum");
    etcd.start_member(2).expect("restart");
    let mut o = etcd.options();
    o.endpoints = vec![etcd.endpoints()[2].clone()];
    let back = EtcdStore::connect(o).await.expect("connect the restarted member");
    assert_eq!(get(&*back, "/c/1").await.map(|kv| kv.value), Some(b("b")), "the restarted member caught up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_connection_errors_name_the_endpoint() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let ep = format!("http://127.0.0.1:{port}");
    let mut o = EtcdOptions::new([ep.clone()]);
    o.request_timeout = Duration::from_secs(2);
    let t = Instant::now();
    match EtcdStore::connect(o).await {
        Err(Error::Backend(msg)) => assert!(msg.contains(&ep), "{msg}"),
        other => panic!("expected a Backend error, got {other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(5), "fails within the timeouts: {:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_watch_ends_with_an_error_when_etcd_goes_away() {
    let mut etcd = start_etcd(1, false).await;
    let mut o = etcd.options();
    o.request_timeout = Duration::from_secs(2);
    let s = EtcdStore::connect(o).await.expect("connect");
    let mut w = s.watch("/", 0).await.expect("watch");
    put(&*s, "/x", 0, "v").await;
    assert_eq!(events(&mut w, 1).await.len(), 1);
    etcd.stop_member(0).expect("kill etcd");
    match tokio::time::timeout(Duration::from_secs(10), w.next()).await.expect("the stream notices in time") {
        Some(Err(Error::Backend(msg))) => assert!(msg.contains(&etcd.endpoints()[0]), "{msg}"),
        other => panic!("expected a Backend error, got {other:?}"),
    }
    assert!(w.next().await.is_none(), "the stream ends after the error");
    match s.current_revision().await {
        Err(Error::Backend(msg)) => assert!(msg.contains(&etcd.endpoints()[0]), "{msg}"),
        other => panic!("expected a Backend error, got {other:?}"),
    }
    // back on the same data: the same client works again
    etcd.start_member(0).expect("restart");
    let t = Instant::now();
    loop {
        match s.current_revision().await {
            Ok(rev) => {
                assert_eq!(rev, 2);
                break;
            }
            Err(e) if t.elapsed() < Duration::from_secs(15) => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("no reconnect: {e}"),
        }
    }
}

/// etcd's gauge of open watchers, from its metrics.
fn watchers(etcd: &EtcdProcess) -> i64 {
    let text = etcd.metrics(0).expect("metrics");
    text.lines()
        .find_map(|l| l.strip_prefix("etcd_debugging_mvcc_watcher_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as i64)
        .expect("etcd_debugging_mvcc_watcher_total in the metrics")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_dropping_a_watch_cancels_it() {
    let etcd = start_etcd(1, false).await;
    let s = EtcdStore::connect(etcd.options()).await.expect("connect");
    let base = watchers(&etcd);
    let mut streams = Vec::new();
    for _ in 0..3 {
        streams.push(s.watch("/w/", 0).await.expect("watch"));
    }
    let t = Instant::now();
    while watchers(&etcd) != base + 3 {
        assert!(t.elapsed() < Duration::from_secs(5), "watchers never registered: {}", watchers(&etcd));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    streams.truncate(1);
    let t = Instant::now();
    while watchers(&etcd) != base + 1 {
        assert!(t.elapsed() < Duration::from_secs(5), "dropped watches still open in etcd: {}", watchers(&etcd));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // the one kept still works
    put(&*s, "/w/a", 0, "v").await;
    assert_eq!(events(&mut streams[0], 1).await.len(), 1);
}
