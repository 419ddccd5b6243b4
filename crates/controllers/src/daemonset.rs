//! The daemonset controller: one pod per eligible node. A node is eligible when it matches the
//! template's nodeSelector and required node affinity and its NoSchedule/NoExecute taints are
//! tolerated (a pod already there stays while its NoExecute taints are tolerated). Daemon pods
//! get upstream's automatic tolerations and, as in 1.32, a required node affinity on
//! `metadata.name` for their node, so the default scheduler places them. Template history
//! lives in ControllerRevisions (pods carry `controller-revision-hash`); RollingUpdate
//! replaces pods within `maxUnavailable` / `maxSurge`; OnDelete waits for the user.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::{Affinity, Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, PodSpec, Taint, Toleration};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, ListParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{EventType, Recorder, Reporter};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::ResourceExt;
use serde_json::{Value, json};

use crate::job::{controlled_by, controller_ref, delete_pod, object_ref, pod_available, pod_phase, publish, selector_query};
use crate::statefulset::{REVISION_LABEL, ensure_revision, trim_history};
use crate::{Error, Result};

/// The deprecated pod label with the DaemonSet's generation.
pub const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";
const CONTROLLER_NAME: &str = "daemonset-controller";

// ---------------------------------------------------------------------------------------------
// pure logic

/// The tolerations every daemon pod gets (network-unavailable only with host networking).
pub fn daemon_tolerations(host_network: bool) -> Vec<Toleration> {
    let t = |key: &str, effect: &str| Toleration { key: Some(key.into()), operator: Some("Exists".into()), effect: Some(effect.into()), value: None, toleration_seconds: None };
    let mut v = vec![
        t("node.kubernetes.io/not-ready", "NoExecute"),
        t("node.kubernetes.io/unreachable", "NoExecute"),
        t("node.kubernetes.io/disk-pressure", "NoSchedule"),
        t("node.kubernetes.io/memory-pressure", "NoSchedule"),
        t("node.kubernetes.io/pid-pressure", "NoSchedule"),
        t("node.kubernetes.io/unschedulable", "NoSchedule"),
    ];
    if host_network {
        v.push(t("node.kubernetes.io/network-unavailable", "NoSchedule"));
    }
    v
}

/// Adds the daemon tolerations a pod spec lacks.
pub fn add_daemon_tolerations(spec: &mut PodSpec) {
    let host_network = spec.host_network == Some(true);
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    for t in daemon_tolerations(host_network) {
        if !tolerations.iter().any(|e| e.key == t.key && e.effect == t.effect) {
            tolerations.push(t);
        }
    }
}

fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if t.effect.as_deref().is_some_and(|e| !e.is_empty() && e != taint.effect) {
        return false;
    }
    match t.operator.as_deref().unwrap_or("Equal") {
        "Exists" => t.key.as_deref().is_none_or(|k| k.is_empty() || k == taint.key),
        _ => t.key.as_deref() == Some(taint.key.as_str()) && t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
    }
}

fn requirement_matches(r: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = r.values.clone().unwrap_or_default();
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(bound)) = (value.and_then(|v| v.parse::<i64>().ok()), values.first().and_then(|b| b.parse::<i64>().ok())) else { return false };
            if r.operator == "Gt" { v > bound } else { v < bound }
        }
        _ => false,
    }
}

fn term_matches(term: &NodeSelectorTerm, node: &Node) -> bool {
    let labels = node.labels();
    let exprs = term.match_expressions.clone().unwrap_or_default();
    let fields = term.match_fields.clone().unwrap_or_default();
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    exprs.iter().all(|r| requirement_matches(r, labels.get(&r.key).map(String::as_str)))
        && fields.iter().all(|r| r.key == "metadata.name" && requirement_matches(r, node.metadata.name.as_deref()))
}

/// Whether the node fits the pod's nodeName, nodeSelector and required node affinity.
pub fn node_matches(spec: &PodSpec, node: &Node) -> bool {
    let node_name = node.metadata.name.clone().unwrap_or_default();
    if spec.node_name.as_ref().is_some_and(|n| !n.is_empty() && *n != node_name) {
        return false;
    }
    let labels = node.labels();
    if spec.node_selector.iter().flatten().any(|(k, v)| labels.get(k) != Some(v)) {
        return false;
    }
    if let Some(sel) = spec.affinity.as_ref().and_then(|a| a.node_affinity.as_ref()).and_then(|n| n.required_during_scheduling_ignored_during_execution.as_ref())
        && !sel.node_selector_terms.iter().any(|t| term_matches(t, node))
    {
        return false;
    }
    true
}

/// Upstream's `(shouldRun, shouldContinueRunning)` for a daemon pod spec (with the automatic
/// tolerations) on `node`.
pub fn should_run(spec: &PodSpec, node: &Node) -> (bool, bool) {
    if !node_matches(spec, node) {
        return (false, false);
    }
    let mut spec = spec.clone();
    add_daemon_tolerations(&mut spec);
    let tolerations = spec.tolerations.unwrap_or_default();
    let taints = node.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
    let untolerated = |effects: &[&str]| taints.iter().filter(|t| effects.contains(&t.effect.as_str())).any(|t| !tolerations.iter().any(|tol| tolerates(tol, t)));
    if untolerated(&["NoSchedule", "NoExecute"]) {
        return (false, !untolerated(&["NoExecute"]));
    }
    (true, true)
}

/// The node a daemon pod is for: its `nodeName`, else the `metadata.name` node affinity.
pub fn target_node(pod: &Pod) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    if let Some(n) = spec.node_name.as_ref().filter(|n| !n.is_empty()) {
        return Some(n.clone());
    }
    let terms = &spec.affinity.as_ref()?.node_affinity.as_ref()?.required_during_scheduling_ignored_during_execution.as_ref()?.node_selector_terms;
    terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find(|r| r.key == "metadata.name" && r.operator == "In")
        .and_then(|r| r.values.as_ref()?.first().cloned())
}

/// Replaces the required node affinity with one that selects exactly `node`.
pub fn pin_to_node(spec: &mut PodSpec, node: &str) {
    let term = NodeSelectorTerm {
        match_expressions: None,
        match_fields: Some(vec![NodeSelectorRequirement { key: "metadata.name".into(), operator: "In".into(), values: Some(vec![node.into()]) }]),
    };
    let affinity = spec.affinity.get_or_insert_with(Affinity::default);
    let na = affinity.node_affinity.get_or_insert_with(NodeAffinity::default);
    na.required_during_scheduling_ignored_during_execution = Some(NodeSelector { node_selector_terms: vec![term] });
}

/// An int-or-percent against `total` (percentages round up, as upstream's for these fields).
pub fn scaled_value(v: Option<&IntOrString>, total: i32, default: i32) -> i32 {
    match v {
        None => default,
        Some(IntOrString::Int(i)) => *i,
        Some(IntOrString::String(s)) => match s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) {
            Some(p) => i32::try_from((p * i64::from(total) + 99) / 100).unwrap_or(default),
            None => s.parse().unwrap_or(default),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// the controller

struct Ctx {
    client: kube::Client,
    recorder: Recorder,
}

/// Runs the controller until the stream ends.
pub async fn run(client: kube::Client) {
    let sets: Api<DaemonSet> = Api::all(client.clone());
    let pods: Api<Pod> = Api::all(client.clone());
    let nodes: Api<Node> = Api::all(client.clone());
    let revisions: Api<ControllerRevision> = Api::all(client.clone());
    let recorder = Recorder::new(client.clone(), Reporter { controller: CONTROLLER_NAME.into(), instance: None });
    let controller = Controller::new(sets, watcher::Config::default());
    let store = controller.store();
    controller
        .owns(pods, watcher::Config::default())
        .owns(revisions, watcher::Config::default())
        .watches(nodes, watcher::Config::default(), move |_node: Node| store.state().into_iter().map(|ds| ObjectRef::from_obj(ds.as_ref())).collect::<Vec<_>>())
        .run(reconcile, crate::retry_after, Arc::new(Ctx { client, recorder }))
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "daemonset reconcile");
            }
        })
        .await;
}


fn hash_of(pod: &Pod) -> String {
    pod.labels().get(REVISION_LABEL).cloned().unwrap_or_default()
}

fn new_pod(ds: &DaemonSet, hash: &str, node: &str) -> Result<Pod> {
    let spec = ds.spec.clone().unwrap_or_default();
    let mut pod: Pod = serde_json::from_value(json!({
        "metadata": serde_json::to_value(spec.template.metadata.clone().unwrap_or_default()).unwrap_or(json!({})),
        "spec": serde_json::to_value(spec.template.spec.clone().unwrap_or_default()).unwrap_or(json!({})),
    }))
    .map_err(|e| Error::Pending(format!("daemonset template: {e}")))?;
    pod.metadata.name = None;
    pod.metadata.generate_name = Some(format!("{}-", ds.name_any()));
    pod.metadata.namespace = ds.metadata.namespace.clone();
    pod.metadata.owner_references = Some(vec![controller_ref(ds)]);
    let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
    labels.insert(REVISION_LABEL.into(), hash.into());
    if let Some(g) = ds.metadata.generation {
        labels.insert(TEMPLATE_GENERATION_LABEL.into(), g.to_string());
    }
    let pod_spec = pod.spec.get_or_insert_with(Default::default);
    add_daemon_tolerations(pod_spec);
    pin_to_node(pod_spec, node);
    Ok(pod)
}

async fn create_on(ctx: &Ctx, ds: &DaemonSet, api: &Api<Pod>, hash: &str, node: &str) -> Result<()> {
    let pod = new_pod(ds, hash, node)?;
    let ds_ref = object_ref(ds);
    match api.create(&PostParams::default(), &pod).await {
        Ok(created) => {
            publish(&ctx.recorder, &ds_ref, EventType::Normal, "SuccessfulCreate", format!("Created pod: {}", created.name_any()), Some(object_ref(&created))).await;
            Ok(())
        }
        Err(kube::Error::Api(e)) => {
            publish(&ctx.recorder, &ds_ref, EventType::Warning, "FailedCreate", format!("Error creating: {}", e.message), None).await;
            Err(kube::Error::Api(e).into())
        }
        Err(e) => Err(e.into()),
    }
}

async fn delete(ctx: &Ctx, ds: &DaemonSet, api: &Api<Pod>, pod: &Pod) -> Result<()> {
    if pod.metadata.deletion_timestamp.is_some() {
        return Ok(());
    }
    if delete_pod(api, &pod.name_any()).await? {
        publish(&ctx.recorder, &object_ref(ds), EventType::Normal, "SuccessfulDelete", format!("Deleted pod: {}", pod.name_any()), Some(object_ref(pod))).await;
    }
    Ok(())
}

async fn reconcile(ds: Arc<DaemonSet>, ctx: Arc<Ctx>) -> Result<Action> {
    if ds.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let ns = ds.namespace().unwrap_or_default();
    let name = ds.name_any();
    let uid = ds.uid().unwrap_or_default();
    let spec = ds.spec.clone().unwrap_or_default();
    let Some(selector) = selector_query(&spec.selector) else { return Ok(Action::await_change()) };
    let pods_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let rev_api: Api<ControllerRevision> = Api::namespaced(ctx.client.clone(), &ns);
    let sets: Api<DaemonSet> = Api::namespaced(ctx.client.clone(), &ns);
    let nodes_api: Api<Node> = Api::all(ctx.client.clone());
    let now = Timestamp::now();
    let min_ready = spec.min_ready_seconds.unwrap_or(0);

    let nodes = nodes_api.list(&ListParams::default()).await?.items;
    let pods: Vec<Pod> = pods_api.list(&ListParams::default().labels(&selector)).await?.items.into_iter().filter(|p| controlled_by(&p.metadata, &uid)).collect();
    let revisions: Vec<ControllerRevision> =
        rev_api.list(&ListParams::default().labels(&selector)).await?.items.into_iter().filter(|r| controlled_by(&r.metadata, &uid)).collect();

    let status = ds.status.clone().unwrap_or_default();
    let template = serde_json::to_value(&spec.template).unwrap_or(Value::Null);
    let labels = spec.template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
    let (rev, collisions) = ensure_revision(&rev_api, ds.as_ref(), labels, &template, &revisions, status.collision_count.unwrap_or(0)).await?;
    let hash = rev.labels().get(crate::statefulset::HASH_LABEL).cloned().unwrap_or_else(|| rev.name_any().trim_start_matches(&format!("{name}-")).to_string());

    let pod_spec = spec.template.spec.clone().unwrap_or_default();
    let mut by_node: BTreeMap<String, Vec<&Pod>> = BTreeMap::new();
    for p in &pods {
        if let Some(n) = target_node(p) {
            by_node.entry(n).or_default().push(p);
        }
    }
    let node_names: BTreeSet<String> = nodes.iter().filter_map(|n| n.metadata.name.clone()).collect();
    let mut requeue: Option<Duration> = None;

    // pods for nodes that are gone
    for (n, ps) in &by_node {
        if !node_names.contains(n) {
            for p in ps {
                delete(&ctx, &ds, &pods_api, p).await?;
            }
        }
    }

    let mut desired = 0;
    let mut current = 0;
    let mut misscheduled = 0;
    let mut ready = 0;
    let mut available = 0;
    let mut updated = 0;
    // nodes running an old pod, with whether that old pod is available and whether a new one exists
    let mut old_on: Vec<(String, Vec<&Pod>, Option<&Pod>)> = Vec::new();
    let mut unavailable_nodes = 0;

    for node in &nodes {
        let node_name = node.metadata.name.clone().unwrap_or_default();
        let (run, keep) = should_run(&pod_spec, node);
        let here: Vec<&Pod> = by_node.get(&node_name).cloned().unwrap_or_default();
        let live: Vec<&Pod> = here.iter().copied().filter(|p| p.metadata.deletion_timestamp.is_none()).collect();
        if run {
            desired += 1;
        }
        if !keep {
            if !live.is_empty() {
                misscheduled += 1;
            }
            for p in &live {
                delete(&ctx, &ds, &pods_api, p).await?;
            }
            continue;
        }
        if !run && !live.is_empty() {
            misscheduled += 1;
        }
        // failed pods are killed and replaced
        let mut healthy: Vec<&Pod> = Vec::new();
        for p in &live {
            if pod_phase(p) == "Failed" {
                publish(&ctx.recorder, &object_ref(ds.as_ref()), EventType::Warning, "FailedDaemonPod", format!("Found failed daemon pod {ns}/{} on node {node_name}, will try to kill it", p.name_any()), None).await;
                delete(&ctx, &ds, &pods_api, p).await?;
            } else {
                healthy.push(p);
            }
        }
        if run && healthy.is_empty() {
            if !here.iter().any(|p| p.metadata.deletion_timestamp.is_some()) {
                create_on(&ctx, &ds, &pods_api, &hash, &node_name).await?;
            }
            unavailable_nodes += 1;
            continue;
        }
        if healthy.is_empty() {
            continue;
        }
        current += 1;
        let new: Vec<&Pod> = healthy.iter().copied().filter(|p| hash_of(p) == hash).collect();
        let old: Vec<&Pod> = healthy.iter().copied().filter(|p| hash_of(p) != hash).collect();
        // duplicates of the same revision: keep the oldest
        for group in [&new, &old] {
            if group.len() > 1 {
                let mut sorted = group.clone();
                sorted.sort_by_key(|p| p.metadata.creation_timestamp.as_ref().map(|t| t.0));
                for p in sorted.iter().skip(1) {
                    delete(&ctx, &ds, &pods_api, p).await?;
                }
            }
        }
        let shown = new.first().or(old.first()).copied();
        if let Some(p) = shown {
            if crate::job::pod_ready(p) {
                ready += 1;
            }
            if pod_available(p, min_ready, now) {
                available += 1;
            } else {
                unavailable_nodes += 1;
                if crate::job::pod_ready(p) && min_ready > 0 {
                    requeue = Some(Duration::from_secs(1));
                }
            }
        }
        if !new.is_empty() {
            updated += 1;
        }
        if let Some(o) = old.first() {
            old_on.push((node_name.clone(), vec![*o], new.first().copied()));
        }
    }

    // rolling update
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    if strategy.type_.as_deref().unwrap_or("RollingUpdate") == "RollingUpdate" && !old_on.is_empty() {
        let ru = strategy.rolling_update.clone().unwrap_or_default();
        let max_surge = scaled_value(ru.max_surge.as_ref(), desired, 0);
        let max_unavailable = scaled_value(ru.max_unavailable.as_ref(), desired, if max_surge > 0 { 0 } else { 1 }).max(if max_surge == 0 { 1 } else { 0 });
        let mut budget = max_unavailable - unavailable_nodes;
        let mut surge_used = i32::try_from(old_on.iter().filter(|(_, _, n)| n.is_some()).count()).unwrap_or(0);
        for (node_name, olds, new) in &old_on {
            let Some(old) = olds.first() else { continue };
            let old_available = pod_available(old, min_ready, now);
            if max_surge == 0 {
                if !old_available {
                    delete(&ctx, &ds, &pods_api, old).await?;
                } else if budget > 0 {
                    delete(&ctx, &ds, &pods_api, old).await?;
                    budget -= 1;
                }
                continue;
            }
            match new {
                Some(n) if pod_available(n, min_ready, now) => delete(&ctx, &ds, &pods_api, old).await?,
                Some(_) => {}
                None if !old_available => delete(&ctx, &ds, &pods_api, old).await?,
                None if surge_used < max_surge => {
                    create_on(&ctx, &ds, &pods_api, &hash, node_name).await?;
                    surge_used += 1;
                }
                None => {}
            }
        }
    }

    let new_status = DaemonSetStatus {
        collision_count: Some(collisions),
        conditions: status.conditions.clone(),
        current_number_scheduled: current,
        desired_number_scheduled: desired,
        number_available: Some(available),
        number_misscheduled: misscheduled,
        number_ready: ready,
        number_unavailable: Some((desired - available).max(0)),
        observed_generation: ds.metadata.generation,
        updated_number_scheduled: Some(updated),
    };
    if ds.status.as_ref() != Some(&new_status) {
        let mut updated = (*ds).clone();
        updated.status = Some(new_status.clone());
        match sets.replace_status(&name, &PostParams::default(), &updated).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => return Ok(Action::await_change()),
            Err(kube::Error::Api(e)) if e.code == 409 => return Err(Error::Pending("status conflict".into())),
            Err(e) => return Err(e.into()),
        }
    }
    let in_use: BTreeSet<String> = pods.iter().map(|p| format!("{name}-{}", hash_of(p))).collect();
    trim_history(&rev_api, &revisions, &in_use, &[rev.name_any().as_str()], spec.revision_history_limit.unwrap_or(10)).await;
    Ok(match requeue {
        Some(d) => Action::requeue(d),
        None => Action::await_change(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, labels: Value, taints: Value) -> Node {
        serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}, "spec": {"taints": taints}})).unwrap()
    }

    fn spec(v: Value) -> PodSpec {
        let mut base = json!({"containers": [{"name": "c", "image": "i"}]});
        if let (Some(b), Some(o)) = (base.as_object_mut(), v.as_object()) {
            for (k, val) in o {
                b.insert(k.clone(), val.clone());
            }
        }
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn node_selector_and_affinity() {
        let n = node("a", json!({"disk": "ssd", "gen": "5"}), json!([]));
        assert_eq!(should_run(&spec(json!({})), &n), (true, true));
        assert_eq!(should_run(&spec(json!({"nodeSelector": {"disk": "ssd"}})), &n), (true, true));
        assert_eq!(should_run(&spec(json!({"nodeSelector": {"disk": "hdd"}})), &n), (false, false));
        let aff = |op: &str, vals: Value| spec(json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "gen", "operator": op, "values": vals}]}]}}}}));
        assert!(should_run(&aff("Gt", json!(["4"])), &n).0);
        assert!(!should_run(&aff("Lt", json!(["4"])), &n).0);
        assert!(should_run(&aff("In", json!(["5", "6"])), &n).0);
        assert!(!should_run(&aff("NotIn", json!(["5"])), &n).0);
        let fields = spec(json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["b"]}]}]}}}}));
        assert!(!should_run(&fields, &n).0);
    }

    #[test]
    fn taints_and_automatic_tolerations() {
        let plain = spec(json!({}));
        // automatically tolerated
        let n = node("a", json!({}), json!([{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}, {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]));
        assert_eq!(should_run(&plain, &n), (true, true));
        // NoSchedule: no new pod, an existing one stays
        let n = node("a", json!({}), json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]));
        assert_eq!(should_run(&plain, &n), (false, true));
        // NoExecute: the pod goes
        let n = node("a", json!({}), json!([{"key": "dedicated", "value": "gpu", "effect": "NoExecute"}]));
        assert_eq!(should_run(&plain, &n), (false, false));
        let tolerant = spec(json!({"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu"}]}));
        assert_eq!(should_run(&tolerant, &n), (true, true));
        // network-unavailable only for host networking
        let n = node("a", json!({}), json!([{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]));
        assert_eq!(should_run(&plain, &n), (false, true));
        assert_eq!(should_run(&spec(json!({"hostNetwork": true})), &n), (true, true));
        assert_eq!(daemon_tolerations(false).len(), 6);
        assert_eq!(daemon_tolerations(true).len(), 7);
    }

    #[test]
    fn pods_are_pinned_through_affinity() {
        let mut s = spec(json!({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "x", "operator": "Exists"}]}]}}}}));
        pin_to_node(&mut s, "node-7");
        let pod = Pod { spec: Some(s), ..Default::default() };
        assert_eq!(target_node(&pod).as_deref(), Some("node-7"));
        let terms = &pod.spec.as_ref().unwrap().affinity.as_ref().unwrap().node_affinity.as_ref().unwrap().required_during_scheduling_ignored_during_execution.as_ref().unwrap().node_selector_terms;
        assert_eq!(terms.len(), 1);
        assert!(terms[0].match_expressions.is_none());
        assert_eq!(scaled_value(Some(&IntOrString::String("25%".into())), 10, 1), 3);
        assert_eq!(scaled_value(Some(&IntOrString::Int(2)), 10, 1), 2);
        assert_eq!(scaled_value(None, 10, 1), 1);
    }
}
