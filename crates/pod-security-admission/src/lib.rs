//! Pod Security Admission for ferrokube: the Pod Security Standards (privileged, baseline,
//! restricted) evaluated exactly as upstream Kubernetes 1.32's `k8s.io/pod-security-admission`
//! does, with upstream's messages, word for word.
//!
//! This crate is pure policy evaluation: levels and policy versions, the namespace labels
//! (`pod-security.kubernetes.io/{enforce,audit,warn}[-version]`) and their errors, every check at
//! every policy version, the aggregation and texts of violations (enforce rejections, warnings,
//! audit annotations), the `PodSecurityConfiguration` (defaults and exemptions), finding the pod
//! template in workloads, and the namespace-update checks over pods it is handed.
//!
//! It must not do HTTP, storage, logging, metrics, clocks or any other I/O, and must not depend
//! on the apiserver or storage crates: the apiserver calls it with objects it already has
//! (namespace labels, the pod or workload JSON, the pods of a namespace) and turns the results
//! into `Status` errors, warnings and audit annotations. The messages are user-visible API:
//! change them only to follow upstream.
//!
//! Main entry points:
//! - [`check_pod`] — the violations of one pod spec at a [`LevelVersion`];
//! - [`format_violations`], [`forbidden_message`], [`warning_message`] — upstream's texts;
//! - [`policy_for_namespace`] / [`namespace_policy`] — a namespace's [`NamespacePolicy`];
//! - [`pod_spec_of`] — metadata and spec of a pod or of a workload's template;
//! - [`Config`] — defaults and exemptions, with [`Config::evaluate`] (a whole pod/workload
//!   admission decision) and [`Config::validate_namespace`].

mod admission;
mod api;
mod checks;
mod config;
mod extract;
mod text;

pub use admission::{
    Decision, IGNORED_POD_SUBRESOURCES, NAMESPACE_MAX_PODS_TO_CHECK, NamespaceDecision, Target,
    forbidden_message, is_significant_pod_update, warning_message,
};
pub use api::{
    AUDIT_LEVEL_LABEL, AUDIT_VERSION_LABEL, AUDIT_VIOLATIONS_ANNOTATION, ENFORCE_LEVEL_LABEL,
    ENFORCE_POLICY_ANNOTATION, ENFORCE_VERSION_LABEL, ERROR_ANNOTATION, EXEMPT_ANNOTATION,
    LABEL_PREFIX, LabelError, Level, LevelVersion, MAX_POLICY_MINOR, NamespacePolicy, ParseError,
    Version, WARN_LEVEL_LABEL, WARN_VERSION_LABEL, invalid_namespace_message, namespace_policy,
    policy_for_namespace,
};
pub use checks::{
    Options, Violation, check_ids, check_pod, check_pod_with_options, format_reasons,
    format_violations,
};
pub use config::{CONFIG_GROUP, CONFIG_KIND, Config, ConfigError, Exemptions};
pub use extract::{ExtractError, has_pod_spec, pod_spec_of};

#[cfg(test)]
mod tests;
