//! Managed fields: who owns which fields of an object, as recorded in `metadata.managedFields`,
//! and server-side apply.
//!
//! This reproduces the Kubernetes 1.32 field manager (`k8s.io/apimachinery/pkg/util/managedfields`
//! on top of `sigs.k8s.io/structured-merge-diff/v4`) as clients observe it:
//!
//! * [`update`] computes the managedFields of an Update-operation write (create, update, and
//!   non-apply patches): the writer gains the fields it changed or added, other managers lose
//!   them, fields removed from the object are removed from everyone.
//! * [`apply`] performs server-side apply: merges the applied configuration into the live object
//!   according to the schema, reports conflicts with other managers (HTTP 409) unless forced,
//!   removes fields the applier stopped applying that nobody else owns, and records the
//!   applier's field set.
//!
//! Field sets are schema-aware ([`field_set`]): struct fields and map keys are separate fields
//! unless the type is atomic, list-map items are identified by their key fields, set items by
//! value, atomic lists and untyped lists are single leaves.
//!
//! Everything here is pure: no I/O, the current time is an input.

mod fieldpath;
mod gojson;
mod managed;
mod typed;
mod updater;

#[cfg(test)]
mod tests;

use serde_json::{Map, Value, json};

// The schema module of the apimachinery crate (`crate::schema` once this module lives there).
use crate::schema;
pub use schema::{SchemaSet, Shape};
pub use fieldpath::{FieldSet, Path, PathElement, value_cmp, value_eq};

use managed::{Managed, ManagerInfo};
use typed::Ty;

/// The annotation client-side `kubectl apply` keeps its last configuration in.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Fields the field manager never records for the writing manager.
const STRIPPED: &[&[&str]] = &[
    &["apiVersion"],
    &["kind"],
    &["metadata"],
    &["metadata", "name"],
    &["metadata", "namespace"],
    &["metadata", "creationTimestamp"],
    &["metadata", "selfLink"],
    &["metadata", "uid"],
    &["metadata", "clusterName"],
    &["metadata", "generation"],
    &["metadata", "managedFields"],
    &["metadata", "resourceVersion"],
];

const CURRENT_OPERATION: &str = "current-operation";

/// The writer of a request and what it writes to.
#[derive(Clone, Copy, Debug)]
pub struct Manager<'a> {
    /// The field manager name (`fieldManager`, or the user agent's prefix); empty means
    /// `unknown`.
    pub name: &'a str,
    /// The subresource written (`""`, `status`, `scale`, …).
    pub subresource: &'a str,
    /// The API version of the endpoint (`apps/v1`, `v1`).
    pub api_version: &'a str,
    /// The kind served by the endpoint; when not empty, an applied configuration of another
    /// `apiVersion`/`kind` is rejected as upstream's version check does.
    pub kind: &'a str,
    /// The current time, RFC 3339.
    pub time: &'a str,
    /// Fields the resource's strategy resets for this endpoint (upstream's `GetResetFields`),
    /// as dotted field paths: e.g. `["status"]` for the main resource of a deployment,
    /// `["spec", "metadata.labels"]` for a status subresource. Nobody gains ownership of them.
    pub reset_fields: &'a [&'a str],
}

impl<'a> Manager<'a> {
    /// A manager writing the main resource, with no kind check and no reset fields.
    pub fn new(name: &'a str, api_version: &'a str, time: &'a str) -> Manager<'a> {
        Manager { name, subresource: "", api_version, kind: "", time, reset_fields: &[] }
    }

    fn display_name(&self) -> &'a str {
        if self.name.is_empty() { "unknown" } else { self.name }
    }

    fn info(&self, name: &str, operation: &str) -> ManagerInfo {
        ManagerInfo {
            manager: name.to_string(),
            operation: operation.to_string(),
            api_version: self.api_version.to_string(),
            subresource: self.subresource.to_string(),
        }
    }

    fn reset_set(&self) -> FieldSet {
        FieldSet::from_paths(self.reset_fields.iter().map(|p| Path::fields(&p.split('.').collect::<Vec<_>>())))
    }

    fn now(&self) -> String {
        managed::normalize_time(self.time).unwrap_or_else(|| self.time.to_string())
    }
}

/// A field another manager owns and an apply would change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The other manager's name.
    pub manager: String,
    /// Its operation (`Apply` or `Update`).
    pub operation: String,
    /// Its subresource, if any.
    pub subresource: String,
    /// The API version of its entry (empty for appliers: their identity has none).
    pub api_version: String,
    /// The field, in upstream's path form (`.spec.containers[name="nginx"].image`).
    pub path: String,
}

impl Conflict {
    /// The manager as upstream prints it: `"name"`, `"name" with subresource "status"`, and
    /// ` using apps/v1` for Update managers.
    pub fn describe(&self) -> String {
        let mut s = gojson::quote(&self.manager);
        if !self.subresource.is_empty() {
            s = format!("{s} with subresource {}", gojson::quote(&self.subresource));
        }
        if self.operation == "Update" {
            s = format!("{s} using {}", self.api_version);
        }
        s
    }
}

/// Why a write failed.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// Fields owned by other managers would change (HTTP 409, reason Conflict).
    Conflicts(Vec<Conflict>),
    /// The request is malformed (HTTP 400, reason BadRequest).
    BadRequest(String),
    /// The object does not fit the schema (upstream answers HTTP 500 with this message; reason
    /// empty).
    Invalid(String),
}

impl Error {
    /// Upstream's message.
    pub fn message(&self) -> String {
        match self {
            Error::BadRequest(m) | Error::Invalid(m) => m.clone(),
            Error::Conflicts(cs) => {
                if cs.len() == 1 {
                    return format!("Apply failed with 1 conflict: conflict with {}: {}", cs[0].describe(), cs[0].path);
                }
                let mut by_manager: Vec<(String, String, Vec<&str>)> = Vec::new();
                for c in cs {
                    let key = ManagerInfo {
                        manager: c.manager.clone(),
                        operation: c.operation.clone(),
                        api_version: c.api_version.clone(),
                        subresource: c.subresource.clone(),
                    }
                    .identifier();
                    match by_manager.iter_mut().find(|(k, _, _)| *k == key) {
                        Some((_, _, paths)) => paths.push(&c.path),
                        None => by_manager.push((key, c.describe(), vec![&c.path])),
                    }
                }
                by_manager.sort_by(|a, b| a.0.cmp(&b.0));
                let mut lines = Vec::new();
                for (_, who, paths) in by_manager {
                    lines.push(format!("conflicts with {who}:"));
                    lines.extend(paths.into_iter().map(|p| format!("- {p}")));
                }
                format!("Apply failed with {} conflicts: {}", cs.len(), lines.join("\n"))
            }
        }
    }

    /// The HTTP status code upstream answers with.
    pub fn code(&self) -> u16 {
        match self {
            Error::Conflicts(_) => 409,
            Error::BadRequest(_) => 400,
            Error::Invalid(_) => 500,
        }
    }

    /// The `metav1.Status` upstream answers with.
    pub fn status(&self) -> Value {
        let mut s = json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message(), "code": self.code(),
        });
        match self {
            Error::Conflicts(cs) => {
                s["reason"] = json!("Conflict");
                s["details"] = json!({"causes": cs.iter().map(|c| json!({
                    "reason": "FieldManagerConflict",
                    "message": format!("conflict with {}", c.describe()),
                    "field": c.path,
                })).collect::<Vec<_>>()});
            }
            Error::BadRequest(_) => s["reason"] = json!("BadRequest"),
            Error::Invalid(_) => {}
        }
        s
    }
}

impl From<Error> for crate::ApiError {
    fn from(e: Error) -> crate::ApiError {
        use crate::status::{Cause, Details, Reason};
        let reason = match &e {
            Error::Conflicts(_) => Reason::Conflict,
            Error::BadRequest(_) => Reason::BadRequest,
            Error::Invalid(_) => Reason::Unknown,
        };
        let details = match &e {
            Error::Conflicts(cs) => Some(Box::new(Details {
                causes: cs
                    .iter()
                    .map(|c| Cause { reason: "FieldManagerConflict".into(), message: format!("conflict with {}", c.describe()), field: c.path.clone() })
                    .collect(),
                ..Default::default()
            })),
            _ => None,
        };
        crate::ApiError { code: e.code(), reason, message: e.message(), details }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {}

/// The fields `obj` sets under the schema (as an applier of `obj` would own them, before the
/// metadata fields the field manager never records are dropped).
pub fn field_set(obj: &Value, schema: &SchemaSet, root: &Shape) -> FieldSet {
    typed::to_field_set(obj, Ty::root(schema, root))
}

fn managed_fields_of(obj: Option<&Value>) -> Option<&Value> {
    obj?.get("metadata")?.get("managedFields")
}

fn without_managed_fields(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    o
}

fn has_uid(obj: Option<&Value>) -> bool {
    obj.and_then(|o| o.get("metadata")).and_then(|m| m.get("uid")).and_then(Value::as_str).is_some_and(|u| !u.is_empty())
}

fn strip_set() -> FieldSet {
    FieldSet::from_paths(STRIPPED.iter().map(|p| Path::fields(p)))
}

/// Drops the fields never recorded from `manager`'s set (and the manager, if nothing is left).
fn strip_meta(m: &mut Managed, manager: &str) {
    if let Some(vs) = m.fields.get_mut(manager) {
        vs.set = vs.set.difference(&strip_set());
        if vs.set.is_empty() {
            m.fields.remove(manager);
        }
    }
}

struct Ctx<'a> {
    ty: Ty<'a>,
    reset: FieldSet,
    version: &'a str,
    now: String,
}

/// An Update-operation write by `manager_id` (upstream's managedFieldsUpdater → stripMeta →
/// structured merge chain).
fn record_update(live: &Value, new: &Value, m: &mut Managed, manager_id: &str, ctx: &Ctx<'_>) {
    updater::update(live, new, ctx.version, &mut m.fields, CURRENT_OPERATION, ctx.ty, &ctx.reset);
    strip_meta(m, CURRENT_OPERATION);
    if let Some(vs) = m.fields.remove(CURRENT_OPERATION) {
        let set = match m.fields.get(manager_id) {
            Some(prev) => vs.set.union(&prev.set),
            None => vs.set,
        };
        m.fields.insert(manager_id.to_string(), managed::Versioned { set, api_version: vs.api_version, applied: vs.applied });
        m.times.insert(manager_id.to_string(), ctx.now.clone());
    }
}

/// The managedFields of an object after an Update-operation write (create, update, or a JSON,
/// merge or strategic merge patch) by `manager`.
///
/// `old` is the stored object (`None` on create), `new` the object about to be stored; both may
/// carry `metadata.managedFields`. As upstream does, the request object's managedFields are used
/// when it has any (so clients can rewrite them, e.g. kubectl's client-side-apply to server-side
/// apply migration), `[]` (or `[{}]`) resets tracking, and otherwise the stored object's are used;
/// writes to a subresource always use the stored object's. An existing object without
/// managedFields stays untracked. Returns the entries to store (empty: none).
pub fn update(old: Option<&Value>, new: &Value, manager: &Manager, schema: &SchemaSet, root: &Shape) -> Result<Vec<Value>, Error> {
    let mut m = decode_live_or_new(old, new, !manager.subresource.is_empty());
    let ctx = Ctx { ty: Ty::root(schema, root), reset: manager.reset_set(), version: manager.api_version, now: manager.now() };
    if m.fields.is_empty() && has_uid(old) {
        return Ok(Vec::new());
    }
    let live = old.map(without_managed_fields).unwrap_or_else(|| Value::Object(Map::new()));
    let new = without_managed_fields(new);
    let id = manager.info(manager.display_name(), "Update").identifier();
    record_update(&live, &new, &mut m, &id, &ctx);
    managed::cap_update_managers(&mut m);
    Ok(managed::encode(&m))
}

fn decode_live_or_new(old: Option<&Value>, new: &Value, ignore_request: bool) -> Managed {
    let live = || managed_fields_of(old).and_then(Value::as_array).and_then(|a| managed::decode(a).ok()).unwrap_or_default();
    if ignore_request {
        return live();
    }
    let req = managed_fields_of(Some(new));
    if managed::is_reset(req) {
        return Managed::default();
    }
    match req.and_then(Value::as_array).map(|a| managed::decode(a)) {
        Some(Ok(m)) if !m.fields.is_empty() => m,
        _ => live(),
    }
}

fn gvk_string(api_version: &str, kind: &str) -> String {
    let (group, version) = match api_version.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    format!("{group}/{version}, Kind={kind}")
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> &'v str {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(x) => cur = x,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

fn object_gvknn(obj: &Value) -> String {
    format!(
        "{}/{}; {}",
        str_at(obj, &["metadata", "namespace"]),
        str_at(obj, &["metadata", "name"]),
        gvk_string(str_at(obj, &["apiVersion"]), str_at(obj, &["kind"]))
    )
}

fn conflicts_from(sets: updater::ConflictSets) -> Vec<Conflict> {
    let mut out = Vec::new();
    let mut sets = sets;
    sets.sort_by(|a, b| a.0.cmp(&b.0));
    for (id, set) in sets {
        let info = ManagerInfo::from_identifier(&id).unwrap_or(ManagerInfo { manager: id.clone(), ..Default::default() });
        for p in set.paths() {
            out.push(Conflict {
                manager: info.manager.clone(),
                operation: info.operation.clone(),
                subresource: info.subresource.clone(),
                api_version: info.api_version.clone(),
                path: p.to_string(),
            });
        }
    }
    out
}

/// Server-side apply of `applied` (an apply configuration: a partial object) by `manager`.
///
/// `live` is the stored object (`None`: the apply creates it). Returns the resulting object with
/// its `metadata.managedFields` set, or the conflicts (unless `force`, which takes ownership
/// instead). When the apply changes nothing the result is `live` with (possibly updated)
/// managedFields, and the applier's entry keeps its time. Defaulting and validation of the result
/// are the caller's. Null values are dropped from the result (upstream's conversion to typed
/// objects drops them).
pub fn apply(live: Option<&Value>, applied: &Value, manager: &Manager, force: bool, schema: &SchemaSet, root: &Shape) -> Result<Value, Error> {
    let ctx = Ctx { ty: Ty::root(schema, root), reset: manager.reset_set(), version: manager.api_version, now: manager.now() };
    let empty = Value::Object(Map::new());
    let live = live.unwrap_or(&empty);
    let managed = match managed_fields_of(Some(live)) {
        None | Some(Value::Null) => Managed::default(),
        Some(Value::Array(a)) => managed::decode(a).map_err(|e| Error::Invalid(format!("failed to decode managed fields: {e}")))?,
        Some(_) => return Err(Error::Invalid("failed to decode managed fields: managedFields must be a list".into())),
    };
    let patch_version = str_at(applied, &["apiVersion"]);
    if !manager.kind.is_empty() {
        let kind = str_at(applied, &["kind"]);
        if patch_version != manager.api_version || kind != manager.kind {
            return Err(Error::BadRequest(format!("invalid object type: {}", gvk_string(patch_version, kind))));
        }
    }
    if patch_version != manager.api_version {
        return Err(Error::BadRequest(format!(
            "Incorrect version specified in apply patch. Specified patch version: {patch_version}, expected: {}",
            manager.api_version
        )));
    }
    if applied.get("metadata").and_then(|m| m.get("managedFields")).is_some_and(|v| !v.is_null()) {
        return Err(Error::BadRequest("metadata.managedFields must be nil".into()));
    }
    typed::validate(applied, ctx.ty, false)
        .map_err(|e| Error::Invalid(format!("failed to create typed patch object ({}): {e}", object_gvknn(applied))))?;

    let mut result = match apply_once(live, applied, managed.clone(), manager, force, &ctx) {
        Err(conflicts) if manager.name == "kubectl" => {
            let all = conflicts_from(conflicts.clone());
            match allowed_conflicts(live, &ctx) {
                None => return Err(Error::Conflicts(all)),
                Some(allowed) => {
                    let remaining: updater::ConflictSets = conflicts
                        .into_iter()
                        .map(|(m, s)| (m, s.difference(&allowed)))
                        .filter(|(_, s)| !s.is_empty())
                        .collect();
                    if !remaining.is_empty() {
                        return Err(Error::Conflicts(conflicts_from(remaining)));
                    }
                    apply_once(live, applied, managed, manager, true, &ctx).map_err(|c| Error::Conflicts(conflicts_from(c)))?
                }
            }
        }
        Err(conflicts) => return Err(Error::Conflicts(conflicts_from(conflicts))),
        Ok(r) => r,
    };
    if manager.name == "kubectl" && !str_at(&result.0, &["metadata", "annotations", LAST_APPLIED_ANNOTATION]).is_empty() {
        set_last_applied(&mut result.0, applied);
    }
    let (mut obj, m) = result;
    strip_nulls(&mut obj);
    let entries = managed::encode(&m);
    if let Some(meta) = obj.as_object_mut().map(|o| o.entry("metadata").or_insert_with(|| Value::Object(Map::new())))
        && let Some(meta) = meta.as_object_mut()
    {
        if entries.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(entries));
        }
    }
    Ok(obj)
}

fn apply_once(
    live: &Value,
    applied: &Value,
    mut m: Managed,
    manager: &Manager,
    force: bool,
    ctx: &Ctx<'_>,
) -> Result<(Value, Managed), updater::ConflictSets> {
    let live_obj = without_managed_fields(live);
    if m.fields.is_empty() {
        // Fields set before the first apply belong to "before-first-apply".
        let id = manager.info("before-first-apply", "Update").identifier();
        record_update(&Value::Object(Map::new()), &live_obj, &mut m, &id, ctx);
        managed::cap_update_managers(&mut m);
    }
    let id = manager.info(manager.display_name(), "Apply").identifier();
    let r = updater::apply(&live_obj, applied, ctx.version, &mut m.fields, &id, force, ctx.ty, &ctx.reset)?;
    strip_meta(&mut m, &id);
    if r.noop {
        Ok((live.clone(), m))
    } else {
        m.times.insert(id, ctx.now.clone());
        Ok((r.object, m))
    }
}

/// Fields of the last client-side applied configuration that still hold their applied values:
/// conflicts on them are forced for `kubectl` (its server-side upgrade path).
fn allowed_conflicts(live: &Value, ctx: &Ctx<'_>) -> Option<FieldSet> {
    let text = str_at(live, &["metadata", "annotations", LAST_APPLIED_ANNOTATION]);
    if text.is_empty() {
        return None;
    }
    let last: Value = serde_json::from_str(text).ok()?;
    if !last.is_object() || str_at(&last, &["apiVersion"]) != ctx.version {
        return None;
    }
    typed::validate(&last, ctx.ty, false).ok()?;
    typed::validate(live, ctx.ty, false).ok()?;
    let set = typed::to_field_set(&last, ctx.ty);
    let cmp = typed::compare(&last, live, ctx.ty);
    Some(set.difference(&cmp.modified).difference(&cmp.added).difference(&cmp.removed))
}

const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// Keeps the client-side apply annotation in step with a server-side apply by `kubectl`.
fn set_last_applied(obj: &mut Value, applied: &Value) {
    let mut cfg = applied.clone();
    if let Some(a) = cfg.get_mut("metadata").and_then(|m| m.get_mut("annotations")).and_then(Value::as_object_mut) {
        a.remove(LAST_APPLIED_ANNOTATION);
    }
    let text = format!("{}\n", gojson::to_string(&cfg));
    let Some(annotations) = obj.get_mut("metadata").and_then(|m| m.get_mut("annotations")).and_then(Value::as_object_mut) else { return };
    annotations.insert(LAST_APPLIED_ANNOTATION.into(), Value::String(text));
    let size: usize = annotations.iter().map(|(k, v)| k.len() + v.as_str().map_or(0, str::len)).sum();
    if size > TOTAL_ANNOTATION_SIZE_LIMIT {
        annotations.remove(LAST_APPLIED_ANNOTATION);
    }
}

fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}
