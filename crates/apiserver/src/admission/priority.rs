//! Priority: a new pod's `spec.priority` and `spec.preemptionPolicy` come from its
//! PriorityClass (`priorityClassName`, else the global default class, else priority 0 and
//! `PreemptLowerPriority`), with upstream's refusals when the class does not exist or the pod
//! sets values that disagree with it.

use apimachinery::{ApiError, ApiResult};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::scheduling::v1::PriorityClass;

use super::{Operation, Request};
use crate::Api;
use crate::registry::Object;

/// Mutating half: resolves the pod's priority.
pub fn mutate(api: &Api, req: &Request<'_>, obj: &mut dyn Object) -> ApiResult<()> {
    if req.operation != Operation::Create || !req.subresource.is_empty() || !req.is("", "pods") {
        return Ok(());
    }
    let Some(pod) = obj.as_any_mut().downcast_mut::<core::Pod>() else { return Ok(()) };
    let classes: Vec<PriorityClass> = api.cached("scheduling.k8s.io", "priorityclasses", "");
    let name = pod.spec.as_ref().and_then(|s| s.priority_class_name.clone()).filter(|n| !n.is_empty());
    let forbidden = |detail: String| ApiError::forbidden("", "pods", req.name, &detail);
    let (priority, policy, class_name) = match name {
        Some(n) => match classes.iter().find(|c| c.metadata.name.as_deref() == Some(n.as_str())) {
            Some(c) => (c.value, c.preemption_policy.clone().unwrap_or_else(|| "PreemptLowerPriority".into()), Some(n)),
            None => return Err(forbidden(format!("no PriorityClass with name {n} was found"))),
        },
        None => match classes.iter().filter(|c| c.global_default == Some(true)).min_by_key(|c| c.value) {
            Some(c) => (c.value, c.preemption_policy.clone().unwrap_or_else(|| "PreemptLowerPriority".into()), c.metadata.name.clone()),
            None => (0, "PreemptLowerPriority".to_string(), None),
        },
    };
    let Some(spec) = pod.spec.as_mut() else { return Ok(()) };
    if let Some(p) = spec.priority
        && p != priority
    {
        return Err(forbidden(format!(
            "the integer value of priority ({p}) must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name"
        )));
    }
    if let Some(pp) = spec.preemption_policy.as_deref()
        && pp != policy
    {
        return Err(forbidden(format!(
            "the string value of PreemptionPolicy ({pp}) must not be provided in pod spec; priority admission controller computed {policy} from the given PriorityClass name"
        )));
    }
    spec.priority = Some(priority);
    spec.preemption_policy = Some(policy);
    if spec.priority_class_name.as_deref().unwrap_or("").is_empty() {
        spec.priority_class_name = class_name;
    }
    Ok(())
}
