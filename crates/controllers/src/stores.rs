//! Watched caches for the level-triggered controllers (node, endpoints, disruption, HPA, TTL):
//! a reflector store per watched kind, each change waking the controller's loop, which then
//! reconciles from the caches (upstream's shared informers feeding a work queue).

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::Resource;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use k8s_openapi::serde::de::DeserializeOwned;
use tokio::sync::Notify;

/// Something that wakes a controller loop: every watched change notifies it.
#[derive(Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    /// A new waker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Wakes the loop (a permit is stored if it is not waiting).
    pub fn wake(&self) {
        self.0.notify_one();
    }

    /// Waits for a change or until `timeout`, then lets a burst of changes settle for `settle`.
    pub async fn wait(&self, timeout: Duration, settle: Duration) {
        let _ = tokio::time::timeout(timeout, self.0.notified()).await;
        if !settle.is_zero() {
            tokio::time::sleep(settle).await;
        }
    }
}

/// Starts watching `api` into a store; each event wakes `wake`. The watch runs (with back-off on
/// errors) until the returned store's task is dropped with the runtime.
pub fn watch<K>(api: Api<K>, wake: &Wake) -> Store<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
{
    let (reader, writer) = reflector::store();
    let wake = wake.clone();
    let stream = reflector::reflector(writer, watcher(api, watcher::Config::default()).default_backoff());
    tokio::spawn(async move {
        stream
            .for_each(|ev| {
                if let Err(e) = &ev {
                    tracing::debug!(error = %e, "watch");
                }
                wake.wake();
                async {}
            })
            .await;
    });
    reader
}

/// Waits until every store has its first list.
pub async fn ready<K>(stores: &[&Store<K>])
where
    K: Resource + Clone + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone,
{
    for s in stores {
        let _ = s.wait_until_ready().await;
    }
}

/// Whether an API error is a 404.
pub fn not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// Whether an API error is a 409 (conflict or already exists).
pub fn conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

/// The time now as the API's `Time`.
pub fn now() -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now())
}

/// An object's `namespace/name`.
pub fn key<K: Resource>(o: &K) -> String {
    format!("{}/{}", o.meta().namespace.as_deref().unwrap_or(""), o.meta().name.as_deref().unwrap_or(""))
}

/// Whether a pod's `Ready` condition is `True`.
pub fn pod_ready(pod: &k8s_openapi::api::core::v1::Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// An event recorder reporting as `controller`.
pub fn recorder(client: &kube::Client, controller: &str) -> kube::runtime::events::Recorder {
    kube::runtime::events::Recorder::new(
        client.clone(),
        kube::runtime::events::Reporter { controller: controller.to_string(), instance: None },
    )
}

/// Publishes an event about `obj` in the background ([`crate::publish_event`]).
pub async fn event<K: Resource<DynamicType = ()>>(
    rec: &kube::runtime::events::Recorder,
    obj: &K,
    warning: bool,
    reason: &str,
    note: String,
) {
    let type_ = if warning { kube::runtime::events::EventType::Warning } else { kube::runtime::events::EventType::Normal };
    crate::publish_event(rec, obj.object_ref(&()), type_, reason, reason, note, None);
}

/// The API resource of a workload kind that has a `scale` subresource and may own pods
/// (what PodDisruptionBudgets and HorizontalPodAutoscalers point at).
pub fn scalable_resource(api_version: &str, kind: &str) -> Option<kube::discovery::ApiResource> {
    let plural = match (api_version, kind) {
        ("apps/v1", "Deployment") => "deployments",
        ("apps/v1", "ReplicaSet") => "replicasets",
        ("apps/v1", "StatefulSet") => "statefulsets",
        ("v1", "ReplicationController") => "replicationcontrollers",
        _ => return None,
    };
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    Some(kube::discovery::ApiResource { group: group.into(), version: version.into(), api_version: api_version.into(), kind: kind.into(), plural: plural.into() })
}
