//! Defaults for `apiextensions.k8s.io/v1`.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceConversion, CustomResourceDefinition,
};

use super::{default_ptr, len_zero, str_unset};

/// CustomResourceDefinition defaults: `names.singular` is the lower-cased kind,
/// `names.listKind` is `<Kind>List`, `conversion.strategy: None`, a webhook service
/// `port: 443`, and `status.storedVersions` lists the storage version when empty.
pub fn custom_resource_definition(obj: &mut CustomResourceDefinition) {
    let spec = &mut obj.spec;
    if str_unset(&spec.names.singular) && !spec.names.kind.is_empty() {
        spec.names.singular = Some(spec.names.kind.to_lowercase());
    }
    if str_unset(&spec.names.list_kind) && !spec.names.kind.is_empty() {
        spec.names.list_kind = Some(format!("{}List", spec.names.kind));
    }
    default_ptr(
        &mut spec.conversion,
        CustomResourceConversion {
            strategy: "None".to_owned(),
            webhook: None,
        },
    );
    let service = spec
        .conversion
        .as_mut()
        .and_then(|c| c.webhook.as_mut())
        .and_then(|w| w.client_config.as_mut())
        .and_then(|c| c.service.as_mut());
    if let Some(s) = service {
        default_ptr(&mut s.port, 443);
    }
    let has_stored = obj
        .status
        .as_ref()
        .is_some_and(|s| !len_zero(&s.stored_versions));
    if !has_stored && let Some(v) = spec.versions.iter().find(|v| v.storage) {
        obj.status
            .get_or_insert_with(Default::default)
            .stored_versions = Some(vec![v.name.clone()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults::testutil::{assert_idempotent, from_json, to_json};
    use serde_json::json;

    #[test]
    fn crd_defaults() {
        let mut c: CustomResourceDefinition = from_json(
            json!({"metadata": {"name": "widgets.example.com"}, "spec": {
            "group": "example.com", "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets"},
            "versions": [{"name": "v1alpha1", "served": true, "storage": false},
                {"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object"}}}]}}),
        );
        custom_resource_definition(&mut c);
        let v = to_json(&c);
        assert_eq!(
            v["spec"]["names"],
            json!({"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"})
        );
        assert_eq!(v["spec"]["conversion"], json!({"strategy": "None"}));
        assert_eq!(v["status"]["storedVersions"], json!(["v1"]));
        assert_idempotent(&c, custom_resource_definition);

        let mut c: CustomResourceDefinition = from_json(
            json!({"metadata": {"name": "widgets.example.com"}, "spec": {
            "group": "example.com", "scope": "Cluster",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "wdg", "listKind": "Widgets"},
            "conversion": {"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v1"],
                "clientConfig": {"service": {"namespace": "ns", "name": "conv"}}}},
            "versions": [{"name": "v1", "served": true, "storage": true}]},
            "status": {"storedVersions": ["v0"]}}),
        );
        custom_resource_definition(&mut c);
        let v = to_json(&c);
        assert_eq!(v["spec"]["names"]["singular"], json!("wdg"));
        assert_eq!(v["spec"]["names"]["listKind"], json!("Widgets"));
        assert_eq!(v["spec"]["conversion"]["strategy"], json!("Webhook"));
        assert_eq!(
            v["spec"]["conversion"]["webhook"]["clientConfig"]["service"]["port"],
            json!(443)
        );
        assert_eq!(v["status"]["storedVersions"], json!(["v0"]));
    }
}
