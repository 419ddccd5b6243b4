//! A real crash: a child process writes continuously and reports every acknowledged write on
//! stdout; it is killed with SIGKILL mid-stream; the store is reopened and must hold every
//! acknowledged write with its revision.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use storage::embedded::{EmbeddedStore, Options};
use storage::{Backend, RangeRequest, TxnOp};

const DIR_ENV: &str = "FERROKUBE_STORAGE_CRASH_DIR";
const ROUND_ENV: &str = "FERROKUBE_STORAGE_CRASH_ROUND";

fn opts() -> Options {
    // small segments: snapshots, rotations and segment deletion all happen while being killed
    Options { snapshot_log_bytes: 96 << 10, ..Options::default() }
}

fn value_for(key: &str) -> Bytes {
    let n = key.len() * 37 % 900;
    Bytes::from(format!("{key}|{}", "v".repeat(n)))
}

/// The child: not a test of its own (ignored), run only by `kill9_loses_no_acknowledged_write`.
#[test]
#[ignore = "helper process for kill9_loses_no_acknowledged_write"]
fn crash_writer_child() {
    let Ok(dir) = std::env::var(DIR_ENV) else { return };
    let round = std::env::var(ROUND_ENV).unwrap_or_default();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async move {
        let s = EmbeddedStore::open(std::path::Path::new(&dir), opts()).await.expect("child open");
        let out = Arc::new(std::sync::Mutex::new(std::io::stdout()));
        let mut tasks = Vec::new();
        for t in 0..16 {
            let s = s.clone();
            let out = out.clone();
            let round = round.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0u64.. {
                    let key = format!("/r{round}/t{t}/{i}");
                    let r = s.txn(&key, 0, TxnOp::Put(value_for(&key))).await.expect("put");
                    assert!(r.succeeded);
                    let line = format!("ACK PUT {key} {}\n", r.revision);
                    out.lock().expect("stdout").write_all(line.as_bytes()).expect("stdout");
                    if i % 5 == 4 {
                        // delete an earlier key of ours
                        let victim = format!("/r{round}/t{t}/{}", i - 3);
                        let cur = s.range(RangeRequest::key(&victim)).await.expect("range");
                        let Some(kv) = cur.kvs.first() else { continue };
                        let r = s.txn(&victim, kv.mod_revision, TxnOp::Delete).await.expect("delete");
                        assert!(r.succeeded);
                        let line = format!("ACK DEL {victim} {}\n", r.revision);
                        out.lock().expect("stdout").write_all(line.as_bytes()).expect("stdout");
                    }
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
    });
}

#[test]
fn kill9_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("test binary");
    let mut puts: BTreeMap<String, i64> = BTreeMap::new();
    let mut dels: BTreeMap<String, i64> = BTreeMap::new();
    let mut max_acked = 0i64;
    for (round, acks_wanted) in [(0, 1500usize), (1, 4000), (2, 700)] {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_writer_child", "--ignored", "--nocapture", "--test-threads=1"])
            .env(DIR_ENV, dir.path())
            .env(ROUND_ENV, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut acks = 0;
        let mut line = String::new();
        let t0 = Instant::now();
        let mut record = |line: &str, puts: &mut BTreeMap<String, i64>, dels: &mut BTreeMap<String, i64>| -> bool {
            // only complete lines are acknowledgements that were fully reported
            // (the harness may print its own text before the first one on the same line)
            let Some(rest) = line.strip_suffix('\n').and_then(|l| Some(&l[l.find("ACK ")? + 4..])) else {
                return false;
            };
            let mut parts = rest.split(' ');
            let (Some(kind), Some(key), Some(rev)) = (parts.next(), parts.next(), parts.next()) else { return false };
            let rev: i64 = rev.parse().expect("revision");
            max_acked = max_acked.max(rev);
            match kind {
                "PUT" => puts.insert(key.to_string(), rev),
                "DEL" => dels.insert(key.to_string(), rev),
                other => panic!("unknown ack {other}"),
            };
            true
        };
        while acks < acks_wanted {
            line.clear();
            let n = reader.read_line(&mut line).expect("read child");
            assert!(n > 0, "child ended early");
            if record(&line, &mut puts, &mut dels) {
                acks += 1;
            }
            assert!(t0.elapsed() < Duration::from_secs(120), "child too slow");
        }
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait");
        assert!(!status.success(), "the child was killed");
        // acknowledgements already in the pipe count too
        loop {
            line.clear();
            if reader.read_line(&mut line).expect("drain") == 0 {
                break;
            }
            record(&line, &mut puts, &mut dels);
        }

        // reopen and verify
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let s = EmbeddedStore::open(dir.path(), opts()).await.expect("reopen after SIGKILL");
            let cur = s.current_revision().await.expect("rev");
            assert!(cur >= max_acked, "store at {cur}, acknowledged {max_acked}");
            let all = s.range(RangeRequest::prefix("/r")).await.expect("range");
            let live: BTreeMap<&str, &storage::KeyValue> = all.kvs.iter().map(|kv| (kv.key.as_str(), kv)).collect();
            let mut revs = HashSet::new();
            for (key, rev) in &puts {
                assert!(revs.insert(*rev), "revision {rev} acknowledged twice");
                match dels.get(key) {
                    Some(_) => assert!(!live.contains_key(key.as_str()), "{key}: acknowledged delete lost"),
                    None => {
                        if let Some(kv) = live.get(key.as_str()) {
                            assert_eq!(kv.mod_revision, *rev, "{key}");
                            assert_eq!(kv.create_revision, *rev, "{key}");
                            assert_eq!(kv.value, value_for(key), "{key}");
                        } else {
                            // deleted by a delete that was written but whose ack was not seen:
                            // allowed only if the child had started that delete
                            let i: u64 = key.rsplit('/').next().and_then(|n| n.parse().ok()).expect("index");
                            let t_prefix = &key[..key.len() - i.to_string().len()];
                            let deleter = format!("{t_prefix}{}", i + 3);
                            assert!((i + 3) % 5 == 4 && puts.contains_key(&deleter), "{key} (revision {rev}) lost");
                        }
                    }
                }
            }
            for rev in dels.values() {
                assert!(revs.insert(*rev), "revision {rev} acknowledged twice");
            }
            // revisions go on increasing
            let r = s.txn(&format!("/after/{round}"), 0, TxnOp::Put(Bytes::from_static(b"x"))).await.expect("put");
            assert!(r.revision > max_acked);
            max_acked = r.revision;
            if round % 2 == 0 {
                s.close().await.expect("close");
            } // else: dropped, another crash as far as the disk is concerned
        });
        println!(
            "round {round}: {} puts, {} deletes acknowledged so far; max revision {max_acked}",
            puts.len(),
            dels.len()
        );
    }
}
