//! ClusterRole aggregation (upstream's clusterrole-aggregation controller, as a function).

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Whether a label selector matches a set of labels: every `matchLabels` pair and every
/// `matchExpressions` requirement (`In`, `NotIn`, `Exists`, `DoesNotExist`) must hold, and an
/// empty selector matches everything. `None` when the selector is invalid (an unknown
/// operator, `In`/`NotIn` without values, `Exists`/`DoesNotExist` with values).
pub fn selector_matches(
    selector: &LabelSelector,
    labels: Option<&BTreeMap<String, String>>,
) -> Option<bool> {
    let get = |k: &str| labels.and_then(|l| l.get(k));
    let mut matches = true;
    for (k, v) in selector.match_labels.iter().flatten() {
        if get(k) != Some(v) {
            matches = false;
        }
    }
    for req in selector.match_expressions.iter().flatten() {
        let values = req.values.as_deref().unwrap_or(&[]);
        let value = get(&req.key);
        let ok = match req.operator.as_str() {
            "In" if !values.is_empty() => value.is_some_and(|v| values.contains(v)),
            "NotIn" if !values.is_empty() => value.is_none_or(|v| !values.contains(v)),
            "Exists" if values.is_empty() => value.is_some(),
            "DoesNotExist" if values.is_empty() => value.is_none(),
            _ => return None,
        };
        if !ok {
            matches = false;
        }
    }
    Some(matches)
}

fn norm(v: &Option<Vec<String>>) -> &[String] {
    v.as_deref().unwrap_or(&[])
}

/// Rule equality as Go's semantic DeepEqual sees it: an absent list equals an empty one.
fn same_rule(a: &PolicyRule, b: &PolicyRule) -> bool {
    a.verbs == b.verbs
        && norm(&a.api_groups) == norm(&b.api_groups)
        && norm(&a.resources) == norm(&b.resources)
        && norm(&a.resource_names) == norm(&b.resource_names)
        && norm(&a.non_resource_urls) == norm(&b.non_resource_urls)
}

/// The rules of an aggregated ClusterRole, as the clusterrole-aggregation controller computes
/// them: for each of its `clusterRoleSelectors` in order, the ClusterRoles of `all` that the
/// selector matches, sorted by name and skipping the role itself, contribute each of their
/// rules that is not already in the result.
///
/// `None` when the role has no `aggregationRule`, or when one of its selectors is invalid
/// (the controller then leaves the role's rules as they are).
pub fn aggregate(role: &ClusterRole, all: &[ClusterRole]) -> Option<Vec<PolicyRule>> {
    let rule = role.aggregation_rule.as_ref()?;
    let own_name = role.metadata.name.as_deref().unwrap_or("");
    let mut out: Vec<PolicyRule> = Vec::new();
    for selector in rule.cluster_role_selectors.iter().flatten() {
        let mut matched: Vec<&ClusterRole> = Vec::new();
        for candidate in all {
            if selector_matches(selector, candidate.metadata.labels.as_ref())? {
                matched.push(candidate);
            }
        }
        matched.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        for candidate in matched {
            if candidate.metadata.name.as_deref().unwrap_or("") == own_name {
                continue;
            }
            for r in candidate.rules.iter().flatten() {
                if !out.iter().any(|existing| same_rule(existing, r)) {
                    out.push(r.clone());
                }
            }
        }
    }
    Some(out)
}

/// Aggregates every ClusterRole of `roles` that has an `aggregationRule`, repeating until
/// nothing changes, as the controller's repeated syncs converge (an aggregated role may
/// select another aggregated role: `admin` selects `edit`, which selects `view`). Returns the
/// names of the roles whose rules changed.
pub fn aggregate_all(roles: &mut [ClusterRole]) -> Vec<String> {
    let mut changed: Vec<String> = Vec::new();
    // each pass settles at least one more level of nesting; a cycle of aggregated roles
    // stops growing once every rule has reached every role of the cycle
    for _ in 0..=roles.len() {
        let mut any = false;
        for i in 0..roles.len() {
            let Some(rules) = aggregate(&roles[i], roles) else {
                continue;
            };
            let current = roles[i].rules.as_deref().unwrap_or(&[]);
            let same = current.len() == rules.len()
                && current.iter().zip(&rules).all(|(a, b)| same_rule(a, b));
            if !same {
                roles[i].rules = Some(rules);
                any = true;
                let name = roles[i].metadata.name.clone().unwrap_or_default();
                if !changed.contains(&name) {
                    changed.push(name);
                }
            }
        }
        if !any {
            break;
        }
    }
    changed
}
