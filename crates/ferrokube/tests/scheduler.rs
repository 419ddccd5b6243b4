//! kube-scheduler against a real `ferrokube server`, driven with kubectl: nodes are Node objects
//! created with kubectl (allocatable and a Ready condition set through the status
//! subresource; no kubelet), pods are created and the test observes where they are bound, the
//! `Scheduled` / `FailedScheduling` / `Preempted` events and the PodScheduled condition.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Server, eventually};

const WAIT: Duration = Duration::from_secs(30);

/// Registers a node with `cpu` CPUs, 8Gi, 110 pods, Ready, with labels and taints.
fn add_node(s: &Server, name: &str, cpu: &str, labels: Value, taints: Value) {
    let mut labels = labels;
    labels["kubernetes.io/hostname"] = json!(name);
    let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}, "spec": {"taints": taints}});
    s.ok_stdin(&["create", "-f", "-"], &node.to_string());
    let now = "2024-01-01T00:00:00Z";
    let resources = json!({"cpu": cpu, "memory": "8Gi", "pods": "110"});
    let status = json!({"status": {"capacity": resources, "allocatable": resources, "conditions": [
        {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status", "lastHeartbeatTime": now, "lastTransitionTime": now}]}});
    s.ok(&["patch", "node", name, "--subresource=status", "--type=merge", "-p", &status.to_string()]);
}

fn pod_json(name: &str, cpu: &str, extra_spec: Value, labels: Value) -> String {
    let mut spec = json!({"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10", "resources": {"requests": {"cpu": cpu}}}]});
    if let (Some(m), Some(e)) = (spec.as_object_mut(), extra_spec.as_object()) {
        for (k, v) in e {
            m.insert(k.clone(), v.clone());
        }
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels}, "spec": spec}).to_string()
}

fn create_pod(s: &Server, name: &str, cpu: &str, extra_spec: Value, labels: Value) {
    s.ok_stdin(&["create", "-f", "-"], &pod_json(name, cpu, extra_spec, labels));
}

fn node_of(s: &Server, pod: &str) -> String {
    s.ok(&["get", "pod", pod, "-o", "jsonpath={.spec.nodeName}"]).trim().to_string()
}

fn wait_bound(s: &Server, pod: &str) -> String {
    let mut node = String::new();
    eventually(WAIT, &format!("pod {pod} bound"), || {
        node = node_of(s, pod);
        !node.is_empty()
    });
    node
}

fn events(s: &Server, pod: &str, reason: &str) -> Vec<String> {
    let out = s.ok(&[
        "get",
        "events",
        "--field-selector",
        &format!("involvedObject.name={pod},reason={reason}"),
        "-o",
        "jsonpath={range .items[*]}{.message}{\"\\n\"}{end}",
    ]);
    out.lines().map(str::to_string).filter(|l| !l.is_empty()).collect()
}

fn condition(s: &Server, pod: &str) -> (String, String, String) {
    let out = s.ok(&["get", "pod", pod, "-o", "jsonpath={range .status.conditions[?(@.type==\"PodScheduled\")]}{.status}|{.reason}|{.message}{end}"]);
    let mut it = out.trim().splitn(3, '|').map(str::to_string);
    (it.next().unwrap_or_default(), it.next().unwrap_or_default(), it.next().unwrap_or_default())
}

#[test]
fn binds_pods_with_scheduled_event_and_condition() {
    let s = Server::start();
    add_node(&s, "n1", "4", json!({}), json!([]));
    add_node(&s, "n2", "4", json!({}), json!([]));
    create_pod(&s, "web", "100m", json!({}), json!({}));
    let node = wait_bound(&s, "web");
    assert!(node == "n1" || node == "n2", "{node}");
    eventually(WAIT, "Scheduled event", || events(&s, "web", "Scheduled").iter().any(|m| *m == format!("Successfully assigned default/web to {node}")));
    assert_eq!(condition(&s, "web").0, "True");
    // the event comes from the default-scheduler
    let from = s.ok(&["get", "events", "--field-selector", "reason=Scheduled", "-o", "jsonpath={.items[0].reportingComponent}"]);
    assert_eq!(from.trim(), "default-scheduler");
    // consecutive pods see each other's requests (assume-cache): 4 pods of 3 CPUs on two 4-CPU nodes
    for i in 0..3 {
        create_pod(&s, &format!("big{i}"), "3", json!({}), json!({}));
    }
    let a = wait_bound(&s, "big0");
    let b = wait_bound(&s, "big1");
    assert_ne!(a, b, "two 3-CPU pods on one 4-CPU node");
    eventually(WAIT, "big2 unschedulable", || condition(&s, "big2").1 == "Unschedulable");
    assert_eq!(node_of(&s, "big2"), "");
}

#[test]
fn insufficient_resources_and_taints_are_explained() {
    let s = Server::start();
    add_node(&s, "small", "1", json!({}), json!([]));
    add_node(&s, "tainted", "8", json!({}), json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]));
    create_pod(&s, "hungry", "2", json!({}), json!({}));
    let want = "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}. \
                preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling..";
    eventually(WAIT, "FailedScheduling event", || events(&s, "hungry", "FailedScheduling").iter().any(|m| m == want));
    eventually(WAIT, "PodScheduled=False", || condition(&s, "hungry") == ("False".into(), "Unschedulable".into(), want.into()));
    let describe = s.ok(&["describe", "pod", "hungry"]);
    assert!(describe.contains("FailedScheduling") && describe.contains("default-scheduler"), "{describe}");
    // a new node that fits moves the pod out of the unschedulable pool
    add_node(&s, "large", "4", json!({}), json!([]));
    assert_eq!(wait_bound(&s, "hungry"), "large");
}

#[test]
fn taints_and_tolerations() {
    let s = Server::start();
    add_node(&s, "gpu", "4", json!({}), json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]));
    create_pod(&s, "plain", "100m", json!({}), json!({}));
    create_pod(&s, "tolerant", "100m", json!({"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]}), json!({}));
    assert_eq!(wait_bound(&s, "tolerant"), "gpu");
    eventually(WAIT, "plain unschedulable", || {
        condition(&s, "plain").2
            == "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.."
    });
    assert_eq!(node_of(&s, "plain"), "");
    // a cordoned node takes only pods tolerating node.kubernetes.io/unschedulable
    add_node(&s, "cordoned", "4", json!({}), json!([]));
    s.ok(&["cordon", "cordoned"]);
    create_pod(&s, "evicted-tolerant", "100m", json!({"tolerations": [
        {"key": "dedicated", "operator": "Exists"}, {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]}), json!({}));
    wait_bound(&s, "evicted-tolerant");
    create_pod(&s, "plain2", "100m", json!({}), json!({}));
    eventually(WAIT, "plain2 explained", || condition(&s, "plain2").2.contains("1 node(s) were unschedulable"));
}

#[test]
fn required_anti_affinity_spreads_replicas_onto_distinct_nodes() {
    let s = Server::start();
    for n in ["a", "b", "c"] {
        add_node(&s, n, "4", json!({}), json!([]));
    }
    let anti = json!({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "db"}}}]}}});
    for i in 0..4 {
        create_pod(&s, &format!("db{i}"), "100m", anti.clone(), json!({"app": "db"}));
    }
    eventually(WAIT, "three db pods bound", || (0..4).filter(|i| !node_of(&s, &format!("db{i}")).is_empty()).count() == 3);
    let mut nodes: Vec<String> = (0..4).map(|i| node_of(&s, &format!("db{i}"))).filter(|n| !n.is_empty()).collect();
    nodes.sort();
    assert_eq!(nodes, vec!["a", "b", "c"]);
    let pending = (0..4).map(|i| format!("db{i}")).find(|p| node_of(&s, p).is_empty()).unwrap();
    eventually(WAIT, "anti-affinity explained", || condition(&s, &pending).2.starts_with("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."));
}

#[test]
fn topology_spread_over_three_zones() {
    let s = Server::start();
    for z in 0..3 {
        for i in 0..2 {
            add_node(&s, &format!("z{z}n{i}"), "8", json!({"topology.kubernetes.io/zone": format!("zone-{z}")}), json!([]));
        }
    }
    let spread = json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "spread"}}}]});
    for i in 0..7 {
        create_pod(&s, &format!("s{i}"), "100m", spread.clone(), json!({"app": "spread"}));
    }
    let mut per_zone = [0usize; 3];
    for i in 0..7 {
        let n = wait_bound(&s, &format!("s{i}"));
        let z: usize = n[1..2].parse().unwrap();
        per_zone[z] += 1;
    }
    per_zone.sort();
    assert_eq!(per_zone, [2, 2, 3]);
    // a zone-less node is never used for a pod constrained on zones
    add_node(&s, "nozone", "64", json!({}), json!([]));
    create_pod(&s, "s7", "100m", spread, json!({"app": "spread"}));
    let n = wait_bound(&s, "s7");
    assert_ne!(n, "nozone");
}

#[test]
fn high_priority_pod_preempts_a_low_priority_one() {
    let s = Server::start();
    s.ok_stdin(
        &["create", "-f", "-"],
        r#"{"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "low"}, "value": 100},
            {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "high"}, "value": 1000},
            {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "high-never"}, "value": 1000, "preemptionPolicy": "Never"}]}"#,
    );
    // the Priority admission plugin resolves classes
    let err = s.kubectl_stdin(&["create", "-f", "-"], Some(&pod_json("nope", "1m", json!({"priorityClassName": "nope"}), json!({}))));
    assert!(String::from_utf8_lossy(&err.stderr).contains("no PriorityClass with name nope was found"), "{err:?}");
    add_node(&s, "only", "1", json!({}), json!([]));
    create_pod(&s, "low", "800m", json!({"priorityClassName": "low"}), json!({}));
    assert_eq!(s.ok(&["get", "pod", "low", "-o", "jsonpath={.spec.priority}/{.spec.preemptionPolicy}"]), "100/PreemptLowerPriority");
    assert_eq!(wait_bound(&s, "low"), "only");
    // preemptionPolicy Never waits
    create_pod(&s, "polite", "800m", json!({"priorityClassName": "high-never"}), json!({}));
    eventually(WAIT, "polite explained", || {
        condition(&s, "polite").2 == "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.."
    });
    create_pod(&s, "important", "800m", json!({"priorityClassName": "high"}), json!({}));
    eventually(WAIT, "important nominated", || s.ok(&["get", "pod", "important", "-o", "jsonpath={.status.nominatedNodeName}"]).trim() == "only");
    eventually(WAIT, "victim terminating", || {
        let out = s.kubectl(&["get", "pod", "low", "-o", "jsonpath={.metadata.deletionTimestamp}"]);
        !out.status.success() || !String::from_utf8_lossy(&out.stdout).trim().is_empty()
    });
    eventually(WAIT, "Preempted event", || events(&s, "low", "Preempted").iter().any(|m| m.starts_with("Preempted by pod ") && m.ends_with(" on node only")));
    let target = s.kubectl(&["get", "pod", "low", "-o", "jsonpath={.status.conditions[?(@.type==\"DisruptionTarget\")].reason}"]);
    if target.status.success() {
        assert_eq!(String::from_utf8_lossy(&target.stdout).trim(), "PreemptionByScheduler");
    }
    // no kubelet here: finish the victim's termination as one would
    let _ = s.kubectl(&["delete", "pod", "low", "--grace-period=0", "--force"]);
    assert_eq!(wait_bound(&s, "important"), "only");
    assert_eq!(node_of(&s, "polite"), "");
}

#[test]
fn pods_for_another_scheduler_stay_pending() {
    let s = Server::start();
    add_node(&s, "n1", "4", json!({}), json!([]));
    create_pod(&s, "mine", "100m", json!({}), json!({}));
    create_pod(&s, "theirs", "100m", json!({"schedulerName": "other-scheduler"}), json!({}));
    wait_bound(&s, "mine");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(node_of(&s, "theirs"), "");
    assert_eq!(condition(&s, "theirs").1, "");
    assert!(events(&s, "theirs", "FailedScheduling").is_empty());
}

#[test]
fn node_selector_and_node_affinity() {
    let s = Server::start();
    add_node(&s, "ssd", "4", json!({"disk": "ssd"}), json!([]));
    add_node(&s, "hdd", "4", json!({"disk": "hdd"}), json!([]));
    create_pod(&s, "sel", "100m", json!({"nodeSelector": {"disk": "ssd"}}), json!({}));
    create_pod(&s, "aff", "100m", json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "disk", "operator": "NotIn", "values": ["ssd"]}]}]}}}}), json!({}));
    create_pod(&s, "pref", "100m", json!({"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 100, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["hdd"]}]}}]}}}), json!({}));
    create_pod(&s, "none", "100m", json!({"nodeSelector": {"disk": "nvme"}}), json!({}));
    assert_eq!(wait_bound(&s, "sel"), "ssd");
    assert_eq!(wait_bound(&s, "aff"), "hdd");
    assert_eq!(wait_bound(&s, "pref"), "hdd");
    eventually(WAIT, "none explained", || {
        condition(&s, "none").2
            == "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.."
    });
    // labelling a node (a node update) retries the pod
    s.ok(&["label", "node", "hdd", "disk=nvme", "--overwrite"]);
    assert_eq!(wait_bound(&s, "none"), "hdd");
}

fn phase(s: &Server, pod: &str) -> String {
    s.ok(&["get", "pod", pod, "-o", "jsonpath={.status.phase}"]).trim().to_string()
}

#[test]
fn simulated_nodes_run_what_is_scheduled_and_preemption_completes() {
    let s = Server::start();
    s.ok_stdin(
        &["create", "-f", "-"],
        r#"{"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "critical"}, "value": 1000000}"#,
    );
    let _sim = s.sim(3, &["--zones", "3", "--cpu", "1"]);
    let spread = json!({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "filler"}}}]});
    for i in 0..3 {
        create_pod(&s, &format!("filler{i}"), "700m", spread.clone(), json!({"app": "filler"}));
    }
    let mut nodes: Vec<String> = (0..3).map(|i| wait_bound(&s, &format!("filler{i}"))).collect();
    nodes.sort();
    nodes.dedup();
    assert_eq!(nodes.len(), 3, "one filler per zone");
    for i in 0..3 {
        eventually(WAIT, "filler running", || phase(&s, &format!("filler{i}")) == "Running");
    }
    // every node is full: the critical pod evicts one filler, the simulated kubelet finishes
    // the victim's termination, and the critical pod runs where it was nominated
    create_pod(&s, "critical", "700m", json!({"priorityClassName": "critical"}), json!({}));
    let mut nominated = String::new();
    eventually(WAIT, "critical nominated", || {
        nominated = s.ok(&["get", "pod", "critical", "-o", "jsonpath={.status.nominatedNodeName}"]).trim().to_string();
        !nominated.is_empty()
    });
    assert_eq!(wait_bound(&s, "critical"), nominated);
    eventually(WAIT, "critical running", || phase(&s, "critical") == "Running");
    let remaining = s.ok(&["get", "pods", "-l", "app=filler", "-o", "name"]);
    assert_eq!(remaining.lines().count(), 2, "{remaining}");
}

#[test]
fn local_volumes_steer_pods_to_their_nodes() {
    let s = Server::start();
    add_node(&s, "n1", "4", json!({}), json!([]));
    add_node(&s, "n2", "4", json!({}), json!([]));
    let pv = |name: &str, host: &str| {
        json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name}, "spec": {
            "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "local",
            "persistentVolumeReclaimPolicy": "Retain", "local": {"path": "/mnt/disk"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": [host]}]}]}}}})
    };
    let claim = |name: &str| {
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": {
            "accessModes": ["ReadWriteOnce"], "storageClassName": "local", "resources": {"requests": {"storage": "1Gi"}}}})
    };
    let items = json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "local"},
         "provisioner": "kubernetes.io/no-provisioner", "volumeBindingMode": "WaitForFirstConsumer"},
        pv("disk-n2", "n2"), claim("data"), claim("more")]});
    s.ok_stdin(&["create", "-f", "-"], &items.to_string());
    let vol = |claim: &str| json!({"volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": claim}}]});
    create_pod(&s, "db", "100m", vol("data"), json!({}));
    assert_eq!(wait_bound(&s, "db"), "n2");
    eventually(WAIT, "PV claimed", || s.ok(&["get", "pv", "disk-n2", "-o", "jsonpath={.spec.claimRef.name}"]).trim() == "data");
    // the only local PV is taken: the second claim finds none
    create_pod(&s, "db2", "100m", vol("more"), json!({}));
    eventually(WAIT, "db2 explained", || {
        condition(&s, "db2").2
            == "0/2 nodes are available: 2 node(s) didn't find available persistent volumes to bind. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.."
    });
    // a claim that does not exist
    create_pod(&s, "orphan", "100m", vol("missing"), json!({}));
    eventually(WAIT, "orphan explained", || {
        condition(&s, "orphan").2
            == "0/2 nodes are available: persistentvolumeclaim \"missing\" not found. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.."
    });
}
