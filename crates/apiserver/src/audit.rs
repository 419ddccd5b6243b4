//! The audit log: one `audit.k8s.io/v1` Event per request (stage `ResponseComplete`) as a JSON
//! line, at the level the first matching rule of the audit policy gives. ferrokube's default
//! policy logs secrets, configmaps and token reviews at `Metadata` (never their bodies), RBAC
//! changes and `pods/exec|attach|portforward` at `RequestResponse`, everything else at
//! `Metadata`, and skips the health probes. The log rotates by size, age and count.
//!
//! Writing happens on a dedicated thread fed by a bounded channel: a request never waits for
//! the disk. Should the channel be full (the disk stalls), events are dropped and counted.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;
#[cfg(test)]
use serde_json::json;

use crate::auth::UserInfo;
use crate::auth::authz::Attributes;

/// Audit levels, in increasing detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Default)]
pub enum Level {
    /// Not logged.
    #[default]
    None,
    /// Who, what, when, outcome.
    Metadata,
    /// Plus the request body.
    Request,
    /// Plus the response body.
    RequestResponse,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::None => "None",
            Level::Metadata => "Metadata",
            Level::Request => "Request",
            Level::RequestResponse => "RequestResponse",
        }
    }
}

/// A resource selector of a policy rule.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupResources {
    /// API group ("" = core).
    #[serde(default)]
    pub group: String,
    /// Resources (`pods`, `pods/exec`, `*/status`, `pods/*`); empty = all of the group.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Object names; empty = all.
    #[serde(default)]
    pub resource_names: Vec<String>,
}

/// One rule of an audit policy.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    /// The level of matching requests.
    pub level: Level,
    /// Users (empty = all).
    #[serde(default)]
    pub users: Vec<String>,
    /// Groups (empty = all).
    #[serde(default)]
    pub user_groups: Vec<String>,
    /// Verbs (empty = all).
    #[serde(default)]
    pub verbs: Vec<String>,
    /// Resources (empty = all, resource requests only when set).
    #[serde(default)]
    pub resources: Vec<GroupResources>,
    /// Namespaces (`""` = cluster-scoped; empty = all).
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Non-resource URLs (`/healthz*`); empty = all.
    #[serde(default, rename = "nonResourceURLs")]
    pub non_resource_urls: Vec<String>,
}

/// An `audit.k8s.io/v1` Policy.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// `audit.k8s.io/v1`.
    #[serde(default)]
    pub api_version: String,
    /// `Policy`.
    #[serde(default)]
    pub kind: String,
    /// Rules, first match wins; no match = `None`.
    #[serde(default)]
    pub rules: Vec<PolicyRule>,
    /// Drop `managedFields` from logged bodies (default true here).
    #[serde(default)]
    pub omit_managed_fields: Option<bool>,
}

fn rule(level: Level) -> PolicyRule {
    PolicyRule { level, ..Default::default() }
}

fn gr(group: &str, resources: &[&str]) -> GroupResources {
    GroupResources { group: group.into(), resources: resources.iter().map(|s| s.to_string()).collect(), resource_names: vec![] }
}

impl Policy {
    /// ferrokube's default policy.
    pub fn ferrokube_default() -> Policy {
        let probes = PolicyRule { non_resource_urls: ["/healthz*", "/livez*", "/readyz*", "/version"].map(String::from).to_vec(), ..rule(Level::None) };
        let sensitive = PolicyRule {
            resources: vec![gr("", &["secrets", "configmaps", "serviceaccounts/token"]), gr("authentication.k8s.io", &["tokenreviews"])],
            ..rule(Level::Metadata)
        };
        let rbac = PolicyRule { resources: vec![gr("rbac.authorization.k8s.io", &[])], ..rule(Level::RequestResponse) };
        let exec = PolicyRule { resources: vec![gr("", &["pods/exec", "pods/attach", "pods/portforward"])], ..rule(Level::RequestResponse) };
        Policy { api_version: "audit.k8s.io/v1".into(), kind: "Policy".into(), rules: vec![probes, sensitive, rbac, exec, rule(Level::Metadata)], omit_managed_fields: Some(true) }
    }

    /// Parses a policy file (YAML or JSON).
    pub fn parse(text: &str) -> Result<Policy, String> {
        let p: Policy = serde_saphyr::from_str(text).map_err(|e| format!("audit policy: {e}"))?;
        if p.kind != "Policy" || !matches!(p.api_version.as_str(), "audit.k8s.io/v1") {
            return Err(format!("audit policy: expected apiVersion audit.k8s.io/v1, kind Policy; got {} {}", p.api_version, p.kind));
        }
        Ok(p)
    }

    /// The level of a request.
    pub fn level(&self, user: &UserInfo, a: &Attributes) -> Level {
        self.rules.iter().find(|r| r.matches(user, a)).map(|r| r.level).unwrap_or(Level::None)
    }
}

fn wildcard(pattern: &str, value: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => pattern == value,
    }
}

impl PolicyRule {
    fn matches(&self, user: &UserInfo, a: &Attributes) -> bool {
        if !self.users.is_empty() && !self.users.contains(&user.name) {
            return false;
        }
        if !self.user_groups.is_empty() && !user.groups.iter().any(|g| self.user_groups.contains(g)) {
            return false;
        }
        if !self.verbs.is_empty() && !self.verbs.contains(&a.verb) {
            return false;
        }
        if !a.resource_request {
            if !self.resources.is_empty() || !self.namespaces.is_empty() {
                return false;
            }
            return self.non_resource_urls.is_empty() || self.non_resource_urls.iter().any(|p| wildcard(p, &a.path));
        }
        if !self.non_resource_urls.is_empty() {
            return false;
        }
        if !self.namespaces.is_empty() && !self.namespaces.contains(&a.namespace) {
            return false;
        }
        if self.resources.is_empty() {
            return true;
        }
        let full = if a.subresource.is_empty() { a.resource.clone() } else { format!("{}/{}", a.resource, a.subresource) };
        self.resources.iter().any(|g| {
            g.group == a.api_group
                && (g.resources.is_empty()
                    || g.resources.iter().any(|r| {
                        r == &full
                            || r == "*"
                            || (r.starts_with("*/") && !a.subresource.is_empty() && r[2..] == a.subresource)
                            || (r.ends_with("/*") && !a.subresource.is_empty() && r[..r.len() - 2] == a.resource)
                    }))
                && (g.resource_names.is_empty() || g.resource_names.contains(&a.name))
        })
    }
}

/// Rotation settings.
#[derive(Clone, Debug)]
pub struct Rotation {
    /// Rotate when the file exceeds this many bytes.
    pub max_size: u64,
    /// Keep at most this many rotated files.
    pub max_backups: usize,
    /// Delete rotated files older than this many days.
    pub max_age_days: u64,
}

impl Default for Rotation {
    fn default() -> Self {
        Rotation { max_size: 100 << 20, max_backups: 10, max_age_days: 30 }
    }
}

/// The audit sink of an apiserver.
pub struct Auditor {
    /// The policy.
    pub policy: Policy,
    tx: std::sync::mpsc::SyncSender<Vec<u8>>,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for Auditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auditor").finish_non_exhaustive()
    }
}

impl Auditor {
    /// Opens (appends to) the log at `path` and starts its writer thread.
    pub fn open(path: PathBuf, policy: Policy, rotation: Rotation) -> std::io::Result<Auditor> {
        let file = open_log(&path)?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(10_000);
        std::thread::Builder::new().name("audit-log".into()).spawn(move || {
            let mut size = file.metadata().map(|m| m.len()).unwrap_or(0);
            let mut out = std::io::BufWriter::with_capacity(64 << 10, file);
            while let Ok(first) = rx.recv() {
                // everything queued is written in one go, then flushed once
                let mut next = Some(first);
                while let Some(line) = next.take().or_else(|| rx.try_recv().ok()) {
                    if size + line.len() as u64 > rotation.max_size && size > 0 {
                        let _ = out.flush();
                        match rotate(&path, &rotation) {
                            Ok(f) => {
                                out = std::io::BufWriter::with_capacity(64 << 10, f);
                                size = 0;
                            }
                            Err(e) => tracing::warn!(error = %e, "audit log rotation failed"),
                        }
                    }
                    if out.write_all(&line).is_ok() {
                        size += line.len() as u64;
                    }
                }
                let _ = out.flush();
            }
        })?;
        Ok(Auditor { policy, tx, dropped: Arc::new(AtomicU64::new(0)) })
    }

    /// Queues an event.
    pub fn log(&self, event: &impl serde::Serialize) {
        let mut line = serde_json::to_vec(event).unwrap_or_default();
        line.push(b'\n');
        if self.tx.try_send(line).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(dropped = n, "audit events dropped: the log writer is behind");
            }
        }
    }
}

fn open_log(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)
}

fn rotate(path: &Path, r: &Rotation) -> std::io::Result<std::fs::File> {
    let stamp = jiff::Timestamp::now().strftime("%Y-%m-%dT%H-%M-%S%.3f").to_string();
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("audit");
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::rename(path, dir.join(format!("{stem}-{stamp}.log")))?;
    // prune old backups by count and age
    let mut backups: Vec<(PathBuf, std::time::SystemTime)> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.starts_with(&format!("{stem}-")) && n.ends_with(".log")))
        .filter_map(|e| Some((e.path(), e.metadata().ok()?.modified().ok()?)))
        .collect();
    backups.sort_by_key(|b| std::cmp::Reverse(b.1));
    let max_age = std::time::Duration::from_secs(r.max_age_days * 86400);
    for (i, (p, modified)) in backups.iter().enumerate() {
        let too_old = r.max_age_days > 0 && modified.elapsed().unwrap_or_default() > max_age;
        if i >= r.max_backups || too_old {
            let _ = std::fs::remove_file(p);
        }
    }
    open_log(path)
}

/// What the request context records for the audit event.
#[derive(Debug, Default)]
pub struct Record {
    /// The request's level.
    pub level: Level,
    /// The request body (level ≥ Request).
    pub request: Option<Bytes>,
    /// The response body (RequestResponse).
    pub response: Option<Bytes>,
    /// Annotations (authorization decision, PodSecurity).
    pub annotations: serde_json::Map<String, Value>,
}

fn body_value(b: &Option<Bytes>, omit_managed: bool) -> Option<Value> {
    let mut v: Value = serde_json::from_slice(b.as_ref()?).ok()?;
    if omit_managed && let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    Some(v)
}

fn micro(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Everything about one request an event is built from.
pub struct Entry<'a> {
    /// Request URI (path and query).
    pub uri: &'a str,
    /// Authorization attributes.
    pub attrs: &'a Attributes,
    /// The authenticated user.
    pub user: &'a UserInfo,
    /// The impersonated user, if any.
    pub impersonated: Option<&'a UserInfo>,
    /// Client address.
    pub source_ip: String,
    /// `User-Agent`.
    pub user_agent: &'a str,
    /// HTTP status.
    pub code: u16,
    /// When the request arrived.
    pub received: jiff::Timestamp,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ObjectRef<'a> {
    resource: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    namespace: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    api_group: &'a str,
    api_version: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    subresource: &'a str,
}

#[derive(serde::Serialize)]
struct ResponseStatus {
    metadata: serde_json::Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    code: u16,
}

/// One `audit.k8s.io/v1` Event, serialized straight to its JSON line.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event<'a> {
    kind: &'static str,
    api_version: &'static str,
    level: &'static str,
    #[serde(rename = "auditID")]
    audit_id: String,
    stage: &'static str,
    #[serde(rename = "requestURI")]
    request_uri: &'a str,
    verb: &'a str,
    user: &'a UserInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    impersonated_user: Option<&'a UserInfo>,
    #[serde(rename = "sourceIPs")]
    source_ips: [&'a str; 1],
    user_agent: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_ref: Option<ObjectRef<'a>>,
    response_status: ResponseStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_object: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_object: Option<Value>,
    request_received_timestamp: String,
    stage_timestamp: String,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    annotations: &'a serde_json::Map<String, Value>,
}

/// Builds the `ResponseComplete` event of a request.
pub fn event<'a>(e: &'a Entry<'a>, rec: &'a Record, omit_managed: bool) -> Event<'a> {
    let a = e.attrs;
    Event {
        kind: "Event",
        api_version: "audit.k8s.io/v1",
        level: rec.level.as_str(),
        audit_id: uuid::Uuid::new_v4().to_string(),
        stage: "ResponseComplete",
        request_uri: e.uri,
        verb: &a.verb,
        user: e.user,
        impersonated_user: e.impersonated,
        source_ips: [&e.source_ip],
        user_agent: e.user_agent,
        object_ref: a.resource_request.then(|| ObjectRef {
            resource: &a.resource,
            namespace: &a.namespace,
            name: &a.name,
            api_group: &a.api_group,
            api_version: &a.api_version,
            subresource: &a.subresource,
        }),
        response_status: ResponseStatus { metadata: Default::default(), status: (e.code >= 400).then_some("Failure"), code: e.code },
        request_object: if rec.level >= Level::Request { body_value(&rec.request, omit_managed) } else { None },
        response_object: if rec.level >= Level::RequestResponse { body_value(&rec.response, omit_managed) } else { None },
        request_received_timestamp: micro(e.received),
        stage_timestamp: micro(jiff::Timestamp::now()),
        annotations: &rec.annotations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(verb: &str, group: &str, resource: &str, sub: &str) -> Attributes {
        Attributes { verb: verb.into(), api_group: group.into(), resource: resource.into(), subresource: sub.into(), namespace: "default".into(), resource_request: true, ..Default::default() }
    }

    #[test]
    fn default_policy_levels() {
        let p = Policy::ferrokube_default();
        let u = UserInfo::new("jane", vec![]);
        assert_eq!(p.level(&u, &attrs("get", "", "secrets", "")), Level::Metadata);
        assert_eq!(p.level(&u, &attrs("create", "rbac.authorization.k8s.io", "rolebindings", "")), Level::RequestResponse);
        assert_eq!(p.level(&u, &attrs("create", "", "pods", "exec")), Level::RequestResponse);
        assert_eq!(p.level(&u, &attrs("create", "", "pods", "")), Level::Metadata);
        assert_eq!(p.level(&u, &Attributes::non_resource(&http::Method::GET, "/healthz")), Level::None);
        assert_eq!(p.level(&u, &Attributes::non_resource(&http::Method::GET, "/readyz/ping")), Level::None);
        assert_eq!(p.level(&u, &Attributes::non_resource(&http::Method::GET, "/api")), Level::Metadata);
    }

    #[test]
    fn policy_file_rules_match_in_order() {
        let p = Policy::parse(
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  users: [system:kube-proxy]\n- level: Request\n  resources:\n  - group: \"\"\n    resources: [\"pods/*\"]\n- level: Metadata\n  namespaces: [\"kube-system\"]\n",
        )
        .unwrap();
        let proxy = UserInfo::new("system:kube-proxy", vec![]);
        let u = UserInfo::new("jane", vec![]);
        assert_eq!(p.level(&proxy, &attrs("get", "", "pods", "log")), Level::None);
        assert_eq!(p.level(&u, &attrs("get", "", "pods", "log")), Level::Request);
        assert_eq!(p.level(&u, &attrs("get", "", "pods", "")), Level::None);
        let mut ks = attrs("get", "", "configmaps", "");
        ks.namespace = "kube-system".into();
        assert_eq!(p.level(&u, &ks), Level::Metadata);
        assert!(Policy::parse("apiVersion: v1\nkind: ConfigMap\n").is_err());
    }

    #[test]
    fn events_carry_no_body_at_metadata_and_bodies_above() {
        let u = UserInfo::new("jane", vec![]);
        let a = attrs("get", "", "secrets", "");
        let entry = Entry { uri: "/api/v1/namespaces/default/secrets/s", attrs: &a, user: &u, impersonated: None, source_ip: "127.0.0.1".into(), user_agent: "kubectl", code: 200, received: jiff::Timestamp::now() };
        let mut rec = Record { level: Level::Metadata, response: Some(Bytes::from_static(br#"{"data":{"p":"c2VjcmV0"}}"#)), ..Default::default() };
        let ev = serde_json::to_value(event(&entry, &rec, true)).unwrap();
        assert_eq!(ev["objectRef"]["resource"], "secrets");
        assert!(ev.get("responseObject").is_none());
        assert!(!ev.to_string().contains("c2VjcmV0"));
        rec.level = Level::RequestResponse;
        rec.request = Some(Bytes::from_static(br#"{"metadata":{"name":"x","managedFields":[{}]}}"#));
        let ev = serde_json::to_value(event(&entry, &rec, true)).unwrap();
        assert_eq!(ev["responseObject"]["data"]["p"], "c2VjcmV0");
        assert!(ev["requestObject"]["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn rotation_keeps_a_bounded_number_of_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let a = Auditor::open(path.clone(), Policy::ferrokube_default(), Rotation { max_size: 300, max_backups: 2, max_age_days: 30 }).unwrap();
        for i in 0..40 {
            a.log(&json!({"n": i, "pad": "x".repeat(100)}));
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        drop(a);
        std::thread::sleep(std::time::Duration::from_millis(200));
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().filter_map(Result::ok).collect();
        assert!(files.len() <= 3, "{} files", files.len());
        assert!(std::fs::metadata(&path).unwrap().len() <= 300);
    }
}
