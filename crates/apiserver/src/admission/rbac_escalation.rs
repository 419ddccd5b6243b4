//! RBAC escalation prevention (upstream does it in the RBAC registry): a user may write a Role
//! or ClusterRole only with permissions they hold themselves (or with the `escalate` verb on
//! it), and a binding only to a role whose permissions they hold (or with the `bind` verb on
//! that role).

use apimachinery::{ApiError, ApiResult};
use k8s_openapi::api::rbac::v1 as api;

use super::{Operation, Request};
use crate::Api;
use crate::auth::authz;
use crate::registry::Object;

fn allowed(a: &Api, user: &crate::auth::UserInfo, ra: &rbac::Attributes) -> bool {
    let attrs = authz::Attributes {
        verb: ra.verb.clone(),
        namespace: ra.namespace.clone(),
        api_group: ra.api_group.clone(),
        resource: ra.resource.clone(),
        name: ra.name.clone(),
        resource_request: true,
        ..Default::default()
    };
    authz::allowed(a, user, &attrs)
}

/// Checks writes of roles and bindings.
pub fn validate(a: &Api, req: &Request<'_>, obj: &dyn Object) -> ApiResult<()> {
    if req.res.info.group != rbac::GROUP_NAME || req.operation == Operation::Delete || !req.subresource.is_empty() {
        return Ok(());
    }
    let user = req.user;
    if rbac::escalation_allowed(&user.groups) {
        return Ok(());
    }
    let info = &req.res.info;
    let snap = a.rbac_snapshot();
    let forbid = |msg: String| ApiError::forbidden(&info.group, &info.plural, req.name, &msg);
    match info.plural.as_str() {
        "roles" => {
            let Some(r) = obj.as_any().downcast_ref::<api::Role>() else { return Ok(()) };
            if allowed(a, user, &rbac::escalate_attributes(&user.name, &user.groups, "roles", req.namespace, req.name)) {
                return Ok(());
            }
            rbac::confirm_no_escalation(&*snap, &user.name, &user.groups, req.namespace, r.rules.as_deref().unwrap_or(&[])).map_err(forbid)
        }
        "clusterroles" => {
            let Some(r) = obj.as_any().downcast_ref::<api::ClusterRole>() else { return Ok(()) };
            if allowed(a, user, &rbac::escalate_attributes(&user.name, &user.groups, "clusterroles", "", req.name)) {
                return Ok(());
            }
            let old = req.old.and_then(|o| o.as_any().downcast_ref::<api::ClusterRole>());
            rbac::confirm_cluster_role_write(&*snap, &user.name, &user.groups, r, old).map_err(forbid)
        }
        "rolebindings" | "clusterrolebindings" => {
            let role_ref = if let Some(b) = obj.as_any().downcast_ref::<api::RoleBinding>() {
                b.role_ref.clone()
            } else if let Some(b) = obj.as_any().downcast_ref::<api::ClusterRoleBinding>() {
                b.role_ref.clone()
            } else {
                return Ok(());
            };
            // an unchanged roleRef needs no new check (bindings' roleRef is immutable anyway)
            if let Some(ra) = rbac::bind_attributes(&user.name, &user.groups, &role_ref, req.namespace)
                && allowed(a, user, &ra)
            {
                return Ok(());
            }
            let rules = rbac::role_ref_rules(&*snap, &role_ref, req.namespace).map_err(|e| forbid(e.to_string()))?;
            rbac::confirm_no_escalation(&*snap, &user.name, &user.groups, req.namespace, &rules).map_err(forbid)
        }
        _ => Ok(()),
    }
}
