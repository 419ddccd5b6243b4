//! Printer for `policy` PodDisruptionBudgets.

use apimachinery::table::Column;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use super::{age, col, icol, int, name, s};

/// PodDisruptionBudget columns: NAME, MIN AVAILABLE, MAX UNAVAILABLE, ALLOWED DISRUPTIONS, AGE.
pub fn pod_disruption_budget_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col(
            "Min Available",
            "The minimum number of pods that must be available.",
        ),
        col(
            "Max Unavailable",
            "The maximum number of pods that may be unavailable.",
        ),
        icol(
            "Allowed Disruptions",
            "Calculated number of pods that may be disrupted at this time.",
        ),
        Column::age(),
    ]
}

fn int_or_string(v: Option<&IntOrString>) -> String {
    match v {
        Some(IntOrString::Int(i)) => i.to_string(),
        Some(IntOrString::String(s)) => s.clone(),
        None => "N/A".into(),
    }
}

/// PodDisruptionBudget cells; an unset bound prints `N/A`.
pub fn pod_disruption_budget_cells(obj: &PodDisruptionBudget, now: jiff::Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    vec![
        s(name(&obj.metadata)),
        s(int_or_string(spec.and_then(|s| s.min_available.as_ref()))),
        s(int_or_string(spec.and_then(|s| s.max_unavailable.as_ref()))),
        int(obj.status.as_ref().map_or(0, |s| s.disruptions_allowed)),
        age(&obj.metadata, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testutil::{cells, meta, now};
    use k8s_openapi::api::policy::v1::*;
    use serde_json::json;

    #[test]
    fn pdb() {
        let pdb = PodDisruptionBudget {
            metadata: meta("web", 60),
            spec: Some(PodDisruptionBudgetSpec {
                min_available: Some(IntOrString::String("50%".into())),
                ..Default::default()
            }),
            status: Some(PodDisruptionBudgetStatus {
                disruptions_allowed: 2,
                ..Default::default()
            }),
        };
        assert_eq!(
            cells(pod_disruption_budget_cells(&pdb, now())),
            json!(["web", "50%", "N/A", 2, "60s"])
        );
        let pdb2 = PodDisruptionBudget {
            metadata: meta("db", 60),
            spec: Some(PodDisruptionBudgetSpec {
                max_unavailable: Some(IntOrString::Int(1)),
                ..Default::default()
            }),
            status: None,
        };
        assert_eq!(
            cells(pod_disruption_budget_cells(&pdb2, now())),
            json!(["db", "N/A", "1", 0, "60s"])
        );
        assert_eq!(pod_disruption_budget_columns()[3].type_, "integer");
    }
}
