//! storage.k8s.io/v1: StorageClasses, VolumeAttachments, CSIDrivers, CSINodes and
//! CSIStorageCapacities.

use std::collections::{BTreeMap, BTreeSet};

use apimachinery::field::{ErrorList, Path};
use apimachinery::validation as v;
use k8s_openapi::api::storage::v1 as st;

use super::common::*;
use super::core_pod::topology_selector_term;
use super::core_volumes::{csi_driver_name, validate_inline_pv_spec};
use apimachinery::quantity;

const MAX_PARAMETER_SIZE: usize = 256 * 1024;
const MAX_PARAMETER_COUNT: usize = 512;
const MAX_ATTACHED_VOLUME_METADATA_SIZE: usize = 256 * 1024;
const MAX_VOLUME_ERROR_MESSAGE_SIZE: usize = 1024;
/// The CSINode nodeID limit (upstream's registry allows the longer 256-byte form).
const CSI_NODE_ID_MAX_LENGTH: usize = 256;

// ---------------------------------------------------------------------------------------------
// StorageClass
// ---------------------------------------------------------------------------------------------

fn provisioner(name: &str, path: &Path) -> Errs {
    if name.is_empty() {
        return vec![required(path, "")];
    }
    // upstream lower-cases the name for the check but reports the lower-cased value
    qualified_name(&name.to_lowercase(), path)
}

fn parameters(params: Option<&BTreeMap<String, String>>, path: &Path) -> Errs {
    let Some(params) = params else { return Vec::new() };
    if params.len() > MAX_PARAMETER_COUNT {
        return vec![too_long(path, MAX_PARAMETER_COUNT)];
    }
    let mut e = Vec::new();
    let mut total = 0usize;
    for (k, val) in params {
        if k.is_empty() {
            e.push(invalid(path, k.as_str(), "field can not be empty."));
        }
        total += k.len() + val.len();
    }
    if total > MAX_PARAMETER_SIZE {
        e.push(too_long(path, MAX_PARAMETER_SIZE));
    }
    e
}

const RECLAIM_POLICIES: &[&str] = &["Delete", "Retain"];
const BINDING_MODES: &[&str] = &["Immediate", "WaitForFirstConsumer"];

/// StorageClass create: provisioner (qualified name), parameters (≤ 512 keys, ≤ 256 KiB, no
/// empty keys), reclaimPolicy and volumeBindingMode values, allowedTopologies terms (no
/// duplicates). Unset reclaimPolicy/volumeBindingMode count as their defaults.
pub fn storage_class(sc: &st::StorageClass) -> ErrorList {
    let mut e = provisioner(&sc.provisioner, &p("provisioner"));
    e.extend(parameters(sc.parameters.as_ref(), &p("parameters")));
    if let Some(rp) = sc.reclaim_policy.as_deref().filter(|r| !r.is_empty())
        && !RECLAIM_POLICIES.contains(&rp)
    {
        e.push(not_supported(&p("reclaimPolicy"), rp, RECLAIM_POLICIES));
    }
    if let Some(m) = &sc.volume_binding_mode
        && !BINDING_MODES.contains(&m.as_str())
    {
        e.push(not_supported(&p("volumeBindingMode"), m.as_str(), BINDING_MODES));
    }
    let tp = p("allowedTopologies");
    let mut seen: Vec<BTreeMap<String, BTreeSet<String>>> = Vec::new();
    for (i, term) in sl(&sc.allowed_topologies).iter().enumerate() {
        let ip = tp.index(i);
        let (map, errs) = topology_selector_term(term, &ip);
        e.extend(errs);
        if seen.contains(&map) {
            e.push(duplicate(&ip.child("matchLabelExpressions"), ""));
        }
        seen.push(map);
    }
    done(e)
}

/// StorageClass update: the create rules plus upstream's forbidden changes to parameters,
/// provisioner and reclaimPolicy, and volumeBindingMode immutability.
pub fn storage_class_update(new: &st::StorageClass, old: &st::StorageClass) -> ErrorList {
    let mut e = storage_class(new).0;
    let params = |s: &st::StorageClass| s.parameters.clone().unwrap_or_default();
    if params(new) != params(old) {
        e.push(forbidden(&p("parameters"), "updates to parameters are forbidden."));
    }
    if new.provisioner != old.provisioner {
        e.push(forbidden(&p("provisioner"), "updates to provisioner are forbidden."));
    }
    let rp = |s: &st::StorageClass| s.reclaim_policy.clone().unwrap_or_else(|| "Delete".to_string());
    if rp(new) != rp(old) {
        e.push(forbidden(&p("reclaimPolicy"), "updates to reclaimPolicy are forbidden."));
    }
    let bm = |s: &st::StorageClass| s.volume_binding_mode.clone().unwrap_or_else(|| "Immediate".to_string());
    e.extend(immutable(&bm(new), &bm(old), &p("volumeBindingMode")));
    done(e)
}

// ---------------------------------------------------------------------------------------------
// VolumeAttachment
// ---------------------------------------------------------------------------------------------

fn volume_error(err: Option<&st::VolumeError>, path: &Path) -> Errs {
    match err {
        // upstream reports the metadata size limit here, not the message limit
        Some(ve) if ostr(&ve.message).len() > MAX_VOLUME_ERROR_MESSAGE_SIZE => {
            vec![too_long(&path.child("message"), MAX_ATTACHED_VOLUME_METADATA_SIZE)]
        }
        _ => Vec::new(),
    }
}

/// VolumeAttachment create: attacher (required, CSI driver name at `spec.attacher`), exactly
/// one source (persistentVolumeName or an inline CSI volume spec), nodeName, and status
/// metadata size / error message limits.
pub fn volume_attachment(va: &st::VolumeAttachment) -> ErrorList {
    let mut e = Vec::new();
    let sp = p("spec");
    let spec = &va.spec;
    if spec.attacher.is_empty() {
        e.push(required(&sp.child("attacher"), ""));
    }
    let src = &spec.source;
    let srcp = sp.child("source");
    const ONE: &str = "must specify exactly one of inlineVolumeSpec and persistentVolumeName";
    match (&src.inline_volume_spec, &src.persistent_volume_name) {
        (None, None) => e.push(required(&srcp, ONE)),
        (Some(_), Some(_)) => e.push(forbidden(&srcp, ONE)),
        (None, Some(pv)) => {
            if pv.is_empty() {
                e.push(required(&srcp.child("persistentVolumeName"), "must specify non empty persistentVolumeName"));
            }
        }
        (Some(inline), None) => e.extend(validate_inline_pv_spec(inline, &srcp.child("inlineVolumeSpec"))),
    }
    for m in v::name_is_dns_subdomain(&spec.node_name, false) {
        e.push(invalid(&sp.child("nodeName"), spec.node_name.as_str(), m));
    }
    if let Some(status) = &va.status {
        let stp = p("status");
        let size: usize = status.attachment_metadata.iter().flatten().map(|(k, v)| k.len() + v.len()).sum();
        if size > MAX_ATTACHED_VOLUME_METADATA_SIZE {
            e.push(too_long(&stp.child("attachmentMetadata"), MAX_ATTACHED_VOLUME_METADATA_SIZE));
        }
        e.extend(volume_error(status.attach_error.as_ref(), &stp.child("attachError")));
        e.extend(volume_error(status.detach_error.as_ref(), &stp.child("detachError")));
    }
    // the v1-only checks
    e.extend(csi_driver_name(&spec.attacher, &p("spec.attacher")));
    if let Some(pv) = &src.persistent_volume_name {
        for m in v::name_is_dns_subdomain(pv, false) {
            e.push(invalid(&p("spec.source.persistentVolumeName"), pv.as_str(), m));
        }
    }
    done(e)
}

/// VolumeAttachment update (and status update): the create rules plus
/// `spec: Invalid value: ...: field is immutable`.
pub fn volume_attachment_update(new: &st::VolumeAttachment, old: &st::VolumeAttachment) -> ErrorList {
    let mut e = volume_attachment(new).0;
    if !sem_eq(&new.spec, &old.spec) {
        e.push(invalid(&p("spec"), json(&new.spec), FIELD_IMMUTABLE));
    }
    done(e)
}

/// VolumeAttachment status update: as [`volume_attachment_update`].
pub fn volume_attachment_status_update(new: &st::VolumeAttachment, old: &st::VolumeAttachment) -> ErrorList {
    volume_attachment_update(new, old)
}

// ---------------------------------------------------------------------------------------------
// CSIDriver
// ---------------------------------------------------------------------------------------------

const FS_GROUP_POLICIES: &[&str] = &["File", "None", "ReadWriteOnceWithFSType"];
const LIFECYCLE_MODES: &[&str] = &["Persistent", "Ephemeral"];

/// CSIDriver create: fsGroupPolicy values, tokenRequests (unique audiences, expiration between
/// 10 minutes and 2^32 seconds), volumeLifecycleModes values. attachRequired, podInfoOnMount,
/// storageCapacity and seLinuxMount are defaulted, so never reported missing.
pub fn csi_driver(d: &st::CSIDriver) -> ErrorList {
    let mut e = Vec::new();
    let sp = p("spec");
    let spec = &d.spec;
    if let Some(pol) = &spec.fs_group_policy
        && !FS_GROUP_POLICIES.contains(&pol.as_str())
    {
        e.push(not_supported(&sp.child("fsGroupPolicy"), pol.as_str(), FS_GROUP_POLICIES));
    }
    let mut audiences = BTreeSet::new();
    for (i, tr) in sl(&spec.token_requests).iter().enumerate() {
        let ip = sp.child("tokenRequests").index(i);
        if !audiences.insert(tr.audience.as_str()) {
            e.push(duplicate(&ip.child("audience"), tr.audience.as_str()));
            continue;
        }
        if let Some(exp) = tr.expiration_seconds {
            if exp < 600 {
                e.push(invalid(&ip.child("expirationSeconds"), exp, "may not specify a duration less than 10 minutes"));
            }
            if exp > 1 << 32 {
                e.push(invalid(&ip.child("expirationSeconds"), exp, "may not specify a duration larger than 2^32 seconds"));
            }
        }
    }
    for m in sl(&spec.volume_lifecycle_modes) {
        if !LIFECYCLE_MODES.contains(&m.as_str()) {
            e.push(not_supported(&sp.child("volumeLifecycleModes"), m.as_str(), LIFECYCLE_MODES));
        }
    }
    done(e)
}

/// CSIDriver update: the create rules plus immutability of attachRequired (reported at
/// upstream's `spec.attachedRequired`) and volumeLifecycleModes.
pub fn csi_driver_update(new: &st::CSIDriver, old: &st::CSIDriver) -> ErrorList {
    let mut e = csi_driver(new).0;
    let ar = |d: &st::CSIDriver| d.spec.attach_required.unwrap_or(true);
    e.extend(immutable(&ar(new), &ar(old), &p("spec").child("attachedRequired")));
    let modes = |d: &st::CSIDriver| d.spec.volume_lifecycle_modes.clone().unwrap_or_else(|| vec!["Persistent".to_string()]);
    e.extend(immutable(&modes(new), &modes(old), &p("spec").child("volumeLifecycleModes")));
    done(e)
}

// ---------------------------------------------------------------------------------------------
// CSINode
// ---------------------------------------------------------------------------------------------

/// CSINode create: each driver's name (CSI driver name, unique), nodeID (required, ≤ 256
/// bytes), allocatable count ≥ 0 and topology keys (non-empty, unique, qualified names —
/// reported at the driver's path, as upstream).
pub fn csi_node(n: &st::CSINode) -> ErrorList {
    let mut e = Vec::new();
    let dp = p("spec").child("drivers");
    let mut names = BTreeSet::new();
    for (i, d) in n.spec.drivers.iter().enumerate() {
        let ip = dp.index(i);
        e.extend(csi_driver_name(&d.name, &ip.child("name")));
        if d.node_id.is_empty() {
            e.push(required(&ip.child("nodeID"), ""));
        }
        if d.node_id.len() > CSI_NODE_ID_MAX_LENGTH {
            e.push(invalid(&ip.child("nodeID"), d.node_id.as_str(), format!("must be {CSI_NODE_ID_MAX_LENGTH} characters or less")));
        }
        if let Some(c) = d.allocatable.as_ref().and_then(|a| a.count) {
            e.extend(nonneg(c as i64, &ip.child("allocatable").child("count")));
        }
        if !names.insert(d.name.as_str()) {
            e.push(duplicate(&ip.child("name"), d.name.as_str()));
        }
        let mut keys = BTreeSet::new();
        for key in sl(&d.topology_keys) {
            if key.is_empty() {
                e.push(required(&ip, ""));
            }
            if !keys.insert(key.as_str()) {
                e.push(duplicate(&ip, key.as_str()));
            }
            e.extend(qualified_name(key, &ip));
        }
    }
    done(e)
}

/// CSINode update: the create rules plus immutability of existing driver entries (matched by
/// name; reported at `spec.drivers`).
pub fn csi_node_update(new: &st::CSINode, old: &st::CSINode) -> ErrorList {
    let mut e = csi_node(new).0;
    for od in &old.spec.drivers {
        for nd in &new.spec.drivers {
            if od.name == nd.name && !sem_eq(nd, od) {
                e.push(invalid(&p("spec").child("drivers"), json(nd), FIELD_IMMUTABLE));
            }
        }
    }
    done(e)
}

// ---------------------------------------------------------------------------------------------
// CSIStorageCapacity
// ---------------------------------------------------------------------------------------------

fn capacity_errs(c: &st::CSIStorageCapacity, allow_invalid_label_value: bool) -> Errs {
    let mut e = label_selector(c.node_topology.as_ref(), &p("nodeTopology"), allow_invalid_label_value);
    for m in v::name_is_dns_subdomain(&c.storage_class_name, false) {
        e.push(invalid(&p("storageClassName"), c.storage_class_name.as_str(), m));
    }
    if let Some(q) = &c.capacity
        && let Ok(parsed) = quantity::parse(q)
        && parsed.signum() < 0
    {
        e.push(invalid(&p("capacity"), parsed.canonical(), IS_NEGATIVE));
    }
    e
}

/// CSIStorageCapacity create: nodeTopology selector, storageClassName, capacity ≥ 0.
pub fn csi_storage_capacity(c: &st::CSIStorageCapacity) -> ErrorList {
    done(capacity_errs(c, false))
}

/// CSIStorageCapacity update: the create rules (invalid selector label values already present
/// tolerated) plus immutability of nodeTopology and storageClassName.
pub fn csi_storage_capacity_update(new: &st::CSIStorageCapacity, old: &st::CSIStorageCapacity) -> ErrorList {
    let ratchet = old.node_topology.is_some() && !label_selector(old.node_topology.as_ref(), &p("x"), false).is_empty();
    let mut e = capacity_errs(new, ratchet);
    if !sem_eq(&new.node_topology, &old.node_topology) {
        e.push(invalid(&p("nodeTopology"), json(&new.node_topology), FIELD_IMMUTABLE));
    }
    if new.storage_class_name != old.storage_class_name {
        e.push(invalid(&p("storageClassName"), new.storage_class_name.as_str(), FIELD_IMMUTABLE));
    }
    done(e)
}
