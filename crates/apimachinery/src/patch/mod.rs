//! Patches: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and strategic merge patch
//! (upstream's `strategicpatch`, in [`strategic`]). Pure functions from a document and a patch to
//! the patched document; errors carry upstream's status codes and texts.

use serde_json::Value;

use crate::ApiError;
use crate::status::ApiResult;

pub mod strategic;

/// RFC 7386 merge patch.
pub fn merge_patch(mut target: Value, patch: &Value) -> Value {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                target = Value::Object(Default::default());
            }
            if let Value::Object(t) = &mut target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        let cur = t.remove(k).unwrap_or(Value::Null);
                        t.insert(k.clone(), merge_patch(cur, v));
                    }
                }
            }
            target
        }
        other => other.clone(),
    }
}

fn unprocessable(msg: String) -> ApiError {
    ApiError { code: 422, reason: crate::status::Reason::Invalid, message: msg, details: None }
}

fn pointer_tokens(path: &str) -> ApiResult<Vec<String>> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    if !path.starts_with('/') {
        return Err(ApiError::bad_request(format!("invalid JSON pointer {path:?}: must start with '/'")));
    }
    Ok(path[1..].split('/').map(|t| t.replace("~1", "/").replace("~0", "~")).collect())
}

fn parent_mut<'a>(doc: &'a mut Value, tokens: &[String], path: &str) -> ApiResult<&'a mut Value> {
    let mut cur = doc;
    for t in tokens {
        cur = match cur {
            Value::Object(m) => m.get_mut(t),
            Value::Array(a) => t.parse::<usize>().ok().and_then(move |i| a.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| unprocessable(format!("jsonpatch: path {path:?} does not exist")))?;
    }
    Ok(cur)
}

fn get<'a>(doc: &'a Value, path: &str) -> ApiResult<&'a Value> {
    let tokens = pointer_tokens(path)?;
    let mut cur = doc;
    for t in &tokens {
        cur = match cur {
            Value::Object(m) => m.get(t),
            Value::Array(a) => t.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        }
        .ok_or_else(|| unprocessable(format!("jsonpatch: path {path:?} does not exist")))?;
    }
    Ok(cur)
}

fn remove(doc: &mut Value, path: &str) -> ApiResult<Value> {
    let tokens = pointer_tokens(path)?;
    let (last, parents) = tokens.split_last().ok_or_else(|| unprocessable("jsonpatch: cannot remove the root".into()))?;
    let parent = parent_mut(doc, parents, path)?;
    match parent {
        Value::Object(m) => m.remove(last).ok_or_else(|| unprocessable(format!("jsonpatch remove operation does not apply: doc is missing path: {path:?}"))),
        Value::Array(a) => {
            let i = last.parse::<usize>().ok().filter(|i| *i < a.len()).ok_or_else(|| unprocessable(format!("jsonpatch remove operation does not apply: doc is missing path: {path:?}")))?;
            Ok(a.remove(i))
        }
        _ => Err(unprocessable(format!("jsonpatch remove operation does not apply: doc is missing path: {path:?}"))),
    }
}

fn add(doc: &mut Value, path: &str, value: Value, replace: bool) -> ApiResult<()> {
    let tokens = pointer_tokens(path)?;
    let Some((last, parents)) = tokens.split_last() else {
        *doc = value;
        return Ok(());
    };
    let parent = parent_mut(doc, parents, path)?;
    match parent {
        Value::Object(m) => {
            if replace && !m.contains_key(last) {
                return Err(unprocessable(format!("jsonpatch replace operation does not apply: doc is missing key: {path}")));
            }
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            if last == "-" && !replace {
                a.push(value);
                return Ok(());
            }
            let i: usize = last.parse().map_err(|_| unprocessable(format!("jsonpatch: invalid array index in {path:?}")))?;
            if replace {
                let slot = a.get_mut(i).ok_or_else(|| unprocessable(format!("jsonpatch replace operation does not apply: doc is missing key: {path}")))?;
                *slot = value;
            } else {
                if i > a.len() {
                    return Err(unprocessable(format!("jsonpatch add operation does not apply: index out of bounds in {path:?}")));
                }
                a.insert(i, value);
            }
            Ok(())
        }
        _ => Err(unprocessable(format!("jsonpatch: path {path:?} does not exist"))),
    }
}

/// RFC 6902 JSON patch.
pub fn json_patch(mut doc: Value, patch: &Value) -> ApiResult<Value> {
    let ops = patch.as_array().ok_or_else(|| ApiError::bad_request("json patch must be a JSON array of operations"))?;
    for op in ops {
        let name = op.get("op").and_then(Value::as_str).ok_or_else(|| ApiError::bad_request("json patch operation is missing \"op\""))?;
        let path = op.get("path").and_then(Value::as_str).ok_or_else(|| ApiError::bad_request(format!("json patch {name} operation is missing \"path\"")))?;
        let value = || op.get("value").cloned().ok_or_else(|| ApiError::bad_request(format!("json patch {name} operation is missing \"value\"")));
        let from = || op.get("from").and_then(Value::as_str).ok_or_else(|| ApiError::bad_request(format!("json patch {name} operation is missing \"from\"")));
        match name {
            "add" => add(&mut doc, path, value()?, false)?,
            "replace" => add(&mut doc, path, value()?, true)?,
            "remove" => {
                remove(&mut doc, path)?;
            }
            "move" => {
                let v = remove(&mut doc, from()?)?;
                add(&mut doc, path, v, false)?;
            }
            "copy" => {
                let v = get(&doc, from()?)?.clone();
                add(&mut doc, path, v, false)?;
            }
            "test" => {
                let want = value()?;
                let have = get(&doc, path)?;
                if *have != want {
                    return Err(unprocessable(format!("testing value {path} failed: test failed")));
                }
            }
            other => return Err(ApiError::bad_request(format!("unexpected json patch operation {other:?}"))),
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_rfc7386() {
        let t = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        let p = json!({"a": "z", "c": {"f": null}});
        assert_eq!(merge_patch(t, &p), json!({"a": "z", "c": {"d": "e"}}));
        assert_eq!(merge_patch(json!({"a": [1, 2]}), &json!({"a": [3]})), json!({"a": [3]}));
    }

    #[test]
    fn json_patch_ops() {
        let doc = json!({"metadata": {"labels": {"a": "1"}}, "list": [1, 2, 3]});
        let p = json!([
            {"op": "test", "path": "/metadata/labels/a", "value": "1"},
            {"op": "add", "path": "/metadata/labels/b~1c", "value": "2"},
            {"op": "remove", "path": "/list/0"},
            {"op": "add", "path": "/list/-", "value": 4},
            {"op": "replace", "path": "/list/0", "value": 9},
            {"op": "copy", "from": "/list/0", "path": "/copied"},
            {"op": "move", "from": "/copied", "path": "/moved"}
        ]);
        let out = json_patch(doc, &p).unwrap();
        assert_eq!(out, json!({"metadata": {"labels": {"a": "1", "b/c": "2"}}, "list": [9, 3, 4], "moved": 9}));
        let fail = json_patch(json!({"a": 1}), &json!([{"op": "test", "path": "/a", "value": 2}])).unwrap_err();
        assert_eq!(fail.code, 422);
        let missing = json_patch(json!({}), &json!([{"op": "remove", "path": "/x"}])).unwrap_err();
        assert_eq!(missing.code, 422);
        assert_eq!(json_patch(json!({}), &json!({"op": "add"})).unwrap_err().code, 400);
    }
}
