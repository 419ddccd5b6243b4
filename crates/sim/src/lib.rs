//! Simulated nodes: what KWOK does for upstream. `ferrokube sim` registers N Nodes with capacity,
//! keeps their Leases and status fresh, and moves the pods bound to them through their lifecycle
//! (Running, then Succeeded or Failed when a pod's annotations ask for it, and gone once it is
//! deleted) without running any container. It is how the scheduler and the controllers are tested
//! and benchmarked at scale.
//!
//! It is an API client only (kube-rs, with whatever identity its kubeconfig carries). It must
//! never depend on `storage` or `apiserver`, never start a process or touch the network beyond the
//! API server, and it must stay light: thousands of nodes on one core, with per-node state of a
//! few bytes and no copy of the pods it manages.
//!
//! Addresses: nodes get `InternalIP`s in 127.0.0.0/8 (so anything that dials a simulated node —
//! `kubectl logs` through the apiserver, say — reaches loopback and is refused, never another
//! machine); pods get IPs from their node's `spec.podCIDR` when node IPAM assigned one, else from
//! 10.244.0.0/16 by node index. Nothing is ever sent to those addresses.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::watcher;
use serde_json::{Value, json};

/// Annotation: the pod's containers "exit 0" this long (`2s`, `1m`, `500ms`) after it started.
pub const SUCCEED_AFTER: &str = "sim.ferrokube.io/succeed-after";
/// Annotation: the pod's containers "exit 1" this long after it started.
pub const FAIL_AFTER: &str = "sim.ferrokube.io/fail-after";
/// Label on every simulated node (`kubectl get nodes -l sim.ferrokube.io/node`).
pub const NODE_LABEL: &str = "sim.ferrokube.io/node";

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many nodes.
    pub nodes: usize,
    /// Node names are `<prefix><index>`.
    pub name_prefix: String,
    /// Nodes are spread over this many zones (`topology.kubernetes.io/zone=zone-<i % zones>`).
    pub zones: usize,
    /// CPU capacity of each node (a quantity: `8`, `4000m`).
    pub cpu: String,
    /// Memory capacity of each node (a quantity: `32Gi`).
    pub memory: String,
    /// Pod capacity of each node.
    pub pods_per_node: u32,
    /// How often each node's Lease is renewed (the kubelet's 10 s).
    pub lease_interval: Duration,
    /// How often each node's status (condition heartbeats) is refreshed.
    pub status_interval: Duration,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Extra labels on every node.
    pub labels: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            nodes: 1,
            name_prefix: "sim-".into(),
            zones: 1,
            cpu: "8".into(),
            memory: "32Gi".into(),
            pods_per_node: 110,
            lease_interval: Duration::from_secs(10),
            status_interval: Duration::from_secs(60),
            concurrency: 32,
            labels: Vec::new(),
        }
    }
}

/// Errors of the simulator.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An API call failed.
    #[error("api: {0}")]
    Kube(#[from] kube::Error),
    /// The options make no sense.
    #[error("{0}")]
    Options(String),
}

/// The simulator's view of one node: just enough to answer for its pods.
struct SimNode {
    index: u32,
    /// The node's pod CIDR base and size, once node IPAM assigned one.
    pod_cidr: Option<(Ipv4Addr, u32)>,
    next_ip: AtomicU32,
}

struct Sim {
    client: kube::Client,
    opts: Options,
    /// Node name → state. Filled at registration, pod CIDRs refreshed from node watch events.
    nodes: std::sync::RwLock<HashMap<String, Arc<SimNode>>>,
    limit: Arc<tokio::sync::Semaphore>,
    /// Pods (by uid) with work in flight — being started, waiting to exit, being deleted — so
    /// repeated watch events do not start the same work twice.
    busy: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// Removes a pod from [`Sim::busy`] when its work ends.
struct Claim<'a> {
    sim: &'a Sim,
    uid: String,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if let Ok(mut b) = self.sim.busy.lock() {
            b.remove(&self.uid);
        }
    }
}

/// Parses a duration as the annotations give it: `500ms`, `2s`, `1m`, `1h`, or plain seconds.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num.parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

/// The node's `InternalIP`: 127.100.0.0/16 plus its index (loopback: never another machine).
fn node_ip(index: u32) -> Ipv4Addr {
    let i = index % (1 << 16);
    Ipv4Addr::new(127, 100, (i >> 8) as u8, (i & 0xff) as u8)
}

fn parse_cidr(s: &str) -> Option<(Ipv4Addr, u32)> {
    let (ip, bits) = s.split_once('/')?;
    let ip: Ipv4Addr = ip.parse().ok()?;
    let bits: u32 = bits.parse().ok()?;
    if bits > 30 {
        return None;
    }
    Some((ip, 1u32 << (32 - bits)))
}

impl SimNode {
    /// The next pod IP of this node (cycling through its CIDR, skipping network and gateway).
    fn next_pod_ip(&self) -> Ipv4Addr {
        let n = self.next_ip.fetch_add(1, Ordering::Relaxed);
        match self.pod_cidr {
            Some((base, size)) => {
                let host = 2 + n % (size - 3);
                Ipv4Addr::from(u32::from(base) + host)
            }
            None => {
                let i = self.index % 256;
                Ipv4Addr::new(10, 244, i as u8, (2 + n % 252) as u8)
            }
        }
    }
}

fn now() -> Time {
    Time(Timestamp::now())
}

fn ready_conditions(t: &Time) -> Value {
    let c = |type_: &str, status: &str, reason: &str, message: &str| {
        json!({"type": type_, "status": status, "reason": reason, "message": message,
               "lastHeartbeatTime": t, "lastTransitionTime": t})
    };
    json!([
        c("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        c("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        c("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        c("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ])
}

impl Sim {
    fn node_name(&self, i: usize) -> String {
        format!("{}{}", self.opts.name_prefix, i)
    }

    fn node_status(&self, index: usize, name: &str, t: &Time) -> Value {
        let o = &self.opts;
        let resources = json!({"cpu": o.cpu, "memory": o.memory, "pods": o.pods_per_node.to_string(), "ephemeral-storage": "100Gi"});
        json!({
            "capacity": resources,
            "allocatable": resources,
            "conditions": ready_conditions(t),
            "addresses": [
                {"type": "InternalIP", "address": node_ip(index as u32).to_string()},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": format!("{:032x}", index), "systemUUID": format!("sim-{index}"), "bootID": format!("sim-boot-{index}"),
                "kernelVersion": "simulated", "osImage": "ferrokube sim", "containerRuntimeVersion": "sim://1",
                "kubeletVersion": "v1.32.0", "kubeProxyVersion": "v1.32.0", "operatingSystem": "linux", "architecture": "amd64",
            },
        })
    }

    /// Creates (or adopts) a node, sets its status and its Lease.
    async fn register(&self, index: usize) -> Result<(), Error> {
        let name = self.node_name(index);
        let nodes: Api<Node> = Api::all(self.client.clone());
        let mut labels = serde_json::Map::new();
        for (k, v) in [
            ("kubernetes.io/hostname", name.as_str()),
            ("kubernetes.io/os", "linux"),
            ("kubernetes.io/arch", "amd64"),
            (NODE_LABEL, "true"),
        ] {
            labels.insert(k.into(), v.into());
        }
        labels.insert("topology.kubernetes.io/zone".into(), format!("zone-{}", index % self.opts.zones.max(1)).into());
        for (k, v) in &self.opts.labels {
            labels.insert(k.clone(), v.clone().into());
        }
        let node: Node = serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}}))
            .map_err(|e| Error::Options(format!("node {name}: {e}")))?;
        let created = match nodes.create(&PostParams::default(), &node).await {
            Ok(n) => n,
            Err(kube::Error::Api(e)) if e.code == 409 => nodes.get(&name).await?,
            Err(e) => return Err(e.into()),
        };
        let t = now();
        nodes
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(json!({"status": self.node_status(index, &name, &t)})))
            .await?;
        let uid = created.metadata.uid.clone().unwrap_or_default();
        let leases: Api<Lease> = Api::namespaced(self.client.clone(), "kube-node-lease");
        let lease: Lease = serde_json::from_value(json!({
            "metadata": {"name": name, "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": uid}]},
            "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": MicroTime(Timestamp::now())},
        }))
        .map_err(|e| Error::Options(format!("lease {name}: {e}")))?;
        match leases.create(&PostParams::default(), &lease).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => self.renew_lease(&name).await?,
            Err(e) => return Err(e.into()),
        }
        let pod_cidr = created.spec.as_ref().and_then(|s| s.pod_cidr.as_deref()).and_then(parse_cidr);
        self.nodes
            .write()
            .map_err(|_| Error::Options("node table poisoned".into()))?
            .insert(name, Arc::new(SimNode { index: index as u32, pod_cidr, next_ip: AtomicU32::new(0) }));
        Ok(())
    }

    async fn renew_lease(&self, name: &str) -> Result<(), Error> {
        let leases: Api<Lease> = Api::namespaced(self.client.clone(), "kube-node-lease");
        let p = json!({"spec": {"holderIdentity": name, "renewTime": MicroTime(Timestamp::now())}});
        leases.patch(name, &PatchParams::default(), &Patch::Merge(p)).await?;
        Ok(())
    }

    async fn refresh_status(&self, name: &str) -> Result<(), Error> {
        let nodes: Api<Node> = Api::all(self.client.clone());
        let t = now();
        // Strategic merge by condition type: only the heartbeat times move.
        let conds: Vec<Value> = ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
            .iter()
            .map(|c| json!({"type": c, "lastHeartbeatTime": t}))
            .collect();
        nodes
            .patch_status(name, &PatchParams::default(), &Patch::Strategic(json!({"status": {"conditions": conds}})))
            .await?;
        Ok(())
    }

    fn node(&self, name: &str) -> Option<Arc<SimNode>> {
        self.nodes.read().ok()?.get(name).cloned()
    }

    fn names(&self) -> Vec<String> {
        self.nodes.read().map(|m| m.keys().cloned().collect()).unwrap_or_default()
    }

    /// Runs `f` over every node with bounded concurrency; failures are logged.
    async fn for_each_node<F, Fut>(self: &Arc<Self>, what: &'static str, f: F)
    where
        F: Fn(Arc<Self>, String) -> Fut,
        Fut: std::future::Future<Output = Result<(), Error>>,
    {
        let names = self.names();
        futures::stream::iter(names)
            .map(|n| f(self.clone(), n))
            .buffer_unordered(self.opts.concurrency.max(1))
            .for_each(|r| async move {
                if let Err(e) = r {
                    tracing::warn!(error = %e, "{what}");
                }
            })
            .await;
    }

    /// Claims a pod for one piece of work; `false` if work on it is already in flight.
    fn claim(&self, uid: &str) -> bool {
        self.busy.lock().map(|mut b| b.insert(uid.to_string())).unwrap_or(false)
    }

    /// Decides what to do with a pod event.
    fn on_pod(self: &Arc<Self>, pod: Pod) {
        let Some(node_name) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) else { return };
        let Some(node) = self.node(&node_name) else { return };
        let phase = pod.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default();
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let terminating = pod.metadata.deletion_timestamp.is_some();
        // Deleted with no grace left: the final delete was made; finalizers hold it now.
        if terminating && pod.metadata.deletion_grace_period_seconds == Some(0) {
            return;
        }
        if (phase == "Succeeded" || phase == "Failed") && !terminating {
            return;
        }
        if phase == "Running" && !terminating && exit_plan(&pod).is_none() {
            return;
        }
        // A deletion goes ahead even while a start or an exit is in flight.
        if !self.claim(&uid) && !terminating {
            return;
        }
        let this = self.clone();
        if terminating {
            // The "containers" stop at once; the kubelet's final delete.
            tokio::spawn(async move {
                let _claim = Claim { sim: &this, uid };
                let _permit = this.limit.clone().acquire_owned().await;
                if let Err(e) = this.finish_deletion(&pod).await {
                    tracing::debug!(error = %e, "deleting a terminating pod");
                }
            });
            return;
        }
        match phase.as_str() {
            "Succeeded" | "Failed" => {}
            "Running" => {
                // Already started (by us, possibly before a restart): only a pending exit remains.
                if let Some((after, code)) = exit_plan(&pod) {
                    let started = pod.status.as_ref().and_then(|s| s.start_time.clone()).map(|t| t.0).unwrap_or_else(Timestamp::now);
                    tokio::spawn(async move {
                        let _claim = Claim { sim: &this, uid };
                        this.exit_later(pod, started, after, code).await;
                    });
                }
            }
            _ => {
                tokio::spawn(async move {
                    let _claim = Claim { sim: &this, uid };
                    let started = {
                        let _permit = this.limit.clone().acquire_owned().await;
                        match this.start_pod(&pod, &node, &node_name).await {
                            Ok(t) => t,
                            Err(e) => {
                                tracing::debug!(error = %e, "starting a pod");
                                return;
                            }
                        }
                    };
                    if let Some((after, code)) = exit_plan(&pod) {
                        this.exit_later(pod, started, after, code).await;
                    }
                });
            }
        }
    }

    async fn start_pod(&self, pod: &Pod, node: &SimNode, node_name: &str) -> Result<Timestamp, Error> {
        let (ns, name) = (pod.metadata.namespace.clone().unwrap_or_default(), pod.metadata.name.clone().unwrap_or_default());
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let started = Timestamp::now();
        let t = Time(started);
        let ip = if pod.spec.as_ref().and_then(|s| s.host_network).unwrap_or(false) {
            node_ip(node.index)
        } else {
            node.next_pod_ip()
        };
        let host_ip = node_ip(node.index).to_string();
        let spec = pod.spec.as_ref();
        let container_status = |c: &k8s_openapi::api::core::v1::Container, init: bool| {
            let mut s = json!({
                "name": c.name, "image": c.image.clone().unwrap_or_default(),
                "imageID": format!("sim://{}", c.image.clone().unwrap_or_default()),
                "containerID": format!("sim://{uid}-{}", c.name),
                "restartCount": 0, "started": !init, "ready": !init,
            });
            s["state"] = if init {
                json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": t, "finishedAt": t, "containerID": format!("sim://{uid}-{}", c.name)}})
            } else {
                json!({"running": {"startedAt": t}})
            };
            s
        };
        let containers: Vec<Value> = spec.map(|s| s.containers.iter().map(|c| container_status(c, false)).collect()).unwrap_or_default();
        let inits: Vec<Value> = spec
            .and_then(|s| s.init_containers.as_ref())
            .map(|v| v.iter().map(|c| container_status(c, c.restart_policy.as_deref() != Some("Always"))).collect())
            .unwrap_or_default();
        let cond = |type_: &str| json!({"type": type_, "status": "True", "lastTransitionTime": t});
        let mut status = json!({
            "phase": "Running",
            "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
            "podIP": ip.to_string(), "podIPs": [{"ip": ip.to_string()}],
            "startTime": t,
            "conditions": [cond("PodReadyToStartContainers"), cond("Initialized"), cond("Ready"), cond("ContainersReady"), cond("PodScheduled")],
            "containerStatuses": containers,
        });
        if !inits.is_empty() {
            status["initContainerStatuses"] = Value::Array(inits);
        }
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let body = json!({"metadata": {"uid": uid}, "status": status});
        pods.patch_status(&name, &PatchParams::default(), &Patch::Merge(body)).await?;
        tracing::trace!(pod = %name, node = %node_name, "running");
        Ok(started)
    }

    async fn exit_later(&self, pod: Pod, started: Timestamp, after: Duration, code: i32) {
        let elapsed = Timestamp::now().duration_since(started).unsigned_abs();
        tokio::time::sleep(after.saturating_sub(elapsed)).await;
        let _permit = self.limit.clone().acquire_owned().await;
        if let Err(e) = self.exit_pod(&pod, started, code).await {
            tracing::debug!(error = %e, "finishing a pod");
        }
    }

    async fn exit_pod(&self, pod: &Pod, started: Timestamp, code: i32) -> Result<(), Error> {
        let (ns, name) = (pod.metadata.namespace.clone().unwrap_or_default(), pod.metadata.name.clone().unwrap_or_default());
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        // The pod may have gone or been replaced meanwhile.
        let live = match pods.get_opt(&name).await? {
            Some(p) if p.metadata.uid.as_deref() == Some(uid.as_str()) => p,
            _ => return Ok(()),
        };
        let phase = live.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("");
        if live.metadata.deletion_timestamp.is_some() || phase == "Succeeded" || phase == "Failed" {
            return Ok(());
        }
        let (t0, t1) = (Time(started), now());
        let reason = if code == 0 { "Completed" } else { "Error" };
        let containers: Vec<Value> = live
            .spec
            .as_ref()
            .map(|s| {
                s.containers
                    .iter()
                    .map(|c| {
                        json!({
                            "name": c.name, "image": c.image.clone().unwrap_or_default(),
                            "imageID": format!("sim://{}", c.image.clone().unwrap_or_default()),
                            "containerID": format!("sim://{uid}-{}", c.name),
                            "restartCount": 0, "started": false, "ready": false,
                            "state": {"terminated": {"exitCode": code, "reason": reason, "startedAt": t0, "finishedAt": t1,
                                                      "containerID": format!("sim://{uid}-{}", c.name)}},
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let cond = |type_: &str, status: &str, reason: Option<&str>| {
            let mut c = json!({"type": type_, "status": status, "lastTransitionTime": t1});
            if let Some(r) = reason {
                c["reason"] = r.into();
            }
            c
        };
        let status = json!({
            "phase": if code == 0 { "Succeeded" } else { "Failed" },
            "conditions": [cond("PodReadyToStartContainers", "False", None), cond("Initialized", "True", None),
                           cond("Ready", "False", Some("PodCompleted")), cond("ContainersReady", "False", Some("PodCompleted")),
                           cond("PodScheduled", "True", None)],
            "containerStatuses": containers,
        });
        pods.patch_status(&name, &PatchParams::default(), &Patch::Merge(json!({"metadata": {"uid": uid}, "status": status})))
            .await?;
        Ok(())
    }

    /// The kubelet's last word on a terminating pod: delete it with no grace (its containers are
    /// "stopped"). Pods with finalizers stay until their owners remove them, as upstream.
    async fn finish_deletion(&self, pod: &Pod) -> Result<(), Error> {
        let (ns, name) = (pod.metadata.namespace.clone().unwrap_or_default(), pod.metadata.name.clone().unwrap_or_default());
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let dp = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions { uid: pod.metadata.uid.clone(), resource_version: None }),
            ..DeleteParams::default()
        };
        match pods.delete(&name, &dp).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// When a pod's annotations say it should exit: after how long, with which code.
fn exit_plan(pod: &Pod) -> Option<(Duration, i32)> {
    let a = pod.metadata.annotations.as_ref()?;
    if let Some(d) = a.get(FAIL_AFTER).and_then(|v| parse_duration(v)) {
        return Some((d, 1));
    }
    a.get(SUCCEED_AFTER).and_then(|v| parse_duration(v)).map(|d| (d, 0))
}

/// Registers the nodes, then keeps them alive and runs their pods until the future is dropped
/// (dropping it is a node that stopped: its Leases and status go stale).
///
/// `ready` is called once every node is registered.
pub async fn run(client: kube::Client, opts: Options, ready: impl FnOnce(usize)) -> Result<(), Error> {
    if opts.nodes == 0 {
        return Err(Error::Options("--nodes must be at least 1".into()));
    }
    if opts.name_prefix.is_empty() {
        return Err(Error::Options("--name-prefix must not be empty".into()));
    }
    let sim = Arc::new(Sim {
        limit: Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1))),
        client,
        nodes: std::sync::RwLock::new(HashMap::new()),
        busy: std::sync::Mutex::new(std::collections::HashSet::new()),
        opts,
    });
    let n = sim.opts.nodes;
    let mut failures = futures::stream::iter(0..n)
        .map(|i| {
            let sim = sim.clone();
            async move { sim.register(i).await }
        })
        .buffer_unordered(sim.opts.concurrency.max(1))
        .filter_map(|r| async move { r.err() })
        .boxed();
    if let Some(e) = failures.next().await {
        return Err(e);
    }
    drop(failures);
    ready(n);

    let leases = {
        let sim = sim.clone();
        async move {
            let mut tick = tokio::time::interval(sim.opts.lease_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                sim.for_each_node("renewing a lease", |s, n| async move { s.renew_lease(&n).await }).await;
            }
        }
    };
    let status = {
        let sim = sim.clone();
        async move {
            let mut tick = tokio::time::interval(sim.opts.status_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                sim.for_each_node("refreshing node status", |s, n| async move { s.refresh_status(&n).await }).await;
            }
        }
    };
    // Pod CIDRs arrive from node IPAM after registration.
    let node_watch = {
        let sim = sim.clone();
        let nodes: Api<Node> = Api::all(sim.client.clone());
        async move {
            let cfg = watcher::Config::default().labels(NODE_LABEL);
            let mut stream = watcher::watcher(nodes, cfg).boxed();
            loop {
                match stream.try_next().await {
                    Ok(Some(watcher::Event::Apply(n) | watcher::Event::InitApply(n))) => {
                        let name = n.metadata.name.clone().unwrap_or_default();
                        let cidr = n.spec.as_ref().and_then(|s| s.pod_cidr.as_deref()).and_then(parse_cidr);
                        if let (Some(cidr), Ok(mut map)) = (cidr, sim.nodes.write())
                            && let Some(old) = map.get(&name)
                            && old.pod_cidr != Some(cidr)
                        {
                            let index = old.index;
                            map.insert(name, Arc::new(SimNode { index, pod_cidr: Some(cidr), next_ip: AtomicU32::new(0) }));
                        }
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => return,
                    Err(e) => {
                        tracing::debug!(error = %e, "node watch");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        }
    };
    let pod_watch = {
        let sim = sim.clone();
        let pods: Api<Pod> = Api::all(sim.client.clone());
        async move {
            let mut stream = watcher::watcher(pods, watcher::Config::default().fields("spec.nodeName!=")).boxed();
            loop {
                match stream.try_next().await {
                    Ok(Some(watcher::Event::Apply(p) | watcher::Event::InitApply(p))) => sim.on_pod(p),
                    Ok(Some(_)) => {}
                    Ok(None) => return,
                    Err(e) => {
                        tracing::debug!(error = %e, "pod watch");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        }
    };
    tokio::join!(leases, status, node_watch, pod_watch);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_duration("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_duration("-1s"), None);
        assert_eq!(parse_duration("2d"), None);
        assert_eq!(parse_duration("s"), None);
    }

    #[test]
    fn addresses() {
        assert_eq!(node_ip(0), Ipv4Addr::new(127, 100, 0, 0));
        assert_eq!(node_ip(258), Ipv4Addr::new(127, 100, 1, 2));
        let n = SimNode { index: 3, pod_cidr: parse_cidr("10.42.7.0/24"), next_ip: AtomicU32::new(0) };
        assert_eq!(n.next_pod_ip(), Ipv4Addr::new(10, 42, 7, 2));
        assert_eq!(n.next_pod_ip(), Ipv4Addr::new(10, 42, 7, 3));
        // cycles inside the CIDR, never the network, gateway or broadcast address
        for _ in 0..1000 {
            let ip = n.next_pod_ip().octets();
            assert_eq!(&ip[..3], &[10, 42, 7]);
            assert!((2..=254).contains(&ip[3]), "{ip:?}");
        }
        let m = SimNode { index: 5, pod_cidr: None, next_ip: AtomicU32::new(0) };
        assert_eq!(m.next_pod_ip(), Ipv4Addr::new(10, 244, 5, 2));
    }

    #[test]
    fn exit_plans() {
        let pod: Pod = serde_json::from_value(json!({"metadata": {"annotations": {SUCCEED_AFTER: "1s"}}})).unwrap();
        assert_eq!(exit_plan(&pod), Some((Duration::from_secs(1), 0)));
        let pod: Pod = serde_json::from_value(json!({"metadata": {"annotations": {FAIL_AFTER: "2s", SUCCEED_AFTER: "1s"}}})).unwrap();
        assert_eq!(exit_plan(&pod), Some((Duration::from_secs(2), 1)));
        let pod: Pod = serde_json::from_value(json!({"metadata": {}})).unwrap();
        assert_eq!(exit_plan(&pod), None);
    }
}
