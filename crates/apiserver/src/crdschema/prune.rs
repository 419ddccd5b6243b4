//! Pruning of unknown fields (upstream `schema/pruning`), the ObjectMeta/TypeMeta coercion
//! of the resource root and of `x-kubernetes-embedded-resource` objects (upstream
//! `schema/objectmeta` Coerce/GetObjectMeta/SetObjectMeta), and the removal of non-nullable
//! nulls that have no default (upstream `PruneNonNullableNullsWithoutDefaults`).

use serde_json::{Map, Value};

use super::gofmt::{Num, num};
use super::schema::Schema;

const META_FIELDS: [&str; 3] = ["apiVersion", "kind", "metadata"];

fn is_meta_field(k: &str) -> bool {
    META_FIELDS.contains(&k)
}

/// Tracks the path of the node being pruned, as upstream's `UnknownFieldPathOptions`:
/// `spec.foo`, `spec.items[0].bar`.
#[derive(Default)]
pub(crate) struct UnknownPaths {
    track: bool,
    parent: Vec<String>,
    pub(crate) paths: Vec<String>,
}

impl UnknownPaths {
    pub(crate) fn new(track: bool) -> Self {
        UnknownPaths {
            track,
            parent: Vec::new(),
            paths: Vec::new(),
        }
    }
    fn record(&mut self, field: &str) {
        if !self.track {
            return;
        }
        let l = self.parent.len();
        self.append_key(field);
        self.paths.push(self.parent.concat());
        self.parent.truncate(l);
    }
    fn append_key(&mut self, key: &str) {
        if !self.track {
            return;
        }
        if !self.parent.is_empty() {
            self.parent.push(".".into());
        }
        self.parent.push(key.to_string());
    }
    fn append_index(&mut self, i: usize) {
        if !self.track {
            return;
        }
        self.parent.push(format!("[{i}]"));
    }
    fn len(&self) -> usize {
        self.parent.len()
    }
    fn truncate(&mut self, l: usize) {
        self.parent.truncate(l);
    }
}

/// A schema view whose `x-kubernetes-embedded-resource` is forced on (the resource root).
#[derive(Clone, Copy)]
pub(crate) struct Node<'a> {
    pub(crate) s: &'a Schema,
    pub(crate) embedded: bool,
}

impl<'a> Node<'a> {
    pub(crate) fn new(s: &'a Schema) -> Self {
        Node {
            s,
            embedded: s.x_embedded_resource,
        }
    }
    pub(crate) fn root(s: &'a Schema) -> Self {
        Node { s, embedded: true }
    }
}

/// Upstream `pruning.PruneWithOptions`: removes the fields of `obj` that `s` does not specify.
/// With `is_resource_root`, apiVersion/kind/metadata at the root are kept (as in every
/// embedded resource). Returns the sorted pruned paths.
pub(crate) fn prune_structural(
    obj: &mut Value,
    s: &Schema,
    is_resource_root: bool,
    track: bool,
) -> Vec<String> {
    let node = if is_resource_root {
        Node::root(s)
    } else {
        Node::new(s)
    };
    let mut opts = UnknownPaths::new(track);
    prune_node(obj, Some(node), &mut opts);
    opts.paths.sort();
    opts.paths
}

fn prune_node(x: &mut Value, s: Option<Node<'_>>, opts: &mut UnknownPaths) {
    if let Some(n) = s
        && n.s.preserve_unknown_fields()
    {
        skip_prune(x, n, opts);
        return;
    }
    let orig = opts.len();
    match x {
        Value::Object(m) => {
            let Some(n) = s else {
                let keys: Vec<String> = m.keys().cloned().collect();
                for k in keys {
                    opts.record(&k);
                    m.remove(&k);
                }
                return;
            };
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                if n.embedded && is_meta_field(&k) {
                    continue;
                }
                if let Some(prop) = n.s.property(&k) {
                    opts.append_key(&k);
                    prune_node(m.get_mut(&k).expect("key"), Some(Node::new(prop)), opts);
                    opts.truncate(orig);
                } else if let Some(ap) = &n.s.additional_properties {
                    opts.append_key(&k);
                    prune_node(
                        m.get_mut(&k).expect("key"),
                        ap.schema().map(Node::new),
                        opts,
                    );
                    opts.truncate(orig);
                } else {
                    if !is_meta_field(&k) || opts.len() > 0 {
                        opts.record(&k);
                    }
                    m.remove(&k);
                }
            }
        }
        Value::Array(a) => {
            let items = s.and_then(|n| n.s.items.as_deref()).map(Node::new);
            for (i, v) in a.iter_mut().enumerate() {
                opts.append_index(i);
                prune_node(v, items, opts);
                opts.truncate(orig);
            }
        }
        _ => {}
    }
    opts.truncate(orig);
}

fn skip_prune(x: &mut Value, n: Node<'_>, opts: &mut UnknownPaths) {
    let orig = opts.len();
    match x {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                if n.embedded && is_meta_field(k) {
                    continue;
                }
                if let Some(prop) = n.s.property(k) {
                    opts.append_key(k);
                    prune_node(v, Some(Node::new(prop)), opts);
                    opts.truncate(orig);
                } else if let Some(ap) = &n.s.additional_properties {
                    opts.append_key(k);
                    prune_node(v, ap.schema().map(Node::new), opts);
                    opts.truncate(orig);
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = n.s.items.as_deref() {
                for (i, v) in a.iter_mut().enumerate() {
                    opts.append_index(i);
                    skip_prune(v, Node::new(items), opts);
                    opts.truncate(orig);
                }
            }
        }
        _ => {}
    }
    opts.truncate(orig);
}

/// Upstream `PruneNonNullableNullsWithoutDefaults`: drops object fields that are null where
/// the schema neither allows null nor has a default (a default fills them in later).
pub(crate) fn prune_non_nullable_nulls(x: &mut Value, s: Option<&Schema>) {
    match x {
        Value::Object(m) => {
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                let fs = s.and_then(|s| s.child(&k));
                let drop =
                    m[&k].is_null() && fs.is_some_and(|fs| !fs.nullable && fs.default.is_none());
                if drop {
                    m.remove(&k);
                } else {
                    prune_non_nullable_nulls(m.get_mut(&k).expect("key"), fs);
                }
            }
        }
        Value::Array(a) => {
            let items = s.and_then(|s| s.items.as_deref());
            for v in a.iter_mut() {
                prune_non_nullable_nulls(v, items);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// ObjectMeta coercion
// ---------------------------------------------------------------------------------------------

/// The JSON type of one ObjectMeta field, for the typed round trip.
#[derive(Clone, Copy)]
enum MetaType {
    Str,
    Int,
    Bool,
    Time,
    StrMap,
    StrList,
    OwnerRefs,
    ManagedFields,
    Raw,
}

const OBJECT_META_FIELDS: &[(&str, MetaType)] = &[
    ("name", MetaType::Str),
    ("generateName", MetaType::Str),
    ("namespace", MetaType::Str),
    ("selfLink", MetaType::Str),
    ("uid", MetaType::Str),
    ("resourceVersion", MetaType::Str),
    ("generation", MetaType::Int),
    ("creationTimestamp", MetaType::Time),
    ("deletionTimestamp", MetaType::Time),
    ("deletionGracePeriodSeconds", MetaType::Int),
    ("labels", MetaType::StrMap),
    ("annotations", MetaType::StrMap),
    ("ownerReferences", MetaType::OwnerRefs),
    ("finalizers", MetaType::StrList),
    ("managedFields", MetaType::ManagedFields),
];

/// OwnerReference fields; the bool says whether the field is kept when empty (no omitempty).
const OWNER_REF_FIELDS: &[(&str, MetaType, bool)] = &[
    ("apiVersion", MetaType::Str, true),
    ("kind", MetaType::Str, true),
    ("name", MetaType::Str, true),
    ("uid", MetaType::Str, true),
    ("controller", MetaType::Bool, false),
    ("blockOwnerDeletion", MetaType::Bool, false),
];

const MANAGED_FIELDS_FIELDS: &[(&str, MetaType, bool)] = &[
    ("manager", MetaType::Str, false),
    ("operation", MetaType::Str, false),
    ("apiVersion", MetaType::Str, false),
    ("time", MetaType::Time, false),
    ("fieldsType", MetaType::Str, false),
    ("fieldsV1", MetaType::Raw, false),
    ("subresource", MetaType::Str, false),
];

/// Go's `json.Unmarshal` type error text for a value of the wrong JSON type.
fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Decodes one field value as Go's typed JSON round trip would; `Ok(None)` when the value
/// decodes to the Go zero value (omitted on re-encoding), `Err(message)` on a type error.
fn decode(
    t: MetaType,
    v: &Value,
    go_field: &str,
    unknown: &mut Vec<String>,
    path: &str,
) -> Result<Option<Value>, String> {
    let type_err = |go_type: &str| {
        format!(
            "json: cannot unmarshal {} into Go struct field {} of type {}",
            json_kind(v),
            go_field,
            go_type
        )
    };
    if v.is_null() {
        return Ok(None);
    }
    match t {
        MetaType::Str => match v {
            Value::String(s) if s.is_empty() => Ok(None),
            Value::String(_) => Ok(Some(v.clone())),
            _ => Err(type_err("string")),
        },
        MetaType::Bool => match v {
            Value::Bool(_) => Ok(Some(v.clone())),
            _ => Err(type_err("bool")),
        },
        MetaType::Int => match num(v) {
            Some(Num::Int(0)) => Ok(None),
            Some(Num::Int(i)) => Ok(Some(Value::from(i))),
            // a float64 is re-encoded before decoding: integral values up to 1e21 print
            // as integers and decode
            Some(Num::Float(f))
                if f.fract() == 0.0 && f.abs() < 1e21 && f.abs() <= i64::MAX as f64 =>
            {
                Ok(if f == 0.0 {
                    None
                } else {
                    Some(Value::from(f as i64))
                })
            }
            Some(Num::Float(f)) => Err(format!(
                "json: cannot unmarshal number {} into Go struct field {} of type int64",
                super::gofmt::go_json_float(f),
                go_field
            )),
            None => Err(type_err("int64")),
        },
        MetaType::Time => match v {
            Value::String(s) => match parse_rfc3339(s) {
                Some(ts) => Ok(Some(Value::String(ts))),
                None => Err(format!(
                    "parsing time {} as \"2006-01-02T15:04:05Z07:00\": cannot parse {} as \"2006\"",
                    super::gofmt::go_quote(s),
                    super::gofmt::go_quote(s)
                )),
            },
            _ => Err(type_err("string")),
        },
        MetaType::StrMap => match v {
            Value::Object(m) => {
                for (_, x) in m {
                    if !x.is_string() && !x.is_null() {
                        return Err(format!(
                            "json: cannot unmarshal {} into Go struct field {} of type string",
                            json_kind(x),
                            go_field
                        ));
                    }
                }
                if m.is_empty() {
                    return Ok(None);
                }
                let out: Map<String, Value> = m
                    .iter()
                    .map(|(k, x)| {
                        (
                            k.clone(),
                            if x.is_null() {
                                Value::String(String::new())
                            } else {
                                x.clone()
                            },
                        )
                    })
                    .collect();
                Ok(Some(Value::Object(out)))
            }
            _ => Err(type_err("map[string]string")),
        },
        MetaType::StrList => match v {
            Value::Array(a) => {
                for x in a {
                    if !x.is_string() && !x.is_null() {
                        return Err(format!(
                            "json: cannot unmarshal {} into Go struct field {} of type string",
                            json_kind(x),
                            go_field
                        ));
                    }
                }
                if a.is_empty() {
                    return Ok(None);
                }
                Ok(Some(Value::Array(
                    a.iter()
                        .map(|x| {
                            if x.is_null() {
                                Value::String(String::new())
                            } else {
                                x.clone()
                            }
                        })
                        .collect(),
                )))
            }
            _ => Err(type_err("[]string")),
        },
        MetaType::OwnerRefs | MetaType::ManagedFields => {
            let (fields, go_type) = if matches!(t, MetaType::OwnerRefs) {
                (OWNER_REF_FIELDS, "v1.OwnerReference")
            } else {
                (MANAGED_FIELDS_FIELDS, "v1.ManagedFieldsEntry")
            };
            let Value::Array(a) = v else {
                return Err(type_err(&format!("[]{go_type}")));
            };
            let mut out = Vec::new();
            for (i, item) in a.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                match item {
                    Value::Null => out.push(zero_struct(fields)),
                    Value::Object(m) => {
                        let mut o = Map::new();
                        for (k, x) in m {
                            match fields.iter().find(|(n, _, _)| n == k) {
                                Some((n, ft, keep_empty)) => {
                                    let gf = format!("{}.{}", go_field, n);
                                    match decode(*ft, x, &gf, unknown, &format!("{item_path}.{n}"))?
                                    {
                                        Some(d) => {
                                            o.insert(k.clone(), d);
                                        }
                                        None if *keep_empty => {
                                            o.insert(k.clone(), Value::String(String::new()));
                                        }
                                        None => {}
                                    }
                                }
                                None => unknown.push(format!("{item_path}.{k}")),
                            }
                        }
                        for (n, _, keep_empty) in fields {
                            if *keep_empty && !o.contains_key(*n) {
                                o.insert(n.to_string(), Value::String(String::new()));
                            }
                        }
                        out.push(Value::Object(sorted(o)));
                    }
                    other => {
                        return Err(format!(
                            "json: cannot unmarshal {} into Go struct field {} of type {}",
                            json_kind(other),
                            go_field,
                            go_type
                        ));
                    }
                }
            }
            if out.is_empty() {
                Ok(None)
            } else {
                Ok(Some(Value::Array(out)))
            }
        }
        MetaType::Raw => Ok(Some(v.clone())),
    }
}

fn zero_struct(fields: &[(&str, MetaType, bool)]) -> Value {
    let mut o = Map::new();
    for (n, _, keep) in fields {
        if *keep {
            o.insert(n.to_string(), Value::String(String::new()));
        }
    }
    Value::Object(o)
}

fn sorted(m: Map<String, Value>) -> Map<String, Value> {
    let mut v: Vec<(String, Value)> = m.into_iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v.into_iter().collect()
}

/// Parses an RFC 3339 timestamp as `metav1.Time` does and formats it back as upstream
/// serializes it (UTC, whole seconds).
pub(crate) fn parse_rfc3339(s: &str) -> Option<String> {
    let ts = parse_rfc3339_ts(s)?;
    Some(ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// Parses an RFC 3339 timestamp (`T` separator, `Z` or a numeric offset, optional fraction).
pub(crate) fn parse_rfc3339_ts(s: &str) -> Option<jiff::Timestamp> {
    let b = s.as_bytes();
    if b.len() < 20 || b[10] != b'T' {
        return None;
    }
    let re = super::rfc3339_re();
    if !re.is_match(s) {
        return None;
    }
    s.parse::<jiff::Timestamp>().ok()
}

/// Upstream `GetObjectMetaWithOptions` + `SetObjectMeta` on `obj["metadata"]` with malformed
/// fields dropped: the metadata is re-encoded from a typed ObjectMeta, so unknown fields are
/// dropped (their paths, `<prefix>metadata.<field>`, are returned), fields of a wrong type
/// are dropped, empty values are omitted and timestamps normalized. A `metadata` that is not
/// an object is an error (upstream: `invalid metadata: expected object, got ...`).
pub(crate) fn coerce_object_meta(
    obj: &mut Map<String, Value>,
    prefix: &str,
    drop_invalid: bool,
) -> Result<Vec<String>, String> {
    let Some(meta) = obj.get("metadata") else {
        return Ok(Vec::new());
    };
    let meta_path = if prefix.is_empty() {
        "metadata".to_string()
    } else {
        format!("{prefix}.metadata")
    };
    let mut unknown = Vec::new();
    let out = match meta {
        Value::Null => None,
        Value::Object(m) => {
            let mut o = Map::new();
            for (k, v) in m {
                match OBJECT_META_FIELDS.iter().find(|(n, _)| n == k) {
                    Some((n, t)) => {
                        let mut sub_unknown = Vec::new();
                        match decode(
                            *t,
                            v,
                            &format!("ObjectMeta.{n}"),
                            &mut sub_unknown,
                            &format!("{meta_path}.{n}"),
                        ) {
                            Ok(Some(d)) => {
                                unknown.extend(sub_unknown);
                                o.insert(k.clone(), d);
                            }
                            Ok(None) => unknown.extend(sub_unknown),
                            Err(e) => {
                                if !drop_invalid {
                                    return Err(e);
                                }
                            }
                        }
                    }
                    None => unknown.push(format!("{meta_path}.{k}")),
                }
            }
            Some(Value::Object(sorted(o)))
        }
        other => {
            if !drop_invalid {
                return Err(format!(
                    "json: cannot unmarshal {} into Go value of type v1.ObjectMeta",
                    json_kind(other)
                ));
            }
            return Err(format!(
                "invalid metadata: expected object, got {}",
                go_type_name(other)
            ));
        }
    };
    match out {
        Some(v) => {
            obj.insert("metadata".into(), v);
        }
        None => {
            // `metadata: null` decodes to an empty ObjectMeta
            obj.insert("metadata".into(), Value::Object(Map::new()));
        }
    }
    Ok(unknown)
}

fn go_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() => "int64",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Upstream `objectmeta.CoerceWithOptions`: checks that apiVersion/kind are strings in
/// embedded resources (and the root when `is_resource_root`) and round-trips their metadata
/// through ObjectMeta. With `drop_invalid`, bad fields are dropped instead of being errors.
/// Returns the first error (path, bad value, detail) and the sorted unknown metadata paths.
pub(crate) fn coerce(
    obj: &mut Value,
    s: &Schema,
    is_resource_root: bool,
    drop_invalid: bool,
    base: &str,
) -> (Option<(String, Value, String)>, Vec<String>) {
    let node = if is_resource_root {
        Node::root(s)
    } else {
        Node::new(s)
    };
    let mut paths = Vec::new();
    let err = coerce_node(obj, node, drop_invalid, base, &mut paths);
    paths.sort();
    (err, paths)
}

fn join(base: &str, k: &str) -> String {
    if base.is_empty() {
        k.to_string()
    } else {
        format!("{base}.{k}")
    }
}

fn coerce_node(
    x: &mut Value,
    n: Node<'_>,
    drop_invalid: bool,
    path: &str,
    paths: &mut Vec<String>,
) -> Option<(String, Value, String)> {
    match x {
        Value::Object(m) => {
            if n.embedded {
                for k in ["apiVersion", "kind"] {
                    if let Some(v) = m.get(k)
                        && !v.is_string()
                    {
                        if drop_invalid {
                            m.remove(k);
                        } else {
                            return Some((join(path, k), v.clone(), "must be a string".into()));
                        }
                    }
                }
                if m.contains_key("metadata") {
                    let orig = m.get("metadata").cloned().unwrap_or(Value::Null);
                    match coerce_object_meta(m, path, drop_invalid) {
                        Ok(u) => {
                            paths.extend(u);
                            if let Some(Value::Object(meta)) = m.get_mut("metadata") {
                                // a zero creationTimestamp is removed
                                if meta.get("creationTimestamp").is_none_or(Value::is_null) {
                                    meta.remove("creationTimestamp");
                                }
                            }
                        }
                        Err(e) => {
                            if !drop_invalid {
                                return Some((join(path, "metadata"), orig, e));
                            }
                        }
                    }
                }
            }
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                let child_path;
                let child = if let Some(p) = n.s.property(&k) {
                    child_path = join(path, &k);
                    Some(p)
                } else if let Some(ap) = &n.s.additional_properties {
                    child_path = format!("{path}[{k}]");
                    ap.schema()
                } else {
                    continue;
                };
                if let Some(cs) = child
                    && let Some(e) = coerce_node(
                        m.get_mut(&k).expect("key"),
                        Node::new(cs),
                        drop_invalid,
                        &child_path,
                        paths,
                    )
                {
                    return Some(e);
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = n.s.items.as_deref() {
                for (i, v) in a.iter_mut().enumerate() {
                    if let Some(e) = coerce_node(
                        v,
                        Node::new(items),
                        drop_invalid,
                        &format!("{path}[{i}]"),
                        paths,
                    ) {
                        return Some(e);
                    }
                }
            }
        }
        _ => {}
    }
    None
}
