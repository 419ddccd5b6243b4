//! A pod's status as the kubelet reports it: phase (upstream's getPhase), the kubelet's
//! conditions, container statuses with state/lastState/restartCount/image IDs, IPs, QoS class.

use std::sync::Arc;

use cri::api;
use k8s_openapi::api::core::v1::{Container, Pod};
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

use super::{Observed, WorkerState, attempts, container_ready, container_started, exited, restart_policy, running};
use crate::{Kubelet, cgroups};

/// A CRI time (nanoseconds) as the API writes it: RFC 3339, whole seconds (truncated, as Go's
/// `metav1.Time`).
fn rfc3339(nanos: i64) -> String {
    jiff::Timestamp::from_second(nanos.div_euclid(1_000_000_000)).map(|t| t.to_string()).unwrap_or_default()
}

/// Whether the previous status already reported this container instance as OOMKilled.
fn reported_oom(pod: &Pod, id: &str) -> bool {
    let cid = format!("containerd://{id}");
    let st = pod.status.as_ref();
    st.into_iter()
        .flat_map(|s| s.container_statuses.iter().flatten().chain(s.init_container_statuses.iter().flatten()))
        .flat_map(|cs| [cs.state.as_ref(), cs.last_state.as_ref()])
        .flatten()
        .filter_map(|s| s.terminated.as_ref())
        .any(|t| t.container_id.as_deref() == Some(cid.as_str()) && t.reason.as_deref() == Some("OOMKilled"))
}

/// Infers an OOM kill the runtime did not report (containerd on cgroup v1 here says exit 137,
/// reason Error): the pod's memory cgroup peaked at the container's memory limit. The pod's peak
/// is reset once an OOM kill is recognised, so a later exit is judged on its own.
fn oom_inferred(k: &Kubelet, pod: &Pod, c: &Container, l: &api::ContainerStatus) -> bool {
    if l.exit_code != 137 {
        return false;
    }
    let limit = c.resources.as_ref().and_then(|r| r.limits.as_ref()).and_then(|m| m.get("memory")).and_then(|q| crate::quantity::parse(&q.0));
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let cg = cgroups::pod_cgroup(&uid, cgroups::qos(pod));
    match (limit, k.cgroups.peak_memory(&cg)) {
        // the pod's memory cgroup reached the container's limit: the kernel's OOM killer
        (Some(limit), Some(peak)) => peak as f64 >= limit * 0.9,
        _ => k.cgroups.oom_evidence(&cg),
    }
}

/// Decides once per exited container instance whether it was OOM-killed (the runtime's
/// reason, the pod's previous status, or the inference), before anything else can change the
/// pod cgroup's peak.
pub fn judge_ooms(k: &Kubelet, st: &mut WorkerState, pod: &Pod, obs: &Observed) {
    let spec = pod.spec.clone().unwrap_or_default();
    for l in obs.containers.iter().filter(|c| exited(c)) {
        if st.oom.contains_key(&l.id) {
            continue;
        }
        let name = super::name_of(l);
        let Some(c) = spec.containers.iter().chain(spec.init_containers.iter().flatten()).find(|c| c.name == name) else { continue };
        let verdict = if l.reason == "OOMKilled" || reported_oom(pod, &l.id) {
            true
        } else if st.stopped.contains(&l.id) || st.killed_for_probe.contains(&l.id) {
            false
        } else {
            oom_inferred(k, pod, c, l)
        };
        if verdict {
            let uid = pod.metadata.uid.clone().unwrap_or_default();
            k.cgroups.reset_peak_memory(&cgroups::pod_cgroup(&uid, cgroups::qos(pod)));
        }
        st.oom.insert(l.id.clone(), verdict);
    }
    st.oom.retain(|id, _| obs.containers.iter().any(|c| &c.id == id));
}

fn terminated(k: &Kubelet, st: &WorkerState, pod: &Pod, c: &Container, l: &api::ContainerStatus) -> Value {
    let reason = if st.killed_for_probe.contains(&l.id) {
        "Error"
    } else if l.reason == "OOMKilled" || st.oom.get(&l.id).copied().unwrap_or_else(|| reported_oom(pod, &l.id) || oom_inferred(k, pod, c, l)) {
        "OOMKilled"
    } else if l.exit_code == 0 {
        "Completed"
    } else {
        "Error"
    };
    let mut t = json!({
        "exitCode": l.exit_code,
        "reason": reason,
        "startedAt": rfc3339(l.started_at),
        "finishedAt": rfc3339(l.finished_at),
        "containerID": format!("containerd://{}", l.id),
    });
    if !l.message.is_empty() {
        t["message"] = json!(l.message);
    }
    t
}

fn container_status(k: &Kubelet, st: &WorkerState, pod: &Pod, obs: &Observed, c: &Container, init: bool, default_waiting: &str) -> Value {
    let (latest, previous) = attempts(obs, &c.name);
    let mut s = json!({
        "name": c.name,
        "image": c.image.clone().unwrap_or_default(),
        "imageID": "",
        "ready": false,
        "restartCount": latest.map(super::attempt_of).unwrap_or(0),
        "started": false,
    });
    if init && c.restart_policy.as_deref() != Some("Always") {
        s.as_object_mut().map(|o| o.remove("started"));
    }
    let waiting = st.waiting.get(&c.name);
    match latest {
        None => {
            let (reason, message) = waiting.cloned().unwrap_or_else(|| (default_waiting.to_string(), String::new()));
            s["state"] = if message.is_empty() { json!({"waiting": {"reason": reason}}) } else { json!({"waiting": {"reason": reason, "message": message}}) };
        }
        Some(l) => {
            s["imageID"] = json!(l.image_ref);
            s["containerID"] = json!(format!("containerd://{}", l.id));
            if running(l) {
                s["state"] = json!({"running": {"startedAt": rfc3339(l.started_at)}});
                s["ready"] = json!(container_ready(st, c, l));
                if s.get("started").is_some() {
                    s["started"] = json!(container_started(st, l));
                }
            } else if exited(l) {
                let term = terminated(k, st, pod, c, l);
                match waiting.filter(|(r, _)| r == "CrashLoopBackOff" || r.ends_with("Error") || r.contains("Image")) {
                    Some((reason, message)) => {
                        s["state"] = json!({"waiting": {"reason": reason, "message": message}});
                        s["lastState"] = json!({"terminated": term});
                    }
                    None => s["state"] = json!({"terminated": term}),
                }
            } else {
                s["state"] = json!({"waiting": {"reason": "ContainerCreating"}});
            }
            if s.get("lastState").is_none()
                && let Some(p) = previous.filter(|p| exited(p))
            {
                s["lastState"] = json!({"terminated": terminated(k, st, pod, c, p)});
            }
        }
    }
    if s.get("lastState").is_none() {
        s["lastState"] = json!({});
    }
    s
}

fn condition(type_: &str, ok: bool, reason: Option<&str>, message: Option<String>, old: &[Value]) -> Value {
    let status = if ok { "True" } else { "False" };
    let prev = old.iter().find(|c| c["type"] == type_);
    let transition = match prev {
        Some(p) if p["status"] == status => p["lastTransitionTime"].clone(),
        _ => json!(jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or(jiff::Timestamp::now()).to_string()),
    };
    let mut c = json!({"type": type_, "status": status, "lastProbeTime": null, "lastTransitionTime": transition});
    if let Some(r) = reason.filter(|_| !ok) {
        c["reason"] = json!(r);
    }
    if let Some(m) = message.filter(|_| !ok) {
        c["message"] = json!(m);
    }
    c
}

/// The pod's status from what CRI shows. `terminating`: the pod is being deleted and its
/// containers were stopped (the phase becomes terminal).
pub fn compute(k: &Kubelet, st: &WorkerState, pod: &Pod, obs: &Observed, terminating: bool) -> Value {
    let spec = pod.spec.clone().unwrap_or_default();
    let old = pod.status.clone().unwrap_or_default();
    let old_conditions: Vec<Value> = old.conditions.iter().flatten().filter_map(|c| serde_json::to_value(c).ok()).collect();
    let policy = restart_policy(pod);

    // init containers
    let mut init_statuses = Vec::new();
    let mut incomplete = Vec::new();
    let mut init_failed = false;
    let mut initialized = true;
    for c in spec.init_containers.iter().flatten() {
        let sidecar = c.restart_policy.as_deref() == Some("Always");
        let st_json = container_status(k, st, pod, obs, c, true, "PodInitializing");
        let (latest, _) = attempts(obs, &c.name);
        let done = match latest {
            Some(l) if sidecar => running(l) && container_started(st, l),
            Some(l) => exited(l) && l.exit_code == 0,
            None => false,
        };
        if let Some(l) = latest
            && exited(l)
            && l.exit_code != 0
            && !sidecar
            && policy == "Never"
        {
            init_failed = true;
        }
        if !done {
            initialized = false;
            incomplete.push(c.name.clone());
        }
        init_statuses.push(st_json);
    }

    let waiting_reason = if initialized { "ContainerCreating" } else { "PodInitializing" };
    let mut statuses = Vec::new();
    let (mut n_running, mut n_waiting, mut n_succeeded, mut n_failed, mut n_restarted) = (0, 0, 0, 0, 0);
    let mut unready = Vec::new();
    for c in &spec.containers {
        let s = container_status(k, st, pod, obs, c, false, waiting_reason);
        if s["ready"] != json!(true) {
            unready.push(c.name.clone());
        }
        if s["restartCount"].as_u64().unwrap_or(0) > 0 {
            n_restarted += 1;
        }
        if s["state"].get("running").is_some() {
            n_running += 1;
        } else if let Some(t) = s["state"].get("terminated") {
            if t["exitCode"] == 0 {
                n_succeeded += 1;
            } else {
                n_failed += 1;
            }
        } else if s["lastState"].get("terminated").is_some() {
            // restarting after a termination
            if s["lastState"]["terminated"]["exitCode"] == 0 && policy != "Always" {
                n_succeeded += 1;
            } else if policy == "Never" {
                n_failed += 1;
            } else {
                n_running += 1;
            }
        } else {
            n_waiting += 1;
        }
        statuses.push(s);
    }
    let total = spec.containers.len();
    let phase = if init_failed {
        "Failed"
    } else if terminating {
        if n_succeeded == total && total > 0 { "Succeeded" } else { "Failed" }
    } else if !initialized || (n_waiting > 0 && n_restarted == 0 && n_running == 0) {
        "Pending"
    } else if n_running > 0 || n_waiting > 0 {
        "Running"
    } else if n_succeeded + n_failed == total && total > 0 {
        match policy {
            "Always" => "Running",
            "OnFailure" if n_failed > 0 => "Running",
            _ if n_failed > 0 => "Failed",
            _ => "Succeeded",
        }
    } else {
        "Pending"
    };

    let sandbox_ready = obs.sandbox.as_ref().is_some_and(|s| s.state == api::PodSandboxState::SandboxReady as i32) && !terminating;
    let containers_ready = unready.is_empty() && total > 0 && initialized && phase == "Running";
    let gates: Vec<String> = spec.readiness_gates.iter().flatten().map(|g| g.condition_type.clone()).collect();
    let gates_unready: Vec<String> = gates.iter().filter(|g| !old_conditions.iter().any(|c| c["type"] == g.as_str() && c["status"] == "True")).cloned().collect();
    let list = |v: &[String]| format!("[{}]", v.join(" "));
    let mut conditions: Vec<Value> = old_conditions
        .iter()
        .filter(|c| !matches!(c["type"].as_str(), Some("PodReadyToStartContainers" | "Initialized" | "Ready" | "ContainersReady")))
        .cloned()
        .collect();
    conditions.push(condition("PodReadyToStartContainers", sandbox_ready, None, None, &old_conditions));
    conditions.push(condition("Initialized", initialized, Some("ContainersNotInitialized"), Some(format!("containers with incomplete status: {}", list(&incomplete))), &old_conditions));
    let (ready_reason, ready_msg) = if !containers_ready {
        if phase == "Succeeded" || phase == "Failed" { ("PodCompleted", None) } else { ("ContainersNotReady", Some(format!("containers with unready status: {}", list(&unready)))) }
    } else {
        ("ReadinessGatesNotReady", Some(format!("the status of pod readiness gate {:?} is not \"True\", but False", gates_unready.first().cloned().unwrap_or_default())))
    };
    let ready = containers_ready && gates_unready.is_empty();
    conditions.push(condition("Ready", ready, Some(ready_reason), ready_msg, &old_conditions));
    let (cr_reason, cr_msg) = if phase == "Succeeded" || phase == "Failed" { ("PodCompleted", None) } else { ("ContainersNotReady", Some(format!("containers with unready status: {}", list(&unready)))) };
    conditions.push(condition("ContainersReady", containers_ready, Some(cr_reason), cr_msg, &old_conditions));
    conditions.sort_by_key(|c| match c["type"].as_str() {
        Some("PodReadyToStartContainers") => 0,
        Some("Initialized") => 1,
        Some("Ready") => 2,
        Some("ContainersReady") => 3,
        Some("PodScheduled") => 4,
        _ => 5,
    });

    let host = k.config.node_ip.to_string();
    let mut out = json!({
        "phase": phase,
        "conditions": conditions,
        "hostIP": host,
        "hostIPs": [{"ip": host}],
        "qosClass": cgroups::qos(pod).as_str(),
        "containerStatuses": statuses,
        "startTime": old.start_time.as_ref().map(|t| t.0.to_string()).unwrap_or_else(|| jiff::Timestamp::now().round(jiff::Unit::Second).unwrap_or(jiff::Timestamp::now()).to_string()),
    });
    if !init_statuses.is_empty() {
        out["initContainerStatuses"] = json!(init_statuses);
    }
    let ip = if spec.host_network.unwrap_or(false) { Some(host.clone()) } else { st.pod_ip.clone().or(old.pod_ip.clone()) };
    if let Some(ip) = ip.filter(|i| !i.is_empty()) {
        out["podIP"] = json!(ip);
        out["podIPs"] = json!([{"ip": ip}]);
    }
    out
}

/// Patches the pod's status when it changed since the last write.
pub async fn write(k: &Arc<Kubelet>, st: &mut WorkerState, pod: &Pod, status: Value) {
    if st.last_status.as_ref() == Some(&status) {
        return;
    }
    let (name, ns, _) = super::spec::ids(pod);
    let api: Api<Pod> = Api::namespaced(k.client.clone(), &ns);
    match api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&json!({"status": status}))).await {
        Ok(_) => st.last_status = Some(status),
        Err(e) => tracing::debug!(pod = %name, namespace = %ns, error = %e, "writing pod status"),
    }
}

/// Reports a pod that cannot start yet (volumes, sandbox) as Pending with its containers waiting.
pub async fn write_pending(k: &Arc<Kubelet>, st: &mut WorkerState, pod: &Pod) {
    let obs = Observed { sandbox: None, containers: Vec::new() };
    let s = compute(k, st, pod, &obs, false);
    write(k, st, pod, s).await;
}
