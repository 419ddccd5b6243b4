//! Printer for `coordination.k8s.io` Leases.

use apimachinery::table::Column;
use k8s_openapi::api::coordination::v1::Lease;
use serde_json::Value;

use super::docs::*;
use super::{age, col, name, s};

/// Lease columns: NAME, HOLDER, AGE.
pub fn lease_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("Holder", LEASE_SPEC_HOLDER_IDENTITY),
        Column::age(),
    ]
}

/// Lease cells; HOLDER is empty when nobody holds the lease.
pub fn lease_cells(obj: &Lease, now: jiff::Timestamp) -> Vec<Value> {
    let holder = obj
        .spec
        .as_ref()
        .and_then(|s| s.holder_identity.clone())
        .unwrap_or_default();
    vec![s(name(&obj.metadata)), s(holder), age(&obj.metadata, now)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testutil::{cells, meta, now};
    use k8s_openapi::api::coordination::v1::LeaseSpec;
    use serde_json::json;

    #[test]
    fn lease() {
        let l = Lease {
            metadata: meta("kube-scheduler", 60),
            spec: Some(LeaseSpec {
                holder_identity: Some("cp-1_abc".into()),
                ..Default::default()
            }),
        };
        assert_eq!(
            cells(lease_cells(&l, now())),
            json!(["kube-scheduler", "cp-1_abc", "60s"])
        );
        let free = Lease {
            metadata: meta("x", 60),
            spec: None,
        };
        assert_eq!(lease_cells(&free, now())[1], json!(""));
        assert!(lease_columns()[1].description.starts_with("holderIdentity"));
    }
}
