//! PodSecurity: the Pod Security Standards, enforced on pods and warned/audited on workloads
//! per the namespace's `pod-security.kubernetes.io/*` labels, with ferrokube's defaults
//! (enforce baseline, warn and audit restricted) for namespaces without labels. The policy
//! logic is the `pod-security-admission` crate's; this plugin feeds it the request.

use apimachinery::{ApiError, ApiResult, status::Reason};
use k8s_openapi::api::core::v1 as core;
use pod_security_admission as psa;

use super::{Operation, Request};
use crate::Api;
use crate::registry::Object;

/// Evaluates a write.
pub fn validate(api: &Api, req: &Request<'_>, obj: &dyn Object) -> ApiResult<()> {
    let cfg = &api.config.pod_security;
    let info = &req.res.info;
    if req.operation == Operation::Delete {
        return Ok(());
    }
    if info.group.is_empty() && info.plural == "namespaces" && req.subresource.is_empty() {
        let labels = obj.meta().labels.clone().unwrap_or_default();
        let old = req.old.map(|o| o.meta().labels.clone().unwrap_or_default());
        match cfg.validate_namespace(req.name, &labels, old.as_ref()) {
            psa::NamespaceDecision::Invalid(errs) => {
                let mut e = ApiError::new(422, Reason::Invalid, psa::invalid_namespace_message(req.name, &errs))
                    .with_details(req.name, "", "Namespace");
                if let Some(d) = e.details.as_mut() {
                    for err in &errs {
                        d.causes.push(apimachinery::status::Cause {
                            reason: "FieldValueInvalid".into(),
                            message: err.body(),
                            field: err.field.clone(),
                        });
                    }
                }
                return Err(e);
            }
            psa::NamespaceDecision::Allow(w) => w.into_iter().for_each(super::warn),
            psa::NamespaceDecision::CheckExistingPods(level) => {
                let pods = existing_pods(api, req.name);
                cfg.existing_pods_warnings(req.name, &level, &pods).into_iter().for_each(super::warn);
            }
        }
        return Ok(());
    }
    let is_pod = info.group.is_empty() && info.plural == "pods";
    if is_pod && psa::IGNORED_POD_SUBRESOURCES.contains(&req.subresource) {
        return Ok(());
    }
    if !is_pod && (!req.subresource.is_empty() || !psa::has_pod_spec(&info.group, &info.plural)) {
        return Ok(());
    }
    // a workload whose template cannot be read is allowed (upstream records only an audit
    // annotation)
    let Some((meta, spec)) = pod_spec(info, obj) else {
        return Ok(());
    };
    if req.operation == Operation::Update {
        let old_spec = req.old.and_then(|o| pod_spec(info, o));
        if is_pod && let Some((_, old_spec)) = &old_spec
            && !psa::is_significant_pod_update(&spec, old_spec)
        {
            return Ok(());
        }
        if !is_pod && old_spec.as_ref().is_some_and(|(m, s)| *s == spec && m.labels == meta.labels) {
            return Ok(());
        }
    }
    let labels = api.namespace_labels(req.namespace).unwrap_or_default();
    let target = if is_pod { psa::Target::Pod { name: req.name } } else { psa::Target::Workload };
    let d = cfg.evaluate(req.namespace, &req.user.name, &labels, &meta, &spec, target);
    for w in d.warnings {
        super::warn(w);
    }
    for (k, v) in d.audit_annotations {
        crate::context::audit_annotation(&k, v);
    }
    if !d.allowed {
        let msg = d.forbidden_message.unwrap_or_else(|| "violates PodSecurity".into());
        let mut e = ApiError::new(403, Reason::Forbidden, msg);
        e = e.with_details(req.name, "", "pods");
        return Err(e);
    }
    Ok(())
}

/// The pod metadata and spec PodSecurity evaluates: a pod's own (read in place), or a
/// workload's template.
fn pod_spec(info: &apimachinery::ResourceInfo, obj: &dyn Object) -> Option<(k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta, core::PodSpec)> {
    if let Some(pod) = obj.as_any().downcast_ref::<core::Pod>() {
        return Some((pod.metadata.clone(), pod.spec.clone().unwrap_or_default()));
    }
    let value = obj.to_value().ok()?;
    psa::pod_spec_of(&info.group, &info.plural, &value).ok().flatten()
}

fn existing_pods(api: &Api, ns: &str) -> Vec<core::Pod> {
    api.cached("", "pods", ns)
}
