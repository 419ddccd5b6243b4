//! Shared machinery of the workload controllers (ReplicaSet, ReplicationController, Deployment,
//! garbage collector, PodGC): a keyed work queue (one worker per key at a time, delayed
//! re-adds, back-off on errors), informers (a reflector store plus an event callback), pod
//! status predicates, int-or-percent arithmetic and event publishing.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::Api;
use kube::runtime::events::{EventType, Recorder, Reporter};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;
use tokio::sync::Notify;
use tokio::time::Instant;

struct QueueState<K> {
    /// Keys waiting, with the instant they become due.
    due: BTreeMap<K, Instant>,
    /// Keys being worked on.
    active: BTreeSet<K>,
    /// Keys added while active: re-queued when their worker finishes.
    again: BTreeMap<K, Instant>,
    /// Consecutive failures per key (for back-off).
    failures: BTreeMap<K, u32>,
}

/// A work queue of keys: a key is handed to one worker at a time; adding a key already waiting
/// keeps the earlier due time; adding an active key queues it again for after its worker.
pub struct WorkQueue<K> {
    state: Mutex<QueueState<K>>,
    notify: Notify,
}

impl<K: Ord + Clone> Default for WorkQueue<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Ord + Clone> WorkQueue<K> {
    /// An empty queue.
    pub fn new() -> Self {
        WorkQueue {
            state: Mutex::new(QueueState { due: BTreeMap::new(), active: BTreeSet::new(), again: BTreeMap::new(), failures: BTreeMap::new() }),
            notify: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState<K>> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Queues a key now.
    pub fn add(&self, key: K) {
        self.add_after(key, Duration::ZERO);
    }

    /// Queues a key after a delay (an earlier pending due time wins).
    pub fn add_after(&self, key: K, delay: Duration) {
        let at = Instant::now() + delay;
        {
            let mut s = self.lock();
            let map = if s.active.contains(&key) { &mut s.again } else { &mut s.due };
            let e = map.entry(key).or_insert(at);
            if at < *e {
                *e = at;
            }
        }
        self.notify.notify_waiters();
    }

    /// Queues a key again after a back-off that grows with its consecutive failures.
    pub fn add_rate_limited(&self, key: K) {
        let n = {
            let mut s = self.lock();
            let n = s.failures.entry(key.clone()).or_insert(0);
            *n = n.saturating_add(1);
            *n
        };
        let ms = 5u64.saturating_mul(1u64 << n.min(13)).min(30_000);
        self.add_after(key, Duration::from_millis(ms));
    }

    /// Forgets a key's failures.
    pub fn forget(&self, key: &K) {
        self.lock().failures.remove(key);
    }

    /// Number of keys waiting (not active).
    pub fn len(&self) -> usize {
        self.lock().due.len()
    }

    /// Whether no key is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits for the next due key and marks it active; [`WorkQueue::done`] must follow.
    pub async fn next(&self) -> K {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let wait_until = {
                let mut s = self.lock();
                let now = Instant::now();
                let mut best: Option<(K, Instant)> = None;
                for (k, at) in &s.due {
                    if best.as_ref().is_none_or(|(_, b)| at < b) {
                        best = Some((k.clone(), *at));
                    }
                }
                match best {
                    Some((k, at)) if at <= now => {
                        s.due.remove(&k);
                        s.active.insert(k.clone());
                        return k;
                    }
                    Some((_, at)) => Some(at),
                    None => None,
                }
            };
            match wait_until {
                Some(at) => {
                    tokio::select! {
                        _ = &mut notified => {}
                        _ = tokio::time::sleep_until(at) => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// Marks a key's work finished (re-queuing it if it was added meanwhile).
    pub fn done(&self, key: &K) {
        {
            let mut s = self.lock();
            s.active.remove(key);
            if let Some(at) = s.again.remove(key) {
                let e = s.due.entry(key.clone()).or_insert(at);
                if at < *e {
                    *e = at;
                }
            }
        }
        self.notify.notify_waiters();
    }
}

/// Runs `workers` loops taking keys from `queue` and handing them to `work`; a key whose work
/// fails is retried with back-off.
pub async fn run_workers<K, F, Fut, E>(queue: Arc<WorkQueue<K>>, workers: usize, work: F)
where
    K: Ord + Clone + Send + Sync + Debug + 'static,
    F: Fn(K) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = Result<(), E>> + Send,
    E: std::fmt::Display,
{
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..workers.max(1) {
        let queue = queue.clone();
        let work = work.clone();
        set.spawn(async move {
            loop {
                let key = queue.next().await;
                match work(key.clone()).await {
                    Ok(()) => queue.forget(&key),
                    Err(e) => {
                        tracing::debug!(key = ?key, error = %e, "sync failed; retrying");
                        queue.add_rate_limited(key.clone());
                    }
                }
                queue.done(&key);
            }
        });
    }
    while set.join_next().await.is_some() {}
}

/// Background tasks of one controller run, aborted together when it is dropped (a controller
/// that loses its leader lease stops everything it started).
#[derive(Default)]
pub struct Tasks(Vec<tokio::task::AbortHandle>);

impl Tasks {
    /// Spawns a task owned by this set.
    pub fn spawn<F>(&mut self, f: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.0.push(tokio::spawn(f).abort_handle());
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

pub use crate::stores::Change;

/// Starts an informer: a reflector keeping `Store` in step with the API, calling `handler` for
/// each change after the store has applied it. The task runs until `tasks` is dropped.
pub fn informer<K, H>(tasks: &mut Tasks, api: Api<K>, config: watcher::Config, handler: H) -> Store<K>
where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + Hash + Clone + Send + Sync,
    H: Fn(Change<'_, K>) + Send + 'static,
{
    let (reader, writer) = reflector::store();
    let stream = reflector::reflector(writer, watcher(api, config).default_backoff());
    tasks.spawn(async move {
        let mut stream = std::pin::pin!(stream);
        while let Some(ev) = stream.next().await {
            match ev {
                Ok(watcher::Event::Apply(o)) | Ok(watcher::Event::InitApply(o)) => handler(Change::Apply(&o)),
                Ok(watcher::Event::Delete(o)) => handler(Change::Delete(&o)),
                Ok(watcher::Event::InitDone) => handler(Change::Synced),
                Ok(watcher::Event::Init) => {}
                Err(e) => tracing::debug!(error = %e, "informer watch error"),
            }
        }
    });
    reader
}

/// The `namespace/name` key of an object.
pub fn key_of(meta: &ObjectMeta) -> (String, String) {
    (meta.namespace.clone().unwrap_or_default(), meta.name.clone().unwrap_or_default())
}

/// The controlling owner reference of an object.
pub fn controller_ref(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references.as_ref()?.iter().find(|r| r.controller == Some(true))
}

/// Whether the pod counts toward its controller (not finished, not being deleted).
pub fn is_pod_active(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("");
    phase != "Succeeded" && phase != "Failed" && pod.metadata.deletion_timestamp.is_none()
}

/// Whether the pod is being deleted.
pub fn is_pod_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

/// The pod's phase ("" when unset).
pub fn pod_phase(pod: &Pod) -> &str {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("")
}

/// The pod's Ready condition's status and last transition time, when True.
pub fn pod_ready_since(pod: &Pod) -> Option<Option<jiff::Timestamp>> {
    let cond = pod.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == "Ready")?;
    if cond.status != "True" {
        return None;
    }
    Some(cond.last_transition_time.as_ref().map(|t| t.0))
}

/// Whether the pod is Ready.
pub fn is_pod_ready(pod: &Pod) -> bool {
    pod_ready_since(pod).is_some()
}

/// Whether the pod has been Ready for at least `min_ready_seconds` (upstream's IsPodAvailable).
pub fn is_pod_available(pod: &Pod, min_ready_seconds: i32, now: jiff::Timestamp) -> bool {
    match pod_ready_since(pod) {
        None => false,
        Some(_) if min_ready_seconds <= 0 => true,
        Some(None) => false,
        Some(Some(since)) => since.as_second() + i64::from(min_ready_seconds) <= now.as_second(),
    }
}

/// When an available-but-not-yet pod becomes available (seconds from now), if ever.
pub fn pod_available_in(pod: &Pod, min_ready_seconds: i32, now: jiff::Timestamp) -> Option<i64> {
    match pod_ready_since(pod) {
        Some(Some(since)) if min_ready_seconds > 0 => {
            let left = since.as_second() + i64::from(min_ready_seconds) - now.as_second();
            (left > 0).then_some(left)
        }
        _ => None,
    }
}

/// Upstream's GetScaledValueFromIntOrPercent: an int as is, or a percentage of `total` rounded
/// up or down.
pub fn scaled_value(v: Option<&IntOrString>, total: i32, round_up: bool, default: &str) -> Result<i32, String> {
    let s = match v {
        Some(IntOrString::Int(i)) => return Ok(*i),
        Some(IntOrString::String(s)) => s.as_str(),
        None => default,
    };
    let Some(p) = s.strip_suffix('%') else {
        return s.parse::<i32>().map_err(|_| "invalid value for IntOrString: invalid type: string is not a percentage".to_string());
    };
    let p: i64 = p.parse().map_err(|_| format!("invalid value {s:?}: percentage is not an integer"))?;
    let prod = p * i64::from(total);
    let v = if round_up { (prod + 99).div_euclid(100) } else { prod.div_euclid(100) };
    Ok(v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
}

/// A reference to an object for events.
pub fn object_ref(kind: &str, api_version: &str, meta: &ObjectMeta) -> ObjectReference {
    ObjectReference {
        api_version: Some(api_version.into()),
        kind: Some(kind.into()),
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        uid: meta.uid.clone(),
        resource_version: meta.resource_version.clone(),
        ..Default::default()
    }
}

/// Publishes events as a controller (errors are logged, never fatal).
#[derive(Clone)]
pub struct Events {
    recorder: Recorder,
}

impl Events {
    /// A publisher reporting as `controller`.
    pub fn new(client: kube::Client, controller: &str) -> Events {
        Events { recorder: Recorder::new(client, Reporter { controller: controller.into(), instance: None }) }
    }

    /// Publishes one event about `regarding`, in the background ([`crate::publish_event`]).
    pub fn emit(&self, regarding: &ObjectReference, warning: bool, reason: &str, action: &str, note: String) {
        let type_ = if warning { EventType::Warning } else { EventType::Normal };
        crate::publish_event(&self.recorder, regarding.clone(), type_, reason, action, note, None);
    }

    /// [`Events::emit`], for callers in async code.
    pub async fn publish(&self, regarding: &ObjectReference, warning: bool, reason: &str, action: &str, note: String) {
        self.emit(regarding, warning, reason, action, note);
    }
}

/// An API error's HTTP code, if it is one.
pub fn api_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_as_upstream() {
        let p = |s: &str| IntOrString::String(s.into());
        assert_eq!(scaled_value(Some(&p("25%")), 10, true, "0").ok(), Some(3));
        assert_eq!(scaled_value(Some(&p("25%")), 10, false, "0").ok(), Some(2));
        assert_eq!(scaled_value(Some(&p("25%")), 4, true, "0").ok(), Some(1));
        assert_eq!(scaled_value(Some(&p("25%")), 1, false, "0").ok(), Some(0));
        assert_eq!(scaled_value(Some(&IntOrString::Int(2)), 10, false, "0").ok(), Some(2));
        assert_eq!(scaled_value(None, 8, true, "25%").ok(), Some(2));
        assert!(scaled_value(Some(&p("x%")), 8, true, "0").is_err());
    }

    #[tokio::test]
    async fn queue_hands_each_key_once_and_requeues_active() {
        let q: WorkQueue<u32> = WorkQueue::new();
        q.add(1);
        q.add(1);
        q.add(2);
        let a = q.next().await;
        let b = q.next().await;
        assert_ne!(a, b);
        assert!(q.is_empty());
        q.add(a);
        assert!(q.is_empty(), "an active key waits for its worker");
        q.done(&a);
        assert_eq!(q.len(), 1);
        assert_eq!(q.next().await, a);
    }
}
