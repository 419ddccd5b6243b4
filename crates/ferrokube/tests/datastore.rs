//! Storage that survives, seen through the API: acknowledged writes survive SIGKILL at random
//! moments, watchers resume exactly where they were after a restart, snapshots taken while
//! writers go on restore into a new cluster. (Run against etcd too: FERROKUBE_TEST_DATASTORE=etcd.)

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use support::Server;

/// Runs `ferrokube snapshot save|restore --data-dir DIR FILE`.
fn snapshot_cmd(action: &str, data_dir: &std::path::Path, file: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ferrokube"))
        .args(["snapshot", action, "--data-dir"])
        .arg(data_dir)
        .arg(file)
        .output()
        .expect("run ferrokube snapshot")
}

fn cm(name: &str, writer: usize, seq: u64) -> ConfigMap {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "namespace": "default"},
        "data": {"writer": writer.to_string(), "seq": seq.to_string(), "pad": "p".repeat(200 + (seq % 50) as usize)},
    }))
    .expect("configmap")
}

fn seq_of(c: &ConfigMap) -> u64 {
    c.data.as_ref().and_then(|d| d.get("seq")).and_then(|s| s.parse().ok()).expect("seq")
}

fn rv_of(c: &ConfigMap) -> i64 {
    c.metadata.resource_version.as_deref().and_then(|s| s.parse().ok()).expect("rv")
}

/// What a client knows about one object: its last acknowledged write, and the write it sent
/// whose answer never came (it may or may not have happened).
#[derive(Clone, Debug, Default)]
struct Known {
    acked: Option<(u64, i64)>,
    in_flight: Option<u64>,
}

const WRITERS: usize = 16;
const OBJECTS_PER_WRITER: usize = 4;

/// One writer: creates or updates its objects (compare-and-swap on the acknowledged
/// resourceVersion) until a request fails, which is when the server died.
async fn writer(api: Api<ConfigMap>, w: usize, mut known: Vec<Known>) -> Vec<Known> {
    let mut i = 0usize;
    loop {
        let k = i % OBJECTS_PER_WRITER;
        i += 1;
        let name = format!("w{w}-o{k}");
        let seq = known[k].acked.map_or(1, |(s, _)| s + 1);
        let mut obj = cm(&name, w, seq);
        known[k].in_flight = Some(seq);
        let res = match known[k].acked {
            None => api.create(&PostParams::default(), &obj).await,
            Some((_, rv)) => {
                obj.metadata.resource_version = Some(rv.to_string());
                api.replace(&name, &PostParams::default(), &obj).await
            }
        };
        match res {
            Ok(got) => {
                assert_eq!(seq_of(&got), seq);
                known[k] = Known { acked: Some((seq, rv_of(&got))), in_flight: None };
            }
            Err(_) => return known,
        }
    }
}

/// 16 writers, the server SIGKILLed at a random moment, restarted: every acknowledged write is
/// there with its content and resourceVersion; an object is only ever at a state a client wrote.
/// 20 trials (`FERROKUBE_CRASH_TRIALS` for more: `scripts/crash-test`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_sigkill_at_random_moments() {
    let trials: usize = std::env::var("FERROKUBE_CRASH_TRIALS").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    let mut s = Server::start();
    let mut known: Vec<Vec<Known>> = vec![vec![Known::default(); OBJECTS_PER_WRITER]; WRITERS];
    let mut total_acked = 0u64;
    for trial in 0..trials {
        let client = s.client().await;
        let api: Api<ConfigMap> = Api::namespaced(client, "default");
        let tasks: Vec<_> =
            (0..WRITERS).map(|w| tokio::spawn(writer(api.clone(), w, known[w].clone()))).collect();
        let wait = 150 + rand_below(700);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        tokio::task::block_in_place(|| {
            s.kill9();
        });
        for (w, t) in tasks.into_iter().enumerate() {
            known[w] = t.await.expect("writer");
        }
        tokio::task::block_in_place(|| s.restart());
        let api: Api<ConfigMap> = Api::namespaced(s.client().await, "default");
        let listed: BTreeMap<String, ConfigMap> = api
            .list(&ListParams::default())
            .await
            .expect("list")
            .items
            .into_iter()
            .map(|c| (c.metadata.name.clone().unwrap_or_default(), c))
            .collect();
        for (w, objs) in known.iter_mut().enumerate() {
            for (k, kn) in objs.iter_mut().enumerate() {
                let name = format!("w{w}-o{k}");
                match (listed.get(&name), kn.acked) {
                    (None, None) => {}
                    (None, Some(a)) => panic!("trial {trial}: {name} acknowledged at {a:?} is gone"),
                    (Some(c), acked) => {
                        let (seq, rv) = (seq_of(c), rv_of(c));
                        assert_eq!(c.data.as_ref().and_then(|d| d.get("writer")).map(String::as_str), Some(w.to_string().as_str()));
                        assert_eq!(c.data.as_ref().and_then(|d| d.get("pad")).map(String::len), Some(200 + (seq % 50) as usize));
                        match acked {
                            Some((aseq, arv)) if seq == aseq => {
                                assert_eq!(rv, arv, "trial {trial}: {name} has a resourceVersion it never had")
                            }
                            Some((aseq, arv)) => {
                                assert_eq!(Some(seq), kn.in_flight, "trial {trial}: {name} at seq {seq}, acked {aseq}");
                                assert!(rv > arv, "trial {trial}: {name} went back in time");
                            }
                            None => assert_eq!(Some(seq), kn.in_flight, "trial {trial}: {name} exists unwritten"),
                        }
                        kn.acked = Some((seq, rv));
                    }
                }
                kn.in_flight = None;
            }
        }
        total_acked += known.iter().flatten().filter_map(|k| k.acked.map(|(s, _)| s)).sum::<u64>();
    }
    assert!(total_acked > 0, "the writers got writes acknowledged");
    println!("{trials} crashes, {total_acked} acknowledged writes checked");
}

fn rand_below(n: u64) -> u64 {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(7);
    u64::from(t) % n
}

/// Applies watch events to a model of the objects (name -> (rv, seq)).
fn apply(model: &mut BTreeMap<String, (i64, u64)>, ev: &WatchEvent<ConfigMap>) -> Option<i64> {
    match ev {
        WatchEvent::Added(c) | WatchEvent::Modified(c) => {
            model.insert(c.metadata.name.clone().unwrap_or_default(), (rv_of(c), seq_of(c)));
            Some(rv_of(c))
        }
        WatchEvent::Deleted(c) => {
            model.remove(&c.metadata.name.clone().unwrap_or_default());
            Some(rv_of(c))
        }
        WatchEvent::Bookmark(b) => b.metadata.resource_version.parse().ok(),
        WatchEvent::Error(e) => panic!("unexpected watch error {e:?}"),
    }
}

async fn list_model(api: &Api<ConfigMap>) -> (BTreeMap<String, (i64, u64)>, i64) {
    let l = api.list(&ListParams::default().labels("watched=yes")).await.expect("list");
    let rv = l.metadata.resource_version.as_deref().and_then(|s| s.parse().ok()).expect("list rv");
    (l.items.iter().map(|c| (c.metadata.name.clone().unwrap_or_default(), (rv_of(c), seq_of(c)))).collect(), rv)
}

/// Watches from `rv` until the stream ends or `until` is reached; returns the last resourceVersion,
/// or `None` if the server said 410 Gone.
async fn follow(api: &Api<ConfigMap>, model: &mut BTreeMap<String, (i64, u64)>, mut rv: i64, until: i64) -> Option<i64> {
    let wp = WatchParams::default().labels("watched=yes").timeout(10);
    let mut stream = match api.watch(&wp, &rv.to_string()).await {
        Ok(s) => s.boxed(),
        Err(kube::Error::Api(e)) if e.code == 410 => return None,
        Err(e) => panic!("watch: {e}"),
    };
    while rv < until {
        match tokio::time::timeout(Duration::from_secs(10), stream.try_next()).await {
            Ok(Ok(Some(WatchEvent::Error(e)))) if e.code == 410 => return None,
            Ok(Ok(Some(ev))) => {
                if let Some(r) = apply(model, &ev) {
                    rv = rv.max(r);
                }
            }
            Ok(Ok(None)) | Ok(Err(_)) | Err(_) => break,
        }
    }
    Some(rv)
}

async fn churn(api: &Api<ConfigMap>, from: usize, n: usize) -> i64 {
    let mut last = 0;
    for i in from..from + n {
        let name = format!("c{}", i % 7);
        let mut obj = cm(&name, 0, i as u64);
        obj.metadata.labels = Some([("watched".to_string(), "yes".to_string())].into());
        let r = match api.get_opt(&name).await.expect("get") {
            None => api.create(&PostParams::default(), &obj).await.expect("create"),
            Some(cur) if i % 5 == 0 => {
                api.delete(&name, &Default::default()).await.expect("delete");
                let _ = cur;
                last = last.max(api.list(&ListParams::default()).await.expect("list").metadata.resource_version.and_then(|s| s.parse().ok()).unwrap_or(0));
                continue;
            }
            Some(cur) => {
                obj.metadata.resource_version = cur.metadata.resource_version.clone();
                api.replace(&name, &PostParams::default(), &obj).await.expect("replace")
            }
        };
        last = last.max(rv_of(&r));
    }
    last
}

/// A watcher that loses its connection when the server restarts and comes back with its last
/// resourceVersion receives exactly the events it missed: replaying them on its first list gives
/// the final state. After a crash the history is still there; after a clean stop (the store's
/// history folded into a snapshot) the answer may be 410, and a relist catches up.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watch_resumes_exactly_after_restart() {
    let mut s = Server::start();
    for (restart_kind, may_be_gone) in [("kill9", false), ("stop", true)] {
        let api: Api<ConfigMap> = Api::namespaced(s.client().await, "default");
        let (mut model, rv0) = list_model(&api).await;
        let before = churn(&api, 0, 30).await;
        let rv = follow(&api, &mut model, rv0, before).await.expect("a live watch");
        // more writes the watcher does not see, then the restart, then more
        let missed_before = churn(&api, 30, 20).await;
        assert!(missed_before > rv);
        tokio::task::block_in_place(|| {
            if restart_kind == "kill9" {
                s.kill9();
            } else {
                s.stop();
            }
            s.restart();
        });
        let api: Api<ConfigMap> = Api::namespaced(s.client().await, "default");
        let last = churn(&api, 50, 20).await;
        let resumed = follow(&api, &mut model, rv, last).await;
        match resumed {
            Some(r) => assert!(r >= last, "{restart_kind}: the resumed watch reached {r} < {last}"),
            None => {
                assert!(may_be_gone, "{restart_kind}: history after a crash must still be there (got 410)");
                let (relisted, _) = list_model(&api).await;
                model = relisted;
            }
        }
        let (final_state, _) = list_model(&api).await;
        assert_eq!(model, final_state, "{restart_kind}: replayed events equal the final state");
    }
}

/// `ferrokube snapshot save` while writers go on, then `snapshot restore` into a new data
/// directory: a server started on it serves the snapshot's state (secrets still decrypt), and
/// scheduled snapshots keep only the newest ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn snapshot_save_during_writes_and_restore() {
    let mut s = Server::start_with(&["--snapshot-interval", "1s", "--snapshot-retention", "2"]);
    s.ok(&["create", "secret", "generic", "keep", "--from-literal=password=hunter2"]);
    let api: Api<ConfigMap> = Api::namespaced(s.client().await, "default");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writes = {
        let (api, stop) = (api.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                api.create(&PostParams::default(), &cm(&format!("during-{n}"), 1, n)).await.expect("create");
                n += 1;
            }
            n
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let file = s.path().join("backup.db");
    let out = tokio::task::block_in_place(|| {
        snapshot_cmd("save", &s.data_dir(), &file)
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writes.await.expect("writer");
    assert!(out.status.success(), "snapshot save: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("snapshot saved"));
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).expect("file").permissions()) & 0o777;
    assert_eq!(mode, 0o600, "a snapshot holds the cluster's keys");
    assert!(written > 3, "writes went on during the snapshot ({written})");

    // the snapshot is one revision: the objects it holds are a prefix of the writes
    let new_dir = s.path().join("restored");
    let out = snapshot_cmd("restore", &new_dir, &file);
    assert!(out.status.success(), "restore: {}", String::from_utf8_lossy(&out.stderr));
    // restore refuses a used directory
    let again = snapshot_cmd("restore", &new_dir, &file);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

    let r = Server::start_in(&new_dir, &["--snapshot-interval", "0"]);
    assert_eq!(r.ok(&["get", "secret", "keep", "-o", "jsonpath={.data.password}"]), "aHVudGVyMg==");
    let rapi: Api<ConfigMap> = Api::namespaced(r.client().await, "default");
    let restored: Vec<u64> = rapi
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .iter()
        .filter(|c| c.metadata.name.as_deref().is_some_and(|n| n.starts_with("during-")))
        .map(seq_of)
        .collect();
    let n = restored.len() as u64;
    assert!(n <= written);
    let mut sorted = restored.clone();
    sorted.sort();
    assert_eq!(sorted, (0..n).collect::<Vec<_>>(), "a consistent cut: the first {n} writes, no holes");
    // the original's objects keep their resourceVersions
    let orig = api.get("during-0").await.expect("get");
    if n > 0 {
        assert_eq!(rv_of(&rapi.get("during-0").await.expect("get")), rv_of(&orig));
    }

    // scheduled snapshots: 1 s interval, 2 kept
    let snaps = s.data_dir().join("snapshots");
    support::eventually(Duration::from_secs(20), "three scheduled snapshots written, two kept", || {
        let names: Vec<String> = std::fs::read_dir(&snaps)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().to_string()).collect())
            .unwrap_or_default();
        names.iter().filter(|n| n.starts_with("ferrokube-snapshot-")).count() == 2 && s.log_text().matches("scheduled snapshot saved").count() >= 3
    });

    // a stopped server's data directory is read directly (its embedded store); an etcd-backed
    // one has nothing to read without its server
    tokio::task::block_in_place(|| s.stop());
    let offline = s.path().join("offline.db");
    let out = snapshot_cmd("save", &s.data_dir(), &offline);
    if s.etcd.is_some() {
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("no embedded store"), "{}", String::from_utf8_lossy(&out.stderr));
    } else {
        assert!(out.status.success(), "offline snapshot save: {}", String::from_utf8_lossy(&out.stderr));
        let dir2 = s.path().join("restored-offline");
        let out = snapshot_cmd("restore", &dir2, &offline);
        assert!(out.status.success(), "restore: {}", String::from_utf8_lossy(&out.stderr));
        let r2 = Server::start_in(&dir2, &["--snapshot-interval", "0"]);
        let all = r2.ok(&["get", "configmaps", "-o", "name"]);
        assert_eq!(all.lines().filter(|l| l.starts_with("configmap/during-")).count() as u64, written, "every write is in the offline snapshot");
    }
}
