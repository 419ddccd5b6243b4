//! `rbac.authorization.k8s.io/v1`: roles, rolebindings, clusterroles, clusterrolebindings.

use apimachinery::ResourceInfo;
use k8s_openapi::api::rbac::v1 as api;

use super::{NameRule, Registry, Resource, Strategy, parts};

parts!(data: api::Role, api::RoleBinding, api::ClusterRole, api::ClusterRoleBinding);

const GROUP: &str = "rbac.authorization.k8s.io";

macro_rules! rbac {
    ($name:ident, $kind:ty, $k:literal, $plural:literal, $ns:literal, $cols:path, $cells:path, $defaults:path, $validate:path, $validate_update:path) => {
        #[doc = $plural]
        pub struct $name;
        impl Strategy for $name {
            type K = $kind;
            fn info(&self) -> ResourceInfo {
                ResourceInfo::new(GROUP, "v1", $k, $plural, $ns)
            }
            fn name_rule(&self) -> NameRule {
                NameRule::PathSegment
            }
            fn columns(&self) -> Vec<apimachinery::table::Column> {
                $cols()
            }
            fn defaults(&self, o: &mut $kind) {
                $defaults(o)
            }
            fn validate(&self, o: &$kind) -> apimachinery::ErrorList {
                $validate(o)
            }
            fn validate_update(&self, new: &$kind, old: &$kind) -> apimachinery::ErrorList {
                $validate_update(new, old)
            }
            fn cells(&self, o: &$kind, now: jiff::Timestamp) -> Vec<serde_json::Value> {
                $cells(o, now)
            }
        }
    };
}

rbac!(Roles, api::Role, "Role", "roles", true, crate::printers::rbac::role_columns, crate::printers::rbac::role_cells, crate::defaults::rbac::role, crate::validation::role, crate::validation::role_update);
rbac!(RoleBindings, api::RoleBinding, "RoleBinding", "rolebindings", true, crate::printers::rbac::role_binding_columns, crate::printers::rbac::role_binding_cells, crate::defaults::rbac::role_binding, crate::validation::role_binding, crate::validation::role_binding_update);
rbac!(ClusterRoles, api::ClusterRole, "ClusterRole", "clusterroles", false, crate::printers::rbac::cluster_role_columns, crate::printers::rbac::cluster_role_cells, crate::defaults::rbac::cluster_role, crate::validation::cluster_role, crate::validation::cluster_role_update);
rbac!(ClusterRoleBindings, api::ClusterRoleBinding, "ClusterRoleBinding", "clusterrolebindings", false, crate::printers::rbac::cluster_role_binding_columns, crate::printers::rbac::cluster_role_binding_cells, crate::defaults::rbac::cluster_role_binding, crate::validation::cluster_role_binding, crate::validation::cluster_role_binding_update);

/// Registers RBAC.
pub fn register(r: &mut Registry) {
    r.add(Resource::new(ClusterRoleBindings));
    r.add(Resource::new(ClusterRoles));
    r.add(Resource::new(RoleBindings));
    r.add(Resource::new(Roles));
}
