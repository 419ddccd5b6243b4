//! The token cleaner: bootstrap tokens (Secrets of type `bootstrap.kubernetes.io/token` in
//! kube-system) are deleted once their `expiration` has passed, as upstream's tokencleaner
//! does. (Authentication refuses an expired token even before it is deleted.)

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;

use crate::{Error, Result};

/// The Secret type of bootstrap tokens.
pub const BOOTSTRAP_TOKEN_TYPE: &str = "bootstrap.kubernetes.io/token";

struct Ctx {
    api: Api<Secret>,
}

/// Runs the cleaner with its own identity (a Role in kube-system).
pub async fn run(client: kube::Client) {
    let api: Api<Secret> = Api::namespaced(client, "kube-system");
    Controller::new(api.clone(), watcher::Config::default().fields(&format!("type={BOOTSTRAP_TOKEN_TYPE}")))
        .run(reconcile, |_s, _e: &Error, _c| Action::requeue(Duration::from_secs(5)), Arc::new(Ctx { api }))
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "token cleaner");
            }
        })
        .await;
}

async fn reconcile(secret: Arc<Secret>, ctx: Arc<Ctx>) -> Result<Action> {
    let expiration = secret
        .data
        .as_ref()
        .and_then(|d| d.get("expiration"))
        .and_then(|v| std::str::from_utf8(&v.0).ok())
        .and_then(|s| s.parse::<jiff::Timestamp>().ok());
    let Some(expiration) = expiration else { return Ok(Action::await_change()) };
    let now = jiff::Timestamp::now();
    if expiration > now {
        let left = (expiration.as_second() - now.as_second()).max(1) as u64;
        return Ok(Action::requeue(Duration::from_secs(left)));
    }
    let name = secret.metadata.name.clone().unwrap_or_default();
    match ctx.api.delete(&name, &DeleteParams::default()).await {
        Ok(_) => tracing::info!(secret = %name, "expired bootstrap token deleted"),
        Err(kube::Error::Api(e)) if e.code == 404 => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Action::await_change())
}
