//! Who is asking and may they: authentication (client certificates, ServiceAccount and
//! bootstrap tokens), impersonation, authorization (system:masters, the Node authorizer, RBAC),
//! the TokenRequest API and the access and token review APIs.
//!
//! Every request but the health and version probes carries an authenticated user; the user of
//! the request being served is available to the handlers through [`current_user`].

use std::collections::BTreeMap;
use std::sync::Arc;

pub mod authn;
pub mod authz;
pub mod impersonate;
pub mod node;
pub mod rbac_index;
pub mod reviews;
pub mod tokens;

/// An authenticated user, as upstream's `user.Info`. It serializes as `authentication.k8s.io`'s
/// `UserInfo` (reviews, AdmissionReviews, audit events).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct UserInfo {
    /// User name (`admin`, `system:serviceaccount:ns:name`, `system:node:n1`).
    #[serde(rename = "username")]
    pub name: String,
    /// A unique id when the authenticator has one (service accounts).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// Groups, `system:authenticated` included.
    pub groups: Vec<String>,
    /// Extra attributes (`authentication.kubernetes.io/pod-name`, ...).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Vec<String>>,
}

impl UserInfo {
    /// A user with groups, `system:authenticated` appended when missing.
    pub fn new(name: impl Into<String>, groups: Vec<String>) -> UserInfo {
        let mut u = UserInfo { name: name.into(), groups, ..Default::default() };
        if !u.groups.iter().any(|g| g == SYSTEM_AUTHENTICATED) {
            u.groups.push(SYSTEM_AUTHENTICATED.into());
        }
        u
    }

    /// The apiserver itself (internal writes: bootstrap objects, controllers of the apiserver).
    pub fn apiserver() -> UserInfo {
        UserInfo::new("system:apiserver", vec![SYSTEM_MASTERS.into()])
    }

    /// Whether the user is in a group.
    pub fn in_group(&self, g: &str) -> bool {
        self.groups.iter().any(|x| x == g)
    }

    /// The node name of a `system:node:<name>` user in the `system:nodes` group.
    pub fn node_name(&self) -> Option<&str> {
        if !self.in_group("system:nodes") {
            return None;
        }
        self.name.strip_prefix("system:node:").filter(|n| !n.is_empty())
    }

    /// `(namespace, name)` of a service account user.
    pub fn service_account(&self) -> Option<(&str, &str)> {
        let rest = self.name.strip_prefix("system:serviceaccount:")?;
        rest.split_once(':')
    }
}

/// Group of every authenticated user.
pub const SYSTEM_AUTHENTICATED: &str = "system:authenticated";
/// The privileged group: every request allowed.
pub const SYSTEM_MASTERS: &str = "system:masters";

/// The user of the request being handled (the apiserver itself outside a request).
pub fn current_user() -> Arc<UserInfo> {
    crate::context::user()
}
