//! networking.k8s.io/v1: NetworkPolicies, Ingresses, IngressClasses.

use apimachinery::field::{ErrorList, Path};
use apimachinery::validation as v;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::common::*;

// ---------------------------------------------------------------------------------------------
// NetworkPolicy
// ---------------------------------------------------------------------------------------------

fn np_port(port: &net::NetworkPolicyPort, path: &Path) -> Errs {
    let mut e = Vec::new();
    if let Some(proto) = &port.protocol
        && !["TCP", "UDP", "SCTP"].contains(&proto.as_str())
    {
        e.push(not_supported(&path.child("protocol"), proto.as_str(), &["TCP", "UDP", "SCTP"]));
    }
    let ep = path.child("endPort");
    match &port.port {
        Some(IntOrString::Int(n)) => {
            e.extend(port_num(*n as i64, &path.child("port")));
            if let Some(end) = port.end_port {
                if end < *n {
                    e.push(invalid(&ep, end, "must be greater than or equal to `port`"));
                }
                e.extend(port_num(end as i64, &ep));
            }
        }
        Some(IntOrString::String(s)) => {
            if let Some(end) = port.end_port {
                e.push(invalid(&ep, end, "may not be specified when `port` is non-numeric"));
            }
            for m in v::is_valid_port_name(s) {
                e.push(invalid(&path.child("port"), s.as_str(), m));
            }
        }
        None => {
            if let Some(end) = port.end_port {
                e.push(invalid(&ep, end, "may not be specified when `port` is not specified"));
            }
        }
    }
    e
}

fn ip_block(b: &net::IPBlock, path: &Path) -> Errs {
    let mut e = Vec::new();
    if b.cidr.is_empty() {
        return vec![required(&path.child("cidr"), "")];
    }
    let Some((ip, bits)) = parse_cidr(&b.cidr) else {
        return vec![invalid(&path.child("cidr"), b.cidr.as_str(), "not a valid CIDR")];
    };
    for (i, ex) in sl(&b.except).iter().enumerate() {
        let xp = path.child("except").index(i);
        let Some((xip, xbits)) = parse_cidr(ex) else {
            e.push(invalid(&xp, ex.as_str(), "not a valid CIDR"));
            return e;
        };
        if !cidr_contains(ip, bits, xip) || bits >= xbits {
            e.push(invalid(&xp, ex.as_str(), "must be a strict subset of `cidr`"));
        }
    }
    e
}

fn to_u128(ip: std::net::IpAddr) -> (u128, u8) {
    match ip {
        std::net::IpAddr::V4(a) => (u32::from(a) as u128, 32),
        std::net::IpAddr::V6(a) => (u128::from(a), 128),
    }
}

/// Whether `ip` lies inside the network `net/bits` (families must match).
fn cidr_contains(net: std::net::IpAddr, bits: u8, ip: std::net::IpAddr) -> bool {
    let (n, nw) = to_u128(net);
    let (a, aw) = to_u128(ip);
    if nw != aw {
        return false;
    }
    let shift = (nw - bits) as u32;
    if shift >= 128 {
        return true;
    }
    (n >> shift) == (a >> shift)
}

fn np_peer(peer: &net::NetworkPolicyPeer, allow_invalid: bool, path: &Path) -> Errs {
    let mut e = Vec::new();
    let mut n = 0;
    if let Some(s) = &peer.pod_selector {
        n += 1;
        e.extend(label_selector(Some(s), &path.child("podSelector"), allow_invalid));
    }
    if let Some(s) = &peer.namespace_selector {
        n += 1;
        e.extend(label_selector(Some(s), &path.child("namespaceSelector"), allow_invalid));
    }
    if let Some(b) = &peer.ip_block {
        n += 1;
        e.extend(ip_block(b, &path.child("ipBlock")));
    }
    if n == 0 {
        e.push(required(path, "must specify a peer"));
    } else if n > 1 && peer.ip_block.is_some() {
        e.push(forbidden(path, "may not specify both ipBlock and another peer"));
    }
    e
}

fn np_spec(spec: &net::NetworkPolicySpec, allow_invalid: bool, path: &Path) -> Errs {
    let mut e = label_selector(spec.pod_selector.as_ref(), &path.child("podSelector"), allow_invalid);
    for (i, rule) in sl(&spec.ingress).iter().enumerate() {
        let rp = path.child("ingress").index(i);
        for (j, port) in sl(&rule.ports).iter().enumerate() {
            e.extend(np_port(port, &rp.child("ports").index(j)));
        }
        for (j, peer) in sl(&rule.from).iter().enumerate() {
            e.extend(np_peer(peer, allow_invalid, &rp.child("from").index(j)));
        }
    }
    for (i, rule) in sl(&spec.egress).iter().enumerate() {
        let rp = path.child("egress").index(i);
        for (j, port) in sl(&rule.ports).iter().enumerate() {
            e.extend(np_port(port, &rp.child("ports").index(j)));
        }
        for (j, peer) in sl(&rule.to).iter().enumerate() {
            e.extend(np_peer(peer, allow_invalid, &rp.child("to").index(j)));
        }
    }
    let types = sl(&spec.policy_types);
    if types.len() > 2 {
        e.push(invalid(&path.child("policyTypes"), str_list(types), "may not specify more than two policyTypes"));
        return e;
    }
    for (i, t) in types.iter().enumerate() {
        if t != "Ingress" && t != "Egress" {
            e.push(not_supported(&path.child("policyTypes").index(i), t.as_str(), &["Ingress", "Egress"]));
        }
    }
    e
}

/// NetworkPolicy create: podSelector, ingress/egress ports (protocol, port/endPort) and peers
/// (exactly one kind when ipBlock, ipBlock CIDRs and strict-subset excepts), policyTypes.
pub fn network_policy(np: &net::NetworkPolicy) -> ErrorList {
    let spec = np.spec.clone().unwrap_or_default();
    done(np_spec(&spec, false, &p("spec")))
}

/// NetworkPolicy update: the create rules; invalid label values already in the old
/// podSelector are tolerated.
pub fn network_policy_update(new: &net::NetworkPolicy, old: &net::NetworkPolicy) -> ErrorList {
    let old_spec = old.spec.clone().unwrap_or_default();
    let ratchet = !label_selector(old_spec.pod_selector.as_ref(), &p("x"), false).is_empty();
    let spec = new.spec.clone().unwrap_or_default();
    done(np_spec(&spec, ratchet, &p("spec")))
}

// ---------------------------------------------------------------------------------------------
// Ingress
// ---------------------------------------------------------------------------------------------

#[derive(Default, Clone, Copy)]
struct IngressOpts {
    allow_invalid_secret_name: bool,
    allow_invalid_wildcard_host_rule: bool,
}

fn typed_local_object_ref(r: &core::TypedLocalObjectReference, path: &Path) -> Errs {
    let mut e = Vec::new();
    if let Some(g) = &r.api_group {
        e.extend(dns1123_subdomain(g, &path.child("apiGroup")));
    }
    if r.kind.is_empty() {
        e.push(required(&path.child("kind"), "kind is required"));
    } else {
        for m in path_segment_name_msgs(&r.kind) {
            e.push(invalid(&path.child("kind"), r.kind.as_str(), m));
        }
    }
    if r.name.is_empty() {
        e.push(required(&path.child("name"), "name is required"));
    } else {
        for m in path_segment_name_msgs(&r.name) {
            e.push(invalid(&path.child("name"), r.name.as_str(), m));
        }
    }
    e
}

fn ingress_backend(bk: &net::IngressBackend, path: &Path) -> Errs {
    let mut e = Vec::new();
    match (&bk.resource, &bk.service) {
        (Some(_), Some(_)) => return vec![invalid(path, "", "cannot set both resource and service backends")],
        (Some(r), None) => e.extend(typed_local_object_ref(r, &path.child("resource"))),
        (None, Some(svc)) => {
            let np = path.child("service").child("name");
            if svc.name.is_empty() {
                e.push(required(&np, ""));
            } else {
                for m in v::name_is_dns1035_label(&svc.name, false) {
                    e.push(invalid(&np, svc.name.as_str(), m));
                }
            }
            let port = svc.port.clone().unwrap_or_default();
            let name = ostr(&port.name);
            let number = port.number.unwrap_or(0);
            let pp = path.child("service").child("port");
            match (!name.is_empty(), number != 0) {
                (true, true) => e.push(invalid(path, "", "cannot set both port name & port number")),
                (true, false) => {
                    for m in v::is_valid_port_name(name) {
                        e.push(invalid(&pp.child("name"), name, m));
                    }
                }
                (false, true) => e.extend(port_num(number as i64, &pp.child("number"))),
                (false, false) => e.push(required(path, "port name or number is required")),
            }
        }
        (None, None) => e.push(invalid(path, "", "resource or service backend is required")),
    }
    e
}

const INVALID_PATH_SEQUENCES: &[&str] = &["//", "/./", "/../", "%2f", "%2F"];
const INVALID_PATH_SUFFIXES: &[&str] = &["/..", "/."];

fn http_path(hp: &net::HTTPIngressPath, path: &Path) -> Errs {
    let mut e = Vec::new();
    if hp.path_type.is_empty() {
        return vec![required(&path.child("pathType"), "pathType must be specified")];
    }
    let pth = ostr(&hp.path);
    let fp = path.child("path");
    match hp.path_type.as_str() {
        "Exact" | "Prefix" => {
            if !pth.starts_with('/') {
                e.push(invalid(&fp, pth, "must be an absolute path"));
            }
            if !pth.is_empty() {
                for seq in INVALID_PATH_SEQUENCES {
                    if pth.contains(seq) {
                        e.push(invalid(&fp, pth, format!("must not contain '{seq}'")));
                    }
                }
                for suf in INVALID_PATH_SUFFIXES {
                    if pth.ends_with(suf) {
                        e.push(invalid(&fp, pth, format!("cannot end with '{suf}'")));
                    }
                }
            }
        }
        "ImplementationSpecific" => {
            if !pth.is_empty() && !pth.starts_with('/') {
                e.push(invalid(&fp, pth, "must be an absolute path"));
            }
        }
        other => e.push(not_supported(&path.child("pathType"), other, &["Exact", "ImplementationSpecific", "Prefix"])),
    }
    e.extend(ingress_backend(&hp.backend, &path.child("backend")));
    e
}

fn rule_value(rule: &net::IngressRule, path: &Path) -> Errs {
    let mut e = Vec::new();
    if let Some(http) = &rule.http {
        let hp = path.child("http");
        if http.paths.is_empty() {
            e.push(required(&hp.child("paths"), ""));
        }
        for (i, x) in http.paths.iter().enumerate() {
            e.extend(http_path(x, &hp.child("paths").index(i)));
        }
    }
    e
}

fn ingress_rules(rules: &[net::IngressRule], path: &Path, opts: IngressOpts) -> Errs {
    let mut e = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let ip = path.index(i);
        let host = ostr(&rule.host);
        let mut wildcard = false;
        if !host.is_empty() {
            if v::parse_ip_sloppy(host).is_some() {
                e.push(invalid(&ip.child("host"), host, "must be a DNS name, not an IP address"));
            }
            if host.contains('*') {
                for m in v::is_wildcard_dns1123_subdomain(host) {
                    e.push(invalid(&ip.child("host"), host, m));
                }
                wildcard = true;
            } else {
                e.extend(dns1123_subdomain(host, &ip.child("host")));
            }
        }
        if !wildcard || !opts.allow_invalid_wildcard_host_rule {
            e.extend(rule_value(rule, &ip));
        }
    }
    e
}

fn tls_secret_name_errs(name: &str) -> Vec<String> {
    if name.is_empty() { Vec::new() } else { v::name_is_dns_subdomain(name, false) }
}

fn ingress_spec(spec: &net::IngressSpec, path: &Path, opts: IngressOpts) -> Errs {
    let mut e = Vec::new();
    let rules = sl(&spec.rules);
    if rules.is_empty() && spec.default_backend.is_none() {
        e.push(invalid(path, json(&rules), "either `defaultBackend` or `rules` must be specified"));
    }
    if let Some(bk) = &spec.default_backend {
        e.extend(ingress_backend(bk, &path.child("defaultBackend")));
    }
    e.extend(ingress_rules(rules, &path.child("rules"), opts));
    for (ti, tls) in sl(&spec.tls).iter().enumerate() {
        let tp = path.child("tls").index(ti);
        for (i, host) in sl(&tls.hosts).iter().enumerate() {
            let hp = tp.child("hosts").index(i);
            if host.contains('*') {
                for m in v::is_wildcard_dns1123_subdomain(host) {
                    e.push(invalid(&hp, host.as_str(), m));
                }
            } else {
                e.extend(dns1123_subdomain(host, &hp));
            }
        }
        if !opts.allow_invalid_secret_name {
            let sn = ostr(&tls.secret_name);
            for m in tls_secret_name_errs(sn) {
                e.push(invalid(&tp.child("secretName"), sn, m));
            }
        }
    }
    if let Some(c) = &spec.ingress_class_name {
        for m in v::name_is_dns_subdomain(c, false) {
            e.push(invalid(&path.child("ingressClassName"), c.as_str(), m));
        }
    }
    e
}

/// Ingress create: defaultBackend or rules required, rule hosts (DNS names, wildcards), HTTP
/// paths (pathType, path syntax), backends (exactly one of service/resource, service name and
/// port), TLS hosts and secret names, ingressClassName, and the
/// `kubernetes.io/ingress.class` annotation agreeing with `spec.ingressClassName`.
pub fn ingress(ing: &net::Ingress) -> ErrorList {
    let spec = ing.spec.clone().unwrap_or_default();
    let mut e = ingress_spec(&spec, &p("spec"), IngressOpts::default());
    if let Some(ann) = ing.metadata.annotations.as_ref().and_then(|a| a.get("kubernetes.io/ingress.class"))
        && let Some(class) = &spec.ingress_class_name
        && ann != class
    {
        e.push(invalid(&p("annotations").child("kubernetes.io/ingress.class"), ann.as_str(), "must match `ingressClassName` when both are specified"));
    }
    done(e)
}

/// Ingress update: the spec rules, tolerating invalid TLS secret names and invalid rules under
/// wildcard hosts when the old object already had them (the annotation check is create-only).
pub fn ingress_update(new: &net::Ingress, old: &net::Ingress) -> ErrorList {
    let old_spec = old.spec.clone().unwrap_or_default();
    let opts = IngressOpts {
        allow_invalid_secret_name: sl(&old_spec.tls).iter().any(|t| !tls_secret_name_errs(ostr(&t.secret_name)).is_empty()),
        allow_invalid_wildcard_host_rule: sl(&old_spec.rules)
            .iter()
            .any(|r| ostr(&r.host).contains('*') && !rule_value(r, &p("x")).is_empty()),
    };
    let spec = new.spec.clone().unwrap_or_default();
    done(ingress_spec(&spec, &p("spec"), opts))
}

/// Ingress status update: load balancer ingress IPs and hostnames.
pub fn ingress_status_update(new: &net::Ingress, _old: &net::Ingress) -> ErrorList {
    let mut e = Vec::new();
    let lp = p("status").child("loadBalancer").child("ingress");
    let lbs = new.status.as_ref().and_then(|s| s.load_balancer.as_ref()).and_then(|l| l.ingress.clone()).unwrap_or_default();
    for (i, lb) in lbs.iter().enumerate() {
        let ip = lp.index(i);
        let addr = ostr(&lb.ip);
        if !addr.is_empty() && v::parse_ip_sloppy(addr).is_none() {
            e.push(invalid(&ip.child("ip"), addr, "must be a valid IP address"));
        }
        let host = ostr(&lb.hostname);
        if !host.is_empty() {
            e.extend(dns1123_subdomain(host, &ip.child("hostname")));
            if v::parse_ip_sloppy(host).is_some() {
                e.push(invalid(&ip.child("hostname"), host, "must be a DNS name, not an IP address"));
            }
        }
    }
    done(e)
}

// ---------------------------------------------------------------------------------------------
// IngressClass
// ---------------------------------------------------------------------------------------------

fn ingress_class_params(r: &net::IngressClassParametersReference, path: &Path) -> Errs {
    let mut e = typed_local_object_ref(
        &core::TypedLocalObjectReference { api_group: r.api_group.clone(), kind: r.kind.clone(), name: r.name.clone() },
        path,
    );
    let Some(scope) = &r.scope else {
        e.push(required(&path.child("scope"), ""));
        return e;
    };
    match scope.as_str() {
        "Namespace" => match &r.namespace {
            None => e.push(required(&path.child("namespace"), "`parameters.scope` is set to 'Namespace'")),
            Some(ns) => {
                for m in v::validate_namespace_name(ns, false) {
                    e.push(invalid(&path.child("namespace"), ns.as_str(), m));
                }
            }
        },
        "Cluster" => {
            if r.namespace.is_some() {
                e.push(forbidden(&path.child("namespace"), "`parameters.scope` is set to 'Cluster'"));
            }
        }
        other => e.push(not_supported(&path.child("scope"), other, &["Cluster", "Namespace"])),
    }
    e
}

/// IngressClass create: controller (≤ 250 bytes, domain-prefixed path) and the parameters
/// reference (kind, name, scope and namespace rules).
pub fn ingress_class(ic: &net::IngressClass) -> ErrorList {
    let mut e = Vec::new();
    let sp = p("spec");
    let spec = ic.spec.clone().unwrap_or_default();
    let controller = ostr(&spec.controller);
    let cp = sp.child("controller");
    if controller.len() > 250 {
        e.push(too_long(&cp, 250));
    }
    e.extend(v::is_domain_prefixed_path(cp.as_str(), controller).into_iter().map(apimachinery::field::FieldError::from));
    if let Some(params) = &spec.parameters {
        e.extend(ingress_class_params(params, &sp.child("parameters")));
    }
    done(e)
}

/// IngressClass update: controller immutability plus the create rules.
pub fn ingress_class_update(new: &net::IngressClass, old: &net::IngressClass) -> ErrorList {
    let nc = new.spec.as_ref().and_then(|s| s.controller.clone()).unwrap_or_default();
    let oc = old.spec.as_ref().and_then(|s| s.controller.clone()).unwrap_or_default();
    let mut e = immutable(&nc, &oc, &p("spec").child("controller"));
    e.extend(ingress_class(new).0);
    done(e)
}
