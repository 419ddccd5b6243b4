//! Printer for `autoscaling` HorizontalPodAutoscalers.

use apimachinery::table::Column;
use k8s_openapi::api::autoscaling::v2::{HorizontalPodAutoscaler, MetricSpec, MetricStatus};
use serde_json::Value;

use super::docs::*;
use super::{NONE, UNSET, age, col, int, name, ptr_quantity, s};

/// HorizontalPodAutoscaler columns: NAME, REFERENCE, TARGETS, MINPODS, MAXPODS, REPLICAS, AGE.
pub fn horizontal_pod_autoscaler_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("Reference", HPA2B1_SPEC_SCALE_TARGET_REF),
        col("Targets", HPA2B1_SPEC_METRICS),
        col("MinPods", HPA2B1_SPEC_MIN_REPLICAS),
        col("MaxPods", HPA2B1_SPEC_MAX_REPLICAS),
        col("Replicas", HPA2B1_STATUS_CURRENT_REPLICAS),
        Column::age(),
    ]
}

const UNKNOWN: &str = "<unknown>";

fn percent(v: Option<i32>) -> Option<String> {
    v.map(|v| format!("{v}%"))
}

/// One metric as upstream's `formatHPAMetrics` writes it; the current value comes from the
/// status at the same index.
fn format_metric(spec: &MetricSpec, status: Option<&MetricStatus>) -> String {
    match spec.type_.as_str() {
        "External" => {
            let target = spec.external.as_ref().map(|e| &e.target);
            let current = status.and_then(|s| s.external.as_ref()).map(|e| &e.current);
            if let Some(avg) = target.and_then(|t| t.average_value.as_ref()) {
                let cur = current
                    .and_then(|c| c.average_value.as_ref())
                    .map(|q| ptr_quantity(Some(q)))
                    .unwrap_or_else(|| UNKNOWN.into());
                format!("{cur}/{} (avg)", ptr_quantity(Some(avg)))
            } else {
                let cur = current
                    .map(|c| ptr_quantity(c.value.as_ref()))
                    .unwrap_or_else(|| UNKNOWN.into());
                format!(
                    "{cur}/{}",
                    ptr_quantity(target.and_then(|t| t.value.as_ref()))
                )
            }
        }
        "Pods" => {
            let cur = status
                .and_then(|s| s.pods.as_ref())
                .map(|p| ptr_quantity(p.current.average_value.as_ref()))
                .unwrap_or_else(|| UNKNOWN.into());
            let target = spec
                .pods
                .as_ref()
                .and_then(|p| p.target.average_value.as_ref());
            format!("{cur}/{}", ptr_quantity(target))
        }
        "Object" => {
            let target = spec.object.as_ref().map(|o| &o.target);
            let current = status.and_then(|s| s.object.as_ref()).map(|o| &o.current);
            if let Some(avg) = target.and_then(|t| t.average_value.as_ref()) {
                let cur = current
                    .and_then(|c| c.average_value.as_ref())
                    .map(|q| ptr_quantity(Some(q)))
                    .unwrap_or_else(|| UNKNOWN.into());
                format!("{cur}/{} (avg)", ptr_quantity(Some(avg)))
            } else {
                let cur = current
                    .map(|c| ptr_quantity(c.value.as_ref()))
                    .unwrap_or_else(|| UNKNOWN.into());
                format!(
                    "{cur}/{}",
                    ptr_quantity(target.and_then(|t| t.value.as_ref()))
                )
            }
        }
        "Resource" => {
            let res = spec.resource.as_ref();
            let res_name = res.map(|r| r.name.as_str()).unwrap_or("");
            let current = status.and_then(|s| s.resource.as_ref()).map(|r| &r.current);
            if let Some(avg) = res.and_then(|r| r.target.average_value.as_ref()) {
                let cur = current
                    .map(|c| ptr_quantity(c.average_value.as_ref()))
                    .unwrap_or_else(|| UNKNOWN.into());
                format!("{res_name}: {cur}/{}", ptr_quantity(Some(avg)))
            } else {
                let cur = percent(current.and_then(|c| c.average_utilization))
                    .unwrap_or_else(|| UNKNOWN.into());
                let target = percent(res.and_then(|r| r.target.average_utilization))
                    .unwrap_or_else(|| "<auto>".into());
                format!("{res_name}: {cur}/{target}")
            }
        }
        "ContainerResource" => {
            let res = spec.container_resource.as_ref();
            let res_name = res.map(|r| r.name.as_str()).unwrap_or("");
            let current = status
                .and_then(|s| s.container_resource.as_ref())
                .map(|r| &r.current);
            if let Some(avg) = res.and_then(|r| r.target.average_value.as_ref()) {
                let cur = current
                    .map(|c| ptr_quantity(c.average_value.as_ref()))
                    .unwrap_or_else(|| UNKNOWN.into());
                format!("{res_name}: {cur}/{}", ptr_quantity(Some(avg)))
            } else {
                let cur = percent(current.and_then(|c| c.average_utilization))
                    .unwrap_or_else(|| UNKNOWN.into());
                let target = percent(res.and_then(|r| r.target.average_utilization))
                    .unwrap_or_else(|| "<auto>".into());
                format!("{res_name}: {cur}/{target}")
            }
        }
        _ => "<unknown type>".into(),
    }
}

/// Upstream's `formatHPAMetrics`: the first two metrics joined by `, `, then ` + N more...`;
/// `<none>` without metrics.
fn format_metrics(specs: &[MetricSpec], statuses: &[MetricStatus]) -> String {
    if specs.is_empty() {
        return NONE.into();
    }
    const MAX: usize = 2;
    let list: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(i, m)| format_metric(m, statuses.get(i)))
        .collect();
    if list.len() > MAX {
        format!("{} + {} more...", list[..MAX].join(", "), list.len() - MAX)
    } else {
        list.join(", ")
    }
}

/// HorizontalPodAutoscaler cells; MAXPODS and REPLICAS are integer cells.
pub fn horizontal_pod_autoscaler_cells(
    obj: &HorizontalPodAutoscaler,
    now: jiff::Timestamp,
) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let status = obj.status.as_ref();
    let reference = spec
        .map(|s| format!("{}/{}", s.scale_target_ref.kind, s.scale_target_ref.name))
        .unwrap_or_else(|| "/".into());
    let metrics = format_metrics(
        spec.and_then(|s| s.metrics.as_deref()).unwrap_or(&[]),
        status
            .and_then(|s| s.current_metrics.as_deref())
            .unwrap_or(&[]),
    );
    let min_pods = spec
        .and_then(|s| s.min_replicas)
        .map(|m| m.to_string())
        .unwrap_or_else(|| UNSET.into());
    vec![
        s(name(&obj.metadata)),
        s(reference),
        s(metrics),
        s(min_pods),
        int(spec.map(|s| s.max_replicas).unwrap_or(0)),
        int(status.and_then(|s| s.current_replicas).unwrap_or(0)),
        age(&obj.metadata, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testutil::{cells, meta, now};
    use k8s_openapi::api::autoscaling::v2::*;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use serde_json::json;

    fn resource_util(name: &str, target: Option<i32>) -> MetricSpec {
        MetricSpec {
            type_: "Resource".into(),
            resource: Some(ResourceMetricSource {
                name: name.into(),
                target: MetricTarget {
                    type_: "Utilization".into(),
                    average_utilization: target,
                    ..Default::default()
                },
            }),
            ..Default::default()
        }
    }

    #[test]
    fn hpa_metrics() {
        let pods = MetricSpec {
            type_: "Pods".into(),
            pods: Some(PodsMetricSource {
                metric: MetricIdentifier {
                    name: "rps".into(),
                    selector: None,
                },
                target: MetricTarget {
                    type_: "AverageValue".into(),
                    average_value: Some(Quantity("1000m".into())),
                    ..Default::default()
                },
            }),
            ..Default::default()
        };
        let hpa = HorizontalPodAutoscaler {
            metadata: meta("web", 300),
            spec: Some(HorizontalPodAutoscalerSpec {
                scale_target_ref: CrossVersionObjectReference {
                    kind: "Deployment".into(),
                    name: "web".into(),
                    api_version: Some("apps/v1".into()),
                },
                min_replicas: Some(2),
                max_replicas: 10,
                metrics: Some(vec![
                    resource_util("cpu", Some(80)),
                    pods,
                    resource_util("memory", None),
                ]),
                ..Default::default()
            }),
            status: Some(HorizontalPodAutoscalerStatus {
                current_replicas: Some(3),
                desired_replicas: 3,
                current_metrics: Some(vec![MetricStatus {
                    type_: "Resource".into(),
                    resource: Some(ResourceMetricStatus {
                        name: "cpu".into(),
                        current: MetricValueStatus {
                            average_utilization: Some(45),
                            ..Default::default()
                        },
                    }),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        };
        assert_eq!(
            cells(horizontal_pod_autoscaler_cells(&hpa, now())),
            json!([
                "web",
                "Deployment/web",
                "cpu: 45%/80%, <unknown>/1 + 1 more...",
                "2",
                10,
                3,
                "5m"
            ])
        );
        let mut two = hpa.clone();
        two.spec.as_mut().unwrap().metrics = Some(vec![
            resource_util("cpu", Some(80)),
            resource_util("memory", None),
        ]);
        two.spec.as_mut().unwrap().min_replicas = None;
        let c = horizontal_pod_autoscaler_cells(&two, now());
        assert_eq!(c[2], json!("cpu: 45%/80%, memory: <unknown>/<auto>"));
        assert_eq!(c[3], json!("<unset>"));
        two.spec.as_mut().unwrap().metrics = None;
        assert_eq!(
            horizontal_pod_autoscaler_cells(&two, now())[2],
            json!("<none>")
        );
    }

    #[test]
    fn hpa_external_and_object() {
        let external = MetricSpec {
            type_: "External".into(),
            external: Some(ExternalMetricSource {
                metric: MetricIdentifier {
                    name: "queue".into(),
                    selector: None,
                },
                target: MetricTarget {
                    type_: "AverageValue".into(),
                    average_value: Some(Quantity("30".into())),
                    ..Default::default()
                },
            }),
            ..Default::default()
        };
        let object = MetricSpec {
            type_: "Object".into(),
            object: Some(ObjectMetricSource {
                described_object: CrossVersionObjectReference {
                    kind: "Ingress".into(),
                    name: "main".into(),
                    api_version: None,
                },
                metric: MetricIdentifier {
                    name: "hits".into(),
                    selector: None,
                },
                target: MetricTarget {
                    type_: "Value".into(),
                    value: Some(Quantity("2k".into())),
                    ..Default::default()
                },
            }),
            ..Default::default()
        };
        let statuses = vec![
            MetricStatus {
                type_: "External".into(),
                external: Some(ExternalMetricStatus {
                    metric: MetricIdentifier {
                        name: "queue".into(),
                        selector: None,
                    },
                    current: MetricValueStatus {
                        average_value: Some(Quantity("12".into())),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            },
            MetricStatus {
                type_: "Object".into(),
                object: Some(ObjectMetricStatus {
                    described_object: CrossVersionObjectReference {
                        kind: "Ingress".into(),
                        name: "main".into(),
                        api_version: None,
                    },
                    metric: MetricIdentifier {
                        name: "hits".into(),
                        selector: None,
                    },
                    current: MetricValueStatus {
                        value: Some(Quantity("1500".into())),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            },
        ];
        assert_eq!(
            format_metrics(&[external, object], &statuses),
            "12/30 (avg), 1500/2k"
        );
    }
}
