//! Schema-aware walks over JSON objects: the field set an object sets, the comparison of two
//! objects, the merge of an applied configuration into a live object, removal of field sets, and
//! validation of an applied configuration.
//!
//! Types are resolved the way kube-openapi converts OpenAPI into structured-merge-diff schemas:
//! structs are granular maps with declared fields (atomic with `x-kubernetes-map-type: atomic`),
//! maps are granular unless atomic, lists are atomic unless `x-kubernetes-list-type` is `set` or
//! `map` (or, lacking a list type, a `merge` patch strategy), and untyped values are *deduced*:
//! maps granular, lists atomic. `RawExtension` is atomic throughout.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use super::fieldpath::{FieldSet, Path, PathElement, value_eq};
use super::schema::{Field, ListType, SchemaSet, Shape, Struct};

const RAW_EXTENSION: &str = "io.k8s.apimachinery.pkg.runtime.RawExtension";
const QUANTITY: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// Defaults of list-map key fields (`+default=` markers of the built-in types that the
/// published OpenAPI may lack): a missing key field takes this value.
const KEY_DEFAULTS: &[(&str, &str, &str)] = &[
    ("io.k8s.api.core.v1.ContainerPort", "protocol", "TCP"),
    ("io.k8s.api.core.v1.ServicePort", "protocol", "TCP"),
];

/// ObjectMeta's structure, used for a custom resource root whose schema leaves `metadata` untyped
/// (the CRD handler always serves standard object metadata there).
fn object_meta_set() -> &'static SchemaSet {
    static SET: OnceLock<SchemaSet> = OnceLock::new();
    SET.get_or_init(|| {
        let p = "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.";
        let defs = json!({
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {"type": "object", "properties": {
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
                "creationTimestamp": {"type": "string"},
                "deletionGracePeriodSeconds": {"type": "integer"},
                "deletionTimestamp": {"type": "string"},
                "finalizers": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
                "generateName": {"type": "string"},
                "generation": {"type": "integer"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "managedFields": {"type": "array", "items": {"$ref": format!("{p}ManagedFieldsEntry")}, "x-kubernetes-list-type": "atomic"},
                "name": {"type": "string"},
                "namespace": {"type": "string"},
                "ownerReferences": {"type": "array", "items": {"$ref": format!("{p}OwnerReference")},
                    "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["uid"]},
                "resourceVersion": {"type": "string"},
                "selfLink": {"type": "string"},
                "uid": {"type": "string"}
            }},
            "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference": {"type": "object", "x-kubernetes-map-type": "atomic", "properties": {
                "apiVersion": {"type": "string"}, "blockOwnerDeletion": {"type": "boolean"}, "controller": {"type": "boolean"},
                "kind": {"type": "string"}, "name": {"type": "string"}, "uid": {"type": "string"}
            }},
            "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry": {"type": "object", "properties": {
                "apiVersion": {"type": "string"}, "fieldsType": {"type": "string"}, "fieldsV1": {"type": "object"},
                "manager": {"type": "string"}, "operation": {"type": "string"}, "subresource": {"type": "string"}, "time": {"type": "string"}
            }}
        });
        SchemaSet::from_definitions(defs.as_object().expect("object"))
    })
}

fn object_meta_shape() -> &'static Shape {
    static SHAPE: OnceLock<Shape> = OnceLock::new();
    SHAPE.get_or_init(|| Shape::Named(OBJECT_META.into()))
}

#[derive(Clone, Copy)]
enum Kind<'s> {
    Shape(&'s Shape, Option<&'s Field>),
    Deduced,
    UntypedAtomic,
    /// A field a struct does not declare.
    Undeclared,
}

/// A (lazily resolved) type.
#[derive(Clone, Copy)]
pub(crate) struct Ty<'s> {
    set: &'s SchemaSet,
    kind: Kind<'s>,
    /// Inside a `x-kubernetes-preserve-unknown-fields` struct: undeclared fields are deduced.
    preserve: bool,
    /// The object root (custom resources get standard metadata there).
    root: bool,
}

#[derive(Clone, Copy)]
struct ListAtom<'s> {
    elem: Ty<'s>,
    /// `None`: atomic; `Some([])`: set; `Some(keys)`: list-map.
    keys: Option<&'s [String]>,
    item_type: Option<&'s str>,
}

#[derive(Clone, Copy)]
struct MapAtom<'s> {
    fields: Option<&'s Struct>,
    elem: Ty<'s>,
    atomic: bool,
}

/// Which of a type's alternatives remain once the value is looked at.
#[derive(Clone, Copy)]
struct Atom<'s> {
    scalar: bool,
    list: Option<ListAtom<'s>>,
    map: Option<MapAtom<'s>>,
}

impl Atom<'_> {
    fn tag(&self) -> (bool, bool, bool) {
        (self.scalar, self.list.is_some(), self.map.is_some())
    }
}

const EMPTY_KEYS: &[String] = &[];

impl<'s> Ty<'s> {
    /// The root type of objects of `shape`.
    pub(crate) fn root(set: &'s SchemaSet, shape: &'s Shape) -> Ty<'s> {
        Ty { set, kind: Kind::Shape(shape, None), preserve: false, root: true }
    }

    fn with(&self, kind: Kind<'s>, set: &'s SchemaSet) -> Ty<'s> {
        Ty { set, kind, preserve: self.preserve, root: false }
    }

    fn deduced(&self) -> Ty<'s> {
        self.with(Kind::Deduced, self.set)
    }

    fn resolve(&self) -> Atom<'s> {
        let deduced = Atom {
            scalar: true,
            list: Some(ListAtom { elem: self.with(Kind::UntypedAtomic, self.set), keys: None, item_type: None }),
            map: Some(MapAtom { fields: None, elem: self.deduced(), atomic: false }),
        };
        let untyped_atomic = Atom {
            scalar: true,
            list: Some(ListAtom { elem: self.with(Kind::UntypedAtomic, self.set), keys: None, item_type: None }),
            map: Some(MapAtom { fields: None, elem: self.with(Kind::UntypedAtomic, self.set), atomic: true }),
        };
        let scalar = Atom { scalar: true, list: None, map: None };
        match self.kind {
            Kind::Deduced | Kind::Undeclared => deduced,
            Kind::UntypedAtomic => untyped_atomic,
            Kind::Shape(shape, field) => match shape {
                Shape::Scalar => scalar,
                Shape::Untyped => deduced,
                Shape::Named(name) => {
                    if name == RAW_EXTENSION {
                        return untyped_atomic;
                    }
                    if name == QUANTITY {
                        return scalar;
                    }
                    let Some(st) = self.set.get(name) else { return deduced };
                    if st.fields.is_empty() {
                        if st.atomic {
                            return Atom { scalar: false, list: None, map: Some(MapAtom { fields: None, elem: self.deduced(), atomic: true }) };
                        }
                        return deduced;
                    }
                    let preserve = self.preserve || st.preserve_unknown;
                    let elem = Ty { set: self.set, kind: if preserve { Kind::Deduced } else { Kind::Undeclared }, preserve, root: false };
                    Atom { scalar: false, list: None, map: Some(MapAtom { fields: Some(st), elem, atomic: st.atomic }) }
                }
                Shape::Map { values, atomic } => Atom {
                    scalar: false,
                    list: None,
                    map: Some(MapAtom { fields: None, elem: self.with(Kind::Shape(values, None), self.set), atomic: *atomic }),
                },
                Shape::List { items, list_type } => {
                    let keys: Option<&'s [String]> = match list_type {
                        ListType::Atomic => match field {
                            // No list type: a merge patch strategy makes the list associative.
                            Some(f) if f.has_strategy("merge") => {
                                Some(f.patch_merge_key.as_ref().map(std::slice::from_ref).unwrap_or(EMPTY_KEYS))
                            }
                            _ => None,
                        },
                        ListType::Set => Some(EMPTY_KEYS),
                        ListType::Map(keys) => Some(keys.as_slice()),
                    };
                    let item_type = match &**items {
                        Shape::Named(n) => Some(n.as_str()),
                        _ => None,
                    };
                    Atom {
                        scalar: false,
                        list: Some(ListAtom { elem: self.with(Kind::Shape(items, None), self.set), keys, item_type }),
                        map: None,
                    }
                }
            },
        }
    }

    /// The atom with the alternatives the value rules out removed (upstream's `deduceAtom`).
    fn deduce(&self, v: Option<&Value>) -> Atom<'s> {
        let a = self.resolve();
        match v {
            None | Some(Value::Null) => a,
            Some(Value::Bool(_) | Value::Number(_) | Value::String(_)) if a.scalar => Atom { scalar: true, list: None, map: None },
            Some(Value::Array(_)) if a.list.is_some() => Atom { scalar: false, list: a.list, map: None },
            Some(Value::Object(_)) if a.map.is_some() => Atom { scalar: false, list: None, map: a.map },
            _ => a,
        }
    }

    fn field(&self, m: &MapAtom<'s>, name: &str) -> Ty<'s> {
        if self.root && name == "metadata" {
            let declared = m.fields.and_then(|st| st.fields.get(name));
            let untyped = match declared {
                None => true,
                Some(f) => matches!(f.shape, Shape::Untyped),
            };
            if untyped {
                return Ty { set: object_meta_set(), kind: Kind::Shape(object_meta_shape(), None), preserve: false, root: false };
            }
        }
        if let Some(f) = m.fields.and_then(|st| st.fields.get(name)) {
            return Ty { set: self.set, kind: Kind::Shape(&f.shape, Some(f)), preserve: m.elem.preserve, root: false };
        }
        m.elem
    }

    /// Whether the (resolved) struct declares `name`.
    fn declares(&self, name: &str) -> bool {
        match self.resolve().map {
            Some(m) => {
                if self.root && name == "metadata" {
                    return true;
                }
                m.fields.is_some_and(|st| st.fields.contains_key(name))
            }
            None => false,
        }
    }
}

/// The path element of a list item, or why there is none.
fn item_pe(l: &ListAtom<'_>, item: &Value) -> Result<PathElement, String> {
    let keys = l.keys.ok_or_else(|| "invalid indexing of non-associative list".to_string())?;
    if keys.is_empty() {
        return match item {
            Value::Object(_) => Err("associative list without keys has an element that's a map type".into()),
            Value::Array(_) => Err("not supported: associative list with lists as elements".into()),
            Value::Null => Err("associative list without keys has an element that's an explicit null".into()),
            v => Ok(PathElement::Value(v.clone())),
        };
    }
    let m = match item {
        Value::Null => return Err("associative list with keys may not have a null element".into()),
        Value::Object(m) => m,
        _ => return Err("associative list with keys may not have non-map elements".into()),
    };
    let mut fields = Vec::with_capacity(keys.len());
    for k in keys {
        if let Some(v) = m.get(k) {
            fields.push((k.clone(), v.clone()));
        } else if let Some((_, _, d)) = KEY_DEFAULTS.iter().find(|(t, f, _)| Some(*t) == l.item_type && f == k) {
            fields.push((k.clone(), Value::String((*d).to_string())));
        } else {
            return Err(format!(
                "associative list with keys has an element that omits key field {} (and doesn't have default value)",
                super::gojson::quote(k)
            ));
        }
    }
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(PathElement::Key(fields))
}

fn push(path: &Path, pe: PathElement) -> Path {
    let mut p = path.clone();
    p.0.push(pe);
    p
}

// ---------------------------------------------------------------------------------------------
// Field sets

/// The fields `v` sets: leaves, atomic values, list items, and empty or null values.
pub(crate) fn to_field_set(v: &Value, ty: Ty<'_>) -> FieldSet {
    let mut set = FieldSet::new();
    field_set_walk(v, ty, &Path::default(), &mut set);
    set
}

fn field_set_walk(v: &Value, ty: Ty<'_>, path: &Path, set: &mut FieldSet) {
    let a = ty.deduce(Some(v));
    if let Some(m) = a.map {
        if m.atomic {
            set.insert(&path.0);
            return;
        }
        let Value::Object(obj) = v else { return };
        for (k, val) in obj {
            let p = push(path, PathElement::Field(k.clone()));
            field_set_walk(val, ty.field(&m, k), &p, set);
            let empty_map = matches!(val, Value::Object(o) if o.is_empty());
            if val.is_null() || empty_map || !ty.declares(k) {
                set.insert(&p.0);
            }
        }
    } else if a.scalar {
        set.insert(&path.0);
    } else if let Some(l) = a.list {
        if l.keys.is_none() {
            set.insert(&path.0);
            return;
        }
        let Value::Array(items) = v else { return };
        let pes: Vec<Option<PathElement>> = items.iter().map(|i| item_pe(&l, i).ok()).collect();
        let mut seen = BTreeSet::new();
        let mut dups = BTreeSet::new();
        for pe in pes.iter().flatten() {
            if !seen.insert(pe.clone()) && dups.insert(pe.clone()) {
                set.insert(&push(path, pe.clone()).0);
            }
        }
        for (item, pe) in items.iter().zip(pes) {
            let Some(pe) = pe else { continue };
            if dups.contains(&pe) {
                continue;
            }
            let p = push(path, pe);
            field_set_walk(item, l.elem, &p, set);
            set.insert(&p.0);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Comparison

/// How two objects differ, by field path.
#[derive(Debug, Default)]
pub(crate) struct Comparison {
    pub removed: FieldSet,
    pub modified: FieldSet,
    pub added: FieldSet,
}

impl Comparison {
    pub(crate) fn filter(self, reset: &FieldSet) -> Comparison {
        if reset.is_empty() {
            return self;
        }
        Comparison {
            removed: self.removed.recursive_difference(reset),
            modified: self.modified.recursive_difference(reset),
            added: self.added.recursive_difference(reset),
        }
    }
}

/// Compares `lhs` (old) with `rhs` (new).
pub(crate) fn compare(lhs: &Value, rhs: &Value, ty: Ty<'_>) -> Comparison {
    let mut c = Comparison::default();
    compare_walk(Some(lhs), Some(rhs), ty, &Path::default(), &mut c);
    c
}

fn compare_walk(lhs: Option<&Value>, rhs: Option<&Value>, ty: Ty<'_>, path: &Path, c: &mut Comparison) {
    let al = ty.deduce(lhs);
    let ar = ty.deduce(rhs);
    let mut in_leaf = false;
    if rhs.is_none() {
        compare_atom(&al, lhs, rhs, ty, path, c, &mut in_leaf);
    } else if lhs.is_none() || al.tag() == ar.tag() {
        compare_atom(&ar, lhs, rhs, ty, path, c, &mut in_leaf);
    } else {
        let mut other_leaf = false;
        compare_atom(&al, lhs, rhs, ty, path, c, &mut other_leaf);
        compare_atom(&ar, lhs, rhs, ty, path, c, &mut in_leaf);
    }
    if !in_leaf {
        if lhs.is_none() {
            c.added.insert(&path.0);
        } else if rhs.is_none() {
            c.removed.insert(&path.0);
        }
    }
}

fn compare_leaf(lhs: Option<&Value>, rhs: Option<&Value>, path: &Path, c: &mut Comparison, in_leaf: &mut bool) {
    if *in_leaf {
        return;
    }
    *in_leaf = true;
    match (lhs, rhs) {
        (None, _) => c.added.insert(&path.0),
        (_, None) => c.removed.insert(&path.0),
        (Some(l), Some(r)) => {
            if !value_eq(l, r) {
                c.modified.insert(&path.0)
            }
        }
    }
}

fn as_map(v: Option<&Value>) -> Option<&Map<String, Value>> {
    match v {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    }
}

fn as_list(v: Option<&Value>) -> Option<&Vec<Value>> {
    match v {
        Some(Value::Array(a)) => Some(a),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn compare_atom(
    a: &Atom<'_>,
    lhs: Option<&Value>,
    rhs: Option<&Value>,
    ty: Ty<'_>,
    path: &Path,
    c: &mut Comparison,
    in_leaf: &mut bool,
) {
    if let Some(m) = a.map {
        let l = as_map(lhs);
        let r = as_map(rhs);
        let empty = l.is_none_or(Map::is_empty) && r.is_none_or(Map::is_empty);
        if m.atomic || empty {
            compare_leaf(lhs, rhs, path, c, in_leaf);
            return;
        }
        let keys: BTreeSet<&String> = l.into_iter().flat_map(|m| m.keys()).chain(r.into_iter().flat_map(|m| m.keys())).collect();
        for k in keys {
            let p = push(path, PathElement::Field(k.clone()));
            compare_walk(l.and_then(|m| m.get(k)), r.and_then(|m| m.get(k)), ty.field(&m, k), &p, c);
        }
    } else if a.scalar {
        compare_leaf(lhs, rhs, path, c, in_leaf);
    } else if let Some(la) = a.list {
        let l = as_list(lhs);
        let r = as_list(rhs);
        let empty = l.is_none_or(Vec::is_empty) && r.is_none_or(Vec::is_empty);
        if la.keys.is_none() || empty {
            compare_leaf(lhs, rhs, path, c, in_leaf);
            return;
        }
        // Group items by path element, keeping first-seen order (lhs first, then new rhs ones).
        let mut order: Vec<PathElement> = Vec::new();
        let mut lv: std::collections::BTreeMap<PathElement, Vec<&Value>> = Default::default();
        let mut rv: std::collections::BTreeMap<PathElement, Vec<&Value>> = Default::default();
        for item in l.into_iter().flatten() {
            let Ok(pe) = item_pe(&la, item) else { continue };
            let e = lv.entry(pe.clone()).or_default();
            if e.is_empty() {
                order.push(pe);
            }
            e.push(item);
        }
        for item in r.into_iter().flatten() {
            let Ok(pe) = item_pe(&la, item) else { continue };
            let e = rv.entry(pe.clone()).or_default();
            if e.is_empty() && !lv.contains_key(&pe) {
                order.push(pe);
            }
            e.push(item);
        }
        for pe in order {
            let ll = lv.get(&pe).map(Vec::as_slice).unwrap_or(&[]);
            let rl = rv.get(&pe).map(Vec::as_slice).unwrap_or(&[]);
            let p = push(path, pe);
            if ll.len() <= 1 && rl.len() <= 1 {
                compare_walk(ll.first().copied(), rl.first().copied(), la.elem, &p, c);
            } else if ll.len() >= 2 && rl.len() >= 2 {
                let same = ll.len() == rl.len() && ll.iter().zip(rl).all(|(x, y)| value_eq(x, y));
                if !same {
                    c.modified.insert(&p.0);
                }
            } else if ll.len() >= 2 {
                if let Some(r0) = rl.first() {
                    compare_walk(None, Some(r0), la.elem, &p, c);
                }
                c.removed.insert(&p.0);
            } else {
                if let Some(l0) = ll.first() {
                    compare_walk(Some(l0), None, la.elem, &p, c);
                }
                c.added.insert(&p.0);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Merge

/// Merges `rhs` (an applied configuration) into `lhs` (the live object). Errors on duplicate or
/// key-less items in the configuration's associative lists.
pub(crate) fn merge(lhs: &Value, rhs: &Value, ty: Ty<'_>) -> Result<Value, String> {
    Ok(merge_walk(Some(lhs), Some(rhs), ty)?.unwrap_or_else(|| Value::Object(Map::new())))
}

fn merge_walk(lhs: Option<&Value>, rhs: Option<&Value>, ty: Ty<'_>) -> Result<Option<Value>, String> {
    let al = ty.deduce(lhs);
    let ar = ty.deduce(rhs);
    let a = if rhs.is_none() {
        al
    } else if lhs.is_none() || al.tag() == ar.tag() {
        ar
    } else {
        // Upstream also walks the live side's alternative, but keeps only this result.
        ar
    };
    merge_atom(&a, lhs, rhs, ty)
}

fn keep_rhs(lhs: Option<&Value>, rhs: Option<&Value>) -> Option<Value> {
    rhs.or(lhs).cloned()
}

fn merge_atom(a: &Atom<'_>, lhs: Option<&Value>, rhs: Option<&Value>, ty: Ty<'_>) -> Result<Option<Value>, String> {
    if let Some(m) = a.map {
        let l = as_map(lhs);
        let r = as_map(rhs);
        let empty = l.is_none_or(Map::is_empty) && r.is_none_or(Map::is_empty);
        if m.atomic || empty {
            return Ok(keep_rhs(lhs, rhs));
        }
        let mut out = Map::new();
        let keys: BTreeSet<&String> = l.into_iter().flat_map(|m| m.keys()).chain(r.into_iter().flat_map(|m| m.keys())).collect();
        for k in keys {
            if let Some(v) = merge_walk(l.and_then(|m| m.get(k)), r.and_then(|m| m.get(k)), ty.field(&m, k))? {
                out.insert(k.clone(), v);
            }
        }
        Ok(if out.is_empty() { None } else { Some(Value::Object(out)) })
    } else if a.scalar {
        Ok(keep_rhs(lhs, rhs))
    } else if let Some(la) = a.list {
        let l = as_list(lhs);
        let r = as_list(rhs);
        let empty = l.is_none_or(Vec::is_empty) && r.is_none_or(Vec::is_empty);
        if la.keys.is_none() || empty {
            return Ok(keep_rhs(lhs, rhs));
        }
        merge_list(&la, l.map(Vec::as_slice).unwrap_or(&[]), r.map(Vec::as_slice).unwrap_or(&[]))
    } else {
        Ok(keep_rhs(lhs, rhs))
    }
}

/// Merges associative lists: items keep the live order, items new in the configuration are
/// placed after the preceding configuration item, and items both sides share follow the
/// configuration's order (upstream's ordering algorithm).
fn merge_list(la: &ListAtom<'_>, lhs: &[Value], rhs: &[Value]) -> Result<Option<Value>, String> {
    use std::collections::BTreeMap;
    let null = Value::Null;
    let mut errs = Vec::new();
    let mut rpes = Vec::new();
    let mut robs: BTreeMap<PathElement, &Value> = BTreeMap::new();
    for (i, item) in rhs.iter().enumerate() {
        match item_pe(la, item) {
            Err(e) => errs.push(format!("element {i}: {e}")),
            Ok(pe) => {
                if robs.contains_key(&pe) {
                    errs.push(format!("duplicate entries for key {pe}"));
                    continue;
                }
                robs.insert(pe.clone(), item);
                rpes.push(pe);
            }
        }
    }
    let mut lpes = Vec::new();
    let mut lobs: BTreeMap<PathElement, &Value> = BTreeMap::new();
    for (i, item) in lhs.iter().enumerate() {
        match item_pe(la, item) {
            Err(e) => errs.push(format!("element {i}: {e}")),
            Ok(pe) => {
                if lobs.contains_key(&pe) {
                    // duplicated live items merge as if null
                    lobs.insert(pe.clone(), &null);
                } else {
                    lobs.insert(pe.clone(), item);
                }
                lpes.push(pe);
            }
        }
    }
    if !errs.is_empty() {
        return Err(errs.join("\n"));
    }
    let mut shared: std::collections::VecDeque<&PathElement> = rpes.iter().filter(|pe| lobs.contains_key(*pe)).collect();
    let mut next_shared = shared.pop_front();
    let mut merged_rhs: BTreeSet<PathElement> = BTreeSet::new();
    let mut out = Vec::new();
    let (llen, rlen) = (lpes.len(), rpes.len());
    let (mut li, mut ri) = (0, 0);
    while li < llen || ri < rlen {
        if li < llen && ri < rlen {
            let pe = &lpes[li];
            if *pe == rpes[ri] {
                merged_rhs.insert(pe.clone());
                if let Some(v) = merge_walk(lobs.get(pe).copied(), robs.get(pe).copied(), la.elem)? {
                    out.push(v);
                }
                li += 1;
                ri += 1;
                next_shared = shared.pop_front();
                continue;
            }
            if robs.contains_key(pe) && next_shared.is_some_and(|n| n != pe) {
                li += 1;
                continue;
            }
        }
        if li < llen {
            let pe = &lpes[li];
            if !robs.contains_key(pe) {
                if let Some(v) = merge_walk(Some(&lhs[li]), None, la.elem)? {
                    out.push(v);
                }
                li += 1;
                continue;
            } else if merged_rhs.contains(pe) {
                li += 1;
            }
        }
        if ri < rlen {
            let pe = &rpes[ri];
            merged_rhs.insert(pe.clone());
            if let Some(v) = merge_walk(lobs.get(pe).copied(), robs.get(pe).copied(), la.elem)? {
                out.push(v);
            }
            ri += 1;
            if next_shared.is_some_and(|n| n == pe) {
                next_shared = shared.pop_front();
            }
        }
    }
    Ok(if out.is_empty() { None } else { Some(Value::Array(out)) })
}

// ---------------------------------------------------------------------------------------------
// Removal

/// `v` without the fields in `remove`. `None` when nothing is left of `v`; a container emptied
/// below a kept field becomes null there, as upstream leaves it.
pub(crate) fn remove_items(v: &Value, remove: &FieldSet, ty: Ty<'_>) -> Option<Value> {
    let a = ty.deduce(Some(v));
    if let Some(m) = a.map {
        let Value::Object(obj) = v else { return Some(v.clone()) };
        if obj.is_empty() || m.atomic {
            return None;
        }
        let mut out = Map::new();
        for (k, val) in obj {
            let pe = PathElement::Field(k.clone());
            if remove.members().contains(&pe) {
                continue;
            }
            match remove.child(&pe).filter(|s| !s.is_empty()) {
                Some(sub) => {
                    // an emptied container stays, as null (upstream's behaviour)
                    out.insert(k.clone(), remove_items(val, sub, ty.field(&m, k)).unwrap_or(Value::Null));
                }
                None => {
                    out.insert(k.clone(), val.clone());
                }
            }
        }
        if out.is_empty() { None } else { Some(Value::Object(out)) }
    } else if a.scalar {
        Some(v.clone())
    } else if let Some(la) = a.list {
        let Value::Array(items) = v else { return Some(v.clone()) };
        if items.is_empty() || la.keys.is_none() {
            return None;
        }
        let mut out = Vec::new();
        for item in items {
            let Ok(pe) = item_pe(&la, item) else {
                out.push(item.clone());
                continue;
            };
            if remove.members().contains(&pe) {
                continue;
            }
            match remove.child(&pe).filter(|s| !s.is_empty()) {
                Some(sub) => out.push(remove_items(item, sub, la.elem).unwrap_or(Value::Null)),
                None => out.push(item.clone()),
            }
        }
        if out.is_empty() { None } else { Some(Value::Array(out)) }
    } else {
        Some(v.clone())
    }
}

/// Removes from the root object; the root itself stays an object.
pub(crate) fn remove_from_root(v: &Value, remove: &FieldSet, ty: Ty<'_>) -> Value {
    if remove.is_empty() {
        return v.clone();
    }
    remove_items(v, remove, ty).unwrap_or_else(|| Value::Object(Map::new()))
}

// ---------------------------------------------------------------------------------------------
// Named fields

/// `s` plus every declared struct field that has members below it (upstream's
/// `EnsureNamedFieldsAreMembers`).
pub(crate) fn ensure_named_fields(s: &FieldSet, ty: Option<Ty<'_>>) -> FieldSet {
    let mut out = FieldSet::new();
    let atom = ty.map(|t| t.resolve());
    for pe in s.members() {
        out.insert_member(pe.clone());
    }
    for (pe, child) in s.children() {
        let child_ty = match (pe, atom.as_ref()) {
            (PathElement::Field(name), Some(a)) if a.map.is_some() => {
                let t = ty.expect("resolved");
                if t.declares(name) {
                    out.insert_member(pe.clone());
                }
                Some(t.field(&a.map.expect("map"), name))
            }
            (PathElement::Key(_), Some(a)) if a.list.is_some() => Some(a.list.expect("list").elem),
            _ => None,
        };
        let sub = ensure_named_fields(child, child_ty);
        let mut p = Path::default();
        p.0.push(pe.clone());
        sub.iterate(&mut |q| {
            let mut full = p.clone();
            full.0.extend(q.0.iter().cloned());
            out.insert(&full.0);
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Validation

/// Checks that `v` conforms to the type (structure only), as upstream does when it converts an
/// applied configuration: undeclared fields, shapes, list item keys and, unless
/// `allow_duplicates`, duplicate list items. Returns upstream's error text.
pub(crate) fn validate(v: &Value, ty: Ty<'_>, allow_duplicates: bool) -> Result<(), String> {
    let mut errs = Vec::new();
    validate_walk(v, ty, "", allow_duplicates, &mut errs);
    match errs.len() {
        0 => Ok(()),
        1 => Err(errs.remove(0)),
        _ => Err(format!("errors:\n{}", errs.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))),
    }
}

fn at(prefix: &str, msg: &str) -> String {
    if prefix.is_empty() { msg.to_string() } else { format!("{prefix}: {msg}") }
}

fn validate_walk(v: &Value, ty: Ty<'_>, prefix: &str, allow_dups: bool, errs: &mut Vec<String>) {
    if let Kind::Undeclared = ty.kind {
        errs.push(at(prefix, "field not declared in schema"));
        return;
    }
    let a = ty.deduce(Some(v));
    if let Some(m) = a.map {
        match v {
            Value::Null => {}
            Value::Object(obj) => {
                for (k, val) in obj {
                    let p = format!("{prefix}.{k}");
                    let child = ty.field(&m, k);
                    validate_walk(val, child, &p, allow_dups, errs);
                    if let Kind::Undeclared = child.kind {
                        // upstream stops at the first undeclared field of a map
                        break;
                    }
                }
            }
            other => errs.push(at(prefix, &format!("expected map, got {other}"))),
        }
    } else if a.scalar {
        if matches!(v, Value::Array(_) | Value::Object(_)) {
            errs.push(at(prefix, &format!("expected any scalar, got {v}")));
        }
    } else if let Some(la) = a.list {
        match v {
            Value::Null => {}
            Value::Array(items) => {
                let mut seen = BTreeSet::new();
                for (i, item) in items.iter().enumerate() {
                    let child_prefix = if la.keys.is_some() {
                        match item_pe(&la, item) {
                            Err(e) => {
                                errs.push(at(prefix, &format!("element {i}: {e}")));
                                return;
                            }
                            Ok(pe) => {
                                if !seen.insert(pe.clone()) && !allow_dups {
                                    errs.push(at(prefix, &format!("duplicate entries for key {pe}")));
                                }
                                format!("{prefix}{pe}")
                            }
                        }
                    } else {
                        format!("{prefix}[{i}]")
                    };
                    validate_walk(item, la.elem, &child_prefix, allow_dups, errs);
                }
            }
            other => errs.push(at(prefix, &format!("expected list, got {other}"))),
        }
    }
}
