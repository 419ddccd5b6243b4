//! Server-side application of a strategic merge patch (`application/strategic-merge-patch+json`)
//! with the results and error texts of upstream's `strategicpatch.StrategicMergeMapPatch` as
//! the 1.32 apiserver calls it (parallel deletion lists merged, unmatched nulls ignored).
//!
//! Behaviour in brief:
//! - maps merge recursively; a `null` value deletes the key; a value for a key the original
//!   lacks (or holds with another JSON type) is taken from the patch with its nested `null`s
//!   dropped and every map carrying `$patch` removed;
//! - a list merges only if its field's patch strategy is `merge` (by the field's merge key for
//!   lists of objects, as a union for lists of scalars); other lists are replaced verbatim;
//! - a map-typed field whose strategy is `replace` is replaced verbatim;
//! - `$patch: replace` / `$patch: delete` on a map, `$patch: delete` / `$patch: replace` items in
//!   a merged list, `$retainKeys`, `$setElementOrder/<field>`,
//!   `$deleteFromPrimitiveList/<field>` as upstream;
//! - the order of a merged list follows upstream: `$setElementOrder` first, then the order of
//!   the patch list, then the order of the live list.
//!
//! Schema: the patch metadata of each field comes from a [`SchemaSet`] built from the OpenAPI
//! definitions (their `x-kubernetes-patch-strategy` / `-patch-merge-key` mirror the Go struct
//! tags upstream reads). Where upstream consults the Go type, a named type stands for a Go
//! struct and an `additionalProperties` map for a Go map, so the lookups fail the way they fail
//! upstream (e.g. a key present as an object on both sides inside a `RawExtension`).

mod golike;
#[cfg(test)]
mod tests;

use std::fmt;

use crate::schema::{SchemaSet, Shape};
use serde_json::{Map, Value};

use golike::{GoType, MAP_TYPE, SLICE_TYPE, go_eq, go_type, sprint_map, sprint_v};

type JMap = Map<String, Value>;

/// Why a patch could not be applied, classified as upstream's patch handler answers it
/// (`interpretStrategicMergePatchError`); the string is upstream's error text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmpError {
    /// 400 BadRequest; the Status message is the text.
    BadRequest(String),
    /// 422 Invalid. Upstream builds this Status with `NewGenericServerResponse`, so its message
    /// is the generic [`SmpError::INVALID_STATUS_MESSAGE`] and the text is not sent (see
    /// [`SmpError::status_message`]).
    Invalid(String),
    /// Any other error: upstream passes the plain Go error up, and the apiserver answers 500
    /// with a Status whose reason is empty and whose message is the text.
    Internal(String),
    /// A case where upstream's code panics (e.g. a `null` as the first item of a merged list);
    /// the apiserver answers 500 with the plain-text body [`SmpError::PANIC_BODY`]. The string
    /// is the Go runtime error, for logs.
    Panic(String),
}

impl SmpError {
    /// The Status message upstream sends for [`SmpError::Invalid`].
    pub const INVALID_STATUS_MESSAGE: &'static str = "the server rejected our request due to an error in our request";
    /// The plain-text body the apiserver sends when a handler panics.
    pub const PANIC_BODY: &'static str = "This request caused apiserver to panic. Look in the logs for details.";

    /// The HTTP status code upstream answers with.
    pub fn code(&self) -> u16 {
        match self {
            SmpError::BadRequest(_) => 400,
            SmpError::Invalid(_) => 422,
            SmpError::Internal(_) | SmpError::Panic(_) => 500,
        }
    }

    /// The Status reason upstream sends (`Panic` has no Status body at all).
    pub fn reason(&self) -> &'static str {
        match self {
            SmpError::BadRequest(_) => "BadRequest",
            SmpError::Invalid(_) => "Invalid",
            SmpError::Internal(_) | SmpError::Panic(_) => "",
        }
    }

    /// The message upstream puts in the response.
    pub fn status_message(&self) -> &str {
        match self {
            SmpError::BadRequest(m) | SmpError::Internal(m) => m,
            SmpError::Invalid(_) => Self::INVALID_STATUS_MESSAGE,
            SmpError::Panic(_) => Self::PANIC_BODY,
        }
    }

    /// Upstream's error text.
    pub fn text(&self) -> &str {
        match self {
            SmpError::BadRequest(m) | SmpError::Invalid(m) | SmpError::Internal(m) | SmpError::Panic(m) => m,
        }
    }
}

impl From<SmpError> for crate::ApiError {
    fn from(e: SmpError) -> crate::ApiError {
        use crate::status::Reason;
        let reason = match &e {
            SmpError::BadRequest(_) => Reason::BadRequest,
            SmpError::Invalid(_) => Reason::Invalid,
            SmpError::Internal(_) | SmpError::Panic(_) => Reason::Unknown,
        };
        crate::ApiError { code: e.code(), reason, message: e.status_message().to_string(), details: None }
    }
}

impl fmt::Display for SmpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl std::error::Error for SmpError {}

// upstream's sentinel errors (k8s.io/apimachinery/pkg/util/mergepatch)
/// `mergepatch.ErrBadJSONDoc` (400).
pub const ERR_BAD_JSON_DOC: &str = "invalid JSON document";
/// `mergepatch.ErrNoListOfLists` (422).
pub const ERR_NO_LIST_OF_LISTS: &str = "lists of lists are not supported";
/// `mergepatch.ErrBadPatchFormatForPrimitiveList` (400).
pub const ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST: &str = "invalid patch format of primitive list";
/// `mergepatch.ErrBadPatchFormatForRetainKeys` (400).
pub const ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS: &str = "invalid patch format of retainKeys";
/// `mergepatch.ErrBadPatchFormatForSetElementOrderList` (400).
pub const ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST: &str = "invalid patch format of setElementOrder list";
/// `mergepatch.ErrPatchContentNotMatchRetainKeys` (422; upstream's apply path never returns it).
pub const ERR_PATCH_CONTENT_NOT_MATCH_RETAIN_KEYS: &str = "patch content doesn't match retainKeys list";
/// `mergepatch.ErrUnsupportedStrategicMergePatchFormat` (400; returned upstream when the target
/// is unstructured, i.e. a custom resource — callers that refuse SMP for those use it).
pub const ERR_UNSUPPORTED_STRATEGIC_MERGE_PATCH_FORMAT: &str = "strategic merge patch format is not supported";

const DIRECTIVE: &str = "$patch";
const DELETE: &str = "delete";
const REPLACE: &str = "replace";
const MERGE: &str = "merge";
const RETAIN_KEYS_STRATEGY: &str = "retainKeys";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";

/// Applies a strategic merge patch to `original` (an object) and returns the patched object.
///
/// `root` is the shape of the object's type in `schema` (e.g.
/// `Shape::Named("io.k8s.api.core.v1.Pod".into())`). A patch that is `null` leaves the object
/// as it is; a patch that is not an object is refused as upstream's JSON decoding refuses it.
///
/// Like upstream, the result may hold what the apiserver later drops or rejects when decoding
/// it into the typed object: `null`s and directive keys inside list items appended from the
/// patch, and inside values replaced verbatim (`$patch: replace`, non-merging lists).
pub fn apply(original: &Value, patch: &Value, schema: &SchemaSet, root: &Shape) -> Result<Value, SmpError> {
    let Value::Object(original) = original else {
        return Err(SmpError::BadRequest(ERR_BAD_JSON_DOC.into()));
    };
    let patch = match patch {
        Value::Object(p) => p.clone(),
        Value::Null => return Ok(Value::Object(original.clone())),
        other => {
            let kind = match other {
                Value::Array(_) => "array",
                Value::String(_) => "string",
                Value::Number(_) => "number",
                _ => "bool",
            };
            return Err(SmpError::BadRequest(format!(
                "json: cannot unmarshal {kind} into Go value of type {MAP_TYPE}"
            )));
        }
    };
    let ctx = Ctx { set: schema };
    ctx.merge_map(original.clone(), patch, root).map(Value::Object)
}

// ---------------------------------------------------------------------------------------------
// error texts

fn plain(msg: impl Into<String>) -> SmpError {
    SmpError::Internal(msg.into())
}

fn no_merge_key(m: &JMap, key: &str) -> SmpError {
    plain(format!("map: {} does not contain declared merge key: {key}", sprint_map(m)))
}

fn bad_arg_type(expected: &str, actual: &Value) -> SmpError {
    plain(format!("expected a {expected}, but received a {}", golike::type_name(actual)))
}

fn bad_patch_type(directive: &Value, m: &JMap) -> SmpError {
    plain(format!("unknown patch type: {} in map: {}", golike::sprint_s(directive), sprint_map(m)))
}

fn is_str(v: Option<&Value>, s: &str) -> bool {
    matches!(v, Some(Value::String(x)) if x == s)
}

/// The key after `prefix/`; anything else is a malformed directive key.
fn extract_key(key: &str, prefix: &str) -> Result<String, SmpError> {
    match key.split_once('/') {
        Some((head, rest)) if head == prefix => Ok(rest.to_string()),
        _ => Err(match prefix {
            DELETE_FROM_PRIMITIVE_LIST => SmpError::BadRequest(ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST.into()),
            _ => SmpError::BadRequest(ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER_LIST.into()),
        }),
    }
}

/// The strategy other than `retainKeys` (at most two strategies are accepted).
fn other_strategy(strategies: &[String]) -> Result<&str, SmpError> {
    match strategies {
        [] => Ok(""),
        [one] => Ok(if one == RETAIN_KEYS_STRATEGY { "" } else { one }),
        [a, b] if a == RETAIN_KEYS_STRATEGY => Ok(b),
        [a, b] if b == RETAIN_KEYS_STRATEGY => Ok(a),
        _ => Err(plain(format!("unexpected patch strategy: {}", golike::sprint_strings(strategies)))),
    }
}

// ---------------------------------------------------------------------------------------------
// value helpers

/// Drops `null`-valued keys from every map inside `v` (list items that are `null` stay).
fn discard_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            for x in m.values_mut() {
                discard_nulls(x);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(discard_nulls),
        _ => {}
    }
}

/// Removes every map that carries `$patch` (as a value or a list item); `None` when `v` itself
/// is such a map. Other directive keys stay.
fn remove_directives(v: Value) -> Option<Value> {
    match v {
        Value::Object(m) => {
            if m.contains_key(DIRECTIVE) {
                return None;
            }
            let mut out = JMap::new();
            for (k, x) in m {
                if let Some(x) = remove_directives(x) {
                    out.insert(k, x);
                }
            }
            Some(Value::Object(out))
        }
        Value::Array(items) => Some(Value::Array(items.into_iter().filter_map(remove_directives).collect())),
        other => Some(other),
    }
}

fn remove_directives_list(items: Vec<Value>) -> Vec<Value> {
    items.into_iter().filter_map(remove_directives).collect()
}

fn contains_directive(v: &Value) -> bool {
    v.as_object().is_some_and(|m| m.contains_key(DIRECTIVE))
}

/// The common element type of the lists (never a list itself).
fn slice_element_type(lists: &[&[Value]]) -> Result<GoType, SmpError> {
    let mut prev: Option<GoType> = None;
    for list in lists {
        for v in list.iter() {
            let t = go_type(v);
            match prev {
                None => {
                    if t == GoType::Nil {
                        return Err(golike::panic("invalid memory address or nil pointer dereference"));
                    }
                    if t == GoType::Slice {
                        return Err(SmpError::Invalid(ERR_NO_LIST_OF_LISTS.into()));
                    }
                    prev = Some(t);
                }
                Some(p) if p != t => {
                    let all: Vec<Value> = lists.iter().map(|l| Value::Array(l.to_vec())).collect();
                    return Err(plain(format!(
                        "list element types are not identical: {}",
                        sprint_v(&Value::Array(all))
                    )));
                }
                Some(_) => {}
            }
        }
    }
    prev.ok_or_else(|| plain("no elements in any of the given slices"))
}

/// Index of the first item whose merge-key value (maps) or value (scalars) equals `v`'s.
fn index_of(list: &[Value], v: &Value, key: &str, kind: GoType) -> Result<Option<usize>, SmpError> {
    let probe = |x: &Value| -> Value {
        if kind == GoType::Map {
            x.as_object().and_then(|m| m.get(key)).cloned().unwrap_or(Value::Null)
        } else {
            x.clone()
        }
    };
    let want = probe(v);
    for (i, x) in list.iter().enumerate() {
        if go_eq(&want, &probe(x))? {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// First map in `list` whose `key` equals `value`; a non-map item before it is an error.
fn find_map(list: &[Value], key: &str, value: &Value) -> Result<Option<usize>, SmpError> {
    for (i, item) in list.iter().enumerate() {
        let Some(m) = item.as_object() else {
            return Err(plain(format!("value for key {i} is not a map")));
        };
        if let Some(x) = m.get(key)
            && go_eq(x, value)?
        {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

fn validate_merge_key_in_lists(key: &str, lists: &[&[Value]]) -> Result<(), SmpError> {
    for list in lists {
        for item in list.iter() {
            let Some(m) = item.as_object() else {
                return Err(bad_arg_type(MAP_TYPE, item));
            };
            if !m.contains_key(key) {
                return Err(no_merge_key(m, key));
            }
        }
    }
    Ok(())
}

/// Splits a list of maps into the items without and with `$patch: delete`.
fn split_delete_items(list: Vec<Value>) -> Result<(Vec<Value>, Vec<Value>), SmpError> {
    let (mut keep, mut delete) = (Vec::new(), Vec::new());
    for v in list {
        let Some(m) = v.as_object() else {
            return Err(bad_arg_type(MAP_TYPE, &v));
        };
        if is_str(m.get(DIRECTIVE), DELETE) {
            delete.push(v);
        } else {
            keep.push(v);
        }
    }
    Ok((keep, delete))
}

fn merge_key_value_equal(left: &Value, right: &Value, key: &str) -> Result<bool, SmpError> {
    if key.is_empty() {
        return go_eq(left, right);
    }
    let Some(l) = left.as_object() else {
        return Err(bad_arg_type(MAP_TYPE, left));
    };
    let Some(r) = right.as_object() else {
        return Err(bad_arg_type(MAP_TYPE, right));
    };
    let Some(lv) = l.get(key) else {
        return Err(no_merge_key(l, key));
    };
    let Some(rv) = r.get(key) else {
        return Err(no_merge_key(r, key));
    };
    go_eq(lv, rv)
}

/// The patch list (deletions and directive items aside) must be a subsequence of the
/// `$setElementOrder` list.
fn validate_patch_with_order(patch: &[Value], order: &[Value], key: &str) -> Result<(), SmpError> {
    if order.is_empty() || patch.is_empty() {
        return Ok(());
    }
    let non_delete = if key.is_empty() { patch.to_vec() } else { split_delete_items(patch.to_vec())?.0 };
    let (mut pi, mut oi) = (0, 0);
    while pi < non_delete.len() && oi < order.len() {
        if contains_directive(&non_delete[pi]) {
            pi += 1;
            continue;
        }
        if merge_key_value_equal(&non_delete[pi], &order[oi], key)? {
            pi += 1;
        }
        oi += 1;
    }
    if pi < non_delete.len() && oi >= order.len() {
        return Err(plain(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER} list:\n{}\n",
            sprint_v(&Value::Array(patch.to_vec())),
            sprint_v(&Value::Array(order.to_vec()))
        )));
    }
    Ok(())
}

/// Stable-sorts `to_sort` by position in `order`; items carrying `$patch: delete` go last.
fn normalize_slice_order(to_sort: Vec<Value>, order: &[Value], key: &str, kind: GoType) -> Result<Vec<Value>, SmpError> {
    let (keep, delete) = if kind == GoType::Map {
        validate_merge_key_in_lists(key, &[&to_sort, order])?;
        split_delete_items(to_sort)?
    } else {
        (to_sort, Vec::new())
    };
    let mut tagged = Vec::with_capacity(keep.len());
    let several = keep.len() > 1;
    for v in keep {
        // positions are only looked up when there is something to compare
        let pos = if several { index_of(order, &v, key, kind)? } else { None };
        tagged.push((pos, v));
    }
    golike::go_stable_sort(&mut tagged, &|a, b| match (a.0, b.0) {
        (Some(i), Some(j)) => i < j,
        _ => true,
    });
    let mut out: Vec<Value> = tagged.into_iter().map(|(_, v)| v).collect();
    out.extend(delete);
    Ok(out)
}

/// Interleaves the sorted server-only items (`left`) into the sorted patch items (`right`):
/// a server-only item comes first only when both are found in the live order and it precedes.
fn merge_sorted(left: Vec<Value>, right: Vec<Value>, server_order: &[Value], key: &str, kind: GoType) -> Result<Vec<Value>, SmpError> {
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        match (left.peek(), right.peek()) {
            (None, None) => break,
            (None, Some(_)) => out.extend(right.next()),
            (Some(_), None) => out.extend(left.next()),
            (Some(l), Some(r)) => {
                let li = index_of(server_order, l, key, kind)?;
                let ri = index_of(server_order, r, key, kind)?;
                let take_left = matches!((li, ri), (Some(a), Some(b)) if a < b);
                if take_left {
                    out.extend(left.next());
                } else {
                    out.extend(right.next());
                }
            }
        }
    }
    Ok(out)
}

fn normalize_element_order(
    patch_items: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: &str,
    kind: GoType,
) -> Result<Vec<Value>, SmpError> {
    let patch_items = normalize_slice_order(patch_items, patch_order, key, kind)?;
    let server_only = normalize_slice_order(server_only, server_order, key, kind)?;
    merge_sorted(server_only, patch_items, server_order, key, kind)
}

/// Splits scalars into those present in `by` and the rest (Go map membership).
fn partition_scalars(merged: Vec<Value>, by: &[Value]) -> Result<(Vec<Value>, Vec<Value>), SmpError> {
    for v in by {
        golike::check_hashable(v)?;
    }
    let (mut present, mut rest) = (Vec::new(), Vec::new());
    for v in merged {
        golike::check_hashable(&v)?;
        let mut found = false;
        for b in by {
            if go_eq(&v, b)? {
                found = true;
                break;
            }
        }
        if found { present.push(v) } else { rest.push(v) }
    }
    Ok((present, rest))
}

/// Splits maps into those whose merge key is present in `by` and the rest.
fn partition_maps(merged: Vec<Value>, by: &[Value], key: &str) -> Result<(Vec<Value>, Vec<Value>), SmpError> {
    let (mut present, mut rest) = (Vec::new(), Vec::new());
    for v in merged {
        let Some(m) = v.as_object() else {
            return Err(bad_arg_type(MAP_TYPE, &v));
        };
        let Some(kv) = m.get(key) else {
            return Err(no_merge_key(m, key));
        };
        if find_map(by, key, kv)?.is_some() {
            present.push(v);
        } else {
            rest.push(v);
        }
    }
    Ok((present, rest))
}

/// Removes duplicate scalars the way upstream does (a duplicate is overwritten by the last item).
fn dedupe_scalars(mut s: Vec<Value>) -> Result<Vec<Value>, SmpError> {
    let mut last = s.len() as isize - 1;
    let mut i = 0isize;
    while i < last {
        let mut j = i + 1;
        while j <= last {
            if go_eq(&s[i as usize], &s[j as usize])? {
                s[j as usize] = s[last as usize].clone();
                s.truncate(last as usize);
                last -= 1;
            } else {
                j += 1;
            }
        }
        i += 1;
    }
    Ok(s)
}

fn delete_from_slice(current: Vec<Value>, to_delete: &[Value]) -> Result<Vec<Value>, SmpError> {
    for d in to_delete {
        golike::check_hashable(d)?;
    }
    let mut out = Vec::with_capacity(current.len());
    for v in current {
        golike::check_hashable(&v)?;
        let mut hit = false;
        for d in to_delete {
            if go_eq(&v, d)? {
                hit = true;
                break;
            }
        }
        if !hit {
            out.push(v);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// schema lookups

/// A field's patch metadata.
#[derive(Clone, Copy)]
struct Meta<'a> {
    strategies: &'a [String],
    merge_key: &'a str,
}

const NO_META: Meta<'static> = Meta { strategies: &[], merge_key: "" };
static UNTYPED: Shape = Shape::Untyped;

struct Ctx<'a> {
    set: &'a SchemaSet,
}

/// The Go kind name upstream prints for a list's element type.
fn kind_name(shape: &Shape) -> &'static str {
    match shape {
        Shape::Named(_) | Shape::Untyped => "struct",
        Shape::Map { .. } => "map",
        Shape::List { .. } => "slice",
        Shape::Scalar => "string",
    }
}

fn go_type_name(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

impl<'a> Ctx<'a> {
    /// The shape and patch metadata of field `key` of the struct `shape` (upstream's
    /// `LookupPatchMetadataForStruct` on the Go type).
    fn lookup_struct(&self, shape: &'a Shape, key: &str) -> Result<(&'a Shape, Meta<'a>), SmpError> {
        match shape {
            Shape::Named(name) => {
                let field = self.set.get(name).and_then(|st| {
                    st.fields.get(key).or_else(|| st.fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(key)).map(|(_, f)| f))
                });
                match field {
                    Some(f) => Ok((
                        &f.shape,
                        Meta { strategies: &f.patch_strategies, merge_key: f.patch_merge_key.as_deref().unwrap_or("") },
                    )),
                    None => Err(plain(format!(
                        "unable to find api field in struct {} for the json field {}",
                        go_type_name(name),
                        golike::quote(key)
                    ))),
                }
            }
            // no type information: maps merge, lists are replaced
            Shape::Untyped => Ok((&UNTYPED, NO_META)),
            Shape::Map { .. } => Err(plain("merging an object in json but data type is not struct, instead is: map")),
            Shape::List { .. } => Err(plain("merging an object in json but data type is not struct, instead is: slice")),
            Shape::Scalar => Err(plain("merging an object in json but data type is not struct, instead is: string")),
        }
    }

    /// The item shape and patch metadata of list field `key` (upstream's
    /// `LookupPatchMetadataForSlice`).
    fn lookup_slice(&self, shape: &'a Shape, key: &str) -> Result<(&'a Shape, Meta<'a>), SmpError> {
        let (field, meta) = self.lookup_struct(shape, key)?;
        match field {
            Shape::List { items, .. } => Ok((items, meta)),
            Shape::Map { .. } => Err(plain("expected slice or array type, but got: struct")),
            // a Go pointer field (or untyped data): the pointee stands for the items
            other => Ok((other, meta)),
        }
    }

    // -----------------------------------------------------------------------------------------
    // merging

    fn merge_map(&self, mut original: JMap, mut patch: JMap, shape: &'a Shape) -> Result<JMap, SmpError> {
        if let Some(directive) = patch.get(DIRECTIVE) {
            if is_str(Some(directive), REPLACE) {
                patch.remove(DIRECTIVE);
                return Ok(patch);
            }
            if is_str(Some(directive), DELETE) {
                return Ok(JMap::new());
            }
            return Err(bad_patch_type(directive, &patch));
        }

        apply_retain_keys(&mut original, &mut patch)?;
        self.merge_ordered_lists(&mut original, &mut patch, shape)?;

        // Upstream visits the keys in Go's random map order; the only order that changes a
        // result is a list and its deletion list, so deletion lists go last (as they do
        // whenever the list comes with a $setElementOrder).
        type Entries = Vec<(String, Value)>;
        let (deletions, fields): (Entries, Entries) =
            patch.into_iter().partition(|(k, _)| k.starts_with(DELETE_FROM_PRIMITIVE_LIST));
        for (key, value) in fields.into_iter().chain(deletions) {
            self.merge_field(&mut original, key, value, shape)?;
        }
        Ok(original)
    }

    fn merge_field(&self, original: &mut JMap, key: String, patch_value: Value, shape: &'a Shape) -> Result<(), SmpError> {
        let mut key = key;
        let mut is_delete_list = false;
        if key.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
            let field = extract_key(&key, DELETE_FROM_PRIMITIVE_LIST)?;
            is_delete_list = true;
            if !field.is_empty() {
                key = field;
            }
        }

        if patch_value.is_null() {
            original.remove(&key);
            return Ok(());
        }

        let same_type = original.get(&key).map(|o| go_type(o) == go_type(&patch_value));
        match same_type {
            // absent, or present with another type: take the patch's value
            None | Some(false) => {
                if !is_delete_list {
                    let mut v = patch_value;
                    discard_nulls(&mut v);
                    match remove_directives(v) {
                        Some(v) => {
                            original.insert(key, v);
                        }
                        None => {
                            original.remove(&key);
                        }
                    }
                }
                Ok(())
            }
            Some(true) => {
                match patch_value {
                    Value::Object(p) => {
                        let (sub, meta) = self.lookup_struct(shape, &key)?;
                        let strategy = other_strategy(meta.strategies)?;
                        let Some(slot) = original.get_mut(&key) else { unreachable!() };
                        let Value::Object(o) = std::mem::take(slot) else { unreachable!() };
                        *slot = Value::Object(if strategy != REPLACE { self.merge_map(o, p, sub)? } else { p });
                    }
                    Value::Array(p) => {
                        let (sub, meta) = self.lookup_slice(shape, &key)?;
                        let strategy = other_strategy(meta.strategies)?;
                        let Some(slot) = original.get_mut(&key) else { unreachable!() };
                        let Value::Array(o) = std::mem::take(slot) else { unreachable!() };
                        *slot = Value::Array(self.merge_list_field(o, p, sub, strategy, meta.merge_key, is_delete_list)?.0);
                    }
                    scalar => {
                        original.insert(key, scalar);
                    }
                }
                Ok(())
            }
        }
    }

    /// Processes every `$setElementOrder/<field>` of the patch together with the field's patch
    /// list, and removes both from the patch.
    fn merge_ordered_lists(&self, original: &mut JMap, patch: &mut JMap, shape: &'a Shape) -> Result<(), SmpError> {
        let keys: Vec<String> = patch.keys().filter(|k| k.starts_with(SET_ELEMENT_ORDER)).cloned().collect();
        for directive_key in keys {
            let Some(order) = patch.remove(&directive_key) else { continue };
            let Value::Array(order) = order else {
                return Err(bad_arg_type(SLICE_TYPE, &order));
            };
            let field = extract_key(&directive_key, SET_ELEMENT_ORDER)?;
            let original_list = match original.get(&field) {
                None => None,
                Some(Value::Array(l)) => Some(l.clone()),
                Some(other) => return Err(bad_arg_type(SLICE_TYPE, other)),
            };
            let patch_list = match patch.get(&field) {
                None => None,
                Some(Value::Array(l)) => Some(l.clone()),
                Some(other) => return Err(bad_arg_type(SLICE_TYPE, other)),
            };
            let (sub, meta) = self.lookup_slice(shape, &field)?;
            let strategy = other_strategy(meta.strategies)?;
            let key = meta.merge_key;
            let patch_items: &[Value] = patch_list.as_deref().unwrap_or(&[]);
            validate_patch_with_order(patch_items, &order, key)?;

            // `live` is what upstream's view of the live list holds afterwards: merging may
            // have shifted items of its backing array in place (deleted items).
            let (merged, live) = match (original_list, patch_list.clone()) {
                (Some(o), None) => (o.clone(), o),
                (None, Some(p)) => (remove_directives_list(p), Vec::new()),
                (Some(o), Some(p)) => self.merge_list_field(o, p, sub, strategy, key, false)?,
                (None, None) => continue,
            };

            let (in_order, server_only) = if key.is_empty() {
                partition_scalars(merged, &order)?
            } else {
                partition_maps(merged, &order, key)?
            };
            let kind = slice_element_type(&[&live, patch_items])?;
            let sorted = normalize_element_order(in_order, server_only, &order, &live, key, kind)?;
            original.insert(field.clone(), Value::Array(sorted));
            patch.remove(&field);
        }
        Ok(())
    }

    /// Merges a list field per its strategy; also returns upstream's view of the live list after
    /// the merge (see [`Ctx::merge_ordered_lists`]).
    fn merge_list_field(
        &self,
        original: Vec<Value>,
        patch: Vec<Value>,
        item_shape: &'a Shape,
        strategy: &str,
        key: &str,
        is_delete_list: bool,
    ) -> Result<(Vec<Value>, Vec<Value>), SmpError> {
        if strategy == MERGE || is_delete_list {
            self.merge_list(original, patch, item_shape, key, is_delete_list)
        } else {
            Ok((patch, original))
        }
    }

    fn merge_list(
        &self,
        original: Vec<Value>,
        patch: Vec<Value>,
        item_shape: &'a Shape,
        key: &str,
        is_delete_list: bool,
    ) -> Result<(Vec<Value>, Vec<Value>), SmpError> {
        if original.is_empty() && patch.is_empty() {
            return Ok((original.clone(), original));
        }
        let kind = slice_element_type(&[&original, &patch])?;

        if kind != GoType::Map {
            if is_delete_list {
                let kept = delete_from_slice(original.clone(), &patch)?;
                return Ok((kept, original));
            }
            let mut both = original.clone();
            both.extend(patch.iter().cloned());
            let merged = dedupe_scalars(both)?;
            let (in_patch, server_only) = if key.is_empty() {
                partition_scalars(merged, &patch)?
            } else {
                partition_maps(merged, &patch, key)?
            };
            let sorted = normalize_element_order(in_patch, server_only, &patch, &original, key, kind)?;
            return Ok((sorted, original));
        }

        if key.is_empty() {
            return Err(plain(format!("cannot merge lists without merge key for {}", kind_name(item_shape))));
        }

        let special = apply_special_items(original, patch, key)?;
        let merged = self.merge_items(special.list.clone(), &special.patch, key, item_shape)?;
        let (in_patch, server_only) = partition_maps(merged.clone(), &special.patch, key)?;
        let sorted = normalize_element_order(in_patch, server_only, &special.patch, &special.list, key, kind)?;

        let mut live = special.backing;
        if !special.replaced {
            // the merge wrote merged and appended items into the live backing array
            for (slot, v) in live.iter_mut().zip(merged) {
                *slot = v;
            }
        }
        Ok((sorted, live))
    }

    /// Merges each patch item into the item with the same merge key, or appends it as is.
    fn merge_items(&self, mut list: Vec<Value>, patch: &[Value], key: &str, item_shape: &'a Shape) -> Result<Vec<Value>, SmpError> {
        for item in patch {
            let Some(m) = item.as_object() else { return Err(bad_arg_type(MAP_TYPE, item)) };
            let Some(kv) = m.get(key) else {
                return Err(no_merge_key(m, key));
            };
            match find_map(&list, key, kv)? {
                Some(i) => {
                    let Value::Object(o) = std::mem::take(&mut list[i]) else { unreachable!() };
                    list[i] = Value::Object(self.merge_map(o, m.clone(), item_shape)?);
                }
                None => list.push(item.clone()),
            }
        }
        Ok(list)
    }
}

/// A list of maps after the patch's `$patch` items were applied.
struct SpecialItems {
    /// The list to merge into (the live items left, or the replacement list).
    list: Vec<Value>,
    /// The patch items without `$patch`.
    patch: Vec<Value>,
    /// Whether a `$patch: replace` item was present.
    replaced: bool,
    /// The live list's backing array after deletions shifted items down (its length unchanged).
    backing: Vec<Value>,
}

fn apply_special_items(original: Vec<Value>, patch: Vec<Value>, key: &str) -> Result<SpecialItems, SmpError> {
    let mut backing = original;
    let mut len = backing.len();
    let mut plain_items = Vec::new();
    let mut replaced = false;
    for item in patch {
        let Some(m) = item.as_object() else { return Err(bad_arg_type(MAP_TYPE, &item)) };
        let Some(directive) = m.get(DIRECTIVE) else {
            plain_items.push(item);
            continue;
        };
        if is_str(Some(directive), DELETE) {
            let Some(kv) = m.get(key) else {
                return Err(no_merge_key(m, key));
            };
            while let Some(i) = find_map(&backing[..len], key, kv)? {
                // remove item i by shifting the rest down, as an in-place slice append does
                for j in i..len - 1 {
                    backing[j] = backing[j + 1].clone();
                }
                len -= 1;
            }
        } else if is_str(Some(directive), REPLACE) {
            replaced = true;
        } else if is_str(Some(directive), MERGE) {
            return Err(plain("merging lists cannot yet be specified in the patch"));
        } else {
            return Err(bad_patch_type(directive, m));
        }
    }
    Ok(if replaced {
        SpecialItems { list: plain_items, patch: Vec::new(), replaced, backing }
    } else {
        SpecialItems { list: backing[..len].to_vec(), patch: plain_items, replaced, backing }
    })
}

/// Applies a `$retainKeys` directive: validates that every non-null patch key is listed and
/// drops the original's keys that are not.
fn apply_retain_keys(original: &mut JMap, patch: &mut JMap) -> Result<(), SmpError> {
    let Some(retain) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err(SmpError::BadRequest(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS.into()));
    };
    for v in &retain {
        golike::check_hashable(v)?;
    }
    let listed = |k: &str| retain.iter().any(|v| v.as_str() == Some(k));
    for (k, v) in patch.iter() {
        if v.is_null() || k.starts_with(DELETE_FROM_PRIMITIVE_LIST) || k.starts_with(SET_ELEMENT_ORDER) {
            continue;
        }
        if !listed(k) {
            return Err(SmpError::BadRequest(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS.into()));
        }
    }
    original.retain(|k, _| listed(k));
    Ok(())
}
