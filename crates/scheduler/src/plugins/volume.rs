//! VolumeBinding, enough for local PersistentVolumes:
//!
//! - a claim that does not exist, or is being deleted, rejects the pod for all nodes;
//! - a claim bound to a PV: only nodes matching the PV's `nodeAffinity` pass;
//! - an unbound claim of a class with `volumeBindingMode: WaitForFirstConsumer`: with the
//!   `kubernetes.io/no-provisioner` provisioner only nodes where an available PV fits (class,
//!   size, access modes, volume mode, node affinity) pass, and once the pod is placed the PV's
//!   `claimRef` is set (the PV controller completes the binding); with another provisioner any
//!   node passes and the claim is annotated `volume.kubernetes.io/selected-node`;
//! - an unbound claim of any other class rejects the pod ("pod has unbound immediate
//!   PersistentVolumeClaims").
//!
//! Not done: waiting for the PV controller before binding the pod (upstream's PreBind waits),
//! storage capacity, allowedTopologies of provisioning classes, CSI volume limits and
//! VolumeZone/VolumeRestrictions.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};

use crate::cache::{NodeInfo, PodInfo, State};
use crate::framework::{CycleState, Plugin, Status};
use crate::helpers;

const NAME: &str = "VolumeBinding";
/// The provisioner of classes of pre-provisioned local volumes.
pub const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";

/// A pod's claims, sorted out.
#[derive(Clone, Default)]
pub struct FilterState {
    bound: Vec<Arc<PersistentVolume>>,
    /// Unbound WaitForFirstConsumer claims with a static class.
    to_match: Vec<Arc<PersistentVolumeClaim>>,
    /// Unbound WaitForFirstConsumer claims of a provisioning class.
    pub to_provision: Vec<Arc<PersistentVolumeClaim>>,
}

fn claim_names(pod: &PodInfo) -> Vec<String> {
    pod.pod
        .spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|v| v.persistent_volume_claim.as_ref().map(|c| c.claim_name.clone()))
        .collect()
}

fn pv_matches_node(pv: &PersistentVolume, node: &NodeInfo) -> bool {
    let required = pv.spec.as_ref().and_then(|s| s.node_affinity.as_ref()).and_then(|a| a.required.as_ref());
    match required {
        None => true,
        Some(sel) => sel.node_selector_terms.iter().any(|t| helpers::node_selector_term_matches(t, &node.name, node.labels())),
    }
}

fn storage_request(pvc: &PersistentVolumeClaim) -> i64 {
    pvc.spec
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .and_then(|q| apimachinery::quantity::parse(q).ok())
        .map(|q| q.value())
        .unwrap_or(0)
}

fn claim_class(pvc: &PersistentVolumeClaim) -> String {
    pvc.spec.as_ref().and_then(|s| s.storage_class_name.clone()).unwrap_or_default()
}

/// Whether an unbound PV can take the claim on this node.
fn pv_fits(pv: &PersistentVolume, pvc: &PersistentVolumeClaim, node: &NodeInfo) -> bool {
    let Some(spec) = pv.spec.as_ref() else {
        return false;
    };
    if let Some(r) = spec.claim_ref.as_ref()
        && (r.name.as_deref() != pvc.metadata.name.as_deref() || r.namespace.as_deref() != pvc.metadata.namespace.as_deref())
    {
        return false;
    }
    if pv.metadata.deletion_timestamp.is_some()
        || matches!(pv.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Released" | "Failed"))
    {
        return false;
    }
    if spec.storage_class_name.clone().unwrap_or_default() != claim_class(pvc) {
        return false;
    }
    let size = spec
        .capacity
        .as_ref()
        .and_then(|c| c.get("storage"))
        .and_then(|q| apimachinery::quantity::parse(q).ok())
        .map(|q| q.value())
        .unwrap_or(0);
    if size < storage_request(pvc) {
        return false;
    }
    let cspec = pvc.spec.as_ref();
    let want_modes = cspec.and_then(|s| s.access_modes.as_deref()).unwrap_or(&[]);
    let have_modes = spec.access_modes.as_deref().unwrap_or(&[]);
    if !want_modes.iter().all(|m| have_modes.contains(m)) {
        return false;
    }
    let mode = |m: Option<&String>| m.map(String::as_str).unwrap_or("Filesystem").to_string();
    if mode(spec.volume_mode.as_ref()) != mode(cspec.and_then(|s| s.volume_mode.as_ref())) {
        return false;
    }
    pv_matches_node(pv, node)
}

/// For each static claim, the PV chosen on `node` (smallest fitting, each PV once).
pub fn choose_volumes(
    claims: &[Arc<PersistentVolumeClaim>],
    node: &NodeInfo,
    st: &State,
) -> Option<Vec<(Arc<PersistentVolumeClaim>, String)>> {
    let mut used: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for pvc in claims {
        let best = st.pvs.iter().filter(|(name, pv)| !used.contains(name) && pv_fits(pv, pvc, node)).min_by_key(|(name, pv)| {
            let size = pv
                .spec
                .as_ref()
                .and_then(|s| s.capacity.as_ref())
                .and_then(|c| c.get("storage"))
                .and_then(|q| apimachinery::quantity::parse(q).ok())
                .map(|q| q.value());
            (size, (*name).clone())
        })?;
        used.push(best.0.clone());
        out.push((pvc.clone(), best.0.clone()));
    }
    Some(out)
}

/// The VolumeBinding plugin.
pub struct VolumeBinding;

impl Plugin for VolumeBinding {
    fn name(&self) -> &'static str {
        NAME
    }
    fn pre_filter(&self, cs: &mut CycleState, pod: &PodInfo, st: &State) -> Result<(), Status> {
        let names = claim_names(pod);
        if names.is_empty() {
            return Ok(());
        }
        let mut fs = FilterState::default();
        let mut unbound_immediate = false;
        for name in names {
            let Some(pvc) = st.pvcs.get(&format!("{}/{}", pod.namespace, name)) else {
                return Err(Status::unresolvable(NAME, format!("persistentvolumeclaim \"{name}\" not found")));
            };
            if pvc.metadata.deletion_timestamp.is_some() {
                return Err(Status::unresolvable(NAME, format!("persistentvolumeclaim \"{name}\" is being deleted")));
            }
            match pvc.spec.as_ref().and_then(|s| s.volume_name.as_deref()).filter(|v| !v.is_empty()) {
                Some(pv) => match st.pvs.get(pv) {
                    Some(pv) => fs.bound.push(pv.clone()),
                    None => {
                        return Err(Status::unresolvable(NAME, format!("pvc {name} bound to non-existent persistentvolume {pv}")));
                    }
                },
                None => {
                    let class = st.classes.get(&claim_class(pvc));
                    match class {
                        Some(c) if c.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer") => {
                            if c.provisioner == NO_PROVISIONER {
                                fs.to_match.push(pvc.clone());
                            } else {
                                fs.to_provision.push(pvc.clone());
                            }
                        }
                        _ => unbound_immediate = true,
                    }
                }
            }
        }
        if unbound_immediate {
            return Err(Status::unresolvable(NAME, "pod has unbound immediate PersistentVolumeClaims"));
        }
        cs.volume = Some(fs);
        Ok(())
    }
    fn filter(&self, cs: &CycleState, _: &PodInfo, node: &NodeInfo, st: &State) -> Result<(), Status> {
        let Some(fs) = cs.volume.as_ref() else {
            return Ok(());
        };
        if !fs.bound.iter().all(|pv| pv_matches_node(pv, node)) {
            return Err(Status::unresolvable(NAME, "node(s) had volume node affinity conflict"));
        }
        if !fs.to_match.is_empty() && choose_volumes(&fs.to_match, node, st).is_none() {
            return Err(Status::unresolvable(NAME, "node(s) didn't find available persistent volumes to bind"));
        }
        Ok(())
    }
}

/// What to write once the pod is placed: PVs to claim and claims to annotate.
#[derive(Debug, Default)]
pub struct VolumeActions {
    /// (PV name, claim) pairs: set the PV's claimRef.
    pub claim_pvs: Vec<(String, Arc<PersistentVolumeClaim>)>,
    /// Claims to annotate with the selected node.
    pub select_node: Vec<Arc<PersistentVolumeClaim>>,
}

/// Decides the volume writes for a pod placed on `node`, and assumes them in the cache (the
/// chosen PVs get a claimRef locally so the next pod does not pick them).
pub fn assume_volumes(cs: &CycleState, node: &NodeInfo, st: &mut State) -> VolumeActions {
    let Some(fs) = cs.volume.as_ref() else {
        return VolumeActions::default();
    };
    let mut actions = VolumeActions { select_node: fs.to_provision.clone(), ..Default::default() };
    if let Some(chosen) = choose_volumes(&fs.to_match, node, st) {
        for (pvc, pv) in chosen {
            if let Some(old) = st.pvs.get(&pv) {
                let mut new = (**old).clone();
                if let Some(spec) = new.spec.as_mut() {
                    spec.claim_ref = Some(k8s_openapi::api::core::v1::ObjectReference {
                        kind: Some("PersistentVolumeClaim".into()),
                        api_version: Some("v1".into()),
                        namespace: pvc.metadata.namespace.clone(),
                        name: pvc.metadata.name.clone(),
                        uid: pvc.metadata.uid.clone(),
                        ..Default::default()
                    });
                }
                st.pvs.insert(pv.clone(), Arc::new(new));
            }
            actions.claim_pvs.push((pv, pvc));
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::testutil::*;
    use serde_json::json;

    fn local_pv(name: &str, host: &str, claimed: bool) -> Arc<PersistentVolume> {
        let mut v = json!({"metadata": {"name": name}, "spec": {
            "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "local",
            "local": {"path": "/mnt"},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [host]}]}]}}}});
        if claimed {
            v["spec"]["claimRef"] = json!({"namespace": "default", "name": "other"});
        }
        Arc::new(serde_json::from_value(v).unwrap())
    }

    fn setup(bound: Option<&str>) -> (State, Arc<PodInfo>) {
        let mut st = state(vec![
            node("a", json!({"kubernetes.io/hostname": "a"}), json!({})),
            node("b", json!({"kubernetes.io/hostname": "b"}), json!({})),
        ]);
        st.classes.insert(
            "local".into(),
            Arc::new(
                serde_json::from_value(
                    json!({"metadata": {"name": "local"}, "provisioner": NO_PROVISIONER, "volumeBindingMode": "WaitForFirstConsumer"}),
                )
                .unwrap(),
            ),
        );
        st.pvs.insert("pv-a".into(), local_pv("pv-a", "a", true));
        st.pvs.insert("pv-b".into(), local_pv("pv-b", "b", false));
        let mut claim = json!({"metadata": {"name": "data", "namespace": "default", "uid": "c1"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "storageClassName": "local", "resources": {"requests": {"storage": "1Gi"}}}});
        if let Some(pv) = bound {
            claim["spec"]["volumeName"] = json!(pv);
        }
        st.pvcs.insert("default/data".into(), Arc::new(serde_json::from_value(claim).unwrap()));
        let p =
            pod(json!({"metadata": {"name": "p"}, "spec": {"volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "data"}}]}}));
        (st, p)
    }

    #[test]
    fn bound_claim_follows_pv_node_affinity() {
        let (st, p) = setup(Some("pv-a"));
        let mut cs = CycleState::default();
        VolumeBinding.pre_filter(&mut cs, &p, &st).unwrap();
        assert!(VolumeBinding.filter(&cs, &p, ni(&st, "a"), &st).is_ok());
        assert_eq!(
            VolumeBinding.filter(&cs, &p, ni(&st, "b"), &st).unwrap_err().reasons,
            vec!["node(s) had volume node affinity conflict"]
        );
    }

    #[test]
    fn wait_for_first_consumer_finds_an_available_pv() {
        let (mut st, p) = setup(None);
        let mut cs = CycleState::default();
        VolumeBinding.pre_filter(&mut cs, &p, &st).unwrap();
        // pv-a is claimed by another claim
        assert_eq!(
            VolumeBinding.filter(&cs, &p, ni(&st, "a"), &st).unwrap_err().reasons,
            vec!["node(s) didn't find available persistent volumes to bind"]
        );
        assert!(VolumeBinding.filter(&cs, &p, ni(&st, "b"), &st).is_ok());
        let node_b = ni(&st, "b").clone();
        let actions = assume_volumes(&cs, &node_b, &mut st);
        assert_eq!(actions.claim_pvs.len(), 1);
        assert_eq!(actions.claim_pvs[0].0, "pv-b");
    }

    #[test]
    fn missing_and_immediate_claims() {
        let (mut st, _) = setup(None);
        let mut cs = CycleState::default();
        let p =
            pod(json!({"metadata": {"name": "p"}, "spec": {"volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "nope"}}]}}));
        assert_eq!(VolumeBinding.pre_filter(&mut cs, &p, &st).unwrap_err().reasons, vec!["persistentvolumeclaim \"nope\" not found"]);
        st.classes.clear();
        let p =
            pod(json!({"metadata": {"name": "p"}, "spec": {"volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "data"}}]}}));
        assert_eq!(
            VolumeBinding.pre_filter(&mut cs, &p, &st).unwrap_err().reasons,
            vec!["pod has unbound immediate PersistentVolumeClaims"]
        );
    }
}
