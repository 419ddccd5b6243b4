//! Tests of strategic merge patch: table cases on the built-in types (a subset of the server's
//! /openapi/v2 definitions in testdata/builtin-definitions.json).

use std::sync::OnceLock;

use crate::schema::{SchemaSet, Shape};
use serde_json::{Value, json};

use super::*;

// ---------------------------------------------------------------------------------------------
// upstream's test cases

// Upstream's TestUnknownField, patch application part (fields `MergeItem` does not have).
// ---------------------------------------------------------------------------------------------
// built-in types

fn builtin() -> &'static SchemaSet {
    static SET: OnceLock<SchemaSet> = OnceLock::new();
    SET.get_or_init(|| {
        let defs: Value = serde_json::from_str(include_str!("testdata/builtin-definitions.json")).unwrap();
        SchemaSet::from_definitions(defs.as_object().unwrap())
    })
}

fn named(n: &str) -> Shape {
    Shape::Named(n.into())
}

const POD: &str = "io.k8s.api.core.v1.Pod";
const DEPLOYMENT: &str = "io.k8s.api.apps.v1.Deployment";
const SERVICE: &str = "io.k8s.api.core.v1.Service";

fn pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default", "labels": {"app": "web", "tier": "fe"},
                     "annotations": {"a": "1", "b": "2"}, "finalizers": ["a.io/x", "b.io/y"]},
        "spec": {
            "containers": [
                {"name": "app", "image": "nginx:1.0",
                 "ports": [{"containerPort": 80, "protocol": "TCP"}],
                 "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                {"name": "sidecar", "image": "busybox", "command": ["sleep", "3600"]}
            ],
            "volumes": [{"name": "data", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "c"}}],
            "tolerations": [{"key": "k1", "operator": "Exists"}],
            "nodeSelector": {"disk": "ssd"}
        }
    })
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d", "labels": {"app": "web", "team": "x"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [
                    {"name": "app", "image": "nginx:1.0", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
                    {"name": "sidecar", "image": "busybox"}
                ]}
            }
        }
    })
}

fn service() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
        "spec": {"selector": {"app": "web"}, "ports": [
            {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
            {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443}
        ]}
    })
}

/// Applies `patch` to `base` and returns the value at the JSON pointer `at` of the result.
fn patched(base: &Value, root: &str, patch: Value, at: &str) -> Value {
    let got = apply(base, &patch, builtin(), &named(root)).unwrap_or_else(|e| panic!("{patch}: {e:?}"));
    got.pointer(at).cloned().unwrap_or_else(|| panic!("{at} missing in {got}"))
}

fn patch_error(base: &Value, root: &str, patch: Value) -> SmpError {
    match apply(base, &patch, builtin(), &named(root)) {
        Ok(v) => panic!("{patch}: expected an error, got {v}"),
        Err(e) => e,
    }
}

/// `(description, patch, JSON pointer, expected value there)` on the pod.
fn pod_cases() -> Vec<(&'static str, Value, &'static str, Value)> {
    let app = |image: &str, extra: Value| {
        let mut c = json!({"name": "app", "image": image, "ports": [{"containerPort": 80, "protocol": "TCP"}],
                           "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let sidecar = json!({"name": "sidecar", "image": "busybox", "command": ["sleep", "3600"]});
    vec![
        ("image of one container changes, the other container stays",
         json!({"spec": {"containers": [{"name": "app", "image": "nginx:2.0"}]}}),
         "/spec/containers", json!([app("nginx:2.0", json!({})), sidecar])),
        ("patching the second container keeps the order",
         json!({"spec": {"containers": [{"name": "sidecar", "image": "busybox:2"}]}}),
         "/spec/containers",
         json!([app("nginx:1.0", json!({})), {"name": "sidecar", "image": "busybox:2", "command": ["sleep", "3600"]}])),
        ("a new container without $setElementOrder goes before the live items",
         json!({"spec": {"containers": [{"name": "new", "image": "redis"}]}}),
         "/spec/containers", json!([{"name": "new", "image": "redis"}, app("nginx:1.0", json!({})), sidecar])),
        ("a new container listed last in $setElementOrder is appended",
         json!({"spec": {"$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}, {"name": "new"}],
                         "containers": [{"name": "new", "image": "redis"}]}}),
         "/spec/containers", json!([app("nginx:1.0", json!({})), sidecar, {"name": "new", "image": "redis"}])),
        ("a new list item is taken as sent, nulls and directives included",
         json!({"spec": {"containers": [{"name": "new", "image": "redis", "args": null, "env": [{"$patch": "delete", "name": "X"}]}]}}),
         "/spec/containers/0",
         json!({"name": "new", "image": "redis", "args": null, "env": [{"$patch": "delete", "name": "X"}]})),
        ("env merged by name: changed item and new item follow the patch order after live-only items",
         json!({"spec": {"containers": [{"name": "app", "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}]}}),
         "/spec/containers/0/env",
         json!([{"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}])),
        ("env item value removed with null",
         json!({"spec": {"containers": [{"name": "app", "env": [{"name": "A", "value": null, "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}]}}),
         "/spec/containers/0/env",
         json!([{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}, {"name": "B", "value": "2"}])),
        ("ports merged by containerPort: a new port goes first",
         json!({"spec": {"containers": [{"name": "app", "ports": [{"containerPort": 443, "protocol": "TCP"}]}]}}),
         "/spec/containers/0/ports",
         json!([{"containerPort": 443, "protocol": "TCP"}, {"containerPort": 80, "protocol": "TCP"}])),
        ("ports merged by containerPort: an existing port is updated in place",
         json!({"spec": {"containers": [{"name": "app", "ports": [{"containerPort": 80, "name": "http"}]}]}}),
         "/spec/containers/0/ports", json!([{"containerPort": 80, "protocol": "TCP", "name": "http"}])),
        ("a float merge key never matches an integer one",
         json!({"spec": {"containers": [{"name": "app", "ports": [{"containerPort": 80.0, "name": "http"}]}]}}),
         "/spec/containers/0/ports",
         json!([{"containerPort": 80.0, "name": "http"}, {"containerPort": 80, "protocol": "TCP"}])),
        ("volume switched from emptyDir to hostPath with $retainKeys",
         json!({"spec": {"$setElementOrder/volumes": [{"name": "data"}, {"name": "cfg"}],
                         "volumes": [{"$retainKeys": ["hostPath", "name"], "emptyDir": null,
                                      "hostPath": {"path": "/tmp", "type": ""}, "name": "data"}]}}),
         "/spec/volumes",
         json!([{"name": "data", "hostPath": {"path": "/tmp", "type": ""}}, {"name": "cfg", "configMap": {"name": "c"}}])),
        ("$retainKeys alone clears the keys it does not list",
         json!({"spec": {"volumes": [{"name": "cfg", "$retainKeys": ["name", "secret"], "secret": {"secretName": "s"}}]}}),
         "/spec/volumes",
         json!([{"name": "data", "emptyDir": {}}, {"name": "cfg", "secret": {"secretName": "s"}}])),
        ("$patch: delete removes a container",
         json!({"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}),
         "/spec/containers", json!([app("nginx:1.0", json!({}))])),
        ("$patch: delete of a missing item is a no-op",
         json!({"spec": {"containers": [{"name": "ghost", "$patch": "delete"}]}}),
         "/spec/containers", json!([app("nginx:1.0", json!({})), sidecar])),
        ("$patch: replace on a map",
         json!({"spec": {"nodeSelector": {"$patch": "replace", "zone": "a"}}}),
         "/spec/nodeSelector", json!({"zone": "a"})),
        ("$patch: replace on a map keeps nulls verbatim",
         json!({"metadata": {"labels": {"$patch": "replace", "x": "1", "y": null}}}),
         "/metadata/labels", json!({"x": "1", "y": null})),
        ("$patch: replace on a list",
         json!({"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "i"}]}}),
         "/spec/containers", json!([{"name": "only", "image": "i"}])),
        ("$patch: replace alone empties a merging list",
         json!({"spec": {"volumes": [{"$patch": "replace"}]}}),
         "/spec/volumes", json!([])),
        ("$patch: delete on a map leaves an empty map",
         json!({"spec": {"nodeSelector": {"$patch": "delete"}}}),
         "/spec/nodeSelector", json!({})),
        ("$setElementOrder reorders containers",
         json!({"spec": {"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}]}}),
         "/spec/containers", json!([sidecar, app("nginx:1.0", json!({}))])),
        ("$setElementOrder with an item missing from the live list",
         json!({"spec": {"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "ghost"}, {"name": "app"}]}}),
         "/spec/containers", json!([sidecar, app("nginx:1.0", json!({}))])),
        ("$deleteFromPrimitiveList/finalizers",
         json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.io/x"]}}),
         "/metadata/finalizers", json!(["b.io/y"])),
        ("$deleteFromPrimitiveList of a missing list adds nothing",
         json!({"spec": {"containers": [{"name": "app", "$deleteFromPrimitiveList/args": ["x"]}]}}),
         "/spec/containers/0", app("nginx:1.0", json!({}))),
        ("finalizers union: new values in patch order before the live-only ones",
         json!({"metadata": {"finalizers": ["c.io/z", "a.io/x"]}}),
         "/metadata/finalizers", json!(["c.io/z", "a.io/x", "b.io/y"])),
        ("finalizers union with $setElementOrder",
         json!({"metadata": {"$setElementOrder/finalizers": ["b.io/y", "c.io/z", "a.io/x"], "finalizers": ["c.io/z"]}}),
         "/metadata/finalizers", json!(["b.io/y", "c.io/z", "a.io/x"])),
        ("finalizers: add and delete in one patch",
         json!({"metadata": {"$setElementOrder/finalizers": ["b.io/y", "c.io/z"], "finalizers": ["c.io/z"],
                             "$deleteFromPrimitiveList/finalizers": ["a.io/x"]}}),
         "/metadata/finalizers", json!(["b.io/y", "c.io/z"])),
        ("label deleted with null, another added",
         json!({"metadata": {"labels": {"tier": null, "new": "x"}}}),
         "/metadata/labels", json!({"app": "web", "new": "x"})),
        ("annotation removal and overwrite (kubectl annotate)",
         json!({"metadata": {"annotations": {"a": null, "b": "3"}}}),
         "/metadata/annotations", json!({"b": "3"})),
        ("tolerations are atomic: replaced",
         json!({"spec": {"tolerations": [{"key": "k2", "operator": "Exists"}]}}),
         "/spec/tolerations", json!([{"key": "k2", "operator": "Exists"}])),
        ("a replaced list is taken verbatim, nulls and directives included",
         json!({"spec": {"tolerations": [{"key": "k2", "value": null}, {"$patch": "delete"}]}}),
         "/spec/tolerations", json!([{"key": "k2", "value": null}, {"$patch": "delete"}])),
        ("a non-merging list of scalars is replaced",
         json!({"spec": {"containers": [{"name": "sidecar", "command": ["sh"]}]}}),
         "/spec/containers/1/command", json!(["sh"])),
        ("nodeSelector entries merge",
         json!({"spec": {"nodeSelector": {"zone": "a"}}}),
         "/spec/nodeSelector", json!({"disk": "ssd", "zone": "a"})),
        ("a new map drops its nulls and $patch maps",
         json!({"spec": {"securityContext": {"runAsUser": 1000, "runAsGroup": null, "seLinuxOptions": {"$patch": "delete"}}}}),
         "/spec/securityContext", json!({"runAsUser": 1000})),
        ("a new list drops its $patch items",
         json!({"spec": {"initContainers": [{"$patch": "replace"}, {"name": "init", "image": "i"}]}}),
         "/spec/initContainers", json!([{"name": "init", "image": "i"}])),
        ("a value of another type replaces the live one",
         json!({"spec": {"nodeSelector": "oops"}}),
         "/spec/nodeSelector", json!("oops")),
        ("a new list with $setElementOrder keeps nulls in its items",
         json!({"spec": {"$setElementOrder/initContainers": [{"name": "init"}],
                         "initContainers": [{"name": "init", "image": null}]}}),
         "/spec/initContainers", json!([{"name": "init", "image": null}])),
    ]
}

#[test]
fn pod_patches() {
    for (what, patch, at, want) in pod_cases() {
        let got = patched(&pod(), POD, patch, at);
        assert_eq!(got, want, "{what}");
    }
}

#[test]
fn whole_pod_result_is_exact() {
    // nothing else changes: the rest of the object survives a container update untouched
    let got = apply(&pod(), &json!({"spec": {"containers": [{"name": "app", "image": "nginx:2.0"}]}}), builtin(), &named(POD)).unwrap();
    let mut want = pod();
    want["spec"]["containers"][0]["image"] = json!("nginx:2.0");
    assert_eq!(got, want);
    // an empty or null patch is the identity
    assert_eq!(apply(&pod(), &json!({}), builtin(), &named(POD)).unwrap(), pod());
    assert_eq!(apply(&pod(), &Value::Null, builtin(), &named(POD)).unwrap(), pod());
    // $patch: delete at the top empties the object
    assert_eq!(apply(&pod(), &json!({"$patch": "delete"}), builtin(), &named(POD)).unwrap(), json!({}));
}

#[test]
fn setelementorder_interleaves_server_only_items_by_live_order() {
    let base = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "d"}]}});
    let got = patched(&base, POD, json!({"spec": {"$setElementOrder/containers": [{"name": "d"}, {"name": "b"}]}}), "/spec/containers");
    assert_eq!(got, json!([{"name": "a"}, {"name": "c"}, {"name": "d"}, {"name": "b"}]));
    // patch order beats live order; live-only items stay before later patch items
    let got = patched(&base, POD, json!({"spec": {"containers": [{"name": "c", "x": 1}, {"name": "a", "x": 2}]}}), "/spec/containers");
    assert_eq!(got, json!([{"name": "b"}, {"name": "c", "x": 1}, {"name": "a", "x": 2}, {"name": "d"}]));
}

#[test]
fn delete_and_re_add_under_setelementorder() {
    // renaming a container the way kubectl apply sends it
    let base = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "x"}]}});
    let patch = json!({"spec": {"$setElementOrder/containers": [{"name": "a"}, {"name": "d"}, {"name": "c"}],
                               "containers": [{"name": "d", "image": "i"}, {"$patch": "delete", "name": "b"}]}});
    let got = patched(&base, POD, patch.clone(), "/spec/containers");
    // Upstream's view of the live list is the list's backing array, in which deleting "b"
    // shifted the items down and appending "d" wrote it into the freed slot ([a c x d]); the
    // server-only "x" is therefore placed before "d".
    assert_eq!(got, json!([{"name": "a"}, {"name": "x"}, {"name": "d", "image": "i"}, {"name": "c"}]));
    // without server-only items the result is simply the $setElementOrder order
    let base = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}});
    let got = patched(&base, POD, patch, "/spec/containers");
    assert_eq!(got, json!([{"name": "a"}, {"name": "d", "image": "i"}, {"name": "c"}]));
}

#[test]
fn duplicate_merge_keys_merge_into_the_first_match() {
    // upstream does not reject duplicates: the first item with the key takes the patch
    let base = json!({"spec": {"ports": [
        {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
        {"name": "dns", "port": 53, "protocol": "UDP"}
    ]}});
    let got = patched(&base, SERVICE, json!({"spec": {"ports": [{"port": 53, "protocol": "UDP", "name": "dns"}]}}), "/spec/ports");
    assert_eq!(got, json!([{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns", "port": 53, "protocol": "UDP"}]));
    // and $patch: delete removes every item with the key
    let got = patched(&base, SERVICE, json!({"spec": {"ports": [{"port": 53, "$patch": "delete"}]}}), "/spec/ports");
    assert_eq!(got, json!([]));
}

#[test]
fn service_ports_merge_by_port() {
    let got = patched(&service(), SERVICE, json!({"spec": {"ports": [{"port": 443, "targetPort": 9443}]}}), "/spec/ports");
    assert_eq!(got, json!([
        {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
        {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 9443}
    ]));
    let got = patched(&service(), SERVICE, json!({"spec": {"ports": [{"name": "metrics", "port": 9090}]}}), "/spec/ports/0");
    assert_eq!(got, json!({"name": "metrics", "port": 9090}));
    // selector is a plain map: merged
    let got = patched(&service(), SERVICE, json!({"spec": {"selector": {"tier": "fe"}}}), "/spec/selector");
    assert_eq!(got, json!({"app": "web", "tier": "fe"}));
}

#[test]
fn deployment_patches() {
    // kubectl set image
    let got = patched(&deployment(), DEPLOYMENT,
        json!({"spec": {"template": {"spec": {"containers": [{"image": "nginx:2", "name": "app"}]}}}}),
        "/spec/template/spec/containers");
    assert_eq!(got, json!([
        {"name": "app", "image": "nginx:2", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
        {"name": "sidecar", "image": "busybox"}
    ]));
    // kubectl scale-like patch
    assert_eq!(patched(&deployment(), DEPLOYMENT, json!({"spec": {"replicas": 5}}), "/spec/replicas"), json!(5));
    // strategy has patch strategy retainKeys: kubectl sends $retainKeys when the type changes
    let got = patched(&deployment(), DEPLOYMENT,
        json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": null, "type": "Recreate"}}}), "/spec/strategy");
    assert_eq!(got, json!({"type": "Recreate"}));
    // without the directive the map simply merges
    let got = patched(&deployment(), DEPLOYMENT, json!({"spec": {"strategy": {"type": "Recreate"}}}), "/spec/strategy");
    assert_eq!(got, json!({"type": "Recreate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}));
}

#[test]
fn kubectl_apply_three_way_patch() {
    // the manifest dropped the sidecar, env B, a label and spec.replicas, changed the image;
    // this is the patch kubectl apply computes against the last-applied configuration
    let patch = json!({
        "metadata": {"labels": {"team": null}},
        "spec": {
            "replicas": null,
            "template": {"spec": {
                "$setElementOrder/containers": [{"name": "app"}],
                "containers": [
                    {"$setElementOrder/env": [{"name": "A"}], "env": [{"$patch": "delete", "name": "B"}],
                     "image": "nginx:1.1", "name": "app"},
                    {"$patch": "delete", "name": "sidecar"}
                ]
            }}
        }
    });
    let got = apply(&deployment(), &patch, builtin(), &named(DEPLOYMENT)).unwrap();
    let mut want = deployment();
    want["metadata"]["labels"] = json!({"app": "web"});
    want["spec"].as_object_mut().unwrap().remove("replicas");
    want["spec"]["template"]["spec"]["containers"] = json!([{"name": "app", "image": "nginx:1.1", "env": [{"name": "A", "value": "1"}]}]);
    assert_eq!(got, want);
}

#[test]
fn retain_keys_strategy_on_lists_and_replace_strategy_on_maps() {
    // PodDisruptionBudget spec.selector has patch strategy replace: taken verbatim
    let pdb = json!({"spec": {"selector": {"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "k", "operator": "Exists"}]}}});
    let got = patched(&pdb, "io.k8s.api.policy.v1.PodDisruptionBudget",
        json!({"spec": {"selector": {"matchLabels": {"b": "2", "c": null}}}}), "/spec/selector");
    assert_eq!(got, json!({"matchLabels": {"b": "2", "c": null}}));
}

#[test]
fn unknown_fields() {
    // not in the schema and absent from the object: taken from the patch, minus nulls and $patch maps
    let got = apply(&pod(), &json!({"spec": {"futureField": {"a": 1, "b": null, "c": {"$patch": "delete"}, "l": [1, {"x": null}]}}}),
                    builtin(), &named(POD)).unwrap();
    assert_eq!(got["spec"]["futureField"], json!({"a": 1, "l": [1, {}]}));
    // a scalar on both sides is replaced without a type lookup
    let base = json!({"spec": {"futureScalar": 1}});
    assert_eq!(patched(&base, POD, json!({"spec": {"futureScalar": 2}}), "/spec/futureScalar"), json!(2));
    // an object or a list on both sides needs the field's type: upstream fails the lookup
    let base = json!({"spec": {"futureField": {"a": 1}}});
    let err = patch_error(&base, POD, json!({"spec": {"futureField": {"b": 2}}}));
    assert_eq!(err, SmpError::Internal(r#"unable to find api field in struct PodSpec for the json field "futureField""#.into()));
    assert_eq!((err.code(), err.reason(), err.status_message()), (500, "", err.text()));
    let base = json!({"spec": {"futureList": [1]}});
    let err = patch_error(&base, POD, json!({"spec": {"futureList": [2]}}));
    assert_eq!(err.text(), r#"unable to find api field in struct PodSpec for the json field "futureList""#);
    // inside a RawExtension nothing is known either
    let rev = json!({"data": {"spec": {"a": 1}, "n": 1}});
    let root = "io.k8s.api.apps.v1.ControllerRevision";
    assert_eq!(patched(&rev, root, json!({"data": {"n": 2, "new": {"x": 1}}}), "/data"),
               json!({"spec": {"a": 1}, "n": 2, "new": {"x": 1}}));
    let err = patch_error(&rev, root, json!({"data": {"spec": {"b": 2}}}));
    assert_eq!(err.text(), r#"unable to find api field in struct RawExtension for the json field "spec""#);
}

#[test]
fn map_typed_fields_cannot_be_descended() {
    // a map whose values are objects (Go map[string]Struct): upstream cannot look fields up in it
    let defs = json!({
        "T": {"type": "object", "properties": {"m": {"type": "object", "additionalProperties": {"$ref": "#/definitions/V"}}}},
        "V": {"type": "object", "properties": {"x": {"type": "string"}, "l": {"type": "array", "items": {"type": "string"}}}}
    });
    let set = SchemaSet::from_definitions(defs.as_object().unwrap());
    let root = named("T");
    let base = json!({"m": {"k": {"x": "1"}}});
    // a new entry or a scalar change needs no lookup
    let got = apply(&base, &json!({"m": {"j": {"x": "2"}}}), &set, &root).unwrap();
    assert_eq!(got, json!({"m": {"k": {"x": "1"}, "j": {"x": "2"}}}));
    let err = apply(&base, &json!({"m": {"k": {"x": "2"}}}), &set, &root).unwrap_err();
    assert_eq!(err, SmpError::Internal("merging an object in json but data type is not struct, instead is: map".into()));
}

#[test]
fn error_texts_and_classes() {
    let bad = |patch: Value| patch_error(&pod(), POD, patch);

    // 500: plain errors upstream passes through
    assert_eq!(bad(json!({"spec": {"containers": [{"image": "x"}]}})),
               SmpError::Internal("map: map[image:x] does not contain declared merge key: name".into()));
    assert_eq!(bad(json!({"spec": {"containers": [{"$patch": "delete"}]}})),
               SmpError::Internal("map: map[$patch:delete] does not contain declared merge key: name".into()));
    assert_eq!(bad(json!({"spec": {"containers": [{"name": "app", "ports": [{"protocol": "UDP", "hostPort": 53}]}]}})),
               SmpError::Internal("map: map[hostPort:53 protocol:UDP] does not contain declared merge key: containerPort".into()));
    // an original item without the merge key fails when the list is ordered
    let base = json!({"spec": {"containers": [{"image": "nameless"}]}});
    assert_eq!(patch_error(&base, POD, json!({"spec": {"containers": [{"name": "a"}]}})),
               SmpError::Internal("map: map[image:nameless] does not contain declared merge key: name".into()));
    assert_eq!(bad(json!({"spec": {"$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
                                   "containers": [{"name": "sidecar", "image": "b"}, {"name": "app", "image": "a"}]}})),
               SmpError::Internal("The order in patch list:\n[map[image:b name:sidecar] map[image:a name:app]]\n doesn't match $setElementOrder list:\n[map[name:app] map[name:sidecar]]\n".into()));
    assert_eq!(bad(json!({"spec": {"nodeSelector": {"$patch": "merge", "zone": "a"}}})),
               SmpError::Internal("unknown patch type: merge in map: map[$patch:merge zone:a]".into()));
    assert_eq!(bad(json!({"spec": {"nodeSelector": {"$patch": 1}}})),
               SmpError::Internal("unknown patch type: %!s(int64=1) in map: map[$patch:1]".into()));
    assert_eq!(bad(json!({"spec": {"containers": [{"$patch": "merge", "name": "app"}]}})),
               SmpError::Internal("merging lists cannot yet be specified in the patch".into()));
    assert_eq!(bad(json!({"spec": {"containers": [{"$patch": "bogus", "name": "app"}]}})),
               SmpError::Internal("unknown patch type: bogus in map: map[$patch:bogus name:app]".into()));
    assert_eq!(bad(json!({"metadata": {"finalizers": [["a"]]}})),
               SmpError::Internal("list element types are not identical: [[a.io/x b.io/y] [[a]]]".into()));
    assert_eq!(bad(json!({"spec": {"containers": ["app"]}})).text(),
               "list element types are not identical: [[map[env:[map[name:A value:1] map[name:B value:2]] image:nginx:1.0 name:app ports:[map[containerPort:80 protocol:TCP]]] map[command:[sleep 3600] image:busybox name:sidecar]] [app]]");
    assert_eq!(bad(json!({"spec": {"$setElementOrder/containers": "app"}})),
               SmpError::Internal("expected a []interface {}, but received a string".into()));
    assert_eq!(bad(json!({"spec": {"$setElementOrder/containers": [{"name": "app"}], "containers": {"name": "app"}}})),
               SmpError::Internal("expected a []interface {}, but received a map[string]interface {}".into()));
    assert_eq!(bad(json!({"spec": {"$setElementOrder/containers": ["app"], "containers": [{"name": "app"}]}})),
               SmpError::Internal("expected a map[string]interface {}, but received a string".into()));

    // 422
    let empty_finalizers = json!({"metadata": {"finalizers": []}});
    let err = patch_error(&empty_finalizers, POD, json!({"metadata": {"finalizers": [["a"]]}}));
    assert_eq!(err, SmpError::Invalid(ERR_NO_LIST_OF_LISTS.into()));
    assert_eq!((err.code(), err.reason(), err.status_message()), (422, "Invalid", SmpError::INVALID_STATUS_MESSAGE));

    // 400
    let err = bad(json!({"spec": {"volumes": [{"name": "data", "$retainKeys": "hostPath"}]}}));
    assert_eq!(err, SmpError::BadRequest(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS.into()));
    assert_eq!((err.code(), err.reason(), err.status_message()), (400, "BadRequest", "invalid patch format of retainKeys"));
    assert_eq!(bad(json!({"spec": {"volumes": [{"name": "data", "$retainKeys": ["name"], "hostPath": {"path": "/"}}]}})),
               SmpError::BadRequest(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS.into()));
    assert_eq!(bad(json!({"spec": {"$setElementOrder": [{"name": "app"}]}})),
               SmpError::BadRequest(ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST.into()));
    assert_eq!(bad(json!({"spec": {"$setElementOrderX/containers": [{"name": "app"}]}})),
               SmpError::BadRequest(ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST.into()));
    assert_eq!(bad(json!({"metadata": {"$deleteFromPrimitiveList": ["a.io/x"]}})),
               SmpError::BadRequest(ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST.into()));
    assert_eq!(bad(json!([{"op": "add"}])),
               SmpError::BadRequest("json: cannot unmarshal array into Go value of type map[string]interface {}".into()));
    assert_eq!(bad(json!("x")).text(), "json: cannot unmarshal string into Go value of type map[string]interface {}");
    assert_eq!(apply(&json!([1]), &json!({}), builtin(), &named(POD)), Err(SmpError::BadRequest(ERR_BAD_JSON_DOC.into())));

    // where upstream's code panics the apiserver answers a plain 500
    assert_eq!(bad(json!({"metadata": {"finalizers": [null]}})).text(),
               "list element types are not identical: [[a.io/x b.io/y] [<nil>]]");
    let err = patch_error(&empty_finalizers, POD, json!({"metadata": {"finalizers": [null]}}));
    assert!(matches!(err, SmpError::Panic(_)), "{err:?}");
    assert_eq!((err.code(), err.status_message()), (500, SmpError::PANIC_BODY));
}

#[test]
fn unordered_merge_key_values_that_upstream_cannot_compare() {
    // two object-valued merge keys compared with == make Go panic
    let base = json!({"spec": {"containers": [{"name": {"a": 1}}]}});
    let err = patch_error(&base, POD, json!({"spec": {"containers": [{"name": {"a": 1}}]}}));
    assert!(matches!(err, SmpError::Panic(ref m) if m.contains("comparing uncomparable")), "{err:?}");
}

#[test]
fn null_values() {
    // null for a missing key is ignored; null deletes whole subtrees
    let got = apply(&pod(), &json!({"metadata": {"labels": {"nope": null}}, "spec": {"volumes": null, "nodeName": null}}),
                    builtin(), &named(POD)).unwrap();
    assert_eq!(got["metadata"]["labels"], json!({"app": "web", "tier": "fe"}));
    assert!(got["spec"].get("volumes").is_none());
    assert!(got["spec"].get("nodeName").is_none());
    // a live null is replaced by the patch's value
    let base = json!({"metadata": {"creationTimestamp": null, "labels": null}});
    let got = apply(&base, &json!({"metadata": {"labels": {"a": "1", "b": null}}}), builtin(), &named(POD)).unwrap();
    assert_eq!(got, json!({"metadata": {"creationTimestamp": null, "labels": {"a": "1"}}}));
    // $deleteFromPrimitiveList/<field>: null deletes the field itself, as upstream does
    let got = patched(&pod(), POD, json!({"metadata": {"$deleteFromPrimitiveList/finalizers": null}}), "/metadata");
    assert!(got.get("finalizers").is_none());
}

#[test]
fn lists_of_scalars_with_merge_strategy() {
    let node = json!({"spec": {"podCIDRs": ["10.0.0.0/24", "10.0.1.0/24"]}});
    let root = "io.k8s.api.core.v1.Node";
    assert_eq!(patched(&node, root, json!({"spec": {"podCIDRs": ["10.0.1.0/24", "10.0.2.0/24"]}}), "/spec/podCIDRs"),
               json!(["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]));
    assert_eq!(patched(&node, root, json!({"spec": {"podCIDRs": ["fd00::/64"]}}), "/spec/podCIDRs"),
               json!(["fd00::/64", "10.0.0.0/24", "10.0.1.0/24"]));
    // duplicates within the live list and the patch collapse
    let dup = json!({"metadata": {"finalizers": ["a", "b", "a"]}});
    assert_eq!(patched(&dup, POD, json!({"metadata": {"finalizers": ["b", "b"]}}), "/metadata/finalizers"), json!(["a", "b"]));
    // $deleteFromPrimitiveList works on a list without merge strategy too
    let got = patched(&pod(), POD, json!({"spec": {"containers": [{"name": "sidecar", "$deleteFromPrimitiveList/command": ["sleep"]}]}}),
                      "/spec/containers/1/command");
    assert_eq!(got, json!(["3600"]));
}
