//! NamespaceLifecycle: new namespaced content needs an existing namespace that is not
//! terminating.

use apimachinery::{ApiError, ApiResult};

use crate::Api;

/// Upstream's NamespaceLifecycle: new namespaced content needs an existing namespace that is not
/// terminating.
pub async fn namespace_lifecycle(api: &Api, namespace: &str, group: &str, plural: &str, name: &str) -> ApiResult<()> {
    let Some(ns_res) = api.resource("", "v1", "namespaces") else { return Ok(()) };
    let Some(cache) = api.caches.cache(&ns_res) else { return Ok(()) };
    let key = ns_res.key("", namespace);
    let mut found = cache.get(&key).0;
    if found.is_none() {
        // the namespace may have been created an instant ago
        api.caches.wait_fresh().await?;
        found = cache.get(&key).0;
    }
    let Some(ns) = found else {
        return Err(ApiError::not_found("", "namespaces", namespace));
    };
    if ns.field("status.phase") == Some("Terminating") {
        let mut e = ApiError::forbidden(
            group,
            plural,
            name,
            &format!("unable to create new content in namespace {namespace} because it is being terminated"),
        );
        if let Some(d) = e.details.as_mut() {
            d.causes.push(apimachinery::status::Cause {
                reason: "NamespaceTerminating".into(),
                message: format!("namespace {namespace} is terminating"),
                field: "metadata.namespace".into(),
            });
        }
        return Err(e);
    }
    Ok(())
}
