//! Printers for `storage.k8s.io`.

use apimachinery::table::Column;
use k8s_openapi::api::storage::v1::{
    CSIDriver, CSINode, CSIStorageCapacity, StorageClass, VolumeAttachment,
};
use serde_json::Value;

use super::docs::*;
use super::{NONE, UNSET, age, bcol, boolean, col, format_quantity, icol, int, name, s};

/// StorageClass columns: NAME, PROVISIONER, RECLAIMPOLICY, VOLUMEBINDINGMODE,
/// ALLOWVOLUMEEXPANSION, AGE.
pub fn storage_class_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("Provisioner", SC_PROVISIONER),
        col("ReclaimPolicy", SC_RECLAIM_POLICY),
        col("VolumeBindingMode", SC_VOLUME_BINDING_MODE),
        col("AllowVolumeExpansion", SC_ALLOW_VOLUME_EXPANSION),
        Column::age(),
    ]
}

/// StorageClass cells: the default class's name gets ` (default)`; ALLOWVOLUMEEXPANSION is a
/// boolean cell.
pub fn storage_class_cells(obj: &StorageClass, now: jiff::Timestamp) -> Vec<Value> {
    let annotations = obj.metadata.annotations.as_ref();
    let is_default = [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]
    .iter()
    .any(|k| {
        annotations
            .and_then(|a| a.get(*k))
            .is_some_and(|v| v == "true")
    });
    let mut display = name(&obj.metadata);
    if is_default {
        display.push_str(" (default)");
    }
    vec![
        s(display),
        s(obj.provisioner.clone()),
        s(obj
            .reclaim_policy
            .clone()
            .unwrap_or_else(|| "Delete".into())),
        s(obj
            .volume_binding_mode
            .clone()
            .unwrap_or_else(|| "Immediate".into())),
        boolean(obj.allow_volume_expansion.unwrap_or(false)),
        age(&obj.metadata, now),
    ]
}

/// VolumeAttachment columns: NAME, ATTACHER, PV, NODE, ATTACHED, AGE.
pub fn volume_attachment_columns() -> Vec<Column> {
    vec![
        Column::name(),
        Column {
            name: "Attacher",
            type_: "string",
            format: "name",
            description: VA_SPEC_ATTACHER,
            priority: 0,
        },
        col("PV", VA_SOURCE_PV_NAME),
        col("Node", VA_SPEC_NODE_NAME),
        bcol("Attached", VA_STATUS_ATTACHED),
        Column::age(),
    ]
}

/// VolumeAttachment cells.
pub fn volume_attachment_cells(obj: &VolumeAttachment, now: jiff::Timestamp) -> Vec<Value> {
    vec![
        s(name(&obj.metadata)),
        s(obj.spec.attacher.clone()),
        s(obj
            .spec
            .source
            .persistent_volume_name
            .clone()
            .unwrap_or_default()),
        s(obj.spec.node_name.clone()),
        boolean(obj.status.as_ref().is_some_and(|st| st.attached)),
        age(&obj.metadata, now),
    ]
}

/// CSIDriver columns: NAME, ATTACHREQUIRED, PODINFOONMOUNT, STORAGECAPACITY, TOKENREQUESTS,
/// REQUIRESREPUBLISH, MODES, AGE.
pub fn csi_driver_columns() -> Vec<Column> {
    vec![
        Column::name(),
        bcol("AttachRequired", CSIDRIVER_ATTACH_REQUIRED),
        bcol("PodInfoOnMount", CSIDRIVER_POD_INFO_ON_MOUNT),
        bcol("StorageCapacity", CSIDRIVER_STORAGE_CAPACITY),
        col("TokenRequests", CSIDRIVER_TOKEN_REQUESTS),
        bcol("RequiresRepublish", CSIDRIVER_REQUIRES_REPUBLISH),
        col("Modes", CSIDRIVER_MODES),
        Column::age(),
    ]
}

/// CSIDriver cells; unset booleans print their API defaults (attach required: true, the rest
/// false); TOKENREQUESTS lists audiences or `<unset>`; MODES lists lifecycle modes or `<none>`.
pub fn csi_driver_cells(obj: &CSIDriver, now: jiff::Timestamp) -> Vec<Value> {
    let spec = &obj.spec;
    let modes = spec
        .volume_lifecycle_modes
        .as_deref()
        .unwrap_or(&[])
        .join(",");
    let modes = if modes.is_empty() {
        NONE.to_string()
    } else {
        modes
    };
    let tokens = match &spec.token_requests {
        Some(t) => t
            .iter()
            .map(|t| t.audience.as_str())
            .collect::<Vec<_>>()
            .join(","),
        None => UNSET.into(),
    };
    vec![
        s(name(&obj.metadata)),
        boolean(spec.attach_required.unwrap_or(true)),
        boolean(spec.pod_info_on_mount.unwrap_or(false)),
        boolean(spec.storage_capacity.unwrap_or(false)),
        s(tokens),
        boolean(spec.requires_republish.unwrap_or(false)),
        s(modes),
        age(&obj.metadata, now),
    ]
}

/// CSINode columns: NAME, DRIVERS, AGE.
pub fn csi_node_columns() -> Vec<Column> {
    vec![
        Column::name(),
        icol(
            "Drivers",
            "Drivers indicates the number of CSI drivers registered on the node",
        ),
        Column::age(),
    ]
}

/// CSINode cells.
pub fn csi_node_cells(obj: &CSINode, now: jiff::Timestamp) -> Vec<Value> {
    vec![
        s(name(&obj.metadata)),
        int(obj.spec.drivers.len() as i64),
        age(&obj.metadata, now),
    ]
}

/// CSIStorageCapacity columns: NAME, STORAGECLASSNAME, CAPACITY (no AGE upstream).
pub fn csi_storage_capacity_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("StorageClassName", CSISC_STORAGE_CLASS_NAME),
        col("Capacity", CSISC_CAPACITY),
    ]
}

/// CSIStorageCapacity cells; CAPACITY is `<unset>` when unknown.
pub fn csi_storage_capacity_cells(obj: &CSIStorageCapacity, _now: jiff::Timestamp) -> Vec<Value> {
    let capacity = obj
        .capacity
        .as_ref()
        .map(|q| format_quantity(&q.0))
        .unwrap_or_else(|| UNSET.into());
    vec![
        s(name(&obj.metadata)),
        s(obj.storage_class_name.clone()),
        s(capacity),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testutil::{cells, meta, now};
    use k8s_openapi::api::storage::v1::*;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use serde_json::json;

    #[test]
    fn storage_class() {
        let mut m = meta("standard", 60);
        m.annotations = Some(
            [(
                "storageclass.kubernetes.io/is-default-class".to_string(),
                "true".to_string(),
            )]
            .into(),
        );
        let sc = StorageClass {
            metadata: m,
            provisioner: "rancher.io/local-path".into(),
            volume_binding_mode: Some("WaitForFirstConsumer".into()),
            ..Default::default()
        };
        assert_eq!(
            cells(storage_class_cells(&sc, now())),
            json!([
                "standard (default)",
                "rancher.io/local-path",
                "Delete",
                "WaitForFirstConsumer",
                false,
                "60s"
            ])
        );
        let sc2 = StorageClass {
            metadata: meta("fast", 60),
            provisioner: "ebs.csi.aws.com".into(),
            reclaim_policy: Some("Retain".into()),
            allow_volume_expansion: Some(true),
            ..Default::default()
        };
        assert_eq!(
            cells(storage_class_cells(&sc2, now())),
            json!([
                "fast",
                "ebs.csi.aws.com",
                "Retain",
                "Immediate",
                true,
                "60s"
            ])
        );
        assert_eq!(storage_class_columns()[4].type_, "string");
    }

    #[test]
    fn attachments_and_drivers() {
        let va = VolumeAttachment {
            metadata: meta("csi-123", 60),
            spec: VolumeAttachmentSpec {
                attacher: "ebs.csi.aws.com".into(),
                node_name: "node-a".into(),
                source: VolumeAttachmentSource {
                    persistent_volume_name: Some("pv-1".into()),
                    ..Default::default()
                },
            },
            status: Some(VolumeAttachmentStatus {
                attached: true,
                ..Default::default()
            }),
        };
        assert_eq!(
            cells(volume_attachment_cells(&va, now())),
            json!(["csi-123", "ebs.csi.aws.com", "pv-1", "node-a", true, "60s"])
        );
        assert_eq!(volume_attachment_columns()[1].format, "name");

        let d = CSIDriver {
            metadata: meta("ebs.csi.aws.com", 60),
            spec: CSIDriverSpec {
                pod_info_on_mount: Some(true),
                token_requests: Some(vec![
                    TokenRequest {
                        audience: "sts.amazonaws.com".into(),
                        expiration_seconds: None,
                    },
                    TokenRequest {
                        audience: "vault".into(),
                        expiration_seconds: None,
                    },
                ]),
                volume_lifecycle_modes: Some(vec!["Persistent".into(), "Ephemeral".into()]),
                ..Default::default()
            },
        };
        assert_eq!(
            cells(csi_driver_cells(&d, now())),
            json!([
                "ebs.csi.aws.com",
                true,
                true,
                false,
                "sts.amazonaws.com,vault",
                false,
                "Persistent,Ephemeral",
                "60s"
            ])
        );
        let plain = CSIDriver {
            metadata: meta("x", 60),
            spec: CSIDriverSpec {
                attach_required: Some(false),
                ..Default::default()
            },
        };
        assert_eq!(
            cells(csi_driver_cells(&plain, now())),
            json!(["x", false, false, false, "<unset>", false, "<none>", "60s"])
        );
        assert_eq!(csi_driver_columns().len(), 8);
    }

    #[test]
    fn csi_node_and_capacity() {
        let n = CSINode {
            metadata: meta("node-a", 60),
            spec: CSINodeSpec {
                drivers: vec![CSINodeDriver {
                    name: "a".into(),
                    node_id: "n".into(),
                    ..Default::default()
                }],
            },
        };
        assert_eq!(
            cells(csi_node_cells(&n, now())),
            json!(["node-a", 1, "60s"])
        );
        let c = CSIStorageCapacity {
            metadata: meta("cap-1", 60),
            storage_class_name: "fast".into(),
            capacity: Some(Quantity("2048Mi".into())),
            ..Default::default()
        };
        assert_eq!(
            cells(csi_storage_capacity_cells(&c, now())),
            json!(["cap-1", "fast", "2Gi"])
        );
        let c2 = CSIStorageCapacity {
            metadata: meta("cap-2", 60),
            storage_class_name: "fast".into(),
            ..Default::default()
        };
        assert_eq!(csi_storage_capacity_cells(&c2, now())[2], json!("<unset>"));
        assert_eq!(csi_storage_capacity_columns().len(), 3);
    }
}
