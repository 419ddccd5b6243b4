//! `storage.k8s.io/v1`: storageclasses, volumeattachments, csidrivers, csinodes,
//! csistoragecapacities.

use apimachinery::ResourceInfo;
use k8s_openapi::api::storage::v1 as api;

use super::{Registry, Resource, Strategy, parts};

parts!(spec, status: api::VolumeAttachment);
parts!(spec: api::CSIDriver, api::CSINode);
parts!(data: api::StorageClass, api::CSIStorageCapacity);

const GROUP: &str = "storage.k8s.io";

/// storageclasses
pub struct StorageClasses;
impl Strategy for StorageClasses {
    type K = api::StorageClass;
    fn validate(&self, o: &api::StorageClass) -> apimachinery::ErrorList {
        crate::validation::storage_class(o)
    }
    fn validate_update(&self, new: &api::StorageClass, old: &api::StorageClass) -> apimachinery::ErrorList {
        crate::validation::storage_class_update(new, old)
    }
    fn defaults(&self, o: &mut api::StorageClass) {
        crate::defaults::storage::storage_class(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::storage::storage_class_columns()
    }
    fn cells(&self, o: &api::StorageClass, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::storage::storage_class_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new(GROUP, "v1", "StorageClass", "storageclasses", false).short(&["sc"])
    }
}

/// volumeattachments
pub struct VolumeAttachments;
impl Strategy for VolumeAttachments {
    type K = api::VolumeAttachment;
    fn validate(&self, o: &api::VolumeAttachment) -> apimachinery::ErrorList {
        crate::validation::volume_attachment(o)
    }
    fn validate_update(&self, new: &api::VolumeAttachment, old: &api::VolumeAttachment) -> apimachinery::ErrorList {
        crate::validation::volume_attachment_update(new, old)
    }
    fn validate_status_update(&self, new: &api::VolumeAttachment, old: &api::VolumeAttachment) -> apimachinery::ErrorList {
        crate::validation::volume_attachment_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::VolumeAttachment) {
        crate::defaults::storage::volume_attachment(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::storage::volume_attachment_columns()
    }
    fn cells(&self, o: &api::VolumeAttachment, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::storage::volume_attachment_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new(GROUP, "v1", "VolumeAttachment", "volumeattachments", false)
    }
}

/// csidrivers
pub struct CsiDrivers;
impl Strategy for CsiDrivers {
    type K = api::CSIDriver;
    fn validate(&self, o: &api::CSIDriver) -> apimachinery::ErrorList {
        crate::validation::csi_driver(o)
    }
    fn validate_update(&self, new: &api::CSIDriver, old: &api::CSIDriver) -> apimachinery::ErrorList {
        crate::validation::csi_driver_update(new, old)
    }
    fn defaults(&self, o: &mut api::CSIDriver) {
        crate::defaults::storage::csi_driver(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::storage::csi_driver_columns()
    }
    fn cells(&self, o: &api::CSIDriver, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::storage::csi_driver_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new(GROUP, "v1", "CSIDriver", "csidrivers", false)
    }
}

/// csinodes
pub struct CsiNodes;
impl Strategy for CsiNodes {
    type K = api::CSINode;
    fn validate(&self, o: &api::CSINode) -> apimachinery::ErrorList {
        crate::validation::csi_node(o)
    }
    fn validate_update(&self, new: &api::CSINode, old: &api::CSINode) -> apimachinery::ErrorList {
        crate::validation::csi_node_update(new, old)
    }
    fn defaults(&self, o: &mut api::CSINode) {
        crate::defaults::storage::csi_node(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::storage::csi_node_columns()
    }
    fn cells(&self, o: &api::CSINode, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::storage::csi_node_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new(GROUP, "v1", "CSINode", "csinodes", false)
    }
}

/// csistoragecapacities
pub struct CsiStorageCapacities;
impl Strategy for CsiStorageCapacities {
    type K = api::CSIStorageCapacity;
    fn validate(&self, o: &api::CSIStorageCapacity) -> apimachinery::ErrorList {
        crate::validation::csi_storage_capacity(o)
    }
    fn validate_update(&self, new: &api::CSIStorageCapacity, old: &api::CSIStorageCapacity) -> apimachinery::ErrorList {
        crate::validation::csi_storage_capacity_update(new, old)
    }
    fn defaults(&self, o: &mut api::CSIStorageCapacity) {
        crate::defaults::storage::csi_storage_capacity(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::storage::csi_storage_capacity_columns()
    }
    fn cells(&self, o: &api::CSIStorageCapacity, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::storage::csi_storage_capacity_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new(GROUP, "v1", "CSIStorageCapacity", "csistoragecapacities", true)
    }
}

/// Registers storage.k8s.io/v1.
pub fn register(r: &mut Registry) {
    r.add(Resource::new(CsiDrivers));
    r.add(Resource::new(CsiNodes));
    r.add(Resource::new(CsiStorageCapacities));
    r.add(Resource::new(StorageClasses));
    r.add(Resource::new(VolumeAttachments));
}
