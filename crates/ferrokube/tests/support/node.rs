//! Servers that run their node agent (real containerd, runc and CNI): the test images, a pod
//! CIDR of their own, and the clean-up that leaves nothing on the machine.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::Server;

/// The test images (`ferrokube images build-test`), built once per target dir.
fn images_cache() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ferrokube-test-images");
    if dir.join("busybox.tar").exists() && dir.join("pause.tar").exists() {
        return dir;
    }
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("ferrokube-test-images.{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_ferrokube")).args(["images", "build-test", "--out"]).arg(&tmp).output().expect("ferrokube images build-test");
    assert!(out.status.success(), "building test images: {}", String::from_utf8_lossy(&out.stderr));
    // another test process may have won the race: either copy is fine
    if std::fs::rename(&tmp, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    dir
}

/// Puts the busybox and pause images where the agent imports them at start.
pub fn prepare_images(images_dir: &Path) {
    let cache = images_cache();
    std::fs::create_dir_all(images_dir).unwrap();
    for f in ["busybox.tar", "pause.tar"] {
        std::fs::copy(cache.join(f), images_dir.join(f)).unwrap();
    }
}

/// A /16 for pods that no route on the machine uses yet (10.64–10.191).
pub fn free_cluster_cidr() -> String {
    let routes = Command::new("ip").args(["-4", "route", "show"]).output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
    let start = (std::process::id() as usize + super::free_port() as usize) % 128;
    for i in 0..128 {
        let octet = 64 + (start + i) % 128;
        if !routes.contains(&format!("10.{octet}.")) {
            return format!("10.{octet}.0.0/16");
        }
    }
    panic!("no free 10.x.0.0/16 for pods");
}

/// The flags of a server that runs its agent as node `name` on loopback.
pub fn node_flags(name: &str) -> Vec<String> {
    vec![
        "--node-name".into(),
        name.into(),
        "--node-ip".into(),
        "127.0.0.1".into(),
        "--kubelet-port".into(),
        "0".into(),
        "--cluster-cidr".into(),
        free_cluster_cidr(),
        "--disable-pod-masquerade".into(),
        // build outputs share this machine's disk: the node must not report DiskPressure
        // because a test run filled it past upstream's 10% threshold
        "--eviction-hard".into(),
        "memory.available<100Mi,nodefs.available<1%,pid.available<5%".into(),
    ]
}

impl Server {
    /// A server with its node agent, named `name`, plus `extra` flags; waits until the node is Ready.
    pub fn start_node(name: &str, extra: &[&str]) -> Server {
        let mut flags = node_flags(name);
        if extra.contains(&"--eviction-hard") {
            let i = flags.iter().position(|f| f == "--eviction-hard").unwrap();
            flags.drain(i..i + 2);
        }
        flags.extend(extra.iter().map(|s| s.to_string()));
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let s = Server::start_with(&flags);
        super::eventually(Duration::from_secs(60), "the node to be Ready", || {
            s.kubectl(&["get", "node", name, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]).stdout == b"True"
        });
        s
    }

    /// containerd's socket of this server's agent.
    pub fn containerd_socket(&self) -> PathBuf {
        self.data.join("agent").join("containerd").join("containerd.sock")
    }

    /// `ctr` against this agent's containerd, in the CRI namespace.
    pub fn ctr(&self, args: &[&str]) -> String {
        let out = Command::new("ctr").arg("--address").arg(self.containerd_socket()).args(["-n", "k8s.io"]).args(args).output().expect("ctr");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The containers the runtime holds for this node (ids).
    pub fn runtime_containers(&self) -> Vec<String> {
        self.ctr(&["containers", "ls", "-q"]).lines().map(str::to_string).filter(|l| !l.is_empty()).collect()
    }
}

/// Deletes every pod and waits until the runtime holds no container, so that stopping the
/// server leaves nothing running.
pub fn remove_everything(s: &Server) {
    let _ = s.kubectl(&["delete", "pods", "--all", "--all-namespaces", "--grace-period=0", "--force", "--wait=false"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline && !s.runtime_containers().is_empty() {
        std::thread::sleep(Duration::from_millis(200));
    }
    // anything still there (a kubelet that could not clean up): kill it through containerd
    for id in s.runtime_containers() {
        let _ = Command::new("ctr").arg("--address").arg(s.containerd_socket()).args(["-n", "k8s.io", "tasks", "kill", "-s", "KILL", &id]).output();
        std::thread::sleep(Duration::from_millis(100));
        let _ = Command::new("ctr").arg("--address").arg(s.containerd_socket()).args(["-n", "k8s.io", "tasks", "delete", "-f", &id]).output();
        let _ = Command::new("ctr").arg("--address").arg(s.containerd_socket()).args(["-n", "k8s.io", "containers", "delete", &id]).output();
    }
}

/// The agent's CNI bridge name (from its conflist).
pub fn bridge(s: &Server) -> Option<String> {
    let text = std::fs::read_to_string(s.data.join("agent/cni/net.d/10-ferrokube.conflist")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["plugins"][0]["bridge"].as_str().map(String::from)
}

/// Removes the agent's bridge from the host.
pub fn remove_bridge(s: &Server) {
    if let Some(b) = bridge(s) {
        let _ = Command::new("ip").args(["link", "del", &b]).output();
    }
}
