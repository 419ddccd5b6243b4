//! `apps/v1`: deployments, replicasets, statefulsets, daemonsets, controllerrevisions.

use apimachinery::ResourceInfo;
use k8s_openapi::api::apps::v1 as api;

use super::{Registry, Resource, Strategy, parts};

parts!(spec, status: api::Deployment, api::ReplicaSet, api::StatefulSet, api::DaemonSet);
parts!(data: api::ControllerRevision);

fn apps(kind: &str, plural: &str) -> ResourceInfo {
    ResourceInfo::new("apps", "v1", kind, plural, true)
}

/// deployments
pub struct Deployments;
impl Strategy for Deployments {
    type K = api::Deployment;
    fn validate(&self, o: &api::Deployment) -> apimachinery::ErrorList {
        crate::validation::deployment(o)
    }
    fn validate_update(&self, new: &api::Deployment, old: &api::Deployment) -> apimachinery::ErrorList {
        crate::validation::deployment_update(new, old)
    }
    fn validate_status_update(&self, new: &api::Deployment, old: &api::Deployment) -> apimachinery::ErrorList {
        crate::validation::deployment_status_update(new, old)
    }
    fn generation_changed(&self, new: &api::Deployment, old: &api::Deployment) -> bool {
        new.spec != old.spec || new.metadata.annotations != old.metadata.annotations
    }
    fn defaults(&self, o: &mut api::Deployment) {
        crate::defaults::apps::deployment(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::apps::deployment_columns()
    }
    fn cells(&self, o: &api::Deployment, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::apps::deployment_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        apps("Deployment", "deployments").short(&["deploy"]).categories(&["all"])
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// replicasets
pub struct ReplicaSets;
impl Strategy for ReplicaSets {
    type K = api::ReplicaSet;
    fn validate(&self, o: &api::ReplicaSet) -> apimachinery::ErrorList {
        crate::validation::replica_set(o)
    }
    fn validate_update(&self, new: &api::ReplicaSet, old: &api::ReplicaSet) -> apimachinery::ErrorList {
        crate::validation::replica_set_update(new, old)
    }
    fn validate_status_update(&self, new: &api::ReplicaSet, old: &api::ReplicaSet) -> apimachinery::ErrorList {
        crate::validation::replica_set_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::ReplicaSet) {
        crate::defaults::apps::replica_set(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::apps::replica_set_columns()
    }
    fn cells(&self, o: &api::ReplicaSet, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::apps::replica_set_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        apps("ReplicaSet", "replicasets").short(&["rs"]).categories(&["all"])
    }
    fn tracks_generation(&self) -> bool {
        true
    }
    fn field_labels(&self) -> &'static [&'static str] {
        &["status.replicas"]
    }
    fn field_values(&self, rs: &api::ReplicaSet) -> Vec<String> {
        vec![rs.status.as_ref().map(|s| s.replicas).unwrap_or(0).to_string()]
    }
}

/// statefulsets
pub struct StatefulSets;
impl Strategy for StatefulSets {
    type K = api::StatefulSet;
    fn validate(&self, o: &api::StatefulSet) -> apimachinery::ErrorList {
        crate::validation::stateful_set(o)
    }
    fn validate_update(&self, new: &api::StatefulSet, old: &api::StatefulSet) -> apimachinery::ErrorList {
        crate::validation::stateful_set_update(new, old)
    }
    fn validate_status_update(&self, new: &api::StatefulSet, old: &api::StatefulSet) -> apimachinery::ErrorList {
        crate::validation::stateful_set_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::StatefulSet) {
        crate::defaults::apps::stateful_set(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::apps::stateful_set_columns()
    }
    fn cells(&self, o: &api::StatefulSet, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::apps::stateful_set_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        apps("StatefulSet", "statefulsets").short(&["sts"]).categories(&["all"])
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// daemonsets
pub struct DaemonSets;
impl Strategy for DaemonSets {
    type K = api::DaemonSet;
    fn validate(&self, o: &api::DaemonSet) -> apimachinery::ErrorList {
        crate::validation::daemon_set(o)
    }
    fn validate_update(&self, new: &api::DaemonSet, old: &api::DaemonSet) -> apimachinery::ErrorList {
        crate::validation::daemon_set_update(new, old)
    }
    fn validate_status_update(&self, new: &api::DaemonSet, old: &api::DaemonSet) -> apimachinery::ErrorList {
        crate::validation::daemon_set_status_update(new, old)
    }
    fn defaults(&self, o: &mut api::DaemonSet) {
        crate::defaults::apps::daemon_set(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::apps::daemon_set_columns()
    }
    fn cells(&self, o: &api::DaemonSet, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::apps::daemon_set_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        apps("DaemonSet", "daemonsets").short(&["ds"]).categories(&["all"])
    }
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// controllerrevisions
pub struct ControllerRevisions;
impl Strategy for ControllerRevisions {
    type K = api::ControllerRevision;
    fn validate(&self, o: &api::ControllerRevision) -> apimachinery::ErrorList {
        crate::validation::controller_revision(o)
    }
    fn validate_update(&self, new: &api::ControllerRevision, old: &api::ControllerRevision) -> apimachinery::ErrorList {
        crate::validation::controller_revision_update(new, old)
    }
    fn defaults(&self, o: &mut api::ControllerRevision) {
        crate::defaults::apps::controller_revision(o)
    }
    fn columns(&self) -> Vec<apimachinery::table::Column> {
        crate::printers::apps::controller_revision_columns()
    }
    fn cells(&self, o: &api::ControllerRevision, now: jiff::Timestamp) -> Vec<serde_json::Value> {
        crate::printers::apps::controller_revision_cells(o, now)
    }
    fn info(&self) -> ResourceInfo {
        apps("ControllerRevision", "controllerrevisions")
    }
}

/// Registers apps/v1.
pub fn register(r: &mut Registry) {
    r.add(Resource::new(Deployments).with_workload_scale());
    r.add(Resource::new(ReplicaSets).with_workload_scale());
    r.add(Resource::new(StatefulSets).with_workload_scale());
    r.add(Resource::new(DaemonSets));
    r.add(Resource::new(ControllerRevisions));
}
