//! The in-memory form of a CRD version's `openAPIV3Schema` (a `JSONSchemaProps`), read from
//! JSON. One type serves both the structural spine and the value validations under
//! `allOf`/`anyOf`/`oneOf`/`not` (upstream splits these into `Structural` and
//! `NestedValueValidation`; the checks in `structural.rs` enforce the split).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// `additionalProperties`: a boolean or a schema.
#[derive(Clone, Debug, PartialEq)]
pub enum AdditionalProperties {
    /// `additionalProperties: true|false`.
    Bool(bool),
    /// `additionalProperties: {...}` (allows any key, values checked against the schema).
    Schema(Box<Schema>),
}

impl AdditionalProperties {
    /// The schema, when one is given.
    pub fn schema(&self) -> Option<&Schema> {
        match self {
            AdditionalProperties::Schema(s) => Some(s),
            AdditionalProperties::Bool(_) => None,
        }
    }
    /// Whether extra keys are allowed (`true` or a schema).
    pub fn allows(&self) -> bool {
        match self {
            AdditionalProperties::Schema(_) => true,
            AdditionalProperties::Bool(b) => *b,
        }
    }
}

/// One `x-kubernetes-validations` entry.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ValidationRule {
    /// The CEL expression.
    pub rule: String,
    /// The static message (may be empty).
    pub message: String,
    /// A CEL expression producing the message (may be empty).
    pub message_expression: String,
    /// `FieldValueInvalid` (default), `FieldValueForbidden`, `FieldValueRequired`, `FieldValueDuplicate`.
    pub reason: Option<String>,
    /// A JSON path relative to the schema node, where the error is reported.
    pub field_path: String,
    /// `optionalOldSelf`.
    pub optional_old_self: Option<bool>,
}

/// A `JSONSchemaProps` node.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schema {
    /// `type` (empty when unset).
    pub type_: String,
    /// `format` (empty when unset).
    pub format: String,
    /// `description`.
    pub description: String,
    /// `title`.
    pub title: String,
    /// `nullable`.
    pub nullable: bool,
    /// `default` (None when unset; a JSON `null` default counts as unset, as upstream).
    pub default: Option<Value>,
    /// `maximum`.
    pub maximum: Option<f64>,
    /// `exclusiveMaximum`.
    pub exclusive_maximum: bool,
    /// `minimum`.
    pub minimum: Option<f64>,
    /// `exclusiveMinimum`.
    pub exclusive_minimum: bool,
    /// `maxLength`.
    pub max_length: Option<i64>,
    /// `minLength`.
    pub min_length: Option<i64>,
    /// `pattern` (empty when unset).
    pub pattern: String,
    /// `maxItems`.
    pub max_items: Option<i64>,
    /// `minItems`.
    pub min_items: Option<i64>,
    /// `uniqueItems`.
    pub unique_items: bool,
    /// `multipleOf`.
    pub multiple_of: Option<f64>,
    /// `enum` (empty when unset).
    pub enum_: Vec<Value>,
    /// `maxProperties`.
    pub max_properties: Option<i64>,
    /// `minProperties`.
    pub min_properties: Option<i64>,
    /// `required`.
    pub required: Vec<String>,
    /// `allOf`.
    pub all_of: Vec<Schema>,
    /// `oneOf`.
    pub one_of: Vec<Schema>,
    /// `anyOf`.
    pub any_of: Vec<Schema>,
    /// `not`.
    pub not: Option<Box<Schema>>,
    /// `items` given as a single schema.
    pub items: Option<Box<Schema>>,
    /// `items` given as an array of schemas (not supported by CRDs).
    pub items_array: Option<Vec<Schema>>,
    /// `properties` (None when unset, Some(empty) for `properties: {}`).
    pub properties: Option<BTreeMap<String, Schema>>,
    /// `additionalProperties`.
    pub additional_properties: Option<AdditionalProperties>,
    /// `x-kubernetes-preserve-unknown-fields` (as given; `false` is invalid).
    pub x_preserve_unknown_fields: Option<bool>,
    /// `x-kubernetes-embedded-resource`.
    pub x_embedded_resource: bool,
    /// `x-kubernetes-int-or-string`.
    pub x_int_or_string: bool,
    /// `x-kubernetes-list-map-keys`.
    pub x_list_map_keys: Vec<String>,
    /// `x-kubernetes-list-type`.
    pub x_list_type: Option<String>,
    /// `x-kubernetes-map-type`.
    pub x_map_type: Option<String>,
    /// `x-kubernetes-validations`.
    pub x_validations: Vec<ValidationRule>,
    /// `id`, `$schema`, `$ref`, `patternProperties`, `dependencies`, `additionalItems`,
    /// `definitions` when given (none of them is supported by CRDs): their JSON names.
    pub unsupported: Vec<&'static str>,
}

/// The fields a `JSONSchemaProps` can carry that this engine does not model but accepts.
const IGNORED_KEYS: &[&str] = &["example", "externalDocs"];

impl Schema {
    /// Reads a schema from its JSON form. Fields of a wrong JSON type are ignored (the CRD
    /// decoder rejects those before a schema reaches this engine).
    pub fn from_value(v: &Value) -> Schema {
        match v {
            Value::Object(m) => Self::from_map(m),
            _ => Schema::default(),
        }
    }

    fn from_map(m: &Map<String, Value>) -> Schema {
        let mut s = Schema::default();
        let str_of = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        let bool_of = |k: &str| m.get(k).and_then(Value::as_bool);
        let int_of = |k: &str| {
            m.get(k)
                .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
        };
        let float_of = |k: &str| m.get(k).and_then(Value::as_f64);
        let list_of = |k: &str| -> Vec<Schema> {
            m.get(k)
                .and_then(Value::as_array)
                .map(|a| a.iter().map(Schema::from_value).collect())
                .unwrap_or_default()
        };
        s.type_ = str_of("type").unwrap_or_default();
        s.format = str_of("format").unwrap_or_default();
        s.description = str_of("description").unwrap_or_default();
        s.title = str_of("title").unwrap_or_default();
        s.nullable = bool_of("nullable").unwrap_or(false);
        s.default = m.get("default").filter(|d| !d.is_null()).cloned();
        s.maximum = float_of("maximum");
        s.exclusive_maximum = bool_of("exclusiveMaximum").unwrap_or(false);
        s.minimum = float_of("minimum");
        s.exclusive_minimum = bool_of("exclusiveMinimum").unwrap_or(false);
        s.max_length = int_of("maxLength");
        s.min_length = int_of("minLength");
        s.pattern = str_of("pattern").unwrap_or_default();
        s.max_items = int_of("maxItems");
        s.min_items = int_of("minItems");
        s.unique_items = bool_of("uniqueItems").unwrap_or(false);
        s.multiple_of = float_of("multipleOf");
        s.enum_ = m
            .get("enum")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        s.max_properties = int_of("maxProperties");
        s.min_properties = int_of("minProperties");
        s.required = m
            .get("required")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        s.all_of = list_of("allOf");
        s.one_of = list_of("oneOf");
        s.any_of = list_of("anyOf");
        s.not = m
            .get("not")
            .filter(|v| v.is_object())
            .map(|v| Box::new(Schema::from_value(v)));
        match m.get("items") {
            Some(Value::Array(a)) => {
                s.items_array = Some(a.iter().map(Schema::from_value).collect())
            }
            Some(v @ Value::Object(_)) => s.items = Some(Box::new(Schema::from_value(v))),
            _ => {}
        }
        if let Some(Value::Object(props)) = m.get("properties") {
            s.properties = Some(
                props
                    .iter()
                    .map(|(k, v)| (k.clone(), Schema::from_value(v)))
                    .collect(),
            );
        }
        s.additional_properties = match m.get("additionalProperties") {
            Some(Value::Bool(b)) => Some(AdditionalProperties::Bool(*b)),
            Some(v @ Value::Object(_)) => Some(AdditionalProperties::Schema(Box::new(
                Schema::from_value(v),
            ))),
            _ => None,
        };
        s.x_preserve_unknown_fields = bool_of("x-kubernetes-preserve-unknown-fields");
        s.x_embedded_resource = bool_of("x-kubernetes-embedded-resource").unwrap_or(false);
        s.x_int_or_string = bool_of("x-kubernetes-int-or-string").unwrap_or(false);
        s.x_list_map_keys = m
            .get("x-kubernetes-list-map-keys")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        s.x_list_type = str_of("x-kubernetes-list-type");
        s.x_map_type = str_of("x-kubernetes-map-type");
        if let Some(Value::Array(rules)) = m.get("x-kubernetes-validations") {
            for r in rules {
                let g = |k: &str| {
                    r.get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                s.x_validations.push(ValidationRule {
                    rule: g("rule"),
                    message: g("message"),
                    message_expression: g("messageExpression"),
                    reason: r.get("reason").and_then(Value::as_str).map(str::to_string),
                    field_path: g("fieldPath"),
                    optional_old_self: r.get("optionalOldSelf").and_then(Value::as_bool),
                });
            }
        }
        for (key, name) in [
            ("id", "id"),
            ("$schema", "$schema"),
            ("$ref", "$ref"),
            ("patternProperties", "patternProperties"),
            ("dependencies", "dependencies"),
            ("additionalItems", "additionalItems"),
            ("definitions", "definitions"),
        ] {
            if let Some(v) = m.get(key) {
                let empty = match v {
                    Value::Null => true,
                    Value::String(s) => s.is_empty() && key != "$ref",
                    Value::Object(o) => {
                        o.is_empty() && key != "dependencies" && key != "additionalItems"
                    }
                    _ => false,
                };
                if !empty {
                    s.unsupported.push(name);
                }
            }
        }
        let _ = IGNORED_KEYS;
        s
    }

    /// The property schema for `k`, if `properties` has it.
    pub fn property(&self, k: &str) -> Option<&Schema> {
        self.properties.as_ref().and_then(|p| p.get(k))
    }

    /// Whether `properties` is set and non-empty.
    pub fn has_properties(&self) -> bool {
        self.properties.as_ref().is_some_and(|p| !p.is_empty())
    }

    /// The properties (empty when unset).
    pub fn props(&self) -> impl Iterator<Item = (&String, &Schema)> {
        self.properties.iter().flat_map(|p| p.iter())
    }

    /// Whether `x-kubernetes-preserve-unknown-fields: true`.
    pub fn preserve_unknown_fields(&self) -> bool {
        self.x_preserve_unknown_fields == Some(true)
    }

    /// The schema that values under the key `k` of an object follow: the property, else the
    /// `additionalProperties` schema. `None` also for `additionalProperties: true`.
    pub fn child(&self, k: &str) -> Option<&Schema> {
        self.property(k)
            .or_else(|| self.additional_properties.as_ref().and_then(|a| a.schema()))
    }

    /// The `additionalProperties` schema, if one is given.
    pub fn additional_schema(&self) -> Option<&Schema> {
        self.additional_properties.as_ref().and_then(|a| a.schema())
    }

    /// Whether any node of the structural spine (properties, items, additionalProperties)
    /// carries `x-kubernetes-validations`.
    pub fn has_x_validations(&self) -> bool {
        !self.x_validations.is_empty()
            || self.items.as_deref().is_some_and(Schema::has_x_validations)
            || self
                .additional_schema()
                .is_some_and(Schema::has_x_validations)
            || self.props().any(|(_, p)| p.has_x_validations())
    }
}
