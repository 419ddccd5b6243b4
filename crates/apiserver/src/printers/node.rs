//! Printer for `node.k8s.io` RuntimeClasses.

use apimachinery::table::Column;
use k8s_openapi::api::node::v1::RuntimeClass;
use serde_json::Value;

use super::{age, col, name, s};

/// RuntimeClass columns: NAME, HANDLER, AGE. Upstream looks the HANDLER description up in the
/// object-meta docs, where it does not exist, so it is empty.
pub fn runtime_class_columns() -> Vec<Column> {
    vec![Column::name(), col("Handler", ""), Column::age()]
}

/// RuntimeClass cells.
pub fn runtime_class_cells(obj: &RuntimeClass, now: jiff::Timestamp) -> Vec<Value> {
    vec![
        s(name(&obj.metadata)),
        s(obj.handler.clone()),
        age(&obj.metadata, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testutil::{cells, meta, now};
    use serde_json::json;

    #[test]
    fn runtime_class() {
        let rc = RuntimeClass {
            metadata: meta("gvisor", 60),
            handler: "runsc".into(),
            ..Default::default()
        };
        assert_eq!(
            cells(runtime_class_cells(&rc, now())),
            json!(["gvisor", "runsc", "60s"])
        );
        assert_eq!(runtime_class_columns()[1].description, "");
    }
}
