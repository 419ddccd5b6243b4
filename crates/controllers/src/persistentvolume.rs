//! The PersistentVolume binder (`persistent-volume-binder`; upstream's `persistentvolume`
//! controller, binding only): matches claims with volumes and keeps the phases of both.
//!
//! - A claim naming a volume (`spec.volumeName`) is bound to it if the volume is free or
//!   reserved for the claim; one the scheduler reserved a volume for (`claimRef` without a uid,
//!   `WaitForFirstConsumer` classes) is bound to that volume.
//! - Any other claim of a class with Immediate binding (or of no class) gets the smallest
//!   Available volume of its class that has its access modes, volume mode, selector's labels
//!   and at least its requested storage; claims of a `WaitForFirstConsumer` class wait for the
//!   scheduler. A claim nothing fits stays Pending with upstream's event.
//! - Binding writes, in upstream's order: the volume's `claimRef` (with the claim's uid),
//!   its phase Bound, the claim's `volumeName` and `bind-completed` annotation, its phase Bound
//!   with the volume's capacity and access modes.
//! - A bound claim whose volume is gone is Lost; a volume whose claim is gone is Released
//!   (reclaim policy Retain), left to its external provisioner (Delete, with
//!   `pv.kubernetes.io/provisioned-by`), or Failed (Delete or Recycle of a volume no plugin
//!   here can delete — upstream's message).
//!
//! It must not provision, delete or recycle storage: no volume plugin runs in this process.
//! Every pass works from the shared informers' caches; a write that conflicts is redone on the
//! next pass.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ObjectReference, PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimStatus, PersistentVolumeStatus};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, PostParams};
use kube::ResourceExt;

use crate::stores::{self, Informers, Wake};


/// Annotation: the claim's binding is complete.
pub const BIND_COMPLETED: &str = "pv.kubernetes.io/bind-completed";
/// Annotation: this controller (not a user) set the volume's claimRef or the claim's volumeName.
pub const BOUND_BY_CONTROLLER: &str = "pv.kubernetes.io/bound-by-controller";
/// Annotation: the provisioner that made a volume (and deletes it).
pub const PROVISIONED_BY: &str = "pv.kubernetes.io/provisioned-by";
/// How often everything is checked again without a change.
const RESYNC: Duration = Duration::from_secs(15);

/// What a volume offers, for matching.
fn bytes(q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity) -> Option<i64> {
    apimachinery::quantity::Quantity::parse(&q.0).ok().map(|q| q.value())
}

fn capacity(pv: &PersistentVolume) -> Option<i64> {
    pv.spec.as_ref()?.capacity.as_ref()?.get("storage").and_then(bytes)
}

fn requested(pvc: &PersistentVolumeClaim) -> i64 {
    pvc.spec.as_ref().and_then(|s| s.resources.as_ref()).and_then(|r| r.requests.as_ref()).and_then(|r| r.get("storage")).and_then(bytes).unwrap_or(0)
}

fn pv_class(pv: &PersistentVolume) -> &str {
    pv.spec.as_ref().and_then(|s| s.storage_class_name.as_deref()).unwrap_or("")
}

fn pvc_class(pvc: &PersistentVolumeClaim) -> &str {
    pvc.spec.as_ref().and_then(|s| s.storage_class_name.as_deref()).unwrap_or("")
}

fn volume_mode_pv(pv: &PersistentVolume) -> &str {
    pv.spec.as_ref().and_then(|s| s.volume_mode.as_deref()).unwrap_or("Filesystem")
}

fn volume_mode_pvc(pvc: &PersistentVolumeClaim) -> &str {
    pvc.spec.as_ref().and_then(|s| s.volume_mode.as_deref()).unwrap_or("Filesystem")
}

fn phase_pv(pv: &PersistentVolume) -> &str {
    pv.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("")
}

fn phase_pvc(pvc: &PersistentVolumeClaim) -> &str {
    pvc.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("")
}

fn claim_ref(pv: &PersistentVolume) -> Option<&ObjectReference> {
    pv.spec.as_ref().and_then(|s| s.claim_ref.as_ref())
}

/// Whether the volume's claimRef names the claim (and, when it carries a uid, this claim).
pub fn reserved_for(pv: &PersistentVolume, pvc: &PersistentVolumeClaim) -> bool {
    claim_ref(pv).is_some_and(|r| {
        r.namespace.as_deref() == pvc.metadata.namespace.as_deref()
            && r.name.as_deref() == pvc.metadata.name.as_deref()
            && r.uid.as_deref().is_none_or(|u| u.is_empty() || Some(u) == pvc.metadata.uid.as_deref())
    })
}

/// Whether `pv` can serve `pvc` (class, modes, size, selector), ignoring who holds it.
pub fn fits(pv: &PersistentVolume, pvc: &PersistentVolumeClaim) -> bool {
    let Some(spec) = pvc.spec.as_ref() else { return false };
    let offered: HashSet<&str> = pv.spec.as_ref().and_then(|s| s.access_modes.as_ref()).into_iter().flatten().map(String::as_str).collect();
    let wanted_modes = spec.access_modes.iter().flatten().all(|m| offered.contains(m.as_str()));
    let labels = pv.metadata.labels.clone().unwrap_or_default();
    let selected = spec.selector.as_ref().is_none_or(|s| apimachinery::labels::from_label_selector(s).is_ok_and(|sel| sel.matches(&labels)));
    pv_class(pv) == pvc_class(pvc)
        && volume_mode_pv(pv) == volume_mode_pvc(pvc)
        && wanted_modes
        && selected
        && capacity(pv).is_some_and(|c| c >= requested(pvc))
}

/// The smallest free volume that fits the claim.
pub fn best_match<'a>(pvs: impl Iterator<Item = &'a PersistentVolume>, pvc: &PersistentVolumeClaim) -> Option<&'a PersistentVolume> {
    pvs.filter(|pv| pv.metadata.deletion_timestamp.is_none() && claim_ref(pv).is_none() && matches!(phase_pv(pv), "" | "Available" | "Pending") && fits(pv, pvc))
        .min_by_key(|pv| (capacity(pv).unwrap_or(i64::MAX), pv.name_any()))
}

struct Ctl {
    pvs: Api<PersistentVolume>,
    rec: kube::runtime::events::Recorder,
    client: kube::Client,
    /// Claims already told why they wait (one event per reason, not one per pass).
    told: std::sync::Mutex<HashMap<String, String>>,
}

/// Runs the binder with its own identity (reading the shared informers) until the process ends.
pub async fn run(informers: Informers, client: kube::Client) {
    let wake = Wake::new();
    let pvs = informers.watch::<PersistentVolume>(&wake);
    let pvcs = informers.watch::<PersistentVolumeClaim>(&wake);
    let classes = informers.watch::<StorageClass>(&wake);
    stores::ready(&pvs).await;
    stores::ready(&pvcs).await;
    stores::ready(&classes).await;
    let ctl = Ctl {
        pvs: Api::all(client.clone()),
        rec: stores::recorder(&client, "persistentvolume-controller"),
        client,
        told: std::sync::Mutex::new(HashMap::new()),
    };
    loop {
        sync(&ctl, &pvs.state(), &pvcs.state(), &classes.state()).await;
        // a change (after a burst settles), or the periodic pass
        wake.wait(RESYNC, Duration::from_millis(50)).await;
    }
}

async fn sync(ctl: &Ctl, pvs: &[Arc<PersistentVolume>], pvcs: &[Arc<PersistentVolumeClaim>], classes: &[Arc<StorageClass>]) {
    let by_name: BTreeMap<String, &PersistentVolume> = pvs.iter().map(|p| (p.name_any(), p.as_ref())).collect();
    let classes: HashMap<String, &StorageClass> = classes.iter().map(|c| (c.name_any(), c.as_ref())).collect();
    // volumes bound in this pass (the caches have not seen them yet)
    let mut taken: HashSet<String> = HashSet::new();
    for pvc in pvcs {
        if pvc.metadata.deletion_timestamp.is_some() {
            continue;
        }
        if let Err(e) = sync_claim(ctl, pvc, &by_name, &classes, &mut taken).await {
            tracing::debug!(claim = %stores::key(pvc.as_ref()), error = %e, "binding");
        }
    }
    let claims: HashMap<(String, String), &PersistentVolumeClaim> =
        pvcs.iter().map(|c| ((c.namespace().unwrap_or_default(), c.name_any()), c.as_ref())).collect();
    for pv in pvs {
        if taken.contains(&pv.name_any()) {
            continue;
        }
        if let Err(e) = sync_volume(ctl, pv, &claims).await {
            tracing::debug!(volume = %pv.name_any(), error = %e, "volume phase");
        }
    }
    let live: HashSet<String> = pvcs.iter().filter_map(|c| c.uid()).collect();
    if let Ok(mut t) = ctl.told.lock() {
        t.retain(|uid, _| live.contains(uid));
    }
}

/// An event about the claim, once per reason and message.
async fn tell(ctl: &Ctl, pvc: &PersistentVolumeClaim, warning: bool, reason: &str, message: String) {
    let uid = pvc.uid().unwrap_or_default();
    let said = format!("{reason}: {message}");
    let before = ctl.told.lock().ok().and_then(|mut t| t.insert(uid, said.clone()));
    if before.as_deref() == Some(said.as_str()) {
        return;
    }
    stores::event(&ctl.rec, pvc, warning, reason, message).await;
}

async fn sync_claim(
    ctl: &Ctl,
    pvc: &PersistentVolumeClaim,
    pvs: &BTreeMap<String, &PersistentVolume>,
    classes: &HashMap<String, &StorageClass>,
    taken: &mut HashSet<String>,
) -> Result<(), kube::Error> {
    let named = pvc.spec.as_ref().and_then(|s| s.volume_name.clone()).filter(|v| !v.is_empty());
    if let Some(name) = named {
        return match pvs.get(&name) {
            None => {
                if phase_pvc(pvc) == "Bound" {
                    set_claim_phase(ctl, pvc, "Lost", None).await?;
                    stores::event(&ctl.rec, pvc, true, "ClaimLost", "Bound claim has lost its PersistentVolume. Data on the volume is lost!".into()).await;
                }
                Ok(())
            }
            Some(pv) if claim_ref(pv).is_none() || reserved_for(pv, pvc) => {
                taken.insert(name);
                bind(ctl, pv, pvc).await
            }
            Some(_) => {
                tell(ctl, pvc, true, "FailedBinding", format!("volume \"{name}\" already bound to a different claim.")).await;
                Ok(())
            }
        };
    }
    // a volume reserved for this claim (by the scheduler or a user)
    if let Some(pv) = pvs.values().find(|pv| reserved_for(pv, pvc) && !taken.contains(&pv.name_any())) {
        taken.insert(pv.name_any());
        return bind(ctl, pv, pvc).await;
    }
    let class_name = pvc_class(pvc);
    let class = (!class_name.is_empty()).then(|| classes.get(class_name)).flatten();
    if class.is_some_and(|c| c.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer")) {
        tell(ctl, pvc, false, "WaitForFirstConsumer", "waiting for first consumer to be created before binding".into()).await;
        return Ok(());
    }
    match best_match(pvs.values().copied().filter(|pv| !taken.contains(&pv.name_any())), pvc) {
        Some(pv) => {
            taken.insert(pv.name_any());
            bind(ctl, pv, pvc).await
        }
        None => {
            let (warning, reason, message) = match (class_name, class) {
                ("", _) => (true, "FailedBinding", "no persistent volumes available for this claim and no storage class is set".to_string()),
                (name, None) => (true, "ProvisioningFailed", format!("storageclass.storage.k8s.io \"{name}\" not found")),
                (_, Some(c)) if c.provisioner == "kubernetes.io/no-provisioner" => {
                    (true, "ProvisioningFailed", "no volume plugin matched name: kubernetes.io/no-provisioner".to_string())
                }
                (_, Some(c)) => (
                    false,
                    "ExternalProvisioning",
                    format!("Waiting for a volume to be created either by the external provisioner '{}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.", c.provisioner),
                ),
            };
            tell(ctl, pvc, warning, reason, message).await;
            Ok(())
        }
    }
}

/// Binds `pv` and `pvc` to each other, each step only if not yet done.
async fn bind(ctl: &Ctl, pv: &PersistentVolume, pvc: &PersistentVolumeClaim) -> Result<(), kube::Error> {
    let claim_uid = pvc.uid().unwrap_or_default();
    // 1. the volume's claimRef, with the claim's uid
    let mut volume = pv.clone();
    let complete_ref = claim_ref(pv).is_some_and(|r| r.uid.as_deref() == Some(claim_uid.as_str()));
    if !complete_ref {
        let spec = volume.spec.get_or_insert_with(Default::default);
        if spec.claim_ref.is_none() {
            volume.metadata.annotations.get_or_insert_with(BTreeMap::new).insert(BOUND_BY_CONTROLLER.into(), "yes".into());
        }
        spec.claim_ref = Some(ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("PersistentVolumeClaim".into()),
            namespace: pvc.namespace(),
            name: Some(pvc.name_any()),
            uid: Some(claim_uid.clone()),
            resource_version: pvc.resource_version(),
            field_path: None,
        });
        volume = ctl.pvs.replace(&pv.name_any(), &PostParams::default(), &volume).await?;
    }
    // 2. the volume's phase
    if phase_pv(&volume) != "Bound" {
        volume.status.get_or_insert_with(PersistentVolumeStatus::default).phase = Some("Bound".into());
        volume = ctl.pvs.replace_status(&pv.name_any(), &PostParams::default(), &volume).await?;
    }
    // 3. the claim's volumeName and annotations
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(ctl.client.clone(), &pvc.namespace().unwrap_or_default());
    let mut claim = pvc.clone();
    let annotations = claim.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let spec = claim.spec.get_or_insert_with(Default::default);
    let mut changed = false;
    if spec.volume_name.as_deref().is_none_or(str::is_empty) {
        spec.volume_name = Some(volume.name_any());
        annotations.insert(BOUND_BY_CONTROLLER.into(), "yes".into());
        changed = true;
    }
    if annotations.get(BIND_COMPLETED).map(String::as_str) != Some("yes") {
        annotations.insert(BIND_COMPLETED.into(), "yes".into());
        changed = true;
    }
    if changed {
        claim = claims.replace(&pvc.name_any(), &PostParams::default(), &claim).await?;
    }
    // 4. the claim's phase, capacity and access modes
    let vspec = volume.spec.clone().unwrap_or_default();
    let status = claim.status.clone().unwrap_or_default();
    if status.phase.as_deref() != Some("Bound") || status.capacity != vspec.capacity || status.access_modes != vspec.access_modes {
        let first = status.phase.as_deref() != Some("Bound");
        set_claim_phase(ctl, &claim, "Bound", Some(&volume)).await?;
        if first {
            tracing::info!(claim = %stores::key(pvc), volume = %volume.name_any(), "claim bound");
        }
    }
    if let Ok(mut t) = ctl.told.lock() {
        t.remove(&claim_uid);
    }
    Ok(())
}

async fn set_claim_phase(ctl: &Ctl, pvc: &PersistentVolumeClaim, phase: &str, volume: Option<&PersistentVolume>) -> Result<(), kube::Error> {
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(ctl.client.clone(), &pvc.namespace().unwrap_or_default());
    let mut claim = pvc.clone();
    let status = claim.status.get_or_insert_with(PersistentVolumeClaimStatus::default);
    status.phase = Some(phase.into());
    if let Some(pv) = volume {
        let spec = pv.spec.clone().unwrap_or_default();
        status.capacity = spec.capacity;
        status.access_modes = spec.access_modes;
    }
    claims.replace_status(&pvc.name_any(), &PostParams::default(), &claim).await?;
    Ok(())
}

async fn set_volume_phase(ctl: &Ctl, pv: &PersistentVolume, phase: &str, message: Option<String>) -> Result<(), kube::Error> {
    let mut volume = pv.clone();
    let status = volume.status.get_or_insert_with(PersistentVolumeStatus::default);
    status.phase = Some(phase.into());
    status.message = message;
    ctl.pvs.replace_status(&pv.name_any(), &PostParams::default(), &volume).await?;
    Ok(())
}

/// The phase a volume should have given its claim, with a message.
pub fn volume_phase(pv: &PersistentVolume, claim: Option<&PersistentVolumeClaim>) -> (&'static str, Option<String>) {
    let Some(r) = claim_ref(pv) else { return ("Available", None) };
    if r.uid.as_deref().is_none_or(str::is_empty) {
        // reserved for a claim that is not bound yet
        return ("Available", None);
    }
    let bound = claim.is_some_and(|c| c.metadata.uid.as_deref() == r.uid.as_deref());
    if bound {
        return ("Bound", None);
    }
    let policy = pv.spec.as_ref().and_then(|s| s.persistent_volume_reclaim_policy.as_deref()).unwrap_or("Retain");
    let external = pv.metadata.annotations.as_ref().is_some_and(|a| a.contains_key(PROVISIONED_BY));
    match policy {
        "Retain" => ("Released", None),
        "Delete" if external => ("Released", None),
        "Delete" => ("Failed", Some(format!("error getting deleter volume plugin for volume \"{}\": no deletable volume plugin matched", pv.name_any()))),
        _ => ("Failed", Some("no volume plugin matched".into())),
    }
}

async fn sync_volume(ctl: &Ctl, pv: &PersistentVolume, claims: &HashMap<(String, String), &PersistentVolumeClaim>) -> Result<(), kube::Error> {
    if pv.metadata.deletion_timestamp.is_some() {
        return Ok(());
    }
    let claim = claim_ref(pv).and_then(|r| claims.get(&(r.namespace.clone().unwrap_or_default(), r.name.clone().unwrap_or_default())).copied());
    let (phase, message) = volume_phase(pv, claim);
    // a claim being bound is finished by the claim's sync; Failed is kept until someone acts
    if phase == "Bound" || phase_pv(pv) == phase || (phase_pv(pv) == "Failed" && phase != "Available") {
        return Ok(());
    }
    set_volume_phase(ctl, pv, phase, message.clone()).await?;
    if phase == "Failed" {
        stores::event(&ctl.rec, pv, true, "VolumeFailedDelete", message.unwrap_or_default()).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pv(name: &str, class: &str, size: &str, modes: &[&str]) -> PersistentVolume {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "labels": {"speed": "fast"}},
            "spec": {"capacity": {"storage": size}, "accessModes": modes, "storageClassName": class, "hostPath": {"path": "/tmp"}}
        }))
        .unwrap()
    }

    fn pvc(name: &str, class: &str, size: &str, modes: &[&str]) -> PersistentVolumeClaim {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}")},
            "spec": {"accessModes": modes, "storageClassName": class, "resources": {"requests": {"storage": size}}}
        }))
        .unwrap()
    }

    #[test]
    fn the_smallest_fitting_volume_of_the_class_is_chosen() {
        let vols = [pv("big", "manual", "10Gi", &["ReadWriteOnce"]), pv("small", "manual", "1Gi", &["ReadWriteOnce"]), pv("tiny", "manual", "100Mi", &["ReadWriteOnce"]), pv("other", "fast", "1Gi", &["ReadWriteOnce"])];
        let claim = pvc("c", "manual", "500Mi", &["ReadWriteOnce"]);
        assert_eq!(best_match(vols.iter(), &claim).map(|v| v.name_any()), Some("small".into()));
        // access modes must all be offered; the size must be enough
        assert!(best_match(vols.iter(), &pvc("c", "manual", "500Mi", &["ReadWriteMany"])).is_none());
        assert!(best_match(vols.iter(), &pvc("c", "manual", "20Gi", &["ReadWriteOnce"])).is_none());
        // a selector narrows by the volume's labels
        let mut sel = pvc("c", "manual", "50Mi", &["ReadWriteOnce"]);
        sel.spec.as_mut().unwrap().selector = Some(serde_json::from_value(serde_json::json!({"matchLabels": {"speed": "slow"}})).unwrap());
        assert!(best_match(vols.iter(), &sel).is_none());
        // a volume held by another claim is not free
        let mut held = pv("held", "manual", "600Mi", &["ReadWriteOnce"]);
        held.spec.as_mut().unwrap().claim_ref = Some(ObjectReference { namespace: Some("default".into()), name: Some("x".into()), ..Default::default() });
        assert_eq!(best_match([held.clone()].iter(), &claim).map(|v| v.name_any()), None);
        assert!(!reserved_for(&held, &claim));
        held.spec.as_mut().unwrap().claim_ref.as_mut().unwrap().name = Some("c".into());
        assert!(reserved_for(&held, &claim), "reserved by name, no uid yet");
        held.spec.as_mut().unwrap().claim_ref.as_mut().unwrap().uid = Some("someone-else".into());
        assert!(!reserved_for(&held, &claim), "a uid must be the claim's");
    }

    #[test]
    fn volume_phases_follow_their_claims_and_reclaim_policy() {
        let claim = pvc("c", "manual", "1Gi", &["ReadWriteOnce"]);
        let mut v = pv("v", "manual", "1Gi", &["ReadWriteOnce"]);
        assert_eq!(volume_phase(&v, None).0, "Available");
        v.spec.as_mut().unwrap().claim_ref = Some(ObjectReference { namespace: Some("default".into()), name: Some("c".into()), uid: Some("uid-c".into()), ..Default::default() });
        assert_eq!(volume_phase(&v, Some(&claim)).0, "Bound");
        assert_eq!(volume_phase(&v, None).0, "Released", "Retain by default");
        v.spec.as_mut().unwrap().persistent_volume_reclaim_policy = Some("Delete".into());
        let (phase, message) = volume_phase(&v, None);
        assert_eq!(phase, "Failed");
        assert_eq!(message.unwrap(), "error getting deleter volume plugin for volume \"v\": no deletable volume plugin matched");
        v.metadata.annotations = Some([(PROVISIONED_BY.to_string(), "csi.example".to_string())].into());
        assert_eq!(volume_phase(&v, None).0, "Released", "its provisioner deletes it");
    }
}
