//! Defaults for `coordination.k8s.io/v1`.

use k8s_openapi::api::coordination::v1::Lease;

/// Lease: upstream has no defaults for this kind.
pub fn lease(_obj: &mut Lease) {}
