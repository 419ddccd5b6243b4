//! Services (core/v1), after upstream's `ValidateService`, `ValidateServiceUpdate` and
//! `ValidateServiceStatusUpdate`.
//!
//! Upstream's service strategy normalizes before validating (`clusterIP` copied into
//! `clusterIPs` on create; on update allocated values are carried over from the old object and
//! type-dependent fields dropped). [`normalize_service_create`] / [`normalize_service_update`]
//! reproduce that and the validators apply them to a copy, so they are safe to call on raw
//! input. Values the registry allocates (node ports, health-check node port, cluster IPs) are
//! not required to be present.

use std::collections::BTreeSet;

use apimachinery::field::{ErrorList, Path};
use k8s_openapi::api::core::v1 as api;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;

use super::common::*;

const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const SERVICE_TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const MAX_CLIENT_IP_AFFINITY_SECONDS: i32 = 86400;

fn spec_of(svc: &api::Service) -> api::ServiceSpec {
    svc.spec.clone().unwrap_or_default()
}

fn svc_type(spec: &api::ServiceSpec) -> &str {
    spec.type_.as_deref().filter(|s| !s.is_empty()).unwrap_or("ClusterIP")
}

fn cluster_ips(spec: &api::ServiceSpec) -> &[String] {
    sl(&spec.cluster_ips)
}

fn is_headless(spec: &api::ServiceSpec) -> bool {
    let ips = cluster_ips(spec);
    ips.len() == 1 && ips[0] == "None"
}

fn needs_node_ports(t: &str) -> bool {
    t == "NodePort" || t == "LoadBalancer"
}

fn externally_accessible(spec: &api::ServiceSpec) -> bool {
    let t = svc_type(spec);
    t == "LoadBalancer" || t == "NodePort" || (t == "ClusterIP" && !sl(&spec.external_ips).is_empty())
}

fn etp(spec: &api::ServiceSpec) -> &str {
    match spec.external_traffic_policy.as_deref().filter(|s| !s.is_empty()) {
        Some(p) => p,
        None if externally_accessible(spec) => "Cluster",
        None => "",
    }
}

fn needs_health_check(spec: &api::ServiceSpec) -> bool {
    svc_type(spec) == "LoadBalancer" && etp(spec) == "Local"
}

/// The create-time normalization of upstream's service strategy: a `clusterIP` without
/// `clusterIPs` seeds `clusterIPs`.
pub fn normalize_service_create(svc: &mut api::Service) {
    if let Some(spec) = svc.spec.as_mut() {
        let ip = ostr(&spec.cluster_ip).to_string();
        if !ip.is_empty() && sl(&spec.cluster_ips).is_empty() {
            spec.cluster_ips = Some(vec![ip]);
        }
    }
}

/// The update-time normalization of upstream's service strategy (`patchAllocatedValues`,
/// `NormalizeClusterIPs`, `dropTypeDependentFields`), in that order.
pub fn normalize_service_update(svc: &mut api::Service, old: &api::Service) {
    let old_spec = spec_of(old);
    let Some(spec) = svc.spec.as_mut() else { return };
    let (ot, nt) = (svc_type(&old_spec).to_string(), svc_type(spec).to_string());
    let needs_ip = |t: &str| t != "ExternalName";
    // patchAllocatedValues
    if needs_ip(&ot) && needs_ip(&nt) {
        if ostr(&spec.cluster_ip).is_empty() {
            spec.cluster_ip = old_spec.cluster_ip.clone();
        }
        if sl(&spec.cluster_ips).is_empty() && !sl(&old_spec.cluster_ips).is_empty() {
            spec.cluster_ips = old_spec.cluster_ips.clone();
        }
    }
    if needs_node_ports(&nt) && needs_node_ports(&ot) {
        let old_ports = sl(&old_spec.ports);
        for port in spec.ports.iter_mut().flatten() {
            if port.node_port.unwrap_or(0) != 0 {
                continue;
            }
            let prev = old_ports
                .iter()
                .find(|o| o.port == port.port && o.protocol == port.protocol && o.name == port.name)
                .or_else(|| old_ports.iter().find(|o| o.port == port.port && o.protocol == port.protocol));
            if let Some(o) = prev
                && o.node_port.unwrap_or(0) != 0
            {
                port.node_port = o.node_port;
            }
        }
    }
    if needs_health_check(&old_spec) && needs_health_check(spec) && spec.health_check_node_port.unwrap_or(0) == 0 {
        spec.health_check_node_port = old_spec.health_check_node_port;
    }
    // NormalizeClusterIPs
    if !sl(&old_spec.cluster_ips).is_empty() && sl(&spec.cluster_ips).is_empty() && spec.cluster_ip == old_spec.cluster_ip {
        spec.cluster_ips = old_spec.cluster_ips.clone();
    }
    if ostr(&spec.cluster_ip) != ostr(&old_spec.cluster_ip) {
        let same_ips = sl(&spec.cluster_ips) == sl(&old_spec.cluster_ips);
        if !ostr(&old_spec.cluster_ip).is_empty() && ostr(&spec.cluster_ip).is_empty() && same_ips {
            spec.cluster_ips = None;
        }
        if !ostr(&spec.cluster_ip).is_empty() && !ostr(&old_spec.cluster_ip).is_empty() && same_ips {
            spec.cluster_ips = Some(vec![ostr(&spec.cluster_ip).to_string()]);
        }
    }
    // dropTypeDependentFields
    if needs_ip(&ot) && !needs_ip(&nt) {
        if ostr(&spec.cluster_ip) == ostr(&old_spec.cluster_ip) && sl(&spec.cluster_ips) == sl(&old_spec.cluster_ips) {
            spec.cluster_ip = None;
            spec.cluster_ips = None;
        }
        if sl(&spec.ip_families) == sl(&old_spec.ip_families) {
            spec.ip_families = None;
        }
        if spec.ip_family_policy == old_spec.ip_family_policy {
            spec.ip_family_policy = None;
        }
    }
    if needs_node_ports(&ot) && !needs_node_ports(&nt) {
        let old_np: Vec<i32> = sl(&old_spec.ports).iter().map(|p| p.node_port.unwrap_or(0)).collect();
        let new_np: Vec<i32> = sl(&spec.ports).iter().map(|p| p.node_port.unwrap_or(0)).collect();
        if old_np == new_np {
            for port in spec.ports.iter_mut().flatten() {
                port.node_port = None;
            }
        }
    }
    if needs_health_check(&old_spec) && !needs_health_check(spec) && spec.health_check_node_port == old_spec.health_check_node_port {
        spec.health_check_node_port = None;
    }
    if ot == "LoadBalancer" && nt != "LoadBalancer" {
        if spec.allocate_load_balancer_node_ports == old_spec.allocate_load_balancer_node_ports {
            spec.allocate_load_balancer_node_ports = None;
        }
        if spec.load_balancer_class == old_spec.load_balancer_class {
            spec.load_balancer_class = None;
        }
    }
    if externally_accessible(&old_spec) && !externally_accessible(spec) && spec.external_traffic_policy == old_spec.external_traffic_policy {
        spec.external_traffic_policy = None;
    }
}

fn validate_service_port(sp: &api::ServicePort, require_name: bool, names: &mut BTreeSet<String>, path: &Path) -> Errs {
    let mut e = Vec::new();
    let name = ostr(&sp.name);
    if require_name && name.is_empty() {
        e.push(required(&path.child("name"), ""));
    } else if !name.is_empty() {
        e.extend(dns1123_label(name, &path.child("name")));
        if !names.insert(name.to_string()) {
            e.push(duplicate(&path.child("name"), name));
        }
    }
    e.extend(port_num(sp.port as i64, &path.child("port")));
    if let Some(proto) = sp.protocol.as_deref().filter(|s| !s.is_empty())
        && !PROTOCOLS.contains(&proto)
    {
        e.push(not_supported(&path.child("protocol"), proto, PROTOCOLS));
    }
    let target = sp.target_port.clone().unwrap_or(IntOrString::Int(sp.port));
    let tp = path.child("targetPort");
    match &target {
        IntOrString::Int(n) => e.extend(port_num(*n as i64, &tp)),
        IntOrString::String(s) if s.is_empty() => e.extend(port_num(sp.port as i64, &tp)),
        IntOrString::String(s) => {
            e.extend(apimachinery::validation::is_valid_port_name(s).into_iter().map(|m| invalid(&tp, s.as_str(), m)))
        }
    }
    if let Some(ap) = &sp.app_protocol {
        e.extend(qualified_name(ap, &path.child("appProtocol")));
    }
    e
}

fn cluster_ips_related(spec: &api::ServiceSpec) -> Errs {
    if svc_type(spec) == "ExternalName" {
        return Vec::new();
    }
    let mut e = Vec::new();
    let sp = p("spec");
    let ips_path = sp.child("clusterIPs");
    let fam_path = sp.child("ipFamilies");
    let ips = cluster_ips(spec);
    let cip = ostr(&spec.cluster_ip);
    if !cip.is_empty() {
        if ips.is_empty() {
            e.push(required(&ips_path, ""));
        } else if ips[0] != cip {
            e.push(invalid(&ips_path, str_list(ips), "first value must match `clusterIP`"));
        }
    } else if !ips.is_empty() {
        e.push(invalid(&ips_path, str_list(ips), "must be empty when `clusterIP` is not specified"));
    }
    let mut seen = BTreeSet::new();
    for (i, f) in sl(&spec.ip_families).iter().enumerate() {
        if f != "IPv4" && f != "IPv6" {
            e.push(not_supported(&fam_path.index(i), f.as_str(), &["IPv4", "IPv6"]));
        }
        if !seen.insert(f.clone()) {
            e.push(duplicate(&fam_path.index(i), f.as_str()));
        }
    }
    if let Some(pol) = &spec.ip_family_policy
        && !["PreferDualStack", "RequireDualStack", "SingleStack"].contains(&pol.as_str())
    {
        e.push(not_supported(&sp.child("ipFamilyPolicy"), pol.as_str(), &["PreferDualStack", "RequireDualStack", "SingleStack"]));
    }
    let mut has_invalid = false;
    for (i, ip) in ips.iter().enumerate() {
        if i == 0 && ip == "None" {
            if ips.len() > 1 {
                has_invalid = true;
                e.push(invalid(&ips_path, str_list(ips), "'None' must be the first and only value"));
            }
            continue;
        }
        let errs = valid_ip(ip, &ips_path.index(i));
        has_invalid |= !errs.is_empty();
        e.extend(errs);
    }
    if ips.len() > 2 {
        e.push(invalid(&ips_path, str_list(ips), "may only hold up to 2 values"));
    }
    if has_invalid {
        return e;
    }
    if ips.len() > 1 && !is_dual_stack(ips) {
        e.push(invalid(&ips_path, str_list(ips), "may specify no more than one IP for each IP family"));
    }
    let fams = sl(&spec.ip_families);
    if !is_headless(spec) && !ips.is_empty() && !fams.is_empty() {
        for (i, ip) in ips.iter().enumerate() {
            if i >= fams.len() {
                break;
            }
            if fams[i] == "IPv4" && is_ipv6(ip) {
                e.push(invalid(&ips_path.index(i), ip.as_str(), format!("expected an IPv4 value as indicated by `ipFamilies[{i}]`")));
            }
            if fams[i] == "IPv6" && !is_ipv6(ip) {
                e.push(invalid(&ips_path.index(i), ip.as_str(), format!("expected an IPv6 value as indicated by `ipFamilies[{i}]`")));
            }
        }
    }
    e
}

fn lb_class(old: Option<&api::ServiceSpec>, spec: &api::ServiceSpec) -> Errs {
    let mut e = Vec::new();
    let cp = p("spec").child("loadBalancerClass");
    if let Some(o) = old
        && svc_type(o) == "LoadBalancer"
        && svc_type(spec) == "LoadBalancer"
        && o.load_balancer_class != spec.load_balancer_class
    {
        e.push(invalid(&cp, json!(spec.load_balancer_class), "may not change once set"));
    }
    if svc_type(spec) == "LoadBalancer" {
        if let Some(c) = &spec.load_balancer_class {
            e.extend(qualified_name(c, &cp));
        }
    } else if spec.load_balancer_class.is_some() {
        e.push(forbidden(&cp, "may only be used when `type` is 'LoadBalancer'"));
    }
    e
}

fn validate_service_errs(svc: &api::Service) -> Errs {
    let mut e = Vec::new();
    let spec = spec_of(svc);
    let sp = p("spec");
    let ann = svc.metadata.annotations.clone().unwrap_or_default();
    const TOPOLOGY_HINTS: &str = "service.kubernetes.io/topology-aware-hints";
    const TOPOLOGY_MODE: &str = "service.kubernetes.io/topology-mode";
    if let (Some(hints), Some(mode)) = (ann.get(TOPOLOGY_HINTS), ann.get(TOPOLOGY_MODE))
        && hints != mode
    {
        e.push(invalid(
            &p("metadata").child("annotations").key(TOPOLOGY_MODE),
            mode.as_str(),
            format!("must match annotations[{TOPOLOGY_HINTS}] when both are specified"),
        ));
    }
    let t = svc_type(&spec);
    let ports = sl(&spec.ports);
    if ports.is_empty() && !is_headless(&spec) && t != "ExternalName" {
        e.push(required(&sp.child("ports"), ""));
    }
    match t {
        "LoadBalancer" if is_headless(&spec) => {
            e.push(invalid(&sp.child("clusterIPs").index(0), cluster_ips(&spec)[0].as_str(), "may not be set to 'None' for LoadBalancer services"));
        }
        "NodePort" if is_headless(&spec) => {
            e.push(invalid(&sp.child("clusterIPs").index(0), cluster_ips(&spec)[0].as_str(), "may not be set to 'None' for NodePort services"));
        }
        "ExternalName" => {
            if !cluster_ips(&spec).is_empty() {
                e.push(forbidden(&sp.child("clusterIPs"), "may not be set for ExternalName services"));
            }
            if !sl(&spec.ip_families).is_empty() {
                e.push(forbidden(&sp.child("ipFamilies"), "may not be set for ExternalName services"));
            }
            if spec.ip_family_policy.is_some() {
                e.push(forbidden(&sp.child("ipFamilyPolicy"), "may not be set for ExternalName services"));
            }
            let en = ostr(&spec.external_name);
            let cname = en.strip_suffix('.').unwrap_or(en);
            if cname.is_empty() {
                e.push(required(&sp.child("externalName"), ""));
            } else {
                e.extend(dns1123_subdomain(cname, &sp.child("externalName")));
            }
        }
        _ => {}
    }
    let mut names = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        e.extend(validate_service_port(port, ports.len() > 1, &mut names, &sp.child("ports").index(i)));
    }
    if let Some(sel) = &spec.selector {
        e.extend(labels(Some(sel), &sp.child("selector")));
    }
    let affinity = spec.session_affinity.as_deref().filter(|s| !s.is_empty()).unwrap_or("None");
    if affinity != "ClientIP" && affinity != "None" {
        e.push(not_supported(&sp.child("sessionAffinity"), affinity, &["ClientIP", "None"]));
    }
    if affinity == "ClientIP" {
        let timeout = spec
            .session_affinity_config
            .as_ref()
            .and_then(|c| c.client_ip.as_ref())
            .and_then(|c| c.timeout_seconds)
            .unwrap_or(10800);
        if timeout <= 0 || timeout > MAX_CLIENT_IP_AFFINITY_SECONDS {
            e.push(invalid(
                &sp.child("sessionAffinityConfig").child("clientIP").child("timeoutSeconds"),
                timeout,
                format!("must be greater than 0 and less than {MAX_CLIENT_IP_AFFINITY_SECONDS}"),
            ));
        }
    } else if affinity == "None" && spec.session_affinity_config.is_some() {
        e.push(forbidden(&sp.child("sessionAffinityConfig"), "must not be set when session affinity is None"));
    }
    e.extend(cluster_ips_related(&spec));
    for (i, ip) in sl(&spec.external_ips).iter().enumerate() {
        let ip_path = sp.child("externalIPs").index(i);
        let errs = valid_ip(ip, &ip_path);
        if errs.is_empty() {
            e.extend(non_special_ip(ip, &ip_path));
        } else {
            e.extend(errs);
        }
    }
    if !SERVICE_TYPES.contains(&t) {
        e.push(not_supported(&sp.child("type"), t, SERVICE_TYPES));
    }
    if t == "ClusterIP" {
        for (i, port) in ports.iter().enumerate() {
            if port.node_port.unwrap_or(0) != 0 {
                e.push(forbidden(&sp.child("ports").index(i).child("nodePort"), "may not be used when `type` is 'ClusterIP'"));
            }
        }
    }
    let mut node_ports: BTreeSet<(String, i32)> = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let np = port.node_port.unwrap_or(0);
        if np == 0 {
            continue;
        }
        let key = (port.protocol.clone().unwrap_or_else(|| "TCP".into()), np);
        if !node_ports.insert(key) {
            e.push(duplicate(&sp.child("ports").index(i).child("nodePort"), np));
        }
    }
    let mut port_keys: BTreeSet<(String, i32)> = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let proto = port.protocol.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "TCP".into());
        if !port_keys.insert((proto.clone(), port.port)) {
            e.push(duplicate(&sp.child("ports").index(i), json!({"port": port.port, "protocol": proto})));
        }
    }
    let ranges = sl(&spec.load_balancer_source_ranges);
    const LB_RANGES_ANNOTATION: &str = "service.beta.kubernetes.io/load-balancer-source-ranges";
    if !ranges.is_empty() {
        let fp = sp.child("LoadBalancerSourceRanges");
        if t != "LoadBalancer" {
            e.push(forbidden(&fp, "may only be used when `type` is 'LoadBalancer'"));
        }
        for (i, r) in ranges.iter().enumerate() {
            e.extend(valid_cidr(r.trim(), &fp.index(i)));
        }
    } else if let Some(val) = ann.get(LB_RANGES_ANNOTATION) {
        let fp = p("metadata").child("annotations").key(LB_RANGES_ANNOTATION);
        if t != "LoadBalancer" {
            e.push(forbidden(&fp, "may only be used when `type` is 'LoadBalancer'"));
        }
        let val = val.trim();
        if !val.is_empty() {
            for r in val.split(',') {
                e.extend(valid_cidr(r.trim(), &fp));
            }
        }
    }
    if spec.allocate_load_balancer_node_ports.is_some() && t != "LoadBalancer" {
        e.push(forbidden(&sp.child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"));
    }
    e.extend(lb_class(None, &spec));
    // external traffic policy
    if !externally_accessible(&spec) {
        if let Some(p0) = spec.external_traffic_policy.as_deref().filter(|s| !s.is_empty()) {
            e.push(invalid(&sp.child("externalTrafficPolicy"), p0, "may only be set for externally-accessible services"));
        }
    } else {
        let policy = etp(&spec);
        if policy != "Cluster" && policy != "Local" {
            e.push(not_supported(&sp.child("externalTrafficPolicy"), policy, &["Cluster", "Local"]));
        }
    }
    let hcnp = spec.health_check_node_port.unwrap_or(0);
    if !needs_health_check(&spec) {
        if hcnp != 0 {
            e.push(invalid(
                &sp.child("healthCheckNodePort"),
                hcnp,
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
            ));
        }
    } else if hcnp != 0 {
        e.extend(port_num(hcnp as i64, &sp.child("healthCheckNodePort")));
    }
    if let Some(itp) = &spec.internal_traffic_policy
        && itp != "Cluster"
        && itp != "Local"
    {
        e.push(not_supported(&sp.child("internalTrafficPolicy"), itp.as_str(), &["Cluster", "Local"]));
    }
    if let Some(td) = &spec.traffic_distribution
        && td != "PreferClose"
    {
        e.push(not_supported(&sp.child("trafficDistribution"), td.as_str(), &["PreferClose"]));
    }
    e
}

/// Validates a Service on create (upstream's `ValidateService` without object metadata).
/// Covers ports (required unless headless/ExternalName, names, numbers, protocols, target
/// ports, app protocols, duplicates), type, clusterIP/clusterIPs/ipFamilies/ipFamilyPolicy,
/// ExternalName, selector labels, session affinity, external IPs, node ports, load balancer
/// source ranges/class, allocateLoadBalancerNodePorts, traffic policies and distribution.
pub fn service(svc: &api::Service) -> ErrorList {
    let mut s = svc.clone();
    normalize_service_create(&mut s);
    done(validate_service_errs(&s))
}

fn upgrade_downgrade_cluster_ips(old: &api::ServiceSpec, new: &api::ServiceSpec) -> Errs {
    let mut e = Vec::new();
    if svc_type(new) == "ExternalName" || svc_type(old) == "ExternalName" {
        return e;
    }
    if is_headless(old) && is_headless(new) {
        return e;
    }
    let (oi, ni) = (cluster_ips(old), cluster_ips(new));
    let path = p("spec").child("clusterIPs");
    match oi.len().cmp(&ni.len()) {
        std::cmp::Ordering::Equal => {
            for (i, ip) in oi.iter().enumerate() {
                if *ip != ni[i] {
                    e.push(invalid(&path.index(i), str_list(ni), "may not change once set"));
                }
            }
        }
        std::cmp::Ordering::Greater => {
            if ni.is_empty() {
                e.push(invalid(&path.index(0), str_list(ni), "primary clusterIP can not be unset"));
            }
            if !oi.is_empty() && !ni.is_empty() && ni[0] != oi[0] {
                e.push(invalid(&path.index(0), str_list(ni), "may not change once set"));
            }
            if ni.len() == 1 && new.ip_family_policy.as_deref() != Some("SingleStack") {
                e.push(invalid(
                    &p("spec").child("ipFamilyPolicy"),
                    json!(new.ip_family_policy),
                    "must be set to 'SingleStack' when releasing the secondary clusterIP",
                ));
            }
        }
        std::cmp::Ordering::Less => {
            if !oi.is_empty() && ni[0] != oi[0] {
                e.push(invalid(&path.index(0), str_list(ni), "may not change once set"));
            }
        }
    }
    e
}

fn upgrade_downgrade_ip_families(old: &api::ServiceSpec, new: &api::ServiceSpec) -> Errs {
    let mut e = Vec::new();
    if svc_type(new) == "ExternalName" || svc_type(old) == "ExternalName" {
        return e;
    }
    if is_headless(old) != is_headless(new) || is_headless(new) {
        return e;
    }
    let (of, nf) = (sl(&old.ip_families), sl(&new.ip_families));
    let path = p("spec").child("ipFamilies").index(0);
    match of.len().cmp(&nf.len()) {
        std::cmp::Ordering::Equal => {
            for (i, f) in of.iter().enumerate() {
                if *f != nf[i] {
                    e.push(invalid(&path, str_list(nf), "may not change once set"));
                }
            }
        }
        std::cmp::Ordering::Greater => {
            if cluster_ips(new).is_empty() {
                e.push(invalid(&path, str_list(nf), "primary ipFamily can not be unset"));
            }
            if !nf.is_empty() && nf[0] != of[0] {
                e.push(invalid(&path, str_list(cluster_ips(new)), "may not change once set"));
            }
            if nf.len() == 1 && new.ip_family_policy.as_deref() != Some("SingleStack") {
                e.push(invalid(
                    &p("spec").child("ipFamilyPolicy"),
                    json!(new.ip_family_policy),
                    "must be set to 'SingleStack' when releasing the secondary ipFamily",
                ));
            }
        }
        std::cmp::Ordering::Less => {
            if !of.is_empty() && !nf.is_empty() && nf[0] != of[0] {
                e.push(invalid(&path, str_list(cluster_ips(new)), "may not change once set"));
            }
        }
    }
    e
}

/// Validates a Service update (upstream's `ValidateServiceUpdate`): clusterIPs and ipFamilies
/// may only gain or release the secondary entry (`may not change once set`), the load balancer
/// class may not change, the health-check node port is immutable while needed; then the create
/// rules on the new object. The strategy's normalization is applied first.
pub fn service_update(new: &api::Service, old: &api::Service) -> ErrorList {
    let mut s = new.clone();
    normalize_service_update(&mut s, old);
    let ns = spec_of(&s);
    let os = spec_of(old);
    let mut e = upgrade_downgrade_cluster_ips(&os, &ns);
    e.extend(upgrade_downgrade_ip_families(&os, &ns));
    e.extend(lb_class(Some(&os), &ns).into_iter().filter(|x| x.detail == "may not change once set"));
    if needs_health_check(&os) && needs_health_check(&ns) && os.health_check_node_port != ns.health_check_node_port {
        e.push(forbidden(&p("spec").child("healthCheckNodePort"), FIELD_IMMUTABLE));
    }
    e.extend(validate_service_errs(&s));
    done(e)
}

/// Validates a Service status update (upstream's `ValidateLoadBalancerStatus`): ingress only
/// for LoadBalancer services, valid IPs and hostnames (not IPs), ipMode values.
pub fn service_status_update(new: &api::Service, _old: &api::Service) -> ErrorList {
    let spec = spec_of(new);
    let path = p("status").child("loadBalancer").child("ingress");
    let ingress = new
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|l| l.ingress.clone())
        .unwrap_or_default();
    let mut e = Vec::new();
    if svc_type(&spec) != "LoadBalancer" && !ingress.is_empty() {
        e.push(forbidden(&path, "may only be used when `spec.type` is 'LoadBalancer'"));
        return done(e);
    }
    for (i, ing) in ingress.iter().enumerate() {
        let ip_path = path.index(i);
        let ip = ostr(&ing.ip);
        if !ip.is_empty() {
            e.extend(valid_ip(ip, &ip_path.child("ip")));
        }
        if let Some(mode) = &ing.ip_mode {
            if ip.is_empty() {
                e.push(forbidden(&ip_path.child("ipMode"), "may not be specified when `ip` is not set"));
            } else if mode != "Proxy" && mode != "VIP" {
                e.push(not_supported(&ip_path.child("ipMode"), mode.as_str(), &["Proxy", "VIP"]));
            }
        }
        let host = ostr(&ing.hostname);
        if !host.is_empty() {
            e.extend(dns1123_subdomain(host, &ip_path.child("hostname")));
            if apimachinery::validation::parse_ip_sloppy(host).is_some() {
                e.push(invalid(&ip_path.child("hostname"), host, "must be a DNS name, not an IP address"));
            }
        }
    }
    done(e)
}
