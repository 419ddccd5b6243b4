//! PodTopologySpread: `topologySpreadConstraints` with maxSkew, whenUnsatisfiable
//! (DoNotSchedule filters, ScheduleAnyway scores), labelSelector with matchLabelKeys,
//! minDomains, nodeAffinityPolicy and nodeTaintsPolicy.
//!
//! Preemption's what-if (victims taken out, put back) updates the domain counts.
//!
//! Not done: the cluster-level default constraints (upstream spreads pods of a Service or
//! ReplicaSet by default when they set none).

use std::collections::HashMap;

use crate::cache::{NodeInfo, PodInfo, State};
use crate::framework::{CycleState, MAX_NODE_SCORE, Plugin, Status};
use crate::helpers::{self, Op, Req, Selector};

/// One constraint, resolved.
#[derive(Clone, Debug)]
pub struct Constraint {
    /// maxSkew.
    pub max_skew: i64,
    /// The node label of the domains.
    pub key: String,
    /// The pods counted.
    pub selector: Selector,
    /// minDomains (1 when unset).
    pub min_domains: i64,
    /// Whether only nodes matching the pod's node affinity count (Honor, the default).
    pub honor_affinity: bool,
    /// Whether nodes with untolerated taints are left out (Honor; default Ignore).
    pub honor_taints: bool,
}

fn constraints(pod: &PodInfo, action: &str) -> Vec<Constraint> {
    let labels = helpers::pod_labels(&pod.pod);
    pod.pod
        .spec
        .as_ref()
        .and_then(|s| s.topology_spread_constraints.as_ref())
        .into_iter()
        .flatten()
        .filter(|c| c.when_unsatisfiable == action)
        .map(|c| {
            let mut selector = Selector::from_api(c.label_selector.as_ref());
            for k in c.match_label_keys.iter().flatten() {
                if let Some(v) = labels.get(k) {
                    selector.push(Req { key: k.clone(), op: Op::In, values: vec![v.clone()] });
                }
            }
            Constraint {
                max_skew: i64::from(c.max_skew),
                key: c.topology_key.clone(),
                selector,
                min_domains: i64::from(c.min_domains.unwrap_or(1)),
                honor_affinity: c.node_affinity_policy.as_deref() != Some("Ignore"),
                honor_taints: c.node_taints_policy.as_deref() == Some("Honor"),
            }
        })
        .collect()
}

fn node_counts(c: &Constraint, pod: &PodInfo, node: &NodeInfo) -> bool {
    let Some(n) = node.node.as_deref() else {
        return false;
    };
    if c.honor_affinity && !helpers::pod_matches_node(&pod.pod, &node.name, node.labels()) {
        return false;
    }
    if c.honor_taints {
        let tol = helpers::pod_tolerations(&pod.pod);
        if helpers::node_taints(n).iter().any(|t| (t.effect == "NoSchedule" || t.effect == "NoExecute") && !helpers::tolerated(tol, t)) {
            return false;
        }
    }
    true
}

fn matching_on(c: &Constraint, pod: &PodInfo, node: &NodeInfo) -> i64 {
    node.pods.iter().filter(|p| !p.terminating && p.namespace == pod.namespace && c.selector.matches(helpers::pod_labels(&p.pod))).count()
        as i64
}

/// The domain counts for the DoNotSchedule constraints.
#[derive(Clone)]
pub struct FilterState {
    constraints: Vec<Constraint>,
    /// Per constraint: matching pods per domain value.
    counts: Vec<HashMap<String, i64>>,
    /// Per constraint: the smallest count (0 below minDomains).
    min: Vec<i64>,
}

/// The counts for the ScheduleAnyway constraints.
#[derive(Clone)]
pub struct ScoreState {
    constraints: Vec<Constraint>,
    counts: Vec<HashMap<String, i64>>,
    weights: Vec<f64>,
}

/// The smallest count of a constraint's domains (0 below minDomains).
fn min_count(c: &Constraint, m: &HashMap<String, i64>) -> i64 {
    if (m.len() as i64) < c.min_domains { 0 } else { m.values().copied().min().unwrap_or(0) }
}

/// Adds `delta` for `other` (on `node`) to the counts of the constraints it is counted by.
fn update_counts(fs: &mut FilterState, pod: &PodInfo, other: &PodInfo, node: &NodeInfo, delta: i64) {
    if other.terminating || other.namespace != pod.namespace {
        return;
    }
    let labels = node.labels();
    if !fs.constraints.iter().all(|c| labels.contains_key(&c.key)) {
        return;
    }
    for i in 0..fs.constraints.len() {
        let c = &fs.constraints[i];
        if !node_counts(c, pod, node) || !c.selector.matches(helpers::pod_labels(&other.pod)) {
            continue;
        }
        let v = labels.get(&c.key).cloned().unwrap_or_default();
        *fs.counts[i].entry(v).or_insert(0) += delta;
        fs.min[i] = min_count(c, &fs.counts[i]);
    }
}

fn count_domains(cons: &[Constraint], pod: &PodInfo, st: &State) -> Vec<HashMap<String, i64>> {
    let mut counts: Vec<HashMap<String, i64>> = vec![HashMap::new(); cons.len()];
    for name in &st.order {
        let Some(node) = st.nodes.get(name) else {
            continue;
        };
        let labels = node.labels();
        if !cons.iter().all(|c| labels.contains_key(&c.key)) {
            continue;
        }
        for (i, c) in cons.iter().enumerate() {
            if !node_counts(c, pod, node) {
                continue;
            }
            let v = labels.get(&c.key).cloned().unwrap_or_default();
            *counts[i].entry(v).or_insert(0) += matching_on(c, pod, node);
        }
    }
    counts
}

/// Spreads matching pods over topology domains.
pub struct PodTopologySpread;

const NAME: &str = "PodTopologySpread";

impl Plugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        NAME
    }
    fn pre_filter(&self, cs: &mut CycleState, pod: &PodInfo, st: &State) -> Result<(), Status> {
        let cons = constraints(pod, "DoNotSchedule");
        if cons.is_empty() {
            return Ok(());
        }
        let counts = count_domains(&cons, pod, st);
        let min = cons.iter().zip(&counts).map(|(c, m)| min_count(c, m)).collect();
        cs.spread = Some(FilterState { constraints: cons, counts, min });
        Ok(())
    }
    fn filter(&self, cs: &CycleState, pod: &PodInfo, node: &NodeInfo, _: &State) -> Result<(), Status> {
        let Some(fs) = cs.spread.as_ref() else {
            return Ok(());
        };
        let labels = node.labels();
        for (i, c) in fs.constraints.iter().enumerate() {
            let Some(v) = labels.get(&c.key) else {
                return Err(Status::unresolvable(NAME, "node(s) didn't match pod topology spread constraints (missing required label)"));
            };
            let self_match = i64::from(c.selector.matches(helpers::pod_labels(&pod.pod)));
            let n = fs.counts[i].get(v).copied().unwrap_or(0);
            if n + self_match - fs.min[i] > c.max_skew {
                return Err(Status::unschedulable(NAME, "node(s) didn't match pod topology spread constraints"));
            }
        }
        Ok(())
    }
    fn remove_pod(&self, cs: &mut CycleState, pod: &PodInfo, other: &PodInfo, node: &NodeInfo, _: &State) {
        if let Some(fs) = cs.spread.as_mut() {
            update_counts(fs, pod, other, node, -1);
        }
    }
    fn add_pod(&self, cs: &mut CycleState, pod: &PodInfo, other: &PodInfo, node: &NodeInfo, _: &State) {
        if let Some(fs) = cs.spread.as_mut() {
            update_counts(fs, pod, other, node, 1);
        }
    }
    fn weight(&self) -> i64 {
        2
    }
    fn pre_score(&self, cs: &mut CycleState, pod: &PodInfo, st: &State, _: &[&NodeInfo]) {
        let cons = constraints(pod, "ScheduleAnyway");
        if cons.is_empty() {
            return;
        }
        let counts = count_domains(&cons, pod, st);
        let weights = counts.iter().map(|m| ((m.len() + 2) as f64).ln()).collect();
        cs.spread_score = Some(ScoreState { constraints: cons, counts, weights });
    }
    fn score(&self, cs: &CycleState, _: &PodInfo, node: &NodeInfo, _: &State) -> i64 {
        let Some(ss) = cs.spread_score.as_ref() else {
            return 0;
        };
        let labels = node.labels();
        let mut score = 0f64;
        for (i, c) in ss.constraints.iter().enumerate() {
            if let Some(v) = labels.get(&c.key) {
                let n = ss.counts[i].get(v).copied().unwrap_or(0);
                score += (n + c.max_skew - 1) as f64 * ss.weights[i];
            }
        }
        score.round() as i64
    }
    fn normalize(&self, cs: &CycleState, scores: &mut [i64], nodes: &[&NodeInfo]) {
        let Some(ss) = cs.spread_score.as_ref() else {
            return;
        };
        let ignored = |n: &NodeInfo| ss.constraints.iter().any(|c| !n.labels().contains_key(&c.key));
        let considered = scores.iter().zip(nodes).filter(|(_, n)| !ignored(n)).map(|(s, _)| *s);
        let (min, max) = considered.fold((i64::MAX, i64::MIN), |(a, b), s| (a.min(s), b.max(s)));
        for (s, n) in scores.iter_mut().zip(nodes) {
            if ignored(n) {
                *s = 0;
            } else if max <= 0 {
                *s = MAX_NODE_SCORE;
            } else {
                *s = MAX_NODE_SCORE * (max + min - *s) / max;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::*;
    use serde_json::json;

    fn spread_pod(name: &str, action: &str) -> std::sync::Arc<PodInfo> {
        pod(json!({"metadata": {"name": name, "labels": {"app": "web"}}, "spec": {"topologySpreadConstraints": [
            {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": action, "labelSelector": {"matchLabels": {"app": "web"}}}]}}))
    }

    #[test]
    fn max_skew_over_zones() {
        let mut st = state(vec![
            node("a", json!({"zone": "z1"}), json!({})),
            node("b", json!({"zone": "z2"}), json!({})),
            node("c", json!({}), json!({})),
        ]);
        st.add_pod(spread_pod("x", "DoNotSchedule"), "a", false);
        let p = spread_pod("y", "DoNotSchedule");
        let mut cs = CycleState::default();
        PodTopologySpread.pre_filter(&mut cs, &p, &st).unwrap();
        // z1 has 1, z2 has 0: another in z1 makes skew 2
        assert_eq!(
            PodTopologySpread.filter(&cs, &p, ni(&st, "a"), &st).unwrap_err().reasons,
            vec!["node(s) didn't match pod topology spread constraints"]
        );
        assert!(PodTopologySpread.filter(&cs, &p, ni(&st, "b"), &st).is_ok());
        let e = PodTopologySpread.filter(&cs, &p, ni(&st, "c"), &st).unwrap_err();
        assert_eq!(e.code, crate::framework::Code::UnschedulableAndUnresolvable);
    }

    #[test]
    fn min_domains() {
        let mut st = state(vec![node("a", json!({"zone": "z1"}), json!({}))]);
        st.add_pod(spread_pod("x", "DoNotSchedule"), "a", false);
        let p = pod(json!({"metadata": {"name": "y", "labels": {"app": "web"}}, "spec": {"topologySpreadConstraints": [
            {"maxSkew": 1, "minDomains": 2, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "web"}}}]}}));
        let mut cs = CycleState::default();
        PodTopologySpread.pre_filter(&mut cs, &p, &st).unwrap();
        assert!(PodTopologySpread.filter(&cs, &p, ni(&st, "a"), &st).is_err());
    }

    #[test]
    fn soft_prefers_emptier_domain() {
        let mut st = state(vec![node("a", json!({"zone": "z1"}), json!({})), node("b", json!({"zone": "z2"}), json!({}))]);
        st.add_pod(spread_pod("x", "ScheduleAnyway"), "a", false);
        let p = spread_pod("y", "ScheduleAnyway");
        let mut cs = CycleState::default();
        let nodes = [ni(&st, "a"), ni(&st, "b")];
        PodTopologySpread.pre_score(&mut cs, &p, &st, &nodes);
        let mut scores: Vec<i64> = nodes.iter().map(|n| PodTopologySpread.score(&cs, &p, n, &st)).collect();
        PodTopologySpread.normalize(&cs, &mut scores, &nodes);
        assert!(scores[1] > scores[0], "{scores:?}");
    }
}
