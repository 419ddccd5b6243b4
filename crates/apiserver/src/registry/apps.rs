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
    fn info(&self) -> ResourceInfo {
        apps("ControllerRevision", "controllerrevisions")
    }
}

/// Registers apps/v1.
pub fn register(r: &mut Registry) {
    r.add(Resource::new(Deployments));
    r.add(Resource::new(ReplicaSets));
    r.add(Resource::new(StatefulSets));
    r.add(Resource::new(DaemonSets));
    r.add(Resource::new(ControllerRevisions));
}
