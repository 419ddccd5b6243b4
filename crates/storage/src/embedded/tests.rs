//! Tests that need the store's insides (the behaviour tests are in `tests/embedded_*.rs`).

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;

use super::*;
use crate::{EventType, RangeRequest};

fn put(v: &str) -> TxnOp {
    TxnOp::Put(Bytes::from(v.to_string()))
}

fn pause(s: &EmbeddedStore, on: bool) {
    s.shared.state.lock().paused = on;
    s.shared.wake.notify_all();
}

/// Writes that are applied in memory but not yet synced are invisible to every reader: latest
/// reads, `current_revision`, reads at their revision, watches, and even the answer to a failed
/// compare that saw them. They all appear once the committer syncs them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_yet_durable_writes_are_invisible() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = EmbeddedStore::open(dir.path(), Options::default()).await.expect("open");
    let r = s.txn("/a", 0, put("1")).await.expect("txn");
    assert_eq!(r.revision, 2);
    let mut w = s.watch("/", 0).await.expect("watch");

    pause(&s, true);
    let s2 = s.clone();
    let pending = tokio::spawn(async move { s2.txn("/a", 2, put("2")).await });
    // wait until the write is applied in memory (revision 3 assigned)
    for _ in 0..200 {
        if s.shared.state.lock().mem.latest == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(s.shared.state.lock().mem.latest, 3, "write not applied");

    // a stale compare that sees the non-durable revision 3 does not answer yet either
    let s3 = s.clone();
    let stale = tokio::spawn(async move { s3.txn("/a", 2, put("x")).await });

    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(!pending.is_finished(), "write acknowledged before it was synced");
    assert!(!stale.is_finished(), "failed compare answered with unsynced state");
    assert_eq!(s.current_revision().await.expect("rev"), 2);
    let got = s.range(RangeRequest::key("/a")).await.expect("range");
    assert_eq!(got.revision, 2);
    assert_eq!(got.kvs[0].value, Bytes::from("1"));
    assert!(matches!(
        s.range(RangeRequest { revision: 3, ..RangeRequest::key("/a") }).await,
        Err(Error::FutureRevision { requested: 3, current: 2 })
    ));
    assert!(matches!(s.compact(3).await, Err(Error::FutureRevision { .. })));
    assert!(tokio::time::timeout(Duration::from_millis(150), w.next()).await.is_err(), "watch saw an unsynced write");
    let mut w_past = s.watch("/", 3).await.expect("watch from the future");
    assert!(tokio::time::timeout(Duration::from_millis(50), w_past.next()).await.is_err());

    pause(&s, false);
    let r = pending.await.expect("join").expect("txn");
    assert!(r.succeeded);
    assert_eq!(r.revision, 3);
    let r = stale.await.expect("join").expect("txn");
    assert!(!r.succeeded);
    assert_eq!(r.kv.map(|kv| kv.mod_revision), Some(3));
    assert_eq!(s.current_revision().await.expect("rev"), 3);
    let ev = tokio::time::timeout(Duration::from_secs(5), w.next()).await.expect("event").expect("item").expect("ok");
    assert_eq!(ev.events.len(), 1);
    assert_eq!(ev.events[0].kind, EventType::Put);
    assert_eq!(ev.events[0].kv.mod_revision, 3);
    assert_eq!(ev.events[0].prev_kv.as_ref().map(|p| p.value.clone()), Some(Bytes::from("1")));
    let ev =
        tokio::time::timeout(Duration::from_secs(5), w_past.next()).await.expect("event").expect("item").expect("ok");
    assert_eq!(ev.events[0].kv.mod_revision, 3);
}

/// The history bound compacts the oldest history automatically (never past the durable revision).
#[tokio::test]
async fn history_is_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = Options { max_history_bytes: 64 << 10, ..Options::default() };
    let s = EmbeddedStore::open(dir.path(), opts).await.expect("open");
    let value = Bytes::from(vec![b'v'; 1000]);
    let mut rev = 0;
    for _ in 0..500 {
        rev = s.txn("/k", rev, TxnOp::Put(value.clone())).await.expect("txn").revision;
    }
    let st = s.stats();
    assert!(st.compact_revision > 400, "compact revision {}", st.compact_revision);
    assert!(st.history_events < 100, "{} events retained", st.history_events);
    assert!(s.shared.state.lock().mem.hist_bytes <= 64 << 10);
    assert!(matches!(s.watch("/", 2).await, Err(Error::Compacted { .. })));
    // what is retained is still readable
    let c = st.compact_revision;
    let got = s.range(RangeRequest { revision: c, ..RangeRequest::key("/k") }).await.expect("range at compact rev");
    assert_eq!(got.kvs[0].mod_revision, c);
}

/// A failed log write fails its writers and every later write; reads go on at the durable
/// revision; nothing of the failed batch survives a restart.
#[tokio::test]
async fn failed_log_write_stops_writes_but_not_reads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = EmbeddedStore::open(dir.path(), Options::default()).await.expect("open");
    s.txn("/a", 0, put("1")).await.expect("txn");
    s.shared.state.lock().fail_write = true;
    assert!(matches!(s.txn("/b", 0, put("2")).await, Err(Error::Io(_))));
    assert!(matches!(s.txn("/c", 0, put("3")).await, Err(Error::Io(_))), "the store stays read-only");
    assert!(matches!(s.txn("/a", 5, put("x")).await, Err(Error::Io(_))));
    assert_eq!(s.current_revision().await.expect("rev"), 2);
    let all = s.range(RangeRequest::prefix("/")).await.expect("reads go on");
    assert_eq!(all.kvs.len(), 1);
    assert_eq!(all.kvs[0].key, "/a");
    drop(s);
    let s = EmbeddedStore::open(dir.path(), Options::default()).await.expect("reopen");
    assert_eq!(s.current_revision().await.expect("rev"), 2);
    let r = s.txn("/b", 0, put("2")).await.expect("txn");
    assert_eq!(r.revision, 3);
}
