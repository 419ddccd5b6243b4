//! The job controller: runs a Job's pods to completion. It creates pods from the template
//! (up to `parallelism`, never more than the completions still missing), counts finished pods
//! through the `batch.kubernetes.io/job-tracking` finalizer and `status.uncountedTerminatedPods`
//! (so a pod is counted exactly once even after it is gone), waits an exponential back-off
//! (10 s doubling, capped at 10 minutes, as upstream's code) before replacing failed pods,
//! fails the Job on `backoffLimit`, `activeDeadlineSeconds` or a `podFailurePolicy` FailJob
//! rule, completes it on `completions` (or a `successPolicy`), and honours `suspend` and the
//! Indexed completion mode. Terminal conditions are delayed as 1.32 does: `FailureTarget` /
//! `SuccessCriteriaMet` first, `Failed` / `Complete` once no pod is terminating.
//!
//! With `backoffLimitPerIndex` (Indexed Jobs) each index counts its own failures: a replacement
//! pod carries `batch.kubernetes.io/job-index-failure-count` (and the ignored count) from the
//! pod it replaces, waits that index's back-off, and an index whose counted failures exceed the
//! limit — or whose pod matched a `FailIndex` rule — is listed in `status.failedIndexes` and not
//! run again. The last failed pod of an index awaiting its replacement keeps its finalizer until
//! the replacement exists, so its count cannot be lost. The Job fails on `maxFailedIndexes`
//! (`MaxFailedIndexesExceeded`) or when every index has succeeded or failed with some failed
//! (`FailedIndexes`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobStatus, PodFailurePolicy, SuccessPolicy, UncountedTerminatedPods};
use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector, ObjectReference, Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference, Time};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{EventType, Recorder, Reporter};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};

use crate::{Error, Result};

/// The finalizer the controller puts on every pod it creates, removed once the pod is counted.
pub const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
/// The annotation (and label) holding an Indexed Job pod's completion index.
pub const COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";
/// Annotation: the counted failures of the pod's index before this pod.
pub const INDEX_FAILURE_COUNT: &str = "batch.kubernetes.io/job-index-failure-count";
/// Annotation: the failures of the pod's index that a podFailurePolicy Ignore rule left uncounted.
pub const INDEX_IGNORED_FAILURE_COUNT: &str = "batch.kubernetes.io/job-index-ignored-failure-count";
/// The label the apiserver puts on a Job's pod template with the Job's UID.
pub const CONTROLLER_UID_LABEL: &str = "batch.kubernetes.io/controller-uid";
/// `spec.managedBy` of Jobs this controller manages (also the default).
pub const MANAGED_BY: &str = "kubernetes.io/job-controller";
/// The first back-off after a pod failure.
pub const POD_FAILURE_BACKOFF: Duration = Duration::from_secs(10);
/// The longest back-off after pod failures.
pub const MAX_POD_FAILURE_BACKOFF: Duration = Duration::from_secs(600);

const CONTROLLER_NAME: &str = "job-controller";

// ---------------------------------------------------------------------------------------------
// small pod helpers (also used by the other workload controllers of this crate)

/// Whether the pod's `Ready` condition is true.
pub(crate) fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// When the pod's `Ready` condition last turned true, if it is true.
pub(crate) fn pod_ready_since(pod: &Pod) -> Option<Timestamp> {
    let cs = pod.status.as_ref()?.conditions.as_ref()?;
    let c = cs.iter().find(|c| c.type_ == "Ready" && c.status == "True")?;
    Some(c.last_transition_time.as_ref().map(|t| t.0).unwrap_or_else(Timestamp::now))
}

/// Whether the pod has been ready for at least `min_ready_seconds` at `now`.
pub(crate) fn pod_available(pod: &Pod, min_ready_seconds: i32, now: Timestamp) -> bool {
    match pod_ready_since(pod) {
        None => false,
        Some(_) if min_ready_seconds <= 0 => true,
        Some(since) => since.as_second() + i64::from(min_ready_seconds) <= now.as_second(),
    }
}

/// The pod's phase ("" when unset).
pub(crate) fn pod_phase(pod: &Pod) -> &str {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("")
}

/// Whether `obj` has a controller ownerReference to the object with `uid`.
pub(crate) fn controlled_by(meta: &ObjectMeta, uid: &str) -> bool {
    meta.owner_references.as_ref().is_some_and(|rs| rs.iter().any(|r| r.controller == Some(true) && r.uid == uid))
}

/// A controller ownerReference to `owner` (blockOwnerDeletion set, as upstream's controllers do).
pub(crate) fn controller_ref<K: Resource<DynamicType = ()>>(owner: &K) -> OwnerReference {
    let meta = owner.meta();
    OwnerReference {
        api_version: K::api_version(&()).into_owned(),
        kind: K::kind(&()).into_owned(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// An object reference to `obj`, for events.
pub(crate) fn object_ref<K: Resource<DynamicType = ()>>(obj: &K) -> ObjectReference {
    obj.object_ref(&())
}

/// A label selector as the `labelSelector` query parameter; `None` when it selects nothing.
pub(crate) fn selector_query(sel: &LabelSelector) -> Option<String> {
    let mut parts = Vec::new();
    for (k, v) in sel.match_labels.iter().flatten() {
        parts.push(format!("{k}={v}"));
    }
    for e in sel.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        match e.operator.as_str() {
            "In" => parts.push(format!("{} in ({values})", e.key)),
            "NotIn" => parts.push(format!("{} notin ({values})", e.key)),
            "Exists" => parts.push(e.key.clone()),
            "DoesNotExist" => parts.push(format!("!{}", e.key)),
            _ => return None,
        }
    }
    if parts.is_empty() {
        // an empty selector selects everything; controllers never act on that
        return None;
    }
    Some(parts.join(","))
}

/// Publishes an event about `regarding` (with `related`, so one event per related object).
pub(crate) async fn publish(recorder: &Recorder, regarding: &ObjectReference, type_: EventType, reason: &str, note: String, related: Option<ObjectReference>) {
    crate::publish_event(recorder, regarding.clone(), type_, reason, reason, note, related);
}

/// Deletes a pod, treating "already gone" as success.
pub(crate) async fn delete_pod(api: &Api<Pod>, name: &str) -> Result<bool> {
    match api.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(false),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// pure logic

/// The back-off before a new pod may be created after `failures` consecutive pod failures.
pub fn backoff_delay(failures: u32) -> Duration {
    if failures == 0 {
        return Duration::ZERO;
    }
    let shift = (failures - 1).min(16);
    POD_FAILURE_BACKOFF.saturating_mul(1u32 << shift).min(MAX_POD_FAILURE_BACKOFF)
}

/// A set of completion indexes, rendered as upstream's interval list ("1,3-5").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Indexes(pub BTreeSet<i32>);

impl Indexes {
    /// Parses "1,3-5,7"; entries outside `[0, completions)` and malformed entries are dropped.
    pub fn parse(s: &str, completions: i32) -> Indexes {
        let mut out = BTreeSet::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (a, b) = match part.split_once('-') {
                Some((a, b)) => (a.trim().parse::<i32>(), b.trim().parse::<i32>()),
                None => (part.parse::<i32>(), part.parse::<i32>()),
            };
            if let (Ok(a), Ok(b)) = (a, b) {
                for i in a.max(0)..=b.min(completions.saturating_sub(1)) {
                    out.insert(i);
                }
            }
        }
        Indexes(out)
    }

    /// The interval-list form, as upstream writes it ("0,2,3,5-7": a run of two is two entries).
    pub fn render(&self) -> String {
        let mut parts = Vec::new();
        let mut iter = self.0.iter().copied().peekable();
        while let Some(start) = iter.next() {
            let mut end = start;
            while iter.peek() == Some(&(end + 1)) {
                end += 1;
                iter.next();
            }
            // upstream writes a run of two as "a,b" and longer runs as "a-b"
            parts.push(match end - start {
                0 => start.to_string(),
                1 => format!("{start},{end}"),
                _ => format!("{start}-{end}"),
            });
        }
        parts.join(",")
    }
}

/// What a pod failure policy decided for a failed pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureAction {
    /// Fail the whole Job with this message.
    FailJob(String),
    /// Fail the pod's index (with `backoffLimitPerIndex`); the failure is counted.
    FailIndex,
    /// Do not count the failure.
    Ignore,
    /// Count it (also the outcome when no rule matches).
    Count,
}

/// Applies `policy` to a failed pod.
pub fn match_failure_policy(policy: &PodFailurePolicy, pod: &Pod) -> FailureAction {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let status = pod.status.clone().unwrap_or_default();
    let mut containers = status.init_container_statuses.clone().unwrap_or_default();
    containers.extend(status.container_statuses.clone().unwrap_or_default());
    for (i, rule) in policy.rules.iter().enumerate() {
        let mut message = None;
        if let Some(req) = &rule.on_exit_codes {
            for cs in &containers {
                if req.container_name.as_ref().is_some_and(|n| n != &cs.name) {
                    continue;
                }
                let Some(code) = cs.state.as_ref().and_then(|s| s.terminated.as_ref()).map(|t| t.exit_code) else { continue };
                if code == 0 {
                    continue;
                }
                let listed = req.values.contains(&code);
                if (req.operator == "In" && listed) || (req.operator == "NotIn" && !listed) {
                    message = Some(format!(
                        "Container {} for pod {ns}/{name} failed with exit code {code} matching {} rule at index {i}",
                        cs.name, rule.action
                    ));
                    break;
                }
            }
        }
        for pattern in rule.on_pod_conditions.iter().flatten() {
            if message.is_some() {
                break;
            }
            let has = status.conditions.iter().flatten().any(|c| c.type_ == pattern.type_ && c.status == pattern.status);
            if has {
                message = Some(format!("Pod {ns}/{name} has condition {} matching {} rule at index {i}", pattern.type_, rule.action));
            }
        }
        if let Some(m) = message {
            return match rule.action.as_str() {
                "FailJob" => FailureAction::FailJob(m),
                "FailIndex" => FailureAction::FailIndex,
                "Ignore" => FailureAction::Ignore,
                _ => FailureAction::Count,
            };
        }
    }
    FailureAction::Count
}

/// The message of the first success-policy rule `succeeded` satisfies.
pub fn match_success_policy(policy: &SuccessPolicy, completions: i32, succeeded: &Indexes) -> Option<String> {
    for (i, rule) in policy.rules.iter().enumerate() {
        let matched: usize = match &rule.succeeded_indexes {
            Some(s) => {
                let wanted = Indexes::parse(s, completions);
                let n = wanted.0.intersection(&succeeded.0).count();
                if rule.succeeded_count.is_none() && n < wanted.0.len() {
                    continue;
                }
                n
            }
            None => succeeded.0.len(),
        };
        if let Some(count) = rule.succeeded_count
            && matched < usize::try_from(count).unwrap_or(usize::MAX)
        {
            continue;
        }
        return Some(format!("Matched rules at index {i}"));
    }
    None
}

/// The completion index a pod carries (annotation, else label).
pub fn completion_index(pod: &Pod) -> Option<i32> {
    let from = |m: &Option<BTreeMap<String, String>>| m.as_ref().and_then(|m| m.get(COMPLETION_INDEX)).and_then(|v| v.parse::<i32>().ok());
    from(&pod.metadata.annotations).or_else(|| from(&pod.metadata.labels)).filter(|i| *i >= 0)
}

/// A failure-count annotation of a pod (0 when absent, malformed or negative, as upstream).
pub fn index_count(pod: &Pod, key: &str) -> i32 {
    pod.metadata.annotations.as_ref().and_then(|a| a.get(key)).and_then(|v| v.parse::<i32>().ok()).filter(|v| *v >= 0).unwrap_or(0)
}

/// The counted and ignored failures a replacement of the failed pod `replaced` starts with.
pub fn replacement_counts(policy: Option<&PodFailurePolicy>, replaced: &Pod) -> (i32, i32) {
    let (counted, ignored) = (index_count(replaced, INDEX_FAILURE_COUNT), index_count(replaced, INDEX_IGNORED_FAILURE_COUNT));
    match policy.map(|p| match_failure_policy(p, replaced)) {
        Some(FailureAction::Ignore) => (counted, ignored.saturating_add(1)),
        _ => (counted.saturating_add(1), ignored),
    }
}

/// Whether the failed pod `pod` fails its index: a `FailIndex` rule matched, or its counted
/// failures (this one included) exceed `limit_per_index`.
pub fn fails_index(policy: Option<&PodFailurePolicy>, pod: &Pod, limit_per_index: i32) -> bool {
    let counted = match policy.map(|p| match_failure_policy(p, pod)) {
        Some(FailureAction::FailIndex) => return true,
        Some(FailureAction::Ignore) => false,
        _ => true,
    };
    counted && index_count(pod, INDEX_FAILURE_COUNT) >= limit_per_index
}

/// Which indexes of an Indexed Job need a new pod: not succeeded, not failed, no active pod, in
/// order, at most `room` of them.
pub fn indexes_to_create(completions: i32, succeeded: &Indexes, failed: &Indexes, active: &BTreeSet<i32>, room: usize) -> Vec<i32> {
    (0..completions).filter(|i| !succeeded.0.contains(i) && !failed.0.contains(i) && !active.contains(i)).take(room).collect()
}

/// How many pods should be active for a NonIndexed Job.
pub fn wanted_active(parallelism: i32, completions: Option<i32>, succeeded: i32) -> i32 {
    match completions {
        None => {
            if succeeded > 0 {
                0
            } else {
                parallelism
            }
        }
        Some(c) => parallelism.min((c - succeeded).max(0)),
    }
}

fn is_finished_pod(pod: &Pod) -> bool {
    matches!(pod_phase(pod), "Succeeded" | "Failed")
}

/// Upstream's notion of a failed pod: phase Failed, or deleted before it succeeded
/// (unless `podReplacementPolicy: Failed`, which waits for the Failed phase).
fn is_failed_pod(pod: &Pod, only_failed: bool) -> bool {
    if pod_phase(pod) == "Failed" {
        return true;
    }
    !only_failed && pod.metadata.deletion_timestamp.is_some() && pod_phase(pod) != "Succeeded"
}

fn has_finalizer(pod: &Pod) -> bool {
    pod.metadata.finalizers.as_ref().is_some_and(|f| f.iter().any(|f| f == TRACKING_FINALIZER))
}

/// When a pod finished: the latest container termination, else its deletion, else `None`.
fn finish_time(pod: &Pod) -> Option<Timestamp> {
    let status = pod.status.as_ref()?;
    let latest = status
        .container_statuses
        .iter()
        .flatten()
        .filter_map(|c| c.state.as_ref()?.terminated.as_ref()?.finished_at.as_ref().map(|t| t.0))
        .max();
    latest.or_else(|| pod.metadata.deletion_timestamp.as_ref().map(|t| t.0))
}

fn condition<'a>(status: &'a JobStatus, type_: &str) -> Option<&'a JobCondition> {
    status.conditions.iter().flatten().find(|c| c.type_ == type_ && c.status == "True")
}

/// Whether the Job is finished (Complete or Failed true).
pub fn job_finished(job: &Job) -> Option<(String, Timestamp)> {
    let status = job.status.as_ref()?;
    for t in ["Complete", "Failed"] {
        if let Some(c) = condition(status, t) {
            return Some((t.to_string(), c.last_transition_time.as_ref().map(|t| t.0).unwrap_or_else(Timestamp::now)));
        }
    }
    None
}

fn new_condition(type_: &str, status: &str, reason: &str, message: &str, now: Timestamp) -> JobCondition {
    JobCondition {
        type_: type_.into(),
        status: status.into(),
        reason: (!reason.is_empty()).then(|| reason.into()),
        message: (!message.is_empty()).then(|| message.into()),
        last_probe_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

/// Sets a condition; returns whether anything changed (a status flip updates the transition time).
fn set_condition(status: &mut JobStatus, cond: JobCondition) -> bool {
    let conds = status.conditions.get_or_insert_with(Vec::new);
    if let Some(existing) = conds.iter_mut().find(|c| c.type_ == cond.type_) {
        if existing.status == cond.status && existing.reason == cond.reason && existing.message == cond.message {
            return false;
        }
        *existing = cond;
        return true;
    }
    conds.push(cond);
    true
}

/// The pod template of a new pod (index given for Indexed Jobs), as upstream builds it.
pub fn pod_for(job: &Job, index: Option<i32>) -> Pod {
    let spec = job.spec.clone().unwrap_or_default();
    let PodTemplateSpec { metadata, spec: pod_spec } = spec.template;
    let mut meta = metadata.unwrap_or_default();
    let job_name = job.name_any();
    meta.name = None;
    meta.generate_name = Some(match index {
        Some(i) => format!("{job_name}-{i}-"),
        None => format!("{job_name}-"),
    });
    meta.namespace = job.metadata.namespace.clone();
    meta.owner_references = Some(vec![controller_ref(job)]);
    meta.finalizers.get_or_insert_with(Vec::new).push(TRACKING_FINALIZER.into());
    let mut pod_spec = pod_spec.unwrap_or_default();
    if let Some(i) = index {
        meta.annotations.get_or_insert_with(BTreeMap::new).insert(COMPLETION_INDEX.into(), i.to_string());
        meta.labels.get_or_insert_with(BTreeMap::new).insert(COMPLETION_INDEX.into(), i.to_string());
        if pod_spec.hostname.is_none() {
            pod_spec.hostname = Some(format!("{job_name}-{i}"));
        }
        let env = EnvVar {
            name: "JOB_COMPLETION_INDEX".into(),
            value: None,
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector { api_version: None, field_path: format!("metadata.annotations['{COMPLETION_INDEX}']") }),
                ..Default::default()
            }),
        };
        for c in pod_spec.containers.iter_mut().chain(pod_spec.init_containers.iter_mut().flatten()) {
            let envs = c.env.get_or_insert_with(Vec::new);
            if !envs.iter().any(|e| e.name == "JOB_COMPLETION_INDEX") {
                envs.push(env.clone());
            }
        }
    }
    Pod { metadata: meta, spec: Some(pod_spec), status: None }
}

// ---------------------------------------------------------------------------------------------
// the controller

#[derive(Default, Clone, Copy)]
struct BackoffRecord {
    failures_after_last_success: u32,
    last_failure: Option<Timestamp>,
}

struct Ctx {
    client: kube::Client,
    recorder: Recorder,
    backoff: Mutex<HashMap<String, BackoffRecord>>,
}

/// Runs the job controller (and its orphan-pod finalizer cleanup) until the streams end.
pub async fn run(client: kube::Client) {
    let jobs: Api<Job> = Api::all(client.clone());
    let pods: Api<Pod> = Api::all(client.clone());
    let recorder = Recorder::new(client.clone(), Reporter { controller: CONTROLLER_NAME.into(), instance: None });
    let ctx = Arc::new(Ctx { client: client.clone(), recorder, backoff: Mutex::new(HashMap::new()) });
    let jobs_loop = Controller::new(jobs, watcher::Config::default())
        .owns(pods, watcher::Config::default().labels(CONTROLLER_UID_LABEL))
        .run(reconcile, crate::retry_after, ctx)
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "job reconcile");
            }
        });
    tokio::join!(jobs_loop, orphan_cleanup(client));
}


/// Removes the tracking finalizer from pods whose Job is gone (upstream's orphan handling).
async fn orphan_cleanup(client: kube::Client) {
    let pods: Api<Pod> = Api::all(client.clone());
    let stream = watcher::watcher(pods, watcher::Config::default().labels(CONTROLLER_UID_LABEL));
    let mut stream = std::pin::pin!(stream);
    while let Some(ev) = stream.next().await {
        let list = match ev {
            Ok(watcher::Event::Apply(p)) | Ok(watcher::Event::InitApply(p)) => vec![p],
            _ => continue,
        };
        for pod in list {
            if !has_finalizer(&pod) {
                continue;
            }
            let Some(owner) = pod.owner_references().iter().find(|r| r.controller == Some(true) && r.kind == "Job").cloned() else {
                continue;
            };
            let ns = pod.namespace().unwrap_or_default();
            let jobs: Api<Job> = Api::namespaced(client.clone(), &ns);
            let gone = match jobs.get_opt(&owner.name).await {
                Ok(None) => true,
                Ok(Some(j)) => j.metadata.uid.as_deref() != Some(owner.uid.as_str()) || j.metadata.deletion_timestamp.is_some(),
                Err(_) => false,
            };
            if gone {
                let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
                // The pod keeps changing while it is deleted (its kubelet, the collector): on a
                // conflict read it again and retry, or it would keep the finalizer for good.
                let mut current = pod;
                for _ in 0..5 {
                    match remove_finalizer(&api, &current).await {
                        Err(Error::Kube(kube::Error::Api(e))) if e.code == 409 => match api.get_opt(&current.name_any()).await {
                            Ok(Some(p)) if p.metadata.uid == current.metadata.uid && has_finalizer(&p) => current = p,
                            _ => break,
                        },
                        Err(e) => {
                            tracing::debug!(error = %e, "removing the job-tracking finalizer of an orphan pod");
                            break;
                        }
                        Ok(()) => break,
                    }
                }
            }
        }
    }
}

async fn remove_finalizer(api: &Api<Pod>, pod: &Pod) -> Result<()> {
    let rest: Vec<String> = pod.finalizers().iter().filter(|f| *f != TRACKING_FINALIZER).cloned().collect();
    // an emptied list is dropped, as upstream's encoding omits it
    let finalizers = if rest.is_empty() { serde_json::Value::Null } else { serde_json::json!(rest) };
    let patch = serde_json::json!({"metadata": {"finalizers": finalizers, "resourceVersion": pod.resource_version()}});
    match api.patch(&pod.name_any(), &PatchParams::default(), &Patch::Merge(&patch)).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

async fn write_status(api: &Api<Job>, job: &Job, status: &JobStatus) -> Result<Job> {
    let mut updated = job.clone();
    updated.status = Some(status.clone());
    match api.replace_status(&job.name_any(), &PostParams::default(), &updated).await {
        Ok(j) => Ok(j),
        Err(kube::Error::Api(e)) if e.code == 409 => Err(Error::Pending("job status conflict".into())),
        Err(e) => Err(e.into()),
    }
}

async fn reconcile(mut job: Arc<Job>, ctx: Arc<Ctx>) -> Result<Action> {
    let spec = job.spec.clone().unwrap_or_default();
    if spec.managed_by.as_deref().is_some_and(|m| m != MANAGED_BY) {
        return Ok(Action::await_change());
    }
    let ns = job.namespace().unwrap_or_default();
    let name = job.name_any();
    let uid = job.uid().unwrap_or_default();
    let key = format!("{ns}/{name}/{uid}");
    let jobs: Api<Job> = Api::namespaced(ctx.client.clone(), &ns);
    let pods_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let job_ref = object_ref(job.as_ref());
    let now = Timestamp::now();

    let Some(selector) = spec.selector.as_ref().and_then(selector_query) else {
        return Ok(Action::await_change());
    };
    let pods: Vec<Pod> = pods_api
        .list(&ListParams::default().labels(&selector))
        .await?
        .items
        .into_iter()
        .filter(|p| controlled_by(&p.metadata, &uid))
        .collect();

    // a Job being deleted or already finished only releases its pods
    let finished = job_finished(&job);
    if job.metadata.deletion_timestamp.is_some() || finished.is_some() {
        for p in pods.iter().filter(|p| has_finalizer(p)) {
            if job.metadata.deletion_timestamp.is_some() || is_finished_pod(p) || p.metadata.deletion_timestamp.is_some() {
                remove_finalizer(&pods_api, p).await?;
            }
        }
        if finished.is_some() {
            ctx.backoff.lock().map(|mut b| b.remove(&key)).ok();
        }
        return Ok(Action::await_change());
    }

    let indexed = spec.completion_mode.as_deref() == Some("Indexed");
    let completions = spec.completions;
    let parallelism = spec.parallelism.unwrap_or(1).max(0);
    let backoff_limit = spec.backoff_limit.unwrap_or(6);
    let suspended = spec.suspend == Some(true);
    let only_failed = spec.pod_replacement_policy.as_deref() == Some("Failed");
    let mut status = job.status.clone().unwrap_or_default();

    // 1. newly finished pods still holding our finalizer go to uncountedTerminatedPods
    let mut uncounted = status.uncounted_terminated_pods.clone().unwrap_or_default();
    let mut unc_s: BTreeSet<String> = uncounted.succeeded.clone().unwrap_or_default().into_iter().collect();
    let mut unc_f: BTreeSet<String> = uncounted.failed.clone().unwrap_or_default().into_iter().collect();
    let mut succeeded_idx = Indexes::parse(status.completed_indexes.as_deref().unwrap_or(""), completions.unwrap_or(0));
    let mut changed = false;
    let per_index = if indexed { spec.backoff_limit_per_index } else { None };
    let c_total = completions.unwrap_or(0);
    let mut failed_idx = Indexes::parse(status.failed_indexes.as_deref().unwrap_or(""), c_total);
    // the policy speaks only about pods that reached the Failed phase
    let policy_for = |p: &Pod| spec.pod_failure_policy.as_ref().filter(|_| pod_phase(p) == "Failed");
    let absolute = |p: &Pod| (index_count(p, INDEX_FAILURE_COUNT).saturating_add(index_count(p, INDEX_IGNORED_FAILURE_COUNT)), finish_time(p));
    // per index: the failed pods that fail their index, and the last failed pod of each index
    // still waiting for its replacement (it keeps its finalizer, and so its count, until then)
    let mut delayed: BTreeSet<String> = BTreeSet::new();
    if let Some(limit) = per_index {
        let held_failed: Vec<(&Pod, i32)> = pods
            .iter()
            .filter(|p| has_finalizer(p) && is_failed_pod(p, only_failed))
            .filter_map(|p| completion_index(p).filter(|i| *i < c_total).map(|i| (p, i)))
            .collect();
        for (p, i) in &held_failed {
            if fails_index(policy_for(p), p, limit) && failed_idx.0.insert(*i) {
                changed = true;
            }
        }
        let succeeded_now: BTreeSet<i32> = pods.iter().filter(|p| pod_phase(p) == "Succeeded").filter_map(completion_index).chain(succeeded_idx.0.iter().copied()).collect();
        let running: BTreeSet<i32> = pods.iter().filter(|p| !is_finished_pod(p) && p.metadata.deletion_timestamp.is_none()).filter_map(completion_index).collect();
        // a finishing Job replaces nothing: every failure is counted
        let finishing = condition(&status, "FailureTarget").is_some() || condition(&status, "SuccessCriteriaMet").is_some();
        let mut last: BTreeMap<i32, &Pod> = BTreeMap::new();
        for (p, i) in held_failed.into_iter().filter(|_| !finishing) {
            if succeeded_now.contains(&i) || failed_idx.0.contains(&i) || running.contains(&i) {
                continue;
            }
            let newer = last.get(&i).is_none_or(|q| absolute(q) <= absolute(p));
            if newer {
                last.insert(i, p);
            }
        }
        delayed = last.values().filter_map(|p| p.uid()).collect();
    }
    let mut fail_message: Option<String> = None;
    let mut to_release: Vec<&Pod> = Vec::new();
    let mut new_failures: Vec<Timestamp> = Vec::new();
    let mut new_success = false;
    for p in &pods {
        if !has_finalizer(p) {
            continue;
        }
        let puid = p.uid().unwrap_or_default();
        if delayed.contains(&puid) {
            continue;
        }
        if pod_phase(p) == "Succeeded" && !unc_f.contains(&puid) {
            to_release.push(p);
            if indexed {
                if let Some(i) = completion_index(p).filter(|i| *i < completions.unwrap_or(0))
                    && succeeded_idx.0.insert(i)
                {
                    changed = true;
                    new_success = true;
                }
            } else if unc_s.insert(puid) {
                changed = true;
                new_success = true;
            }
        } else if is_failed_pod(p, only_failed) {
            to_release.push(p);
            if unc_f.contains(&puid) {
                continue;
            }
            let action = match &spec.pod_failure_policy {
                Some(policy) if pod_phase(p) == "Failed" => match_failure_policy(policy, p),
                _ => FailureAction::Count,
            };
            match action {
                FailureAction::Ignore => {}
                FailureAction::FailIndex => {
                    unc_f.insert(puid);
                    changed = true;
                }
                FailureAction::FailJob(m) => {
                    fail_message.get_or_insert(m);
                    unc_f.insert(puid);
                    changed = true;
                }
                FailureAction::Count => {
                    unc_f.insert(puid);
                    changed = true;
                    // with a limit per index, each index waits its own back-off instead
                    if per_index.is_none() {
                        new_failures.push(finish_time(p).unwrap_or(now));
                    }
                }
            }
        }
    }
    if status.start_time.is_none() && !suspended {
        status.start_time = Some(Time(now));
        changed = true;
    }
    if per_index.is_some() {
        status.failed_indexes = Some(failed_idx.render());
    }
    if changed {
        uncounted.succeeded = Some(unc_s.iter().cloned().collect());
        uncounted.failed = Some(unc_f.iter().cloned().collect());
        status.uncounted_terminated_pods = Some(uncounted.clone());
        if indexed {
            status.completed_indexes = Some(succeeded_idx.render());
            status.succeeded = Some(i32::try_from(succeeded_idx.0.len()).unwrap_or(i32::MAX));
        }
        if let Some(m) = &fail_message
            && condition(&status, "FailureTarget").is_none()
        {
            set_condition(&mut status, new_condition("FailureTarget", "True", "PodFailurePolicy", m, now));
        }
        job = Arc::new(write_status(&jobs, &job, &status).await?);
        let mut guard = ctx.backoff.lock().map_err(|_| Error::Pending("backoff lock".into()))?;
        let rec = guard.entry(key.clone()).or_default();
        if new_success {
            rec.failures_after_last_success = 0;
        }
        for t in &new_failures {
            rec.failures_after_last_success += 1;
            rec.last_failure = Some(rec.last_failure.map_or(*t, |l| l.max(*t)));
        }
    }

    // 2. release the finalizers, 3. move the released pods into the counters
    for p in &to_release {
        remove_finalizer(&pods_api, p).await?;
    }
    let released: BTreeSet<String> = to_release.iter().filter_map(|p| p.uid()).collect();
    let still_held: BTreeSet<String> = pods.iter().filter(|p| has_finalizer(p)).filter_map(|p| p.uid()).collect();
    let mut succeeded = status.succeeded.unwrap_or(0);
    let mut failed = status.failed.unwrap_or(0);
    for u in unc_s.clone() {
        if released.contains(&u) || !still_held.contains(&u) {
            unc_s.remove(&u);
            succeeded += 1;
        }
    }
    for u in unc_f.clone() {
        if released.contains(&u) || !still_held.contains(&u) {
            unc_f.remove(&u);
            failed += 1;
        }
    }
    if indexed {
        succeeded = i32::try_from(succeeded_idx.0.len()).unwrap_or(i32::MAX);
    }
    status.succeeded = Some(succeeded);
    status.failed = Some(failed);
    status.uncounted_terminated_pods = Some(UncountedTerminatedPods { succeeded: Some(unc_s.into_iter().collect()), failed: Some(unc_f.into_iter().collect()) });

    // the pods still running
    let active: Vec<&Pod> = pods.iter().filter(|p| !is_finished_pod(p) && p.metadata.deletion_timestamp.is_none()).collect();
    let mut terminating = i32::try_from(pods.iter().filter(|p| p.metadata.deletion_timestamp.is_some() && !is_finished_pod(p)).count()).unwrap_or(0);
    let mut requeue: Option<Duration> = None;

    // 4. decide whether the Job is done
    let mut finished_cond: Option<JobCondition> = None;
    if let Some(c) = condition(&status, "SuccessCriteriaMet") {
        finished_cond = Some(c.clone());
    } else if let Some(c) = condition(&status, "FailureTarget") {
        finished_cond = Some(c.clone());
    } else if failed > backoff_limit {
        finished_cond = Some(new_condition("FailureTarget", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit", now));
    } else if let (Some(ads), Some(start)) = (spec.active_deadline_seconds, status.start_time.as_ref())
        && !suspended
    {
        let deadline = start.0.as_second().saturating_add(ads);
        if now.as_second() >= deadline {
            finished_cond = Some(new_condition("FailureTarget", "True", "DeadlineExceeded", "Job was active longer than specified deadline", now));
        } else {
            requeue = Some(Duration::from_secs(u64::try_from(deadline - now.as_second()).unwrap_or(1)));
        }
    }
    if finished_cond.is_none() && per_index.is_some() {
        let failed_n = failed_idx.0.len();
        if spec.max_failed_indexes.is_some_and(|m| i64::try_from(failed_n).unwrap_or(i64::MAX) > i64::from(m)) {
            finished_cond = Some(new_condition("FailureTarget", "True", "MaxFailedIndexesExceeded", "Job has exceeded the specified maximal number of failed indexes", now));
        } else if failed_n > 0 && failed_n + succeeded_idx.0.len() >= usize::try_from(c_total).unwrap_or(0) {
            finished_cond = Some(new_condition("FailureTarget", "True", "FailedIndexes", "Job has failed indexes", now));
        }
    }
    if finished_cond.is_none()
        && indexed
        && let Some(policy) = &spec.success_policy
        && let Some(msg) = match_success_policy(policy, completions.unwrap_or(0), &succeeded_idx)
    {
        finished_cond = Some(new_condition("SuccessCriteriaMet", "True", "SuccessPolicy", &msg, now));
    }
    if finished_cond.is_none() {
        let complete = match completions {
            None => succeeded > 0 && active.is_empty(),
            Some(c) => succeeded >= c && active.is_empty(),
        };
        if complete {
            finished_cond = Some(new_condition("SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods", now));
        }
    }

    let mut active_count = i32::try_from(active.len()).unwrap_or(i32::MAX);
    let mut ready = i32::try_from(active.iter().filter(|p| pod_ready(p)).count()).unwrap_or(0);
    if let Some(cond) = finished_cond {
        // delete what still runs, then finish once nothing is terminating
        for p in &active {
            if delete_job_pod(&ctx, &pods_api, &job_ref, p).await? {
                terminating += 1;
            }
        }
        active_count = 0;
        ready = 0;
        let is_success = cond.type_ == "SuccessCriteriaMet" || cond.type_ == "Complete";
        let interim_new = set_condition(&mut status, cond.clone());
        if interim_new && !is_success {
            let reason = cond.reason.clone().unwrap_or_default();
            publish(&ctx.recorder, &job_ref, EventType::Warning, &reason, cond.message.clone().unwrap_or_default(), None).await;
        }
        let uncounted_empty = status.uncounted_terminated_pods.as_ref().is_none_or(|u| u.succeeded.as_ref().is_none_or(Vec::is_empty) && u.failed.as_ref().is_none_or(Vec::is_empty));
        // (failed pods held for their replacement are counted at the next sync, before the end)
        if terminating == 0 && uncounted_empty && delayed.is_empty() {
            let final_type = if is_success { "Complete" } else { "Failed" };
            let fin = new_condition(final_type, "True", cond.reason.as_deref().unwrap_or(""), cond.message.as_deref().unwrap_or(""), now);
            if set_condition(&mut status, fin) && is_success {
                status.completion_time = Some(Time(now));
                publish(&ctx.recorder, &job_ref, EventType::Normal, "Completed", "Job completed".into(), None).await;
            }
        } else {
            requeue = Some(Duration::from_millis(500));
        }
    } else if suspended {
        for p in &active {
            delete_job_pod(&ctx, &pods_api, &job_ref, p).await?;
            terminating += 1;
        }
        active_count = 0;
        ready = 0;
        if set_condition(&mut status, new_condition("Suspended", "True", "JobSuspended", "Job suspended", now)) {
            publish(&ctx.recorder, &job_ref, EventType::Normal, "Suspended", "Job suspended".into(), None).await;
        }
    } else {
        let was_suspended = condition(&status, "Suspended").is_some();
        if was_suspended {
            set_condition(&mut status, new_condition("Suspended", "False", "JobResumed", "Job resumed", now));
            status.start_time = Some(Time(now));
            publish(&ctx.recorder, &job_ref, EventType::Normal, "Resumed", "Job resumed".into(), None).await;
        }
        // how many pods to add or remove
        let rec = ctx.backoff.lock().map(|g| g.get(&key).copied().unwrap_or_default()).unwrap_or_default();
        let backoff_until = rec.last_failure.map(|t| t.as_millisecond() + i64::try_from(backoff_delay(rec.failures_after_last_success).as_millis()).unwrap_or(0));
        let in_backoff = backoff_until.is_some_and(|until| now.as_millisecond() < until);
        if indexed {
            let c = completions.unwrap_or(0);
            let mut by_index: BTreeMap<i32, Vec<&Pod>> = BTreeMap::new();
            for p in &active {
                match completion_index(p) {
                    Some(i) if i < c && !succeeded_idx.0.contains(&i) => by_index.entry(i).or_default().push(p),
                    _ => {
                        // a pod for an index that is done or invalid
                        if delete_job_pod(&ctx, &pods_api, &job_ref, p).await? {
                            active_count -= 1;
                            terminating += 1;
                        }
                    }
                }
            }
            for dups in by_index.values().filter(|v| v.len() > 1) {
                for p in dups.iter().skip(1) {
                    if delete_job_pod(&ctx, &pods_api, &job_ref, p).await? {
                        active_count -= 1;
                        terminating += 1;
                    }
                }
            }
            let active_idx: BTreeSet<i32> = by_index.keys().copied().collect();
            let room = usize::try_from(parallelism - i32::try_from(active_idx.len()).unwrap_or(0)).unwrap_or(0);
            let create = indexes_to_create(c, &succeeded_idx, &failed_idx, &active_idx, room);
            if !create.is_empty() && (terminating == 0 || !only_failed) && per_index.is_some() {
                // each index: the counts of the pod it replaces, and that index's back-off
                for i in create {
                    let replaced = pods.iter().filter(|p| completion_index(p) == Some(i) && is_failed_pod(p, only_failed)).max_by_key(|p| absolute(p));
                    let counts = replaced.map(|r| replacement_counts(policy_for(r), r)).unwrap_or((0, 0));
                    if let Some(r) = replaced {
                        let failures = u32::try_from(counts.0.saturating_add(counts.1)).unwrap_or(0);
                        let until = finish_time(r).unwrap_or(now).as_millisecond() + i64::try_from(backoff_delay(failures).as_millis()).unwrap_or(0);
                        if now.as_millisecond() < until {
                            let wait = Duration::from_millis(u64::try_from(until - now.as_millisecond()).unwrap_or(100).max(100));
                            requeue = Some(requeue.map_or(wait, |r| r.min(wait)));
                            continue;
                        }
                    }
                    create_pod(&ctx, &pods_api, &job, &job_ref, Some(i), Some(counts)).await?;
                    active_count += 1;
                }
            } else if !create.is_empty() && (terminating == 0 || !only_failed) {
                if in_backoff {
                    requeue = Some(Duration::from_millis(u64::try_from(backoff_until.unwrap_or(0) - now.as_millisecond()).unwrap_or(100).max(100)));
                } else {
                    for i in create {
                        create_pod(&ctx, &pods_api, &job, &job_ref, Some(i), None).await?;
                        active_count += 1;
                    }
                }
            }
        } else {
            let want = wanted_active(parallelism, completions, succeeded);
            if active_count > want {
                let mut victims: Vec<&&Pod> = active.iter().collect();
                // not-ready pods first, then the youngest
                victims.sort_by_key(|p| (pod_ready(p), std::cmp::Reverse(p.metadata.creation_timestamp.as_ref().map(|t| t.0))));
                for p in victims.into_iter().take(usize::try_from(active_count - want).unwrap_or(0)) {
                    if delete_job_pod(&ctx, &pods_api, &job_ref, p).await? {
                        active_count -= 1;
                        terminating += 1;
                    }
                }
            } else if active_count < want && (terminating == 0 || !only_failed) {
                if in_backoff {
                    requeue = Some(Duration::from_millis(u64::try_from(backoff_until.unwrap_or(0) - now.as_millisecond()).unwrap_or(100).max(100)));
                } else {
                    while active_count < want {
                        create_pod(&ctx, &pods_api, &job, &job_ref, None, None).await?;
                        active_count += 1;
                    }
                }
            }
        }
    }

    status.active = Some(active_count.max(0));
    status.ready = Some(ready);
    status.terminating = Some(terminating);
    if job.status.as_ref() != Some(&status) {
        write_status(&jobs, &job, &status).await?;
    }
    Ok(match requeue {
        Some(d) => Action::requeue(d),
        None => Action::await_change(),
    })
}

/// Deletes one of the Job's pods (its finalizer stays until the pod is counted) and records it.
async fn delete_job_pod(ctx: &Ctx, api: &Api<Pod>, job_ref: &ObjectReference, pod: &Pod) -> Result<bool> {
    let deleted = delete_pod(api, &pod.name_any()).await?;
    if deleted {
        publish(&ctx.recorder, job_ref, EventType::Normal, "SuccessfulDelete", format!("Deleted pod: {}", pod.name_any()), Some(object_ref(pod))).await;
    }
    Ok(deleted)
}

/// Creates a pod; `failures` (with `backoffLimitPerIndex`) are its index's counted and ignored
/// failures so far, carried as annotations.
async fn create_pod(ctx: &Ctx, api: &Api<Pod>, job: &Job, job_ref: &ObjectReference, index: Option<i32>, failures: Option<(i32, i32)>) -> Result<()> {
    let mut pod = pod_for(job, index);
    if let Some((counted, ignored)) = failures {
        let a = pod.metadata.annotations.get_or_insert_with(BTreeMap::new);
        a.insert(INDEX_FAILURE_COUNT.into(), counted.to_string());
        if ignored > 0 {
            a.insert(INDEX_IGNORED_FAILURE_COUNT.into(), ignored.to_string());
        }
    }
    match api.create(&PostParams::default(), &pod).await {
        Ok(created) => {
            let name = created.name_any();
            publish(&ctx.recorder, job_ref, EventType::Normal, "SuccessfulCreate", format!("Created pod: {name}"), Some(object_ref(&created))).await;
            Ok(())
        }
        Err(kube::Error::Api(e)) => {
            publish(&ctx.recorder, job_ref, EventType::Warning, "FailedCreate", format!("Error creating: {}", e.message), None).await;
            Err(kube::Error::Api(e).into())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::{PodFailurePolicyOnExitCodesRequirement, PodFailurePolicyOnPodConditionsPattern, PodFailurePolicyRule, SuccessPolicyRule};
    use k8s_openapi::api::core::v1::{ContainerState, ContainerStateTerminated, ContainerStatus, PodCondition, PodStatus};

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff_delay(0), Duration::ZERO);
        assert_eq!(backoff_delay(1), Duration::from_secs(10));
        assert_eq!(backoff_delay(2), Duration::from_secs(20));
        assert_eq!(backoff_delay(3), Duration::from_secs(40));
        assert_eq!(backoff_delay(6), Duration::from_secs(320));
        assert_eq!(backoff_delay(7), Duration::from_secs(600));
        assert_eq!(backoff_delay(100), Duration::from_secs(600));
    }

    #[test]
    fn indexes_round_trip() {
        let i = Indexes::parse("0,2-4,7", 10);
        assert_eq!(i.0.iter().copied().collect::<Vec<_>>(), vec![0, 2, 3, 4, 7]);
        assert_eq!(i.render(), "0,2-4,7");
        assert_eq!(Indexes::parse("3-20", 5).render(), "3,4");
        assert_eq!(Indexes::parse("3-20", 6).render(), "3-5");
        assert_eq!(Indexes::parse("", 5).render(), "");
        assert_eq!(Indexes::parse("x,1", 5).render(), "1");
        let mut j = Indexes::default();
        for k in [5, 1, 2, 3] {
            j.0.insert(k);
        }
        assert_eq!(j.render(), "1-3,5");
    }

    #[test]
    fn indexed_bookkeeping_creates_missing_indexes_in_order() {
        let done = Indexes::parse("0,2", 5);
        let active: BTreeSet<i32> = [1].into_iter().collect();
        let none = Indexes::default();
        assert_eq!(indexes_to_create(5, &done, &none, &active, 2), vec![3, 4]);
        assert_eq!(indexes_to_create(5, &done, &none, &active, 1), vec![3]);
        assert!(indexes_to_create(3, &Indexes::parse("0-2", 3), &none, &BTreeSet::new(), 3).is_empty());
        // failed indexes are not run again
        assert_eq!(indexes_to_create(5, &done, &Indexes::parse("3", 5), &active, 2), vec![4]);
    }

    #[test]
    fn per_index_failure_counts_carry_over_and_fail_the_index() {
        let mut p = failed_pod(1, None);
        // no annotation: 0; a replacement starts at 1 counted failure
        assert_eq!(index_count(&p, INDEX_FAILURE_COUNT), 0);
        assert_eq!(replacement_counts(None, &p), (1, 0));
        assert!(!fails_index(None, &p, 1), "first failure, limit 1: retried");
        p.metadata.annotations.get_or_insert_with(Default::default).insert(INDEX_FAILURE_COUNT.into(), "1".into());
        assert!(fails_index(None, &p, 1), "second failure, limit 1: the index fails");
        assert_eq!(replacement_counts(None, &p), (2, 0));
        // malformed or negative annotations count as 0, as upstream
        p.metadata.annotations.as_mut().unwrap().insert(INDEX_FAILURE_COUNT.into(), "-3".into());
        assert_eq!(index_count(&p, INDEX_FAILURE_COUNT), 0);
        // an Ignore rule leaves the failure uncounted (it goes to the ignored count); FailIndex
        // fails the index at once
        let rule = |action: &str| PodFailurePolicy {
            rules: vec![PodFailurePolicyRule {
                action: action.into(),
                on_exit_codes: Some(PodFailurePolicyOnExitCodesRequirement { container_name: None, operator: "In".into(), values: vec![1] }),
                on_pod_conditions: None,
            }],
        };
        assert_eq!(replacement_counts(Some(&rule("Ignore")), &p), (0, 1));
        assert!(!fails_index(Some(&rule("Ignore")), &p, 0));
        assert!(fails_index(Some(&rule("FailIndex")), &failed_pod(1, None), 5));
        assert_eq!(match_failure_policy(&rule("FailIndex"), &failed_pod(1, None)), FailureAction::FailIndex);
    }

    #[test]
    fn wanted_active_follows_completions() {
        assert_eq!(wanted_active(3, Some(5), 0), 3);
        assert_eq!(wanted_active(3, Some(5), 4), 1);
        assert_eq!(wanted_active(3, Some(5), 5), 0);
        assert_eq!(wanted_active(2, None, 0), 2);
        assert_eq!(wanted_active(2, None, 1), 0);
    }

    fn failed_pod(code: i32, cond: Option<&str>) -> Pod {
        Pod {
            metadata: ObjectMeta { name: Some("p".into()), namespace: Some("ns".into()), ..Default::default() },
            spec: None,
            status: Some(PodStatus {
                phase: Some("Failed".into()),
                container_statuses: Some(vec![ContainerStatus {
                    name: "main".into(),
                    state: Some(ContainerState { terminated: Some(ContainerStateTerminated { exit_code: code, ..Default::default() }), ..Default::default() }),
                    ..Default::default()
                }]),
                conditions: cond.map(|c| vec![PodCondition { type_: c.into(), status: "True".into(), ..Default::default() }]),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn pod_failure_policy_rules_in_order() {
        let policy = PodFailurePolicy {
            rules: vec![
                PodFailurePolicyRule {
                    action: "Ignore".into(),
                    on_pod_conditions: Some(vec![PodFailurePolicyOnPodConditionsPattern { type_: "DisruptionTarget".into(), status: "True".into() }]),
                    on_exit_codes: None,
                },
                PodFailurePolicyRule {
                    action: "FailJob".into(),
                    on_exit_codes: Some(PodFailurePolicyOnExitCodesRequirement { container_name: Some("main".into()), operator: "In".into(), values: vec![42] }),
                    on_pod_conditions: None,
                },
            ],
        };
        assert_eq!(
            match_failure_policy(&policy, &failed_pod(42, None)),
            FailureAction::FailJob("Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1".into())
        );
        assert_eq!(match_failure_policy(&policy, &failed_pod(42, Some("DisruptionTarget"))), FailureAction::Ignore);
        assert_eq!(match_failure_policy(&policy, &failed_pod(1, None)), FailureAction::Count);
    }

    #[test]
    fn success_policy_matches_indexes_and_counts() {
        let policy = SuccessPolicy {
            rules: vec![
                SuccessPolicyRule { succeeded_indexes: Some("0-2".into()), succeeded_count: None },
                SuccessPolicyRule { succeeded_indexes: None, succeeded_count: Some(4) },
            ],
        };
        assert_eq!(match_success_policy(&policy, 10, &Indexes::parse("0-1", 10)), None);
        assert_eq!(match_success_policy(&policy, 10, &Indexes::parse("0-2", 10)).as_deref(), Some("Matched rules at index 0"));
        assert_eq!(match_success_policy(&policy, 10, &Indexes::parse("5-8", 10)).as_deref(), Some("Matched rules at index 1"));
    }

    #[test]
    fn indexed_pod_carries_its_index() {
        let job: Job = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "j", "namespace": "ns", "uid": "u1"},
            "spec": {"template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}
        }))
        .unwrap();
        let pod = pod_for(&job, Some(3));
        assert_eq!(pod.metadata.generate_name.as_deref(), Some("j-3-"));
        assert_eq!(completion_index(&pod), Some(3));
        let spec = pod.spec.unwrap();
        assert_eq!(spec.hostname.as_deref(), Some("j-3"));
        assert_eq!(spec.containers[0].env.as_ref().unwrap()[0].name, "JOB_COMPLETION_INDEX");
        assert_eq!(pod.metadata.finalizers.unwrap(), vec![TRACKING_FINALIZER.to_string()]);
        assert_eq!(pod.metadata.owner_references.unwrap()[0].kind, "Job");
    }
}
