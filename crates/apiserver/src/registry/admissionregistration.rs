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
    fn validate(&self, o: &api::MutatingWebhookConfiguration) -> apimachinery::ErrorList {
        crate::validation::mutating_webhook_configuration(o)
    }
    fn validate_update(&self, new: &api::MutatingWebhookConfiguration, old: &api::MutatingWebhookConfiguration) -> apimachinery::ErrorList {
        crate::validation::mutating_webhook_configuration_update(new, old)
    }
    fn generation_changed(&self, new: &api::MutatingWebhookConfiguration, old: &api::MutatingWebhookConfiguration) -> bool {
        new.webhooks != old.webhooks
    }
    fn defaults(&self, o: &mut api::MutatingWebhookConfiguration) {
        crate::defaults::admissionregistration::mutating_webhook_configuration(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::admissionregistration::mutating_webhook_configuration_columns()
    }
    fn cells(&self, o: &api::MutatingWebhookConfiguration, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::admissionregistration::mutating_webhook_configuration_cells(o, now)
    }
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
    fn validate(&self, o: &api::ValidatingWebhookConfiguration) -> apimachinery::ErrorList {
        crate::validation::validating_webhook_configuration(o)
    }
    fn validate_update(&self, new: &api::ValidatingWebhookConfiguration, old: &api::ValidatingWebhookConfiguration) -> apimachinery::ErrorList {
        crate::validation::validating_webhook_configuration_update(new, old)
    }
    fn generation_changed(&self, new: &api::ValidatingWebhookConfiguration, old: &api::ValidatingWebhookConfiguration) -> bool {
        new.webhooks != old.webhooks
    }
    fn defaults(&self, o: &mut api::ValidatingWebhookConfiguration) {
        crate::defaults::admissionregistration::validating_webhook_configuration(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::admissionregistration::validating_webhook_configuration_columns()
    }
    fn cells(&self, o: &api::ValidatingWebhookConfiguration, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::admissionregistration::validating_webhook_configuration_cells(o, now)
    }
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
    fn validate(&self, o: &api::ValidatingAdmissionPolicy) -> apimachinery::ErrorList {
        crate::validation::validating_admission_policy(o)
    }
    fn validate_update(&self, new: &api::ValidatingAdmissionPolicy, old: &api::ValidatingAdmissionPolicy) -> apimachinery::ErrorList {
        crate::validation::validating_admission_policy_update(new, old)
    }
    fn validate_status_update(&self, new: &api::ValidatingAdmissionPolicy, old: &api::ValidatingAdmissionPolicy) -> apimachinery::ErrorList {
        crate::validation::validating_admission_policy_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::ValidatingAdmissionPolicy) {
        crate::defaults::admissionregistration::validating_admission_policy(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::admissionregistration::validating_admission_policy_columns()
    }
    fn cells(&self, o: &api::ValidatingAdmissionPolicy, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::admissionregistration::validating_admission_policy_cells(o, now)
    }
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
    fn validate(&self, o: &api::ValidatingAdmissionPolicyBinding) -> apimachinery::ErrorList {
        crate::validation::validating_admission_policy_binding(o)
    }
    fn validate_update(&self, new: &api::ValidatingAdmissionPolicyBinding, old: &api::ValidatingAdmissionPolicyBinding) -> apimachinery::ErrorList {
        crate::validation::validating_admission_policy_binding_update(new, old)
    }
    fn defaults(&self, o: &mut api::ValidatingAdmissionPolicyBinding) {
        crate::defaults::admissionregistration::validating_admission_policy_binding(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::admissionregistration::validating_admission_policy_binding_columns()
    }
    fn cells(&self, o: &api::ValidatingAdmissionPolicyBinding, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::admissionregistration::validating_admission_policy_binding_cells(o, now)
    }
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
