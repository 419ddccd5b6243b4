//! `ferrokube agent` (a node joining a server with a bootstrap token), the agent that
//! `ferrokube server` runs for its own machine, and `ferrokube token create`.
//!
//! Wiring only: the kubelet (crate `kubelet`) and the runtime supervisor (crate `cri`) do the work.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

/// Flags of `ferrokube agent` (and the agent part of `ferrokube server`).
#[derive(clap::Args, Debug, Clone)]
pub struct AgentArgs {
    /// The server to join, `https://HOST:PORT`.
    #[arg(long)]
    pub server: String,
    /// A bootstrap token (`ferrokube token create` prints one); used only to request the node's
    /// certificate.
    #[arg(long, env = "FERROKUBE_TOKEN")]
    pub token: Option<String>,
    /// The cluster CA certificate (the server's `<data-dir>/tls/ca.crt`). Not needed with a
    /// token from `ferrokube token create`, which pins the CA by its hash.
    #[arg(long)]
    pub ca_cert: Option<PathBuf>,
    /// Where the agent keeps its state.
    #[arg(long, default_value = "ferrokube-data")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub node: NodeArgs,
}

/// Node settings shared by `agent` and `server`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct NodeArgs {
    /// The node's name (default: the hostname, lower-cased).
    #[arg(long)]
    pub node_name: Option<String>,
    /// The node's InternalIP, also the address the kubelet serves on (default: for `agent`, this
    /// machine's address on the route to --server; for `server`, the default route's).
    #[arg(long)]
    pub node_ip: Option<IpAddr>,
    /// An ExternalIP to report.
    #[arg(long)]
    pub node_external_ip: Option<IpAddr>,
    /// Extra node labels, `key=value` (repeatable).
    #[arg(long = "node-label")]
    pub node_labels: Vec<String>,
    /// Use this CRI socket instead of starting containerd (`unix:///run/containerd/containerd.sock`).
    #[arg(long)]
    pub container_runtime_endpoint: Option<String>,
    /// The kubelet's HTTPS port (0: any free port).
    #[arg(long, default_value_t = 10250)]
    pub kubelet_port: u16,
    /// Pods the node takes.
    #[arg(long, default_value_t = 110)]
    pub max_pods: u32,
    /// Cluster DNS server for ClusterFirst pods (repeatable).
    #[arg(long = "cluster-dns")]
    pub cluster_dns: Vec<String>,
    /// The cluster's DNS domain.
    #[arg(long, default_value = "cluster.local")]
    pub cluster_domain: String,
    /// Do not masquerade pod traffic leaving the node.
    #[arg(long)]
    pub disable_pod_masquerade: bool,
    /// Hard eviction thresholds, as upstream's kubelet flag.
    #[arg(long, default_value = "memory.available<100Mi,nodefs.available<10%,pid.available<5%")]
    pub eviction_hard: String,
}

/// The kubelet's configuration from the flags.
fn kubelet_config(node: &NodeArgs, agent_dir: &Path) -> anyhow::Result<kubelet::Config> {
    let name = node.node_name.clone().unwrap_or_else(kubelet::node::default_node_name);
    kubelet::identity::validate_node_name(&name).map_err(|e| anyhow::anyhow!("--node-name: {e} (a node name is a DNS subdomain)"))?;
    let ip = node.node_ip.unwrap_or_else(kubelet::node::default_node_ip);
    let version = format!("{}+ferrokube.{}", apiserver::KUBE_VERSION.2, env!("CARGO_PKG_VERSION"));
    let mut cfg = kubelet::Config::new(&name, agent_dir, ip, &version);
    // like upstream's --hostname-override, the node name is also the Hostname address
    cfg.hostname = name.clone();
    cfg.external_ip = node.node_external_ip;
    cfg.kubelet_port = node.kubelet_port;
    cfg.max_pods = node.max_pods;
    cfg.cluster_dns = node.cluster_dns.clone();
    cfg.cluster_domain = node.cluster_domain.clone();
    cfg.pod_masquerade = !node.disable_pod_masquerade;
    cfg.eviction_hard = kubelet::node::Thresholds::parse(&node.eviction_hard).map_err(|e| anyhow::anyhow!("--eviction-hard: {e}"))?;
    for l in &node.node_labels {
        let (k, v) = l.split_once('=').with_context(|| format!("--node-label {l:?}: expected key=value"))?;
        cfg.node_labels.push((k.to_string(), v.to_string()));
    }
    Ok(cfg)
}

/// The container runtime: an existing CRI socket, or a containerd of our own.
pub struct RuntimeHandle {
    /// The supervised containerd, when we started one.
    pub containerd: Option<cri::containerd::Containerd>,
    /// The CRI connection (or why there is none).
    pub runtime: Result<cri::Runtime, String>,
}

async fn start_runtime(node: &NodeArgs, agent_dir: &Path, cni_conf_dir: &Path) -> RuntimeHandle {
    if let Some(ep) = &node.container_runtime_endpoint {
        let runtime = cri::connect(ep).await.map_err(|e| e.to_string());
        return RuntimeHandle { containerd: None, runtime };
    }
    let images_dir = agent_dir.join("images");
    if let Err(e) = cri::images::ensure_pause_image(agent_dir) {
        tracing::warn!(error = %e, "building the pause image");
    }
    let mut opts = cri::containerd::Options::new(agent_dir);
    opts.cni_conf_dir = cni_conf_dir.to_path_buf();
    match cri::containerd::Containerd::start(opts).await {
        Ok(c) => {
            let runtime = c.connect().await.map_err(|e| e.to_string());
            match cri::images::import_dir(&c.endpoint(), &images_dir).await {
                Ok(sum) => {
                    for (file, names) in &sum.imported {
                        tracing::info!(archive = %file.display(), images = ?names, "imported an image archive");
                    }
                    for (file, why) in &sum.failed {
                        tracing::warn!(archive = %file.display(), error = %why, "importing an image archive");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "importing image archives"),
            }
            RuntimeHandle { containerd: Some(c), runtime }
        }
        Err(e) => {
            tracing::error!(error = %e, "the container runtime is not available; the node will report NotReady");
            RuntimeHandle { containerd: None, runtime: Err(e.to_string()) }
        }
    }
}

/// Runs a kubelet with the client in `kubeconfig` until the client certificate needs renewing,
/// then renews it and starts again (the kubelet adopts its running pods).
async fn run_kubelet(cfg: kubelet::Config, server: String, ca_pem: String, mut kubeconfig: String, runtime: Result<cri::Runtime, String>) -> anyhow::Result<()> {
    loop {
        let client = kubelet::identity::client_from_kubeconfig(&kubeconfig).await?;
        let k = kubelet::Kubelet::new(cfg.clone(), client.clone(), runtime.clone());
        let now = jiff::Timestamp::now().as_second();
        let renew = kubelet::identity::client_cert_expiry(&cfg.agent_dir).map(|exp| kubelet::identity::renew_in(now, exp)).unwrap_or(Duration::from_secs(3600 * 24 * 365));
        tracing::info!(node = %cfg.node_name, renew_in_s = renew.as_secs(), "kubelet starting");
        tokio::select! {
            r = kubelet::run(k) => { r?; return Ok(()); }
            () = tokio::time::sleep(renew) => {}
        }
        match kubelet::identity::renew_client(&client, &server, &ca_pem, &cfg.node_name, &cfg.agent_dir).await {
            Ok(text) => {
                tracing::info!("node client certificate renewed");
                kubeconfig = text;
            }
            Err(e) => tracing::warn!(error = %e, "renewing the node client certificate; retrying with the current one"),
        }
    }
}

/// This machine's address on the route to the server at `url` (`https://HOST:PORT`): the
/// address the server reaches this node on when the node is on its network. Nothing is sent.
fn address_towards(url: &str) -> Option<IpAddr> {
    use std::net::ToSocketAddrs;
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next()?;
    let target = if authority.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok() && !authority.ends_with(']')) {
        authority.to_string()
    } else {
        format!("{authority}:443")
    };
    let peer = target.to_socket_addrs().ok()?.next()?;
    let local = if peer.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
    let sock = std::net::UdpSocket::bind(local).ok()?;
    sock.connect(peer).ok()?;
    let ip = sock.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then_some(ip)
}

/// The node's client kubeconfig from a bootstrap token: waits for the server while it cannot be
/// reached (the agent may start first), gives up at once on a refused token or an unverifiable
/// server certificate.
async fn join(args: &AgentArgs, ca_pem: &str, node: &str, agent_dir: &Path) -> anyhow::Result<String> {
    let token = args.token.clone().context("this node has no valid certificate yet: pass --token (`ferrokube token create` on the server prints one)")?;
    let token = kubelet::identity::JoinToken::parse(&token).bootstrap;
    let ca_source = args.ca_cert.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "the CA the join token pins".into());
    let mut backoff = Duration::from_secs(1);
    loop {
        tracing::info!(node = %node, server = %args.server, "requesting the node's certificate with the bootstrap token");
        match kubelet::identity::bootstrap(&args.server, ca_pem, &token, node, agent_dir).await {
            Ok(kc) => return Ok(kc),
            Err(e) if e.is_unreachable() => {
                tracing::warn!(error = %e.chain_text(), retry_in_s = backoff.as_secs(), "the server cannot be reached yet; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
            Err(e) if e.is_tls_failure() => {
                anyhow::bail!(
                    "joining the cluster: {}: the server's certificate could not be verified with {} (is --ca-cert the server's <data-dir>/tls/ca.crt, and is --server an address the server's certificate names?)",
                    e.chain_text(),
                    ca_source
                )
            }
            Err(e) => anyhow::bail!("joining the cluster: {}", e.chain_text()),
        }
    }
}

/// The cluster CA: `--ca-cert`, else the one saved at the first join, else fetched from the
/// server's handshake and accepted only when it has the hash the join token pins (nothing is
/// sent to the server before that). A `--ca-cert` must also match a pinning token.
async fn cluster_ca(args: &AgentArgs, agent_dir: &Path) -> anyhow::Result<String> {
    let saved = agent_dir.join("ca.crt");
    let pin = args.token.as_deref().map(kubelet::identity::JoinToken::parse).and_then(|t| t.ca_hash);
    let from_file = |path: &Path| -> anyhow::Result<String> {
        let pem = std::fs::read_to_string(path).with_context(|| format!("reading the cluster CA {}", path.display()))?;
        if pki::cert_info(&pem).is_none() {
            anyhow::bail!("--ca-cert {}: no PEM certificate in it (the server's <data-dir>/tls/ca.crt is)", path.display());
        }
        Ok(pem)
    };
    let pem = if let Some(path) = &args.ca_cert {
        let pem = from_file(path)?;
        if let Some(hash) = &pin
            && kubelet::identity::JoinToken::secure(&pem, "")?.trim_start_matches("K10").trim_end_matches("::") != hash
        {
            anyhow::bail!("the server's certificate could not be verified: --ca-cert {} is not the cluster CA the join token names", path.display());
        }
        pem
    } else if let Some(hash) = &pin {
        let mut backoff = Duration::from_secs(1);
        loop {
            match kubelet::identity::fetch_pinned_ca(&args.server, hash).await {
                Ok(pem) => break pem,
                Err(e) if e.to_string().contains("connect") => {
                    tracing::warn!(error = %e, retry_in_s = backoff.as_secs(), "the server cannot be reached yet; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
                Err(e) => anyhow::bail!("joining the cluster: {e}"),
            }
        }
    } else if saved.exists() {
        from_file(&saved)?
    } else {
        anyhow::bail!("the cluster CA is unknown: pass the token `ferrokube token create` prints (it pins the CA), or --ca-cert <the server's data-dir>/tls/ca.crt");
    };
    pki::write_file(&saved, pem.as_bytes(), 0o644)?;
    Ok(pem)
}

/// `ferrokube agent`.
pub async fn agent(mut args: AgentArgs) -> anyhow::Result<()> {
    let agent_dir = args.data_dir.join("agent");
    std::fs::create_dir_all(&agent_dir).with_context(|| format!("creating {}", agent_dir.display()))?;
    let ca_pem = cluster_ca(&args, &agent_dir).await?;
    if args.node.node_ip.is_none() {
        args.node.node_ip = address_towards(&args.server);
    }
    let mut cfg = kubelet_config(&args.node, &agent_dir)?;
    cfg.client_ca_pem = ca_pem.clone();
    let now = jiff::Timestamp::now().as_second();
    let valid = kubelet::identity::client_cert_expiry(&agent_dir).is_some_and(|exp| exp > now + 60);
    let current = if valid { kubelet::identity::current_kubeconfig(&agent_dir, &args.server, &ca_pem, &cfg.node_name)? } else { None };
    let kubeconfig = if let Some(kc) = current {
        tracing::info!(node = %cfg.node_name, "using the node's existing client certificate");
        kc
    } else {
        join(&args, &ca_pem, &cfg.node_name, &agent_dir).await?
    };
    let rt = start_runtime(&args.node, &agent_dir, &agent_dir.join("cni").join("net.d")).await;
    let containerd = rt.containerd;
    let run = run_kubelet(cfg, args.server.clone(), ca_pem, kubeconfig, rt.runtime);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let result = tokio::select! {
        r = run => r,
        _ = tokio::signal::ctrl_c() => Ok(()),
        _ = term.recv() => Ok(()),
    };
    if let Some(c) = containerd
        && let Err(e) = c.stop().await
    {
        tracing::warn!(error = %e, "stopping containerd");
    }
    result
}

/// The agent `ferrokube server` runs for its own machine: its first node certificate comes
/// straight from the cluster CA (the server holds it), for the cluster signing duration; it is
/// renewed through a CSR and everything else is as for a joining node.
pub struct LocalAgent {
    task: tokio::task::JoinHandle<()>,
    containerd: Option<cri::containerd::Containerd>,
}

impl LocalAgent {
    /// Starts it.
    pub async fn start(pki: &pki::ClusterPki, server: &str, data_dir: &Path, node: &NodeArgs, signing_seconds: i64) -> anyhow::Result<LocalAgent> {
        let agent_dir = data_dir.join("agent");
        std::fs::create_dir_all(&agent_dir)?;
        let mut cfg = kubelet_config(node, &agent_dir)?;
        let ca_pem = pki.ca.pair.cert_pem.clone();
        cfg.client_ca_pem = ca_pem.clone();
        let now = jiff::Timestamp::now().as_second();
        // a certificate with under a fifth of its life left is replaced now (the loop renews at 80%)
        let valid = kubelet::identity::client_cert_expiry(&agent_dir).is_some_and(|exp| exp > now + (signing_seconds / 5).clamp(10, 3600));
        let current = if valid { kubelet::identity::current_kubeconfig(&agent_dir, server, &ca_pem, &cfg.node_name)? } else { None };
        let kubeconfig = if let Some(kc) = current {
            kc
        } else {
            let user = format!("system:node:{}", cfg.node_name);
            let pair = pki.ca.issue_client_for(&user, &["system:nodes".to_string()], signing_seconds)?;
            kubelet::identity::write_client_kubeconfig(&agent_dir, server, &ca_pem, &cfg.node_name, &pair)?
        };
        let rt = start_runtime(node, &agent_dir, &agent_dir.join("cni").join("net.d")).await;
        let server = server.to_string();
        let task = tokio::spawn(async move {
            if let Err(e) = run_kubelet(cfg, server, ca_pem, kubeconfig, rt.runtime).await {
                tracing::error!(error = %e, "the node agent stopped");
            }
        });
        Ok(LocalAgent { task, containerd: rt.containerd })
    }

    /// Stops the kubelet and containerd (running containers keep running in their shims).
    pub async fn stop(self) {
        self.task.abort();
        if let Some(c) = self.containerd
            && let Err(e) = c.stop().await
        {
            tracing::warn!(error = %e, "stopping containerd");
        }
    }
}

/// `ferrokube token`.
#[derive(clap::Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a bootstrap token a node joins with, and print it.
    Create(TokenCreateArgs),
}

/// Flags of `ferrokube token create`.
#[derive(clap::Args, Debug)]
pub struct TokenCreateArgs {
    /// The server's data directory (its admin kubeconfig is used).
    #[arg(long, default_value = "ferrokube-data")]
    pub data_dir: PathBuf,
    /// How long the token is valid (`24h`, `30m`; `0` for never).
    #[arg(long, default_value = "24h")]
    pub ttl: String,
    /// A description stored with the token.
    #[arg(long, default_value = "ferrokube join token")]
    pub description: String,
}

fn random_chars(n: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..n).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// Creates a `bootstrap.kubernetes.io/token` Secret in kube-system and returns the token
/// (`<id>.<secret>`). A zero `ttl` never expires.
pub async fn create_token(client: &kube::Client, description: &str, ttl: Duration) -> anyhow::Result<String> {
    let id = random_chars(6);
    let secret = random_chars(16);
    let mut data = serde_json::json!({
        "token-id": id,
        "token-secret": secret,
        "usage-bootstrap-authentication": "true",
        "usage-bootstrap-signing": "true",
        "description": description,
    });
    if !ttl.is_zero() {
        let exp = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(ttl.as_secs() as i64);
        data["expiration"] = serde_json::json!(exp.round(jiff::Unit::Second)?.to_string());
    }
    let obj: k8s_openapi::api::core::v1::Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": format!("bootstrap-token-{id}"), "namespace": "kube-system"},
        "type": "bootstrap.kubernetes.io/token",
        "stringData": data,
    }))?;
    let api: kube::Api<k8s_openapi::api::core::v1::Secret> = kube::Api::namespaced(client.clone(), "kube-system");
    api.create(&Default::default(), &obj).await.context("creating the bootstrap token secret")?;
    Ok(format!("{id}.{secret}"))
}

/// `ferrokube token create`: prints a new bootstrap token.
pub async fn token(cmd: TokenCommand) -> anyhow::Result<()> {
    let TokenCommand::Create(args) = cmd;
    let kc_path = args.data_dir.join("admin.kubeconfig");
    let text = std::fs::read_to_string(&kc_path).with_context(|| format!("reading {} (is --data-dir the server's?)", kc_path.display()))?;
    let client = kubelet::identity::client_from_kubeconfig(&text).await?;
    let ttl = crate::datastore::parse_interval(&args.ttl)?;
    let token = create_token(&client, &args.description, ttl).await?;
    let ca = std::fs::read_to_string(args.data_dir.join("tls/ca.crt")).context("reading the cluster CA")?;
    // the join token pins the cluster CA by its hash, so a joining node needs nothing else
    println!("{}", kubelet::identity::JoinToken::secure(&ca, &token)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_address_is_the_one_on_the_route_to_the_server() {
        assert_eq!(address_towards("https://127.0.0.1:6443"), Some("127.0.0.1".parse().unwrap()));
        assert_eq!(address_towards("https://127.0.0.1"), Some("127.0.0.1".parse().unwrap()));
        assert_eq!(address_towards("https://[::1]:6443/"), "::1".parse().ok().filter(|_| std::net::UdpSocket::bind("[::1]:0").is_ok()));
        assert_eq!(address_towards("https://not a host:6443"), None);
    }

    #[test]
    fn bad_node_names_are_refused_at_start() {
        let node = NodeArgs { node_name: Some("Node_1".into()), eviction_hard: "memory.available<100Mi".into(), ..Default::default() };
        let err = kubelet_config(&node, Path::new("/nonexistent")).unwrap_err().to_string();
        assert!(err.contains("--node-name") && err.contains("Node_1"), "{err}");
    }
}
