//! A container's environment, computed as upstream's kubelet does (`makeEnvironmentVariables`).
//!
//! Sources, in upstream's order of precedence: `envFrom` (ConfigMaps and Secrets, with a prefix;
//! keys that are not valid variable names are skipped and reported), then `env` (plain values
//! with `$(VAR)` expansion against the variables declared before and the service variables;
//! `fieldRef`, `resourceFieldRef`, `configMapKeyRef`, `secretKeyRef`), then the Docker-link style
//! service variables (`FOO_SERVICE_HOST`, `FOO_PORT_80_TCP_ADDR`, ...) of the pod's namespace
//! when `enableServiceLinks` (default true) and, always, of the `kubernetes` service in
//! `default`.
//!
//! ConfigMaps, Secrets and Services are read with the kubelet's node identity, one GET each
//! (the Node authorizer lets a node read only what its pods reference). The result is
//! deterministic: declared variables in the order they first appear, then the service
//! variables sorted by name.
//!
//! The downward API's pod-field and resource-field values live here too; the volume manager's
//! `downwardAPI` volumes use the same functions.

use std::collections::{BTreeMap, HashMap};

use apimachinery::quantity::Quantity;
use cri::api::KeyValue;
use k8s_openapi::api::core::v1::{ConfigMap, Container, Node, Pod, ResourceFieldSelector, Secret, Service};
use kube::Api;

/// Why a container's environment could not be computed. The texts are upstream's (the kubelet
/// shows them as `CreateContainerConfigError`).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum EnvError {
    /// A referenced ConfigMap or Secret does not exist (`configmap "x" not found`).
    #[error("{kind} \"{name}\" not found")]
    NotFound {
        /// `configmap` or `secret` (upstream's lower-case resource word).
        kind: &'static str,
        /// The object's name.
        name: String,
    },
    /// A `configMapKeyRef`/`secretKeyRef` names a key the object does not have.
    #[error("couldn't find key {key} in {kind} {namespace}/{name}")]
    MissingKey {
        /// `ConfigMap` or `Secret`.
        kind: &'static str,
        /// The pod's namespace.
        namespace: String,
        /// The object's name.
        name: String,
        /// The missing key.
        key: String,
    },
    /// The apiserver refused or failed a read (its message).
    #[error("{0}")]
    Api(String),
    /// A `fieldRef` or `resourceFieldRef` that cannot be resolved (upstream's text).
    #[error("{0}")]
    Field(String),
}

/// A container's environment and the warning events computing it produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerEnv {
    /// The variables, for the CRI `ContainerConfig.envs`.
    pub vars: Vec<KeyValue>,
    /// Messages of upstream's `InvalidEnvironmentVariableNames` warning events (reason
    /// [`INVALID_ENV_NAMES_REASON`]), one per `envFrom` source with skipped keys.
    pub warnings: Vec<String>,
}

/// The reason of the event for `envFrom` keys that were skipped.
pub const INVALID_ENV_NAMES_REASON: &str = "InvalidEnvironmentVariableNames";

/// The container's environment as upstream's kubelet computes it (see the module
/// documentation). `pod_ips` and `host_ips` feed `status.podIP(s)` and `status.hostIP(s)`.
pub async fn container_env(
    client: &kube::Client,
    pod: &Pod,
    container: &Container,
    pod_ips: &[String],
    host_ips: &[String],
) -> Result<Vec<KeyValue>, EnvError> {
    Ok(container_env_with_warnings(client, pod, container, pod_ips, host_ips).await?.vars)
}

/// [`container_env`] plus the `InvalidEnvironmentVariableNames` warnings for the pod's events.
pub async fn container_env_with_warnings(
    client: &kube::Client,
    pod: &Pod,
    container: &Container,
    pod_ips: &[String],
    host_ips: &[String],
) -> Result<ContainerEnv, EnvError> {
    let ns = pod.metadata.namespace.clone().unwrap_or_else(|| "default".to_string());
    let spec = pod.spec.clone().unwrap_or_default();
    let services = service_env(client, &ns, spec.enable_service_links.unwrap_or(true)).await?;

    let mut sources = Sources { client, namespace: &ns, config_maps: HashMap::new(), secrets: HashMap::new() };
    let mut env = OrderedEnv::default();
    let mut warnings = Vec::new();

    for from in container.env_from.iter().flatten() {
        let prefix = from.prefix.as_deref().unwrap_or("");
        let (data, what, name): (BTreeMap<String, String>, &str, String) = if let Some(r) = &from.config_map_ref {
            match sources.config_map(&r.name).await? {
                Some(cm) => (cm.data.clone().unwrap_or_default(), "configMap", r.name.clone()),
                None if r.optional == Some(true) => continue,
                None => return Err(EnvError::NotFound { kind: "configmap", name: r.name.clone() }),
            }
        } else if let Some(r) = &from.secret_ref {
            match sources.secret(&r.name).await? {
                Some(s) => (
                    s.data
                        .clone()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
                        .collect(),
                    "secret",
                    r.name.clone(),
                ),
                None if r.optional == Some(true) => continue,
                None => return Err(EnvError::NotFound { kind: "secret", name: r.name.clone() }),
            }
        } else {
            continue;
        };
        let mut invalid = Vec::new();
        for (k, v) in data {
            let key = format!("{prefix}{k}");
            if !apimachinery::validation::is_env_var_name(&key).is_empty() {
                invalid.push(key);
                continue;
            }
            env.set(key, v);
        }
        if !invalid.is_empty() {
            invalid.sort();
            warnings.push(format!(
                "Keys [{}] from the EnvFrom {what} {ns}/{name} were skipped since they are considered invalid environment variable names.",
                invalid.join(", ")
            ));
        }
    }

    let mut allocatable: Option<BTreeMap<String, Quantity>> = None;
    for var in container.env.iter().flatten() {
        let value = var.value.clone().unwrap_or_default();
        let resolved = if !value.is_empty() {
            expand(&value, |name| env.get(name).or_else(|| services.get(name).cloned()))
        } else if let Some(from) = &var.value_from {
            if let Some(f) = &from.field_ref {
                pod_field_runtime_value(pod, f.api_version.as_deref(), &f.field_path, pod_ips, host_ips)
                    .map_err(EnvError::Field)?
            } else if let Some(r) = &from.resource_field_ref {
                if allocatable.is_none() {
                    allocatable = Some(node_allocatable(client, spec.node_name.as_deref().unwrap_or("")).await);
                }
                let alloc = allocatable.as_ref().map(|a| a as &BTreeMap<_, _>).unwrap_or(&EMPTY);
                let target = match r.container_name.as_deref().filter(|n| !n.is_empty()) {
                    Some(n) => find_container(pod, n).map_err(EnvError::Field)?,
                    None => container.clone(),
                };
                container_resource_value(r, &target, alloc).map_err(EnvError::Field)?
            } else if let Some(r) = &from.config_map_key_ref {
                let optional = r.optional == Some(true);
                let Some(cm) = sources.config_map(&r.name).await? else {
                    if optional {
                        continue;
                    }
                    return Err(EnvError::NotFound { kind: "configmap", name: r.name.clone() });
                };
                match cm.data.as_ref().and_then(|d| d.get(&r.key)) {
                    Some(v) => v.clone(),
                    None if optional => continue,
                    None => {
                        return Err(EnvError::MissingKey {
                            kind: "ConfigMap",
                            namespace: ns.clone(),
                            name: r.name.clone(),
                            key: r.key.clone(),
                        });
                    }
                }
            } else if let Some(r) = &from.secret_key_ref {
                let optional = r.optional == Some(true);
                let Some(s) = sources.secret(&r.name).await? else {
                    if optional {
                        continue;
                    }
                    return Err(EnvError::NotFound { kind: "secret", name: r.name.clone() });
                };
                match s.data.as_ref().and_then(|d| d.get(&r.key)) {
                    Some(v) => String::from_utf8_lossy(&v.0).into_owned(),
                    None if optional => continue,
                    None => {
                        return Err(EnvError::MissingKey {
                            kind: "Secret",
                            namespace: ns.clone(),
                            name: r.name.clone(),
                            key: r.key.clone(),
                        });
                    }
                }
            } else {
                String::new()
            }
        } else {
            String::new()
        };
        env.set(var.name.clone(), resolved);
    }

    let mut vars: Vec<KeyValue> = env.entries.iter().map(|(k, v)| KeyValue { key: k.clone(), value: v.clone() }).collect();
    let mut svc: Vec<(&String, &String)> = services.iter().filter(|(k, _)| !env.index.contains_key(*k)).collect();
    svc.sort();
    vars.extend(svc.into_iter().map(|(k, v)| KeyValue { key: k.clone(), value: v.clone() }));
    Ok(ContainerEnv { vars, warnings })
}

static EMPTY: BTreeMap<String, Quantity> = BTreeMap::new();

/// Variables in first-declaration order; a later declaration replaces the value in place.
#[derive(Default)]
struct OrderedEnv {
    entries: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl OrderedEnv {
    fn set(&mut self, k: String, v: String) {
        match self.index.get(&k) {
            Some(&i) => self.entries[i].1 = v,
            None => {
                self.index.insert(k.clone(), self.entries.len());
                self.entries.push((k, v));
            }
        }
    }

    fn get(&self, k: &str) -> Option<String> {
        self.index.get(k).map(|&i| self.entries[i].1.clone())
    }
}

/// ConfigMaps and Secrets read once per computation.
struct Sources<'a> {
    client: &'a kube::Client,
    namespace: &'a str,
    config_maps: HashMap<String, Option<ConfigMap>>,
    secrets: HashMap<String, Option<Secret>>,
}

impl Sources<'_> {
    async fn config_map(&mut self, name: &str) -> Result<Option<ConfigMap>, EnvError> {
        if let Some(v) = self.config_maps.get(name) {
            return Ok(v.clone());
        }
        let v = get_opt::<ConfigMap>(self.client, self.namespace, name).await.map_err(EnvError::Api)?;
        self.config_maps.insert(name.to_string(), v.clone());
        Ok(v)
    }

    async fn secret(&mut self, name: &str) -> Result<Option<Secret>, EnvError> {
        if let Some(v) = self.secrets.get(name) {
            return Ok(v.clone());
        }
        let v = get_opt::<Secret>(self.client, self.namespace, name).await.map_err(EnvError::Api)?;
        self.secrets.insert(name.to_string(), v.clone());
        Ok(v)
    }
}

/// GETs a namespaced object; `None` when it does not exist, the apiserver's message otherwise.
pub(crate) async fn get_opt<K>(client: &kube::Client, namespace: &str, name: &str) -> Result<Option<K>, String>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    <K as kube::Resource>::DynamicType: Default,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    match api.get(name).await {
        Ok(v) => Ok(Some(v)),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
        Err(e) => Err(api_message(e)),
    }
}

/// The text of a client error: the apiserver's Status message when there is one.
pub(crate) fn api_message(e: kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message,
        other => other.to_string(),
    }
}

/// The node's `status.allocatable` (empty when the node cannot be read: limits then stay unset
/// as upstream's do without a node).
pub(crate) async fn node_allocatable(client: &kube::Client, node: &str) -> BTreeMap<String, Quantity> {
    if node.is_empty() {
        return BTreeMap::new();
    }
    let api: Api<Node> = Api::all(client.clone());
    let Ok(n) = api.get(node).await else { return BTreeMap::new() };
    n.status
        .and_then(|s| s.allocatable)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, q)| apimachinery::quantity::parse(&q).ok().map(|q| (k, q)))
        .collect()
}

// ------------------------------------------------------------------------------------------
// Service links
// ------------------------------------------------------------------------------------------

/// The service variables: the `kubernetes` service of `default` always, the services of
/// `namespace` when `links`.
async fn service_env(client: &kube::Client, namespace: &str, links: bool) -> Result<BTreeMap<String, String>, EnvError> {
    let mut by_name: BTreeMap<String, Service> = BTreeMap::new();
    if let Some(s) = get_opt::<Service>(client, "default", "kubernetes").await.map_err(EnvError::Api)? {
        by_name.insert("kubernetes".to_string(), s);
    }
    if links {
        let api: Api<Service> = Api::namespaced(client.clone(), namespace);
        let list = api.list(&Default::default()).await.map_err(api_message).map_err(EnvError::Api)?;
        for s in list.items {
            let name = s.metadata.name.clone().unwrap_or_default();
            if namespace == "default" && name == "kubernetes" {
                continue;
            }
            by_name.insert(name, s);
        }
    }
    let mut out = BTreeMap::new();
    for s in by_name.values() {
        for kv in service_vars(s) {
            out.insert(kv.key, kv.value);
        }
    }
    Ok(out)
}

/// The variables of one service (upstream's `envvars.FromServices`); none for a headless one.
pub fn service_vars(service: &Service) -> Vec<KeyValue> {
    let Some(spec) = &service.spec else { return Vec::new() };
    let ip = spec.cluster_ip.as_deref().unwrap_or("");
    if ip.is_empty() || ip == "None" {
        return Vec::new();
    }
    let ports = spec.ports.as_deref().unwrap_or(&[]);
    let prefix = env_name(service.metadata.name.as_deref().unwrap_or(""));
    let kv = |k: String, v: String| KeyValue { key: k, value: v };
    let mut out = vec![kv(format!("{prefix}_SERVICE_HOST"), ip.to_string())];
    let Some(first) = ports.first() else { return out };
    out.push(kv(format!("{prefix}_SERVICE_PORT"), first.port.to_string()));
    for p in ports {
        if let Some(n) = p.name.as_deref().filter(|n| !n.is_empty()) {
            out.push(kv(format!("{prefix}_SERVICE_PORT_{}", env_name(n)), p.port.to_string()));
        }
    }
    let host = |port: i32| if ip.contains(':') { format!("[{ip}]:{port}") } else { format!("{ip}:{port}") };
    for (i, p) in ports.iter().enumerate() {
        let proto = p.protocol.as_deref().filter(|p| !p.is_empty()).unwrap_or("TCP");
        let lower = proto.to_lowercase();
        let url = format!("{lower}://{}", host(p.port));
        if i == 0 {
            out.push(kv(format!("{prefix}_PORT"), url.clone()));
        }
        let pp = format!("{prefix}_PORT_{}_{}", p.port, proto.to_uppercase());
        out.push(kv(pp.clone(), url));
        out.push(kv(format!("{pp}_PROTO"), lower));
        out.push(kv(format!("{pp}_PORT"), p.port.to_string()));
        out.push(kv(format!("{pp}_ADDR"), ip.to_string()));
    }
    out
}

fn env_name(s: &str) -> String {
    s.replace('-', "_").to_uppercase()
}

// ------------------------------------------------------------------------------------------
// $(VAR) expansion
// ------------------------------------------------------------------------------------------

/// Upstream's `$(VAR)` expansion: `$(NAME)` becomes the mapped value (left as written when
/// `lookup` knows no such name), `$$` becomes `$`, anything else stays.
pub fn expand(input: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let b = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < b.len() {
        if b[cursor] == b'$' && cursor + 1 < b.len() {
            out.push_str(&input[checkpoint..cursor]);
            let rest = &input[cursor + 1..];
            let advance = match rest.as_bytes()[0] {
                b'$' => {
                    out.push('$');
                    1
                }
                b'(' => match rest.find(')') {
                    Some(end) => {
                        let name = &rest[1..end];
                        match lookup(name) {
                            Some(v) => out.push_str(&v),
                            None => {
                                out.push_str("$(");
                                out.push_str(name);
                                out.push(')');
                            }
                        }
                        end + 1
                    }
                    None => {
                        out.push_str("$(");
                        1
                    }
                },
                _ => {
                    // `$` followed by something else: keep both (the whole character).
                    let c = rest.chars().next().unwrap_or('$');
                    out.push('$');
                    out.push(c);
                    c.len_utf8()
                }
            };
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    if checkpoint < input.len() {
        out.push_str(&input[checkpoint..]);
    }
    out
}

/// [`expand`] against a computed environment (for a container's command, args and
/// `subPathExpr`, as upstream does).
pub fn expand_with_env(input: &str, env: &[KeyValue]) -> String {
    expand(input, |name| env.iter().rev().find(|kv| kv.key == name).map(|kv| kv.value.clone()))
}

// ------------------------------------------------------------------------------------------
// Downward API values
// ------------------------------------------------------------------------------------------

/// An env `fieldRef`'s value (upstream's `podFieldSelectorRuntimeValue`).
pub fn pod_field_runtime_value(
    pod: &Pod,
    api_version: Option<&str>,
    path: &str,
    pod_ips: &[String],
    host_ips: &[String],
) -> Result<String, String> {
    let path = convert_field_label(api_version, path)?;
    let spec = pod.spec.as_ref();
    Ok(match path.as_str() {
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        "spec.serviceAccountName" => spec.and_then(|s| s.service_account_name.clone()).unwrap_or_default(),
        "status.hostIP" => host_ips.first().cloned().unwrap_or_default(),
        "status.hostIPs" => host_ips.join(","),
        "status.podIP" => pod_ips.first().cloned().unwrap_or_default(),
        "status.podIPs" => pod_ips.join(","),
        _ => return pod_field_value(pod, &path),
    })
}

/// Upstream's `ConvertDownwardAPIFieldLabel` for pods: the version must be `v1`, the path one
/// the downward API knows.
fn convert_field_label(api_version: Option<&str>, path: &str) -> Result<String, String> {
    let v = api_version.unwrap_or("v1");
    if !v.is_empty() && v != "v1" {
        return Err(format!("unsupported pod version: {v}"));
    }
    if let Some((base, _)) = split_subscript(path)
        && (base == "metadata.annotations" || base == "metadata.labels")
    {
        return Ok(path.to_string());
    }
    match path {
        "metadata.annotations" | "metadata.labels" | "metadata.name" | "metadata.namespace" | "metadata.uid"
        | "spec.nodeName" | "spec.restartPolicy" | "spec.serviceAccountName" | "spec.schedulerName" | "status.phase"
        | "status.hostIP" | "status.hostIPs" | "status.podIP" | "status.podIPs" => Ok(path.to_string()),
        _ => Err(format!("field label not supported: {path}")),
    }
}

/// `metadata.labels['k']` → (`metadata.labels`, `k`).
fn split_subscript(path: &str) -> Option<(&str, &str)> {
    let open = path.find("['")?;
    let inner = path[open + 2..].strip_suffix("']")?;
    Some((&path[..open], inner))
}

/// A pod metadata field's value (upstream's `fieldpath.ExtractFieldPathAsString`): whole label
/// and annotation maps are `key="value"` lines sorted by key.
pub fn pod_field_value(pod: &Pod, path: &str) -> Result<String, String> {
    let meta = &pod.metadata;
    if let Some((base, key)) = split_subscript(path) {
        let map = match base {
            "metadata.annotations" => &meta.annotations,
            "metadata.labels" => &meta.labels,
            _ => return Err(format!("unsupported fieldPath: {path}")),
        };
        return Ok(map.as_ref().and_then(|m| m.get(key)).cloned().unwrap_or_default());
    }
    Ok(match path {
        "metadata.annotations" => format_map(meta.annotations.as_ref()),
        "metadata.labels" => format_map(meta.labels.as_ref()),
        "metadata.name" => meta.name.clone().unwrap_or_default(),
        "metadata.namespace" => meta.namespace.clone().unwrap_or_default(),
        "metadata.uid" => meta.uid.clone().unwrap_or_default(),
        _ => return Err(format!("unsupported fieldPath: {path}")),
    })
}

fn format_map(m: Option<&BTreeMap<String, String>>) -> String {
    m.into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", apimachinery::validation::go_quote(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The container (app or init) named `name`, upstream's `container %s not found` otherwise.
pub(crate) fn find_container(pod: &Pod, name: &str) -> Result<Container, String> {
    let spec = pod.spec.as_ref();
    spec.into_iter()
        .flat_map(|s| s.containers.iter().chain(s.init_containers.iter().flatten()))
        .find(|c| c.name == name)
        .cloned()
        .ok_or_else(|| format!("container {name} not found"))
}

/// A `resourceFieldRef`'s value for `container` (upstream's `ExtractContainerResourceValue`
/// after `MergeContainerResourceLimits`): unset or zero cpu/memory/ephemeral-storage limits are
/// the node's allocatable; the value is divided by the divisor (default 1) and rounded up.
pub fn container_resource_value(
    sel: &ResourceFieldSelector,
    container: &Container,
    allocatable: &BTreeMap<String, Quantity>,
) -> Result<String, String> {
    let divisor = match &sel.divisor {
        Some(d) => apimachinery::quantity::parse(d).map_err(|e| format!("invalid divisor {:?}: {e}", d.0))?,
        None => Quantity::from_int(1),
    };
    let divisor = if divisor.is_zero() { Quantity::from_int(1) } else { divisor };
    let resources = container.resources.clone().unwrap_or_default();
    let get = |list: &Option<BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>, name: &str| {
        list.as_ref().and_then(|l| l.get(name)).and_then(|q| apimachinery::quantity::parse(q).ok())
    };
    let (kind, name) = sel
        .resource
        .split_once('.')
        .ok_or_else(|| format!("unsupported container resource : {}", sel.resource))?;
    let supported = matches!(name, "cpu" | "memory" | "ephemeral-storage") || name.starts_with("hugepages-");
    if !matches!(kind, "limits" | "requests") || !supported {
        return Err(format!("unsupported container resource : {}", sel.resource));
    }
    let q = if kind == "limits" {
        match get(&resources.limits, name).filter(|q| !q.is_zero()) {
            Some(q) => Some(q),
            None if !name.starts_with("hugepages-") => allocatable.get(name).cloned(),
            None => None,
        }
    } else {
        get(&resources.requests, name)
    };
    let q = q.unwrap_or_else(|| Quantity::from_int(0));
    let v = if name == "cpu" {
        div_ceil(q.milli_value(), divisor.milli_value())
    } else {
        div_ceil(q.value(), divisor.value())
    };
    Ok(v.to_string())
}

/// `ceil(a / b)` as upstream computes it (in floating point), 0 for a zero divisor.
fn div_ceil(a: i64, b: i64) -> i64 {
    if b == 0 {
        return 0;
    }
    (a as f64 / b as f64).ceil() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodSpec, ResourceRequirements, ServicePort, ServiceSpec};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Q;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn expansion_follows_upstream() {
        let m = map(&[("A", "a"), ("B", "$(A)"), ("EMPTY", "")]);
        let e = |s: &str| expand(s, |n| m.get(n).cloned());
        assert_eq!(e("x$(A)y"), "xay");
        assert_eq!(e("$(B)"), "$(A)", "values are not expanded twice");
        assert_eq!(e("$(UNSET)"), "$(UNSET)");
        assert_eq!(e("$$(A)"), "$(A)");
        assert_eq!(e("$$$(A)"), "$a");
        assert_eq!(e("$(A"), "$(A");
        assert_eq!(e("$A"), "$A");
        assert_eq!(e("a$"), "a$");
        assert_eq!(e("$(EMPTY)|"), "|");
        assert_eq!(e("$()"), "$()");
        assert_eq!(e("€$(A)€$é"), "€a€$é");
        assert_eq!(e(""), "");
    }

    fn pod() -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                namespace: Some("ns".into()),
                uid: Some("u-1".into()),
                labels: Some([("b".to_string(), "2".to_string()), ("a".to_string(), "x\"y\n".to_string())].into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: Some("n1".into()),
                service_account_name: Some("sa".into()),
                containers: vec![Container {
                    name: "c".into(),
                    resources: Some(ResourceRequirements {
                        limits: Some([("memory".to_string(), Q("64Mi".into()))].into()),
                        requests: Some([("cpu".to_string(), Q("250m".into()))].into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn field_values() {
        let p = pod();
        let ips = ["10.0.0.5".to_string(), "fd00::5".to_string()];
        let host = ["192.168.1.2".to_string()];
        let f = |path: &str| pod_field_runtime_value(&p, Some("v1"), path, &ips, &host);
        assert_eq!(f("metadata.name").unwrap(), "p");
        assert_eq!(f("metadata.namespace").unwrap(), "ns");
        assert_eq!(f("metadata.uid").unwrap(), "u-1");
        assert_eq!(f("metadata.labels").unwrap(), "a=\"x\\\"y\\n\"\nb=\"2\"");
        assert_eq!(f("metadata.labels['b']").unwrap(), "2");
        assert_eq!(f("metadata.annotations['none']").unwrap(), "");
        assert_eq!(f("spec.nodeName").unwrap(), "n1");
        assert_eq!(f("spec.serviceAccountName").unwrap(), "sa");
        assert_eq!(f("status.podIP").unwrap(), "10.0.0.5");
        assert_eq!(f("status.podIPs").unwrap(), "10.0.0.5,fd00::5");
        assert_eq!(f("status.hostIP").unwrap(), "192.168.1.2");
        assert_eq!(f("status.hostIPs").unwrap(), "192.168.1.2");
        assert_eq!(f("spec.restartPolicy").unwrap_err(), "unsupported fieldPath: spec.restartPolicy");
        assert_eq!(f("spec.bogus").unwrap_err(), "field label not supported: spec.bogus");
        assert_eq!(
            pod_field_runtime_value(&p, Some("v2"), "metadata.name", &[], &[]).unwrap_err(),
            "unsupported pod version: v2"
        );
    }

    #[test]
    fn resource_values() {
        let p = pod();
        let c = &p.spec.as_ref().unwrap().containers[0];
        let alloc: BTreeMap<String, Quantity> =
            [("cpu".to_string(), Quantity::parse("2").unwrap()), ("memory".to_string(), Quantity::parse("1Gi").unwrap())]
                .into();
        let v = |res: &str, div: Option<&str>| {
            container_resource_value(
                &ResourceFieldSelector { resource: res.into(), divisor: div.map(|d| Q(d.into())), container_name: None },
                c,
                &alloc,
            )
        };
        assert_eq!(v("limits.memory", None).unwrap(), "67108864");
        assert_eq!(v("limits.memory", Some("1Mi")).unwrap(), "64");
        assert_eq!(v("limits.memory", Some("1G")).unwrap(), "1", "rounded up");
        assert_eq!(v("limits.cpu", None).unwrap(), "2", "unset limit is the node's allocatable");
        assert_eq!(v("limits.cpu", Some("1m")).unwrap(), "2000");
        assert_eq!(v("requests.cpu", None).unwrap(), "1", "250m rounds up to 1");
        assert_eq!(v("requests.cpu", Some("1m")).unwrap(), "250");
        assert_eq!(v("requests.memory", None).unwrap(), "0");
        assert_eq!(v("limits.ephemeral-storage", None).unwrap(), "0", "no allocatable known");
        assert_eq!(v("limits.nvidia.com/gpu", None).unwrap_err(), "unsupported container resource : limits.nvidia.com/gpu");
        assert_eq!(v("requests.hugepages-2Mi", None).unwrap(), "0");
    }

    #[test]
    fn service_link_variables() {
        let s = Service {
            metadata: ObjectMeta { name: Some("my-svc".into()), ..Default::default() },
            spec: Some(ServiceSpec {
                cluster_ip: Some("10.96.0.20".into()),
                ports: Some(vec![
                    ServicePort { name: Some("http".into()), port: 80, protocol: Some("TCP".into()), ..Default::default() },
                    ServicePort { name: Some("dns-udp".into()), port: 53, protocol: Some("UDP".into()), ..Default::default() },
                ]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let got: Vec<(String, String)> = service_vars(&s).into_iter().map(|kv| (kv.key, kv.value)).collect();
        let want: Vec<(String, String)> = [
            ("MY_SVC_SERVICE_HOST", "10.96.0.20"),
            ("MY_SVC_SERVICE_PORT", "80"),
            ("MY_SVC_SERVICE_PORT_HTTP", "80"),
            ("MY_SVC_SERVICE_PORT_DNS_UDP", "53"),
            ("MY_SVC_PORT", "tcp://10.96.0.20:80"),
            ("MY_SVC_PORT_80_TCP", "tcp://10.96.0.20:80"),
            ("MY_SVC_PORT_80_TCP_PROTO", "tcp"),
            ("MY_SVC_PORT_80_TCP_PORT", "80"),
            ("MY_SVC_PORT_80_TCP_ADDR", "10.96.0.20"),
            ("MY_SVC_PORT_53_UDP", "udp://10.96.0.20:53"),
            ("MY_SVC_PORT_53_UDP_PROTO", "udp"),
            ("MY_SVC_PORT_53_UDP_PORT", "53"),
            ("MY_SVC_PORT_53_UDP_ADDR", "10.96.0.20"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(got, want);
        let mut headless = s.clone();
        headless.spec.as_mut().unwrap().cluster_ip = Some("None".into());
        assert!(service_vars(&headless).is_empty());
        let mut v6 = s;
        v6.spec.as_mut().unwrap().cluster_ip = Some("fd00::1".into());
        assert!(service_vars(&v6).iter().any(|kv| kv.value == "tcp://[fd00::1]:80"));
    }

    #[test]
    fn ordered_env_replaces_in_place() {
        let mut e = OrderedEnv::default();
        e.set("A".into(), "1".into());
        e.set("B".into(), "2".into());
        e.set("A".into(), "3".into());
        assert_eq!(e.entries, vec![("A".to_string(), "3".to_string()), ("B".to_string(), "2".to_string())]);
    }
}
