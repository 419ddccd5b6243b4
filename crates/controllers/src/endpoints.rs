//! The endpoints controller (`endpoint-controller`): keeps an Endpoints object per Service with
//! a selector, listing the selected pods' IPs in `addresses` (ready) or `notReadyAddresses`
//! (honouring `publishNotReadyAddresses`), with node name, target reference, hostname (when the
//! pod's subdomain is the service) and the service ports resolved against the pods' named
//! container ports. Services without a selector are left alone (their Endpoints are the user's,
//! or the apiserver's own for `default/kubernetes`); a deleted service's Endpoints go.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::api::core::v1::{EndpointAddress, EndpointPort, EndpointSubset, Endpoints, ObjectReference, Pod, Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, DeleteParams, PostParams};

use crate::stores::{self, Wake};

/// Label the controllers put on the endpoints of headless services.
pub const HEADLESS_LABEL: &str = "service.kubernetes.io/headless";
/// Upstream's cap on the addresses of one Endpoints object.
pub const MAX_CAPACITY: usize = 1000;

/// A pod's resolved ports for a service: (name, port, protocol, appProtocol), sorted.
pub type PortKey = Vec<(String, i32, String, Option<String>)>;

/// Whether `pod` is selected by a service's `selector` (every pair present).
pub fn selects(selector: &BTreeMap<String, String>, pod: &Pod) -> bool {
    let labels = pod.metadata.labels.as_ref();
    selector.iter().all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// Whether a pod belongs in a service's endpoints at all (upstream's ShouldPodBeInEndpoints):
/// it has an IP, is not finished, and is not terminating unless `include_terminating`.
pub fn should_include(pod: &Pod, include_terminating: bool) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("");
    if phase == "Succeeded" || phase == "Failed" {
        return false;
    }
    if pod.status.as_ref().and_then(|s| s.pod_ip.as_deref()).unwrap_or("").is_empty() {
        return false;
    }
    include_terminating || pod.metadata.deletion_timestamp.is_none()
}

/// The port a service port targets on `pod`: a number, or the container port of that name.
pub fn resolve_port(sp: &ServicePort, pod: &Pod) -> Option<i32> {
    match &sp.target_port {
        None => Some(sp.port),
        Some(IntOrString::Int(p)) => Some(*p),
        Some(IntOrString::String(name)) => {
            if let Ok(p) = name.parse::<i32>() {
                return Some(p);
            }
            let proto = sp.protocol.as_deref().unwrap_or("TCP");
            pod.spec.as_ref()?.containers.iter().flat_map(|c| c.ports.iter().flatten()).find(|p| p.name.as_deref() == Some(name.as_str()) && p.protocol.as_deref().unwrap_or("TCP") == proto).map(|p| p.container_port)
        }
    }
}

/// The pod's hostname for a service's DNS records: set only when the pod names the service as
/// its subdomain.
pub fn hostname_for(pod: &Pod, svc: &Service) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    let host = spec.hostname.as_deref().filter(|h| !h.is_empty())?;
    (spec.subdomain.as_deref() == svc.metadata.name.as_deref() && pod.metadata.namespace == svc.metadata.namespace).then(|| host.to_string())
}

/// A reference to a pod.
pub fn pod_ref(pod: &Pod) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".into()),
        namespace: pod.metadata.namespace.clone(),
        name: pod.metadata.name.clone(),
        uid: pod.metadata.uid.clone(),
        ..Default::default()
    }
}

fn is_headless(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None")
}

/// The subsets of a service's Endpoints from the pods of its namespace, packed as upstream
/// (addresses with the same ports share a subset; everything sorted).
pub fn desired_subsets(svc: &Service, pods: &[&Pod]) -> Vec<EndpointSubset> {
    let Some(spec) = svc.spec.as_ref() else { return Vec::new() };
    let publish = spec.publish_not_ready_addresses.unwrap_or(false);
    let ports = spec.ports.clone().unwrap_or_default();
    // ports key → (ready addresses, not-ready addresses)
    type Addrs = (BTreeMap<String, EndpointAddress>, BTreeMap<String, EndpointAddress>);
    let mut groups: BTreeMap<PortKey, Addrs> = BTreeMap::new();
    for pod in pods {
        if !should_include(pod, publish) {
            continue;
        }
        let ip = pod.status.as_ref().and_then(|s| s.pod_ip.clone()).unwrap_or_default();
        let addr = EndpointAddress {
            ip: ip.clone(),
            hostname: hostname_for(pod, svc),
            node_name: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            target_ref: Some(pod_ref(pod)),
        };
        let ready = publish || stores::pod_ready(pod);
        let mut key = Vec::new();
        if ports.is_empty() {
            // headless without ports: addresses only
            if !is_headless(svc) {
                continue;
            }
        } else {
            for sp in &ports {
                let Some(p) = resolve_port(sp, pod) else { continue };
                key.push((sp.name.clone().unwrap_or_default(), p, sp.protocol.clone().unwrap_or_else(|| "TCP".into()), sp.app_protocol.clone()));
            }
            if key.is_empty() {
                continue;
            }
            key.sort();
        }
        let g = groups.entry(key).or_default();
        if ready {
            g.0.insert(ip, addr);
        } else {
            g.1.insert(ip, addr);
        }
    }
    groups
        .into_iter()
        .map(|(key, (ready, not_ready))| EndpointSubset {
            addresses: (!ready.is_empty()).then(|| ready.into_values().collect()),
            not_ready_addresses: (!not_ready.is_empty()).then(|| not_ready.into_values().collect()),
            ports: (!key.is_empty()).then(|| {
                key.into_iter()
                    .map(|(name, port, protocol, app_protocol)| EndpointPort { name: (!name.is_empty()).then_some(name), port, protocol: Some(protocol), app_protocol })
                    .collect()
            }),
        })
        .collect()
}

/// The labels of a service's Endpoints: the service's, plus the headless marker.
pub fn endpoint_labels(svc: &Service) -> BTreeMap<String, String> {
    let mut l = svc.metadata.labels.clone().unwrap_or_default();
    if is_headless(svc) {
        l.insert(HEADLESS_LABEL.into(), String::new());
    } else {
        l.remove(HEADLESS_LABEL);
    }
    l
}

fn normalized(s: &Option<Vec<EndpointSubset>>) -> Vec<EndpointSubset> {
    s.clone().unwrap_or_default()
}

/// Whether a service selects pods (only those get endpoints from this controller).
pub(crate) fn has_selector(svc: &Service) -> bool {
    svc.spec.as_ref().is_some_and(|s| s.selector.is_some())
}

/// The pods of the namespaces where a service selects pods (none when no service does).
pub(crate) fn pods_by_namespace(pods: &kube::runtime::reflector::Store<Pod>, svcs: &[std::sync::Arc<Service>]) -> Vec<std::sync::Arc<Pod>> {
    let namespaces: BTreeSet<&str> = svcs.iter().filter(|s| has_selector(s)).map(|s| s.metadata.namespace.as_deref().unwrap_or("")).collect();
    if namespaces.is_empty() {
        return Vec::new();
    }
    let mut v = pods.state();
    v.retain(|p| namespaces.contains(p.metadata.namespace.as_deref().unwrap_or("")));
    v
}

/// Pods by namespace (borrowing).
pub(crate) fn index_by_namespace(pods: &[std::sync::Arc<Pod>]) -> BTreeMap<&str, Vec<&Pod>> {
    let mut by_ns: BTreeMap<&str, Vec<&Pod>> = BTreeMap::new();
    for p in pods {
        by_ns.entry(p.metadata.namespace.as_deref().unwrap_or("")).or_default().push(p.as_ref());
    }
    by_ns
}

/// Runs the endpoints controller until the process ends.
pub async fn run(informers: stores::Informers, client: kube::Client) {
    let wake = Wake::new();
    let services = informers.watch::<Service>(&wake);
    let pods = informers.subscribe::<Pod, _>(stores::wake_in_namespaces_of(&wake, &services, has_selector));
    let endpoints = informers.watch::<Endpoints>(&wake);
    stores::ready(&services).await;
    stores::ready(&pods).await;
    stores::ready(&endpoints).await;
    let mut known: BTreeSet<String> = services.state().iter().map(|s| stores::key(s.as_ref())).collect();
    loop {
        let mut retry = false;
        let svcs = services.state();
        let all_pods = pods_by_namespace(&pods, &svcs);
        let by_ns = index_by_namespace(&all_pods);
        let current: BTreeSet<String> = svcs.iter().map(|s| stores::key(s.as_ref())).collect();
        // services that went away: their endpoints go too
        for gone in known.difference(&current) {
            let Some((ns, name)) = gone.split_once('/') else { continue };
            let api: Api<Endpoints> = Api::namespaced(client.clone(), ns);
            match api.delete(name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(e) if stores::not_found(&e) => {}
                Err(e) => {
                    tracing::debug!(service = %gone, error = %e, "deleting endpoints");
                    retry = true;
                }
            }
        }
        known = current;
        let existing: BTreeMap<String, std::sync::Arc<Endpoints>> = endpoints.state().into_iter().map(|e| (stores::key(e.as_ref()), e)).collect();
        for svc in &svcs {
            let Some(selector) = svc.spec.as_ref().and_then(|s| s.selector.clone()) else { continue };
            if svc.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let ns = svc.metadata.namespace.clone().unwrap_or_default();
            let name = svc.metadata.name.clone().unwrap_or_default();
            let selected: Vec<&Pod> = by_ns.get(ns.as_str()).map(|v| v.iter().copied().filter(|p| selects(&selector, p)).collect()).unwrap_or_default();
            let mut subsets = desired_subsets(svc, &selected);
            let mut annotations = BTreeMap::new();
            let total: usize = subsets.iter().map(|s| s.addresses.as_ref().map_or(0, Vec::len) + s.not_ready_addresses.as_ref().map_or(0, Vec::len)).sum();
            if total > MAX_CAPACITY {
                annotations.insert("endpoints.kubernetes.io/over-capacity".to_string(), "truncated".to_string());
                let mut left = MAX_CAPACITY;
                for s in subsets.iter_mut() {
                    for list in [&mut s.addresses, &mut s.not_ready_addresses] {
                        if let Some(v) = list.as_mut() {
                            v.truncate(left);
                            left -= v.len();
                        }
                    }
                }
            }
            let labels = endpoint_labels(svc);
            let key = stores::key(svc.as_ref());
            let api: Api<Endpoints> = Api::namespaced(client.clone(), &ns);
            let result = match existing.get(&key) {
                Some(cur) => {
                    let cur_ann: BTreeMap<String, String> = cur.metadata.annotations.clone().unwrap_or_default().into_iter().filter(|(k, _)| k == "endpoints.kubernetes.io/over-capacity").collect();
                    if normalized(&cur.subsets) == subsets && cur.metadata.labels.clone().unwrap_or_default() == labels && cur_ann == annotations {
                        continue;
                    }
                    let mut next = (**cur).clone();
                    next.subsets = Some(subsets);
                    next.metadata.labels = Some(labels);
                    let ann = next.metadata.annotations.get_or_insert_with(Default::default);
                    ann.remove("endpoints.kubernetes.io/over-capacity");
                    ann.extend(annotations);
                    api.replace(&name, &PostParams::default(), &next).await.map(|_| ())
                }
                None => {
                    let mut ep = Endpoints { subsets: Some(subsets), ..Default::default() };
                    ep.metadata.name = Some(name.clone());
                    ep.metadata.namespace = Some(ns.clone());
                    ep.metadata.labels = Some(labels);
                    if !annotations.is_empty() {
                        ep.metadata.annotations = Some(annotations);
                    }
                    api.create(&PostParams::default(), &ep).await.map(|_| ())
                }
            };
            if let Err(e) = result {
                tracing::debug!(service = %key, error = %e, "writing endpoints");
                retry = true;
            }
        }
        let timeout = if retry { Duration::from_secs(1) } else { Duration::from_secs(60) };
        wake.wait(timeout, Duration::from_millis(20)).await;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, ContainerPort, PodCondition, PodSpec, PodStatus, ServiceSpec};

    pub(crate) fn pod(name: &str, ip: &str, ready: bool) -> Pod {
        let mut p = Pod::default();
        p.metadata.name = Some(name.into());
        p.metadata.namespace = Some("ns".into());
        p.metadata.uid = Some(format!("uid-{name}"));
        p.metadata.labels = Some([("app".to_string(), "web".to_string())].into());
        p.spec = Some(PodSpec {
            node_name: Some("node-1".into()),
            containers: vec![Container {
                name: "c".into(),
                ports: Some(vec![ContainerPort { name: Some("http".into()), container_port: 8080, protocol: Some("TCP".into()), ..Default::default() }]),
                ..Default::default()
            }],
            ..Default::default()
        });
        p.status = Some(PodStatus {
            phase: Some("Running".into()),
            pod_ip: Some(ip.into()),
            conditions: Some(vec![PodCondition { type_: "Ready".into(), status: if ready { "True" } else { "False" }.into(), ..Default::default() }]),
            ..Default::default()
        });
        p
    }

    pub(crate) fn svc(publish: bool) -> Service {
        let mut s = Service::default();
        s.metadata.name = Some("web".into());
        s.metadata.namespace = Some("ns".into());
        s.spec = Some(ServiceSpec {
            selector: Some([("app".to_string(), "web".to_string())].into()),
            publish_not_ready_addresses: Some(publish),
            ports: Some(vec![ServicePort { name: Some("http".into()), port: 80, target_port: Some(IntOrString::String("http".into())), protocol: Some("TCP".into()), ..Default::default() }]),
            ..Default::default()
        });
        s
    }

    #[test]
    fn ready_and_not_ready_addresses() {
        let (a, b) = (pod("a", "10.42.0.5", true), pod("b", "10.42.0.6", false));
        let subsets = desired_subsets(&svc(false), &[&a, &b]);
        assert_eq!(subsets.len(), 1);
        let s = &subsets[0];
        assert_eq!(s.addresses.as_ref().unwrap()[0].ip, "10.42.0.5");
        assert_eq!(s.addresses.as_ref().unwrap()[0].target_ref.as_ref().unwrap().name.as_deref(), Some("a"));
        assert_eq!(s.not_ready_addresses.as_ref().unwrap()[0].ip, "10.42.0.6");
        assert_eq!(s.ports.as_ref().unwrap()[0].port, 8080, "named target port resolved");
        // publishNotReadyAddresses: everything is an address
        let subsets = desired_subsets(&svc(true), &[&a, &b]);
        assert_eq!(subsets[0].addresses.as_ref().unwrap().len(), 2);
        assert!(subsets[0].not_ready_addresses.is_none());
    }

    #[test]
    fn excluded_pods_and_ports() {
        let mut done = pod("done", "10.42.0.7", true);
        done.status.as_mut().unwrap().phase = Some("Succeeded".into());
        let noip = pod("noip", "", true);
        let mut other = pod("other", "10.42.0.8", true);
        other.spec.as_mut().unwrap().containers[0].ports = None;
        let mut term = pod("term", "10.42.0.9", true);
        term.metadata.deletion_timestamp = Some(stores::now());
        assert!(desired_subsets(&svc(false), &[&done, &noip, &other, &term]).is_empty());
        // a numeric target port needs no container port
        let mut s = svc(false);
        s.spec.as_mut().unwrap().ports.as_mut().unwrap()[0].target_port = Some(IntOrString::Int(9090));
        assert_eq!(desired_subsets(&s, &[&other])[0].ports.as_ref().unwrap()[0].port, 9090);
    }

    #[test]
    fn hostname_only_under_the_service_subdomain() {
        let mut p = pod("a", "10.42.0.5", true);
        p.spec.as_mut().unwrap().hostname = Some("a".into());
        assert_eq!(hostname_for(&p, &svc(false)), None);
        p.spec.as_mut().unwrap().subdomain = Some("web".into());
        assert_eq!(hostname_for(&p, &svc(false)).as_deref(), Some("a"));
    }
}
