//! Defaults for `events.k8s.io/v1`.

use k8s_openapi::api::events::v1::Event;

/// Event (events.k8s.io/v1): upstream has no defaults for this kind.
pub fn event(_obj: &mut Event) {}
