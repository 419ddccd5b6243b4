//! Defaults for `policy/v1`.

use k8s_openapi::api::policy::v1::PodDisruptionBudget;

/// PodDisruptionBudget: upstream has no defaults for this kind.
pub fn pod_disruption_budget(_obj: &mut PodDisruptionBudget) {}
