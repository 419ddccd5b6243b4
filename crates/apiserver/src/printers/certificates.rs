//! Printer for `certificates.k8s.io` CertificateSigningRequests.

use apimachinery::table::{Column, human_duration};
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use serde_json::Value;

use super::docs::*;
use super::{NONE, age, col, name, s};

/// CertificateSigningRequest columns: NAME, AGE, SIGNERNAME, REQUESTOR, REQUESTEDDURATION,
/// CONDITION.
pub fn certificate_signing_request_columns() -> Vec<Column> {
    vec![
        Column::name(),
        Column::age(),
        col("SignerName", CSR1B1_SPEC_SIGNER_NAME),
        col("Requestor", CSR1B1_SPEC_REQUEST),
        col("RequestedDuration", CSR1B1_SPEC_EXPIRATION_SECONDS),
        col("Condition", CSR1B1_STATUS_CONDITIONS),
    ]
}

/// The CONDITION text: Denied, Approved or Pending, then `,Failed` and `,Issued` as they apply.
fn csr_condition(obj: &CertificateSigningRequest) -> String {
    let status = obj.status.as_ref();
    let conditions = status.and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);
    let has = |t: &str| conditions.iter().any(|c| c.type_ == t);
    let mut text = if has("Denied") {
        "Denied".to_string()
    } else if has("Approved") {
        "Approved".to_string()
    } else {
        "Pending".to_string()
    };
    if has("Failed") {
        text.push_str(",Failed");
    }
    if status
        .and_then(|s| s.certificate.as_ref())
        .is_some_and(|c| !c.0.is_empty())
    {
        text.push_str(",Issued");
    }
    text
}

/// CertificateSigningRequest cells.
pub fn certificate_signing_request_cells(
    obj: &CertificateSigningRequest,
    now: jiff::Timestamp,
) -> Vec<Value> {
    let signer = if obj.spec.signer_name.is_empty() {
        NONE.to_string()
    } else {
        obj.spec.signer_name.clone()
    };
    let requested = match obj.spec.expiration_seconds {
        Some(secs) => human_duration(i64::from(secs)),
        None => NONE.into(),
    };
    vec![
        s(name(&obj.metadata)),
        age(&obj.metadata, now),
        s(signer),
        s(obj.spec.username.clone().unwrap_or_default()),
        s(requested),
        s(csr_condition(obj)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testutil::{cells, meta, now};
    use k8s_openapi::api::certificates::v1::*;
    use serde_json::json;

    fn cond(t: &str) -> CertificateSigningRequestCondition {
        CertificateSigningRequestCondition {
            type_: t.into(),
            status: "True".into(),
            ..Default::default()
        }
    }

    #[test]
    fn csr() {
        let mut csr = CertificateSigningRequest {
            metadata: meta("csr-abc", 60),
            spec: CertificateSigningRequestSpec {
                signer_name: "kubernetes.io/kube-apiserver-client-kubelet".into(),
                username: Some("system:node:node-a".into()),
                expiration_seconds: Some(86400),
                ..Default::default()
            },
            status: None,
        };
        assert_eq!(
            cells(certificate_signing_request_cells(&csr, now())),
            json!([
                "csr-abc",
                "60s",
                "kubernetes.io/kube-apiserver-client-kubelet",
                "system:node:node-a",
                "24h",
                "Pending"
            ])
        );
        csr.status = Some(CertificateSigningRequestStatus {
            conditions: Some(vec![cond("Approved"), cond("Failed")]),
            certificate: Some(k8s_openapi::ByteString(b"PEM".to_vec())),
        });
        csr.spec.expiration_seconds = None;
        let c = certificate_signing_request_cells(&csr, now());
        assert_eq!(c[4], json!("<none>"));
        assert_eq!(c[5], json!("Approved,Failed,Issued"));
        csr.status.as_mut().unwrap().conditions = Some(vec![cond("Approved"), cond("Denied")]);
        assert_eq!(
            certificate_signing_request_cells(&csr, now())[5],
            json!("Denied,Issued")
        );
        assert_eq!(certificate_signing_request_columns()[1].name, "Age");
    }
}
