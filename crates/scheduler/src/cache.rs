//! The scheduler's cache: every node with the pods assigned to it (bound, or assumed: decided
//! by this scheduler and not yet confirmed by the API), and per-node aggregates kept
//! incrementally (requested resources, host ports, images), so a scheduling decision never
//! recomputes them from the pods.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Pod, WeightedPodAffinityTerm};
use k8s_openapi::api::storage::v1::StorageClass;

use crate::helpers::{self, Op, Req, Selector};
use crate::resources::{self, Resources};

/// A host port a container asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPort {
    /// `hostIP`, `0.0.0.0` when unset.
    pub ip: String,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    /// The port.
    pub port: i32,
}

impl HostPort {
    /// Whether two host ports collide (same protocol and port, and the same IP or a wildcard).
    pub fn conflicts(&self, other: &HostPort) -> bool {
        self.port == other.port && self.protocol == other.protocol && (self.ip == other.ip || self.ip == "0.0.0.0" || other.ip == "0.0.0.0")
    }
}

/// A pod affinity term, resolved: which namespaces, which labels, over which topology key.
#[derive(Clone, Debug)]
pub struct AffinityTerm {
    /// The namespaces named (the pod's own when neither names nor a selector are given).
    pub namespaces: HashSet<String>,
    /// The namespace selector (matches nothing when unset).
    pub namespace_selector: Selector,
    /// The pod label selector.
    pub selector: Selector,
    /// The node label whose values are the domains.
    pub topology_key: String,
    /// The weight of a preferred term (1 for required ones).
    pub weight: i64,
}

impl AffinityTerm {
    fn from_api(pod: &Pod, t: &k8s_openapi::api::core::v1::PodAffinityTerm, weight: i64) -> AffinityTerm {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let mut namespaces: HashSet<String> = t.namespaces.iter().flatten().cloned().collect();
        if namespaces.is_empty() && t.namespace_selector.is_none() {
            namespaces.insert(ns);
        }
        let mut selector = Selector::from_api(t.label_selector.as_ref());
        let labels = helpers::pod_labels(pod);
        if t.label_selector.is_some() {
            for k in t.match_label_keys.iter().flatten() {
                if let Some(v) = labels.get(k) {
                    selector.push(Req { key: k.clone(), op: Op::In, values: vec![v.clone()] });
                }
            }
            for k in t.mismatch_label_keys.iter().flatten() {
                if let Some(v) = labels.get(k) {
                    selector.push(Req { key: k.clone(), op: Op::NotIn, values: vec![v.clone()] });
                }
            }
        }
        AffinityTerm {
            namespaces,
            namespace_selector: Selector::from_api(t.namespace_selector.as_ref()),
            selector,
            topology_key: t.topology_key.clone(),
            weight,
        }
    }

    /// Whether the term selects `pod` (its namespace and labels).
    pub fn matches(&self, pod: &PodInfo, namespace_labels: &HashMap<String, BTreeMap<String, String>>) -> bool {
        let ns_ok = self.namespaces.contains(&pod.namespace)
            || self.namespace_selector.is_everything()
            || (self.namespace_selector.0.is_some()
                && self.namespace_selector.matches(namespace_labels.get(&pod.namespace).unwrap_or(&helpers::NO_LABELS)));
        ns_ok && self.selector.matches(helpers::pod_labels(&pod.pod))
    }
}

/// A pod with what the scheduler derives from it once.
#[derive(Debug)]
pub struct PodInfo {
    /// The pod.
    pub pod: Arc<Pod>,
    /// Its UID (the cache's key).
    pub uid: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `spec.priority`.
    pub priority: i32,
    /// Requested resources (with init containers, sidecars, overhead).
    pub requests: Resources,
    /// Requests with the scoring defaults for missing CPU/memory.
    pub non_zero: Resources,
    /// Host ports of its containers.
    pub ports: Vec<HostPort>,
    /// Required pod affinity terms.
    pub required_affinity: Vec<AffinityTerm>,
    /// Required pod anti-affinity terms.
    pub required_anti: Vec<AffinityTerm>,
    /// Preferred pod affinity terms.
    pub preferred_affinity: Vec<AffinityTerm>,
    /// Preferred pod anti-affinity terms.
    pub preferred_anti: Vec<AffinityTerm>,
    /// Whether it has a deletionTimestamp.
    pub terminating: bool,
    /// Its containers' images (init containers first), normalized as nodes report them.
    pub images: Vec<String>,
}

fn weighted(pod: &Pod, terms: Option<&Vec<WeightedPodAffinityTerm>>) -> Vec<AffinityTerm> {
    terms.into_iter().flatten().map(|w| AffinityTerm::from_api(pod, &w.pod_affinity_term, i64::from(w.weight))).collect()
}

impl PodInfo {
    /// Derives everything from the pod.
    pub fn new(pod: Arc<Pod>) -> PodInfo {
        let spec = pod.spec.as_ref();
        let mut ports = Vec::new();
        for c in spec.map(|s| s.containers.as_slice()).unwrap_or(&[]) {
            for p in c.ports.iter().flatten() {
                if let Some(hp) = p.host_port
                    && hp > 0
                {
                    ports.push(HostPort {
                        ip: p.host_ip.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "0.0.0.0".into()),
                        protocol: p.protocol.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "TCP".into()),
                        port: hp,
                    });
                }
            }
        }
        let affinity = spec.and_then(|s| s.affinity.as_ref());
        let pa = affinity.and_then(|a| a.pod_affinity.as_ref());
        let paa = affinity.and_then(|a| a.pod_anti_affinity.as_ref());
        let required = |terms: Option<&Vec<k8s_openapi::api::core::v1::PodAffinityTerm>>| -> Vec<AffinityTerm> {
            terms.into_iter().flatten().map(|t| AffinityTerm::from_api(&pod, t, 1)).collect()
        };
        PodInfo {
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            name: pod.metadata.name.clone().unwrap_or_default(),
            priority: helpers::pod_priority(&pod),
            requests: resources::pod_requests(&pod),
            non_zero: resources::pod_non_zero_requests(&pod),
            ports,
            required_affinity: required(pa.and_then(|a| a.required_during_scheduling_ignored_during_execution.as_ref())),
            required_anti: required(paa.and_then(|a| a.required_during_scheduling_ignored_during_execution.as_ref())),
            preferred_affinity: weighted(&pod, pa.and_then(|a| a.preferred_during_scheduling_ignored_during_execution.as_ref())),
            preferred_anti: weighted(&pod, paa.and_then(|a| a.preferred_during_scheduling_ignored_during_execution.as_ref())),
            terminating: pod.metadata.deletion_timestamp.is_some(),
            images: spec
                .map(|s| {
                    s.init_containers
                        .iter()
                        .flatten()
                        .chain(s.containers.iter())
                        .map(|c| normalized_image(c.image.as_deref().unwrap_or("")))
                        .collect()
                })
                .unwrap_or_default(),
            pod,
        }
    }

    /// Whether it has any pod affinity or anti-affinity term.
    pub fn has_affinity(&self) -> bool {
        !(self.required_affinity.is_empty()
            && self.required_anti.is_empty()
            && self.preferred_affinity.is_empty()
            && self.preferred_anti.is_empty())
    }

    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// A node and what is assigned to it.
#[derive(Debug, Default, Clone)]
pub struct NodeInfo {
    /// The node's name.
    pub name: String,
    /// The node (absent while pods remain on a deleted node).
    pub node: Option<Arc<Node>>,
    /// Allocatable resources.
    pub allocatable: Resources,
    /// Sum of the pods' requests.
    pub requested: Resources,
    /// Sum of the pods' non-zero requests (for scoring).
    pub non_zero: Resources,
    /// The pods.
    pub pods: Vec<Arc<PodInfo>>,
    /// Host ports in use.
    pub ports: Vec<HostPort>,
    /// Images present (every name of each image) with their sizes.
    pub images: HashMap<String, i64>,
}

impl NodeInfo {
    /// The node's labels.
    pub fn labels(&self) -> &BTreeMap<String, String> {
        self.node.as_deref().map(helpers::node_labels).unwrap_or(&helpers::NO_LABELS)
    }

    /// Adds a pod's accounting.
    pub fn add_pod(&mut self, p: Arc<PodInfo>) {
        self.requested.add(&p.requests);
        self.non_zero.add(&p.non_zero);
        self.ports.extend(p.ports.iter().cloned());
        self.pods.push(p);
    }

    /// Removes a pod's accounting (by UID).
    pub fn remove_pod(&mut self, uid: &str) -> Option<Arc<PodInfo>> {
        let i = self.pods.iter().position(|p| p.uid == uid)?;
        let p = self.pods.swap_remove(i);
        self.requested.sub(&p.requests);
        self.non_zero.sub(&p.non_zero);
        for hp in &p.ports {
            if let Some(j) = self.ports.iter().position(|x| x == hp) {
                self.ports.swap_remove(j);
            }
        }
        Some(p)
    }
}

/// Normalizes an image name as the kubelet reports it (`:latest` when no tag or digest).
pub fn normalized_image(name: &str) -> String {
    if name.contains('@') || name.rfind(':').is_some_and(|c| name.rfind('/').is_none_or(|s| c > s)) {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

/// A pod in the cache.
#[derive(Debug, Clone)]
pub struct CachedPod {
    /// The node it is on.
    pub node: String,
    /// Decided here, not yet seen bound.
    pub assumed: bool,
    /// The pod.
    pub info: Arc<PodInfo>,
}

/// Everything the scheduler knows about the cluster.
#[derive(Default)]
pub struct State {
    /// Nodes by name.
    pub nodes: HashMap<String, NodeInfo>,
    /// Names of the nodes that exist (the order the scheduler walks them in).
    pub order: Vec<String>,
    /// Assigned and assumed pods by UID.
    pub pods: HashMap<String, CachedPod>,
    /// UIDs of assigned pods with any pod (anti-)affinity term.
    pub affinity_pods: HashSet<String>,
    /// How many nodes hold each image.
    pub image_nodes: HashMap<String, usize>,
    /// Namespace labels, for affinity terms' namespaceSelector.
    pub namespaces: HashMap<String, BTreeMap<String, String>>,
    /// PersistentVolumeClaims by `namespace/name`.
    pub pvcs: HashMap<String, Arc<PersistentVolumeClaim>>,
    /// PersistentVolumes by name.
    pub pvs: HashMap<String, Arc<PersistentVolume>>,
    /// StorageClasses by name.
    pub classes: HashMap<String, Arc<StorageClass>>,
    /// Pods nominated to a node by preemption (UID → node, pod), which hold room there
    /// against pods of lower priority.
    pub nominated: HashMap<String, (String, Arc<PodInfo>)>,
    /// PodDisruptionBudgets (preemption prefers victims they do not protect).
    pub pdbs: Vec<Arc<k8s_openapi::api::policy::v1::PodDisruptionBudget>>,
    /// Where the next search for feasible nodes starts.
    pub next_start: usize,
}

fn node_images(node: &Node) -> HashMap<String, i64> {
    let mut m = HashMap::new();
    for img in node.status.as_ref().and_then(|s| s.images.as_ref()).into_iter().flatten() {
        for n in img.names.iter().flatten() {
            m.insert(normalized_image(n), img.size_bytes.unwrap_or(0));
        }
    }
    m
}

impl State {
    /// Adds or replaces a node; returns whether anything the scheduler decides on changed.
    pub fn upsert_node(&mut self, node: Node) -> bool {
        let name = node.metadata.name.clone().unwrap_or_default();
        let images = node_images(&node);
        let allocatable = resources::node_allocatable(&node);
        let info = self.nodes.entry(name.clone()).or_insert_with(|| NodeInfo { name: name.clone(), ..Default::default() });
        let changed = match info.node.as_deref() {
            None => {
                self.order.push(name.clone());
                true
            }
            Some(old) => {
                old.metadata.labels != node.metadata.labels
                    || old.spec.as_ref().map(|s| (&s.taints, s.unschedulable)) != node.spec.as_ref().map(|s| (&s.taints, s.unschedulable))
                    || info.allocatable != allocatable
                    || info.images.len() != images.len()
            }
        };
        for k in info.images.keys() {
            if let Some(c) = self.image_nodes.get_mut(k) {
                *c = c.saturating_sub(1);
            }
        }
        for k in images.keys() {
            *self.image_nodes.entry(k.clone()).or_insert(0) += 1;
        }
        info.images = images;
        info.allocatable = allocatable;
        info.node = Some(Arc::new(node));
        changed
    }

    /// Removes a node (its pods stay accounted until they go).
    pub fn remove_node(&mut self, name: &str) {
        if let Some(info) = self.nodes.get_mut(name) {
            for k in info.images.keys() {
                if let Some(c) = self.image_nodes.get_mut(k) {
                    *c = c.saturating_sub(1);
                }
            }
            info.images.clear();
            info.node = None;
            if info.pods.is_empty() {
                self.nodes.remove(name);
            }
        }
        self.order.retain(|n| n != name);
    }

    /// Accounts a pod to a node (bound, or `assumed` when decided here).
    pub fn add_pod(&mut self, info: Arc<PodInfo>, node: &str, assumed: bool) {
        self.remove_pod(&info.uid);
        if info.has_affinity() {
            self.affinity_pods.insert(info.uid.clone());
        }
        self.nominated.remove(&info.uid);
        self.nodes
            .entry(node.to_string())
            .or_insert_with(|| NodeInfo { name: node.to_string(), ..Default::default() })
            .add_pod(info.clone());
        self.pods.insert(info.uid.clone(), CachedPod { node: node.to_string(), assumed, info });
    }

    /// Removes a pod's accounting.
    pub fn remove_pod(&mut self, uid: &str) -> Option<CachedPod> {
        let cp = self.pods.remove(uid)?;
        self.affinity_pods.remove(uid);
        if let Some(n) = self.nodes.get_mut(&cp.node) {
            n.remove_pod(uid);
            if n.node.is_none() && n.pods.is_empty() {
                self.nodes.remove(&cp.node);
            }
        }
        Some(cp)
    }

    /// Whether a pod is assumed (decided here, binding in flight).
    pub fn is_assumed(&self, uid: &str) -> bool {
        self.pods.get(uid).is_some_and(|p| p.assumed)
    }

    /// The number of existing nodes.
    pub fn node_count(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(uid: &str, cpu: &str, port: Option<i32>) -> Arc<PodInfo> {
        let mut c = json!({"name": "c", "resources": {"requests": {"cpu": cpu}}});
        if let Some(p) = port {
            c["ports"] = json!([{"containerPort": 80, "hostPort": p}]);
        }
        Arc::new(PodInfo::new(Arc::new(
            serde_json::from_value(json!({"metadata": {"uid": uid, "namespace": "d", "name": uid}, "spec": {"containers": [c]}})).unwrap(),
        )))
    }

    #[test]
    fn aggregates_follow_pods() {
        let mut s = State::default();
        let node: Node =
            serde_json::from_value(json!({"metadata": {"name": "n"}, "status": {"allocatable": {"cpu": "4", "pods": "10"}}})).unwrap();
        assert!(s.upsert_node(node.clone()));
        assert!(!s.upsert_node(node));
        s.add_pod(pod("a", "1", Some(80)), "n", true);
        s.add_pod(pod("b", "500m", None), "n", false);
        assert_eq!(s.nodes["n"].requested.milli_cpu, 1500);
        assert_eq!(s.nodes["n"].ports.len(), 1);
        assert!(s.is_assumed("a"));
        s.add_pod(pod("a", "1", Some(80)), "n", false);
        assert!(!s.is_assumed("a"));
        assert_eq!(s.nodes["n"].requested.milli_cpu, 1500);
        s.remove_pod("a");
        assert_eq!(s.nodes["n"].requested.milli_cpu, 500);
        assert!(s.nodes["n"].ports.is_empty());
    }

    #[test]
    fn host_port_conflicts() {
        let p = |ip: &str, port| HostPort { ip: ip.into(), protocol: "TCP".into(), port };
        assert!(p("0.0.0.0", 80).conflicts(&p("10.0.0.1", 80)));
        assert!(!p("10.0.0.2", 80).conflicts(&p("10.0.0.1", 80)));
        assert!(!p("0.0.0.0", 81).conflicts(&p("0.0.0.0", 80)));
    }

    #[test]
    fn image_names() {
        assert_eq!(normalized_image("nginx"), "nginx:latest");
        assert_eq!(normalized_image("reg:5000/nginx"), "reg:5000/nginx:latest");
        assert_eq!(normalized_image("nginx:1.2"), "nginx:1.2");
    }
}
