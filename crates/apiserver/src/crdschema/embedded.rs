//! Checks that run besides the OpenAPI validation of a custom resource: embedded resources'
//! TypeMeta/ObjectMeta (upstream `schema/objectmeta.Validate`) and the uniqueness of
//! `x-kubernetes-list-type: set|map` lists (upstream `schema/listtype`).

use std::collections::{BTreeMap, HashMap};

use apimachinery::field::FieldError;
use apimachinery::validation::{
    FieldIssue, is_dns1035_label, validate_annotations, validate_labels,
};
use serde_json::{Map, Value};

use super::gofmt::{Num, go_json, num};
use super::prune::{Node, coerce_object_meta};
use super::schema::Schema;

fn child(p: &str, k: &str) -> String {
    if p.is_empty() {
        k.to_string()
    } else {
        format!("{p}.{k}")
    }
}

/// Upstream `objectmeta.Validate`: checks apiVersion, kind and metadata of every
/// `x-kubernetes-embedded-resource` object (and of the root when `is_resource_root`).
pub(crate) fn validate_embedded(
    base: &str,
    obj: &Value,
    s: &Schema,
    is_resource_root: bool,
) -> Vec<FieldError> {
    let node = if is_resource_root {
        Node::root(s)
    } else {
        Node::new(s)
    };
    let mut errs = Vec::new();
    walk(base, obj, node, &mut errs);
    errs
}

fn walk(p: &str, x: &Value, n: Node<'_>, errs: &mut Vec<FieldError>) {
    match x {
        Value::Object(m) => {
            if n.embedded {
                validate_embedded_resource(p, m, errs);
            }
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                if let Some(ps) = n.s.property(k) {
                    walk(&child(p, k), &m[k.as_str()], Node::new(ps), errs);
                } else if let Some(ap) = &n.s.additional_properties
                    && let Some(aps) = ap.schema()
                {
                    walk(&format!("{p}[{k}]"), &m[k.as_str()], Node::new(aps), errs);
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = n.s.items.as_deref() {
                for (i, v) in a.iter().enumerate() {
                    walk(&format!("{p}[{i}]"), v, Node::new(items), errs);
                }
            }
        }
        _ => {}
    }
}

fn issue_at(prefix: &str, i: FieldIssue) -> FieldError {
    let mut fe = i.to_field_error();
    // the helpers report at `metadata.<field>` (or the path they were given)
    if !prefix.is_empty() && !fe.path.starts_with(prefix) {
        fe.path = format!("{prefix}.{}", fe.path);
    }
    fe
}

fn validate_embedded_resource(p: &str, x: &Map<String, Value>, errs: &mut Vec<FieldError>) {
    if !x.contains_key("apiVersion") {
        errs.push(FieldError::required(
            child(p, "apiVersion"),
            "must not be empty",
        ));
    }
    if !x.contains_key("kind") {
        errs.push(FieldError::required(child(p, "kind"), "must not be empty"));
    }
    if let Some(v) = x.get("apiVersion") {
        let path = child(p, "apiVersion");
        match v.as_str() {
            None => errs.push(FieldError::invalid(
                path,
                null_as_text(v),
                "must be a string",
            )),
            Some("") => errs.push(FieldError::invalid(path, "", "must not be empty")),
            Some(av) if av != "/" && av.matches('/').count() > 1 => errs.push(FieldError::invalid(
                path,
                av,
                format!("unexpected GroupVersion string: {av}"),
            )),
            _ => {}
        }
    }
    if let Some(v) = x.get("kind") {
        let path = child(p, "kind");
        match v.as_str() {
            None => errs.push(FieldError::invalid(
                path,
                null_as_text(v),
                "must be a string",
            )),
            Some("") => errs.push(FieldError::invalid(path, "", "must not be empty")),
            Some(k) => {
                let e = is_dns1035_label(&k.to_lowercase());
                if !e.is_empty() {
                    errs.push(FieldError::invalid(
                        path,
                        k,
                        format!(
                            "may have mixed case, but should otherwise match: {}",
                            e.join(",")
                        ),
                    ));
                }
            }
        }
    }
    if let Some(v) = x.get("metadata") {
        let mpath = child(p, "metadata");
        let mut tmp = Map::new();
        tmp.insert("metadata".into(), v.clone());
        match coerce_object_meta(&mut tmp, "", false) {
            Err(e) => errs.push(FieldError::invalid(mpath, null_as_text(v), e)),
            Ok(_) => {
                let meta = tmp
                    .get("metadata")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                validate_object_meta(&mpath, &meta, errs);
            }
        }
    }
}

/// A bad value for `FieldError`: upstream prints a nil value as `"null"`.
fn null_as_text(v: &Value) -> Value {
    if v.is_null() {
        Value::String("null".into())
    } else {
        super::gofmt::field_value(v)
    }
}

fn path_segment_name(name: &str, prefix: bool) -> Vec<String> {
    if !prefix && (name == "." || name == "..") {
        return vec![format!("may not be '{name}'")];
    }
    ["/", "%"]
        .iter()
        .filter(|c| name.contains(**c))
        .map(|c| format!("may not contain '{c}'"))
        .collect()
}

/// Upstream `ValidateObjectMetaAccessor` with `path.ValidatePathSegmentName` for names, as
/// embedded resources use it (an empty name counts as given).
fn validate_object_meta(mpath: &str, meta: &Map<String, Value>, errs: &mut Vec<FieldError>) {
    let s = |k: &str| {
        meta.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let generate_name = s("generateName");
    let name = if s("name").is_empty() {
        "fakename".to_string()
    } else {
        s("name")
    };
    let namespace = s("namespace");
    if !generate_name.is_empty() {
        for m in path_segment_name(&generate_name, true) {
            errs.push(FieldError::invalid(
                child(mpath, "generateName"),
                generate_name.as_str(),
                m,
            ));
        }
    }
    for m in path_segment_name(&name, false) {
        errs.push(FieldError::invalid(child(mpath, "name"), name.as_str(), m));
    }
    if !namespace.is_empty() {
        for m in apimachinery::validation::validate_namespace_name(&namespace, false) {
            errs.push(FieldError::invalid(
                child(mpath, "namespace"),
                namespace.as_str(),
                m,
            ));
        }
    }
    if let Some(Num::Int(g)) = meta.get("generation").and_then(num)
        && g < 0
    {
        errs.push(FieldError::invalid(
            child(mpath, "generation"),
            g,
            "must be greater than or equal to 0",
        ));
    }
    let str_map = |k: &str| -> BTreeMap<String, String> {
        meta.get(k)
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let lp = child(mpath, "labels");
    for i in validate_labels(&str_map("labels"), &lp) {
        errs.push(issue_at("", i));
    }
    let ap = child(mpath, "annotations");
    for i in validate_annotations(&str_map("annotations"), &ap) {
        errs.push(issue_at("", i));
    }
}

// ---------------------------------------------------------------------------------------------
// list-type set/map uniqueness
// ---------------------------------------------------------------------------------------------

/// Upstream `ValidateListSetsAndMaps` from the root object.
pub(crate) fn validate_list_sets_and_maps(base: &str, s: &Schema, obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Value::Object(m) = obj {
        list_object(base, s, m, &mut errs);
    }
    errs
}

fn list_object(p: &str, s: &Schema, m: &Map<String, Value>, errs: &mut Vec<FieldError>) {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    if let Some(ap) = s.additional_schema() {
        for k in &keys {
            list_value(&format!("{p}[{k}]"), ap, &m[k.as_str()], errs);
        }
    }
    if s.properties.is_some() {
        for k in &keys {
            if let Some(ps) = s.property(k) {
                list_value(&child(p, k), ps, &m[k.as_str()], errs);
            }
        }
    }
}

fn list_value(p: &str, s: &Schema, v: &Value, errs: &mut Vec<FieldError>) {
    match v {
        Value::Array(a) => list_array(p, s, a, errs),
        Value::Object(m) => list_object(p, s, m, errs),
        _ => {}
    }
}

/// The identity of a value for set uniqueness: scalars keep their Go type (int64 1 and
/// float64 1 differ), compound values compare by their JSON encoding.
fn set_key(v: &Value) -> String {
    match v {
        Value::Object(_) | Value::Array(_) => format!("c{}", go_json(v)),
        Value::Number(_) => match num(v) {
            Some(Num::Int(i)) => format!("i{i}"),
            Some(Num::Float(f)) => format!("f{}", f.to_bits()),
            None => "n".into(),
        },
        Value::String(s) => format!("s{s}"),
        Value::Bool(b) => format!("b{b}"),
        Value::Null => "null".into(),
    }
}

/// Indices of the first repetition of each non-unique key.
fn non_unique(keys: &[String]) -> Vec<usize> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let c = seen.entry(k.as_str()).or_insert(0);
        *c += 1;
        if *c == 2 {
            out.push(i);
        }
    }
    out
}

fn list_array(p: &str, s: &Schema, a: &[Value], errs: &mut Vec<FieldError>) {
    match s.x_list_type.as_deref() {
        Some("set") if a.len() > 1 => {
            let keys: Vec<String> = a.iter().map(set_key).collect();
            for i in non_unique(&keys) {
                errs.push(FieldError::duplicate(
                    format!("{p}[{i}]"),
                    super::gofmt::field_value(&a[i]),
                ));
            }
        }
        Some("map") => {
            if let Some((i, x)) = a
                .iter()
                .enumerate()
                .find(|(_, x)| !x.is_null() && !x.is_object())
            {
                errs.push(FieldError::invalid(
                    format!("{p}[{i}]"),
                    super::gofmt::field_value(x),
                    "must be an object for an array of list-type map",
                ));
            } else if a.len() > 1 {
                let key_of = |x: &Value| -> Map<String, Value> {
                    let mut key = Map::new();
                    if let Value::Object(m) = x {
                        for kf in &s.x_list_map_keys {
                            if let Some(v) = m.get(kf) {
                                key.insert(kf.clone(), v.clone());
                            }
                        }
                    }
                    key
                };
                let keys: Vec<Map<String, Value>> = a.iter().map(key_of).collect();
                let ids: Vec<String> = if s.x_list_map_keys.len() == 1 {
                    keys.iter()
                        .map(|k| {
                            k.values()
                                .next()
                                .map(set_key)
                                .unwrap_or_else(|| "unspecified".into())
                        })
                        .collect()
                } else {
                    keys.iter()
                        .map(|k| set_key(&Value::Object(k.clone())))
                        .collect()
                };
                for i in non_unique(&ids) {
                    errs.push(FieldError::duplicate(
                        format!("{p}[{i}]"),
                        Value::Object(keys[i].clone()),
                    ));
                }
            }
        }
        _ => {}
    }
    if let Some(items) = s.items.as_deref() {
        for (i, x) in a.iter().enumerate() {
            list_value(&format!("{p}[{i}]"), items, x, errs);
        }
    }
}
