//! Shared informers for the controller-manager: one watch and one reflector store per watched
//! kind (and namespace), shared by every controller in the process, each controller subscribing
//! its own handler or [`Wake`] (upstream's SharedInformerFactory). Also the small helpers the
//! controllers share (keys, events, API error classes).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use kube::Resource;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use k8s_openapi::serde::de::DeserializeOwned;
use tokio::sync::Notify;

/// Something that wakes a controller loop: every watched change notifies it.
#[derive(Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    /// A new waker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Wakes the loop (a permit is stored if it is not waiting).
    pub fn wake(&self) {
        self.0.notify_one();
    }

    /// Waits for a change or until `timeout`, then lets a burst of changes settle for `settle`.
    pub async fn wait(&self, timeout: Duration, settle: Duration) {
        let _ = tokio::time::timeout(timeout, self.0.notified()).await;
        if !settle.is_zero() {
            tokio::time::sleep(settle).await;
        }
    }
}

/// What an informer reports to a subscriber.
pub enum Change<'a, K> {
    /// An object was added or modified (also for the initial list and each re-list).
    Apply(&'a K),
    /// An object was deleted.
    Delete(&'a K),
    /// The initial list is complete (also after each re-list).
    Synced,
}

/// A subscriber's handler: called in the watch's order, after the store has applied the change.
type Handler<K> = Box<dyn Fn(Change<'_, K>) + Send>;

struct Subscriber<K> {
    handler: Handler<K>,
    /// Joined during a (re-)list: gets the whole store when the list completes.
    replay_at_sync: bool,
}

struct Subscribers<K> {
    list: Vec<Subscriber<K>>,
    /// The current list is complete (the store holds it).
    synced: bool,
}

/// One shared informer: the store every subscriber reads and the subscribers of its changes.
struct Shared<K: Resource + 'static>
where
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    store: Store<K>,
    subscribers: Mutex<Subscribers<K>>,
}

impl<K> Shared<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    /// Delivers one watch event to every subscriber (the store has applied it already).
    fn dispatch(&self, ev: &watcher::Event<K>) {
        let mut subs = self.subscribers.lock().unwrap_or_else(PoisonError::into_inner);
        match ev {
            watcher::Event::Apply(o) | watcher::Event::InitApply(o) => subs.list.iter().for_each(|s| (s.handler)(Change::Apply(o))),
            watcher::Event::Delete(o) => subs.list.iter().for_each(|s| (s.handler)(Change::Delete(o))),
            watcher::Event::Init => subs.synced = false,
            watcher::Event::InitDone => {
                subs.synced = true;
                let late: Vec<usize> = (0..subs.list.len()).filter(|&i| subs.list[i].replay_at_sync).collect();
                if !late.is_empty() {
                    let state = self.store.state();
                    for i in late {
                        let s = &mut subs.list[i];
                        s.replay_at_sync = false;
                        state.iter().for_each(|o| (s.handler)(Change::Apply(o)));
                    }
                }
                subs.list.iter().for_each(|s| (s.handler)(Change::Synced));
            }
        }
    }

    /// Adds a subscriber. One joining after the list gets the store's objects and `Synced` now
    /// (under the lock, so it misses no change in between; a change may arrive twice); one
    /// joining during a list gets them when the list completes.
    fn subscribe(&self, handler: Handler<K>) {
        let mut subs = self.subscribers.lock().unwrap_or_else(PoisonError::into_inner);
        if subs.synced {
            self.store.state().iter().for_each(|o| handler(Change::Apply(o)));
            handler(Change::Synced);
            subs.list.push(Subscriber { handler, replay_at_sync: false });
        } else {
            subs.list.push(Subscriber { handler, replay_at_sync: true });
        }
    }
}

/// (kind, namespace or all) → `Arc<Shared<K>>`
type InformerMap = HashMap<(TypeId, Option<String>), Arc<dyn Any + Send + Sync>>;

struct FactoryInner {
    client: kube::Client,
    informers: Mutex<InformerMap>,
    watches: AtomicUsize,
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
}

impl Drop for FactoryInner {
    fn drop(&mut self) {
        for t in self.tasks.get_mut().unwrap_or_else(PoisonError::into_inner).iter() {
            t.abort();
        }
    }
}

/// The controller-manager's shared informers (upstream's SharedInformerFactory): the first
/// subscriber to a kind starts its one watch (as the factory's client, the
/// `system:kube-controller-manager` identity); every later subscriber shares its store and gets
/// its changes. The watches stop when the last clone of the factory is dropped.
#[derive(Clone)]
pub struct Informers(Arc<FactoryInner>);

impl Informers {
    /// A factory whose watches use `client`.
    pub fn new(client: kube::Client) -> Self {
        Informers(Arc::new(FactoryInner {
            client,
            informers: Mutex::new(HashMap::new()),
            watches: AtomicUsize::new(0),
            tasks: Mutex::new(Vec::new()),
        }))
    }

    /// The client the watches use.
    pub fn client(&self) -> kube::Client {
        self.0.client.clone()
    }

    /// How many watches this factory has started (one per kind and namespace).
    pub fn watches_started(&self) -> usize {
        self.0.watches.load(Ordering::Relaxed)
    }

    /// The shared store of every `K` (all namespaces); `handler` is called with every change
    /// after the store applied it (the current objects first when the informer runs already).
    pub fn subscribe<K, H>(&self, handler: H) -> Store<K>
    where
        K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
        K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
        H: Fn(Change<'_, K>) + Send + 'static,
    {
        let shared = self.shared::<K>(None, || Api::all(self.0.client.clone()));
        shared.subscribe(Box::new(handler));
        shared.store.clone()
    }

    /// [`Informers::subscribe`] to the `K` of one namespace.
    pub fn subscribe_namespaced<K, H>(&self, namespace: &str, handler: H) -> Store<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
        K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
        H: Fn(Change<'_, K>) + Send + 'static,
    {
        let shared = self.shared::<K>(Some(namespace), || Api::namespaced(self.0.client.clone(), namespace));
        shared.subscribe(Box::new(handler));
        shared.store.clone()
    }

    /// The shared store of every `K` (all namespaces); each change wakes `wake`.
    pub fn watch<K>(&self, wake: &Wake) -> Store<K>
    where
        K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
        K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
    {
        let wake = wake.clone();
        self.subscribe(move |_: Change<'_, K>| wake.wake())
    }

    /// The shared store of the `K` in `namespace`; each change wakes `wake`.
    pub fn watch_namespaced<K>(&self, namespace: &str, wake: &Wake) -> Store<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
        K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
    {
        let wake = wake.clone();
        self.subscribe_namespaced(namespace, move |_: Change<'_, K>| wake.wake())
    }

    /// The informer of `K` in `namespace`, started on first use.
    fn shared<K>(&self, namespace: Option<&str>, api: impl FnOnce() -> Api<K>) -> Arc<Shared<K>>
    where
        K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
        K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
    {
        let mut map = self.0.informers.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (TypeId::of::<K>(), namespace.map(str::to_string));
        if let Some(existing) = map.get(&key)
            && let Ok(shared) = existing.clone().downcast::<Shared<K>>()
        {
            return shared;
        }
        let (reader, writer) = reflector::store();
        let shared = Arc::new(Shared { store: reader, subscribers: Mutex::new(Subscribers { list: Vec::new(), synced: false }) });
        map.insert(key, shared.clone());
        let stream = reflector::reflector(writer, watcher(api(), watcher::Config::default()).default_backoff());
        let s = shared.clone();
        let kind = K::kind(&K::DynamicType::default()).to_string();
        tracing::debug!(%kind, ?namespace, "shared informer starts");
        let task = tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(ev) = stream.next().await {
                match ev {
                    Ok(ev) => s.dispatch(&ev),
                    Err(e) => tracing::debug!(%kind, error = %e, "shared informer watch"),
                }
            }
        });
        self.0.watches.fetch_add(1, Ordering::Relaxed);
        self.0.tasks.lock().unwrap_or_else(PoisonError::into_inner).push(task.abort_handle());
        shared
    }
}

/// A subscriber's handler that wakes `wake` only for objects in a namespace where `owners` (the
/// services of the endpoints controllers, the budgets of the disruption controller) holds an
/// object `relevant` accepts: a pod of a namespace no service selects from cannot change any
/// endpoints, so its updates cost those controllers no pass. `Synced` always wakes.
pub fn wake_in_namespaces_of<K, O>(wake: &Wake, owners: &Store<O>, relevant: fn(&O) -> bool) -> impl Fn(Change<'_, K>) + Send + 'static
where
    K: Resource,
    O: Resource + Clone + Send + Sync + 'static,
    O::DynamicType: Eq + std::hash::Hash + Clone + Send + Sync,
{
    let (wake, owners) = (wake.clone(), owners.clone());
    move |c: Change<'_, K>| {
        let ns = match c {
            Change::Apply(o) | Change::Delete(o) => o.meta().namespace.as_deref().unwrap_or(""),
            Change::Synced => return wake.wake(),
        };
        if owners.state().iter().any(|o| o.meta().namespace.as_deref().unwrap_or("") == ns && relevant(o)) {
            wake.wake();
        }
    }
}

/// A subscriber's handler that calls `changed` with an object's `namespace/name` when `project`
/// of it changes (a new object, a deleted one, or a different projection), and with `None` at
/// each `Synced`: a controller that reads a few fields of a kind is not woken by updates of the
/// others (5,000 nodes' heartbeats).
pub fn on_change<K, T>(project: fn(&K) -> T, changed: impl Fn(Option<&str>) + Send + 'static) -> impl Fn(Change<'_, K>) + Send + 'static
where
    K: Resource + 'static,
    T: PartialEq + Send + 'static,
{
    let last: Mutex<HashMap<String, T>> = Mutex::default();
    move |c: Change<'_, K>| match c {
        Change::Apply(o) => {
            let (k, v) = (key(o), project(o));
            let mut last = last.lock().unwrap_or_else(PoisonError::into_inner);
            if last.get(&k) != Some(&v) {
                last.insert(k.clone(), v);
                drop(last);
                changed(Some(&k));
            }
        }
        Change::Delete(o) => {
            let k = key(o);
            last.lock().unwrap_or_else(PoisonError::into_inner).remove(&k);
            changed(Some(&k));
        }
        Change::Synced => changed(None),
    }
}

/// [`on_change`] waking `wake`.
pub fn wake_on_change<K, T>(wake: &Wake, project: fn(&K) -> T) -> impl Fn(Change<'_, K>) + Send + 'static
where
    K: Resource + 'static,
    T: PartialEq + Send + 'static,
{
    let wake = wake.clone();
    on_change(project, move |_| wake.wake())
}

/// Waits until a store holds its first list. kube's `Store::wait_until_ready` wakes only the
/// last of several tasks waiting on clones of one store (its readiness is a oneshot channel
/// with one waker), and shared stores have several waiters, so this polls it again every 20 ms.
pub async fn ready<K>(store: &Store<K>)
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    while tokio::time::timeout(Duration::from_millis(20), store.wait_until_ready()).await.is_err() {}
}

/// Whether an API error is a 404.
pub fn not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// Whether an API error is a 409 (conflict or already exists).
pub fn conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

/// The time now as the API's `Time`.
pub fn now() -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now())
}

/// An object's `namespace/name`.
pub fn key<K: Resource>(o: &K) -> String {
    format!("{}/{}", o.meta().namespace.as_deref().unwrap_or(""), o.meta().name.as_deref().unwrap_or(""))
}

/// Whether a pod's `Ready` condition is `True`.
pub fn pod_ready(pod: &k8s_openapi::api::core::v1::Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// An event recorder reporting as `controller`.
pub fn recorder(client: &kube::Client, controller: &str) -> kube::runtime::events::Recorder {
    kube::runtime::events::Recorder::new(
        client.clone(),
        kube::runtime::events::Reporter { controller: controller.to_string(), instance: None },
    )
}

/// Publishes an event about `obj` in the background ([`crate::publish_event`]).
pub async fn event<K: Resource<DynamicType = ()>>(
    rec: &kube::runtime::events::Recorder,
    obj: &K,
    warning: bool,
    reason: &str,
    note: String,
) {
    let type_ = if warning { kube::runtime::events::EventType::Warning } else { kube::runtime::events::EventType::Normal };
    crate::publish_event(rec, obj.object_ref(&()), type_, reason, reason, note, None);
}

/// The API resource of a workload kind that has a `scale` subresource and may own pods
/// (what PodDisruptionBudgets and HorizontalPodAutoscalers point at).
pub fn scalable_resource(api_version: &str, kind: &str) -> Option<kube::discovery::ApiResource> {
    let plural = match (api_version, kind) {
        ("apps/v1", "Deployment") => "deployments",
        ("apps/v1", "ReplicaSet") => "replicasets",
        ("apps/v1", "StatefulSet") => "statefulsets",
        ("v1", "ReplicationController") => "replicationcontrollers",
        _ => return None,
    };
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    Some(kube::discovery::ApiResource { group: group.into(), version: version.into(), api_version: api_version.into(), kind: kind.into(), plural: plural.into() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Node, Pod, Service};

    fn node(name: &str, zone: Option<&str>, heartbeat: &str) -> Node {
        let mut n = Node::default();
        n.metadata.name = Some(name.into());
        n.metadata.labels = zone.map(|z| [("topology.kubernetes.io/zone".to_string(), z.to_string())].into());
        n.metadata.resource_version = Some(heartbeat.into());
        n
    }

    fn zone(n: &Node) -> Option<String> {
        n.metadata.labels.as_ref().and_then(|l| l.get("topology.kubernetes.io/zone").cloned())
    }

    #[test]
    fn on_change_reports_only_changes_of_the_projection() {
        let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
        let s = seen.clone();
        let h = on_change(zone, move |k| s.lock().unwrap().push(k.map(str::to_string)));
        h(Change::Apply(&node("a", Some("z1"), "1")));
        h(Change::Apply(&node("a", Some("z1"), "2"))); // a heartbeat: same zone
        h(Change::Apply(&node("b", None, "3"))); // new node
        h(Change::Apply(&node("a", Some("z2"), "4"))); // zone changed
        h(Change::Delete(&node("b", None, "5")));
        h(Change::Synced);
        h(Change::Apply(&node("b", None, "6"))); // back after its deletion: new again
        let got = seen.lock().unwrap().clone();
        let want: Vec<Option<String>> = vec![Some("/a".into()), Some("/b".into()), Some("/a".into()), Some("/b".into()), None, Some("/b".into())];
        assert_eq!(got, want);
    }

    fn pod(ns: &str) -> Pod {
        let mut p = Pod::default();
        p.metadata.name = Some("p".into());
        p.metadata.namespace = Some(ns.into());
        p
    }

    async fn woken(w: &Wake) -> bool {
        tokio::time::timeout(Duration::from_millis(5), w.0.notified()).await.is_ok()
    }

    #[tokio::test]
    async fn pods_wake_only_in_namespaces_with_a_selecting_service() {
        let (services, mut writer) = reflector::store::<Service>();
        let mut svc = Service::default();
        svc.metadata.name = Some("web".into());
        svc.metadata.namespace = Some("shop".into());
        svc.spec = Some(k8s_openapi::api::core::v1::ServiceSpec { selector: Some([("app".to_string(), "web".to_string())].into()), ..Default::default() });
        let mut headless = svc.clone();
        headless.metadata.namespace = Some("other".into());
        headless.spec = Some(Default::default()); // no selector
        writer.apply_watcher_event(&watcher::Event::Apply(svc));
        writer.apply_watcher_event(&watcher::Event::Apply(headless));
        let wake = Wake::new();
        let h = wake_in_namespaces_of::<Pod, Service>(&wake, &services, |s| s.spec.as_ref().is_some_and(|s| s.selector.is_some()));
        h(Change::Apply(&pod("default")));
        assert!(!woken(&wake).await, "no service in the namespace");
        h(Change::Apply(&pod("other")));
        assert!(!woken(&wake).await, "the namespace's service selects nothing");
        h(Change::Delete(&pod("shop")));
        assert!(woken(&wake).await);
        h(Change::Synced);
        assert!(woken(&wake).await, "a (re-)list always wakes");
    }
}
