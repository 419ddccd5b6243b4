//! Throughput and latency of the embedded store under concurrent writers.
//!
//! `cargo run --release -p storage --example embedded_bench -- [writers] [seconds] [preload keys] [value bytes]`
//! `[snapshot MiB]` (defaults 64, 5, 100000, 500, 64). Writes go to a temporary directory on the same filesystem as
//! the system temp dir (set TMPDIR to measure another disk).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use storage::embedded::{EmbeddedStore, Options};
use storage::{Backend, RangeRequest, TxnOp};

fn arg(i: usize, default: u64) -> u64 {
    std::env::args().nth(i).and_then(|a| a.parse().ok()).unwrap_or(default)
}

fn main() {
    let writers = arg(1, 64) as usize;
    let seconds = arg(2, 5);
    let preload = arg(3, 100_000) as usize;
    let value_bytes = arg(4, 500) as usize;
    let snapshot_mib = arg(5, 64);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let s =
            EmbeddedStore::open(dir.path(), Options { snapshot_log_bytes: snapshot_mib << 20, ..Options::default() })
                .await
                .expect("open");
        let value = Bytes::from(vec![b'x'; value_bytes]);

        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..writers {
            let s = s.clone();
            let value = value.clone();
            tasks.push(tokio::spawn(async move {
                for i in (w..preload).step_by(writers) {
                    s.txn(&format!("/registry/pods/ns{}/pod{i:08}", i % 50), 0, TxnOp::Put(value.clone()))
                        .await
                        .expect("preload");
                }
            }));
        }
        for t in tasks {
            t.await.expect("join");
        }
        println!("preloaded {preload} keys in {:?}", t0.elapsed());

        let before = s.stats();
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..writers {
            let s: Arc<EmbeddedStore> = s.clone();
            let value = value.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut i = w;
                while Instant::now() < deadline {
                    let key = format!("/registry/pods/ns{}/pod{:08}", i % 50, i % preload.max(1));
                    let t = Instant::now();
                    // read-modify-write, as the apiserver does an update
                    let cur = s.range(RangeRequest::key(&key)).await.expect("get");
                    let rev = cur.kvs.first().map_or(0, |kv| kv.mod_revision);
                    let _ = s.txn(&key, rev, TxnOp::Put(value.clone())).await.expect("txn");
                    lat.push(t.elapsed());
                    i += writers;
                }
                lat
            }));
        }
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await.expect("join"));
        }
        let elapsed = t0.elapsed();
        let after = s.stats();
        lat.sort();
        let pct = |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1))).copied();
        let writes = after.writes - before.writes;
        println!(
            "{writers} writers, {value_bytes} B values, {} keys: {writes} get+CAS updates in {elapsed:?} = {:.0}/s",
            after.keys,
            writes as f64 / elapsed.as_secs_f64()
        );
        println!(
            "fdatasyncs {} ({:.1} writes per sync), snapshots {}, latency p50 {:?} p99 {:?} max {:?}",
            after.syncs - before.syncs,
            writes as f64 / (after.syncs - before.syncs).max(1) as f64,
            after.snapshots - before.snapshots,
            pct(0.5).unwrap_or_default(),
            pct(0.99).unwrap_or_default(),
            lat.last().copied().unwrap_or_default()
        );
        let t = Instant::now();
        let all = s.range(RangeRequest { limit: 500, ..RangeRequest::prefix("/registry/pods/") }).await.expect("page");
        println!("first page of 500 (count {}) in {:?}", all.count, t.elapsed());
        let t = Instant::now();
        s.close().await.expect("close");
        println!("close (final snapshot) in {:?}", t.elapsed());
    });
}
