//! Defaults for `apps/v1`.

use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::core::{persistent_volume_claim, pod_template_spec};
use super::{default_ptr, default_str, str_unset};

/// Deployment defaults: one replica, `RollingUpdate` with 25%/25% maxUnavailable/maxSurge,
/// `revisionHistoryLimit: 10`, `progressDeadlineSeconds: 600`, pod-template defaults.
pub fn deployment(obj: &mut Deployment) {
    let spec = obj.spec.get_or_insert_with(Default::default);
    default_ptr(&mut spec.replicas, 1);
    let strategy = spec.strategy.get_or_insert_with(Default::default);
    default_str(&mut strategy.type_, "RollingUpdate");
    if strategy.type_.as_deref() == Some("RollingUpdate") {
        let ru = strategy.rolling_update.get_or_insert_with(Default::default);
        default_ptr(
            &mut ru.max_unavailable,
            IntOrString::String("25%".to_owned()),
        );
        default_ptr(&mut ru.max_surge, IntOrString::String("25%".to_owned()));
    }
    default_ptr(&mut spec.revision_history_limit, 10);
    default_ptr(&mut spec.progress_deadline_seconds, 600);
    pod_template_spec(&mut spec.template);
}

/// ReplicaSet defaults: one replica, pod-template defaults.
pub fn replica_set(obj: &mut ReplicaSet) {
    let spec = obj.spec.get_or_insert_with(Default::default);
    default_ptr(&mut spec.replicas, 1);
    pod_template_spec(spec.template.get_or_insert_with(Default::default));
}

/// StatefulSet defaults: `podManagementPolicy: OrderedReady`; an omitted update strategy
/// becomes `RollingUpdate` with `partition: 0` (a client-given `RollingUpdate` without a
/// `rollingUpdate` block stays without one, as upstream); PVC retention policy
/// `Retain`/`Retain`; one replica; `revisionHistoryLimit: 10`; pod-template defaults; each
/// volume claim template gets the PersistentVolumeClaim defaults (including
/// `status.phase: Pending`).
///
/// `rollingUpdate.maxUnavailable` is not defaulted: that needs the alpha
/// `MaxUnavailableStatefulSet` gate.
pub fn stateful_set(obj: &mut StatefulSet) {
    let spec = obj.spec.get_or_insert_with(Default::default);
    default_str(&mut spec.pod_management_policy, "OrderedReady");
    let us = spec.update_strategy.get_or_insert_with(Default::default);
    if str_unset(&us.type_) {
        us.type_ = Some("RollingUpdate".to_owned());
        us.rolling_update.get_or_insert_with(Default::default);
    }
    if us.type_.as_deref() == Some("RollingUpdate")
        && let Some(ru) = &mut us.rolling_update
    {
        default_ptr(&mut ru.partition, 0);
    }
    let retention = spec
        .persistent_volume_claim_retention_policy
        .get_or_insert_with(Default::default);
    default_str(&mut retention.when_deleted, "Retain");
    default_str(&mut retention.when_scaled, "Retain");
    default_ptr(&mut spec.replicas, 1);
    default_ptr(&mut spec.revision_history_limit, 10);
    pod_template_spec(&mut spec.template);
    for pvc in spec.volume_claim_templates.iter_mut().flatten() {
        persistent_volume_claim(pvc);
    }
}

/// DaemonSet defaults: `RollingUpdate` with `maxUnavailable: 1`, `maxSurge: 0`,
/// `revisionHistoryLimit: 10`, pod-template defaults.
pub fn daemon_set(obj: &mut DaemonSet) {
    let spec = obj.spec.get_or_insert_with(Default::default);
    let us = spec.update_strategy.get_or_insert_with(Default::default);
    default_str(&mut us.type_, "RollingUpdate");
    if us.type_.as_deref() == Some("RollingUpdate") {
        let ru = us.rolling_update.get_or_insert_with(Default::default);
        default_ptr(&mut ru.max_unavailable, IntOrString::Int(1));
        default_ptr(&mut ru.max_surge, IntOrString::Int(0));
    }
    default_ptr(&mut spec.revision_history_limit, 10);
    pod_template_spec(&mut spec.template);
}

/// ControllerRevision: upstream has no defaults for this kind.
pub fn controller_revision(_obj: &mut ControllerRevision) {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults::testutil::{assert_idempotent, from_json, to_json};
    use serde_json::json;

    fn defaulted_template() -> serde_json::Value {
        json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [{
                    "name": "web",
                    "image": "nginx:1.25",
                    "ports": [{"containerPort": 80, "protocol": "TCP"}],
                    "resources": {"limits": {"cpu": "1"}},
                    "imagePullPolicy": "IfNotPresent",
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File"
                }],
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst",
                "securityContext": {},
                "schedulerName": "default-scheduler"
            }
        })
    }

    fn template() -> serde_json::Value {
        json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
                "resources": {"limits": {"cpu": "1000m"}}}]}
        })
    }

    #[test]
    fn minimal_deployment() {
        let mut d: Deployment = from_json(json!({
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template()}
        }));
        deployment(&mut d);
        assert_eq!(
            to_json(&d)["spec"],
            json!({
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": defaulted_template(),
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600
            })
        );
    }

    #[test]
    fn deployment_keeps_client_values() {
        let mut d: Deployment = from_json(json!({
            "metadata": {"name": "web"},
            "spec": {"replicas": 0, "revisionHistoryLimit": 0, "progressDeadlineSeconds": 60,
                "strategy": {"type": "Recreate"},
                "selector": {"matchLabels": {"app": "web"}}, "template": template()}
        }));
        deployment(&mut d);
        let j = to_json(&d);
        assert_eq!(j["spec"]["replicas"], json!(0));
        assert_eq!(j["spec"]["revisionHistoryLimit"], json!(0));
        assert_eq!(j["spec"]["progressDeadlineSeconds"], json!(60));
        assert_eq!(j["spec"]["strategy"], json!({"type": "Recreate"}));

        let mut d: Deployment = from_json(json!({
            "metadata": {"name": "web"},
            "spec": {"strategy": {"rollingUpdate": {"maxSurge": 3}},
                "selector": {"matchLabels": {"app": "web"}}, "template": template()}
        }));
        deployment(&mut d);
        assert_eq!(
            to_json(&d)["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 3}})
        );
    }

    #[test]
    fn minimal_stateful_set() {
        let mut s: StatefulSet = from_json(json!({
            "metadata": {"name": "db"},
            "spec": {
                "serviceName": "db",
                "selector": {"matchLabels": {"app": "web"}},
                "template": template(),
                "volumeClaimTemplates": [{"metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1024Mi"}}}}]
            }
        }));
        stateful_set(&mut s);
        // Upstream's v1 conversion also stamps apiVersion/kind on every claim template, which
        // k8s-openapi's serializer happens to do as well.
        assert_eq!(
            to_json(&s)["spec"],
            json!({
                "serviceName": "db",
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": defaulted_template(),
                "volumeClaimTemplates": [{
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                        "volumeMode": "Filesystem"},
                    "status": {"phase": "Pending"}
                }],
                "podManagementPolicy": "OrderedReady",
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                "revisionHistoryLimit": 10,
                "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"}
            })
        );
    }

    #[test]
    fn stateful_set_explicit_strategies() {
        let mut s: StatefulSet = from_json(json!({"metadata": {"name": "db"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}}, "template": template(),
            "updateStrategy": {"type": "RollingUpdate"},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete"}}}));
        stateful_set(&mut s);
        let j = to_json(&s);
        assert_eq!(
            j["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate"})
        );
        assert_eq!(
            j["spec"]["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Delete", "whenScaled": "Retain"})
        );

        let mut s: StatefulSet = from_json(json!({"metadata": {"name": "db"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}}, "template": template(),
            "updateStrategy": {"type": "OnDelete"}}}));
        stateful_set(&mut s);
        assert_eq!(
            to_json(&s)["spec"]["updateStrategy"],
            json!({"type": "OnDelete"})
        );
    }

    #[test]
    fn minimal_daemon_set() {
        let mut d: DaemonSet = from_json(json!({"metadata": {"name": "agent"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template()}}));
        daemon_set(&mut d);
        assert_eq!(
            to_json(&d)["spec"],
            json!({
                "selector": {"matchLabels": {"app": "web"}},
                "template": defaulted_template(),
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
                "revisionHistoryLimit": 10
            })
        );
        let mut d: DaemonSet = from_json(json!({"metadata": {"name": "agent"},
            "spec": {"updateStrategy": {"type": "OnDelete"}, "selector": {"matchLabels": {"app": "web"}}, "template": template()}}));
        daemon_set(&mut d);
        assert_eq!(
            to_json(&d)["spec"]["updateStrategy"],
            json!({"type": "OnDelete"})
        );
    }

    #[test]
    fn minimal_replica_set() {
        let mut r: ReplicaSet = from_json(json!({"metadata": {"name": "rs"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template()}}));
        replica_set(&mut r);
        assert_eq!(
            to_json(&r)["spec"],
            json!({"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": defaulted_template()})
        );
    }

    #[test]
    fn idempotent() {
        let d: Deployment = from_json(json!({"metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template()}}));
        assert_idempotent(&d, deployment);
        let s: StatefulSet = from_json(
            json!({"metadata": {"name": "db"}, "spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": template(), "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {}}]}}),
        );
        assert_idempotent(&s, stateful_set);
        let ds: DaemonSet = from_json(json!({"metadata": {"name": "agent"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template()}}));
        assert_idempotent(&ds, daemon_set);
        let r: ReplicaSet = from_json(json!({"metadata": {"name": "rs"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template()}}));
        assert_idempotent(&r, replica_set);
    }
}
