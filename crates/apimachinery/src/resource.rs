//! What names a resource: group, version, kind, plural, scope, verbs, short names, categories.
//!
//! One [`ResourceInfo`] per served group/version/resource is the single source from which the
//! apiserver derives routes, discovery documents, OpenAPI paths and RBAC resource names.

/// The verbs a resource supports, in upstream's discovery order.
pub const ALL_VERBS: &[&str] =
    &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

/// The naming and scope facts of one served resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceInfo {
    /// API group ("" for the core group).
    pub group: String,
    /// API version, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `Pod`.
    pub kind: String,
    /// Plural resource name, e.g. `pods`.
    pub plural: String,
    /// Singular resource name, e.g. `pod`.
    pub singular: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Supported verbs.
    pub verbs: Vec<String>,
    /// Short names, e.g. `po`.
    pub short_names: Vec<String>,
    /// Categories, e.g. `all`.
    pub categories: Vec<String>,
}

impl ResourceInfo {
    /// A resource with every verb, no short names and no categories.
    pub fn new(group: &str, version: &str, kind: &str, plural: &str, namespaced: bool) -> Self {
        ResourceInfo {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
            plural: plural.to_string(),
            singular: kind.to_ascii_lowercase(),
            namespaced,
            verbs: ALL_VERBS.iter().map(|s| s.to_string()).collect(),
            short_names: Vec::new(),
            categories: Vec::new(),
        }
    }
    /// Sets short names.
    pub fn short(mut self, names: &[&str]) -> Self {
        self.short_names = names.iter().map(|s| s.to_string()).collect();
        self
    }
    /// Sets categories.
    pub fn categories(mut self, cats: &[&str]) -> Self {
        self.categories = cats.iter().map(|s| s.to_string()).collect();
        self
    }
    /// Replaces the verb list.
    pub fn verbs(mut self, verbs: &[&str]) -> Self {
        self.verbs = verbs.iter().map(|s| s.to_string()).collect();
        self
    }
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        group_version(&self.group, &self.version)
    }
    /// `pods` or `deployments.apps`.
    pub fn group_resource(&self) -> String {
        crate::status::qualified(&self.plural, &self.group)
    }
    /// The kind of the list, e.g. `PodList`.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }
    /// Whether the verb is supported.
    pub fn has_verb(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }
}

/// `group/version`, or `version` for the core group.
pub fn group_version(group: &str, version: &str) -> String {
    if group.is_empty() { version.to_string() } else { format!("{group}/{version}") }
}

/// Splits an `apiVersion` into group and version (`v1` → ("", "v1")).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// Compares Kubernetes versions by priority as upstream's discovery does: GA > beta > alpha,
/// higher major first, then higher minor ("v2" > "v1" > "v1beta2" > "v1beta1" > "v1alpha1"),
/// non-conforming strings last in lexical order. Returns `Ordering::Less` when `a` sorts first
/// (has higher priority).
pub fn version_priority(a: &str, b: &str) -> std::cmp::Ordering {
    fn parse(v: &str) -> Option<(u64, u8, u64)> {
        let rest = v.strip_prefix('v')?;
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            return None;
        }
        let major: u64 = digits.parse().ok()?;
        let tail = &rest[digits.len()..];
        if tail.is_empty() {
            return Some((major, 2, 0));
        }
        let (level, num) = if let Some(n) = tail.strip_prefix("beta") {
            (1, n)
        } else if let Some(n) = tail.strip_prefix("alpha") {
            (0, n)
        } else {
            return None;
        };
        if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        Some((major, level, num.parse().ok()?))
    }
    match (parse(a), parse(b)) {
        (Some((ma, la, na)), Some((mb, lb, nb))) => lb.cmp(&la).then(mb.cmp(&ma)).then(nb.cmp(&na)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_ordering() {
        let mut v = vec!["v1alpha1", "v1beta1", "v1", "v2", "v1beta2", "foo", "v10"];
        v.sort_by(|a, b| version_priority(a, b));
        assert_eq!(v, vec!["v10", "v2", "v1", "v1beta2", "v1beta1", "v1alpha1", "foo"]);
    }

    #[test]
    fn names() {
        let r = ResourceInfo::new("apps", "v1", "Deployment", "deployments", true);
        assert_eq!(r.api_version(), "apps/v1");
        assert_eq!(r.group_resource(), "deployments.apps");
        assert_eq!(r.list_kind(), "DeploymentList");
        assert_eq!(split_api_version("v1"), ("", "v1"));
        assert_eq!(split_api_version("apps/v1"), ("apps", "v1"));
    }
}
