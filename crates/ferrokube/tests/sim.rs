//! `ferrokube sim`: simulated nodes register Ready with capacity, keep their Leases fresh, run the
//! pods bound to them through their lifecycle, and go stale when killed.

mod support;

use std::time::Duration;

use support::{Server, eventually};

fn jsonpath(s: &Server, args: &[&str]) -> String {
    s.ok(args).trim().to_string()
}

#[test]
fn nodes_register_ready_with_capacity_zones_and_leases() {
    let s = Server::start();
    let _sim = s.sim(3, &["--zones", "2", "--cpu", "4", "--memory", "8Gi", "--pods-per-node", "20", "--lease-interval-seconds", "1"]);
    let names = jsonpath(&s, &["get", "nodes", "-l", "sim.ferrokube.io/node", "-o", "jsonpath={.items[*].metadata.name}"]);
    assert_eq!(names, "sim-0 sim-1 sim-2");
    for (i, node) in ["sim-0", "sim-1", "sim-2"].iter().enumerate() {
        let ready = jsonpath(&s, &["get", "node", node, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]);
        assert_eq!(ready, "True", "{node}");
        let alloc = jsonpath(&s, &["get", "node", node, "-o", "jsonpath={.status.allocatable.cpu} {.status.allocatable.memory} {.status.allocatable.pods}"]);
        assert_eq!(alloc, "4 8Gi 20");
        let zone = jsonpath(&s, &["get", "node", node, "-o", "jsonpath={.metadata.labels.topology\\.kubernetes\\.io/zone}"]);
        assert_eq!(zone, format!("zone-{}", i % 2));
        let ip = jsonpath(&s, &["get", "node", node, "-o", "jsonpath={.status.addresses[?(@.type==\"InternalIP\")].address}"]);
        assert!(ip.starts_with("127.100."), "{ip}");
    }
    // `kubectl get nodes` shows them Ready.
    let table = s.ok(&["get", "nodes"]);
    assert!(table.lines().filter(|l| l.contains(" Ready ")).count() == 3, "{table}");
    // The Lease is renewed every second.
    let t0 = jsonpath(&s, &["get", "lease", "-n", "kube-node-lease", "sim-1", "-o", "jsonpath={.spec.renewTime}"]);
    let holder = jsonpath(&s, &["get", "lease", "-n", "kube-node-lease", "sim-1", "-o", "jsonpath={.spec.holderIdentity}"]);
    assert_eq!(holder, "sim-1");
    eventually(Duration::from_secs(10), "a renewed lease", || {
        jsonpath(&s, &["get", "lease", "-n", "kube-node-lease", "sim-1", "-o", "jsonpath={.spec.renewTime}"]) != t0
    });
}

#[test]
fn pods_run_succeed_fail_and_are_deleted() {
    let s = Server::start();
    let _sim = s.sim(1, &[]);
    let pod = |name: &str, annotations: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  annotations: {{{annotations}}}\nspec:\n  nodeName: sim-0\n  \
             initContainers:\n  - name: init\n    image: busybox\n  containers:\n  - name: c\n    image: busybox\n"
        )
    };
    s.ok_stdin(&["apply", "-f", "-"], &pod("runs", ""));
    s.ok_stdin(&["apply", "-f", "-"], &pod("ends", "sim.ferrokube.io/succeed-after: 1s"));
    s.ok_stdin(&["apply", "-f", "-"], &pod("fails", "sim.ferrokube.io/fail-after: 1s"));
    s.ok(&["wait", "--for=condition=Ready", "pod/runs", "--timeout=30s"]);
    let status = jsonpath(
        &s,
        &["get", "pod", "runs", "-o", "jsonpath={.status.phase} {.status.podIP} {.status.hostIP} {.status.containerStatuses[0].state.running.startedAt} {.status.initContainerStatuses[0].state.terminated.reason}"],
    );
    let parts: Vec<&str> = status.split(' ').collect();
    assert_eq!(parts.len(), 5, "{status}");
    assert_eq!(parts[0], "Running");
    assert!(parts[1].starts_with("10."), "pod IP {status}");
    assert_eq!(parts[2], "127.100.0.0");
    assert_eq!(parts[4], "Completed");
    eventually(Duration::from_secs(30), "pod ends Succeeded", || {
        jsonpath(&s, &["get", "pod", "ends", "-o", "jsonpath={.status.phase} {.status.containerStatuses[0].state.terminated.exitCode}"]) == "Succeeded 0"
    });
    eventually(Duration::from_secs(30), "pod fails Failed", || {
        jsonpath(&s, &["get", "pod", "fails", "-o", "jsonpath={.status.phase} {.status.containerStatuses[0].state.terminated.exitCode}"]) == "Failed 1"
    });
    // A graceful delete finishes as a kubelet's would: the pod is gone well before its 30 s grace.
    let t = std::time::Instant::now();
    s.ok(&["delete", "pod", "runs", "--wait=true", "--timeout=20s"]);
    assert!(t.elapsed() < Duration::from_secs(20));
    assert!(s.fails(&["get", "pod", "runs"]).contains("NotFound"));
}

#[test]
fn killed_sim_stops_renewing() {
    let s = Server::start();
    let mut sim = s.sim(1, &["--name-prefix", "gone-", "--lease-interval-seconds", "1"]);
    let renew = || jsonpath(&s, &["get", "lease", "-n", "kube-node-lease", "gone-0", "-o", "jsonpath={.spec.renewTime}"]);
    let t0 = renew();
    eventually(Duration::from_secs(10), "a renewal", || renew() != t0);
    sim.kill();
    std::thread::sleep(Duration::from_millis(500));
    let t1 = renew();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(renew(), t1, "a killed sim renewed its lease");
}
