//! Privilege-escalation prevention for writes of roles and bindings: a user may only grant
//! permissions they hold (upstream's `Covers`, `ConfirmNoEscalation`, `CompactRules` and the
//! checks of `pkg/registry/rbac/escalation_check.go`).

use k8s_openapi::Metadata;
use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule, RoleRef};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::authorizer::{Attributes, ResolveError, resolve_rules};
use crate::gofmt::{aggregate_message, quote_list_into};
use crate::source::RuleSource;

fn slice(v: &Option<Vec<String>>) -> &[String] {
    v.as_deref().unwrap_or(&[])
}

fn one(s: &str) -> Option<Vec<String>> {
    Some(vec![s.to_string()])
}

/// Splits a rule into rules of one apiGroup, one resource, one verb and at most one
/// resourceName each (and one nonResourceURL and one verb each). A resource rule without
/// apiGroups yields nothing, as upstream.
pub fn breakdown_rule(rule: &PolicyRule) -> Vec<PolicyRule> {
    let mut out = Vec::new();
    let names = slice(&rule.resource_names);
    for group in slice(&rule.api_groups) {
        for resource in slice(&rule.resources) {
            for verb in &rule.verbs {
                if names.is_empty() {
                    out.push(PolicyRule {
                        api_groups: one(group),
                        resources: one(resource),
                        verbs: vec![verb.clone()],
                        ..PolicyRule::default()
                    });
                } else {
                    for name in names {
                        out.push(PolicyRule {
                            api_groups: one(group),
                            resources: one(resource),
                            verbs: vec![verb.clone()],
                            resource_names: one(name),
                            ..PolicyRule::default()
                        });
                    }
                }
            }
        }
    }
    for url in slice(&rule.non_resource_urls) {
        for verb in &rule.verbs {
            out.push(PolicyRule {
                non_resource_urls: one(url),
                verbs: vec![verb.clone()],
                ..PolicyRule::default()
            });
        }
    }
    out
}

fn has(set: &[String], s: &str) -> bool {
    set.iter().any(|x| x == s)
}

fn has_all(set: &[String], wanted: &[String]) -> bool {
    wanted.iter().all(|w| has(set, w))
}

fn resource_covers_all(owner: &[String], wanted: &[String]) -> bool {
    if has(owner, "*") || has_all(owner, wanted) {
        return true;
    }
    wanted.iter().all(|path| {
        if has(owner, path) {
            return true;
        }
        match path.split_once('/') {
            // a subresource is also covered by "*/subresource"
            Some((_, sub)) => owner
                .iter()
                .any(|o| o.len() == sub.len() + 2 && o.starts_with("*/") && o.ends_with(sub)),
            None => false,
        }
    })
}

fn non_resource_url_covers(owner: &str, path: &str) -> bool {
    owner == path || (owner.ends_with('*') && path.starts_with(owner.trim_end_matches('*')))
}

fn rule_covers(owner: &PolicyRule, sub: &PolicyRule) -> bool {
    let verbs = has(&owner.verbs, "*") || has_all(&owner.verbs, &sub.verbs);
    let owner_groups = slice(&owner.api_groups);
    let groups = has(owner_groups, "*") || has_all(owner_groups, slice(&sub.api_groups));
    let resources = resource_covers_all(slice(&owner.resources), slice(&sub.resources));
    let urls = slice(&sub.non_resource_urls).iter().all(|p| {
        slice(&owner.non_resource_urls)
            .iter()
            .any(|o| non_resource_url_covers(o, p))
    });
    let owner_names = slice(&owner.resource_names);
    let sub_names = slice(&sub.resource_names);
    let names = if sub_names.is_empty() {
        owner_names.is_empty()
    } else {
        owner_names.is_empty() || has_all(owner_names, sub_names)
    };
    verbs && groups && resources && names && urls
}

/// Whether the `owner` rules allow everything the `requested` rules allow, and the parts
/// (broken down by [`breakdown_rule`]) they do not. `*` covers any verb, group or resource,
/// `*/sub` covers that subresource of any resource, `/path/*` covers URLs under the prefix,
/// and a rule without resourceNames covers any names while a rule with them covers only
/// those names.
pub fn covers(owner: &[PolicyRule], requested: &[PolicyRule]) -> (bool, Vec<PolicyRule>) {
    let mut uncovered = Vec::new();
    for rule in requested {
        for sub in breakdown_rule(rule) {
            if !owner.iter().any(|o| rule_covers(o, &sub)) {
                uncovered.push(sub);
            }
        }
    }
    (uncovered.is_empty(), uncovered)
}

/// Merges rules that each have one apiGroup, one resource, at most one resourceName and no
/// nonResourceURLs, and differ only in verbs (upstream's `CompactRules`, applied to the
/// uncovered list of [`covers`]). Other rules pass through unchanged, first.
pub fn compact_rules(rules: &[PolicyRule]) -> Vec<PolicyRule> {
    let mut out: Vec<PolicyRule> = Vec::new();
    // (group, resource, resourceName?) → merged rule, in first-seen order
    type Key = (String, String, Option<String>);
    let mut simple: Vec<(Key, PolicyRule)> = Vec::new();
    for rule in rules {
        let groups = slice(&rule.api_groups);
        let resources = slice(&rule.resources);
        let names = slice(&rule.resource_names);
        let is_simple = names.len() <= 1
            && rule.non_resource_urls.is_none()
            && groups.len() == 1
            && resources.len() == 1;
        if !is_simple {
            out.push(rule.clone());
            continue;
        }
        let key = (
            groups[0].clone(),
            resources[0].clone(),
            names.first().cloned(),
        );
        match simple.iter_mut().find(|(k, _)| *k == key) {
            Some((_, existing)) => existing.verbs.extend(rule.verbs.iter().cloned()),
            None => simple.push((key, rule.clone())),
        }
    }
    out.extend(simple.into_iter().map(|(_, r)| r));
    out
}

/// A rule as upstream writes it in escalation messages:
/// `{APIGroups:[""], Resources:["pods"], ResourceNames:["x"], Verbs:["get"]}`, with only the
/// fields that are set, in the order APIGroups, Resources, NonResourceURLs, ResourceNames,
/// Verbs.
pub fn compact_string(rule: &PolicyRule) -> String {
    let mut out = String::from("{");
    let mut first = true;
    let mut field = |out: &mut String, label: &str, items: &[String]| {
        if items.is_empty() {
            return;
        }
        if !first {
            out.push_str(", ");
        }
        first = false;
        out.push_str(label);
        out.push(':');
        quote_list_into(out, items);
    };
    field(&mut out, "APIGroups", slice(&rule.api_groups));
    field(&mut out, "Resources", slice(&rule.resources));
    field(&mut out, "NonResourceURLs", slice(&rule.non_resource_urls));
    field(&mut out, "ResourceNames", slice(&rule.resource_names));
    field(&mut out, "Verbs", &rule.verbs);
    out.push('}');
    out
}

/// Upstream's escalation text when the `owner` rules (those the user holds) do not cover the
/// `requested` rules (those of the role being written, or of the role being bound); `None`
/// when they do. The missing permissions are compacted, written with [`compact_string`],
/// de-duplicated and sorted, one a line:
///
/// ```text
/// user "u" (groups=["g" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:
/// {APIGroups:[""], Resources:["pods"], Verbs:["get"]}
/// ```
///
/// followed by `; resolution errors: [...]` when some of the user's roles could not be
/// resolved. The API server returns it inside a Forbidden status
/// (`clusterroles.rbac.authorization.k8s.io "name" is forbidden: user ...`).
pub fn confirm_no_escalation_message(
    user: &str,
    groups: &[String],
    owner: &[PolicyRule],
    requested: &[PolicyRule],
    resolution_errors: &[ResolveError],
) -> Option<String> {
    let (covered, missing) = covers(owner, requested);
    if covered {
        return None;
    }
    let mut lines: Vec<String> = compact_rules(&missing).iter().map(compact_string).collect();
    lines.sort();
    lines.dedup();

    let mut msg = String::from("user ");
    crate::gofmt::quote_into(&mut msg, user);
    msg.push_str(" (groups=");
    quote_list_into(&mut msg, groups);
    msg.push_str(") is attempting to grant RBAC permissions not currently held:\n");
    msg.push_str(&lines.join("\n"));
    if !resolution_errors.is_empty() {
        let errs: Vec<String> = resolution_errors.iter().map(|e| e.to_string()).collect();
        // upstream formats a one-element []error holding the aggregate with %v
        msg.push_str("; resolution errors: [");
        msg.push_str(&aggregate_message(&errs));
        msg.push(']');
    }
    Some(msg)
}

/// The escalation check of a role or binding write: resolves every rule the user holds in
/// `namespace` (empty for ClusterRoles and ClusterRoleBindings) and returns upstream's
/// message (see [`confirm_no_escalation_message`]) if they do not cover `requested`.
/// Callers skip it when [`escalation_allowed`], or when the user may `escalate` the role
/// ([`escalate_attributes`]) or `bind` the referenced role ([`bind_attributes`]).
pub fn confirm_no_escalation<S: RuleSource + ?Sized>(
    src: &S,
    user: &str,
    groups: &[String],
    namespace: &str,
    requested: &[PolicyRule],
) -> Result<(), String> {
    let (owner, errors) = resolve_rules(src, user, groups, namespace);
    match confirm_no_escalation_message(user, groups, &owner, requested, &errors) {
        None => Ok(()),
        Some(msg) => Err(msg),
    }
}

/// Whether the user may write any role or binding without the escalation check: members of
/// `system:masters` (upstream's `EscalationAllowed`).
pub fn escalation_allowed(groups: &[String]) -> bool {
    groups.iter().any(|g| g == crate::SYSTEM_PRIVILEGED_GROUP)
}

/// The request to authorize to let a user write a Role or ClusterRole with permissions they
/// do not hold: verb `escalate` on the object being written (upstream's
/// `RoleEscalationAuthorized`). `resource` is `roles` or `clusterroles`; `namespace` is empty
/// for ClusterRoles.
pub fn escalate_attributes(
    user: &str,
    groups: &[String],
    resource: &str,
    namespace: &str,
    name: &str,
) -> Attributes {
    Attributes {
        user: user.to_string(),
        groups: groups.to_vec(),
        verb: "escalate".to_string(),
        namespace: namespace.to_string(),
        api_group: crate::GROUP_NAME.to_string(),
        resource: resource.to_string(),
        name: name.to_string(),
        resource_request: true,
        ..Attributes::default()
    }
}

/// The request to authorize to let a user create a binding to a role whose permissions they
/// do not hold: verb `bind` on the referenced role, in the binding's namespace (empty for a
/// ClusterRoleBinding) (upstream's `BindingAuthorized`). `None` for a roleRef kind other than
/// `Role` or `ClusterRole`, which is never authorized.
pub fn bind_attributes(
    user: &str,
    groups: &[String],
    role_ref: &RoleRef,
    binding_namespace: &str,
) -> Option<Attributes> {
    let resource = match role_ref.kind.as_str() {
        "ClusterRole" => "clusterroles",
        "Role" => "roles",
        _ => return None,
    };
    Some(Attributes {
        user: user.to_string(),
        groups: groups.to_vec(),
        verb: "bind".to_string(),
        namespace: binding_namespace.to_string(),
        api_group: role_ref.api_group.clone(),
        resource: resource.to_string(),
        name: role_ref.name.clone(),
        resource_request: true,
        ..Attributes::default()
    })
}

/// The message (inside a Forbidden status) when a user without [`full_authority`] creates a
/// ClusterRole with an `aggregationRule`, or updates one that has or had one: an aggregation
/// rule can gather anything, so it needs `*` on everything.
pub const AGGREGATION_RULE_FORBIDDEN: &str =
    "must have cluster-admin privileges to use the aggregationRule";

/// `*` on every resource of every group and on every URL: what a user needs to set or change
/// an `aggregationRule` (upstream's `fullAuthority`).
pub fn full_authority() -> Vec<PolicyRule> {
    vec![
        PolicyRule {
            verbs: vec!["*".to_string()],
            api_groups: one("*"),
            resources: one("*"),
            ..PolicyRule::default()
        },
        PolicyRule {
            verbs: vec!["*".to_string()],
            non_resource_urls: one("*"),
            ..PolicyRule::default()
        },
    ]
}

/// Whether a ClusterRole aggregates: it has an `aggregationRule` with at least one selector.
pub fn has_aggregation_rule(role: &ClusterRole) -> bool {
    role.aggregation_rule
        .as_ref()
        .and_then(|a| a.cluster_role_selectors.as_ref())
        .is_some_and(|s| !s.is_empty())
}

/// Whether an update changes nothing but what the garbage collector changes
/// (`ownerReferences`, `finalizers`, `selfLink`, `deletionTimestamp`,
/// `deletionGracePeriodSeconds`); such updates of roles and bindings skip the escalation
/// check, so that anyone may let the garbage collector finish (upstream's
/// `IsOnlyMutatingGCFields`).
pub fn is_only_mutating_gc_fields<T>(new: &T, old: &T) -> bool
where
    T: Clone + PartialEq + Metadata<Ty = ObjectMeta>,
{
    let mut copy = new.clone();
    let old_meta = old.metadata();
    let m = copy.metadata_mut();
    m.owner_references = old_meta.owner_references.clone();
    m.finalizers = old_meta.finalizers.clone();
    m.self_link = old_meta.self_link.clone();
    m.deletion_timestamp = old_meta.deletion_timestamp.clone();
    m.deletion_grace_period_seconds = old_meta.deletion_grace_period_seconds;
    copy == *old
}

/// The whole escalation check of a ClusterRole create (`old` is `None`) or update, for a
/// user who is neither [`escalation_allowed`] nor allowed to `escalate`
/// ([`escalate_attributes`]): the role's own `rules` must be covered by the user's
/// cluster-wide rules, and if the new or old role has an aggregation rule the user must hold
/// [`full_authority`]. The error is the message of the Forbidden status. Updates that only
/// touch garbage-collection fields pass ([`is_only_mutating_gc_fields`]).
pub fn confirm_cluster_role_write<S: RuleSource + ?Sized>(
    src: &S,
    user: &str,
    groups: &[String],
    new: &ClusterRole,
    old: Option<&ClusterRole>,
) -> Result<(), String> {
    if old.is_some_and(|old| is_only_mutating_gc_fields(new, old)) {
        return Ok(());
    }
    let (owner, errors) = resolve_rules(src, user, groups, "");
    let rules = new.rules.as_deref().unwrap_or(&[]);
    if let Some(msg) = confirm_no_escalation_message(user, groups, &owner, rules, &errors) {
        return Err(msg);
    }
    if (has_aggregation_rule(new) || old.is_some_and(has_aggregation_rule))
        && !covers(&owner, &full_authority()).0
    {
        return Err(AGGREGATION_RULE_FORBIDDEN.to_string());
    }
    Ok(())
}
