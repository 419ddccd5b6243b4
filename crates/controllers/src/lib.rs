//! kube-controller-manager for ferrokube: the control loops that move the cluster's current state
//! toward the desired state. One module per controller; each is an API client (kube-rs) with its
//! own identity, never touching storage.
//!
//! It may depend on kube, k8s-openapi, apimachinery, quota (pure accounting logic), rbac (pure
//! policy logic) and pki
//! (the CSR signer holds the CA). It must never
//! depend on `storage` or `apiserver`:
//! everything it knows comes through the Kubernetes API.

pub mod appsutil;
pub mod certificates;
pub mod clusterroleaggregation;
pub mod cronjob;
pub mod csrapproving;
pub mod daemonset;
pub mod deployment;
pub mod disruption;
pub mod endpoints;
pub mod endpointslice;
pub mod endpointslicemirroring;
pub mod garbagecollector;
pub mod job;
pub mod leaderelection;
pub mod namespace;
pub mod nodeipam;
pub mod nodelifecycle;
pub mod persistentvolume;
pub mod podautoscaler;
pub mod podgc;
pub mod replicaset;
pub mod resourcequota;
pub mod serviceaccount;
pub mod statefulset;
pub mod stores;
pub mod tokencleaner;
pub mod tokens;
pub mod ttl;
pub mod ttlafterfinished;

/// Errors of a controller's reconcile step (all retried with back-off).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An API call failed.
    #[error("api: {0}")]
    Kube(#[from] kube::Error),
    /// Discovery failed.
    #[error("discovery: {0}")]
    Discovery(String),
    /// Content remains; try again later.
    #[error("{0}")]
    Pending(String),
}

/// Publishes an event in the background (events are best effort; failures are logged), as
/// upstream's event broadcaster does: a sync that creates or evicts many pods never waits for
/// its event writes. Every controller's event helper ends here.
pub(crate) fn publish_event(
    recorder: &kube::runtime::events::Recorder,
    regarding: k8s_openapi::api::core::v1::ObjectReference,
    type_: kube::runtime::events::EventType,
    reason: &str,
    action: &str,
    note: String,
    related: Option<k8s_openapi::api::core::v1::ObjectReference>,
) {
    let ev = kube::runtime::events::Event { type_, reason: reason.into(), note: Some(note), action: action.into(), secondary: related };
    let (recorder, reason) = (recorder.clone(), reason.to_string());
    tokio::spawn(async move {
        if let Err(e) = recorder.publish(&ev, &regarding).await {
            tracing::debug!(error = %e, reason, "event not recorded");
        }
    });
}

/// The retry of a failed reconcile for `kube::runtime::Controller::run`: soon (300 ms) when
/// the object only waits for others to catch up ([`Error::Pending`]), after a second otherwise.
pub(crate) fn retry_after<K, C>(_obj: std::sync::Arc<K>, err: &Error, _ctx: std::sync::Arc<C>) -> kube::runtime::controller::Action {
    use std::time::Duration;
    match err {
        Error::Pending(_) => kube::runtime::controller::Action::requeue(Duration::from_millis(300)),
        _ => kube::runtime::controller::Action::requeue(Duration::from_secs(1)),
    }
}

/// `Result` with the controller [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
