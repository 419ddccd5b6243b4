//! autoscaling/v2 HorizontalPodAutoscalers.

use apimachinery::field::{ErrorList, Path};
use k8s_openapi::api::autoscaling::v2 as hpa;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as KQuantity;

use super::common::*;
use super::core_pod::validate_container_resource_name;
use apimachinery::quantity;

const MAX_PERIOD_SECONDS: i32 = 1800;
const MAX_STABILIZATION_WINDOW_SECONDS: i32 = 3600;
const METRIC_SOURCE_TYPES: &[&str] = &["ContainerResource", "External", "Object", "Pods", "Resource"];
const SELECT_POLICIES: &[&str] = &["Disabled", "Max", "Min"];
const POLICY_TYPES: &[&str] = &["Percent", "Pods"];

fn cross_version_ref(r: &hpa::CrossVersionObjectReference, path: &Path) -> Errs {
    let mut e = Vec::new();
    for (value, name) in [(&r.kind, "kind"), (&r.name, "name")] {
        if value.is_empty() {
            e.push(required(&path.child(name), ""));
        } else {
            for m in path_segment_name_msgs(value) {
                e.push(invalid(&path.child(name), value.as_str(), m));
            }
        }
    }
    e
}

fn positive(q: &KQuantity) -> bool {
    quantity::parse(q).is_ok_and(|x| x.signum() == 1)
}

fn shown(q: &KQuantity) -> String {
    quantity::parse(q).map(|x| x.canonical()).unwrap_or_else(|_| q.0.clone())
}

fn metric_target(t: &hpa::MetricTarget, path: &Path) -> Errs {
    let mut e = Vec::new();
    if t.type_.is_empty() {
        e.push(required(&path.child("type"), "must specify a metric target type"));
    }
    if !["Utilization", "Value", "AverageValue"].contains(&t.type_.as_str()) {
        e.push(invalid(&path.child("type"), t.type_.as_str(), "must be either Utilization, Value, or AverageValue"));
    }
    if let Some(v) = &t.value
        && !positive(v)
    {
        e.push(invalid(&path.child("value"), shown(v), "must be positive"));
    }
    if let Some(v) = &t.average_value
        && !positive(v)
    {
        e.push(invalid(&path.child("averageValue"), shown(v), "must be positive"));
    }
    if let Some(u) = t.average_utilization
        && u < 1
    {
        e.push(invalid(&path.child("averageUtilization"), u, "must be greater than 0"));
    }
    e
}

fn metric_identifier(id: &hpa::MetricIdentifier, path: &Path) -> Errs {
    if id.name.is_empty() {
        return vec![required(&path.child("name"), "must specify a metric name")];
    }
    path_segment_name_msgs(&id.name).into_iter().map(|m| invalid(&path.child("name"), id.name.as_str(), m)).collect()
}

fn utilization_or_value(t: &hpa::MetricTarget, path: &Path) -> Errs {
    let tp = path.child("target");
    let mut e = Vec::new();
    if t.average_utilization.is_none() && t.average_value.is_none() {
        e.push(required(&tp.child("averageUtilization"), "must set either a target raw value or a target utilization"));
    }
    if t.average_utilization.is_some() && t.average_value.is_some() {
        e.push(forbidden(&tp.child("averageValue"), "may not set both a target raw value and a target utilization"));
    }
    e
}

fn object_source(s: &hpa::ObjectMetricSource, path: &Path) -> Errs {
    let mut e = cross_version_ref(&s.described_object, &path.child("describedObject"));
    e.extend(metric_identifier(&s.metric, &path.child("metric")));
    e.extend(metric_target(&s.target, &path.child("target")));
    if s.target.value.is_none() && s.target.average_value.is_none() {
        e.push(required(&path.child("target").child("averageValue"), "must set either a target value or averageValue"));
    }
    e
}

fn external_source(s: &hpa::ExternalMetricSource, path: &Path) -> Errs {
    let mut e = metric_identifier(&s.metric, &path.child("metric"));
    e.extend(metric_target(&s.target, &path.child("target")));
    let tp = path.child("target");
    if s.target.value.is_none() && s.target.average_value.is_none() {
        e.push(required(&tp.child("averageValue"), "must set either a target value for metric or a per-pod target"));
    }
    if s.target.value.is_some() && s.target.average_value.is_some() {
        e.push(forbidden(&tp.child("value"), "may not set both a target value for metric and a per-pod target"));
    }
    e
}

fn pods_source(s: &hpa::PodsMetricSource, path: &Path) -> Errs {
    let mut e = metric_identifier(&s.metric, &path.child("metric"));
    e.extend(metric_target(&s.target, &path.child("target")));
    if s.target.average_value.is_none() {
        e.push(required(&path.child("target").child("averageValue"), "must specify a positive target averageValue"));
    }
    e
}

fn resource_source(s: &hpa::ResourceMetricSource, path: &Path) -> Errs {
    let mut e = Vec::new();
    if s.name.is_empty() {
        e.push(required(&path.child("name"), "must specify a resource name"));
    }
    e.extend(metric_target(&s.target, &path.child("target")));
    e.extend(utilization_or_value(&s.target, path));
    e
}

fn container_resource_source(s: &hpa::ContainerResourceMetricSource, path: &Path) -> Errs {
    let mut e = Vec::new();
    if s.name.is_empty() {
        e.push(required(&path.child("name"), "must specify a resource name"));
    } else {
        e.extend(validate_container_resource_name(&s.name, &path.child("name")));
    }
    if s.container.is_empty() {
        e.push(required(&path.child("container"), "must specify a container"));
    } else {
        e.extend(dns1123_label(&s.container, &path.child("container")));
    }
    e.extend(metric_target(&s.target, &path.child("target")));
    e.extend(utilization_or_value(&s.target, path));
    e
}

fn metric_spec(m: &hpa::MetricSpec, path: &Path) -> Errs {
    let mut e = Vec::new();
    let tp = path.child("type");
    if m.type_.is_empty() {
        e.push(required(&tp, "must specify a metric source type"));
    }
    if !METRIC_SOURCE_TYPES.contains(&m.type_.as_str()) {
        e.push(not_supported(&tp, m.type_.as_str(), METRIC_SOURCE_TYPES));
    }
    // upstream validates only the first populated source (in this order)
    let mut present: Vec<&str> = Vec::new();
    if let Some(s) = &m.object {
        present.push("object");
        if present.len() == 1 {
            e.extend(object_source(s, &path.child("object")));
        }
    }
    if let Some(s) = &m.external {
        present.push("external");
        if present.len() == 1 {
            e.extend(external_source(s, &path.child("external")));
        }
    }
    if let Some(s) = &m.pods {
        present.push("pods");
        if present.len() == 1 {
            e.extend(pods_source(s, &path.child("pods")));
        }
    }
    if let Some(s) = &m.resource {
        present.push("resource");
        if present.len() == 1 {
            e.extend(resource_source(s, &path.child("resource")));
        }
    }
    if let Some(s) = &m.container_resource {
        present.push("containerResource");
        if present.len() == 1 {
            e.extend(container_resource_source(s, &path.child("containerResource")));
        }
    }
    let expected = match m.type_.as_str() {
        "Object" => Some(("object", m.object.is_some())),
        "Pods" => Some(("pods", m.pods.is_some())),
        "Resource" => Some(("resource", m.resource.is_some())),
        "External" => Some(("external", m.external.is_some())),
        "ContainerResource" => Some(("containerResource", m.container_resource.is_some())),
        _ => None,
    };
    match expected {
        Some((field, set)) => {
            if !set {
                e.push(required(&path.child(field), "must populate information for the given metric source"));
            }
        }
        // upstream reports an unknown type a second time here
        None => e.push(not_supported(&tp, m.type_.as_str(), METRIC_SOURCE_TYPES)),
    }
    if present.len() != 1 {
        let exp = expected.map(|(f, _)| f).unwrap_or("");
        let mut others: Vec<&str> = present.into_iter().filter(|t| *t != exp).collect();
        // upstream iterates a Go map here (random order); sort for determinism
        others.sort();
        for t in others {
            e.push(forbidden(&path.child(t), "must populate the given metric source only"));
        }
    }
    e
}

fn scaling_rules(r: Option<&hpa::HPAScalingRules>, path: &Path) -> Errs {
    let Some(r) = r else { return Vec::new() };
    let mut e = Vec::new();
    let wp = path.child("stabilizationWindowSeconds");
    if let Some(w) = r.stabilization_window_seconds {
        if w < 0 {
            e.push(invalid(&wp, w, "must be greater than or equal to zero"));
        }
        if w > MAX_STABILIZATION_WINDOW_SECONDS {
            e.push(invalid(&wp, w, format!("must be less than or equal to {MAX_STABILIZATION_WINDOW_SECONDS}")));
        }
    }
    if let Some(sp) = &r.select_policy
        && !SELECT_POLICIES.contains(&sp.as_str())
    {
        e.push(not_supported(&path.child("selectPolicy"), sp.as_str(), SELECT_POLICIES));
    }
    let pp = path.child("policies");
    // unset policies are defaulted; an explicitly empty list is an error
    if let Some(policies) = &r.policies {
        if policies.is_empty() {
            e.push(required(&pp, "must specify at least one Policy"));
        }
        for (i, pol) in policies.iter().enumerate() {
            let ip = pp.index(i);
            if !POLICY_TYPES.contains(&pol.type_.as_str()) {
                e.push(not_supported(&ip.child("type"), pol.type_.as_str(), POLICY_TYPES));
            }
            if pol.value <= 0 {
                e.push(invalid(&ip.child("value"), pol.value, IS_NOT_POSITIVE));
            }
            if pol.period_seconds <= 0 {
                e.push(invalid(&ip.child("periodSeconds"), pol.period_seconds, IS_NOT_POSITIVE));
            }
            if pol.period_seconds > MAX_PERIOD_SECONDS {
                e.push(invalid(&ip.child("periodSeconds"), pol.period_seconds, format!("must be less than or equal to {MAX_PERIOD_SECONDS}")));
            }
        }
    }
    e
}

fn hpa_spec(spec: &hpa::HorizontalPodAutoscalerSpec, min_bound: i32, path: &Path) -> Errs {
    let mut e = Vec::new();
    if let Some(min) = spec.min_replicas
        && min < min_bound
    {
        e.push(invalid(&path.child("minReplicas"), min, format!("must be greater than or equal to {min_bound}")));
    }
    if spec.max_replicas < 1 {
        e.push(invalid(&path.child("maxReplicas"), spec.max_replicas, "must be greater than 0"));
    }
    if let Some(min) = spec.min_replicas
        && spec.max_replicas < min
    {
        e.push(invalid(&path.child("maxReplicas"), spec.max_replicas, "must be greater than or equal to `minReplicas`"));
    }
    e.extend(cross_version_ref(&spec.scale_target_ref, &path.child("scaleTargetRef")));
    let mp = path.child("metrics");
    let metrics = sl(&spec.metrics);
    for (i, m) in metrics.iter().enumerate() {
        e.extend(metric_spec(m, &mp.index(i)));
    }
    if spec.min_replicas == Some(0) && !metrics.iter().any(|m| m.type_ == "Object" || m.type_ == "External") {
        e.push(forbidden(&mp, "must specify at least one Object or External metric to support scaling to zero replicas"));
    }
    if let Some(bh) = &spec.behavior {
        let bp = path.child("behavior");
        e.extend(scaling_rules(bh.scale_up.as_ref(), &bp.child("scaleUp")));
        e.extend(scaling_rules(bh.scale_down.as_ref(), &bp.child("scaleDown")));
    }
    e
}

/// HorizontalPodAutoscaler create: minReplicas ≥ 1 (HPAScaleToZero is off in 1.32),
/// maxReplicas ≥ 1 and ≥ minReplicas, scaleTargetRef, metrics (type, exactly the matching
/// source populated, identifiers and targets) and behavior scaling rules.
pub fn horizontal_pod_autoscaler(h: &hpa::HorizontalPodAutoscaler) -> ErrorList {
    let spec = h.spec.clone().unwrap_or_default();
    done(hpa_spec(&spec, 1, &p("spec")))
}

/// HorizontalPodAutoscaler update: the create rules, allowing minReplicas 0 when the old object
/// already had it.
pub fn horizontal_pod_autoscaler_update(new: &hpa::HorizontalPodAutoscaler, old: &hpa::HorizontalPodAutoscaler) -> ErrorList {
    let old_zero = old.spec.as_ref().and_then(|s| s.min_replicas) == Some(0);
    let spec = new.spec.clone().unwrap_or_default();
    done(hpa_spec(&spec, if old_zero { 0 } else { 1 }, &p("spec")))
}

/// HorizontalPodAutoscaler status update: currentReplicas and desiredReplicas ≥ 0.
pub fn horizontal_pod_autoscaler_status_update(new: &hpa::HorizontalPodAutoscaler, _old: &hpa::HorizontalPodAutoscaler) -> ErrorList {
    let st = new.status.clone().unwrap_or_default();
    let mut e = nonneg(st.current_replicas.unwrap_or(0) as i64, &p("status").child("currentReplicas"));
    e.extend(nonneg(st.desired_replicas as i64, &p("status").child("desiredReplicas")));
    done(e)
}
