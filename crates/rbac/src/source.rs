//! Where the authorizer finds roles and bindings.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};

/// The roles and bindings of a cluster, as the authorizer reads them.
///
/// Authorization runs on every request, so the interface is made to be served from in-memory
/// caches without copying: bindings are visited in place, roles are handed out as shared
/// pointers. The visiting methods may be called again, and `cluster_role`/`role` called, from
/// inside a visit callback: an implementation that holds a lock while visiting must allow that
/// (separate locks per kind, or an immutable snapshot).
pub trait RuleSource {
    /// Calls `visit` with each ClusterRoleBinding, in any order, until it returns `false`.
    fn cluster_role_bindings(&self, visit: &mut dyn FnMut(&ClusterRoleBinding) -> bool);

    /// Calls `visit` with each RoleBinding of `namespace`, in any order, until it returns
    /// `false`.
    fn role_bindings(&self, namespace: &str, visit: &mut dyn FnMut(&RoleBinding) -> bool);

    /// The ClusterRole called `name`, if there is one.
    fn cluster_role(&self, name: &str) -> Option<Arc<ClusterRole>>;

    /// The Role called `name` in `namespace`, if there is one.
    fn role(&self, namespace: &str, name: &str) -> Option<Arc<Role>>;
}

impl<T: RuleSource + ?Sized> RuleSource for &T {
    fn cluster_role_bindings(&self, visit: &mut dyn FnMut(&ClusterRoleBinding) -> bool) {
        (**self).cluster_role_bindings(visit)
    }
    fn role_bindings(&self, namespace: &str, visit: &mut dyn FnMut(&RoleBinding) -> bool) {
        (**self).role_bindings(namespace, visit)
    }
    fn cluster_role(&self, name: &str) -> Option<Arc<ClusterRole>> {
        (**self).cluster_role(name)
    }
    fn role(&self, namespace: &str, name: &str) -> Option<Arc<Role>> {
        (**self).role(namespace, name)
    }
}

impl<T: RuleSource + ?Sized> RuleSource for Arc<T> {
    fn cluster_role_bindings(&self, visit: &mut dyn FnMut(&ClusterRoleBinding) -> bool) {
        (**self).cluster_role_bindings(visit)
    }
    fn role_bindings(&self, namespace: &str, visit: &mut dyn FnMut(&RoleBinding) -> bool) {
        (**self).role_bindings(namespace, visit)
    }
    fn cluster_role(&self, name: &str) -> Option<Arc<ClusterRole>> {
        (**self).cluster_role(name)
    }
    fn role(&self, namespace: &str, name: &str) -> Option<Arc<Role>> {
        (**self).role(namespace, name)
    }
}

/// An immutable [`RuleSource`] over lists of objects: for tests, for tools, and as a snapshot
/// that a cache can rebuild and swap when RBAC objects change.
#[derive(Clone, Debug, Default)]
pub struct StaticSource {
    cluster_roles: HashMap<String, Arc<ClusterRole>>,
    cluster_role_bindings: BTreeMap<String, ClusterRoleBinding>,
    roles: HashMap<String, HashMap<String, Arc<Role>>>,
    role_bindings: HashMap<String, BTreeMap<String, RoleBinding>>,
}

impl StaticSource {
    /// A source holding these objects. Roles and RoleBindings are placed by
    /// `metadata.namespace`; a later object with the same name replaces an earlier one.
    /// Bindings are visited in name order.
    pub fn new(
        cluster_roles: impl IntoIterator<Item = ClusterRole>,
        cluster_role_bindings: impl IntoIterator<Item = ClusterRoleBinding>,
        roles: impl IntoIterator<Item = Role>,
        role_bindings: impl IntoIterator<Item = RoleBinding>,
    ) -> Self {
        let mut s = StaticSource::default();
        for r in cluster_roles {
            s.add_cluster_role(r);
        }
        for b in cluster_role_bindings {
            s.add_cluster_role_binding(b);
        }
        for r in roles {
            s.add_role(r);
        }
        for b in role_bindings {
            s.add_role_binding(b);
        }
        s
    }

    /// The bootstrap policy of [`crate::bootstrap`], with the aggregated roles (`admin`,
    /// `edit`, `view`) already aggregated as the controller would.
    pub fn with_bootstrap_policy() -> Self {
        let mut roles = crate::bootstrap_cluster_roles();
        crate::aggregate_all(&mut roles);
        StaticSource::new(
            roles,
            crate::bootstrap_cluster_role_bindings(),
            crate::bootstrap_namespace_roles(),
            crate::bootstrap_namespace_role_bindings(),
        )
    }

    /// Adds (or replaces, by name) a ClusterRole.
    pub fn add_cluster_role(&mut self, role: ClusterRole) {
        let name = role.metadata.name.clone().unwrap_or_default();
        self.cluster_roles.insert(name, Arc::new(role));
    }

    /// Adds (or replaces, by name) a ClusterRoleBinding.
    pub fn add_cluster_role_binding(&mut self, binding: ClusterRoleBinding) {
        let name = binding.metadata.name.clone().unwrap_or_default();
        self.cluster_role_bindings.insert(name, binding);
    }

    /// Adds (or replaces, by namespace and name) a Role.
    pub fn add_role(&mut self, role: Role) {
        let ns = role.metadata.namespace.clone().unwrap_or_default();
        let name = role.metadata.name.clone().unwrap_or_default();
        self.roles
            .entry(ns)
            .or_default()
            .insert(name, Arc::new(role));
    }

    /// Adds (or replaces, by namespace and name) a RoleBinding.
    pub fn add_role_binding(&mut self, binding: RoleBinding) {
        let ns = binding.metadata.namespace.clone().unwrap_or_default();
        let name = binding.metadata.name.clone().unwrap_or_default();
        self.role_bindings
            .entry(ns)
            .or_default()
            .insert(name, binding);
    }
}

impl RuleSource for StaticSource {
    fn cluster_role_bindings(&self, visit: &mut dyn FnMut(&ClusterRoleBinding) -> bool) {
        for b in self.cluster_role_bindings.values() {
            if !visit(b) {
                return;
            }
        }
    }

    fn role_bindings(&self, namespace: &str, visit: &mut dyn FnMut(&RoleBinding) -> bool) {
        if let Some(list) = self.role_bindings.get(namespace) {
            for b in list.values() {
                if !visit(b) {
                    return;
                }
            }
        }
    }

    fn cluster_role(&self, name: &str) -> Option<Arc<ClusterRole>> {
        self.cluster_roles.get(name).cloned()
    }

    fn role(&self, namespace: &str, name: &str) -> Option<Arc<Role>> {
        self.roles.get(namespace)?.get(name).cloned()
    }
}
