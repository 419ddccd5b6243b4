//! Defaults for the core (`v1`) group, plus the pod-template, volume, container and
//! resource-list defaulting that other groups reuse for their embedded pod templates.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ClientIPConfig, ConfigMap, Container, ContainerPort, ContainerStatus, EmptyDirVolumeSource,
    EndpointSubset, Endpoints, EnvVar, EphemeralContainer, Event, HTTPGetAction, Lifecycle,
    LimitRange, LimitRangeItem, Namespace, NamespaceStatus, Node, NodeStatus, ObjectFieldSelector,
    PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimSpec,
    PersistentVolumeClaimStatus, PersistentVolumeSpec, PersistentVolumeStatus, Pod,
    PodSecurityContext, PodSpec, PodTemplate, PodTemplateSpec, Probe, ReplicationController,
    ReplicationControllerSpec, ResourceQuota, ResourceRequirements, Secret, Service,
    ServiceAccount, ServiceSpec, SessionAffinityConfig, Volume, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{default_i32, default_ptr, default_str, default_str_ptr, len_zero, str_unset};

type ResourceList = BTreeMap<String, Quantity>;

/// Label every named namespace carries with its own name.
pub const LABEL_METADATA_NAME: &str = "kubernetes.io/metadata.name";

// ---------------------------------------------------------------------------------------------
// Resource lists
// ---------------------------------------------------------------------------------------------

/// Rounds every quantity up to milli precision and rewrites it in the form upstream
/// serializes (see [`super::round_up_to_milli_canonical`]). Values that do not parse are left
/// untouched.
pub(crate) fn resource_list(list: &mut Option<ResourceList>) {
    if let Some(list) = list {
        for q in list.values_mut() {
            if let Some(canon) = super::round_up_to_milli_canonical(&q.0) {
                q.0 = canon;
            }
        }
    }
}

fn resource_requirements(r: &mut Option<ResourceRequirements>) {
    if let Some(r) = r {
        resource_list(&mut r.limits);
        resource_list(&mut r.requests);
    }
}

fn volume_resource_requirements(r: &mut Option<VolumeResourceRequirements>) {
    if let Some(r) = r {
        resource_list(&mut r.limits);
        resource_list(&mut r.requests);
    }
}

// ---------------------------------------------------------------------------------------------
// Containers
// ---------------------------------------------------------------------------------------------

fn object_field_selector(f: &mut ObjectFieldSelector) {
    default_str(&mut f.api_version, "v1");
}

fn http_get(h: &mut HTTPGetAction) {
    default_str(&mut h.path, "/");
    default_str(&mut h.scheme, "HTTP");
}

fn probe(p: &mut Option<Probe>) {
    let Some(p) = p else { return };
    default_i32(&mut p.timeout_seconds, 1);
    default_i32(&mut p.period_seconds, 10);
    default_i32(&mut p.success_threshold, 1);
    default_i32(&mut p.failure_threshold, 3);
    if let Some(h) = &mut p.http_get {
        http_get(h);
    }
    if let Some(g) = &mut p.grpc {
        // `+default=""` on a pointer field: absent becomes an explicit empty string.
        default_str_ptr(&mut g.service, "");
    }
}

fn lifecycle(l: &mut Option<Lifecycle>) {
    let Some(l) = l else { return };
    for handler in [&mut l.post_start, &mut l.pre_stop].into_iter().flatten() {
        if let Some(h) = &mut handler.http_get {
            http_get(h);
        }
    }
}

fn container_ports(ports: &mut Option<Vec<ContainerPort>>) {
    for port in ports.iter_mut().flatten() {
        default_str(&mut port.protocol, "TCP");
    }
}

fn env(env: &mut Option<Vec<EnvVar>>) {
    for e in env.iter_mut().flatten() {
        if let Some(f) = e.value_from.as_mut().and_then(|v| v.field_ref.as_mut()) {
            object_field_selector(f);
        }
    }
}

fn image_pull_policy(image: &Option<String>, policy: &mut Option<String>) {
    if str_unset(policy) {
        *policy = Some(super::pull_policy_for_image(image.as_deref().unwrap_or("")).to_owned());
    }
}

/// Container and ephemeral container share every defaulted field name.
macro_rules! default_container_fields {
    ($c:expr) => {{
        let c = $c;
        image_pull_policy(&c.image, &mut c.image_pull_policy);
        default_str(&mut c.termination_message_path, "/dev/termination-log");
        default_str(&mut c.termination_message_policy, "File");
        container_ports(&mut c.ports);
        env(&mut c.env);
        resource_requirements(&mut c.resources);
        probe(&mut c.liveness_probe);
        probe(&mut c.readiness_probe);
        probe(&mut c.startup_probe);
        lifecycle(&mut c.lifecycle);
    }};
}

fn container(c: &mut Container) {
    default_container_fields!(c);
}

fn ephemeral_container(c: &mut EphemeralContainer) {
    default_container_fields!(c);
}

// ---------------------------------------------------------------------------------------------
// Volumes
// ---------------------------------------------------------------------------------------------

fn volume_has_source(v: &Volume) -> bool {
    v.aws_elastic_block_store.is_some()
        || v.azure_disk.is_some()
        || v.azure_file.is_some()
        || v.cephfs.is_some()
        || v.cinder.is_some()
        || v.config_map.is_some()
        || v.csi.is_some()
        || v.downward_api.is_some()
        || v.empty_dir.is_some()
        || v.ephemeral.is_some()
        || v.fc.is_some()
        || v.flex_volume.is_some()
        || v.flocker.is_some()
        || v.gce_persistent_disk.is_some()
        || v.git_repo.is_some()
        || v.glusterfs.is_some()
        || v.host_path.is_some()
        || v.image.is_some()
        || v.iscsi.is_some()
        || v.nfs.is_some()
        || v.persistent_volume_claim.is_some()
        || v.photon_persistent_disk.is_some()
        || v.portworx_volume.is_some()
        || v.projected.is_some()
        || v.quobyte.is_some()
        || v.rbd.is_some()
        || v.scale_io.is_some()
        || v.secret.is_some()
        || v.storageos.is_some()
        || v.vsphere_volume.is_some()
}

fn volume(v: &mut Volume) {
    if !volume_has_source(v) {
        v.empty_dir = Some(EmptyDirVolumeSource::default());
    }
    if let Some(h) = &mut v.host_path {
        default_str_ptr(&mut h.type_, "");
    }
    if let Some(s) = &mut v.secret {
        default_ptr(&mut s.default_mode, 0o644);
    }
    if let Some(i) = &mut v.iscsi {
        default_str(&mut i.iscsi_interface, "default");
    }
    if let Some(r) = &mut v.rbd {
        default_str(&mut r.pool, "rbd");
        default_str(&mut r.user, "admin");
        default_str(&mut r.keyring, "/etc/ceph/keyring");
    }
    if let Some(d) = &mut v.downward_api {
        default_ptr(&mut d.default_mode, 0o644);
        for item in d.items.iter_mut().flatten() {
            if let Some(f) = &mut item.field_ref {
                object_field_selector(f);
            }
        }
    }
    if let Some(c) = &mut v.config_map {
        default_ptr(&mut c.default_mode, 0o644);
    }
    if let Some(a) = &mut v.azure_disk {
        azure_disk(a);
    }
    if let Some(p) = &mut v.projected {
        default_ptr(&mut p.default_mode, 0o644);
        for src in p.sources.iter_mut().flatten() {
            if let Some(d) = &mut src.downward_api {
                for item in d.items.iter_mut().flatten() {
                    if let Some(f) = &mut item.field_ref {
                        object_field_selector(f);
                    }
                }
            }
            if let Some(t) = &mut src.service_account_token {
                default_ptr(&mut t.expiration_seconds, 3600);
            }
        }
    }
    if let Some(s) = &mut v.scale_io {
        default_str(&mut s.storage_mode, "ThinProvisioned");
        default_str(&mut s.fs_type, "xfs");
    }
    if let Some(t) = v
        .ephemeral
        .as_mut()
        .and_then(|e| e.volume_claim_template.as_mut())
    {
        persistent_volume_claim_spec(&mut t.spec);
    }
}

fn azure_disk(a: &mut k8s_openapi::api::core::v1::AzureDiskVolumeSource) {
    default_str_ptr(&mut a.caching_mode, "ReadWrite");
    default_str_ptr(&mut a.kind, "Shared");
    default_str_ptr(&mut a.fs_type, "ext4");
    default_ptr(&mut a.read_only, false);
}

// ---------------------------------------------------------------------------------------------
// Pod specs
// ---------------------------------------------------------------------------------------------

/// The `serviceAccount` / `serviceAccountName` pairing upstream's v1 conversion applies to
/// every pod spec: `serviceAccountName` wins when set, otherwise the deprecated
/// `serviceAccount` fills it; the deprecated field is then written back as a copy of
/// `serviceAccountName`. (Conversion rather than defaulting, but visible in every response.)
fn sync_service_account(spec: &mut PodSpec) {
    if str_unset(&spec.service_account_name) && !str_unset(&spec.service_account) {
        spec.service_account_name = spec.service_account.clone();
    }
    if !str_unset(&spec.service_account_name) {
        spec.service_account = spec.service_account_name.clone();
    } else {
        spec.service_account = None;
    }
}

/// Defaults applied to every pod spec, both in pods and in pod templates (upstream's
/// `SetDefaults_PodSpec` plus the generated recursion into volumes and containers).
pub(crate) fn pod_spec(spec: &mut PodSpec) {
    default_str(&mut spec.dns_policy, "ClusterFirst");
    default_str(&mut spec.restart_policy, "Always");
    default_ptr(&mut spec.security_context, PodSecurityContext::default());
    default_ptr(&mut spec.termination_grace_period_seconds, 30);
    default_str(&mut spec.scheduler_name, "default-scheduler");
    for v in spec.volumes.iter_mut().flatten() {
        volume(v);
    }
    for c in spec.init_containers.iter_mut().flatten() {
        container(c);
    }
    for c in spec.containers.iter_mut() {
        container(c);
    }
    for c in spec.ephemeral_containers.iter_mut().flatten() {
        ephemeral_container(c);
    }
    resource_list(&mut spec.overhead);
    resource_requirements(&mut spec.resources);
    sync_service_account(spec);
}

/// Defaults for a pod template (used by every workload kind). Upstream's template spec is a
/// plain struct, so an omitted spec is materialised and defaulted like an empty one.
pub(crate) fn pod_template_spec(t: &mut PodTemplateSpec) {
    pod_spec(t.spec.get_or_insert_with(Default::default));
}

/// Copies every limit into requests where the request is missing (pods only, not templates).
fn requests_from_limits(resources: &mut Option<ResourceRequirements>) {
    let Some(r) = resources else { return };
    let Some(limits) = &r.limits else { return };
    let missing: Vec<(String, Quantity)> = limits
        .iter()
        .filter(|(k, _)| r.requests.as_ref().is_none_or(|req| !req.contains_key(*k)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !missing.is_empty() {
        r.requests.get_or_insert_with(BTreeMap::new).extend(missing);
    }
}

fn host_network_ports(containers: &mut [Container]) {
    for c in containers {
        for p in c.ports.iter_mut().flatten() {
            if matches!(p.host_port, None | Some(0)) && p.container_port != 0 {
                p.host_port = Some(p.container_port);
            }
        }
    }
}

fn container_status_resources(statuses: &mut Option<Vec<ContainerStatus>>) {
    for s in statuses.iter_mut().flatten() {
        resource_list(&mut s.allocated_resources);
        resource_requirements(&mut s.resources);
    }
}

/// Pod defaults: the pod-only defaults (requests from limits, `enableServiceLinks`, host
/// ports under `hostNetwork`), then the pod-spec defaults.
pub fn pod(obj: &mut Pod) {
    let spec = obj.spec.get_or_insert_with(Default::default);
    for c in spec.containers.iter_mut() {
        requests_from_limits(&mut c.resources);
    }
    for c in spec.init_containers.iter_mut().flatten() {
        requests_from_limits(&mut c.resources);
    }
    default_ptr(&mut spec.enable_service_links, true);
    if spec.host_network == Some(true) {
        host_network_ports(&mut spec.containers);
        if let Some(init) = &mut spec.init_containers {
            host_network_ports(init);
        }
    }
    pod_spec(spec);
    if let Some(status) = &mut obj.status {
        container_status_resources(&mut status.init_container_statuses);
        container_status_resources(&mut status.container_statuses);
        container_status_resources(&mut status.ephemeral_container_statuses);
    }
}

/// PodTemplate defaults: pod-spec defaults for the template (no pod-only defaults).
pub fn pod_template(obj: &mut PodTemplate) {
    pod_template_spec(obj.template.get_or_insert_with(Default::default));
}

/// ReplicationController defaults: selector and object labels copied from the template's
/// labels when empty, one replica, and pod-spec defaults for the template.
pub fn replication_controller(obj: &mut ReplicationController) {
    let spec: &mut ReplicationControllerSpec = obj.spec.get_or_insert_with(Default::default);
    let labels = spec
        .template
        .as_ref()
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.clone())
        .filter(|l| !l.is_empty());
    if let Some(labels) = labels {
        if len_zero(&spec.selector) {
            spec.selector = Some(labels.clone());
        }
        if len_zero(&obj.metadata.labels) {
            obj.metadata.labels = Some(labels);
        }
    }
    default_ptr(&mut spec.replicas, 1);
    if let Some(t) = &mut spec.template {
        pod_template_spec(t);
    }
}

// ---------------------------------------------------------------------------------------------
// Services and endpoints
// ---------------------------------------------------------------------------------------------

/// Service defaults: `sessionAffinity: None` (which also clears `sessionAffinityConfig`, as
/// upstream does) or a 10800s ClientIP timeout, `type: ClusterIP`, port `protocol: TCP` and
/// `targetPort` = `port`, `externalTrafficPolicy: Cluster` for externally reachable services,
/// `internalTrafficPolicy: Cluster` for ClusterIP/NodePort/LoadBalancer,
/// `allocateLoadBalancerNodePorts: true` and status ingress `ipMode: VIP` for LoadBalancers.
///
/// Not done here because upstream does it in the service REST storage rather than in scheme
/// defaulting: cluster IP and node port allocation, and `ipFamilies` / `ipFamilyPolicy`.
pub fn service(obj: &mut Service) {
    let spec: &mut ServiceSpec = obj.spec.get_or_insert_with(Default::default);
    default_str(&mut spec.session_affinity, "None");
    match spec.session_affinity.as_deref() {
        Some("None") => spec.session_affinity_config = None,
        Some("ClientIP") => {
            let has_timeout = spec
                .session_affinity_config
                .as_ref()
                .and_then(|c| c.client_ip.as_ref())
                .is_some_and(|c| c.timeout_seconds.is_some());
            if !has_timeout {
                spec.session_affinity_config = Some(SessionAffinityConfig {
                    client_ip: Some(ClientIPConfig {
                        timeout_seconds: Some(10800),
                    }),
                });
            }
        }
        _ => {}
    }
    default_str(&mut spec.type_, "ClusterIP");
    for port in spec.ports.iter_mut().flatten() {
        default_str(&mut port.protocol, "TCP");
        let unset = match &port.target_port {
            None => true,
            Some(IntOrString::Int(0)) => true,
            Some(IntOrString::String(s)) => s.is_empty(),
            Some(IntOrString::Int(_)) => false,
        };
        if unset {
            port.target_port = Some(IntOrString::Int(port.port));
        }
    }
    let ty = spec.type_.clone().unwrap_or_default();
    let externally_accessible = ty == "LoadBalancer"
        || ty == "NodePort"
        || (ty == "ClusterIP" && !len_zero(&spec.external_ips));
    if externally_accessible {
        default_str(&mut spec.external_traffic_policy, "Cluster");
    }
    if spec.internal_traffic_policy.is_none()
        && matches!(ty.as_str(), "NodePort" | "LoadBalancer" | "ClusterIP")
    {
        spec.internal_traffic_policy = Some("Cluster".to_owned());
    }
    if ty == "LoadBalancer" {
        default_ptr(&mut spec.allocate_load_balancer_node_ports, true);
        let ingress = obj
            .status
            .as_mut()
            .and_then(|s| s.load_balancer.as_mut())
            .and_then(|lb| lb.ingress.as_mut());
        for ing in ingress.into_iter().flatten() {
            if !str_unset(&ing.ip) && ing.ip_mode.is_none() {
                ing.ip_mode = Some("VIP".to_owned());
            }
        }
    }
}

fn endpoint_subset(s: &mut EndpointSubset) {
    for p in s.ports.iter_mut().flatten() {
        default_str(&mut p.protocol, "TCP");
    }
}

/// Endpoints defaults: every port's protocol defaults to TCP.
pub fn endpoints(obj: &mut Endpoints) {
    for s in obj.subsets.iter_mut().flatten() {
        endpoint_subset(s);
    }
}

// ---------------------------------------------------------------------------------------------
// Namespaces, nodes, config
// ---------------------------------------------------------------------------------------------

/// Namespace defaults: the `kubernetes.io/metadata.name` label is set to the name (always
/// overwritten, as upstream does; skipped while the name is still empty, e.g. with
/// `generateName` — upstream's namespace strategy sets it again after name generation) and
/// `status.phase` defaults to `Active`. (`spec.finalizers` is set by the namespace strategy,
/// not by defaulting.)
pub fn namespace(obj: &mut Namespace) {
    if let Some(name) = obj.metadata.name.clone().filter(|n| !n.is_empty()) {
        obj.metadata
            .labels
            .get_or_insert_with(BTreeMap::new)
            .insert(LABEL_METADATA_NAME.to_owned(), name);
    }
    let status: &mut NamespaceStatus = obj.status.get_or_insert_with(Default::default);
    default_str(&mut status.phase, "Active");
}

/// Node defaults: `status.allocatable` copies `status.capacity` when absent; resource lists
/// are rounded.
pub fn node(obj: &mut Node) {
    if let Some(status) = &mut obj.status {
        node_status(status);
    }
}

fn node_status(status: &mut NodeStatus) {
    if status.allocatable.is_none()
        && let Some(cap) = &status.capacity
    {
        status.allocatable = Some(cap.clone());
    }
    resource_list(&mut status.capacity);
    resource_list(&mut status.allocatable);
}

/// ConfigMap: upstream initialises `data` to an empty map, which is omitted from every
/// response, so there is nothing observable to do.
pub fn config_map(_obj: &mut ConfigMap) {}

/// Secret defaults: `type: Opaque`.
pub fn secret(obj: &mut Secret) {
    default_str(&mut obj.type_, "Opaque");
    // `stringData` is write-only: its entries replace those of `data` (upstream's conversion)
    if let Some(strings) = obj.string_data.take() {
        let data = obj.data.get_or_insert_with(Default::default);
        for (k, v) in strings {
            data.insert(k, k8s_openapi::ByteString(v.into_bytes()));
        }
    }
}

/// ServiceAccount: upstream has no defaults for this kind.
pub fn service_account(_obj: &mut ServiceAccount) {}

/// Event (core/v1): upstream has no defaults for this kind.
pub fn event(_obj: &mut Event) {}

fn limit_range_item(item: &mut LimitRangeItem) {
    if item.type_ == "Container" {
        let mut default = item.default.clone().unwrap_or_default();
        for (k, v) in item.max.iter().flatten() {
            default.entry(k.clone()).or_insert_with(|| v.clone());
        }
        let mut default_request = item.default_request.clone().unwrap_or_default();
        for (k, v) in default.iter().chain(item.min.iter().flatten()) {
            default_request
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
        // Upstream creates the maps even when empty; empty maps are omitted on the wire.
        if !default.is_empty() {
            item.default = Some(default);
        }
        if !default_request.is_empty() {
            item.default_request = Some(default_request);
        }
    }
    resource_list(&mut item.max);
    resource_list(&mut item.min);
    resource_list(&mut item.default);
    resource_list(&mut item.default_request);
    resource_list(&mut item.max_limit_request_ratio);
}

/// LimitRange defaults: for `Container` items, `default` falls back to `max` and
/// `defaultRequest` to `default` then `min`; resource lists are rounded.
pub fn limit_range(obj: &mut LimitRange) {
    if let Some(spec) = &mut obj.spec {
        for item in spec.limits.iter_mut() {
            limit_range_item(item);
        }
    }
}

/// ResourceQuota defaults: resource lists are rounded.
pub fn resource_quota(obj: &mut ResourceQuota) {
    if let Some(spec) = &mut obj.spec {
        resource_list(&mut spec.hard);
    }
    if let Some(status) = &mut obj.status {
        resource_list(&mut status.hard);
        resource_list(&mut status.used);
    }
}

// ---------------------------------------------------------------------------------------------
// Persistent volumes and claims
// ---------------------------------------------------------------------------------------------

fn persistent_volume_claim_spec(spec: &mut PersistentVolumeClaimSpec) {
    default_str_ptr(&mut spec.volume_mode, "Filesystem");
    volume_resource_requirements(&mut spec.resources);
}

/// The volume-source and capacity defaults of a persistent volume spec (shared with
/// VolumeAttachment's inline volume spec; `volumeMode` and the reclaim policy are
/// PersistentVolume-only).
pub(crate) fn persistent_volume_spec_sources(spec: &mut PersistentVolumeSpec) {
    resource_list(&mut spec.capacity);
    if let Some(h) = &mut spec.host_path {
        default_str_ptr(&mut h.type_, "");
    }
    if let Some(r) = &mut spec.rbd {
        default_str(&mut r.pool, "rbd");
        default_str(&mut r.user, "admin");
        default_str(&mut r.keyring, "/etc/ceph/keyring");
    }
    if let Some(i) = &mut spec.iscsi {
        default_str(&mut i.iscsi_interface, "default");
    }
    if let Some(a) = &mut spec.azure_disk {
        azure_disk(a);
    }
    if let Some(s) = &mut spec.scale_io {
        default_str(&mut s.storage_mode, "ThinProvisioned");
        default_str(&mut s.fs_type, "xfs");
    }
}

/// PersistentVolume defaults: `status.phase: Pending`, `persistentVolumeReclaimPolicy:
/// Retain`, `volumeMode: Filesystem`, volume-source defaults, capacity rounding.
pub fn persistent_volume(obj: &mut PersistentVolume) {
    let status: &mut PersistentVolumeStatus = obj.status.get_or_insert_with(Default::default);
    default_str(&mut status.phase, "Pending");
    let spec = obj.spec.get_or_insert_with(Default::default);
    default_str(&mut spec.persistent_volume_reclaim_policy, "Retain");
    default_str_ptr(&mut spec.volume_mode, "Filesystem");
    persistent_volume_spec_sources(spec);
}

/// PersistentVolumeClaim defaults: `status.phase: Pending`, `spec.volumeMode: Filesystem`,
/// resource lists rounded. Also applied to StatefulSet `volumeClaimTemplates`.
pub fn persistent_volume_claim(obj: &mut PersistentVolumeClaim) {
    let status: &mut PersistentVolumeClaimStatus = obj.status.get_or_insert_with(Default::default);
    default_str(&mut status.phase, "Pending");
    resource_list(&mut status.capacity);
    resource_list(&mut status.allocated_resources);
    persistent_volume_claim_spec(obj.spec.get_or_insert_with(Default::default));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults::testutil::{assert_idempotent, from_json, to_json};
    use serde_json::json;

    #[test]
    fn minimal_pod_gets_every_default() {
        let mut p: Pod = from_json(json!({
            "metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}
        }));
        pod(&mut p);
        assert_eq!(
            to_json(&p)["spec"],
            json!({
                "containers": [{
                    "name": "c",
                    "image": "nginx",
                    "imagePullPolicy": "Always",
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File"
                }],
                "dnsPolicy": "ClusterFirst",
                "enableServiceLinks": true,
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
                "securityContext": {},
                "terminationGracePeriodSeconds": 30
            })
        );
    }

    #[test]
    fn pull_policy_follows_tag() {
        let mut p: Pod = from_json(json!({
            "metadata": {"name": "p"},
            "spec": {
                "containers": [
                    {"name": "a", "image": "nginx"},
                    {"name": "b", "image": "nginx:1.2"},
                    {"name": "c", "image": "nginx:latest"},
                    {"name": "d", "image": "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
                    {"name": "e", "image": "nginx", "imagePullPolicy": "Never"}
                ]
            }
        }));
        pod(&mut p);
        let got: Vec<_> = p
            .spec
            .unwrap()
            .containers
            .into_iter()
            .map(|c| c.image_pull_policy.unwrap())
            .collect();
        assert_eq!(
            got,
            ["Always", "IfNotPresent", "Always", "IfNotPresent", "Never"]
        );
    }

    #[test]
    fn limits_are_copied_to_requests_in_pods_only() {
        let spec = json!({
            "initContainers": [{"name": "i", "image": "busybox:1", "resources": {"limits": {"cpu": "500m"}}}],
            "containers": [{"name": "c", "image": "nginx:1",
                "resources": {"limits": {"cpu": "1", "memory": "1024Mi"}, "requests": {"cpu": "100m"}}}]
        });
        let mut p: Pod = from_json(json!({"metadata": {"name": "p"}, "spec": spec.clone()}));
        pod(&mut p);
        let j = to_json(&p);
        assert_eq!(
            j["spec"]["containers"][0]["resources"],
            json!({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "1Gi"}})
        );
        assert_eq!(
            j["spec"]["initContainers"][0]["resources"],
            json!({"limits": {"cpu": "500m"}, "requests": {"cpu": "500m"}})
        );

        let mut t: PodTemplate =
            from_json(json!({"metadata": {"name": "t"}, "template": {"spec": spec}}));
        pod_template(&mut t);
        let j = to_json(&t);
        assert_eq!(
            j["template"]["spec"]["containers"][0]["resources"],
            json!({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "100m"}})
        );
        assert_eq!(
            j["template"]["spec"]["initContainers"][0]["resources"],
            json!({"limits": {"cpu": "500m"}})
        );
        assert!(j["template"]["spec"].get("enableServiceLinks").is_none());
    }

    #[test]
    fn probes_lifecycle_ports_env_and_ephemeral_containers() {
        let mut p: Pod = from_json(json!({
            "metadata": {"name": "p"},
            "spec": {
                "containers": [{
                    "name": "c", "image": "app:v1",
                    "ports": [{"containerPort": 8080}, {"containerPort": 53, "protocol": "UDP"}],
                    "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                    "livenessProbe": {"httpGet": {"port": 8080}},
                    "readinessProbe": {"grpc": {"port": 9000}, "periodSeconds": 5},
                    "startupProbe": {"tcpSocket": {"port": 8080}, "failureThreshold": 30},
                    "lifecycle": {"preStop": {"httpGet": {"port": "http", "path": "/quit"}}, "postStart": {"exec": {"command": ["true"]}}}
                }],
                "ephemeralContainers": [{"name": "dbg", "image": "busybox",
                    "readinessProbe": {"exec": {"command": ["true"]}}}]
            }
        }));
        pod(&mut p);
        let j = to_json(&p);
        let c = &j["spec"]["containers"][0];
        assert_eq!(
            c["ports"],
            json!([
                {"containerPort": 8080, "protocol": "TCP"},
                {"containerPort": 53, "protocol": "UDP"}
            ])
        );
        assert_eq!(
            c["env"][0]["valueFrom"]["fieldRef"],
            json!({"apiVersion": "v1", "fieldPath": "spec.nodeName"})
        );
        assert_eq!(
            c["livenessProbe"],
            json!({
                "httpGet": {"path": "/", "port": 8080, "scheme": "HTTP"},
                "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3
            })
        );
        assert_eq!(
            c["readinessProbe"],
            json!({
                "grpc": {"port": 9000, "service": ""},
                "timeoutSeconds": 1, "periodSeconds": 5, "successThreshold": 1, "failureThreshold": 3
            })
        );
        assert_eq!(c["startupProbe"]["failureThreshold"], json!(30));
        assert_eq!(
            c["lifecycle"]["preStop"]["httpGet"],
            json!({"path": "/quit", "port": "http", "scheme": "HTTP"})
        );
        assert_eq!(
            c["lifecycle"]["postStart"],
            json!({"exec": {"command": ["true"]}})
        );
        let e = &j["spec"]["ephemeralContainers"][0];
        assert_eq!(e["imagePullPolicy"], json!("Always"));
        assert_eq!(e["terminationMessagePath"], json!("/dev/termination-log"));
        assert_eq!(e["terminationMessagePolicy"], json!("File"));
        assert_eq!(e["readinessProbe"]["timeoutSeconds"], json!(1));
    }

    #[test]
    fn host_network_copies_container_ports_to_host_ports() {
        let mut p: Pod = from_json(json!({
            "metadata": {"name": "p"},
            "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "x:1",
                "ports": [{"containerPort": 80}, {"containerPort": 81, "hostPort": 9081}]}],
                "initContainers": [{"name": "i", "image": "x:1", "ports": [{"containerPort": 7}]}]}
        }));
        pod(&mut p);
        let j = to_json(&p);
        assert_eq!(
            j["spec"]["containers"][0]["ports"][0]["hostPort"],
            json!(80)
        );
        assert_eq!(
            j["spec"]["containers"][0]["ports"][1]["hostPort"],
            json!(9081)
        );
        assert_eq!(
            j["spec"]["initContainers"][0]["ports"][0]["hostPort"],
            json!(7)
        );

        // Not for templates.
        let mut t: PodTemplate = from_json(
            json!({"metadata": {"name": "t"}, "template": {"spec": {"hostNetwork": true,
            "containers": [{"name": "c", "image": "x:1", "ports": [{"containerPort": 80}]}]}}}),
        );
        pod_template(&mut t);
        assert!(
            to_json(&t)["template"]["spec"]["containers"][0]["ports"][0]
                .get("hostPort")
                .is_none()
        );
    }

    #[test]
    fn volume_defaults() {
        let mut p: Pod = from_json(json!({
            "metadata": {"name": "p"},
            "spec": {
                "containers": [{"name": "c", "image": "x:1"}],
                "volumes": [
                    {"name": "empty"},
                    {"name": "cm", "configMap": {"name": "cm"}},
                    {"name": "sec", "secret": {"secretName": "s"}},
                    {"name": "sec2", "secret": {"secretName": "s", "defaultMode": 256}},
                    {"name": "hp", "hostPath": {"path": "/var"}},
                    {"name": "dapi", "downwardAPI": {"items": [{"path": "l", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
                    {"name": "proj", "projected": {"sources": [
                        {"serviceAccountToken": {"path": "token"}},
                        {"downwardAPI": {"items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.name"}}]}}
                    ]}},
                    {"name": "eph", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1024Mi"}}}}}},
                    {"name": "rbd", "rbd": {"monitors": ["m"], "image": "i"}},
                    {"name": "iscsi", "iscsi": {"targetPortal": "t", "iqn": "q", "lun": 0}},
                    {"name": "az", "azureDisk": {"diskName": "d", "diskURI": "u"}},
                    {"name": "sio", "scaleIO": {"gateway": "g", "system": "s", "secretRef": {"name": "x"}}}
                ]
            }
        }));
        pod(&mut p);
        let v = to_json(&p)["spec"]["volumes"].clone();
        assert_eq!(v[0], json!({"name": "empty", "emptyDir": {}}));
        assert_eq!(
            v[1],
            json!({"name": "cm", "configMap": {"name": "cm", "defaultMode": 420}})
        );
        assert_eq!(
            v[2],
            json!({"name": "sec", "secret": {"secretName": "s", "defaultMode": 420}})
        );
        assert_eq!(v[3]["secret"]["defaultMode"], json!(256));
        assert_eq!(
            v[4],
            json!({"name": "hp", "hostPath": {"path": "/var", "type": ""}})
        );
        assert_eq!(
            v[5]["downwardAPI"],
            json!({"defaultMode": 420,
            "items": [{"path": "l", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.labels"}}]})
        );
        assert_eq!(
            v[6]["projected"],
            json!({"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}},
                {"downwardAPI": {"items": [{"path": "n", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}]}}
            ]})
        );
        assert_eq!(
            v[7]["ephemeral"]["volumeClaimTemplate"]["spec"],
            json!({"accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}}, "volumeMode": "Filesystem"})
        );
        assert_eq!(
            v[8]["rbd"],
            json!({"monitors": ["m"], "image": "i", "pool": "rbd", "user": "admin",
            "keyring": "/etc/ceph/keyring"})
        );
        assert_eq!(v[9]["iscsi"]["iscsiInterface"], json!("default"));
        assert_eq!(
            v[10]["azureDisk"],
            json!({"diskName": "d", "diskURI": "u", "cachingMode": "ReadWrite",
            "fsType": "ext4", "readOnly": false, "kind": "Shared"})
        );
        assert_eq!(v[11]["scaleIO"]["storageMode"], json!("ThinProvisioned"));
        assert_eq!(v[11]["scaleIO"]["fsType"], json!("xfs"));
    }

    #[test]
    fn service_account_alias_is_synced() {
        let mut p: Pod = from_json(json!({"metadata": {"name": "p"},
            "spec": {"serviceAccount": "legacy", "containers": [{"name": "c", "image": "x:1"}]}}));
        pod(&mut p);
        let s = p.spec.as_ref().unwrap();
        assert_eq!(s.service_account_name.as_deref(), Some("legacy"));
        assert_eq!(s.service_account.as_deref(), Some("legacy"));

        let mut p: Pod = from_json(json!({"metadata": {"name": "p"},
            "spec": {"serviceAccount": "old", "serviceAccountName": "new", "containers": [{"name": "c", "image": "x:1"}]}}));
        pod(&mut p);
        let s = p.spec.as_ref().unwrap();
        assert_eq!(s.service_account_name.as_deref(), Some("new"));
        assert_eq!(s.service_account.as_deref(), Some("new"));

        let mut p: Pod = from_json(json!({"metadata": {"name": "p"},
            "spec": {"serviceAccountName": "sa", "containers": [{"name": "c", "image": "x:1"}]}}));
        pod(&mut p);
        assert_eq!(
            p.spec.as_ref().unwrap().service_account.as_deref(),
            Some("sa")
        );
    }

    #[test]
    fn client_values_win() {
        let input = json!({
            "metadata": {"name": "p"},
            "spec": {
                "dnsPolicy": "Default", "restartPolicy": "Never", "schedulerName": "mine",
                "terminationGracePeriodSeconds": 0, "enableServiceLinks": false,
                "securityContext": {"runAsUser": 1000},
                "containers": [{"name": "c", "image": "nginx", "imagePullPolicy": "IfNotPresent",
                    "terminationMessagePath": "/tmp/x", "terminationMessagePolicy": "FallbackToLogsOnError"}]
            }
        });
        let mut p: Pod = from_json(input.clone());
        pod(&mut p);
        let j = to_json(&p);
        for key in [
            "dnsPolicy",
            "restartPolicy",
            "schedulerName",
            "terminationGracePeriodSeconds",
            "enableServiceLinks",
            "securityContext",
        ] {
            assert_eq!(j["spec"][key], input["spec"][key], "{key}");
        }
        assert_eq!(j["spec"]["containers"], input["spec"]["containers"]);
    }

    #[test]
    fn service_with_port_80() {
        let mut s: Service = from_json(json!({
            "metadata": {"name": "s"},
            "spec": {"selector": {"app": "a"}, "ports": [{"port": 80}]}
        }));
        service(&mut s);
        assert_eq!(
            to_json(&s)["spec"],
            json!({
                "selector": {"app": "a"},
                "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
                "type": "ClusterIP",
                "sessionAffinity": "None",
                "internalTrafficPolicy": "Cluster"
            })
        );
    }

    #[test]
    fn load_balancer_and_client_ip_services() {
        let mut s: Service = from_json(json!({
            "metadata": {"name": "s"},
            "spec": {"type": "LoadBalancer", "sessionAffinity": "ClientIP",
                "ports": [{"port": 443, "targetPort": "https", "protocol": "TCP"}, {"port": 53, "protocol": "UDP", "targetPort": 0}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}, {"hostname": "lb.example.com"}, {"ip": "5.6.7.8", "ipMode": "Proxy"}]}}
        }));
        service(&mut s);
        let j = to_json(&s);
        assert_eq!(
            j["spec"]["ports"],
            json!([
                {"port": 443, "protocol": "TCP", "targetPort": "https"},
                {"port": 53, "protocol": "UDP", "targetPort": 53}
            ])
        );
        assert_eq!(
            j["spec"]["sessionAffinityConfig"],
            json!({"clientIP": {"timeoutSeconds": 10800}})
        );
        assert_eq!(j["spec"]["externalTrafficPolicy"], json!("Cluster"));
        assert_eq!(j["spec"]["internalTrafficPolicy"], json!("Cluster"));
        assert_eq!(j["spec"]["allocateLoadBalancerNodePorts"], json!(true));
        assert_eq!(
            j["status"]["loadBalancer"]["ingress"],
            json!([
                {"ip": "1.2.3.4", "ipMode": "VIP"}, {"hostname": "lb.example.com"}, {"ip": "5.6.7.8", "ipMode": "Proxy"}
            ])
        );
    }

    #[test]
    fn external_name_and_external_ips_services() {
        let mut s: Service = from_json(json!({"metadata": {"name": "s"},
            "spec": {"type": "ExternalName", "externalName": "example.com",
                "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 5}}}}));
        service(&mut s);
        let j = to_json(&s);
        assert!(j["spec"].get("internalTrafficPolicy").is_none());
        assert!(j["spec"].get("externalTrafficPolicy").is_none());
        // sessionAffinity None clears any config, as upstream does.
        assert!(j["spec"].get("sessionAffinityConfig").is_none());

        let mut s: Service = from_json(json!({"metadata": {"name": "s"},
            "spec": {"externalIPs": ["10.0.0.1"], "ports": [{"port": 80}]}}));
        service(&mut s);
        assert_eq!(
            to_json(&s)["spec"]["externalTrafficPolicy"],
            json!("Cluster")
        );
    }

    #[test]
    fn namespace_label_and_phase() {
        let mut ns: Namespace = from_json(
            json!({"metadata": {"name": "team-a", "labels": {"kubernetes.io/metadata.name": "spoof", "x": "y"}}}),
        );
        namespace(&mut ns);
        let j = to_json(&ns);
        assert_eq!(
            j["metadata"]["labels"],
            json!({"kubernetes.io/metadata.name": "team-a", "x": "y"})
        );
        assert_eq!(j["status"], json!({"phase": "Active"}));

        let mut ns: Namespace = from_json(json!({"metadata": {"generateName": "gen-"}}));
        namespace(&mut ns);
        assert!(to_json(&ns)["metadata"].get("labels").is_none());
    }

    #[test]
    fn node_allocatable_from_capacity() {
        let mut n: Node = from_json(json!({"metadata": {"name": "n"},
            "status": {"capacity": {"cpu": "4", "memory": "8192Mi", "pods": "110"}}}));
        node(&mut n);
        let j = to_json(&n);
        assert_eq!(
            j["status"]["capacity"],
            json!({"cpu": "4", "memory": "8Gi", "pods": "110"})
        );
        assert_eq!(j["status"]["allocatable"], j["status"]["capacity"]);
    }

    #[test]
    fn secret_type_and_endpoints_protocol() {
        let mut s: Secret = from_json(json!({"metadata": {"name": "s"}}));
        secret(&mut s);
        assert_eq!(s.type_.as_deref(), Some("Opaque"));
        let mut s: Secret =
            from_json(json!({"metadata": {"name": "s"}, "type": "kubernetes.io/tls"}));
        secret(&mut s);
        assert_eq!(s.type_.as_deref(), Some("kubernetes.io/tls"));

        let mut e: Endpoints = from_json(json!({"metadata": {"name": "e"},
            "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}]}));
        endpoints(&mut e);
        assert_eq!(
            to_json(&e)["subsets"][0]["ports"],
            json!([{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}])
        );
    }

    #[test]
    fn limit_range_container_defaults() {
        let mut lr: LimitRange = from_json(json!({"metadata": {"name": "l"}, "spec": {"limits": [
            {"type": "Container", "max": {"cpu": "2", "memory": "1Gi"}, "min": {"cpu": "100u", "ephemeral-storage": "1Gi"},
             "default": {"cpu": "1"}},
            {"type": "Pod", "max": {"cpu": "4"}}
        ]}}));
        limit_range(&mut lr);
        let j = to_json(&lr);
        assert_eq!(
            j["spec"]["limits"][0],
            json!({
                "type": "Container",
                "max": {"cpu": "2", "memory": "1Gi"},
                "min": {"cpu": "1m", "ephemeral-storage": "1Gi"},
                "default": {"cpu": "1", "memory": "1Gi"},
                "defaultRequest": {"cpu": "1", "memory": "1Gi", "ephemeral-storage": "1Gi"}
            })
        );
        assert_eq!(
            j["spec"]["limits"][1],
            json!({"type": "Pod", "max": {"cpu": "4"}})
        );
    }

    #[test]
    fn resource_quota_rounding() {
        let mut q: ResourceQuota = from_json(json!({"metadata": {"name": "q"},
            "spec": {"hard": {"cpu": "1000m", "requests.memory": "2048Mi", "pods": "10"}},
            "status": {"used": {"cpu": "0.5"}}}));
        resource_quota(&mut q);
        let j = to_json(&q);
        assert_eq!(
            j["spec"]["hard"],
            json!({"cpu": "1", "requests.memory": "2Gi", "pods": "10"})
        );
        assert_eq!(j["status"]["used"], json!({"cpu": "500m"}));
    }

    #[test]
    fn persistent_volume_and_claim() {
        let mut pv: PersistentVolume = from_json(json!({"metadata": {"name": "pv"},
            "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/data"}}}));
        persistent_volume(&mut pv);
        let j = to_json(&pv);
        assert_eq!(j["spec"]["persistentVolumeReclaimPolicy"], json!("Retain"));
        assert_eq!(j["spec"]["volumeMode"], json!("Filesystem"));
        assert_eq!(j["spec"]["hostPath"], json!({"path": "/data", "type": ""}));
        assert_eq!(j["status"], json!({"phase": "Pending"}));

        let mut pvc: PersistentVolumeClaim = from_json(json!({"metadata": {"name": "c"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1G"}}, "volumeMode": "Block"}}));
        persistent_volume_claim(&mut pvc);
        let j = to_json(&pvc);
        assert_eq!(j["spec"]["volumeMode"], json!("Block"));
        assert_eq!(j["status"], json!({"phase": "Pending"}));

        let mut pvc: PersistentVolumeClaim = from_json(json!({"metadata": {"name": "c"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1G"}}}}));
        persistent_volume_claim(&mut pvc);
        assert_eq!(to_json(&pvc)["spec"]["volumeMode"], json!("Filesystem"));
    }

    #[test]
    fn replication_controller_defaults() {
        let mut rc: ReplicationController = from_json(json!({"metadata": {"name": "rc"},
            "spec": {"template": {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}}));
        replication_controller(&mut rc);
        let j = to_json(&rc);
        assert_eq!(j["metadata"]["labels"], json!({"app": "a"}));
        assert_eq!(j["spec"]["selector"], json!({"app": "a"}));
        assert_eq!(j["spec"]["replicas"], json!(1));
        assert_eq!(
            j["spec"]["template"]["spec"]["restartPolicy"],
            json!("Always")
        );
        assert_eq!(
            j["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
            json!("Always")
        );

        let mut rc: ReplicationController = from_json(
            json!({"metadata": {"name": "rc", "labels": {"own": "x"}},
            "spec": {"replicas": 0, "selector": {"app": "a"}, "template": {"metadata": {"labels": {"app": "a", "tier": "t"}},
            "spec": {"containers": [{"name": "c", "image": "x"}]}}}}),
        );
        replication_controller(&mut rc);
        let j = to_json(&rc);
        assert_eq!(j["metadata"]["labels"], json!({"own": "x"}));
        assert_eq!(j["spec"]["selector"], json!({"app": "a"}));
        assert_eq!(j["spec"]["replicas"], json!(0));
    }

    #[test]
    fn idempotent() {
        let p: Pod = from_json(
            json!({"metadata": {"name": "p"}, "spec": {"hostNetwork": true, "serviceAccount": "x",
            "containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}],
            "resources": {"limits": {"cpu": "100u", "memory": "1.5Gi"}}, "livenessProbe": {"httpGet": {"port": 80}}}],
            "volumes": [{"name": "v"}, {"name": "s", "secret": {"secretName": "s"}}]}}),
        );
        assert_idempotent(&p, pod);
        let s: Service = from_json(
            json!({"metadata": {"name": "s"}, "spec": {"type": "LoadBalancer",
            "sessionAffinity": "ClientIP", "ports": [{"port": 80}]}, "status": {"loadBalancer": {"ingress": [{"ip": "1.1.1.1"}]}}}),
        );
        assert_idempotent(&s, service);
        let ns: Namespace = from_json(json!({"metadata": {"name": "n"}}));
        assert_idempotent(&ns, namespace);
        let lr: LimitRange = from_json(
            json!({"metadata": {"name": "l"}, "spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}}]}}),
        );
        assert_idempotent(&lr, limit_range);
        let pv: PersistentVolume = from_json(
            json!({"metadata": {"name": "pv"}, "spec": {"azureDisk": {"diskName": "d", "diskURI": "u"}}}),
        );
        assert_idempotent(&pv, persistent_volume);
        let rc: ReplicationController = from_json(json!({"metadata": {"name": "rc"},
            "spec": {"template": {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}}));
        assert_idempotent(&rc, replication_controller);
    }
}
