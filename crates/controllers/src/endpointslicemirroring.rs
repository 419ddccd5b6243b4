//! The EndpointSlice mirroring controller (`endpointslicemirroring-controller`): the Endpoints
//! a user writes for a Service without a selector are mirrored into EndpointSlices (labelled
//! `endpointslice.kubernetes.io/managed-by: endpointslicemirroring-controller.k8s.io` and
//! `kubernetes.io/service-name`, owned by the Endpoints), so that consumers of EndpointSlices
//! see them, as upstream.
//!
//! Mirrored: Endpoints whose Service exists and has no selector, unless labelled
//! `endpointslice.kubernetes.io/skip-mirror: "true"` or holding a leader-election annotation.
//! Each subset becomes slices of its ports, split by address family, at most 1000 endpoints
//! each; ready addresses are `ready: true`, not-ready ones `ready: false`. Slices that no longer
//! mirror anything are deleted.
//!
//! It must not touch slices other controllers manage (those of Services with selectors).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{EndpointAddress, Endpoints, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, PostParams};
use kube::ResourceExt;

use crate::endpointslice::{MANAGED_BY_LABEL, PortGroup, SERVICE_NAME_LABEL, chunk, plan};
use crate::stores::{self, Informers, Wake};

/// This controller's value of the managed-by label.
pub const MANAGED_BY: &str = "endpointslicemirroring-controller.k8s.io";
/// Label: do not mirror these Endpoints.
pub const SKIP_MIRROR: &str = "endpointslice.kubernetes.io/skip-mirror";
/// Endpoints used for leader election (never mirrored).
const LEADER_ANNOTATION: &str = "control-plane.alpha.kubernetes.io/leader";
/// How long created slices may stay unseen by the cache before the Endpoints are synced anyway.
const EXPECTATION_TIMEOUT: Duration = Duration::from_secs(10);
/// Endpoints per mirrored slice (upstream's `--mirroring-max-endpoints-per-subset`).
pub const MAX_PER_SLICE: usize = 1000;

/// Whether these Endpoints are mirrored, given their Service.
pub fn mirrored(ep: &Endpoints, svc: Option<&Service>) -> bool {
    let skip = ep.metadata.labels.as_ref().is_some_and(|l| l.get(SKIP_MIRROR).map(String::as_str) == Some("true"));
    let leader = ep.metadata.annotations.as_ref().is_some_and(|a| a.contains_key(LEADER_ANNOTATION));
    let selectorless = svc.is_some_and(|s| s.metadata.deletion_timestamp.is_none() && s.spec.as_ref().and_then(|sp| sp.selector.as_ref()).is_none());
    selectorless && !skip && !leader && ep.metadata.deletion_timestamp.is_none()
}

fn family(ip: &str) -> &'static str {
    if ip.contains(':') { "IPv6" } else { "IPv4" }
}

fn endpoint(a: &EndpointAddress, ready: bool) -> Endpoint {
    Endpoint {
        addresses: vec![a.ip.clone()],
        conditions: Some(EndpointConditions { ready: Some(ready), serving: None, terminating: None }),
        hostname: a.hostname.clone(),
        node_name: a.node_name.clone(),
        target_ref: a.target_ref.clone(),
        ..Default::default()
    }
}

/// The slices' contents by address family: (ports, endpoints) groups, subsets with the same
/// ports merged, chunked at [`MAX_PER_SLICE`].
pub fn desired(ep: &Endpoints) -> BTreeMap<&'static str, Vec<PortGroup>> {
    let mut by: BTreeMap<&'static str, Vec<PortGroup>> = BTreeMap::new();
    for subset in ep.subsets.iter().flatten() {
        let mut ports: Vec<EndpointPort> = subset
            .ports
            .iter()
            .flatten()
            // as the API stores them (name "" and protocol TCP when unset), so that an unchanged
            // slice compares equal and is left alone
            .map(|p| EndpointPort {
                name: Some(p.name.clone().unwrap_or_default()),
                port: Some(p.port),
                protocol: p.protocol.clone().or(Some("TCP".into())),
                app_protocol: p.app_protocol.clone(),
            })
            .collect();
        ports.sort_by(|a, b| (&a.name, a.port).cmp(&(&b.name, b.port)));
        let all = subset.addresses.iter().flatten().map(|a| (a, true)).chain(subset.not_ready_addresses.iter().flatten().map(|a| (a, false)));
        for (a, ready) in all {
            let groups = by.entry(family(&a.ip)).or_default();
            let e = endpoint(a, ready);
            match groups.iter_mut().find(|(p, _)| *p == ports) {
                Some((_, eps)) => {
                    if !eps.iter().any(|x| x.addresses == e.addresses) {
                        eps.push(e);
                    }
                }
                None => groups.push((ports.clone(), vec![e])),
            }
        }
    }
    by.into_iter().map(|(f, groups)| (f, chunk(groups, MAX_PER_SLICE))).collect()
}

fn owner(ep: &Endpoints) -> OwnerReference {
    OwnerReference {
        api_version: "v1".into(),
        kind: "Endpoints".into(),
        name: ep.name_any(),
        uid: ep.uid().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

fn labels(ep: &Endpoints) -> BTreeMap<String, String> {
    let mut l = ep.metadata.labels.clone().unwrap_or_default();
    l.remove(SKIP_MIRROR);
    l.insert(SERVICE_NAME_LABEL.into(), ep.name_any());
    l.insert(MANAGED_BY_LABEL.into(), MANAGED_BY.into());
    l
}

/// Runs the controller with its own identity (reading the shared informers) until the process
/// ends.
pub async fn run(informers: Informers, client: kube::Client) {
    let wake = Wake::new();
    let endpoints = informers.watch::<Endpoints>(&wake);
    let services = informers.watch::<Service>(&wake);
    let slices = informers.watch::<EndpointSlice>(&wake);
    stores::ready(&endpoints).await;
    stores::ready(&services).await;
    stores::ready(&slices).await;
    // slices this controller created that the cache may not show yet (upstream's expectations):
    // until it does, their Endpoints are left alone, or a second pass would create them again
    let mut created: HashMap<String, (Instant, BTreeSet<String>)> = HashMap::new();
    loop {
        let retry = sync(&client, &endpoints.state(), &services.state(), &slices.state(), &mut created).await;
        let timeout = if retry { Duration::from_secs(1) } else { Duration::from_secs(60) };
        wake.wait(timeout, Duration::from_millis(20)).await;
    }
}

/// One pass; true when something failed and should be tried again soon.
async fn sync(
    client: &kube::Client,
    endpoints: &[Arc<Endpoints>],
    services: &[Arc<Service>],
    slices: &[Arc<EndpointSlice>],
    created: &mut HashMap<String, (Instant, BTreeSet<String>)>,
) -> bool {
    let key = |ns: Option<&String>, name: &str| format!("{}/{name}", ns.map(String::as_str).unwrap_or(""));
    let svcs: BTreeMap<String, &Service> = services.iter().map(|s| (key(s.metadata.namespace.as_ref(), &s.name_any()), s.as_ref())).collect();
    let mut ours: BTreeMap<String, Vec<EndpointSlice>> = BTreeMap::new();
    for s in slices {
        let l = s.metadata.labels.clone().unwrap_or_default();
        if l.get(MANAGED_BY_LABEL).map(String::as_str) != Some(MANAGED_BY) {
            continue;
        }
        let Some(svc) = l.get(SERVICE_NAME_LABEL) else { continue };
        ours.entry(key(s.metadata.namespace.as_ref(), svc)).or_default().push((**s).clone());
    }
    let mut retry = false;
    for ep in endpoints {
        let k = key(ep.metadata.namespace.as_ref(), &ep.name_any());
        if !mirrored(ep, svcs.get(&k).copied()) {
            continue;
        }
        let existing = ours.remove(&k).unwrap_or_default();
        if let Some((at, names)) = created.get(&k) {
            let seen: BTreeSet<String> = existing.iter().map(|s| s.name_any()).collect();
            if !names.is_subset(&seen) && at.elapsed() < EXPECTATION_TIMEOUT {
                retry = true;
                continue;
            }
            created.remove(&k);
        }
        match mirror(client, ep, existing).await {
            Ok(names) if !names.is_empty() => {
                created.insert(k, (Instant::now(), names));
            }
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(endpoints = %k, error = %e, "mirroring");
                retry = true;
            }
        }
    }
    // what is left mirrors nothing any more
    for s in ours.into_values().flatten() {
        let api: Api<EndpointSlice> = Api::namespaced(client.clone(), &s.namespace().unwrap_or_default());
        if let Err(e) = api.delete(&s.name_any(), &DeleteParams::default()).await
            && !stores::not_found(&e)
        {
            retry = true;
        }
    }
    retry
}

/// Makes the Endpoints' slices match them; returns the names of the slices it created.
async fn mirror(client: &kube::Client, ep: &Endpoints, existing: Vec<EndpointSlice>) -> Result<BTreeSet<String>, kube::Error> {
    let mut made = BTreeSet::new();
    let ns = ep.namespace().unwrap_or_default();
    let api: Api<EndpointSlice> = Api::namespaced(client.clone(), &ns);
    let (labels, owner) = (labels(ep), owner(ep));
    let want = desired(ep);
    let families: BTreeSet<&str> = want.keys().copied().chain(existing.iter().map(|s| s.address_type.as_str())).collect();
    for fam in families {
        let mine: Vec<EndpointSlice> = existing.iter().filter(|s| s.address_type == fam).cloned().collect();
        let (updates, creates, deletes) = plan(&mine, want.get(fam).cloned().unwrap_or_default());
        for (i, (ports, eps)) in updates {
            let cur = &mine[i];
            let ports = (!ports.is_empty()).then_some(ports);
            if cur.endpoints == eps && cur.ports == ports && cur.metadata.labels.as_ref() == Some(&labels) {
                continue;
            }
            let mut next = cur.clone();
            next.endpoints = eps;
            next.ports = ports;
            next.metadata.labels = Some(labels.clone());
            next.metadata.owner_references = Some(vec![owner.clone()]);
            api.replace(&cur.name_any(), &PostParams::default(), &next).await?;
        }
        for (ports, eps) in creates {
            let mut s = EndpointSlice { address_type: fam.into(), endpoints: eps, ports: (!ports.is_empty()).then_some(ports), ..Default::default() };
            let prefix: String = ep.name_any().chars().take(57).collect();
            s.metadata.generate_name = Some(format!("{prefix}-"));
            s.metadata.namespace = Some(ns.clone());
            s.metadata.labels = Some(labels.clone());
            s.metadata.owner_references = Some(vec![owner.clone()]);
            made.insert(api.create(&PostParams::default(), &s).await?.name_any());
        }
        for i in deletes {
            match api.delete(&mine[i].name_any(), &DeleteParams::default()).await {
                Ok(_) => {}
                Err(e) if stores::not_found(&e) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eps(v: serde_json::Value) -> Endpoints {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn subsets_become_groups_by_family_and_ports() {
        let ep = eps(serde_json::json!({
            "metadata": {"name": "ext", "namespace": "default"},
            "subsets": [
                {"addresses": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}], "notReadyAddresses": [{"ip": "10.0.0.2"}], "ports": [{"port": 8080}]},
                {"addresses": [{"ip": "10.0.0.3"}], "ports": [{"port": 8080, "protocol": "TCP"}]},
                {"addresses": [{"ip": "10.0.0.4"}], "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}
            ]
        }));
        let d = desired(&ep);
        let v4 = &d["IPv4"];
        assert_eq!(v4.len(), 2, "two port sets");
        let web = v4.iter().find(|(p, _)| p[0].port == Some(8080)).unwrap();
        let ready: Vec<(String, bool)> = web.1.iter().map(|e| (e.addresses[0].clone(), e.conditions.as_ref().unwrap().ready.unwrap())).collect();
        assert_eq!(ready, [("10.0.0.1".to_string(), true), ("10.0.0.2".to_string(), false), ("10.0.0.3".to_string(), true)]);
        assert_eq!((web.0[0].name.as_deref(), web.0[0].protocol.as_deref()), (Some(""), Some("TCP")), "defaulted as the API stores them");
        assert_eq!(d["IPv6"][0].1[0].addresses, ["fd00::1"]);
        // large subsets are split
        let many: Vec<serde_json::Value> = (0..2500).map(|i| serde_json::json!({"ip": format!("10.1.{}.{}", i / 250, i % 250)})).collect();
        let big = desired(&eps(serde_json::json!({"metadata": {"name": "big"}, "subsets": [{"addresses": many, "ports": [{"port": 80}]}]})));
        assert_eq!(big["IPv4"].iter().map(|g| g.1.len()).collect::<Vec<_>>(), [1000, 1000, 500]);
    }

    #[test]
    fn only_selectorless_services_unless_skipped() {
        let ep = eps(serde_json::json!({"metadata": {"name": "ext", "namespace": "default"}}));
        let plain: Service = serde_json::from_value(serde_json::json!({"metadata": {"name": "ext"}, "spec": {"ports": [{"port": 80}]}})).unwrap();
        let selecting: Service = serde_json::from_value(serde_json::json!({"metadata": {"name": "ext"}, "spec": {"selector": {"app": "x"}}})).unwrap();
        assert!(mirrored(&ep, Some(&plain)));
        assert!(!mirrored(&ep, Some(&selecting)));
        assert!(!mirrored(&ep, None), "no service");
        let skipped = eps(serde_json::json!({"metadata": {"name": "ext", "labels": {SKIP_MIRROR: "true"}}}));
        assert!(!mirrored(&skipped, Some(&plain)));
        let leader = eps(serde_json::json!({"metadata": {"name": "ext", "annotations": {LEADER_ANNOTATION: "{}"}}}));
        assert!(!mirrored(&leader, Some(&plain)));
        let l = labels(&eps(serde_json::json!({"metadata": {"name": "ext", "labels": {"team": "a", SKIP_MIRROR: "false"}}})));
        assert_eq!(l.get("team").map(String::as_str), Some("a"));
        assert_eq!(l.get(MANAGED_BY_LABEL).map(String::as_str), Some(MANAGED_BY));
        assert_eq!(l.get(SERVICE_NAME_LABEL).map(String::as_str), Some("ext"));
        assert!(!l.contains_key(SKIP_MIRROR));
    }
}
