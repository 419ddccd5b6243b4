//! The node end to end with kubectl 1.32: a server running its own node agent (real containerd,
//! runc and CNI) runs busybox pods; logs, exec, cp, port-forward and attach go through the
//! apiserver to the kubelet; `describe node` shows what the kubelet measured; deletion honours
//! the grace period and preStop hooks and leaves nothing on the node.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{KUBECTL, Server, eventually};

fn pod_ip(s: &Server, name: &str) -> String {
    s.ok(&["get", "pod", name, "-o", "jsonpath={.status.podIP}"])
}

fn wait_running(s: &Server, name: &str) {
    eventually(Duration::from_secs(60), &format!("pod {name} Running"), || {
        s.kubectl(&["get", "pod", name, "-o", "jsonpath={.status.phase}"]).stdout == b"Running"
    });
}

fn kubectl_cmd(s: &Server) -> Command {
    let mut c = Command::new(KUBECTL);
    c.env("HOME", s.path().join("home")).arg("--kubeconfig").arg(&s.kubeconfig);
    c
}

#[test]
fn busybox_pod_with_logs_exec_cp_port_forward_and_attach() {
    let s = Server::start_node("node-1", &[]);
    let cidr = s.ok(&["get", "node", "node-1", "-o", "jsonpath={.spec.podCIDR}"]);
    s.ok(&["run", "bb", "--image=busybox:1.35", "--restart=Never", "--", "sh", "-c", "echo hello from busybox; echo oops >&2; exec sleep 3600"]);
    wait_running(&s, "bb");
    let ip = pod_ip(&s, "bb");
    let prefix = cidr.rsplit_once('.').map(|(p, _)| p.to_string()).unwrap();
    assert!(ip.starts_with(&format!("{prefix}.")), "pod IP {ip} outside the node's podCIDR {cidr}");
    let status = s.ok(&["get", "pod", "bb", "-o", "jsonpath={.status.hostIP} {.status.qosClass} {.status.containerStatuses[0].containerID} {.status.containerStatuses[0].imageID} {.status.conditions[?(@.type==\"Ready\")].status}"]);
    let f: Vec<&str> = status.split_whitespace().collect();
    assert_eq!(f[0], "127.0.0.1");
    assert_eq!(f[1], "BestEffort");
    assert!(f[2].starts_with("containerd://") && f[3].starts_with("sha256:"), "{status}");
    assert_eq!(f[4], "True");

    // logs, stdout and stderr
    eventually(Duration::from_secs(10), "logs", || s.ok(&["logs", "bb"]).contains("hello from busybox"));
    let logs = s.ok(&["logs", "bb"]);
    assert!(logs.contains("oops"), "{logs}");
    let ts = s.ok(&["logs", "bb", "--timestamps", "--tail=1"]);
    assert!(ts.split_whitespace().next().is_some_and(|t| t.contains('T') && t.ends_with('Z')), "{ts}");

    // exec: output, exit codes, stdin
    assert_eq!(s.ok(&["exec", "bb", "--", "sh", "-c", "echo $((6*7))"]).trim(), "42");
    let out = s.kubectl(&["exec", "bb", "--", "sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let out = s.kubectl_stdin(&["exec", "-i", "bb", "--", "sh", "-c", "tr a-z A-Z"], Some("shout\n"));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "SHOUT");

    // a terminal: kubectl exec -t allocates a tty in the container and passes the terminal's
    // size on (a resize event); `script` gives kubectl a pseudo-terminal of 31x97
    let inner = format!(
        "stty cols 97 rows 31; {KUBECTL} --kubeconfig {} exec -it bb -- sh -c 'tty; sleep 1; stty size'",
        s.kubeconfig.display()
    );
    let out = Command::new("script").args(["-qec", &inner, "/dev/null"]).env("HOME", s.path().join("home")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace(['\r', '\0'], "");
    assert!(text.contains("/dev/pts/") && text.contains("31 97"), "exec -it printed {text:?}");

    // the official Python client execs over WebSocket (v4.channel.k8s.io), passed through to the
    // runtime's stream server
    let script = format!(
        "from kubernetes import client, config\nfrom kubernetes.stream import stream\nconfig.load_kube_config(config_file={:?})\nv1 = client.CoreV1Api()\nprint(stream(v1.connect_get_namespaced_pod_exec, 'bb', 'default', command=['sh', '-c', 'echo via-websocket; echo e >&2'], stderr=True, stdin=False, stdout=True, tty=False), end='')\n",
        s.kubeconfig.display().to_string()
    );
    let py = Command::new("python3").arg("-c").arg(&script).output().unwrap();
    let mut lines: Vec<String> = String::from_utf8_lossy(&py.stdout).lines().map(String::from).collect();
    lines.sort();
    assert_eq!(lines, vec!["e".to_string(), "via-websocket".to_string()], "{}", String::from_utf8_lossy(&py.stderr));

    // cp both ways
    let local = s.path().join("to-pod.txt");
    std::fs::write(&local, "copied in\n").unwrap();
    s.ok(&["cp", local.to_str().unwrap(), "bb:/tmp/in.txt"]);
    assert_eq!(s.ok(&["exec", "bb", "--", "cat", "/tmp/in.txt"]), "copied in\n");
    s.ok(&["exec", "bb", "--", "sh", "-c", "echo made inside > /tmp/out.txt"]);
    let back = s.path().join("from-pod.txt");
    s.ok(&["cp", "bb:/tmp/out.txt", back.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "made inside\n");

    // port-forward to busybox httpd
    s.ok(&["exec", "bb", "--", "sh", "-c", "mkdir -p /www && echo served > /www/index.html && httpd -p 8080 -h /www"]);
    let port = support::free_port();
    let mut pf = kubectl_cmd(&s).args(["port-forward", "pod/bb", &format!("{port}:8080")]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut body = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(mut conn) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let _ = conn.write_all(b"GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n");
            let _ = conn.read_to_string(&mut body);
            if body.contains("served") {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = pf.kill();
    let _ = pf.wait();
    assert!(body.contains("200 OK") && body.contains("served"), "through port-forward: {body:?}");

    // attach to a container that keeps printing
    s.ok(&["run", "ticker", "--image=busybox:1.35", "--restart=Never", "--", "sh", "-c", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.5; done"]);
    wait_running(&s, "ticker");
    let mut att = kubectl_cmd(&s).args(["attach", "ticker"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let _ = att.kill();
    let out = att.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("tick"), "attach printed {text:?}");

    // logs -f of a container that ends: everything, then kubectl returns
    s.ok(&["run", "counter", "--image=busybox:1.35", "--restart=Never", "--", "sh", "-c", "for i in 1 2 3; do echo line$i; sleep 1; done"]);
    eventually(Duration::from_secs(30), "counter started", || {
        let p = s.ok(&["get", "pod", "counter", "-o", "jsonpath={.status.phase}"]);
        p == "Running" || p == "Succeeded"
    });
    let started = Instant::now();
    let out = kubectl_cmd(&s).args(["logs", "-f", "counter"]).output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "line1\nline2\nline3\n");
    eventually(Duration::from_secs(20), "counter Succeeded", || s.ok(&["get", "pod", "counter", "-o", "jsonpath={.status.phase}"]) == "Succeeded");
    let term = s.ok(&["get", "pod", "counter", "-o", "jsonpath={.status.containerStatuses[0].state.terminated.reason}/{.status.containerStatuses[0].state.terminated.exitCode}"]);
    assert_eq!(term, "Completed/0");
}

#[test]
fn describe_node_shows_what_the_kubelet_measured() {
    let s = Server::start_node("node-d", &["--node-label", "tier=edge"]);
    let d = s.ok(&["describe", "node", "node-d"]);
    for want in [
        "tier=edge",
        "kubernetes.io/hostname=node-d",
        "MemoryPressure",
        "KubeletHasSufficientMemory",
        "DiskPressure",
        "PIDPressure",
        "KubeletReady",
        "kubelet is posting ready status",
        "InternalIP:  127.0.0.1",
        "Hostname:    node-d",
        "Capacity:",
        "ephemeral-storage:",
        "Allocatable:",
        "Container Runtime Version:  containerd://",
        "Kubelet Version:            v1.32.0",
        "Operating System:           linux",
        "Allocated resources:",
        "HolderIdentity:  node-d",
    ] {
        assert!(d.contains(want), "describe node lacks {want:?}:\n{d}");
    }
    let cpus = std::thread::available_parallelism().unwrap().get().to_string();
    assert_eq!(s.ok(&["get", "node", "node-d", "-o", "jsonpath={.status.capacity.cpu}"]), cpus);
    let mem_kib: u64 = std::fs::read_to_string("/proc/meminfo").unwrap().lines().next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    assert_eq!(s.ok(&["get", "node", "node-d", "-o", "jsonpath={.status.capacity.memory}"]), format!("{mem_kib}Ki"));
    let images = s.ok(&["get", "node", "node-d", "-o", "jsonpath={.status.images[*].names}"]);
    assert!(images.contains("docker.io/library/busybox:1.35") && images.contains("localhost/ferrokube/pause:1"), "{images}");
    // the kubelet's port is served with a certificate the cluster CA signed for the node
    let port = s.ok(&["get", "node", "node-d", "-o", "jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}"]);
    assert!(port.parse::<u16>().is_ok_and(|p| p > 0), "{port}");
    eventually(Duration::from_secs(20), "serving certificate approved", || {
        s.ok(&["get", "csr", "-o", "jsonpath={range .items[*]}{.spec.signerName}={.status.conditions[0].type} {end}"]).contains("kubernetes.io/kubelet-serving=Approved")
    });
    // no anonymous access and no read-only port
    let out = Command::new("curl").args(["-sk", "-o", "/dev/null", "-w", "%{http_code}", &format!("https://127.0.0.1:{port}/pods")]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "401");
}

#[test]
fn hooks_grace_periods_and_nothing_left_after_deletion() {
    let s = Server::start_node("node-g", &[]);
    let out_dir = s.path().join("hostout");
    std::fs::create_dir_all(&out_dir).unwrap();
    s.ok(&["create", "namespace", "hooks"]);
    s.ok(&["label", "namespace", "hooks", "pod-security.kubernetes.io/enforce=privileged"]);
    let manifest = format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{name: hooked, namespace: hooks}}
spec:
  terminationGracePeriodSeconds: 30
  volumes:
  - name: out
    hostPath: {{path: {out}, type: Directory}}
  - name: scratch
    emptyDir: {{}}
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "trap 'echo term > /out/term; exit 0' TERM; while true; do sleep 0.2; done"]
    resources: {{limits: {{memory: 64Mi, cpu: 200m}}}}
    volumeMounts: [{{name: out, mountPath: /out}}, {{name: scratch, mountPath: /scratch}}]
    lifecycle:
      postStart:
        exec: {{command: ["sh", "-c", "echo poststart > /out/poststart"]}}
      preStop:
        exec: {{command: ["sh", "-c", "echo prestop > /out/prestop; sleep 2"]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: stubborn, namespace: hooks}}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "trap '' TERM; while true; do sleep 0.2; done"]
"#,
        out = out_dir.display()
    );
    s.ok_stdin(&["apply", "-f", "-"], &manifest);
    for p in ["hooked", "stubborn"] {
        eventually(Duration::from_secs(60), p, || s.kubectl(&["get", "pod", p, "-n", "hooks", "-o", "jsonpath={.status.phase}"]).stdout == b"Running");
    }
    let uid = s.ok(&["get", "pod", "hooked", "-n", "hooks", "-o", "jsonpath={.metadata.uid}"]);
    let ip = s.ok(&["get", "pod", "hooked", "-n", "hooks", "-o", "jsonpath={.status.podIP}"]);
    assert_eq!(s.ok(&["get", "pod", "hooked", "-n", "hooks", "-o", "jsonpath={.status.qosClass}"]), "Guaranteed");
    let cgroup = format!("/sys/fs/cgroup/memory/kubepods/pod{uid}");
    if std::path::Path::new("/sys/fs/cgroup/memory").exists() {
        assert_eq!(std::fs::read_to_string(format!("{cgroup}/memory.limit_in_bytes")).unwrap().trim(), (64 << 20).to_string());
    }
    assert_eq!(std::fs::read_to_string(out_dir.join("poststart")).unwrap(), "poststart\n");
    let before = s.runtime_containers().len();
    assert_eq!(before, 4, "two sandboxes and two containers: {:?}", s.runtime_containers());

    // preStop runs first, then TERM; the pod goes well before its 30 s grace
    let t = Instant::now();
    s.ok(&["delete", "pod", "hooked", "-n", "hooks"]);
    let took = t.elapsed();
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(20), "deletion took {took:?}");
    assert_eq!(std::fs::read_to_string(out_dir.join("prestop")).unwrap(), "prestop\n");
    assert_eq!(std::fs::read_to_string(out_dir.join("term")).unwrap(), "term\n");
    // a container ignoring TERM is killed when its 3 s grace runs out
    let t = Instant::now();
    s.ok(&["delete", "pod", "stubborn", "-n", "hooks"]);
    let took = t.elapsed();
    assert!(took >= Duration::from_secs(3) && took < Duration::from_secs(15), "deletion took {took:?}");

    // nothing is left: containers, sandboxes, cgroups, IP allocations, volumes, logs, mounts, netns
    eventually(Duration::from_secs(20), "runtime empty", || s.runtime_containers().is_empty());
    let agent = s.data_dir().join("agent");
    assert!(!std::path::Path::new(&cgroup).exists(), "{cgroup} left behind");
    let ipam: Vec<String> = std::fs::read_dir(agent.join("cni/ipam")).into_iter().flatten().flatten().flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(!ipam.contains(&ip), "IP {ip} still allocated: {ipam:?}");
    assert!(!agent.join("pods").join(&uid).exists(), "pod directory left behind");
    let logs: Vec<String> = std::fs::read_dir(agent.join("pod-logs")).into_iter().flatten().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(logs.is_empty(), "pod logs left behind: {logs:?}");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&uid), "a mount of the pod is left: {}", mounts.lines().filter(|l| l.contains(&uid)).collect::<Vec<_>>().join("\n"));
    let netns = Command::new("ip").args(["-all", "netns", "exec", "ip", "-4", "-o", "addr"]).output().unwrap();
    let netns = String::from_utf8_lossy(&netns.stdout);
    assert!(!netns.contains(&format!(" {ip}/")), "a network namespace still holds {ip}");
}

#[test]
fn pods_are_evicted_under_memory_pressure_lowest_priority_best_effort_first() {
    // A threshold above the machine's memory: the node is under memory pressure by definition.
    let total_kib: u64 = std::fs::read_to_string("/proc/meminfo").unwrap().lines().next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let threshold = format!("memory.available<{}Mi,nodefs.available<1%", total_kib / 1024 + 1024);
    let s = Server::start_node("node-p", &["--eviction-hard", &threshold]);
    eventually(Duration::from_secs(30), "MemoryPressure", || {
        s.ok(&["get", "node", "node-p", "-o", "jsonpath={.status.conditions[?(@.type==\"MemoryPressure\")].reason}"]) == "KubeletHasInsufficientMemory"
    });
    // (allocatable memory is nil under this threshold: no pod can request memory here; both are
    // bound at creation, so that one eviction pass sees both)
    let pod = |name: &str, extra: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n{extra}  nodeName: node-p\n  tolerations: [{{key: node.kubernetes.io/memory-pressure, operator: Exists}}]\n  containers:\n  - name: c\n    image: busybox:1.35\n    command: [sleep, '3600']\n"
        )
    };
    s.ok_stdin(&["apply", "-f", "-"], "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: high}\nvalue: 1000\n");
    s.ok_stdin(&["apply", "-f", "-"], &format!("{}---\n{}", pod("requested", "  priorityClassName: high\n"), pod("best-effort", "")));
    let evicted = |name: &str| s.ok(&["get", "pod", name, "-o", "jsonpath={.status.phase}/{.status.reason}"]) == "Failed/Evicted";
    eventually(Duration::from_secs(60), "the BestEffort pod evicted", || evicted("best-effort"));
    let phase = s.ok(&["get", "pod", "requested", "-o", "jsonpath={.status.phase}"]);
    assert_ne!(phase, "Failed", "the higher-priority pod went first: {}", s.ok(&["get", "events", "--field-selector", "reason=Evicted"]));
    let msg = s.ok(&["get", "pod", "best-effort", "-o", "jsonpath={.status.message}"]);
    assert!(msg.starts_with("The node was low on resource: memory. Threshold quantity: "), "{msg}");
    let cond = s.ok(&["get", "pod", "best-effort", "-o", "jsonpath={.status.conditions[?(@.type==\"DisruptionTarget\")].reason}"]);
    assert_eq!(cond, "TerminationByKubelet");
    let ev = s.ok(&["get", "events", "--field-selector", "reason=Evicted,involvedObject.name=best-effort", "-o", "jsonpath={.items[*].message}"]);
    assert!(ev.contains("low on resource: memory"), "{ev}");
    // its containers were stopped at once (no grace), its sandbox is gone
    eventually(Duration::from_secs(20), "containers stopped", || {
        s.ok(&["get", "pod", "best-effort", "-o", "jsonpath={.status.containerStatuses[0].state.terminated.exitCode}"]) == "137"
    });
    // the pressure lasts: the higher-priority pod is next
    eventually(Duration::from_secs(60), "the second pod evicted", || evicted("requested"));
}

#[test]
fn a_node_without_a_runtime_is_not_ready_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("unix://{}/nothing-here.sock", dir.path().display());
    let mut flags = support::node::node_flags("node-x");
    flags.extend(["--container-runtime-endpoint".to_string(), endpoint.clone()]);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let s = Server::start_with(&flags);
    eventually(Duration::from_secs(30), "the node registered", || s.kubectl(&["get", "node", "node-x"]).status.success());
    let ready = s.ok(&["get", "node", "node-x", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}|{.status.conditions[?(@.type==\"Ready\")].reason}|{.status.conditions[?(@.type==\"Ready\")].message}"]);
    let parts: Vec<&str> = ready.splitn(3, '|').collect();
    assert_eq!(parts[0], "False", "{ready}");
    assert_eq!(parts[1], "KubeletNotReady", "{ready}");
    assert!(parts[2].starts_with("container runtime is down: ") && parts[2].contains("nothing-here.sock"), "{ready}");
    // the node controller keeps pods off it
    eventually(Duration::from_secs(30), "not-ready taint", || s.ok(&["get", "node", "node-x", "-o", "jsonpath={.spec.taints[*].key}"]).contains("node.kubernetes.io/not-ready"));
}
