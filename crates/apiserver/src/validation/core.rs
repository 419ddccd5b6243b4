//! The other core/v1 kinds: Namespace, Node, ConfigMap, Secret, ServiceAccount, Endpoints,
//! Event, LimitRange, ResourceQuota and ReplicationController (Pods, PodTemplates, Services,
//! PVs and PVCs have their own modules).

use std::collections::{BTreeMap, BTreeSet};

use apimachinery::field::{ErrorList, Path};
use apimachinery::validation as v;
use k8s_openapi::api::core::v1 as api;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as KQuantity;

use super::common::*;
use super::core_pod::{
    resource_quantity_value, taint_effect, template_opts, validate_container_resource_name,
    validate_pod_template_spec, validate_resource_name, PodOpts,
};
use apimachinery::quantity::{self, Quantity};

pub use super::core_service::{normalize_service_create, normalize_service_update, service, service_status_update, service_update};

/// Upstream's `MaxSecretSize` (also the ConfigMap limit): 1 MiB.
pub const MAX_SECRET_SIZE: usize = 1024 * 1024;

const STANDARD_FINALIZERS: &[&str] = &["kubernetes", "orphan", "foregroundDeletion"];

fn finalizer_name(name: &str, path: &Path) -> Errs {
    let mut e = qualified_name(name, path);
    if !name.contains('/') && !STANDARD_FINALIZERS.contains(&name) {
        e.push(invalid(path, name, "name is neither a standard finalizer name nor is it fully qualified"));
    }
    e
}

// ---------------------------------------------------------------------------------------------
// Namespace
// ---------------------------------------------------------------------------------------------

/// Namespace create: `spec.finalizers` entries must be qualified names and, without a `/`,
/// standard finalizers (errors at `spec.finalizers`, without an index, as upstream).
pub fn namespace(ns: &api::Namespace) -> ErrorList {
    let mut e = Vec::new();
    for f in ns.spec.as_ref().and_then(|s| s.finalizers.as_ref()).into_iter().flatten() {
        e.extend(finalizer_name(f, &p("spec").child("finalizers")));
    }
    done(e)
}

/// Namespace update: upstream checks only metadata; nothing here.
pub fn namespace_update(_new: &api::Namespace, _old: &api::Namespace) -> ErrorList {
    done(Vec::new())
}

/// Namespace status update: the phase must be `Active` without a deletion timestamp and
/// `Terminating` with one.
pub fn namespace_status_update(new: &api::Namespace, _old: &api::Namespace) -> ErrorList {
    let phase = new.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default();
    let path = p("status").child("Phase");
    let mut e = Vec::new();
    if new.metadata.deletion_timestamp.is_none() {
        if phase != "Active" {
            e.push(invalid(&path, phase, "may only be 'Active' if `deletionTimestamp` is empty"));
        }
    } else if phase != "Terminating" {
        e.push(invalid(&path, phase, "may only be 'Terminating' if `deletionTimestamp` is not empty"));
    }
    done(e)
}

/// Namespace finalize (the `finalize` subresource): each `spec.finalizers[i]` is checked.
pub fn namespace_finalize_update(new: &api::Namespace, _old: &api::Namespace) -> ErrorList {
    let mut e = Vec::new();
    for (i, f) in new.spec.as_ref().and_then(|s| s.finalizers.as_ref()).into_iter().flatten().enumerate() {
        e.extend(finalizer_name(f, &p("spec").child("finalizers").index(i)));
    }
    done(e)
}

// ---------------------------------------------------------------------------------------------
// Node
// ---------------------------------------------------------------------------------------------

fn node_taints(taints: &[api::Taint], path: &Path) -> Errs {
    let mut e = Vec::new();
    let mut unique: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (i, t) in taints.iter().enumerate() {
        let ip = path.index(i);
        e.extend(label_name(&t.key, &ip.child("key")));
        let val = ostr(&t.value);
        let errs = v::is_valid_label_value(val);
        if !errs.is_empty() {
            e.push(invalid(&ip.child("value"), val, errs.join(";")));
        }
        e.extend(taint_effect(&t.effect, false, &ip.child("effect")));
        if unique.get(t.effect.as_str()).is_some_and(|s| s.contains(t.key.as_str())) {
            let mut d = duplicate(&ip, json(t));
            d.detail = "taints must be unique by key and effect pair".to_string();
            e.push(d);
            continue;
        }
        unique.entry(&t.effect).or_default().insert(&t.key);
    }
    e
}

fn node_resources(node: &api::Node) -> Errs {
    let mut e = Vec::new();
    let status = node.status.clone().unwrap_or_default();
    for (k, q) in status.capacity.iter().flatten() {
        e.extend(resource_quantity_value(k, q, &p("status").child("capacity").child(k)));
    }
    for (k, q) in status.allocatable.iter().flatten() {
        e.extend(resource_quantity_value(k, q, &p("status").child("allocatable").child(k)));
    }
    e
}

/// Node create: taints (at `metadata.taints`, as upstream), status capacity/allocatable
/// quantities, and podCIDRs (valid, at most one per family, no duplicates).
pub fn node(node: &api::Node) -> ErrorList {
    let mut e = Vec::new();
    let spec = node.spec.clone().unwrap_or_default();
    if !sl(&spec.taints).is_empty() {
        e.extend(node_taints(sl(&spec.taints), &p("metadata").child("taints")));
    }
    e.extend(node_resources(node));
    let cidrs = sl(&spec.pod_cidrs);
    if !cidrs.is_empty() {
        let cp = p("spec").child("podCIDRs");
        for (i, c) in cidrs.iter().enumerate() {
            e.extend(valid_cidr(c, &cp.index(i)));
        }
        if cidrs.len() > 1 {
            let ips: Vec<String> =
                cidrs.iter().map(|c| parse_cidr(c).map(|(a, _)| a.to_string()).unwrap_or_default()).collect();
            if !is_dual_stack(&ips) || cidrs.len() > 2 {
                e.push(invalid(&cp, str_list(cidrs), "may specify no more than one CIDR for each IP family"));
            }
            let mut seen = BTreeSet::new();
            for (i, c) in cidrs.iter().enumerate() {
                if !seen.insert(c) {
                    e.push(duplicate(&cp.index(i), c.as_str()));
                }
            }
        }
    }
    done(e)
}

fn config_map_node_source(src: &api::ConfigMapNodeConfigSource, path: &Path, status: bool) -> Errs {
    let mut e = Vec::new();
    let uid = ostr(&src.uid);
    let rv = ostr(&src.resource_version);
    if status {
        if uid.is_empty() {
            e.push(required(&path.child("uid"), "uid must be set in status"));
        }
        if rv.is_empty() {
            e.push(required(&path.child("resourceVersion"), "resourceVersion must be set in status"));
        }
    } else {
        if !uid.is_empty() {
            e.push(forbidden(&path.child("uid"), "uid must not be set in spec"));
        }
        if !rv.is_empty() {
            e.push(forbidden(&path.child("resourceVersion"), "resourceVersion must not be set in spec"));
        }
    }
    if src.namespace.is_empty() {
        e.push(required(&path.child("namespace"), "namespace must be set"));
    } else {
        e.extend(name_errs(v::validate_namespace_name(&src.namespace, false), &src.namespace, &path.child("namespace")));
    }
    if src.name.is_empty() {
        e.push(required(&path.child("name"), "name must be set"));
    } else {
        e.extend(name_errs(v::name_is_dns_subdomain(&src.name, false), &src.name, &path.child("name")));
    }
    if src.kubelet_config_key.is_empty() {
        e.push(required(&path.child("kubeletConfigKey"), "kubeletConfigKey must be set"));
    } else {
        for m in v::is_config_map_key(&src.kubelet_config_key) {
            e.push(invalid(&path.child("kubeletConfigKey"), src.kubelet_config_key.as_str(), m));
        }
    }
    e
}

fn node_config_source(src: &api::NodeConfigSource, path: &Path, status: bool) -> Errs {
    let mut e = Vec::new();
    match &src.config_map {
        Some(cm) => e.extend(config_map_node_source(cm, &path.child("configMap"), status)),
        None => e.push(invalid(path, json(src), "exactly one reference subfield must be non-nil")),
    }
    e
}

/// Node update (upstream's `ValidateNodeUpdate`): status quantities, no duplicate status
/// addresses, podCIDRs and providerID immutable once set, configSource shape, taints,
/// externalID immutable.
pub fn node_update(new: &api::Node, old: &api::Node) -> ErrorList {
    let mut e = node_resources(new);
    let ns = new.spec.clone().unwrap_or_default();
    let os = old.spec.clone().unwrap_or_default();
    let status = new.status.clone().unwrap_or_default();
    let mut seen = Vec::new();
    for (i, a) in sl(&status.addresses).iter().enumerate() {
        if seen.contains(&a) {
            e.push(duplicate(&p("status").child("addresses").index(i), json(a)));
        }
        seen.push(a);
    }
    let (oc, nc) = (sl(&os.pod_cidrs), sl(&ns.pod_cidrs));
    let msg = "node updates may not change podCIDR except from \"\" to valid";
    if !oc.is_empty() {
        if oc.len() != nc.len() {
            e.push(forbidden(&p("spec").child("podCIDRs"), msg));
        } else {
            for (o, n) in oc.iter().zip(nc) {
                if o != n {
                    e.push(forbidden(&p("spec").child("podCIDRs"), msg));
                }
            }
        }
    }
    let opid = ostr(&os.provider_id);
    if !opid.is_empty() && opid != ostr(&ns.provider_id) {
        e.push(forbidden(&p("spec").child("providerID"), "node updates may not change providerID except from \"\" to valid"));
    }
    if let Some(cs) = &ns.config_source {
        e.extend(node_config_source(cs, &p("spec").child("configSource"), false));
    }
    if let Some(cfg) = &status.config {
        let cp = p("status").child("config");
        for (name, src) in [("assigned", &cfg.assigned), ("active", &cfg.active), ("lastKnownGood", &cfg.last_known_good)] {
            if let Some(s) = src {
                e.extend(node_config_source(s, &cp.child(name), true));
            }
        }
    }
    if !sl(&ns.taints).is_empty() {
        e.extend(node_taints(sl(&ns.taints), &p("metadata").child("taints")));
    }
    if ostr(&ns.external_id) != ostr(&os.external_id) {
        e.push(forbidden(&p("spec").child("externalID"), "may not be updated"));
    }
    done(e)
}

/// Node status update: upstream validates it like an update.
pub fn node_status_update(new: &api::Node, old: &api::Node) -> ErrorList {
    node_update(new, old)
}

// ---------------------------------------------------------------------------------------------
// ConfigMap and Secret
// ---------------------------------------------------------------------------------------------

/// ConfigMap create: keys of `data` and `binaryData` are config keys, no key in both, and the
/// total size of values at most 1 MiB (`Too long: may not be more than 1048576 bytes` at the
/// empty path, as upstream).
pub fn config_map(cm: &api::ConfigMap) -> ErrorList {
    let mut e = Vec::new();
    let mut total = 0usize;
    let binary = cm.binary_data.clone().unwrap_or_default();
    for (k, val) in cm.data.iter().flatten() {
        let kp = p("data").key(k);
        for m in v::is_config_map_key(k) {
            e.push(invalid(&kp, k.as_str(), m));
        }
        if binary.contains_key(k) {
            e.push(invalid(&kp, k.as_str(), "duplicate of key present in binaryData"));
        }
        total += val.len();
    }
    for (k, val) in &binary {
        for m in v::is_config_map_key(k) {
            e.push(invalid(&p("binaryData").key(k), k.as_str(), m));
        }
        total += val.0.len();
    }
    if total > MAX_SECRET_SIZE {
        e.push(too_long(&p(""), MAX_SECRET_SIZE));
    }
    done(e)
}

/// ConfigMap update: with `immutable: true` on the old object, `immutable`, `data` and
/// `binaryData` may not change; then the create rules.
pub fn config_map_update(new: &api::ConfigMap, old: &api::ConfigMap) -> ErrorList {
    let mut e = Vec::new();
    if old.immutable == Some(true) {
        let msg = "field is immutable when `immutable` is set";
        if new.immutable != Some(true) {
            e.push(forbidden(&p("immutable"), msg));
        }
        if !sem_eq(&new.data, &old.data) {
            e.push(forbidden(&p("data"), msg));
        }
        if !sem_eq(&new.binary_data, &old.binary_data) {
            e.push(forbidden(&p("binaryData"), msg));
        }
    }
    e.extend(config_map(new).0);
    done(e)
}

/// The data a Secret holds once `stringData` is merged in (as upstream's conversion does).
fn secret_data(s: &api::Secret) -> BTreeMap<String, Vec<u8>> {
    let mut data: BTreeMap<String, Vec<u8>> = s.data.iter().flatten().map(|(k, v)| (k.clone(), v.0.clone())).collect();
    for (k, v) in s.string_data.iter().flatten() {
        data.insert(k.clone(), v.as_bytes().to_vec());
    }
    data
}

/// Go's `json.Unmarshal(b, &map[string]interface{}{})` error text, approximately.
fn json_object_error(b: &[u8]) -> Option<String> {
    match serde_json::from_slice::<serde_json::Value>(b) {
        Ok(serde_json::Value::Object(_)) | Ok(serde_json::Value::Null) => None,
        Ok(other) => {
            let kind = match other {
                serde_json::Value::Bool(_) => "bool",
                serde_json::Value::Number(_) => "number",
                serde_json::Value::String(_) => "string",
                _ => "array",
            };
            Some(format!("json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"))
        }
        Err(err) => {
            let text = String::from_utf8_lossy(b);
            let trimmed = text.trim_start();
            if trimmed.is_empty() || err.is_eof() {
                return Some("unexpected end of JSON input".to_string());
            }
            let c = trimmed.chars().next().unwrap_or(' ');
            if !"{[\"-0123456789tfn".contains(c) {
                return Some(format!("invalid character {} looking for beginning of value", go_char(c)));
            }
            Some(err.to_string())
        }
    }
}

fn go_char(c: char) -> String {
    match c {
        '\'' => "'\\''".to_string(),
        c => format!("'{c}'"),
    }
}

/// Secret create: data keys (including merged `stringData`) are config keys, total size at
/// most 1 MiB (`data: Too long`), and the per-type requirements: service-account-token needs
/// the `kubernetes.io/service-account.name` annotation, dockercfg / dockerconfigjson need
/// their key with a JSON object, basic-auth needs `username` or `password`, ssh-auth a
/// non-empty `ssh-privatekey`, tls both `tls.crt` and `tls.key`.
pub fn secret(s: &api::Secret) -> ErrorList {
    let mut e = Vec::new();
    let data = secret_data(s);
    let dp = p("data");
    let mut total = 0usize;
    for (k, val) in &data {
        for m in v::is_config_map_key(k) {
            e.push(invalid(&dp.key(k), k.as_str(), m));
        }
        total += val.len();
    }
    if total > MAX_SECRET_SIZE {
        e.push(too_long(&dp, MAX_SECRET_SIZE));
    }
    match s.type_.as_deref().unwrap_or("") {
        "kubernetes.io/service-account-token" => {
            let name = s
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get("kubernetes.io/service-account.name"))
                .map(String::as_str)
                .unwrap_or("");
            if name.is_empty() {
                e.push(required(&p("metadata").child("annotations").key("kubernetes.io/service-account.name"), ""));
            }
        }
        "kubernetes.io/dockercfg" => match data.get(".dockercfg") {
            None => e.push(required(&dp.key(".dockercfg"), "")),
            Some(b) => {
                if let Some(msg) = json_object_error(b) {
                    e.push(invalid(&dp.key(".dockercfg"), "<secret contents redacted>", msg));
                }
            }
        },
        "kubernetes.io/dockerconfigjson" => match data.get(".dockerconfigjson") {
            None => e.push(required(&dp.key(".dockerconfigjson"), "")),
            Some(b) => {
                if let Some(msg) = json_object_error(b) {
                    e.push(invalid(&dp.key(".dockerconfigjson"), "<secret contents redacted>", msg));
                }
            }
        },
        "kubernetes.io/basic-auth"
            if !data.contains_key("username") && !data.contains_key("password") => {
                e.push(required(&dp.key("username"), ""));
                e.push(required(&dp.key("password"), ""));
            }
        "kubernetes.io/ssh-auth"
            if data.get("ssh-privatekey").is_none_or(|b| b.is_empty()) => {
                e.push(required(&dp.key("ssh-privatekey"), ""));
            }
        "kubernetes.io/tls" => {
            if !data.contains_key("tls.crt") {
                e.push(required(&dp.key("tls.crt"), ""));
            }
            if !data.contains_key("tls.key") {
                e.push(required(&dp.key("tls.key"), ""));
            }
        }
        _ => {}
    }
    done(e)
}

/// Secret update: `type` is immutable; with `immutable: true` on the old object, `immutable`
/// and `data` may not change; then the create rules.
pub fn secret_update(new: &api::Secret, old: &api::Secret) -> ErrorList {
    let mut e = Vec::new();
    let nt = new.type_.clone().unwrap_or_else(|| "Opaque".into());
    let ot = old.type_.clone().unwrap_or_else(|| "Opaque".into());
    e.extend(immutable(&nt, &ot, &p("type")));
    if old.immutable == Some(true) {
        let msg = "field is immutable when `immutable` is set";
        if new.immutable != Some(true) {
            e.push(forbidden(&p("immutable"), msg));
        }
        if secret_data(new) != secret_data(old) {
            e.push(forbidden(&p("data"), msg));
        }
    }
    e.extend(secret(new).0);
    done(e)
}

// ---------------------------------------------------------------------------------------------
// ServiceAccount
// ---------------------------------------------------------------------------------------------

/// ServiceAccount create: upstream checks only metadata; nothing here.
pub fn service_account(_sa: &api::ServiceAccount) -> ErrorList {
    done(Vec::new())
}

/// ServiceAccount update: upstream checks only metadata; nothing here.
pub fn service_account_update(_new: &api::ServiceAccount, _old: &api::ServiceAccount) -> ErrorList {
    done(Vec::new())
}

// ---------------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------------

const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];

fn endpoint_address(a: &api::EndpointAddress, path: &Path) -> Errs {
    let mut e = valid_ip(&a.ip, &path.child("ip"));
    let host = ostr(&a.hostname);
    if !host.is_empty() {
        e.extend(dns1123_label(host, &path.child("hostname")));
    }
    if let Some(n) = &a.node_name {
        e.extend(name_errs(v::name_is_dns_subdomain(n, false), n, &path.child("nodeName")));
    }
    e.extend(non_special_ip(&a.ip, &path.child("ip")));
    e
}

/// Endpoints create/update: each subset needs addresses or notReadyAddresses; addresses are
/// valid, non-special IPs with DNS-label hostnames and node names; ports need names when more
/// than one, valid numbers, protocols and app protocols.
pub fn endpoints(ep: &api::Endpoints) -> ErrorList {
    let mut e = Vec::new();
    for (i, ss) in ep.subsets.iter().flatten().enumerate() {
        let ip = p("subsets").index(i);
        let addrs = sl(&ss.addresses);
        let nr = sl(&ss.not_ready_addresses);
        if addrs.is_empty() && nr.is_empty() {
            e.push(required(&ip, "must specify `addresses` or `notReadyAddresses`"));
        }
        for (j, a) in addrs.iter().enumerate() {
            e.extend(endpoint_address(a, &ip.child("addresses").index(j)));
        }
        for (j, a) in nr.iter().enumerate() {
            e.extend(endpoint_address(a, &ip.child("notReadyAddresses").index(j)));
        }
        let ports = sl(&ss.ports);
        for (j, port) in ports.iter().enumerate() {
            let pp = ip.child("ports").index(j);
            let name = ostr(&port.name);
            if ports.len() > 1 && name.is_empty() {
                e.push(required(&pp.child("name"), ""));
            } else if !name.is_empty() {
                e.extend(dns1123_label(name, &pp.child("name")));
            }
            e.extend(port_num(port.port as i64, &pp.child("port")));
            if let Some(proto) = port.protocol.as_deref().filter(|s| !s.is_empty())
                && !PROTOCOLS.contains(&proto)
            {
                e.push(not_supported(&pp.child("protocol"), proto, PROTOCOLS));
            }
            if let Some(ap) = &port.app_protocol {
                e.extend(qualified_name(ap, &pp.child("appProtocol")));
            }
        }
    }
    done(e)
}

/// Endpoints update: the create rules on the new object.
pub fn endpoints_update(new: &api::Endpoints, _old: &api::Endpoints) -> ErrorList {
    endpoints(new)
}

// ---------------------------------------------------------------------------------------------
// Event (core/v1)
// ---------------------------------------------------------------------------------------------

/// The fields event validation looks at, shared by core/v1 and events.k8s.io/v1 Events.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct EventFields {
    pub namespace: String,
    pub involved_object_namespace: String,
    pub has_event_time: bool,
    pub reporting_controller: String,
    pub reporting_instance: String,
    pub action: String,
    pub reason: String,
    pub message: String,
    /// The request came through core/v1 (upstream then names the field `reportingComponent`).
    pub core_v1: bool,
}

/// Upstream's `legacyValidateEvent`.
pub(crate) fn legacy_event(ev: &EventFields) -> Errs {
    let mut e = Vec::new();
    let rc_field = if ev.core_v1 { "reportingComponent" } else { "reportingController" };
    let ns_path = p("involvedObject").child("namespace");
    let mismatch = || invalid(&ns_path, ev.involved_object_namespace.as_str(), "does not match event.namespace");
    if !ev.has_event_time {
        if ev.involved_object_namespace.is_empty() {
            if !ev.namespace.is_empty() && ev.namespace != "default" {
                e.push(mismatch());
            }
        } else if ev.namespace != ev.involved_object_namespace {
            e.push(mismatch());
        }
    } else {
        if ev.involved_object_namespace.is_empty() && ev.namespace != "default" && ev.namespace != "kube-system" {
            e.push(mismatch());
        }
        if ev.reporting_controller.is_empty() {
            e.push(required(&p(rc_field), ""));
        }
        e.extend(qualified_name(&ev.reporting_controller, &p(rc_field)));
        if ev.reporting_instance.is_empty() {
            e.push(required(&p("reportingInstance"), ""));
        }
        if ev.reporting_instance.len() > 128 {
            e.push(invalid(&p("reportingInstance"), "", "can have at most 128 characters"));
        }
        if ev.action.is_empty() {
            e.push(required(&p("action"), ""));
        }
        if ev.action.len() > 128 {
            e.push(invalid(&p("action"), "", "can have at most 128 characters"));
        }
        if ev.reason.is_empty() {
            e.push(required(&p("reason"), ""));
        }
        if ev.reason.len() > 128 {
            e.push(invalid(&p("reason"), "", "can have at most 128 characters"));
        }
        if ev.message.len() > 1024 {
            e.push(invalid(&p("message"), "", "can have at most 1024 characters"));
        }
    }
    for m in v::is_dns1123_subdomain(&ev.namespace) {
        e.push(invalid(&p("namespace"), ev.namespace.as_str(), m));
    }
    e
}

fn core_event_fields(ev: &api::Event) -> EventFields {
    EventFields {
        namespace: ev.metadata.namespace.clone().unwrap_or_default(),
        involved_object_namespace: ostr(&ev.involved_object.namespace).to_string(),
        has_event_time: ev.event_time.is_some(),
        reporting_controller: ostr(&ev.reporting_component).to_string(),
        reporting_instance: ostr(&ev.reporting_instance).to_string(),
        action: ostr(&ev.action).to_string(),
        reason: ostr(&ev.reason).to_string(),
        message: ostr(&ev.message).to_string(),
        core_v1: true,
    }
}

/// core/v1 Event create: upstream's legacy event validation (namespace consistency with the
/// involved object, and for events with an eventTime the reporting fields, action, reason and
/// length limits). The namespace must be a DNS subdomain.
pub fn event(ev: &api::Event) -> ErrorList {
    done(legacy_event(&core_event_fields(ev)))
}

/// core/v1 Event update: only the legacy rules on the new event (as upstream for the v1 API).
pub fn event_update(new: &api::Event, _old: &api::Event) -> ErrorList {
    event(new)
}

// ---------------------------------------------------------------------------------------------
// LimitRange
// ---------------------------------------------------------------------------------------------

fn limit_range_resource_name(limit_type: &str, name: &str, path: &Path) -> Errs {
    match limit_type {
        "Pod" | "Container" => validate_container_resource_name(name, path),
        _ => validate_resource_name(name, path),
    }
}

fn q_of(q: &KQuantity) -> Option<Quantity> {
    quantity::parse(q).ok()
}

/// LimitRange create (upstream's `ValidateLimitRange` without metadata): limit types,
/// resource names, no default/defaultRequest for `Pod`, storage bounds for PVC limits, and the
/// ordering min ≤ defaultRequest ≤ default ≤ max, ratio ≥ 1 and ≤ max/min, equal
/// default/defaultRequest for non-overcommittable resources. Bad values print as their
/// canonical quantity text (upstream prints the Go struct).
pub fn limit_range(lr: &api::LimitRange) -> ErrorList {
    let mut e = Vec::new();
    let lp = p("spec").child("limits");
    let mut types: BTreeSet<String> = BTreeSet::new();
    let limits = lr.spec.as_ref().map(|s| s.limits.clone()).unwrap_or_default();
    for (i, limit) in limits.iter().enumerate() {
        let ip = lp.index(i);
        let t = limit.type_.as_str();
        let type_errs = qualified_name(t, &ip.child("type"));
        if !type_errs.is_empty() {
            e.extend(type_errs);
        } else if !t.contains('/') && !["Pod", "Container", "PersistentVolumeClaim"].contains(&t) {
            e.push(invalid(&ip.child("type"), t, "must be a standard limit type or fully qualified"));
        }
        if !types.insert(t.to_string()) {
            e.push(duplicate(&ip.child("type"), t));
        }
        let mut keys: BTreeSet<String> = BTreeSet::new();
        let max = limit.max.clone().unwrap_or_default();
        let min = limit.min.clone().unwrap_or_default();
        let mut defaults = BTreeMap::new();
        let mut default_requests = BTreeMap::new();
        for k in max.keys() {
            e.extend(limit_range_resource_name(t, k, &ip.child("max").key(k)));
            keys.insert(k.clone());
        }
        for k in min.keys() {
            e.extend(limit_range_resource_name(t, k, &ip.child("min").key(k)));
            keys.insert(k.clone());
        }
        if t == "Pod" {
            if limit.default.as_ref().is_some_and(|d| !d.is_empty()) {
                e.push(forbidden(&ip.child("default"), "may not be specified when `type` is 'Pod'"));
            }
            if limit.default_request.as_ref().is_some_and(|d| !d.is_empty()) {
                e.push(forbidden(&ip.child("defaultRequest"), "may not be specified when `type` is 'Pod'"));
            }
        } else {
            for (k, q) in limit.default.iter().flatten() {
                e.extend(limit_range_resource_name(t, k, &ip.child("default").key(k)));
                keys.insert(k.clone());
                defaults.insert(k.clone(), q.clone());
            }
            for (k, q) in limit.default_request.iter().flatten() {
                e.extend(limit_range_resource_name(t, k, &ip.child("defaultRequest").key(k)));
                keys.insert(k.clone());
                default_requests.insert(k.clone(), q.clone());
            }
        }
        if t == "PersistentVolumeClaim" && !min.contains_key("storage") && !max.contains_key("storage") {
            e.push(required(&ip.child("limits"), "either minimum or maximum storage value is required, but neither was provided"));
        }
        let ratios = limit.max_limit_request_ratio.clone().unwrap_or_default();
        for k in ratios.keys() {
            e.extend(limit_range_resource_name(t, k, &ip.child("maxLimitRequestRatio").key(k)));
            keys.insert(k.clone());
        }
        for k in &keys {
            let mn = min.get(k).and_then(q_of);
            let mx = max.get(k).and_then(q_of);
            let df = defaults.get(k).and_then(q_of);
            let dr = default_requests.get(k).and_then(q_of);
            let ra = ratios.get(k).and_then(q_of);
            if let (Some(a), Some(b)) = (&mn, &mx)
                && a.cmp_to(b).is_gt()
            {
                e.push(invalid(&ip.child("min").key(k), a.canonical(), format!("min value {a} is greater than max value {b}")));
            }
            if let (Some(r), Some(a)) = (&dr, &mn)
                && a.cmp_to(r).is_gt()
            {
                e.push(invalid(&ip.child("defaultRequest").key(k), r.canonical(), format!("min value {a} is greater than default request value {r}")));
            }
            if let (Some(r), Some(b)) = (&dr, &mx)
                && r.cmp_to(b).is_gt()
            {
                e.push(invalid(&ip.child("defaultRequest").key(k), r.canonical(), format!("default request value {r} is greater than max value {b}")));
            }
            if let (Some(r), Some(d)) = (&dr, &df)
                && r.cmp_to(d).is_gt()
            {
                e.push(invalid(&ip.child("defaultRequest").key(k), r.canonical(), format!("default request value {r} is greater than default limit value {d}")));
            }
            if let (Some(d), Some(a)) = (&df, &mn)
                && a.cmp_to(d).is_gt()
            {
                e.push(invalid(&ip.child("default").key(k), a.canonical(), format!("min value {a} is greater than default value {d}")));
            }
            if let (Some(d), Some(b)) = (&df, &mx)
                && d.cmp_to(b).is_gt()
            {
                e.push(invalid(&ip.child("default").key(k), b.canonical(), format!("default value {d} is greater than max value {b}")));
            }
            if let Some(r) = &ra {
                if r.cmp_to(&Quantity::from_int(1)).is_lt() {
                    e.push(invalid(&ip.child("maxLimitRequestRatio").key(k), r.canonical(), format!("ratio {r} is less than 1")));
                }
                if let (Some(a), Some(b)) = (&mn, &mx) {
                    let max_milli = i64::MAX / 1000;
                    let (mut ratio, mut minv, mut maxv) = (r.value() as f64, a.value(), b.value());
                    if r.value() < max_milli && minv < max_milli && maxv < max_milli {
                        ratio = r.milli_value() as f64 / 1000.0;
                        minv = a.milli_value();
                        maxv = b.milli_value();
                    }
                    let limit_ratio = maxv as f64 / minv as f64;
                    if ratio > limit_ratio {
                        e.push(invalid(
                            &ip.child("maxLimitRequestRatio").key(k),
                            r.canonical(),
                            format!("ratio {r} is greater than max/min = {limit_ratio:.6}"),
                        ));
                    }
                }
            }
            let overcommit = super::core_pod::is_native_resource(k) && !k.starts_with("hugepages-");
            if let (Some(d), Some(r)) = (&df, &dr)
                && !overcommit
                && d.cmp_to(r).is_ne()
            {
                e.push(invalid(
                    &ip.child("defaultRequest").key(k),
                    r.canonical(),
                    format!("default value {d} must equal to defaultRequest value {r} in {k}"),
                ));
            }
        }
    }
    done(e)
}

/// LimitRange update: the create rules on the new object.
pub fn limit_range_update(new: &api::LimitRange, _old: &api::LimitRange) -> ErrorList {
    limit_range(new)
}

// ---------------------------------------------------------------------------------------------
// ResourceQuota
// ---------------------------------------------------------------------------------------------

const STANDARD_QUOTA_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.storage",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "persistentvolumeclaims",
    "configmaps",
    "services.nodeports",
    "services.loadbalancers",
];
const QUOTA_SCOPES: &[&str] = &["Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass", "CrossNamespacePodAffinity"];

fn is_standard_quota_resource(name: &str) -> bool {
    STANDARD_QUOTA_RESOURCES.contains(&name) || name.starts_with("hugepages-") || name.starts_with("requests.hugepages-")
}

fn scope_valid_for_resource(scope: &str, res: &str) -> bool {
    let pod_count = res == "pods";
    let compute = ["cpu", "memory", "limits.cpu", "limits.memory", "requests.cpu", "requests.memory"].contains(&res);
    match scope {
        "Terminating" | "NotTerminating" | "NotBestEffort" | "PriorityClass" | "CrossNamespacePodAffinity" => pod_count || compute,
        "BestEffort" => pod_count,
        _ => true,
    }
}

fn quota_resource_name(name: &str, path: &Path) -> Errs {
    let mut e = validate_resource_name(name, path);
    if !name.contains('/') && !is_standard_quota_resource(name) {
        e.push(invalid(path, name, "must be a standard resource for quota"));
    }
    e
}

fn quota_map(map: Option<&BTreeMap<String, KQuantity>>, path: &Path) -> Errs {
    let mut e = Vec::new();
    for (k, q) in map.into_iter().flatten() {
        let rp = path.key(k);
        e.extend(quota_resource_name(k, &rp));
        e.extend(resource_quantity_value(k, q, &rp));
    }
    e
}

fn quota_spec(spec: &api::ResourceQuotaSpec, path: &Path) -> Errs {
    let mut e = quota_map(spec.hard.as_ref(), &path.child("hard"));
    let hard: Vec<&String> = spec.hard.iter().flatten().map(|(k, _)| k).collect();
    let scopes = sl(&spec.scopes);
    let sp = path.child("scopes");
    let conflicting = |set: &BTreeSet<&str>| {
        (set.contains("BestEffort") && set.contains("NotBestEffort")) as usize
            + (set.contains("Terminating") && set.contains("NotTerminating")) as usize
    };
    if !scopes.is_empty() {
        let mut set = BTreeSet::new();
        for s in scopes {
            if !QUOTA_SCOPES.contains(&s.as_str()) {
                e.push(invalid(&sp, str_list(scopes), "unsupported scope"));
            }
            for k in &hard {
                if is_standard_quota_resource(k) && !scope_valid_for_resource(s, k) {
                    e.push(invalid(&sp, str_list(scopes), "unsupported scope applied to resource"));
                }
            }
            set.insert(s.as_str());
        }
        for _ in 0..conflicting(&set) {
            e.push(invalid(&sp, str_list(scopes), "conflicting scopes"));
        }
    }
    if let Some(sel) = &spec.scope_selector {
        let mp = path.child("scopeSelector").child("matchExpressions");
        let mut set = BTreeSet::new();
        for req in sl(&sel.match_expressions) {
            if !QUOTA_SCOPES.contains(&req.scope_name.as_str()) {
                e.push(invalid(&mp.child("scopeName"), req.scope_name.as_str(), "unsupported scope"));
            }
            for k in &hard {
                if is_standard_quota_resource(k) && !scope_valid_for_resource(&req.scope_name, k) {
                    e.push(invalid(&mp, json(sel), "unsupported scope applied to resource"));
                }
            }
            if ["BestEffort", "NotBestEffort", "Terminating", "NotTerminating", "CrossNamespacePodAffinity"].contains(&req.scope_name.as_str())
                && req.operator != "Exists"
            {
                e.push(invalid(
                    &mp.child("operator"),
                    req.operator.as_str(),
                    "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
                ));
            }
            let values = sl(&req.values);
            match req.operator.as_str() {
                "In" | "NotIn" => {
                    if values.is_empty() {
                        e.push(required(&mp.child("values"), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
                    }
                }
                "Exists" | "DoesNotExist" => {
                    if !values.is_empty() {
                        e.push(invalid(&mp.child("values"), str_list(values), "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
                    }
                }
                other => e.push(invalid(&mp.child("operator"), other, "not a valid selector operator")),
            }
            set.insert(req.scope_name.as_str());
        }
        for _ in 0..conflicting(&set) {
            e.push(invalid(&mp, str_list(scopes), "conflicting scopes"));
        }
    }
    e
}

/// ResourceQuota create: hard resource names and quantities, scopes (supported, valid for the
/// hard resources, not conflicting), the scope selector, and status quantities.
pub fn resource_quota(rq: &api::ResourceQuota) -> ErrorList {
    let mut e = quota_spec(&rq.spec.clone().unwrap_or_default(), &p("spec"));
    let status = rq.status.clone().unwrap_or_default();
    e.extend(quota_map(status.hard.as_ref(), &p("status").child("hard")));
    e.extend(quota_map(status.used.as_ref(), &p("status").child("used")));
    done(e)
}

/// ResourceQuota update: the spec rules and immutable scopes (`spec.scopes: Invalid value:
/// [...]: field is immutable`).
pub fn resource_quota_update(new: &api::ResourceQuota, old: &api::ResourceQuota) -> ErrorList {
    let ns = new.spec.clone().unwrap_or_default();
    let os = old.spec.clone().unwrap_or_default();
    let mut e = quota_spec(&ns, &p("spec"));
    let a: BTreeSet<&String> = sl(&ns.scopes).iter().collect();
    let b: BTreeSet<&String> = sl(&os.scopes).iter().collect();
    if a != b {
        e.push(invalid(&p("spec").child("scopes"), str_list(sl(&ns.scopes)), FIELD_IMMUTABLE));
    }
    done(e)
}

/// ResourceQuota status update: status hard/used names and quantities.
pub fn resource_quota_status_update(new: &api::ResourceQuota, _old: &api::ResourceQuota) -> ErrorList {
    let status = new.status.clone().unwrap_or_default();
    let mut e = quota_map(status.hard.as_ref(), &p("status").child("hard"));
    e.extend(quota_map(status.used.as_ref(), &p("status").child("used")));
    done(e)
}

// ---------------------------------------------------------------------------------------------
// ReplicationController
// ---------------------------------------------------------------------------------------------

fn rc_spec(spec: &api::ReplicationControllerSpec, path: &Path, opts: &PodOpts) -> Errs {
    let mut e = nonneg(spec.min_ready_seconds.unwrap_or(0) as i64, &path.child("minReadySeconds"));
    let template_labels = spec.template.as_ref().and_then(|t| t.metadata.as_ref()).and_then(|m| m.labels.clone()).unwrap_or_default();
    // upstream defaults an empty selector to the template labels
    let selector = spec.selector.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| template_labels.clone());
    if selector.is_empty() {
        e.push(required(&path.child("selector"), ""));
    }
    e.extend(nonneg(spec.replicas.unwrap_or(1) as i64, &path.child("replicas")));
    let tp = path.child("template");
    match &spec.template {
        None => e.push(required(&tp, "")),
        Some(t) => {
            if !selector.is_empty() && !selector.iter().all(|(k, val)| template_labels.get(k) == Some(val)) {
                e.push(invalid(&tp.child("metadata").child("labels"), json(&template_labels), "`selector` does not match template `labels`"));
            }
            e.extend(validate_pod_template_spec(t, &tp, opts));
            let ts = t.spec.clone().unwrap_or_default();
            let restart = ts.restart_policy.as_deref().filter(|s| !s.is_empty()).unwrap_or("Always");
            if restart != "Always" {
                e.push(not_supported(&tp.child("spec").child("restartPolicy"), restart, &["Always"]));
            }
            if ts.active_deadline_seconds.is_some() {
                e.push(forbidden(&tp.child("spec").child("activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicationController is not Supported"));
            }
        }
    }
    e
}

/// ReplicationController create: minReadySeconds and replicas ≥ 0, a non-empty selector
/// matching the template labels, a valid template with restartPolicy Always and no
/// activeDeadlineSeconds.
pub fn replication_controller(rc: &api::ReplicationController) -> ErrorList {
    done(rc_spec(&rc.spec.clone().unwrap_or_default(), &p("spec"), &PodOpts::default()))
}

/// ReplicationController update: the create rules (upstream has no immutable fields here).
pub fn replication_controller_update(new: &api::ReplicationController, old: &api::ReplicationController) -> ErrorList {
    let opts = template_opts(old.spec.as_ref().and_then(|s| s.template.as_ref()));
    done(rc_spec(&new.spec.clone().unwrap_or_default(), &p("spec"), &opts))
}

/// Upstream's replica-status checks (shared with ReplicaSets).
pub(crate) fn replica_status(replicas: i32, fully: i32, ready: i32, available: i32, observed: i64, path: &Path) -> Errs {
    let mut e = nonneg(replicas as i64, &path.child("replicas"));
    e.extend(nonneg(fully as i64, &path.child("fullyLabeledReplicas")));
    e.extend(nonneg(ready as i64, &path.child("readyReplicas")));
    e.extend(nonneg(available as i64, &path.child("availableReplicas")));
    e.extend(nonneg(observed, &path.child("observedGeneration")));
    let msg = "cannot be greater than status.replicas";
    if fully > replicas {
        e.push(invalid(&path.child("fullyLabeledReplicas"), fully, msg));
    }
    if ready > replicas {
        e.push(invalid(&path.child("readyReplicas"), ready, msg));
    }
    if available > replicas {
        e.push(invalid(&path.child("availableReplicas"), available, msg));
    }
    if available > ready {
        e.push(invalid(&path.child("availableReplicas"), available, "cannot be greater than readyReplicas"));
    }
    e
}

/// ReplicationController status update: counts non-negative and consistent.
pub fn replication_controller_status_update(new: &api::ReplicationController, _old: &api::ReplicationController) -> ErrorList {
    let s = new.status.clone().unwrap_or_default();
    done(replica_status(
        s.replicas,
        s.fully_labeled_replicas.unwrap_or(0),
        s.ready_replicas.unwrap_or(0),
        s.available_replicas.unwrap_or(0),
        s.observed_generation.unwrap_or(0),
        &p("status"),
    ))
}
