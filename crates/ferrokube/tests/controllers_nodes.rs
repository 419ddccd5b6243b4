//! The node and service controllers against a real `ferrokube server` with kubectl 1.32: node
//! IPAM (podCIDRs from --cluster-cidr, release, CIDRNotAvailable), the TTL annotation, node
//! lifecycle (a node whose Lease stops being renewed goes Unknown, gets the unreachable taints,
//! its pods are marked not ready and evicted per their tolerations), Endpoints and
//! EndpointSlices following pod readiness, PodDisruptionBudget status with `kubectl drain`, and
//! the HPA's conditions and min/max bounds without a metrics API.
//!
//! Nodes are simulated here by Node and Lease objects the test writes itself (status through
//! the status subresource, the Lease renewed by a thread), pods bound by `spec.nodeName`.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use support::Server;

/// Like `support::eventually`, with the server's log tail in the failure.
fn wait_for(s: &Server, timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}; server log tail:\n{}", support::tail(&s.log_text(), 60));
}

fn get(s: &Server, args: &[&str]) -> String {
    let out = s.kubectl(args);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn now_rfc3339() -> String {
    jiff::Timestamp::now().round(jiff::Unit::Second).unwrap().to_string()
}

fn micro_now() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Registers a node (Ready, with a Lease in kube-node-lease) as a kubelet would.
fn add_node(s: &Server, name: &str) {
    s.ok_stdin(
        &["apply", "-f", "-"],
        &format!("apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}\n  labels:\n    kubernetes.io/hostname: \"{name}\"\n    topology.kubernetes.io/zone: zone-a\n"),
    );
    post_ready(s, name);
    s.ok_stdin(
        &["apply", "-f", "-"],
        &format!(
            "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: {name}\n  namespace: kube-node-lease\nspec:\n  holderIdentity: {name}\n  leaseDurationSeconds: 40\n  renewTime: \"{}\"\n",
            micro_now()
        ),
    );
}

fn post_ready(s: &Server, name: &str) {
    let t = now_rfc3339();
    let patch = format!(
        r#"{{"status":{{"conditions":[{{"type":"Ready","status":"True","reason":"KubeletReady","message":"kubelet is posting ready status","lastHeartbeatTime":"{t}","lastTransitionTime":"{t}"}}]}}}}"#
    );
    s.ok(&["patch", "node", name, "--subresource=status", "--type=merge", "-p", &patch]);
}

/// Renews the Leases of `names` every second until dropped.
struct Heartbeat {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Heartbeat {
    fn start(s: &Server, names: &[&str]) -> Heartbeat {
        let stop = Arc::new(AtomicBool::new(false));
        let kubeconfig = s.kubeconfig.clone();
        let home = s.path().join("hb-home");
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                for n in &names {
                    let patch = format!(r#"{{"spec":{{"renewTime":"{}"}}}}"#, micro_now());
                    let _ = std::process::Command::new(support::KUBECTL)
                        .env_clear()
                        .env("HOME", &home)
                        .arg("--kubeconfig")
                        .arg(&kubeconfig)
                        .args(["-n", "kube-node-lease", "patch", "lease", n, "--type=merge", "-p", &patch])
                        .stdout(std::process::Stdio::null())
                        .stderr(std::process::Stdio::null())
                        .status();
                }
                std::thread::sleep(Duration::from_millis(700));
            }
        });
        Heartbeat { stop, thread: Some(thread) }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A pod bound to `node` (no scheduler needed) with extra YAML under `spec:`.
fn pod_yaml(name: &str, node: &str, labels: &str, spec_extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels: {{{labels}}}\nspec:\n  nodeName: {node}\n  containers:\n  - name: c\n    image: registry.k8s.io/pause:3.10\n    ports:\n    - name: http\n      containerPort: 8080\n{spec_extra}"
    )
}

/// Sets a pod's status as a kubelet would: Running with an IP, Ready true or false.
fn set_pod_status(s: &Server, name: &str, ip: &str, ready: bool) {
    let st = if ready { "True" } else { "False" };
    let patch = format!(
        r#"{{"status":{{"phase":"Running","podIP":"{ip}","podIPs":[{{"ip":"{ip}"}}],"conditions":[{{"type":"Ready","status":"{st}"}},{{"type":"ContainersReady","status":"{st}"}}]}}}}"#
    );
    s.ok(&["patch", "pod", name, "--subresource=status", "--type=merge", "-p", &patch]);
}

fn pod_gone_or_terminating(s: &Server, name: &str) -> bool {
    let out = s.kubectl(&["get", "pod", name, "-o", "jsonpath={.metadata.deletionTimestamp}"]);
    !out.status.success() || !String::from_utf8_lossy(&out.stdout).trim().is_empty()
}

#[test]
fn nodes_get_pod_cidrs_released_and_exhausted() {
    // two /24 blocks in a /23
    let s = Server::start_with(&["--cluster-cidr", "10.99.0.0/23", "--node-cidr-mask-size", "24"]);
    add_node(&s, "n1");
    add_node(&s, "n2");
    wait_for(&s, Duration::from_secs(20), "podCIDRs for both nodes", || {
        let a = get(&s, &["get", "node", "n1", "-o", "jsonpath={.spec.podCIDR} {.spec.podCIDRs[0]}"]);
        let b = get(&s, &["get", "node", "n2", "-o", "jsonpath={.spec.podCIDR}"]);
        a.split(' ').filter(|x| !x.is_empty()).count() == 2 && !b.is_empty()
    });
    let mut got = vec![get(&s, &["get", "node", "n1", "-o", "jsonpath={.spec.podCIDR}"]), get(&s, &["get", "node", "n2", "-o", "jsonpath={.spec.podCIDR}"])];
    got.sort();
    assert_eq!(got, vec!["10.99.0.0/24".to_string(), "10.99.1.0/24".to_string()]);
    // the lifecycle controller registered the node (an event in default, as upstream)
    wait_for(&s, Duration::from_secs(20), "RegisteredNode event", || {
        get(&s, &["get", "events", "-n", "default", "--field-selector", "involvedObject.name=n1,reason=RegisteredNode", "-o", "jsonpath={.items[*].message}"])
            .contains("Node n1 event: Registered Node n1 in Controller")
    });
    // the TTL controller annotates nodes of a small cluster with 0
    wait_for(&s, Duration::from_secs(20), "ttl annotation", || get(&s, &["get", "node", "n1", "-o", r"jsonpath={.metadata.annotations.node\.alpha\.kubernetes\.io/ttl}"]) == "0");
    // the range is full: a third node gets none and an event says so
    add_node(&s, "n3");
    wait_for(&s, Duration::from_secs(20), "CIDRNotAvailable event", || {
        get(&s, &["get", "events", "-n", "default", "--field-selector", "involvedObject.name=n3", "-o", "jsonpath={.items[*].reason}"]).contains("CIDRNotAvailable")
    });
    assert_eq!(get(&s, &["get", "node", "n3", "-o", "jsonpath={.spec.podCIDR}"]), "");
    // deleting n1 releases its block, which n3 then gets
    let n1_block = get(&s, &["get", "node", "n1", "-o", "jsonpath={.spec.podCIDR}"]);
    s.ok(&["delete", "node", "n1"]);
    wait_for(&s, Duration::from_secs(20), "n3 gets the released block", || get(&s, &["get", "node", "n3", "-o", "jsonpath={.spec.podCIDR}"]) == n1_block);
}

#[test]
fn default_cluster_cidr_and_restart_keeps_allocations() {
    let mut s = Server::start();
    add_node(&s, "a");
    wait_for(&s, Duration::from_secs(20), "podCIDR", || get(&s, &["get", "node", "a", "-o", "jsonpath={.spec.podCIDR}"]) == "10.42.0.0/24");
    s.restart();
    add_node(&s, "b");
    // the map was rebuilt from the nodes: b does not get a's block
    wait_for(&s, Duration::from_secs(20), "podCIDR of b", || get(&s, &["get", "node", "b", "-o", "jsonpath={.spec.podCIDR}"]) == "10.42.1.0/24");
}

#[test]
fn lost_node_goes_unknown_tainted_and_its_pods_are_evicted() {
    let s = Server::start_with(&["--node-monitor-grace-period", "5s"]);
    add_node(&s, "lost");
    add_node(&s, "alive");
    let hb = Heartbeat::start(&s, &["lost", "alive"]);
    // pods on the node that will be lost: one with the default 300 s tolerations, one tolerating
    // unreachable for 5 s, one for 0 s (not at all)
    s.ok_stdin(&["apply", "-f", "-"], &pod_yaml("stays", "lost", "app: a", ""));
    let tol = |secs: u32| {
        format!("  tolerations:\n  - key: node.kubernetes.io/unreachable\n    operator: Exists\n    effect: NoExecute\n    tolerationSeconds: {secs}\n")
    };
    s.ok_stdin(&["apply", "-f", "-"], &pod_yaml("five", "lost", "app: a", &tol(5)));
    s.ok_stdin(&["apply", "-f", "-"], &pod_yaml("zero", "lost", "app: a", &tol(0)));
    s.ok_stdin(&["apply", "-f", "-"], &pod_yaml("elsewhere", "alive", "app: a", ""));
    // DefaultTolerationSeconds admission gave the plain pod both 300 s tolerations
    let tols = get(&s, &["get", "pod", "stays", "-o", "jsonpath={range .spec.tolerations[*]}{.key}={.tolerationSeconds};{end}"]);
    assert_eq!(tols, "node.kubernetes.io/not-ready=300;node.kubernetes.io/unreachable=300;");
    for (p, ip) in [("stays", "10.42.0.10"), ("five", "10.42.0.11"), ("zero", "10.42.0.12"), ("elsewhere", "10.42.1.10")] {
        set_pod_status(&s, p, ip, true);
    }
    // while heartbeats flow the nodes stay Ready, untainted
    std::thread::sleep(Duration::from_secs(7));
    assert_eq!(get(&s, &["get", "node", "lost", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]), "True");
    assert_eq!(get(&s, &["get", "node", "lost", "-o", "jsonpath={.spec.taints}"]), "");
    // the node's heartbeat stops: only "alive" is renewed from now on
    drop(hb);
    let _hb = Heartbeat::start(&s, &["alive"]);
    let lost_at = Instant::now();
    wait_for(&s, Duration::from_secs(30), "Ready=Unknown", || {
        get(&s, &["get", "node", "lost", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]) == "Unknown"
    });
    let reason = get(&s, &["get", "node", "lost", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].reason}|{.status.conditions[?(@.type==\"Ready\")].message}"]);
    assert_eq!(reason, "NodeStatusUnknown|Kubelet stopped posting node status.");
    wait_for(&s, Duration::from_secs(20), "unreachable taints", || {
        let t = get(&s, &["get", "node", "lost", "-o", "jsonpath={range .spec.taints[*]}{.key}:{.effect} {end}"]);
        t.contains("node.kubernetes.io/unreachable:NoExecute") && t.contains("node.kubernetes.io/unreachable:NoSchedule")
    });
    // the pod not tolerating it goes at once, with the DisruptionTarget condition and an event
    wait_for(&s, Duration::from_secs(15), "zero evicted", || pod_gone_or_terminating(&s, "zero"));
    let cond = get(&s, &["get", "pod", "zero", "-o", "jsonpath={.status.conditions[?(@.type==\"DisruptionTarget\")].reason}"]);
    if !cond.is_empty() {
        assert_eq!(cond, "DeletionByTaintManager");
    }
    wait_for(&s, Duration::from_secs(15), "TaintManagerEviction event", || {
        get(&s, &["get", "events", "--field-selector", "involvedObject.name=zero,reason=TaintManagerEviction", "-o", "jsonpath={.items[*].message}"]).contains("Marking for deletion Pod default/zero")
    });
    // the 5 s pod goes about 5 s after the taint, not before
    let tainted = Instant::now();
    assert!(!pod_gone_or_terminating(&s, "five"), "five tolerates the taint for 5 s");
    wait_for(&s, Duration::from_secs(20), "five evicted", || pod_gone_or_terminating(&s, "five"));
    let waited = tainted.elapsed();
    assert!(waited >= Duration::from_secs(2), "five went after {waited:?}");
    // the 300 s pod stays but is not ready any more; the pod on the live node is untouched
    assert!(!pod_gone_or_terminating(&s, "stays"));
    wait_for(&s, Duration::from_secs(15), "stays not ready", || {
        get(&s, &["get", "pod", "stays", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]) == "False"
    });
    assert_eq!(get(&s, &["get", "pod", "elsewhere", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]), "True");
    assert!(!pod_gone_or_terminating(&s, "elsewhere"));
    assert_eq!(get(&s, &["get", "node", "alive", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]), "True");
    eprintln!("node lost to eviction of the 5 s pod: {:?}", lost_at.elapsed());
    // the kubelet comes back: Ready True again and the taints go
    let _back = Heartbeat::start(&s, &["lost"]);
    post_ready(&s, "lost");
    wait_for(&s, Duration::from_secs(20), "taints removed", || get(&s, &["get", "node", "lost", "-o", "jsonpath={.spec.taints}"]).is_empty());
}

#[test]
fn untolerated_noexecute_taint_evicts_and_not_ready_taints() {
    let s = Server::start();
    add_node(&s, "node-x");
    let _hb = Heartbeat::start(&s, &["node-x"]);
    s.ok_stdin(&["apply", "-f", "-"], &pod_yaml("victim", "node-x", "app: v", ""));
    s.ok_stdin(
        &["apply", "-f", "-"],
        &pod_yaml("tolerant", "node-x", "app: v", "  tolerations:\n  - key: dedicated\n    operator: Equal\n    value: x\n    effect: NoExecute\n"),
    );
    s.ok(&["taint", "node", "node-x", "dedicated=x:NoExecute"]);
    wait_for(&s, Duration::from_secs(15), "victim evicted", || pod_gone_or_terminating(&s, "victim"));
    std::thread::sleep(Duration::from_secs(2));
    assert!(!pod_gone_or_terminating(&s, "tolerant"));
    // the kubelet reports Ready=False: not-ready taints
    let t = now_rfc3339();
    let patch = format!(r#"{{"status":{{"conditions":[{{"type":"Ready","status":"False","reason":"KubeletNotReady","lastHeartbeatTime":"{t}","lastTransitionTime":"{t}"}}]}}}}"#);
    s.ok(&["patch", "node", "node-x", "--subresource=status", "--type=merge", "-p", &patch]);
    wait_for(&s, Duration::from_secs(20), "not-ready taints", || {
        let t = get(&s, &["get", "node", "node-x", "-o", "jsonpath={range .spec.taints[*]}{.key}:{.effect} {end}"]);
        t.contains("node.kubernetes.io/not-ready:NoExecute") && t.contains("node.kubernetes.io/not-ready:NoSchedule") && t.contains("dedicated:NoExecute")
    });
    // cordon: the unschedulable taint
    s.ok(&["cordon", "node-x"]);
    wait_for(&s, Duration::from_secs(20), "unschedulable taint", || get(&s, &["get", "node", "node-x", "-o", "jsonpath={.spec.taints[*].key}"]).contains("node.kubernetes.io/unschedulable"));
}

#[test]
fn endpoints_and_slices_follow_pod_readiness() {
    let s = Server::start();
    add_node(&s, "n1");
    s.ok_stdin(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels: {tier: front}\nspec:\n  selector: {app: web}\n  ports:\n  - name: http\n    port: 80\n    targetPort: http\n",
    );
    // no pods yet: empty endpoints and a placeholder slice
    wait_for(&s, Duration::from_secs(15), "endpoints object", || s.kubectl(&["get", "endpoints", "web"]).status.success());
    wait_for(&s, Duration::from_secs(15), "placeholder slice", || {
        get(&s, &["get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "jsonpath={.items[*].metadata.labels.endpointslice\\.kubernetes\\.io/managed-by}"]) == "endpointslice-controller.k8s.io"
    });
    s.ok_stdin(&["apply", "-f", "-"], &pod_yaml("web-1", "n1", "app: web", "  hostname: web-1\n  subdomain: web\n"));
    s.ok_stdin(&["apply", "-f", "-"], &pod_yaml("web-2", "n1", "app: web", ""));
    s.ok_stdin(&["apply", "-f", "-"], &pod_yaml("other", "n1", "app: other", ""));
    set_pod_status(&s, "web-1", "10.42.0.21", true);
    set_pod_status(&s, "web-2", "10.42.0.22", false);
    set_pod_status(&s, "other", "10.42.0.23", true);
    wait_for(&s, Duration::from_secs(15), "ready and not-ready addresses", || {
        get(&s, &["get", "endpoints", "web", "-o", "jsonpath={.subsets[0].addresses[*].ip}|{.subsets[0].notReadyAddresses[*].ip}|{.subsets[0].ports[0].port}"])
            == "10.42.0.21|10.42.0.22|8080"
    });
    let addr = get(&s, &["get", "endpoints", "web", "-o", "jsonpath={.subsets[0].addresses[0].hostname} {.subsets[0].addresses[0].nodeName} {.subsets[0].addresses[0].targetRef.kind}/{.subsets[0].addresses[0].targetRef.name}"]);
    assert_eq!(addr, "web-1 n1 Pod/web-1");
    assert_eq!(get(&s, &["get", "endpoints", "web", "-o", "jsonpath={.metadata.labels.tier}"]), "front");
    // the slice: both endpoints with their conditions, zone from the node, the service as owner
    let slice = || {
        get(&s, &[
            "get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o",
            "jsonpath={range .items[*]}{.addressType} {.ports[0].port} {range .endpoints[*]}{.addresses[0]}={.conditions.ready},{.conditions.serving},{.conditions.terminating},{.zone};{end}{end}",
        ])
    };
    wait_for(&s, Duration::from_secs(15), "slice endpoints", || slice() == "IPv4 8080 10.42.0.21=true,true,false,zone-a;10.42.0.22=false,false,false,zone-a;");
    assert_eq!(get(&s, &["get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "jsonpath={.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name}"]), "Service/web");
    // readiness flips
    set_pod_status(&s, "web-1", "10.42.0.21", false);
    set_pod_status(&s, "web-2", "10.42.0.22", true);
    wait_for(&s, Duration::from_secs(15), "flipped addresses", || {
        get(&s, &["get", "endpoints", "web", "-o", "jsonpath={.subsets[0].addresses[*].ip}|{.subsets[0].notReadyAddresses[*].ip}"]) == "10.42.0.22|10.42.0.21"
    });
    wait_for(&s, Duration::from_secs(15), "flipped slice", || slice() == "IPv4 8080 10.42.0.21=false,false,false,zone-a;10.42.0.22=true,true,false,zone-a;");
    // kubectl's own view
    let eps = s.ok(&["get", "endpoints", "web"]);
    assert!(eps.contains("10.42.0.22:8080"), "{eps}");
    // a service without a selector is left alone with its own endpoints
    s.ok_stdin(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: manual\nspec:\n  ports:\n  - port: 80\n---\napiVersion: v1\nkind: Endpoints\nmetadata:\n  name: manual\nsubsets:\n- addresses:\n  - ip: 192.0.2.1\n  ports:\n  - port: 80\n",
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(get(&s, &["get", "endpoints", "manual", "-o", "jsonpath={.subsets[0].addresses[0].ip}"]), "192.0.2.1");
    // (its slice is the mirroring controller's, not the EndpointSlice controller's)
    wait_for(&s, Duration::from_secs(15), "the mirrored slice", || {
        get(&s, &["get", "endpointslices", "-l", "kubernetes.io/service-name=manual", "-o", "jsonpath={.items[*].metadata.labels.endpointslice\\.kubernetes\\.io/managed-by}"])
            == "endpointslicemirroring-controller.k8s.io"
    });
    // deleting the service takes its endpoints and slices
    s.ok(&["delete", "service", "web"]);
    wait_for(&s, Duration::from_secs(15), "endpoints gone", || !s.kubectl(&["get", "endpoints", "web"]).status.success());
    wait_for(&s, Duration::from_secs(15), "slices gone", || get(&s, &["get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "name"]).is_empty());
}

#[test]
fn pdb_status_and_drain() {
    let s = Server::start();
    add_node(&s, "n1");
    let _hb = Heartbeat::start(&s, &["n1"]);
    for (i, ip) in [(1, "10.42.0.31"), (2, "10.42.0.32")] {
        s.ok_stdin(&["apply", "-f", "-"], &pod_yaml(&format!("db-{i}"), "n1", "app: db", ""));
        set_pod_status(&s, &format!("db-{i}"), ip, true);
    }
    s.ok_stdin(&["apply", "-f", "-"], "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: db\nspec:\n  minAvailable: 2\n  selector:\n    matchLabels: {app: db}\n");
    let status = || get(&s, &["get", "pdb", "db", "-o", "jsonpath={.status.expectedPods} {.status.desiredHealthy} {.status.currentHealthy} {.status.disruptionsAllowed} {.status.conditions[0].reason}"]);
    wait_for(&s, Duration::from_secs(15), "pdb status", || status() == "2 2 2 0 InsufficientPods");
    let table = s.ok(&["get", "pdb", "db"]);
    assert!(table.contains("ALLOWED DISRUPTIONS"), "{table}");
    let row: Vec<&str> = table.lines().nth(1).unwrap_or("").split_whitespace().collect();
    assert_eq!(&row[..4], &["db", "2", "N/A", "0"], "{table}");
    // drain cannot evict: the budget allows no disruption (429 from the eviction subresource)
    let out = s.kubectl(&["drain", "n1", "--ignore-daemonsets", "--force", "--grace-period=0", "--timeout=4s"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("disruption budget"), "{err}");
    assert!(!pod_gone_or_terminating(&s, "db-1") && !pod_gone_or_terminating(&s, "db-2"));
    // allow one disruption: the drain evicts one pod, then the budget stops it
    s.ok(&["patch", "pdb", "db", "--type=merge", "-p", r#"{"spec":{"minAvailable":1}}"#]);
    wait_for(&s, Duration::from_secs(15), "one disruption allowed", || status() == "2 1 2 1 SufficientPods");
    let out = s.kubectl(&["drain", "n1", "--ignore-daemonsets", "--force", "--grace-period=0", "--timeout=6s"]);
    assert!(!out.status.success(), "the second pod is protected");
    let gone = ["db-1", "db-2"].iter().filter(|p| pod_gone_or_terminating(&s, p)).count();
    assert_eq!(gone, 1, "exactly one pod evicted");
    wait_for(&s, Duration::from_secs(15), "status after the eviction", || {
        let st = status();
        st == "1 1 1 0 InsufficientPods" || st == "2 1 1 0 InsufficientPods"
    });
    // the node was cordoned by drain
    assert_eq!(get(&s, &["get", "node", "n1", "-o", "jsonpath={.spec.unschedulable}"]), "true");
}

#[test]
fn pdb_percent_and_max_unavailable_use_the_controllers_scale() {
    let s = Server::start();
    s.ok_stdin(
        &["apply", "-f", "-"],
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: rs\nspec:\n  replicas: 4\n  selector:\n    matchLabels: {app: rs}\n  template:\n    metadata:\n      labels: {app: rs}\n    spec:\n      containers:\n      - name: c\n        image: registry.k8s.io/pause:3.10\n",
    );
    let uid = get(&s, &["get", "rs", "rs", "-o", "jsonpath={.metadata.uid}"]);
    for i in 0..3 {
        let name = format!("rs-{i}");
        let yaml = format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels: {{app: rs, budget: x}}\n  ownerReferences:\n  - apiVersion: apps/v1\n    kind: ReplicaSet\n    name: rs\n    uid: {uid}\n    controller: true\nspec:\n  nodeName: n1\n  containers:\n  - name: c\n    image: registry.k8s.io/pause:3.10\n"
        );
        s.ok_stdin(&["apply", "-f", "-"], &yaml);
        set_pod_status(&s, &name, &format!("10.42.0.{}", 40 + i), true);
    }
    s.ok_stdin(
        &["apply", "-f", "-"],
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: max\nspec:\n  maxUnavailable: 1\n  selector:\n    matchLabels: {budget: x}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: pct\nspec:\n  minAvailable: \"50%\"\n  selector:\n    matchLabels: {budget: x}\n",
    );
    let status = |n: &str| get(&s, &["get", "pdb", n, "-o", "jsonpath={.status.expectedPods} {.status.desiredHealthy} {.status.currentHealthy} {.status.disruptionsAllowed}"]);
    // 4 wanted replicas (the ReplicaSet's scale), 3 healthy
    wait_for(&s, Duration::from_secs(15), "maxUnavailable", || status("max") == "4 3 3 0");
    wait_for(&s, Duration::from_secs(15), "50%", || status("pct") == "4 2 3 1");
    s.ok(&["scale", "rs", "rs", "--replicas=3"]);
    wait_for(&s, Duration::from_secs(15), "after scaling", || status("max") == "3 2 3 1");
    // a selected pod without a controller (not the ReplicaSet's either, so it is not adopted):
    // the budget cannot be computed
    s.ok_stdin(&["apply", "-f", "-"], &pod_yaml("orphan", "n1", "budget: x", ""));
    wait_for(&s, Duration::from_secs(15), "SyncFailed", || {
        get(&s, &["get", "pdb", "max", "-o", "jsonpath={.status.disruptionsAllowed} {.status.conditions[0].reason} {.status.conditions[0].message}"])
            == "0 SyncFailed found no controller ref for pod \"orphan\""
    });
}

#[test]
fn hpa_conditions_and_bounds() {
    let s = Server::start();
    s.ok_stdin(
        &["apply", "-f", "-"],
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: small\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: small}\n  template:\n    metadata:\n      labels: {app: small}\n    spec:\n      containers:\n      - name: c\n        image: registry.k8s.io/pause:3.10\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: mid\nspec:\n  replicas: 3\n  selector:\n    matchLabels: {app: mid}\n  template:\n    metadata:\n      labels: {app: mid}\n    spec:\n      containers:\n      - name: c\n        image: registry.k8s.io/pause:3.10\n",
    );
    s.ok(&["autoscale", "deployment", "small", "--min=2", "--max=4", "--cpu-percent=50"]);
    s.ok(&["autoscale", "deployment", "mid", "--min=1", "--max=5", "--cpu-percent=50"]);
    // below the minimum: scaled up through the scale subresource
    wait_for(&s, Duration::from_secs(20), "scaled to min", || get(&s, &["get", "deployment", "small", "-o", "jsonpath={.spec.replicas}"]) == "2");
    wait_for(&s, Duration::from_secs(20), "rescale event", || {
        s.ok(&["describe", "hpa", "small"]).contains("New size: 2; reason: Current number of replicas below Spec.MinReplicas")
    });
    // in range: no metrics API, so the HPA reports it cannot compute and does not scale
    wait_for(&s, Duration::from_secs(20), "ScalingActive False", || {
        let d = s.ok(&["describe", "hpa", "mid"]);
        d.contains("AbleToScale") && d.contains("SucceededGetScale") && d.contains("FailedGetResourceMetric") && d.contains("the HPA was unable to compute the replica count")
    });
    let d = s.ok(&["describe", "hpa", "mid"]);
    assert!(d.contains("ScalingActive"), "{d}");
    assert_eq!(get(&s, &["get", "deployment", "mid", "-o", "jsonpath={.spec.replicas}"]), "3");
    assert_eq!(get(&s, &["get", "hpa", "mid", "-o", "jsonpath={.status.currentReplicas}"]), "3");
    // a missing target
    s.ok_stdin(
        &["apply", "-f", "-"],
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: ghost\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: nothere}\n  minReplicas: 1\n  maxReplicas: 3\n",
    );
    wait_for(&s, Duration::from_secs(20), "FailedGetScale", || {
        get(&s, &["get", "hpa", "ghost", "-o", "jsonpath={.status.conditions[?(@.type==\"AbleToScale\")].reason}"]) == "FailedGetScale"
    });
}

/// With simulated nodes (`ferrokube sim`): pods get IPs from their node's podCIDR, the
/// endpoints list them; one node dies (its sim killed) and goes Unknown while the other stays
/// Ready; the dead node's pods become not ready (and leave the ready endpoints), the pod
/// tolerating unreachable for 5 s is evicted.
#[test]
fn simulated_node_loss_moves_endpoints_and_evicts() {
    let s = Server::start_with(&["--node-monitor-grace-period", "5s"]);
    let fast = ["--lease-interval-seconds", "1"];
    let mut a = s.sim(1, &["--name-prefix", "a-", fast[0], fast[1]]);
    let _b = s.sim(1, &["--name-prefix", "b-", fast[0], fast[1]]);
    wait_for(&s, Duration::from_secs(20), "podCIDRs", || {
        !get(&s, &["get", "node", "a-0", "-o", "jsonpath={.spec.podCIDR}"]).is_empty() && !get(&s, &["get", "node", "b-0", "-o", "jsonpath={.spec.podCIDR}"]).is_empty()
    });
    let a_cidr = get(&s, &["get", "node", "a-0", "-o", "jsonpath={.spec.podCIDR}"]);
    s.ok_stdin(&["apply", "-f", "-"], "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - port: 80\n    targetPort: 8080\n");
    s.ok_stdin(&["apply", "-f", "-"], &pod_yaml("web-a", "a-0", "app: web", ""));
    s.ok_stdin(&["apply", "-f", "-"], &pod_yaml("web-b", "b-0", "app: web", ""));
    s.ok_stdin(
        &["apply", "-f", "-"],
        &pod_yaml("quick", "a-0", "app: quick", "  tolerations:\n  - key: node.kubernetes.io/unreachable\n    operator: Exists\n    effect: NoExecute\n    tolerationSeconds: 5\n"),
    );
    wait_for(&s, Duration::from_secs(30), "two ready addresses", || {
        get(&s, &["get", "endpoints", "web", "-o", "jsonpath={.subsets[0].addresses[*].ip}"]).split(' ').filter(|x| !x.is_empty()).count() == 2
    });
    let ip_a = get(&s, &["get", "pod", "web-a", "-o", "jsonpath={.status.podIP}"]);
    let ip_b = get(&s, &["get", "pod", "web-b", "-o", "jsonpath={.status.podIP}"]);
    let prefix = a_cidr.rsplit_once('.').map(|(p, _)| format!("{p}.")).unwrap_or_default();
    assert!(ip_a.starts_with(&prefix), "pod IP {ip_a} from the node's podCIDR {a_cidr}");
    // the node a-0 dies
    a.kill();
    wait_for(&s, Duration::from_secs(30), "a-0 Unknown", || {
        get(&s, &["get", "node", "a-0", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].reason}"]) == "NodeStatusUnknown"
    });
    assert_eq!(get(&s, &["get", "node", "b-0", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]), "True");
    wait_for(&s, Duration::from_secs(20), "web-a leaves the ready addresses", || {
        get(&s, &["get", "endpoints", "web", "-o", "jsonpath={.subsets[*].addresses[*].ip}|{.subsets[*].notReadyAddresses[*].ip}"]) == format!("{ip_b}|{ip_a}")
    });
    wait_for(&s, Duration::from_secs(30), "quick evicted", || pod_gone_or_terminating(&s, "quick"));
    assert!(!pod_gone_or_terminating(&s, "web-a"), "web-a tolerates unreachable for 300 s");
    let kinds = s.ok(&["get", "events", "--field-selector", "involvedObject.name=web-a", "-o", "jsonpath={.items[*].reason}"]);
    assert!(kinds.contains("NodeNotReady"), "{kinds}");
}

/// A Deployment's pods on a lost node are evicted (after their 5 s toleration) and replaced on
/// the surviving node: the scheduler keeps away from the unreachable node's NoSchedule taint.
#[test]
fn deployment_pods_move_off_a_lost_node() {
    let s = Server::start_with(&["--node-monitor-grace-period", "5s"]);
    let fast = ["--lease-interval-seconds", "1"];
    let mut a = s.sim(1, &["--name-prefix", "a-", fast[0], fast[1]]);
    let _b = s.sim(1, &["--name-prefix", "b-", fast[0], fast[1]]);
    s.ok_stdin(
        &["apply", "-f", "-"],
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 4\n  selector:\n    matchLabels: {app: app}\n  template:\n    metadata:\n      labels: {app: app}\n    spec:\n      tolerations:\n      - key: node.kubernetes.io/unreachable\n        operator: Exists\n        effect: NoExecute\n        tolerationSeconds: 5\n      containers:\n      - name: c\n        image: registry.k8s.io/pause:3.10\n",
    );
    let running_on = |node: &str| {
        get(&s, &["get", "pods", "-l", "app=app", "--field-selector", &format!("spec.nodeName={node},status.phase=Running"), "-o", "jsonpath={range .items[?(@.metadata.deletionTimestamp)]}x{end}|{.items[*].metadata.name}"])
    };
    wait_for(&s, Duration::from_secs(60), "4 pods running", || {
        get(&s, &["get", "deployment", "app", "-o", "jsonpath={.status.readyReplicas}"]) == "4"
    });
    let on_a = running_on("a-0");
    assert!(!on_a.split('|').nth(1).unwrap_or("").is_empty(), "the scheduler spreads pods onto both nodes: {}", s.ok(&["get", "pods", "-o", "wide"]));
    a.kill();
    wait_for(&s, Duration::from_secs(30), "a-0 unreachable taint", || {
        get(&s, &["get", "node", "a-0", "-o", "jsonpath={.spec.taints[*].key}"]).contains("node.kubernetes.io/unreachable")
    });
    // 4 ready replicas again, all on b-0
    wait_for(&s, Duration::from_secs(60), "replacements on b-0", || {
        let names = get(&s, &["get", "pods", "-l", "app=app", "--field-selector", "spec.nodeName=b-0,status.phase=Running", "-o", "jsonpath={.items[*].metadata.name}"]);
        names.split(' ').filter(|x| !x.is_empty()).count() >= 4
    });
    let evicted = get(&s, &["get", "events", "--field-selector", "reason=TaintManagerEviction", "-o", "jsonpath={.items[*].message}"]);
    assert!(evicted.contains("Marking for deletion Pod default/app-"), "{evicted}");
}

/// The controller-manager's shared informers: one watch per kind however many controllers
/// subscribe; every subscriber gets every change, and one joining late first gets the objects
/// the informer holds (then `Synced`), as upstream's shared informers replay their cache.
#[test]
fn shared_informers_fan_out_on_one_watch() {
    use controllers::stores::{Change, Informers, Wake};
    use k8s_openapi::api::core::v1::{ConfigMap, Secret};
    use std::sync::Mutex;

    type Seen = Arc<Mutex<Vec<String>>>;
    fn recorder(seen: &Seen) -> impl Fn(Change<'_, ConfigMap>) + Send + 'static {
        let seen = seen.clone();
        move |c| {
            let entry = match c {
                Change::Apply(o) => format!("apply {}", o.metadata.name.as_deref().unwrap_or("")),
                Change::Delete(o) => format!("delete {}", o.metadata.name.as_deref().unwrap_or("")),
                Change::Synced => "synced".to_string(),
            };
            seen.lock().unwrap().push(entry);
        }
    }
    fn has(seen: &Seen, entry: &str) -> bool {
        seen.lock().unwrap().iter().any(|e| e == entry)
    }

    let s = Server::start();
    s.ok(&["create", "namespace", "inf"]);
    s.ok(&["create", "configmap", "one", "-n", "inf"]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let informers = rt.block_on(async { Informers::new(s.client().await) });
    let (first, late): (Seen, Seen) = Default::default();
    let store = rt.block_on(async {
        let store = informers.subscribe(recorder(&first));
        controllers::stores::ready(&store).await;
        store
    });
    wait_for(&s, Duration::from_secs(10), "the first subscriber's list", || has(&first, "apply one") && has(&first, "synced"));
    // a late subscriber: the informer's objects now, then its changes; no second watch
    let wake = Wake::new();
    let (late_store, woken) = rt.block_on(async {
        let late_store = informers.subscribe(recorder(&late));
        let woken = informers.watch::<ConfigMap>(&wake);
        (late_store, woken)
    });
    assert!(has(&late, "apply one") && has(&late, "synced"), "replayed to the late subscriber: {:?}", late.lock().unwrap());
    assert_eq!(informers.watches_started(), 1, "one watch for three subscribers");
    assert_eq!(woken.state().len(), late_store.state().len());
    s.ok(&["create", "configmap", "two", "-n", "inf"]);
    s.ok(&["delete", "configmap", "one", "-n", "inf"]);
    for seen in [&first, &late] {
        wait_for(&s, Duration::from_secs(10), "both subscribers see the changes", || has(seen, "apply two") && has(seen, "delete one"));
    }
    let t = Instant::now();
    rt.block_on(wake.wait(Duration::from_secs(10), Duration::ZERO));
    assert!(t.elapsed() < Duration::from_secs(5), "the Wake subscriber was woken");
    let names = |st: &kube::runtime::reflector::Store<ConfigMap>| {
        let mut v: Vec<String> = st.state().iter().filter(|c| c.metadata.namespace.as_deref() == Some("inf") && c.metadata.name.as_deref() != Some("kube-root-ca.crt")).filter_map(|c| c.metadata.name.clone()).collect();
        v.sort();
        v
    };
    assert_eq!(names(&store), vec!["two".to_string()], "one store, shared");
    assert_eq!(names(&late_store), vec!["two".to_string()]);
    // another kind is another watch; every task waiting for its first list is released
    let (a, b) = rt.block_on(async { (informers.watch::<Secret>(&wake), informers.watch::<Secret>(&Wake::new())) });
    assert_eq!(informers.watches_started(), 2);
    rt.block_on(async {
        let both = async { tokio::join!(controllers::stores::ready(&a), controllers::stores::ready(&b)) };
        tokio::time::timeout(Duration::from_secs(10), both).await.expect("both waiters see the first list");
    });
}
