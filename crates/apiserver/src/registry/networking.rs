//! `networking.k8s.io/v1`: ingresses, ingressclasses, networkpolicies.

use apimachinery::ResourceInfo;
use k8s_openapi::api::networking::v1 as api;

use super::{Registry, Resource, Strategy, parts};

parts!(spec, status: api::Ingress);
parts!(spec: api::IngressClass, api::NetworkPolicy);

const GROUP: &str = "networking.k8s.io";

/// ingresses
pub struct Ingresses;
impl Strategy for Ingresses {
    type K = api::Ingress;
    fn validate(&self, o: &api::Ingress) -> apimachinery::ErrorList {
        crate::validation::ingress(o)
    }
    fn validate_update(&self, new: &api::Ingress, old: &api::Ingress) -> apimachinery::ErrorList {
        crate::validation::ingress_update(new, old)
    }
    fn validate_status_update(&self, new: &api::Ingress, old: &api::Ingress) -> apimachinery::ErrorList {
        crate::validation::ingress_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::Ingress) {
        crate::defaults::networking::ingress(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::networking::ingress_columns()
    }
    fn cells(&self, o: &api::Ingress, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::networking::ingress_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new(GROUP, "v1", "Ingress", "ingresses", true).short(&["ing"])
    }
    fn storage_segment(&self) -> String {
        "ingress".into()
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// ingressclasses
pub struct IngressClasses;
impl Strategy for IngressClasses {
    type K = api::IngressClass;
    fn validate(&self, o: &api::IngressClass) -> apimachinery::ErrorList {
        crate::validation::ingress_class(o)
    }
    fn validate_update(&self, new: &api::IngressClass, old: &api::IngressClass) -> apimachinery::ErrorList {
        crate::validation::ingress_class_update(new, old)
    }
    fn defaults(&self, o: &mut api::IngressClass) {
        crate::defaults::networking::ingress_class(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::networking::ingress_class_columns()
    }
    fn cells(&self, o: &api::IngressClass, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::networking::ingress_class_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new(GROUP, "v1", "IngressClass", "ingressclasses", false)
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// networkpolicies
pub struct NetworkPolicies;
impl Strategy for NetworkPolicies {
    type K = api::NetworkPolicy;
    fn validate(&self, o: &api::NetworkPolicy) -> apimachinery::ErrorList {
        crate::validation::network_policy(o)
    }
    fn validate_update(&self, new: &api::NetworkPolicy, old: &api::NetworkPolicy) -> apimachinery::ErrorList {
        crate::validation::network_policy_update(new, old)
    }
    fn defaults(&self, o: &mut api::NetworkPolicy) {
        crate::defaults::networking::network_policy(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::networking::network_policy_columns()
    }
    fn cells(&self, o: &api::NetworkPolicy, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::networking::network_policy_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new(GROUP, "v1", "NetworkPolicy", "networkpolicies", true).short(&["netpol"])
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// Registers networking.k8s.io/v1.
pub fn register(r: &mut Registry) {
    r.add(Resource::new(IngressClasses));
    r.add(Resource::new(Ingresses));
    r.add(Resource::new(NetworkPolicies));
}
