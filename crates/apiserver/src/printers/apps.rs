//! Printers for the `apps` group.

use apimachinery::table::Column;
use k8s_openapi::api::apps::v1::{
    ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::docs::*;
use super::{
    CONTAINERS_DESC, IMAGES_DESC, NONE, age, col, format_label_selector, format_labels, icol, int,
    layout_containers, name, s, selector_string,
};

fn template_containers(
    t: &k8s_openapi::api::core::v1::PodTemplateSpec,
) -> &[k8s_openapi::api::core::v1::Container] {
    t.spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or(&[])
}

/// Deployment columns: NAME, READY, UP-TO-DATE, AVAILABLE, AGE, and wide CONTAINERS, IMAGES,
/// SELECTOR.
pub fn deployment_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("Ready", "Number of the pod with ready state"),
        col("Up-to-date", EXT_DEPLOY_STATUS_UPDATED),
        col("Available", EXT_DEPLOY_STATUS_AVAILABLE),
        Column::age(),
        col("Containers", CONTAINERS_DESC).wide(),
        col("Images", IMAGES_DESC).wide(),
        col("Selector", EXT_DEPLOY_SPEC_SELECTOR).wide(),
    ]
}

/// Deployment cells: READY is `ready/desired`; UP-TO-DATE and AVAILABLE are integers; SELECTOR
/// is the selector string (`<invalid>` if it does not convert).
pub fn deployment_cells(obj: &Deployment, now: jiff::Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let status = obj.status.as_ref();
    let desired = spec.and_then(|s| s.replicas).unwrap_or(0);
    let ready = status.and_then(|s| s.ready_replicas).unwrap_or(0);
    let (names, images) = layout_containers(
        spec.map(|s| template_containers(&s.template))
            .unwrap_or(&[]),
    );
    vec![
        s(name(&obj.metadata)),
        s(format!("{ready}/{desired}")),
        int(status.and_then(|s| s.updated_replicas).unwrap_or(0)),
        int(status.and_then(|s| s.available_replicas).unwrap_or(0)),
        age(&obj.metadata, now),
        s(names),
        s(images),
        s(selector_string(spec.map(|s| &s.selector))),
    ]
}

/// ReplicaSet columns: NAME, DESIRED, CURRENT, READY, AGE, and wide CONTAINERS, IMAGES, SELECTOR.
pub fn replica_set_columns() -> Vec<Column> {
    vec![
        Column::name(),
        icol("Desired", EXT_RS_SPEC_REPLICAS),
        icol("Current", EXT_RS_STATUS_REPLICAS),
        icol("Ready", EXT_RS_STATUS_READY_REPLICAS),
        Column::age(),
        col("Containers", CONTAINERS_DESC).wide(),
        col("Images", IMAGES_DESC).wide(),
        col("Selector", EXT_RS_SPEC_SELECTOR).wide(),
    ]
}

/// ReplicaSet cells.
pub fn replica_set_cells(obj: &ReplicaSet, now: jiff::Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let status = obj.status.as_ref();
    let containers = spec
        .and_then(|s| s.template.as_ref())
        .map(template_containers)
        .unwrap_or(&[]);
    let (names, images) = layout_containers(containers);
    vec![
        s(name(&obj.metadata)),
        int(spec.and_then(|s| s.replicas).unwrap_or(0)),
        int(status.map(|s| s.replicas).unwrap_or(0)),
        int(status.and_then(|s| s.ready_replicas).unwrap_or(0)),
        age(&obj.metadata, now),
        s(names),
        s(images),
        s(format_label_selector(spec.map(|s| &s.selector))),
    ]
}

/// StatefulSet columns: NAME, READY, AGE, and wide CONTAINERS, IMAGES.
pub fn stateful_set_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("Ready", "Number of the pod with ready state"),
        Column::age(),
        col("Containers", CONTAINERS_DESC).wide(),
        col("Images", IMAGES_DESC).wide(),
    ]
}

/// StatefulSet cells: READY is `ready/desired`.
pub fn stateful_set_cells(obj: &StatefulSet, now: jiff::Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let status = obj.status.as_ref();
    let desired = spec.and_then(|s| s.replicas).unwrap_or(0);
    let ready = status.and_then(|s| s.ready_replicas).unwrap_or(0);
    let (names, images) = layout_containers(
        spec.map(|s| template_containers(&s.template))
            .unwrap_or(&[]),
    );
    vec![
        s(name(&obj.metadata)),
        s(format!("{ready}/{desired}")),
        age(&obj.metadata, now),
        s(names),
        s(images),
    ]
}

/// DaemonSet columns: NAME, DESIRED, CURRENT, READY, UP-TO-DATE, AVAILABLE, NODE SELECTOR, AGE,
/// and wide CONTAINERS, IMAGES, SELECTOR.
pub fn daemon_set_columns() -> Vec<Column> {
    vec![
        Column::name(),
        icol("Desired", EXT_DS_STATUS_DESIRED),
        icol("Current", EXT_DS_STATUS_CURRENT),
        icol("Ready", EXT_DS_STATUS_READY),
        icol("Up-to-date", EXT_DS_STATUS_UPDATED),
        icol("Available", EXT_DS_STATUS_AVAILABLE),
        col("Node Selector", POD_SPEC_NODE_SELECTOR),
        Column::age(),
        col("Containers", CONTAINERS_DESC).wide(),
        col("Images", IMAGES_DESC).wide(),
        col("Selector", EXT_DS_SPEC_SELECTOR).wide(),
    ]
}

/// DaemonSet cells.
pub fn daemon_set_cells(obj: &DaemonSet, now: jiff::Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let st = obj.status.as_ref();
    let containers = spec
        .map(|s| template_containers(&s.template))
        .unwrap_or(&[]);
    let (names, images) = layout_containers(containers);
    let node_selector = spec
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|p| p.node_selector.as_ref());
    vec![
        s(name(&obj.metadata)),
        int(st.map(|s| s.desired_number_scheduled).unwrap_or(0)),
        int(st.map(|s| s.current_number_scheduled).unwrap_or(0)),
        int(st.map(|s| s.number_ready).unwrap_or(0)),
        int(st.and_then(|s| s.updated_number_scheduled).unwrap_or(0)),
        int(st.and_then(|s| s.number_available).unwrap_or(0)),
        s(format_labels(node_selector)),
        age(&obj.metadata, now),
        s(names),
        s(images),
        s(format_label_selector(spec.map(|s| &s.selector))),
    ]
}

/// ControllerRevision columns: NAME, CONTROLLER, REVISION, AGE.
pub fn controller_revision_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("Controller", "Controller of the object"),
        col("Revision", APPS1B1_CONTROLLER_REVISION_REVISION),
        Column::age(),
    ]
}

/// The controlling owner as `kind.group/name` (lower-cased kind and group; just `kind/name`
/// for the core group), `<none>` without a controller.
pub(crate) fn controller_name(meta: &ObjectMeta) -> String {
    let Some(owner) = meta
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
    else {
        return NONE.into();
    };
    // Upstream's ParseGroupVersion: "" and "v1" have no group; "group/version" has one.
    let group = match owner.api_version.split_once('/') {
        Some((g, _)) => g,
        None => "",
    };
    if owner.kind.is_empty() && group.is_empty() {
        return owner.name.clone();
    }
    let group_kind = if group.is_empty() {
        owner.kind.clone()
    } else {
        format!("{}.{}", owner.kind, group)
    };
    format!("{}/{}", group_kind.to_lowercase(), owner.name)
}

/// ControllerRevision cells; REVISION is an integer cell.
pub fn controller_revision_cells(obj: &ControllerRevision, now: jiff::Timestamp) -> Vec<Value> {
    vec![
        s(name(&obj.metadata)),
        s(controller_name(&obj.metadata)),
        int(obj.revision),
        age(&obj.metadata, now),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testutil::{cells, meta, now};
    use k8s_openapi::api::apps::v1::*;
    use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
        LabelSelector, LabelSelectorRequirement, OwnerReference,
    };
    use serde_json::json;

    fn template() -> PodTemplateSpec {
        PodTemplateSpec {
            metadata: None,
            spec: Some(PodSpec {
                containers: vec![
                    Container {
                        name: "web".into(),
                        image: Some("nginx:1.27".into()),
                        ..Default::default()
                    },
                    Container {
                        name: "log".into(),
                        image: Some("fluent-bit".into()),
                        ..Default::default()
                    },
                ],
                node_selector: Some([("disktype".to_string(), "ssd".to_string())].into()),
                ..Default::default()
            }),
        }
    }

    fn selector() -> LabelSelector {
        LabelSelector {
            match_labels: Some([("app".to_string(), "web".to_string())].into()),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "env".into(),
                operator: "NotIn".into(),
                values: Some(vec!["dev".into()]),
            }]),
        }
    }

    #[test]
    fn deployment() {
        let d = Deployment {
            metadata: meta("web", 7200),
            spec: Some(DeploymentSpec {
                replicas: Some(3),
                selector: selector(),
                template: template(),
                ..Default::default()
            }),
            status: Some(DeploymentStatus {
                ready_replicas: Some(2),
                updated_replicas: Some(3),
                available_replicas: Some(2),
                replicas: Some(3),
                ..Default::default()
            }),
        };
        assert_eq!(
            cells(deployment_cells(&d, now())),
            json!([
                "web",
                "2/3",
                3,
                2,
                "120m",
                "web,log",
                "nginx:1.27,fluent-bit",
                "app=web,env notin (dev)"
            ])
        );
        let names: Vec<_> = deployment_columns().iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "Name",
                "Ready",
                "Up-to-date",
                "Available",
                "Age",
                "Containers",
                "Images",
                "Selector"
            ]
        );
        assert_eq!(deployment_columns()[2].type_, "string");
        let mut empty = d.clone();
        empty.status = None;
        empty.spec.as_mut().unwrap().selector = LabelSelector::default();
        let c = deployment_cells(&empty, now());
        assert_eq!(c[1], json!("0/3"));
        assert_eq!(c[7], json!(""));
    }

    #[test]
    fn replica_and_stateful_and_daemon_sets() {
        let rs = ReplicaSet {
            metadata: meta("web-5d4", 60),
            spec: Some(ReplicaSetSpec {
                replicas: Some(3),
                selector: LabelSelector::default(),
                template: Some(template()),
                ..Default::default()
            }),
            status: Some(ReplicaSetStatus {
                replicas: 3,
                ready_replicas: Some(1),
                ..Default::default()
            }),
        };
        assert_eq!(
            cells(replica_set_cells(&rs, now())),
            json!([
                "web-5d4",
                3,
                3,
                1,
                "60s",
                "web,log",
                "nginx:1.27,fluent-bit",
                "<none>"
            ])
        );
        assert_eq!(replica_set_columns()[1].type_, "integer");

        let ss = StatefulSet {
            metadata: meta("db", 60),
            spec: Some(StatefulSetSpec {
                replicas: Some(3),
                selector: selector(),
                template: template(),
                ..Default::default()
            }),
            status: Some(StatefulSetStatus {
                replicas: 3,
                ready_replicas: Some(3),
                ..Default::default()
            }),
        };
        assert_eq!(
            cells(stateful_set_cells(&ss, now())),
            json!(["db", "3/3", "60s", "web,log", "nginx:1.27,fluent-bit"])
        );

        let ds = DaemonSet {
            metadata: meta("agent", 60),
            spec: Some(DaemonSetSpec {
                selector: selector(),
                template: template(),
                ..Default::default()
            }),
            status: Some(DaemonSetStatus {
                desired_number_scheduled: 4,
                current_number_scheduled: 4,
                number_ready: 3,
                updated_number_scheduled: Some(4),
                number_available: Some(3),
                ..Default::default()
            }),
        };
        assert_eq!(
            cells(daemon_set_cells(&ds, now())),
            json!([
                "agent",
                4,
                4,
                3,
                4,
                3,
                "disktype=ssd",
                "60s",
                "web,log",
                "nginx:1.27,fluent-bit",
                "app=web,env notin (dev)"
            ])
        );
        assert_eq!(daemon_set_columns().len(), 11);
    }

    #[test]
    fn controller_revision() {
        let mut m = meta("web-6b7", 60);
        m.owner_references = Some(vec![
            OwnerReference {
                api_version: "v1".into(),
                kind: "Pod".into(),
                name: "ignored".into(),
                ..Default::default()
            },
            OwnerReference {
                api_version: "apps/v1".into(),
                kind: "StatefulSet".into(),
                name: "web".into(),
                controller: Some(true),
                ..Default::default()
            },
        ]);
        let cr = ControllerRevision {
            metadata: m,
            revision: 4,
            data: None,
        };
        assert_eq!(
            cells(controller_revision_cells(&cr, now())),
            json!(["web-6b7", "statefulset.apps/web", 4, "60s"])
        );
        let orphan = ControllerRevision {
            metadata: meta("x", 60),
            revision: 1,
            data: None,
        };
        assert_eq!(
            controller_revision_cells(&orphan, now())[1],
            json!("<none>")
        );
        let mut core_owned = meta("y", 60);
        core_owned.owner_references = Some(vec![OwnerReference {
            api_version: "v1".into(),
            kind: "Pod".into(),
            name: "p".into(),
            controller: Some(true),
            ..Default::default()
        }]);
        let cr = ControllerRevision {
            metadata: core_owned,
            revision: 1,
            data: None,
        };
        assert_eq!(controller_revision_cells(&cr, now())[1], json!("pod/p"));
    }
}
