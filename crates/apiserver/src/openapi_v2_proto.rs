//! `/openapi/v2` as protobuf: the Swagger 2.0 JSON document encoded as gnostic's
//! `openapi.v2.Document` (github.com/google/gnostic-models, `openapiv2/OpenAPIv2.proto`), the
//! form client-go's `OpenAPISchema()` asks for with
//! `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf` (kubectl reads it for its
//! query-parameter verifier fallback and for client-side schema validation).
//!
//! The conversion follows gnostic's `NewDocument`: every object becomes its message, keys
//! starting with `x-` become `NamedAny` vendor extensions whose `Any.yaml` is the value rendered
//! as YAML, maps (`paths`, `definitions`, `properties`, `responses`, ...) become ordered
//! `Named*` pairs in document order, and the `oneof`s are chosen as gnostic does (`$ref` →
//! `JsonReference`, `in: body` → `BodyParameter`, otherwise the `NonBodyParameter` sub-schema
//! named by `in`). Keys gnostic does not know (it would reject the document) are skipped.
//!
//! The messages are written by hand with the field numbers of the `.proto`: proto3 scalars are
//! omitted when zero, messages are written whenever their key is present (even when empty), like
//! Go's `proto.Marshal` of gnostic's structs.

use std::borrow::Cow;

use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::{Map, Value};

/// The media type client-go requests `/openapi/v2` with.
pub const MEDIA_TYPE: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

/// The older spelling of [`MEDIA_TYPE`], also accepted, and the `Content-Type` of the protobuf
/// response whichever spelling was asked for (as upstream's kube-openapi handler does): `@` is
/// not a token character, so client-go's `mime.ParseMediaType` rejects [`MEDIA_TYPE`] as a
/// response type ("mime: unexpected content after media subtype") and the download fails.
pub const CONTENT_TYPE: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// The representation of `/openapi/v2` chosen from an `Accept` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `application/json`.
    Json,
    /// Protobuf, served as [`CONTENT_TYPE`].
    Protobuf,
}

/// Picks the representation of `/openapi/v2` for an `Accept` header the way upstream's
/// kube-openapi handler does: clauses by decreasing quality (then specificity), the first one
/// matching JSON or one of the protobuf media types wins. No header means JSON; `None` means
/// nothing acceptable (406).
pub fn negotiate(accept: Option<&str>) -> Option<Format> {
    let accept = accept.map(str::trim).filter(|a| !a.is_empty()).unwrap_or("*/*");
    let mut clauses: Vec<(f32, u8, &str, &str)> = Vec::new();
    for clause in accept.split(',') {
        let mut parts = clause.split(';');
        let media = parts.next().unwrap_or("").trim();
        let (ty, sub) = match media.split_once('/') {
            Some((t, s)) => (t.trim(), s.trim()),
            None if media.is_empty() || media == "*" => ("*", "*"),
            None => (media, ""),
        };
        let mut q = 1.0f32;
        for p in parts {
            if let Some((k, v)) = p.split_once('=')
                && k.trim() == "q"
            {
                q = v.trim().parse().unwrap_or(0.0);
            }
        }
        if q <= 0.0 {
            continue;
        }
        let specificity = u8::from(ty != "*") + u8::from(sub != "*");
        clauses.push((q, specificity, ty, sub));
    }
    clauses.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
    let offered = [
        ("application", "json", Format::Json),
        ("application", &MEDIA_TYPE["application/".len()..], Format::Protobuf),
        ("application", &CONTENT_TYPE["application/".len()..], Format::Protobuf),
    ];
    clauses.iter().find_map(|(_, _, ty, sub)| {
        offered
            .iter()
            .find(|(t, s, _)| (*ty == "*" || ty.eq_ignore_ascii_case(t)) && (*sub == "*" || sub.eq_ignore_ascii_case(s)))
            .map(|(_, _, f)| *f)
    })
}

/// Encoded documents, keyed by the JSON buffer they were made from. A memo entry keeps its
/// JSON `Bytes` alive, so a live buffer at the same address and length is that same immutable
/// buffer: comparing addresses is exact. The JSON document is rebuilt (a new buffer) whenever
/// the registry changes, so the protobuf follows it.
static MEMO: Mutex<Vec<(Bytes, Bytes)>> = Mutex::new(Vec::new());

/// Entries kept (one per live apiserver in the process; more only in tests).
const MEMO_ENTRIES: usize = 2;

/// The protobuf form of a serialized v2 JSON document, encoded once per document.
pub fn cached(json: &Bytes) -> Bytes {
    let same = |e: &(Bytes, Bytes)| e.0.as_ptr() == json.as_ptr() && e.0.len() == json.len();
    if let Some(e) = MEMO.lock().iter().find(|e| same(e)) {
        return e.1.clone();
    }
    let doc: Value = serde_json::from_slice(json).unwrap_or(Value::Null);
    let pb = Bytes::from(encode(&doc));
    let mut memo = MEMO.lock();
    if !memo.iter().any(same) {
        if memo.len() >= MEMO_ENTRIES {
            memo.remove(0);
        }
        memo.push((json.clone(), pb.clone()));
    }
    pb
}

/// Encodes a Swagger 2.0 JSON document as a gnostic `openapi.v2.Document`.
pub fn encode(doc: &Value) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(1 << 20));
    document(&mut w, doc);
    w.0
}

// ---------------------------------------------------------------------------------------------
// protobuf wire format

const WIRE_VARINT: u32 = 0;
const WIRE_FIXED64: u32 = 1;
const WIRE_LEN: u32 = 2;

struct Writer(Vec<u8>);

impl Writer {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn tag(&mut self, field: u32, wire: u32) {
        self.varint(u64::from((field << 3) | wire));
    }

    fn bytes(&mut self, field: u32, b: &[u8]) {
        self.tag(field, WIRE_LEN);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    /// A proto3 `string` (omitted when empty).
    fn string(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }

    /// A `repeated string` element (always written).
    fn string_elem(&mut self, field: u32, s: &str) {
        self.bytes(field, s.as_bytes());
    }

    /// A proto3 `bool` (omitted when false).
    fn boolean(&mut self, field: u32, b: bool) {
        if b {
            self.tag(field, WIRE_VARINT);
            self.0.push(1);
        }
    }

    /// A proto3 `int64` (omitted when zero).
    fn int64(&mut self, field: u32, v: i64) {
        if v != 0 {
            self.tag(field, WIRE_VARINT);
            self.varint(v as u64);
        }
    }

    /// A proto3 `double` (omitted when +0.0).
    fn double(&mut self, field: u32, v: f64) {
        if v.to_bits() != 0 {
            self.tag(field, WIRE_FIXED64);
            self.0.extend_from_slice(&v.to_le_bytes());
        }
    }

    /// A message field (always written, even when empty): the body is written in place and its
    /// length prefix inserted in front of it afterwards.
    fn message(&mut self, field: u32, body: impl FnOnce(&mut Writer)) {
        self.tag(field, WIRE_LEN);
        let start = self.0.len();
        body(self);
        let len = (self.0.len() - start) as u64;
        let mut prefix = [0u8; 10];
        let mut n = 0;
        let mut v = len;
        while v >= 0x80 {
            prefix[n] = (v as u8) | 0x80;
            v >>= 7;
            n += 1;
        }
        prefix[n] = v as u8;
        n += 1;
        self.0.splice(start..start, prefix[..n].iter().copied());
    }
}

// ---------------------------------------------------------------------------------------------
// JSON scalars as gnostic reads them

/// gnostic's `StringForScalarNode`: strings, integers (as written) and null ("").
fn text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(Cow::Owned(n.to_string())),
        Value::Null => Some(Cow::Borrowed("")),
        _ => None,
    }
}

/// Writes the vendor extensions (`x-*` keys) of an object, in document order.
fn extensions(w: &mut Writer, field: u32, obj: &Map<String, Value>) {
    for (k, v) in obj {
        if k.starts_with("x-") {
            named_any(w, field, k, v);
        }
    }
}

fn named_any(w: &mut Writer, field: u32, name: &str, v: &Value) {
    w.message(field, |w| {
        w.string(1, name);
        w.message(2, |w| any(w, v));
    });
}

/// `Any`: only `yaml` (2) is set, as gnostic does for values it has no extension handler for.
fn any(w: &mut Writer, v: &Value) {
    w.string(2, &yaml(v));
}

// ---------------------------------------------------------------------------------------------
// table-driven messages

type Encoder = fn(&mut Writer, &Value);

#[derive(Clone, Copy)]
enum Kind {
    Str,
    Bool,
    Int,
    Double,
    Any,
    Strings,
    Anys,
    Msg(Encoder),
    Msgs(Encoder),
}

/// A field of a message: JSON key, field number, kind.
type Field = (&'static str, u32, Kind);

fn field(w: &mut Writer, num: u32, kind: Kind, v: &Value) {
    match kind {
        Kind::Str => {
            if let Some(s) = text(v) {
                w.string(num, &s);
            }
        }
        Kind::Bool => w.boolean(num, v.as_bool().unwrap_or(false)),
        Kind::Int => w.int64(num, v.as_i64().unwrap_or(0)),
        Kind::Double => w.double(num, v.as_f64().unwrap_or(0.0)),
        Kind::Any => w.message(num, |w| any(w, v)),
        Kind::Strings => {
            for s in v.as_array().into_iter().flatten().filter_map(text) {
                w.string_elem(num, &s);
            }
        }
        Kind::Anys => {
            for x in v.as_array().into_iter().flatten() {
                w.message(num, |w| any(w, x));
            }
        }
        Kind::Msg(enc) => w.message(num, |w| enc(w, v)),
        Kind::Msgs(enc) => {
            for x in v.as_array().into_iter().flatten() {
                w.message(num, |w| enc(w, x));
            }
        }
    }
}

/// Writes the fields of `table` present in `obj`, then its vendor extensions as field `ext`.
fn fields(w: &mut Writer, obj: &Map<String, Value>, table: &[Field], ext: Option<u32>) {
    for &(key, num, kind) in table {
        if let Some(v) = obj.get(key) {
            field(w, num, kind, v);
        }
    }
    if let Some(ext) = ext {
        extensions(w, ext, obj);
    }
}

/// An encoder for a message described by a table.
macro_rules! table_message {
    ($(#[$doc:meta])* $name:ident, $table:expr, $ext:expr) => {
        $(#[$doc])*
        fn $name(w: &mut Writer, v: &Value) {
            if let Some(obj) = v.as_object() {
                fields(w, obj, $table, $ext);
            }
        }
    };
}

/// An encoder for a `repeated Named<T> additional_properties = 1` map message: every key, in
/// document order, as `{name = 1, value = 2}`.
macro_rules! named_map {
    ($(#[$doc:meta])* $name:ident, $value:expr) => {
        $(#[$doc])*
        fn $name(w: &mut Writer, v: &Value) {
            for (k, x) in v.as_object().into_iter().flatten() {
                w.message(1, |w| {
                    w.string(1, k);
                    field(w, 2, $value, x);
                });
            }
        }
    };
}

use Kind::{Any as AnyK, Bool, Double, Int, Msg, Msgs, Str, Strings, Anys};

const DOCUMENT: &[Field] = &[
    ("swagger", 1, Str),
    ("info", 2, Msg(info)),
    ("host", 3, Str),
    ("basePath", 4, Str),
    ("schemes", 5, Strings),
    ("consumes", 6, Strings),
    ("produces", 7, Strings),
    ("paths", 8, Msg(paths)),
    ("definitions", 9, Msg(named_schemas)),
    ("parameters", 10, Msg(parameter_definitions)),
    ("responses", 11, Msg(response_definitions)),
    ("security", 12, Msgs(security_requirement)),
    ("securityDefinitions", 13, Msg(security_definitions)),
    ("tags", 14, Msgs(tag)),
    ("externalDocs", 15, Msg(external_docs)),
];
table_message!(document, DOCUMENT, Some(16));

const INFO: &[Field] = &[
    ("title", 1, Str),
    ("version", 2, Str),
    ("description", 3, Str),
    ("termsOfService", 4, Str),
    ("contact", 5, Msg(contact)),
    ("license", 6, Msg(license)),
];
table_message!(info, INFO, Some(7));
table_message!(contact, &[("name", 1, Str), ("url", 2, Str), ("email", 3, Str)], Some(4));
table_message!(license, &[("name", 1, Str), ("url", 2, Str)], Some(3));
table_message!(external_docs, &[("description", 1, Str), ("url", 2, Str)], Some(3));
table_message!(tag, &[("name", 1, Str), ("description", 2, Str), ("externalDocs", 3, Msg(external_docs))], Some(4));
table_message!(json_reference, &[("$ref", 1, Str), ("description", 2, Str)], None);
table_message!(
    xml,
    &[("name", 1, Str), ("namespace", 2, Str), ("prefix", 3, Str), ("attribute", 4, Bool), ("wrapped", 5, Bool)],
    Some(6)
);

/// `Paths`: vendor extensions (1), then the `/...` keys as `NamedPathItem` (2).
fn paths(w: &mut Writer, v: &Value) {
    let Some(obj) = v.as_object() else { return };
    extensions(w, 1, obj);
    for (k, x) in obj {
        if k.starts_with('/') {
            w.message(2, |w| {
                w.string(1, k);
                w.message(2, |w| path_item(w, x));
            });
        }
    }
}

const PATH_ITEM: &[Field] = &[
    ("$ref", 1, Str),
    ("get", 2, Msg(operation)),
    ("put", 3, Msg(operation)),
    ("post", 4, Msg(operation)),
    ("delete", 5, Msg(operation)),
    ("options", 6, Msg(operation)),
    ("head", 7, Msg(operation)),
    ("patch", 8, Msg(operation)),
    ("parameters", 9, Msgs(parameters_item)),
];
table_message!(path_item, PATH_ITEM, Some(10));

const OPERATION: &[Field] = &[
    ("tags", 1, Strings),
    ("summary", 2, Str),
    ("description", 3, Str),
    ("externalDocs", 4, Msg(external_docs)),
    ("operationId", 5, Str),
    ("produces", 6, Strings),
    ("consumes", 7, Strings),
    ("parameters", 8, Msgs(parameters_item)),
    ("responses", 9, Msg(responses)),
    ("schemes", 10, Strings),
    ("deprecated", 11, Bool),
    ("security", 12, Msgs(security_requirement)),
];
table_message!(operation, OPERATION, Some(13));

/// `ParametersItem`: `oneof { Parameter parameter = 1; JsonReference json_reference = 2; }`.
fn parameters_item(w: &mut Writer, v: &Value) {
    if v.get("$ref").is_some() {
        w.message(2, |w| json_reference(w, v));
    } else {
        w.message(1, |w| parameter(w, v));
    }
}

/// `Parameter`: `oneof { BodyParameter body_parameter = 1; NonBodyParameter non_body_parameter = 2; }`.
fn parameter(w: &mut Writer, v: &Value) {
    if v.get("in").and_then(Value::as_str) == Some("body") {
        w.message(1, |w| body_parameter(w, v));
    } else {
        w.message(2, |w| non_body_parameter(w, v));
    }
}

const BODY_PARAMETER: &[Field] =
    &[("description", 1, Str), ("name", 2, Str), ("in", 3, Str), ("required", 4, Bool), ("schema", 5, Msg(schema))];
table_message!(body_parameter, BODY_PARAMETER, Some(6));

/// `NonBodyParameter`: the sub-schema named by `in` (header = 1, formData = 2, query = 3,
/// path = 4).
fn non_body_parameter(w: &mut Writer, v: &Value) {
    match v.get("in").and_then(Value::as_str) {
        Some("header") => w.message(1, |w| header_or_path_parameter(w, v)),
        Some("formData") => w.message(2, |w| query_or_form_parameter(w, v)),
        Some("query") => w.message(3, |w| query_or_form_parameter(w, v)),
        Some("path") => w.message(4, |w| header_or_path_parameter(w, v)),
        _ => {}
    }
}

/// The validation keywords shared by `PrimitivesItems`, `Header` and the non-body parameter
/// sub-schemas, in field order: `type` is field `base`, `multipleOf` field `base + 16`.
const PRIMITIVE: [(&str, Kind); 17] = [
    ("type", Str),
    ("format", Str),
    ("items", Msg(primitives_items)),
    ("collectionFormat", Str),
    ("default", AnyK),
    ("maximum", Double),
    ("exclusiveMaximum", Bool),
    ("minimum", Double),
    ("exclusiveMinimum", Bool),
    ("maxLength", Int),
    ("minLength", Int),
    ("pattern", Str),
    ("maxItems", Int),
    ("minItems", Int),
    ("uniqueItems", Bool),
    ("enum", Anys),
    ("multipleOf", Double),
];

fn primitive_fields(w: &mut Writer, obj: &Map<String, Value>, base: u32) {
    for (i, (key, kind)) in PRIMITIVE.iter().enumerate() {
        if let Some(v) = obj.get(*key) {
            field(w, base + i as u32, *kind, v);
        }
    }
}

/// `HeaderParameterSubSchema` and `PathParameterSubSchema` (same layout): required 1, in 2,
/// description 3, name 4, primitives 5..=21, vendor extensions 22.
fn header_or_path_parameter(w: &mut Writer, v: &Value) {
    let Some(obj) = v.as_object() else { return };
    fields(w, obj, &[("required", 1, Bool), ("in", 2, Str), ("description", 3, Str), ("name", 4, Str)], None);
    primitive_fields(w, obj, 5);
    extensions(w, 22, obj);
}

/// `QueryParameterSubSchema` and `FormDataParameterSubSchema` (same layout): required 1, in 2,
/// description 3, name 4, allowEmptyValue 5, primitives 6..=22, vendor extensions 23.
fn query_or_form_parameter(w: &mut Writer, v: &Value) {
    let Some(obj) = v.as_object() else { return };
    fields(
        w,
        obj,
        &[("required", 1, Bool), ("in", 2, Str), ("description", 3, Str), ("name", 4, Str), ("allowEmptyValue", 5, Bool)],
        None,
    );
    primitive_fields(w, obj, 6);
    extensions(w, 23, obj);
}

/// `PrimitivesItems`: primitives 1..=17, vendor extensions 18.
fn primitives_items(w: &mut Writer, v: &Value) {
    let Some(obj) = v.as_object() else { return };
    primitive_fields(w, obj, 1);
    extensions(w, 18, obj);
}

/// `Header`: primitives 1..=17, description 18, vendor extensions 19.
fn header(w: &mut Writer, v: &Value) {
    let Some(obj) = v.as_object() else { return };
    primitive_fields(w, obj, 1);
    fields(w, obj, &[("description", 18, Str)], Some(19));
}

/// `Responses`: the status-code (`NNN`) and `default` keys as `NamedResponseValue` (1), then
/// vendor extensions (2).
fn responses(w: &mut Writer, v: &Value) {
    let Some(obj) = v.as_object() else { return };
    for (k, x) in obj {
        let code = k.len() == 3 && k.bytes().all(|b| b.is_ascii_digit());
        if code || k == "default" {
            w.message(1, |w| {
                w.string(1, k);
                w.message(2, |w| response_value(w, x));
            });
        }
    }
    extensions(w, 2, obj);
}

/// `ResponseValue`: `oneof { Response response = 1; JsonReference json_reference = 2; }`.
fn response_value(w: &mut Writer, v: &Value) {
    if v.get("$ref").is_some() {
        w.message(2, |w| json_reference(w, v));
    } else {
        w.message(1, |w| response(w, v));
    }
}

const RESPONSE: &[Field] = &[
    ("description", 1, Str),
    ("schema", 2, Msg(schema_item)),
    ("headers", 3, Msg(headers)),
    ("examples", 4, Msg(examples)),
];
table_message!(response, RESPONSE, Some(5));
named_map!(headers, Msg(header));
named_map!(examples, AnyK);

/// `SchemaItem`: `oneof { Schema schema = 1; FileSchema file_schema = 2; }`; gnostic takes the
/// file schema when the object is a valid one (`type: file` and only its keys).
fn schema_item(w: &mut Writer, v: &Value) {
    const FILE_KEYS: &[&str] = &["default", "description", "example", "externalDocs", "format", "readOnly", "required", "title", "type"];
    let is_file = v.as_object().is_some_and(|o| {
        o.get("type").and_then(Value::as_str) == Some("file") && o.keys().all(|k| k.starts_with("x-") || FILE_KEYS.contains(&k.as_str()))
    });
    if is_file {
        w.message(2, |w| file_schema(w, v));
    } else {
        w.message(1, |w| schema(w, v));
    }
}

const FILE_SCHEMA: &[Field] = &[
    ("format", 1, Str),
    ("title", 2, Str),
    ("description", 3, Str),
    ("default", 4, AnyK),
    ("required", 5, Strings),
    ("type", 6, Str),
    ("readOnly", 7, Bool),
    ("externalDocs", 8, Msg(external_docs)),
    ("example", 9, AnyK),
];
table_message!(file_schema, FILE_SCHEMA, Some(10));

const SCHEMA: &[Field] = &[
    ("$ref", 1, Str),
    ("format", 2, Str),
    ("title", 3, Str),
    ("description", 4, Str),
    ("default", 5, AnyK),
    ("multipleOf", 6, Double),
    ("maximum", 7, Double),
    ("exclusiveMaximum", 8, Bool),
    ("minimum", 9, Double),
    ("exclusiveMinimum", 10, Bool),
    ("maxLength", 11, Int),
    ("minLength", 12, Int),
    ("pattern", 13, Str),
    ("maxItems", 14, Int),
    ("minItems", 15, Int),
    ("uniqueItems", 16, Bool),
    ("maxProperties", 17, Int),
    ("minProperties", 18, Int),
    ("required", 19, Strings),
    ("enum", 20, Anys),
    ("additionalProperties", 21, Msg(additional_properties)),
    ("type", 22, Msg(type_item)),
    ("items", 23, Msg(items_item)),
    ("allOf", 24, Msgs(schema)),
    ("properties", 25, Msg(named_schemas)),
    ("discriminator", 26, Str),
    ("readOnly", 27, Bool),
    ("xml", 28, Msg(xml)),
    ("externalDocs", 29, Msg(external_docs)),
    ("example", 30, AnyK),
];
table_message!(schema, SCHEMA, Some(31));

named_map!(
    /// `Definitions` and `Properties`: `repeated NamedSchema additional_properties = 1`.
    named_schemas,
    Msg(schema)
);
named_map!(parameter_definitions, Msg(parameter));
named_map!(response_definitions, Msg(response));

/// `AdditionalPropertiesItem`: `oneof { Schema schema = 1; bool boolean = 2; }` (a oneof bool
/// is written even when false).
fn additional_properties(w: &mut Writer, v: &Value) {
    match v {
        Value::Bool(b) => {
            w.tag(2, WIRE_VARINT);
            w.0.push(u8::from(*b));
        }
        Value::Object(_) => w.message(1, |w| schema(w, v)),
        _ => {}
    }
}

/// `TypeItem`: `repeated string value = 1`, from a string or an array of strings.
fn type_item(w: &mut Writer, v: &Value) {
    match v {
        Value::Array(a) => {
            for s in a.iter().filter_map(text) {
                w.string_elem(1, &s);
            }
        }
        other => {
            if let Some(s) = text(other) {
                w.string_elem(1, &s);
            }
        }
    }
}

/// `ItemsItem`: `repeated Schema schema = 1` (gnostic reads one schema; an array of schemas is
/// written element by element).
fn items_item(w: &mut Writer, v: &Value) {
    match v {
        Value::Array(a) => {
            for x in a {
                w.message(1, |w| schema(w, x));
            }
        }
        other => w.message(1, |w| schema(w, other)),
    }
}

/// `SecurityRequirement`: `repeated NamedStringArray additional_properties = 1`.
fn security_requirement(w: &mut Writer, v: &Value) {
    for (k, x) in v.as_object().into_iter().flatten() {
        w.message(1, |w| {
            w.string(1, k);
            w.message(2, |w| field(w, 1, Strings, x));
        });
    }
}

named_map!(security_definitions, Msg(security_definitions_item));
named_map!(oauth2_scopes, Str);

/// `SecurityDefinitionsItem`: the scheme named by `type` (and `flow` for oauth2).
fn security_definitions_item(w: &mut Writer, v: &Value) {
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    let (num, table): (u32, &[Field]) = match (s("type"), s("flow")) {
        (Some("basic"), _) => (1, &[("type", 1, Str), ("description", 2, Str)]),
        (Some("apiKey"), _) => (2, &[("type", 1, Str), ("name", 2, Str), ("in", 3, Str), ("description", 4, Str)]),
        (Some("oauth2"), Some("implicit")) => (
            3,
            &[("type", 1, Str), ("flow", 2, Str), ("scopes", 3, Msg(oauth2_scopes)), ("authorizationUrl", 4, Str), ("description", 5, Str)],
        ),
        (Some("oauth2"), Some("password")) => {
            (4, &[("type", 1, Str), ("flow", 2, Str), ("scopes", 3, Msg(oauth2_scopes)), ("tokenUrl", 4, Str), ("description", 5, Str)])
        }
        (Some("oauth2"), Some("application")) => {
            (5, &[("type", 1, Str), ("flow", 2, Str), ("scopes", 3, Msg(oauth2_scopes)), ("tokenUrl", 4, Str), ("description", 5, Str)])
        }
        (Some("oauth2"), Some("accessCode")) => (
            6,
            &[
                ("type", 1, Str),
                ("flow", 2, Str),
                ("scopes", 3, Msg(oauth2_scopes)),
                ("authorizationUrl", 4, Str),
                ("tokenUrl", 5, Str),
                ("description", 6, Str),
            ],
        ),
        _ => return,
    };
    let Some(obj) = v.as_object() else { return };
    let ext = table.iter().map(|f| f.1).max().unwrap_or(0) + 1;
    w.message(num, |w| fields(w, obj, table, Some(ext)));
}

// ---------------------------------------------------------------------------------------------
// YAML rendering of `Any` values

/// Renders a JSON value as block-style YAML (what gnostic stores in `Any.yaml`): mappings
/// indented by four, sequence items as `- `, strings plain when that reads back as the same
/// string under YAML 1.1 and 1.2 resolvers, double-quoted otherwise.
pub fn yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => yaml_map(&mut out, m, 0, false),
        Value::Array(a) if !a.is_empty() => yaml_seq(&mut out, a, 0, false),
        other => {
            yaml_scalar(&mut out, other);
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A mapping at `indent`; with `inline`, the first line's indentation is already written.
fn yaml_map(out: &mut String, m: &Map<String, Value>, indent: usize, inline: bool) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 || !inline {
            pad(out, indent);
        }
        yaml_str(out, k);
        out.push(':');
        match v {
            Value::Object(m) if !m.is_empty() => {
                out.push('\n');
                yaml_map(out, m, indent + 4, false);
            }
            Value::Array(a) if !a.is_empty() => {
                out.push('\n');
                yaml_seq(out, a, indent + 4, false);
            }
            other => {
                out.push(' ');
                yaml_scalar(out, other);
                out.push('\n');
            }
        }
    }
}

/// A sequence at `indent`; with `inline`, the first line's indentation is already written.
fn yaml_seq(out: &mut String, a: &[Value], indent: usize, inline: bool) {
    for (i, v) in a.iter().enumerate() {
        if i > 0 || !inline {
            pad(out, indent);
        }
        out.push_str("- ");
        match v {
            Value::Object(m) if !m.is_empty() => yaml_map(out, m, indent + 2, true),
            Value::Array(a) if !a.is_empty() => yaml_seq(out, a, indent + 2, true),
            other => {
                yaml_scalar(out, other);
                out.push('\n');
            }
        }
    }
}

fn yaml_scalar(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => yaml_str(out, s),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

/// Whether a string can be written as a plain scalar and read back as that string: it starts
/// with a letter, `_` or `/`, holds no indicator that could end or retype it, and is not one of
/// the YAML 1.1 / 1.2 null and boolean words.
fn plain_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let (Some(first), Some(last)) = (b.first(), b.last()) else { return false };
    if !(first.is_ascii_alphabetic() || *first == b'_' || *first == b'/') || *last == b' ' {
        return false;
    }
    if !b.iter().all(|c| c.is_ascii_alphanumeric() || b" _./-()',;=+?<>".contains(c)) {
        return false;
    }
    !matches!(s.to_ascii_lowercase().as_str(), "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null")
}

fn yaml_str(out: &mut String, s: &str) {
    if plain_ok(s) {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20
                || ('\u{7f}'..='\u{9f}').contains(&c)
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}') =>
            {
                use std::fmt::Write;
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The subset of gnostic's OpenAPIv2.proto the tests read back, declared independently of
    /// the encoder (prost-derive, field numbers from the .proto).
    mod pbv2 {
        #![allow(missing_docs, clippy::large_enum_variant)]

        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Document {
            #[prost(string, tag = "1")]
            pub swagger: String,
            #[prost(message, optional, tag = "2")]
            pub info: Option<Info>,
            #[prost(message, optional, tag = "8")]
            pub paths: Option<Paths>,
            #[prost(message, optional, tag = "9")]
            pub definitions: Option<Definitions>,
            #[prost(message, repeated, tag = "16")]
            pub vendor_extension: Vec<NamedAny>,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Info {
            #[prost(string, tag = "1")]
            pub title: String,
            #[prost(string, tag = "2")]
            pub version: String,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Paths {
            #[prost(message, repeated, tag = "1")]
            pub vendor_extension: Vec<NamedAny>,
            #[prost(message, repeated, tag = "2")]
            pub path: Vec<NamedPathItem>,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct NamedPathItem {
            #[prost(string, tag = "1")]
            pub name: String,
            #[prost(message, optional, tag = "2")]
            pub value: Option<PathItem>,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct PathItem {
            #[prost(message, optional, tag = "2")]
            pub get: Option<Operation>,
            #[prost(message, optional, tag = "3")]
            pub put: Option<Operation>,
            #[prost(message, optional, tag = "4")]
            pub post: Option<Operation>,
            #[prost(message, optional, tag = "5")]
            pub delete: Option<Operation>,
            #[prost(message, optional, tag = "8")]
            pub patch: Option<Operation>,
            #[prost(message, repeated, tag = "9")]
            pub parameters: Vec<ParametersItem>,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Operation {
            #[prost(string, tag = "5")]
            pub operation_id: String,
            #[prost(string, repeated, tag = "7")]
            pub consumes: Vec<String>,
            #[prost(message, repeated, tag = "8")]
            pub parameters: Vec<ParametersItem>,
            #[prost(message, optional, tag = "9")]
            pub responses: Option<Responses>,
            #[prost(message, repeated, tag = "13")]
            pub vendor_extension: Vec<NamedAny>,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct ParametersItem {
            #[prost(oneof = "ParametersItemOneof", tags = "1, 2")]
            pub oneof: Option<ParametersItemOneof>,
        }
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum ParametersItemOneof {
            #[prost(message, tag = "1")]
            Parameter(Parameter),
            #[prost(message, tag = "2")]
            JsonReference(JsonReference),
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct JsonReference {
            #[prost(string, tag = "1")]
            pub r#ref: String,
            #[prost(string, tag = "2")]
            pub description: String,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Parameter {
            #[prost(oneof = "ParameterOneof", tags = "1, 2")]
            pub oneof: Option<ParameterOneof>,
        }
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum ParameterOneof {
            #[prost(message, tag = "1")]
            BodyParameter(BodyParameter),
            #[prost(message, tag = "2")]
            NonBodyParameter(NonBodyParameter),
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct BodyParameter {
            #[prost(string, tag = "1")]
            pub description: String,
            #[prost(string, tag = "2")]
            pub name: String,
            #[prost(string, tag = "3")]
            pub r#in: String,
            #[prost(bool, tag = "4")]
            pub required: bool,
            #[prost(message, optional, tag = "5")]
            pub schema: Option<Schema>,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct NonBodyParameter {
            #[prost(oneof = "NonBodyOneof", tags = "1, 2, 3, 4")]
            pub oneof: Option<NonBodyOneof>,
        }
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum NonBodyOneof {
            #[prost(message, tag = "1")]
            Header(PathParameterSubSchema),
            #[prost(message, tag = "2")]
            FormData(QueryParameterSubSchema),
            #[prost(message, tag = "3")]
            Query(QueryParameterSubSchema),
            #[prost(message, tag = "4")]
            Path(PathParameterSubSchema),
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct QueryParameterSubSchema {
            #[prost(bool, tag = "1")]
            pub required: bool,
            #[prost(string, tag = "2")]
            pub r#in: String,
            #[prost(string, tag = "3")]
            pub description: String,
            #[prost(string, tag = "4")]
            pub name: String,
            #[prost(string, tag = "6")]
            pub r#type: String,
            #[prost(bool, tag = "20")]
            pub unique_items: bool,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct PathParameterSubSchema {
            #[prost(bool, tag = "1")]
            pub required: bool,
            #[prost(string, tag = "2")]
            pub r#in: String,
            #[prost(string, tag = "3")]
            pub description: String,
            #[prost(string, tag = "4")]
            pub name: String,
            #[prost(string, tag = "5")]
            pub r#type: String,
            #[prost(bool, tag = "19")]
            pub unique_items: bool,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Responses {
            #[prost(message, repeated, tag = "1")]
            pub response_code: Vec<NamedResponseValue>,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct NamedResponseValue {
            #[prost(string, tag = "1")]
            pub name: String,
            #[prost(message, optional, tag = "2")]
            pub value: Option<ResponseValue>,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct ResponseValue {
            #[prost(oneof = "ResponseValueOneof", tags = "1, 2")]
            pub oneof: Option<ResponseValueOneof>,
        }
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum ResponseValueOneof {
            #[prost(message, tag = "1")]
            Response(Response),
            #[prost(message, tag = "2")]
            JsonReference(JsonReference),
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Response {
            #[prost(string, tag = "1")]
            pub description: String,
            #[prost(message, optional, tag = "2")]
            pub schema: Option<SchemaItem>,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct SchemaItem {
            #[prost(oneof = "SchemaItemOneof", tags = "1")]
            pub oneof: Option<SchemaItemOneof>,
        }
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum SchemaItemOneof {
            #[prost(message, tag = "1")]
            Schema(Schema),
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Schema {
            #[prost(string, tag = "1")]
            pub xref: String,
            #[prost(string, tag = "2")]
            pub format: String,
            #[prost(string, tag = "3")]
            pub title: String,
            #[prost(string, tag = "4")]
            pub description: String,
            #[prost(message, optional, tag = "5")]
            pub default: Option<Any>,
            #[prost(double, tag = "7")]
            pub maximum: f64,
            #[prost(double, tag = "9")]
            pub minimum: f64,
            #[prost(int64, tag = "11")]
            pub max_length: i64,
            #[prost(int64, tag = "12")]
            pub min_length: i64,
            #[prost(string, tag = "13")]
            pub pattern: String,
            #[prost(int64, tag = "14")]
            pub max_items: i64,
            #[prost(int64, tag = "15")]
            pub min_items: i64,
            #[prost(bool, tag = "16")]
            pub unique_items: bool,
            #[prost(string, repeated, tag = "19")]
            pub required: Vec<String>,
            #[prost(message, repeated, tag = "20")]
            pub r#enum: Vec<Any>,
            #[prost(message, optional, boxed, tag = "21")]
            pub additional_properties: Option<Box<AdditionalPropertiesItem>>,
            #[prost(message, optional, tag = "22")]
            pub r#type: Option<TypeItem>,
            #[prost(message, optional, tag = "23")]
            pub items: Option<ItemsItem>,
            #[prost(message, repeated, tag = "24")]
            pub all_of: Vec<Schema>,
            #[prost(message, optional, tag = "25")]
            pub properties: Option<Properties>,
            #[prost(bool, tag = "27")]
            pub read_only: bool,
            #[prost(message, repeated, tag = "31")]
            pub vendor_extension: Vec<NamedAny>,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct AdditionalPropertiesItem {
            #[prost(oneof = "AdditionalPropertiesOneof", tags = "1, 2")]
            pub oneof: Option<AdditionalPropertiesOneof>,
        }
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum AdditionalPropertiesOneof {
            #[prost(message, tag = "1")]
            Schema(Schema),
            #[prost(bool, tag = "2")]
            Boolean(bool),
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct TypeItem {
            #[prost(string, repeated, tag = "1")]
            pub value: Vec<String>,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct ItemsItem {
            #[prost(message, repeated, tag = "1")]
            pub schema: Vec<Schema>,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Properties {
            #[prost(message, repeated, tag = "1")]
            pub additional_properties: Vec<NamedSchema>,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Definitions {
            #[prost(message, repeated, tag = "1")]
            pub additional_properties: Vec<NamedSchema>,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct NamedSchema {
            #[prost(string, tag = "1")]
            pub name: String,
            #[prost(message, optional, tag = "2")]
            pub value: Option<Schema>,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct NamedAny {
            #[prost(string, tag = "1")]
            pub name: String,
            #[prost(message, optional, tag = "2")]
            pub value: Option<Any>,
        }
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct Any {
            #[prost(string, tag = "2")]
            pub yaml: String,
        }
    }

    use pbv2::{NonBodyOneof, ParameterOneof, ParametersItemOneof};

    fn decode(bytes: &[u8]) -> pbv2::Document {
        <pbv2::Document as prost::Message>::decode(bytes).expect("the encoding decodes as openapi.v2.Document")
    }

    fn yaml_value(y: &str) -> Value {
        serde_saphyr::from_str(y).unwrap_or_else(|e| panic!("invalid YAML {y:?}: {e}"))
    }

    fn ext<'a>(exts: &'a [pbv2::NamedAny], name: &str) -> Option<&'a str> {
        exts.iter().find(|e| e.name == name).map(|e| e.value.as_ref().map_or("", |a| a.yaml.as_str()))
    }

    /// Checks every keyword the protobuf carries against the JSON schema, recursively.
    fn check_schema(path: &str, json: &Value, pb: &pbv2::Schema) {
        let Some(obj) = json.as_object() else {
            assert_eq!(pb, &pbv2::Schema::default(), "{path}: a non-object schema encodes as an empty message");
            return;
        };
        let s = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or("");
        assert_eq!(pb.xref, s("$ref"), "{path}: $ref");
        assert_eq!(pb.description, s("description"), "{path}: description");
        assert_eq!(pb.format, s("format"), "{path}: format");
        assert_eq!(pb.title, s("title"), "{path}: title");
        assert_eq!(pb.pattern, s("pattern"), "{path}: pattern");
        let num = |k: &str| obj.get(k).and_then(Value::as_f64).unwrap_or(0.0);
        assert_eq!(pb.maximum, num("maximum"), "{path}: maximum");
        assert_eq!(pb.minimum, num("minimum"), "{path}: minimum");
        let int = |k: &str| obj.get(k).and_then(Value::as_i64).unwrap_or(0);
        assert_eq!(pb.max_length, int("maxLength"), "{path}: maxLength");
        assert_eq!(pb.min_length, int("minLength"), "{path}: minLength");
        assert_eq!(pb.max_items, int("maxItems"), "{path}: maxItems");
        assert_eq!(pb.min_items, int("minItems"), "{path}: minItems");
        assert_eq!(pb.unique_items, obj.get("uniqueItems") == Some(&json!(true)), "{path}: uniqueItems");
        assert_eq!(pb.read_only, obj.get("readOnly") == Some(&json!(true)), "{path}: readOnly");
        let required: Vec<&str> = obj.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        assert_eq!(pb.required, required, "{path}: required");
        match obj.get("type") {
            None => assert!(pb.r#type.is_none(), "{path}: type"),
            Some(Value::String(t)) => assert_eq!(pb.r#type.as_ref().map(|t| t.value.clone()), Some(vec![t.clone()]), "{path}: type"),
            Some(Value::Array(ts)) => {
                let ts: Vec<String> = ts.iter().filter_map(|t| t.as_str().map(String::from)).collect();
                assert_eq!(pb.r#type.as_ref().map(|t| t.value.clone()), Some(ts), "{path}: type");
            }
            Some(other) => panic!("{path}: unexpected type {other}"),
        }
        match obj.get("default") {
            None => assert!(pb.default.is_none(), "{path}: default"),
            Some(d) => assert_eq!(&yaml_value(&pb.default.as_ref().expect("default").yaml), d, "{path}: default"),
        }
        let enums: Vec<Value> = pb.r#enum.iter().map(|a| yaml_value(&a.yaml)).collect();
        assert_eq!(&enums, obj.get("enum").and_then(Value::as_array).unwrap_or(&vec![]), "{path}: enum");
        let exts: Vec<(&str, Value)> = pb.vendor_extension.iter().map(|e| (e.name.as_str(), yaml_value(&e.value.as_ref().expect("value").yaml))).collect();
        let want: Vec<(&str, Value)> = obj.iter().filter(|(k, _)| k.starts_with("x-")).map(|(k, v)| (k.as_str(), v.clone())).collect();
        assert_eq!(exts, want, "{path}: vendor extensions");
        match obj.get("properties") {
            None => assert!(pb.properties.is_none(), "{path}: properties"),
            Some(props) => {
                let props = props.as_object().expect("properties is an object");
                let got = &pb.properties.as_ref().expect("properties").additional_properties;
                let names: Vec<&str> = got.iter().map(|n| n.name.as_str()).collect();
                let want: Vec<&str> = props.keys().map(String::as_str).collect();
                assert_eq!(names, want, "{path}: property names");
                for n in got {
                    check_schema(&format!("{path}.{}", n.name), &props[&n.name], n.value.as_ref().expect("property schema"));
                }
            }
        }
        match obj.get("items") {
            None => assert!(pb.items.is_none(), "{path}: items"),
            Some(Value::Array(a)) => {
                let got = &pb.items.as_ref().expect("items").schema;
                assert_eq!(got.len(), a.len(), "{path}: items");
                for (i, (j, p)) in a.iter().zip(got).enumerate() {
                    check_schema(&format!("{path}[{i}]"), j, p);
                }
            }
            Some(one) => {
                let got = &pb.items.as_ref().expect("items").schema;
                assert_eq!(got.len(), 1, "{path}: items");
                check_schema(&format!("{path}[]"), one, &got[0]);
            }
        }
        let all_of = obj.get("allOf").and_then(Value::as_array).cloned().unwrap_or_default();
        assert_eq!(pb.all_of.len(), all_of.len(), "{path}: allOf");
        for (i, (j, p)) in all_of.iter().zip(&pb.all_of).enumerate() {
            check_schema(&format!("{path}.allOf[{i}]"), j, p);
        }
        use pbv2::AdditionalPropertiesOneof as Ap;
        match (obj.get("additionalProperties"), pb.additional_properties.as_ref().and_then(|a| a.oneof.as_ref())) {
            (None, None) => {}
            (Some(Value::Bool(b)), Some(Ap::Boolean(p))) => assert_eq!(b, p, "{path}: additionalProperties"),
            (Some(j @ Value::Object(_)), Some(Ap::Schema(p))) => check_schema(&format!("{path}{{}}"), j, p),
            (j, p) => panic!("{path}: additionalProperties {j:?} encoded as {p:?}"),
        }
    }

    fn query_names(params: &[pbv2::ParametersItem]) -> Vec<String> {
        params
            .iter()
            .filter_map(|p| match &p.oneof {
                Some(ParametersItemOneof::Parameter(pbv2::Parameter { oneof: Some(ParameterOneof::NonBodyParameter(n)) })) => match &n.oneof {
                    Some(NonBodyOneof::Query(q)) => Some(q.name.clone()),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    fn patch_of<'a>(doc: &'a pbv2::Document, path: &str) -> &'a pbv2::Operation {
        let paths = &doc.paths.as_ref().expect("paths").path;
        let item = paths.iter().find(|p| p.name == path).unwrap_or_else(|| panic!("{path} is encoded"));
        item.value.as_ref().and_then(|v| v.patch.as_ref()).unwrap_or_else(|| panic!("{path} has a PATCH operation"))
    }

    /// What kubectl's v2 query-parameter verifier reads: the PATCH operation's GVK extension and
    /// its query parameters.
    fn assert_patch_verifiable(doc: &pbv2::Document, path: &str, group: &str, version: &str, kind: &str) {
        let op = patch_of(doc, path);
        let gvk = ext(&op.vendor_extension, "x-kubernetes-group-version-kind").expect("the PATCH operation carries its GVK");
        assert_eq!(yaml_value(gvk), json!({ "group": group, "kind": kind, "version": version }), "{path}: {gvk:?}");
        assert!(query_names(&op.parameters).iter().any(|n| n == "fieldValidation"), "{path}: fieldValidation is a query parameter");
    }

    /// Builds an apiserver with the built-in registry, to read its real documents through
    /// `openapi::handle`.
    async fn started() -> (tempfile::TempDir, crate::Server) {
        let dir = tempfile::tempdir().expect("tempdir");
        let ips = ["127.0.0.1".parse().expect("ip")];
        let pki = pki::ClusterPki::load_or_create(&dir.path().join("tls"), &["localhost".to_string()], &ips).expect("pki");
        let store = storage::embedded::EmbeddedStore::open(&dir.path().join("db"), Default::default()).await.expect("store");
        let config = crate::Config {
            bind_address: "127.0.0.1".parse().expect("ip"),
            secure_port: 0,
            service_cidr: crate::Cidr::parse("10.96.0.0/12").expect("cidr"),
            node_port_range: (30000, 32767),
            serving_cert: pki.apiserver.cert_pem.clone(),
            serving_key: pki.apiserver.key_pem.clone(),
            client_ca: pki.ca.pair.cert_pem.clone(),
            version: "test".into(),
            compaction_interval: std::time::Duration::from_secs(300),
            allowed_cidrs: vec![],
            service_account_key: None,
            service_account_issuer: crate::DEFAULT_ISSUER.into(),
            pod_security: pod_security_admission::Config::ferrokube_default(),
            encryption_config: None,
            audit_log: None,
            audit_policy: None,
            audit_rotation: Default::default(),
            kubelet_client: None,
        };
        let server = crate::start(config, store).await.expect("apiserver starts");
        (dir, server)
    }

    async fn get(api: &crate::Api, path: &str, accept: Option<&str>) -> (http::StatusCode, String, Bytes) {
        use http_body_util::BodyExt;
        let r = crate::openapi::handle(api, path, accept);
        let status = r.status();
        let ct = r.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let body = r.into_body().collect().await.expect("body").to_bytes();
        (status, ct, body)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn real_document_round_trips() {
        let (_dir, server) = started().await;
        let api = &server.api;
        let (status, ct, json_bytes) = get(api, "/openapi/v2", Some("application/json")).await;
        assert_eq!((status, ct.as_str()), (http::StatusCode::OK, "application/json"));
        let json: Value = serde_json::from_slice(&json_bytes).expect("JSON");

        let (status, ct, pb_bytes) = get(api, "/openapi/v2", Some(MEDIA_TYPE)).await;
        assert_eq!((status, ct.as_str()), (http::StatusCode::OK, CONTENT_TYPE));
        let started = std::time::Instant::now();
        let direct = encode(&json);
        eprintln!("encoding {} bytes of JSON into {} bytes of protobuf took {:?}", json_bytes.len(), direct.len(), started.elapsed());
        assert_eq!(pb_bytes, direct, "handle serves encode() of the JSON document");

        // the memo: same buffer again, without re-encoding
        let (_, _, again) = get(api, "/openapi/v2", Some(MEDIA_TYPE)).await;
        assert_eq!(again.as_ptr(), pb_bytes.as_ptr(), "the encoded document is cached");

        let doc = decode(&pb_bytes);
        assert_eq!(doc.swagger, json["swagger"].as_str().expect("swagger"));
        assert_eq!(doc.swagger, "2.0");
        let info = doc.info.as_ref().expect("info");
        assert_eq!((info.title.as_str(), info.version.as_str()), ("Kubernetes", crate::KUBE_VERSION.2));
        let json_paths = json["paths"].as_object().expect("paths");
        assert_eq!(doc.paths.as_ref().expect("paths").path.len(), json_paths.len(), "path count");

        let defs = json["definitions"].as_object().expect("definitions");
        let pb_defs = &doc.definitions.as_ref().expect("definitions").additional_properties;
        assert_eq!(pb_defs.len(), defs.len(), "definition count");
        assert!(defs.len() > 100, "the built-in kinds are defined ({})", defs.len());
        let names: Vec<&str> = pb_defs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, defs.keys().map(String::as_str).collect::<Vec<_>>(), "definition names, in order");
        for d in pb_defs {
            check_schema(&d.name, &defs[&d.name], d.value.as_ref().expect("schema"));
        }

        // the kinds kubectl validates client-side when the v2 verifier finds no PATCH path
        let tr = pb_defs.iter().find(|d| d.name == "io.k8s.api.authentication.v1.TokenReview").expect("TokenReview");
        let tr = tr.value.as_ref().expect("schema");
        let props: Vec<&str> = tr.properties.as_ref().expect("properties").additional_properties.iter().map(|p| p.name.as_str()).collect();
        for p in ["apiVersion", "kind", "metadata", "spec", "status"] {
            assert!(props.contains(&p), "TokenReview.{p}");
        }
        let gvk = ext(&tr.vendor_extension, "x-kubernetes-group-version-kind").expect("GVK");
        assert_eq!(yaml_value(gvk), json!([{ "group": "authentication.k8s.io", "kind": "TokenReview", "version": "v1" }]));
        let ns = pb_defs.iter().find(|d| d.name == "io.k8s.api.core.v1.Namespace").and_then(|d| d.value.as_ref()).expect("Namespace");
        let gvk = ext(&ns.vendor_extension, "x-kubernetes-group-version-kind").expect("GVK");
        assert!(gvk.contains("group: \"\""), "the core group is an explicit empty string: {gvk:?}");
        assert_eq!(yaml_value(gvk), json!([{ "group": "", "kind": "Namespace", "version": "v1" }]));

        // negotiation
        assert_eq!(get(api, "/openapi/v2", None).await.1, "application/json");
        assert_eq!(get(api, "/openapi/v2", Some("*/*")).await.1, "application/json");
        assert_eq!(get(api, "/openapi/v2", Some(&format!("application/json;q=0.5, {MEDIA_TYPE}"))).await.1, CONTENT_TYPE);
        assert_eq!(get(api, "/openapi/v2", Some(CONTENT_TYPE)).await.1, CONTENT_TYPE);
        assert_eq!(get(api, "/openapi/v2", Some("application/yaml")).await.0, http::StatusCode::NOT_ACCEPTABLE);

        // our generator's operations (built for the v3 documents; the v2 document carries no
        // paths) encode as kubectl's v2 verifier expects
        let mut spliced = json.clone();
        for gv in ["api/v1", "apis/apps/v1"] {
            let (status, _, v3) = get(api, &format!("/openapi/v3/{gv}"), None).await;
            assert_eq!(status, http::StatusCode::OK);
            let v3 = String::from_utf8(v3.to_vec()).expect("utf-8").replace("#/components/schemas/", "#/definitions/");
            let v3: Value = serde_json::from_str(&v3).expect("JSON");
            for (k, v) in v3["paths"].as_object().expect("paths") {
                spliced["paths"][k] = v.clone();
            }
        }
        let doc = decode(&encode(&spliced));
        assert_eq!(doc.paths.as_ref().expect("paths").path.len(), spliced["paths"].as_object().expect("paths").len());
        assert_patch_verifiable(&doc, "/apis/apps/v1/namespaces/{namespace}/deployments/{name}", "apps", "v1", "Deployment");
        assert_patch_verifiable(&doc, "/api/v1/namespaces/{name}", "", "v1", "Namespace");
        let item = doc.paths.as_ref().expect("paths").path.iter().find(|p| p.name == "/api/v1/namespaces/{name}").and_then(|p| p.value.as_ref()).expect("item");
        let path_params: Vec<&str> = item
            .parameters
            .iter()
            .filter_map(|p| match &p.oneof {
                Some(ParametersItemOneof::Parameter(pbv2::Parameter { oneof: Some(ParameterOneof::NonBodyParameter(n)) })) => match &n.oneof {
                    Some(NonBodyOneof::Path(p)) if p.required => Some(p.name.as_str()),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        assert_eq!(path_params, ["name"]);
    }

    /// Upstream-shaped Swagger 2.0 operations (body parameter, `$ref`'d global parameter,
    /// responses with `$ref` schemas, extensions on the document, paths and operations).
    fn upstream_shaped() -> Value {
        let write_params = json!([
            { "$ref": "#/parameters/body-2Y1dVQaQ" },
            { "uniqueItems": true, "type": "string", "description": "When present, indicates that modifications should not be persisted.", "name": "dryRun", "in": "query" },
            { "uniqueItems": true, "type": "string", "description": "fieldManager is a name associated with the actor.", "name": "fieldManager", "in": "query" },
            { "uniqueItems": true, "type": "string", "description": "fieldValidation instructs the server on how to handle objects.", "name": "fieldValidation", "in": "query" },
            { "uniqueItems": true, "type": "boolean", "description": "Force is going to \"force\" Apply requests.", "name": "force", "in": "query" }
        ]);
        let patch = |group: &str, kind: &str, def: &str| {
            json!({
                "description": format!("partially update the specified {kind}"),
                "consumes": ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"],
                "produces": ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"],
                "schemes": ["https"],
                "tags": ["core_v1"],
                "operationId": format!("patch{kind}"),
                "parameters": write_params,
                "responses": {
                    "200": { "description": "OK", "schema": { "$ref": format!("#/definitions/{def}") } },
                    "201": { "description": "Created", "schema": { "$ref": format!("#/definitions/{def}") } },
                    "401": { "description": "Unauthorized" }
                },
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": { "group": group, "kind": kind, "version": "v1" }
            })
        };
        json!({
            "swagger": "2.0",
            "info": { "title": "Kubernetes", "version": "v1.32.0" },
            "paths": {
                "/api/v1/namespaces/{name}": {
                    "parameters": [
                        { "uniqueItems": true, "type": "string", "description": "name of the Namespace", "name": "name", "in": "path", "required": true },
                        { "uniqueItems": true, "type": "string", "description": "If 'true', then the output is pretty printed.", "name": "pretty", "in": "query" }
                    ],
                    "put": {
                        "operationId": "replaceNamespace",
                        "parameters": [{ "name": "body", "in": "body", "required": true, "schema": { "$ref": "#/definitions/io.k8s.api.core.v1.Namespace" } }],
                        "responses": { "200": { "description": "OK", "schema": { "$ref": "#/definitions/io.k8s.api.core.v1.Namespace" } } },
                        "x-kubernetes-group-version-kind": { "group": "", "kind": "Namespace", "version": "v1" }
                    },
                    "patch": patch("", "Namespace", "io.k8s.api.core.v1.Namespace")
                },
                "/apis/apps/v1/namespaces/{namespace}/deployments/{name}": {
                    "patch": patch("apps", "Deployment", "io.k8s.api.apps.v1.Deployment"),
                    "x-path-note": "yes"
                },
                "x-paths-note": 1
            },
            "definitions": {
                "io.k8s.api.core.v1.Namespace": {
                    "description": "Namespace provides a scope for Names.",
                    "type": "object",
                    "properties": {
                        "apiVersion": { "type": "string" },
                        "kind": { "type": "string" },
                        "metadata": { "$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "default": {} },
                        "spec": { "type": "object", "additionalProperties": { "type": "string" } },
                        "finalizers": { "type": "array", "items": { "type": "string", "enum": ["kubernetes", "on", "1"] }, "x-kubernetes-list-type": "set" }
                    },
                    "x-kubernetes-group-version-kind": [{ "group": "", "kind": "Namespace", "version": "v1" }]
                },
                "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": { "type": "object", "properties": { "name": { "type": "string", "maxLength": 253 } }, "additionalProperties": false },
                "io.k8s.api.apps.v1.Deployment": { "type": "object", "allOf": [{ "$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" }] }
            },
            "parameters": {
                "body-2Y1dVQaQ": { "schema": { "$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch" }, "in": "body", "name": "body", "required": true }
            },
            "securityDefinitions": { "BearerToken": { "description": "Bearer Token authentication", "type": "apiKey", "name": "authorization", "in": "header" } },
            "security": [{ "BearerToken": [] }],
            "x-document-note": { "a": [1, 2] }
        })
    }

    #[test]
    fn upstream_shaped_operations() {
        let json = upstream_shaped();
        let doc = decode(&encode(&json));
        assert_eq!(doc.swagger, "2.0");
        let paths = doc.paths.as_ref().expect("paths");
        assert_eq!(paths.path.len(), 2, "path count equals the JSON's (extensions apart)");
        assert_eq!(ext(&paths.vendor_extension, "x-paths-note"), Some("1\n"));
        assert_eq!(ext(&doc.vendor_extension, "x-document-note").map(yaml_value), Some(json!({ "a": [1, 2] })));
        assert_patch_verifiable(&doc, "/apis/apps/v1/namespaces/{namespace}/deployments/{name}", "apps", "v1", "Deployment");
        assert_patch_verifiable(&doc, "/api/v1/namespaces/{name}", "", "v1", "Namespace");

        let op = patch_of(&doc, "/apis/apps/v1/namespaces/{namespace}/deployments/{name}");
        assert_eq!(ext(&op.vendor_extension, "x-kubernetes-group-version-kind"), Some("group: apps\nkind: Deployment\nversion: v1\n"));
        assert_eq!(ext(&op.vendor_extension, "x-kubernetes-action"), Some("patch\n"));
        assert_eq!(op.operation_id, "patchDeployment");
        assert_eq!(op.consumes.len(), 4);
        assert!(matches!(&op.parameters[0].oneof, Some(ParametersItemOneof::JsonReference(r)) if r.r#ref == "#/parameters/body-2Y1dVQaQ"));
        let codes: Vec<(&str, &str)> = op
            .responses
            .as_ref()
            .expect("responses")
            .response_code
            .iter()
            .map(|r| {
                let Some(pbv2::ResponseValue { oneof: Some(pbv2::ResponseValueOneof::Response(resp)) }) = &r.value else { panic!("response") };
                let schema_ref = match &resp.schema {
                    Some(pbv2::SchemaItem { oneof: Some(pbv2::SchemaItemOneof::Schema(s)) }) => s.xref.as_str(),
                    _ => "",
                };
                (r.name.as_str(), schema_ref)
            })
            .collect();
        assert_eq!(
            codes,
            [("200", "#/definitions/io.k8s.api.apps.v1.Deployment"), ("201", "#/definitions/io.k8s.api.apps.v1.Deployment"), ("401", "")]
        );

        let ns = doc.paths.as_ref().expect("paths").path.iter().find(|p| p.name == "/api/v1/namespaces/{name}").and_then(|p| p.value.as_ref()).expect("item");
        let Some(ParametersItemOneof::Parameter(pbv2::Parameter { oneof: Some(ParameterOneof::NonBodyParameter(n)) })) = &ns.parameters[0].oneof else {
            panic!("path parameter")
        };
        let Some(NonBodyOneof::Path(p)) = &n.oneof else { panic!("path parameter") };
        assert_eq!((p.name.as_str(), p.r#in.as_str(), p.required, p.r#type.as_str(), p.unique_items), ("name", "path", true, "string", true));
        let put = ns.put.as_ref().expect("put");
        let Some(ParametersItemOneof::Parameter(pbv2::Parameter { oneof: Some(ParameterOneof::BodyParameter(b)) })) = &put.parameters[0].oneof else {
            panic!("body parameter")
        };
        assert_eq!((b.name.as_str(), b.r#in.as_str(), b.required), ("body", "body", true));
        assert_eq!(b.schema.as_ref().map(|s| s.xref.as_str()), Some("#/definitions/io.k8s.api.core.v1.Namespace"));

        let defs = &doc.definitions.as_ref().expect("definitions").additional_properties;
        assert_eq!(defs.len(), 3);
        for d in defs {
            check_schema(&d.name, &json["definitions"][&d.name], d.value.as_ref().expect("schema"));
        }
    }

    #[test]
    fn wire_details() {
        // empty messages are present (key + zero length), zero scalars are not
        assert_eq!(encode(&json!({ "swagger": "2.0", "paths": {} })), [0x0a, 3, b'2', b'.', b'0', 0x42, 0]);
        assert_eq!(encode(&json!({ "definitions": { "A": { "uniqueItems": false, "maxLength": 0 } } })), [0x4a, 7, 0x0a, 5, 0x0a, 1, b'A', 0x12, 0]);
        // additionalProperties: false is written (oneof member)
        assert_eq!(encode(&json!({ "definitions": { "A": { "additionalProperties": false } } })), [0x4a, 12, 0x0a, 10, 0x0a, 1, b'A', 0x12, 5, 0xaa, 0x01, 2, 0x10, 0]);
        // lengths over 127 take two varint bytes
        let long = "x".repeat(200);
        let out = encode(&json!({ "swagger": long }));
        assert_eq!(&out[..3], &[0x0a, 0xc8, 0x01]);
        assert_eq!(out.len(), 203);
    }

    #[test]
    fn yaml_rendering() {
        assert_eq!(yaml(&json!({ "group": "apps", "kind": "Deployment", "version": "v1" })), "group: apps\nkind: Deployment\nversion: v1\n");
        assert_eq!(yaml(&json!([{ "group": "", "kind": "Pod", "version": "v1" }])), "- group: \"\"\n  kind: Pod\n  version: v1\n");
        assert_eq!(yaml(&json!("set")), "set\n");
        assert_eq!(yaml(&json!(true)), "true\n");
        assert_eq!(yaml(&json!({})), "{}\n");
        assert_eq!(yaml(&json!([])), "[]\n");
        assert_eq!(yaml(&json!(null)), "null\n");
        assert_eq!(yaml(&json!({ "a": { "b": [1, { "c": [] }] } })), "a:\n    b:\n        - 1\n        - c: []\n");
        // strings that would read back as something else are quoted
        for s in ["", "true", "on", "No", "y", "null", "~", "1", "1.5", "0x1f", "-1", ".inf", "a: b", "a #b", "- x", "[x]", "{x}", "*x", "&x", "!x", "|", ">", "%x", "@x", "`x", "'x", "\"x", " x", "x ", "a\nb", "tab\there", "\u{7f}", "\u{85}", "é", "2024-01-01", "x:"] {
            let y = yaml(&json!(s));
            assert_eq!(yaml_value(&y), json!(s), "{s:?} rendered as {y:?}");
        }
        // arbitrary nesting reads back as the same value
        let v = json!({ "a": [[1, 2], [], {}, [{ "x": null, "y": [true, false] }]], "b": { "c": { "d": -2.5 } }, "key with: colon": "v", "": 0 });
        assert_eq!(yaml_value(&yaml(&v)), v);
    }

    #[test]
    fn accept_negotiation() {
        assert_eq!(negotiate(None), Some(Format::Json));
        assert_eq!(negotiate(Some("")), Some(Format::Json));
        assert_eq!(negotiate(Some("application/json")), Some(Format::Json));
        assert_eq!(negotiate(Some("application/*")), Some(Format::Json));
        assert_eq!(negotiate(Some(MEDIA_TYPE)), Some(Format::Protobuf));
        assert_eq!(negotiate(Some(CONTENT_TYPE)), Some(Format::Protobuf));
        assert_eq!(negotiate(Some(&format!("{MEDIA_TYPE}, */*"))), Some(Format::Protobuf));
        assert_eq!(negotiate(Some(&format!("*/*, {MEDIA_TYPE}"))), Some(Format::Protobuf), "the more specific clause first");
        assert_eq!(negotiate(Some(&format!("{MEDIA_TYPE};q=0.5, application/json"))), Some(Format::Json));
        assert_eq!(negotiate(Some("application/json;q=0")), None);
        assert_eq!(negotiate(Some("application/yaml, text/plain")), None);
        assert_eq!(negotiate(Some("application/vnd.kubernetes.protobuf")), None);
    }
}
