//! Automatic approval of nodes' certificate requests.
//!
//! - Upstream's `csrapproving` (identity `certificate-controller`): a
//!   `kubernetes.io/kube-apiserver-client-kubelet` request that is a valid node client
//!   certificate is approved when a SubjectAccessReview says its requester may create
//!   `certificatesigningrequests/selfnodeclient` (a node renewing its own certificate) or
//!   `certificatesigningrequests/nodeclient` (a bootstrap token joining a node).
//! - ferrokube's serving approver (identity `kubelet-serving-approver`; upstream leaves these to
//!   an administrator): a `kubernetes.io/kubelet-serving` request is approved when it was made by
//!   the node it names (`system:node:<name>` in `system:nodes`) and every DNS name and IP
//!   address it asks for is one of that Node's `status.addresses` — so the apiserver can verify
//!   the kubelet it talks to. Anything else is left pending for a person.
//!
//! Neither ever denies: a request it does not approve stays pending, as upstream.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec};
use k8s_openapi::api::certificates::v1::{CertificateSigningRequest, CertificateSigningRequestCondition};
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;

use crate::certificates::{KUBELET_CLIENT_SIGNER, KUBELET_SERVING_SIGNER, NODE_USER_PREFIX, NODES_GROUP, has, validate_kubelet_client, validate_kubelet_serving};
use crate::{Error, Result};

struct Ctx {
    client: kube::Client,
    signer: &'static str,
}

/// Runs upstream's node client approver with the `certificate-controller` identity.
pub async fn run_node_client_approver(client: kube::Client) {
    run(client, KUBELET_CLIENT_SIGNER).await;
}

/// Runs the node serving approver with the `kubelet-serving-approver` identity.
pub async fn run_kubelet_serving_approver(client: kube::Client) {
    run(client, KUBELET_SERVING_SIGNER).await;
}

async fn run(client: kube::Client, signer: &'static str) {
    let api: Api<CertificateSigningRequest> = Api::all(client.clone());
    let ctx = Arc::new(Ctx { client, signer });
    Controller::new(api, watcher::Config::default().fields(&format!("spec.signerName={signer}")))
        .run(reconcile, |_c, _e: &Error, _x| Action::requeue(Duration::from_secs(2)), ctx)
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "csr approval");
            }
        })
        .await;
}

fn pending(csr: &CertificateSigningRequest) -> bool {
    !has(csr, "Approved") && !has(csr, "Denied") && !has(csr, "Failed")
}

/// The request's subject and SANs, when it parses.
fn requested(csr: &CertificateSigningRequest) -> Option<pki::CertInfo> {
    pki::csr_subject(&String::from_utf8_lossy(&csr.spec.request.0))
}

/// Which SubjectAccessReview subresource decides a node client request, with the approval
/// message: a node renewing its own certificate, or anyone else (a bootstrap token) asking.
pub fn client_recognizer(csr: &CertificateSigningRequest, subject: &pki::CertInfo) -> (&'static str, &'static str) {
    if csr.spec.username.as_deref() == Some(subject.common_name.as_str()) {
        ("selfnodeclient", "Auto approving self kubelet client certificate after SubjectAccessReview.")
    } else {
        ("nodeclient", "Auto approving kubelet client certificate after SubjectAccessReview.")
    }
}

/// Why a serving request may not be approved automatically (`None`: it may): requested by the
/// node it names, every name one of the node's addresses.
pub fn serving_mismatch(csr: &CertificateSigningRequest, subject: &pki::CertInfo, node: Option<&Node>) -> Option<String> {
    let user = csr.spec.username.clone().unwrap_or_default();
    let groups = csr.spec.groups.clone().unwrap_or_default();
    if !user.starts_with(NODE_USER_PREFIX) || !groups.iter().any(|g| g == NODES_GROUP) {
        return Some(format!("not requested by a node identity: user {user:?} in group(s) {groups:?}"));
    }
    if user != subject.common_name {
        return Some(format!("requested subject's common name {:?} doesn't match requesting user {user:?}", subject.common_name));
    }
    let name = &user[NODE_USER_PREFIX.len()..];
    let Some(node) = node else { return Some(format!("node {name:?} does not exist")) };
    let addresses = node.status.as_ref().and_then(|s| s.addresses.clone()).unwrap_or_default();
    for ip in &subject.ips {
        if !addresses.iter().any(|a| a.address.parse::<std::net::IpAddr>().is_ok_and(|x| x == *ip)) {
            return Some(format!("IP address {ip} is not an address of node {name:?}"));
        }
    }
    for dns in &subject.dns_names {
        if !addresses.iter().any(|a| matches!(a.type_.as_str(), "Hostname" | "InternalDNS" | "ExternalDNS") && a.address.eq_ignore_ascii_case(dns)) {
            return Some(format!("DNS name {dns:?} is not an address of node {name:?}"));
        }
    }
    None
}

async fn allowed_by_sar(ctx: &Ctx, csr: &CertificateSigningRequest, subresource: &str) -> Result<bool> {
    let sar = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: csr.spec.username.clone(),
            groups: csr.spec.groups.clone(),
            uid: csr.spec.uid.clone(),
            extra: csr.spec.extra.clone(),
            resource_attributes: Some(ResourceAttributes {
                group: Some("certificates.k8s.io".into()),
                resource: Some("certificatesigningrequests".into()),
                subresource: Some(subresource.into()),
                verb: Some("create".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let api: Api<SubjectAccessReview> = Api::all(ctx.client.clone());
    let review = api.create(&PostParams::default(), &sar).await?;
    Ok(review.status.is_some_and(|s| s.allowed))
}

async fn reconcile(csr: Arc<CertificateSigningRequest>, ctx: Arc<Ctx>) -> Result<Action> {
    if csr.spec.signer_name != ctx.signer || !pending(&csr) {
        return Ok(Action::await_change());
    }
    let Some(subject) = requested(&csr) else { return Ok(Action::await_change()) };
    let usages = csr.spec.usages.clone().unwrap_or_default();
    let message = if ctx.signer == KUBELET_CLIENT_SIGNER {
        if validate_kubelet_client(&subject, &usages).is_err() {
            return Ok(Action::await_change());
        }
        let (subresource, message) = client_recognizer(&csr, &subject);
        if !allowed_by_sar(&ctx, &csr, subresource).await? {
            return Ok(Action::await_change());
        }
        message.to_string()
    } else {
        if validate_kubelet_serving(&subject, &usages).is_err() {
            return Ok(Action::await_change());
        }
        let node_name = subject.common_name.strip_prefix(NODE_USER_PREFIX).unwrap_or_default();
        let nodes: Api<Node> = Api::all(ctx.client.clone());
        let node = if node_name.is_empty() { None } else { nodes.get_opt(node_name).await? };
        if let Some(why) = serving_mismatch(&csr, &subject, node.as_ref()) {
            tracing::info!(csr = csr.metadata.name.as_deref().unwrap_or(""), reason = %why, "kubelet serving request left for an administrator");
            // A node's addresses may arrive after its request: look again later.
            return Ok(Action::requeue(Duration::from_secs(10)));
        }
        format!("Auto approving kubelet serving certificate: its names and addresses are those of node {node_name}.")
    };
    let name = csr.metadata.name.clone().unwrap_or_default();
    let mut approved = (*csr).clone();
    approved.status.get_or_insert_with(Default::default).conditions.get_or_insert_with(Vec::new).push(CertificateSigningRequestCondition {
        type_: "Approved".into(),
        status: "True".into(),
        reason: Some("AutoApproved".into()),
        message: Some(message),
        last_update_time: Some(Time(jiff::Timestamp::now())),
        last_transition_time: None,
    });
    let api: Api<CertificateSigningRequest> = Api::all(ctx.client.clone());
    api.replace_subresource("approval", &name, &PostParams::default(), &approved).await?;
    Ok(Action::await_change())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csr(user: &str, groups: &[&str]) -> CertificateSigningRequest {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "x"},
            "spec": {"request": "", "signerName": KUBELET_SERVING_SIGNER, "username": user, "groups": groups},
        }))
        .unwrap()
    }

    fn subject(cn: &str, dns: &[&str], ips: &[&str]) -> pki::CertInfo {
        pki::CertInfo {
            common_name: cn.into(),
            organizations: vec![NODES_GROUP.into()],
            dns_names: dns.iter().map(|s| s.to_string()).collect(),
            ips: ips.iter().map(|s| s.parse().unwrap()).collect(),
            ..Default::default()
        }
    }

    fn node() -> Node {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "n1"},
            "status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.5"}, {"type": "Hostname", "address": "n1"}]},
        }))
        .unwrap()
    }

    #[test]
    fn serving_requests_must_name_the_requesting_nodes_addresses() {
        let by_node = csr("system:node:n1", &["system:nodes", "system:authenticated"]);
        assert_eq!(serving_mismatch(&by_node, &subject("system:node:n1", &["n1"], &["127.0.0.5"]), Some(&node())), None);
        let other_ip = serving_mismatch(&by_node, &subject("system:node:n1", &["n1"], &["127.0.0.9"]), Some(&node())).unwrap();
        assert!(other_ip.contains("127.0.0.9"), "{other_ip}");
        let other_dns = serving_mismatch(&by_node, &subject("system:node:n1", &["kubernetes"], &[]), Some(&node())).unwrap();
        assert!(other_dns.contains("kubernetes"), "{other_dns}");
        // an InternalIP is not a DNS name
        assert!(serving_mismatch(&by_node, &subject("system:node:n1", &["127.0.0.5"], &[]), Some(&node())).is_some());
        let other_node = serving_mismatch(&by_node, &subject("system:node:n2", &[], &["127.0.0.5"]), Some(&node())).unwrap();
        assert!(other_node.contains("doesn't match"), "{other_node}");
        let bootstrap = csr("system:bootstrap:abcdef", &["system:bootstrappers"]);
        assert!(serving_mismatch(&bootstrap, &subject("system:node:n1", &[], &["127.0.0.5"]), Some(&node())).unwrap().starts_with("not requested by a node identity"));
        assert!(serving_mismatch(&by_node, &subject("system:node:n1", &[], &["127.0.0.5"]), None).is_some());
    }

    #[test]
    fn client_requests_are_self_or_bootstrap() {
        let s = subject("system:node:n1", &[], &[]);
        assert_eq!(client_recognizer(&csr("system:node:n1", &["system:nodes"]), &s).0, "selfnodeclient");
        assert_eq!(client_recognizer(&csr("system:bootstrap:abcdef", &["system:bootstrappers"]), &s).0, "nodeclient");
    }
}
