//! Resource hooks: the side effects a few resources need around the generic store (upstream's
//! REST decorators): ClusterIP and NodePort allocation for services, termination for namespaces,
//! graceful deletion for pods.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use apimachinery::{ApiError, ApiResult, ErrorList, FieldError};
use bytes::Bytes;
use k8s_openapi::api::core::v1 as core;
use storage::{RangeRequest, TxnOp};

use crate::registry::Object;
use crate::store::{DeleteDecision, DeleteOptions, Hooks};
use crate::{Api, Cidr, Config};

/// The hooks of built-in resources, keyed by (group, plural).
pub fn builtin(config: &Config) -> HashMap<(String, String), Arc<dyn Hooks>> {
    let mut m: HashMap<(String, String), Arc<dyn Hooks>> = HashMap::new();
    m.insert(
        (String::new(), "services".into()),
        Arc::new(ServiceHooks { cidr: config.service_cidr, ports: config.node_port_range }),
    );
    m.insert((String::new(), "namespaces".into()), Arc::new(NamespaceHooks));
    m.insert((String::new(), "pods".into()), Arc::new(PodHooks));
    m.insert(("apiextensions.k8s.io".into(), "customresourcedefinitions".into()), Arc::new(crate::crd::CrdHooks));
    m
}

/// Storage prefix of ClusterIP claims (one key per allocated address).
pub const SERVICE_IPS: &str = "/registry/ranges/serviceips/";
/// Storage prefix of NodePort claims.
pub const NODE_PORTS: &str = "/registry/ranges/servicenodeports/";

fn svc(o: &dyn Object) -> &core::Service {
    o.as_any().downcast_ref().expect("service hooks get services")
}
fn svc_mut(o: &mut dyn Object) -> &mut core::Service {
    o.as_any_mut().downcast_mut().expect("service hooks get services")
}

struct ServiceHooks {
    cidr: Cidr,
    ports: (u16, u16),
}

fn owner(s: &core::Service) -> String {
    format!("{}/{}", s.metadata.namespace.as_deref().unwrap_or(""), s.metadata.name.as_deref().unwrap_or(""))
}

fn needs_cluster_ip(s: &core::Service) -> bool {
    let spec = s.spec.as_ref();
    spec.and_then(|s| s.type_.as_deref()) != Some("ExternalName")
        && spec.and_then(|s| s.cluster_ip.as_deref()) != Some("None")
}

fn needs_node_ports(s: &core::Service) -> bool {
    matches!(s.spec.as_ref().and_then(|s| s.type_.as_deref()), Some("NodePort" | "LoadBalancer"))
}

async fn claim(api: &Api, key: &str, owner: &str, dry_run: bool) -> ApiResult<bool> {
    if dry_run {
        let r = api.storage.range(RangeRequest::key(key)).await.map_err(ApiError::internal)?;
        return Ok(r.kvs.is_empty());
    }
    let r = api.storage.txn(key, 0, TxnOp::Put(Bytes::from(owner.to_string()))).await.map_err(ApiError::internal)?;
    Ok(r.succeeded)
}

async fn release(api: &Api, key: &str) {
    for _ in 0..8 {
        let Ok(r) = api.storage.range(RangeRequest::key(key)).await else { return };
        let Some(kv) = r.kvs.first() else { return };
        match api.storage.txn(key, kv.mod_revision, TxnOp::Delete).await {
            Ok(resp) if resp.succeeded => return,
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!(key, error = %e, "releasing allocation failed");
                return;
            }
        }
    }
}

impl ServiceHooks {
    async fn allocate_ip(&self, api: &Api, s: &mut core::Service, dry_run: bool) -> ApiResult<()> {
        let owner = owner(s);
        let spec = s.spec.get_or_insert_with(Default::default);
        let requested = spec.cluster_ip.clone().filter(|ip| !ip.is_empty());
        let ip = match requested {
            Some(ip) => {
                let parsed: Ipv4Addr = ip.parse().map_err(|_| {
                    invalid("spec.clusterIPs", serde_json::json!([ip]), "must be a valid IP address")
                })?;
                if !self.cidr.contains(parsed) {
                    return Err(invalid(
                        "spec.clusterIPs",
                        serde_json::json!([ip]),
                        &format!("failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. The range of valid IPs is {}", self.cidr),
                    ));
                }
                if !claim(api, &format!("{SERVICE_IPS}{ip}"), &owner, dry_run).await? {
                    return Err(invalid(
                        "spec.clusterIPs",
                        serde_json::json!([ip]),
                        &format!("failed to allocate IP {ip}: provided IP is already allocated"),
                    ));
                }
                ip
            }
            None => {
                let size = self.cidr.size();
                let mut found = None;
                // random probes, then a scan; the first address belongs to the kubernetes service
                for attempt in 0..(size.min(64) + size) {
                    let n = if attempt < 64 { rand::random_range(2..size - 1) } else { 2 + (attempt - 64) % (size - 3) };
                    let ip = self.cidr.nth(n).to_string();
                    if claim(api, &format!("{SERVICE_IPS}{ip}"), &owner, dry_run).await? {
                        found = Some(ip);
                        break;
                    }
                }
                found.ok_or_else(|| {
                    ApiError::internal(format!("failed to allocate a serviceIP: range is full ({})", self.cidr))
                })?
            }
        };
        spec.cluster_ip = Some(ip.clone());
        spec.cluster_ips = Some(vec![ip]);
        Ok(())
    }

    async fn allocate_ports(&self, api: &Api, s: &mut core::Service, dry_run: bool, keep: &[i32]) -> ApiResult<Vec<i32>> {
        let owner = owner(s);
        let (lo, hi) = (self.ports.0 as i32, self.ports.1 as i32);
        let mut claimed = Vec::new();
        let ports = s.spec.as_mut().and_then(|sp| sp.ports.as_mut());
        let Some(ports) = ports else { return Ok(claimed) };
        for (i, p) in ports.iter_mut().enumerate() {
            match p.node_port.filter(|n| *n != 0) {
                Some(n) => {
                    if keep.contains(&n) {
                        continue;
                    }
                    if n < lo || n > hi {
                        return Err(invalid(
                            &format!("spec.ports[{i}].nodePort"),
                            serde_json::json!(n),
                            &format!("provided port is not in the valid range. The range of valid ports is {lo}-{hi}"),
                        ));
                    }
                    if !claim(api, &format!("{NODE_PORTS}{n}"), &owner, dry_run).await? {
                        for c in &claimed {
                            release(api, &format!("{NODE_PORTS}{c}")).await;
                        }
                        return Err(invalid(
                            &format!("spec.ports[{i}].nodePort"),
                            serde_json::json!(n),
                            "provided port is already allocated",
                        ));
                    }
                    claimed.push(n);
                }
                None => {
                    let span = hi - lo + 1;
                    let mut got = None;
                    for attempt in 0..(64 + span) {
                        let n = if attempt < 64 { rand::random_range(lo..=hi) } else { lo + (attempt - 64) % span };
                        if claim(api, &format!("{NODE_PORTS}{n}"), &owner, dry_run).await? {
                            got = Some(n);
                            break;
                        }
                    }
                    let n = got.ok_or_else(|| ApiError::internal("failed to allocate a nodePort: range is full"))?;
                    p.node_port = Some(n);
                    claimed.push(n);
                }
            }
        }
        Ok(claimed)
    }
}

fn invalid(path: &str, value: serde_json::Value, detail: &str) -> ApiError {
    let mut errs = ErrorList::new();
    errs.push(FieldError::invalid(path, value, detail));
    ApiError::invalid("", "Service", "", &errs)
}

fn node_ports(s: &core::Service) -> Vec<i32> {
    s.spec.as_ref().and_then(|sp| sp.ports.as_ref()).map(|ps| ps.iter().filter_map(|p| p.node_port).collect()).unwrap_or_default()
}

#[async_trait::async_trait]
impl Hooks for ServiceHooks {
    async fn before_create(&self, api: &Api, obj: &mut dyn Object, dry_run: bool) -> ApiResult<()> {
        let s = svc_mut(obj);
        if needs_cluster_ip(s) {
            self.allocate_ip(api, s, dry_run).await.map_err(|e| rename(e, s))?;
        }
        if needs_node_ports(s)
            && let Err(e) = self.allocate_ports(api, s, dry_run, &[]).await {
                if !dry_run {
                    self.create_failed(api, s).await;
                }
                return Err(rename(e, s));
            }
        Ok(())
    }

    async fn create_failed(&self, api: &Api, obj: &dyn Object) {
        self.after_delete(api, obj).await
    }

    async fn before_update(&self, api: &Api, new: &mut dyn Object, old: &dyn Object, dry_run: bool) -> ApiResult<()> {
        let old = svc(old);
        let s = svc_mut(new);
        // allocated values the client left out are kept (upstream's patchAllocatedValues)
        if needs_cluster_ip(s) && needs_cluster_ip(old) {
            let spec = s.spec.get_or_insert_with(Default::default);
            if spec.cluster_ip.as_deref().unwrap_or("").is_empty() {
                spec.cluster_ip = old.spec.as_ref().and_then(|o| o.cluster_ip.clone());
                spec.cluster_ips = old.spec.as_ref().and_then(|o| o.cluster_ips.clone());
            }
        } else if needs_cluster_ip(s) {
            self.allocate_ip(api, s, dry_run).await.map_err(|e| rename(e, s))?;
        }
        if needs_node_ports(s) {
            let old_ports = node_ports(old);
            // ports matched by port number keep their node ports
            if let (Some(new_ports), Some(old_list)) = (s.spec.as_mut().and_then(|sp| sp.ports.as_mut()), old.spec.as_ref().and_then(|o| o.ports.as_ref())) {
                for p in new_ports.iter_mut().filter(|p| p.node_port.unwrap_or(0) == 0) {
                    if let Some(op) = old_list.iter().find(|op| op.port == p.port && op.protocol == p.protocol) {
                        p.node_port = op.node_port;
                    }
                }
            }
            self.allocate_ports(api, s, dry_run, &old_ports).await.map_err(|e| rename(e, s))?;
        }
        Ok(())
    }

    async fn after_update(&self, api: &Api, new: &dyn Object, old: &dyn Object) {
        let (new, old) = (svc(new), svc(old));
        let new_ports = if needs_node_ports(new) { node_ports(new) } else { Vec::new() };
        for p in node_ports(old) {
            if !new_ports.contains(&p) {
                release(api, &format!("{NODE_PORTS}{p}")).await;
            }
        }
        if needs_cluster_ip(old) && !needs_cluster_ip(new)
            && let Some(ip) = old.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) {
                release(api, &format!("{SERVICE_IPS}{ip}")).await;
            }
    }

    async fn after_delete(&self, api: &Api, obj: &dyn Object) {
        let s = svc(obj);
        if needs_cluster_ip(s)
            && let Some(ip) = s.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()).filter(|ip| !ip.is_empty()) {
                release(api, &format!("{SERVICE_IPS}{ip}")).await;
            }
        for p in node_ports(s) {
            release(api, &format!("{NODE_PORTS}{p}")).await;
        }
    }
}

fn rename(mut e: ApiError, s: &core::Service) -> ApiError {
    if e.code == 422 {
        let name = s.metadata.name.clone().unwrap_or_default();
        e.message = e.message.replacen("Service \"\"", &format!("Service \"{name}\""), 1);
        if let Some(d) = e.details.as_mut() {
            d.name = name;
        }
    }
    e
}

struct NamespaceHooks;

fn terminate(o: &mut dyn Object) {
    if let Some(ns) = o.as_any_mut().downcast_mut::<core::Namespace>() {
        ns.status.get_or_insert_with(Default::default).phase = Some("Terminating".into());
    }
}

#[async_trait::async_trait]
impl Hooks for NamespaceHooks {
    fn delete_decision(&self, obj: &dyn Object, _opts: &DeleteOptions) -> Option<DeleteDecision> {
        let ns = obj.as_any().downcast_ref::<core::Namespace>()?;
        let spec_fins = ns.spec.as_ref().and_then(|s| s.finalizers.as_ref()).is_some_and(|f| !f.is_empty());
        let meta_fins = ns.metadata.finalizers.as_ref().is_some_and(|f| !f.is_empty());
        if ns.metadata.deletion_timestamp.is_some() && spec_fins {
            return Some(DeleteDecision::Refuse(ApiError::conflict(
                "",
                "namespaces",
                ns.metadata.name.as_deref().unwrap_or(""),
                "The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.",
            )));
        }
        if spec_fins || meta_fins {
            return Some(DeleteDecision::Mark { grace_seconds: 0, mutate: terminate });
        }
        Some(DeleteDecision::Now)
    }
}

struct PodHooks;

#[async_trait::async_trait]
impl Hooks for PodHooks {
    fn delete_decision(&self, obj: &dyn Object, opts: &DeleteOptions) -> Option<DeleteDecision> {
        let pod = obj.as_any().downcast_ref::<core::Pod>()?;
        let spec = pod.spec.as_ref();
        let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("");
        let scheduled = spec.and_then(|s| s.node_name.as_deref()).is_some_and(|n| !n.is_empty());
        let default_grace = spec.and_then(|s| s.termination_grace_period_seconds).unwrap_or(30);
        let mut grace = match opts.grace_period_seconds {
            Some(g) if g >= 0 => g,
            _ => default_grace,
        };
        // an unscheduled or finished pod has no kubelet to wait for: it goes at once
        if !scheduled || phase == "Succeeded" || phase == "Failed" {
            grace = 0;
        }
        let has_finalizers = pod.metadata.finalizers.as_ref().is_some_and(|f| !f.is_empty());
        if grace > 0 {
            return Some(DeleteDecision::Mark { grace_seconds: grace, mutate: |_| {} });
        }
        if has_finalizers {
            return Some(DeleteDecision::Mark { grace_seconds: 0, mutate: |_| {} });
        }
        Some(DeleteDecision::Now)
    }
}
