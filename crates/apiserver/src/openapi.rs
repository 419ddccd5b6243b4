//! OpenAPI documents derived from the registry and the kinds' JSON schemas: `/openapi/v3` (the
//! index), `/openapi/v3/api/v1` and `/openapi/v3/apis/<group>/<version>` (what `kubectl explain`,
//! `kubectl create -f` and `kubectl apply` read), and `/openapi/v2` as JSON or as gnostic's
//! OpenAPIv2 protobuf (`openapi_v2_proto`; kubectl's query-parameter check falls back to it).
//!
//! Every write operation declares the `fieldValidation`, `dryRun` and `fieldManager` query
//! parameters; that is how kubectl learns the server validates fields itself. Kinds carry
//! `x-kubernetes-group-version-kind`.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{Response, StatusCode};
use parking_lot::RwLock;
use serde_json::{Map, Value, json};

use crate::Api;
use crate::registry::{Registry, Resource};
use crate::response::{self, Body};

/// Generated documents, cached until the registry changes.
#[derive(Default)]
pub struct Documents {
    inner: RwLock<Option<Cache>>,
}

struct Cache {
    generation: u64,
    /// "api/v1" or "apis/<g>/<v>" → (document, hash)
    v3: BTreeMap<String, (Bytes, String)>,
    v2: Bytes,
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() { format!("api/{version}") } else { format!("apis/{group}/{version}") }
}

fn hash(b: &[u8]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for x in b {
        h ^= *x as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016X}")
}

fn gvk(r: &Resource) -> Value {
    json!({ "group": r.info.group, "version": r.info.version, "kind": r.info.kind })
}

fn query_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "query", "description": description, "schema": { "type": "string", "uniqueItems": true } })
}

fn write_params() -> Vec<Value> {
    vec![
        query_param("dryRun", "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed"),
        query_param("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint."),
        query_param("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered."),
    ]
}

fn list_params() -> Vec<Value> {
    ["allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit", "resourceVersion", "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch"]
        .iter()
        .map(|n| query_param(n, ""))
        .collect()
}

fn op(r: &Resource, action: &str, id: &str, schema_ref: &str, params: Vec<Value>, body: bool) -> Value {
    let mut o = json!({
        "operationId": id,
        "parameters": params,
        "responses": { "200": { "description": "OK", "content": { "application/json": { "schema": { "$ref": schema_ref } } } }, "401": { "description": "Unauthorized" } },
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk(r),
    });
    if body {
        o["requestBody"] = json!({ "content": { "*/*": { "schema": { "$ref": schema_ref } } }, "required": true });
    }
    o
}

fn patch_op(r: &Resource, id: &str, schema_ref: &str) -> Value {
    let mut params = write_params();
    params.push(query_param("force", "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests."));
    json!({
        "operationId": id,
        "parameters": params,
        "requestBody": { "content": {
            "application/json-patch+json": { "schema": { "$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch" } },
            "application/merge-patch+json": { "schema": { "$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch" } },
            "application/strategic-merge-patch+json": { "schema": { "$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch" } },
            "application/apply-patch+yaml": { "schema": { "$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch" } }
        }, "required": true },
        "responses": { "200": { "description": "OK", "content": { "application/json": { "schema": { "$ref": schema_ref } } } } },
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": gvk(r),
    })
}

fn path_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "description": description, "required": true, "schema": { "type": "string", "uniqueItems": true } })
}

fn paths_for(r: &Resource, schema: &str, paths: &mut Map<String, Value>) {
    let i = &r.info;
    let prefix = if i.group.is_empty() { format!("/api/{}", i.version) } else { format!("/apis/{}/{}", i.group, i.version) };
    let kind = &i.kind;
    let sref = format!("#/components/schemas/{schema}");
    let list_ref = format!("#/components/schemas/{schema}List");
    let (coll, item, ns_suffix) = if i.namespaced {
        (format!("{prefix}/namespaces/{{namespace}}/{}", i.plural), format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", i.plural), "Namespaced")
    } else {
        (format!("{prefix}/{}", i.plural), format!("{prefix}/{}/{{name}}", i.plural), "")
    };
    let ns_param = || path_param("namespace", "object name and auth scope, such as for teams and projects");
    let mut coll_ops = json!({});
    if i.has_verb("list") {
        coll_ops["get"] = op(r, "list", &format!("list{ns_suffix}{kind}"), &list_ref, list_params(), false);
    }
    if i.has_verb("create") {
        coll_ops["post"] = op(r, "post", &format!("create{ns_suffix}{kind}"), &sref, write_params(), true);
    }
    if i.has_verb("deletecollection") {
        coll_ops["delete"] = op(r, "deletecollection", &format!("deletecollection{ns_suffix}{kind}"), "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Status", list_params(), false);
    }
    let mut common = vec![query_param("pretty", "If 'true', then the output is pretty printed.")];
    if i.namespaced {
        common.insert(0, ns_param());
    }
    coll_ops["parameters"] = json!(common);
    paths.insert(coll, coll_ops);

    let mut item_ops = json!({});
    if i.has_verb("get") {
        item_ops["get"] = op(r, "get", &format!("read{ns_suffix}{kind}"), &sref, vec![], false);
    }
    if i.has_verb("update") {
        item_ops["put"] = op(r, "put", &format!("replace{ns_suffix}{kind}"), &sref, write_params(), true);
    }
    if i.has_verb("patch") {
        item_ops["patch"] = patch_op(r, &format!("patch{ns_suffix}{kind}"), &sref);
    }
    if i.has_verb("delete") {
        item_ops["delete"] = op(r, "delete", &format!("delete{ns_suffix}{kind}"), &sref, vec![query_param("dryRun", ""), query_param("gracePeriodSeconds", ""), query_param("propagationPolicy", "")], false);
    }
    let mut item_common = vec![path_param("name", &format!("name of the {kind}"))];
    if i.namespaced {
        item_common.push(ns_param());
    }
    item_common.push(query_param("pretty", "If 'true', then the output is pretty printed."));
    item_ops["parameters"] = json!(item_common.clone());
    paths.insert(item.clone(), item_ops);

    for sub in &r.subresources {
        if sub.name != "status" {
            continue;
        }
        let mut s = json!({
            "get": op(r, "get", &format!("read{ns_suffix}{kind}Status"), &sref, vec![], false),
            "put": op(r, "put", &format!("replace{ns_suffix}{kind}Status"), &sref, write_params(), true),
            "patch": patch_op(r, &format!("patch{ns_suffix}{kind}Status"), &sref),
        });
        s["parameters"] = json!(item_common.clone());
        paths.insert(format!("{item}/status"), s);
    }
}

fn list_schema(schema: &str, r: &Resource) -> Value {
    json!({
        "description": format!("{} is a list of {}", r.info.list_kind(), r.info.kind),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": { "type": "string", "description": "APIVersion defines the versioned schema of this representation of an object." },
            "kind": { "type": "string", "description": "Kind is a string value representing the REST resource this object represents." },
            "items": { "type": "array", "items": { "$ref": format!("#/components/schemas/{schema}") } },
            "metadata": { "allOf": [{ "$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta" }], "default": {} },
        },
        "x-kubernetes-group-version-kind": [{ "group": r.info.group, "version": r.info.version, "kind": r.info.list_kind() }],
    })
}

/// Paths, extra schemas (lists, Patch) and (schema name, GVK) of a group version's kinds.
type GroupDoc = (Map<String, Value>, Map<String, Value>, Vec<(String, Value)>);

fn generate_group(resources: &[&std::sync::Arc<Resource>], generator: &mut schemars::SchemaGenerator) -> GroupDoc {
    let mut paths = Map::new();
    let mut kinds = Vec::new();
    let mut extra = Map::new();
    for r in resources {
        if let Some((name, inline)) = r.decoder().schema(generator) {
            if let Some(schema) = inline {
                extra.insert(name.clone(), schema);
            }
            paths_for(r, &name, &mut paths);
            extra.insert(format!("{name}List"), list_schema(&name, r));
            kinds.push((name, gvk(r)));
        }
    }
    let _ = generator.subschema_for::<k8s_openapi::apimachinery::pkg::apis::meta::v1::Status>();
    let _ = generator.subschema_for::<k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta>();
    let _ = generator.subschema_for::<k8s_openapi::apimachinery::pkg::apis::meta::v1::DeleteOptions>();
    extra.insert("io.k8s.apimachinery.pkg.apis.meta.v1.Patch".into(), json!({ "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.", "type": "object" }));
    (paths, extra, kinds)
}

fn finish_schemas(mut defs: Map<String, Value>, extra: Map<String, Value>, kinds: &[(String, Value)]) -> Map<String, Value> {
    defs.extend(extra);
    crate::patchmeta::annotate_schemas(&mut defs);
    for (name, g) in kinds {
        if let Some(Value::Object(s)) = defs.get_mut(name) {
            s.insert("x-kubernetes-group-version-kind".into(), json!([g]));
            // upstream never marks a kind's metadata required (clients validating against the
            // document would refuse objects the server accepts)
            if let Some(Value::Array(req)) = s.get_mut("required") {
                req.retain(|r| r != "metadata");
                if req.is_empty() {
                    s.remove("required");
                }
            }
        }
    }
    defs
}

fn build(reg: &Registry, generation: u64) -> Cache {
    let mut v3 = BTreeMap::new();
    let mut all_defs = Map::new();
    let mut all_paths = Map::new();
    for (group, versions) in reg.groups() {
        for version in versions {
            let resources: Vec<&std::sync::Arc<Resource>> = reg.in_group_version(&group, &version).collect();
            let mut generator = schemars::generate::SchemaSettings::openapi3().into_generator();
            let (paths, extra, kinds) = generate_group(&resources, &mut generator);
            let defs = finish_schemas(generator.take_definitions(true), extra, &kinds);
            let doc = json!({
                "openapi": "3.0.0",
                "info": { "title": "Kubernetes", "version": crate::KUBE_VERSION.2 },
                "paths": paths,
                "components": { "schemas": defs },
            });
            let bytes = serde_json::to_vec(&doc).unwrap_or_default();
            let h = hash(&bytes);
            all_paths.extend(paths);
            all_defs.extend(defs);
            v3.insert(gv_path(&group, &version), (Bytes::from(bytes), h));
        }
    }
    let v2 = json!({
        "swagger": "2.0",
        "info": { "title": "Kubernetes", "version": crate::KUBE_VERSION.2 },
        "paths": {},
        "definitions": all_defs,
    });
    let v2 = serde_json::to_string(&v2).unwrap_or_default().replace("#/components/schemas/", "#/definitions/");
    let _ = all_paths;
    Cache { generation, v3, v2: Bytes::from(v2) }
}

/// The merge schema of one built-in kind: the definitions reachable from it, built the first
/// time the kind is written (a server that writes ten kinds never builds the other hundreds).
pub fn schema_set_for<T: schemars::JsonSchema>() -> std::sync::Arc<apimachinery::schema::SchemaSet> {
    type Sets = parking_lot::Mutex<std::collections::HashMap<String, std::sync::Arc<apimachinery::schema::SchemaSet>>>;
    static SETS: std::sync::OnceLock<Sets> = std::sync::OnceLock::new();
    let name = T::schema_name().into_owned();
    let sets = SETS.get_or_init(Default::default);
    if let Some(s) = sets.lock().get(&name) {
        return s.clone();
    }
    let mut generator = schemars::generate::SchemaSettings::openapi3().into_generator();
    let _ = generator.subschema_for::<T>();
    let mut defs = generator.take_definitions(true);
    crate::patchmeta::annotate_schemas(&mut defs);
    let set = std::sync::Arc::new(apimachinery::schema::SchemaSet::from_definitions(&defs));
    sets.lock().entry(name).or_insert(set).clone()
}

impl Documents {
    fn with<T>(&self, reg: &Registry, f: impl FnOnce(&Cache) -> T) -> T {
        let generation = reg.generation;
        {
            let g = self.inner.read();
            if let Some(c) = g.as_ref().filter(|c| c.generation == generation) {
                return f(c);
            }
        }
        let c = build(reg, generation);
        let out = f(&c);
        *self.inner.write() = Some(c);
        out
    }
}

fn not_acceptable() -> Response<Body> {
    response::error(&apimachinery::ApiError::not_acceptable(&["application/json"]))
}

/// Serves `/openapi/...`.
pub fn handle(api: &Api, path: &str, accept: Option<&str>) -> Response<Body> {
    let reg = api.registry.read();
    let wants_json = accept.is_none_or(|a| a.split(',').any(|m| {
        let m = m.split(';').next().unwrap_or("").trim();
        matches!(m, "application/json" | "*/*" | "application/*" | "")
    }));
    if path == "/openapi/v2" {
        use crate::openapi_v2_proto::{self as pb, Format};
        let mut r = match pb::negotiate(accept) {
            Some(Format::Json) => api.openapi.with(&reg, |c| response::json(StatusCode::OK, c.v2.clone())),
            Some(Format::Protobuf) => api.openapi.with(&reg, |c| response::with_type(StatusCode::OK, pb::cached(&c.v2), pb::CONTENT_TYPE)),
            None => return response::error(&apimachinery::ApiError::not_acceptable(&["application/json", pb::MEDIA_TYPE])),
        };
        r.headers_mut().insert(http::header::VARY, http::HeaderValue::from_static("Accept"));
        return r;
    }
    if path == "/openapi/v3" {
        return api.openapi.with(&reg, |c| {
            let mut paths = Map::new();
            for (k, (_, h)) in &c.v3 {
                paths.insert(k.clone(), json!({ "serverRelativeURL": format!("/openapi/v3/{k}?hash={h}") }));
            }
            response::json(StatusCode::OK, serde_json::to_vec(&json!({ "paths": paths })).unwrap_or_default())
        });
    }
    if let Some(rest) = path.strip_prefix("/openapi/v3/") {
        if !wants_json {
            return not_acceptable();
        }
        return api.openapi.with(&reg, |c| match c.v3.get(rest) {
            Some((doc, _)) => {
                let mut r = response::json(StatusCode::OK, doc.clone());
                r.headers_mut().insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("public, immutable"));
                r
            }
            None => response::error(&apimachinery::ApiError::path_not_found()),
        });
    }
    response::error(&apimachinery::ApiError::path_not_found())
}
