//! The EndpointSlice controller (`endpointslice-controller`): for every Service with a selector,
//! EndpointSlices (addressType IPv4, at most `MAX_ENDPOINTS_PER_SLICE` endpoints each, owned by
//! the service) labelled `kubernetes.io/service-name` and
//! `endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io`, one endpoint per
//! selected pod with conditions ready/serving/terminating, node name, zone, hostname and target
//! reference, and the ports resolved per pod (pods resolving named ports differently land in
//! different slices). A service with no endpoints keeps one empty placeholder slice. Services
//! without a selector are left alone.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::reflector::ObjectRef;

use crate::endpoints::{self as ep, HEADLESS_LABEL};
use crate::stores::{self, Wake};

/// Label naming the service of a slice.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// Label naming the manager of a slice.
pub const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
/// This controller's value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY: &str = "endpointslice-controller.k8s.io";
/// Upstream's default `--max-endpoints-per-slice`.
pub const MAX_ENDPOINTS_PER_SLICE: usize = 100;

/// One port set and the endpoints sharing it.
pub type PortGroup = (Vec<EndpointPort>, Vec<Endpoint>);

/// The endpoints of a service from the selected pods, grouped by resolved ports (sorted by
/// address within each group). `zone_of` maps a node name to its zone.
pub fn desired_groups(svc: &Service, pods: &[&Pod], zone_of: &dyn Fn(&str) -> Option<String>) -> Vec<PortGroup> {
    let Some(spec) = svc.spec.as_ref() else { return Vec::new() };
    let publish = spec.publish_not_ready_addresses.unwrap_or(false);
    let ports = spec.ports.clone().unwrap_or_default();
    let mut groups: BTreeMap<ep::PortKey, Vec<Endpoint>> = BTreeMap::new();
    for pod in pods {
        if !ep::should_include(pod, true) {
            continue;
        }
        let ip = pod.status.as_ref().and_then(|s| s.pod_ip.clone()).unwrap_or_default();
        if ip.parse::<std::net::Ipv4Addr>().is_err() {
            continue;
        }
        let mut key = Vec::new();
        for sp in &ports {
            let Some(p) = ep::resolve_port(sp, pod) else { continue };
            key.push((sp.name.clone().unwrap_or_default(), p, sp.protocol.clone().unwrap_or_else(|| "TCP".into()), sp.app_protocol.clone()));
        }
        if !ports.is_empty() && key.is_empty() {
            continue;
        }
        key.sort();
        let terminating = pod.metadata.deletion_timestamp.is_some();
        let serving = publish || stores::pod_ready(pod);
        let node_name = pod.spec.as_ref().and_then(|s| s.node_name.clone());
        groups.entry(key).or_default().push(Endpoint {
            addresses: vec![ip],
            conditions: Some(EndpointConditions { ready: Some(serving && (publish || !terminating)), serving: Some(serving), terminating: Some(terminating) }),
            hostname: ep::hostname_for(pod, svc),
            zone: node_name.as_deref().and_then(zone_of),
            node_name,
            target_ref: Some(ep::pod_ref(pod)),
            ..Default::default()
        });
    }
    groups
        .into_iter()
        .map(|(key, mut eps)| {
            eps.sort_by(|a, b| a.addresses.cmp(&b.addresses));
            let ports = key
                .into_iter()
                .map(|(name, port, protocol, app_protocol)| EndpointPort { name: Some(name), port: Some(port), protocol: Some(protocol), app_protocol })
                .collect();
            (ports, eps)
        })
        .collect()
}

/// What each slice of a service should hold: the groups split into chunks of at most `max`
/// endpoints; a single empty placeholder (no ports) when there are no endpoints.
pub fn chunk(groups: Vec<PortGroup>, max: usize) -> Vec<PortGroup> {
    let mut out = Vec::new();
    for (ports, eps) in groups {
        for c in eps.chunks(max.max(1)) {
            out.push((ports.clone(), c.to_vec()));
        }
    }
    if out.is_empty() {
        out.push((Vec::new(), Vec::new()));
    }
    out
}

/// The labels of a service's slices.
pub fn slice_labels(svc: &Service) -> BTreeMap<String, String> {
    let mut l = ep::endpoint_labels(svc);
    l.remove(MANAGED_BY_LABEL);
    l.insert(SERVICE_NAME_LABEL.into(), svc.metadata.name.clone().unwrap_or_default());
    l.insert(MANAGED_BY_LABEL.into(), MANAGED_BY.into());
    if !l.contains_key(HEADLESS_LABEL) {
        l.remove(HEADLESS_LABEL);
    }
    l
}

fn owner(svc: &Service) -> OwnerReference {
    OwnerReference {
        api_version: "v1".into(),
        kind: "Service".into(),
        name: svc.metadata.name.clone().unwrap_or_default(),
        uid: svc.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

fn slice_ports(s: &EndpointSlice) -> Vec<EndpointPort> {
    s.ports.clone().unwrap_or_default()
}

/// Pairs the desired chunks with existing slices: a slice with the same ports is reused (the
/// one sharing most addresses first); returns (updates as (existing index, chunk), creates,
/// deletes as existing indices).
pub fn plan(existing: &[EndpointSlice], desired: Vec<PortGroup>) -> (Vec<(usize, PortGroup)>, Vec<PortGroup>, Vec<usize>) {
    let mut free: BTreeSet<usize> = (0..existing.len()).collect();
    let (mut updates, mut creates) = (Vec::new(), Vec::new());
    for (ports, eps) in desired {
        let addrs: BTreeSet<&String> = eps.iter().flat_map(|e| e.addresses.iter()).collect();
        let best = free
            .iter()
            .copied()
            .filter(|&i| slice_ports(&existing[i]) == ports)
            .max_by_key(|&i| existing[i].endpoints.iter().flat_map(|e| e.addresses.iter()).filter(|a| addrs.contains(a)).count());
        match best {
            Some(i) => {
                free.remove(&i);
                updates.push((i, (ports, eps)));
            }
            None => creates.push((ports, eps)),
        }
    }
    (updates, creates, free.into_iter().collect())
}

fn service_prefix(name: &str) -> String {
    let mut p: String = name.chars().take(57).collect();
    p.push('-');
    p
}

fn zone_label(n: &Node) -> Option<String> {
    n.metadata.labels.as_ref().and_then(|l| l.get("topology.kubernetes.io/zone").cloned())
}

/// Runs the EndpointSlice controller until the process ends.
pub async fn run(informers: stores::Informers, client: kube::Client) {
    let wake = Wake::new();
    let services = informers.watch::<Service>(&wake);
    let pods = informers.subscribe::<Pod, _>(stores::wake_in_namespaces_of(&wake, &services, ep::has_selector));
    // nodes matter for their zone only
    let nodes = informers.subscribe::<Node, _>(stores::wake_on_change(&wake, |n: &Node| zone_label(n)));
    let slices = informers.watch::<EndpointSlice>(&wake);
    stores::ready(&services).await;
    stores::ready(&pods).await;
    stores::ready(&nodes).await;
    stores::ready(&slices).await;
    loop {
        let mut retry = false;
        let svcs = services.state();
        let all_pods = ep::pods_by_namespace(&pods, &svcs);
        let by_ns = ep::index_by_namespace(&all_pods);
        let mut owned: BTreeMap<String, Vec<EndpointSlice>> = BTreeMap::new();
        for s in slices.state() {
            let labels = s.metadata.labels.clone().unwrap_or_default();
            if labels.get(MANAGED_BY_LABEL).map(String::as_str) != Some(MANAGED_BY) {
                continue;
            }
            let Some(svc) = labels.get(SERVICE_NAME_LABEL) else { continue };
            owned.entry(format!("{}/{svc}", s.metadata.namespace.clone().unwrap_or_default())).or_default().push((*s).clone());
        }
        let zone_of = |n: &str| -> Option<String> {
            nodes.get(&ObjectRef::new(n)).and_then(|node| node.metadata.labels.as_ref().and_then(|l| l.get("topology.kubernetes.io/zone").cloned()))
        };
        let mut handled = BTreeSet::new();
        for svc in svcs {
            let Some(selector) = svc.spec.as_ref().and_then(|s| s.selector.clone()) else { continue };
            if svc.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let key = stores::key(svc.as_ref());
            handled.insert(key.clone());
            let ns = svc.metadata.namespace.clone().unwrap_or_default();
            let selected: Vec<&Pod> = by_ns.get(ns.as_str()).map(|v| v.iter().copied().filter(|p| ep::selects(&selector, p)).collect()).unwrap_or_default();
            let desired = chunk(desired_groups(&svc, &selected, &zone_of), MAX_ENDPOINTS_PER_SLICE);
            let existing = owned.remove(&key).unwrap_or_default();
            if let Err(e) = sync_service(&client, &svc, &existing, desired).await {
                tracing::debug!(service = %key, error = %e, "endpoint slices");
                retry = true;
            }
        }
        // slices of services that are gone (the garbage collector would take them too)
        for (key, list) in owned {
            if handled.contains(&key) {
                continue;
            }
            for s in list {
                let ns = s.metadata.namespace.clone().unwrap_or_default();
                let api: Api<EndpointSlice> = Api::namespaced(client.clone(), &ns);
                if let Some(name) = s.metadata.name.as_deref()
                    && let Err(e) = api.delete(name, &DeleteParams::default()).await
                    && !stores::not_found(&e)
                {
                    retry = true;
                }
            }
        }
        let timeout = if retry { Duration::from_secs(1) } else { Duration::from_secs(60) };
        wake.wait(timeout, Duration::from_millis(20)).await;
    }
}

async fn sync_service(client: &kube::Client, svc: &Service, existing: &[EndpointSlice], desired: Vec<PortGroup>) -> Result<(), kube::Error> {
    let ns = svc.metadata.namespace.clone().unwrap_or_default();
    let name = svc.metadata.name.clone().unwrap_or_default();
    let api: Api<EndpointSlice> = Api::namespaced(client.clone(), &ns);
    let labels = slice_labels(svc);
    let owner = owner(svc);
    let (updates, creates, deletes) = plan(existing, desired);
    for (i, (ports, eps)) in updates {
        let cur = &existing[i];
        let want_ports = (!ports.is_empty()).then_some(ports);
        let same = cur.endpoints == eps
            && cur.ports == want_ports
            && cur.metadata.labels.clone().unwrap_or_default() == labels
            && cur.metadata.owner_references.as_ref().is_some_and(|o| o.iter().any(|o| o.uid == owner.uid));
        if same {
            continue;
        }
        let mut next = cur.clone();
        next.endpoints = eps;
        next.ports = want_ports;
        next.metadata.labels = Some(labels.clone());
        next.metadata.owner_references = Some(vec![owner.clone()]);
        api.replace(cur.metadata.name.as_deref().unwrap_or_default(), &PostParams::default(), &next).await?;
    }
    for (ports, eps) in creates {
        let mut s = EndpointSlice { address_type: "IPv4".into(), endpoints: eps, ports: (!ports.is_empty()).then_some(ports), ..Default::default() };
        s.metadata.generate_name = Some(service_prefix(&name));
        s.metadata.namespace = Some(ns.clone());
        s.metadata.labels = Some(labels.clone());
        s.metadata.owner_references = Some(vec![owner.clone()]);
        api.create(&PostParams::default(), &s).await?;
    }
    for i in deletes {
        if let Some(n) = existing[i].metadata.name.as_deref() {
            match api.delete(n, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(e) if stores::not_found(&e) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::tests::{pod, svc};

    #[test]
    fn conditions_of_endpoints() {
        let a = pod("a", "10.42.0.5", true);
        let b = pod("b", "10.42.0.6", false);
        let mut c = pod("c", "10.42.0.7", true);
        c.metadata.deletion_timestamp = Some(stores::now());
        let groups = desired_groups(&svc(false), &[&a, &b, &c], &|_| Some("zone-0".into()));
        assert_eq!(groups.len(), 1);
        let (ports, eps) = &groups[0];
        assert_eq!(ports[0].port, Some(8080));
        let cond = |i: usize| eps[i].conditions.clone().unwrap();
        assert_eq!((cond(0).ready, cond(0).serving, cond(0).terminating), (Some(true), Some(true), Some(false)));
        assert_eq!((cond(1).ready, cond(1).serving, cond(1).terminating), (Some(false), Some(false), Some(false)));
        assert_eq!((cond(2).ready, cond(2).serving, cond(2).terminating), (Some(false), Some(true), Some(true)), "terminating but serving");
        assert_eq!(eps[0].zone.as_deref(), Some("zone-0"));
        assert_eq!(eps[0].node_name.as_deref(), Some("node-1"));
        assert_eq!(eps[0].target_ref.as_ref().unwrap().uid.as_deref(), Some("uid-a"));
    }

    #[test]
    fn at_most_a_hundred_per_slice_and_a_placeholder() {
        let pods: Vec<Pod> = (0..250).map(|i| pod(&format!("p{i}"), &format!("10.42.{}.{}", i / 200, i % 200 + 1), true)).collect();
        let refs: Vec<&Pod> = pods.iter().collect();
        let chunks = chunk(desired_groups(&svc(false), &refs, &|_| None), MAX_ENDPOINTS_PER_SLICE);
        assert_eq!(chunks.iter().map(|c| c.1.len()).collect::<Vec<_>>(), vec![100, 100, 50]);
        let empty = chunk(desired_groups(&svc(false), &[], &|_| None), MAX_ENDPOINTS_PER_SLICE);
        assert_eq!(empty.len(), 1);
        assert!(empty[0].0.is_empty() && empty[0].1.is_empty());
    }

    #[test]
    fn plan_reuses_slices_with_the_same_ports() {
        let a = pod("a", "10.42.0.5", true);
        let desired = chunk(desired_groups(&svc(false), &[&a], &|_| None), MAX_ENDPOINTS_PER_SLICE);
        let placeholder = EndpointSlice { address_type: "IPv4".into(), ..Default::default() };
        // the placeholder has other (no) ports: a new slice, the placeholder goes
        let (u, c, d) = plan(std::slice::from_ref(&placeholder), desired.clone());
        assert_eq!((u.len(), c.len(), d), (0, 1, vec![0]));
        let same = EndpointSlice { address_type: "IPv4".into(), ports: Some(desired[0].0.clone()), ..Default::default() };
        let (u, c, d) = plan(&[placeholder, same], desired);
        assert_eq!((u.len(), c.len(), d), (1, 0, vec![0]));
        assert_eq!(u[0].0, 1);
    }

    #[test]
    fn labels() {
        let mut s = svc(false);
        s.spec.as_mut().unwrap().cluster_ip = Some("None".into());
        let l = slice_labels(&s);
        assert_eq!(l.get(SERVICE_NAME_LABEL).map(String::as_str), Some("web"));
        assert_eq!(l.get(MANAGED_BY_LABEL).map(String::as_str), Some(MANAGED_BY));
        assert_eq!(l.get(HEADLESS_LABEL).map(String::as_str), Some(""));
    }
}
