//! The containerd supervisor and the image builder against the real containerd of this machine:
//! each test runs its own containerd in its own temporary directory and removes what it made.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cri::api::{
    ContainerConfig, ContainerMetadata, ContainerState, ContainerStatusRequest,
    CreateContainerRequest, ImageSpec, LinuxPodSandboxConfig, LinuxSandboxSecurityContext,
    NamespaceMode, NamespaceOption, PodSandboxConfig, PodSandboxMetadata, RemovePodSandboxRequest,
    RunPodSandboxRequest, StartContainerRequest, StopPodSandboxRequest,
};
use cri::containerd::{Containerd, Options, Paths};
use cri::images;

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
    })
}

fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while alive(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// A temporary directory under /tmp (short: the socket path must fit a unix address).
fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("cri-test")
        .tempdir_in("/tmp")
        .unwrap()
}

/// Removes an (empty) cgroup directory from every cgroup v1 hierarchy.
fn remove_cgroup(path: &str) {
    for hierarchy in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        let dir = hierarchy.path().join(path.trim_start_matches('/'));
        if dir.exists() {
            std::fs::remove_dir(&dir).unwrap_or_else(|e| panic!("removing {}: {e}", dir.display()));
        }
    }
}

fn labels(pod: &str, uid: &str) -> HashMap<String, String> {
    HashMap::from([
        ("io.kubernetes.pod.name".to_string(), pod.to_string()),
        (
            "io.kubernetes.pod.namespace".to_string(),
            "default".to_string(),
        ),
        ("io.kubernetes.pod.uid".to_string(), uid.to_string()),
    ])
}

#[tokio::test]
async fn busybox_echo_runs_in_a_node_network_sandbox() {
    let tmp = tempdir();
    let agent = tmp.path().join("agent");
    let ctrd = Containerd::start(Options::new(&agent)).await.unwrap();
    let pid = ctrd.pid().unwrap();
    assert!(
        ctrd.endpoint().starts_with("unix:///tmp/cri-test"),
        "{}",
        ctrd.endpoint()
    );
    let version = ctrd.version().await.unwrap();
    assert!(version.starts_with("containerd://1."), "{version}");

    // Both test images, built into the agent's images directory and imported from there.
    let images_dir = agent.join("images");
    assert!(images::ensure_pause_image(&agent).unwrap().is_some());
    assert!(
        images::ensure_pause_image(&agent).unwrap().is_none(),
        "built once"
    );
    let built = images::build_test_images(&images_dir).unwrap();
    // Also a gzipped archive, and a file that is no image archive.
    let small = images::ImageSpec {
        name: "localhost/test/small:1".into(),
        entries: vec![images::Entry::file("hello", 0o644, "hi\n")],
        cmd: vec!["/hello".into()],
        ..Default::default()
    };
    let plain = images::write_oci_archive(&small, &tmp.path().join("small.tar")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&std::fs::read(&plain.path).unwrap()).unwrap();
    std::fs::write(images_dir.join("small.tar.gz"), gz.finish().unwrap()).unwrap();
    std::fs::write(images_dir.join("junk.tar"), "no tar").unwrap();
    let summary = images::import_dir(&ctrd.endpoint(), &images_dir).await.unwrap();
    assert_eq!(summary.failed.len(), 1, "{:?}", summary.failed);
    assert!(summary.failed[0].0.ends_with("junk.tar"), "{:?}", summary.failed);
    std::fs::remove_file(images_dir.join("junk.tar")).unwrap();
    let mut names: Vec<String> = summary.imported.iter().flat_map(|(_, n)| n.clone()).collect();
    names.sort();
    let want = [images::BUSYBOX_IMAGE, images::PAUSE_IMAGE, "localhost/test/small:1"];
    assert_eq!(names, want);
    let mut rt = ctrd.connect().await.unwrap();
    for b in &built {
        assert_eq!(
            images::image_id(&mut rt, &b.name).await.unwrap().as_deref(),
            Some(b.config_digest.as_str())
        );
    }
    // Short names resolve like a pod spec's `busybox:1.35`.
    assert!(
        images::image_id(&mut rt, "busybox:1.35")
            .await
            .unwrap()
            .is_some()
    );
    // A second pass finds all unchanged and still present.
    let again = images::import_dir(&ctrd.endpoint(), &images_dir).await.unwrap();
    assert_eq!(again.skipped.len(), 3, "{again:?}");
    assert!(again.imported.is_empty() && again.failed.is_empty(), "{again:?}");
    // Rewritten archives are imported again.
    images::build_test_images(&images_dir).unwrap();
    let third = images::import_dir(&ctrd.endpoint(), &images_dir).await.unwrap();
    assert_eq!((third.imported.len(), third.skipped.len()), (2, 1), "{third:?}");

    // A sandbox in the node's network (no CNI) and a busybox container that says hello.
    let uid = "5a0ab5c1-0000-4000-8000-000000000001";
    // Our own cgroup parent (runc creates it; nothing removes it): removed at the end.
    let cgroup_parent = format!("/ferrokube-cri-test-{}", std::process::id());
    let pod_dir = agent.join("pod-logs").join(format!("default_hello_{uid}"));
    std::fs::create_dir_all(pod_dir.join("echo")).unwrap();
    let sandbox_config = PodSandboxConfig {
        metadata: Some(PodSandboxMetadata {
            name: "hello".into(),
            uid: uid.into(),
            namespace: "default".into(),
            attempt: 0,
        }),
        // runc refuses a hostname without a private UTS namespace: like upstream's kubelet, a
        // node-network sandbox gets none.
        hostname: String::new(),
        log_directory: pod_dir.to_string_lossy().into_owned(),
        labels: labels("hello", uid),
        linux: Some(LinuxPodSandboxConfig {
            cgroup_parent: cgroup_parent.clone(),
            security_context: Some(LinuxSandboxSecurityContext {
                namespace_options: Some(NamespaceOption {
                    network: NamespaceMode::Node as i32,
                    pid: NamespaceMode::Container as i32,
                    ipc: NamespaceMode::Pod as i32,
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
        .run_pod_sandbox(RunPodSandboxRequest {
            config: Some(sandbox_config.clone()),
            runtime_handler: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .pod_sandbox_id;
    let mut container_labels = labels("hello", uid);
    container_labels.insert("io.kubernetes.container.name".into(), "echo".into());
    let container = rt
        .runtime
        .create_container(CreateContainerRequest {
            pod_sandbox_id: sandbox.clone(),
            config: Some(ContainerConfig {
                metadata: Some(ContainerMetadata {
                    name: "echo".into(),
                    attempt: 0,
                }),
                image: Some(ImageSpec {
                    image: images::BUSYBOX_IMAGE.into(),
                    ..Default::default()
                }),
                command: vec!["echo".into(), "hello".into()],
                log_path: "echo/0.log".into(),
                labels: container_labels,
                annotations: HashMap::from([(
                    "io.kubernetes.container.restartCount".to_string(),
                    "0".to_string(),
                )]),
                ..Default::default()
            }),
            sandbox_config: Some(sandbox_config),
        })
        .await
        .unwrap()
        .into_inner()
        .container_id;
    rt.runtime
        .start_container(StartContainerRequest {
            container_id: container.clone(),
        })
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        let status = rt
            .runtime
            .container_status(ContainerStatusRequest {
                container_id: container.clone(),
                verbose: false,
            })
            .await
            .unwrap()
            .into_inner()
            .status
            .unwrap();
        if status.state == ContainerState::ContainerExited as i32 {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "container still {:?}",
            status.state
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.exit_code, 0, "{status:?}");
    let log = std::fs::read_to_string(pod_dir.join("echo/0.log")).unwrap();
    assert!(
        log.lines().any(|l| l.ends_with(" stdout F hello")),
        "log: {log:?}"
    );

    rt.runtime
        .stop_pod_sandbox(StopPodSandboxRequest {
            pod_sandbox_id: sandbox.clone(),
        })
        .await
        .unwrap();
    rt.runtime
        .remove_pod_sandbox(RemovePodSandboxRequest {
            pod_sandbox_id: sandbox,
        })
        .await
        .unwrap();
    drop(rt);
    remove_cgroup(&cgroup_parent);

    ctrd.stop().await.unwrap();
    assert!(
        wait_gone(pid, Duration::from_secs(5)),
        "containerd {pid} still running after stop"
    );
    assert_eq!(ctrd.pid(), None);
    assert!(!ctrd.paths().pidfile.exists());
    ctrd.stop().await.unwrap();
}

#[tokio::test]
async fn a_missing_containerd_is_named_with_its_package() {
    let tmp = tempdir();
    let mut opts = Options::new(tmp.path().join("agent"));
    opts.search_path = Some(OsString::from(tmp.path()));
    let err = Containerd::start(opts).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "containerd was not found on PATH: install it (apt-get install -y containerd runc)"
    );
}

#[tokio::test]
async fn a_crashed_containerd_is_restarted() {
    let tmp = tempdir();
    let ctrd = Containerd::start(Options::new(tmp.path().join("agent")))
        .await
        .unwrap();
    let first = ctrd.pid().unwrap();
    let status = Command::new("kill")
        .args(["-KILL", &first.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(pid) = ctrd.pid().filter(|p| *p != first)
            && ctrd.version().await.is_ok()
        {
            assert_eq!(ctrd.starts(), 2);
            assert_eq!(
                std::fs::read_to_string(&ctrd.paths().pidfile)
                    .unwrap()
                    .trim(),
                pid.to_string()
            );
            break;
        }
        assert!(Instant::now() < deadline, "containerd was not restarted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pid = ctrd.pid().unwrap();
    ctrd.stop().await.unwrap();
    assert!(wait_gone(pid, Duration::from_secs(5)));
}

#[tokio::test]
async fn a_stale_containerd_of_the_same_data_dir_is_stopped() {
    let tmp = tempdir();
    let agent = tmp.path().join("agent");
    // A first run writes the config; then a containerd not supervised by us, as an agent that
    // was killed would leave it, with its pidfile.
    let ctrd = Containerd::start(Options::new(&agent)).await.unwrap();
    ctrd.stop().await.unwrap();
    let paths = Paths::new(&agent);
    let stale = Command::new("containerd")
        .arg("--config")
        .arg(&paths.config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::fs::write(&paths.pidfile, stale.id().to_string()).unwrap();
    // never leave it behind, even when an assertion below fails (std signals a child only
    // while it has not been reaped, so a reused PID is never hit)
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut stale = KillOnDrop(stale);
    let stale_id = stale.0.id();
    // let it become containerd (exec'd, socket up): before that its cmdline is ours, and a
    // process that is not containerd is rightly left alone
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !(paths.socket.exists() && std::fs::read(format!("/proc/{}/cmdline", stale_id)).is_ok_and(|c| String::from_utf8_lossy(&c).contains("containerd"))) {
        assert!(std::time::Instant::now() < deadline, "the stale containerd did not come up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ctrd = Containerd::start(Options::new(&agent)).await.unwrap();
    assert!(
        stale.0.try_wait().unwrap().is_some(),
        "the stale containerd still runs"
    );
    assert_ne!(ctrd.pid(), Some(stale_id));
    ctrd.stop().await.unwrap();

    // An unrelated process in a pidfile is left alone.

    let mut sleeper = Command::new("sleep").arg("60").spawn().unwrap();
    std::fs::write(&paths.pidfile, sleeper.id().to_string()).unwrap();
    let ctrd = Containerd::start(Options::new(&agent)).await.unwrap();
    assert!(alive(sleeper.id()), "an unrelated process was killed");
    ctrd.stop().await.unwrap();
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
}

/// Runs inside a child test process (see below): starts containerd, prints its PID, waits to be
/// killed.
#[tokio::test]
#[ignore = "helper of containerd_dies_with_a_killed_agent"]
async fn helper_agent() {
    let Some(dir) = std::env::var_os("CRI_TEST_AGENT_DIR") else {
        return;
    };
    let ctrd = Containerd::start(Options::new(PathBuf::from(dir)))
        .await
        .unwrap();
    println!("CONTAINERD_PID={}", ctrd.pid().unwrap());
    tokio::time::sleep(Duration::from_secs(120)).await;
    ctrd.stop().await.unwrap();
}

#[test]
fn containerd_dies_with_a_killed_agent() {
    let tmp = tempdir();
    let mut agent = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "helper_agent", "--ignored", "--nocapture"])
        .env("CRI_TEST_AGENT_DIR", tmp.path().join("agent"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(agent.stdout.take().unwrap());
    let pid: u32 = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("CONTAINERD_PID=")
                .map(|p| p.trim().parse().unwrap())
        })
        .expect("the helper did not start containerd");
    assert!(alive(pid));
    agent.kill().unwrap(); // SIGKILL: no stop(), no Drop
    agent.wait().unwrap();
    assert!(
        wait_gone(pid, Duration::from_secs(5)),
        "containerd {pid} outlived its killed agent"
    );
}

#[tokio::test]
async fn a_containerd_that_exits_at_start_is_reported_with_its_log() {
    let tmp = tempdir();
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let fake = bin.join("containerd");
    std::fs::write(&fake, "#!/bin/sh\necho 'level=fatal msg=\"boom: bad config\"' >&2\nexit 3\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    for real in ["/usr/sbin/runc", "/usr/bin/setpriv"] {
        std::os::unix::fs::symlink(real, bin.join(real.rsplit('/').next().unwrap())).unwrap();
    }
    let mut opts = Options::new(tmp.path().join("agent"));
    opts.search_path = Some(bin.into_os_string());
    let err = Containerd::start(opts).await.unwrap_err().to_string();
    assert!(err.contains("exit status: 3"), "{err}");
    assert!(err.contains("boom: bad config"), "{err}");
    assert!(err.contains("containerd.log"), "{err}");
}

#[tokio::test]
async fn containers_survive_a_containerd_restart() {
    let tmp = tempdir();
    let agent = tmp.path().join("agent");
    let ctrd = Containerd::start(Options::new(&agent)).await.unwrap();
    let images_dir = agent.join("images");
    images::build_test_images(&images_dir).unwrap();
    let summary = images::import_dir(&ctrd.endpoint(), &images_dir).await.unwrap();
    assert!(summary.failed.is_empty(), "{summary:?}");

    let uid = "5a0ab5c1-0000-4000-8000-000000000002";
    let cgroup_parent = format!("/ferrokube-cri-test-survive-{}", std::process::id());
    let pod_dir = agent.join("pod-logs").join(format!("default_sleeper_{uid}"));
    std::fs::create_dir_all(pod_dir.join("sleep")).unwrap();
    let sandbox_config = PodSandboxConfig {
        metadata: Some(PodSandboxMetadata { name: "sleeper".into(), uid: uid.into(), namespace: "default".into(), attempt: 0 }),
        log_directory: pod_dir.to_string_lossy().into_owned(),
        labels: labels("sleeper", uid),
        linux: Some(LinuxPodSandboxConfig {
            cgroup_parent: cgroup_parent.clone(),
            security_context: Some(LinuxSandboxSecurityContext {
                namespace_options: Some(NamespaceOption { network: NamespaceMode::Node as i32, ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut rt = ctrd.connect().await.unwrap();
    let sandbox = rt
        .runtime
        .run_pod_sandbox(RunPodSandboxRequest { config: Some(sandbox_config.clone()), runtime_handler: String::new() })
        .await
        .unwrap()
        .into_inner()
        .pod_sandbox_id;
    let container = rt
        .runtime
        .create_container(CreateContainerRequest {
            pod_sandbox_id: sandbox.clone(),
            config: Some(ContainerConfig {
                metadata: Some(ContainerMetadata { name: "sleep".into(), attempt: 0 }),
                image: Some(ImageSpec { image: "busybox:1.35".into(), ..Default::default() }),
                command: vec!["sleep".into(), "600".into()],
                log_path: "sleep/0.log".into(),
                ..Default::default()
            }),
            sandbox_config: Some(sandbox_config),
        })
        .await
        .unwrap()
        .into_inner()
        .container_id;
    rt.runtime.start_container(StartContainerRequest { container_id: container.clone() }).await.unwrap();
    let status = |rt: &mut cri::Runtime| {
        let mut rt = rt.clone();
        let container = container.clone();
        async move {
            rt.runtime
                .container_status(ContainerStatusRequest { container_id: container, verbose: true })
                .await
                .unwrap()
                .into_inner()
        }
    };
    let before = status(&mut rt).await;
    assert_eq!(before.status.as_ref().unwrap().state, ContainerState::ContainerRunning as i32);
    let info: serde_json::Value = serde_json::from_str(&before.info["info"]).unwrap();
    let pid = u32::try_from(info["pid"].as_u64().unwrap()).unwrap();
    assert!(alive(pid));
    drop(rt);

    ctrd.stop().await.unwrap();
    assert!(alive(pid), "the container died with containerd");
    let ctrd = Containerd::start(Options::new(&agent)).await.unwrap();
    let mut rt = ctrd.connect().await.unwrap();
    let after = status(&mut rt).await;
    assert_eq!(after.status.unwrap().state, ContainerState::ContainerRunning as i32);
    assert!(alive(pid));

    rt.runtime.stop_pod_sandbox(StopPodSandboxRequest { pod_sandbox_id: sandbox.clone() }).await.unwrap();
    rt.runtime.remove_pod_sandbox(RemovePodSandboxRequest { pod_sandbox_id: sandbox }).await.unwrap();
    assert!(wait_gone(pid, Duration::from_secs(5)));
    drop(rt);
    remove_cgroup(&cgroup_parent);
    ctrd.stop().await.unwrap();
}
