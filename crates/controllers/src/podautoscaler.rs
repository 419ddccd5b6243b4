//! The horizontal pod autoscaler (`horizontal-pod-autoscaler`), without a metrics API: ferrokube
//! serves no `metrics.k8s.io`, `custom.metrics.k8s.io` or `external.metrics.k8s.io` yet, so every
//! metric fails as it does upstream when those APIs are missing. What it does, as upstream:
//! reads the target through its `scale` subresource (`AbleToScale`: `SucceededGetScale` or
//! `FailedGetScale`), scales a target outside `[minReplicas, maxReplicas]` into the range
//! (`SuccessfulRescale`, "Current number of replicas below Spec.MinReplicas"), leaves a target
//! at zero replicas alone (`ScalingDisabled`), and otherwise reports the metric failure
//! (`ScalingActive` False with `FailedGetResourceMetric` and the other FailedGet*Metric reasons,
//! events of the same reasons and `FailedComputeMetricsReplicas`). Every HPA is synced every
//! 15 s (upstream's `--horizontal-pod-autoscaler-sync-period`) and on changes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::autoscaling::v2::{HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition, HorizontalPodAutoscalerStatus, MetricSpec};
use kube::api::{Api, DynamicObject, PostParams};

use crate::stores::{self, Wake};

/// How often each HPA is synced.
pub const SYNC_PERIOD: Duration = Duration::from_secs(15);

const RESOURCE_API_MISSING: &str = "unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)";
const CUSTOM_API_MISSING: &str = "unable to fetch metrics from custom metrics API: no custom metrics API (custom.metrics.k8s.io) registered";
const EXTERNAL_API_MISSING: &str = "unable to fetch metrics from external metrics API: no external metrics API (external.metrics.k8s.io) registered";

/// Why a metric cannot be computed without a metrics API: (condition/event reason, the error,
/// the error as computeReplicasForMetrics wraps it).
pub fn metric_failure(m: &MetricSpec) -> (&'static str, String, String) {
    match m.type_.as_str() {
        "Resource" => {
            let r = m.resource.as_ref();
            let name = r.map(|r| r.name.as_str()).unwrap_or("cpu");
            let what = if r.is_some_and(|r| r.target.type_ == "AverageValue") { "usage" } else { "utilization" };
            let err = format!("failed to get {name} {what}: unable to get metrics for resource {name}: {RESOURCE_API_MISSING}");
            ("FailedGetResourceMetric", err.clone(), format!("failed to get {name} resource metric value: {err}"))
        }
        "ContainerResource" => {
            let r = m.container_resource.as_ref();
            let name = r.map(|r| r.name.as_str()).unwrap_or("cpu");
            let what = if r.is_some_and(|r| r.target.type_ == "AverageValue") { "usage" } else { "utilization" };
            let err = format!("failed to get {name} {what}: unable to get metrics for resource {name}: {RESOURCE_API_MISSING}");
            ("FailedGetContainerResourceMetric", err.clone(), format!("failed to get {name} container metric value: {err}"))
        }
        "Pods" => {
            let name = m.pods.as_ref().map(|p| p.metric.name.as_str()).unwrap_or("");
            let err = format!("unable to get metric {name}: {CUSTOM_API_MISSING}");
            ("FailedGetPodsMetric", err.clone(), format!("failed to get pods metric value: {err}"))
        }
        "Object" => {
            let name = m.object.as_ref().map(|o| o.metric.name.as_str()).unwrap_or("");
            let err = format!("unable to get metric {name}: {CUSTOM_API_MISSING}");
            ("FailedGetObjectMetric", err.clone(), format!("failed to get object metric value: {err}"))
        }
        "External" => {
            let name = m.external.as_ref().map(|e| e.metric.name.as_str()).unwrap_or("");
            let err = format!("unable to get external metric {name}: {EXTERNAL_API_MISSING}");
            ("FailedGetExternalMetric", err.clone(), format!("failed to get external metric value: {err}"))
        }
        other => {
            let err = format!("unknown metric source type {other:?}");
            ("InvalidMetricSourceType", err.clone(), err)
        }
    }
}

/// What the HPA does with a target at `current` replicas: Some((desired, reason)) to rescale
/// into the range, None to compute from metrics (or leave a disabled target alone).
pub fn range_decision(current: i32, min: i32, max: i32) -> Option<(i32, &'static str)> {
    if current == 0 && min != 0 {
        None
    } else if current > max {
        Some((max, "Current number of replicas above Spec.MaxReplicas"))
    } else if current < min {
        Some((min, "Current number of replicas below Spec.MinReplicas"))
    } else {
        None
    }
}

/// Sets a condition, keeping its transition time when the status does not change.
pub fn set_condition(conds: &mut Vec<HorizontalPodAutoscalerCondition>, type_: &str, status: &str, reason: &str, message: String) {
    let now = stores::now();
    match conds.iter_mut().find(|c| c.type_ == type_) {
        Some(c) => {
            if c.status != status {
                c.last_transition_time = Some(now);
            }
            c.status = status.into();
            c.reason = Some(reason.into());
            c.message = Some(message);
        }
        None => conds.push(HorizontalPodAutoscalerCondition {
            type_: type_.into(),
            status: status.into(),
            reason: Some(reason.into()),
            message: Some(message),
            last_transition_time: Some(now),
        }),
    }
}


struct Ctl {
    client: kube::Client,
    rec: kube::runtime::events::Recorder,
}

impl Ctl {
    async fn target(&self, hpa: &HorizontalPodAutoscaler) -> Result<Api<DynamicObject>, String> {
        let ns = hpa.metadata.namespace.clone().unwrap_or_default();
        let r = &hpa.spec.as_ref().ok_or("no spec")?.scale_target_ref;
        let api_version = r.api_version.clone().unwrap_or_default();
        let ar = match crate::stores::scalable_resource(&api_version, &r.kind) {
            Some(ar) => ar,
            None => {
                let (group, version) = api_version.split_once('/').unwrap_or(("", api_version.as_str()));
                let gvk = kube::api::GroupVersionKind::gvk(group, version, &r.kind);
                kube::discovery::pinned_kind(&self.client, &gvk).await.map_err(|_| format!("no matches for kind {:?} in group {:?}", r.kind, group))?.0
            }
        };
        Ok(Api::namespaced_with(self.client.clone(), &ns, &ar))
    }

    async fn sync(&self, hpa: &HorizontalPodAutoscaler) -> Result<(), kube::Error> {
        let ns = hpa.metadata.namespace.clone().unwrap_or_default();
        let name = hpa.metadata.name.clone().unwrap_or_default();
        let Some(spec) = hpa.spec.clone() else { return Ok(()) };
        let prev = hpa.status.clone().unwrap_or_default();
        let mut status = prev.clone();
        let mut conds = status.conditions.clone().unwrap_or_default();
        let target_name = spec.scale_target_ref.name.clone();
        let scale = match self.target(hpa).await {
            Ok(api) => api.get_scale(&target_name).await.map(|s| (api, s)).map_err(|e| match e {
                kube::Error::Api(s) => s.message,
                other => other.to_string(),
            }),
            Err(e) => Err(e),
        };
        let (api, scale) = match scale {
            Ok(x) => x,
            Err(err) => {
                set_condition(&mut conds, "AbleToScale", "False", "FailedGetScale", format!("the HPA controller was unable to get the target's current scale: {err}"));
                stores::event(&self.rec, hpa, true, "FailedGetScale", err).await;
                status.conditions = Some(conds);
                return self.write(hpa, &prev, status).await;
            }
        };
        set_condition(&mut conds, "AbleToScale", "True", "SucceededGetScale", "the HPA controller was able to get the target's current scale".into());
        let current = scale.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
        let min = spec.min_replicas.unwrap_or(1);
        // upstream reports the target's wanted replicas as current
        status.current_replicas = Some(current);
        let decision = range_decision(current, min, spec.max_replicas);
        if current == 0 && min != 0 {
            set_condition(&mut conds, "ScalingActive", "False", "ScalingDisabled", "scaling is disabled since the replica count of the target is zero".into());
            status.desired_replicas = 0;
        } else if let Some((desired, reason)) = decision {
            let mut next = scale.clone();
            if let Some(s) = next.spec.as_mut() {
                s.replicas = Some(desired);
            }
            match api.replace_scale(&target_name, &PostParams::default(), &next).await {
                Ok(_) => {
                    set_condition(&mut conds, "AbleToScale", "True", "SucceededRescale", format!("the HPA controller was able to update the target scale to {desired}"));
                    stores::event(&self.rec, hpa, false, "SuccessfulRescale", format!("New size: {desired}; reason: {reason}")).await;
                    status.last_scale_time = Some(stores::now());
                    status.desired_replicas = desired;
                    tracing::info!(hpa = %format!("{ns}/{name}"), desired, reason, "rescaled");
                }
                Err(e) => {
                    let err = match e {
                        kube::Error::Api(s) => s.message,
                        other => other.to_string(),
                    };
                    set_condition(&mut conds, "AbleToScale", "False", "FailedUpdateScale", format!("the HPA controller was unable to update the target scale: {err}"));
                    stores::event(&self.rec, hpa, true, "FailedRescale", format!("New size: {desired}; reason: {reason}; error: {err}")).await;
                }
            }
        } else {
            let metrics = spec.metrics.clone().filter(|m| !m.is_empty()).unwrap_or_else(|| {
                vec![MetricSpec {
                    type_: "Resource".into(),
                    resource: Some(k8s_openapi::api::autoscaling::v2::ResourceMetricSource {
                        name: "cpu".into(),
                        target: k8s_openapi::api::autoscaling::v2::MetricTarget { type_: "Utilization".into(), average_utilization: Some(80), ..Default::default() },
                    }),
                    ..Default::default()
                }]
            });
            let mut first = None;
            for m in &metrics {
                let (reason, err, wrapped) = metric_failure(m);
                set_condition(&mut conds, "ScalingActive", "False", reason, format!("the HPA was unable to compute the replica count: {err}"));
                stores::event(&self.rec, hpa, true, reason, err).await;
                first.get_or_insert(wrapped);
            }
            let note = format!("invalid metrics ({n} invalid out of {n}), first error is: {}", first.unwrap_or_default(), n = metrics.len());
            stores::event(&self.rec, hpa, true, "FailedComputeMetricsReplicas", note).await;
            status.current_metrics = None;
        }
        status.conditions = Some(conds);
        self.write(hpa, &prev, status).await
    }

    async fn write(&self, hpa: &HorizontalPodAutoscaler, prev: &HorizontalPodAutoscalerStatus, status: HorizontalPodAutoscalerStatus) -> Result<(), kube::Error> {
        if &status == prev {
            return Ok(());
        }
        let mut next = hpa.clone();
        next.status = Some(status);
        let api: Api<HorizontalPodAutoscaler> = Api::namespaced(self.client.clone(), hpa.metadata.namespace.as_deref().unwrap_or_default());
        api.replace_status(hpa.metadata.name.as_deref().unwrap_or_default(), &PostParams::default(), &next).await?;
        Ok(())
    }
}

/// Runs the HPA controller until the process ends.
pub async fn run(informers: stores::Informers, client: kube::Client) {
    let wake = Wake::new();
    let hpas = informers.watch::<HorizontalPodAutoscaler>(&wake);
    stores::ready(&hpas).await;
    let ctl = Ctl { rec: stores::recorder(&client, "horizontal-pod-autoscaler"), client };
    // key → (generation synced, when)
    let mut synced: BTreeMap<String, (Option<i64>, Instant)> = BTreeMap::new();
    loop {
        let now = Instant::now();
        let mut next = now + SYNC_PERIOD;
        let list = hpas.state();
        synced.retain(|k, _| list.iter().any(|h| &stores::key(h.as_ref()) == k));
        for hpa in list {
            let key = stores::key(hpa.as_ref());
            let due = match synced.get(&key) {
                Some((generation, at)) => *generation != hpa.metadata.generation || now.duration_since(*at) >= SYNC_PERIOD,
                None => true,
            };
            if !due {
                if let Some((_, at)) = synced.get(&key) {
                    next = next.min(*at + SYNC_PERIOD);
                }
                continue;
            }
            match ctl.sync(&hpa).await {
                Ok(()) => {
                    synced.insert(key, (hpa.metadata.generation, now));
                }
                Err(e) => {
                    tracing::debug!(hpa = %key, error = %e, "hpa sync");
                    next = next.min(now + Duration::from_secs(1));
                }
            }
        }
        wake.wait(next.saturating_duration_since(Instant::now()), Duration::from_millis(20)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn into_the_range() {
        assert_eq!(range_decision(1, 2, 5), Some((2, "Current number of replicas below Spec.MinReplicas")));
        assert_eq!(range_decision(7, 2, 5), Some((5, "Current number of replicas above Spec.MaxReplicas")));
        assert_eq!(range_decision(3, 2, 5), None);
        assert_eq!(range_decision(0, 1, 5), None, "scaling disabled at zero");
    }

    #[test]
    fn failures_without_metrics_api() {
        let m: MetricSpec = serde_json::from_value(serde_json::json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}})).unwrap();
        let (reason, err, wrapped) = metric_failure(&m);
        assert_eq!(reason, "FailedGetResourceMetric");
        assert!(err.starts_with("failed to get cpu utilization: unable to get metrics for resource cpu: "));
        assert!(wrapped.starts_with("failed to get cpu resource metric value: failed to get cpu utilization"));
        let p: MetricSpec = serde_json::from_value(serde_json::json!({"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "1"}}})).unwrap();
        assert_eq!(metric_failure(&p).0, "FailedGetPodsMetric");
    }

    #[test]
    fn condition_transitions() {
        let mut c = Vec::new();
        set_condition(&mut c, "AbleToScale", "True", "SucceededGetScale", "x".into());
        let t = c[0].last_transition_time.clone();
        set_condition(&mut c, "AbleToScale", "True", "SucceededRescale", "y".into());
        assert_eq!(c[0].last_transition_time, t);
        assert_eq!(c[0].reason.as_deref(), Some("SucceededRescale"));
        assert_eq!(c.len(), 1);
    }
}
