//! The control plane → node path with real parts: a ferrokube server, the kubelet's HTTPS
//! server (`kubelet::server`) in this process with a serving certificate from the cluster CA, a
//! real containerd running a busybox pod through CRI, and kubectl 1.32 for `logs`, `exec`,
//! `cp`, `attach` and `port-forward` through the apiserver. The kubelet that makes pods run is
//! not used: the test creates the sandbox and containers through CRI with the kubelet's labels.

mod support;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cri::api;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Patch, PatchParams, PostParams};
use support::Server;

const NODE: &str = "stream-node";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn client_for(s: &Server, ca: &pki::Ca, user: &str, groups: &[String]) -> kube::Client {
    let pair = ca.issue_client(user, groups, 1).unwrap();
    let yaml = pki::kubeconfig(&s.url, "ferrokube", user, &ca.pair.cert_pem, &pair);
    let kc = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await.unwrap();
    kube::Client::try_from(cfg).unwrap()
}

/// Registers a Node whose kubelet listens on 127.0.0.1:`port`.
async fn register_node(admin: &kube::Client, name: &str, port: u16) {
    let nodes = kube::Api::<Node>::all(admin.clone());
    nodes.create(&PostParams::default(), &serde_json::from_value(serde_json::json!({"metadata": {"name": name}})).unwrap()).await.unwrap();
    let status = serde_json::json!({"status": {
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
    }});
    nodes.patch_status(name, &PatchParams::default(), &Patch::Merge(&status)).await.unwrap();
}

fn labels(pod: &str, uid: &str) -> HashMap<String, String> {
    HashMap::from([
        ("io.kubernetes.pod.name".to_string(), pod.to_string()),
        ("io.kubernetes.pod.namespace".to_string(), "default".to_string()),
        ("io.kubernetes.pod.uid".to_string(), uid.to_string()),
    ])
}

struct PodRun {
    sandbox_config: api::PodSandboxConfig,
    sandbox: String,
    uid: String,
}

async fn run_sandbox(rt: &mut cri::Runtime, agent: &std::path::Path, pod: &str, uid: &str, cgroup_parent: &str) -> PodRun {
    let dir = agent.join("pod-logs").join(format!("default_{pod}_{uid}"));
    std::fs::create_dir_all(&dir).unwrap();
    let config = api::PodSandboxConfig {
        metadata: Some(api::PodSandboxMetadata { name: pod.into(), uid: uid.into(), namespace: "default".into(), attempt: 0 }),
        log_directory: dir.to_string_lossy().into_owned(),
        labels: labels(pod, uid),
        linux: Some(api::LinuxPodSandboxConfig {
            cgroup_parent: cgroup_parent.into(),
            security_context: Some(api::LinuxSandboxSecurityContext {
                namespace_options: Some(api::NamespaceOption {
                    network: api::NamespaceMode::Node as i32,
                    pid: api::NamespaceMode::Container as i32,
                    ipc: api::NamespaceMode::Pod as i32,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let sandbox = rt
        .runtime
        .run_pod_sandbox(api::RunPodSandboxRequest { config: Some(config.clone()), runtime_handler: String::new() })
        .await
        .unwrap()
        .into_inner()
        .pod_sandbox_id;
    PodRun { sandbox_config: config, sandbox, uid: uid.into() }
}

async fn run_container(rt: &mut cri::Runtime, run: &PodRun, name: &str, attempt: u32, script: &str) -> String {
    let pod = run.sandbox_config.metadata.as_ref().unwrap().name.clone();
    let mut l = labels(&pod, &run.uid);
    l.insert("io.kubernetes.container.name".into(), name.into());
    std::fs::create_dir_all(std::path::Path::new(&run.sandbox_config.log_directory).join(name)).unwrap();
    let id = rt
        .runtime
        .create_container(api::CreateContainerRequest {
            pod_sandbox_id: run.sandbox.clone(),
            config: Some(api::ContainerConfig {
                metadata: Some(api::ContainerMetadata { name: name.into(), attempt }),
                image: Some(api::ImageSpec { image: cri::images::BUSYBOX_IMAGE.into(), ..Default::default() }),
                command: vec!["sh".into(), "-c".into(), script.into()],
                log_path: format!("{name}/{attempt}.log"),
                labels: l,
                annotations: HashMap::from([("io.kubernetes.container.restartCount".to_string(), attempt.to_string())]),
                stdin: true,
                ..Default::default()
            }),
            sandbox_config: Some(run.sandbox_config.clone()),
        })
        .await
        .unwrap()
        .into_inner()
        .container_id;
    rt.runtime.start_container(api::StartContainerRequest { container_id: id.clone() }).await.unwrap();
    id
}

async fn wait_exited(rt: &mut cri::Runtime, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = rt.runtime.container_status(api::ContainerStatusRequest { container_id: id.into(), verbose: false }).await.unwrap().into_inner().status.unwrap();
        if s.state == api::ContainerState::ContainerExited as i32 {
            return;
        }
        assert!(Instant::now() < deadline, "container {id} did not exit");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn remove_cgroup(path: &str) {
    for hierarchy in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let dir = hierarchy.path().join(path.trim_start_matches('/'));
        if dir.exists() {
            let _ = std::fs::remove_dir(&dir);
        }
    }
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// curl against the kubelet with a client certificate (or none); returns (status, body).
fn curl(port: u16, path: &str, ca: &std::path::Path, cert: Option<(&std::path::Path, &std::path::Path)>, token: Option<&str>) -> (u16, String) {
    let mut cmd = std::process::Command::new("curl");
    cmd.args(["-s", "--max-time", "20", "-w", "\n%{http_code}", "--cacert"]).arg(ca);
    if let Some((c, k)) = cert {
        cmd.arg("--cert").arg(c).arg("--key").arg(k);
    }
    if let Some(t) = token {
        cmd.arg("-H").arg(format!("Authorization: Bearer {t}"));
    }
    let out = cmd.arg(format!("https://127.0.0.1:{port}{path}")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logs_exec_cp_attach_and_port_forward_reach_containerd_through_the_kubelet() {
    let s = Server::start();
    let admin = s.client().await;
    let tls = s.data_dir().join("tls");
    let ca = pki::Ca::from_pem(pki::read_pair(&tls, "ca").unwrap().unwrap()).unwrap();

    // containerd with the test images
    let tmp = tempfile::Builder::new().prefix("fk-stream").tempdir_in("/tmp").unwrap();
    let agent = tmp.path().join("agent");
    let ctrd = cri::containerd::Containerd::start(cri::containerd::Options::new(&agent)).await.unwrap();
    let images_dir = agent.join("images");
    cri::images::build_test_images(&images_dir).unwrap();
    let summary = cri::images::import_dir(&ctrd.endpoint(), &images_dir).await.unwrap();
    assert!(summary.failed.is_empty(), "{:?}", summary.failed);
    let mut rt = ctrd.connect().await.unwrap();

    // the kubelet's server, as system:node:<name>, with a serving certificate for 127.0.0.1
    let node_client = client_for(&s, &ca, &format!("system:node:{NODE}"), &["system:nodes".into()]).await;
    let serving = ca.issue_server(NODE, &[NODE.into()], &["127.0.0.1".parse::<IpAddr>().unwrap()]).unwrap();
    let certs = Arc::new(kubelet::server::CertSlot::new());
    certs.set(&serving.cert_pem, &serving.key_pem).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let kubelet_port = listener.local_addr().unwrap().port();
    let ctx = kubelet::server::ServerContext { client: node_client, runtime: rt.clone(), node_name: NODE.into(), client_ca_pem: ca.pair.cert_pem.clone(), agent_dir: agent.clone() };
    let server = tokio::spawn(kubelet::server::serve(listener, certs, ctx.clone()));
    register_node(&admin, NODE, kubelet_port).await;

    // a kubelet whose certificate the cluster CA did not sign
    let other_ca = pki::Ca::generate("someone-else").unwrap();
    let bad_serving = other_ca.issue_server("bad", &[], &["127.0.0.1".parse::<IpAddr>().unwrap()]).unwrap();
    let bad_certs = Arc::new(kubelet::server::CertSlot::new());
    bad_certs.set(&bad_serving.cert_pem, &bad_serving.key_pem).unwrap();
    let bad_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bad_port = bad_listener.local_addr().unwrap().port();
    let bad_server = tokio::spawn(kubelet::server::serve(bad_listener, bad_certs, kubelet::server::ServerContext { node_name: "bad-node".into(), ..ctx }));
    register_node(&admin, "bad-node", bad_port).await;

    let web_port = free_port();
    let pods = kube::Api::<Pod>::namespaced(admin.clone(), "default");
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "web"},
        "spec": {"nodeName": NODE, "containers": [
            {"name": "main", "image": "busybox:1.35"},
            {"name": "http", "image": "busybox:1.35"},
        ]}
    }))
    .unwrap();
    let uid = pods.create(&PostParams::default(), &pod).await.unwrap().metadata.uid.unwrap();
    // what the kubelet would report (kubectl port-forward checks it)
    pods.patch_status("web", &PatchParams::default(), &Patch::Merge(&serde_json::json!({"status": {"phase": "Running"}}))).await.unwrap();
    let bad_pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "elsewhere"},
        "spec": {"nodeName": "bad-node", "containers": [{"name": "main", "image": "busybox:1.35"}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &bad_pod).await.unwrap();

    let cgroup_parent = format!("/ferrokube-stream-test-{}", std::process::id());
    let run = run_sandbox(&mut rt, &agent, "web", &uid, &cgroup_parent).await;
    let first = run_container(&mut rt, &run, "main", 0, "echo first-run; exit 1").await;
    wait_exited(&mut rt, &first).await;
    run_container(&mut rt, &run, "main", 1, "echo one; echo two >&2; i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done").await;
    run_container(&mut rt, &run, "http", 0, &format!("mkdir -p /tmp/www && echo hello-from-pod > /tmp/www/index.html && exec httpd -f -p 127.0.0.1:{web_port} -h /tmp/www")).await;

    let (sandbox, tmp_path) = (run.sandbox.clone(), tmp.path().to_path_buf());
    let checks = tokio::task::spawn_blocking(move || {
        checks(&s, kubelet_port, web_port, &tls, &ca, &tmp_path);
        s
    })
    .await;

    // clean up whatever happened
    server.abort();
    bad_server.abort();
    let _ = rt.runtime.stop_pod_sandbox(api::StopPodSandboxRequest { pod_sandbox_id: sandbox.clone() }).await;
    let _ = rt.runtime.remove_pod_sandbox(api::RemovePodSandboxRequest { pod_sandbox_id: sandbox }).await;
    drop(rt);
    remove_cgroup(&cgroup_parent);
    ctrd.stop().await.unwrap();
    if let Err(e) = checks {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn checks(s: &Server, kubelet_port: u16, web_port: u16, tls: &std::path::Path, ca: &pki::Ca, tmp: &std::path::Path) {
    // logs: both streams, the only-container rule, tail, previous, and upstream's errors
    support::eventually(Duration::from_secs(20), "logs of main", || stdout(&s.kubectl(&["logs", "web", "-c", "main"])).contains("tick 1"));
    let all = s.ok(&["logs", "web", "-c", "main"]);
    // stdout and stderr are separate pipes: their relative order is not fixed
    assert!(all.lines().any(|l| l == "one") && all.lines().any(|l| l == "two") && all.contains("tick 0\n"), "{all}");
    assert_eq!(s.ok(&["logs", "web", "-c", "main", "--tail=1"]).lines().count(), 1);
    assert_eq!(s.ok(&["logs", "web", "-c", "main", "--previous"]), "first-run\n");
    let ts = s.ok(&["logs", "web", "-c", "main", "--timestamps", "--limit-bytes=40"]);
    assert!(ts.len() == 40 && (ts.contains("Z one") || ts.contains("Z two")), "{ts:?}");
    let e = s.fails(&["logs", "web", "-c", "http", "--previous"]);
    assert!(e.contains("previous terminated container \"http\" in pod \"web\" not found"), "{e}");
    // kubectl picks a default container itself: the server's rule shows on a raw request
    let e = s.fails(&["get", "--raw", "/api/v1/namespaces/default/pods/web/log"]);
    assert!(e.contains("a container name must be specified for pod web, choose one of: [main http]"), "{e}");
    let e = s.fails(&["logs", "web", "-c", "nope"]);
    assert!(e.contains("container nope is not valid for pod web"), "{e}");
    let e = s.fails(&["get", "--raw", "/api/v1/namespaces/default/pods/web/log?container=main&tailLines=-2"]);
    assert!(e.contains("PodLogOptions \"web\" is invalid: tailLines: Invalid value: -2: must be greater than or equal to 0"), "{e}");
    // follow streams new lines as they are written
    let (mut child, rx) = s.kubectl_lines(&["logs", "-f", "web", "-c", "main", "--tail=1"]);
    let first = rx.recv_timeout(Duration::from_secs(20)).expect("a first line");
    let next = rx.recv_timeout(Duration::from_secs(20)).expect("a followed line");
    let n = |l: &str| l.trim_start_matches("tick ").parse::<u64>().unwrap_or_else(|_| panic!("{l:?}"));
    assert!(n(&next) > n(&first), "{first} then {next}");
    let _ = child.kill();
    let _ = child.wait();

    // exec: output, exit codes, stdin, tty-less stderr. kubectl 1.32 offers WebSocket
    // v5.channel.k8s.io first, which the apiserver translates to SPDY for the kubelet: at -v=4
    // kubectl names the protocol it got and would log any fallback to SPDY
    let over_v5 = |out: &std::process::Output| {
        let err = stderr(out);
        assert!(err.contains("The subprotocol is v5.channel.k8s.io"), "not over WebSocket v5: {err}");
        assert!(!err.to_lowercase().contains("fallback"), "fell back to SPDY: {err}");
    };
    let out = s.kubectl(&["-v=4", "exec", "web", "-c", "main", "--", "sh", "-c", "echo out; echo err >&2"]);
    over_v5(&out);
    assert_eq!((out.status.code(), stdout(&out).as_str()), (Some(0), "out\n"));
    assert!(stderr(&out).contains("\nerr\n") || stderr(&out).starts_with("err\n"), "{}", stderr(&out));
    let out = s.kubectl(&["-v=4", "exec", "web", "-c", "main", "--", "sh", "-c", "exit 3"]);
    over_v5(&out);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    // `cat` ends only when stdin is closed: v5's CLOSE signal becomes the SPDY stream's FIN
    let out = s.kubectl_stdin(&["-v=4", "exec", "-i", "web", "-c", "main", "--", "sh", "-c", "cat; echo done"], Some("from stdin\n"));
    over_v5(&out);
    assert_eq!(stdout(&out), "from stdin\ndone\n");
    let e = s.fails(&["exec", "web", "-c", "nope", "--", "true"]);
    assert!(e.contains("container nope is not valid for pod web"), "{e}");
    // a terminal: its size reaches the container through the resize channel (it lands just
    // after the process starts, so the container waits for a size to appear)
    let script = format!(
        "stty rows 41 cols 101; {} --kubeconfig {} --cache-dir {} exec -it web -c main -- sh -c 'for i in $(seq 50); do s=$(stty size 2>/dev/null); [ -n \"$s\" ] && [ \"$s\" != \"0 0\" ] && break; sleep 0.1; done; echo size=$s'",
        support::KUBECTL,
        s.kubeconfig.display(),
        s.path().join("home/cache").display()
    );
    let out = std::process::Command::new("script").args(["-qec", &script, "/dev/null"]).env("HOME", s.path().join("home")).env("TERM", "xterm").stdin(std::process::Stdio::null()).output().unwrap();
    assert!(stdout(&out).contains("size=41 101"), "tty size: {} {}", stdout(&out), stderr(&out));

    // a WebSocket exec is a GET, authorized as `get`: it must also be allowed to `create`
    s.ok(&["create", "role", "exec-reader", "--verb=get", "--resource=pods/exec"]);
    s.ok(&["create", "rolebinding", "exec-reader", "--role=exec-reader", "--user=exec-reader"]);
    let reader_cert = ca.issue_client("exec-reader", &[], 1).unwrap();
    let (rc, rk) = (tmp.join("exec-reader.crt"), tmp.join("exec-reader.key"));
    std::fs::write(&rc, &reader_cert.cert_pem).unwrap();
    std::fs::write(&rk, &reader_cert.key_pem).unwrap();
    let out = std::process::Command::new("curl")
        .args(["-s", "--http1.1", "--max-time", "10", "-w", "\n%{http_code}", "--cacert"])
        .arg(tls.join("ca.crt"))
        .arg("--cert")
        .arg(&rc)
        .arg("--key")
        .arg(&rk)
        .args(["-H", "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13"])
        .args(["-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "-H", "Sec-WebSocket-Protocol: v5.channel.k8s.io"])
        .arg(format!("{}/api/v1/namespaces/default/pods/web/exec?container=main&command=true&stdout=true", s.url))
        .output()
        .unwrap();
    let text = stdout(&out);
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", ""));
    assert_eq!(code, "403", "{text}");
    assert!(body.contains(r#"User \"exec-reader\" cannot create resource \"pods/exec\" in API group \"\" in the namespace \"default\""#), "{body}");

    // cp (tar through exec) both ways; the upload ends with stdin's CLOSE
    let local = tmp.join("copied");
    let out = s.kubectl(&["-v=4", "cp", "-c", "main", "web:/etc/passwd", local.to_str().unwrap()]);
    over_v5(&out);
    assert!(std::fs::read_to_string(&local).unwrap().contains("root:"));
    std::fs::write(&local, "uploaded\n").unwrap();
    let out = s.kubectl(&["-v=4", "cp", "-c", "main", local.to_str().unwrap(), "web:/tmp/up"]);
    over_v5(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(s.ok(&["exec", "web", "-c", "main", "--", "cat", "/tmp/up"]), "uploaded\n");

    // attach sees the container's output as it comes
    let (mut child, rx) = s.kubectl_lines(&["attach", "web", "-c", "main"]);
    let line = rx.recv_timeout(Duration::from_secs(20)).expect("attach output");
    assert!(line.starts_with("tick ") || line.contains("If you don't see a command prompt"), "{line}");
    let _ = child.kill();
    let _ = child.wait();

    // port-forward to the pod's HTTP server
    let local_port = free_port();
    let (mut child, rx) = s.kubectl_lines(&["-v=4", "port-forward", "pod/web", &format!("{local_port}:{web_port}")]);
    let ready = rx.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|_| {
        let mut err = String::new();
        let _ = child.stderr.take().unwrap().read_to_string(&mut err);
        panic!("port-forward did not start: {err}")
    });
    assert!(ready.contains("Forwarding from"), "{ready}");
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", local_port)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    conn.write_all(b"GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut resp = String::new();
    let _ = conn.read_to_string(&mut resp);
    assert!(resp.contains("hello-from-pod"), "{resp}");
    let _ = child.kill();
    let _ = child.wait();
    // the SPDY session went through the WebSocket tunnel, not a fallback
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    assert!(err.contains("negotiated protocol: portforward.k8s.io"), "not tunneled: {err}");
    assert!(!err.to_lowercase().contains("fallback"), "fell back to SPDY: {err}");

    // nodes/proxy reaches the kubelet API
    let pods_json = s.ok(&["get", "--raw", &format!("/api/v1/nodes/{NODE}/proxy/pods")]);
    assert!(pods_json.contains("\"name\":\"web\""), "{pods_json}");
    let summary = s.ok(&["get", "--raw", &format!("/api/v1/nodes/{NODE}/proxy/stats/summary")]);
    assert!(summary.contains(&format!("\"nodeName\":\"{NODE}\"")) && summary.contains("\"podRef\""), "{summary}");
    let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    let node = &summary["node"];
    assert!(node["fs"]["capacityBytes"].as_u64().is_some_and(|c| c > 0) && node["fs"]["availableBytes"].as_u64().is_some(), "{node}");
    assert!(node["runtime"]["imageFs"]["capacityBytes"].as_u64().is_some_and(|c| c > 0), "{node}");
    assert!(node["rlimit"]["curproc"].as_u64().is_some_and(|n| n > 0) && node["rlimit"]["maxpid"].as_u64().is_some(), "{node}");
    assert!(node["network"]["time"].is_string(), "{node}");
    let web = summary["pods"].as_array().unwrap().iter().find(|p| p["podRef"]["name"] == "web").expect("the web pod").clone();
    assert_eq!(web["network"]["name"], "eth0", "{web}");
    assert!(web["network"]["rxBytes"].as_u64().is_some() && web["network"]["txBytes"].as_u64().is_some(), "{web}");
    let main = web["containers"].as_array().unwrap().iter().find(|c| c["name"] == "main").expect("main's stats").clone();
    assert!(main["logs"]["usedBytes"].as_u64().is_some_and(|b| b > 0), "main writes a line a second: {main}");
    assert!(main["rootfs"]["usedBytes"].as_u64().is_some(), "{main}");
    assert!(web["ephemeral-storage"]["usedBytes"].as_u64().is_some_and(|b| b >= main["logs"]["usedBytes"].as_u64().unwrap()), "{web}");

    // a kubelet whose certificate does not verify is refused, with a reason
    let e = s.fails(&["logs", "elsewhere"]);
    assert!(e.contains("failed to verify"), "{e}");

    // the kubelet itself: no anonymous access, SubjectAccessReview with upstream's 403 text
    let ca_file = tls.join("ca.crt");
    assert_eq!(curl(kubelet_port, "/healthz", &ca_file, None, None), (401, "Unauthorized".into()));
    let write_pair = |name: &str, pair: &pki::CertKey| {
        let (c, k) = (tmp.join(format!("{name}.crt")), tmp.join(format!("{name}.key")));
        std::fs::write(&c, &pair.cert_pem).unwrap();
        std::fs::write(&k, &pair.key_pem).unwrap();
        (c, k)
    };
    let (c, k) = write_pair("nobody", &ca.issue_client("nobody", &[], 1).unwrap());
    assert_eq!(
        curl(kubelet_port, "/containerLogs/default/web/main", &ca_file, Some((&c, &k)), None),
        (403, "Forbidden (user=nobody, verb=get, resource=nodes, subresource=proxy)".into())
    );
    assert_eq!(
        curl(kubelet_port, "/stats/summary", &ca_file, Some((&c, &k)), None),
        (403, "Forbidden (user=nobody, verb=get, resource=nodes, subresource=stats)".into())
    );
    let (c, k) = write_pair("admin", &ca.issue_client("an-admin", &["system:masters".into()], 1).unwrap());
    assert_eq!(curl(kubelet_port, "/healthz", &ca_file, Some((&c, &k)), None), (200, "ok".into()));
    let (code, body) = curl(kubelet_port, "/containerLogs/default/web/main?tailLines=-1", &ca_file, Some((&c, &k)), None);
    assert_eq!(code, 422, "{body}");
    let (code, body) = curl(kubelet_port, "/containerLogs/default/gone/main", &ca_file, Some((&c, &k)), None);
    assert_eq!((code, body.as_str()), (404, "pod \"gone\" does not exist"));
    // a bearer token goes through a TokenReview: a service account without rights is refused
    let token = s.ok(&["create", "token", "default"]);
    assert_eq!(
        curl(kubelet_port, "/healthz", &ca_file, None, Some(token.trim())),
        (403, "Forbidden (user=system:serviceaccount:default:default, verb=get, resource=nodes, subresource=proxy)".into())
    );
    assert_eq!(curl(kubelet_port, "/healthz", &ca_file, None, Some("not-a-token")).0, 401);
}
