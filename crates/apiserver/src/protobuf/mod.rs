//! Kubernetes protobuf (`application/vnd.kubernetes.protobuf`) to JSON transcoding.
//!
//! A body is the magic `k8s\x00` followed by a `runtime.Unknown` envelope
//! `{typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2, contentEncoding = 3,
//! contentType = 4}` whose `raw` holds the object message. The object is
//! decoded with the generated field table in [`schema`] and rendered as the
//! JSON that upstream's Go protobuf decoder followed by `encoding/json` would
//! produce:
//!
//! * non-pointer Go fields are written by gogo-protobuf even when zero; zero
//!   values of `omitempty` non-pointer scalars, strings, slices and maps are
//!   dropped, everything else is kept;
//! * pointer fields (`*int32`, `*bool`, `*string`, `*T`) are kept whenever present
//!   on the wire, even when zero;
//! * non-pointer struct fields are always emitted (Go never treats a struct as
//!   empty), filled with their zero-value JSON when absent from the wire;
//! * Quantity, IntOrString, Time, MicroTime, Duration, RawExtension, FieldsV1,
//!   apiextensions JSON and JSONSchemaPropsOr* use their custom JSON forms.
//!
//! Deliberate deviation: where Go would emit a JSON `null` for a struct field
//! (zero Time/MicroTime, nil RawExtension/FieldsV1/JSON, nil non-omitempty slice,
//! map or pointer) the key is omitted instead; decoding JSON treats both alike.
//! `null` is kept inside arrays and map values.

mod format;
pub mod schema;
pub mod schema_types;
mod wire;

use base64::Engine as _;
use serde_json::{Map, Value};

use schema::{KINDS, MESSAGES};
use schema_types::{Card, Field, Message, Special, Ty, INLINE, OMITEMPTY, PTR};
use wire::{Reader, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT};

/// The 4-byte prefix of every Kubernetes protobuf body.
pub const MAGIC: &[u8; 4] = b"k8s\x00";

/// Maximum message nesting depth accepted.
pub const MAX_DEPTH: usize = 100;

/// Kinds of meta.k8s.io/v1 that are registered into every group version
/// (`metav1.AddToGroupVersion`) or are unversioned (`Status`, discovery types).
const META_FALLBACK_KINDS: &[&str] = &[
    "APIGroup",
    "APIGroupList",
    "APIResourceList",
    "APIVersions",
    "CreateOptions",
    "DeleteOptions",
    "GetOptions",
    "List",
    "ListOptions",
    "PatchOptions",
    "Status",
    "UpdateOptions",
    "WatchEvent",
];

/// Decodes a full Kubernetes protobuf request body into JSON with
/// `apiVersion` and `kind` set from the envelope.
pub fn decode_body(body: &[u8]) -> Result<Value, String> {
    decode_body_inner(body, None, None, 0)
}

/// Like [`decode_body`], but applies upstream's `copyKindDefaults`: an empty
/// kind in the envelope is taken from `default_kind`, an empty version from
/// `default_api_version` (e.g. the request's group version).
pub fn decode_body_with_defaults(
    body: &[u8],
    default_api_version: Option<&str>,
    default_kind: Option<&str>,
) -> Result<Value, String> {
    decode_body_inner(body, default_api_version, default_kind, 0)
}

/// Decodes the bytes of one message of the given fully-qualified proto type
/// (e.g. `k8s.io.api.core.v1.Pod`, a leading `.` is accepted) into JSON.
pub fn decode_message(type_name: &str, bytes: &[u8]) -> Result<Value, String> {
    let name = type_name.strip_prefix('.').unwrap_or(type_name);
    let idx =
        message_index(name).ok_or_else(|| format!("unknown protobuf message type {name:?}"))?;
    Ok(decode_value(idx, &[bytes], 0)?.unwrap_or(Value::Null))
}

/// The fully-qualified proto message name used for `apiVersion` + `kind`, if known.
pub fn message_for_kind(api_version: &str, kind: &str) -> Option<&'static str> {
    kind_index(api_version, kind).map(|i| MESSAGES[i].name)
}

/// Returns true if `body` starts with the Kubernetes protobuf magic.
pub fn has_magic(body: &[u8]) -> bool {
    body.starts_with(MAGIC)
}

fn message_index(name: &str) -> Option<usize> {
    MESSAGES.binary_search_by(|m| m.name.cmp(name)).ok()
}

fn split_api_version(api_version: &str) -> Option<(&str, &str)> {
    match api_version.split_once('/') {
        None => Some(("", api_version)),
        Some((g, v)) if !v.contains('/') => Some((g, v)),
        _ => None,
    }
}

fn lookup_kind(group: &str, version: &str, kind: &str) -> Option<usize> {
    KINDS
        .binary_search_by(|&(g, v, k, _)| (g, v, k).cmp(&(group, version, kind)))
        .ok()
        .map(|i| KINDS[i].3 as usize)
}

fn kind_index(api_version: &str, kind: &str) -> Option<usize> {
    let (group, version) = split_api_version(api_version)?;
    if version.is_empty() || kind.is_empty() {
        return None;
    }
    if let Some(i) = lookup_kind(group, version, kind) {
        return Some(i);
    }
    if META_FALLBACK_KINDS.contains(&kind) {
        return lookup_kind("meta.k8s.io", "v1", kind);
    }
    None
}

fn decode_body_inner(
    body: &[u8],
    default_api_version: Option<&str>,
    default_kind: Option<&str>,
    depth: usize,
) -> Result<Value, String> {
    if body.is_empty() {
        return Err("empty data".into());
    }
    if !has_magic(body) {
        return Err("provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]".into());
    }
    let data = &body[MAGIC.len()..];
    if data.is_empty() {
        return Err("empty body".into());
    }
    // runtime.Unknown
    let mut api_version = String::new();
    let mut kind = String::new();
    let mut raw: &[u8] = &[];
    let mut r = Reader::new(data);
    while !r.is_empty() {
        let (num, wt) = r.key()?;
        match num {
            1 => {
                expect_wire(wt, WIRE_LEN, "Unknown.typeMeta")?;
                let tm = r.len_delimited()?;
                let mut tr = Reader::new(tm);
                while !tr.is_empty() {
                    let (n, w) = tr.key()?;
                    match n {
                        1 | 2 => {
                            expect_wire(w, WIRE_LEN, "TypeMeta")?;
                            let s = lossy(tr.len_delimited()?);
                            if n == 1 {
                                api_version = s;
                            } else {
                                kind = s;
                            }
                        }
                        _ => tr.skip(w)?,
                    }
                }
            }
            2 => {
                expect_wire(wt, WIRE_LEN, "Unknown.raw")?;
                raw = r.len_delimited()?;
            }
            3 | 4 => {
                // contentEncoding / contentType: ignored by upstream's decoder
                expect_wire(wt, WIRE_LEN, "Unknown.contentEncoding/contentType")?;
                r.len_delimited()?;
            }
            _ => r.skip(wt)?,
        }
    }
    // copyKindDefaults
    if kind.is_empty()
        && let Some(k) = default_kind {
            kind = k.to_string();
        }
    let (_, version) = split_api_version(&api_version)
        .ok_or_else(|| format!("unexpected GroupVersion string: {api_version}"))?;
    if version.is_empty()
        && let Some(d) = default_api_version
            && split_api_version(d).is_some_and(|(_, v)| !v.is_empty()) {
                api_version = d.to_string();
            }
    if kind.is_empty() {
        return Err(format!(
            "Object 'Kind' is missing in protobuf envelope (apiVersion {api_version:?})"
        ));
    }
    if split_api_version(&api_version).is_none_or(|(_, v)| v.is_empty()) {
        return Err(format!(
            "Object 'apiVersion' is missing in protobuf envelope (kind {kind:?})"
        ));
    }
    let idx = kind_index(&api_version, &kind).ok_or_else(|| {
        format!("no kind {kind:?} is registered for version {api_version:?} (protobuf)")
    })?;
    let obj = decode_value(idx, &[raw], depth)?;
    let mut out = Map::new();
    out.insert("apiVersion".into(), Value::String(api_version));
    out.insert("kind".into(), Value::String(kind));
    match obj {
        Some(Value::Object(m)) => {
            for (k, v) in m {
                if k != "apiVersion" && k != "kind" {
                    out.insert(k, v);
                }
            }
        }
        _ => {
            return Err(format!(
                "{} does not decode to a JSON object",
                MESSAGES[idx].name
            ))
        }
    }
    Ok(Value::Object(out))
}

fn expect_wire(got: u8, want: u8, what: &str) -> Result<(), String> {
    if got != want {
        return Err(format!("proto: wrong wireType = {got} for field {what}"));
    }
    Ok(())
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn b64(b: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(b))
}

/// Collected state of one field while scanning a message.
enum Slot<'a> {
    Absent,
    /// last varint (bool / int32 / int64)
    Varint(u64),
    /// last fixed64 (double)
    Fixed(u64),
    /// last string / bytes payload
    Bytes(&'a [u8]),
    /// all occurrences of a singular message field (merged, as proto does)
    Msgs(Vec<&'a [u8]>),
    /// decoded elements of a repeated field
    List(Vec<Value>),
    /// decoded entries of a map field
    Map(Map<String, Value>),
}

fn field_err(msg: &Message, f: &Field, wt: u8) -> String {
    format!(
        "proto: wrong wireType = {wt} for field {} (#{}) of {}",
        if f.json.is_empty() {
            "<inline>"
        } else {
            f.json
        },
        f.num,
        msg.name
    )
}

fn scalar_value(ty: Ty, raw: u64) -> Result<Value, String> {
    Ok(match ty {
        Ty::Bool => Value::Bool(raw != 0),
        Ty::Int32 => Value::from(raw as i32),
        Ty::Int64 => Value::from(raw as i64),
        Ty::Double => format::float_json(f64::from_bits(raw))?,
        _ => return Err("internal: not a numeric scalar".into()),
    })
}

/// Reads one element of a repeated field / map value of type `ty` given a
/// length-delimited payload (strings, bytes, messages).
fn ld_value(ty: Ty, b: &[u8], depth: usize) -> Result<Value, String> {
    Ok(match ty {
        Ty::String => Value::String(lossy(b)),
        Ty::Bytes => b64(b),
        Ty::Msg(m) => decode_value(m as usize, &[b], depth + 1)?.unwrap_or(Value::Null),
        _ => return Err("internal: not a length-delimited type".into()),
    })
}

/// Scans all segments of a message (several segments = repeated occurrences of
/// a singular message field, which proto merges) into per-field slots.
fn collect<'a>(msg: &Message, segs: &[&'a [u8]], depth: usize) -> Result<Vec<Slot<'a>>, String> {
    let mut slots: Vec<Slot<'a>> = Vec::with_capacity(msg.fields.len());
    slots.resize_with(msg.fields.len(), || Slot::Absent);
    for seg in segs {
        let mut r = Reader::new(seg);
        while !r.is_empty() {
            let (num, wt) = r.key()?;
            let Ok(fi) = msg.fields.binary_search_by_key(&num, |f| f.num) else {
                r.skip(wt)?;
                continue;
            };
            let f = &msg.fields[fi];
            let slot = &mut slots[fi];
            match f.card {
                Card::Single => match f.ty {
                    Ty::Bool | Ty::Int32 | Ty::Int64 => {
                        if wt != WIRE_VARINT {
                            return Err(field_err(msg, f, wt));
                        }
                        *slot = Slot::Varint(r.varint()?);
                    }
                    Ty::Double => {
                        if wt != WIRE_FIXED64 {
                            return Err(field_err(msg, f, wt));
                        }
                        *slot = Slot::Fixed(r.fixed64()?);
                    }
                    Ty::String | Ty::Bytes => {
                        if wt != WIRE_LEN {
                            return Err(field_err(msg, f, wt));
                        }
                        *slot = Slot::Bytes(r.len_delimited()?);
                    }
                    Ty::Msg(_) => {
                        if wt != WIRE_LEN {
                            return Err(field_err(msg, f, wt));
                        }
                        let b = r.len_delimited()?;
                        match slot {
                            Slot::Msgs(v) => v.push(b),
                            _ => *slot = Slot::Msgs(vec![b]),
                        }
                    }
                },
                Card::Repeated => {
                    if !matches!(slot, Slot::List(_)) {
                        *slot = Slot::List(Vec::new());
                    }
                    let Slot::List(list) = slot else {
                        unreachable!()
                    };
                    match f.ty {
                        Ty::Bool | Ty::Int32 | Ty::Int64 | Ty::Double => {
                            let elem_wt = if f.ty == Ty::Double {
                                WIRE_FIXED64
                            } else {
                                WIRE_VARINT
                            };
                            if wt == WIRE_LEN {
                                // packed
                                let mut pr = Reader::new(r.len_delimited()?);
                                while !pr.is_empty() {
                                    let raw = if elem_wt == WIRE_VARINT {
                                        pr.varint()?
                                    } else {
                                        pr.fixed64()?
                                    };
                                    list.push(scalar_value(f.ty, raw)?);
                                }
                            } else if wt == elem_wt {
                                let raw = if elem_wt == WIRE_VARINT {
                                    r.varint()?
                                } else {
                                    r.fixed64()?
                                };
                                list.push(scalar_value(f.ty, raw)?);
                            } else {
                                return Err(field_err(msg, f, wt));
                            }
                        }
                        _ => {
                            if wt != WIRE_LEN {
                                return Err(field_err(msg, f, wt));
                            }
                            let b = r.len_delimited()?;
                            list.push(ld_value(f.ty, b, depth)?);
                        }
                    }
                }
                Card::Map => {
                    if wt != WIRE_LEN {
                        return Err(field_err(msg, f, wt));
                    }
                    let entry = r.len_delimited()?;
                    let (k, v) = map_entry(msg, f, entry, depth)?;
                    if !matches!(slot, Slot::Map(_)) {
                        *slot = Slot::Map(Map::new());
                    }
                    let Slot::Map(m) = slot else { unreachable!() };
                    m.insert(k, v);
                }
            }
        }
    }
    Ok(slots)
}

/// Decodes a map entry message {key = 1 (string), value = 2}.
fn map_entry(
    msg: &Message,
    f: &Field,
    entry: &[u8],
    depth: usize,
) -> Result<(String, Value), String> {
    let mut key: &[u8] = &[];
    let mut val: Option<&[u8]> = None;
    let mut r = Reader::new(entry);
    while !r.is_empty() {
        let (n, wt) = r.key()?;
        match n {
            1 | 2 => {
                if wt != WIRE_LEN {
                    return Err(format!(
                        "proto: wrong wireType = {wt} for map entry field {n} of {}.{}",
                        msg.name, f.json
                    ));
                }
                let b = r.len_delimited()?;
                if n == 1 {
                    key = b;
                } else {
                    val = Some(b);
                }
            }
            _ => r.skip(wt)?,
        }
    }
    let v = match (f.ty, val) {
        (Ty::String, v) => Value::String(lossy(v.unwrap_or(&[]))),
        (Ty::Bytes, v) => b64(v.unwrap_or(&[])),
        (Ty::Msg(m), Some(b)) => decode_value(m as usize, &[b], depth + 1)?.unwrap_or(Value::Null),
        (Ty::Msg(m), None) => decode_value(m as usize, &[], depth + 1)?.unwrap_or(Value::Null),
        _ => {
            return Err(format!(
                "internal: unsupported map value type in {}",
                msg.name
            ))
        }
    };
    Ok((lossy(key), v))
}

fn slot_msgs<'s, 'a>(slot: &'s Slot<'a>) -> &'s [&'a [u8]] {
    match slot {
        Slot::Msgs(v) => v,
        _ => &[],
    }
}

fn slot_varint(slot: &Slot) -> u64 {
    match slot {
        Slot::Varint(v) => *v,
        _ => 0,
    }
}

fn slot_bytes<'a>(slot: &Slot<'a>) -> Option<&'a [u8]> {
    match slot {
        Slot::Bytes(b) => Some(b),
        _ => None,
    }
}

fn slot_list(slot: Slot) -> Vec<Value> {
    match slot {
        Slot::List(v) => v,
        _ => Vec::new(),
    }
}

fn field_index(msg: &Message, num: u32) -> Result<usize, String> {
    msg.fields
        .binary_search_by_key(&num, |f| f.num)
        .map_err(|_| format!("internal: {} has no field {num}", msg.name))
}

/// Decodes a message (given as merged segments) into its JSON value.
/// `None` means Go would marshal it as JSON `null`.
fn decode_value(idx: usize, segs: &[&[u8]], depth: usize) -> Result<Option<Value>, String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "protobuf message nesting exceeds {MAX_DEPTH} levels"
        ));
    }
    let msg = MESSAGES
        .get(idx)
        .ok_or_else(|| format!("internal: bad message index {idx}"))?;
    if msg.special == Special::None {
        let mut obj = Map::new();
        emit_object(msg, segs, depth, &mut obj)?;
        return Ok(Some(Value::Object(obj)));
    }
    let mut slots = collect(msg, segs, depth)?;
    let mut take = |num: u32| -> Result<Slot, String> {
        let i = field_index(msg, num)?;
        Ok(std::mem::replace(&mut slots[i], Slot::Absent))
    };
    Ok(match msg.special {
        Special::None => unreachable!(),
        Special::Quantity => match slot_bytes(&take(1)?) {
            // an empty message is the zero Quantity, whose String() is "0"
            None => Some(Value::String("0".into())),
            Some([]) => return Err("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'".into()),
            Some(b) => Some(Value::String(lossy(b))),
        },
        Special::IntOrString => {
            let ty = slot_varint(&take(1)?) as i64;
            let int_val = slot_varint(&take(2)?) as i32;
            let str_val = slot_bytes(&take(3)?).unwrap_or(&[]);
            match ty {
                0 => Some(Value::from(int_val)),
                1 => Some(Value::String(lossy(str_val))),
                _ => return Err(format!("impossible IntOrString.Type {ty}")),
            }
        }
        Special::Time => {
            if segs.iter().all(|s| s.is_empty()) {
                None
            } else {
                let secs = slot_varint(&take(1)?) as i64;
                format::time_json(secs)?.map(Value::String)
            }
        }
        Special::MicroTime => {
            if segs.iter().all(|s| s.is_empty()) {
                None
            } else {
                let secs = slot_varint(&take(1)?) as i64;
                let nanos = slot_varint(&take(2)?) as i32;
                format::micro_time_json(secs, nanos)?.map(Value::String)
            }
        }
        Special::Duration => Some(Value::String(format::duration_string(slot_varint(&take(1)?) as i64))),
        Special::FieldsV1 | Special::RawExtension | Special::Json => match slot_bytes(&take(1)?) {
            None | Some([]) => None,
            Some(raw) => Some(embedded_json(raw, depth)?),
        },
        Special::PropsOrBool => {
            let allows = slot_varint(&take(1)?) != 0;
            let schema = take(2)?;
            match (&schema, msg.fields[field_index(msg, 2)?].ty) {
                (Slot::Msgs(v), Ty::Msg(m)) => decode_value(m as usize, v, depth + 1)?,
                _ => Some(Value::Bool(allows)),
            }
        }
        Special::PropsOrArray | Special::PropsOrStringArray => {
            let schema = take(1)?;
            let list = slot_list(take(2)?);
            if !list.is_empty() {
                Some(Value::Array(list))
            } else {
                match (&schema, msg.fields[field_index(msg, 1)?].ty) {
                    (Slot::Msgs(v), Ty::Msg(m)) => decode_value(m as usize, v, depth + 1)?,
                    _ => None,
                }
            }
        }
        Special::StringList => {
            let list = slot_list(take(1)?);
            if list.is_empty() {
                None
            } else {
                Some(Value::Array(list))
            }
        }
    })
}

/// Embedded raw JSON (RawExtension / FieldsV1 / apiextensions JSON). A nested
/// Kubernetes protobuf envelope inside a RawExtension is decoded as well.
fn embedded_json(raw: &[u8], depth: usize) -> Result<Value, String> {
    match serde_json::from_slice::<Value>(raw) {
        Ok(v) => Ok(v),
        Err(e) => {
            if has_magic(raw) {
                decode_body_inner(raw, None, None, depth + 1)
            } else {
                Err(format!("embedded raw data is not valid JSON: {e}"))
            }
        }
    }
}

/// Writes the JSON fields of a plain (non-special) message into `obj`,
/// following Go's encoding/json rules for the Go struct it came from.
fn emit_object(
    msg: &Message,
    segs: &[&[u8]],
    depth: usize,
    obj: &mut Map<String, Value>,
) -> Result<(), String> {
    let mut slots = collect(msg, segs, depth)?;
    for &oi in msg.order {
        let oi = oi as usize;
        let f = &msg.fields[oi];
        let slot = std::mem::replace(&mut slots[oi], Slot::Absent);
        let ptr = f.flags & PTR != 0;
        let omitempty = f.flags & OMITEMPTY != 0;
        match f.card {
            Card::Repeated => {
                let list = slot_list(slot);
                if !list.is_empty() {
                    obj.insert(f.json.to_string(), Value::Array(list));
                }
            }
            Card::Map => {
                if let Slot::Map(m) = slot
                    && !m.is_empty() {
                        obj.insert(f.json.to_string(), Value::Object(m));
                    }
            }
            Card::Single => match f.ty {
                Ty::Msg(m) => {
                    let m = m as usize;
                    if f.flags & INLINE != 0 {
                        if depth + 1 > MAX_DEPTH {
                            return Err(format!(
                                "protobuf message nesting exceeds {MAX_DEPTH} levels"
                            ));
                        }
                        let inner = &MESSAGES[m];
                        if inner.special != Special::None {
                            return Err(format!("internal: inline special message {}", inner.name));
                        }
                        emit_object(inner, slot_msgs(&slot), depth + 1, obj)?;
                    } else if ptr && matches!(slot, Slot::Absent) {
                        // nil pointer: omitted
                    } else if let Some(v) = decode_value(m, slot_msgs(&slot), depth + 1)? {
                        obj.insert(f.json.to_string(), v);
                    }
                }
                Ty::String | Ty::Bytes => {
                    let b = slot_bytes(&slot);
                    let keep = if ptr {
                        b.is_some()
                    } else if omitempty {
                        b.is_some_and(|b| !b.is_empty())
                    } else {
                        // non-omitempty string: always; []byte: nil -> null (omitted)
                        f.ty == Ty::String || b.is_some()
                    };
                    if keep {
                        let b = b.unwrap_or(&[]);
                        let v = if f.ty == Ty::String {
                            Value::String(lossy(b))
                        } else {
                            b64(b)
                        };
                        obj.insert(f.json.to_string(), v);
                    }
                }
                Ty::Bool | Ty::Int32 | Ty::Int64 | Ty::Double => {
                    let raw = match slot {
                        Slot::Varint(v) | Slot::Fixed(v) => Some(v),
                        _ => None,
                    };
                    if ptr && raw.is_none() {
                        continue;
                    }
                    let v = scalar_value(f.ty, raw.unwrap_or(0))?;
                    if !ptr && omitempty && is_zero(&v) {
                        continue;
                    }
                    obj.insert(f.json.to_string(), v);
                }
            },
        }
    }
    Ok(())
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        assert!(
            MESSAGES.windows(2).all(|w| w[0].name < w[1].name),
            "MESSAGES sorted by name"
        );
        assert!(
            KINDS
                .windows(2)
                .all(|w| (w[0].0, w[0].1, w[0].2) < (w[1].0, w[1].1, w[1].2)),
            "KINDS sorted"
        );
        for m in MESSAGES {
            assert!(
                m.fields.windows(2).all(|w| w[0].num < w[1].num),
                "{} fields sorted",
                m.name
            );
            let mut seen = vec![false; m.fields.len()];
            for &o in m.order {
                assert!(!seen[o as usize], "{} order is a permutation", m.name);
                seen[o as usize] = true;
            }
            assert!(
                seen.iter().all(|&s| s),
                "{} order covers all fields",
                m.name
            );
            for f in m.fields {
                if let Ty::Msg(i) = f.ty {
                    assert!((i as usize) < MESSAGES.len());
                    if f.flags & INLINE != 0 {
                        assert_eq!(MESSAGES[i as usize].special, Special::None);
                        assert_eq!(f.card, Card::Single);
                    }
                }
                assert!(
                    f.flags & INLINE != 0 || !f.json.is_empty(),
                    "{} has unnamed field",
                    m.name
                );
            }
        }
        for &(_, _, _, i) in KINDS {
            assert!((i as usize) < MESSAGES.len());
        }
        assert!(MESSAGES.len() > 1000);
    }

    #[test]
    fn kind_lookup() {
        assert_eq!(
            message_for_kind("apps/v1", "Deployment"),
            Some("k8s.io.api.apps.v1.Deployment")
        );
        assert_eq!(
            message_for_kind("v1", "Pod"),
            Some("k8s.io.api.core.v1.Pod")
        );
        assert_eq!(
            message_for_kind("v1", "PodList"),
            Some("k8s.io.api.core.v1.PodList")
        );
        assert_eq!(
            message_for_kind("v1", "Status"),
            Some("k8s.io.apimachinery.pkg.apis.meta.v1.Status")
        );
        assert_eq!(
            message_for_kind("apps/v1", "DeleteOptions"),
            Some("k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions")
        );
        assert_eq!(
            message_for_kind("meta.k8s.io/v1", "DeleteOptions"),
            Some("k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions")
        );
        assert_eq!(
            message_for_kind("autoscaling/v1", "Scale"),
            Some("k8s.io.api.autoscaling.v1.Scale")
        );
        assert_eq!(
            message_for_kind("policy/v1", "Eviction"),
            Some("k8s.io.api.policy.v1.Eviction")
        );
        assert_eq!(
            message_for_kind("v1", "Binding"),
            Some("k8s.io.api.core.v1.Binding")
        );
        assert_eq!(
            message_for_kind("authentication.k8s.io/v1", "TokenRequest"),
            Some("k8s.io.api.authentication.v1.TokenRequest")
        );
        assert_eq!(
            message_for_kind("authentication.k8s.io/v1", "TokenReview"),
            Some("k8s.io.api.authentication.v1.TokenReview")
        );
        assert_eq!(
            message_for_kind("authorization.k8s.io/v1", "SubjectAccessReview"),
            Some("k8s.io.api.authorization.v1.SubjectAccessReview")
        );
        assert_eq!(
            message_for_kind("authorization.k8s.io/v1", "SelfSubjectRulesReview"),
            Some("k8s.io.api.authorization.v1.SelfSubjectRulesReview")
        );
        assert_eq!(
            message_for_kind("certificates.k8s.io/v1", "CertificateSigningRequest"),
            Some("k8s.io.api.certificates.v1.CertificateSigningRequest")
        );
        assert_eq!(
            message_for_kind("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
            Some(
                "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"
            )
        );
        assert_eq!(
            message_for_kind("apiregistration.k8s.io/v1", "APIService"),
            Some("k8s.io.kube_aggregator.pkg.apis.apiregistration.v1.APIService")
        );
        assert_eq!(message_for_kind("v1", "Deployment"), None);
        assert_eq!(message_for_kind("example.com/v1", "Widget"), None);
        assert_eq!(message_for_kind("a/b/c", "Pod"), None);
        assert_eq!(message_for_kind("", "Pod"), None);
    }
}
