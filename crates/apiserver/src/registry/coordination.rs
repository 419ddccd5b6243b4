//! `coordination.k8s.io/v1`: leases.

use apimachinery::ResourceInfo;
use k8s_openapi::api::coordination::v1 as api;

use super::{Registry, Resource, Strategy, parts};

parts!(spec: api::Lease);

/// leases
pub struct Leases;
impl Strategy for Leases {
    type K = api::Lease;
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new("coordination.k8s.io", "v1", "Lease", "leases", true)
    }
}

/// Registers coordination.k8s.io/v1.
pub fn register(r: &mut Registry) {
    r.add(Resource::new(Leases));
}
