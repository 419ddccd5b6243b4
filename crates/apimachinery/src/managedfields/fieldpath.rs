//! Field paths and field sets, and their `FieldsV1` JSON encoding.
//!
//! A [`FieldSet`] is a tree: at each level it holds the path elements that are members (owned
//! fields) and, for path elements with owned descendants, a child set. The same path element can
//! be both (serialized as a child object carrying a `"."` entry). Path elements are ordered as
//! structured-merge-diff orders them: field names first, then list-map keys, then set values, then
//! indices; that order is the iteration order and the serialization order.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

use super::gojson::{self, Flavor};

/// One step of a field path.
#[derive(Clone, Debug)]
pub enum PathElement {
    /// A field of a struct or a key of a map (`f:name`).
    Field(String),
    /// The item of a list-map whose key fields have these values, sorted by field name
    /// (`k:{"name":"c"}`).
    Key(Vec<(String, Value)>),
    /// The item of a set-typed list with this value (`v:"x"`).
    Value(Value),
    /// The item of a list at this index (`i:0`); never produced from schemas, only parsed.
    Index(i64),
}

fn rank(pe: &PathElement) -> u8 {
    match pe {
        PathElement::Field(_) => 0,
        PathElement::Key(_) => 1,
        PathElement::Value(_) => 2,
        PathElement::Index(_) => 3,
    }
}

fn is_float(v: &Value) -> bool {
    matches!(v, Value::Number(n) if n.is_f64())
}

fn as_int(v: &Value) -> Option<i128> {
    match v {
        Value::Number(n) if !n.is_f64() => n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from)),
        _ => None,
    }
}

fn as_float(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn float_cmp(a: f64, b: f64) -> Ordering {
    if a > b {
        Ordering::Greater
    } else if a < b {
        Ordering::Less
    } else {
        Ordering::Equal
    }
}

/// Total order over JSON values (floats and integers compare numerically; then integers,
/// strings, booleans, lists, maps, null), as structured-merge-diff's `value.Compare`.
pub fn value_cmp(a: &Value, b: &Value) -> Ordering {
    if is_float(a) {
        if !is_float(b) {
            if as_int(b).is_some() {
                return float_cmp(as_float(a).unwrap_or(0.0), as_float(b).unwrap_or(0.0));
            }
            return Ordering::Less;
        }
        return float_cmp(as_float(a).unwrap_or(0.0), as_float(b).unwrap_or(0.0));
    } else if is_float(b) {
        if as_int(a).is_some() {
            return float_cmp(as_float(a).unwrap_or(0.0), as_float(b).unwrap_or(0.0));
        }
        return Ordering::Greater;
    }
    match (as_int(a), as_int(b)) {
        (Some(x), Some(y)) => return x.cmp(&y),
        (Some(_), None) => return Ordering::Less,
        (None, Some(_)) => return Ordering::Greater,
        _ => {}
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => return x.as_bytes().cmp(y.as_bytes()),
        (Value::String(_), _) => return Ordering::Less,
        (_, Value::String(_)) => return Ordering::Greater,
        _ => {}
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => return x.cmp(y),
        (Value::Bool(_), _) => return Ordering::Less,
        (_, Value::Bool(_)) => return Ordering::Greater,
        _ => {}
    }
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            for i in 0.. {
                match (x.get(i), y.get(i)) {
                    (None, None) => return Ordering::Equal,
                    (None, Some(_)) => return Ordering::Less,
                    (Some(_), None) => return Ordering::Greater,
                    (Some(l), Some(r)) => {
                        let c = value_cmp(l, r);
                        if c != Ordering::Equal {
                            return c;
                        }
                    }
                }
            }
            Ordering::Equal
        }
        (Value::Array(_), _) => Ordering::Less,
        (_, Value::Array(_)) => Ordering::Greater,
        (Value::Object(x), Value::Object(y)) => map_cmp(x, y),
        (Value::Object(_), _) => Ordering::Less,
        (_, Value::Object(_)) => Ordering::Greater,
        _ => Ordering::Equal, // both null
    }
}

fn map_cmp(l: &Map<String, Value>, r: &Map<String, Value>) -> Ordering {
    if l.is_empty() && r.is_empty() {
        return Ordering::Equal;
    }
    let keys: BTreeSet<&String> = l.keys().chain(r.keys()).collect();
    let mut c = Ordering::Equal;
    for (i, k) in keys.into_iter().enumerate() {
        c = if i == l.len() {
            Ordering::Less
        } else if i == r.len() {
            Ordering::Greater
        } else {
            match (l.get(k), r.get(k)) {
                (None, _) => Ordering::Greater,
                (_, None) => Ordering::Less,
                (Some(a), Some(b)) => value_cmp(a, b),
            }
        };
        if c != Ordering::Equal {
            break;
        }
    }
    c
}

/// Equality of JSON values where integers and floats compare numerically (`value.Equals`).
pub fn value_eq(a: &Value, b: &Value) -> bool {
    if is_float(a) || is_float(b) {
        return match (as_float(a), as_float(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        };
    }
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => as_int(a) == as_int(b),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(l, r)| value_eq(l, r)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| value_eq(v, w)))
        }
        _ => a == b,
    }
}

impl PathElement {
    /// A field path element.
    pub fn field(name: &str) -> PathElement {
        PathElement::Field(name.to_string())
    }

    /// Parses one serialized path element (`f:…`, `k:…`, `v:…`, `i:…`). `Ok(None)` for an
    /// unknown prefix (ignored by readers, as upstream does).
    pub fn parse(s: &str) -> Result<Option<PathElement>, String> {
        let b = s.as_bytes();
        if b.len() < 2 {
            return Err("key must be 2 characters long:".into());
        }
        if b[1] != b':' {
            return Err(format!("missing colon: {s}"));
        }
        let rest = &s[2..];
        Ok(Some(match b[0] {
            b'f' => PathElement::Field(rest.to_string()),
            b'v' => PathElement::Value(serde_json::from_str(rest).map_err(|e| e.to_string())?),
            b'k' => {
                let m: Map<String, Value> = serde_json::from_str(rest).map_err(|e| e.to_string())?;
                let mut fields: Vec<(String, Value)> = m.into_iter().collect();
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                PathElement::Key(fields)
            }
            b'i' => PathElement::Index(rest.parse().map_err(|e: std::num::ParseIntError| e.to_string())?),
            _ => return Ok(None),
        }))
    }

    /// The serialized form used as a `FieldsV1` key.
    pub fn serialize(&self) -> String {
        let mut out = String::new();
        match self {
            PathElement::Field(n) => {
                out.push_str("f:");
                out.push_str(n);
            }
            PathElement::Key(fields) => {
                out.push_str("k:{");
                for (i, (name, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    gojson::write_string(&mut out, name, Flavor::Iter);
                    out.push(':');
                    gojson::write_value(&mut out, v, Flavor::Iter);
                }
                out.push('}');
            }
            PathElement::Value(v) => {
                out.push_str("v:");
                gojson::write_value(&mut out, v, Flavor::Iter);
            }
            PathElement::Index(i) => {
                out.push_str("i:");
                out.push_str(&i.to_string());
            }
        }
        out
    }
}

/// Renders a value as structured-merge-diff's `value.ToString` does inside path strings.
fn value_to_string(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Number(n) if n.is_f64() => gojson::go_float_v(n.as_f64().unwrap_or(0.0)),
        Value::Number(n) => n.to_string(),
        Value::String(s) => gojson::quote(s),
        Value::Bool(b) => b.to_string(),
        Value::Array(a) => format!("[{}]", a.iter().map(value_to_string).collect::<Vec<_>>().join(",")),
        Value::Object(m) => m.iter().map(|(k, v)| format!("{k}={}", value_to_string(v))).collect::<Vec<_>>().join(""),
    }
}

impl fmt::Display for PathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(n) => write!(f, ".{n}"),
            PathElement::Key(fields) => {
                let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={}", value_to_string(v))).collect();
                write!(f, "[{}]", parts.join(","))
            }
            PathElement::Value(v) => write!(f, "[={}]", value_to_string(v)),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        let r = rank(self).cmp(&rank(other));
        if r != Ordering::Equal {
            return r;
        }
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.as_bytes().cmp(b.as_bytes()),
            (PathElement::Key(a), PathElement::Key(b)) => {
                for i in 0.. {
                    match (a.get(i), b.get(i)) {
                        (None, None) => return Ordering::Equal,
                        (None, Some(_)) => return Ordering::Less,
                        (Some(_), None) => return Ordering::Greater,
                        (Some(x), Some(y)) => {
                            let c = x.0.as_bytes().cmp(y.0.as_bytes()).then_with(|| value_cmp(&x.1, &y.1));
                            if c != Ordering::Equal {
                                return c;
                            }
                        }
                    }
                }
                Ordering::Equal
            }
            (PathElement::Value(a), PathElement::Value(b)) => value_cmp(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => Ordering::Equal,
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for PathElement {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for PathElement {}

/// A path from the object root.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Path(pub Vec<PathElement>);

impl Path {
    /// A path of field names (`Path::fields(&["spec", "replicas"])`).
    pub fn fields(names: &[&str]) -> Path {
        Path(names.iter().map(|n| PathElement::field(n)).collect())
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for pe in &self.0 {
            write!(f, "{pe}")?;
        }
        Ok(())
    }
}

/// A set of field paths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet {
    members: BTreeSet<PathElement>,
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    /// The empty set.
    pub fn new() -> FieldSet {
        FieldSet::default()
    }

    /// A set of the given paths.
    pub fn from_paths<I: IntoIterator<Item = Path>>(paths: I) -> FieldSet {
        let mut s = FieldSet::new();
        for p in paths {
            s.insert(&p.0);
        }
        s
    }

    /// Adds a path (its parents are not added). The empty path is ignored: nobody owns the root.
    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// Whether the path is a member.
    pub fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [last] => self.members.contains(last),
            [first, rest @ ..] => self.children.get(first).is_some_and(|c| c.has(rest)),
        }
    }

    /// Whether no path is a member.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.values().all(FieldSet::is_empty)
    }

    /// The number of member paths.
    pub fn len(&self) -> usize {
        self.members.len() + self.children.values().map(FieldSet::len).sum::<usize>()
    }

    /// The members below `pe`, relative to it.
    pub fn with_prefix(&self, pe: &PathElement) -> FieldSet {
        self.children.get(pe).cloned().unwrap_or_default()
    }

    pub(crate) fn child(&self, pe: &PathElement) -> Option<&FieldSet> {
        self.children.get(pe)
    }

    pub(crate) fn members(&self) -> &BTreeSet<PathElement> {
        &self.members
    }

    pub(crate) fn children(&self) -> &BTreeMap<PathElement, FieldSet> {
        &self.children
    }

    pub(crate) fn insert_member(&mut self, pe: PathElement) {
        self.members.insert(pe);
    }

    fn pruned(mut self) -> FieldSet {
        self.children.retain(|_, c| !c.is_empty());
        self
    }

    /// Paths in either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (pe, c) in &other.children {
            let merged = match out.children.get(pe) {
                Some(mine) => mine.union(c),
                None => c.clone(),
            };
            out.children.insert(pe.clone(), merged);
        }
        out.pruned()
    }

    /// Paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.intersection(&other.members).cloned().collect();
        let mut children = BTreeMap::new();
        for (pe, c) in &self.children {
            if let Some(o) = other.children.get(pe) {
                let i = c.intersection(o);
                if !i.is_empty() {
                    children.insert(pe.clone(), i);
                }
            }
        }
        FieldSet { members, children }
    }

    /// Paths in `self` and not in `other` (leaf-wise: removing a parent path keeps its
    /// children).
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let mut children = BTreeMap::new();
        for (pe, c) in &self.children {
            match other.children.get(pe) {
                Some(o) => {
                    let d = c.difference(o);
                    if !d.is_empty() {
                        children.insert(pe.clone(), d);
                    }
                }
                None => {
                    children.insert(pe.clone(), c.clone());
                }
            }
        }
        FieldSet { members, children }.pruned()
    }

    /// Paths in `self` that neither are in `other` nor are below a member of `other`.
    pub fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        let members = self.members.difference(&other.members).cloned().collect();
        let mut children = BTreeMap::new();
        for (pe, c) in &self.children {
            if other.members.contains(pe) {
                continue;
            }
            match other.children.get(pe) {
                Some(o) => {
                    let d = c.recursive_difference(o);
                    if !d.is_empty() {
                        children.insert(pe.clone(), d);
                    }
                }
                None => {
                    children.insert(pe.clone(), c.clone());
                }
            }
        }
        FieldSet { members, children }.pruned()
    }

    /// The members that have no member below them.
    pub fn leaves(&self) -> FieldSet {
        let members = self.members.iter().filter(|pe| self.children.get(*pe).is_none_or(FieldSet::is_empty)).cloned().collect();
        let children = self.children.iter().map(|(pe, c)| (pe.clone(), c.leaves())).collect();
        FieldSet { members, children }.pruned()
    }

    /// Calls `f` with every member path: at each level the members first, then the children's
    /// paths, each in path element order (upstream's iteration order).
    pub fn iterate(&self, f: &mut dyn FnMut(&Path)) {
        let mut prefix = Path::default();
        self.iterate_prefix(&mut prefix, f);
    }

    fn iterate_prefix(&self, prefix: &mut Path, f: &mut dyn FnMut(&Path)) {
        for pe in &self.members {
            prefix.0.push(pe.clone());
            f(prefix);
            prefix.0.pop();
        }
        for (pe, c) in &self.children {
            prefix.0.push(pe.clone());
            c.iterate_prefix(prefix, f);
            prefix.0.pop();
        }
    }

    /// All member paths in iteration order.
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        self.iterate(&mut |p| out.push(p.clone()));
        out
    }

    /// Parses a `FieldsV1` JSON object.
    pub fn from_fields_v1(v: &Value) -> Result<FieldSet, String> {
        let obj = v.as_object().ok_or_else(|| "FieldsV1 must be a JSON object".to_string())?;
        let (set, _) = read_level(obj)?;
        Ok(set.unwrap_or_default())
    }

    /// Parses `FieldsV1` JSON text.
    pub fn from_json_str(s: &str) -> Result<FieldSet, String> {
        let v: Value = serde_json::from_str(s).map_err(|e| e.to_string())?;
        FieldSet::from_fields_v1(&v)
    }

    /// The `FieldsV1` JSON object.
    pub fn to_fields_v1(&self) -> Value {
        Value::Object(self.level_object(false))
    }

    fn level_object(&self, include_self: bool) -> Map<String, Value> {
        let mut m = Map::new();
        if include_self && (!self.members.is_empty() || !self.children.is_empty()) {
            m.insert(".".into(), Value::Object(Map::new()));
        }
        for pe in &self.members {
            if !self.children.contains_key(pe) {
                m.insert(pe.serialize(), Value::Object(Map::new()));
            }
        }
        for (pe, c) in &self.children {
            m.insert(pe.serialize(), Value::Object(c.level_object(self.members.contains(pe))));
        }
        m
    }

    /// The `FieldsV1` JSON text, byte for byte as upstream writes it (path element order,
    /// json-iterator escaping).
    pub fn to_json_string(&self) -> String {
        let mut out = String::from("{");
        self.write_level(&mut out, false);
        out.push('}');
        out
    }

    fn write_level(&self, out: &mut String, include_self: bool) {
        let mut first = true;
        let mut sep = |out: &mut String| {
            if !first {
                out.push(',');
            }
            first = false;
        };
        if include_self && !(self.members.is_empty() && self.children.is_empty()) {
            sep(out);
            out.push_str("\".\":{}");
        }
        let mut keys: BTreeSet<&PathElement> = self.members.iter().collect();
        keys.extend(self.children.keys());
        for pe in keys {
            sep(out);
            gojson::write_string(out, &pe.serialize(), Flavor::Iter);
            out.push(':');
            match self.children.get(pe) {
                None => out.push_str("{}"),
                Some(c) => {
                    out.push('{');
                    c.write_level(out, self.members.contains(pe));
                    out.push('}');
                }
            }
        }
    }
}

/// Reads one level: the set of its children (if any) and whether the level marks its parent as
/// a member.
fn read_level(obj: &Map<String, Value>) -> Result<(Option<FieldSet>, bool), String> {
    let mut children: Option<FieldSet> = None;
    let mut is_member = false;
    for (key, v) in obj {
        if key == "." {
            is_member = true;
            continue;
        }
        let Some(pe) = PathElement::parse(key).map_err(|e| format!("parsing key as path element: {e}"))? else {
            continue;
        };
        let inner = v.as_object().ok_or_else(|| format!("expected an object at {key}"))?;
        let (grandchildren, child_is_member) = read_level(inner)?;
        let set = children.get_or_insert_with(FieldSet::new);
        if child_is_member {
            set.members.insert(pe.clone());
        }
        if let Some(g) = grandchildren {
            let merged = match set.children.remove(&pe) {
                Some(existing) => existing.union(&g),
                None => g,
            };
            set.children.insert(pe, merged);
        }
    }
    if children.is_none() {
        is_member = true;
    }
    Ok((children, is_member))
}

impl fmt::Display for FieldSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let paths: Vec<String> = self.paths().iter().map(Path::to_string).collect();
        write!(f, "{}", paths.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(name: &str, v: Value) -> PathElement {
        PathElement::Key(vec![(name.to_string(), v)])
    }

    #[test]
    fn fields_v1_round_trip_and_exact_text() {
        let text = r#"{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"c\"}":{".":{},"f:image":{}}}}}"#;
        let s = FieldSet::from_json_str(text).unwrap();
        assert_eq!(s.to_json_string(), text);
        assert!(s.has(&Path::fields(&["metadata", "labels", "app"]).0));
        let mut p = Path::fields(&["spec", "containers"]);
        p.0.push(key("name", json!("c")));
        assert!(s.has(&p.0));
        p.0.push(PathElement::field("image"));
        assert!(s.has(&p.0));
        assert!(!s.has(&Path::fields(&["spec"]).0));
        assert_eq!(FieldSet::from_fields_v1(&s.to_fields_v1()).unwrap(), s);
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn orders_path_elements_like_upstream() {
        let mut s = FieldSet::new();
        s.insert(&[PathElement::Index(10)]);
        s.insert(&[PathElement::Index(9)]);
        s.insert(&[PathElement::Value(json!("b"))]);
        s.insert(&[PathElement::Value(json!(1))]);
        s.insert(&[key("port", json!(10))]);
        s.insert(&[key("port", json!(9))]);
        s.insert(&[PathElement::field("z")]);
        assert_eq!(
            s.to_json_string(),
            r#"{"f:z":{},"k:{\"port\":9}":{},"k:{\"port\":10}":{},"v:1":{},"v:\"b\"":{},"i:9":{},"i:10":{}}"#
        );
        let order: Vec<String> = s.paths().iter().map(|p| p.to_string()).collect();
        assert_eq!(order, vec![".z", "[port=9]", "[port=10]", "[=1]", "[=\"b\"]", "[9]", "[10]"]);
    }

    #[test]
    fn key_fields_are_sorted_and_escaped() {
        let pe = PathElement::parse(r#"k:{"protocol":"TCP","containerPort":80}"#).unwrap().unwrap();
        assert_eq!(pe.serialize(), r#"k:{"containerPort":80,"protocol":"TCP"}"#);
        assert_eq!(pe.to_string(), r#"[containerPort=80,protocol="TCP"]"#);
        let pe = PathElement::Value(json!("a<b"));
        assert_eq!(pe.serialize(), r#"v:"a\u003cb""#);
        assert!(PathElement::parse("x:1").unwrap().is_none());
        assert!(PathElement::parse("f").is_err());
    }

    #[test]
    fn set_algebra() {
        let a = FieldSet::from_paths([Path::fields(&["a", "b"]), Path::fields(&["a"]), Path::fields(&["c"])]);
        let b = FieldSet::from_paths([Path::fields(&["a"]), Path::fields(&["d"])]);
        assert_eq!(a.difference(&b), FieldSet::from_paths([Path::fields(&["a", "b"]), Path::fields(&["c"])]));
        assert_eq!(a.recursive_difference(&b), FieldSet::from_paths([Path::fields(&["c"])]));
        assert_eq!(a.intersection(&b), FieldSet::from_paths([Path::fields(&["a"])]));
        assert_eq!(a.union(&b).len(), 4);
        assert_eq!(a.leaves(), FieldSet::from_paths([Path::fields(&["a", "b"]), Path::fields(&["c"])]));
        assert!(a.difference(&a).is_empty());
        assert!(FieldSet::new().is_empty());
        let order: Vec<String> = a.paths().iter().map(|p| p.to_string()).collect();
        assert_eq!(order, vec![".a", ".c", ".a.b"]);
        // "." marks a member that also has children
        assert_eq!(a.to_json_string(), r#"{"f:a":{".":{},"f:b":{}},"f:c":{}}"#);
        assert_eq!(a.to_fields_v1(), json!({"f:a": {".": {}, "f:b": {}}, "f:c": {}}));
    }

    #[test]
    fn value_order_and_equality() {
        assert_eq!(value_cmp(&json!(1), &json!(1.5)), Ordering::Less);
        assert_eq!(value_cmp(&json!(2.0), &json!(2)), Ordering::Equal);
        assert_eq!(value_cmp(&json!(1), &json!("a")), Ordering::Less);
        assert_eq!(value_cmp(&json!("a"), &json!(true)), Ordering::Less);
        assert_eq!(value_cmp(&json!(null), &json!({})), Ordering::Greater);
        assert!(value_eq(&json!({"a": [1, 2.0]}), &json!({"a": [1.0, 2]})));
        assert!(!value_eq(&json!({"a": 1}), &json!({"a": "1"})));
    }
}
