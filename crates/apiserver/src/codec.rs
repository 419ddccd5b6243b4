//! Bytes in and out: request bodies (JSON, YAML) to JSON values, and stored objects to the JSON
//! the API serves.
//!
//! Stored objects never carry `metadata.resourceVersion` (the store's mod revision is the truth);
//! [`with_resource_version`] splices it into the serialized JSON without re-encoding, which keeps
//! the watch cache and write responses at one serialization per write.

use apimachinery::ApiError;
use bytes::Bytes;
use serde_json::Value;

/// Media types the API reads request bodies in.
pub const BODY_TYPES: &[&str] = &["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"];

/// Largest accepted request body, as upstream (3 MiB).
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// Decodes a request body (JSON, YAML or Kubernetes protobuf, chosen by Content-Type) into a
/// JSON value. `defaults` is the (apiVersion, kind) a protobuf envelope without type
/// information stands for.
pub fn decode_body(content_type: Option<&str>, body: &[u8]) -> Result<Value, ApiError> {
    decode_body_as(content_type, body, None)
}

/// [`decode_body`] with the (apiVersion, kind) the endpoint expects.
pub fn decode_body_as(content_type: Option<&str>, body: &[u8], defaults: Option<(&str, &str)>) -> Result<Value, ApiError> {
    let mt = content_type.map(|c| c.split(';').next().unwrap_or("").trim().to_ascii_lowercase()).unwrap_or_default();
    match mt.as_str() {
        "" | "application/json" | "*/*" => decode_json(body),
        "application/yaml" | "application/x-yaml" | "text/yaml" => decode_yaml(body),
        "application/vnd.kubernetes.protobuf" => {
            let (v, k) = defaults.unzip();
            crate::protobuf::decode_body_with_defaults(body, v, k)
                .map_err(|e| ApiError::bad_request(format!("error decoding protobuf request body: {e}")))
        }
        _ => Err(ApiError::unsupported_media_type(&mt, BODY_TYPES)),
    }
}

/// Decodes JSON, mapping syntax errors to 400.
pub fn decode_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding request body as JSON: {e}")))
}

/// Decodes YAML (YAML 1.1 scalars as Kubernetes' YAML reader), mapping errors to 400.
pub fn decode_yaml(body: &[u8]) -> Result<Value, ApiError> {
    let text = std::str::from_utf8(body).map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    serde_saphyr::from_str::<Value>(text)
        .map_err(|e| ApiError::bad_request(format!("error converting YAML to JSON: {e}")))
}

/// Encodes a JSON value as YAML.
pub fn to_yaml(v: &Value) -> Vec<u8> {
    serde_saphyr::to_string(v).map(String::into_bytes).unwrap_or_default()
}

/// Returns `json` (a serialized object whose top-level keys start with `apiVersion`, `kind`,
/// `metadata`) with `metadata.resourceVersion` set to `rv`. Falls back to decoding and
/// re-encoding when the layout is not the expected one.
pub fn with_resource_version(json: &[u8], rv: i64) -> Bytes {
    if let Some(insert_at) = top_level_metadata(json) {
        let rv_field = format!("\"resourceVersion\":\"{rv}\"");
        let mut out = Vec::with_capacity(json.len() + rv_field.len() + 1);
        out.extend_from_slice(&json[..insert_at]);
        out.extend_from_slice(rv_field.as_bytes());
        if json.get(insert_at) != Some(&b'}') {
            out.push(b',');
        }
        out.extend_from_slice(&json[insert_at..]);
        return Bytes::from(out);
    }
    match serde_json::from_slice::<Value>(json) {
        Ok(mut v) => {
            if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
                m.insert("resourceVersion".into(), Value::String(rv.to_string()));
            }
            Bytes::from(serde_json::to_vec(&v).unwrap_or_default())
        }
        Err(_) => Bytes::copy_from_slice(json),
    }
}

/// Where the top-level `metadata` object's members start in `json`, when it begins exactly
/// `{"apiVersion":"…","kind":"…","metadata":{` (a nested `metadata`, such as a
/// ControllerRevision's `data.spec.template.metadata`, never matches).
pub(crate) fn top_level_metadata(json: &[u8]) -> Option<usize> {
    let rest = json.strip_prefix(b"{\"apiVersion\":\"")?;
    let end = rest.iter().position(|b| *b == b'"' || *b == b'\\')?;
    let rest = rest[end..].strip_prefix(b"\",\"kind\":\"")?;
    let end2 = rest.iter().position(|b| *b == b'"' || *b == b'\\')?;
    rest[end2..].strip_prefix(b"\",\"metadata\":{")?;
    Some(json.len() - rest.len() + end2 + b"\",\"metadata\":{".len())
}

/// Reads `apiVersion` and `kind` of a JSON value.
pub fn type_meta(v: &Value) -> (Option<&str>, Option<&str>) {
    (v.get("apiVersion").and_then(Value::as_str), v.get("kind").and_then(Value::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splices_resource_version() {
        let j = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"metadata":{"x":"y"}}}"#;
        let out = with_resource_version(j, 42);
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["metadata"]["resourceVersion"], "42");
        assert_eq!(v["metadata"]["name"], "a");
        assert_eq!(v["data"]["metadata"]["x"], "y");
        assert!(v["data"]["metadata"].get("resourceVersion").is_none());

        let empty = br#"{"apiVersion":"v1","kind":"X","metadata":{}}"#;
        let v: Value = serde_json::from_slice(&with_resource_version(empty, 7)).unwrap();
        assert_eq!(v["metadata"]["resourceVersion"], "7");

        // keys in alphabetical order (a ControllerRevision's data before kind): the nested
        // template metadata is left alone
        let rev = br#"{"apiVersion":"apps/v1","data":{"spec":{"template":{"metadata":{"labels":{}}}}},"kind":"ControllerRevision","metadata":{"name":"r"},"revision":1}"#;
        let v: Value = serde_json::from_slice(&with_resource_version(rev, 3)).unwrap();
        assert_eq!(v["metadata"]["resourceVersion"], "3");
        assert!(v["data"]["spec"]["template"]["metadata"].get("resourceVersion").is_none());
        assert_eq!(with_resource_version(rev, 3).windows(15).filter(|w| *w == b"resourceVersion").count(), 1);

        // unexpected layout: decoded and re-encoded
        let odd = br#"{"kind":"X","metadata":{"name":"b"},"apiVersion":"v1"}"#;
        let v: Value = serde_json::from_slice(&with_resource_version(odd, 9)).unwrap();
        assert_eq!(v["metadata"]["resourceVersion"], "9");
    }

    #[test]
    fn bodies() {
        assert_eq!(decode_body(Some("application/json"), br#"{"a":1}"#).unwrap()["a"], 1);
        assert_eq!(decode_body(Some("application/yaml"), b"a: 1\nb: [x]\n").unwrap()["b"][0], "x");
        assert_eq!(decode_body(Some("application/json"), b"{nope").unwrap_err().code, 400);
        assert_eq!(decode_body(Some("application/yaml"), b"a: [1\nb: }").unwrap_err().code, 400);
        assert_eq!(decode_body(Some("application/vnd.kubernetes.protobuf"), b"x").unwrap_err().code, 400);
        assert_eq!(decode_body(Some("application/cbor"), b"x").unwrap_err().code, 415);
    }
}

/// Decodes JSON like [`decode_json`], also reporting the paths of duplicate object keys (the
/// last value wins, as in upstream's non-strict decoding); `fieldValidation` decides whether a
/// duplicate is ignored, a warning or an error.
pub fn decode_json_checked(body: &[u8]) -> Result<(Value, Vec<String>), ApiError> {
    use serde::de::DeserializeSeed;
    let mut dups = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    let v = Checked { path: String::new(), dups: &mut dups }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|_| v))
        .map_err(|e| ApiError::bad_request(format!("error decoding request body as JSON: {e}")))?;
    Ok((v, dups))
}

struct Checked<'a> {
    path: String,
    dups: &'a mut Vec<String>,
}

impl<'de> serde::de::DeserializeSeed<'de> for Checked<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Checked<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map(Value::Number).unwrap_or(Value::Null))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(v) = seq.next_element_seed(Checked { path: format!("{}[{i}]", self.path), dups: &mut *self.dups })? {
            out.push(v);
            i += 1;
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let path = if self.path.is_empty() { k.clone() } else { format!("{}.{k}", self.path) };
            let v = map.next_value_seed(Checked { path: path.clone(), dups: &mut *self.dups })?;
            if out.insert(k, v).is_some() {
                self.dups.push(path);
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod dup_tests {
    use super::*;

    #[test]
    fn reports_duplicate_keys_with_paths() {
        let (v, dups) = decode_json_checked(br#"{"a":1,"b":{"c":[{"d":1,"d":2}]},"a":3}"#).unwrap();
        assert_eq!(v["a"], 3);
        assert_eq!(v["b"]["c"][0]["d"], 2);
        assert_eq!(dups, vec!["b.c[0].d".to_string(), "a".to_string()]);
        assert!(decode_json_checked(b"{\"a\":1} x").is_err());
        assert!(decode_json_checked(b"[1,2").is_err());
    }
}
