//! Eviction under node pressure: when `memory.available`, `nodefs.available` or `pid.available`
//! crosses its hard threshold (`--eviction-hard`), the kubelet evicts one pod per pass, in
//! upstream's order — pods whose usage exceeds their requests first (BestEffort pods request
//! nothing), then lower priority, then larger usage — and reports it as upstream does: phase
//! Failed, reason `Evicted`, a `DisruptionTarget` condition and an `Evicted` event. The pod
//! worker then stops its containers at once (hard eviction has no grace period).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};

use crate::{Kubelet, cgroups, node, quantity};

/// Which resource is short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// memory.available
    Memory,
    /// nodefs.available
    Disk,
    /// pid.available
    Pid,
}

impl Signal {
    fn resource(self) -> &'static str {
        match self {
            Signal::Memory => "memory",
            Signal::Disk => "ephemeral-storage",
            Signal::Pid => "pids",
        }
    }
}

/// The signal under pressure now, if any (memory first, as upstream ranks them).
pub fn pressure(m: &node::Measure, t: &node::Thresholds) -> Option<Signal> {
    let p = node::pressures(m, t);
    if p[0].1 {
        Some(Signal::Memory)
    } else if p[1].1 {
        Some(Signal::Disk)
    } else if p[2].1 {
        Some(Signal::Pid)
    } else {
        None
    }
}

/// One candidate: a pod with its usage of the short resource.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The pod.
    pub pod: Arc<Pod>,
    /// Bytes (memory, disk) or processes in use.
    pub usage: u64,
}

fn requests(pod: &Pod, resource: &str) -> u64 {
    pod.spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .filter_map(|c| c.resources.as_ref()?.requests.as_ref()?.get(resource).and_then(|q| quantity::parse(&q.0)))
        .sum::<f64>() as u64
}

/// Upstream's ranking: exceeding requests first, then lower priority, then more usage above
/// requests. The first is evicted.
pub fn rank(mut c: Vec<Candidate>, signal: Signal) -> Vec<Candidate> {
    let key = |x: &Candidate| {
        let req = requests(&x.pod, signal.resource());
        let exceeds = x.usage > req || cgroups::qos(&x.pod) == cgroups::Qos::BestEffort;
        let priority = x.pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0);
        (!exceeds, priority, std::cmp::Reverse(x.usage.saturating_sub(req)))
    };
    c.sort_by_key(key);
    c
}

/// The upstream message of an eviction.
pub fn message(signal: Signal, t: &node::Thresholds, m: &node::Measure, victim: &Candidate) -> String {
    let (threshold, available) = match signal {
        Signal::Memory => (format!("{}Ki", t.memory_available / 1024), format!("{}Ki", m.memory_available / 1024)),
        Signal::Disk => (format!("{}%", t.nodefs_percent), format!("{}Ki", m.fs_available / 1024)),
        Signal::Pid => (format!("{}%", t.pid_percent), (m.pid_max.saturating_sub(m.pids_used)).to_string()),
    };
    let mut msg = format!("The node was low on resource: {}. Threshold quantity: {threshold}, available: {available}. ", signal.resource());
    if signal == Signal::Memory {
        let req = requests(&victim.pod, "memory");
        msg.push_str(&format!("Pod was using {}Ki, request is {req}, has larger consumption of memory. ", victim.usage / 1024));
    }
    msg
}

async fn memory_usage(k: &Kubelet) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    let Some(rt) = k.runtime.clone() else { return out };
    let mut r = rt.runtime.clone();
    if let Ok(stats) = r.list_container_stats(cri::api::ListContainerStatsRequest { filter: None }).await {
        for s in stats.into_inner().stats {
            let uid = s.attributes.as_ref().and_then(|a| a.labels.get(crate::pods::spec::LABEL_POD_UID).cloned()).unwrap_or_default();
            let ws = s.memory.and_then(|m| m.working_set_bytes).map(|v| v.value).unwrap_or(0);
            *out.entry(uid).or_insert(0) += ws;
        }
    }
    out
}

/// Watches for pressure every 10 s and evicts one pod per pass while it lasts.
pub async fn run(k: Arc<Kubelet>) {
    let api: Api<Pod> = Api::all(k.client.clone());
    loop {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let m = node::measure(&k.config.agent_dir);
        let Some(signal) = pressure(&m, &k.config.eviction_hard) else { continue };
        let Ok(list) = api.list(&ListParams::default().fields(&format!("spec.nodeName={}", k.config.node_name))).await else { continue };
        let usage = memory_usage(&k).await;
        let evicted = k.evictions.lock().clone();
        let candidates: Vec<Candidate> = list
            .items
            .into_iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .filter(|p| !matches!(p.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed")))
            // static and critical system pods are not evicted by a node under pressure
            .filter(|p| p.spec.as_ref().and_then(|s| s.priority).unwrap_or(0) < 2_000_000_000)
            .filter(|p| !evicted.contains_key(p.metadata.uid.as_deref().unwrap_or("")))
            .map(|p| {
                let uid = p.metadata.uid.clone().unwrap_or_default();
                Candidate { usage: usage.get(&uid).copied().unwrap_or(0), pod: Arc::new(p) }
            })
            .collect();
        let Some(victim) = rank(candidates, signal).into_iter().next() else { continue };
        let msg = message(signal, &k.config.eviction_hard, &m, &victim);
        let uid = victim.pod.metadata.uid.clone().unwrap_or_default();
        tracing::warn!(pod = ?victim.pod.metadata.name, namespace = ?victim.pod.metadata.namespace, signal = ?signal, "evicting a pod: the node is under pressure");
        k.event(&victim.pod, "Warning", "Evicted", &msg);
        // the pod's worker acts on it at its next sync (within 10 s)
        k.evictions.lock().insert(uid, msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, memory_request: Option<&str>, priority: i32) -> Arc<Pod> {
        let res = match memory_request {
            Some(r) => serde_json::json!({"requests": {"memory": r}}),
            None => serde_json::json!({}),
        };
        Arc::new(serde_json::from_value(serde_json::json!({"metadata": {"name": name, "uid": name},
            "spec": {"priority": priority, "containers": [{"name": "c", "resources": res}]}})).unwrap())
    }

    #[test]
    fn best_effort_and_over_request_go_first_then_priority_then_usage() {
        let c = vec![
            Candidate { pod: pod("guaranteed-ish", Some("100Mi"), 0), usage: 50 << 20 },
            Candidate { pod: pod("besteffort-small", None, 0), usage: 1 << 20 },
            Candidate { pod: pod("besteffort-big", None, 0), usage: 80 << 20 },
            Candidate { pod: pod("important", None, 1000), usage: 500 << 20 },
        ];
        let order: Vec<String> = rank(c, Signal::Memory).iter().map(|x| x.pod.metadata.name.clone().unwrap()).collect();
        assert_eq!(order, vec!["besteffort-big", "besteffort-small", "important", "guaranteed-ish"]);
    }

    #[test]
    fn the_message_names_the_resource_and_threshold() {
        let t = node::Thresholds::default();
        let m = node::Measure { memory_available: 50 << 20, ..Default::default() };
        let v = Candidate { pod: pod("p", None, 0), usage: 10 << 20 };
        let msg = message(Signal::Memory, &t, &m, &v);
        assert!(msg.starts_with("The node was low on resource: memory. Threshold quantity: 102400Ki, available: 51200Ki."), "{msg}");
        assert_eq!(pressure(&m, &t), Some(Signal::Memory));
    }
}
