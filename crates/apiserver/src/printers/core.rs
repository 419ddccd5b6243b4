//! Printers for the core (`""`) group.

use std::collections::BTreeMap;

use apimachinery::table::Column;
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, ContainerStatus, Endpoints, Event, EventSource, LimitRange, Namespace,
    Node, ObjectReference, PersistentVolume, PersistentVolumeClaim, Pod, PodTemplate,
    ReplicationController, ResourceQuota, Secret, Service, ServiceAccount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::docs::*;
use super::{
    CONTAINERS_DESC, IMAGES_DESC, NONE, UNKNOWN, UNSET, age, col, default_cells, default_columns,
    format_labels, format_quantity, icol, int, join_host_port, layout_containers, map_quantity,
    name, s, since, sorted_unique,
};

fn str_or_empty(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("")
}

// ---------------------------------------------------------------------------------------------
// Pod
// ---------------------------------------------------------------------------------------------

/// Pod columns: NAME, READY, STATUS, RESTARTS, AGE, and wide IP, NODE, NOMINATED NODE,
/// READINESS GATES.
pub fn pod_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col(
            "Ready",
            "The aggregate readiness state of this pod for accepting traffic.",
        ),
        col(
            "Status",
            "The aggregate status of the containers in this pod.",
        ),
        col(
            "Restarts",
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
        ),
        Column::age(),
        col("IP", POD_STATUS_POD_IP).wide(),
        col("Node", POD_SPEC_NODE_NAME).wide(),
        col("Nominated Node", POD_STATUS_NOMINATED_NODE_NAME).wide(),
        col("Readiness Gates", POD_SPEC_READINESS_GATES).wide(),
    ]
}

fn is_restartable_init(c: Option<&Container>) -> bool {
    c.and_then(|c| c.restart_policy.as_deref()) == Some("Always")
}

fn condition_true(pod: &Pod, type_: &str) -> bool {
    let conds = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or(&[]);
    conds
        .iter()
        .find(|c| c.type_ == type_)
        .is_some_and(|c| c.status == "True")
}

/// The later of `current` and the container's last termination time.
fn later_restart(
    current: Option<jiff::Timestamp>,
    cs: &ContainerStatus,
) -> Option<jiff::Timestamp> {
    let finished = cs
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .and_then(|t| t.finished_at.as_ref())
        .map(|t| t.0);
    match (current, finished) {
        (Some(c), Some(f)) if c < f => Some(f),
        (None, Some(f)) => Some(f),
        (c, _) => c,
    }
}

/// Pod cells; STATUS follows upstream's reason derivation (init containers, waiting and
/// terminated reasons, `Terminating`, `SchedulingGated`, sidecar containers).
pub fn pod_cells(pod: &Pod, now: jiff::Timestamp) -> Vec<Value> {
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let containers = spec.map(|s| s.containers.as_slice()).unwrap_or(&[]);
    let init_containers = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or(&[]);
    let init_statuses = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or(&[]);
    let statuses = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or(&[]);
    let conditions = status.and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);

    let mut restarts: i64 = 0;
    let mut restartable_restarts: i64 = 0;
    let mut total = containers.len();
    let mut ready = 0usize;
    let mut last_restart: Option<jiff::Timestamp> = None;
    let mut last_restartable_restart: Option<jiff::Timestamp> = None;

    let phase = status.and_then(|s| s.phase.clone()).unwrap_or_default();
    let status_reason = status.and_then(|s| s.reason.clone()).unwrap_or_default();
    let mut reason = if status_reason.is_empty() {
        phase.clone()
    } else {
        status_reason.clone()
    };
    for c in conditions {
        if c.type_ == "PodScheduled" && c.reason.as_deref() == Some("SchedulingGated") {
            reason = "SchedulingGated".into();
        }
    }

    let init_by_name = |n: &str| init_containers.iter().rev().find(|c| c.name == n);
    total += init_containers
        .iter()
        .filter(|c| is_restartable_init(Some(c)))
        .count();

    let mut initializing = false;
    for (i, cs) in init_statuses.iter().enumerate() {
        restarts += i64::from(cs.restart_count);
        last_restart = later_restart(last_restart, cs);
        let restartable = is_restartable_init(init_by_name(&cs.name));
        if restartable {
            restartable_restarts += i64::from(cs.restart_count);
            last_restartable_restart = later_restart(last_restartable_restart, cs);
        }
        let state = cs.state.as_ref();
        let terminated = state.and_then(|s| s.terminated.as_ref());
        let waiting_reason = state
            .and_then(|s| s.waiting.as_ref())
            .map(|w| str_or_empty(&w.reason));
        if terminated.is_some_and(|t| t.exit_code == 0) {
            continue;
        }
        if restartable && cs.started == Some(true) {
            if cs.ready {
                ready += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            let r = str_or_empty(&t.reason);
            reason = if !r.is_empty() {
                format!("Init:{r}")
            } else if t.signal.unwrap_or(0) != 0 {
                format!("Init:Signal:{}", t.signal.unwrap_or(0))
            } else {
                format!("Init:ExitCode:{}", t.exit_code)
            };
        } else if let Some(r) = waiting_reason.filter(|r| !r.is_empty() && *r != "PodInitializing")
        {
            reason = format!("Init:{r}");
        } else {
            reason = format!("Init:{}/{}", i, init_containers.len());
        }
        initializing = true;
        break;
    }

    if !initializing || condition_true(pod, "Initialized") {
        restarts = restartable_restarts;
        last_restart = last_restartable_restart;
        let mut has_running = false;
        for cs in statuses.iter().rev() {
            restarts += i64::from(cs.restart_count);
            last_restart = later_restart(last_restart, cs);
            let state = cs.state.as_ref();
            let waiting = state
                .and_then(|s| s.waiting.as_ref())
                .map(|w| str_or_empty(&w.reason));
            let terminated = state.and_then(|s| s.terminated.as_ref());
            if let Some(w) = waiting.filter(|w| !w.is_empty()) {
                reason = w.to_string();
            } else if let Some(t) = terminated {
                let r = str_or_empty(&t.reason);
                reason = if !r.is_empty() {
                    r.to_string()
                } else if t.signal.unwrap_or(0) != 0 {
                    format!("Signal:{}", t.signal.unwrap_or(0))
                } else {
                    format!("ExitCode:{}", t.exit_code)
                };
            } else if cs.ready && state.is_some_and(|s| s.running.is_some()) {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            reason = if condition_true(pod, "Ready") {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }

    if pod.metadata.deletion_timestamp.is_some() && status_reason == "NodeLost" {
        reason = "Unknown".into();
    } else if pod.metadata.deletion_timestamp.is_some() && phase != "Failed" && phase != "Succeeded"
    {
        reason = "Terminating".into();
    }

    let restarts_text = match last_restart {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", since(Some(t), now)),
        _ => restarts.to_string(),
    };

    let pod_ip = status
        .and_then(|s| {
            s.pod_ip.clone().filter(|ip| !ip.is_empty()).or_else(|| {
                s.pod_ips
                    .as_ref()
                    .and_then(|ips| ips.first())
                    .map(|ip| ip.ip.clone())
            })
        })
        .filter(|ip| !ip.is_empty())
        .unwrap_or_else(|| NONE.into());
    let node_name = spec
        .and_then(|s| s.node_name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| NONE.into());
    let nominated = status
        .and_then(|s| s.nominated_node_name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| NONE.into());
    let gates = spec
        .and_then(|s| s.readiness_gates.as_deref())
        .unwrap_or(&[]);
    let readiness_gates = if gates.is_empty() {
        NONE.to_string()
    } else {
        let true_count = gates
            .iter()
            .filter(|g| {
                conditions
                    .iter()
                    .find(|c| c.type_ == g.condition_type)
                    .is_some_and(|c| c.status == "True")
            })
            .count();
        format!("{true_count}/{}", gates.len())
    };

    vec![
        s(name(&pod.metadata)),
        s(format!("{ready}/{total}")),
        s(reason),
        s(restarts_text),
        age(&pod.metadata, now),
        s(pod_ip),
        s(node_name),
        s(nominated),
        s(readiness_gates),
    ]
}

// ---------------------------------------------------------------------------------------------
// PodTemplate
// ---------------------------------------------------------------------------------------------

/// PodTemplate columns: NAME, CONTAINERS, IMAGES, POD LABELS (no AGE upstream).
pub fn pod_template_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("Containers", "Names of each container in the template."),
        col(
            "Images",
            "Images referenced by each container in the template.",
        ),
        col("Pod Labels", "The labels for the pod template."),
    ]
}

/// PodTemplate cells.
pub fn pod_template_cells(obj: &PodTemplate, _now: jiff::Timestamp) -> Vec<Value> {
    let template = obj.template.as_ref();
    let containers = template
        .and_then(|t| t.spec.as_ref())
        .map(|s| s.containers.as_slice())
        .unwrap_or(&[]);
    let (names, images) = layout_containers(containers);
    let labels = template
        .and_then(|t| t.metadata.as_ref())
        .and_then(|m| m.labels.as_ref());
    vec![
        s(name(&obj.metadata)),
        s(names),
        s(images),
        s(format_labels(labels)),
    ]
}

// ---------------------------------------------------------------------------------------------
// ReplicationController
// ---------------------------------------------------------------------------------------------

/// ReplicationController columns: NAME, DESIRED, CURRENT, READY, AGE, and wide CONTAINERS,
/// IMAGES, SELECTOR.
pub fn replication_controller_columns() -> Vec<Column> {
    vec![
        Column::name(),
        icol("Desired", RC_SPEC_REPLICAS),
        icol("Current", RC_STATUS_REPLICAS),
        icol("Ready", RC_STATUS_READY_REPLICAS),
        Column::age(),
        col("Containers", CONTAINERS_DESC).wide(),
        col("Images", IMAGES_DESC).wide(),
        col("Selector", RC_SPEC_SELECTOR).wide(),
    ]
}

/// ReplicationController cells.
pub fn replication_controller_cells(
    obj: &ReplicationController,
    now: jiff::Timestamp,
) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let status = obj.status.as_ref();
    let containers = spec
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.spec.as_ref())
        .map(|s| s.containers.as_slice())
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
        s(format_labels(spec.and_then(|s| s.selector.as_ref()))),
    ]
}

// ---------------------------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------------------------

/// Service columns: NAME, TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S), AGE, and wide SELECTOR.
pub fn service_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("Type", SVC_SPEC_TYPE),
        col("Cluster-IP", SVC_SPEC_CLUSTER_IP),
        col("External-IP", SVC_SPEC_EXTERNAL_IPS),
        col("Port(s)", SVC_SPEC_PORTS),
        Column::age(),
        col("Selector", SVC_SPEC_SELECTOR).wide(),
    ]
}

/// Load-balancer ingress points (IP, else hostname), sorted and de-duplicated, joined by `,`.
/// The server prints wide output, so the text is never clipped.
pub(crate) fn load_balancer_ingress(
    points: impl Iterator<Item = (Option<String>, Option<String>)>,
) -> String {
    let mut items = Vec::new();
    for (ip, hostname) in points {
        let ip = ip.unwrap_or_default();
        let hostname = hostname.unwrap_or_default();
        if !ip.is_empty() {
            items.push(ip);
        } else if !hostname.is_empty() {
            items.push(hostname);
        }
    }
    sorted_unique(items).join(",")
}

fn service_external_ip(svc: &Service) -> String {
    let spec = svc.spec.as_ref();
    let external_ips = spec.and_then(|s| s.external_ips.as_deref()).unwrap_or(&[]);
    match spec.and_then(|s| s.type_.as_deref()).unwrap_or("") {
        "ClusterIP" | "NodePort" => {
            if external_ips.is_empty() {
                NONE.into()
            } else {
                external_ips.join(",")
            }
        }
        "LoadBalancer" => {
            let ingress = svc
                .status
                .as_ref()
                .and_then(|s| s.load_balancer.as_ref())
                .and_then(|lb| lb.ingress.as_deref())
                .unwrap_or(&[]);
            let lb_ips =
                load_balancer_ingress(ingress.iter().map(|i| (i.ip.clone(), i.hostname.clone())));
            if !external_ips.is_empty() {
                let mut all: Vec<String> = Vec::new();
                if !lb_ips.is_empty() {
                    all.extend(lb_ips.split(',').map(str::to_string));
                }
                all.extend(external_ips.iter().cloned());
                return all.join(",");
            }
            if lb_ips.is_empty() {
                "<pending>".into()
            } else {
                lb_ips
            }
        }
        "ExternalName" => spec
            .and_then(|s| s.external_name.clone())
            .unwrap_or_default(),
        _ => UNKNOWN.into(),
    }
}

/// Service cells; ports print as `80/TCP` or `80:30080/TCP` with a node port.
pub fn service_cells(obj: &Service, now: jiff::Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let cluster_ip = spec
        .and_then(|s| {
            s.cluster_ips
                .as_ref()
                .and_then(|ips| ips.first().cloned())
                .or_else(|| s.cluster_ip.clone().filter(|ip| !ip.is_empty()))
        })
        .unwrap_or_else(|| NONE.into());
    let ports: Vec<String> = spec
        .and_then(|s| s.ports.as_deref())
        .unwrap_or(&[])
        .iter()
        .map(|p| {
            let proto = str_or_empty(&p.protocol);
            match p.node_port {
                Some(np) if np > 0 => format!("{}:{}/{}", p.port, np, proto),
                _ => format!("{}/{}", p.port, proto),
            }
        })
        .collect();
    let ports = if ports.is_empty() {
        NONE.to_string()
    } else {
        ports.join(",")
    };
    vec![
        s(name(&obj.metadata)),
        s(spec.and_then(|s| s.type_.clone()).unwrap_or_default()),
        s(cluster_ip),
        s(service_external_ip(obj)),
        s(ports),
        age(&obj.metadata, now),
        s(format_labels(spec.and_then(|s| s.selector.as_ref()))),
    ]
}

// ---------------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------------

/// Endpoints columns: NAME, ENDPOINTS, AGE.
pub fn endpoints_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("Endpoints", ENDPOINTS_SUBSETS),
        Column::age(),
    ]
}

/// Upstream's `formatEndpoints` with all ports: up to three `ip:port` entries, then
/// ` + N more...`; `<none>` without subsets.
fn format_endpoints(obj: &Endpoints) -> String {
    let subsets = obj.subsets.as_deref().unwrap_or(&[]);
    if subsets.is_empty() {
        return NONE.into();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    for ss in subsets {
        let addresses = ss.addresses.as_deref().unwrap_or(&[]);
        let ports = ss.ports.as_deref().unwrap_or(&[]);
        if ports.is_empty() {
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(a.ip.clone());
            }
            continue;
        }
        for port in ports {
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(join_host_port(&a.ip, port.port));
            }
        }
    }
    let joined = list.join(",");
    if more {
        format!("{joined} + {} more...", count - MAX)
    } else {
        joined
    }
}

/// Endpoints cells.
pub fn endpoints_cells(obj: &Endpoints, now: jiff::Timestamp) -> Vec<Value> {
    vec![
        s(name(&obj.metadata)),
        s(format_endpoints(obj)),
        age(&obj.metadata, now),
    ]
}

// ---------------------------------------------------------------------------------------------
// Namespace, Secret, ServiceAccount, ConfigMap
// ---------------------------------------------------------------------------------------------

/// Namespace columns: NAME, STATUS, AGE.
pub fn namespace_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("Status", "The status of the namespace"),
        Column::age(),
    ]
}

/// Namespace cells.
pub fn namespace_cells(obj: &Namespace, now: jiff::Timestamp) -> Vec<Value> {
    let phase = obj
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_default();
    vec![s(name(&obj.metadata)), s(phase), age(&obj.metadata, now)]
}

/// Secret columns: NAME, TYPE, DATA, AGE.
pub fn secret_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("Type", SECRET_TYPE),
        col("Data", SECRET_DATA),
        Column::age(),
    ]
}

/// Secret cells; DATA counts the keys of `data` and `stringData` together (upstream merges
/// `stringData` into `data` when converting).
pub fn secret_cells(obj: &Secret, now: jiff::Timestamp) -> Vec<Value> {
    let mut keys: Vec<&String> = obj.data.iter().flat_map(|d| d.keys()).collect();
    keys.extend(obj.string_data.iter().flat_map(|d| d.keys()));
    keys.sort();
    keys.dedup();
    vec![
        s(name(&obj.metadata)),
        s(obj.type_.clone().unwrap_or_default()),
        int(keys.len() as i64),
        age(&obj.metadata, now),
    ]
}

/// ServiceAccount columns: NAME, SECRETS, AGE.
pub fn service_account_columns() -> Vec<Column> {
    vec![Column::name(), col("Secrets", SA_SECRETS), Column::age()]
}

/// ServiceAccount cells.
pub fn service_account_cells(obj: &ServiceAccount, now: jiff::Timestamp) -> Vec<Value> {
    let n = obj.secrets.as_ref().map_or(0, Vec::len);
    vec![
        s(name(&obj.metadata)),
        int(n as i64),
        age(&obj.metadata, now),
    ]
}

/// ConfigMap columns: NAME, DATA, AGE.
pub fn config_map_columns() -> Vec<Column> {
    vec![Column::name(), col("Data", CONFIGMAP_DATA), Column::age()]
}

/// ConfigMap cells; DATA counts `data` plus `binaryData` keys.
pub fn config_map_cells(obj: &ConfigMap, now: jiff::Timestamp) -> Vec<Value> {
    let n = obj.data.as_ref().map_or(0, BTreeMap::len)
        + obj.binary_data.as_ref().map_or(0, BTreeMap::len);
    vec![
        s(name(&obj.metadata)),
        int(n as i64),
        age(&obj.metadata, now),
    ]
}

// ---------------------------------------------------------------------------------------------
// Node
// ---------------------------------------------------------------------------------------------

/// Node columns: NAME, STATUS, ROLES, AGE, VERSION, and wide INTERNAL-IP, EXTERNAL-IP, OS-IMAGE,
/// KERNEL-VERSION, CONTAINER-RUNTIME.
pub fn node_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("Status", "The status of the node"),
        col("Roles", "The roles of the node"),
        Column::age(),
        col("Version", NODE_INFO_KUBELET_VERSION),
        col("Internal-IP", NODE_STATUS_ADDRESSES).wide(),
        col("External-IP", NODE_STATUS_ADDRESSES).wide(),
        col("OS-Image", NODE_INFO_OS_IMAGE).wide(),
        col("Kernel-Version", NODE_INFO_KERNEL_VERSION).wide(),
        col("Container-Runtime", NODE_INFO_CONTAINER_RUNTIME).wide(),
    ]
}

/// Roles from `node-role.kubernetes.io/<role>` label keys and the `kubernetes.io/role` label
/// value, sorted.
fn node_roles(meta: &ObjectMeta) -> Vec<String> {
    let mut roles = Vec::new();
    for (k, v) in meta.labels.iter().flatten() {
        if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
            if !role.is_empty() {
                roles.push(role.to_string());
            }
        } else if k == "kubernetes.io/role" && !v.is_empty() {
            roles.push(v.clone());
        }
    }
    sorted_unique(roles)
}

/// Node cells; STATUS is `Ready`/`NotReady`/`Unknown` from the Ready condition (the last one of
/// that type wins), plus `SchedulingDisabled` for a cordoned node.
pub fn node_cells(obj: &Node, now: jiff::Timestamp) -> Vec<Value> {
    let status = obj.status.as_ref();
    let ready = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or(&[])
        .iter()
        .rev()
        .find(|c| c.type_ == "Ready");
    let mut states = vec![match ready {
        Some(c) if c.status == "True" => "Ready".to_string(),
        Some(_) => "NotReady".to_string(),
        None => "Unknown".to_string(),
    }];
    if obj
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false)
    {
        states.push("SchedulingDisabled".into());
    }
    let roles = node_roles(&obj.metadata).join(",");
    let roles = if roles.is_empty() {
        NONE.to_string()
    } else {
        roles
    };
    let info = status.and_then(|s| s.node_info.as_ref());
    let or_unknown = |v: Option<&String>| match v {
        Some(v) if !v.is_empty() => v.clone(),
        _ => UNKNOWN.to_string(),
    };
    let addresses = status.and_then(|s| s.addresses.as_deref()).unwrap_or(&[]);
    let address = |t: &str| {
        addresses
            .iter()
            .find(|a| a.type_ == t)
            .map(|a| a.address.clone())
            .unwrap_or_else(|| NONE.into())
    };
    vec![
        s(name(&obj.metadata)),
        s(states.join(",")),
        s(roles),
        age(&obj.metadata, now),
        s(info.map(|i| i.kubelet_version.clone()).unwrap_or_default()),
        s(address("InternalIP")),
        s(address("ExternalIP")),
        s(or_unknown(info.map(|i| &i.os_image))),
        s(or_unknown(info.map(|i| &i.kernel_version))),
        s(or_unknown(info.map(|i| &i.container_runtime_version))),
    ]
}

// ---------------------------------------------------------------------------------------------
// PersistentVolume, PersistentVolumeClaim
// ---------------------------------------------------------------------------------------------

const BETA_STORAGE_CLASS_ANNOTATION: &str = "volume.beta.kubernetes.io/storage-class";

/// Upstream's `GetAccessModesAsString`: `RWO,ROX,RWX,RWOP` in that order, each at most once.
pub(crate) fn access_modes(modes: Option<&Vec<String>>) -> String {
    let modes = modes.map(Vec::as_slice).unwrap_or(&[]);
    let mut out = Vec::new();
    for (mode, short) in [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ] {
        if modes.iter().any(|m| m == mode) {
            out.push(short);
        }
    }
    out.join(",")
}

/// PersistentVolume columns: NAME, CAPACITY, ACCESS MODES, RECLAIM POLICY, STATUS, CLAIM,
/// STORAGECLASS, VOLUMEATTRIBUTESCLASS, REASON, AGE, and wide VOLUMEMODE.
pub fn persistent_volume_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("Capacity", PV_SPEC_CAPACITY),
        col("Access Modes", PV_SPEC_ACCESS_MODES),
        col("Reclaim Policy", PV_SPEC_RECLAIM_POLICY),
        col("Status", PV_STATUS_PHASE),
        col("Claim", PV_SPEC_CLAIM_REF),
        col("StorageClass", "StorageClass of the pv"),
        col("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
        col("Reason", PV_STATUS_REASON),
        Column::age(),
        col("VolumeMode", PV_SPEC_VOLUME_MODE).wide(),
    ]
}

/// PersistentVolume cells.
pub fn persistent_volume_cells(obj: &PersistentVolume, now: jiff::Timestamp) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let status = obj.status.as_ref();
    let claim = spec
        .and_then(|s| s.claim_ref.as_ref())
        .map(|r| format!("{}/{}", str_or_empty(&r.namespace), str_or_empty(&r.name)))
        .unwrap_or_default();
    let mut phase = status.and_then(|s| s.phase.clone()).unwrap_or_default();
    if obj.metadata.deletion_timestamp.is_some() {
        phase = "Terminating".into();
    }
    let class = match obj
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(BETA_STORAGE_CLASS_ANNOTATION))
    {
        Some(c) => c.clone(),
        None => spec
            .and_then(|s| s.storage_class_name.clone())
            .unwrap_or_default(),
    };
    vec![
        s(name(&obj.metadata)),
        s(map_quantity(
            spec.and_then(|s| s.capacity.as_ref()),
            "storage",
        )),
        s(access_modes(spec.and_then(|s| s.access_modes.as_ref()))),
        s(spec
            .and_then(|s| s.persistent_volume_reclaim_policy.clone())
            .unwrap_or_default()),
        s(phase),
        s(claim),
        s(class),
        s(spec
            .and_then(|s| s.volume_attributes_class_name.clone())
            .unwrap_or_else(|| UNSET.into())),
        s(status.and_then(|s| s.reason.clone()).unwrap_or_default()),
        age(&obj.metadata, now),
        s(spec
            .and_then(|s| s.volume_mode.clone())
            .unwrap_or_else(|| UNSET.into())),
    ]
}

/// PersistentVolumeClaim columns: NAME, STATUS, VOLUME, CAPACITY, ACCESS MODES, STORAGECLASS,
/// VOLUMEATTRIBUTESCLASS, AGE, and wide VOLUMEMODE.
pub fn persistent_volume_claim_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col("Status", PVC_STATUS_PHASE),
        col("Volume", PVC_SPEC_VOLUME_NAME),
        col("Capacity", PVC_STATUS_CAPACITY),
        col("Access Modes", PVC_STATUS_ACCESS_MODES),
        col("StorageClass", "StorageClass of the pvc"),
        col("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
        Column::age(),
        col("VolumeMode", PVC_SPEC_VOLUME_MODE).wide(),
    ]
}

/// PersistentVolumeClaim cells; CAPACITY and ACCESS MODES are only shown once bound to a volume.
pub fn persistent_volume_claim_cells(
    obj: &PersistentVolumeClaim,
    now: jiff::Timestamp,
) -> Vec<Value> {
    let spec = obj.spec.as_ref();
    let status = obj.status.as_ref();
    let mut phase = status.and_then(|s| s.phase.clone()).unwrap_or_default();
    if obj.metadata.deletion_timestamp.is_some() {
        phase = "Terminating".into();
    }
    let volume_name = spec.and_then(|s| s.volume_name.clone()).unwrap_or_default();
    let (capacity, modes) = if volume_name.is_empty() {
        (String::new(), String::new())
    } else {
        (
            map_quantity(status.and_then(|s| s.capacity.as_ref()), "storage"),
            access_modes(status.and_then(|s| s.access_modes.as_ref())),
        )
    };
    let class = match obj
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(BETA_STORAGE_CLASS_ANNOTATION))
    {
        Some(c) => c.clone(),
        None => spec
            .and_then(|s| s.storage_class_name.clone())
            .unwrap_or_default(),
    };
    vec![
        s(name(&obj.metadata)),
        s(phase),
        s(volume_name),
        s(capacity),
        s(modes),
        s(class),
        s(spec
            .and_then(|s| s.volume_attributes_class_name.clone())
            .unwrap_or_else(|| UNSET.into())),
        age(&obj.metadata, now),
        s(spec
            .and_then(|s| s.volume_mode.clone())
            .unwrap_or_else(|| UNSET.into())),
    ]
}

// ---------------------------------------------------------------------------------------------
// ResourceQuota, LimitRange
// ---------------------------------------------------------------------------------------------

/// ResourceQuota columns: NAME, REQUEST, LIMIT, AGE.
pub fn resource_quota_columns() -> Vec<Column> {
    vec![
        Column::name(),
        col(
            "Request",
            "Request represents a minimum amount of cpu/memory that a container may consume.",
        ),
        col(
            "Limit",
            "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
        ),
        Column::age(),
    ]
}

/// ResourceQuota cells: `resource: used/hard` for each hard limit in name order, `limits.*`
/// resources in LIMIT and the rest in REQUEST.
pub fn resource_quota_cells(obj: &ResourceQuota, now: jiff::Timestamp) -> Vec<Value> {
    let status = obj.status.as_ref();
    let hard = status.and_then(|s| s.hard.as_ref());
    let used = status.and_then(|s| s.used.as_ref());
    let mut requests = Vec::new();
    let mut limits = Vec::new();
    for (resource, hard_q) in hard.into_iter().flatten() {
        let entry = format!(
            "{resource}: {}/{}",
            map_quantity(used, resource),
            format_quantity(&hard_q.0)
        );
        let pieces: Vec<&str> = resource.split('.').collect();
        if pieces.len() > 1 && pieces[0] == "limits" {
            limits.push(entry);
        } else {
            requests.push(entry);
        }
    }
    vec![
        s(name(&obj.metadata)),
        s(requests.join(", ")),
        s(limits.join(", ")),
        age(&obj.metadata, now),
    ]
}

/// LimitRange has no printer upstream: the default table (NAME, CREATED AT).
pub fn limit_range_columns() -> Vec<Column> {
    default_columns()
}

/// LimitRange cells of the default table.
pub fn limit_range_cells(obj: &LimitRange, _now: jiff::Timestamp) -> Vec<Value> {
    default_cells(&obj.metadata)
}

// ---------------------------------------------------------------------------------------------
// Event
// ---------------------------------------------------------------------------------------------

/// Event columns: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE, and wide SUBOBJECT, SOURCE,
/// FIRST SEEN, COUNT, NAME. The first column is LAST SEEN, not the name.
pub fn event_columns() -> Vec<Column> {
    vec![
        col("Last Seen", EVENT_LAST_TIMESTAMP),
        col("Type", EVENT_TYPE),
        col("Reason", EVENT_REASON),
        col("Object", EVENT_INVOLVED_OBJECT),
        col("Subobject", OBJECT_REFERENCE_FIELD_PATH).wide(),
        col("Source", EVENT_SOURCE).wide(),
        col("Message", EVENT_MESSAGE),
        col("First Seen", EVENT_FIRST_TIMESTAMP).wide(),
        col("Count", EVENT_COUNT).wide(),
        Column::name().wide(),
    ]
}

/// The fields of a core event the printer reads; events.k8s.io events convert into it.
pub(crate) struct EventView<'a> {
    pub meta: &'a ObjectMeta,
    pub involved: Option<&'a ObjectReference>,
    pub source: Option<&'a EventSource>,
    pub reporting_controller: Option<&'a str>,
    pub reporting_instance: Option<&'a str>,
    pub first_timestamp: Option<jiff::Timestamp>,
    pub last_timestamp: Option<jiff::Timestamp>,
    pub event_time: Option<jiff::Timestamp>,
    /// `(count, lastObservedTime)` of the series.
    pub series: Option<(i32, Option<jiff::Timestamp>)>,
    pub count: i32,
    pub type_: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub message: Option<&'a str>,
}

fn first_non_empty<'a>(a: Option<&'a str>, b: Option<&'a str>) -> &'a str {
    match a {
        Some(a) if !a.is_empty() => a,
        _ => b.unwrap_or(""),
    }
}

pub(crate) fn event_view_cells(e: &EventView<'_>, now: jiff::Timestamp) -> Vec<Value> {
    let first = match e.first_timestamp {
        Some(t) => since(Some(t), now),
        None => since(e.event_time, now),
    };
    let mut last = match e.last_timestamp {
        Some(t) => since(Some(t), now),
        None => first.clone(),
    };
    let mut count = e.count;
    if let Some((series_count, observed)) = e.series {
        last = since(observed, now);
        count = series_count;
    } else if count == 0 {
        count = 1;
    }
    let kind = e
        .involved
        .and_then(|r| r.kind.as_deref())
        .unwrap_or("")
        .to_lowercase();
    let obj_name = e.involved.and_then(|r| r.name.as_deref()).unwrap_or("");
    let target = if obj_name.is_empty() {
        kind
    } else {
        format!("{kind}/{obj_name}")
    };
    let component = first_non_empty(
        e.source.and_then(|s| s.component.as_deref()),
        e.reporting_controller,
    );
    let host = first_non_empty(
        e.source.and_then(|s| s.host.as_deref()),
        e.reporting_instance,
    );
    let source = if host.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {host}")
    };
    vec![
        s(last),
        s(e.type_.unwrap_or("")),
        s(e.reason.unwrap_or("")),
        s(target),
        s(e.involved
            .and_then(|r| r.field_path.as_deref())
            .unwrap_or("")),
        s(source),
        s(e.message.unwrap_or("").trim()),
        s(first),
        int(count),
        s(name(e.meta)),
    ]
}

/// Event cells. LAST SEEN falls back to FIRST SEEN, which falls back to `eventTime`; a series
/// overrides LAST SEEN and COUNT; a count of zero prints as 1.
pub fn event_cells(obj: &Event, now: jiff::Timestamp) -> Vec<Value> {
    let view = EventView {
        meta: &obj.metadata,
        involved: Some(&obj.involved_object),
        source: obj.source.as_ref(),
        reporting_controller: obj.reporting_component.as_deref(),
        reporting_instance: obj.reporting_instance.as_deref(),
        first_timestamp: obj.first_timestamp.as_ref().map(|t| t.0),
        last_timestamp: obj.last_timestamp.as_ref().map(|t| t.0),
        event_time: obj.event_time.as_ref().map(|t| t.0),
        series: obj.series.as_ref().map(|sr| {
            (
                sr.count.unwrap_or(0),
                sr.last_observed_time.as_ref().map(|t| t.0),
            )
        }),
        count: obj.count.unwrap_or(0),
        type_: obj.type_.as_deref(),
        reason: obj.reason.as_deref(),
        message: obj.message.as_deref(),
    };
    event_view_cells(&view, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::testutil::{ago, cells, meta, now};
    use k8s_openapi::api::core::v1::*;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
    use serde_json::json;

    fn container(name: &str, image: &str) -> Container {
        Container {
            name: name.into(),
            image: Some(image.into()),
            ..Default::default()
        }
    }

    fn running(name: &str, ready: bool, restarts: i32) -> ContainerStatus {
        ContainerStatus {
            name: name.into(),
            ready,
            restart_count: restarts,
            state: Some(ContainerState {
                running: Some(Default::default()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn pod_with(containers: Vec<Container>, statuses: Vec<ContainerStatus>, phase: &str) -> Pod {
        Pod {
            metadata: meta("web-1", 600),
            spec: Some(PodSpec {
                containers,
                node_name: Some("node-a".into()),
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: Some(phase.into()),
                container_statuses: Some(statuses),
                pod_ip: Some("10.1.2.3".into()),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn pod_columns_shape() {
        let cols = pod_columns();
        let names: Vec<_> = cols.iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "Name",
                "Ready",
                "Status",
                "Restarts",
                "Age",
                "IP",
                "Node",
                "Nominated Node",
                "Readiness Gates"
            ]
        );
        assert_eq!(cols[3].type_, "string");
        assert_eq!(
            cols.iter().map(|c| c.priority).collect::<Vec<_>>(),
            [0, 0, 0, 0, 0, 1, 1, 1, 1]
        );
        assert_eq!(
            cols[5].description,
            "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."
        );
    }

    #[test]
    fn pod_running_with_restarts() {
        let mut restarted = running("sidecar", false, 3);
        restarted.last_state = Some(ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code: 1,
                finished_at: Some(ago(300)),
                ..Default::default()
            }),
            ..Default::default()
        });
        let pod = pod_with(
            vec![
                container("app", "nginx:1.25"),
                container("sidecar", "busybox"),
            ],
            vec![running("app", true, 0), restarted],
            "Running",
        );
        assert_eq!(
            cells(pod_cells(&pod, now())),
            json!([
                "web-1",
                "1/2",
                "Running",
                "3 (5m ago)",
                "10m",
                "10.1.2.3",
                "node-a",
                "<none>",
                "<none>"
            ])
        );
    }

    #[test]
    fn pod_crash_loop() {
        let st = ContainerStatus {
            name: "app".into(),
            restart_count: 7,
            state: Some(ContainerState {
                waiting: Some(ContainerStateWaiting {
                    reason: Some("CrashLoopBackOff".into()),
                    message: None,
                }),
                ..Default::default()
            }),
            last_state: Some(ContainerState {
                terminated: Some(ContainerStateTerminated {
                    exit_code: 2,
                    reason: Some("Error".into()),
                    finished_at: Some(ago(45)),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let pod = pod_with(vec![container("app", "app:v1")], vec![st], "Running");
        let c = pod_cells(&pod, now());
        assert_eq!(c[1], json!("0/1"));
        assert_eq!(c[2], json!("CrashLoopBackOff"));
        assert_eq!(c[3], json!("7 (45s ago)"));
    }

    #[test]
    fn pod_init_container_pending() {
        let mut pod = pod_with(vec![container("app", "app")], vec![], "Pending");
        pod.spec.as_mut().unwrap().init_containers = Some(vec![container("init", "busybox")]);
        pod.status.as_mut().unwrap().init_container_statuses = Some(vec![ContainerStatus {
            name: "init".into(),
            state: Some(ContainerState {
                running: Some(Default::default()),
                ..Default::default()
            }),
            ..Default::default()
        }]);
        pod.status.as_mut().unwrap().pod_ip = None;
        pod.spec.as_mut().unwrap().node_name = None;
        let c = pod_cells(&pod, now());
        assert_eq!(c[2], json!("Init:0/1"));
        assert_eq!(c[3], json!("0"));
        assert_eq!(c[5], json!("<none>"));
        assert_eq!(c[6], json!("<none>"));
    }

    #[test]
    fn pod_init_container_failed_and_waiting() {
        let mut pod = pod_with(vec![container("app", "app")], vec![], "Pending");
        pod.spec.as_mut().unwrap().init_containers =
            Some(vec![container("a", "x"), container("b", "y")]);
        pod.status.as_mut().unwrap().init_container_statuses = Some(vec![
            ContainerStatus {
                name: "a".into(),
                state: Some(ContainerState {
                    terminated: Some(ContainerStateTerminated {
                        exit_code: 0,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ContainerStatus {
                name: "b".into(),
                restart_count: 2,
                state: Some(ContainerState {
                    terminated: Some(ContainerStateTerminated {
                        exit_code: 137,
                        signal: Some(9),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ]);
        let c = pod_cells(&pod, now());
        assert_eq!(c[2], json!("Init:Signal:9"));
        assert_eq!(c[3], json!("2"));

        pod.status
            .as_mut()
            .unwrap()
            .init_container_statuses
            .as_mut()
            .unwrap()[1]
            .state = Some(ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some("ImagePullBackOff".into()),
                message: None,
            }),
            ..Default::default()
        });
        assert_eq!(pod_cells(&pod, now())[2], json!("Init:ImagePullBackOff"));
    }

    #[test]
    fn pod_sidecar_counts_as_container() {
        let mut sidecar = container("proxy", "envoy");
        sidecar.restart_policy = Some("Always".into());
        let mut pod = pod_with(
            vec![container("app", "app")],
            vec![running("app", true, 1)],
            "Running",
        );
        pod.spec.as_mut().unwrap().init_containers = Some(vec![sidecar]);
        pod.status.as_mut().unwrap().init_container_statuses = Some(vec![ContainerStatus {
            name: "proxy".into(),
            ready: true,
            started: Some(true),
            restart_count: 2,
            state: Some(ContainerState {
                running: Some(Default::default()),
                ..Default::default()
            }),
            ..Default::default()
        }]);
        let c = pod_cells(&pod, now());
        assert_eq!(c[1], json!("2/2"));
        assert_eq!(c[2], json!("Running"));
        assert_eq!(c[3], json!("3"));
    }

    #[test]
    fn pod_terminating_and_completed() {
        let mut pod = pod_with(
            vec![container("app", "app")],
            vec![running("app", true, 0)],
            "Running",
        );
        pod.metadata.deletion_timestamp = Some(ago(5));
        assert_eq!(pod_cells(&pod, now())[2], json!("Terminating"));
        pod.status.as_mut().unwrap().reason = Some("NodeLost".into());
        assert_eq!(pod_cells(&pod, now())[2], json!("Unknown"));

        let done = ContainerStatus {
            name: "app".into(),
            state: Some(ContainerState {
                terminated: Some(ContainerStateTerminated {
                    exit_code: 0,
                    reason: Some("Completed".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut pod = pod_with(vec![container("app", "app")], vec![done], "Succeeded");
        pod.metadata.deletion_timestamp = Some(ago(5));
        assert_eq!(pod_cells(&pod, now())[2], json!("Completed"));
        assert_eq!(pod_cells(&pod, now())[1], json!("0/1"));
    }

    #[test]
    fn pod_completed_with_running_container_and_gates() {
        let done = ContainerStatus {
            name: "job".into(),
            state: Some(ContainerState {
                terminated: Some(ContainerStateTerminated {
                    exit_code: 0,
                    reason: Some("Completed".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut pod = pod_with(
            vec![container("app", "a"), container("job", "b")],
            vec![running("app", true, 0), done],
            "Running",
        );
        let status = pod.status.as_mut().unwrap();
        status.conditions = Some(vec![
            PodCondition {
                type_: "Ready".into(),
                status: "False".into(),
                ..Default::default()
            },
            PodCondition {
                type_: "example.com/gate".into(),
                status: "True".into(),
                ..Default::default()
            },
        ]);
        status.nominated_node_name = Some("node-b".into());
        pod.spec.as_mut().unwrap().readiness_gates = Some(vec![
            PodReadinessGate {
                condition_type: "example.com/gate".into(),
            },
            PodReadinessGate {
                condition_type: "example.com/other".into(),
            },
        ]);
        let c = pod_cells(&pod, now());
        assert_eq!(c[2], json!("NotReady"));
        assert_eq!(c[7], json!("node-b"));
        assert_eq!(c[8], json!("1/2"));
    }

    #[test]
    fn pod_scheduling_gated_and_exit_code() {
        let mut pod = pod_with(vec![container("app", "a")], vec![], "Pending");
        pod.status.as_mut().unwrap().conditions = Some(vec![PodCondition {
            type_: "PodScheduled".into(),
            status: "False".into(),
            reason: Some("SchedulingGated".into()),
            ..Default::default()
        }]);
        assert_eq!(pod_cells(&pod, now())[2], json!("SchedulingGated"));

        let failed = ContainerStatus {
            name: "app".into(),
            state: Some(ContainerState {
                terminated: Some(ContainerStateTerminated {
                    exit_code: 3,
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let pod = pod_with(vec![container("app", "a")], vec![failed], "Failed");
        assert_eq!(pod_cells(&pod, now())[2], json!("ExitCode:3"));
    }

    #[test]
    fn node_roles_and_cordon() {
        let mut m = meta("cp-1", 3 * 86400 + 4 * 3600);
        m.labels = Some(
            [
                (
                    "node-role.kubernetes.io/control-plane".to_string(),
                    "".to_string(),
                ),
                ("node-role.kubernetes.io/etcd".into(), "".into()),
                ("kubernetes.io/role".into(), "master".into()),
                ("node-role.kubernetes.io/".into(), "".into()),
            ]
            .into(),
        );
        let node = Node {
            metadata: m,
            spec: Some(NodeSpec {
                unschedulable: Some(true),
                ..Default::default()
            }),
            status: Some(NodeStatus {
                conditions: Some(vec![
                    NodeCondition {
                        type_: "MemoryPressure".into(),
                        status: "False".into(),
                        ..Default::default()
                    },
                    NodeCondition {
                        type_: "Ready".into(),
                        status: "True".into(),
                        ..Default::default()
                    },
                ]),
                addresses: Some(vec![
                    NodeAddress {
                        type_: "Hostname".into(),
                        address: "cp-1".into(),
                    },
                    NodeAddress {
                        type_: "InternalIP".into(),
                        address: "192.168.1.10".into(),
                    },
                ]),
                node_info: Some(NodeSystemInfo {
                    kubelet_version: "v1.32.0".into(),
                    os_image: "Ubuntu 24.04 LTS".into(),
                    kernel_version: "6.8.0".into(),
                    container_runtime_version: "".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        };
        assert_eq!(
            cells(node_cells(&node, now())),
            json!([
                "cp-1",
                "Ready,SchedulingDisabled",
                "control-plane,etcd,master",
                "3d4h",
                "v1.32.0",
                "192.168.1.10",
                "<none>",
                "Ubuntu 24.04 LTS",
                "6.8.0",
                "<unknown>"
            ])
        );
    }

    #[test]
    fn node_not_ready_and_unknown() {
        let mut node = Node {
            metadata: meta("w", 10),
            ..Default::default()
        };
        let c = node_cells(&node, now());
        assert_eq!(c[1], json!("Unknown"));
        assert_eq!(c[2], json!("<none>"));
        node.status = Some(NodeStatus {
            conditions: Some(vec![NodeCondition {
                type_: "Ready".into(),
                status: "Unknown".into(),
                ..Default::default()
            }]),
            ..Default::default()
        });
        assert_eq!(node_cells(&node, now())[1], json!("NotReady"));
    }

    fn svc(type_: &str) -> Service {
        Service {
            metadata: meta("web", 3600 * 5 + 180),
            spec: Some(ServiceSpec {
                type_: Some(type_.into()),
                cluster_ip: Some("10.96.0.10".into()),
                cluster_ips: Some(vec!["10.96.0.10".into()]),
                ports: Some(vec![
                    ServicePort {
                        port: 80,
                        node_port: Some(30080),
                        protocol: Some("TCP".into()),
                        ..Default::default()
                    },
                    ServicePort {
                        port: 53,
                        protocol: Some("UDP".into()),
                        ..Default::default()
                    },
                ]),
                selector: Some([("app".to_string(), "web".to_string())].into()),
                ..Default::default()
            }),
            status: None,
        }
    }

    #[test]
    fn service_node_port() {
        assert_eq!(
            cells(service_cells(&svc("NodePort"), now())),
            json!([
                "web",
                "NodePort",
                "10.96.0.10",
                "<none>",
                "80:30080/TCP,53/UDP",
                "5h3m",
                "app=web"
            ])
        );
    }

    #[test]
    fn service_load_balancer() {
        let mut lb = svc("LoadBalancer");
        assert_eq!(service_cells(&lb, now())[3], json!("<pending>"));
        lb.status = Some(ServiceStatus {
            load_balancer: Some(LoadBalancerStatus {
                ingress: Some(vec![
                    LoadBalancerIngress {
                        hostname: Some("lb.example.com".into()),
                        ..Default::default()
                    },
                    LoadBalancerIngress {
                        ip: Some("203.0.113.7".into()),
                        ..Default::default()
                    },
                ]),
            }),
            ..Default::default()
        });
        assert_eq!(
            service_cells(&lb, now())[3],
            json!("203.0.113.7,lb.example.com")
        );
        lb.spec.as_mut().unwrap().external_ips = Some(vec!["198.51.100.1".into()]);
        assert_eq!(
            service_cells(&lb, now())[3],
            json!("203.0.113.7,lb.example.com,198.51.100.1")
        );
    }

    #[test]
    fn service_headless_and_external_name() {
        let mut h = svc("ClusterIP");
        let spec = h.spec.as_mut().unwrap();
        spec.cluster_ip = Some("None".into());
        spec.cluster_ips = Some(vec!["None".into()]);
        spec.ports = None;
        spec.selector = None;
        let c = service_cells(&h, now());
        assert_eq!(c[2], json!("None"));
        assert_eq!(c[4], json!("<none>"));
        assert_eq!(c[6], json!("<none>"));

        let mut e = svc("ExternalName");
        let spec = e.spec.as_mut().unwrap();
        spec.external_name = Some("db.example.com".into());
        spec.cluster_ip = None;
        spec.cluster_ips = None;
        let c = service_cells(&e, now());
        assert_eq!(c[2], json!("<none>"));
        assert_eq!(c[3], json!("db.example.com"));
    }

    #[test]
    fn endpoints_formatting() {
        let addr = |ip: &str| EndpointAddress {
            ip: ip.into(),
            ..Default::default()
        };
        let ep = Endpoints {
            metadata: meta("web", 60),
            subsets: Some(vec![EndpointSubset {
                addresses: Some(vec![addr("10.0.0.1"), addr("10.0.0.2"), addr("fd00::3")]),
                ports: Some(vec![
                    EndpointPort {
                        port: 80,
                        ..Default::default()
                    },
                    EndpointPort {
                        port: 443,
                        ..Default::default()
                    },
                ]),
                ..Default::default()
            }]),
        };
        assert_eq!(
            cells(endpoints_cells(&ep, now())),
            json!([
                "web",
                "10.0.0.1:80,10.0.0.2:80,[fd00::3]:80 + 3 more...",
                "60s"
            ])
        );
        let headless = Endpoints {
            metadata: meta("h", 60),
            subsets: Some(vec![EndpointSubset {
                addresses: Some(vec![addr("10.0.0.9")]),
                ..Default::default()
            }]),
        };
        assert_eq!(endpoints_cells(&headless, now())[1], json!("10.0.0.9"));
        let empty = Endpoints {
            metadata: meta("e", 60),
            subsets: None,
        };
        assert_eq!(endpoints_cells(&empty, now())[1], json!("<none>"));
    }

    #[test]
    fn simple_core_kinds() {
        let ns = Namespace {
            metadata: meta("default", 86400 * 40),
            status: Some(NamespaceStatus {
                phase: Some("Active".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            cells(namespace_cells(&ns, now())),
            json!(["default", "Active", "40d"])
        );

        let secret = Secret {
            metadata: meta("tls", 30),
            type_: Some("kubernetes.io/tls".into()),
            data: Some(
                [
                    ("tls.crt".to_string(), k8s_openapi::ByteString(vec![1])),
                    ("tls.key".into(), k8s_openapi::ByteString(vec![2])),
                ]
                .into(),
            ),
            string_data: Some([("extra".to_string(), "x".to_string())].into()),
            ..Default::default()
        };
        assert_eq!(
            cells(secret_cells(&secret, now())),
            json!(["tls", "kubernetes.io/tls", 3, "30s"])
        );

        let sa = ServiceAccount {
            metadata: meta("default", 30),
            ..Default::default()
        };
        assert_eq!(
            cells(service_account_cells(&sa, now())),
            json!(["default", 0, "30s"])
        );

        let cm = ConfigMap {
            metadata: meta("cfg", 30),
            data: Some([("a".to_string(), "1".to_string())].into()),
            binary_data: Some([("b".to_string(), k8s_openapi::ByteString(vec![0]))].into()),
            ..Default::default()
        };
        assert_eq!(
            cells(config_map_cells(&cm, now())),
            json!(["cfg", 2, "30s"])
        );
        assert_eq!(config_map_columns()[1].type_, "string");
        assert_eq!(secret_columns()[1].description, SECRET_TYPE);
    }

    #[test]
    fn persistent_volumes() {
        let pv = PersistentVolume {
            metadata: meta("pv-1", 120),
            spec: Some(PersistentVolumeSpec {
                capacity: Some([("storage".to_string(), Quantity("1.5Gi".into()))].into()),
                access_modes: Some(vec![
                    "ReadWriteMany".into(),
                    "ReadWriteOnce".into(),
                    "ReadWriteOnce".into(),
                ]),
                persistent_volume_reclaim_policy: Some("Retain".into()),
                claim_ref: Some(ObjectReference {
                    namespace: Some("default".into()),
                    name: Some("data".into()),
                    ..Default::default()
                }),
                storage_class_name: Some("fast".into()),
                volume_mode: Some("Filesystem".into()),
                ..Default::default()
            }),
            status: Some(PersistentVolumeStatus {
                phase: Some("Bound".into()),
                ..Default::default()
            }),
        };
        assert_eq!(
            cells(persistent_volume_cells(&pv, now())),
            json!([
                "pv-1",
                "1536Mi",
                "RWO,RWX",
                "Retain",
                "Bound",
                "default/data",
                "fast",
                "<unset>",
                "",
                "2m",
                "Filesystem"
            ])
        );

        let mut pvc = PersistentVolumeClaim {
            metadata: meta("data", 120),
            spec: Some(PersistentVolumeClaimSpec {
                storage_class_name: Some("fast".into()),
                resources: Some(VolumeResourceRequirements {
                    requests: Some([("storage".to_string(), Quantity("1Gi".into()))].into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            status: Some(PersistentVolumeClaimStatus {
                phase: Some("Pending".into()),
                ..Default::default()
            }),
        };
        assert_eq!(
            cells(persistent_volume_claim_cells(&pvc, now())),
            json!([
                "data", "Pending", "", "", "", "fast", "<unset>", "2m", "<unset>"
            ])
        );
        pvc.spec.as_mut().unwrap().volume_name = Some("pv-1".into());
        pvc.status = Some(PersistentVolumeClaimStatus {
            phase: Some("Bound".into()),
            capacity: Some([("storage".to_string(), Quantity("1024Mi".into()))].into()),
            access_modes: Some(vec!["ReadWriteOncePod".into()]),
            ..Default::default()
        });
        pvc.metadata.annotations = Some(
            [(
                "volume.beta.kubernetes.io/storage-class".to_string(),
                "legacy".to_string(),
            )]
            .into(),
        );
        pvc.metadata.deletion_timestamp = Some(ago(1));
        assert_eq!(
            cells(persistent_volume_claim_cells(&pvc, now())),
            json!([
                "data",
                "Terminating",
                "pv-1",
                "1Gi",
                "RWOP",
                "legacy",
                "<unset>",
                "2m",
                "<unset>"
            ])
        );
    }

    #[test]
    fn resource_quota() {
        let rq = ResourceQuota {
            metadata: meta("quota", 60),
            status: Some(ResourceQuotaStatus {
                hard: Some(
                    [
                        ("requests.cpu".to_string(), Quantity("1".into())),
                        ("limits.memory".into(), Quantity("2Gi".into())),
                        ("pods".into(), Quantity("10".into())),
                        ("limits.cpu".into(), Quantity("2000m".into())),
                    ]
                    .into(),
                ),
                used: Some(
                    [
                        ("requests.cpu".to_string(), Quantity("0.5".into())),
                        ("pods".into(), Quantity("3".into())),
                    ]
                    .into(),
                ),
            }),
            ..Default::default()
        };
        assert_eq!(
            cells(resource_quota_cells(&rq, now())),
            json!([
                "quota",
                "pods: 3/10, requests.cpu: 500m/1",
                "limits.cpu: 0/2, limits.memory: 0/2Gi",
                "60s"
            ])
        );
    }

    #[test]
    fn templates_and_controllers() {
        let template = PodTemplateSpec {
            metadata: Some(ObjectMeta {
                labels: Some(
                    [
                        ("app".to_string(), "web".to_string()),
                        ("tier".into(), "fe".into()),
                    ]
                    .into(),
                ),
                ..Default::default()
            }),
            spec: Some(PodSpec {
                containers: vec![container("a", "img-a"), container("b", "img-b")],
                ..Default::default()
            }),
        };
        let pt = PodTemplate {
            metadata: meta("tpl", 10),
            template: Some(template.clone()),
        };
        assert_eq!(
            cells(pod_template_cells(&pt, now())),
            json!(["tpl", "a,b", "img-a,img-b", "app=web,tier=fe"])
        );
        assert_eq!(pod_template_columns().len(), 4);

        let rc = ReplicationController {
            metadata: meta("rc", 10),
            spec: Some(ReplicationControllerSpec {
                replicas: Some(3),
                selector: Some([("app".to_string(), "web".to_string())].into()),
                template: Some(template),
                ..Default::default()
            }),
            status: Some(ReplicationControllerStatus {
                replicas: 3,
                ready_replicas: Some(2),
                ..Default::default()
            }),
        };
        assert_eq!(
            cells(replication_controller_cells(&rc, now())),
            json!(["rc", 3, 3, 2, "10s", "a,b", "img-a,img-b", "app=web"])
        );
    }

    #[test]
    fn limit_range_default_table() {
        let lr = LimitRange {
            metadata: meta("limits", 10),
            spec: None,
        };
        assert_eq!(
            cells(limit_range_cells(&lr, now())),
            json!(["limits", "2024-05-01T11:59:50Z"])
        );
        assert_eq!(limit_range_columns()[1].name, "Created At");
    }

    fn event() -> Event {
        Event {
            metadata: meta("web-1.17b", 600),
            involved_object: ObjectReference {
                kind: Some("Pod".into()),
                name: Some("web-1".into()),
                field_path: Some("spec.containers{app}".into()),
                ..Default::default()
            },
            reason: Some("BackOff".into()),
            type_: Some("Warning".into()),
            message: Some("Back-off restarting failed container\n".into()),
            source: Some(EventSource {
                component: Some("kubelet".into()),
                host: Some("node-a".into()),
            }),
            first_timestamp: Some(ago(600)),
            last_timestamp: Some(ago(30)),
            count: Some(12),
            ..Default::default()
        }
    }

    #[test]
    fn event_cells_classic() {
        assert_eq!(
            cells(event_cells(&event(), now())),
            json!([
                "30s",
                "Warning",
                "BackOff",
                "pod/web-1",
                "spec.containers{app}",
                "kubelet, node-a",
                "Back-off restarting failed container",
                "10m",
                12,
                "web-1.17b"
            ])
        );
        let cols = event_columns();
        assert_eq!(cols[0].name, "Last Seen");
        assert_eq!(cols[9].format, "name");
        assert_eq!(
            cols.iter().map(|c| c.priority).collect::<Vec<_>>(),
            [0, 0, 0, 0, 1, 1, 0, 1, 1, 1]
        );
    }

    #[test]
    fn event_cells_new_api_shape() {
        let mut e = event();
        e.first_timestamp = None;
        e.last_timestamp = None;
        e.count = None;
        e.source = None;
        e.reporting_component = Some("default-scheduler".into());
        e.event_time = Some(MicroTime(now() - jiff::SignedDuration::from_millis(95_500)));
        e.involved_object.name = None;
        let c = event_cells(&e, now());
        assert_eq!(c[0], json!("95s"));
        assert_eq!(c[3], json!("pod"));
        assert_eq!(c[5], json!("default-scheduler"));
        assert_eq!(c[7], json!("95s"));
        assert_eq!(c[8], json!(1));

        e.series = Some(EventSeries {
            count: Some(4),
            last_observed_time: Some(MicroTime(now() - jiff::SignedDuration::from_secs(8))),
        });
        let c = event_cells(&e, now());
        assert_eq!(c[0], json!("8s"));
        assert_eq!(c[8], json!(4));

        let bare = Event {
            metadata: meta("x", 1),
            ..Default::default()
        };
        let c = event_cells(&bare, now());
        assert_eq!(c[0], json!("<unknown>"));
        assert_eq!(c[7], json!("<unknown>"));
        let _ = Time(now());
    }
}
