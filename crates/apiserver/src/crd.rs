//! Custom resources: CustomResourceDefinitions become served APIs.
//!
//! A CRD's served versions are registered as resources whose strategy ([`CustomStrategy`])
//! works on [`DynamicObject`]s and draws its behaviour from the CRD: structural-schema pruning,
//! defaulting and validation, printer columns, selectable fields, the status and scale
//! subresources. All versions share one storage prefix (`/registry/<group>/<plural>/`); objects
//! are stored in the storage version and converted by rewriting `apiVersion` (the `None`
//! conversion strategy).
//!
//! The [`Reconciler`] (upstream's apiextensions controllers, in-process) keeps the registry in
//! step with the stored CRDs, sets their `NamesAccepted` / `Established` conditions, and empties
//! a deleted CRD's objects before releasing its `customresourcecleanup` finalizer.

use std::any::Any;
use std::sync::Arc;

use apimachinery::table::Column;
use apimachinery::{ApiError, ApiResult, ErrorList, ResourceInfo};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as ext;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::cache::{EventKind, Filter, Start};
use crate::registry::{DynStrategy, NameRule, Object, Resource, Subresource};
use crate::store::{self, DeleteDecision, DeleteOptions, Hooks, Part, WriteOptions};
use crate::{Api, crdschema};

/// The finalizer that holds a deleted CRD until its objects are gone.
pub const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

/// A custom resource: typed metadata, everything else as JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct DynamicObject {
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata`.
    pub metadata: ObjectMeta,
    /// Every other top-level field (`spec`, `status`, ...).
    pub rest: Map<String, Value>,
}

impl serde::Serialize for DynamicObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3 + self.rest.len()))?;
        m.serialize_entry("apiVersion", &self.api_version)?;
        m.serialize_entry("kind", &self.kind)?;
        m.serialize_entry("metadata", &self.metadata)?;
        for (k, v) in &self.rest {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl DynamicObject {
    /// Splits a JSON object into a dynamic object.
    pub fn from_value(v: Value) -> Result<DynamicObject, String> {
        let Value::Object(mut m) = v else { return Err("expected a JSON object".into()) };
        let api_version = match m.remove("apiVersion") {
            Some(Value::String(s)) => s,
            _ => String::new(),
        };
        let kind = match m.remove("kind") {
            Some(Value::String(s)) => s,
            _ => String::new(),
        };
        let metadata = match m.remove("metadata") {
            None | Some(Value::Null) => ObjectMeta::default(),
            Some(md) => serde_path_to_error::deserialize(md).map_err(|e| format!("metadata.{}: {}", e.path(), e.inner()))?,
        };
        Ok(DynamicObject { api_version, kind, metadata, rest: m })
    }

    /// The whole object as JSON.
    pub fn value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl Object for DynamicObject {
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
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
        other.as_any().downcast_ref::<DynamicObject>().is_some_and(|o| o == self)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

fn dyn_obj(o: &dyn Object) -> &DynamicObject {
    o.as_any().downcast_ref().expect("custom strategies get dynamic objects")
}

fn dyn_obj_mut(o: &mut dyn Object) -> &mut DynamicObject {
    o.as_any_mut().downcast_mut().expect("custom strategies get dynamic objects")
}

fn leak(s: &str) -> &'static str {
    // Column headers and field labels are `&'static str` throughout the generic code. Custom
    // resources are registered once per CRD change, so this is bounded by CRD updates.
    Box::leak(s.to_string().into_boxed_str())
}

/// The behaviour of one served version of a custom resource.
pub struct CustomStrategy {
    info: ResourceInfo,
    segment: String,
    schema: Option<Value>,
    parsed: Option<crdschema::CrdSchema>,
    status: bool,
    columns: Vec<Column>,
    column_paths: Vec<(String, String, String)>,
    field_labels: Vec<&'static str>,
    field_paths: Vec<String>,
    definition: String,
    merge: Arc<apimachinery::schema::SchemaSet>,
}

/// What of a CRD one version needs.
fn version_of<'a>(crd: &'a ext::CustomResourceDefinition, name: &str) -> Option<&'a ext::CustomResourceDefinitionVersion> {
    crd.spec.versions.iter().find(|v| v.name == name)
}

impl CustomStrategy {
    /// The strategy of version `version` of a CRD.
    pub fn new(crd: &ext::CustomResourceDefinition, version: &str) -> Option<CustomStrategy> {
        let spec = &crd.spec;
        let v = version_of(crd, version)?;
        let names = &spec.names;
        let namespaced = spec.scope == "Namespaced";
        let mut info = ResourceInfo::new(&spec.group, version, &names.kind, &names.plural, namespaced);
        info.singular = names.singular.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| names.kind.to_ascii_lowercase());
        info.short_names = names.short_names.clone().unwrap_or_default();
        info.categories = names.categories.clone().unwrap_or_default();
        let schema = v.schema.as_ref().and_then(|s| s.open_api_v3_schema.as_ref()).and_then(|s| serde_json::to_value(s).ok());
        let status = v.subresources.as_ref().is_some_and(|s| s.status.is_some());
        let mut columns = vec![Column::name()];
        let mut column_paths = Vec::new();
        let declared = v.additional_printer_columns.clone().unwrap_or_default();
        let declared = if declared.is_empty() {
            vec![ext::CustomResourceColumnDefinition {
                name: "Age".into(),
                type_: "date".into(),
                json_path: ".metadata.creationTimestamp".into(),
                description: Some(Column::age().description.into()),
                ..Default::default()
            }]
        } else {
            declared
        };
        for c in declared {
            columns.push(Column {
                name: leak(&c.name),
                type_: leak(&c.type_),
                format: leak(c.format.as_deref().unwrap_or("")),
                description: leak(c.description.as_deref().unwrap_or("")),
                priority: c.priority.unwrap_or(0),
            });
            column_paths.push((c.json_path.clone(), c.type_.clone(), c.format.clone().unwrap_or_default()));
        }
        let mut field_labels = Vec::new();
        let mut field_paths = Vec::new();
        for f in v.selectable_fields.clone().unwrap_or_default() {
            let label = f.json_path.trim_start_matches('.');
            field_labels.push(leak(label));
            field_paths.push(f.json_path.clone());
        }
        let definition = format!("{}.{}.{}", reverse_group(&spec.group), version, names.kind);
        let merge = Arc::new(match &schema {
            Some(s) => apimachinery::schema::SchemaSet::from_inline(s, &definition),
            None => apimachinery::schema::SchemaSet::from_inline(&serde_json::json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}), &definition),
        });
        let parsed = schema.as_ref().map(crdschema::CrdSchema::new);
        Some(CustomStrategy {
            info,
            segment: format!("{}/{}", spec.group, names.plural),
            parsed,
            schema,
            status,
            columns,
            column_paths,
            field_labels,
            field_paths,
            definition,
            merge,
        })
    }
}

/// `example.com` → `com.example` (how upstream names CRD schemas in OpenAPI).
fn reverse_group(group: &str) -> String {
    group.split('.').rev().collect::<Vec<_>>().join(".")
}

impl DynStrategy for CustomStrategy {
    fn info(&self) -> &ResourceInfo {
        &self.info
    }
    fn storage_segment(&self) -> &str {
        &self.segment
    }
    fn decode(&self, mut value: Value, unknown: &mut Vec<String>) -> Result<Box<dyn Object>, String> {
        if let Some(schema) = &self.parsed {
            unknown.extend(schema.prune(&mut value, true));
        }
        let obj = DynamicObject::from_value(value)?;
        Ok(Box::new(obj))
    }
    fn decode_stored(&self, bytes: &[u8]) -> Result<Box<dyn Object>, String> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        Ok(Box::new(DynamicObject::from_value(v)?))
    }
    fn defaults(&self, obj: &mut dyn Object) {
        if let Some(schema) = &self.parsed {
            let o = dyn_obj_mut(obj);
            let mut v = o.value();
            schema.apply_defaults(&mut v);
            if let Ok(d) = DynamicObject::from_value(v) {
                *o = d;
            }
        }
    }
    fn prepare_for_create(&self, obj: &mut dyn Object) {
        if self.status {
            dyn_obj_mut(obj).rest.remove("status");
        }
    }
    fn validate(&self, obj: &dyn Object) -> ErrorList {
        let mut errs = ErrorList::new();
        if let Some(schema) = &self.parsed {
            for e in schema.validate(&dyn_obj(obj).value(), None).errors {
                errs.push(e);
            }
        }
        errs
    }
    fn prepare_for_update(&self, new: &mut dyn Object, old: &dyn Object) {
        if self.status {
            let status = dyn_obj(old).rest.get("status").cloned();
            let n = dyn_obj_mut(new);
            match status {
                Some(s) => {
                    n.rest.insert("status".into(), s);
                }
                None => {
                    n.rest.remove("status");
                }
            }
        }
    }
    fn validate_update(&self, new: &dyn Object, old: &dyn Object) -> ErrorList {
        let mut errs = ErrorList::new();
        if let Some(schema) = &self.parsed {
            for e in schema.validate(&dyn_obj(new).value(), Some(&dyn_obj(old).value())).errors {
                errs.push(e);
            }
        }
        errs
    }
    fn prepare_for_status_update(&self, new: &mut dyn Object, old: &dyn Object) {
        let status = dyn_obj(new).rest.get("status").cloned();
        let o = dyn_obj(old).clone();
        let n = dyn_obj_mut(new);
        let meta = std::mem::take(&mut n.metadata);
        *n = o;
        n.metadata = meta;
        match status {
            Some(s) => {
                n.rest.insert("status".into(), s);
            }
            None => {
                n.rest.remove("status");
            }
        }
    }
    fn validate_status_update(&self, new: &dyn Object, old: &dyn Object) -> ErrorList {
        self.validate_update(new, old)
    }
    fn warnings(&self, _obj: &dyn Object) -> Vec<String> {
        Vec::new()
    }
    fn has_status(&self) -> bool {
        self.status
    }
    fn spec_differs(&self, new: &dyn Object, old: &dyn Object) -> bool {
        // custom resources: anything but metadata and status
        let (n, o) = (dyn_obj(new), dyn_obj(old));
        let strip = |m: &Map<String, Value>| -> Map<String, Value> { m.iter().filter(|(k, _)| *k != "status").map(|(k, v)| (k.clone(), v.clone())).collect() };
        strip(&n.rest) != strip(&o.rest)
    }
    fn tracks_generation(&self) -> bool {
        true
    }
    fn allow_create_on_update(&self) -> bool {
        false
    }
    fn allow_unconditional_update(&self) -> bool {
        true
    }
    fn name_rule(&self) -> NameRule {
        NameRule::Subdomain
    }
    fn field_labels(&self) -> &[&'static str] {
        &self.field_labels
    }
    fn field_values(&self, obj: &dyn Object) -> Vec<(&'static str, String)> {
        let o = dyn_obj(obj);
        let mut out = vec![("metadata.name", o.metadata.name.clone().unwrap_or_default())];
        if self.info.namespaced {
            out.push(("metadata.namespace", o.metadata.namespace.clone().unwrap_or_default()));
        }
        let v = o.value();
        for (label, path) in self.field_labels.iter().zip(&self.field_paths) {
            out.push((*label, crdschema::selectable_field_value(&v, path).unwrap_or_default()));
        }
        out
    }
    fn columns(&self) -> &[Column] {
        &self.columns
    }
    fn cells(&self, obj: &dyn Object, now: jiff::Timestamp) -> Vec<Value> {
        let o = dyn_obj(obj);
        let v = o.value();
        let mut cells = vec![Value::String(o.metadata.name.clone().unwrap_or_default())];
        for (path, ty, format) in &self.column_paths {
            cells.push(crdschema::printer_column_value_at(&v, path, ty, format, now));
        }
        cells
    }
    fn return_deleted_object(&self) -> bool {
        true
    }
    fn blocks_deletion(&self, _obj: &dyn Object) -> bool {
        false
    }
    fn merge_schema(&self) -> Option<(Arc<apimachinery::schema::SchemaSet>, apimachinery::schema::Shape)> {
        Some((self.merge.clone(), apimachinery::schema::Shape::Named(self.definition.clone())))
    }
    fn strategic_merge(&self) -> bool {
        false
    }
    fn schema(&self, _generator: &mut schemars::SchemaGenerator) -> Option<(String, Option<Value>)> {
        let mut schema = self.schema.clone().unwrap_or_else(|| serde_json::json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
        if let Some(m) = schema.as_object_mut() {
            m.insert(
                "x-kubernetes-group-version-kind".into(),
                serde_json::json!([{ "group": self.info.group, "version": self.info.version, "kind": self.info.kind }]),
            );
            let props = m.entry("properties").or_insert_with(|| Value::Object(Map::new()));
            if let Some(p) = props.as_object_mut() {
                p.entry("metadata").or_insert_with(|| serde_json::json!({"allOf": [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]}));
                p.entry("apiVersion").or_insert_with(|| serde_json::json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values."}));
                p.entry("kind").or_insert_with(|| serde_json::json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase."}));
            }
        }
        let _ = _generator.subschema_for::<ObjectMeta>();
        Some((self.definition.clone(), Some(schema)))
    }
}

/// `.spec.replicas` → `/spec/replicas` (the simple JSON paths scale subresources use).
fn json_path_pointer(path: &str) -> String {
    path.trim_start_matches('.').split('.').fold(String::new(), |mut acc, seg| {
        acc.push('/');
        acc.push_str(&seg.replace('~', "~0").replace('/', "~1"));
        acc
    })
}

/// The scale subresource a version declares.
fn scale_of(crd: &ext::CustomResourceDefinition, version: &str) -> Option<crate::registry::ScalePaths> {
    let s = version_of(crd, version)?.subresources.as_ref()?.scale.as_ref()?;
    Some(crate::registry::ScalePaths {
        spec_replicas: json_path_pointer(&s.spec_replicas_path),
        status_replicas: json_path_pointer(&s.status_replicas_path),
        selector: match s.label_selector_path.as_deref() {
            Some(p) if !p.is_empty() => crate::registry::SelectorSource::String(json_path_pointer(p)),
            _ => crate::registry::SelectorSource::None,
        },
    })
}

/// The resources (one per served version) a CRD defines.
pub fn resources_for(crd: &ext::CustomResourceDefinition) -> Vec<Resource> {
    let Some(storage_version) = crd.spec.versions.iter().find(|v| v.storage) else { return Vec::new() };
    let Some(storage_strategy) = CustomStrategy::new(crd, &storage_version.name) else { return Vec::new() };
    let status = storage_strategy.status;
    let kind = storage_strategy.info.kind.clone();
    let subresources = |group: &'static str| {
        let mut subs = Vec::new();
        if status {
            subs.push(Subresource { name: "status", group: "", version: "", kind: kind.clone(), verbs: &["get", "patch", "update"] });
        }
        let _ = group;
        subs
    };
    let mut storage = Resource::dynamic(Arc::new(storage_strategy), subresources(""));
    if let Some(paths) = scale_of(crd, &storage_version.name) {
        storage = storage.with_scale(paths);
    }
    let storage_api_version = storage.info.api_version();
    let mut out = Vec::new();
    for v in crd.spec.versions.iter().filter(|v| v.served) {
        if v.name == storage_version.name {
            continue;
        }
        let Some(served) = CustomStrategy::new(crd, &v.name) else { continue };
        let served_api_version = served.info.api_version();
        let to = storage_api_version.clone();
        let from = served_api_version.clone();
        let set_version = |target: String| -> crate::registry::Convert {
            Arc::new(move |mut v: Value| {
                if let Some(m) = v.as_object_mut() {
                    m.insert("apiVersion".into(), Value::String(target.clone()));
                }
                Ok(v)
            })
        };
        let mut r = Resource::converted_dyn(&storage, Arc::new(served), set_version(to), set_version(from));
        r.subresources = subresources("");
        r.scale = None;
        if let Some(paths) = scale_of(crd, &v.name) {
            r = r.with_scale(paths);
        }
        out.push(r);
    }
    if storage_version.served {
        out.insert(0, storage);
    } else {
        // a storage version that is not served still owns the storage prefix
        out.insert(0, storage);
    }
    out
}

fn crd_of(o: &dyn Object) -> Option<&ext::CustomResourceDefinition> {
    o.as_any().downcast_ref()
}

/// Hooks of the `customresourcedefinitions` resource: deletion first empties the CRD's objects.
pub struct CrdHooks;

fn mark_terminating(o: &mut dyn Object) {
    if let Some(crd) = o.as_any_mut().downcast_mut::<ext::CustomResourceDefinition>() {
        let fins = crd.metadata.finalizers.get_or_insert_with(Vec::new);
        if !fins.iter().any(|f| f == CLEANUP_FINALIZER) {
            fins.push(CLEANUP_FINALIZER.into());
        }
        set_condition(crd, "Terminating", "True", "InstanceDeletionPending", "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon");
    }
}

#[async_trait::async_trait]
impl Hooks for CrdHooks {
    fn delete_decision(&self, obj: &dyn Object, _opts: &DeleteOptions) -> Option<DeleteDecision> {
        let crd = crd_of(obj)?;
        if crd.metadata.deletion_timestamp.is_some() {
            return Some(DeleteDecision::Mark { grace_seconds: 0, mutate: |_| {} });
        }
        Some(DeleteDecision::Mark { grace_seconds: 0, mutate: mark_terminating })
    }
}

fn set_condition(crd: &mut ext::CustomResourceDefinition, ty: &str, status: &str, reason: &str, message: &str) -> bool {
    let st = crd.status.get_or_insert_with(Default::default);
    let conds = st.conditions.get_or_insert_with(Vec::new);
    if let Some(c) = conds.iter_mut().find(|c| c.type_ == ty) {
        if c.status == status && c.reason.as_deref() == Some(reason) && c.message.as_deref() == Some(message) {
            return false;
        }
        if c.status != status {
            c.last_transition_time = Some(store::now());
        }
        c.status = status.into();
        c.reason = Some(reason.into());
        c.message = Some(message.into());
        return true;
    }
    conds.push(ext::CustomResourceDefinitionCondition {
        type_: ty.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_transition_time: Some(store::now()),
    });
    true
}

/// Keeps served custom resources in step with stored CRDs.
pub struct Reconciler {
    api: Arc<Api>,
    cleaning: Arc<parking_lot::Mutex<std::collections::HashSet<String>>>,
}

impl Reconciler {
    /// A reconciler for an API.
    pub fn new(api: Arc<Api>) -> Reconciler {
        Reconciler { api, cleaning: Default::default() }
    }

    fn crd_resource(&self) -> ApiResult<Arc<Resource>> {
        self.api.resource("apiextensions.k8s.io", "v1", "customresourcedefinitions").ok_or_else(|| ApiError::internal("CRDs not registered"))
    }

    /// Registers every stored CRD (at start, before serving).
    pub async fn initial_sync(&self) -> ApiResult<()> {
        let res = self.crd_resource()?;
        let cache = self.api.caches.cache(&res).ok_or_else(|| ApiError::internal("no CRD cache"))?;
        let (items, _) = cache.list(&Filter::default());
        for item in items {
            let crd: ext::CustomResourceDefinition = serde_json::from_slice(&item.json).map_err(ApiError::internal)?;
            self.reconcile(crd).await;
        }
        Ok(())
    }

    /// Runs until the CRD watch closes.
    pub async fn run(self) {
        loop {
            let Ok(res) = self.crd_resource() else { return };
            let Some(cache) = self.api.caches.cache(&res) else { return };
            let Ok(mut reg) = cache.watch(Filter::default(), Start::Current) else {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                continue;
            };
            let initial = std::mem::take(&mut reg.initial);
            for msg in initial {
                self.handle(msg.kind, &msg.obj.json).await;
            }
            while let Some(msg) = reg.rx.recv().await {
                self.handle(msg.kind, &msg.obj.json).await;
            }
            cache.unwatch(reg.id);
        }
    }

    async fn handle(&self, kind: EventKind, json: &[u8]) {
        let Ok(crd) = serde_json::from_slice::<ext::CustomResourceDefinition>(json) else { return };
        match kind {
            EventKind::Deleted => self.unregister(&crd),
            _ => self.reconcile(crd).await,
        }
    }

    fn unregister(&self, crd: &ext::CustomResourceDefinition) {
        let mut reg = self.api.registry.write();
        let mut prefix = None;
        for v in &crd.spec.versions {
            if let Some(r) = reg.remove(&crd.spec.group, &v.name, &crd.spec.names.plural) {
                prefix = Some(r.prefix.clone());
            }
        }
        drop(reg);
        if let Some(p) = prefix {
            self.api.caches.remove(&p);
        }
    }

    /// Whether another CRD already serves these names in this group.
    fn name_conflict(&self, crd: &ext::CustomResourceDefinition) -> Option<String> {
        let reg = self.api.registry.read();
        let me = crd.metadata.name.as_deref().unwrap_or("");
        for r in reg.resources.iter().filter(|r| r.info.group == crd.spec.group) {
            let owner = format!("{}.{}", r.info.plural, r.info.group);
            if owner == me {
                continue;
            }
            if r.info.kind == crd.spec.names.kind {
                return Some(format!("\"{}\" is already in use", crd.spec.names.kind));
            }
            for s in crd.spec.names.short_names.iter().flatten() {
                if r.info.short_names.contains(s) {
                    return Some(format!("\"{s}\" is already in use"));
                }
            }
        }
        None
    }

    async fn reconcile(&self, crd: ext::CustomResourceDefinition) {
        let name = crd.metadata.name.clone().unwrap_or_default();
        if crd.metadata.deletion_timestamp.is_some() {
            if self.cleaning.lock().insert(name.clone()) {
                let api = self.api.clone();
                let cleaning = self.cleaning.clone();
                tokio::spawn(async move {
                    loop {
                        match cleanup(&api, &crd).await {
                            Ok(true) => break,
                            Ok(false) => {}
                            Err(e) => tracing::warn!(crd = %name, error = %e, "custom resource cleanup"),
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    }
                    cleaning.lock().remove(&name);
                });
            }
            return;
        }
        let conflict = self.name_conflict(&crd);
        if conflict.is_none() {
            let resources = resources_for(&crd);
            let mut added = Vec::new();
            {
                let mut reg = self.api.registry.write();
                // versions no longer served go away
                let served: Vec<String> = resources.iter().map(|r| r.info.version.clone()).collect();
                let stale: Vec<String> = reg
                    .resources
                    .iter()
                    .filter(|r| r.info.group == crd.spec.group && r.info.plural == crd.spec.names.plural && !served.contains(&r.info.version))
                    .map(|r| r.info.version.clone())
                    .collect();
                for v in stale {
                    reg.remove(&crd.spec.group, &v, &crd.spec.names.plural);
                }
                for r in resources {
                    added.push(reg.add(r));
                }
            }
            if let Some(storage) = added.iter().find(|r| r.version.is_none())
                && let Err(e) = self.api.caches.add(storage.clone()).await {
                    tracing::warn!(crd = %name, error = %e, "loading the custom resource cache");
                }
        }
        // status: names and establishment
        let mut next = crd.clone();
        let changed = match &conflict {
            Some(msg) => set_condition(&mut next, "NamesAccepted", "False", "NameConflict", msg),
            None => {
                let a = set_condition(&mut next, "NamesAccepted", "True", "NoConflicts", "no conflicts found");
                let b = set_condition(&mut next, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted");
                let st = next.status.get_or_insert_with(Default::default);
                let mut c = false;
                if st.accepted_names.as_ref() != Some(&crd.spec.names) {
                    st.accepted_names = Some(crd.spec.names.clone());
                    c = true;
                }
                if let Some(v) = crd.spec.versions.iter().find(|v| v.storage) {
                    let stored = st.stored_versions.get_or_insert_with(Vec::new);
                    if !stored.contains(&v.name) {
                        stored.push(v.name.clone());
                        c = true;
                    }
                }
                a || b || c
            }
        };
        if changed
            && let Ok(res) = self.crd_resource() {
                let opts = WriteOptions::default();
                if let Err(e) = store::update(&self.api, &res, "", &name, Box::new(next), Part::Status, &opts).await
                    && e.code != 409 && e.code != 404 {
                        tracing::warn!(crd = %name, error = %e, "updating CRD status");
                    }
            }
    }
}

/// Deletes every object of a terminating CRD, then releases its finalizer. `Ok(true)` once done,
/// `Ok(false)` while objects (held by their own finalizers) remain.
async fn cleanup(api: &Arc<Api>, crd: &ext::CustomResourceDefinition) -> ApiResult<bool> {
    let name = crd.metadata.name.clone().unwrap_or_default();
    let storage = {
        let reg = api.registry.read();
        reg.resources.iter().find(|r| r.info.group == crd.spec.group && r.info.plural == crd.spec.names.plural && r.version.is_none()).cloned()
    };
    if let Some(res) = storage
        && let Some(cache) = api.caches.cache(&res) {
            let (items, _) = cache.list(&Filter::default());
            for item in &items {
                match store::delete(api, &res, &item.namespace, &item.name, &DeleteOptions::default()).await {
                    Ok(_) => {}
                    Err(e) if e.code == 404 => {}
                    Err(e) => return Err(e),
                }
            }
            api.caches.wait_fresh().await?;
            if !cache.list(&Filter::default()).0.is_empty() {
                return Ok(false);
            }
        }
    let res = api.resource("apiextensions.k8s.io", "v1", "customresourcedefinitions").ok_or_else(|| ApiError::internal("CRDs not registered"))?;
    let key = res.key("", &name);
    for _ in 0..8 {
        let Some((obj, _)) = store::read(api, &res, &key).await? else { return Ok(true) };
        let mut next = crd_of(obj.as_ref()).cloned().ok_or_else(|| ApiError::internal("not a CRD"))?;
        if let Some(f) = next.metadata.finalizers.as_mut() {
            f.retain(|x| x != CLEANUP_FINALIZER);
        }
        match store::update(api, &res, "", &name, Box::new(next), Part::Prepared, &WriteOptions::default()).await {
            Ok(_) => return Ok(true),
            Err(e) if e.code == 409 => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// Validates a CRD's schemas beyond field rules (structural schema), for the CRD strategy.
pub fn validate_schemas(crd: &ext::CustomResourceDefinition) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, v) in crd.spec.versions.iter().enumerate() {
        let Some(schema) = v.schema.as_ref().and_then(|s| s.open_api_v3_schema.as_ref()) else { continue };
        let Ok(value) = serde_json::to_value(schema) else { continue };
        let status = v.subresources.as_ref().is_some_and(|s| s.status.is_some());
        for e in crdschema::check_schema(&value, &format!("spec.versions[{i}].schema.openAPIV3Schema"), crdschema::CheckOptions { status_subresource: status }) {
            errs.push(e);
        }
    }
    errs
}

