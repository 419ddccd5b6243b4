//! Tests of the crate's public surface: parsing, namespace policies, messages, admission
//! decisions. Expected texts are upstream's.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Value, json};

use crate::*;

fn labels(kvs: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, String> = kvs
        .iter()
        .map(|(k, v)| (format!("pod-security.kubernetes.io/{k}"), v.to_string()))
        .collect();
    m.insert("other-label".into(), "foo-bar".into());
    m
}

fn lv(level: Level, version: Version) -> LevelVersion {
    LevelVersion::new(level, version)
}

fn pod(v: Value) -> (ObjectMeta, PodSpec) {
    pod_spec_of("", "pods", &v).unwrap().unwrap()
}

const P: LevelVersion = LevelVersion::PRIVILEGED;
const B: LevelVersion = LevelVersion::new(Level::Baseline, Version::Latest);
const R: LevelVersion = LevelVersion::new(Level::Restricted, Version::Latest);

// ---- levels and versions ---------------------------------------------------------------------

#[test]
fn level_parse_and_display() {
    for (s, l) in [
        ("privileged", Level::Privileged),
        ("baseline", Level::Baseline),
        ("restricted", Level::Restricted),
    ] {
        assert_eq!(Level::parse(s), Ok(l));
        assert_eq!(s.parse::<Level>(), Ok(l));
        assert_eq!(l.to_string(), s);
    }
    for bad in ["", "Baseline", "RESTRICTED", " baseline", "unknown"] {
        assert_eq!(
            Level::parse(bad).unwrap_err().to_string(),
            "must be one of privileged, baseline, restricted"
        );
    }
    assert!(Level::Privileged < Level::Baseline && Level::Baseline < Level::Restricted);
}

#[test]
fn version_parse_and_display() {
    assert_eq!(Version::parse("latest"), Ok(Version::Latest));
    assert_eq!(Version::parse("v1.0"), Ok(Version::V(0)));
    assert_eq!(Version::parse("v1.22"), Ok(Version::V(22)));
    assert_eq!(Version::parse("v1.100"), Ok(Version::V(100)));
    for bad in [
        "",
        "Latest",
        "1.22",
        "v1.",
        "v1.022",
        "v1.00",
        "v2.0",
        "v1.2.3",
        "v1.-1",
        "v1.+1",
        "v1.x",
        "v1.99999999999",
    ] {
        assert_eq!(
            Version::parse(bad).unwrap_err().to_string(),
            r#"must be "latest" or "v1.x""#,
            "{bad}"
        );
    }
    assert_eq!(Version::Latest.to_string(), "latest");
    assert_eq!(Version::V(29).to_string(), "v1.29");
    assert!(Version::V(100) < Version::Latest);
    assert!(Version::V(3) < Version::V(22));
    assert_eq!(Version::Latest.effective_minor(), 32);
    assert_eq!(Version::V(40).effective_minor(), 32);
    assert_eq!(Version::V(20).effective_minor(), 20);
}

#[test]
fn level_version_display() {
    assert_eq!(B.to_string(), "baseline:latest");
    assert_eq!(
        lv(Level::Restricted, Version::V(24)).to_string(),
        "restricted:v1.24"
    );
    assert!(P.equivalent(&lv(Level::Privileged, Version::V(3))));
    assert!(!B.equivalent(&lv(Level::Baseline, Version::V(3))));
}

// ---- namespace labels ------------------------------------------------------------------------

#[test]
fn policy_from_labels() {
    let d = NamespacePolicy::PRIVILEGED;
    let cases: Vec<(&[(&str, &str)], NamespacePolicy)> = vec![
        (
            &[("enforce", "baseline")],
            NamespacePolicy {
                enforce: B,
                audit: P,
                warn: B,
            },
        ),
        (
            &[("warn", "restricted")],
            NamespacePolicy {
                enforce: P,
                audit: P,
                warn: R,
            },
        ),
        (
            &[("audit", "baseline")],
            NamespacePolicy {
                enforce: P,
                audit: B,
                warn: P,
            },
        ),
        (
            &[("enforce", "baseline"), ("warn", "restricted")],
            NamespacePolicy {
                enforce: B,
                audit: P,
                warn: R,
            },
        ),
        (
            &[("enforce", "baseline"), ("enforce-version", "v1.22")],
            NamespacePolicy {
                enforce: lv(Level::Baseline, Version::V(22)),
                audit: P,
                warn: lv(Level::Baseline, Version::V(22)),
            },
        ),
        (
            &[
                ("enforce", "baseline"),
                ("enforce-version", "v1.22"),
                ("warn-version", "latest"),
            ],
            NamespacePolicy {
                enforce: lv(Level::Baseline, Version::V(22)),
                audit: P,
                warn: B,
            },
        ),
        (
            &[("enforce", "baseline"), ("warn-version", "v1.23")],
            NamespacePolicy {
                enforce: B,
                audit: P,
                warn: lv(Level::Baseline, Version::V(23)),
            },
        ),
        (
            &[
                ("enforce", "baseline"),
                ("enforce-version", "v1.20"),
                ("warn", "restricted"),
                ("warn-version", "v1.21"),
                ("audit", "restricted"),
                ("audit-version", "v1.22"),
            ],
            NamespacePolicy {
                enforce: lv(Level::Baseline, Version::V(20)),
                audit: lv(Level::Restricted, Version::V(22)),
                warn: lv(Level::Restricted, Version::V(21)),
            },
        ),
        (
            &[("enforce", "baseline"), ("warn", "privileged")],
            NamespacePolicy {
                enforce: B,
                audit: P,
                warn: P,
            },
        ),
    ];
    for (l, expect) in cases {
        assert_eq!(policy_for_namespace(&labels(l), &d), Ok(expect), "{l:?}");
    }
    assert_eq!(policy_for_namespace(&BTreeMap::new(), &d), Ok(d));
}

#[test]
fn labels_over_non_privileged_defaults() {
    let d = Config::ferrokube_default().defaults;
    assert_eq!(policy_for_namespace(&BTreeMap::new(), &d), Ok(d));
    // enforce=restricted on a namespace whose warn default is restricted:latest keeps warn as is
    let p = policy_for_namespace(
        &labels(&[("enforce", "restricted"), ("enforce-version", "v1.25")]),
        &d,
    )
    .unwrap();
    assert_eq!(p.enforce, lv(Level::Restricted, Version::V(25)));
    assert_eq!(p.warn, R);
    assert_eq!(p.audit, R);
    // relaxing enforce does not relax the defaults' warn
    let p = policy_for_namespace(&labels(&[("enforce", "privileged")]), &d).unwrap();
    assert_eq!(
        p,
        NamespacePolicy {
            enforce: P,
            audit: R,
            warn: R
        }
    );
}

#[test]
fn invalid_labels() {
    let d = NamespacePolicy::PRIVILEGED;
    // enforce fails closed, warn/audit fail open, versions become latest
    let (p, errs) = namespace_policy(&labels(&[("enforce", "baseline"), ("warn", "foo")]), &d);
    assert_eq!(
        p,
        NamespacePolicy {
            enforce: B,
            audit: P,
            warn: P
        }
    );
    assert_eq!(errs.len(), 1);
    let (p, errs) = namespace_policy(&labels(&[("enforce", "foo")]), &d);
    assert_eq!(
        p,
        NamespacePolicy {
            enforce: R,
            audit: P,
            warn: P
        }
    );
    assert_eq!(
        errs[0].to_string(),
        r#"metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "foo": must be one of privileged, baseline, restricted"#
    );
    assert_eq!(
        errs[0].field,
        "metadata.labels[pod-security.kubernetes.io/enforce]"
    );
    assert_eq!(errs[0].value, "foo");
    assert_eq!(
        errs[0].body(),
        r#"Invalid value: "foo": must be one of privileged, baseline, restricted"#
    );

    let bad = labels(&[
        ("enforce", "Baseline"),
        ("enforce-version", "1.22"),
        ("audit", "x"),
        ("audit-version", "v2"),
        ("warn", "y"),
        ("warn-version", "v1.022"),
    ]);
    let (p, errs) = namespace_policy(&bad, &d);
    assert_eq!(
        p,
        NamespacePolicy {
            enforce: R,
            audit: P,
            warn: P
        }
    );
    let texts = policy_for_namespace(&bad, &d).unwrap_err();
    assert_eq!(
        texts,
        [
            r#"metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "Baseline": must be one of privileged, baseline, restricted"#,
            r#"metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: "1.22": must be "latest" or "v1.x""#,
            r#"metadata.labels[pod-security.kubernetes.io/audit]: Invalid value: "x": must be one of privileged, baseline, restricted"#,
            r#"metadata.labels[pod-security.kubernetes.io/audit-version]: Invalid value: "v2": must be "latest" or "v1.x""#,
            r#"metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "y": must be one of privileged, baseline, restricted"#,
            r#"metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: "v1.022": must be "latest" or "v1.x""#,
        ]
    );
    assert_eq!(
        invalid_namespace_message("test", &errs[..1]),
        r#"Namespace "test" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "Baseline": must be one of privileged, baseline, restricted"#
    );
    assert_eq!(
        invalid_namespace_message("test", &errs[..2]),
        concat!(
            r#"Namespace "test" is invalid: [metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "Baseline": must be one of privileged, baseline, restricted, "#,
            r#"metadata.labels[pod-security.kubernetes.io/enforce-version]: Invalid value: "1.22": must be "latest" or "v1.x"]"#
        )
    );
}

// ---- messages --------------------------------------------------------------------------------

#[test]
fn forbidden_message_baseline() {
    let (m, s) = pod(json!({"metadata": {"name": "NAME"}, "spec": {
        "containers": [{"name": "c", "image": "i", "securityContext": {"privileged": true}}],
        "volumes": [{"name": "v", "hostPath": {"path": "/"}}]
    }}));
    let v = check_pod(&B, &m, &s);
    assert_eq!(
        forbidden_message("NAME", &B, &v),
        r#"pods "NAME" is forbidden: violates PodSecurity "baseline:latest": hostPath volumes (volume "v"), privileged (container "c" must not set securityContext.privileged=true)"#
    );
    assert_eq!(
        forbidden_message("", &B, &v[..1]),
        r#"pods is forbidden: violates PodSecurity "baseline:latest": hostPath volumes (volume "v")"#
    );
}

#[test]
fn warning_message_restricted() {
    // The message a plain container gets in a restricted namespace.
    let (m, s) = pod(
        json!({"metadata": {"name": "nodejs-app"}, "spec": {"containers": [{"name": "runtime", "image": "i"}]}}),
    );
    let v = check_pod(&R, &m, &s);
    assert_eq!(
        warning_message(&R, &v),
        concat!(
            r#"would violate PodSecurity "restricted:latest": "#,
            r#"allowPrivilegeEscalation != false (container "runtime" must set securityContext.allowPrivilegeEscalation=false), "#,
            r#"unrestricted capabilities (container "runtime" must set securityContext.capabilities.drop=["ALL"]), "#,
            r#"runAsNonRoot != true (pod or container "runtime" must set securityContext.runAsNonRoot=true), "#,
            r#"seccompProfile (pod or container "runtime" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#
        )
    );
    assert_eq!(
        forbidden_message("nodejs-app-8665bd77fb-2dd4n", &R, &v),
        concat!(
            r#"pods "nodejs-app-8665bd77fb-2dd4n" is forbidden: violates PodSecurity "restricted:latest": "#,
            r#"allowPrivilegeEscalation != false (container "runtime" must set securityContext.allowPrivilegeEscalation=false), "#,
            r#"unrestricted capabilities (container "runtime" must set securityContext.capabilities.drop=["ALL"]), "#,
            r#"runAsNonRoot != true (pod or container "runtime" must set securityContext.runAsNonRoot=true), "#,
            r#"seccompProfile (pod or container "runtime" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#
        )
    );
}

#[test]
fn warning_message_restricted_with_baseline_violations() {
    let (m, s) = pod(json!({"spec": {
        "hostNetwork": true,
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "nfd-worker", "image": "i", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}],
        "volumes": [{"name": "host-boot", "hostPath": {"path": "/boot"}}, {"name": "cfg", "configMap": {"name": "c"}}]
    }}));
    let v = check_pod(&R, &m, &s);
    assert_eq!(
        warning_message(&R, &v),
        r#"would violate PodSecurity "restricted:latest": host namespaces (hostNetwork=true), restricted volume types (volume "host-boot" uses restricted volume type "hostPath")"#
    );
}

// ---- admission decisions ---------------------------------------------------------------------

fn privileged_pod() -> (ObjectMeta, PodSpec) {
    pod(
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i", "securityContext": {"privileged": true}}]}}),
    )
}

fn plain_pod() -> (ObjectMeta, PodSpec) {
    pod(json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}))
}

#[test]
fn evaluate_pod_enforce_rejects() {
    let cfg = Config::ferrokube_default();
    let (m, s) = privileged_pod();
    let d = cfg.evaluate(
        "default",
        "alice",
        &BTreeMap::new(),
        &m,
        &s,
        Target::Pod { name: "p" },
    );
    assert!(!d.allowed);
    assert_eq!(
        d.forbidden_message.as_deref(),
        Some(
            r#"pods "p" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)"#
        )
    );
    assert!(d.warnings.is_empty(), "no warnings on a rejected request");
    assert_eq!(
        d.audit_annotations[ENFORCE_POLICY_ANNOTATION],
        "baseline:latest"
    );
    assert!(d.audit_annotations[AUDIT_VIOLATIONS_ANNOTATION].starts_with(
        r#"would violate PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true), allowPrivilegeEscalation != false"#
    ));
}

#[test]
fn evaluate_pod_warns() {
    let cfg = Config::ferrokube_default();
    let (m, s) = plain_pod();
    let d = cfg.evaluate(
        "default",
        "alice",
        &BTreeMap::new(),
        &m,
        &s,
        Target::Pod { name: "p" },
    );
    assert!(d.allowed);
    assert_eq!(d.forbidden_message, None);
    assert_eq!(d.warnings.len(), 1);
    assert!(d.warnings[0].starts_with(
        r#"would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false"#
    ));
    assert_eq!(
        d.audit_annotations[AUDIT_VIOLATIONS_ANNOTATION],
        d.warnings[0]
    );
    assert_eq!(
        d.audit_annotations[ENFORCE_POLICY_ANNOTATION],
        "baseline:latest"
    );
}

#[test]
fn evaluate_workload_never_enforces() {
    let cfg = Config::ferrokube_default();
    let deploy = json!({"metadata": {"name": "d"}, "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i", "securityContext": {"privileged": true}}]}}}});
    let (m, s) = pod_spec_of("apps", "deployments", &deploy)
        .unwrap()
        .unwrap();
    let d = cfg.evaluate(
        "default",
        "alice",
        &BTreeMap::new(),
        &m,
        &s,
        Target::Workload,
    );
    assert!(d.allowed);
    assert!(!d.audit_annotations.contains_key(ENFORCE_POLICY_ANNOTATION));
    assert_eq!(d.warnings.len(), 1);
    assert!(d.warnings[0].starts_with(r#"would violate PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true), "#));

    // audit and warn privileged: nothing to do
    let l = labels(&[("audit", "privileged"), ("warn", "privileged")]);
    assert_eq!(
        cfg.evaluate("default", "alice", &l, &m, &s, Target::Workload),
        Decision {
            allowed: true,
            ..Default::default()
        }
    );
}

#[test]
fn evaluate_exemptions_and_privileged() {
    let mut cfg = Config::ferrokube_default();
    cfg.exemptions.usernames.push("system:admin".into());
    cfg.exemptions.runtime_class_names.push("kata".into());
    let (m, s) = privileged_pod();
    let pod_target = Target::Pod { name: "p" };

    let d = cfg.evaluate("kube-system", "alice", &BTreeMap::new(), &m, &s, pod_target);
    assert!(d.allowed && d.warnings.is_empty());
    assert_eq!(d.audit_annotations[EXEMPT_ANNOTATION], "namespace");

    let d = cfg.evaluate(
        "default",
        "system:admin",
        &BTreeMap::new(),
        &m,
        &s,
        pod_target,
    );
    assert_eq!(d.audit_annotations[EXEMPT_ANNOTATION], "user");

    let mut s_kata = s.clone();
    s_kata.runtime_class_name = Some("kata".into());
    let d = cfg.evaluate(
        "default",
        "alice",
        &BTreeMap::new(),
        &m,
        &s_kata,
        pod_target,
    );
    assert!(d.allowed);
    assert_eq!(d.audit_annotations[EXEMPT_ANNOTATION], "runtimeClass");

    let all_privileged = labels(&[
        ("enforce", "privileged"),
        ("audit", "privileged"),
        ("warn", "privileged"),
    ]);
    let d = cfg.evaluate("default", "alice", &all_privileged, &m, &s, pod_target);
    assert!(d.allowed && d.warnings.is_empty());
    assert_eq!(d.audit_annotations.len(), 1);
    assert_eq!(
        d.audit_annotations[ENFORCE_POLICY_ANNOTATION],
        "privileged:latest"
    );

    let v1 = labels(&[
        ("enforce", "privileged"),
        ("enforce-version", "v1.20"),
        ("audit", "privileged"),
        ("warn", "privileged"),
    ]);
    let d = cfg.evaluate("default", "alice", &v1, &m, &s, pod_target);
    assert_eq!(
        d.audit_annotations[ENFORCE_POLICY_ANNOTATION], "privileged:latest",
        "upstream's shared response"
    );
}

#[test]
fn evaluate_with_bad_labels() {
    let cfg = Config::default();
    let (m, s) = plain_pod();
    // enforce fails closed to restricted
    let l = labels(&[("enforce", "bogus")]);
    let d = cfg.evaluate("ns", "u", &l, &m, &s, Target::Pod { name: "p" });
    assert!(!d.allowed);
    assert!(
        d.forbidden_message
            .unwrap()
            .starts_with(r#"pods "p" is forbidden: violates PodSecurity "restricted:latest": "#)
    );
    assert_eq!(
        d.audit_annotations[ERROR_ANNOTATION],
        r#"Failed to parse policy: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "bogus": must be one of privileged, baseline, restricted"#
    );
    assert_eq!(
        d.audit_annotations[ENFORCE_POLICY_ANNOTATION],
        "restricted:latest"
    );
}

#[test]
fn evaluate_versions() {
    let cfg = Config::default();
    // runAsUser=0 only violates restricted from v1.23
    let (m, s) = pod(json!({"metadata": {"name": "p"}, "spec": {
        "securityContext": {"runAsNonRoot": true, "runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "c", "image": "i", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]
    }}));
    let old = labels(&[("enforce", "restricted"), ("enforce-version", "v1.22")]);
    assert!(
        cfg.evaluate("ns", "u", &old, &m, &s, Target::Pod { name: "p" })
            .allowed
    );
    let new = labels(&[("enforce", "restricted"), ("enforce-version", "v1.23")]);
    let d = cfg.evaluate("ns", "u", &new, &m, &s, Target::Pod { name: "p" });
    assert_eq!(
        d.forbidden_message.as_deref(),
        Some(
            r#"pods "p" is forbidden: violates PodSecurity "restricted:v1.23": runAsUser=0 (pod must not set runAsUser=0)"#
        )
    );
}

// ---- namespaces ------------------------------------------------------------------------------

#[test]
fn namespace_create() {
    let cfg = Config::default();
    assert_eq!(
        cfg.validate_namespace("test", &labels(&[("enforce", "baseline")]), None),
        NamespaceDecision::Allow(vec![])
    );
    match cfg.validate_namespace("test", &labels(&[("enforce", "bogus")]), None) {
        NamespaceDecision::Invalid(errs) => assert_eq!(
            errs[0].detail,
            "must be one of privileged, baseline, restricted"
        ),
        other => panic!("{other:?}"),
    }
    // exempt namespace with a non-default policy
    let mut cfg = Config::default();
    cfg.exemptions.namespaces.push("test".into());
    assert_eq!(
        cfg.validate_namespace("test", &labels(&[("enforce", "restricted")]), None),
        NamespaceDecision::Allow(vec![
            r#"namespace "test" is exempt from Pod Security, and the policy (enforce=restricted:latest) will be ignored"#.into()
        ])
    );
    let l = labels(&[
        ("enforce", "restricted"),
        ("enforce-version", "v1.0"),
        ("audit", "restricted"),
        ("warn", "baseline"),
    ]);
    assert_eq!(
        cfg.validate_namespace("test", &l, None),
        NamespaceDecision::Allow(vec![
            r#"namespace "test" is exempt from Pod Security, and the policy (enforce=restricted:v1.0, audit=restricted:latest, warn=baseline:latest) will be ignored"#.into()
        ])
    );
    // privileged labels on an exempt namespace: no warning
    assert_eq!(
        cfg.validate_namespace("test", &labels(&[("enforce", "privileged")]), None),
        NamespaceDecision::Allow(vec![])
    );
}

#[test]
fn namespace_update() {
    let cfg = Config::default();
    let baseline = labels(&[("enforce", "baseline")]);
    let restricted = labels(&[("enforce", "restricted")]);
    // tightening asks for the existing pods
    assert_eq!(
        cfg.validate_namespace("test", &restricted, Some(&baseline)),
        NamespaceDecision::CheckExistingPods(R)
    );
    // relaxing, unchanged, or privileged do not
    assert_eq!(
        cfg.validate_namespace("test", &baseline, Some(&restricted)),
        NamespaceDecision::Allow(vec![])
    );
    assert_eq!(
        cfg.validate_namespace("test", &restricted, Some(&restricted)),
        NamespaceDecision::Allow(vec![])
    );
    assert_eq!(
        cfg.validate_namespace(
            "test",
            &labels(&[("enforce", "privileged")]),
            Some(&restricted)
        ),
        NamespaceDecision::Allow(vec![])
    );
    // a version change with a lower level still checks
    let b20 = labels(&[("enforce", "baseline"), ("enforce-version", "v1.20")]);
    assert_eq!(
        cfg.validate_namespace("test", &b20, Some(&restricted)),
        NamespaceDecision::CheckExistingPods(lv(Level::Baseline, Version::V(20)))
    );
    // new bad labels are rejected; bad labels that were already there are tolerated
    let bad = labels(&[("enforce", "bogus")]);
    assert!(matches!(
        cfg.validate_namespace("test", &bad, Some(&baseline)),
        NamespaceDecision::Invalid(_)
    ));
    assert_eq!(
        cfg.validate_namespace("test", &bad, Some(&bad)),
        NamespaceDecision::Allow(vec![])
    );
    let bad2 = labels(&[("enforce", "bogus2")]);
    assert!(matches!(
        cfg.validate_namespace("test", &bad2, Some(&bad)),
        NamespaceDecision::Invalid(_)
    ));
    // update to implicit (default) restricted
    let cfg_r = Config {
        defaults: NamespacePolicy {
            enforce: R,
            ..NamespacePolicy::PRIVILEGED
        },
        ..Config::default()
    };
    let old = labels(&[("enforce", "baseline"), ("enforce-version", "v1.0")]);
    assert_eq!(
        cfg_r.validate_namespace("test", &BTreeMap::new(), Some(&old)),
        NamespaceDecision::CheckExistingPods(R)
    );
}

fn pod_obj(v: Value) -> Pod {
    serde_json::from_value(v).unwrap()
}

#[test]
fn existing_pods() {
    let cfg = Config {
        exemptions: Exemptions {
            runtime_class_names: vec!["rc1".into()],
            ..Default::default()
        },
        ..Config::default()
    };
    let privileged = |name: &str, owner: Option<&str>, rc: Option<&str>| {
        let mut p = json!({"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "i", "securityContext": {"privileged": true}}]}});
        if let Some(uid) = owner {
            p["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": uid, "controller": true}]);
        }
        if let Some(rc) = rc {
            p["spec"]["runtimeClassName"] = json!(rc);
        }
        pod_obj(p)
    };
    let host_net = |name: &str| {
        pod_obj(
            json!({"metadata": {"name": name}, "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "i"}]}}),
        )
    };
    let fine = pod_obj(
        json!({"metadata": {"name": "fine"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}),
    );
    let pods = vec![
        privileged("zeta", None, None),
        privileged("exempt", None, Some("rc1")),
        host_net("hn"),
        privileged("alpha", Some("1"), None),
        privileged("beta", Some("1"), None),
        fine,
    ];
    assert_eq!(
        cfg.existing_pods_warnings("test", &B, &pods),
        [
            r#"existing pods in namespace "test" violate the new PodSecurity enforce level "baseline:latest""#,
            "alpha (and 2 other pods): privileged",
            "hn: host namespaces",
        ]
    );
    assert!(cfg.existing_pods_warnings("test", &B, &[]).is_empty());
    let two = vec![privileged("b", None, None), privileged("a", None, None)];
    assert_eq!(
        cfg.existing_pods_warnings("test", &B, &two)[1],
        "a (and 1 other pod): privileged"
    );
}

#[test]
fn existing_pods_limit() {
    let cfg = Config::default();
    let pods: Vec<Pod> = (0..NAMESPACE_MAX_PODS_TO_CHECK + 2)
        .map(|i| pod_obj(json!({"metadata": {"name": format!("p{i:05}")}, "spec": {"hostPID": true, "containers": [{"name": "c"}]}})))
        .collect();
    let w = cfg.existing_pods_warnings("test", &B, &pods);
    assert_eq!(
        w,
        [
            "new PodSecurity enforce level only checked against the first 3000 of 3002 existing pods",
            r#"existing pods in namespace "test" violate the new PodSecurity enforce level "baseline:latest""#,
            "p00000 (and 2999 other pods): host namespaces",
        ]
    );
}

#[test]
fn significant_pod_updates() {
    let spec = |v: Value| -> PodSpec { serde_json::from_value(v).unwrap() };
    let old = spec(
        json!({"containers": [{"name": "c", "image": "a"}], "initContainers": [{"name": "i", "image": "x"}]}),
    );
    assert!(!is_significant_pod_update(&old, &old));
    let mut labels_only = old.clone();
    labels_only.active_deadline_seconds = Some(5);
    assert!(!is_significant_pod_update(&labels_only, &old));
    let image = spec(
        json!({"containers": [{"name": "c", "image": "b"}], "initContainers": [{"name": "i", "image": "x"}]}),
    );
    assert!(is_significant_pod_update(&image, &old));
    let init_image = spec(
        json!({"containers": [{"name": "c", "image": "a"}], "initContainers": [{"name": "i", "image": "y"}]}),
    );
    assert!(is_significant_pod_update(&init_image, &old));
    let with_eph = spec(
        json!({"containers": [{"name": "c", "image": "a"}], "initContainers": [{"name": "i", "image": "x"}],
        "ephemeralContainers": [{"name": "dbg", "image": "busybox"}]}),
    );
    assert!(is_significant_pod_update(&with_eph, &old));
    assert!(!is_significant_pod_update(&with_eph, &with_eph));
    // unset and empty images are the same in Go
    let unset = spec(json!({"containers": [{"name": "c"}]}));
    let empty = spec(json!({"containers": [{"name": "c", "image": ""}]}));
    assert!(!is_significant_pod_update(&unset, &empty));
    assert!(IGNORED_POD_SUBRESOURCES.contains(&"status"));
    assert!(!IGNORED_POD_SUBRESOURCES.contains(&"ephemeralcontainers"));
}
