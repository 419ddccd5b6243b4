//! Printers for `rbac.authorization.k8s.io`. Roles and ClusterRoles have no printer upstream
//! (default table); bindings show their role and, wide, their subjects.

use apimachinery::table::Column;
use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::docs::*;
use super::{age, col, default_cells, default_columns, name, s};

/// Role has no printer upstream: the default table (NAME, CREATED AT).
pub fn role_columns() -> Vec<Column> {
    default_columns()
}

/// Role cells of the default table.
pub fn role_cells(obj: &Role, _now: jiff::Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// ClusterRole has no printer upstream: the default table (NAME, CREATED AT).
pub fn cluster_role_columns() -> Vec<Column> {
    default_columns()
}

/// ClusterRole cells of the default table.
pub fn cluster_role_cells(obj: &ClusterRole, _now: jiff::Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

/// RoleBinding columns: NAME, ROLE, AGE, and wide USERS, GROUPS, SERVICEACCOUNTS.
pub fn role_binding_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("Role", RBAC1B1_ROLE_BINDING_ROLE_REF),
        Column::age(),
        col("Users", "Users in the roleBinding").wide(),
        col("Groups", "Groups in the roleBinding").wide(),
        col("ServiceAccounts", "ServiceAccounts in the roleBinding").wide(),
    ]
}

/// ClusterRoleBinding columns: NAME, ROLE, AGE, and wide USERS, GROUPS, SERVICEACCOUNTS.
pub fn cluster_role_binding_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("Role", RBAC1B1_CLUSTER_ROLE_BINDING_ROLE_REF),
        Column::age(),
        col("Users", "Users in the clusterRoleBinding").wide(),
        col("Groups", "Groups in the clusterRoleBinding").wide(),
        col(
            "ServiceAccounts",
            "ServiceAccounts in the clusterRoleBinding",
        )
        .wide(),
    ]
}

fn binding_cells(
    meta: &ObjectMeta,
    role_ref: &RoleRef,
    subjects: &[Subject],
    now: jiff::Timestamp,
) -> Vec<Value> {
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut sas = Vec::new();
    for subj in subjects {
        match subj.kind.as_str() {
            "ServiceAccount" => sas.push(format!(
                "{}/{}",
                subj.namespace.as_deref().unwrap_or(""),
                subj.name
            )),
            "User" => users.push(subj.name.clone()),
            "Group" => groups.push(subj.name.clone()),
            _ => {}
        }
    }
    vec![
        s(name(meta)),
        s(format!("{}/{}", role_ref.kind, role_ref.name)),
        age(meta, now),
        s(users.join(", ")),
        s(groups.join(", ")),
        s(sas.join(", ")),
    ]
}

/// RoleBinding cells: ROLE is `Kind/name`; service accounts print as `namespace/name`.
pub fn role_binding_cells(obj: &RoleBinding, now: jiff::Timestamp) -> Vec<Value> {
    binding_cells(
        &obj.metadata,
        &obj.role_ref,
        obj.subjects.as_deref().unwrap_or(&[]),
        now,
    )
}

/// ClusterRoleBinding cells.
pub fn cluster_role_binding_cells(obj: &ClusterRoleBinding, now: jiff::Timestamp) -> Vec<Value> {
    binding_cells(
        &obj.metadata,
        &obj.role_ref,
        obj.subjects.as_deref().unwrap_or(&[]),
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testutil::{cells, meta, now};
    use serde_json::json;

    fn subject(kind: &str, name: &str, ns: Option<&str>) -> Subject {
        Subject {
            kind: kind.into(),
            name: name.into(),
            namespace: ns.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn bindings() {
        let rb = RoleBinding {
            metadata: meta("read-pods", 60),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "Role".into(),
                name: "pod-reader".into(),
            },
            subjects: Some(vec![
                subject("User", "jane", None),
                subject("User", "joe", None),
                subject("Group", "devs", None),
                subject("ServiceAccount", "builder", Some("ci")),
                subject("Other", "x", None),
            ]),
        };
        assert_eq!(
            cells(role_binding_cells(&rb, now())),
            json!([
                "read-pods",
                "Role/pod-reader",
                "60s",
                "jane, joe",
                "devs",
                "ci/builder"
            ])
        );
        let crb = ClusterRoleBinding {
            metadata: meta("admins", 60),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "ClusterRole".into(),
                name: "cluster-admin".into(),
            },
            subjects: None,
        };
        assert_eq!(
            cells(cluster_role_binding_cells(&crb, now())),
            json!(["admins", "ClusterRole/cluster-admin", "60s", "", "", ""])
        );
        assert_eq!(
            cluster_role_binding_columns()[3].description,
            "Users in the clusterRoleBinding"
        );
        assert_eq!(role_binding_columns()[3].priority, 1);
    }

    #[test]
    fn roles_use_default_table() {
        let r = Role {
            metadata: meta("pod-reader", 60),
            rules: None,
        };
        assert_eq!(
            cells(role_cells(&r, now())),
            json!(["pod-reader", "2024-05-01T11:59:00Z"])
        );
        let cr = ClusterRole {
            metadata: meta("view", 60),
            ..Default::default()
        };
        assert_eq!(
            cells(cluster_role_cells(&cr, now())),
            json!(["view", "2024-05-01T11:59:00Z"])
        );
        assert_eq!(role_columns()[1].type_, "date");
        assert_eq!(cluster_role_columns().len(), 2);
    }
}
