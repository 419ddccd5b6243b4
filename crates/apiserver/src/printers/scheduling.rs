//! Printer for `scheduling.k8s.io` PriorityClasses.

use apimachinery::table::Column;
use k8s_openapi::api::scheduling::v1::PriorityClass;
use serde_json::Value;

use super::docs::*;
use super::{age, bcol, boolean, col, icol, int, name, s};

/// PriorityClass columns: NAME, VALUE, GLOBAL-DEFAULT, AGE, PREEMPTIONPOLICY (upstream gives the
/// last one priority 0 although it only fills it in wide output, which the server always uses).
pub fn priority_class_columns() -> Vec<Column> {
    vec![
        Column::name(),
        icol("Value", PC_VALUE),
        bcol("Global-Default", PC_GLOBAL_DEFAULT),
        Column::age(),
        col("PreemptionPolicy", PC_PREEMPTION_POLICY),
    ]
}

/// PriorityClass cells; GLOBAL-DEFAULT is a boolean cell.
pub fn priority_class_cells(obj: &PriorityClass, now: jiff::Timestamp) -> Vec<Value> {
    vec![
        s(name(&obj.metadata)),
        int(obj.value),
        boolean(obj.global_default.unwrap_or(false)),
        age(&obj.metadata, now),
        s(obj.preemption_policy.clone().unwrap_or_default()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testutil::{cells, meta, now};
    use serde_json::json;

    #[test]
    fn priority_class() {
        let pc = PriorityClass {
            metadata: meta("system-cluster-critical", 86400 * 10),
            value: 2000000000,
            preemption_policy: Some("PreemptLowerPriority".into()),
            ..Default::default()
        };
        assert_eq!(
            cells(priority_class_cells(&pc, now())),
            json!([
                "system-cluster-critical",
                2000000000,
                false,
                "10d",
                "PreemptLowerPriority"
            ])
        );
        let cols = priority_class_columns();
        assert_eq!(cols[2].type_, "boolean");
        assert_eq!(cols[4].priority, 0);
    }
}
