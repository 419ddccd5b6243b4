//! Printers for `admissionregistration.k8s.io`.

use apimachinery::table::Column;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
    ValidatingWebhookConfiguration,
};
use serde_json::Value;

use super::{UNSET, age, col, icol, int, label_selector_go_string, name, s};

const WEBHOOKS_DESC: &str =
    "Webhooks indicates the number of webhooks registered in this configuration";

/// MutatingWebhookConfiguration columns: NAME, WEBHOOKS, AGE.
pub fn mutating_webhook_configuration_columns() -> Vec<Column> {
    vec![
        Column::name(),
        icol("Webhooks", WEBHOOKS_DESC),
        Column::age(),
    ]
}

/// MutatingWebhookConfiguration cells.
pub fn mutating_webhook_configuration_cells(
    obj: &MutatingWebhookConfiguration,
    now: jiff::Timestamp,
) -> Vec<Value> {
    let n = obj.webhooks.as_ref().map_or(0, Vec::len);
    vec![
        s(name(&obj.metadata)),
        int(n as i64),
        age(&obj.metadata, now),
    ]
}

/// ValidatingWebhookConfiguration columns: NAME, WEBHOOKS, AGE.
pub fn validating_webhook_configuration_columns() -> Vec<Column> {
    vec![
        Column::name(),
        icol("Webhooks", WEBHOOKS_DESC),
        Column::age(),
    ]
}

/// ValidatingWebhookConfiguration cells.
pub fn validating_webhook_configuration_cells(
    obj: &ValidatingWebhookConfiguration,
    now: jiff::Timestamp,
) -> Vec<Value> {
    let n = obj.webhooks.as_ref().map_or(0, Vec::len);
    vec![
        s(name(&obj.metadata)),
        int(n as i64),
        age(&obj.metadata, now),
    ]
}

/// ValidatingAdmissionPolicy columns: NAME, VALIDATIONS, PARAMKIND, AGE.
pub fn validating_admission_policy_columns() -> Vec<Column> {
    vec![
        Column::name(),
        icol(
            "Validations",
            "Validations indicates the number of validation rules defined in this configuration",
        ),
        col(
            "ParamKind",
            "ParamKind specifies the kind of resources used to parameterize this policy",
        ),
        Column::age(),
    ]
}

/// ValidatingAdmissionPolicy cells; PARAMKIND is `apiVersion/kind` or `<unset>`.
pub fn validating_admission_policy_cells(
    obj: &ValidatingAdmissionPolicy,
    now: jiff::Timestamp,
) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let param_kind = match spec.and_then(|s| s.param_kind.as_ref()) {
        Some(pk) => format!(
            "{}/{}",
            pk.api_version.as_deref().unwrap_or(""),
            pk.kind.as_deref().unwrap_or("")
        ),
        None => UNSET.into(),
    };
    let n = spec
        .and_then(|s| s.validations.as_ref())
        .map_or(0, Vec::len);
    vec![
        s(name(&obj.metadata)),
        int(n as i64),
        s(param_kind),
        age(&obj.metadata, now),
    ]
}

/// ValidatingAdmissionPolicyBinding columns: NAME, POLICYNAME, PARAMREF, AGE.
pub fn validating_admission_policy_binding_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col(
            "PolicyName",
            "PolicyName indicates the policy definition which the policy binding binded to",
        ),
        col(
            "ParamRef",
            "ParamRef indicates the param resource which sets the configration param",
        ),
        Column::age(),
    ]
}

/// ValidatingAdmissionPolicyBinding cells; PARAMREF is `namespace/name`, `*/name` without a
/// namespace, the selector (in Go's debug form, as upstream prints it) without a name, or
/// `<unset>`.
pub fn validating_admission_policy_binding_cells(
    obj: &ValidatingAdmissionPolicyBinding,
    now: jiff::Timestamp,
) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let param = match spec.and_then(|s| s.param_ref.as_ref()) {
        Some(pr) => {
            let pname = pr.name.as_deref().unwrap_or("");
            let pns = pr.namespace.as_deref().unwrap_or("");
            if !pname.is_empty() {
                if pns.is_empty() {
                    format!("*/{pname}")
                } else {
                    format!("{pns}/{pname}")
                }
            } else if let Some(sel) = &pr.selector {
                label_selector_go_string(sel)
            } else {
                UNSET.into()
            }
        }
        None => UNSET.into(),
    };
    vec![
        s(name(&obj.metadata)),
        s(spec.and_then(|s| s.policy_name.clone()).unwrap_or_default()),
        s(param),
        age(&obj.metadata, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testutil::{cells, meta, now};
    use k8s_openapi::api::admissionregistration::v1::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
    use serde_json::json;

    #[test]
    fn webhooks() {
        let m = MutatingWebhookConfiguration {
            metadata: meta("istio", 60),
            webhooks: Some(vec![MutatingWebhook::default(), MutatingWebhook::default()]),
        };
        assert_eq!(
            cells(mutating_webhook_configuration_cells(&m, now())),
            json!(["istio", 2, "60s"])
        );
        let v = ValidatingWebhookConfiguration {
            metadata: meta("gk", 60),
            webhooks: None,
        };
        assert_eq!(
            cells(validating_webhook_configuration_cells(&v, now())),
            json!(["gk", 0, "60s"])
        );
        assert_eq!(
            validating_webhook_configuration_columns()[1].type_,
            "integer"
        );
    }

    #[test]
    fn policies_and_bindings() {
        let p = ValidatingAdmissionPolicy {
            metadata: meta("replicas", 60),
            spec: Some(ValidatingAdmissionPolicySpec {
                param_kind: Some(ParamKind {
                    api_version: Some("v1".into()),
                    kind: Some("ConfigMap".into()),
                }),
                validations: Some(vec![
                    Validation::default(),
                    Validation::default(),
                    Validation::default(),
                ]),
                ..Default::default()
            }),
            status: None,
        };
        assert_eq!(
            cells(validating_admission_policy_cells(&p, now())),
            json!(["replicas", 3, "v1/ConfigMap", "60s"])
        );
        let p2 = ValidatingAdmissionPolicy {
            metadata: meta("x", 60),
            spec: None,
            status: None,
        };
        assert_eq!(
            cells(validating_admission_policy_cells(&p2, now())),
            json!(["x", 0, "<unset>", "60s"])
        );

        let mut b = ValidatingAdmissionPolicyBinding {
            metadata: meta("replicas-binding", 60),
            spec: Some(ValidatingAdmissionPolicyBindingSpec {
                policy_name: Some("replicas".into()),
                param_ref: Some(ParamRef {
                    name: Some("limits".into()),
                    namespace: Some("ops".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        };
        assert_eq!(
            cells(validating_admission_policy_binding_cells(&b, now())),
            json!(["replicas-binding", "replicas", "ops/limits", "60s"])
        );
        b.spec.as_mut().unwrap().param_ref = Some(ParamRef {
            name: Some("limits".into()),
            ..Default::default()
        });
        assert_eq!(
            validating_admission_policy_binding_cells(&b, now())[2],
            json!("*/limits")
        );
        b.spec.as_mut().unwrap().param_ref = Some(ParamRef {
            selector: Some(LabelSelector {
                match_labels: Some([("env".to_string(), "prod".to_string())].into()),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(
            validating_admission_policy_binding_cells(&b, now())[2],
            json!(
                "&LabelSelector{MatchLabels:map[string]string{env: prod,},MatchExpressions:[]LabelSelectorRequirement{},}"
            )
        );
        b.spec.as_mut().unwrap().param_ref = None;
        assert_eq!(
            validating_admission_policy_binding_cells(&b, now())[2],
            json!("<unset>")
        );
    }
}
