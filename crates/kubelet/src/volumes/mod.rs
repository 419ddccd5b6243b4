//! The kubelet's volume manager: materialises a pod's volumes on the node and tells the
//! container runtime what to mount where.
//!
//! Each volume a container mounts lives under `<pods_dir>/<pod-uid>/volumes/<plugin>/<name>`
//! with upstream's plugin directory names (`kubernetes.io~empty-dir`, `~configmap`,
//! `~secret`, `~projected`, `~downward-api`):
//! - `emptyDir`: a directory (mode 0777), or a tmpfs for `medium: Memory` sized as upstream
//!   (the smallest of `sizeLimit`, the pod's memory limit and the node's allocatable memory);
//! - `configMap` (on disk), `secret`, `projected` and `downwardAPI` (each on its own tmpfs, so
//!   secrets never reach the disk): files written by the atomic writer ([`atomic`]), which
//!   [`VolumeManager::refresh`] rewrites in place when the objects change; projected service
//!   account tokens come from the TokenRequest API bound to the pod ([`tokens`]);
//! - `hostPath`: the path itself after upstream's type checks;
//! - `persistentVolumeClaim` and generic `ephemeral` claims bound to a `local` or `hostPath`
//!   PersistentVolume: the volume's path. Other volume types are refused with an error.
//!
//! Volumes no container mounts are skipped, as upstream does. `fsGroup` ownership follows
//! upstream's `SetVolumeOwnership`. Objects are read with the node's identity, one GET each
//! (the Node authorizer allows exactly what the node's pods reference).
//!
//! Errors of [`VolumeManager::setup`] carry upstream's `FailedMount` event text
//! (`MountVolume.SetUp failed for volume "x" : configmap "y" not found`).

pub mod atomic;
pub mod host;
pub mod payload;
pub mod tokens;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use apimachinery::validation::go_quote;
use cri::api::{KeyValue, Mount, MountPropagation};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod, PodSpec, Secret, Volume, VolumeMount,
};
use kube::Api;

use crate::env::{api_message, get_opt};
use crate::objects::ObjectCache;
use atomic::{FileProjection, Payload};

const EMPTY_DIR: &str = "kubernetes.io~empty-dir";
const CONFIG_MAP: &str = "kubernetes.io~configmap";
const SECRET: &str = "kubernetes.io~secret";
const PROJECTED: &str = "kubernetes.io~projected";
const DOWNWARD_API: &str = "kubernetes.io~downward-api";

/// How long the node's allocatable resources are reused before the Node is read again.
const ALLOCATABLE_TTL: Duration = Duration::from_secs(60);

/// Why volumes could not be set up, mounted into a container or torn down.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum VolumeError {
    /// A volume could not be set up; the text is upstream's `FailedMount` event message.
    #[error("MountVolume.SetUp failed for volume \"{volume}\" : {message}")]
    SetUp {
        /// The pod's volume name.
        volume: String,
        /// What went wrong.
        message: String,
    },
    /// A container's volume mounts cannot be made (upstream reports these as
    /// `CreateContainerConfigError`).
    #[error("{0}")]
    Mount(String),
    /// The pod's directory could not be removed.
    #[error("{0}")]
    TearDown(String),
    /// The pod object lacks what volumes need (a UID, a namespace).
    #[error("{0}")]
    InvalidPod(String),
}

/// A volume ready to be mounted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeInfo {
    /// Where it is on the host.
    pub host_path: PathBuf,
    /// Whether every mount of it is read-only (configMap, secret, projected, downwardAPI,
    /// read-only claims).
    pub read_only: bool,
}

/// The volumes of one pod after [`VolumeManager::setup`], and its containers' mounts.
#[derive(Clone, Debug, Default)]
pub struct PodVolumes {
    /// Volume name → where it is.
    pub volumes: BTreeMap<String, VolumeInfo>,
    /// Container name (app, init and ephemeral) → its `volumeMounts`.
    containers: BTreeMap<String, Vec<VolumeMount>>,
}

impl PodVolumes {
    /// The CRI mounts of `container` (app, init or ephemeral): `readOnly`, `subPath` (created
    /// if missing, never leaving the volume), `subPathExpr` expanded against the container's
    /// environment `env`, `mountPropagation`. `recursiveReadOnly: Enabled` is refused (the
    /// runtime cannot do it).
    pub fn mounts(&self, container: &str, env: &[KeyValue]) -> Result<Vec<Mount>, VolumeError> {
        let Some(vms) = self.containers.get(container) else {
            return Err(VolumeError::Mount(format!("container {container:?} is not in the pod")));
        };
        let mut out = Vec::with_capacity(vms.len());
        for vm in vms {
            let vol = self.volumes.get(&vm.name).ok_or_else(|| {
                VolumeError::Mount(format!("cannot find volume {} to mount into container {}", go_quote(&vm.name), go_quote(container)))
            })?;
            let sub = match (vm.sub_path.as_deref().filter(|s| !s.is_empty()), vm.sub_path_expr.as_deref().filter(|s| !s.is_empty())) {
                (Some(s), _) => s.to_string(),
                (None, Some(expr)) => expand_sub_path(expr, env).map_err(VolumeError::Mount)?,
                (None, None) => String::new(),
            };
            let host_path = if sub.is_empty() {
                vol.host_path.clone()
            } else {
                sub_path(&vol.host_path, &sub).map_err(|e| {
                    tracing::warn!(container, volume = %vm.name, error = %e, "subPath");
                    VolumeError::Mount(e)
                })?
            };
            let read_only = vm.read_only == Some(true) || vol.read_only;
            let rro = match vm.recursive_read_only.as_deref() {
                None | Some("") | Some("Disabled") | Some("IfPossible") => false,
                Some("Enabled") if !read_only => {
                    return Err(VolumeError::Mount(format!(
                        "volume {} requested recursive read-only mode, but it is not read-only",
                        go_quote(&vm.name)
                    )));
                }
                Some("Enabled") => {
                    return Err(VolumeError::Mount(format!(
                        "volume {} requested recursive read-only mode, but it is not supported by the runtime",
                        go_quote(&vm.name)
                    )));
                }
                Some(other) => return Err(VolumeError::Mount(format!("unknown recursive read-only mode {}", go_quote(other)))),
            };
            let propagation = match vm.mount_propagation.as_deref() {
                None | Some("None") => MountPropagation::PropagationPrivate,
                Some("HostToContainer") => MountPropagation::PropagationHostToContainer,
                Some("Bidirectional") => MountPropagation::PropagationBidirectional,
                Some(other) => return Err(VolumeError::Mount(format!("invalid MountPropagation mode: {}", go_quote(other)))),
            };
            out.push(Mount {
                container_path: vm.mount_path.clone(),
                host_path: host_path.to_string_lossy().into_owned(),
                readonly: read_only,
                recursive_read_only: rro,
                propagation: propagation as i32,
                ..Default::default()
            });
        }
        Ok(out)
    }
}

/// Upstream's `ExpandContainerVolumeMounts`: every referenced variable must have a value.
fn expand_sub_path(expr: &str, env: &[KeyValue]) -> Result<String, String> {
    let missing = std::cell::RefCell::new(BTreeSet::new());
    let out = crate::env::expand(expr, |k| {
        let v = env.iter().rev().find(|kv| kv.key == k).map(|kv| kv.value.clone()).unwrap_or_default();
        if v.is_empty() {
            missing.borrow_mut().insert(k.to_string());
        }
        Some(v)
    });
    let missing = missing.into_inner();
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(format!("missing value for {}", missing.into_iter().collect::<Vec<_>>().join(", ")))
    }
}

/// The host path of `sub` inside the volume at `root`: missing directories are created with
/// the root's mode, one component at a time, and no component may lead (through a symlink)
/// out of the volume.
fn sub_path(root: &Path, sub: &str) -> Result<PathBuf, String> {
    if sub.starts_with('/') {
        return Err(format!("error SubPath `{sub}` must not be an absolute path"));
    }
    if Path::new(sub).components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(format!("unable to provision SubPath `{sub}`: must not contain '..'"));
    }
    let real_root = std::fs::canonicalize(root).map_err(|e| format!("volume path {}: {e}", root.display()))?;
    let mode = std::fs::metadata(&real_root).map(|m| m.mode() & 0o7777).unwrap_or(0o755);
    let outside = || format!("subpath {} not within volume path {}", go_quote(sub), go_quote(&real_root.to_string_lossy()));
    let mut cur = real_root.clone();
    let comps: Vec<_> = Path::new(sub).components().filter(|c| matches!(c, Component::Normal(_))).collect();
    for c in &comps {
        let next = cur.join(c);
        match std::fs::symlink_metadata(&next) {
            Ok(_) => {
                let real = std::fs::canonicalize(&next).map_err(|e| format!("subpath {}: {e}", go_quote(sub)))?;
                if !real.starts_with(&real_root) {
                    return Err(outside());
                }
                cur = real;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Only directories are created (the last component too, as upstream does).
                std::fs::create_dir(&next).map_err(|e| format!("failed to create subPath directory {}: {e}", go_quote(sub)))?;
                let _ = std::fs::set_permissions(&next, std::fs::Permissions::from_mode(mode));
                cur = next;
            }
            Err(e) => return Err(format!("subpath {}: {e}", go_quote(sub))),
        }
    }
    Ok(cur)
}

/// What setting up one pod needs to know of it.
struct PodCtx<'a> {
    pod: &'a Pod,
    spec: &'a PodSpec,
    namespace: String,
    name: String,
    uid: String,
    fs_group: Option<u32>,
    fs_user: Option<u32>,
}

/// The time source of token renewal (replaceable in tests).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Sets up, refreshes and tears down the volumes of the pods of one node.
pub struct VolumeManager {
    client: kube::Client,
    pods_dir: PathBuf,
    node_name: String,
    tokens: tokens::TokenCache,
    /// Secrets and ConfigMaps the pods' volumes use, kept by single-object watches.
    secrets: ObjectCache<Secret>,
    config_maps: ObjectCache<ConfigMap>,
    clock: Clock,
    locks: parking_lot::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    allocatable: parking_lot::Mutex<Option<(Instant, BTreeMap<String, apimachinery::quantity::Quantity>)>>,
}

impl VolumeManager {
    /// A manager reading objects with `client` (the node's identity) and keeping pods'
    /// volumes under `pods_dir` (`<agent>/pods`).
    pub fn new(client: kube::Client, pods_dir: PathBuf, node_name: String) -> Self {
        VolumeManager {
            secrets: ObjectCache::new(client.clone()),
            config_maps: ObjectCache::new(client.clone()),
            client,
            pods_dir,
            node_name,
            tokens: tokens::TokenCache::default(),
            clock: Arc::new(Timestamp::now),
            locks: parking_lot::Mutex::new(HashMap::new()),
            allocatable: parking_lot::Mutex::new(None),
        }
    }

    /// The same manager with another clock for token renewal decisions.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The directory of the pod `uid` (`<pods_dir>/<uid>`).
    pub fn pod_dir(&self, uid: &str) -> PathBuf {
        self.pods_dir.join(uid)
    }

    fn lock(&self, uid: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.locks.lock().entry(uid.to_string()).or_default().clone()
    }

    /// Materialises every volume the pod's containers mount and returns where they are. All
    /// volumes are attempted; the error is the first failing one's.
    pub async fn setup(&self, pod: &Pod) -> Result<PodVolumes, VolumeError> {
        let ctx = self.ctx(pod)?;
        let lock = self.lock(&ctx.uid);
        let _held = lock.lock().await;
        let used = mounted_volume_names(ctx.spec);
        let mut out = PodVolumes::default();
        let mut first_err = None;
        for v in ctx.spec.volumes.iter().flatten() {
            if !used.contains(v.name.as_str()) {
                continue;
            }
            match self.setup_volume(&ctx, v, false).await {
                Ok(Some(info)) => {
                    out.volumes.insert(v.name.clone(), info);
                }
                Ok(None) => {}
                Err(message) => {
                    tracing::warn!(pod = %format!("{}/{}", ctx.namespace, ctx.name), volume = %v.name, error = %message, "volume setup failed");
                    first_err.get_or_insert(VolumeError::SetUp { volume: v.name.clone(), message });
                }
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        for c in &ctx.spec.containers {
            out.containers.insert(c.name.clone(), c.volume_mounts.clone().unwrap_or_default());
        }
        for c in ctx.spec.init_containers.iter().flatten() {
            out.containers.insert(c.name.clone(), c.volume_mounts.clone().unwrap_or_default());
        }
        for c in ctx.spec.ephemeral_containers.iter().flatten() {
            out.containers.insert(c.name.clone(), c.volume_mounts.clone().unwrap_or_default());
        }
        Ok(out)
    }

    /// Rewrites the contents of the pod's configMap, secret, projected and downwardAPI volumes
    /// when their sources changed (and renews service account tokens past 80% of their
    /// lifetime). Unchanged volumes are not touched; a failing volume keeps its contents.
    pub async fn refresh(&self, pod: &Pod) -> Result<(), VolumeError> {
        let ctx = self.ctx(pod)?;
        let lock = self.lock(&ctx.uid);
        let _held = lock.lock().await;
        let used = mounted_volume_names(ctx.spec);
        let mut first_err = None;
        for v in ctx.spec.volumes.iter().flatten() {
            if !used.contains(v.name.as_str()) {
                continue;
            }
            if let Err(message) = self.setup_volume(&ctx, v, true).await {
                first_err.get_or_insert(VolumeError::SetUp { volume: v.name.clone(), message });
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Drops what the caches hold for the pod `uid` (its tokens, its uses of watched objects).
    fn forget(&self, uid: &str) {
        self.tokens.forget_pod(uid);
        self.secrets.release(uid);
        self.config_maps.release(uid);
    }

    /// How many Secrets and ConfigMaps are watched for the node's pods.
    pub fn watched_objects(&self) -> usize {
        self.secrets.watched() + self.config_maps.watched()
    }

    /// Removes everything under `<pods_dir>/<uid>`, unmounting the tmpfs volumes first. Refuses
    /// to delete while anything below is still mounted.
    pub async fn teardown(&self, uid: &str) -> Result<(), VolumeError> {
        if uid.is_empty() || uid.contains('/') || uid == "." || uid == ".." {
            return Err(VolumeError::InvalidPod(format!("invalid pod UID {uid:?}")));
        }
        let lock = self.lock(uid);
        let held = lock.lock().await;
        let dir = self.pod_dir(uid);
        let real = match std::fs::canonicalize(&dir) {
            Ok(p) => p,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.forget(uid);
                drop(held);
                self.locks.lock().remove(uid);
                return Ok(());
            }
            Err(e) => return Err(VolumeError::TearDown(format!("pod directory {}: {e}", dir.display()))),
        };
        let mounts = host::mounts_under(&real).map_err(|e| VolumeError::TearDown(format!("reading the mount table: {e}")))?;
        for m in &mounts {
            host::unmount(m).await.map_err(VolumeError::TearDown)?;
        }
        let left = host::mounts_under(&real).map_err(|e| VolumeError::TearDown(format!("reading the mount table: {e}")))?;
        if let Some(m) = left.first() {
            return Err(VolumeError::TearDown(format!("{} is still mounted; not removing {}", m.display(), real.display())));
        }
        std::fs::remove_dir_all(&real).map_err(|e| VolumeError::TearDown(format!("removing {}: {e}", real.display())))?;
        self.forget(uid);
        drop(held);
        self.locks.lock().remove(uid);
        Ok(())
    }

    fn ctx<'a>(&self, pod: &'a Pod) -> Result<PodCtx<'a>, VolumeError> {
        let uid = pod.metadata.uid.clone().filter(|u| !u.is_empty() && !u.contains('/') && u != "." && u != "..");
        let uid = uid.ok_or_else(|| VolumeError::InvalidPod("the pod has no valid metadata.uid".to_string()))?;
        let spec = pod.spec.as_ref().ok_or_else(|| VolumeError::InvalidPod("the pod has no spec".to_string()))?;
        let fs_group = spec.security_context.as_ref().and_then(|s| s.fs_group).and_then(|g| u32::try_from(g).ok());
        Ok(PodCtx {
            pod,
            spec,
            namespace: pod.metadata.namespace.clone().unwrap_or_else(|| "default".to_string()),
            name: pod.metadata.name.clone().unwrap_or_default(),
            uid,
            fs_group,
            fs_user: fs_user(spec),
        })
    }

    fn volume_dir(&self, ctx: &PodCtx<'_>, plugin: &str, name: &str) -> PathBuf {
        self.pods_dir.join(&ctx.uid).join("volumes").join(plugin).join(name)
    }

    /// Sets up one volume; with `refresh_only`, only the kinds whose contents follow API
    /// objects (and `None` for the others).
    async fn setup_volume(&self, ctx: &PodCtx<'_>, v: &Volume, refresh_only: bool) -> Result<Option<VolumeInfo>, String> {
        let name = v.name.as_str();
        // A refresh never creates a volume (the pod may have been torn down meanwhile).
        let content_dir = match (&v.config_map, &v.secret, &v.downward_api, &v.projected) {
            (Some(_), ..) => Some(self.volume_dir(ctx, CONFIG_MAP, name)),
            (_, Some(_), ..) => Some(self.volume_dir(ctx, SECRET, name)),
            (_, _, Some(_), _) => Some(self.volume_dir(ctx, DOWNWARD_API, name)),
            (.., Some(_)) => Some(self.volume_dir(ctx, PROJECTED, name)),
            _ => None,
        };
        if refresh_only && content_dir.as_ref().is_none_or(|d| !d.join(atomic::DATA_DIR).exists()) {
            return Ok(None);
        }
        if let Some(src) = &v.config_map {
            let optional = src.optional == Some(true);
            let cm = self.config_maps.get(&ctx.uid, &ctx.namespace, &src.name).await?;
            if cm.is_none() && !optional {
                return Err(format!("configmap {} not found", go_quote(&src.name)));
            }
            let p = payload::config_map(src.items.as_deref(), cm.as_deref(), mode_or_default(src.default_mode), optional)?;
            let dir = self.volume_dir(ctx, CONFIG_MAP, name);
            self.wrapper(ctx, &dir, false).await?;
            self.write(ctx, &dir, &p)?;
            return Ok(Some(VolumeInfo { host_path: dir, read_only: true }));
        }
        if let Some(src) = &v.secret {
            let optional = src.optional == Some(true);
            let secret_name = src.secret_name.clone().unwrap_or_default();
            let s = self.secrets.get(&ctx.uid, &ctx.namespace, &secret_name).await?;
            if s.is_none() && !optional {
                return Err(format!("secret {} not found", go_quote(&secret_name)));
            }
            let p = payload::secret(src.items.as_deref(), s.as_deref(), mode_or_default(src.default_mode), optional)?;
            let dir = self.volume_dir(ctx, SECRET, name);
            self.wrapper(ctx, &dir, true).await?;
            self.write(ctx, &dir, &p)?;
            return Ok(Some(VolumeInfo { host_path: dir, read_only: true }));
        }
        if let Some(src) = &v.downward_api {
            let alloc = self.allocatable().await;
            let p = payload::downward_api(src.items.as_deref().unwrap_or(&[]), ctx.pod, mode_or_default(src.default_mode), &alloc)?;
            let dir = self.volume_dir(ctx, DOWNWARD_API, name);
            self.wrapper(ctx, &dir, true).await?;
            self.write(ctx, &dir, &p)?;
            return Ok(Some(VolumeInfo { host_path: dir, read_only: true }));
        }
        if let Some(src) = &v.projected {
            let p = self.projected_payload(ctx, src).await?;
            let dir = self.volume_dir(ctx, PROJECTED, name);
            self.wrapper(ctx, &dir, true).await?;
            self.write(ctx, &dir, &p)?;
            return Ok(Some(VolumeInfo { host_path: dir, read_only: true }));
        }
        if refresh_only {
            return Ok(None);
        }
        if let Some(src) = &v.empty_dir {
            let dir = self.volume_dir(ctx, EMPTY_DIR, name);
            // Ownership is applied when the directory is new (or its tmpfs newly mounted),
            // not on every sync.
            let fresh = match src.medium.as_deref().unwrap_or("") {
                "" => {
                    let fresh = std::fs::symlink_metadata(&dir).is_err();
                    make_dir_0777(&dir)?;
                    fresh
                }
                "Memory" => {
                    let limit = src.size_limit.as_ref().and_then(|q| apimachinery::quantity::parse(q).ok()).map(|q| q.value());
                    let size = self.memory_size(ctx, limit).await;
                    make_dir_0777(&dir)?;
                    let real = canonical(&dir)?;
                    let was_mounted = host::is_mount_point(&real).map_err(|e| format!("reading the mount table: {e}"))?;
                    host::mount_tmpfs(&real, Some(size)).await?;
                    !was_mounted
                }
                m if m.starts_with("HugePages") => return Err(format!("emptyDir medium {m} is not supported by this node")),
                other => return Err(format!("unknown storage medium {}", go_quote(other))),
            };
            if fresh {
                self.apply_fs_group(ctx, &dir, false)?;
            }
            return Ok(Some(VolumeInfo { host_path: dir, read_only: false }));
        }
        if let Some(src) = &v.host_path {
            let path = PathBuf::from(&src.path);
            host::check_host_path(&path, src.type_.as_deref().unwrap_or(""))?;
            return Ok(Some(VolumeInfo { host_path: path, read_only: false }));
        }
        if let Some(src) = &v.persistent_volume_claim {
            let (path, ro) = self.claim_path(ctx, &src.claim_name, false).await?;
            return Ok(Some(VolumeInfo { host_path: path, read_only: ro || src.read_only == Some(true) }));
        }
        if v.ephemeral.is_some() {
            let claim = format!("{}-{}", ctx.name, name);
            let (path, ro) = self.claim_path(ctx, &claim, true).await?;
            return Ok(Some(VolumeInfo { host_path: path, read_only: ro }));
        }
        Err(format!(
            "volume type {} is not supported by this node (supported: emptyDir, configMap, secret, projected, downwardAPI, hostPath, and persistentVolumeClaim or ephemeral volumes bound to local or hostPath PersistentVolumes)",
            volume_kind(v)
        ))
    }

    /// The directory (0777) a content volume lives in, on a tmpfs for `memory`.
    async fn wrapper(&self, ctx: &PodCtx<'_>, dir: &Path, memory: bool) -> Result<(), String> {
        make_dir_0777(dir)?;
        if memory {
            let real = canonical(dir)?;
            if !host::is_mount_point(&real).map_err(|e| format!("reading the mount table: {e}"))? {
                let size = self.memory_size(ctx, None).await;
                host::mount_tmpfs(&real, Some(size)).await?;
            }
        }
        Ok(())
    }

    fn write(&self, ctx: &PodCtx<'_>, dir: &Path, p: &Payload) -> Result<(), String> {
        let gid = ctx.fs_group;
        atomic::write(dir, p, |d| match gid {
            Some(g) => atomic::set_ownership(d, g, true),
            None => Ok(()),
        })?;
        Ok(())
    }

    fn apply_fs_group(&self, ctx: &PodCtx<'_>, dir: &Path, read_only: bool) -> Result<(), String> {
        match ctx.fs_group {
            Some(g) => atomic::set_ownership(dir, g, read_only).map_err(|e| format!("applying fsGroup {g} to {}: {e}", dir.display())),
            None => Ok(()),
        }
    }

    async fn projected_payload(&self, ctx: &PodCtx<'_>, src: &k8s_openapi::api::core::v1::ProjectedVolumeSource) -> Result<Payload, String> {
        let default_mode = mode_or_default(src.default_mode);
        let mut out = Payload::new();
        let mut errs = Vec::new();
        for s in src.sources.iter().flatten() {
            if let Some(t) = &s.service_account_token {
                let mode = if ctx.fs_user.is_some() || ctx.fs_group.is_some() { 0o600 } else { default_mode };
                let key = tokens::TokenKey {
                    namespace: ctx.namespace.clone(),
                    account: ctx.spec.service_account_name.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "default".to_string()),
                    audience: t.audience.clone().unwrap_or_default(),
                    expiration_seconds: t.expiration_seconds,
                    pod_name: ctx.name.clone(),
                    pod_uid: ctx.uid.clone(),
                };
                match self.tokens.get(&self.client, &key, (self.clock)()).await {
                    Ok(tok) => {
                        let mut f = FileProjection::new(tok.token, mode);
                        f.fs_user = ctx.fs_user;
                        out.insert(t.path.clone(), f);
                    }
                    Err(e) => errs.push(e),
                }
            } else if let Some(c) = &s.config_map {
                let optional = c.optional == Some(true);
                match self.config_maps.get(&ctx.uid, &ctx.namespace, &c.name).await {
                    Ok(None) if !optional => errs.push(format!("configmap {} not found", go_quote(&c.name))),
                    Ok(cm) => match payload::config_map(c.items.as_deref(), cm.as_deref(), default_mode, optional) {
                        Ok(p) => out.extend(p),
                        Err(e) => errs.push(e),
                    },
                    Err(e) => errs.push(e),
                }
            } else if let Some(c) = &s.secret {
                let optional = c.optional == Some(true);
                match self.secrets.get(&ctx.uid, &ctx.namespace, &c.name).await {
                    Ok(None) if !optional => errs.push(format!("secret {} not found", go_quote(&c.name))),
                    Ok(sec) => match payload::secret(c.items.as_deref(), sec.as_deref(), default_mode, optional) {
                        Ok(p) => out.extend(p),
                        Err(e) => errs.push(e),
                    },
                    Err(e) => errs.push(e),
                }
            } else if let Some(d) = &s.downward_api {
                let alloc = self.allocatable().await;
                match payload::downward_api(d.items.as_deref().unwrap_or(&[]), ctx.pod, default_mode, &alloc) {
                    Ok(p) => out.extend(p),
                    Err(e) => errs.push(e),
                }
            } else if s.cluster_trust_bundle.is_some() {
                errs.push("clusterTrustBundle projections are not supported by this node".to_string());
            }
        }
        if errs.is_empty() { Ok(out) } else { Err(payload::aggregate(&errs)) }
    }

    /// The host path of the claim `claim` (bound to a local or hostPath volume) and whether it
    /// is read-only.
    async fn claim_path(&self, ctx: &PodCtx<'_>, claim: &str, ephemeral: bool) -> Result<(PathBuf, bool), String> {
        let ns = &ctx.namespace;
        let pvc = get_opt::<PersistentVolumeClaim>(&self.client, ns, claim)
            .await
            .map_err(|e| format!("error processing PVC {ns}/{claim}: failed to fetch PVC from API server: {e}"))?
            .ok_or_else(|| {
                format!(
                    "error processing PVC {ns}/{claim}: failed to fetch PVC from API server: persistentvolumeclaims {} not found",
                    go_quote(claim)
                )
            })?;
        if ephemeral {
            let owned = pvc.metadata.owner_references.iter().flatten().any(|o| o.controller == Some(true) && o.uid == ctx.uid);
            if !owned {
                return Err(format!("PVC {ns}/{claim} was not created for pod {ns}/{} (pod is not owner)", ctx.name));
            }
        }
        let phase = pvc.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default();
        let volume = pvc.spec.as_ref().and_then(|s| s.volume_name.clone()).unwrap_or_default();
        if phase != "Bound" || volume.is_empty() {
            return Err(format!(
                "PVC {ns}/{claim} has non-bound phase ({}) or empty pvc.Spec.VolumeName ({})",
                go_quote(&phase),
                go_quote(&volume)
            ));
        }
        let api: Api<PersistentVolume> = Api::all(self.client.clone());
        let pv = api
            .get(&volume)
            .await
            .map_err(|e| format!("error processing PVC {ns}/{claim}: failed to fetch PV {} from API server: {}", go_quote(&volume), api_message(e)))?;
        let spec = pv.spec.clone().unwrap_or_default();
        let claim_uid = pvc.metadata.uid.clone().unwrap_or_default();
        match &spec.claim_ref {
            None => {
                return Err(format!(
                    "found PV object {} but it has a nil pv.Spec.ClaimRef indicating it is not yet bound to the claim",
                    go_quote(&volume)
                ));
            }
            Some(r) if r.uid.as_deref().unwrap_or("") != claim_uid => {
                return Err(format!(
                    "found PV object {} but its pv.Spec.ClaimRef.UID ({}) does not point to claim.UID ({})",
                    go_quote(&volume),
                    go_quote(r.uid.as_deref().unwrap_or("")),
                    go_quote(&claim_uid)
                ));
            }
            Some(_) => {}
        }
        let read_only = false;
        if let Some(local) = &spec.local {
            let path = PathBuf::from(&local.path);
            let meta = std::fs::metadata(&path)
                .map_err(|e| format!("local volume {} path {}: {e}", go_quote(&volume), path.display()))?;
            // Like OnRootMismatch: the tree is re-owned only when the root's group differs.
            if let Some(g) = ctx.fs_group
                && meta.gid() != g
            {
                atomic::set_ownership(&path, g, false).map_err(|e| format!("applying fsGroup {g} to {}: {e}", path.display()))?;
            }
            return Ok((path, read_only));
        }
        if let Some(hp) = &spec.host_path {
            let path = PathBuf::from(&hp.path);
            host::check_host_path(&path, hp.type_.as_deref().unwrap_or(""))?;
            return Ok((path, read_only));
        }
        Err(format!(
            "PersistentVolume {} is not a local or hostPath volume; this node mounts only those",
            go_quote(&volume)
        ))
    }

    /// The node's allocatable resources (read at most once a minute).
    async fn allocatable(&self) -> BTreeMap<String, apimachinery::quantity::Quantity> {
        if let Some((at, a)) = self.allocatable.lock().as_ref()
            && at.elapsed() < ALLOCATABLE_TTL
        {
            return a.clone();
        }
        let a = crate::env::node_allocatable(&self.client, &self.node_name).await;
        *self.allocatable.lock() = Some((Instant::now(), a.clone()));
        a
    }

    /// Upstream's `calculateEmptyDirMemorySize`: the node's allocatable memory (the machine's
    /// memory when the Node does not say), lowered to the pod's memory limit and then to the
    /// volume's `sizeLimit` when those are smaller.
    async fn memory_size(&self, ctx: &PodCtx<'_>, size_limit: Option<i64>) -> u64 {
        let node = self
            .allocatable()
            .await
            .get("memory")
            .map(|q| q.value())
            .filter(|v| *v > 0)
            .or_else(machine_memory)
            .unwrap_or(i64::MAX);
        let mut size = node;
        if let Some(l) = pod_memory_limit(ctx.spec).filter(|l| *l > 0 && *l <= size) {
            size = l;
        }
        if let Some(l) = size_limit.filter(|l| *l > 0 && *l <= size) {
            size = l;
        }
        size.max(0) as u64
    }
}

fn mode_or_default(m: Option<i32>) -> i32 {
    m.unwrap_or(payload::DEFAULT_MODE)
}

fn canonical(dir: &Path) -> Result<PathBuf, String> {
    std::fs::canonicalize(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

/// Creates `dir` (and parents) and makes it mode 0777 as upstream's emptyDir does.
fn make_dir_0777(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
    let meta = std::fs::metadata(dir).map_err(|e| format!("stat {}: {e}", dir.display()))?;
    if meta.mode() & 0o777 != 0o777 {
        let mode = (meta.mode() & 0o7000) | 0o777;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).map_err(|e| format!("chmod {}: {e}", dir.display()))?;
    }
    Ok(())
}

/// Names of the volumes some container (app, init or ephemeral) mounts.
fn mounted_volume_names(spec: &PodSpec) -> BTreeSet<&str> {
    let mut out = BTreeSet::new();
    for c in spec.containers.iter().chain(spec.init_containers.iter().flatten()) {
        out.extend(c.volume_mounts.iter().flatten().map(|m| m.name.as_str()));
    }
    for c in spec.ephemeral_containers.iter().flatten() {
        out.extend(c.volume_mounts.iter().flatten().map(|m| m.name.as_str()));
    }
    out
}

/// Upstream's `FsUserFrom`: the `runAsUser` every app and init container runs as, if they all
/// run as the same one.
fn fs_user(spec: &PodSpec) -> Option<u32> {
    let pod_user = spec.security_context.as_ref().and_then(|s| s.run_as_user);
    let mut user: Option<i64> = None;
    for c in spec.init_containers.iter().flatten().chain(spec.containers.iter()) {
        let u = c.security_context.as_ref().and_then(|s| s.run_as_user).or(pod_user)?;
        match user {
            Some(prev) if prev != u => return None,
            _ => user = Some(u),
        }
    }
    user.and_then(|u| u32::try_from(u).ok())
}

/// The pod's memory limit as its cgroup gets it: defined only when every container has one;
/// the app containers' and sidecars' sum, or the largest init container's if that is more.
fn pod_memory_limit(spec: &PodSpec) -> Option<i64> {
    let limit = |c: &k8s_openapi::api::core::v1::Container| {
        c.resources
            .as_ref()
            .and_then(|r| r.limits.as_ref())
            .and_then(|l| l.get("memory"))
            .and_then(|q| apimachinery::quantity::parse(q).ok())
            .map(|q| q.value())
            .filter(|v| *v > 0)
    };
    let mut sum: i64 = 0;
    for c in &spec.containers {
        sum = sum.saturating_add(limit(c)?);
    }
    let mut init_max: i64 = 0;
    let mut sidecars: i64 = 0;
    for c in spec.init_containers.iter().flatten() {
        let l = limit(c)?;
        if c.restart_policy.as_deref() == Some("Always") {
            sidecars = sidecars.saturating_add(l);
            sum = sum.saturating_add(l);
        } else {
            init_max = init_max.max(sidecars.saturating_add(l));
        }
    }
    Some(sum.max(init_max))
}

/// `MemTotal` of /proc/meminfo, in bytes.
fn machine_memory() -> Option<i64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: i64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The name of the volume source `v` uses (for errors).
fn volume_kind(v: &Volume) -> &'static str {
    let kinds: [(&'static str, bool); 20] = [
        ("awsElasticBlockStore", v.aws_elastic_block_store.is_some()),
        ("azureDisk", v.azure_disk.is_some()),
        ("azureFile", v.azure_file.is_some()),
        ("cephfs", v.cephfs.is_some()),
        ("cinder", v.cinder.is_some()),
        ("csi", v.csi.is_some()),
        ("fc", v.fc.is_some()),
        ("flexVolume", v.flex_volume.is_some()),
        ("flocker", v.flocker.is_some()),
        ("gcePersistentDisk", v.gce_persistent_disk.is_some()),
        ("gitRepo", v.git_repo.is_some()),
        ("glusterfs", v.glusterfs.is_some()),
        ("image", v.image.is_some()),
        ("iscsi", v.iscsi.is_some()),
        ("nfs", v.nfs.is_some()),
        ("photonPersistentDisk", v.photon_persistent_disk.is_some()),
        ("portworxVolume", v.portworx_volume.is_some()),
        ("quobyte", v.quobyte.is_some()),
        ("rbd", v.rbd.is_some()),
        ("scaleIO", v.scale_io.is_some()),
    ];
    kinds.iter().find(|(_, set)| *set).map(|(k, _)| *k).unwrap_or(if v.storageos.is_some() {
        "storageos"
    } else if v.vsphere_volume.is_some() {
        "vsphereVolume"
    } else {
        "(none)"
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSecurityContext, ResourceRequirements, SecurityContext};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Q;

    fn with_mem(name: &str, mem: Option<&str>) -> Container {
        Container {
            name: name.into(),
            resources: mem.map(|m| ResourceRequirements {
                limits: Some([("memory".to_string(), Q(m.into()))].into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn pod_memory_limit_needs_every_container() {
        let mut spec = PodSpec { containers: vec![with_mem("a", Some("1Mi")), with_mem("b", Some("2Mi"))], ..Default::default() };
        assert_eq!(pod_memory_limit(&spec), Some(3 << 20));
        spec.init_containers = Some(vec![with_mem("i", Some("8Mi"))]);
        assert_eq!(pod_memory_limit(&spec), Some(8 << 20));
        let mut side = with_mem("s", Some("1Mi"));
        side.restart_policy = Some("Always".into());
        spec.init_containers = Some(vec![side, with_mem("i", Some("2Mi"))]);
        assert_eq!(pod_memory_limit(&spec), Some(4 << 20));
        spec.containers.push(with_mem("c", None));
        assert_eq!(pod_memory_limit(&spec), None);
    }

    #[test]
    fn fs_user_only_when_all_agree() {
        let sc = |u: Option<i64>| Some(SecurityContext { run_as_user: u, ..Default::default() });
        let mut spec = PodSpec {
            security_context: Some(PodSecurityContext { run_as_user: Some(1000), ..Default::default() }),
            containers: vec![Container { name: "a".into(), ..Default::default() }],
            ..Default::default()
        };
        assert_eq!(fs_user(&spec), Some(1000));
        spec.containers.push(Container { name: "b".into(), security_context: sc(Some(1001)), ..Default::default() });
        assert_eq!(fs_user(&spec), None);
        spec.containers[1].security_context = sc(Some(1000));
        assert_eq!(fs_user(&spec), Some(1000));
        spec.security_context = None;
        assert_eq!(fs_user(&spec), None, "a container without a user");
    }

    #[test]
    fn sub_paths_stay_inside_the_volume() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("vol");
        std::fs::create_dir(&root).unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o777)).unwrap();
        let p = sub_path(&root, "a/b").unwrap();
        assert!(p.is_dir());
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o777, "created with the root's mode");
        assert_eq!(p, std::fs::canonicalize(root.join("a/b")).unwrap());
        // A symlink inside the volume to elsewhere inside is fine; one leading out is not.
        std::os::unix::fs::symlink("a", root.join("inside")).unwrap();
        assert_eq!(sub_path(&root, "inside/b").unwrap(), p);
        let outside = t.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("escape")).unwrap();
        let err = sub_path(&root, "escape/x").unwrap_err();
        assert!(err.contains("not within volume path"), "{err}");
        assert!(!outside.join("x").exists(), "nothing created outside");
        std::os::unix::fs::symlink("../../..", root.join("up")).unwrap();
        assert!(sub_path(&root, "up").unwrap_err().contains("not within volume path"));
        assert!(sub_path(&root, "/abs").unwrap_err().contains("must not be an absolute path"));
        assert!(sub_path(&root, "a/../../x").unwrap_err().contains("must not contain '..'"));
    }

    #[test]
    fn sub_path_expr_needs_every_variable() {
        let env = vec![KeyValue { key: "POD".into(), value: "p1".into() }, KeyValue { key: "EMPTY".into(), value: String::new() }];
        assert_eq!(expand_sub_path("logs/$(POD)", &env).unwrap(), "logs/p1");
        assert_eq!(expand_sub_path("$(NOPE)/$(EMPTY)/$(POD)", &env).unwrap_err(), "missing value for EMPTY, NOPE");
    }

    fn pod_volumes(vms: Vec<VolumeMount>) -> (tempfile::TempDir, PodVolumes) {
        let t = tempfile::tempdir().unwrap();
        let mut pv = PodVolumes::default();
        pv.volumes.insert("rw".into(), VolumeInfo { host_path: t.path().to_path_buf(), read_only: false });
        pv.volumes.insert("ro".into(), VolumeInfo { host_path: t.path().to_path_buf(), read_only: true });
        pv.containers.insert("c".into(), vms);
        (t, pv)
    }

    fn vm(name: &str, path: &str) -> VolumeMount {
        VolumeMount { name: name.into(), mount_path: path.into(), ..Default::default() }
    }

    #[test]
    fn container_mounts() {
        let mut a = vm("rw", "/data");
        a.mount_propagation = Some("HostToContainer".into());
        let mut b = vm("ro", "/etc/cfg");
        b.read_only = Some(false);
        let mut c = vm("rw", "/sub");
        c.sub_path_expr = Some("$(X)".into());
        c.read_only = Some(true);
        let (t, pv) = pod_volumes(vec![a, b, c]);
        let m = pv.mounts("c", &[KeyValue { key: "X".into(), value: "x".into() }]).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].container_path, "/data");
        assert_eq!(m[0].host_path, t.path().to_string_lossy());
        assert!(!m[0].readonly);
        assert_eq!(m[0].propagation, MountPropagation::PropagationHostToContainer as i32);
        assert!(m[1].readonly, "configMap-like volumes are always read-only");
        assert_eq!(m[1].propagation, MountPropagation::PropagationPrivate as i32);
        assert!(m[2].readonly);
        assert_eq!(m[2].host_path, std::fs::canonicalize(t.path().join("x")).unwrap().to_string_lossy());
        assert!(pv.mounts("nope", &[]).is_err());

        let mut rro = vm("ro", "/r");
        rro.recursive_read_only = Some("Enabled".into());
        rro.read_only = Some(true);
        let (_t, pv) = pod_volumes(vec![rro]);
        assert!(pv.mounts("c", &[]).unwrap_err().to_string().contains("not supported by the runtime"));
        let mut if_possible = vm("ro", "/r");
        if_possible.recursive_read_only = Some("IfPossible".into());
        let (_t, pv) = pod_volumes(vec![if_possible]);
        assert!(!pv.mounts("c", &[]).unwrap()[0].recursive_read_only);

        let (_t, pv) = pod_volumes(vec![vm("missing", "/m")]);
        assert_eq!(pv.mounts("c", &[]).unwrap_err().to_string(), "cannot find volume \"missing\" to mount into container \"c\"");
        let mut bad = vm("rw", "/b");
        bad.mount_propagation = Some("Sideways".into());
        let (_t, pv) = pod_volumes(vec![bad]);
        assert_eq!(pv.mounts("c", &[]).unwrap_err().to_string(), "invalid MountPropagation mode: \"Sideways\"");
    }

    #[test]
    fn setup_error_text_is_upstreams() {
        let e = VolumeError::SetUp { volume: "x".into(), message: "configmap \"y\" not found".into() };
        assert_eq!(e.to_string(), "MountVolume.SetUp failed for volume \"x\" : configmap \"y\" not found");
    }
}
