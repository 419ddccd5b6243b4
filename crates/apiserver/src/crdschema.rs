//! Structural schemas of custom resources (being written).
use apimachinery::FieldError;
use serde_json::Value;
/// Prunes fields not in the schema; returns their paths.
pub fn prune(_obj: &mut Value, _schema: &Value, _root: bool) -> Vec<String> { Vec::new() }
/// Applies schema defaults.
pub fn apply_defaults(_obj: &mut Value, _schema: &Value) {}
/// Validates against the schema.
pub fn validate(_obj: &Value, _schema: &Value, _old: Option<&Value>) -> Vec<FieldError> { Vec::new() }
/// Structural-schema violations.
pub fn check_structural(_schema: &Value) -> Vec<String> { Vec::new() }
/// A selectable field's value.
pub fn selectable_field_value(_obj: &Value, _path: &str) -> Option<String> { None }
/// A printer column's cell.
pub fn printer_column_value(_obj: &Value, _path: &str, _ty: &str, _format: &str, _now: jiff::Timestamp) -> Value { Value::Null }
