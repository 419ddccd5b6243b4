//! The agent's own containerd: a config we write, a child process we supervise.
//!
//! [`Containerd::start`] writes `<agent>/containerd/config.toml` (CRI plugin set up for this
//! kind of machine: `restrict_oom_score_adj`, cgroupfs, runc, overlayfs, our CNI and registry
//! directories, a loopback stream server), starts `containerd --config ...` as a child and waits
//! until its CRI `Version` call answers. A dedicated thread owns the child: it restarts it with
//! a back-off when it dies and reaps it. [`Containerd::stop`] sends SIGTERM, then SIGKILL after
//! a timeout; containers keep running (their shims are not children of containerd's process).
//!
//! The child must not outlive the agent even when the agent is SIGKILLed: it is started through
//! `setpriv --pdeathsig KILL` from the supervising thread, which lives as long as the
//! supervisor (the kernel sends the parent-death signal when the forking *thread* exits). A
//! pidfile lets a restarted agent end a containerd left over from a previous run of the same
//! data directory (only after checking `/proc/PID/cmdline` names our config).

use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::api::VersionRequest;
use crate::client::{self, Runtime};

/// The sandbox (pause) image the agent builds and imports itself.
pub const DEFAULT_SANDBOX_IMAGE: &str = "localhost/ferrokube/pause:1";
/// Where Debian's containernetworking-plugins puts the CNI plugins.
pub const DEFAULT_CNI_BIN_DIR: &str = "/usr/lib/cni";

/// A unix socket path must fit `sockaddr_un.sun_path` (108 bytes with the NUL); containerd also
/// listens on `<socket>.ttrpc`.
const MAX_SOCKET_PATH: usize = 107 - ".ttrpc".len();

/// What can go wrong starting or stopping containerd.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A program we need is not installed.
    #[error("{program} was not found on PATH: install it (apt-get install -y {package})")]
    NotFound {
        /// The program looked for.
        program: &'static str,
        /// The Debian package(s) that provide it.
        package: &'static str,
    },
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What we were doing, with the path.
        what: String,
        /// Why it failed.
        source: io::Error,
    },
    /// The socket path would not fit a unix socket address.
    #[error(
        "containerd socket path {0:?} is too long for a unix socket ({MAX_SOCKET_PATH} bytes at most): use a shorter --data-dir"
    )]
    SocketPathTooLong(PathBuf),
    /// containerd exited or did not answer in time.
    #[error("containerd did not become ready: {reason}; the end of its log {log:?}:\n{tail}")]
    NotReady {
        /// What happened (exit status or timeout).
        reason: String,
        /// The log file.
        log: PathBuf,
        /// Its last lines.
        tail: String,
    },
    /// The CRI call failed.
    #[error(transparent)]
    Cri(#[from] client::Error),
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// How to run containerd. [`Options::new`] fills in the node conventions.
#[derive(Clone, Debug)]
pub struct Options {
    /// `<data-dir>/agent`: containerd's files go to `<agent_dir>/containerd/`.
    pub agent_dir: PathBuf,
    /// Where the CNI plugin binaries are.
    pub cni_bin_dir: PathBuf,
    /// The CNI configuration directory (the kubelet writes the network config there).
    pub cni_conf_dir: PathBuf,
    /// The registry hosts directory (`<host>/hosts.toml` files), CRI's `registry.config_path`.
    pub registry_config_dir: PathBuf,
    /// The sandbox (pause) image every pod sandbox runs.
    pub sandbox_image: String,
    /// Where to look for containerd, setpriv and runc (and the child's PATH); the process's
    /// PATH when `None`.
    pub search_path: Option<OsString>,
    /// How long to wait for CRI to answer after a start.
    pub ready_timeout: Duration,
    /// How long `stop` waits after SIGTERM before SIGKILL.
    pub stop_timeout: Duration,
}

impl Options {
    /// The conventional layout under `agent_dir`: CNI config in `<agent>/cni`, registry hosts in
    /// `<agent>/containerd/certs.d`, CNI plugins in /usr/lib/cni, the ferrokube pause image.
    pub fn new(agent_dir: impl Into<PathBuf>) -> Options {
        let agent_dir = agent_dir.into();
        Options {
            cni_bin_dir: PathBuf::from(DEFAULT_CNI_BIN_DIR),
            cni_conf_dir: agent_dir.join("cni"),
            registry_config_dir: agent_dir.join("containerd").join("certs.d"),
            sandbox_image: DEFAULT_SANDBOX_IMAGE.to_string(),
            search_path: None,
            ready_timeout: Duration::from_secs(30),
            stop_timeout: Duration::from_secs(10),
            agent_dir,
        }
    }
}

/// The files of one containerd instance, all under `<agent>/containerd/`.
#[derive(Clone, Debug)]
pub struct Paths {
    /// `<agent>/containerd`.
    pub dir: PathBuf,
    /// `config.toml`.
    pub config: PathBuf,
    /// `root/` (content, snapshots, metadata).
    pub root: PathBuf,
    /// `state/` (runtime state, shim bundles).
    pub state: PathBuf,
    /// `containerd.sock`: gRPC, CRI included.
    pub socket: PathBuf,
    /// `containerd.log`: the child's stdout and stderr.
    pub log: PathBuf,
    /// `containerd.pid`: the running child's PID.
    pub pidfile: PathBuf,
}

impl Paths {
    /// The files under `<agent_dir>/containerd`.
    pub fn new(agent_dir: &Path) -> Paths {
        let dir = agent_dir.join("containerd");
        Paths {
            config: dir.join("config.toml"),
            root: dir.join("root"),
            state: dir.join("state"),
            socket: dir.join("containerd.sock"),
            log: dir.join("containerd.log"),
            pidfile: dir.join("containerd.pid"),
            dir,
        }
    }
}

/// Finds an executable `name` in the directories of `path` (a PATH value; the process's PATH
/// when `None`).
pub fn find_program(name: &str, path: Option<&OsString>) -> Option<PathBuf> {
    let path = match path {
        Some(p) => p.clone(),
        None => std::env::var_os("PATH").unwrap_or_default(),
    };
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            fs::metadata(candidate)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn path_str(p: &Path) -> String {
    toml_str(&p.to_string_lossy())
}

/// Plugins a CRI node does not use (they would probe for filesystems or create /opt/containerd).
const DISABLED_PLUGINS: &[&str] = &[
    "io.containerd.internal.v1.opt",
    "io.containerd.snapshotter.v1.aufs",
    "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.zfs",
    "io.containerd.tracing.processor.v1.otlp",
];

/// The text of containerd's `config.toml` (version 2) for these options and paths.
pub fn config_toml(opts: &Options, paths: &Paths, runc: &Path) -> String {
    let cri = "plugins.\"io.containerd.grpc.v1.cri\"";
    let disabled = DISABLED_PLUGINS
        .iter()
        .map(|p| toml_str(p))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"# Written by ferrokube at every agent start: edits are lost.
version = 2
root = {root}
state = {state}
disabled_plugins = [{disabled}]

[grpc]
  address = {socket}
  uid = 0
  gid = 0

[ttrpc]
  address = ""

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

[{cri}]
  sandbox_image = {sandbox}
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  max_container_log_line_size = 16384

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  BinaryName = {runc}
  SystemdCgroup = false

[{cri}.cni]
  bin_dir = {cni_bin}
  conf_dir = {cni_conf}

[{cri}.registry]
  config_path = {registry}
"#,
        root = path_str(&paths.root),
        state = path_str(&paths.state),
        socket = path_str(&paths.socket),
        sandbox = toml_str(&opts.sandbox_image),
        runc = path_str(runc),
        cni_bin = path_str(&opts.cni_bin_dir),
        cni_conf = path_str(&opts.cni_conf_dir),
        registry = path_str(&opts.registry_config_dir),
    )
}

/// The state the supervising thread and the handle share.
#[derive(Debug, Default)]
struct State {
    /// The running child (reaped only under the lock, so a PID we signal is never reused).
    child: Option<Child>,
    /// Set by `stop`/drop: do not restart.
    stopping: bool,
    /// The thread has ended.
    finished: bool,
    /// How many times the child was started.
    starts: u64,
    /// How the last child ended.
    last_exit: Option<ExitStatus>,
    /// Why the last start failed.
    spawn_error: Option<String>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    cond: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn signal(&self, sig: rustix::process::Signal) {
        let state = self.lock();
        if let Some(child) = &state.child {
            signal_pid(child.id(), sig);
        }
    }
}

fn signal_pid(pid: u32, sig: rustix::process::Signal) {
    if let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process(pid, sig);
    }
}

/// A supervised containerd. Dropping it without [`Containerd::stop`] asks the child to stop
/// (SIGTERM) without waiting.
#[derive(Debug)]
pub struct Containerd {
    paths: Paths,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    stop_timeout: Duration,
}

/// What the supervising thread needs to (re)start the child.
struct Launch {
    setpriv: PathBuf,
    containerd: PathBuf,
    paths: Paths,
    search_path: Option<OsString>,
}

impl Launch {
    fn spawn(&self) -> io::Result<Child> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.paths.log)?;
        let mut cmd = Command::new(&self.setpriv);
        cmd.arg("--pdeathsig")
            .arg("KILL")
            .arg("--")
            .arg(&self.containerd)
            .arg("--config")
            .arg(&self.paths.config)
            .current_dir(&self.paths.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            // Its own process group: a terminal's ^C reaches the agent, which stops it in order.
            .process_group(0);
        if let Some(path) = &self.search_path {
            cmd.env("PATH", path);
        }
        cmd.spawn()
    }
}

const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A child that ran this long resets the back-off.
const STABLE_RUN: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(100);

fn supervise(launch: Launch, shared: Arc<Shared>) {
    let mut backoff = BACKOFF_MIN;
    loop {
        let started = Instant::now();
        match launch.spawn() {
            Ok(child) => {
                let pid = child.id();
                let mut state = shared.lock();
                state.child = Some(child);
                state.starts += 1;
                state.spawn_error = None;
                drop(state);
                shared.cond.notify_all();
                if let Err(e) = fs::write(&launch.paths.pidfile, format!("{pid}\n")) {
                    tracing::warn!(pidfile = %launch.paths.pidfile.display(), "writing containerd's pidfile: {e}");
                }
                tracing::info!(pid, log = %launch.paths.log.display(), "containerd started");
                let status = wait_child(&shared);
                let _ = fs::remove_file(&launch.paths.pidfile);
                if shared.lock().stopping {
                    tracing::info!(pid, "containerd stopped ({status})");
                    break;
                }
                if started.elapsed() >= STABLE_RUN {
                    backoff = BACKOFF_MIN;
                }
                tracing::warn!(
                    pid,
                    log = %launch.paths.log.display(),
                    "containerd exited ({status}); restarting in {backoff:?}"
                );
            }
            Err(e) => {
                tracing::error!(program = %launch.containerd.display(), "starting containerd: {e}; retrying in {backoff:?}");
                shared.lock().spawn_error = Some(e.to_string());
                shared.cond.notify_all();
            }
        }
        // Back off, unless asked to stop meanwhile.
        let deadline = Instant::now() + backoff;
        let mut state = shared.lock();
        while !state.stopping {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state = shared
                .cond
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        if state.stopping {
            break;
        }
        drop(state);
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
    shared.lock().finished = true;
    shared.cond.notify_all();
}

/// Waits (polling under the lock) until the current child exits, and reaps it.
fn wait_child(shared: &Shared) -> String {
    let mut state = shared.lock();
    loop {
        let Some(child) = state.child.as_mut() else {
            return "gone".to_string();
        };
        match child.try_wait() {
            Ok(Some(status)) => {
                state.child = None;
                state.last_exit = Some(status);
                drop(state);
                shared.cond.notify_all();
                return status.to_string();
            }
            Ok(None) => {}
            Err(e) => {
                // Not ours to wait for any more (should not happen): stop tracking it.
                state.child = None;
                drop(state);
                shared.cond.notify_all();
                return format!("wait failed: {e}");
            }
        }
        state = shared
            .cond
            .wait_timeout(state, POLL)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}

/// The last `max` bytes of a log file, from a line start.
fn log_tail(path: &Path, max: u64) -> String {
    let Ok(mut f) = fs::File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if f.seek(SeekFrom::Start(len.saturating_sub(max))).is_err() {
        return String::new();
    }
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    match (len > max, text.find('\n')) {
        (true, Some(i)) => text[i + 1..].to_string(),
        _ => text,
    }
}

/// Whether `/proc/PID` is a live (not zombie) process.
fn alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state letter follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
}

/// Ends a containerd left running by an earlier agent of the same data directory (its PID in
/// the pidfile, its command line naming our config file).
fn kill_stale(paths: &Paths, timeout: Duration) {
    let Ok(text) = fs::read_to_string(&paths.pidfile) else {
        return;
    };
    let Ok(pid) = text.trim().parse::<u32>() else {
        let _ = fs::remove_file(&paths.pidfile);
        return;
    };
    let ours = fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let config = paths.config.as_os_str().as_encoded_bytes();
        args.first().is_some_and(|a0| a0.ends_with(b"containerd")) && args.contains(&config)
    });
    if ours && alive(pid) {
        tracing::warn!(
            pid,
            "stopping a containerd left over from an earlier run of this data directory"
        );
        signal_pid(pid, rustix::process::Signal::TERM);
        let deadline = Instant::now() + timeout;
        while alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if alive(pid) {
            signal_pid(pid, rustix::process::Signal::KILL);
            let deadline = Instant::now() + Duration::from_secs(5);
            while alive(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    let _ = fs::remove_file(&paths.pidfile);
}

impl Containerd {
    /// Writes the config, starts containerd and waits until CRI answers.
    pub async fn start(opts: Options) -> Result<Containerd, Error> {
        let containerd =
            find_program("containerd", opts.search_path.as_ref()).ok_or(Error::NotFound {
                program: "containerd",
                package: "containerd runc",
            })?;
        let runc = find_program("runc", opts.search_path.as_ref()).ok_or(Error::NotFound {
            program: "runc",
            package: "runc",
        })?;
        let setpriv =
            find_program("setpriv", opts.search_path.as_ref()).ok_or(Error::NotFound {
                program: "setpriv",
                package: "util-linux",
            })?;

        let agent_dir = std::path::absolute(&opts.agent_dir)
            .map_err(io_err(format!("{:?}", opts.agent_dir)))?;
        let paths = Paths::new(&agent_dir);
        if paths.socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(Error::SocketPathTooLong(paths.socket));
        }
        for dir in [
            &paths.dir,
            &paths.root,
            &paths.state,
            &opts.cni_conf_dir,
            &opts.registry_config_dir,
        ] {
            fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
        }
        fs::set_permissions(&paths.dir, fs::Permissions::from_mode(0o700))
            .map_err(io_err(format!("chmod {}", paths.dir.display())))?;
        let stale_paths = paths.clone();
        let stop_timeout = opts.stop_timeout;
        tokio::task::spawn_blocking(move || kill_stale(&stale_paths, stop_timeout))
            .await
            .map_err(|e| Error::Io {
                what: "stopping a stale containerd".into(),
                source: io::Error::other(e),
            })?;
        fs::write(&paths.config, config_toml(&opts, &paths, &runc))
            .map_err(io_err(format!("writing {}", paths.config.display())))?;
        match fs::remove_file(&paths.socket) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(format!("removing {}", paths.socket.display()))(e)),
        }

        let shared = Arc::new(Shared::default());
        let launch = Launch {
            setpriv,
            containerd,
            paths: paths.clone(),
            search_path: opts.search_path.clone(),
        };
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("containerd-supervisor".into())
            .spawn(move || supervise(launch, thread_shared))
            .map_err(io_err("starting the containerd supervisor thread"))?;
        let me = Containerd {
            paths,
            shared,
            thread: Mutex::new(Some(thread)),
            stop_timeout: opts.stop_timeout,
        };
        if let Err(e) = me.wait_ready(opts.ready_timeout).await {
            let _ = me.stop().await;
            return Err(e);
        }
        Ok(me)
    }

    /// Waits until the first child answers CRI `Version`, or fails when it exits or the time
    /// is up.
    async fn wait_ready(&self, timeout: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + timeout;
        let not_ready = |reason: String| Error::NotReady {
            reason,
            log: self.paths.log.clone(),
            tail: log_tail(&self.paths.log, 4096),
        };
        let mut delay = Duration::from_millis(20);
        loop {
            {
                let state = self.shared.lock();
                if let Some(e) = &state.spawn_error {
                    return Err(not_ready(format!("it could not be started: {e}")));
                }
                if let Some(status) = state.last_exit {
                    return Err(not_ready(format!("it exited ({status})")));
                }
            }
            if self.paths.socket.exists()
                && let Ok(mut rt) = client::connect(&self.endpoint()).await
                && rt
                    .runtime
                    .version(VersionRequest {
                        version: "v1".into(),
                    })
                    .await
                    .is_ok()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(not_ready(format!(
                    "CRI did not answer on {} within {timeout:?}",
                    self.paths.socket.display()
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(200));
        }
    }

    /// The CRI endpoint: `unix://<agent>/containerd/containerd.sock`.
    pub fn endpoint(&self) -> String {
        format!("unix://{}", self.paths.socket.display())
    }

    /// The files of this instance.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// The running containerd's PID (none while it is being restarted or after stop).
    pub fn pid(&self) -> Option<u32> {
        self.shared.lock().child.as_ref().map(Child::id)
    }

    /// How many times containerd was started (1 + restarts).
    pub fn starts(&self) -> u64 {
        self.shared.lock().starts
    }

    /// A CRI connection to it.
    pub async fn connect(&self) -> Result<Runtime, Error> {
        Ok(client::connect(&self.endpoint()).await?)
    }

    /// `containerd://1.6.20~ds1`: the runtime name and version as the node reports them.
    pub async fn version(&self) -> Result<String, Error> {
        let mut rt = self.connect().await?;
        Ok(runtime_version(&mut rt).await?)
    }

    /// Stops containerd: SIGTERM, SIGKILL after the stop timeout. Containers keep running.
    /// Idempotent.
    pub async fn stop(&self) -> Result<(), Error> {
        {
            let mut state = self.shared.lock();
            state.stopping = true;
            if let Some(child) = &state.child {
                signal_pid(child.id(), rustix::process::Signal::TERM);
            }
        }
        self.shared.cond.notify_all();
        if !self.wait_finished(self.stop_timeout).await {
            tracing::warn!(
                "containerd did not stop within {:?} of SIGTERM: killing it",
                self.stop_timeout
            );
            self.shared.signal(rustix::process::Signal::KILL);
            self.wait_finished(Duration::from_secs(10)).await;
        }
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = thread
            && self.shared.lock().finished
        {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        Ok(())
    }

    async fn wait_finished(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.shared.lock().finished {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        if !state.finished {
            state.stopping = true;
            if let Some(child) = &state.child {
                signal_pid(child.id(), rustix::process::Signal::TERM);
            }
            drop(state);
            self.shared.cond.notify_all();
        }
    }
}

/// The runtime's `name://version` (`containerd://1.6.20~ds1`), what a Node reports as
/// `status.nodeInfo.containerRuntimeVersion`.
pub async fn runtime_version(rt: &mut Runtime) -> Result<String, client::Error> {
    let v = rt
        .runtime
        .version(VersionRequest {
            version: "v1".into(),
        })
        .await?
        .into_inner();
    Ok(format!("{}://{}", v.runtime_name, v.runtime_version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_strings_are_escaped() {
        assert_eq!(toml_str(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(toml_str("x\ny"), r#""x\u000Ay""#);
    }

    #[test]
    fn config_carries_the_node_settings() {
        let opts = Options::new("/d/agent");
        let paths = Paths::new(&opts.agent_dir);
        let text = config_toml(&opts, &paths, Path::new("/usr/sbin/runc"));
        for want in [
            "version = 2",
            r#"root = "/d/agent/containerd/root""#,
            r#"address = "/d/agent/containerd/containerd.sock""#,
            "restrict_oom_score_adj = true",
            r#"sandbox_image = "localhost/ferrokube/pause:1""#,
            r#"snapshotter = "overlayfs""#,
            r#"runtime_type = "io.containerd.runc.v2""#,
            r#"BinaryName = "/usr/sbin/runc""#,
            "SystemdCgroup = false",
            r#"bin_dir = "/usr/lib/cni""#,
            r#"conf_dir = "/d/agent/cni""#,
            r#"config_path = "/d/agent/containerd/certs.d""#,
            r#"stream_server_address = "127.0.0.1""#,
            r#"stream_server_port = "0""#,
        ] {
            assert!(text.contains(want), "{want:?} missing from\n{text}");
        }
    }

    #[test]
    fn programs_are_found_on_the_given_path_only() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("prog");
        fs::write(&exe, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(dir.path().join("plain"), "").unwrap();
        let path = Some(OsString::from(format!(
            "/nonexistent:{}",
            dir.path().display()
        )));
        assert_eq!(find_program("prog", path.as_ref()), Some(exe));
        assert_eq!(find_program("plain", path.as_ref()), None, "not executable");
        assert_eq!(find_program("containerd", path.as_ref()), None);
    }

    #[test]
    fn log_tail_starts_at_a_line() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        fs::write(&log, "first line\nsecond line\nthird\n").unwrap();
        assert_eq!(log_tail(&log, 1000), "first line\nsecond line\nthird\n");
        assert_eq!(log_tail(&log, 15), "third\n");
        assert_eq!(log_tail(&dir.path().join("none"), 10), "");
    }

    #[test]
    fn liveness_reads_proc() {
        assert!(alive(std::process::id()));
        assert!(!alive(u32::MAX));
    }
}
