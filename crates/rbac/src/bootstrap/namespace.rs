//! The Roles and RoleBindings of `kube-system` and `kube-public` (upstream's
//! `namespace_policy.go`).

use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};

use super::*;

const KUBE_SYSTEM: &str = "kube-system";
const KUBE_PUBLIC: &str = "kube-public";

fn role(namespace: &str, name: &str, rules: Vec<PolicyRule>) -> Role {
    Role {
        metadata: meta(name, Some(namespace), &[]),
        rules: Some(rules),
    }
}

/// A RoleBinding named `name` of the Role `role` in `namespace`.
fn binding(namespace: &str, name: &str, role: &str, subjects: Vec<Subject>) -> RoleBinding {
    RoleBinding {
        metadata: meta(name, Some(namespace), &[]),
        role_ref: RoleRef {
            api_group: RBAC.to_string(),
            kind: "Role".to_string(),
            name: role.to_string(),
        },
        subjects: Some(subjects),
    }
}

fn controller(name: &str) -> String {
    format!("{CONTROLLER_ROLE_PREFIX}{name}")
}

/// The bootstrap Roles (test data `namespace-roles.yaml`), sorted by namespace, then name.
pub fn namespace_roles() -> Vec<Role> {
    let leader_locking = |component: &str| {
        vec![
            rule(&["watch"])
                .groups(&[LEGACY])
                .resources(&["configmaps"])
                .build(),
            rule(&["get", "update"])
                .groups(&[LEGACY])
                .resources(&["configmaps"])
                .names(&[component])
                .build(),
            rule(&["get", "watch", "list", "create", "update"])
                .groups(&["coordination.k8s.io"])
                .resources(&["leases"])
                .build(),
            rule(&["get", "watch", "list", "create", "update"])
                .groups(&["coordination.k8s.io"])
                .resources(&["leasecandidates"])
                .build(),
        ]
    };
    let mut roles = vec![
        // finding the authentication configuration when starting a server
        role(
            KUBE_SYSTEM,
            "extension-apiserver-authentication-reader",
            vec![
                rule(&["get", "list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["configmaps"])
                    .names(&["extension-apiserver-authentication"])
                    .build(),
            ],
        ),
        // the bootstrap signer inspects kube-system's secrets
        role(
            KUBE_SYSTEM,
            &controller("bootstrap-signer"),
            vec![
                rule(&["get", "list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["secrets"])
                    .build(),
            ],
        ),
        // cloud providers' configmaps (deprecated since 1.10)
        role(
            KUBE_SYSTEM,
            &controller("cloud-provider"),
            vec![
                rule(&["create", "get", "list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["configmaps"])
                    .build(),
            ],
        ),
        // the token cleaner removes expired bootstrap tokens
        role(
            KUBE_SYSTEM,
            &controller("token-cleaner"),
            vec![
                rule(&["get", "list", "watch", "delete"])
                    .groups(&[LEGACY])
                    .resources(&["secrets"])
                    .build(),
                events_rule(),
            ],
        ),
        role(
            KUBE_SYSTEM,
            "system::leader-locking-kube-controller-manager",
            leader_locking("kube-controller-manager"),
        ),
        role(
            KUBE_SYSTEM,
            "system::leader-locking-kube-scheduler",
            leader_locking("kube-scheduler"),
        ),
        // the bootstrap signer writes the cluster-info configmap
        role(
            KUBE_PUBLIC,
            &controller("bootstrap-signer"),
            vec![
                rule(&["get", "list", "watch"])
                    .groups(&[LEGACY])
                    .resources(&["configmaps"])
                    .build(),
                rule(&["update"])
                    .groups(&[LEGACY])
                    .resources(&["configmaps"])
                    .names(&["cluster-info"])
                    .build(),
                events_rule(),
            ],
        ),
    ];
    sort_by_name(&mut roles, |r| &r.metadata);
    roles
}

/// The bootstrap RoleBindings (test data `namespace-role-bindings.yaml`), sorted by
/// namespace, then name.
pub fn namespace_role_bindings() -> Vec<RoleBinding> {
    let mut bindings = vec![
        binding(
            KUBE_SYSTEM,
            "system::extension-apiserver-authentication-reader",
            "extension-apiserver-authentication-reader",
            vec![
                user("system:kube-controller-manager"),
                user("system:kube-scheduler"),
            ],
        ),
        binding(
            KUBE_SYSTEM,
            "system::leader-locking-kube-controller-manager",
            "system::leader-locking-kube-controller-manager",
            vec![
                user("system:kube-controller-manager"),
                service_account(KUBE_SYSTEM, "kube-controller-manager"),
                service_account(KUBE_SYSTEM, "leader-election-controller"),
            ],
        ),
        binding(
            KUBE_SYSTEM,
            "system::leader-locking-kube-scheduler",
            "system::leader-locking-kube-scheduler",
            vec![
                user("system:kube-scheduler"),
                service_account(KUBE_SYSTEM, "kube-scheduler"),
            ],
        ),
        binding(
            KUBE_SYSTEM,
            &controller("bootstrap-signer"),
            &controller("bootstrap-signer"),
            vec![service_account(KUBE_SYSTEM, "bootstrap-signer")],
        ),
        binding(
            KUBE_SYSTEM,
            &controller("cloud-provider"),
            &controller("cloud-provider"),
            vec![service_account(KUBE_SYSTEM, "cloud-provider")],
        ),
        binding(
            KUBE_SYSTEM,
            &controller("token-cleaner"),
            &controller("token-cleaner"),
            vec![service_account(KUBE_SYSTEM, "token-cleaner")],
        ),
        binding(
            KUBE_PUBLIC,
            &controller("bootstrap-signer"),
            &controller("bootstrap-signer"),
            vec![service_account(KUBE_SYSTEM, "bootstrap-signer")],
        ),
    ];
    sort_by_name(&mut bindings, |b| &b.metadata);
    bindings
}
