//! What every cluster has from its first start: the default namespaces, the `kubernetes`
//! service and its endpoints (pointing at this apiserver), and the system priority classes.

use std::collections::BTreeMap;
use std::sync::Arc;

use apimachinery::{ApiError, ApiResult};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::discovery::v1 as discovery;
use k8s_openapi::api::scheduling::v1 as scheduling;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::Api;
use crate::registry::{Object, Resource};
use crate::store::{self, Part, WriteOptions};

/// Namespaces every cluster has.
pub const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

fn res(api: &Api, group: &str, plural: &str) -> ApiResult<Arc<Resource>> {
    // every object bootstrap writes is of a v1 kind
    api.resource(group, "v1", plural).ok_or_else(|| ApiError::internal(format!("{plural} not registered")))
}

async fn ensure(api: &Api, group: &str, plural: &str, ns: &str, obj: Box<dyn Object>) -> ApiResult<()> {
    let r = res(api, group, plural)?;
    let key = r.key(ns, obj.meta().name.as_deref().unwrap_or(""));
    if store::read(api, &r, &key).await?.is_some() {
        return Ok(());
    }
    match store::create(api, &r, ns, obj, &WriteOptions::default()).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}

/// Upserts an object this apiserver owns (the `kubernetes` endpoints).
async fn upsert(api: &Api, group: &str, plural: &str, ns: &str, name: &str, obj: Box<dyn Object>) -> ApiResult<()> {
    let r = res(api, group, plural)?;
    match store::update(api, &r, ns, name, obj.clone_box(), Part::Main, &WriteOptions::default()).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == 404 => ensure(api, group, plural, ns, obj).await,
        Err(e) => Err(e),
    }
}

fn meta(name: &str, ns: Option<&str>, labels: &[(&str, &str)]) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: ns.map(Into::into),
        labels: if labels.is_empty() {
            None
        } else {
            Some(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>())
        },
        ..Default::default()
    }
}

/// Creates what is missing.
pub async fn run(api: &Api) -> ApiResult<()> {
    for ns in SYSTEM_NAMESPACES {
        let mut labels = BTreeMap::new();
        labels.insert("kubernetes.io/metadata.name".to_string(), ns.to_string());
        let obj = core::Namespace { metadata: ObjectMeta { labels: Some(labels), ..meta(ns, None, &[]) }, ..Default::default() };
        ensure(api, "", "namespaces", "", Box::new(obj)).await?;
    }
    for (name, value, desc) in [
        ("system-node-critical", 2_000_001_000, "Used for system critical pods that must not be moved from their current node."),
        ("system-cluster-critical", 2_000_000_000, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
    ] {
        let pc = scheduling::PriorityClass {
            metadata: meta(name, None, &[]),
            value,
            description: Some(desc.into()),
            preemption_policy: Some("PreemptLowerPriority".into()),
            global_default: Some(false),
        };
        ensure(api, "scheduling.k8s.io", "priorityclasses", "", Box::new(pc)).await?;
    }
    let port = api.port.load(std::sync::atomic::Ordering::Relaxed) as i32;
    let ip = api.config.service_cidr.nth(1).to_string();
    let labels = [("component", "apiserver"), ("provider", "kubernetes")];
    let svc = core::Service {
        metadata: meta("kubernetes", Some("default"), &labels),
        spec: Some(core::ServiceSpec {
            type_: Some("ClusterIP".into()),
            cluster_ip: Some(ip.clone()),
            cluster_ips: Some(vec![ip]),
            ports: Some(vec![core::ServicePort {
                name: Some("https".into()),
                port: 443,
                protocol: Some("TCP".into()),
                target_port: Some(IntOrString::Int(port)),
                ..Default::default()
            }]),
            session_affinity: Some("None".into()),
            ip_families: Some(vec!["IPv4".into()]),
            ip_family_policy: Some("SingleStack".into()),
            internal_traffic_policy: Some("Cluster".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    ensure(api, "", "services", "default", Box::new(svc)).await?;
    let advertise = api.config.advertise_ip();
    if advertise.is_loopback() {
        // Endpoints may not hold loopback addresses (upstream validation): an apiserver bound to
        // loopback only is not reachable from pods, so the service has no endpoints.
        tracing::info!("the API listens on loopback only; the kubernetes service gets no endpoints");
        return Ok(());
    }
    let addr = advertise.to_string();
    let ep = core::Endpoints {
        metadata: meta("kubernetes", Some("default"), &[("endpointslice.kubernetes.io/skip-mirror", "true")]),
        subsets: Some(vec![core::EndpointSubset {
            addresses: Some(vec![core::EndpointAddress { ip: addr.clone(), ..Default::default() }]),
            ports: Some(vec![core::EndpointPort {
                name: Some("https".into()),
                port,
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }]),
    };
    upsert(api, "", "endpoints", "default", "kubernetes", Box::new(ep)).await?;
    let slice = discovery::EndpointSlice {
        metadata: meta("kubernetes", Some("default"), &[("kubernetes.io/service-name", "kubernetes")]),
        address_type: "IPv4".into(),
        endpoints: vec![discovery::Endpoint {
            addresses: vec![addr],
            conditions: Some(discovery::EndpointConditions { ready: Some(true), ..Default::default() }),
            ..Default::default()
        }],
        ports: Some(vec![discovery::EndpointPort {
            name: Some("https".into()),
            port: Some(port),
            protocol: Some("TCP".into()),
            ..Default::default()
        }]),
    };
    upsert(api, "discovery.k8s.io", "endpointslices", "default", "kubernetes", Box::new(slice)).await?;
    Ok(())
}
