//! `policy/v1`: poddisruptionbudgets.

use apimachinery::ResourceInfo;
use k8s_openapi::api::policy::v1 as api;

use super::{Registry, Resource, Strategy, parts};

parts!(spec, status: api::PodDisruptionBudget);

/// poddisruptionbudgets
pub struct PodDisruptionBudgets;
impl Strategy for PodDisruptionBudgets {
    type K = api::PodDisruptionBudget;
    fn validate(&self, o: &api::PodDisruptionBudget) -> apimachinery::ErrorList {
        crate::validation::pod_disruption_budget(o)
    }
    fn validate_update(&self, new: &api::PodDisruptionBudget, old: &api::PodDisruptionBudget) -> apimachinery::ErrorList {
        crate::validation::pod_disruption_budget_update(new, old)
    }
    fn validate_status_update(&self, new: &api::PodDisruptionBudget, old: &api::PodDisruptionBudget) -> apimachinery::ErrorList {
        crate::validation::pod_disruption_budget_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::PodDisruptionBudget) {
        crate::defaults::policy::pod_disruption_budget(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::policy::pod_disruption_budget_columns()
    }
    fn cells(&self, o: &api::PodDisruptionBudget, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::policy::pod_disruption_budget_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true).short(&["pdb"])
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// Registers policy/v1.
pub fn register(r: &mut Registry) {
    r.add(Resource::new(PodDisruptionBudgets));
}
