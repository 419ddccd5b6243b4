//! Tests for the policy, rbac, networking, coordination, discovery, events, storage,
//! scheduling, node, autoscaling and certificates groups.

use serde_json::{Value, json};

use super::tests_support::*;
use super::*;
use k8s_openapi::api::autoscaling::v2 as hpa;
use k8s_openapi::api::certificates::v1 as cert;
use k8s_openapi::api::coordination::v1 as coord;
use k8s_openapi::api::discovery::v1 as disc;
use k8s_openapi::api::events::v1 as ev;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::api::node::v1 as node;
use k8s_openapi::api::policy::v1 as policy;
use k8s_openapi::api::rbac::v1 as rbac;
use k8s_openapi::api::scheduling::v1 as sched;
use k8s_openapi::api::storage::v1 as st;

// ---------------------------------------------------------------------------------------------
// policy
// ---------------------------------------------------------------------------------------------

fn base_pdb() -> Value {
    json!({"metadata": {"name": "web", "namespace": "default"},
        "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}, "unhealthyPodEvictionPolicy": "AlwaysAllow"}})
}

#[test]
fn pod_disruption_budgets() {
    let pdb: policy::PodDisruptionBudget = obj(base_pdb());
    assert_eq!(strings(pod_disruption_budget(&pdb)), Vec::<String>::new());
    assert!(pod_disruption_budget_update(&pdb, &pdb).is_empty());
    let cases = vec![
        (
            "both",
            json!({"spec": {"maxUnavailable": "10%"}}),
            vec![s(
                "spec: Invalid value: {\"maxUnavailable\":\"10%\",\"minAvailable\":2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"unhealthyPodEvictionPolicy\":\"AlwaysAllow\"}: minAvailable and maxUnavailable cannot be both set",
            )],
        ),
        ("negative", json!({"spec": {"minAvailable": -1}}), vec![s("spec.minAvailable: Invalid value: -1: must be greater than or equal to 0")]),
        (
            "over 100%",
            json!({"spec": {"minAvailable": "120%"}}),
            vec![s("spec.minAvailable: Invalid value: \"120%\": must not be greater than 100%")],
        ),
        (
            "bad percent",
            json!({"spec": {"minAvailable": "abc"}}),
            vec![s("spec.minAvailable: Invalid value: \"abc\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")],
        ),
        (
            "selector",
            json!({"spec": {"selector": {"matchLabels": {"app": "-bad-"}}}}),
            vec![format!("spec.selector.matchLabels: Invalid value: \"-bad-\": {LABEL_VALUE_MSG}")],
        ),
        (
            "policy",
            json!({"spec": {"unhealthyPodEvictionPolicy": "Never"}}),
            vec![s("spec.unhealthyPodEvictionPolicy: Unsupported value: \"Never\": supported values: \"AlwaysAllow\", \"IfHealthyBudget\"")],
        ),
    ];
    check_table(&base_pdb(), pod_disruption_budget, &cases);

    let mut bad = pdb.clone();
    bad.status = Some(obj(json!({"disruptionsAllowed": -1, "currentHealthy": 1, "desiredHealthy": 1, "expectedPods": 1,
        "conditions": [{"type": "DisruptionAllowed", "status": "Maybe", "reason": "bad reason", "lastTransitionTime": "2024-01-01T00:00:00Z", "message": ""}]})));
    assert_eq!(
        strings(pod_disruption_budget_status_update(&bad, &pdb)),
        vec![
            s("status.conditions[0].status: Unsupported value: \"Maybe\": supported values: \"False\", \"True\", \"Unknown\""),
            s("status.conditions[0].reason: Invalid value: \"bad reason\": a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or 'ReasonA:ReasonB', regex used for validation is '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')"),
            s("status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0"),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// rbac
// ---------------------------------------------------------------------------------------------

#[test]
fn roles() {
    let base = json!({"metadata": {"name": "reader", "namespace": "default"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]});
    let r: rbac::Role = obj(base.clone());
    assert!(role(&r).is_empty());
    let cases = vec![
        (
            "no verbs",
            json!({"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": []}]}),
            vec![s("rules[0].verbs: Required value: verbs must contain at least one value")],
        ),
        (
            "missing groups and resources",
            json!({"rules": [{"verbs": ["get"]}]}),
            vec![
                s("rules[0].apiGroups: Required value: resource rules must supply at least one api group"),
                s("rules[0].resources: Required value: resource rules must supply at least one resource"),
            ],
        ),
        (
            "non-resource in role",
            json!({"rules": [{"nonResourceURLs": ["/healthz"], "verbs": ["get"], "resources": ["pods"]}]}),
            vec![
                s("rules[0].nonResourceURLs: Invalid value: [\"/healthz\"]: namespaced rules cannot apply to non-resource URLs"),
                s("rules[0].nonResourceURLs: Invalid value: [\"/healthz\"]: rules cannot apply to both regular resources and non-resource URLs"),
            ],
        ),
    ];
    check_table(&base, role, &cases);

    let cr: rbac::ClusterRole = obj(json!({"metadata": {"name": "x"}, "rules": [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}],
        "aggregationRule": {"clusterRoleSelectors": []}}));
    assert_eq!(
        strings(cluster_role(&cr)),
        vec![s("aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil")]
    );
    let cr: rbac::ClusterRole = obj(json!({"metadata": {"name": "x"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"rbac.example.com/aggregate": "true"}}]}}));
    assert!(cluster_role(&cr).is_empty());
}

#[test]
fn role_bindings() {
    let base = json!({"metadata": {"name": "rb", "namespace": "default"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"},
                     {"kind": "User", "name": "jane", "apiGroup": "rbac.authorization.k8s.io"}]});
    let rb: rbac::RoleBinding = obj(base.clone());
    assert!(role_binding(&rb).is_empty());
    let cases = vec![
        (
            "roleRef",
            json!({"roleRef": {"apiGroup": "example.com", "kind": "Secret", "name": "a/b"}}),
            vec![
                s("roleRef.apiGroup: Unsupported value: \"example.com\": supported values: \"rbac.authorization.k8s.io\""),
                s("roleRef.kind: Unsupported value: \"Secret\": supported values: \"Role\", \"ClusterRole\""),
                s("roleRef.name: Invalid value: \"a/b\": may not contain '/'"),
            ],
        ),
        (
            "subjects",
            json!({"subjects": [{"kind": "ServiceAccount", "name": "Bad_Name", "apiGroup": "v1"}, {"kind": "Group", "name": ""}, {"kind": "Robot", "name": "r"}]}),
            vec![
                format!("subjects[0].name: Invalid value: \"Bad_Name\": {SUBDOMAIN_MSG}"),
                s("subjects[0].apiGroup: Unsupported value: \"v1\": supported values: \"\""),
                s("subjects[1].name: Required value"),
                s("subjects[1].apiGroup: Unsupported value: \"\": supported values: \"rbac.authorization.k8s.io\""),
                s("subjects[2].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\""),
            ],
        ),
    ];
    check_table(&base, role_binding, &cases);

    let mut changed = rb.clone();
    changed.role_ref.name = "writer".into();
    assert_eq!(
        strings(role_binding_update(&changed, &rb)),
        vec![s("roleRef: Invalid value: {\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"Role\",\"name\":\"writer\"}: cannot change roleRef")]
    );

    let crb: rbac::ClusterRoleBinding = obj(json!({"metadata": {"name": "crb"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "default"}]}));
    assert_eq!(
        strings(cluster_role_binding(&crb)),
        vec![
            s("roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\""),
            s("subjects[0].namespace: Required value"),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// networking
// ---------------------------------------------------------------------------------------------

fn base_network_policy() -> Value {
    json!({"metadata": {"name": "np", "namespace": "default"},
        "spec": {"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}, "namespaceSelector": {}},
                                  {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
                         "ports": [{"protocol": "TCP", "port": 5432}, {"protocol": "TCP", "port": 8000, "endPort": 9000}, {"port": "metrics"}]}],
            "egress": [{"to": [{"ipBlock": {"cidr": "2001:db8::/32"}}]}]}})
}

#[test]
fn network_policies() {
    let np: net::NetworkPolicy = obj(base_network_policy());
    assert_eq!(strings(network_policy(&np)), Vec::<String>::new());
    assert!(network_policy_update(&np, &np).is_empty());
    let cases = vec![
        (
            "ports",
            json!({"spec": {"ingress": [{"ports": [{"protocol": "ICMP", "port": 70000}, {"port": 9000, "endPort": 8000}, {"port": "http", "endPort": 90}, {"endPort": 90}]}]}}),
            vec![
                s("spec.ingress[0].ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"TCP\", \"UDP\", \"SCTP\""),
                s("spec.ingress[0].ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive"),
                s("spec.ingress[0].ports[1].endPort: Invalid value: 8000: must be greater than or equal to `port`"),
                s("spec.ingress[0].ports[2].endPort: Invalid value: 90: may not be specified when `port` is non-numeric"),
                s("spec.ingress[0].ports[3].endPort: Invalid value: 90: may not be specified when `port` is not specified"),
            ],
        ),
        (
            "peers",
            json!({"spec": {"ingress": [{"from": [{}, {"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}},
                {"ipBlock": {"cidr": ""}}, {"ipBlock": {"cidr": "10.0.0.0"}}, {"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.0.0/8", "x"]}}]}]}}),
            vec![
                s("spec.ingress[0].from[0]: Required value: must specify a peer"),
                s("spec.ingress[0].from[1]: Forbidden: may not specify both ipBlock and another peer"),
                s("spec.ingress[0].from[2].ipBlock.cidr: Required value"),
                s("spec.ingress[0].from[3].ipBlock.cidr: Invalid value: \"10.0.0.0\": not a valid CIDR"),
                s("spec.ingress[0].from[4].ipBlock.except[0]: Invalid value: \"10.0.0.0/8\": must be a strict subset of `cidr`"),
                s("spec.ingress[0].from[4].ipBlock.except[1]: Invalid value: \"x\": not a valid CIDR"),
            ],
        ),
        (
            "policy types",
            json!({"spec": {"policyTypes": ["Ingress", "Sideways"]}}),
            vec![s("spec.policyTypes[1]: Unsupported value: \"Sideways\": supported values: \"Ingress\", \"Egress\"")],
        ),
        (
            "too many policy types",
            json!({"spec": {"policyTypes": ["Ingress", "Egress", "Ingress"]}}),
            vec![s("spec.policyTypes: Invalid value: [\"Ingress\",\"Egress\",\"Ingress\"]: may not specify more than two policyTypes")],
        ),
    ];
    check_table(&base_network_policy(), network_policy, &cases);
}

fn base_ingress() -> Value {
    json!({"metadata": {"name": "web", "namespace": "default", "annotations": {"kubernetes.io/ingress.class": "nginx"}},
        "spec": {"ingressClassName": "nginx",
            "defaultBackend": {"service": {"name": "default-http", "port": {"number": 80}}},
            "tls": [{"hosts": ["example.com", "*.example.com"], "secretName": "tls-cert"}],
            "rules": [{"host": "*.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"name": "http"}}}},
                {"path": "/static", "pathType": "ImplementationSpecific", "backend": {"resource": {"apiGroup": "k8s.example.com", "kind": "StorageBucket", "name": "static"}}}
            ]}}]}})
}

#[test]
fn ingresses() {
    let ing: net::Ingress = obj(base_ingress());
    assert_eq!(strings(ingress(&ing)), Vec::<String>::new());
    assert!(ingress_update(&ing, &ing).is_empty());
    let path0 = |p: Value| json!({"spec": {"rules": [{"host": "example.com", "http": {"paths": [p]}}]}});
    let svc = json!({"service": {"name": "web", "port": {"number": 80}}});
    let cases = vec![
        (
            "nothing",
            json!({"spec": {"defaultBackend": null, "rules": null}}),
            vec![s("spec: Invalid value: []: either `defaultBackend` or `rules` must be specified")],
        ),
        (
            "host",
            json!({"spec": {"rules": [{"host": "10.0.0.1"}, {"host": "*.a.*.com"}]}}),
            vec![
                s("spec.rules[0].host: Invalid value: \"10.0.0.1\": must be a DNS name, not an IP address"),
                s("spec.rules[1].host: Invalid value: \"*.a.*.com\": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"),
            ],
        ),
        ("no paths", json!({"spec": {"rules": [{"http": {"paths": []}}]}}), vec![s("spec.rules[0].http.paths: Required value")]),
        (
            "path type missing",
            path0(json!({"path": "/", "pathType": "", "backend": svc.clone()})),
            vec![s("spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified")],
        ),
        (
            "bad exact path",
            path0(json!({"path": "a//b/..", "pathType": "Exact", "backend": svc.clone()})),
            vec![
                s("spec.rules[0].http.paths[0].path: Invalid value: \"a//b/..\": must be an absolute path"),
                s("spec.rules[0].http.paths[0].path: Invalid value: \"a//b/..\": must not contain '//'"),
                s("spec.rules[0].http.paths[0].path: Invalid value: \"a//b/..\": cannot end with '/..'"),
            ],
        ),
        (
            "path type unsupported",
            path0(json!({"path": "/", "pathType": "Regex", "backend": svc.clone()})),
            vec![s("spec.rules[0].http.paths[0].pathType: Unsupported value: \"Regex\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\"")],
        ),
        (
            "backends",
            json!({"spec": {"defaultBackend": {"service": {"name": "Web", "port": {"name": "http", "number": 80}}}}}),
            vec![
                format!("spec.defaultBackend.service.name: Invalid value: \"Web\": {DNS1035_MSG}"),
                s("spec.defaultBackend: Invalid value: \"\": cannot set both port name & port number"),
            ],
        ),
        (
            "backend without port",
            json!({"spec": {"defaultBackend": {"service": {"name": "web", "port": null}}}}),
            vec![s("spec.defaultBackend: Required value: port name or number is required")],
        ),
        (
            "both backends",
            json!({"spec": {"defaultBackend": {"resource": {"kind": "X", "name": "y"}}}}),
            vec![s("spec.defaultBackend: Invalid value: \"\": cannot set both resource and service backends")],
        ),
        (
            "resource backend",
            json!({"spec": {"defaultBackend": {"service": null, "resource": {"apiGroup": "Bad", "kind": "", "name": ".."}}}}),
            vec![
                format!("spec.defaultBackend.resource.apiGroup: Invalid value: \"Bad\": {SUBDOMAIN_MSG}"),
                s("spec.defaultBackend.resource.kind: Required value: kind is required"),
                s("spec.defaultBackend.resource.name: Invalid value: \"..\": may not be '..'"),
            ],
        ),
        (
            "tls",
            json!({"spec": {"tls": [{"hosts": ["Bad.com"], "secretName": "Bad"}]}}),
            vec![
                format!("spec.tls[0].hosts[0]: Invalid value: \"Bad.com\": {SUBDOMAIN_MSG}"),
                format!("spec.tls[0].secretName: Invalid value: \"Bad\": {SUBDOMAIN_MSG}"),
            ],
        ),
        (
            "class mismatch",
            json!({"spec": {"ingressClassName": "haproxy"}}),
            vec![s("annotations.kubernetes.io/ingress.class: Invalid value: \"nginx\": must match `ingressClassName` when both are specified")],
        ),
    ];
    check_table(&base_ingress(), ingress, &cases);

    // an existing invalid secret name is tolerated on update
    let bad: net::Ingress = obj(merge(&base_ingress(), &json!({"spec": {"tls": [{"secretName": "Bad"}]}})));
    assert!(ingress_update(&bad, &bad).is_empty());
    assert_eq!(strings(ingress_update(&bad, &ing)).len(), 1);

    let mut st_bad = ing.clone();
    st_bad.status = Some(obj(json!({"loadBalancer": {"ingress": [{"ip": "300.1.1.1"}, {"hostname": "1.2.3.4"}]}})));
    assert_eq!(
        strings(ingress_status_update(&st_bad, &ing)),
        vec![
            s("status.loadBalancer.ingress[0].ip: Invalid value: \"300.1.1.1\": must be a valid IP address"),
            s("status.loadBalancer.ingress[1].hostname: Invalid value: \"1.2.3.4\": must be a DNS name, not an IP address"),
        ]
    );
}

#[test]
fn ingress_classes() {
    let base = json!({"metadata": {"name": "nginx"},
        "spec": {"controller": "k8s.io/ingress-nginx",
            "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "external-lb", "scope": "Namespace", "namespace": "ingress"}}});
    let ic: net::IngressClass = obj(base.clone());
    assert_eq!(strings(ingress_class(&ic)), Vec::<String>::new());
    let cases = vec![
        ("no controller", json!({"spec": {"controller": ""}}), vec![s("spec.controller: Required value")]),
        (
            "not prefixed",
            json!({"spec": {"controller": "nginx"}}),
            vec![s("spec.controller: Invalid value: \"nginx\": must be a domain-prefixed path (such as \"acme.io/foo\")")],
        ),
        (
            "namespace scope without namespace",
            json!({"spec": {"parameters": {"namespace": null}}}),
            vec![s("spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'")],
        ),
        (
            "cluster scope with namespace",
            json!({"spec": {"parameters": {"scope": "Cluster"}}}),
            vec![s("spec.parameters.namespace: Forbidden: `parameters.scope` is set to 'Cluster'")],
        ),
        (
            "bad scope",
            json!({"spec": {"parameters": {"scope": "Global"}}}),
            vec![s("spec.parameters.scope: Unsupported value: \"Global\": supported values: \"Cluster\", \"Namespace\"")],
        ),
    ];
    check_table(&base, ingress_class, &cases);
    let mut changed = ic.clone();
    changed.spec.as_mut().unwrap().controller = Some("k8s.io/other".into());
    assert_eq!(strings(ingress_class_update(&changed, &ic)), vec![s("spec.controller: Invalid value: \"k8s.io/other\": field is immutable")]);
}

// ---------------------------------------------------------------------------------------------
// coordination, scheduling, node
// ---------------------------------------------------------------------------------------------

#[test]
fn leases() {
    let base = json!({"metadata": {"name": "l", "namespace": "kube-system"},
        "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40, "leaseTransitions": 3}});
    let l: coord::Lease = obj(base.clone());
    assert!(lease(&l).is_empty());
    let cases = vec![
        (
            "bad numbers",
            json!({"spec": {"leaseDurationSeconds": 0, "leaseTransitions": -1}}),
            vec![
                s("spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"),
                s("spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0"),
            ],
        ),
        (
            "strategy",
            json!({"spec": {"strategy": "Newest"}}),
            vec![s("spec.strategy: Unsupported value: \"Newest\": supported values: \"OldestEmulationVersion\"")],
        ),
        (
            "preferred holder",
            json!({"spec": {"preferredHolder": "node-2"}}),
            vec![s("spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined")],
        ),
    ];
    check_table(&base, lease, &cases);
}

#[test]
fn priority_classes() {
    let base = json!({"metadata": {"name": "high"}, "value": 1000000, "preemptionPolicy": "PreemptLowerPriority"});
    let pc: sched::PriorityClass = obj(base.clone());
    assert!(priority_class(&pc).is_empty());
    let sys: sched::PriorityClass = obj(json!({"metadata": {"name": "system-node-critical"}, "value": 2000001000}));
    assert!(priority_class(&sys).is_empty());
    let cases = vec![
        (
            "too high",
            json!({"value": 1000000001}),
            vec![s("value: Forbidden: maximum allowed value of a user defined priority is 1000000000")],
        ),
        (
            "system prefix",
            json!({"metadata": {"name": "system-custom"}}),
            vec![s("metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-custom is not a known system priority class")],
        ),
        (
            "system value",
            json!({"metadata": {"name": "system-cluster-critical"}}),
            vec![s("metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-cluster-critical PriorityClass must be 2000000000")],
        ),
        (
            "preemption",
            json!({"preemptionPolicy": "Always"}),
            vec![s("preemptionPolicy: Unsupported value: \"Always\": supported values: \"PreemptLowerPriority\", \"Never\"")],
        ),
    ];
    check_table(&base, priority_class, &cases);
    let mut changed = pc.clone();
    changed.value = 5;
    changed.preemption_policy = Some("Never".into());
    assert_eq!(
        strings(priority_class_update(&changed, &pc)),
        vec![s("value: Forbidden: may not be changed in an update."), s("preemptionPolicy: Invalid value: \"Never\": field is immutable")]
    );
}

#[test]
fn runtime_classes() {
    let base = json!({"metadata": {"name": "gvisor"}, "handler": "runsc",
        "overhead": {"podFixed": {"cpu": "250m", "memory": "64Mi"}},
        "scheduling": {"nodeSelector": {"runtime": "gvisor"}, "tolerations": [{"key": "runtime", "operator": "Equal", "value": "gvisor", "effect": "NoSchedule"}]}});
    let rc: node::RuntimeClass = obj(base.clone());
    assert!(runtime_class(&rc).is_empty());
    let tol = json!({"key": "runtime", "operator": "Exists", "effect": "NoExecute"});
    let cases = vec![
        ("handler", json!({"handler": "Run_SC"}), vec![format!("handler: Invalid value: \"Run_SC\": {LABEL_MSG}")]),
        (
            "overhead",
            json!({"overhead": {"podFixed": {"cpu": "-1"}}}),
            vec![s("overhead.limits[cpu]: Invalid value: \"-1\": must be greater than or equal to 0")],
        ),
        (
            "tolerations",
            json!({"scheduling": {"tolerations": [tol.clone(), tol.clone(), {"key": "a", "operator": "In"}]}}),
            vec![
                s("scheduling.tolerations.tolerations[2].operator: Unsupported value: \"In\": supported values: \"Equal\", \"Exists\""),
                s("scheduling.tolerations[1]: Duplicate value: {\"effect\":\"NoExecute\",\"key\":\"runtime\",\"operator\":\"Exists\"}"),
            ],
        ),
    ];
    check_table(&base, runtime_class, &cases);
    let mut changed = rc.clone();
    changed.handler = "runc".into();
    assert_eq!(strings(runtime_class_update(&changed, &rc)), vec![s("handler: Invalid value: \"runc\": field is immutable")]);
}

// ---------------------------------------------------------------------------------------------
// discovery, events
// ---------------------------------------------------------------------------------------------

fn base_slice() -> Value {
    json!({"metadata": {"name": "web-abc", "namespace": "default"}, "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.1.2.3"], "conditions": {"ready": true}, "nodeName": "node-1", "zone": "a",
            "hostname": "web-0", "hints": {"forZones": [{"name": "a"}]}}],
        "ports": [{"name": "http", "protocol": "TCP", "port": 80, "appProtocol": "kubernetes.io/h2c"}]})
}

#[test]
fn endpoint_slices() {
    let es: disc::EndpointSlice = obj(base_slice());
    assert_eq!(strings(endpoint_slice(&es)), Vec::<String>::new());
    let cases = vec![
        (
            "address type",
            json!({"addressType": "IPX", "endpoints": []}),
            vec![s("addressType: Unsupported value: \"IPX\": supported values: \"FQDN\", \"IPv4\", \"IPv6\"")],
        ),
        (
            "addresses",
            json!({"endpoints": [{"addresses": []}, {"addresses": ["fd00::1", "127.0.0.1", "1.2.3"]}]}),
            vec![
                s("endpoints[0].addresses: Required value: must contain at least 1 address"),
                s("endpoints[1].addresses[0]: Invalid value: \"fd00::1\": must be a valid IPv4 address"),
                s("endpoints[1].addresses[1]: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)"),
                s("endpoints[1].addresses[2]: Invalid value: \"1.2.3\": must be a valid IPv4 address"),
            ],
        ),
        (
            "hostname and hints",
            json!({"endpoints": [{"addresses": ["10.0.0.1"], "hostname": "Web", "hints": {"forZones": [{"name": "a"}, {"name": "a"}]}}]}),
            vec![
                format!("endpoints[0].hostname: Invalid value: \"Web\": {LABEL_MSG}"),
                s("endpoints[0].hints.forZones[1].name: Duplicate value: \"a\""),
            ],
        ),
        (
            "ports",
            json!({"ports": [{"name": "http", "protocol": "TCP"}, {"name": "http", "protocol": "ICMP"}, {"name": "Bad"}]}),
            vec![
                s("ports[1].name: Duplicate value: \"http\""),
                s("ports[1].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\""),
                format!("ports[2].name: Invalid value: \"Bad\": {LABEL_MSG}"),
                s("ports[2].protocol: Required value"),
            ],
        ),
    ];
    check_table(&base_slice(), endpoint_slice, &cases);
    let fqdn: disc::EndpointSlice = obj(merge(&base_slice(), &json!({"addressType": "FQDN", "endpoints": [{"addresses": ["example.com", "localhost"]}]})));
    assert_eq!(
        strings(endpoint_slice(&fqdn)),
        vec![s("endpoints[0].addresses[1]: Invalid value: \"localhost\": should be a domain with at least two segments separated by dots")]
    );
    assert_eq!(
        strings(endpoint_slice_update(&fqdn, &es))[1..].to_vec(),
        vec![s("addressType: Invalid value: \"FQDN\": field is immutable")]
    );
}

fn base_events_event() -> Value {
    json!({"metadata": {"name": "e1", "namespace": "default"}, "eventTime": "2024-05-01T10:00:00.000000Z",
        "reportingController": "example.com/controller", "reportingInstance": "controller-1", "action": "Scale", "reason": "Scaled",
        "type": "Normal", "regarding": {"kind": "Deployment", "namespace": "default", "name": "web"}, "note": "scaled up"})
}

#[test]
fn events_k8s_io() {
    let e: ev::Event = obj(base_events_event());
    assert_eq!(strings(events_event(&e)), Vec::<String>::new());
    let cases = vec![
        (
            "missing fields",
            json!({"eventTime": null, "type": "Info", "deprecatedCount": 3, "deprecatedSource": {"component": "x"}}),
            vec![
                s("eventTime: Required value"),
                s("type: Invalid value: \"\": has invalid value: Info"),
                s("count: Invalid value: \"\": needs to be unset"),
                s("source: Invalid value: \"\": needs to be unset"),
            ],
        ),
        (
            "reporting fields",
            json!({"reportingController": "", "action": "", "regarding": {"namespace": "other"}}),
            vec![
                s("reportingController: Required value"),
                s("reportingController: Invalid value: \"\": name part must be non-empty"),
                format!("reportingController: Invalid value: \"\": {NAME_PART_MSG}"),
                s("action: Required value"),
            ],
        ),
        (
            "series",
            json!({"series": {"count": 1, "lastObservedTime": "2024-05-01T10:00:00.000000Z"}}),
            vec![s("series.count: Invalid value: \"\": should be at least 2")],
        ),
    ];
    check_table(&base_events_event(), events_event, &cases);
    let mut changed = e.clone();
    changed.note = Some("other".into());
    changed.reason = Some("Other".into());
    assert_eq!(
        strings(events_event_update(&changed, &e)),
        vec![
            s("reason: Invalid value: \"Other\": field is immutable"),
            s("message: Invalid value: \"other\": field is immutable"),
            s("reason: Invalid value: \"Other\": field is immutable"),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// storage
// ---------------------------------------------------------------------------------------------

fn base_storage_class() -> Value {
    json!({"metadata": {"name": "fast"}, "provisioner": "ebs.csi.aws.com", "parameters": {"type": "gp3"},
        "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": true,
        "allowedTopologies": [{"matchLabelExpressions": [{"key": "topology.kubernetes.io/zone", "values": ["us-east-1a"]}]}]})
}

#[test]
fn storage_classes() {
    let sc: st::StorageClass = obj(base_storage_class());
    assert_eq!(strings(storage_class(&sc)), Vec::<String>::new());
    assert!(storage_class_update(&sc, &sc).is_empty());
    let term = json!({"matchLabelExpressions": [{"key": "zone", "values": ["a"]}]});
    let cases = vec![
        ("provisioner", json!({"provisioner": ""}), vec![s("provisioner: Required value")]),
        (
            "bad provisioner",
            json!({"provisioner": "Bad Provisioner"}),
            vec![format!("provisioner: Invalid value: \"bad provisioner\": {NAME_PART_MSG}")],
        ),
        (
            "policies",
            json!({"reclaimPolicy": "Recycle", "volumeBindingMode": "Later"}),
            vec![
                s("reclaimPolicy: Unsupported value: \"Recycle\": supported values: \"Delete\", \"Retain\""),
                s("volumeBindingMode: Unsupported value: \"Later\": supported values: \"Immediate\", \"WaitForFirstConsumer\""),
            ],
        ),
        (
            "topologies",
            json!({"allowedTopologies": [term.clone(), term.clone(), {"matchLabelExpressions": [{"key": "zone", "values": []}]}]}),
            vec![
                s("allowedTopologies[1].matchLabelExpressions: Duplicate value: \"\""),
                s("allowedTopologies[2].matchLabelExpressions[0].values: Required value"),
            ],
        ),
    ];
    check_table(&base_storage_class(), storage_class, &cases);
    let mut changed = sc.clone();
    changed.parameters = None;
    changed.provisioner = "other.csi".into();
    changed.reclaim_policy = Some("Retain".into());
    changed.volume_binding_mode = Some("Immediate".into());
    assert_eq!(
        strings(storage_class_update(&changed, &sc)),
        vec![
            s("parameters: Forbidden: updates to parameters are forbidden."),
            s("provisioner: Forbidden: updates to provisioner are forbidden."),
            s("reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden."),
            s("volumeBindingMode: Invalid value: \"Immediate\": field is immutable"),
        ]
    );
}

#[test]
fn volume_attachments_and_csi() {
    let base = json!({"metadata": {"name": "va"}, "spec": {"attacher": "ebs.csi.aws.com", "nodeName": "node-1",
        "source": {"persistentVolumeName": "pv-1"}}});
    let va: st::VolumeAttachment = obj(base.clone());
    assert!(volume_attachment(&va).is_empty());
    let cases = vec![
        (
            "no source",
            json!({"spec": {"source": {"persistentVolumeName": null}}}),
            vec![s("spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName")],
        ),
        (
            "inline without csi",
            json!({"spec": {"source": {"persistentVolumeName": null, "inlineVolumeSpec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}}}}}),
            vec![
                s("spec.source.inlineVolumeSpec.capacity: Forbidden: may not be specified in the context of inline volumes"),
                s("spec.source.inlineVolumeSpec.csi: Required value: has to be specified in the context of inline volumes"),
                s("spec.source.inlineVolumeSpec: Required value: must specify a volume type"),
            ],
        ),
        (
            "bad attacher and node",
            json!({"spec": {"attacher": "", "nodeName": "Node_1"}}),
            vec![
                s("spec.attacher: Required value"),
                format!("spec.nodeName: Invalid value: \"Node_1\": {SUBDOMAIN_MSG}"),
                s("spec.attacher: Required value"),
                format!("spec.attacher: Invalid value: \"\": {SUBDOMAIN_MSG}"),
            ],
        ),
    ];
    check_table(&base, volume_attachment, &cases);
    let mut changed = va.clone();
    changed.spec.node_name = "node-2".into();
    let errs = strings(volume_attachment_update(&changed, &va));
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with("spec: Invalid value: {") && errs[0].ends_with("}: field is immutable"), "{errs:?}");

    let driver: st::CSIDriver = obj(json!({"metadata": {"name": "ebs.csi.aws.com"}, "spec": {"attachRequired": true, "podInfoOnMount": false,
        "fsGroupPolicy": "Sometimes", "volumeLifecycleModes": ["Persistent", "Forever"],
        "tokenRequests": [{"audience": "a", "expirationSeconds": 60}, {"audience": "a"}]}}));
    assert_eq!(
        strings(csi_driver(&driver)),
        vec![
            s("spec.fsGroupPolicy: Unsupported value: \"Sometimes\": supported values: \"File\", \"None\", \"ReadWriteOnceWithFSType\""),
            s("spec.tokenRequests[0].expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes"),
            s("spec.tokenRequests[1].audience: Duplicate value: \"a\""),
            s("spec.volumeLifecycleModes: Unsupported value: \"Forever\": supported values: \"Persistent\", \"Ephemeral\""),
        ]
    );
    let mut d2 = driver.clone();
    d2.spec.attach_required = Some(false);
    assert!(strings(csi_driver_update(&d2, &driver)).contains(&s("spec.attachedRequired: Invalid value: false: field is immutable")));

    let n: st::CSINode = obj(json!({"metadata": {"name": "node-1"}, "spec": {"drivers": [
        {"name": "ebs.csi.aws.com", "nodeID": "i-123", "topologyKeys": ["topology.ebs.csi.aws.com/zone"], "allocatable": {"count": 25}},
        {"name": "ebs.csi.aws.com", "nodeID": "", "topologyKeys": ["", "a", "a"], "allocatable": {"count": -1}}]}}));
    assert_eq!(
        strings(csi_node(&n)),
        vec![
            s("spec.drivers[1].nodeID: Required value"),
            s("spec.drivers[1].allocatable.count: Invalid value: -1: must be greater than or equal to 0"),
            s("spec.drivers[1].name: Duplicate value: \"ebs.csi.aws.com\""),
            s("spec.drivers[1]: Required value"),
            s("spec.drivers[1]: Invalid value: \"\": name part must be non-empty"),
            format!("spec.drivers[1]: Invalid value: \"\": {NAME_PART_MSG}"),
            s("spec.drivers[1]: Duplicate value: \"a\""),
        ]
    );

    let cap: st::CSIStorageCapacity = obj(json!({"metadata": {"name": "c", "namespace": "default"}, "storageClassName": "fast",
        "nodeTopology": {"matchLabels": {"zone": "a"}}, "capacity": "-1Gi"}));
    assert_eq!(strings(csi_storage_capacity(&cap)), vec![s("capacity: Invalid value: \"-1Gi\": must be greater than or equal to 0")]);
    let mut cap2 = cap.clone();
    cap2.storage_class_name = "slow".into();
    assert!(strings(csi_storage_capacity_update(&cap2, &cap)).contains(&s("storageClassName: Invalid value: \"slow\": field is immutable")));
}

// ---------------------------------------------------------------------------------------------
// autoscaling
// ---------------------------------------------------------------------------------------------

fn base_hpa() -> Value {
    json!({"metadata": {"name": "web", "namespace": "default"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "minReplicas": 2, "maxReplicas": 10,
            "metrics": [
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}},
                {"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "100"}}},
                {"type": "Object", "object": {"describedObject": {"kind": "Ingress", "name": "web", "apiVersion": "networking.k8s.io/v1"},
                    "metric": {"name": "hits"}, "target": {"type": "Value", "value": "10k"}}},
                {"type": "External", "external": {"metric": {"name": "queue", "selector": {"matchLabels": {"q": "jobs"}}}, "target": {"type": "AverageValue", "averageValue": "30"}}},
                {"type": "ContainerResource", "containerResource": {"name": "memory", "container": "app", "target": {"type": "AverageValue", "averageValue": "500Mi"}}}
            ],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300, "selectPolicy": "Max", "policies": [{"type": "Percent", "value": 10, "periodSeconds": 60}]}}}})
}

#[test]
fn horizontal_pod_autoscalers() {
    let h: hpa::HorizontalPodAutoscaler = obj(base_hpa());
    assert_eq!(strings(horizontal_pod_autoscaler(&h)), Vec::<String>::new());
    let cases = vec![
        (
            "replicas",
            json!({"spec": {"minReplicas": 0, "maxReplicas": 0}}),
            vec![
                s("spec.minReplicas: Invalid value: 0: must be greater than or equal to 1"),
                s("spec.maxReplicas: Invalid value: 0: must be greater than 0"),
            ],
        ),
        (
            "zero replicas without object metrics",
            json!({"spec": {"minReplicas": 0, "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}}),
            vec![
                s("spec.minReplicas: Invalid value: 0: must be greater than or equal to 1"),
                s("spec.metrics: Forbidden: must specify at least one Object or External metric to support scaling to zero replicas"),
            ],
        ),
        (
            "max below min",
            json!({"spec": {"maxReplicas": 1}}),
            vec![s("spec.maxReplicas: Invalid value: 1: must be greater than or equal to `minReplicas`")],
        ),
        (
            "target ref",
            json!({"spec": {"scaleTargetRef": {"kind": "", "name": "a/b"}}}),
            vec![s("spec.scaleTargetRef.kind: Required value"), s("spec.scaleTargetRef.name: Invalid value: \"a/b\": may not contain '/'")],
        ),
        (
            "metrics",
            json!({"spec": {"metrics": [
                {"type": "Resource", "resource": {"name": "", "target": {"type": "Percent", "averageUtilization": 0, "averageValue": "-1"}}},
                {"type": "Pods"},
                {"type": "Object", "object": {"describedObject": {"kind": "X", "name": "y"}, "metric": {"name": ""}, "target": {"type": "Value"}},
                 "pods": {"metric": {"name": "a"}, "target": {"type": "AverageValue", "averageValue": "1"}}},
                {"type": "Foo"}
            ]}}),
            vec![
                s("spec.metrics[0].resource.name: Required value: must specify a resource name"),
                s("spec.metrics[0].resource.target.type: Invalid value: \"Percent\": must be either Utilization, Value, or AverageValue"),
                s("spec.metrics[0].resource.target.averageValue: Invalid value: \"-1\": must be positive"),
                s("spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0"),
                s("spec.metrics[0].resource.target.averageValue: Forbidden: may not set both a target raw value and a target utilization"),
                s("spec.metrics[1].pods: Required value: must populate information for the given metric source"),
                s("spec.metrics[2].object.metric.name: Required value: must specify a metric name"),
                s("spec.metrics[2].object.target.averageValue: Required value: must set either a target value or averageValue"),
                s("spec.metrics[2].pods: Forbidden: must populate the given metric source only"),
                s("spec.metrics[3].type: Unsupported value: \"Foo\": supported values: \"ContainerResource\", \"External\", \"Object\", \"Pods\", \"Resource\""),
                s("spec.metrics[3].type: Unsupported value: \"Foo\": supported values: \"ContainerResource\", \"External\", \"Object\", \"Pods\", \"Resource\""),
            ],
        ),
        (
            "behavior",
            json!({"spec": {"behavior": {"scaleUp": {"stabilizationWindowSeconds": 4000, "selectPolicy": "Avg", "policies": []},
                "scaleDown": {"policies": [{"type": "Nodes", "value": 0, "periodSeconds": 3600}]}}}}),
            vec![
                s("spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600"),
                s("spec.behavior.scaleUp.selectPolicy: Unsupported value: \"Avg\": supported values: \"Disabled\", \"Max\", \"Min\""),
                s("spec.behavior.scaleUp.policies: Required value: must specify at least one Policy"),
                s("spec.behavior.scaleDown.policies[0].type: Unsupported value: \"Nodes\": supported values: \"Percent\", \"Pods\""),
                s("spec.behavior.scaleDown.policies[0].value: Invalid value: 0: must be greater than zero"),
                s("spec.behavior.scaleDown.policies[0].periodSeconds: Invalid value: 3600: must be less than or equal to 1800"),
            ],
        ),
    ];
    check_table(&base_hpa(), horizontal_pod_autoscaler, &cases);
    let mut st_bad = h.clone();
    st_bad.status = Some(obj(json!({"currentReplicas": -1, "desiredReplicas": 2})));
    assert_eq!(
        strings(horizontal_pod_autoscaler_status_update(&st_bad, &h)),
        vec![s("status.currentReplicas: Invalid value: -1: must be greater than or equal to 0")]
    );
}

// ---------------------------------------------------------------------------------------------
// certificates
// ---------------------------------------------------------------------------------------------

const CSR_PEM: &str = "-----BEGIN CERTIFICATE REQUEST-----\nMIIBUjCB+QIBADAXMRUwEwYDVQQDEwx0ZXN0LWNsaWVudDBZMBMGByqGSM49AgEG\n-----END CERTIFICATE REQUEST-----\n";
const CERT_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBUjCB+QIBADAXMRUwEwYDVQQDEwx0ZXN0LWNsaWVudDBZMBMGByqGSM49AgEG\n-----END CERTIFICATE-----\n";

fn b64(s: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = s.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base_csr() -> Value {
    json!({"metadata": {"name": "csr-1"}, "spec": {"request": b64(CSR_PEM), "signerName": "kubernetes.io/kube-apiserver-client",
        "usages": ["client auth", "digital signature"], "expirationSeconds": 86400}})
}

#[test]
fn certificate_signing_requests() {
    let csr: cert::CertificateSigningRequest = obj(base_csr());
    assert_eq!(strings(certificate_signing_request(&csr)), Vec::<String>::new());
    let cases = vec![
        (
            "bad request",
            json!({"spec": {"request": b64("hello")}}),
            vec![format!("spec.request: Invalid value: \"{}\": PEM block type must be CERTIFICATE REQUEST", b64("hello"))],
        ),
        (
            "usages",
            json!({"spec": {"usages": ["client auth", "flying", "client auth"]}}),
            vec![
                s("spec.usages[1]: Unsupported value: \"flying\": supported values: \"any\", \"cert sign\", \"client auth\", \"code signing\", \"content commitment\", \"crl sign\", \"data encipherment\", \"decipher only\", \"digital signature\", \"email protection\", \"encipher only\", \"ipsec end system\", \"ipsec tunnel\", \"ipsec user\", \"key agreement\", \"key encipherment\", \"microsoft sgc\", \"netscape sgc\", \"ocsp signing\", \"s/mime\", \"server auth\", \"signing\", \"timestamping\""),
                s("spec.usages[2]: Duplicate value: \"client auth\""),
            ],
        ),
        ("no usages", json!({"spec": {"usages": []}}), vec![s("spec.usages: Required value")]),
        (
            "legacy signer",
            json!({"spec": {"signerName": "kubernetes.io/legacy-unknown"}}),
            vec![s("spec.signerName: Invalid value: \"kubernetes.io/legacy-unknown\": the legacy signerName is not allowed via this API version")],
        ),
        (
            "bad signer",
            json!({"spec": {"signerName": "signer"}}),
            vec![s("spec.signerName: Invalid value: \"signer\": must be a fully qualified domain and path of the form 'example.com/signer-name'")],
        ),
        (
            "short expiration",
            json!({"spec": {"expirationSeconds": 60}}),
            vec![s("spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds (10 minutes)")],
        ),
        (
            "conditions",
            json!({"status": {"conditions": [{"type": "Approved", "status": "False"}, {"type": "Denied", "status": "True"}, {"type": "", "status": ""}]}}),
            vec![
                s("status.conditions[0].status: Unsupported value: \"False\": supported values: \"True\""),
                s("status.conditions[1].type: Invalid value: \"Denied\": Approved and Denied conditions are mutually exclusive"),
                s("status.conditions[2].type: Required value"),
                s("status.conditions[2].status: Required value"),
            ],
        ),
        (
            "certificate",
            json!({"status": {"certificate": b64(CSR_PEM)}}),
            vec![s("status.certificate: Invalid value: \"<certificate data>\": only CERTIFICATE PEM blocks are allowed, found \"CERTIFICATE REQUEST\"")],
        ),
    ];
    check_table(&base_csr(), certificate_signing_request, &cases);

    // approvals go through /approval, certificates through /status
    let approved: cert::CertificateSigningRequest =
        obj(merge(&base_csr(), &json!({"status": {"conditions": [{"type": "Approved", "status": "True", "reason": "AutoApproved"}]}})));
    assert_eq!(
        strings(certificate_signing_request_update(&approved, &csr)),
        vec![s("status.conditions: Forbidden: updates may not add a condition of type \"Approved\"")]
    );
    assert!(certificate_signing_request_approval_update(&approved, &csr).is_empty());
    assert_eq!(
        strings(certificate_signing_request_approval_update(&csr, &approved)),
        vec![s("status.conditions: Forbidden: updates may not remove a condition of type \"Approved\"")]
    );
    let issued: cert::CertificateSigningRequest = obj(merge(&serde_json::to_value(&approved).unwrap(), &json!({"status": {"certificate": b64(CERT_PEM)}})));
    assert_eq!(
        strings(certificate_signing_request_update(&issued, &approved)),
        vec![s("status.certificate: Forbidden: updates may not set certificate content")]
    );
    assert!(certificate_signing_request_status_update(&issued, &approved).is_empty());
    let reissued: cert::CertificateSigningRequest =
        obj(merge(&serde_json::to_value(&approved).unwrap(), &json!({"status": {"certificate": b64(&CERT_PEM.repeat(2))}})));
    assert_eq!(
        strings(certificate_signing_request_status_update(&reissued, &issued)),
        vec![s("status.certificate: Forbidden: updates may not modify existing certificate content")]
    );
}

// ---------------------------------------------------------------------------------------------
// admissionregistration
// ---------------------------------------------------------------------------------------------

use k8s_openapi::api::admissionregistration::v1 as ar;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as ext;

fn base_vwc() -> Value {
    json!({"metadata": {"name": "policy"}, "webhooks": [
        {"name": "validate.example.com", "sideEffects": "None", "admissionReviewVersions": ["v1"], "failurePolicy": "Fail",
         "matchPolicy": "Equivalent", "timeoutSeconds": 10, "namespaceSelector": {}, "objectSelector": {},
         "clientConfig": {"service": {"name": "webhook", "namespace": "system", "path": "/validate", "port": 443}},
         "rules": [{"operations": ["CREATE", "UPDATE"], "apiGroups": ["apps"], "apiVersions": ["v1"], "resources": ["deployments", "deployments/scale"], "scope": "Namespaced"}],
         "matchConditions": [{"name": "exclude-leases", "expression": "request.resource.group != 'coordination.k8s.io'"}]},
        {"name": "url.example.com", "sideEffects": "NoneOnDryRun", "admissionReviewVersions": ["v1", "v1beta1"],
         "clientConfig": {"url": "https://hooks.example.com/validate"}, "rules": [{"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*/*"]}]}
    ]})
}

#[test]
fn webhook_configurations() {
    let c: ar::ValidatingWebhookConfiguration = obj(base_vwc());
    assert_eq!(strings(validating_webhook_configuration(&c)), Vec::<String>::new());
    let hook = |patch: Value| json!({"webhooks": [merge(&base_vwc()["webhooks"][0], &patch)]});
    let cases = vec![
        (
            "name",
            hook(json!({"name": "validate"})),
            vec![s("webhooks[0].name: Invalid value: \"validate\": should be a domain with at least three segments separated by dots")],
        ),
        (
            "side effects",
            hook(json!({"sideEffects": "Some"})),
            vec![s("webhooks[0].sideEffects: Unsupported value: \"Some\": supported values: \"None\", \"NoneOnDryRun\"")],
        ),
        (
            "missing side effects",
            hook(json!({"sideEffects": ""})),
            vec![s("webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun")],
        ),
        (
            "timeout and policies",
            hook(json!({"timeoutSeconds": 31, "failurePolicy": "Retry", "matchPolicy": "Fuzzy"})),
            vec![
                s("webhooks[0].failurePolicy: Unsupported value: \"Retry\": supported values: \"Fail\", \"Ignore\""),
                s("webhooks[0].matchPolicy: Unsupported value: \"Fuzzy\": supported values: \"Equivalent\", \"Exact\""),
                s("webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds"),
            ],
        ),
        (
            "rules",
            hook(json!({"rules": [{"operations": ["CREATE", "*", "PATCH"], "apiGroups": [], "apiVersions": ["v1", ""], "resources": ["*", "pods", "pods/*", "pods/log"], "scope": "Everywhere"}]})),
            vec![
                s("webhooks[0].rules[0].operations: Invalid value: [\"CREATE\",\"*\",\"PATCH\"]: if '*' is present, must not specify other operations"),
                s("webhooks[0].rules[0].operations[2]: Unsupported value: \"PATCH\": supported values: \"*\", \"CONNECT\", \"CREATE\", \"DELETE\", \"UPDATE\""),
                s("webhooks[0].rules[0].apiGroups: Required value"),
                s("webhooks[0].rules[0].apiVersions[1]: Required value"),
                s("webhooks[0].rules[0].resources[3]: Invalid value: \"pods/log\": if 'pods/*' is present, must not specify pods/log"),
                s("webhooks[0].rules[0].resources: Invalid value: [\"*\",\"pods\",\"pods/*\",\"pods/log\"]: if '*' is present, must not specify other resources without subresources"),
                s("webhooks[0].rules[0].scope: Unsupported value: \"Everywhere\": supported values: \"*\", \"Cluster\", \"Namespaced\""),
            ],
        ),
        (
            "client config",
            hook(json!({"clientConfig": {"service": null, "url": "http://user@hooks?x=1#frag"}})),
            vec![
                s("webhooks[0].clientConfig.url: Invalid value: \"http\": 'https' is the only allowed URL scheme; desired format: https://host[/path]"),
                s("webhooks[0].clientConfig.url: Invalid value: \"user\": user information is not permitted in the URL"),
                s("webhooks[0].clientConfig.url: Invalid value: \"frag\": fragments are not permitted in the URL"),
                s("webhooks[0].clientConfig.url: Invalid value: \"x=1\": query parameters are not permitted in the URL"),
            ],
        ),
        (
            "service reference",
            hook(json!({"clientConfig": {"service": {"name": "", "namespace": "system", "path": "validate//x", "port": 0}}})),
            vec![
                s("webhooks[0].clientConfig.service.namespace: Required value"),
                s("webhooks[0].clientConfig.service.port: Invalid value: 0: port is not valid: must be between 1 and 65535, inclusive"),
                s("webhooks[0].clientConfig.service.path: Invalid value: \"validate//x\": must start with a '/'"),
                s("webhooks[0].clientConfig.service.path: Invalid value: \"validate//x\": segment[1] may not be empty"),
            ],
        ),
        (
            "both url and service",
            hook(json!({"clientConfig": {"url": "https://a.example.com"}})),
            vec![s("webhooks[0].clientConfig: Required value: exactly one of url or service is required")],
        ),
        (
            "review versions",
            hook(json!({"admissionReviewVersions": ["v2", "v2", "V3"]})),
            vec![
                s("webhooks[0].admissionReviewVersions[1]: Invalid value: \"v2\": duplicate version"),
                format!("webhooks[0].admissionReviewVersions[2]: Invalid value: \"V3\": {DNS1035_MSG}"),
                s("webhooks[0].admissionReviewVersions: Invalid value: [\"v2\",\"v2\",\"V3\"]: must include at least one of v1, v1beta1"),
            ],
        ),
        (
            "match conditions",
            hook(json!({"matchConditions": [{"name": "a", "expression": " "}, {"name": "a", "expression": "true"}, {"name": "", "expression": "true"}]})),
            vec![
                s("webhooks[0].matchConditions[0].expression: Required value"),
                s("webhooks[0].matchConditions[1].name: Duplicate value: \"a\""),
                s("webhooks[0].matchConditions[2].name: Required value"),
            ],
        ),
        (
            "duplicate names",
            json!({"webhooks": [base_vwc()["webhooks"][0].clone(), base_vwc()["webhooks"][0].clone()]}),
            vec![s("webhooks[1].name: Duplicate value: \"validate.example.com\"")],
        ),
    ];
    check_table(&base_vwc(), validating_webhook_configuration, &cases);

    // an existing side-effecting webhook may be kept on update
    let some: ar::ValidatingWebhookConfiguration = obj(merge(&base_vwc(), &hook(json!({"sideEffects": "Some"}))));
    assert!(validating_webhook_configuration_update(&some, &some).is_empty());

    let m: ar::MutatingWebhookConfiguration = obj(merge(&base_vwc(), &hook(json!({"reinvocationPolicy": "Always"}))));
    assert_eq!(
        strings(mutating_webhook_configuration(&m)),
        vec![s("webhooks[0].reinvocationPolicy: Unsupported value: \"Always\": supported values: \"IfNeeded\", \"Never\"")]
    );
}

fn base_vap() -> Value {
    json!({"metadata": {"name": "replica-limit"}, "spec": {"failurePolicy": "Fail",
        "paramKind": {"apiVersion": "rules.example.com/v1", "kind": "ReplicaLimit"},
        "matchConstraints": {"matchPolicy": "Equivalent", "namespaceSelector": {}, "objectSelector": {},
            "resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["deployments"], "scope": "*"}]},
        "variables": [{"name": "replicas", "expression": "object.spec.replicas"}],
        "validations": [{"expression": "variables.replicas <= params.maxReplicas", "message": "too many replicas", "reason": "Invalid"}],
        "auditAnnotations": [{"key": "high-replica-count", "valueExpression": "'Deployment spec.replicas set to ' + string(object.spec.replicas)"}]}})
}

#[test]
fn validating_admission_policies() {
    let p: ar::ValidatingAdmissionPolicy = obj(base_vap());
    assert_eq!(strings(validating_admission_policy(&p)), Vec::<String>::new());
    let cases = vec![
        (
            "param kind",
            json!({"spec": {"paramKind": {"apiVersion": "a/b/c", "kind": "Replica_Limit"}}}),
            vec![
                s("spec.paramKind.apiVersion: Invalid value: \"a/b/c\": unexpected GroupVersion string: a/b/c"),
                s("spec.paramKind.kind: Invalid value: \"Replica_Limit\": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"),
            ],
        ),
        (
            "no constraints",
            json!({"spec": {"matchConstraints": null, "failurePolicy": null}}),
            vec![s("spec.failurePolicy: Required value"), s("spec.matchConstraints: Required value")],
        ),
        (
            "no resource rules",
            json!({"spec": {"matchConstraints": {"resourceRules": []}}}),
            vec![s("spec.matchConstraints.resourceRules: Required value")],
        ),
        (
            "empty",
            json!({"spec": {"validations": [], "auditAnnotations": []}}),
            vec![
                s("spec.validations: Required value: validations or auditAnnotations must contain at least one item"),
                s("spec.auditAnnotations: Required value: validations or auditAnnotations must contain at least one item"),
            ],
        ),
        (
            "validation fields",
            json!({"spec": {"validations": [{"expression": "", "message": "line\nbreak", "reason": "Teapot", "messageExpression": "  "}]}}),
            vec![
                s("spec.validations[0].expression: Required value: expression is not specified"),
                s("spec.validations[0].messageExpression: Invalid value: \"  \": must be non-empty if specified"),
                s("spec.validations[0].message: Invalid value: \"line\\nbreak\": message must not contain line breaks"),
                s("spec.validations[0].reason: Unsupported value: \"Teapot\": supported values: \"Forbidden\", \"Invalid\", \"RequestEntityTooLarge\""),
            ],
        ),
        (
            "variables",
            json!({"spec": {"variables": [{"name": "in", "expression": "1"}, {"name": "x", "expression": ""}]}}),
            vec![
                s("spec.variables[0].name: Invalid value: \"in\": name is not a valid CEL identifier"),
                s("spec.variables[1].expression: Required value: expression is not specified"),
            ],
        ),
        (
            "audit annotations",
            json!({"spec": {"auditAnnotations": [{"key": "a b", "valueExpression": "'x'"}, {"key": "a b", "valueExpression": ""}]}}),
            vec![
                format!("spec.auditAnnotations[0].key: Invalid value: \"replica-limit/a b\": {NAME_PART_MSG}"),
                format!("spec.auditAnnotations[1].key: Invalid value: \"replica-limit/a b\": {NAME_PART_MSG}"),
                s("spec.auditAnnotations[1].valueExpression: Required value: valueExpression is not specified"),
                s("spec.auditAnnotations[1].key: Duplicate value: \"a b\""),
            ],
        ),
    ];
    check_table(&base_vap(), validating_admission_policy, &cases);

    let base_binding = json!({"metadata": {"name": "b"}, "spec": {"policyName": "replica-limit", "validationActions": ["Deny"],
        "paramRef": {"name": "limit", "namespace": "default", "parameterNotFoundAction": "Deny"}}});
    let binding: ar::ValidatingAdmissionPolicyBinding = obj(base_binding.clone());
    assert!(validating_admission_policy_binding(&binding).is_empty());
    let cases = vec![
        (
            "actions",
            json!({"spec": {"validationActions": ["Deny", "Warn", "Deny", "Block"]}}),
            vec![
                s("spec.validationActions[2]: Duplicate value: \"Deny\""),
                s("spec.validationActions[3]: Unsupported value: \"Block\": supported values: \"Audit\", \"Deny\", \"Warn\""),
                s("spec.validationActions: Invalid value: [\"Deny\",\"Warn\",\"Deny\",\"Block\"]: must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)"),
            ],
        ),
        ("no actions", json!({"spec": {"validationActions": []}}), vec![s("spec.validationActions: Required value: at least one validation action is required")]),
        (
            "param ref",
            json!({"spec": {"paramRef": {"selector": {}, "parameterNotFoundAction": "Ignore"}}}),
            vec![
                s("spec.paramRef.name: Forbidden: name and selector are mutually exclusive"),
                s("spec.paramRef.selector: Forbidden: name and selector are mutually exclusive"),
                s("spec.paramRef.parameterNotFoundAction: Unsupported value: \"Ignore\": supported values: \"Deny\", \"Allow\""),
            ],
        ),
        (
            "match resources",
            json!({"spec": {"matchResources": {"matchPolicy": "Equivalent", "namespaceSelector": {}, "objectSelector": {},
                "excludeResourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods/status"], "resourceNames": ["a", "a"]}]}}}),
            vec![s("spec.matchResouces.excludeResourceRules[0].resourceNames[1]: Duplicate value: \"a\"")],
        ),
    ];
    check_table(&base_binding, validating_admission_policy_binding, &cases);
}

// ---------------------------------------------------------------------------------------------
// apiextensions
// ---------------------------------------------------------------------------------------------

fn base_crd() -> Value {
    json!({"metadata": {"name": "widgets.example.com"}, "spec": {"group": "example.com", "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList", "shortNames": ["wd"], "categories": ["all"]},
        "versions": [
            {"name": "v1", "served": true, "storage": true,
             "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}},
             "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas", "labelSelectorPath": ".status.selector"}},
             "additionalPrinterColumns": [{"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}]},
            {"name": "v1beta1", "served": true, "storage": false, "deprecated": true, "deprecationWarning": "use v1",
             "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}
        ],
        "conversion": {"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v1"],
            "clientConfig": {"service": {"name": "conv", "namespace": "system", "path": "/convert", "port": 443}}}}}})
}

#[test]
fn custom_resource_definitions() {
    let crd: ext::CustomResourceDefinition = obj(base_crd());
    assert_eq!(strings(custom_resource_definition(&crd)), Vec::<String>::new());
    assert!(custom_resource_definition_update(&crd, &crd).is_empty());
    let v1 = base_crd()["spec"]["versions"][0].clone();
    let cases = vec![
        (
            "name and group",
            json!({"spec": {"group": "example"}}),
            vec![
                s("metadata.name: Invalid value: \"widgets.example.com\": must be spec.names.plural+\".\"+spec.group"),
                s("spec.group: Invalid value: \"example\": should be a domain with at least one dot"),
            ],
        ),
        ("scope", json!({"spec": {"scope": "Global"}}), vec![s("spec.scope: Unsupported value: \"Global\": supported values: \"Cluster\", \"Namespaced\"")]),
        (
            "storage versions",
            json!({"spec": {"versions": [merge(&v1, &json!({"storage": false}))]}}),
            vec![
                format!("spec.versions: Invalid value: [{}]: must have exactly one version marked as storage version", serde_json::to_string(&serde_json::to_value(obj::<ext::CustomResourceDefinitionVersion>(merge(&v1, &json!({"storage": false})))).unwrap()).unwrap()),
                s("status.storedVersions: Invalid value: []: must have at least one stored version"),
            ],
        ),
        (
            "names",
            json!({"spec": {"names": {"singular": "", "kind": "Widget_Kind", "listKind": "Widget_Kind", "shortNames": ["W"]}}}),
            vec![
                s("spec.names.singular: Required value"),
                format!("spec.names.kind: Invalid value: \"Widget_Kind\": may have mixed case, but should otherwise match: {DNS1035_MSG}"),
                format!("spec.names.listKind: Invalid value: \"Widget_Kind\": may have mixed case, but should otherwise match: {DNS1035_MSG}"),
                format!("spec.names.shortNames[0]: Invalid value: \"W\": {DNS1035_MSG}"),
                s("spec.names.listKind: Invalid value: \"Widget_Kind\": kind and listKind may not be the same"),
            ],
        ),
        (
            "version details",
            json!({"spec": {"versions": [
                merge(&v1, &json!({"name": "V1", "deprecationWarning": "x", "subresources": {"scale": {"specReplicasPath": "spec.replicas", "statusReplicasPath": ".spec.replicas"}},
                    "additionalPrinterColumns": [{"name": "", "type": "float", "format": "int8", "jsonPath": "spec"}]})),
                {"name": "v2", "served": true, "storage": false}
            ]}}),
            vec![
                s("spec.versions[1].schema.openAPIV3Schema: Required value: schemas are required"),
                format!("spec.versions[0].name: Invalid value: \"V1\": {DNS1035_MSG}"),
                s("spec.versions[0].deprecationWarning: Invalid value: \"x\": can only be set for deprecated versions"),
                s("spec.versions[0].subresources.scale.specReplicasPath: Invalid value: \"spec.replicas\": must be a simple json path starting with ."),
                s("spec.versions[0].subresources.scale.statusReplicasPath: Invalid value: \".spec.replicas\": should be a json path under .status"),
                s("spec.versions[0].additionalPrinterColumns[0].name: Required value"),
                s("spec.versions[0].additionalPrinterColumns[0].type: Invalid value: \"float\": must be one of boolean,date,integer,number,string"),
                s("spec.versions[0].additionalPrinterColumns[0].format: Invalid value: \"int8\": must be one of byte,date,date-time,double,float,int32,int64,password"),
                s("spec.versions[0].additionalPrinterColumns[0].JSONPath: Invalid value: \"spec\": must be a simple json path starting with ."),
            ],
        ),
        (
            "conversion",
            json!({"spec": {"conversion": {"strategy": "Webhook", "webhook": {"conversionReviewVersions": ["v3"], "clientConfig": {"service": null, "url": "https://conv.example.com/convert"}}}}}),
            vec![s("spec.conversion.conversionReviewVersions: Invalid value: [\"v3\"]: must include at least one of v1, v1beta1")],
        ),
        (
            "conversion none with webhook",
            json!({"spec": {"conversion": {"strategy": "None"}}}),
            vec![
                s("spec.conversion.webhookClientConfig: Forbidden: should not be set when strategy is not set to Webhook"),
                s("spec.conversion.conversionReviewVersions: Forbidden: should not be set when strategy is not set to Webhook"),
            ],
        ),
        (
            "protected group",
            json!({"metadata": {"name": "widgets.apps.k8s.io"}, "spec": {"group": "apps.k8s.io"}}),
            vec![s("metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation \"api-approved.kubernetes.io\", see https://github.com/kubernetes/enhancements/pull/1111")],
        ),
        (
            "preserve unknown fields",
            json!({"spec": {"preserveUnknownFields": true, "conversion": null}}),
            vec![s("spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead")],
        ),
    ];
    check_table(&base_crd(), custom_resource_definition, &cases);

    // a single version: settings are reported at the hoisted top-level fields
    let single: ext::CustomResourceDefinition = obj(merge(
        &base_crd(),
        &json!({"spec": {"conversion": null, "versions": [merge(&v1, &json!({"subresources": {"scale": {"statusReplicasPath": ""}},
            "schema": {"openAPIV3Schema": {"type": "array", "nullable": true}}}))]}}),
    ));
    assert_eq!(
        strings(custom_resource_definition(&single)),
        vec![
            s("spec.validation.openAPIV3Schema.type: Invalid value: \"array\": only \"object\" is allowed as the type at the root of the schema if the status subresource is enabled"),
            s("spec.validation.openAPIV3Schema.nullable: Forbidden: nullable cannot be true at the root"),
            s("spec.subresources.scale.statusReplicasPath: Required value"),
        ]
    );

    // updates: group/plural always immutable, scope/kind once established
    let mut established = crd.clone();
    established.status = Some(obj(json!({"storedVersions": ["v1"], "conditions": [{"type": "Established", "status": "True"}],
        "acceptedNames": {"plural": "widgets", "kind": "Widget"}})));
    let changed: ext::CustomResourceDefinition = obj(merge(&base_crd(), &json!({"spec": {"scope": "Cluster", "names": {"kind": "Gadget", "listKind": "GadgetList"}}})));
    assert_eq!(
        strings(custom_resource_definition_update(&changed, &established)),
        vec![s("spec.scope: Invalid value: \"Cluster\": field is immutable"), s("spec.names.kind: Invalid value: \"Gadget\": field is immutable")]
    );
    // dropping a previously stored version is refused
    let mut stored = established.clone();
    stored.status.as_mut().unwrap().stored_versions = Some(vec!["v1beta1".into(), "v1".into()]);
    let dropped: ext::CustomResourceDefinition = obj(merge(&base_crd(), &json!({"spec": {"versions": [v1.clone()]}})));
    assert_eq!(
        strings(custom_resource_definition_update(&dropped, &stored)),
        vec![s("status.storedVersions[0]: Invalid value: \"v1beta1\": missing from spec.versions; v1beta1 was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in v1beta1 and removes v1beta1 from status.storedVersions")]
    );
    let mut bad_status = crd.clone();
    bad_status.status = Some(obj(json!({"acceptedNames": {"plural": "Widgets", "kind": "Widget"}})));
    assert_eq!(
        strings(custom_resource_definition_status_update(&bad_status, &crd)),
        vec![format!("status.acceptedNames.plural: Invalid value: \"Widgets\": {DNS1035_MSG}")]
    );
}
