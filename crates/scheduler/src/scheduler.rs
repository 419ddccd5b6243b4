//! The running scheduler: informers feeding the cache and the queue, the scheduling loop,
//! binding, events (`Scheduled`, `FailedScheduling`, `Preempted`) and pod status updates.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Node, ObjectReference, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event as WatchEvent};
use parking_lot::Mutex;
use serde_json::json;
use tokio::sync::{Notify, Semaphore};

use crate::algorithm::{self, Candidate};
use crate::cache::{PodInfo, State};
use crate::framework::{Diagnosis, Plugin};
use crate::plugins::{self, volume};
use crate::queue::Queue;

/// The scheduler's name: pods whose `spec.schedulerName` is this (the defaulted value) are
/// ours; others are left alone.
pub const SCHEDULER_NAME: &str = "default-scheduler";

/// Events written at once.
const EVENT_WRITERS: usize = 32;

/// Bindings and status writes in flight at once.
const MAX_IN_FLIGHT: usize = 256;

struct Shared {
    client: kube::Client,
    state: Mutex<State>,
    queue: Queue,
    plugins: Vec<Box<dyn Plugin>>,
    instance: String,
    events: tokio::sync::mpsc::UnboundedSender<Event>,
    nodes_synced: AtomicBool,
    pods_synced: AtomicBool,
    synced: Notify,
}

/// Runs the scheduler until the future is dropped.
pub async fn run(client: kube::Client) {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_string()).unwrap_or_else(|_| "localhost".into());
    let (events, events_rx) = tokio::sync::mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        events,
        client: client.clone(),
        state: Mutex::new(State::default()),
        queue: Queue::default(),
        plugins: plugins::default_profile(),
        instance: format!("{SCHEDULER_NAME}-{host}"),
        nodes_synced: AtomicBool::new(false),
        pods_synced: AtomicBool::new(false),
        synced: Notify::new(),
    });
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(write_events(client.clone(), events_rx));
    tasks.spawn(informer::<Node>(Api::all(client.clone()), shared.clone(), on_node, on_node_delete, relist_nodes));
    tasks.spawn(informer::<Pod>(Api::all(client.clone()), shared.clone(), on_pod, on_pod_delete, relist_pods));
    tasks.spawn(informer::<Namespace>(Api::all(client.clone()), shared.clone(), on_namespace, on_namespace_delete, |_, _| {}));
    tasks.spawn(informer::<PersistentVolumeClaim>(Api::all(client.clone()), shared.clone(), on_pvc, on_pvc_delete, |_, _| {}));
    tasks.spawn(informer::<PersistentVolume>(Api::all(client.clone()), shared.clone(), on_pv, on_pv_delete, |_, _| {}));
    tasks.spawn(informer::<PodDisruptionBudget>(Api::all(client.clone()), shared.clone(), on_pdb, on_pdb_delete, |_, _| {}));
    tasks.spawn(informer::<StorageClass>(Api::all(client.clone()), shared.clone(), on_class, on_class_delete, |_, _| {}));
    loop {
        let notified = shared.synced.notified();
        if shared.nodes_synced.load(Ordering::Acquire) && shared.pods_synced.load(Ordering::Acquire) {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
    }
    tracing::info!("scheduler caches synced; scheduling");
    let loop_task = schedule_loop(shared.clone());
    tokio::select! {
        () = loop_task => {}
        _ = async { while tasks.join_next().await.is_some() {} } => {}
    }
}

type Handler<K> = fn(&Shared, K);
type Relist = fn(&Shared, &HashSet<String>);

fn key_of<K: kube::Resource>(o: &K) -> String {
    let m = o.meta();
    match (&m.uid, &m.namespace) {
        (Some(u), _) => u.clone(),
        (None, Some(ns)) => format!("{ns}/{}", m.name.clone().unwrap_or_default()),
        (None, None) => m.name.clone().unwrap_or_default(),
    }
}

async fn informer<K>(api: Api<K>, shared: Arc<Shared>, apply: Handler<K>, delete: Handler<K>, relist: Relist)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    K::DynamicType: Default,
{
    let stream = watcher::watcher(api, watcher::Config::default()).default_backoff();
    futures::pin_mut!(stream);
    let mut seen: HashSet<String> = HashSet::new();
    while let Some(ev) = stream.next().await {
        match ev {
            Ok(WatchEvent::Apply(o)) => apply(&shared, o),
            Ok(WatchEvent::Delete(o)) => delete(&shared, o),
            Ok(WatchEvent::Init) => seen.clear(),
            Ok(WatchEvent::InitApply(o)) => {
                seen.insert(key_of(&o));
                apply(&shared, o);
            }
            Ok(WatchEvent::InitDone) => {
                relist(&shared, &seen);
                seen.clear();
                let dt = K::DynamicType::default();
                let kind = K::kind(&dt);
                if kind == "Node" {
                    shared.nodes_synced.store(true, Ordering::Release);
                } else if kind == "Pod" {
                    shared.pods_synced.store(true, Ordering::Release);
                }
                shared.synced.notify_waiters();
            }
            Err(e) => tracing::warn!(error = %e, "scheduler informer"),
        }
    }
}

fn on_node(s: &Shared, node: Node) {
    if s.state.lock().upsert_node(node) {
        s.queue.move_all_unschedulable();
    }
}

fn on_node_delete(s: &Shared, node: Node) {
    s.state.lock().remove_node(node.metadata.name.as_deref().unwrap_or(""));
}

fn relist_nodes(s: &Shared, seen: &HashSet<String>) {
    let mut st = s.state.lock();
    let gone: Vec<String> = st
        .order
        .iter()
        .filter(|n| st.nodes.get(*n).and_then(|i| i.node.as_ref()).is_none_or(|node| !seen.contains(&key_of(node.as_ref()))))
        .cloned()
        .collect();
    for n in gone {
        st.remove_node(&n);
    }
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(pod.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed"))
}

fn assigned_node(pod: &Pod) -> Option<&str> {
    pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).filter(|n| !n.is_empty())
}

fn responsible(pod: &Pod) -> bool {
    let spec = pod.spec.as_ref();
    spec.and_then(|s| s.scheduler_name.as_deref()).is_none_or(|n| n.is_empty() || n == SCHEDULER_NAME)
        && spec.and_then(|s| s.scheduling_gates.as_ref()).is_none_or(|g| g.is_empty())
        && pod.metadata.deletion_timestamp.is_none()
}

fn on_pod(s: &Shared, pod: Pod) {
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    if is_terminal(&pod) {
        s.queue.delete(&uid);
        let removed = s.state.lock().remove_pod(&uid).is_some();
        if removed {
            s.queue.move_all_unschedulable();
        }
        return;
    }
    if let Some(node) = assigned_node(&pod).map(str::to_string) {
        s.queue.delete(&uid);
        let info = Arc::new(PodInfo::new(Arc::new(pod)));
        s.state.lock().add_pod(info, &node, false);
        return;
    }
    if s.state.lock().is_assumed(&uid) {
        return; // our binding is in flight
    }
    if responsible(&pod) {
        s.queue.add_or_update(Arc::new(pod));
    } else {
        s.queue.delete(&uid);
    }
}

fn on_pod_delete(s: &Shared, pod: Pod) {
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    s.queue.delete(&uid);
    let removed = {
        let mut st = s.state.lock();
        st.nominated.remove(&uid);
        st.remove_pod(&uid).is_some()
    };
    if removed {
        s.queue.move_all_unschedulable();
    }
}

fn relist_pods(s: &Shared, seen: &HashSet<String>) {
    let gone: Vec<String> = {
        let st = s.state.lock();
        st.pods.iter().filter(|(uid, p)| !p.assumed && !seen.contains(*uid)).map(|(uid, _)| uid.clone()).collect()
    };
    for uid in gone {
        s.state.lock().remove_pod(&uid);
        s.queue.delete(&uid);
    }
}

fn on_namespace(s: &Shared, ns: Namespace) {
    let name = ns.metadata.name.clone().unwrap_or_default();
    s.state.lock().namespaces.insert(name, ns.metadata.labels.unwrap_or_default());
}

fn on_namespace_delete(s: &Shared, ns: Namespace) {
    s.state.lock().namespaces.remove(ns.metadata.name.as_deref().unwrap_or(""));
}

fn ns_key<K: kube::Resource>(o: &K) -> String {
    format!("{}/{}", o.meta().namespace.as_deref().unwrap_or(""), o.meta().name.as_deref().unwrap_or(""))
}

fn on_pvc(s: &Shared, pvc: PersistentVolumeClaim) {
    s.state.lock().pvcs.insert(ns_key(&pvc), Arc::new(pvc));
    s.queue.move_all_unschedulable();
}

fn on_pvc_delete(s: &Shared, pvc: PersistentVolumeClaim) {
    s.state.lock().pvcs.remove(&ns_key(&pvc));
}

fn on_pv(s: &Shared, pv: PersistentVolume) {
    s.state.lock().pvs.insert(pv.metadata.name.clone().unwrap_or_default(), Arc::new(pv));
    s.queue.move_all_unschedulable();
}

fn on_pv_delete(s: &Shared, pv: PersistentVolume) {
    s.state.lock().pvs.remove(pv.metadata.name.as_deref().unwrap_or(""));
}

fn on_pdb(s: &Shared, pdb: PodDisruptionBudget) {
    let key = ns_key(&pdb);
    let mut st = s.state.lock();
    st.pdbs.retain(|p| ns_key(p.as_ref()) != key);
    st.pdbs.push(Arc::new(pdb));
}

fn on_pdb_delete(s: &Shared, pdb: PodDisruptionBudget) {
    let key = ns_key(&pdb);
    s.state.lock().pdbs.retain(|p| ns_key(p.as_ref()) != key);
}

fn on_class(s: &Shared, sc: StorageClass) {
    s.state.lock().classes.insert(sc.metadata.name.clone().unwrap_or_default(), Arc::new(sc));
    s.queue.move_all_unschedulable();
}

fn on_class_delete(s: &Shared, sc: StorageClass) {
    s.state.lock().classes.remove(sc.metadata.name.as_deref().unwrap_or(""));
}

enum Decision {
    Bind { node: String, volumes: volume::VolumeActions },
    Fail { message: String, preemption: Option<Candidate> },
}

async fn schedule_loop(s: Arc<Shared>) {
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_rng(&mut rand::rng());
    loop {
        let pod = s.queue.pop().await;
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let info = Arc::new(PodInfo::new(pod.clone()));
        let decision = {
            let mut st = s.state.lock();
            if st.pods.contains_key(&uid) {
                drop(st);
                s.queue.done(&uid);
                continue;
            }
            match algorithm::schedule(&s.plugins, &mut st, &info, &mut rng) {
                Ok((node, cs)) => {
                    let volumes = match st.nodes.get(&node) {
                        Some(ni) => {
                            let ni = ni.clone();
                            volume::assume_volumes(&cs, &ni, &mut st)
                        }
                        None => volume::VolumeActions::default(),
                    };
                    st.add_pod(info.clone(), &node, true);
                    Decision::Bind { node, volumes }
                }
                Err(mut diag) => {
                    let preemption = if diag.num_nodes == 0 {
                        None
                    } else {
                        match algorithm::preempt(&s.plugins, &st, &info, &diag) {
                            Ok(c) => {
                                st.nominated.insert(uid.clone(), (c.node.clone(), info.clone()));
                                Some(c)
                            }
                            Err(msg) => {
                                diag.post_filter_msg = Some(format!("preemption: {msg}"));
                                None
                            }
                        }
                    };
                    Decision::Fail { message: failure_message(&diag), preemption }
                }
            }
        };
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        match decision {
            Decision::Bind { node, volumes } => {
                s.queue.done(&uid);
                let s = s.clone();
                tokio::spawn(async move {
                    bind(&s, pod, &node, volumes).await;
                    drop(permit);
                });
            }
            Decision::Fail { message, preemption } => {
                s.queue.requeue_unschedulable(&uid);
                let s = s.clone();
                tokio::spawn(async move {
                    report_failure(&s, &pod, &message, preemption).await;
                    drop(permit);
                });
            }
        }
    }
}

fn failure_message(diag: &Diagnosis) -> String {
    if diag.num_nodes == 0 { algorithm::NO_NODES.to_string() } else { diag.message() }
}

fn reference(pod: &Pod) -> ObjectReference {
    ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Pod".into()),
        namespace: pod.metadata.namespace.clone(),
        name: pod.metadata.name.clone(),
        uid: pod.metadata.uid.clone(),
        resource_version: pod.metadata.resource_version.clone(),
        ..Default::default()
    }
}

/// Records an events.k8s.io/v1 Event about a pod, as the scheduler's event recorder does.
/// Queues an events.k8s.io/v1 Event about a pod for the event writer (as upstream's
/// broadcaster, events never hold up binding).
fn record(s: &Shared, pod: &Pod, related: Option<&Pod>, warning: bool, reason: &str, action: &str, note: String) {
    let ns = pod.metadata.namespace.clone().unwrap_or_else(|| "default".into());
    let now = jiff::Timestamp::now();
    let ev = Event {
        metadata: ObjectMeta {
            name: Some(format!("{}.{:x}", pod.metadata.name.as_deref().unwrap_or("pod"), now.as_nanosecond())),
            namespace: Some(ns.clone()),
            ..Default::default()
        },
        event_time: Some(MicroTime(now)),
        type_: Some(if warning { "Warning" } else { "Normal" }.into()),
        reason: Some(reason.into()),
        action: Some(action.into()),
        note: Some(note),
        reporting_controller: Some(SCHEDULER_NAME.into()),
        reporting_instance: Some(s.instance.clone()),
        regarding: Some(reference(pod)),
        related: related.map(reference),
        ..Default::default()
    };
    let _ = s.events.send(ev);
}

/// Writes queued events, a few at a time.
async fn write_events(client: kube::Client, rx: tokio::sync::mpsc::UnboundedReceiver<Event>) {
    tokio_stream_from(rx)
        .for_each_concurrent(EVENT_WRITERS, |ev| {
            let client = client.clone();
            async move {
                let ns = ev.metadata.namespace.clone().unwrap_or_else(|| "default".into());
                if let Err(e) = Api::<Event>::namespaced(client, &ns).create(&PostParams::default(), &ev).await {
                    tracing::debug!(error = %e, reason = ev.reason.as_deref().unwrap_or(""), "recording a scheduler event");
                }
            }
        })
        .await;
}

fn tokio_stream_from<T: Send + 'static>(mut rx: tokio::sync::mpsc::UnboundedReceiver<T>) -> impl futures::Stream<Item = T> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

async fn bind(s: &Shared, pod: Arc<Pod>, node: &str, volumes: volume::VolumeActions) {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    if let Err(e) = bind_volumes(s, node, &volumes).await {
        tracing::warn!(pod = %format!("{ns}/{name}"), error = %e, "binding volumes");
        forget_and_retry(s, pod, &uid);
        return;
    }
    let binding = json!({
        "apiVersion": "v1", "kind": "Binding",
        "metadata": {"name": name, "namespace": ns, "uid": uid},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node}
    });
    let pods: Api<Pod> = Api::namespaced(s.client.clone(), &ns);
    let res: Result<serde_json::Value, kube::Error> = pods.create_subresource("binding", &name, &PostParams::default(), &binding).await;
    match res {
        Ok(_) => {
            record(s, &pod, None, false, "Scheduled", "Binding", format!("Successfully assigned {ns}/{name} to {node}"));
        }
        Err(kube::Error::Api(ae)) if ae.code == 404 => {
            // the pod is gone
            s.state.lock().remove_pod(&uid);
        }
        Err(e) => {
            tracing::warn!(pod = %format!("{ns}/{name}"), node, error = %e, "binding failed");
            record(s, &pod, None, true, "FailedScheduling", "Scheduling", format!("Binding rejected: {e}"));
            forget_and_retry(s, pod, &uid);
        }
    }
}

fn forget_and_retry(s: &Shared, pod: Arc<Pod>, uid: &str) {
    let forgot = {
        let mut st = s.state.lock();
        if st.is_assumed(uid) { st.remove_pod(uid).is_some() } else { false }
    };
    if forgot {
        s.queue.add_backoff(pod);
        s.queue.move_all_unschedulable();
    }
}

async fn bind_volumes(s: &Shared, node: &str, v: &volume::VolumeActions) -> Result<(), kube::Error> {
    for (pv, pvc) in &v.claim_pvs {
        let patch = json!({"spec": {"claimRef": {
            "kind": "PersistentVolumeClaim", "apiVersion": "v1",
            "namespace": pvc.metadata.namespace, "name": pvc.metadata.name, "uid": pvc.metadata.uid}}});
        Api::<PersistentVolume>::all(s.client.clone()).patch(pv, &PatchParams::default(), &Patch::Merge(&patch)).await?;
    }
    for pvc in &v.select_node {
        let patch = json!({"metadata": {"annotations": {"volume.kubernetes.io/selected-node": node}}});
        let ns = pvc.metadata.namespace.as_deref().unwrap_or("default");
        Api::<PersistentVolumeClaim>::namespaced(s.client.clone(), ns)
            .patch(pvc.metadata.name.as_deref().unwrap_or(""), &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
    }
    Ok(())
}

async fn report_failure(s: &Shared, pod: &Pod, message: &str, preemption: Option<Candidate>) {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    record(s, pod, None, true, "FailedScheduling", "Scheduling", message.to_string());
    let nominated = preemption.as_ref().map(|c| c.node.as_str());
    let current = pod.status.as_ref().and_then(|st| st.conditions.as_ref()).and_then(|c| c.iter().find(|c| c.type_ == "PodScheduled"));
    let same = current
        .is_some_and(|c| c.status == "False" && c.reason.as_deref() == Some("Unschedulable") && c.message.as_deref() == Some(message));
    let same_nomination = nominated.is_none() || pod.status.as_ref().and_then(|st| st.nominated_node_name.as_deref()) == nominated;
    if !(same && same_nomination) {
        let mut status = json!({"conditions": [{
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message,
            "lastProbeTime": null,
            "lastTransitionTime": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()}]});
        if let Some(n) = nominated {
            status["nominatedNodeName"] = json!(n);
        }
        let patch = json!({"status": status});
        if let Err(e) =
            Api::<Pod>::namespaced(s.client.clone(), &ns).patch_status(&name, &PatchParams::default(), &Patch::Strategic(&patch)).await
        {
            tracing::debug!(pod = %format!("{ns}/{name}"), error = %e, "updating PodScheduled");
        }
    }
    if let Some(c) = preemption {
        for v in &c.victims {
            evict_victim(s, pod, v, &c.node).await;
        }
    }
}

async fn evict_victim(s: &Shared, preemptor: &Pod, victim: &PodInfo, node: &str) {
    let api: Api<Pod> = Api::namespaced(s.client.clone(), &victim.namespace);
    let scheduler = preemptor.spec.as_ref().and_then(|s| s.scheduler_name.clone()).unwrap_or_else(|| SCHEDULER_NAME.into());
    let patch = json!({"status": {"conditions": [{
        "type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler",
        "message": format!("{scheduler}: preempting to accommodate a higher priority pod"),
        "lastTransitionTime": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()}]}});
    if let Err(e) = api.patch_status(&victim.name, &PatchParams::default(), &Patch::Strategic(&patch)).await {
        tracing::debug!(error = %e, "marking a preemption victim");
    }
    match api.delete(&victim.name, &DeleteParams::default()).await {
        Ok(_) => {
            let uid = preemptor.metadata.uid.as_deref().unwrap_or("");
            record(s, &victim.pod, Some(preemptor), false, "Preempted", "Preempting", format!("Preempted by pod {uid} on node {node}"));
        }
        Err(e) => {
            tracing::warn!(victim = %victim.key(), error = %e, "deleting a preemption victim")
        }
    }
}
