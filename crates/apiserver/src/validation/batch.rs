//! batch/v1: Jobs and CronJobs, after upstream's `pkg/apis/batch/validation`, including a
//! cron schedule parser with robfig/cron v3's `ParseStandard` error texts and IANA time zone
//! checks.
//!
//! Upstream's job strategy generates the selector and template labels before validation on
//! create (unless `manualSelector`); [`prepare_job_for_create`] reproduces that and callers
//! must apply it (with the object's UID set) before [`job`], as the apiserver does.

use std::collections::BTreeSet;

use apimachinery::field::{ErrorList, Path};
use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;

use super::common::*;
use super::core_pod::{template_opts, validate_pod_template_spec, PodOpts};

const LEGACY_CONTROLLER_UID: &str = "controller-uid";
const LEGACY_JOB_NAME: &str = "job-name";
const CONTROLLER_UID: &str = "batch.kubernetes.io/controller-uid";
const JOB_NAME: &str = "batch.kubernetes.io/job-name";

/// Upstream's job strategy selector generation (`generateSelectorIfNeeded`): unless
/// `manualSelector` is true, template labels get the job name and UID and the selector
/// matches the UID.
pub fn prepare_job_for_create(job: &mut batch::Job) {
    let name = job.metadata.name.clone().unwrap_or_default();
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let Some(spec) = job.spec.as_mut() else { return };
    if spec.manual_selector == Some(true) {
        return;
    }
    let meta = spec.template.metadata.get_or_insert_with(Default::default);
    let labels = meta.labels.get_or_insert_with(Default::default);
    for k in [LEGACY_JOB_NAME, JOB_NAME] {
        labels.entry(k.to_string()).or_insert_with(|| name.clone());
    }
    for k in [LEGACY_CONTROLLER_UID, CONTROLLER_UID] {
        labels.entry(k.to_string()).or_insert_with(|| uid.clone());
    }
    let sel = spec.selector.get_or_insert_with(Default::default);
    sel.match_labels.get_or_insert_with(Default::default).entry(CONTROLLER_UID.to_string()).or_insert(uid);
}

fn has_label(meta: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>, path: &Path, key: &str, expected: &str) -> Errs {
    let labels = meta.and_then(|m| m.labels.clone()).unwrap_or_default();
    let lp = path.child("labels").key(key);
    match labels.get(key) {
        None => vec![required(&lp, &format!("must be '{expected}'"))],
        Some(v) if v != expected => vec![invalid(&lp, json(&labels), format!("must be '{expected}'"))],
        _ => Vec::new(),
    }
}

fn generated_selector(job: &batch::Job, require_prefixed: bool) -> Errs {
    let mut e = Vec::new();
    let spec = job.spec.clone().unwrap_or_default();
    if spec.manual_selector == Some(true) {
        return e;
    }
    let Some(sel) = &spec.selector else { return e };
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let name = job.metadata.name.clone().unwrap_or_default();
    if uid.is_empty() {
        e.push(required(&p("metadata").child("uid"), ""));
    }
    let tm = p("spec").child("template").child("metadata");
    let meta = spec.template.metadata.as_ref();
    e.extend(has_label(meta, &tm, LEGACY_CONTROLLER_UID, &uid));
    e.extend(has_label(meta, &tm, LEGACY_JOB_NAME, &name));
    let mut expected = std::collections::BTreeMap::new();
    if require_prefixed {
        e.extend(has_label(meta, &tm, CONTROLLER_UID, &uid));
        e.extend(has_label(meta, &tm, JOB_NAME, &name));
        expected.insert(CONTROLLER_UID.to_string(), uid.clone());
        expected.insert(JOB_NAME.to_string(), name.clone());
    }
    expected.insert(LEGACY_CONTROLLER_UID.to_string(), uid);
    expected.insert(LEGACY_JOB_NAME.to_string(), name);
    if apimachinery::labels::from_label_selector(sel).is_ok() && !selector_matches(sel, &expected) {
        e.push(invalid(&p("spec").child("selector"), json(sel), "`selector` not auto-generated"));
    }
    e
}

/// Upstream's index-interval parser for `succeededIndexes` / `completedIndexes`.
fn parse_index_interval(s: &str, completions: i32) -> Result<(i32, i32), String> {
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() > 2 {
        return Err(format!("the fragment {s:?} violates the requirement that an index interval can have at most two parts separated by '-'"));
    }
    let parse = |x: &str| -> Result<i64, String> { x.parse::<i64>().map_err(|_| format!("cannot convert string to integer for index: {x:?}")) };
    let x = parse(parts[0])?;
    if x >= completions as i64 {
        return Err(format!("too large index: {:?}", parts[0]));
    }
    if parts.len() > 1 {
        let y = parse(parts[1])?;
        if y >= completions as i64 {
            return Err(format!("too large index: {:?}", parts[1]));
        }
        if x >= y {
            return Err(format!("non-increasing order, previous: {x}, current: {y}"));
        }
        return Ok((x as i32, y as i32));
    }
    Ok((x as i32, x as i32))
}

fn validate_indexes_format(s: &str, completions: i32) -> Result<i32, String> {
    if s.is_empty() {
        return Ok(0);
    }
    let mut last: Option<i32> = None;
    let mut total = 0;
    for interval in s.split(',') {
        let (x, y) = parse_index_interval(interval, completions)?;
        if let Some(l) = last
            && l >= x
        {
            return Err(format!("non-increasing order, previous: {l}, current: {x}"));
        }
        total += y - x + 1;
        last = Some(y);
    }
    Ok(total)
}

fn pod_failure_policy(spec: &batch::JobSpec, path: &Path) -> Errs {
    let mut e = Vec::new();
    let Some(pfp) = &spec.pod_failure_policy else { return e };
    let rp = path.child("rules");
    if pfp.rules.len() > 20 {
        e.push(too_many(&rp, pfp.rules.len(), 20));
    }
    let tspec = spec.template.spec.clone().unwrap_or_default();
    let names: BTreeSet<String> = tspec.containers.iter().chain(sl(&tspec.init_containers)).map(|c| c.name.clone()).collect();
    for (i, rule) in pfp.rules.iter().enumerate() {
        let rule_path = rp.index(i);
        let ap = rule_path.child("action");
        const ACTIONS: &[&str] = &["Count", "FailIndex", "FailJob", "Ignore"];
        if rule.action.is_empty() {
            e.push(required(&ap, "valid values: [\"Count\" \"FailIndex\" \"FailJob\" \"Ignore\"]"));
        } else if rule.action == "FailIndex" {
            if spec.backoff_limit_per_index.is_none() {
                e.push(invalid(&ap, rule.action.as_str(), "requires the backoffLimitPerIndex to be set"));
            }
        } else if !ACTIONS.contains(&rule.action.as_str()) {
            e.push(not_supported(&ap, rule.action.as_str(), ACTIONS));
        }
        if let Some(oe) = &rule.on_exit_codes {
            let op = rule_path.child("onExitCodes");
            let opp = op.child("operator");
            if oe.operator.is_empty() {
                e.push(required(&opp, "valid values: [\"In\" \"NotIn\"]"));
            } else if oe.operator != "In" && oe.operator != "NotIn" {
                e.push(not_supported(&opp, oe.operator.as_str(), &["In", "NotIn"]));
            }
            if let Some(cn) = &oe.container_name
                && !names.contains(cn)
            {
                e.push(invalid(&op.child("containerName"), cn.as_str(), "must be one of the container or initContainer names in the pod template"));
            }
            let vp = op.child("values");
            if oe.values.is_empty() {
                e.push(invalid(&vp, json(&oe.values), "at least one value is required"));
            } else if oe.values.len() > 255 {
                e.push(too_many(&vp, oe.values.len(), 255));
            }
            let mut seen = BTreeSet::new();
            let mut ordered = true;
            for (j, v) in oe.values.iter().enumerate() {
                if oe.operator == "In" && *v == 0 {
                    e.push(invalid(&vp.index(j), *v, "must not be 0 for the In operator"));
                }
                if !seen.insert(*v) {
                    e.push(duplicate(&vp.index(j), *v));
                }
                if j > 0 && oe.values[j - 1] > *v {
                    ordered = false;
                }
            }
            if !ordered {
                e.push(invalid(&vp, json(&oe.values), "must be ordered"));
            }
        }
        let conds = sl(&rule.on_pod_conditions);
        if !conds.is_empty() {
            let cp = rule_path.child("onPodConditions");
            if conds.len() > 20 {
                e.push(too_many(&cp, conds.len(), 20));
            }
            for (j, c) in conds.iter().enumerate() {
                e.extend(qualified_name(&c.type_, &cp.index(j).child("type")));
                let status = if c.status.is_empty() { "True" } else { c.status.as_str() };
                if !["False", "True", "Unknown"].contains(&status) {
                    e.push(not_supported(&cp.index(j).child("status"), status, &["False", "True", "Unknown"]));
                }
            }
        }
        // upstream omits the value in these two errors; the field error type prints null
        if rule.on_exit_codes.is_some() && !conds.is_empty() {
            e.push(invalid(&rule_path, serde_json::Value::Null, "specifying both OnExitCodes and OnPodConditions is not supported"));
        }
        if rule.on_exit_codes.is_none() && conds.is_empty() {
            e.push(invalid(&rule_path, serde_json::Value::Null, "specifying one of OnExitCodes and OnPodConditions is required"));
        }
    }
    e
}

fn success_policy(spec: &batch::JobSpec, path: &Path) -> Errs {
    let mut e = Vec::new();
    let Some(sp) = &spec.success_policy else { return e };
    let rp = path.child("rules");
    if sp.rules.is_empty() {
        e.push(required(&rp, "at least one rules must be specified when the successPolicy is specified"));
    }
    if sp.rules.len() > 20 {
        e.push(too_many(&rp, sp.rules.len(), 20));
    }
    let completions = spec.completions.unwrap_or(0);
    for (i, rule) in sp.rules.iter().enumerate() {
        let rule_path = rp.index(i);
        if rule.succeeded_count.is_none() && rule.succeeded_indexes.is_none() {
            e.push(required(&rule_path, "at least one of succeededCount or succeededIndexes must be specified"));
        }
        let mut total = 0;
        if let Some(si) = &rule.succeeded_indexes {
            let ip = rule_path.child("succeededIndexes");
            if si.len() > 64 * 1024 {
                e.push(too_long(&ip, 64 * 1024));
            }
            match validate_indexes_format(si, completions) {
                Ok(t) => total = t,
                Err(err) => e.push(invalid(&ip, si.as_str(), format!("error parsing succeededIndexes: {err}"))),
            }
        }
        if let Some(sc) = rule.succeeded_count {
            let cp = rule_path.child("succeededCount");
            e.extend(nonneg(sc as i64, &cp));
            if sc > completions {
                e.push(invalid(&cp, sc, format!("must be less than or equal to {completions} (the number of specified completions)")));
            }
            if rule.succeeded_indexes.is_some() && sc > total {
                e.push(invalid(&cp, sc, format!("must be less than or equal to {total} (the number of indexes in the specified succeededIndexes field)")));
            }
        }
    }
    e
}

/// Upstream's `validateJobSpec` (everything but the selector).
fn job_spec_core(spec: &batch::JobSpec, path: &Path, opts: &PodOpts) -> Errs {
    let mut e = Vec::new();
    for (name, v) in [
        ("parallelism", spec.parallelism.map(i64::from)),
        ("completions", spec.completions.map(i64::from)),
        ("activeDeadlineSeconds", spec.active_deadline_seconds),
        ("backoffLimit", spec.backoff_limit.map(i64::from)),
        ("ttlSecondsAfterFinished", spec.ttl_seconds_after_finished.map(i64::from)),
        ("backoffLimitPerIndex", spec.backoff_limit_per_index.map(i64::from)),
    ] {
        if let Some(v) = v {
            e.extend(nonneg(v, &path.child(name)));
        }
    }
    if let Some(m) = spec.max_failed_indexes {
        e.extend(nonneg(m as i64, &path.child("maxFailedIndexes")));
        if spec.backoff_limit_per_index.is_none() {
            e.push(required(&path.child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"));
        }
    }
    if let Some(mb) = &spec.managed_by {
        let mp = path.child("managedBy");
        e.extend(apimachinery::validation::is_domain_prefixed_path(mp.as_str(), mb).into_iter().map(apimachinery::field::FieldError::from));
        if mb.len() > 63 {
            e.push(too_long(&mp, 63));
        }
    }
    let mode = spec.completion_mode.as_deref().unwrap_or("NonIndexed");
    if let Some(cm) = &spec.completion_mode {
        if cm != "NonIndexed" && cm != "Indexed" {
            e.push(not_supported(&path.child("completionMode"), cm.as_str(), &["NonIndexed", "Indexed"]));
        }
        if cm == "Indexed" {
            if spec.completions.is_none() {
                e.push(required(&path.child("completions"), "when completion mode is Indexed"));
            }
            if let Some(par) = spec.parallelism
                && par > 100_000
            {
                e.push(invalid(&path.child("parallelism"), par, "must be less than or equal to 100000 when completion mode is Indexed"));
            }
            if let (Some(c), Some(m)) = (spec.completions, spec.max_failed_indexes)
                && m > c
            {
                e.push(invalid(&path.child("maxFailedIndexes"), m, "must be less than or equal to completions"));
            }
            if let Some(m) = spec.max_failed_indexes
                && m > 100_000
            {
                e.push(invalid(&path.child("maxFailedIndexes"), m, "must be less than or equal to 100000"));
            }
            if spec.completions.is_some_and(|c| c > 100_000) && spec.backoff_limit_per_index.is_some() {
                if spec.max_failed_indexes.is_none() {
                    e.push(required(&path.child("maxFailedIndexes"), "must be specified when completions is above 100000"));
                }
                if let Some(par) = spec.parallelism
                    && par > 10_000
                {
                    e.push(invalid(&path.child("parallelism"), par, "must be less than or equal to 10000 when completions are above 100000 and used with backoff limit per index"));
                }
                if let Some(m) = spec.max_failed_indexes
                    && m > 10_000
                {
                    e.push(invalid(&path.child("maxFailedIndexes"), m, "must be less than or equal to 10000 when completions are above 100000 and used with backoff limit per index"));
                }
            }
        }
    }
    if mode == "NonIndexed" {
        if let Some(b) = spec.backoff_limit_per_index {
            e.push(invalid(&path.child("backoffLimitPerIndex"), b, "requires indexed completion mode"));
        }
        if let Some(m) = spec.max_failed_indexes {
            e.push(invalid(&path.child("maxFailedIndexes"), m, "requires indexed completion mode"));
        }
    }
    e.extend(pod_failure_policy(spec, &path.child("podFailurePolicy")));
    if let Some(sp) = &spec.success_policy {
        if mode != "Indexed" {
            e.push(invalid(&path.child("successPolicy"), json(sp), "requires indexed completion mode"));
        } else {
            e.extend(success_policy(spec, &path.child("successPolicy")));
        }
    }
    if let Some(rp) = &spec.pod_replacement_policy {
        let pp = path.child("podReplacementPolicy");
        if spec.pod_failure_policy.is_some() {
            if rp != "Failed" {
                e.push(not_supported(&pp, rp.as_str(), &["Failed"]));
            }
        } else if rp != "Failed" && rp != "TerminatingOrFailed" {
            e.push(not_supported(&pp, rp.as_str(), &["Failed", "TerminatingOrFailed"]));
        }
    }
    let tp = path.child("template");
    e.extend(validate_pod_template_spec(&spec.template, &tp, opts));
    let restart = spec.template.spec.as_ref().and_then(|s| s.restart_policy.clone()).unwrap_or_default();
    let rp = tp.child("spec").child("restartPolicy");
    if restart == "Always" || restart.is_empty() {
        e.push(required(&rp, "valid values: \"OnFailure\", \"Never\""));
    } else if restart != "OnFailure" && restart != "Never" {
        e.push(not_supported(&rp, restart.as_str(), &["OnFailure", "Never"]));
    } else if spec.pod_failure_policy.is_some() && restart != "Never" {
        e.push(invalid(&rp, restart.as_str(), "only \"Never\" is supported when podFailurePolicy is specified"));
    }
    e
}

fn job_spec(spec: &batch::JobSpec, path: &Path, opts: &PodOpts) -> Errs {
    let mut e = job_spec_core(spec, path, opts);
    match &spec.selector {
        None => e.push(required(&path.child("selector"), "")),
        Some(sel) => e.extend(label_selector(Some(sel), &path.child("selector"), opts.allow_invalid_label_value_in_selector)),
    }
    let sel = spec.selector.clone();
    if let Some(sel) = &sel
        && apimachinery::labels::from_label_selector(sel).is_ok()
    {
        let tl = spec.template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
        if !selector_matches(sel, &tl) && !selector_is_empty(sel) {
            e.push(invalid(&path.child("template").child("metadata").child("labels"), json(&tl), "`selector` does not match template `labels`"));
        }
    } else if sel.is_none() {
        // a nil selector selects nothing upstream, so it never matches the template labels
        let tl = spec.template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
        e.push(invalid(&path.child("template").child("metadata").child("labels"), json(&tl), "`selector` does not match template `labels`"));
    }
    e
}

fn job_errs(j: &batch::Job, opts: &PodOpts, require_prefixed: bool) -> Errs {
    let spec = j.spec.clone().unwrap_or_default();
    let mut e = generated_selector(j, require_prefixed);
    e.extend(job_spec(&spec, &p("spec"), opts));
    if spec.completion_mode.as_deref() == Some("Indexed")
        && let Some(c) = spec.completions
        && c > 0
    {
        let name = j.metadata.name.clone().unwrap_or_default();
        let host = format!("{name}-{}", c - 1);
        if !apimachinery::validation::is_dns1123_label(&host).is_empty() {
            e.push(invalid(&p("metadata").child("name"), name.as_str(), format!("will not able to create pod with invalid DNS label: {host}")));
        }
    }
    e
}

/// Job create (upstream's `ValidateJob` without object metadata): the generated selector and
/// labels (call [`prepare_job_for_create`] first), counts ≥ 0, completion mode rules,
/// backoffLimitPerIndex/maxFailedIndexes, managedBy, podFailurePolicy, successPolicy,
/// podReplacementPolicy, the pod template (restartPolicy OnFailure or Never), the selector
/// matching the template labels, and the Indexed-job pod hostname length.
pub fn job(j: &batch::Job) -> ErrorList {
    done(job_errs(j, &PodOpts::default(), true))
}

fn job_immutable_template(new: &core::PodTemplateSpec, old: &core::PodTemplateSpec, mutable_scheduling: bool, path: &Path) -> Errs {
    let mut old = old.clone();
    if mutable_scheduling {
        let ns = new.spec.clone().unwrap_or_default();
        let os = old.spec.get_or_insert_with(Default::default);
        match (&ns.affinity, &mut os.affinity) {
            (None, Some(a)) => {
                a.node_affinity = None;
                if sem_json(a).is_null() {
                    os.affinity = None;
                }
            }
            (Some(na), None) => os.affinity = Some(core::Affinity { node_affinity: na.node_affinity.clone(), ..Default::default() }),
            (Some(na), Some(oa)) => oa.node_affinity = na.node_affinity.clone(),
            (None, None) => {}
        }
        os.node_selector = ns.node_selector.clone();
        os.tolerations = ns.tolerations.clone();
        os.scheduling_gates = ns.scheduling_gates.clone();
        let nm = new.metadata.clone().unwrap_or_default();
        let om = old.metadata.get_or_insert_with(Default::default);
        om.annotations = nm.annotations.clone();
        om.labels = nm.labels.clone();
    }
    immutable_sem(new, &old, path)
}

/// Job update: the spec rules, then upstream's immutability: completions (Indexed jobs may
/// change it together with parallelism), selector, template (scheduling directives, labels and
/// annotations mutable while suspended and never started), completionMode, podFailurePolicy,
/// backoffLimitPerIndex, managedBy, successPolicy.
pub fn job_update(new: &batch::Job, old: &batch::Job) -> ErrorList {
    let ns = new.spec.clone().unwrap_or_default();
    let os = old.spec.clone().unwrap_or_default();
    let mut opts = template_opts(Some(&os.template));
    opts.allow_invalid_label_value_in_selector |= selector_has_errors(os.selector.as_ref());
    let path = p("spec");
    let mut e = job_spec(&ns, &path, &opts);
    let cp = path.child("completions");
    if ns.completion_mode.as_deref() == Some("Indexed") {
        if ns.completions != os.completions
            && let Some(c) = ns.completions
            && Some(c) != ns.parallelism
        {
            e.push(invalid(&cp, c, "can only be modified in tandem with spec.parallelism"));
        }
    } else {
        e.extend(immutable(&ns.completions, &os.completions, &cp));
    }
    e.extend(immutable_sem(&ns.selector, &os.selector, &path.child("selector")));
    let suspended = os.suspend == Some(true);
    let not_started = old.status.as_ref().and_then(|s| s.start_time.as_ref()).is_none();
    e.extend(job_immutable_template(&ns.template, &os.template, suspended && not_started, &path.child("template")));
    e.extend(immutable(&ns.completion_mode, &os.completion_mode, &path.child("completionMode")));
    e.extend(immutable_sem(&ns.pod_failure_policy, &os.pod_failure_policy, &path.child("podFailurePolicy")));
    e.extend(immutable(&ns.backoff_limit_per_index, &os.backoff_limit_per_index, &path.child("backoffLimitPerIndex")));
    e.extend(immutable(&ns.managed_by, &os.managed_by, &path.child("managedBy")));
    e.extend(immutable_sem(&ns.success_policy, &os.success_policy, &path.child("successPolicy")));
    done(e)
}

/// Job status update: counts ≥ 0 and uncounted terminated pod UIDs non-empty and unique
/// (upstream's feature-dependent consistency checks between conditions, times and indexes
/// are not covered).
pub fn job_status_update(new: &batch::Job, _old: &batch::Job) -> ErrorList {
    let s = new.status.clone().unwrap_or_default();
    let sp = p("status");
    let mut e = nonneg(s.active.unwrap_or(0) as i64, &sp.child("active"));
    e.extend(nonneg(s.succeeded.unwrap_or(0) as i64, &sp.child("succeeded")));
    e.extend(nonneg(s.failed.unwrap_or(0) as i64, &sp.child("failed")));
    if let Some(r) = s.ready {
        e.extend(nonneg(r as i64, &sp.child("ready")));
    }
    if let Some(t) = s.terminating {
        e.extend(nonneg(t as i64, &sp.child("terminating")));
    }
    if let Some(u) = &s.uncounted_terminated_pods {
        let up = sp.child("uncountedTerminatedPods");
        let mut seen = BTreeSet::new();
        for (name, list) in [("succeeded", &u.succeeded), ("failed", &u.failed)] {
            for (i, k) in sl(list).iter().enumerate() {
                let ip = up.child(name).index(i);
                if k.is_empty() {
                    e.push(invalid(&ip, "", "must not be empty"));
                } else if !seen.insert(k.clone()) {
                    e.push(duplicate(&ip, k.as_str()));
                }
            }
        }
    }
    done(e)
}

// ---------------------------------------------------------------------------------------------
// cron schedules
// ---------------------------------------------------------------------------------------------

struct Bounds {
    min: u64,
    max: u64,
    names: &'static [(&'static str, u64)],
}

const MINUTES: Bounds = Bounds { min: 0, max: 59, names: &[] };
const HOURS: Bounds = Bounds { min: 0, max: 23, names: &[] };
const DOM: Bounds = Bounds { min: 1, max: 31, names: &[] };
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
const DOW: Bounds = Bounds { min: 0, max: 6, names: &[("sun", 0), ("mon", 1), ("tue", 2), ("wed", 3), ("thu", 4), ("fri", 5), ("sat", 6)] };

/// Go's `strconv.Atoi` error text.
fn atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {s:?}: invalid syntax"));
    }
    s.parse::<i64>().map_err(|_| format!("strconv.Atoi: parsing {s:?}: value out of range"))
}

fn must_parse_int(expr: &str) -> Result<u64, String> {
    let n = atoi(expr).map_err(|e| format!("failed to parse int from {expr}: {e}"))?;
    if n < 0 {
        return Err(format!("negative number ({n}) not allowed: {expr}"));
    }
    Ok(n as u64)
}

fn parse_int_or_name(expr: &str, b: &Bounds) -> Result<u64, String> {
    let lower = expr.to_lowercase();
    if let Some((_, v)) = b.names.iter().find(|(n, _)| *n == lower) {
        return Ok(*v);
    }
    must_parse_int(expr)
}

fn cron_range(expr: &str, b: &Bounds) -> Result<(), String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_high.len() == 1;
    let (start, mut end);
    if low_high[0] == "*" || low_high[0] == "?" {
        start = b.min;
        end = b.max;
    } else {
        start = parse_int_or_name(low_high[0], b)?;
        end = match low_high.len() {
            1 => start,
            2 => parse_int_or_name(low_high[1], b)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
    }
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let s = must_parse_int(range_and_step[1])?;
            if single {
                end = b.max;
            }
            s
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < b.min {
        return Err(format!("beginning of range ({start}) below minimum ({}): {expr}", b.min));
    }
    if end > b.max {
        return Err(format!("end of range ({end}) above maximum ({}): {expr}", b.max));
    }
    if start > end {
        return Err(format!("beginning of range ({start}) beyond end of range ({end}): {expr}"));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(())
}

/// Go's `time.ParseDuration` acceptance (for `@every`).
fn go_duration_ok(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    if s == "0" {
        return true;
    }
    if s.is_empty() {
        return false;
    }
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
        if num_len == 0 || rest[..num_len] == *"." {
            return false;
        }
        rest = &rest[num_len..];
        let unit_len = rest.bytes().take_while(|b| !b.is_ascii_digit() && *b != b'.').count();
        if !["ns", "us", "µs", "μs", "ms", "s", "m", "h"].contains(&&rest[..unit_len]) {
            return false;
        }
        rest = &rest[unit_len..];
    }
    true
}

/// Parses a cron schedule as robfig/cron v3's `ParseStandard` and returns its error text.
pub fn parse_cron_schedule(spec: &str) -> Result<(), String> {
    if spec.is_empty() {
        return Err("empty spec string".to_string());
    }
    let mut spec = spec;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        let eq = spec.find('=').unwrap_or(0);
        let sp = spec.find(' ').unwrap_or(spec.len());
        let loc = &spec[eq + 1..sp.max(eq + 1)];
        if load_location(loc).is_err() {
            return Err(format!("provided bad location {loc}: unknown time zone {loc}"));
        }
        spec = spec[sp..].trim();
    }
    if let Some(desc) = spec.strip_prefix('@') {
        return match desc {
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly" => Ok(()),
            _ => {
                if let Some(d) = spec.strip_prefix("@every ") {
                    if go_duration_ok(d) { Ok(()) } else { Err(format!("failed to parse duration {spec}: time: invalid duration {d:?}")) }
                } else {
                    Err(format!("unrecognized descriptor: {spec}"))
                }
            }
        };
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!("expected exactly 5 fields, found {}: [{}]", fields.len(), fields.join(" ")));
    }
    for (f, b) in fields.iter().zip([&MINUTES, &HOURS, &DOM, &MONTHS, &DOW]) {
        for expr in f.split(',').filter(|x| !x.is_empty()) {
            cron_range(expr, b)?;
        }
    }
    Ok(())
}

/// Go's `time.LoadLocation` for names (the IANA database).
fn load_location(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "UTC" || name == "Local" {
        return Ok(());
    }
    match k8s_openapi::jiff::tz::db().get(name) {
        Ok(_) => Ok(()),
        Err(_) => Err(format!("unknown time zone {name}")),
    }
}

fn time_zone(tz: Option<&String>, path: &Path) -> Errs {
    let Some(tz) = tz else { return Vec::new() };
    if tz.is_empty() {
        return vec![invalid(path, "", "timeZone must be nil or non-empty string")];
    }
    let part_ok = |p: &str| {
        !(p == "." || p == ".." || p.starts_with('-'))
            && (1..=14).contains(&p.len())
            && p.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b))
    };
    if !tz.split('/').all(part_ok) {
        return vec![invalid(path, tz.as_str(), format!("unknown time zone {tz}"))];
    }
    let mut e = Vec::new();
    if tz.eq_ignore_ascii_case("Local") {
        e.push(invalid(path, tz.as_str(), "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"));
    }
    if let Err(err) = load_location(tz) {
        e.push(invalid(path, tz.as_str(), err));
    }
    e
}

/// Upstream's `ValidateJobTemplateSpec`.
fn job_template_spec(t: &batch::JobTemplateSpec, path: &Path, opts: &PodOpts) -> Errs {
    let spec = t.spec.clone().unwrap_or_default();
    let sp = path.child("spec");
    let mut e = job_spec_core(&spec, &sp, opts);
    if let Some(sel) = &spec.selector {
        e.push(invalid(&sp.child("selector"), json(sel), "`selector` will be auto-generated"));
    }
    if spec.manual_selector == Some(true) {
        e.push(not_supported(&sp.child("manualSelector"), true, &["nil", "false"]));
    }
    e
}

fn cron_job_spec(spec: &batch::CronJobSpec, old: Option<&batch::CronJobSpec>, path: &Path, opts: &PodOpts) -> Errs {
    let mut e = Vec::new();
    let sched_path = path.child("schedule");
    if spec.schedule.is_empty() {
        e.push(required(&sched_path, ""));
    } else {
        let allow_tz = old.is_some_and(|o| o.schedule.contains("TZ"));
        if let Err(err) = parse_cron_schedule(&spec.schedule) {
            e.push(invalid(&sched_path, spec.schedule.as_str(), err));
        }
        if allow_tz && spec.schedule.contains("TZ") && spec.time_zone.is_some() {
            e.push(invalid(&sched_path, spec.schedule.as_str(), "cannot use both timeZone field and TZ or CRON_TZ in schedule"));
        } else if !allow_tz && spec.schedule.contains("TZ") {
            e.push(invalid(&sched_path, spec.schedule.as_str(), "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"));
        }
    }
    if let Some(s) = spec.starting_deadline_seconds {
        e.extend(nonneg(s, &path.child("startingDeadlineSeconds")));
    }
    if old.is_none_or(|o| o.time_zone != spec.time_zone) {
        e.extend(time_zone(spec.time_zone.as_ref(), &path.child("timeZone")));
    }
    let cp = spec.concurrency_policy.as_deref().filter(|s| !s.is_empty()).unwrap_or("Allow");
    if !["Allow", "Forbid", "Replace"].contains(&cp) {
        e.push(not_supported(&path.child("concurrencyPolicy"), cp, &["Allow", "Forbid", "Replace"]));
    }
    e.extend(job_template_spec(&spec.job_template, &path.child("jobTemplate"), opts));
    if let Some(l) = spec.successful_jobs_history_limit {
        e.extend(nonneg(l as i64, &path.child("successfulJobsHistoryLimit")));
    }
    if let Some(l) = spec.failed_jobs_history_limit {
        e.extend(nonneg(l as i64, &path.child("failedJobsHistoryLimit")));
    }
    e
}

/// CronJob create: schedule (robfig/cron standard syntax, no TZ=), startingDeadlineSeconds,
/// timeZone (IANA name), concurrencyPolicy, the job template (as a job spec, without a
/// selector), history limits, and the name length (≤ 52, for generated job names).
pub fn cron_job(cj: &batch::CronJob) -> ErrorList {
    let spec = cj.spec.clone().unwrap_or_default();
    let mut e = cron_job_spec(&spec, None, &p("spec"), &PodOpts::default());
    let name = cj.metadata.name.clone().unwrap_or_default();
    if name.len() > 63 - 11 {
        e.push(invalid(&p("metadata").child("name"), name.as_str(), "must be no more than 52 characters"));
    }
    done(e)
}

/// CronJob update: the spec rules (TZ= in the schedule tolerated if the old one had it; the
/// time zone only rechecked when changed); no immutable fields.
pub fn cron_job_update(new: &batch::CronJob, old: &batch::CronJob) -> ErrorList {
    let ns = new.spec.clone().unwrap_or_default();
    let os = old.spec.clone().unwrap_or_default();
    let opts = template_opts(os.job_template.spec.as_ref().map(|s| &s.template));
    done(cron_job_spec(&ns, Some(&os), &p("spec"), &opts))
}

/// CronJob status update: upstream validates nothing beyond metadata.
pub fn cron_job_status_update(_new: &batch::CronJob, _old: &batch::CronJob) -> ErrorList {
    done(Vec::new())
}
