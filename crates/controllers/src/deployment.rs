//! The Deployment controller: one ReplicaSet per pod template (named `<deployment>-<hash>`, the
//! hash also its `pod-template-hash` label), rolled out by the RollingUpdate strategy (maxSurge
//! rounded up, maxUnavailable rounded down, as upstream) or Recreate; revisions and their
//! history in `deployment.kubernetes.io/*` annotations (what `kubectl rollout history/undo`
//! read), `desired-replicas`/`max-replicas` for proportional scaling, pausing, old ReplicaSets
//! cleaned up beyond `revisionHistoryLimit`, and the status and conditions (Progressing with
//! its deadline, Available, ReplicaFailure) `kubectl rollout status` reads.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use apimachinery::labels;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::reflector::{ObjectRef, Store};
use serde_json::json;

use crate::appsutil::{self, Change, Events, WorkQueue};
use crate::stores;
use crate::{Error, Result};

/// The annotation holding a ReplicaSet's (and its Deployment's) revision.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// Earlier revisions a ReplicaSet held (comma-separated).
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
/// The Deployment's replicas when the ReplicaSet was last scaled.
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
/// replicas + maxSurge when the ReplicaSet was last scaled.
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
/// The label telling a Deployment's ReplicaSets (and their pods) apart.
pub const HASH_LABEL: &str = "pod-template-hash";
/// Deployment annotations never copied to its ReplicaSets.
const SKIPPED_ANNOTATIONS: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];
/// Longest revision-history annotation kept.
const MAX_HISTORY_CHARS: usize = 2000;

type Key = (String, String);

struct Ctx {
    client: kube::Client,
    deployments: Store<Deployment>,
    rss: Store<ReplicaSet>,
    queue: Arc<WorkQueue<Key>>,
    events: Events,
}

/// Runs the Deployment controller.
pub async fn run(informers: stores::Informers, client: kube::Client) {
    let mut tasks = appsutil::Tasks::default();
    let queue: Arc<WorkQueue<Key>> = Arc::new(WorkQueue::new());
    let q = queue.clone();
    let deployments = informers.subscribe(move |c: Change<'_, Deployment>| {
        if let Change::Apply(d) | Change::Delete(d) = c {
            q.add(appsutil::key_of(&d.metadata));
        }
    });
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<ReplicaSet>();
    let rss = informers.subscribe(move |c: Change<'_, ReplicaSet>| {
        if let Change::Apply(r) | Change::Delete(r) = c {
            let _ = tx.send(r.clone());
        }
    });
    let ctx = Arc::new(Ctx { client: client.clone(), deployments, rss, queue: queue.clone(), events: Events::new(client, "deployment-controller") });
    let c2 = ctx.clone();
    tasks.spawn(async move {
        while let Some(rs) = rx.recv().await {
            let ns = rs.metadata.namespace.clone().unwrap_or_default();
            match appsutil::controller_ref(&rs.metadata) {
                Some(r) if r.kind == "Deployment" => c2.queue.add((ns, r.name.clone())),
                Some(_) => {}
                None => {
                    let rl = rs.metadata.labels.clone().unwrap_or_default();
                    for d in c2.deployments.state() {
                        if d.metadata.namespace.as_deref() != Some(ns.as_str()) {
                            continue;
                        }
                        let sel = d.spec.as_ref().and_then(|s| labels::from_label_selector(&s.selector).ok());
                        if sel.is_some_and(|s| !s.is_empty() && s.matches(&rl)) {
                            c2.queue.add(appsutil::key_of(&d.metadata));
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

// ---------------------------------------------------------------- pure helpers

/// FNV-32a.
fn fnv32a(data: &[u8], mut h: u32) -> u32 {
    for b in data {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Upstream's SafeEncodeString: each byte mapped onto consonants and digits that cannot spell
/// words.
fn safe_encode(s: &str) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.bytes().map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char).collect()
}

/// The `pod-template-hash` of a template: FNV-32a over its JSON (and the collision count),
/// written as upstream does (the decimal hash, safe-encoded).
pub fn template_hash(t: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let bytes = serde_json::to_vec(t).unwrap_or_default();
    let mut h = fnv32a(&bytes, 0x811c_9dc5);
    if let Some(c) = collision_count {
        h = fnv32a(&(c as u32).to_le_bytes(), h);
    }
    safe_encode(&h.to_string())
}

fn without_hash(t: &PodTemplateSpec) -> serde_json::Value {
    let mut t = t.clone();
    let meta = t.metadata.get_or_insert_with(Default::default);
    if let Some(l) = meta.labels.as_mut() {
        l.remove(HASH_LABEL);
        if l.is_empty() {
            meta.labels = None;
        }
    }
    serde_json::to_value(&t).unwrap_or_default()
}

/// Whether two templates are equal but for the `pod-template-hash` label.
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    without_hash(a) == without_hash(b)
}

/// maxSurge (rounded up) and maxUnavailable (rounded down) for `replicas`; both zero becomes
/// one unavailable (upstream's ResolveFenceposts).
pub fn resolve_fenceposts(surge: Option<&k8s_openapi::apimachinery::pkg::util::intstr::IntOrString>, unavailable: Option<&k8s_openapi::apimachinery::pkg::util::intstr::IntOrString>, replicas: i32) -> (i32, i32) {
    let s = appsutil::scaled_value(surge, replicas, true, "25%").unwrap_or(0).max(0);
    let mut u = appsutil::scaled_value(unavailable, replicas, false, "25%").unwrap_or(0).max(0);
    if s == 0 && u == 0 {
        u = 1;
    }
    (s, u.min(replicas.max(0)))
}

/// Replicas the new ReplicaSet of a rolling update may have now (upstream's NewRSNewReplicas).
pub fn rolling_new_replicas(replicas: i32, max_surge: i32, all_pods: i32, new_rs_replicas: i32) -> i32 {
    let max_total = replicas + max_surge;
    if all_pods >= max_total {
        return new_rs_replicas;
    }
    let up = (max_total - all_pods).min(replicas - new_rs_replicas);
    new_rs_replicas + up.max(0)
}

/// How many old pods a rolling update may take down now (upstream's maxScaledDown): everything
/// above the minimum available, less the new ReplicaSet's unavailable pods.
pub fn max_scaled_down(replicas: i32, max_unavailable: i32, all_pods: i32, new_rs_replicas: i32, new_rs_available: i32) -> i32 {
    let min_available = replicas - max_unavailable;
    let new_unavailable = new_rs_replicas - new_rs_available;
    all_pods - min_available - new_unavailable
}

fn rs_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}
fn rs_status(rs: &ReplicaSet) -> k8s_openapi::api::apps::v1::ReplicaSetStatus {
    rs.status.clone().unwrap_or_default()
}
/// Available replicas of a ReplicaSet for scaling decisions: never more than it is scaled to
/// (its status lags a scale-down until its controller has deleted the surplus pods).
fn rs_available(rs: &ReplicaSet) -> i32 {
    rs_status(rs).available_replicas.unwrap_or(0).min(rs_replicas(rs)).max(0)
}
fn annotation<'a>(m: &'a ObjectMeta, k: &str) -> Option<&'a str> {
    m.annotations.as_ref()?.get(k).map(String::as_str)
}
fn revision(rs: &ReplicaSet) -> i64 {
    annotation(&rs.metadata, REVISION).and_then(|v| v.parse().ok()).unwrap_or(0)
}
fn created(rs: &ReplicaSet) -> (i64, String) {
    (rs.metadata.creation_timestamp.as_ref().map(|t| t.0.as_millisecond()).unwrap_or(0), rs.metadata.name.clone().unwrap_or_default())
}
fn d_replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}
fn max_surge_of(d: &Deployment) -> i32 {
    if !is_rolling(d) {
        return 0;
    }
    let ru = d.spec.as_ref().and_then(|s| s.strategy.as_ref()).and_then(|s| s.rolling_update.as_ref());
    resolve_fenceposts(ru.and_then(|r| r.max_surge.as_ref()), ru.and_then(|r| r.max_unavailable.as_ref()), d_replicas(d)).0
}
fn max_unavailable_of(d: &Deployment) -> i32 {
    if !is_rolling(d) || d_replicas(d) == 0 {
        return 0;
    }
    let ru = d.spec.as_ref().and_then(|s| s.strategy.as_ref()).and_then(|s| s.rolling_update.as_ref());
    resolve_fenceposts(ru.and_then(|r| r.max_surge.as_ref()), ru.and_then(|r| r.max_unavailable.as_ref()), d_replicas(d)).1
}
fn is_rolling(d: &Deployment) -> bool {
    d.spec.as_ref().and_then(|s| s.strategy.as_ref()).and_then(|s| s.type_.as_deref()).unwrap_or("RollingUpdate") != "Recreate"
}
fn template(d: &Deployment) -> PodTemplateSpec {
    d.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default()
}
fn progress_deadline(d: &Deployment) -> Option<i32> {
    // upstream treats MaxInt32 as "no deadline"
    d.spec.as_ref().and_then(|s| s.progress_deadline_seconds).filter(|s| *s != i32::MAX)
}

fn condition<'a>(st: &'a DeploymentStatus, t: &str) -> Option<&'a DeploymentCondition> {
    st.conditions.as_ref()?.iter().find(|c| c.type_ == t)
}

fn new_condition(t: &str, status: &str, reason: &str, message: String) -> DeploymentCondition {
    let now = Time(jiff::Timestamp::now());
    DeploymentCondition {
        type_: t.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message),
        last_transition_time: Some(now.clone()),
        last_update_time: Some(now),
    }
}

/// Sets a condition as upstream's SetDeploymentCondition: same status and reason changes
/// nothing; same status keeps the transition time.
fn set_condition(st: &mut DeploymentStatus, mut c: DeploymentCondition) {
    let conds = st.conditions.get_or_insert_with(Vec::new);
    if let Some(cur) = conds.iter().find(|x| x.type_ == c.type_) {
        if cur.status == c.status && cur.reason == c.reason {
            return;
        }
        if cur.status == c.status {
            c.last_transition_time = cur.last_transition_time.clone();
        }
    }
    conds.retain(|x| x.type_ != c.type_);
    conds.push(c);
}

fn remove_condition(st: &mut DeploymentStatus, t: &str) {
    if let Some(c) = st.conditions.as_mut() {
        c.retain(|x| x.type_ != t);
    }
}

/// Whether a rollout is complete (upstream's DeploymentComplete).
pub fn deployment_complete(d: &Deployment, st: &DeploymentStatus) -> bool {
    let r = d_replicas(d);
    st.updated_replicas.unwrap_or(0) == r
        && st.replicas.unwrap_or(0) == r
        && st.available_replicas.unwrap_or(0) == r
        && st.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
}

/// Whether the new status shows progress over the old (upstream's DeploymentProgressing).
fn deployment_progressing(d: &Deployment, new: &DeploymentStatus) -> bool {
    let old = d.status.clone().unwrap_or_default();
    let old_stale = old.replicas.unwrap_or(0) - old.updated_replicas.unwrap_or(0);
    let new_stale = new.replicas.unwrap_or(0) - new.updated_replicas.unwrap_or(0);
    new.updated_replicas.unwrap_or(0) > old.updated_replicas.unwrap_or(0)
        || new_stale < old_stale
        || new.ready_replicas.unwrap_or(0) > old.ready_replicas.unwrap_or(0)
        || new.available_replicas.unwrap_or(0) > old.available_replicas.unwrap_or(0)
}

fn timed_out(d: &Deployment, st: &DeploymentStatus) -> bool {
    let Some(deadline) = progress_deadline(d) else { return false };
    let Some(c) = condition(st, "Progressing") else { return false };
    match c.reason.as_deref() {
        Some("NewReplicaSetAvailable") => return false,
        Some("ProgressDeadlineExceeded") => return true,
        _ => {}
    }
    let from = c.last_update_time.as_ref().map(|t| t.0.as_second()).unwrap_or(0);
    jiff::Timestamp::now().as_second() > from + i64::from(deadline)
}

// ---------------------------------------------------------------- the sync

struct Rollout<'a> {
    ctx: &'a Ctx,
    d: Deployment,
    ns: String,
    name: String,
}

async fn sync(ctx: &Ctx, key: &Key) -> Result<()> {
    let (ns, name) = key;
    let Some(d) = ctx.deployments.get(&ObjectRef::new(name).within(ns)) else { return Ok(()) };
    let d = (*d).clone();
    let Some(spec) = d.spec.clone() else { return Ok(()) };
    let mut r = Rollout { ctx, d, ns: ns.clone(), name: name.clone() };
    let sel_empty = spec.selector.match_labels.as_ref().is_none_or(|m| m.is_empty()) && spec.selector.match_expressions.as_ref().is_none_or(|m| m.is_empty());
    if sel_empty {
        r.event(true, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.".into()).await;
        let mut st = r.d.status.clone().unwrap_or_default();
        if st.observed_generation != r.d.metadata.generation {
            st.observed_generation = r.d.metadata.generation;
            r.update_status(st).await?;
        }
        return Ok(());
    }
    let Ok(selector) = labels::from_label_selector(&spec.selector) else { return Ok(()) };
    let rs_list = r.claim(&selector).await?;
    if r.d.metadata.deletion_timestamp.is_some() {
        return r.sync_status_only(&rs_list).await;
    }
    r.check_paused_conditions().await?;
    if spec.paused == Some(true) {
        return r.scale_sync(&rs_list).await;
    }
    if r.is_scaling_event(&rs_list) {
        return r.scale_sync(&rs_list).await;
    }
    if is_rolling(&r.d) { r.rollout_rolling(&rs_list).await } else { r.rollout_recreate(&rs_list, &selector).await }
}

impl Rollout<'_> {
    fn rs_api(&self) -> Api<ReplicaSet> {
        Api::namespaced(self.ctx.client.clone(), &self.ns)
    }
    fn d_api(&self) -> Api<Deployment> {
        Api::namespaced(self.ctx.client.clone(), &self.ns)
    }
    async fn event(&self, warning: bool, reason: &str, note: String) {
        let r = appsutil::object_ref("Deployment", "apps/v1", &self.d.metadata);
        self.ctx.events.publish(&r, warning, reason, reason, note).await;
    }

    fn controller_ref(&self) -> OwnerReference {
        OwnerReference {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: self.name.clone(),
            uid: self.d.metadata.uid.clone().unwrap_or_default(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }

    /// The ReplicaSets this Deployment controls, adopting matching orphans and releasing
    /// controlled ones that stopped matching.
    async fn claim(&self, selector: &labels::Selector) -> Result<Vec<ReplicaSet>> {
        let uid = self.d.metadata.uid.clone().unwrap_or_default();
        let mut out = Vec::new();
        let mut can_adopt: Option<bool> = None;
        for rs in self.ctx.rss.state() {
            if rs.metadata.namespace.as_deref() != Some(self.ns.as_str()) {
                continue;
            }
            let rl = rs.metadata.labels.clone().unwrap_or_default();
            let matches = selector.matches(&rl);
            let rname = rs.metadata.name.clone().unwrap_or_default();
            match appsutil::controller_ref(&rs.metadata) {
                Some(r) if r.uid == uid => {
                    if matches {
                        out.push((*rs).clone());
                    } else if self.d.metadata.deletion_timestamp.is_none() {
                        let refs: Vec<OwnerReference> = rs.metadata.owner_references.clone().unwrap_or_default().into_iter().filter(|r| r.uid != uid).collect();
                        let patch = json!({"metadata": {"ownerReferences": if refs.is_empty() { serde_json::Value::Null } else { json!(refs) }, "uid": rs.metadata.uid, "resourceVersion": rs.metadata.resource_version}});
                        match self.rs_api().patch(&rname, &PatchParams::default(), &Patch::Merge(patch)).await {
                            Ok(_) => {}
                            Err(e) if matches!(appsutil::api_code(&e), Some(404) | Some(409) | Some(422)) => {}
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
                Some(_) => {}
                None => {
                    if !matches || self.d.metadata.deletion_timestamp.is_some() || rs.metadata.deletion_timestamp.is_some() {
                        continue;
                    }
                    if can_adopt.is_none() {
                        can_adopt = Some(match self.d_api().get(&self.name).await {
                            Ok(f) => f.metadata.uid.as_deref() == Some(uid.as_str()) && f.metadata.deletion_timestamp.is_none(),
                            Err(e) if appsutil::api_code(&e) == Some(404) => false,
                            Err(e) => return Err(e.into()),
                        });
                    }
                    if can_adopt != Some(true) {
                        continue;
                    }
                    let mut refs = rs.metadata.owner_references.clone().unwrap_or_default();
                    refs.push(self.controller_ref());
                    let patch = json!({"metadata": {"ownerReferences": refs, "uid": rs.metadata.uid, "resourceVersion": rs.metadata.resource_version}});
                    match self.rs_api().patch(&rname, &PatchParams::default(), &Patch::Merge(patch)).await {
                        Ok(adopted) => out.push(adopted),
                        Err(e) if matches!(appsutil::api_code(&e), Some(404) | Some(409) | Some(422)) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
        out.sort_by_key(created);
        Ok(out)
    }

    async fn update_status(&mut self, st: DeploymentStatus) -> Result<()> {
        let mut d = self.d.clone();
        d.status = Some(st);
        match self.d_api().replace_status(&self.name, &PostParams::default(), &d).await {
            Ok(n) => {
                self.d = n;
                Ok(())
            }
            Err(e) if appsutil::api_code(&e) == Some(404) => Err(Error::Pending("deployment gone".into())),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes the Deployment's revision annotation through the status subresource, as upstream
    /// does (the main resource would bump the generation for an annotation change).
    async fn update_meta(&mut self) -> Result<()> {
        let st = self.d.status.clone().unwrap_or_default();
        self.update_status(st).await
    }

    async fn check_paused_conditions(&mut self) -> Result<()> {
        if progress_deadline(&self.d).is_none() {
            return Ok(());
        }
        let mut st = self.d.status.clone().unwrap_or_default();
        let paused = self.d.spec.as_ref().and_then(|s| s.paused) == Some(true);
        let cur_reason = condition(&st, "Progressing").and_then(|c| c.reason.clone());
        let timed = cur_reason.as_deref() == Some("ProgressDeadlineExceeded");
        let c = if paused && cur_reason.as_deref() != Some("DeploymentPaused") && !timed {
            new_condition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused".into())
        } else if !paused && cur_reason.as_deref() == Some("DeploymentPaused") {
            new_condition("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed".into())
        } else {
            return Ok(());
        };
        set_condition(&mut st, c);
        self.update_status(st).await
    }

    fn is_scaling_event(&self, rs_list: &[ReplicaSet]) -> bool {
        let want = d_replicas(&self.d).to_string();
        let t = template(&self.d);
        let has_new = rs_list.iter().any(|rs| rs.spec.as_ref().and_then(|s| s.template.as_ref()).is_some_and(|rt| equal_ignore_hash(rt, &t)));
        if !has_new {
            return false;
        }
        rs_list.iter().filter(|rs| rs_replicas(rs) > 0).any(|rs| annotation(&rs.metadata, DESIRED_REPLICAS).is_some_and(|v| v != want))
    }

    /// Splits the list into the new ReplicaSet (first one, by age, with the current template) and
    /// the old ones.
    fn split(&self, rs_list: &[ReplicaSet]) -> (Option<ReplicaSet>, Vec<ReplicaSet>) {
        let t = template(&self.d);
        let mut new = None;
        let mut old = Vec::new();
        for rs in rs_list {
            let same = rs.spec.as_ref().and_then(|s| s.template.as_ref()).is_some_and(|rt| equal_ignore_hash(rt, &t));
            if same && new.is_none() {
                new = Some(rs.clone());
            } else {
                old.push(rs.clone());
            }
        }
        (new, old)
    }

    /// Annotations of a new or existing new ReplicaSet (upstream's SetNewReplicaSetAnnotations);
    /// returns whether anything changed.
    fn set_new_rs_annotations(&self, rs: &mut ReplicaSet, new_revision: i64, exists: bool) -> bool {
        let mut changed = false;
        let ann = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
        for (k, v) in self.d.metadata.annotations.clone().unwrap_or_default() {
            if SKIPPED_ANNOTATIONS.contains(&k.as_str()) {
                continue;
            }
            if ann.get(&k) != Some(&v) {
                ann.insert(k, v);
                changed = true;
            }
        }
        let old_rev_str = ann.get(REVISION).cloned().unwrap_or_default();
        let old_rev: i64 = old_rev_str.parse().unwrap_or(0);
        if old_rev < new_revision {
            ann.insert(REVISION.into(), new_revision.to_string());
            changed = true;
            if exists && !old_rev_str.is_empty() {
                let mut hist: Vec<String> = ann.get(REVISION_HISTORY).map(|h| h.split(',').map(String::from).collect()).unwrap_or_default();
                hist.retain(|h| !h.is_empty());
                hist.push(old_rev_str);
                let mut joined = hist.join(",");
                while joined.len() > MAX_HISTORY_CHARS && hist.len() > 1 {
                    hist.remove(0);
                    joined = hist.join(",");
                }
                ann.insert(REVISION_HISTORY.into(), joined);
            }
        }
        if !exists {
            ann.insert(DESIRED_REPLICAS.into(), d_replicas(&self.d).to_string());
            ann.insert(MAX_REPLICAS.into(), (d_replicas(&self.d) + max_surge_of(&self.d)).to_string());
        }
        changed
    }

    async fn set_deployment_revision(&mut self, rev: &str) -> Result<()> {
        if annotation(&self.d.metadata, REVISION) == Some(rev) {
            return Ok(());
        }
        self.d.metadata.annotations.get_or_insert_with(BTreeMap::new).insert(REVISION.into(), rev.into());
        self.update_meta().await
    }

    /// The new ReplicaSet (created when `create` and missing) and the old ones, with revisions
    /// synced (upstream's getAllReplicaSetsAndSyncRevision).
    async fn new_and_old(&mut self, rs_list: &[ReplicaSet], create: bool) -> Result<(Option<ReplicaSet>, Vec<ReplicaSet>)> {
        let (existing, old) = self.split(rs_list);
        let max_old = old.iter().map(revision).max().unwrap_or(0);
        let new_revision = max_old + 1;
        if let Some(mut rs) = existing {
            let changed = self.set_new_rs_annotations(&mut rs, new_revision, true);
            let min_ready = self.d.spec.as_ref().and_then(|s| s.min_ready_seconds);
            let spec = rs.spec.get_or_insert_with(Default::default);
            let mr_changed = spec.min_ready_seconds.unwrap_or(0) != min_ready.unwrap_or(0);
            if changed || mr_changed {
                spec.min_ready_seconds = min_ready;
                let rname = rs.metadata.name.clone().unwrap_or_default();
                let rs = self.rs_api().replace(&rname, &PostParams::default(), &rs).await?;
                return Ok((Some(rs), old));
            }
            let rev = annotation(&rs.metadata, REVISION).unwrap_or("").to_string();
            self.set_deployment_revision(&rev).await?;
            if progress_deadline(&self.d).is_some() {
                let mut st = self.d.status.clone().unwrap_or_default();
                if condition(&st, "Progressing").is_none() {
                    let rname = rs.metadata.name.clone().unwrap_or_default();
                    set_condition(&mut st, new_condition("Progressing", "True", "FoundNewReplicaSet", format!("Found new replica set {rname:?}")));
                    self.update_status(st).await?;
                }
            }
            return Ok((Some(rs), old));
        }
        if !create {
            return Ok((None, old));
        }
        let collision = self.d.status.as_ref().and_then(|s| s.collision_count);
        let mut t = template(&self.d);
        let hash = template_hash(&t, collision);
        t.metadata.get_or_insert_with(Default::default).labels.get_or_insert_with(BTreeMap::new).insert(HASH_LABEL.into(), hash.clone());
        let mut selector = self.d.spec.as_ref().map(|s| s.selector.clone()).unwrap_or_default();
        selector.match_labels.get_or_insert_with(BTreeMap::new).insert(HASH_LABEL.into(), hash.clone());
        let rs_name = format!("{}-{}", self.name, hash);
        let all_pods: i32 = old.iter().map(rs_replicas).sum();
        let new_replicas = if is_rolling(&self.d) {
            rolling_new_replicas(d_replicas(&self.d), max_surge_of(&self.d), all_pods, 0)
        } else {
            d_replicas(&self.d)
        };
        let mut rs = ReplicaSet {
            metadata: ObjectMeta {
                name: Some(rs_name.clone()),
                namespace: Some(self.ns.clone()),
                owner_references: Some(vec![self.controller_ref()]),
                labels: t.metadata.as_ref().and_then(|m| m.labels.clone()),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(new_replicas),
                min_ready_seconds: self.d.spec.as_ref().and_then(|s| s.min_ready_seconds),
                selector,
                template: Some(t),
            }),
            status: None,
        };
        self.set_new_rs_annotations(&mut rs, new_revision, false);
        let created_rs = match self.rs_api().create(&PostParams::default(), &rs).await {
            Ok(c) => {
                if new_replicas > 0 {
                    self.event(false, "ScalingReplicaSet", format!("Scaled up replica set {rs_name} from 0 to {new_replicas}")).await;
                }
                c
            }
            Err(e) if appsutil::api_code(&e) == Some(409) => {
                let existing = self.rs_api().get(&rs_name).await?;
                let ours = appsutil::controller_ref(&existing.metadata).is_some_and(|r| Some(&r.uid) == self.d.metadata.uid.as_ref());
                let same = existing.spec.as_ref().and_then(|s| s.template.as_ref()).is_some_and(|rt| equal_ignore_hash(rt, &template(&self.d)));
                if ours && same {
                    existing
                } else {
                    let mut st = self.d.status.clone().unwrap_or_default();
                    st.collision_count = Some(st.collision_count.unwrap_or(0).saturating_add(1));
                    self.update_status(st).await?;
                    return Err(Error::Pending(format!("hash collision for replica set {rs_name}")));
                }
            }
            Err(e) => {
                let msg = match &e {
                    kube::Error::Api(s) => s.message.clone(),
                    o => o.to_string(),
                };
                if progress_deadline(&self.d).is_some() {
                    let mut st = self.d.status.clone().unwrap_or_default();
                    set_condition(&mut st, new_condition("Progressing", "False", "ReplicaSetCreateError", format!("Failed to create new replica set {rs_name:?}: {msg}")));
                    let _ = self.update_status(st).await;
                }
                self.event(true, "ReplicaSetCreateError", format!("Failed to create new replica set {rs_name:?}: {msg}")).await;
                return Err(e.into());
            }
        };
        self.set_deployment_revision(&new_revision.to_string()).await?;
        if progress_deadline(&self.d).is_some() {
            let mut st = self.d.status.clone().unwrap_or_default();
            set_condition(&mut st, new_condition("Progressing", "True", "NewReplicaSetCreated", format!("Created new replica set {rs_name:?}")));
            self.update_status(st).await?;
        }
        Ok((Some(created_rs), old))
    }

    /// Scales one ReplicaSet (and stamps the desired/max annotations); returns whether it wrote.
    async fn scale_rs(&self, rs: &mut ReplicaSet, to: i32) -> Result<bool> {
        let from = rs_replicas(rs);
        let want = d_replicas(&self.d).to_string();
        let max = (d_replicas(&self.d) + max_surge_of(&self.d)).to_string();
        let ann_ok = annotation(&rs.metadata, DESIRED_REPLICAS) == Some(want.as_str()) && annotation(&rs.metadata, MAX_REPLICAS) == Some(max.as_str());
        if from == to && ann_ok {
            return Ok(false);
        }
        let ann = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
        ann.insert(DESIRED_REPLICAS.into(), want);
        ann.insert(MAX_REPLICAS.into(), max);
        rs.spec.get_or_insert_with(Default::default).replicas = Some(to);
        let rname = rs.metadata.name.clone().unwrap_or_default();
        *rs = self.rs_api().replace(&rname, &PostParams::default(), rs).await?;
        if from != to {
            let dir = if to > from { "up" } else { "down" };
            self.event(false, "ScalingReplicaSet", format!("Scaled {dir} replica set {rname} from {from} to {to}")).await;
        }
        Ok(true)
    }

    async fn rollout_rolling(&mut self, rs_list: &[ReplicaSet]) -> Result<()> {
        let (new, mut old) = self.new_and_old(rs_list, true).await?;
        let Some(mut new) = new else { return Ok(()) };
        let replicas = d_replicas(&self.d);
        // scale the new ReplicaSet up (or down to size)
        let all_pods: i32 = old.iter().map(rs_replicas).sum::<i32>() + rs_replicas(&new);
        let nr = rs_replicas(&new);
        let target = if nr == replicas {
            nr
        } else if nr > replicas {
            replicas
        } else {
            rolling_new_replicas(replicas, max_surge_of(&self.d), all_pods, nr)
        };
        if target != nr && self.scale_rs(&mut new, target).await? {
            return self.sync_rollout_status(&new, &old).await;
        }
        // scale old ReplicaSets down
        if self.reconcile_old(&new, &mut old).await? {
            return self.sync_rollout_status(&new, &old).await;
        }
        let st = self.calculate_status(Some(&new), &old);
        if deployment_complete(&self.d, &st) {
            self.cleanup(&old).await?;
        }
        self.sync_rollout_status(&new, &old).await
    }

    async fn reconcile_old(&mut self, new: &ReplicaSet, old: &mut [ReplicaSet]) -> Result<bool> {
        let old_pods: i32 = old.iter().map(rs_replicas).sum();
        if old_pods == 0 {
            return Ok(false);
        }
        let all_pods = old_pods + rs_replicas(new);
        let replicas = d_replicas(&self.d);
        let max_unavailable = max_unavailable_of(&self.d);
        let mut budget = max_scaled_down(replicas, max_unavailable, all_pods, rs_replicas(new), rs_available(new));
        if budget <= 0 {
            return Ok(false);
        }
        let mut scaled = false;
        old.sort_by_key(created);
        // first the old ReplicaSets' unhealthy replicas
        let mut cleaned = 0;
        for rs in old.iter_mut() {
            if cleaned >= budget {
                break;
            }
            let r = rs_replicas(rs);
            if r == 0 {
                continue;
            }
            let unhealthy = r - rs_available(rs);
            if unhealthy <= 0 {
                continue;
            }
            let down = (budget - cleaned).min(unhealthy).min(r);
            if self.scale_rs(rs, r - down).await? {
                scaled = true;
            }
            cleaned += down;
        }
        budget -= cleaned;
        let _ = budget;
        // then healthy replicas, keeping the minimum available
        let min_available = replicas - max_unavailable;
        let available: i32 = old.iter().chain(std::iter::once(new)).map(rs_available).sum();
        if available > min_available {
            let total = available - min_available;
            let mut done = 0;
            for rs in old.iter_mut() {
                if done >= total {
                    break;
                }
                let r = rs_replicas(rs);
                if r == 0 {
                    continue;
                }
                let down = r.min(total - done);
                if self.scale_rs(rs, r - down).await? {
                    scaled = true;
                }
                done += down;
            }
        }
        Ok(scaled)
    }

    async fn rollout_recreate(&mut self, rs_list: &[ReplicaSet], selector: &labels::Selector) -> Result<()> {
        let (new, mut old) = self.new_and_old(rs_list, false).await?;
        let mut scaled = false;
        for rs in old.iter_mut() {
            if rs_replicas(rs) != 0 && self.scale_rs(rs, 0).await? {
                scaled = true;
            }
        }
        if scaled {
            return self.sync_rollout_status_opt(new.as_ref(), &old).await;
        }
        // wait for the old pods to be gone
        let pods: Api<Pod> = Api::namespaced(self.ctx.client.clone(), &self.ns);
        let old_uids: Vec<String> = old.iter().filter_map(|r| r.metadata.uid.clone()).collect();
        let list = pods.list(&ListParams::default().labels(&selector.to_string())).await?;
        let running = list.items.iter().any(|p| {
            appsutil::controller_ref(&p.metadata).is_some_and(|r| old_uids.contains(&r.uid)) && !matches!(appsutil::pod_phase(p), "Succeeded" | "Failed")
        });
        if running {
            self.ctx.queue.add_after((self.ns.clone(), self.name.clone()), Duration::from_secs(1));
            return self.sync_rollout_status_opt(new.as_ref(), &old).await;
        }
        let new = match new {
            Some(n) => n,
            None => match self.new_and_old(rs_list, true).await?.0 {
                Some(n) => n,
                None => return Ok(()),
            },
        };
        let mut new = new;
        let replicas = d_replicas(&self.d);
        if rs_replicas(&new) != replicas {
            self.scale_rs(&mut new, replicas).await?;
        }
        let st = self.calculate_status(Some(&new), &old);
        if deployment_complete(&self.d, &st) {
            self.cleanup(&old).await?;
        }
        self.sync_rollout_status(&new, &old).await
    }

    /// Scaling (and paused) sync: proportional scaling of the active ReplicaSets, then status.
    async fn scale_sync(&mut self, rs_list: &[ReplicaSet]) -> Result<()> {
        let (new, mut old) = self.new_and_old(rs_list, false).await?;
        let mut new = new;
        let replicas = d_replicas(&self.d);
        let mut all: Vec<&mut ReplicaSet> = Vec::new();
        let new_name = new.as_ref().and_then(|n| n.metadata.name.clone());
        if let Some(n) = new.as_mut() {
            all.push(n);
        }
        all.extend(old.iter_mut());
        let active: Vec<usize> = (0..all.len()).filter(|&i| rs_replicas(all[i]) > 0).collect();
        if active.len() == 1 || (active.is_empty() && new_name.is_some()) {
            // one active (or only the new): it gets everything
            let i = active.first().copied().unwrap_or(0);
            if let Some(rs) = all.get_mut(i) {
                self.scale_rs(rs, replicas).await?;
            }
        } else if active.len() > 1 {
            let saturated = all.first().is_some_and(|n| {
                new_name.is_some() && rs_replicas(n) == replicas && rs_status(n).available_replicas.unwrap_or(0) == replicas
            });
            if saturated {
                for rs in all.iter_mut().skip(1) {
                    if rs_replicas(rs) > 0 {
                        self.scale_rs(rs, 0).await?;
                    }
                }
            } else if is_rolling(&self.d) {
                let allowed = replicas + max_surge_of(&self.d);
                let current: i32 = all.iter().map(|r| rs_replicas(r)).sum();
                let to_add = allowed - current;
                if to_add != 0 {
                    let sizes: Vec<i32> = all.iter().map(|r| rs_replicas(r)).collect();
                    let targets = proportional(&sizes, to_add);
                    for (rs, t) in all.iter_mut().zip(targets) {
                        if rs_replicas(rs) != t || annotation(&rs.metadata, DESIRED_REPLICAS) != Some(replicas.to_string().as_str()) {
                            self.scale_rs(rs, t).await?;
                        }
                    }
                }
            }
        }
        if self.d.spec.as_ref().and_then(|s| s.paused) == Some(true) {
            self.cleanup(&old).await?;
        }
        let st = self.calculate_status(new.as_ref(), &old);
        self.write_status(st).await
    }

    async fn sync_status_only(&mut self, rs_list: &[ReplicaSet]) -> Result<()> {
        let (new, old) = self.new_and_old(rs_list, false).await?;
        let st = self.calculate_status(new.as_ref(), &old);
        self.write_status(st).await
    }

    async fn write_status(&mut self, st: DeploymentStatus) -> Result<()> {
        if self.d.status.as_ref() == Some(&st) {
            return Ok(());
        }
        self.update_status(st).await
    }

    /// Deletes old ReplicaSets beyond revisionHistoryLimit (oldest revisions first, only
    /// scaled-down, settled ones).
    async fn cleanup(&self, old: &[ReplicaSet]) -> Result<()> {
        let Some(limit) = self.d.spec.as_ref().and_then(|s| s.revision_history_limit) else { return Ok(()) };
        let mut alive: Vec<&ReplicaSet> = old.iter().filter(|r| r.metadata.deletion_timestamp.is_none()).collect();
        let diff = alive.len() as i64 - i64::from(limit);
        if diff <= 0 {
            return Ok(());
        }
        alive.sort_by_key(|r| (revision(r), created(r)));
        let mut deleted = 0;
        for rs in alive {
            if deleted >= diff {
                break;
            }
            let st = rs_status(rs);
            if st.replicas != 0 || rs_replicas(rs) != 0 || rs.metadata.generation.unwrap_or(0) > st.observed_generation.unwrap_or(0) {
                continue;
            }
            let rname = rs.metadata.name.clone().unwrap_or_default();
            match self.rs_api().delete(&rname, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(e) if appsutil::api_code(&e) == Some(404) => {}
                Err(e) => return Err(e.into()),
            }
            deleted += 1;
        }
        Ok(())
    }

    fn calculate_status(&self, new: Option<&ReplicaSet>, old: &[ReplicaSet]) -> DeploymentStatus {
        let all: Vec<&ReplicaSet> = new.into_iter().chain(old.iter()).collect();
        let available: i32 = all.iter().map(|r| rs_status(r).available_replicas.unwrap_or(0)).sum();
        let spec_total: i32 = all.iter().map(|r| rs_replicas(r)).sum();
        let actual: i32 = all.iter().map(|r| rs_status(r).replicas).sum();
        let ready: i32 = all.iter().map(|r| rs_status(r).ready_replicas.unwrap_or(0)).sum();
        let updated = new.map(|r| rs_status(r).replicas).unwrap_or(0);
        let unavailable = (spec_total - available).max(0);
        let mut st = self.d.status.clone().unwrap_or_default();
        st.observed_generation = self.d.metadata.generation;
        st.replicas = Some(actual);
        st.updated_replicas = Some(updated);
        st.ready_replicas = Some(ready);
        st.available_replicas = Some(available);
        st.unavailable_replicas = Some(unavailable);
        let replicas = d_replicas(&self.d);
        if available >= replicas - max_unavailable_of(&self.d) {
            set_condition(&mut st, new_condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.".into()));
        } else {
            set_condition(&mut st, new_condition("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.".into()));
        }
        st
    }

    async fn sync_rollout_status(&mut self, new: &ReplicaSet, old: &[ReplicaSet]) -> Result<()> {
        self.sync_rollout_status_opt(Some(new), old).await
    }

    async fn sync_rollout_status_opt(&mut self, new: Option<&ReplicaSet>, old: &[ReplicaSet]) -> Result<()> {
        let mut st = self.calculate_status(new, old);
        let paused = self.d.spec.as_ref().and_then(|s| s.paused) == Some(true);
        let mut requeue: Option<Duration> = None;
        if let Some(deadline) = progress_deadline(&self.d)
            && !paused
        {
            let cur = condition(&st, "Progressing").cloned();
            let complete = deployment_complete(&self.d, &st);
            let new_name = new.and_then(|n| n.metadata.name.clone());
            if complete {
                if let Some(n) = &new_name {
                    set_condition(&mut st, new_condition("Progressing", "True", "NewReplicaSetAvailable", format!("ReplicaSet {n:?} has successfully progressed.")));
                }
            } else if deployment_progressing(&self.d, &st) {
                let msg = match &new_name {
                    Some(n) => format!("ReplicaSet {n:?} is progressing."),
                    None => "Deployment is progressing.".to_string(),
                };
                let mut c = new_condition("Progressing", "True", "ReplicaSetUpdated", msg);
                if let Some(cur) = &cur
                    && cur.status == "True"
                {
                    c.last_transition_time = cur.last_transition_time.clone();
                }
                remove_condition(&mut st, "Progressing");
                set_condition(&mut st, c);
            } else if timed_out(&self.d, &st) {
                let msg = match &new_name {
                    Some(n) => format!("ReplicaSet {n:?} has timed out progressing."),
                    None => format!("Deployment {:?} has timed out progressing.", self.name),
                };
                set_condition(&mut st, new_condition("Progressing", "False", "ProgressDeadlineExceeded", msg));
            }
            if !complete
                && let Some(c) = condition(&st, "Progressing")
                && c.reason.as_deref() != Some("ProgressDeadlineExceeded")
            {
                let from = c.last_update_time.as_ref().map(|t| t.0.as_second()).unwrap_or(0);
                let left = from + i64::from(deadline) - jiff::Timestamp::now().as_second();
                requeue = Some(Duration::from_secs(left.max(0) as u64 + 1));
            }
        }
        // ReplicaFailure mirrors the ReplicaSets' failures
        let failure = new.into_iter().chain(old.iter()).find_map(|rs| {
            rs_status(rs).conditions.unwrap_or_default().into_iter().find(|c| c.type_ == "ReplicaFailure" && c.status == "True")
        });
        match failure {
            Some(f) => set_condition(&mut st, new_condition("ReplicaFailure", &f.status, f.reason.as_deref().unwrap_or(""), f.message.unwrap_or_default())),
            None => remove_condition(&mut st, "ReplicaFailure"),
        }
        self.write_status(st).await?;
        if let Some(d) = requeue {
            self.ctx.queue.add_after((self.ns.clone(), self.name.clone()), d);
        }
        Ok(())
    }
}

/// Proportional scaling (upstream's getProportion): each ReplicaSet gets its share of `to_add`
/// by current size, the rounding leftover going to the first (the newest by convention).
pub fn proportional(sizes: &[i32], to_add: i32) -> Vec<i32> {
    let total: i64 = sizes.iter().map(|&s| i64::from(s)).sum();
    if total == 0 || sizes.is_empty() {
        let mut v = sizes.to_vec();
        if let Some(f) = v.first_mut() {
            *f = (*f + to_add).max(0);
        }
        return v;
    }
    let mut out: Vec<i32> = Vec::with_capacity(sizes.len());
    let mut given = 0i64;
    for &s in sizes {
        let share = i64::from(s) * i64::from(to_add) / total;
        given += share;
        out.push(s + share as i32);
    }
    let left = i64::from(to_add) - given;
    if let Some(f) = out.first_mut() {
        *f = (i64::from(*f) + left).max(0) as i32;
    }
    out.into_iter().map(|v| v.max(0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    fn tmpl(image: &str) -> PodTemplateSpec {
        serde_json::from_value(json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": image}]}
        }))
        .unwrap_or_default()
    }

    #[test]
    fn hash_is_stable_and_label_safe() {
        let a = template_hash(&tmpl("nginx:1"), None);
        assert_eq!(a, template_hash(&tmpl("nginx:1"), None));
        assert_ne!(a, template_hash(&tmpl("nginx:2"), None));
        assert_ne!(a, template_hash(&tmpl("nginx:1"), Some(1)));
        assert!(a.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)) && !a.is_empty() && a.len() <= 10);
    }

    #[test]
    fn templates_compare_without_hash_label() {
        let mut t = tmpl("nginx:1");
        t.metadata.as_mut().and_then(|m| m.labels.as_mut()).map(|l| l.insert(HASH_LABEL.into(), "abc".into()));
        assert!(equal_ignore_hash(&t, &tmpl("nginx:1")));
        assert!(!equal_ignore_hash(&t, &tmpl("nginx:2")));
    }

    #[test]
    fn fenceposts_round_surge_up_and_unavailable_down() {
        let p = |s: &str| IntOrString::String(s.into());
        assert_eq!(resolve_fenceposts(Some(&p("25%")), Some(&p("25%")), 10), (3, 2));
        assert_eq!(resolve_fenceposts(Some(&p("25%")), Some(&p("25%")), 1), (1, 0));
        assert_eq!(resolve_fenceposts(Some(&IntOrString::Int(0)), Some(&IntOrString::Int(0)), 5), (0, 1));
        assert_eq!(resolve_fenceposts(None, None, 5), (2, 1));
    }

    #[test]
    fn rolling_steps_stay_within_bounds() {
        // 5 replicas, surge 2, unavailable 1: simulate a rollout where pods become available at once
        let (replicas, surge, unavail) = (5, 2, 1);
        let (mut old, mut new) = (5, 0);
        let mut steps = 0;
        while new != replicas || old != 0 {
            steps += 1;
            assert!(steps < 50, "rollout does not converge");
            new = rolling_new_replicas(replicas, surge, old + new, new);
            assert!(old + new <= replicas + surge);
            // new pods available immediately; old ones scale down within availability
            let down = max_scaled_down(replicas, unavail, old + new, new, new).min(old).max(0);
            let avail_after = (old - down) + new;
            assert!(avail_after >= replicas - unavail);
            old -= down;
        }
        assert_eq!((old, new), (0, 5));
    }

    #[test]
    fn proportional_shares_add_up() {
        assert_eq!(proportional(&[4, 6], 5), vec![6, 9]);
        assert_eq!(proportional(&[4, 6], -5), vec![2, 3]);
        assert_eq!(proportional(&[0, 0], 3), vec![3, 0]);
        let v = proportional(&[3, 3, 3], 2);
        assert_eq!(v.iter().sum::<i32>(), 11);
    }
}
