//! Kubernetes 1.32 role-based access control for ferrokube, as pure functions over the
//! `rbac.authorization.k8s.io/v1` types of k8s-openapi:
//!
//! - [`authorize`]: the RBAC authorizer (upstream's `RBACAuthorizer`): which bindings apply to a
//!   user, which rules they grant, and whether one of them allows a request, with upstream's
//!   reason strings;
//! - [`rules_for`] and [`resolve_rules`]: every rule a user holds in a namespace (for
//!   SelfSubjectRulesReview and the escalation check);
//! - [`covers`], [`confirm_no_escalation`], [`confirm_no_escalation_message`] and
//!   [`confirm_cluster_role_write`]: the privilege escalation check for writes of roles and
//!   bindings, with upstream's forbidden text, and the requests that bypass it
//!   ([`escalation_allowed`], [`escalate_attributes`], [`bind_attributes`]);
//! - [`aggregate`] and [`aggregate_all`]: the rules of aggregated ClusterRoles, as the
//!   clusterrole-aggregation controller computes them;
//! - [`bootstrap`]: the default roles and bindings an API server creates (upstream's
//!   `bootstrappolicy` with 1.32's default feature gates).
//!
//! The roles and bindings come from a [`RuleSource`] that the caller implements over its own
//! caches. This crate must never do I/O, never serve HTTP, never touch storage and never keep
//! state of its own: everything it knows about a cluster is handed to it.

mod aggregate;
mod authorizer;
pub mod bootstrap;
mod escalation;
mod gofmt;
mod source;

pub use aggregate::{aggregate, aggregate_all, selector_matches};
pub use authorizer::{
    Attributes, Decision, ResolveError, RuleOrigin, RuleVisit, authorize, resolve_rules,
    role_ref_rules, rule_allows, rules_for, visit_rules_for,
};
pub use bootstrap::{
    bootstrap_cluster_role_bindings, bootstrap_cluster_roles, bootstrap_namespace_role_bindings,
    bootstrap_namespace_roles,
};
pub use escalation::{
    AGGREGATION_RULE_FORBIDDEN, bind_attributes, breakdown_rule, compact_rules, compact_string,
    confirm_cluster_role_write, confirm_no_escalation, confirm_no_escalation_message, covers,
    escalate_attributes, escalation_allowed, full_authority, has_aggregation_rule,
    is_only_mutating_gc_fields,
};
pub use source::{RuleSource, StaticSource};

/// The name of the RBAC API group, `rbac.authorization.k8s.io`.
pub const GROUP_NAME: &str = "rbac.authorization.k8s.io";

/// The annotation that lets the API server's bootstrap reconciliation keep a default role or
/// binding up to date: `rbac.authorization.kubernetes.io/autoupdate`.
pub const AUTO_UPDATE_ANNOTATION: &str = "rbac.authorization.kubernetes.io/autoupdate";

/// The group whose members may do anything, and may grant anything:
/// `system:masters`.
pub const SYSTEM_PRIVILEGED_GROUP: &str = "system:masters";

/// The prefix of a service account's user name: `system:serviceaccount:`.
pub const SERVICE_ACCOUNT_USERNAME_PREFIX: &str = "system:serviceaccount:";

#[cfg(test)]
mod tests;
