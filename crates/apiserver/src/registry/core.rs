//! The core group (`/api/v1`): pods, services, namespaces, nodes, config and storage objects.

use apimachinery::ResourceInfo;
use k8s_openapi::api::core::v1 as api;

use super::{NameRule, Registry, Resource, Strategy, parts};

parts!(spec, status: api::Pod, api::Service, api::Namespace, api::Node, api::PersistentVolume,
    api::PersistentVolumeClaim, api::ReplicationController, api::ResourceQuota);
parts!(spec: api::LimitRange);
parts!(data: api::ConfigMap, api::Secret, api::ServiceAccount, api::Endpoints, api::Event, api::PodTemplate);

fn core(kind: &str, plural: &str, namespaced: bool) -> ResourceInfo {
    ResourceInfo::new("", "v1", kind, plural, namespaced)
}

/// pods
pub struct Pods;
impl Strategy for Pods {
    type K = api::Pod;
    fn prepare_for_create(&self, p: &mut api::Pod) {
        // a new pod is Pending, with the QoS class its resources give it
        let qos = qos_class(p);
        p.status = Some(api::PodStatus { phase: Some("Pending".into()), qos_class: Some(qos.into()), ..Default::default() });
    }
    fn validate(&self, o: &api::Pod) -> apimachinery::ErrorList {
        crate::validation::pod(o)
    }
    fn validate_update(&self, new: &api::Pod, old: &api::Pod) -> apimachinery::ErrorList {
        crate::validation::pod_update(new, old)
    }
    fn validate_status_update(&self, new: &api::Pod, old: &api::Pod) -> apimachinery::ErrorList {
        crate::validation::pod_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::Pod) {
        crate::defaults::core::pod(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::core::pod_columns()
    }
    fn cells(&self, o: &api::Pod, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::pod_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        core("Pod", "pods", true).short(&["po"]).categories(&["all"])
    }
    fn field_labels(&self) -> &'static [&'static str] {
        &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        ]
    }
    fn field_values(&self, p: &api::Pod) -> Vec<String> {
        let spec = p.spec.as_ref();
        let status = p.status.as_ref();
        vec![
            spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
            spec.and_then(|s| s.restart_policy.clone()).unwrap_or_default(),
            spec.and_then(|s| s.scheduler_name.clone()).unwrap_or_default(),
            spec.and_then(|s| s.service_account_name.clone()).unwrap_or_default(),
            spec.and_then(|s| s.host_network).unwrap_or(false).to_string(),
            status.and_then(|s| s.phase.clone()).unwrap_or_default(),
            status.and_then(|s| s.pod_ip.clone()).unwrap_or_default(),
            status
                .and_then(|s| s.pod_ips.as_ref())
                .and_then(|ips| ips.first())
                .map(|ip| ip.ip.clone())
                .unwrap_or_default(),
            status.and_then(|s| s.nominated_node_name.clone()).unwrap_or_default(),
        ]
    }
}

/// services
pub struct Services;
impl Strategy for Services {
    type K = api::Service;
    fn prepare_for_create(&self, o: &mut api::Service) {
        o.status = None;
        crate::validation::normalize_service_create(o);
    }
    fn prepare_for_update(&self, new: &mut api::Service, old: &api::Service) {
        new.status = old.status.clone();
        crate::validation::normalize_service_update(new, old);
    }
    fn validate(&self, o: &api::Service) -> apimachinery::ErrorList {
        crate::validation::service(o)
    }
    fn validate_update(&self, new: &api::Service, old: &api::Service) -> apimachinery::ErrorList {
        crate::validation::service_update(new, old)
    }
    fn validate_status_update(&self, new: &api::Service, old: &api::Service) -> apimachinery::ErrorList {
        crate::validation::service_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::Service) {
        crate::defaults::core::service(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::core::service_columns()
    }
    fn cells(&self, o: &api::Service, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::service_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        core("Service", "services", true).short(&["svc"]).categories(&["all"])
    }
    fn storage_segment(&self) -> String {
        "services/specs".into()
    }
    fn name_rule(&self) -> NameRule {
        NameRule::Dns1035
    }
    fn field_labels(&self) -> &'static [&'static str] {
        &["spec.clusterIP", "spec.type"]
    }
    fn field_values(&self, s: &api::Service) -> Vec<String> {
        let spec = s.spec.as_ref();
        vec![
            spec.and_then(|s| s.cluster_ip.clone()).unwrap_or_default(),
            spec.and_then(|s| s.type_.clone()).unwrap_or_default(),
        ]
    }
}

/// namespaces
pub struct Namespaces;
impl Strategy for Namespaces {
    type K = api::Namespace;
    fn validate(&self, o: &api::Namespace) -> apimachinery::ErrorList {
        crate::validation::namespace(o)
    }
    fn validate_update(&self, new: &api::Namespace, old: &api::Namespace) -> apimachinery::ErrorList {
        crate::validation::namespace_update(new, old)
    }
    fn validate_status_update(&self, new: &api::Namespace, old: &api::Namespace) -> apimachinery::ErrorList {
        crate::validation::namespace_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::Namespace) {
        crate::defaults::core::namespace(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::core::namespace_columns()
    }
    fn cells(&self, o: &api::Namespace, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::namespace_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        core("Namespace", "namespaces", false).short(&["ns"])
    }
    fn name_rule(&self) -> NameRule {
        NameRule::Label
    }
    fn prepare_for_create(&self, ns: &mut api::Namespace) {
        // status is system-owned; a new namespace is Active and finalized by the namespace controller
        ns.status = Some(api::NamespaceStatus { phase: Some("Active".into()), ..Default::default() });
        let spec = ns.spec.get_or_insert_with(Default::default);
        let fins = spec.finalizers.get_or_insert_with(Vec::new);
        if !fins.iter().any(|f| f == "kubernetes") {
            fins.push("kubernetes".into());
        }
    }
    fn prepare_for_update(&self, new: &mut api::Namespace, old: &api::Namespace) {
        // spec.finalizers change only through the finalize subresource
        new.spec = old.spec.clone();
        new.status = old.status.clone();
    }
    fn field_labels(&self) -> &'static [&'static str] {
        &["status.phase"]
    }
    fn field_values(&self, ns: &api::Namespace) -> Vec<String> {
        vec![ns.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default()]
    }
    fn blocks_deletion(&self, ns: &api::Namespace) -> bool {
        ns.spec.as_ref().and_then(|s| s.finalizers.as_ref()).is_some_and(|f| !f.is_empty())
    }
}

/// nodes
pub struct Nodes;
impl Strategy for Nodes {
    type K = api::Node;
    fn validate(&self, o: &api::Node) -> apimachinery::ErrorList {
        crate::validation::node(o)
    }
    fn validate_update(&self, new: &api::Node, old: &api::Node) -> apimachinery::ErrorList {
        crate::validation::node_update(new, old)
    }
    fn validate_status_update(&self, new: &api::Node, old: &api::Node) -> apimachinery::ErrorList {
        crate::validation::node_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::Node) {
        crate::defaults::core::node(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::core::node_columns()
    }
    fn cells(&self, o: &api::Node, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::node_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        core("Node", "nodes", false).short(&["no"])
    }
    fn storage_segment(&self) -> String {
        "minions".into()
    }
    fn prepare_for_create(&self, _n: &mut api::Node) {
        // a node registers with its status (the kubelet's first report)
    }
    fn field_labels(&self) -> &'static [&'static str] {
        &["spec.unschedulable"]
    }
    fn field_values(&self, n: &api::Node) -> Vec<String> {
        vec![n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false).to_string()]
    }
}

/// configmaps
pub struct ConfigMaps;
impl Strategy for ConfigMaps {
    type K = api::ConfigMap;
    fn validate(&self, o: &api::ConfigMap) -> apimachinery::ErrorList {
        crate::validation::config_map(o)
    }
    fn validate_update(&self, new: &api::ConfigMap, old: &api::ConfigMap) -> apimachinery::ErrorList {
        crate::validation::config_map_update(new, old)
    }
    fn defaults(&self, o: &mut api::ConfigMap) {
        crate::defaults::core::config_map(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::core::config_map_columns()
    }
    fn cells(&self, o: &api::ConfigMap, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::config_map_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        core("ConfigMap", "configmaps", true).short(&["cm"])
    }
}

/// secrets
pub struct Secrets;
impl Strategy for Secrets {
    type K = api::Secret;
    fn validate(&self, o: &api::Secret) -> apimachinery::ErrorList {
        crate::validation::secret(o)
    }
    fn validate_update(&self, new: &api::Secret, old: &api::Secret) -> apimachinery::ErrorList {
        crate::validation::secret_update(new, old)
    }
    fn defaults(&self, o: &mut api::Secret) {
        crate::defaults::core::secret(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::core::secret_columns()
    }
    fn cells(&self, o: &api::Secret, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::secret_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        core("Secret", "secrets", true)
    }
    fn field_labels(&self) -> &'static [&'static str] {
        &["type"]
    }
    fn field_values(&self, s: &api::Secret) -> Vec<String> {
        vec![s.type_.clone().unwrap_or_default()]
    }
}

/// serviceaccounts
pub struct ServiceAccounts;
impl Strategy for ServiceAccounts {
    type K = api::ServiceAccount;
    fn validate(&self, o: &api::ServiceAccount) -> apimachinery::ErrorList {
        crate::validation::service_account(o)
    }
    fn validate_update(&self, new: &api::ServiceAccount, old: &api::ServiceAccount) -> apimachinery::ErrorList {
        crate::validation::service_account_update(new, old)
    }
    fn defaults(&self, o: &mut api::ServiceAccount) {
        crate::defaults::core::service_account(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::core::service_account_columns()
    }
    fn cells(&self, o: &api::ServiceAccount, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::service_account_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        core("ServiceAccount", "serviceaccounts", true).short(&["sa"])
    }
}

/// endpoints
pub struct Endpoints;
impl Strategy for Endpoints {
    type K = api::Endpoints;
    fn validate(&self, o: &api::Endpoints) -> apimachinery::ErrorList {
        crate::validation::endpoints(o)
    }
    fn validate_update(&self, new: &api::Endpoints, old: &api::Endpoints) -> apimachinery::ErrorList {
        crate::validation::endpoints_update(new, old)
    }
    fn defaults(&self, o: &mut api::Endpoints) {
        crate::defaults::core::endpoints(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::core::endpoints_columns()
    }
    fn cells(&self, o: &api::Endpoints, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::endpoints_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        let mut i = core("Endpoints", "endpoints", true).short(&["ep"]);
        i.singular = "endpoints".into();
        i
    }
    fn storage_segment(&self) -> String {
        "services/endpoints".into()
    }
}

/// events (core/v1)
pub struct Events;
impl Strategy for Events {
    type K = api::Event;
    fn validate(&self, o: &api::Event) -> apimachinery::ErrorList {
        crate::validation::event(o)
    }
    fn validate_update(&self, new: &api::Event, old: &api::Event) -> apimachinery::ErrorList {
        crate::validation::event_update(new, old)
    }
    fn defaults(&self, o: &mut api::Event) {
        crate::defaults::core::event(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::core::event_columns()
    }
    fn cells(&self, o: &api::Event, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::event_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        core("Event", "events", true).short(&["ev"])
    }
    fn field_labels(&self) -> &'static [&'static str] {
        &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ]
    }
    fn field_values(&self, e: &api::Event) -> Vec<String> {
        let o = &e.involved_object;
        let source = e
            .reporting_component
            .clone()
            .filter(|s| !s.is_empty())
            .or_else(|| e.source.as_ref().and_then(|s| s.component.clone()))
            .unwrap_or_default();
        vec![
            o.kind.clone().unwrap_or_default(),
            o.namespace.clone().unwrap_or_default(),
            o.name.clone().unwrap_or_default(),
            o.uid.clone().unwrap_or_default(),
            o.api_version.clone().unwrap_or_default(),
            o.resource_version.clone().unwrap_or_default(),
            o.field_path.clone().unwrap_or_default(),
            e.reason.clone().unwrap_or_default(),
            e.reporting_component.clone().unwrap_or_default(),
            source,
            e.type_.clone().unwrap_or_default(),
        ]
    }
}

/// limitranges
pub struct LimitRanges;
impl Strategy for LimitRanges {
    type K = api::LimitRange;
    fn validate(&self, o: &api::LimitRange) -> apimachinery::ErrorList {
        crate::validation::limit_range(o)
    }
    fn validate_update(&self, new: &api::LimitRange, old: &api::LimitRange) -> apimachinery::ErrorList {
        crate::validation::limit_range_update(new, old)
    }
    fn defaults(&self, o: &mut api::LimitRange) {
        crate::defaults::core::limit_range(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::core::limit_range_columns()
    }
    fn cells(&self, o: &api::LimitRange, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::limit_range_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        core("LimitRange", "limitranges", true).short(&["limits"])
    }
}

/// resourcequotas
pub struct ResourceQuotas;
impl Strategy for ResourceQuotas {
    type K = api::ResourceQuota;
    fn validate(&self, o: &api::ResourceQuota) -> apimachinery::ErrorList {
        crate::validation::resource_quota(o)
    }
    fn validate_update(&self, new: &api::ResourceQuota, old: &api::ResourceQuota) -> apimachinery::ErrorList {
        crate::validation::resource_quota_update(new, old)
    }
    fn validate_status_update(&self, new: &api::ResourceQuota, old: &api::ResourceQuota) -> apimachinery::ErrorList {
        crate::validation::resource_quota_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::ResourceQuota) {
        crate::defaults::core::resource_quota(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::core::resource_quota_columns()
    }
    fn cells(&self, o: &api::ResourceQuota, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::resource_quota_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        core("ResourceQuota", "resourcequotas", true).short(&["quota"])
    }
}

/// persistentvolumes
pub struct PersistentVolumes;
impl Strategy for PersistentVolumes {
    type K = api::PersistentVolume;
    fn prepare_for_create(&self, o: &mut api::PersistentVolume) {
        // a new one is Pending (upstream's defaulting applies it when the object is read back)
        o.status = Some(api::PersistentVolumeStatus { phase: Some("Pending".into()), ..Default::default() });
    }
    fn validate(&self, o: &api::PersistentVolume) -> apimachinery::ErrorList {
        crate::validation::persistent_volume(o)
    }
    fn validate_update(&self, new: &api::PersistentVolume, old: &api::PersistentVolume) -> apimachinery::ErrorList {
        crate::validation::persistent_volume_update(new, old)
    }
    fn validate_status_update(&self, new: &api::PersistentVolume, old: &api::PersistentVolume) -> apimachinery::ErrorList {
        crate::validation::persistent_volume_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::PersistentVolume) {
        crate::defaults::core::persistent_volume(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::core::persistent_volume_columns()
    }
    fn cells(&self, o: &api::PersistentVolume, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::persistent_volume_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        core("PersistentVolume", "persistentvolumes", false).short(&["pv"])
    }
    fn field_labels(&self) -> &'static [&'static str] {
        &["name"]
    }
    fn field_values(&self, pv: &api::PersistentVolume) -> Vec<String> {
        vec![pv.metadata.name.clone().unwrap_or_default()]
    }
}

/// persistentvolumeclaims
pub struct PersistentVolumeClaims;
impl Strategy for PersistentVolumeClaims {
    type K = api::PersistentVolumeClaim;
    fn prepare_for_create(&self, o: &mut api::PersistentVolumeClaim) {
        // a new one is Pending (upstream's defaulting applies it when the object is read back)
        o.status = Some(api::PersistentVolumeClaimStatus { phase: Some("Pending".into()), ..Default::default() });
    }
    fn validate(&self, o: &api::PersistentVolumeClaim) -> apimachinery::ErrorList {
        crate::validation::persistent_volume_claim(o)
    }
    fn validate_update(&self, new: &api::PersistentVolumeClaim, old: &api::PersistentVolumeClaim) -> apimachinery::ErrorList {
        crate::validation::persistent_volume_claim_update(new, old)
    }
    fn validate_status_update(&self, new: &api::PersistentVolumeClaim, old: &api::PersistentVolumeClaim) -> apimachinery::ErrorList {
        crate::validation::persistent_volume_claim_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::PersistentVolumeClaim) {
        crate::defaults::core::persistent_volume_claim(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::core::persistent_volume_claim_columns()
    }
    fn cells(&self, o: &api::PersistentVolumeClaim, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::persistent_volume_claim_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        core("PersistentVolumeClaim", "persistentvolumeclaims", true).short(&["pvc"])
    }
    fn field_labels(&self) -> &'static [&'static str] {
        &["name"]
    }
    fn field_values(&self, pvc: &api::PersistentVolumeClaim) -> Vec<String> {
        vec![pvc.metadata.name.clone().unwrap_or_default()]
    }
}

/// replicationcontrollers
pub struct ReplicationControllers;
impl Strategy for ReplicationControllers {
    type K = api::ReplicationController;
    fn validate(&self, o: &api::ReplicationController) -> apimachinery::ErrorList {
        crate::validation::replication_controller(o)
    }
    fn validate_update(&self, new: &api::ReplicationController, old: &api::ReplicationController) -> apimachinery::ErrorList {
        crate::validation::replication_controller_update(new, old)
    }
    fn validate_status_update(&self, new: &api::ReplicationController, old: &api::ReplicationController) -> apimachinery::ErrorList {
        crate::validation::replication_controller_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::ReplicationController) {
        crate::defaults::core::replication_controller(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::core::replication_controller_columns()
    }
    fn cells(&self, o: &api::ReplicationController, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::replication_controller_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        core("ReplicationController", "replicationcontrollers", true).short(&["rc"]).categories(&["all"])
    }
    fn storage_segment(&self) -> String {
        "controllers".into()
    }
    fn tracks_generation(&self) -> bool {
        true
    }
    fn field_labels(&self) -> &'static [&'static str] {
        &["status.replicas"]
    }
    fn field_values(&self, rc: &api::ReplicationController) -> Vec<String> {
        vec![rc.status.as_ref().map(|s| s.replicas).unwrap_or(0).to_string()]
    }
}

/// podtemplates
pub struct PodTemplates;
impl Strategy for PodTemplates {
    type K = api::PodTemplate;
    fn validate(&self, o: &api::PodTemplate) -> apimachinery::ErrorList {
        crate::validation::pod_template(o)
    }
    fn validate_update(&self, new: &api::PodTemplate, old: &api::PodTemplate) -> apimachinery::ErrorList {
        crate::validation::pod_template_update(new, old)
    }
    fn tracks_generation(&self) -> bool {
        true
    }
    fn generation_changed(&self, new: &api::PodTemplate, old: &api::PodTemplate) -> bool {
        new.template != old.template
    }
    fn defaults(&self, o: &mut api::PodTemplate) {
        crate::defaults::core::pod_template(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::core::pod_template_columns()
    }
    fn cells(&self, o: &api::PodTemplate, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::core::pod_template_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        core("PodTemplate", "podtemplates", true)
    }
}

/// Registers the core group.
pub fn register(r: &mut Registry) {
    r.add(Resource::new(Pods).with_subresources(&[
        super::Subresource { name: "binding", group: "", version: "v1", kind: "Binding".into(), verbs: &["create"] },
        super::Subresource { name: "eviction", group: "policy", version: "v1", kind: "Eviction".into(), verbs: &["create"] },
    ]));
    r.add(Resource::new(Services));
    r.add(Resource::new(Namespaces));
    r.add(Resource::new(Nodes));
    r.add(Resource::new(ConfigMaps));
    r.add(Resource::new(Secrets));
    r.add(Resource::new(ServiceAccounts).with_subresources(&[super::Subresource {
        name: "token",
        group: "authentication.k8s.io",
        version: "v1",
        kind: "TokenRequest".into(),
        verbs: &["create"],
    }]));
    r.add(Resource::new(Endpoints));
    r.add(Resource::new(Events));
    r.add(Resource::new(LimitRanges));
    r.add(Resource::new(ResourceQuotas));
    r.add(Resource::new(PersistentVolumes));
    r.add(Resource::new(PersistentVolumeClaims));
    r.add(Resource::new(ReplicationControllers).with_scale(super::ScalePaths {
        spec_replicas: "/spec/replicas".into(),
        status_replicas: "/status/replicas".into(),
        selector: super::SelectorSource::Map("/spec/selector".into()),
    }));
    r.add(Resource::new(PodTemplates));
}

/// The QoS class of a pod (upstream's `GetPodQOS`): Guaranteed when every container's CPU and
/// memory requests equal their limits, BestEffort when no container requests or limits either,
/// Burstable otherwise.
pub fn qos_class(p: &api::Pod) -> &'static str {
    use apimachinery::quantity::Quantity;
    let Some(spec) = p.spec.as_ref() else { return "BestEffort" };
    let containers = spec.containers.iter().chain(spec.init_containers.iter().flatten());
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        let r = c.resources.as_ref();
        let requests = r.and_then(|r| r.requests.as_ref());
        let limits = r.and_then(|r| r.limits.as_ref());
        for name in ["cpu", "memory"] {
            let req = requests.and_then(|m| m.get(name)).and_then(|q| Quantity::parse(&q.0).ok()).filter(|q| !q.is_zero());
            let lim = limits.and_then(|m| m.get(name)).and_then(|q| Quantity::parse(&q.0).ok()).filter(|q| !q.is_zero());
            if req.is_some() || lim.is_some() {
                any = true;
            }
            match (&req, &lim) {
                (_, None) => guaranteed = false,
                (Some(a), Some(b)) if a.cmp_to(b) != std::cmp::Ordering::Equal => guaranteed = false,
                _ => {}
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(resources: serde_json::Value) -> api::Pod {
        serde_json::from_value(serde_json::json!({"spec": {"containers": [{"name": "c", "image": "i", "resources": resources}]}})).unwrap()
    }

    #[test]
    fn qos_classes() {
        assert_eq!(qos_class(&pod(serde_json::json!({}))), "BestEffort");
        assert_eq!(qos_class(&pod(serde_json::json!({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1000m", "memory": "1Gi"}}))), "Guaranteed");
        assert_eq!(qos_class(&pod(serde_json::json!({"requests": {"cpu": "100m"}}))), "Burstable");
        assert_eq!(qos_class(&pod(serde_json::json!({"limits": {"cpu": "1"}, "requests": {"cpu": "1"}}))), "Burstable");
    }
}
