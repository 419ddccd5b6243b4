//! Types of the generated field table in `schema.rs`.

/// Scalar proto type of a field (or of a map value / repeated element).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    /// `bool` (varint).
    Bool,
    /// `int32` (varint).
    Int32,
    /// `int64` (varint).
    Int64,
    /// `double` (64-bit).
    Double,
    /// `string` (length-delimited UTF-8).
    String,
    /// `bytes` (length-delimited; base64 in JSON).
    Bytes,
    /// Nested message: index into `schema::MESSAGES`.
    Msg(u16),
}

/// Cardinality of a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Card {
    /// `optional`/`required`: a single value.
    Single,
    /// `repeated` (Go slice); numeric scalars may be packed or unpacked.
    Repeated,
    /// `map<string, ty>`: repeated entry messages {key = 1, value = 2}.
    Map,
}

/// Messages whose Go type has a custom JSON (or protobuf) representation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    /// An ordinary message.
    None,
    /// resource.Quantity / QuantityValue {string = 1} -> JSON string.
    Quantity,
    /// intstr.IntOrString {type = 1, intVal = 2, strVal = 3} -> number or string.
    IntOrString,
    /// meta/v1 Time (Timestamp on the wire) -> RFC3339 seconds, zero -> null.
    Time,
    /// meta/v1 MicroTime -> RFC3339 with 6 fractional digits, zero -> null.
    MicroTime,
    /// meta/v1 Duration {duration = 1 (ns)} -> Go duration string.
    Duration,
    /// meta/v1 FieldsV1 {Raw = 1} -> embedded JSON.
    FieldsV1,
    /// runtime.RawExtension {raw = 1} -> embedded JSON.
    RawExtension,
    /// apiextensions v1 JSON {raw = 1} -> embedded JSON.
    Json,
    /// JSONSchemaPropsOrBool {allows = 1, schema = 2} -> schema or bool.
    PropsOrBool,
    /// JSONSchemaPropsOrArray {schema = 1, jSONSchemas = 2} -> array or schema.
    PropsOrArray,
    /// JSONSchemaPropsOrStringArray {schema = 1, property = 2} -> strings or schema.
    PropsOrStringArray,
    /// Named Go `[]string` wrapped as {repeated string items = 1} (Verbs, ExtraValue).
    StringList,
}

/// Go field is a pointer (`*T`): kept whenever present on the wire, even if zero.
pub const PTR: u8 = 1;
/// JSON tag has `omitempty`.
pub const OMITEMPTY: u8 = 2;
/// Embedded Go struct with `json:",inline"`: its fields are flattened into the parent.
pub const INLINE: u8 = 4;

/// One field of a message.
#[derive(Debug)]
pub struct Field {
    /// Proto field number.
    pub num: u32,
    /// JSON key (empty for INLINE fields).
    pub json: &'static str,
    /// Scalar type or nested message.
    pub ty: Ty,
    /// Single, repeated or map.
    pub card: Card,
    /// [`PTR`], [`OMITEMPTY`], [`INLINE`] bits.
    pub flags: u8,
}

/// One message type.
#[derive(Debug)]
pub struct Message {
    /// Fully-qualified proto name, e.g. `k8s.io.api.apps.v1.Deployment`.
    pub name: &'static str,
    /// Custom JSON representation, if any.
    pub special: Special,
    /// Sorted by field number.
    pub fields: &'static [Field],
    /// Indices into `fields` in Go struct declaration order (JSON output order).
    pub order: &'static [u8],
}
