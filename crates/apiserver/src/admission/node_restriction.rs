//! NodeRestriction: a kubelet (`system:node:<name>`) may change only its own Node and Lease,
//! only the status of pods bound to it, create only mirror pods for itself and delete or evict
//! only its own pods. Labels under `node-restriction.kubernetes.io/` are the administrator's.

use apimachinery::{ApiError, ApiResult};
use serde_json::Value;

use super::{Operation, Request};
use crate::Api;
use crate::registry::Object;

fn deny(req: &Request<'_>, msg: String) -> ApiError {
    ApiError::forbidden(&req.res.info.group, &req.res.info.plural, req.name, &msg)
}

fn node_of(obj: &dyn Object) -> String {
    obj.to_value().ok().and_then(|v| v.pointer("/spec/nodeName").and_then(Value::as_str).map(str::to_string)).unwrap_or_default()
}

/// Checks a write by a node.
pub fn validate(_api: &Api, req: &Request<'_>, obj: &dyn Object) -> ApiResult<()> {
    let Some(node) = req.user.node_name() else { return Ok(()) };
    let info = &req.res.info;
    match (info.group.as_str(), info.plural.as_str()) {
        ("", "pods") => match (req.operation, req.subresource) {
            (Operation::Create, "") => {
                let mirror = obj.meta().annotations.as_ref().is_some_and(|a| a.contains_key("kubernetes.io/config.mirror"));
                if !mirror {
                    return Err(deny(req, format!("pod does not have \"kubernetes.io/config.mirror\" annotation, node \"{node}\" can only create mirror pods")));
                }
                if node_of(obj) != node {
                    return Err(deny(req, format!("node \"{node}\" can only create pods with spec.nodeName set to itself")));
                }
                Ok(())
            }
            (Operation::Update, "status") | (Operation::Delete, "") | (Operation::Create, "eviction") => {
                let target = req.old.map(node_of).unwrap_or_else(|| node_of(obj));
                if target != node {
                    let what = match req.operation {
                        Operation::Update => "update pod status",
                        Operation::Delete => "delete pods",
                        Operation::Create => "evict pods",
                    };
                    return Err(deny(req, format!("node \"{node}\" can only {what} for pods with spec.nodeName set to itself")));
                }
                Ok(())
            }
            (Operation::Update, "") => Err(deny(req, format!("node \"{node}\" can only update pod status"))),
            _ => Ok(()),
        },
        ("", "nodes") => {
            if req.name != node {
                return Err(deny(req, format!("node \"{node}\" is not allowed to modify node \"{}\"", req.name)));
            }
            let restricted = |o: &dyn Object| -> Vec<String> {
                o.meta().labels.iter().flatten().filter(|(k, _)| k.split('/').next().is_some_and(|p| p == "node-restriction.kubernetes.io" || p.ends_with(".node-restriction.kubernetes.io"))).map(|(k, v)| format!("{k}={v}")).collect()
            };
            let new = restricted(obj);
            let old = req.old.map(restricted).unwrap_or_default();
            if new != old {
                return Err(deny(req, format!("is not allowed to modify labels: {}", new.join(", "))));
            }
            Ok(())
        }
        ("coordination.k8s.io", "leases") if req.namespace == "kube-node-lease" => {
            if req.name != node {
                return Err(deny(req, "can only access node lease with the same name as the requesting node".to_string()));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
