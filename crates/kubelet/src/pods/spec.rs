//! Pod and container specs translated into CRI configs: sandbox (hostname, DNS, ports, cgroup
//! parent, namespaces, sysctls, log directory, labels) and container (image, command, env, mounts,
//! resources, security context).

use std::collections::HashMap;
use std::path::Path;

use cri::api;
use k8s_openapi::api::core::v1::{Container, Pod, PodSecurityContext, SecurityContext};

use crate::quantity;

/// Upstream's label keys on CRI objects.
pub const LABEL_POD_NAME: &str = "io.kubernetes.pod.name";
/// Namespace label.
pub const LABEL_POD_NAMESPACE: &str = "io.kubernetes.pod.namespace";
/// UID label.
pub const LABEL_POD_UID: &str = "io.kubernetes.pod.uid";
/// Container name label.
pub const LABEL_CONTAINER_NAME: &str = "io.kubernetes.container.name";
/// Restart count annotation.
pub const ANNOTATION_RESTART_COUNT: &str = "io.kubernetes.container.restartCount";

/// Name, namespace, uid.
pub fn ids(pod: &Pod) -> (String, String, String) {
    (
        pod.metadata.name.clone().unwrap_or_default(),
        pod.metadata.namespace.clone().unwrap_or_default(),
        pod.metadata.uid.clone().unwrap_or_default(),
    )
}

/// The pod's log directory (the sandbox's CRI `log_directory`).
pub fn log_dir(logs_root: &Path, pod: &Pod) -> std::path::PathBuf {
    let (name, ns, uid) = ids(pod);
    logs_root.join(format!("{ns}_{name}_{uid}"))
}

fn pod_labels(pod: &Pod) -> HashMap<String, String> {
    let (name, ns, uid) = ids(pod);
    let mut l: HashMap<String, String> = pod.metadata.labels.clone().unwrap_or_default().into_iter().collect();
    l.insert(LABEL_POD_NAME.into(), name);
    l.insert(LABEL_POD_NAMESPACE.into(), ns);
    l.insert(LABEL_POD_UID.into(), uid);
    l
}

fn ns_mode(host: bool) -> i32 {
    if host { api::NamespaceMode::Node as i32 } else { api::NamespaceMode::Pod as i32 }
}

fn namespaces(pod: &Pod) -> api::NamespaceOption {
    let s = pod.spec.as_ref();
    let share_pid = s.and_then(|s| s.share_process_namespace).unwrap_or(false);
    api::NamespaceOption {
        network: ns_mode(s.and_then(|s| s.host_network).unwrap_or(false)),
        pid: if s.and_then(|s| s.host_pid).unwrap_or(false) {
            api::NamespaceMode::Node as i32
        } else if share_pid {
            api::NamespaceMode::Pod as i32
        } else {
            api::NamespaceMode::Container as i32
        },
        ipc: ns_mode(s.and_then(|s| s.host_ipc).unwrap_or(false)),
        ..Default::default()
    }
}

fn seccomp(profile: Option<&k8s_openapi::api::core::v1::SeccompProfile>) -> api::SecurityProfile {
    use api::security_profile::ProfileType;
    match profile.map(|p| p.type_.as_str()) {
        Some("Unconfined") => api::SecurityProfile { profile_type: ProfileType::Unconfined as i32, localhost_ref: String::new() },
        Some("Localhost") => api::SecurityProfile {
            profile_type: ProfileType::Localhost as i32,
            localhost_ref: profile.and_then(|p| p.localhost_profile.clone()).unwrap_or_default(),
        },
        // secure by default: RuntimeDefault unless the pod asks otherwise
        _ => api::SecurityProfile { profile_type: ProfileType::RuntimeDefault as i32, localhost_ref: String::new() },
    }
}

/// DNS for the pod per its dnsPolicy.
pub fn dns(pod: &Pod, cluster_dns: &[String], cluster_domain: &str) -> api::DnsConfig {
    let s = pod.spec.as_ref();
    let policy = s.and_then(|s| s.dns_policy.as_deref()).unwrap_or("ClusterFirst");
    let host_net = s.and_then(|s| s.host_network).unwrap_or(false);
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let mut cfg = api::DnsConfig::default();
    let host = || {
        let text = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let mut c = api::DnsConfig::default();
        for l in text.lines() {
            let mut it = l.split_whitespace();
            match it.next() {
                Some("nameserver") => c.servers.extend(it.next().map(String::from)),
                Some("search") => c.searches = it.map(String::from).collect(),
                Some("options") => c.options = it.map(String::from).collect(),
                _ => {}
            }
        }
        c
    };
    let cluster_first = policy == "ClusterFirstWithHostNet" || (policy == "ClusterFirst" && !host_net);
    if policy == "None" {
        // only dnsConfig
    } else if cluster_first && !cluster_dns.is_empty() {
        cfg.servers = cluster_dns.to_vec();
        cfg.searches = vec![format!("{ns}.svc.{cluster_domain}"), format!("svc.{cluster_domain}"), cluster_domain.to_string()];
        cfg.options = vec!["ndots:5".into()];
    } else {
        cfg = host();
    }
    if let Some(d) = s.and_then(|s| s.dns_config.as_ref()) {
        cfg.servers.extend(d.nameservers.clone().unwrap_or_default());
        cfg.searches.extend(d.searches.clone().unwrap_or_default());
        for o in d.options.iter().flatten() {
            let name = o.name.clone().unwrap_or_default();
            cfg.options.retain(|x| x.split(':').next() != Some(name.as_str()));
            cfg.options.push(match &o.value {
                Some(v) => format!("{name}:{v}"),
                None => name,
            });
        }
    }
    cfg
}

/// The sandbox config.
pub fn sandbox(pod: &Pod, attempt: u32, logs_root: &Path, cgroup_parent: &str, cluster_dns: &[String], cluster_domain: &str) -> api::PodSandboxConfig {
    let (name, ns, uid) = ids(pod);
    let s = pod.spec.as_ref();
    let psc: Option<&PodSecurityContext> = s.and_then(|s| s.security_context.as_ref());
    let mut port_mappings = Vec::new();
    for c in s.map(|s| s.containers.as_slice()).unwrap_or_default() {
        for p in c.ports.iter().flatten() {
            if let Some(hp) = p.host_port.filter(|p| *p > 0) {
                port_mappings.push(api::PortMapping {
                    protocol: match p.protocol.as_deref() {
                        Some("UDP") => api::Protocol::Udp as i32,
                        Some("SCTP") => api::Protocol::Sctp as i32,
                        _ => api::Protocol::Tcp as i32,
                    },
                    container_port: p.container_port,
                    host_port: hp,
                    host_ip: p.host_ip.clone().unwrap_or_default(),
                });
            }
        }
    }
    let hostname = if s.and_then(|s| s.host_network).unwrap_or(false) {
        String::new()
    } else {
        let h = s.and_then(|s| s.hostname.clone()).unwrap_or_else(|| name.clone());
        h.chars().take(63).collect::<String>().trim_end_matches(['-', '.']).to_string()
    };
    let sysctls = psc.and_then(|p| p.sysctls.as_ref()).map(|v| v.iter().map(|s| (s.name.clone(), s.value.clone())).collect()).unwrap_or_default();
    let mut annotations: HashMap<String, String> = pod.metadata.annotations.clone().unwrap_or_default().into_iter().collect();
    annotations.retain(|k, _| !k.starts_with("kubectl.kubernetes.io/last-applied"));
    api::PodSandboxConfig {
        metadata: Some(api::PodSandboxMetadata { name, uid, namespace: ns, attempt }),
        hostname,
        log_directory: log_dir(logs_root, pod).to_string_lossy().into_owned(),
        dns_config: Some(dns(pod, cluster_dns, cluster_domain)),
        port_mappings,
        labels: pod_labels(pod),
        annotations,
        linux: Some(api::LinuxPodSandboxConfig {
            cgroup_parent: cgroup_parent.into(),
            security_context: Some(api::LinuxSandboxSecurityContext {
                namespace_options: Some(namespaces(pod)),
                run_as_user: psc.and_then(|p| p.run_as_user).map(|v| api::Int64Value { value: v }),
                run_as_group: psc.and_then(|p| p.run_as_group).map(|v| api::Int64Value { value: v }),
                supplemental_groups: psc.map(|p| p.supplemental_groups.clone().unwrap_or_default()).unwrap_or_default().into_iter().chain(psc.and_then(|p| p.fs_group)).collect(),
                seccomp: Some(seccomp(psc.and_then(|p| p.seccomp_profile.as_ref()))),
                privileged: s.map(|s| s.containers.iter().chain(s.init_containers.iter().flatten()).any(|c| c.security_context.as_ref().and_then(|sc| sc.privileged).unwrap_or(false))).unwrap_or(false),
                ..Default::default()
            }),
            sysctls,
            ..Default::default()
        }),
        windows: None,
    }
}

/// Image reference normalised as the runtime stores it (`busybox:1.35` →
/// `docker.io/library/busybox:1.35`, no tag → `:latest`).
pub fn normalise_image(image: &str) -> String {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let first = name.split('/').next().unwrap_or("");
    let has_domain = name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut full = if has_domain {
        name.to_string()
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    let last = full.rsplit('/').next().unwrap_or("");
    if digest.is_none() && !last.contains(':') {
        full.push_str(":latest");
    }
    match digest {
        Some(d) => format!("{full}@{d}"),
        None => full,
    }
}

/// The container's resources for CRI.
pub fn resources(c: &Container) -> api::LinuxContainerResources {
    let r = c.resources.as_ref();
    let lim = |k: &str| r.and_then(|r| r.limits.as_ref()).and_then(|m| m.get(k)).and_then(|q| quantity::parse(&q.0));
    let req = |k: &str| r.and_then(|r| r.requests.as_ref()).and_then(|m| m.get(k)).and_then(|q| quantity::parse(&q.0)).or_else(|| lim(k));
    let mut out = api::LinuxContainerResources { cpu_period: 100_000, ..Default::default() };
    out.cpu_shares = req("cpu").map(|v| ((v * 1024.0) as i64).max(2)).unwrap_or(2);
    if let Some(v) = lim("cpu") {
        out.cpu_quota = ((v * 100_000.0) as i64).max(1000);
    }
    if let Some(v) = lim("memory") {
        out.memory_limit_in_bytes = v as i64;
    }
    // never negative here: the machine may lack CAP_SYS_RESOURCE (machine notes)
    out.oom_score_adj = match (req("memory"), lim("memory")) {
        (None, None) => 1000,
        _ => 999,
    };
    out
}

/// The container's security context for CRI (container settings over the pod's).
pub fn security(pod: &Pod, c: &Container) -> api::LinuxContainerSecurityContext {
    let psc = pod.spec.as_ref().and_then(|s| s.security_context.as_ref());
    let sc: Option<&SecurityContext> = c.security_context.as_ref();
    let privileged = sc.and_then(|s| s.privileged).unwrap_or(false);
    let caps = sc.and_then(|s| s.capabilities.as_ref());
    api::LinuxContainerSecurityContext {
        capabilities: Some(api::Capability {
            add_capabilities: caps.and_then(|c| c.add.clone()).unwrap_or_default(),
            drop_capabilities: caps.and_then(|c| c.drop.clone()).unwrap_or_default(),
            add_ambient_capabilities: Vec::new(),
        }),
        privileged,
        namespace_options: Some(namespaces(pod)),
        run_as_user: sc.and_then(|s| s.run_as_user).or(psc.and_then(|p| p.run_as_user)).map(|v| api::Int64Value { value: v }),
        run_as_group: sc.and_then(|s| s.run_as_group).or(psc.and_then(|p| p.run_as_group)).map(|v| api::Int64Value { value: v }),
        readonly_rootfs: sc.and_then(|s| s.read_only_root_filesystem).unwrap_or(false),
        supplemental_groups: psc.map(|p| p.supplemental_groups.clone().unwrap_or_default()).unwrap_or_default().into_iter().chain(psc.and_then(|p| p.fs_group)).collect(),
        no_new_privs: !privileged && !sc.and_then(|s| s.allow_privilege_escalation).unwrap_or(true),
        seccomp: Some(if privileged {
            api::SecurityProfile { profile_type: api::security_profile::ProfileType::Unconfined as i32, localhost_ref: String::new() }
        } else {
            seccomp(sc.and_then(|s| s.seccomp_profile.as_ref()).or(psc.and_then(|p| p.seccomp_profile.as_ref())))
        }),
        masked_paths: if privileged { Vec::new() } else { MASKED.iter().map(|s| s.to_string()).collect() },
        readonly_paths: if privileged { Vec::new() } else { READONLY.iter().map(|s| s.to_string()).collect() },
        ..Default::default()
    }
}

/// Upstream's `verifyRunAsNonRoot`: with `runAsNonRoot` in the effective security context
/// (container over pod), the container must not run as uid 0, whether by its `runAsUser` or by
/// the image's user. The error is the container's CreateContainerConfigError message.
pub fn verify_run_as_non_root(pod: &Pod, c: &Container, image_uid: Option<i64>, image_username: &str) -> Result<(), String> {
    let psc = pod.spec.as_ref().and_then(|s| s.security_context.as_ref());
    let sc = c.security_context.as_ref();
    let non_root = sc.and_then(|s| s.run_as_non_root).or(psc.and_then(|p| p.run_as_non_root)).unwrap_or(false);
    if !non_root {
        return Ok(());
    }
    let (name, ns, uid) = ids(pod);
    let who = format!("(pod: \"{name}_{ns}({uid})\", container: {})", c.name);
    if let Some(user) = sc.and_then(|s| s.run_as_user).or(psc.and_then(|p| p.run_as_user)) {
        return if user == 0 { Err(format!("container's runAsUser breaks non-root policy {who}")) } else { Ok(()) };
    }
    match image_uid {
        None if !image_username.is_empty() => Err(format!("container has runAsNonRoot and image has non-numeric user ({image_username}), cannot verify user is non-root {who}")),
        Some(0) => Err(format!("container has runAsNonRoot and image will run as root {who}")),
        Some(u) if !(1..=i64::from(i32::MAX)).contains(&u) => Err(format!(
            "container has runAsNonRoot and image has an invalid user id ({u}). (Must be 1-({})): must be between 0 and {}, inclusive {who}",
            i32::MAX,
            i32::MAX
        )),
        _ => Ok(()),
    }
}

/// The default masked paths (upstream's `DefaultProcMountType`).
const MASKED: &[&str] = &["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"];
const READONLY: &[&str] = &["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/// The container config.
pub fn container(pod: &Pod, c: &Container, attempt: u32, image_ref: &str, envs: Vec<api::KeyValue>, mounts: Vec<api::Mount>) -> api::ContainerConfig {
    let mut labels = pod_labels(pod);
    labels.retain(|k, _| k.starts_with("io.kubernetes."));
    labels.insert(LABEL_CONTAINER_NAME.into(), c.name.clone());
    let mut annotations = HashMap::new();
    annotations.insert(ANNOTATION_RESTART_COUNT.to_string(), attempt.to_string());
    if let Some(tp) = &c.termination_message_path {
        annotations.insert("io.kubernetes.container.terminationMessagePath".into(), tp.clone());
    }
    api::ContainerConfig {
        metadata: Some(api::ContainerMetadata { name: c.name.clone(), attempt }),
        image: Some(api::ImageSpec { image: image_ref.into(), user_specified_image: c.image.clone().unwrap_or_default(), ..Default::default() }),
        command: c.command.clone().unwrap_or_default(),
        args: c.args.clone().unwrap_or_default(),
        working_dir: c.working_dir.clone().unwrap_or_default(),
        envs,
        mounts,
        labels,
        annotations,
        log_path: format!("{}/{attempt}.log", c.name),
        stdin: c.stdin.unwrap_or(false),
        stdin_once: c.stdin_once.unwrap_or(false),
        tty: c.tty.unwrap_or(false),
        linux: Some(api::LinuxContainerConfig { resources: Some(resources(c)), security_context: Some(security(pod, c)) }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_normalise_like_docker() {
        assert_eq!(normalise_image("busybox:1.35"), "docker.io/library/busybox:1.35");
        assert_eq!(normalise_image("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(normalise_image("me/app"), "docker.io/me/app:latest");
        assert_eq!(normalise_image("localhost/ferrokube/pause:1"), "localhost/ferrokube/pause:1");
        assert_eq!(normalise_image("127.0.0.1:5000/x"), "127.0.0.1:5000/x:latest");
        assert_eq!(normalise_image("busybox@sha256:ab"), "docker.io/library/busybox@sha256:ab");
    }

    #[test]
    fn security_defaults_are_restrictive() {
        let pod: Pod = serde_json::from_value(serde_json::json!({"metadata": {"name": "p", "namespace": "d", "uid": "u"},
            "spec": {"containers": [{"name": "c", "securityContext": {"allowPrivilegeEscalation": false, "runAsUser": 1000, "capabilities": {"drop": ["ALL"]}}}]}})).unwrap();
        let c = &pod.spec.as_ref().unwrap().containers[0];
        let s = security(&pod, c);
        assert!(s.no_new_privs);
        assert_eq!(s.run_as_user.unwrap().value, 1000);
        assert_eq!(s.seccomp.unwrap().profile_type, api::security_profile::ProfileType::RuntimeDefault as i32);
        assert_eq!(s.capabilities.unwrap().drop_capabilities, vec!["ALL".to_string()]);
        assert!(s.masked_paths.contains(&"/proc/kcore".to_string()));
        let r = resources(c);
        assert_eq!((r.cpu_shares, r.oom_score_adj), (2, 1000));
    }

    #[test]
    fn run_as_non_root_is_verified_like_upstream() {
        let pod = |psc: serde_json::Value, csc: serde_json::Value| -> Pod {
            serde_json::from_value(serde_json::json!({"metadata": {"name": "p", "namespace": "d", "uid": "u"},
                "spec": {"securityContext": psc, "containers": [{"name": "c", "securityContext": csc}]}})).unwrap()
        };
        let check = |p: &Pod, uid: Option<i64>, name: &str| verify_run_as_non_root(p, &p.spec.as_ref().unwrap().containers[0], uid, name);
        let loose = pod(serde_json::json!({}), serde_json::json!({}));
        assert_eq!(check(&loose, Some(0), ""), Ok(()));
        let strict = pod(serde_json::json!({"runAsNonRoot": true}), serde_json::json!({}));
        assert_eq!(check(&strict, Some(0), ""), Err("container has runAsNonRoot and image will run as root (pod: \"p_d(u)\", container: c)".into()));
        assert_eq!(check(&strict, Some(1000), ""), Ok(()));
        assert!(check(&strict, None, "nobody").unwrap_err().starts_with("container has runAsNonRoot and image has non-numeric user (nobody), cannot verify"));
        let user0 = pod(serde_json::json!({"runAsNonRoot": true}), serde_json::json!({"runAsUser": 0}));
        assert_eq!(check(&user0, Some(1000), ""), Err("container's runAsUser breaks non-root policy (pod: \"p_d(u)\", container: c)".into()));
        let user1 = pod(serde_json::json!({"runAsNonRoot": true, "runAsUser": 1000}), serde_json::json!({}));
        assert_eq!(check(&user1, Some(0), ""), Ok(()), "runAsUser overrides the image's user");
        let off = pod(serde_json::json!({"runAsNonRoot": true}), serde_json::json!({"runAsNonRoot": false}));
        assert_eq!(check(&off, Some(0), ""), Ok(()), "the container's setting wins");
    }

    #[test]
    fn cluster_dns_for_cluster_first() {
        let pod: Pod = serde_json::from_value(serde_json::json!({"metadata": {"namespace": "team"}, "spec": {"containers": []}})).unwrap();
        let d = dns(&pod, &["10.43.0.10".into()], "cluster.local");
        assert_eq!(d.servers, vec!["10.43.0.10".to_string()]);
        assert_eq!(d.searches[0], "team.svc.cluster.local");
    }
}
