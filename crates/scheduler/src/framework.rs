//! The scheduling framework: plugins with filter and score phases run over the cache's nodes,
//! the statuses they return, and upstream's explanation of a failure
//! ("0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {k: v}.").

use std::collections::{BTreeMap, HashMap};

use crate::cache::{NodeInfo, PodInfo, State};
use crate::plugins::{interpod, spread, volume};
use crate::resources::Resources;

/// How a filter rejected a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// Removing pods (preemption) could help.
    Unschedulable,
    /// Preemption cannot help on this node.
    UnschedulableAndUnresolvable,
}

/// A rejection: its code, the reasons (as upstream words them) and the plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// The code.
    pub code: Code,
    /// The reasons, each counted in the explanation.
    pub reasons: Vec<String>,
    /// The rejecting plugin.
    pub plugin: &'static str,
}

impl Status {
    /// Rejection that preemption may resolve.
    pub fn unschedulable(plugin: &'static str, reason: impl Into<String>) -> Status {
        Status { code: Code::Unschedulable, reasons: vec![reason.into()], plugin }
    }

    /// Rejection that preemption cannot resolve.
    pub fn unresolvable(plugin: &'static str, reason: impl Into<String>) -> Status {
        Status { code: Code::UnschedulableAndUnresolvable, reasons: vec![reason.into()], plugin }
    }
}

/// What pre-filter and pre-score computed for one pod's scheduling cycle.
#[derive(Clone, Default)]
pub struct CycleState {
    /// Resources held by nominated pods of at least this pod's priority, per node.
    pub nominated: HashMap<String, (Resources, i64)>,
    /// PodTopologySpread's domain counts.
    pub spread: Option<spread::FilterState>,
    /// PodTopologySpread's scoring counts.
    pub spread_score: Option<spread::ScoreState>,
    /// InterPodAffinity's counts.
    pub interpod: Option<interpod::FilterState>,
    /// InterPodAffinity's preferred-term scores by topology pair.
    pub interpod_score: Option<HashMap<(String, String), i64>>,
    /// VolumeBinding's claims.
    pub volume: Option<volume::FilterState>,
}

impl std::fmt::Debug for CycleState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CycleState")
    }
}

/// A scheduling plugin; every phase is optional.
pub trait Plugin: Send + Sync {
    /// The plugin's name (as upstream's).
    fn name(&self) -> &'static str;
    /// Computes cycle state, or rejects the pod for every node.
    fn pre_filter(&self, _cs: &mut CycleState, _pod: &PodInfo, _st: &State) -> Result<(), Status> {
        Ok(())
    }
    /// Whether the pod may go to the node.
    fn filter(&self, _cs: &CycleState, _pod: &PodInfo, _node: &NodeInfo, _st: &State) -> Result<(), Status> {
        Ok(())
    }
    /// PreFilterExtensions: `other`, on `node`, is taken out of the state `pre_filter` computed
    /// for `pod` (preemption asks what the filters say without the victims).
    fn remove_pod(&self, _cs: &mut CycleState, _pod: &PodInfo, _other: &PodInfo, _node: &NodeInfo, _st: &State) {}
    /// PreFilterExtensions: `other`, on `node`, is put back into the state.
    fn add_pod(&self, _cs: &mut CycleState, _pod: &PodInfo, _other: &PodInfo, _node: &NodeInfo, _st: &State) {}
    /// The score's weight in the default profile (0: no score phase).
    fn weight(&self) -> i64 {
        0
    }
    /// Computes cycle state for scoring over the feasible nodes.
    fn pre_score(&self, _cs: &mut CycleState, _pod: &PodInfo, _st: &State, _nodes: &[&NodeInfo]) {}
    /// The node's raw score.
    fn score(&self, _cs: &CycleState, _pod: &PodInfo, _node: &NodeInfo, _st: &State) -> i64 {
        0
    }
    /// Maps raw scores to 0..=100.
    fn normalize(&self, _cs: &CycleState, _scores: &mut [i64], _nodes: &[&NodeInfo]) {}
}

/// The highest node score.
pub const MAX_NODE_SCORE: i64 = 100;

/// Upstream's `DefaultNormalizeScore`: scale to 0..=100 by the maximum, reversed if asked.
pub fn default_normalize(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = MAX_NODE_SCORE);
        }
        return;
    }
    for s in scores.iter_mut() {
        *s = MAX_NODE_SCORE * *s / max;
        if reverse {
            *s = MAX_NODE_SCORE - *s;
        }
    }
}

/// Why a pod fits no node.
#[derive(Clone, Debug, Default)]
pub struct Diagnosis {
    /// Nodes in the cluster.
    pub num_nodes: usize,
    /// The rejection of each node.
    pub node_status: HashMap<String, Status>,
    /// A pre-filter rejection (for all nodes).
    pub pre_filter_msg: Option<String>,
    /// What preemption said.
    pub post_filter_msg: Option<String>,
}

/// Formats upstream's `FitError`: `0/N nodes are available: <pre-filter or sorted histogram
/// of the reasons>. <post-filter>.`
pub fn fit_error_message(
    num_nodes: usize,
    node_status: &HashMap<String, Status>,
    pre_filter_msg: Option<&str>,
    post_filter_msg: Option<&str>,
) -> String {
    let mut msg = format!("0/{num_nodes} nodes are available:");
    if let Some(p) = pre_filter_msg {
        msg.push_str(&format!(" {p}."));
    } else {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for st in node_status.values() {
            for r in &st.reasons {
                *counts.entry(r.as_str()).or_insert(0) += 1;
            }
        }
        let mut parts: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
        parts.sort();
        if !parts.is_empty() {
            msg.push_str(&format!(" {}.", parts.join(", ")));
        }
    }
    if let Some(p) = post_filter_msg
        && !p.is_empty()
    {
        msg.push_str(&format!(" {p}."));
    }
    msg
}

impl Diagnosis {
    /// The explanation text of the event and the PodScheduled condition.
    pub fn message(&self) -> String {
        fit_error_message(self.num_nodes, &self.node_status, self.pre_filter_msg.as_deref(), self.post_filter_msg.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_error_sorted_histogram_and_preemption() {
        let mut m = HashMap::new();
        m.insert("a".to_string(), Status::unschedulable("NodeResourcesFit", "Insufficient cpu"));
        m.insert("b".to_string(), Status::unresolvable("TaintToleration", "node(s) had untolerated taint {k: v}"));
        m.insert("c".to_string(), Status::unresolvable("TaintToleration", "node(s) had untolerated taint {k: v}"));
        let pre = fit_error_message(3, &HashMap::new(), None, None);
        assert_eq!(pre, "0/3 nodes are available:");
        let inner = fit_error_message(3, &m, None, None);
        assert_eq!(inner, "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {k: v}.");
        let full = fit_error_message(3, &m, None, Some("preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."));
        assert_eq!(
            full,
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {k: v}. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.."
        );
    }

    #[test]
    fn normalize() {
        let mut s = vec![0, 5, 10];
        default_normalize(&mut s, true);
        assert_eq!(s, vec![100, 50, 0]);
        let mut s = vec![0, 0];
        default_normalize(&mut s, false);
        assert_eq!(s, vec![0, 0]);
    }
}
