//! The RBAC authorizer: which bindings apply to a user, which rules they grant, and whether a
//! rule allows a request (upstream's `plugin/pkg/auth/authorizer/rbac` and the rule resolver
//! of `pkg/registry/rbac/validation`).

use std::fmt;
use std::sync::Arc;

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};

use crate::gofmt::{aggregate_message, quote, quote_into};
use crate::source::RuleSource;

/// What a request asks to do, as the authorizer sees it (upstream's
/// `authorizer.Attributes`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    /// The authenticated (or impersonated) user name.
    pub user: String,
    /// The user's groups, including `system:authenticated` when the authenticator adds it.
    pub groups: Vec<String>,
    /// The verb: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`, or a special verb (`use`, `bind`, `escalate`, `impersonate`,
    /// `approve`, `sign`, `proxy`, …); for non-resource requests the lower-cased HTTP method.
    pub verb: String,
    /// The namespace of the request; empty for cluster-scoped and non-resource requests.
    pub namespace: String,
    /// The API group; empty for the core group.
    pub api_group: String,
    /// The resource (plural), e.g. `pods`.
    pub resource: String,
    /// The subresource, e.g. `log`; empty when none.
    pub subresource: String,
    /// The object's name; empty for list, watch without a name, create and deletecollection.
    pub name: String,
    /// The URL path of a non-resource request, e.g. `/healthz`.
    pub path: String,
    /// Whether this is a request for an API resource (`true`) or a non-resource URL.
    pub resource_request: bool,
}

impl Attributes {
    /// A resource request.
    #[allow(clippy::too_many_arguments)]
    pub fn for_resource(
        user: impl Into<String>,
        groups: &[&str],
        verb: impl Into<String>,
        namespace: impl Into<String>,
        api_group: impl Into<String>,
        resource: impl Into<String>,
        subresource: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Attributes {
            user: user.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            verb: verb.into(),
            namespace: namespace.into(),
            api_group: api_group.into(),
            resource: resource.into(),
            subresource: subresource.into(),
            name: name.into(),
            path: String::new(),
            resource_request: true,
        }
    }

    /// A non-resource request (`GET /healthz` is verb `get`, path `/healthz`).
    pub fn for_path(
        user: impl Into<String>,
        groups: &[&str],
        verb: impl Into<String>,
        path: impl Into<String>,
    ) -> Self {
        Attributes {
            user: user.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            verb: verb.into(),
            path: path.into(),
            resource_request: false,
            ..Attributes::default()
        }
    }
}

/// The authorizer's answer. RBAC never denies: a request no rule allows gets no opinion, and
/// the next authorizer (or the final deny) decides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Allowed; the reason names the binding, role and subject, e.g.
    /// `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "z"`.
    Allow(String),
    /// Not allowed by any rule; the reason is empty, or lists the roles that could not be
    /// resolved (`RBAC: clusterrole.rbac.authorization.k8s.io "y" not found`).
    NoOpinion(String),
}

impl Decision {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow(_))
    }

    /// The reason string.
    pub fn reason(&self) -> &str {
        match self {
            Decision::Allow(r) | Decision::NoOpinion(r) => r,
        }
    }
}

/// A binding whose role could not be resolved. Rules are additive, so this never denies; it
/// is reported in the no-opinion reason and as the "incomplete" part of a rules review.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The bound ClusterRole does not exist.
    #[error("clusterrole.rbac.authorization.k8s.io {} not found", quote(.0))]
    ClusterRoleNotFound(String),
    /// The bound Role does not exist in the binding's namespace.
    #[error("role.rbac.authorization.k8s.io {} not found", quote(.0))]
    RoleNotFound(String),
    /// The roleRef's kind is neither `Role` nor `ClusterRole`.
    #[error("unsupported role reference kind: {}", quote(.0))]
    UnsupportedKind(String),
}

/// The binding and subject through which a rule applies to a user.
#[derive(Clone, Copy, Debug)]
pub enum RuleOrigin<'a> {
    /// A ClusterRoleBinding, through its subject.
    ClusterRoleBinding {
        /// The binding.
        binding: &'a ClusterRoleBinding,
        /// Its first subject that matches the user.
        subject: &'a Subject,
    },
    /// A RoleBinding, through its subject.
    RoleBinding {
        /// The binding.
        binding: &'a RoleBinding,
        /// Its first subject that matches the user.
        subject: &'a Subject,
    },
}

impl RuleOrigin<'_> {
    /// The binding's roleRef.
    pub fn role_ref(&self) -> &RoleRef {
        match self {
            RuleOrigin::ClusterRoleBinding { binding, .. } => &binding.role_ref,
            RuleOrigin::RoleBinding { binding, .. } => &binding.role_ref,
        }
    }

    /// The subject that matched.
    pub fn subject(&self) -> &Subject {
        match self {
            RuleOrigin::ClusterRoleBinding { subject, .. }
            | RuleOrigin::RoleBinding { subject, .. } => subject,
        }
    }
}

fn describe_subject(out: &mut String, s: &Subject, binding_namespace: &str) {
    out.push_str(&s.kind);
    out.push(' ');
    if s.kind == "ServiceAccount" {
        let ns = match s.namespace.as_deref() {
            Some(ns) if !ns.is_empty() => ns,
            _ => binding_namespace,
        };
        quote_into(out, &format!("{}/{}", s.name, ns));
    } else {
        quote_into(out, &s.name);
    }
}

impl fmt::Display for RuleOrigin<'_> {
    /// Upstream's description: `ClusterRoleBinding "b" of ClusterRole "r" to User "u"`, or
    /// `RoleBinding "b/ns" of Role "r" to ServiceAccount "sa/ns"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        match self {
            RuleOrigin::ClusterRoleBinding { binding, subject } => {
                out.push_str("ClusterRoleBinding ");
                quote_into(&mut out, binding.metadata.name.as_deref().unwrap_or(""));
                out.push_str(" of ");
                out.push_str(&binding.role_ref.kind);
                out.push(' ');
                quote_into(&mut out, &binding.role_ref.name);
                out.push_str(" to ");
                describe_subject(&mut out, subject, "");
            }
            RuleOrigin::RoleBinding { binding, subject } => {
                let ns = binding.metadata.namespace.as_deref().unwrap_or("");
                out.push_str("RoleBinding ");
                quote_into(
                    &mut out,
                    &format!("{}/{}", binding.metadata.name.as_deref().unwrap_or(""), ns),
                );
                out.push_str(" of ");
                out.push_str(&binding.role_ref.kind);
                out.push(' ');
                quote_into(&mut out, &binding.role_ref.name);
                out.push_str(" to ");
                describe_subject(&mut out, subject, ns);
            }
        }
        f.write_str(&out)
    }
}

/// One step of [`visit_rules_for`].
#[derive(Clone, Copy, Debug)]
pub enum RuleVisit<'a> {
    /// A rule that applies to the user, and where it comes from.
    Rule(&'a RuleOrigin<'a>, &'a PolicyRule),
    /// A binding that applies to the user but whose role could not be resolved.
    Error(&'a ResolveError),
}

fn slice(v: &Option<Vec<String>>) -> &[String] {
    v.as_deref().unwrap_or(&[])
}

/// Whether `username` is `system:serviceaccount:<namespace>:<name>`, without allocating.
fn matches_service_account(namespace: &str, name: &str, username: &str) -> bool {
    let Some(rest) = username.strip_prefix(crate::SERVICE_ACCOUNT_USERNAME_PREFIX) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(namespace) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(':') else {
        return false;
    };
    rest == name
}

fn applies_to_user(user: &str, groups: &[String], subject: &Subject, namespace: &str) -> bool {
    match subject.kind.as_str() {
        "User" => user == subject.name,
        "Group" => groups.contains(&subject.name),
        "ServiceAccount" => {
            // A subject without a namespace means the binding's own namespace, which a
            // ClusterRoleBinding does not have.
            let sa_namespace = match subject.namespace.as_deref() {
                Some(ns) if !ns.is_empty() => ns,
                _ => namespace,
            };
            if sa_namespace.is_empty() {
                return false;
            }
            matches_service_account(sa_namespace, &subject.name, user)
        }
        _ => false,
    }
}

fn applies_to<'s>(
    user: &str,
    groups: &[String],
    subjects: &'s Option<Vec<Subject>>,
    namespace: &str,
) -> Option<&'s Subject> {
    subjects
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .find(|s| applies_to_user(user, groups, s, namespace))
}

/// The role a roleRef points at, held while its rules are visited.
enum Resolved {
    Cluster(Arc<ClusterRole>),
    Namespaced(Arc<Role>),
}

impl Resolved {
    fn rules(&self) -> &[PolicyRule] {
        match self {
            Resolved::Cluster(r) => r.rules.as_deref().unwrap_or(&[]),
            Resolved::Namespaced(r) => r.rules.as_deref().unwrap_or(&[]),
        }
    }
}

fn resolve<S: RuleSource + ?Sized>(
    src: &S,
    role_ref: &RoleRef,
    binding_namespace: &str,
) -> Result<Resolved, ResolveError> {
    match role_ref.kind.as_str() {
        "Role" => {
            if binding_namespace.is_empty() {
                return Err(ResolveError::RoleNotFound(role_ref.name.clone()));
            }
            src.role(binding_namespace, &role_ref.name)
                .map(Resolved::Namespaced)
                .ok_or_else(|| ResolveError::RoleNotFound(role_ref.name.clone()))
        }
        "ClusterRole" => src
            .cluster_role(&role_ref.name)
            .map(Resolved::Cluster)
            .ok_or_else(|| ResolveError::ClusterRoleNotFound(role_ref.name.clone())),
        other => Err(ResolveError::UnsupportedKind(other.to_string())),
    }
}

/// The rules a roleRef grants: those of the ClusterRole, or of the Role in
/// `binding_namespace` (empty for a ClusterRoleBinding). Upstream's `GetRoleReferenceRules`,
/// used to check a binding write for escalation.
pub fn role_ref_rules<S: RuleSource + ?Sized>(
    src: &S,
    role_ref: &RoleRef,
    binding_namespace: &str,
) -> Result<Vec<PolicyRule>, ResolveError> {
    resolve(src, role_ref, binding_namespace).map(|r| r.rules().to_vec())
}

/// Calls `visitor` with every rule that applies to the user in `namespace` — first those of
/// ClusterRoleBindings, then (when `namespace` is not empty) those of the namespace's
/// RoleBindings — and with every binding whose role cannot be resolved. Stops as soon as the
/// visitor returns `false`. Nothing is copied: the visitor sees the source's own objects.
pub fn visit_rules_for<S: RuleSource + ?Sized>(
    src: &S,
    user: &str,
    groups: &[String],
    namespace: &str,
    mut visitor: impl FnMut(RuleVisit<'_>) -> bool,
) {
    let mut stopped = false;
    src.cluster_role_bindings(&mut |binding| {
        let Some(subject) = applies_to(user, groups, &binding.subjects, "") else {
            return true;
        };
        match resolve(src, &binding.role_ref, "") {
            Err(e) => {
                if !visitor(RuleVisit::Error(&e)) {
                    stopped = true;
                    return false;
                }
            }
            Ok(role) => {
                let origin = RuleOrigin::ClusterRoleBinding { binding, subject };
                for rule in role.rules() {
                    if !visitor(RuleVisit::Rule(&origin, rule)) {
                        stopped = true;
                        return false;
                    }
                }
            }
        }
        true
    });
    if stopped || namespace.is_empty() {
        return;
    }
    src.role_bindings(namespace, &mut |binding| {
        let Some(subject) = applies_to(user, groups, &binding.subjects, namespace) else {
            return true;
        };
        match resolve(src, &binding.role_ref, namespace) {
            Err(e) => {
                if !visitor(RuleVisit::Error(&e)) {
                    return false;
                }
            }
            Ok(role) => {
                let origin = RuleOrigin::RoleBinding { binding, subject };
                for rule in role.rules() {
                    if !visitor(RuleVisit::Rule(&origin, rule)) {
                        return false;
                    }
                }
            }
        }
        true
    });
}

fn contains_or_all(list: &[String], want: &str, all: &str) -> bool {
    list.iter().any(|x| x == all || x == want)
}

/// Whether a rule resource matches the requested resource and subresource: `*`, the exact
/// `resource` or `resource/subresource`, or `*/subresource`.
fn resource_matches(rule_resources: &[String], resource: &str, subresource: &str) -> bool {
    rule_resources.iter().any(|r| {
        if r == "*" {
            return true;
        }
        if subresource.is_empty() {
            return r == resource;
        }
        // r == resource + "/" + subresource, without building the string
        if r.len() == resource.len() + 1 + subresource.len()
            && r.starts_with(resource)
            && r.as_bytes()[resource.len()] == b'/'
            && r.ends_with(subresource)
        {
            return true;
        }
        r.len() == subresource.len() + 2 && r.starts_with("*/") && r.ends_with(subresource)
    })
}

fn resource_name_matches(rule: &PolicyRule, name: &str) -> bool {
    let names = slice(&rule.resource_names);
    names.is_empty() || names.iter().any(|n| n == name)
}

fn non_resource_url_matches(rule: &PolicyRule, path: &str) -> bool {
    slice(&rule.non_resource_urls).iter().any(|u| {
        u == "*" || u == path || (u.ends_with('*') && path.starts_with(u.trim_end_matches('*')))
    })
}

/// Whether `rule` allows the request (upstream's `RuleAllows`). A rule with resourceNames
/// allows only requests that name one of them, so never list, watch without a name, create
/// or deletecollection.
pub fn rule_allows(a: &Attributes, rule: &PolicyRule) -> bool {
    if !contains_or_all(&rule.verbs, &a.verb, "*") {
        return false;
    }
    if a.resource_request {
        contains_or_all(slice(&rule.api_groups), &a.api_group, "*")
            && resource_matches(slice(&rule.resources), &a.resource, &a.subresource)
            && resource_name_matches(rule, &a.name)
    } else {
        non_resource_url_matches(rule, &a.path)
    }
}

/// The RBAC authorizer: allows the request if a rule bound to the user (by a
/// ClusterRoleBinding, or by a RoleBinding in the request's namespace) allows it; otherwise
/// has no opinion. Stops at the first allowing rule.
pub fn authorize<S: RuleSource + ?Sized>(src: &S, a: &Attributes) -> Decision {
    let mut allowed: Option<String> = None;
    let mut errors: Vec<String> = Vec::new();
    visit_rules_for(src, &a.user, &a.groups, &a.namespace, |visit| match visit {
        RuleVisit::Rule(origin, rule) => {
            if rule_allows(a, rule) {
                allowed = Some(format!("RBAC: allowed by {origin}"));
                false
            } else {
                true
            }
        }
        RuleVisit::Error(e) => {
            errors.push(e.to_string());
            true
        }
    });
    match allowed {
        Some(reason) => Decision::Allow(reason),
        None if errors.is_empty() => Decision::NoOpinion(String::new()),
        None => Decision::NoOpinion(format!("RBAC: {}", aggregate_message(&errors))),
    }
}

/// Every rule the user holds in `namespace` (cluster-wide rules, then the namespace's), and
/// the bindings that could not be resolved (upstream's `RulesFor`). The rules are complete
/// when the error list is empty.
pub fn resolve_rules<S: RuleSource + ?Sized>(
    src: &S,
    user: &str,
    groups: &[String],
    namespace: &str,
) -> (Vec<PolicyRule>, Vec<ResolveError>) {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    visit_rules_for(src, user, groups, namespace, |visit| {
        match visit {
            RuleVisit::Rule(_, rule) => rules.push(rule.clone()),
            RuleVisit::Error(e) => errors.push(e.clone()),
        }
        true
    });
    (rules, errors)
}

/// The rules of a SelfSubjectRulesReview (`kubectl auth can-i --list`): the user's resource
/// rules (verbs, apiGroups, resources, resourceNames) and non-resource rules (verbs,
/// nonResourceURLs), in the order the bindings grant them. A rule with both resources and
/// nonResourceURLs appears in both lists.
pub fn rules_for<S: RuleSource + ?Sized>(
    src: &S,
    user: &str,
    groups: &[String],
    namespace: &str,
) -> (Vec<PolicyRule>, Vec<PolicyRule>) {
    let mut resource_rules = Vec::new();
    let mut non_resource_rules = Vec::new();
    visit_rules_for(src, user, groups, namespace, |visit| {
        if let RuleVisit::Rule(_, rule) = visit {
            if !slice(&rule.resources).is_empty() {
                resource_rules.push(PolicyRule {
                    verbs: rule.verbs.clone(),
                    api_groups: rule.api_groups.clone(),
                    resources: rule.resources.clone(),
                    resource_names: rule.resource_names.clone(),
                    non_resource_urls: None,
                });
            }
            if !slice(&rule.non_resource_urls).is_empty() {
                non_resource_rules.push(PolicyRule {
                    verbs: rule.verbs.clone(),
                    non_resource_urls: rule.non_resource_urls.clone(),
                    ..PolicyRule::default()
                });
            }
        }
        true
    });
    (resource_rules, non_resource_rules)
}
