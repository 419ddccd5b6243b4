//! The structural shape of API types, as merge logic needs it: which fields an object has, which
//! values are maps, which are lists and how their items are identified (list type and keys,
//! strategic merge key and patch strategy), which parts are atomic.
//!
//! A [`SchemaSet`] is built from OpenAPI v3 schemas carrying Kubernetes' vendor extensions
//! (`x-kubernetes-list-type`, `-list-map-keys`, `-map-type`, `-patch-strategy`,
//! `-patch-merge-key`, `-preserve-unknown-fields`, `-int-or-string`, `-embedded-resource`):
//! either a `components.schemas` map (the built-in types) or a custom resource's
//! `openAPIV3Schema` (inline, no references). Strategic merge patch and server-side apply
//! consume it; they never look at OpenAPI directly.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

/// How a list's items are identified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListType {
    /// The whole list is one value (the default for lists).
    Atomic,
    /// Items are scalars identified by value.
    Set,
    /// Items are objects identified by these key fields.
    Map(Vec<String>),
}

/// The shape of one value.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// A string, number, boolean, int-or-string or quantity.
    Scalar,
    /// Anything (preserve-unknown-fields, RawExtension, untyped JSON): treated as atomic.
    Untyped,
    /// A named struct type of the set.
    Named(String),
    /// An object with arbitrary keys.
    Map {
        /// Shape of the values.
        values: Box<Shape>,
        /// Replaced as a whole (`x-kubernetes-map-type: atomic`).
        atomic: bool,
    },
    /// A list.
    List {
        /// Shape of the items.
        items: Box<Shape>,
        /// How items are identified.
        list_type: ListType,
    },
}

/// One field of a struct type.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The value's shape.
    pub shape: Shape,
    /// Strategic merge patch strategies (`merge`, `retainKeys`, `replace`).
    pub patch_strategies: Vec<String>,
    /// Strategic merge patch merge key of a list field.
    pub patch_merge_key: Option<String>,
}

impl Field {
    /// Whether the strategy list contains `s`.
    pub fn has_strategy(&self, s: &str) -> bool {
        self.patch_strategies.iter().any(|x| x == s)
    }
}

/// A struct type.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Struct {
    /// Known fields.
    pub fields: BTreeMap<String, Field>,
    /// Replaced as a whole (`x-kubernetes-map-type: atomic` on the type).
    pub atomic: bool,
    /// Fields not listed are kept (`x-kubernetes-preserve-unknown-fields`); their values are
    /// untyped.
    pub preserve_unknown: bool,
}

/// A set of named struct types.
#[derive(Clone, Debug, Default)]
pub struct SchemaSet {
    /// Types by name.
    pub types: HashMap<String, Struct>,
}

const REF_PREFIXES: &[&str] = &["#/components/schemas/", "#/definitions/"];

fn ref_target(v: &Value) -> Option<&str> {
    let r = v.get("$ref").and_then(Value::as_str).or_else(|| {
        v.get("allOf").and_then(Value::as_array).and_then(|a| a.first()).and_then(|x| x.get("$ref")).and_then(Value::as_str)
    })?;
    REF_PREFIXES.iter().find_map(|p| r.strip_prefix(p))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

impl SchemaSet {
    /// Builds a set from a `components.schemas` (or `definitions`) map.
    pub fn from_definitions(defs: &Map<String, Value>) -> SchemaSet {
        let mut set = SchemaSet::default();
        for (name, schema) in defs {
            let st = set.struct_of(schema, name);
            set.types.insert(name.clone(), st);
        }
        set
    }

    /// Builds a set from one inline schema (a custom resource's `openAPIV3Schema`); its root
    /// type is named `root`, nested object types get generated names below it.
    pub fn from_inline(root: &Value, root_name: &str) -> SchemaSet {
        let mut set = SchemaSet::default();
        let st = set.struct_of(root, root_name);
        set.types.insert(root_name.to_string(), st);
        set
    }

    fn struct_of(&mut self, schema: &Value, name: &str) -> Struct {
        let mut st = Struct {
            atomic: schema.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic"),
            preserve_unknown: schema.get("x-kubernetes-preserve-unknown-fields").and_then(Value::as_bool) == Some(true),
            ..Default::default()
        };
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (field, prop) in props {
                let shape = self.shape_of(prop, &format!("{name}.{field}"));
                st.fields.insert(
                    field.clone(),
                    Field {
                        shape,
                        patch_strategies: prop
                            .get("x-kubernetes-patch-strategy")
                            .and_then(Value::as_str)
                            .map(|s| s.split(',').map(str::to_string).collect())
                            .unwrap_or_default(),
                        patch_merge_key: prop.get("x-kubernetes-patch-merge-key").and_then(Value::as_str).map(str::to_string),
                    },
                );
            }
        }
        if schema.get("x-kubernetes-embedded-resource").and_then(Value::as_bool) == Some(true) {
            for f in ["apiVersion", "kind"] {
                st.fields.entry(f.into()).or_insert(Field { shape: Shape::Scalar, patch_strategies: vec![], patch_merge_key: None });
            }
            st.fields
                .entry("metadata".into())
                .or_insert(Field { shape: Shape::Untyped, patch_strategies: vec![], patch_merge_key: None });
        }
        st
    }

    fn shape_of(&mut self, prop: &Value, path: &str) -> Shape {
        if let Some(target) = ref_target(prop) {
            return Shape::Named(target.to_string());
        }
        if prop.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true) {
            return Shape::Scalar;
        }
        let ty = prop.get("type").and_then(Value::as_str).unwrap_or("");
        match ty {
            "array" => {
                let items = prop.get("items").map(|i| self.shape_of(i, &format!("{path}[]"))).unwrap_or(Shape::Untyped);
                let list_type = match prop.get("x-kubernetes-list-type").and_then(Value::as_str) {
                    Some("set") => ListType::Set,
                    Some("map") => ListType::Map(strings(prop.get("x-kubernetes-list-map-keys"))),
                    _ => ListType::Atomic,
                };
                Shape::List { items: Box::new(items), list_type }
            }
            "object" | "" => {
                let has_props = prop.get("properties").and_then(Value::as_object).is_some_and(|p| !p.is_empty());
                let additional = prop.get("additionalProperties").filter(|a| a.is_object());
                let preserve = prop.get("x-kubernetes-preserve-unknown-fields").and_then(Value::as_bool) == Some(true);
                let embedded = prop.get("x-kubernetes-embedded-resource").and_then(Value::as_bool) == Some(true);
                if has_props || embedded {
                    let st = self.struct_of(prop, path);
                    self.types.insert(path.to_string(), st);
                    Shape::Named(path.to_string())
                } else if let Some(a) = additional {
                    let values = self.shape_of(a, &format!("{path}{{}}"));
                    let atomic = prop.get("x-kubernetes-map-type").and_then(Value::as_str) == Some("atomic");
                    Shape::Map { values: Box::new(values), atomic }
                } else if ty.is_empty() || preserve {
                    Shape::Untyped
                } else {
                    // an object without properties: an untyped map
                    Shape::Untyped
                }
            }
            _ => Shape::Scalar,
        }
    }

    /// A struct type by name.
    pub fn get(&self, name: &str) -> Option<&Struct> {
        self.types.get(name)
    }

    /// The field `name` of the struct the shape names, if any.
    pub fn field<'a>(&'a self, shape: &Shape, name: &str) -> Option<&'a Field> {
        match shape {
            Shape::Named(n) => self.types.get(n)?.fields.get(name),
            _ => None,
        }
    }

    /// Whether the value of a shape is replaced as a whole.
    pub fn is_atomic(&self, shape: &Shape) -> bool {
        match shape {
            Shape::Scalar | Shape::Untyped => true,
            Shape::Named(n) => self.types.get(n).is_none_or(|s| s.atomic),
            Shape::Map { atomic, .. } => *atomic,
            Shape::List { list_type, .. } => *list_type == ListType::Atomic,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builds_shapes_from_definitions() {
        let defs = json!({
            "io.k8s.api.core.v1.PodSpec": {"type": "object", "properties": {
                "containers": {"type": "array", "items": {"$ref": "#/components/schemas/io.k8s.api.core.v1.Container"},
                    "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                    "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "name"},
                "nodeSelector": {"type": "object", "additionalProperties": {"type": "string"}, "x-kubernetes-map-type": "atomic"},
                "securityContext": {"allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSecurityContext"}], "description": "x"},
                "hostNetwork": {"type": "boolean"}
            }},
            "io.k8s.api.core.v1.Container": {"type": "object", "properties": {"name": {"type": "string"}}},
            "io.k8s.api.core.v1.NodeSelectorTerm": {"type": "object", "properties": {}, "x-kubernetes-map-type": "atomic"}
        });
        let set = SchemaSet::from_definitions(defs.as_object().unwrap());
        let spec = Shape::Named("io.k8s.api.core.v1.PodSpec".into());
        let c = set.field(&spec, "containers").unwrap();
        assert_eq!(c.patch_merge_key.as_deref(), Some("name"));
        assert!(c.has_strategy("merge"));
        match &c.shape {
            Shape::List { items, list_type } => {
                assert_eq!(*list_type, ListType::Map(vec!["name".into()]));
                assert_eq!(**items, Shape::Named("io.k8s.api.core.v1.Container".into()));
            }
            other => panic!("{other:?}"),
        }
        let ns = set.field(&spec, "nodeSelector").unwrap();
        assert!(set.is_atomic(&ns.shape));
        let sc = set.field(&spec, "securityContext").unwrap();
        assert_eq!(sc.shape, Shape::Named("io.k8s.api.core.v1.PodSecurityContext".into()));
        assert!(set.is_atomic(&Shape::Named("io.k8s.api.core.v1.NodeSelectorTerm".into())));
        assert!(!set.is_atomic(&spec));
    }

    #[test]
    fn builds_shapes_from_an_inline_crd_schema() {
        let root = json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "items": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["id"],
                    "items": {"type": "object", "properties": {"id": {"type": "string"}, "v": {"type": "integer"}}}},
                "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "port": {"x-kubernetes-int-or-string": true}
            }}
        }});
        let set = SchemaSet::from_inline(&root, "root");
        let spec = set.field(&Shape::Named("root".into()), "spec").unwrap().shape.clone();
        match &set.field(&spec, "items").unwrap().shape {
            Shape::List { items, list_type: ListType::Map(keys) } => {
                assert_eq!(keys, &vec!["id".to_string()]);
                assert!(set.field(items, "v").is_some());
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(set.field(&spec, "tags").unwrap().shape, Shape::List { list_type: ListType::Set, .. }));
        assert!(matches!(set.field(&spec, "labels").unwrap().shape, Shape::Map { atomic: false, .. }));
        assert_eq!(set.field(&spec, "free").unwrap().shape, Shape::Untyped);
        assert_eq!(set.field(&spec, "port").unwrap().shape, Shape::Scalar);
    }
}
