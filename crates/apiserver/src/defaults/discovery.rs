//! Defaults for `discovery.k8s.io/v1`.

use k8s_openapi::api::discovery::v1::EndpointSlice;

use super::default_ptr;

/// EndpointSlice defaults: every port gets `name: ""` and `protocol: TCP` when absent.
pub fn endpoint_slice(obj: &mut EndpointSlice) {
    for p in obj.ports.iter_mut().flatten() {
        default_ptr(&mut p.name, String::new());
        default_ptr(&mut p.protocol, "TCP".to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults::testutil::{assert_idempotent, from_json, to_json};
    use serde_json::json;

    #[test]
    fn ports() {
        let mut s: EndpointSlice = from_json(
            json!({"metadata": {"name": "s"}, "addressType": "IPv4", "endpoints": [],
            "ports": [{"port": 80}, {"name": "dns", "port": 53, "protocol": "UDP"}]}),
        );
        endpoint_slice(&mut s);
        assert_eq!(
            to_json(&s)["ports"],
            json!([
                {"name": "", "port": 80, "protocol": "TCP"},
                {"name": "dns", "port": 53, "protocol": "UDP"}
            ])
        );
        assert_idempotent(&s, endpoint_slice);
    }
}
