//! The container runtime side of a ferrokube node.
//!
//! This crate speaks the Container Runtime Interface (CRI `runtime.v1`, gRPC over a unix
//! socket) to containerd, starts and supervises a containerd of our own with a config we
//! write, and builds and imports the small images a node needs without a registry.
//!
//! It knows nothing of the Kubernetes API: it never talks to the apiserver and never reads
//! Kubernetes objects. The kubelet translates pods into CRI calls; this crate only carries
//! them.

pub mod client;
pub mod containerd;
pub mod images;

pub use client::{Runtime, connect};
pub use containerd::Containerd;
/// The CRI v1 messages and clients (generated from upstream's api.proto).
pub use k8s_cri::v1 as api;
