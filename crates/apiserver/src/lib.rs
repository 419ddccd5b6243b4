//! The Kubernetes API server of ferrokube: the REST API that kubectl, client-go, kube-rs and
//! the official Python client speak, served over HTTPS from a watch cache in front of the
//! revisioned store.
//!
//! Layout: `server` (TLS, authentication, authorization, audit, routing) → `handlers` (HTTP ↔
//! generic operations) → `store` (the generic store, which runs `admission`) → `registry` (one
//! strategy per resource) and `cache` (the watch cache fed by one storage watch). `discovery`
//! and `openapi` are derived from the registry; `auth` answers who may do what.
//!
//! This crate is the only one that touches `storage`. Its generic code must never name a
//! resource: resource knowledge lives in `registry/`, the resource `hooks`, and the policy
//! modules that exist to police particular kinds (`admission/`, `auth/`). It never calls
//! another component: components are API clients (admission webhooks are the user's own
//! servers, called as upstream calls them).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use storage::Backend;

pub mod admission;
pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod cache;
pub mod codec;
pub mod connect;
pub mod context;
pub mod crd;
pub mod crdschema;
pub mod defaults;
pub mod discovery;
pub mod encryption;
pub mod handlers;
pub mod hooks;
pub mod negotiate;
pub mod openapi;
pub mod openapi_v2_proto;
pub mod patch;
pub mod patchmeta;
pub mod printers;
pub mod protobuf;
pub mod registry;
pub mod request;
pub mod response;
pub mod server;
pub mod store;
pub mod subresources;
pub mod validation;

use cache::Caches;
use registry::{Registry, Resource};
use store::Hooks;

/// The Kubernetes version ferrokube serves.
pub const KUBE_VERSION: (&str, &str, &str) = ("1", "32", "v1.32.0");

/// An IPv4 CIDR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    /// Network address.
    pub base: Ipv4Addr,
    /// Prefix length.
    pub prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n`.
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (a, p) = s.split_once('/').ok_or_else(|| format!("{s:?} is not a CIDR (a.b.c.d/n)"))?;
        let base: Ipv4Addr = a.parse().map_err(|_| format!("{s:?}: invalid IPv4 address"))?;
        let prefix: u8 = p.parse().map_err(|_| format!("{s:?}: invalid prefix length"))?;
        if !(8..=30).contains(&prefix) {
            return Err(format!("{s:?}: prefix length must be between 8 and 30"));
        }
        let mask = u32::MAX << (32 - prefix);
        Ok(Cidr { base: Ipv4Addr::from(u32::from(base) & mask), prefix })
    }
    /// Parses any IPv4 CIDR (`/0` to `/32`; a bare address is a `/32`), for access lists.
    pub fn parse_any(s: &str) -> Result<Cidr, String> {
        let (a, p) = s.split_once('/').unwrap_or((s, "32"));
        let base: Ipv4Addr = a.trim().parse().map_err(|_| format!("{s:?}: invalid IPv4 address"))?;
        let prefix: u8 = p.trim().parse().ok().filter(|p| *p <= 32).ok_or_else(|| format!("{s:?}: invalid prefix length"))?;
        let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
        Ok(Cidr { base: Ipv4Addr::from(u32::from(base) & mask), prefix })
    }

    /// Number of addresses.
    pub fn size(&self) -> u32 {
        1u32 << (32 - self.prefix)
    }
    /// The n-th address.
    pub fn nth(&self, n: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.base) + n)
    }
    /// Whether it contains an address.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - self.prefix) };
        u32::from(ip) & mask == u32::from(self.base)
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

/// Apiserver settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on.
    pub bind_address: IpAddr,
    /// HTTPS port (0 = any free port).
    pub secure_port: u16,
    /// Service ClusterIP range.
    pub service_cidr: Cidr,
    /// NodePort range (inclusive).
    pub node_port_range: (u16, u16),
    /// Serving certificate (PEM).
    pub serving_cert: String,
    /// Serving key (PEM).
    pub serving_key: String,
    /// CA that signs client certificates (PEM).
    pub client_ca: String,
    /// ferrokube's own version (for `/version`).
    pub version: String,
    /// How often storage history is compacted (upstream: 5 minutes).
    pub compaction_interval: Duration,
    /// Connections from outside these networks are closed before TLS (empty: all allowed).
    pub allowed_cidrs: Vec<Cidr>,
    /// The key that signs ServiceAccount tokens (none: no token issuing or authentication).
    pub service_account_key: Option<Arc<pki::jwt::SigningKey>>,
    /// `iss` of ServiceAccount tokens.
    pub service_account_issuer: String,
    /// Pod Security admission settings.
    pub pod_security: pod_security_admission::Config,
    /// EncryptionConfiguration file (created with ferrokube's default when missing); `None`:
    /// nothing is encrypted.
    pub encryption_config: Option<std::path::PathBuf>,
    /// Audit log file (`None`: no audit log).
    pub audit_log: Option<std::path::PathBuf>,
    /// Audit policy (ferrokube's default when `None`).
    pub audit_policy: Option<audit::Policy>,
    /// Audit log rotation.
    pub audit_rotation: audit::Rotation,
    /// The client certificate presented to kubelets (`kube-apiserver-kubelet-client`) for
    /// logs, exec, attach, port-forward and `nodes/proxy`; `None`: none is presented, and
    /// kubelets refuse.
    pub kubelet_client: Option<pki::CertKey>,
}

/// The default ServiceAccount token issuer.
pub const DEFAULT_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

impl Config {
    /// The address clients are told to use.
    pub fn advertise_ip(&self) -> IpAddr {
        if self.bind_address.is_unspecified() { IpAddr::V4(Ipv4Addr::LOCALHOST) } else { self.bind_address }
    }
}

/// The running API: registry, storage, caches and settings.
pub struct Api {
    /// All served resources.
    pub registry: Arc<RwLock<Registry>>,
    /// The store (values decrypted and encrypted on the way, see `encryption`).
    pub storage: Arc<dyn Backend>,
    /// The store as it is, encrypted values and all: what snapshots copy.
    pub raw_storage: Arc<dyn Backend>,
    /// The watch caches.
    pub caches: Arc<Caches>,
    /// Settings.
    pub config: Config,
    /// The port actually bound.
    pub port: std::sync::atomic::AtomicU16,
    hooks: HashMap<(String, String), Arc<dyn Hooks>>,
    openapi: openapi::Documents,
    /// ServiceAccount token issuing and validation.
    pub tokens: Option<auth::tokens::TokenIssuer>,
    /// RBAC's decoded view of roles and bindings.
    pub rbac: auth::rbac_index::RbacIndex,
    /// Encryption at rest, when configured.
    pub encryption: Option<Arc<encryption::Encryption>>,
    /// The audit log, when configured.
    pub audit: Option<audit::Auditor>,
    /// Admission webhook configurations.
    pub webhooks: admission::webhook::Index,
}

impl Api {
    /// Looks up a served resource.
    pub fn resource(&self, group: &str, version: &str, plural: &str) -> Option<Arc<Resource>> {
        self.registry.read().get(group, version, plural).cloned()
    }

    /// The hooks of a resource, if any.
    pub fn hooks(&self, res: &Resource) -> Option<Arc<dyn Hooks>> {
        self.hooks.get(&(res.info.group.clone(), res.info.plural.clone())).cloned()
    }

    /// Every object of a built-in v1 resource in a namespace ("" = all), decoded from the watch
    /// cache (admission and authorization read policy objects this way).
    pub fn cached<T: serde::de::DeserializeOwned>(&self, group: &str, plural: &str, namespace: &str) -> Vec<T> {
        self.resource(group, "v1", plural).and_then(|r| self.caches.cache(&r)).map(|c| c.decode_all(namespace)).unwrap_or_default()
    }

    /// The labels of a namespace, from the watch cache (`None`: no such namespace).
    pub fn namespace_labels(&self, name: &str) -> Option<std::collections::BTreeMap<String, String>> {
        let res = self.resource("", "v1", "namespaces")?;
        let cache = self.caches.cache(&res)?;
        cache.get(&res.key("", name)).0.map(|o| o.labels.clone())
    }

    /// The current RBAC snapshot.
    pub fn rbac_snapshot(&self) -> Arc<auth::rbac_index::Snapshot> {
        let caches = ["roles", "clusterroles", "rolebindings", "clusterrolebindings"]
            .map(|p| self.resource("rbac.authorization.k8s.io", "v1", p).and_then(|r| self.caches.cache(&r)));
        match caches {
            [Some(a), Some(b), Some(c), Some(d)] => self.rbac.snapshot(&[a, b, c, d]),
            _ => Arc::new(Default::default()),
        }
    }

    /// The OIDC discovery document of the ServiceAccount issuer.
    pub fn openid_configuration(&self) -> serde_json::Value {
        serde_json::json!({
            "issuer": self.config.service_account_issuer,
            "jwks_uri": format!("https://{}/openid/v1/jwks", self.advertise()),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
        })
    }

    /// `host:port` of the API for clients.
    pub fn advertise(&self) -> String {
        SocketAddr::new(self.config.advertise_ip(), self.port.load(std::sync::atomic::Ordering::Relaxed)).to_string()
    }

    /// The `/version` document.
    pub fn version_info(&self) -> serde_json::Value {
        let (major, minor, git) = KUBE_VERSION;
        serde_json::json!({
            "major": major,
            "minor": minor,
            "gitVersion": format!("{git}+ferrokube.{}", self.config.version),
            "gitCommit": "",
            "gitTreeState": "clean",
            "buildDate": "1970-01-01T00:00:00Z",
            "goVersion": "rust",
            "compiler": "rustc",
            "platform": format!("{}/{}", std::env::consts::OS, match std::env::consts::ARCH { "x86_64" => "amd64", "aarch64" => "arm64", a => a }),
        })
    }
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").finish_non_exhaustive()
    }
}

/// Errors starting the apiserver.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Storage failed.
    #[error("storage: {0}")]
    Storage(#[from] storage::Error),
    /// TLS configuration failed.
    #[error("{0}")]
    Tls(#[from] server::TlsError),
    /// The listener could not be bound.
    #[error("listening on {addr}: {source}")]
    Listen {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The encryption configuration is unusable.
    #[error("encryption at rest: {0}")]
    Encryption(String),
    /// Creating the built-in objects failed.
    #[error("bootstrap: {0}")]
    Bootstrap(apimachinery::ApiError),
}

/// A running apiserver.
pub struct Server {
    /// The API.
    pub api: Arc<Api>,
    /// The bound address.
    pub local_addr: SocketAddr,
}

/// Starts the apiserver: loads the caches from storage, creates built-in objects, listens.
pub async fn start(config: Config, store: Arc<dyn Backend>) -> Result<Server, StartError> {
    let tls = Arc::new(server::tls_config(&config.serving_cert, &config.serving_key, &config.client_ca)?);
    let registry = Arc::new(RwLock::new(Registry::builtin()));
    let raw_storage = store.clone();
    let (store, encryption): (Arc<dyn Backend>, _) = match &config.encryption_config {
        Some(path) => {
            let enc = encryption::Encryption::open(path.clone(), store, encryption::registry_resolver(&registry.read())).map_err(StartError::Encryption)?;
            (Arc::new(encryption::EncryptedBackend(enc.clone())), Some(enc))
        }
        None => (store, None),
    };
    let caches = Caches::start(store.clone(), registry.clone()).await?;
    let addr = SocketAddr::new(config.bind_address, config.secure_port);
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| StartError::Listen { addr, source })?;
    let local_addr = listener.local_addr().map_err(|source| StartError::Listen { addr, source })?;
    let api = Arc::new(Api {
        registry,
        storage: store,
        raw_storage,
        caches,
        port: std::sync::atomic::AtomicU16::new(local_addr.port()),
        hooks: hooks::builtin(&config),
        openapi: openapi::Documents::default(),
        tokens: config.service_account_key.clone().map(|key| auth::tokens::TokenIssuer {
            key,
            issuer: config.service_account_issuer.clone(),
            api_audiences: vec![config.service_account_issuer.clone()],
            max_expiration_seconds: 48 * 3600,
        }),
        rbac: Default::default(),
        webhooks: Default::default(),
        encryption: encryption.clone(),
        audit: match &config.audit_log {
            Some(path) => Some(
                audit::Auditor::open(path.clone(), config.audit_policy.clone().unwrap_or_else(audit::Policy::ferrokube_default), config.audit_rotation.clone())
                    .map_err(|e| StartError::Encryption(format!("audit log {}: {e}", path.display())))?,
            ),
            None => None,
        },
        config,
    });
    if let Some(enc) = encryption {
        tokio::spawn(enc.watch_file());
    }
    bootstrap::run(&api).await.map_err(StartError::Bootstrap)?;
    let crds = crd::Reconciler::new(api.clone());
    crds.initial_sync().await.map_err(StartError::Bootstrap)?;
    tokio::spawn(crds.run());
    tokio::spawn(server::serve(api.clone(), listener, tls));
    tokio::spawn(compaction(api.clone()));
    Ok(Server { api, local_addr })
}

/// Compacts storage history periodically, keeping one interval of history (upstream compacts
/// etcd to the revision seen one interval ago).
async fn compaction(api: Arc<Api>) {
    let mut previous: Option<i64> = None;
    loop {
        tokio::time::sleep(api.config.compaction_interval).await;
        if let Some(rev) = previous
            && let Err(e) = api.storage.compact(rev).await {
                tracing::warn!(error = %e, "compaction failed");
            }
        previous = api.storage.current_revision().await.ok();
    }
}
