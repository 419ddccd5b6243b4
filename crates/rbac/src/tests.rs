//! Tests of the authorizer, the escalation check and aggregation.

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{
    AggregationRule, ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef,
    Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, LabelSelectorRequirement, ObjectMeta,
};

use crate::*;

// ---- fixtures ----

fn strings(items: &[&str]) -> Option<Vec<String>> {
    Some(items.iter().map(|s| s.to_string()).collect())
}

fn res_rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
    PolicyRule {
        verbs: verbs.iter().map(|s| s.to_string()).collect(),
        api_groups: strings(groups),
        resources: strings(resources),
        ..PolicyRule::default()
    }
}

fn named_rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> PolicyRule {
    PolicyRule {
        resource_names: strings(names),
        ..res_rule(verbs, groups, resources)
    }
}

fn url_rule(verbs: &[&str], urls: &[&str]) -> PolicyRule {
    PolicyRule {
        verbs: verbs.iter().map(|s| s.to_string()).collect(),
        non_resource_urls: strings(urls),
        ..PolicyRule::default()
    }
}

fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        ..ObjectMeta::default()
    }
}

fn cluster_role(name: &str, rules: Vec<PolicyRule>) -> ClusterRole {
    ClusterRole {
        metadata: meta(name, None),
        rules: Some(rules),
        aggregation_rule: None,
    }
}

fn role(ns: &str, name: &str, rules: Vec<PolicyRule>) -> Role {
    Role {
        metadata: meta(name, Some(ns)),
        rules: Some(rules),
    }
}

fn subject(kind: &str, name: &str, namespace: Option<&str>) -> Subject {
    Subject {
        api_group: if kind == "ServiceAccount" {
            None
        } else {
            Some(GROUP_NAME.to_string())
        },
        kind: kind.to_string(),
        name: name.to_string(),
        namespace: namespace.map(str::to_string),
    }
}

fn role_ref(kind: &str, name: &str) -> RoleRef {
    RoleRef {
        api_group: GROUP_NAME.to_string(),
        kind: kind.to_string(),
        name: name.to_string(),
    }
}

fn crb(name: &str, kind: &str, role: &str, subjects: Vec<Subject>) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: meta(name, None),
        role_ref: role_ref(kind, role),
        subjects: Some(subjects),
    }
}

fn rb(ns: &str, name: &str, kind: &str, role: &str, subjects: Vec<Subject>) -> RoleBinding {
    RoleBinding {
        metadata: meta(name, Some(ns)),
        role_ref: role_ref(kind, role),
        subjects: Some(subjects),
    }
}

fn fixture() -> StaticSource {
    StaticSource::new(
        [
            cluster_role(
                "pod-reader",
                vec![res_rule(&["get", "list", "watch"], &[""], &["pods"])],
            ),
            cluster_role(
                "secret-s1",
                vec![named_rule(
                    &[
                        "get",
                        "update",
                        "delete",
                        "list",
                        "create",
                        "watch",
                        "deletecollection",
                    ],
                    &[""],
                    &["secrets"],
                    &["s1"],
                )],
            ),
            cluster_role(
                "any-status",
                vec![res_rule(&["get"], &["*"], &["*/status"])],
            ),
            cluster_role("everything", vec![res_rule(&["*"], &["*"], &["*"])]),
            cluster_role(
                "metrics",
                vec![
                    url_rule(&["get"], &["/metrics", "/logs/*"]),
                    url_rule(&["*"], &["/debug"]),
                ],
            ),
            cluster_role("log-reader", vec![res_rule(&["get"], &[""], &["pods/log"])]),
        ],
        [
            crb(
                "alice-pods",
                "ClusterRole",
                "pod-reader",
                vec![subject("User", "alice", None)],
            ),
            crb(
                "monitors",
                "ClusterRole",
                "metrics",
                vec![subject("Group", "monitoring", None)],
            ),
            crb(
                "status-readers",
                "ClusterRole",
                "any-status",
                vec![subject("ServiceAccount", "watcher", Some("ops"))],
            ),
            // a ServiceAccount without a namespace never matches in a ClusterRoleBinding
            crb(
                "broken-sa",
                "ClusterRole",
                "everything",
                vec![subject("ServiceAccount", "builder", None)],
            ),
            crb(
                "dangling",
                "ClusterRole",
                "does-not-exist",
                vec![subject("User", "carol", None)],
            ),
            crb(
                "unsupported",
                "Mystery",
                "x",
                vec![subject("User", "dave", None)],
            ),
            // a ClusterRoleBinding cannot reference a Role
            crb(
                "role-ref",
                "Role",
                "deploy-editor",
                vec![subject("User", "erin", None)],
            ),
        ],
        [
            role(
                "ns1",
                "deploy-editor",
                vec![res_rule(&["create", "update"], &["apps"], &["deployments"])],
            ),
            role(
                "ns2",
                "deploy-editor",
                vec![res_rule(&["delete"], &["apps"], &["deployments"])],
            ),
        ],
        [
            rb(
                "ns1",
                "devs-secret",
                "ClusterRole",
                "secret-s1",
                vec![subject("Group", "devs", None)],
            ),
            // no namespace: the binding's namespace
            rb(
                "ns1",
                "builder",
                "Role",
                "deploy-editor",
                vec![subject("ServiceAccount", "builder", None)],
            ),
            rb(
                "ns2",
                "cross-ns-sa",
                "Role",
                "deploy-editor",
                vec![subject("ServiceAccount", "builder", Some("ns1"))],
            ),
            rb(
                "ns1",
                "frank-logs",
                "ClusterRole",
                "log-reader",
                vec![subject("User", "frank", None)],
            ),
            rb(
                "ns1",
                "missing-role",
                "Role",
                "nope",
                vec![subject("User", "gina", None)],
            ),
        ],
    )
}

#[allow(clippy::too_many_arguments)]
fn res(
    user: &str,
    groups: &[&str],
    verb: &str,
    ns: &str,
    group: &str,
    resource: &str,
    sub: &str,
    name: &str,
) -> Attributes {
    Attributes::for_resource(user, groups, verb, ns, group, resource, sub, name)
}

fn allowed(src: &StaticSource, a: &Attributes) -> bool {
    authorize(src, a).is_allowed()
}

// ---- authorizer ----

#[test]
fn cluster_role_binding_to_user_allows_everywhere() {
    let s = fixture();
    let d = authorize(&s, &res("alice", &[], "get", "ns1", "", "pods", "", "p"));
    assert_eq!(
        d,
        Decision::Allow(
            "RBAC: allowed by ClusterRoleBinding \"alice-pods\" of ClusterRole \"pod-reader\" to User \"alice\""
                .into()
        )
    );
    assert!(allowed(
        &s,
        &res("alice", &[], "list", "", "", "pods", "", "")
    ));
    assert!(allowed(
        &s,
        &res("alice", &[], "watch", "other", "", "pods", "", "")
    ));
    // other verbs, groups, resources, subresources, users
    assert!(!allowed(
        &s,
        &res("alice", &[], "delete", "ns1", "", "pods", "", "p")
    ));
    assert!(!allowed(
        &s,
        &res("alice", &[], "get", "ns1", "apps", "pods", "", "p")
    ));
    assert!(!allowed(
        &s,
        &res("alice", &[], "get", "ns1", "", "services", "", "p")
    ));
    assert!(!allowed(
        &s,
        &res("alice", &[], "get", "ns1", "", "pods", "log", "p")
    ));
    assert!(!allowed(
        &s,
        &res("alicia", &[], "get", "ns1", "", "pods", "", "p")
    ));
    // a user called like a group is not in it
    assert!(!allowed(
        &s,
        &res("devs", &[], "get", "ns1", "", "secrets", "", "s1")
    ));
    assert_eq!(
        authorize(&s, &res("alice", &[], "delete", "ns1", "", "pods", "", "p")),
        Decision::NoOpinion(String::new())
    );
}

#[test]
fn role_binding_of_cluster_role_is_namespaced_and_name_scoped() {
    let s = fixture();
    let d = authorize(
        &s,
        &res(
            "bob",
            &["devs", "system:authenticated"],
            "get",
            "ns1",
            "",
            "secrets",
            "",
            "s1",
        ),
    );
    assert_eq!(
        d.reason(),
        "RBAC: allowed by RoleBinding \"devs-secret/ns1\" of ClusterRole \"secret-s1\" to Group \"devs\""
    );
    assert!(allowed(
        &s,
        &res("bob", &["devs"], "update", "ns1", "", "secrets", "", "s1")
    ));
    assert!(allowed(
        &s,
        &res("bob", &["devs"], "delete", "ns1", "", "secrets", "", "s1")
    ));
    // other names, other namespaces, cluster-wide
    assert!(!allowed(
        &s,
        &res("bob", &["devs"], "get", "ns1", "", "secrets", "", "s2")
    ));
    assert!(!allowed(
        &s,
        &res("bob", &["devs"], "get", "ns2", "", "secrets", "", "s1")
    ));
    assert!(!allowed(
        &s,
        &res("bob", &["devs"], "get", "", "", "secrets", "", "s1")
    ));
    // requests without a name never match a rule with resourceNames
    for verb in ["list", "watch", "create", "deletecollection"] {
        assert!(
            !allowed(
                &s,
                &res("bob", &["devs"], verb, "ns1", "", "secrets", "", "")
            ),
            "{verb}"
        );
    }
    // a named watch does match
    assert!(allowed(
        &s,
        &res("bob", &["devs"], "watch", "ns1", "", "secrets", "", "s1")
    ));
}

#[test]
fn service_account_subjects() {
    let s = fixture();
    let sa = "system:serviceaccount:ns1:builder";
    let groups = [
        "system:serviceaccounts",
        "system:serviceaccounts:ns1",
        "system:authenticated",
    ];
    let d = authorize(
        &s,
        &res(sa, &groups, "create", "ns1", "apps", "deployments", "", ""),
    );
    assert_eq!(
        d.reason(),
        "RBAC: allowed by RoleBinding \"builder/ns1\" of Role \"deploy-editor\" to ServiceAccount \"builder/ns1\""
    );
    // the Role is resolved in the binding's namespace: ns2's deploy-editor only deletes
    let d = authorize(
        &s,
        &res(sa, &groups, "delete", "ns2", "apps", "deployments", "", "d"),
    );
    assert_eq!(
        d.reason(),
        "RBAC: allowed by RoleBinding \"cross-ns-sa/ns2\" of Role \"deploy-editor\" to ServiceAccount \"builder/ns1\""
    );
    assert!(!allowed(
        &s,
        &res(sa, &groups, "create", "ns2", "apps", "deployments", "", "")
    ));
    // same name in another namespace, or a look-alike user name
    assert!(!allowed(
        &s,
        &res(
            "system:serviceaccount:ns3:builder",
            &[],
            "create",
            "ns1",
            "apps",
            "deployments",
            "",
            ""
        )
    ));
    assert!(!allowed(
        &s,
        &res(
            "system:serviceaccount:ns1:builder2",
            &[],
            "create",
            "ns1",
            "apps",
            "deployments",
            "",
            ""
        )
    ));
    assert!(!allowed(
        &s,
        &res(
            "system:serviceaccount:ns1",
            &[],
            "create",
            "ns1",
            "apps",
            "deployments",
            "",
            ""
        )
    ));
    // other group
    assert!(!allowed(
        &s,
        &res(
            sa,
            &groups,
            "create",
            "ns1",
            "extensions",
            "deployments",
            "",
            ""
        )
    ));
    // the unqualified ServiceAccount subject of a ClusterRoleBinding matches nobody
    assert!(!allowed(
        &s,
        &res(sa, &groups, "get", "ns1", "", "nodes", "", "")
    ));
    // a ServiceAccount with a namespace in a ClusterRoleBinding applies everywhere
    let watcher = "system:serviceaccount:ops:watcher";
    let d = authorize(
        &s,
        &res(
            watcher,
            &[],
            "get",
            "ns9",
            "apps",
            "deployments",
            "status",
            "d",
        ),
    );
    assert_eq!(
        d.reason(),
        "RBAC: allowed by ClusterRoleBinding \"status-readers\" of ClusterRole \"any-status\" to ServiceAccount \"watcher/ops\""
    );
}

#[test]
fn wildcards_and_subresources() {
    let s = fixture();
    let w = "system:serviceaccount:ops:watcher";
    // */status: any resource's status subresource, in any group
    assert!(allowed(
        &s,
        &res(w, &[], "get", "", "", "nodes", "status", "n")
    ));
    assert!(allowed(
        &s,
        &res(w, &[], "get", "x", "batch", "jobs", "status", "j")
    ));
    assert!(!allowed(
        &s,
        &res(w, &[], "get", "x", "batch", "jobs", "", "j")
    ));
    assert!(!allowed(
        &s,
        &res(w, &[], "get", "x", "batch", "jobs", "statuses", "j")
    ));
    assert!(!allowed(
        &s,
        &res(w, &[], "update", "x", "batch", "jobs", "status", "j")
    ));
    // resource/subresource exact
    assert!(allowed(
        &s,
        &res("frank", &[], "get", "ns1", "", "pods", "log", "p")
    ));
    assert!(!allowed(
        &s,
        &res("frank", &[], "get", "ns1", "", "pods", "", "p")
    ));
    assert!(!allowed(
        &s,
        &res("frank", &[], "get", "ns1", "", "pods", "exec", "p")
    ));
    // everything via the bootstrap cluster-admin
    let b = StaticSource::with_bootstrap_policy();
    let d = authorize(
        &b,
        &res(
            "root",
            &["system:masters"],
            "escalate",
            "",
            "rbac.authorization.k8s.io",
            "clusterroles",
            "",
            "x",
        ),
    );
    assert_eq!(
        d.reason(),
        "RBAC: allowed by ClusterRoleBinding \"cluster-admin\" of ClusterRole \"cluster-admin\" to Group \"system:masters\""
    );
    assert!(allowed(
        &b,
        &res(
            "root",
            &["system:masters"],
            "get",
            "a",
            "x.io",
            "things",
            "scale",
            "t"
        )
    ));
    assert!(allowed(
        &b,
        &Attributes::for_path("root", &["system:masters"], "delete", "/anything/at/all")
    ));
}

#[test]
fn non_resource_urls() {
    let s = fixture();
    let m = |verb: &str, path: &str| {
        allowed(&s, &Attributes::for_path("u", &["monitoring"], verb, path))
    };
    assert!(m("get", "/metrics"));
    assert!(!m("get", "/metrics/extra"));
    assert!(!m("post", "/metrics"));
    assert!(m("get", "/logs/"));
    assert!(m("get", "/logs/kubelet/a.log"));
    assert!(!m("get", "/logs"));
    assert!(m("post", "/debug"));
    assert!(!m("get", "/debug/pprof"));
    let d = authorize(
        &s,
        &Attributes::for_path("u", &["monitoring"], "get", "/metrics"),
    );
    assert_eq!(
        d.reason(),
        "RBAC: allowed by ClusterRoleBinding \"monitors\" of ClusterRole \"metrics\" to Group \"monitoring\""
    );
    // a resource request never matches a URL rule, a URL request never a resource rule
    let mut a = res("u", &["monitoring"], "get", "", "", "metrics", "", "");
    a.path = "/metrics".into();
    assert!(!allowed(&s, &a));
    assert!(!allowed(
        &s,
        &Attributes::for_path("alice", &[], "get", "/api/v1/pods")
    ));

    // the bootstrap policy: public info for everyone, discovery for the authenticated
    let b = StaticSource::with_bootstrap_policy();
    let anon = |path: &str| {
        allowed(
            &b,
            &Attributes::for_path("system:anonymous", &["system:unauthenticated"], "get", path),
        )
    };
    assert!(anon("/healthz"));
    assert!(anon("/version"));
    assert!(anon("/version/"));
    assert!(!anon("/api"));
    assert!(!anon("/healthz/etcd"));
    assert!(!anon("/metrics"));
    let user = |path: &str| {
        allowed(
            &b,
            &Attributes::for_path("bob", &["system:authenticated"], "get", path),
        )
    };
    assert!(user("/api"));
    assert!(user("/apis/apps/v1"));
    assert!(user("/openapi/v3"));
    assert!(!user("/metrics"));
    assert!(!user("/logs"));
    let sa = |path: &str| {
        allowed(
            &b,
            &Attributes::for_path(
                "system:serviceaccount:a:b",
                &["system:serviceaccounts", "system:authenticated"],
                "get",
                path,
            ),
        )
    };
    assert!(sa("/openid/v1/jwks"));
    assert!(sa("/.well-known/openid-configuration"));
    let mon = |path: &str| {
        allowed(
            &b,
            &Attributes::for_path("prom", &["system:monitoring"], "get", path),
        )
    };
    assert!(mon("/metrics"));
    assert!(mon("/readyz/etcd"));
    assert!(!mon("/api"));
}

#[test]
fn unresolvable_roles_give_no_opinion_with_errors() {
    let s = fixture();
    assert_eq!(
        authorize(&s, &res("carol", &[], "get", "ns1", "", "pods", "", "p")),
        Decision::NoOpinion(
            "RBAC: clusterrole.rbac.authorization.k8s.io \"does-not-exist\" not found".into()
        )
    );
    assert_eq!(
        authorize(&s, &res("dave", &[], "get", "ns1", "", "pods", "", "p")),
        Decision::NoOpinion("RBAC: unsupported role reference kind: \"Mystery\"".into())
    );
    assert_eq!(
        authorize(
            &s,
            &res("erin", &[], "create", "ns1", "apps", "deployments", "", "")
        ),
        Decision::NoOpinion(
            "RBAC: role.rbac.authorization.k8s.io \"deploy-editor\" not found".into()
        )
    );
    assert_eq!(
        authorize(&s, &res("gina", &[], "get", "ns1", "", "pods", "", "")),
        Decision::NoOpinion("RBAC: role.rbac.authorization.k8s.io \"nope\" not found".into())
    );
    // several errors are aggregated; an allowing rule still allows
    let d = authorize(&s, &res("gina", &["x"], "get", "ns1", "", "pods", "", ""));
    assert_eq!(
        d.reason(),
        "RBAC: role.rbac.authorization.k8s.io \"nope\" not found"
    );
    let mut two = fixture();
    two.add_cluster_role_binding(crb(
        "dangling2",
        "ClusterRole",
        "gone",
        vec![subject("User", "gina", None)],
    ));
    let d = authorize(&two, &res("gina", &[], "get", "ns1", "", "pods", "", ""));
    assert_eq!(
        d.reason(),
        "RBAC: [clusterrole.rbac.authorization.k8s.io \"gone\" not found, role.rbac.authorization.k8s.io \"nope\" not found]"
    );
    two.add_cluster_role_binding(crb(
        "gina-pods",
        "ClusterRole",
        "pod-reader",
        vec![subject("User", "gina", None)],
    ));
    assert!(allowed(
        &two,
        &res("gina", &[], "get", "ns1", "", "pods", "", "")
    ));
}

#[test]
fn first_matching_subject_is_reported() {
    let mut s = fixture();
    s.add_cluster_role_binding(crb(
        "multi",
        "ClusterRole",
        "log-reader",
        vec![
            subject("User", "zed", None),
            subject("Group", "g1", None),
            subject("User", "hank", None),
        ],
    ));
    let d = authorize(
        &s,
        &res("hank", &["g1"], "get", "ns", "", "pods", "log", "p"),
    );
    assert_eq!(
        d.reason(),
        "RBAC: allowed by ClusterRoleBinding \"multi\" of ClusterRole \"log-reader\" to Group \"g1\""
    );
}

#[test]
fn rules_for_lists_resource_and_non_resource_rules() {
    let s = fixture();
    let groups: Vec<String> = vec!["devs".into(), "monitoring".into()];
    let (resource, non_resource) = rules_for(&s, "alice", &groups, "ns1");
    assert_eq!(
        resource,
        vec![
            res_rule(&["get", "list", "watch"], &[""], &["pods"]),
            named_rule(
                &[
                    "get",
                    "update",
                    "delete",
                    "list",
                    "create",
                    "watch",
                    "deletecollection"
                ],
                &[""],
                &["secrets"],
                &["s1"]
            ),
        ]
    );
    assert_eq!(
        non_resource,
        vec![
            url_rule(&["get"], &["/metrics", "/logs/*"]),
            url_rule(&["*"], &["/debug"])
        ]
    );
    // cluster-wide: no RoleBindings
    let (resource, _) = rules_for(&s, "alice", &groups, "");
    assert_eq!(resource.len(), 1);
    // errors are reported by resolve_rules
    let (rules, errors) = resolve_rules(&s, "gina", &[], "ns1");
    assert!(rules.is_empty());
    assert_eq!(errors, vec![ResolveError::RoleNotFound("nope".into())]);
    // a mixed rule lands in both lists, stripped
    let mixed = PolicyRule {
        non_resource_urls: strings(&["/x"]),
        ..res_rule(&["get"], &[""], &["pods"])
    };
    let m = StaticSource::new(
        [cluster_role("mixed", vec![mixed])],
        [crb(
            "m",
            "ClusterRole",
            "mixed",
            vec![subject("User", "u", None)],
        )],
        [],
        [],
    );
    let (r, n) = rules_for(&m, "u", &[], "");
    assert_eq!(r, vec![res_rule(&["get"], &[""], &["pods"])]);
    assert_eq!(n, vec![url_rule(&["get"], &["/x"])]);
}

#[test]
fn visiting_stops_when_asked() {
    let s = fixture();
    let mut seen = 0;
    visit_rules_for(
        &s,
        "bob",
        &["devs".to_string(), "monitoring".to_string()],
        "ns1",
        |_| {
            seen += 1;
            false
        },
    );
    assert_eq!(seen, 1);
    let mut origins = Vec::new();
    visit_rules_for(
        &s,
        "bob",
        &["devs".to_string(), "monitoring".to_string()],
        "ns1",
        |v| {
            if let RuleVisit::Rule(origin, _) = v {
                origins.push(origin.to_string());
            }
            true
        },
    );
    assert_eq!(
        origins,
        vec![
            "ClusterRoleBinding \"monitors\" of ClusterRole \"metrics\" to Group \"monitoring\"",
            "ClusterRoleBinding \"monitors\" of ClusterRole \"metrics\" to Group \"monitoring\"",
            "RoleBinding \"devs-secret/ns1\" of ClusterRole \"secret-s1\" to Group \"devs\"",
        ]
    );
}

#[test]
fn role_ref_rules_resolve_like_bindings() {
    let s = fixture();
    assert_eq!(
        role_ref_rules(&s, &role_ref("Role", "deploy-editor"), "ns2").unwrap(),
        vec![res_rule(&["delete"], &["apps"], &["deployments"])]
    );
    assert_eq!(
        role_ref_rules(&s, &role_ref("Role", "deploy-editor"), ""),
        Err(ResolveError::RoleNotFound("deploy-editor".into()))
    );
    assert_eq!(
        role_ref_rules(&s, &role_ref("ClusterRole", "x"), "")
            .unwrap_err()
            .to_string(),
        "clusterrole.rbac.authorization.k8s.io \"x\" not found"
    );
}

// ---- covers and escalation ----

#[test]
fn covers_exact_and_wildcards() {
    let owner = vec![res_rule(&["get", "list"], &[""], &["pods", "services"])];
    assert_eq!(
        covers(&owner, &[res_rule(&["get"], &[""], &["pods"])]),
        (true, vec![])
    );
    assert!(
        covers(
            &owner,
            &[res_rule(&["list", "get"], &[""], &["services", "pods"])]
        )
        .0
    );
    let (ok, missing) = covers(
        &owner,
        &[res_rule(&["get", "delete"], &["", "apps"], &["pods"])],
    );
    assert!(!ok);
    assert_eq!(
        missing,
        vec![
            res_rule(&["delete"], &[""], &["pods"]),
            res_rule(&["get"], &["apps"], &["pods"]),
            res_rule(&["delete"], &["apps"], &["pods"]),
        ]
    );
    // stars
    let star = vec![res_rule(&["*"], &["*"], &["*"])];
    assert!(
        covers(
            &star,
            &[res_rule(
                &["escalate"],
                &["rbac.authorization.k8s.io"],
                &["roles"]
            )]
        )
        .0
    );
    assert!(covers(&star, &[named_rule(&["get"], &["x"], &["y/z"], &["n"])]).0);
    // a star in the request is only covered by a star
    assert!(!covers(&owner, &[res_rule(&["*"], &[""], &["pods"])]).0);
    assert!(!covers(&owner, &[res_rule(&["get"], &["*"], &["pods"])]).0);
    assert!(!covers(&owner, &[res_rule(&["get"], &[""], &["*"])]).0);
    assert!(
        covers(
            &[res_rule(&["*"], &[""], &["pods"])],
            &[res_rule(&["*"], &[""], &["pods"])]
        )
        .0
    );
    // URL rules are not covered by resource stars, only by URL rules
    assert!(!covers(&star, &[url_rule(&["get"], &["/healthz"])]).0);
    assert!(
        covers(
            &[url_rule(&["*"], &["*"])],
            &[url_rule(&["get"], &["/healthz"])]
        )
        .0
    );
}

#[test]
fn covers_subresources() {
    let owner = vec![res_rule(&["get"], &[""], &["*/status", "pods/log"])];
    assert!(
        covers(
            &owner,
            &[res_rule(&["get"], &[""], &["nodes/status", "pods/status"])]
        )
        .0
    );
    assert!(covers(&owner, &[res_rule(&["get"], &[""], &["pods/log"])]).0);
    assert!(!covers(&owner, &[res_rule(&["get"], &[""], &["pods"])]).0);
    assert!(!covers(&owner, &[res_rule(&["get"], &[""], &["pods/exec"])]).0);
    // a resource does not cover its subresources
    assert!(
        !covers(
            &[res_rule(&["get"], &[""], &["pods"])],
            &[res_rule(&["get"], &[""], &["pods/log"])]
        )
        .0
    );
}

#[test]
fn covers_resource_names() {
    let unnamed = vec![res_rule(&["get"], &[""], &["secrets"])];
    let named = vec![named_rule(&["get"], &[""], &["secrets"], &["a", "b"])];
    // no names covers any names
    assert!(
        covers(
            &unnamed,
            &[named_rule(&["get"], &[""], &["secrets"], &["a", "z"])]
        )
        .0
    );
    // names cover only those names, and never the unnamed rule
    assert!(
        covers(
            &named,
            &[named_rule(&["get"], &[""], &["secrets"], &["b", "a"])]
        )
        .0
    );
    assert!(!covers(&named, &[res_rule(&["get"], &[""], &["secrets"])]).0);
    let (ok, missing) = covers(
        &named,
        &[named_rule(&["get"], &[""], &["secrets"], &["a", "c"])],
    );
    assert!(!ok);
    assert_eq!(
        missing,
        vec![named_rule(&["get"], &[""], &["secrets"], &["c"])]
    );
}

#[test]
fn covers_non_resource_urls() {
    let owner = vec![url_rule(&["get"], &["/healthz", "/logs/*"])];
    assert!(
        covers(
            &owner,
            &[url_rule(&["get"], &["/healthz", "/logs/a", "/logs/*"])]
        )
        .0
    );
    let (ok, missing) = covers(
        &owner,
        &[url_rule(&["get", "post"], &["/healthz/etcd", "/logs/x"])],
    );
    assert!(!ok);
    assert_eq!(
        missing,
        vec![
            url_rule(&["get"], &["/healthz/etcd"]),
            url_rule(&["post"], &["/healthz/etcd"]),
            url_rule(&["post"], &["/logs/x"]),
        ]
    );
    // the bootstrap cluster-admin covers every bootstrap role
    let roles = bootstrap_cluster_roles();
    let admin = roles
        .iter()
        .find(|r| r.metadata.name.as_deref() == Some("cluster-admin"))
        .unwrap();
    for r in &roles {
        assert!(
            covers(
                admin.rules.as_ref().unwrap(),
                r.rules.as_deref().unwrap_or(&[])
            )
            .0
        );
    }
}

#[test]
fn breakdown_of_rules_without_groups_is_empty() {
    // upstream quirk: a resource rule without apiGroups grants nothing and needs nothing
    let rule = PolicyRule {
        verbs: vec!["get".into()],
        resources: strings(&["pods"]),
        ..PolicyRule::default()
    };
    assert!(breakdown_rule(&rule).is_empty());
    assert!(covers(&[], &[rule]).0);
}

fn g(groups: &[&str]) -> Vec<String> {
    groups.iter().map(|s| s.to_string()).collect()
}

#[test]
fn escalation_message_matches_upstream() {
    let groups = g(&["g", "system:authenticated"]);
    let msg = confirm_no_escalation_message(
        "u",
        &groups,
        &[],
        &[res_rule(&["get"], &[""], &["pods"])],
        &[],
    );
    assert_eq!(
        msg.as_deref(),
        Some(
            "user \"u\" (groups=[\"g\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n\
             {APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"get\"]}"
        )
    );
    // verbs of one resource are compacted (in request order), lines sorted and de-duplicated
    let owner = vec![res_rule(&["get"], &[""], &["configmaps"])];
    let requested = vec![
        res_rule(
            &["watch", "list"],
            &["apps", ""],
            &["deployments", "configmaps"],
        ),
        named_rule(&["get"], &[""], &["secrets"], &["s2", "s1"]),
        url_rule(&["get"], &["/metrics"]),
        res_rule(&["list"], &["apps"], &["deployments"]),
    ];
    let msg = confirm_no_escalation_message(
        "jane",
        &g(&["system:authenticated"]),
        &owner,
        &requested,
        &[],
    )
    .unwrap();
    assert_eq!(
        msg,
        "user \"jane\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n\
         {APIGroups:[\"\"], Resources:[\"configmaps\"], Verbs:[\"watch\" \"list\"]}\n\
         {APIGroups:[\"\"], Resources:[\"deployments\"], Verbs:[\"watch\" \"list\"]}\n\
         {APIGroups:[\"\"], Resources:[\"secrets\"], ResourceNames:[\"s1\"], Verbs:[\"get\"]}\n\
         {APIGroups:[\"\"], Resources:[\"secrets\"], ResourceNames:[\"s2\"], Verbs:[\"get\"]}\n\
         {APIGroups:[\"apps\"], Resources:[\"configmaps\"], Verbs:[\"watch\" \"list\"]}\n\
         {APIGroups:[\"apps\"], Resources:[\"deployments\"], Verbs:[\"watch\" \"list\" \"list\"]}\n\
         {NonResourceURLs:[\"/metrics\"], Verbs:[\"get\"]}"
    );
    // nothing missing, nothing to say
    assert_eq!(
        confirm_no_escalation_message(
            "u",
            &[],
            &owner,
            &[res_rule(&["get"], &[""], &["configmaps"])],
            &[]
        ),
        None
    );
    // no groups, and resolution errors
    let msg = confirm_no_escalation_message(
        "u",
        &[],
        &[],
        &[url_rule(&["get"], &["/x"])],
        &[ResolveError::ClusterRoleNotFound("r".into())],
    )
    .unwrap();
    assert_eq!(
        msg,
        "user \"u\" (groups=[]) is attempting to grant RBAC permissions not currently held:\n\
         {NonResourceURLs:[\"/x\"], Verbs:[\"get\"]}; resolution errors: [clusterrole.rbac.authorization.k8s.io \"r\" not found]"
    );
}

#[test]
fn confirm_no_escalation_uses_the_users_rules_in_the_namespace() {
    let s = fixture();
    let devs = g(&["devs"]);
    // bob holds secret s1 in ns1 only
    assert_eq!(
        confirm_no_escalation(
            &s,
            "bob",
            &devs,
            "ns1",
            &[named_rule(&["get", "update"], &[""], &["secrets"], &["s1"])]
        ),
        Ok(())
    );
    let err = confirm_no_escalation(
        &s,
        "bob",
        &devs,
        "ns2",
        &[named_rule(&["get"], &[""], &["secrets"], &["s1"])],
    )
    .unwrap_err();
    assert_eq!(
        err,
        "user \"bob\" (groups=[\"devs\"]) is attempting to grant RBAC permissions not currently held:\n\
         {APIGroups:[\"\"], Resources:[\"secrets\"], ResourceNames:[\"s1\"], Verbs:[\"get\"]}"
    );
    // resolution errors of the user's own bindings are appended
    let err = confirm_no_escalation(
        &s,
        "gina",
        &[],
        "ns1",
        &[res_rule(&["get"], &[""], &["pods"])],
    )
    .unwrap_err();
    assert!(
        err.ends_with("; resolution errors: [role.rbac.authorization.k8s.io \"nope\" not found]"),
        "{err}"
    );
    // system:masters skips the check; escalate and bind are ordinary requests
    assert!(escalation_allowed(&g(&[
        "system:authenticated",
        "system:masters"
    ])));
    assert!(!escalation_allowed(&devs));
    let a = escalate_attributes("bob", &devs, "roles", "ns1", "r");
    assert_eq!(
        (a.verb.as_str(), a.api_group.as_str(), a.resource.as_str()),
        ("escalate", "rbac.authorization.k8s.io", "roles")
    );
    let b = bind_attributes("bob", &devs, &role_ref("ClusterRole", "admin"), "ns1").unwrap();
    assert_eq!(
        (
            b.verb.as_str(),
            b.namespace.as_str(),
            b.resource.as_str(),
            b.name.as_str()
        ),
        ("bind", "ns1", "clusterroles", "admin")
    );
    assert!(bind_attributes("bob", &devs, &role_ref("Other", "x"), "ns1").is_none());
    // a user allowed to bind `admin` in ns1 by a rule naming it
    let mut s2 = fixture();
    s2.add_cluster_role(cluster_role(
        "binder",
        vec![named_rule(
            &["bind"],
            &["rbac.authorization.k8s.io"],
            &["clusterroles"],
            &["admin"],
        )],
    ));
    s2.add_role_binding(rb(
        "ns1",
        "bob-binder",
        "ClusterRole",
        "binder",
        vec![subject("User", "bob", None)],
    ));
    assert!(authorize(&s2, &b).is_allowed());
    let b2 = bind_attributes("bob", &devs, &role_ref("ClusterRole", "admin"), "ns2").unwrap();
    assert!(!authorize(&s2, &b2).is_allowed());
}

#[test]
fn compact_rules_merges_simple_rules_only() {
    let rules = vec![
        res_rule(&["get"], &[""], &["pods"]),
        url_rule(&["get"], &["/a"]),
        res_rule(&["list"], &[""], &["pods"]),
        named_rule(&["get"], &[""], &["pods"], &["p"]),
        res_rule(&["get"], &["", "apps"], &["pods"]),
    ];
    let compact = compact_rules(&rules);
    assert_eq!(
        compact,
        vec![
            url_rule(&["get"], &["/a"]),
            res_rule(&["get"], &["", "apps"], &["pods"]),
            res_rule(&["get", "list"], &[""], &["pods"]),
            named_rule(&["get"], &[""], &["pods"], &["p"]),
        ]
    );
    assert_eq!(
        compact_string(&named_rule(
            &["get", "list"],
            &["", "apps"],
            &["a", "b/c"],
            &["x"]
        )),
        "{APIGroups:[\"\" \"apps\"], Resources:[\"a\" \"b/c\"], ResourceNames:[\"x\"], Verbs:[\"get\" \"list\"]}"
    );
}

// ---- aggregation ----

fn labels(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

#[test]
fn selectors_match_like_upstream() {
    let l = labels(&[("a", "1"), ("b", "2")]);
    let sel = |ml: &[(&str, &str)], exprs: Vec<(&str, &str, &[&str])>| LabelSelector {
        match_labels: if ml.is_empty() { None } else { labels(ml) },
        match_expressions: Some(
            exprs
                .into_iter()
                .map(|(k, op, vals)| LabelSelectorRequirement {
                    key: k.into(),
                    operator: op.into(),
                    values: if vals.is_empty() { None } else { strings(vals) },
                })
                .collect(),
        ),
    };
    assert_eq!(selector_matches(&sel(&[], vec![]), l.as_ref()), Some(true));
    assert_eq!(selector_matches(&sel(&[], vec![]), None), Some(true));
    assert_eq!(
        selector_matches(&sel(&[("a", "1")], vec![]), l.as_ref()),
        Some(true)
    );
    assert_eq!(
        selector_matches(&sel(&[("a", "2")], vec![]), l.as_ref()),
        Some(false)
    );
    assert_eq!(
        selector_matches(&sel(&[], vec![("a", "In", &["1", "3"])]), l.as_ref()),
        Some(true)
    );
    assert_eq!(
        selector_matches(&sel(&[], vec![("c", "NotIn", &["1"])]), l.as_ref()),
        Some(true)
    );
    assert_eq!(
        selector_matches(&sel(&[], vec![("a", "NotIn", &["1"])]), l.as_ref()),
        Some(false)
    );
    assert_eq!(
        selector_matches(&sel(&[], vec![("b", "Exists", &[])]), l.as_ref()),
        Some(true)
    );
    assert_eq!(
        selector_matches(&sel(&[], vec![("b", "DoesNotExist", &[])]), l.as_ref()),
        Some(false)
    );
    assert_eq!(
        selector_matches(&sel(&[], vec![("b", "In", &[])]), l.as_ref()),
        None
    );
    assert_eq!(
        selector_matches(&sel(&[], vec![("b", "Exists", &["x"])]), l.as_ref()),
        None
    );
    assert_eq!(
        selector_matches(&sel(&[], vec![("b", "Gt", &["1"])]), l.as_ref()),
        None
    );
}

fn labelled_role(name: &str, l: &[(&str, &str)], rules: Vec<PolicyRule>) -> ClusterRole {
    let mut r = cluster_role(name, rules);
    r.metadata.labels = labels(l);
    r
}

fn aggregating(name: &str, selectors: &[&[(&str, &str)]]) -> ClusterRole {
    ClusterRole {
        metadata: meta(name, None),
        rules: None,
        aggregation_rule: Some(AggregationRule {
            cluster_role_selectors: Some(
                selectors
                    .iter()
                    .map(|ml| LabelSelector {
                        match_labels: labels(ml),
                        match_expressions: None,
                    })
                    .collect(),
            ),
        }),
    }
}

#[test]
fn aggregate_unions_by_selector_then_name_without_duplicates() {
    let r1 = res_rule(&["get"], &[""], &["pods"]);
    let r2 = res_rule(&["list"], &[""], &["pods"]);
    let r3 = url_rule(&["get"], &["/x"]);
    let all = vec![
        labelled_role("zz", &[("agg", "a")], vec![r1.clone(), r2.clone()]),
        labelled_role("aa", &[("agg", "a")], vec![r2.clone()]),
        labelled_role("mm", &[("other", "b")], vec![r3.clone(), r1.clone()]),
        labelled_role("self", &[("agg", "a")], vec![]),
        labelled_role("unrelated", &[], vec![res_rule(&["*"], &["*"], &["*"])]),
    ];
    let mut agg = aggregating("self", &[&[("agg", "a")], &[("other", "b")]]);
    agg.metadata.labels = labels(&[("agg", "a")]);
    // selector 1: aa, zz (by name) → r2, r1; selector 2: mm → r3 (r1 already present)
    assert_eq!(
        aggregate(&agg, &all),
        Some(vec![r2.clone(), r1.clone(), r3.clone()])
    );
    // not an aggregated role
    assert_eq!(aggregate(&all[0], &all), None);
    // no selectors: no rules
    let empty = ClusterRole {
        aggregation_rule: Some(AggregationRule {
            cluster_role_selectors: None,
        }),
        ..cluster_role("e", vec![])
    };
    assert_eq!(aggregate(&empty, &all), Some(vec![]));
    // an invalid selector leaves the role alone
    let mut bad = aggregating("bad", &[&[("agg", "a")]]);
    bad.aggregation_rule
        .as_mut()
        .unwrap()
        .cluster_role_selectors
        .as_mut()
        .unwrap()[0]
        .match_expressions = Some(vec![LabelSelectorRequirement {
        key: "k".into(),
        operator: "Bogus".into(),
        values: None,
    }]);
    assert_eq!(aggregate(&bad, &all), None);
    // an absent list equals an empty one when de-duplicating
    let a = PolicyRule {
        resource_names: Some(vec![]),
        ..r1.clone()
    };
    let all2 = vec![
        labelled_role("x1", &[("agg", "a")], vec![r1.clone()]),
        labelled_role("x2", &[("agg", "a")], vec![a]),
    ];
    assert_eq!(
        aggregate(&aggregating("y", &[&[("agg", "a")]]), &all2),
        Some(vec![r1])
    );
}

fn find<'a>(roles: &'a [ClusterRole], name: &str) -> &'a ClusterRole {
    roles
        .iter()
        .find(|r| r.metadata.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn bootstrap_aggregation_of_admin_edit_view() {
    let mut roles = bootstrap_cluster_roles();
    let changed = aggregate_all(&mut roles);
    assert_eq!(changed, vec!["admin", "edit", "view"]);
    let rules = |n: &str| find(&roles, n).rules.clone().unwrap_or_default();
    let (to_admin, to_edit, to_view) = (
        rules("system:aggregate-to-admin"),
        rules("system:aggregate-to-edit"),
        rules("system:aggregate-to-view"),
    );
    // the controller's order: edit = to-edit, view; admin = edit, to-admin
    let view = rules("view");
    let edit = rules("edit");
    let admin = rules("admin");
    assert_eq!(view, to_view);
    assert_eq!(edit, [to_edit.clone(), to_view.clone()].concat());
    assert_eq!(admin, [to_edit, to_view, to_admin].concat());
    assert_eq!((view.len(), edit.len(), admin.len()), (10, 23, 25));
    // a second run changes nothing
    assert!(aggregate_all(&mut roles).is_empty());

    // what the roles allow when bound in a namespace
    let mut s = StaticSource::with_bootstrap_policy();
    for (who, role) in [("v", "view"), ("e", "edit"), ("a", "admin")] {
        s.add_role_binding(rb(
            "team",
            who,
            "ClusterRole",
            role,
            vec![subject("User", who, None)],
        ));
    }
    let can = |who: &str, verb: &str, group: &str, resource: &str, sub: &str| {
        allowed(
            &s,
            &res(
                who,
                &["system:authenticated"],
                verb,
                "team",
                group,
                resource,
                sub,
                "x",
            ),
        )
    };
    assert!(can("e", "create", "apps", "deployments", ""));
    assert!(can("e", "patch", "apps", "deployments", "scale"));
    assert!(can("e", "get", "", "secrets", ""));
    assert!(can("e", "create", "", "pods", "exec"));
    assert!(can("e", "impersonate", "", "serviceaccounts", ""));
    assert!(!can(
        "e",
        "create",
        "rbac.authorization.k8s.io",
        "rolebindings",
        ""
    ));
    assert!(!can("e", "update", "", "resourcequotas", ""));
    assert!(can("v", "get", "", "pods", ""));
    assert!(can("v", "list", "apps", "deployments", ""));
    assert!(can("v", "get", "", "pods", "log"));
    assert!(!can("v", "get", "", "secrets", ""));
    assert!(!can("v", "create", "apps", "deployments", ""));
    assert!(!can("v", "create", "", "pods", "exec"));
    assert!(can(
        "a",
        "create",
        "rbac.authorization.k8s.io",
        "rolebindings",
        ""
    ));
    assert!(can(
        "a",
        "create",
        "authorization.k8s.io",
        "localsubjectaccessreviews",
        ""
    ));
    assert!(can("a", "delete", "", "secrets", ""));
    assert!(!can(
        "a",
        "create",
        "rbac.authorization.k8s.io",
        "clusterroles",
        ""
    ));
    // only inside the bound namespace
    assert!(!allowed(
        &s,
        &res("a", &[], "get", "elsewhere", "", "pods", "", "x")
    ));
    // and edit/admin rules are covered by admin, but not the other way round
    assert!(covers(&admin, &edit).0);
    assert!(!covers(&edit, &admin).0);
    assert!(!covers(&view, &edit).0);
}

#[test]
fn cluster_role_writes_and_aggregation_rules() {
    let mut s = fixture();
    s.add_cluster_role(cluster_role(
        "pods-all",
        vec![res_rule(&["*"], &[""], &["pods"])],
    ));
    s.add_cluster_role_binding(crb(
        "ivy",
        "ClusterRole",
        "pods-all",
        vec![subject("User", "ivy", None)],
    ));
    let ivy = |new: &ClusterRole, old: Option<&ClusterRole>| {
        confirm_cluster_role_write(&s, "ivy", &[], new, old)
    };

    let plain = cluster_role("r", vec![res_rule(&["get"], &[""], &["pods"])]);
    assert_eq!(ivy(&plain, None), Ok(()));
    let too_much = cluster_role("r", vec![res_rule(&["get"], &[""], &["secrets"])]);
    assert_eq!(
        ivy(&too_much, None),
        Err("user \"ivy\" (groups=[]) is attempting to grant RBAC permissions not currently held:\n\
             {APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\"]}"
            .to_string())
    );
    // setting, keeping or removing an aggregation rule needs cluster-admin
    let agg = aggregating("r", &[&[("a", "b")]]);
    assert_eq!(ivy(&agg, None), Err(AGGREGATION_RULE_FORBIDDEN.to_string()));
    assert_eq!(
        ivy(&plain, Some(&agg)),
        Err(AGGREGATION_RULE_FORBIDDEN.to_string())
    );
    assert!(has_aggregation_rule(&agg));
    assert!(!has_aggregation_rule(&ClusterRole {
        aggregation_rule: Some(AggregationRule {
            cluster_role_selectors: Some(vec![])
        }),
        ..plain.clone()
    }));
    // ...unless only garbage-collection fields change
    let mut finalized = too_much.clone();
    finalized.metadata.finalizers = Some(vec!["x".into()]);
    assert_eq!(ivy(&finalized, Some(&too_much)), Ok(()));
    let mut relabelled = finalized.clone();
    relabelled.metadata.labels = labels(&[("k", "v")]);
    assert!(ivy(&relabelled, Some(&too_much)).is_err());
    assert!(is_only_mutating_gc_fields(&finalized, &too_much));
    assert!(!is_only_mutating_gc_fields(&relabelled, &too_much));
    // cluster-admin may do it all
    let b = StaticSource::with_bootstrap_policy();
    let root = g(&["system:masters"]);
    assert_eq!(
        confirm_cluster_role_write(&b, "root", &root, &agg, None),
        Ok(())
    );
    assert!(
        covers(
            &find(&bootstrap_cluster_roles(), "cluster-admin")
                .rules
                .clone()
                .unwrap(),
            &full_authority()
        )
        .0
    );
}
