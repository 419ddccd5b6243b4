//! Matching rules shared by the plugins: label selectors, node selectors, taints and
//! tolerations, as upstream's `labels`, `nodeaffinity` and `v1helper` packages define them.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// An empty label map, for objects without labels.
pub static NO_LABELS: BTreeMap<String, String> = BTreeMap::new();

/// A selector's requirement (`In`, `NotIn`, `Exists`, `DoesNotExist`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Req {
    /// The label key.
    pub key: String,
    /// The operator.
    pub op: Op,
    /// The values (for `In` and `NotIn`).
    pub values: Vec<String>,
}

/// Label selector operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// The value is one of.
    In,
    /// The label is absent or its value none of.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
}

/// A parsed label selector; `None` requirements means the selector matches nothing (a nil
/// `LabelSelector` or an invalid one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector(pub Option<Vec<Req>>);

impl Selector {
    /// Matches nothing.
    pub fn nothing() -> Selector {
        Selector(None)
    }

    /// From an API selector; `None` gives [`Selector::nothing`], `{}` matches everything.
    pub fn from_api(sel: Option<&LabelSelector>) -> Selector {
        let Some(sel) = sel else {
            return Selector::nothing();
        };
        let mut reqs = Vec::new();
        for (k, v) in sel.match_labels.iter().flatten() {
            reqs.push(Req { key: k.clone(), op: Op::In, values: vec![v.clone()] });
        }
        for e in sel.match_expressions.iter().flatten() {
            let op = match e.operator.as_str() {
                "In" => Op::In,
                "NotIn" => Op::NotIn,
                "Exists" => Op::Exists,
                "DoesNotExist" => Op::DoesNotExist,
                _ => return Selector::nothing(),
            };
            reqs.push(Req { key: e.key.clone(), op, values: e.values.clone().unwrap_or_default() });
        }
        Selector(Some(reqs))
    }

    /// Adds a requirement (a no-op on a selector matching nothing).
    pub fn push(&mut self, r: Req) {
        if let Some(v) = self.0.as_mut() {
            v.push(r);
        }
    }

    /// Whether the labels satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let Some(reqs) = &self.0 else { return false };
        reqs.iter().all(|r| match r.op {
            Op::In => labels.get(&r.key).is_some_and(|v| r.values.contains(v)),
            Op::NotIn => labels.get(&r.key).is_none_or(|v| !r.values.contains(v)),
            Op::Exists => labels.contains_key(&r.key),
            Op::DoesNotExist => !labels.contains_key(&r.key),
        })
    }

    /// Whether it matches every object (`{}`).
    pub fn is_everything(&self) -> bool {
        self.0.as_ref().is_some_and(|v| v.is_empty())
    }
}

/// The labels of a pod.
pub fn pod_labels(pod: &Pod) -> &BTreeMap<String, String> {
    pod.metadata.labels.as_ref().unwrap_or(&NO_LABELS)
}

/// The labels of a node.
pub fn node_labels(node: &Node) -> &BTreeMap<String, String> {
    node.metadata.labels.as_ref().unwrap_or(&NO_LABELS)
}

/// Whether a toleration tolerates a taint (upstream's `ToleratesTaint`).
pub fn toleration_tolerates(t: &Toleration, taint: &Taint) -> bool {
    if let Some(e) = t.effect.as_deref()
        && !e.is_empty()
        && e != taint.effect
    {
        return false;
    }
    let key = t.key.as_deref().unwrap_or("");
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match t.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        "" | "Equal" => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        _ => false,
    }
}

/// Whether any of the tolerations tolerates the taint.
pub fn tolerated(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| toleration_tolerates(t, taint))
}

/// The pod's tolerations.
pub fn pod_tolerations(pod: &Pod) -> &[Toleration] {
    pod.spec.as_ref().and_then(|s| s.tolerations.as_deref()).unwrap_or(&[])
}

/// The node's taints.
pub fn node_taints(node: &Node) -> &[Taint] {
    node.spec.as_ref().and_then(|s| s.taints.as_deref()).unwrap_or(&[])
}

fn requirement_matches(r: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = r.values.as_deref().unwrap_or(&[]);
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(bound)) = (value.and_then(|v| v.parse::<i64>().ok()), values.first().and_then(|b| b.parse::<i64>().ok()))
            else {
                return false;
            };
            if r.operator == "Gt" { v > bound } else { v < bound }
        }
        _ => false,
    }
}

/// Whether a node satisfies a node selector term (all its expressions and fields; an empty
/// term matches nothing).
pub fn node_selector_term_matches(term: &NodeSelectorTerm, node_name: &str, labels: &BTreeMap<String, String>) -> bool {
    let exprs = term.match_expressions.as_deref().unwrap_or(&[]);
    let fields = term.match_fields.as_deref().unwrap_or(&[]);
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    exprs.iter().all(|r| requirement_matches(r, labels.get(&r.key).map(String::as_str)))
        && fields.iter().all(|r| r.key == "metadata.name" && requirement_matches(r, Some(node_name)))
}

/// Whether a node satisfies the pod's `nodeSelector` and required node affinity.
pub fn pod_matches_node(pod: &Pod, node_name: &str, labels: &BTreeMap<String, String>) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return true;
    };
    if let Some(sel) = spec.node_selector.as_ref()
        && !sel.iter().all(|(k, v)| labels.get(k) == Some(v))
    {
        return false;
    }
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| n.required_during_scheduling_ignored_during_execution.as_ref());
    match required {
        None => true,
        Some(ns) => ns.node_selector_terms.iter().any(|t| node_selector_term_matches(t, node_name, labels)),
    }
}

/// The pod's priority (`spec.priority`, 0 when unset).
pub fn pod_priority(pod: &Pod) -> i32 {
    pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tolerations() {
        let taint: Taint = serde_json::from_value(json!({"key": "k", "value": "v", "effect": "NoSchedule"})).unwrap();
        let t = |v: serde_json::Value| -> Toleration { serde_json::from_value(v).unwrap() };
        assert!(toleration_tolerates(&t(json!({"key": "k", "value": "v"})), &taint));
        assert!(toleration_tolerates(&t(json!({"key": "k", "operator": "Exists", "effect": "NoSchedule"})), &taint));
        assert!(toleration_tolerates(&t(json!({"operator": "Exists"})), &taint));
        assert!(!toleration_tolerates(&t(json!({"key": "k", "value": "w"})), &taint));
        assert!(!toleration_tolerates(&t(json!({"key": "k", "operator": "Exists", "effect": "NoExecute"})), &taint));
    }

    #[test]
    fn selectors() {
        let labels: BTreeMap<String, String> = [("a".to_string(), "1".to_string())].into();
        let s = |v: serde_json::Value| Selector::from_api(Some(&serde_json::from_value(v).unwrap()));
        assert!(s(json!({})).matches(&labels));
        assert!(s(json!({"matchLabels": {"a": "1"}})).matches(&labels));
        assert!(!s(json!({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]})).matches(&labels));
        assert!(s(json!({"matchExpressions": [{"key": "b", "operator": "DoesNotExist"}]})).matches(&labels));
        assert!(!Selector::from_api(None).matches(&labels));
    }

    #[test]
    fn node_selector_terms() {
        let labels: BTreeMap<String, String> = [("n".to_string(), "5".to_string())].into();
        let term: NodeSelectorTerm =
            serde_json::from_value(json!({"matchExpressions": [{"key": "n", "operator": "Gt", "values": ["4"]}]})).unwrap();
        assert!(node_selector_term_matches(&term, "x", &labels));
        let term: NodeSelectorTerm =
            serde_json::from_value(json!({"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["y"]}]})).unwrap();
        assert!(!node_selector_term_matches(&term, "x", &labels));
        assert!(!node_selector_term_matches(&NodeSelectorTerm::default(), "x", &labels));
    }
}
