//! The Node authorizer: a kubelet (`system:node:<name>` in `system:nodes`) may read only the
//! secrets, configmaps, persistent volume claims and volumes that pods bound to its node
//! reference, ask tokens only for those pods' service accounts, and otherwise do what the
//! `system:node` role allows. Writes are narrowed further by the NodeRestriction admission
//! plugin (its own Node, its pods' status, its events).

use serde_json::Value;

use super::UserInfo;
use super::authz::{Attributes, Decision};
use crate::Api;
use crate::cache::Filter;

/// Authorizes a node's request; other users get no opinion.
pub fn authorize(api: &Api, user: &UserInfo, a: &Attributes) -> Decision {
    let Some(node) = user.node_name() else { return Decision::NoOpinion(String::new()) };
    if a.resource_request && a.api_group.is_empty() {
        let kind = match a.resource.as_str() {
            "secrets" => Some(Ref::Secret),
            "configmaps" => Some(Ref::ConfigMap),
            "persistentvolumeclaims" => Some(Ref::Claim),
            "persistentvolumes" => Some(Ref::Volume),
            _ => None,
        };
        if let Some(kind) = kind {
            if !a.subresource.is_empty() || !matches!(a.verb.as_str(), "get" | "list" | "watch") || a.name.is_empty() {
                return Decision::NoOpinion("can only get individual resources of this type".to_string());
            }
            return if references(api, node, &a.namespace, kind, &a.name) {
                Decision::Allow(String::new())
            } else {
                Decision::NoOpinion(format!("no relationship found between node '{node}' and this object"))
            };
        }
        if a.resource == "serviceaccounts" && a.subresource == "token" {
            if a.verb != "create" {
                return Decision::NoOpinion("can only create tokens for individual service accounts".to_string());
            }
            return if references(api, node, &a.namespace, Ref::ServiceAccount, &a.name) {
                Decision::Allow(String::new())
            } else {
                Decision::NoOpinion(format!("no relationship found between node '{node}' and this object"))
            };
        }
    }
    let rules = node_rules();
    let ra = rbac::Attributes {
        user: user.name.clone(),
        groups: user.groups.clone(),
        verb: a.verb.clone(),
        namespace: a.namespace.clone(),
        api_group: a.api_group.clone(),
        resource: a.resource.clone(),
        subresource: a.subresource.clone(),
        name: a.name.clone(),
        path: a.path.clone(),
        resource_request: a.resource_request,
    };
    if rules.iter().any(|r| rbac::rule_allows(&ra, r)) {
        return Decision::Allow(String::new());
    }
    Decision::NoOpinion(String::new())
}

/// The rules of upstream's `system:node` role, which the Node authorizer grants every node.
fn node_rules() -> &'static [k8s_openapi::api::rbac::v1::PolicyRule] {
    static RULES: std::sync::OnceLock<Vec<k8s_openapi::api::rbac::v1::PolicyRule>> = std::sync::OnceLock::new();
    RULES.get_or_init(rbac::bootstrap::node_rules)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ref {
    Secret,
    ConfigMap,
    Claim,
    Volume,
    ServiceAccount,
}

fn pods_on(api: &Api, node: &str, namespace: &str) -> Vec<Value> {
    let Some(res) = api.resource("", "v1", "pods") else { return vec![] };
    let Some(cache) = api.caches.cache(&res) else { return vec![] };
    let fields = apimachinery::fields::FieldSelector::parse(&format!("spec.nodeName={node}")).unwrap_or_else(|_| apimachinery::fields::FieldSelector::everything());
    let filter = Filter { fields, ..Filter::in_namespace(namespace) };
    cache.list(&filter).0.iter().filter_map(|o| serde_json::from_slice(&o.json).ok()).collect()
}

fn references(api: &Api, node: &str, namespace: &str, kind: Ref, name: &str) -> bool {
    if kind == Ref::Volume {
        // a volume is reachable through a claim of a pod on the node
        let claims: Vec<Value> = api.cached("", "persistentvolumeclaims", "");
        return claims.iter().any(|c| {
            let s = |p: &str| c.pointer(p).and_then(Value::as_str).unwrap_or("");
            s("/spec/volumeName") == name && references(api, node, s("/metadata/namespace"), Ref::Claim, s("/metadata/name"))
        });
    }
    pods_on(api, node, namespace).iter().any(|pod| pod_references(pod, kind, name))
}

fn pod_references(pod: &Value, kind: Ref, name: &str) -> bool {
    let spec = &pod["spec"];
    let is = |v: Option<&Value>| v.and_then(Value::as_str) == Some(name);
    if kind == Ref::ServiceAccount {
        return is(spec.get("serviceAccountName")) || (name == "default" && spec.get("serviceAccountName").is_none());
    }
    let arr = |v: &Value, k: &str| v.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
    if kind == Ref::Secret && arr(spec, "imagePullSecrets").iter().any(|s| is(s.get("name"))) {
        return true;
    }
    for vol in arr(spec, "volumes") {
        let hit = match kind {
            Ref::Secret => {
                is(vol.pointer("/secret/secretName"))
                    || ["azureFile/secretName"].iter().any(|p| is(vol.pointer(&format!("/{p}"))))
                    || ["cephfs", "cinder", "flexVolume", "iscsi", "rbd", "scaleIO", "storageos", "csi"]
                        .iter()
                        .any(|k| is(vol.pointer(&format!("/{k}/secretRef/name"))) || is(vol.pointer(&format!("/{k}/nodePublishSecretRef/name"))))
                    || arr(vol.get("projected").unwrap_or(&Value::Null), "sources").iter().any(|s| is(s.pointer("/secret/name")))
            }
            Ref::ConfigMap => {
                is(vol.pointer("/configMap/name"))
                    || arr(vol.get("projected").unwrap_or(&Value::Null), "sources").iter().any(|s| is(s.pointer("/configMap/name")))
            }
            // a generic ephemeral volume's claim is named <pod>-<volume>
            Ref::Claim => {
                is(vol.pointer("/persistentVolumeClaim/claimName"))
                    || (vol.get("ephemeral").is_some_and(|e| !e.is_null())
                        && format!("{}-{}", pod.pointer("/metadata/name").and_then(Value::as_str).unwrap_or(""), vol.get("name").and_then(Value::as_str).unwrap_or("")) == name)
            }
            _ => false,
        };
        if hit {
            return true;
        }
    }
    if matches!(kind, Ref::Secret | Ref::ConfigMap) {
        let (ref_key, sel_key) = if kind == Ref::Secret { ("secretRef", "secretKeyRef") } else { ("configMapRef", "configMapKeyRef") };
        for list in ["initContainers", "containers", "ephemeralContainers"] {
            for c in arr(spec, list) {
                if arr(&c, "envFrom").iter().any(|e| is(e.pointer(&format!("/{ref_key}/name")))) {
                    return true;
                }
                if arr(&c, "env").iter().any(|e| is(e.pointer(&format!("/valueFrom/{sel_key}/name")))) {
                    return true;
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pod_reference_kinds() {
        let pod = json!({"metadata": {"name": "web"}, "spec": {
            "serviceAccountName": "runner",
            "imagePullSecrets": [{"name": "pull"}],
            "volumes": [
                {"name": "a", "secret": {"secretName": "vol-secret"}},
                {"name": "b", "configMap": {"name": "vol-cm"}},
                {"name": "c", "persistentVolumeClaim": {"claimName": "data"}},
                {"name": "d", "projected": {"sources": [{"secret": {"name": "proj-secret"}}, {"configMap": {"name": "proj-cm"}}]}},
                {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
            ],
            "containers": [{"name": "c", "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "env-secret", "key": "k"}}}],
                            "envFrom": [{"configMapRef": {"name": "envfrom-cm"}}]}],
        }});
        for s in ["pull", "vol-secret", "proj-secret", "env-secret"] {
            assert!(pod_references(&pod, Ref::Secret, s), "{s}");
        }
        for c in ["vol-cm", "proj-cm", "envfrom-cm"] {
            assert!(pod_references(&pod, Ref::ConfigMap, c), "{c}");
        }
        assert!(pod_references(&pod, Ref::Claim, "data"));
        assert!(pod_references(&pod, Ref::Claim, "web-scratch"), "a generic ephemeral volume's claim");
        assert!(!pod_references(&pod, Ref::Claim, "web-d"), "a projected volume has no claim");
        assert!(pod_references(&pod, Ref::ServiceAccount, "runner"));
        assert!(!pod_references(&pod, Ref::Secret, "vol-cm"));
        assert!(!pod_references(&pod, Ref::ConfigMap, "vol-secret"));
        assert!(!pod_references(&pod, Ref::ServiceAccount, "default"));
        assert!(!pod_references(&pod, Ref::Secret, "other"));
    }
}
