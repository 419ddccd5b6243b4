//! `apiextensions.k8s.io/v1`: customresourcedefinitions (their custom resources are served by
//! the custom-resource registry).

use apimachinery::ResourceInfo;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as api;

use super::{Registry, Resource, Strategy, parts};

parts!(spec, status: api::CustomResourceDefinition);

/// customresourcedefinitions
pub struct CustomResourceDefinitions;
impl Strategy for CustomResourceDefinitions {
    type K = api::CustomResourceDefinition;
    fn validate(&self, o: &api::CustomResourceDefinition) -> apimachinery::ErrorList {
        let mut errs = crate::validation::custom_resource_definition(o);
        errs.extend(crate::crd::validate_schemas(o));
        errs
    }
    fn validate_update(&self, new: &api::CustomResourceDefinition, old: &api::CustomResourceDefinition) -> apimachinery::ErrorList {
        let mut errs = crate::validation::custom_resource_definition_update(new, old);
        errs.extend(crate::crd::validate_schemas(new));
        errs
    }
    fn validate_status_update(&self, new: &api::CustomResourceDefinition, old: &api::CustomResourceDefinition) -> apimachinery::ErrorList {
        crate::validation::custom_resource_definition_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::CustomResourceDefinition) {
        crate::defaults::apiextensions::custom_resource_definition(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::apiextensions::custom_resource_definition_columns()
    }
    fn cells(&self, o: &api::CustomResourceDefinition, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::apiextensions::custom_resource_definition_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false)
            .short(&["crd", "crds"])
            .categories(&["api-extensions"])
    }
    fn storage_segment(&self) -> String {
        "apiextensions.k8s.io/customresourcedefinitions".into()
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// Registers apiextensions.k8s.io/v1.
pub fn register(r: &mut Registry) {
    r.add(Resource::new(CustomResourceDefinitions));
}
