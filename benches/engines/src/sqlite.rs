//! SQLite through `rusqlite` (bundled), kine-style: one row per revision.
//!
//! Schema (kine's, minus its `lease`/`old_value` columns and extra indexes, so if anything a
//! lighter write than kine's): `id INTEGER PRIMARY KEY AUTOINCREMENT` is the global revision, and
//! every write inserts a new row, so the previous revision of a key stays in the table (MVCC
//! history for watches) until a compaction would delete it. A key's current state is its row
//! with the highest id; `created = 1` rows carry `create_revision = 0` (their own id is the
//! creation revision), as in kine.
//!
//! Each write is one transaction: `BEGIN IMMEDIATE`, read the latest row for the name, compare
//! its mod revision (0 if absent or deleted), insert the new row, `COMMIT` (WAL mode,
//! `synchronous=FULL`: the WAL is fsynced before the commit returns).
//!
//! SQLite admits one writer at a time. The one connection is owned by one dedicated thread that
//! takes requests in FIFO order from a channel (equivalent to a connection behind a mutex,
//! without parking up to 1,000 OS threads on it). "database is locked" / busy errors are counted;
//! with a single connection none are expected.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension, params};
use storage::{
    Error, KeyValue, Result, Revision, TxnOp, TxnResponse,
};

use crate::{WriterStats, WriterThread};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    create_revision INTEGER NOT NULL,
    prev_revision INTEGER NOT NULL,
    value BLOB
);
CREATE INDEX IF NOT EXISTS kine_name_id_index ON kine (name, id);
";

/// Opens (creates) `dir/state.db` and starts its writer thread.
pub fn open(dir: &Path) -> Result<WriterThread> {
    let conn = Connection::open(dir.join("state.db")).map_err(be)?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).map_err(be)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Backend(format!("sqlite: journal_mode is {mode}, not wal")));
    }
    conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;").map_err(be)?;
    let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).map_err(be)?;
    if sync != 2 {
        return Err(Error::Backend(format!("sqlite: synchronous is {sync}, not FULL (2)")));
    }
    conn.execute_batch(SCHEMA).map_err(be)?;
    // Dropping the connection (when the thread ends) checkpoints the WAL and removes it.
    WriterThread::spawn("sqlite-writer", conn, |conn, req, st| {
        let r = write(conn, &req.key, req.expected, &req.op, st);
        if let Err(e) = &r
            && is_busy(e)
        {
            st.lock_errors.fetch_add(1, Ordering::Relaxed);
        }
        r.map_err(be)
    })
}

fn be(e: rusqlite::Error) -> Error {
    Error::Backend(format!("sqlite: {e}"))
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

/// The latest row of `name`: (id, created, deleted, create_revision, value).
type Row = (i64, bool, bool, i64, Vec<u8>);

fn write(
    conn: &mut Connection,
    key: &str,
    expected: Revision,
    op: &TxnOp,
    stats: &WriterStats,
) -> rusqlite::Result<TxnResponse> {
    // IMMEDIATE: take the write lock before reading, so the compare and the insert are atomic.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let latest: Option<Row> = tx
        .prepare_cached(
            "SELECT id, created, deleted, create_revision, value FROM kine WHERE name = ?1 ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .optional()?;
    let live = latest.filter(|row| !row.2);
    let (cur_mod, cur_create) = match &live {
        Some((id, created, _, create_rev, _)) => (*id, if *created { *id } else { *create_rev }),
        None => (0, 0),
    };
    if cur_mod != expected {
        let rev: i64 = tx.prepare_cached("SELECT COALESCE(MAX(id), 0) FROM kine")?.query_row([], |r| r.get(0))?;
        tx.rollback()?;
        let kv = live.map(|(id, _, _, _, v)| KeyValue {
            key: key.to_string(),
            value: Bytes::from(v),
            create_revision: cur_create,
            mod_revision: id,
            version: 0,
        });
        return Ok(TxnResponse { succeeded: false, revision: rev, kv });
    }
    let (created, deleted, value): (bool, bool, &[u8]) = match op {
        TxnOp::Put(v) => (cur_mod == 0, false, v),
        TxnOp::Delete => {
            if cur_mod == 0 {
                // etcd: deleting a missing key takes no revision.
                tx.rollback()?;
                return Ok(TxnResponse { succeeded: true, revision: 0, kv: None });
            }
            (false, true, &[])
        }
    };
    tx.prepare_cached(
        "INSERT INTO kine (name, created, deleted, create_revision, prev_revision, value) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![key, created, deleted, cur_create, cur_mod, value])?;
    let rev = tx.last_insert_rowid();
    let t = Instant::now();
    tx.commit()?;
    stats.commit_ns.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
    let kv = KeyValue {
        key: key.to_string(),
        value: match op {
            TxnOp::Put(v) => v.clone(),
            TxnOp::Delete => Bytes::new(),
        },
        create_revision: if created { rev } else { cur_create },
        mod_revision: rev,
        version: 0,
    };
    Ok(TxnResponse { succeeded: true, revision: rev, kv: Some(kv) })
}
