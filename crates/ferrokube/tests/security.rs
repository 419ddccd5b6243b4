//! Secure by default, end to end with kubectl 1.32: who may do what (an authorization matrix of
//! five identities, escalation attempts), Pod Security admission, Secrets encrypted at rest and
//! key rotation, bound ServiceAccount tokens and TokenReview, the audit log, impersonation,
//! CSR approval, legacy token Secrets and `--api-allowed-cidrs`.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use support::{Server, eventually};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Whether the server refused the request for lack of permission (as opposed to allowing it,
/// which may still end in NotFound or AlreadyExists).
fn forbidden(o: &std::process::Output) -> bool {
    let e = stderr(o);
    e.contains("Forbidden") || e.contains("forbidden")
}

/// Waits until `kubectl auth can-i` says yes for an identity.
fn can(s: &Server, kubeconfig: &Path, args: &[&str]) {
    let mut full = vec!["auth", "can-i"];
    full.extend_from_slice(args);
    eventually(Duration::from_secs(10), &format!("can-i {args:?}"), || stdout(&s.kubectl_as(kubeconfig, &full)).trim() == "yes");
}

const POD_ON_N1: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: team}
spec:
  nodeName: n1
  serviceAccountName: robot
  containers:
  - name: c
    image: nginx
    envFrom: [{secretRef: {name: s-n1}}]
  volumes:
  - name: cfg
    configMap: {name: cm-n1}
"#;

#[test]
fn authorization_matrix_and_escalation() {
    let s = Server::start();
    for ns in ["team", "other"] {
        s.ok(&["create", "namespace", ns]);
    }
    s.ok(&["create", "serviceaccount", "robot", "-n", "team"]);
    for (name, ns) in [("s-n1", "team"), ("s-other", "team"), ("s-x", "other")] {
        s.ok(&["create", "secret", "generic", name, "-n", ns, "--from-literal=k=v"]);
    }
    s.ok(&["create", "configmap", "cm-n1", "-n", "team", "--from-literal=k=v"]);
    s.ok(&["create", "configmap", "cm-other", "-n", "other", "--from-literal=k=v"]);
    for n in ["n1", "n2"] {
        s.ok_stdin(&["apply", "-f", "-"], &format!("apiVersion: v1\nkind: Node\nmetadata: {{name: {n}}}\n"));
    }
    s.ok_stdin(&["apply", "-f", "-"], POD_ON_N1);
    s.ok(&["create", "rolebinding", "jane-view", "--clusterrole=view", "--user=jane", "-n", "team"]);
    s.ok(&["create", "rolebinding", "eddie-edit", "--clusterrole=edit", "--user=eddie", "-n", "team"]);
    s.ok(&["create", "role", "cm-reader", "--verb=get,list", "--resource=configmaps", "-n", "team"]);
    s.ok(&["create", "rolebinding", "robot-cm", "--role=cm-reader", "--serviceaccount=team:robot", "-n", "team"]);

    let admin = s.kubeconfig.clone();
    let jane = s.user_kubeconfig("jane", &["devs"]);
    let eddie = s.user_kubeconfig("eddie", &[]);
    let node = s.user_kubeconfig("system:node:n1", &["system:nodes"]);
    let token = s.ok(&["create", "token", "robot", "-n", "team"]);
    let robot = s.token_kubeconfig("robot", token.trim());
    // RBAC follows the watch cache (as upstream's follows its informers): wait until the
    // bindings just made are in effect
    can(&s, &jane, &["list", "pods", "-n", "team"]);
    can(&s, &eddie, &["create", "configmaps", "-n", "team"]);
    can(&s, &robot, &["list", "configmaps", "-n", "team"]);

    let dry = "--dry-run=server";
    // (identity, kubectl arguments, allowed)
    let matrix: Vec<(&str, &PathBuf, Vec<&str>, bool)> = vec![
        ("admin", &admin, vec!["get", "secrets", "-A"], true),
        ("admin", &admin, vec!["get", "nodes"], true),
        ("admin", &admin, vec!["create", "clusterrole", "x", "--verb=get", "--resource=pods", dry], true),
        ("admin", &admin, vec!["delete", "namespace", "other", dry], true),
        ("jane", &jane, vec!["get", "pods", "-n", "team"], true),
        ("jane", &jane, vec!["get", "deployments", "-n", "team"], true),
        ("jane", &jane, vec!["get", "configmaps", "cm-n1", "-n", "team"], true),
        ("jane", &jane, vec!["get", "secrets", "-n", "team"], false),
        ("jane", &jane, vec!["get", "secret", "s-n1", "-n", "team"], false),
        ("jane", &jane, vec!["get", "pods", "-n", "other"], false),
        ("jane", &jane, vec!["get", "nodes"], false),
        ("jane", &jane, vec!["create", "configmap", "j", "-n", "team", "--from-literal=a=b", dry], false),
        ("jane", &jane, vec!["delete", "pod", "web", "-n", "team", dry], false),
        ("jane", &jane, vec!["get", "rolebindings", "-n", "team"], false),
        ("eddie", &eddie, vec!["create", "configmap", "e", "-n", "team", "--from-literal=a=b", dry], true),
        ("eddie", &eddie, vec!["get", "secrets", "-n", "team"], true),
        ("eddie", &eddie, vec!["delete", "pod", "web", "-n", "team", dry], true),
        ("eddie", &eddie, vec!["create", "deployment", "d", "--image=nginx", "-n", "team", dry], true),
        ("eddie", &eddie, vec!["create", "rolebinding", "rb", "--clusterrole=view", "--user=x", "-n", "team", dry], false),
        ("eddie", &eddie, vec!["get", "secrets", "-n", "other"], false),
        ("eddie", &eddie, vec!["get", "nodes"], false),
        ("eddie", &eddie, vec!["create", "namespace", "e2", dry], false),
        ("robot", &robot, vec!["get", "configmaps", "-n", "team"], true),
        ("robot", &robot, vec!["get", "configmap", "cm-n1", "-n", "team"], true),
        ("robot", &robot, vec!["get", "configmaps", "-n", "other"], false),
        ("robot", &robot, vec!["get", "secrets", "-n", "team"], false),
        ("robot", &robot, vec!["get", "pods", "-n", "team"], false),
        ("robot", &robot, vec!["create", "configmap", "r", "-n", "team", "--from-literal=a=b", dry], false),
        ("node", &node, vec!["get", "secret", "s-n1", "-n", "team"], true),
        ("node", &node, vec!["get", "configmap", "cm-n1", "-n", "team"], true),
        ("node", &node, vec!["get", "secret", "s-other", "-n", "team"], false),
        ("node", &node, vec!["get", "secret", "s-x", "-n", "other"], false),
        ("node", &node, vec!["get", "configmap", "cm-other", "-n", "other"], false),
        ("node", &node, vec!["get", "secrets", "-n", "team"], false),
        ("node", &node, vec!["get", "pods", "-A"], true),
        ("node", &node, vec!["get", "node", "n1"], true),
        ("node", &node, vec!["label", "node", "n1", "ready=yes"], true),
        ("node", &node, vec!["label", "node", "n2", "ready=yes"], false),
        ("node", &node, vec!["delete", "pod", "web", "-n", "team", dry], true),
        ("node", &node, vec!["create", "token", "robot", "-n", "team"], true),
        ("node", &node, vec!["create", "token", "default", "-n", "team"], false),
        ("node", &node, vec!["create", "configmap", "n", "-n", "team", "--from-literal=a=b", dry], false),
    ];
    let (mut wrong_allow, mut wrong_deny) = (Vec::new(), Vec::new());
    for (who, kc, args, allowed) in &matrix {
        let out = s.kubectl_as(kc, args);
        let refused = forbidden(&out);
        if *allowed && refused {
            wrong_deny.push(format!("{who} {args:?}: {}", stderr(&out)));
        }
        if !*allowed && !refused {
            wrong_allow.push(format!("{who} {args:?}: {}{}", stdout(&out), stderr(&out)));
        }
        // kubectl auth can-i asks the server the same question through SelfSubjectAccessReview
        // (skipped for rows whose answer depends on admission rather than authorization)
        if args[0] == "get" && args.len() >= 2 {
            let named = args.len() > 2 && !args[2].starts_with('-');
            let target = if named { format!("{}/{}", args[1], args[2]) } else { args[1].to_string() };
            let mut can: Vec<&str> = vec!["auth", "can-i", "get", &target];
            can.extend(args[if named { 3 } else { 2 }..].iter().filter(|a| **a != "-A"));
            if args.contains(&"-A") {
                can.push("--all-namespaces");
            }
            let out = s.kubectl_as(kc, &can);
            let says_yes = stdout(&out).trim() == "yes";
            assert_eq!(says_yes, *allowed, "{who} {can:?}: {}{}", stdout(&out), stderr(&out));
        }
    }
    assert!(wrong_allow.is_empty() && wrong_deny.is_empty(), "{} checks, wrong allows: {wrong_allow:#?}\nwrong denies: {wrong_deny:#?}", matrix.len());

    // the 403 text is upstream's
    let out = s.kubectl_as(&jane, &["get", "secrets", "-n", "team"]);
    assert!(
        stderr(&out).contains(r#"secrets is forbidden: User "jane" cannot list resource "secrets" in API group "" in the namespace "team""#),
        "{}",
        stderr(&out)
    );
    let out = s.kubectl_as(&node, &["get", "secret", "s-other", "-n", "team"]);
    assert!(stderr(&out).contains("no relationship found between node 'n1' and this object"), "{}", stderr(&out));
    let out = s.kubectl_as(&node, &["label", "node", "n2", "ready=yes"]);
    assert!(stderr(&out).contains(r#"node "n1" is not allowed to modify node "n2""#), "{}", stderr(&out));

    // escalation: a user who may create roles and bindings but does not hold what they grant
    s.ok(&["create", "role", "role-maker", "--verb=get,list,create", "--resource=roles,rolebindings", "-n", "team"]);
    s.ok(&["create", "rolebinding", "mallory-maker", "--role=role-maker", "--user=mallory", "-n", "team"]);
    let mallory = s.user_kubeconfig("mallory", &[]);
    can(&s, &mallory, &["create", "roles", "-n", "team"]);
    let out = s.kubectl_as(&mallory, &["create", "role", "steal", "--verb=get", "--resource=secrets", "-n", "team"]);
    assert!(stderr(&out).contains(r#"user "mallory" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held"#), "{}", stderr(&out));
    assert!(stderr(&out).contains(r#"{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}"#), "{}", stderr(&out));
    let out = s.kubectl_as(&mallory, &["create", "rolebinding", "steal", "--clusterrole=admin", "--user=mallory", "-n", "team"]);
    assert!(forbidden(&out) && stderr(&out).contains("attempting to grant RBAC permissions not currently held"), "{}", stderr(&out));
    let out = s.kubectl_as(&mallory, &["create", "clusterrole", "steal", "--verb=get", "--resource=secrets"]);
    assert!(forbidden(&out), "{}", stderr(&out));
    // granting what one holds is fine
    let out = s.kubectl_as(&mallory, &["create", "role", "fine", "--verb=get,list", "--resource=roles", "-n", "team"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // and `escalate` lifts the check
    s.ok(&["create", "role", "escalator", "--verb=escalate", "--resource=roles", "-n", "team"]);
    s.ok(&["create", "rolebinding", "mallory-esc", "--role=escalator", "--user=mallory", "-n", "team"]);
    can(&s, &mallory, &["escalate", "roles", "-n", "team"]);
    let out = s.kubectl_as(&mallory, &["create", "role", "steal", "--verb=get", "--resource=secrets", "-n", "team"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // SubjectAccessReview and LocalSubjectAccessReview answer for others
    let sar = |kind: &str, ns_meta: &str, verb: &str, resource: &str| -> Value {
        let body = format!(
            "{{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"{kind}\",\"metadata\":{{{ns_meta}}},\"spec\":{{\"user\":\"jane\",\"groups\":[\"devs\"],\"resourceAttributes\":{{\"namespace\":\"team\",\"verb\":\"{verb}\",\"resource\":\"{resource}\"}}}}}}"
        );
        serde_json::from_str(&s.ok_stdin(&["create", "-f", "-", "-o", "json"], &body)).unwrap()
    };
    assert_eq!(sar("SubjectAccessReview", "", "list", "pods")["status"]["allowed"], true);
    assert_eq!(sar("SubjectAccessReview", "", "list", "secrets")["status"]["allowed"], false);
    let local = sar("LocalSubjectAccessReview", "\"namespace\":\"team\"", "get", "pods");
    assert_eq!(local["status"]["allowed"], true, "{local}");
    assert!(local["status"]["reason"].as_str().unwrap().contains("RBAC: allowed by RoleBinding \"jane-view/team\""), "{local}");
    // jane may not ask about others
    let out = s.kubectl_stdin_as(&jane, &["create", "-f", "-"], "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SubjectAccessReview\",\"spec\":{\"user\":\"x\",\"nonResourceAttributes\":{\"path\":\"/api\",\"verb\":\"get\"}}}");
    assert!(forbidden(&out), "{}", stderr(&out));

    // rules review (`kubectl auth can-i --list`) and whoami
    let list = stdout(&s.kubectl_as(&robot, &["auth", "can-i", "--list", "-n", "team"]));
    assert!(list.lines().any(|l| l.starts_with("configmaps ") && l.contains("[get list]")), "{list}");
    assert!(!list.lines().any(|l| l.starts_with("secrets")), "{list}");
    let who = stdout(&s.kubectl_as(&robot, &["auth", "whoami", "-o", "json"]));
    let who: Value = serde_json::from_str(&who).unwrap();
    assert_eq!(who["status"]["userInfo"]["username"], "system:serviceaccount:team:robot");
    assert!(who["status"]["userInfo"]["groups"].as_array().unwrap().iter().any(|g| g == "system:serviceaccounts:team"));
}

#[test]
fn anonymous_is_refused_everywhere_but_the_probes() {
    let s = Server::start();
    // every resource path the server serves, from its own discovery
    let resources = s.ok(&["api-resources", "-o", "name", "--verbs=list"]);
    let mut checked = 0;
    let ca = s.data_dir().join("tls/ca.crt");
    let curl = |path: &str| -> String {
        let out = std::process::Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
            .arg(&ca)
            .arg(format!("{}{path}", s.url))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for p in ["/healthz", "/livez", "/readyz", "/version", "/readyz/ping"] {
        assert_eq!(curl(p), "200", "{p}");
    }
    let discovery = s.ok(&["get", "--raw", "/apis"]);
    let groups: Value = serde_json::from_str(&discovery).unwrap();
    let mut versions: Vec<String> = vec!["/api/v1".into()];
    for g in groups["groups"].as_array().unwrap() {
        versions.push(format!("/apis/{}", g["preferredVersion"]["groupVersion"].as_str().unwrap()));
    }
    for v in &versions {
        let doc: Value = serde_json::from_str(&s.ok(&["get", "--raw", v])).unwrap();
        for r in doc["resources"].as_array().unwrap() {
            let name = r["name"].as_str().unwrap();
            let path = format!("{v}/{name}");
            assert_eq!(curl(&path), "401", "{path}");
            checked += 1;
        }
    }
    for p in ["/api", "/apis", "/openapi/v2", "/openapi/v3", "/.well-known/openid-configuration", "/openid/v1/jwks", "/metrics"] {
        assert_eq!(curl(p), "401", "{p}");
    }
    assert!(checked > 60, "only {checked} resource paths ({resources})");
    // a bad token is refused like no credentials
    let out = std::process::Command::new("curl")
        .args(["-s", "-w", " %{http_code}", "-H", "Authorization: Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.AAAA", "--cacert"])
        .arg(&ca)
        .arg(format!("{}/api/v1/pods", s.url))
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.ends_with(" 401") && text.contains(r#""reason":"Unauthorized""#), "{text}");
    let bad = s.token_kubeconfig("bad", "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.AAAA");
    let out = s.kubectl_as(&bad, &["get", "pods"]);
    assert!(stderr(&out).contains("Unauthorized") || stderr(&out).contains("provide credentials"), "{}", stderr(&out));
}

const PRIVILEGED: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: priv}\nspec:\n  containers:\n  - name: c\n    image: busybox\n    securityContext: {privileged: true}\n";
const HOST_PATH: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: hp}\nspec:\n  containers:\n  - name: c\n    image: busybox\n  volumes:\n  - name: root\n    hostPath: {path: /}\n";
const HOST_NETWORK: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: hn}\nspec:\n  hostNetwork: true\n  containers:\n  - name: c\n    image: busybox\n";
const RESTRICTED: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: tight}
spec:
  securityContext:
    runAsNonRoot: true
    runAsUser: 1000
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: c
    image: busybox
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
"#;

#[test]
fn pod_security_by_default() {
    let s = Server::start();
    let cases = [
        (PRIVILEGED, r#"pods "priv" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)"#),
        (HOST_PATH, r#"pods "hp" is forbidden: violates PodSecurity "baseline:latest": hostPath volumes (volume "root")"#),
        (HOST_NETWORK, r#"pods "hn" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true)"#),
    ];
    for (manifest, message) in cases {
        let out = s.kubectl_stdin(&["apply", "-f", "-"], Some(manifest));
        assert!(!out.status.success());
        assert!(stderr(&out).contains(message), "want {message}\ngot {}", stderr(&out));
    }
    assert_eq!(s.ok(&["get", "pods", "-o", "name"]).trim(), "");
    // restricted-compliant: admitted, no warnings
    let out = s.kubectl_stdin(&["apply", "-f", "-"], Some(RESTRICTED));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("Warning"), "{}", stderr(&out));
    // baseline-compliant, not restricted: admitted with upstream's warning
    let out = s.kubectl(&["run", "loose", "--image=nginx"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(r#"Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "loose" must set securityContext.allowPrivilegeEscalation=false)"#),
        "{}",
        stderr(&out)
    );
    // workloads are warned, not refused; their pods are what is enforced
    let out = s.kubectl_stdin(&["apply", "-f", "-"], Some("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      hostNetwork: true\n      containers: [{name: c, image: nginx}]\n"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains(r#"Warning: would violate PodSecurity "restricted:latest": host namespaces (hostNetwork=true)"#), "{}", stderr(&out));
    // a namespace labelled privileged admits what baseline refuses; kube-system is exempt
    s.ok(&["create", "namespace", "ops"]);
    s.ok(&["label", "namespace", "ops", "pod-security.kubernetes.io/enforce=privileged", "pod-security.kubernetes.io/warn=privileged"]);
    let out = s.kubectl_stdin(&["apply", "-n", "ops", "-f", "-"], Some(PRIVILEGED));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("Warning"), "{}", stderr(&out));
    let out = s.kubectl_stdin(&["apply", "-n", "kube-system", "-f", "-"], Some(HOST_NETWORK));
    assert!(out.status.success(), "{}", stderr(&out));
    // a namespace tightened to restricted: existing pods are reported, new loose pods refused
    s.ok(&["create", "namespace", "strict"]);
    s.ok(&["run", "old", "--image=nginx", "-n", "strict"]);
    let out = s.kubectl(&["label", "namespace", "strict", "pod-security.kubernetes.io/enforce=restricted"]);
    assert!(stderr(&out).contains(r#"existing pods in namespace "strict" violate the new PodSecurity enforce level "restricted:latest""#), "{}", stderr(&out));
    let out = s.kubectl(&["run", "new", "--image=nginx", "-n", "strict"]);
    assert!(stderr(&out).contains(r#"violates PodSecurity "restricted:latest""#), "{}", stderr(&out));
    // automountServiceAccountToken: false leaves the token out
    let out = s.kubectl_stdin(&["apply", "-f", "-"], Some("apiVersion: v1\nkind: Pod\nmetadata: {name: quiet}\nspec:\n  automountServiceAccountToken: false\n  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - name: c\n    image: busybox\n    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(s.ok(&["get", "pod", "quiet", "-o", "jsonpath={.spec.volumes}"]), "");
    // DenyServiceExternalIPs: no new externalIPs
    let out = s.kubectl_stdin(&["apply", "-f", "-"], Some("apiVersion: v1\nkind: Service\nmetadata: {name: ext}\nspec:\n  ports: [{port: 80}]\n  externalIPs: [192.0.2.10]\n"));
    assert!(stderr(&out).contains(r#"services "ext" is forbidden: Use of external IPs is denied by admission control"#), "{}", stderr(&out));
    // invalid policy labels are refused with upstream's text
    let out = s.kubectl(&["label", "namespace", "ops", "pod-security.kubernetes.io/enforce=bogus", "--overwrite"]);
    assert!(stderr(&out).contains("must be one of privileged, baseline, restricted"), "{}", stderr(&out));
}

/// Reads the raw value of a key from a stopped server's embedded store.
/// The value stored under `key`, read from the (stopped) server's embedded store or from its etcd.
fn raw_value(s: &Server, key: &str) -> Vec<u8> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use storage::Backend;
        let req = storage::RangeRequest::key(key);
        match &s.etcd {
            Some(etcd) => {
                let store = storage::etcd::EtcdStore::connect(etcd.options()).await.unwrap();
                store.range(req).await.unwrap().kvs.first().map(|kv| kv.value.to_vec()).unwrap_or_default()
            }
            None => {
                let store = storage::embedded::EmbeddedStore::open(&s.data_dir().join("db"), Default::default()).await.unwrap();
                let v = store.range(req).await.unwrap().kvs.first().map(|kv| kv.value.to_vec()).unwrap_or_default();
                store.close().await.unwrap();
                v
            }
        }
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn secrets_are_encrypted_at_rest_and_keys_rotate() {
    let mut s = Server::start();
    s.ok(&["create", "secret", "generic", "s1", "--from-literal=password=hunter2-plaintext"]);
    s.ok(&["create", "configmap", "c1", "--from-literal=note=visible-plaintext"]);
    let config = std::fs::read_to_string(s.data_dir().join("encryption-config.yaml")).unwrap();
    let first_key = config.lines().find_map(|l| l.trim().strip_prefix("- name: ")).unwrap().to_string();
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(s.data_dir().join("encryption-config.yaml")).unwrap().permissions()) & 0o777;
    assert_eq!(mode, 0o600);
    s.stop();
    let raw = raw_value(&s, "/registry/secrets/default/s1");
    let prefix = format!("k8s:enc:secretbox:v1:{first_key}:");
    assert!(raw.starts_with(prefix.as_bytes()), "{:?}", String::from_utf8_lossy(&raw[..raw.len().min(60)]));
    assert!(!contains(&raw, b"hunter2"), "plaintext in the stored secret");
    assert!(!contains(&raw, b"aHVudGVyMi1wbGFpbnRleHQ"), "base64 plaintext in the stored secret");
    // only what the configuration names is encrypted
    assert!(contains(&raw_value(&s, "/registry/configmaps/default/c1"), b"visible-plaintext"));
    // no plaintext anywhere in the store's files (the data directory's, or etcd's)
    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() { files(&e.path(), out) } else { out.push(e.path()) }
        }
    }
    let mut stored = Vec::new();
    files(&s.etcd.as_ref().map_or(s.data_dir().join("db"), |e| e.dir().to_path_buf()), &mut stored);
    assert!(!stored.is_empty());
    for f in stored {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!contains(&bytes, b"hunter2"), "{}", f.display());
    }
    s.restart();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferrokube")).args(args).arg("--data-dir").arg(s.data_dir()).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let st = run(&["secrets-encrypt", "status"]);
    assert_eq!(st["rules"][0]["activeKey"], format!("secretbox:{first_key}"));
    std::thread::sleep(Duration::from_millis(1100)); // key names carry the second they were made
    let rotated = run(&["secrets-encrypt", "rotate"]);
    assert!(rotated["rewritten"].as_u64().unwrap() >= 1, "{rotated}");
    let new_key = rotated["status"]["rules"][0]["activeKey"].as_str().unwrap().trim_start_matches("secretbox:").to_string();
    assert_ne!(new_key, first_key);
    // the old key still reads (until every value is rewritten, which reencrypt did)
    assert_eq!(s.ok(&["get", "secret", "s1", "-o", "jsonpath={.data.password}"]), "aHVudGVyMi1wbGFpbnRleHQ=");
    let again = run(&["secrets-encrypt", "reencrypt"]);
    assert_eq!(again["rewritten"], 0, "{again}");
    s.stop();
    let raw = raw_value(&s, "/registry/secrets/default/s1");
    assert!(raw.starts_with(format!("k8s:enc:secretbox:v1:{new_key}:").as_bytes()));
    s.restart();
    assert_eq!(s.ok(&["get", "secret", "s1", "-o", "jsonpath={.data.password}"]), "aHVudGVyMi1wbGFpbnRleHQ=");
}

#[test]
fn bound_tokens_die_with_their_pod_and_token_review_says_so() {
    let s = Server::start();
    s.ok(&["create", "serviceaccount", "runner"]);
    s.ok_stdin(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  serviceAccountName: runner\n  containers: [{name: c, image: nginx}]\n",
    );
    let token = s.ok(&["create", "token", "runner", "--bound-object-kind=Pod", "--bound-object-name=p", "--duration=10m"]);
    let token = token.trim().to_string();
    // the claims are upstream's
    let claims = {
        use base64::Engine;
        let part = token.split('.').nth(1).unwrap();
        serde_json::from_slice::<Value>(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    };
    for c in ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"] {
        assert!(claims.get(c).is_some(), "{c} missing: {claims}");
    }
    assert_eq!(claims["sub"], "system:serviceaccount:default:runner");
    assert_eq!(claims["kubernetes.io"]["pod"]["name"], "p");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 600, "no silent extension");
    let kc = s.token_kubeconfig("runner", &token);
    let who: Value = serde_json::from_str(&stdout(&s.kubectl_as(&kc, &["auth", "whoami", "-o", "json"]))).unwrap();
    assert_eq!(who["status"]["userInfo"]["username"], "system:serviceaccount:default:runner");
    assert_eq!(who["status"]["userInfo"]["extra"]["authentication.kubernetes.io/pod-name"][0], "p");
    let review = |tok: &str| -> Value {
        let body = format!("{{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenReview\",\"spec\":{{\"token\":\"{tok}\"}}}}");
        serde_json::from_str(&s.ok_stdin(&["create", "-f", "-", "-o", "json"], &body)).unwrap()
    };
    let r = review(&token);
    assert_eq!(r["status"]["authenticated"], true, "{r}");
    assert_eq!(r["status"]["user"]["username"], "system:serviceaccount:default:runner");
    // the pod is not bound to a node: deleted at once, and its token with it
    s.ok(&["delete", "pod", "p", "--wait=true"]);
    eventually(Duration::from_secs(5), "token refused", || stderr(&s.kubectl_as(&kc, &["auth", "whoami"])).contains("Unauthorized") || stderr(&s.kubectl_as(&kc, &["auth", "whoami"])).contains("provide credentials"));
    let r = review(&token);
    assert!(r["status"]["authenticated"].as_bool() != Some(true), "{r}");
    assert!(r["status"]["error"].as_str().unwrap().contains("pod default/p has been deleted"), "{r}");
    // an expiration below ten minutes is refused as upstream
    let out = s.kubectl(&["create", "token", "runner", "--duration=5m"]);
    assert!(stderr(&out).contains("may not specify a duration less than 10 minutes"), "{}", stderr(&out));
    // OIDC discovery for the issuer
    let oidc: Value = serde_json::from_str(&s.ok(&["get", "--raw", "/.well-known/openid-configuration"])).unwrap();
    assert_eq!(oidc["issuer"], claims["iss"]);
    let jwks: Value = serde_json::from_str(&s.ok(&["get", "--raw", "/openid/v1/jwks"])).unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "EC");
    // a legacy token Secret is filled in by the token controller and authenticates
    s.ok_stdin(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: legacy\n  annotations: {kubernetes.io/service-account.name: runner}\ntype: kubernetes.io/service-account-token\n",
    );
    let mut legacy = String::new();
    eventually(Duration::from_secs(10), "legacy token", || {
        legacy = s.ok(&["get", "secret", "legacy", "-o", "jsonpath={.data.token}"]);
        !legacy.is_empty()
    });
    let legacy = {
        use base64::Engine;
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(legacy.trim()).unwrap()).unwrap()
    };
    let kc = s.token_kubeconfig("legacy", &legacy);
    assert!(stdout(&s.kubectl_as(&kc, &["auth", "whoami"])).contains("system:serviceaccount:default:runner"));
    s.ok(&["delete", "secret", "legacy"]);
    eventually(Duration::from_secs(5), "legacy token refused", || !s.kubectl_as(&kc, &["auth", "whoami"]).status.success());
}

#[test]
fn audit_log_records_reads_of_secrets_and_rbac_changes() {
    let s = Server::start();
    s.ok(&["create", "secret", "generic", "topsecret", "--from-literal=k=audit-plaintext"]);
    s.ok(&["get", "secret", "topsecret", "-o", "yaml"]);
    s.ok(&["create", "rolebinding", "audited", "--clusterrole=view", "--user=someone"]);
    s.ok(&["run", "loose", "--image=nginx"]);
    let jane = s.user_kubeconfig("jane", &[]);
    assert!(forbidden(&s.kubectl_as(&jane, &["get", "secrets"])));
    let log = s.data_dir().join("audit.log");
    let mut events: Vec<Value> = Vec::new();
    eventually(Duration::from_secs(5), "audit events", || {
        events = std::fs::read_to_string(&log).unwrap_or_default().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        events.iter().any(|e| e["user"]["username"] == "jane")
    });
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("audit-plaintext") && !text.contains("YXVkaXQtcGxhaW50ZXh0"), "secret data in the audit log");
    let read = events
        .iter()
        .find(|e| e["verb"] == "get" && e["objectRef"]["resource"] == "secrets" && e["objectRef"]["name"] == "topsecret")
        .expect("an event for the secret read");
    assert_eq!(read["level"], "Metadata");
    assert_eq!(read["apiVersion"], "audit.k8s.io/v1");
    assert_eq!(read["stage"], "ResponseComplete");
    assert_eq!(read["user"]["username"], "admin");
    assert_eq!(read["responseStatus"]["code"], 200);
    assert!(read.get("responseObject").is_none() && read.get("requestObject").is_none());
    assert_eq!(read["requestURI"], "/api/v1/namespaces/default/secrets/topsecret");
    let rbac = events
        .iter()
        .find(|e| e["verb"] == "create" && e["objectRef"]["resource"] == "rolebindings")
        .expect("an event for the RBAC change");
    assert_eq!(rbac["level"], "RequestResponse");
    assert_eq!(rbac["responseObject"]["roleRef"]["name"], "view");
    assert_eq!(rbac["responseStatus"]["code"], 201);
    let denied = events.iter().find(|e| e["user"]["username"] == "jane").unwrap();
    assert_eq!(denied["annotations"]["authorization.k8s.io/decision"], "forbid");
    assert_eq!(denied["responseStatus"]["code"], 403);
    // PodSecurity's audit level is recorded on the pod's event
    let pod = events.iter().find(|e| e["verb"] == "create" && e["objectRef"]["resource"] == "pods").expect("pod create event");
    assert_eq!(pod["annotations"]["pod-security.kubernetes.io/enforce-policy"], "baseline:latest", "{pod}");
    assert!(pod["annotations"]["pod-security.kubernetes.io/audit-violations"].as_str().unwrap().starts_with(r#"would violate PodSecurity "restricted:latest""#), "{pod}");
    // health probes are not logged
    assert!(!events.iter().any(|e| e["requestURI"].as_str().is_some_and(|u| u.starts_with("/readyz"))));
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&log).unwrap().permissions()) & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn impersonation_csr_approval_and_user_kubeconfigs() {
    let s = Server::start();
    // impersonation is authorized by the `impersonate` verb
    let who = s.ok(&["auth", "whoami", "--as=jane", "--as-group=devs"]);
    assert!(who.contains("jane") && who.contains("devs"), "{who}");
    let jane = s.user_kubeconfig("jane", &[]);
    // (`get --raw`: with kubectl's discovery refused too, upstream's kubectl prints "unknown")
    let out = s.kubectl_as(&jane, &["get", "--raw", "/api/v1/pods", "--as=admin"]);
    assert!(stderr(&out).contains(r#"users "admin" is forbidden: User "jane" cannot impersonate resource "users" in API group "" at the cluster scope"#), "{}", stderr(&out));
    // a person's certificate, short-lived, from the CA
    let kc = std::fs::read_to_string(&jane).unwrap();
    assert!(kc.contains("client-certificate-data"));
    // a user-submitted CSR, approved with kubectl, gives a working certificate
    let dir = s.path();
    let keygen = std::process::Command::new("openssl")
        .args(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=bob/O=qa", "-keyout"])
        .arg(dir.join("bob.key"))
        .arg("-out")
        .arg(dir.join("bob.csr"))
        .output()
        .unwrap();
    assert!(keygen.status.success(), "{}", stderr(&keygen));
    let csr = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(dir.join("bob.csr")).unwrap())
    };
    let manifest = format!(
        "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata: {{name: bob}}\nspec:\n  request: {csr}\n  signerName: kubernetes.io/kube-apiserver-client\n  expirationSeconds: 3600\n  usages: [client auth]\n"
    );
    let out = s.kubectl_stdin(&["apply", "-f", "-"], Some(&manifest));
    assert!(out.status.success(), "{}", stderr(&out));
    // the requester is who created it, whatever the request says
    let requestor = s.ok(&["get", "csr", "bob", "-o", "jsonpath={.spec.username}"]);
    assert_eq!(requestor, "admin");
    // jane may not approve
    let out = s.kubectl_as(&jane, &["certificate", "approve", "bob"]);
    assert!(forbidden(&out), "{}", stderr(&out));
    s.ok(&["certificate", "approve", "bob"]);
    let mut cert = String::new();
    eventually(Duration::from_secs(10), "certificate issued", || {
        cert = s.ok(&["get", "csr", "bob", "-o", "jsonpath={.status.certificate}"]);
        !cert.is_empty()
    });
    assert!(s.ok(&["get", "csr", "bob"]).contains("Approved,Issued"));
    let (cert_b64, key_b64) = {
        use base64::Engine;
        (cert.trim().to_string(), base64::engine::general_purpose::STANDARD.encode(std::fs::read(dir.join("bob.key")).unwrap()))
    };
    let admin_kc = std::fs::read_to_string(&s.kubeconfig).unwrap();
    let ca_line = admin_kc.lines().find(|l| l.contains("certificate-authority-data")).unwrap().trim().to_string();
    let bob_kc = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    {ca_line}\nusers:\n- name: bob\n  user:\n    client-certificate-data: {cert_b64}\n    client-key-data: {key_b64}\ncontexts:\n- name: x\n  context: {{cluster: c, user: bob}}\ncurrent-context: x\n",
        s.url
    );
    let bob_path = dir.join("bob.kubeconfig");
    std::fs::write(&bob_path, bob_kc).unwrap();
    let who = stdout(&s.kubectl_as(&bob_path, &["auth", "whoami"]));
    assert!(who.contains("bob") && who.contains("qa"), "{who}");
    // the apiserver-client signer never issues for system:masters
    let evil = std::process::Command::new("openssl")
        .args(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=evil/O=system:masters", "-keyout"])
        .arg(dir.join("evil.key"))
        .arg("-out")
        .arg(dir.join("evil.csr"))
        .output()
        .unwrap();
    assert!(evil.status.success());
    let evil_csr = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(dir.join("evil.csr")).unwrap())
    };
    let out = s.kubectl_stdin(&["apply", "-f", "-"], Some(&manifest.replace("name: bob", "name: evil").replace(&csr, &evil_csr)));
    assert!(stderr(&out).contains("use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed"), "{}", stderr(&out));
}

#[test]
fn connections_from_outside_the_allowed_networks_are_closed() {
    // the harness needs the server ready, so allow loopback, then check a narrower list refuses
    let s = Server::start_with(&["--api-allowed-cidrs", "127.0.0.0/8"]);
    assert!(s.kubectl(&["get", "ns"]).status.success());
    drop(s);
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    /// Stops the server it holds (by its PID) however the test ends.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _child = Stop(
        std::process::Command::new(env!("CARGO_BIN_EXE_ferrokube"))
            .args(["server", "--disable-agent", "--api-allowed-cidrs", "10.0.0.0/8", "--secure-port", &port.to_string(), "--data-dir"])
            .arg(dir.path().join("data"))
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let kc = dir.path().join("data/admin.kubeconfig");
    eventually(Duration::from_secs(30), "kubeconfig written", || kc.exists());
    let out = std::process::Command::new("curl").args(["-sk", "-o", "/dev/null", "-w", "%{http_code}"]).arg(format!("https://127.0.0.1:{port}/readyz")).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "000", "a refused connection has no HTTP status");
}

/// The test webhook (tests/python/webhook_server.py), stopped when dropped.
struct Webhook {
    child: std::process::Child,
    port: u16,
    ca_b64: String,
}

impl Drop for Webhook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_webhook(dir: &Path) -> Webhook {
    let (cert, key) = (dir.join("webhook.crt"), dir.join("webhook.key"));
    let out = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=webhook", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/webhook_server.py");
    let mut child = std::process::Command::new("python3").arg(script).arg(&cert).arg(&key).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    let port: u16 = line.trim().parse().unwrap();
    let ca_b64 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(&cert).unwrap())
    };
    Webhook { child, port, ca_b64 }
}

fn webhook_config(kind: &str, name: &str, url: &str, ca: &str, policy: &str, extra: &str) -> String {
    format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: {kind}\nmetadata: {{name: {name}}}\nwebhooks:\n- name: {name}.ferrokube.test\n  clientConfig:\n    url: {url}\n    caBundle: {ca}\n  rules:\n  - operations: [CREATE]\n    apiGroups: [\"\"]\n    apiVersions: [v1]\n    resources: [pods]\n  failurePolicy: {policy}\n  sideEffects: None\n  admissionReviewVersions: [v1]\n  timeoutSeconds: 5\n{extra}"
    )
}

#[test]
fn admission_webhooks_deny_and_mutate() {
    let s = Server::start();
    let hook = start_webhook(s.path());
    let base = format!("https://127.0.0.1:{}", hook.port);
    let skip = "  namespaceSelector:\n    matchExpressions:\n    - {key: webhooks, operator: NotIn, values: [skip]}\n";
    s.ok_stdin(&["apply", "-f", "-"], &webhook_config("ValidatingWebhookConfiguration", "deny", &format!("{base}/validate"), &hook.ca_b64, "Fail", skip));
    let skip_labelled = format!("{skip}  objectSelector:\n    matchExpressions:\n    - {{key: no-mutation, operator: DoesNotExist}}\n");
    s.ok_stdin(&["apply", "-f", "-"], &webhook_config("MutatingWebhookConfiguration", "label", &format!("{base}/mutate"), &hook.ca_b64, "Fail", &skip_labelled));
    // (the configurations reach the watch cache first; dry runs call webhooks without side effects)
    eventually(Duration::from_secs(10), "webhook in effect", || stderr(&s.kubectl(&["run", "evil", "--image=nginx", "--dry-run=server"])).contains("denied the request"));
    // denied, with upstream's text and the webhook's code
    let out = s.kubectl(&["run", "evil", "--image=nginx"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(r#"admission webhook "deny.ferrokube.test" denied the request: pods named evil are not allowed"#),
        "{}",
        stderr(&out)
    );
    // mutated: the label and the requester the webhook saw; its warning reaches kubectl
    let out = s.kubectl(&["run", "good", "--image=nginx"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("Warning: checked by the test webhook"), "{}", stderr(&out));
    let labels = s.ok(&["get", "pod", "good", "-o", "jsonpath={.metadata.labels.mutated-by} {.metadata.annotations.requested-by}"]);
    assert_eq!(labels, "webhook admin");
    // the mutated pod was still validated and admitted by the built-in plugins (token volume)
    assert!(s.ok(&["get", "pod", "good", "-o", "jsonpath={.spec.volumes[0].name}"]).starts_with("kube-api-access-"));
    // objectSelector leaves labelled objects out
    s.ok(&["run", "plain", "--image=nginx", "--labels=no-mutation=true"]);
    assert_eq!(s.ok(&["get", "pod", "plain", "-o", "jsonpath={.metadata.labels.mutated-by}"]), "");
    // matchConditions (CEL) decide whether the webhook is called at all
    s.ok(&["delete", "validatingwebhookconfiguration", "deny"]);
    let cond = format!("{skip}  matchConditions:\n  - name: not-exempt\n    expression: \"!has(object.metadata.labels) || !('exempt' in object.metadata.labels)\"\n");
    s.ok_stdin(&["apply", "-f", "-"], &webhook_config("ValidatingWebhookConfiguration", "deny", &format!("{base}/validate"), &hook.ca_b64, "Fail", &cond));
    std::thread::sleep(Duration::from_millis(500)); // the webhook configuration reaches the watch cache
    let out = s.kubectl(&["run", "evil", "--image=nginx"]);
    assert!(stderr(&out).contains("denied the request"), "{}", stderr(&out));
    let out = s.kubectl(&["run", "evil", "--image=nginx", "--labels=exempt=yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    s.ok(&["delete", "pod", "evil"]);
    // timeoutSeconds bounds a slow webhook
    let mut slow = webhook_config("ValidatingWebhookConfiguration", "slow", &format!("{base}/slow"), &hook.ca_b64, "Fail", "");
    slow = slow.replace("timeoutSeconds: 5", "timeoutSeconds: 1");
    s.ok_stdin(&["apply", "-f", "-"], &slow);
    std::thread::sleep(Duration::from_millis(500)); // the webhook configuration reaches the watch cache
    let started = std::time::Instant::now();
    let out = s.kubectl(&["run", "late", "--image=nginx"]);
    assert!(stderr(&out).contains("context deadline exceeded"), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_millis(2900), "the 1 s timeout was not applied");
    s.ok(&["delete", "validatingwebhookconfiguration", "slow"]);
    // namespaceSelector leaves a namespace out
    s.ok(&["create", "namespace", "free"]);
    s.ok(&["label", "namespace", "free", "webhooks=skip"]);
    let out = s.kubectl(&["run", "evil", "--image=nginx", "-n", "free"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(s.ok(&["get", "pod", "evil", "-n", "free", "-o", "jsonpath={.metadata.labels.mutated-by}"]), "");
    // dry run reaches webhooks without side effects
    let out = s.kubectl(&["run", "evil", "--image=nginx", "--dry-run=server"]);
    assert!(stderr(&out).contains("denied the request"), "{}", stderr(&out));
    // an unreachable webhook: Fail rejects with upstream's text, Ignore lets the request through
    drop(hook);
    let dead = "https://127.0.0.1:9/validate";
    s.ok(&["delete", "validatingwebhookconfiguration", "deny"]);
    s.ok(&["delete", "mutatingwebhookconfiguration", "label"]);
    s.ok_stdin(&["apply", "-f", "-"], &webhook_config("ValidatingWebhookConfiguration", "down", dead, "", "Fail", ""));
    std::thread::sleep(Duration::from_millis(500)); // the webhook configuration reaches the watch cache
    let out = s.kubectl(&["run", "p1", "--image=nginx"]);
    assert!(stderr(&out).contains(r#"Internal error occurred: failed calling webhook "down.ferrokube.test": failed to call webhook: Post "https://127.0.0.1:9/validate""#), "{}", stderr(&out));
    s.ok_stdin(&["apply", "-f", "-"], &webhook_config("ValidatingWebhookConfiguration", "down", dead, "", "Ignore", ""));
    std::thread::sleep(Duration::from_millis(500)); // the webhook configuration reaches the watch cache
    let out = s.kubectl(&["run", "p2", "--image=nginx"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // configurations themselves never go to webhooks: the broken one can always be removed
    s.ok(&["delete", "validatingwebhookconfiguration", "down"]);
}

#[test]
fn limit_ranges_and_resource_quotas() {
    let s = Server::start();
    s.ok(&["create", "namespace", "q"]);
    s.ok_stdin(
        &["apply", "-n", "q", "-f", "-"],
        "apiVersion: v1\nkind: LimitRange\nmetadata: {name: limits}\nspec:\n  limits:\n  - type: Container\n    default: {cpu: 500m, memory: 128Mi}\n    defaultRequest: {cpu: 100m, memory: 64Mi}\n    max: {cpu: \"1\"}\n",
    );
    // defaults are applied and recorded
    s.ok(&["run", "a", "--image=nginx", "-n", "q"]);
    let got = s.ok(&["get", "pod", "a", "-n", "q", "-o", "jsonpath={.spec.containers[0].resources.requests.cpu} {.spec.containers[0].resources.limits.memory}"]);
    assert_eq!(got, "100m 128Mi");
    let note = s.ok(&["get", "pod", "a", "-n", "q", "-o", "jsonpath={.metadata.annotations.kubernetes\\.io/limit-ranger}"]);
    assert_eq!(note, "LimitRanger plugin set: cpu, memory request for container a; cpu, memory limit for container a");
    // bounds are enforced with upstream's text
    let out = s.kubectl(&["run", "big", "--image=nginx", "-n", "q", "--overrides", r#"{"spec":{"containers":[{"name":"big","image":"nginx","resources":{"limits":{"cpu":"2"}}}]}}"#]);
    assert!(stderr(&out).contains(r#"pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2"#), "{}", stderr(&out));
    // quotas count objects and refuse what exceeds them
    s.ok_stdin(&["apply", "-n", "q", "-f", "-"], "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: counts}\nspec:\n  hard: {pods: \"2\", requests.cpu: 250m, count/deployments.apps: \"1\"}\n");
    eventually(Duration::from_secs(15), "quota status", || s.ok(&["get", "resourcequota", "counts", "-n", "q", "-o", "jsonpath={.status.used.pods}"]) == "1");
    s.ok(&["run", "b", "--image=nginx", "-n", "q"]);
    let out = s.kubectl(&["run", "c", "--image=nginx", "-n", "q"]);
    assert!(
        stderr(&out).contains(r#"pods "c" is forbidden: exceeded quota: counts, requested: pods=1,requests.cpu=100m, used: pods=2,requests.cpu=200m, limited: pods=2,requests.cpu=250m"#),
        "{}",
        stderr(&out)
    );
    s.ok(&["create", "deployment", "d1", "--image=nginx", "-n", "q"]);
    let out = s.kubectl(&["create", "deployment", "d2", "--image=nginx", "-n", "q"]);
    assert!(stderr(&out).contains("exceeded quota: counts, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1"), "{}", stderr(&out));
    // what a deleted pod held comes back to the quota
    s.ok(&["delete", "pod", "a", "-n", "q"]);
    eventually(Duration::from_secs(20), "quota released", || s.kubectl(&["run", "c", "--image=nginx", "-n", "q"]).status.success());
    let described = s.ok(&["describe", "resourcequota", "counts", "-n", "q"]);
    assert!(described.contains("pods") && described.contains("2     2"), "{described}");
    // a compute quota makes every container declare what it limits
    s.ok(&["create", "namespace", "compute"]);
    s.ok(&["create", "quota", "compute", "--hard=limits.memory=1Gi", "-n", "compute"]);
    let out = s.kubectl(&["run", "x", "--image=nginx", "-n", "compute"]);
    assert!(stderr(&out).contains(r#"pods "x" is forbidden: failed quota: compute: must specify limits.memory for: x"#), "{}", stderr(&out));
}

#[test]
fn bootstrap_tokens_authenticate_until_they_expire() {
    let s = Server::start();
    let future = "2099-01-01T00:00:00Z";
    let secret = |id: &str, expiration: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: bootstrap-token-{id}, namespace: kube-system}}\ntype: bootstrap.kubernetes.io/token\nstringData:\n  token-id: {id}\n  token-secret: 0123456789abcdef\n  usage-bootstrap-authentication: \"true\"\n  auth-extra-groups: system:bootstrappers:worker\n  expiration: {expiration}\n"
        )
    };
    s.ok_stdin(&["apply", "-f", "-"], &secret("abcdef", future));
    s.ok_stdin(&["apply", "-f", "-"], &secret("old123", "2020-01-01T00:00:00Z"));
    // stringData is write-only: stored into data
    let stored = s.ok(&["get", "secret", "bootstrap-token-abcdef", "-n", "kube-system", "-o", "jsonpath={.data.token-id}|{.stringData}"]);
    assert_eq!(stored, "YWJjZGVm|");
    let kc = s.token_kubeconfig("boot", "abcdef.0123456789abcdef");
    let who = stdout(&s.kubectl_as(&kc, &["auth", "whoami"]));
    assert!(who.contains("system:bootstrap:abcdef"), "{who}");
    assert!(who.contains("system:bootstrappers:worker") && who.contains("system:bootstrappers "), "{who}");
    // the token cleaner deletes the expired one
    eventually(Duration::from_secs(15), "expired token deleted", || !s.kubectl(&["get", "secret", "bootstrap-token-old123", "-n", "kube-system"]).status.success());
    assert!(s.kubectl(&["get", "secret", "bootstrap-token-abcdef", "-n", "kube-system"]).status.success());
    // a wrong secret, an expired token, a token not for authentication: refused
    for (name, token) in [("wrong", "abcdef.fedcba9876543210"), ("expired", "old123.0123456789abcdef"), ("missing", "zzzzzz.0123456789abcdef")] {
        let kc = s.token_kubeconfig(name, token);
        let out = s.kubectl_as(&kc, &["auth", "whoami"]);
        assert!(!out.status.success(), "{name}: {}", stdout(&out));
        assert!(stderr(&out).contains("Unauthorized") || stderr(&out).contains("provide credentials"), "{name}: {}", stderr(&out));
    }
}

#[test]
fn an_encryption_configuration_file_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let key = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode([7u8; 32])
    };
    let config = dir.path().join("enc.yaml");
    std::fs::write(
        &config,
        format!("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets, configmaps]\n  providers:\n  - aesgcm:\n      keys:\n      - {{name: key1, secret: {key}}}\n  - identity: {{}}\n"),
    )
    .unwrap();
    let mut s = Server::start_with(&["--encryption-provider-config", config.to_str().unwrap()]);
    s.ok(&["create", "secret", "generic", "s", "--from-literal=a=secret-value"]);
    s.ok(&["create", "configmap", "c", "--from-literal=a=config-value"]);
    s.stop();
    for (key, plain) in [("/registry/secrets/default/s", "secret-value"), ("/registry/configmaps/default/c", "config-value")] {
        let raw = raw_value(&s, key);
        assert!(raw.starts_with(b"k8s:enc:aesgcm:v1:key1:"), "{key}");
        assert!(!contains(&raw, plain.as_bytes()));
    }
    assert!(!s.data_dir().join("encryption-config.yaml").exists(), "the given file is used, no default is made");
    s.restart();
    assert_eq!(s.ok(&["get", "configmap", "c", "-o", "jsonpath={.data.a}"]), "config-value");
    // a broken configuration stops the server with the field at fault named
    std::fs::write(&config, "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - secretbox:\n      keys:\n      - {name: k, secret: dG9vc2hvcnQ=}\n").unwrap();
    s.stop();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferrokube"))
        .args(["server", "--disable-agent", "--secure-port", "0", "--encryption-provider-config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(s.data_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("resources[0].providers[0].secretbox.keys[0].secret"), "{}", stderr(&out));
}

#[test]
fn pod_security_configuration_file_and_tls_versions() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("psa.yaml");
    std::fs::write(
        &cfg,
        "apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\ndefaults:\n  enforce: restricted\n  enforce-version: latest\nexemptions:\n  namespaces: [legacy]\n  usernames: []\n  runtimeClasses: []\n",
    )
    .unwrap();
    let s = Server::start_with(&["--pod-security-config-file", cfg.to_str().unwrap()]);
    let out = s.kubectl(&["run", "loose", "--image=nginx"]);
    assert!(stderr(&out).contains(r#"violates PodSecurity "restricted:latest""#), "{}", stderr(&out));
    s.ok(&["create", "namespace", "legacy"]);
    let out = s.kubectl_stdin(&["apply", "-n", "legacy", "-f", "-"], Some(PRIVILEGED));
    assert!(out.status.success(), "{}", stderr(&out));
    // TLS 1.2 and 1.3 only
    let host = s.url.trim_start_matches("https://").to_string();
    let tls = |flag: &str| {
        std::process::Command::new("openssl")
            .args(["s_client", "-connect", &host, flag])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    assert!(tls("-tls1_3").status.success());
    assert!(tls("-tls1_2").status.success());
    let old = tls("-tls1_1");
    assert!(!old.status.success() || !stdout(&old).contains("Cipher is"), "TLS 1.1 accepted: {}", stdout(&old));
}
