//! The namespace controller: empties a terminating namespace (deletes every namespaced object
//! in it, through discovery, as upstream's namespaced-resources deleter does), then removes the
//! `kubernetes` finalizer through the `finalize` subresource so the namespace can go.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams};
use kube::discovery::{ApiResource, Discovery, Scope, verbs};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;

use crate::{Error, Result};

/// The finalizer this controller owns.
pub const FINALIZER: &str = "kubernetes";

struct Ctx {
    client: kube::Client,
}

/// Runs the namespace controller until the stream ends.
pub async fn run(client: kube::Client) {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ctx = Arc::new(Ctx { client });
    Controller::new(namespaces, watcher::Config::default())
        .run(reconcile, error_policy, ctx)
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "namespace reconcile");
            }
        })
        .await;
}

fn error_policy(_ns: Arc<Namespace>, err: &Error, _ctx: Arc<Ctx>) -> Action {
    match err {
        Error::Pending(_) => Action::requeue(Duration::from_millis(500)),
        _ => Action::requeue(Duration::from_secs(2)),
    }
}

async fn namespaced_resources(client: &kube::Client) -> Result<Vec<ApiResource>> {
    let discovery = Discovery::new(client.clone()).run().await.map_err(|e| Error::Discovery(e.to_string()))?;
    let mut out = Vec::new();
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            if caps.scope == Scope::Namespaced && caps.supports_operation(verbs::LIST) && caps.supports_operation(verbs::DELETE) {
                out.push(ar);
            }
        }
    }
    Ok(out)
}

async fn reconcile(ns: Arc<Namespace>, ctx: Arc<Ctx>) -> Result<Action> {
    let name = ns.metadata.name.clone().unwrap_or_default();
    if ns.metadata.deletion_timestamp.is_none() {
        return Ok(Action::await_change());
    }
    let finalizers = ns.spec.as_ref().and_then(|s| s.finalizers.clone()).unwrap_or_default();
    if !finalizers.iter().any(|f| f == FINALIZER) {
        return Ok(Action::await_change());
    }
    let mut remaining = 0usize;
    for ar in namespaced_resources(&ctx.client).await? {
        let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &name, &ar);
        let list = match api.list_metadata(&ListParams::default()).await {
            Ok(l) => l,
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 405 => continue,
            Err(e) => return Err(e.into()),
        };
        for item in list.items {
            let Some(obj_name) = item.metadata.name.clone() else { continue };
            remaining += 1;
            if item.metadata.deletion_timestamp.is_some() {
                continue;
            }
            match api.delete(&obj_name, &DeleteParams::background()).await {
                Ok(_) => {}
                Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    if remaining > 0 {
        return Err(Error::Pending(format!("namespace {name}: {remaining} objects still being deleted")));
    }
    // every object is gone: release the namespace
    let namespaces: Api<Namespace> = Api::all(ctx.client.clone());
    let mut fresh = namespaces.get(&name).await?;
    if let Some(spec) = fresh.spec.as_mut() {
        spec.finalizers = Some(finalizers.into_iter().filter(|f| f != FINALIZER).collect());
    }
    match namespaces.replace_subresource("finalize", &name, &PostParams::default(), &fresh).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 404 => {}
        Err(e) => return Err(e.into()),
    }
    tracing::info!(namespace = %name, "namespace emptied and finalized");
    Ok(Action::await_change())
}
