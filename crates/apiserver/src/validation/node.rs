//! node.k8s.io/v1 RuntimeClasses.

use std::collections::BTreeSet;

use apimachinery::field::{ErrorList, Path};
use apimachinery::validation as v;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::node::v1 as node;

use super::common::*;
use super::core_pod::{validate_resource_requirements, validate_tolerations, PodOpts};

fn scheduling(s: &node::Scheduling, path: &Path) -> Errs {
    let mut e = labels(s.node_selector.as_ref(), &path.child("nodeSelector"));
    let tp = path.child("tolerations");
    let tols = sl(&s.tolerations);
    // upstream nests the per-toleration checks one level deeper
    e.extend(validate_tolerations(tols, &tp.child("tolerations")));
    let mut seen = BTreeSet::new();
    for (i, t) in tols.iter().enumerate() {
        let key = (ostr(&t.key), ostr(&t.operator), ostr(&t.value), ostr(&t.effect));
        if !seen.insert(key) {
            e.push(duplicate(&tp.index(i), json(t)));
        }
    }
    e
}

/// RuntimeClass create: handler is a DNS label, overhead.podFixed as container resource limits
/// (errors at `overhead.limits[<name>]`, as upstream), scheduling nodeSelector labels and
/// tolerations (unique by key/operator/value/effect).
pub fn runtime_class(rc: &node::RuntimeClass) -> ErrorList {
    let mut e = Vec::new();
    for m in v::name_is_dns_label(&rc.handler, false) {
        e.push(invalid(&p("handler"), rc.handler.as_str(), m));
    }
    if let Some(o) = &rc.overhead {
        let reqs = core::ResourceRequirements { limits: o.pod_fixed.clone(), ..Default::default() };
        e.extend(validate_resource_requirements(&reqs, &BTreeSet::new(), &p("overhead"), &PodOpts::default()));
    }
    if let Some(s) = &rc.scheduling {
        e.extend(scheduling(s, &p("scheduling")));
    }
    done(e)
}

/// RuntimeClass update: the create rules plus handler immutability.
pub fn runtime_class_update(new: &node::RuntimeClass, old: &node::RuntimeClass) -> ErrorList {
    let mut e = runtime_class(new).0;
    e.extend(immutable(&new.handler, &old.handler, &p("handler")));
    done(e)
}
