//! Structural defaulting (upstream `schema/defaulting`): applying defaults, pruning default
//! values as the server does when it loads a CRD (`PruneDefaults`), and the "surrounding
//! object" used to check a default in the context of the whole resource.

use serde_json::{Map, Value};

use super::prune::{coerce, prune_structural};
use super::schema::{AdditionalProperties, Schema};

/// One step from the resource root down to a schema node.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    Child(String),
    Index,
}

/// Upstream's `SurroundingObjectFunc`: wraps `x` into the objects/arrays of `steps` so it sits
/// at its place in a resource, e.g. `[Child("spec"), Index]` turns `x` into `{"spec": [x]}`.
/// The root must come out as an object.
pub(crate) fn surround(
    x: Value,
    steps: &[Step],
    type_meta: Option<(&str, &str)>,
) -> Result<Map<String, Value>, String> {
    let mut v = x;
    for st in steps.iter().rev() {
        v = match st {
            Step::Child(k) => {
                let mut m = Map::new();
                m.insert(k.clone(), v);
                Value::Object(m)
            }
            Step::Index => Value::Array(vec![v]),
        };
    }
    let Value::Object(mut obj) = v else {
        return Err("object root default value must be of object type".into());
    };
    if let Some((api_version, kind)) = type_meta {
        obj.entry("kind")
            .or_insert_with(|| Value::String(kind.to_string()));
        obj.entry("apiVersion")
            .or_insert_with(|| Value::String(api_version.to_string()));
    }
    Ok(obj)
}

/// The accessor that goes with [`surround`]: the value at `steps`, `None` when absent.
pub(crate) fn access(obj: &Map<String, Value>, steps: &[Step]) -> Result<Option<Value>, String> {
    let mut cur = Value::Object(obj.clone());
    for st in steps {
        cur = match (st, cur) {
            (Step::Child(k), Value::Object(mut m)) => match m.remove(k) {
                Some(v) => v,
                None => return Ok(None),
            },
            (Step::Child(k), _) => return Err(format!(".{k} must be of object type")),
            (Step::Index, Value::Array(mut a)) => {
                if a.is_empty() {
                    return Ok(None);
                }
                a.swap_remove(0)
            }
            (Step::Index, _) => return Err("[] must be of array type".into()),
        };
    }
    Ok(Some(cur))
}

/// Upstream `PruneDefaults`: every default is pruned as if it sat in a resource of this
/// schema (unknown fields dropped, ObjectMeta coerced). Returns the schema with pruned
/// defaults; a default that prunes away entirely is removed.
pub(crate) fn prune_defaults(root: &Schema) -> Result<Schema, String> {
    let mut out = root.clone();
    prune_defaults_node(&mut out, root, &mut Vec::new())?;
    Ok(out)
}

fn prune_defaults_node(s: &mut Schema, root: &Schema, steps: &mut Vec<Step>) -> Result<(), String> {
    if let Some(d) = s.default.clone() {
        let obj =
            surround(d, steps, None).map_err(|e| format!("failed to prune default value: {e}"))?;
        let mut obj = Value::Object(obj);
        let (err, _) = coerce(&mut obj, root, true, true, "");
        if let Some((p, _, detail)) = err {
            return Err(format!("failed to prune default value: {p}: {detail}"));
        }
        prune_structural(&mut obj, root, true, false);
        let Value::Object(m) = obj else {
            unreachable!("object stays an object")
        };
        s.default = access(&m, steps)
            .map_err(|e| format!("failed to prune default value: {e}"))?
            .filter(|v| !v.is_null());
    }
    if let Some(AdditionalProperties::Schema(ap)) = &mut s.additional_properties {
        steps.push(Step::Child("*".into()));
        prune_defaults_node(ap, root, steps)?;
        steps.pop();
    }
    if let Some(items) = &mut s.items {
        steps.push(Step::Index);
        prune_defaults_node(items, root, steps)?;
        steps.pop();
    }
    if let Some(props) = &mut s.properties {
        for (k, p) in props.iter_mut() {
            steps.push(Step::Child(k.clone()));
            prune_defaults_node(p, root, steps)?;
            steps.pop();
        }
    }
    Ok(())
}

fn is_non_nullable_null(x: &Value, s: Option<&Schema>) -> bool {
    x.is_null() && s.is_some_and(|s| !s.nullable)
}

/// Upstream `structuraldefaulting.Default`: sets absent fields (and non-nullable null
/// fields, array items and map values) that have a default; then descends.
pub(crate) fn default_node(x: &mut Value, s: &Schema) {
    match x {
        Value::Object(m) => {
            for (k, prop) in s.props() {
                let Some(d) = &prop.default else { continue };
                let absent_or_null = match m.get(k) {
                    None => true,
                    Some(v) => is_non_nullable_null(v, Some(prop)),
                };
                if absent_or_null {
                    m.insert(k.clone(), d.clone());
                }
            }
            for (k, v) in m.iter_mut() {
                if let Some(prop) = s.property(k) {
                    default_node(v, prop);
                } else if let Some(ap) = &s.additional_properties {
                    let aps = ap.schema();
                    if is_non_nullable_null(v, aps)
                        && let Some(d) = aps.and_then(|a| a.default.as_ref())
                    {
                        *v = d.clone();
                    }
                    if let Some(aps) = aps {
                        default_node(v, aps);
                    }
                }
            }
        }
        Value::Array(a) => {
            let Some(items) = s.items.as_deref() else {
                return;
            };
            for v in a.iter_mut() {
                if is_non_nullable_null(v, Some(items))
                    && let Some(d) = &items.default
                {
                    *v = d.clone();
                }
                default_node(v, items);
            }
        }
        _ => {}
    }
}
