//! The admission decisions and their texts (upstream's `admission` package), as pure functions:
//! the caller supplies the namespace's labels, the pods, the user name; nothing here looks
//! anything up.

use std::collections::{BTreeMap, HashMap, HashSet};

use k8s_openapi::api::core::v1::{Container, EphemeralContainer, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::{
    AUDIT_LEVEL_LABEL, AUDIT_VERSION_LABEL, AUDIT_VIOLATIONS_ANNOTATION, ENFORCE_LEVEL_LABEL,
    ENFORCE_POLICY_ANNOTATION, ENFORCE_VERSION_LABEL, ERROR_ANNOTATION, EXEMPT_ANNOTATION,
    LabelError, Level, LevelVersion, NamespacePolicy, WARN_LEVEL_LABEL, WARN_VERSION_LABEL,
    namespace_policy,
};
use crate::checks::{
    Options, Violation, check_pod_with_options, format_reasons, format_violations,
};
use crate::config::Config;
use crate::text::{aggregate, go_quote};

/// How many existing pods upstream checks at most when a namespace's enforce level tightens.
pub const NAMESPACE_MAX_PODS_TO_CHECK: usize = 3000;

/// Pod subresources PSA never evaluates (every other pod subresource, such as
/// `ephemeralcontainers`, is evaluated as a pod).
pub const IGNORED_POD_SUBRESOURCES: &[&str] = &[
    "exec",
    "attach",
    "binding",
    "eviction",
    "log",
    "portforward",
    "proxy",
    "status",
];

/// The enforce rejection: `pods "NAME" is forbidden: violates PodSecurity "baseline:latest": <violations>`
/// (upstream's `NewForbidden` on `pods`; `pods is forbidden: ...` without a name). Served as a
/// `403 Forbidden` `Status` with reason `Forbidden`.
pub fn forbidden_message(pod_name: &str, lv: &LevelVersion, violations: &[Violation]) -> String {
    let cause = format!(
        "violates PodSecurity {}: {}",
        go_quote(&lv.to_string()),
        format_violations(violations)
    );
    if pod_name.is_empty() {
        format!("pods is forbidden: {cause}")
    } else {
        format!("pods {} is forbidden: {cause}", go_quote(pod_name))
    }
}

/// The warn-mode warning (and audit-mode annotation value):
/// `would violate PodSecurity "restricted:latest": <violations>`.
pub fn warning_message(lv: &LevelVersion, violations: &[Violation]) -> String {
    format!(
        "would violate PodSecurity {}: {}",
        go_quote(&lv.to_string()),
        format_violations(violations)
    )
}

/// What is being admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// A pod create or (significant) update: enforce applies. The name is the pod's (generated)
    /// name, used in the rejection message.
    Pod {
        /// The pod's name.
        name: &'a str,
    },
    /// A workload carrying a pod template: only audit and warn apply.
    Workload,
}

/// The outcome of evaluating one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// The `403 Forbidden` message when not allowed.
    pub forbidden_message: Option<String>,
    /// Warnings for the client (`Warning: 299` headers).
    pub warnings: Vec<String>,
    /// Audit annotations, keys already prefixed with `pod-security.kubernetes.io/` as the
    /// kube-apiserver records them.
    pub audit_annotations: BTreeMap<String, String>,
}

impl Decision {
    fn allowed() -> Decision {
        Decision {
            allowed: true,
            ..Decision::default()
        }
    }

    fn allowed_with(key: &str, value: &str) -> Decision {
        let mut d = Decision::allowed();
        d.audit_annotations
            .insert(key.to_string(), value.to_string());
        d
    }
}

/// What to do with a namespace create or update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceDecision {
    /// Reject with `422 Invalid` (see [`crate::invalid_namespace_message`]).
    Invalid(Vec<LabelError>),
    /// Allow, returning these warnings.
    Allow(Vec<String>),
    /// Allow, after checking the namespace's existing pods against the new enforce level with
    /// [`Config::existing_pods_warnings`] and returning its warnings.
    CheckExistingPods(LevelVersion),
}

impl Config {
    /// Evaluates a pod or workload request as upstream's `ValidatePod` /
    /// `ValidatePodController` + `EvaluatePod` do, given the namespace's labels and the
    /// requesting user's name.
    ///
    /// The caller decides first whether the request is evaluated at all: pods (minus
    /// [`IGNORED_POD_SUBRESOURCES`], and minus updates that [`is_significant_pod_update`] says
    /// change nothing PSA looks at) and workloads without subresource for which
    /// [`crate::has_pod_spec`] holds.
    pub fn evaluate(
        &self,
        namespace: &str,
        username: &str,
        namespace_labels: &BTreeMap<String, String>,
        meta: &ObjectMeta,
        spec: &PodSpec,
        target: Target<'_>,
    ) -> Decision {
        self.evaluate_with_options(
            namespace,
            username,
            namespace_labels,
            meta,
            spec,
            target,
            Options::default(),
        )
    }

    /// [`Config::evaluate`] with explicit check [`Options`].
    #[allow(clippy::too_many_arguments)]
    pub fn evaluate_with_options(
        &self,
        namespace: &str,
        username: &str,
        namespace_labels: &BTreeMap<String, String>,
        meta: &ObjectMeta,
        spec: &PodSpec,
        target: Target<'_>,
        opts: Options,
    ) -> Decision {
        if self.exemptions.namespace(namespace) {
            return Decision::allowed_with(EXEMPT_ANNOTATION, "namespace");
        }
        if self.exemptions.username(username) {
            return Decision::allowed_with(EXEMPT_ANNOTATION, "user");
        }
        let (policy, label_errors) = namespace_policy(namespace_labels, &self.defaults);
        match target {
            Target::Pod { .. } if label_errors.is_empty() && policy.fully_privileged() => {
                return Decision::allowed_with(
                    ENFORCE_POLICY_ANNOTATION,
                    &LevelVersion::PRIVILEGED.to_string(),
                );
            }
            Target::Workload
                if label_errors.is_empty()
                    && policy.warn.level == Level::Privileged
                    && policy.audit.level == Level::Privileged =>
            {
                return Decision::allowed();
            }
            _ => {}
        }
        if self
            .exemptions
            .runtime_class(spec.runtime_class_name.as_deref())
        {
            return Decision::allowed_with(EXEMPT_ANNOTATION, "runtimeClass");
        }

        let mut d = Decision::allowed();
        if !label_errors.is_empty() {
            let msgs: Vec<String> = label_errors.iter().map(ToString::to_string).collect();
            d.audit_annotations.insert(
                ERROR_ANNOTATION.to_string(),
                format!("Failed to parse policy: {}", aggregate(&msgs)),
            );
        }
        let mut cache: HashMap<LevelVersion, Vec<Violation>> = HashMap::new();
        let mut eval = |lv: LevelVersion| -> Vec<Violation> {
            cache
                .entry(lv)
                .or_insert_with(|| check_pod_with_options(&lv, meta, spec, opts))
                .clone()
        };
        if let Target::Pod { name } = target {
            d.audit_annotations.insert(
                ENFORCE_POLICY_ANNOTATION.to_string(),
                policy.enforce.to_string(),
            );
            let v = eval(policy.enforce);
            if !v.is_empty() {
                d.allowed = false;
                d.forbidden_message = Some(forbidden_message(name, &policy.enforce, &v));
            }
        }
        let v = eval(policy.audit);
        if !v.is_empty() {
            d.audit_annotations.insert(
                AUDIT_VIOLATIONS_ANNOTATION.to_string(),
                warning_message(&policy.audit, &v),
            );
        }
        if d.allowed {
            let v = eval(policy.warn);
            if !v.is_empty() {
                d.warnings.push(warning_message(&policy.warn, &v));
            }
        }
        d
    }

    /// Decides a namespace create (`old_labels` = `None`) or update as upstream's
    /// `ValidateNamespace`: bad Pod Security labels are rejected on create, and on update when
    /// the errors differ from the old object's; tightening the enforce level asks for a check of
    /// the existing pods; an exempt namespace that sets a non-default policy gets a warning.
    pub fn validate_namespace(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
        old_labels: Option<&BTreeMap<String, String>>,
    ) -> NamespaceDecision {
        let (new_policy, new_errs) = namespace_policy(labels, &self.defaults);
        let exempt_warning = || {
            self.exempt_namespace_warning(name, &new_policy, labels)
                .map(|w| vec![w])
                .unwrap_or_default()
        };
        let Some(old_labels) = old_labels else {
            if !new_errs.is_empty() {
                return NamespaceDecision::Invalid(new_errs);
            }
            if self.exemptions.namespace(name) {
                return NamespaceDecision::Allow(exempt_warning());
            }
            return NamespaceDecision::Allow(Vec::new());
        };
        let (old_policy, old_errs) = namespace_policy(old_labels, &self.defaults);
        if !new_errs.is_empty() && (old_errs.is_empty() || new_errs != old_errs) {
            return NamespaceDecision::Invalid(new_errs);
        }
        if new_policy.enforce == old_policy.enforce
            || new_policy.enforce.level == Level::Privileged
            || (new_policy.enforce.version == old_policy.enforce.version
                && new_policy.enforce.level <= old_policy.enforce.level)
        {
            return NamespaceDecision::Allow(Vec::new());
        }
        if self.exemptions.namespace(name) {
            return NamespaceDecision::Allow(exempt_warning());
        }
        NamespaceDecision::CheckExistingPods(new_policy.enforce)
    }

    /// Upstream's `exemptNamespaceWarning`: `namespace "NAME" is exempt from Pod Security, and
    /// the policy (enforce=baseline:latest, ...) will be ignored`, listing the non-privileged
    /// modes whose labels are set; `None` when the policy is fully privileged or equivalent to
    /// the defaults.
    pub fn exempt_namespace_warning(
        &self,
        namespace: &str,
        policy: &NamespacePolicy,
        labels: &BTreeMap<String, String>,
    ) -> Option<String> {
        if policy.fully_privileged() || policy.equivalent(&self.defaults) {
            return None;
        }
        let mut parts = Vec::new();
        let modes = [
            (
                "enforce",
                &policy.enforce,
                ENFORCE_LEVEL_LABEL,
                ENFORCE_VERSION_LABEL,
            ),
            (
                "audit",
                &policy.audit,
                AUDIT_LEVEL_LABEL,
                AUDIT_VERSION_LABEL,
            ),
            ("warn", &policy.warn, WARN_LEVEL_LABEL, WARN_VERSION_LABEL),
        ];
        for (mode, lv, level_label, version_label) in modes {
            if lv.level != Level::Privileged
                && (labels.contains_key(level_label) || labels.contains_key(version_label))
            {
                parts.push(format!("{mode}={lv}"));
            }
        }
        Some(format!(
            "namespace {} is exempt from Pod Security, and the policy ({}) will be ignored",
            go_quote(namespace),
            parts.join(", ")
        ))
    }

    /// Upstream's `EvaluatePodsInNamespace` without its time limit: the warnings for a
    /// namespace whose enforce level becomes `enforce`, given its pods.
    ///
    /// Pods with an exempt runtime class are skipped; one pod per controller is checked before
    /// the other replicas; at most [`NAMESPACE_MAX_PODS_TO_CHECK`] pods are checked. Pods with
    /// the same reasons share one warning, named after the lexically first pod:
    /// `existing pods in namespace "ns" violate the new PodSecurity enforce level "restricted:latest"`,
    /// then `pod-a (and 2 other pods): privileged, hostPath volumes` (sorted).
    pub fn existing_pods_warnings(
        &self,
        namespace: &str,
        enforce: &LevelVersion,
        pods: &[Pod],
    ) -> Vec<String> {
        let empty_spec = PodSpec::default();

        // Prioritize: skip exempt runtime classes, first replica per controller, then the rest.
        let mut prioritized: Vec<&Pod> = Vec::new();
        let mut duplicates: Vec<&Pod> = Vec::new();
        let mut controllers: HashSet<&str> = HashSet::new();
        for pod in pods {
            let rc = pod
                .spec
                .as_ref()
                .and_then(|s| s.runtime_class_name.as_deref());
            if self.exemptions.runtime_class(rc) {
                continue;
            }
            let controller = pod
                .metadata
                .owner_references
                .iter()
                .flatten()
                .find(|r| r.controller == Some(true))
                .map(|r| r.uid.as_str());
            match controller {
                None => prioritized.push(pod),
                Some(uid) if controllers.contains(uid) => duplicates.push(pod),
                Some(uid) => {
                    controllers.insert(uid);
                    prioritized.push(pod);
                }
            }
        }
        prioritized.extend(duplicates);
        let total = prioritized.len();
        prioritized.truncate(NAMESPACE_MAX_PODS_TO_CHECK);
        let checked = prioritized.len();

        // reason text -> (lexically first pod name, count), in first-seen order
        let mut order: Vec<String> = Vec::new();
        let mut counts: HashMap<String, (String, usize)> = HashMap::new();
        for pod in prioritized {
            let spec = pod.spec.as_ref().unwrap_or(&empty_spec);
            let v = check_pod_with_options(enforce, &pod.metadata, spec, Options::default());
            if v.is_empty() {
                continue;
            }
            let reasons = format_reasons(&v);
            let name = pod.metadata.name.clone().unwrap_or_default();
            match counts.get_mut(&reasons) {
                Some((first, n)) => {
                    if name < *first {
                        *first = name;
                    }
                    *n += 1;
                }
                None => {
                    order.push(reasons.clone());
                    counts.insert(reasons, (name, 1));
                }
            }
        }

        let mut warnings = Vec::new();
        if checked < total {
            warnings.push(format!(
                "new PodSecurity enforce level only checked against the first {checked} of {total} existing pods"
            ));
        }
        if !order.is_empty() {
            warnings.push(format!(
                "existing pods in namespace {} violate the new PodSecurity enforce level {}",
                go_quote(namespace),
                go_quote(&enforce.to_string())
            ));
        }
        let mut pod_warnings: Vec<String> = order
            .into_iter()
            .map(|reasons| {
                let (first, n) = &counts[&reasons];
                match n {
                    1 => format!("{first}: {reasons}"),
                    2 => format!("{first} (and 1 other pod): {reasons}"),
                    n => format!("{first} (and {} other pods): {reasons}", n - 1),
                }
            })
            .collect();
        pod_warnings.sort();
        warnings.extend(pod_warnings);
        warnings
    }
}

/// Upstream's `isSignificantPodUpdate`: whether a pod update must be evaluated. Only changes to
/// the number of (init) containers, their images, or added / changed-image ephemeral
/// containers count; everything else PSA checks is immutable on a pod.
pub fn is_significant_pod_update(pod: &PodSpec, old: &PodSpec) -> bool {
    // Go compares plain strings: unset and empty are the same image.
    fn image(c: &Container) -> &str {
        c.image.as_deref().unwrap_or("")
    }
    fn eimage(c: &EphemeralContainer) -> &str {
        c.image.as_deref().unwrap_or("")
    }
    if pod.containers.len() != old.containers.len() {
        return true;
    }
    let init = pod.init_containers.as_deref().unwrap_or(&[]);
    let old_init = old.init_containers.as_deref().unwrap_or(&[]);
    if init.len() != old_init.len() {
        return true;
    }
    if pod
        .containers
        .iter()
        .zip(&old.containers)
        .any(|(a, b)| image(a) != image(b))
    {
        return true;
    }
    if init.iter().zip(old_init).any(|(a, b)| image(a) != image(b)) {
        return true;
    }
    let old_eph = old.ephemeral_containers.as_deref().unwrap_or(&[]);
    for c in pod.ephemeral_containers.iter().flatten() {
        match old_eph.iter().find(|o| o.name == c.name) {
            None => return true,
            Some(o) if eimage(o) != eimage(c) => return true,
            Some(_) => {}
        }
    }
    false
}
