//! The bootstrap policy against upstream 1.32's expected test data.

use serde_json::{Value, json};

use super::*;

/// `metadata.name` of each item of upstream's `testdata/cluster-roles.yaml`.
const CLUSTER_ROLES: &[&str] = &[
    "admin",
    "cluster-admin",
    "edit",
    "system:aggregate-to-admin",
    "system:aggregate-to-edit",
    "system:aggregate-to-view",
    "system:auth-delegator",
    "system:basic-user",
    "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
    "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
    "system:certificates.k8s.io:kube-apiserver-client-approver",
    "system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
    "system:certificates.k8s.io:kubelet-serving-approver",
    "system:certificates.k8s.io:legacy-unknown-approver",
    "system:discovery",
    "system:heapster",
    "system:kube-aggregator",
    "system:kube-controller-manager",
    "system:kube-dns",
    "system:kube-scheduler",
    "system:kubelet-api-admin",
    "system:monitoring",
    "system:node",
    "system:node-bootstrapper",
    "system:node-problem-detector",
    "system:node-proxier",
    "system:persistent-volume-provisioner",
    "system:public-info-viewer",
    "system:service-account-issuer-discovery",
    "system:volume-scheduler",
    "view",
];

/// `metadata.name` of each item of `testdata/cluster-role-bindings.yaml`.
const CLUSTER_ROLE_BINDINGS: &[&str] = &[
    "cluster-admin",
    "system:basic-user",
    "system:discovery",
    "system:kube-controller-manager",
    "system:kube-dns",
    "system:kube-scheduler",
    "system:monitoring",
    "system:node",
    "system:node-proxier",
    "system:public-info-viewer",
    "system:service-account-issuer-discovery",
    "system:volume-scheduler",
];

/// The controllers of `testdata/controller-roles.yaml` (names without `system:controller:`).
const CONTROLLERS: &[&str] = &[
    "attachdetach-controller",
    "certificate-controller",
    "clusterrole-aggregation-controller",
    "cronjob-controller",
    "daemon-set-controller",
    "deployment-controller",
    "disruption-controller",
    "endpoint-controller",
    "endpointslice-controller",
    "endpointslicemirroring-controller",
    "ephemeral-volume-controller",
    "expand-controller",
    "generic-garbage-collector",
    "horizontal-pod-autoscaler",
    "job-controller",
    "legacy-service-account-token-cleaner",
    "namespace-controller",
    "node-controller",
    "persistent-volume-binder",
    "pod-garbage-collector",
    "pv-protection-controller",
    "pvc-protection-controller",
    "replicaset-controller",
    "replication-controller",
    "resourcequota-controller",
    "root-ca-cert-publisher",
    "route-controller",
    "service-account-controller",
    "service-controller",
    "statefulset-controller",
    "ttl-after-finished-controller",
    "ttl-controller",
    "validatingadmissionpolicy-status-controller",
];

/// `namespace/name` of each item of `testdata/namespace-roles.yaml`.
const NAMESPACE_ROLES: &[&str] = &[
    "kube-public/system:controller:bootstrap-signer",
    "kube-system/extension-apiserver-authentication-reader",
    "kube-system/system::leader-locking-kube-controller-manager",
    "kube-system/system::leader-locking-kube-scheduler",
    "kube-system/system:controller:bootstrap-signer",
    "kube-system/system:controller:cloud-provider",
    "kube-system/system:controller:token-cleaner",
];

/// `namespace/name` of each item of `testdata/namespace-role-bindings.yaml`.
const NAMESPACE_ROLE_BINDINGS: &[&str] = &[
    "kube-public/system:controller:bootstrap-signer",
    "kube-system/system::extension-apiserver-authentication-reader",
    "kube-system/system::leader-locking-kube-controller-manager",
    "kube-system/system::leader-locking-kube-scheduler",
    "kube-system/system:controller:bootstrap-signer",
    "kube-system/system:controller:cloud-provider",
    "kube-system/system:controller:token-cleaner",
];

fn names(metas: impl IntoIterator<Item = ObjectMeta>) -> Vec<String> {
    metas
        .into_iter()
        .map(|m| match m.namespace {
            Some(ns) => format!("{ns}/{}", m.name.unwrap_or_default()),
            None => m.name.unwrap_or_default(),
        })
        .collect()
}

fn check_defaults(m: &ObjectMeta) {
    let labels = m.labels.as_ref().expect("labels");
    assert_eq!(
        labels.get(BOOTSTRAPPING_LABEL).map(String::as_str),
        Some("rbac-defaults")
    );
    assert_eq!(
        m.annotations,
        Some(BTreeMap::from([(
            crate::AUTO_UPDATE_ANNOTATION.to_string(),
            "true".to_string()
        )])),
        "{:?}",
        m.name
    );
}

#[test]
fn names_and_counts_match_upstream_test_data() {
    assert_eq!(
        names(cluster_roles().into_iter().map(|r| r.metadata)),
        CLUSTER_ROLES
    );
    assert_eq!(
        names(cluster_role_bindings().into_iter().map(|r| r.metadata)),
        CLUSTER_ROLE_BINDINGS
    );
    let controllers: Vec<String> = CONTROLLERS
        .iter()
        .map(|c| format!("system:controller:{c}"))
        .collect();
    assert_eq!(
        names(controller_roles().into_iter().map(|r| r.metadata)),
        controllers
    );
    assert_eq!(
        names(controller_role_bindings().into_iter().map(|r| r.metadata)),
        controllers
    );
    assert_eq!(
        names(namespace_roles().into_iter().map(|r| r.metadata)),
        NAMESPACE_ROLES
    );
    assert_eq!(
        names(namespace_role_bindings().into_iter().map(|r| r.metadata)),
        NAMESPACE_ROLE_BINDINGS
    );
    assert_eq!(
        (
            CLUSTER_ROLES.len(),
            CLUSTER_ROLE_BINDINGS.len(),
            CONTROLLERS.len()
        ),
        (31, 12, 33)
    );
    assert_eq!(bootstrap_cluster_roles().len(), 64);
    assert_eq!(bootstrap_cluster_role_bindings().len(), 45);
    assert_eq!(bootstrap_namespace_roles().len(), 7);
    assert_eq!(bootstrap_namespace_role_bindings().len(), 7);
}

#[test]
fn every_object_carries_the_bootstrap_label_and_autoupdate() {
    bootstrap_cluster_roles()
        .iter()
        .for_each(|r| check_defaults(&r.metadata));
    bootstrap_cluster_role_bindings()
        .iter()
        .for_each(|r| check_defaults(&r.metadata));
    bootstrap_namespace_roles()
        .iter()
        .for_each(|r| check_defaults(&r.metadata));
    bootstrap_namespace_role_bindings()
        .iter()
        .for_each(|r| check_defaults(&r.metadata));
}

#[test]
fn rules_are_sorted_and_well_formed() {
    let mut all: Vec<(String, Vec<PolicyRule>)> = bootstrap_cluster_roles()
        .into_iter()
        .map(|r| {
            (
                r.metadata.name.unwrap_or_default(),
                r.rules.unwrap_or_default(),
            )
        })
        .collect();
    all.extend(bootstrap_namespace_roles().into_iter().map(|r| {
        (
            r.metadata.name.unwrap_or_default(),
            r.rules.unwrap_or_default(),
        )
    }));
    for (name, rules) in all {
        for r in rules {
            for l in [
                &r.api_groups,
                &r.resources,
                &r.resource_names,
                &r.non_resource_urls,
            ]
            .into_iter()
            .flatten()
            {
                assert!(!l.is_empty(), "{name}");
                assert!(l.is_sorted(), "{name}: {l:?}");
            }
            assert!(r.verbs.is_sorted() && !r.verbs.is_empty(), "{name}");
            // resource rules name groups; URL rules name none
            assert_eq!(r.resources.is_some(), r.api_groups.is_some(), "{name}");
            assert_ne!(
                r.resources.is_some(),
                r.non_resource_urls.is_some(),
                "{name}"
            );
        }
    }
}

fn role_json(name: &str) -> Value {
    let role = bootstrap_cluster_roles()
        .into_iter()
        .find(|r| r.metadata.name.as_deref() == Some(name))
        .unwrap();
    serde_json::to_value(role).unwrap()
}

fn defaults_meta(name: &str, extra: Value) -> Value {
    let mut labels = json!({"kubernetes.io/bootstrapping": "rbac-defaults"});
    if let Value::Object(extra) = extra {
        labels.as_object_mut().unwrap().extend(extra);
    }
    json!({
        "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        "labels": labels,
        "name": name,
    })
}

#[test]
fn objects_serialize_as_upstream_test_data() {
    assert_eq!(
        role_json("system:node-proxier"),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": defaults_meta("system:node-proxier", json!({})),
            "rules": [
                {"apiGroups": [""], "resources": ["endpoints", "services"], "verbs": ["list", "watch"]},
                {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
                {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch", "update"]},
                {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list", "watch"]},
            ],
        })
    );
    assert_eq!(
        role_json("edit"),
        json!({
            "aggregationRule": {"clusterRoleSelectors": [
                {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}}
            ]},
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": defaults_meta("edit", json!({"rbac.authorization.k8s.io/aggregate-to-admin": "true"})),
        })
    );
    assert_eq!(
        role_json("system:discovery")["rules"],
        json!([{
            "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                "/openapi", "/openapi/*", "/readyz", "/version", "/version/"],
            "verbs": ["get"],
        }])
    );
    assert_eq!(
        role_json("system:monitoring")["rules"],
        json!([{
            "nonResourceURLs": ["/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics",
                "/metrics/slis", "/readyz", "/readyz/*"],
            "verbs": ["get"],
        }])
    );
    assert_eq!(
        role_json("system:certificates.k8s.io:kube-apiserver-client-approver")["rules"],
        json!([{
            "apiGroups": ["certificates.k8s.io"],
            "resourceNames": ["kubernetes.io/kube-apiserver-client"],
            "resources": ["signers"],
            "verbs": ["approve"],
        }])
    );
    assert_eq!(
        role_json("system:controller:certificate-controller")["rules"][3],
        json!({
            "apiGroups": ["certificates.k8s.io"],
            "resourceNames": ["kubernetes.io/kube-apiserver-client", "kubernetes.io/kube-apiserver-client-kubelet",
                "kubernetes.io/kubelet-serving", "kubernetes.io/legacy-unknown"],
            "resources": ["signers"],
            "verbs": ["sign"],
        })
    );
    let scheduler = role_json("system:kube-scheduler");
    assert_eq!(scheduler["rules"].as_array().unwrap().len(), 20);
    assert_eq!(
        scheduler["rules"][2],
        json!({"apiGroups": ["coordination.k8s.io"], "resourceNames": ["kube-scheduler"],
            "resources": ["leases"], "verbs": ["get", "list", "update", "watch"]})
    );
    let node = role_json("system:node");
    assert_eq!(node["rules"].as_array().unwrap().len(), 22);
    let statefulset = role_json("system:controller:statefulset-controller");
    assert_eq!(
        statefulset["rules"][9],
        json!({"apiGroups": [""], "resources": ["pods/finalizers"], "verbs": ["update"]})
    );

    let binding = |name: &str| {
        serde_json::to_value(
            bootstrap_cluster_role_bindings()
                .into_iter()
                .find(|b| b.metadata.name.as_deref() == Some(name))
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(
        binding("system:public-info-viewer"),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": defaults_meta("system:public-info-viewer", json!({})),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:public-info-viewer"},
            "subjects": [
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"},
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:unauthenticated"},
            ],
        })
    );
    assert_eq!(
        binding("system:node"),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": defaults_meta("system:node", json!({})),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:node"},
        })
    );
    assert_eq!(
        binding("system:controller:job-controller")["subjects"],
        json!([{"kind": "ServiceAccount", "name": "job-controller", "namespace": "kube-system"}])
    );
    assert_eq!(
        binding("cluster-admin")["subjects"][0]["name"],
        "system:masters"
    );
    assert_eq!(
        binding("system:kube-dns")["subjects"][0],
        json!({"kind": "ServiceAccount", "name": "kube-dns", "namespace": "kube-system"})
    );
    assert_eq!(
        binding("system:volume-scheduler")["subjects"][0]["name"],
        "system:kube-scheduler"
    );

    let rb = serde_json::to_value(
        bootstrap_namespace_role_bindings()
            .into_iter()
            .find(|b| {
                b.metadata.name.as_deref() == Some("system::leader-locking-kube-controller-manager")
            })
            .unwrap(),
    )
    .unwrap();
    assert_eq!(rb["metadata"]["namespace"], "kube-system");
    assert_eq!(
        rb["subjects"],
        json!([
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:kube-controller-manager"},
            {"kind": "ServiceAccount", "name": "kube-controller-manager", "namespace": "kube-system"},
            {"kind": "ServiceAccount", "name": "leader-election-controller", "namespace": "kube-system"},
        ])
    );
    assert_eq!(
        rb["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "system::leader-locking-kube-controller-manager"})
    );
}
