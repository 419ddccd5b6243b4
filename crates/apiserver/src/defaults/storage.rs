//! Defaults for `storage.k8s.io/v1`.

use k8s_openapi::api::storage::v1::{
    CSIDriver, CSINode, CSIStorageCapacity, StorageClass, VolumeAttachment,
};

use super::core::persistent_volume_spec_sources;
use super::{default_ptr, len_zero};

/// StorageClass defaults: `reclaimPolicy: Delete`, `volumeBindingMode: Immediate`.
pub fn storage_class(obj: &mut StorageClass) {
    default_ptr(&mut obj.reclaim_policy, "Delete".to_owned());
    default_ptr(&mut obj.volume_binding_mode, "Immediate".to_owned());
}

/// CSIDriver defaults: `attachRequired: true`, `podInfoOnMount: false`,
/// `storageCapacity: false`, `fsGroupPolicy: ReadWriteOnceWithFSType`,
/// `volumeLifecycleModes: [Persistent]`, `requiresRepublish: false`, and (beta
/// `SELinuxMountReadWriteOncePod`, on in 1.32) `seLinuxMount: false`.
pub fn csi_driver(obj: &mut CSIDriver) {
    let spec = &mut obj.spec;
    default_ptr(&mut spec.attach_required, true);
    default_ptr(&mut spec.pod_info_on_mount, false);
    default_ptr(&mut spec.storage_capacity, false);
    default_ptr(
        &mut spec.fs_group_policy,
        "ReadWriteOnceWithFSType".to_owned(),
    );
    if len_zero(&spec.volume_lifecycle_modes) {
        spec.volume_lifecycle_modes = Some(vec!["Persistent".to_owned()]);
    }
    default_ptr(&mut spec.requires_republish, false);
    default_ptr(&mut spec.se_linux_mount, false);
}

/// VolumeAttachment defaults: an inline volume spec gets the persistent-volume source and
/// capacity defaults (not the PersistentVolume-only `volumeMode`/reclaim policy).
pub fn volume_attachment(obj: &mut VolumeAttachment) {
    if let Some(spec) = &mut obj.spec.source.inline_volume_spec {
        persistent_volume_spec_sources(spec);
    }
}

/// CSINode: upstream has no defaults for this kind.
pub fn csi_node(_obj: &mut CSINode) {}

/// CSIStorageCapacity: upstream has no defaults for this kind.
pub fn csi_storage_capacity(_obj: &mut CSIStorageCapacity) {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults::testutil::{assert_idempotent, from_json, to_json};
    use serde_json::json;

    #[test]
    fn storage_class_defaults() {
        let mut sc: StorageClass =
            from_json(json!({"metadata": {"name": "standard"}, "provisioner": "example.com/p"}));
        storage_class(&mut sc);
        assert_eq!(
            to_json(&sc),
            json!({"metadata": {"name": "standard"}, "provisioner": "example.com/p",
            "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"})
        );
        let mut sc: StorageClass = from_json(json!({"metadata": {"name": "s"}, "provisioner": "p",
            "reclaimPolicy": "Retain", "volumeBindingMode": "WaitForFirstConsumer"}));
        storage_class(&mut sc);
        assert_eq!(sc.reclaim_policy.as_deref(), Some("Retain"));
        assert_eq!(
            sc.volume_binding_mode.as_deref(),
            Some("WaitForFirstConsumer")
        );
        assert_idempotent(&sc, storage_class);
    }

    #[test]
    fn csi_driver_defaults() {
        let mut d: CSIDriver =
            from_json(json!({"metadata": {"name": "csi.example.com"}, "spec": {}}));
        csi_driver(&mut d);
        assert_eq!(
            to_json(&d)["spec"],
            json!({
                "attachRequired": true,
                "podInfoOnMount": false,
                "storageCapacity": false,
                "fsGroupPolicy": "ReadWriteOnceWithFSType",
                "volumeLifecycleModes": ["Persistent"],
                "requiresRepublish": false,
                "seLinuxMount": false
            })
        );
        let mut d: CSIDriver = from_json(
            json!({"metadata": {"name": "c"}, "spec": {"attachRequired": false,
            "volumeLifecycleModes": ["Ephemeral"], "fsGroupPolicy": "File"}}),
        );
        csi_driver(&mut d);
        let v = to_json(&d);
        assert_eq!(v["spec"]["attachRequired"], json!(false));
        assert_eq!(v["spec"]["volumeLifecycleModes"], json!(["Ephemeral"]));
        assert_eq!(v["spec"]["fsGroupPolicy"], json!("File"));
        assert_idempotent(&d, csi_driver);
    }

    #[test]
    fn volume_attachment_inline_spec() {
        let mut va: VolumeAttachment = from_json(
            json!({"metadata": {"name": "va"}, "spec": {"attacher": "a", "nodeName": "n",
            "source": {"inlineVolumeSpec": {"capacity": {"storage": "2048Mi"}, "hostPath": {"path": "/x"},
                "rbd": {"monitors": ["m"], "image": "i"}}}}}),
        );
        volume_attachment(&mut va);
        let v = to_json(&va);
        let s = &v["spec"]["source"]["inlineVolumeSpec"];
        assert_eq!(s["capacity"], json!({"storage": "2Gi"}));
        assert_eq!(s["hostPath"], json!({"path": "/x", "type": ""}));
        assert_eq!(s["rbd"]["pool"], json!("rbd"));
        assert!(s.get("volumeMode").is_none());
        assert!(s.get("persistentVolumeReclaimPolicy").is_none());
        assert_idempotent(&va, volume_attachment);
    }
}
