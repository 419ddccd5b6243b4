//! InterPodAffinity: required pod affinity and anti-affinity of the incoming pod, the required
//! anti-affinity of the pods already placed (symmetry), and preferred terms of both as a score.
//! Preemption's what-if (victims taken out, put back) updates the counts.

use std::collections::HashMap;

use crate::cache::{NodeInfo, PodInfo, State};
use crate::framework::{CycleState, MAX_NODE_SCORE, Plugin, Status};

type Pair = (String, String);

/// Counts by topology pair (`key`, `value`); a pair whose count falls to 0 is removed.
#[derive(Clone, Default)]
pub struct FilterState {
    existing_anti: HashMap<Pair, i64>,
    affinity: HashMap<Pair, i64>,
    anti: HashMap<Pair, i64>,
}

fn bump(m: &mut HashMap<Pair, i64>, pair: Pair, delta: i64) {
    let n = m.entry(pair.clone()).or_insert(0);
    *n += delta;
    if *n <= 0 {
        m.remove(&pair);
    }
}

/// Adds `delta` for `other` (on `node`) to every count it takes part in.
fn update_counts(fs: &mut FilterState, pod: &PodInfo, other: &PodInfo, node: &NodeInfo, st: &State, delta: i64) {
    let labels = node.labels();
    for t in &other.required_anti {
        if let Some(v) = labels.get(&t.topology_key)
            && t.matches(pod, &st.namespaces)
        {
            bump(&mut fs.existing_anti, (t.topology_key.clone(), v.clone()), delta);
        }
    }
    if !pod.required_affinity.is_empty() && pod.required_affinity.iter().all(|t| t.matches(other, &st.namespaces)) {
        for t in &pod.required_affinity {
            if let Some(v) = labels.get(&t.topology_key) {
                bump(&mut fs.affinity, (t.topology_key.clone(), v.clone()), delta);
            }
        }
    }
    for t in &pod.required_anti {
        if let Some(v) = labels.get(&t.topology_key)
            && t.matches(other, &st.namespaces)
        {
            bump(&mut fs.anti, (t.topology_key.clone(), v.clone()), delta);
        }
    }
}

fn node_of<'a>(st: &'a State, name: &str) -> Option<&'a NodeInfo> {
    st.nodes.get(name).filter(|n| n.node.is_some())
}

/// The pod (anti-)affinity plugin.
pub struct InterPodAffinity;

const NAME: &str = "InterPodAffinity";

impl Plugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        NAME
    }
    fn pre_filter(&self, cs: &mut CycleState, pod: &PodInfo, st: &State) -> Result<(), Status> {
        let mut fs = FilterState::default();
        // existing pods whose required anti-affinity selects the incoming pod
        for uid in &st.affinity_pods {
            let Some(cp) = st.pods.get(uid) else { continue };
            if cp.info.required_anti.is_empty() {
                continue;
            }
            let Some(node) = node_of(st, &cp.node) else {
                continue;
            };
            for t in &cp.info.required_anti {
                if let Some(v) = node.labels().get(&t.topology_key)
                    && t.matches(pod, &st.namespaces)
                {
                    *fs.existing_anti.entry((t.topology_key.clone(), v.clone())).or_insert(0) += 1;
                }
            }
        }
        if !pod.required_affinity.is_empty() || !pod.required_anti.is_empty() {
            for cp in st.pods.values() {
                let Some(node) = node_of(st, &cp.node) else {
                    continue;
                };
                let labels = node.labels();
                if !pod.required_affinity.is_empty() && pod.required_affinity.iter().all(|t| t.matches(&cp.info, &st.namespaces)) {
                    for t in &pod.required_affinity {
                        if let Some(v) = labels.get(&t.topology_key) {
                            *fs.affinity.entry((t.topology_key.clone(), v.clone())).or_insert(0) += 1;
                        }
                    }
                }
                for t in &pod.required_anti {
                    if let Some(v) = labels.get(&t.topology_key)
                        && t.matches(&cp.info, &st.namespaces)
                    {
                        *fs.anti.entry((t.topology_key.clone(), v.clone())).or_insert(0) += 1;
                    }
                }
            }
        }
        cs.interpod = Some(fs);
        Ok(())
    }
    fn filter(&self, cs: &CycleState, pod: &PodInfo, node: &NodeInfo, st: &State) -> Result<(), Status> {
        let Some(fs) = cs.interpod.as_ref() else {
            return Ok(());
        };
        let labels = node.labels();
        let count = |m: &HashMap<Pair, i64>, k: &str| labels.get(k).and_then(|v| m.get(&(k.to_string(), v.clone()))).copied().unwrap_or(0);
        if !pod.required_affinity.is_empty() {
            let all = pod.required_affinity.iter().all(|t| count(&fs.affinity, &t.topology_key) > 0);
            if !all {
                // the first pod of a group that selects itself may go anywhere with the keys
                let has_keys = pod.required_affinity.iter().all(|t| labels.contains_key(&t.topology_key));
                let self_match = pod.required_affinity.iter().all(|t| t.matches(pod, &st.namespaces));
                if !(fs.affinity.is_empty() && self_match && has_keys) {
                    return Err(Status::unresolvable(NAME, "node(s) didn't match pod affinity rules"));
                }
            }
        }
        if pod.required_anti.iter().any(|t| count(&fs.anti, &t.topology_key) > 0) {
            return Err(Status::unschedulable(NAME, "node(s) didn't match pod anti-affinity rules"));
        }
        if !fs.existing_anti.is_empty() && labels.iter().any(|(k, v)| fs.existing_anti.get(&(k.clone(), v.clone())).is_some_and(|c| *c > 0))
        {
            return Err(Status::unschedulable(NAME, "node(s) didn't satisfy existing pods anti-affinity rules"));
        }
        Ok(())
    }
    fn remove_pod(&self, cs: &mut CycleState, pod: &PodInfo, other: &PodInfo, node: &NodeInfo, st: &State) {
        if let Some(fs) = cs.interpod.as_mut() {
            update_counts(fs, pod, other, node, st, -1);
        }
    }
    fn add_pod(&self, cs: &mut CycleState, pod: &PodInfo, other: &PodInfo, node: &NodeInfo, st: &State) {
        if let Some(fs) = cs.interpod.as_mut() {
            update_counts(fs, pod, other, node, st, 1);
        }
    }
    fn weight(&self) -> i64 {
        2
    }
    fn pre_score(&self, cs: &mut CycleState, pod: &PodInfo, st: &State, _: &[&NodeInfo]) {
        let incoming = !pod.preferred_affinity.is_empty() || !pod.preferred_anti.is_empty();
        if !incoming && st.affinity_pods.is_empty() {
            return;
        }
        let mut scores: HashMap<Pair, i64> = HashMap::new();
        let mut add = |node: &NodeInfo, key: &str, w: i64| {
            if let Some(v) = node.labels().get(key) {
                *scores.entry((key.to_string(), v.clone())).or_insert(0) += w;
            }
        };
        let mut visit = |cp: &crate::cache::CachedPod| {
            let Some(node) = node_of(st, &cp.node) else {
                return;
            };
            let other = &cp.info;
            for t in &pod.preferred_affinity {
                if t.matches(other, &st.namespaces) {
                    add(node, &t.topology_key, t.weight);
                }
            }
            for t in &pod.preferred_anti {
                if t.matches(other, &st.namespaces) {
                    add(node, &t.topology_key, -t.weight);
                }
            }
            // the placed pod's own terms that select the incoming pod (hard affinity weight 1)
            for t in &other.required_affinity {
                if t.matches(pod, &st.namespaces) {
                    add(node, &t.topology_key, 1);
                }
            }
            for t in &other.preferred_affinity {
                if t.matches(pod, &st.namespaces) {
                    add(node, &t.topology_key, t.weight);
                }
            }
            for t in &other.preferred_anti {
                if t.matches(pod, &st.namespaces) {
                    add(node, &t.topology_key, -t.weight);
                }
            }
        };
        if incoming {
            st.pods.values().for_each(&mut visit);
        } else {
            st.affinity_pods.iter().filter_map(|u| st.pods.get(u)).for_each(&mut visit);
        }
        if !scores.is_empty() {
            cs.interpod_score = Some(scores);
        }
    }
    fn score(&self, cs: &CycleState, _: &PodInfo, node: &NodeInfo, _: &State) -> i64 {
        let Some(m) = cs.interpod_score.as_ref() else {
            return 0;
        };
        m.iter().filter(|((k, v), _)| node.labels().get(k) == Some(v)).map(|(_, s)| *s).sum()
    }
    fn normalize(&self, cs: &CycleState, scores: &mut [i64], _: &[&NodeInfo]) {
        if cs.interpod_score.is_none() {
            return;
        }
        let min = scores.iter().copied().min().unwrap_or(0);
        let max = scores.iter().copied().max().unwrap_or(0);
        for s in scores.iter_mut() {
            *s = if max > min { MAX_NODE_SCORE * (*s - min) / (max - min) } else { 0 };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::*;
    use serde_json::json;

    fn anti(name: &str) -> std::sync::Arc<PodInfo> {
        pod(
            json!({"metadata": {"name": name, "labels": {"app": "db"}}, "spec": {"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "db"}}}]}}}}),
        )
    }

    fn st2() -> State {
        state(vec![
            node("a", json!({"kubernetes.io/hostname": "a", "zone": "z1"}), json!({})),
            node("b", json!({"kubernetes.io/hostname": "b", "zone": "z1"}), json!({})),
        ])
    }

    #[test]
    fn anti_affinity_both_ways() {
        let mut st = st2();
        st.add_pod(anti("x"), "a", false);
        let mut cs = CycleState::default();
        let p = anti("y");
        InterPodAffinity.pre_filter(&mut cs, &p, &st).unwrap();
        assert_eq!(
            InterPodAffinity.filter(&cs, &p, ni(&st, "a"), &st).unwrap_err().reasons,
            vec!["node(s) didn't match pod anti-affinity rules"]
        );
        assert!(InterPodAffinity.filter(&cs, &p, ni(&st, "b"), &st).is_ok());
        // a plain pod labelled app=db is kept off by the placed pod's anti-affinity
        let plain = pod(json!({"metadata": {"name": "z", "labels": {"app": "db"}}}));
        let mut cs = CycleState::default();
        InterPodAffinity.pre_filter(&mut cs, &plain, &st).unwrap();
        assert_eq!(
            InterPodAffinity.filter(&cs, &plain, ni(&st, "a"), &st).unwrap_err().reasons,
            vec!["node(s) didn't satisfy existing pods anti-affinity rules"]
        );
    }

    #[test]
    fn affinity_and_first_pod() {
        let mut st = st2();
        let aff = |name: &str| {
            pod(
                json!({"metadata": {"name": name, "labels": {"app": "web"}}, "spec": {"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "web"}}}]}}}}),
            )
        };
        let mut cs = CycleState::default();
        let p = aff("first");
        InterPodAffinity.pre_filter(&mut cs, &p, &st).unwrap();
        assert!(InterPodAffinity.filter(&cs, &p, ni(&st, "a"), &st).is_ok());
        st.add_pod(p, "b", false);
        let p = aff("second");
        let mut cs = CycleState::default();
        InterPodAffinity.pre_filter(&mut cs, &p, &st).unwrap();
        assert_eq!(
            InterPodAffinity.filter(&cs, &p, ni(&st, "a"), &st).unwrap_err().reasons,
            vec!["node(s) didn't match pod affinity rules"]
        );
        assert!(InterPodAffinity.filter(&cs, &p, ni(&st, "b"), &st).is_ok());
    }

    #[test]
    fn preferred_scores() {
        let mut st = st2();
        st.add_pod(pod(json!({"metadata": {"name": "x", "labels": {"app": "cache"}}})), "b", false);
        let p = pod(
            json!({"metadata": {"name": "y"}, "spec": {"affinity": {"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 10, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "cache"}}}}]}}}}),
        );
        let mut cs = CycleState::default();
        let nodes = [ni(&st, "a"), ni(&st, "b")];
        InterPodAffinity.pre_score(&mut cs, &p, &st, &nodes);
        let mut s: Vec<i64> = nodes.iter().map(|n| InterPodAffinity.score(&cs, &p, n, &st)).collect();
        InterPodAffinity.normalize(&cs, &mut s, &nodes);
        assert_eq!(s, vec![0, 100]);
    }
}
