//! Fidelity: upstream's serialization fixtures for Kubernetes 1.32 (Apache-2.0, see
//! `data/k8s-api-v1.32/LICENSE`) go through the apiserver's own decode → encode path for their
//! kind — in JSON and in YAML — and come back semantically equal: no field lost or altered.
//! Validation and defaulting are not applied (the fixtures hold placeholder values).

use std::collections::BTreeSet;
use std::path::PathBuf;

use apiserver::registry::Registry;
use serde_json::Value;

/// Fixtures of kinds ferrokube does not serve (alpha/beta versions, request-only and meta kinds).
const NOT_SERVED: &[&str] = &[
    "admission.k8s.io.v1.AdmissionReview",
    "admission.k8s.io.v1beta1.AdmissionReview",
    "admissionregistration.k8s.io.v1alpha1.MutatingAdmissionPolicy",
    "admissionregistration.k8s.io.v1alpha1.MutatingAdmissionPolicyBinding",
    "admissionregistration.k8s.io.v1alpha1.ValidatingAdmissionPolicy",
    "admissionregistration.k8s.io.v1alpha1.ValidatingAdmissionPolicyBinding",
    "admissionregistration.k8s.io.v1beta1.MutatingWebhookConfiguration",
    "admissionregistration.k8s.io.v1beta1.ValidatingAdmissionPolicy",
    "admissionregistration.k8s.io.v1beta1.ValidatingAdmissionPolicyBinding",
    "admissionregistration.k8s.io.v1beta1.ValidatingWebhookConfiguration",
    "apidiscovery.k8s.io.v2.APIGroupDiscovery",
    "apidiscovery.k8s.io.v2beta1.APIGroupDiscovery",
    "apps.v1beta1.ControllerRevision",
    "apps.v1beta1.Deployment",
    "apps.v1beta1.DeploymentRollback",
    "apps.v1beta1.Scale",
    "apps.v1beta1.StatefulSet",
    "apps.v1beta2.ControllerRevision",
    "apps.v1beta2.DaemonSet",
    "apps.v1beta2.Deployment",
    "apps.v1beta2.ReplicaSet",
    "apps.v1beta2.Scale",
    "apps.v1beta2.StatefulSet",
    "authentication.k8s.io.v1.TokenRequest",
    "authentication.k8s.io.v1beta1.SelfSubjectReview",
    "authentication.k8s.io.v1beta1.TokenReview",
    "authorization.k8s.io.v1beta1.LocalSubjectAccessReview",
    "authorization.k8s.io.v1beta1.SelfSubjectAccessReview",
    "authorization.k8s.io.v1beta1.SelfSubjectRulesReview",
    "authorization.k8s.io.v1beta1.SubjectAccessReview",
    "autoscaling.v1.Scale",
    "autoscaling.v2beta1.HorizontalPodAutoscaler",
    "autoscaling.v2beta2.HorizontalPodAutoscaler",
    "batch.v1beta1.CronJob",
    "certificates.k8s.io.v1alpha1.ClusterTrustBundle",
    "certificates.k8s.io.v1beta1.CertificateSigningRequest",
    "coordination.k8s.io.v1alpha2.LeaseCandidate",
    "coordination.k8s.io.v1beta1.Lease",
    "core.v1.APIGroup",
    "core.v1.APIVersions",
    "core.v1.Binding",
    "core.v1.ComponentStatus",
    "core.v1.CreateOptions",
    "core.v1.DeleteOptions",
    "core.v1.GetOptions",
    "core.v1.ListOptions",
    "core.v1.NodeProxyOptions",
    "core.v1.PatchOptions",
    "core.v1.PodAttachOptions",
    "core.v1.PodExecOptions",
    "core.v1.PodLogOptions",
    "core.v1.PodPortForwardOptions",
    "core.v1.PodProxyOptions",
    "core.v1.PodStatusResult",
    "core.v1.RangeAllocation",
    "core.v1.SerializedReference",
    "core.v1.ServiceProxyOptions",
    "core.v1.Status",
    "core.v1.UpdateOptions",
    "core.v1.WatchEvent",
    "discovery.k8s.io.v1beta1.EndpointSlice",
    "events.k8s.io.v1beta1.Event",
    "extensions.v1beta1.DaemonSet",
    "extensions.v1beta1.Deployment",
    "extensions.v1beta1.DeploymentRollback",
    "extensions.v1beta1.Ingress",
    "extensions.v1beta1.NetworkPolicy",
    "extensions.v1beta1.ReplicaSet",
    "extensions.v1beta1.Scale",
    "flowcontrol.apiserver.k8s.io.v1.FlowSchema",
    "flowcontrol.apiserver.k8s.io.v1.PriorityLevelConfiguration",
    "flowcontrol.apiserver.k8s.io.v1beta1.FlowSchema",
    "flowcontrol.apiserver.k8s.io.v1beta1.PriorityLevelConfiguration",
    "flowcontrol.apiserver.k8s.io.v1beta2.FlowSchema",
    "flowcontrol.apiserver.k8s.io.v1beta2.PriorityLevelConfiguration",
    "flowcontrol.apiserver.k8s.io.v1beta3.FlowSchema",
    "flowcontrol.apiserver.k8s.io.v1beta3.PriorityLevelConfiguration",
    "imagepolicy.k8s.io.v1alpha1.ImageReview",
    "internal.apiserver.k8s.io.v1alpha1.StorageVersion",
    "networking.k8s.io.v1alpha1.IPAddress",
    "networking.k8s.io.v1alpha1.ServiceCIDR",
    "networking.k8s.io.v1beta1.IPAddress",
    "networking.k8s.io.v1beta1.Ingress",
    "networking.k8s.io.v1beta1.IngressClass",
    "networking.k8s.io.v1beta1.ServiceCIDR",
    "node.k8s.io.v1alpha1.RuntimeClass",
    "node.k8s.io.v1beta1.RuntimeClass",
    "policy.v1.Eviction",
    "policy.v1beta1.Eviction",
    "policy.v1beta1.PodDisruptionBudget",
    "rbac.authorization.k8s.io.v1alpha1.ClusterRole",
    "rbac.authorization.k8s.io.v1alpha1.ClusterRoleBinding",
    "rbac.authorization.k8s.io.v1alpha1.Role",
    "rbac.authorization.k8s.io.v1alpha1.RoleBinding",
    "rbac.authorization.k8s.io.v1beta1.ClusterRole",
    "rbac.authorization.k8s.io.v1beta1.ClusterRoleBinding",
    "rbac.authorization.k8s.io.v1beta1.Role",
    "rbac.authorization.k8s.io.v1beta1.RoleBinding",
    "resource.k8s.io.v1alpha3.DeviceClass",
    "resource.k8s.io.v1alpha3.ResourceClaim",
    "resource.k8s.io.v1alpha3.ResourceClaimTemplate",
    "resource.k8s.io.v1alpha3.ResourceSlice",
    "resource.k8s.io.v1beta1.DeviceClass",
    "resource.k8s.io.v1beta1.ResourceClaim",
    "resource.k8s.io.v1beta1.ResourceClaimTemplate",
    "resource.k8s.io.v1beta1.ResourceSlice",
    "scheduling.k8s.io.v1alpha1.PriorityClass",
    "scheduling.k8s.io.v1beta1.PriorityClass",
    "storage.k8s.io.v1alpha1.CSIStorageCapacity",
    "storage.k8s.io.v1alpha1.VolumeAttachment",
    "storage.k8s.io.v1alpha1.VolumeAttributesClass",
    "storage.k8s.io.v1beta1.CSIDriver",
    "storage.k8s.io.v1beta1.CSINode",
    "storage.k8s.io.v1beta1.CSIStorageCapacity",
    "storage.k8s.io.v1beta1.StorageClass",
    "storage.k8s.io.v1beta1.VolumeAttachment",
    "storage.k8s.io.v1beta1.VolumeAttributesClass",
    "storagemigration.k8s.io.v1alpha1.StorageVersionMigration",
];

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/k8s-api-v1.32")
}

/// Drops nulls (Go writes `null` for unset pointers; absent and null mean the same) and
/// normalises numbers so `1` and `1.0` compare equal.
fn normalize(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), normalize(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => v.clone(),
        },
        other => other.clone(),
    }
}

/// The first difference between two JSON values, as a path.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(p), Some(q)) => first_difference(p, q, &format!("{path}.{k}")),
                (p, q) => Some(format!("{path}.{k}: {p:?} vs {q:?}")),
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]")))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a} vs {b}")),
    }
}

fn split_name(stem: &str) -> (String, String, String) {
    let parts: Vec<&str> = stem.split('.').collect();
    let kind = parts[parts.len() - 1].to_string();
    let version = parts[parts.len() - 2].to_string();
    let group = parts[..parts.len() - 2].join(".");
    (if group == "core" { String::new() } else { group }, version, kind)
}

fn round_trip(registry: &Registry, stem: &str, input: Value) -> Result<(), String> {
    let (group, version, kind) = split_name(stem);
    let res = registry
        .resources
        .iter()
        .find(|r| r.info.group == group && r.info.version == version && r.info.kind == kind)
        .ok_or_else(|| format!("{stem}: not served"))?;
    let mut unknown = Vec::new();
    let obj = res.decoder().decode(input.clone(), &mut unknown).map_err(|e| format!("{stem}: decode: {e}"))?;
    if !unknown.is_empty() {
        return Err(format!("{stem}: fields dropped as unknown: {unknown:?}"));
    }
    let mut out = obj.to_value().map_err(|e| format!("{stem}: encode: {e}"))?;
    // The one addition the codec makes: an embedded PersistentVolumeClaim template carries its
    // apiVersion and kind (k8s-openapi writes them; upstream's StatefulSet defaulting sets them).
    if let Some(templates) = out.pointer_mut("/spec/volumeClaimTemplates").and_then(Value::as_array_mut) {
        for (i, t) in templates.iter_mut().enumerate() {
            let orig = &input["spec"]["volumeClaimTemplates"][i];
            for f in ["apiVersion", "kind"] {
                if orig.get(f).is_none() {
                    t.as_object_mut().map(|m| m.remove(f));
                }
            }
        }
    }
    match first_difference(&normalize(&input), &normalize(&out), "") {
        None => Ok(()),
        Some(d) => Err(format!("{stem}: {d}")),
    }
}

#[test]
fn every_served_fixture_round_trips_in_json_and_yaml() {
    let registry = Registry::builtin();
    let mut stems: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".json")).map(str::to_string))
        .collect();
    stems.sort();
    assert_eq!(stems.len(), 171, "fixture set changed");
    let mut failures = Vec::new();
    let mut checked = 0;
    for stem in &stems {
        if NOT_SERVED.contains(&stem.as_str()) {
            continue;
        }
        let json: Value = serde_json::from_slice(&std::fs::read(dir().join(format!("{stem}.json"))).unwrap()).unwrap();
        let yaml_text = std::fs::read_to_string(dir().join(format!("{stem}.yaml"))).unwrap();
        let yaml = apiserver::codec::decode_yaml(yaml_text.as_bytes()).unwrap_or_else(|e| panic!("{stem}.yaml: {e}"));
        for (form, input) in [("json", json), ("yaml", yaml)] {
            if let Err(e) = round_trip(&registry, stem, input) {
                failures.push(format!("[{form}] {e}"));
            }
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{} round-trip failures:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(checked, stems.len() - NOT_SERVED.len());
    // every fixture we skip is really not served, and every served kind has its fixture
    for stem in NOT_SERVED {
        let (g, v, k) = split_name(stem);
        assert!(
            !registry.resources.iter().any(|r| r.info.group == g && r.info.version == v && r.info.kind == k),
            "{stem} is served: remove it from NOT_SERVED"
        );
    }
}
