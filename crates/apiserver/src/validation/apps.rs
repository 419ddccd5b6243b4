//! apps/v1: Deployments, ReplicaSets, StatefulSets, DaemonSets and ControllerRevisions, after
//! upstream's `pkg/apis/apps/validation` plus the apps/v1 registry rule that selectors are
//! immutable (`spec.selector: Invalid value: ...: field is immutable`).
//!
//! As upstream, StatefulSet validation does not validate the pod template's spec (only its
//! labels/annotations, restartPolicy and activeDeadlineSeconds).

use apimachinery::field::{ErrorList, Path};
use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::common::*;
use super::core::replica_status;
use super::core_pod::{template_opts, validate_pod_template_spec, PodOpts};

fn template_labels(t: &core::PodTemplateSpec) -> std::collections::BTreeMap<String, String> {
    t.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default()
}

fn restart_and_deadline(t: &core::PodTemplateSpec, path: &Path, kind: &str) -> Errs {
    let mut e = Vec::new();
    let spec = t.spec.clone().unwrap_or_default();
    let restart = spec.restart_policy.as_deref().filter(|s| !s.is_empty()).unwrap_or("Always");
    if restart != "Always" {
        e.push(not_supported(&path.child("spec").child("restartPolicy"), restart, &["Always"]));
    }
    if spec.active_deadline_seconds.is_some() {
        e.push(forbidden(&path.child("spec").child("activeDeadlineSeconds"), format!("activeDeadlineSeconds in {kind} is not Supported")));
    }
    e
}

/// Upstream's `ValidatePodTemplateSpecForReplicaSet` (also used for Deployments).
fn template_for_replica_set(t: &core::PodTemplateSpec, selector: &LabelSelector, path: &Path, opts: &PodOpts, kind: &str) -> Errs {
    let mut e = Vec::new();
    if !selector_is_empty(selector) && !selector_matches(selector, &template_labels(t)) {
        e.push(invalid(&path.child("metadata").child("labels"), json(&template_labels(t)), "`selector` does not match template `labels`"));
    }
    e.extend(validate_pod_template_spec(t, path, opts));
    e.extend(restart_and_deadline(t, path, kind));
    e
}

/// A selector is usable by `LabelSelectorAsSelector` (operators known, values present).
fn selector_parses(sel: &LabelSelector) -> bool {
    apimachinery::labels::from_label_selector(sel).is_ok()
}

fn workload_selector(sel: &LabelSelector, path: &Path, empty_msg: &str) -> Errs {
    let mut e = label_selector(Some(sel), path, false);
    if selector_is_empty(sel) {
        e.push(invalid(path, json(sel), empty_msg));
    }
    e
}

/// Upstream's `ValidatePositiveIntOrPercent`.
pub(crate) fn positive_int_or_percent(v: &IntOrString, path: &Path) -> Errs {
    match v {
        IntOrString::String(s) => apimachinery::validation::is_percent(s).into_iter().map(|m| invalid(path, s.as_str(), m)).collect(),
        IntOrString::Int(n) => nonneg(*n as i64, path),
    }
}

fn percent_value(v: &IntOrString) -> Option<i64> {
    match v {
        IntOrString::String(s) if apimachinery::validation::is_percent(s).is_empty() => s[..s.len() - 1].parse().ok(),
        _ => None,
    }
}

fn int_or_percent_value(v: &IntOrString) -> i64 {
    match v {
        IntOrString::Int(n) => *n as i64,
        IntOrString::String(s) => percent_value(v).unwrap_or_else(|| s.parse().unwrap_or(0)),
    }
}

pub(crate) fn not_more_than_100_percent(v: &IntOrString, path: &Path) -> Errs {
    match percent_value(v) {
        Some(p) if p > 100 => vec![invalid(path, json(v), "must not be greater than 100%")],
        _ => Vec::new(),
    }
}

fn immutable_selector(new: &LabelSelector, old: &LabelSelector) -> Errs {
    immutable_sem(new, old, &p("spec").child("selector"))
}

// ---------------------------------------------------------------------------------------------
// Deployment
// ---------------------------------------------------------------------------------------------

fn deployment_spec(spec: &apps::DeploymentSpec, path: &Path, opts: &PodOpts) -> Errs {
    let mut e = nonneg(spec.replicas.unwrap_or(1) as i64, &path.child("replicas"));
    e.extend(workload_selector(&spec.selector, &path.child("selector"), "empty selector is invalid for deployment"));
    if selector_parses(&spec.selector) {
        e.extend(template_for_replica_set(&spec.template, &spec.selector, &path.child("template"), opts, "ReplicaSet"));
    } else {
        e.push(invalid(&path.child("selector"), json(&spec.selector), "invalid label selector"));
    }
    let sp = path.child("strategy");
    let strategy = spec.strategy.clone().unwrap_or_default();
    match strategy.type_.as_deref().filter(|s| !s.is_empty()).unwrap_or("RollingUpdate") {
        "Recreate" => {
            if strategy.rolling_update.is_some() {
                e.push(forbidden(&sp.child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"));
            }
        }
        "RollingUpdate" => {
            let ru = strategy.rolling_update.clone().unwrap_or_default();
            let rp = sp.child("rollingUpdate");
            let mu = ru.max_unavailable.clone().unwrap_or_else(|| IntOrString::String("25%".into()));
            let ms = ru.max_surge.clone().unwrap_or_else(|| IntOrString::String("25%".into()));
            e.extend(positive_int_or_percent(&mu, &rp.child("maxUnavailable")));
            e.extend(positive_int_or_percent(&ms, &rp.child("maxSurge")));
            if int_or_percent_value(&mu) == 0 && int_or_percent_value(&ms) == 0 {
                e.push(invalid(&rp.child("maxUnavailable"), json(&mu), "may not be 0 when `maxSurge` is 0"));
            }
            e.extend(not_more_than_100_percent(&mu, &rp.child("maxUnavailable")));
        }
        _ => e.push(not_supported(&sp, json(&strategy), &["Recreate", "RollingUpdate"])),
    }
    let mrs = spec.min_ready_seconds.unwrap_or(0);
    e.extend(nonneg(mrs as i64, &path.child("minReadySeconds")));
    if let Some(r) = spec.revision_history_limit {
        e.extend(nonneg(r as i64, &path.child("revisionHistoryLimit")));
    }
    let pds = spec.progress_deadline_seconds.unwrap_or(600);
    e.extend(nonneg(pds as i64, &path.child("progressDeadlineSeconds")));
    if pds <= mrs {
        e.push(invalid(&path.child("progressDeadlineSeconds"), pds, "must be greater than minReadySeconds"));
    }
    e
}

/// Deployment create: replicas ≥ 0, a non-empty valid selector matching the template labels,
/// a valid pod template (restartPolicy Always, no activeDeadlineSeconds), strategy
/// (Recreate without rollingUpdate; RollingUpdate int-or-percent values, not both zero,
/// maxUnavailable ≤ 100%), minReadySeconds, revisionHistoryLimit, progressDeadlineSeconds >
/// minReadySeconds.
pub fn deployment(d: &apps::Deployment) -> ErrorList {
    let spec = d.spec.clone().unwrap_or_default();
    done(deployment_spec(&spec, &p("spec"), &PodOpts::default()))
}

/// Deployment update: the create rules, then the immutable selector.
pub fn deployment_update(new: &apps::Deployment, old: &apps::Deployment) -> ErrorList {
    let ns = new.spec.clone().unwrap_or_default();
    let os = old.spec.clone().unwrap_or_default();
    let mut e = deployment_spec(&ns, &p("spec"), &template_opts(Some(&os.template)));
    e.extend(immutable_selector(&ns.selector, &os.selector));
    done(e)
}

fn collision_decrement(new: Option<i32>, old: Option<i32>, path: &Path) -> Errs {
    let decremented = match (new, old) {
        (None, Some(_)) => true,
        (Some(n), Some(o)) => n < o,
        _ => false,
    };
    if decremented { vec![invalid(path, new.unwrap_or(0), "cannot be decremented")] } else { Vec::new() }
}

/// Deployment status update: counts non-negative and consistent, collisionCount not
/// decremented.
pub fn deployment_status_update(new: &apps::Deployment, old: &apps::Deployment) -> ErrorList {
    let s = new.status.clone().unwrap_or_default();
    let sp = p("status");
    let mut e = nonneg(s.observed_generation.unwrap_or(0), &sp.child("observedGeneration"));
    let (replicas, updated, ready, available) =
        (s.replicas.unwrap_or(0), s.updated_replicas.unwrap_or(0), s.ready_replicas.unwrap_or(0), s.available_replicas.unwrap_or(0));
    e.extend(nonneg(replicas as i64, &sp.child("replicas")));
    e.extend(nonneg(updated as i64, &sp.child("updatedReplicas")));
    e.extend(nonneg(ready as i64, &sp.child("readyReplicas")));
    e.extend(nonneg(available as i64, &sp.child("availableReplicas")));
    e.extend(nonneg(s.unavailable_replicas.unwrap_or(0) as i64, &sp.child("unavailableReplicas")));
    if let Some(c) = s.collision_count {
        e.extend(nonneg(c as i64, &sp.child("collisionCount")));
    }
    let msg = "cannot be greater than status.replicas";
    if updated > replicas {
        e.push(invalid(&sp.child("updatedReplicas"), updated, msg));
    }
    if ready > replicas {
        e.push(invalid(&sp.child("readyReplicas"), ready, msg));
    }
    if available > replicas {
        e.push(invalid(&sp.child("availableReplicas"), available, msg));
    }
    if available > ready {
        e.push(invalid(&sp.child("availableReplicas"), available, "cannot be greater than readyReplicas"));
    }
    let oc = old.status.as_ref().and_then(|s| s.collision_count);
    e.extend(collision_decrement(s.collision_count, oc, &sp.child("collisionCount")));
    done(e)
}

// ---------------------------------------------------------------------------------------------
// ReplicaSet
// ---------------------------------------------------------------------------------------------

fn replica_set_spec(spec: &apps::ReplicaSetSpec, path: &Path, opts: &PodOpts) -> Errs {
    let mut e = nonneg(spec.replicas.unwrap_or(1) as i64, &path.child("replicas"));
    e.extend(nonneg(spec.min_ready_seconds.unwrap_or(0) as i64, &path.child("minReadySeconds")));
    e.extend(workload_selector(&spec.selector, &path.child("selector"), "empty selector is invalid for deployment"));
    if selector_parses(&spec.selector) {
        match &spec.template {
            None => e.push(required(&path.child("template"), "")),
            Some(t) => e.extend(template_for_replica_set(t, &spec.selector, &path.child("template"), opts, "ReplicaSet")),
        }
    } else {
        e.push(invalid(&path.child("selector"), json(&spec.selector), "invalid label selector"));
    }
    e
}

/// ReplicaSet create: replicas and minReadySeconds ≥ 0, a non-empty valid selector (upstream's
/// message says "for deployment" here too), a template matching it with restartPolicy Always.
pub fn replica_set(rs: &apps::ReplicaSet) -> ErrorList {
    let spec = rs.spec.clone().unwrap_or_default();
    done(replica_set_spec(&spec, &p("spec"), &PodOpts::default()))
}

/// ReplicaSet update: the create rules, then the immutable selector.
pub fn replica_set_update(new: &apps::ReplicaSet, old: &apps::ReplicaSet) -> ErrorList {
    let ns = new.spec.clone().unwrap_or_default();
    let os = old.spec.clone().unwrap_or_default();
    let mut e = replica_set_spec(&ns, &p("spec"), &template_opts(os.template.as_ref()));
    e.extend(immutable_selector(&ns.selector, &os.selector));
    done(e)
}

/// ReplicaSet status update: counts non-negative and consistent.
pub fn replica_set_status_update(new: &apps::ReplicaSet, _old: &apps::ReplicaSet) -> ErrorList {
    let s = new.status.clone().unwrap_or_default();
    done(replica_status(
        s.replicas,
        s.fully_labeled_replicas.unwrap_or(0),
        s.ready_replicas.unwrap_or(0),
        s.available_replicas.unwrap_or(0),
        s.observed_generation.unwrap_or(0),
        &p("status"),
    ))
}

// ---------------------------------------------------------------------------------------------
// StatefulSet
// ---------------------------------------------------------------------------------------------

fn stateful_set_spec(spec: &apps::StatefulSetSpec, path: &Path, opts: &PodOpts) -> Errs {
    let mut e = Vec::new();
    match spec.pod_management_policy.as_deref().filter(|s| !s.is_empty()).unwrap_or("OrderedReady") {
        "OrderedReady" | "Parallel" => {}
        other => e.push(invalid(&path.child("podManagementPolicy"), other, "must be 'OrderedReady' or 'Parallel'")),
    }
    let us = spec.update_strategy.clone().unwrap_or_default();
    let up = path.child("updateStrategy");
    match us.type_.as_deref().filter(|s| !s.is_empty()).unwrap_or("RollingUpdate") {
        "OnDelete" => {
            if let Some(ru) = &us.rolling_update {
                e.push(invalid(&up.child("rollingUpdate"), json(ru), "only allowed for updateStrategy 'RollingUpdate'"));
            }
        }
        "RollingUpdate" => {
            if let Some(ru) = &us.rolling_update {
                let rp = up.child("rollingUpdate");
                e.extend(nonneg(ru.partition.unwrap_or(0) as i64, &rp.child("partition")));
                if let Some(mu) = &ru.max_unavailable {
                    let mp = rp.child("maxUnavailable");
                    e.extend(positive_int_or_percent(mu, &mp));
                    if int_or_percent_value(mu) == 0 {
                        e.push(invalid(&mp, json(mu), "cannot be 0"));
                    }
                    e.extend(not_more_than_100_percent(mu, &mp));
                }
            }
        }
        _ => e.push(invalid(&up, json(&us), "must be 'RollingUpdate' or 'OnDelete'")),
    }
    if let Some(pol) = &spec.persistent_volume_claim_retention_policy {
        let pp = path.child("persistentVolumeClaimRetentionPolicy");
        for (name, v) in [("whenDeleted", &pol.when_deleted), ("whenScaled", &pol.when_scaled)] {
            let val = v.as_deref().filter(|s| !s.is_empty()).unwrap_or("Retain");
            if val != "Retain" && val != "Delete" {
                e.push(not_supported(&pp.child(name), val, &["Retain", "Delete"]));
            }
        }
    }
    e.extend(nonneg(spec.replicas.unwrap_or(1) as i64, &path.child("replicas")));
    e.extend(nonneg(spec.min_ready_seconds.unwrap_or(0) as i64, &path.child("minReadySeconds")));
    if let Some(o) = &spec.ordinals {
        e.extend(nonneg(o.start.unwrap_or(0) as i64, &path.child("ordinals.start")));
    }
    e.extend(workload_selector(&spec.selector, &path.child("selector"), "empty selector is invalid for statefulset"));
    if selector_parses(&spec.selector) {
        let tp = path.child("template");
        let t = &spec.template;
        if !selector_is_empty(&spec.selector) && !selector_matches(&spec.selector, &template_labels(t)) {
            e.push(invalid(&tp.child("metadata").child("labels"), json(&template_labels(t)), "`selector` does not match template `labels`"));
        }
        let meta = t.metadata.as_ref();
        e.extend(labels(meta.and_then(|m| m.labels.as_ref()), &tp.child("labels")));
        e.extend(annotations(meta.and_then(|m| m.annotations.as_ref()), &tp.child("annotations")));
        let _ = opts;
    } else {
        e.push(invalid(&path.child("selector"), json(&spec.selector), ""));
    }
    e.extend(restart_and_deadline(&spec.template, &path.child("template"), "StatefulSet"));
    e
}

/// StatefulSet create: podManagementPolicy, updateStrategy (partition ≥ 0, maxUnavailable),
/// PVC retention policy, replicas/minReadySeconds/ordinals.start ≥ 0, a non-empty valid
/// selector matching the template labels, template labels/annotations, restartPolicy Always,
/// no activeDeadlineSeconds. The pod spec itself is not validated (as upstream).
pub fn stateful_set(ss: &apps::StatefulSet) -> ErrorList {
    let spec = ss.spec.clone().unwrap_or_default();
    done(stateful_set_spec(&spec, &p("spec"), &PodOpts::default()))
}

/// StatefulSet update: the create rules; only replicas, ordinals, template, updateStrategy,
/// persistentVolumeClaimRetentionPolicy and minReadySeconds may change.
pub fn stateful_set_update(new: &apps::StatefulSet, old: &apps::StatefulSet) -> ErrorList {
    let ns = new.spec.clone().unwrap_or_default();
    let os = old.spec.clone().unwrap_or_default();
    let mut e = stateful_set_spec(&ns, &p("spec"), &template_opts(Some(&os.template)));
    let mut clone = ns.clone();
    clone.replicas = os.replicas;
    clone.template = os.template.clone();
    clone.update_strategy = os.update_strategy.clone();
    clone.min_ready_seconds = os.min_ready_seconds;
    clone.ordinals = os.ordinals.clone();
    clone.persistent_volume_claim_retention_policy = os.persistent_volume_claim_retention_policy.clone();
    if !sem_eq(&clone, &os) {
        e.push(forbidden(
            &p("spec"),
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ));
    }
    done(e)
}

/// StatefulSet status update: counts non-negative and consistent, collisionCount not
/// decremented.
pub fn stateful_set_status_update(new: &apps::StatefulSet, old: &apps::StatefulSet) -> ErrorList {
    let s = new.status.clone().unwrap_or_default();
    let sp = p("status");
    let (replicas, ready, current, updated, available) = (
        s.replicas,
        s.ready_replicas.unwrap_or(0),
        s.current_replicas.unwrap_or(0),
        s.updated_replicas.unwrap_or(0),
        s.available_replicas.unwrap_or(0),
    );
    let mut e = nonneg(replicas as i64, &sp.child("replicas"));
    e.extend(nonneg(ready as i64, &sp.child("readyReplicas")));
    e.extend(nonneg(current as i64, &sp.child("currentReplicas")));
    e.extend(nonneg(updated as i64, &sp.child("updatedReplicas")));
    e.extend(nonneg(available as i64, &sp.child("availableReplicas")));
    if let Some(g) = s.observed_generation {
        e.extend(nonneg(g, &sp.child("observedGeneration")));
    }
    if let Some(c) = s.collision_count {
        e.extend(nonneg(c as i64, &sp.child("collisionCount")));
    }
    let msg = "cannot be greater than status.replicas";
    if ready > replicas {
        e.push(invalid(&sp.child("readyReplicas"), ready, msg));
    }
    if current > replicas {
        e.push(invalid(&sp.child("currentReplicas"), current, msg));
    }
    if updated > replicas {
        e.push(invalid(&sp.child("updatedReplicas"), updated, msg));
    }
    if available > replicas {
        e.push(invalid(&sp.child("availableReplicas"), available, msg));
    }
    if available > ready {
        e.push(invalid(&sp.child("availableReplicas"), available, "cannot be greater than status.readyReplicas"));
    }
    let oc = old.status.as_ref().and_then(|s| s.collision_count);
    e.extend(collision_decrement(s.collision_count, oc, &sp.child("collisionCount")));
    done(e)
}

// ---------------------------------------------------------------------------------------------
// DaemonSet
// ---------------------------------------------------------------------------------------------

fn daemon_set_spec(spec: &apps::DaemonSetSpec, path: &Path, opts: &PodOpts) -> Errs {
    let mut e = label_selector(Some(&spec.selector), &path.child("selector"), opts.allow_invalid_label_value_in_selector);
    let tl = template_labels(&spec.template);
    if selector_parses(&spec.selector) && !selector_matches(&spec.selector, &tl) && !selector_is_empty(&spec.selector) {
        e.push(invalid(&path.child("template").child("metadata").child("labels"), json(&tl), "`selector` does not match template `labels`"));
    }
    if selector_is_empty(&spec.selector) {
        e.push(invalid(&path.child("selector"), json(&spec.selector), "empty selector is invalid for daemonset"));
    }
    e.extend(validate_pod_template_spec(&spec.template, &path.child("template"), opts));
    e.extend(restart_and_deadline(&spec.template, &path.child("template"), "DaemonSet"));
    e.extend(nonneg(spec.min_ready_seconds.unwrap_or(0) as i64, &path.child("minReadySeconds")));
    let us = spec.update_strategy.clone().unwrap_or_default();
    let up = path.child("updateStrategy");
    match us.type_.as_deref().filter(|s| !s.is_empty()).unwrap_or("RollingUpdate") {
        "OnDelete" => {}
        "RollingUpdate" => {
            let ru = us.rolling_update.clone().unwrap_or_default();
            let rp = up.child("rollingUpdate");
            let mu = ru.max_unavailable.clone().unwrap_or(IntOrString::Int(1));
            let ms = ru.max_surge.clone().unwrap_or(IntOrString::Int(0));
            e.extend(positive_int_or_percent(&mu, &rp.child("maxUnavailable")));
            e.extend(positive_int_or_percent(&ms, &rp.child("maxSurge")));
            e.extend(not_more_than_100_percent(&mu, &rp.child("maxUnavailable")));
            e.extend(not_more_than_100_percent(&ms, &rp.child("maxSurge")));
            let (hu, hs) = (int_or_percent_value(&mu) != 0, int_or_percent_value(&ms) != 0);
            if hu && hs {
                e.push(invalid(&rp.child("maxSurge"), json(&ms), "may not be set when maxUnavailable is non-zero"));
            } else if !hu && !hs {
                e.push(required(&rp.child("maxUnavailable"), "cannot be 0 when maxSurge is 0"));
            }
        }
        _ => e.push(not_supported(&up, json(&us), &["RollingUpdate", "OnDelete"])),
    }
    if let Some(r) = spec.revision_history_limit {
        e.extend(nonneg(r as i64, &path.child("revisionHistoryLimit")));
    }
    e
}

/// DaemonSet create: a valid non-empty selector matching the template labels, a valid pod
/// template (restartPolicy Always, no activeDeadlineSeconds), minReadySeconds, update strategy
/// (exactly one of maxUnavailable/maxSurge non-zero, ≤ 100%), revisionHistoryLimit.
pub fn daemon_set(ds: &apps::DaemonSet) -> ErrorList {
    let spec = ds.spec.clone().unwrap_or_default();
    done(daemon_set_spec(&spec, &p("spec"), &PodOpts::default()))
}

/// DaemonSet update: the create rules, then the immutable selector.
pub fn daemon_set_update(new: &apps::DaemonSet, old: &apps::DaemonSet) -> ErrorList {
    let ns = new.spec.clone().unwrap_or_default();
    let os = old.spec.clone().unwrap_or_default();
    let mut opts = template_opts(Some(&os.template));
    opts.allow_invalid_label_value_in_selector |= selector_has_errors(Some(&os.selector));
    let mut e = daemon_set_spec(&ns, &p("spec"), &opts);
    e.extend(immutable_selector(&ns.selector, &os.selector));
    done(e)
}

/// DaemonSet status update: counts non-negative, collisionCount not decremented.
pub fn daemon_set_status_update(new: &apps::DaemonSet, old: &apps::DaemonSet) -> ErrorList {
    let s = new.status.clone().unwrap_or_default();
    let sp = p("status");
    let mut e = nonneg(s.current_number_scheduled as i64, &sp.child("currentNumberScheduled"));
    e.extend(nonneg(s.number_misscheduled as i64, &sp.child("numberMisscheduled")));
    e.extend(nonneg(s.desired_number_scheduled as i64, &sp.child("desiredNumberScheduled")));
    e.extend(nonneg(s.number_ready as i64, &sp.child("numberReady")));
    e.extend(nonneg(s.observed_generation.unwrap_or(0), &sp.child("observedGeneration")));
    e.extend(nonneg(s.updated_number_scheduled.unwrap_or(0) as i64, &sp.child("updatedNumberScheduled")));
    e.extend(nonneg(s.number_available.unwrap_or(0) as i64, &sp.child("numberAvailable")));
    e.extend(nonneg(s.number_unavailable.unwrap_or(0) as i64, &sp.child("numberUnavailable")));
    if let Some(c) = s.collision_count {
        e.extend(nonneg(c as i64, &sp.child("collisionCount")));
    }
    let oc = old.status.as_ref().and_then(|s| s.collision_count);
    e.extend(collision_decrement(s.collision_count, oc, &sp.child("collisionCount")));
    done(e)
}

// ---------------------------------------------------------------------------------------------
// ControllerRevision
// ---------------------------------------------------------------------------------------------

/// ControllerRevision create: data required, revision ≥ 0.
pub fn controller_revision(cr: &apps::ControllerRevision) -> ErrorList {
    let mut e = Vec::new();
    if cr.data.is_none() {
        e.push(required(&p("data"), "data is mandatory"));
    }
    e.extend(nonneg(cr.revision, &p("revision")));
    done(e)
}

/// ControllerRevision update: the create rules and immutable data.
pub fn controller_revision_update(new: &apps::ControllerRevision, old: &apps::ControllerRevision) -> ErrorList {
    let mut e = controller_revision(new).0;
    e.extend(immutable_sem(&new.data, &old.data, &p("data")));
    done(e)
}
