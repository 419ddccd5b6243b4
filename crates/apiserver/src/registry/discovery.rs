//! `discovery.k8s.io/v1`: endpointslices.

use apimachinery::ResourceInfo;
use k8s_openapi::api::discovery::v1 as api;

use super::{Registry, Resource, Strategy, parts};

parts!(data: api::EndpointSlice);

/// endpointslices
pub struct EndpointSlices;
impl Strategy for EndpointSlices {
    type K = api::EndpointSlice;
    fn validate(&self, o: &api::EndpointSlice) -> apimachinery::ErrorList {
        crate::validation::endpoint_slice(o)
    }
    fn validate_update(&self, new: &api::EndpointSlice, old: &api::EndpointSlice) -> apimachinery::ErrorList {
        crate::validation::endpoint_slice_update(new, old)
    }
    fn generation_changed(&self, new: &api::EndpointSlice, old: &api::EndpointSlice) -> bool {
        new.address_type != old.address_type
            || new.endpoints != old.endpoints
            || new.ports != old.ports
            || new.metadata.labels != old.metadata.labels
    }
    fn defaults(&self, o: &mut api::EndpointSlice) {
        crate::defaults::discovery::endpoint_slice(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::discovery::endpoint_slice_columns()
    }
    fn cells(&self, o: &api::EndpointSlice, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::discovery::endpoint_slice_cells(o, now)
    }
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
