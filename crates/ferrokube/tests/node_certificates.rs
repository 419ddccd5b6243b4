//! Nodes' certificates: a bootstrap token's node client request is approved after a
//! SubjectAccessReview and signed; the node can renew its own but not ask for another node's;
//! requests outside the signer's rules fail; serving requests naming the node's own addresses are
//! approved and signed with their SANs, others are left for an administrator.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use support::{Server, eventually};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().expect("openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A fresh P-256 key and a CSR for `subject` (`/O=.../CN=...`) with optional SANs.
fn csr(dir: &Path, name: &str, subject: &str, sans: Option<&str>) -> (PathBuf, String) {
    let key = format!("{name}.key");
    openssl(dir, &["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", &key]);
    let mut args = vec!["req", "-new", "-key", &key, "-subj", subject, "-out"];
    let out = format!("{name}.csr");
    args.push(&out);
    let ext;
    if let Some(s) = sans {
        ext = format!("subjectAltName={s}");
        args.push("-addext");
        args.push(&ext);
    }
    openssl(dir, &args);
    (dir.join(key), std::fs::read_to_string(dir.join(out)).unwrap())
}

fn csr_yaml(name: &str, pem: &str, signer: &str, usages: &[&str]) -> String {
    let usages: Vec<String> = usages.iter().map(|u| format!("  - {u}\n")).collect();
    format!(
        "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata:\n  name: {name}\nspec:\n  signerName: {signer}\n  request: {}\n  usages:\n{}",
        B64.encode(pem),
        usages.concat()
    )
}

fn condition(s: &Server, name: &str) -> String {
    s.ok(&["get", "csr", name, "-o", "jsonpath={.status.conditions[*].type}|{.status.conditions[*].reason}|{.status.conditions[*].message}"])
}

fn issued(s: &Server, name: &str) -> String {
    let b64 = s.ok(&["get", "csr", name, "-o", "jsonpath={.status.certificate}"]);
    String::from_utf8(B64.decode(b64.trim()).unwrap_or_default()).unwrap_or_default()
}

fn wait_issued(s: &Server, name: &str) -> String {
    eventually(Duration::from_secs(30), &format!("certificate of {name}"), || !issued(s, name).is_empty());
    issued(s, name)
}

/// A kubeconfig authenticating with a client certificate and key.
fn cert_kubeconfig(s: &Server, name: &str, cert: &str, key: &Path) -> PathBuf {
    let ca = std::fs::read_to_string(s.data_dir().join("tls/ca.crt")).unwrap();
    let key = std::fs::read_to_string(key).unwrap();
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    certificate-authority-data: {}\nusers:\n- name: u\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n",
        s.url,
        B64.encode(ca),
        B64.encode(cert),
        B64.encode(key)
    );
    let path = s.path().join(format!("{name}.kubeconfig"));
    std::fs::write(&path, text).unwrap();
    path
}

fn ok_as(s: &Server, kc: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let out = match stdin {
        Some(i) => s.kubectl_stdin_as(kc, args, i),
        None => s.kubectl_as(kc, args),
    };
    assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const CLIENT: &str = "kubernetes.io/kube-apiserver-client-kubelet";
const SERVING: &str = "kubernetes.io/kubelet-serving";

#[test]
fn bootstrap_token_to_node_identity_and_renewal() {
    let s = Server::start();
    let dir = s.path().join("certs");
    std::fs::create_dir_all(&dir).unwrap();
    s.ok_stdin(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: Secret\nmetadata: {name: bootstrap-token-abcdef, namespace: kube-system}\ntype: bootstrap.kubernetes.io/token\nstringData:\n  token-id: abcdef\n  token-secret: 0123456789abcdef\n  usage-bootstrap-authentication: \"true\"\n",
    );
    let boot = s.token_kubeconfig("boot", "abcdef.0123456789abcdef");

    // A node client request made with the bootstrap token: approved after a SAR, then signed.
    let (key, pem) = csr(&dir, "n1", "/O=system:nodes/CN=system:node:n1", None);
    ok_as(&s, &boot, &["create", "-f", "-"], Some(&csr_yaml("node-n1", &pem, CLIENT, &["digital signature", "client auth"])));
    let cert = wait_issued(&s, "node-n1");
    let cond = condition(&s, "node-n1");
    assert_eq!(cond, "Approved|AutoApproved|Auto approving kubelet client certificate after SubjectAccessReview.");
    let node = cert_kubeconfig(&s, "n1", &cert, &key);
    let who = ok_as(&s, &node, &["auth", "whoami"], None);
    assert!(who.contains("system:node:n1") && who.contains("system:nodes"), "{who}");

    // The node asks for another node's certificate: not approved. It renews its own: approved.
    let (_, other) = csr(&dir, "n2", "/O=system:nodes/CN=system:node:n2", None);
    ok_as(&s, &node, &["create", "-f", "-"], Some(&csr_yaml("n1-asks-n2", &other, CLIENT, &["digital signature", "client auth"])));
    let (key2, renew) = csr(&dir, "n1b", "/O=system:nodes/CN=system:node:n1", None);
    ok_as(&s, &node, &["create", "-f", "-"], Some(&csr_yaml("node-n1-renew", &renew, CLIENT, &["digital signature", "key encipherment", "client auth"])));
    let cert2 = wait_issued(&s, "node-n1-renew");
    assert_eq!(condition(&s, "node-n1-renew"), "Approved|AutoApproved|Auto approving self kubelet client certificate after SubjectAccessReview.");
    let renewed = cert_kubeconfig(&s, "n1b", &cert2, &key2);
    assert!(ok_as(&s, &renewed, &["auth", "whoami"], None).contains("system:node:n1"));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(condition(&s, "n1-asks-n2"), "||", "a node's request for another node was acted on");
    assert!(issued(&s, "n1-asks-n2").is_empty());

    // A bootstrap token asking for system:masters through the kubelet signer: never approved;
    // approved by hand, the signer refuses it with upstream's reason.
    let (_, masters) = csr(&dir, "m", "/O=system:masters/CN=system:node:n1", None);
    ok_as(&s, &boot, &["create", "-f", "-"], Some(&csr_yaml("sneaky", &masters, CLIENT, &["digital signature", "client auth"])));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(condition(&s, "sneaky"), "||");
    s.ok(&["certificate", "approve", "sneaky"]);
    eventually(Duration::from_secs(20), "signer failure", || condition(&s, "sneaky").contains("Failed"));
    let cond = condition(&s, "sneaky");
    assert!(cond.contains("SignerValidationFailure") && cond.contains("subject organization is not system:nodes"), "{cond}");
    assert!(issued(&s, "sneaky").is_empty());

    // The bootstrap token cannot read anything else.
    assert!(!s.kubectl_as(&boot, &["get", "secrets", "-n", "kube-system"]).status.success());
}

#[test]
fn serving_certificates_for_the_nodes_own_addresses() {
    let s = Server::start();
    let dir = s.path().join("certs");
    std::fs::create_dir_all(&dir).unwrap();
    s.ok_stdin(&["create", "-f", "-"], "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n");
    s.ok(&[
        "patch", "node", "n1", "--subresource=status", "--type=merge", "-p",
        r#"{"status":{"addresses":[{"type":"InternalIP","address":"127.0.0.5"},{"type":"Hostname","address":"n1"}]}}"#,
    ]);
    // The node's identity, issued directly by the cluster CA for the test.
    let node = s.user_kubeconfig("system:node:n1", &["system:nodes"]);

    let (_, good) = csr(&dir, "serve", "/O=system:nodes/CN=system:node:n1", Some("DNS:n1,IP:127.0.0.5"));
    let (_, bad) = csr(&dir, "serve-other", "/O=system:nodes/CN=system:node:n1", Some("IP:127.0.0.9"));
    let usages = ["digital signature", "key encipherment", "server auth"];
    ok_as(&s, &node, &["create", "-f", "-"], Some(&csr_yaml("serving-bad", &bad, SERVING, &usages)));
    ok_as(&s, &node, &["create", "-f", "-"], Some(&csr_yaml("serving-n1", &good, SERVING, &usages)));
    let cert = wait_issued(&s, "serving-n1");
    let cond = condition(&s, "serving-n1");
    assert!(cond.starts_with("Approved|AutoApproved|") && cond.contains("node n1"), "{cond}");
    std::fs::write(dir.join("serving.crt"), &cert).unwrap();
    let text = Command::new("openssl").args(["x509", "-noout", "-text", "-in"]).arg(dir.join("serving.crt")).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("DNS:n1") && text.contains("IP Address:127.0.0.5"), "{text}");
    assert!(text.contains("TLS Web Server Authentication") && !text.contains("TLS Web Client Authentication"), "{text}");
    assert!(text.contains("CN=system:node:n1") || text.contains("CN = system:node:n1"), "{text}");

    // Not the node's address: left for an administrator, who may still approve it.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(condition(&s, "serving-bad"), "||");
    s.ok(&["certificate", "approve", "serving-bad"]);
    wait_issued(&s, "serving-bad");
}
