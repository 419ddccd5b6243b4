//! Levels, policy versions, namespace labels and the per-namespace policy (upstream's `api`
//! package).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::text::go_quote;

/// Prefix of the namespace labels and of the audit annotations.
pub const LABEL_PREFIX: &str = "pod-security.kubernetes.io/";
/// Namespace label selecting the enforced level.
pub const ENFORCE_LEVEL_LABEL: &str = "pod-security.kubernetes.io/enforce";
/// Namespace label selecting the enforced policy version.
pub const ENFORCE_VERSION_LABEL: &str = "pod-security.kubernetes.io/enforce-version";
/// Namespace label selecting the audited level.
pub const AUDIT_LEVEL_LABEL: &str = "pod-security.kubernetes.io/audit";
/// Namespace label selecting the audited policy version.
pub const AUDIT_VERSION_LABEL: &str = "pod-security.kubernetes.io/audit-version";
/// Namespace label selecting the warned level.
pub const WARN_LEVEL_LABEL: &str = "pod-security.kubernetes.io/warn";
/// Namespace label selecting the warned policy version.
pub const WARN_VERSION_LABEL: &str = "pod-security.kubernetes.io/warn-version";

/// Audit annotation naming why a request was exempt (`user`, `namespace`, `runtimeClass`).
pub const EXEMPT_ANNOTATION: &str = "pod-security.kubernetes.io/exempt";
/// Audit annotation carrying the audit-mode violations.
pub const AUDIT_VIOLATIONS_ANNOTATION: &str = "pod-security.kubernetes.io/audit-violations";
/// Audit annotation naming the enforced `level:version`.
pub const ENFORCE_POLICY_ANNOTATION: &str = "pod-security.kubernetes.io/enforce-policy";
/// Audit annotation carrying an error (for example unparseable namespace labels).
pub const ERROR_ANNOTATION: &str = "pod-security.kubernetes.io/error";

/// The newest policy version with checks of its own in Kubernetes 1.32. `latest` and every
/// newer `v1.N` evaluate exactly as this version.
pub const MAX_POLICY_MINOR: u32 = 32;

const LEVEL_ERROR: &str = "must be one of privileged, baseline, restricted";
const VERSION_ERROR: &str = r#"must be "latest" or "v1.x""#;

/// Why a level or version string did not parse; the text is upstream's detail message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub &'static str);

/// A Pod Security Standards level. Ordered by strictness: privileged < baseline < restricted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Unrestricted.
    Privileged,
    /// Prevents known privilege escalations.
    Baseline,
    /// Hardened pods (includes baseline).
    Restricted,
}

impl Level {
    /// The label value: `privileged`, `baseline` or `restricted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }

    /// Parses a level as upstream's `ParseLevel` (exact, case-sensitive).
    pub fn parse(s: &str) -> Result<Level, ParseError> {
        match s {
            "privileged" => Ok(Level::Privileged),
            "baseline" => Ok(Level::Baseline),
            "restricted" => Ok(Level::Restricted),
            _ => Err(ParseError(LEVEL_ERROR)),
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::parse(s)
    }
}

/// A policy version: `latest` or `v1.N` (the major is always 1).
///
/// Ordered as upstream's `Older`: every `V(n)` is older than `Latest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// The newest policy, whatever the server's version.
    Latest,
    /// The policy as of Kubernetes `1.N` (the field is the minor).
    V(u32),
}

impl Version {
    /// Parses `latest` or `v1.N` (no leading zeros, no sign) as upstream's `ParseVersion`.
    ///
    /// Upstream parses the minor into a Go `int`; minors above `u32::MAX` are rejected here.
    pub fn parse(s: &str) -> Result<Version, ParseError> {
        if s == "latest" {
            return Ok(Version::Latest);
        }
        let digits = s.strip_prefix("v1.").ok_or(ParseError(VERSION_ERROR))?;
        let well_formed = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        if !well_formed {
            return Err(ParseError(VERSION_ERROR));
        }
        digits
            .parse::<u32>()
            .map(Version::V)
            .map_err(|_| ParseError(VERSION_ERROR))
    }

    /// The minor version whose checks apply: `latest` and anything newer than
    /// [`MAX_POLICY_MINOR`] is clamped to it.
    pub fn effective_minor(self) -> u32 {
        match self {
            Version::Latest => MAX_POLICY_MINOR,
            Version::V(n) => n.min(MAX_POLICY_MINOR),
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Version::Latest, Version::Latest) => Ordering::Equal,
            (Version::Latest, Version::V(_)) => Ordering::Greater,
            (Version::V(_), Version::Latest) => Ordering::Less,
            (Version::V(a), Version::V(b)) => a.cmp(b),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Latest => f.write_str("latest"),
            Version::V(n) => write!(f, "v1.{n}"),
        }
    }
}

impl FromStr for Version {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::parse(s)
    }
}

/// A level at a policy version; displayed as `baseline:latest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LevelVersion {
    /// The level.
    pub level: Level,
    /// The policy version.
    pub version: Version,
}

impl LevelVersion {
    /// A level at a version.
    pub const fn new(level: Level, version: Version) -> LevelVersion {
        LevelVersion { level, version }
    }

    /// `privileged:latest`.
    pub const PRIVILEGED: LevelVersion = LevelVersion::new(Level::Privileged, Version::Latest);

    /// Upstream's `Equivalent`: both privileged (any versions), or equal level and version.
    pub fn equivalent(&self, other: &LevelVersion) -> bool {
        (self.level == Level::Privileged && other.level == Level::Privileged) || self == other
    }
}

impl fmt::Display for LevelVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.level, self.version)
    }
}

/// The three modes' levels for one namespace (upstream's `api.Policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NamespacePolicy {
    /// Violations reject pods.
    pub enforce: LevelVersion,
    /// Violations are recorded in the audit annotation.
    pub audit: LevelVersion,
    /// Violations are returned as warnings.
    pub warn: LevelVersion,
}

impl NamespacePolicy {
    /// Upstream's built-in default: `privileged:latest` for all three modes.
    pub const PRIVILEGED: NamespacePolicy = NamespacePolicy {
        enforce: LevelVersion::PRIVILEGED,
        audit: LevelVersion::PRIVILEGED,
        warn: LevelVersion::PRIVILEGED,
    };

    /// All three modes privileged.
    pub fn fully_privileged(&self) -> bool {
        self.enforce.level == Level::Privileged
            && self.audit.level == Level::Privileged
            && self.warn.level == Level::Privileged
    }

    /// Upstream's `Equivalent`: every mode equivalent.
    pub fn equivalent(&self, other: &NamespacePolicy) -> bool {
        self.enforce.equivalent(&other.enforce)
            && self.audit.equivalent(&other.audit)
            && self.warn.equivalent(&other.warn)
    }
}

impl Default for NamespacePolicy {
    fn default() -> Self {
        NamespacePolicy::PRIVILEGED
    }
}

/// An invalid Pod Security namespace label, as upstream's `field.Invalid` on
/// `metadata.labels[<label>]`. Its `Display` is the Go `field.Error` text:
/// `metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "foo": must be one of privileged, baseline, restricted`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelError {
    /// The field path, `metadata.labels[<label key>]`.
    pub field: String,
    /// The rejected label value.
    pub value: String,
    /// Upstream's detail (`must be one of ...` / `must be "latest" or "v1.x"`).
    pub detail: String,
}

impl LabelError {
    fn new(label: &str, value: &str, err: ParseError) -> LabelError {
        LabelError {
            field: format!("metadata.labels[{label}]"),
            value: value.to_string(),
            detail: err.0.to_string(),
        }
    }

    /// The `Invalid value: "<v>": <detail>` part (Go's `ErrorBody`, the `StatusCause` message).
    pub fn body(&self) -> String {
        format!("Invalid value: {}: {}", go_quote(&self.value), self.detail)
    }
}

impl fmt::Display for LabelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

impl std::error::Error for LabelError {}

/// Resolves a namespace's labels to its policy exactly as upstream's `PolicyToEvaluate`:
/// a usable policy is always returned, together with the label errors.
///
/// - Unset labels take the value from `defaults`.
/// - An invalid enforce level evaluates as `restricted` (fail closed); an invalid audit or warn
///   level as `privileged` (fail open); an invalid version as `latest`.
/// - When `enforce` is set (validly) to a level stricter than the resulting warn level and no
///   `warn` label is present, warn follows enforce (and its version, unless `warn-version` is
///   set).
pub fn namespace_policy(
    labels: &BTreeMap<String, String>,
    defaults: &NamespacePolicy,
) -> (NamespacePolicy, Vec<LabelError>) {
    let mut p = *defaults;
    let mut errs = Vec::new();
    if labels.is_empty() {
        return (p, errs);
    }
    let mut has_enforce_level = false;
    let mut has_warn_level = false;
    let mut has_warn_version = false;

    if let Some(v) = labels.get(ENFORCE_LEVEL_LABEL) {
        match Level::parse(v) {
            Ok(l) => {
                p.enforce.level = l;
                has_enforce_level = true;
            }
            Err(e) => {
                p.enforce.level = Level::Restricted;
                errs.push(LabelError::new(ENFORCE_LEVEL_LABEL, v, e));
            }
        }
    }
    if let Some(v) = labels.get(ENFORCE_VERSION_LABEL) {
        p.enforce.version = parse_version_label(v, ENFORCE_VERSION_LABEL, &mut errs);
    }
    if let Some(v) = labels.get(AUDIT_LEVEL_LABEL) {
        p.audit.level = parse_open_level(v, AUDIT_LEVEL_LABEL, &mut errs);
    }
    if let Some(v) = labels.get(AUDIT_VERSION_LABEL) {
        p.audit.version = parse_version_label(v, AUDIT_VERSION_LABEL, &mut errs);
    }
    if let Some(v) = labels.get(WARN_LEVEL_LABEL) {
        has_warn_level = true;
        p.warn.level = parse_open_level(v, WARN_LEVEL_LABEL, &mut errs);
    }
    if let Some(v) = labels.get(WARN_VERSION_LABEL) {
        has_warn_version = true;
        p.warn.version = parse_version_label(v, WARN_VERSION_LABEL, &mut errs);
    }

    if !has_warn_level && has_enforce_level && p.enforce.level > p.warn.level {
        p.warn.level = p.enforce.level;
        if !has_warn_version {
            p.warn.version = p.enforce.version;
        }
    }
    (p, errs)
}

fn parse_open_level(v: &str, label: &str, errs: &mut Vec<LabelError>) -> Level {
    Level::parse(v).unwrap_or_else(|e| {
        errs.push(LabelError::new(label, v, e));
        Level::Privileged
    })
}

fn parse_version_label(v: &str, label: &str, errs: &mut Vec<LabelError>) -> Version {
    Version::parse(v).unwrap_or_else(|e| {
        errs.push(LabelError::new(label, v, e));
        Version::Latest
    })
}

/// The namespace's policy, or the texts of its label errors
/// (`metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "foo": must be one of privileged, baseline, restricted`).
///
/// Upstream rejects a namespace create with such labels (and an update that changes the set of
/// errors) with `422 Invalid` (see [`crate::Config::validate_namespace`] and
/// [`invalid_namespace_message`]); pods in a namespace that already carries bad labels are
/// still evaluated against the fallback policy of [`namespace_policy`].
pub fn policy_for_namespace(
    labels: &BTreeMap<String, String>,
    defaults: &NamespacePolicy,
) -> Result<NamespacePolicy, Vec<String>> {
    let (p, errs) = namespace_policy(labels, defaults);
    if errs.is_empty() {
        Ok(p)
    } else {
        Err(errs.iter().map(ToString::to_string).collect())
    }
}

/// The message of upstream's `422 Invalid` for a namespace with bad labels:
/// `Namespace "NAME" is invalid: <error>` (several errors as `[e1, e2]`).
pub fn invalid_namespace_message(name: &str, errors: &[LabelError]) -> String {
    let msgs: Vec<String> = errors.iter().map(ToString::to_string).collect();
    if msgs.is_empty() {
        format!("Namespace {} is invalid", go_quote(name))
    } else {
        format!(
            "Namespace {} is invalid: {}",
            go_quote(name),
            crate::text::aggregate(&msgs)
        )
    }
}
