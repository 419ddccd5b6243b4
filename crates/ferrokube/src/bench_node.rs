//! `ferrokube bench node`: a real node. A server (no agent of its own) and a separate `ferrokube
//! agent` process joined with a bootstrap token, on this machine's containerd/runc/CNI. It
//! measures the agent's idle memory (containerd apart) and pod start-up latency — from the
//! create call to Running observed by a watch — for N pods created at once with a local image,
//! against the peer floor: the same number of sandboxes and containers made directly through
//! CRI on the same containerd (what the runtime alone costs).

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::watcher;

use crate::bench::{client, rss_kib, start_server};

/// Flags of `ferrokube bench node`.
#[derive(clap::Args, Debug, Clone)]
pub struct NodeBenchArgs {
    /// Pods created at once.
    #[arg(long, default_value_t = 30)]
    pub pods: usize,
    /// Seconds the joined node sits idle before its memory is read.
    #[arg(long, default_value_t = 20)]
    pub idle_seconds: u64,
    /// The pod CIDR of the measured cluster (must not be routed on this machine).
    #[arg(long, default_value = "10.199.0.0/16")]
    pub cluster_cidr: String,
}

struct AgentProc(Child);

impl Drop for AgentProc {
    fn drop(&mut self) {
        // SIGTERM: the agent stops its containerd
        let _ = Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs the benchmark and prints its figures.
pub async fn run(args: NodeBenchArgs) -> anyhow::Result<()> {
    println!("ferrokube bench node: pods={} (busybox, created at once, one node)", args.pods);
    let (server, _) = start_server(&["--cluster-cidr".to_string(), args.cluster_cidr.clone()])?;
    let data = server.kubeconfig.parent().context("data dir")?.to_path_buf();
    let wait = Instant::now();
    while !server.kubeconfig.exists() && wait.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let c = client(&server.kubeconfig).await?;
    let url = std::fs::read_to_string(&server.kubeconfig)?
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: ").map(String::from))
        .context("server url")?;
    let token = crate::agent::create_token(&c, "ferrokube bench node", Duration::from_secs(3600)).await?;

    // the node: a separate agent process with its own containerd
    let agent_data = tempfile::Builder::new().prefix("ferrokube-bench-node").tempdir()?;
    let images = agent_data.path().join("agent").join("images");
    std::fs::create_dir_all(&images)?;
    let built = tokio::task::spawn_blocking({
        let images = images.clone();
        move || cri::images::build_test_images(&images)
    })
    .await??;
    let busybox = built.iter().find(|b| b.name.contains("busybox")).context("busybox image")?.name.clone();
    let t0 = Instant::now();
    let child = Command::new(std::env::current_exe()?)
        .args(["agent", "--server", &url, "--token", &token, "--ca-cert"])
        .arg(data.join("tls/ca.crt"))
        .arg("--data-dir")
        .arg(agent_data.path())
        .args(["--node-name", "bench-node", "--node-ip", "127.0.0.1", "--kubelet-port", "0", "--disable-pod-masquerade", "--eviction-hard", "nodefs.available<1%"])
        .env("FERROKUBE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let agent = AgentProc(child);
    let nodes: Api<Node> = Api::all(c.clone());
    loop {
        if let Ok(n) = nodes.get("bench-node").await {
            let ready = n.status.and_then(|s| s.conditions).unwrap_or_default().iter().any(|c| c.type_ == "Ready" && c.status == "True");
            if ready {
                break;
            }
        }
        if t0.elapsed() > Duration::from_secs(90) {
            bail!("the node did not become Ready within 90 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let join = t0.elapsed();
    println!("join: token → node Ready in {:.2} s (certificate signing, containerd start, image import, CNI)", join.as_secs_f64());

    tokio::time::sleep(Duration::from_secs(args.idle_seconds)).await;
    let agent_kib = rss_kib(agent.0.id())?;
    let containerd_pid: u32 = std::fs::read_to_string(agent_data.path().join("agent/containerd/containerd.pid")).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    let containerd_kib = if containerd_pid > 0 { rss_kib(containerd_pid).unwrap_or(0) } else { 0 };
    println!(
        "idle RSS after {} s: agent {:.1} MiB (goal ≤ 30 MB; k3s agent ≈ 270 MB), containerd {:.1} MiB (apart)",
        args.idle_seconds,
        agent_kib as f64 / 1024.0,
        containerd_kib as f64 / 1024.0
    );

    // pods created at once, Running observed by a watch
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, Instant)>();
    let watch = tokio::spawn({
        let pods = pods.clone();
        async move {
            let mut stream = std::pin::pin!(watcher(pods, watcher::Config::default().labels("bench=node")));
            while let Some(ev) = stream.next().await {
                if let Ok(watcher::Event::Apply(p) | watcher::Event::InitApply(p)) = ev
                    && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
                {
                    let _ = tx.send((p.metadata.name.unwrap_or_default(), Instant::now()));
                }
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut created: HashMap<String, Instant> = HashMap::new();
    let mut creates = Vec::new();
    for i in 0..args.pods {
        let name = format!("bench-{i}");
        let p: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "labels": {"bench": "node"}},
            "spec": {"terminationGracePeriodSeconds": 0, "containers": [{"name": "c", "image": busybox, "command": ["sleep", "3600"]}]}
        }))?;
        let pods = pods.clone();
        creates.push(tokio::spawn(async move {
            let at = Instant::now();
            pods.create(&PostParams::default(), &p).await.map(|_| (name, at))
        }));
    }
    for c in creates {
        let (name, at) = c.await??;
        created.insert(name, at);
    }
    let mut latencies = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while latencies.len() < args.pods {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some((name, at))) => {
                if let Some(c) = created.get(&name) {
                    latencies.entry(name).or_insert(at.duration_since(*c));
                }
            }
            _ => bail!("only {} of {} pods Running within 120 s", latencies.len(), args.pods),
        }
    }
    watch.abort();
    let mut v: Vec<Duration> = latencies.values().copied().collect();
    v.sort();
    let (p50, p99) = (percentile(&v, 0.5), percentile(&v, 0.99));
    println!("pod start-up, create → Running seen by a watch: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (upstream SLO p99 ≤ 5 s; goal ≤ 1 s)", ms(p50), ms(p99), ms(*v.last().unwrap_or(&Duration::ZERO)));
    pods.delete_collection(&DeleteParams::default(), &ListParams::default().labels("bench=node")).await?;
    let t = Instant::now();
    while !pods.list(&ListParams::default().labels("bench=node")).await?.items.is_empty() {
        if t.elapsed() > Duration::from_secs(120) {
            bail!("the bench pods were not gone within 120 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // the peer floor: the same number of sandboxes + containers straight through CRI
    let endpoint = format!("unix://{}", agent_data.path().join("agent/containerd/containerd.sock").display());
    let rt = cri::connect(&endpoint).await?;
    let floor = cri_floor(&rt, &busybox, args.pods, &agent_data.path().join("cri-floor")).await?;
    let mut f = floor.clone();
    f.sort();
    let (f50, f99) = (percentile(&f, 0.5), percentile(&f, 0.99));
    println!("peer floor, CRI directly (RunPodSandbox + CreateContainer + StartContainer, {} at once): p50 {:.0} ms, p99 {:.0} ms", args.pods, ms(f50), ms(f99));
    println!("ratio ferrokube / CRI floor: p50 {:.2}×, p99 {:.2}×", ms(p50) / ms(f50).max(0.001), ms(p99) / ms(f99).max(0.001));
    drop(agent);
    drop(server);
    // the node's CNI bridge stays on the host after its agent: remove it with the temporary node
    let bridge = kubelet::cni::Network::for_agent(&agent_data.path().join("agent"), false).bridge;
    let _ = Command::new("ip").args(["link", "del", &bridge]).status();
    Ok(())
}

/// Starts `n` sandboxes with one container each directly through CRI, concurrently; returns each
/// one's time to a started container, then removes them.
async fn cri_floor(rt: &cri::Runtime, image: &str, n: usize, logs: &std::path::Path) -> anyhow::Result<Vec<Duration>> {
    use cri::api;
    std::fs::create_dir_all(logs)?;
    let mut tasks = Vec::new();
    for i in 0..n {
        let rt = rt.clone();
        let image = image.to_string();
        let logs = logs.join(format!("p{i}"));
        tasks.push(tokio::spawn(async move {
            let mut r = rt.runtime.clone();
            let labels: HashMap<String, String> = HashMap::from([("ferrokube.io/bench".to_string(), "cri-floor".to_string())]);
            let sb = api::PodSandboxConfig {
                metadata: Some(api::PodSandboxMetadata { name: format!("floor-{i}"), uid: format!("floor-{i}-{}", std::process::id()), namespace: "bench".into(), attempt: 0 }),
                hostname: format!("floor-{i}"),
                log_directory: logs.to_string_lossy().into_owned(),
                labels: labels.clone(),
                linux: Some(api::LinuxPodSandboxConfig { cgroup_parent: "/ferrokube-bench".into(), ..Default::default() }),
                ..Default::default()
            };
            let at = Instant::now();
            let id = r.run_pod_sandbox(api::RunPodSandboxRequest { config: Some(sb.clone()), runtime_handler: String::new() }).await?.into_inner().pod_sandbox_id;
            let cfg = api::ContainerConfig {
                metadata: Some(api::ContainerMetadata { name: "c".into(), attempt: 0 }),
                image: Some(api::ImageSpec { image, ..Default::default() }),
                command: vec!["sleep".into(), "3600".into()],
                log_path: "c.log".into(),
                labels,
                ..Default::default()
            };
            let cid = r.create_container(api::CreateContainerRequest { pod_sandbox_id: id.clone(), config: Some(cfg), sandbox_config: Some(sb) }).await?.into_inner().container_id;
            r.start_container(api::StartContainerRequest { container_id: cid }).await?;
            Ok::<_, tonic::Status>((at.elapsed(), id))
        }));
    }
    let mut out = Vec::new();
    let mut ids = Vec::new();
    let mut first_err = None;
    for t in tasks {
        match t.await? {
            Ok((d, id)) => {
                out.push(d);
                ids.push(id);
            }
            Err(e) => first_err = Some(e),
        }
    }
    let mut r = rt.runtime.clone();
    for id in ids {
        let _ = r.stop_pod_sandbox(api::StopPodSandboxRequest { pod_sandbox_id: id.clone() }).await;
        let _ = r.remove_pod_sandbox(api::RemovePodSandboxRequest { pod_sandbox_id: id }).await;
    }
    // the parent cgroup the runtime made for the floor's sandboxes
    for h in std::fs::read_dir("/sys/fs/cgroup").into_iter().flatten().flatten() {
        let _ = std::fs::remove_dir(h.path().join("ferrokube-bench"));
    }
    if let Some(e) = first_err {
        bail!("CRI floor: {e}");
    }
    Ok(out)
}
