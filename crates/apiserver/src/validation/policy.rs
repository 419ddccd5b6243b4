//! policy/v1 PodDisruptionBudgets.

use apimachinery::field::{ErrorList, Path};
use k8s_openapi::api::policy::v1 as policy;

use super::apps::{not_more_than_100_percent, positive_int_or_percent};
use super::common::*;

const UNHEALTHY_POD_EVICTION_POLICIES: &[&str] = &["AlwaysAllow", "IfHealthyBudget"];

fn pdb_spec(spec: &policy::PodDisruptionBudgetSpec, allow_invalid_label_value: bool, path: &Path) -> Errs {
    let mut e = Vec::new();
    if spec.min_available.is_some() && spec.max_unavailable.is_some() {
        e.push(invalid(path, json(spec), "minAvailable and maxUnavailable cannot be both set"));
    }
    for (v, name) in [(&spec.min_available, "minAvailable"), (&spec.max_unavailable, "maxUnavailable")] {
        if let Some(v) = v {
            let fp = path.child(name);
            e.extend(positive_int_or_percent(v, &fp));
            e.extend(not_more_than_100_percent(v, &fp));
        }
    }
    e.extend(label_selector(spec.selector.as_ref(), &path.child("selector"), allow_invalid_label_value));
    if let Some(pol) = &spec.unhealthy_pod_eviction_policy
        && !UNHEALTHY_POD_EVICTION_POLICIES.contains(&pol.as_str())
    {
        e.push(not_supported(&path.child("unhealthyPodEvictionPolicy"), pol.as_str(), UNHEALTHY_POD_EVICTION_POLICIES));
    }
    e
}

/// PodDisruptionBudget create: minAvailable/maxUnavailable (not both, int ≥ 0 or percent ≤
/// 100%), the selector, unhealthyPodEvictionPolicy values.
pub fn pod_disruption_budget(pdb: &policy::PodDisruptionBudget) -> ErrorList {
    let spec = pdb.spec.clone().unwrap_or_default();
    done(pdb_spec(&spec, false, &p("spec")))
}

/// PodDisruptionBudget update: the create rules (the spec is mutable in policy/v1); invalid
/// label values already in the old selector are tolerated.
pub fn pod_disruption_budget_update(new: &policy::PodDisruptionBudget, old: &policy::PodDisruptionBudget) -> ErrorList {
    let old_sel = old.spec.as_ref().and_then(|s| s.selector.as_ref());
    let ratchet = old_sel.is_some() && !label_selector(old_sel, &p("x"), false).is_empty();
    let spec = new.spec.clone().unwrap_or_default();
    done(pdb_spec(&spec, ratchet, &p("spec")))
}

/// PodDisruptionBudget status update: condition list rules and non-negative counters.
pub fn pod_disruption_budget_status_update(new: &policy::PodDisruptionBudget, _old: &policy::PodDisruptionBudget) -> ErrorList {
    let sp = p("status");
    let st = new.status.clone().unwrap_or_default();
    let mut e = conditions(sl(&st.conditions), &sp.child("conditions"));
    e.extend(nonneg(st.disruptions_allowed as i64, &sp.child("disruptionsAllowed")));
    e.extend(nonneg(st.current_healthy as i64, &sp.child("currentHealthy")));
    e.extend(nonneg(st.desired_healthy as i64, &sp.child("desiredHealthy")));
    e.extend(nonneg(st.expected_pods as i64, &sp.child("expectedPods")));
    done(e)
}
