//! The `ferrokube` binary: parses the command line and wires the roles together. It holds no
//! logic of its own: the apiserver, storage, PKI and controllers live in their crates.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

mod admin;
mod agent;
mod bench;
mod bench_cluster;
mod bench_node;
mod datastore;
mod images;
mod server;
mod simulate;

/// Kubernetes in one binary, secure by default.
#[derive(Parser, Debug)]
#[command(name = "ferrokube", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the control plane (and, unless --disable-agent, a node agent for this machine).
    Server(Box<ServerArgs>),
    /// Measure a ferrokube server (see BENCHMARKS.md).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Print a kubeconfig with a short-lived client certificate for a person.
    Kubeconfig(admin::KubeconfigArgs),
    /// Encryption at rest of the running server: status, key rotation, re-encryption.
    #[command(subcommand)]
    SecretsEncrypt(admin::SecretsEncrypt),
    /// Snapshots of the whole cluster: save (while the server runs) and restore.
    #[command(subcommand)]
    Snapshot(datastore::SnapshotCommand),
    /// The datastore: migrate from the embedded store to etcd.
    #[command(subcommand)]
    Datastore(datastore::DatastoreCommand),
    /// Run a node (kubelet on containerd) that joins a server with a bootstrap token.
    Agent(Box<agent::AgentArgs>),
    /// Bootstrap tokens for joining nodes.
    #[command(subcommand)]
    Token(agent::TokenCommand),
    /// Simulated nodes (what KWOK does): N Nodes with Leases and status kept fresh, whose pods
    /// go Running (and Succeeded/Failed per annotation) without containers.
    Sim(SimArgs),
    /// Images without a registry: build the test images, import archives into containerd.
    #[command(subcommand)]
    Images(images::ImagesCommand),
}

/// Flags of `ferrokube sim`.
#[derive(clap::Args, Debug, Clone)]
pub struct SimArgs {
    /// The cluster to join (nodes, leases and pod status are written with its identity).
    #[arg(long)]
    pub kubeconfig: PathBuf,
    /// How many nodes.
    #[arg(long, default_value_t = 1)]
    pub nodes: usize,
    /// Pod capacity of each node.
    #[arg(long, alias = "pods", default_value_t = 110)]
    pub pods_per_node: u32,
    /// Node names are PREFIX<index>.
    #[arg(long, default_value = "sim-")]
    pub name_prefix: String,
    /// Spread the nodes over this many zones (topology.kubernetes.io/zone=zone-<i % zones>).
    #[arg(long, default_value_t = 1)]
    pub zones: usize,
    /// CPU capacity of each node.
    #[arg(long, default_value = "8")]
    pub cpu: String,
    /// Memory capacity of each node.
    #[arg(long, default_value = "32Gi")]
    pub memory: String,
    /// Extra node labels, KEY=VALUE (repeatable).
    #[arg(long = "label")]
    pub labels: Vec<String>,
    /// Seconds between Lease renewals of each node.
    #[arg(long, default_value_t = 10)]
    pub lease_interval_seconds: u64,
    /// Seconds between node status heartbeats.
    #[arg(long, default_value_t = 60)]
    pub status_interval_seconds: u64,
    /// API requests in flight at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// The API: start-up, idle memory, creates, gets, lists, watch fan-out.
    Api(bench::ApiBenchArgs),
    /// The store: writes/s and latency at 1, 100, 1,000 clients against a local etcd; churn.
    Store(bench::StoreBenchArgs),
    /// The scheduler: pods/s from the first pod created to the last bound, N nodes, P pods.
    Scheduler(bench::SchedulerBenchArgs),
    /// The control plane end to end: simulated nodes, one big Deployment, time to all Running.
    Cluster(bench_cluster::ClusterBenchArgs),
    /// A real node: agent idle memory, pod start-up latency against the CRI floor.
    Node(bench_node::NodeBenchArgs),
}

/// Flags of `ferrokube server`.
#[derive(clap::Args, Debug, Clone)]
pub struct ServerArgs {
    /// Where the cluster's state, certificates and kubeconfig live.
    #[arg(long, default_value = "./ferrokube-data")]
    pub data_dir: PathBuf,
    /// Address the API listens on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind_address: IpAddr,
    /// HTTPS port of the API (0 picks a free port).
    #[arg(long, default_value_t = 6443)]
    pub secure_port: u16,
    /// Run no node agent in this process.
    #[arg(long)]
    pub disable_agent: bool,
    /// The agent's node settings (when the agent runs).
    #[command(flatten)]
    pub node: agent::NodeArgs,
    /// Run no scheduler in this process (pods stay Pending unless another scheduler binds them).
    #[arg(long)]
    pub disable_scheduler: bool,
    /// ClusterIP range of services (the first address is the `kubernetes` service).
    #[arg(long, default_value = "10.43.0.0/16")]
    pub service_cluster_ip_range: String,
    /// NodePort range of services.
    #[arg(long, default_value = "30000-32767")]
    pub service_node_port_range: String,
    /// Terminated pods kept before the pod garbage collector deletes the oldest (0: never).
    #[arg(long, default_value_t = 12500)]
    pub terminated_pod_gc_threshold: usize,
    /// Pod IP range of the cluster: each node gets a block of it as `spec.podCIDR`.
    #[arg(long, default_value = "10.42.0.0/16")]
    pub cluster_cidr: String,
    /// Prefix length of each node's pod CIDR block.
    #[arg(long, default_value_t = 24)]
    pub node_cidr_mask_size: u8,
    /// How long a node may go without a heartbeat (Lease renewal or status) before it is
    /// marked unreachable (`40s`).
    #[arg(long, default_value = "40s")]
    pub node_monitor_grace_period: String,
    /// How long the certificates the cluster CA signs for CSRs last (nodes' client and serving
    /// certificates among them); nodes renew theirs at 80% of it. `8760h` (a year) by default.
    #[arg(long, default_value = "8760h")]
    pub cluster_signing_duration: String,
    /// How often the node lifecycle controller checks the nodes' heartbeats (`5s`).
    #[arg(long, default_value = "5s")]
    pub node_monitor_period: String,
    /// Seconds between compactions of storage history; each compaction keeps one interval of
    /// history (watchers may resume from any revision in it).
    #[arg(long, default_value_t = 300)]
    pub compaction_interval_seconds: u64,
    /// The datastore (default: the embedded store in DATA_DIR/db).
    #[command(flatten)]
    pub datastore: datastore::DatastoreArgs,
    /// Save a snapshot into DATA_DIR/snapshots this often (`30m`, `12h`, `1d`; `0`: never).
    #[arg(long, default_value = "12h")]
    pub snapshot_interval: String,
    /// Leader election of the controllers on a shared datastore: how long a lease is valid
    /// (`15s`).
    #[arg(long, default_value = "15s")]
    pub leader_elect_lease_duration: String,
    /// How long the leader keeps trying to renew before it gives up leading (`10s`).
    #[arg(long, default_value = "10s")]
    pub leader_elect_renew_deadline: String,
    /// How often candidates try to acquire, and the leader to renew (`2s`).
    #[arg(long, default_value = "2s")]
    pub leader_elect_retry_period: String,
    /// Keep this many scheduled snapshots.
    #[arg(long, default_value_t = 5)]
    pub snapshot_retention: usize,
    /// Networks (CIDRs, comma-separated or repeated) allowed to connect to the API; connections
    /// from elsewhere are closed before TLS. Default: all.
    #[arg(long)]
    pub api_allowed_cidrs: Vec<String>,
    /// `iss` of ServiceAccount tokens.
    #[arg(long, default_value = apiserver::DEFAULT_ISSUER)]
    pub service_account_issuer: String,
    /// A PodSecurityConfiguration file (defaults: enforce baseline, warn and audit restricted,
    /// kube-system exempt).
    #[arg(long)]
    pub pod_security_config_file: Option<PathBuf>,
    /// An EncryptionConfiguration file (default: DATA_DIR/encryption-config.yaml, created on
    /// first start with secrets under secretbox and a fresh key).
    #[arg(long)]
    pub encryption_provider_config: Option<PathBuf>,
    /// Audit log file (default: DATA_DIR/audit.log; `-` for none).
    #[arg(long)]
    pub audit_log_path: Option<String>,
    /// An audit.k8s.io/v1 Policy file (default: ferrokube's policy, see README).
    #[arg(long)]
    pub audit_policy_file: Option<PathBuf>,
    /// Rotate the audit log at this many megabytes.
    #[arg(long, default_value_t = 100)]
    pub audit_log_maxsize: u64,
    /// Keep this many rotated audit logs.
    #[arg(long, default_value_t = 10)]
    pub audit_log_maxbackup: usize,
    /// Delete rotated audit logs older than this many days.
    #[arg(long, default_value_t = 30)]
    pub audit_log_maxage: u64,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FERROKUBE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = || tokio::runtime::Builder::new_multi_thread().enable_all().build();
    match cli.command {
        Command::Server(args) => rt()?.block_on(server::run(*args)),
        Command::Bench(BenchCommand::Api(args)) => rt()?.block_on(bench::api(args)),
        Command::Bench(BenchCommand::Store(args)) => rt()?.block_on(bench::store(args)),
        Command::Bench(BenchCommand::Cluster(args)) => rt()?.block_on(bench_cluster::run(args)),
        Command::Bench(BenchCommand::Node(args)) => rt()?.block_on(bench_node::run(args)),
        Command::Bench(BenchCommand::Scheduler(args)) => rt()?.block_on(bench::scheduler(args)),
        Command::Kubeconfig(args) => admin::kubeconfig(args),
        Command::SecretsEncrypt(cmd) => rt()?.block_on(admin::secrets_encrypt(cmd)),
        Command::Snapshot(cmd) => rt()?.block_on(datastore::snapshot(cmd)),
        Command::Datastore(datastore::DatastoreCommand::Migrate(args)) => rt()?.block_on(datastore::migrate(args)),
        Command::Images(cmd) => rt()?.block_on(images::run(cmd)),
        // Light by design: one thread runs thousands of simulated nodes.
        Command::Agent(args) => rt()?.block_on(agent::agent(*args)),
        Command::Token(cmd) => rt()?.block_on(agent::token(cmd)),
        Command::Sim(args) => tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(simulate::run(args)),
    }
}
