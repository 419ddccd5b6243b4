//! Pods, pod specs, containers, probes, resources, security contexts, scheduling constraints
//! and pod templates (core/v1), after upstream's `ValidatePodCreate`, `ValidatePodSpec`,
//! `validateContainers`, `ValidatePodUpdate`, `ValidatePodTemplateSpec` and friends.
//!
//! Inputs are defaulted objects, so fields upstream defaults (restartPolicy, dnsPolicy,
//! terminationGracePeriodSeconds, imagePullPolicy, terminationMessagePolicy, port protocols,
//! probe thresholds, httpGet path/scheme, fieldRef apiVersion, ...) are never `Required` here:
//! an absent value is read as its default.
//!
//! Feature-dependent behaviour follows Kubernetes 1.32 defaults: relaxed environment variable
//! names (beta, on); pod-level resources, zero-second sleep actions, relaxed DNS search names,
//! supplementalGroupsPolicy and seLinuxChangePolicy off (their fields are not validated);
//! privileged containers allowed (`--allow-privileged=true`).

use std::collections::{BTreeMap, BTreeSet};

use apimachinery::field::{ErrorList, Path};
use apimachinery::validation as v;
use k8s_openapi::api::core::v1 as api;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as KQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::common::*;
use super::core_volumes::{local_descending_path, validate_volumes, VolumeInfo};
use apimachinery::quantity::{self, Quantity};

/// Options upstream derives from feature gates and the old object (`PodValidationOptions`).
#[derive(Clone, Debug, Default)]
pub(crate) struct PodOpts {
    /// The object validated is a Pod (not a template inside another kind).
    pub resource_is_pod: bool,
    pub allow_invalid_label_value_in_selector: bool,
    pub allow_invalid_topology_spread_selector: bool,
    pub allow_namespaced_sysctls_for_host: bool,
    pub allow_invalid_deletion_cost: bool,
    pub allow_indivisible_hugepages: bool,
    pub allow_invalid_label_value_in_required_node_affinity: bool,
}

impl PodOpts {
    pub(crate) fn for_pod() -> PodOpts {
        PodOpts { resource_is_pod: true, ..Default::default() }
    }

    /// Ratchets that let an update keep values the old spec already had.
    pub(crate) fn ratchet_from(mut self, old: Option<&api::PodSpec>, old_annotations: Option<&BTreeMap<String, String>>) -> PodOpts {
        if let Some(ann) = old_annotations
            && let Some(c) = ann.get("controller.kubernetes.io/pod-deletion-cost")
            && c.parse::<i32>().is_err()
        {
            self.allow_invalid_deletion_cost = true;
        }
        let Some(spec) = old else { return self };
        let aff = spec.affinity.as_ref();
        let terms = aff
            .and_then(|a| a.pod_affinity.as_ref())
            .map(|pa| affinity_selectors(pa.required_during_scheduling_ignored_during_execution.as_deref(), pa.preferred_during_scheduling_ignored_during_execution.as_deref()))
            .unwrap_or_default()
            .into_iter()
            .chain(
                aff.and_then(|a| a.pod_anti_affinity.as_ref())
                    .map(|pa| affinity_selectors(pa.required_during_scheduling_ignored_during_execution.as_deref(), pa.preferred_during_scheduling_ignored_during_execution.as_deref()))
                    .unwrap_or_default(),
            );
        for sel in terms {
            if selector_has_errors(Some(sel)) {
                self.allow_invalid_label_value_in_selector = true;
            }
        }
        if sl(&spec.topology_spread_constraints).iter().any(|c| selector_has_errors(c.label_selector.as_ref())) {
            self.allow_invalid_topology_spread_selector = true;
        }
        let host_net = b(spec.host_network);
        let host_ipc = b(spec.host_ipc);
        if (host_net || host_ipc)
            && spec.security_context.as_ref().and_then(|s| s.sysctls.as_ref()).is_some_and(|s| !s.is_empty())
        {
            self.allow_namespaced_sysctls_for_host = true;
        }
        if let Some(req) = aff
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|n| n.required_during_scheduling_ignored_during_execution.as_ref())
            && !validate_node_selector(req, false, &p("x")).is_empty()
        {
            self.allow_invalid_label_value_in_required_node_affinity = true;
        }
        let has_indivisible = all_containers(spec).any(|c| {
            c.resources.as_ref().is_some_and(|r| {
                r.requests.iter().chain(r.limits.iter()).flatten().any(|(k, q)| {
                    k.starts_with("hugepages-") && hugepage_value_error(k, q, false).is_some()
                })
            })
        });
        if has_indivisible {
            self.allow_indivisible_hugepages = true;
        }
        self
    }
}

fn affinity_selectors<'a>(req: Option<&'a [api::PodAffinityTerm]>, pref: Option<&'a [api::WeightedPodAffinityTerm]>) -> Vec<&'a LabelSelector> {
    let mut out = Vec::new();
    for t in req.unwrap_or(&[]).iter().chain(pref.unwrap_or(&[]).iter().map(|w| &w.pod_affinity_term)) {
        out.extend(t.label_selector.as_ref());
        out.extend(t.namespace_selector.as_ref());
    }
    out
}

fn all_containers(spec: &api::PodSpec) -> impl Iterator<Item = &api::Container> {
    spec.containers.iter().chain(sl(&spec.init_containers).iter())
}

// ---------------------------------------------------------------------------------------------
// resource names and quantities
// ---------------------------------------------------------------------------------------------

const STANDARD_RESOURCES: &[&str] = &[
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "storage",
    "requests.storage",
    "services.nodeports",
    "services.loadbalancers",
];

const INTEGER_RESOURCES: &[&str] = &[
    "pods",
    "resourcequotas",
    "services",
    "replicationcontrollers",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "services.nodeports",
    "services.loadbalancers",
];

pub(crate) fn is_hugepage_resource(name: &str) -> bool {
    name.starts_with("hugepages-")
}

fn is_quota_hugepage_resource(name: &str) -> bool {
    name.starts_with("hugepages-") || name.starts_with("requests.hugepages-")
}

pub(crate) fn is_standard_resource_name(name: &str) -> bool {
    STANDARD_RESOURCES.contains(&name) || is_quota_hugepage_resource(name)
}

pub(crate) fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

pub(crate) fn is_extended_resource_name(name: &str) -> bool {
    if is_native_resource(name) || name.starts_with("requests.") {
        return false;
    }
    v::is_qualified_name(&format!("requests.{name}")).is_empty()
}

fn is_integer_resource(name: &str) -> bool {
    INTEGER_RESOURCES.contains(&name) || is_extended_resource_name(name)
}

fn is_overcommit_allowed(name: &str) -> bool {
    is_native_resource(name) && !is_hugepage_resource(name)
}

/// Upstream's `validateResourceName`.
pub(crate) fn validate_resource_name(name: &str, path: &Path) -> Errs {
    let e = qualified_name(name, path);
    if !e.is_empty() {
        return e;
    }
    if !name.contains('/') && !is_standard_resource_name(name) {
        return vec![invalid(path, name, "must be a standard resource type or fully qualified")];
    }
    Vec::new()
}

/// Upstream's `validateContainerResourceName`.
pub(crate) fn validate_container_resource_name(name: &str, path: &Path) -> Errs {
    let mut e = validate_resource_name(name, path);
    if !name.contains('/') {
        if !(["cpu", "memory", "ephemeral-storage"].contains(&name) || is_hugepage_resource(name)) {
            e.push(invalid(path, name, "must be a standard resource for containers"));
        }
    } else if !is_native_resource(name) && !is_extended_resource_name(name) {
        e.push(invalid(path, name, "doesn't follow extended resource name standard"));
    }
    e
}

/// Upstream's `ValidateResourceQuantityValue`: not negative; whole numbers for integer
/// resources. A quantity that does not parse gets the parser's message (upstream rejects it
/// while decoding).
pub(crate) fn resource_quantity_value(resource: &str, q: &KQuantity, path: &Path) -> Errs {
    let parsed = match quantity::parse(q) {
        Ok(v) => v,
        Err(msg) => return vec![invalid(path, q.0.as_str(), msg)],
    };
    let mut e = Vec::new();
    if parsed.signum() < 0 {
        e.push(invalid(path, parsed.canonical(), IS_NEGATIVE));
    }
    if is_integer_resource(resource) && parsed.milli_value() % 1000 != 0 {
        e.push(invalid(path, parsed.canonical(), "must be an integer"));
    }
    e
}

fn hugepage_value_error(name: &str, q: &KQuantity, allow_indivisible: bool) -> Option<String> {
    if !is_hugepage_resource(name) || allow_indivisible {
        return None;
    }
    let value = quantity::parse(q).ok()?;
    let divisible = Quantity::parse(&name["hugepages-".len()..])
        .ok()
        .filter(|ps| ps.signum() > 0 && ps.milli_value() % 1000 == 0)
        .is_some_and(|ps| value.value() % ps.value() == 0);
    if divisible { None } else { Some(format!("{} is not positive integer multiple of {name}", value.canonical())) }
}

/// Upstream's `validateResourceRequirements` with container resource names.
pub(crate) fn validate_resource_requirements(
    reqs: &api::ResourceRequirements,
    pod_claims: &BTreeSet<String>,
    path: &Path,
    opts: &PodOpts,
) -> Errs {
    let mut e = Vec::new();
    let lim_path = path.child("limits");
    let req_path = path.child("requests");
    let limits = reqs.limits.clone().unwrap_or_default();
    let requests = reqs.requests.clone().unwrap_or_default();
    let (mut lim_cpu_mem, mut req_cpu_mem, mut lim_huge, mut req_huge) = (false, false, false, false);
    for (name, q) in &limits {
        let fp = lim_path.key(name);
        e.extend(validate_container_resource_name(name, &fp));
        e.extend(resource_quantity_value(name, q, &fp));
        if is_hugepage_resource(name) {
            lim_huge = true;
            if let Some(msg) = hugepage_value_error(name, q, opts.allow_indivisible_hugepages) {
                e.push(invalid(&fp, quantity::canonical(q), msg));
            }
        }
        if name == "cpu" || name == "memory" {
            lim_cpu_mem = true;
        }
    }
    for (name, q) in &requests {
        let fp = req_path.key(name);
        e.extend(validate_container_resource_name(name, &fp));
        e.extend(resource_quantity_value(name, q, &fp));
        match limits.get(name) {
            Some(lq) => {
                if let (Ok(rv), Ok(lv)) = (quantity::parse(q), quantity::parse(lq)) {
                    let ord = rv.cmp_to(&lv);
                    if ord.is_ne() && !is_overcommit_allowed(name) {
                        e.push(invalid(&req_path, rv.canonical(), format!("must be equal to {name} limit of {}", lv.canonical())));
                    } else if ord.is_gt() {
                        e.push(invalid(&req_path, rv.canonical(), format!("must be less than or equal to {name} limit of {}", lv.canonical())));
                    }
                }
            }
            None => {
                if !is_overcommit_allowed(name) {
                    e.push(required(&lim_path, "Limit must be set for non overcommitable resources"));
                }
            }
        }
        if is_hugepage_resource(name) {
            req_huge = true;
            if let Some(msg) = hugepage_value_error(name, q, opts.allow_indivisible_hugepages) {
                e.push(invalid(&fp, quantity::canonical(q), msg));
            }
        }
        if name == "cpu" || name == "memory" {
            req_cpu_mem = true;
        }
    }
    if !lim_cpu_mem && !req_cpu_mem && (req_huge || lim_huge) {
        e.push(forbidden(path, "HugePages require cpu or memory"));
    }
    e.extend(validate_resource_claim_names(sl(&reqs.claims), pod_claims, &path.child("claims")));
    e
}

fn validate_resource_claim_names(claims: &[api::ResourceClaim], pod_claims: &BTreeSet<String>, path: &Path) -> Errs {
    let mut e = Vec::new();
    let mut names: BTreeSet<String> = BTreeSet::new();
    for (i, c) in claims.iter().enumerate() {
        let ip = path.index(i);
        if c.name.is_empty() {
            e.push(required(&ip, ""));
            continue;
        }
        if names.contains(&c.name) {
            e.push(duplicate(&ip, c.name.as_str()));
        } else {
            let mut key = c.name.clone();
            let req = ostr(&c.request);
            if !req.is_empty() {
                e.extend(dns1123_label(req, &ip.child("request")));
                key = format!("{key}/{req}");
            }
            if names.contains(&key) {
                e.push(duplicate(&ip, key.as_str()));
            } else if req.is_empty() {
                for k in &names {
                    if let Some((n, _)) = k.split_once('/')
                        && n == c.name
                    {
                        e.push(duplicate(&ip, c.name.as_str()));
                    }
                }
            }
            names.insert(key);
        }
        if !pod_claims.contains(&c.name) {
            let mut err = not_found(&ip, c.name.as_str());
            err.detail = if pod_claims.is_empty() {
                "must be one of the names in pod.spec.resourceClaims which is empty".to_string()
            } else {
                format!(
                    "must be one of the names in pod.spec.resourceClaims: {}",
                    pod_claims.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            };
            e.push(err);
        }
    }
    e
}

// ---------------------------------------------------------------------------------------------
// env
// ---------------------------------------------------------------------------------------------

const ENV_FIELD_PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// Field paths a downwardAPI volume file may reference.
pub(crate) const DOWNWARD_API_VOLUME_FIELD_PATHS: &[&str] =
    &["metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"];

const RESOURCE_FIELD_PATHS: &[&str] =
    &["limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"];

/// Upstream's `fieldpath.SplitMaybeSubscriptedPath`.
fn split_subscripted(path: &str) -> Option<(&str, &str)> {
    let s = path.strip_suffix("']")?;
    let (a, b) = s.split_once("['")?;
    if a.is_empty() { None } else { Some((a, b)) }
}

/// Upstream's `validateObjectFieldSelector` (with `ConvertDownwardAPIFieldLabel`).
pub(crate) fn validate_object_field_selector(fs: &api::ObjectFieldSelector, expressions: &[&str], path: &Path) -> Errs {
    let api_version = fs.api_version.as_deref().unwrap_or("v1");
    if api_version.is_empty() {
        return vec![required(&path.child("apiVersion"), "")];
    }
    if fs.field_path.is_empty() {
        return vec![required(&path.child("fieldPath"), "")];
    }
    let converted: Result<String, String> = if api_version != "v1" {
        Err(format!("unsupported pod version: {api_version}"))
    } else if let Some((p0, _)) = split_subscripted(&fs.field_path) {
        if p0 == "metadata.annotations" || p0 == "metadata.labels" {
            Ok(fs.field_path.clone())
        } else {
            Err(format!("field label does not support subscript: {}", fs.field_path))
        }
    } else {
        match fs.field_path.as_str() {
            "metadata.annotations" | "metadata.labels" | "metadata.name" | "metadata.namespace" | "metadata.uid"
            | "spec.nodeName" | "spec.restartPolicy" | "spec.serviceAccountName" | "spec.schedulerName" | "status.phase"
            | "status.hostIP" | "status.hostIPs" | "status.podIP" | "status.podIPs" => Ok(fs.field_path.clone()),
            "spec.host" => Ok("spec.nodeName".to_string()),
            other => Err(format!("field label not supported: {other}")),
        }
    };
    let internal = match converted {
        Ok(p) => p,
        Err(err) => {
            return vec![invalid(&path.child("fieldPath"), fs.field_path.as_str(), format!("error converting fieldPath: {err}"))];
        }
    };
    let mut e = Vec::new();
    if let Some((p0, sub)) = split_subscripted(&internal) {
        match p0 {
            "metadata.annotations" => e.extend(qualified_name(&sub.to_lowercase(), path)),
            "metadata.labels" => e.extend(qualified_name(sub, path)),
            _ => e.push(invalid(path, p0, "does not support subscript")),
        }
    } else if !expressions.contains(&internal.as_str()) {
        e.push(not_supported(&path.child("fieldPath"), internal.as_str(), expressions));
    }
    e
}

/// Upstream's `validateContainerResourceFieldSelector` (with hugepages prefixes allowed).
pub(crate) fn validate_resource_field_selector(fs: &api::ResourceFieldSelector, path: &Path, volume: bool) -> Errs {
    let mut e = Vec::new();
    if volume && ostr(&fs.container_name).is_empty() {
        e.push(required(&path.child("containerName"), ""));
    } else if fs.resource.is_empty() {
        e.push(required(&path.child("resource"), ""));
    } else if !RESOURCE_FIELD_PATHS.contains(&fs.resource.as_str())
        && !fs.resource.starts_with("limits.hugepages-")
        && !fs.resource.starts_with("requests.hugepages-")
    {
        e.push(not_supported(&path.child("resource"), fs.resource.as_str(), RESOURCE_FIELD_PATHS));
    }
    if let Some(d) = &fs.divisor
        && let Ok(dq) = quantity::parse(d)
        && !dq.is_zero()
    {
        let ds = dq.canonical();
        let r = fs.resource.as_str();
        let mem_like = ["1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"];
        let dp = path.child("divisor");
        match r {
            "limits.cpu" | "requests.cpu" if !["1m", "1"].contains(&ds.as_str()) => {
                e.push(invalid(&dp, r, "only divisor's values 1m and 1 are supported with the cpu resource"));
            }
            "limits.memory" | "requests.memory" if !mem_like.contains(&ds.as_str()) => {
                e.push(invalid(&dp, r, "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource"));
            }
            "limits.ephemeral-storage" | "requests.ephemeral-storage" if !mem_like.contains(&ds.as_str()) => {
                e.push(invalid(&dp, r, "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the local ephemeral storage resource"));
            }
            _ => {}
        }
        if (r.starts_with("requests.hugepages-") || r.starts_with("limits.hugepages-")) && !mem_like.contains(&ds.as_str()) {
            e.push(invalid(&dp, r, "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the hugepages resource"));
        }
    }
    e
}

fn key_selector(name: &str, key: &str, path: &Path) -> Errs {
    let mut e = name_errs(v::name_is_dns_subdomain(name, false), name, &path.child("name"));
    if key.is_empty() {
        e.push(required(&path.child("key"), ""));
    } else {
        for msg in v::is_config_map_key(key) {
            e.push(invalid(&path.child("key"), key, msg));
        }
    }
    e
}

fn env_name_errs(name: &str, path: &Path) -> Errs {
    v::is_relaxed_env_var_name(name).into_iter().map(|m| invalid(path, name, m)).collect()
}

fn validate_env(vars: &[api::EnvVar], path: &Path) -> Errs {
    let mut e = Vec::new();
    for (i, ev) in vars.iter().enumerate() {
        let ip = path.index(i);
        if ev.name.is_empty() {
            e.push(required(&ip.child("name"), ""));
        } else {
            e.extend(env_name_errs(&ev.name, &ip.child("name")));
        }
        let Some(vf) = &ev.value_from else { continue };
        let fp = ip.child("valueFrom");
        let mut n = 0;
        if let Some(fr) = &vf.field_ref {
            n += 1;
            e.extend(validate_object_field_selector(fr, ENV_FIELD_PATHS, &fp.child("fieldRef")));
        }
        if let Some(rf) = &vf.resource_field_ref {
            n += 1;
            e.extend(validate_resource_field_selector(rf, &fp.child("resourceFieldRef"), false));
        }
        if let Some(cm) = &vf.config_map_key_ref {
            n += 1;
            e.extend(key_selector(&cm.name, &cm.key, &fp.child("configMapKeyRef")));
        }
        if let Some(sk) = &vf.secret_key_ref {
            n += 1;
            e.extend(key_selector(&sk.name, &sk.key, &fp.child("secretKeyRef")));
        }
        if n == 0 {
            e.push(invalid(&fp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
        } else if !ostr(&ev.value).is_empty() {
            e.push(invalid(&fp, "", "may not be specified when `value` is not empty"));
        } else if n > 1 {
            e.push(invalid(&fp, "", "may not have more than one field specified at a time"));
        }
    }
    e
}

fn validate_env_from(vars: &[api::EnvFromSource], path: &Path) -> Errs {
    let mut e = Vec::new();
    for (i, ev) in vars.iter().enumerate() {
        let ip = path.index(i);
        let prefix = ostr(&ev.prefix);
        if !prefix.is_empty() {
            e.extend(env_name_errs(prefix, &ip.child("prefix")));
        }
        let mut n = 0;
        if let Some(cm) = &ev.config_map_ref {
            n += 1;
            let np = ip.child("configMapRef").child("name");
            if cm.name.is_empty() {
                e.push(required(&np, ""));
            } else {
                e.extend(name_errs(v::name_is_dns_subdomain(&cm.name, true), &cm.name, &np));
            }
        }
        if let Some(sr) = &ev.secret_ref {
            n += 1;
            let np = ip.child("secretRef").child("name");
            if sr.name.is_empty() {
                e.push(required(&np, ""));
            } else {
                e.extend(name_errs(v::name_is_dns_subdomain(&sr.name, true), &sr.name, &np));
            }
        }
        if n == 0 {
            e.push(invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"));
        } else if n > 1 {
            e.push(invalid(path, "", "may not have more than one field specified at a time"));
        }
    }
    e
}

// ---------------------------------------------------------------------------------------------
// mounts and devices
// ---------------------------------------------------------------------------------------------

fn validate_volume_mounts(
    mounts: &[api::VolumeMount],
    devices: &[api::VolumeDevice],
    volumes: &BTreeMap<String, VolumeInfo>,
    privileged: bool,
    path: &Path,
) -> Errs {
    let mut e = Vec::new();
    let mut mount_points: BTreeSet<&str> = BTreeSet::new();
    let dev_names: BTreeSet<&str> = devices.iter().map(|d| d.name.as_str()).collect();
    // upstream keys devices by name (later duplicates win)
    let mut dev_map: BTreeMap<&str, &str> = BTreeMap::new();
    for d in devices {
        dev_map.insert(&d.name, &d.device_path);
    }
    for (i, m) in mounts.iter().enumerate() {
        let ip = path.index(i);
        if m.name.is_empty() {
            e.push(required(&ip.child("name"), ""));
        }
        if !volumes.contains_key(&m.name) {
            e.push(not_found(&ip.child("name"), m.name.as_str()));
        }
        if m.mount_path.is_empty() {
            e.push(required(&ip.child("mountPath"), ""));
        }
        if mount_points.contains(m.mount_path.as_str()) {
            e.push(invalid(&ip.child("mountPath"), m.mount_path.as_str(), "must be unique"));
        }
        mount_points.insert(&m.mount_path);
        if dev_names.contains(m.name.as_str()) {
            e.push(invalid(&ip.child("name"), m.name.as_str(), "must not already exist in volumeDevices"));
        }
        if dev_map.values().any(|dp| *dp == m.mount_path) {
            e.push(invalid(&ip.child("mountPath"), m.mount_path.as_str(), "must not already exist as a path in volumeDevices"));
        }
        let sub_path = ostr(&m.sub_path);
        let sub_expr = ostr(&m.sub_path_expr);
        if volumes.get(&m.name).is_some_and(|v| v.is_image) {
            if !sub_path.is_empty() {
                e.push(invalid(&ip.child("subPath"), sub_path, "not allowed in image volume sources"));
            }
            if !sub_expr.is_empty() {
                e.push(invalid(&ip.child("subPathExpr"), sub_expr, "not allowed in image volume sources"));
            }
        }
        if !sub_path.is_empty() {
            e.extend(local_descending_path(sub_path, &path.child("subPath")));
        }
        if !sub_expr.is_empty() {
            if !sub_path.is_empty() {
                e.push(invalid(&ip.child("subPathExpr"), sub_expr, "subPathExpr and subPath are mutually exclusive"));
            }
            e.extend(local_descending_path(sub_expr, &path.child("subPathExpr")));
        }
        if let Some(mp) = &m.mount_propagation {
            let pp = path.child("mountPropagation");
            const PROPS: &[&str] = &["Bidirectional", "HostToContainer", "None"];
            if !PROPS.contains(&mp.as_str()) {
                e.push(not_supported(&pp, mp.as_str(), PROPS));
            }
            if mp == "Bidirectional" && !privileged {
                e.push(forbidden(&pp, "Bidirectional mount propagation is available only to privileged containers"));
            }
        }
        if let Some(rro) = &m.recursive_read_only {
            let rp = path.child("recursiveReadOnly");
            match rro.as_str() {
                "Disabled" => {}
                "Enabled" | "IfPossible" => {
                    if !b(m.read_only) {
                        e.push(forbidden(&rp, "may only be specified when readOnly is true"));
                    }
                    if m.mount_propagation.as_deref().is_some_and(|p| p != "None") {
                        e.push(forbidden(&rp, "may only be specified when mountPropagation is None or not specified"));
                    }
                }
                other => e.push(not_supported(&rp, other, &["Disabled", "Enabled", "IfPossible"])),
            }
        }
    }
    e
}

fn validate_volume_devices(devices: &[api::VolumeDevice], mounts: &[api::VolumeMount], volumes: &BTreeMap<String, VolumeInfo>, path: &Path) -> Errs {
    let mut e = Vec::new();
    let mut dev_paths: BTreeSet<&str> = BTreeSet::new();
    let mut dev_names: BTreeSet<&str> = BTreeSet::new();
    let mount_names: BTreeSet<&str> = mounts.iter().map(|m| m.name.as_str()).collect();
    let mut mount_map: BTreeMap<&str, &str> = BTreeMap::new();
    for m in mounts {
        mount_map.insert(&m.name, &m.mount_path);
    }
    for (i, d) in devices.iter().enumerate() {
        let ip = path.index(i);
        let info = volumes.get(&d.name);
        if d.name.is_empty() {
            e.push(required(&ip.child("name"), ""));
        }
        if dev_names.contains(d.name.as_str()) {
            e.push(invalid(&ip.child("name"), d.name.as_str(), "must be unique"));
        }
        if info.is_some_and(|i| !i.is_pvc) {
            e.push(invalid(&ip.child("name"), d.name.as_str(), "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode"));
        }
        if info.is_none() {
            e.push(not_found(&ip.child("name"), d.name.as_str()));
        }
        if d.device_path.is_empty() {
            e.push(required(&ip.child("devicePath"), ""));
        }
        if dev_paths.contains(d.device_path.as_str()) {
            e.push(invalid(&ip.child("devicePath"), d.device_path.as_str(), "must be unique"));
        }
        if !d.device_path.is_empty() && d.device_path.split('/').any(|s| s == "..") {
            e.push(invalid(&ip.child("devicePath"), d.device_path.as_str(), "can not contain backsteps ('..')"));
        } else {
            dev_paths.insert(&d.device_path);
        }
        if mount_names.contains(d.name.as_str()) {
            e.push(invalid(&ip.child("name"), d.name.as_str(), "must not already exist in volumeMounts"));
        }
        if mount_map.values().any(|mp| *mp == d.device_path) {
            e.push(invalid(&ip.child("devicePath"), d.device_path.as_str(), "must not already exist as a path in volumeMounts"));
        }
        if !d.name.is_empty() {
            dev_names.insert(&d.name);
        }
    }
    e
}

// ---------------------------------------------------------------------------------------------
// probes and handlers
// ---------------------------------------------------------------------------------------------

fn port_num_or_name(port: &IntOrString, path: &Path) -> Errs {
    match port {
        IntOrString::Int(n) => port_num(*n as i64, path),
        IntOrString::String(s) => v::is_valid_port_name(s).into_iter().map(|m| invalid(path, s.as_str(), m)).collect(),
    }
}

struct Handler<'a> {
    exec: Option<&'a api::ExecAction>,
    http_get: Option<&'a api::HTTPGetAction>,
    tcp_socket: Option<&'a api::TCPSocketAction>,
    grpc: Option<&'a api::GRPCAction>,
    sleep: Option<&'a api::SleepAction>,
}

fn validate_handler(h: &Handler, grace: Option<i64>, path: &Path) -> Errs {
    let mut e = Vec::new();
    let mut n = 0;
    if let Some(x) = h.exec {
        n += 1;
        if sl(&x.command).is_empty() {
            e.push(required(&path.child("exec").child("command"), ""));
        }
    }
    if let Some(x) = h.http_get {
        if n > 0 {
            e.push(forbidden(&path.child("httpGet"), "may not specify more than 1 handler type"));
        } else {
            n += 1;
            let hp = path.child("httpGet");
            e.extend(port_num_or_name(&x.port, &hp.child("port")));
            let scheme = x.scheme.as_deref().filter(|s| !s.is_empty()).unwrap_or("HTTP");
            if scheme != "HTTP" && scheme != "HTTPS" {
                e.push(not_supported(&hp.child("scheme"), scheme, &["HTTP", "HTTPS"]));
            }
            for hdr in sl(&x.http_headers) {
                for msg in v::is_http_header_name(&hdr.name) {
                    e.push(invalid(&hp.child("httpHeaders"), hdr.name.as_str(), msg));
                }
            }
        }
    }
    if let Some(x) = h.tcp_socket {
        if n > 0 {
            e.push(forbidden(&path.child("tcpSocket"), "may not specify more than 1 handler type"));
        } else {
            n += 1;
            e.extend(port_num_or_name(&x.port, &path.child("tcpSocket").child("port")));
        }
    }
    if let Some(x) = h.grpc {
        if n > 0 {
            e.push(forbidden(&path.child("grpc"), "may not specify more than 1 handler type"));
        } else {
            n += 1;
            e.extend(port_num(x.port as i64, &path.child("grpc").child("port")));
        }
    }
    if let Some(x) = h.sleep {
        if n > 0 {
            e.push(forbidden(&path.child("sleep"), "may not specify more than 1 handler type"));
        } else {
            n += 1;
            if let Some(g) = grace
                && (x.seconds <= 0 || x.seconds > g)
            {
                e.push(invalid(
                    &path.child("sleep"),
                    x.seconds,
                    format!("must be greater than 0 and less than terminationGracePeriodSeconds ({g}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep."),
                ));
            }
        }
    }
    if n == 0 {
        e.push(required(path, "must specify a handler type"));
    }
    e
}

fn validate_lifecycle(lc: &api::Lifecycle, grace: Option<i64>, path: &Path) -> Errs {
    let mut e = Vec::new();
    for (name, h) in [("postStart", &lc.post_start), ("preStop", &lc.pre_stop)] {
        if let Some(h) = h {
            let handler = Handler {
                exec: h.exec.as_ref(),
                http_get: h.http_get.as_ref(),
                tcp_socket: h.tcp_socket.as_ref(),
                grpc: None,
                sleep: h.sleep.as_ref(),
            };
            e.extend(validate_handler(&handler, grace, &path.child(name)));
        }
    }
    e
}

#[derive(Clone, Copy, PartialEq)]
enum ProbeKind {
    Liveness,
    Readiness,
    Startup,
}

fn validate_probe(probe: &api::Probe, kind: ProbeKind, grace: Option<i64>, path: &Path) -> Errs {
    let handler = Handler {
        exec: probe.exec.as_ref(),
        http_get: probe.http_get.as_ref(),
        tcp_socket: probe.tcp_socket.as_ref(),
        grpc: probe.grpc.as_ref(),
        sleep: None,
    };
    let mut e = validate_handler(&handler, grace, path);
    let success = probe.success_threshold.unwrap_or(1);
    e.extend(nonneg(probe.initial_delay_seconds.unwrap_or(0) as i64, &path.child("initialDelaySeconds")));
    e.extend(nonneg(probe.timeout_seconds.unwrap_or(1) as i64, &path.child("timeoutSeconds")));
    e.extend(nonneg(probe.period_seconds.unwrap_or(10) as i64, &path.child("periodSeconds")));
    e.extend(nonneg(success as i64, &path.child("successThreshold")));
    e.extend(nonneg(probe.failure_threshold.unwrap_or(3) as i64, &path.child("failureThreshold")));
    if let Some(t) = probe.termination_grace_period_seconds
        && t <= 0
    {
        e.push(invalid(&path.child("terminationGracePeriodSeconds"), t, "must be greater than 0"));
    }
    match kind {
        ProbeKind::Liveness | ProbeKind::Startup => {
            if success != 1 {
                e.push(invalid(&path.child("successThreshold"), success, "must be 1"));
            }
        }
        ProbeKind::Readiness => {
            if let Some(t) = probe.termination_grace_period_seconds {
                e.push(invalid(&path.child("terminationGracePeriodSeconds"), t, "must not be set for readinessProbes"));
            }
        }
    }
    e
}

fn validate_probes(c: &api::Container, grace: Option<i64>, path: &Path) -> Errs {
    let mut e = Vec::new();
    if let Some(pr) = &c.liveness_probe {
        e.extend(validate_probe(pr, ProbeKind::Liveness, grace, &path.child("livenessProbe")));
    }
    if let Some(pr) = &c.readiness_probe {
        e.extend(validate_probe(pr, ProbeKind::Readiness, grace, &path.child("readinessProbe")));
    }
    if let Some(pr) = &c.startup_probe {
        e.extend(validate_probe(pr, ProbeKind::Startup, grace, &path.child("startupProbe")));
    }
    e
}

// ---------------------------------------------------------------------------------------------
// containers
// ---------------------------------------------------------------------------------------------

const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];

fn validate_container_ports(ports: &[api::ContainerPort], path: &Path) -> Errs {
    let mut e = Vec::new();
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let ip = path.index(i);
        let name = ostr(&port.name);
        if !name.is_empty() {
            let msgs = v::is_valid_port_name(name);
            if !msgs.is_empty() {
                for m in msgs {
                    e.push(invalid(&ip.child("name"), name, m));
                }
            } else if names.contains(name) {
                e.push(duplicate(&ip.child("name"), name));
            } else {
                names.insert(name);
            }
        }
        if port.container_port == 0 {
            e.push(required(&ip.child("containerPort"), ""));
        } else {
            e.extend(port_num(port.container_port as i64, &ip.child("containerPort")));
        }
        if let Some(hp) = port.host_port
            && hp != 0
        {
            e.extend(port_num(hp as i64, &ip.child("hostPort")));
        }
        if let Some(proto) = port.protocol.as_deref().filter(|s| !s.is_empty())
            && !PROTOCOLS.contains(&proto)
        {
            e.push(not_supported(&ip.child("protocol"), proto, PROTOCOLS));
        }
    }
    e
}

pub(crate) fn pull_policy(policy: &str, path: &Path) -> Errs {
    match policy {
        "Always" | "IfNotPresent" | "Never" => Vec::new(),
        "" => vec![required(path, "")],
        other => vec![not_supported(path, other, &["Always", "IfNotPresent", "Never"])],
    }
}

fn validate_resize_policy(policies: &[api::ContainerResizePolicy], path: &Path, pod_restart: &str) -> Errs {
    let mut e = Vec::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (i, p) in policies.iter().enumerate() {
        if !seen.insert(&p.resource_name) {
            e.push(duplicate(&path.index(i), p.resource_name.as_str()));
        }
        match p.resource_name.as_str() {
            "cpu" | "memory" => {}
            "" => e.push(required(path, "")),
            other => e.push(not_supported(path, other, &["cpu", "memory"])),
        }
        match p.restart_policy.as_str() {
            "NotRequired" | "RestartContainer" => {}
            "" => e.push(required(path, "")),
            other => e.push(not_supported(path, other, &["NotRequired", "RestartContainer"])),
        }
        if pod_restart == "Never" && p.restart_policy != "NotRequired" {
            e.push(invalid(path, p.restart_policy.as_str(), "must be 'NotRequired' when `restartPolicy` is 'Never'"));
        }
    }
    e
}

fn validate_seccomp_profile(sp: Option<&api::SeccompProfile>, path: &Path) -> Errs {
    let Some(sp) = sp else { return Vec::new() };
    let mut e = Vec::new();
    let tp = path.child("type");
    match sp.type_.as_str() {
        "Localhost" | "RuntimeDefault" | "Unconfined" => {}
        "" => e.push(required(&tp, "type is required when seccompProfile is set")),
        other => e.push(not_supported(&tp, other, &["Localhost", "RuntimeDefault", "Unconfined"])),
    }
    if sp.type_ == "Localhost" {
        match &sp.localhost_profile {
            None => e.push(required(&path.child("localhostProfile"), "must be set when seccomp type is Localhost")),
            Some(lp) => e.extend(local_descending_path(lp, &path.child("localhostProfile"))),
        }
    } else if sp.localhost_profile.is_some() {
        e.push(invalid(&path.child("localhostProfile"), json(sp), "can only be set when seccomp type is Localhost"));
    }
    e
}

fn validate_app_armor_profile(ap: Option<&api::AppArmorProfile>, path: &Path) -> Errs {
    let Some(ap) = ap else { return Vec::new() };
    let mut e = Vec::new();
    match ap.type_.as_str() {
        "Localhost" => match &ap.localhost_profile {
            None => e.push(required(&path.child("localhostProfile"), "must be set when AppArmor type is Localhost")),
            Some(lp) => {
                let trimmed = lp.trim();
                if trimmed != lp {
                    e.push(invalid(&path.child("localhostProfile"), lp.as_str(), "must not be padded with whitespace"));
                } else if trimmed.is_empty() {
                    e.push(required(&path.child("localhostProfile"), "must be set when AppArmor type is Localhost"));
                }
                if lp.len() > 4095 {
                    e.push(too_long(&path.child("localhostProfile"), 4095));
                }
            }
        },
        "RuntimeDefault" | "Unconfined" => {
            if let Some(lp) = &ap.localhost_profile {
                e.push(invalid(&path.child("localhostProfile"), lp.as_str(), "can only be set when AppArmor type is Localhost"));
            }
        }
        "" => e.push(required(&path.child("type"), "type is required when appArmorProfile is set")),
        other => e.push(not_supported(&path.child("type"), other, &["Localhost", "RuntimeDefault", "Unconfined"])),
    }
    e
}

fn windows_domain_ok(domain: &str) -> bool {
    let netbios = {
        let bad = |c: char| "\\/:*?\"<>|".contains(c);
        let mut chars = domain.chars();
        match chars.next() {
            Some(f) if !bad(f) && f != '.' => {
                let rest: Vec<char> = chars.collect();
                rest.len() <= 14 && rest.iter().all(|c| !bad(*c))
            }
            _ => false,
        }
    };
    let dns = !domain.is_empty()
        && domain.split('.').all(|l| {
            let b = l.as_bytes();
            !b.is_empty()
                && b.len() <= 63
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        });
    netbios || dns
}

fn validate_windows_options(wo: Option<&api::WindowsSecurityContextOptions>, path: &Path) -> Errs {
    let Some(wo) = wo else { return Vec::new() };
    let mut e = Vec::new();
    if let Some(n) = &wo.gmsa_credential_spec_name {
        for msg in v::is_dns1123_subdomain(n) {
            e.push(invalid(&path.child("gmsaCredentialSpecName"), n.as_str(), msg));
        }
    }
    if let Some(spec) = &wo.gmsa_credential_spec {
        let gp = path.child("gmsaCredentialSpec");
        if spec.is_empty() {
            e.push(invalid(&gp, spec.as_str(), "gmsaCredentialSpec cannot be an empty string"));
        } else if spec.len() > 64 * 1024 {
            e.push(invalid(&gp, spec.as_str(), "gmsaCredentialSpec size must be under 64 KiB"));
        }
    }
    if let Some(user) = &wo.run_as_user_name {
        let up = path.child("runAsUserName");
        let bad = |m: &str| invalid(&up, user.as_str(), m.to_string());
        let parts: Vec<&str> = user.split('\\').collect();
        if user.is_empty() {
            e.push(bad("runAsUserName cannot be an empty string"));
        } else if user.chars().any(|c| c.is_control()) {
            e.push(bad("runAsUserName cannot contain control characters"));
        } else if parts.len() > 2 {
            e.push(bad("runAsUserName cannot contain more than one backslash"));
        } else {
            let (has_domain, domain, name) = if parts.len() == 1 { (false, "", parts[0]) } else { (true, parts[0], parts[1]) };
            if domain.len() >= 256 {
                e.push(bad("runAsUserName's Domain length must be under 256 characters"));
            }
            if has_domain && !windows_domain_ok(domain) {
                e.push(bad("runAsUserName's Domain doesn't match the NetBios nor the DNS format"));
            }
            if name.is_empty() {
                e.push(bad("runAsUserName's User cannot be empty"));
            } else if name.len() > 104 {
                e.push(bad("runAsUserName's User length must not be longer than 104 characters"));
            }
            if !name.is_empty() && name.chars().all(|c| c == '.' || c == ' ') {
                e.push(bad("runAsUserName's User cannot contain only periods or spaces"));
            }
            if name.chars().any(|c| "\"/\\:;|=,+*?<>@[]".contains(c)) {
                e.push(bad("runAsUserName's User cannot contain the following characters: \"/\\:;|=,+*?<>@[]"));
            }
        }
    }
    e
}

fn validate_security_context(sc: Option<&api::SecurityContext>, path: &Path, host_users: bool) -> Errs {
    let Some(sc) = sc else { return Vec::new() };
    let mut e = Vec::new();
    if let Some(u) = sc.run_as_user {
        e.extend(id_range(u, &path.child("runAsUser")));
    }
    if let Some(g) = sc.run_as_group {
        e.extend(id_range(g, &path.child("runAsGroup")));
    }
    if let Some(pm) = &sc.proc_mount {
        if pm != "Default" && pm != "Unmasked" {
            e.push(not_supported(&path.child("procMount"), pm.as_str(), &["Default", "Unmasked"]));
        }
        if host_users && pm == "Unmasked" {
            e.push(invalid(&path.child("procMount"), pm.as_str(), "`hostUsers` must be false to use `Unmasked`"));
        }
    }
    e.extend(validate_seccomp_profile(sc.seccomp_profile.as_ref(), &path.child("seccompProfile")));
    if sc.allow_privilege_escalation == Some(false) {
        if sc.privileged == Some(true) {
            e.push(invalid(path, json(sc), "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"));
        }
        if let Some(caps) = &sc.capabilities {
            for cap in sl(&caps.add) {
                if cap == "CAP_SYS_ADMIN" {
                    e.push(invalid(path, json(sc), "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"));
                }
            }
        }
    }
    e.extend(validate_windows_options(sc.windows_options.as_ref(), &path.child("windowsOptions")));
    e.extend(validate_app_armor_profile(sc.app_armor_profile.as_ref(), &path.child("appArmorProfile")));
    e
}

/// Container validation shared by regular, init and ephemeral containers
/// (upstream's `validateContainerCommon`).
fn validate_container_common(
    c: &api::Container,
    volumes: &BTreeMap<String, VolumeInfo>,
    pod_claims: &BTreeSet<String>,
    path: &Path,
    opts: &PodOpts,
    pod_restart: &str,
    host_users: bool,
) -> Errs {
    let mut e = Vec::new();
    let np = path.child("name");
    if c.name.is_empty() {
        e.push(required(&np, ""));
    } else {
        e.extend(dns1123_label(&c.name, &np));
    }
    if ostr(&c.image).is_empty() {
        e.push(required(&path.child("image"), ""));
    }
    if let Some(tmp) = c.termination_message_policy.as_deref().filter(|s| !s.is_empty()) {
        match tmp {
            "File" | "FallbackToLogsOnError" => {}
            other => e.push(not_supported(&path.child("terminationMessagePolicy"), other, &["File", "FallbackToLogsOnError"])),
        }
    }
    e.extend(validate_container_ports(sl(&c.ports), &path.child("ports")));
    e.extend(validate_env(sl(&c.env), &path.child("env")));
    e.extend(validate_env_from(sl(&c.env_from), &path.child("envFrom")));
    let privileged = c.security_context.as_ref().and_then(|s| s.privileged).unwrap_or(false);
    e.extend(validate_volume_mounts(sl(&c.volume_mounts), sl(&c.volume_devices), volumes, privileged, &path.child("volumeMounts")));
    e.extend(validate_volume_devices(sl(&c.volume_devices), sl(&c.volume_mounts), volumes, &path.child("volumeDevices")));
    if let Some(pp) = c.image_pull_policy.as_deref().filter(|s| !s.is_empty()) {
        e.extend(pull_policy(pp, &path.child("imagePullPolicy")));
    }
    if let Some(r) = &c.resources {
        e.extend(validate_resource_requirements(r, pod_claims, &path.child("resources"), opts));
    }
    e.extend(validate_resize_policy(sl(&c.resize_policy), &path.child("resizePolicy"), pod_restart));
    e.extend(validate_security_context(c.security_context.as_ref(), &path.child("securityContext"), host_users));
    e
}

fn host_port_conflicts(containers: &[&api::Container], path: &Path, offset: usize) -> Errs {
    let mut e = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (ci, c) in containers.iter().enumerate() {
        for (pi, port) in sl(&c.ports).iter().enumerate() {
            let hp = port.host_port.unwrap_or(0);
            if hp == 0 {
                continue;
            }
            let key = format!("{}/{}/{}", port.protocol.as_deref().unwrap_or("TCP"), ostr(&port.host_ip), hp);
            if !seen.insert(key.clone()) {
                e.push(duplicate(&path.index(ci + offset).child("ports").index(pi).child("hostPort"), key));
            }
        }
    }
    e
}

#[allow(clippy::too_many_arguments)]
fn validate_containers(
    containers: &[api::Container],
    volumes: &BTreeMap<String, VolumeInfo>,
    pod_claims: &BTreeSet<String>,
    grace: Option<i64>,
    path: &Path,
    opts: &PodOpts,
    pod_restart: &str,
    host_users: bool,
) -> Errs {
    if containers.is_empty() {
        return vec![required(path, "")];
    }
    let mut e = Vec::new();
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for (i, c) in containers.iter().enumerate() {
        let cp = path.index(i);
        e.extend(validate_container_common(c, volumes, pod_claims, &cp, opts, pod_restart, host_users));
        if !names.insert(&c.name) {
            e.push(duplicate(&cp.child("name"), c.name.as_str()));
        }
        if let Some(lc) = &c.lifecycle {
            e.extend(validate_lifecycle(lc, grace, &cp.child("lifecycle")));
        }
        e.extend(validate_probes(c, grace, &cp));
        if c.restart_policy.is_some() {
            e.push(forbidden(&cp.child("restartPolicy"), "may not be set for non-init containers"));
        }
    }
    let refs: Vec<&api::Container> = containers.iter().collect();
    e.extend(host_port_conflicts(&refs, path, 0));
    e
}

#[allow(clippy::too_many_arguments)]
fn validate_init_containers(
    containers: &[api::Container],
    regular: &[api::Container],
    volumes: &BTreeMap<String, VolumeInfo>,
    pod_claims: &BTreeSet<String>,
    grace: Option<i64>,
    path: &Path,
    opts: &PodOpts,
    pod_restart: &str,
    host_users: bool,
) -> Errs {
    let mut e = Vec::new();
    let mut names: BTreeSet<&str> = regular.iter().map(|c| c.name.as_str()).collect();
    for (i, c) in containers.iter().enumerate() {
        let ip = path.index(i);
        e.extend(validate_container_common(c, volumes, pod_claims, &ip, opts, pod_restart, host_users));
        let mut restart_always = false;
        if let Some(rp) = &c.restart_policy {
            if rp != "Always" {
                e.push(not_supported(&ip.child("restartPolicy"), rp.as_str(), &["Always"]));
            }
            restart_always = rp == "Always";
        }
        if names.contains(c.name.as_str()) {
            e.push(duplicate(&ip.child("name"), c.name.as_str()));
        } else if !c.name.is_empty() {
            names.insert(&c.name);
        }
        e.extend(host_port_conflicts(&[c], path, i));
        if restart_always {
            if let Some(lc) = &c.lifecycle {
                e.extend(validate_lifecycle(lc, grace, &ip.child("lifecycle")));
            }
            e.extend(validate_probes(c, grace, &ip));
        } else {
            let msg = "may not be set for init containers without restartPolicy=Always";
            if c.lifecycle.is_some() {
                e.push(forbidden(&ip.child("lifecycle"), msg));
            }
            if c.liveness_probe.is_some() {
                e.push(forbidden(&ip.child("livenessProbe"), msg));
            }
            if c.readiness_probe.is_some() {
                e.push(forbidden(&ip.child("readinessProbe"), msg));
            }
            if c.startup_probe.is_some() {
                e.push(forbidden(&ip.child("startupProbe"), msg));
            }
        }
        if !sl(&c.resize_policy).is_empty() {
            e.push(invalid(&ip.child("resizePolicy"), json(&c.resize_policy), "must not be set for init containers"));
        }
    }
    e
}

fn ephemeral_as_container(ec: &api::EphemeralContainer) -> api::Container {
    api::Container {
        args: ec.args.clone(),
        command: ec.command.clone(),
        env: ec.env.clone(),
        env_from: ec.env_from.clone(),
        image: ec.image.clone(),
        image_pull_policy: ec.image_pull_policy.clone(),
        lifecycle: ec.lifecycle.clone(),
        liveness_probe: ec.liveness_probe.clone(),
        name: ec.name.clone(),
        ports: ec.ports.clone(),
        readiness_probe: ec.readiness_probe.clone(),
        resize_policy: ec.resize_policy.clone(),
        resources: ec.resources.clone(),
        restart_policy: ec.restart_policy.clone(),
        security_context: ec.security_context.clone(),
        startup_probe: ec.startup_probe.clone(),
        stdin: ec.stdin,
        stdin_once: ec.stdin_once,
        termination_message_path: ec.termination_message_path.clone(),
        termination_message_policy: ec.termination_message_policy.clone(),
        tty: ec.tty,
        volume_devices: ec.volume_devices.clone(),
        volume_mounts: ec.volume_mounts.clone(),
        working_dir: ec.working_dir.clone(),
    }
}

fn image_whitespace(c: &api::Container, path: &Path) -> Errs {
    let image = ostr(&c.image);
    if image.len() != image.trim().len() {
        vec![invalid(&path.child("image"), image, "must not have leading or trailing whitespace")]
    } else {
        Vec::new()
    }
}

#[allow(clippy::too_many_arguments)]
fn validate_ephemeral_containers(
    ecs: &[api::EphemeralContainer],
    containers: &[api::Container],
    init: &[api::Container],
    volumes: &BTreeMap<String, VolumeInfo>,
    pod_claims: &BTreeSet<String>,
    path: &Path,
    opts: &PodOpts,
    pod_restart: &str,
    host_users: bool,
) -> Errs {
    let mut e = Vec::new();
    if ecs.is_empty() {
        return e;
    }
    let other: BTreeSet<&str> = containers.iter().chain(init).map(|c| c.name.as_str()).collect();
    let mut all = other.clone();
    for (i, ec) in ecs.iter().enumerate() {
        let ip = path.index(i);
        let c = ephemeral_as_container(ec);
        e.extend(validate_container_common(&c, volumes, pod_claims, &ip, opts, pod_restart, host_users));
        e.extend(image_whitespace(&c, &ip));
        if all.contains(ec.name.as_str()) {
            e.push(duplicate(&ip.child("name"), ec.name.as_str()));
        } else {
            all.insert(&ec.name);
        }
        if let Some(t) = ec.target_container_name.as_deref().filter(|t| !t.is_empty())
            && !other.contains(t)
        {
            e.push(not_found(&ip.child("targetContainerName"), t));
        }
        let msg = "cannot be set for an Ephemeral Container";
        let set_fields = [
            ("ports", !sl(&ec.ports).is_empty()),
            ("resources", ec.resources.as_ref().is_some_and(|r| !sem_json(r).is_null())),
            ("resizePolicy", !sl(&ec.resize_policy).is_empty()),
            ("restartPolicy", ec.restart_policy.is_some()),
            ("livenessProbe", ec.liveness_probe.is_some()),
            ("readinessProbe", ec.readiness_probe.is_some()),
            ("startupProbe", ec.startup_probe.is_some()),
            ("lifecycle", ec.lifecycle.is_some()),
        ];
        for (name, set) in set_fields {
            if set {
                e.push(forbidden(&ip.child(name), msg));
            }
        }
        for (j, vm) in sl(&ec.volume_mounts).iter().enumerate() {
            if !ostr(&vm.sub_path).is_empty() {
                e.push(forbidden(&ip.child("volumeMounts").index(j).child("subPath"), msg));
            }
            if !ostr(&vm.sub_path_expr).is_empty() {
                e.push(forbidden(&ip.child("volumeMounts").index(j).child("subPathExpr"), msg));
            }
        }
    }
    e
}

// ---------------------------------------------------------------------------------------------
// scheduling: node selectors, affinity, tolerations, topology spread
// ---------------------------------------------------------------------------------------------

fn node_selector_requirement(rq: &api::NodeSelectorRequirement, allow_invalid_value: bool, path: &Path) -> Errs {
    let mut e = Vec::new();
    let values = sl(&rq.values);
    match rq.operator.as_str() {
        "In" | "NotIn" => {
            if values.is_empty() {
                e.push(required(&path.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
            }
        }
        "Exists" | "DoesNotExist" => {
            if !values.is_empty() {
                e.push(forbidden(&path.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
            }
        }
        "Gt" | "Lt" => {
            if values.len() != 1 {
                e.push(required(&path.child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
            }
        }
        other => e.push(invalid(&path.child("operator"), other, "not a valid selector operator")),
    }
    e.extend(label_name(&rq.key, &path.child("key")));
    if !allow_invalid_value {
        for (i, val) in values.iter().enumerate() {
            e.extend(label_value(val, &path.child("values").index(i)));
        }
    }
    e
}

fn node_field_selector_requirement(rq: &api::NodeSelectorRequirement, path: &Path) -> Errs {
    let mut e = Vec::new();
    let values = sl(&rq.values);
    match rq.operator.as_str() {
        "In" | "NotIn" => {
            if values.len() != 1 {
                e.push(required(&path.child("values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
            }
        }
        other => e.push(invalid(&path.child("operator"), other, "not a valid selector operator")),
    }
    if rq.key != "metadata.name" {
        e.push(invalid(&path.child("key"), rq.key.as_str(), "not a valid field selector key"));
    } else {
        for (i, val) in values.iter().enumerate() {
            e.extend(name_errs(v::name_is_dns_subdomain(val, false), val, &path.child("values").index(i)));
        }
    }
    e
}

fn node_selector_term(term: &api::NodeSelectorTerm, allow_invalid_value: bool, path: &Path) -> Errs {
    let mut e = Vec::new();
    for (j, rq) in sl(&term.match_expressions).iter().enumerate() {
        e.extend(node_selector_requirement(rq, allow_invalid_value, &path.child("matchExpressions").index(j)));
    }
    for (j, rq) in sl(&term.match_fields).iter().enumerate() {
        e.extend(node_field_selector_requirement(rq, &path.child("matchFields").index(j)));
    }
    e
}

/// Upstream's `ValidateNodeSelector`.
pub(crate) fn validate_node_selector(ns: &api::NodeSelector, allow_invalid_value: bool, path: &Path) -> Errs {
    let tp = path.child("nodeSelectorTerms");
    if ns.node_selector_terms.is_empty() {
        return vec![required(&tp, "must have at least one node selector term")];
    }
    let mut e = Vec::new();
    for (i, t) in ns.node_selector_terms.iter().enumerate() {
        e.extend(node_selector_term(t, allow_invalid_value, &tp.index(i)));
    }
    e
}

/// Upstream's `ValidateTopologySelectorTerm` (returns the keys' value sets and the errors).
pub(crate) fn topology_selector_term(term: &api::TopologySelectorTerm, path: &Path) -> (BTreeMap<String, BTreeSet<String>>, Errs) {
    let mut e = Vec::new();
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let ep = path.child("matchLabelExpressions");
    for (i, rq) in sl(&term.match_label_expressions).iter().enumerate() {
        let ip = ep.index(i);
        let vp = ip.child("values");
        if rq.values.is_empty() {
            e.push(required(&vp, ""));
        }
        let mut set = BTreeSet::new();
        for (j, val) in rq.values.iter().enumerate() {
            if !set.insert(val.clone()) {
                e.push(duplicate(&vp.index(j), val.as_str()));
            }
        }
        e.extend(label_name(&rq.key, &ip.child("key")));
        if map.contains_key(&rq.key) {
            e.push(duplicate(&ip.child("key"), rq.key.as_str()));
        }
        map.insert(rq.key.clone(), set);
    }
    (map, e)
}

fn label_keys(path: &Path, keys: &[String], sel: Option<&LabelSelector>) -> Errs {
    if keys.is_empty() {
        return Vec::new();
    }
    if sel.is_none() {
        return vec![forbidden(path, "must not be specified when labelSelector is not set")];
    }
    keys.iter().enumerate().flat_map(|(i, k)| label_name(k, &path.index(i))).collect()
}

fn pod_affinity_term(t: &api::PodAffinityTerm, allow_invalid: bool, path: &Path) -> Errs {
    let mut e = Vec::new();
    e.extend(label_selector(t.label_selector.as_ref(), &path.child("labelSelector"), allow_invalid));
    e.extend(label_selector(t.namespace_selector.as_ref(), &path.child("namespaceSelector"), allow_invalid));
    for ns in sl(&t.namespaces) {
        e.extend(name_errs(v::validate_namespace_name(ns, false), ns, &path.child("namespace")));
    }
    let mlk = sl(&t.match_label_keys);
    let mmlk = sl(&t.mismatch_label_keys);
    e.extend(label_keys(&path.child("matchLabelKeys"), mlk, t.label_selector.as_ref()));
    e.extend(label_keys(&path.child("mismatchLabelKeys"), mmlk, t.label_selector.as_ref()));
    if let Some(sel) = &t.label_selector {
        let idx: BTreeMap<&str, usize> = mlk.iter().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
        let mut seen: BTreeSet<&str> = sel.match_labels.iter().flatten().map(|(k, _)| k.as_str()).collect();
        for me in sel.match_expressions.iter().flatten() {
            if let Some(i) = idx.get(me.key.as_str())
                && seen.contains(me.key.as_str())
            {
                e.push(invalid(&path.index(*i), me.key.as_str(), "exists in both matchLabelKeys and labelSelector"));
            }
            seen.insert(&me.key);
        }
    }
    let mm: BTreeSet<&str> = mmlk.iter().map(String::as_str).collect();
    for (i, k) in mlk.iter().enumerate() {
        if mm.contains(k.as_str()) {
            e.push(invalid(&path.child("matchLabelKeys").index(i), k.as_str(), "exists in both matchLabelKeys and mismatchLabelKeys"));
        }
    }
    if t.topology_key.is_empty() {
        e.push(required(&path.child("topologyKey"), "can not be empty"));
    }
    e.extend(label_name(&t.topology_key, &path.child("topologyKey")));
    e
}

fn pod_affinity_terms(req: &[api::PodAffinityTerm], pref: &[api::WeightedPodAffinityTerm], allow_invalid: bool, path: &Path) -> Errs {
    let mut e = Vec::new();
    let rp = path.child("requiredDuringSchedulingIgnoredDuringExecution");
    for (i, t) in req.iter().enumerate() {
        e.extend(pod_affinity_term(t, allow_invalid, &rp.index(i)));
    }
    let pp = path.child("preferredDuringSchedulingIgnoredDuringExecution");
    for (j, w) in pref.iter().enumerate() {
        if w.weight <= 0 || w.weight > 100 {
            e.push(invalid(&pp.index(j).child("weight"), w.weight, "must be in the range 1-100"));
        }
        e.extend(pod_affinity_term(&w.pod_affinity_term, allow_invalid, &pp.index(j).child("podAffinityTerm")));
    }
    e
}

fn validate_affinity(aff: Option<&api::Affinity>, opts: &PodOpts, path: &Path) -> Errs {
    let Some(aff) = aff else { return Vec::new() };
    let mut e = Vec::new();
    if let Some(na) = &aff.node_affinity {
        let np = path.child("nodeAffinity");
        if let Some(req) = &na.required_during_scheduling_ignored_during_execution {
            e.extend(validate_node_selector(
                req,
                opts.allow_invalid_label_value_in_required_node_affinity,
                &np.child("requiredDuringSchedulingIgnoredDuringExecution"),
            ));
        }
        let pp = np.child("preferredDuringSchedulingIgnoredDuringExecution");
        for (i, t) in sl(&na.preferred_during_scheduling_ignored_during_execution).iter().enumerate() {
            if t.weight <= 0 || t.weight > 100 {
                e.push(invalid(&pp.index(i).child("weight"), t.weight, "must be in the range 1-100"));
            }
            e.extend(node_selector_term(&t.preference, true, &pp.index(i).child("preference")));
        }
    }
    if let Some(pa) = &aff.pod_affinity {
        e.extend(pod_affinity_terms(
            sl(&pa.required_during_scheduling_ignored_during_execution),
            sl(&pa.preferred_during_scheduling_ignored_during_execution),
            opts.allow_invalid_label_value_in_selector,
            &path.child("podAffinity"),
        ));
    }
    if let Some(pa) = &aff.pod_anti_affinity {
        e.extend(pod_affinity_terms(
            sl(&pa.required_during_scheduling_ignored_during_execution),
            sl(&pa.preferred_during_scheduling_ignored_during_execution),
            opts.allow_invalid_label_value_in_selector,
            &path.child("podAntiAffinity"),
        ));
    }
    e
}

const TAINT_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// Upstream's `validateTaintEffect`.
pub(crate) fn taint_effect(effect: &str, allow_empty: bool, path: &Path) -> Errs {
    if !allow_empty && effect.is_empty() {
        return vec![required(path, "")];
    }
    if TAINT_EFFECTS.contains(&effect) { Vec::new() } else { vec![not_supported(path, effect, TAINT_EFFECTS)] }
}

/// Upstream's `ValidateTolerations`.
pub(crate) fn validate_tolerations(tols: &[api::Toleration], path: &Path) -> Errs {
    let mut e = Vec::new();
    for (i, t) in tols.iter().enumerate() {
        let ip = path.index(i);
        let key = ostr(&t.key);
        let op = ostr(&t.operator);
        let value = ostr(&t.value);
        let effect = ostr(&t.effect);
        if !key.is_empty() {
            e.extend(label_name(key, &ip.child("key")));
        }
        if key.is_empty() && op != "Exists" {
            e.push(invalid(&ip.child("operator"), op, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""));
        }
        if t.toleration_seconds.is_some() && effect != "NoExecute" {
            e.push(invalid(&ip.child("effect"), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
        }
        match op {
            "Equal" | "" => {
                let errs = v::is_valid_label_value(value);
                if !errs.is_empty() {
                    e.push(invalid(&ip.child("operator"), value, errs.join(";")));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    e.push(invalid(&ip.child("operator"), value, "value must be empty when `operator` is 'Exists'"));
                }
            }
            other => e.push(not_supported(&ip.child("operator"), other, &["Equal", "Exists"])),
        }
        if !effect.is_empty() {
            e.extend(taint_effect(effect, true, &ip.child("effect")));
        }
    }
    e
}

fn validate_topology_spread(cs: &[api::TopologySpreadConstraint], path: &Path, opts: &PodOpts) -> Errs {
    let mut e = Vec::new();
    for (i, c) in cs.iter().enumerate() {
        let sp = path.index(i);
        if c.max_skew <= 0 {
            e.push(invalid(&sp.child("maxSkew"), c.max_skew, IS_NOT_POSITIVE));
        }
        if c.topology_key.is_empty() {
            e.push(required(&sp.child("topologyKey"), "can not be empty"));
        }
        if c.when_unsatisfiable != "DoNotSchedule" && c.when_unsatisfiable != "ScheduleAnyway" {
            e.push(not_supported(&sp.child("whenUnsatisfiable"), c.when_unsatisfiable.as_str(), &["DoNotSchedule", "ScheduleAnyway"]));
        }
        if cs[i + 1..].iter().any(|o| o.topology_key == c.topology_key && o.when_unsatisfiable == c.when_unsatisfiable) {
            e.push(duplicate(&sp.child("{topologyKey, whenUnsatisfiable}"), format!("{{{}, {}}}", c.topology_key, c.when_unsatisfiable)));
        }
        if let Some(md) = c.min_domains {
            if md <= 0 {
                e.push(invalid(&sp.child("minDomains"), md, IS_NOT_POSITIVE));
            }
            if c.when_unsatisfiable != "DoNotSchedule" {
                e.push(invalid(
                    &sp.child("minDomains"),
                    md,
                    format!("can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {}", c.when_unsatisfiable),
                ));
            }
        }
        for (name, pol) in [("nodeAffinityPolicy", &c.node_affinity_policy), ("nodeTaintsPolicy", &c.node_taints_policy)] {
            if let Some(pv) = pol
                && pv != "Honor"
                && pv != "Ignore"
            {
                e.push(not_supported(&sp.child(name), pv.as_str(), &["Honor", "Ignore"]));
            }
        }
        let mlk = sl(&c.match_label_keys);
        if !mlk.is_empty() {
            let mp = sp.child("matchLabelKeys");
            let mut sel_keys: BTreeSet<&str> = BTreeSet::new();
            match &c.label_selector {
                Some(sel) => {
                    sel_keys.extend(sel.match_labels.iter().flatten().map(|(k, _)| k.as_str()));
                    sel_keys.extend(sel.match_expressions.iter().flatten().map(|m| m.key.as_str()));
                }
                None => e.push(forbidden(&mp, "must not be specified when labelSelector is not set")),
            }
            for (j, k) in mlk.iter().enumerate() {
                e.extend(label_name(k, &mp.index(j)));
                if sel_keys.contains(k.as_str()) {
                    e.push(invalid(&mp.index(j), k.as_str(), "exists in both matchLabelKeys and labelSelector"));
                }
            }
        }
        if !opts.allow_invalid_topology_spread_selector {
            e.extend(label_selector(c.label_selector.as_ref(), &sp.child("labelSelector"), false));
        }
    }
    e
}

// ---------------------------------------------------------------------------------------------
// pod security context, DNS, misc spec fields
// ---------------------------------------------------------------------------------------------

fn is_valid_sysctl_name(name: &str) -> bool {
    if name.len() > 253 {
        return false;
    }
    // ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$
    let seg_ok = |s: &str| {
        let b = s.as_bytes();
        !b.is_empty()
            && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
            && (b[b.len() - 1].is_ascii_lowercase() || b[b.len() - 1].is_ascii_digit())
            && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'_')
    };
    name.split(['.', '/']).all(seg_ok)
}

const SYSCTL_REGEX: &str = "^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$";

/// The namespace a sysctl belongs to ("net", "ipc" or "").
fn sysctl_namespace(name: &str) -> &'static str {
    let n = name.replace('/', ".");
    if n == "kernel.sem" || n.starts_with("kernel.shm") || n.starts_with("kernel.msg") || n.starts_with("fs.mqueue.") {
        "ipc"
    } else if n.starts_with("net.") {
        "net"
    } else {
        ""
    }
}

fn validate_pod_security_context(spec: &api::PodSpec, sc_path: &Path, opts: &PodOpts) -> Errs {
    let mut e = Vec::new();
    let sc = spec.security_context.clone().unwrap_or_default();
    if let Some(g) = sc.fs_group {
        e.extend(id_range(g, &sc_path.child("fsGroup")));
    }
    if let Some(u) = sc.run_as_user {
        e.extend(id_range(u, &sc_path.child("runAsUser")));
    }
    if let Some(g) = sc.run_as_group {
        e.extend(id_range(g, &sc_path.child("runAsGroup")));
    }
    for (i, g) in sl(&sc.supplemental_groups).iter().enumerate() {
        e.extend(id_range(*g, &sc_path.child("supplementalGroups").index(i)));
    }
    if let Some(spn) = spec.share_process_namespace
        && spn
        && b(spec.host_pid)
    {
        e.push(invalid(&sc_path.child("shareProcessNamespace"), spn, "ShareProcessNamespace and HostPID cannot both be enabled"));
    }
    let sysctls = sl(&sc.sysctls);
    if !sysctls.is_empty() {
        let sp = sc_path.child("sysctls");
        let mut names: BTreeSet<&str> = BTreeSet::new();
        for (i, s) in sysctls.iter().enumerate() {
            let np = sp.index(i).child("name");
            if s.name.is_empty() {
                e.push(required(&np, ""));
            } else if !is_valid_sysctl_name(&s.name) {
                e.push(invalid(&np, s.name.as_str(), format!("must have at most 253 characters and match regex {SYSCTL_REGEX}")));
            } else if names.contains(s.name.as_str()) {
                e.push(duplicate(&np, s.name.as_str()));
            }
            if !opts.allow_namespaced_sysctls_for_host {
                let ns = sysctl_namespace(&s.name);
                if b(spec.host_network) && ns == "net" {
                    e.push(invalid(&np, s.name.as_str(), "may not be specified when 'hostNetwork' is true"));
                } else if b(spec.host_ipc) && ns == "ipc" {
                    e.push(invalid(&np, s.name.as_str(), "may not be specified when 'hostIPC' is true"));
                }
            }
            names.insert(&s.name);
        }
    }
    if let Some(p) = &sc.fs_group_change_policy
        && p != "OnRootMismatch"
        && p != "Always"
    {
        e.push(not_supported(&sc_path.child("fsGroupChangePolicy"), p.as_str(), &["Always", "OnRootMismatch"]));
    }
    e.extend(validate_seccomp_profile(sc.seccomp_profile.as_ref(), &sc_path.child("seccompProfile")));
    e.extend(validate_windows_options(sc.windows_options.as_ref(), &sc_path.child("windowsOptions")));
    e.extend(validate_app_armor_profile(sc.app_armor_profile.as_ref(), &sc_path.child("appArmorProfile")));
    e
}

fn validate_dns_config(cfg: Option<&api::PodDNSConfig>, policy: &str, path: &Path) -> Errs {
    let mut e = Vec::new();
    if policy == "None" {
        match cfg {
            None => return vec![required(path, "must provide `dnsConfig` when `dnsPolicy` is None")],
            Some(c) if sl(&c.nameservers).is_empty() => {
                return vec![required(&path.child("nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None")];
            }
            _ => {}
        }
    }
    let Some(cfg) = cfg else { return e };
    let ns = sl(&cfg.nameservers);
    if ns.len() > 3 {
        e.push(invalid(&path.child("nameservers"), str_list(ns), "must not have more than 3 nameservers"));
    }
    for (i, n) in ns.iter().enumerate() {
        e.extend(valid_ip(n, &path.child("nameservers").index(i)));
    }
    let searches = sl(&cfg.searches);
    if searches.len() > 32 {
        e.push(invalid(&path.child("searches"), str_list(searches), "must not have more than 32 search paths"));
    }
    if searches.join(" ").len() > 2048 {
        e.push(invalid(&path.child("searches"), str_list(searches), "must not have more than 2048 characters (including spaces) in the search list"));
    }
    for (i, s) in searches.iter().enumerate() {
        let s = s.strip_suffix('.').unwrap_or(s);
        e.extend(dns1123_subdomain(s, &path.child("searches").index(i)));
    }
    for (i, o) in sl(&cfg.options).iter().enumerate() {
        if ostr(&o.name).is_empty() {
            e.push(required(&path.child("options").index(i), "must not be empty"));
        }
    }
    e
}

fn visit_containers(spec: &api::PodSpec, path: &Path) -> Vec<(api::Container, Path)> {
    let mut out = Vec::new();
    for (i, c) in sl(&spec.init_containers).iter().enumerate() {
        out.push((c.clone(), path.child("initContainers").index(i)));
    }
    for (i, c) in spec.containers.iter().enumerate() {
        out.push((c.clone(), path.child("containers").index(i)));
    }
    for (i, c) in sl(&spec.ephemeral_containers).iter().enumerate() {
        out.push((ephemeral_as_container(c), path.child("ephemeralContainers").index(i)));
    }
    out
}

fn validate_windows_host_process(spec: &api::PodSpec, path: &Path) -> Errs {
    let mut e = Vec::new();
    let pod_hp = spec.security_context.as_ref().and_then(|s| s.windows_options.as_ref()).and_then(|w| w.host_process);
    let host_network = b(spec.host_network);
    let mut count = 0;
    let mut hp_count = 0;
    for (c, cp) in visit_containers(spec, path) {
        count += 1;
        let c_hp = c.security_context.as_ref().and_then(|s| s.windows_options.as_ref()).and_then(|w| w.host_process);
        if let (Some(ph), Some(ch)) = (pod_hp, c_hp)
            && ph != ch
        {
            e.push(invalid(
                &cp.child("securityContext").child("windowsOptions").child("hostProcess"),
                ch,
                format!("pod hostProcess value must be identical if both are specified, was {ph}"),
            ));
        }
        if c_hp == Some(true) || (c_hp.is_none() && pod_hp == Some(true)) {
            hp_count += 1;
        }
    }
    if hp_count > 0 {
        if hp_count != count {
            e.push(invalid(path, "", "If pod contains any hostProcess containers then all containers must be HostProcess containers"));
        }
        if !host_network {
            e.push(invalid(&path.child("hostNetwork"), host_network, "hostNetwork must be true if pod contains any hostProcess containers"));
        }
    }
    e
}

fn validate_os(spec: &api::PodSpec, path: &Path) -> Errs {
    let Some(os) = &spec.os else { return Vec::new() };
    let op = path.child("os");
    if os.name.is_empty() {
        return vec![required(&op.child("name"), "cannot be empty")];
    }
    if os.name != "linux" && os.name != "windows" {
        return vec![not_supported(&op, os.name.as_str(), &["linux", "windows"])];
    }
    let mut e = Vec::new();
    let sc = spec.security_context.as_ref();
    let wmsg = "cannot be set for a windows pod";
    if os.name == "linux" {
        if sc.is_some_and(|s| s.windows_options.is_some()) {
            e.push(forbidden(&path.child("securityContext").child("windowsOptions"), "windows options cannot be set for a linux pod"));
        }
        for (c, cp) in visit_containers(spec, path) {
            if c.security_context.as_ref().is_some_and(|s| s.windows_options.is_some()) {
                e.push(forbidden(&cp.child("securityContext").child("windowsOptions"), "windows options cannot be set for a linux pod"));
            }
        }
    } else {
        let scp = path.child("securityContext");
        let sc_default = api::PodSecurityContext::default();
        {
            let sc = sc.unwrap_or(&sc_default);
            let checks: [(&Path, &str, bool); 4] = [
                (&scp, "appArmorProfile", sc.app_armor_profile.is_some()),
                (&scp, "seLinuxOptions", sc.se_linux_options.is_some()),
                (path, "hostUsers", spec.host_users.is_some()),
                (path, "hostPID", b(spec.host_pid)),
            ];
            for (base, name, set) in checks {
                if set {
                    e.push(forbidden(&base.child(name), wmsg));
                }
            }
            if b(spec.host_ipc) {
                e.push(forbidden(&path.child("hostIPC"), wmsg));
            }
            let more: [(&str, bool); 4] = [
                ("seccompProfile", sc.seccomp_profile.is_some()),
                ("fsGroup", sc.fs_group.is_some()),
                ("fsGroupChangePolicy", sc.fs_group_change_policy.is_some()),
                ("sysctls", !sl(&sc.sysctls).is_empty()),
            ];
            for (name, set) in more {
                if set {
                    e.push(forbidden(&scp.child(name), wmsg));
                }
            }
            if spec.share_process_namespace.is_some() {
                e.push(forbidden(&path.child("shareProcessNamespace"), wmsg));
            }
            let rest: [(&str, bool); 3] = [
                ("runAsUser", sc.run_as_user.is_some()),
                ("runAsGroup", sc.run_as_group.is_some()),
                ("supplementalGroups", sc.supplemental_groups.is_some()),
            ];
            for (name, set) in rest {
                if set {
                    e.push(forbidden(&scp.child(name), wmsg));
                }
            }
        }
        for (c, cp) in visit_containers(spec, path) {
            let Some(sc) = &c.security_context else { continue };
            let sp = cp.child("securityContext");
            let checks: [(&str, bool); 10] = [
                ("appArmorProfile", sc.app_armor_profile.is_some()),
                ("seLinuxOptions", sc.se_linux_options.is_some()),
                ("seccompProfile", sc.seccomp_profile.is_some()),
                ("capabilities", sc.capabilities.is_some()),
                ("readOnlyRootFilesystem", sc.read_only_root_filesystem.is_some()),
                ("privileged", sc.privileged.is_some()),
                ("allowPrivilegeEscalation", sc.allow_privilege_escalation.is_some()),
                ("procMount", sc.proc_mount.is_some()),
                ("runAsUser", sc.run_as_user.is_some()),
                ("runAsGroup", sc.run_as_group.is_some()),
            ];
            for (name, set) in checks {
                if set {
                    e.push(forbidden(&sp.child(name), wmsg));
                }
            }
        }
    }
    e
}

fn validate_pod_resource_claims(claims: &[api::PodResourceClaim], path: &Path) -> Errs {
    let mut e = Vec::new();
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for (i, c) in claims.iter().enumerate() {
        let ip = path.index(i);
        if c.name.is_empty() {
            e.push(required(&ip.child("name"), ""));
        } else if names.contains(c.name.as_str()) {
            e.push(duplicate(&ip.child("name"), c.name.as_str()));
        } else {
            e.extend(dns1123_label(&c.name, &ip.child("name")));
            names.insert(&c.name);
        }
        match (&c.resource_claim_name, &c.resource_claim_template_name) {
            (Some(_), Some(_)) => e.push(invalid(&ip, json(c), "at most one of `resourceClaimName` or `resourceClaimTemplateName` may be specified")),
            (None, None) => e.push(invalid(&ip, json(c), "must specify one of: `resourceClaimName`, `resourceClaimTemplateName`")),
            _ => {}
        }
        if let Some(n) = &c.resource_claim_name {
            e.extend(name_errs(v::name_is_dns_subdomain(n, false), n, &ip.child("resourceClaimName")));
        }
        if let Some(n) = &c.resource_claim_template_name {
            e.extend(name_errs(v::name_is_dns_subdomain(n, false), n, &ip.child("resourceClaimTemplateName")));
        }
    }
    e
}

/// Upstream's `ValidatePodSpec`. `pod_name` is the pod's name when validating a real pod
/// (generic ephemeral volume checks need it).
pub(crate) fn validate_pod_spec(spec: &api::PodSpec, pod_name: Option<&str>, path: &Path, opts: &PodOpts) -> Errs {
    let mut e = Vec::new();
    let grace = Some(spec.termination_grace_period_seconds.unwrap_or(30));
    let host_users = spec.host_users.unwrap_or(true);
    let restart = spec.restart_policy.as_deref().filter(|s| !s.is_empty()).unwrap_or("Always");

    let (vols, verrs) = validate_volumes(sl(&spec.volumes), pod_name, &path.child("volumes"), opts.resource_is_pod);
    e.extend(verrs);
    let pod_claims: BTreeSet<String> =
        sl(&spec.resource_claims).iter().filter(|c| !c.name.is_empty()).map(|c| c.name.clone()).collect();
    e.extend(validate_pod_resource_claims(sl(&spec.resource_claims), &path.child("resourceClaims")));
    e.extend(validate_containers(&spec.containers, &vols, &pod_claims, grace, &path.child("containers"), opts, restart, host_users));
    e.extend(validate_init_containers(
        sl(&spec.init_containers),
        &spec.containers,
        &vols,
        &pod_claims,
        grace,
        &path.child("initContainers"),
        opts,
        restart,
        host_users,
    ));
    e.extend(validate_ephemeral_containers(
        sl(&spec.ephemeral_containers),
        &spec.containers,
        sl(&spec.init_containers),
        &vols,
        &pod_claims,
        &path.child("ephemeralContainers"),
        opts,
        restart,
        host_users,
    ));
    // hostNetwork: host ports must match container ports
    if b(spec.host_network) {
        let cp = path.child("containers");
        for (i, c) in spec.containers.iter().enumerate() {
            for (j, port) in sl(&c.ports).iter().enumerate() {
                let hp = match port.host_port {
                    Some(h) if h != 0 => h,
                    _ if opts.resource_is_pod => port.container_port,
                    _ => 0,
                };
                if (opts.resource_is_pod || hp != 0) && hp != port.container_port {
                    e.push(invalid(&cp.index(i).child("ports").index(j).child("hostPort"), hp, "must match `containerPort` when `hostNetwork` is true"));
                }
            }
        }
    }
    match restart {
        "Always" | "OnFailure" | "Never" => {}
        other => e.push(not_supported(&path.child("restartPolicy"), other, &["Always", "OnFailure", "Never"])),
    }
    let dns_policy = spec.dns_policy.as_deref().filter(|s| !s.is_empty()).unwrap_or("ClusterFirst");
    match dns_policy {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => {}
        other => e.push(not_supported(&path.child("dnsPolicy"), other, &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"])),
    }
    e.extend(labels(spec.node_selector.as_ref(), &path.child("nodeSelector")));
    e.extend(validate_pod_security_context(spec, &path.child("securityContext"), opts));
    e.extend(validate_affinity(spec.affinity.as_ref(), opts, &path.child("affinity")));
    e.extend(validate_dns_config(spec.dns_config.as_ref(), dns_policy, &path.child("dnsConfig")));
    for (i, g) in sl(&spec.readiness_gates).iter().enumerate() {
        e.extend(qualified_name(&g.condition_type, &path.child("readinessGates").index(i).child("conditionType")));
    }
    let mut gates_seen: BTreeSet<&str> = BTreeSet::new();
    for (i, g) in sl(&spec.scheduling_gates).iter().enumerate() {
        let gp = path.child("schedulingGates").index(i);
        e.extend(qualified_name(&g.name, &gp));
        if !gates_seen.insert(&g.name) {
            e.push(duplicate(&gp, g.name.as_str()));
        }
    }
    e.extend(validate_topology_spread(sl(&spec.topology_spread_constraints), &path.child("topologySpreadConstraints"), opts));
    e.extend(validate_windows_host_process(spec, path));
    if spec.host_users == Some(false) {
        if b(spec.host_network) {
            e.push(forbidden(&path.child("hostNetwork"), "when `pod.Spec.HostUsers` is false"));
        }
        if b(spec.host_pid) {
            e.push(forbidden(&path.child("HostPID"), "when `pod.Spec.HostUsers` is false"));
        }
        if b(spec.host_ipc) {
            e.push(forbidden(&path.child("HostIPC"), "when `pod.Spec.HostUsers` is false"));
        }
    }
    let sa = ostr(&spec.service_account_name);
    if !sa.is_empty() {
        e.extend(name_errs(v::name_is_dns_subdomain(sa, false), sa, &path.child("serviceAccountName")));
    }
    let node = ostr(&spec.node_name);
    if !node.is_empty() {
        e.extend(name_errs(v::name_is_dns_subdomain(node, false), node, &path.child("nodeName")));
    }
    if let Some(ads) = spec.active_deadline_seconds
        && !(1..=MAX_INT32).contains(&ads)
    {
        e.push(invalid(&path.child("activeDeadlineSeconds"), ads, v::inclusive_range_error(1, MAX_INT32)));
    }
    let hostname = ostr(&spec.hostname);
    if !hostname.is_empty() {
        e.extend(dns1123_label(hostname, &path.child("hostname")));
    }
    let subdomain = ostr(&spec.subdomain);
    if !subdomain.is_empty() {
        e.extend(dns1123_label(subdomain, &path.child("subdomain")));
    }
    e.extend(validate_tolerations(sl(&spec.tolerations), &path.child("tolerations")));
    for (i, ha) in sl(&spec.host_aliases).iter().enumerate() {
        let hp = path.child("hostAliases").index(i);
        e.extend(valid_ip(&ha.ip, &hp.child("ip")));
        for (j, h) in sl(&ha.hostnames).iter().enumerate() {
            e.extend(dns1123_subdomain(h, &hp.child("hostnames").index(j)));
        }
    }
    let pcn = ostr(&spec.priority_class_name);
    if !pcn.is_empty() {
        e.extend(name_errs(v::name_is_dns_subdomain(pcn, false), pcn, &path.child("priorityClassName")));
    }
    if let Some(rc) = &spec.runtime_class_name {
        e.extend(name_errs(v::name_is_dns_subdomain(rc, false), rc, &path.child("runtimeClassName")));
    }
    if let Some(pp) = &spec.preemption_policy {
        match pp.as_str() {
            "PreemptLowerPriority" | "Never" => {}
            "" => e.push(required(&path.child("preemptionPolicy"), "")),
            other => e.push(not_supported(&path.child("preemptionPolicy"), other, &["PreemptLowerPriority", "Never"])),
        }
    }
    if let Some(oh) = &spec.overhead {
        let rr = api::ResourceRequirements { limits: Some(oh.clone()), ..Default::default() };
        e.extend(validate_resource_requirements(&rr, &BTreeSet::new(), &path.child("overhead"), opts));
    }
    e.extend(validate_os(spec, path));
    e
}

// ---------------------------------------------------------------------------------------------
// pod annotations that carry pod semantics
// ---------------------------------------------------------------------------------------------

const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";
const DELETION_COST: &str = "controller.kubernetes.io/pod-deletion-cost";
const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";
const APPARMOR_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

fn seccomp_annotation_value(value: &str, path: &Path) -> Errs {
    if value == "runtime/default" || value == "docker/default" || value == "unconfined" {
        return Vec::new();
    }
    if let Some(rest) = value.strip_prefix("localhost/") {
        return local_descending_path(rest, path);
    }
    vec![invalid(path, value, "must be a valid seccomp profile")]
}

/// Upstream's `ValidatePodSpecificAnnotations` (mirror pods, deletion cost, seccomp and
/// AppArmor annotations; the tolerations annotation is not checked).
fn pod_specific_annotations(ann: Option<&BTreeMap<String, String>>, spec: &api::PodSpec, path: &Path, opts: &PodOpts) -> Errs {
    let Some(ann) = ann else { return Vec::new() };
    let mut e = Vec::new();
    if let Some(vv) = ann.get(MIRROR_POD_ANNOTATION)
        && ostr(&spec.node_name).is_empty()
    {
        e.push(invalid(&path.key(MIRROR_POD_ANNOTATION), vv.as_str(), "must set spec.nodeName if mirror pod annotation is set"));
    }
    if !opts.allow_invalid_deletion_cost
        && let Some(c) = ann.get(DELETION_COST)
        && c.parse::<i32>().is_err()
    {
        e.push(invalid(&path.key(DELETION_COST), c.as_str(), "must be a 32bit integer"));
    }
    if let Some(vv) = ann.get(SECCOMP_POD_ANNOTATION) {
        e.extend(seccomp_annotation_value(vv, &path.child(SECCOMP_POD_ANNOTATION)));
    }
    for (k, vv) in ann {
        if k.starts_with(SECCOMP_CONTAINER_PREFIX) {
            e.extend(seccomp_annotation_value(vv, &path.child(k)));
        }
    }
    let names: BTreeSet<String> = visit_containers(spec, &p("spec")).into_iter().map(|(c, _)| c.name).collect();
    for (k, vv) in ann {
        let Some(cname) = k.strip_prefix(APPARMOR_PREFIX) else { continue };
        if !names.contains(cname) {
            e.push(invalid(&path.key(k), cname, "container not found"));
        }
        if !(vv.is_empty() || vv == "runtime/default" || vv == "unconfined" || vv.starts_with("localhost/")) {
            e.push(invalid(&path.key(k), vv.as_str(), format!("invalid AppArmor profile name: {vv:?}")));
        }
    }
    e
}

fn seccomp_field_matches(annotation: &str, field: &api::SeccompProfile, path: &Path) -> Option<apimachinery::field::FieldError> {
    match field.type_.as_str() {
        "Unconfined" if annotation != "unconfined" => Some(forbidden(&path.child("type"), "seccomp type in annotation and field must match")),
        "RuntimeDefault" if annotation != "runtime/default" && annotation != "docker/default" => {
            Some(forbidden(&path.child("type"), "seccomp type in annotation and field must match"))
        }
        "Localhost" => match annotation.strip_prefix("localhost/") {
            None => Some(forbidden(&path.child("type"), "seccomp type in annotation and field must match")),
            Some(rest) if field.localhost_profile.as_deref() != Some(rest) => {
                Some(forbidden(&path.child("localhostProfile"), "seccomp profile in annotation and field must match"))
            }
            _ => None,
        },
        _ => None,
    }
}

/// Upstream's `validateSeccompAnnotationsAndFields` and
/// `validateAppArmorAnnotationsAndFieldsMatchOnCreate`.
fn annotations_match_fields(meta: Option<&ObjectMeta>, spec: &api::PodSpec, spec_path: &Path) -> Errs {
    let empty = BTreeMap::new();
    let ann = meta.and_then(|m| m.annotations.as_ref()).unwrap_or(&empty);
    let mut e = Vec::new();
    if let Some(sp) = spec.security_context.as_ref().and_then(|s| s.seccomp_profile.as_ref())
        && let Some(a) = ann.get(SECCOMP_POD_ANNOTATION)
    {
        e.extend(seccomp_field_matches(a, sp, &spec_path.child("securityContext").child("seccompProfile")));
    }
    for (c, cp) in visit_containers(spec, spec_path) {
        if let Some(sp) = c.security_context.as_ref().and_then(|s| s.seccomp_profile.as_ref())
            && let Some(a) = ann.get(&format!("{SECCOMP_CONTAINER_PREFIX}{}", c.name))
        {
            e.extend(seccomp_field_matches(a, sp, &cp.child("securityContext").child("seccompProfile")));
        }
    }
    if spec.os.as_ref().is_some_and(|o| o.name == "windows") {
        return e;
    }
    let pod_profile = spec.security_context.as_ref().and_then(|s| s.app_armor_profile.as_ref());
    for (c, cp) in visit_containers(spec, spec_path) {
        let profile = c.security_context.as_ref().and_then(|s| s.app_armor_profile.as_ref()).or(pod_profile);
        let Some(profile) = profile else { continue };
        let Some(a) = ann.get(&format!("{APPARMOR_PREFIX}{}", c.name)) else { continue };
        let ap = cp.child("securityContext").child("appArmorProfile");
        let mismatch = || forbidden(&ap.child("type"), "apparmor type in annotation and field must match");
        match profile.type_.as_str() {
            "Unconfined" if a != "unconfined" => e.push(mismatch()),
            "RuntimeDefault" if a != "runtime/default" => e.push(mismatch()),
            "Localhost" => match a.strip_prefix("localhost/") {
                None => e.push(mismatch()),
                Some(rest) if profile.localhost_profile.as_deref() != Some(rest) => {
                    e.push(forbidden(&ap.child("localhostProfile"), "apparmor profile in annotation and field must match"));
                }
                _ => {}
            },
            _ => {}
        }
    }
    e
}

// ---------------------------------------------------------------------------------------------
// Pod
// ---------------------------------------------------------------------------------------------

fn pod_metadata_and_spec(pod: &api::Pod, opts: &PodOpts) -> Errs {
    let spec_path = p("spec");
    let spec = pod.spec.clone().unwrap_or_default();
    let mut e = pod_specific_annotations(pod.metadata.annotations.as_ref(), &spec, &p("metadata").child("annotations"), opts);
    e.extend(validate_pod_spec(&spec, pod.metadata.name.as_deref(), &spec_path, opts));
    if ostr(&spec.service_account_name).is_empty() {
        for (vi, vol) in sl(&spec.volumes).iter().enumerate() {
            let Some(pr) = &vol.projected else { continue };
            for (si, src) in sl(&pr.sources).iter().enumerate() {
                if src.service_account_token.is_some() {
                    e.push(forbidden(
                        &spec_path.child("volumes").index(vi).child("projected").child("sources").index(si).child("serviceAccountToken"),
                        "must not be specified when serviceAccountName is not set",
                    ));
                }
            }
        }
    }
    for (i, c) in spec.containers.iter().enumerate() {
        e.extend(image_whitespace(c, &spec_path.child("containers").index(i)));
    }
    for (i, c) in sl(&spec.init_containers).iter().enumerate() {
        e.extend(image_whitespace(c, &spec_path.child("initContainers").index(i)));
    }
    e
}

/// Validates a Pod on create (upstream's `ValidatePodCreate` without object metadata): the
/// whole pod spec, pod-specific annotations (mirror, deletion cost, seccomp, AppArmor), no
/// ephemeral containers, no nodeName while scheduling gates remain.
pub fn pod(pod: &api::Pod) -> ErrorList {
    done(pod_create_errs(pod, &PodOpts::for_pod()))
}

fn pod_create_errs(pod: &api::Pod, opts: &PodOpts) -> Errs {
    let mut e = pod_metadata_and_spec(pod, opts);
    let spec = pod.spec.clone().unwrap_or_default();
    let sp = p("spec");
    if !sl(&spec.ephemeral_containers).is_empty() {
        e.push(forbidden(&sp.child("ephemeralContainers"), "cannot be set on create"));
    }
    if !ostr(&spec.node_name).is_empty() && !sl(&spec.scheduling_gates).is_empty() {
        e.push(forbidden(&sp.child("nodeName"), "cannot be set until all schedulingGates have been cleared"));
    }
    e.extend(annotations_match_fields(Some(&pod.metadata), &spec, &sp));
    e
}

/// The fields a pod update may change, as upstream lists them in its error.
const UPDATABLE_POD_SPEC_FIELDS: &str = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

fn container_updates(new: &[api::Container], old: &[api::Container], path: &Path) -> (Errs, bool) {
    if new.len() != old.len() {
        return (vec![forbidden(path, "pod updates may not add or remove containers")], true);
    }
    let mut e = Vec::new();
    for (i, c) in new.iter().enumerate() {
        let image = ostr(&c.image);
        if image.is_empty() {
            e.push(required(&path.index(i).child("image"), ""));
        }
        if image.trim().len() != image.len() {
            e.push(invalid(&path.index(i).child("image"), image, "must not have leading or trailing whitespace"));
        }
    }
    (e, false)
}

fn tolerations_only_added(new: &[api::Toleration], old: &[api::Toleration], path: &Path) -> Errs {
    for o in old {
        let found = new.iter().any(|n| {
            let mut oc = o.clone();
            oc.toleration_seconds = n.toleration_seconds;
            sem_eq(&oc, n)
        });
        if !found {
            return vec![forbidden(path, "existing toleration can not be modified except its tolerationSeconds")];
        }
    }
    validate_tolerations(new, path)
}

/// Validates a Pod update: the create-time spec rules on the new pod, then upstream's
/// `ValidatePodUpdate` immutability: only container/init-container images,
/// activeDeadlineSeconds (nil→positive, or decreasing), tolerations (additions, or
/// tolerationSeconds changes), removal of scheduling gates, terminationGracePeriodSeconds
/// (negative→1), and for gated pods additions to nodeSelector/required node affinity may
/// change. Anything else gets `Forbidden: pod updates may not change fields other than ...`
/// with a simplified diff (upstream prints a `cmp.Diff` of its internal structs).
pub fn pod_update(new: &api::Pod, old: &api::Pod) -> ErrorList {
    let opts = PodOpts::for_pod().ratchet_from(old.spec.as_ref(), old.metadata.annotations.as_ref());
    let mut e = pod_metadata_and_spec(new, &opts);
    e.extend(pod_annotation_updates(new, old, &opts));
    let sp = p("spec");
    let ns = new.spec.clone().unwrap_or_default();
    let os = old.spec.clone().unwrap_or_default();
    let (ce, stop) = container_updates(&ns.containers, &os.containers, &sp.child("containers"));
    e.extend(ce);
    if stop {
        return done(e);
    }
    let (ce, stop) = container_updates(sl(&ns.init_containers), sl(&os.init_containers), &sp.child("initContainers"));
    e.extend(ce);
    if stop {
        return done(e);
    }
    let adp = sp.child("activeDeadlineSeconds");
    match (ns.active_deadline_seconds, os.active_deadline_seconds) {
        (Some(n), old_ads) => {
            if !(0..=MAX_INT32).contains(&n) {
                e.push(invalid(&adp, n, v::inclusive_range_error(0, MAX_INT32)));
                return done(e);
            }
            if let Some(o) = old_ads
                && o < n
            {
                e.push(invalid(&adp, n, "must be less than or equal to previous value"));
                return done(e);
            }
        }
        (None, Some(_)) => e.push(invalid(&adp, serde_json::Value::Null, "must not update from a positive integer to nil value")),
        (None, None) => {}
    }
    e.extend(tolerations_only_added(sl(&ns.tolerations), sl(&os.tolerations), &sp.child("tolerations")));
    // scheduling gates may only be removed
    if !sl(&ns.scheduling_gates).is_empty() {
        let old_gates: BTreeSet<&str> = sl(&os.scheduling_gates).iter().map(|g| g.name.as_str()).collect();
        let mut added: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, g) in sl(&ns.scheduling_gates).iter().enumerate() {
            added.insert(&g.name, i);
        }
        for (gate, i) in added {
            if !old_gates.contains(gate) {
                e.push(forbidden(
                    &sp.child("schedulingGates").index(i).child("name"),
                    format!("only deletion is allowed, but found new scheduling gate '{gate}'"),
                ));
            }
        }
    }
    if sem_eq(&ns, &os) {
        return done(e);
    }
    let mut munged = ns.clone();
    for (c, oc) in munged.containers.iter_mut().zip(&os.containers) {
        c.image = oc.image.clone();
    }
    if let (Some(ic), Some(oic)) = (munged.init_containers.as_mut(), os.init_containers.as_ref()) {
        for (c, oc) in ic.iter_mut().zip(oic) {
            c.image = oc.image.clone();
        }
    }
    munged.active_deadline_seconds = os.active_deadline_seconds;
    munged.scheduling_gates = os.scheduling_gates.clone();
    munged.tolerations = os.tolerations.clone();
    if os.termination_grace_period_seconds.is_some_and(|g| g < 0) && munged.termination_grace_period_seconds == Some(1) {
        munged.termination_grace_period_seconds = os.termination_grace_period_seconds;
    }
    if !sl(&os.scheduling_gates).is_empty() {
        if !sem_eq(&munged.node_selector, &os.node_selector) {
            let old_ns = os.node_selector.clone().unwrap_or_default();
            let new_ns = munged.node_selector.clone().unwrap_or_default();
            if old_ns.iter().any(|(k, val)| new_ns.get(k) != Some(val)) {
                e.push(invalid(&sp.child("nodeSelector"), json(&new_ns), "only additions to spec.nodeSelector are allowed (no mutations or deletions)"));
            }
            munged.node_selector = os.node_selector.clone();
        }
        let old_na = os.affinity.as_ref().and_then(|a| a.node_affinity.clone());
        let new_na = munged.affinity.as_ref().and_then(|a| a.node_affinity.clone());
        if !sem_eq(&old_na, &new_na) {
            e.extend(node_affinity_mutation(&sp.child("affinity").child("nodeAffinity"), new_na.as_ref(), old_na.as_ref()));
            match (&mut munged.affinity, &old_na) {
                (None, None) => {}
                (None, Some(o)) => munged.affinity = Some(api::Affinity { node_affinity: Some(o.clone()), ..Default::default() }),
                (Some(a), _) if os.affinity.is_none() && a.pod_affinity.is_none() && a.pod_anti_affinity.is_none() => munged.affinity = None,
                (Some(a), o) => a.node_affinity = o.clone(),
            }
        }
    }
    if !sem_eq(&munged, &os) {
        let diff = simple_diff(&sem_json(&os), &sem_json(&munged));
        e.push(forbidden(&sp, format!("pod updates may not change fields other than {UPDATABLE_POD_SPEC_FIELDS}\n{diff}")));
    }
    done(e)
}

fn node_affinity_mutation(path: &Path, new: Option<&api::NodeAffinity>, old: Option<&api::NodeAffinity>) -> Errs {
    let Some(old_req) = old.and_then(|o| o.required_during_scheduling_ignored_during_execution.as_ref()) else {
        return Vec::new();
    };
    let old_terms = &old_req.node_selector_terms;
    let new_terms: Vec<api::NodeSelectorTerm> = new
        .and_then(|n| n.required_during_scheduling_ignored_during_execution.as_ref())
        .map(|r| r.node_selector_terms.clone())
        .unwrap_or_default();
    let tp = path.child("requiredDuringSchedulingIgnoredDuringExecution").child("nodeSelectorTerms");
    if !old_terms.is_empty() && old_terms.len() != new_terms.len() {
        return vec![invalid(&tp, json(&new_terms), "no additions/deletions to non-empty NodeSelectorTerms list are allowed")];
    }
    let mut e = Vec::new();
    for (i, (ot, nt)) in old_terms.iter().zip(&new_terms).enumerate() {
        let only_additions = |o: &[api::NodeSelectorRequirement], n: &[api::NodeSelectorRequirement]| {
            o.is_empty() || (n.len() >= o.len() && sem_eq(&n[..o.len()].to_vec(), &o.to_vec()))
        };
        let (om, of) = (sl(&ot.match_expressions), sl(&ot.match_fields));
        let (nm, nf) = (sl(&nt.match_expressions), sl(&nt.match_fields));
        #[allow(clippy::nonminimal_bool)]
        let ok = !(om.is_empty() && of.is_empty() && (!nm.is_empty() || !nf.is_empty())) && only_additions(om, nm) && only_additions(of, nf);
        if !ok {
            e.push(invalid(&tp.index(i), json(nt), "only additions are allowed (no mutations or deletions)"));
        }
    }
    e
}

fn pod_annotation_updates(new: &api::Pod, old: &api::Pod, opts: &PodOpts) -> Errs {
    let empty = BTreeMap::new();
    let na = new.metadata.annotations.as_ref().unwrap_or(&empty);
    let oa = old.metadata.annotations.as_ref().unwrap_or(&empty);
    let ap = p("metadata").child("annotations");
    let mut e = Vec::new();
    for (k, ov) in oa {
        if na.get(k) == Some(ov) {
            continue;
        }
        if k.starts_with(APPARMOR_PREFIX) {
            e.push(forbidden(&ap.key(k), "may not remove or update AppArmor annotations"));
        }
        if k == MIRROR_POD_ANNOTATION {
            e.push(forbidden(&ap.key(k), "may not remove or update mirror pod annotation"));
        }
    }
    for k in na.keys() {
        if oa.contains_key(k) {
            continue;
        }
        if k.starts_with(APPARMOR_PREFIX) {
            e.push(forbidden(&ap.key(k), "may not add AppArmor annotations"));
        }
        if k == MIRROR_POD_ANNOTATION {
            e.push(forbidden(&ap.key(k), "may not add mirror pod annotation"));
        }
    }
    let spec = new.spec.clone().unwrap_or_default();
    e.extend(pod_specific_annotations(new.metadata.annotations.as_ref(), &spec, &ap, opts));
    e
}

/// Validates a pod status update (upstream's `ValidatePodStatusUpdate`, partly): nodeName may
/// not change, nominatedNodeName must be a valid node name, qosClass is immutable, custom
/// condition types are qualified names, terminated containers of non-restarting pods stay
/// terminated, podIPs/hostIPs are valid and at most one per family.
pub fn pod_status_update(new: &api::Pod, old: &api::Pod) -> ErrorList {
    let opts = PodOpts::for_pod().ratchet_from(old.spec.as_ref(), old.metadata.annotations.as_ref());
    let mut e = pod_annotation_updates(new, old, &opts);
    let ns = new.spec.clone().unwrap_or_default();
    let os = old.spec.clone().unwrap_or_default();
    let nst = new.status.clone().unwrap_or_default();
    let ost = old.status.clone().unwrap_or_default();
    for (i, c) in sl(&nst.conditions).iter().enumerate() {
        if ["PodScheduled", "Ready", "Initialized"].contains(&c.type_.as_str()) {
            continue;
        }
        e.extend(qualified_name(&c.type_, &p("metadata").child("conditions").index(i).child("Type")));
    }
    let st = p("status");
    if ns.node_name != os.node_name {
        e.push(forbidden(&st.child("nodeName"), "may not be changed directly"));
    }
    let nnn = ostr(&nst.nominated_node_name);
    if nst.nominated_node_name != ost.nominated_node_name && !nnn.is_empty() {
        e.extend(name_errs(v::name_is_dns_subdomain(nnn, false), nnn, &st.child("nominatedNodeName")));
    }
    e.extend(immutable(&ostr(&nst.qos_class).to_string(), &ostr(&ost.qos_class).to_string(), &st.child("qosClass")));
    let restart = os.restart_policy.as_deref().unwrap_or("Always");
    e.extend(state_transitions(sl(&nst.container_statuses), sl(&ost.container_statuses), &st.child("containerStatuses"), restart, &[]));
    let restartable: Vec<&str> =
        sl(&os.init_containers).iter().filter(|c| c.restart_policy.as_deref() == Some("Always")).map(|c| c.name.as_str()).collect();
    e.extend(state_transitions(sl(&nst.init_container_statuses), sl(&ost.init_container_statuses), &st.child("initContainerStatuses"), restart, &restartable));
    e.extend(state_transitions(sl(&nst.ephemeral_container_statuses), sl(&ost.ephemeral_container_statuses), &st.child("ephemeralContainerStatuses"), "Never", &[]));
    let pod_ips: Vec<String> = sl(&nst.pod_ips).iter().map(|i| i.ip.clone()).collect();
    e.extend(ip_list(&pod_ips, &st.child("podIPs"), json(&nst.pod_ips), false));
    let host_ips: Vec<String> = sl(&nst.host_ips).iter().map(|i| i.ip.clone()).collect();
    if !host_ips.is_empty() {
        if ostr(&nst.host_ip) != host_ips[0] {
            e.push(invalid(&st.child("hostIPs").index(0).child("ip"), host_ips[0].as_str(), "must be equal to `hostIP`"));
        }
        e.extend(ip_list(&host_ips, &st.child("hostIPs"), json(&nst.host_ips), true));
    }
    done(e)
}

fn ip_list(ips: &[String], path: &Path, whole: serde_json::Value, dup_first: bool) -> Errs {
    let mut e = Vec::new();
    for (i, ip) in ips.iter().enumerate() {
        e.extend(valid_ip(ip, &path.index(i)));
    }
    if ips.len() > 1 {
        let mut seen = BTreeSet::new();
        let mut dups = Vec::new();
        for (i, ip) in ips.iter().enumerate() {
            if !seen.insert(ip) {
                dups.push(duplicate(&path.index(i), serde_json::json!({ "ip": ip })));
            }
        }
        let bad_family = !is_dual_stack(ips) || ips.len() > 2;
        if dup_first {
            e.extend(dups);
            if bad_family {
                e.push(invalid(path, whole, "may specify no more than one IP for each IP family"));
            }
        } else {
            if bad_family {
                e.push(invalid(path, whole, "may specify no more than one IP for each IP family"));
            }
            e.extend(dups);
        }
    }
    e
}

fn state_transitions(new: &[api::ContainerStatus], old: &[api::ContainerStatus], path: &Path, restart: &str, restartable: &[&str]) -> Errs {
    let mut e = Vec::new();
    if restart == "Always" {
        return e;
    }
    for (i, os) in old.iter().enumerate() {
        let Some(term) = os.state.as_ref().and_then(|s| s.terminated.as_ref()) else { continue };
        if term.exit_code != 0 && restart == "OnFailure" {
            continue;
        }
        if restartable.contains(&os.name.as_str()) {
            continue;
        }
        for ns in new {
            if ns.name == os.name && ns.state.as_ref().and_then(|s| s.terminated.as_ref()).is_none() {
                e.push(forbidden(&path.index(i).child("state"), "may not be transitioned to non-terminated state"));
            }
        }
    }
    e
}

/// Validates an update through the `ephemeralcontainers` subresource (upstream's
/// `ValidatePodEphemeralContainersUpdate`): the new spec must be valid and existing
/// ephemeral containers may not be removed or changed.
pub fn pod_ephemeral_containers_update(new: &api::Pod, old: &api::Pod) -> ErrorList {
    let opts = PodOpts::for_pod().ratchet_from(old.spec.as_ref(), old.metadata.annotations.as_ref());
    let mut e = pod_metadata_and_spec(new, &opts);
    e.extend(pod_annotation_updates(new, old, &opts));
    if old.metadata.annotations.as_ref().is_some_and(|a| a.contains_key(MIRROR_POD_ANNOTATION)) {
        return done(vec![forbidden(&p(""), "static pods do not support ephemeral containers")]);
    }
    let ns = new.spec.clone().unwrap_or_default();
    let os = old.spec.clone().unwrap_or_default();
    let sp = p("spec").child("ephemeralContainers");
    let index: BTreeMap<&str, &api::EphemeralContainer> = sl(&ns.ephemeral_containers).iter().map(|c| (c.name.as_str(), c)).collect();
    for old_c in sl(&os.ephemeral_containers) {
        match index.get(old_c.name.as_str()) {
            None => e.push(forbidden(&sp, format!("existing ephemeral containers {:?} may not be removed\n", old_c.name))),
            Some(nc) if !sem_eq(*nc, old_c) => {
                let diff = simple_diff(&sem_json(old_c), &sem_json(*nc));
                e.push(forbidden(&sp, format!("existing ephemeral containers {:?} may not be changed\n{diff}", old_c.name)));
            }
            _ => {}
        }
    }
    done(e)
}

// ---------------------------------------------------------------------------------------------
// pod templates
// ---------------------------------------------------------------------------------------------

/// Upstream's `ValidatePodTemplateSpec`: template labels and annotations, pod-specific
/// annotations, the pod spec (not as a pod), annotation/field consistency, no ephemeral
/// containers.
pub(crate) fn validate_pod_template_spec(t: &api::PodTemplateSpec, path: &Path, opts: &PodOpts) -> Errs {
    let meta = t.metadata.as_ref();
    let spec = t.spec.clone().unwrap_or_default();
    let mut e = labels(meta.and_then(|m| m.labels.as_ref()), &path.child("labels"));
    e.extend(annotations(meta.and_then(|m| m.annotations.as_ref()), &path.child("annotations")));
    e.extend(pod_specific_annotations(meta.and_then(|m| m.annotations.as_ref()), &spec, &path.child("annotations"), opts));
    e.extend(validate_pod_spec(&spec, None, &path.child("spec"), opts));
    e.extend(annotations_match_fields(meta, &spec, &path.child("spec")));
    if !sl(&spec.ephemeral_containers).is_empty() {
        e.push(forbidden(&path.child("spec").child("ephemeralContainers"), "ephemeral containers not allowed in pod template"));
    }
    e
}

/// Options for a pod template in a workload, ratcheted from the old template on update.
pub(crate) fn template_opts(old: Option<&api::PodTemplateSpec>) -> PodOpts {
    let opts = PodOpts::default();
    match old {
        Some(t) => opts.ratchet_from(t.spec.as_ref(), t.metadata.as_ref().and_then(|m| m.annotations.as_ref())),
        None => opts,
    }
}

/// Validates a PodTemplate (the embedded template; object metadata is not checked).
pub fn pod_template(pt: &api::PodTemplate) -> ErrorList {
    let t = pt.template.clone().unwrap_or_default();
    done(validate_pod_template_spec(&t, &p("template"), &PodOpts::default()))
}

/// PodTemplate update: the template must be valid (upstream has no immutability here).
pub fn pod_template_update(new: &api::PodTemplate, old: &api::PodTemplate) -> ErrorList {
    let t = new.template.clone().unwrap_or_default();
    done(validate_pod_template_spec(&t, &p("template"), &template_opts(old.template.as_ref())))
}
