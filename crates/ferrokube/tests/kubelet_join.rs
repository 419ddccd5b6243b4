//! A second machine joins the cluster: `ferrokube server` runs in one network namespace (host
//! A), `ferrokube agent` in another (host B) with a token from `ferrokube token create`, the
//! two joined only by a veth pair with private addresses. The node's certificate comes from a
//! bootstrap-token CSR; pods on it run in a real containerd, and `kubectl logs`/`exec` reach
//! them through the apiserver over the veth, which verifies the kubelet's CSR-issued serving
//! certificate. Everything (pods, processes, namespaces, the agent's bridge) is removed after,
//! also when the test fails.
//!
//! Processes enter the namespaces with `nsenter --net`, not `ip netns exec`: the latter mounts a
//! fresh /sys for the namespace, which hides the cgroup hierarchies runc and the kubelet use.

mod support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use support::{KUBECTL, eventually, tail};

const BIN: &str = env!("CARGO_BIN_EXE_ferrokube");

/// `program` run inside the network namespace `ns` (and nothing else of it).
fn in_netns(ns: &str, program: impl AsRef<OsStr>) -> Command {
    let mut c = Command::new("nsenter");
    c.arg(format!("--net=/run/netns/{ns}")).arg("--").arg(program);
    c
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"))
}

fn ip(args: &[&str]) {
    let out = run(Command::new("ip").args(args));
    assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Two "machines": network namespaces A and B joined by a veth pair on a /30 of 10.250.0.0/16
/// (A = .1, B = .2), loopback up in both. Deleting the namespaces deletes the veths and
/// whatever the agent created in B (its CNI bridge, the pods' veth ends).
struct Hosts {
    a: String,
    b: String,
    a_ip: String,
    b_ip: String,
}

impl Hosts {
    fn create() -> Hosts {
        let routes = text(&run(Command::new("ip").args(["-4", "addr", "show"])).stdout) + &text(&run(Command::new("ip").args(["-4", "route", "show"])).stdout);
        let existing = text(&run(Command::new("ip").args(["netns", "list"])).stdout);
        let pid = std::process::id();
        let x = (0..250).map(|i| (pid as usize + i) % 250 + 1).find(|x| !routes.contains(&format!("10.250.{x}."))).expect("a free 10.250.x.0/30");
        let (a, b) = (format!("fkj-a-{pid}"), format!("fkj-b-{pid}"));
        assert!(!existing.contains(&a) && !existing.contains(&b), "network namespaces {a}/{b} already exist");
        ip(&["netns", "add", &a]);
        // from here on the namespaces are deleted on drop
        let hosts = Hosts { a, b, a_ip: format!("10.250.{x}.1"), b_ip: format!("10.250.{x}.2") };
        ip(&["netns", "add", &hosts.b]);
        // the veth pair is created inside A and one end moved to B: no name on the host
        ip(&["-n", &hosts.a, "link", "add", "eth-a", "type", "veth", "peer", "name", "eth-b", "netns", &hosts.b]);
        ip(&["-n", &hosts.a, "addr", "add", &format!("{}/30", hosts.a_ip), "dev", "eth-a"]);
        ip(&["-n", &hosts.b, "addr", "add", &format!("{}/30", hosts.b_ip), "dev", "eth-b"]);
        for (ns, dev) in [(&hosts.a, "eth-a"), (&hosts.b, "eth-b")] {
            ip(&["-n", ns, "link", "set", "lo", "up"]);
            ip(&["-n", ns, "link", "set", dev, "up"]);
        }
        hosts
    }

    /// Takes B's end of the wire down or up (a cable pulled).
    fn link_b(&self, up: bool) {
        ip(&["-n", &self.b, "link", "set", "eth-b", if up { "up" } else { "down" }]);
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).stderr(Stdio::null()).status();
        }
    }
}

/// A process the test started; stopped by its PID (SIGTERM, then SIGKILL after 15 s).
struct Proc {
    child: Option<Child>,
    log: PathBuf,
}

impl Proc {
    fn spawn(mut cmd: Command, log: &Path) -> Proc {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        let child = cmd.env("NO_COLOR", "1").env("RUST_BACKTRACE", "0").stdin(Stdio::null()).stdout(Stdio::null()).stderr(file).spawn().unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
        Proc { child: Some(child), log: log.to_path_buf() }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// Waits for it to exit on its own (panics after `timeout`).
    fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.exited() {
                self.child = None;
                return s;
            }
            if Instant::now() > deadline {
                self.stop();
                panic!("{} did not exit within {timeout:?}; log:\n{}", self.log.display(), tail(&self.log_text(), 30));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then SIGKILL after 15 s. Returns whether it exited on SIGTERM.
    fn stop(&mut self) -> bool {
        let Some(mut c) = self.child.take() else { return true };
        let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = c.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        let _ = c.wait();
        false
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A server in A, maybe an agent in B. Dropping it removes the pods (through the API while it
/// answers, else through containerd), stops the agent, then the server, then deletes the
/// namespaces (fields drop in order: procs, hosts, dir).
struct Cluster {
    agent: Option<Proc>,
    server: Proc,
    hosts: Hosts,
    dir: tempfile::TempDir,
    url: String,
    node: String,
    /// UIDs of the pods the test ran (for the clean-up of their cgroups).
    pod_uids: Vec<String>,
}

impl Cluster {
    fn start(hosts: Hosts) -> Cluster {
        let dir = tempfile::Builder::new().prefix("ferrokube-join").tempdir().unwrap();
        let server_data = dir.path().join("server");
        let mut cmd = in_netns(&hosts.a, BIN);
        cmd.arg("server").arg("--data-dir").arg(&server_data);
        cmd.args(["--bind-address", &hosts.a_ip, "--secure-port", "0", "--disable-agent", "--audit-log-path", "-"]);
        cmd.args(["--cluster-cidr", &support::node::free_cluster_cidr()]);
        let server = Proc::spawn(cmd, &dir.path().join("server.log"));
        let mut c = Cluster { agent: None, server, hosts, dir, url: String::new(), node: format!("joiner-{}", std::process::id()), pod_uids: Vec::new() };
        let deadline = Instant::now() + Duration::from_secs(60);
        let kubeconfig = c.admin_kubeconfig();
        loop {
            if let Some(s) = c.server.exited() {
                panic!("ferrokube server exited with {s}; log:\n{}", tail(&c.server.log_text(), 40));
            }
            if let Ok(kc) = std::fs::read_to_string(&kubeconfig)
                && let Some(line) = kc.lines().find(|l| l.trim_start().starts_with("server:"))
                && c.server.log_text().contains("ferrokube is ready")
            {
                c.url = line.trim_start().trim_start_matches("server:").trim().to_string();
                break;
            }
            assert!(Instant::now() < deadline, "the server did not become ready; log:\n{}", tail(&c.server.log_text(), 40));
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(c.url.starts_with(&format!("https://{}:", c.hosts.a_ip)), "the server advertises {}", c.url);
        c
    }

    fn server_data(&self) -> PathBuf {
        self.dir.path().join("server")
    }

    fn admin_kubeconfig(&self) -> PathBuf {
        self.server_data().join("admin.kubeconfig")
    }

    fn agent_data(&self) -> PathBuf {
        self.dir.path().join("node")
    }

    fn agent_dir(&self) -> PathBuf {
        self.agent_data().join("agent")
    }

    /// kubectl 1.32 in A with `kubeconfig`.
    fn kubectl_as(&self, kubeconfig: &Path, args: &[&str]) -> Output {
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let mut cmd = in_netns(&self.hosts.a, KUBECTL);
        cmd.env_clear().env("HOME", &home).env("PATH", "/usr/bin:/bin").arg("--kubeconfig").arg(kubeconfig).arg("--cache-dir").arg(home.join("cache")).args(args);
        run(&mut cmd)
    }

    fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_as(&self.admin_kubeconfig(), args)
    }

    /// kubectl as the admin; stdout, or a panic with everything that helps.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        if !out.status.success() {
            panic!(
                "kubectl {args:?} failed:\nstdout: {}\nstderr: {}\nserver log:\n{}\nagent log:\n{}",
                text(&out.stdout),
                text(&out.stderr),
                tail(&self.server.log_text(), 20),
                self.agent_log_tail()
            );
        }
        text(&out.stdout)
    }

    fn agent_log_tail(&self) -> String {
        tail(&std::fs::read_to_string(self.dir.path().join("agent.log")).unwrap_or_default(), 30)
    }

    /// `ferrokube token create`, run in A.
    fn token(&self) -> String {
        let out = run(in_netns(&self.hosts.a, BIN).arg("token").arg("create").arg("--data-dir").arg(self.server_data()).args(["--ttl", "1h"]));
        assert!(out.status.success(), "token create: {}", text(&out.stderr));
        text(&out.stdout).trim().to_string()
    }

    /// `ferrokube agent` in B with `extra` flags.
    fn agent_command(&self, extra: &[&str]) -> Command {
        self.agent_command_trusting(&self.server_data().join("tls/ca.crt"), extra)
    }

    /// `ferrokube agent` in B trusting the CA certificate `ca`.
    fn agent_command_trusting(&self, ca: &Path, extra: &[&str]) -> Command {
        let mut cmd = in_netns(&self.hosts.b, BIN);
        cmd.arg("agent").args(["--server", &self.url]).arg("--ca-cert").arg(ca);
        cmd.arg("--data-dir").arg(self.agent_data()).args(["--node-name", &self.node, "--kubelet-port", "0", "--disable-pod-masquerade"]);
        // the build disk of this machine may be nearly full: no DiskPressure for that
        cmd.args(["--eviction-hard", "memory.available<100Mi,nodefs.available<1%,pid.available<5%"]);
        cmd.args(extra);
        cmd
    }

    /// Starts the agent as the README says: `--server` and the join token, no CA file (the token
    /// pins the CA; after the first join the agent keeps it).
    fn start_agent(&mut self, extra: &[&str]) {
        assert!(self.agent.is_none());
        let mut cmd = in_netns(&self.hosts.b, BIN);
        cmd.arg("agent").args(["--server", &self.url]);
        cmd.arg("--data-dir").arg(self.agent_data()).args(["--node-name", &self.node, "--kubelet-port", "0", "--disable-pod-masquerade"]);
        cmd.args(["--eviction-hard", "memory.available<100Mi,nodefs.available<1%,pid.available<5%"]);
        cmd.args(extra);
        self.agent = Some(Proc::spawn(cmd, &self.dir.path().join("agent.log")));
    }

    fn agent_log(&self) -> String {
        self.agent.as_ref().map(Proc::log_text).unwrap_or_default()
    }

    /// Waits until the agent's log holds `needle` `n` times.
    fn wait_agent_log(&self, needle: &str, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.agent_log().matches(needle).count() < n {
            assert!(Instant::now() < deadline, "no {needle:?} (x{n}) in the agent's log:\n{}", self.agent_log_tail());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_ready(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let out = self.kubectl(&["get", "node", &self.node, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]);
            if out.stdout == b"True" {
                return;
            }
            assert!(Instant::now() < deadline, "node {} not Ready; agent log:\n{}", self.node, self.agent_log_tail());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `ctr` against the agent's containerd (its socket is a file: no namespace needed).
    fn ctr(&self, args: &[&str]) -> Output {
        let sock = self.agent_dir().join("containerd/containerd.sock");
        run(Command::new("ctr").arg("--address").arg(sock).args(["-n", "k8s.io"]).args(args))
    }

    fn runtime_containers(&self) -> Vec<String> {
        text(&self.ctr(&["containers", "ls", "-q"]).stdout).lines().filter(|l| !l.is_empty()).map(String::from).collect()
    }

    /// The network namespace files of the pod sandboxes the runtime holds.
    fn sandbox_netns_paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        for id in self.runtime_containers() {
            let info: serde_json::Value = serde_json::from_slice(&self.ctr(&["containers", "info", &id]).stdout).unwrap_or_default();
            for ns in info["Spec"]["linux"]["namespaces"].as_array().into_iter().flatten() {
                if ns["type"] == "network"
                    && let Some(p) = ns["path"].as_str().filter(|p| !p.is_empty() && !p.starts_with("/proc/"))
                {
                    out.push(p.to_string());
                }
            }
        }
        out
    }

    /// Deletes the pods and waits until the runtime is empty; whatever is left is killed
    /// through containerd (and its sandbox network namespaces removed). Then stops the agent
    /// and the server. Idempotent.
    fn shut_down(&mut self) {
        if self.agent.is_some() && self.agent_dir().join("containerd/containerd.sock").exists() {
            let _ = self.kubectl(&["delete", "pods", "--all", "--all-namespaces", "--grace-period=0", "--force", "--wait=false"]);
            let deadline = Instant::now() + Duration::from_secs(40);
            while Instant::now() < deadline && !self.runtime_containers().is_empty() {
                std::thread::sleep(Duration::from_millis(200));
            }
            let netns = self.sandbox_netns_paths();
            for id in self.runtime_containers() {
                let _ = self.ctr(&["tasks", "kill", "-s", "KILL", &id]);
                std::thread::sleep(Duration::from_millis(100));
                let _ = self.ctr(&["tasks", "delete", "-f", &id]);
                let _ = self.ctr(&["containers", "delete", &id]);
            }
            for p in netns {
                if let Some(name) = Path::new(&p).file_name().and_then(|n| n.to_str()) {
                    let _ = Command::new("ip").args(["netns", "del", name]).stderr(Stdio::null()).status();
                }
            }
        }
        if let Some(mut a) = self.agent.take() {
            a.stop();
        }
        self.server.stop();
        // Known kubelet bug (crates/kubelet/src/cgroups.rs): on a hybrid cgroup machine runc also
        // creates the pod's cgroup in the cgroup2 "unified" mount, and the kubelet does not
        // remove it. Removed here (empty cgroups) so nothing is left; drop once fixed.
        for uid in &self.pod_uids {
            for qos in ["", "burstable/", "besteffort/"] {
                let _ = std::fs::remove_dir(format!("/sys/fs/cgroup/unified/kubepods/{qos}pod{uid}"));
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// Whether IPv4 `addr` is inside `cidr`.
fn in_cidr(addr: &str, cidr: &str) -> bool {
    let (net, len) = cidr.split_once('/').expect("a CIDR");
    let (Ok(a), Ok(n), Ok(len)) = (addr.parse::<std::net::Ipv4Addr>(), net.parse::<std::net::Ipv4Addr>(), len.parse::<u32>()) else { return false };
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    u32::from(a) & mask == u32::from(n) & mask
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// Processes whose command line names `needle` (this test's temp dir).
fn processes_naming(needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if e.file_name().to_string_lossy().parse::<u32>().is_err() {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) {
            let cmdline = text(&cmdline).replace('\0', " ");
            if cmdline.contains(needle) {
                out.push(format!("{}: {cmdline}", e.file_name().to_string_lossy()));
            }
        }
    }
    out
}

#[test]
fn a_second_node_joins_with_a_token() {
    let hosts = Hosts::create();
    let (a_ns, b_ns, b_ip) = (hosts.a.clone(), hosts.b.clone(), hosts.b_ip.clone());
    let mut c = Cluster::start(hosts);
    let tmp = c.dir.path().to_string_lossy().into_owned();
    support::node::prepare_images(&c.agent_dir().join("images"));

    // A token that is not the cluster's: the agent says so and exits.
    let mut wrong = Proc::spawn(c.agent_command(&["--token", "abcdef.0123456789abcdef", "--node-ip", &b_ip]), &c.dir.path().join("wrong-token.log"));
    let status = wrong.wait_exit(Duration::from_secs(30));
    assert!(!status.success());
    let log = wrong.log_text();
    assert!(log.contains("refused the bootstrap token") && log.contains("401") && log.contains("ferrokube token create"), "{log}");

    let token = c.token();

    // A CA that is not the cluster's: the server's certificate cannot be verified; it says so.
    let other_ca = c.dir.path().join("other-ca.crt");
    let out = run(Command::new("openssl").args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=another-cluster", "-days", "1"]).arg("-keyout").arg(c.dir.path().join("other-ca.key")).arg("-out").arg(&other_ca));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cmd = c.agent_command_trusting(&other_ca, &["--token", &token, "--node-ip", &b_ip]);
    let mut wrong = Proc::spawn(cmd, &c.dir.path().join("wrong-ca.log"));
    assert!(!wrong.wait_exit(Duration::from_secs(30)).success());
    let log = wrong.log_text();
    assert!(log.contains("could not be verified") && log.contains("other-ca.crt"), "{log}");

    // the join token pins the cluster CA: K10<sha256>::<id>.<secret>
    let bootstrap = token.rsplit("::").next().unwrap().to_string();
    assert!(token.starts_with("K10") && bootstrap.len() == 6 + 1 + 16, "{token}");
    let (token_id, _) = bootstrap.split_once('.').expect("<id>.<secret>");

    // B's cable is out when the agent starts: it waits for the server, then joins.
    c.hosts.link_b(false);
    c.start_agent(&["--token", &token, "--node-ip", &b_ip]);
    c.wait_agent_log("cannot be reached yet", 1, Duration::from_secs(20));
    assert!(c.agent.as_mut().unwrap().exited().is_none(), "the agent gave up: {}", c.agent_log_tail());
    c.hosts.link_b(true);
    c.wait_ready(Duration::from_secs(90));

    // The node's client certificate came from a CSR made with the token and auto-approved.
    let csrs = json(&c.ok(&["get", "csr", "-o", "json"]));
    let csrs = csrs["items"].as_array().unwrap();
    let client: Vec<_> = csrs.iter().filter(|r| r["spec"]["signerName"] == "kubernetes.io/kube-apiserver-client-kubelet").collect();
    assert_eq!(client.len(), 1, "{csrs:?}");
    assert_eq!(client[0]["spec"]["username"], format!("system:bootstrap:{token_id}"));
    let approved = client[0]["status"]["conditions"].as_array().unwrap().iter().find(|c| c["type"] == "Approved").expect("approved");
    assert_eq!(approved["reason"], "AutoApproved");
    assert!(client[0]["status"]["certificate"].as_str().is_some_and(|c| !c.is_empty()));
    // ... and the kubelet's serving certificate from one made with the node's identity
    let serving: Vec<_> = csrs.iter().filter(|r| r["spec"]["signerName"] == "kubernetes.io/kubelet-serving").collect();
    assert_eq!(serving.len(), 1, "{csrs:?}");
    assert_eq!(serving[0]["spec"]["username"], format!("system:node:{}", c.node));
    let sans = run(Command::new("openssl").arg("x509").arg("-in").arg(c.agent_dir().join("kubelet-serving.crt")).args(["-noout", "-ext", "subjectAltName"]));
    let sans = text(&sans.stdout);
    assert!(sans.contains(&format!("IP Address:{b_ip}")) && sans.contains(&format!("DNS:{}", c.node)), "{sans}");

    // The agent talks as system:node:<name>.
    let who = c.kubectl_as(&c.agent_dir().join("kubelet.kubeconfig"), &["auth", "whoami", "-o", "json"]);
    assert!(who.status.success(), "{}", text(&who.stderr));
    let who = json(&text(&who.stdout));
    assert_eq!(who["status"]["userInfo"]["username"], format!("system:node:{}", c.node));
    assert!(who["status"]["userInfo"]["groups"].as_array().unwrap().iter().any(|g| g == "system:nodes"), "{who}");

    // The Node: B's address, a pod CIDR, the kubelet's real port.
    let node = json(&c.ok(&["get", "node", &c.node, "-o", "json"]));
    let internal = node["status"]["addresses"].as_array().unwrap().iter().find(|a| a["type"] == "InternalIP").expect("an InternalIP").clone();
    assert_eq!(internal["address"], b_ip.as_str());
    let pod_cidr = node["spec"]["podCIDR"].as_str().expect("a podCIDR").to_string();
    let port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"].as_u64().unwrap_or(0);
    assert!(port > 0 && port != 10250, "the kubelet's port: {port}");

    // A busybox pod goes to it, runs with an IP of its pod CIDR; logs and exec reach it from A.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: bb}\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: c\n    image: busybox:1.35\n    command: [sh, -c, 'echo hello from the second node; exec sleep 3600']\n";
    std::fs::write(c.dir.path().join("pod.yaml"), pod).unwrap();
    c.ok(&["apply", "-f", &c.dir.path().join("pod.yaml").to_string_lossy()]);
    eventually(Duration::from_secs(60), "the pod to run", || c.kubectl(&["get", "pod", "bb", "-o", "jsonpath={.status.phase}"]).stdout == b"Running");
    let pod = json(&c.ok(&["get", "pod", "bb", "-o", "json"]));
    let pod_uid = pod["metadata"]["uid"].as_str().unwrap().to_string();
    c.pod_uids.push(pod_uid.clone());
    assert_eq!(pod["spec"]["nodeName"], c.node.as_str());
    let pod_ip = pod["status"]["podIP"].as_str().expect("a pod IP").to_string();
    assert!(in_cidr(&pod_ip, &pod_cidr), "pod IP {pod_ip} outside the node's {pod_cidr}");
    assert_eq!(c.ok(&["logs", "bb"]), "hello from the second node\n");
    assert_eq!(c.ok(&["exec", "bb", "--", "sh", "-c", "echo $((6*7)) from $(hostname)"]), "42 from bb\n");
    let addr = c.ok(&["exec", "bb", "--", "ip", "-4", "-o", "addr", "show", "eth0"]);
    assert!(addr.contains(&format!("inet {pod_ip}/")), "{addr}");
    let sandbox_netns = c.sandbox_netns_paths();
    assert!(!sandbox_netns.is_empty());

    // The bootstrap token requests node certificates and nothing else.
    let ca = std::fs::read_to_string(c.server_data().join("tls/ca.crt")).unwrap();
    let token_kc = c.dir.path().join("token.kubeconfig");
    std::fs::write(&token_kc, kubelet::identity::token_kubeconfig(&c.url, &ca, &bootstrap)).unwrap();
    for args in [&["get", "pods", "-A"][..], &["get", "secrets", "-n", "kube-system"], &["get", "nodes"], &["logs", "bb"]] {
        let out = c.kubectl_as(&token_kc, args);
        assert!(!out.status.success(), "the token could {args:?}: {}", text(&out.stdout));
        let err = text(&out.stderr);
        assert!(err.contains("Forbidden") && err.contains(&format!("system:bootstrap:{token_id}")), "{args:?}: {err}");
    }
    for (verb, what, subresource, allowed) in [
        ("create", "certificatesigningrequests", "", "yes"),
        ("update", "certificatesigningrequests", "approval", "no"),
        ("update", "nodes", "status", "no"),
        ("create", "pods", "", "no"),
        ("get", "configmaps", "", "no"),
        ("create", "serviceaccounts", "token", "no"),
    ] {
        let mut args = vec!["auth", "can-i", verb, what];
        if !subresource.is_empty() {
            args.extend(["--subresource", subresource]);
        }
        let out = c.kubectl_as(&token_kc, &args);
        assert_eq!(text(&out.stdout).trim(), allowed, "can the token {verb} {what}/{subresource}? {}", text(&out.stderr));
    }

    // The agent restarts without a token and without --node-ip: it keeps its certificate,
    // finds B's address on the route to the server, serves on a new port, and logs still work.
    assert!(c.agent.take().unwrap().stop(), "the agent did not stop on SIGTERM");
    c.start_agent(&[]);
    c.wait_agent_log("node registered", 2, Duration::from_secs(30));
    assert!(c.agent_log().contains("using the node's existing client certificate"), "{}", c.agent_log_tail());
    eventually(Duration::from_secs(30), "the Node to carry the new kubelet port", || {
        let p = c.kubectl(&["get", "node", &c.node, "-o", "jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}"]);
        text(&p.stdout).parse::<u64>().is_ok_and(|p| p > 0 && p != port)
    });
    let node = json(&c.ok(&["get", "node", &c.node, "-o", "json"]));
    assert!(node["status"]["addresses"].as_array().unwrap().iter().any(|a| a["type"] == "InternalIP" && a["address"] == b_ip.as_str()), "{}", node["status"]["addresses"]);
    let client_csrs = json(&c.ok(&["get", "csr", "-o", "json"]))["items"].as_array().unwrap().iter().filter(|r| r["spec"]["signerName"] == "kubernetes.io/kube-apiserver-client-kubelet").count();
    assert_eq!(client_csrs, 1, "the restarted agent asked for a new client certificate");
    c.wait_ready(Duration::from_secs(30));
    eventually(Duration::from_secs(30), "kubectl logs through the restarted kubelet", || c.kubectl(&["logs", "bb"]).stdout.starts_with(b"hello from the second node\n"));
    // the restarted kubelet adopted the running container
    let after = json(&c.ok(&["get", "pod", "bb", "-o", "json"]));
    assert_eq!(after["status"]["containerStatuses"][0]["containerID"], pod["status"]["containerStatuses"][0]["containerID"], "{}", after["status"]);
    assert_eq!(after["status"]["containerStatuses"][0]["restartCount"], 0);
    assert_eq!(after["status"]["podIP"], pod_ip.as_str());

    // Clean-up leaves nothing on the machine: no pod, no process, no mount, no namespace.
    c.shut_down();
    assert!(c.runtime_containers().is_empty());
    drop(c);
    let netns = text(&run(Command::new("ip").args(["netns", "list"])).stdout);
    assert!(!netns.contains(&a_ns) && !netns.contains(&b_ns), "{netns}");
    for p in sandbox_netns {
        assert!(!Path::new(&p).exists(), "the pod's network namespace {p} is left");
    }
    assert_eq!(processes_naming(&tmp), Vec::<String>::new(), "processes left");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(&tmp), "mounts left under {tmp}");
    assert!(!Path::new(&tmp).exists());
    for h in std::fs::read_dir("/sys/fs/cgroup").into_iter().flatten().flatten() {
        for qos in ["", "burstable/", "besteffort/"] {
            let d = h.path().join(format!("kubepods/{qos}pod{pod_uid}"));
            assert!(!d.exists(), "cgroup {} left", d.display());
        }
    }
}
