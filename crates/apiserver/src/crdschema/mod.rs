//! The structural-schema engine of CustomResourceDefinitions (apiextensions.k8s.io/v1), as
//! Kubernetes 1.32 runs it, over `serde_json::Value`:
//!
//! - [`check_schema`] / [`check_structural`]: what a version's `openAPIV3Schema` must pass
//!   when a CRD is created (structural rules, defaults, OpenAPI restrictions, rule syntax);
//! - [`prune`]: dropping unknown fields (with the paths for `fieldValidation=Warn|Strict`);
//! - [`apply_defaults`]: structural defaulting;
//! - [`validate`]: OpenAPI value validation, embedded resources, list-type uniqueness and
//!   `x-kubernetes-validations` (CEL), with upstream's error texts and update ratcheting;
//! - [`printer_column_value`] / [`selectable_field_value`]: `additionalPrinterColumns` cells
//!   and `selectableFields` values.
//!
//! [`CrdSchema`] holds a parsed schema for repeated use; the free functions parse on each call.

pub mod cel;
mod defaults;
mod embedded;
mod formats;
pub mod gofmt;
mod jsonpath;
mod openapi;
mod prune;
pub mod schema;
mod structural;

use std::sync::OnceLock;

use apimachinery::field::{ErrorKind, FieldError};
use serde_json::Value;

pub use cel::escape as cel_escape_property;
pub use schema::Schema;
pub use structural::CheckOptions;

pub(crate) fn rfc3339_re() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
            .expect("static regex")
    })
}

/// The checks of a version's `openAPIV3Schema` at CRD creation, as field errors at `base`
/// (`spec.versions[i].schema.openAPIV3Schema`).
pub fn check_schema(schema: &Value, base: &str, opts: CheckOptions) -> Vec<FieldError> {
    structural::check_schema(schema, base, opts)
}

/// [`check_schema`] at `openAPIV3Schema` (prefix `spec.versions[i].schema.` for a CRD's
/// messages), as message strings, e.g.
/// `openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields`.
pub fn check_structural(schema: &Value) -> Vec<String> {
    check_schema(schema, "openAPIV3Schema", CheckOptions::default())
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// The outcome of validating a custom resource.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Validation {
    /// The errors, in upstream's order (OpenAPI, embedded resources, list types, CEL).
    pub errors: Vec<FieldError>,
    /// Failures ratcheted on update (unchanged values): upstream drops the OpenAPI ones and
    /// returns the CEL ones as warnings.
    pub warnings: Vec<FieldError>,
}

/// A parsed version schema, with its defaults pruned as the server prunes them.
#[derive(Clone, Debug)]
pub struct CrdSchema {
    schema: Schema,
    defaults: Schema,
}

impl CrdSchema {
    /// Parses a version's `openAPIV3Schema`.
    pub fn new(schema: &Value) -> Self {
        let s = Schema::from_value(schema);
        let defaults = defaults::prune_defaults(&s).unwrap_or_else(|_| s.clone());
        CrdSchema {
            schema: s,
            defaults,
        }
    }

    /// The parsed schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Drops unknown fields. With `is_resource_root` (a whole custom resource) it does what the
    /// server does when decoding a request: the root `metadata` is re-encoded as ObjectMeta
    /// (unknown fields dropped and reported as `metadata.<field>`, malformed ones dropped),
    /// apiVersion/kind/metadata are kept, everything else not in the schema is dropped
    /// (except under `x-kubernetes-preserve-unknown-fields`), nulls of non-nullable fields
    /// without a default are dropped, and embedded resources' metadata is re-encoded too.
    /// Without it, only the schema pruning runs. Returns the dropped paths
    /// (`spec.foo`, `spec.items[0].bar`) for `unknown field "<path>"` messages.
    pub fn prune(&self, obj: &mut Value, is_resource_root: bool) -> Vec<String> {
        let mut paths = Vec::new();
        if !is_resource_root {
            return prune::prune_structural(obj, &self.schema, false, true);
        }
        if let Value::Object(m) = obj
            && let Ok(u) = prune::coerce_object_meta(m, "", true)
        {
            paths.extend(u);
            if let Some(Value::Object(meta)) = m.get_mut("metadata")
                && meta.get("creationTimestamp").is_none_or(Value::is_null)
            {
                meta.remove("creationTimestamp");
            }
        }
        paths.extend(prune::prune_structural(obj, &self.schema, true, true));
        prune::prune_non_nullable_nulls(obj, Some(&self.schema));
        let (_, u) = prune::coerce(obj, &self.schema, false, true, "");
        paths.extend(u);
        paths
    }

    /// Only the schema pruning of a whole resource (apiVersion/kind/metadata at the root and
    /// in embedded resources kept untouched, non-nullable nulls without default dropped),
    /// for callers that handle ObjectMeta themselves. Returns the dropped paths.
    pub fn prune_unknown_fields(&self, obj: &mut Value) -> Vec<String> {
        let paths = prune::prune_structural(obj, &self.schema, true, true);
        prune::prune_non_nullable_nulls(obj, Some(&self.schema));
        paths
    }

    /// Applies the schema's (pruned) defaults.
    pub fn apply_defaults(&self, obj: &mut Value) {
        defaults::default_node(obj, &self.defaults);
    }

    /// Validates a custom resource (with `old` on update: ratcheting as upstream).
    pub fn validate(&self, obj: &Value, old: Option<&Value>) -> Validation {
        self.validate_at(obj, old, None)
    }

    /// Validates the value at field path `base` (`None` = the resource root) against this
    /// schema. For the status subresource pass the status value, the status schema's
    /// [`CrdSchema`] and `Some("status")`.
    pub fn validate_at(&self, obj: &Value, old: Option<&Value>, base: Option<&str>) -> Validation {
        let s = &self.schema;
        let (mut errors, warnings) =
            openapi::validate_value(s, obj, old, base, openapi::Mode::CustomResource);
        let b = base.unwrap_or("");
        errors.extend(embedded::validate_embedded(b, obj, s, false));
        let list_ok_before =
            old.is_none_or(|o| embedded::validate_list_sets_and_maps(b, s, o).is_empty());
        if list_ok_before {
            errors.extend(embedded::validate_list_sets_and_maps(b, s, obj));
        }
        let mut out = Validation { errors, warnings };
        if s.has_x_validations() {
            let blocking = out.errors.iter().any(|e| {
                matches!(
                    e.kind,
                    ErrorKind::NotSupported
                        | ErrorKind::Required
                        | ErrorKind::TooLong
                        | ErrorKind::TooMany
                        | ErrorKind::TypeInvalid
                )
            });
            if blocking {
                out.errors.push(FieldError::invalid(
                    "<nil>",
                    "null",
                    "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
                ));
            } else {
                let c = cel::validate_with(base, s, obj, old, base.is_none(), old.is_some());
                out.errors.extend(c.errors);
                out.warnings.extend(c.warnings);
            }
        }
        out
    }
}

/// Drops the fields of `obj` that `schema` does not specify; see [`CrdSchema::prune`].
pub fn prune(obj: &mut Value, schema: &Value, is_resource_root: bool) -> Vec<String> {
    CrdSchema::new(schema).prune(obj, is_resource_root)
}

/// Applies `schema`'s defaults to `obj` (absent fields, and null ones that are not
/// nullable; in list items and map values too), after pruning the defaults as the server
/// does when it loads the CRD.
pub fn apply_defaults(obj: &mut Value, schema: &Value) {
    CrdSchema::new(schema).apply_defaults(obj)
}

/// Validates a custom resource against a version's schema (`old` on update); see
/// [`CrdSchema::validate`]. Returns the errors only.
pub fn validate(obj: &Value, schema: &Value, old: Option<&Value>) -> Vec<FieldError> {
    CrdSchema::new(schema).validate(obj, old).errors
}

/// The value of a selectable field (`.spec.color`) as the field set holds it (Go's
/// `fmt.Sprint`: `3`, `true`, `blue`); `None` when the path selects nothing or null
/// (upstream then matches it as the empty string).
pub fn selectable_field_value(obj: &Value, json_path: &str) -> Option<String> {
    let r = jsonpath::find(obj, json_path);
    match r.first() {
        None | Some(Value::Null) => None,
        Some(v) => Some(jsonpath::go_sprint(v)),
    }
}

/// The cell of an `additionalPrinterColumns` entry (upstream's CRD table convertor) at the
/// current time; see [`printer_column_value_at`].
pub fn printer_column_value(obj: &Value, json_path: &str, type_: &str, format: &str) -> Value {
    printer_column_value_at(obj, json_path, type_, format, jiff::Timestamp::now())
}

/// The cell of an `additionalPrinterColumns` entry: null when the path selects nothing; for
/// `string` the value printed as JSONPath prints it (scalars as text, objects and lists as
/// JSON); `integer` → int64 (floats truncated), `number` → float64, `boolean` → bool,
/// each null when the value has another type; `date` → the age at `now` as `kubectl` shows
/// it (`5m`, `<invalid>` for an unparsable timestamp). `format` does not change the cell.
pub fn printer_column_value_at(
    obj: &Value,
    json_path: &str,
    type_: &str,
    _format: &str,
    now: jiff::Timestamp,
) -> Value {
    let results = jsonpath::find(obj, json_path);
    let Some(v) = results.into_iter().next() else {
        return Value::Null;
    };
    if type_ == "string" {
        return match &v {
            Value::Null => Value::Null,
            Value::Object(_) | Value::Array(_) => Value::String(go_json_html(&v)),
            other => Value::String(jsonpath::go_sprint(other)),
        };
    }
    if v.is_null() {
        return Value::Null;
    }
    match type_ {
        "integer" => match gofmt::num(&v) {
            Some(gofmt::Num::Int(i)) => Value::from(i),
            Some(gofmt::Num::Float(f)) => Value::from(f as i64),
            None => Value::Null,
        },
        "number" => match gofmt::num(&v) {
            Some(gofmt::Num::Int(i)) => Value::from(i as f64),
            Some(gofmt::Num::Float(f)) => Value::from(f),
            None => Value::Null,
        },
        "boolean" => match v {
            Value::Bool(b) => Value::Bool(b),
            _ => Value::Null,
        },
        "date" => match v {
            Value::String(s) => {
                if s.is_empty() || s == "null" {
                    return Value::String("<unknown>".into());
                }
                match prune::parse_rfc3339_ts(&s) {
                    Some(t) => Value::String(apimachinery::table::human_duration(
                        now.as_second() - t.as_second(),
                    )),
                    None => Value::String("<invalid>".into()),
                }
            }
            _ => Value::Null,
        },
        _ => Value::Null,
    }
}

/// Go's `json.Marshal` including its HTML escaping of `<`, `>` and `&`.
fn go_json_html(v: &Value) -> String {
    gofmt::go_json(v)
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Whether a printer column / selectable field JSONPath parses.
pub fn json_path_is_valid(path: &str) -> bool {
    jsonpath::is_valid(path)
}

#[cfg(test)]
mod tests;
