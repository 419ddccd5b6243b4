//! Pod workers: one task per pod bound to this node, driving it through CRI towards its spec
//! (sandbox, init containers in order, sidecars, app containers, restarts with back-off, probes,
//! hooks), reporting its status, and tearing everything down when it is deleted.
//!
//! CRI is the source of truth for what runs: a worker (re)discovers its sandbox and containers by
//! their labels, which is how a restarted kubelet adopts running pods instead of duplicating them.

pub mod images;
pub mod probes;
pub mod spec;
mod status;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cri::api;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Container, Pod};
use kube::api::{Api, DeleteParams, Preconditions};
use kube::runtime::watcher;
use tokio::sync::watch;

use crate::Kubelet;
use crate::cgroups;

/// How long a container's restart waits: 10 s doubling to 5 min (upstream's kubelet).
pub const BACKOFF_INITIAL: Duration = Duration::from_secs(10);
/// The back-off ceiling.
pub const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Runs the workers of the pods bound to this node until the task is dropped.
pub async fn run(k: Arc<Kubelet>) {
    let api: Api<Pod> = Api::all(k.client.clone());
    let cfg = watcher::Config::default().fields(&format!("spec.nodeName={}", k.config.node_name));
    let mut stream = std::pin::pin!(watcher(api, cfg));
    let mut workers: HashMap<String, Worker> = HashMap::new();
    let mut seen_in_list: HashSet<String> = HashSet::new();
    let mut listing = false;
    let mut relist = tokio::time::interval(RELIST_PERIOD);
    relist.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut runtime_states: HashMap<String, (String, i32)> = HashMap::new();
    loop {
        let ev = tokio::select! {
            ev = stream.next() => ev,
            _ = relist.tick() => {
                // upstream's PLEG: a container or sandbox that changed state wakes its pod's worker
                for uid in relist_changes(&k, &mut runtime_states).await {
                    if let Some((tx, _)) = workers.get(&uid) {
                        tx.send_modify(|_| {});
                    }
                }
                continue;
            }
        };
        let Some(ev) = ev else { break };
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                tracing::debug!(error = %e, "pod watch");
                continue;
            }
        };
        workers.retain(|_, (_, h)| !h.is_finished());
        match ev {
            watcher::Event::Init => {
                listing = true;
                seen_in_list.clear();
            }
            watcher::Event::InitApply(pod) | watcher::Event::Apply(pod) => {
                let uid = pod.metadata.uid.clone().unwrap_or_default();
                if listing {
                    seen_in_list.insert(uid.clone());
                }
                let pod = Arc::new(pod);
                match workers.get(&uid) {
                    Some((tx, _)) => {
                        let _ = tx.send(Some(pod));
                    }
                    None => {
                        let (tx, rx) = watch::channel(Some(pod));
                        let h = tokio::spawn(worker(k.clone(), rx));
                        workers.insert(uid, (tx, h));
                    }
                }
            }
            watcher::Event::Delete(pod) => {
                let uid = pod.metadata.uid.clone().unwrap_or_default();
                if let Some((tx, _)) = workers.get(&uid) {
                    let _ = tx.send(None);
                }
            }
            watcher::Event::InitDone => {
                listing = false;
                // pods gone from the API while nobody watched: tear their leftovers down
                for (uid, (tx, _)) in &workers {
                    if !seen_in_list.contains(uid) {
                        let _ = tx.send(None);
                    }
                }
                let k2 = k.clone();
                let known = seen_in_list.clone();
                tokio::spawn(async move { remove_orphans(&k2, &known).await });
            }
        }
    }
}

/// A pod worker: the channel that hands it the pod's latest object (None: deleted) and its task.
type Worker = (watch::Sender<Option<Arc<Pod>>>, tokio::task::JoinHandle<()>);

/// How often the runtime's containers and sandboxes are listed to notice state changes
/// (upstream's PLEG relist period).
pub const RELIST_PERIOD: Duration = Duration::from_secs(1);

/// Lists the runtime's sandboxes and containers and returns the pod UIDs whose sandbox or
/// containers appeared, changed state or went away since the last listing.
async fn relist_changes(k: &Kubelet, last: &mut HashMap<String, (String, i32)>) -> HashSet<String> {
    let Some(rt) = k.runtime.clone() else { return HashSet::new() };
    let mut r = rt.runtime.clone();
    let (Ok(sbs), Ok(cs)) = (
        r.list_pod_sandbox(api::ListPodSandboxRequest { filter: None }).await,
        r.list_containers(api::ListContainersRequest { filter: None }).await,
    ) else {
        return HashSet::new();
    };
    let uid_of = |labels: &HashMap<String, String>| labels.get(spec::LABEL_POD_UID).cloned().unwrap_or_default();
    let mut now: HashMap<String, (String, i32)> = HashMap::new();
    for sb in sbs.into_inner().items {
        now.insert(sb.id.clone(), (uid_of(&sb.labels), sb.state));
    }
    for c in cs.into_inner().containers {
        now.insert(c.id.clone(), (uid_of(&c.labels), c.state));
    }
    let mut changed = HashSet::new();
    for (id, v) in &now {
        if last.get(id) != Some(v) {
            changed.insert(v.0.clone());
        }
    }
    for (id, v) in last.iter() {
        if !now.contains_key(id) {
            changed.insert(v.0.clone());
        }
    }
    *last = now;
    changed.remove("");
    changed
}

/// Sandboxes whose pod is not bound here any more: stop and remove them with their containers.
async fn remove_orphans(k: &Kubelet, known: &HashSet<String>) {
    let Some(rt) = k.runtime.clone() else { return };
    let mut r = rt.runtime.clone();
    let Ok(list) = r.list_pod_sandbox(api::ListPodSandboxRequest { filter: None }).await else { return };
    for sb in list.into_inner().items {
        let uid = sb.labels.get(spec::LABEL_POD_UID).cloned().unwrap_or_default();
        if uid.is_empty() || known.contains(&uid) {
            continue;
        }
        tracing::info!(pod_uid = %uid, sandbox = %sb.id, "removing the sandbox of a pod no longer bound to this node");
        remove_sandbox(k, &sb.id).await;
        crate::cleanup_pod_dirs(k, &uid).await;
    }
}

async fn remove_sandbox(k: &Kubelet, id: &str) {
    let Some(rt) = k.runtime.clone() else { return };
    let mut r = rt.runtime.clone();
    if let Ok(cs) = r.list_containers(api::ListContainersRequest { filter: Some(api::ContainerFilter { pod_sandbox_id: id.into(), ..Default::default() }) }).await {
        for c in cs.into_inner().containers {
            let _ = r.stop_container(api::StopContainerRequest { container_id: c.id.clone(), timeout: 0 }).await;
            let _ = r.remove_container(api::RemoveContainerRequest { container_id: c.id }).await;
        }
    }
    let _ = r.stop_pod_sandbox(api::StopPodSandboxRequest { pod_sandbox_id: id.into() }).await;
    let _ = r.remove_pod_sandbox(api::RemovePodSandboxRequest { pod_sandbox_id: id.into() }).await;
}

/// What a worker remembers between syncs (everything else is read back from CRI).
#[derive(Default)]
pub struct WorkerState {
    /// Per container name: the current restart delay.
    backoff: HashMap<String, Duration>,
    /// Per container id: probe states (startup, liveness, readiness).
    probes: HashMap<String, ContainerProbes>,
    /// Containers whose postStart hook ran (by id).
    hooked: HashSet<String>,
    /// Image pull back-off per container name: (delay, until).
    pull_backoff: HashMap<String, (Duration, Instant)>,
    /// Waiting reasons set by this kubelet per container name (pull errors, config errors, back-off).
    waiting: HashMap<String, (String, String)>,
    /// Events already reported (to avoid repeating Pulled/BackOff on every sync).
    said: HashSet<String>,
    /// The last status written.
    last_status: Option<serde_json::Value>,
    /// Containers killed by the kubelet for a failed liveness or startup probe (by id).
    killed_for_probe: HashSet<String>,
    /// Containers the kubelet stopped itself (deletion, a terminal pod): never OOM kills.
    stopped: HashSet<String>,
    /// Per exited container id: whether it was OOM-killed (decided once, see `status::judge_ooms`).
    oom: HashMap<String, bool>,
    /// The sandbox's IP.
    pod_ip: Option<String>,
}

#[derive(Default)]
struct ContainerProbes {
    startup: Option<probes::ProbeState>,
    liveness: Option<probes::ProbeState>,
    readiness: Option<probes::ProbeState>,
}

async fn worker(k: Arc<Kubelet>, mut rx: watch::Receiver<Option<Arc<Pod>>>) {
    let mut st = WorkerState::default();
    let mut last: Option<Arc<Pod>> = None;
    loop {
        let current = rx.borrow_and_update().clone();
        let next = match current {
            Some(pod) => {
                last = Some(pod.clone());
                match sync(&k, &mut st, &pod).await {
                    Next::Done => {
                        k.evictions.lock().remove(pod.metadata.uid.as_deref().unwrap_or(""));
                        return;
                    }
                    Next::In(d) => d,
                }
            }
            None => {
                // gone from the API: nothing to report, just clean up
                if let Some(pod) = &last {
                    k.evictions.lock().remove(pod.metadata.uid.as_deref().unwrap_or(""));
                    terminate(&k, &mut st, pod, Some(0)).await;
                    let uid = pod.metadata.uid.clone().unwrap_or_default();
                    crate::cleanup_pod_dirs(&k, &uid).await;
                }
                return;
            }
        };
        tokio::select! {
            r = rx.changed() => if r.is_err() { return },
            () = tokio::time::sleep(next) => {}
        }
    }
}

enum Next {
    Done,
    In(Duration),
}

/// The sandbox (ready first, newest first) and containers of a pod, from CRI.
struct Observed {
    sandbox: Option<api::PodSandbox>,
    containers: Vec<api::ContainerStatus>,
}

async fn observe(rt: &cri::Runtime, uid: &str) -> Result<Observed, tonic::Status> {
    let mut r = rt.runtime.clone();
    let labels = HashMap::from([(spec::LABEL_POD_UID.to_string(), uid.to_string())]);
    let mut sbs = r.list_pod_sandbox(api::ListPodSandboxRequest { filter: Some(api::PodSandboxFilter { label_selector: labels.clone(), ..Default::default() }) }).await?.into_inner().items;
    sbs.sort_by_key(|s| (s.state == api::PodSandboxState::SandboxReady as i32, s.created_at));
    let sandbox = sbs.pop();
    let list = r.list_containers(api::ListContainersRequest { filter: Some(api::ContainerFilter { label_selector: labels, ..Default::default() }) }).await?.into_inner().containers;
    let mut containers = Vec::new();
    for c in list {
        if let Ok(s) = r.container_status(api::ContainerStatusRequest { container_id: c.id.clone(), verbose: false }).await
            && let Some(s) = s.into_inner().status
        {
            containers.push(s);
        }
    }
    Ok(Observed { sandbox, containers })
}

fn name_of(c: &api::ContainerStatus) -> &str {
    c.labels.get(spec::LABEL_CONTAINER_NAME).map(|s| s.as_str()).unwrap_or_else(|| c.metadata.as_ref().map(|m| m.name.as_str()).unwrap_or(""))
}

fn attempt_of(c: &api::ContainerStatus) -> u32 {
    c.metadata.as_ref().map(|m| m.attempt).unwrap_or(0)
}

/// The latest and previous attempts of a container, by name.
fn attempts<'a>(obs: &'a Observed, name: &str) -> (Option<&'a api::ContainerStatus>, Option<&'a api::ContainerStatus>) {
    let mut v: Vec<&api::ContainerStatus> = obs.containers.iter().filter(|c| name_of(c) == name).collect();
    v.sort_by_key(|c| (attempt_of(c), c.created_at));
    let latest = v.pop();
    (latest, v.pop())
}

fn running(c: &api::ContainerStatus) -> bool {
    c.state == api::ContainerState::ContainerRunning as i32
}

fn exited(c: &api::ContainerStatus) -> bool {
    c.state == api::ContainerState::ContainerExited as i32
}

fn restart_policy(pod: &Pod) -> &str {
    pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref()).unwrap_or("Always")
}

fn should_restart(policy: &str, exit_code: i32) -> bool {
    match policy {
        "Never" => false,
        "OnFailure" => exit_code != 0,
        _ => true,
    }
}

async fn sync(k: &Arc<Kubelet>, st: &mut WorkerState, pod: &Arc<Pod>) -> Next {
    let (name, ns, uid) = spec::ids(pod);
    if pod.metadata.deletion_timestamp.is_some() {
        let grace = pod.metadata.deletion_grace_period_seconds;
        let final_status = terminate(k, st, pod, grace).await;
        crate::cleanup_pod_dirs(k, &uid).await;
        // report the final state, then let the object go (upstream's status manager)
        if let Some(s) = final_status {
            status::write(k, st, pod, s).await;
        }
        let api: Api<Pod> = Api::namespaced(k.client.clone(), &ns);
        let dp = DeleteParams { grace_period_seconds: Some(0), preconditions: Some(Preconditions { uid: Some(uid.clone()), resource_version: None }), ..Default::default() };
        match api.delete(&name, &dp).await {
            Ok(_) => return Next::Done,
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => return Next::Done,
            Err(e) => {
                tracing::warn!(pod = %name, namespace = %ns, error = %e, "deleting a terminated pod");
                return Next::In(Duration::from_secs(2));
            }
        }
    }
    let Some(rt) = k.runtime.clone() else {
        return Next::In(Duration::from_secs(5));
    };
    let evicted = k.evictions.lock().get(&uid).cloned();
    if let Some(msg) = evicted {
        evict(k, st, pod, &rt, &msg).await;
        return Next::In(Duration::from_secs(60));
    }
    let phase = pod.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default();
    if phase == "Succeeded" || phase == "Failed" {
        // terminal: stop the sandbox (its network goes), keep exited containers for their logs
        if let Ok(obs) = observe(&rt, &uid).await
            && let Some(sb) = obs.sandbox.filter(|s| s.state == api::PodSandboxState::SandboxReady as i32)
        {
            kill_all(k, st, pod, &obs.containers, Some(0)).await;
            let mut r = rt.runtime.clone();
            let _ = r.stop_pod_sandbox(api::StopPodSandboxRequest { pod_sandbox_id: sb.id }).await;
        }
        return Next::In(Duration::from_secs(60));
    }
    match run_pod(k, st, pod, &rt).await {
        Ok(next) => next,
        Err(e) => {
            tracing::warn!(pod = %name, namespace = %ns, error = %e, "syncing pod");
            Next::In(Duration::from_secs(2))
        }
    }
}

/// A hard eviction under node pressure: containers stop at once (no grace period, as upstream),
/// the sandbox goes, exited containers stay for their logs, and the pod is reported Failed with
/// reason Evicted and a DisruptionTarget condition.
async fn evict(k: &Arc<Kubelet>, st: &mut WorkerState, pod: &Arc<Pod>, rt: &cri::Runtime, msg: &str) {
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let Ok(obs) = observe(rt, &uid).await else { return };
    if obs.containers.iter().any(running) {
        kill_all(k, st, pod, &obs.containers, Some(0)).await;
    }
    if let Some(sb) = obs.sandbox.as_ref().filter(|s| s.state == api::PodSandboxState::SandboxReady as i32) {
        let mut r = rt.runtime.clone();
        let _ = r.stop_pod_sandbox(api::StopPodSandboxRequest { pod_sandbox_id: sb.id.clone() }).await;
    }
    let Ok(obs) = observe(rt, &uid).await else { return };
    let mut s = status::compute(k, st, pod, &obs, true);
    s["phase"] = serde_json::json!("Failed");
    s["reason"] = serde_json::json!("Evicted");
    s["message"] = serde_json::json!(msg);
    let now = jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or(jiff::Timestamp::now()).to_string();
    if let Some(conds) = s["conditions"].as_array_mut() {
        conds.retain(|c| c["type"] != "DisruptionTarget");
        conds.push(serde_json::json!({"type": "DisruptionTarget", "status": "True", "reason": "TerminationByKubelet", "message": msg, "lastProbeTime": null, "lastTransitionTime": now}));
    }
    status::write(k, st, pod, s).await;
}

/// Kills every running container (preStop first, within the grace period), stops and removes
/// the sandbox. Returns the final status to report.
async fn terminate(k: &Arc<Kubelet>, st: &mut WorkerState, pod: &Arc<Pod>, grace: Option<i64>) -> Option<serde_json::Value> {
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let rt = k.runtime.clone()?;
    let obs = observe(&rt, &uid).await.ok()?;
    kill_all(k, st, pod, &obs.containers, grace).await;
    let obs = observe(&rt, &uid).await.ok()?;
    status::judge_ooms(k, st, pod, &obs);
    let status = status::compute(k, st, pod, &obs, true);
    let mut r = rt.runtime.clone();
    for c in &obs.containers {
        let _ = r.remove_container(api::RemoveContainerRequest { container_id: c.id.clone() }).await;
    }
    let mut r = rt.runtime.clone();
    let labels = HashMap::from([(spec::LABEL_POD_UID.to_string(), uid.clone())]);
    if let Ok(list) = r.list_pod_sandbox(api::ListPodSandboxRequest { filter: Some(api::PodSandboxFilter { label_selector: labels, ..Default::default() }) }).await {
        for sb in list.into_inner().items {
            remove_sandbox(k, &sb.id).await;
        }
    }
    let cg = cgroups::pod_cgroup(&uid, cgroups::qos(pod));
    if let Err(e) = k.cgroups.remove_pod(&cg) {
        tracing::debug!(cgroup = %cg, error = %e, "removing the pod cgroup");
    }
    Some(status)
}

async fn kill_all(k: &Arc<Kubelet>, st: &mut WorkerState, pod: &Arc<Pod>, containers: &[api::ContainerStatus], grace: Option<i64>) {
    let grace = grace.or_else(|| pod.spec.as_ref().and_then(|s| s.termination_grace_period_seconds)).unwrap_or(30).max(0);
    let deadline = Instant::now() + Duration::from_secs(grace as u64);
    let spec = pod.spec.clone().unwrap_or_default();
    let mut tasks = Vec::new();
    for c in containers.iter().filter(|c| running(c)) {
        st.stopped.insert(c.id.clone());
        let name = name_of(c).to_string();
        let def = spec.containers.iter().chain(spec.init_containers.iter().flatten()).find(|d| d.name == name).cloned();
        let k = k.clone();
        let pod = pod.clone();
        let id = c.id.clone();
        tasks.push(tokio::spawn(async move { kill_container(&k, &pod, def.as_ref(), &id, &name, deadline, "Stopping container").await }));
    }
    for t in tasks {
        let _ = t.await;
    }
    st.probes.clear();
}

async fn kill_container(k: &Arc<Kubelet>, pod: &Pod, def: Option<&Container>, id: &str, name: &str, deadline: Instant, why: &str) {
    let Some(rt) = k.runtime.clone() else { return };
    k.event(pod, "Normal", "Killing", &format!("{why} {name}"));
    if let Some(pre) = def.and_then(|d| d.lifecycle.as_ref()).and_then(|l| l.pre_stop.as_ref()) {
        let left = deadline.saturating_duration_since(Instant::now());
        let ip = pod.status.as_ref().and_then(|s| s.pod_ip.clone()).unwrap_or_default();
        let outcome = if let Some(e) = &pre.exec {
            Some(probes::exec(&rt, id, e, left).await)
        } else if let Some(h) = &pre.http_get {
            Some(probes::http_get(&ip, h, def.unwrap_or(&Container::default()), left).await)
        } else if let Some(s) = &pre.sleep {
            tokio::time::sleep(Duration::from_secs(s.seconds.max(0) as u64).min(left)).await;
            None
        } else {
            None
        };
        if let Some(probes::Outcome::Failure(msg)) = outcome {
            k.event(pod, "Warning", "FailedPreStopHook", &format!("PreStopHook failed: {msg}"));
        }
    }
    // whole seconds, rounded up: a 3 s grace must not become 2
    let left = deadline.saturating_duration_since(Instant::now()).as_secs_f64().ceil() as i64;
    let mut r = rt.runtime.clone();
    let _ = r.stop_container(api::StopContainerRequest { container_id: id.into(), timeout: left.max(0) }).await;
}

/// Where the pod runs: ensure cgroup, volumes, sandbox, containers; probes; status.
async fn run_pod(k: &Arc<Kubelet>, st: &mut WorkerState, pod: &Arc<Pod>, rt: &cri::Runtime) -> Result<Next, String> {
    let (name, _ns, uid) = spec::ids(pod);
    let pspec = pod.spec.clone().unwrap_or_default();
    let qos = cgroups::qos(pod);
    let cgroup = cgroups::pod_cgroup(&uid, qos);
    k.cgroups.ensure_pod(&cgroup, &cgroups::pod_limits(pod)).map_err(|e| format!("pod cgroup {cgroup}: {e}"))?;

    let mounts = match k.volumes.setup(pod).await {
        Ok(m) => {
            st.said.retain(|s| !s.starts_with("FailedMount"));
            m
        }
        Err(e) => {
            let msg = e.to_string();
            if st.said.insert(format!("FailedMount{msg}")) {
                k.event(pod, "Warning", "FailedMount", &msg);
            }
            status::write_pending(k, st, pod).await;
            return Ok(Next::In(Duration::from_secs(2)));
        }
    };

    let mut obs = observe(rt, &uid).await.map_err(|e| e.message().to_string())?;
    status::judge_ooms(k, st, pod, &obs);
    let mut r = rt.runtime.clone();
    // the sandbox: create it when there is none or it died (then every container goes too)
    let ready = obs.sandbox.as_ref().is_some_and(|s| s.state == api::PodSandboxState::SandboxReady as i32);
    if !ready {
        let attempt = obs.sandbox.as_ref().and_then(|s| s.metadata.as_ref()).map(|m| m.attempt + 1).unwrap_or(0);
        if let Some(old) = &obs.sandbox {
            k.event(pod, "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.");
            remove_sandbox(k, &old.id).await;
        }
        let logs = spec::log_dir(&k.pod_logs_dir(), pod);
        std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
        let cfg = spec::sandbox(pod, attempt, &k.pod_logs_dir(), &cgroup, &k.config.cluster_dns, &k.config.cluster_domain);
        match r.run_pod_sandbox(api::RunPodSandboxRequest { config: Some(cfg), runtime_handler: String::new() }).await {
            Ok(_) => {}
            Err(e) => {
                let msg = format!("Failed to create pod sandbox: {}", e.message());
                if st.said.insert(format!("FailedCreatePodSandBox{msg}")) {
                    k.event(pod, "Warning", "FailedCreatePodSandBox", &msg);
                }
                status::write_pending(k, st, pod).await;
                return Ok(Next::In(Duration::from_secs(5)));
            }
        }
        obs = observe(rt, &uid).await.map_err(|e| e.message().to_string())?;
    }
    let Some(sandbox) = obs.sandbox.clone() else { return Ok(Next::In(Duration::from_secs(2))) };
    let sb_status = r
        .pod_sandbox_status(api::PodSandboxStatusRequest { pod_sandbox_id: sandbox.id.clone(), verbose: false })
        .await
        .map_err(|e| e.message().to_string())?
        .into_inner()
        .status;
    let pod_ip = if pspec.host_network.unwrap_or(false) {
        k.config.node_ip.to_string()
    } else {
        sb_status.as_ref().and_then(|s| s.network.as_ref()).map(|n| n.ip.clone()).unwrap_or_default()
    };
    if !pod_ip.is_empty() {
        st.pod_ip = Some(pod_ip.clone());
    }
    let sb_config = spec::sandbox(pod, sandbox.metadata.as_ref().map(|m| m.attempt).unwrap_or(0), &k.pod_logs_dir(), &cgroup, &k.config.cluster_dns, &k.config.cluster_domain);
    let mut soonest = Duration::from_secs(10);
    // whether this sync changed what runs (then CRI is read again before reporting)
    let mut acted = false;
    let policy = restart_policy(pod).to_string();

    // init containers, in order; sidecars (restartPolicy Always) keep running
    let mut initialized = true;
    for c in pspec.init_containers.iter().flatten() {
        let sidecar = c.restart_policy.as_deref() == Some("Always");
        let (latest, _) = attempts(&obs, &c.name);
        match latest {
            Some(l) if running(l) => {
                if sidecar {
                    let started = st.probes.get(&l.id).and_then(|p| p.startup.as_ref()).is_none_or(|s| s.ok);
                    if !started {
                        initialized = false;
                        break;
                    }
                    continue;
                }
                initialized = false;
                break;
            }
            Some(l) if exited(l) && l.exit_code == 0 && !sidecar => continue,
            Some(l) if exited(l) => {
                let restart = sidecar || should_restart(&policy, l.exit_code);
                if !restart {
                    // a failed init container of a pod that never restarts: the pod fails
                    initialized = false;
                    break;
                }
                if let Some(wait) = back_off(k, st, pod, c, l) {
                    soonest = soonest.min(wait);
                    initialized = false;
                    break;
                }
                acted = true;
                start(k, st, pod, c, attempt_of(l) + 1, &sandbox.id, &sb_config, &pod_ip, &mounts).await;
                initialized = false;
                break;
            }
            _ => {
                acted = true;
                soonest = after_start(start(k, st, pod, c, 0, &sandbox.id, &sb_config, &pod_ip, &mounts).await);
                if !sidecar || c.startup_probe.is_some() {
                    initialized = false;
                    break;
                }
            }
        }
    }

    if initialized {
        for c in &pspec.containers {
            let (latest, _) = attempts(&obs, &c.name);
            match latest {
                Some(l) if running(l) => {}
                Some(l) if exited(l) => {
                    if !should_restart(&policy, l.exit_code) {
                        continue;
                    }
                    if let Some(wait) = back_off(k, st, pod, c, l) {
                        soonest = soonest.min(wait);
                        continue;
                    }
                    acted = true;
                    soonest = after_start(start(k, st, pod, c, attempt_of(l) + 1, &sandbox.id, &sb_config, &pod_ip, &mounts).await);
                }
                Some(_) => soonest = Duration::from_millis(300),
                None => {
                    acted = true;
                    soonest = after_start(start(k, st, pod, c, 0, &sandbox.id, &sb_config, &pod_ip, &mounts).await);
                }
            }
        }
    }

    // probes of running containers
    if acted {
        obs = observe(rt, &uid).await.map_err(|e| e.message().to_string())?;
    }
    let killed_before = st.killed_for_probe.len();
    let all: Vec<&Container> = pspec.init_containers.iter().flatten().filter(|c| c.restart_policy.as_deref() == Some("Always")).chain(pspec.containers.iter()).collect();
    for c in all {
        let (Some(l), _) = attempts(&obs, &c.name) else { continue };
        if !running(l) {
            continue;
        }
        if let Some(wait) = run_probes(k, st, pod, c, l, &pod_ip).await {
            soonest = soonest.min(wait);
        }
    }
    st.probes.retain(|id, _| obs.containers.iter().any(|c| &c.id == id && running(c)));

    let _ = k.volumes.refresh(pod).await;
    if st.killed_for_probe.len() != killed_before {
        obs = observe(rt, &uid).await.map_err(|e| e.message().to_string())?;
    }
    status::judge_ooms(k, st, pod, &obs);
    let status = status::compute(k, st, pod, &obs, false);
    status::write(k, st, pod, status).await;
    tracing::trace!(pod = %name, next_ms = soonest.as_millis() as u64, "synced");
    Ok(Next::In(soonest.max(Duration::from_millis(200))))
}

/// Whether a restart must wait; records CrashLoopBackOff. Returns the wait.
fn back_off(k: &Arc<Kubelet>, st: &mut WorkerState, pod: &Pod, c: &Container, l: &api::ContainerStatus) -> Option<Duration> {
    let finished = l.finished_at;
    let ran_for = (l.finished_at - l.started_at).max(0) / 1_000_000_000;
    if ran_for > 600 {
        st.backoff.remove(&c.name);
    }
    let now = jiff::Timestamp::now().as_nanosecond() as i64;
    let delay = match st.backoff.get(&c.name) {
        None => {
            st.backoff.insert(c.name.clone(), BACKOFF_INITIAL);
            return None;
        }
        Some(d) => *d,
    };
    let until = finished + delay.as_nanos() as i64;
    if now < until {
        let (pname, ns, uid) = spec::ids(pod);
        let msg = format!("back-off {} restarting failed container={} pod={pname}_{ns}({uid})", human(delay), c.name);
        st.waiting.insert(c.name.clone(), ("CrashLoopBackOff".into(), msg));
        let key = format!("BackOff/{}/{}", c.name, l.id);
        if st.said.insert(key) {
            k.event(pod, "Warning", "BackOff", &format!("Back-off restarting failed container {} in pod {pname}_{ns}({uid})", c.name));
        }
        return Some(Duration::from_nanos((until - now).max(100_000_000) as u64));
    }
    st.backoff.insert(c.name.clone(), (delay * 2).min(BACKOFF_MAX));
    None
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 { format!("{}m{}s", s / 60, s % 60) } else { format!("{s}s") }
}

/// When to sync again after a start: soon after a success (hooks, probes), later after a failure
/// (a config or pull error is retried every 2 s, not in a tight loop that repeats its event).
fn after_start(started: bool) -> Duration {
    if started { Duration::from_millis(300) } else { Duration::from_secs(2) }
}

/// Creates and starts a container; false when it could not (the waiting reason is recorded).
#[allow(clippy::too_many_arguments)]
async fn start(k: &Arc<Kubelet>, st: &mut WorkerState, pod: &Arc<Pod>, c: &Container, attempt: u32, sandbox_id: &str, sb_config: &api::PodSandboxConfig, pod_ip: &str, mounts: &crate::volumes::PodVolumes) -> bool {
    let Some(rt) = k.runtime.clone() else { return false };
    let image = spec::normalise_image(c.image.as_deref().unwrap_or(""));
    if let Some((_, until)) = st.pull_backoff.get(&c.name)
        && Instant::now() < *until
    {
        let msg = format!("Back-off pulling image \"{}\"", c.image.clone().unwrap_or_default());
        st.waiting.insert(c.name.clone(), ("ImagePullBackOff".into(), msg.clone()));
        if st.said.insert(format!("ImagePullBackOff/{}", c.name)) {
            k.event(pod, "Normal", "BackOff", &msg);
        }
        return false;
    }
    let user_image = c.image.clone().unwrap_or_default();
    let need_pull_event = st.said.insert(format!("Pulling/{}/{attempt}", c.name));
    let pulled = match images::ensure(&rt, &k.client, pod, c, &image).await {
        Ok(p) => {
            st.pull_backoff.remove(&c.name);
            st.said.remove(&format!("ImagePullBackOff/{}", c.name));
            if need_pull_event {
                if p.pulled {
                    k.event(pod, "Normal", "Pulling", &format!("Pulling image \"{user_image}\""));
                    k.event(pod, "Normal", "Pulled", &format!("Successfully pulled image \"{user_image}\" in {:.3}s", p.took.as_secs_f64()));
                } else {
                    k.event(pod, "Normal", "Pulled", &format!("Container image \"{user_image}\" already present on machine"));
                }
            }
            p
        }
        Err(e) => {
            st.said.remove(&format!("Pulling/{}/{attempt}", c.name));
            if e.reason == "ErrImagePull" {
                k.event(pod, "Normal", "Pulling", &format!("Pulling image \"{user_image}\""));
                let d = st.pull_backoff.get(&c.name).map(|(d, _)| (*d * 2).min(BACKOFF_MAX)).unwrap_or(BACKOFF_INITIAL);
                st.pull_backoff.insert(c.name.clone(), (d, Instant::now() + d));
            }
            k.event(pod, "Warning", "Failed", &format!("Failed to pull image \"{user_image}\": {}", e.message));
            k.event(pod, "Warning", "Failed", &format!("Error: {}", e.reason));
            st.waiting.insert(c.name.clone(), (e.reason.to_string(), e.message));
            return false;
        }
    };
    let host_ips = vec![k.config.node_ip.to_string()];
    let envs = match crate::env::container_env_with_warnings(&k.client, pod, c, &[pod_ip.to_string()], &host_ips).await {
        Ok(e) => {
            for w in &e.warnings {
                if st.said.insert(format!("InvalidEnv/{w}")) {
                    k.event(pod, "Warning", crate::env::INVALID_ENV_NAMES_REASON, w);
                }
            }
            e.vars
        }
        Err(e) => {
            st.waiting.insert(c.name.clone(), ("CreateContainerConfigError".into(), e.to_string()));
            k.event(pod, "Warning", "Failed", &format!("Error: {e}"));
            return false;
        }
    };
    let container_mounts = match mounts.mounts(&c.name, &envs) {
        Ok(m) => m,
        Err(e) => {
            st.waiting.insert(c.name.clone(), ("CreateContainerConfigError".into(), e.to_string()));
            k.event(pod, "Warning", "Failed", &format!("Error: {e}"));
            return false;
        }
    };
    if let Err(e) = spec::verify_run_as_non_root(pod, c, pulled.user.uid, &pulled.user.username) {
        if st.said.insert(format!("NonRoot/{}/{e}", c.name)) {
            k.event(pod, "Warning", "Failed", &format!("Error: {e}"));
        }
        st.waiting.insert(c.name.clone(), ("CreateContainerConfigError".into(), e));
        return false;
    }
    // $(VAR) in command and args expands from the container's environment
    let mut c = c.clone();
    c.command = c.command.map(|v| v.iter().map(|a| crate::env::expand_with_env(a, &envs)).collect());
    c.args = c.args.map(|v| v.iter().map(|a| crate::env::expand_with_env(a, &envs)).collect());
    let c = &c;
    let cfg = spec::container(pod, c, attempt, &pulled.image_ref, envs, container_mounts);
    let mut r = rt.runtime.clone();
    let id = match r.create_container(api::CreateContainerRequest { pod_sandbox_id: sandbox_id.into(), config: Some(cfg), sandbox_config: Some(sb_config.clone()) }).await {
        Ok(resp) => resp.into_inner().container_id,
        Err(e) => {
            st.waiting.insert(c.name.clone(), ("CreateContainerError".into(), e.message().to_string()));
            k.event(pod, "Warning", "Failed", &format!("Error: {}", e.message()));
            return false;
        }
    };
    k.event(pod, "Normal", "Created", &format!("Created container {}", c.name));
    if let Err(e) = r.start_container(api::StartContainerRequest { container_id: id.clone() }).await {
        st.waiting.insert(c.name.clone(), ("RunContainerError".into(), e.message().to_string()));
        k.event(pod, "Warning", "Failed", &format!("Error: {}", e.message()));
        return false;
    }
    st.waiting.remove(&c.name);
    k.event(pod, "Normal", "Started", &format!("Started container {}", c.name));
    // probes start with the container
    let probes = ContainerProbes {
        startup: c.startup_probe.as_ref().map(|p| probes::ProbeState::new(p, false)),
        liveness: c.liveness_probe.as_ref().map(|p| probes::ProbeState::new(p, true)),
        readiness: c.readiness_probe.as_ref().map(|p| probes::ProbeState::new(p, false)),
    };
    st.probes.insert(id.clone(), probes);
    if let Some(post) = c.lifecycle.as_ref().and_then(|l| l.post_start.as_ref()) {
        let timeout = Duration::from_secs(30);
        let outcome = if let Some(e) = &post.exec {
            probes::exec(&rt, &id, e, timeout).await
        } else if let Some(h) = &post.http_get {
            probes::http_get(pod_ip, h, c, timeout).await
        } else {
            if let Some(s) = &post.sleep {
                tokio::time::sleep(Duration::from_secs(s.seconds.max(0) as u64)).await;
            }
            probes::Outcome::Success
        };
        st.hooked.insert(id.clone());
        if let probes::Outcome::Failure(msg) = outcome {
            k.event(pod, "Warning", "FailedPostStartHook", &format!("PostStartHook failed: {msg}"));
            kill_container(k, pod, Some(c), &id, &c.name, Instant::now() + Duration::from_secs(2), &format!("FailedPostStartHook: stopping container {} because", c.name)).await;
        }
    }
    true
}

/// Runs the probes due for a running container; kills it when liveness or startup fails.
/// Returns when the next probe is due.
async fn run_probes(k: &Arc<Kubelet>, st: &mut WorkerState, pod: &Arc<Pod>, c: &Container, l: &api::ContainerStatus, pod_ip: &str) -> Option<Duration> {
    let rt = k.runtime.clone()?;
    let entry = st.probes.entry(l.id.clone()).or_insert_with(|| ContainerProbes {
        // adopted after a restart: treat as started and live, readiness re-established
        startup: None,
        liveness: c.liveness_probe.as_ref().map(|p| probes::ProbeState::new(p, true)),
        readiness: c.readiness_probe.as_ref().map(|p| probes::ProbeState::new(p, false)),
    });
    let now = Instant::now();
    let mut kill: Option<String> = None;
    let mut events: Vec<(String, String)> = Vec::new();
    let started = entry.startup.as_ref().is_none_or(|s| s.ok);
    if !started {
        let p = c.startup_probe.as_ref()?;
        let s = entry.startup.as_mut()?;
        if s.next <= now {
            let o = probes::run(&rt, pod_ip, c, &l.id, p).await;
            if let probes::Outcome::Failure(m) = &o {
                events.push(("Unhealthy".into(), format!("Startup probe failed: {m}")));
            }
            s.record(p, &o);
            if s.failures >= p.failure_threshold.unwrap_or(3).max(1) {
                kill = Some(format!("Container {} failed startup probe, will be restarted", c.name));
            }
        }
    } else {
        if let (Some(p), Some(s)) = (c.liveness_probe.as_ref(), entry.liveness.as_mut())
            && s.next <= now
        {
            let o = probes::run(&rt, pod_ip, c, &l.id, p).await;
            if let probes::Outcome::Failure(m) = &o {
                events.push(("Unhealthy".into(), format!("Liveness probe failed: {m}")));
            }
            s.record(p, &o);
            if !s.ok {
                kill = Some(format!("Container {} failed liveness probe, will be restarted", c.name));
            }
        }
        if let (Some(p), Some(s)) = (c.readiness_probe.as_ref(), entry.readiness.as_mut())
            && s.next <= now
        {
            let o = probes::run(&rt, pod_ip, c, &l.id, p).await;
            if let probes::Outcome::Failure(m) = &o {
                events.push(("Unhealthy".into(), format!("Readiness probe failed: {m}")));
            }
            if s.record(p, &o) {
                k.status_changed.notify_one();
            }
        }
    }
    let next = [entry.startup.as_ref(), entry.liveness.as_ref(), entry.readiness.as_ref()]
        .into_iter()
        .flatten()
        .map(|s| s.next.saturating_duration_since(Instant::now()))
        .min();
    for (reason, msg) in events {
        k.event(pod, "Warning", &reason, &msg);
    }
    if let Some(why) = kill {
        st.killed_for_probe.insert(l.id.clone());
        let grace = pod.spec.as_ref().and_then(|s| s.termination_grace_period_seconds).unwrap_or(30).max(0);
        k.event(pod, "Normal", "Killing", &why);
        let mut r = rt.runtime.clone();
        let _ = r.stop_container(api::StopContainerRequest { container_id: l.id.clone(), timeout: grace }).await;
        return Some(Duration::from_millis(200));
    }
    next
}

/// Whether a container counts as ready (running, started, readiness passing or absent).
fn container_ready(st: &WorkerState, c: &Container, l: &api::ContainerStatus) -> bool {
    if !running(l) {
        return false;
    }
    let Some(p) = st.probes.get(&l.id) else { return c.readiness_probe.is_none() && c.startup_probe.is_none() };
    p.startup.as_ref().is_none_or(|s| s.ok) && p.readiness.as_ref().is_none_or(|s| s.ok)
}

/// Whether a container's startup probe passed (or it has none).
fn container_started(st: &WorkerState, l: &api::ContainerStatus) -> bool {
    running(l) && st.probes.get(&l.id).and_then(|p| p.startup.as_ref()).is_none_or(|s| s.ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies() {
        assert!(should_restart("Always", 0));
        assert!(should_restart("OnFailure", 1));
        assert!(!should_restart("OnFailure", 0));
        assert!(!should_restart("Never", 1));
    }

    #[test]
    fn back_off_durations_print_like_go() {
        assert_eq!(human(Duration::from_secs(10)), "10s");
        assert_eq!(human(Duration::from_secs(80)), "1m20s");
        assert_eq!(human(Duration::from_secs(300)), "5m0s");
    }
}
