//! A write benchmark of a [`Backend`]: concurrent clients doing the apiserver's kind of writes
//! (compare-and-swap on the mod revision, ~1 KiB values).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::{Backend, Error, Result, TxnOp};

/// Size of each value written.
pub const VALUE_BYTES: usize = 1024;

/// The outcome of [`store_bench`].
#[derive(Clone, Debug, PartialEq)]
pub struct BenchResult {
    /// Writes done (each acknowledged, each its own revision).
    pub writes: usize,
    /// Wall time of the timed part.
    pub elapsed: Duration,
    /// `writes / elapsed`.
    pub writes_per_sec: f64,
    /// Median latency of one write.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Slowest write.
    pub max: Duration,
}

impl std::fmt::Display for BenchResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} writes in {:.2?}: {:.0} writes/s, latency p50 {:.2?} p99 {:.2?} max {:.2?}",
            self.writes, self.elapsed, self.writes_per_sec, self.p50, self.p99, self.max
        )
    }
}

/// The value at quantile `q` of sorted `v` (nearest rank).
fn quantile(v: &[Duration], q: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// Runs `writes` writes in total from `clients` concurrent clients (tokio tasks; the writes are
/// split evenly). Each client writes its own keys under `/bench/<run>/<client>/`, each key
/// created (compare with 0) and then updated once (compare with the creation's mod revision),
/// with values of [`VALUE_BYTES`]. Every write must succeed; a failed compare (someone else
/// wrote the key) is an error. The keys are deleted afterwards, outside the timing.
pub async fn store_bench(backend: Arc<dyn Backend>, clients: usize, writes: usize) -> Result<BenchResult> {
    let clients = clients.clamp(1, writes.max(1));
    let run: u64 = rand::random();
    let value =
        Bytes::from((0..VALUE_BYTES).map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789"[i % 36]).collect::<Vec<u8>>());
    let t0 = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for c in 0..clients {
        let n = writes / clients + usize::from(c < writes % clients);
        let (backend, value) = (backend.clone(), value.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(n);
            let mut keys = Vec::with_capacity(n.div_ceil(2));
            let mut i = 0;
            while latencies.len() < n {
                let key = format!("/bench/{run:016x}/{c}/{i}");
                i += 1;
                let t = Instant::now();
                let created = backend.txn(&key, 0, TxnOp::Put(value.clone())).await?;
                latencies.push(t.elapsed());
                if !created.succeeded {
                    return Err(Error::Backend(format!("bench: creating {key} failed: the key exists")));
                }
                let mut rev = created.revision;
                if latencies.len() < n {
                    let t = Instant::now();
                    let updated = backend.txn(&key, rev, TxnOp::Put(value.clone())).await?;
                    latencies.push(t.elapsed());
                    if !updated.succeeded {
                        return Err(Error::Backend(format!("bench: updating {key} failed: someone else wrote it")));
                    }
                    rev = updated.revision;
                }
                keys.push((key, rev));
            }
            Ok::<_, Error>((latencies, keys))
        }));
    }
    let mut latencies = Vec::with_capacity(writes);
    let mut keys = Vec::with_capacity(clients);
    let mut failure = None;
    for t in tasks {
        match t.await {
            Ok(Ok((l, k))) => {
                latencies.extend(l);
                keys.push(k);
            }
            Ok(Err(e)) => failure = failure.or(Some(e)),
            Err(e) => failure = failure.or(Some(Error::Backend(format!("bench client failed: {e}")))),
        }
    }
    let elapsed = t0.elapsed();
    // Clean up, one task per client as well.
    let mut cleanups = Vec::with_capacity(keys.len());
    for k in keys {
        let backend = backend.clone();
        cleanups.push(tokio::spawn(async move {
            for (key, rev) in k {
                backend.txn(&key, rev, TxnOp::Delete).await?;
            }
            Ok::<_, Error>(())
        }));
    }
    for c in cleanups {
        match c.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failure = failure.or(Some(e)),
            Err(e) => failure = failure.or(Some(Error::Backend(format!("bench cleanup failed: {e}")))),
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    latencies.sort_unstable();
    let secs = elapsed.as_secs_f64();
    Ok(BenchResult {
        writes: latencies.len(),
        elapsed,
        writes_per_sec: if secs > 0.0 { latencies.len() as f64 / secs } else { 0.0 },
        p50: quantile(&latencies, 0.50),
        p99: quantile(&latencies, 0.99),
        max: latencies.last().copied().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RangeRequest;
    use crate::embedded::{EmbeddedStore, Options};

    #[tokio::test]
    async fn bench_counts_writes_and_cleans_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = EmbeddedStore::open(dir.path(), Options::default()).await.expect("open");
        let before = store.current_revision().await.expect("rev");
        let r = store_bench(store.clone(), 3, 11).await.expect("bench");
        assert_eq!(r.writes, 11);
        assert!(r.p50 <= r.p99 && r.p99 <= r.max, "{r}");
        assert!(r.writes_per_sec > 0.0);
        // 11 writes = 6 creates + 5 updates, then 6 deletes
        assert_eq!(store.current_revision().await.expect("rev"), before + 11 + 6);
        let left = store.range(RangeRequest::prefix("/bench/")).await.expect("range");
        assert_eq!(left.count, 0, "the keys are deleted afterwards");
        // more clients than writes, and no writes at all
        assert_eq!(store_bench(store.clone(), 8, 3).await.expect("bench").writes, 3);
        assert_eq!(store_bench(store.clone(), 2, 0).await.expect("bench").writes, 0);
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile(&v, 0.5), Duration::from_millis(50));
        assert_eq!(quantile(&v, 0.99), Duration::from_millis(99));
        assert_eq!(quantile(&v[..1], 0.99), Duration::from_millis(1));
        assert_eq!(quantile(&[], 0.5), Duration::ZERO);
    }
}
