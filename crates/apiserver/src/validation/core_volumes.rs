//! Pod volume sources, PersistentVolumes and PersistentVolumeClaims (core/v1), after
//! upstream's `validateVolumeSource`, `ValidatePersistentVolume*` and
//! `ValidatePersistentVolumeClaim*`.
//!
//! Field paths keep upstream's quirks (`gcePersistentDisk` checked under `persistentDisk`,
//! the `downwarAPI` typo in the "more than 1 volume type" error, projected/downwardAPI item
//! errors without an item index, PVC `volumeMode` immutability at `volumeMode`, ...).

use std::collections::{BTreeMap, BTreeSet};

use apimachinery::field::{ErrorList, Path};
use apimachinery::validation as v;
use k8s_openapi::api::core::v1 as api;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as KQuantity;

use super::common::*;
use super::core_pod::{
    validate_node_selector, validate_object_field_selector, validate_resource_field_selector,
    DOWNWARD_API_VOLUME_FIELD_PATHS,
};
use apimachinery::quantity::Quantity;

pub(crate) const FILE_MODE_MSG: &str = "must be a number between 0 and 0777 (octal), both inclusive";

const MORE_THAN_ONE: &str = "may not specify more than 1 volume type";

// ---------------------------------------------------------------------------------------------
// paths
// ---------------------------------------------------------------------------------------------

/// Upstream's `validatePathNoBacksteps`.
pub(crate) fn path_no_backsteps(target: &str, path: &Path) -> Errs {
    if target.split('/').any(|s| s == "..") {
        vec![invalid(path, target, "must not contain '..'")]
    } else {
        Vec::new()
    }
}

/// Upstream's `validateLocalDescendingPath`.
pub(crate) fn local_descending_path(target: &str, path: &Path) -> Errs {
    let mut errs = Vec::new();
    if target.starts_with('/') {
        errs.push(invalid(path, target, "must be a relative path"));
    }
    errs.extend(path_no_backsteps(target, path));
    errs
}

/// Upstream's `ValidateLocalNonReservedPath`.
pub(crate) fn local_non_reserved_path(target: &str, path: &Path) -> Errs {
    let mut errs = local_descending_path(target, path);
    if target.starts_with("..") && !target.starts_with("../") {
        errs.push(invalid(path, target, "must not start with '..'"));
    }
    errs
}

fn file_mode(mode: Option<i32>, path: &Path) -> Errs {
    match mode {
        Some(m) if !(0..=0o777).contains(&m) => vec![invalid(path, m, FILE_MODE_MSG)],
        _ => Vec::new(),
    }
}

fn key_to_path(kp: &api::KeyToPath, path: &Path) -> Errs {
    let mut errs = Vec::new();
    if kp.key.is_empty() {
        errs.push(required(&path.child("key"), ""));
    }
    if kp.path.is_empty() {
        errs.push(required(&path.child("path"), ""));
    }
    errs.extend(local_non_reserved_path(&kp.path, &path.child("path")));
    errs.extend(file_mode(kp.mode, &path.child("mode")));
    errs
}

// ---------------------------------------------------------------------------------------------
// pod volumes
// ---------------------------------------------------------------------------------------------

/// What kind of source a valid volume has (what mounts and devices need to know).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct VolumeInfo {
    pub is_pvc: bool,
    pub is_image: bool,
}

/// Upstream's `ValidateVolumes`: returns the valid volumes by name and the errors.
pub(crate) fn validate_volumes(
    volumes: &[api::Volume],
    pod_name: Option<&str>,
    path: &Path,
    resource_is_pod: bool,
) -> (BTreeMap<String, VolumeInfo>, Errs) {
    let mut errs = Vec::new();
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut created_pvcs: BTreeSet<String> = BTreeSet::new();
    if let Some(pod) = pod_name.filter(|n| !n.is_empty()) {
        for vol in volumes {
            if vol.ephemeral.is_some() {
                created_pvcs.insert(format!("{pod}-{}", vol.name));
            }
        }
    }
    let mut vols = BTreeMap::new();
    for (i, vol) in volumes.iter().enumerate() {
        let idx = path.index(i);
        let name_path = idx.child("name");
        let mut el = validate_volume_source(vol, &idx, pod_name, resource_is_pod);
        if vol.name.is_empty() {
            el.push(required(&name_path, ""));
        } else {
            el.extend(dns1123_label(&vol.name, &name_path));
        }
        if names.contains(&vol.name) {
            el.push(duplicate(&name_path, vol.name.as_str()));
        }
        if el.is_empty() {
            names.insert(vol.name.clone());
            vols.insert(
                vol.name.clone(),
                VolumeInfo {
                    is_pvc: vol.persistent_volume_claim.is_some() || vol.ephemeral.is_some(),
                    is_image: vol.image.is_some(),
                },
            );
        } else {
            errs.extend(el);
        }
        if let Some(pvc) = &vol.persistent_volume_claim
            && created_pvcs.contains(&pvc.claim_name)
        {
            errs.push(invalid(
                &idx.child("persistentVolumeClaim").child("claimName"),
                pvc.claim_name.as_str(),
                "must not reference a PVC that gets created for an ephemeral volume",
            ));
        }
    }
    (vols, errs)
}

fn validate_volume_source(vol: &api::Volume, path: &Path, pod_name: Option<&str>, resource_is_pod: bool) -> Errs {
    let mut n = 0;
    let mut errs = Vec::new();
    // (present, name for the "more than 1" error, validator)
    macro_rules! source {
        ($field:expr, $name:expr, $body:expr) => {
            if let Some(src) = $field {
                if n > 0 {
                    errs.push(forbidden(&path.child($name), MORE_THAN_ONE));
                } else {
                    n += 1;
                    #[allow(clippy::redundant_closure_call)]
                    errs.extend(($body)(src));
                }
            }
        };
    }
    if let Some(ed) = &vol.empty_dir {
        n += 1;
        if let Some(limit) = &ed.size_limit
            && Quantity::parse(limit.0.trim()).is_ok_and(|q| q.signum() < 0)
        {
            errs.push(forbidden(&path.child("emptyDir").child("sizeLimit"), "SizeLimit field must be a valid resource quantity"));
        }
    }
    source!(&vol.host_path, "hostPath", |s: &api::HostPathVolumeSource| host_path(&s.path, &s.type_, &path.child("hostPath")));
    source!(&vol.git_repo, "gitRepo", |s: &api::GitRepoVolumeSource| {
        let p = path.child("gitRepo");
        let mut e = Vec::new();
        if s.repository.is_empty() {
            e.push(required(&p.child("repository"), ""));
        }
        e.extend(local_descending_path(ostr(&s.directory), &p.child("directory")));
        e
    });
    source!(&vol.gce_persistent_disk, "gcePersistentDisk", |s: &api::GCEPersistentDiskVolumeSource| gce_pd(s, &path.child("persistentDisk")));
    source!(&vol.aws_elastic_block_store, "awsElasticBlockStore", |s: &api::AWSElasticBlockStoreVolumeSource| aws_ebs(s, &path.child("awsElasticBlockStore")));
    source!(&vol.secret, "secret", |s: &api::SecretVolumeSource| {
        let p = path.child("secret");
        let mut e = Vec::new();
        if ostr(&s.secret_name).is_empty() {
            e.push(required(&p.child("secretName"), ""));
        }
        e.extend(file_mode(s.default_mode, &p.child("defaultMode")));
        for (i, kp) in sl(&s.items).iter().enumerate() {
            e.extend(key_to_path(kp, &p.child("items").index(i)));
        }
        e
    });
    source!(&vol.nfs, "nfs", |s: &api::NFSVolumeSource| nfs(s, &path.child("nfs")));
    if let Some(iscsi) = &vol.iscsi {
        if n > 0 {
            errs.push(forbidden(&path.child("iscsi"), MORE_THAN_ONE));
        } else {
            n += 1;
            errs.extend(iscsi_source(
                &iscsi.target_portal,
                &iscsi.iqn,
                iscsi.lun,
                b(iscsi.chap_auth_discovery) || b(iscsi.chap_auth_session),
                iscsi.secret_ref.is_some(),
                iscsi.initiator_name.as_deref(),
                &path.child("iscsi"),
                "must be valid format starting with iqn, eui, or naa",
            ));
        }
        if iscsi.initiator_name.is_some() && format!("{}:{}", vol.name, iscsi.target_portal).len() > 64 {
            errs.push(invalid(
                &path.child("name"),
                vol.name.as_str(),
                "Total length of <volume name>:<iscsi.targetPortal> must be under 64 characters if iscsi.initiatorName is specified.",
            ));
        }
    }
    source!(&vol.glusterfs, "glusterfs", |s: &api::GlusterfsVolumeSource| {
        let p = path.child("glusterfs");
        let mut e = Vec::new();
        if s.endpoints.is_empty() {
            e.push(required(&p.child("endpoints"), ""));
        }
        if s.path.is_empty() {
            e.push(required(&p.child("path"), ""));
        }
        e
    });
    source!(&vol.flocker, "flocker", |s: &api::FlockerVolumeSource| flocker(s, &path.child("flocker")));
    source!(&vol.persistent_volume_claim, "persistentVolumeClaim", |s: &api::PersistentVolumeClaimVolumeSource| {
        if s.claim_name.is_empty() {
            vec![required(&path.child("persistentVolumeClaim").child("claimName"), "")]
        } else {
            Vec::new()
        }
    });
    source!(&vol.rbd, "rbd", |s: &api::RBDVolumeSource| rbd(s.monitors.is_empty(), s.image.is_empty(), &path.child("rbd")));
    source!(&vol.cinder, "cinder", |s: &api::CinderVolumeSource| {
        let p = path.child("cinder");
        let mut e = Vec::new();
        if s.volume_id.is_empty() {
            e.push(required(&p.child("volumeID"), ""));
        }
        if let Some(r) = &s.secret_ref
            && r.name.is_empty()
        {
            e.push(required(&p.child("secretRef").child("name"), ""));
        }
        e
    });
    source!(&vol.cephfs, "cephFS", |s: &api::CephFSVolumeSource| {
        if s.monitors.is_empty() { vec![required(&path.child("cephfs").child("monitors"), "")] } else { Vec::new() }
    });
    source!(&vol.quobyte, "quobyte", |s: &api::QuobyteVolumeSource| quobyte(s, &path.child("quobyte")));
    source!(&vol.downward_api, "downwarAPI", |s: &api::DownwardAPIVolumeSource| {
        let p = path.child("downwardAPI");
        let mut e = file_mode(s.default_mode, &p.child("defaultMode"));
        for f in sl(&s.items) {
            e.extend(downward_api_file(f, &p));
        }
        e
    });
    source!(&vol.fc, "fc", |s: &api::FCVolumeSource| fc(s, &path.child("fc")));
    source!(&vol.flex_volume, "flexVolume", |s: &api::FlexVolumeSource| flex(&s.driver, s.options.as_ref(), &path.child("flexVolume")));
    source!(&vol.config_map, "configMap", |s: &api::ConfigMapVolumeSource| {
        let p = path.child("configMap");
        let mut e = Vec::new();
        if s.name.is_empty() {
            e.push(required(&p.child("name"), ""));
        }
        e.extend(file_mode(s.default_mode, &p.child("defaultMode")));
        for (i, kp) in sl(&s.items).iter().enumerate() {
            e.extend(key_to_path(kp, &p.child("items").index(i)));
        }
        e
    });
    source!(&vol.azure_file, "azureFile", |s: &api::AzureFileVolumeSource| {
        let p = path.child("azureFile");
        let mut e = Vec::new();
        if s.secret_name.is_empty() {
            e.push(required(&p.child("secretName"), ""));
        }
        if s.share_name.is_empty() {
            e.push(required(&p.child("shareName"), ""));
        }
        e
    });
    source!(&vol.vsphere_volume, "vsphereVolume", |s: &api::VsphereVirtualDiskVolumeSource| {
        if s.volume_path.is_empty() { vec![required(&path.child("vsphereVolume").child("volumePath"), "")] } else { Vec::new() }
    });
    source!(&vol.photon_persistent_disk, "photonPersistentDisk", |s: &api::PhotonPersistentDiskVolumeSource| {
        if s.pd_id.is_empty() { vec![required(&path.child("photonPersistentDisk").child("pdID"), "")] } else { Vec::new() }
    });
    source!(&vol.portworx_volume, "portworxVolume", |s: &api::PortworxVolumeSource| {
        if s.volume_id.is_empty() { vec![required(&path.child("portworxVolume").child("volumeID"), "")] } else { Vec::new() }
    });
    source!(&vol.azure_disk, "azureDisk", |s: &api::AzureDiskVolumeSource| azure_disk(s, &path.child("azureDisk")));
    source!(&vol.storageos, "storageos", |s: &api::StorageOSVolumeSource| {
        let p = path.child("storageos");
        let mut e = storageos(ostr(&s.volume_name), ostr(&s.volume_namespace), &p);
        if let Some(r) = &s.secret_ref
            && r.name.is_empty()
        {
            e.push(required(&p.child("secretRef").child("name"), ""));
        }
        e
    });
    source!(&vol.projected, "projected", |s: &api::ProjectedVolumeSource| projected(s, &path.child("projected")));
    source!(&vol.scale_io, "scaleIO", |s: &api::ScaleIOVolumeSource| {
        scale_io(&s.gateway, &s.system, ostr(&s.volume_name), &path.child("scaleIO"))
    });
    source!(&vol.csi, "csi", |s: &api::CSIVolumeSource| {
        let p = path.child("csi");
        let mut e = csi_driver_name(&s.driver, &p.child("driver"));
        if let Some(r) = &s.node_publish_secret_ref {
            if r.name.is_empty() {
                e.push(required(&p.child("nodePublishSecretRef").child("name"), ""));
            } else {
                e.extend(name_errs(v::name_is_dns_subdomain(&r.name, false), &r.name, &p.child("name")));
            }
        }
        e
    });
    if let Some(eph) = &vol.ephemeral {
        if n > 0 {
            errs.push(forbidden(&path.child("ephemeral"), MORE_THAN_ONE));
        } else {
            n += 1;
            let p = path.child("ephemeral");
            match &eph.volume_claim_template {
                None => errs.push(required(&p.child("volumeClaimTemplate"), "")),
                Some(t) => errs.extend(pvc_template(t, &p.child("volumeClaimTemplate"))),
            }
            if let Some(pod) = pod_name.filter(|s| !s.is_empty())
                && !vol.name.is_empty()
            {
                let pvc_name = format!("{pod}-{}", vol.name);
                for msg in v::name_is_dns_subdomain(&pvc_name, false) {
                    errs.push(invalid(&path.child("name"), vol.name.as_str(), format!("PVC name {pvc_name:?}: {msg}")));
                }
            }
        }
    }
    source!(&vol.image, "image", |s: &api::ImageVolumeSource| {
        let p = path.child("image");
        let mut e = Vec::new();
        if resource_is_pod && ostr(&s.reference).is_empty() {
            e.push(required(&p.child("reference"), ""));
        }
        if let Some(pp) = &s.pull_policy {
            e.extend(super::core_pod::pull_policy(pp, &p.child("pullPolicy")));
        }
        e
    });
    if n == 0 {
        errs.push(required(path, "must specify a volume type"));
    }
    errs
}

const HOST_PATH_TYPES: &[&str] = &["", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"];

fn host_path(p: &str, type_: &Option<String>, path: &Path) -> Errs {
    if p.is_empty() {
        return vec![required(&path.child("path"), "")];
    }
    let mut errs = path_no_backsteps(p, &path.child("path"));
    if let Some(t) = type_
        && !HOST_PATH_TYPES.contains(&t.as_str())
    {
        errs.push(not_supported(&path.child("type"), t.as_str(), HOST_PATH_TYPES));
    }
    errs
}

fn gce_pd(s: &api::GCEPersistentDiskVolumeSource, path: &Path) -> Errs {
    let mut e = Vec::new();
    if s.pd_name.is_empty() {
        e.push(required(&path.child("pdName"), ""));
    }
    let part = s.partition.unwrap_or(0);
    if !(0..=255).contains(&part) {
        e.push(invalid(&path.child("partition"), part, v::inclusive_range_error(1, 255)));
    }
    e
}

fn aws_ebs(s: &api::AWSElasticBlockStoreVolumeSource, path: &Path) -> Errs {
    let mut e = Vec::new();
    if s.volume_id.is_empty() {
        e.push(required(&path.child("volumeID"), ""));
    }
    let part = s.partition.unwrap_or(0);
    if !(0..=255).contains(&part) {
        e.push(invalid(&path.child("partition"), part, v::inclusive_range_error(1, 255)));
    }
    e
}

fn nfs(s: &api::NFSVolumeSource, path: &Path) -> Errs {
    let mut e = Vec::new();
    if s.server.is_empty() {
        e.push(required(&path.child("server"), ""));
    }
    if s.path.is_empty() {
        e.push(required(&path.child("path"), ""));
    }
    if !s.path.starts_with('/') {
        e.push(invalid(&path.child("path"), s.path.as_str(), "must be an absolute path"));
    }
    e
}

fn iqn_matches(s: &str) -> bool {
    // iqn\.\d{4}-\d{2}\.([[:alnum:]-.]+)(:[^,;*&$|\s]+)$ (unanchored at the start)
    let b = s.as_bytes();
    (0..b.len()).any(|start| {
        let t = &b[start..];
        if t.len() < 12 || &t[..4] != b"iqn." {
            return false;
        }
        if !t[4..8].iter().all(u8::is_ascii_digit) || t[8] != b'-' || !t[9..11].iter().all(u8::is_ascii_digit) || t[11] != b'.' {
            return false;
        }
        let rest = &t[12..];
        let g1 = rest.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == b'-' || **c == b'.').count();
        if g1 == 0 || g1 >= rest.len() || rest[g1] != b':' {
            return false;
        }
        let g2 = &rest[g1 + 1..];
        !g2.is_empty() && g2.iter().all(|c| !b",;*&$|".contains(c) && !c.is_ascii_whitespace())
    })
}

fn eui_naa_matches(s: &str, prefix: &str, n: usize) -> bool {
    let b = s.as_bytes();
    b.len() == 4 + n && s.starts_with(prefix) && b[4..].iter().all(u8::is_ascii_alphanumeric)
}

fn iqn_format_errs(value: &str, path: &Path, bad_prefix_msg: &str, prefix_and_format_both: bool) -> Errs {
    let mut e = Vec::new();
    let has = |p: &str| value.starts_with(p);
    if !has("iqn") && !has("eui") && !has("naa") {
        e.push(invalid(path, value, bad_prefix_msg));
        if !prefix_and_format_both {
            return e;
        }
    }
    let bad_format = (has("iqn") && !iqn_matches(value))
        || (has("eui") && !eui_naa_matches(value, "eui", 16))
        || (has("naa") && !eui_naa_matches(value, "naa", 32));
    if bad_format {
        e.push(invalid(path, value, "must be valid format"));
    }
    e
}

#[allow(clippy::too_many_arguments)]
fn iscsi_source(
    target_portal: &str,
    iqn: &str,
    lun: i32,
    chap: bool,
    has_secret: bool,
    initiator: Option<&str>,
    path: &Path,
    bad_prefix_msg: &str,
) -> Errs {
    let mut e = Vec::new();
    if target_portal.is_empty() {
        e.push(required(&path.child("targetPortal"), ""));
    }
    if iqn.is_empty() {
        e.push(required(&path.child("iqn"), ""));
    } else {
        e.extend(iqn_format_errs(iqn, &path.child("iqn"), bad_prefix_msg, false));
    }
    if !(0..=255).contains(&lun) {
        e.push(invalid(&path.child("lun"), lun, v::inclusive_range_error(0, 255)));
    }
    if chap && !has_secret {
        e.push(required(&path.child("secretRef"), ""));
    }
    if let Some(init) = initiator {
        e.extend(iqn_format_errs(init, &path.child("initiatorname"), bad_prefix_msg, true));
    }
    e
}

fn fc(s: &api::FCVolumeSource, path: &Path) -> Errs {
    let mut e = Vec::new();
    let wwns = sl(&s.target_wwns);
    let wwids = sl(&s.wwids);
    if wwns.is_empty() && wwids.is_empty() {
        e.push(required(&path.child("targetWWNs"), "must specify either targetWWNs or wwids, but not both"));
    }
    if !wwns.is_empty() && !wwids.is_empty() {
        e.push(invalid(&path.child("targetWWNs"), str_list(wwns), "targetWWNs and wwids can not be specified simultaneously"));
    }
    if !wwns.is_empty() {
        match s.lun {
            None => e.push(required(&path.child("lun"), "lun is required if targetWWNs is specified")),
            Some(l) if !(0..=255).contains(&l) => e.push(invalid(&path.child("lun"), l, v::inclusive_range_error(0, 255))),
            _ => {}
        }
    }
    e
}

fn flocker(s: &api::FlockerVolumeSource, path: &Path) -> Errs {
    let mut e = Vec::new();
    let name = ostr(&s.dataset_name);
    let uuid = ostr(&s.dataset_uuid);
    if name.is_empty() && uuid.is_empty() {
        e.push(required(path, "one of datasetName and datasetUUID is required"));
    }
    if !name.is_empty() && !uuid.is_empty() {
        e.push(invalid(path, "resource", "datasetName and datasetUUID can not be specified simultaneously"));
    }
    if name.contains('/') {
        e.push(invalid(&path.child("datasetName"), name, "must not contain '/'"));
    }
    e
}

fn rbd(no_monitors: bool, no_image: bool, path: &Path) -> Errs {
    let mut e = Vec::new();
    if no_monitors {
        e.push(required(&path.child("monitors"), ""));
    }
    if no_image {
        e.push(required(&path.child("image"), ""));
    }
    e
}

fn quobyte(s: &api::QuobyteVolumeSource, path: &Path) -> Errs {
    let mut e = Vec::new();
    let msg = "must be a host:port pair or multiple pairs separated by commas";
    if s.registry.is_empty() {
        e.push(required(&path.child("registry"), msg));
    } else if ostr(&s.tenant).len() >= 65 {
        e.push(required(&path.child("tenant"), "must be a UUID and may not exceed a length of 64 characters"));
    } else {
        for pair in s.registry.split(',') {
            if !split_host_port_ok(pair) {
                e.push(invalid(&path.child("registry"), s.registry.as_str(), msg));
            }
        }
    }
    if s.volume.is_empty() {
        e.push(required(&path.child("volume"), ""));
    }
    e
}

/// Go's `net.SplitHostPort` success test.
fn split_host_port_ok(hp: &str) -> bool {
    if let Some(rest) = hp.strip_prefix('[') {
        match rest.find(']') {
            Some(end) => rest[end + 1..].starts_with(':') && !rest[..end].contains('[') && !rest[end + 2..].contains(':'),
            None => false,
        }
    } else {
        match hp.rfind(':') {
            Some(i) => !hp[..i].contains(':') && !hp[..i].contains('[') && !hp[..i].contains(']') && !hp[i + 1..].contains(']'),
            None => false,
        }
    }
}

fn flex(driver: &str, options: Option<&BTreeMap<String, String>>, path: &Path) -> Errs {
    let mut e = Vec::new();
    if driver.is_empty() {
        e.push(required(&path.child("driver"), ""));
    }
    for k in options.into_iter().flat_map(|m| m.keys()) {
        let ns = k.split_once('/').map_or(k.as_str(), |(a, _)| a);
        let normalized = format!(".{}", ns.to_lowercase());
        if normalized.ends_with(".kubernetes.io") || normalized.ends_with(".k8s.io") {
            e.push(invalid(&path.child("options").key(k), k.as_str(), "kubernetes.io and k8s.io namespaces are reserved"));
        }
    }
    e
}

fn azure_disk(s: &api::AzureDiskVolumeSource, path: &Path) -> Errs {
    let mut e = Vec::new();
    if s.disk_name.is_empty() {
        e.push(required(&path.child("diskName"), ""));
    }
    if s.disk_uri.is_empty() {
        e.push(required(&path.child("diskURI"), ""));
    }
    if let Some(c) = &s.caching_mode
        && !["None", "ReadOnly", "ReadWrite"].contains(&c.as_str())
    {
        e.push(not_supported(&path.child("cachingMode"), c.as_str(), &["None", "ReadOnly", "ReadWrite"]));
    }
    if let Some(k) = &s.kind {
        if !["Dedicated", "Managed", "Shared"].contains(&k.as_str()) {
            e.push(not_supported(&path.child("kind"), k.as_str(), &["Dedicated", "Managed", "Shared"]));
        }
        if k == "Managed" && !s.disk_uri.starts_with("/subscriptions/") {
            e.push(not_supported(
                &path.child("diskURI"),
                s.disk_uri.as_str(),
                &["/subscriptions/{sub-id}/resourcegroups/{group-name}/providers/microsoft.compute/disks/{disk-id}"],
            ));
        }
        if k != "Managed" && !s.disk_uri.starts_with("https://") {
            e.push(not_supported(
                &path.child("diskURI"),
                s.disk_uri.as_str(),
                &["https://{account-name}.blob.core.windows.net/{container-name}/{disk-name}.vhd"],
            ));
        }
    }
    e
}

fn storageos(volume_name: &str, volume_namespace: &str, path: &Path) -> Errs {
    let mut e = Vec::new();
    if volume_name.is_empty() {
        e.push(required(&path.child("volumeName"), ""));
    } else {
        e.extend(dns1123_label(volume_name, &path.child("volumeName")));
    }
    if !volume_namespace.is_empty() {
        e.extend(dns1123_label(volume_namespace, &path.child("volumeNamespace")));
    }
    e
}

fn scale_io(gateway: &str, system: &str, volume_name: &str, path: &Path) -> Errs {
    let mut e = Vec::new();
    if gateway.is_empty() {
        e.push(required(&path.child("gateway"), ""));
    }
    if system.is_empty() {
        e.push(required(&path.child("system"), ""));
    }
    if volume_name.is_empty() {
        e.push(required(&path.child("volumeName"), ""));
    }
    e
}

/// Upstream's `ValidateCSIDriverName`.
pub(crate) fn csi_driver_name(driver: &str, path: &Path) -> Errs {
    let mut e = Vec::new();
    if driver.is_empty() {
        e.push(required(path, ""));
    }
    if driver.len() > 63 {
        e.push(too_long(path, 63));
    }
    for msg in v::is_dns1123_subdomain(&driver.to_lowercase()) {
        e.push(invalid(path, driver, msg));
    }
    e
}

fn downward_api_file(f: &api::DownwardAPIVolumeFile, path: &Path) -> Errs {
    let mut e = Vec::new();
    if f.path.is_empty() {
        e.push(required(&path.child("path"), ""));
    }
    e.extend(local_non_reserved_path(&f.path, &path.child("path")));
    if let Some(fr) = &f.field_ref {
        e.extend(validate_object_field_selector(fr, DOWNWARD_API_VOLUME_FIELD_PATHS, &path.child("fieldRef")));
        if f.resource_field_ref.is_some() {
            e.push(invalid(path, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"));
        }
    } else if let Some(rf) = &f.resource_field_ref {
        e.extend(validate_resource_field_selector(rf, &path.child("resourceFieldRef"), true));
    } else {
        e.push(required(path, "one of fieldRef and resourceFieldRef is required"));
    }
    e.extend(file_mode(f.mode, &path.child("mode")));
    e
}

fn projected(s: &api::ProjectedVolumeSource, path: &Path) -> Errs {
    let mut e = file_mode(s.default_mode, &path.child("defaultMode"));
    let mut all_paths: BTreeSet<String> = BTreeSet::new();
    for (i, src) in sl(&s.sources).iter().enumerate() {
        let mut n = 0;
        let src_path = path.child("sources").index(i);
        if let Some(sec) = &src.secret {
            n += 1;
            let pp = src_path.child("secret");
            if sec.name.is_empty() {
                e.push(required(&pp.child("name"), ""));
            }
            for (j, kp) in sl(&sec.items).iter().enumerate() {
                e.extend(key_to_path(kp, &pp.child("items").index(j)));
                if !kp.path.is_empty() && !all_paths.insert(kp.path.clone()) {
                    e.push(invalid(path, sec.name.as_str(), "conflicting duplicate paths"));
                }
            }
        }
        if let Some(cm) = &src.config_map {
            n += 1;
            let pp = src_path.child("configMap");
            if cm.name.is_empty() {
                e.push(required(&pp.child("name"), ""));
            }
            for (j, kp) in sl(&cm.items).iter().enumerate() {
                e.extend(key_to_path(kp, &pp.child("items").index(j)));
                if !kp.path.is_empty() && !all_paths.insert(kp.path.clone()) {
                    e.push(invalid(path, cm.name.as_str(), "conflicting duplicate paths"));
                }
            }
        }
        if let Some(da) = &src.downward_api {
            n += 1;
            let pp = src_path.child("downwardAPI");
            for f in sl(&da.items) {
                e.extend(downward_api_file(f, &pp));
                if !f.path.is_empty() && !all_paths.insert(f.path.clone()) {
                    e.push(invalid(path, f.path.as_str(), "conflicting duplicate paths"));
                }
            }
        }
        if let Some(sat) = &src.service_account_token {
            n += 1;
            let pp = src_path.child("serviceAccountToken");
            let exp = sat.expiration_seconds.unwrap_or(3600);
            if exp < 600 {
                e.push(invalid(&pp.child("expirationSeconds"), exp, "may not specify a duration less than 10 minutes"));
            }
            if exp > 1i64 << 32 {
                e.push(invalid(&pp.child("expirationSeconds"), exp, "may not specify a duration larger than 2^32 seconds"));
            }
            if sat.path.is_empty() {
                e.push(required(&path.child("path"), ""));
            } else {
                e.extend(local_non_reserved_path(&sat.path, &path.child("path")));
            }
        }
        if let Some(ctb) = &src.cluster_trust_bundle {
            n += 1;
            let pp = src_path.child("clusterTrustBundle");
            match (&ctb.name, &ctb.signer_name) {
                (Some(_), Some(_)) => e.push(invalid(&pp, json(ctb), "only one of name and signerName may be used")),
                (Some(name), None) => {
                    if name.is_empty() {
                        e.push(required(&pp.child("name"), "must be a valid object name"));
                    }
                    let signer = name.rfind(':').map(|i| name[..i].replace(':', "/"));
                    for msg in super::certificates::cluster_trust_bundle_name_errors(signer.as_deref().unwrap_or(""), name) {
                        e.push(invalid(&pp.child("name"), name.as_str(), format!("not a valid clustertrustbundlename: {msg}")));
                    }
                    if ctb.label_selector.is_some() {
                        e.push(invalid(&pp.child("labelSelector"), json(&ctb.label_selector), "labelSelector must be unset if name is specified"));
                    }
                }
                (None, Some(signer)) => {
                    if signer.is_empty() {
                        e.push(required(&pp.child("signerName"), "must be a valid signer name"));
                    }
                    e.extend(super::certificates::signer_name_errors(&pp.child("signerName"), signer));
                    e.extend(label_selector(ctb.label_selector.as_ref(), &pp.child("labelSelector"), false));
                }
                (None, None) => e.push(required(&pp, "either name or signerName must be specified")),
            }
            if ctb.path.is_empty() {
                e.push(required(&pp.child("path"), ""));
            }
            e.extend(local_non_reserved_path(&ctb.path, &pp.child("path")));
            if !all_paths.insert(ctb.path.clone()) {
                e.push(invalid(path, ctb.path.as_str(), "conflicting duplicate paths"));
            }
        }
        if n > 1 {
            e.push(forbidden(&src_path, "may not specify more than 1 volume type per source"));
        }
    }
    e
}

fn pvc_template(t: &api::PersistentVolumeClaimTemplate, path: &Path) -> Errs {
    let meta_path = path.child("metadata");
    let mut e = Vec::new();
    if let Some(m) = &t.metadata {
        e.extend(annotations(m.annotations.as_ref(), &meta_path.child("annotations")));
        e.extend(labels(m.labels.as_ref(), &meta_path.child("labels")));
        let other_set = m.name.is_some()
            || m.generate_name.is_some()
            || m.namespace.is_some()
            || m.uid.is_some()
            || m.resource_version.is_some()
            || m.generation.is_some()
            || m.creation_timestamp.is_some()
            || m.deletion_timestamp.is_some()
            || m.deletion_grace_period_seconds.is_some()
            || m.owner_references.as_ref().is_some_and(|o| !o.is_empty())
            || m.finalizers.as_ref().is_some_and(|o| !o.is_empty())
            || m.managed_fields.as_ref().is_some_and(|o| !o.is_empty())
            || m.self_link.is_some();
        let fields: [(&str, bool); 13] = [
            ("name", m.name.as_ref().is_some_and(|s| !s.is_empty())),
            ("generateName", m.generate_name.as_ref().is_some_and(|s| !s.is_empty())),
            ("namespace", m.namespace.as_ref().is_some_and(|s| !s.is_empty())),
            ("selfLink", m.self_link.as_ref().is_some_and(|s| !s.is_empty())),
            ("uID", m.uid.as_ref().is_some_and(|s| !s.is_empty())),
            ("resourceVersion", m.resource_version.as_ref().is_some_and(|s| !s.is_empty())),
            ("generation", m.generation.is_some_and(|g| g != 0)),
            ("creationTimestamp", m.creation_timestamp.is_some()),
            ("deletionTimestamp", m.deletion_timestamp.is_some()),
            ("deletionGracePeriodSeconds", m.deletion_grace_period_seconds.is_some()),
            ("ownerReferences", m.owner_references.as_ref().is_some_and(|o| !o.is_empty())),
            ("finalizers", m.finalizers.as_ref().is_some_and(|o| !o.is_empty())),
            ("managedFields", m.managed_fields.as_ref().is_some_and(|o| !o.is_empty())),
        ];
        if other_set {
            for (name, set) in fields {
                if set {
                    e.push(forbidden(&meta_path.child(name), "cannot be set"));
                }
            }
        }
    }
    e.extend(validate_pvc_spec(&t.spec, &path.child("spec"), false));
    e
}

// ---------------------------------------------------------------------------------------------
// PersistentVolumeClaim
// ---------------------------------------------------------------------------------------------

const ACCESS_MODES: &[&str] = &["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
const VOLUME_MODES: &[&str] = &["Block", "Filesystem"];

fn access_modes(modes: &[String], path: &Path, empty_detail: Option<&str>) -> Errs {
    let mut e = Vec::new();
    if let Some(d) = empty_detail
        && modes.is_empty()
    {
        e.push(required(path, d));
    }
    let (mut rwop, mut other) = (false, false);
    for m in modes {
        if !ACCESS_MODES.contains(&m.as_str()) {
            e.push(not_supported(path, m.as_str(), ACCESS_MODES));
        }
        if m == "ReadWriteOncePod" {
            rwop = true;
        } else if ACCESS_MODES.contains(&m.as_str()) {
            other = true;
        }
    }
    if rwop && other {
        e.push(forbidden(path, "may not use ReadWriteOncePod with other access modes"));
    }
    e
}

fn quantity_of(q: &KQuantity) -> Option<Quantity> {
    Quantity::parse(q.0.trim()).ok()
}

/// Upstream's `ValidatePositiveQuantityValue`.
pub(crate) fn positive_quantity(q: &KQuantity, path: &Path) -> Errs {
    match quantity_of(q) {
        Some(v) if v.signum() <= 0 => vec![invalid(path, v.canonical(), IS_NOT_POSITIVE)],
        Some(_) => Vec::new(),
        None => vec![invalid(path, q.0.as_str(), apimachinery::quantity::ERR_FORMAT_WRONG)],
    }
}

/// Upstream's `validateBasicResource`.
pub(crate) fn basic_resource(q: &KQuantity, path: &Path) -> Errs {
    match quantity_of(q) {
        Some(v) if v.value() < 0 => vec![invalid(path, v.value(), "must be a valid resource quantity")],
        _ => Vec::new(),
    }
}

fn data_source_common(name: &str, kind: &str, api_group: &Option<String>, path: &Path, allow_invalid_group: bool) -> Errs {
    let mut e = Vec::new();
    if name.is_empty() {
        e.push(required(&path.child("name"), ""));
    }
    if kind.is_empty() {
        e.push(required(&path.child("kind"), ""));
    }
    let group = ostr(api_group);
    if group.is_empty() && kind != "PersistentVolumeClaim" {
        e.push(invalid(path, kind, "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
    }
    if !group.is_empty() && !allow_invalid_group {
        e.extend(dns1123_subdomain(group, &path.child("apiGroup")));
    }
    e
}

fn validate_pvc_spec(spec: &api::PersistentVolumeClaimSpec, path: &Path, allow_invalid_selector: bool) -> Errs {
    let mut e = Vec::new();
    let modes = sl(&spec.access_modes);
    if modes.is_empty() {
        e.push(required(&path.child("accessModes"), "at least 1 access mode is required"));
    }
    e.extend(label_selector(spec.selector.as_ref(), &path.child("selector"), allow_invalid_selector));
    e.extend(access_modes(modes, &path.child("accessModes"), None));
    let storage_path = path.child("resources").key("storage");
    match spec.resources.as_ref().and_then(|r| r.requests.as_ref()).and_then(|r| r.get("storage")) {
        None => e.push(required(&storage_path, "")),
        Some(q) => {
            let pos = positive_quantity(q, &storage_path);
            if pos.is_empty() {
                e.extend(super::core_pod::resource_quantity_value("storage", q, &storage_path));
            } else {
                e.extend(pos);
            }
        }
    }
    if let Some(sc) = spec.storage_class_name.as_deref().filter(|s| !s.is_empty()) {
        e.extend(name_errs(v::name_is_dns_subdomain(sc, false), sc, &path.child("storageClassName")));
    }
    if let Some(m) = &spec.volume_mode
        && !VOLUME_MODES.contains(&m.as_str())
    {
        e.push(not_supported(&path.child("volumeMode"), m.as_str(), VOLUME_MODES));
    }
    if let Some(ds) = &spec.data_source {
        e.extend(data_source_common(&ds.name, &ds.kind, &ds.api_group, &path.child("dataSource"), false));
    }
    if let Some(dsr) = &spec.data_source_ref {
        let dp = path.child("dataSourceRef");
        e.extend(data_source_common(&dsr.name, &dsr.kind, &dsr.api_group, &dp, false));
        if let Some(ns) = dsr.namespace.as_deref().filter(|s| !s.is_empty()) {
            e.extend(name_errs(v::validate_namespace_name(ns, false), ns, &dp.child("namespace")));
        }
    }
    let ref_ns = spec.data_source_ref.as_ref().and_then(|r| r.namespace.as_deref()).unwrap_or("");
    if !ref_ns.is_empty() {
        if spec.data_source.is_some() {
            e.push(invalid(path, path.child("dataSource").as_str(), "may not be specified when dataSourceRef.namespace is specified"));
        }
    } else if let (Some(ds), Some(dsr)) = (&spec.data_source, &spec.data_source_ref)
        && !(ds.api_group == dsr.api_group && ds.kind == dsr.kind && ds.name == dsr.name)
    {
        e.push(invalid(path, path.child("dataSource").as_str(), "must match dataSourceRef"));
    }
    e
}

/// Validates a PersistentVolumeClaim's spec (covers upstream's `ValidatePersistentVolumeClaim`
/// except object metadata; volumeAttributesClassName is ignored, as with its 1.32 feature gate
/// off).
pub fn persistent_volume_claim(pvc: &api::PersistentVolumeClaim) -> ErrorList {
    done(pvc_errs(pvc, false))
}

fn pvc_errs(pvc: &api::PersistentVolumeClaim, allow_invalid_selector: bool) -> Errs {
    let spec = pvc.spec.clone().unwrap_or_default();
    validate_pvc_spec(&spec, &p("spec"), allow_invalid_selector)
}

fn storage_request(spec: &api::PersistentVolumeClaimSpec) -> Option<Quantity> {
    spec.resources.as_ref()?.requests.as_ref()?.get("storage").and_then(quantity_of)
}

/// PVC update: the create rules, then upstream's immutability (spec immutable except
/// `resources.requests` and `volumeName` once; storage may grow, or shrink down to above
/// `status.capacity` as with `RecoverVolumeExpansionFailure` on; `volumeMode` immutable).
/// The spec diff in the "spec is immutable" message is simplified.
pub fn persistent_volume_claim_update(new: &api::PersistentVolumeClaim, old: &api::PersistentVolumeClaim) -> ErrorList {
    let old_spec = old.spec.clone().unwrap_or_default();
    let new_spec = new.spec.clone().unwrap_or_default();
    let allow_invalid = selector_has_errors(old_spec.selector.as_ref());
    let mut e = pvc_errs(new, allow_invalid);
    let mut old_clone = old_spec.clone();
    let mut new_clone = new_spec.clone();
    if ostr(&old_spec.volume_name).is_empty() {
        old_clone.volume_name = new_clone.volume_name.clone();
    }
    const BETA_SC: &str = "volume.beta.kubernetes.io/storage-class";
    let old_ann = old.metadata.annotations.clone().unwrap_or_default();
    let new_ann = new.metadata.annotations.clone().unwrap_or_default();
    let upgrade_from_annotation = old_ann.contains_key(BETA_SC)
        && old_spec.storage_class_name.is_none()
        && new_spec.storage_class_name.as_deref() == old_ann.get(BETA_SC).map(String::as_str)
        && new_ann.get(BETA_SC).is_none_or(|v| Some(v) == old_ann.get(BETA_SC));
    if upgrade_from_annotation {
        new_clone.storage_class_name = None;
    } else {
        let nv = new_ann.get(BETA_SC).cloned().unwrap_or_default();
        let ov = old_ann.get(BETA_SC).cloned().unwrap_or_default();
        if nv != ov {
            e.push(invalid(&p("metadata").child("annotations").child(BETA_SC), nv, FIELD_IMMUTABLE));
        }
        let from_nil = new_spec.storage_class_name.is_some()
            && old_spec.storage_class_name.is_none()
            && old_ann.get(BETA_SC).is_none_or(|a| Some(a) == new_spec.storage_class_name.as_ref());
        if from_nil {
            new_clone.storage_class_name = old_clone.storage_class_name.clone();
        }
    }
    let bound = new.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound");
    if bound
        && let Some(res) = new_clone.resources.as_mut()
        && let Some(reqs) = res.requests.as_mut()
    {
        match old_spec.resources.as_ref().and_then(|r| r.requests.as_ref()).and_then(|r| r.get("storage")) {
            Some(q) => {
                reqs.insert("storage".into(), q.clone());
            }
            None => {
                reqs.remove("storage");
            }
        }
    }
    if bound && new_clone.volume_attributes_class_name.is_some() {
        new_clone.volume_attributes_class_name = old_clone.volume_attributes_class_name.clone();
    }
    if !sem_eq(&new_clone, &old_clone) {
        let diff = simple_diff(&sem_json(&old_clone), &sem_json(&new_clone));
        e.push(forbidden(
            &p("spec"),
            format!("spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n{diff}"),
        ));
    }
    let zero = Quantity::from_int(0);
    let old_size = storage_request(&old_spec).unwrap_or_else(|| zero.clone());
    let new_size = storage_request(&new_spec).unwrap_or_else(|| zero.clone());
    let status_size = old
        .status
        .as_ref()
        .and_then(|s| s.capacity.as_ref())
        .and_then(|c| c.get("storage"))
        .and_then(quantity_of)
        .unwrap_or(zero);
    if new_size.cmp_to(&old_size).is_lt() && new_size.cmp_to(&status_size).is_le() {
        e.push(forbidden(&p("spec").child("resources").child("requests").child("storage"), "field can not be less than status.capacity"));
    }
    e.extend(immutable(&new_spec.volume_mode, &old_spec.volume_mode, &p("volumeMode")));
    done(e)
}

/// PVC status update: `status.capacity` quantities must not be negative, and
/// `status.allocatedResources` keys are checked as upstream (RecoverVolumeExpansionFailure on).
pub fn persistent_volume_claim_status_update(new: &api::PersistentVolumeClaim, _old: &api::PersistentVolumeClaim) -> ErrorList {
    let mut e = Vec::new();
    let spec = new.spec.clone().unwrap_or_default();
    if sl(&spec.access_modes).is_empty() {
        e.push(required(&p("Spec").child("accessModes"), ""));
    }
    let status = new.status.clone().unwrap_or_default();
    for (k, q) in status.capacity.iter().flatten() {
        e.extend(basic_resource(q, &p("status").child("capacity").key(k)));
    }
    let rs_path = p("status").child("allocatedResourceStatus");
    const RESIZE: &[&str] = &["ControllerResizeInProgress", "ControllerResizeInfeasible", "NodeResizeInProgress", "NodeResizeInfeasible", "NodeResizePending"];
    for (k, val) in status.allocated_resource_statuses.iter().flatten() {
        e.extend(pvc_resource_key(k, &rs_path));
        if !RESIZE.contains(&val.as_str()) {
            e.push(not_supported(&rs_path, k.as_str(), RESIZE));
        }
    }
    let alloc = p("status").child("allocatedResources");
    for (k, q) in status.allocated_resources.iter().flatten() {
        let ke = pvc_resource_key(k, &alloc);
        if !ke.is_empty() {
            e.extend(ke);
            continue;
        }
        let be = basic_resource(q, &alloc.key(k));
        if be.is_empty() {
            e.extend(super::core_pod::resource_quantity_value("storage", q, &alloc.key(k)));
        } else {
            e.extend(be);
        }
    }
    done(e)
}

fn pvc_resource_key(k: &str, path: &Path) -> Errs {
    let e = qualified_name(k, path);
    if !e.is_empty() {
        return e;
    }
    if super::core_pod::is_native_resource(k) && k != "storage" {
        return vec![not_supported(path, k, &["storage"])];
    }
    Vec::new()
}

// ---------------------------------------------------------------------------------------------
// PersistentVolume
// ---------------------------------------------------------------------------------------------

const RECLAIM_POLICIES: &[&str] = &["Delete", "Recycle", "Retain"];

fn pv_secret_ref(r: &api::SecretReference, path: &Path) -> Errs {
    let mut e = Vec::new();
    let name = ostr(&r.name);
    if name.is_empty() {
        e.push(required(&path.child("name"), ""));
    } else {
        e.extend(dns1123_subdomain(name, &path.child("name")));
    }
    let ns = ostr(&r.namespace);
    if ns.is_empty() {
        e.push(required(&path.child("namespace"), ""));
    } else {
        e.extend(dns1123_label(ns, &path.child("namespace")));
    }
    e
}

/// Upstream's `ValidatePersistentVolumeSpec` (non-inline).
fn validate_pv_spec(spec: &api::PersistentVolumeSpec, pv_name: &str, path: &Path, allow_invalid_node_affinity: bool) -> Errs {
    pv_spec_errs(spec, pv_name, false, path, allow_invalid_node_affinity)
}

/// Upstream's `ValidatePersistentVolumeSpec` for an inline volume spec (VolumeAttachment's
/// `source.inlineVolumeSpec`): no claimRef or capacity, a CSI source required.
pub(crate) fn validate_inline_pv_spec(spec: &api::PersistentVolumeSpec, path: &Path) -> Errs {
    pv_spec_errs(spec, "", true, path, false)
}

fn pv_spec_errs(spec: &api::PersistentVolumeSpec, pv_name: &str, inline: bool, path: &Path, allow_invalid_node_affinity: bool) -> Errs {
    let mut e = Vec::new();
    let cap = spec.capacity.clone().unwrap_or_default();
    if inline {
        const CTX: &str = "may not be specified in the context of inline volumes";
        if spec.claim_ref.is_some() {
            e.push(forbidden(&path.child("claimRef"), CTX));
        }
        if !cap.is_empty() {
            e.push(forbidden(&path.child("capacity"), CTX));
        }
        if spec.csi.is_none() {
            e.push(required(&path.child("csi"), "has to be specified in the context of inline volumes"));
        }
    }
    let modes = sl(&spec.access_modes);
    e.extend(access_modes(modes, &path.child("accessModes"), Some("")));
    if !inline {
        e.extend(pv_capacity(&cap, path));
    }
    e.extend(pv_spec_rest(spec, pv_name, path, allow_invalid_node_affinity));
    e
}

fn pv_capacity(cap: &BTreeMap<String, KQuantity>, path: &Path) -> Errs {
    let mut e = Vec::new();
    if cap.is_empty() {
        e.push(required(&path.child("capacity"), ""));
    }
    if !cap.contains_key("storage") || cap.len() > 1 {
        let shown: BTreeMap<String, String> = cap.iter().map(|(k, v)| (k.clone(), apimachinery::quantity::canonical(v))).collect();
        e.push(not_supported(&path.child("capacity"), json(&shown), &["storage"]));
    }
    for (r, q) in cap {
        let cp = path.child("capacity").key(r);
        e.extend(basic_resource(q, &cp));
        e.extend(positive_quantity(q, &cp));
    }
    e
}

fn pv_spec_rest(spec: &api::PersistentVolumeSpec, pv_name: &str, path: &Path, allow_invalid_node_affinity: bool) -> Errs {
    let mut e = Vec::new();
    if let Some(rp) = spec.persistent_volume_reclaim_policy.as_deref().filter(|s| !s.is_empty())
        && !RECLAIM_POLICIES.contains(&rp)
    {
        e.push(not_supported(&path.child("persistentVolumeReclaimPolicy"), rp, RECLAIM_POLICIES));
    }
    let mut node_affinity_specified = false;
    if let Some(na) = &spec.node_affinity {
        node_affinity_specified = true;
        let np = path.child("nodeAffinity");
        match &na.required {
            Some(r) => e.extend(validate_node_selector(r, allow_invalid_node_affinity, &np.child("required"))),
            None => e.push(required(&np.child("required"), "must specify required node constraints")),
        }
    }
    let mut n = 0;
    macro_rules! source {
        ($field:expr, $name:expr, $body:expr) => {
            if let Some(src) = $field {
                if n > 0 {
                    e.push(forbidden(&path.child($name), MORE_THAN_ONE));
                } else {
                    n += 1;
                    #[allow(clippy::redundant_closure_call)]
                    e.extend(($body)(src));
                }
            }
        };
    }
    source!(&spec.host_path, "hostPath", |s: &api::HostPathVolumeSource| host_path(&s.path, &s.type_, &path.child("hostPath")));
    source!(&spec.gce_persistent_disk, "gcePersistentDisk", |s| gce_pd(s, &path.child("persistentDisk")));
    source!(&spec.aws_elastic_block_store, "awsElasticBlockStore", |s| aws_ebs(s, &path.child("awsElasticBlockStore")));
    source!(&spec.glusterfs, "glusterfs", |s: &api::GlusterfsPersistentVolumeSource| {
        let gp = path.child("glusterfs");
        let mut x = Vec::new();
        if s.endpoints.is_empty() {
            x.push(required(&gp.child("endpoints"), ""));
        }
        if s.path.is_empty() {
            x.push(required(&gp.child("path"), ""));
        }
        if let Some(ns) = &s.endpoints_namespace {
            if ns.is_empty() {
                x.push(invalid(&gp.child("endpointsNamespace"), "", "if the endpointnamespace is set, it must be a valid namespace name"));
            } else {
                x.extend(name_errs(v::validate_namespace_name(ns, false), ns, &gp.child("endpointsNamespace")));
            }
        }
        x
    });
    source!(&spec.flocker, "flocker", |s| flocker(s, &path.child("flocker")));
    source!(&spec.nfs, "nfs", |s| nfs(s, &path.child("nfs")));
    source!(&spec.rbd, "rbd", |s: &api::RBDPersistentVolumeSource| rbd(s.monitors.is_empty(), s.image.is_empty(), &path.child("rbd")));
    source!(&spec.quobyte, "quobyte", |s| quobyte(s, &path.child("quobyte")));
    source!(&spec.cephfs, "cephFS", |s: &api::CephFSPersistentVolumeSource| {
        if s.monitors.is_empty() { vec![required(&path.child("cephfs").child("monitors"), "")] } else { Vec::new() }
    });
    if let Some(iscsi) = &spec.iscsi {
        if n > 0 {
            e.push(forbidden(&path.child("iscsi"), MORE_THAN_ONE));
        } else {
            n += 1;
            let ip = path.child("iscsi");
            if iscsi.target_portal.is_empty() {
                e.push(required(&ip.child("targetPortal"), ""));
            }
            if iscsi.initiator_name.is_some() && format!("{pv_name}:{}", iscsi.target_portal).len() > 64 {
                e.push(invalid(
                    &ip.child("targetportal"),
                    iscsi.target_portal.as_str(),
                    "Total length of <volume name>:<iscsi.targetPortal> must be under 64 characters if iscsi.initiatorName is specified.",
                ));
            }
            let mut rest = iscsi_source(
                "x",
                &iscsi.iqn,
                iscsi.lun,
                b(iscsi.chap_auth_discovery) || b(iscsi.chap_auth_session),
                iscsi.secret_ref.is_some(),
                iscsi.initiator_name.as_deref(),
                &ip,
                "must be valid format",
            );
            e.append(&mut rest);
            if let Some(r) = &iscsi.secret_ref
                && ostr(&r.name).is_empty()
            {
                e.push(required(&ip.child("secretRef").child("name"), ""));
            }
        }
    }
    source!(&spec.cinder, "cinder", |s: &api::CinderPersistentVolumeSource| {
        let cp = path.child("cinder");
        let mut x = Vec::new();
        if s.volume_id.is_empty() {
            x.push(required(&cp.child("volumeID"), ""));
        }
        if let Some(r) = &s.secret_ref {
            if ostr(&r.name).is_empty() {
                x.push(required(&cp.child("secretRef").child("name"), ""));
            }
            if ostr(&r.namespace).is_empty() {
                x.push(required(&cp.child("secretRef").child("namespace"), ""));
            }
        }
        x
    });
    source!(&spec.fc, "fc", |s| fc(s, &path.child("fc")));
    if let Some(fv) = &spec.flex_volume {
        n += 1;
        e.extend(flex(&fv.driver, fv.options.as_ref(), &path.child("flexVolume")));
    }
    source!(&spec.azure_file, "azureFile", |s: &api::AzureFilePersistentVolumeSource| {
        let ap = path.child("azureFile");
        let mut x = Vec::new();
        if s.secret_name.is_empty() {
            x.push(required(&ap.child("secretName"), ""));
        }
        if s.share_name.is_empty() {
            x.push(required(&ap.child("shareName"), ""));
        }
        if s.secret_namespace.as_ref().is_some_and(|n| n.is_empty()) {
            x.push(required(&ap.child("secretNamespace"), ""));
        }
        x
    });
    source!(&spec.vsphere_volume, "vsphereVolume", |s: &api::VsphereVirtualDiskVolumeSource| {
        if s.volume_path.is_empty() { vec![required(&path.child("vsphereVolume").child("volumePath"), "")] } else { Vec::new() }
    });
    source!(&spec.photon_persistent_disk, "photonPersistentDisk", |s: &api::PhotonPersistentDiskVolumeSource| {
        if s.pd_id.is_empty() { vec![required(&path.child("photonPersistentDisk").child("pdID"), "")] } else { Vec::new() }
    });
    source!(&spec.portworx_volume, "portworxVolume", |s: &api::PortworxVolumeSource| {
        if s.volume_id.is_empty() { vec![required(&path.child("portworxVolume").child("volumeID"), "")] } else { Vec::new() }
    });
    source!(&spec.azure_disk, "azureDisk", |s| azure_disk(s, &path.child("azureDisk")));
    source!(&spec.scale_io, "scaleIO", |s: &api::ScaleIOPersistentVolumeSource| {
        scale_io(&s.gateway, &s.system, ostr(&s.volume_name), &path.child("scaleIO"))
    });
    if let Some(local) = &spec.local {
        if n > 0 {
            e.push(forbidden(&path.child("local"), MORE_THAN_ONE));
        } else {
            n += 1;
            let lp = path.child("local");
            if local.path.is_empty() {
                e.push(required(&lp.child("path"), ""));
            } else {
                e.extend(path_no_backsteps(&local.path, &lp.child("path")));
            }
            if !node_affinity_specified {
                e.push(required(&path.child("nodeAffinity"), "Local volume requires node affinity"));
            }
        }
    }
    source!(&spec.storageos, "storageos", |s: &api::StorageOSPersistentVolumeSource| {
        let sp = path.child("storageos");
        let mut x = storageos(ostr(&s.volume_name), ostr(&s.volume_namespace), &sp);
        if let Some(r) = &s.secret_ref {
            if ostr(&r.name).is_empty() {
                x.push(required(&sp.child("secretRef").child("name"), ""));
            }
            if ostr(&r.namespace).is_empty() {
                x.push(required(&sp.child("secretRef").child("namespace"), ""));
            }
        }
        x
    });
    source!(&spec.csi, "csi", |s: &api::CSIPersistentVolumeSource| {
        let cp = path.child("csi");
        let mut x = csi_driver_name(&s.driver, &cp.child("driver"));
        if s.volume_handle.is_empty() {
            x.push(required(&cp.child("volumeHandle"), ""));
        }
        for (name, r) in [
            ("controllerPublishSecretRef", &s.controller_publish_secret_ref),
            ("controllerExpandSecretRef", &s.controller_expand_secret_ref),
            ("nodePublishSecretRef", &s.node_publish_secret_ref),
            ("nodeExpandSecretRef", &s.node_expand_secret_ref),
        ] {
            if let Some(r) = r {
                x.extend(pv_secret_ref(r, &cp.child(name)));
            }
        }
        x
    });
    if n == 0 {
        e.push(required(path, "must specify a volume type"));
    }
    if let Some(hp) = &spec.host_path
        && path_clean(&hp.path) == "/"
        && spec.persistent_volume_reclaim_policy.as_deref() == Some("Recycle")
    {
        e.push(forbidden(&path.child("persistentVolumeReclaimPolicy"), "may not be 'recycle' for a hostPath mount of '/'"));
    }
    if let Some(sc) = spec.storage_class_name.as_deref().filter(|s| !s.is_empty()) {
        e.extend(name_errs(v::name_is_dns_subdomain(sc, false), sc, &path.child("storageClassName")));
    }
    if let Some(m) = &spec.volume_mode
        && !VOLUME_MODES.contains(&m.as_str())
    {
        e.push(not_supported(&path.child("volumeMode"), m.as_str(), VOLUME_MODES));
    }
    e
}

/// Validates a PersistentVolume's spec (upstream's `ValidatePersistentVolume` without object
/// metadata; volumeAttributesClassName ignored as with its 1.32 feature gate off).
pub fn persistent_volume(pv: &api::PersistentVolume) -> ErrorList {
    let spec = pv.spec.clone().unwrap_or_default();
    done(validate_pv_spec(&spec, pv.metadata.name.as_deref().unwrap_or(""), &p("spec"), false))
}

/// The persistent-volume source part of a PV spec, for the immutability check.
fn pv_source_json(spec: &api::PersistentVolumeSpec) -> serde_json::Value {
    let mut v = sem_json(spec);
    if let serde_json::Value::Object(m) = &mut v {
        for k in [
            "accessModes",
            "capacity",
            "claimRef",
            "mountOptions",
            "nodeAffinity",
            "persistentVolumeReclaimPolicy",
            "storageClassName",
            "volumeAttributesClassName",
            "volumeMode",
        ] {
            m.remove(k);
        }
    }
    v
}

/// PV update: the create rules plus upstream's immutability of the volume source
/// (`controllerExpandSecretRef` may be added), `volumeMode` and node affinity (beta→GA label
/// key changes allowed). The source diff in the message is simplified.
pub fn persistent_volume_update(new: &api::PersistentVolume, old: &api::PersistentVolume) -> ErrorList {
    let old_spec = old.spec.clone().unwrap_or_default();
    let mut new_spec = new.spec.clone().unwrap_or_default();
    let allow_invalid = old_spec
        .node_affinity
        .as_ref()
        .and_then(|n| n.required.as_ref())
        .is_some_and(|r| !validate_node_selector(r, false, &p("x")).is_empty());
    let mut e = validate_pv_spec(&new_spec, new.metadata.name.as_deref().unwrap_or(""), &p("spec"), allow_invalid);
    if let (Some(oc), Some(nc)) = (&old_spec.csi, &mut new_spec.csi)
        && oc.controller_expand_secret_ref.is_none()
    {
        nc.controller_expand_secret_ref = None;
    }
    let (os, ns) = (pv_source_json(&old_spec), pv_source_json(&new_spec));
    if os != ns {
        e.push(forbidden(
            &p("spec").child("persistentvolumesource"),
            format!("spec.persistentvolumesource is immutable after creation\n{}", simple_diff(&os, &ns)),
        ));
    }
    e.extend(immutable(&new_spec.volume_mode, &old_spec.volume_mode, &p("volumeMode")));
    if let Some(old_na) = &old_spec.node_affinity {
        let beta_to_ga = |k: &str| -> Option<&'static str> {
            match k {
                "failure-domain.beta.kubernetes.io/zone" => Some("topology.kubernetes.io/zone"),
                "failure-domain.beta.kubernetes.io/region" => Some("topology.kubernetes.io/region"),
                "beta.kubernetes.io/os" => Some("kubernetes.io/os"),
                "beta.kubernetes.io/arch" => Some("kubernetes.io/arch"),
                "beta.kubernetes.io/instance-type" => Some("node.kubernetes.io/instance-type"),
                _ => None,
            }
        };
        let mut masked_old = old_na.clone();
        if let (Some(req_old), Some(req_new)) = (
            masked_old.required.as_mut(),
            new_spec.node_affinity.as_ref().and_then(|n| n.required.as_ref()),
        ) {
            for (to, tn) in req_old.node_selector_terms.iter_mut().zip(&req_new.node_selector_terms) {
                if let (Some(eo), Some(en)) = (to.match_expressions.as_mut(), tn.match_expressions.as_ref()) {
                    for (ro, rn) in eo.iter_mut().zip(en) {
                        if ro.key != rn.key && beta_to_ga(&ro.key) == Some(rn.key.as_str()) {
                            ro.key = rn.key.clone();
                        }
                    }
                }
            }
        }
        if !sem_eq(&Some(masked_old), &new_spec.node_affinity) {
            e.push(invalid(&p("nodeAffinity"), json(&new_spec.node_affinity), format!("{FIELD_IMMUTABLE}, except for updating from beta label to GA")));
        }
    }
    done(e)
}

/// PV status update: upstream only checks metadata and the resource version; nothing here.
pub fn persistent_volume_status_update(_new: &api::PersistentVolume, _old: &api::PersistentVolume) -> ErrorList {
    done(Vec::new())
}
