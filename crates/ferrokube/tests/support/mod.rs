//! Shared harness of the integration tests: starts the real `ferrokube` binary on a free
//! loopback port with a temporary data directory, and drives it with the real kubectl 1.32 and
//! kube-rs. Each server gets its own kubectl HOME and cache dir, so discovery caches never leak
//! between tests. Processes are stopped by PID when the handle drops.

#![allow(dead_code)]

pub mod node;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// kubectl 1.32 itself (not the version dispatcher).
pub const KUBECTL: &str = "/usr/lib/google-cloud-sdk/bin/kubectl.1.32";

/// A running `ferrokube server`.
pub struct Server {
    pub dir: tempfile::TempDir,
    /// The data directory (`dir/data` unless started in another).
    pub data: PathBuf,
    pub child: Option<Child>,
    pub kubeconfig: PathBuf,
    pub url: String,
    pub port: u16,
    pub log: PathBuf,
    pub extra_args: Vec<String>,
    /// The etcd this server stores into (`FERROKUBE_TEST_DATASTORE=etcd`), stopped after it.
    pub etcd: Option<Arc<storage::etcd::testing::EtcdProcess>>,
}

/// Whether the suite runs against etcd (`FERROKUBE_TEST_DATASTORE=etcd`) instead of the embedded
/// store.
pub fn on_etcd() -> bool {
    std::env::var("FERROKUBE_TEST_DATASTORE").is_ok_and(|v| v == "etcd")
}

/// The `--datastore-*` flags for an etcd.
pub fn datastore_flags(etcd: &storage::etcd::testing::EtcdProcess) -> Vec<String> {
    let mut v = vec!["--datastore-endpoint".to_string(), etcd.endpoints().join(",")];
    if let Some(t) = etcd.tls() {
        for (flag, path) in [
            ("--datastore-cafile", &t.ca_file),
            ("--datastore-certfile", &t.client_cert_file),
            ("--datastore-keyfile", &t.client_key_file),
        ] {
            v.push(flag.to_string());
            v.push(path.to_string_lossy().into_owned());
        }
    }
    v
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Server {
    /// Starts a fresh server.
    pub fn start() -> Server {
        Self::start_with(&[])
    }

    /// Starts a fresh server with extra flags (on a fresh single-member TLS etcd of its own when
    /// the suite runs against etcd).
    pub fn start_with(extra: &[&str]) -> Server {
        let etcd = on_etcd().then(|| Arc::new(storage::etcd::testing::EtcdProcess::start_single(true).expect("start etcd")));
        Self::build(None, etcd, extra, None)
    }

    /// Starts a server on an existing data directory (a restored snapshot, say).
    pub fn start_in(data: &Path, extra: &[&str]) -> Server {
        Self::build(Some(data.to_path_buf()), None, extra, None)
    }

    /// Starts a server on the etcd `etcd` (which the caller keeps running longer than the
    /// server), sharing `peer`'s credentials (cluster CA, service-account key, encryption keys):
    /// another control-plane member of the same cluster.
    pub fn start_on_etcd(etcd: &storage::etcd::testing::EtcdProcess, peer: Option<&Server>, extra: &[&str]) -> Server {
        let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        args.extend(datastore_flags(etcd));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Self::build(None, None, &args, peer.map(|p| p.data_dir()))
    }

    fn build(data: Option<PathBuf>, etcd: Option<Arc<storage::etcd::testing::EtcdProcess>>, extra: &[&str], share_from: Option<PathBuf>) -> Server {
        let dir = tempfile::Builder::new().prefix("ferrokube-test").tempdir().unwrap();
        let data = data.unwrap_or_else(|| dir.path().join("data"));
        if let Some(from) = share_from {
            std::fs::create_dir_all(data.join("tls")).unwrap();
            for e in std::fs::read_dir(from.join("tls")).unwrap() {
                let e = e.unwrap();
                std::fs::copy(e.path(), data.join("tls").join(e.file_name())).unwrap();
            }
            std::fs::copy(from.join("encryption-config.yaml"), data.join("encryption-config.yaml")).unwrap();
        }
        let mut extra_args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        if let Some(e) = &etcd {
            extra_args.extend(datastore_flags(e));
        }
        if extra.contains(&"--node-name") {
            node::prepare_images(&data.join("agent").join("images"));
        }
        let mut s = Server {
            kubeconfig: data.join("admin.kubeconfig"),
            log: dir.path().join("server.log"),
            data,
            dir,
            child: None,
            url: String::new(),
            port: 0,
            extra_args,
            etcd,
        };
        s.spawn();
        s
    }

    /// Whether this server runs its node agent (tests that pass `--node-name`).
    pub fn is_node(&self) -> bool {
        self.extra_args.iter().any(|a| a == "--node-name")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.data.clone()
    }

    fn spawn(&mut self) {
        let _ = std::fs::remove_file(&self.kubeconfig);
        if self.port == 0 {
            self.port = free_port();
        }
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_ferrokube"))
            .arg("server")
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--secure-port")
            .arg(self.port.to_string())
            .args(if self.is_node() { None } else { Some("--disable-agent") })
            .args(&self.extra_args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start ferrokube");
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait() {
                    panic!("ferrokube exited with {status}; log:\n{}", self.log_text());
                }
            if self.kubeconfig.exists() {
                let kc = std::fs::read_to_string(&self.kubeconfig).unwrap_or_default();
                if let Some(line) = kc.lines().find(|l| l.trim_start().starts_with("server:")) {
                    self.url = line.trim_start().trim_start_matches("server:").trim().to_string();
                    if self.log_text().contains("ferrokube is ready") {
                        return;
                    }
                }
            }
            if Instant::now() > deadline {
                panic!("ferrokube did not become ready; log:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let pid = c.id() as i32;
            let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Kills the server with SIGKILL (a crash).
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same data dir and port.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Runs kubectl 1.32 against this server.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_stdin(args, None)
    }

    /// Runs kubectl with stdin.
    pub fn kubectl_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        self.kubectl_with(&self.kubeconfig, args, stdin)
    }

    /// Runs kubectl 1.32 with another kubeconfig (another identity).
    pub fn kubectl_as(&self, kubeconfig: &Path, args: &[&str]) -> Output {
        self.kubectl_with(kubeconfig, args, None)
    }

    /// Runs kubectl 1.32 with another kubeconfig and stdin.
    pub fn kubectl_stdin_as(&self, kubeconfig: &Path, args: &[&str], stdin: &str) -> Output {
        self.kubectl_with(kubeconfig, args, Some(stdin))
    }

    /// A kubeconfig for another user: a client certificate from `ferrokube kubeconfig`.
    pub fn user_kubeconfig(&self, user: &str, groups: &[&str]) -> PathBuf {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrokube"));
        cmd.arg("kubeconfig").arg("--data-dir").arg(self.data_dir()).arg("--user").arg(user).arg("--expiration").arg("1h");
        for g in groups {
            cmd.arg("--group").arg(g);
        }
        let out = cmd.output().expect("run ferrokube kubeconfig");
        assert!(out.status.success(), "ferrokube kubeconfig: {}", String::from_utf8_lossy(&out.stderr));
        let path = self.dir.path().join(format!("{}.kubeconfig", user.replace(':', "_")));
        std::fs::write(&path, &out.stdout).unwrap();
        path
    }

    /// A kubeconfig that authenticates with a bearer token only.
    pub fn token_kubeconfig(&self, name: &str, token: &str) -> PathBuf {
        let ca = std::fs::read_to_string(self.data_dir().join("tls/ca.crt")).unwrap();
        let b64 = {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(ca)
        };
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    certificate-authority-data: {b64}\nusers:\n- name: u\n  user:\n    token: {token}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n",
            self.url
        );
        let path = self.dir.path().join(format!("{name}.kubeconfig"));
        std::fs::write(&path, text).unwrap();
        path
    }

    fn kubectl_with(&self, kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> Output {
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let mut cmd = Command::new(KUBECTL);
        cmd.env_clear()
            .env("HOME", &home)
            .env("PATH", "/usr/bin:/bin")
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("--cache-dir")
            .arg(home.join("cache"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if stdin.is_some() {
            cmd.stdin(Stdio::piped());
        } else {
            cmd.stdin(Stdio::null());
        }
        let mut child = cmd.spawn().expect("run kubectl");
        if let Some(input) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    }

    /// Runs kubectl and returns stdout, panicking with stderr on failure.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        if !out.status.success() {
            panic!(
                "kubectl {:?} failed ({}):\nstdout: {}\nstderr: {}\nserver log tail:\n{}",
                args,
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                tail(&self.log_text(), 30)
            );
        }
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs kubectl with stdin and returns stdout, panicking on failure.
    pub fn ok_stdin(&self, args: &[&str], stdin: &str) -> String {
        let out = self.kubectl_stdin(args, Some(stdin));
        if !out.status.success() {
            panic!(
                "kubectl {:?} failed:\nstdout: {}\nstderr: {}",
                args,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs kubectl expecting failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(!out.status.success(), "kubectl {:?} unexpectedly succeeded: {}", args, String::from_utf8_lossy(&out.stdout));
        String::from_utf8(out.stderr).unwrap()
    }

    /// Writes a file in the test dir and returns its path.
    pub fn file(&self, name: &str, contents: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, contents).unwrap();
        p.to_string_lossy().into_owned()
    }

    /// A kube-rs client as the admin.
    pub async fn client(&self) -> kube::Client {
        let kc = kube::config::Kubeconfig::read_from(&self.kubeconfig).unwrap();
        let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default()).await.unwrap();
        kube::Client::try_from(cfg).unwrap()
    }

    /// A kube-rs client as the admin that does not retry 5xx answers (to observe them).
    pub async fn raw_client(&self) -> kube::Client {
        let kc = kube::config::Kubeconfig::read_from(&self.kubeconfig).unwrap();
        let mut cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default()).await.unwrap();
        cfg.default_retry = false;
        kube::Client::try_from(cfg).unwrap()
    }

    /// Starts a long-running kubectl (a watch) and returns it with a channel of its stdout lines.
    pub fn kubectl_lines(&self, args: &[&str]) -> (Child, std::sync::mpsc::Receiver<String>) {
        let mut child = Command::new(KUBECTL)
            .env("HOME", self.dir.path().join("home"))
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.path().join("home/cache"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kubectl");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        (child, rx)
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.is_node() && self.child.is_some() {
            node::remove_everything(self);
        }
        self.stop();
        if self.is_node() {
            node::remove_bridge(self);
        }
    }
}

pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Polls `f` until it returns true (or panics after `timeout`).
pub fn eventually(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

/// A running `ferrokube sim` (simulated nodes) joined to a test server; killed on drop.
pub struct Sim {
    pub child: Option<Child>,
    /// Node names (`<prefix><i>`).
    pub nodes: Vec<String>,
}

impl Sim {
    /// Stops the simulated nodes at once (SIGKILL): their Leases and status go stale, as when a
    /// machine dies.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Server {
    /// Starts `ferrokube sim --nodes n` (plus `extra` flags, e.g. `--name-prefix`, `--zones`,
    /// `--cpu`) against this server as the admin, and waits until every node is registered.
    pub fn sim(&self, n: usize, extra: &[&str]) -> Sim {
        let prefix = extra
            .iter()
            .position(|a| *a == "--name-prefix")
            .and_then(|i| extra.get(i + 1))
            .map_or("sim-".to_string(), |p| p.to_string());
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.path().join(format!("sim-{prefix}log"))).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_ferrokube"))
            .arg("sim")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--nodes")
            .arg(n.to_string())
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("run ferrokube sim");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut sim = Sim { child: Some(child), nodes: (0..n).map(|i| format!("{prefix}{i}")).collect() };
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.starts_with("ready:") => sim,
            other => {
                sim.kill();
                let log = std::fs::read_to_string(self.dir.path().join(format!("sim-{prefix}log"))).unwrap_or_default();
                panic!("ferrokube sim did not become ready ({other:?}): {}", tail(&log, 20));
            }
        }
    }
}
