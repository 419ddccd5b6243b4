//! `discovery.k8s.io/v1`: endpointslices.

use apimachinery::ResourceInfo;
use k8s_openapi::api::discovery::v1 as api;

use super::{Registry, Resource, Strategy, parts};

parts!(data: api::EndpointSlice);

/// endpointslices
pub struct EndpointSlices;
impl Strategy for EndpointSlices {
    type K = api::EndpointSlice;
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true)
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// Registers discovery.k8s.io/v1.
pub fn register(r: &mut Registry) {
    r.add(Resource::new(EndpointSlices));
}
