//! Admission: the plugins the generic store runs on every write, in upstream's order.
//!
//! Mutating phase (before the strategy prepares and validates the object): LimitRanger
//! (default requests and limits), ServiceAccount
//! (default service account, the projected `kube-api-access-*` token volume), Priority (the
//! pod's priority from its PriorityClass), DefaultTolerationSeconds (300 s tolerations of the
//! not-ready/unreachable taints), then the
//! mutating admission webhooks.
//! Validating phase (after the strategy's validation, before the write): NamespaceLifecycle,
//! ServiceAccount, NodeRestriction, PodSecurity, DenyServiceExternalIPs, RBAC escalation
//! prevention, CertificateApproval/Signing/SubjectRestriction, LimitRanger, then the
//! validating admission webhooks, and last ResourceQuota (which reserves what it admits).
//!
//! Plugins see the request through [`Request`]; they never write to storage themselves.
//! Warnings (PodSecurity's `warn` level) reach the client as `Warning` headers through the
//! request context.

use apimachinery::{ApiError, ApiResult};

use crate::Api;
use crate::auth::UserInfo;
use crate::registry::{Object, Resource};

pub mod certificates;
pub mod default_toleration_seconds;
pub mod lifecycle;
pub mod limit_ranger;
pub mod node_restriction;
pub mod pod_security;
pub mod priority;
pub mod rbac_escalation;
pub mod resource_quota;
pub mod service_account;
pub mod webhook;

pub use lifecycle::namespace_lifecycle;

/// The operation being admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// A new object.
    Create,
    /// A changed object.
    Update,
    /// A deleted object.
    Delete,
}

impl Operation {
    /// Upstream's name (`CREATE`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
        }
    }
}

/// One write as the admission plugins see it.
pub struct Request<'a> {
    /// What is done.
    pub operation: Operation,
    /// Who does it.
    pub user: &'a UserInfo,
    /// The resource.
    pub res: &'a Resource,
    /// Subresource ("" for the main resource).
    pub subresource: &'a str,
    /// Namespace ("" when cluster-scoped).
    pub namespace: &'a str,
    /// Object name (may be empty on create with generateName before naming).
    pub name: &'a str,
    /// The object before the write (updates and deletes).
    pub old: Option<&'a dyn Object>,
    /// `dryRun=All`.
    pub dry_run: bool,
}

impl Request<'_> {
    /// Whether the request is on `group`/`plural`, main resource or the given subresource.
    pub fn is(&self, group: &str, plural: &str) -> bool {
        self.res.info.group == group && self.res.info.plural == plural
    }
}

/// The mutating phase.
pub async fn mutate(api: &Api, req: &Request<'_>, obj: &mut Box<dyn Object>) -> ApiResult<()> {
    limit_ranger::mutate(api, req, obj.as_mut())?;
    service_account::mutate(api, req, obj.as_mut())?;
    priority::mutate(api, req, obj.as_mut())?;
    default_toleration_seconds::mutate(req, obj.as_mut())?;
    webhook::mutate(api, req, obj).await?;
    Ok(())
}

/// The validating phase.
pub async fn validate(api: &Api, req: &Request<'_>, obj: &dyn Object) -> ApiResult<()> {
    if req.operation == Operation::Create && req.res.info.namespaced {
        lifecycle::namespace_lifecycle(api, req.namespace, &req.res.info.group, &req.res.info.plural, req.name).await?;
    }
    service_account::validate(api, req, obj).await?;
    node_restriction::validate(api, req, obj)?;
    pod_security::validate(api, req, obj)?;
    deny_external_ips(req, obj)?;
    rbac_escalation::validate(api, req, obj)?;
    certificates::validate(api, req, obj)?;
    limit_ranger::validate(api, req, obj)?;
    webhook::validate(api, req, Some(obj)).await?;
    resource_quota::validate(api, req, obj).await?;
    Ok(())
}

/// Admission of a delete.
pub async fn validate_delete(api: &Api, req: &Request<'_>) -> ApiResult<()> {
    if let Some(old) = req.old {
        node_restriction::validate(api, req, old)?;
    }
    webhook::validate(api, req, None).await?;
    Ok(())
}

/// DenyServiceExternalIPs: no new `spec.externalIPs` on services (CVE-2020-8554).
fn deny_external_ips(req: &Request<'_>, obj: &dyn Object) -> ApiResult<()> {
    if !req.is("", "services") || !req.subresource.is_empty() || req.operation == Operation::Delete {
        return Ok(());
    }
    let ips = |o: &dyn Object| -> Vec<String> {
        o.to_value()
            .ok()
            .and_then(|v| v.pointer("/spec/externalIPs").cloned())
            .and_then(|v| serde_json::from_value::<Vec<String>>(v).ok())
            .unwrap_or_default()
    };
    let new = ips(obj);
    if new.is_empty() {
        return Ok(());
    }
    let old = req.old.map(ips).unwrap_or_default();
    if new.iter().all(|ip| old.contains(ip)) {
        return Ok(());
    }
    Err(ApiError::forbidden(
        "",
        "services",
        req.name,
        "Use of external IPs is denied by admission control",
    ))
}

/// A warning for the client of the current request.
pub fn warn(message: String) {
    crate::context::add_warning(message);
}
