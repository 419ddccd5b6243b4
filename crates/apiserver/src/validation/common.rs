//! Helpers shared by the per-group validators: error constructors taking [`Path`]s, name and
//! label checks turned into field errors, IP/CIDR checks, semantic equality, immutability.

use std::collections::BTreeMap;

use apimachinery::field::{ErrorKind, FieldError, Path};
use apimachinery::validation as v;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::serde::Serialize;
use serde_json::Value;

use apimachinery::quantity;

/// The error vector validators build up.
pub(crate) type Errs = Vec<FieldError>;

pub(crate) const FIELD_IMMUTABLE: &str = "field is immutable";
pub(crate) const IS_NEGATIVE: &str = "must be greater than or equal to 0";
pub(crate) const IS_NOT_POSITIVE: &str = "must be greater than zero";
pub(crate) const MAX_INT32: i64 = i32::MAX as i64;

pub(crate) fn p(root: &str) -> Path {
    Path::new(root)
}

pub(crate) fn required(path: &Path, detail: &str) -> FieldError {
    FieldError::required(path, detail)
}

pub(crate) fn invalid(path: &Path, value: impl Into<Value>, detail: impl Into<String>) -> FieldError {
    FieldError::invalid(path, value, detail)
}

pub(crate) fn forbidden(path: &Path, detail: impl Into<String>) -> FieldError {
    FieldError::forbidden(path, detail)
}

pub(crate) fn duplicate(path: &Path, value: impl Into<Value>) -> FieldError {
    FieldError::duplicate(path, value)
}

pub(crate) fn not_found(path: &Path, value: impl Into<Value>) -> FieldError {
    FieldError::not_found(path, value)
}

pub(crate) fn not_supported(path: &Path, value: impl Into<Value>, supported: &[&str]) -> FieldError {
    FieldError::not_supported(path, value, supported)
}

/// `Too long: may not be more than <max> bytes` (upstream says `byte` for 1).
pub(crate) fn too_long(path: &Path, max: usize) -> FieldError {
    let mut e = FieldError::too_long(path, max);
    if max == 1 {
        e.detail = "may not be more than 1 byte".to_string();
    }
    e
}

pub(crate) fn too_many(path: &Path, actual: usize, max: usize) -> FieldError {
    FieldError::too_many(path, actual, max)
}

/// A value as JSON, for errors whose upstream value is a Go struct or slice (upstream prints
/// those in Go syntax; JSON is the closest the field error type can print).
pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A list of strings as an error value.
pub(crate) fn str_list(values: &[String]) -> Value {
    Value::Array(values.iter().map(|s| Value::String(s.clone())).collect())
}

// ---------------------------------------------------------------------------------------------
// names, labels, selectors
// ---------------------------------------------------------------------------------------------

fn msgs_to_errs(path: &Path, value: &str, msgs: Vec<String>) -> Errs {
    msgs.into_iter().map(|m| invalid(path, value, m)).collect()
}

pub(crate) fn dns1123_label(value: &str, path: &Path) -> Errs {
    msgs_to_errs(path, value, v::is_dns1123_label(value))
}

pub(crate) fn dns1123_subdomain(value: &str, path: &Path) -> Errs {
    msgs_to_errs(path, value, v::is_dns1123_subdomain(value))
}

pub(crate) fn dns1035_label(value: &str, path: &Path) -> Errs {
    msgs_to_errs(path, value, v::is_dns1035_label(value))
}

pub(crate) fn qualified_name(value: &str, path: &Path) -> Errs {
    msgs_to_errs(path, value, v::is_qualified_name(value))
}

/// Upstream's `ValidateLabelName` (a qualified name).
pub(crate) fn label_name(value: &str, path: &Path) -> Errs {
    qualified_name(value, path)
}

pub(crate) fn label_value(value: &str, path: &Path) -> Errs {
    msgs_to_errs(path, value, v::is_valid_label_value(value))
}

/// Upstream's object-name validators take a `prefix` flag (for generateName).
pub(crate) fn name_errs(msgs: Vec<String>, value: &str, path: &Path) -> Errs {
    msgs_to_errs(path, value, msgs)
}

pub(crate) fn labels(map: Option<&BTreeMap<String, String>>, path: &Path) -> Errs {
    match map {
        Some(m) => v::validate_labels(m, path.as_str()).into_iter().map(FieldError::from).collect(),
        None => Vec::new(),
    }
}

pub(crate) fn annotations(map: Option<&BTreeMap<String, String>>, path: &Path) -> Errs {
    match map {
        Some(m) => v::validate_annotations(m, path.as_str()).into_iter().map(FieldError::from).collect(),
        None => Vec::new(),
    }
}

pub(crate) fn label_selector(sel: Option<&LabelSelector>, path: &Path, allow_invalid_value: bool) -> Errs {
    match sel {
        Some(s) => v::validate_label_selector(s, path.as_str(), allow_invalid_value)
            .into_iter()
            .map(FieldError::from)
            .collect(),
        None => Vec::new(),
    }
}

/// Whether a label selector is valid (used to decide ratcheting on update).
pub(crate) fn selector_has_errors(sel: Option<&LabelSelector>) -> bool {
    !label_selector(sel, &p("x"), false).is_empty()
}

/// Whether a selector selects everything (no requirements).
pub(crate) fn selector_is_empty(sel: &LabelSelector) -> bool {
    sel.match_labels.as_ref().is_none_or(|m| m.is_empty()) && sel.match_expressions.as_ref().is_none_or(|e| e.is_empty())
}

/// Whether the labels satisfy the selector (invalid selectors match nothing).
pub(crate) fn selector_matches(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    match apimachinery::labels::from_label_selector(sel) {
        Ok(s) => s.matches(labels),
        Err(_) => false,
    }
}

pub(crate) fn nonneg(value: i64, path: &Path) -> Errs {
    if value < 0 { vec![invalid(path, value, IS_NEGATIVE)] } else { Vec::new() }
}

pub(crate) fn port_num(port: i64, path: &Path) -> Errs {
    v::is_valid_port_num(port).into_iter().map(|m| invalid(path, port, m)).collect()
}

/// `IsValidUserID` / `IsValidGroupID`: 0 to 2147483647.
pub(crate) fn id_range(id: i64, path: &Path) -> Errs {
    if (0..=MAX_INT32).contains(&id) { Vec::new() } else { vec![invalid(path, id, v::inclusive_range_error(0, MAX_INT32))] }
}

/// Upstream's `ValidateImmutableField`: `Invalid value: <new>: field is immutable`.
pub(crate) fn immutable<T: Serialize + PartialEq + ?Sized>(new: &T, old: &T, path: &Path) -> Errs {
    if new == old { Vec::new() } else { vec![invalid(path, json(new), FIELD_IMMUTABLE)] }
}

/// Like [`immutable`] but with upstream's semantic equality (nil and empty collections equal).
pub(crate) fn immutable_sem<T: Serialize>(new: &T, old: &T, path: &Path) -> Errs {
    if sem_eq(new, old) { Vec::new() } else { vec![invalid(path, json(new), FIELD_IMMUTABLE)] }
}

// ---------------------------------------------------------------------------------------------
// IPs
// ---------------------------------------------------------------------------------------------

pub(crate) const INVALID_CIDR_MSG: &str = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";

/// Upstream's `validation.IsValidIP(fldPath, value)`.
pub(crate) fn valid_ip(value: &str, path: &Path) -> Errs {
    v::is_valid_ip(value).into_iter().map(|m| invalid(path, value, m)).collect()
}

/// Parses a CIDR as `netutils.ParseCIDRSloppy` (leading zeros in IPv4 allowed).
pub(crate) fn parse_cidr(value: &str) -> Option<(std::net::IpAddr, u8)> {
    let (ip, bits) = value.split_once('/')?;
    if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) || bits.len() > 3 {
        return None;
    }
    let n: u32 = bits.parse().ok()?;
    let addr = v::parse_ip_sloppy(ip)?;
    // Go keeps dotted-quad CIDRs IPv4 and ':' CIDRs IPv6 (even IPv4-mapped)
    let max = if ip.contains(':') { 128 } else { 32 };
    if n > max {
        return None;
    }
    let addr = if max == 128 {
        match addr {
            std::net::IpAddr::V4(a) => std::net::IpAddr::V6(a.to_ipv6_mapped()),
            other => other,
        }
    } else {
        addr
    };
    Some((addr, n as u8))
}

/// Upstream's `validation.IsValidCIDR(fldPath, value)`.
pub(crate) fn valid_cidr(value: &str, path: &Path) -> Errs {
    if parse_cidr(value).is_some() { Vec::new() } else { vec![invalid(path, value, INVALID_CIDR_MSG)] }
}

/// Whether an address string is IPv6 (`netutils.IsIPv6String`).
pub(crate) fn is_ipv6(value: &str) -> bool {
    matches!(v::parse_ip_sloppy(value), Some(std::net::IpAddr::V6(_)))
}

/// `netutils.IsDualStackIPStrings`: exactly one of each family... upstream counts whether
/// at least one v4 and one v6 appear.
pub(crate) fn is_dual_stack(ips: &[String]) -> bool {
    let v6 = ips.iter().filter(|s| is_ipv6(s)).count();
    let v4 = ips.iter().filter(|s| matches!(v::parse_ip_sloppy(s), Some(std::net::IpAddr::V4(_)))).count();
    v4 > 0 && v6 > 0
}

/// Upstream's `ValidateNonSpecialIP` (endpoints, endpoint slices, external IPs).
pub(crate) fn non_special_ip(value: &str, path: &Path) -> Errs {
    let Some(ip) = v::parse_ip_sloppy(value) else {
        return vec![invalid(path, value, "must be a valid IP address")];
    };
    let mut errs = Vec::new();
    let (unspecified, loopback, link_local, ll_multicast) = match ip {
        std::net::IpAddr::V4(a) => {
            let o = a.octets();
            (a.is_unspecified(), o[0] == 127, o[0] == 169 && o[1] == 254, o[0] == 224 && o[1] == 0 && o[2] == 0)
        }
        std::net::IpAddr::V6(a) => {
            let s = a.segments();
            (a.is_unspecified(), a.is_loopback(), (s[0] & 0xffc0) == 0xfe80, (s[0] & 0xff0f) == 0xff02)
        }
    };
    if unspecified {
        errs.push(invalid(path, value, format!("may not be unspecified ({value})")));
    }
    if loopback {
        errs.push(invalid(path, value, "may not be in the loopback range (127.0.0.0/8, ::1/128)"));
    }
    if link_local {
        errs.push(invalid(path, value, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"));
    }
    if ll_multicast {
        errs.push(invalid(path, value, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"));
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// semantic equality
// ---------------------------------------------------------------------------------------------

/// Keys whose values are quantity maps or quantities; compared by value, not text.
const QUANTITY_KEYS: &[&str] = &[
    "limits",
    "requests",
    "overhead",
    "sizeLimit",
    "divisor",
    "capacity",
    "allocatable",
    "hard",
    "used",
    "allocatedResources",
    "max",
    "min",
    "default",
    "defaultRequest",
    "maxLimitRequestRatio",
    "storage",
];

fn normalize(value: Value, key: Option<&str>) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::String(s) => {
            if s.is_empty() {
                return None;
            }
            if key.is_some_and(|k| QUANTITY_KEYS.contains(&k))
                && let Ok(q) = quantity::Quantity::parse(s.trim())
            {
                return Some(Value::String(q.canonical()));
            }
            Some(Value::String(s))
        }
        Value::Array(a) => {
            if a.is_empty() {
                None
            } else {
                Some(Value::Array(a.into_iter().map(|v| normalize(v, None).unwrap_or(Value::Null)).collect()))
            }
        }
        Value::Object(m) => {
            let quantity_map = key.is_some_and(|k| QUANTITY_KEYS.contains(&k));
            let out: serde_json::Map<String, Value> = m
                .into_iter()
                .filter_map(|(k, v)| {
                    let child_key = if quantity_map { Some("storage") } else { Some(k.as_str()) };
                    normalize(v, child_key).map(|v| (k, v))
                })
                .collect();
            if out.is_empty() { None } else { Some(Value::Object(out)) }
        }
        other => Some(other),
    }
}

/// A normalized JSON form for semantic comparison: nulls, empty strings, empty lists and maps
/// dropped (upstream's internal types make unset and empty the same), quantities canonical.
pub(crate) fn sem_json<T: Serialize>(v: &T) -> Value {
    normalize(json(v), None).unwrap_or(Value::Null)
}

/// Upstream's `apiequality.Semantic.DeepEqual`, approximated on the JSON form.
pub(crate) fn sem_eq<T: Serialize>(a: &T, b: &T) -> bool {
    sem_json(a) == sem_json(b)
}

/// A simplified diff of two JSON values: one `-`/`+` line pair per differing leaf, keyed by
/// its JSON path (upstream prints a `cmp.Diff` of the Go structs instead).
pub(crate) fn simple_diff(old: &Value, new: &Value) -> String {
    fn walk(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<String>) {
        match (a, b) {
            (Some(Value::Object(x)), Some(Value::Object(y))) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    let child = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    walk(&child, x.get(k), y.get(k), out);
                }
            }
            (Some(Value::Array(x)), Some(Value::Array(y))) => {
                for i in 0..x.len().max(y.len()) {
                    walk(&format!("{path}[{i}]"), x.get(i), y.get(i), out);
                }
            }
            (a, b) if a == b => {}
            (a, b) => {
                if let Some(a) = a {
                    out.push(format!("- \t{path}: {a}"));
                }
                if let Some(b) = b {
                    out.push(format!("+ \t{path}: {b}"));
                }
            }
        }
    }
    let mut lines = Vec::new();
    walk("", Some(old), Some(new), &mut lines);
    lines.join("\n")
}

/// Converts a list into the public error list type.
pub(crate) fn done(errs: Errs) -> apimachinery::field::ErrorList {
    apimachinery::field::ErrorList(errs)
}

/// Whether any error in the list has this kind (helper for tests and callers).
#[allow(dead_code)]
pub(crate) fn has_kind(errs: &[FieldError], kind: ErrorKind) -> bool {
    errs.iter().any(|e| e.kind == kind)
}

// ---------------------------------------------------------------------------------------------
// small conveniences over k8s-openapi's Options
// ---------------------------------------------------------------------------------------------

pub(crate) fn ostr(o: &Option<String>) -> &str {
    o.as_deref().unwrap_or("")
}

pub(crate) fn sl<T>(o: &Option<Vec<T>>) -> &[T] {
    o.as_deref().unwrap_or(&[])
}

pub(crate) fn b(o: Option<bool>) -> bool {
    o.unwrap_or(false)
}

/// Go's `path.Clean` for slash-separated paths.
pub(crate) fn path_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".to_string();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

// ---------------------------------------------------------------------------------------------
// metav1.Condition lists and path segment names
// ---------------------------------------------------------------------------------------------

const CONDITION_REASON_FMT: &str = "[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?";

fn is_valid_condition_reason(value: &str) -> bool {
    let b = value.as_bytes();
    if b.is_empty() || !b[0].is_ascii_alphabetic() {
        return false;
    }
    if !b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b',' | b':')) {
        return false;
    }
    let last = b[b.len() - 1];
    last.is_ascii_alphanumeric() || last == b'_'
}

/// apimachinery's `metav1validation.ValidateConditions` for `[]metav1.Condition`.
pub(crate) fn conditions(conds: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition], path: &Path) -> Errs {
    let mut e = Vec::new();
    let mut seen: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for (i, c) in conds.iter().enumerate() {
        let ip = path.index(i);
        if !seen.insert(c.type_.as_str()) {
            e.push(duplicate(&ip.child("type"), c.type_.as_str()));
        }
        e.extend(label_name(&c.type_, &ip.child("type")));
        if !["False", "True", "Unknown"].contains(&c.status.as_str()) {
            e.push(not_supported(&ip.child("status"), c.status.as_str(), &["False", "True", "Unknown"]));
        }
        if c.observed_generation.is_some_and(|g| g < 0) {
            e.push(invalid(&ip.child("observedGeneration"), c.observed_generation.unwrap_or(0), "must be greater than or equal to zero"));
        }
        if c.last_transition_time.0.as_second() <= -62135596800 {
            e.push(required(&ip.child("lastTransitionTime"), "must be set"));
        }
        if c.reason.is_empty() {
            e.push(required(&ip.child("reason"), "must be set"));
        } else {
            if !is_valid_condition_reason(&c.reason) {
                let msg = v::regex_error(
                    "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_'",
                    CONDITION_REASON_FMT,
                    &["my_name", "MY_NAME", "MyName", "ReasonA,ReasonB", "ReasonA:ReasonB"],
                );
                e.push(invalid(&ip.child("reason"), c.reason.as_str(), msg));
            }
            if c.reason.len() > 1024 {
                e.push(too_long(&ip.child("reason"), 1024));
            }
        }
        if c.message.len() > 32 * 1024 {
            e.push(too_long(&ip.child("message"), 32 * 1024));
        }
    }
    e
}

/// apimachinery's `path.IsValidPathSegmentName`: the messages for a name used as a URL path
/// segment.
pub(crate) fn path_segment_name_msgs(name: &str) -> Vec<String> {
    if name == "." || name == ".." {
        return vec![format!("may not be '{name}'")];
    }
    let mut out = Vec::new();
    for bad in ["/", "%"] {
        if name.contains(bad) {
            out.push(format!("may not contain '{bad}'"));
        }
    }
    out
}

/// apimachinery's `IsFullyQualifiedDomainName` (field errors at `path`).
pub(crate) fn fully_qualified_domain_name(name: &str, path: &Path) -> Errs {
    if name.is_empty() {
        return vec![required(path, "")];
    }
    let s = name.strip_suffix('.').unwrap_or(name);
    let errs = v::is_dns1123_subdomain(s);
    if !errs.is_empty() {
        return vec![invalid(path, s, errs.join(","))];
    }
    if s.split('.').count() < 2 {
        return vec![invalid(path, s, "should be a domain with at least two segments separated by dots")];
    }
    for label in s.split('.') {
        let errs = v::is_dns1123_label(label);
        if !errs.is_empty() {
            return vec![invalid(path, label, errs.join(","))];
        }
    }
    Vec::new()
}

/// apimachinery's `IsFullyQualifiedName` (subdomain with at least three segments).
pub(crate) fn fully_qualified_name(name: &str, path: &Path) -> Errs {
    if name.is_empty() {
        return vec![required(path, "")];
    }
    let errs = v::is_dns1123_subdomain(name);
    if !errs.is_empty() {
        return vec![invalid(path, name, errs.join(","))];
    }
    if name.split('.').count() < 3 {
        return vec![invalid(path, name, "should be a domain with at least three segments separated by dots")];
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        assert!(parse_cidr("10.0.0.0/8").is_some());
        assert!(parse_cidr("010.0.0.0/8").is_some());
        assert!(parse_cidr("2001:db8::/64").is_some());
        assert!(parse_cidr("10.0.0.0/33").is_none());
        assert!(parse_cidr("10.0.0.0").is_none());
        assert!(parse_cidr("10.0.0.0/").is_none());
        assert_eq!(
            valid_cidr("x", &p("spec.podCIDRs").index(0))[0].to_string(),
            "spec.podCIDRs[0]: Invalid value: \"x\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
        );
    }

    #[test]
    fn special_ips() {
        assert!(non_special_ip("10.1.2.3", &p("ip")).is_empty());
        assert_eq!(non_special_ip("127.0.0.1", &p("ip"))[0].detail, "may not be in the loopback range (127.0.0.0/8, ::1/128)");
        assert_eq!(non_special_ip("0.0.0.0", &p("ip"))[0].detail, "may not be unspecified (0.0.0.0)");
        assert_eq!(non_special_ip("fe80::1", &p("ip"))[0].detail, "may not be in the link-local range (169.254.0.0/16, fe80::/10)");
        assert_eq!(non_special_ip("224.0.0.1", &p("ip"))[0].detail, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
        assert!(is_dual_stack(&["10.0.0.1".into(), "fd00::1".into()]));
        assert!(!is_dual_stack(&["10.0.0.1".into(), "10.0.0.2".into()]));
    }

    #[test]
    fn semantic_equality() {
        use k8s_openapi::api::core::v1::{Container, ResourceRequirements};
        use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Q;
        let a = Container { name: "a".into(), args: Some(vec![]), ..Default::default() };
        let b = Container { name: "a".into(), ..Default::default() };
        assert!(sem_eq(&a, &b));
        let r = |v: &str| ResourceRequirements { limits: Some([("cpu".to_string(), Q(v.into()))].into()), ..Default::default() };
        assert!(sem_eq(&r("1"), &r("1000m")));
        assert!(!sem_eq(&r("1"), &r("2")));
        let c = Container { name: "b".into(), ..Default::default() };
        assert!(!sem_eq(&a, &c));
        assert_eq!(simple_diff(&sem_json(&a), &sem_json(&c)), "- \tname: \"a\"\n+ \tname: \"b\"");
    }

    #[test]
    fn clean_paths() {
        assert_eq!(path_clean("/"), "/");
        assert_eq!(path_clean("//a/../"), "/");
        assert_eq!(path_clean("/a/b/.."), "/a");
        assert_eq!(path_clean("a/../.."), "..");
    }
}
