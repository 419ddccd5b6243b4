//! `ferrokube sim`: simulated nodes (the `sim` crate) joined to a cluster through a kubeconfig.

use std::time::Duration;

use anyhow::Context;

use crate::SimArgs;

/// Runs the simulated nodes until SIGINT/SIGTERM. Prints `ready: N nodes` on stdout once every
/// node is registered (tests and scripts wait for that line).
pub async fn run(args: SimArgs) -> anyhow::Result<()> {
    let kc = kube::config::Kubeconfig::read_from(&args.kubeconfig).with_context(|| format!("reading {}", args.kubeconfig.display()))?;
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default()).await?;
    let client = kube::Client::try_from(cfg)?;
    let labels = args
        .labels
        .iter()
        .map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).with_context(|| format!("--label {l}: want KEY=VALUE")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let opts = sim::Options {
        nodes: args.nodes,
        name_prefix: args.name_prefix,
        zones: args.zones,
        cpu: args.cpu,
        memory: args.memory,
        pods_per_node: args.pods_per_node,
        lease_interval: Duration::from_secs(args.lease_interval_seconds.max(1)),
        status_interval: Duration::from_secs(args.status_interval_seconds.max(1)),
        concurrency: args.concurrency,
        labels,
    };
    let started = std::time::Instant::now();
    let sim = sim::run(client, opts, |n| {
        println!("ready: {n} nodes");
        tracing::info!(nodes = n, ms = started.elapsed().as_millis() as u64, "simulated nodes registered");
    });
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = sim => r?,
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    Ok(())
}
