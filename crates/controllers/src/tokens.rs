//! The token controller (upstream's `serviceaccount-token` controller): a Secret of type
//! `kubernetes.io/service-account-token` that names a ServiceAccount in its
//! `kubernetes.io/service-account.name` annotation gets a signed, non-expiring legacy token,
//! the cluster CA and the namespace in its data. Such tokens are only made when a user asks for
//! one by creating the Secret; bound, expiring tokens (TokenRequest) are the default.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;

use crate::{Error, Result};

/// The Secret type this controller fills.
pub const TOKEN_TYPE: &str = "kubernetes.io/service-account-token";
const NAME_ANNOTATION: &str = "kubernetes.io/service-account.name";
const UID_ANNOTATION: &str = "kubernetes.io/service-account.uid";

struct Ctx {
    client: kube::Client,
    key: Arc<pki::jwt::SigningKey>,
    ca_pem: String,
}

/// Runs the controller.
pub async fn run(client: kube::Client, key: Arc<pki::jwt::SigningKey>, ca_pem: String) {
    let secrets: Api<Secret> = Api::all(client.clone());
    let ctx = Arc::new(Ctx { client, key, ca_pem });
    Controller::new(secrets, watcher::Config::default().fields(&format!("type={TOKEN_TYPE}")))
        .run(reconcile, |_s, _e: &Error, _c| Action::requeue(Duration::from_secs(1)), ctx)
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "token controller");
            }
        })
        .await;
}

async fn reconcile(secret: Arc<Secret>, ctx: Arc<Ctx>) -> Result<Action> {
    if secret.type_.as_deref() != Some(TOKEN_TYPE) || secret.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let ns = secret.metadata.namespace.clone().unwrap_or_default();
    let name = secret.metadata.name.clone().unwrap_or_default();
    let annotations = secret.metadata.annotations.clone().unwrap_or_default();
    let Some(sa_name) = annotations.get(NAME_ANNOTATION).cloned() else { return Ok(Action::await_change()) };
    let has_token = secret.data.as_ref().is_some_and(|d| d.get("token").is_some_and(|t| !t.0.is_empty()));
    if has_token {
        return Ok(Action::await_change());
    }
    let sas: Api<ServiceAccount> = Api::namespaced(ctx.client.clone(), &ns);
    let Some(sa) = sas.get_opt(&sa_name).await? else {
        // the account may be created later; look again
        return Ok(Action::requeue(Duration::from_secs(5)));
    };
    let sa_uid = sa.metadata.uid.clone().unwrap_or_default();
    if let Some(want) = annotations.get(UID_ANNOTATION)
        && !want.is_empty()
        && *want != sa_uid
    {
        return Ok(Action::await_change()); // made for an account that no longer exists
    }
    let token = ctx
        .key
        .sign(&pki::jwt::legacy_claims(&ns, &sa_name, &sa_uid, &name))
        .map_err(|e| Error::Pending(format!("signing: {e}")))?;
    let mut updated = (*secret).clone();
    updated.metadata.annotations.get_or_insert_with(BTreeMap::new).insert(UID_ANNOTATION.into(), sa_uid);
    let data = updated.data.get_or_insert_with(BTreeMap::new);
    data.insert("token".into(), ByteString(token.into_bytes()));
    data.insert("ca.crt".into(), ByteString(ctx.ca_pem.clone().into_bytes()));
    data.insert("namespace".into(), ByteString(ns.clone().into_bytes()));
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &ns);
    secrets.replace(&name, &PostParams::default(), &updated).await?;
    Ok(Action::await_change())
}
