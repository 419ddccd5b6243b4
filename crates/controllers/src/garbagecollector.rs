//! The garbage collector: watches the metadata of every resource that can be listed, watched
//! and deleted (found by discovery, refreshed for new CRDs), keeps a graph of owners and
//! dependents from `ownerReferences`, and
//! - deletes dependents whose owners are all gone (each absence confirmed by a live GET by
//!   name and uid), with the propagation the dependent's own finalizers ask for;
//! - foreground deletion: an owner with `deletionTimestamp` and the `foregroundDeletion`
//!   finalizer has its dependents deleted; once none blocks it (`blockOwnerDeletion`) the
//!   finalizer is removed;
//! - orphaning: an owner with `deletionTimestamp` and the `orphan` finalizer has its reference
//!   removed from each dependent, then the finalizer.
//!
//! Owners referenced but never seen are "virtual" nodes until a lookup says whether they exist.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, Preconditions, PropagationPolicy};
use kube::discovery::{ApiResource, Discovery, Scope, verbs};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::{Value, json};

use crate::appsutil::{self, WorkQueue};
use crate::{Error, Result};

/// The finalizer asking for dependents to be orphaned.
pub const ORPHAN: &str = "orphan";
/// The finalizer asking for dependents to be deleted first.
pub const FOREGROUND: &str = "foregroundDeletion";
/// How often discovery is refreshed (new CRDs).
pub const DISCOVERY_PERIOD: Duration = Duration::from_secs(30);

#[derive(Clone, Debug)]
struct Node {
    api_version: String,
    kind: String,
    namespace: Option<String>,
    name: String,
    uid: String,
    owners: Vec<OwnerReference>,
    dependents: HashSet<String>,
    virtual_: bool,
    deleting_dependents: bool,
}

#[derive(Default)]
struct Graph {
    nodes: HashMap<String, Node>,
}

/// (group, kind) → the resource and whether it is namespaced.
type Kinds = HashMap<(String, String), (ApiResource, bool)>;

struct Gc {
    client: kube::Client,
    graph: Mutex<Graph>,
    kinds: Mutex<Kinds>,
    delete_q: Arc<WorkQueue<String>>,
    orphan_q: Arc<WorkQueue<String>>,
}

fn group_of(api_version: &str) -> &str {
    api_version.split_once('/').map(|(g, _)| g).unwrap_or("")
}

fn has_finalizer(meta: &ObjectMeta, f: &str) -> bool {
    meta.finalizers.as_ref().is_some_and(|l| l.iter().any(|x| x == f))
}

impl Gc {
    fn graph(&self) -> std::sync::MutexGuard<'_, Graph> {
        match self.graph.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
    fn kinds(&self) -> std::sync::MutexGuard<'_, Kinds> {
        match self.kinds.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn api_for(&self, api_version: &str, kind: &str, namespace: Option<&str>) -> Option<Api<DynamicObject>> {
        let (ar, namespaced) = self.kinds().get(&(group_of(api_version).to_string(), kind.to_string())).cloned()?;
        Some(if namespaced {
            Api::namespaced_with(self.client.clone(), namespace.unwrap_or("default"), &ar)
        } else {
            Api::all_with(self.client.clone(), &ar)
        })
    }

    /// Applies an added or updated object to the graph.
    fn observe(&self, ar: &ApiResource, meta: &ObjectMeta) {
        let Some(uid) = meta.uid.clone() else { return };
        let owners = meta.owner_references.clone().unwrap_or_default();
        let deleting = meta.deletion_timestamp.is_some();
        let foreground = deleting && has_finalizer(meta, FOREGROUND);
        let orphan = deleting && has_finalizer(meta, ORPHAN);
        let mut g = self.graph();
        let old_owners: Vec<OwnerReference> = g.nodes.get(&uid).filter(|n| !n.virtual_).map(|n| n.owners.clone()).unwrap_or_default();
        let was_foreground = g.nodes.get(&uid).is_some_and(|n| n.deleting_dependents);
        let node = g.nodes.entry(uid.clone()).or_insert_with(|| Node {
            api_version: ar.api_version.clone(),
            kind: ar.kind.clone(),
            namespace: None,
            name: String::new(),
            uid: uid.clone(),
            owners: Vec::new(),
            dependents: HashSet::new(),
            virtual_: false,
            deleting_dependents: false,
        });
        node.api_version = ar.api_version.clone();
        node.kind = ar.kind.clone();
        node.namespace = meta.namespace.clone();
        node.name = meta.name.clone().unwrap_or_default();
        node.virtual_ = false;
        node.owners = owners.clone();
        node.deleting_dependents = foreground;
        // owner edges
        let old_uids: HashSet<&str> = old_owners.iter().map(|o| o.uid.as_str()).collect();
        let new_uids: HashSet<&str> = owners.iter().map(|o| o.uid.as_str()).collect();
        for removed in old_owners.iter().filter(|o| !new_uids.contains(o.uid.as_str())) {
            if let Some(o) = g.nodes.get_mut(&removed.uid) {
                o.dependents.remove(&uid);
                if o.deleting_dependents {
                    self.delete_q.add(removed.uid.clone());
                }
            }
        }
        for added in owners.iter() {
            let changed_block = old_owners.iter().any(|o| o.uid == added.uid && o.block_owner_deletion != added.block_owner_deletion);
            if old_uids.contains(added.uid.as_str()) && !changed_block {
                continue;
            }
            match g.nodes.get_mut(&added.uid) {
                Some(o) => {
                    o.dependents.insert(uid.clone());
                    if o.deleting_dependents {
                        self.delete_q.add(added.uid.clone());
                    }
                }
                None => {
                    let mut deps = HashSet::new();
                    deps.insert(uid.clone());
                    g.nodes.insert(
                        added.uid.clone(),
                        Node {
                            api_version: added.api_version.clone(),
                            kind: added.kind.clone(),
                            namespace: meta.namespace.clone(),
                            name: added.name.clone(),
                            uid: added.uid.clone(),
                            owners: Vec::new(),
                            dependents: deps,
                            virtual_: true,
                            deleting_dependents: false,
                        },
                    );
                    self.delete_q.add(added.uid.clone());
                }
            }
        }
        if orphan {
            self.orphan_q.add(uid.clone());
        }
        if foreground {
            if !was_foreground
                && let Some(n) = g.nodes.get(&uid)
            {
                for d in &n.dependents {
                    self.delete_q.add(d.clone());
                }
            }
            self.delete_q.add(uid.clone());
        }
    }

    /// Removes an object from the graph: its dependents are checked, owners waiting for it
    /// are looked at again.
    fn forget(&self, uid: &str) {
        let mut g = self.graph();
        let Some(node) = g.nodes.remove(uid) else { return };
        for d in &node.dependents {
            self.delete_q.add(d.clone());
        }
        for o in &node.owners {
            if let Some(owner) = g.nodes.get_mut(&o.uid) {
                owner.dependents.remove(uid);
                if owner.deleting_dependents {
                    self.delete_q.add(o.uid.clone());
                }
            }
        }
    }

    /// A live read of an object by identity: `None` when absent or replaced (uid differs).
    async fn live(&self, api_version: &str, kind: &str, namespace: Option<&str>, name: &str, uid: &str) -> Result<Option<DynamicObject>> {
        let Some(api) = self.api_for(api_version, kind, namespace) else {
            return Err(Error::Pending(format!("no resource for {api_version} {kind}")));
        };
        match api.get(name).await {
            Ok(o) if o.metadata.uid.as_deref() == Some(uid) => Ok(Some(o)),
            Ok(_) => Ok(None),
            Err(e) if appsutil::api_code(&e) == Some(404) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn attempt_to_delete(&self, uid: String) -> Result<()> {
        let Some(node) = self.graph().nodes.get(&uid).cloned() else { return Ok(()) };
        let latest = self.live(&node.api_version, &node.kind, node.namespace.as_deref(), &node.name, &node.uid).await?;
        let Some(latest) = latest else {
            // absent: as if its deletion had been observed
            let mut g = self.graph();
            if let Some(n) = g.nodes.remove(&uid) {
                for d in &n.dependents {
                    self.delete_q.add(d.clone());
                }
                for o in &n.owners {
                    if let Some(owner) = g.nodes.get_mut(&o.uid) {
                        owner.dependents.remove(&uid);
                    }
                }
            }
            return Ok(());
        };
        if node.virtual_ {
            // it exists; its watch will bring it
            return Ok(());
        }
        let meta = &latest.metadata;
        if meta.deletion_timestamp.is_some() && !has_finalizer(meta, FOREGROUND) {
            return Ok(());
        }
        if meta.deletion_timestamp.is_some() && has_finalizer(meta, FOREGROUND) {
            return self.process_deleting_dependents(&node, &latest).await;
        }
        let refs = meta.owner_references.clone().unwrap_or_default();
        if refs.is_empty() {
            return Ok(());
        }
        let (mut solid, mut dangling, mut waiting) = (Vec::new(), Vec::new(), Vec::new());
        for r in &refs {
            let owner = match self.live(&r.api_version, &r.kind, meta.namespace.as_deref(), &r.name, &r.uid).await {
                Ok(o) => o,
                // an owner of an unknown kind is kept as solid (upstream retries the mapping)
                Err(Error::Pending(_)) => {
                    solid.push(r.clone());
                    continue;
                }
                Err(e) => return Err(e),
            };
            match owner {
                None => dangling.push(r.clone()),
                Some(o) if o.metadata.deletion_timestamp.is_some() && has_finalizer(&o.metadata, FOREGROUND) => waiting.push(r.clone()),
                Some(_) => solid.push(r.clone()),
            }
        }
        let api = self.api_for(&node.api_version, &node.kind, node.namespace.as_deref()).ok_or_else(|| Error::Pending("resource gone".into()))?;
        if !solid.is_empty() {
            if dangling.is_empty() && waiting.is_empty() {
                return Ok(());
            }
            // keep the solid owners, drop the others
            let gone: HashSet<&str> = dangling.iter().chain(waiting.iter()).map(|r| r.uid.as_str()).collect();
            let keep: Vec<&OwnerReference> = refs.iter().filter(|r| !gone.contains(r.uid.as_str())).collect();
            let patch = json!({"metadata": {"ownerReferences": keep, "uid": meta.uid, "resourceVersion": meta.resource_version}});
            return match api.patch(&node.name, &PatchParams::default(), &Patch::Merge(patch)).await {
                Ok(_) => Ok(()),
                Err(e) if appsutil::api_code(&e) == Some(404) => Ok(()),
                Err(e) => Err(e.into()),
            };
        }
        let policy = if !waiting.is_empty() && !node.dependents.is_empty() {
            PropagationPolicy::Foreground
        } else if has_finalizer(meta, ORPHAN) {
            PropagationPolicy::Orphan
        } else if has_finalizer(meta, FOREGROUND) {
            PropagationPolicy::Foreground
        } else {
            PropagationPolicy::Background
        };
        let dp = DeleteParams {
            propagation_policy: Some(policy),
            preconditions: Some(Preconditions { uid: meta.uid.clone(), resource_version: None }),
            ..Default::default()
        };
        tracing::debug!(kind = %node.kind, name = %node.name, "deleting object whose owners are gone");
        match api.delete(&node.name, &dp).await {
            Ok(_) => Ok(()),
            Err(e) if matches!(appsutil::api_code(&e), Some(404) | Some(409)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn process_deleting_dependents(&self, node: &Node, latest: &DynamicObject) -> Result<()> {
        let blocking: Vec<Node> = {
            let g = self.graph();
            node.dependents
                .iter()
                .filter_map(|d| g.nodes.get(d))
                .filter(|d| d.owners.iter().any(|o| o.uid == node.uid && o.block_owner_deletion == Some(true)))
                .cloned()
                .collect()
        };
        if blocking.is_empty() {
            return self.remove_finalizer(node, latest, FOREGROUND).await;
        }
        for d in blocking {
            if !d.deleting_dependents {
                self.delete_q.add(d.uid.clone());
            }
        }
        // looked at again when a dependent goes; and periodically in case a watch lags
        self.delete_q.add_after(node.uid.clone(), Duration::from_secs(5));
        Ok(())
    }

    async fn remove_finalizer(&self, node: &Node, latest: &DynamicObject, finalizer: &str) -> Result<()> {
        let api = self.api_for(&node.api_version, &node.kind, node.namespace.as_deref()).ok_or_else(|| Error::Pending("resource gone".into()))?;
        let mut obj = latest.clone();
        for _ in 0..5 {
            let list: Vec<String> = obj.metadata.finalizers.clone().unwrap_or_default().into_iter().filter(|f| f != finalizer).collect();
            if obj.metadata.finalizers.as_ref().is_none_or(|l| l.len() == list.len()) {
                return Ok(());
            }
            let patch = json!({"metadata": {"finalizers": if list.is_empty() { Value::Null } else { json!(list) }, "resourceVersion": obj.metadata.resource_version}});
            match api.patch(&node.name, &PatchParams::default(), &Patch::Merge(patch)).await {
                Ok(_) => return Ok(()),
                Err(e) if appsutil::api_code(&e) == Some(404) => return Ok(()),
                Err(e) if appsutil::api_code(&e) == Some(409) => match api.get(&node.name).await {
                    Ok(o) if o.metadata.uid == obj.metadata.uid => obj = o,
                    Ok(_) => return Ok(()),
                    Err(e) if appsutil::api_code(&e) == Some(404) => return Ok(()),
                    Err(e) => return Err(e.into()),
                },
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Pending(format!("removing finalizer {finalizer} from {}", node.name)))
    }

    async fn attempt_to_orphan(&self, uid: String) -> Result<()> {
        let Some(node) = self.graph().nodes.get(&uid).cloned() else { return Ok(()) };
        let Some(latest) = self.live(&node.api_version, &node.kind, node.namespace.as_deref(), &node.name, &node.uid).await? else { return Ok(()) };
        if latest.metadata.deletion_timestamp.is_none() || !has_finalizer(&latest.metadata, ORPHAN) {
            return Ok(());
        }
        let deps: Vec<Node> = {
            let g = self.graph();
            node.dependents.iter().filter_map(|d| g.nodes.get(d)).cloned().collect()
        };
        for d in deps {
            let Some(api) = self.api_for(&d.api_version, &d.kind, d.namespace.as_deref()) else { continue };
            for _ in 0..5 {
                let cur = match api.get(&d.name).await {
                    Ok(o) if o.metadata.uid.as_deref() == Some(d.uid.as_str()) => o,
                    Ok(_) => break,
                    Err(e) if appsutil::api_code(&e) == Some(404) => break,
                    Err(e) => return Err(e.into()),
                };
                let refs = cur.metadata.owner_references.clone().unwrap_or_default();
                if !refs.iter().any(|r| r.uid == uid) {
                    break;
                }
                let keep: Vec<&OwnerReference> = refs.iter().filter(|r| r.uid != uid).collect();
                let patch = json!({"metadata": {
                    "ownerReferences": if keep.is_empty() { Value::Null } else { json!(keep) },
                    "uid": cur.metadata.uid, "resourceVersion": cur.metadata.resource_version,
                }});
                match api.patch(&d.name, &PatchParams::default(), &Patch::Merge(patch)).await {
                    Ok(_) => break,
                    Err(e) if appsutil::api_code(&e) == Some(409) => continue,
                    Err(e) if appsutil::api_code(&e) == Some(404) => break,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        self.remove_finalizer(&node, &latest, ORPHAN).await
    }
}

/// Resources the collector watches: list + watch + delete, not events.
async fn watchable(client: &kube::Client) -> Result<Vec<(ApiResource, bool)>> {
    let discovery = Discovery::new(client.clone()).run().await.map_err(|e| Error::Discovery(e.to_string()))?;
    let mut out = Vec::new();
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            if ar.plural == "events" {
                continue;
            }
            if caps.supports_operation(verbs::LIST) && caps.supports_operation(verbs::WATCH) && caps.supports_operation(verbs::DELETE) {
                out.push((ar, caps.scope == Scope::Namespaced));
            }
        }
    }
    Ok(out)
}

enum GraphEvent {
    Apply(Box<(ApiResource, ObjectMeta)>),
    Delete(String),
    Synced,
}

/// Runs the garbage collector.
pub async fn run(client: kube::Client) {
    let mut tasks = appsutil::Tasks::default();
    let gc = Arc::new(Gc {
        client: client.clone(),
        graph: Mutex::new(Graph::default()),
        kinds: Mutex::new(HashMap::new()),
        delete_q: Arc::new(WorkQueue::new()),
        orphan_q: Arc::new(WorkQueue::new()),
    });
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<GraphEvent>();
    // discovery loop: a metadata watch per resource
    let gc_d = gc.clone();
    let tx_d = tx.clone();
    let (first_tx, first_rx) = tokio::sync::oneshot::channel::<usize>();
    // a CRD change re-runs discovery at once (instead of waiting for the period)
    let crd_changed = Arc::new(tokio::sync::Notify::new());
    let notify = crd_changed.clone();
    let crds: Api<kube::core::PartialObjectMeta<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>> =
        Api::all(client.clone());
    tasks.spawn(async move {
        let mut stream = std::pin::pin!(watcher(crds, watcher::Config::default()).default_backoff());
        let mut initial = true;
        while let Some(ev) = stream.next().await {
            match ev {
                Ok(watcher::Event::InitDone) => initial = false,
                Ok(watcher::Event::Apply(_)) | Ok(watcher::Event::Delete(_)) if !initial => notify.notify_one(),
                _ => {}
            }
        }
    });
    tasks.spawn(async move {
        // one watch task per resource, aborted with this task (Tasks aborts on drop)
        let mut watching: HashMap<(String, String), appsutil::Tasks> = HashMap::new();
        let mut first = Some(first_tx);
        loop {
            match watchable(&gc_d.client).await {
                Ok(list) => {
                    let mut kinds = HashMap::new();
                    let mut seen = HashSet::new();
                    for (ar, namespaced) in list {
                        kinds.insert((ar.group.clone(), ar.kind.clone()), (ar.clone(), namespaced));
                        let key = (ar.group.clone(), ar.plural.clone());
                        seen.insert(key.clone());
                        if watching.contains_key(&key) {
                            continue;
                        }
                        let api: Api<kube::core::PartialObjectMeta<DynamicObject>> = Api::all_with(gc_d.client.clone(), &ar);
                        let tx = tx_d.clone();
                        let mut handle = appsutil::Tasks::default();
                        handle.spawn(async move {
                            let stream = watcher(api, watcher::Config::default()).default_backoff();
                            let mut stream = std::pin::pin!(stream);
                            while let Some(ev) = stream.next().await {
                                let sent = match ev {
                                    Ok(watcher::Event::Apply(o)) | Ok(watcher::Event::InitApply(o)) => tx.send(GraphEvent::Apply(Box::new((ar.clone(), o.metadata)))),
                                    Ok(watcher::Event::Delete(o)) => tx.send(GraphEvent::Delete(o.metadata.uid.unwrap_or_default())),
                                    Ok(watcher::Event::InitDone) => tx.send(GraphEvent::Synced),
                                    Ok(watcher::Event::Init) => Ok(()),
                                    Err(e) => {
                                        tracing::debug!(resource = %ar.plural, error = %e, "garbage collector watch");
                                        Ok(())
                                    }
                                };
                                if sent.is_err() {
                                    return;
                                }
                            }
                        });
                        watching.insert(key, handle);
                    }
                    watching.retain(|k, _| seen.contains(k));
                    *gc_d.kinds() = kinds;
                    if let Some(f) = first.take() {
                        let _ = f.send(watching.len());
                    }
                }
                Err(e) => tracing::debug!(error = %e, "garbage collector discovery"),
            }
            tokio::select! {
                _ = tokio::time::sleep(DISCOVERY_PERIOD) => {}
                _ = crd_changed.notified() => {
                    // a new CRD is served once established: give it a moment
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    });
    // graph builder
    let gc_b = gc.clone();
    let (synced_tx, synced_rx) = tokio::sync::oneshot::channel::<()>();
    tasks.spawn(async move {
        let mut want = first_rx.await.unwrap_or(0);
        let mut synced_tx = Some(synced_tx);
        let mut synced = 0usize;
        while let Some(ev) = rx.recv().await {
            match ev {
                GraphEvent::Apply(b) => gc_b.observe(&b.0, &b.1),
                GraphEvent::Delete(uid) => gc_b.forget(&uid),
                GraphEvent::Synced => {
                    synced += 1;
                    if synced >= want
                        && let Some(t) = synced_tx.take()
                    {
                        let _ = t.send(());
                        want = 0;
                    }
                }
            }
        }
    });
    // workers start once every watch has listed (or after a minute, whatever lags)
    let _ = tokio::time::timeout(Duration::from_secs(60), synced_rx).await;
    let (g1, g2) = (gc.clone(), gc.clone());
    let deleters = appsutil::run_workers(gc.delete_q.clone(), 5, move |uid: String| {
        let gc = g1.clone();
        async move { gc.attempt_to_delete(uid).await }
    });
    let orphaners = appsutil::run_workers(gc.orphan_q.clone(), 2, move |uid: String| {
        let gc = g2.clone();
        async move { gc.attempt_to_orphan(uid).await }
    });
    futures::join!(deleters, orphaners);
}
