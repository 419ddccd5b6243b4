//! Per-check tests. Expected texts are upstream's (from the checks' Go tests and from messages
//! real clusters print).

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Value, json};

use super::*;
use crate::api::Version;

fn pod(v: Value) -> (ObjectMeta, PodSpec) {
    crate::pod_spec_of("", "pods", &v).unwrap().unwrap()
}

fn lv(level: Level, version: Version) -> LevelVersion {
    LevelVersion::new(level, version)
}

const BASELINE: LevelVersion = LevelVersion::new(Level::Baseline, Version::Latest);
const RESTRICTED: LevelVersion = LevelVersion::new(Level::Restricted, Version::Latest);

/// The violations of a pod at a level.
fn violations(at: LevelVersion, v: Value) -> Vec<Violation> {
    let (m, s) = pod(v);
    check_pod(&at, &m, &s)
}

/// The single violation with this reason, or a panic.
fn only(at: LevelVersion, v: Value, reason: &str) -> String {
    let found: Vec<Violation> = violations(at, v)
        .into_iter()
        .filter(|x| x.forbidden_reason == reason)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {reason:?} violation, got {found:?}"
    );
    found[0].forbidden_detail.clone()
}

fn reasons(at: LevelVersion, v: Value) -> Vec<String> {
    violations(at, v)
        .into_iter()
        .map(|x| x.forbidden_reason)
        .collect()
}

/// A pod that passes restricted:latest, with containers named as given.
fn restricted_pod(names: &[&str]) -> Value {
    let containers: Vec<Value> = names
        .iter()
        .map(|n| {
            json!({"name": n, "image": "i", "securityContext": {
                "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"]}
            }})
        })
        .collect();
    json!({"metadata": {"name": "p"}, "spec": {
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": containers
    }})
}

/// `restricted_pod(["c"])` with `patch` merged into the container's securityContext.
fn restricted_with_container_sc(patch: Value) -> Value {
    let mut p = restricted_pod(&["c"]);
    let sc = p["spec"]["containers"][0]["securityContext"]
        .as_object_mut()
        .unwrap();
    for (k, v) in patch.as_object().unwrap() {
        sc.insert(k.clone(), v.clone());
    }
    p
}

/// `restricted_pod(["c"])` with `patch` merged into the pod spec.
fn restricted_with_spec(patch: Value) -> Value {
    let mut p = restricted_pod(&["c"]);
    let spec = p["spec"].as_object_mut().unwrap();
    for (k, v) in patch.as_object().unwrap() {
        spec.insert(k.clone(), v.clone());
    }
    p
}

#[test]
fn compliant_pods_pass() {
    assert!(violations(RESTRICTED, restricted_pod(&["a", "b"])).is_empty());
    assert!(violations(BASELINE, restricted_pod(&["a"])).is_empty());
    let plain = json!({"spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    assert!(violations(BASELINE, plain.clone()).is_empty());
    // privileged checks nothing
    let bad = json!({"spec": {"hostNetwork": true, "containers": [{"name": "c", "securityContext": {"privileged": true}}]}});
    assert!(violations(LevelVersion::PRIVILEGED, bad).is_empty());
    assert!(violations(lv(Level::Privileged, Version::V(10)), plain).is_empty());
}

#[test]
fn check_order_and_overrides() {
    assert!(check_ids(&LevelVersion::PRIVILEGED).is_empty());
    assert_eq!(
        check_ids(&BASELINE),
        [
            "appArmorProfile",
            "capabilities_baseline",
            "hostNamespaces",
            "hostPathVolumes",
            "hostPorts",
            "privileged",
            "procMount",
            "seLinuxOptions",
            "seccompProfile_baseline",
            "sysctls",
            "windowsHostProcess",
        ]
    );
    assert_eq!(
        check_ids(&RESTRICTED),
        [
            "appArmorProfile",
            "hostNamespaces",
            "hostPorts",
            "privileged",
            "procMount",
            "seLinuxOptions",
            "sysctls",
            "windowsHostProcess",
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "restrictedVolumes",
            "runAsNonRoot",
            "runAsUser",
            "seccompProfile_restricted",
        ]
    );
    // Before 1.22 / 1.19 the restricted capability / seccomp checks do not exist, so the
    // baseline ones they would override still run; before 1.8/1.23 APE/runAsUser do not exist.
    assert_eq!(
        check_ids(&lv(Level::Restricted, Version::V(7))),
        [
            "appArmorProfile",
            "capabilities_baseline",
            "hostNamespaces",
            "hostPorts",
            "privileged",
            "procMount",
            "seLinuxOptions",
            "seccompProfile_baseline",
            "sysctls",
            "windowsHostProcess",
            "restrictedVolumes",
            "runAsNonRoot",
        ]
    );
    // The table is sorted by ID within each level (Go string order), as upstream orders it.
    for level in [Level::Baseline, Level::Restricted] {
        let ids: Vec<&str> = CHECKS
            .iter()
            .filter(|c| c.level == level)
            .map(|c| c.id)
            .collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }
}

#[test]
fn versions_newer_than_known_are_latest() {
    for v in [
        Version::V(32),
        Version::V(33),
        Version::V(99),
        Version::Latest,
    ] {
        assert_eq!(check_ids(&lv(Level::Restricted, v)), check_ids(&RESTRICTED));
    }
}

// ---- baseline checks -------------------------------------------------------------------------

#[test]
fn privileged() {
    let p = json!({"spec": {"containers": [
        {"name": "a"},
        {"name": "b", "securityContext": {}},
        {"name": "c", "securityContext": {"privileged": false}},
        {"name": "d", "securityContext": {"privileged": true}},
        {"name": "e", "securityContext": {"privileged": true}}
    ]}});
    assert_eq!(
        only(BASELINE, p, "privileged"),
        r#"containers "d", "e" must not set securityContext.privileged=true"#
    );
    let init = json!({"spec": {"initContainers": [{"name": "i", "securityContext": {"privileged": true}}], "containers": [{"name": "c"}]}});
    assert_eq!(
        only(BASELINE, init, "privileged"),
        r#"container "i" must not set securityContext.privileged=true"#
    );
    let eph = json!({"spec": {"containers": [{"name": "c"}], "ephemeralContainers": [{"name": "dbg", "securityContext": {"privileged": true}}]}});
    assert_eq!(
        only(RESTRICTED, eph, "privileged"),
        r#"container "dbg" must not set securityContext.privileged=true"#
    );
    assert!(violations(BASELINE, json!({"spec": {"containers": [{"name": "c", "securityContext": {"privileged": false}}]}})).is_empty());
}

#[test]
fn host_path_volumes() {
    let p = json!({"spec": {"containers": [{"name": "c"}], "volumes": [
        {"name": "a", "hostPath": {"path": "/a"}},
        {"name": "b", "hostPath": {"path": "/b"}},
        {"name": "e", "emptyDir": {}}
    ]}});
    assert_eq!(only(BASELINE, p, "hostPath volumes"), r#"volumes "a", "b""#);
    let one = json!({"spec": {"containers": [{"name": "c"}], "volumes": [{"name": "v", "hostPath": {"path": "/"}}]}});
    assert_eq!(
        only(BASELINE, one.clone(), "hostPath volumes"),
        r#"volume "v""#
    );
    // At restricted, restrictedVolumes overrides hostPathVolumes.
    assert!(
        !reasons(RESTRICTED, one)
            .iter()
            .any(|r| r == "hostPath volumes")
    );
    let ok = json!({"spec": {"containers": [{"name": "c"}], "volumes": [{"name": "v", "emptyDir": {}}]}});
    assert!(violations(BASELINE, ok).is_empty());
}

#[test]
fn host_namespaces() {
    let p = json!({"spec": {"hostNetwork": true, "hostPID": true, "hostIPC": true, "containers": [{"name": "c"}]}});
    assert_eq!(
        only(BASELINE, p, "host namespaces"),
        "hostNetwork=true, hostPID=true, hostIPC=true"
    );
    let p = json!({"spec": {"hostPID": true, "containers": [{"name": "c"}]}});
    assert_eq!(only(BASELINE, p, "host namespaces"), "hostPID=true");
    let ok = json!({"spec": {"hostNetwork": false, "hostPID": false, "hostIPC": false, "containers": [{"name": "c"}]}});
    assert!(violations(BASELINE, ok).is_empty());
}

#[test]
fn capabilities_baseline() {
    let p = json!({"spec": {"containers": [
        {"name": "a", "securityContext": {"capabilities": {"add": ["FOO", "BAR"]}}},
        {"name": "b", "securityContext": {"capabilities": {"add": ["BAR", "BAZ"]}}},
        {"name": "c", "securityContext": {"capabilities": {"add": ["CHOWN"]}}}
    ]}});
    assert_eq!(
        only(BASELINE, p, "non-default capabilities"),
        r#"containers "a", "b" must not include "BAR", "BAZ", "FOO" in securityContext.capabilities.add"#
    );
    let ok = json!({"spec": {"containers": [{"name": "a", "securityContext": {"capabilities": {
        "add": ["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"],
        "drop": ["NET_RAW"]}}}]}});
    assert!(violations(BASELINE, ok).is_empty());
    let raw = json!({"spec": {"containers": [{"name": "a", "securityContext": {"capabilities": {"add": ["NET_RAW"]}}}]}});
    assert_eq!(
        only(BASELINE, raw, "non-default capabilities"),
        r#"container "a" must not include "NET_RAW" in securityContext.capabilities.add"#
    );
}

#[test]
fn host_ports() {
    let p = json!({"spec": {"containers": [
        {"name": "a", "ports": [{"containerPort": 80}, {"containerPort": 81, "hostPort": 0}]},
        {"name": "b", "ports": [{"containerPort": 80, "hostPort": 20}]}
    ]}});
    assert_eq!(
        only(BASELINE, p, "hostPort"),
        r#"container "b" uses hostPort 20"#
    );
    let p = json!({"spec": {"containers": [
        {"name": "a", "ports": [{"containerPort": 80}]},
        {"name": "b", "ports": [{"containerPort": 1, "hostPort": 10}, {"containerPort": 2, "hostPort": 20}]},
        {"name": "c", "ports": [{"containerPort": 3, "hostPort": 30}, {"containerPort": 4, "hostPort": 10}]}
    ]}});
    assert_eq!(
        only(BASELINE, p, "hostPort"),
        r#"containers "b", "c" use hostPorts 10, 20, 30"#
    );
    // Go sorts the ports as strings.
    let p = json!({"spec": {"containers": [{"name": "a", "ports": [{"containerPort": 1, "hostPort": 8080}, {"containerPort": 2, "hostPort": 10000}]}]}});
    assert_eq!(
        only(BASELINE, p, "hostPort"),
        r#"container "a" uses hostPorts 10000, 8080"#
    );
}

#[test]
fn app_armor() {
    let p = json!({"spec": {"securityContext": {"appArmorProfile": {"type": "Unconfined"}}, "containers": [{"name": "c"}]}});
    assert_eq!(
        only(BASELINE, p, "forbidden AppArmor profile"),
        r#"pod must not set AppArmor profile type to "Unconfined""#
    );
    let p = json!({"spec": {
        "securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "foo"}],
        "initContainers": [{"name": "bar", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}}]
    }});
    assert_eq!(
        only(BASELINE, p, "forbidden AppArmor profile"),
        r#"container "bar" must not set AppArmor profile type to "Unconfined""#
    );
    let p = json!({"metadata": {"annotations": {
        "container.apparmor.security.beta.kubernetes.io/": "bogus",
        "container.apparmor.security.beta.kubernetes.io/a": "",
        "container.apparmor.security.beta.kubernetes.io/b": "runtime/default",
        "container.apparmor.security.beta.kubernetes.io/c": "localhost/",
        "container.apparmor.security.beta.kubernetes.io/d": "localhost/foo",
        "container.apparmor.security.beta.kubernetes.io/e": "unconfined",
        "container.apparmor.security.beta.kubernetes.io/f": "unknown"
    }}, "spec": {"containers": [{"name": "c"}]}});
    assert_eq!(
        only(BASELINE, p, "forbidden AppArmor profiles"),
        concat!(
            "annotations must not set AppArmor profile type to ",
            r#""container.apparmor.security.beta.kubernetes.io/="bogus"", "#,
            r#""container.apparmor.security.beta.kubernetes.io/e="unconfined"", "#,
            r#""container.apparmor.security.beta.kubernetes.io/f="unknown"""#
        )
    );
    // pod, containers and an annotation together
    let p = json!({"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/x": "unconfined"}},
        "spec": {"securityContext": {"appArmorProfile": {"type": "Unconfined"}},
        "containers": [{"name": "a", "securityContext": {"appArmorProfile": {"type": "Bogus"}}}, {"name": "b", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}}]}});
    assert_eq!(
        only(BASELINE, p, "forbidden AppArmor profiles"),
        r#"pod and containers "a", "b" and annotation must not set AppArmor profile type to "Bogus", "Unconfined", "container.apparmor.security.beta.kubernetes.io/x="unconfined"""#
    );
    let ok = json!({"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/c": "localhost/prof"}},
        "spec": {"securityContext": {"appArmorProfile": {"type": "Localhost", "localhostProfile": "p"}},
        "containers": [{"name": "c", "securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}}]}});
    assert!(
        violations(RESTRICTED, ok)
            .iter()
            .all(|v| !v.forbidden_reason.contains("AppArmor"))
    );
}

#[test]
fn se_linux_options() {
    let p = json!({"spec": {
        "securityContext": {"seLinuxOptions": {"type": "foo", "user": "u", "role": "r"}},
        "containers": [
            {"name": "a", "securityContext": {"seLinuxOptions": {"type": "container_t"}}},
            {"name": "e", "securityContext": {"seLinuxOptions": {"type": "bar"}}},
            {"name": "f", "securityContext": {"seLinuxOptions": {"user": "u"}}},
            {"name": "g", "securityContext": {"seLinuxOptions": {"role": "r"}}}
        ]
    }});
    assert_eq!(
        only(BASELINE, p, "seLinuxOptions"),
        r#"pod and containers "e", "f", "g" set forbidden securityContext.seLinuxOptions: types "bar", "foo"; user may not be set; role may not be set"#
    );
    let p = json!({"spec": {"securityContext": {"seLinuxOptions": {"type": "bad"}}, "containers": [{"name": "c"}]}});
    assert_eq!(
        only(BASELINE, p, "seLinuxOptions"),
        r#"pod set forbidden securityContext.seLinuxOptions: type "bad""#
    );
    let p = json!({"spec": {"securityContext": {"seLinuxOptions": {"role": "r"}}, "containers": [{"name": "c"}]}});
    assert_eq!(
        only(BASELINE, p, "seLinuxOptions"),
        "pod set forbidden securityContext.seLinuxOptions: role may not be set"
    );
    let ok = json!({"spec": {"securityContext": {"seLinuxOptions": {"type": "container_init_t", "level": "s0:c1"}},
        "containers": [{"name": "c", "securityContext": {"seLinuxOptions": {"type": "container_kvm_t", "user": ""}}}]}});
    assert!(violations(BASELINE, ok).is_empty());
}

#[test]
fn se_linux_container_engine_t_from_1_31() {
    let p = json!({"spec": {"securityContext": {"seLinuxOptions": {"type": "container_engine_t"}}, "containers": [{"name": "c"}]}});
    assert_eq!(
        only(
            lv(Level::Baseline, Version::V(30)),
            p.clone(),
            "seLinuxOptions"
        ),
        r#"pod set forbidden securityContext.seLinuxOptions: type "container_engine_t""#
    );
    assert!(violations(lv(Level::Baseline, Version::V(31)), p.clone()).is_empty());
    assert!(violations(BASELINE, p).is_empty());
}

#[test]
fn proc_mount() {
    let p = json!({"spec": {"containers": [
        {"name": "a"},
        {"name": "b", "securityContext": {}},
        {"name": "c", "securityContext": {"procMount": "Default"}},
        {"name": "d", "securityContext": {"procMount": "Unmasked"}},
        {"name": "e", "securityContext": {"procMount": "other"}}
    ]}});
    assert_eq!(
        only(BASELINE, p.clone(), "procMount"),
        r#"containers "d", "e" must not set securityContext.procMount to "Unmasked", "other""#
    );
    // hostUsers: false is only relaxed when the (alpha, off by default) option is on
    let mut userns = p.clone();
    userns["spec"]["hostUsers"] = json!(false);
    assert_eq!(reasons(BASELINE, userns.clone()), ["procMount"]);
    let (m, s) = pod(userns);
    assert!(
        check_pod_with_options(
            &BASELINE,
            &m,
            &s,
            Options {
                relax_for_user_namespace_pods: true
            }
        )
        .is_empty()
    );
}

#[test]
fn seccomp_baseline() {
    let p = json!({"spec": {"securityContext": {"seccompProfile": {"type": "Unconfined"}}, "containers": [{"name": "c"}]}});
    assert_eq!(
        only(BASELINE, p, "seccompProfile"),
        r#"pod must not set securityContext.seccompProfile.type to "Unconfined""#
    );
    let p = json!({"spec": {
    "securityContext": {"seccompProfile": {"type": "Unconfined"}},
    "containers": [
        {"name": "a"},
        {"name": "b", "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}},
        {"name": "c", "securityContext": {"seccompProfile": {"type": "Unconfined"}}},
        {"name": "d", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}
    ]}});
    assert_eq!(
        only(BASELINE, p, "seccompProfile"),
        r#"pod and containers "c", "d" must not set securityContext.seccompProfile.type to "Unconfined""#
    );
    // unset is fine at baseline
    assert!(violations(BASELINE, json!({"spec": {"containers": [{"name": "c"}]}})).is_empty());
}

#[test]
fn seccomp_baseline_annotations_before_1_19() {
    let v18 = lv(Level::Baseline, Version::V(18));
    let p = json!({"metadata": {"annotations": {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}}, "spec": {"containers": [{"name": "a"}]}});
    assert_eq!(
        only(v18, p.clone(), "seccompProfile"),
        r#"forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined""#
    );
    // annotations are ignored from 1.19
    assert!(violations(lv(Level::Baseline, Version::V(19)), p).is_empty());
    let p = json!({"metadata": {"annotations": {
        "seccomp.security.alpha.kubernetes.io/pod": "unconfined",
        "container.seccomp.security.alpha.kubernetes.io/a": "unconfined",
        "container.seccomp.security.alpha.kubernetes.io/b": "unknown",
        "container.seccomp.security.alpha.kubernetes.io/c": "docker/default",
        "container.seccomp.security.alpha.kubernetes.io/d": "localhost/x"
    }}, "spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "d"}]}});
    assert_eq!(
        only(v18, p, "seccompProfile"),
        r#"forbidden annotations container.seccomp.security.alpha.kubernetes.io/a="unconfined", container.seccomp.security.alpha.kubernetes.io/b="unknown", seccomp.security.alpha.kubernetes.io/pod="unconfined""#
    );
    // fields are ignored before 1.19
    let p = json!({"spec": {"securityContext": {"seccompProfile": {"type": "Unconfined"}}, "containers": [{"name": "c"}]}});
    assert!(violations(v18, p).is_empty());
}

#[test]
fn sysctls() {
    let p = json!({"spec": {"securityContext": {"sysctls": [
        {"name": "kernel.shm_rmid_forced", "value": "0"},
        {"name": "net.ipv4.tcp_rmem", "value": "4096 87380 16777216"},
        {"name": "kernel.msgmax", "value": "1"},
        {"name": "a", "value": "1"},
        {"name": "a", "value": "2"}
    ]}, "containers": [{"name": "c"}]}});
    assert_eq!(
        only(BASELINE, p, "forbidden sysctls"),
        "kernel.msgmax, a, a"
    );
}

#[test]
fn sysctls_by_version() {
    let cases = [
        ("net.ipv4.ip_unprivileged_port_start", 0),
        ("net.ipv4.ip_local_reserved_ports", 27),
        ("net.ipv4.tcp_keepalive_time", 29),
        ("net.ipv4.tcp_fin_timeout", 29),
        ("net.ipv4.tcp_keepalive_intvl", 29),
        ("net.ipv4.tcp_keepalive_probes", 29),
        ("net.ipv4.tcp_rmem", 32),
        ("net.ipv4.tcp_wmem", 32),
    ];
    for (name, since) in cases {
        let p = json!({"spec": {"securityContext": {"sysctls": [{"name": name, "value": "1"}]}, "containers": [{"name": "c"}]}});
        if since > 0 {
            assert_eq!(
                only(
                    lv(Level::Baseline, Version::V(since - 1)),
                    p.clone(),
                    "forbidden sysctls"
                ),
                name
            );
        }
        assert!(
            violations(lv(Level::Baseline, Version::V(since)), p.clone()).is_empty(),
            "{name}"
        );
        assert!(violations(BASELINE, p).is_empty(), "{name}");
    }
    // not yet allowed in 1.32
    let p = json!({"spec": {"securityContext": {"sysctls": [{"name": "net.ipv4.tcp_slow_start_after_idle", "value": "0"}]}, "containers": [{"name": "c"}]}});
    assert_eq!(
        only(BASELINE, p, "forbidden sysctls"),
        "net.ipv4.tcp_slow_start_after_idle"
    );
}

#[test]
fn windows_host_process() {
    let p = json!({"spec": {
    "securityContext": {"windowsOptions": {"hostProcess": true}},
    "containers": [
        {"name": "a", "securityContext": {"windowsOptions": {"hostProcess": true}}},
        {"name": "b", "securityContext": {"windowsOptions": {"hostProcess": false}}},
        {"name": "c", "securityContext": {"windowsOptions": {"hostProcess": true}}}
    ]}});
    assert_eq!(
        only(BASELINE, p, "hostProcess"),
        r#"pod and containers "a", "c" must not set securityContext.windowsOptions.hostProcess=true"#
    );
    let p = json!({"spec": {"securityContext": {"windowsOptions": {"hostProcess": true}}, "containers": [{"name": "a"}]}});
    assert_eq!(
        only(BASELINE, p, "hostProcess"),
        "pod must not set securityContext.windowsOptions.hostProcess=true"
    );
    let p = json!({"spec": {"containers": [{"name": "a", "securityContext": {"windowsOptions": {"hostProcess": true}}}]}});
    assert_eq!(
        only(BASELINE, p, "hostProcess"),
        r#"container "a" must not set securityContext.windowsOptions.hostProcess=true"#
    );
}

// ---- restricted checks -----------------------------------------------------------------------

#[test]
fn allow_privilege_escalation() {
    let p = json!({"spec": {"containers": [
        {"name": "a"},
        {"name": "b", "securityContext": {}},
        {"name": "c", "securityContext": {"allowPrivilegeEscalation": true}},
        {"name": "d", "securityContext": {"allowPrivilegeEscalation": false}}
    ]}});
    assert_eq!(
        only(RESTRICTED, p.clone(), "allowPrivilegeEscalation != false"),
        r#"containers "a", "b", "c" must set securityContext.allowPrivilegeEscalation=false"#
    );
    // not a baseline check, and absent before 1.8
    assert!(
        !reasons(BASELINE, p.clone())
            .iter()
            .any(|r| r.starts_with("allowPrivilegeEscalation"))
    );
    assert!(
        !reasons(lv(Level::Restricted, Version::V(7)), p.clone())
            .iter()
            .any(|r| r.starts_with("allowPrivilegeEscalation"))
    );
    assert!(
        reasons(lv(Level::Restricted, Version::V(8)), p)
            .iter()
            .any(|r| r.starts_with("allowPrivilegeEscalation"))
    );
    let bad = restricted_with_container_sc(json!({"allowPrivilegeEscalation": true}));
    assert_eq!(
        only(RESTRICTED, bad, "allowPrivilegeEscalation != false"),
        r#"container "c" must set securityContext.allowPrivilegeEscalation=false"#
    );
}

#[test]
fn capabilities_restricted() {
    let p = json!({"spec": {"containers": [
        {"name": "a", "securityContext": {"capabilities": {"add": ["FOO", "BAR"]}}},
        {"name": "b", "securityContext": {"capabilities": {"add": ["BAR", "BAZ"], "drop": ["NET_RAW"]}}},
        {"name": "c", "securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE", "CHOWN"], "drop": ["ALL", "FOO"]}}},
        {"name": "d", "securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}}}
    ]}});
    assert_eq!(
        only(RESTRICTED, p.clone(), "unrestricted capabilities"),
        r#"containers "a", "b" must set securityContext.capabilities.drop=["ALL"]; containers "a", "b", "c" must not include "BAR", "BAZ", "CHOWN", "FOO" in securityContext.capabilities.add"#
    );
    // capabilities_baseline is overridden at restricted
    assert!(
        !reasons(RESTRICTED, p)
            .iter()
            .any(|r| r == "non-default capabilities")
    );
    let p = json!({"spec": {"containers": [{"name": "a"}]}});
    assert_eq!(
        only(RESTRICTED, p, "unrestricted capabilities"),
        r#"container "a" must set securityContext.capabilities.drop=["ALL"]"#
    );
}

#[test]
fn capabilities_before_1_22_use_baseline() {
    let p = json!({"spec": {"containers": [{"name": "a", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}]}});
    let v21 = lv(Level::Restricted, Version::V(21));
    assert_eq!(
        only(v21, p.clone(), "non-default capabilities"),
        r#"container "a" must not include "SYS_ADMIN" in securityContext.capabilities.add"#
    );
    assert!(
        !reasons(v21, p.clone())
            .iter()
            .any(|r| r == "unrestricted capabilities")
    );
    let v22 = lv(Level::Restricted, Version::V(22));
    assert!(
        reasons(v22, p.clone())
            .iter()
            .any(|r| r == "unrestricted capabilities")
    );
    assert!(
        !reasons(v22, p)
            .iter()
            .any(|r| r == "non-default capabilities")
    );
}

#[test]
fn restricted_volumes() {
    let p = json!({"spec": {"containers": [{"name": "c"}], "volumes": [
        {"name": "a1", "emptyDir": {}},
        {"name": "a2", "secret": {"secretName": "s"}},
        {"name": "a3", "persistentVolumeClaim": {"claimName": "c"}},
        {"name": "a4", "downwardAPI": {}},
        {"name": "a5", "configMap": {"name": "c"}},
        {"name": "a6", "projected": {}},
        {"name": "a7", "csi": {"driver": "d"}},
        {"name": "a8", "ephemeral": {}},
        {"name": "b1", "hostPath": {"path": "/"}},
        {"name": "b2", "gcePersistentDisk": {"pdName": "x"}},
        {"name": "b3", "awsElasticBlockStore": {"volumeID": "x"}},
        {"name": "b4", "gitRepo": {"repository": "x"}},
        {"name": "b5", "nfs": {"server": "s", "path": "/"}},
        {"name": "b6", "iscsi": {"targetPortal": "t", "iqn": "i", "lun": 0}},
        {"name": "b7", "glusterfs": {"endpoints": "e", "path": "p"}},
        {"name": "b8", "rbd": {"monitors": [], "image": "i"}},
        {"name": "b9", "flexVolume": {"driver": "d"}},
        {"name": "b10", "cinder": {"volumeID": "v"}},
        {"name": "b11", "cephfs": {"monitors": []}},
        {"name": "b12", "flocker": {}},
        {"name": "b13", "fc": {}},
        {"name": "b14", "azureFile": {"secretName": "s", "shareName": "s"}},
        {"name": "b15", "vsphereVolume": {"volumePath": "p"}},
        {"name": "b16", "quobyte": {"registry": "r", "volume": "v"}},
        {"name": "b17", "azureDisk": {"diskName": "d", "diskURI": "u"}},
        {"name": "b18", "photonPersistentDisk": {"pdID": "p"}},
        {"name": "b19", "portworxVolume": {"volumeID": "v"}},
        {"name": "b20", "scaleIO": {"gateway": "g", "system": "s", "secretRef": {}}},
        {"name": "b21", "storageos": {}},
        {"name": "c1"}
    ]}});
    assert_eq!(
        only(RESTRICTED, p, "restricted volume types"),
        concat!(
            r#"volumes "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "b10", "b11", "b12", "b13", "b14", "b15", "b16", "b17", "b18", "b19", "b20", "b21", "c1""#,
            r#" use restricted volume types "#,
            r#""awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "fc", "flexVolume", "flocker", "gcePersistentDisk", "gitRepo", "glusterfs", "#,
            r#""hostPath", "iscsi", "nfs", "photonPersistentDisk", "portworxVolume", "quobyte", "rbd", "scaleIO", "storageos", "unknown", "vsphereVolume""#
        )
    );
    let one =
        restricted_with_spec(json!({"volumes": [{"name": "host", "hostPath": {"path": "/"}}]}));
    assert_eq!(
        only(RESTRICTED, one, "restricted volume types"),
        r#"volume "host" uses restricted volume type "hostPath""#
    );
    // image volumes are not in 1.32's allowed list: upstream reports them as "unknown"
    let img =
        restricted_with_spec(json!({"volumes": [{"name": "i", "image": {"reference": "r"}}]}));
    assert_eq!(
        only(RESTRICTED, img, "restricted volume types"),
        r#"volume "i" uses restricted volume type "unknown""#
    );
    // a baseline namespace allows them all but hostPath
    let nfs = json!({"spec": {"containers": [{"name": "c"}], "volumes": [{"name": "n", "nfs": {"server": "s", "path": "/"}}]}});
    assert!(violations(BASELINE, nfs).is_empty());
}

#[test]
fn run_as_non_root() {
    let p = json!({"spec": {"containers": [{"name": "a"}]}});
    assert_eq!(
        only(RESTRICTED, p, "runAsNonRoot != true"),
        r#"pod or container "a" must set securityContext.runAsNonRoot=true"#
    );
    let p = json!({"spec": {"securityContext": {"runAsNonRoot": false}, "containers": [{"name": "a", "securityContext": {"runAsNonRoot": true}}]}});
    assert_eq!(
        only(RESTRICTED, p, "runAsNonRoot != true"),
        "pod must not set securityContext.runAsNonRoot=false"
    );
    let p = json!({"spec": {"securityContext": {"runAsNonRoot": true}, "containers": [
        {"name": "a"},
        {"name": "b", "securityContext": {"runAsNonRoot": true}},
        {"name": "c", "securityContext": {"runAsNonRoot": false}},
        {"name": "d", "securityContext": {"runAsNonRoot": false}}
    ]}});
    assert_eq!(
        only(RESTRICTED, p, "runAsNonRoot != true"),
        r#"containers "c", "d" must not set securityContext.runAsNonRoot=false"#
    );
    let p = json!({"spec": {"containers": [
        {"name": "a"},
        {"name": "b"},
        {"name": "c", "securityContext": {"runAsNonRoot": true}}
    ]}});
    assert_eq!(
        only(RESTRICTED, p, "runAsNonRoot != true"),
        r#"pod or containers "a", "b" must set securityContext.runAsNonRoot=true"#
    );
    // every container setting it is enough
    let p =
        json!({"spec": {"containers": [{"name": "a", "securityContext": {"runAsNonRoot": true}}]}});
    assert!(
        !reasons(RESTRICTED, p)
            .iter()
            .any(|r| r == "runAsNonRoot != true")
    );
    // user namespaces relax it only with the option
    let p = json!({"spec": {"hostUsers": false, "containers": [{"name": "a"}]}});
    assert!(
        reasons(RESTRICTED, p.clone())
            .iter()
            .any(|r| r == "runAsNonRoot != true")
    );
    let (m, s) = pod(p);
    let relaxed = check_pod_with_options(
        &RESTRICTED,
        &m,
        &s,
        Options {
            relax_for_user_namespace_pods: true,
        },
    );
    assert!(
        !relaxed
            .iter()
            .any(|v| v.forbidden_reason == "runAsNonRoot != true")
    );
}

#[test]
fn run_as_user() {
    let p = restricted_with_spec(
        json!({"securityContext": {"runAsNonRoot": true, "runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}}}),
    );
    assert_eq!(
        only(RESTRICTED, p, "runAsUser=0"),
        "pod must not set runAsUser=0"
    );
    let mut p = restricted_pod(&["a", "b", "c", "d"]);
    p["spec"]["containers"][1]["securityContext"]["runAsUser"] = json!(1000);
    p["spec"]["containers"][2]["securityContext"]["runAsUser"] = json!(0);
    p["spec"]["containers"][3]["securityContext"]["runAsUser"] = json!(0);
    assert_eq!(
        only(RESTRICTED, p.clone(), "runAsUser=0"),
        r#"containers "c", "d" must not set runAsUser=0"#
    );
    // the check exists from 1.23
    assert!(violations(lv(Level::Restricted, Version::V(22)), p.clone()).is_empty());
    assert_eq!(
        reasons(lv(Level::Restricted, Version::V(23)), p.clone()),
        ["runAsUser=0"]
    );
    // not a baseline check
    assert!(violations(BASELINE, p).is_empty());
    let both = restricted_with_spec(
        json!({"securityContext": {"runAsNonRoot": true, "runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}}}),
    );
    let mut both = both;
    both["spec"]["containers"][0]["securityContext"]["runAsUser"] = json!(0);
    assert_eq!(
        only(RESTRICTED, both, "runAsUser=0"),
        r#"pod and container "c" must not set runAsUser=0"#
    );
}

#[test]
fn seccomp_restricted() {
    let p = json!({"spec": {"containers": [{"name": "a"}]}});
    assert_eq!(
        only(RESTRICTED, p, "seccompProfile"),
        r#"pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#
    );
    let p = json!({"spec": {"containers": [
        {"name": "a"},
        {"name": "b"},
        {"name": "c", "securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "p"}}}
    ]}});
    assert_eq!(
        only(RESTRICTED, p, "seccompProfile"),
        r#"pod or containers "a", "b" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#
    );
    // explicit bad values win over missing ones
    let p = json!({"spec": {"securityContext": {"seccompProfile": {"type": "Unconfined"}}, "containers": [
        {"name": "a"},
        {"name": "b", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}
    ]}});
    assert_eq!(
        only(RESTRICTED, p, "seccompProfile"),
        r#"pod and container "b" must not set securityContext.seccompProfile.type to "Unconfined""#
    );
    // container-level only is fine
    let p = json!({"spec": {"containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}]}});
    assert!(!reasons(RESTRICTED, p).iter().any(|r| r == "seccompProfile"));
    // before 1.19 restricted has no seccomp requirement at all (and the annotation check runs)
    let p = json!({"spec": {"containers": [{"name": "a"}]}});
    assert!(
        !reasons(lv(Level::Restricted, Version::V(18)), p)
            .iter()
            .any(|r| r == "seccompProfile")
    );
}

#[test]
fn windows_pods_skip_linux_only_checks_from_1_25() {
    let p = json!({"spec": {"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": true}, "containers": [{"name": "a"}]}});
    assert!(violations(RESTRICTED, p.clone()).is_empty());
    assert!(violations(lv(Level::Restricted, Version::V(25)), p.clone()).is_empty());
    assert_eq!(
        reasons(lv(Level::Restricted, Version::V(24)), p),
        [
            "allowPrivilegeEscalation != false",
            "unrestricted capabilities",
            "seccompProfile"
        ]
    );
    let linux = json!({"spec": {"os": {"name": "linux"}, "securityContext": {"runAsNonRoot": true}, "containers": [{"name": "a"}]}});
    assert_eq!(
        reasons(RESTRICTED, linux),
        [
            "allowPrivilegeEscalation != false",
            "unrestricted capabilities",
            "seccompProfile"
        ]
    );
}

// ---- aggregation and messages ----------------------------------------------------------------

#[test]
fn format_baseline_message() {
    let p = json!({"metadata": {"name": "pwru"}, "spec": {
        "hostNetwork": true, "hostPID": true,
        "containers": [{"name": "pwru", "image": "i", "securityContext": {"privileged": true}}],
        "volumes": [{"name": "sys-kernel-debug", "hostPath": {"path": "/sys/kernel/debug"}}]
    }});
    let v = violations(BASELINE, p);
    assert_eq!(
        format_violations(&v),
        r#"host namespaces (hostNetwork=true, hostPID=true), hostPath volumes (volume "sys-kernel-debug"), privileged (container "pwru" must not set securityContext.privileged=true)"#
    );
    assert_eq!(
        format_reasons(&v),
        "host namespaces, hostPath volumes, privileged"
    );
    assert_eq!(format_violations(&[]), "");
    let unnamed = [Violation::new("", ""), Violation::new("r", "")];
    assert_eq!(format_violations(&unnamed), "unknown forbidden reason, r");
}
