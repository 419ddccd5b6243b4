//! Table-driven tests with upstream's exact texts.

use serde_json::{Value, json};

use super::*;

fn msgs(errs: &[FieldError]) -> Vec<String> {
    errs.iter().map(ToString::to_string).collect()
}

/// A root schema with `spec` of the given properties.
fn spec_schema(props: Value) -> Value {
    json!({"type": "object", "properties": {"spec": {"type": "object", "properties": props}}})
}

fn cr(spec: Value) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec})
}

// ---------------------------------------------------------------------------------------------
// value validation
// ---------------------------------------------------------------------------------------------

#[test]
fn keyword_errors_match_upstream() {
    let cases: Vec<(&str, Value, Value, Vec<&str>)> = vec![
        (
            "type integer",
            json!({"replicas": {"type": "integer"}}),
            json!({"replicas": "3"}),
            vec![
                r#"spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string""#,
            ],
        ),
        (
            "type integer given a fraction",
            json!({"replicas": {"type": "integer"}}),
            json!({"replicas": 3.5}),
            vec![
                r#"spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number""#,
            ],
        ),
        (
            "integral float is an integer",
            json!({"replicas": {"type": "integer"}}),
            json!({"replicas": 3.0}),
            vec![],
        ),
        (
            "integer is a number",
            json!({"ratio": {"type": "number"}}),
            json!({"ratio": 3}),
            vec![],
        ),
        (
            "type object",
            json!({"o": {"type": "object"}}),
            json!({"o": [1]}),
            vec![
                r#"spec.o: Invalid value: "array": spec.o in body must be of type object: "array""#,
            ],
        ),
        (
            "type boolean",
            json!({"b": {"type": "boolean"}}),
            json!({"b": "true"}),
            vec![
                r#"spec.b: Invalid value: "string": spec.b in body must be of type boolean: "string""#,
            ],
        ),
        (
            "null not nullable",
            json!({"s": {"type": "string"}}),
            json!({"s": null}),
            vec![r#"spec.s: Invalid value: "null": spec.s in body must be of type string: "null""#],
        ),
        (
            "null nullable",
            json!({"s": {"type": "string", "nullable": true}}),
            json!({"s": null}),
            vec![],
        ),
        (
            "int-or-string",
            json!({"port": {"x-kubernetes-int-or-string": true}}),
            json!({"port": true}),
            vec![
                r#"spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#,
            ],
        ),
        (
            "int-or-string ok",
            json!({"port": {"x-kubernetes-int-or-string": true}}),
            json!({"port": "http"}),
            vec![],
        ),
        (
            "enum",
            json!({"size": {"type": "string", "enum": ["small", "large"]}}),
            json!({"size": "huge"}),
            vec![r#"spec.size: Unsupported value: "huge": supported values: "small", "large""#],
        ),
        (
            "enum of numbers",
            json!({"n": {"type": "integer", "enum": [1, 2]}}),
            json!({"n": 3}),
            vec![r#"spec.n: Unsupported value: 3: supported values: "1", "2""#],
        ),
        (
            "enum float matches int after truncation",
            json!({"n": {"type": "number", "enum": [1, 2]}}),
            json!({"n": 1.5}),
            vec![],
        ),
        (
            "minLength",
            json!({"name": {"type": "string", "minLength": 3}}),
            json!({"name": "ab"}),
            vec![
                r#"spec.name: Invalid value: "ab": spec.name in body should be at least 3 chars long"#,
            ],
        ),
        (
            "maxLength counts runes",
            json!({"name": {"type": "string", "maxLength": 2}}),
            json!({"name": "äöü"}),
            vec!["spec.name: Too long: may not be more than 2 bytes"],
        ),
        (
            "maxLength ok with runes",
            json!({"name": {"type": "string", "maxLength": 3}}),
            json!({"name": "äöü"}),
            vec![],
        ),
        (
            "pattern",
            json!({"name": {"type": "string", "pattern": "^[a-z]+$"}}),
            json!({"name": "ABC"}),
            vec![r#"spec.name: Invalid value: "ABC": spec.name in body should match '^[a-z]+$'"#],
        ),
        (
            "minimum",
            json!({"replicas": {"type": "integer", "minimum": 0}}),
            json!({"replicas": -1}),
            vec![
                r#"spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0"#,
            ],
        ),
        (
            "exclusiveMinimum",
            json!({"replicas": {"type": "integer", "minimum": 0, "exclusiveMinimum": true}}),
            json!({"replicas": 0}),
            vec![
                r#"spec.replicas: Invalid value: 0: spec.replicas in body should be greater than 0"#,
            ],
        ),
        (
            "maximum",
            json!({"replicas": {"type": "integer", "maximum": 10}}),
            json!({"replicas": 11}),
            vec![
                r#"spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10"#,
            ],
        ),
        (
            "exclusiveMaximum float",
            json!({"ratio": {"type": "number", "maximum": 1.5, "exclusiveMaximum": true}}),
            json!({"ratio": 1.5}),
            vec![r#"spec.ratio: Invalid value: 1.5: spec.ratio in body should be less than 1.5"#],
        ),
        (
            "maximum float prints as Go does",
            json!({"ratio": {"type": "number", "maximum": 2000000}}),
            json!({"ratio": 2500000.5}),
            vec![
                r#"spec.ratio: Invalid value: 2500000.5: spec.ratio in body should be less than or equal to 2e+06"#,
            ],
        ),
        (
            "multipleOf",
            json!({"replicas": {"type": "integer", "multipleOf": 2}}),
            json!({"replicas": 7}),
            vec![
                r#"spec.replicas: Invalid value: 7: spec.replicas in body should be a multiple of 2"#,
            ],
        ),
        (
            "multipleOf float",
            json!({"ratio": {"type": "number", "multipleOf": 0.5}}),
            json!({"ratio": 0.7}),
            vec![
                r#"spec.ratio: Invalid value: 0.7: spec.ratio in body should be a multiple of 0.5"#,
            ],
        ),
        (
            "multipleOf float ok",
            json!({"ratio": {"type": "number", "multipleOf": 0.1}}),
            json!({"ratio": 0.3}),
            vec![],
        ),
        (
            "minItems",
            json!({"items": {"type": "array", "items": {"type": "string"}, "minItems": 1}}),
            json!({"items": []}),
            vec![
                r#"spec.items: Invalid value: 0: spec.items in body should have at least 1 items"#,
            ],
        ),
        (
            "maxItems",
            json!({"items": {"type": "array", "items": {"type": "string"}, "maxItems": 2}}),
            json!({"items": ["a", "b", "c"]}),
            vec!["spec.items: Too many: 3: must have at most 2 items"],
        ),
        (
            "uniqueItems",
            json!({"items": {"type": "array", "items": {"type": "integer"}, "uniqueItems": true}}),
            json!({"items": [1, 2, 1]}),
            vec![
                r#"spec.items: Invalid value: "": spec.items in body shouldn't contain duplicates"#,
            ],
        ),
        (
            "item type",
            json!({"items": {"type": "array", "items": {"type": "integer"}}}),
            json!({"items": [1, "x"]}),
            vec![
                r#"spec.items[1]: Invalid value: "string": spec.items[1] in body must be of type integer: "string""#,
            ],
        ),
        (
            "minProperties",
            json!({"labels": {"type": "object", "additionalProperties": {"type": "string"}, "minProperties": 1}}),
            json!({"labels": {}}),
            vec![
                r#"spec.labels: Invalid value: 0: spec.labels in body should have at least 1 properties"#,
            ],
        ),
        (
            "maxProperties",
            json!({"labels": {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 1}}),
            json!({"labels": {"a": "1", "b": "2"}}),
            vec!["spec.labels: Too many: 2: must have at most 1 items"],
        ),
        (
            "additionalProperties values",
            json!({"labels": {"type": "object", "additionalProperties": {"type": "string"}}}),
            json!({"labels": {"a": 1}}),
            vec![
                r#"spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer""#,
            ],
        ),
        (
            "additionalProperties false",
            json!({"o": {"type": "object", "additionalProperties": false}}),
            json!({"o": {"extra": 1}}),
            vec![r#"spec.o: Invalid value: "extra": spec.o.extra in body is a forbidden property"#],
        ),
        (
            "required",
            json!({"o": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}),
            json!({"o": {}}),
            vec!["spec.o.name: Required value"],
        ),
        (
            "format date",
            json!({"d": {"type": "string", "format": "date"}}),
            json!({"d": "2020-13-01"}),
            vec![
                r#"spec.d: Invalid value: "2020-13-01": spec.d in body must be of type date: "2020-13-01""#,
            ],
        ),
        (
            "format date-time",
            json!({"d": {"type": "string", "format": "date-time"}}),
            json!({"d": "yesterday"}),
            vec![
                r#"spec.d: Invalid value: "yesterday": spec.d in body must be of type date-time: "yesterday""#,
            ],
        ),
        (
            "format date-time ok",
            json!({"d": {"type": "string", "format": "date-time"}}),
            json!({"d": "2020-01-01T00:00:00Z"}),
            vec![],
        ),
        (
            "format int32 is not checked",
            json!({"n": {"type": "integer", "format": "int32"}}),
            json!({"n": 99999999999i64}),
            vec![],
        ),
        (
            "unknown format is not checked",
            json!({"s": {"type": "string", "format": "k8s-name"}}),
            json!({"s": "A B"}),
            vec![],
        ),
        (
            "format on a wrong type",
            json!({"d": {"type": "string", "format": "date"}}),
            json!({"d": 5}),
            vec![r#"spec.d: Invalid value: "int64": spec.d in body must be of type date: "int64""#],
        ),
        (
            "anyOf",
            json!({"o": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "anyOf": [{"required": ["a"]}, {"required": ["b"]}]}}),
            json!({"o": {}}),
            vec![
                r#"<nil>: Invalid value: "": "spec.o" must validate at least one schema (anyOf)"#,
                "spec.o.a: Required value",
            ],
        ),
        (
            "oneOf two valid",
            json!({"o": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "oneOf": [{"required": ["a"]}, {"required": ["b"]}]}}),
            json!({"o": {"a": "x", "b": "y"}}),
            vec![
                r#"<nil>: Invalid value: "": "spec.o" must validate one and only one schema (oneOf). Found 2 valid alternatives"#,
            ],
        ),
        (
            "oneOf none valid",
            json!({"o": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "oneOf": [{"required": ["a"]}, {"required": ["b"]}]}}),
            json!({"o": {}}),
            vec![
                r#"<nil>: Invalid value: "": "spec.o" must validate one and only one schema (oneOf). Found none valid"#,
                "spec.o.a: Required value",
            ],
        ),
        (
            "allOf",
            json!({"n": {"type": "integer", "allOf": [{"minimum": 0}, {"maximum": 5}]}}),
            json!({"n": 7}),
            vec![
                r#"spec.n: Invalid value: 7: spec.n in body should be less than or equal to 5"#,
                r#"<nil>: Invalid value: "": "spec.n" must validate all the schemas (allOf)"#,
            ],
        ),
        (
            "not",
            json!({"n": {"type": "integer", "not": {"enum": [3]}}}),
            json!({"n": 3}),
            vec![r#"<nil>: Invalid value: "": "spec.n" must not validate the schema (not)"#],
        ),
    ];
    for (name, props, spec, want) in cases {
        let schema = spec_schema(props);
        let got = msgs(&validate(&cr(spec), &schema, None));
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn list_types_report_duplicates() {
    let schema = spec_schema(json!({
        "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
        "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                  "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "port": {"type": "integer"}}}},
    }));
    let errs = validate(
        &cr(
            json!({"tags": ["a", "b", "a", "a"], "ports": [{"name": "a", "port": 1}, {"name": "a", "port": 2}]}),
        ),
        &schema,
        None,
    );
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(
        errs[0].to_string(),
        r#"spec.ports[1]: Duplicate value: {"name":"a"}"#
    );
    assert_eq!(errs[0].kind, ErrorKind::Duplicate);
    assert_eq!(errs[1].to_string(), r#"spec.tags[2]: Duplicate value: "a""#);
    // upstream prints a map key value with Go's %#v
    assert_eq!(
        gofmt::go_sharp_v(errs[0].value.as_ref().unwrap()),
        r#"map[string]interface {}{"name":"a"}"#
    );
}

#[test]
fn embedded_resources_are_checked() {
    let schema = spec_schema(json!({
        "template": {"type": "object", "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true},
    }));
    let got = msgs(&validate(
        &cr(json!({"template": {"metadata": {"name": "a/b"}}})),
        &schema,
        None,
    ));
    assert_eq!(
        got,
        vec![
            "spec.template.apiVersion: Required value: must not be empty",
            "spec.template.kind: Required value: must not be empty",
            r#"spec.template.metadata.name: Invalid value: "a/b": may not contain '/'"#,
        ]
    );
    let got = msgs(&validate(
        &cr(json!({"template": {"apiVersion": "a/b/c", "kind": "Foo_Bar"}})),
        &schema,
        None,
    ));
    assert_eq!(
        got[0],
        r#"spec.template.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c"#
    );
    assert!(got[1].starts_with(r#"spec.template.kind: Invalid value: "Foo_Bar": may have mixed case, but should otherwise match: a lowercase RFC 1123 label"#) || got[1].starts_with(r#"spec.template.kind: Invalid value: "Foo_Bar": may have mixed case, but should otherwise match: a DNS-1035 label"#), "{got:?}");
    assert!(
        validate(
            &cr(
                json!({"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}})
            ),
            &schema,
            None
        )
        .is_empty()
    );
}

#[test]
fn ratcheting_keeps_unchanged_invalid_values() {
    let schema = spec_schema(
        json!({"name": {"type": "string", "maxLength": 3}, "other": {"type": "string"}}),
    );
    let old = cr(json!({"name": "toolong", "other": "a"}));
    let unchanged = cr(json!({"name": "toolong", "other": "b"}));
    let s = CrdSchema::new(&schema);
    let v = s.validate(&unchanged, Some(&old));
    assert!(v.errors.is_empty(), "{:?}", v.errors);
    assert_eq!(
        msgs(&v.warnings),
        vec!["spec.name: Too long: may not be more than 3 bytes"]
    );
    let changed = cr(json!({"name": "toolonger", "other": "a"}));
    assert_eq!(
        msgs(&s.validate(&changed, Some(&old)).errors),
        vec!["spec.name: Too long: may not be more than 3 bytes"]
    );
    // a create has nothing to ratchet against
    assert_eq!(
        msgs(&s.validate(&unchanged, None).errors),
        vec!["spec.name: Too long: may not be more than 3 bytes"]
    );
}

// ---------------------------------------------------------------------------------------------
// CEL
// ---------------------------------------------------------------------------------------------

fn cel_schema(rules: Value) -> Value {
    json!({"type": "object", "properties": {"spec": {"type": "object", "x-kubernetes-validations": rules,
        "properties": {"replicas": {"type": "integer"}, "maxReplicas": {"type": "integer"}, "name": {"type": "string"},
                       "items": {"type": "array", "items": {"type": "integer"}}, "my-field": {"type": "string"}}}}})
}

#[test]
fn cel_rules() {
    let spec = json!({"replicas": 5, "maxReplicas": 3, "name": "abc", "items": [1, 2, 3], "my-field": "x"});
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        ("passing", json!([{"rule": "self.replicas >= 0"}]), vec![]),
        (
            "failing without message",
            json!([{"rule": "self.replicas <= self.maxReplicas"}]),
            vec![
                r#"spec: Invalid value: "object": failed rule: self.replicas <= self.maxReplicas"#,
            ],
        ),
        (
            "message",
            json!([{"rule": "self.replicas <= self.maxReplicas", "message": "replicas must not exceed maxReplicas"}]),
            vec![r#"spec: Invalid value: "object": replicas must not exceed maxReplicas"#],
        ),
        (
            "messageExpression",
            json!([{"rule": "self.replicas <= self.maxReplicas", "messageExpression": "'replicas ' + string(self.replicas) + ' exceeds ' + string(self.maxReplicas)"}]),
            vec![r#"spec: Invalid value: "object": replicas 5 exceeds 3"#],
        ),
        (
            "fieldPath and reason",
            json!([{"rule": "self.replicas <= self.maxReplicas", "fieldPath": ".replicas", "reason": "FieldValueForbidden", "message": "too many"}]),
            vec!["spec.replicas: Forbidden: too many"],
        ),
        (
            "macros and strings",
            json!([{"rule": "self.items.all(x, x > 0) && self.items.exists(x, x == 2) && self.name.startsWith('a') && self.name.matches('^[a-z]+$') && size(self.items.filter(x, x > 1)) == 2 && self.items.map(x, x * 2)[2] == 6"}]),
            vec![],
        ),
        (
            "has",
            json!([{"rule": "has(self.name) && !has(self.missing)"}]),
            vec![],
        ),
        (
            "escaped property",
            json!([{"rule": "self.my__dash__field == 'x'"}]),
            vec![],
        ),
        (
            "string extension",
            json!([{"rule": "self.name.upperAscii() == 'ABC' && self.name.indexOf('b') == 1"}]),
            vec![],
        ),
        (
            "k8s list library",
            json!([{"rule": "self.items.isSorted() && self.items.sum() == 6 && self.items.max() == 3"}]),
            vec![],
        ),
        (
            "runtime error",
            json!([{"rule": "self.missing == 1"}]),
            vec![
                r#"spec: Invalid value: "object": no such key: missing evaluating rule: self.missing == 1"#,
            ],
        ),
    ];
    for (name, rules, want) in cases {
        let got = msgs(&validate(&cr(spec.clone()), &cel_schema(rules), None));
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn cel_transition_rules_need_old_self() {
    let schema =
        cel_schema(json!([{"rule": "self.name == oldSelf.name", "message": "name is immutable"}]));
    let old = cr(json!({"name": "a"}));
    let new = cr(json!({"name": "b"}));
    // on create the transition rule does not run
    assert!(validate(&new, &schema, None).is_empty());
    assert_eq!(
        msgs(&validate(&new, &schema, Some(&old))),
        vec![r#"spec: Invalid value: "object": name is immutable"#]
    );
    assert!(validate(&old, &schema, Some(&old)).is_empty());
}

#[test]
fn cel_is_skipped_after_blocking_errors_and_ratchets() {
    let mut schema = cel_schema(json!([{"rule": "self.replicas <= self.maxReplicas"}]));
    schema["properties"]["spec"]["required"] = json!(["name"]);
    let got = msgs(&validate(
        &cr(json!({"replicas": 5, "maxReplicas": 3})),
        &schema,
        None,
    ));
    assert_eq!(
        got,
        vec![
            "spec.name: Required value",
            r#"<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"#,
        ]
    );
    // an unchanged failing spec is only warned about on update
    let s = CrdSchema::new(&cel_schema(
        json!([{"rule": "self.replicas <= self.maxReplicas"}]),
    ));
    let old = cr(json!({"replicas": 5, "maxReplicas": 3}));
    let mut new = old.clone();
    new["metadata"]["labels"] = json!({"a": "b"});
    let v = s.validate(&new, Some(&old));
    assert!(v.errors.is_empty(), "{:?}", v.errors);
    assert_eq!(
        msgs(&v.warnings),
        vec![r#"spec: Invalid value: "object": failed rule: self.replicas <= self.maxReplicas"#]
    );
}

#[test]
fn cel_root_rule_sees_metadata_name() {
    let schema = json!({"type": "object", "x-kubernetes-validations": [{"rule": "self.metadata.name.startsWith('w')"}, {"rule": "self.kind == 'Other'"}],
        "properties": {"spec": {"type": "object"}}});
    assert_eq!(
        msgs(&validate(&cr(json!({})), &schema, None)),
        vec![r#"<nil>: Invalid value: "object": failed rule: self.kind == 'Other'"#]
    );
}

// ---------------------------------------------------------------------------------------------
// pruning
// ---------------------------------------------------------------------------------------------

#[test]
fn pruning_reports_paths() {
    let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "a": {"type": "integer"},
        "nested": {"type": "object", "properties": {"x": {"type": "integer"}}},
        "list": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}}},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"typed": {"type": "object", "properties": {"t": {"type": "string"}}}}},
        "map": {"type": "object", "additionalProperties": {"type": "object", "properties": {"v": {"type": "string"}}}},
    }}}});
    let mut obj = json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w", "foo": "bar", "labels": {"a": "b"}, "creationTimestamp": null},
        "top": 1,
        "spec": {"a": 1, "unknown": 2, "nested": {"x": 1, "y": 2}, "list": [{"k": "a", "z": 1}],
                 "free": {"anything": {"deep": 1}, "typed": {"t": "x", "u": 1}}, "map": {"m1": {"v": "x", "w": 1}}},
    });
    let paths = prune(&mut obj, &schema, true);
    assert_eq!(
        paths,
        vec![
            "metadata.foo",
            "spec.free.typed.u",
            "spec.list[0].z",
            "spec.map.m1.w",
            "spec.nested.y",
            "spec.unknown",
            "top"
        ]
    );
    assert_eq!(
        obj,
        json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w", "labels": {"a": "b"}},
            "spec": {"a": 1, "nested": {"x": 1}, "list": [{"k": "a"}], "free": {"anything": {"deep": 1}, "typed": {"t": "x"}}, "map": {"m1": {"v": "x"}}},
        })
    );
}

#[test]
fn pruning_embedded_resources_and_nulls() {
    let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "template": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "object", "properties": {"image": {"type": "string"}}}}},
        "opt": {"type": "string"},
        "nullable": {"type": "string", "nullable": true},
        "defaulted": {"type": "string", "default": "d"},
    }}}});
    let mut obj = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {
        "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "bogus": 1, "generation": 2.0}, "spec": {"image": "x", "extra": true}, "status": {}},
        "opt": null, "nullable": null, "defaulted": null,
    }});
    let paths = prune(&mut obj, &schema, true);
    assert_eq!(
        paths,
        vec![
            "spec.template.spec.extra",
            "spec.template.status",
            "spec.template.metadata.bogus"
        ]
    );
    assert_eq!(
        obj["spec"],
        json!({"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "generation": 2}, "spec": {"image": "x"}},
               "nullable": null, "defaulted": null})
    );
    // the non-nullable null with a default is defaulted afterwards
    apply_defaults(&mut obj, &schema);
    assert_eq!(obj["spec"]["defaulted"], json!("d"));
}

#[test]
fn pruning_without_resource_root_drops_meta_fields_silently() {
    let schema = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    let mut v = json!({"a": "x", "metadata": {"x": 1}, "b": 2});
    // upstream does not report a dropped apiVersion/kind/metadata at the top
    assert_eq!(prune(&mut v, &schema, false), vec!["b"]);
    assert_eq!(v, json!({"a": "x"}));
}

// ---------------------------------------------------------------------------------------------
// defaulting
// ---------------------------------------------------------------------------------------------

#[test]
fn defaulting() {
    let schema = json!({"type": "object", "properties": {"spec": {"type": "object", "default": {}, "properties": {
        "replicas": {"type": "integer", "default": 1},
        "strategy": {"type": "object", "default": {"type": "Rolling", "bogus": 1}, "properties": {"type": {"type": "string"}, "maxSurge": {"type": "integer", "default": 2}}},
        "ports": {"type": "array", "items": {"type": "object", "properties": {"port": {"type": "integer", "default": 80}, "proto": {"type": "string", "default": "TCP"}}}},
        "labels": {"type": "object", "additionalProperties": {"type": "string", "default": "v"}},
        "nullable": {"type": "string", "nullable": true, "default": "n"},
        "list": {"type": "array", "items": {"type": "string", "default": "item"}},
    }}}});
    let mut obj =
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
    apply_defaults(&mut obj, &schema);
    // an absent nullable field is defaulted too; the default of `strategy` is pruned first
    assert_eq!(
        obj["spec"],
        json!({"replicas": 1, "nullable": "n", "strategy": {"type": "Rolling", "maxSurge": 2}})
    );

    let mut obj = cr(
        json!({"replicas": 3, "ports": [{"port": 8080}, {"proto": "UDP"}], "labels": {"a": null, "b": "x"}, "nullable": null, "list": ["a", null]}),
    );
    apply_defaults(&mut obj, &schema);
    assert_eq!(
        obj["spec"],
        json!({"replicas": 3, "strategy": {"type": "Rolling", "maxSurge": 2},
               "ports": [{"port": 8080, "proto": "TCP"}, {"port": 80, "proto": "UDP"}],
               "labels": {"a": "v", "b": "x"}, "nullable": null, "list": ["a", "item"]})
    );
}

#[test]
fn embedded_metadata_defaults() {
    let schema = spec_schema(
        json!({"template": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {
            "metadata": {"type": "object", "properties": {"labels": {"type": "object", "default": {"app": "x"}, "additionalProperties": {"type": "string"}}}},
        }}}),
    );
    assert!(
        check_structural(&schema).is_empty(),
        "{:?}",
        check_structural(&schema)
    );
    let mut obj = cr(json!({"template": {"apiVersion": "v1", "kind": "Pod", "metadata": {}}}));
    apply_defaults(&mut obj, &schema);
    assert_eq!(
        obj["spec"]["template"]["metadata"],
        json!({"labels": {"app": "x"}})
    );
}

// ---------------------------------------------------------------------------------------------
// structural schema checks
// ---------------------------------------------------------------------------------------------

#[test]
fn structural_errors() {
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            "valid",
            spec_schema(json!({"replicas": {"type": "integer"}})),
            vec![],
        ),
        (
            "missing type",
            json!({"type": "object", "properties": {"spec": {"properties": {"a": {"type": "string"}}}}}),
            vec![
                "openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields",
            ],
        ),
        (
            "missing type of items and at the root",
            json!({"properties": {"l": {"type": "array", "items": {}}}}),
            vec![
                "openAPIV3Schema.properties[l].items.type: Required value: must not be empty for specified array items",
                "openAPIV3Schema.type: Required value: must not be empty at the root",
            ],
        ),
        (
            "root type",
            json!({"type": "string"}),
            vec![r#"openAPIV3Schema.type: Invalid value: "string": must be object at the root"#],
        ),
        (
            "array without items",
            spec_schema(json!({"l": {"type": "array"}})),
            vec![
                "openAPIV3Schema.properties[spec].properties[l].items: Required value: must be specified",
            ],
        ),
        (
            "properties and additionalProperties",
            spec_schema(
                json!({"m": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}}}),
            ),
            vec![
                "openAPIV3Schema.properties[spec].properties[m].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive",
            ],
        ),
        (
            "additionalProperties at the root",
            json!({"type": "object", "additionalProperties": {"type": "string"}}),
            vec!["openAPIV3Schema.additionalProperties: Forbidden: must not be used at the root"],
        ),
        (
            "metadata restrictions",
            json!({"type": "object", "properties": {"metadata": {"type": "object", "properties": {"labels": {"type": "object"}}}}}),
            vec![
                "openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified",
            ],
        ),
        (
            "metadata name only",
            json!({"type": "object", "properties": {"metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 10}}}}}),
            vec![],
        ),
        (
            "nested type",
            spec_schema(json!({"a": {"type": "string", "anyOf": [{"type": "string"}]}})),
            vec![
                "openAPIV3Schema.properties[spec].properties[a].anyOf[0].type: Forbidden: must be empty to be structural",
            ],
        ),
        (
            "int-or-string anyOf pattern",
            spec_schema(
                json!({"p": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]}}),
            ),
            vec![],
        ),
        (
            "completeness",
            json!({"type": "object", "properties": {"spec": {"type": "object"}}, "anyOf": [{"properties": {"foo": {"minimum": 1}}}]}),
            vec![
                "openAPIV3Schema.properties[foo]: Required value: because it is defined in openAPIV3Schema.anyOf[0].properties[foo]",
            ],
        ),
        (
            "nullable root",
            json!({"type": "object", "nullable": true}),
            vec!["openAPIV3Schema.nullable: Forbidden: nullable cannot be true at the root"],
        ),
        (
            "embedded without properties",
            spec_schema(json!({"t": {"type": "object", "x-kubernetes-embedded-resource": true}})),
            vec![
                "openAPIV3Schema.properties[spec].properties[t].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
            ],
        ),
        (
            "bad pattern",
            spec_schema(json!({"s": {"type": "string", "pattern": "(a"}})),
            vec![
                "openAPIV3Schema.properties[spec].properties[s].pattern: Invalid value: \"(a\": must be a valid regular expression, but isn't: error parsing regexp: missing closing ): `(a`",
            ],
        ),
        (
            "$ref",
            spec_schema(json!({"s": {"type": "string", "$ref": "#/definitions/x"}})),
            vec![
                "openAPIV3Schema.properties[spec].properties[s].$ref: Forbidden: $ref is not supported",
            ],
        ),
        (
            "type null",
            spec_schema(json!({"s": {"type": "null"}})),
            vec![
                r#"openAPIV3Schema.properties[spec].properties[s].type: Unsupported value: "null": supported values: "array", "boolean", "integer", "number", "object", "string""#,
                "openAPIV3Schema.properties[spec].properties[s].type: Forbidden: type cannot be set to null, use nullable as an alternative",
            ],
        ),
        (
            "list-type map",
            spec_schema(
                json!({"l": {"type": "array", "x-kubernetes-list-type": "map", "items": {"type": "object", "properties": {"k": {"type": "string"}}}}}),
            ),
            vec![
                "openAPIV3Schema.properties[spec].properties[l].x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map",
            ],
        ),
        (
            "list-map key without default",
            spec_schema(
                json!({"l": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["k"], "items": {"type": "object", "properties": {"k": {"type": "string"}}}}}),
            ),
            vec![
                "openAPIV3Schema.properties[spec].properties[l].items.properties[k].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
            ],
        ),
        (
            "bad list type",
            spec_schema(
                json!({"l": {"type": "array", "x-kubernetes-list-type": "bag", "items": {"type": "string"}}}),
            ),
            vec![
                r#"openAPIV3Schema.properties[spec].properties[l].x-kubernetes-list-type: Unsupported value: "bag": supported values: "atomic", "set", "map""#,
            ],
        ),
        (
            "default in top-level metadata",
            json!({"type": "object", "properties": {"metadata": {"type": "object", "properties": {"name": {"type": "string", "default": "x"}}}}}),
            vec![
                "openAPIV3Schema.properties[metadata].properties[name].default: Forbidden: must not be set in top-level metadata",
            ],
        ),
        (
            "default of a wrong type",
            spec_schema(json!({"replicas": {"type": "integer", "default": "one"}})),
            vec![
                r#"openAPIV3Schema.properties[spec].properties[replicas].default: Invalid value: "string":  in body must be of type integer: "string""#,
            ],
        ),
        (
            "default violating maximum",
            spec_schema(json!({"replicas": {"type": "integer", "maximum": 3, "default": 5}})),
            vec![
                r#"openAPIV3Schema.properties[spec].properties[replicas].default: Invalid value: 5:  in body should be less than or equal to 3"#,
            ],
        ),
        (
            "default failing a rule",
            spec_schema(
                json!({"replicas": {"type": "integer", "default": 5, "x-kubernetes-validations": [{"rule": "self < 3"}]}}),
            ),
            vec![
                r#"openAPIV3Schema.properties[spec].properties[replicas].default: Invalid value: "integer": failed rule: self < 3"#,
            ],
        ),
        (
            "rule checks",
            spec_schema(
                json!({"a": {"type": "string", "x-kubernetes-validations": [{"rule": " "}, {"rule": "self == 'x'", "reason": "Bogus"}, {"rule": "self == 'x'", "fieldPath": ".nope"}]}}),
            ),
            vec![
                "openAPIV3Schema.properties[spec].properties[a].x-kubernetes-validations[0].rule: Required value: rule is not specified",
                r#"openAPIV3Schema.properties[spec].properties[a].x-kubernetes-validations[1].reason: Unsupported value: "Bogus": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired""#,
                r#"openAPIV3Schema.properties[spec].properties[a].x-kubernetes-validations[2].fieldPath: Invalid value: ".nope": fieldPath must be a valid path"#,
            ],
        ),
        (
            "oldSelf in an atomic list item",
            spec_schema(
                json!({"l": {"type": "array", "items": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf"}]}}}),
            ),
            vec![
                r#"openAPIV3Schema.properties[spec].properties[l].items.x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within openAPIV3Schema.properties[spec].properties[l]"#,
            ],
        ),
    ];
    for (name, schema, want) in cases {
        assert_eq!(check_structural(&schema), want, "{name}");
    }
}

#[test]
fn structural_check_details() {
    // errors of ValidateStructural come sorted by message
    let schema = json!({"type": "object", "properties": {"b": {}, "a": {}}});
    assert_eq!(
        check_structural(&schema),
        vec![
            "openAPIV3Schema.properties[a].type: Required value: must not be empty for specified object fields",
            "openAPIV3Schema.properties[b].type: Required value: must not be empty for specified object fields",
        ]
    );
    // a default with unknown fields
    let schema = spec_schema(
        json!({"o": {"type": "object", "default": {"a": "x", "b": 1}, "properties": {"a": {"type": "string"}}}}),
    );
    let errs = check_schema(
        &schema,
        "spec.versions[0].schema.openAPIV3Schema",
        CheckOptions::default(),
    );
    assert_eq!(errs.len(), 1);
    assert_eq!(
        errs[0].path,
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[o].default"
    );
    assert_eq!(errs[0].detail, "must not have unknown fields");
    // a rule that does not parse
    let schema = spec_schema(
        json!({"a": {"type": "string", "x-kubernetes-validations": [{"rule": "self =="}]}}),
    );
    let errs = check_schema(&schema, "openAPIV3Schema", CheckOptions::default());
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(
        errs[0].path,
        "openAPIV3Schema.properties[spec].properties[a].x-kubernetes-validations[0].rule"
    );
    assert!(
        errs[0].detail.starts_with("compilation failed: "),
        "{}",
        errs[0].detail
    );
    // status subresource root restrictions
    let schema = json!({"type": "object", "anyOf": [{"required": ["spec"]}], "properties": {"spec": {"type": "object"}}});
    let errs = check_schema(
        &schema,
        "openAPIV3Schema",
        CheckOptions {
            status_subresource: true,
        },
    );
    assert_eq!(errs[0].path, "openAPIV3Schema");
    assert!(
        errs[0]
            .detail
            .starts_with("only [Description Type Format Title"),
        "{}",
        errs[0].detail
    );
    // an unsupported field only shows when nothing else is wrong
    let schema = json!({"type": "object", "items": [{"type": "string"}]});
    assert_eq!(
        check_structural(&schema),
        vec!["openAPIV3Schema.items: Forbidden: items must be a schema object and not an array"]
    );
}

// ---------------------------------------------------------------------------------------------
// printer columns and selectable fields
// ---------------------------------------------------------------------------------------------

#[test]
fn printer_columns() {
    let now: jiff::Timestamp = "2024-01-01T00:05:00Z".parse().unwrap();
    let obj = json!({"metadata": {"creationTimestamp": "2024-01-01T00:00:00Z"},
        "spec": {"replicas": 3, "ratio": 2.7, "on": true, "sel": {"a": "<b>"}, "name": "x", "bad": "yesterday"},
        "status": {"conditions": [{"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}]}});
    let cases: Vec<(&str, &str, Value)> = vec![
        (".spec.replicas", "integer", json!(3)),
        (".spec.ratio", "integer", json!(2)),
        (".spec.replicas", "number", json!(3.0)),
        (".spec.replicas", "string", json!("3")),
        (".spec.ratio", "string", json!("2.7")),
        (".spec.on", "boolean", json!(true)),
        (".spec.name", "boolean", Value::Null),
        (".spec.sel", "string", json!(r#"{"a":"\u003cb\u003e"}"#)),
        (
            ".status.conditions[?(@.type==\"Ready\")].status",
            "string",
            json!("True"),
        ),
        (".status.conditions[-1].type", "string", json!("Ready")),
        (".spec.missing", "string", Value::Null),
        (".metadata.creationTimestamp", "date", json!("5m")),
        (".spec.bad", "date", json!("<invalid>")),
    ];
    for (path, t, want) in cases {
        assert_eq!(
            printer_column_value_at(&obj, path, t, "", now),
            want,
            "{path} {t}"
        );
    }
}

#[test]
fn selectable_fields() {
    let obj = json!({"spec": {"color": "blue", "size": 3, "on": false, "ratio": 1.5}});
    assert_eq!(
        selectable_field_value(&obj, ".spec.color").as_deref(),
        Some("blue")
    );
    assert_eq!(
        selectable_field_value(&obj, ".spec.size").as_deref(),
        Some("3")
    );
    assert_eq!(
        selectable_field_value(&obj, ".spec.on").as_deref(),
        Some("false")
    );
    assert_eq!(
        selectable_field_value(&obj, ".spec.ratio").as_deref(),
        Some("1.5")
    );
    assert_eq!(selectable_field_value(&obj, ".spec.missing"), None);
    assert!(json_path_is_valid(
        ".status.conditions[?(@.type==\"Ready\")].status"
    ));
    assert!(!json_path_is_valid(".a[unclosed"));
}

/// Cases whose expected texts come from upstream's own unit tests (compared as sets, as
/// upstream compares them).
#[test]
fn upstream_validation_cases() {
    let int_or_string_any_of = json!({"type": "object", "properties": {"field": {"nullable": true, "x-kubernetes-int-or-string": true,
        "anyOf": [{"type": "integer"}, {"type": "string"}]}}});
    let int_or_string_all_of = json!({"type": "object", "properties": {"field": {"nullable": true, "x-kubernetes-int-or-string": true,
        "allOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]}]}}});
    let enum_schema = json!({"type": "object", "properties": {"field": {"type": "object", "required": ["nestedint", "nestedstring"], "properties": {
        "nestedint": {"type": "integer", "enum": [1, 2]}, "nestedstring": {"type": "string", "enum": ["a", "b"]}}}}});
    let bad_regex =
        json!({"type": "object", "properties": {"field": {"type": "string", "pattern": "+"}}});
    let cases: Vec<(&Value, Value, Vec<&str>)> = vec![
        (&int_or_string_any_of, json!({"field": 42}), vec![]),
        (&int_or_string_any_of, json!({"field": null}), vec![]),
        (
            &int_or_string_any_of,
            json!({"field": true}),
            vec![
                r#"<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)"#,
                r#"field: Invalid value: "boolean": field in body must be of type integer,string: "boolean""#,
                r#"field: Invalid value: "boolean": field in body must be of type integer: "boolean""#,
            ],
        ),
        (
            &int_or_string_all_of,
            json!({"field": {}}),
            vec![
                r#"<nil>: Invalid value: "": "field" must validate all the schemas (allOf). None validated"#,
                r#"<nil>: Invalid value: "": "field" must validate at least one schema (anyOf)"#,
                r#"field: Invalid value: "object": field in body must be of type integer,string: "object""#,
                r#"field: Invalid value: "object": field in body must be of type integer: "object""#,
            ],
        ),
        (
            &enum_schema,
            json!({"field": {"nestedint": "x", "nestedstring": true}}),
            vec![
                r#"field.nestedint: Invalid value: "string": field.nestedint in body must be of type integer: "string""#,
                r#"field.nestedint: Unsupported value: "x": supported values: "1", "2""#,
                r#"field.nestedstring: Invalid value: "boolean": field.nestedstring in body must be of type string: "boolean""#,
                r#"field.nestedstring: Unsupported value: true: supported values: "a", "b""#,
            ],
        ),
        (
            &enum_schema,
            json!({"field": {}}),
            vec![
                "field.nestedint: Required value",
                "field.nestedstring: Required value",
            ],
        ),
        (
            &bad_regex,
            json!({"field": "foo"}),
            vec![
                "field: Invalid value: \"foo\": field in body should match '+, but pattern is invalid: error parsing regexp: missing argument to repetition operator: `+`'",
            ],
        ),
    ];
    for (schema, obj, want) in cases {
        let mut got = msgs(&CrdSchema::new(schema).validate(&obj, None).errors);
        got.sort();
        let mut want: Vec<String> = want.into_iter().map(String::from).collect();
        want.sort();
        assert_eq!(got, want, "{obj}");
    }
    // upstream's "immutability transition rule"
    let schema = json!({"type": "object", "properties": {"field": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf"}]}}});
    let s = CrdSchema::new(&schema);
    assert!(
        s.validate(&json!({"field": "x"}), Some(&json!({"field": "x"})))
            .errors
            .is_empty()
    );
    assert_eq!(
        msgs(
            &s.validate(&json!({"field": "y"}), Some(&json!({"field": "x"})))
                .errors
        ),
        vec![r#"field: Invalid value: "string": failed rule: self == oldSelf"#]
    );
}

/// Pruning cases with paths taken from upstream's pruning tests.
#[test]
fn upstream_pruning_cases() {
    let cases: Vec<(Value, Value, Value, Vec<&str>)> = vec![
        (
            json!({"items": {"properties": {"a": {}, "c": {}}}}),
            json!([{"a": 1}, {"b": 1}, {"a": 1, "b": 2, "c": 3}]),
            json!([{"a": 1}, {}, {"a": 1, "c": 3}]),
            vec!["[1].b", "[2].b"],
        ),
        (
            json!({"properties": {"array": {"items": {"properties": {"a": {}, "c": {}}}}, "specified": {"properties": {"a": {}, "c": {}}}}}),
            json!({"array": [{"a": 1}, {"b": 1}, {"a": 1, "b": 2, "c": 3}], "unspecified": {"a": 1}, "specified": {"a": 1, "b": 2, "c": 3}}),
            json!({"array": [{"a": 1}, {}, {"a": 1, "c": 3}], "specified": {"a": 1, "c": 3}}),
            vec!["array[1].b", "array[2].b", "specified.b", "unspecified"],
        ),
        (
            json!({"properties": {"a": {}, "c": {"additionalProperties": {"type": "integer"}}}}),
            json!({"a": 1, "b": 1, "c": {"a": 1, "b": 2, "c": {"a": 1}}}),
            json!({"a": 1, "c": {"a": 1, "b": 2, "c": {}}}),
            vec!["b", "c.c.a"],
        ),
        (
            json!({"properties": {"a": {}, "c": {"additionalProperties": false}}}),
            json!({"a": 1, "b": 1, "c": {"a": 1, "b": 2, "c": {"a": 1, "apiVersion": "unknown"}}}),
            json!({"a": 1, "c": {"a": 1, "b": 2, "c": {}}}),
            vec!["b", "c.c.a", "c.c.apiVersion"],
        ),
    ];
    for (schema, mut obj, want_obj, want_paths) in cases {
        let paths = prune(&mut obj, &schema, false);
        assert_eq!(obj, want_obj);
        assert_eq!(paths, want_paths);
    }
}

#[test]
fn prune_unknown_fields_leaves_metadata_alone() {
    let schema = spec_schema(json!({"a": {"type": "string"}}));
    let mut obj = json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "n", "bogus": 1}, "spec": {"a": "x", "b": null, "c": 1}});
    let paths = CrdSchema::new(&schema).prune_unknown_fields(&mut obj);
    assert_eq!(paths, vec!["spec.b", "spec.c"]);
    assert_eq!(
        obj,
        json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "n", "bogus": 1}, "spec": {"a": "x"}})
    );
}
