//! Object validation for the built-in kinds: what upstream Kubernetes 1.32 answers with
//! `422 Invalid`, with upstream's field paths and message texts.
//!
//! Every kind has `<kind>(obj) -> ErrorList` (create) and `<kind>_update(new, old)` (the
//! create rules on `new` plus immutability); kinds with a status subresource whose upstream
//! validation checks anything have `<kind>_status_update(new, old)`. Object metadata (name,
//! namespace, labels, annotations, finalizers, ...) is validated elsewhere and not here;
//! embedded templates' labels/annotations and label selectors are.
//!
//! Inputs are expected to be defaulted (as the apiserver defaults before validating), so
//! fields upstream defaults are never reported `Required`; an absent value is read as its
//! default.
//!
//! Where upstream prints a Go struct, slice or map as the bad value (`%#v`), the value here is
//! its JSON form, because [`apimachinery::field::FieldError`] can only print JSON values.
//!
//! Function names are the snake-cased kind (`pod`, `stateful_set`, `csi_driver`,
//! `custom_resource_definition`, ...). Exceptions and extras:
//! - events.k8s.io/v1 `Event` is [`events_event`] / [`events_event_update`] (core/v1 `Event` is
//!   [`event`]).
//! - subresource variants: [`pod_ephemeral_containers_update`], [`namespace_finalize_update`],
//!   [`certificate_signing_request_approval_update`].
//! - steps upstream's registry runs before validating, which callers must run too:
//!   [`normalize_service_create`] / [`normalize_service_update`] (cluster IP normalization and
//!   type-dependent field clearing) and [`prepare_job_for_create`] (generated selector and
//!   labels). CRD create/update compute `status.storedVersions` themselves.
//!
//! Modules: `core` (+ `core_pod`, `core_service`, `core_volumes`), `apps`, `batch`,
//! `autoscaling` (v2), `policy`, `rbac`, `networking`, `coordination`, `discovery`, `events`,
//! `storage`, `scheduling`, `node`, `certificates`, `admissionregistration`, `apiextensions`;
//! `quantity` is the resource.Quantity parser used for resource checks.

mod common;


pub mod admissionregistration;
pub mod apiextensions;
pub mod apps;
pub mod autoscaling;
pub mod batch;
pub mod certificates;
pub mod coordination;
pub mod core;
pub mod core_pod;
pub mod core_service;
pub mod core_volumes;
pub mod discovery;
pub mod events;
pub mod networking;
pub mod node;
pub mod policy;
pub mod rbac;
pub mod scheduling;
pub mod storage;

pub use self::core::*;
pub use admissionregistration::*;
pub use apiextensions::*;
pub use apps::*;
pub use autoscaling::*;
pub use certificates::{
    certificate_signing_request, certificate_signing_request_approval_update, certificate_signing_request_status_update,
    certificate_signing_request_update,
};
pub use batch::*;
pub use coordination::*;
pub use discovery::*;
pub use events::*;
pub use networking::*;
pub use node::*;
pub use policy::*;
pub use rbac::*;
pub use scheduling::*;
pub use storage::*;
pub use core_pod::{pod, pod_ephemeral_containers_update, pod_status_update, pod_template, pod_template_update, pod_update};
pub use core_volumes::{
    persistent_volume, persistent_volume_claim, persistent_volume_claim_status_update, persistent_volume_claim_update,
    persistent_volume_status_update, persistent_volume_update,
};

#[cfg(test)]
mod tests_support;
#[cfg(test)]
mod tests_core;
#[cfg(test)]
mod tests_workloads;
#[cfg(test)]
mod tests_groups;
