//! Scheme defaulting for every built-in kind, matching what a default Kubernetes 1.32
//! kube-apiserver fills in when a client omits a field.
//!
//! Each group module exposes one `pub fn <snake_kind>(obj: &mut Kind)` per kind. Every
//! function is idempotent (running it twice changes nothing) and only fills in values the
//! client left unset. Where upstream itself overwrites client data (for example the
//! `kubernetes.io/metadata.name` namespace label, or `sessionAffinityConfig` being cleared
//! when `sessionAffinity` is `None`) the functions do the same, and say so in their docs.
//!
//! "Unset" follows the Go types: a Go pointer field is unset only when absent (`None`); a Go
//! non-pointer string/int/bool field is unset when absent *or* holding its zero value
//! (`Some("")`, `Some(0)`), because Go cannot tell the two apart.
//!
//! Only defaults that are active in a default 1.32 apiserver are applied: feature gates are
//! taken at their 1.32 defaults (alpha gates off, beta/GA gates on).

pub mod admissionregistration;
pub mod apiextensions;
pub mod apps;
pub mod autoscaling;
pub mod batch;
pub mod certificates;
pub mod coordination;
pub mod core;
pub mod discovery;
pub mod events;
pub mod networking;
pub mod node;
pub mod policy;
pub mod rbac;
pub mod scheduling;
pub mod storage;

mod image;

pub use image::pull_policy_for_image;
pub use apimachinery::quantity::text::{canonical_quantity, round_up_to_milli_canonical};

/// True when a Go non-pointer string field would read as "" (absent or empty).
pub(crate) fn str_unset(v: &Option<String>) -> bool {
    v.as_deref().is_none_or(str::is_empty)
}

/// Fills a Go non-pointer string field (unset = absent or "").
pub(crate) fn default_str(v: &mut Option<String>, value: &str) {
    if str_unset(v) {
        *v = Some(value.to_owned());
    }
}

/// Fills a Go pointer string field (unset = absent only).
pub(crate) fn default_str_ptr(v: &mut Option<String>, value: &str) {
    if v.is_none() {
        *v = Some(value.to_owned());
    }
}

/// Fills a Go non-pointer int32 field (unset = absent or 0).
pub(crate) fn default_i32(v: &mut Option<i32>, value: i32) {
    if matches!(v, None | Some(0)) {
        *v = Some(value);
    }
}

/// Fills a Go pointer field (unset = absent only).
pub(crate) fn default_ptr<T>(v: &mut Option<T>, value: T) {
    if v.is_none() {
        *v = Some(value);
    }
}

/// True when a Go map/slice field would have length zero.
pub(crate) fn len_zero<T: IsEmpty>(v: &Option<T>) -> bool {
    v.as_ref().is_none_or(IsEmpty::is_empty_)
}

pub(crate) trait IsEmpty {
    fn is_empty_(&self) -> bool;
}

impl<T> IsEmpty for Vec<T> {
    fn is_empty_(&self) -> bool {
        self.is_empty()
    }
}

impl<K, V> IsEmpty for std::collections::BTreeMap<K, V> {
    fn is_empty_(&self) -> bool {
        self.is_empty()
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    use serde_json::Value;

    /// Decodes a JSON value into a k8s-openapi type, panicking on error.
    pub fn from_json<T: k8s_openapi::serde::de::DeserializeOwned>(v: Value) -> T {
        serde_json::from_value(v).expect("test fixture must decode")
    }

    /// Encodes a k8s-openapi type as JSON, without the top-level `apiVersion`/`kind` that
    /// k8s-openapi adds for resource types (they are not part of what defaulting does).
    pub fn to_json<T: k8s_openapi::serde::Serialize>(v: &T) -> Value {
        let mut v = serde_json::to_value(v).expect("encodes");
        if let Some(m) = v.as_object_mut() {
            m.remove("apiVersion");
            m.remove("kind");
        }
        v
    }

    /// Runs `f` on a clone of `obj` twice and asserts the second run changed nothing.
    pub fn assert_idempotent<T: Clone + PartialEq + std::fmt::Debug>(obj: &T, f: impl Fn(&mut T)) {
        let mut once = obj.clone();
        f(&mut once);
        let mut twice = once.clone();
        f(&mut twice);
        assert_eq!(once, twice, "defaulting is not idempotent");
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::{from_json, to_json};
    use serde_json::{Value, json};

    /// Kinds for which upstream has no defaults must come back byte-for-byte unchanged.
    fn unchanged<T>(input: Value, f: fn(&mut T))
    where
        T: k8s_openapi::serde::de::DeserializeOwned + k8s_openapi::serde::Serialize,
    {
        let mut obj: T = from_json(input.clone());
        let before = to_json(&obj);
        f(&mut obj);
        assert_eq!(to_json(&obj), before);
    }

    #[test]
    fn kinds_without_defaults_are_untouched() {
        let meta = json!({"name": "x", "namespace": "ns"});
        unchanged(
            json!({"metadata": meta, "data": {}}),
            super::core::config_map,
        );
        unchanged(
            json!({"metadata": meta, "secrets": [{"name": "s"}]}),
            super::core::service_account,
        );
        unchanged(
            json!({"metadata": meta, "involvedObject": {"kind": "Pod", "name": "p"}, "reason": "R"}),
            super::core::event,
        );
        unchanged(
            json!({"metadata": meta, "revision": 1, "data": {"a": 1}}),
            super::apps::controller_revision,
        );
        unchanged(
            json!({"metadata": meta, "spec": {"minAvailable": 1, "selector": {}}}),
            super::policy::pod_disruption_budget,
        );
        unchanged(
            json!({"metadata": meta, "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
            super::rbac::role,
        );
        unchanged(
            json!({"metadata": meta, "rules": [{"nonResourceURLs": ["/x"], "verbs": ["get"]}]}),
            super::rbac::cluster_role,
        );
        unchanged(
            json!({"metadata": meta, "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "s", "port": {"number": 80}}}}]}}]}}),
            super::networking::ingress,
        );
        unchanged(
            json!({"metadata": meta, "spec": {"holderIdentity": "h"}}),
            super::coordination::lease,
        );
        unchanged(
            json!({"metadata": meta, "eventTime": "2024-01-01T00:00:00.000000Z", "reason": "R"}),
            super::events::event,
        );
        unchanged(
            json!({"metadata": meta, "spec": {"drivers": [{"name": "d", "nodeID": "n"}]}}),
            super::storage::csi_node,
        );
        unchanged(
            json!({"metadata": meta, "storageClassName": "sc"}),
            super::storage::csi_storage_capacity,
        );
        unchanged(
            json!({"metadata": meta, "handler": "runc"}),
            super::node::runtime_class,
        );
        unchanged(
            json!({"metadata": meta, "spec": {"request": "", "signerName": "example.com/s", "usages": ["digital signature"]}}),
            super::certificates::certificate_signing_request,
        );
    }
}
