//! Defaults for `networking.k8s.io/v1`.

use k8s_openapi::api::networking::v1::{Ingress, IngressClass, NetworkPolicy, NetworkPolicyPort};

use super::{default_ptr, len_zero};

fn ports(ports: &mut Option<Vec<NetworkPolicyPort>>) {
    for p in ports.iter_mut().flatten() {
        default_ptr(&mut p.protocol, "TCP".to_owned());
    }
}

/// NetworkPolicy defaults: every port's protocol defaults to TCP; with no `policyTypes`,
/// `["Ingress"]`, plus `"Egress"` when egress rules are present.
pub fn network_policy(obj: &mut NetworkPolicy) {
    let spec = obj.spec.get_or_insert_with(Default::default);
    if len_zero(&spec.policy_types) {
        let mut types = vec!["Ingress".to_owned()];
        if !len_zero(&spec.egress) {
            types.push("Egress".to_owned());
        }
        spec.policy_types = Some(types);
    }
    for rule in spec.ingress.iter_mut().flatten() {
        ports(&mut rule.ports);
    }
    for rule in spec.egress.iter_mut().flatten() {
        ports(&mut rule.ports);
    }
}

/// IngressClass defaults: a parameters reference without a scope gets `scope: Cluster`.
pub fn ingress_class(obj: &mut IngressClass) {
    if let Some(p) = obj.spec.as_mut().and_then(|s| s.parameters.as_mut()) {
        default_ptr(&mut p.scope, "Cluster".to_owned());
    }
}

/// Ingress: upstream has no defaults for this kind in networking.k8s.io/v1 (`pathType` is
/// required there; the `ImplementationSpecific` default existed only in v1beta1).
pub fn ingress(_obj: &mut Ingress) {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults::testutil::{assert_idempotent, from_json, to_json};
    use serde_json::json;

    #[test]
    fn network_policy_defaults() {
        let mut np: NetworkPolicy = from_json(
            json!({"metadata": {"name": "np"}, "spec": {"podSelector": {},
            "ingress": [{"ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}]}}),
        );
        network_policy(&mut np);
        let v = to_json(&np);
        assert_eq!(v["spec"]["policyTypes"], json!(["Ingress"]));
        assert_eq!(
            v["spec"]["ingress"][0]["ports"],
            json!([{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}])
        );
        assert_idempotent(&np, network_policy);

        let mut np: NetworkPolicy = from_json(
            json!({"metadata": {"name": "np"}, "spec": {"podSelector": {},
            "egress": [{"ports": [{"port": 443}]}]}}),
        );
        network_policy(&mut np);
        let v = to_json(&np);
        assert_eq!(v["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
        assert_eq!(v["spec"]["egress"][0]["ports"][0]["protocol"], json!("TCP"));

        let mut np: NetworkPolicy = from_json(
            json!({"metadata": {"name": "np"}, "spec": {"podSelector": {},
            "policyTypes": ["Egress"]}}),
        );
        network_policy(&mut np);
        assert_eq!(to_json(&np)["spec"]["policyTypes"], json!(["Egress"]));
    }

    #[test]
    fn ingress_class_scope() {
        let mut ic: IngressClass = from_json(
            json!({"metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx",
            "parameters": {"apiGroup": "k8s.example.com", "kind": "IngressParameters", "name": "p"}}}),
        );
        ingress_class(&mut ic);
        assert_eq!(
            to_json(&ic)["spec"]["parameters"]["scope"],
            json!("Cluster")
        );
        assert_idempotent(&ic, ingress_class);

        let mut ic: IngressClass = from_json(
            json!({"metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx"}}),
        );
        ingress_class(&mut ic);
        assert_eq!(
            to_json(&ic)["spec"],
            json!({"controller": "k8s.io/ingress-nginx"})
        );
    }
}
