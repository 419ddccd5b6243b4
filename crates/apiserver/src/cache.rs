//! The watch cache (upstream's cacher): every served object in memory, per storage prefix, fed by
//! one storage watch over `/registry/`, with a window of recent events that watches replay.
//!
//! Lists and watches are served from here; storage sees only writes and consistent-read revision
//! checks. Each cached object holds its served JSON (with `resourceVersion` spliced in) once;
//! all watchers and list responses share those bytes.
//!
//! Consistency: the dispatcher applies a storage batch to the caches and then publishes the
//! batch's revision. A reader holding a cache's lock that sees published revision `R` knows every
//! event up to `R` is applied, so `max(cache.rv, R)` is the revision its view is current to.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use apimachinery::ApiError;
use apimachinery::fields::FieldSelector;
use apimachinery::labels::Selector;
use bytes::Bytes;
use futures::StreamExt;
use parking_lot::RwLock;
use storage::{Backend, EventType, RangeRequest};
use tokio::sync::{mpsc, watch};

use crate::codec::with_resource_version;
use crate::registry::{Registry, Resource};

/// The root of every key the apiserver writes.
pub const ROOT: &str = "/registry/";

/// One object as cached: served JSON plus what selectors need.
#[derive(Debug)]
pub struct CachedObject {
    /// Storage key.
    pub key: String,
    /// Namespace ("" for cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Its resourceVersion (mod revision, or the delete's revision for a deleted object).
    pub rv: i64,
    /// Served JSON, `metadata.resourceVersion` set.
    pub json: Bytes,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Selectable field values.
    pub fields: Vec<(&'static str, String)>,
}

impl CachedObject {
    /// Builds a cached object from stored bytes.
    pub fn from_stored(resource: &Resource, key: &str, value: &[u8], rv: i64) -> Result<CachedObject, String> {
        let obj = resource.strategy.decode_stored(value)?;
        let meta = obj.meta();
        Ok(CachedObject {
            key: key.to_string(),
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
            rv,
            json: with_resource_version(value, rv),
            labels: meta.labels.clone().unwrap_or_default(),
            fields: resource.strategy.field_values(obj.as_ref()),
        })
    }

    /// The same object with another resourceVersion (a deleted object carries the delete's).
    pub fn with_rv(&self, rv: i64) -> CachedObject {
        CachedObject {
            key: self.key.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            rv,
            json: replace_resource_version(&self.json, rv),
            labels: self.labels.clone(),
            fields: self.fields.clone(),
        }
    }

    /// A selectable field's value.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }
}

/// Replaces the `resourceVersion` that [`with_resource_version`] put first in `metadata`.
fn replace_resource_version(json: &[u8], rv: i64) -> Bytes {
    const NEEDLE: &[u8] = b"\"resourceVersion\":\"";
    if let Some(at) = crate::codec::top_level_metadata(json).filter(|at| json[*at..].starts_with(NEEDLE)) {
        let start = at + NEEDLE.len();
        if let Some(len) = json[start..].iter().position(|b| *b == b'"') {
            let mut out = Vec::with_capacity(json.len() + 8);
            out.extend_from_slice(&json[..start]);
            out.extend_from_slice(rv.to_string().as_bytes());
            out.extend_from_slice(&json[start + len..]);
            return Bytes::from(out);
        }
    }
    match serde_json::from_slice::<serde_json::Value>(json) {
        Ok(mut v) => {
            if let Some(m) = v.get_mut("metadata").and_then(serde_json::Value::as_object_mut) {
                m.insert("resourceVersion".into(), serde_json::Value::String(rv.to_string()));
            }
            Bytes::from(serde_json::to_vec(&v).unwrap_or_default())
        }
        Err(_) => Bytes::copy_from_slice(json),
    }
}

/// Watch event types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// ADDED
    Added,
    /// MODIFIED
    Modified,
    /// DELETED
    Deleted,
}

impl EventKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Added => "ADDED",
            EventKind::Modified => "MODIFIED",
            EventKind::Deleted => "DELETED",
        }
    }
}

/// One change, as kept in the cache's history.
#[derive(Debug)]
pub struct CacheEvent {
    /// Its revision.
    pub rv: i64,
    /// Type.
    pub kind: EventKind,
    /// The object after the change (for deletes: the last state, with the delete's revision).
    pub obj: Arc<CachedObject>,
    /// The object before the change.
    pub prev: Option<Arc<CachedObject>>,
    at: Instant,
}

/// What a list or watch selects.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Namespace ("" = all).
    pub namespace: String,
    /// Label selector.
    pub labels: Selector,
    /// Field selector.
    pub fields: FieldSelector,
}

impl Filter {
    /// Every object of a namespace ("" = all namespaces).
    pub fn in_namespace(namespace: &str) -> Filter {
        Filter {
            namespace: namespace.to_string(),
            labels: apimachinery::labels::Selector::everything(),
            fields: apimachinery::fields::FieldSelector::everything(),
        }
    }

    /// Whether an object passes.
    pub fn matches(&self, o: &CachedObject) -> bool {
        (self.namespace.is_empty() || self.namespace == o.namespace)
            && self.labels.matches(&o.labels)
            && self.fields.matches(|f| o.field(f).map(str::to_string))
    }
}

/// A message to one watcher.
#[derive(Clone, Debug)]
pub struct WatchMsg {
    /// Type as this watcher sees it (selectors turn modifications into adds/deletes).
    pub kind: EventKind,
    /// The object.
    pub obj: Arc<CachedObject>,
}

struct Watcher {
    id: u64,
    filter: Filter,
    tx: mpsc::Sender<WatchMsg>,
}

struct Inner {
    objects: BTreeMap<String, Arc<CachedObject>>,
    history: VecDeque<Arc<CacheEvent>>,
    /// Every event with a revision above this is in `history`.
    oldest: i64,
    rv: i64,
    watchers: Vec<Watcher>,
    next_id: u64,
}

/// Where a watch starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// Changes after this revision.
    After(i64),
    /// Synthetic ADDED events for the current state, then changes.
    Current,
}

/// A registered watch: the initial events and the channel for the rest.
pub struct Registration {
    /// Events to send first.
    pub initial: Vec<WatchMsg>,
    /// Later events.
    pub rx: mpsc::Receiver<WatchMsg>,
    /// The revision the initial events are current to.
    pub rv: i64,
    /// Handle for unregistering.
    pub id: u64,
}

/// Capacity of one watcher's queue; a watcher this far behind is closed and must re-watch.
pub const WATCHER_QUEUE: usize = 10_000;
const HISTORY_MIN: usize = 100;
const HISTORY_MAX: usize = 100_000;
const HISTORY_AGE: Duration = Duration::from_secs(150);

/// The revision every cache has applied, published by the dispatcher.
pub struct Published {
    rv: AtomicI64,
    tx: watch::Sender<i64>,
}

impl Published {
    fn new() -> Self {
        Published { rv: AtomicI64::new(0), tx: watch::channel(0).0 }
    }
    fn publish(&self, rv: i64) {
        self.rv.fetch_max(rv, Ordering::SeqCst);
        self.tx.send_replace(self.rv.load(Ordering::SeqCst));
    }
    /// The published revision.
    pub fn get(&self) -> i64 {
        self.rv.load(Ordering::SeqCst)
    }
}

/// The cache of one storage prefix.
pub struct Cache {
    /// The resource stored under the prefix.
    pub resource: Arc<Resource>,
    inner: RwLock<Inner>,
    published: Arc<Published>,
    generation: std::sync::atomic::AtomicU64,
}

impl Cache {
    fn new(resource: Arc<Resource>, published: Arc<Published>) -> Self {
        Cache {
            resource,
            inner: RwLock::new(Inner {
                objects: BTreeMap::new(),
                history: VecDeque::new(),
                oldest: 0,
                rv: 0,
                watchers: Vec::new(),
                next_id: 1,
            }),
            published,
            generation: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// A counter that changes whenever the cached objects change (derived indexes such as
    /// RBAC's rebuild when it moves).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn effective_rv(&self, inner: &Inner) -> i64 {
        inner.rv.max(self.published.get())
    }

    /// Every cached object of a namespace ("" = all), decoded; objects that do not decode as
    /// `T` are logged and left out.
    pub fn decode_all<T: serde::de::DeserializeOwned>(&self, namespace: &str) -> Vec<T> {
        self.list(&Filter::in_namespace(namespace))
            .0
            .iter()
            .filter_map(|o| match serde_json::from_slice(&o.json) {
                Ok(v) => Some(v),
                Err(e) => {
                    tracing::warn!(key = %o.key, error = %e, "cached object does not decode; ignored");
                    None
                }
            })
            .collect()
    }

    /// The revision this cache is current to.
    pub fn rv(&self) -> i64 {
        let inner = self.inner.read();
        self.effective_rv(&inner)
    }

    /// Replaces the whole state (initial load or resync). Open watches are closed.
    fn load(&self, objects: Vec<CachedObject>, rv: i64) {
        let mut inner = self.inner.write();
        self.generation.fetch_add(1, Ordering::AcqRel);
        inner.objects = objects.into_iter().map(|o| (o.key.clone(), Arc::new(o))).collect();
        inner.history.clear();
        inner.oldest = rv;
        inner.rv = rv;
        inner.watchers.clear();
    }

    /// Applies one storage event.
    fn apply(&self, ev: &storage::Event) {
        let key = &ev.kv.key;
        let rv = ev.kv.mod_revision;
        let mut inner = self.inner.write();
        if rv <= inner.rv {
            return; // already applied (replay after a resync)
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
        let prev = inner.objects.get(key).cloned();
        let (kind, obj) = match ev.kind {
            EventType::Put => {
                match CachedObject::from_stored(&self.resource, key, &ev.kv.value, rv) {
                    Ok(o) => {
                        let o = Arc::new(o);
                        inner.objects.insert(key.clone(), o.clone());
                        (if prev.is_some() { EventKind::Modified } else { EventKind::Added }, o)
                    }
                    Err(e) => {
                        tracing::error!(key = %key, error = %e, "stored object does not decode; dropped from the cache");
                        inner.rv = rv;
                        return;
                    }
                }
            }
            EventType::Delete => {
                inner.objects.remove(key);
                match &prev {
                    Some(p) => (EventKind::Deleted, Arc::new(p.with_rv(rv))),
                    None => {
                        inner.rv = rv;
                        return;
                    }
                }
            }
        };
        inner.rv = rv;
        let event = Arc::new(CacheEvent { rv, kind, obj, prev, at: Instant::now() });
        // fan out
        inner.watchers.retain(|w| match deliver(&w.filter, &event) {
            None => true,
            Some(msg) => match w.tx.try_send(msg) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::info!(resource = %self.resource.info.plural, watcher = w.id, "closing a watcher that fell behind");
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            },
        });
        inner.history.push_back(event);
        while inner.history.len() > HISTORY_MIN {
            let front = &inner.history[0];
            if inner.history.len() > HISTORY_MAX || front.at.elapsed() > HISTORY_AGE {
                let dropped = inner.history.pop_front().map(|e| e.rv).unwrap_or(0);
                inner.oldest = dropped;
            } else {
                break;
            }
        }
    }

    /// Lists the objects a filter selects, in key order, and the revision the list is current to.
    pub fn list(&self, filter: &Filter) -> (Vec<Arc<CachedObject>>, i64) {
        let inner = self.inner.read();
        let prefix = self.resource.list_prefix(&filter.namespace);
        let items = inner
            .objects
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(_, o)| filter.matches(o))
            .map(|(_, o)| o.clone())
            .collect();
        (items, self.effective_rv(&inner))
    }

    /// Counts objects under a prefix (for namespace emptiness checks and metrics).
    pub fn count(&self, namespace: &str) -> usize {
        let inner = self.inner.read();
        let prefix = self.resource.list_prefix(namespace);
        inner.objects.range(prefix.clone()..).take_while(|(k, _)| k.starts_with(&prefix)).count()
    }

    /// One object by key, and the cache revision.
    pub fn get(&self, key: &str) -> (Option<Arc<CachedObject>>, i64) {
        let inner = self.inner.read();
        (inner.objects.get(key).cloned(), self.effective_rv(&inner))
    }

    /// Registers a watch. `After(rv)` older than the retained history fails with 410.
    pub fn watch(&self, filter: Filter, start: Start) -> Result<Registration, ApiError> {
        let mut inner = self.inner.write();
        let rv = self.effective_rv(&inner);
        let initial = match start {
            Start::After(from) => {
                if from < inner.oldest {
                    return Err(ApiError::resource_expired(format!(
                        "too old resource version: {from} ({})",
                        inner.oldest
                    )));
                }
                inner.history.iter().filter(|e| e.rv > from).filter_map(|e| deliver(&filter, e)).collect()
            }
            Start::Current => {
                let prefix = self.resource.list_prefix(&filter.namespace);
                inner
                    .objects
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .filter(|(_, o)| filter.matches(o))
                    .map(|(_, o)| WatchMsg { kind: EventKind::Added, obj: o.clone() })
                    .collect()
            }
        };
        let (tx, rx) = mpsc::channel(WATCHER_QUEUE);
        let id = inner.next_id;
        inner.next_id += 1;
        inner.watchers.push(Watcher { id, filter, tx });
        Ok(Registration { initial, rx, rv, id })
    }

    /// Unregisters a watch.
    pub fn unwatch(&self, id: u64) {
        self.inner.write().watchers.retain(|w| w.id != id);
    }

    /// Number of open watches.
    pub fn watcher_count(&self) -> usize {
        self.inner.read().watchers.len()
    }
}

/// How one event looks to a watcher with a filter (upstream's cacheWatcher rules: an object that
/// starts matching is ADDED, one that stops matching is DELETED with its previous content).
fn deliver(filter: &Filter, e: &CacheEvent) -> Option<WatchMsg> {
    match e.kind {
        EventKind::Added => filter.matches(&e.obj).then(|| WatchMsg { kind: EventKind::Added, obj: e.obj.clone() }),
        EventKind::Deleted => filter.matches(&e.obj).then(|| WatchMsg { kind: EventKind::Deleted, obj: e.obj.clone() }),
        EventKind::Modified => {
            let now = filter.matches(&e.obj);
            let before = e.prev.as_ref().is_some_and(|p| filter.matches(p));
            match (before, now) {
                (true, true) => Some(WatchMsg { kind: EventKind::Modified, obj: e.obj.clone() }),
                (false, true) => Some(WatchMsg { kind: EventKind::Added, obj: e.obj.clone() }),
                (true, false) => {
                    let prev = e.prev.as_ref()?;
                    Some(WatchMsg { kind: EventKind::Deleted, obj: Arc::new(prev.with_rv(e.rv)) })
                }
                (false, false) => None,
            }
        }
    }
}

/// All caches and the dispatcher that feeds them from storage.
pub struct Caches {
    by_prefix: RwLock<HashMap<String, Arc<Cache>>>,
    registry: Arc<RwLock<Registry>>,
    /// The revision applied to every cache.
    pub published: Arc<Published>,
    store: Arc<dyn Backend>,
    commands: mpsc::UnboundedSender<Command>,
    inbox: parking_lot::Mutex<Option<mpsc::UnboundedReceiver<Command>>>,
}

/// Changes to the set of caches, applied by the dispatcher between storage batches so that a
/// new cache starts exactly at the revision the others are at.
enum Command {
    Add(Arc<Resource>, tokio::sync::oneshot::Sender<Result<(), storage::Error>>),
}

impl Caches {
    /// Loads every cache from storage and starts the dispatcher; returns once caches are current.
    pub async fn start(store: Arc<dyn Backend>, registry: Arc<RwLock<Registry>>) -> Result<Arc<Caches>, storage::Error> {
        let published = Arc::new(Published::new());
        let mut map = HashMap::new();
        for r in registry.read().resources.iter() {
            map.entry(r.prefix.clone()).or_insert_with(|| Arc::new(Cache::new(r.clone(), published.clone())));
        }
        let (commands, inbox) = mpsc::unbounded_channel();
        let caches = Arc::new(Caches {
            by_prefix: RwLock::new(map),
            registry,
            published,
            store,
            commands,
            inbox: parking_lot::Mutex::new(Some(inbox)),
        });
        // Start from the oldest retained revision so watches can resume across restarts.
        let current = caches.store.current_revision().await?;
        let compacted = caches.store.compact_revision().await?;
        let base = match caches.load_all(compacted.max(1)).await {
            Ok(()) => compacted.max(1),
            Err(_) => {
                caches.load_all(current).await?;
                current
            }
        };
        let c = caches.clone();
        tokio::spawn(async move { c.run(base).await });
        caches.wait_for(current, Duration::from_secs(30)).await.map_err(|e| storage::Error::Backend(e.message))?;
        Ok(caches)
    }

    async fn load_all(&self, rev: i64) -> Result<(), storage::Error> {
        let mut per: HashMap<String, Vec<CachedObject>> = HashMap::new();
        let mut start = ROOT.to_string();
        let end = storage::prefix_end(ROOT);
        loop {
            let resp = self.store.range(RangeRequest { start: start.clone(), end: end.clone(), revision: rev, limit: 10_000, count_only: false }).await?;
            for kv in &resp.kvs {
                if let Some(cache) = self.cache_for_key(&kv.key) {
                    match CachedObject::from_stored(&cache.resource, &kv.key, &kv.value, kv.mod_revision) {
                        Ok(o) => per.entry(cache.resource.prefix.clone()).or_default().push(o),
                        Err(e) => tracing::error!(key = %kv.key, error = %e, "stored object does not decode; skipped"),
                    }
                }
            }
            match resp.kvs.last() {
                Some(last) if resp.more => start = format!("{}\0", last.key),
                _ => break,
            }
        }
        let all: Vec<Arc<Cache>> = self.by_prefix.read().values().cloned().collect();
        for cache in all {
            let objs = per.remove(&cache.resource.prefix).unwrap_or_default();
            cache.load(objs, rev);
        }
        self.published.publish(rev);
        Ok(())
    }

    async fn run(self: Arc<Self>, mut applied: i64) {
        let Some(mut inbox) = self.inbox.lock().take() else { return };
        loop {
            let stream = self.store.watch(ROOT, applied + 1).await;
            let mut stream = match stream {
                Ok(s) => s,
                Err(storage::Error::Compacted { .. }) => {
                    applied = self.resync().await;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "storage watch failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            loop {
                let item = tokio::select! {
                    item = stream.next() => item,
                    cmd = inbox.recv() => {
                        match cmd {
                            Some(Command::Add(resource, done)) => {
                                let result = self.add_now(resource, applied).await;
                                let _ = done.send(result);
                            }
                            None => return,
                        }
                        continue;
                    }
                };
                let Some(item) = item else { break };
                match item {
                    Ok(resp) => {
                        for ev in &resp.events {
                            if let Some(cache) = self.cache_for_key(&ev.kv.key) {
                                cache.apply(ev);
                            }
                            applied = applied.max(ev.kv.mod_revision);
                        }
                        applied = applied.max(resp.revision);
                        self.published.publish(applied);
                    }
                    Err(storage::Error::Compacted { .. }) => {
                        applied = self.resync().await;
                        break;
                    }
                    Err(storage::Error::Closed) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "storage watch interrupted; resuming");
                        break;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn resync(&self) -> i64 {
        loop {
            match self.store.current_revision().await {
                Ok(rev) => match self.load_all(rev).await {
                    Ok(()) => return rev,
                    Err(e) => tracing::warn!(error = %e, "cache resync failed; retrying"),
                },
                Err(e) => tracing::warn!(error = %e, "cache resync failed; retrying"),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Adds the cache of a resource registered after start (a custom resource), loaded at the
    /// revision every other cache is at. A cache that exists already is kept.
    pub async fn add(&self, resource: Arc<Resource>) -> Result<(), storage::Error> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.commands.send(Command::Add(resource, tx)).map_err(|_| storage::Error::Closed)?;
        rx.await.map_err(|_| storage::Error::Closed)?
    }

    async fn add_now(&self, resource: Arc<Resource>, rev: i64) -> Result<(), storage::Error> {
        if self.by_prefix.read().contains_key(&resource.prefix) {
            return Ok(());
        }
        let cache = Arc::new(Cache::new(resource.clone(), self.published.clone()));
        let mut objects = Vec::new();
        let mut start = resource.prefix.clone();
        let end = storage::prefix_end(&resource.prefix);
        loop {
            let resp = self
                .store
                .range(RangeRequest { start: start.clone(), end: end.clone(), revision: rev.max(1), limit: 10_000, count_only: false })
                .await?;
            for kv in &resp.kvs {
                match CachedObject::from_stored(&resource, &kv.key, &kv.value, kv.mod_revision) {
                    Ok(o) => objects.push(o),
                    Err(e) => tracing::error!(key = %kv.key, error = %e, "stored object does not decode; skipped"),
                }
            }
            match resp.kvs.last() {
                Some(last) if resp.more => start = format!("{}\0", last.key),
                _ => break,
            }
        }
        cache.load(objects, rev);
        self.by_prefix.write().insert(resource.prefix.clone(), cache);
        Ok(())
    }

    /// Drops the cache of a prefix (its resource is no longer served); open watches end.
    pub fn remove(&self, prefix: &str) {
        if let Some(c) = self.by_prefix.write().remove(prefix) {
            c.inner.write().watchers.clear();
        }
    }

    /// The cache that holds a storage key.
    pub fn cache_for_key(&self, key: &str) -> Option<Arc<Cache>> {
        let resource = self.registry.read().by_key(key)?.clone();
        self.by_prefix.read().get(&resource.prefix).cloned()
    }

    /// The cache of a resource.
    pub fn cache(&self, resource: &Resource) -> Option<Arc<Cache>> {
        self.by_prefix.read().get(&resource.prefix).cloned()
    }

    /// Waits until every event up to `rev` is applied; 504 "Too large resource version" after
    /// `timeout`.
    pub async fn wait_for(&self, rev: i64, timeout: Duration) -> Result<(), ApiError> {
        if self.published.get() >= rev {
            return Ok(());
        }
        let mut rx = self.published.tx.subscribe();
        match tokio::time::timeout(timeout, rx.wait_for(|r| *r >= rev)).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(ApiError::too_large_resource_version(rev, self.published.get())),
        }
    }

    /// Waits until the caches reflect every write acknowledged so far (a consistent read).
    pub async fn wait_fresh(&self) -> Result<i64, ApiError> {
        let rev = self.store.current_revision().await.map_err(ApiError::internal)?;
        self.wait_for(rev, Duration::from_secs(3)).await?;
        Ok(rev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_spliced_resource_version() {
        let j = with_resource_version(br#"{"apiVersion":"v1","kind":"X","metadata":{"name":"a"}}"#, 5);
        let r = replace_resource_version(&j, 123);
        let v: serde_json::Value = serde_json::from_slice(&r).unwrap();
        assert_eq!(v["metadata"]["resourceVersion"], "123");
        assert_eq!(v["metadata"]["name"], "a");
    }
}
