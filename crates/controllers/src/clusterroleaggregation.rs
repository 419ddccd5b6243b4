//! The clusterrole-aggregation controller: a ClusterRole with an `aggregationRule` holds the
//! union of the rules of the ClusterRoles its selectors match (`rbac::aggregate`), kept up to
//! date as roles come, change and go — so a ClusterRole labelled
//! `rbac.authorization.k8s.io/aggregate-to-view: "true"` extends `view`, `edit` and `admin`.
//!
//! It keeps a cache of ClusterRoles (one watch) and, after each burst of changes, recomputes
//! every aggregated role to a fixed point in memory, writing only those whose rules changed.

use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::rbac::v1::ClusterRole;
use kube::api::{Api, PostParams};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};

/// Runs the controller until the watch ends.
pub async fn run(client: kube::Client) {
    let api: Api<ClusterRole> = Api::all(client);
    let (reader, writer) = reflector::store();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
    let watch = watcher(api.clone(), watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        // every event, deletions included: a deleted role takes its rules away
        .for_each(move |_| {
            let tx = tx.clone();
            async move {
                let _ = tx.try_send(());
            }
        });
    let sync = async move {
        while rx.recv().await.is_some() {
            // Let a burst of changes (a CRD installing a dozen roles) settle first.
            tokio::time::sleep(Duration::from_millis(100)).await;
            while rx.try_recv().is_ok() {}
            if let Err(e) = sync(&api, &reader).await {
                tracing::debug!(error = %e, "clusterrole aggregation");
                tokio::time::sleep(Duration::from_secs(1)).await;
                // try again with what the cache says then
                let _ = sync(&api, &reader).await;
            }
        }
    };
    tokio::join!(watch, sync);
}

async fn sync(api: &Api<ClusterRole>, reader: &Store<ClusterRole>) -> Result<(), kube::Error> {
    let mut roles: Vec<ClusterRole> = reader.state().iter().map(|r| (**r).clone()).collect();
    let changed = rbac::aggregate_all(&mut roles);
    for role in roles.iter().filter(|r| r.metadata.name.as_ref().is_some_and(|n| changed.contains(n))) {
        let name = role.metadata.name.as_deref().unwrap_or_default();
        match api.replace(name, &PostParams::default(), role).await {
            Ok(_) => tracing::debug!(role = %name, "aggregated"),
            // A newer version arrives through the watch and triggers another sync.
            Err(kube::Error::Api(e)) if e.code == 409 || e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
