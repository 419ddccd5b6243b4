//! Defaults for `scheduling.k8s.io/v1`.

use k8s_openapi::api::scheduling::v1::PriorityClass;

use super::default_ptr;

/// PriorityClass defaults: `preemptionPolicy: PreemptLowerPriority`.
pub fn priority_class(obj: &mut PriorityClass) {
    default_ptr(
        &mut obj.preemption_policy,
        "PreemptLowerPriority".to_owned(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults::testutil::{assert_idempotent, from_json, to_json};
    use serde_json::json;

    #[test]
    fn preemption_policy() {
        let mut p: PriorityClass = from_json(json!({"metadata": {"name": "high"}, "value": 1000}));
        priority_class(&mut p);
        assert_eq!(
            to_json(&p),
            json!({"metadata": {"name": "high"}, "value": 1000, "preemptionPolicy": "PreemptLowerPriority"})
        );
        let mut p: PriorityClass = from_json(
            json!({"metadata": {"name": "high"}, "value": 1000, "preemptionPolicy": "Never"}),
        );
        priority_class(&mut p);
        assert_eq!(p.preemption_policy.as_deref(), Some("Never"));
        assert_idempotent(&p, priority_class);
    }
}
