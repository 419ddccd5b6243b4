//! Defaults for `autoscaling/v2`.

use k8s_openapi::api::autoscaling::v2::{
    HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscaler, MetricSpec, MetricTarget,
    ResourceMetricSource,
};

use super::{default_ptr, len_zero};

fn policy(type_: &str, value: i32, period_seconds: i32) -> HPAScalingPolicy {
    HPAScalingPolicy {
        type_: type_.to_owned(),
        value,
        period_seconds,
    }
}

/// The scale-up rules upstream fills in: no stabilization window, `selectPolicy: Max`, and
/// the larger of 4 pods or 100% per 15 seconds.
fn default_scale_up() -> HPAScalingRules {
    HPAScalingRules {
        stabilization_window_seconds: Some(0),
        select_policy: Some("Max".to_owned()),
        policies: Some(vec![policy("Pods", 4, 15), policy("Percent", 100, 15)]),
    }
}

/// The scale-down rules upstream fills in: `selectPolicy: Max`, 100% per 15 seconds, and no
/// stabilization window (left to the controller's command-line default).
fn default_scale_down() -> HPAScalingRules {
    HPAScalingRules {
        stabilization_window_seconds: None,
        select_policy: Some("Max".to_owned()),
        policies: Some(vec![policy("Percent", 100, 15)]),
    }
}

/// Fields the client set override the defaults; a present (even empty) `policies` list wins.
fn merge_rules(client: Option<HPAScalingRules>, mut defaults: HPAScalingRules) -> HPAScalingRules {
    if let Some(c) = client {
        if c.select_policy.is_some() {
            defaults.select_policy = c.select_policy;
        }
        if c.stabilization_window_seconds.is_some() {
            defaults.stabilization_window_seconds = c.stabilization_window_seconds;
        }
        if c.policies.is_some() {
            defaults.policies = c.policies;
        }
    }
    defaults
}

/// HorizontalPodAutoscaler defaults: `minReplicas: 1`; with no metrics, a single CPU
/// resource metric targeting 80% average utilization; when `behavior` is present, both
/// `scaleUp` and `scaleDown` are completed with the upstream default rules.
pub fn horizontal_pod_autoscaler(obj: &mut HorizontalPodAutoscaler) {
    let spec = obj.spec.get_or_insert_with(Default::default);
    default_ptr(&mut spec.min_replicas, 1);
    if len_zero(&spec.metrics) {
        spec.metrics = Some(vec![MetricSpec {
            type_: "Resource".to_owned(),
            resource: Some(ResourceMetricSource {
                name: "cpu".to_owned(),
                target: MetricTarget {
                    type_: "Utilization".to_owned(),
                    average_utilization: Some(80),
                    ..Default::default()
                },
            }),
            ..Default::default()
        }]);
    }
    if let Some(b) = &mut spec.behavior {
        b.scale_up = Some(merge_rules(b.scale_up.take(), default_scale_up()));
        b.scale_down = Some(merge_rules(b.scale_down.take(), default_scale_down()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults::testutil::{assert_idempotent, from_json, to_json};
    use serde_json::json;

    fn base() -> serde_json::Value {
        json!({"maxReplicas": 5, "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}})
    }

    #[test]
    fn minimal_hpa() {
        let mut h: HorizontalPodAutoscaler =
            from_json(json!({"metadata": {"name": "h"}, "spec": base()}));
        horizontal_pod_autoscaler(&mut h);
        assert_eq!(
            to_json(&h)["spec"],
            json!({
                "maxReplicas": 5,
                "minReplicas": 1,
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 80}}}]
            })
        );
    }

    #[test]
    fn behavior_is_completed() {
        let mut spec = base();
        spec["behavior"] = json!({"scaleDown": {"stabilizationWindowSeconds": 60}});
        spec["metrics"] = json!([{"type": "Resource", "resource": {"name": "memory",
            "target": {"type": "AverageValue", "averageValue": "1Gi"}}}]);
        spec["minReplicas"] = json!(2);
        let mut h: HorizontalPodAutoscaler =
            from_json(json!({"metadata": {"name": "h"}, "spec": spec}));
        horizontal_pod_autoscaler(&mut h);
        let v = to_json(&h);
        assert_eq!(v["spec"]["minReplicas"], json!(2));
        assert_eq!(v["spec"]["metrics"][0]["resource"]["name"], json!("memory"));
        assert_eq!(
            v["spec"]["behavior"],
            json!({
                "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
                    {"type": "Pods", "value": 4, "periodSeconds": 15},
                    {"type": "Percent", "value": 100, "periodSeconds": 15}
                ]},
                "scaleDown": {"stabilizationWindowSeconds": 60, "selectPolicy": "Max", "policies": [
                    {"type": "Percent", "value": 100, "periodSeconds": 15}
                ]}
            })
        );

        let mut spec = base();
        spec["behavior"] = json!({"scaleUp": {"selectPolicy": "Disabled", "policies": []}});
        let mut h: HorizontalPodAutoscaler =
            from_json(json!({"metadata": {"name": "h"}, "spec": spec}));
        horizontal_pod_autoscaler(&mut h);
        let up = h.spec.unwrap().behavior.unwrap().scale_up.unwrap();
        assert_eq!(up.select_policy.as_deref(), Some("Disabled"));
        assert_eq!(up.policies, Some(vec![]));
        assert_eq!(up.stabilization_window_seconds, Some(0));
    }

    #[test]
    fn idempotent() {
        let mut spec = base();
        spec["behavior"] = json!({});
        let h: HorizontalPodAutoscaler =
            from_json(json!({"metadata": {"name": "h"}, "spec": spec}));
        assert_idempotent(&h, horizontal_pod_autoscaler);
    }
}
