//! DefaultTolerationSeconds: every pod tolerates the `node.kubernetes.io/not-ready` and
//! `node.kubernetes.io/unreachable` NoExecute taints for 300 s unless it says otherwise, so the
//! node lifecycle controller's taint manager moves pods off a lost node after five minutes.

use apimachinery::ApiResult;
use k8s_openapi::api::core::v1 as core;

use super::{Operation, Request};
use crate::registry::Object;

/// The default `tolerationSeconds` (upstream's `--default-not-ready-toleration-seconds` and
/// `--default-unreachable-toleration-seconds`).
pub const DEFAULT_SECONDS: i64 = 300;

const NOT_READY: &str = "node.kubernetes.io/not-ready";
const UNREACHABLE: &str = "node.kubernetes.io/unreachable";

/// Adds the missing default tolerations to a pod being created or updated.
pub fn mutate(req: &Request<'_>, obj: &mut dyn Object) -> ApiResult<()> {
    if req.operation == Operation::Delete || !req.subresource.is_empty() || !req.is("", "pods") {
        return Ok(());
    }
    let Some(pod) = obj.as_any_mut().downcast_mut::<core::Pod>() else { return Ok(()) };
    let Some(spec) = pod.spec.as_mut() else { return Ok(()) };
    add_defaults(spec);
    Ok(())
}

/// Adds the tolerations a pod spec lacks.
pub fn add_defaults(spec: &mut core::PodSpec) {
    let tols = spec.tolerations.get_or_insert_with(Vec::new);
    let covers = |key: &str| {
        tols.iter().any(|t| {
            let k = t.key.as_deref().unwrap_or("");
            let e = t.effect.as_deref().unwrap_or("");
            (k == key || k.is_empty()) && (e == "NoExecute" || e.is_empty())
        })
    };
    let (nr, ur) = (covers(NOT_READY), covers(UNREACHABLE));
    for (key, covered) in [(NOT_READY, nr), (UNREACHABLE, ur)] {
        if !covered {
            tols.push(core::Toleration {
                key: Some(key.into()),
                operator: Some("Exists".into()),
                effect: Some("NoExecute".into()),
                toleration_seconds: Some(DEFAULT_SECONDS),
                value: None,
            });
        }
    }
    if tols.is_empty() {
        spec.tolerations = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_both_unless_tolerated() {
        let mut spec = core::PodSpec::default();
        add_defaults(&mut spec);
        let t = spec.tolerations.clone().unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].key.as_deref(), Some(NOT_READY));
        assert_eq!(t[1].toleration_seconds, Some(300));
        // idempotent
        add_defaults(&mut spec);
        assert_eq!(spec.tolerations.as_ref().unwrap().len(), 2);
        // a pod tolerating everything gets nothing
        let mut spec = core::PodSpec { tolerations: Some(vec![core::Toleration { operator: Some("Exists".into()), ..Default::default() }]), ..Default::default() };
        add_defaults(&mut spec);
        assert_eq!(spec.tolerations.unwrap().len(), 1);
        // its own unreachable toleration is kept; not-ready is added
        let own = core::Toleration { key: Some(UNREACHABLE.into()), operator: Some("Exists".into()), effect: Some("NoExecute".into()), toleration_seconds: Some(5), value: None };
        let mut spec = core::PodSpec { tolerations: Some(vec![own.clone()]), ..Default::default() };
        add_defaults(&mut spec);
        let t = spec.tolerations.unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0], own);
        assert_eq!(t[1].key.as_deref(), Some(NOT_READY));
    }
}
