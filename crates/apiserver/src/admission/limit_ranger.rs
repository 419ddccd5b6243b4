//! LimitRanger: the LimitRanges of a namespace give containers their default requests and
//! limits (recorded in the `kubernetes.io/limit-ranger` annotation) and bound what containers,
//! pods and persistent volume claims may ask for, with upstream's messages
//! (`maximum cpu usage per Container is 1, but limit is 2`).

use std::collections::BTreeMap;

use apimachinery::quantity::Quantity;
use apimachinery::{ApiError, ApiResult};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Q;
use serde_json::Value;

use super::{Operation, Request};
use crate::Api;
use crate::registry::Object;

/// The annotation that records what LimitRanger set.
pub const ANNOTATION: &str = "kubernetes.io/limit-ranger";

fn limit_ranges(api: &Api, ns: &str) -> Vec<core::LimitRange> {
    api.cached("", "limitranges", ns)
}

fn merge(
    target: &mut Option<BTreeMap<String, Q>>,
    defaults: &BTreeMap<String, Q>,
) -> Vec<String> {
    let mut set = Vec::new();
    for (k, v) in defaults {
        let t = target.get_or_insert_with(BTreeMap::new);
        if !t.contains_key(k) {
            t.insert(k.clone(), v.clone());
            set.push(k.clone());
        }
    }
    set.sort();
    set
}

/// Mutating half: default requests and limits for pods' containers.
pub fn mutate(api: &Api, req: &Request<'_>, obj: &mut dyn Object) -> ApiResult<()> {
    if req.operation != Operation::Create || !req.subresource.is_empty() || !req.is("", "pods") {
        return Ok(());
    }
    let ranges = limit_ranges(api, req.namespace);
    if ranges.is_empty() {
        return Ok(());
    }
    let Some(pod) = obj.as_any_mut().downcast_mut::<core::Pod>() else { return Ok(()) };
    let (mut limits, mut requests) = (BTreeMap::new(), BTreeMap::new());
    for lr in &ranges {
        for item in lr.spec.iter().flat_map(|s| s.limits.iter()).filter(|i| i.type_ == "Container") {
            for (k, v) in item.default.iter().flatten() {
                limits.entry(k.clone()).or_insert_with(|| v.clone());
            }
            for (k, v) in item.default_request.iter().flatten() {
                requests.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    if limits.is_empty() && requests.is_empty() {
        return Ok(());
    }
    let mut notes = Vec::new();
    let Some(spec) = pod.spec.as_mut() else { return Ok(()) };
    let mut apply = |c: &mut core::Container, kind: &str| {
        let res = c.resources.get_or_insert_with(Default::default);
        let set_requests = merge(&mut res.requests, &requests);
        let set_limits = merge(&mut res.limits, &limits);
        if !set_requests.is_empty() {
            notes.push(format!("{} request for {kind} {}", set_requests.join(", "), c.name));
        }
        if !set_limits.is_empty() {
            notes.push(format!("{} limit for {kind} {}", set_limits.join(", "), c.name));
        }
    };
    for c in spec.containers.iter_mut() {
        apply(c, "container");
    }
    for c in spec.init_containers.iter_mut().flatten() {
        apply(c, "init container");
    }
    if !notes.is_empty() {
        pod.metadata.annotations.get_or_insert_with(BTreeMap::new).insert(ANNOTATION.into(), format!("LimitRanger plugin set: {}", notes.join("; ")));
    }
    Ok(())
}

fn q(v: &Q) -> Option<Quantity> {
    Quantity::parse(&v.0).ok()
}

fn get(list: &BTreeMap<String, Quantity>, k: &str) -> Option<Quantity> {
    list.get(k).cloned()
}

fn min_constraint(kind: &str, name: &str, enforced: &Q, requests: &BTreeMap<String, Quantity>, limits: &BTreeMap<String, Quantity>, errs: &mut Vec<String>) {
    let Some(e) = q(enforced) else { return };
    match get(requests, name) {
        None => errs.push(format!("minimum {name} usage per {kind} is {e}.  No request is specified")),
        Some(r) if r.cmp_to(&e).is_lt() => errs.push(format!("minimum {name} usage per {kind} is {e}, but request is {r}")),
        _ => {
            if let Some(l) = get(limits, name)
                && l.cmp_to(&e).is_lt()
            {
                errs.push(format!("minimum {name} usage per {kind} is {e}, but limit is {l}"));
            }
        }
    }
}

fn max_constraint(kind: &str, name: &str, enforced: &Q, requests: &BTreeMap<String, Quantity>, limits: &BTreeMap<String, Quantity>, errs: &mut Vec<String>) {
    let Some(e) = q(enforced) else { return };
    match get(limits, name) {
        None => errs.push(format!("maximum {name} usage per {kind} is {e}.  No limit is specified")),
        Some(l) if l.cmp_to(&e).is_gt() => errs.push(format!("maximum {name} usage per {kind} is {e}, but limit is {l}")),
        _ => {
            if let Some(r) = get(requests, name)
                && r.cmp_to(&e).is_gt()
            {
                errs.push(format!("maximum {name} usage per {kind} is {e}, but request is {r}"));
            }
        }
    }
}

fn ratio_constraint(kind: &str, name: &str, enforced: &Q, requests: &BTreeMap<String, Quantity>, limits: &BTreeMap<String, Quantity>, errs: &mut Vec<String>) {
    let Some(e) = q(enforced) else { return };
    let r = get(requests, name).filter(|r| !r.is_zero());
    let l = get(limits, name).filter(|l| !l.is_zero());
    match (r, l) {
        (None, _) => errs.push(format!("{name} max limit to request ratio per {kind} is {e}, but no request is specified or request is 0")),
        (_, None) => errs.push(format!("{name} max limit to request ratio per {kind} is {e}, but no limit is specified or limit is 0")),
        (Some(r), Some(l)) => {
            let observed = l.milli_value() as f64 / r.milli_value() as f64;
            if observed * 1000.0 > e.milli_value() as f64 {
                errs.push(format!("{name} max limit to request ratio per {kind} is {e}, but provided ratio is {observed:.6}"));
            }
        }
    }
}

fn parsed(v: &Option<BTreeMap<String, Q>>) -> BTreeMap<String, Quantity> {
    v.iter().flatten().filter_map(|(k, v)| Some((k.clone(), q(v)?))).collect()
}

/// Validating half: min, max and ratio bounds for containers, pods and claims.
pub fn validate(api: &Api, req: &Request<'_>, obj: &dyn Object) -> ApiResult<()> {
    if req.operation != Operation::Create || !req.subresource.is_empty() {
        return Ok(());
    }
    let is_pod = req.is("", "pods");
    let is_pvc = req.is("", "persistentvolumeclaims");
    if !is_pod && !is_pvc {
        return Ok(());
    }
    let ranges = limit_ranges(api, req.namespace);
    if ranges.is_empty() {
        return Ok(());
    }
    let mut errs = Vec::new();
    if let Some(pod) = obj.as_any().downcast_ref::<core::Pod>() {
        let spec = pod.spec.clone().unwrap_or_default();
        let value = obj.to_value().unwrap_or(Value::Null);
        let pod_requests = quota::pod_resources(&value, "requests");
        let pod_limits = quota::pod_resources(&value, "limits");
        for lr in &ranges {
            for item in lr.spec.iter().flat_map(|s| s.limits.iter()) {
                match item.type_.as_str() {
                    "Container" => {
                        for c in spec.containers.iter().chain(spec.init_containers.iter().flatten()) {
                            let res = c.resources.clone().unwrap_or_default();
                            let (r, l) = (parsed(&res.requests), parsed(&res.limits));
                            for (k, v) in item.min.iter().flatten() {
                                min_constraint("Container", k, v, &r, &l, &mut errs);
                            }
                            for (k, v) in item.max.iter().flatten() {
                                max_constraint("Container", k, v, &r, &l, &mut errs);
                            }
                            for (k, v) in item.max_limit_request_ratio.iter().flatten() {
                                ratio_constraint("Container", k, v, &r, &l, &mut errs);
                            }
                        }
                    }
                    "Pod" => {
                        for (k, v) in item.min.iter().flatten() {
                            min_constraint("Pod", k, v, &pod_requests, &pod_limits, &mut errs);
                        }
                        for (k, v) in item.max.iter().flatten() {
                            max_constraint("Pod", k, v, &pod_requests, &pod_limits, &mut errs);
                        }
                        for (k, v) in item.max_limit_request_ratio.iter().flatten() {
                            ratio_constraint("Pod", k, v, &pod_requests, &pod_limits, &mut errs);
                        }
                    }
                    _ => {}
                }
            }
        }
    } else if let Some(pvc) = obj.as_any().downcast_ref::<core::PersistentVolumeClaim>() {
        let requests = parsed(&pvc.spec.as_ref().and_then(|s| s.resources.as_ref()).and_then(|r| r.requests.clone()));
        for lr in &ranges {
            for item in lr.spec.iter().flat_map(|s| s.limits.iter()).filter(|i| i.type_ == "PersistentVolumeClaim") {
                for (k, v) in item.min.iter().flatten() {
                    min_constraint("PersistentVolumeClaim", k, v, &requests, &BTreeMap::new(), &mut errs);
                }
                for (k, v) in item.max.iter().flatten() {
                    let Some(e) = q(v) else { continue };
                    match get(&requests, k) {
                        None => errs.push(format!("maximum {k} usage per PersistentVolumeClaim is {e}.  No request is specified")),
                        Some(r) if r.cmp_to(&e).is_gt() => errs.push(format!("maximum {k} usage per PersistentVolumeClaim is {e}, but request is {r}")),
                        _ => {}
                    }
                }
            }
        }
    }
    if errs.is_empty() {
        return Ok(());
    }
    let msg = if errs.len() == 1 { errs.remove(0) } else { format!("[{}]", errs.join(", ")) };
    Err(ApiError::forbidden("", &req.res.info.plural, req.name, &msg))
}
