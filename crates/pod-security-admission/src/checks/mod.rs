//! The Pod Security Standards checks and their registry (upstream's `policy` package).
//!
//! Every check is one function over the pod's metadata and spec that sees the effective policy
//! minor version, so the version-specific revisions of a check (`Versions:` upstream) are
//! branches inside it. [`CHECKS`] lists them in upstream's evaluation order: baseline checks by
//! ID, then restricted checks by ID (Go string order), which is also the order of the reasons in
//! every message.

use k8s_openapi::api::core::v1::{ContainerPort, PodSpec, SecurityContext};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::api::{Level, LevelVersion};

mod baseline;
mod restricted;
#[cfg(test)]
mod tests;

/// One failed check: a short reason and an optional detail (upstream's `CheckResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Succinct, always shown: `privileged`, `hostPath volumes`, `runAsNonRoot != true`.
    pub forbidden_reason: String,
    /// What exactly was disallowed (may be empty): `container "c" must not set securityContext.privileged=true`.
    pub forbidden_detail: String,
}

impl Violation {
    fn new(reason: impl Into<String>, detail: impl Into<String>) -> Violation {
        Violation {
            forbidden_reason: reason.into(),
            forbidden_detail: detail.into(),
        }
    }
}

/// Evaluation switches that upstream takes from feature gates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Upstream's `RelaxPolicyForUserNamespacePods` (kube-apiserver sets it from the
    /// `UserNamespacesPodSecurityStandards` feature gate, alpha and off by default in 1.32):
    /// pods with `hostUsers: false` pass `procMount`, `runAsNonRoot` and `runAsUser`.
    pub relax_for_user_namespace_pods: bool,
}

/// What a check sees.
pub(crate) struct Ctx<'a> {
    pub meta: &'a ObjectMeta,
    pub spec: &'a PodSpec,
    /// Effective policy minor (already clamped to [`crate::MAX_POLICY_MINOR`]).
    pub minor: u32,
    pub opts: Options,
}

impl Ctx<'_> {
    /// Upstream's `relaxPolicyForUserNamespacePod`.
    pub fn relaxed_for_user_namespace(&self) -> bool {
        self.opts.relax_for_user_namespace_pods && self.spec.host_users == Some(false)
    }

    /// `spec.os.name == "windows"`.
    pub fn is_windows(&self) -> bool {
        self.spec.os.as_ref().is_some_and(|os| os.name == "windows")
    }

    /// Every container in upstream's visiting order: init containers, containers, ephemeral
    /// containers.
    pub fn containers(&self) -> Vec<ContainerRef<'_>> {
        let s = self.spec;
        let mut out = Vec::new();
        for c in s
            .init_containers
            .iter()
            .flatten()
            .chain(s.containers.iter())
        {
            out.push(ContainerRef {
                name: &c.name,
                security_context: c.security_context.as_ref(),
                ports: c.ports.as_deref().unwrap_or(&[]),
            });
        }
        for c in s.ephemeral_containers.iter().flatten() {
            out.push(ContainerRef {
                name: &c.name,
                security_context: c.security_context.as_ref(),
                ports: c.ports.as_deref().unwrap_or(&[]),
            });
        }
        out
    }

    /// The pod's annotations (empty when unset).
    pub fn annotations(&self) -> impl Iterator<Item = (&String, &String)> {
        self.meta.annotations.iter().flatten()
    }
}

/// The fields of a container (or ephemeral container) the checks read.
pub(crate) struct ContainerRef<'a> {
    pub name: &'a str,
    pub security_context: Option<&'a SecurityContext>,
    pub ports: &'a [ContainerPort],
}

type CheckFn = fn(&Ctx<'_>) -> Option<Violation>;

/// One registered check.
pub(crate) struct CheckDef {
    /// Upstream's check ID.
    pub id: &'static str,
    /// Baseline checks run at baseline and restricted; restricted checks only at restricted.
    pub level: Level,
    /// First policy minor the check applies to.
    pub since: u32,
    /// The baseline check this restricted check replaces while it applies.
    pub overrides: Option<&'static str>,
    pub run: CheckFn,
}

/// All checks of Kubernetes 1.32 in evaluation order.
pub(crate) const CHECKS: &[CheckDef] = &[
    // baseline, sorted by ID
    CheckDef {
        id: "appArmorProfile",
        level: Level::Baseline,
        since: 0,
        overrides: None,
        run: baseline::app_armor_profile,
    },
    CheckDef {
        id: "capabilities_baseline",
        level: Level::Baseline,
        since: 0,
        overrides: None,
        run: baseline::capabilities,
    },
    CheckDef {
        id: "hostNamespaces",
        level: Level::Baseline,
        since: 0,
        overrides: None,
        run: baseline::host_namespaces,
    },
    CheckDef {
        id: "hostPathVolumes",
        level: Level::Baseline,
        since: 0,
        overrides: None,
        run: baseline::host_path_volumes,
    },
    CheckDef {
        id: "hostPorts",
        level: Level::Baseline,
        since: 0,
        overrides: None,
        run: baseline::host_ports,
    },
    CheckDef {
        id: "privileged",
        level: Level::Baseline,
        since: 0,
        overrides: None,
        run: baseline::privileged,
    },
    CheckDef {
        id: "procMount",
        level: Level::Baseline,
        since: 0,
        overrides: None,
        run: baseline::proc_mount,
    },
    CheckDef {
        id: "seLinuxOptions",
        level: Level::Baseline,
        since: 0,
        overrides: None,
        run: baseline::se_linux_options,
    },
    CheckDef {
        id: "seccompProfile_baseline",
        level: Level::Baseline,
        since: 0,
        overrides: None,
        run: baseline::seccomp_profile,
    },
    CheckDef {
        id: "sysctls",
        level: Level::Baseline,
        since: 0,
        overrides: None,
        run: baseline::sysctls,
    },
    CheckDef {
        id: "windowsHostProcess",
        level: Level::Baseline,
        since: 0,
        overrides: None,
        run: baseline::windows_host_process,
    },
    // restricted, sorted by ID
    CheckDef {
        id: "allowPrivilegeEscalation",
        level: Level::Restricted,
        since: 8,
        overrides: None,
        run: restricted::allow_privilege_escalation,
    },
    CheckDef {
        id: "capabilities_restricted",
        level: Level::Restricted,
        since: 22,
        overrides: Some("capabilities_baseline"),
        run: restricted::capabilities,
    },
    CheckDef {
        id: "restrictedVolumes",
        level: Level::Restricted,
        since: 0,
        overrides: Some("hostPathVolumes"),
        run: restricted::volumes,
    },
    CheckDef {
        id: "runAsNonRoot",
        level: Level::Restricted,
        since: 0,
        overrides: None,
        run: restricted::run_as_non_root,
    },
    CheckDef {
        id: "runAsUser",
        level: Level::Restricted,
        since: 23,
        overrides: None,
        run: restricted::run_as_user,
    },
    CheckDef {
        id: "seccompProfile_restricted",
        level: Level::Restricted,
        since: 19,
        overrides: Some("seccompProfile_baseline"),
        run: restricted::seccomp_profile,
    },
];

/// The IDs of the checks that run for `lv`, in evaluation order.
pub fn check_ids(lv: &LevelVersion) -> Vec<&'static str> {
    active_checks(lv).map(|c| c.id).collect()
}

fn active_checks(lv: &LevelVersion) -> impl Iterator<Item = &'static CheckDef> {
    let level = lv.level;
    let minor = lv.version.effective_minor();
    let applies = move |c: &CheckDef| {
        c.since <= minor
            && match level {
                Level::Privileged => false,
                Level::Baseline => c.level == Level::Baseline,
                Level::Restricted => true,
            }
    };
    let overridden: Vec<&'static str> = if level == Level::Restricted {
        CHECKS
            .iter()
            .filter(|c| applies(c))
            .filter_map(|c| c.overrides)
            .collect()
    } else {
        Vec::new()
    };
    CHECKS
        .iter()
        .filter(move |c| applies(c) && !overridden.contains(&c.id))
}

/// Runs every check that applies at `lv` (restricted includes the baseline checks it does not
/// override) and returns one [`Violation`] per failed check, in upstream's order. Privileged
/// runs nothing.
pub fn check_pod(lv: &LevelVersion, meta: &ObjectMeta, spec: &PodSpec) -> Vec<Violation> {
    check_pod_with_options(lv, meta, spec, Options::default())
}

/// [`check_pod`] with explicit [`Options`].
pub fn check_pod_with_options(
    lv: &LevelVersion,
    meta: &ObjectMeta,
    spec: &PodSpec,
    opts: Options,
) -> Vec<Violation> {
    let ctx = Ctx {
        meta,
        spec,
        minor: lv.version.effective_minor(),
        opts,
    };
    active_checks(lv).filter_map(|c| (c.run)(&ctx)).collect()
}

/// Upstream's `ForbiddenDetail()`: every reason, with its detail in parentheses when there is
/// one, joined by `, `: `privileged (container "c" must not set securityContext.privileged=true), hostPath volumes (volume "v")`.
pub fn format_violations(v: &[Violation]) -> String {
    let mut out = String::new();
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(reason_of(x));
        if !x.forbidden_detail.is_empty() {
            out.push_str(" (");
            out.push_str(&x.forbidden_detail);
            out.push(')');
        }
    }
    out
}

/// Upstream's `ForbiddenReason()`: the reasons alone, joined by `, ` (used for the warnings about
/// existing pods when a namespace's enforce level is tightened).
pub fn format_reasons(v: &[Violation]) -> String {
    v.iter().map(reason_of).collect::<Vec<_>>().join(", ")
}

fn reason_of(v: &Violation) -> &str {
    if v.forbidden_reason.is_empty() {
        "unknown forbidden reason"
    } else {
        &v.forbidden_reason
    }
}
