//! `ferrokube server`: certificates, storage, the apiserver, the controllers, the scheduler, the
//! kubeconfig.

use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::ServerArgs;

fn node_port_range(s: &str) -> anyhow::Result<(u16, u16)> {
    let (a, b) = s.split_once('-').context("--service-node-port-range must look like 30000-32767")?;
    let (a, b): (u16, u16) = (a.trim().parse()?, b.trim().parse()?);
    if a == 0 || a > b {
        bail!("--service-node-port-range {s}: invalid range");
    }
    Ok((a, b))
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_string()).unwrap_or_else(|_| "localhost".into())
}

/// A kubeconfig for a component identity, as kube-rs reads it.
async fn component_client(pki: &pki::ClusterPki, server: &str, file: &str, user: &str, groups: &[String]) -> anyhow::Result<kube::Client> {
    let pair = pki.client(file, user, groups)?;
    let yaml = pki::kubeconfig(server, "ferrokube", user, &pki.ca.pair.cert_pem, &pair);
    let kc = kube::config::Kubeconfig::from_yaml(&yaml)?;
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default()).await?;
    Ok(kube::Client::try_from(cfg)?)
}

/// The controllers' identities: each runs as `system:serviceaccount:kube-system:<name>`
/// (upstream's --use-service-account-credentials), bound by the default RBAC policy's
/// `system:controller:<name>` role. Adding a controller is a name here and a line in
/// [`ControllerManager::run`].
const CONTROLLER_IDENTITIES: &[&str] = &[
    "namespace-controller",
    "service-account-controller",
    "resourcequota-controller",
    "token-cleaner",
    "certificate-controller",
    "root-ca-cert-publisher",
    "replicaset-controller",
    "replication-controller",
    "deployment-controller",
    "generic-garbage-collector",
    "pod-garbage-collector",
    "clusterrole-aggregation-controller",
    // ferrokube's approver of nodes' serving certificates (bound by rbac's ferrokube policy)
    "kubelet-serving-approver",
    "node-controller",
    "endpoint-controller",
    "endpointslice-controller",
    "disruption-controller",
    "horizontal-pod-autoscaler",
    "ttl-controller",
    "job-controller",
    "ttl-after-finished-controller",
    "cronjob-controller",
    "statefulset-controller",
    "daemon-set-controller",
    "persistent-volume-binder",
    "endpointslicemirroring-controller",
];

/// kube-controller-manager: each controller an API client with its own identity.
#[derive(Clone)]
struct ControllerManager {
    /// `system:kube-controller-manager`: shared informers and the token controller.
    informers: kube::Client,
    clients: Arc<std::collections::BTreeMap<&'static str, kube::Client>>,
    ca: Arc<pki::CertKey>,
    sa_key: Arc<pki::jwt::SigningKey>,
    ca_pem: String,
    terminated_pod_gc_threshold: usize,
    nodes: NodeSettings,
}

/// The node controllers' flags.
#[derive(Clone, Copy, Debug)]
struct NodeSettings {
    cluster_cidr: controllers::nodeipam::Cidr,
    node_cidr_mask_size: u8,
    timing: controllers::nodelifecycle::Timing,
    /// `--cluster-signing-duration` in seconds.
    signing_seconds: i64,
}

impl NodeSettings {
    fn from_args(args: &ServerArgs) -> anyhow::Result<Self> {
        let cluster_cidr = controllers::nodeipam::Cidr::parse(&args.cluster_cidr).map_err(|e| anyhow::anyhow!("--cluster-cidr {e}"))?;
        // fail at start rather than in the controller
        controllers::nodeipam::Allocator::new(cluster_cidr, args.node_cidr_mask_size).map_err(anyhow::Error::msg)?;
        let timing = controllers::nodelifecycle::Timing {
            monitor_period: crate::datastore::parse_interval(&args.node_monitor_period).context("--node-monitor-period")?.max(Duration::from_secs(1)),
            grace_period: crate::datastore::parse_interval(&args.node_monitor_grace_period).context("--node-monitor-grace-period")?.max(Duration::from_secs(1)),
        };
        let signing = crate::datastore::parse_interval(&args.cluster_signing_duration).context("--cluster-signing-duration")?;
        if signing < Duration::from_secs(30) {
            anyhow::bail!("--cluster-signing-duration {:?}: at least 30s (a node must be able to renew before its certificate expires)", args.cluster_signing_duration);
        }
        let signing_seconds = i64::try_from(signing.as_secs()).unwrap_or(i64::MAX);
        Ok(NodeSettings { cluster_cidr, node_cidr_mask_size: args.node_cidr_mask_size, timing, signing_seconds })
    }
}

impl ControllerManager {
    async fn new(
        pki: &pki::ClusterPki,
        url: &str,
        informers: kube::Client,
        sa_key: Arc<pki::jwt::SigningKey>,
        terminated_pod_gc_threshold: usize,
        nodes: NodeSettings,
    ) -> anyhow::Result<Self> {
        let groups = ["system:serviceaccounts".to_string(), "system:serviceaccounts:kube-system".to_string()];
        let mut clients = std::collections::BTreeMap::new();
        for &name in CONTROLLER_IDENTITIES {
            let client = component_client(pki, url, name, &format!("system:serviceaccount:kube-system:{name}"), &groups).await?;
            clients.insert(name, client);
        }
        Ok(ControllerManager {
            informers,
            clients: Arc::new(clients),
            ca: Arc::new(pki.ca.pair.clone()),
            sa_key,
            ca_pem: pki.ca.pair.cert_pem.clone(),
            terminated_pod_gc_threshold,
            nodes,
        })
    }

    /// The client of a controller named in [`CONTROLLER_IDENTITIES`].
    fn client(&self, name: &str) -> kube::Client {
        match self.clients.get(name) {
            Some(c) => c.clone(),
            // CONTROLLER_IDENTITIES and run() are edited together; a test starting the
            // server catches a name missing from the list.
            None => unreachable!("controller identity {name} is not in CONTROLLER_IDENTITIES"),
        }
    }

    /// Runs every controller until this future is dropped (which stops them all).
    async fn run(self) {
        // one watch per kind for every controller below (dropped with them when leadership ends)
        let shared = controllers::stores::Informers::new(self.informers.clone());
        let mut set = tokio::task::JoinSet::new();
        set.spawn(controllers::namespace::run(self.client("namespace-controller")));
        set.spawn(controllers::serviceaccount::run_service_accounts(self.informers.clone(), self.client("service-account-controller")));
        set.spawn(controllers::resourcequota::run(self.client("resourcequota-controller")));
        set.spawn(controllers::tokencleaner::run(self.client("token-cleaner")));
        set.spawn(controllers::replicaset::run_replica_controllers(shared.clone(), self.client("replicaset-controller"), self.client("replication-controller")));
        set.spawn(controllers::deployment::run(shared.clone(), self.client("deployment-controller")));
        set.spawn(controllers::garbagecollector::run(self.client("generic-garbage-collector")));
        set.spawn(controllers::podgc::run(shared.clone(), self.client("pod-garbage-collector"), self.terminated_pod_gc_threshold));
        set.spawn(controllers::tokens::run(self.informers.clone(), self.sa_key.clone(), self.ca_pem.clone()));
        set.spawn(controllers::clusterroleaggregation::run(self.client("clusterrole-aggregation-controller")));
        set.spawn(controllers::persistentvolume::run(shared.clone(), self.client("persistent-volume-binder")));
        set.spawn(controllers::endpointslicemirroring::run(shared.clone(), self.client("endpointslicemirroring-controller")));
        set.spawn(controllers::csrapproving::run_node_client_approver(self.client("certificate-controller")));
        set.spawn(controllers::csrapproving::run_kubelet_serving_approver(self.client("kubelet-serving-approver")));
        match pki::Ca::from_pem((*self.ca).clone()) {
            Ok(ca) => {
                set.spawn(controllers::certificates::run(self.client("certificate-controller"), ca, self.nodes.signing_seconds));
            }
            Err(e) => tracing::error!(error = %e, "the certificate controller cannot load the cluster CA"),
        }
        set.spawn(controllers::serviceaccount::run_root_ca_publisher(
            self.informers.clone(),
            self.client("root-ca-cert-publisher"),
            self.ca_pem.clone(),
        ));
        let n = self.nodes;
        set.spawn(controllers::nodeipam::run(shared.clone(), self.client("node-controller"), n.cluster_cidr, n.node_cidr_mask_size));
        set.spawn(controllers::nodelifecycle::run(shared.clone(), self.client("node-controller"), n.timing));
        set.spawn(controllers::endpoints::run(shared.clone(), self.client("endpoint-controller")));
        set.spawn(controllers::endpointslice::run(shared.clone(), self.client("endpointslice-controller")));
        set.spawn(controllers::disruption::run(shared.clone(), self.client("disruption-controller")));
        set.spawn(controllers::podautoscaler::run(shared.clone(), self.client("horizontal-pod-autoscaler")));
        set.spawn(controllers::ttl::run(shared.clone(), self.client("ttl-controller")));
        set.spawn(controllers::job::run(self.client("job-controller")));
        set.spawn(controllers::cronjob::run(self.client("cronjob-controller")));
        set.spawn(controllers::statefulset::run(self.client("statefulset-controller")));
        set.spawn(controllers::daemonset::run(self.client("daemon-set-controller")));
        set.spawn(controllers::ttlafterfinished::run(self.client("ttl-after-finished-controller")));
        while let Some(r) = set.join_next().await {
            if let Err(e) = r {
                tracing::error!(error = %e, "a controller ended");
            }
        }
    }
}

/// Runs the server until SIGINT/SIGTERM.
pub async fn run(args: ServerArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let dir = &args.data_dir;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    let service_cidr = apiserver::Cidr::parse(&args.service_cluster_ip_range).map_err(anyhow::Error::msg)?;
    let ports = node_port_range(&args.service_node_port_range)?;
    let node_settings = NodeSettings::from_args(&args)?;
    let signing_seconds = node_settings.signing_seconds;

    let host = host_name();
    let mut dns: Vec<String> = vec![
        "localhost".into(),
        "kubernetes".into(),
        "kubernetes.default".into(),
        "kubernetes.default.svc".into(),
        "kubernetes.default.svc.cluster.local".into(),
    ];
    if !dns.contains(&host) {
        dns.push(host);
    }
    let mut ips: Vec<IpAddr> = vec!["127.0.0.1".parse()?, IpAddr::V4(service_cidr.nth(1))];
    if !args.bind_address.is_unspecified() && !ips.contains(&args.bind_address) {
        ips.push(args.bind_address);
    }
    let pki = pki::ClusterPki::load_or_create(&dir.join("tls"), &dns, &ips).context("cluster certificates")?;

    let snapshot_interval = crate::datastore::parse_interval(&args.snapshot_interval).context("--snapshot-interval")?;
    let _lock = crate::datastore::lock_data_dir(dir)?;
    let store = crate::datastore::Store::open(dir, &args.datastore).await?;
    let backend = store.backend();

    let sa_key = Arc::new(pki::jwt::SigningKey::from_pem(&pki.service_account.to_pem())?);
    let config = apiserver::Config {
        bind_address: args.bind_address,
        secure_port: args.secure_port,
        service_cidr,
        node_port_range: ports,
        serving_cert: pki.apiserver.cert_pem.clone(),
        serving_key: pki.apiserver.key_pem.clone(),
        client_ca: pki.ca.pair.cert_pem.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        compaction_interval: Duration::from_secs(args.compaction_interval_seconds.max(1)),
        allowed_cidrs: args
            .api_allowed_cidrs
            .iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| apiserver::Cidr::parse_any(s).map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<Vec<_>>>()?,
        service_account_key: Some(sa_key.clone()),
        service_account_issuer: args.service_account_issuer.clone(),
        audit_log: match args.audit_log_path.as_deref() {
            Some("-") => None,
            Some(p) => Some(p.into()),
            None => Some(dir.join("audit.log")),
        },
        audit_policy: match &args.audit_policy_file {
            None => None,
            Some(f) => Some(
                apiserver::audit::Policy::parse(&std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?)
                    .map_err(anyhow::Error::msg)?,
            ),
        },
        audit_rotation: apiserver::audit::Rotation {
            max_size: args.audit_log_maxsize.max(1) << 20,
            max_backups: args.audit_log_maxbackup,
            max_age_days: args.audit_log_maxage,
        },
        // kubeadm's apiserver-kubelet-client, bound to system:kubelet-api-admin by
        // ferrokube's default policy (not a system:masters certificate)
        kubelet_client: Some(pki.client("apiserver-kubelet-client", "kube-apiserver-kubelet-client", &[]).context("apiserver kubelet client certificate")?),
        encryption_config: Some(args.encryption_provider_config.clone().unwrap_or_else(|| dir.join("encryption-config.yaml"))),
        pod_security: match &args.pod_security_config_file {
            None => pod_security_admission::Config::ferrokube_default(),
            Some(f) => {
                let text = std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
                let value: serde_json::Value = serde_saphyr::from_str(&text).with_context(|| format!("parsing {}", f.display()))?;
                pod_security_admission::Config::from_json(value).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?
            }
        },
    };
    let server = apiserver::start(config, backend).await?;
    let url = format!("https://{}", server.api.advertise());
    let kubeconfig = dir.join("admin.kubeconfig");
    pki::write_file(&kubeconfig, pki::kubeconfig(&url, "ferrokube", "admin", &pki.ca.pair.cert_pem, &pki.admin).as_bytes(), 0o600)?;

    let informers = component_client(&pki, &url, "kube-controller-manager", "system:kube-controller-manager", &[]).await?;
    let kcm = ControllerManager::new(&pki, &url, informers.clone(), sa_key.clone(), args.terminated_pod_gc_threshold, node_settings).await?;
    let (stop_controllers, stopped) = tokio::sync::oneshot::channel::<()>();
    let controllers_done = if store.shared() {
        // Several servers share this datastore: the controllers run on the one holding the
        // kube-controller-manager Lease (upstream's leader election), the others stand by.
        let identity = crate::datastore::server_identity(dir, &host_name())?;
        let timing = controllers::leaderelection::Timing {
            lease_duration: crate::datastore::parse_interval(&args.leader_elect_lease_duration)?,
            renew_deadline: crate::datastore::parse_interval(&args.leader_elect_renew_deadline)?,
            retry_period: crate::datastore::parse_interval(&args.leader_elect_retry_period)?,
        };
        let lock = controllers::leaderelection::LeaseLock {
            namespace: "kube-system".into(),
            name: "kube-controller-manager".into(),
            identity: identity.clone(),
        };
        let elector = controllers::leaderelection::LeaderElector::new(informers, lock, timing)
            .map_err(|e| anyhow::anyhow!("leader election: {e}"))?
            .release_on_cancel(true);
        tracing::info!(identity = %identity, "controllers run on the holder of the kube-system/kube-controller-manager lease");
        tokio::spawn(elector.run(
            async move {
                let _ = stopped.await;
            },
            move || kcm.clone().run(),
        ))
    } else {
        // The embedded store has one server by construction (the data directory is locked).
        tokio::spawn(async move {
            tokio::select! {
                () = kcm.run() => {}
                _ = stopped => {}
            }
        })
    };

    // kube-scheduler: its own identity, bound by the default RBAC policy to the
    // system:kube-scheduler role; on a shared datastore it runs on the holder of the
    // kube-system/kube-scheduler Lease.
    let (stop_scheduler, scheduler_stopped) = tokio::sync::oneshot::channel::<()>();
    let scheduler_done = if args.disable_scheduler {
        None
    } else {
        let client = component_client(&pki, &url, "kube-scheduler", "system:kube-scheduler", &[]).await?;
        Some(if store.shared() {
            let identity = crate::datastore::server_identity(dir, &host_name())?;
            let timing = controllers::leaderelection::Timing {
                lease_duration: crate::datastore::parse_interval(&args.leader_elect_lease_duration)?,
                renew_deadline: crate::datastore::parse_interval(&args.leader_elect_renew_deadline)?,
                retry_period: crate::datastore::parse_interval(&args.leader_elect_retry_period)?,
            };
            let lock = controllers::leaderelection::LeaseLock { namespace: "kube-system".into(), name: "kube-scheduler".into(), identity };
            let elector = controllers::leaderelection::LeaderElector::new(client.clone(), lock, timing)
                .map_err(|e| anyhow::anyhow!("scheduler leader election: {e}"))?
                .release_on_cancel(true);
            tokio::spawn(elector.run(
                async move {
                    let _ = scheduler_stopped.await;
                },
                move || scheduler::run(client.clone()),
            ))
        } else {
            tokio::spawn(async move {
                tokio::select! {
                    () = scheduler::run(client) => {}
                    _ = scheduler_stopped => {}
                }
            })
        })
    };

    if !snapshot_interval.is_zero() {
        tokio::spawn(crate::datastore::scheduled_snapshots(
            dir.clone(),
            server.api.raw_storage.clone(),
            snapshot_interval,
            args.snapshot_retention,
        ));
    }

    // the node agent for this machine: a kubelet with its own node identity, like any other node
    let local_agent = if args.disable_agent {
        None
    } else {
        Some(crate::agent::LocalAgent::start(&pki, &url, dir, &args.node, signing_seconds).await?)
    };
    tracing::info!(
        kubeconfig = %kubeconfig.display(),
        api = %url,
        startup_ms = started.elapsed().as_millis() as u64,
        "ferrokube is ready: kubectl --kubeconfig {}",
        kubeconfig.display()
    );

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
    if let Some(a) = local_agent {
        a.stop().await;
    }
    let _ = stop_controllers.send(());
    let _ = stop_scheduler.send(());
    if let Some(done) = scheduler_done
        && tokio::time::timeout(Duration::from_secs(5), done).await.is_err()
    {
        tracing::warn!("the scheduler did not stop within 5 s");
    }
    if tokio::time::timeout(Duration::from_secs(5), controllers_done).await.is_err() {
        tracing::warn!("the controllers did not stop within 5 s");
    }
    if let crate::datastore::Store::Embedded(s) = &store
        && let Err(e) = s.close().await
    {
        tracing::warn!(error = %e, "closing the store");
    }
    Ok(())
}
