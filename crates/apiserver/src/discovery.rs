//! API discovery, derived from the registry: the legacy documents (`/api`, `/apis`,
//! `/api/v1`, `/apis/<group>[/<version>]`) and aggregated discovery v2 (what kubectl 1.32 asks
//! for first).

use apimachinery::resource::group_version;
use serde_json::{Value, json};

use crate::registry::{Registry, Resource};

/// The content type of aggregated discovery v2 responses.
pub const AGGREGATED_V2: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
/// The content type of aggregated discovery v2beta1 responses.
pub const AGGREGATED_V2BETA1: &str = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

/// Which aggregated discovery version the `Accept` header asks for, if any.
pub fn wants_aggregated(accept: Option<&str>) -> Option<&'static str> {
    let accept = accept?;
    for part in accept.split(',') {
        let p: Vec<&str> = part.split(';').map(str::trim).collect();
        let has = |k: &str| p.contains(&k);
        if has("g=apidiscovery.k8s.io") && has("as=APIGroupDiscoveryList") {
            if has("v=v2") {
                return Some("v2");
            }
            if has("v=v2beta1") {
                return Some("v2beta1");
            }
        }
    }
    None
}

fn storage_version_hash(r: &Resource) -> String {
    use base64::Engine;
    // upstream: first 8 bytes of sha256 of "<group>/<version>/<kind>"; any stable hash serves the
    // purpose (clients compare it for change detection only)
    let s = format!("{}/{}/{}", r.info.group, r.info.version, r.info.kind);
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    base64::engine::general_purpose::STANDARD.encode(h.to_be_bytes())
}

/// `/api`.
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{ "clientCIDR": "0.0.0.0/0", "serverAddress": server_address }],
    })
}

fn group_entry(name: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> =
        versions.iter().map(|v| json!({ "groupVersion": group_version(name, v), "version": v })).collect();
    json!({
        "name": name,
        "versions": vs,
        "preferredVersion": { "groupVersion": group_version(name, &versions[0]), "version": versions[0] },
    })
}

/// `/apis`.
pub fn api_group_list(reg: &Registry) -> Value {
    let groups: Vec<Value> =
        reg.groups().iter().filter(|(g, _)| !g.is_empty()).map(|(g, vs)| group_entry(g, vs)).collect();
    json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups })
}

/// `/apis/<group>`, if served.
pub fn api_group(reg: &Registry, group: &str) -> Option<Value> {
    let groups = reg.groups();
    let (_, versions) = groups.iter().find(|(g, _)| g == group && !g.is_empty())?;
    let mut v = group_entry(group, versions);
    v["kind"] = json!("APIGroup");
    v["apiVersion"] = json!("v1");
    Some(v)
}

/// `/api/v1` or `/apis/<group>/<version>`, if served.
pub fn api_resource_list(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for r in reg.in_group_version(group, version) {
        let i = &r.info;
        let mut e = json!({
            "name": i.plural,
            "singularName": i.singular,
            "namespaced": i.namespaced,
            "kind": i.kind,
            "verbs": i.verbs,
            "storageVersionHash": storage_version_hash(r),
        });
        if !i.short_names.is_empty() {
            e["shortNames"] = json!(i.short_names);
        }
        if !i.categories.is_empty() {
            e["categories"] = json!(i.categories);
        }
        resources.push(e);
        for s in &r.subresources {
            let mut se = json!({
                "name": format!("{}/{}", i.plural, s.name),
                "singularName": "",
                "namespaced": i.namespaced,
                "kind": s.kind,
                "verbs": s.verbs,
            });
            if !s.group.is_empty() {
                se["group"] = json!(s.group);
            }
            if !s.version.is_empty() {
                se["version"] = json!(s.version);
            }
            resources.push(se);
        }
    }
    if resources.is_empty() {
        return None;
    }
    let mut v = json!({ "kind": "APIResourceList", "groupVersion": group_version(group, version), "resources": resources });
    if !group.is_empty() {
        v["apiVersion"] = json!("v1");
    }
    Some(v)
}

fn discovery_resource(r: &Resource) -> Value {
    let i = &r.info;
    let mut e = json!({
        "resource": i.plural,
        "responseKind": { "group": i.group, "version": i.version, "kind": i.kind },
        "scope": if i.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": i.singular,
        "verbs": i.verbs,
    });
    if !i.short_names.is_empty() {
        e["shortNames"] = json!(i.short_names);
    }
    if !i.categories.is_empty() {
        e["categories"] = json!(i.categories);
    }
    if !r.subresources.is_empty() {
        let subs: Vec<Value> = r
            .subresources
            .iter()
            .map(|s| {
                let g = if s.version.is_empty() { i.group.as_str() } else { s.group };
                let v = if s.version.is_empty() { i.version.as_str() } else { s.version };
                json!({
                    "subresource": s.name,
                    "responseKind": { "group": g, "version": v, "kind": s.kind },
                    "verbs": s.verbs,
                })
            })
            .collect();
        e["subresources"] = json!(subs);
    }
    e
}

/// Aggregated discovery for `/api` (legacy = true) or `/apis`.
pub fn aggregated(reg: &Registry, legacy: bool, version: &str) -> Value {
    let mut items = Vec::new();
    for (group, versions) in reg.groups() {
        if legacy != group.is_empty() {
            continue;
        }
        let vs: Vec<Value> = versions
            .iter()
            .map(|v| {
                let resources: Vec<Value> = reg.in_group_version(&group, v).map(|r| discovery_resource(r)).collect();
                json!({ "version": v, "resources": resources, "freshness": "Current" })
            })
            .collect();
        let mut meta = json!({ "creationTimestamp": null });
        if !group.is_empty() {
            meta["name"] = json!(group);
        }
        items.push(json!({ "metadata": meta, "versions": vs }));
    }
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {},
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_aggregated_accept() {
        let a = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(wants_aggregated(Some(a)), Some("v2"));
        assert_eq!(wants_aggregated(Some("application/json")), None);
        assert_eq!(wants_aggregated(None), None);
    }
}
