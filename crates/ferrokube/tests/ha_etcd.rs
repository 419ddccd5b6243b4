//! ferrokube on real etcd (Debian's etcd-server, started by the tests on loopback, TLS with
//! client certificates): a 3-member cluster losing a member, two servers failing over, and the
//! migration of an embedded cluster to etcd.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use storage::etcd::testing::EtcdProcess;
use support::{Server, eventually};

const FAST_ELECTION: [&str; 6] = [
    "--leader-elect-lease-duration",
    "3s",
    "--leader-elect-renew-deadline",
    "2s",
    "--leader-elect-retry-period",
    "1s",
];

fn server_id(s: &Server) -> String {
    std::fs::read_to_string(s.data_dir().join("server-id")).expect("server-id").trim().to_string()
}

fn lease_holder(s: &Server) -> String {
    s.ok(&["get", "lease", "kube-controller-manager", "-n", "kube-system", "-o", "jsonpath={.spec.holderIdentity}"])
}

#[test]
fn a_three_member_etcd_losing_a_member_keeps_the_api_writable() {
    let mut etcd = EtcdProcess::start_cluster(3, true).expect("etcd cluster");
    let s = Server::start_on_etcd(&etcd, None, &[]);
    s.ok(&["create", "configmap", "before", "--from-literal=a=1"]);
    for member in 0..3 {
        etcd.stop_member(member).expect("stop member");
        let name = format!("without-{member}");
        // a new etcd leader may take a moment to be elected; the API answers again once it is
        eventually(Duration::from_secs(30), "a write with one etcd member down", || {
            s.kubectl(&["create", "configmap", &name, "--from-literal=a=2"]).status.success()
                || s.kubectl(&["get", "configmap", &name]).status.success()
        });
        assert_eq!(s.ok(&["get", "configmap", "before", "-o", "jsonpath={.data.a}"]), "1");
        etcd.start_member(member).expect("restart member");
    }
    let names = s.ok(&["get", "configmaps", "-o", "jsonpath={.items[*].metadata.name}"]);
    for n in ["before", "without-0", "without-1", "without-2"] {
        assert!(names.split(' ').any(|x| x == n), "{n} in {names}");
    }
}

/// Two servers on one etcd: both serve, the controllers run on the lease holder; killing it
/// moves leadership to the other, which goes on serving, and a watch through the survivor misses
/// no write.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_fail_over_and_a_watch_through_the_survivor_misses_nothing() {
    let etcd = EtcdProcess::start_cluster(3, true).expect("etcd cluster");
    let mut a = Server::start_on_etcd(&etcd, None, &FAST_ELECTION);
    eventually(Duration::from_secs(20), "server a leads the controllers", || lease_holder(&a).ends_with(&server_id(&a)));
    let b = Server::start_on_etcd(&etcd, Some(&a), &FAST_ELECTION);
    // both serve the same cluster
    a.ok(&["create", "configmap", "from-a", "--from-literal=x=1"]);
    assert_eq!(b.ok(&["get", "configmap", "from-a", "-o", "jsonpath={.data.x}"]), "1");
    assert!(lease_holder(&b).ends_with(&server_id(&a)), "b stands by");

    let bapi: Api<ConfigMap> = Api::namespaced(b.client().await, "default");
    let start_rv: String = bapi.list(&ListParams::default()).await.expect("list").metadata.resource_version.expect("rv");
    let watch = tokio::spawn({
        let bapi = bapi.clone();
        async move {
            let mut seen = BTreeMap::new();
            let wp = WatchParams::default().labels("ha=yes").timeout(60);
            let mut stream = bapi.watch(&wp, &start_rv).await.expect("watch").boxed();
            while let Ok(Ok(Some(ev))) = tokio::time::timeout(Duration::from_secs(20), stream.try_next()).await {
                match ev {
                    WatchEvent::Added(c) | WatchEvent::Modified(c) => {
                        let n = c.metadata.name.clone().unwrap_or_default();
                        let done = n == "last";
                        seen.insert(n, c.metadata.resource_version.clone().unwrap_or_default());
                        if done {
                            break;
                        }
                    }
                    WatchEvent::Error(e) => panic!("watch error through the survivor: {e:?}"),
                    _ => {}
                }
            }
            seen
        }
    });
    let labeled = |name: &str| -> ConfigMap {
        serde_json::from_value(serde_json::json!({"metadata": {"name": name, "labels": {"ha": "yes"}}, "data": {"n": name}}))
            .expect("cm")
    };
    let mut written = BTreeMap::new();
    for i in 0..10 {
        let c = bapi.create(&PostParams::default(), &labeled(&format!("w{i}"))).await.expect("create through b");
        written.insert(format!("w{i}"), c.metadata.resource_version.unwrap_or_default());
    }
    tokio::task::block_in_place(|| a.kill9());
    for i in 10..30 {
        let c = bapi.create(&PostParams::default(), &labeled(&format!("w{i}"))).await.expect("create through b after a died");
        written.insert(format!("w{i}"), c.metadata.resource_version.unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // leadership moves to b, and b's controllers do their work
    tokio::task::block_in_place(|| {
        eventually(Duration::from_secs(20), "b takes the controllers' lease", || lease_holder(&b).ends_with(&server_id(&b)));
        b.ok(&["create", "namespace", "after-failover"]);
        eventually(Duration::from_secs(20), "b's serviceaccount controller creates the default SA", || {
            b.kubectl(&["get", "serviceaccount", "default", "-n", "after-failover"]).status.success()
        });
    });
    let transitions = b.ok(&["get", "lease", "kube-controller-manager", "-n", "kube-system", "-o", "jsonpath={.spec.leaseTransitions}"]);
    assert!(transitions.parse::<i32>().expect("transitions") >= 1);
    let c = bapi.create(&PostParams::default(), &labeled("last")).await.expect("create last");
    written.insert("last".into(), c.metadata.resource_version.unwrap_or_default());
    let seen = watch.await.expect("watcher");
    assert_eq!(seen, written, "the watch through the survivor saw every write, with its resourceVersion");
    let lease: Lease = Api::namespaced(b.client().await, "kube-system").get("kube-controller-manager").await.expect("lease");
    assert_eq!(lease.spec.and_then(|s| s.lease_duration_seconds), Some(3));
}

/// `ferrokube datastore migrate` moves a stopped embedded cluster into an empty etcd; the server
/// started on etcd with the same data directory serves everything (secrets still decrypt).
#[test]
fn migrate_an_embedded_cluster_to_etcd() {
    let etcd = EtcdProcess::start_single(true).expect("etcd");
    let home = tempfile::tempdir().expect("dir");
    // the embedded store, whatever FERROKUBE_TEST_DATASTORE says
    let mut s = Server::start_in(&home.path().join("data"), &[]);
    s.ok(&["create", "namespace", "moved"]);
    s.ok(&["create", "configmap", "c", "-n", "moved", "--from-literal=a=1"]);
    s.ok(&["create", "secret", "generic", "pw", "-n", "moved", "--from-literal=p=hunter2"]);
    let uid = s.ok(&["get", "configmap", "c", "-n", "moved", "-o", "jsonpath={.metadata.uid}"]);
    // refused while the server runs
    let flags = support::datastore_flags(&etcd);
    let migrate = |data: &std::path::Path| {
        let mut args = vec!["datastore".to_string(), "migrate".into(), "--data-dir".into(), data.to_string_lossy().into_owned()];
        args.push("--to".into());
        args.push(flags[1].clone());
        args.extend(flags[2..].iter().cloned());
        std::process::Command::new(env!("CARGO_BIN_EXE_ferrokube")).args(&args).output().expect("run migrate")
    };
    let busy = migrate(&s.data_dir());
    assert!(!busy.status.success());
    assert!(String::from_utf8_lossy(&busy.stderr).contains("stop the server"), "{}", String::from_utf8_lossy(&busy.stderr));
    s.stop();
    let out = migrate(&s.data_dir());
    assert!(out.status.success(), "migrate: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("migrated"));
    assert!(s.data_dir().join("db.migrated").exists() && !s.data_dir().join("db").exists());
    let t = Server::start_in(&s.data_dir(), &flags.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(t.ok(&["get", "configmap", "c", "-n", "moved", "-o", "jsonpath={.data.a}"]), "1");
    assert_eq!(t.ok(&["get", "configmap", "c", "-n", "moved", "-o", "jsonpath={.metadata.uid}"]), uid);
    assert_eq!(t.ok(&["get", "secret", "pw", "-n", "moved", "-o", "jsonpath={.data.p}"]), "aHVudGVyMg==");
    // a second migration into the now non-empty etcd is refused
    let other = tempfile::tempdir().expect("dir");
    let other_data = other.path().join("data");
    std::fs::create_dir_all(other_data.join("db")).expect("mkdir");
    {
        let st = storage::embedded::EmbeddedStore::open_blocking(&other_data.join("db"), Default::default()).expect("store");
        drop(st);
    }
    let again = migrate(&other_data);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("empty datastore"), "{}", String::from_utf8_lossy(&again.stderr));
}
