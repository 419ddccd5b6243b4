//! `node.k8s.io/v1`: runtimeclasses.

use apimachinery::ResourceInfo;
use k8s_openapi::api::node::v1 as api;

use super::{Registry, Resource, Strategy, parts};

parts!(data: api::RuntimeClass);

/// runtimeclasses
pub struct RuntimeClasses;
impl Strategy for RuntimeClasses {
    type K = api::RuntimeClass;
    fn validate(&self, o: &api::RuntimeClass) -> apimachinery::ErrorList {
        crate::validation::runtime_class(o)
    }
    fn validate_update(&self, new: &api::RuntimeClass, old: &api::RuntimeClass) -> apimachinery::ErrorList {
        crate::validation::runtime_class_update(new, old)
    }
    fn defaults(&self, o: &mut api::RuntimeClass) {
        crate::defaults::node::runtime_class(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::node::runtime_class_columns()
    }
    fn cells(&self, o: &api::RuntimeClass, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::node::runtime_class_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", false)
    }
}

/// Registers node.k8s.io/v1.
pub fn register(r: &mut Registry) {
    r.add(Resource::new(RuntimeClasses));
}
