//! The default profile's plugins, in upstream's filter order.

pub mod fit;
pub mod interpod;
pub mod node;
pub mod spread;
pub mod volume;

use crate::framework::Plugin;

/// The default profile: filters in upstream's order (NodeUnschedulable, NodeName,
/// TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, VolumeBinding,
/// PodTopologySpread, InterPodAffinity) and the scorers with their default weights
/// (TaintToleration 3, NodeAffinity 2, PodTopologySpread 2, InterPodAffinity 2,
/// NodeResourcesFit 1, NodeResourcesBalancedAllocation 1, ImageLocality 1).
pub fn default_profile() -> Vec<Box<dyn Plugin>> {
    vec![
        Box::new(node::NodeUnschedulable),
        Box::new(node::NodeName),
        Box::new(node::TaintToleration),
        Box::new(node::NodeAffinity),
        Box::new(node::NodePorts),
        Box::new(fit::NodeResourcesFit),
        Box::new(volume::VolumeBinding),
        Box::new(spread::PodTopologySpread),
        Box::new(interpod::InterPodAffinity),
        Box::new(fit::BalancedAllocation),
        Box::new(node::ImageLocality),
    ]
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Builders of nodes and pods for the plugins' unit tests.
    use std::sync::Arc;

    use serde_json::{Value, json};

    use crate::cache::{NodeInfo, PodInfo, State};

    /// A pod from JSON (`metadata` gets namespace `default`, a name and a uid when missing).
    pub fn pod(v: Value) -> Arc<PodInfo> {
        let mut v = v;
        let name = v["metadata"]["name"].as_str().unwrap_or("p").to_string();
        if v["metadata"]["namespace"].is_null() {
            v["metadata"]["namespace"] = json!("default");
        }
        if v["metadata"]["uid"].is_null() {
            v["metadata"]["uid"] = json!(format!("uid-{name}"));
        }
        if v["spec"]["containers"].is_null() {
            v["spec"]["containers"] = json!([{"name": "c"}]);
        }
        Arc::new(PodInfo::new(Arc::new(serde_json::from_value(v).unwrap())))
    }

    /// A node with labels, 4 CPUs, 8Gi and 110 pods unless `status` says otherwise.
    pub fn node(name: &str, labels: Value, spec: Value) -> k8s_openapi::api::core::v1::Node {
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": labels},
            "spec": spec,
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}
        }))
        .unwrap()
    }

    /// A state holding these nodes.
    pub fn state(nodes: Vec<k8s_openapi::api::core::v1::Node>) -> State {
        let mut s = State::default();
        for n in nodes {
            s.upsert_node(n);
        }
        s
    }

    /// A node's info in a state.
    pub fn ni<'a>(s: &'a State, name: &str) -> &'a NodeInfo {
        &s.nodes[name]
    }
}
