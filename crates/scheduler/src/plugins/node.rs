//! Plugins that look at one node alone: NodeUnschedulable, NodeName, TaintToleration,
//! NodeAffinity, NodePorts, ImageLocality.

use crate::cache::{NodeInfo, PodInfo, State};
use crate::framework::{CycleState, Plugin, Status, default_normalize};
use crate::helpers;

/// Filters out cordoned nodes (`spec.unschedulable`) unless the pod tolerates
/// `node.kubernetes.io/unschedulable:NoSchedule`.
pub struct NodeUnschedulable;

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        "NodeUnschedulable"
    }
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &State) -> Result<(), Status> {
        let Some(n) = node.node.as_deref() else {
            return Err(Status::unresolvable(self.name(), "node(s) had unknown conditions"));
        };
        if !n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false) {
            return Ok(());
        }
        let taint = k8s_openapi::api::core::v1::Taint {
            key: "node.kubernetes.io/unschedulable".into(),
            effect: "NoSchedule".into(),
            ..Default::default()
        };
        if helpers::tolerated(helpers::pod_tolerations(&pod.pod), &taint) {
            Ok(())
        } else {
            Err(Status::unresolvable(self.name(), "node(s) were unschedulable"))
        }
    }
}

/// Filters out every node but `spec.nodeName` when the pod names one.
pub struct NodeName;

impl Plugin for NodeName {
    fn name(&self) -> &'static str {
        "NodeName"
    }
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &State) -> Result<(), Status> {
        match pod.pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
            Some(n) if !n.is_empty() && n != node.name => {
                Err(Status::unresolvable(self.name(), "node(s) didn't match the requested node name"))
            }
            _ => Ok(()),
        }
    }
}

/// NoSchedule/NoExecute taints the pod does not tolerate filter the node; untolerated
/// PreferNoSchedule taints lower its score.
pub struct TaintToleration;

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        "TaintToleration"
    }
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &State) -> Result<(), Status> {
        let Some(n) = node.node.as_deref() else {
            return Ok(());
        };
        let tolerations = helpers::pod_tolerations(&pod.pod);
        for t in helpers::node_taints(n) {
            if (t.effect == "NoSchedule" || t.effect == "NoExecute") && !helpers::tolerated(tolerations, t) {
                return Err(Status::unresolvable(
                    self.name(),
                    format!("node(s) had untolerated taint {{{}: {}}}", t.key, t.value.as_deref().unwrap_or("")),
                ));
            }
        }
        Ok(())
    }
    fn weight(&self) -> i64 {
        3
    }
    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &State) -> i64 {
        let Some(n) = node.node.as_deref() else {
            return 0;
        };
        let prefer: Vec<_> = helpers::pod_tolerations(&pod.pod)
            .iter()
            .filter(|t| t.effect.as_deref().is_none_or(|e| e.is_empty() || e == "PreferNoSchedule"))
            .cloned()
            .collect();
        helpers::node_taints(n).iter().filter(|t| t.effect == "PreferNoSchedule" && !helpers::tolerated(&prefer, t)).count() as i64
    }
    fn normalize(&self, _: &CycleState, scores: &mut [i64], _: &[&NodeInfo]) {
        default_normalize(scores, true);
    }
}

/// `nodeSelector` and required node affinity filter; preferred node affinity scores.
pub struct NodeAffinity;

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        "NodeAffinity"
    }
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &State) -> Result<(), Status> {
        if helpers::pod_matches_node(&pod.pod, &node.name, node.labels()) {
            Ok(())
        } else {
            Err(Status::unresolvable(self.name(), "node(s) didn't match Pod's node affinity/selector"))
        }
    }
    fn weight(&self) -> i64 {
        2
    }
    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &State) -> i64 {
        let preferred = pod
            .pod
            .spec
            .as_ref()
            .and_then(|s| s.affinity.as_ref())
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|n| n.preferred_during_scheduling_ignored_during_execution.as_ref());
        preferred
            .into_iter()
            .flatten()
            .filter(|t| t.weight != 0 && helpers::node_selector_term_matches(&t.preference, &node.name, node.labels()))
            .map(|t| i64::from(t.weight))
            .sum()
    }
    fn normalize(&self, _: &CycleState, scores: &mut [i64], _: &[&NodeInfo]) {
        default_normalize(scores, false);
    }
}

/// Host ports already taken on the node filter it.
pub struct NodePorts;

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        "NodePorts"
    }
    fn filter(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &State) -> Result<(), Status> {
        if pod.ports.iter().any(|p| node.ports.iter().any(|q| p.conflicts(q))) {
            Err(Status::unschedulable(self.name(), "node(s) didn't have free ports for the requested pod ports"))
        } else {
            Ok(())
        }
    }
}

const MB: i64 = 1024 * 1024;
const MIN_THRESHOLD: i64 = 23 * MB;
const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

/// Favours nodes that already have the pod's images, weighted by how widely each image is
/// spread over the cluster.
pub struct ImageLocality;

impl Plugin for ImageLocality {
    fn name(&self) -> &'static str {
        "ImageLocality"
    }
    fn weight(&self) -> i64 {
        1
    }
    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo, st: &State) -> i64 {
        let total = st.node_count().max(1) as f64;
        let mut sum = 0f64;
        let containers = pod.images.len() as i64;
        for name in &pod.images {
            if let Some(size) = node.images.get(name) {
                let spread = st.image_nodes.get(name).copied().unwrap_or(0) as f64 / total;
                sum += *size as f64 * spread;
            }
        }
        let max = MAX_CONTAINER_THRESHOLD * containers.max(1);
        let sum = (sum as i64).clamp(MIN_THRESHOLD, max.max(MIN_THRESHOLD + 1));
        100 * (sum - MIN_THRESHOLD) / (max - MIN_THRESHOLD).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::*;
    use serde_json::json;

    #[test]
    fn unschedulable_and_toleration() {
        let st = state(vec![node("n", json!({}), json!({"unschedulable": true}))]);
        let cs = CycleState::default();
        let p = pod(json!({"metadata": {"name": "p"}}));
        let err = NodeUnschedulable.filter(&cs, &p, ni(&st, "n"), &st).unwrap_err();
        assert_eq!(err.reasons, vec!["node(s) were unschedulable"]);
        let p = pod(
            json!({"metadata": {"name": "p"}, "spec": {"tolerations": [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]}}),
        );
        assert!(NodeUnschedulable.filter(&cs, &p, ni(&st, "n"), &st).is_ok());
    }

    #[test]
    fn taints() {
        let st = state(vec![
            node("a", json!({}), json!({"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]})),
            node("b", json!({}), json!({"taints": [{"key": "soft", "effect": "PreferNoSchedule"}]})),
        ]);
        let cs = CycleState::default();
        let p = pod(json!({"metadata": {"name": "p"}}));
        let err = TaintToleration.filter(&cs, &p, ni(&st, "a"), &st).unwrap_err();
        assert_eq!(err.reasons, vec!["node(s) had untolerated taint {dedicated: gpu}"]);
        assert!(TaintToleration.filter(&cs, &p, ni(&st, "b"), &st).is_ok());
        assert_eq!(TaintToleration.score(&cs, &p, ni(&st, "b"), &st), 1);
        let tol = pod(
            json!({"metadata": {"name": "p"}, "spec": {"tolerations": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]}}),
        );
        assert!(TaintToleration.filter(&cs, &tol, ni(&st, "a"), &st).is_ok());
    }

    #[test]
    fn node_affinity() {
        let st = state(vec![node("a", json!({"disk": "ssd"}), json!({})), node("b", json!({}), json!({}))]);
        let cs = CycleState::default();
        let p = pod(json!({"metadata": {"name": "p"}, "spec": {"nodeSelector": {"disk": "ssd"}}}));
        assert!(NodeAffinity.filter(&cs, &p, ni(&st, "a"), &st).is_ok());
        assert_eq!(
            NodeAffinity.filter(&cs, &p, ni(&st, "b"), &st).unwrap_err().reasons,
            vec!["node(s) didn't match Pod's node affinity/selector"]
        );
        let p = pod(
            json!({"metadata": {"name": "p"}, "spec": {"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 7, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}}]}}}}),
        );
        assert_eq!(NodeAffinity.score(&cs, &p, ni(&st, "a"), &st), 7);
        assert_eq!(NodeAffinity.score(&cs, &p, ni(&st, "b"), &st), 0);
    }

    #[test]
    fn ports() {
        let mut st = state(vec![node("a", json!({}), json!({}))]);
        let mk = |name: &str| {
            pod(
                json!({"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 8080}]}]}}),
            )
        };
        let cs = CycleState::default();
        assert!(NodePorts.filter(&cs, &mk("x"), ni(&st, "a"), &st).is_ok());
        st.add_pod(mk("x"), "a", false);
        assert!(NodePorts.filter(&cs, &mk("y"), ni(&st, "a"), &st).is_err());
    }

    #[test]
    fn image_locality() {
        let mut n = node("a", json!({}), json!({}));
        n.status.as_mut().unwrap().images = Some(vec![serde_json::from_value(json!({"names": ["big:1"], "sizeBytes": 500 * MB})).unwrap()]);
        let st = state(vec![n, node("b", json!({}), json!({}))]);
        let cs = CycleState::default();
        let p = pod(json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "big:1"}]}}));
        let a = ImageLocality.score(&cs, &p, ni(&st, "a"), &st);
        assert!(a > 0, "{a}");
        assert_eq!(ImageLocality.score(&cs, &p, ni(&st, "b"), &st), 0);
    }
}
