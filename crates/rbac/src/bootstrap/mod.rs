//! The bootstrap policy: the roles and bindings an API server creates at start-up and keeps
//! reconciled (those annotated `rbac.authorization.kubernetes.io/autoupdate: "true"`).
//!
//! This is Kubernetes 1.32's `plugin/pkg/auth/authorizer/rbac/bootstrappolicy` with the
//! feature gates at their 1.32 defaults, so the objects are those of upstream's expected
//! test data (`testdata/cluster-roles.yaml`, `controller-roles.yaml`, `namespace-roles.yaml`
//! and their `-bindings` files): same names, rules (each rule's lists sorted, rules in
//! upstream's order), labels (`kubernetes.io/bootstrapping: rbac-defaults` plus the
//! aggregation labels), annotations and aggregation selectors. Every list is sorted by name
//! (namespaced objects by namespace, then name), as the test data is.
//!
//! Roles and rules gated by features that are off by default in 1.32
//! (DynamicResourceAllocation, ClusterTrustBundle, KubeletFineGrainedAuthz,
//! MultiCIDRServiceAllocator, VolumeAttributesClass, StorageVersionAPI,
//! StorageVersionMigrator, SELinuxChangePolicy, ComponentFlagz, ComponentStatusz) are left
//! out; StatefulSetAutoDeletePVC, GA in 1.32, is in.

mod cluster;
mod controller;
mod ferrokube;
mod namespace;

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

pub use cluster::{cluster_role_bindings, cluster_roles, node_rules};
pub use controller::{controller_role_bindings, controller_roles};
pub use ferrokube::{KUBELET_CLIENT, SERVING_APPROVER, ferrokube_cluster_role_bindings, ferrokube_cluster_roles};
pub use namespace::{namespace_role_bindings, namespace_roles};

/// The label every bootstrap object carries: `kubernetes.io/bootstrapping`.
pub const BOOTSTRAPPING_LABEL: &str = "kubernetes.io/bootstrapping";
/// The value of [`BOOTSTRAPPING_LABEL`]: `rbac-defaults`.
pub const BOOTSTRAPPING_VALUE: &str = "rbac-defaults";
/// The prefix of the controllers' roles and of their service accounts' bindings.
pub const CONTROLLER_ROLE_PREFIX: &str = "system:controller:";

/// Every default ClusterRole: the policy roles of [`cluster_roles`] followed by the
/// controller roles of [`controller_roles`], as the API server creates them.
pub fn bootstrap_cluster_roles() -> Vec<ClusterRole> {
    let mut roles = cluster_roles();
    roles.extend(controller_roles());
    roles
}

/// Every default ClusterRoleBinding: [`cluster_role_bindings`] followed by
/// [`controller_role_bindings`].
pub fn bootstrap_cluster_role_bindings() -> Vec<ClusterRoleBinding> {
    let mut bindings = cluster_role_bindings();
    bindings.extend(controller_role_bindings());
    bindings
}

/// Every default Role (in `kube-public` and `kube-system`).
pub fn bootstrap_namespace_roles() -> Vec<Role> {
    namespace_roles()
}

/// Every default RoleBinding (in `kube-public` and `kube-system`).
pub fn bootstrap_namespace_role_bindings() -> Vec<RoleBinding> {
    namespace_role_bindings()
}

// ---- the little language the policy is written in ----

const LEGACY: &str = "";
const APPS: &str = "apps";
const AUTHENTICATION: &str = "authentication.k8s.io";
const AUTHORIZATION: &str = "authorization.k8s.io";
const AUTOSCALING: &str = "autoscaling";
const BATCH: &str = "batch";
const CERTIFICATES: &str = "certificates.k8s.io";
const COORDINATION: &str = "coordination.k8s.io";
const DISCOVERY: &str = "discovery.k8s.io";
const EXTENSIONS: &str = "extensions";
const POLICY: &str = "policy";
const RBAC: &str = "rbac.authorization.k8s.io";
const STORAGE: &str = "storage.k8s.io";
const RES_METRICS: &str = "metrics.k8s.io";
const CUSTOM_METRICS: &str = "custom.metrics.k8s.io";
const EXTERNAL_METRICS: &str = "external.metrics.k8s.io";
const NETWORKING: &str = "networking.k8s.io";
const EVENTS: &str = "events.k8s.io";
const ADMISSION_REGISTRATION: &str = "admissionregistration.k8s.io";

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];
const READ_WRITE: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];
const READ_UPDATE: &[&str] = &["get", "list", "watch", "update", "patch"];

/// A rule under construction; [`R::build`] sorts every list, as upstream's builder does.
struct R {
    verbs: Vec<String>,
    groups: Vec<String>,
    resources: Vec<String>,
    names: Vec<String>,
    urls: Vec<String>,
}

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn rule(verbs: &[&str]) -> R {
    R {
        verbs: owned(verbs),
        groups: Vec::new(),
        resources: Vec::new(),
        names: Vec::new(),
        urls: Vec::new(),
    }
}

impl R {
    fn groups(mut self, groups: &[&str]) -> R {
        self.groups.extend(owned(groups));
        self
    }
    fn resources(mut self, resources: &[&str]) -> R {
        self.resources.extend(owned(resources));
        self
    }
    fn names(mut self, names: &[&str]) -> R {
        self.names.extend(owned(names));
        self
    }
    fn urls(mut self, urls: &[&str]) -> R {
        self.urls.extend(owned(urls));
        self
    }
    fn build(self) -> PolicyRule {
        fn sorted(mut v: Vec<String>) -> Option<Vec<String>> {
            if v.is_empty() {
                return None;
            }
            v.sort();
            Some(v)
        }
        let mut verbs = self.verbs;
        verbs.sort();
        PolicyRule {
            verbs,
            api_groups: sorted(self.groups),
            resources: sorted(self.resources),
            resource_names: sorted(self.names),
            non_resource_urls: sorted(self.urls),
        }
    }
}

/// `create`/`update`/`patch` of events in both the core and `events.k8s.io` groups.
fn events_rule() -> PolicyRule {
    rule(&["create", "update", "patch"])
        .groups(&[LEGACY, EVENTS])
        .resources(&["events"])
        .build()
}

fn meta(name: &str, namespace: Option<&str>, extra_labels: &[(&str, &str)]) -> ObjectMeta {
    let mut labels = BTreeMap::new();
    for (k, v) in extra_labels {
        labels.insert(k.to_string(), v.to_string());
    }
    labels.insert(
        BOOTSTRAPPING_LABEL.to_string(),
        BOOTSTRAPPING_VALUE.to_string(),
    );
    let mut annotations = BTreeMap::new();
    annotations.insert(
        crate::AUTO_UPDATE_ANNOTATION.to_string(),
        "true".to_string(),
    );
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        labels: Some(labels),
        annotations: Some(annotations),
        ..ObjectMeta::default()
    }
}

fn cluster_role(name: &str, rules: Vec<PolicyRule>) -> ClusterRole {
    ClusterRole {
        metadata: meta(name, None, &[]),
        rules: Some(rules),
        aggregation_rule: None,
    }
}

fn user(name: &str) -> Subject {
    Subject {
        api_group: Some(RBAC.to_string()),
        kind: "User".to_string(),
        name: name.to_string(),
        namespace: None,
    }
}

fn group(name: &str) -> Subject {
    Subject {
        api_group: Some(RBAC.to_string()),
        kind: "Group".to_string(),
        name: name.to_string(),
        namespace: None,
    }
}

fn service_account(namespace: &str, name: &str) -> Subject {
    Subject {
        api_group: None,
        kind: "ServiceAccount".to_string(),
        name: name.to_string(),
        namespace: Some(namespace.to_string()),
    }
}

/// A ClusterRoleBinding named like the ClusterRole it binds.
fn cluster_binding(role: &str, subjects: Vec<Subject>) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: meta(role, None, &[]),
        role_ref: RoleRef {
            api_group: RBAC.to_string(),
            kind: "ClusterRole".to_string(),
            name: role.to_string(),
        },
        subjects: if subjects.is_empty() {
            None
        } else {
            Some(subjects)
        },
    }
}

fn sort_by_name<T>(items: &mut [T], name: impl Fn(&T) -> &ObjectMeta) {
    items.sort_by(|a, b| {
        let (a, b) = (name(a), name(b));
        (a.namespace.as_deref(), a.name.as_deref())
            .cmp(&(b.namespace.as_deref(), b.name.as_deref()))
    });
}

#[cfg(test)]
mod tests;
