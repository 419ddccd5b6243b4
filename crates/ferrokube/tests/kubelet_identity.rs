//! The node's client identity as the agent obtains and rotates it (the kubelet crate's own code,
//! against a real server): `ferrokube token create` (a join token pinning the cluster CA) → the CA
//! from the handshake, checked against the pin → a bootstrap-token CSR → `system:node:<name>`;
//! then a renewal CSR made with that identity → a new certificate and key, a kubeconfig that
//! works, and the old one's files replaced.

mod support;

use std::process::Command;
use std::time::Duration;

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::api::{Api, PostParams};
use support::Server;

async fn whoami(client: &kube::Client) -> (String, Vec<String>) {
    let api: Api<SelfSubjectReview> = Api::all(client.clone());
    let r = api.create(&PostParams::default(), &SelfSubjectReview::default()).await.expect("SelfSubjectReview");
    let u = r.status.and_then(|s| s.user_info).unwrap_or_default();
    (u.username.unwrap_or_default(), u.groups.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_then_rotation_with_the_node_identity() {
    let s = Server::start();
    let out = Command::new(env!("CARGO_BIN_EXE_ferrokube")).args(["token", "create", "--data-dir"]).arg(s.data_dir()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let ca = std::fs::read_to_string(s.data_dir().join("tls/ca.crt")).unwrap();
    // the join token pins the cluster CA: K10<sha256 of its DER>::<id>.<secret>
    let join = kubelet::identity::JoinToken::parse(&printed);
    let token = join.bootstrap.clone();
    assert!(printed.starts_with("K10") && token.len() == 23 && token.as_bytes()[6] == b'.', "token {printed:?}");
    let hash = join.ca_hash.clone().expect("a pinned CA");
    assert_eq!(kubelet::identity::JoinToken::secure(&ca, &token).unwrap(), printed);
    // a node fetches the CA from the handshake and keeps it only when the hash matches
    let fetched = kubelet::identity::fetch_pinned_ca(&s.url, &hash).await.expect("pinned CA");
    assert_eq!(pki::certs_from_pem(&fetched).unwrap(), pki::certs_from_pem(&ca).unwrap());
    let wrong = kubelet::identity::fetch_pinned_ca(&s.url, &"0".repeat(64)).await.unwrap_err();
    assert!(wrong.to_string().contains("this is not the cluster the token was made for"), "{wrong}");
    let agent = s.path().join("agent");
    std::fs::create_dir_all(&agent).unwrap();

    // the bootstrap token buys the node's first certificate
    let kc = kubelet::identity::bootstrap(&s.url, &ca, &token, "edge-1", &agent).await.expect("bootstrap");
    let first = std::fs::read_to_string(agent.join("kubelet-client.crt")).unwrap();
    let client = kubelet::identity::client_from_kubeconfig(&kc).await.unwrap();
    let (user, groups) = whoami(&client).await;
    assert_eq!(user, "system:node:edge-1");
    assert!(groups.contains(&"system:nodes".to_string()), "{groups:?}");
    assert!(kubelet::identity::client_cert_expiry(&agent).is_some_and(|e| e > jiff::Timestamp::now().as_second()));
    let key_mode = std::fs::metadata(agent.join("kubelet-client.key")).map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o777).unwrap();
    assert_eq!(key_mode, 0o600, "the node's private key is private");

    // rotation: a CSR made with the node's own identity, approved as a self-renewal
    let kc2 = tokio::time::timeout(Duration::from_secs(60), kubelet::identity::renew_client(&client, &s.url, &ca, "edge-1", &agent)).await.unwrap().expect("renewal");
    let second = std::fs::read_to_string(agent.join("kubelet-client.crt")).unwrap();
    assert_ne!(first, second, "a new certificate");
    assert_ne!(kc, kc2);
    let renewed = kubelet::identity::client_from_kubeconfig(&kc2).await.unwrap();
    assert_eq!(whoami(&renewed).await.0, "system:node:edge-1");
    let reasons = s.ok(&["get", "csr", "-o", "jsonpath={range .items[*]}{.spec.username}={.status.conditions[0].message}{\"\\n\"}{end}"]);
    assert!(reasons.contains("system:node:edge-1=Auto approving self kubelet client certificate after SubjectAccessReview."), "{reasons}");
    assert!(reasons.lines().any(|l| l.starts_with("system:bootstrap:") && l.ends_with("=Auto approving kubelet client certificate after SubjectAccessReview.")), "{reasons}");

    // a wrong token is refused with a message naming it
    let err = kubelet::identity::bootstrap(&s.url, &ca, "abcdef.0123456789abcdef", "edge-2", &s.path().join("agent2")).await.unwrap_err();
    assert!(matches!(err, kubelet::identity::Error::TokenRefused { .. }), "{err}");
}

/// The agent's own timer: with a 45 s signing duration the node's client and serving
/// certificates are renewed at 80% of their life, through CSRs made with the node's identity,
/// and the node keeps working after the first certificates have expired (its Lease is renewed,
/// it stays Ready, the apiserver reaches its kubelet for logs over the new serving certificate).
#[test]
fn the_agent_renews_its_certificates_before_they_expire() {
    let s = Server::start_node("rotating", &["--cluster-signing-duration", "45s"]);
    let agent = s.data.join("agent");
    let info = |file: &str| {
        let pem = std::fs::read_to_string(agent.join(file)).unwrap_or_default();
        pki::cert_info(&pem).map(|i| (pem, i.not_after))
    };
    let (client_pem, client_expiry) = info("kubelet-client.crt").expect("the node's client certificate");
    let now = jiff::Timestamp::now().as_second();
    assert!(client_expiry <= now + 46, "the first certificate lasts the signing duration: expires in {} s", client_expiry - now);
    s.ok(&["run", "ticker", "--image=busybox:1.35", "--restart=Never", "--", "sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done"]);
    support::eventually(Duration::from_secs(60), "the pod to run", || s.kubectl(&["logs", "ticker"]).stdout.starts_with(b"tick 0"));
    let (serving_pem, _) = info("kubelet-serving.crt").expect("the kubelet's serving certificate");

    // both are replaced before the first ones expire
    let deadline = std::time::Instant::now() + Duration::from_secs(70);
    let renewed = loop {
        let client = info("kubelet-client.crt").filter(|(p, _)| *p != client_pem);
        let serving = info("kubelet-serving.crt").filter(|(p, _)| *p != serving_pem);
        if let (Some(c), Some(_)) = (&client, &serving) {
            break c.1;
        }
        assert!(std::time::Instant::now() < deadline, "no renewal within 70 s");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(renewed > client_expiry, "the new certificate outlives the old one");
    let csrs = s.ok(&["get", "csr", "-o", "jsonpath={range .items[*]}{.spec.signerName} {.spec.username} {.status.conditions[0].reason}{\"\\n\"}{end}"]);
    assert!(
        csrs.lines().any(|l| l == "kubernetes.io/kube-apiserver-client-kubelet system:node:rotating AutoApproved"),
        "a self-renewal CSR, approved: {csrs}"
    );

    // past the first certificate's expiry, the node still works with the new ones
    let wait = client_expiry + 5 - jiff::Timestamp::now().as_second();
    if wait > 0 {
        std::thread::sleep(Duration::from_secs(wait as u64));
    }
    let renew_time = s.ok(&["get", "lease", "-n", "kube-node-lease", "rotating", "-o", "jsonpath={.spec.renewTime}"]);
    let renewed_at = renew_time.trim().parse::<jiff::Timestamp>().expect("renewTime").as_second();
    assert!(renewed_at > client_expiry, "the Lease was renewed ({renew_time}) after the first certificate expired");
    assert_eq!(s.ok(&["get", "node", "rotating", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]), "True");
    let logs = s.ok(&["logs", "ticker", "--tail=1"]);
    assert!(logs.starts_with("tick "), "{logs}");
}
