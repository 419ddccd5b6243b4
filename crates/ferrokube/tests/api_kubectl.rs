//! kubectl 1.32 against `ferrokube server`: the everyday commands, unchanged, with default
//! validation.

mod support;

use std::time::Duration;

use support::{Server, eventually};

const POD: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
    tier: front
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports:
    - containerPort: 80
"#;

#[test]
fn discovery_version_and_explain() {
    let s = Server::start();
    let v = s.ok(&["version", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&v).unwrap();
    assert_eq!(v["serverVersion"]["major"], "1");
    assert_eq!(v["serverVersion"]["minor"], "32");
    assert!(v["serverVersion"]["gitVersion"].as_str().unwrap().starts_with("v1.32.0+ferrokube."));

    let res = s.ok(&["api-resources"]);
    for line in ["pods ", "deployments ", "customresourcedefinitions ", "leases ", "endpointslices "] {
        assert!(res.contains(line), "api-resources lacks {line}:\n{res}");
    }
    let pods = res.lines().find(|l| l.starts_with("pods ")).unwrap();
    assert!(pods.contains(" po ") && pods.contains(" v1 ") && pods.contains(" true ") && pods.contains(" Pod"), "{pods}");
    let deploy = res.lines().find(|l| l.starts_with("deployments ")).unwrap();
    assert!(deploy.contains("deploy") && deploy.contains("apps/v1"), "{deploy}");
    let wide = s.ok(&["api-resources", "-o", "wide", "--api-group=apps"]);
    assert!(wide.contains("create,delete,deletecollection,get,list,patch,update,watch"), "{wide}");
    let cat = s.ok(&["api-resources", "--categories=all", "-o", "name"]);
    assert!(cat.contains("pods") && cat.contains("deployments.apps") && !cat.contains("configmaps"), "{cat}");

    let versions = s.ok(&["api-versions"]);
    for gv in ["v1", "apps/v1", "batch/v1", "autoscaling/v2", "rbac.authorization.k8s.io/v1", "apiextensions.k8s.io/v1"] {
        assert!(versions.lines().any(|l| l == gv), "api-versions lacks {gv}:\n{versions}");
    }

    let explain = s.ok(&["explain", "pod.spec.containers"]);
    assert!(explain.contains("KIND:       Pod"), "{explain}");
    assert!(explain.contains("FIELD: containers <[]Container>"), "{explain}");
    assert!(explain.contains("image\t<string>") || explain.contains("image <string>") || explain.contains("image"), "{explain}");
    assert!(explain.contains("List of containers belonging to the pod"), "{explain}");
}

#[test]
fn create_apply_get_formats() {
    let s = Server::start();
    let f = s.file("pod.yaml", POD);
    let out = s.ok(&["create", "-f", &f]);
    assert_eq!(out.trim(), "pod/web created");

    let cm = s.file(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n",
    );
    assert_eq!(s.ok(&["apply", "-f", &cm]).trim(), "configmap/settings created");
    let applied: serde_json::Value = serde_json::from_str(&s.ok(&["get", "cm", "settings", "-o", "json"])).unwrap();
    assert!(
        applied["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"].is_string(),
        "{applied}"
    );
    assert_eq!(applied["data"]["mode"], "fast");

    let json: serde_json::Value = serde_json::from_str(&s.ok(&["get", "pod", "web", "-o", "json"])).unwrap();
    assert_eq!(json["metadata"]["name"], "web");
    assert_eq!(json["metadata"]["namespace"], "default");
    assert!(json["metadata"]["uid"].as_str().unwrap().len() == 36);
    assert!(json["metadata"]["resourceVersion"].as_str().unwrap().parse::<i64>().unwrap() > 0);
    assert!(json["metadata"]["creationTimestamp"].as_str().unwrap().ends_with('Z'));
    // upstream defaults kubectl shows
    assert_eq!(json["spec"]["restartPolicy"], "Always");
    assert_eq!(json["spec"]["dnsPolicy"], "ClusterFirst");
    assert_eq!(json["spec"]["containers"][0]["imagePullPolicy"], "IfNotPresent");
    assert_eq!(json["spec"]["containers"][0]["ports"][0]["protocol"], "TCP");
    assert_eq!(json["spec"]["terminationGracePeriodSeconds"], 30);

    let yaml = s.ok(&["get", "pod", "web", "-o", "yaml"]);
    assert!(yaml.contains("kind: Pod") && yaml.contains("name: web") && yaml.contains("image: nginx:1.27"), "{yaml}");

    let table = s.ok(&["get", "pods"]);
    let header = table.lines().next().unwrap();
    assert!(header.starts_with("NAME") && header.contains("READY") && header.contains("STATUS") && header.contains("RESTARTS") && header.contains("AGE"), "{table}");
    assert!(table.lines().nth(1).unwrap().starts_with("web "), "{table}");
    let wide = s.ok(&["get", "pods", "-o", "wide"]);
    assert!(wide.lines().next().unwrap().contains("NODE") && wide.contains("<none>"), "{wide}");

    assert_eq!(s.ok(&["get", "pods", "-o", "name"]).trim(), "pod/web");
    assert_eq!(s.ok(&["get", "pod", "web", "-o", "jsonpath={.spec.containers[0].image}"]), "nginx:1.27");
    let cc = s.ok(&["get", "pods", "-o", "custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[*].image"]);
    assert_eq!(cc.lines().nth(1).unwrap().split_whitespace().collect::<Vec<_>>(), vec!["web", "nginx:1.27"]);

    // all namespaces adds a NAMESPACE column from the row's object metadata
    let all = s.ok(&["get", "pods", "-A"]);
    assert!(all.lines().next().unwrap().starts_with("NAMESPACE"), "{all}");
    assert!(all.lines().any(|l| l.starts_with("default ") && l.contains("web")), "{all}");
}

#[test]
fn selectors_and_chunking() {
    let s = Server::start();
    for (name, app, tier) in [("a", "web", "front"), ("b", "web", "back"), ("c", "db", "back"), ("d", "cache", "")] {
        let mut labels = format!("    app: {app}\n");
        if !tier.is_empty() {
            labels.push_str(&format!("    tier: {tier}\n"));
        }
        let manifest = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  labels:\n{labels}data:\n  k: v\n");
        let f = s.file(&format!("{name}.yaml"), &manifest);
        s.ok(&["create", "-f", &f]);
    }
    let names = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["get", "configmaps", "-o", "name"];
        a.extend_from_slice(args);
        let mut v: Vec<String> = s.ok(&a).lines().map(|l| l.trim_start_matches("configmap/").to_string()).filter(|n| n != "kube-root-ca.crt").collect();
        v.sort();
        v
    };
    assert_eq!(names(&["-l", "app=web"]), vec!["a", "b"]);
    assert_eq!(names(&["-l", "app==web,tier!=back"]), vec!["a"]);
    assert_eq!(names(&["-l", "app in (web,db)"]), vec!["a", "b", "c"]);
    assert_eq!(names(&["-l", "app notin (web,db),app"]), vec!["d"]);
    assert_eq!(names(&["-l", "!tier"]), vec!["d"]);
    assert_eq!(names(&["-l", "tier"]), vec!["a", "b", "c"]);
    assert_eq!(names(&["--field-selector", "metadata.name=c"]), vec!["c"]);
    assert_eq!(names(&["--field-selector", "metadata.name!=c", "-l", "app=web"]), vec!["a", "b"]);
    let bad = s.fails(&["get", "configmaps", "-l", "app in (web"]);
    assert!(bad.contains("unable to parse requirement"), "{bad}");
    let bad = s.fails(&["get", "pods", "--field-selector", "spec.bogus=x"]);
    assert!(bad.contains("field label not supported: spec.bogus"), "{bad}");

    // chunked lists walk every page with continue tokens
    let chunked = s.ok(&["get", "configmaps", "--chunk-size=2", "-o", "name"]);
    let mut got: Vec<&str> = chunked.lines().collect();
    got.sort();
    assert!(got.starts_with(&["configmap/a", "configmap/b", "configmap/c", "configmap/d"]), "{chunked}");
    let v = s.ok(&["get", "--raw", "/api/v1/namespaces/default/configmaps?limit=2"]);
    let v: serde_json::Value = serde_json::from_str(&v).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    assert!(v["metadata"]["continue"].is_string());
    assert!(v["metadata"]["remainingItemCount"].as_i64().unwrap() >= 2);
    let bad = s.fails(&["get", "--raw", "/api/v1/namespaces/default/configmaps?limit=2&continue=garbage"]);
    assert!(bad.contains("continue"), "{bad}");

    // pods: spec.nodeName and status.phase field selectors
    let f = s.file("pod.yaml", POD);
    s.ok(&["create", "-f", &f]);
    assert_eq!(s.ok(&["get", "pods", "--field-selector", "spec.nodeName=", "-o", "name"]).trim(), "pod/web");
    assert_eq!(s.ok(&["get", "pods", "--field-selector", "status.phase=Running", "-o", "name"]).trim(), "");
}

#[test]
fn watch_sees_updates() {
    let s = Server::start();
    s.ok(&["create", "configmap", "watched", "--from-literal=a=1"]);
    let (mut child, rx) = s.kubectl_lines(&["get", "configmap", "watched", "-w", "-o", "jsonpath={.data.a}{\"\\n\"}"]);
    assert_eq!(rx.recv_timeout(Duration::from_secs(20)).unwrap(), "1");
    let f = s.file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\ndata:\n  a: \"2\"\n");
    s.ok(&["replace", "-f", &f]);
    let got = rx.recv_timeout(Duration::from_secs(20));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(got.unwrap(), "2");

    // the table form of a watch (what `kubectl get -w` prints)
    let (mut child, rx) = s.kubectl_lines(&["get", "configmaps", "-w"]);
    let header = rx.recv_timeout(Duration::from_secs(20)).unwrap();
    assert!(header.starts_with("NAME") && header.contains("DATA"), "{header}");
    s.ok(&["create", "configmap", "later", "--from-literal=x=y"]);
    let mut seen = false;
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(20)) {
        if line.starts_with("later ") {
            seen = true;
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen, "kubectl get -w never printed the new configmap");
}

#[test]
fn replace_delete_wait() {
    let s = Server::start();
    let f = s.file("pod.yaml", POD);
    s.ok(&["create", "-f", &f]);
    // replace the object as stored (the ServiceAccount admission plugin added its token
    // volume, which a replace must carry, as upstream)
    let stored = s.ok(&["get", "pod", "web", "-o", "yaml"]);
    let replaced = stored.replace("nginx:1.27", "nginx:1.28");
    let f2 = s.file("pod2.yaml", &replaced);
    assert_eq!(s.ok(&["replace", "-f", &f2]).trim(), "pod/web replaced");
    assert_eq!(s.ok(&["get", "pod", "web", "-o", "jsonpath={.spec.containers[0].image}"]), "nginx:1.28");

    assert_eq!(s.ok(&["delete", "pod", "web", "--wait"]).trim(), "pod \"web\" deleted");
    let err = s.fails(&["get", "pod", "web"]);
    assert_eq!(err.trim(), "Error from server (NotFound): pods \"web\" not found");

    s.ok(&["create", "configmap", "going", "--from-literal=a=b"]);
    let waiter = std::process::Command::new(support::KUBECTL)
        .env("HOME", s.path().join("home"))
        .arg("--kubeconfig")
        .arg(&s.kubeconfig)
        .args(["wait", "--for=delete", "configmap/going", "--timeout=30s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    s.ok(&["delete", "configmap", "going"]);
    let out = waiter.wait_with_output().unwrap();
    assert!(out.status.success(), "wait --for=delete failed: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("configmap/going condition met"));
}

#[test]
fn describe_pod_and_node() {
    let s = Server::start();
    let node = s.file(
        "node.yaml",
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: worker-1\n  labels:\n    kubernetes.io/hostname: worker-1\nstatus:\n  capacity:\n    cpu: \"4\"\n    memory: 8Gi\n    pods: \"110\"\n  allocatable:\n    cpu: \"4\"\n    memory: 8Gi\n    pods: \"110\"\n  conditions:\n  - type: Ready\n    status: \"True\"\n    reason: KubeletReady\n    message: kubelet is posting ready status\n    lastHeartbeatTime: \"2026-01-01T00:00:00Z\"\n    lastTransitionTime: \"2026-01-01T00:00:00Z\"\n  addresses:\n  - type: InternalIP\n    address: 127.0.0.10\n  nodeInfo:\n    architecture: amd64\n    bootID: x\n    containerRuntimeVersion: containerd://1.6.20\n    kernelVersion: 6.1.0\n    kubeProxyVersion: v1.32.0\n    kubeletVersion: v1.32.0\n    machineID: m\n    operatingSystem: linux\n    osImage: Debian GNU/Linux 12\n    systemUUID: u\n",
    );
    s.ok(&["create", "-f", &node]);
    let nodes = s.ok(&["get", "nodes"]);
    assert!(nodes.lines().nth(1).unwrap().starts_with("worker-1"), "{nodes}");
    let pod = POD.replace("spec:\n", "spec:\n  nodeName: worker-1\n");
    let f = s.file("pod.yaml", &pod);
    s.ok(&["create", "-f", &f]);
    let d = s.ok(&["describe", "pod", "web"]);
    assert!(d.contains("Name:") && d.contains("web"), "{d}");
    assert!(d.contains("Namespace:") && d.contains("default"), "{d}");
    assert!(d.contains("Node:") && d.contains("worker-1"), "{d}");
    assert!(d.contains("nginx:1.27"), "{d}");
    let d = s.ok(&["describe", "node", "worker-1"]);
    assert!(d.contains("Name:               worker-1"), "{d}");
    assert!(d.contains("KubeletReady"), "{d}");
    assert!(d.contains("Capacity:") && d.lines().any(|l| l.trim_start().starts_with("memory:") && l.trim_end().ends_with("8Gi")), "{d}");
    assert!(d.contains("Non-terminated Pods:") && d.contains("web"), "{d}");
    assert!(d.contains("Container Runtime Version:  containerd://1.6.20"), "{d}");
}

#[test]
fn create_helpers_secrets_configmaps() {
    let s = Server::start();
    assert_eq!(s.ok(&["create", "secret", "generic", "db", "--from-literal=password=s3cret"]).trim(), "secret/db created");
    let pw = s.ok(&["get", "secret", "db", "-o", "jsonpath={.data.password}"]);
    assert_eq!(pw, "czNjcmV0");
    s.ok(&["create", "secret", "docker-registry", "regcred", "--docker-server=registry.local", "--docker-username=u", "--docker-password=p"]);
    assert_eq!(s.ok(&["get", "secret", "regcred", "-o", "jsonpath={.type}"]), "kubernetes.io/dockerconfigjson");
    // a TLS pair made by our own CA
    let ca = std::fs::read_to_string(s.data_dir().join("tls/ca.crt")).unwrap();
    let key_path = s.data_dir().join("tls/apiserver.key");
    let crt_path = s.data_dir().join("tls/apiserver.crt");
    assert!(ca.contains("BEGIN CERTIFICATE"));
    s.ok(&["create", "secret", "tls", "web-tls", "--cert", crt_path.to_str().unwrap(), "--key", key_path.to_str().unwrap()]);
    assert_eq!(s.ok(&["get", "secret", "web-tls", "-o", "jsonpath={.type}"]), "kubernetes.io/tls");
    let secrets = s.ok(&["get", "secrets"]);
    assert!(secrets.lines().next().unwrap().contains("TYPE") && secrets.contains("kubernetes.io/tls"), "{secrets}");

    assert_eq!(s.ok(&["create", "configmap", "app", "--from-literal=a=1", "--from-literal=b=2"]).trim(), "configmap/app created");
    let cms = s.ok(&["get", "configmap", "app"]);
    let row: Vec<&str> = cms.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(&row[..2], &["app", "2"], "{cms}");
}

#[test]
fn namespaces_create_and_delete() {
    let s = Server::start();
    assert_eq!(s.ok(&["create", "namespace", "team-a"]).trim(), "namespace/team-a created");
    s.ok(&["create", "configmap", "c1", "-n", "team-a", "--from-literal=a=b"]);
    s.ok(&["create", "secret", "generic", "s1", "-n", "team-a", "--from-literal=a=b"]);
    let ns = s.ok(&["get", "namespaces"]);
    for n in ["default", "kube-system", "kube-public", "kube-node-lease", "team-a"] {
        assert!(ns.lines().any(|l| l.starts_with(&format!("{n} ")) && l.contains("Active")), "{ns}");
    }
    // kubectl waits for the namespace to be gone: the namespace controller empties it first
    assert_eq!(s.ok(&["delete", "namespace", "team-a", "--timeout=60s"]).trim(), "namespace \"team-a\" deleted");
    let err = s.fails(&["get", "namespace", "team-a"]);
    assert!(err.contains("namespaces \"team-a\" not found"), "{err}");
    // and its content went with it
    eventually(Duration::from_secs(10), "content gone", || {
        s.ok(&["get", "configmaps,secrets", "-n", "team-a", "-o", "name"]).trim().is_empty()
    });
    let err = s.fails(&["create", "configmap", "late", "-n", "nope", "--from-literal=a=b"]);
    assert!(err.contains("namespaces \"nope\" not found"), "{err}");
}

#[test]
fn errors_are_upstreams() {
    let s = Server::start();
    let err = s.fails(&["get", "pod", "missing"]);
    assert_eq!(err.trim(), "Error from server (NotFound): pods \"missing\" not found");
    let err = s.fails(&["get", "deployment", "missing"]);
    assert_eq!(err.trim(), "Error from server (NotFound): deployments.apps \"missing\" not found");
    let f = s.file("pod.yaml", POD);
    s.ok(&["create", "-f", &f]);
    let err = s.fails(&["create", "-f", &f]);
    // admission runs before storage: PodSecurity's warning comes first, as upstream
    let err: Vec<&str> = err.lines().filter(|l| !l.starts_with("Warning: would violate PodSecurity")).collect();
    assert_eq!(err.join("\n").trim(), format!("Error from server (AlreadyExists): error when creating \"{f}\": pods \"web\" already exists"));
    // validation errors are 422 with upstream's text
    let bad = s.file("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n");
    let err = s.fails(&["create", "-f", &bad]);
    assert!(err.contains("is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"), "{err}");
    // unknown fields are rejected under kubectl's default (strict) validation
    let unknown = s.file("unknown.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: u\nbogus: 1\n");
    let err = s.fails(&["create", "-f", &unknown]);
    assert!(err.contains("strict decoding error: unknown field \"bogus\""), "{err}");
    // malformed bodies are 400, never 500
    let raw = s.fails(&["create", "--raw", "/api/v1/namespaces/default/configmaps", "-f", &s.file("junk.json", "{not json")]);
    assert!(raw.contains("BadRequest") || raw.contains("400") || raw.contains("error decoding"), "{raw}");
}
