//! engine-compare: the write path of a Kubernetes store on three engines, same machine, same run,
//! same harness. See README.md.
//!
//! Every engine is driven by `storage::bench::store_bench` (ferrokube's own store benchmark):
//! SQLite and redb implement `storage::Backend::txn` (the only method the benchmark calls) with a
//! global revision per write, compare-and-swap on the key's mod revision, MVCC history kept on
//! disk and a durable commit before the write is acknowledged.

mod redb_engine;
mod sqlite;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use storage::bench::{BenchResult, store_bench};
use storage::embedded::EmbeddedStore;
use storage::{Backend, Error, Revision, TxnOp, TxnResponse};
use tokio::sync::oneshot;

/// A write handed to a blocking engine's writer thread.
pub struct WriteReq {
    key: String,
    expected: Revision,
    op: TxnOp,
    reply: oneshot::Sender<storage::Result<TxnResponse>>,
}

/// A blocking engine behind one dedicated writer thread: the thread owns the connection or
/// database and executes the requests in arrival order, one transaction each (both engines admit
/// one writer at a time). Only `txn` is implemented; it is all the benchmark calls.
pub struct WriterThread {
    tx: std::sync::mpsc::Sender<WriteReq>,
    stats: Arc<WriterStats>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WriterThread {
    /// Starts thread `name` owning `state`; `write` executes one request on it. Dropping the
    /// handle ends the thread and drops `state` (closing the engine).
    pub fn spawn<S: Send + 'static>(
        name: &str,
        mut state: S,
        write: impl Fn(&mut S, &WriteReq, &WriterStats) -> storage::Result<TxnResponse> + Send + 'static,
    ) -> storage::Result<WriterThread> {
        let (tx, rx) = std::sync::mpsc::channel::<WriteReq>();
        let stats = Arc::new(WriterStats::default());
        let st = stats.clone();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                while let Ok(req) = rx.recv() {
                    let t = Instant::now();
                    let r = write(&mut state, &req, &st);
                    st.txns.fetch_add(1, Ordering::Relaxed);
                    st.busy_ns.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    let _ = req.reply.send(r);
                }
                drop(state);
            })
            .map_err(Error::Io)?;
        Ok(WriterThread { tx, stats, thread: Some(thread) })
    }

    /// The writer thread's counters.
    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }
}

impl Drop for WriterThread {
    fn drop(&mut self) {
        // Closing the channel ends the writer thread; wait for it (it closes the engine).
        let (tx, _) = std::sync::mpsc::channel();
        drop(std::mem::replace(&mut self.tx, tx));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[async_trait::async_trait]
impl Backend for WriterThread {
    async fn txn(&self, key: &str, expected_mod_revision: Revision, op: TxnOp) -> storage::Result<TxnResponse> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(WriteReq { key: key.to_string(), expected: expected_mod_revision, op, reply })
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }
    async fn range(&self, _req: storage::RangeRequest) -> storage::Result<storage::RangeResponse> {
        Err(unsupported("range"))
    }
    async fn watch(&self, _prefix: &str, _start_revision: Revision) -> storage::Result<storage::WatchStream> {
        Err(unsupported("watch"))
    }
    async fn current_revision(&self) -> storage::Result<Revision> {
        Err(unsupported("current_revision"))
    }
    async fn compact(&self, _revision: Revision) -> storage::Result<()> {
        Err(unsupported("compact"))
    }
    async fn compact_revision(&self) -> storage::Result<Revision> {
        Err(unsupported("compact_revision"))
    }
}

/// Counters of a blocking engine's writer thread.
#[derive(Default)]
pub struct WriterStats {
    /// Lock/busy errors seen (SQLite's "database is locked").
    pub lock_errors: AtomicU64,
    /// Transactions executed.
    pub txns: AtomicU64,
    /// Nanoseconds spent executing them (begin to commit returned).
    pub busy_ns: AtomicU64,
    /// Nanoseconds of that spent in the durable commit.
    pub commit_ns: AtomicU64,
}

impl WriterStats {
    fn note(&self) -> String {
        let n = self.txns.load(Ordering::Relaxed).max(1) as f64;
        format!(
            "writer thread: {} transactions, {:.3} ms each on average, of which {:.3} ms in the durable commit",
            self.txns.load(Ordering::Relaxed),
            self.busy_ns.load(Ordering::Relaxed) as f64 / n / 1e6,
            self.commit_ns.load(Ordering::Relaxed) as f64 / n / 1e6,
        )
    }
}

fn unsupported(what: &str) -> Error {
    Error::Backend(format!("{what}: not implemented by this benchmark engine (only txn is)"))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Embedded,
    Sqlite,
    Redb,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Embedded => "ferrokube-embedded",
            Kind::Sqlite => "sqlite (kine-like)",
            Kind::Redb => "redb",
        }
    }
}

struct Row {
    kind: Kind,
    clients: usize,
    result: Result<BenchResult, String>,
    disk_open: u64,
    disk_closed: u64,
    errors: u64,
    note: String,
}

/// Bytes of all files under `dir` (their lengths).
fn disk_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if let Ok(m) = e.metadata() {
                total += if m.is_dir() { disk_bytes(&e.path()) } else { m.len() };
            }
        }
    }
    total
}

async fn run_one(kind: Kind, dir: PathBuf, clients: usize, writes: usize) -> Row {
    std::fs::create_dir_all(&dir).expect("create data dir");
    let note;
    let (result, disk_open, disk_closed, errors) = match kind {
        Kind::Embedded => {
            let store = EmbeddedStore::open(&dir, Default::default()).await.expect("open embedded store");
            let r = store_bench(store.clone(), clients, writes).await;
            let open = disk_bytes(&dir);
            let s = store.stats();
            note = format!(
                "{} writes in {} fdatasyncs / {} group commits, {:.1} writes per sync",
                s.writes,
                s.syncs,
                s.batches,
                s.writes as f64 / s.syncs.max(1) as f64
            );
            store.close().await.expect("close embedded store");
            drop(store);
            (r, open, disk_bytes(&dir), 0)
        }
        Kind::Sqlite => {
            let store = Arc::new(sqlite::open(&dir).expect("open sqlite"));
            let r = store_bench(store.clone(), clients, writes).await;
            let (open, errors) = (disk_bytes(&dir), store.stats().lock_errors.load(Ordering::Relaxed));
            note = store.stats().note();
            drop(store); // joins the writer thread, closes the connection (checkpoints the WAL)
            (r, open, disk_bytes(&dir), errors)
        }
        Kind::Redb => {
            let store = Arc::new(redb_engine::open(&dir).expect("open redb"));
            let r = store_bench(store.clone(), clients, writes).await;
            let (open, errors) = (disk_bytes(&dir), store.stats().lock_errors.load(Ordering::Relaxed));
            note = store.stats().note();
            drop(store);
            (r, open, disk_bytes(&dir), errors)
        }
    };
    Row { kind, clients, result: result.map_err(|e| e.to_string()), disk_open, disk_closed, errors, note }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn mib(b: u64) -> String {
    format!("{:.1}", b as f64 / (1024.0 * 1024.0))
}

fn usage() -> ! {
    eprintln!(
        "usage: engine-compare [--writes N (20000)] [--single-client-writes N (writes/10)] \
         [--clients 1,100,1000] [--engines embedded,sqlite,redb] [--dir PARENT (/tmp)]"
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let mut writes = 20_000usize;
    let mut single = None;
    let mut client_counts = vec![1usize, 100, 1000];
    let mut kinds = vec![Kind::Embedded, Kind::Sqlite, Kind::Redb];
    let mut parent = PathBuf::from("/tmp");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--writes" => writes = v.parse().unwrap_or_else(|_| usage()),
            "--single-client-writes" => single = Some(v.parse().unwrap_or_else(|_| usage())),
            "--clients" => {
                client_counts = v.split(',').map(|c| c.trim().parse().unwrap_or_else(|_| usage())).collect()
            }
            "--engines" => {
                kinds = v
                    .split(',')
                    .map(|e| match e.trim() {
                        "embedded" => Kind::Embedded,
                        "sqlite" => Kind::Sqlite,
                        "redb" => Kind::Redb,
                        _ => usage(),
                    })
                    .collect()
            }
            "--dir" => parent = PathBuf::from(v),
            _ => usage(),
        }
    }
    let single = single.unwrap_or((writes / 10).max(1));
    let tmp = tempfile::Builder::new().prefix("engine-compare-").tempdir_in(&parent).expect("tempdir");
    let workers = tokio::runtime::Handle::current().metrics().num_workers();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);

    println!("engine-compare: the write path of a Kubernetes store (ferrokube storage::bench::store_bench)");
    println!(
        "  each write: next global revision, compare-and-swap on the key's mod revision, 1 KiB value, \
         durable before it is acknowledged, previous revision kept (MVCC history)"
    );
    println!(
        "  each client: create a key (CAS on mod revision 0), update it once (CAS on the creation's \
         revision), repeat; keys deleted afterwards (untimed, counted in disk size)"
    );
    println!(
        "  writes: {writes} per run ({single} with 1 client); clients = tokio tasks on a {workers}-worker runtime, {cores} cores"
    );
    println!("  data: {} (fresh directory per engine and run)", tmp.path().display());
    println!(
        "  blocking engines (sqlite, redb): one dedicated writer thread per engine owns the connection/database \
         and executes requests FIFO from a channel, one transaction each, replying through a oneshot; both engines \
         admit one writer at a time, so this is a mutex-guarded connection without parking up to 1,000 OS threads \
         (spawn_blocking) on the lock, and it mirrors the embedded store's single committer thread"
    );
    println!("  sqlite: rusqlite bundled {}, WAL, synchronous=FULL, BEGIN IMMEDIATE per write", rusqlite::version());
    println!("  redb: 4.x, Durability::Immediate, one write transaction per write");
    println!();

    let mut rows = Vec::new();
    for &clients in &client_counts {
        let n = if clients == 1 { single } else { writes };
        for &kind in &kinds {
            let dir = tmp.path().join(format!("{:?}-{clients}", kind).to_lowercase());
            let t = Instant::now();
            let row = run_one(kind, dir, clients, n).await;
            match &row.result {
                Ok(r) => eprintln!("[{:>6.1?}] {:<20} {:>5} clients: {r}", t.elapsed(), kind.name(), clients),
                Err(e) => eprintln!("[{:>6.1?}] {:<20} {:>5} clients: FAILED: {e}", t.elapsed(), kind.name(), clients),
            }
            rows.push(row);
        }
    }

    println!(
        "{:<20} {:>7} {:>7} {:>9} {:>10} {:>9} {:>9} {:>9} {:>10} {:>11} {:>6}",
        "engine", "clients", "writes", "time s", "writes/s", "p50 ms", "p99 ms", "max ms", "disk MiB", "closed MiB", "errors"
    );
    for row in &rows {
        match &row.result {
            Ok(r) => println!(
                "{:<20} {:>7} {:>7} {:>9.2} {:>10.0} {:>9} {:>9} {:>9} {:>10} {:>11} {:>6}",
                row.kind.name(),
                row.clients,
                r.writes,
                r.elapsed.as_secs_f64(),
                r.writes_per_sec,
                ms(r.p50),
                ms(r.p99),
                ms(r.max),
                mib(row.disk_open),
                mib(row.disk_closed),
                row.errors
            ),
            Err(e) => println!("{:<20} {:>7} FAILED ({} lock errors): {e}", row.kind.name(), row.clients, row.errors),
        }
    }
    println!();
    println!("ratios vs ferrokube-embedded at the same client count (engine / embedded):");
    println!(
        "{:<20} {:>7} {:>10} {:>9} {:>9} {:>9} {:>11}",
        "engine", "clients", "writes/s", "p50", "p99", "max", "disk"
    );
    for row in &rows {
        if row.kind == Kind::Embedded {
            continue;
        }
        let base = rows.iter().find(|b| b.kind == Kind::Embedded && b.clients == row.clients);
        let (Some(base), Ok(r)) = (base, &row.result) else { continue };
        let Ok(b) = &base.result else { continue };
        let x = |a: f64, b: f64| if b > 0.0 { format!("{:.3}x", a / b) } else { "-".into() };
        println!(
            "{:<20} {:>7} {:>10} {:>9} {:>9} {:>9} {:>11}",
            row.kind.name(),
            row.clients,
            x(r.writes_per_sec, b.writes_per_sec),
            x(r.p50.as_secs_f64(), b.p50.as_secs_f64()),
            x(r.p99.as_secs_f64(), b.p99.as_secs_f64()),
            x(r.max.as_secs_f64(), b.max.as_secs_f64()),
            x(row.disk_open as f64, base.disk_open as f64),
        );
    }
    println!();
    println!("per run (cleanup deletes included):");
    for row in &rows {
        println!("  {:<20} {:>5} clients: {}", row.kind.name(), row.clients, row.note);
    }
    println!();
    println!(
        "disk MiB: all files in the engine's directory right after the run (engine still open; the disk ratio uses \
         this); closed MiB: after close. sqlite and redb keep every revision on disk (history survives a restart) and \
         close keeps it (sqlite checkpoints the WAL into the database); the embedded store keeps history in memory \
         and on disk only as log, and its close writes a snapshot of the key space (empty after the cleanup) and \
         drops the log: its closed size is not a history-for-history comparison."
    );
}
