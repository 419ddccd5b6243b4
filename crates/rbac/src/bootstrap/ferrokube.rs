//! ferrokube's own default policy, beside upstream's: what joining and serving a node needs
//! (upstream leaves these to the installer — kubeadm creates the same three node bindings), and
//! the role of ferrokube's kubelet-serving approver. Reconciled like the upstream defaults.

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleRef, Subject};

use super::{CERTIFICATES, LEGACY, RBAC, cluster_role, events_rule, group, meta, rule, service_account, user};

/// The identity of the kubelet-serving approver (a service account in kube-system).
pub const SERVING_APPROVER: &str = "kubelet-serving-approver";

/// The user of the apiserver's client certificate for kubelets (kubeadm's name).
pub const KUBELET_CLIENT: &str = "kube-apiserver-kubelet-client";

fn binding(name: &str, role: &str, subjects: Vec<Subject>) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: meta(name, None, &[]),
        role_ref: RoleRef { api_group: RBAC.to_string(), kind: "ClusterRole".to_string(), name: role.to_string() },
        subjects: Some(subjects),
    }
}

/// ferrokube's default ClusterRoles.
pub fn ferrokube_cluster_roles() -> Vec<ClusterRole> {
    vec![cluster_role(
        "ferrokube:kubelet-serving-approver",
        vec![
            rule(&["get", "list", "watch"]).groups(&[CERTIFICATES]).resources(&["certificatesigningrequests"]).build(),
            rule(&["update"]).groups(&[CERTIFICATES]).resources(&["certificatesigningrequests/approval"]).build(),
            rule(&["approve"]).groups(&[CERTIFICATES]).resources(&["signers"]).names(&["kubernetes.io/kubelet-serving"]).build(),
            rule(&["get"]).groups(&[LEGACY]).resources(&["nodes"]).build(),
            events_rule(),
        ],
    )]
}

/// ferrokube's default ClusterRoleBindings: bootstrap tokens (`system:bootstrappers`) may
/// request node client certificates and have them approved; nodes may renew their own; the
/// serving approver gets its role.
pub fn ferrokube_cluster_role_bindings() -> Vec<ClusterRoleBinding> {
    vec![
        binding("ferrokube:kubelet-bootstrap", "system:node-bootstrapper", vec![group("system:bootstrappers")]),
        binding(
            "ferrokube:node-autoapprove-bootstrap",
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            vec![group("system:bootstrappers")],
        ),
        binding(
            "ferrokube:node-autoapprove-certificate-rotation",
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            vec![group("system:nodes")],
        ),
        binding("ferrokube:kubelet-serving-approver", "ferrokube:kubelet-serving-approver", vec![service_account("kube-system", SERVING_APPROVER)]),
        // the apiserver's client certificate for kubelets (logs, exec, attach, port-forward,
        // nodes/proxy), as kubeadm's kube-apiserver-kubelet-client
        binding("ferrokube:kube-apiserver-kubelet-client", "system:kubelet-api-admin", vec![user(KUBELET_CLIENT)]),
    ]
}
