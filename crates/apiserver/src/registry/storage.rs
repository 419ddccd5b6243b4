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
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new(GROUP, "v1", "StorageClass", "storageclasses", false).short(&["sc"])
    }
}

/// volumeattachments
pub struct VolumeAttachments;
impl Strategy for VolumeAttachments {
    type K = api::VolumeAttachment;
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new(GROUP, "v1", "VolumeAttachment", "volumeattachments", false)
    }
}

/// csidrivers
pub struct CsiDrivers;
impl Strategy for CsiDrivers {
    type K = api::CSIDriver;
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new(GROUP, "v1", "CSIDriver", "csidrivers", false)
    }
}

/// csinodes
pub struct CsiNodes;
impl Strategy for CsiNodes {
    type K = api::CSINode;
    fn info(&self) -> ResourceInfo {
        ResourceInfo::new(GROUP, "v1", "CSINode", "csinodes", false)
    }
}

/// csistoragecapacities
pub struct CsiStorageCapacities;
impl Strategy for CsiStorageCapacities {
    type K = api::CSIStorageCapacity;
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
