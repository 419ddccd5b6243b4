//! Strategic-merge-patch and server-side-apply metadata of the Kubernetes 1.32
//! built-in types: the `x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`,
//! `x-kubernetes-list-type`, `x-kubernetes-list-map-keys`, `x-kubernetes-map-type` and
//! `x-kubernetes-unions` vendor extensions that upstream's generated OpenAPI carries
//! (k8s-openapi's schemars schemas lack them).
//!
//! The data lives in [`table`] (generated from the Go types' markers of
//! k8s.io/api, k8s.io/apimachinery, k8s.io/apiextensions-apiserver and
//! k8s.io/kube-aggregator at v0.32.13); this file is the hand-written lookup API.
//!
//! Definitions are named as in the OpenAPI document, e.g. `io.k8s.api.core.v1.PodSpec`.
//! Fields of Go structs embedded with `json:",inline"` are listed under the embedding
//! definition (e.g. `EphemeralContainer` carries `EphemeralContainerCommon`'s fields), exactly
//! as openapi-gen flattens them.

use serde_json::{Map, Value};

#[rustfmt::skip]
mod table;

#[cfg(test)]
mod tests;

/// Vendor extensions of one property (struct field) of a definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldMeta {
    /// `x-kubernetes-patch-strategy`: `"merge"`, `"retainKeys"`, `"merge,retainKeys"`
    /// (and `"replace"` on `PodDisruptionBudgetSpec.selector`).
    pub patch_strategy: Option<&'static str>,
    /// `x-kubernetes-patch-merge-key`.
    pub patch_merge_key: Option<&'static str>,
    /// `x-kubernetes-list-type`: `"atomic"`, `"set"` or `"map"`.
    pub list_type: Option<&'static str>,
    /// `x-kubernetes-list-map-keys`, in declaration order (empty when absent).
    pub list_map_keys: &'static [&'static str],
    /// `x-kubernetes-map-type` of the property: `"atomic"` or `"granular"` (from a
    /// member-level `+mapType` or `+structType`).
    pub map_type: Option<&'static str>,
}

impl FieldMeta {
    /// The extensions as they appear on the property schema in upstream's OpenAPI.
    pub fn extensions(&self) -> Map<String, Value> {
        let mut m = Map::new();
        if let Some(v) = self.patch_strategy {
            m.insert("x-kubernetes-patch-strategy".into(), v.into());
        }
        if let Some(v) = self.patch_merge_key {
            m.insert("x-kubernetes-patch-merge-key".into(), v.into());
        }
        if let Some(v) = self.list_type {
            m.insert("x-kubernetes-list-type".into(), v.into());
        }
        if !self.list_map_keys.is_empty() {
            m.insert(
                "x-kubernetes-list-map-keys".into(),
                Value::Array(self.list_map_keys.iter().map(|k| Value::from(*k)).collect()),
            );
        }
        if let Some(v) = self.map_type {
            m.insert("x-kubernetes-map-type".into(), v.into());
        }
        m
    }
}

/// One entry of a definition's `x-kubernetes-unions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Union {
    /// JSON name of the discriminator field, if any.
    pub discriminator: Option<&'static str>,
    /// `fields-to-discriminateBy`: (JSON field name, discriminator value = Go field name),
    /// sorted by JSON field name.
    pub fields_to_discriminate_by: &'static [(&'static str, &'static str)],
}

impl Union {
    /// The union as it appears in upstream's OpenAPI.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(d) = self.discriminator {
            m.insert("discriminator".into(), d.into());
        }
        let fields: Map<String, Value> = self
            .fields_to_discriminate_by
            .iter()
            .map(|(f, v)| ((*f).to_owned(), Value::from(*v)))
            .collect();
        m.insert("fields-to-discriminateBy".into(), Value::Object(fields));
        Value::Object(m)
    }
}

/// Metadata of property `json_field` of `definition`, if it has any vendor extension.
pub fn field(definition: &str, json_field: &str) -> Option<&'static FieldMeta> {
    table::FIELDS
        .binary_search_by(|(d, f, _)| (*d, *f).cmp(&(definition, json_field)))
        .ok()
        .map(|i| &table::FIELDS[i].2)
}

/// All properties of `definition` that carry vendor extensions, sorted by JSON name.
pub fn fields(definition: &str) -> impl Iterator<Item = (&'static str, &'static FieldMeta)> {
    let all = table::FIELDS;
    let start = all.partition_point(|(d, _, _)| *d < definition);
    let end = start + all[start..].partition_point(|(d, _, _)| *d == definition);
    all[start..end].iter().map(|(_, f, m)| (*f, m))
}

/// Type-level `x-kubernetes-map-type` of `definition` (struct-level `+structType` /
/// `+mapType`), e.g. `"atomic"` for `io.k8s.api.core.v1.NodeSelectorTerm`.
pub fn type_map_type(definition: &str) -> Option<&'static str> {
    table::TYPE_MAP_TYPES
        .binary_search_by(|(d, _)| (*d).cmp(definition))
        .ok()
        .map(|i| table::TYPE_MAP_TYPES[i].1)
}

/// Type-level `x-kubernetes-unions` of `definition`, if any.
pub fn type_unions(definition: &str) -> Option<&'static [Union]> {
    table::UNIONS
        .binary_search_by(|(d, _)| (*d).cmp(definition))
        .ok()
        .map(|i| table::UNIONS[i].1)
}

/// Every definition name that has field-level, type-level or union metadata (sorted, deduplicated).
pub fn definitions() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = table::FIELDS
        .iter()
        .map(|(d, _, _)| *d)
        .chain(table::TYPE_MAP_TYPES.iter().map(|(d, _)| *d))
        .chain(table::UNIONS.iter().map(|(d, _)| *d))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Every field entry: (definition, JSON field, metadata), sorted.
pub fn all_fields() -> impl Iterator<Item = (&'static str, &'static str, &'static FieldMeta)> {
    table::FIELDS.iter().map(|(d, f, m)| (*d, *f, m))
}

/// Adds the x-kubernetes-* extensions to an OpenAPI components.schemas map (definition
/// name → schema) in place, as upstream's documents have them: field-level ones on the
/// property schema (for a property that is a `$ref`, wrapped in `allOf` or plain, the
/// extensions go next to it on the property object; for a list, on the array schema, not on
/// `items`), and type-level ones (`x-kubernetes-map-type`, `x-kubernetes-unions`) on the
/// definition itself. Definitions or properties absent from `schemas` are skipped; existing
/// values of these keys are overwritten, so the call is idempotent.
pub fn annotate_schemas(schemas: &mut Map<String, Value>) {
    for (name, schema) in schemas.iter_mut() {
        let Some(def) = schema.as_object_mut() else {
            continue;
        };
        if let Some(mt) = type_map_type(name) {
            def.insert("x-kubernetes-map-type".into(), mt.into());
        }
        if let Some(unions) = type_unions(name) {
            def.insert(
                "x-kubernetes-unions".into(),
                Value::Array(unions.iter().map(Union::to_json).collect()),
            );
        }
        let Some(props) = def.get_mut("properties").and_then(Value::as_object_mut) else {
            continue;
        };
        for (field_name, meta) in fields(name) {
            if let Some(prop) = props.get_mut(field_name).and_then(Value::as_object_mut) {
                prop.extend(meta.extensions());
            }
        }
    }
}
