//! The kubelet of a ferrokube node.
//!
//! It joins the cluster (a bootstrap token buys a CSR, the CSR a `system:node:<name>` client
//! certificate that it rotates), registers and heartbeats its Node, and makes the pods bound to
//! its node run on a CRI runtime: sandboxes with CNI networking, containers, volumes, probes,
//! cgroups, and the pods' status. Its HTTPS server gives the apiserver logs, exec, attach and
//! port-forward.
//!
//! It is an API client only: everything it knows of the cluster comes from the apiserver over
//! TLS with its node identity, and it never touches storage. It speaks to containers only
//! through CRI (the `cri` crate), never to runc or containerd's own API.

pub mod cgroups;
pub mod cni;
pub mod env;
pub mod eviction;
pub mod identity;
pub mod node;
pub mod objects;
pub mod pods;
pub mod quantity;
pub mod server;
pub mod volumes;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Event, EventSource, Node, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use kube::api::{Api, PostParams};
use tokio::sync::mpsc;

/// How the kubelet runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The Node's name.
    pub node_name: String,
    /// The machine's hostname (the Hostname address).
    pub hostname: String,
    /// The InternalIP (also the address the kubelet serves on).
    pub node_ip: IpAddr,
    /// An ExternalIP, when configured.
    pub external_ip: Option<IpAddr>,
    /// The kubelet's HTTPS port (0: any free port, reported in the Node's daemonEndpoints).
    pub kubelet_port: u16,
    /// Pods this node takes.
    pub max_pods: u32,
    /// Memory reserved for the system besides the eviction threshold, bytes.
    pub reserved_memory: u64,
    /// The version reported in nodeInfo.kubeletVersion.
    pub version: String,
    /// `<data-dir>/agent`.
    pub agent_dir: PathBuf,
    /// Extra node labels.
    pub node_labels: Vec<(String, String)>,
    /// Cluster DNS servers for ClusterFirst pods.
    pub cluster_dns: Vec<String>,
    /// The cluster domain.
    pub cluster_domain: String,
    /// Whether pod traffic leaving the node is masqueraded.
    pub pod_masquerade: bool,
    /// Hard eviction thresholds (node pressure conditions, allocatable).
    pub eviction_hard: node::Thresholds,
    /// The cluster CA (PEM): verifies client certificates at the kubelet's HTTPS server.
    pub client_ca_pem: String,
}

impl Config {
    /// Defaults for an agent directory.
    pub fn new(node_name: &str, agent_dir: &Path, node_ip: IpAddr, version: &str) -> Config {
        Config {
            node_name: node_name.to_string(),
            hostname: node_name.to_string(),
            node_ip,
            external_ip: None,
            kubelet_port: 10250,
            max_pods: 110,
            reserved_memory: 0,
            version: version.to_string(),
            agent_dir: agent_dir.to_path_buf(),
            node_labels: Vec::new(),
            cluster_dns: Vec::new(),
            cluster_domain: "cluster.local".into(),
            pod_masquerade: true,
            eviction_hard: node::Thresholds::default(),
            client_ca_pem: String::new(),
        }
    }
}

/// The runtime's health as the node reports it.
#[derive(Clone, Debug, Default)]
pub struct Health {
    /// Why the runtime is not usable.
    pub runtime_error: Option<String>,
    /// Why the pod network is not ready.
    pub network_error: Option<String>,
    /// `containerd://1.6.20`.
    pub runtime_version: String,
    /// The images the runtime holds.
    pub images: Vec<k8s_openapi::api::core::v1::ContainerImage>,
}

/// One kubelet: its configuration, identity, runtime and shared state.
pub struct Kubelet {
    /// Configuration.
    pub config: Config,
    /// The API client with the node's identity.
    pub client: kube::Client,
    /// The CRI runtime, when one could be reached.
    pub runtime: Option<cri::Runtime>,
    /// Why there is no runtime.
    pub runtime_error: Option<String>,
    /// The machine's cgroups.
    pub cgroups: cgroups::Cgroups,
    /// Pod volumes.
    pub volumes: volumes::VolumeManager,
    /// Nudges the node status loop (a readiness change, the network came up).
    pub status_changed: tokio::sync::Notify,
    /// The pod network.
    pub network: cni::Network,
    /// Pods evicted under node pressure (by UID), with upstream's message.
    pub evictions: parking_lot::Mutex<std::collections::HashMap<String, String>>,
    port: AtomicU16,
    events: mpsc::UnboundedSender<Event>,
    events_rx: parking_lot::Mutex<Option<mpsc::UnboundedReceiver<Event>>>,
}

impl Kubelet {
    /// A kubelet over a client and (maybe) a runtime.
    pub fn new(config: Config, client: kube::Client, runtime: Result<cri::Runtime, String>) -> Arc<Kubelet> {
        let (tx, rx) = mpsc::unbounded_channel();
        let (runtime, runtime_error) = match runtime {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e)),
        };
        let network = cni::Network::for_agent(&config.agent_dir, config.pod_masquerade);
        Arc::new(Kubelet {
            volumes: volumes::VolumeManager::new(client.clone(), config.agent_dir.join("pods"), config.node_name.clone()),
            evictions: parking_lot::Mutex::new(std::collections::HashMap::new()),
            port: AtomicU16::new(config.kubelet_port),
            config,
            client,
            runtime,
            runtime_error,
            cgroups: cgroups::Cgroups::detect(),
            status_changed: tokio::sync::Notify::new(),
            network,
            events: tx,
            events_rx: parking_lot::Mutex::new(Some(rx)),
        })
    }

    /// The port the kubelet serves on.
    pub fn kubelet_port(&self) -> u16 {
        self.port.load(Ordering::Relaxed)
    }

    /// Records the port actually bound.
    pub fn set_kubelet_port(&self, port: u16) {
        self.port.store(port, Ordering::Relaxed);
    }

    /// The CNI conf dir containerd reads.
    pub fn cni_conf_dir(&self) -> PathBuf {
        self.config.agent_dir.join("cni").join("net.d")
    }

    /// Where containers' logs go.
    pub fn pod_logs_dir(&self) -> PathBuf {
        self.config.agent_dir.join("pod-logs")
    }

    /// Asks the runtime how it is.
    pub async fn runtime_health(&self) -> Health {
        let Some(rt) = self.runtime.clone() else {
            return Health { runtime_error: Some(self.runtime_error.clone().unwrap_or_else(|| "no container runtime".into())), ..Default::default() };
        };
        let mut h = Health::default();
        let mut r = rt.runtime.clone();
        match r.version(cri::api::VersionRequest { version: "v1".into() }).await {
            Ok(v) => {
                let v = v.into_inner();
                h.runtime_version = format!("{}://{}", v.runtime_name, v.runtime_version.trim_start_matches('v'));
            }
            Err(e) => h.runtime_error = Some(e.message().to_string()),
        }
        if h.runtime_error.is_none() {
            match r.status(cri::api::StatusRequest { verbose: false }).await {
                Ok(s) => {
                    for c in s.into_inner().status.map(|s| s.conditions).unwrap_or_default() {
                        if !c.status {
                            let text = format!("{}=false reason:{} message:{}", c.r#type, c.reason, c.message);
                            if c.r#type == "NetworkReady" {
                                h.network_error = Some(text);
                            } else {
                                h.runtime_error = Some(text);
                            }
                        }
                    }
                }
                Err(e) => h.runtime_error = Some(e.message().to_string()),
            }
            let mut images = rt.images.clone();
            if let Ok(list) = images.list_images(cri::api::ListImagesRequest { filter: None }).await {
                h.images = node::node_images(list.into_inner().images);
            }
        }
        h
    }

    /// Records an event about a pod (published in the background).
    pub fn event(&self, pod: &Pod, type_: &str, reason: &str, message: &str) {
        let now = jiff::Timestamp::now();
        let ns = pod.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        let ev = Event {
            metadata: kube::api::ObjectMeta {
                name: Some(format!("{pod_name}.{:x}", now.as_nanosecond() as u64)),
                namespace: Some(ns.clone()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                name: Some(pod_name),
                namespace: Some(ns),
                uid: pod.metadata.uid.clone(),
                resource_version: pod.metadata.resource_version.clone(),
                ..Default::default()
            },
            reason: Some(reason.into()),
            message: Some(message.into()),
            type_: Some(type_.into()),
            count: Some(1),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            event_time: Some(MicroTime(now)),
            source: Some(EventSource { component: Some("kubelet".into()), host: Some(self.config.node_name.clone()) }),
            reporting_component: Some("kubelet".into()),
            reporting_instance: Some(self.config.node_name.clone()),
            action: Some(reason.into()),
            ..Default::default()
        };
        let _ = self.events.send(ev);
    }

    async fn publish_events(self: Arc<Self>) {
        let Some(mut rx) = self.events_rx.lock().take() else { return };
        while let Some(ev) = rx.recv().await {
            let ns = ev.metadata.namespace.clone().unwrap_or_default();
            let api: Api<Event> = Api::namespaced(self.client.clone(), &ns);
            if let Err(e) = api.create(&PostParams::default(), &ev).await {
                tracing::debug!(error = %e, "publishing an event");
            }
        }
    }
}

/// Removes what the kubelet keeps for a pod on disk: volumes and the pod directory.
pub async fn cleanup_pod_dirs(k: &Kubelet, uid: &str) {
    if let Err(e) = k.volumes.teardown(uid).await {
        tracing::warn!(pod_uid = %uid, error = %e, "removing the pod's volumes");
    }
    if let Ok(rd) = std::fs::read_dir(k.pod_logs_dir()) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().ends_with(&format!("_{uid}")) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Writes the CNI config once the node has a podCIDR, and keeps it in step.
async fn network_loop(k: Arc<Kubelet>) {
    let api: Api<Node> = Api::all(k.client.clone());
    loop {
        if let Ok(n) = api.get(&k.config.node_name).await
            && let Some(cidr) = n.spec.and_then(|s| s.pod_cidr)
        {
            match k.network.write(&k.cni_conf_dir(), &cidr) {
                Ok(true) => {
                    tracing::info!(pod_cidr = %cidr, bridge = %k.network.bridge, "pod network configured");
                    k.status_changed.notify_one();
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "writing the CNI config"),
            }
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

/// The serving certificate: reused from `<agent>/kubelet-serving.{crt,key}` while valid for the
/// node's current addresses, else requested through a `kubernetes.io/kubelet-serving` CSR (which
/// the controller manager approves when its SANs are the Node's addresses); renewed at 80% of
/// its life.
async fn serving_cert_loop(k: Arc<Kubelet>, slot: Arc<server::CertSlot>) {
    let dir = k.config.agent_dir.clone();
    // only the Node's own addresses: the approver checks every SAN against them
    let dns = vec![k.config.hostname.clone()];
    let mut ips = vec![k.config.node_ip];
    ips.extend(k.config.external_ip);
    loop {
        let now = jiff::Timestamp::now().as_second();
        let existing = pki::read_pair(&dir, "kubelet-serving").ok().flatten().filter(|p| {
            pki::cert_info(&p.cert_pem).is_some_and(|i| i.not_after > now + 60 && ips.iter().all(|ip| i.ips.contains(ip)) && dns.iter().all(|d| i.dns_names.contains(d)))
        });
        let pair = match existing {
            Some(p) => p,
            None => {
                let got = async {
                    let (csr, key) = identity::node_csr(&k.config.node_name, &dns, &ips)?;
                    let cert = identity::request(&k.client, &csr, identity::SERVING_SIGNER, &["digital signature", "server auth"], Duration::from_secs(600)).await?;
                    let pair = pki::CertKey { cert_pem: cert, key_pem: key };
                    pki::write_pair(&dir, "kubelet-serving", &pair)?;
                    Ok::<_, identity::Error>(pair)
                };
                match got.await {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(error = %e, "getting the kubelet's serving certificate; retrying");
                        tokio::time::sleep(Duration::from_secs(10)).await;
                        continue;
                    }
                }
            }
        };
        if let Err(e) = slot.set(&pair.cert_pem, &pair.key_pem) {
            tracing::warn!(error = %e, "using the kubelet's serving certificate");
            let _ = std::fs::remove_file(dir.join("kubelet-serving.crt"));
            continue;
        }
        tracing::info!("kubelet serving certificate in place");
        let not_after = pki::cert_info(&pair.cert_pem).map(|i| i.not_after).unwrap_or(now + 3600);
        tokio::time::sleep(identity::renew_in(jiff::Timestamp::now().as_second(), not_after)).await;
        let _ = std::fs::remove_file(dir.join("kubelet-serving.crt"));
    }
}

/// Registers the node and runs the kubelet's loops until the future is dropped.
pub async fn run(k: Arc<Kubelet>) -> Result<(), kube::Error> {
    // the kubelet's port first: the Node reports it
    let listener = match tokio::net::TcpListener::bind((k.config.node_ip, k.config.kubelet_port)).await {
        Ok(l) => {
            k.set_kubelet_port(l.local_addr().map(|a| a.port()).unwrap_or(k.config.kubelet_port));
            Some(l)
        }
        Err(e) => {
            tracing::error!(error = %e, address = %k.config.node_ip, port = k.config.kubelet_port, "the kubelet's HTTPS port is not available: logs, exec and port-forward will not reach this node");
            None
        }
    };
    let node = loop {
        match node::register(&k).await {
            Ok(n) => break n,
            Err(e) => {
                tracing::warn!(error = %e, "registering the node; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    };
    tracing::info!(node = %k.config.node_name, "node registered");
    let uid = node.metadata.uid.unwrap_or_default();
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(k.clone().publish_events());
    tasks.spawn(node::status_loop(k.clone()));
    tasks.spawn(node::lease_loop(k.clone(), uid));
    tasks.spawn(network_loop(k.clone()));
    tasks.spawn(pods::run(k.clone()));
    tasks.spawn(eviction::run(k.clone()));
    if let (Some(listener), Some(runtime)) = (listener, k.runtime.clone()) {
        let slot = Arc::new(server::CertSlot::new());
        tasks.spawn(serving_cert_loop(k.clone(), slot.clone()));
        let ctx = server::ServerContext {
            client: k.client.clone(),
            runtime,
            node_name: k.config.node_name.clone(),
            client_ca_pem: k.config.client_ca_pem.clone(),
            agent_dir: k.config.agent_dir.clone(),
        };
        tasks.spawn(async move {
            if let Err(e) = server::serve(listener, slot, ctx).await {
                tracing::error!(error = %e, "the kubelet's HTTPS server stopped");
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}
