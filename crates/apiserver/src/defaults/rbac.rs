//! Defaults for `rbac.authorization.k8s.io/v1`.

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, Role, RoleBinding, RoleRef, Subject,
};

use super::str_unset;

const GROUP: &str = "rbac.authorization.k8s.io";

fn role_ref(r: &mut RoleRef) {
    if r.api_group.is_empty() {
        r.api_group = GROUP.to_owned();
    }
}

/// `User` and `Group` subjects default their `apiGroup` to the RBAC group; `ServiceAccount`
/// subjects keep the empty (core) group.
fn subjects(subjects: &mut Option<Vec<Subject>>) {
    for s in subjects.iter_mut().flatten() {
        if str_unset(&s.api_group) && (s.kind == "User" || s.kind == "Group") {
            s.api_group = Some(GROUP.to_owned());
        }
    }
}

/// Role: upstream has no defaults for this kind.
pub fn role(_obj: &mut Role) {}

/// ClusterRole: upstream has no defaults for this kind.
pub fn cluster_role(_obj: &mut ClusterRole) {}

/// RoleBinding defaults: `roleRef.apiGroup` and User/Group subject `apiGroup` default to
/// `rbac.authorization.k8s.io`.
pub fn role_binding(obj: &mut RoleBinding) {
    role_ref(&mut obj.role_ref);
    subjects(&mut obj.subjects);
}

/// ClusterRoleBinding defaults: as for RoleBinding.
pub fn cluster_role_binding(obj: &mut ClusterRoleBinding) {
    role_ref(&mut obj.role_ref);
    subjects(&mut obj.subjects);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults::testutil::{assert_idempotent, from_json, to_json};
    use serde_json::json;

    #[test]
    fn bindings() {
        let input = json!({"metadata": {"name": "b"}, "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "name": "alice"}, {"kind": "Group", "name": "devs"},
                {"kind": "ServiceAccount", "name": "sa", "namespace": "ns"}, {"kind": "User", "name": "bob", "apiGroup": "other"}]});
        let want_subjects = json!([
            {"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"},
            {"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"},
            {"kind": "ServiceAccount", "name": "sa", "namespace": "ns"},
            {"kind": "User", "name": "bob", "apiGroup": "other"}
        ]);
        let mut rb: RoleBinding = from_json(input.clone());
        role_binding(&mut rb);
        let v = to_json(&rb);
        assert_eq!(
            v["roleRef"],
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"})
        );
        assert_eq!(v["subjects"], want_subjects);
        assert_idempotent(&rb, role_binding);

        let mut crb: ClusterRoleBinding = from_json(input);
        cluster_role_binding(&mut crb);
        let v = to_json(&crb);
        assert_eq!(v["roleRef"]["apiGroup"], json!("rbac.authorization.k8s.io"));
        assert_eq!(v["subjects"], want_subjects);
        assert_idempotent(&crb, cluster_role_binding);
    }
}
