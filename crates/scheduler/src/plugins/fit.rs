//! NodeResourcesFit (requests against allocatable, pod slots; LeastAllocated scoring) and
//! NodeResourcesBalancedAllocation.

use crate::cache::{NodeInfo, PodInfo, State};
use crate::framework::{CycleState, Plugin, Status};
use crate::resources::Resources;

/// Whether the pod's requests fit what the node has left; the reasons it does not
/// ("Too many pods", "Insufficient cpu", ...), in upstream's order.
pub fn insufficient(pod: &Resources, node: &NodeInfo, extra: Option<&(Resources, i64)>) -> Vec<String> {
    let mut requested = node.requested.clone();
    let mut pods = node.pods.len() as i64;
    if let Some((r, n)) = extra {
        requested.add(r);
        pods += n;
    }
    let alloc = &node.allocatable;
    let mut out = Vec::new();
    if pods + 1 > alloc.pods {
        out.push("Too many pods".to_string());
    }
    if pod.is_zero() {
        return out;
    }
    if pod.milli_cpu > 0 && pod.milli_cpu > alloc.milli_cpu - requested.milli_cpu {
        out.push("Insufficient cpu".into());
    }
    if pod.memory > 0 && pod.memory > alloc.memory - requested.memory {
        out.push("Insufficient memory".into());
    }
    if pod.ephemeral_storage > 0 && pod.ephemeral_storage > alloc.ephemeral_storage - requested.ephemeral_storage {
        out.push("Insufficient ephemeral-storage".into());
    }
    for (name, q) in &pod.scalar {
        if *q == 0 {
            continue;
        }
        let have = alloc.scalar.get(name).copied().unwrap_or(0) - requested.scalar.get(name).copied().unwrap_or(0);
        if *q > have {
            out.push(format!("Insufficient {name}"));
        }
    }
    out
}

/// Requests against allocatable; scores by the share left free (LeastAllocated, CPU and
/// memory weighted 1).
pub struct NodeResourcesFit;

impl Plugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        "NodeResourcesFit"
    }
    fn pre_filter(&self, cs: &mut CycleState, pod: &PodInfo, st: &State) -> Result<(), Status> {
        // Pods nominated by preemption keep their room against pods of no higher priority.
        for (uid, (node, p)) in &st.nominated {
            if *uid != pod.uid && p.priority >= pod.priority {
                let e = cs.nominated.entry(node.clone()).or_default();
                e.0.add(&p.requests);
                e.1 += 1;
            }
        }
        Ok(())
    }
    fn filter(&self, cs: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &State) -> Result<(), Status> {
        let reasons = insufficient(&pod.requests, node, cs.nominated.get(&node.name));
        if reasons.is_empty() { Ok(()) } else { Err(Status { code: crate::framework::Code::Unschedulable, reasons, plugin: self.name() }) }
    }
    fn weight(&self) -> i64 {
        1
    }
    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &State) -> i64 {
        let least = |req: i64, cap: i64| -> Option<i64> {
            if cap == 0 {
                None
            } else if req > cap {
                Some(0)
            } else {
                Some((cap - req) * 100 / cap)
            }
        };
        let parts = [
            least(node.non_zero.milli_cpu + pod.non_zero.milli_cpu, node.allocatable.milli_cpu),
            least(node.non_zero.memory + pod.non_zero.memory, node.allocatable.memory),
        ];
        let (sum, n) = parts.iter().flatten().fold((0, 0), |(s, n), v| (s + v, n + 1));
        if n == 0 { 0 } else { sum / n }
    }
}

/// Favours nodes whose CPU and memory would be used in equal shares.
pub struct BalancedAllocation;

impl Plugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        "NodeResourcesBalancedAllocation"
    }
    fn weight(&self) -> i64 {
        1
    }
    fn score(&self, _: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &State) -> i64 {
        let frac = |req: i64, cap: i64| -> Option<f64> { if cap == 0 { None } else { Some((req as f64 / cap as f64).min(1.0)) } };
        let f: Vec<f64> = [
            frac(node.requested.milli_cpu + pod.requests.milli_cpu, node.allocatable.milli_cpu),
            frac(node.requested.memory + pod.requests.memory, node.allocatable.memory),
        ]
        .into_iter()
        .flatten()
        .collect();
        let std = match f.len() {
            2 => (f[0] - f[1]).abs() / 2.0,
            0 | 1 => 0.0,
            n => {
                let mean = f.iter().sum::<f64>() / n as f64;
                (f.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64).sqrt()
            }
        };
        ((1.0 - std) * 100.0) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::*;
    use serde_json::json;

    fn req(name: &str, cpu: &str, mem: &str) -> std::sync::Arc<PodInfo> {
        pod(
            json!({"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": mem}}}]}}),
        )
    }

    #[test]
    fn fit_reasons() {
        let mut st = state(vec![node("a", json!({}), json!({}))]);
        let cs = CycleState::default();
        st.add_pod(req("x", "3", "1Gi"), "a", false);
        assert!(NodeResourcesFit.filter(&cs, &req("y", "1", "1Gi"), ni(&st, "a"), &st).is_ok());
        let err = NodeResourcesFit.filter(&cs, &req("y", "2", "8Gi"), ni(&st, "a"), &st).unwrap_err();
        assert_eq!(err.reasons, vec!["Insufficient cpu", "Insufficient memory"]);
        let gpu = pod(
            json!({"metadata": {"name": "g"}, "spec": {"containers": [{"name": "c", "resources": {"requests": {"example.com/gpu": "1"}}}]}}),
        );
        assert_eq!(NodeResourcesFit.filter(&cs, &gpu, ni(&st, "a"), &st).unwrap_err().reasons, vec!["Insufficient example.com/gpu"]);
    }

    #[test]
    fn pod_slots() {
        let mut n = node("a", json!({}), json!({}));
        n.status
            .as_mut()
            .unwrap()
            .allocatable
            .as_mut()
            .unwrap()
            .insert("pods".into(), k8s_openapi::apimachinery::pkg::api::resource::Quantity("1".into()));
        let mut st = state(vec![n]);
        st.add_pod(req("x", "0", "0"), "a", false);
        let cs = CycleState::default();
        assert_eq!(NodeResourcesFit.filter(&cs, &req("y", "0", "0"), ni(&st, "a"), &st).unwrap_err().reasons, vec!["Too many pods"]);
    }

    #[test]
    fn scores() {
        let mut st = state(vec![node("a", json!({}), json!({})), node("b", json!({}), json!({}))]);
        st.add_pod(req("x", "2", "4Gi"), "a", false);
        let cs = CycleState::default();
        let p = req("y", "1", "1Gi");
        assert!(NodeResourcesFit.score(&cs, &p, ni(&st, "b"), &st) > NodeResourcesFit.score(&cs, &p, ni(&st, "a"), &st));
        // b: cpu 1/4, mem 1/8 → std 0.0625 → 93
        assert_eq!(BalancedAllocation.score(&cs, &p, ni(&st, "b"), &st), 93);
    }
}
