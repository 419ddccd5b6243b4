//! rbac.authorization.k8s.io/v1: Roles, ClusterRoles, RoleBindings, ClusterRoleBindings.

use apimachinery::field::{ErrorList, Path};
use apimachinery::validation as v;
use k8s_openapi::api::rbac::v1 as rbac;

use super::common::*;

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// Upstream's `ValidatePolicyRule`.
fn policy_rule(rule: &rbac::PolicyRule, namespaced: bool, path: &Path) -> Errs {
    let mut e = Vec::new();
    if rule.verbs.is_empty() {
        e.push(required(&path.child("verbs"), "verbs must contain at least one value"));
    }
    let urls = sl(&rule.non_resource_urls);
    if !urls.is_empty() {
        let up = path.child("nonResourceURLs");
        if namespaced {
            e.push(invalid(&up, str_list(urls), "namespaced rules cannot apply to non-resource URLs"));
        }
        if !sl(&rule.api_groups).is_empty() || !sl(&rule.resources).is_empty() || !sl(&rule.resource_names).is_empty() {
            e.push(invalid(&up, str_list(urls), "rules cannot apply to both regular resources and non-resource URLs"));
        }
        return e;
    }
    if sl(&rule.api_groups).is_empty() {
        e.push(required(&path.child("apiGroups"), "resource rules must supply at least one api group"));
    }
    if sl(&rule.resources).is_empty() {
        e.push(required(&path.child("resources"), "resource rules must supply at least one resource"));
    }
    e
}

fn rules(list: &[rbac::PolicyRule], namespaced: bool) -> Errs {
    list.iter().enumerate().flat_map(|(i, r)| policy_rule(r, namespaced, &p("rules").index(i))).collect()
}

/// Role create: every rule has verbs and either apiGroups+resources or (never, for a Role)
/// nonResourceURLs.
pub fn role(r: &rbac::Role) -> ErrorList {
    done(rules(sl(&r.rules), true))
}

/// Role update: the create rules.
pub fn role_update(new: &rbac::Role, _old: &rbac::Role) -> ErrorList {
    role(new)
}

fn cluster_role_errs(r: &rbac::ClusterRole, allow_invalid_label_value: bool) -> Errs {
    let mut e = rules(sl(&r.rules), false);
    if let Some(agg) = &r.aggregation_rule {
        let sp = p("aggregationRule").child("clusterRoleSelectors");
        let sels = sl(&agg.cluster_role_selectors);
        if sels.is_empty() {
            e.push(required(&sp, "at least one clusterRoleSelector required if aggregationRule is non-nil"));
        }
        for (i, s) in sels.iter().enumerate() {
            let ip = sp.index(i);
            e.extend(label_selector(Some(s), &ip, allow_invalid_label_value));
            if apimachinery::labels::from_label_selector(s).is_err() {
                e.push(invalid(&ip, json(s), "invalid label selector."));
            }
        }
    }
    e
}

/// ClusterRole create: rules (nonResourceURLs allowed) and aggregationRule selectors.
pub fn cluster_role(r: &rbac::ClusterRole) -> ErrorList {
    done(cluster_role_errs(r, false))
}

/// ClusterRole update: the create rules; invalid label values already present in the old
/// aggregation selectors are tolerated.
pub fn cluster_role_update(new: &rbac::ClusterRole, old: &rbac::ClusterRole) -> ErrorList {
    let ratchet = old
        .aggregation_rule
        .as_ref()
        .is_some_and(|a| sl(&a.cluster_role_selectors).iter().any(|s| !label_selector(Some(s), &p("x"), false).is_empty()));
    done(cluster_role_errs(new, ratchet))
}

fn role_ref(r: &rbac::RoleRef, kinds: &[&str]) -> Errs {
    let mut e = Vec::new();
    let rp = p("roleRef");
    if r.api_group != RBAC_GROUP {
        e.push(not_supported(&rp.child("apiGroup"), r.api_group.as_str(), &[RBAC_GROUP]));
    }
    if !kinds.contains(&r.kind.as_str()) {
        e.push(not_supported(&rp.child("kind"), r.kind.as_str(), kinds));
    }
    if r.name.is_empty() {
        e.push(required(&rp.child("name"), ""));
    } else {
        for m in path_segment_name_msgs(&r.name) {
            e.push(invalid(&rp.child("name"), r.name.as_str(), m));
        }
    }
    e
}

/// Upstream's `ValidateRoleBindingSubject`.
fn subject(s: &rbac::Subject, namespaced: bool, path: &Path) -> Errs {
    let mut e = Vec::new();
    if s.name.is_empty() {
        e.push(required(&path.child("name"), ""));
    }
    let api_group = ostr(&s.api_group);
    match s.kind.as_str() {
        "ServiceAccount" => {
            if !s.name.is_empty() {
                for m in v::name_is_dns_subdomain(&s.name, false) {
                    e.push(invalid(&path.child("name"), s.name.as_str(), m));
                }
            }
            if !api_group.is_empty() {
                e.push(not_supported(&path.child("apiGroup"), api_group, &[""]));
            }
            if !namespaced && ostr(&s.namespace).is_empty() {
                e.push(required(&path.child("namespace"), ""));
            }
        }
        "User" | "Group" => {
            if api_group != RBAC_GROUP {
                e.push(not_supported(&path.child("apiGroup"), api_group, &[RBAC_GROUP]));
            }
        }
        other => e.push(not_supported(&path.child("kind"), other, &["ServiceAccount", "User", "Group"])),
    }
    e
}

fn subjects(list: &[rbac::Subject], namespaced: bool) -> Errs {
    list.iter().enumerate().flat_map(|(i, s)| subject(s, namespaced, &p("subjects").index(i))).collect()
}

fn role_ref_change(new: &rbac::RoleRef, old: &rbac::RoleRef) -> Errs {
    if new == old { Vec::new() } else { vec![invalid(&p("roleRef"), json(new), "cannot change roleRef")] }
}

/// RoleBinding create: roleRef (group, kind Role/ClusterRole, name) and subjects (kind,
/// apiGroup per kind, ServiceAccount names).
pub fn role_binding(rb: &rbac::RoleBinding) -> ErrorList {
    let mut e = role_ref(&rb.role_ref, &["Role", "ClusterRole"]);
    e.extend(subjects(sl(&rb.subjects), true));
    done(e)
}

/// RoleBinding update: the create rules plus `roleRef: Invalid value: ...: cannot change roleRef`.
pub fn role_binding_update(new: &rbac::RoleBinding, old: &rbac::RoleBinding) -> ErrorList {
    let mut e = role_binding(new).0;
    e.extend(role_ref_change(&new.role_ref, &old.role_ref));
    done(e)
}

/// ClusterRoleBinding create: as RoleBinding, but roleRef must be a ClusterRole and
/// ServiceAccount subjects need a namespace.
pub fn cluster_role_binding(rb: &rbac::ClusterRoleBinding) -> ErrorList {
    let mut e = role_ref(&rb.role_ref, &["ClusterRole"]);
    e.extend(subjects(sl(&rb.subjects), false));
    done(e)
}

/// ClusterRoleBinding update: the create rules plus roleRef immutability.
pub fn cluster_role_binding_update(new: &rbac::ClusterRoleBinding, old: &rbac::ClusterRoleBinding) -> ErrorList {
    let mut e = cluster_role_binding(new).0;
    e.extend(role_ref_change(&new.role_ref, &old.role_ref));
    done(e)
}
