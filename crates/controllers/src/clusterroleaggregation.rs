//! The clusterrole-aggregation controller: a ClusterRole with an `aggregationRule` gets, as its
//! `rules`, the union of the rules of the ClusterRoles its label selectors match (so
//! `kubectl get clusterrole edit -o yaml` shows what `edit` grants, custom
//! `aggregate-to-edit` roles included). Every change to any ClusterRole re-evaluates every
//! aggregated role.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::rbac::v1::ClusterRole;
use kube::api::{Api, ListParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;

use crate::{Error, Result};

struct Ctx {
    api: Api<ClusterRole>,
}

/// Runs the controller with its own identity.
pub async fn run(client: kube::Client) {
    let api: Api<ClusterRole> = Api::all(client);
    Controller::new(api.clone(), watcher::Config::default())
        .run(reconcile, |_r, _e: &Error, _c| Action::requeue(Duration::from_secs(1)), Arc::new(Ctx { api }))
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "clusterrole aggregation");
            }
        })
        .await;
}

async fn reconcile(_changed: Arc<ClusterRole>, ctx: Arc<Ctx>) -> Result<Action> {
    let live = ctx.api.list(&ListParams::default()).await?.items;
    let mut computed = live.clone();
    rbac::aggregate_all(&mut computed);
    for (now, want) in live.iter().zip(&computed) {
        if now.aggregation_rule.is_none() || now.rules == want.rules {
            continue;
        }
        let mut updated = now.clone();
        updated.rules = want.rules.clone();
        let name = updated.metadata.name.clone().unwrap_or_default();
        match ctx.api.replace(&name, &PostParams::default(), &updated).await {
            Ok(_) => {}
            // someone else changed it: the watch brings us back
            Err(kube::Error::Api(e)) if e.code == 409 || e.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Action::await_change())
}
