//! The CSR signing controller (upstream's `csrsigning` for the
//! `kubernetes.io/kube-apiserver-client` signer): an approved CertificateSigningRequest of that
//! signer gets a client certificate from the cluster CA, valid for the requested
//! `expirationSeconds` (at least 10 minutes, at most a year). A request with usages the signer
//! does not allow is marked Failed.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::ByteString;
use k8s_openapi::api::certificates::v1::{CertificateSigningRequest, CertificateSigningRequestCondition};
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;

use crate::{Error, Result};

/// The signer this controller serves.
pub const SIGNER: &str = "kubernetes.io/kube-apiserver-client";
const MAX_SECONDS: i64 = 365 * 86400;
const MIN_SECONDS: i64 = 600;

struct Ctx {
    api: Api<CertificateSigningRequest>,
    ca: pki::Ca,
}

fn has(csr: &CertificateSigningRequest, kind: &str) -> bool {
    csr.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|c| c.iter().any(|c| c.type_ == kind && c.status == "True"))
}

/// Runs the controller with the certificate-controller identity and the cluster CA.
pub async fn run(client: kube::Client, ca: pki::Ca) {
    let api: Api<CertificateSigningRequest> = Api::all(client);
    let ctx = Arc::new(Ctx { api: api.clone(), ca });
    Controller::new(api, watcher::Config::default())
        .run(reconcile, |_c, _e: &Error, _x| Action::requeue(Duration::from_secs(2)), ctx)
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "csr signing");
            }
        })
        .await;
}

async fn reconcile(csr: Arc<CertificateSigningRequest>, ctx: Arc<Ctx>) -> Result<Action> {
    if csr.spec.signer_name != SIGNER
        || !has(&csr, "Approved")
        || has(&csr, "Denied")
        || has(&csr, "Failed")
        || csr.status.as_ref().and_then(|s| s.certificate.as_ref()).is_some_and(|c| !c.0.is_empty())
    {
        return Ok(Action::await_change());
    }
    let name = csr.metadata.name.clone().unwrap_or_default();
    let mut updated = (*csr).clone();
    let usages = csr.spec.usages.clone().unwrap_or_default();
    let allowed = ["digital signature", "key encipherment", "client auth"];
    let status = updated.status.get_or_insert_with(Default::default);
    if !usages.iter().any(|u| u == "client auth") || usages.iter().any(|u| !allowed.contains(&u.as_str())) {
        status.conditions.get_or_insert_with(Vec::new).push(CertificateSigningRequestCondition {
            type_: "Failed".into(),
            status: "True".into(),
            reason: Some("SignerValidationFailure".into()),
            message: Some(format!("invalid usage for client certificate: {}", usages.join(", "))),
            last_update_time: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now())),
            last_transition_time: None,
        });
    } else {
        let seconds = csr.spec.expiration_seconds.map(i64::from).unwrap_or(MAX_SECONDS).clamp(MIN_SECONDS, MAX_SECONDS);
        let pem = String::from_utf8_lossy(&csr.spec.request.0).to_string();
        match ctx.ca.sign_client_csr(&pem, seconds) {
            Ok(cert) => status.certificate = Some(ByteString(cert.into_bytes())),
            Err(e) => {
                status.conditions.get_or_insert_with(Vec::new).push(CertificateSigningRequestCondition {
                    type_: "Failed".into(),
                    status: "True".into(),
                    reason: Some("SignerValidationFailure".into()),
                    message: Some(format!("the request does not parse: {e}")),
                    last_update_time: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now())),
                    last_transition_time: None,
                });
            }
        }
    }
    ctx.api.replace_status(&name, &PostParams::default(), &updated).await?;
    Ok(Action::await_change())
}
