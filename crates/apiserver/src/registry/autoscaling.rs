//! `autoscaling/v2` (the storage version) and `autoscaling/v1` (served from the same objects by
//! conversion): horizontalpodautoscalers.

use apimachinery::ResourceInfo;
use k8s_openapi::api::autoscaling::{v1, v2 as api};
use serde_json::{Map, Value, json};

use super::{Registry, Resource, Strategy, parts};

parts!(spec, status: api::HorizontalPodAutoscaler, v1::HorizontalPodAutoscaler);

fn hpa_info(version: &str) -> ResourceInfo {
    ResourceInfo::new("autoscaling", version, "HorizontalPodAutoscaler", "horizontalpodautoscalers", true)
        .short(&["hpa"])
        .categories(&["all"])
}

/// horizontalpodautoscalers (autoscaling/v2)
pub struct HorizontalPodAutoscalers;
impl Strategy for HorizontalPodAutoscalers {
    type K = api::HorizontalPodAutoscaler;
    fn validate(&self, o: &api::HorizontalPodAutoscaler) -> apimachinery::ErrorList {
        crate::validation::horizontal_pod_autoscaler(o)
    }
    fn validate_update(&self, new: &api::HorizontalPodAutoscaler, old: &api::HorizontalPodAutoscaler) -> apimachinery::ErrorList {
        crate::validation::horizontal_pod_autoscaler_update(new, old)
    }
    fn validate_status_update(&self, new: &api::HorizontalPodAutoscaler, old: &api::HorizontalPodAutoscaler) -> apimachinery::ErrorList {
        crate::validation::horizontal_pod_autoscaler_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::HorizontalPodAutoscaler) {
        crate::defaults::autoscaling::horizontal_pod_autoscaler(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::autoscaling::horizontal_pod_autoscaler_columns()
    }
    fn cells(&self, o: &api::HorizontalPodAutoscaler, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::autoscaling::horizontal_pod_autoscaler_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        hpa_info("v2")
    }
}

/// horizontalpodautoscalers (autoscaling/v1; the decoder of request bodies)
pub struct HorizontalPodAutoscalersV1;
impl Strategy for HorizontalPodAutoscalersV1 {
    type K = v1::HorizontalPodAutoscaler;
    fn info(&self) -> ResourceInfo {
        hpa_info("v1")
    }
}

/// Annotations in which autoscaling/v1 keeps what only v2 can express (as upstream).
const METRICS: &str = "autoscaling.alpha.kubernetes.io/metrics";
const CURRENT: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
const CONDITIONS: &str = "autoscaling.alpha.kubernetes.io/conditions";
const BEHAVIOR: &str = "autoscaling.alpha.kubernetes.io/behavior";

fn is_cpu_utilization(m: &Value) -> bool {
    m["type"] == "Resource" && m["resource"]["name"] == "cpu" && m["resource"]["target"]["type"] == "Utilization"
}

fn annotations(v: &mut Value) -> &mut Map<String, Value> {
    if !v["metadata"]["annotations"].is_object() {
        v["metadata"]["annotations"] = json!({});
    }
    v["metadata"]["annotations"].as_object_mut().expect("just set")
}

/// autoscaling/v2 → autoscaling/v1.
pub fn to_v1(mut v: Value) -> Result<Value, String> {
    let spec = v.get("spec").cloned().unwrap_or(json!({}));
    let status = v.get("status").cloned();
    let metrics: Vec<Value> = spec["metrics"].as_array().cloned().unwrap_or_default();
    let mut out_spec = json!({
        "scaleTargetRef": spec["scaleTargetRef"],
        "maxReplicas": spec["maxReplicas"],
    });
    if !spec["minReplicas"].is_null() {
        out_spec["minReplicas"] = spec["minReplicas"].clone();
    }
    let (cpu, others): (Vec<Value>, Vec<Value>) = metrics.into_iter().partition(is_cpu_utilization);
    if let Some(c) = cpu.first() {
        out_spec["targetCPUUtilizationPercentage"] = c["resource"]["target"]["averageUtilization"].clone();
    }
    if !others.is_empty() {
        let text = serde_json::to_string(&others).map_err(|e| e.to_string())?;
        annotations(&mut v).insert(METRICS.into(), Value::String(text));
    }
    if !spec["behavior"].is_null() {
        let text = serde_json::to_string(&spec["behavior"]).map_err(|e| e.to_string())?;
        annotations(&mut v).insert(BEHAVIOR.into(), Value::String(text));
    }
    let mut out = json!({
        "apiVersion": "autoscaling/v1",
        "kind": "HorizontalPodAutoscaler",
        "metadata": v["metadata"],
        "spec": out_spec,
    });
    if let Some(st) = status.filter(|s| s.is_object()) {
        let mut s1 = json!({
            "currentReplicas": st["currentReplicas"].as_i64().unwrap_or(0),
            "desiredReplicas": st["desiredReplicas"].as_i64().unwrap_or(0),
        });
        for k in ["observedGeneration", "lastScaleTime"] {
            if !st[k].is_null() {
                s1[k] = st[k].clone();
            }
        }
        let current: Vec<Value> = st["currentMetrics"].as_array().cloned().unwrap_or_default();
        let (cpu, others): (Vec<Value>, Vec<Value>) =
            current.into_iter().partition(|m| m["type"] == "Resource" && m["resource"]["name"] == "cpu");
        if let Some(c) = cpu.first()
            && !c["resource"]["current"]["averageUtilization"].is_null() {
                s1["currentCPUUtilizationPercentage"] = c["resource"]["current"]["averageUtilization"].clone();
            }
        if !others.is_empty() {
            let text = serde_json::to_string(&others).map_err(|e| e.to_string())?;
            annotations(&mut out).insert(CURRENT.into(), Value::String(text));
        }
        if st["conditions"].as_array().is_some_and(|c| !c.is_empty()) {
            let text = serde_json::to_string(&st["conditions"]).map_err(|e| e.to_string())?;
            annotations(&mut out).insert(CONDITIONS.into(), Value::String(text));
        }
        out["status"] = s1;
    }
    Ok(out)
}

/// autoscaling/v1 → autoscaling/v2.
pub fn to_v2(mut v: Value) -> Result<Value, String> {
    let spec = v.get("spec").cloned().unwrap_or(json!({}));
    let mut metrics: Vec<Value> = Vec::new();
    let mut behavior = Value::Null;
    let mut conditions = Value::Null;
    let mut current_extra: Vec<Value> = Vec::new();
    if let Some(ann) = v.get_mut("metadata").and_then(|m| m.get_mut("annotations")).and_then(Value::as_object_mut) {
        if let Some(Value::String(t)) = ann.remove(METRICS) {
            metrics = serde_json::from_str(&t).map_err(|e| format!("{METRICS}: {e}"))?;
        }
        if let Some(Value::String(t)) = ann.remove(BEHAVIOR) {
            behavior = serde_json::from_str(&t).map_err(|e| format!("{BEHAVIOR}: {e}"))?;
        }
        if let Some(Value::String(t)) = ann.remove(CONDITIONS) {
            conditions = serde_json::from_str(&t).map_err(|e| format!("{CONDITIONS}: {e}"))?;
        }
        if let Some(Value::String(t)) = ann.remove(CURRENT) {
            current_extra = serde_json::from_str(&t).map_err(|e| format!("{CURRENT}: {e}"))?;
        }
        if ann.is_empty() {
            v["metadata"].as_object_mut().map(|m| m.remove("annotations"));
        }
    }
    if let Some(p) = spec["targetCPUUtilizationPercentage"].as_i64() {
        metrics.insert(0, json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": p}}}));
    }
    let mut out_spec = json!({ "scaleTargetRef": spec["scaleTargetRef"], "maxReplicas": spec["maxReplicas"] });
    if !spec["minReplicas"].is_null() {
        out_spec["minReplicas"] = spec["minReplicas"].clone();
    }
    if !metrics.is_empty() {
        out_spec["metrics"] = Value::Array(metrics);
    }
    if !behavior.is_null() {
        out_spec["behavior"] = behavior;
    }
    let mut out = json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": v["metadata"],
        "spec": out_spec,
    });
    if let Some(st) = v.get("status").filter(|s| s.is_object()) {
        let mut s2 = json!({ "desiredReplicas": st["desiredReplicas"].as_i64().unwrap_or(0) });
        for k in ["observedGeneration", "lastScaleTime", "currentReplicas"] {
            if !st[k].is_null() {
                s2[k] = st[k].clone();
            }
        }
        let mut current = Vec::new();
        if let Some(p) = st["currentCPUUtilizationPercentage"].as_i64() {
            current.push(json!({"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": p}}}));
        }
        current.extend(current_extra);
        if !current.is_empty() {
            s2["currentMetrics"] = Value::Array(current);
        }
        if !conditions.is_null() {
            s2["conditions"] = conditions;
        }
        out["status"] = s2;
    }
    Ok(out)
}

/// Registers autoscaling/v2 and autoscaling/v1.
pub fn register(r: &mut Registry) {
    let v2 = r.add(Resource::new(HorizontalPodAutoscalers));
    r.add(Resource::converted(&v2, HorizontalPodAutoscalersV1, to_v2, to_v1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_round_trips_through_v2() {
        let v1 = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "h"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d", "apiVersion": "apps/v1"}, "minReplicas": 1, "maxReplicas": 5, "targetCPUUtilizationPercentage": 70}});
        let v2 = to_v2(v1.clone()).unwrap();
        assert_eq!(v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], 70);
        assert!(v2["spec"].get("targetCPUUtilizationPercentage").is_none());
        let back = to_v1(v2).unwrap();
        assert_eq!(back["spec"], v1["spec"]);
        assert!(back["metadata"].get("annotations").is_none());
    }

    #[test]
    fn v2_only_fields_survive_v1_in_annotations() {
        let v2 = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "d"}, "maxReplicas": 3,
                "metrics": [{"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}}],
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}});
        let v1 = to_v1(v2.clone()).unwrap();
        assert!(v1["metadata"]["annotations"][METRICS].as_str().unwrap().contains("qps"));
        let again = to_v2(v1).unwrap();
        assert_eq!(again["spec"], v2["spec"]);
    }
}
