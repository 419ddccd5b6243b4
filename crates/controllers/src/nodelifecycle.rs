//! Node lifecycle (upstream's nodelifecycle controller and its NoExecute taint manager, under the
//! `node-controller` identity).
//!
//! Every `--node-monitor-period` it looks at each node's heartbeat: the Ready condition's
//! `lastHeartbeatTime` and the node's Lease in `kube-node-lease`. A node whose heartbeat has not
//! moved for `--node-monitor-grace-period` (as seen by this controller's clock) gets its Ready,
//! MemoryPressure, DiskPressure and PIDPressure conditions set to Unknown
//! (`NodeStatusUnknown`, "Kubelet stopped posting node status."), its pods' Ready condition set to
//! False, and the `node.kubernetes.io/unreachable` taints. Ready=False brings the `not-ready`
//! taints, pressure conditions and `spec.unschedulable` their NoSchedule taints; taints go when
//! the node recovers.
//!
//! The taint manager deletes pods on nodes with NoExecute taints they do not tolerate at once,
//! and pods tolerating them for `tolerationSeconds` after that time, setting the
//! `DisruptionTarget` condition (`DeletionByTaintManager`) first and recording
//! `TaintManagerEviction`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, NodeCondition, Pod, Taint, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::reflector::{ObjectRef, Store};

use crate::stores::{self, Wake};

/// Taint key of a node whose Ready condition is False.
pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
/// Taint key of a node whose Ready condition is Unknown.
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// The conditions set to Unknown when the kubelet stops posting status.
const MONITORED: &[&str] = &["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];
/// Grace for a node that never posted a Ready condition (upstream's node-startup-grace-period).
const STARTUP_GRACE: Duration = Duration::from_secs(60);

/// Timing of the node monitor.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// `--node-monitor-period`.
    pub monitor_period: Duration,
    /// `--node-monitor-grace-period`.
    pub grace_period: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing { monitor_period: Duration::from_secs(5), grace_period: Duration::from_secs(40) }
    }
}

/// Whether `tol` tolerates `taint` (upstream's ToleratesTaint).
pub fn tolerates(tol: &Toleration, taint: &Taint) -> bool {
    if let Some(effect) = tol.effect.as_deref().filter(|e| !e.is_empty())
        && effect != taint.effect
    {
        return false;
    }
    let key = tol.key.as_deref().unwrap_or("");
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match tol.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        "Equal" | "" => {
            // an empty key with Equal matches nothing unless the key matched above
            !key.is_empty() && tol.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        _ => false,
    }
}

/// When a pod with `tolerations` must go from a node with the NoExecute `taints`: `None` never
/// (every taint tolerated without a time limit), `Some(ZERO)` now (a taint is not tolerated),
/// else after the shortest `tolerationSeconds` among the tolerations used.
pub fn eviction_delay(tolerations: &[Toleration], taints: &[Taint]) -> Option<Duration> {
    let mut used = Vec::new();
    for taint in taints.iter().filter(|t| t.effect == "NoExecute") {
        match tolerations.iter().find(|t| tolerates(t, taint)) {
            Some(t) => used.push(t),
            None => return Some(Duration::ZERO),
        }
    }
    let mut min: Option<i64> = None;
    for t in used {
        if let Some(s) = t.toleration_seconds {
            if s <= 0 {
                return Some(Duration::ZERO);
            }
            min = Some(min.map_or(s, |m| m.min(s)));
        }
    }
    min.map(|s| Duration::from_secs(s as u64))
}

fn condition<'a>(node: &'a Node, type_: &str) -> Option<&'a NodeCondition> {
    node.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == type_)
}

/// The conditions of a node whose kubelet stopped posting: each monitored condition Unknown
/// (added when missing). Returns None when nothing changes.
pub fn unknown_conditions(node: &Node, now: &Time) -> Option<Vec<NodeCondition>> {
    let mut conds: Vec<NodeCondition> = node.status.as_ref().and_then(|s| s.conditions.clone()).unwrap_or_default();
    let mut changed = false;
    for &t in MONITORED {
        match conds.iter_mut().find(|c| c.type_ == t) {
            None => {
                conds.push(NodeCondition {
                    type_: t.to_string(),
                    status: "Unknown".into(),
                    reason: Some("NodeStatusNeverUpdated".into()),
                    message: Some("Kubelet never posted node status.".into()),
                    last_heartbeat_time: node.metadata.creation_timestamp.clone(),
                    last_transition_time: Some(now.clone()),
                });
                changed = true;
            }
            Some(c) if c.status != "Unknown" => {
                c.status = "Unknown".into();
                c.reason = Some("NodeStatusUnknown".into());
                c.message = Some("Kubelet stopped posting node status.".into());
                c.last_transition_time = Some(now.clone());
                changed = true;
            }
            Some(_) => {}
        }
    }
    changed.then_some(conds)
}

/// The taints this controller keeps on a node given its conditions and spec: (key, effect).
pub fn wanted_taints(node: &Node) -> BTreeSet<(&'static str, &'static str)> {
    let mut out = BTreeSet::new();
    let status = |t: &str| condition(node, t).map(|c| c.status.as_str()).unwrap_or("");
    match status("Ready") {
        "False" => {
            out.insert((TAINT_NOT_READY, "NoExecute"));
            out.insert((TAINT_NOT_READY, "NoSchedule"));
        }
        "Unknown" => {
            out.insert((TAINT_UNREACHABLE, "NoExecute"));
            out.insert((TAINT_UNREACHABLE, "NoSchedule"));
        }
        _ => {}
    }
    for (cond, key) in [
        ("MemoryPressure", "node.kubernetes.io/memory-pressure"),
        ("DiskPressure", "node.kubernetes.io/disk-pressure"),
        ("PIDPressure", "node.kubernetes.io/pid-pressure"),
        ("NetworkUnavailable", "node.kubernetes.io/network-unavailable"),
    ] {
        if status(cond) == "True" {
            out.insert((key, "NoSchedule"));
        }
    }
    if node.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false) {
        out.insert(("node.kubernetes.io/unschedulable", "NoSchedule"));
    }
    out
}

fn managed(key: &str, effect: &str) -> bool {
    match effect {
        "NoExecute" => key == TAINT_NOT_READY || key == TAINT_UNREACHABLE,
        "NoSchedule" => matches!(
            key,
            TAINT_NOT_READY
                | TAINT_UNREACHABLE
                | "node.kubernetes.io/memory-pressure"
                | "node.kubernetes.io/disk-pressure"
                | "node.kubernetes.io/pid-pressure"
                | "node.kubernetes.io/network-unavailable"
                | "node.kubernetes.io/unschedulable"
        ),
        _ => false,
    }
}

/// The node's taints with the managed ones brought to `wanted`; None when nothing changes.
pub fn reconcile_taints(current: &[Taint], wanted: &BTreeSet<(&'static str, &'static str)>, now: &Time) -> Option<Vec<Taint>> {
    let mut out: Vec<Taint> = current.iter().filter(|t| !managed(&t.key, &t.effect) || wanted.contains(&(t.key.as_str(), t.effect.as_str()))).cloned().collect();
    for &(key, effect) in wanted {
        if !out.iter().any(|t| t.key == key && t.effect == effect) {
            out.push(Taint {
                key: key.to_string(),
                effect: effect.to_string(),
                value: None,
                time_added: (effect == "NoExecute").then(|| now.clone()),
            });
        }
    }
    (out.len() != current.len() || out.iter().zip(current).any(|(a, b)| a != b)).then_some(out)
}

/// What the monitor last saw of a node's heartbeat.
struct Health {
    probe: Instant,
    heartbeat: Option<Time>,
    lease: Option<String>,
}

struct Ctl {
    nodes_api: Api<Node>,
    client: kube::Client,
    rec: kube::runtime::events::Recorder,
    nodes: Store<Node>,
    pods: Store<Pod>,
    leases: Store<Lease>,
    timing: Timing,
    health: BTreeMap<String, Health>,
    /// pod uid → when the taint manager first saw it on a node with taints it tolerates for a while
    pending: BTreeMap<String, Instant>,
    /// nodes whose conditions or taints changed since the last pass
    dirty: Arc<Mutex<Dirty>>,
    /// the NoExecute taints of every node that has some (the taint manager's nodes)
    no_execute: BTreeMap<String, Vec<Taint>>,
    /// whether pod changes matter to the taint manager (some node has NoExecute taints or an
    /// eviction is pending): other pod updates do not wake this controller
    pods_matter: Arc<AtomicBool>,
}

/// Nodes changed since the last condition-taint pass.
#[derive(Default)]
struct Dirty {
    /// all of them (a list or re-list)
    all: bool,
    names: BTreeSet<String>,
}

/// What of a node the condition-taint pass and the taint manager read: its taints and the
/// taints its conditions ask for.
fn taint_inputs(node: &Node) -> (Vec<(&'static str, &'static str)>, Option<Vec<Taint>>) {
    (wanted_taints(node).into_iter().collect(), node.spec.as_ref().and_then(|s| s.taints.clone()))
}

fn no_execute_taints(node: &Node) -> Vec<Taint> {
    node.spec.as_ref().and_then(|s| s.taints.as_ref()).map(|ts| ts.iter().filter(|t| t.effect == "NoExecute").cloned().collect()).unwrap_or_default()
}

/// Runs the node lifecycle controller until the process ends.
pub async fn run(informers: stores::Informers, client: kube::Client, timing: Timing) {
    let wake = Wake::new();
    let dirty: Arc<Mutex<Dirty>> = Arc::new(Mutex::new(Dirty { all: true, names: BTreeSet::new() }));
    let (d, w) = (dirty.clone(), wake.clone());
    let nodes = informers.subscribe::<Node, _>(stores::on_change(taint_inputs, move |key| {
        let mut d = d.lock().unwrap_or_else(PoisonError::into_inner);
        match key {
            Some(k) => {
                d.names.insert(k.trim_start_matches('/').to_string());
            }
            None => d.all = true,
        }
        drop(d);
        w.wake();
    }));
    let pods_matter = Arc::new(AtomicBool::new(false));
    let (pm, w) = (pods_matter.clone(), wake.clone());
    let pods = informers.subscribe::<Pod, _>(move |_: stores::Change<'_, Pod>| {
        if pm.load(Ordering::Relaxed) {
            w.wake();
        }
    });
    // Leases are read at the monitor's period; their renewals wake nothing
    let leases = informers.watch_namespaced::<Lease>("kube-node-lease", &Wake::new());
    stores::ready(&nodes).await;
    stores::ready(&pods).await;
    stores::ready(&leases).await;
    let mut ctl = Ctl {
        nodes_api: Api::all(client.clone()),
        rec: stores::recorder(&client, "node-controller"),
        client,
        nodes,
        pods,
        leases,
        timing,
        health: BTreeMap::new(),
        pending: BTreeMap::new(),
        dirty,
        no_execute: BTreeMap::new(),
        pods_matter,
    };
    tracing::info!(monitor_period = ?timing.monitor_period, grace_period = ?timing.grace_period, "node lifecycle controller started");
    let mut next_monitor = Instant::now();
    loop {
        if Instant::now() >= next_monitor {
            ctl.monitor().await;
            next_monitor = Instant::now() + timing.monitor_period;
        }
        let retry = ctl.condition_taint_pass().await;
        let next_eviction = ctl.taint_pass().await;
        ctl.pods_matter.store(!ctl.no_execute.is_empty() || !ctl.pending.is_empty(), Ordering::Relaxed);
        let mut until = next_eviction.map_or(next_monitor, |e| e.min(next_monitor));
        if retry {
            until = until.min(Instant::now() + Duration::from_secs(1));
        }
        wake.wait(until.saturating_duration_since(Instant::now()), Duration::from_millis(10)).await;
    }
}

impl Ctl {
    fn pods_on(&self, node: &str) -> Vec<std::sync::Arc<Pod>> {
        self.pods.state().into_iter().filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node)).collect()
    }

    /// One pass of the node monitor over all nodes.
    async fn monitor(&mut self) {
        let nodes = self.nodes.state();
        let names: BTreeSet<String> = nodes.iter().filter_map(|n| n.metadata.name.clone()).collect();
        self.health.retain(|n, _| names.contains(n));
        for node in nodes {
            let Some(name) = node.metadata.name.clone() else { continue };
            if !self.health.contains_key(&name) {
                // upstream records every node it starts tracking (at start, all of them)
                stores::event(&self.rec, node.as_ref(), false, "RegisteredNode", format!("Node {name} event: Registered Node {name} in Controller")).await;
            }
            if let Err(e) = self.monitor_node(&name, &node).await {
                tracing::warn!(node = %name, error = %e, "node monitor");
            }
        }
    }

    async fn monitor_node(&mut self, name: &str, node: &Node) -> Result<(), kube::Error> {
        let now = Instant::now();
        let heartbeat = condition(node, "Ready").and_then(|c| c.last_heartbeat_time.clone());
        let lease = self
            .leases
            .get(&ObjectRef::new(name).within("kube-node-lease"))
            .and_then(|l| l.spec.as_ref().and_then(|s| s.renew_time.as_ref()).map(|t| t.0.to_string()));
        let h = self.health.entry(name.to_string()).or_insert_with(|| Health { probe: now, heartbeat: heartbeat.clone(), lease: lease.clone() });
        if h.heartbeat != heartbeat || h.lease != lease {
            h.probe = now;
            h.heartbeat = heartbeat;
            h.lease = lease;
        }
        let grace = if condition(node, "Ready").is_none() { STARTUP_GRACE.max(self.timing.grace_period) } else { self.timing.grace_period };
        let mut node = node.clone();
        let was_ready = condition(&node, "Ready").is_some_and(|c| c.status == "True");
        if now.duration_since(h.probe) > grace
            && let Some(conds) = unknown_conditions(&node, &stores::now())
        {
            let mut updated = node.clone();
            updated.status.get_or_insert_with(Default::default).conditions = Some(conds);
            node = self.nodes_api.replace_status(name, &PostParams::default(), &updated).await?;
            tracing::info!(node = %name, "node stopped posting status: conditions Unknown");
            if was_ready {
                stores::event(&self.rec, &node, false, "NodeNotReady", format!("Node {name} status is now: NodeNotReady")).await;
            }
        }
        let ready = condition(&node, "Ready").is_some_and(|c| c.status == "True");
        self.sync_taints(name, &node).await?;
        if !ready && condition(&node, "Ready").is_some() {
            self.mark_pods_not_ready(name).await;
        }
        Ok(())
    }

    /// Brings the node's condition taints to what its conditions say (a write only on a change).
    async fn sync_taints(&self, name: &str, node: &Node) -> Result<(), kube::Error> {
        let taints = node.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
        if let Some(new) = reconcile_taints(&taints, &wanted_taints(node), &stores::now()) {
            // no taints left: the field goes (a merge patch's null), as upstream leaves it unset
            let taints = if new.is_empty() { serde_json::Value::Null } else { serde_json::to_value(&new).unwrap_or_default() };
            let patch = serde_json::json!({
                "metadata": {"resourceVersion": node.metadata.resource_version},
                "spec": {"taints": taints},
            });
            self.nodes_api.patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await?;
        }
        Ok(())
    }

    /// Upstream taints nodes by condition as their updates arrive, not only at the monitor's
    /// period: a node that turns Ready (or gets its network) loses its taints at once. Only the
    /// nodes whose conditions or taints changed since the last pass are looked at (all of them
    /// after a list); their NoExecute taints are noted for the taint manager. Returns whether a
    /// write failed (to retry soon).
    async fn condition_taint_pass(&mut self) -> bool {
        let (all, names) = {
            let mut d = self.dirty.lock().unwrap_or_else(PoisonError::into_inner);
            (std::mem::take(&mut d.all), std::mem::take(&mut d.names))
        };
        let nodes: Vec<Arc<Node>> = if all {
            self.no_execute.clear();
            self.nodes.state()
        } else {
            for name in &names {
                self.no_execute.remove(name);
            }
            names.iter().filter_map(|n| self.nodes.get(&ObjectRef::new(n))).collect()
        };
        let mut retry = false;
        for node in nodes {
            let Some(name) = node.metadata.name.clone() else { continue };
            let ne = no_execute_taints(&node);
            if !ne.is_empty() {
                self.no_execute.insert(name.clone(), ne);
            }
            // nodes the monitor has not seen yet get their first taints from it
            if !self.health.contains_key(&name) {
                continue;
            }
            if let Err(e) = self.sync_taints(&name, &node).await
                && !matches!(&e, kube::Error::Api(s) if s.code == 409)
            {
                tracing::debug!(node = %name, error = %e, "tainting by condition");
                self.dirty.lock().unwrap_or_else(PoisonError::into_inner).names.insert(name);
                retry = true;
            }
        }
        retry
    }

    /// Sets the Ready condition of the node's pods to False (upstream's MarkPodsNotReady).
    async fn mark_pods_not_ready(&self, node: &str) {
        for pod in self.pods_on(node) {
            let Some(status) = pod.status.as_ref() else { continue };
            let Some(conds) = status.conditions.as_ref() else { continue };
            if !conds.iter().any(|c| c.type_ == "Ready" && c.status != "False") {
                continue;
            }
            let mut updated = (*pod).clone();
            if let Some(cs) = updated.status.as_mut().and_then(|s| s.conditions.as_mut()) {
                for c in cs.iter_mut().filter(|c| c.type_ == "Ready") {
                    c.status = "False".into();
                    c.last_transition_time = Some(stores::now());
                }
            }
            let ns = pod.metadata.namespace.clone().unwrap_or_default();
            let name = pod.metadata.name.clone().unwrap_or_default();
            let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
            match api.replace_status(&name, &PostParams::default(), &updated).await {
                Ok(_) => stores::event(&self.rec, pod.as_ref(), true, "NodeNotReady", "Node is not ready".into()).await,
                Err(e) => tracing::debug!(pod = %name, error = %e, "marking the pod not ready"),
            }
        }
    }

    /// The taint manager: deletes pods that must leave their NoExecute-tainted nodes; returns
    /// when the next pending eviction is due.
    async fn taint_pass(&mut self) -> Option<Instant> {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        let mut seen = BTreeSet::new();
        if self.no_execute.is_empty() && self.pending.is_empty() {
            return None;
        }
        let all_pods = self.pods.state();
        let mut by_node: BTreeMap<&str, Vec<&Arc<Pod>>> = BTreeMap::new();
        for p in &all_pods {
            if let Some(n) = p.spec.as_ref().and_then(|s| s.node_name.as_deref())
                && self.no_execute.contains_key(n)
            {
                by_node.entry(n).or_default().push(p);
            }
        }
        let tainted: Vec<(String, Vec<Taint>)> = self.no_execute.iter().map(|(n, t)| (n.clone(), t.clone())).collect();
        for (node_name, taints) in tainted {
            for pod in by_node.get(node_name.as_str()).cloned().unwrap_or_default() {
                if pod.metadata.deletion_timestamp.is_some() {
                    continue;
                }
                let uid = pod.metadata.uid.clone().unwrap_or_default();
                let tolerations = pod.spec.as_ref().and_then(|s| s.tolerations.clone()).unwrap_or_default();
                let Some(delay) = eviction_delay(&tolerations, &taints) else { continue };
                seen.insert(uid.clone());
                let since = *self.pending.entry(uid.clone()).or_insert(now);
                let due = since + delay;
                if due <= now {
                    self.evict(pod).await;
                } else {
                    next = Some(next.map_or(due, |n| n.min(due)));
                }
            }
        }
        let cancelled: Vec<String> = self.pending.keys().filter(|u| !seen.contains(*u)).cloned().collect();
        for uid in cancelled {
            self.pending.remove(&uid);
            if let Some(pod) = self.pods.state().into_iter().find(|p| p.metadata.uid.as_deref() == Some(uid.as_str()))
                && pod.metadata.deletion_timestamp.is_none()
            {
                let note = format!("Cancelling deletion of Pod {}", stores::key(pod.as_ref()));
                stores::event(&self.rec, pod.as_ref(), false, "TaintManagerEviction", note).await;
            }
        }
        next
    }

    async fn evict(&self, pod: &Pod) {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let has = pod.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|cs| cs.iter().any(|c| c.type_ == "DisruptionTarget" && c.status == "True"));
        if !has {
            let patch = serde_json::json!({"status": {"conditions": [{
                "type": "DisruptionTarget",
                "status": "True",
                "reason": "DeletionByTaintManager",
                "message": "Taint manager: deleting due to NoExecute taint",
                "lastTransitionTime": stores::now(),
            }]}});
            if let Err(e) = api.patch_status(&name, &PatchParams::default(), &Patch::Strategic(&patch)).await {
                if !stores::not_found(&e) {
                    tracing::debug!(pod = %name, error = %e, "setting DisruptionTarget");
                }
                return;
            }
        }
        stores::event(&self.rec, pod, false, "TaintManagerEviction", format!("Marking for deletion Pod {ns}/{name}")).await;
        let mut dp = DeleteParams::default();
        if let Some(uid) = pod.metadata.uid.clone() {
            dp.preconditions = Some(kube::api::Preconditions { uid: Some(uid), resource_version: None });
        }
        match api.delete(&name, &dp).await {
            Ok(_) => tracing::info!(pod = %format!("{ns}/{name}"), "taint manager evicted the pod"),
            Err(e) if stores::not_found(&e) || stores::conflict(&e) => {}
            Err(e) => tracing::warn!(pod = %name, error = %e, "taint manager eviction"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taint(key: &str, effect: &str) -> Taint {
        Taint { key: key.into(), effect: effect.into(), ..Default::default() }
    }

    fn tol(key: &str, op: &str, effect: &str, secs: Option<i64>) -> Toleration {
        Toleration {
            key: (!key.is_empty()).then(|| key.to_string()),
            operator: Some(op.into()),
            effect: (!effect.is_empty()).then(|| effect.to_string()),
            toleration_seconds: secs,
            value: None,
        }
    }

    #[test]
    fn toleration_matching() {
        let t = taint(TAINT_UNREACHABLE, "NoExecute");
        assert!(tolerates(&tol(TAINT_UNREACHABLE, "Exists", "NoExecute", None), &t));
        assert!(tolerates(&tol("", "Exists", "", None), &t), "empty key with Exists tolerates everything");
        assert!(!tolerates(&tol(TAINT_NOT_READY, "Exists", "NoExecute", None), &t));
        assert!(!tolerates(&tol(TAINT_UNREACHABLE, "Exists", "NoSchedule", None), &t));
        let mut v = taint("k", "NoExecute");
        v.value = Some("v".into());
        let mut eq = tol("k", "Equal", "", None);
        eq.value = Some("v".into());
        assert!(tolerates(&eq, &v));
        eq.value = Some("w".into());
        assert!(!tolerates(&eq, &v));
    }

    #[test]
    fn eviction_times() {
        let taints = vec![taint(TAINT_UNREACHABLE, "NoExecute"), taint("other", "NoSchedule")];
        assert_eq!(eviction_delay(&[], &taints), Some(Duration::ZERO), "no toleration: now");
        assert_eq!(eviction_delay(&[tol(TAINT_UNREACHABLE, "Exists", "NoExecute", Some(5))], &taints), Some(Duration::from_secs(5)));
        assert_eq!(eviction_delay(&[tol(TAINT_UNREACHABLE, "Exists", "NoExecute", None)], &taints), None, "forever");
        assert_eq!(eviction_delay(&[tol(TAINT_UNREACHABLE, "Exists", "NoExecute", Some(-3))], &taints), Some(Duration::ZERO));
        // both taints tolerated; the shortest time wins
        let two = vec![taint(TAINT_UNREACHABLE, "NoExecute"), taint(TAINT_NOT_READY, "NoExecute")];
        let tols = [tol(TAINT_NOT_READY, "Exists", "NoExecute", Some(300)), tol(TAINT_UNREACHABLE, "Exists", "NoExecute", Some(30))];
        assert_eq!(eviction_delay(&tols, &two), Some(Duration::from_secs(30)));
        // one taint not tolerated
        assert_eq!(eviction_delay(&tols[..1], &two), Some(Duration::ZERO));
        // NoSchedule taints alone never evict
        assert_eq!(eviction_delay(&[], &[taint("x", "NoSchedule")]), None);
    }

    fn node_with(ready: Option<&str>) -> Node {
        let mut n = Node::default();
        n.metadata.name = Some("n".into());
        if let Some(s) = ready {
            n.status = Some(k8s_openapi::api::core::v1::NodeStatus {
                conditions: Some(vec![NodeCondition { type_: "Ready".into(), status: s.into(), reason: Some("KubeletReady".into()), ..Default::default() }]),
                ..Default::default()
            });
        }
        n
    }

    #[test]
    fn conditions_go_unknown() {
        let now = stores::now();
        let conds = unknown_conditions(&node_with(Some("True")), &now).unwrap();
        let ready = conds.iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!((ready.status.as_str(), ready.reason.as_deref()), ("Unknown", Some("NodeStatusUnknown")));
        assert_eq!(ready.message.as_deref(), Some("Kubelet stopped posting node status."));
        let mem = conds.iter().find(|c| c.type_ == "MemoryPressure").unwrap();
        assert_eq!(mem.reason.as_deref(), Some("NodeStatusNeverUpdated"));
        let mut n = node_with(None);
        n.status = Some(k8s_openapi::api::core::v1::NodeStatus { conditions: Some(conds), ..Default::default() });
        assert!(unknown_conditions(&n, &now).is_none(), "already Unknown: no write");
    }

    #[test]
    fn taints_follow_conditions() {
        let now = stores::now();
        let unknown = wanted_taints(&node_with(Some("Unknown")));
        let added = reconcile_taints(&[taint("user", "NoExecute")], &unknown, &now).unwrap();
        let keys: Vec<(String, String)> = added.iter().map(|t| (t.key.clone(), t.effect.clone())).collect();
        assert!(keys.contains(&(TAINT_UNREACHABLE.into(), "NoExecute".into())));
        assert!(keys.contains(&(TAINT_UNREACHABLE.into(), "NoSchedule".into())));
        assert!(keys.contains(&("user".into(), "NoExecute".into())), "user taints stay");
        assert!(added.iter().find(|t| t.effect == "NoExecute" && t.key == TAINT_UNREACHABLE).unwrap().time_added.is_some());
        // recovered: the managed taints go, the user's stays
        let back = reconcile_taints(&added, &wanted_taints(&node_with(Some("True"))), &now).unwrap();
        assert_eq!(back.len(), 1);
        assert!(reconcile_taints(&back, &wanted_taints(&node_with(Some("True"))), &now).is_none());
        let nr = wanted_taints(&node_with(Some("False")));
        assert!(nr.contains(&(TAINT_NOT_READY, "NoExecute")) && nr.contains(&(TAINT_NOT_READY, "NoSchedule")));
    }
}
