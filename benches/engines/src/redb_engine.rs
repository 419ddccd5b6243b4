//! redb: a key table and a revision table.
//!
//! `kv`: key -> (mod_revision, create_revision, value), the current key space;
//! `history`: revision -> event (key, deleted, create_revision, prev_revision, value), one row per
//! write, so the previous revision of every key stays readable for watches (as kine's rows do)
//! until a compaction would delete it. The current revision is the last key of `history`.
//!
//! Each write is its own write transaction: read the key's row, compare its mod revision, insert
//! into both tables, `commit()` with `Durability::Immediate` (redb's default: durable when commit
//! returns). redb admits one write transaction at a time (`begin_write` blocks); the database is
//! owned by one dedicated thread that takes requests in FIFO order from a channel.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use redb::{Database, Durability, ReadableTable, TableDefinition};
use storage::{
    Error, KeyValue, Result, Revision, TxnOp, TxnResponse,
};

use crate::{WriterStats, WriterThread};

const KV: TableDefinition<&str, (i64, i64, &[u8])> = TableDefinition::new("kv");
const HISTORY: TableDefinition<i64, (&str, bool, i64, i64, &[u8])> = TableDefinition::new("history");

/// Creates `dir/state.redb` and starts its writer thread.
pub fn open(dir: &Path) -> Result<WriterThread> {
    let db = Database::create(dir.join("state.redb")).map_err(be)?;
    // Create both tables up front.
    let w = db.begin_write().map_err(be)?;
    w.open_table(KV).map_err(be)?;
    w.open_table(HISTORY).map_err(be)?;
    w.commit().map_err(be)?;
    WriterThread::spawn("redb-writer", db, |db, req, st| write(db, &req.key, req.expected, &req.op, st))
}

fn be(e: impl std::fmt::Display) -> Error {
    Error::Backend(format!("redb: {e}"))
}

fn write(db: &Database, key: &str, expected: Revision, op: &TxnOp, stats: &WriterStats) -> Result<TxnResponse> {
    let mut w = db.begin_write().map_err(be)?;
    // The default, set explicitly: the commit is durable (fsynced) when `commit` returns.
    w.set_durability(Durability::Immediate).map_err(be)?;
    let out = {
        let mut kv = w.open_table(KV).map_err(be)?;
        let mut history = w.open_table(HISTORY).map_err(be)?;
        let current: Option<(i64, i64)> = kv.get(key).map_err(be)?.map(|g| {
            let (m, c, _) = g.value();
            (m, c)
        });
        let last_rev = history.last().map_err(be)?.map(|(k, _)| k.value()).unwrap_or(1);
        let (cur_mod, cur_create) = current.unwrap_or((0, 0));
        if cur_mod != expected {
            let kv = kv.get(key).map_err(be)?.map(|g| {
                let (m, c, v) = g.value();
                KeyValue {
                    key: key.to_string(),
                    value: Bytes::copy_from_slice(v),
                    create_revision: c,
                    mod_revision: m,
                    version: 0,
                }
            });
            Err(TxnResponse { succeeded: false, revision: last_rev, kv })
        } else {
            let rev = last_rev + 1;
            match op {
                TxnOp::Put(v) => {
                    let create = if cur_mod == 0 { rev } else { cur_create };
                    kv.insert(key, (rev, create, v.as_ref())).map_err(be)?;
                    history.insert(rev, (key, false, create, cur_mod, v.as_ref())).map_err(be)?;
                    let kv = KeyValue {
                        key: key.to_string(),
                        value: v.clone(),
                        create_revision: create,
                        mod_revision: rev,
                        version: 0,
                    };
                    Ok(TxnResponse { succeeded: true, revision: rev, kv: Some(kv) })
                }
                TxnOp::Delete if cur_mod == 0 => Err(TxnResponse { succeeded: true, revision: 0, kv: None }),
                TxnOp::Delete => {
                    kv.remove(key).map_err(be)?;
                    history.insert(rev, (key, true, cur_create, cur_mod, &[][..])).map_err(be)?;
                    Ok(TxnResponse { succeeded: true, revision: rev, kv: None })
                }
            }
        }
    };
    match out {
        Ok(resp) => {
            let t = Instant::now();
            w.commit().map_err(be)?;
            stats.commit_ns.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
            Ok(resp)
        }
        // Nothing written: no commit (and no fsync).
        Err(resp) => {
            w.abort().map_err(be)?;
            Ok(resp)
        }
    }
}
