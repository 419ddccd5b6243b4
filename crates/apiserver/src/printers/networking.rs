//! Printers for `networking.k8s.io`.

use apimachinery::table::Column;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass, NetworkPolicy};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::Value;

use super::core::load_balancer_ingress;
use super::docs::*;
use super::{NONE, age, col, format_label_selector, name, s};

/// Ingress columns: NAME, CLASS, HOSTS, ADDRESS, PORTS, AGE.
pub fn ingress_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col(
            "Class",
            "The name of the IngressClass resource that should be used for additional configuration",
        ),
        col(
            "Hosts",
            "Hosts that incoming requests are matched against before the ingress rule",
        ),
        col(
            "Address",
            "Address is a list containing ingress points for the load-balancer",
        ),
        col("Ports", "Ports of TLS configurations that open"),
        Column::age(),
    ]
}

/// Ingress cells: up to three rule hosts (`*` when none), load-balancer addresses, and `80` or
/// `80, 443` with TLS.
pub fn ingress_cells(obj: &Ingress, now: jiff::Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let class = spec
        .and_then(|s| s.ingress_class_name.clone())
        .unwrap_or_else(|| NONE.into());
    let rules = spec.and_then(|s| s.rules.as_deref()).unwrap_or(&[]);
    const MAX: usize = 3;
    let mut hosts: Vec<String> = Vec::new();
    let mut more = false;
    for rule in rules {
        if hosts.len() == MAX {
            more = true;
        }
        let host = rule.host.as_deref().unwrap_or("");
        if !more && !host.is_empty() {
            hosts.push(host.to_string());
        }
    }
    let hosts = if hosts.is_empty() {
        "*".to_string()
    } else if more {
        format!("{} + {} more...", hosts.join(","), rules.len() - MAX)
    } else {
        hosts.join(",")
    };
    let ingress_points = obj
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|lb| lb.ingress.as_deref())
        .unwrap_or(&[]);
    let address = load_balancer_ingress(
        ingress_points
            .iter()
            .map(|i| (i.ip.clone(), i.hostname.clone())),
    );
    let ports = if spec
        .and_then(|s| s.tls.as_ref())
        .is_some_and(|t| !t.is_empty())
    {
        "80, 443"
    } else {
        "80"
    };
    vec![
        s(name(&obj.metadata)),
        s(class),
        s(hosts),
        s(address),
        s(ports),
        age(&obj.metadata, now),
    ]
}

/// IngressClass columns: NAME, CONTROLLER, PARAMETERS, AGE.
pub fn ingress_class_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col(
            "Controller",
            "Controller that is responsible for handling this class",
        ),
        col(
            "Parameters",
            "A reference to a resource with additional parameters",
        ),
        Column::age(),
    ]
}

/// IngressClass cells; PARAMETERS is `Kind[.apiGroup]/name` or `<none>`.
pub fn ingress_class_cells(obj: &IngressClass, now: jiff::Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let parameters = match spec.and_then(|s| s.parameters.as_ref()) {
        Some(p) => {
            let mut text = p.kind.clone();
            if let Some(group) = &p.api_group {
                text = format!("{text}.{group}");
            }
            format!("{text}/{}", p.name)
        }
        None => NONE.into(),
    };
    vec![
        s(name(&obj.metadata)),
        s(spec.and_then(|s| s.controller.clone()).unwrap_or_default()),
        s(parameters),
        age(&obj.metadata, now),
    ]
}

/// NetworkPolicy columns: NAME, POD-SELECTOR, AGE.
pub fn network_policy_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("Pod-Selector", EXT_NETPOL_SPEC_POD_SELECTOR),
        Column::age(),
    ]
}

/// NetworkPolicy cells; an empty pod selector prints `<none>`.
pub fn network_policy_cells(obj: &NetworkPolicy, now: jiff::Timestamp) -> Vec<Value> {
    let empty = LabelSelector::default();
    let sel = obj
        .spec
        .as_ref()
        .and_then(|s| s.pod_selector.as_ref())
        .unwrap_or(&empty);
    vec![
        s(name(&obj.metadata)),
        s(format_label_selector(Some(sel))),
        age(&obj.metadata, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testutil::{cells, meta, now};
    use k8s_openapi::api::networking::v1::*;
    use serde_json::json;

    fn rule(host: Option<&str>) -> IngressRule {
        IngressRule {
            host: host.map(Into::into),
            http: None,
        }
    }

    #[test]
    fn ingress() {
        let ing = Ingress {
            metadata: meta("web", 60),
            spec: Some(IngressSpec {
                ingress_class_name: Some("nginx".into()),
                rules: Some(vec![
                    rule(Some("a.example.com")),
                    rule(None),
                    rule(Some("b.example.com")),
                ]),
                tls: Some(vec![IngressTLS {
                    hosts: Some(vec!["a.example.com".into()]),
                    secret_name: None,
                }]),
                ..Default::default()
            }),
            status: Some(IngressStatus {
                load_balancer: Some(IngressLoadBalancerStatus {
                    ingress: Some(vec![
                        IngressLoadBalancerIngress {
                            ip: Some("192.0.2.10".into()),
                            ..Default::default()
                        },
                        IngressLoadBalancerIngress {
                            ip: Some("192.0.2.10".into()),
                            ..Default::default()
                        },
                    ]),
                }),
            }),
        };
        assert_eq!(
            cells(ingress_cells(&ing, now())),
            json!([
                "web",
                "nginx",
                "a.example.com,b.example.com",
                "192.0.2.10",
                "80, 443",
                "60s"
            ])
        );
        let many = Ingress {
            metadata: meta("many", 60),
            spec: Some(IngressSpec {
                rules: Some(vec![
                    rule(Some("a")),
                    rule(Some("b")),
                    rule(Some("c")),
                    rule(Some("d")),
                    rule(Some("e")),
                ]),
                ..Default::default()
            }),
            status: None,
        };
        assert_eq!(
            cells(ingress_cells(&many, now())),
            json!(["many", "<none>", "a,b,c + 2 more...", "", "80", "60s"])
        );
        let bare = Ingress {
            metadata: meta("bare", 60),
            ..Default::default()
        };
        assert_eq!(ingress_cells(&bare, now())[2], json!("*"));
    }

    #[test]
    fn ingress_class_and_network_policy() {
        let ic = IngressClass {
            metadata: meta("nginx", 60),
            spec: Some(IngressClassSpec {
                controller: Some("k8s.io/ingress-nginx".into()),
                parameters: Some(IngressClassParametersReference {
                    api_group: Some("k8s.example.com".into()),
                    kind: "IngressParameters".into(),
                    name: "external-lb".into(),
                    ..Default::default()
                }),
            }),
        };
        assert_eq!(
            cells(ingress_class_cells(&ic, now())),
            json!([
                "nginx",
                "k8s.io/ingress-nginx",
                "IngressParameters.k8s.example.com/external-lb",
                "60s"
            ])
        );
        let np = NetworkPolicy {
            metadata: meta("deny", 60),
            spec: Some(NetworkPolicySpec::default()),
        };
        assert_eq!(
            cells(network_policy_cells(&np, now())),
            json!(["deny", "<none>", "60s"])
        );
        let np = NetworkPolicy {
            metadata: meta("allow", 60),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(LabelSelector {
                    match_labels: Some([("role".to_string(), "db".to_string())].into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        };
        assert_eq!(network_policy_cells(&np, now())[1], json!("role=db"));
    }
}
