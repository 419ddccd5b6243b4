//! Defaults for `node.k8s.io/v1`.

use k8s_openapi::api::node::v1::RuntimeClass;

/// RuntimeClass: upstream has no defaults for this kind.
pub fn runtime_class(_obj: &mut RuntimeClass) {}
