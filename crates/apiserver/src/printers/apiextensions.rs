//! CustomResourceDefinitions. The apiextensions server uses the default table convertor, so
//! the table is the default one: NAME and CREATED AT (RFC 3339).

use apimachinery::table::Column;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::Value;

use super::{default_cells, default_columns};

/// CustomResourceDefinition has no printer upstream: the default table (NAME, CREATED AT).
pub fn custom_resource_definition_columns() -> Vec<Column> {
    default_columns()
}

/// CustomResourceDefinition cells of the default table.
pub fn custom_resource_definition_cells(
    obj: &CustomResourceDefinition,
    _now: jiff::Timestamp,
) -> Vec<Value> {
    default_cells(&obj.metadata)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testutil::{cells, meta, now};
    use serde_json::json;

    #[test]
    fn crd_default_table() {
        let crd = CustomResourceDefinition {
            metadata: meta("widgets.example.com", 3600),
            ..Default::default()
        };
        assert_eq!(
            cells(custom_resource_definition_cells(&crd, now())),
            json!(["widgets.example.com", "2024-05-01T11:00:00Z"])
        );
        let cols = custom_resource_definition_columns();
        assert_eq!(
            (cols[0].name, cols[1].name, cols[1].type_),
            ("Name", "Created At", "date")
        );
    }
}
