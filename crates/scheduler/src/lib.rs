//! kube-scheduler for ferrokube: watches unscheduled pods and assigns each to a node through
//! the `pods/binding` subresource, with upstream's default profile of filter and score plugins,
//! a priority queue with back-off, and preemption.
//!
//! It is an API client only (kube-rs, running as `system:kube-scheduler`): it may depend on
//! kube, k8s-openapi and apimachinery (pure parsing). It must never depend on `storage`,
//! `apiserver` or `controllers`: everything it knows comes through the Kubernetes API
//! (informers: watches of nodes, pods, namespaces, claims, volumes, classes).
//!
//! Layout: [`cache`] (nodes with their pods and incremental aggregates, the assume-cache),
//! [`queue`], [`framework`] (the plugin trait, statuses, the failure message),
//! [`plugins`] (the default profile), [`algorithm`] (one decision, preemption) and
//! [`scheduler`] (informers, the scheduling loop, binding, events, status updates).

pub mod algorithm;
pub mod cache;
pub mod framework;
pub mod helpers;
pub mod plugins;
pub mod queue;
pub mod resources;
pub mod scheduler;

pub use scheduler::{SCHEDULER_NAME, run};
