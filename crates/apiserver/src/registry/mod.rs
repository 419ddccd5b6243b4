//! The registry: one strategy per resource, and the erased form the generic code works with.
//!
//! A resource's behaviour lives in one place, its [`Strategy`] (upstream's `strategy.go`): naming
//! facts, defaults, create/update preparation, validation, selectable fields, table columns. The
//! generic store, routing, discovery, OpenAPI and the watch cache never name a resource; they work
//! on [`DynStrategy`] and [`Object`], which every typed strategy gets through [`Typed`].

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Arc;

use apimachinery::table::Column;
use apimachinery::{ErrorList, ResourceInfo};
use k8s_openapi::Metadata as _;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub mod admissionregistration;
pub mod apiextensions;
pub mod apps;
pub mod autoscaling;
pub mod batch;
pub mod certificates;
pub mod coordination;
pub mod core;
pub mod discovery;
pub mod events;
pub mod meta;
pub mod networking;
pub mod node;
pub mod policy;
pub mod rbac;
pub mod reviews;
pub mod scheduling;
pub mod storage;

/// The bounds every typed Kubernetes kind served by ferrokube satisfies.
pub trait Kind:
    k8s_openapi::Resource
    + k8s_openapi::Metadata<Ty = ObjectMeta>
    + Serialize
    + DeserializeOwned
    + Clone
    + PartialEq
    + Default
    + Debug
    + Send
    + Sync
    + Parts
    + schemars::JsonSchema
    + 'static
{
}

impl<T> Kind for T where
    T: k8s_openapi::Resource
        + k8s_openapi::Metadata<Ty = ObjectMeta>
        + Serialize
        + DeserializeOwned
        + Clone
        + PartialEq
        + Default
        + Debug
        + Send
        + Sync
        + Parts
        + schemars::JsonSchema
        + 'static
{
}

/// An API object whose type the generic code does not know.
pub trait Object: Any + Send + Sync + Debug {
    /// Its metadata.
    fn meta(&self) -> &ObjectMeta;
    /// Its metadata, mutable.
    fn meta_mut(&mut self) -> &mut ObjectMeta;
    /// Serializes it as JSON (`apiVersion`, `kind` and `metadata` first).
    fn to_json(&self) -> serde_json::Result<Vec<u8>>;
    /// Converts it to a JSON value.
    fn to_value(&self) -> serde_json::Result<Value>;
    /// A copy.
    fn clone_box(&self) -> Box<dyn Object>;
    /// Deep equality with another object of the same type.
    fn equals(&self, other: &dyn Object) -> bool;
    /// For downcasting.
    fn as_any(&self) -> &dyn Any;
    /// For downcasting.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Kind> Object for T {
    fn meta(&self) -> &ObjectMeta {
        self.metadata()
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        self.metadata_mut()
    }
    fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec(self)
    }
    fn to_value(&self) -> serde_json::Result<Value> {
        serde_json::to_value(self)
    }
    fn clone_box(&self) -> Box<dyn Object> {
        Box::new(self.clone())
    }
    fn equals(&self, other: &dyn Object) -> bool {
        other.as_any().downcast_ref::<T>().is_some_and(|o| o == self)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// The spec/status split of a kind, which the generic store needs for status subresources and
/// generation tracking. Implemented with [`parts!`].
pub trait Parts {
    /// Whether the kind has a `status` (and so a `status` subresource).
    const HAS_STATUS: bool;
    /// Keeps `old`'s status (an update of the main resource never changes status).
    fn keep_status(&mut self, old: &Self);
    /// Keeps everything of `old` but the status (an update of the status subresource).
    fn keep_all_but_status(&mut self, old: &Self);
    /// Removes the status (create never takes status from the client).
    fn clear_status(&mut self);
    /// Whether the desired state (spec) differs: what bumps `metadata.generation`.
    fn spec_differs(&self, old: &Self) -> bool;
}

/// Implements [`Parts`] for kinds: `parts!(spec, status: Pod, Service)`, `parts!(spec: Lease)`,
/// `parts!(data: ConfigMap)` (no spec, no status: generation never moves).
macro_rules! parts {
    (spec, status: $($t:ty),+ $(,)?) => {$(
        impl $crate::registry::Parts for $t {
            const HAS_STATUS: bool = true;
            fn keep_status(&mut self, old: &Self) { self.status = old.status.clone(); }
            fn keep_all_but_status(&mut self, old: &Self) {
                let status = self.status.take();
                let metadata = std::mem::take(&mut self.metadata);
                *self = old.clone();
                self.status = status;
                self.metadata = metadata;
            }
            fn clear_status(&mut self) { self.status = None; }
            fn spec_differs(&self, old: &Self) -> bool { self.spec != old.spec }
        }
    )+};
    (spec: $($t:ty),+ $(,)?) => {$(
        impl $crate::registry::Parts for $t {
            const HAS_STATUS: bool = false;
            fn keep_status(&mut self, _old: &Self) {}
            fn keep_all_but_status(&mut self, _old: &Self) {}
            fn clear_status(&mut self) {}
            fn spec_differs(&self, old: &Self) -> bool { self.spec != old.spec }
        }
    )+};
    (data: $($t:ty),+ $(,)?) => {$(
        impl $crate::registry::Parts for $t {
            const HAS_STATUS: bool = false;
            fn keep_status(&mut self, _old: &Self) {}
            fn keep_all_but_status(&mut self, _old: &Self) {}
            fn clear_status(&mut self) {}
            fn spec_differs(&self, _old: &Self) -> bool { false }
        }
    )+};
}
pub(crate) use parts;

/// How the names of a kind are validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 subdomain (most kinds).
    Subdomain,
    /// RFC 1123 label (namespaces, services).
    Label,
    /// RFC 1035 label (services: must start with a letter).
    Dns1035,
    /// A path segment: anything but `.`, `..`, and no `/` or `%` (RBAC kinds).
    PathSegment,
}

/// Context a strategy may use: what the apiserver knows beyond the object itself.
#[derive(Clone, Debug, Default)]
pub struct StrategyContext {
    /// The request's namespace.
    pub namespace: String,
}

/// The behaviour of one resource (upstream's REST strategy). Stateless: no I/O.
pub trait Strategy: Send + Sync + 'static {
    /// The stored kind.
    type K: Kind;

    /// Naming facts (group, version, plural, scope, short names, categories, verbs).
    fn info(&self) -> ResourceInfo;

    /// The storage key segment after `/registry/` (upstream's etcd prefix), default the plural.
    fn storage_segment(&self) -> String {
        self.info().plural
    }

    /// Scheme defaulting: fills fields clients may omit (runs on every decode of a request body).
    fn defaults(&self, _obj: &mut Self::K) {}

    /// Normalises a new object before validation (status cleared for kinds with status).
    fn prepare_for_create(&self, obj: &mut Self::K) {
        obj.clear_status();
    }

    /// Validates a new object.
    fn validate(&self, _obj: &Self::K) -> ErrorList {
        ErrorList::new()
    }

    /// Normalises an update of the main resource (status kept from `old` for kinds with status).
    fn prepare_for_update(&self, new: &mut Self::K, old: &Self::K) {
        new.keep_status(old);
    }

    /// Validates an update (immutable fields).
    fn validate_update(&self, new: &Self::K, _old: &Self::K) -> ErrorList {
        self.validate(new)
    }

    /// Validates an update of the status subresource.
    fn validate_status_update(&self, _new: &Self::K, _old: &Self::K) -> ErrorList {
        ErrorList::new()
    }

    /// Warnings returned to the client on create or update.
    fn warnings(&self, _obj: &Self::K) -> Vec<String> {
        Vec::new()
    }

    /// Whether `metadata.generation` is maintained (set to 1, bumped by
    /// [`Strategy::generation_changed`]).
    fn tracks_generation(&self) -> bool {
        false
    }

    /// Whether an update changes the desired state, which bumps `metadata.generation`
    /// (default: the spec differs).
    fn generation_changed(&self, new: &Self::K, old: &Self::K) -> bool {
        new.spec_differs(old)
    }

    /// Whether PUT of a missing object creates it.
    fn allow_create_on_update(&self) -> bool {
        false
    }

    /// Whether PUT without a resourceVersion is allowed.
    fn allow_unconditional_update(&self) -> bool {
        true
    }

    /// How names are validated.
    fn name_rule(&self) -> NameRule {
        NameRule::Subdomain
    }

    /// Field selector labels beyond `metadata.name` and `metadata.namespace`.
    fn field_labels(&self) -> &'static [&'static str] {
        &[]
    }

    /// Values of [`Strategy::field_labels`] for an object, in the same order.
    fn field_values(&self, _obj: &Self::K) -> Vec<String> {
        Vec::new()
    }

    /// Table columns (`kubectl get`). Default: upstream's default table (Name, Created At).
    fn columns(&self) -> Vec<Column> {
        crate::printers::default_columns()
    }

    /// Table cells of one object, matching [`Strategy::columns`].
    fn cells(&self, obj: &Self::K, _now: jiff::Timestamp) -> Vec<Value> {
        crate::printers::default_cells(obj.metadata())
    }

    /// Whether DELETE answers with the deleted object (true) or a success `Status` (false).
    fn return_deleted_object(&self) -> bool {
        true
    }

    /// Whether something besides `metadata.finalizers` still holds an object being deleted
    /// (a namespace's `spec.finalizers`).
    fn blocks_deletion(&self, _obj: &Self::K) -> bool {
        false
    }
}

/// RFC 3339 with second precision, as Kubernetes serializes `metav1.Time`.
pub fn format_time(t: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) -> String {
    t.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The erased strategy the generic code calls.
pub trait DynStrategy: Send + Sync {
    /// Naming facts.
    fn info(&self) -> &ResourceInfo;
    /// The storage key segment.
    fn storage_segment(&self) -> &str;
    /// Decodes a request body; unknown field paths are appended to `unknown`.
    fn decode(&self, value: Value, unknown: &mut Vec<String>) -> Result<Box<dyn Object>, String>;
    /// Decodes a stored object.
    fn decode_stored(&self, bytes: &[u8]) -> Result<Box<dyn Object>, String>;
    /// Scheme defaults.
    fn defaults(&self, obj: &mut dyn Object);
    /// See [`Strategy::prepare_for_create`].
    fn prepare_for_create(&self, obj: &mut dyn Object);
    /// See [`Strategy::validate`].
    fn validate(&self, obj: &dyn Object) -> ErrorList;
    /// See [`Strategy::prepare_for_update`].
    fn prepare_for_update(&self, new: &mut dyn Object, old: &dyn Object);
    /// See [`Strategy::validate_update`].
    fn validate_update(&self, new: &dyn Object, old: &dyn Object) -> ErrorList;
    /// Prepares a status-subresource update: everything but status (and metadata) from `old`.
    fn prepare_for_status_update(&self, new: &mut dyn Object, old: &dyn Object);
    /// See [`Strategy::validate_status_update`].
    fn validate_status_update(&self, new: &dyn Object, old: &dyn Object) -> ErrorList;
    /// See [`Strategy::warnings`].
    fn warnings(&self, obj: &dyn Object) -> Vec<String>;
    /// Whether the kind has a status subresource.
    fn has_status(&self) -> bool;
    /// Whether the spec differs (generation bump).
    fn spec_differs(&self, new: &dyn Object, old: &dyn Object) -> bool;
    /// See [`Strategy::tracks_generation`].
    fn tracks_generation(&self) -> bool;
    /// See [`Strategy::allow_create_on_update`].
    fn allow_create_on_update(&self) -> bool;
    /// See [`Strategy::allow_unconditional_update`].
    fn allow_unconditional_update(&self) -> bool;
    /// See [`Strategy::name_rule`].
    fn name_rule(&self) -> NameRule;
    /// All supported field selector labels (metadata ones first).
    fn field_labels(&self) -> &[&'static str];
    /// Values for [`DynStrategy::field_labels`].
    fn field_values(&self, obj: &dyn Object) -> Vec<(&'static str, String)>;
    /// Table columns.
    fn columns(&self) -> &[Column];
    /// Table cells.
    fn cells(&self, obj: &dyn Object, now: jiff::Timestamp) -> Vec<Value>;
    /// See [`Strategy::return_deleted_object`].
    fn return_deleted_object(&self) -> bool;
    /// See [`Strategy::blocks_deletion`].
    fn blocks_deletion(&self, obj: &dyn Object) -> bool;
    /// The OpenAPI schema of the kind: its definition name (e.g. `io.k8s.api.core.v1.Pod`)
    /// and, for kinds without a Rust type (custom resources), the schema itself; typed kinds
    /// register theirs (and every type they use) in `generator`.
    fn schema(&self, generator: &mut schemars::SchemaGenerator) -> Option<(String, Option<Value>)>;
    /// The structural schema merge logic (managed fields, apply, strategic merge) walks, and the
    /// kind's root in it.
    fn merge_schema(&self) -> Option<(Arc<apimachinery::schema::SchemaSet>, apimachinery::schema::Shape)>;
    /// Whether strategic merge patch applies (built-in kinds; custom resources get 415).
    fn strategic_merge(&self) -> bool {
        true
    }
}

/// The erased form of a typed [`Strategy`].
pub struct Typed<S: Strategy> {
    strategy: S,
    info: ResourceInfo,
    segment: String,
    field_labels: Vec<&'static str>,
    columns: Vec<Column>,
}

impl<S: Strategy> Typed<S> {
    /// Wraps a strategy.
    pub fn new(strategy: S) -> Self {
        let info = strategy.info();
        let segment = strategy.storage_segment();
        let mut field_labels = vec!["metadata.name"];
        if info.namespaced {
            field_labels.push("metadata.namespace");
        }
        field_labels.extend_from_slice(strategy.field_labels());
        let columns = strategy.columns();
        Typed { strategy, info, segment, field_labels, columns }
    }
}

fn cast<K: Kind>(o: &dyn Object) -> &K {
    o.as_any().downcast_ref::<K>().expect("registry invariant: object type matches its strategy")
}

fn cast_mut<K: Kind>(o: &mut dyn Object) -> &mut K {
    o.as_any_mut().downcast_mut::<K>().expect("registry invariant: object type matches its strategy")
}

/// Removes `null` members of objects: Go decodes `null` as "unset" (or the zero value), and the
/// typed decoders would otherwise reject a null where a value is required.
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

/// Formats a serde_ignored path as Kubernetes prints field paths (`spec.containers[0].foo`).
fn ignored_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path as P;
    match path {
        P::Root => String::new(),
        P::Seq { parent, index } => format!("{}[{}]", ignored_path(parent), index),
        P::Map { parent, key } => {
            let p = ignored_path(parent);
            if p.is_empty() { key.to_string() } else { format!("{p}.{key}") }
        }
        P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => ignored_path(parent),
    }
}

/// Formats a serde_path_to_error path as Kubernetes prints field paths.
fn error_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Enum { variant } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(variant);
            }
            Segment::Unknown => {}
        }
    }
    out
}

impl<S: Strategy> DynStrategy for Typed<S> {
    fn info(&self) -> &ResourceInfo {
        &self.info
    }
    fn storage_segment(&self) -> &str {
        &self.segment
    }
    fn decode(&self, mut value: Value, unknown: &mut Vec<String>) -> Result<Box<dyn Object>, String> {
        strip_nulls(&mut value);
        let mut record = |p: serde_ignored::Path<'_>| unknown.push(ignored_path(&p));
        let de = serde_ignored::Deserializer::new(value, &mut record);
        match serde_path_to_error::deserialize::<_, S::K>(de) {
            Ok(obj) => Ok(Box::new(obj)),
            Err(e) => {
                let path = error_path(e.path());
                let inner = e.into_inner().to_string();
                Err(if path.is_empty() { inner } else { format!("{path}: {inner}") })
            }
        }
    }
    fn decode_stored(&self, bytes: &[u8]) -> Result<Box<dyn Object>, String> {
        serde_json::from_slice::<S::K>(bytes).map(|o| Box::new(o) as Box<dyn Object>).map_err(|e| e.to_string())
    }
    fn defaults(&self, obj: &mut dyn Object) {
        self.strategy.defaults(cast_mut::<S::K>(obj))
    }
    fn prepare_for_create(&self, obj: &mut dyn Object) {
        self.strategy.prepare_for_create(cast_mut::<S::K>(obj))
    }
    fn validate(&self, obj: &dyn Object) -> ErrorList {
        self.strategy.validate(cast::<S::K>(obj))
    }
    fn prepare_for_update(&self, new: &mut dyn Object, old: &dyn Object) {
        self.strategy.prepare_for_update(cast_mut::<S::K>(new), cast::<S::K>(old))
    }
    fn validate_update(&self, new: &dyn Object, old: &dyn Object) -> ErrorList {
        self.strategy.validate_update(cast::<S::K>(new), cast::<S::K>(old))
    }
    fn prepare_for_status_update(&self, new: &mut dyn Object, old: &dyn Object) {
        cast_mut::<S::K>(new).keep_all_but_status(cast::<S::K>(old))
    }
    fn validate_status_update(&self, new: &dyn Object, old: &dyn Object) -> ErrorList {
        self.strategy.validate_status_update(cast::<S::K>(new), cast::<S::K>(old))
    }
    fn warnings(&self, obj: &dyn Object) -> Vec<String> {
        self.strategy.warnings(cast::<S::K>(obj))
    }
    fn has_status(&self) -> bool {
        <S::K as Parts>::HAS_STATUS
    }
    fn spec_differs(&self, new: &dyn Object, old: &dyn Object) -> bool {
        self.strategy.generation_changed(cast::<S::K>(new), cast::<S::K>(old))
    }
    fn tracks_generation(&self) -> bool {
        self.strategy.tracks_generation()
    }
    fn allow_create_on_update(&self) -> bool {
        self.strategy.allow_create_on_update()
    }
    fn allow_unconditional_update(&self) -> bool {
        self.strategy.allow_unconditional_update()
    }
    fn name_rule(&self) -> NameRule {
        self.strategy.name_rule()
    }
    fn field_labels(&self) -> &[&'static str] {
        &self.field_labels
    }
    fn field_values(&self, obj: &dyn Object) -> Vec<(&'static str, String)> {
        let k = cast::<S::K>(obj);
        let meta = k.metadata();
        let mut out = Vec::with_capacity(self.field_labels.len());
        out.push(("metadata.name", meta.name.clone().unwrap_or_default()));
        if self.info.namespaced {
            out.push(("metadata.namespace", meta.namespace.clone().unwrap_or_default()));
        }
        let extra = self.strategy.field_values(k);
        out.extend(self.strategy.field_labels().iter().copied().zip(extra));
        out
    }
    fn columns(&self) -> &[Column] {
        &self.columns
    }
    fn cells(&self, obj: &dyn Object, now: jiff::Timestamp) -> Vec<Value> {
        self.strategy.cells(cast::<S::K>(obj), now)
    }
    fn return_deleted_object(&self) -> bool {
        self.strategy.return_deleted_object()
    }
    fn blocks_deletion(&self, obj: &dyn Object) -> bool {
        self.strategy.blocks_deletion(cast::<S::K>(obj))
    }
    fn schema(&self, generator: &mut schemars::SchemaGenerator) -> Option<(String, Option<Value>)> {
        let _ = generator.subschema_for::<S::K>();
        Some((<S::K as schemars::JsonSchema>::schema_name().into_owned(), None))
    }
    fn merge_schema(&self) -> Option<(Arc<apimachinery::schema::SchemaSet>, apimachinery::schema::Shape)> {
        let name = <S::K as schemars::JsonSchema>::schema_name().into_owned();
        Some((crate::openapi::schema_set_for::<S::K>(), apimachinery::schema::Shape::Named(name)))
    }
}

/// One served resource: its naming facts, strategy and storage prefix.
pub struct Resource {
    /// Naming facts.
    pub info: ResourceInfo,
    /// Behaviour (of the stored kind).
    pub strategy: Arc<dyn DynStrategy>,
    /// Storage key prefix, `/registry/<segment>/`.
    pub prefix: String,
    /// Subresources served (`status`, `scale`, ...).
    pub subresources: Vec<Subresource>,
    /// For a version served from another version's storage: how it converts.
    pub version: Option<ServedVersion>,
    /// Where the `scale` subresource reads and writes replicas, if served.
    pub scale: Option<ScalePaths>,
}

/// The fields behind a `scale` subresource (JSON pointers into the served object).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScalePaths {
    /// Desired replicas, e.g. `/spec/replicas`.
    pub spec_replicas: String,
    /// Observed replicas, e.g. `/status/replicas`.
    pub status_replicas: String,
    /// Where the label selector comes from.
    pub selector: SelectorSource,
}

/// How a scale's `status.selector` string is found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SelectorSource {
    /// A `LabelSelector` object at this pointer.
    LabelSelector(String),
    /// A label map at this pointer (replication controllers).
    Map(String),
    /// A selector string at this pointer (custom resources' `labelSelectorPath`).
    String(String),
    /// None.
    None,
}

impl Resource {
    /// Serves the `scale` subresource (autoscaling/v1 Scale) over these fields.
    pub fn with_scale(mut self, paths: ScalePaths) -> Resource {
        self.subresources.push(Subresource {
            name: "scale",
            group: "autoscaling",
            version: "v1",
            kind: "Scale".into(),
            verbs: &["get", "patch", "update"],
        });
        self.scale = Some(paths);
        self
    }

    /// Adds subresources served by handlers of their own.
    pub fn with_subresources(mut self, subs: &[Subresource]) -> Resource {
        self.subresources.extend_from_slice(subs);
        self
    }

    /// The usual scale fields of workload kinds (`spec.replicas`, `status.replicas`,
    /// `spec.selector`).
    pub fn with_workload_scale(self) -> Resource {
        self.with_scale(ScalePaths {
            spec_replicas: "/spec/replicas".into(),
            status_replicas: "/status/replicas".into(),
            selector: SelectorSource::LabelSelector("/spec/selector".into()),
        })
    }
}

/// A version served from another version's storage (events.k8s.io/v1 from core/v1 events,
/// autoscaling/v1 from autoscaling/v2): objects convert on the way in and out.
pub struct ServedVersion {
    /// Decodes and defaults request bodies of the served kind.
    pub decoder: Arc<dyn DynStrategy>,
    /// Served JSON → stored JSON.
    pub to_storage: Convert,
    /// Stored JSON → served JSON.
    pub from_storage: Convert,
}

/// A conversion between two versions of a kind's JSON.
pub type Convert = Arc<dyn Fn(Value) -> Result<Value, String> + Send + Sync>;

/// A subresource as discovery shows it.
#[derive(Clone, Debug)]
pub struct Subresource {
    /// Name (`status`).
    pub name: &'static str,
    /// Group of the object it takes and returns.
    pub group: &'static str,
    /// Version of that object.
    pub version: &'static str,
    /// Kind of that object.
    pub kind: String,
    /// Verbs.
    pub verbs: &'static [&'static str],
}

impl Resource {
    /// Builds a resource from a typed strategy.
    pub fn new<S: Strategy>(strategy: S) -> Resource {
        let typed = Typed::new(strategy);
        let info = typed.info.clone();
        let prefix = format!("/registry/{}/", typed.segment);
        let mut subresources = Vec::new();
        if <S::K as Parts>::HAS_STATUS {
            subresources.push(Subresource {
                name: "status",
                group: "",
                version: "",
                kind: info.kind.clone(),
                verbs: &["get", "patch", "update"],
            });
        }
        Resource { info, strategy: Arc::new(typed), prefix, subresources, version: None, scale: None }
    }

    /// Serves another version of `storage`'s objects, converting with `to_storage` and
    /// `from_storage`; `served` decodes and defaults request bodies of that version.
    pub fn converted<S: Strategy>(
        storage: &Resource,
        served: S,
        to_storage: fn(Value) -> Result<Value, String>,
        from_storage: fn(Value) -> Result<Value, String>,
    ) -> Resource {
        Self::converted_dyn(storage, Arc::new(Typed::new(served)), Arc::new(to_storage), Arc::new(from_storage))
    }

    /// [`Resource::converted`] for an erased decoder and conversion closures.
    pub fn converted_dyn(storage: &Resource, decoder: Arc<dyn DynStrategy>, to_storage: Convert, from_storage: Convert) -> Resource {
        let info = decoder.info().clone();
        let subresources = storage
            .subresources
            .iter()
            .map(|s| Subresource { kind: if s.name == "status" { info.kind.clone() } else { s.kind.clone() }, ..s.clone() })
            .collect();
        Resource {
            info,
            strategy: storage.strategy.clone(),
            prefix: storage.prefix.clone(),
            subresources,
            version: Some(ServedVersion { decoder, to_storage, from_storage }),
            scale: storage.scale.clone(),
        }
    }

    /// A resource served by an erased strategy under a storage segment (custom resources).
    pub fn dynamic(strategy: Arc<dyn DynStrategy>, subresources: Vec<Subresource>) -> Resource {
        let info = strategy.info().clone();
        let prefix = format!("/registry/{}/", strategy.storage_segment());
        Resource { info, strategy, prefix, subresources, version: None, scale: None }
    }

    /// The JSON clients of this version see for stored (or cached) JSON.
    pub fn served_json(&self, json: &bytes::Bytes) -> Result<bytes::Bytes, String> {
        match &self.version {
            None => Ok(json.clone()),
            Some(v) => {
                let value: Value = serde_json::from_slice(json).map_err(|e| e.to_string())?;
                let out = (v.from_storage)(value)?;
                serde_json::to_vec(&out).map(bytes::Bytes::from).map_err(|e| e.to_string())
            }
        }
    }

    /// The strategy that decodes request bodies of this version.
    pub fn decoder(&self) -> &Arc<dyn DynStrategy> {
        match &self.version {
            None => &self.strategy,
            Some(v) => &v.decoder,
        }
    }

    /// The storage key of an object.
    pub fn key(&self, namespace: &str, name: &str) -> String {
        if self.info.namespaced { format!("{}{namespace}/{name}", self.prefix) } else { format!("{}{name}", self.prefix) }
    }

    /// The key prefix of all objects in a namespace (or all objects for "" / cluster scope).
    pub fn list_prefix(&self, namespace: &str) -> String {
        if self.info.namespaced && !namespace.is_empty() {
            format!("{}{namespace}/", self.prefix)
        } else {
            self.prefix.clone()
        }
    }

    /// Whether a subresource is served.
    pub fn subresource(&self, name: &str) -> Option<&Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }
}

/// All served resources, looked up by group/version/plural and by storage key.
#[derive(Default)]
pub struct Registry {
    /// Resources in registration order.
    pub resources: Vec<Arc<Resource>>,
    by_gvr: BTreeMap<(String, String, String), Arc<Resource>>,
    /// Bumped on every change (custom resources come and go); derived documents key on it.
    pub generation: u64,
}

impl Registry {
    /// Registers a resource (replacing one with the same group/version/plural).
    pub fn add(&mut self, r: Resource) -> Arc<Resource> {
        let r = Arc::new(r);
        let key = (r.info.group.clone(), r.info.version.clone(), r.info.plural.clone());
        if let Some(old) = self.by_gvr.insert(key, r.clone()) {
            self.resources.retain(|x| !Arc::ptr_eq(x, &old));
        }
        self.resources.push(r.clone());
        self.generation += 1;
        r
    }

    /// Unregisters a resource.
    pub fn remove(&mut self, group: &str, version: &str, plural: &str) -> Option<Arc<Resource>> {
        let old = self.by_gvr.remove(&(group.to_string(), version.to_string(), plural.to_string()))?;
        self.resources.retain(|x| !Arc::ptr_eq(x, &old));
        self.generation += 1;
        Some(old)
    }

    /// Looks a resource up.
    pub fn get(&self, group: &str, version: &str, plural: &str) -> Option<&Arc<Resource>> {
        self.by_gvr.get(&(group.to_string(), version.to_string(), plural.to_string()))
    }

    /// Finds the resource whose stored kind owns a storage key (longest matching prefix).
    pub fn by_key(&self, key: &str) -> Option<&Arc<Resource>> {
        self.resources
            .iter()
            .filter(|r| r.version.is_none() && key.starts_with(&r.prefix))
            .max_by_key(|r| r.prefix.len())
    }

    /// The resource registered for a group/plural in any version (used by converted versions).
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<Arc<Resource>> {
        self.get(group, version, plural).cloned()
    }

    /// The served API groups in discovery order, each with its versions (preferred first).
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for r in &self.resources {
            match out.iter_mut().find(|(g, _)| *g == r.info.group) {
                Some((_, versions)) => {
                    if !versions.contains(&r.info.version) {
                        versions.push(r.info.version.clone());
                    }
                }
                None => out.push((r.info.group.clone(), vec![r.info.version.clone()])),
            }
        }
        for (_, versions) in &mut out {
            versions.sort_by(|a, b| apimachinery::resource::version_priority(a, b));
        }
        out
    }

    /// Resources of one group/version, in registration order.
    pub fn in_group_version<'a>(&'a self, group: &'a str, version: &'a str) -> impl Iterator<Item = &'a Arc<Resource>> + 'a {
        self.resources.iter().filter(move |r| r.info.group == group && r.info.version == version)
    }

    /// The standard set of built-in resources of Kubernetes 1.32 that ferrokube serves.
    pub fn builtin() -> Registry {
        let mut r = Registry::default();
        core::register(&mut r);
        apps::register(&mut r);
        batch::register(&mut r);
        autoscaling::register(&mut r);
        policy::register(&mut r);
        rbac::register(&mut r);
        networking::register(&mut r);
        coordination::register(&mut r);
        discovery::register(&mut r);
        events::register(&mut r);
        storage::register(&mut r);
        scheduling::register(&mut r);
        node::register(&mut r);
        certificates::register(&mut r);
        admissionregistration::register(&mut r);
        apiextensions::register(&mut r);
        reviews::register(&mut r);
        r
    }
}
