//! The policy ClusterRoles and ClusterRoleBindings (upstream's `policy.go`).

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{AggregationRule, ClusterRole, ClusterRoleBinding, PolicyRule};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::*;

const AGGREGATE_TO_ADMIN: &str = "rbac.authorization.k8s.io/aggregate-to-admin";
const AGGREGATE_TO_EDIT: &str = "rbac.authorization.k8s.io/aggregate-to-edit";
const AGGREGATE_TO_VIEW: &str = "rbac.authorization.k8s.io/aggregate-to-view";

/// A ClusterRole whose rules the aggregation controller fills from the roles labelled
/// `<selector_label>: "true"`.
fn aggregated(name: &str, labels: &[(&str, &str)], selector_label: &str) -> ClusterRole {
    ClusterRole {
        metadata: meta(name, None, labels),
        rules: None,
        aggregation_rule: Some(AggregationRule {
            cluster_role_selectors: Some(vec![LabelSelector {
                match_labels: Some(BTreeMap::from([(
                    selector_label.to_string(),
                    "true".to_string(),
                )])),
                match_expressions: None,
            }]),
        }),
    }
}

fn labelled(name: &str, label: &str, rules: Vec<PolicyRule>) -> ClusterRole {
    ClusterRole {
        metadata: meta(name, None, &[(label, "true")]),
        rules: Some(rules),
        aggregation_rule: None,
    }
}

/// The rules of `system:node` (upstream's `NodeRules`). Since 1.8 the role has no
/// subjects: the Node authorizer grants kubelets their access.
pub fn node_rules() -> Vec<PolicyRule> {
    vec![
        // API access checks; these creates do not mutate anything
        rule(&["create"])
            .groups(&[AUTHENTICATION])
            .resources(&["tokenreviews"])
            .build(),
        rule(&["create"])
            .groups(&[AUTHORIZATION])
            .resources(&["subjectaccessreviews", "localsubjectaccessreviews"])
            .build(),
        // the service lister, for pods' environment variables
        rule(READ)
            .groups(&[LEGACY])
            .resources(&["services"])
            .build(),
        // registering the Node and reporting its status
        rule(&["create", "get", "list", "watch"])
            .groups(&[LEGACY])
            .resources(&["nodes"])
            .build(),
        rule(&["update", "patch"])
            .groups(&[LEGACY])
            .resources(&["nodes/status"])
            .build(),
        rule(&["update", "patch"])
            .groups(&[LEGACY])
            .resources(&["nodes"])
            .build(),
        rule(&["create", "update", "patch"])
            .groups(&[LEGACY])
            .resources(&["events"])
            .build(),
        rule(READ).groups(&[LEGACY]).resources(&["pods"]).build(),
        // mirror pods
        rule(&["create", "delete"])
            .groups(&[LEGACY])
            .resources(&["pods"])
            .build(),
        rule(&["update", "patch"])
            .groups(&[LEGACY])
            .resources(&["pods/status"])
            .build(),
        rule(&["create"])
            .groups(&[LEGACY])
            .resources(&["pods/eviction"])
            .build(),
        // volumes, pull secrets and environment
        rule(&["get", "list", "watch"])
            .groups(&[LEGACY])
            .resources(&["secrets", "configmaps"])
            .build(),
        rule(&["get"])
            .groups(&[LEGACY])
            .resources(&["persistentvolumeclaims", "persistentvolumes"])
            .build(),
        rule(&["get"])
            .groups(&[LEGACY])
            .resources(&["endpoints"])
            .build(),
        // client certificate rotation
        rule(&["create", "get", "list", "watch"])
            .groups(&[CERTIFICATES])
            .resources(&["certificatesigningrequests"])
            .build(),
        rule(&["get", "create", "update", "patch", "delete"])
            .groups(&["coordination.k8s.io"])
            .resources(&["leases"])
            .build(),
        rule(&["get"])
            .groups(&[STORAGE])
            .resources(&["volumeattachments"])
            .build(),
        rule(&["create"])
            .groups(&[LEGACY])
            .resources(&["serviceaccounts/token"])
            .build(),
        rule(&["get", "update", "patch"])
            .groups(&[LEGACY])
            .resources(&["persistentvolumeclaims/status"])
            .build(),
        rule(&["get", "watch", "list"])
            .groups(&["storage.k8s.io"])
            .resources(&["csidrivers"])
            .build(),
        rule(&["get", "create", "update", "patch", "delete"])
            .groups(&["storage.k8s.io"])
            .resources(&["csinodes"])
            .build(),
        rule(&["get", "list", "watch"])
            .groups(&["node.k8s.io"])
            .resources(&["runtimeclasses"])
            .build(),
    ]
}

/// The policy ClusterRoles (upstream's `ClusterRoles()`, test data `cluster-roles.yaml`),
/// sorted by name. `admin`, `edit` and `view` have no rules of their own: see
/// [`crate::aggregate`].
pub fn cluster_roles() -> Vec<ClusterRole> {
    let mut roles = vec![
        // a "root" role which can do absolutely anything
        cluster_role(
            "cluster-admin",
            vec![
                rule(&["*"]).groups(&["*"]).resources(&["*"]).build(),
                rule(&["*"]).urls(&["*"]).build(),
            ],
        ),
        // enough to tell whether the server is ready and to discover API versions
        cluster_role(
            "system:discovery",
            vec![
                rule(&["get"])
                    .urls(&[
                        "/livez",
                        "/readyz",
                        "/healthz",
                        "/version",
                        "/version/",
                        "/openapi",
                        "/openapi/*",
                        "/api",
                        "/api/*",
                        "/apis",
                        "/apis/*",
                    ])
                    .build(),
            ],
        ),
        // read access to the monitoring endpoints
        cluster_role(
            "system:monitoring",
            vec![
                rule(&["get"])
                    .urls(&[
                        "/metrics",
                        "/metrics/slis",
                        "/livez",
                        "/readyz",
                        "/healthz",
                        "/livez/*",
                        "/readyz/*",
                        "/healthz/*",
                    ])
                    .build(),
            ],
        ),
        // a "normal" user learning about themselves
        cluster_role(
            "system:basic-user",
            vec![
                rule(&["create"])
                    .groups(&[AUTHORIZATION])
                    .resources(&["selfsubjectaccessreviews", "selfsubjectrulesreviews"])
                    .build(),
                rule(&["create"])
                    .groups(&[AUTHENTICATION])
                    .resources(&["selfsubjectreviews"])
                    .build(),
            ],
        ),
        // insensitive cluster information
        cluster_role(
            "system:public-info-viewer",
            vec![
                rule(&["get"])
                    .urls(&["/livez", "/readyz", "/healthz", "/version", "/version/"])
                    .build(),
            ],
        ),
        // namespace admin: edit plus granting permissions to others
        aggregated("admin", &[], AGGREGATE_TO_ADMIN),
        // namespace editor: every user-level action in a namespace
        aggregated("edit", &[(AGGREGATE_TO_ADMIN, "true")], AGGREGATE_TO_EDIT),
        // namespace viewer: read-only access to non-escalating resources
        aggregated("view", &[(AGGREGATE_TO_EDIT, "true")], AGGREGATE_TO_VIEW),
        labelled(
            "system:aggregate-to-admin",
            AGGREGATE_TO_ADMIN,
            vec![
                rule(&["create"])
                    .groups(&[AUTHORIZATION])
                    .resources(&["localsubjectaccessreviews"])
                    .build(),
                rule(READ_WRITE)
                    .groups(&[RBAC])
                    .resources(&["roles", "rolebindings"])
                    .build(),
            ],
        ),
        labelled(
            "system:aggregate-to-edit",
            AGGREGATE_TO_EDIT,
            aggregate_to_edit_rules(),
        ),
        labelled(
            "system:aggregate-to-view",
            AGGREGATE_TO_VIEW,
            aggregate_to_view_rules(),
        ),
        cluster_role(
            "system:heapster",
            vec![
                rule(READ)
                    .groups(&[LEGACY])
                    .resources(&["events", "pods", "nodes", "namespaces"])
                    .build(),
                rule(READ)
                    .groups(&[EXTENSIONS])
                    .resources(&["deployments"])
                    .build(),
            ],
        ),
        cluster_role("system:node", node_rules()),
        cluster_role(
            "system:node-problem-detector",
            vec![
                rule(&["get"])
                    .groups(&[LEGACY])
                    .resources(&["nodes"])
                    .build(),
                rule(&["patch"])
                    .groups(&[LEGACY])
                    .resources(&["nodes/status"])
                    .build(),
                events_rule(),
            ],
        ),
        cluster_role(
            "system:node-bootstrapper",
            vec![
                rule(&["create", "get", "list", "watch"])
                    .groups(&[CERTIFICATES])
                    .resources(&["certificatesigningrequests"])
                    .build(),
            ],
        ),
        cluster_role(
            "system:auth-delegator",
            vec![
                rule(&["create"])
                    .groups(&[AUTHENTICATION])
                    .resources(&["tokenreviews"])
                    .build(),
                rule(&["create"])
                    .groups(&[AUTHORIZATION])
                    .resources(&["subjectaccessreviews"])
                    .build(),
            ],
        ),
        cluster_role(
            "system:kube-aggregator",
            vec![
                rule(READ)
                    .groups(&[LEGACY])
                    .resources(&["services", "endpoints"])
                    .build(),
            ],
        ),
        cluster_role(
            "system:kube-controller-manager",
            vec![
                events_rule(),
                // leader election
                rule(&["create"])
                    .groups(&[COORDINATION])
                    .resources(&["leases"])
                    .build(),
                rule(&["get", "update"])
                    .groups(&[COORDINATION])
                    .resources(&["leases"])
                    .names(&["kube-controller-manager"])
                    .build(),
                // fundamental resources
                rule(&["create"])
                    .groups(&[LEGACY])
                    .resources(&["secrets", "serviceaccounts"])
                    .build(),
                rule(&["delete"])
                    .groups(&[LEGACY])
                    .resources(&["secrets"])
                    .build(),
                rule(&["get"])
                    .groups(&[LEGACY])
                    .resources(&["namespaces", "secrets", "serviceaccounts", "configmaps"])
                    .build(),
                rule(&["update"])
                    .groups(&[LEGACY])
                    .resources(&["secrets", "serviceaccounts"])
                    .build(),
                rule(&["create"])
                    .groups(&[AUTHENTICATION])
                    .resources(&["tokenreviews"])
                    .build(),
                rule(&["create"])
                    .groups(&[AUTHORIZATION])
                    .resources(&["subjectaccessreviews"])
                    .build(),
                // all shared informers
                rule(&["list", "watch"])
                    .groups(&["*"])
                    .resources(&["*"])
                    .build(),
                rule(&["create"])
                    .groups(&[LEGACY])
                    .resources(&["serviceaccounts/token"])
                    .build(),
            ],
        ),
        cluster_role(
            "system:kube-dns",
            vec![
                rule(&["list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["endpoints", "services"])
                    .build(),
            ],
        ),
        // an external/out-of-tree persistent volume provisioner
        cluster_role(
            "system:persistent-volume-provisioner",
            vec![
                rule(&["get", "list", "watch", "create", "delete"])
                    .groups(&[LEGACY])
                    .resources(&["persistentvolumes"])
                    .build(),
                rule(&["get", "list", "watch", "update"])
                    .groups(&[LEGACY])
                    .resources(&["persistentvolumeclaims"])
                    .build(),
                rule(READ)
                    .groups(&[STORAGE])
                    .resources(&["storageclasses"])
                    .build(),
                rule(&["watch"])
                    .groups(&[LEGACY])
                    .resources(&["events"])
                    .build(),
                events_rule(),
            ],
        ),
        cluster_role(
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            vec![
                rule(&["create"])
                    .groups(&[CERTIFICATES])
                    .resources(&["certificatesigningrequests/nodeclient"])
                    .build(),
            ],
        ),
        cluster_role(
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            vec![
                rule(&["create"])
                    .groups(&[CERTIFICATES])
                    .resources(&["certificatesigningrequests/selfnodeclient"])
                    .build(),
            ],
        ),
        cluster_role(
            "system:volume-scheduler",
            vec![
                rule(READ_UPDATE)
                    .groups(&[LEGACY])
                    .resources(&["persistentvolumes"])
                    .build(),
                rule(READ)
                    .groups(&[STORAGE])
                    .resources(&["storageclasses"])
                    .build(),
                rule(READ_UPDATE)
                    .groups(&[LEGACY])
                    .resources(&["persistentvolumeclaims"])
                    .build(),
            ],
        ),
        approver(
            "system:certificates.k8s.io:legacy-unknown-approver",
            "kubernetes.io/legacy-unknown",
        ),
        approver(
            "system:certificates.k8s.io:kubelet-serving-approver",
            "kubernetes.io/kubelet-serving",
        ),
        approver(
            "system:certificates.k8s.io:kube-apiserver-client-approver",
            "kubernetes.io/kube-apiserver-client",
        ),
        approver(
            "system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
            "kubernetes.io/kube-apiserver-client-kubelet",
        ),
        // the ServiceAccountIssuerDiscovery endpoints, with and without a trailing slash
        cluster_role(
            "system:service-account-issuer-discovery",
            vec![
                rule(&["get"])
                    .urls(&[
                        "/.well-known/openid-configuration",
                        "/.well-known/openid-configuration/",
                        "/openid/v1/jwks",
                        "/openid/v1/jwks/",
                    ])
                    .build(),
            ],
        ),
        // full access to the kubelet API
        cluster_role(
            "system:kubelet-api-admin",
            vec![
                rule(&["get", "list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["nodes"])
                    .build(),
                rule(&["proxy"])
                    .groups(&[LEGACY])
                    .resources(&["nodes"])
                    .build(),
                rule(&["*"])
                    .groups(&[LEGACY])
                    .resources(&["nodes/proxy", "nodes/metrics", "nodes/stats", "nodes/log"])
                    .build(),
            ],
        ),
        // kube-proxy
        cluster_role(
            "system:node-proxier",
            vec![
                rule(&["list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["services", "endpoints"])
                    .build(),
                rule(&["get", "list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["nodes"])
                    .build(),
                events_rule(),
                rule(&["list", "watch"])
                    .groups(&[DISCOVERY])
                    .resources(&["endpointslices"])
                    .build(),
            ],
        ),
        cluster_role("system:kube-scheduler", kube_scheduler_rules()),
    ];
    sort_by_name(&mut roles, |r| &r.metadata);
    roles
}

fn approver(name: &str, signer: &str) -> ClusterRole {
    cluster_role(
        name,
        vec![
            rule(&["approve"])
                .groups(&[CERTIFICATES])
                .resources(&["signers"])
                .names(&[signer])
                .build(),
        ],
    )
}

fn aggregate_to_edit_rules() -> Vec<PolicyRule> {
    vec![
        // read access to escalating resources
        rule(READ)
            .groups(&[LEGACY])
            .resources(&[
                "pods/attach",
                "pods/proxy",
                "pods/exec",
                "pods/portforward",
                "secrets",
                "services/proxy",
            ])
            .build(),
        rule(&["impersonate"])
            .groups(&[LEGACY])
            .resources(&["serviceaccounts"])
            .build(),
        rule(WRITE)
            .groups(&[LEGACY])
            .resources(&[
                "pods",
                "pods/attach",
                "pods/proxy",
                "pods/exec",
                "pods/portforward",
            ])
            .build(),
        rule(&["create"])
            .groups(&[LEGACY])
            .resources(&["pods/eviction"])
            .build(),
        rule(WRITE)
            .groups(&[LEGACY])
            .resources(&[
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/proxy",
                "persistentvolumeclaims",
                "configmaps",
                "secrets",
                "events",
            ])
            .build(),
        rule(&["create"])
            .groups(&[LEGACY])
            .resources(&["serviceaccounts/token"])
            .build(),
        rule(WRITE)
            .groups(&[APPS])
            .resources(&[
                "statefulsets",
                "statefulsets/scale",
                "daemonsets",
                "deployments",
                "deployments/scale",
                "deployments/rollback",
                "replicasets",
                "replicasets/scale",
            ])
            .build(),
        rule(WRITE)
            .groups(&[AUTOSCALING])
            .resources(&["horizontalpodautoscalers"])
            .build(),
        rule(WRITE)
            .groups(&[BATCH])
            .resources(&["jobs", "cronjobs"])
            .build(),
        rule(WRITE)
            .groups(&[EXTENSIONS])
            .resources(&[
                "daemonsets",
                "deployments",
                "deployments/scale",
                "deployments/rollback",
                "ingresses",
                "replicasets",
                "replicasets/scale",
                "replicationcontrollers/scale",
                "networkpolicies",
            ])
            .build(),
        rule(WRITE)
            .groups(&[POLICY])
            .resources(&["poddisruptionbudgets"])
            .build(),
        rule(WRITE)
            .groups(&[NETWORKING])
            .resources(&["networkpolicies", "ingresses"])
            .build(),
        rule(READ_WRITE)
            .groups(&[COORDINATION])
            .resources(&["leases"])
            .build(),
    ]
}

fn aggregate_to_view_rules() -> Vec<PolicyRule> {
    vec![
        rule(READ)
            .groups(&[LEGACY])
            .resources(&[
                "pods",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/status",
                "endpoints",
                "persistentvolumeclaims",
                "persistentvolumeclaims/status",
                "configmaps",
            ])
            .build(),
        rule(READ)
            .groups(&[LEGACY])
            .resources(&[
                "limitranges",
                "resourcequotas",
                "bindings",
                "events",
                "pods/status",
                "resourcequotas/status",
                "namespaces/status",
                "replicationcontrollers/status",
                "pods/log",
            ])
            .build(),
        // reading namespaces at namespace scope means reading *this* namespace
        rule(READ)
            .groups(&[LEGACY])
            .resources(&["namespaces"])
            .build(),
        rule(READ)
            .groups(&[DISCOVERY])
            .resources(&["endpointslices"])
            .build(),
        rule(READ)
            .groups(&[APPS])
            .resources(&[
                "controllerrevisions",
                "statefulsets",
                "statefulsets/status",
                "statefulsets/scale",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/status",
                "deployments/scale",
                "replicasets",
                "replicasets/status",
                "replicasets/scale",
            ])
            .build(),
        rule(READ)
            .groups(&[AUTOSCALING])
            .resources(&[
                "horizontalpodautoscalers",
                "horizontalpodautoscalers/status",
            ])
            .build(),
        rule(READ)
            .groups(&[BATCH])
            .resources(&["jobs", "cronjobs", "cronjobs/status", "jobs/status"])
            .build(),
        rule(READ)
            .groups(&[EXTENSIONS])
            .resources(&[
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "ingresses",
                "ingresses/status",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "replicationcontrollers/scale",
                "networkpolicies",
            ])
            .build(),
        rule(READ)
            .groups(&[POLICY])
            .resources(&["poddisruptionbudgets", "poddisruptionbudgets/status"])
            .build(),
        rule(READ)
            .groups(&[NETWORKING])
            .resources(&["networkpolicies", "ingresses", "ingresses/status"])
            .build(),
    ]
}

fn kube_scheduler_rules() -> Vec<PolicyRule> {
    vec![
        events_rule(),
        // leader election
        rule(&["create"])
            .groups(&[COORDINATION])
            .resources(&["leases"])
            .build(),
        rule(&["get", "update", "list", "watch"])
            .groups(&[COORDINATION])
            .resources(&["leases"])
            .names(&["kube-scheduler"])
            .build(),
        rule(READ_WRITE)
            .groups(&[COORDINATION])
            .resources(&["leasecandidates"])
            .build(),
        // fundamental resources
        rule(READ).groups(&[LEGACY]).resources(&["nodes"]).build(),
        rule(&["get", "list", "watch", "delete"])
            .groups(&[LEGACY])
            .resources(&["pods"])
            .build(),
        rule(&["create"])
            .groups(&[LEGACY])
            .resources(&["pods/binding", "bindings"])
            .build(),
        rule(&["patch", "update"])
            .groups(&[LEGACY])
            .resources(&["pods/status"])
            .build(),
        // things that select pods
        rule(READ)
            .groups(&[LEGACY])
            .resources(&["services", "replicationcontrollers"])
            .build(),
        rule(READ)
            .groups(&[APPS, EXTENSIONS])
            .resources(&["replicasets"])
            .build(),
        rule(READ)
            .groups(&[APPS])
            .resources(&["statefulsets"])
            .build(),
        // things that pods use or that apply to them
        rule(READ)
            .groups(&[POLICY])
            .resources(&["poddisruptionbudgets"])
            .build(),
        rule(READ)
            .groups(&[LEGACY])
            .resources(&["persistentvolumeclaims", "persistentvolumes"])
            .build(),
        // API access checks
        rule(&["create"])
            .groups(&[AUTHENTICATION])
            .resources(&["tokenreviews"])
            .build(),
        rule(&["create"])
            .groups(&[AUTHORIZATION])
            .resources(&["subjectaccessreviews"])
            .build(),
        // volume limits
        rule(READ)
            .groups(&[STORAGE])
            .resources(&["csinodes"])
            .build(),
        rule(&["get", "list", "watch"])
            .groups(&[STORAGE])
            .resources(&["volumeattachments"])
            .build(),
        // namespaceSelector in pod affinity
        rule(READ)
            .groups(&[LEGACY])
            .resources(&["namespaces"])
            .build(),
        rule(READ)
            .groups(&[STORAGE])
            .resources(&["csidrivers"])
            .build(),
        rule(READ)
            .groups(&[STORAGE])
            .resources(&["csistoragecapacities"])
            .build(),
    ]
}

/// The policy ClusterRoleBindings (upstream's `ClusterRoleBindings()`, test data
/// `cluster-role-bindings.yaml`), sorted by name. `system:node` binds nobody: the Node
/// authorizer replaced it, and reconciliation keeps it empty.
pub fn cluster_role_bindings() -> Vec<ClusterRoleBinding> {
    let mut bindings = vec![
        cluster_binding("cluster-admin", vec![group(crate::SYSTEM_PRIVILEGED_GROUP)]),
        cluster_binding("system:monitoring", vec![group("system:monitoring")]),
        cluster_binding("system:discovery", vec![group("system:authenticated")]),
        cluster_binding("system:basic-user", vec![group("system:authenticated")]),
        cluster_binding(
            "system:public-info-viewer",
            vec![
                group("system:authenticated"),
                group("system:unauthenticated"),
            ],
        ),
        cluster_binding("system:node-proxier", vec![user("system:kube-proxy")]),
        cluster_binding(
            "system:kube-controller-manager",
            vec![user("system:kube-controller-manager")],
        ),
        cluster_binding(
            "system:kube-dns",
            vec![service_account("kube-system", "kube-dns")],
        ),
        cluster_binding("system:kube-scheduler", vec![user("system:kube-scheduler")]),
        cluster_binding(
            "system:volume-scheduler",
            vec![user("system:kube-scheduler")],
        ),
        cluster_binding("system:node", vec![]),
        // every service account may read the OIDC discovery documents
        cluster_binding(
            "system:service-account-issuer-discovery",
            vec![group("system:serviceaccounts")],
        ),
    ];
    sort_by_name(&mut bindings, |b| &b.metadata);
    bindings
}
