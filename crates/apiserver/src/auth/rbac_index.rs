//! RBAC's view of the cluster: Roles, ClusterRoles and their bindings decoded once from the
//! watch caches into a snapshot, rebuilt only when one of the four caches changes. Every
//! request's authorization reads the current snapshot; nothing is decoded on the hot path.

use std::collections::HashMap;
use std::sync::Arc;

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use parking_lot::RwLock;

use crate::cache::Cache;

/// Decoded RBAC objects at one moment.
#[derive(Default)]
pub struct Snapshot {
    generations: Vec<u64>,
    cluster_roles: HashMap<String, Arc<ClusterRole>>,
    roles: HashMap<(String, String), Arc<Role>>,
    cluster_role_bindings: Vec<ClusterRoleBinding>,
    role_bindings: HashMap<String, Vec<RoleBinding>>,
}

impl Snapshot {
    /// Every ClusterRole.
    pub fn all_cluster_roles(&self) -> impl Iterator<Item = &ClusterRole> {
        self.cluster_roles.values().map(|r| r.as_ref())
    }
}

impl rbac::RuleSource for Snapshot {
    fn cluster_role_bindings(&self, visit: &mut dyn FnMut(&ClusterRoleBinding) -> bool) {
        for b in &self.cluster_role_bindings {
            if !visit(b) {
                return;
            }
        }
    }
    fn role_bindings(&self, namespace: &str, visit: &mut dyn FnMut(&RoleBinding) -> bool) {
        for b in self.role_bindings.get(namespace).map(Vec::as_slice).unwrap_or(&[]) {
            if !visit(b) {
                return;
            }
        }
    }
    fn cluster_role(&self, name: &str) -> Option<Arc<ClusterRole>> {
        self.cluster_roles.get(name).cloned()
    }
    fn role(&self, namespace: &str, name: &str) -> Option<Arc<Role>> {
        self.roles.get(&(namespace.to_string(), name.to_string())).cloned()
    }
}

/// The RBAC index of an apiserver.
#[derive(Default)]
pub struct RbacIndex {
    current: RwLock<Arc<Snapshot>>,
    build: parking_lot::Mutex<()>,
}

impl RbacIndex {
    /// The current snapshot; `caches` are those of roles, clusterroles, rolebindings and
    /// clusterrolebindings, in this order.
    pub fn snapshot(&self, caches: &[Arc<Cache>; 4]) -> Arc<Snapshot> {
        let gens: Vec<u64> = caches.iter().map(|c| c.generation()).collect();
        {
            let cur = self.current.read();
            if cur.generations == gens {
                return cur.clone();
            }
        }
        let _one_builder = self.build.lock();
        {
            let cur = self.current.read();
            if cur.generations == gens {
                return cur.clone();
            }
        }
        let mut snap = Snapshot { generations: gens, ..Default::default() };
        for r in caches[0].decode_all::<Role>("") {
            let key = (r.metadata.namespace.clone().unwrap_or_default(), r.metadata.name.clone().unwrap_or_default());
            snap.roles.insert(key, Arc::new(r));
        }
        let mut cluster_roles: Vec<ClusterRole> = caches[1].decode_all("");
        // aggregated roles get the union of the rules of the roles their selectors match, as
        // the clusterrole aggregation controller writes them upstream
        rbac::aggregate_all(&mut cluster_roles);
        for r in cluster_roles {
            snap.cluster_roles.insert(r.metadata.name.clone().unwrap_or_default(), Arc::new(r));
        }
        for b in caches[2].decode_all::<RoleBinding>("") {
            snap.role_bindings.entry(b.metadata.namespace.clone().unwrap_or_default()).or_default().push(b);
        }
        snap.cluster_role_bindings = caches[3].decode_all("");
        let snap = Arc::new(snap);
        *self.current.write() = snap.clone();
        snap
    }
}
