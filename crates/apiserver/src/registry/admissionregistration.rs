//! `admissionregistration.k8s.io/v1`: webhook configurations and validating admission policies.

use apimachinery::ResourceInfo;
use k8s_openapi::api::admissionregistration::v1 as api;

use super::{Registry, Resource, Strategy, parts};

parts!(spec, status: api::ValidatingAdmissionPolicy);
parts!(spec: api::ValidatingAdmissionPolicyBinding);
parts!(data: api::MutatingWebhookConfiguration, api::ValidatingWebhookConfiguration);

const GROUP: &str = "admissionregistration.k8s.io";

/// mutatingwebhookconfigurations
pub struct MutatingWebhookConfigurations;
impl Strategy for MutatingWebhookConfigurations {
    type K = api::MutatingWebhookConfiguration;
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new(GROUP, "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", false)
            .categories(&["api-extensions"])
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// validatingwebhookconfigurations
pub struct ValidatingWebhookConfigurations;
impl Strategy for ValidatingWebhookConfigurations {
    type K = api::ValidatingWebhookConfiguration;
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new(GROUP, "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", false)
            .categories(&["api-extensions"])
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// validatingadmissionpolicies
pub struct ValidatingAdmissionPolicies;
impl Strategy for ValidatingAdmissionPolicies {
    type K = api::ValidatingAdmissionPolicy;
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new(GROUP, "v1", "ValidatingAdmissionPolicy", "validatingadmissionpolicies", false)
            .categories(&["api-extensions"])
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// validatingadmissionpolicybindings
pub struct ValidatingAdmissionPolicyBindings;
impl Strategy for ValidatingAdmissionPolicyBindings {
    type K = api::ValidatingAdmissionPolicyBinding;
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new(GROUP, "v1", "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings", false)
            .categories(&["api-extensions"])
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// Registers admissionregistration.k8s.io/v1.
pub fn register(r: &mut Registry) {
    r.add(Resource::new(MutatingWebhookConfigurations));
    r.add(Resource::new(ValidatingAdmissionPolicies));
    r.add(Resource::new(ValidatingAdmissionPolicyBindings));
    r.add(Resource::new(ValidatingWebhookConfigurations));
}
