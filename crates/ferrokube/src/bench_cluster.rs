//! `ferrokube bench cluster`: the control plane end to end at scale. A real server, N simulated
//! nodes (`ferrokube sim`, a separate process), one Deployment of R replicas: how long until every
//! pod is bound and Running, the binding rate against upstream's scheduler threshold, and what
//! the server and the simulator cost in memory and CPU.

use std::collections::HashSet;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::TryStreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, PostParams};
use kube::runtime::watcher;

use crate::bench::{client, rss_kib, start_server};

/// Upstream's scheduler-perf CI threshold at 5,000 nodes (pods/s).
const UPSTREAM_THRESHOLD: f64 = 680.0;
/// ferrokube's goal (pods/s): five times upstream's threshold.
const GOAL: f64 = 3400.0;

/// Flags of `ferrokube bench cluster`.
#[derive(clap::Args, Debug, Clone)]
pub struct ClusterBenchArgs {
    /// Simulated nodes.
    #[arg(long, default_value_t = 5000)]
    pub nodes: usize,
    /// Replicas of the Deployment.
    #[arg(long, default_value_t = 10_000)]
    pub replicas: usize,
    /// Seconds to measure the idle cost of the nodes' heartbeats.
    #[arg(long, default_value_t = 20)]
    pub idle_seconds: u64,
    /// An extra flag for the measured server (repeatable).
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    pub server_args: Vec<String>,
}

struct SimProc(Child);

impl Drop for SimProc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// User + system CPU seconds a process has used so far.
fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').context("stat format")?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let (utime, stime): (f64, f64) = (f.get(11).context("utime")?.parse()?, f.get(12).context("stime")?.parse()?);
    Ok((utime + stime) / 100.0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Runs the benchmark and prints its figures.
pub async fn run(args: ClusterBenchArgs) -> anyhow::Result<()> {
    println!("ferrokube bench cluster: nodes={} replicas={} server args={:?}", args.nodes, args.replicas, args.server_args);
    let (server, _) = start_server(&args.server_args)?;
    let server_pid = server.child.id();
    // /readyz answers a moment before the admin kubeconfig is written.
    let wait = Instant::now();
    while !server.kubeconfig.exists() && wait.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let c = client(&server.kubeconfig).await?;

    // The simulated nodes.
    let t0 = Instant::now();
    let mut child = Command::new(std::env::current_exe()?)
        .args(["sim", "--nodes", &args.nodes.to_string(), "--concurrency", "64", "--kubeconfig"])
        .arg(&server.kubeconfig)
        .env("FERROKUBE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().context("sim stdout")?;
    let sim = SimProc(child);
    let sim_pid = sim.0.id();
    let ready = tokio::task::spawn_blocking(move || std::io::BufReader::new(stdout).lines().next()).await?;
    match ready {
        Some(Ok(line)) if line.starts_with("ready:") => {}
        other => bail!("ferrokube sim did not start: {other:?}"),
    }
    let registered = t0.elapsed();
    println!("  {} nodes registered in {:.1} s ({:.0} nodes/s)", args.nodes, registered.as_secs_f64(), args.nodes as f64 / registered.as_secs_f64());

    // Idle: every node renews its Lease every 10 s (measured after the controllers' first work on
    // the new nodes — pod CIDRs, TTL annotations, events — has settled).
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (s0, m0) = (cpu_seconds(sim_pid)?, cpu_seconds(server_pid)?);
    tokio::time::sleep(Duration::from_secs(args.idle_seconds)).await;
    let (s1, m1) = (cpu_seconds(sim_pid)?, cpu_seconds(server_pid)?);
    let idle = args.idle_seconds as f64;
    println!(
        "  idle heartbeats ({} Lease renewals/s): sim {:.1}% of a core, server {:.1}% of a core; RSS sim {:.1} MiB, server {:.1} MiB",
        args.nodes / 10,
        (s1 - s0) / idle * 100.0,
        (m1 - m0) / idle * 100.0,
        mib(rss_kib(sim_pid)?),
        mib(rss_kib(server_pid)?)
    );

    // One Deployment of R replicas, watched until every pod is bound and Running.
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(bool, bool, String)>();
    let watch = tokio::spawn(async move {
        let cfg = watcher::Config::default().labels("app=bench-cluster");
        let mut stream = std::pin::pin!(watcher::watcher(pods, cfg));
        while let Ok(Some(ev)) = stream.try_next().await {
            if let watcher::Event::Apply(p) | watcher::Event::InitApply(p) = ev {
                let bound = p.spec.as_ref().is_some_and(|s| s.node_name.is_some());
                let running = p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
                if tx.send((bound, running, p.metadata.name.unwrap_or_default())).is_err() {
                    return;
                }
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let deploy: Deployment = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "bench-cluster"},
        "spec": {
            "replicas": args.replicas,
            "selector": {"matchLabels": {"app": "bench-cluster"}},
            "template": {
                "metadata": {"labels": {"app": "bench-cluster"}},
                "spec": {"containers": [{"name": "app", "image": "registry.local/app:1.0",
                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]},
            },
        },
    }))?;
    let (c0, cs0) = (cpu_seconds(server_pid)?, cpu_seconds(sim_pid)?);
    let start = Instant::now();
    Api::<Deployment>::namespaced(c.clone(), "default").create(&PostParams::default(), &deploy).await?;
    let (mut bound, mut running) = (HashSet::new(), HashSet::new());
    let (mut all_bound, mut first_bound) = (None, None);
    let deadline = start + Duration::from_secs(1800);
    while running.len() < args.replicas {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(Some((b, r, name))) = tokio::time::timeout(left, rx.recv()).await else {
            bail!("after {:.0} s: {} bound, {} running of {}", start.elapsed().as_secs_f64(), bound.len(), running.len(), args.replicas);
        };
        if b && bound.insert(name.clone()) {
            first_bound.get_or_insert(start.elapsed());
            if bound.len() == args.replicas {
                all_bound = Some(start.elapsed());
            }
        }
        if r {
            running.insert(name);
        }
    }
    let e2e = start.elapsed();
    watch.abort();
    let all_bound = all_bound.unwrap_or(e2e);
    let first = first_bound.unwrap_or_default();
    let rate = args.replicas as f64 / (all_bound - first).as_secs_f64().max(1e-3);
    let (c1, cs1) = (cpu_seconds(server_pid)?, cpu_seconds(sim_pid)?);
    println!(
        "  deployment of {} replicas on {} nodes: all Running after {:.1} s (first pod bound at {:.2} s, all bound at {:.1} s)",
        args.replicas,
        args.nodes,
        e2e.as_secs_f64(),
        first.as_secs_f64(),
        all_bound.as_secs_f64()
    );
    println!(
        "  binding rate {:.0} pods/s: {:.2}x upstream's CI threshold ({UPSTREAM_THRESHOLD:.0} pods/s at 5,000 nodes), {:.2}x the goal ({GOAL:.0} pods/s)",
        rate,
        rate / UPSTREAM_THRESHOLD,
        rate / GOAL
    );
    println!(
        "  control plane: RSS {:.1} MiB, CPU {:.1} s over the rollout; sim: RSS {:.1} MiB, CPU {:.1} s",
        mib(rss_kib(server_pid)?),
        c1 - c0,
        mib(rss_kib(sim_pid)?),
        cs1 - cs0
    );
    drop(sim);
    drop(server);
    Ok(())
}
