//! The pod garbage collector (upstream's PodGC), every 20 seconds:
//! - terminated pods (Succeeded/Failed) beyond `--terminated-pod-gc-threshold` are deleted,
//!   oldest first;
//! - pods bound to a node that no longer exists are failed with the `DisruptionTarget`
//!   condition (reason `DeletionByPodGC`) and deleted, once the node has been missing for the
//!   40 s quarantine and a live read confirms it;
//! - terminating pods never scheduled are failed and deleted at once.
//!
//! It reads the controller-manager's shared pod and node stores once a period.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde_json::json;
use tokio::time::Instant;

use crate::appsutil;
use crate::stores;

/// How often the collector runs.
pub const PERIOD: Duration = Duration::from_secs(20);
/// How long a node must stay missing before its pods are collected.
pub const QUARANTINE: Duration = Duration::from_secs(40);
/// Upstream's default `--terminated-pod-gc-threshold`.
pub const DEFAULT_TERMINATED_THRESHOLD: usize = 12500;

/// What the collector keeps of a pod.
#[derive(Clone, Debug, PartialEq)]
pub struct PodSummary {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// `spec.nodeName` ("" when unscheduled).
    pub node: String,
    /// `status.phase`.
    pub phase: String,
    /// Whether it has a deletionTimestamp.
    pub terminating: bool,
    /// Creation time (ms since the epoch).
    pub created_ms: i64,
}

impl PodSummary {
    fn of(p: &Pod) -> PodSummary {
        let (namespace, name) = appsutil::key_of(&p.metadata);
        PodSummary {
            namespace,
            name,
            uid: p.metadata.uid.clone().unwrap_or_default(),
            node: p.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default(),
            phase: appsutil::pod_phase(p).to_string(),
            terminating: p.metadata.deletion_timestamp.is_some(),
            created_ms: p.metadata.creation_timestamp.as_ref().map(|t| t.0.as_millisecond()).unwrap_or(0),
        }
    }
    fn terminated(&self) -> bool {
        self.phase == "Succeeded" || self.phase == "Failed"
    }
}

/// The terminated pods to delete above `threshold`, oldest first.
pub fn terminated_to_delete(pods: &[PodSummary], threshold: usize) -> Vec<PodSummary> {
    if threshold == 0 {
        return Vec::new();
    }
    let mut t: Vec<PodSummary> = pods.iter().filter(|p| p.terminated()).cloned().collect();
    if t.len() <= threshold {
        return Vec::new();
    }
    t.sort_by(|a, b| (a.created_ms, &a.namespace, &a.name).cmp(&(b.created_ms, &b.namespace, &b.name)));
    let n = t.len() - threshold;
    t.truncate(n);
    t
}

/// Runs the collector with the given terminated-pod threshold (0 disables that part).
pub async fn run(informers: stores::Informers, client: kube::Client, terminated_threshold: usize) {
    // the shared pod and node stores, read once a period (no wake-ups)
    let pods = informers.subscribe::<Pod, _>(|_: stores::Change<'_, Pod>| {});
    let nodes = informers.subscribe::<Node, _>(|_: stores::Change<'_, Node>| {});
    stores::ready(&pods).await;
    stores::ready(&nodes).await;
    let mut missing_since: HashMap<String, Instant> = HashMap::new();
    loop {
        tokio::time::sleep(PERIOD).await;
        let snapshot: Vec<PodSummary> = pods.state().iter().map(|p| PodSummary::of(p)).collect();
        let known: HashSet<String> = nodes.state().iter().filter_map(|n| n.metadata.name.clone()).collect();
        // terminated beyond the threshold
        for p in terminated_to_delete(&snapshot, terminated_threshold) {
            delete(&client, &p, None).await;
        }
        // orphaned: bound to a node that is gone (after the quarantine, confirmed live)
        let orphan_nodes: HashSet<&str> = snapshot.iter().filter(|p| !p.node.is_empty() && !known.contains(&p.node)).map(|p| p.node.as_str()).collect();
        missing_since.retain(|n, _| orphan_nodes.contains(n.as_str()));
        let now = Instant::now();
        let mut gone: HashSet<&str> = HashSet::new();
        for n in orphan_nodes {
            let since = *missing_since.entry(n.to_string()).or_insert(now);
            if now.duration_since(since) < QUARANTINE {
                continue;
            }
            let api: Api<Node> = Api::all(client.clone());
            match api.get_metadata_opt(n).await {
                Ok(None) => {
                    gone.insert(n);
                }
                Ok(Some(_)) => {}
                Err(e) => tracing::debug!(node = n, error = %e, "podgc node check"),
            }
        }
        for p in snapshot.iter().filter(|p| gone.contains(p.node.as_str())) {
            tracing::info!(namespace = %p.namespace, pod = %p.name, node = %p.node, "deleting orphaned pod");
            delete(&client, p, Some(("DeletionByPodGC", "PodGC: node no longer exists"))).await;
        }
        // terminating and never scheduled
        for p in snapshot.iter().filter(|p| p.terminating && p.node.is_empty()) {
            delete(&client, p, Some(("", ""))).await;
        }
    }
}

/// Fails a non-terminal pod (with the DisruptionTarget condition when a reason is given), then
/// deletes it at once.
async fn delete(client: &kube::Client, p: &PodSummary, fail: Option<(&str, &str)>) {
    let api: Api<Pod> = Api::namespaced(client.clone(), &p.namespace);
    if let Some((reason, message)) = fail
        && !p.terminated()
    {
        let mut status = json!({"phase": "Failed"});
        if !reason.is_empty() {
            // a strategic merge patch merges conditions by type (the role allows only patch on
            // pods/status)
            let list = json!([{
                "type": "DisruptionTarget", "status": "True", "reason": reason, "message": message,
                "lastTransitionTime": jiff::Timestamp::now().to_string(),
            }]);
            status["conditions"] = list;
        }
        if let Err(e) = api.patch_status(&p.name, &PatchParams::default(), &Patch::Strategic(json!({"metadata": {"uid": p.uid}, "status": status}))).await {
            tracing::debug!(pod = %p.name, error = %e, "podgc could not fail the pod");
        }
    }
    let dp = DeleteParams { grace_period_seconds: Some(0), preconditions: Some(kube::api::Preconditions { uid: Some(p.uid.clone()), resource_version: None }), ..Default::default() };
    match api.delete(&p.name, &dp).await {
        Ok(_) => {}
        Err(e) if appsutil::api_code(&e) == Some(404) || appsutil::api_code(&e) == Some(409) => {}
        Err(e) => tracing::debug!(pod = %p.name, error = %e, "podgc delete"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: &str, phase: &str, created: i64) -> PodSummary {
        PodSummary { namespace: "ns".into(), name: name.into(), uid: name.into(), node: "n".into(), phase: phase.into(), terminating: false, created_ms: created }
    }

    #[test]
    fn only_oldest_terminated_beyond_threshold() {
        let pods = vec![s("a", "Succeeded", 3), s("b", "Failed", 1), s("c", "Running", 0), s("d", "Succeeded", 2)];
        let names: Vec<String> = terminated_to_delete(&pods, 1).into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["b", "d"]);
        assert!(terminated_to_delete(&pods, 3).is_empty());
        assert!(terminated_to_delete(&pods, 0).is_empty(), "0 disables");
    }
}
