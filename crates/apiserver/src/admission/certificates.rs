//! The certificates admission plugins: CertificateApproval (approving or denying a CSR needs the
//! `approve` verb on its signer), CertificateSigning (setting `status.certificate` needs `sign`
//! on the signer) and CertificateSubjectRestriction (the kube-apiserver-client signer never
//! issues for the `system:masters` group).

use apimachinery::{ApiError, ApiResult};
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;

use super::{Operation, Request};
use crate::Api;
use crate::auth::authz::{self, Attributes};
use crate::registry::Object;

fn signer_allowed(api: &Api, req: &Request<'_>, verb: &str, signer: &str) -> bool {
    let check = |name: &str| {
        let a = Attributes {
            verb: verb.into(),
            api_group: "certificates.k8s.io".into(),
            resource: "signers".into(),
            name: name.into(),
            resource_request: true,
            ..Default::default()
        };
        authz::allowed(api, req.user, &a)
    };
    // `<domain>/*` grants every signer of the domain, as upstream
    check(signer) || signer.split_once('/').is_some_and(|(domain, _)| check(&format!("{domain}/*")))
}

/// Checks CSR writes.
pub fn validate(api: &Api, req: &Request<'_>, obj: &dyn Object) -> ApiResult<()> {
    if !req.is("certificates.k8s.io", "certificatesigningrequests") || req.operation == Operation::Delete {
        return Ok(());
    }
    let Some(csr) = obj.as_any().downcast_ref::<CertificateSigningRequest>() else { return Ok(()) };
    let signer = csr.spec.signer_name.as_str();
    let deny = |msg: String| ApiError::forbidden("certificates.k8s.io", "certificatesigningrequests", req.name, &msg);
    match (req.operation, req.subresource) {
        (Operation::Create, "") if signer == "kubernetes.io/kube-apiserver-client" => {
            let pem = String::from_utf8_lossy(&csr.spec.request.0).to_string();
            if let Some(info) = pki::csr_subject(&pem)
                && info.organizations.iter().any(|o| o == "system:masters")
            {
                return Err(deny(format!("use of {signer} signer with system:masters group is not allowed")));
            }
            Ok(())
        }
        (Operation::Update, "approval") => {
            if !signer_allowed(api, req, "approve", signer) {
                return Err(deny(format!("user not permitted to approve requests with signerName {signer:?}")));
            }
            Ok(())
        }
        (Operation::Update, "status") => {
            let old_cert = req
                .old
                .and_then(|o| o.as_any().downcast_ref::<CertificateSigningRequest>())
                .and_then(|c| c.status.as_ref().and_then(|s| s.certificate.clone()));
            let new_cert = csr.status.as_ref().and_then(|s| s.certificate.clone());
            if new_cert != old_cert && !signer_allowed(api, req, "sign", signer) {
                return Err(deny(format!("user not permitted to sign requests with signerName {signer:?}")));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
