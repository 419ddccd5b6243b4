//! The ReplicaSet and ReplicationController controllers (one implementation, as upstream's
//! ReplicationManager wraps the ReplicaSet controller): each keeps `spec.replicas` active pods
//! made from the template, adopting orphans its selector matches and releasing owned pods that
//! stop matching (upstream's ControllerRefManager), creating in slow-start batches (1, 2, 4,
//! ...) and deleting the pods least worth keeping first (upstream's ActivePodsWithRanks order).
//! Expectations (the pods it created or deleted, per owner) keep it from acting again before its
//! pod informer has seen its own writes. Status: replicas, fullyLabeledReplicas, readyReplicas,
//! availableReplicas (minReadySeconds), observedGeneration, and the ReplicaFailure condition
//! when creating or deleting fails (e.g. a quota). The two controllers share one pod informer.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apimachinery::labels::{self, Selector};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec, ReplicationController};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::reflector::{ObjectRef, Store};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::appsutil::{self, Change, Events, WorkQueue};
use crate::stores;
use crate::{Error, Result};

/// Most pods created or deleted in one sync (upstream's BurstReplicas).
pub const BURST_REPLICAS: usize = 500;
/// How long unmet expectations are trusted before the controller acts anyway.
pub const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(120);
/// Pod annotation ranking pods for deletion (lower cost goes first).
pub const POD_DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";

/// Which workload kind a controller instance manages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// apps/v1 ReplicaSet.
    ReplicaSet,
    /// v1 ReplicationController.
    ReplicationController,
}

impl Kind {
    fn kind(self) -> &'static str {
        match self {
            Kind::ReplicaSet => "ReplicaSet",
            Kind::ReplicationController => "ReplicationController",
        }
    }
    fn api_version(self) -> &'static str {
        match self {
            Kind::ReplicaSet => "apps/v1",
            Kind::ReplicationController => "v1",
        }
    }
    fn controller_name(self) -> &'static str {
        match self {
            Kind::ReplicaSet => "replicaset-controller",
            Kind::ReplicationController => "replication-controller",
        }
    }
}

/// The parts of a ReplicaSet or ReplicationController the controller works with.
#[derive(Clone, Debug)]
pub struct Owner {
    /// Its metadata.
    pub meta: ObjectMeta,
    /// `spec.replicas` (default 1).
    pub replicas: i32,
    /// `spec.minReadySeconds`.
    pub min_ready_seconds: i32,
    /// The parsed selector (None when invalid).
    pub selector: Option<Selector>,
    /// The pod template.
    pub template: Option<PodTemplateSpec>,
    /// The current status, as JSON.
    pub status: Value,
    /// The whole object, as JSON (for status updates).
    pub raw: Value,
}

impl Owner {
    fn from_rs(rs: &ReplicaSet) -> Owner {
        let spec = rs.spec.clone().unwrap_or_default();
        Owner {
            meta: rs.metadata.clone(),
            replicas: spec.replicas.unwrap_or(1),
            min_ready_seconds: spec.min_ready_seconds.unwrap_or(0),
            selector: labels::from_label_selector(&spec.selector).ok(),
            template: spec.template,
            status: serde_json::to_value(&rs.status).unwrap_or(Value::Null),
            raw: serde_json::to_value(rs).unwrap_or(Value::Null),
        }
    }

    fn from_rc(rc: &ReplicationController) -> Owner {
        let spec = rc.spec.clone().unwrap_or_default();
        let sel = spec.selector.clone().unwrap_or_default();
        Owner {
            meta: rc.metadata.clone(),
            replicas: spec.replicas.unwrap_or(1),
            min_ready_seconds: spec.min_ready_seconds.unwrap_or(0),
            selector: (!sel.is_empty()).then(|| Selector::from_set(&sel)),
            template: spec.template,
            status: serde_json::to_value(&rc.status).unwrap_or(Value::Null),
            raw: serde_json::to_value(rc).unwrap_or(Value::Null),
        }
    }

    /// Metadata and selector only (for mapping pods to owners).
    fn light_rs(rs: &ReplicaSet) -> Owner {
        Owner {
            meta: rs.metadata.clone(),
            replicas: 0,
            min_ready_seconds: 0,
            selector: rs.spec.as_ref().and_then(|s| labels::from_label_selector(&s.selector).ok()),
            template: None,
            status: Value::Null,
            raw: Value::Null,
        }
    }

    fn light_rc(rc: &ReplicationController) -> Owner {
        let sel = rc.spec.as_ref().and_then(|s| s.selector.clone()).unwrap_or_default();
        Owner {
            meta: rc.metadata.clone(),
            replicas: 0,
            min_ready_seconds: 0,
            selector: (!sel.is_empty()).then(|| Selector::from_set(&sel)),
            template: None,
            status: Value::Null,
            raw: Value::Null,
        }
    }

    fn selects(&self, pod: &Pod) -> bool {
        let empty = BTreeMap::new();
        let l = pod.metadata.labels.as_ref().unwrap_or(&empty);
        self.selector.as_ref().is_some_and(|s| !s.is_empty() && s.matches(l))
    }
}

enum Owners {
    Rs(Store<ReplicaSet>),
    Rc(Store<ReplicationController>),
}

impl Owners {
    fn get(&self, ns: &str, name: &str) -> Option<Owner> {
        match self {
            Owners::Rs(s) => s.get(&ObjectRef::new(name).within(ns)).map(|o| Owner::from_rs(&o)),
            Owners::Rc(s) => s.get(&ObjectRef::new(name).within(ns)).map(|o| Owner::from_rc(&o)),
        }
    }
    fn in_namespace(&self, ns: &str) -> Vec<Owner> {
        match self {
            Owners::Rs(s) => s.state().iter().filter(|o| o.metadata.namespace.as_deref() == Some(ns)).map(|o| Owner::light_rs(o)).collect(),
            Owners::Rc(s) => s.state().iter().filter(|o| o.metadata.namespace.as_deref() == Some(ns)).map(|o| Owner::light_rc(o)).collect(),
        }
    }
}

type Key = (String, String);

#[derive(Default)]
struct Expectation {
    /// Names of pods created and not yet seen.
    adds: HashSet<String>,
    /// (name, uid) of pods deleted and not yet seen gone or terminating.
    dels: HashSet<(String, String)>,
    since: Option<Instant>,
}

struct Ctx {
    kind: Kind,
    client: kube::Client,
    owners: Owners,
    pods: Store<Pod>,
    queue: Arc<WorkQueue<Key>>,
    expectations: Mutex<HashMap<Key, Expectation>>,
    events: Events,
}

impl Ctx {
    fn expectations(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Expectation>> {
        match self.expectations.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Whether every create/delete of the last sync has been observed (or timed out).
    fn satisfied(&self, key: &Key) -> bool {
        let mut exp = self.expectations();
        let Some(e) = exp.get_mut(key) else { return true };
        let pods = &self.pods;
        e.adds.retain(|name| pods.get(&ObjectRef::new(name).within(&key.0)).is_none());
        e.dels.retain(|(name, uid)| {
            pods.get(&ObjectRef::new(name).within(&key.0))
                .is_some_and(|p| p.metadata.uid.as_deref() == Some(uid.as_str()) && p.metadata.deletion_timestamp.is_none())
        });
        let done = (e.adds.is_empty() && e.dels.is_empty()) || e.since.is_some_and(|t| t.elapsed() > EXPECTATIONS_TIMEOUT);
        if done {
            exp.remove(key);
        }
        done
    }

    fn owner_api_patch_status(&self, ns: &str) -> Api<kube::api::DynamicObject> {
        let ar = match self.kind {
            Kind::ReplicaSet => kube::discovery::ApiResource::erase::<ReplicaSet>(&()),
            Kind::ReplicationController => kube::discovery::ApiResource::erase::<ReplicationController>(&()),
        };
        Api::namespaced_with(self.client.clone(), ns, &ar)
    }

    fn reference(&self, owner: &Owner) -> k8s_openapi::api::core::v1::ObjectReference {
        appsutil::object_ref(self.kind.kind(), self.kind.api_version(), &owner.meta)
    }
}

/// Runs the ReplicaSet and ReplicationController controllers, each with its own identity, over
/// one shared pod informer (watched with the ReplicaSet controller's identity, as upstream's
/// controllers share informers).
pub async fn run_replica_controllers(informers: stores::Informers, rs_client: kube::Client, rc_client: kube::Client) {
    let (rs_tx, rs_rx) = tokio::sync::mpsc::unbounded_channel::<Arc<Pod>>();
    let (rc_tx, rc_rx) = tokio::sync::mpsc::unbounded_channel::<Arc<Pod>>();
    let pods = informers.subscribe(move |c: Change<'_, Pod>| {
        if let Change::Apply(p) | Change::Delete(p) = c {
            let p = Arc::new(p.clone());
            let _ = rs_tx.send(p.clone());
            let _ = rc_tx.send(p);
        }
    });
    futures::join!(
        run(&informers, rs_client, Kind::ReplicaSet, pods.clone(), rs_rx),
        run(&informers, rc_client, Kind::ReplicationController, pods, rc_rx)
    );
}

async fn run(informers: &stores::Informers, client: kube::Client, kind: Kind, pods: Store<Pod>, mut rx: tokio::sync::mpsc::UnboundedReceiver<Arc<Pod>>) {
    let mut tasks = appsutil::Tasks::default();
    let queue: Arc<WorkQueue<Key>> = Arc::new(WorkQueue::new());
    let q = queue.clone();
    let owner_handler = move |c: Change<'_, ObjectMeta>| match c {
        Change::Apply(m) | Change::Delete(m) => q.add(appsutil::key_of(m)),
        Change::Synced => {}
    };
    let owners = match kind {
        Kind::ReplicaSet => {
            let h = owner_handler.clone();
            Owners::Rs(informers.subscribe(move |c: Change<'_, ReplicaSet>| {
                h(match c {
                    Change::Apply(o) => Change::Apply(&o.metadata),
                    Change::Delete(o) => Change::Delete(&o.metadata),
                    Change::Synced => Change::Synced,
                })
            }))
        }
        Kind::ReplicationController => {
            let h = owner_handler.clone();
            Owners::Rc(informers.subscribe(move |c: Change<'_, ReplicationController>| {
                h(match c {
                    Change::Apply(o) => Change::Apply(&o.metadata),
                    Change::Delete(o) => Change::Delete(&o.metadata),
                    Change::Synced => Change::Synced,
                })
            }))
        }
    };
    // pods map to their controller, or (orphans) to every owner whose selector matches
    let ctx = Arc::new(Ctx {
        kind,
        client: client.clone(),
        owners,
        pods,
        queue: queue.clone(),
        expectations: Mutex::new(HashMap::new()),
        events: Events::new(client, kind.controller_name()),
    });
    let c2 = ctx.clone();
    tasks.spawn(async move {
        while let Some(pod) = rx.recv().await {
            let ns = pod.metadata.namespace.clone().unwrap_or_default();
            match appsutil::controller_ref(&pod.metadata) {
                Some(r) if r.kind == c2.kind.kind() => c2.queue.add((ns, r.name.clone())),
                Some(_) => {}
                None => {
                    for o in c2.owners.in_namespace(&ns) {
                        if o.selects(&pod) {
                            c2.queue.add(appsutil::key_of(&o.meta));
                        }
                    }
                }
            }
        }
    });
    let c3 = ctx.clone();
    appsutil::run_workers(queue, 5, move |key: Key| {
        let ctx = c3.clone();
        async move { sync(&ctx, &key).await }
    })
    .await;
}

/// The controller reference an owner puts on its pods.
fn controller_ref_for(kind: Kind, owner: &Owner) -> OwnerReference {
    OwnerReference {
        api_version: kind.api_version().into(),
        kind: kind.kind().into(),
        name: owner.meta.name.clone().unwrap_or_default(),
        uid: owner.meta.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// The pod an owner creates from its template.
pub fn pod_from_template(kind: Kind, owner: &Owner) -> Pod {
    let t = owner.template.clone().unwrap_or_default();
    let tm = t.metadata.unwrap_or_default();
    let name = owner.meta.name.clone().unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{name}-")),
            namespace: owner.meta.namespace.clone(),
            labels: tm.labels,
            annotations: tm.annotations,
            finalizers: tm.finalizers,
            owner_references: Some(vec![controller_ref_for(kind, owner)]),
            ..Default::default()
        },
        spec: t.spec,
        status: None,
    }
}

async fn sync(ctx: &Ctx, key: &Key) -> Result<()> {
    let (ns, name) = key;
    let Some(owner) = ctx.owners.get(ns, name) else {
        ctx.expectations().remove(key);
        return Ok(());
    };
    if owner.selector.is_none() {
        tracing::info!(namespace = %ns, name = %name, "invalid selector; not syncing");
        return Ok(());
    }
    let needs_sync = ctx.satisfied(key);
    let uid = owner.meta.uid.clone().unwrap_or_default();
    let all: Vec<Arc<Pod>> = ctx.pods.state().into_iter().filter(|p| p.metadata.namespace.as_deref() == Some(ns.as_str())).collect();
    let pods_api: Api<Pod> = Api::namespaced(ctx.client.clone(), ns);

    // claim (adopt / release)
    let mut owned: Vec<Arc<Pod>> = Vec::new();
    let mut can_adopt: Option<bool> = None;
    for pod in all.iter().filter(|p| appsutil::is_pod_active(p)) {
        match appsutil::controller_ref(&pod.metadata) {
            Some(r) if r.uid == uid => {
                if owner.selects(pod) {
                    owned.push(pod.clone());
                } else if owner.meta.deletion_timestamp.is_none() {
                    release(&pods_api, pod, &uid).await?;
                }
            }
            Some(_) => {}
            None => {
                if owner.meta.deletion_timestamp.is_some() || !owner.selects(pod) {
                    continue;
                }
                if can_adopt.is_none() {
                    can_adopt = Some(fresh_owner_ok(ctx, ns, name, &uid).await?);
                }
                if can_adopt != Some(true) {
                    continue;
                }
                match adopt(&pods_api, pod, controller_ref_for(ctx.kind, &owner)).await {
                    Ok(()) => owned.push(pod.clone()),
                    Err(e) if matches!(appsutil::api_code(&e), Some(404) | Some(409) | Some(422)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }

    let mut manage_err: Option<(String, String)> = None;
    if needs_sync && owner.meta.deletion_timestamp.is_none() {
        manage_err = manage(ctx, key, &owner, &owned, &all).await?;
    }

    // status
    let now = jiff::Timestamp::now();
    let tmpl_labels = owner.template.as_ref().and_then(|t| t.metadata.as_ref()).and_then(|m| m.labels.clone()).unwrap_or_default();
    let mut fully = 0;
    let mut ready = 0;
    let mut available = 0;
    let mut next_available: Option<i64> = None;
    for p in &owned {
        let pl = p.metadata.labels.clone().unwrap_or_default();
        if tmpl_labels.iter().all(|(k, v)| pl.get(k) == Some(v)) {
            fully += 1;
        }
        if appsutil::is_pod_ready(p) {
            ready += 1;
            if appsutil::is_pod_available(p, owner.min_ready_seconds, now) {
                available += 1;
            } else if let Some(s) = appsutil::pod_available_in(p, owner.min_ready_seconds, now) {
                next_available = Some(next_available.map_or(s, |n| n.min(s)));
            }
        }
    }
    let mut conditions: Vec<Value> = owner.status.get("conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    match &manage_err {
        Some((reason, message)) => {
            let existing = conditions.iter().position(|c| c.get("type").and_then(Value::as_str) == Some("ReplicaFailure"));
            if existing.is_none() {
                conditions.push(json!({
                    "type": "ReplicaFailure", "status": "True", "reason": reason, "message": message,
                    "lastTransitionTime": now.to_string(),
                }));
            }
        }
        None => {
            if needs_sync {
                conditions.retain(|c| c.get("type").and_then(Value::as_str) != Some("ReplicaFailure"));
            }
        }
    }
    let int = |f: &str| owner.status.get(f).and_then(Value::as_i64).unwrap_or(0);
    let old_conds = owner.status.get("conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    let generation = owner.meta.generation.unwrap_or(0);
    let changed = int("replicas") != owned.len() as i64
        || int("fullyLabeledReplicas") != fully
        || int("readyReplicas") != ready
        || int("availableReplicas") != available
        || int("observedGeneration") != generation
        || old_conds != conditions;
    if changed {
        let status = json!({
            "replicas": owned.len(),
            "fullyLabeledReplicas": fully,
            "readyReplicas": ready,
            "availableReplicas": available,
            "observedGeneration": generation,
            "conditions": if conditions.is_empty() { Value::Null } else { Value::Array(conditions) },
        });
        let api = ctx.owner_api_patch_status(ns);
        let mut obj = owner.raw.clone();
        // the status subresource is updated (PUT), as the controller's role allows; one retry
        // on a fresh copy after a conflict
        for attempt in 0..2 {
            if let Some(o) = obj.as_object_mut() {
                o.insert("status".into(), status.clone());
            }
            let body: kube::api::DynamicObject = match serde_json::from_value(obj.clone()) {
                Ok(b) => b,
                Err(e) => return Err(Error::Pending(format!("status body: {e}"))),
            };
            match api.replace_status(name, &PostParams::default(), &body).await {
                Ok(_) => break,
                Err(e) if appsutil::api_code(&e) == Some(404) => return Ok(()),
                Err(e) if appsutil::api_code(&e) == Some(409) && attempt == 0 => match api.get(name).await {
                    Ok(fresh) if fresh.metadata.uid == owner.meta.uid => obj = serde_json::to_value(&fresh).unwrap_or(Value::Null),
                    Ok(_) => return Ok(()),
                    Err(e) => return Err(e.into()),
                },
                Err(e) => return Err(e.into()),
            }
        }
    }
    if let Some(secs) = next_available {
        ctx.queue.add_after(key.clone(), Duration::from_secs(secs.max(0) as u64 + 1));
    }
    if !needs_sync {
        ctx.queue.add_after(key.clone(), Duration::from_secs(2));
    }
    if let Some((_, m)) = manage_err {
        return Err(Error::Pending(m));
    }
    Ok(())
}

/// A fresh read of the owner: still the same object and not being deleted (upstream's
/// canAdopt check before adopting anything).
async fn fresh_owner_ok(ctx: &Ctx, ns: &str, name: &str, uid: &str) -> Result<bool> {
    let api = ctx.owner_api_patch_status(ns);
    match api.get(name).await {
        Ok(o) => Ok(o.metadata.uid.as_deref() == Some(uid) && o.metadata.deletion_timestamp.is_none()),
        Err(e) if appsutil::api_code(&e) == Some(404) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

async fn adopt(api: &Api<Pod>, pod: &Pod, cref: OwnerReference) -> kube::Result<()> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let mut refs = pod.metadata.owner_references.clone().unwrap_or_default();
    refs.push(cref);
    let patch = json!({"metadata": {
        "ownerReferences": refs,
        "uid": pod.metadata.uid,
        "resourceVersion": pod.metadata.resource_version,
    }});
    api.patch(&name, &PatchParams::default(), &Patch::Merge(patch)).await.map(|_| ())
}

async fn release(api: &Api<Pod>, pod: &Pod, owner_uid: &str) -> Result<()> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let refs: Vec<OwnerReference> = pod.metadata.owner_references.clone().unwrap_or_default().into_iter().filter(|r| r.uid != owner_uid).collect();
    let patch = json!({"metadata": {
        "ownerReferences": if refs.is_empty() { Value::Null } else { serde_json::to_value(refs).unwrap_or(Value::Null) },
        "uid": pod.metadata.uid,
        "resourceVersion": pod.metadata.resource_version,
    }});
    match api.patch(&name, &PatchParams::default(), &Patch::Merge(patch)).await {
        Ok(_) => Ok(()),
        // gone, or changed meanwhile (the next sync sees it again)
        Err(e) if matches!(appsutil::api_code(&e), Some(404) | Some(409) | Some(422)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Creates or deletes pods toward `spec.replicas`; returns the failure for the ReplicaFailure
/// condition (reason, message), if any.
async fn manage(ctx: &Ctx, key: &Key, owner: &Owner, owned: &[Arc<Pod>], all: &[Arc<Pod>]) -> Result<Option<(String, String)>> {
    let diff = owned.len() as i64 - i64::from(owner.replicas.max(0));
    let pods_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &key.0);
    let reference = ctx.reference(owner);
    if diff < 0 {
        let want = ((-diff) as usize).min(BURST_REPLICAS);
        let pod = pod_from_template(ctx.kind, owner);
        ctx.expectations().insert(key.clone(), Expectation { since: Some(Instant::now()), ..Default::default() });
        let mut created = 0usize;
        let mut batch = 1usize;
        let mut failure: Option<String> = None;
        while created < want && failure.is_none() {
            let n = batch.min(want - created);
            let pp = PostParams::default();
            let results = futures::future::join_all((0..n).map(|_| pods_api.create(&pp, &pod))).await;
            for r in results {
                match r {
                    Ok(p) => {
                        created += 1;
                        let pname = p.metadata.name.clone().unwrap_or_default();
                        if let Some(e) = ctx.expectations().get_mut(key) {
                            e.adds.insert(pname.clone());
                        }
                        ctx.events.emit(&reference, false, "SuccessfulCreate", "Create", format!("Created pod: {pname}"));
                    }
                    Err(e) => {
                        let msg = match &e {
                            kube::Error::Api(s) => s.message.clone(),
                            other => other.to_string(),
                        };
                        ctx.events.publish(&reference, true, "FailedCreate", "Create", format!("Error creating: {msg}")).await;
                        // a namespace being terminated refuses new pods: not a replica failure
                        if failure.is_none() {
                            failure = Some(msg);
                        }
                    }
                }
            }
            batch = batch.saturating_mul(2);
        }
        return Ok(failure.map(|m| ("FailedCreate".to_string(), m)));
    }
    if diff > 0 {
        let n = (diff as usize).min(BURST_REPLICAS);
        // pods of sibling owners (same controller, e.g. a Deployment) count for "doubled up"
        let parent = appsutil::controller_ref(&owner.meta).map(|r| r.uid.clone());
        let mut related_owner_uids: HashSet<String> = HashSet::new();
        related_owner_uids.insert(owner.meta.uid.clone().unwrap_or_default());
        if let Some(parent) = parent {
            for o in ctx.owners.in_namespace(&key.0) {
                if appsutil::controller_ref(&o.meta).is_some_and(|r| r.uid == parent) {
                    related_owner_uids.insert(o.meta.uid.clone().unwrap_or_default());
                }
            }
        }
        let related: Vec<&Pod> = all
            .iter()
            .filter(|p| appsutil::is_pod_active(p))
            .filter(|p| appsutil::controller_ref(&p.metadata).is_some_and(|r| related_owner_uids.contains(&r.uid)))
            .map(|p| p.as_ref())
            .collect();
        let victims = pods_to_delete(owned, &related, n, jiff::Timestamp::now());
        ctx.expectations().insert(
            key.clone(),
            Expectation {
                dels: victims.iter().map(|p| (p.metadata.name.clone().unwrap_or_default(), p.metadata.uid.clone().unwrap_or_default())).collect(),
                since: Some(Instant::now()),
                ..Default::default()
            },
        );
        let results = futures::future::join_all(victims.iter().map(|p| {
            let name = p.metadata.name.clone().unwrap_or_default();
            let api = pods_api.clone();
            async move { (name.clone(), api.delete(&name, &DeleteParams::default()).await) }
        }))
        .await;
        let mut failure = None;
        for (pname, r) in results {
            match r {
                Ok(_) => ctx.events.emit(&reference, false, "SuccessfulDelete", "Delete", format!("Deleted pod: {pname}")),
                Err(e) if appsutil::api_code(&e) == Some(404) => {}
                Err(e) => {
                    let msg = match &e {
                        kube::Error::Api(s) => s.message.clone(),
                        other => other.to_string(),
                    };
                    ctx.events.publish(&reference, true, "FailedDelete", "Delete", format!("Error deleting: {msg}")).await;
                    failure.get_or_insert(msg);
                }
            }
        }
        return Ok(failure.map(|m| ("FailedDelete".to_string(), m)));
    }
    Ok(None)
}

fn phase_ordinal(p: &Pod) -> u8 {
    match appsutil::pod_phase(p) {
        "Pending" | "" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 3,
    }
}

fn deletion_cost(p: &Pod) -> i64 {
    p.metadata.annotations.as_ref().and_then(|a| a.get(POD_DELETION_COST)).and_then(|v| v.parse::<i32>().ok()).map(i64::from).unwrap_or(0)
}

fn max_restarts(p: &Pod) -> i32 {
    p.status.as_ref().and_then(|s| s.container_statuses.as_ref()).map(|cs| cs.iter().map(|c| c.restart_count).max().unwrap_or(0)).unwrap_or(0)
}

/// Upstream's logarithmic scale-down: times compared by the power-of-two bucket of their age.
fn log_bucket(t: Option<jiff::Timestamp>, now: jiff::Timestamp) -> Option<i64> {
    let t = t?;
    let age_ms = (now.as_millisecond() - t.as_millisecond()).max(1);
    Some(63 - i64::from(age_ms.leading_zeros()))
}

/// Ordering of pods for deletion: the first is deleted first (upstream's ActivePodsWithRanks
/// with logarithmic scale-down). `rank` counts related pods on the same node.
pub fn deletion_order(a: &Pod, ra: usize, b: &Pod, rb: usize, now: jiff::Timestamp) -> Ordering {
    let node = |p: &Pod| p.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default();
    let (na, nb) = (node(a), node(b));
    // 1. unassigned before assigned
    if na.is_empty() != nb.is_empty() {
        return if na.is_empty() { Ordering::Less } else { Ordering::Greater };
    }
    // 2. Pending < Unknown < Running
    let o = phase_ordinal(a).cmp(&phase_ordinal(b));
    if o != Ordering::Equal {
        return o;
    }
    // 3. not ready before ready
    let (ya, yb) = (appsutil::is_pod_ready(a), appsutil::is_pod_ready(b));
    if ya != yb {
        return if !ya { Ordering::Less } else { Ordering::Greater };
    }
    // 4. lower deletion cost first
    let o = deletion_cost(a).cmp(&deletion_cost(b));
    if o != Ordering::Equal {
        return o;
    }
    // 5. more doubled-up first
    if ra != rb {
        return rb.cmp(&ra);
    }
    // 6. ready more recently first
    if ya && yb {
        let ta = appsutil::pod_ready_since(a).flatten();
        let tb = appsutil::pod_ready_since(b).flatten();
        let o = compare_times_newer_first(log_bucket(ta, now), log_bucket(tb, now));
        if o != Ordering::Equal {
            return o;
        }
    }
    // 7. more restarts first
    let o = max_restarts(b).cmp(&max_restarts(a));
    if o != Ordering::Equal {
        return o;
    }
    // 8. newer first (no creation time first)
    let ca = a.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let cb = b.metadata.creation_timestamp.as_ref().map(|t| t.0);
    compare_times_newer_first(log_bucket(ca, now), log_bucket(cb, now))
}

/// Buckets are ages: the smaller age (newer) first; a missing time first of all.
fn compare_times_newer_first(a: Option<i64>, b: Option<i64>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.cmp(&y),
    }
}

/// The `n` pods to delete from `owned`, ranked against the related pods sharing their nodes.
pub fn pods_to_delete(owned: &[Arc<Pod>], related: &[&Pod], n: usize, now: jiff::Timestamp) -> Vec<Arc<Pod>> {
    let mut per_node: HashMap<String, usize> = HashMap::new();
    for p in related {
        if let Some(node) = p.spec.as_ref().and_then(|s| s.node_name.clone()).filter(|n| !n.is_empty()) {
            *per_node.entry(node).or_insert(0) += 1;
        }
    }
    let rank = |p: &Pod| {
        p.spec.as_ref().and_then(|s| s.node_name.as_ref()).and_then(|n| per_node.get(n)).copied().unwrap_or(0)
    };
    let mut v: Vec<(Arc<Pod>, usize)> = owned.iter().map(|p| (p.clone(), rank(p))).collect();
    v.sort_by(|(a, ra), (b, rb)| deletion_order(a, *ra, b, *rb, now));
    v.into_iter().take(n).map(|(p, _)| p).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn pod(name: &str, node: &str, phase: &str, ready_secs_ago: Option<i64>, now: jiff::Timestamp) -> Arc<Pod> {
        let conditions = ready_secs_ago.map(|s| {
            vec![PodCondition {
                type_: "Ready".into(),
                status: "True".into(),
                last_transition_time: Some(Time(jiff::Timestamp::from_second(now.as_second() - s).unwrap_or(now))),
                ..Default::default()
            }]
        });
        Arc::new(Pod {
            metadata: ObjectMeta { name: Some(name.into()), ..Default::default() },
            spec: Some(PodSpec { node_name: (!node.is_empty()).then(|| node.to_string()), ..Default::default() }),
            status: Some(PodStatus { phase: Some(phase.into()), conditions, ..Default::default() }),
        })
    }

    fn names(v: &[Arc<Pod>]) -> Vec<String> {
        v.iter().map(|p| p.metadata.name.clone().unwrap_or_default()).collect()
    }

    #[test]
    fn deletion_prefers_unscheduled_pending_unready() {
        let now = jiff::Timestamp::now();
        let owned = vec![
            pod("running-ready-old", "n1", "Running", Some(10_000), now),
            pod("running-ready-new", "n2", "Running", Some(10), now),
            pod("running-unready", "n3", "Running", None, now),
            pod("pending", "n4", "Pending", None, now),
            pod("unscheduled", "", "Pending", None, now),
        ];
        let all: Vec<&Pod> = owned.iter().map(|p| p.as_ref()).collect();
        let order = pods_to_delete(&owned, &all, 5, now);
        assert_eq!(names(&order), ["unscheduled", "pending", "running-unready", "running-ready-new", "running-ready-old"]);
        assert_eq!(names(&pods_to_delete(&owned, &all, 2, now)), ["unscheduled", "pending"]);
    }

    #[test]
    fn doubled_up_pods_go_first_and_cost_matters_more() {
        let now = jiff::Timestamp::now();
        let a = pod("alone", "n1", "Running", Some(100), now);
        let b = pod("double-1", "n2", "Running", Some(100), now);
        let c = pod("double-2", "n2", "Running", Some(100), now);
        let owned = vec![a.clone(), b.clone(), c.clone()];
        let all: Vec<&Pod> = owned.iter().map(|p| p.as_ref()).collect();
        let first = pods_to_delete(&owned, &all, 1, now);
        assert!(names(&first)[0].starts_with("double"));
        // a higher deletion cost protects a pod even when doubled up
        let mut b2 = (*b).clone();
        b2.metadata.annotations = Some([(POD_DELETION_COST.to_string(), "100".to_string())].into());
        let mut c2 = (*c).clone();
        c2.metadata.annotations = Some([(POD_DELETION_COST.to_string(), "100".to_string())].into());
        let owned = vec![a, Arc::new(b2), Arc::new(c2)];
        assert_eq!(names(&pods_to_delete(&owned, &all, 1, now)), ["alone"]);
    }

    #[test]
    fn template_pod_is_controlled_and_named_after_owner() {
        let owner = Owner {
            meta: ObjectMeta { name: Some("web-abc".into()), namespace: Some("ns".into()), uid: Some("u1".into()), ..Default::default() },
            replicas: 2,
            min_ready_seconds: 0,
            selector: None,
            template: Some(PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some([("app".to_string(), "web".to_string())].into()), ..Default::default() }),
                spec: Some(PodSpec::default()),
            }),
            status: Value::Null,
            raw: Value::Null,
        };
        let p = pod_from_template(Kind::ReplicaSet, &owner);
        assert_eq!(p.metadata.generate_name.as_deref(), Some("web-abc-"));
        let r = &p.metadata.owner_references.unwrap_or_default()[0];
        assert_eq!((r.kind.as_str(), r.uid.as_str(), r.controller, r.block_owner_deletion), ("ReplicaSet", "u1", Some(true), Some(true)));
        assert_eq!(p.metadata.labels.unwrap_or_default().get("app").map(String::as_str), Some("web"));
    }
}
