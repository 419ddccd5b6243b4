//! The admission configuration: cluster-wide defaults and exemptions (upstream's
//! `PodSecurityConfiguration`, `pod-security.admission.config.k8s.io/v1`).

use serde::Deserialize;

use crate::api::{Level, LevelVersion, NamespacePolicy, ParseError, Version};
use crate::text::{aggregate, go_quote};

/// The API group of the configuration.
pub const CONFIG_GROUP: &str = "pod-security.admission.config.k8s.io";
/// The kind of the configuration.
pub const CONFIG_KIND: &str = "PodSecurityConfiguration";

/// Requests PSA does not evaluate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exemptions {
    /// Authenticated user names whose requests are exempt.
    pub usernames: Vec<String>,
    /// Namespaces whose pods and workloads are exempt.
    pub namespaces: Vec<String>,
    /// Runtime class names whose pods are exempt.
    pub runtime_class_names: Vec<String>,
}

impl Exemptions {
    /// Whether the (non-empty) namespace is exempt.
    pub fn namespace(&self, namespace: &str) -> bool {
        !namespace.is_empty() && self.namespaces.iter().any(|n| n == namespace)
    }

    /// Whether the (non-empty) user name is exempt.
    pub fn username(&self, username: &str) -> bool {
        !username.is_empty() && self.usernames.iter().any(|u| u == username)
    }

    /// Whether the pod's (set, non-empty) runtime class is exempt.
    pub fn runtime_class(&self, runtime_class_name: Option<&str>) -> bool {
        runtime_class_name
            .is_some_and(|rc| !rc.is_empty() && self.runtime_class_names.iter().any(|r| r == rc))
    }
}

/// PSA's configuration. Deserializes from upstream's `PodSecurityConfiguration` document
/// (`apiVersion: pod-security.admission.config.k8s.io/v1`, also `v1beta1` and `v1alpha1`, which
/// have the same fields); unset defaults become `privileged` / `latest` as upstream defaults
/// them, and the document is validated as upstream validates it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawConfig")]
pub struct Config {
    /// The policy of a namespace without Pod Security labels.
    pub defaults: NamespacePolicy,
    /// What is not evaluated at all.
    pub exemptions: Exemptions,
}

impl Default for Config {
    /// Upstream's configuration when none is given: privileged everywhere, no exemptions.
    fn default() -> Self {
        Config {
            defaults: NamespacePolicy::PRIVILEGED,
            exemptions: Exemptions::default(),
        }
    }
}

impl Config {
    /// ferrokube's secure default: enforce `baseline:latest`, audit and warn
    /// `restricted:latest`, namespace `kube-system` exempt.
    pub fn ferrokube_default() -> Config {
        Config {
            defaults: NamespacePolicy {
                enforce: LevelVersion::new(Level::Baseline, Version::Latest),
                audit: LevelVersion::new(Level::Restricted, Version::Latest),
                warn: LevelVersion::new(Level::Restricted, Version::Latest),
            },
            exemptions: Exemptions {
                usernames: Vec::new(),
                namespaces: vec!["kube-system".to_string()],
                runtime_class_names: Vec::new(),
            },
        }
    }

    /// Parses a `PodSecurityConfiguration` from JSON.
    pub fn from_json(value: serde_json::Value) -> Result<Config, ConfigError> {
        let raw: RawConfig =
            serde_json::from_value(value).map_err(|e| ConfigError(e.to_string()))?;
        Config::try_from(raw)
    }
}

/// An invalid configuration; the text follows upstream's validation messages
/// (`defaults.enforce: Invalid value: "x": must be one of privileged, baseline, restricted`,
/// several as `[a, b]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// The wire form of the configuration.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawConfig {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    defaults: Option<RawDefaults>,
    #[serde(default)]
    exemptions: Option<RawExemptions>,
}

#[derive(Debug, Default, Deserialize)]
struct RawDefaults {
    #[serde(default)]
    enforce: Option<String>,
    #[serde(default, rename = "enforce-version")]
    enforce_version: Option<String>,
    #[serde(default)]
    audit: Option<String>,
    #[serde(default, rename = "audit-version")]
    audit_version: Option<String>,
    #[serde(default)]
    warn: Option<String>,
    #[serde(default, rename = "warn-version")]
    warn_version: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawExemptions {
    #[serde(default)]
    usernames: Option<Vec<String>>,
    #[serde(default)]
    namespaces: Option<Vec<String>>,
    #[serde(default)]
    runtime_classes: Option<Vec<String>>,
}

impl TryFrom<RawConfig> for Config {
    type Error = ConfigError;

    fn try_from(raw: RawConfig) -> Result<Self, Self::Error> {
        let api_version = raw.api_version.unwrap_or_default();
        let kind = raw.kind.unwrap_or_default();
        let version_ok = api_version
            .strip_prefix(CONFIG_GROUP)
            .and_then(|v| v.strip_prefix('/'))
            .is_some_and(|v| matches!(v, "v1" | "v1beta1" | "v1alpha1"));
        if !version_ok {
            return Err(ConfigError(format!(
                "unsupported apiVersion {} for {CONFIG_KIND} (expected {CONFIG_GROUP}/v1)",
                go_quote(&api_version)
            )));
        }
        if kind != CONFIG_KIND {
            return Err(ConfigError(format!(
                "expected kind {CONFIG_KIND}, got {}",
                go_quote(&kind)
            )));
        }

        let d = raw.defaults.unwrap_or_default();
        let mut errs: Vec<String> = Vec::new();
        // Empty values are defaulted first (upstream's SetDefaults_PodSecurityDefaults), then
        // validated in upstream's order: enforce, warn, audit.
        let enforce = level_field("defaults.enforce", d.enforce, &mut errs);
        let enforce_version =
            version_field("defaults.enforce-version", d.enforce_version, &mut errs);
        let warn = level_field("defaults.warn", d.warn, &mut errs);
        let warn_version = version_field("defaults.warn-version", d.warn_version, &mut errs);
        let audit = level_field("defaults.audit", d.audit, &mut errs);
        let audit_version = version_field("defaults.audit-version", d.audit_version, &mut errs);

        let e = raw.exemptions.unwrap_or_default();
        let namespaces = e.namespaces.unwrap_or_default();
        let runtime_classes = e.runtime_classes.unwrap_or_default();
        let usernames = e.usernames.unwrap_or_default();
        check_list(
            "exemptions.namespaces",
            &namespaces,
            dns1123_label_errors,
            &mut errs,
        );
        check_list(
            "exemptions.runtimeClasses",
            &runtime_classes,
            dns1123_subdomain_errors,
            &mut errs,
        );
        check_list(
            "exemptions.usernames",
            &usernames,
            |u| {
                if u.is_empty() {
                    vec!["username must not be empty".to_string()]
                } else {
                    Vec::new()
                }
            },
            &mut errs,
        );

        if !errs.is_empty() {
            return Err(ConfigError(aggregate(&errs)));
        }
        Ok(Config {
            defaults: NamespacePolicy {
                enforce: LevelVersion::new(enforce, enforce_version),
                audit: LevelVersion::new(audit, audit_version),
                warn: LevelVersion::new(warn, warn_version),
            },
            exemptions: Exemptions {
                usernames,
                namespaces,
                runtime_class_names: runtime_classes,
            },
        })
    }
}

fn invalid(path: &str, value: &str, detail: &str) -> String {
    format!("{path}: Invalid value: {}: {detail}", go_quote(value))
}

fn level_field(path: &str, value: Option<String>, errs: &mut Vec<String>) -> Level {
    let v = value
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "privileged".to_string());
    Level::parse(&v).unwrap_or_else(|ParseError(detail)| {
        errs.push(invalid(path, &v, detail));
        Level::Privileged
    })
}

fn version_field(path: &str, value: Option<String>, errs: &mut Vec<String>) -> Version {
    let v = value
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "latest".to_string());
    Version::parse(&v).unwrap_or_else(|ParseError(detail)| {
        errs.push(invalid(path, &v, detail));
        Version::Latest
    })
}

fn check_list(
    path: &str,
    items: &[String],
    validate: impl Fn(&str) -> Vec<String>,
    errs: &mut Vec<String>,
) {
    let mut seen: Vec<&str> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let problems = validate(item);
        if !problems.is_empty() {
            errs.push(invalid(&format!("{path}[{i}]"), item, &problems.join(", ")));
            continue;
        }
        if seen.contains(&item.as_str()) {
            errs.push(format!("{path}[{i}]: Duplicate value: {}", go_quote(item)));
            continue;
        }
        seen.push(item);
    }
}

const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

fn is_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn is_subdomain(s: &str) -> bool {
    s.split('.').all(is_label)
}

/// Upstream's `IsDNS1123Label` messages (namespace names).
fn dns1123_label_errors(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push("must be no more than 63 characters".to_string());
    }
    if !is_label(s) {
        if is_subdomain(s) {
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(DNS1123_LABEL_MSG.to_string());
        }
    }
    errs
}

/// Upstream's `IsDNS1123Subdomain` messages (runtime class names).
fn dns1123_subdomain_errors(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 253 {
        errs.push("must be no more than 253 characters".to_string());
    }
    if !is_subdomain(s) {
        errs.push(DNS1123_SUBDOMAIN_MSG.to_string());
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ferrokube_default() {
        let c = Config::ferrokube_default();
        assert_eq!(c.defaults.enforce.to_string(), "baseline:latest");
        assert_eq!(c.defaults.audit.to_string(), "restricted:latest");
        assert_eq!(c.defaults.warn.to_string(), "restricted:latest");
        assert!(c.exemptions.namespace("kube-system"));
        assert!(!c.exemptions.namespace("default"));
        assert!(!c.exemptions.namespace(""));
    }

    #[test]
    fn upstream_default_is_privileged() {
        let c = Config::default();
        assert!(c.defaults.fully_privileged());
        let parsed = Config::from_json(json!({
            "apiVersion": "pod-security.admission.config.k8s.io/v1",
            "kind": "PodSecurityConfiguration"
        }))
        .unwrap();
        assert_eq!(parsed, c);
    }

    #[test]
    fn parses_full_document() {
        let c: Config = serde_json::from_value(json!({
            "apiVersion": "pod-security.admission.config.k8s.io/v1",
            "kind": "PodSecurityConfiguration",
            "defaults": {
                "enforce": "baseline", "enforce-version": "v1.29",
                "audit": "restricted", "audit-version": "latest",
                "warn": "restricted"
            },
            "exemptions": {
                "usernames": ["system:serviceaccount:kube-system:replicaset-controller"],
                "runtimeClasses": ["kata.example.com"],
                "namespaces": ["kube-system", "ops"]
            },
            "unknownField": true
        }))
        .unwrap();
        assert_eq!(
            c.defaults.enforce,
            LevelVersion::new(Level::Baseline, Version::V(29))
        );
        assert_eq!(
            c.defaults.audit,
            LevelVersion::new(Level::Restricted, Version::Latest)
        );
        assert_eq!(
            c.defaults.warn,
            LevelVersion::new(Level::Restricted, Version::Latest)
        );
        assert_eq!(c.exemptions.namespaces, ["kube-system", "ops"]);
        assert!(
            c.exemptions
                .username("system:serviceaccount:kube-system:replicaset-controller")
        );
        assert!(c.exemptions.runtime_class(Some("kata.example.com")));
        assert!(!c.exemptions.runtime_class(None));
        assert!(!c.exemptions.runtime_class(Some("")));
    }

    #[test]
    fn older_api_versions_accepted() {
        for v in ["v1beta1", "v1alpha1"] {
            let c = Config::from_json(json!({
                "apiVersion": format!("pod-security.admission.config.k8s.io/{v}"),
                "kind": "PodSecurityConfiguration",
                "defaults": {"enforce": "restricted"}
            }))
            .unwrap();
            assert_eq!(c.defaults.enforce.level, Level::Restricted);
        }
    }

    #[test]
    fn rejects_wrong_type() {
        let e = Config::from_json(json!({"apiVersion": "v1", "kind": "PodSecurityConfiguration"}))
            .unwrap_err();
        assert!(e.0.contains("apiVersion"), "{e}");
        let e = Config::from_json(
            json!({"apiVersion": "pod-security.admission.config.k8s.io/v1", "kind": "Other"}),
        )
        .unwrap_err();
        assert!(e.0.contains("kind"), "{e}");
    }

    #[test]
    fn validation_messages() {
        let e = Config::from_json(json!({
            "apiVersion": "pod-security.admission.config.k8s.io/v1",
            "kind": "PodSecurityConfiguration",
            "defaults": {"enforce": "strict"}
        }))
        .unwrap_err();
        assert_eq!(
            e.0,
            r#"defaults.enforce: Invalid value: "strict": must be one of privileged, baseline, restricted"#
        );

        let e = Config::from_json(json!({
            "apiVersion": "pod-security.admission.config.k8s.io/v1",
            "kind": "PodSecurityConfiguration",
            "defaults": {"audit-version": "1.22", "warn": "Baseline"},
            "exemptions": {"namespaces": ["ok", "Bad", "ok", "a.b"], "usernames": ["", "u", "u"], "runtimeClasses": ["-x"]}
        }))
        .unwrap_err();
        assert_eq!(
            e.0,
            [
                "[defaults.warn: Invalid value: \"Baseline\": must be one of privileged, baseline, restricted",
                r#"defaults.audit-version: Invalid value: "1.22": must be "latest" or "v1.x""#,
                &format!(r#"exemptions.namespaces[1]: Invalid value: "Bad": {DNS1123_LABEL_MSG}"#),
                r#"exemptions.namespaces[2]: Duplicate value: "ok""#,
                r#"exemptions.namespaces[3]: Invalid value: "a.b": must not contain dots"#,
                &format!(r#"exemptions.runtimeClasses[0]: Invalid value: "-x": {DNS1123_SUBDOMAIN_MSG}"#),
                r#"exemptions.usernames[0]: Invalid value: "": username must not be empty"#,
                r#"exemptions.usernames[2]: Duplicate value: "u"]"#,
            ]
            .join(", ")
        );
    }
}
