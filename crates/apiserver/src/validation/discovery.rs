//! discovery.k8s.io/v1 EndpointSlices.

use std::collections::BTreeSet;

use apimachinery::field::{ErrorList, Path};
use apimachinery::validation as v;
use k8s_openapi::api::discovery::v1 as disc;

use super::common::*;

const ADDRESS_TYPES: &[&str] = &["FQDN", "IPv4", "IPv6"];
const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const MAX_TOPOLOGY_LABELS: usize = 16;
const MAX_ADDRESSES: usize = 100;
const MAX_PORTS: usize = 20000;
const MAX_ENDPOINTS: usize = 1000;
const MAX_ZONE_HINTS: usize = 8;

/// Go's `ip.To4() != nil`: an IPv4 address, or an IPv4-mapped IPv6 one.
fn is_v4(addr: &str) -> Option<bool> {
    match v::parse_ip_sloppy(addr)? {
        std::net::IpAddr::V4(_) => Some(true),
        std::net::IpAddr::V6(a) => Some(a.to_ipv4_mapped().is_some()),
    }
}

fn endpoints(eps: &[disc::Endpoint], addr_type: &str, path: &Path) -> Errs {
    let mut e = Vec::new();
    if eps.len() > MAX_ENDPOINTS {
        return vec![too_many(path, eps.len(), MAX_ENDPOINTS)];
    }
    for (i, ep) in eps.iter().enumerate() {
        let ip = path.index(i);
        let ap = ip.child("addresses");
        if ep.addresses.is_empty() {
            e.push(required(&ap, "must contain at least 1 address"));
        } else if ep.addresses.len() > MAX_ADDRESSES {
            e.push(too_many(&ap, ep.addresses.len(), MAX_ADDRESSES));
        }
        for (j, addr) in ep.addresses.iter().enumerate() {
            let xp = ap.index(j);
            match addr_type {
                "IPv4" => {
                    if is_v4(addr) == Some(true) {
                        e.extend(non_special_ip(addr, &xp));
                    } else {
                        e.push(invalid(&xp, addr.as_str(), "must be a valid IPv4 address"));
                    }
                }
                "IPv6" => {
                    if is_v4(addr) == Some(false) {
                        e.extend(non_special_ip(addr, &xp));
                    } else {
                        e.push(invalid(&xp, addr.as_str(), "must be a valid IPv6 address"));
                    }
                }
                "FQDN" => e.extend(fully_qualified_domain_name(addr, &xp)),
                _ => {}
            }
        }
        if let Some(n) = &ep.node_name {
            for m in v::name_is_dns_subdomain(n, false) {
                e.push(invalid(&ip.child("nodeName"), n.as_str(), m));
            }
        }
        let tp = ip.child("deprecatedTopology");
        if let Some(t) = &ep.deprecated_topology
            && t.len() > MAX_TOPOLOGY_LABELS
        {
            e.push(too_many(&tp, t.len(), MAX_TOPOLOGY_LABELS));
        }
        e.extend(labels(ep.deprecated_topology.as_ref(), &tp));
        if let Some(h) = &ep.hostname {
            e.extend(dns1123_label(h, &ip.child("hostname")));
        }
        if let Some(h) = &ep.hints {
            e.extend(hints(h, &ip.child("hints")));
        }
    }
    e
}

fn hints(h: &disc::EndpointHints, path: &Path) -> Errs {
    let mut e = Vec::new();
    let fp = path.child("forZones");
    let zones = sl(&h.for_zones);
    if zones.len() > MAX_ZONE_HINTS {
        return vec![too_many(&fp, zones.len(), MAX_ZONE_HINTS)];
    }
    let mut seen = BTreeSet::new();
    for (i, z) in zones.iter().enumerate() {
        let zp = fp.index(i).child("name");
        if !seen.insert(z.name.as_str()) {
            e.push(duplicate(&zp, z.name.as_str()));
        }
        e.extend(label_value(&z.name, &zp));
    }
    e
}

fn ports(list: &[disc::EndpointPort], path: &Path) -> Errs {
    let mut e = Vec::new();
    if list.len() > MAX_PORTS {
        return vec![too_many(path, list.len(), MAX_PORTS)];
    }
    let mut names = BTreeSet::new();
    for (i, port) in list.iter().enumerate() {
        let ip = path.index(i);
        let name = ostr(&port.name);
        if !name.is_empty() {
            e.extend(dns1123_label(name, &ip.child("name")));
        }
        if !names.insert(name) {
            e.push(duplicate(&ip.child("name"), name));
        }
        match port.protocol.as_deref() {
            None => e.push(required(&ip.child("protocol"), "")),
            Some(pr) if !PROTOCOLS.contains(&pr) => e.push(not_supported(&ip.child("protocol"), pr, PROTOCOLS)),
            _ => {}
        }
        if let Some(ap) = &port.app_protocol {
            e.extend(qualified_name(ap, &ip.child("appProtocol")));
        }
    }
    e
}

/// EndpointSlice create: addressType, endpoints (≤ 1000; 1–100 addresses valid for the
/// address type and not special IPs, nodeName, deprecatedTopology labels, hostname, zone
/// hints) and ports (≤ 20000, names, uniqueness, protocol, appProtocol).
pub fn endpoint_slice(es: &disc::EndpointSlice) -> ErrorList {
    let mut e = Vec::new();
    if es.address_type.is_empty() {
        e.push(required(&p("addressType"), ""));
    } else if !ADDRESS_TYPES.contains(&es.address_type.as_str()) {
        e.push(not_supported(&p("addressType"), es.address_type.as_str(), ADDRESS_TYPES));
    }
    e.extend(endpoints(&es.endpoints, &es.address_type, &p("endpoints")));
    e.extend(ports(sl(&es.ports), &p("ports")));
    done(e)
}

/// EndpointSlice update: the create rules plus addressType immutability.
pub fn endpoint_slice_update(new: &disc::EndpointSlice, old: &disc::EndpointSlice) -> ErrorList {
    let mut e = endpoint_slice(new).0;
    e.extend(immutable(&new.address_type, &old.address_type, &p("addressType")));
    done(e)
}
