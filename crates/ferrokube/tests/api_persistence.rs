//! Objects survive restarts and crashes; resourceVersions only grow.

mod support;

use support::Server;

#[test]
fn objects_survive_restart_and_kill9() {
    let mut s = Server::start();
    s.ok(&["create", "namespace", "keep"]);
    s.ok(&["create", "configmap", "c1", "-n", "keep", "--from-literal=a=1"]);
    let rv1: i64 = s.ok(&["get", "configmap", "c1", "-n", "keep", "-o", "jsonpath={.metadata.resourceVersion}"]).parse().unwrap();
    let uid = s.ok(&["get", "configmap", "c1", "-n", "keep", "-o", "jsonpath={.metadata.uid}"]);
    s.restart();
    assert_eq!(s.ok(&["get", "configmap", "c1", "-n", "keep", "-o", "jsonpath={.data.a}"]), "1");
    assert_eq!(s.ok(&["get", "configmap", "c1", "-n", "keep", "-o", "jsonpath={.metadata.uid}"]), uid);
    s.ok(&["create", "configmap", "c2", "-n", "keep", "--from-literal=a=2"]);
    let rv2: i64 = s.ok(&["get", "configmap", "c2", "-n", "keep", "-o", "jsonpath={.metadata.resourceVersion}"]).parse().unwrap();
    assert!(rv2 > rv1, "{rv2} <= {rv1}");
    // an acknowledged write survives SIGKILL
    s.ok(&["create", "configmap", "c3", "-n", "keep", "--from-literal=a=3"]);
    s.kill9();
    s.restart();
    assert_eq!(s.ok(&["get", "configmap", "c3", "-n", "keep", "-o", "jsonpath={.data.a}"]), "3");
    s.ok(&["create", "configmap", "c4", "-n", "keep", "--from-literal=a=4"]);
    let rv4: i64 = s.ok(&["get", "configmap", "c4", "-n", "keep", "-o", "jsonpath={.metadata.resourceVersion}"]).parse().unwrap();
    assert!(rv4 > rv2);
    // the same certificates and kubeconfig identity are reused
    let ca_before = std::fs::read(s.data_dir().join("tls/ca.crt")).unwrap();
    s.restart();
    assert_eq!(std::fs::read(s.data_dir().join("tls/ca.crt")).unwrap(), ca_before);
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&s.kubeconfig).unwrap().permissions()) & 0o777;
    assert_eq!(mode, 0o600);
}
