//! The kubelet of a ferrokube node.
//!
//! It joins the cluster (a bootstrap token buys a CSR, the CSR a `system:node:<name>` client
//! certificate that it rotates), registers and heartbeats its Node, and makes the pods bound to
//! its node run on a CRI runtime: sandboxes with CNI networking, containers, volumes, probes,
//! cgroups, and the pods' status. Its HTTPS server gives the apiserver logs, exec, attach and
//! port-forward.
//!
//! It is an API client only: everything it knows of the cluster comes from the apiserver over
//! TLS with its node identity, and it never touches storage. It speaks to containers only
//! through CRI (the `cri` crate), never to runc or containerd's own API.
pub mod server;
