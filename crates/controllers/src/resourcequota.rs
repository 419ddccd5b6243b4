//! The resourcequota controller: keeps every ResourceQuota's `status.hard` equal to its spec
//! and `status.used` equal to what the namespace's objects use, so usage released by deleted
//! objects returns to the quota (admission only ever adds). It recounts a quota when it
//! changes and every ten seconds.

use std::sync::Arc;
use std::time::Duration;

use quota::{self, ResourceList};
use futures::StreamExt;
use k8s_openapi::api::core::v1::ResourceQuota;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::discovery::{ApiResource, Discovery};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use serde_json::Value;

use crate::{Error, Result};

/// How often a quota is recounted.
pub const RESYNC: Duration = Duration::from_secs(10);

struct Ctx {
    client: kube::Client,
}

/// Runs the controller with its own identity.
pub async fn run(client: kube::Client) {
    let quotas: Api<ResourceQuota> = Api::all(client.clone());
    Controller::new(quotas, watcher::Config::default())
        .run(reconcile, |_q, _e: &Error, _c| Action::requeue(Duration::from_secs(2)), Arc::new(Ctx { client }))
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "resourcequota");
            }
        })
        .await;
}

const CORE: &[&str] = &["pods", "services", "configmaps", "secrets", "persistentvolumeclaims", "replicationcontrollers", "resourcequotas"];

async fn resources_for(client: &kube::Client, hard: &ResourceList) -> Result<Vec<ApiResource>> {
    let mut wanted: Vec<(String, String)> = CORE.iter().map(|p| (String::new(), p.to_string())).collect();
    for k in hard.keys() {
        if let Some(rest) = k.strip_prefix("count/") {
            let (plural, group) = rest.split_once('.').unwrap_or((rest, ""));
            let w = (group.to_string(), plural.to_string());
            if !wanted.contains(&w) {
                wanted.push(w);
            }
        }
    }
    let needs_discovery = wanted.iter().any(|(g, _)| !g.is_empty());
    let discovery = if needs_discovery { Some(Discovery::new(client.clone()).run().await.map_err(|e| Error::Discovery(e.to_string()))?) } else { None };
    let mut out = Vec::new();
    for (group, plural) in wanted {
        if group.is_empty() {
            out.push(ApiResource { group: String::new(), version: "v1".into(), api_version: "v1".into(), kind: String::new(), plural });
            continue;
        }
        if let Some(d) = &discovery
            && let Some(g) = d.get(&group)
            && let Some((ar, _)) = g.recommended_resources().into_iter().find(|(ar, _)| ar.plural == plural)
        {
            out.push(ar);
        }
    }
    Ok(out)
}

async fn reconcile(q: Arc<ResourceQuota>, ctx: Arc<Ctx>) -> Result<Action> {
    let ns = q.metadata.namespace.clone().unwrap_or_default();
    let name = q.metadata.name.clone().unwrap_or_default();
    let spec_value = serde_json::to_value(q.spec.clone().unwrap_or_default()).unwrap_or(Value::Null);
    let hard = quota::parse_list(spec_value.get("hard"));
    let mut used: ResourceList = hard.keys().map(|k| (k.clone(), apimachinery::quantity::Quantity::from_int(0))).collect();
    for ar in resources_for(&ctx.client, &hard).await? {
        let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &ns, &ar);
        let list = match api.list(&ListParams::default()).await {
            Ok(l) => l,
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 405 => continue,
            Err(e) => return Err(e.into()),
        };
        for item in list.items {
            let v = serde_json::to_value(&item).unwrap_or(Value::Null);
            if !quota::scopes_match(&spec_value, &ar.group, &ar.plural, &v) {
                continue;
            }
            for (k, amount) in quota::usage(&ar.group, &ar.plural, &v) {
                if let Some(cur) = used.get_mut(&k) {
                    *cur = cur.add(&amount);
                }
            }
        }
    }
    let status = q.status.clone().unwrap_or_default();
    let current = serde_json::to_value(&status).unwrap_or(Value::Null);
    let same = quota::parse_list(current.get("hard")) == hard && quota::parse_list(current.get("used")) == used;
    if !same {
        let mut updated = (*q).clone();
        let new_status = serde_json::json!({"hard": quota::to_json(&hard), "used": quota::to_json(&used)});
        updated.status = serde_json::from_value(new_status).ok();
        let api: Api<ResourceQuota> = Api::namespaced(ctx.client.clone(), &ns);
        match api.replace_status(&name, &PostParams::default(), &updated).await {
            Ok(_) => {}
            // admission reserved usage meanwhile: recount soon
            Err(kube::Error::Api(e)) if e.code == 409 => return Ok(Action::requeue(Duration::from_millis(200))),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Action::requeue(RESYNC))
}
