//! What every cluster has from its first start: the default namespaces, the `kubernetes`
//! service and its endpoints (pointing at this apiserver), the system priority classes and
//! upstream's default RBAC roles and bindings.

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

/// Upstream's default RBAC policy (plus ferrokube's node-joining defaults,
/// `rbac::bootstrap::ferrokube_*`): created when missing; roles and bindings annotated
/// `rbac.authorization.kubernetes.io/autoupdate: "true"` are brought back to the defaults
/// when they drifted (as kube-apiserver reconciles them at start). Aggregated ClusterRoles are
/// stored with the union of the rules they aggregate.
async fn rbac_policy(api: &Api) -> ApiResult<()> {
    use k8s_openapi::api::rbac::v1 as rbac_api;
    let group = "rbac.authorization.k8s.io";
    let mut roles = rbac::bootstrap_cluster_roles();
    roles.extend(rbac::bootstrap::ferrokube_cluster_roles());
    rbac::aggregate_all(&mut roles);
    for role in roles {
        reconcile(api, group, "clusterroles", "", Box::new(role), |new, old| {
            let (n, o) = (new.as_any().downcast_ref::<rbac_api::ClusterRole>(), old.as_any().downcast_ref::<rbac_api::ClusterRole>());
            n.zip(o).is_some_and(|(n, o)| n.rules == o.rules && n.aggregation_rule == o.aggregation_rule)
        })
        .await?;
    }
    for b in rbac::bootstrap_cluster_role_bindings().into_iter().chain(rbac::bootstrap::ferrokube_cluster_role_bindings()) {
        reconcile(api, group, "clusterrolebindings", "", Box::new(b), |new, old| {
            let (n, o) = (new.as_any().downcast_ref::<rbac_api::ClusterRoleBinding>(), old.as_any().downcast_ref::<rbac_api::ClusterRoleBinding>());
            n.zip(o).is_some_and(|(n, o)| n.subjects == o.subjects && n.role_ref == o.role_ref)
        })
        .await?;
    }
    for r in rbac::bootstrap_namespace_roles() {
        let ns = r.metadata.namespace.clone().unwrap_or_default();
        reconcile(api, group, "roles", &ns, Box::new(r), |new, old| {
            let (n, o) = (new.as_any().downcast_ref::<rbac_api::Role>(), old.as_any().downcast_ref::<rbac_api::Role>());
            n.zip(o).is_some_and(|(n, o)| n.rules == o.rules)
        })
        .await?;
    }
    for b in rbac::bootstrap_namespace_role_bindings() {
        let ns = b.metadata.namespace.clone().unwrap_or_default();
        reconcile(api, group, "rolebindings", &ns, Box::new(b), |new, old| {
            let (n, o) = (new.as_any().downcast_ref::<rbac_api::RoleBinding>(), old.as_any().downcast_ref::<rbac_api::RoleBinding>());
            n.zip(o).is_some_and(|(n, o)| n.subjects == o.subjects && n.role_ref == o.role_ref)
        })
        .await?;
    }
    Ok(())
}

async fn reconcile(api: &Api, group: &str, plural: &str, ns: &str, obj: Box<dyn Object>, same: impl Fn(&dyn Object, &dyn Object) -> bool) -> ApiResult<()> {
    let r = res(api, group, plural)?;
    let name = obj.meta().name.clone().unwrap_or_default();
    let Some((old, _)) = store::read(api, &r, &r.key(ns, &name)).await? else {
        return ensure(api, group, plural, ns, obj).await;
    };
    let auto = old.meta().annotations.as_ref().and_then(|a| a.get(rbac::AUTO_UPDATE_ANNOTATION)).is_none_or(|v| v == "true");
    if !auto || same(obj.as_ref(), old.as_ref()) {
        return Ok(());
    }
    let mut new = obj;
    new.meta_mut().resource_version = old.meta().resource_version.clone();
    store::update(api, &r, ns, &name, new, Part::Main, &WriteOptions::default()).await.map(|_| ())
}

/// Creates what is missing.
pub async fn run(api: &Api) -> ApiResult<()> {
    for ns in SYSTEM_NAMESPACES {
        let mut labels = BTreeMap::new();
        labels.insert("kubernetes.io/metadata.name".to_string(), ns.to_string());
        let obj = core::Namespace { metadata: ObjectMeta { labels: Some(labels), ..meta(ns, None, &[]) }, ..Default::default() };
        ensure(api, "", "namespaces", "", Box::new(obj)).await?;
    }
    rbac_policy(api).await?;
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
