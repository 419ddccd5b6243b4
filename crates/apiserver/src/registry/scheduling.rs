//! `scheduling.k8s.io/v1`: priorityclasses.

use apimachinery::ResourceInfo;
use k8s_openapi::api::scheduling::v1 as api;

use super::{Registry, Resource, Strategy, parts};

parts!(data: api::PriorityClass);

/// priorityclasses
pub struct PriorityClasses;
impl Strategy for PriorityClasses {
    type K = api::PriorityClass;
    fn validate(&self, o: &api::PriorityClass) -> apimachinery::ErrorList {
        crate::validation::priority_class(o)
    }
    fn validate_update(&self, new: &api::PriorityClass, old: &api::PriorityClass) -> apimachinery::ErrorList {
        crate::validation::priority_class_update(new, old)
    }
    fn defaults(&self, o: &mut api::PriorityClass) {
        crate::defaults::scheduling::priority_class(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::scheduling::priority_class_columns()
    }
    fn cells(&self, o: &api::PriorityClass, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::scheduling::priority_class_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", false).short(&["pc"])
    }
}

/// Registers scheduling.k8s.io/v1.
pub fn register(r: &mut Registry) {
    r.add(Resource::new(PriorityClasses));
}
