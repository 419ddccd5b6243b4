//! The baseline checks (they also run at restricted unless a restricted check overrides them).

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::SELinuxOptions;

use super::{Ctx, Violation};
use crate::text::{go_quote, join_quote, pluralize};

/// `container "a"` / `containers "a", "b"`.
pub(super) fn containers_phrase(names: &[&str]) -> String {
    format!(
        "{} {}",
        pluralize("container", "containers", names.len()),
        join_quote(names)
    )
}

/// appArmorProfile (1.0+): the pod and container `appArmorProfile.type` must be RuntimeDefault
/// or Localhost when set; the deprecated `container.apparmor.security.beta.kubernetes.io/*`
/// annotations must be empty, `runtime/default` or `localhost/*`.
pub(super) fn app_armor_profile(ctx: &Ctx<'_>) -> Option<Violation> {
    fn allowed_type(t: &str) -> bool {
        t == "RuntimeDefault" || t == "Localhost"
    }
    fn allowed_annotation(v: &str) -> bool {
        v.is_empty() || v == "runtime/default" || v.starts_with("localhost/")
    }

    let mut setters: Vec<String> = Vec::new();
    let mut bad_values: BTreeSet<String> = BTreeSet::new();
    if let Some(p) = ctx
        .spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.app_armor_profile.as_ref())
        && !allowed_type(&p.type_)
    {
        setters.push("pod".into());
        bad_values.insert(p.type_.clone());
    }
    let containers = ctx.containers();
    let mut bad_containers = Vec::new();
    for c in &containers {
        if let Some(p) = c
            .security_context
            .and_then(|sc| sc.app_armor_profile.as_ref())
            && !allowed_type(&p.type_)
        {
            bad_containers.push(c.name);
            bad_values.insert(p.type_.clone());
        }
    }
    if !bad_containers.is_empty() {
        setters.push(containers_phrase(&bad_containers));
    }

    let mut bad_annotations: Vec<String> = ctx
        .annotations()
        .filter(|(k, v)| {
            k.starts_with("container.apparmor.security.beta.kubernetes.io/")
                && !allowed_annotation(v)
        })
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect();
    let mut values: Vec<String> = bad_values.into_iter().collect();
    if !bad_annotations.is_empty() {
        bad_annotations.sort();
        setters.push(pluralize("annotation", "annotations", bad_annotations.len()).into());
        values.append(&mut bad_annotations);
    }

    if setters.is_empty() {
        return None;
    }
    Some(Violation::new(
        pluralize(
            "forbidden AppArmor profile",
            "forbidden AppArmor profiles",
            values.len(),
        ),
        format!(
            "{} must not set AppArmor profile type to {}",
            setters.join(" and "),
            join_quote(&values)
        ),
    ))
}

/// The capabilities a baseline container may add.
const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// capabilities_baseline (1.0+): `capabilities.add` only from the default set.
pub(super) fn capabilities(ctx: &Ctx<'_>) -> Option<Violation> {
    let containers = ctx.containers();
    let mut bad_containers = Vec::new();
    let mut bad_caps: BTreeSet<&str> = BTreeSet::new();
    for c in &containers {
        let Some(caps) = c.security_context.and_then(|sc| sc.capabilities.as_ref()) else {
            continue;
        };
        let mut valid = true;
        for cap in caps.add.iter().flatten() {
            if !BASELINE_CAPABILITIES.contains(&cap.as_str()) {
                valid = false;
                bad_caps.insert(cap);
            }
        }
        if !valid {
            bad_containers.push(c.name);
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    let caps: Vec<&str> = bad_caps.into_iter().collect();
    Some(Violation::new(
        "non-default capabilities",
        format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&bad_containers),
            join_quote(&caps)
        ),
    ))
}

/// hostNamespaces (1.0+): no hostNetwork, hostPID or hostIPC.
pub(super) fn host_namespaces(ctx: &Ctx<'_>) -> Option<Violation> {
    let s = ctx.spec;
    let mut set = Vec::new();
    if s.host_network == Some(true) {
        set.push("hostNetwork=true");
    }
    if s.host_pid == Some(true) {
        set.push("hostPID=true");
    }
    if s.host_ipc == Some(true) {
        set.push("hostIPC=true");
    }
    if set.is_empty() {
        return None;
    }
    Some(Violation::new("host namespaces", set.join(", ")))
}

/// hostPathVolumes (1.0+): no hostPath volumes.
pub(super) fn host_path_volumes(ctx: &Ctx<'_>) -> Option<Violation> {
    let names: Vec<&str> = ctx
        .spec
        .volumes
        .iter()
        .flatten()
        .filter(|v| v.host_path.is_some())
        .map(|v| v.name.as_str())
        .collect();
    if names.is_empty() {
        return None;
    }
    Some(Violation::new(
        "hostPath volumes",
        format!(
            "{} {}",
            pluralize("volume", "volumes", names.len()),
            join_quote(&names)
        ),
    ))
}

/// hostPorts (1.0+): every `ports[*].hostPort` unset or 0.
pub(super) fn host_ports(ctx: &Ctx<'_>) -> Option<Violation> {
    let containers = ctx.containers();
    let mut bad_containers = Vec::new();
    // Go sorts the port numbers as strings.
    let mut ports: BTreeSet<String> = BTreeSet::new();
    for c in &containers {
        let mut valid = true;
        for p in c.ports {
            if let Some(hp) = p.host_port
                && hp != 0
            {
                valid = false;
                ports.insert(hp.to_string());
            }
        }
        if !valid {
            bad_containers.push(c.name);
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    let ports: Vec<String> = ports.into_iter().collect();
    Some(Violation::new(
        "hostPort",
        format!(
            "{} {} {} {}",
            containers_phrase(&bad_containers),
            pluralize("uses", "use", bad_containers.len()),
            pluralize("hostPort", "hostPorts", ports.len()),
            ports.join(", ")
        ),
    ))
}

/// privileged (1.0+): no `securityContext.privileged=true`.
pub(super) fn privileged(ctx: &Ctx<'_>) -> Option<Violation> {
    let containers = ctx.containers();
    let bad: Vec<&str> = containers
        .iter()
        .filter(|c| c.security_context.and_then(|sc| sc.privileged) == Some(true))
        .map(|c| c.name)
        .collect();
    if bad.is_empty() {
        return None;
    }
    Some(Violation::new(
        "privileged",
        format!(
            "{} must not set securityContext.privileged=true",
            containers_phrase(&bad)
        ),
    ))
}

/// procMount (1.0+): `procMount` unset or `Default` (anything with `hostUsers: false` when the
/// user-namespace relaxation is on).
pub(super) fn proc_mount(ctx: &Ctx<'_>) -> Option<Violation> {
    if ctx.relaxed_for_user_namespace() {
        return None;
    }
    let containers = ctx.containers();
    let mut bad = Vec::new();
    let mut types: BTreeSet<&str> = BTreeSet::new();
    for c in &containers {
        if let Some(pm) = c.security_context.and_then(|sc| sc.proc_mount.as_deref())
            && pm != "Default"
        {
            bad.push(c.name);
            types.insert(pm);
        }
    }
    if bad.is_empty() {
        return None;
    }
    let types: Vec<&str> = types.into_iter().collect();
    Some(Violation::new(
        "procMount",
        format!(
            "{} must not set securityContext.procMount to {}",
            containers_phrase(&bad),
            join_quote(&types)
        ),
    ))
}

/// seLinuxOptions (1.0+; `container_engine_t` allowed from 1.31): type from the allowed set,
/// no user, no role.
pub(super) fn se_linux_options(ctx: &Ctx<'_>) -> Option<Violation> {
    let allowed: &[&str] = if ctx.minor >= 31 {
        &[
            "",
            "container_t",
            "container_init_t",
            "container_kvm_t",
            "container_engine_t",
        ]
    } else {
        &["", "container_t", "container_init_t", "container_kvm_t"]
    };
    let mut bad_types: BTreeSet<String> = BTreeSet::new();
    let mut set_user = false;
    let mut set_role = false;
    let mut valid = |o: &SELinuxOptions| {
        let mut ok = true;
        let t = o.type_.as_deref().unwrap_or("");
        if !allowed.contains(&t) {
            ok = false;
            bad_types.insert(t.to_string());
        }
        if o.user.as_deref().is_some_and(|u| !u.is_empty()) {
            ok = false;
            set_user = true;
        }
        if o.role.as_deref().is_some_and(|r| !r.is_empty()) {
            ok = false;
            set_role = true;
        }
        ok
    };

    let mut setters: Vec<String> = Vec::new();
    if let Some(o) = ctx
        .spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.se_linux_options.as_ref())
        && !valid(o)
    {
        setters.push("pod".into());
    }
    let containers = ctx.containers();
    let mut bad_containers = Vec::new();
    for c in &containers {
        if let Some(o) = c
            .security_context
            .and_then(|sc| sc.se_linux_options.as_ref())
            && !valid(o)
        {
            bad_containers.push(c.name);
        }
    }
    if !bad_containers.is_empty() {
        setters.push(containers_phrase(&bad_containers));
    }
    if setters.is_empty() {
        return None;
    }
    let mut data = Vec::new();
    if !bad_types.is_empty() {
        let types: Vec<String> = bad_types.into_iter().collect();
        data.push(format!(
            "{} {}",
            pluralize("type", "types", types.len()),
            join_quote(&types)
        ));
    }
    if set_user {
        data.push("user may not be set".to_string());
    }
    if set_role {
        data.push("role may not be set".to_string());
    }
    Some(Violation::new(
        "seLinuxOptions",
        format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            setters.join(" and "),
            data.join("; ")
        ),
    ))
}

/// `RuntimeDefault` or `Localhost`.
pub(super) fn valid_seccomp_type(t: &str) -> bool {
    t == "Localhost" || t == "RuntimeDefault"
}

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

/// seccompProfile_baseline: before 1.19 the alpha seccomp annotations must be `runtime/default`,
/// `docker/default` or `localhost/*`; from 1.19 the pod and container `seccompProfile.type` must
/// not be anything but RuntimeDefault or Localhost (unset is fine).
pub(super) fn seccomp_profile(ctx: &Ctx<'_>) -> Option<Violation> {
    if ctx.minor < 19 {
        return seccomp_annotations(ctx);
    }
    let mut setters: Vec<String> = Vec::new();
    let mut bad_values: BTreeSet<String> = BTreeSet::new();
    if let Some(p) = ctx
        .spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.seccomp_profile.as_ref())
        && !valid_seccomp_type(&p.type_)
    {
        setters.push("pod".into());
        bad_values.insert(p.type_.clone());
    }
    let containers = ctx.containers();
    let mut bad_containers = Vec::new();
    for c in &containers {
        if let Some(p) = c
            .security_context
            .and_then(|sc| sc.seccomp_profile.as_ref())
            && !valid_seccomp_type(&p.type_)
        {
            bad_containers.push(c.name);
            bad_values.insert(p.type_.clone());
        }
    }
    if !bad_containers.is_empty() {
        setters.push(containers_phrase(&bad_containers));
    }
    if setters.is_empty() {
        return None;
    }
    let values: Vec<String> = bad_values.into_iter().collect();
    Some(seccomp_bad_setters(&setters, &values))
}

/// `<setters> must not set securityContext.seccompProfile.type to <values>`.
pub(super) fn seccomp_bad_setters(setters: &[String], values: &[String]) -> Violation {
    Violation::new(
        "seccompProfile",
        format!(
            "{} must not set securityContext.seccompProfile.type to {}",
            setters.join(" and "),
            join_quote(values)
        ),
    )
}

fn seccomp_annotations(ctx: &Ctx<'_>) -> Option<Violation> {
    fn valid(v: &str) -> bool {
        v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/")
    }
    let annotations = ctx.meta.annotations.as_ref();
    let get = |k: &str| annotations.and_then(|a| a.get(k));
    let mut forbidden: BTreeSet<String> = BTreeSet::new();
    if let Some(v) = get(SECCOMP_POD_ANNOTATION)
        && !valid(v)
    {
        forbidden.insert(format!("{SECCOMP_POD_ANNOTATION}={}", go_quote(v)));
    }
    for c in ctx.containers() {
        let key = format!("{SECCOMP_CONTAINER_ANNOTATION_PREFIX}{}", c.name);
        if let Some(v) = get(&key)
            && !valid(v)
        {
            forbidden.insert(format!("{key}={}", go_quote(v)));
        }
    }
    if forbidden.is_empty() {
        return None;
    }
    let list: Vec<String> = forbidden.into_iter().collect();
    Some(Violation::new(
        "seccompProfile",
        format!(
            "forbidden {} {}",
            pluralize("annotation", "annotations", list.len()),
            list.join(", ")
        ),
    ))
}

/// The sysctls a baseline pod may set, by the policy minor that allowed them.
const SYSCTLS: &[(u32, &str)] = &[
    (0, "kernel.shm_rmid_forced"),
    (0, "net.ipv4.ip_local_port_range"),
    (0, "net.ipv4.tcp_syncookies"),
    (0, "net.ipv4.ping_group_range"),
    (0, "net.ipv4.ip_unprivileged_port_start"),
    (27, "net.ipv4.ip_local_reserved_ports"),
    (29, "net.ipv4.tcp_keepalive_time"),
    (29, "net.ipv4.tcp_fin_timeout"),
    (29, "net.ipv4.tcp_keepalive_intvl"),
    (29, "net.ipv4.tcp_keepalive_probes"),
    (32, "net.ipv4.tcp_rmem"),
    (32, "net.ipv4.tcp_wmem"),
];

/// sysctls (1.0+, list grown in 1.27, 1.29, 1.32): only the safe sysctls.
pub(super) fn sysctls(ctx: &Ctx<'_>) -> Option<Violation> {
    let allowed = |name: &str| {
        SYSCTLS
            .iter()
            .any(|(since, n)| *since <= ctx.minor && *n == name)
    };
    let bad: Vec<&str> = ctx
        .spec
        .security_context
        .iter()
        .flat_map(|sc| sc.sysctls.iter().flatten())
        .map(|s| s.name.as_str())
        .filter(|n| !allowed(n))
        .collect();
    if bad.is_empty() {
        return None;
    }
    Some(Violation::new("forbidden sysctls", bad.join(", ")))
}

/// windowsHostProcess (1.0+): no `windowsOptions.hostProcess=true` on the pod or containers.
pub(super) fn windows_host_process(ctx: &Ctx<'_>) -> Option<Violation> {
    let containers = ctx.containers();
    let bad: Vec<&str> = containers
        .iter()
        .filter(|c| {
            c.security_context
                .and_then(|sc| sc.windows_options.as_ref())
                .and_then(|w| w.host_process)
                == Some(true)
        })
        .map(|c| c.name)
        .collect();
    let pod_bad = ctx
        .spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.windows_options.as_ref())
        .and_then(|w| w.host_process)
        == Some(true);
    let mut setters: Vec<String> = Vec::new();
    if pod_bad {
        setters.push("pod".into());
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    Some(Violation::new(
        "hostProcess",
        format!(
            "{} must not set securityContext.windowsOptions.hostProcess=true",
            setters.join(" and ")
        ),
    ))
}
