//! The CSR signing controller (upstream's `csrsigning`): approved CertificateSigningRequests of
//! the built-in signers get their certificate from the cluster CA, valid for the cluster's signing
//! duration (`--cluster-signing-duration`, a year by default), or for the requested
//! `expirationSeconds` when shorter (which is at least 10 minutes):
//! - `kubernetes.io/kube-apiserver-client`: any subject, client usages only;
//! - `kubernetes.io/kube-apiserver-client-kubelet`: a node's client certificate
//!   (`CN=system:node:<name>`, `O=system:nodes`, no SANs) — [`validate_kubelet_client`];
//! - `kubernetes.io/kubelet-serving`: a node's serving certificate (DNS/IP SANs) —
//!   [`validate_kubelet_serving`].
//!
//! A request that breaks its signer's rules is marked Failed (reason `SignerValidationFailure`,
//! upstream's message). Approval is another controller's job (`csrapproving`).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::ByteString;
use k8s_openapi::api::certificates::v1::{CertificateSigningRequest, CertificateSigningRequestCondition};
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;

use crate::{Error, Result};

/// The generic client signer.
pub const SIGNER: &str = "kubernetes.io/kube-apiserver-client";
/// The signer of nodes' client certificates.
pub const KUBELET_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";
/// The signer of nodes' serving certificates.
pub const KUBELET_SERVING_SIGNER: &str = "kubernetes.io/kubelet-serving";
/// The prefix of a node's user name.
pub const NODE_USER_PREFIX: &str = "system:node:";
/// The group of nodes.
pub const NODES_GROUP: &str = "system:nodes";
const MAX_SECONDS: i64 = 365 * 86400;
const MIN_SECONDS: i64 = 600;

struct Ctx {
    api: Api<CertificateSigningRequest>,
    ca: pki::Ca,
    /// The longest certificate issued (upstream's `--cluster-signing-duration`).
    max_seconds: i64,
}

/// Whether the request carries a True condition of `kind` (Approved, Denied, Failed).
pub(crate) fn has(csr: &CertificateSigningRequest, kind: &str) -> bool {
    csr.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|c| c.iter().any(|c| c.type_ == kind && c.status == "True"))
}

/// The cluster signing duration when none is configured: a year.
pub const DEFAULT_SIGNING_SECONDS: i64 = MAX_SECONDS;

/// Runs the controller with the certificate-controller identity and the cluster CA; certificates
/// last `max_seconds` unless a request asks for less.
pub async fn run(client: kube::Client, ca: pki::Ca, max_seconds: i64) {
    let api: Api<CertificateSigningRequest> = Api::all(client);
    let ctx = Arc::new(Ctx { api: api.clone(), ca, max_seconds: max_seconds.max(1) });
    Controller::new(api, watcher::Config::default())
        .run(reconcile, |_c, _e: &Error, _x| Action::requeue(Duration::from_secs(2)), ctx)
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "csr signing");
            }
        })
        .await;
}

/// Whether a usage list is exactly one of the allowed sets (order and repeats aside).
fn usages_are(usages: &[String], sets: &[&[&str]]) -> bool {
    let have: std::collections::BTreeSet<&str> = usages.iter().map(String::as_str).collect();
    sets.iter().any(|set| have == set.iter().copied().collect())
}

/// Upstream's rules for a node client certificate request: `O=system:nodes` exactly, CN
/// `system:node:<name>`, no SANs, usages (key encipherment,) digital signature, client auth.
pub fn validate_kubelet_client(req: &pki::CertInfo, usages: &[String]) -> Result<(), String> {
    if req.organizations != [NODES_GROUP] {
        return Err("subject organization is not system:nodes".into());
    }
    if !req.dns_names.is_empty() {
        return Err("DNS subjectAltNames are not allowed".into());
    }
    if !req.ips.is_empty() {
        return Err("IP subjectAltNames are not allowed".into());
    }
    if !req.other_names.is_empty() {
        return Err("Email and URI subjectAltNames are not allowed".into());
    }
    if !req.common_name.starts_with(NODE_USER_PREFIX) {
        return Err("subject common name does not begin with system:node:".into());
    }
    if !usages_are(usages, &[&["client auth", "digital signature", "key encipherment"], &["client auth", "digital signature"]]) {
        return Err("usages did not match [client auth digital signature key encipherment]".into());
    }
    Ok(())
}

/// Upstream's rules for a node serving certificate request: `O=system:nodes` exactly, at least
/// one DNS or IP SAN and no other kind, CN `system:node:<name>`, usages (key encipherment,)
/// digital signature, server auth.
pub fn validate_kubelet_serving(req: &pki::CertInfo, usages: &[String]) -> Result<(), String> {
    if req.organizations != [NODES_GROUP] {
        return Err("subject organization is not system:nodes".into());
    }
    if req.dns_names.is_empty() && req.ips.is_empty() {
        return Err("DNS or IP subjectAltName is required".into());
    }
    if !req.other_names.is_empty() {
        return Err("Email and URI subjectAltNames are not allowed".into());
    }
    if !req.common_name.starts_with(NODE_USER_PREFIX) {
        return Err("subject common name does not begin with system:node:".into());
    }
    if !usages_are(usages, &[&["digital signature", "key encipherment", "server auth"], &["digital signature", "server auth"]]) {
        return Err("usages did not match [digital signature key encipherment server auth]".into());
    }
    Ok(())
}

fn failed(message: String) -> CertificateSigningRequestCondition {
    CertificateSigningRequestCondition {
        type_: "Failed".into(),
        status: "True".into(),
        reason: Some("SignerValidationFailure".into()),
        message: Some(message),
        last_update_time: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now())),
        last_transition_time: None,
    }
}

/// A certificate's lifetime: the signing duration, or the requested `expirationSeconds` (at
/// least 10 minutes) when that is shorter.
fn lifetime(requested: Option<i32>, max_seconds: i64) -> i64 {
    match requested {
        Some(r) => i64::from(r).clamp(MIN_SECONDS, MAX_SECONDS).min(max_seconds),
        None => max_seconds,
    }
}

/// What the signer does with an approved request: a certificate PEM, or why it fails.
fn sign(ca: &pki::Ca, csr: &CertificateSigningRequest, max_seconds: i64) -> Result<String, String> {
    let pem = String::from_utf8_lossy(&csr.spec.request.0).to_string();
    let usages = csr.spec.usages.clone().unwrap_or_default();
    let seconds = lifetime(csr.spec.expiration_seconds, max_seconds);
    let info = pki::csr_subject(&pem).ok_or_else(|| "the request does not parse".to_string())?;
    let signed = match csr.spec.signer_name.as_str() {
        SIGNER => {
            let allowed = ["digital signature", "key encipherment", "client auth"];
            if !usages.iter().any(|u| u == "client auth") || usages.iter().any(|u| !allowed.contains(&u.as_str())) {
                return Err(format!("invalid usage for client certificate: {}", usages.join(", ")));
            }
            ca.sign_client_csr(&pem, seconds)
        }
        KUBELET_CLIENT_SIGNER => {
            validate_kubelet_client(&info, &usages)?;
            ca.sign_client_csr(&pem, seconds)
        }
        KUBELET_SERVING_SIGNER => {
            validate_kubelet_serving(&info, &usages)?;
            ca.sign_serving_csr(&pem, seconds)
        }
        _ => return Err("not a signer of this controller".into()),
    };
    signed.map_err(|e| format!("the request does not parse: {e}"))
}

async fn reconcile(csr: Arc<CertificateSigningRequest>, ctx: Arc<Ctx>) -> Result<Action> {
    if ![SIGNER, KUBELET_CLIENT_SIGNER, KUBELET_SERVING_SIGNER].contains(&csr.spec.signer_name.as_str())
        || !has(&csr, "Approved")
        || has(&csr, "Denied")
        || has(&csr, "Failed")
        || csr.status.as_ref().and_then(|s| s.certificate.as_ref()).is_some_and(|c| !c.0.is_empty())
    {
        return Ok(Action::await_change());
    }
    let name = csr.metadata.name.clone().unwrap_or_default();
    let mut updated = (*csr).clone();
    let status = updated.status.get_or_insert_with(Default::default);
    match sign(&ctx.ca, &csr, ctx.max_seconds) {
        Ok(cert) => status.certificate = Some(ByteString(cert.into_bytes())),
        Err(message) => status.conditions.get_or_insert_with(Vec::new).push(failed(message)),
    }
    ctx.api.replace_status(&name, &PostParams::default(), &updated).await?;
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_follow_the_signing_duration_and_shorter_requests() {
        assert_eq!(lifetime(None, DEFAULT_SIGNING_SECONDS), 365 * 86400);
        assert_eq!(lifetime(Some(3600), DEFAULT_SIGNING_SECONDS), 3600);
        // a request under 10 minutes gets 10 minutes, as upstream's signer
        assert_eq!(lifetime(Some(60), DEFAULT_SIGNING_SECONDS), 600);
        // a short signing duration caps every certificate
        assert_eq!(lifetime(None, 45), 45);
        assert_eq!(lifetime(Some(3600), 45), 45);
    }

    fn info(cn: &str, o: &[&str], dns: &[&str], ips: &[&str]) -> pki::CertInfo {
        pki::CertInfo {
            common_name: cn.into(),
            organizations: o.iter().map(|s| s.to_string()).collect(),
            dns_names: dns.iter().map(|s| s.to_string()).collect(),
            ips: ips.iter().map(|s| s.parse().unwrap()).collect(),
            ..Default::default()
        }
    }

    fn u(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn kubelet_client_rules() {
        let ok = info("system:node:n1", &["system:nodes"], &[], &[]);
        assert_eq!(validate_kubelet_client(&ok, &u(&["digital signature", "client auth"])), Ok(()));
        assert_eq!(validate_kubelet_client(&ok, &u(&["client auth", "key encipherment", "digital signature"])), Ok(()));
        assert!(validate_kubelet_client(&ok, &u(&["client auth"])).unwrap_err().starts_with("usages did not match"));
        assert!(validate_kubelet_client(&ok, &u(&["digital signature", "client auth", "server auth"])).is_err());
        let masters = info("system:node:n1", &["system:nodes", "system:masters"], &[], &[]);
        assert_eq!(validate_kubelet_client(&masters, &u(&["digital signature", "client auth"])).unwrap_err(), "subject organization is not system:nodes");
        let cn = info("admin", &["system:nodes"], &[], &[]);
        assert_eq!(validate_kubelet_client(&cn, &u(&["digital signature", "client auth"])).unwrap_err(), "subject common name does not begin with system:node:");
        let san = info("system:node:n1", &["system:nodes"], &["n1"], &[]);
        assert_eq!(validate_kubelet_client(&san, &u(&["digital signature", "client auth"])).unwrap_err(), "DNS subjectAltNames are not allowed");
    }

    #[test]
    fn kubelet_serving_rules() {
        let ok = info("system:node:n1", &["system:nodes"], &["n1"], &["127.0.0.5"]);
        assert_eq!(validate_kubelet_serving(&ok, &u(&["digital signature", "key encipherment", "server auth"])), Ok(()));
        assert!(validate_kubelet_serving(&ok, &u(&["digital signature", "client auth"])).is_err());
        let none = info("system:node:n1", &["system:nodes"], &[], &[]);
        assert_eq!(validate_kubelet_serving(&none, &u(&["digital signature", "server auth"])).unwrap_err(), "DNS or IP subjectAltName is required");
        let other = pki::CertInfo { other_names: vec!["a@b.c".into()], ..ok.clone() };
        assert!(validate_kubelet_serving(&other, &u(&["digital signature", "server auth"])).is_err());
    }
}
