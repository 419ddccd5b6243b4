//! The generic store (upstream's generic registry `Store`): create, update, delete, get and list
//! for every resource, in one fixed order, never naming a resource. Resource behaviour comes from
//! the strategy; resource-specific side effects (IP allocation, namespace termination, graceful
//! pod deletion) come from the resource's [`Hooks`].
//!
//! Write order: system metadata → strategy prepare → validation (object meta + strategy) →
//! hooks → compare-and-swap write. Storage holds objects without `resourceVersion`; responses
//! splice in the write's revision.

use std::sync::Arc;
use std::time::Duration;

use apimachinery::{ApiError, ApiResult, ErrorList, FieldError};
use bytes::Bytes;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use storage::{RangeRequest, TxnOp};

use crate::{Api, admission};
use crate::cache::{CachedObject, Filter};
use crate::codec::with_resource_version;
use crate::registry::{NameRule, Object, Resource};

/// Per-request write options.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// `dryRun=All`: everything but the write.
    pub dry_run: bool,
    /// `fieldManager` (or the user agent's product name).
    pub field_manager: String,
    /// The request's `metadata.managedFields` are final (a server-side apply computed them).
    pub managed_fields_done: bool,
    /// The subresource written (`status`, `binding`, ...; "" for the main resource), for
    /// admission.
    pub subresource: String,
}

/// Per-request delete options (query parameters and/or a `DeleteOptions` body).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteOptions {
    /// Seconds before the object is deleted (pods).
    pub grace_period_seconds: Option<i64>,
    /// Orphan, Background or Foreground.
    pub propagation_policy: Option<String>,
    /// Deprecated form of the orphan policy.
    pub orphan_dependents: Option<bool>,
    /// Conditions that must hold.
    pub preconditions: Option<Preconditions>,
    /// `["All"]` for a dry run.
    #[serde(default)]
    pub dry_run: Vec<String>,
}

/// Delete preconditions.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preconditions {
    /// Required UID.
    pub uid: Option<String>,
    /// Required resourceVersion.
    pub resource_version: Option<String>,
}

/// What a delete did.
pub enum Deleted {
    /// The object is gone; its last state.
    Gone(Bytes, Box<dyn Object>),
    /// The object was only marked for deletion (finalizers, grace period); its new state.
    Marked(Bytes),
}

/// Resource-specific side effects around the generic store (upstream's REST hooks and
/// decorators). All methods have no-op defaults.
#[async_trait::async_trait]
pub trait Hooks: Send + Sync {
    /// After validation, before the write of a new object (allocations).
    async fn before_create(&self, _api: &Api, _obj: &mut dyn Object, _dry_run: bool) -> ApiResult<()> {
        Ok(())
    }
    /// The write of a new object failed after `before_create` succeeded (release allocations).
    async fn create_failed(&self, _api: &Api, _obj: &dyn Object) {}
    /// After validation, before the write of an update.
    async fn before_update(&self, _api: &Api, _new: &mut dyn Object, _old: &dyn Object, _dry_run: bool) -> ApiResult<()> {
        Ok(())
    }
    /// After an update was written (release what the old object held and the new does not).
    async fn after_update(&self, _api: &Api, _new: &dyn Object, _old: &dyn Object) {}
    /// After an object is gone.
    async fn after_delete(&self, _api: &Api, _obj: &dyn Object) {}
    /// How a delete proceeds for this object: `None` = generic rules (finalizers), or a custom
    /// decision (namespaces terminate, pods on nodes wait for their grace period).
    fn delete_decision(&self, _obj: &dyn Object, _opts: &DeleteOptions) -> Option<DeleteDecision> {
        None
    }
}

/// A change applied to an object marked for deletion.
pub type Mutation = fn(&mut dyn Object);

/// A resource's answer to a delete request.
pub enum DeleteDecision {
    /// Delete now.
    Now,
    /// Mark with deletionTimestamp and a grace period.
    Mark {
        /// Seconds until the object should be gone.
        grace_seconds: i64,
        /// A change applied to the marked object (a namespace's Terminating phase).
        mutate: Mutation,
    },
    /// Refuse with this error.
    Refuse(ApiError),
}

/// Now, with second precision (as Kubernetes stores `metav1.Time`).
pub fn now() -> Time {
    Time(jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap_or(jiff::Timestamp::UNIX_EPOCH))
}

const GENERATE_CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Upstream's generated-name suffix: 5 characters without vowels or confusable digits.
pub fn generate_suffix() -> String {
    (0..5).map(|_| GENERATE_CHARS[rand::random_range(0..GENERATE_CHARS.len())] as char).collect()
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e)
}

/// Validates metadata common to every object (upstream's ValidateObjectMeta).
pub fn validate_meta(res: &Resource, meta: &ObjectMeta, is_create: bool) -> ErrorList {
    let mut errs = ErrorList::new();
    let name = meta.name.as_deref().unwrap_or("");
    if name.is_empty() {
        if is_create && meta.generate_name.as_deref().unwrap_or("").is_empty() {
            errs.push(FieldError::required("metadata.name", "name or generateName is required"));
        } else if !is_create {
            errs.push(FieldError::required("metadata.name", "name is required"));
        }
    } else {
        for msg in name_errors(res.strategy.name_rule(), name) {
            errs.push(FieldError::invalid("metadata.name", name, msg));
        }
    }
    if res.info.namespaced {
        let ns = meta.namespace.as_deref().unwrap_or("");
        if ns.is_empty() {
            errs.push(FieldError::required("metadata.namespace", ""));
        } else {
            for msg in apimachinery::validation::is_dns1123_label(ns) {
                errs.push(FieldError::invalid("metadata.namespace", ns, msg));
            }
        }
    } else if meta.namespace.as_deref().is_some_and(|n| !n.is_empty()) {
        errs.push(FieldError::forbidden("metadata.namespace", "not allowed on this type"));
    }
    for issue in apimachinery::validation::validate_meta_maps(meta) {
        errs.push(issue);
    }
    errs
}

/// Name validation messages for a rule.
pub fn name_errors(rule: NameRule, name: &str) -> Vec<String> {
    use apimachinery::validation as v;
    match rule {
        NameRule::Subdomain => v::is_dns1123_subdomain(name),
        NameRule::Label => v::is_dns1123_label(name),
        NameRule::Dns1035 => v::is_dns1035_label(name),
        NameRule::PathSegment => {
            let mut out = Vec::new();
            if name == "." || name == ".." {
                out.push(format!("may not be '{name}'"));
            }
            for c in ['/', '%'] {
                if name.contains(c) {
                    out.push(format!("may not contain '{c}'"));
                }
            }
            out
        }
    }
}

/// Reads an object from storage (fresh, not from the cache).
pub async fn read(api: &Api, res: &Resource, key: &str) -> ApiResult<Option<(Box<dyn Object>, i64)>> {
    let resp = api.storage.range(RangeRequest::key(key)).await.map_err(internal)?;
    match resp.kvs.into_iter().next() {
        None => Ok(None),
        Some(kv) => {
            let obj = res.strategy.decode_stored(&kv.value).map_err(internal)?;
            Ok(Some((obj, kv.mod_revision)))
        }
    }
}

/// Records the writer in `metadata.managedFields` (upstream's field manager, Update operation).
fn track_managed_fields(res: &Resource, old: Option<&dyn Object>, new: &mut dyn Object, opts: &WriteOptions, subresource: &str) -> ApiResult<()> {
    if opts.managed_fields_done {
        return Ok(());
    }
    let Some((schema, root)) = res.strategy.merge_schema() else { return Ok(()) };
    let old_v = match old {
        Some(o) => Some(o.to_value().map_err(internal)?),
        None => None,
    };
    let new_v = new.to_value().map_err(internal)?;
    let time = crate::registry::format_time(&now());
    let api_version = res.info.api_version();
    let reset: &[&str] = if res.strategy.has_status() {
        if subresource == "status" { &["spec"] } else { &["status"] }
    } else {
        &[]
    };
    let mut manager = apimachinery::managedfields::Manager::new(&opts.field_manager, &api_version, &time);
    manager.subresource = subresource;
    manager.reset_fields = reset;
    let entries = apimachinery::managedfields::update(old_v.as_ref(), &new_v, &manager, &schema, &root).map_err(|e| ApiError::internal(e.message()))?;
    let entries = if entries.is_empty() {
        None
    } else {
        Some(serde_json::from_value(Value::Array(entries)).map_err(internal)?)
    };
    new.meta_mut().managed_fields = entries;
    Ok(())
}

fn encode_for_storage(obj: &mut dyn Object) -> ApiResult<Vec<u8>> {
    obj.meta_mut().resource_version = None;
    obj.to_json().map_err(internal)
}

/// Creates an object. `namespace` is the request's namespace ("" for cluster scope).
pub async fn create(api: &Api, res: &Arc<Resource>, namespace: &str, mut obj: Box<dyn Object>, opts: &WriteOptions) -> ApiResult<Bytes> {
    let info = &res.info;
    {
        let meta = obj.meta_mut();
        if info.namespaced {
            match meta.namespace.as_deref() {
                Some(ns) if !ns.is_empty() && ns != namespace => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
                _ => meta.namespace = Some(namespace.to_string()),
            }
        } else {
            meta.namespace = None;
        }
        if meta.name.as_deref().unwrap_or("").is_empty()
            && let Some(prefix) = meta.generate_name.as_deref().filter(|g| !g.is_empty()) {
                let mut base = prefix.to_string();
                base.truncate(63 - 5);
                meta.name = Some(format!("{base}{}", generate_suffix()));
            }
        meta.uid = Some(uuid::Uuid::new_v4().to_string());
        meta.creation_timestamp = Some(now());
        meta.resource_version = None;
        meta.deletion_timestamp = None;
        meta.deletion_grace_period_seconds = None;
        meta.self_link = None;
        meta.generation = if res.strategy.tracks_generation() { Some(1) } else { None };
    }
    let user = crate::context::user();
    let name = obj.meta().name.clone().unwrap_or_default();
    let admission = admission::Request {
        operation: admission::Operation::Create,
        user: &user,
        res,
        subresource: "",
        namespace,
        name: &name,
        old: None,
        dry_run: opts.dry_run,
    };
    admission::mutate(api, &admission, &mut obj).await?;
    res.strategy.prepare_for_create(obj.as_mut());
    let mut errs = validate_meta(res, obj.meta(), true);
    errs.extend(res.strategy.validate(obj.as_ref()));
    if !errs.is_empty() {
        return Err(ApiError::invalid(&info.group, &info.kind, &name, &errs));
    }
    admission::validate(api, &admission, obj.as_ref()).await?;
    let hooks = api.hooks(res);
    if let Some(h) = &hooks {
        h.before_create(api, obj.as_mut(), opts.dry_run).await?;
    }
    track_managed_fields(res, None, obj.as_mut(), opts, "")?;
    let bytes = encode_for_storage(obj.as_mut())?;
    if opts.dry_run {
        return Ok(Bytes::from(bytes));
    }
    let key = res.key(namespace, &name);
    let resp = match api.storage.txn(&key, 0, TxnOp::Put(Bytes::from(bytes.clone()))).await {
        Ok(r) => r,
        Err(e) => {
            if let Some(h) = &hooks {
                h.create_failed(api, obj.as_ref()).await;
            }
            return Err(internal(e));
        }
    };
    if !resp.succeeded {
        if let Some(h) = &hooks {
            h.create_failed(api, obj.as_ref()).await;
        }
        return Err(ApiError::already_exists(&info.group, &info.plural, &name));
    }
    Ok(with_resource_version(&bytes, resp.revision))
}

/// Writes an object the apiserver prepared itself (a quota's ledger) with compare-and-swap on
/// `expected_rev`, without admission (which is what calls it) and without validation. Returns
/// whether the write happened.
pub async fn put_prepared(api: &Api, res: &Resource, namespace: &str, mut obj: Box<dyn Object>, expected_rev: i64) -> ApiResult<bool> {
    let name = obj.meta().name.clone().unwrap_or_default();
    let key = res.key(namespace, &name);
    let bytes = encode_for_storage(obj.as_mut())?;
    let resp = api.storage.txn(&key, expected_rev, TxnOp::Put(Bytes::from(bytes))).await.map_err(internal)?;
    Ok(resp.succeeded)
}

/// Which part of an object an update addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The main resource (status kept).
    Main,
    /// The status subresource (everything but status kept).
    Status,
    /// A subresource that prepared the whole new object itself (no strategy preparation).
    Prepared,
    /// A subresource with its own rules for what may change (pods/binding sets `nodeName`,
    /// which pod updates may not): no strategy preparation or update validation.
    Assign,
}

/// Replaces an object (PUT). Returns the response bytes and whether it was created.
pub async fn update(
    api: &Api,
    res: &Arc<Resource>,
    namespace: &str,
    name: &str,
    obj: Box<dyn Object>,
    part: Part,
    opts: &WriteOptions,
) -> ApiResult<(Bytes, bool)> {
    let info = &res.info;
    {
        let meta = obj.meta();
        if info.namespaced
            && let Some(ns) = meta.namespace.as_deref().filter(|n| !n.is_empty())
                && ns != namespace {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
        let body_name = meta.name.as_deref().unwrap_or("");
        if body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
    }
    let key = res.key(namespace, name);
    let requested_rv = obj.meta().resource_version.clone().filter(|s| !s.is_empty());
    let requested_rv_num = match &requested_rv {
        None => None,
        Some(s) => Some(s.parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!("invalid resource version: {s:?}"))
        })?),
    };
    let hooks = api.hooks(res);
    for _attempt in 0..32 {
        let Some((old, old_rev)) = read(api, res, &key).await? else {
            if part == Part::Main && res.strategy.allow_create_on_update() {
                let bytes = create(api, res, namespace, obj.clone_box(), opts).await?;
                return Ok((bytes, true));
            }
            return Err(ApiError::not_found(&info.group, &info.plural, name));
        };
        match requested_rv_num {
            Some(rv) if rv != old_rev => return Err(ApiError::modified(&info.group, &info.plural, name)),
            None if !res.strategy.allow_unconditional_update() => {
                let mut errs = ErrorList::new();
                errs.push(FieldError::invalid("metadata.resourceVersion", "", "must be specified for an update"));
                return Err(ApiError::invalid(&info.group, &info.kind, name, &errs));
            }
            _ => {}
        }
        let mut new = obj.clone_box();
        {
            let (nm, om) = (new.meta_mut(), old.meta());
            nm.namespace = om.namespace.clone();
            nm.creation_timestamp = om.creation_timestamp.clone();
            nm.deletion_timestamp = om.deletion_timestamp.clone();
            nm.deletion_grace_period_seconds = om.deletion_grace_period_seconds;
            nm.generation = om.generation;
            nm.self_link = None;
            if nm.uid.as_deref().unwrap_or("").is_empty() {
                nm.uid = om.uid.clone();
            }
        }
        let user = crate::context::user();
        let admission = admission::Request {
            operation: admission::Operation::Update,
            user: &user,
            res,
            subresource: if !opts.subresource.is_empty() {
                opts.subresource.as_str()
            } else if part == Part::Status {
                "status"
            } else {
                ""
            },
            namespace,
            name,
            old: Some(old.as_ref()),
            dry_run: opts.dry_run,
        };
        admission::mutate(api, &admission, &mut new).await?;
        let mut errs = ErrorList::new();
        match part {
            Part::Main => res.strategy.prepare_for_update(new.as_mut(), old.as_ref()),
            Part::Status => res.strategy.prepare_for_status_update(new.as_mut(), old.as_ref()),
            Part::Prepared | Part::Assign => {}
        }
        if res.strategy.tracks_generation() && part == Part::Main && res.strategy.spec_differs(new.as_ref(), old.as_ref()) {
            new.meta_mut().generation = Some(old.meta().generation.unwrap_or(0) + 1);
        }
        if new.meta().uid != old.meta().uid {
            errs.push(FieldError::invalid(
                "metadata.uid",
                new.meta().uid.clone().unwrap_or_default(),
                "field is immutable",
            ));
        }
        errs.extend(validate_meta(res, new.meta(), false));
        match part {
            Part::Main | Part::Prepared => errs.extend(res.strategy.validate_update(new.as_ref(), old.as_ref())),
            Part::Status => errs.extend(res.strategy.validate_status_update(new.as_ref(), old.as_ref())),
            Part::Assign => {}
        }
        if !errs.is_empty() {
            return Err(ApiError::invalid(&info.group, &info.kind, name, &errs));
        }
        admission::validate(api, &admission, new.as_ref()).await?;
        // a finalizer was removed from an object being deleted: it may go now
        let finished = new.meta().deletion_timestamp.is_some()
            && new.meta().finalizers.as_ref().is_none_or(Vec::is_empty)
            && new.meta().deletion_grace_period_seconds.unwrap_or(0) == 0
            && !res.strategy.blocks_deletion(new.as_ref());
        if let Some(h) = &hooks {
            h.before_update(api, new.as_mut(), old.as_ref(), opts.dry_run).await?;
        }
        let subresource = if part == Part::Status { "status" } else { "" };
        track_managed_fields(res, Some(old.as_ref()), new.as_mut(), opts, subresource)?;
        // unchanged: no write, same resourceVersion (upstream's no-op update)
        let mut cmp_new = new.clone_box();
        cmp_new.meta_mut().resource_version = None;
        let mut cmp_old = old.clone_box();
        cmp_old.meta_mut().resource_version = None;
        if cmp_new.equals(cmp_old.as_ref()) && !finished {
            let bytes = cmp_old.to_json().map_err(internal)?;
            return Ok((with_resource_version(&bytes, old_rev), false));
        }
        let bytes = encode_for_storage(new.as_mut())?;
        if opts.dry_run {
            return Ok((with_resource_version(&bytes, old_rev), false));
        }
        let op = if finished { TxnOp::Delete } else { TxnOp::Put(Bytes::from(bytes.clone())) };
        let resp = api.storage.txn(&key, old_rev, op).await.map_err(internal)?;
        if resp.succeeded {
            if let Some(h) = &hooks {
                if finished {
                    h.after_delete(api, new.as_ref()).await;
                } else {
                    h.after_update(api, new.as_ref(), old.as_ref()).await;
                }
            }
            return Ok((with_resource_version(&bytes, resp.revision), false));
        }
        if requested_rv_num.is_some() {
            return Err(ApiError::modified(&info.group, &info.plural, name));
        }
        // unconditional update raced another writer: read again and retry
    }
    Err(ApiError::modified(&info.group, &info.plural, name))
}

fn check_preconditions(res: &Resource, name: &str, obj: &dyn Object, rev: i64, opts: &DeleteOptions) -> ApiResult<()> {
    let Some(p) = &opts.preconditions else { return Ok(()) };
    let info = &res.info;
    if let Some(uid) = p.uid.as_deref() {
        let actual = obj.meta().uid.as_deref().unwrap_or("");
        if uid != actual {
            return Err(ApiError::conflict(
                &info.group,
                &info.plural,
                name,
                &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {actual}"),
            ));
        }
    }
    if let Some(rv) = p.resource_version.as_deref()
        && rv != rev.to_string() {
            return Err(ApiError::conflict(
                &info.group,
                &info.plural,
                name,
                &format!("Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {rev}"),
            ));
        }
    Ok(())
}

/// The finalizer the garbage collector honours for a propagation policy.
fn policy_finalizer(opts: &DeleteOptions) -> Option<&'static str> {
    match opts.propagation_policy.as_deref() {
        Some("Orphan") => Some("orphan"),
        Some("Foreground") => Some("foregroundDeletion"),
        Some(_) => None,
        None => match opts.orphan_dependents {
            Some(true) => Some("orphan"),
            _ => None,
        },
    }
}

/// Validates delete options (upstream's ValidateDeleteOptions).
pub fn validate_delete_options(opts: &DeleteOptions) -> ApiResult<()> {
    let mut errs = ErrorList::new();
    if let Some(p) = opts.propagation_policy.as_deref() {
        if !matches!(p, "Orphan" | "Background" | "Foreground") {
            errs.push(FieldError::not_supported("propagationPolicy", p, &["Foreground", "Background", "Orphan", "nil"]));
        }
        if opts.orphan_dependents.is_some() {
            errs.push(FieldError::invalid(
                "propagationPolicy",
                p,
                "orphanDependents and deletionPropagation cannot be both set",
            ));
        }
    }
    if opts.grace_period_seconds.is_some_and(|g| g < 0) {
        // upstream treats negative as "use the default"; accepted
    }
    for d in &opts.dry_run {
        if d != "All" {
            errs.push(FieldError::not_supported("dryRun", d.as_str(), &["All"]));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid("meta.k8s.io", "DeleteOptions", "", &errs))
    }
}

/// Deletes an object (or marks it, for finalizers and graceful deletion).
pub async fn delete(api: &Api, res: &Arc<Resource>, namespace: &str, name: &str, opts: &DeleteOptions) -> ApiResult<Deleted> {
    let info = &res.info;
    let key = res.key(namespace, name);
    let dry_run = !opts.dry_run.is_empty();
    let hooks = api.hooks(res);
    for _attempt in 0..32 {
        let Some((mut obj, rev)) = read(api, res, &key).await? else {
            return Err(ApiError::not_found(&info.group, &info.plural, name));
        };
        check_preconditions(res, name, obj.as_ref(), rev, opts)?;
        let user = crate::context::user();
        let admission = admission::Request {
            operation: admission::Operation::Delete,
            user: &user,
            res,
            subresource: "",
            namespace,
            name,
            old: Some(obj.as_ref()),
            dry_run,
        };
        admission::validate_delete(api, &admission).await?;
        let decision = hooks.as_ref().and_then(|h| h.delete_decision(obj.as_ref(), opts));
        let policy_fin = policy_finalizer(opts);
        let has_finalizers = obj.meta().finalizers.as_ref().is_some_and(|f| !f.is_empty());
        let (mark, grace, mutate): (bool, i64, Option<Mutation>) = match decision {
            Some(DeleteDecision::Refuse(e)) => return Err(e),
            Some(DeleteDecision::Mark { grace_seconds, mutate }) => (true, grace_seconds, Some(mutate)),
            Some(DeleteDecision::Now) | None => (has_finalizers || policy_fin.is_some(), 0, None),
        };
        if mark {
            // What a repeated delete of an object already being deleted changes nothing in is
            // not written (upstream's BeforeDelete: only a shorter grace period or a new
            // propagation finalizer is an update), so kubelets and controllers repeating a
            // delete do not make watch events, and a finalizer holder's write does not conflict.
            let before = if obj.meta().deletion_timestamp.is_some() { Some(obj.to_json().map_err(internal)?) } else { None };
            let meta = obj.meta_mut();
            let already = meta.deletion_timestamp.is_some();
            if !already {
                let when = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() + grace)
                    .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
                meta.deletion_timestamp = Some(Time(when));
                meta.deletion_grace_period_seconds = Some(grace);
            } else if let Some(old_grace) = meta.deletion_grace_period_seconds {
                // a shorter grace period may replace a longer one
                if grace < old_grace {
                    meta.deletion_grace_period_seconds = Some(grace);
                }
            }
            if let Some(f) = policy_fin {
                let list = meta.finalizers.get_or_insert_with(Vec::new);
                if !list.iter().any(|x| x == f) {
                    list.push(f.to_string());
                }
                if f == "orphan" {
                    list.retain(|x| x != "foregroundDeletion");
                } else {
                    list.retain(|x| x != "orphan");
                }
            }
            if let Some(m) = mutate {
                m(obj.as_mut());
            }
            if let Some(before) = before
                && obj.to_json().map_err(internal)? == before
            {
                let mut unchanged = obj;
                let bytes = encode_for_storage(unchanged.as_mut())?;
                return Ok(Deleted::Marked(with_resource_version(&bytes, rev)));
            }
            let bytes = encode_for_storage(obj.as_mut())?;
            if dry_run {
                return Ok(Deleted::Marked(with_resource_version(&bytes, rev)));
            }
            let resp = api.storage.txn(&key, rev, TxnOp::Put(Bytes::from(bytes.clone()))).await.map_err(internal)?;
            if resp.succeeded {
                return Ok(Deleted::Marked(with_resource_version(&bytes, resp.revision)));
            }
            continue;
        }
        let bytes = obj.to_json().map_err(internal)?;
        if dry_run {
            return Ok(Deleted::Gone(with_resource_version(&bytes, rev), obj));
        }
        let resp = api.storage.txn(&key, rev, TxnOp::Delete).await.map_err(internal)?;
        if resp.succeeded {
            if let Some(h) = &hooks {
                h.after_delete(api, obj.as_ref()).await;
            }
            return Ok(Deleted::Gone(with_resource_version(&bytes, rev), obj));
        }
    }
    Err(ApiError::modified(&info.group, &info.plural, name))
}

/// List request options.
#[derive(Clone, Debug, Default)]
pub struct ListOptions {
    /// What to select.
    pub filter: Filter,
    /// `resourceVersion`.
    pub resource_version: Option<String>,
    /// `resourceVersionMatch`.
    pub resource_version_match: Option<String>,
    /// `limit` (0 = none).
    pub limit: i64,
    /// `continue`.
    pub continue_token: Option<String>,
}

/// A list's items and its list metadata.
pub struct ListResult {
    /// Items, in key order.
    pub items: Vec<Arc<CachedObject>>,
    /// The list's resourceVersion.
    pub rv: i64,
    /// Continue token for the next page.
    pub continue_token: Option<String>,
    /// Items left after this page (when known).
    pub remaining: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ContinueToken {
    v: String,
    rv: i64,
    start: String,
}

fn encode_continue(rv: i64, start: &str) -> String {
    use base64::Engine;
    let t = ContinueToken { v: "meta.k8s.io/v1".into(), rv, start: start.to_string() };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&t).unwrap_or_default())
}

fn decode_continue(token: &str) -> ApiResult<ContinueToken> {
    use base64::Engine;
    let bad = |m: String| ApiError::bad_request(format!("continue key is not valid: {m}"));
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|e| bad(e.to_string()))?;
    let t: ContinueToken = serde_json::from_slice(&raw).map_err(|e| bad(e.to_string()))?;
    if t.v != "meta.k8s.io/v1" {
        return Err(bad(format!("got version {}, expected meta.k8s.io/v1", t.v)));
    }
    if t.rv <= 0 {
        return Err(bad("incorrect encoded start resourceVersion (version meta.k8s.io/v1)".into()));
    }
    if t.start.contains("..") || t.start.starts_with('/') {
        return Err(bad("continue key is not valid: invalid start key".into()));
    }
    Ok(t)
}

/// Upstream's text for an expired continue token.
pub const CONTINUE_EXPIRED: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

fn parse_rv(s: &str) -> ApiResult<i64> {
    s.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
        let mut errs = ErrorList::new();
        errs.push(FieldError::invalid("resourceVersion", s, "must be a valid resource version"));
        ApiError::invalid("meta.k8s.io", "ListOptions", "", &errs)
    })
}

/// Lists objects: from the watch cache, or from storage for pages and exact historical reads.
pub async fn list(api: &Api, res: &Arc<Resource>, opts: &ListOptions) -> ApiResult<ListResult> {
    let cache = api.caches.cache(res).ok_or_else(|| ApiError::internal("no cache for resource"))?;
    let rv_str = opts.resource_version.as_deref().unwrap_or("");
    let rv_match = opts.resource_version_match.as_deref().unwrap_or("");
    match rv_match {
        "" | "NotOlderThan" | "Exact" => {}
        other => {
            let mut errs = ErrorList::new();
            errs.push(FieldError::not_supported("resourceVersionMatch", other, &["Exact", "NotOlderThan", ""]));
            return Err(ApiError::invalid("meta.k8s.io", "ListOptions", "", &errs));
        }
    }
    if !rv_match.is_empty() && rv_str.is_empty() {
        let mut errs = ErrorList::new();
        errs.push(FieldError::forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden unless resourceVersion is provided"));
        return Err(ApiError::invalid("meta.k8s.io", "ListOptions", "", &errs));
    }
    if let Some(token) = opts.continue_token.as_deref().filter(|t| !t.is_empty()) {
        if !rv_str.is_empty() && rv_str != "0" {
            let mut errs = ErrorList::new();
            errs.push(FieldError::forbidden("resourceVersion", "specifying resource version is not allowed when using continue"));
            return Err(ApiError::invalid("meta.k8s.io", "ListOptions", "", &errs));
        }
        let t = decode_continue(token)?;
        let prefix = res.list_prefix(&opts.filter.namespace);
        return list_storage(api, res, opts, t.rv, &format!("{prefix}{}", t.start)).await;
    }
    let prefix = res.list_prefix(&opts.filter.namespace);
    if rv_match == "Exact" {
        let rv = parse_rv(rv_str)?;
        if rv == 0 {
            let mut errs = ErrorList::new();
            errs.push(FieldError::forbidden("resourceVersionMatch", "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""));
            return Err(ApiError::invalid("meta.k8s.io", "ListOptions", "", &errs));
        }
        return list_storage(api, res, opts, rv, &prefix).await;
    }
    if opts.limit > 0 && rv_str != "0" {
        // paged lists are served from storage at one revision, as upstream 1.32 does
        let rv = if rv_str.is_empty() {
            0
        } else {
            let want = parse_rv(rv_str)?;
            api.caches.wait_for(want, Duration::from_secs(3)).await?;
            0
        };
        return list_storage(api, res, opts, rv, &prefix).await;
    }
    match rv_str {
        "" => {
            api.caches.wait_fresh().await?;
        }
        "0" => {}
        s => {
            let want = parse_rv(s)?;
            api.caches.wait_for(want, Duration::from_secs(3)).await?;
        }
    }
    let (items, rv) = cache.list(&opts.filter);
    Ok(ListResult { items, rv, continue_token: None, remaining: None })
}

async fn list_storage(api: &Api, res: &Arc<Resource>, opts: &ListOptions, revision: i64, start: &str) -> ApiResult<ListResult> {
    let prefix = res.list_prefix(&opts.filter.namespace);
    let end = storage::prefix_end(&prefix);
    let limit = if opts.limit > 0 { opts.limit } else { i64::MAX };
    let selecting = !opts.filter.labels.is_empty() || !opts.filter.fields.is_empty();
    let mut items = Vec::new();
    let mut cursor = start.to_string();
    let mut read_rev = revision;
    let mut remaining = None;
    let mut next: Option<String> = None;
    loop {
        let want = (limit - items.len() as i64).clamp(1, 10_000);
        let resp = api
            .storage
            .range(RangeRequest { start: cursor.clone(), end: end.clone(), revision: read_rev, limit: want, count_only: false })
            .await;
        let resp = match resp {
            Ok(r) => r,
            Err(storage::Error::Compacted { .. }) => {
                if opts.continue_token.is_some() {
                    return Err(ApiError::resource_expired(CONTINUE_EXPIRED));
                }
                return Err(ApiError::resource_expired(format!("too old resource version: {revision}")));
            }
            Err(storage::Error::FutureRevision { requested, current }) => {
                return Err(ApiError::too_large_resource_version(requested, current));
            }
            Err(e) => return Err(internal(e)),
        };
        read_rev = resp.revision;
        let n = resp.kvs.len();
        for kv in &resp.kvs {
            let o = CachedObject::from_stored(res, &kv.key, &kv.value, kv.mod_revision).map_err(internal)?;
            if opts.filter.matches(&o) {
                items.push(Arc::new(o));
            }
        }
        let last_key = resp.kvs.last().map(|kv| kv.key.clone());
        if !resp.more {
            break;
        }
        let last_key = last_key.unwrap_or_default();
        cursor = format!("{last_key}\0");
        if items.len() as i64 >= limit {
            next = Some(cursor.clone());
            if !selecting {
                remaining = Some(resp.count - n as i64);
            }
            break;
        }
    }
    let continue_token = next.map(|k| encode_continue(read_rev, k.strip_prefix(&prefix).unwrap_or(&k)));
    Ok(ListResult { items, rv: read_rev, continue_token, remaining })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip() {
        let t = encode_continue(42, "default/web\0");
        let back = decode_continue(&t).unwrap();
        assert_eq!(back.rv, 42);
        assert_eq!(back.start, "default/web\0");
        assert_eq!(decode_continue("!!!").unwrap_err().code, 400);
        assert_eq!(decode_continue(&encode_continue(0, "a")).unwrap_err().code, 400);
    }

    #[test]
    fn generated_names() {
        let s = generate_suffix();
        assert_eq!(s.len(), 5);
        assert!(s.bytes().all(|b| GENERATE_CHARS.contains(&b)));
    }

    #[test]
    fn delete_option_rules() {
        let mut o = DeleteOptions { propagation_policy: Some("Sideways".into()), ..Default::default() };
        assert_eq!(validate_delete_options(&o).unwrap_err().code, 422);
        o.propagation_policy = Some("Foreground".into());
        validate_delete_options(&o).unwrap();
        assert_eq!(policy_finalizer(&o), Some("foregroundDeletion"));
        o.orphan_dependents = Some(true);
        assert!(validate_delete_options(&o).is_err());
    }
}
