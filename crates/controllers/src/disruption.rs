//! The disruption controller (`disruption-controller`): keeps every PodDisruptionBudget's status
//! (expectedPods, desiredHealthy, currentHealthy, disruptionsAllowed, observedGeneration, the
//! `DisruptionAllowed` condition with `SufficientPods`/`InsufficientPods`, and the
//! `disruptedPods` the eviction subresource records, dropped once deleted or two minutes old).
//!
//! `minAvailable` as a number counts the selected pods; `maxUnavailable` and percentages count
//! the replicas their controllers want, read through the scale subresource of each pod's
//! controller (a ReplicaSet owned by a Deployment counts as the Deployment), as upstream.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, OwnerReference, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, DynamicObject, PostParams};

use crate::stores::{self, Wake};

/// How long an entry of `status.disruptedPods` waits for its pod's deletion.
pub const DELETION_TIMEOUT: Duration = Duration::from_secs(120);

/// A count or a percentage scaled against `total`, rounded up (upstream's
/// GetScaledValueFromIntOrPercent with roundUp).
pub fn scaled(v: &IntOrString, total: i32) -> Result<i32, String> {
    match v {
        IntOrString::Int(i) => Ok(*i),
        IntOrString::String(s) => {
            let pct: i64 = s.strip_suffix('%').and_then(|p| p.parse().ok()).ok_or_else(|| format!("invalid value for IntOrString: invalid value {s:?}"))?;
            Ok(((pct * i64::from(total) + 99) / 100) as i32)
        }
    }
}

/// (expectedPods, desiredHealthy) of a budget; `expected_scale` is the sum of the controllers'
/// wanted replicas (asked only when needed), `pods` the number of selected pods.
pub fn expected_and_desired(pdb: &PodDisruptionBudget, pods: i32, expected_scale: &mut dyn FnMut() -> Result<i32, String>) -> Result<(i32, i32), String> {
    let spec = pdb.spec.clone().unwrap_or_default();
    if let Some(max) = &spec.max_unavailable {
        let expected = expected_scale()?;
        let max = scaled(max, expected)?;
        return Ok((expected, (expected - max).max(0)));
    }
    match &spec.min_available {
        Some(IntOrString::Int(i)) => Ok((pods, *i)),
        Some(v @ IntOrString::String(_)) => {
            let expected = expected_scale()?;
            Ok((expected, scaled(v, expected)?))
        }
        None => Ok((0, 0)),
    }
}

/// How many disruptions are allowed.
pub fn disruptions_allowed(expected: i32, desired: i32, healthy: i32) -> i32 {
    if expected <= 0 { 0 } else { (healthy - desired).max(0) }
}

/// The `DisruptionAllowed` condition for the computed status.
pub fn allowed_condition(allowed: i32, generation: i64, prev: Option<&Condition>) -> Condition {
    let (status, reason) = if allowed > 0 { ("True", "SufficientPods") } else { ("False", "InsufficientPods") };
    condition(status, reason, String::new(), generation, prev)
}

fn condition(status: &str, reason: &str, message: String, generation: i64, prev: Option<&Condition>) -> Condition {
    let since = match prev {
        Some(p) if p.status == status => p.last_transition_time.clone(),
        _ => stores::now(),
    };
    Condition { type_: "DisruptionAllowed".into(), status: status.into(), reason: reason.into(), message, observed_generation: Some(generation), last_transition_time: since }
}

/// Counts the healthy pods (Ready, not being deleted, not in `disrupted`) and keeps the
/// `disrupted` entries still waiting for their pod's deletion; returns (healthy, kept, the
/// earliest time a kept entry expires).
pub fn count_healthy(pods: &[&Pod], disrupted: &BTreeMap<String, Time>, now: jiff::Timestamp) -> (i32, BTreeMap<String, Time>, Option<jiff::Timestamp>) {
    let mut kept = BTreeMap::new();
    let mut next: Option<jiff::Timestamp> = None;
    let mut healthy = 0;
    let timeout = jiff::SignedDuration::try_from(DELETION_TIMEOUT).unwrap_or(jiff::SignedDuration::from_secs(120));
    for pod in pods {
        if pod.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let name = pod.metadata.name.clone().unwrap_or_default();
        if let Some(t) = disrupted.get(&name) {
            let expires = t.0.checked_add(timeout).unwrap_or(t.0);
            if expires > now {
                kept.insert(name, t.clone());
                next = Some(next.map_or(expires, |n| n.min(expires)));
                continue;
            }
        }
        if stores::pod_ready(pod) {
            healthy += 1;
        }
    }
    (healthy, kept, next)
}

fn controller_of(pod: &Pod) -> Option<&OwnerReference> {
    pod.metadata.owner_references.as_ref()?.iter().find(|o| o.controller == Some(true))
}


struct Ctl {
    client: kube::Client,
    rec: kube::runtime::events::Recorder,
}

impl Ctl {
    /// The wanted replicas of a pod's controller: (controller uid, replicas).
    async fn scale_of(&self, ns: &str, owner: &OwnerReference) -> Result<Option<(String, i32)>, String> {
        let mut owner = owner.clone();
        if owner.kind == "ReplicaSet" && owner.api_version == "apps/v1" {
            let rss: Api<ReplicaSet> = Api::namespaced(self.client.clone(), ns);
            match rss.get(&owner.name).await {
                Ok(rs) if rs.metadata.uid.as_deref() == Some(owner.uid.as_str()) => {
                    if let Some(d) = rs.metadata.owner_references.as_ref().and_then(|o| o.iter().find(|o| o.controller == Some(true) && o.kind == "Deployment")) {
                        owner = d.clone();
                    }
                }
                Ok(_) => return Ok(None),
                Err(e) if stores::not_found(&e) => return Ok(None),
                Err(e) => return Err(e.to_string()),
            }
        }
        let ar = match crate::stores::scalable_resource(&owner.api_version, &owner.kind) {
            Some(ar) => ar,
            None => {
                let (group, version) = owner.api_version.split_once('/').unwrap_or(("", owner.api_version.as_str()));
                let gvk = kube::api::GroupVersionKind::gvk(group, version, &owner.kind);
                match kube::discovery::pinned_kind(&self.client, &gvk).await {
                    Ok((ar, _)) => ar,
                    Err(_) => return Ok(None),
                }
            }
        };
        let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), ns, &ar);
        match api.get_scale(&owner.name).await {
            Ok(s) => {
                let uid_ok = s.metadata.uid.as_deref().is_none_or(|u| u == owner.uid);
                Ok(uid_ok.then(|| (owner.uid.clone(), s.spec.and_then(|s| s.replicas).unwrap_or(0))))
            }
            Err(e) if stores::not_found(&e) => Ok(None),
            Err(kube::Error::Api(e)) if e.code == 405 || e.code == 403 => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The expected scale of the pods' controllers (upstream's getExpectedScale).
    async fn expected_scale(&self, pdb: &PodDisruptionBudget, pods: &[&Pod]) -> Result<i32, String> {
        let ns = pdb.metadata.namespace.clone().unwrap_or_default();
        let mut scales: BTreeMap<String, i32> = BTreeMap::new();
        let mut seen_refs: BTreeMap<String, String> = BTreeMap::new();
        for pod in pods {
            let name = pod.metadata.name.clone().unwrap_or_default();
            let Some(owner) = controller_of(pod) else {
                let msg = format!("found no controller ref for pod {name:?}");
                stores::event(&self.rec, pdb, true, "NoControllerRef", msg.clone()).await;
                return Err(msg);
            };
            if seen_refs.contains_key(&owner.uid) {
                continue;
            }
            match self.scale_of(&ns, owner).await? {
                Some((uid, replicas)) => {
                    seen_refs.insert(owner.uid.clone(), uid.clone());
                    scales.insert(uid, replicas);
                }
                None => {
                    let msg = format!("found no controllers for pod {name:?}");
                    stores::event(&self.rec, pdb, true, "NoControllers", msg.clone()).await;
                    return Err(msg);
                }
            }
        }
        Ok(scales.values().sum())
    }

    async fn sync(&self, pdb: &PodDisruptionBudget, all_pods: &[std::sync::Arc<Pod>]) -> Result<Option<Duration>, kube::Error> {
        let ns = pdb.metadata.namespace.clone().unwrap_or_default();
        let name = pdb.metadata.name.clone().unwrap_or_default();
        let generation = pdb.metadata.generation.unwrap_or(0);
        let selector = pdb.spec.as_ref().and_then(|s| s.selector.as_ref()).map(apimachinery::labels::from_label_selector);
        let pods: Vec<&Pod> = match selector {
            Some(Ok(sel)) => all_pods
                .iter()
                .map(|p| p.as_ref())
                .filter(|p| p.metadata.namespace.as_deref() == Some(ns.as_str()) && sel.matches(&p.metadata.labels.clone().unwrap_or_default()))
                .collect(),
            _ => Vec::new(),
        };
        if pods.is_empty() {
            stores::event(&self.rec, pdb, false, "NoPods", "No matching pods found".into()).await;
        }
        let prev = pdb.status.clone().unwrap_or_default();
        let prev_cond = prev.conditions.as_ref().and_then(|c| c.iter().find(|c| c.type_ == "DisruptionAllowed"));
        let pod_count = pods.len() as i32;
        let counted = if needs_scale(pdb) && !pods.is_empty() { self.expected_scale(pdb, &pods).await } else { Ok(0) };
        let result = expected_and_desired(pdb, pod_count, &mut || counted.clone());
        let disrupted = prev.disrupted_pods.clone().unwrap_or_default();
        let (healthy, kept, next_expiry) = count_healthy(&pods, &disrupted, jiff::Timestamp::now());
        let status = match result {
            Ok((expected, desired)) => {
                let allowed = disruptions_allowed(expected, desired, healthy);
                PodDisruptionBudgetStatus {
                    current_healthy: healthy,
                    desired_healthy: desired,
                    expected_pods: expected,
                    disruptions_allowed: allowed,
                    observed_generation: Some(generation),
                    disrupted_pods: (!kept.is_empty()).then_some(kept),
                    conditions: Some(vec![allowed_condition(allowed, generation, prev_cond)]),
                }
            }
            Err(msg) => PodDisruptionBudgetStatus {
                current_healthy: healthy,
                desired_healthy: prev.desired_healthy,
                expected_pods: prev.expected_pods,
                disruptions_allowed: 0,
                observed_generation: Some(generation),
                disrupted_pods: (!kept.is_empty()).then_some(kept),
                conditions: Some(vec![condition("False", "SyncFailed", msg, generation, prev_cond)]),
            },
        };
        if status != prev {
            let mut next = pdb.clone();
            next.status = Some(status);
            let api: Api<PodDisruptionBudget> = Api::namespaced(self.client.clone(), &ns);
            api.replace_status(&name, &PostParams::default(), &next).await?;
        }
        let recheck = next_expiry.map(|t| Duration::try_from(t.duration_since(jiff::Timestamp::now())).unwrap_or(Duration::ZERO) + Duration::from_millis(100));
        // a failed scale lookup is retried
        Ok(if counted.is_err() { Some(recheck.map_or(Duration::from_secs(5), |r| r.min(Duration::from_secs(5)))) } else { recheck })
    }
}

fn needs_scale(pdb: &PodDisruptionBudget) -> bool {
    let spec = pdb.spec.clone().unwrap_or_default();
    spec.max_unavailable.is_some() || matches!(spec.min_available, Some(IntOrString::String(_)))
}

/// Runs the disruption controller until the process ends.
pub async fn run(informers: stores::Informers, client: kube::Client) {
    let wake = Wake::new();
    let pdbs = informers.watch::<PodDisruptionBudget>(&wake);
    let pods = informers.subscribe::<Pod, _>(stores::wake_in_namespaces_of(&wake, &pdbs, |_| true));
    // the workloads' scale changes change expectedPods
    let _deploys = informers.subscribe::<k8s_openapi::api::apps::v1::Deployment, _>(stores::wake_in_namespaces_of(&wake, &pdbs, |_| true));
    let _rss = informers.subscribe::<ReplicaSet, _>(stores::wake_in_namespaces_of(&wake, &pdbs, |_| true));
    let _sts = informers.subscribe::<k8s_openapi::api::apps::v1::StatefulSet, _>(stores::wake_in_namespaces_of(&wake, &pdbs, |_| true));
    stores::ready(&pdbs).await;
    stores::ready(&pods).await;
    let ctl = Ctl { rec: stores::recorder(&client, "controllermanager"), client };
    loop {
        let budgets = pdbs.state();
        let all_pods = if budgets.is_empty() { Vec::new() } else { pods.state() };
        let mut timeout = Duration::from_secs(30);
        for pdb in budgets {
            if pdb.metadata.deletion_timestamp.is_some() {
                continue;
            }
            match ctl.sync(&pdb, &all_pods).await {
                Ok(Some(t)) => timeout = timeout.min(t),
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!(pdb = %stores::key(pdb.as_ref()), error = %e, "pdb status");
                    timeout = timeout.min(Duration::from_secs(1));
                }
            }
        }
        wake.wait(timeout, Duration::from_millis(20)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::policy::v1::PodDisruptionBudgetSpec;

    fn pdb(min: Option<IntOrString>, max: Option<IntOrString>) -> PodDisruptionBudget {
        PodDisruptionBudget { spec: Some(PodDisruptionBudgetSpec { min_available: min, max_unavailable: max, ..Default::default() }), ..Default::default() }
    }

    #[test]
    fn percentages_round_up() {
        assert_eq!(scaled(&IntOrString::String("50%".into()), 3), Ok(2));
        assert_eq!(scaled(&IntOrString::String("10%".into()), 10), Ok(1));
        assert_eq!(scaled(&IntOrString::String("0%".into()), 10), Ok(0));
        assert_eq!(scaled(&IntOrString::Int(2), 10), Ok(2));
        assert!(scaled(&IntOrString::String("x".into()), 10).is_err());
    }

    #[test]
    fn budget_arithmetic() {
        let mut scale = || Ok(4);
        // minAvailable: 2 of 3 selected pods
        assert_eq!(expected_and_desired(&pdb(Some(IntOrString::Int(2)), None), 3, &mut scale), Ok((3, 2)));
        // minAvailable 50% of 4 wanted replicas
        assert_eq!(expected_and_desired(&pdb(Some(IntOrString::String("50%".into())), None), 3, &mut scale), Ok((4, 2)));
        // maxUnavailable 1 of 4
        assert_eq!(expected_and_desired(&pdb(None, Some(IntOrString::Int(1))), 3, &mut scale), Ok((4, 3)));
        // maxUnavailable 25% of 4 → 1
        assert_eq!(expected_and_desired(&pdb(None, Some(IntOrString::String("25%".into()))), 3, &mut scale), Ok((4, 3)));
        // maxUnavailable larger than the scale: no healthy pod needed
        assert_eq!(expected_and_desired(&pdb(None, Some(IntOrString::Int(9))), 3, &mut scale), Ok((4, 0)));
        let mut failing = || Err("found no controllers for pod \"p\"".to_string());
        assert!(expected_and_desired(&pdb(None, Some(IntOrString::Int(1))), 3, &mut failing).is_err());
        assert_eq!(disruptions_allowed(3, 2, 3), 1);
        assert_eq!(disruptions_allowed(3, 2, 1), 0);
        assert_eq!(disruptions_allowed(0, 0, 0), 0);
        assert_eq!(allowed_condition(1, 2, None).reason, "SufficientPods");
        let c = allowed_condition(0, 2, None);
        assert_eq!((c.status.as_str(), c.reason.as_str(), c.observed_generation), ("False", "InsufficientPods", Some(2)));
    }

    #[test]
    fn healthy_pods_and_disrupted_entries() {
        let mk = |name: &str, ready: bool| {
            let mut p = Pod::default();
            p.metadata.name = Some(name.into());
            p.status = Some(k8s_openapi::api::core::v1::PodStatus {
                conditions: Some(vec![k8s_openapi::api::core::v1::PodCondition { type_: "Ready".into(), status: if ready { "True" } else { "False" }.into(), ..Default::default() }]),
                ..Default::default()
            });
            p
        };
        let (a, b, c) = (mk("a", true), mk("b", true), mk("c", false));
        let mut d = mk("d", true);
        d.metadata.deletion_timestamp = Some(stores::now());
        let now = jiff::Timestamp::now();
        let recent = Time(now);
        let old = Time(now.checked_sub(jiff::SignedDuration::from_secs(300)).unwrap());
        let disrupted: BTreeMap<String, Time> = [("b".to_string(), recent), ("a".to_string(), old), ("gone".to_string(), stores::now())].into();
        let (healthy, kept, next) = count_healthy(&[&a, &b, &c, &d], &disrupted, now);
        assert_eq!(healthy, 1, "a (its entry expired) only");
        assert_eq!(kept.keys().collect::<Vec<_>>(), vec!["b"]);
        assert!(next.is_some());
    }
}
