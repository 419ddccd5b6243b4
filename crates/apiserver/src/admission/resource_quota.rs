//! ResourceQuota: a new object may not push a namespace over any of its quotas. The quota's
//! `status.used` is the ledger: admission adds the new object's usage to it with a
//! compare-and-swap write of the quota's status before the object is stored (upstream's
//! design), so concurrent creates cannot both take the last unit; the resourcequota controller
//! recomputes `used` from the objects that exist, releasing what deleted objects held.

use quota::{self, ResourceList};
use apimachinery::{ApiError, ApiResult};
use serde_json::{Value, json};

use super::{Operation, Request};
use crate::Api;
use crate::cache::Filter;
use crate::registry::Object;
use crate::store;

fn quotas(api: &Api, ns: &str) -> Vec<Value> {
    api.cached("", "resourcequotas", ns)
}

/// The usage of everything in a namespace a quota counts, from the watch cache.
pub fn compute_used(api: &Api, ns: &str, quota_spec: &Value, hard: &ResourceList) -> ResourceList {
    let mut used: ResourceList = hard.keys().map(|k| (k.clone(), apimachinery::quantity::Quantity::from_int(0))).collect();
    let resources: Vec<_> = api.registry.read().resources.iter().filter(|r| r.info.namespaced).cloned().collect();
    for res in resources {
        let Some(cache) = api.caches.cache(&res) else { continue };
        let filter = Filter::in_namespace(ns);
        let count_key = quota::count_name(&res.info.group, &res.info.plural);
        let relevant = hard.contains_key(&count_key) || (res.info.group.is_empty() && matches!(res.info.plural.as_str(), "pods" | "services" | "configmaps" | "secrets" | "persistentvolumeclaims" | "replicationcontrollers" | "resourcequotas"));
        if !relevant {
            continue;
        }
        for o in cache.list(&filter).0 {
            let v: Value = serde_json::from_slice(&o.json).unwrap_or(Value::Null);
            if !quota::scopes_match(quota_spec, &res.info.group, &res.info.plural, &v) {
                continue;
            }
            for (k, q) in quota::usage(&res.info.group, &res.info.plural, &v) {
                if let Some(cur) = used.get_mut(&k) {
                    *cur = cur.add(&q);
                }
            }
        }
    }
    used
}

/// Checks a create against the namespace's quotas and records its usage in them.
pub async fn validate(api: &Api, req: &Request<'_>, obj: &dyn Object) -> ApiResult<()> {
    if req.operation != Operation::Create || !req.subresource.is_empty() || !req.res.info.namespaced {
        return Ok(());
    }
    let Some(qres) = api.resource("", "v1", "resourcequotas") else { return Ok(()) };
    let mut list = quotas(api, req.namespace);
    if list.is_empty() {
        return Ok(());
    }
    let value = obj.to_value().map_err(ApiError::internal)?;
    let info = &req.res.info;
    for attempt in 0..16 {
        if attempt > 0 {
            list = quotas(api, req.namespace);
        }
        let mut conflict = false;
        for q in std::mem::take(&mut list) {
            let name = q.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
            let spec = q.get("spec").cloned().unwrap_or(json!({}));
            let hard = quota::parse_list(spec.get("hard"));
            if hard.is_empty() || !quota::scopes_match(&spec, &info.group, &info.plural, &value) {
                continue;
            }
            if info.group.is_empty()
                && info.plural == "pods"
                && let Some(msg) = quota::missing_required(&hard, &value)
            {
                return Err(ApiError::forbidden("", &info.plural, req.name, &format!("failed quota: {name}: {msg}")));
            }
            let delta: ResourceList = quota::usage(&info.group, &info.plural, &value).into_iter().filter(|(k, _)| hard.contains_key(k)).collect();
            if delta.is_empty() {
                continue;
            }
            let status_hard = quota::parse_list(q.pointer("/status/hard"));
            let used = if status_hard == hard {
                let mut u = quota::parse_list(q.pointer("/status/used"));
                for k in hard.keys() {
                    u.entry(k.clone()).or_insert_with(|| apimachinery::quantity::Quantity::from_int(0));
                }
                u
            } else {
                compute_used(api, req.namespace, &spec, &hard)
            };
            let (mut requested, mut failed_used, mut limited) = (ResourceList::new(), ResourceList::new(), ResourceList::new());
            let mut new_used = used.clone();
            for (k, d) in &delta {
                let cur = used.get(k).cloned().unwrap_or_else(|| apimachinery::quantity::Quantity::from_int(0));
                let next = cur.add(d);
                if next.cmp_to(&hard[k]).is_gt() {
                    requested.insert(k.clone(), d.clone());
                    failed_used.insert(k.clone(), cur);
                    limited.insert(k.clone(), hard[k].clone());
                }
                new_used.insert(k.clone(), next);
            }
            if !requested.is_empty() {
                return Err(ApiError::forbidden(
                    "",
                    &info.plural,
                    req.name,
                    &format!(
                        "exceeded quota: {name}, requested: {}, used: {}, limited: {}",
                        quota::pretty(&requested),
                        quota::pretty(&failed_used),
                        quota::pretty(&limited)
                    ),
                ));
            }
            if req.dry_run {
                continue;
            }
            // reserve: write the new ledger with compare-and-swap on the quota as cached
            let rev = q.pointer("/metadata/resourceVersion").and_then(Value::as_str).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0);
            let mut updated = q.clone();
            updated["status"] = json!({"hard": quota::to_json(&hard), "used": quota::to_json(&new_used)});
            let mut unknown = Vec::new();
            let obj = qres.strategy.decode(updated, &mut unknown).map_err(ApiError::internal)?;
            if !store::put_prepared(api, &qres, req.namespace, obj, rev).await? {
                conflict = true;
                break;
            }
        }
        if !conflict {
            return Ok(());
        }
        // another write took from a quota first: wait for the cache to see it, re-evaluate
        api.caches.wait_fresh().await?;
    }
    Err(ApiError::conflict("", "resourcequotas", "", "too many concurrent quota updates; try again"))
}
