//! Resource arithmetic of pods and nodes: what a pod requests (init containers, sidecars,
//! overhead) and what a node can allocate, in the units the scheduler compares (millicores,
//! bytes, counts).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Node, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// The default CPU request counted for scoring when a container sets none (100m).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// The default memory request counted for scoring when a container sets none (200 MiB).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// An amount of each resource.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// CPU in millicores.
    pub milli_cpu: i64,
    /// Memory in bytes.
    pub memory: i64,
    /// Ephemeral storage in bytes.
    pub ephemeral_storage: i64,
    /// Pod slots (allocatable only).
    pub pods: i64,
    /// Extended and hugepages resources, by name.
    pub scalar: BTreeMap<String, i64>,
}

fn parse(q: &Quantity) -> Option<apimachinery::quantity::Quantity> {
    apimachinery::quantity::parse(q).ok()
}

impl Resources {
    /// Adds one `name: quantity` (unknown or unparsable quantities count as zero).
    pub fn add_named(&mut self, name: &str, q: &Quantity) {
        let Some(q) = parse(q) else { return };
        match name {
            "cpu" => self.milli_cpu = self.milli_cpu.saturating_add(q.milli_value()),
            "memory" => self.memory = self.memory.saturating_add(q.value()),
            "ephemeral-storage" => self.ephemeral_storage = self.ephemeral_storage.saturating_add(q.value()),
            "pods" => self.pods = self.pods.saturating_add(q.value()),
            other if is_scalar(other) => {
                let v = self.scalar.entry(other.to_string()).or_insert(0);
                *v = v.saturating_add(q.value());
            }
            _ => {}
        }
    }

    /// From a resource list (requests, allocatable, overhead).
    pub fn from_list(list: Option<&BTreeMap<String, Quantity>>) -> Resources {
        let mut r = Resources::default();
        for (k, v) in list.into_iter().flatten() {
            r.add_named(k, v);
        }
        r
    }

    /// `self += other`.
    pub fn add(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.saturating_add(other.milli_cpu);
        self.memory = self.memory.saturating_add(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.saturating_add(other.ephemeral_storage);
        self.pods = self.pods.saturating_add(other.pods);
        for (k, v) in &other.scalar {
            let e = self.scalar.entry(k.clone()).or_insert(0);
            *e = e.saturating_add(*v);
        }
    }

    /// `self -= other`.
    pub fn sub(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.saturating_sub(other.milli_cpu);
        self.memory = self.memory.saturating_sub(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.saturating_sub(other.ephemeral_storage);
        self.pods = self.pods.saturating_sub(other.pods);
        for (k, v) in &other.scalar {
            let e = self.scalar.entry(k.clone()).or_insert(0);
            *e = e.saturating_sub(*v);
        }
    }

    /// Each resource the maximum of the two.
    pub fn set_max(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        self.pods = self.pods.max(other.pods);
        for (k, v) in &other.scalar {
            let e = self.scalar.entry(k.clone()).or_insert(0);
            *e = (*e).max(*v);
        }
    }

    /// Whether nothing is requested.
    pub fn is_zero(&self) -> bool {
        self.milli_cpu == 0 && self.memory == 0 && self.ephemeral_storage == 0 && self.scalar.values().all(|v| *v == 0)
    }
}

/// Extended resources (a domain-qualified name outside `kubernetes.io/`, or `requests.`-less
/// names with a `/`), hugepages and attachable volumes: compared as plain integers.
pub fn is_scalar(name: &str) -> bool {
    name.starts_with("hugepages-") || name.starts_with("attachable-volumes-") || (name.contains('/') && !name.starts_with("kubernetes.io/"))
}

fn container_requests(c: &Container) -> Resources {
    Resources::from_list(c.resources.as_ref().and_then(|r| r.requests.as_ref()))
}

/// The requests of one container, with the scoring defaults for CPU and memory when a request
/// is missing (upstream's non-zero requests).
fn container_non_zero(c: &Container) -> Resources {
    let reqs = c.resources.as_ref().and_then(|r| r.requests.as_ref());
    let mut r = container_requests(c);
    if reqs.is_none_or(|m| !m.contains_key("cpu")) {
        r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
    }
    if reqs.is_none_or(|m| !m.contains_key("memory")) {
        r.memory = DEFAULT_MEMORY_REQUEST;
    }
    r
}

fn is_sidecar(c: &Container) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

fn pod_requests_with(pod: &Pod, per_container: fn(&Container) -> Resources) -> Resources {
    let Some(spec) = pod.spec.as_ref() else {
        return Resources::default();
    };
    let mut reqs = Resources::default();
    for c in &spec.containers {
        reqs.add(&per_container(c));
    }
    // Sidecars (restartable init containers) run next to the app containers and next to the
    // init containers that start after them; a regular init container runs alone with the
    // sidecars started before it.
    let mut sidecars = Resources::default();
    let mut init_max = Resources::default();
    for c in spec.init_containers.iter().flatten() {
        let step = if is_sidecar(c) {
            sidecars.add(&per_container(c));
            sidecars.clone()
        } else {
            let mut r = per_container(c);
            r.add(&sidecars);
            r
        };
        init_max.set_max(&step);
    }
    reqs.add(&sidecars);
    reqs.set_max(&init_max);
    if let Some(overhead) = spec.overhead.as_ref() {
        reqs.add(&Resources::from_list(Some(overhead)));
    }
    reqs
}

/// What a pod requests: the sum of its containers and sidecars, or the largest init step if
/// more, plus the pod overhead.
pub fn pod_requests(pod: &Pod) -> Resources {
    pod_requests_with(pod, container_requests)
}

/// The requests used for scoring: as [`pod_requests`], with 100m CPU and 200 MiB memory for
/// each container that requests none.
pub fn pod_non_zero_requests(pod: &Pod) -> Resources {
    pod_requests_with(pod, container_non_zero)
}

/// A node's allocatable resources (capacity when allocatable is absent).
pub fn node_allocatable(node: &Node) -> Resources {
    let status = node.status.as_ref();
    let list = status.and_then(|s| s.allocatable.as_ref()).or_else(|| status.and_then(|s| s.capacity.as_ref()));
    Resources::from_list(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn containers_sum_init_max_and_overhead() {
        let p = pod(json!({"spec": {
            "containers": [
                {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "1Gi"}}},
                {"name": "b", "resources": {"requests": {"cpu": "200m", "example.com/gpu": "1"}}}],
            "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "1", "memory": "10Mi"}}}],
            "overhead": {"cpu": "10m"}}}));
        let r = pod_requests(&p);
        assert_eq!(r.milli_cpu, 1010);
        assert_eq!(r.memory, 1 << 30);
        assert_eq!(r.scalar.get("example.com/gpu"), Some(&1));
    }

    #[test]
    fn sidecars_add_to_containers_and_later_init_steps() {
        let p = pod(json!({"spec": {
            "containers": [{"name": "a", "resources": {"requests": {"cpu": "100m"}}}],
            "initContainers": [
                {"name": "side", "restartPolicy": "Always", "resources": {"requests": {"cpu": "500m"}}},
                {"name": "init", "resources": {"requests": {"cpu": "1"}}}]}}));
        // init step: 1 + 0.5 sidecar = 1.5 > 0.1 + 0.5
        assert_eq!(pod_requests(&p).milli_cpu, 1500);
        let p = pod(json!({"spec": {
            "containers": [{"name": "a", "resources": {"requests": {"cpu": "2"}}}],
            "initContainers": [{"name": "side", "restartPolicy": "Always", "resources": {"requests": {"cpu": "500m"}}}]}}));
        assert_eq!(pod_requests(&p).milli_cpu, 2500);
    }

    #[test]
    fn non_zero_defaults() {
        let p = pod(json!({"spec": {"containers": [{"name": "a"}, {"name": "b", "resources": {"requests": {"cpu": "0"}}}]}}));
        let r = pod_non_zero_requests(&p);
        assert_eq!(r.milli_cpu, 100);
        assert_eq!(r.memory, 2 * DEFAULT_MEMORY_REQUEST);
        assert!(pod_requests(&p).is_zero());
    }
}
