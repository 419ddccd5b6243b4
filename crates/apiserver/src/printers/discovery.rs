//! Printer for `discovery.k8s.io` EndpointSlices.

use apimachinery::table::Column;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde_json::Value;

use super::docs::*;
use super::{age, col, list_with_more, name, s};

/// EndpointSlice columns: NAME, ADDRESSTYPE, PORTS, ENDPOINTS, AGE.
pub fn endpoint_slice_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("AddressType", DISC1B1_EPS_ADDRESS_TYPE),
        col("Ports", DISC1B1_EPS_PORTS),
        col("Endpoints", DISC1B1_EPS_ENDPOINTS),
        Column::age(),
    ]
}

/// EndpointSlice cells: up to three ports (number, else name, else `*`) and up to three
/// addresses, each followed by ` + N more...`; `<unset>` when empty.
pub fn endpoint_slice_cells(obj: &EndpointSlice, now: jiff::Timestamp) -> Vec<Value> {
    const MAX: usize = 3;
    let ports = obj.ports.as_deref().unwrap_or(&[]);
    let port_list: Vec<String> = ports
        .iter()
        .take(MAX)
        .map(|p| match (p.port, &p.name) {
            (Some(n), _) => n.to_string(),
            (None, Some(name)) => name.clone(),
            (None, None) => "*".into(),
        })
        .collect();
    let ports_text = list_with_more(&port_list, ports.len() > MAX, ports.len(), MAX);
    let addresses: Vec<&String> = obj
        .endpoints
        .iter()
        .flat_map(|e| e.addresses.iter())
        .collect();
    let addr_list: Vec<String> = addresses.iter().take(MAX).map(|a| a.to_string()).collect();
    let endpoints_text = list_with_more(&addr_list, addresses.len() > MAX, addresses.len(), MAX);
    vec![
        s(name(&obj.metadata)),
        s(obj.address_type.clone()),
        s(ports_text),
        s(endpoints_text),
        age(&obj.metadata, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testutil::{cells, meta, now};
    use k8s_openapi::api::discovery::v1::{Endpoint, EndpointPort};
    use serde_json::json;

    fn ep(addrs: &[&str]) -> Endpoint {
        Endpoint {
            addresses: addrs.iter().map(|a| a.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn slices() {
        let slice = EndpointSlice {
            metadata: meta("web-abc", 60),
            address_type: "IPv4".into(),
            endpoints: vec![
                ep(&["10.0.0.1", "10.0.0.2"]),
                ep(&["10.0.0.3"]),
                ep(&["10.0.0.4"]),
            ],
            ports: Some(vec![
                EndpointPort {
                    port: Some(80),
                    name: Some("http".into()),
                    ..Default::default()
                },
                EndpointPort {
                    port: None,
                    name: Some("metrics".into()),
                    ..Default::default()
                },
                EndpointPort::default(),
                EndpointPort {
                    port: Some(9000),
                    ..Default::default()
                },
            ]),
        };
        assert_eq!(
            cells(endpoint_slice_cells(&slice, now())),
            json!([
                "web-abc",
                "IPv4",
                "80,metrics,* + 1 more...",
                "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...",
                "60s"
            ])
        );
        let empty = EndpointSlice {
            metadata: meta("e", 60),
            address_type: "IPv6".into(),
            endpoints: vec![],
            ports: None,
        };
        assert_eq!(
            cells(endpoint_slice_cells(&empty, now())),
            json!(["e", "IPv6", "<unset>", "<unset>", "60s"])
        );
    }
}
