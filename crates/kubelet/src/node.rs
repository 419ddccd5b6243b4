//! The Node object of this kubelet: registration, status (addresses, capacity and allocatable,
//! conditions computed from procfs/statfs and the runtime, nodeInfo, images) and the Lease
//! heartbeat in `kube-node-lease`.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::{Node, NodeAddress, NodeCondition, NodeStatus, NodeSystemInfo, ContainerImage};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, OwnerReference, Time};
use kube::api::{Api, Patch, PatchParams, PostParams};

use crate::Kubelet;

/// Hard eviction thresholds (upstream's defaults).
pub const MEMORY_AVAILABLE_MIN: u64 = 100 * 1024 * 1024;
/// nodefs.available below this share is pressure.
pub const NODEFS_AVAILABLE_MIN_PERCENT: u64 = 10;
/// pid.available below this share of pid_max is pressure.
pub const PID_AVAILABLE_MIN_PERCENT: u64 = 5;

/// The hard eviction thresholds (`--eviction-hard`), in upstream's syntax:
/// `memory.available<100Mi,nodefs.available<10%,pid.available<5%`.
#[derive(Clone, Debug, PartialEq)]
pub struct Thresholds {
    /// memory.available below this many bytes.
    pub memory_available: u64,
    /// nodefs.available below this percentage.
    pub nodefs_percent: f64,
    /// pid.available below this percentage of pid_max.
    pub pid_percent: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { memory_available: MEMORY_AVAILABLE_MIN, nodefs_percent: NODEFS_AVAILABLE_MIN_PERCENT as f64, pid_percent: PID_AVAILABLE_MIN_PERCENT as f64 }
    }
}

impl Thresholds {
    /// Parses `signal<quantity|percent` pairs separated by commas; unnamed signals keep their default.
    pub fn parse(text: &str) -> Result<Thresholds, String> {
        let mut t = Thresholds::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (signal, value) = part.split_once('<').ok_or_else(|| format!("eviction threshold {part:?}: expected signal<value"))?;
            let pct = value.strip_suffix('%').map(|v| v.parse::<f64>().map_err(|_| format!("eviction threshold {part:?}: bad percentage")));
            match (signal, pct) {
                ("memory.available", None) => t.memory_available = crate::quantity::parse(value).ok_or_else(|| format!("eviction threshold {part:?}: bad quantity"))? as u64,
                ("nodefs.available" | "imagefs.available", Some(p)) => t.nodefs_percent = p?,
                ("pid.available", Some(p)) => t.pid_percent = p?,
                _ => return Err(format!("eviction threshold {part:?}: unsupported signal or unit (memory.available takes a quantity, nodefs.available and pid.available a percentage)")),
            }
        }
        Ok(t)
    }
}

/// What the node measures of itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Measure {
    /// CPUs.
    pub cpus: u64,
    /// Physical memory, bytes.
    pub memory_total: u64,
    /// Available memory (MemAvailable), bytes.
    pub memory_available: u64,
    /// Size of the filesystem holding the agent directory, bytes.
    pub fs_total: u64,
    /// Free bytes there (for unprivileged users, as statfs f_bavail).
    pub fs_available: u64,
    /// pid_max.
    pub pid_max: u64,
    /// Threads running now.
    pub pids_used: u64,
}

/// Reads the machine.
pub fn measure(agent_dir: &Path) -> Measure {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kb = |key: &str| {
        meminfo
            .lines()
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.trim().trim_end_matches("kB").trim().parse::<u64>().ok()))
            .unwrap_or(0)
            * 1024
    };
    let (fs_total, fs_available) = match rustix::fs::statvfs(agent_dir) {
        Ok(s) => (s.f_blocks * s.f_frsize, s.f_bavail * s.f_frsize),
        Err(_) => (0, 0),
    };
    let pid_max = std::fs::read_to_string("/proc/sys/kernel/pid_max").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(32768);
    let pids_used = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().nth(3).and_then(|f| f.split('/').nth(1)).and_then(|n| n.parse().ok()))
        .unwrap_or(0);
    Measure {
        cpus: std::thread::available_parallelism().map(|n| n.get() as u64).unwrap_or(1),
        memory_total: kb("MemTotal:"),
        memory_available: kb("MemAvailable:"),
        fs_total,
        fs_available,
        pid_max,
        pids_used,
    }
}

/// The pressure conditions' states: (type, under pressure, reason, message).
pub fn pressures(m: &Measure, t: &Thresholds) -> [(&'static str, bool, &'static str, &'static str); 3] {
    let mem = m.memory_available < t.memory_available;
    let disk = m.fs_total > 0 && (m.fs_available as f64) * 100.0 < m.fs_total as f64 * t.nodefs_percent;
    let pid = m.pid_max > 0 && (m.pid_max.saturating_sub(m.pids_used) as f64) * 100.0 < m.pid_max as f64 * t.pid_percent;
    [
        ("MemoryPressure", mem, if mem { "KubeletHasInsufficientMemory" } else { "KubeletHasSufficientMemory" }, if mem { "kubelet has insufficient memory available" } else { "kubelet has sufficient memory available" }),
        ("DiskPressure", disk, if disk { "KubeletHasDiskPressure" } else { "KubeletHasNoDiskPressure" }, if disk { "kubelet has disk pressure" } else { "kubelet has no disk pressure" }),
        ("PIDPressure", pid, if pid { "KubeletHasInsufficientPID" } else { "KubeletHasSufficientPID" }, if pid { "kubelet has insufficient PID available" } else { "kubelet has sufficient PID available" }),
    ]
}

/// Capacity and allocatable (capacity less the hard eviction thresholds and system reservations).
pub fn resources(m: &Measure, max_pods: u32, reserved_memory: u64, t: &Thresholds) -> (BTreeMap<String, Quantity>, BTreeMap<String, Quantity>) {
    let mut cap = BTreeMap::new();
    cap.insert("cpu".to_string(), Quantity(m.cpus.to_string()));
    cap.insert("memory".to_string(), Quantity(format!("{}Ki", m.memory_total / 1024)));
    cap.insert("ephemeral-storage".to_string(), Quantity(format!("{}Ki", m.fs_total / 1024)));
    cap.insert("pods".to_string(), Quantity(max_pods.to_string()));
    cap.insert("hugepages-2Mi".to_string(), Quantity("0".into()));
    let mut alloc = cap.clone();
    let mem = m.memory_total.saturating_sub(t.memory_available + reserved_memory);
    alloc.insert("memory".to_string(), Quantity(format!("{}Ki", mem / 1024)));
    // allocatable ephemeral storage is in bytes upstream (capacity less the 10% threshold)
    let fs = m.fs_total.saturating_sub((m.fs_total as f64 * t.nodefs_percent / 100.0) as u64);
    alloc.insert("ephemeral-storage".to_string(), Quantity(fs.to_string()));
    (cap, alloc)
}

fn os_image() -> String {
    let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_else(|| "Linux".into())
}

fn read_trim(p: &str) -> String {
    std::fs::read_to_string(p).map(|s| s.trim().to_string()).unwrap_or_default()
}

/// nodeInfo.
pub fn system_info(runtime_version: &str, kubelet_version: &str) -> NodeSystemInfo {
    let uname = rustix::system::uname();
    NodeSystemInfo {
        architecture: match std::env::consts::ARCH {
            "x86_64" => "amd64".into(),
            "aarch64" => "arm64".into(),
            a => a.into(),
        },
        boot_id: read_trim("/proc/sys/kernel/random/boot_id"),
        container_runtime_version: runtime_version.into(),
        kernel_version: uname.release().to_string_lossy().into_owned(),
        kube_proxy_version: String::new(),
        kubelet_version: kubelet_version.into(),
        machine_id: read_trim("/etc/machine-id"),
        operating_system: "linux".into(),
        os_image: os_image(),
        system_uuid: read_trim("/sys/class/dmi/id/product_uuid"),
    }
}

fn condition(type_: &str, status: bool, reason: &str, message: &str, now: &Time, old: Option<&NodeCondition>) -> NodeCondition {
    let status = if status { "True" } else { "False" }.to_string();
    let transition = match old {
        Some(o) if o.status == status => o.last_transition_time.clone().unwrap_or_else(|| now.clone()),
        _ => now.clone(),
    };
    NodeCondition {
        type_: type_.into(),
        status,
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_heartbeat_time: Some(now.clone()),
        last_transition_time: Some(transition),
    }
}

/// The Node's status as this kubelet sees it now.
pub async fn status(k: &Kubelet, old: Option<&NodeStatus>) -> NodeStatus {
    let m = measure(&k.config.agent_dir);
    let (capacity, allocatable) = resources(&m, k.config.max_pods, k.config.reserved_memory, &k.config.eviction_hard);
    let now = Time(jiff::Timestamp::now());
    let old_cond = |t: &str| old.and_then(|o| o.conditions.as_ref()).and_then(|cs| cs.iter().find(|c| c.type_ == t));
    let health = k.runtime_health().await;
    let mut conditions = Vec::new();
    for (t, on, reason, message) in pressures(&m, &k.config.eviction_hard) {
        conditions.push(condition(t, on, reason, message, &now, old_cond(t)));
    }
    let (ready, reason, message) = match (&health.runtime_error, &health.network_error) {
        (Some(e), _) => (false, "KubeletNotReady", format!("container runtime is down: {e}")),
        (None, Some(e)) => (false, "KubeletNotReady", format!("container runtime network not ready: {e}")),
        (None, None) => (true, "KubeletReady", "kubelet is posting ready status".to_string()),
    };
    conditions.push(condition("Ready", ready, reason, &message, &now, old_cond("Ready")));
    let net = health.network_error.is_some() || health.runtime_error.is_some();
    conditions.push(condition(
        "NetworkUnavailable",
        net,
        if net { "NoNetworkConfigured" } else { "NetworkConfigured" },
        if net { "the pod network (CNI) is not configured yet" } else { "the pod network (CNI) is configured for the node's podCIDR" },
        &now,
        old_cond("NetworkUnavailable"),
    ));
    let mut addresses = vec![NodeAddress { type_: "InternalIP".into(), address: k.config.node_ip.to_string() }];
    if let Some(ext) = k.config.external_ip {
        addresses.push(NodeAddress { type_: "ExternalIP".into(), address: ext.to_string() });
    }
    addresses.push(NodeAddress { type_: "Hostname".into(), address: k.config.hostname.clone() });
    let images = health.images.clone();
    NodeStatus {
        addresses: Some(addresses),
        allocatable: Some(allocatable),
        capacity: Some(capacity),
        conditions: Some(conditions),
        daemon_endpoints: Some(k8s_openapi::api::core::v1::NodeDaemonEndpoints {
            kubelet_endpoint: Some(k8s_openapi::api::core::v1::DaemonEndpoint { port: i32::from(k.kubelet_port()) }),
        }),
        images: Some(images),
        node_info: Some(system_info(&health.runtime_version, &k.config.version)),
        ..Default::default()
    }
}

/// Whether two statuses differ in anything but heartbeat times and measured free space.
fn meaningfully_different(a: &NodeStatus, b: &NodeStatus) -> bool {
    let strip = |s: &NodeStatus| {
        let mut s = s.clone();
        for c in s.conditions.iter_mut().flatten() {
            c.last_heartbeat_time = None;
        }
        let mut v = serde_json::to_value(&s).unwrap_or_default();
        v.as_object_mut().map(|o| o.remove("allocatable"));
        v
    };
    strip(a) != strip(b) || a.allocatable.as_ref().and_then(|x| x.get("cpu")) != b.allocatable.as_ref().and_then(|x| x.get("cpu"))
}

/// Registers the node (create, or adopt an existing one and refresh its labels).
pub async fn register(k: &Kubelet) -> Result<Node, kube::Error> {
    let api: Api<Node> = Api::all(k.client.clone());
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        a => a,
    };
    let mut labels = BTreeMap::new();
    labels.insert("kubernetes.io/hostname".to_string(), k.config.node_name.clone());
    labels.insert("kubernetes.io/os".to_string(), "linux".to_string());
    labels.insert("kubernetes.io/arch".to_string(), arch.to_string());
    labels.insert("beta.kubernetes.io/os".to_string(), "linux".to_string());
    labels.insert("beta.kubernetes.io/arch".to_string(), arch.to_string());
    for (key, v) in &k.config.node_labels {
        labels.insert(key.clone(), v.clone());
    }
    let node = Node {
        metadata: kube::api::ObjectMeta {
            name: Some(k.config.node_name.clone()),
            labels: Some(labels.clone()),
            annotations: Some(BTreeMap::from([("volumes.kubernetes.io/controller-managed-attach-detach".to_string(), "true".to_string())])),
            ..Default::default()
        },
        ..Default::default()
    };
    let node = match api.create(&PostParams::default(), &node).await {
        Ok(n) => n,
        Err(kube::Error::Api(e)) if e.code == 409 => {
            let patch = serde_json::json!({"metadata": {"labels": labels}});
            api.patch(&k.config.node_name, &PatchParams::default(), &Patch::Merge(&patch)).await?
        }
        Err(e) => return Err(e),
    };
    let st = status(k, None).await;
    api.patch_status(&k.config.node_name, &PatchParams::default(), &Patch::Merge(&serde_json::json!({"status": st}))).await?;
    Ok(node)
}

/// Keeps the node status fresh: checked every 10 s, written on change and at least every minute.
pub async fn status_loop(k: Arc<Kubelet>) {
    let api: Api<Node> = Api::all(k.client.clone());
    let mut last: Option<(NodeStatus, Instant)> = None;
    loop {
        // transition times carry over from what was last written (or, at start, from the API)
        let previous = match &last {
            Some((s, _)) => Some(s.clone()),
            None => api.get_status(&k.config.node_name).await.ok().and_then(|n| n.status),
        };
        let st = status(&k, previous.as_ref()).await;
        let due = match &last {
            None => true,
            Some((prev, at)) => meaningfully_different(prev, &st) || at.elapsed() >= Duration::from_secs(60),
        };
        let ready = st.conditions.iter().flatten().any(|c| c.type_ == "Ready" && c.status == "True");
        if due {
            match api.patch_status(&k.config.node_name, &PatchParams::default(), &Patch::Merge(&serde_json::json!({"status": st}))).await {
                Ok(_) => last = Some((st, Instant::now())),
                Err(e) => tracing::warn!(error = %e, "updating node status"),
            }
        }
        // while not Ready (the runtime starting, CNI being configured) look every second, so the
        // node turns Ready, and its network-unavailable taint goes, as soon as it can run pods
        let period = if ready { Duration::from_secs(10) } else { Duration::from_secs(1) };
        tokio::select! {
            () = tokio::time::sleep(period) => {}
            () = k.status_changed.notified() => {}
        }
    }
}

/// Renews the node's Lease every 10 s (duration 40 s, upstream's defaults).
pub async fn lease_loop(k: Arc<Kubelet>, node_uid: String) {
    let api: Api<Lease> = Api::namespaced(k.client.clone(), "kube-node-lease");
    let name = k.config.node_name.clone();
    loop {
        let now = MicroTime(jiff::Timestamp::now());
        let spec = LeaseSpec {
            holder_identity: Some(name.clone()),
            lease_duration_seconds: Some(40),
            renew_time: Some(now.clone()),
            ..Default::default()
        };
        let res = match api.get_opt(&name).await {
            Ok(Some(mut l)) => {
                l.spec = Some(LeaseSpec { acquire_time: l.spec.as_ref().and_then(|s| s.acquire_time.clone()), ..spec });
                api.replace(&name, &PostParams::default(), &l).await.map(|_| ())
            }
            Ok(None) => {
                let l = Lease {
                    metadata: kube::api::ObjectMeta {
                        name: Some(name.clone()),
                        namespace: Some("kube-node-lease".into()),
                        owner_references: Some(vec![OwnerReference {
                            api_version: "v1".into(),
                            kind: "Node".into(),
                            name: name.clone(),
                            uid: node_uid.clone(),
                            ..Default::default()
                        }]),
                        ..Default::default()
                    },
                    spec: Some(LeaseSpec { acquire_time: Some(now), ..spec }),
                };
                api.create(&PostParams::default(), &l).await.map(|_| ())
            }
            Err(e) => Err(e),
        };
        if let Err(e) = res {
            tracing::warn!(error = %e, "renewing the node lease");
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
}

/// The images the runtime holds, as nodes list them (largest first, at most 50 as upstream).
pub fn node_images(list: Vec<cri::api::Image>) -> Vec<ContainerImage> {
    let mut out: Vec<ContainerImage> = list
        .into_iter()
        .map(|i| {
            let mut names = i.repo_tags.clone();
            names.extend(i.repo_digests.clone());
            ContainerImage { names: Some(names), size_bytes: Some(i.size as i64) }
        })
        .collect();
    out.sort_by_key(|i| std::cmp::Reverse(i.size_bytes));
    out.truncate(50);
    out
}

/// The node's hostname-derived default name: lower case, as upstream.
pub fn default_node_name() -> String {
    read_trim("/proc/sys/kernel/hostname").to_lowercase()
}

/// The first non-loopback IPv4 address of the machine, else 127.0.0.1.
pub fn default_node_ip() -> IpAddr {
    // A UDP socket "connected" to a documentation address picks the outgoing interface's
    // address without sending anything.
    std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| {
            s.connect("192.0.2.1:9")?;
            s.local_addr()
        })
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pressure_thresholds() {
        let ok = Measure { cpus: 2, memory_total: 8 << 30, memory_available: 4 << 30, fs_total: 100, fs_available: 50, pid_max: 1000, pids_used: 100 };
        let t = Thresholds::default();
        assert!(pressures(&ok, &t).iter().all(|p| !p.1));
        let low = Measure { memory_available: 50 << 20, fs_available: 5, pids_used: 990, ..ok.clone() };
        let p = pressures(&low, &t);
        let lenient = Thresholds::parse("nodefs.available<1%,memory.available<10Mi,pid.available<0.5%").unwrap();
        assert!(pressures(&low, &lenient).iter().all(|p| !p.1), "{lenient:?}");
        assert!(Thresholds::parse("nodefs.available<1Gi").is_err());
        assert!(Thresholds::parse("cpu<1").is_err());
        assert!(p.iter().all(|p| p.1), "{p:?}");
        assert_eq!(p[0].2, "KubeletHasInsufficientMemory");
    }

    #[test]
    fn allocatable_subtracts_thresholds() {
        let m = Measure { cpus: 2, memory_total: 1 << 30, memory_available: 0, fs_total: 1000 * 1024, fs_available: 0, pid_max: 1, pids_used: 0 };
        let (cap, alloc) = resources(&m, 110, 0, &Thresholds::default());
        assert_eq!(cap["memory"].0, "1048576Ki");
        assert_eq!(alloc["memory"].0, format!("{}Ki", ((1u64 << 30) - MEMORY_AVAILABLE_MIN) / 1024));
        assert_eq!(alloc["ephemeral-storage"].0, (1000 * 1024 - 1000 * 1024 / 10).to_string());
        assert_eq!(cap["pods"].0, "110");
    }

    #[test]
    fn the_machine_is_measured() {
        let m = measure(Path::new("/"));
        assert!(m.cpus >= 1 && m.memory_total > 0 && m.fs_total > 0 && m.pid_max > 0, "{m:?}");
    }
}
