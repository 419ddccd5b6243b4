//! `coordination.k8s.io/v1`: leases.

use apimachinery::ResourceInfo;
use k8s_openapi::api::coordination::v1 as api;

use super::{Registry, Resource, Strategy, parts};

parts!(spec: api::Lease);

/// leases
pub struct Leases;
impl Strategy for Leases {
    type K = api::Lease;
    fn validate(&self, o: &api::Lease) -> apimachinery::ErrorList {
        crate::validation::lease(o)
    }
    fn validate_update(&self, new: &api::Lease, old: &api::Lease) -> apimachinery::ErrorList {
        crate::validation::lease_update(new, old)
    }
    fn defaults(&self, o: &mut api::Lease) {
        crate::defaults::coordination::lease(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::coordination::lease_columns()
    }
    fn cells(&self, o: &api::Lease, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::coordination::lease_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new("coordination.k8s.io", "v1", "Lease", "leases", true)
    }
}

/// Registers coordination.k8s.io/v1.
pub fn register(r: &mut Registry) {
    r.add(Resource::new(Leases));
}
