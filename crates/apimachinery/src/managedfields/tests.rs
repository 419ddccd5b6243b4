//! Scenario tests against the built-in OpenAPI schema: exact objects and managedFields.

use std::sync::OnceLock;

use serde_json::{Value, json};

use super::*;

/// The built-in types' schemas as ferrokube serves them (`/openapi/v2`, saved as test data).
fn builtin() -> &'static SchemaSet {
    static SET: OnceLock<SchemaSet> = OnceLock::new();
    SET.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/builtin-openapi-v2.json");
        let text = std::fs::read_to_string(path).expect("openapi document");
        let doc: Value = serde_json::from_str(&text).expect("json");
        SchemaSet::from_definitions(doc["definitions"].as_object().expect("definitions"))
    })
}

fn shape(name: &str) -> Shape {
    Shape::Named(name.into())
}

const DEPLOY: &str = "io.k8s.api.apps.v1.Deployment";
const CM: &str = "io.k8s.api.core.v1.ConfigMap";
const T1: &str = "2024-05-01T10:00:00Z";
const T2: &str = "2024-05-01T10:00:05Z";
const T3: &str = "2024-05-01T10:00:09Z";

fn m<'a>(name: &'a str, api_version: &'a str, time: &'a str) -> Manager<'a> {
    Manager::new(name, api_version, time)
}

fn apply_cm(live: Option<&Value>, cfg: Value, name: &str, time: &str, force: bool) -> Result<Value, Error> {
    apply(live, &cfg, &m(name, "v1", time), force, builtin(), &shape(CM))
}

fn apply_deploy(live: Option<&Value>, cfg: &Value, name: &str, time: &str, force: bool) -> Result<Value, Error> {
    apply(live, cfg, &m(name, "apps/v1", time), force, builtin(), &shape(DEPLOY))
}

fn entry(manager: &str, op: &str, api_version: &str, time: Option<&str>, fields: Value) -> Value {
    let mut e = json!({"manager": manager, "operation": op, "apiVersion": api_version, "fieldsType": "FieldsV1", "fieldsV1": fields});
    if let Some(t) = time {
        e["time"] = json!(t);
    }
    e
}

fn managed(obj: &Value) -> Value {
    obj["metadata"]["managedFields"].clone()
}

/// Stores `obj` as the apiserver would: with a uid (so it counts as existing).
fn stored(mut obj: Value) -> Value {
    obj["metadata"]["uid"] = json!("0b5b5a4e-1111-2222-3333-444444444444");
    obj
}

fn conflicts(r: Result<Value, Error>) -> Error {
    match r {
        Err(e @ Error::Conflicts(_)) => e,
        other => panic!("expected conflicts, got {other:?}"),
    }
}

fn nginx_deployment() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "nginx", "namespace": "default", "labels": {"app": "nginx"}, "annotations": {"team": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {
                    "containers": [{
                        "name": "nginx", "image": "nginx:1.25",
                        "ports": [{"containerPort": 80}],
                        "env": [{"name": "MODE", "value": "prod"}],
                        "resources": {"limits": {"cpu": "500m"}}
                    }],
                    "tolerations": [{"key": "k", "operator": "Exists"}]
                }
            }
        }
    })
}

#[test]
fn deployment_apply_records_kubectl_server_side_fields_v1() {
    let cfg = nginx_deployment();
    let out = apply_deploy(None, &cfg, "kubectl", T1, false).unwrap();
    // Constructed by hand from upstream's rules: the LabelSelector is atomic, list-map items are
    // keyed (ports with the defaulted protocol key) and carry ".", tolerations is an atomic list,
    // metadata name/namespace and apiVersion/kind are stripped.
    let expected_text = concat!(
        r#"{"f:metadata":{"f:annotations":{"f:team":{}},"f:labels":{"f:app":{}}},"#,
        r#""f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"#,
        r#""f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:env":{"k:{\"name\":\"MODE\"}":{".":{},"f:name":{},"f:value":{}}},"#,
        r#""f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}},"#,
        r#""f:resources":{"f:limits":{"f:cpu":{}}}}},"f:tolerations":{}}}}}"#
    );
    let expected: Value = serde_json::from_str(expected_text).unwrap();
    assert_eq!(managed(&out), json!([entry("kubectl", "Apply", "apps/v1", Some(T1), expected.clone())]));
    let set = FieldSet::from_fields_v1(&expected).unwrap();
    assert_eq!(set.to_json_string(), expected_text);
    // the object is the configuration (defaulting is the caller's)
    let mut obj = out.clone();
    obj["metadata"].as_object_mut().unwrap().remove("managedFields");
    assert_eq!(obj, cfg);
    // re-applying the same configuration changes nothing, not even the time
    let again = apply_deploy(Some(&stored(out.clone())), &cfg, "kubectl", T2, false).unwrap();
    assert_eq!(managed(&again), managed(&out));
}

#[test]
fn reapply_without_a_field_removes_it() {
    let out = apply_cm(None, json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}}), "mgr", T1, false)
        .unwrap();
    let out = apply_cm(Some(&stored(out)), json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}), "mgr", T2, false)
        .unwrap();
    assert_eq!(out["data"], json!({"a": "1"}));
    assert_eq!(managed(&out), json!([entry("mgr", "Apply", "v1", Some(T2), json!({"f:data": {"f:a": {}}}))]));
    // dropping the last key removes the map itself
    let out = apply_cm(Some(&stored(out)), json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}), "mgr", T3, false).unwrap();
    assert!(out.get("data").is_none(), "{out}");
    assert!(out["metadata"].get("managedFields").is_none());
}

#[test]
fn two_appliers_share_a_field_with_the_same_value() {
    let base = |data: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data});
    let out = apply_cm(None, base(json!({"shared": "x", "a": "1"})), "alice", T1, false).unwrap();
    let out = apply_cm(Some(&stored(out)), base(json!({"shared": "x", "b": "2"})), "bob", T2, false).unwrap();
    assert_eq!(out["data"], json!({"shared": "x", "a": "1", "b": "2"}));
    assert_eq!(
        managed(&out),
        json!([
            entry("alice", "Apply", "v1", Some(T1), json!({"f:data": {"f:a": {}, "f:shared": {}}})),
            entry("bob", "Apply", "v1", Some(T2), json!({"f:data": {"f:b": {}, "f:shared": {}}})),
        ])
    );
    // alice gives up "shared": bob still owns it, so it stays; the object is unchanged, so
    // alice's entry keeps its time
    let out = apply_cm(Some(&stored(out)), base(json!({"a": "1"})), "alice", T3, false).unwrap();
    assert_eq!(out["data"], json!({"shared": "x", "a": "1", "b": "2"}));
    assert_eq!(managed(&out)[0], entry("alice", "Apply", "v1", Some(T1), json!({"f:data": {"f:a": {}}})));
}

#[test]
fn a_new_co_owner_of_unchanged_values_gets_an_entry_without_time() {
    let cfg = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "b"}}});
    let out = apply_cm(None, cfg.clone(), "one", T1, false).unwrap();
    let out = apply_cm(Some(&stored(out)), cfg, "two", T2, false).unwrap();
    assert_eq!(
        managed(&out),
        json!([
            entry("two", "Apply", "v1", None, json!({"f:metadata": {"f:labels": {"f:a": {}}}})),
            entry("one", "Apply", "v1", Some(T1), json!({"f:metadata": {"f:labels": {"f:a": {}}}})),
        ])
    );
}

#[test]
fn conflicts_with_another_applier_and_force_moves_ownership() {
    let base = |v: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"key": v}});
    let live = stored(apply_cm(None, base("a"), "alice", T1, false).unwrap());
    let err = conflicts(apply_cm(Some(&live), base("b"), "bob", T2, false));
    assert_eq!(err.message(), r#"Apply failed with 1 conflict: conflict with "alice": .data.key"#);
    assert_eq!(
        err.status(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Apply failed with 1 conflict: conflict with \"alice\": .data.key",
            "reason": "Conflict", "code": 409,
            "details": {"causes": [{"reason": "FieldManagerConflict", "message": "conflict with \"alice\"", "field": ".data.key"}]}})
    );
    let out = apply_cm(Some(&live), base("b"), "bob", T2, true).unwrap();
    assert_eq!(out["data"]["key"], json!("b"));
    // alice lost her only field, so her entry is gone
    assert_eq!(managed(&out), json!([entry("bob", "Apply", "v1", Some(T2), json!({"f:data": {"f:key": {}}}))]));
}

#[test]
fn conflict_with_an_update_manager_names_its_version() {
    let created = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "default"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "d"}},
            "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}}}
    });
    let mf = update(None, &created, &m("kubectl-client-side-apply", "apps/v1", T1), builtin(), &shape(DEPLOY)).unwrap();
    let mut live = stored(created);
    live["metadata"]["managedFields"] = json!(mf);
    let cfg = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 3}});
    let err = conflicts(apply_deploy(Some(&live), &cfg, "kubectl", T2, false));
    assert_eq!(err.message(), r#"Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas"#);
    assert_eq!(err.status()["details"]["causes"][0]["message"], json!("conflict with \"kubectl-client-side-apply\" using apps/v1"));
    assert_eq!(err.code(), 409);

    // several conflicts, grouped by manager
    let cfg = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "c", "image": "i:2"}]}}}});
    let err = conflicts(apply_deploy(Some(&live), &cfg, "other", T2, false));
    assert_eq!(
        err.message(),
        "Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name=\"c\"].image"
    );
    let Error::Conflicts(cs) = &err else { unreachable!() };
    assert_eq!(cs[1].path, ".spec.template.spec.containers[name=\"c\"].image");
}

#[test]
fn conflicts_across_managers_are_listed_per_manager() {
    let base = |data: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data});
    let live = stored(apply_cm(None, base(json!({"a": "1"})), "zed", T1, false).unwrap());
    let live = stored(apply_cm(Some(&live), base(json!({"b": "1", "c": "1"})), "amy", T2, false).unwrap());
    let err = conflicts(apply_cm(Some(&live), base(json!({"a": "2", "b": "2", "c": "2"})), "me", T3, false));
    assert_eq!(err.message(), "Apply failed with 3 conflicts: conflicts with \"amy\":\n- .data.b\n- .data.c\nconflicts with \"zed\":\n- .data.a");
}

fn two_container_config(containers: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"template": {"spec": {"containers": containers}}}})
}

#[test]
fn list_map_items_are_merged_by_key_across_managers() {
    let a = two_container_config(json!([{"name": "app", "image": "app:1"}]));
    let b = two_container_config(json!([{"name": "sidecar", "image": "proxy:1"}]));
    let out = apply_deploy(None, &a, "team-a", T1, false).unwrap();
    let out = apply_deploy(Some(&stored(out)), &b, "team-b", T2, false).unwrap();
    assert_eq!(out["spec"]["template"]["spec"]["containers"], json!([{"name": "app", "image": "app:1"}, {"name": "sidecar", "image": "proxy:1"}]));
    let item = |n: &str| format!("k:{{\"name\":\"{n}\"}}");
    let fields = |n: &str| json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {item(n): {".": {}, "f:image": {}, "f:name": {}}}}}}});
    assert_eq!(
        managed(&out),
        json!([entry("team-a", "Apply", "apps/v1", Some(T1), fields("app")), entry("team-b", "Apply", "apps/v1", Some(T2), fields("sidecar"))])
    );
    // team-b updates its container's image: no conflict with team-a
    let b2 = two_container_config(json!([{"name": "sidecar", "image": "proxy:2"}]));
    let out = apply_deploy(Some(&stored(out)), &b2, "team-b", T3, false).unwrap();
    assert_eq!(out["spec"]["template"]["spec"]["containers"][1]["image"], json!("proxy:2"));
    // team-a stops applying its container: the item goes, the sidecar stays
    let none = two_container_config(json!([]));
    let out = apply_deploy(Some(&stored(out)), &none, "team-a", T3, false).unwrap();
    assert_eq!(out["spec"]["template"]["spec"]["containers"], json!([{"name": "sidecar", "image": "proxy:2"}]));
    assert_eq!(managed(&out).as_array().unwrap().len(), 1, "{}", managed(&out));
}

#[test]
fn new_list_items_keep_the_applied_order_relative_to_live() {
    let cfg = two_container_config(json!([{"name": "a", "image": "a"}, {"name": "c", "image": "c"}]));
    let out = apply_deploy(None, &cfg, "x", T1, false).unwrap();
    let cfg = two_container_config(json!([{"name": "b", "image": "b"}, {"name": "c", "image": "c"}]));
    let out = apply_deploy(Some(&stored(out)), &cfg, "y", T2, false).unwrap();
    let names: Vec<&str> = out["spec"]["template"]["spec"]["containers"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["a", "b", "c"]);
}

#[test]
fn finalizers_are_a_set() {
    let cfg = |f: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "finalizers": f}});
    let out = apply_cm(None, cfg(json!(["example.com/a"])), "one", T1, false).unwrap();
    let out = apply_cm(Some(&stored(out)), cfg(json!(["example.com/b"])), "two", T2, false).unwrap();
    assert_eq!(out["metadata"]["finalizers"], json!(["example.com/a", "example.com/b"]));
    assert_eq!(managed(&out)[0], entry("one", "Apply", "v1", Some(T1), json!({"f:metadata": {"f:finalizers": {"v:\"example.com/a\"": {}}}})));
    let out = apply_cm(Some(&stored(out)), cfg(json!([])), "one", T3, false).unwrap();
    assert_eq!(out["metadata"]["finalizers"], json!(["example.com/b"]));
}

#[test]
fn atomic_lists_are_replaced_whole() {
    let cfg = |tol: Value| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"template": {"spec": {"tolerations": tol}}}})
    };
    let out = apply_deploy(None, &cfg(json!([{"key": "a", "operator": "Exists"}])), "one", T1, false).unwrap();
    let live = stored(out);
    let err = conflicts(apply_deploy(Some(&live), &cfg(json!([{"key": "b", "operator": "Exists"}])), "two", T2, false));
    assert_eq!(err.message(), r#"Apply failed with 1 conflict: conflict with "one": .spec.template.spec.tolerations"#);
    let out = apply_deploy(Some(&live), &cfg(json!([{"key": "b", "operator": "Exists"}])), "two", T2, true).unwrap();
    assert_eq!(out["spec"]["template"]["spec"]["tolerations"], json!([{"key": "b", "operator": "Exists"}]));
    assert_eq!(
        managed(&out),
        json!([entry("two", "Apply", "apps/v1", Some(T2), json!({"f:spec": {"f:template": {"f:spec": {"f:tolerations": {}}}}}))])
    );
}

#[test]
fn an_update_takes_ownership_from_the_applier() {
    let cfg = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"replicas": 1, "paused": false}});
    let live = stored(apply_deploy(None, &cfg, "kubectl", T1, false).unwrap());
    let mut new = live.clone();
    new["spec"]["replicas"] = json!(5);
    let mf = update(Some(&live), &new, &m("kube-controller-manager", "apps/v1", T2), builtin(), &shape(DEPLOY)).unwrap();
    assert_eq!(
        json!(mf),
        json!([
            entry("kubectl", "Apply", "apps/v1", Some(T1), json!({"f:spec": {"f:paused": {}}})),
            entry("kube-controller-manager", "Update", "apps/v1", Some(T2), json!({"f:spec": {"f:replicas": {}}})),
        ])
    );
    // applying the old value again now conflicts with the updater
    new["metadata"]["managedFields"] = json!(mf);
    let err = conflicts(apply_deploy(Some(&new), &cfg, "kubectl", T3, false));
    assert_eq!(err.message(), r#"Apply failed with 1 conflict: conflict with "kube-controller-manager" using apps/v1: .spec.replicas"#);
}

#[test]
fn create_records_containers_with_dot_and_update_removals() {
    let obj = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "ns", "labels": {"a": "1", "b": "2"}, "annotations": {"x": "y"}},
        "data": {"k": "v"}});
    let mf = update(None, &obj, &m("kubectl-create", "v1", T1), builtin(), &shape(CM)).unwrap();
    let created = json!({"f:data": {".": {}, "f:k": {}}, "f:metadata": {"f:annotations": {".": {}, "f:x": {}}, "f:labels": {".": {}, "f:a": {}, "f:b": {}}}});
    assert_eq!(json!(mf), json!([entry("kubectl-create", "Update", "v1", Some(T1), created)]));
    let mut live = stored(obj);
    live["metadata"]["managedFields"] = json!(mf);
    // another manager edits label a and removes label b: b leaves kubectl-create's set, a moves
    let mut new = live.clone();
    new["metadata"]["labels"] = json!({"a": "2"});
    let mf = update(Some(&live), &new, &m("kubectl-edit", "v1", T2), builtin(), &shape(CM)).unwrap();
    assert_eq!(
        json!(mf),
        json!([
            entry("kubectl-create", "Update", "v1", Some(T1),
                // the labels map itself stays owned: a member without children is `{}`
                json!({"f:data": {".": {}, "f:k": {}}, "f:metadata": {"f:annotations": {".": {}, "f:x": {}}, "f:labels": {}}})),
            entry("kubectl-edit", "Update", "v1", Some(T2), json!({"f:metadata": {"f:labels": {"f:a": {}}}})),
        ])
    );
    // a no-op update changes nothing, not even times
    let mut same = new.clone();
    same["metadata"]["managedFields"] = json!(mf);
    let again = update(Some(&same), &same, &m("kubectl-edit", "v1", T3), builtin(), &shape(CM)).unwrap();
    assert_eq!(again, mf);
}

#[test]
fn labels_and_annotations_are_granular() {
    let cfg = |labels: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": labels, "annotations": {"owner": "a"}}});
    let out = apply_cm(None, cfg(json!({"app": "x"})), "a", T1, false).unwrap();
    let out = apply_cm(
        Some(&stored(out)),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"tier": "web"}, "annotations": {"other": "b"}}}),
        "b",
        T2,
        false,
    )
    .unwrap();
    assert_eq!(out["metadata"]["labels"], json!({"app": "x", "tier": "web"}));
    assert_eq!(out["metadata"]["annotations"], json!({"owner": "a", "other": "b"}));
    assert_eq!(
        managed(&out)[1],
        entry("b", "Apply", "v1", Some(T2), json!({"f:metadata": {"f:annotations": {"f:other": {}}, "f:labels": {"f:tier": {}}}}))
    );
}

#[test]
fn untracked_objects_stay_untracked_and_reset_clears() {
    let obj = stored(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}));
    let mut new = obj.clone();
    new["data"]["a"] = json!("2");
    assert_eq!(update(Some(&obj), &new, &m("x", "v1", T1), builtin(), &shape(CM)).unwrap(), Vec::<Value>::new());

    let mut live = obj.clone();
    live["metadata"]["managedFields"] = json!([entry("x", "Update", "v1", Some(T1), json!({"f:data": {"f:a": {}}}))]);
    for reset in [json!([]), json!([{}])] {
        let mut req = live.clone();
        req["metadata"]["managedFields"] = reset;
        req["data"]["a"] = json!("3");
        assert_eq!(update(Some(&live), &req, &m("y", "v1", T2), builtin(), &shape(CM)).unwrap(), Vec::<Value>::new());
    }
}

#[test]
fn request_managed_fields_are_honoured_except_on_subresources() {
    // kubectl's client-side to server-side apply migration rewrites managedFields with a patch
    let mut live = stored(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}));
    live["metadata"]["managedFields"] = json!([entry("kubectl-client-side-apply", "Update", "v1", Some(T1), json!({"f:data": {"f:a": {}}}))]);
    let mut req = live.clone();
    req["metadata"]["managedFields"] = json!([entry("kubectl", "Apply", "v1", Some("2024-05-01T12:00:00+02:00"), json!({"f:data": {"f:a": {}}}))]);
    let mf = update(Some(&live), &req, &m("kubectl", "v1", T2), builtin(), &shape(CM)).unwrap();
    assert_eq!(json!(mf), json!([entry("kubectl", "Apply", "v1", Some("2024-05-01T10:00:00Z"), json!({"f:data": {"f:a": {}}}))]));

    let mut status = m("kubelet", "v1", T2);
    status.subresource = "status";
    let mf = update(Some(&live), &req, &status, builtin(), &shape(CM)).unwrap();
    assert_eq!(json!(mf), live["metadata"]["managedFields"]);
}

#[test]
fn reset_fields_and_subresource_entries() {
    let pod = "io.k8s.api.core.v1.Pod";
    let live = stored(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "i"}]}}));
    let mut new = live.clone();
    new["status"] = json!({"phase": "Running"});
    let mut main = m("someone", "v1", T1);
    main.reset_fields = &["status"];
    let mut with_mf = live.clone();
    with_mf["metadata"]["managedFields"] = json!([entry("creator", "Update", "v1", Some(T1),
        json!({"f:spec": {"f:containers": {"k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}}}}))]);
    new["metadata"]["managedFields"] = with_mf["metadata"]["managedFields"].clone();
    let mf = update(Some(&with_mf), &new, &main, builtin(), &shape(pod)).unwrap();
    assert_eq!(json!(mf), with_mf["metadata"]["managedFields"]);

    let mut kubelet = m("kubelet", "v1", T2);
    kubelet.subresource = "status";
    kubelet.reset_fields = &["spec", "metadata"];
    let mf = update(Some(&with_mf), &new, &kubelet, builtin(), &shape(pod)).unwrap();
    assert_eq!(
        mf[1],
        json!({"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": T2, "fieldsType": "FieldsV1",
            "fieldsV1": {"f:status": {".": {}, "f:phase": {}}}, "subresource": "status"})
    );
}

#[test]
fn update_managers_beyond_ten_are_folded_into_ancient_changes() {
    let mut live = stored(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}));
    let times: Vec<String> = (0..11).map(|i| format!("2024-05-01T10:00:{:02}Z", i)).collect();
    for (i, t) in times.iter().enumerate() {
        let mut new = live.clone();
        new["data"][format!("k{i}")] = json!("v");
        let name = format!("m{i:02}");
        let mf = update(Some(&live), &new, &m(&name, "v1", t), builtin(), &shape(CM)).unwrap();
        if i == 0 {
            // the first write to an untracked existing object is not tracked; start tracking
            new["metadata"]["managedFields"] = json!([entry("m00", "Update", "v1", Some(t), json!({"f:data": {"f:k0": {}}}))]);
        } else {
            new["metadata"]["managedFields"] = json!(mf);
        }
        live = new;
    }
    let mf = managed(&live);
    let entries = mf.as_array().unwrap();
    assert_eq!(entries.len(), 10);
    assert_eq!(entries[0], entry("ancient-changes", "Update", "v1", Some(&times[1]), json!({"f:data": {"f:k0": {}, "f:k1": {}}})));
}

#[test]
fn kubectl_server_side_upgrade_from_client_side_apply() {
    let manifest = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "default"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "d"}},
            "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}}}});
    let mut created = manifest.clone();
    created["metadata"]["annotations"] = json!({LAST_APPLIED_ANNOTATION: format!("{}\n", gojson::to_string(&manifest))});
    created["spec"]["progressDeadlineSeconds"] = json!(600); // defaulted before tracking on create
    let mf = update(None, &created, &m("kubectl-client-side-apply", "apps/v1", T1), builtin(), &shape(DEPLOY)).unwrap();
    let mut live = stored(created);
    live["metadata"]["managedFields"] = json!(mf);

    // changing fields the last applied configuration still holds is allowed for "kubectl"
    let mut cfg = manifest.clone();
    cfg["spec"]["replicas"] = json!(3);
    cfg["spec"]["template"]["spec"]["containers"][0]["image"] = json!("i:2");
    let out = apply_deploy(Some(&live), &cfg, "kubectl", T2, false).unwrap();
    assert_eq!(out["spec"]["replicas"], json!(3));
    let annotation = out["metadata"]["annotations"][LAST_APPLIED_ANNOTATION].as_str().unwrap();
    assert_eq!(annotation, format!("{}\n", gojson::to_string(&cfg)));
    let entries = managed(&out);
    assert_eq!(entries[0]["manager"], json!("kubectl"));
    let csa = FieldSet::from_fields_v1(&entries[1]["fieldsV1"]).unwrap();
    assert!(!csa.has(&Path::fields(&["spec", "replicas"]).0));
    assert!(csa.has(&Path::fields(&["spec", "progressDeadlineSeconds"]).0));

    // other managers get no such allowance, and kubectl none for fields outside the annotation
    let err = conflicts(apply_deploy(Some(&live), &cfg, "not-kubectl", T2, false));
    assert!(err.message().starts_with("Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" using apps/v1:"), "{}", err.message());
    let mut cfg2 = cfg.clone();
    cfg2["spec"]["progressDeadlineSeconds"] = json!(100);
    let err = conflicts(apply_deploy(Some(&live), &cfg2, "kubectl", T2, false));
    assert_eq!(
        err.message(),
        r#"Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.progressDeadlineSeconds"#
    );
}

#[test]
fn before_first_apply_owns_fields_of_untracked_objects() {
    let live = stored(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}));
    let err = conflicts(apply_cm(Some(&live), json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "2"}}), "m", T1, false));
    assert_eq!(err.message(), r#"Apply failed with 1 conflict: conflict with "before-first-apply" using v1: .data.a"#);
    let out = apply_cm(Some(&live), json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"b": "2"}}), "m", T1, false).unwrap();
    assert_eq!(
        managed(&out),
        json!([
            entry("m", "Apply", "v1", Some(T1), json!({"f:data": {"f:b": {}}})),
            entry("before-first-apply", "Update", "v1", Some(T1), json!({"f:data": {".": {}, "f:a": {}}})),
        ])
    );
}

#[test]
fn invalid_configurations_are_rejected_like_upstream() {
    let mut cfg = nginx_deployment();
    cfg["spec"]["foo"] = json!(1);
    let err = apply_deploy(None, &cfg, "k", T1, false).unwrap_err();
    assert_eq!(
        err.message(),
        "failed to create typed patch object (default/nginx; apps/v1, Kind=Deployment): .spec.foo: field not declared in schema"
    );
    assert_eq!(err.code(), 500);

    let dup = two_container_config(json!([{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]));
    let err = apply_deploy(None, &dup, "k", T1, false).unwrap_err();
    assert_eq!(
        err.message(),
        "failed to create typed patch object (/d; apps/v1, Kind=Deployment): .spec.template.spec.containers: duplicate entries for key [name=\"a\"]"
    );
    let nokey = two_container_config(json!([{"image": "x"}]));
    let err = apply_deploy(None, &nokey, "k", T1, false).unwrap_err();
    assert!(err.message().ends_with(".spec.template.spec.containers: element 0: associative list with keys has an element that omits key field \"name\" (and doesn't have default value)"), "{}", err.message());

    let mut mf = nginx_deployment();
    mf["metadata"]["managedFields"] = json!([]);
    assert_eq!(apply_deploy(None, &mf, "k", T1, false).unwrap_err(), Error::BadRequest("metadata.managedFields must be nil".into()));

    let mut v = nginx_deployment();
    v["apiVersion"] = json!("apps/v1beta1");
    assert_eq!(
        apply_deploy(None, &v, "k", T1, false).unwrap_err().message(),
        "Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, expected: apps/v1"
    );
    let mut strict = m("k", "apps/v1", T1);
    strict.kind = "Deployment";
    let err = apply(None, &v, &strict, false, builtin(), &shape(DEPLOY)).unwrap_err();
    assert_eq!(err, Error::BadRequest("invalid object type: apps/v1beta1, Kind=Deployment".into()));
    assert_eq!(err.status()["reason"], json!("BadRequest"));
}

#[test]
fn custom_resources_deduce_untyped_fields_and_get_standard_metadata() {
    let crd = json!({"type": "object", "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
        "spec": {"type": "object", "properties": {
            "items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["id"],
                "items": {"type": "object", "properties": {"id": {"type": "string"}, "v": {"type": "integer"}}}},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "tags": {"type": "array", "items": {"type": "string"}}
        }}
    }});
    let set = SchemaSet::from_inline(&crd, "root");
    let root = Shape::Named("root".into());
    let cfg = json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w", "finalizers": ["example.com/f"], "labels": {"a": "b"}},
        "spec": {"items": [{"id": "x", "v": 1}], "free": {"nested": {"deep": 1}, "list": [1, 2]}, "tags": ["t"]}});
    let out = apply(None, &cfg, &m("op", "example.com/v1", T1), false, &set, &root).unwrap();
    assert_eq!(
        managed(&out)[0]["fieldsV1"],
        json!({
            "f:metadata": {"f:finalizers": {"v:\"example.com/f\"": {}}, "f:labels": {"f:a": {}}},
            "f:spec": {
                "f:free": {"f:list": {}, "f:nested": {".": {}, "f:deep": {}}},
                "f:items": {"k:{\"id\":\"x\"}": {".": {}, "f:id": {}, "f:v": {}}},
                "f:tags": {}
            }
        })
    );
    // undeclared fields of typed parts are rejected, those under preserve-unknown are not
    let bad = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"nope": 1}});
    let err = apply(None, &bad, &m("op", "example.com/v1", T1), false, &set, &root).unwrap_err();
    assert_eq!(err.message(), "failed to create typed patch object (/w; example.com/v1, Kind=Widget): .spec.nope: field not declared in schema");
}

#[test]
fn field_set_of_objects() {
    let obj = json!({"metadata": {"name": "x", "labels": {}}, "spec": {"replicas": null, "template": {"spec": {}}}});
    let s = field_set(&obj, builtin(), &shape(DEPLOY));
    assert_eq!(
        s.to_json_string(),
        r#"{"f:metadata":{"f:labels":{},"f:name":{}},"f:spec":{"f:replicas":{},"f:template":{"f:spec":{}}}}"#
    );
    let leaves: Vec<String> = s.leaves().paths().iter().map(Path::to_string).collect();
    assert_eq!(leaves, vec![".metadata.labels", ".metadata.name", ".spec.replicas", ".spec.template.spec"]);
}

