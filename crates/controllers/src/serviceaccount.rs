//! Two small per-namespace controllers: the service-account controller (every active namespace
//! has a `default` ServiceAccount) and the root-ca-cert publisher (every namespace has the
//! `kube-root-ca.crt` ConfigMap holding the cluster CA, which pods' projected token volumes
//! mount). Each runs with its own identity, as upstream's controllers do.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;

use crate::{Error, Result};

/// The ConfigMap the publisher keeps in every namespace.
pub const ROOT_CA_CONFIGMAP: &str = "kube-root-ca.crt";

fn active(ns: &Namespace) -> bool {
    ns.metadata.deletion_timestamp.is_none() && ns.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Terminating")
}

async fn run_over_namespaces<F, Fut>(client: kube::Client, what: &'static str, f: F)
where
    F: Fn(Arc<Namespace>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<()>> + Send + 'static,
{
    let namespaces: Api<Namespace> = Api::all(client);
    let f = Arc::new(f);
    Controller::new(namespaces, watcher::Config::default())
        .run(
            move |ns, f: Arc<Arc<F>>| {
                let fut = (f.as_ref())(ns);
                async move { fut.await.map(|_| Action::requeue(Duration::from_secs(300))) }
            },
            |_ns, _e: &Error, _f| Action::requeue(Duration::from_secs(1)),
            Arc::new(f),
        )
        .for_each(move |r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, controller = what, "reconcile");
            }
        })
        .await;
}

/// Runs the service-account controller: `reader` watches and reads (the controller-manager's
/// shared informer identity), `writer` creates (the controller's own identity).
pub async fn run_service_accounts(reader: kube::Client, writer: kube::Client) {
    let r = reader.clone();
    run_over_namespaces(reader, "service-account", move |ns| {
        let (r, c) = (r.clone(), writer.clone());
        async move {
            if !active(&ns) {
                return Ok(());
            }
            let name = ns.metadata.name.clone().unwrap_or_default();
            let read: Api<ServiceAccount> = Api::namespaced(r, &name);
            let api: Api<ServiceAccount> = Api::namespaced(c, &name);
            if read.get_opt("default").await?.is_none() {
                let sa = ServiceAccount { metadata: ObjectMeta { name: Some("default".into()), ..Default::default() }, ..Default::default() };
                match api.create(&PostParams::default(), &sa).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(e)) if e.code == 409 || e.code == 403 && e.message.contains("terminated") => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(())
        }
    })
    .await;
}

/// Runs the root CA publisher (`reader` and `writer` as for the service-account controller).
pub async fn run_root_ca_publisher(reader: kube::Client, writer: kube::Client, ca_pem: String) {
    let r = reader.clone();
    let ca = Arc::new(ca_pem);
    run_over_namespaces(reader, "root-ca-cert-publisher", move |ns| {
        let (r, c, ca) = (r.clone(), writer.clone(), ca.clone());
        async move {
            if !active(&ns) {
                return Ok(());
            }
            let name = ns.metadata.name.clone().unwrap_or_default();
            let read: Api<ConfigMap> = Api::namespaced(r, &name);
            let api: Api<ConfigMap> = Api::namespaced(c, &name);
            let mut data = BTreeMap::new();
            data.insert("ca.crt".to_string(), ca.to_string());
            match read.get_opt(ROOT_CA_CONFIGMAP).await? {
                Some(cm) if cm.data.as_ref() == Some(&data) => {}
                Some(_) => {
                    let patch = serde_json::json!({"data": data});
                    api.patch(ROOT_CA_CONFIGMAP, &PatchParams::default(), &Patch::Merge(&patch)).await?;
                }
                None => {
                    let mut annotations = BTreeMap::new();
                    annotations.insert(
                        "kubernetes.io/description".to_string(),
                        "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.".to_string(),
                    );
                    let cm = ConfigMap {
                        metadata: ObjectMeta { name: Some(ROOT_CA_CONFIGMAP.into()), annotations: Some(annotations), ..Default::default() },
                        data: Some(data),
                        ..Default::default()
                    };
                    match api.create(&PostParams::default(), &cm).await {
                        Ok(_) => {}
                        Err(kube::Error::Api(e)) if e.code == 409 || e.code == 403 => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            Ok(())
        }
    })
    .await;
}
