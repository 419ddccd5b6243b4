//! The statefulset controller: keeps `replicas` pods with stable identities `<set>-<ordinal>`
//! (hostname and subdomain from `serviceName`, labels `statefulset.kubernetes.io/pod-name`,
//! `apps.kubernetes.io/pod-index`, `controller-revision-hash`), creates each pod's claims
//! `<claim>-<set>-<ordinal>` from `volumeClaimTemplates` before the pod, and follows
//! `podManagementPolicy`: OrderedReady creates one pod at a time in ordinal order, waiting for
//! it to be Running and Ready, and removes from the highest ordinal down; Parallel acts on all
//! at once. Template history lives in ControllerRevisions; RollingUpdate replaces pods from the
//! highest ordinal down to `partition`, one at a time; OnDelete waits for the user. The claims'
//! retention (`persistentVolumeClaimRetentionPolicy`) is expressed with ownerReferences, which
//! the garbage collector acts on.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, Volume};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{EventType, Recorder, Reporter};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};

use crate::job::{controlled_by, controller_ref, delete_pod, object_ref, pod_available, pod_phase, pod_ready, publish, selector_query};
use crate::{Error, Result};

/// The pod label naming the ControllerRevision a pod was made from.
pub const REVISION_LABEL: &str = "controller-revision-hash";
/// The pod label with the pod's name.
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// The pod label with the pod's ordinal.
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";
/// The ControllerRevision label with the template hash.
pub const HASH_LABEL: &str = "controller.kubernetes.io/hash";
const CONTROLLER_NAME: &str = "statefulset-controller";

// ---------------------------------------------------------------------------------------------
// controller revisions (shared with the daemonset controller)

/// The `data` of a ControllerRevision for a pod template: the patch that restores it.
pub(crate) fn revision_data(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(o) = t.as_object_mut() {
        o.insert("$patch".into(), Value::String("replace".into()));
    }
    json!({"spec": {"template": t}})
}

/// A short, stable hash of a revision's data and the collision count, in the alphabet
/// upstream's names use (no vowels, no look-alike digits).
pub(crate) fn revision_hash(data: &Value, collision_count: i32) -> String {
    // FNV-1a over the canonical JSON (serde_json keeps object keys sorted)
    let mut h: u32 = 0x811c_9dc5;
    let bytes = serde_json::to_vec(data).unwrap_or_default();
    for b in bytes.iter().chain(collision_count.to_le_bytes().iter()) {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let digits = h.to_string();
    digits.bytes().map(|d| char::from(ALPHABET[usize::from(d - b'0') % ALPHABET.len()])).collect()
}

/// Finds or creates the ControllerRevision for `template`; returns it and the (possibly bumped)
/// collision count. Existing revisions are matched on their data.
pub(crate) async fn ensure_revision<K: Resource<DynamicType = ()>>(
    api: &Api<ControllerRevision>,
    owner: &K,
    labels: BTreeMap<String, String>,
    template: &Value,
    revisions: &[ControllerRevision],
    mut collision_count: i32,
) -> Result<(ControllerRevision, i32)> {
    let data = revision_data(template);
    let max_rev = revisions.iter().map(|r| r.revision).max().unwrap_or(0);
    if let Some(existing) = revisions.iter().find(|r| r.data.as_ref().map(|d| &d.0) == Some(&data)) {
        if existing.revision < max_rev {
            // rolling back to an old template: it becomes the newest revision
            let patch = json!({"revision": max_rev + 1});
            let updated = api.patch(&existing.name_any(), &PatchParams::default(), &Patch::Merge(&patch)).await?;
            return Ok((updated, collision_count));
        }
        return Ok((existing.clone(), collision_count));
    }
    let owner_name = owner.meta().name.clone().unwrap_or_default();
    for _ in 0..10 {
        let hash = revision_hash(&data, collision_count);
        let mut rev_labels = labels.clone();
        rev_labels.insert(HASH_LABEL.into(), hash.clone());
        let rev = ControllerRevision {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(format!("{owner_name}-{hash}")),
                namespace: owner.meta().namespace.clone(),
                labels: Some(rev_labels),
                owner_references: Some(vec![controller_ref(owner)]),
                ..Default::default()
            },
            data: Some(RawExtension(data.clone())),
            revision: max_rev + 1,
        };
        match api.create(&PostParams::default(), &rev).await {
            Ok(created) => return Ok((created, collision_count)),
            Err(kube::Error::Api(e)) if e.code == 409 => {
                // same name: ours with the same data is fine; anything else is a hash collision
                if let Some(found) = api.get_opt(&format!("{owner_name}-{hash}")).await?
                    && found.data.as_ref().map(|d| &d.0) == Some(&data)
                    && controlled_by(&found.metadata, &owner.meta().uid.clone().unwrap_or_default())
                {
                    return Ok((found, collision_count));
                }
                collision_count += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Pending("could not name a controller revision".into()))
}

/// Deletes revisions beyond `limit` that no pod uses and that are not `keep`.
pub(crate) async fn trim_history(api: &Api<ControllerRevision>, revisions: &[ControllerRevision], in_use: &BTreeSet<String>, keep: &[&str], limit: i32) {
    let mut old: Vec<&ControllerRevision> =
        revisions.iter().filter(|r| !keep.contains(&r.name_any().as_str()) && !in_use.contains(&r.name_any())).collect();
    let limit = usize::try_from(limit.max(0)).unwrap_or(0);
    if old.len() <= limit {
        return;
    }
    old.sort_by_key(|r| r.revision);
    let excess = old.len() - limit;
    for r in old.into_iter().take(excess) {
        if let Err(e) = api.delete(&r.name_any(), &DeleteParams::background()).await {
            tracing::debug!(error = %e, "deleting an old controller revision");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// pure logic

/// The ordinal of a pod named `<set>-<ordinal>`.
pub fn ordinal_of(set: &str, pod: &str) -> Option<i32> {
    let rest = pod.strip_prefix(set)?.strip_prefix('-')?;
    if rest.is_empty() || (rest.len() > 1 && rest.starts_with('0')) || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

/// The claim name for template `claim` of pod `<set>-<ordinal>`.
pub fn claim_name(claim: &str, set: &str, ordinal: i32) -> String {
    format!("{claim}-{set}-{ordinal}")
}

/// Which revision a missing pod of `ordinal` is created from: the current one below the
/// partition (RollingUpdate), else the update revision.
pub fn uses_current_revision(strategy: &str, partition: Option<i32>, ordinal: i32) -> bool {
    strategy == "RollingUpdate" && partition.is_some_and(|p| ordinal < p)
}

/// The ordinals a rolling update replaces, highest first: those at or above the partition
/// whose revision differs from the update revision.
pub fn rolling_targets(pods: &BTreeMap<i32, String>, update_revision: &str, partition: i32) -> Vec<i32> {
    pods.iter().rev().filter(|(o, rev)| **o >= partition && rev.as_str() != update_revision).map(|(o, _)| *o).collect()
}

/// Whether a pod is Running and Ready.
fn running_and_ready(pod: &Pod) -> bool {
    pod_phase(pod) == "Running" && pod_ready(pod)
}

fn revision_of(pod: &Pod) -> String {
    pod.labels().get(REVISION_LABEL).cloned().unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// the controller

struct Ctx {
    client: kube::Client,
    recorder: Recorder,
}

/// Runs the controller until the stream ends.
pub async fn run(client: kube::Client) {
    let sets: Api<StatefulSet> = Api::all(client.clone());
    let pods: Api<Pod> = Api::all(client.clone());
    let revisions: Api<ControllerRevision> = Api::all(client.clone());
    let recorder = Recorder::new(client.clone(), Reporter { controller: CONTROLLER_NAME.into(), instance: None });
    Controller::new(sets, watcher::Config::default())
        .owns(pods, watcher::Config::default())
        .owns(revisions, watcher::Config::default())
        .run(reconcile, crate::retry_after, Arc::new(Ctx { client, recorder }))
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "statefulset reconcile");
            }
        })
        .await;
}


/// The pod of `ordinal` from the template of `revision`.
fn new_pod(set: &StatefulSet, template: &Value, revision: &str, ordinal: i32) -> Result<Pod> {
    let name = set.name_any();
    let spec = set.spec.clone().unwrap_or_default();
    let mut pod: Pod = serde_json::from_value(json!({"metadata": template.get("metadata").cloned().unwrap_or(json!({})), "spec": template.get("spec").cloned().unwrap_or(json!({}))}))
        .map_err(|e| Error::Pending(format!("statefulset template: {e}")))?;
    let pod_name = format!("{name}-{ordinal}");
    pod.metadata.name = Some(pod_name.clone());
    pod.metadata.generate_name = None;
    pod.metadata.namespace = set.metadata.namespace.clone();
    pod.metadata.owner_references = Some(vec![controller_ref(set)]);
    let labels = pod.metadata.labels.get_or_insert_with(BTreeMap::new);
    labels.insert(POD_NAME_LABEL.into(), pod_name.clone());
    labels.insert(POD_INDEX_LABEL.into(), ordinal.to_string());
    labels.insert(REVISION_LABEL.into(), revision.into());
    let pod_spec = pod.spec.get_or_insert_with(Default::default);
    pod_spec.hostname = Some(pod_name.clone());
    if let Some(svc) = spec.service_name.as_ref().filter(|s| !s.is_empty()) {
        pod_spec.subdomain = Some(svc.clone());
    }
    for claim in spec.volume_claim_templates.iter().flatten() {
        let cname = claim.metadata.name.clone().unwrap_or_default();
        let volumes = pod_spec.volumes.get_or_insert_with(Vec::new);
        volumes.retain(|v| v.name != cname);
        volumes.push(Volume {
            name: cname.clone(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource { claim_name: claim_name(&cname, &name, ordinal), read_only: None }),
            ..Default::default()
        });
    }
    Ok(pod)
}

fn retention(set: &StatefulSet) -> (String, String) {
    let p = set.spec.as_ref().and_then(|s| s.persistent_volume_claim_retention_policy.clone()).unwrap_or_default();
    (p.when_deleted.unwrap_or_else(|| "Retain".into()), p.when_scaled.unwrap_or_else(|| "Retain".into()))
}

fn set_owner_ref(set: &StatefulSet) -> OwnerReference {
    OwnerReference { controller: None, ..controller_ref(set) }
}

/// Creates the claims of `ordinal` that do not exist yet, and keeps their ownerReferences in
/// line with the retention policy.
async fn ensure_claims(ctx: &Ctx, set: &StatefulSet, ordinal: i32, condemned: bool) -> Result<()> {
    let spec = set.spec.clone().unwrap_or_default();
    let Some(templates) = spec.volume_claim_templates.filter(|t| !t.is_empty()) else { return Ok(()) };
    let ns = set.namespace().unwrap_or_default();
    let api: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &ns);
    let name = set.name_any();
    let set_uid = set.uid().unwrap_or_default();
    let (when_deleted, _) = retention(set);
    for t in templates {
        let cname = claim_name(&t.metadata.name.clone().unwrap_or_default(), &name, ordinal);
        match api.get_opt(&cname).await? {
            Some(existing) => {
                let owned = existing.owner_references().iter().any(|r| r.uid == set_uid);
                let want = when_deleted == "Delete";
                if owned != want && !condemned {
                    let mut refs: Vec<OwnerReference> = existing.owner_references().iter().filter(|r| r.uid != set_uid).cloned().collect();
                    if want {
                        refs.push(set_owner_ref(set));
                    }
                    let patch = json!({"metadata": {"ownerReferences": refs, "resourceVersion": existing.resource_version()}});
                    api.patch(&cname, &PatchParams::default(), &Patch::Merge(&patch)).await?;
                }
            }
            None if !condemned => {
                let mut claim = t.clone();
                claim.metadata.name = Some(cname.clone());
                claim.metadata.namespace = Some(ns.clone());
                claim.metadata.resource_version = None;
                claim.metadata.uid = None;
                claim.status = None;
                let labels = claim.metadata.labels.get_or_insert_with(BTreeMap::new);
                for (k, v) in spec.selector.match_labels.iter().flatten() {
                    labels.insert(k.clone(), v.clone());
                }
                if when_deleted == "Delete" {
                    claim.metadata.owner_references = Some(vec![set_owner_ref(set)]);
                }
                match api.create(&PostParams::default(), &claim).await {
                    Ok(_) => {
                        publish(
                            &ctx.recorder,
                            &object_ref(set),
                            EventType::Normal,
                            "SuccessfulCreate",
                            format!("create Claim {cname} Pod {name}-{ordinal} in StatefulSet {name} success"),
                            None,
                        )
                        .await;
                    }
                    Err(kube::Error::Api(e)) if e.code == 409 => {}
                    Err(kube::Error::Api(e)) => {
                        publish(
                            &ctx.recorder,
                            &object_ref(set),
                            EventType::Warning,
                            "FailedCreate",
                            format!("create Claim {cname} for Pod {name}-{ordinal} in StatefulSet {name} failed error: {}", e.message),
                            None,
                        )
                        .await;
                        return Err(kube::Error::Api(e).into());
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            None => {}
        }
    }
    Ok(())
}

/// With `whenScaled: Delete`, a condemned pod's claims get the pod as owner before it goes.
async fn own_claims_by_pod(ctx: &Ctx, set: &StatefulSet, pod: &Pod, ordinal: i32) -> Result<()> {
    let (_, when_scaled) = retention(set);
    if when_scaled != "Delete" {
        return Ok(());
    }
    let ns = set.namespace().unwrap_or_default();
    let api: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &ns);
    let pod_ref = OwnerReference { controller: None, ..controller_ref(pod) };
    for t in set.spec.iter().flat_map(|s| s.volume_claim_templates.iter().flatten()) {
        let cname = claim_name(&t.metadata.name.clone().unwrap_or_default(), &set.name_any(), ordinal);
        let Some(existing) = api.get_opt(&cname).await? else { continue };
        if existing.owner_references().iter().any(|r| r.uid == pod_ref.uid) {
            continue;
        }
        let mut refs = existing.owner_references().to_vec();
        refs.push(pod_ref.clone());
        let patch = json!({"metadata": {"ownerReferences": refs, "resourceVersion": existing.resource_version()}});
        api.patch(&cname, &PatchParams::default(), &Patch::Merge(&patch)).await?;
    }
    Ok(())
}

async fn reconcile(set: Arc<StatefulSet>, ctx: Arc<Ctx>) -> Result<Action> {
    if set.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let ns = set.namespace().unwrap_or_default();
    let name = set.name_any();
    let uid = set.uid().unwrap_or_default();
    let set_ref = object_ref(set.as_ref());
    let spec = set.spec.clone().unwrap_or_default();
    let Some(selector) = selector_query(&spec.selector) else { return Ok(Action::await_change()) };
    let pods_api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let rev_api: Api<ControllerRevision> = Api::namespaced(ctx.client.clone(), &ns);
    let sets: Api<StatefulSet> = Api::namespaced(ctx.client.clone(), &ns);
    let now = Timestamp::now();

    let pods: Vec<Pod> = pods_api.list(&ListParams::default().labels(&selector)).await?.items.into_iter().filter(|p| controlled_by(&p.metadata, &uid)).collect();
    let revisions: Vec<ControllerRevision> =
        rev_api.list(&ListParams::default().labels(&selector)).await?.items.into_iter().filter(|r| controlled_by(&r.metadata, &uid)).collect();

    // revisions
    let mut status = set.status.clone().unwrap_or_default();
    let template = serde_json::to_value(&spec.template).unwrap_or(Value::Null);
    let labels = spec.template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
    let (update_rev, collisions) = ensure_revision(&rev_api, set.as_ref(), labels, &template, &revisions, status.collision_count.unwrap_or(0)).await?;
    let update_name = update_rev.name_any();
    let current_rev = status
        .current_revision
        .as_ref()
        .and_then(|c| revisions.iter().find(|r| &r.name_any() == c))
        .cloned()
        .unwrap_or_else(|| update_rev.clone());
    let current_name = current_rev.name_any();
    let template_of = |rev: &ControllerRevision| -> Value {
        rev.data.as_ref().and_then(|d| d.0.pointer("/spec/template").cloned()).map(|mut t| {
            if let Some(o) = t.as_object_mut() {
                o.remove("$patch");
            }
            t
        }).unwrap_or_else(|| template.clone())
    };
    let current_template = template_of(&current_rev);

    let replicas = spec.replicas.unwrap_or(1).max(0);
    let start = spec.ordinals.as_ref().and_then(|o| o.start).unwrap_or(0).max(0);
    let parallel = spec.pod_management_policy.as_deref() == Some("Parallel");
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    let strategy_type = strategy.type_.clone().unwrap_or_else(|| "RollingUpdate".into());
    let partition = strategy.rolling_update.as_ref().and_then(|r| r.partition);
    let min_ready = spec.min_ready_seconds.unwrap_or(0);

    let mut by_ordinal: BTreeMap<i32, &Pod> = BTreeMap::new();
    for p in &pods {
        if let Some(o) = ordinal_of(&name, &p.name_any()) {
            by_ordinal.insert(o, p);
        }
    }
    let in_range = |o: i32| o >= start && o < start + replicas;
    let mut requeue: Option<Duration> = None;
    let mut blocked = false;

    // 1. the replicas, in ordinal order
    for ord in start..start + replicas {
        if blocked && !parallel {
            break;
        }
        match by_ordinal.get(&ord) {
            Some(p) if matches!(pod_phase(p), "Failed" | "Succeeded") && p.metadata.deletion_timestamp.is_none() => {
                // a pod that ended is recreated
                publish(&ctx.recorder, &set_ref, EventType::Warning, "RecreatingFailedPod", format!("StatefulSet {ns}/{name} is recreating failed Pod {}", p.name_any()), None).await;
                if delete_pod(&pods_api, &p.name_any()).await? {
                    publish(&ctx.recorder, &set_ref, EventType::Normal, "SuccessfulDelete", format!("delete Pod {} in StatefulSet {name} successful", p.name_any()), Some(object_ref(*p))).await;
                }
                blocked = true;
            }
            Some(p) => {
                if p.metadata.deletion_timestamp.is_some() || !running_and_ready(p) {
                    blocked = true;
                } else if min_ready > 0 && !pod_available(p, min_ready, now) {
                    blocked = true;
                    requeue = Some(Duration::from_secs(1));
                }
            }
            None => {
                ensure_claims(&ctx, &set, ord, false).await?;
                let (rev, tpl) =
                    if uses_current_revision(&strategy_type, partition, ord) { (&current_name, &current_template) } else { (&update_name, &template) };
                let pod = new_pod(&set, tpl, rev, ord)?;
                match pods_api.create(&PostParams::default(), &pod).await {
                    Ok(created) => {
                        publish(&ctx.recorder, &set_ref, EventType::Normal, "SuccessfulCreate", format!("create Pod {name}-{ord} in StatefulSet {name} successful"), Some(object_ref(&created)))
                            .await;
                    }
                    Err(kube::Error::Api(e)) if e.code == 409 => {}
                    Err(kube::Error::Api(e)) => {
                        publish(&ctx.recorder, &set_ref, EventType::Warning, "FailedCreate", format!("create Pod {name}-{ord} in StatefulSet {name} failed error: {}", e.message), None).await;
                        return Err(kube::Error::Api(e).into());
                    }
                    Err(e) => return Err(e.into()),
                }
                blocked = true;
            }
        }
    }

    // 2. the condemned, highest ordinal first (OrderedReady waits for every replica to be healthy)
    let condemned: Vec<i32> = by_ordinal.keys().copied().filter(|o| !in_range(*o)).rev().collect();
    if !condemned.is_empty() && (parallel || !blocked) {
        for ord in condemned {
            let Some(p) = by_ordinal.get(&ord) else { continue };
            if p.metadata.deletion_timestamp.is_some() {
                if !parallel {
                    blocked = true;
                    break;
                }
                continue;
            }
            own_claims_by_pod(&ctx, &set, p, ord).await?;
            if delete_pod(&pods_api, &p.name_any()).await? {
                publish(&ctx.recorder, &set_ref, EventType::Normal, "SuccessfulDelete", format!("delete Pod {} in StatefulSet {name} successful", p.name_any()), Some(object_ref(*p))).await;
            }
            if !parallel {
                blocked = true;
                break;
            }
        }
    }

    // 3. rolling update: one pod at a time, from the highest ordinal down to the partition
    let all_healthy = (start..start + replicas).all(|o| by_ordinal.get(&o).is_some_and(|p| p.metadata.deletion_timestamp.is_none() && running_and_ready(p)))
        && by_ordinal.keys().all(|o| in_range(*o));
    if strategy_type == "RollingUpdate" && all_healthy && !blocked {
        let revs: BTreeMap<i32, String> = by_ordinal.iter().filter(|(o, _)| in_range(**o)).map(|(o, p)| (*o, revision_of(p))).collect();
        if let Some(ord) = rolling_targets(&revs, &update_name, partition.unwrap_or(0).max(start)).first()
            && let Some(p) = by_ordinal.get(ord)
            && delete_pod(&pods_api, &p.name_any()).await?
        {
            publish(&ctx.recorder, &set_ref, EventType::Normal, "SuccessfulDelete", format!("delete Pod {} in StatefulSet {name} successful", p.name_any()), Some(object_ref(*p))).await;
        }
    }

    // 4. status
    let live: Vec<&&Pod> = by_ordinal.values().filter(|p| p.metadata.deletion_timestamp.is_none()).collect();
    let count = |f: &dyn Fn(&Pod) -> bool| i32::try_from(live.iter().filter(|p| f(p)).count()).unwrap_or(i32::MAX);
    let mut new_status = StatefulSetStatus {
        observed_generation: set.metadata.generation,
        replicas: count(&|_| true),
        ready_replicas: Some(count(&running_and_ready)),
        available_replicas: Some(count(&|p| running_and_ready(p) && pod_available(p, min_ready, now))),
        current_replicas: Some(count(&|p| revision_of(p) == current_name)),
        updated_replicas: Some(count(&|p| revision_of(p) == update_name)),
        current_revision: Some(current_name.clone()),
        update_revision: Some(update_name.clone()),
        collision_count: Some(collisions),
        conditions: status.conditions.take(),
    };
    // a finished rolling update makes the update revision current
    let ready = new_status.ready_replicas.unwrap_or(0);
    let updated = new_status.updated_replicas.unwrap_or(0);
    if strategy_type == "RollingUpdate" && updated == new_status.replicas && ready == new_status.replicas && new_status.replicas == replicas {
        new_status.current_revision = Some(update_name.clone());
        new_status.current_replicas = Some(updated);
    }
    if strategy_type == "OnDelete" && updated == new_status.replicas && new_status.replicas == replicas {
        new_status.current_revision = Some(update_name.clone());
        new_status.current_replicas = Some(updated);
    }
    if set.status.as_ref() != Some(&new_status) {
        let mut updated = (*set).clone();
        updated.status = Some(new_status.clone());
        match sets.replace_status(&name, &PostParams::default(), &updated).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => return Ok(Action::await_change()),
            Err(kube::Error::Api(e)) if e.code == 409 => return Err(Error::Pending("status conflict".into())),
            Err(e) => return Err(e.into()),
        }
    }

    // 5. history
    let in_use: BTreeSet<String> = pods.iter().map(revision_of).collect();
    let keep = [new_status.current_revision.as_deref().unwrap_or(""), update_name.as_str()];
    trim_history(&rev_api, &revisions, &in_use, &keep, spec.revision_history_limit.unwrap_or(10)).await;

    if min_ready > 0 && new_status.available_replicas != new_status.ready_replicas {
        requeue = Some(Duration::from_secs(1));
    }
    Ok(match requeue {
        Some(d) => Action::requeue(d),
        None => Action::await_change(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_parse_strictly() {
        assert_eq!(ordinal_of("web", "web-0"), Some(0));
        assert_eq!(ordinal_of("web", "web-12"), Some(12));
        assert_eq!(ordinal_of("web", "web-01"), None);
        assert_eq!(ordinal_of("web", "web-"), None);
        assert_eq!(ordinal_of("web", "web-x"), None);
        assert_eq!(ordinal_of("web", "webby-1"), None);
        assert_eq!(ordinal_of("web", "web-db-1"), None);
        assert_eq!(claim_name("www", "web", 2), "www-web-2");
    }

    #[test]
    fn rolling_update_goes_from_the_top_to_the_partition() {
        let pods: BTreeMap<i32, String> = [(0, "a"), (1, "a"), (2, "b"), (3, "a")].into_iter().map(|(o, r)| (o, r.to_string())).collect();
        assert_eq!(rolling_targets(&pods, "b", 0), vec![3, 1, 0]);
        assert_eq!(rolling_targets(&pods, "b", 2), vec![3]);
        assert!(rolling_targets(&pods, "b", 4).is_empty());
        assert!(uses_current_revision("RollingUpdate", Some(2), 1));
        assert!(!uses_current_revision("RollingUpdate", Some(2), 2));
        assert!(!uses_current_revision("OnDelete", Some(2), 1));
        assert!(!uses_current_revision("RollingUpdate", None, 0));
    }

    #[test]
    fn revision_hashes_are_stable_and_collision_aware() {
        let t = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
        let d = revision_data(&t);
        assert_eq!(d["spec"]["template"]["$patch"], "replace");
        let h = revision_hash(&d, 0);
        assert_eq!(h, revision_hash(&d, 0));
        assert_ne!(h, revision_hash(&d, 1));
        assert!(h.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)), "{h}");
        let t2 = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx:2"}]}});
        assert_ne!(h, revision_hash(&revision_data(&t2), 0));
    }

    #[test]
    fn pods_get_identity_and_claims() {
        let set: StatefulSet = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "ns", "uid": "u"},
            "spec": {"serviceName": "nginx", "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "www"}, "spec": {"accessModes": ["ReadWriteOnce"]}}]}
        }))
        .unwrap();
        let tpl = serde_json::to_value(&set.spec.as_ref().unwrap().template).unwrap();
        let pod = new_pod(&set, &tpl, "web-abc", 2).unwrap();
        assert_eq!(pod.name_any(), "web-2");
        let l = pod.labels();
        assert_eq!(l[POD_NAME_LABEL], "web-2");
        assert_eq!(l[POD_INDEX_LABEL], "2");
        assert_eq!(l[REVISION_LABEL], "web-abc");
        let spec = pod.spec.unwrap();
        assert_eq!(spec.hostname.as_deref(), Some("web-2"));
        assert_eq!(spec.subdomain.as_deref(), Some("nginx"));
        let vols = spec.volumes.unwrap();
        assert_eq!(vols[0].persistent_volume_claim.as_ref().unwrap().claim_name, "www-web-2");
    }
}
