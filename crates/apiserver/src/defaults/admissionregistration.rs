//! Defaults for `admissionregistration.k8s.io/v1`.

use k8s_openapi::api::admissionregistration::v1::{
    MatchResources, MutatingWebhookConfiguration, NamedRuleWithOperations, RuleWithOperations,
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding, ValidatingWebhookConfiguration,
    WebhookClientConfig,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::{default_ptr, default_str_ptr};

fn rules(rules: &mut Option<Vec<RuleWithOperations>>) {
    for r in rules.iter_mut().flatten() {
        default_str_ptr(&mut r.scope, "*");
    }
}

fn named_rules(rules: &mut Option<Vec<NamedRuleWithOperations>>) {
    for r in rules.iter_mut().flatten() {
        default_str_ptr(&mut r.scope, "*");
    }
}

fn client_config(c: &mut WebhookClientConfig) {
    if let Some(s) = &mut c.service {
        default_ptr(&mut s.port, 443);
    }
}

/// Shared by the two webhook kinds (identical field names).
macro_rules! default_webhook_fields {
    ($w:expr) => {{
        let w = $w;
        default_str_ptr(&mut w.failure_policy, "Fail");
        default_str_ptr(&mut w.match_policy, "Equivalent");
        default_ptr(&mut w.namespace_selector, LabelSelector::default());
        default_ptr(&mut w.object_selector, LabelSelector::default());
        default_ptr(&mut w.timeout_seconds, 10);
        client_config(&mut w.client_config);
        rules(&mut w.rules);
    }};
}

/// ValidatingWebhookConfiguration defaults, per webhook: `failurePolicy: Fail`,
/// `matchPolicy: Equivalent`, empty (match-all) `namespaceSelector` and `objectSelector`,
/// `timeoutSeconds: 10`, service `port: 443`, rule `scope: "*"`. (`sideEffects` and
/// `admissionReviewVersions` are required in v1 and not defaulted.)
pub fn validating_webhook_configuration(obj: &mut ValidatingWebhookConfiguration) {
    for w in obj.webhooks.iter_mut().flatten() {
        default_webhook_fields!(w);
    }
}

/// MutatingWebhookConfiguration defaults: as for validating webhooks, plus
/// `reinvocationPolicy: Never`.
pub fn mutating_webhook_configuration(obj: &mut MutatingWebhookConfiguration) {
    for w in obj.webhooks.iter_mut().flatten() {
        default_webhook_fields!(&mut *w);
        default_str_ptr(&mut w.reinvocation_policy, "Never");
    }
}

fn match_resources(m: &mut MatchResources) {
    default_str_ptr(&mut m.match_policy, "Equivalent");
    default_ptr(&mut m.namespace_selector, LabelSelector::default());
    default_ptr(&mut m.object_selector, LabelSelector::default());
    named_rules(&mut m.resource_rules);
    named_rules(&mut m.exclude_resource_rules);
}

/// ValidatingAdmissionPolicy defaults: `failurePolicy: Fail`; present `matchConstraints`
/// get `matchPolicy: Equivalent`, empty selectors and rule `scope: "*"`.
pub fn validating_admission_policy(obj: &mut ValidatingAdmissionPolicy) {
    let spec = obj.spec.get_or_insert_with(Default::default);
    default_str_ptr(&mut spec.failure_policy, "Fail");
    if let Some(m) = &mut spec.match_constraints {
        match_resources(m);
    }
}

/// ValidatingAdmissionPolicyBinding defaults: present `matchResources` get
/// `matchPolicy: Equivalent`, empty selectors and rule `scope: "*"`. (`paramRef` has no
/// defaults in v1.)
pub fn validating_admission_policy_binding(obj: &mut ValidatingAdmissionPolicyBinding) {
    if let Some(m) = obj.spec.as_mut().and_then(|s| s.match_resources.as_mut()) {
        match_resources(m);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults::testutil::{assert_idempotent, from_json, to_json};
    use serde_json::json;

    fn webhook() -> serde_json::Value {
        json!({"name": "hook.example.com", "sideEffects": "None", "admissionReviewVersions": ["v1"],
            "clientConfig": {"service": {"namespace": "ns", "name": "svc"}},
            "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}]})
    }

    fn defaulted_webhook() -> serde_json::Value {
        json!({"name": "hook.example.com", "sideEffects": "None", "admissionReviewVersions": ["v1"],
            "clientConfig": {"service": {"namespace": "ns", "name": "svc", "port": 443}},
            "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"], "scope": "*"}],
            "failurePolicy": "Fail", "matchPolicy": "Equivalent", "namespaceSelector": {}, "objectSelector": {},
            "timeoutSeconds": 10})
    }

    #[test]
    fn validating_webhooks() {
        let mut c: ValidatingWebhookConfiguration =
            from_json(json!({"metadata": {"name": "v"}, "webhooks": [webhook()]}));
        validating_webhook_configuration(&mut c);
        assert_eq!(to_json(&c)["webhooks"], json!([defaulted_webhook()]));
        assert_idempotent(&c, validating_webhook_configuration);
    }

    #[test]
    fn mutating_webhooks() {
        let mut c: MutatingWebhookConfiguration =
            from_json(json!({"metadata": {"name": "m"}, "webhooks": [webhook()]}));
        mutating_webhook_configuration(&mut c);
        let mut want = defaulted_webhook();
        want["reinvocationPolicy"] = json!("Never");
        assert_eq!(to_json(&c)["webhooks"], json!([want]));
        assert_idempotent(&c, mutating_webhook_configuration);

        let mut w = webhook();
        w["failurePolicy"] = json!("Ignore");
        w["timeoutSeconds"] = json!(3);
        w["reinvocationPolicy"] = json!("IfNeeded");
        w["rules"][0]["scope"] = json!("Namespaced");
        w["namespaceSelector"] = json!({"matchLabels": {"a": "b"}});
        let mut c: MutatingWebhookConfiguration =
            from_json(json!({"metadata": {"name": "m"}, "webhooks": [w]}));
        mutating_webhook_configuration(&mut c);
        let v = to_json(&c);
        assert_eq!(v["webhooks"][0]["failurePolicy"], json!("Ignore"));
        assert_eq!(v["webhooks"][0]["timeoutSeconds"], json!(3));
        assert_eq!(v["webhooks"][0]["reinvocationPolicy"], json!("IfNeeded"));
        assert_eq!(v["webhooks"][0]["rules"][0]["scope"], json!("Namespaced"));
        assert_eq!(
            v["webhooks"][0]["namespaceSelector"],
            json!({"matchLabels": {"a": "b"}})
        );
    }

    #[test]
    fn policies_and_bindings() {
        let mut p: ValidatingAdmissionPolicy = from_json(
            json!({"metadata": {"name": "p"}, "spec": {
            "matchConstraints": {"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE"],
                "resources": ["deployments"]}], "excludeResourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                "operations": ["*"], "resources": ["pods"], "scope": "Namespaced"}]},
            "validations": [{"expression": "true"}]}}),
        );
        validating_admission_policy(&mut p);
        let v = to_json(&p);
        assert_eq!(v["spec"]["failurePolicy"], json!("Fail"));
        assert_eq!(
            v["spec"]["matchConstraints"],
            json!({
                "matchPolicy": "Equivalent", "namespaceSelector": {}, "objectSelector": {},
                "resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["deployments"], "scope": "*"}],
                "excludeResourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["*"], "resources": ["pods"], "scope": "Namespaced"}]
            })
        );
        assert_idempotent(&p, validating_admission_policy);

        let mut b: ValidatingAdmissionPolicyBinding =
            from_json(json!({"metadata": {"name": "b"}, "spec": {
            "policyName": "p", "validationActions": ["Deny"], "matchResources": {}}}));
        validating_admission_policy_binding(&mut b);
        assert_eq!(
            to_json(&b)["spec"],
            json!({"policyName": "p", "validationActions": ["Deny"],
            "matchResources": {"matchPolicy": "Equivalent", "namespaceSelector": {}, "objectSelector": {}}})
        );
        assert_idempotent(&b, validating_admission_policy_binding);

        let mut b: ValidatingAdmissionPolicyBinding =
            from_json(json!({"metadata": {"name": "b"}, "spec": {
            "policyName": "p", "validationActions": ["Deny"]}}));
        validating_admission_policy_binding(&mut b);
        assert!(to_json(&b)["spec"].get("matchResources").is_none());
    }
}
