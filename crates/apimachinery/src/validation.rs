//! Name, label and metadata validation with the messages Kubernetes 1.32 prints.
//!
//! Two layers live here:
//!
//! * string checks (`is_dns1123_subdomain`, `is_qualified_name`, `is_valid_label_value`, ...)
//!   that return the list of problems with a value as upstream's `k8s.io/apimachinery`
//!   `util/validation` words them (an empty list means the value is valid). The regular
//!   expressions upstream uses are implemented by hand over bytes; their text still appears in
//!   the messages, exactly as upstream prints it.
//! * object-metadata checks (`validate_labels`, `validate_annotations`,
//!   `validate_object_meta_name`, `validate_finalizers`, `validate_owner_references`, ...) that
//!   return [`FieldIssue`]s: a field path, an [`IssueKind`], the offending value and a detail,
//!   ready to become `Status` causes.
//!
//! Bad values are quoted in messages with [`go_quote`], which follows Go's `strconv.Quote`,
//! because that is what upstream's `%q` produces.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};

use crate::field::{ErrorKind, FieldError};

// ---------------------------------------------------------------------------------------------
// Message texts and the regular expressions they quote
// ---------------------------------------------------------------------------------------------

/// The pattern a qualified name's name part must match.
pub const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
/// What a qualified name's name part must look like.
pub const QUALIFIED_NAME_ERR_MSG: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
/// Maximum length of a qualified name's name part.
pub const QUALIFIED_NAME_MAX_LENGTH: usize = 63;

/// The pattern a label value must match.
pub const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
/// What a label value must look like.
pub const LABEL_VALUE_ERR_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
/// Maximum length of a label value.
pub const LABEL_VALUE_MAX_LENGTH: usize = 63;

/// The pattern an RFC 1123 label must match.
pub const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
/// What an RFC 1123 label must look like.
pub const DNS1123_LABEL_ERR_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
/// Maximum length of an RFC 1123 label.
pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;

/// The pattern an RFC 1123 subdomain must match.
pub const DNS1123_SUBDOMAIN_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
/// What an RFC 1123 subdomain must look like.
pub const DNS1123_SUBDOMAIN_ERR_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
/// Maximum length of an RFC 1123 subdomain.
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;

/// The pattern an RFC 1035 label must match.
pub const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
/// What an RFC 1035 label must look like.
pub const DNS1035_LABEL_ERR_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
/// Maximum length of an RFC 1035 label.
pub const DNS1035_LABEL_MAX_LENGTH: usize = 63;

/// The pattern a wildcard subdomain must match.
pub const WILDCARD_DNS1123_SUBDOMAIN_FMT: &str =
    "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
/// What a wildcard subdomain must look like.
pub const WILDCARD_DNS1123_SUBDOMAIN_ERR_MSG: &str = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";

/// The pattern a C identifier must match.
pub const C_IDENTIFIER_FMT: &str = "[A-Za-z_][A-Za-z0-9_]*";
/// What a C identifier must look like.
pub const C_IDENTIFIER_ERR_MSG: &str = "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_'";

/// The pattern an environment variable name must match.
pub const ENV_VAR_NAME_FMT: &str = "[-._a-zA-Z][-._a-zA-Z0-9]*";
/// What an environment variable name must look like.
pub const ENV_VAR_NAME_ERR_MSG: &str = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit";
/// What a relaxed environment variable name must look like.
pub const RELAXED_ENV_VAR_NAME_ERR_MSG: &str =
    "a valid environment variable name must consist only of printable ASCII characters other than '='";

/// The pattern a ConfigMap or Secret key must match.
pub const CONFIG_MAP_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
/// What a ConfigMap or Secret key must look like.
pub const CONFIG_MAP_KEY_ERR_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";

/// The pattern a percentage must match.
pub const PERCENT_FMT: &str = "[0-9]+%";
/// What a percentage must look like.
pub const PERCENT_ERR_MSG: &str = "a valid percent string must be a numeric string followed by an ending '%'";

/// The pattern an HTTP header name must match.
pub const HTTP_HEADER_NAME_FMT: &str = "[-A-Za-z0-9]+";
/// What an HTTP header name must look like.
pub const HTTP_HEADER_NAME_ERR_MSG: &str = "a valid HTTP header must consist of alphanumeric characters or '-'";

/// The pattern the path of a domain-prefixed path must match (RFC 3986 path characters).
pub const HTTP_PATH_FMT: &str = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";

/// Message for an invalid IP address.
pub const INVALID_IP_MSG: &str = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";
/// Message for an invalid IPv4 address.
pub const INVALID_IPV4_MSG: &str = "must be a valid IPv4 address";
/// Message for an invalid IPv6 address.
pub const INVALID_IPV6_MSG: &str = "must be a valid IPv6 address";

/// Limit on the summed length of all annotation keys and values (256 KiB).
pub const TOTAL_ANNOTATION_SIZE_LIMIT_B: usize = 256 * 1024;
/// Upstream's message for a changed immutable field.
pub const FIELD_IMMUTABLE_ERROR_MSG: &str = "field is immutable";
/// Upstream's message for a negative value that must not be.
pub const IS_NEGATIVE_ERROR_MSG: &str = "must be greater than or equal to 0";
/// Detail of the `Required` error for an object with neither name nor generateName.
pub const NAME_OR_GENERATE_NAME_REQUIRED: &str = "name or generateName is required";
/// Finalizer that makes the garbage collector orphan dependents.
pub const FINALIZER_ORPHAN_DEPENDENTS: &str = "orphan";
/// Finalizer that makes the garbage collector delete dependents first.
pub const FINALIZER_DELETE_DEPENDENTS: &str = "foregroundDeletion";
/// The namespace controller's finalizer.
pub const FINALIZER_KUBERNETES: &str = "kubernetes";
/// Finalizer names built-in kinds accept without a domain prefix.
pub const STANDARD_FINALIZERS: [&str; 3] =
    [FINALIZER_KUBERNETES, FINALIZER_ORPHAN_DEPENDENTS, FINALIZER_DELETE_DEPENDENTS];
/// Detail for a finalizer of a built-in kind that is neither standard nor domain-qualified.
pub const NOT_STANDARD_FINALIZER_MSG: &str = "name is neither a standard finalizer name nor is it fully qualified";

/// `must be no more than <n> characters`.
pub fn max_len_error(length: usize) -> String {
    format!("must be no more than {length} characters")
}

/// Upstream's description of a failed pattern: the message, optional examples, and the pattern.
///
/// With examples it reads `msg (e.g. 'a',  or 'b', regex used for validation is 'fmt')`
/// (upstream's doubled space before `or` included).
pub fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut out = String::from(msg);
    out.push_str(" (e.g. ");
    for (i, ex) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push('\'');
        out.push_str(ex);
        out.push_str("', ");
    }
    out.push_str("regex used for validation is '");
    out.push_str(fmt);
    out.push_str("')");
    out
}

/// `must be non-empty`.
pub fn empty_error() -> String {
    "must be non-empty".to_string()
}

/// `must be between <lo> and <hi>, inclusive`.
pub fn inclusive_range_error(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

// ---------------------------------------------------------------------------------------------
// Go-compatible quoting
// ---------------------------------------------------------------------------------------------

/// Quotes a string as Go's `strconv.Quote` (and so `%q` and `%#v`) does: `"` and `\` escaped,
/// printable characters kept, `\a \b \f \n \r \t \v` for those controls, `\xHH` for other ASCII
/// controls and DEL, `\uHHHH` / `\UHHHHHHHH` for other non-printable characters.
///
/// Go decides printability from Unicode tables; this uses the Unicode categories Rust exposes
/// plus the format (Cf) characters, private-use areas and noncharacters listed here, so a
/// character unassigned in Go's tables but assigned in Rust's (or vice versa) may differ.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if go_is_print(c) => out.push(c),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Go's `%#v` of a `[]string`: `[]string(nil)` when empty (upstream passes nil slices there),
/// otherwise `[]string{"a", "b"}`.
pub fn go_string_slice(values: &[String]) -> String {
    if values.is_empty() {
        return "[]string(nil)".to_string();
    }
    let quoted: Vec<String> = values.iter().map(|v| go_quote(v)).collect();
    format!("[]string{{{}}}", quoted.join(", "))
}

/// Whether Go's `strconv.IsPrint` would call the character printable (see [`go_quote`]).
fn go_is_print(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        return (0x20..0x7f).contains(&u);
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    const FORMAT_AND_UNASSIGNED: &[(u32, u32)] = &[
        (0x00AD, 0x00AD),
        (0x0600, 0x0605),
        (0x061C, 0x061C),
        (0x06DD, 0x06DD),
        (0x070F, 0x070F),
        (0x0890, 0x0891),
        (0x08E2, 0x08E2),
        (0x180E, 0x180E),
        (0x200B, 0x200F),
        (0x2028, 0x202E),
        (0x2060, 0x206F),
        (0xD800, 0xDFFF),
        (0xE000, 0xF8FF),
        (0xFDD0, 0xFDEF),
        (0xFEFF, 0xFEFF),
        (0xFFF0, 0xFFFB),
        (0x110BD, 0x110BD),
        (0x110CD, 0x110CD),
        (0x13430, 0x1343F),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0001, 0xE0001),
        (0xE0020, 0xE007F),
        (0xF0000, 0x10FFFF),
    ];
    if (u & 0xFFFE) == 0xFFFE {
        return false;
    }
    !FORMAT_AND_UNASSIGNED.iter().any(|&(lo, hi)| (lo..=hi).contains(&u))
}

// ---------------------------------------------------------------------------------------------
// Hand-written pattern matchers (over bytes, so truncated UTF-8 simply fails)
// ---------------------------------------------------------------------------------------------

fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn matches_qualified_name(v: &[u8]) -> bool {
    match (v.first(), v.last()) {
        (Some(&f), Some(&l)) => {
            f.is_ascii_alphanumeric()
                && l.is_ascii_alphanumeric()
                && v.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        }
        _ => false,
    }
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn matches_dns1123_label(v: &[u8]) -> bool {
    match (v.first(), v.last()) {
        (Some(&f), Some(&l)) => {
            is_lower_alnum(f) && is_lower_alnum(l) && v.iter().all(|&b| is_lower_alnum(b) || b == b'-')
        }
        _ => false,
    }
}

/// Labels joined by dots.
fn matches_dns1123_subdomain(v: &[u8]) -> bool {
    v.split(|&b| b == b'.').all(matches_dns1123_label)
}

/// `[a-z]([-a-z0-9]*[a-z0-9])?`
fn matches_dns1035_label(v: &[u8]) -> bool {
    match (v.first(), v.last()) {
        (Some(&f), Some(&l)) => {
            f.is_ascii_lowercase() && is_lower_alnum(l) && v.iter().all(|&b| is_lower_alnum(b) || b == b'-')
        }
        _ => false,
    }
}

fn dns1123_subdomain_errors(v: &[u8]) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if !matches_dns1123_subdomain(v) {
        errs.push(regex_error(DNS1123_SUBDOMAIN_ERR_MSG, DNS1123_SUBDOMAIN_FMT, &["example.com"]));
    }
    errs
}

fn dns1123_label_errors(v: &[u8]) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches_dns1123_label(v) {
        if matches_dns1123_subdomain(v) {
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(regex_error(DNS1123_LABEL_ERR_MSG, DNS1123_LABEL_FMT, &["my-name", "123-abc"]));
        }
    }
    errs
}

fn dns1035_label_errors(v: &[u8]) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > DNS1035_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1035_LABEL_MAX_LENGTH));
    }
    if !matches_dns1035_label(v) {
        errs.push(regex_error(DNS1035_LABEL_ERR_MSG, DNS1035_LABEL_FMT, &["my-name", "abc-123"]));
    }
    errs
}

/// Upstream's `hasChDirPrefix`.
fn chdir_prefix_errors(value: &str) -> Vec<String> {
    if value == "." {
        vec!["must not be '.'".to_string()]
    } else if value == ".." {
        vec!["must not be '..'".to_string()]
    } else if value.starts_with("..") {
        vec!["must not start with '..'".to_string()]
    } else {
        Vec::new()
    }
}

// ---------------------------------------------------------------------------------------------
// String checks
// ---------------------------------------------------------------------------------------------

/// Checks an RFC 1123 subdomain (most object names): at most 253 characters of `[a-z0-9-.]`,
/// dot-separated labels that start and end alphanumeric.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    dns1123_subdomain_errors(value.as_bytes())
}

/// Checks an RFC 1123 label (namespace names, ...): at most 63 characters of `[a-z0-9-]`,
/// starting and ending alphanumeric. A valid subdomain with dots gets `must not contain dots`.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    dns1123_label_errors(value.as_bytes())
}

/// Checks an RFC 1035 label (service names): like an RFC 1123 label but starting with a letter.
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    dns1035_label_errors(value.as_bytes())
}

/// Checks a wildcard subdomain such as `*.example.com`.
pub fn is_wildcard_dns1123_subdomain(value: &str) -> Vec<String> {
    let v = value.as_bytes();
    let mut errs = Vec::new();
    if v.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    let ok = v.strip_prefix(b"*.").is_some_and(matches_dns1123_subdomain);
    if !ok {
        errs.push(regex_error(
            WILDCARD_DNS1123_SUBDOMAIN_ERR_MSG,
            WILDCARD_DNS1123_SUBDOMAIN_FMT,
            &["*.example.com"],
        ));
    }
    errs
}

/// Checks a qualified name (label keys, annotation keys, finalizers): an optional RFC 1123
/// subdomain prefix and `/`, then a name part of at most 63 characters of `[A-Za-z0-9-_.]`
/// starting and ending alphanumeric.
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push(format!("prefix part {}", empty_error()));
            } else {
                for msg in is_dns1123_subdomain(prefix) {
                    errs.push(format!("prefix part {msg}"));
                }
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_ERR_MSG, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push(format!("name part {}", empty_error()));
    } else if name.len() > QUALIFIED_NAME_MAX_LENGTH {
        errs.push(format!("name part {}", max_len_error(QUALIFIED_NAME_MAX_LENGTH)));
    }
    if !matches_qualified_name(name.as_bytes()) {
        errs.push(format!(
            "name part {}",
            regex_error(QUALIFIED_NAME_ERR_MSG, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
        ));
    }
    errs
}

/// Checks a label value: empty, or at most 63 characters of `[A-Za-z0-9-_.]` starting and
/// ending alphanumeric.
pub fn is_valid_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_MAX_LENGTH {
        errs.push(max_len_error(LABEL_VALUE_MAX_LENGTH));
    }
    if !value.is_empty() && !matches_qualified_name(value.as_bytes()) {
        errs.push(regex_error(LABEL_VALUE_ERR_MSG, LABEL_VALUE_FMT, &["MyValue", "my_value", "12345"]));
    }
    errs
}

/// Checks a C identifier (`[A-Za-z_][A-Za-z0-9_]*`); the length is not checked.
pub fn is_c_identifier(value: &str) -> Vec<String> {
    let v = value.as_bytes();
    let ok = match v.split_first() {
        Some((&f, rest)) => {
            (f.is_ascii_alphabetic() || f == b'_') && rest.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
        }
        None => false,
    };
    if ok {
        Vec::new()
    } else {
        vec![regex_error(C_IDENTIFIER_ERR_MSG, C_IDENTIFIER_FMT, &["my_name", "MY_NAME", "MyName"])]
    }
}

/// Checks an environment variable name (`[-._a-zA-Z][-._a-zA-Z0-9]*`, and not `.`, `..` or
/// starting with `..`).
pub fn is_env_var_name(value: &str) -> Vec<String> {
    let v = value.as_bytes();
    let ext = |b: u8| b == b'-' || b == b'.' || b == b'_' || b.is_ascii_alphabetic();
    let ok = match v.split_first() {
        Some((&f, rest)) => ext(f) && rest.iter().all(|&b| ext(b) || b.is_ascii_digit()),
        None => false,
    };
    let mut errs = Vec::new();
    if !ok {
        errs.push(regex_error(
            ENV_VAR_NAME_ERR_MSG,
            ENV_VAR_NAME_FMT,
            &["my.env-name", "MY_ENV.NAME", "MyEnvName1"],
        ));
    }
    errs.extend(chdir_prefix_errors(value));
    errs
}

/// Checks an environment variable name under the `RelaxedEnvironmentVariableValidation`
/// rules: non-empty, printable ASCII, no `=`.
pub fn is_relaxed_env_var_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.is_empty() {
        errs.push(format!("environment variable name {}", empty_error()));
    }
    if value.chars().any(|c| !(' '..='~').contains(&c) || c == '=') {
        errs.push(RELAXED_ENV_VAR_NAME_ERR_MSG.to_string());
    }
    errs
}

/// Checks a ConfigMap or Secret key: at most 253 characters of `[-._a-zA-Z0-9]`, and not `.`,
/// `..` or starting with `..`.
pub fn is_config_map_key(value: &str) -> Vec<String> {
    let v = value.as_bytes();
    let mut errs = Vec::new();
    if v.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    let ok = !v.is_empty() && v.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    if !ok {
        errs.push(regex_error(CONFIG_MAP_KEY_ERR_MSG, CONFIG_MAP_KEY_FMT, &["key.name", "KEY_NAME", "key-name"]));
    }
    errs.extend(chdir_prefix_errors(value));
    errs
}

/// Checks a port number: 1 to 65535.
pub fn is_valid_port_num(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) { Vec::new() } else { vec![inclusive_range_error(1, 65535)] }
}

/// Checks that a value lies in an inclusive range.
pub fn is_in_range(value: i64, min: i64, max: i64) -> Vec<String> {
    if value >= min && value <= max { Vec::new() } else { vec![inclusive_range_error(min, max)] }
}

/// Checks a named port: at most 15 characters of `[-a-z0-9]`, at least one letter, no `--`,
/// not starting or ending with `-`.
pub fn is_valid_port_name(port: &str) -> Vec<String> {
    let v = port.as_bytes();
    let mut errs = Vec::new();
    if v.len() > 15 {
        errs.push(max_len_error(15));
    }
    if v.is_empty() || !v.iter().all(|&b| is_lower_alnum(b) || b == b'-') {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_string());
    }
    if !v.iter().any(u8::is_ascii_lowercase) {
        errs.push("must contain at least one letter (a-z)".to_string());
    }
    if port.contains("--") {
        errs.push("must not contain consecutive hyphens".to_string());
    }
    if v.first() == Some(&b'-') || v.last() == Some(&b'-') {
        errs.push("must not begin or end with a hyphen".to_string());
    }
    errs
}

/// Checks a percentage string such as `25%` (`[0-9]+%`).
pub fn is_percent(value: &str) -> Vec<String> {
    let ok = value
        .as_bytes()
        .strip_suffix(b"%")
        .is_some_and(|digits| !digits.is_empty() && digits.iter().all(u8::is_ascii_digit));
    if ok { Vec::new() } else { vec![regex_error(PERCENT_ERR_MSG, PERCENT_FMT, &["1%", "93%"])] }
}

/// Checks an HTTP header name (`[-A-Za-z0-9]+`).
pub fn is_http_header_name(value: &str) -> Vec<String> {
    let v = value.as_bytes();
    if !v.is_empty() && v.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-') {
        Vec::new()
    } else {
        vec![regex_error(HTTP_HEADER_NAME_ERR_MSG, HTTP_HEADER_NAME_FMT, &["X-Header-Name"])]
    }
}

/// Checks a domain-prefixed path such as `acme.io/foo`: an RFC 1123 subdomain, `/`, then RFC
/// 3986 path characters. Upstream reports these as field errors whose value is the part at
/// fault, so this returns [`FieldIssue`]s at `path`.
pub fn is_domain_prefixed_path(path: &str, dp_path: &str) -> Vec<FieldIssue> {
    if dp_path.is_empty() {
        return vec![FieldIssue::required(path, "")];
    }
    let (host, rest) = match dp_path.split_once('/') {
        Some((h, r)) if !h.is_empty() && !r.is_empty() => (h, r),
        _ => {
            return vec![FieldIssue::invalid(
                path,
                dp_path,
                "must be a domain-prefixed path (such as \"acme.io/foo\")",
            )];
        }
    };
    let mut issues: Vec<FieldIssue> =
        is_dns1123_subdomain(host).into_iter().map(|m| FieldIssue::invalid(path, host, m)).collect();
    let path_ok = rest.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-._~%!$&'()*+,;=:".contains(&b));
    if !path_ok {
        issues.push(FieldIssue::invalid(path, rest, regex_error("Invalid path", HTTP_PATH_FMT, &[])));
    }
    issues
}

// ---------------------------------------------------------------------------------------------
// IP addresses
// ---------------------------------------------------------------------------------------------

/// Go's `netip` IPv4 parser: four decimal fields, no leading zeros, each at most 255.
fn parse_ipv4_strict(s: &[u8]) -> Option<[u8; 4]> {
    let mut fields = [0u8; 4];
    let mut val: u32 = 0;
    let mut pos = 0usize;
    let mut digits = 0usize;
    for (i, &c) in s.iter().enumerate() {
        if c.is_ascii_digit() {
            if digits == 1 && val == 0 {
                return None;
            }
            val = val * 10 + u32::from(c - b'0');
            digits += 1;
            if val > 255 {
                return None;
            }
        } else if c == b'.' {
            if i == 0 || i == s.len() - 1 || s[i - 1] == b'.' || pos == 3 {
                return None;
            }
            fields[pos] = val as u8;
            pos += 1;
            val = 0;
            digits = 0;
        } else {
            return None;
        }
    }
    if pos < 3 || digits == 0 {
        return None;
    }
    fields[3] = val as u8;
    Some(fields)
}

/// Go's `netip` IPv6 parser (zones rejected, as `net.ParseIP` does).
fn parse_ipv6_strict(s: &[u8]) -> Option<[u8; 16]> {
    if s.contains(&b'%') {
        return None;
    }
    let mut ip = [0u8; 16];
    let mut ellipsis: Option<usize> = None;
    let mut s = s;
    if s.len() >= 2 && s[0] == b':' && s[1] == b':' {
        ellipsis = Some(0);
        s = &s[2..];
        if s.is_empty() {
            return Some(ip);
        }
    }
    let mut i = 0usize;
    while i < 16 {
        let mut off = 0usize;
        let mut acc: u32 = 0;
        while off < s.len() {
            let d = match s[off] {
                c @ b'0'..=b'9' => c - b'0',
                c @ b'a'..=b'f' => c - b'a' + 10,
                c @ b'A'..=b'F' => c - b'A' + 10,
                _ => break,
            };
            acc = (acc << 4) + u32::from(d);
            if off > 3 || acc > 0xFFFF {
                return None;
            }
            off += 1;
        }
        if off == 0 {
            return None;
        }
        if off < s.len() && s[off] == b'.' {
            if (ellipsis.is_none() && i != 12) || i + 4 > 16 {
                return None;
            }
            let v4 = parse_ipv4_strict(s)?;
            ip[i..i + 4].copy_from_slice(&v4);
            s = &[];
            i += 4;
            break;
        }
        ip[i] = (acc >> 8) as u8;
        ip[i + 1] = acc as u8;
        i += 2;
        s = &s[off..];
        if s.is_empty() {
            break;
        }
        if s[0] != b':' || s.len() == 1 {
            return None;
        }
        s = &s[1..];
        if s[0] == b':' {
            if ellipsis.is_some() {
                return None;
            }
            ellipsis = Some(i);
            s = &s[1..];
            if s.is_empty() {
                break;
            }
        }
    }
    if !s.is_empty() {
        return None;
    }
    if i < 16 {
        let e = ellipsis?;
        let n = 16 - i;
        for j in (e..i).rev() {
            ip[j + n] = ip[j];
        }
        for b in ip.iter_mut().skip(e).take(n) {
            *b = 0;
        }
    } else if ellipsis.is_some() {
        return None;
    }
    Some(ip)
}

/// Go's `net.ParseIP`: the 16-byte form, IPv4 addresses mapped into `::ffff:0:0/96`.
fn parse_ip_strict(s: &[u8]) -> Option<[u8; 16]> {
    for &c in s {
        match c {
            b'.' => {
                let v4 = parse_ipv4_strict(s)?;
                let mut ip = [0u8; 16];
                ip[10] = 0xff;
                ip[11] = 0xff;
                ip[12..].copy_from_slice(&v4);
                return Some(ip);
            }
            b':' => return parse_ipv6_strict(s),
            b'%' => return None,
            _ => {}
        }
    }
    None
}

/// Upstream's `ParseIPSloppy` fallback: when the text ends in a dotted quad (the whole string,
/// or what follows the last `:`), leading zeros of its four numbers are dropped.
fn strip_ipv4_leading_zeros(s: &str) -> Option<String> {
    let start = s.rfind(':').map_or(0, |i| i + 1);
    let (head, tail) = s.split_at(start);
    let parts: Vec<&str> = tail.split('.').collect();
    if parts.len() != 4 || !parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let stripped: Vec<&str> = parts
        .iter()
        .map(|p| {
            let t = p.trim_start_matches('0');
            if t.is_empty() { "0" } else { t }
        })
        .collect();
    Some(format!("{head}{}", stripped.join(".")))
}

fn parse_ip_sloppy_bytes(value: &str) -> Option<[u8; 16]> {
    parse_ip_strict(value.as_bytes())
        .or_else(|| strip_ipv4_leading_zeros(value).and_then(|s| parse_ip_strict(s.as_bytes())))
}

fn is_v4_mapped(ip: &[u8; 16]) -> bool {
    ip[..10].iter().all(|&b| b == 0) && ip[10] == 0xff && ip[11] == 0xff
}

/// Parses an IP address as upstream's `netutils.ParseIPSloppy` does: Go's `net.ParseIP`, but
/// with leading zeros allowed in IPv4 numbers. Addresses that Go treats as IPv4 (dotted quads
/// and IPv4-mapped IPv6 such as `::ffff:1.2.3.4`) come back as [`IpAddr::V4`].
pub fn parse_ip_sloppy(value: &str) -> Option<IpAddr> {
    let ip = parse_ip_sloppy_bytes(value)?;
    if is_v4_mapped(&ip) {
        Some(IpAddr::V4(Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15])))
    } else {
        Some(IpAddr::V6(Ipv6Addr::from(ip)))
    }
}

/// Checks an IP address (v4 or v6; IPv4 numbers may have leading zeros; no zones, brackets,
/// ports or prefixes).
pub fn is_valid_ip(value: &str) -> Vec<String> {
    if parse_ip_sloppy_bytes(value).is_some() { Vec::new() } else { vec![INVALID_IP_MSG.to_string()] }
}

/// Checks an IPv4 address (IPv4-mapped IPv6 addresses count as IPv4, as upstream).
pub fn is_valid_ipv4_address(value: &str) -> Vec<String> {
    match parse_ip_sloppy_bytes(value) {
        Some(ip) if is_v4_mapped(&ip) => Vec::new(),
        _ => vec![INVALID_IPV4_MSG.to_string()],
    }
}

/// Checks an IPv6 address (IPv4-mapped addresses are rejected, as upstream).
pub fn is_valid_ipv6_address(value: &str) -> Vec<String> {
    match parse_ip_sloppy_bytes(value) {
        Some(ip) if !is_v4_mapped(&ip) => Vec::new(),
        _ => vec![INVALID_IPV6_MSG.to_string()],
    }
}

// ---------------------------------------------------------------------------------------------
// Field issues
// ---------------------------------------------------------------------------------------------

/// The kind of a metadata validation failure (a subset of upstream's `field.ErrorType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IssueKind {
    /// `Required value`.
    Required,
    /// `Invalid value`.
    Invalid,
    /// `Duplicate value`.
    Duplicate,
    /// `Unsupported value`.
    NotSupported,
    /// `Forbidden`.
    Forbidden,
    /// `Too long`.
    TooLong,
    /// `Too many`.
    TooMany,
}

impl IssueKind {
    /// The text upstream prints for this kind, e.g. `Invalid value`.
    pub fn text(self) -> &'static str {
        self.error_kind().text()
    }

    /// The `Status` cause reason, e.g. `FieldValueInvalid`.
    pub fn reason(self) -> &'static str {
        self.error_kind().cause_reason()
    }

    /// The matching [`ErrorKind`] of [`crate::field`].
    pub fn error_kind(self) -> ErrorKind {
        match self {
            IssueKind::Required => ErrorKind::Required,
            IssueKind::Invalid => ErrorKind::Invalid,
            IssueKind::Duplicate => ErrorKind::Duplicate,
            IssueKind::NotSupported => ErrorKind::NotSupported,
            IssueKind::Forbidden => ErrorKind::Forbidden,
            IssueKind::TooLong => ErrorKind::TooLong,
            IssueKind::TooMany => ErrorKind::TooMany,
        }
    }
}

/// One metadata validation failure.
///
/// `value` is the offending value as text for string-valued fields. It is `None` for kinds
/// that print no value (`Required`, `Forbidden`, `TooLong`) and for the few upstream errors
/// whose value is a Go list or struct (two owner references marked controller, a banned owner
/// kind, the `orphan`/`foregroundDeletion` conflict); those print `null` here where upstream
/// prints a Go-syntax dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldIssue {
    /// Field path, e.g. `metadata.labels`.
    pub path: String,
    /// What went wrong.
    pub kind: IssueKind,
    /// The offending value, when upstream prints one.
    pub value: Option<String>,
    /// Explanation (may be empty).
    pub detail: String,
}

impl FieldIssue {
    /// A `Required` issue.
    pub fn required(path: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldIssue { path: path.into(), kind: IssueKind::Required, value: None, detail: detail.into() }
    }

    /// An `Invalid` issue for a string value.
    pub fn invalid(path: impl Into<String>, value: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldIssue { path: path.into(), kind: IssueKind::Invalid, value: Some(value.into()), detail: detail.into() }
    }

    /// A `Forbidden` issue.
    pub fn forbidden(path: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldIssue { path: path.into(), kind: IssueKind::Forbidden, value: None, detail: detail.into() }
    }

    /// A `TooLong` issue: `may not be more than <max> bytes`.
    pub fn too_long(path: impl Into<String>, max: usize) -> Self {
        FieldIssue {
            path: path.into(),
            kind: IssueKind::TooLong,
            value: None,
            detail: format!("may not be more than {max} bytes"),
        }
    }

    /// The message without the path (upstream's `ErrorBody`), e.g. `Invalid value: "x": detail`.
    pub fn body(&self) -> String {
        let mut s = match self.kind {
            IssueKind::Required | IssueKind::Forbidden | IssueKind::TooLong => self.kind.text().to_string(),
            _ => match &self.value {
                Some(v) => format!("{}: {}", self.kind.text(), go_quote(v)),
                None => format!("{}: null", self.kind.text()),
            },
        };
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }

    /// Converts to the crate's [`FieldError`] (string values become JSON strings).
    pub fn to_field_error(&self) -> FieldError {
        FieldError {
            kind: self.kind.error_kind(),
            path: self.path.clone(),
            value: match self.kind {
                IssueKind::Required | IssueKind::Forbidden | IssueKind::TooLong => None,
                _ => Some(self.value.clone().map_or(serde_json::Value::Null, serde_json::Value::String)),
            },
            detail: self.detail.clone(),
        }
    }
}

impl fmt::Display for FieldIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.body())
    }
}

impl From<FieldIssue> for FieldError {
    fn from(issue: FieldIssue) -> FieldError {
        issue.to_field_error()
    }
}

// ---------------------------------------------------------------------------------------------
// Object names
// ---------------------------------------------------------------------------------------------

/// Upstream's `maskTrailingDash`: for a generateName prefix ending in `-` (and longer than one
/// byte), the last two bytes are replaced by `a` before validation (upstream drops two bytes,
/// not one; reproduced as is).
fn mask_trailing_dash(name: &str) -> Vec<u8> {
    let b = name.as_bytes();
    if b.len() > 1 && b.ends_with(b"-") {
        let mut out = b[..b.len() - 2].to_vec();
        out.push(b'a');
        out
    } else {
        b.to_vec()
    }
}

/// Name rule for kinds whose names are RFC 1123 subdomains; `prefix` is true for a
/// generateName (a trailing `-` is then allowed).
pub fn name_is_dns_subdomain(name: &str, prefix: bool) -> Vec<String> {
    if prefix { dns1123_subdomain_errors(&mask_trailing_dash(name)) } else { is_dns1123_subdomain(name) }
}

/// Name rule for kinds whose names are RFC 1123 labels (namespaces, ...).
pub fn name_is_dns_label(name: &str, prefix: bool) -> Vec<String> {
    if prefix { dns1123_label_errors(&mask_trailing_dash(name)) } else { is_dns1123_label(name) }
}

/// Name rule for kinds whose names are RFC 1035 labels (services).
pub fn name_is_dns1035_label(name: &str, prefix: bool) -> Vec<String> {
    if prefix { dns1035_label_errors(&mask_trailing_dash(name)) } else { is_dns1035_label(name) }
}

/// Name rule for namespaces (an RFC 1123 label).
pub fn validate_namespace_name(name: &str, prefix: bool) -> Vec<String> {
    name_is_dns_label(name, prefix)
}

/// Upstream's name/generateName rules of `ValidateObjectMetaAccessor`, at `metadata.name` and
/// `metadata.generateName`: a non-empty generateName is checked as a prefix; an empty name is
/// `Required` (`name or generateName is required`; name generation is expected to have run
/// already), otherwise the name is checked with `validator(name, false)`.
pub fn validate_object_meta_name<F>(name: &str, generate_name: &str, validator: F) -> Vec<FieldIssue>
where
    F: Fn(&str, bool) -> Vec<String>,
{
    let mut issues = Vec::new();
    if !generate_name.is_empty() {
        for msg in validator(generate_name, true) {
            issues.push(FieldIssue::invalid("metadata.generateName", generate_name, msg));
        }
    }
    if name.is_empty() {
        issues.push(FieldIssue::required("metadata.name", NAME_OR_GENERATE_NAME_REQUIRED));
    } else {
        for msg in validator(name, false) {
            issues.push(FieldIssue::invalid("metadata.name", name, msg));
        }
    }
    issues
}

/// Upstream's namespace rules of `ValidateObjectMetaAccessor` at `metadata.namespace`:
/// required (and an RFC 1123 label) for namespaced kinds, forbidden otherwise.
pub fn validate_namespace_field(namespace: &str, requires_namespace: bool) -> Vec<FieldIssue> {
    let path = "metadata.namespace";
    if requires_namespace {
        if namespace.is_empty() {
            return vec![FieldIssue::required(path, "")];
        }
        validate_namespace_name(namespace, false)
            .into_iter()
            .map(|m| FieldIssue::invalid(path, namespace, m))
            .collect()
    } else if namespace.is_empty() {
        Vec::new()
    } else {
        vec![FieldIssue::forbidden(path, "not allowed on this type")]
    }
}

// ---------------------------------------------------------------------------------------------
// Labels, annotations, selectors
// ---------------------------------------------------------------------------------------------

/// Validates labels: each key a qualified name, each value a label value. All issues are at
/// `path` itself (upstream does not add the key), keys in sorted order.
pub fn validate_labels(labels: &BTreeMap<String, String>, path: &str) -> Vec<FieldIssue> {
    let mut issues = Vec::new();
    for (k, v) in labels {
        for msg in is_qualified_name(k) {
            issues.push(FieldIssue::invalid(path, k.as_str(), msg));
        }
        for msg in is_valid_label_value(v) {
            issues.push(FieldIssue::invalid(path, v.as_str(), msg));
        }
    }
    issues
}

/// Go's `strings.ToLower`, rune by rune (Rust's multi-character lowercasings are cut to their
/// first character, as Go maps each rune to one rune).
fn go_to_lower(s: &str) -> String {
    s.chars().map(|c| c.to_lowercase().next().unwrap_or(c)).collect()
}

/// Validates annotations: keys are qualified names once lowercased (the issue shows the key as
/// given), and the keys and values together may not exceed 256 KiB (`Too long: may not be more
/// than 262144 bytes`).
pub fn validate_annotations(annotations: &BTreeMap<String, String>, path: &str) -> Vec<FieldIssue> {
    let mut issues = Vec::new();
    for k in annotations.keys() {
        for msg in is_qualified_name(&go_to_lower(k)) {
            issues.push(FieldIssue::invalid(path, k.as_str(), msg));
        }
    }
    let total: usize = annotations.iter().map(|(k, v)| k.len().saturating_add(v.len())).fold(0, usize::saturating_add);
    if total > TOTAL_ANNOTATION_SIZE_LIMIT_B {
        issues.push(FieldIssue::too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT_B));
    }
    issues
}

/// Validates a `LabelSelector` field as upstream's `ValidateLabelSelector` does: matchLabels as
/// labels, each matchExpression's operator (`In`, `NotIn` need values; `Exists`,
/// `DoesNotExist` forbid them; anything else is `not a valid selector operator`), key and
/// values. `allow_invalid_label_value` skips the value check (upstream allows that on updates
/// of objects that already hold such values).
pub fn validate_label_selector(sel: &LabelSelector, path: &str, allow_invalid_label_value: bool) -> Vec<FieldIssue> {
    let mut issues = Vec::new();
    if let Some(ml) = &sel.match_labels {
        issues.extend(validate_labels(ml, &format!("{path}.matchLabels")));
    }
    for (i, expr) in sel.match_expressions.iter().flatten().enumerate() {
        let base = format!("{path}.matchExpressions[{i}]");
        let values = expr.values.as_deref().unwrap_or(&[]);
        match expr.operator.as_str() {
            "In" | "NotIn" => {
                if values.is_empty() {
                    issues.push(FieldIssue::required(
                        format!("{base}.values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    ));
                }
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    issues.push(FieldIssue::forbidden(
                        format!("{base}.values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    ));
                }
            }
            other => {
                issues.push(FieldIssue::invalid(format!("{base}.operator"), other, "not a valid selector operator"));
            }
        }
        for msg in is_qualified_name(&expr.key) {
            issues.push(FieldIssue::invalid(format!("{base}.key"), expr.key.as_str(), msg));
        }
        if !allow_invalid_label_value {
            for (j, v) in values.iter().enumerate() {
                for msg in is_valid_label_value(v) {
                    issues.push(FieldIssue::invalid(format!("{base}.values[{j}]"), v.as_str(), msg));
                }
            }
        }
    }
    issues
}

// ---------------------------------------------------------------------------------------------
// Finalizers and owner references
// ---------------------------------------------------------------------------------------------

/// Validates finalizers as upstream's generic `ValidateFinalizers`: each a qualified name (issues
/// at `path` itself, no index), and not both `orphan` and `foregroundDeletion`.
///
/// Built-in kinds additionally run [`validate_kube_finalizer_names`]; custom resources get
/// [`finalizer_warnings`] instead.
pub fn validate_finalizers(finalizers: &[String], path: &str) -> Vec<FieldIssue> {
    let mut issues = Vec::new();
    for f in finalizers {
        for msg in is_qualified_name(f) {
            issues.push(FieldIssue::invalid(path, f.as_str(), msg));
        }
    }
    let has = |n: &str| finalizers.iter().any(|f| f == n);
    if has(FINALIZER_ORPHAN_DEPENDENTS) && has(FINALIZER_DELETE_DEPENDENTS) {
        issues.push(FieldIssue {
            path: path.to_string(),
            kind: IssueKind::Invalid,
            value: None,
            detail: format!(
                "finalizer {FINALIZER_ORPHAN_DEPENDENTS} and {FINALIZER_DELETE_DEPENDENTS} cannot be both set"
            ),
        });
    }
    issues
}

/// The extra finalizer rule of built-in kinds (core's `validateKubeFinalizerName`): a finalizer
/// without `/` must be one of [`STANDARD_FINALIZERS`]. Issues are at `path[i]`. Upstream appends
/// these after all other metadata issues.
pub fn validate_kube_finalizer_names(finalizers: &[String], path: &str) -> Vec<FieldIssue> {
    finalizers
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.contains('/') && !STANDARD_FINALIZERS.contains(&f.as_str()))
        .map(|(i, f)| FieldIssue::invalid(format!("{path}[{i}]"), f.as_str(), NOT_STANDARD_FINALIZER_MSG))
        .collect()
}

/// Upstream's `ValidateNoNewFinalizers`: once an object is being deleted, no finalizer may be
/// added.
pub fn validate_no_new_finalizers(new: &[String], old: &[String], path: &str) -> Vec<FieldIssue> {
    let extra: BTreeSet<&String> = new.iter().filter(|f| !old.contains(f)).collect();
    if extra.is_empty() {
        return Vec::new();
    }
    let list: Vec<String> = extra.into_iter().cloned().collect();
    vec![FieldIssue::forbidden(
        path,
        format!(
            "no new finalizers can be added if the object is being deleted, found new finalizers {}",
            go_string_slice(&list)
        ),
    )]
}

/// The warnings a custom-resource write gets for the finalizers it adds (those in `new` but not
/// in `old`, sorted): qualified-name problems, and a nudge towards domain-qualified names for
/// non-standard names without `/`. Texts as upstream's apiextensions `validateKubeFinalizerName`,
/// prefixed `metadata.finalizers: "<name>": `.
pub fn finalizer_warnings(new: &[String], old: Option<&[String]>) -> Vec<String> {
    let path = "metadata.finalizers";
    let added: BTreeSet<&String> = new.iter().filter(|f| old.is_none_or(|o| !o.contains(f))).collect();
    let mut warnings = Vec::new();
    for f in added {
        let q = go_quote(f);
        for msg in is_qualified_name(f) {
            warnings.push(format!("{path}: {q}: {msg}"));
        }
        if !f.contains('/') && !STANDARD_FINALIZERS.contains(&f.as_str()) {
            if f.contains('.') {
                warnings.push(format!("{path}: {q}: prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers"));
            } else {
                warnings.push(format!("{path}: {q}: prefer a domain-qualified finalizer name to avoid accidental conflicts with other finalizer writers"));
            }
        }
    }
    warnings
}

/// Validates owner references as upstream: apiVersion (its version part), kind, name and uid
/// must be non-empty (issues at `path.apiVersion` etc., without an index, as upstream), `v1`
/// `Event` may not own, and at most one reference may be the controller.
pub fn validate_owner_references(refs: &[OwnerReference], path: &str) -> Vec<FieldIssue> {
    let mut issues = Vec::new();
    let mut first_controller: Option<String> = None;
    for r in refs {
        let (group, version) = parse_group_version(&r.api_version);
        if version.is_empty() {
            issues.push(FieldIssue::invalid(format!("{path}.apiVersion"), r.api_version.as_str(), "version must not be empty"));
        }
        if r.kind.is_empty() {
            issues.push(FieldIssue::invalid(format!("{path}.kind"), "", "kind must not be empty"));
        }
        if r.name.is_empty() {
            issues.push(FieldIssue::invalid(format!("{path}.name"), "", "name must not be empty"));
        }
        if r.uid.is_empty() {
            issues.push(FieldIssue::invalid(format!("{path}.uid"), "", "uid must not be empty"));
        }
        if group.is_empty() && version == "v1" && r.kind == "Event" {
            issues.push(FieldIssue {
                path: path.to_string(),
                kind: IssueKind::Invalid,
                value: None,
                detail: format!("{group}/{version}, Kind={} is disallowed from being an owner", r.kind),
            });
        }
        if r.controller == Some(true) {
            let current = format!("{}/{}", r.kind, r.name);
            match &first_controller {
                Some(first) => issues.push(FieldIssue {
                    path: path.to_string(),
                    kind: IssueKind::Invalid,
                    value: None,
                    detail: format!(
                        "Only one reference can have Controller set to true. Found \"true\" in references for {first} and {current}"
                    ),
                }),
                None => first_controller = Some(current),
            }
        }
    }
    issues
}

/// Upstream's `schema.FromAPIVersionAndKind` group/version split: `""` and `"/"` give empty
/// parts, `v1` is the core group, `g/v` splits once, more slashes give empty parts.
fn parse_group_version(api_version: &str) -> (&str, &str) {
    if api_version.is_empty() || api_version == "/" {
        return ("", "");
    }
    match api_version.matches('/').count() {
        0 => ("", api_version),
        1 => api_version.split_once('/').unwrap_or(("", "")),
        _ => ("", ""),
    }
}

/// The map- and list-shaped parts of upstream's `ValidateObjectMetaAccessor` for one object's
/// metadata, in upstream's order: `metadata.generation` (non-negative), `metadata.labels`,
/// `metadata.annotations`, `metadata.ownerReferences`, `metadata.finalizers`. Name and namespace
/// rules are separate ([`validate_object_meta_name`], [`validate_namespace_field`]), as is the
/// built-in-kind finalizer rule ([`validate_kube_finalizer_names`]). `managedFields` is not
/// checked.
pub fn validate_meta_maps(meta: &ObjectMeta) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(g) = meta.generation
        && g < 0
    {
        errs.push(FieldError::invalid("metadata.generation", g, IS_NEGATIVE_ERROR_MSG));
    }
    let mut issues = Vec::new();
    if let Some(l) = &meta.labels {
        issues.extend(validate_labels(l, "metadata.labels"));
    }
    if let Some(a) = &meta.annotations {
        issues.extend(validate_annotations(a, "metadata.annotations"));
    }
    if let Some(o) = &meta.owner_references {
        issues.extend(validate_owner_references(o, "metadata.ownerReferences"));
    }
    if let Some(f) = &meta.finalizers {
        issues.extend(validate_finalizers(f, "metadata.finalizers"));
    }
    errs.extend(issues.into_iter().map(FieldError::from));
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    const NAME_PART_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

    fn s(v: &str) -> String {
        v.to_string()
    }

    #[test]
    fn formats_are_consistent() {
        assert_eq!(DNS1123_SUBDOMAIN_FMT, format!("{DNS1123_LABEL_FMT}(\\.{DNS1123_LABEL_FMT})*"));
        assert_eq!(WILDCARD_DNS1123_SUBDOMAIN_FMT, format!("\\*\\.{DNS1123_SUBDOMAIN_FMT}"));
        assert_eq!(LABEL_VALUE_FMT, format!("({QUALIFIED_NAME_FMT})?"));
        assert_eq!(regex_error("m", "f", &[]), "m (regex used for validation is 'f')");
        assert_eq!(regex_error("m", "f", &["a"]), "m (e.g. 'a', regex used for validation is 'f')");
        assert_eq!(regex_error("m", "f", &["a", "b"]), "m (e.g. 'a',  or 'b', regex used for validation is 'f')");
    }

    #[test]
    fn dns1123_subdomain() {
        for good in ["a", "ab", "a.b", "a-1.b-2", "0.1", "example.com", &"a".repeat(253)] {
            assert!(is_dns1123_subdomain(good).is_empty(), "{good}");
        }
        for bad in ["", "A", "a..b", ".a", "a.", "-a", "a-", "a_b", "a b", "é", "a.-b"] {
            assert_eq!(is_dns1123_subdomain(bad), vec![s(SUBDOMAIN_MSG)], "{bad:?}");
        }
        assert_eq!(
            is_dns1123_subdomain(&"a".repeat(254)),
            vec![s("must be no more than 253 characters")]
        );
        assert_eq!(
            is_dns1123_subdomain(&format!("{}-", "a".repeat(254))),
            vec![s("must be no more than 253 characters"), s(SUBDOMAIN_MSG)]
        );
    }

    #[test]
    fn dns1123_label() {
        for good in ["a", "0", "a-1", "a--1--2--b", "1a", &"a".repeat(63)] {
            assert!(is_dns1123_label(good).is_empty(), "{good}");
        }
        for bad in ["", "A", "aBc", "-", "a-", "-a", "a_b", "a b", "."] {
            assert_eq!(is_dns1123_label(bad), vec![s(LABEL_MSG)], "{bad:?}");
        }
        assert_eq!(is_dns1123_label("a.b"), vec![s("must not contain dots")]);
        assert_eq!(is_dns1123_label(&"a".repeat(64)), vec![s("must be no more than 63 characters")]);
    }

    #[test]
    fn dns1035_label() {
        for good in ["a", "ab", "a-1", "a--1--2--b", &"a".repeat(63)] {
            assert!(is_dns1035_label(good).is_empty(), "{good}");
        }
        for bad in ["", "0", "1a", "A", "a-", "-a", "a.b", "a_b"] {
            assert_eq!(is_dns1035_label(bad), vec![s(DNS1035_MSG)], "{bad:?}");
        }
        assert_eq!(is_dns1035_label(&"a".repeat(64)), vec![s("must be no more than 63 characters")]);
    }

    #[test]
    fn wildcard_subdomain() {
        for good in ["*.example.com", "*.bar.com", "*.foo.bar.com", "*.a"] {
            assert!(is_wildcard_dns1123_subdomain(good).is_empty(), "{good}");
        }
        let msg = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
        for bad in ["*.*.bar.com", "*.foo.*.com", "*bar.com", "f*.bar.com", "*", "*.", "bar.com", ""] {
            assert_eq!(is_wildcard_dns1123_subdomain(bad), vec![s(msg)], "{bad:?}");
        }
    }

    #[test]
    fn qualified_names() {
        let long_prefix = format!("{}/{}", "a".repeat(253), "b".repeat(63));
        for good in [
            "simple",
            "now-with-dashes",
            "1-starts-with-num",
            "1234",
            "simple/simple",
            "now.with.dots/simple",
            "1.2.3.4/5678",
            "Uppercase_Is_OK_123",
            "example.com/Uppercase_Is_OK_123",
            &"a".repeat(63),
            &long_prefix,
        ] {
            assert!(is_qualified_name(good).is_empty(), "{good}");
        }
        assert_eq!(is_qualified_name("nospecialchars%^=@"), vec![s(NAME_PART_MSG)]);
        assert_eq!(is_qualified_name("-cantstartwithadash-"), vec![s(NAME_PART_MSG)]);
        assert_eq!(
            is_qualified_name("only/one/slash"),
            vec![s("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")]
        );
        assert_eq!(is_qualified_name("Example.com/abc"), vec![format!("prefix part {SUBDOMAIN_MSG}")]);
        assert_eq!(is_qualified_name("/simple"), vec![s("prefix part must be non-empty")]);
        assert_eq!(is_qualified_name("example.com/"), vec![s("name part must be non-empty"), s(NAME_PART_MSG)]);
        assert_eq!(is_qualified_name(""), vec![s("name part must be non-empty"), s(NAME_PART_MSG)]);
        assert_eq!(is_qualified_name(&"a".repeat(64)), vec![s("name part must be no more than 63 characters")]);
        assert_eq!(
            is_qualified_name(&format!("{}/abc", "a".repeat(254))),
            vec![s("prefix part must be no more than 253 characters")]
        );
    }

    #[test]
    fn label_values() {
        for good in ["", "simple", "now-with-dashes", "1-starts-with-num", "end-with-num-1", "1234", "a_b.c-d", &"a".repeat(63)] {
            assert!(is_valid_label_value(good).is_empty(), "{good}");
        }
        for bad in ["nospecialchars%^=@", "Tama-nui-te-rā.is.Māori.sun", "\\backslashes\\are\\bad", "-starts-with-dash", "ends-with-dash-", ".starts.with.dot", "ends.with.dot.", "a b"] {
            assert_eq!(is_valid_label_value(bad), vec![s(LABEL_VALUE_MSG)], "{bad:?}");
        }
        assert_eq!(is_valid_label_value(&"a".repeat(64)), vec![s("must be no more than 63 characters")]);
        assert_eq!(
            is_valid_label_value(&format!("{}-", "a".repeat(64))),
            vec![s("must be no more than 63 characters"), s(LABEL_VALUE_MSG)]
        );
    }

    #[test]
    fn c_identifiers_and_env_names() {
        for good in ["a", "ab", "abc", "a1", "_a", "a_", "a_b", "_", "A", "AB", "A1", "_A", "A_B"] {
            assert!(is_c_identifier(good).is_empty(), "{good}");
        }
        let msg = "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName', regex used for validation is '[A-Za-z_][A-Za-z0-9_]*')";
        for bad in ["", "1", "123", "1a", "-", "a-", "a b", "a.b", "é"] {
            assert_eq!(is_c_identifier(bad), vec![s(msg)], "{bad:?}");
        }
        for good in ["a", "A", "_a", "a.b", "-a", ".a", "a-1", "my.env-name", "MY_ENV.NAME"] {
            assert!(is_env_var_name(good).is_empty(), "{good}");
        }
        let env = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";
        assert_eq!(is_env_var_name("1a"), vec![s(env)]);
        assert_eq!(is_env_var_name(""), vec![s(env)]);
        assert_eq!(is_env_var_name("a b"), vec![s(env)]);
        assert_eq!(is_env_var_name("."), vec![s("must not be '.'")]);
        assert_eq!(is_env_var_name(".."), vec![s("must not be '..'")]);
        assert_eq!(is_env_var_name("..a"), vec![s("must not start with '..'")]);
        assert!(is_relaxed_env_var_name("1 a$b").is_empty());
        assert_eq!(
            is_relaxed_env_var_name(""),
            vec![s("environment variable name must be non-empty")]
        );
        assert_eq!(is_relaxed_env_var_name("a=b"), vec![s(RELAXED_ENV_VAR_NAME_ERR_MSG)]);
        assert_eq!(is_relaxed_env_var_name("aé"), vec![s(RELAXED_ENV_VAR_NAME_ERR_MSG)]);
        assert_eq!(is_relaxed_env_var_name("a\tb"), vec![s(RELAXED_ENV_VAR_NAME_ERR_MSG)]);
    }

    #[test]
    fn config_map_keys() {
        for good in ["a", "ab", "a-b", "a_b", "a.b", "A.B", ".a", "a..b", &"a".repeat(253)] {
            assert!(is_config_map_key(good).is_empty(), "{good}");
        }
        let msg = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
        assert_eq!(is_config_map_key(""), vec![s(msg)]);
        assert_eq!(is_config_map_key("a b"), vec![s(msg)]);
        assert_eq!(is_config_map_key("a/b"), vec![s(msg)]);
        assert_eq!(is_config_map_key("."), vec![s("must not be '.'")]);
        assert_eq!(is_config_map_key("..a"), vec![s("must not start with '..'")]);
        assert_eq!(is_config_map_key(&"a".repeat(254)), vec![s("must be no more than 253 characters")]);
    }

    #[test]
    fn numbers_percent_headers() {
        assert!(is_valid_port_num(1).is_empty());
        assert!(is_valid_port_num(65535).is_empty());
        for bad in [0, -1, 65536, i64::MAX, i64::MIN] {
            assert_eq!(is_valid_port_num(bad), vec![s("must be between 1 and 65535, inclusive")]);
        }
        assert!(is_in_range(5, 1, 5).is_empty());
        assert_eq!(is_in_range(6, 1, 5), vec![s("must be between 1 and 5, inclusive")]);
        for good in ["0%", "1%", "100%", "0123%"] {
            assert!(is_percent(good).is_empty(), "{good}");
        }
        let pct = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";
        for bad in ["", "%", "1", "1.5%", "-1%", "a%", "1%%", " 1%"] {
            assert_eq!(is_percent(bad), vec![s(pct)], "{bad:?}");
        }
        for good in ["Host", "X-Header-Name", "a", "1"] {
            assert!(is_http_header_name(good).is_empty());
        }
        let hdr = "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')";
        for bad in ["", "X_Header", "X Header", "X:"] {
            assert_eq!(is_http_header_name(bad), vec![s(hdr)], "{bad:?}");
        }
    }

    #[test]
    fn port_names() {
        for good in ["telnet", "re-mail-ck", "pop3", "a", "a-1", "1-a", "a-1-b-2", &"a".repeat(15)] {
            assert!(is_valid_port_name(good).is_empty(), "{good}");
        }
        assert_eq!(is_valid_port_name("1234"), vec![s("must contain at least one letter (a-z)")]);
        assert_eq!(is_valid_port_name("a--b"), vec![s("must not contain consecutive hyphens")]);
        assert_eq!(is_valid_port_name("-a"), vec![s("must not begin or end with a hyphen")]);
        assert_eq!(is_valid_port_name(&"a".repeat(16)), vec![s("must be no more than 15 characters")]);
        assert_eq!(
            is_valid_port_name(""),
            vec![
                s("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"),
                s("must contain at least one letter (a-z)")
            ]
        );
        assert_eq!(
            is_valid_port_name("Http"),
            vec![s("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")]
        );
    }

    #[test]
    fn domain_prefixed_paths() {
        for good in ["a/b", "a/b/c/d", "acme.io/foo", "example.com/~!$&'()*+,;=:%"] {
            assert!(is_domain_prefixed_path("f", good).is_empty(), "{good}");
        }
        assert_eq!(is_domain_prefixed_path("f", ""), vec![FieldIssue::required("f", "")]);
        let dp = "must be a domain-prefixed path (such as \"acme.io/foo\")";
        for bad in ["a", "/", "a/", "/b"] {
            assert_eq!(is_domain_prefixed_path("f", bad), vec![FieldIssue::invalid("f", bad, dp)], "{bad:?}");
        }
        assert_eq!(
            is_domain_prefixed_path("f", "Acme.io/foo"),
            vec![FieldIssue::invalid("f", "Acme.io", SUBDOMAIN_MSG)]
        );
        assert_eq!(
            is_domain_prefixed_path("f", "acme.io/foo bar"),
            vec![FieldIssue::invalid(
                "f",
                "foo bar",
                "Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')"
            )]
        );
    }

    #[test]
    fn ip_addresses() {
        // (input, valid, family) as upstream's table
        let cases: &[(&str, u8)] = &[
            ("1.2.3.4", 4),
            ("0.0.0.0", 4),
            ("255.255.255.255", 4),
            ("1234::abcd", 6),
            ("::", 6),
            ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 6),
            ("0:0:0:0:0:0:0:0", 6),
            ("0001:002:03:4::", 6),
            ("1234::ABCD", 6),
            ("1.1.1.01", 4),
            ("010.001.002.003", 4),
            ("::ffff:1.1.1.1", 4),
            ("::ffff:001.1.1.1", 4),
            ("::1.2.3.4", 6),
            ("1:2:3:4:5:6:1.2.3.4", 6),
            ("", 0),
            ("aaaaaaa", 0),
            ("myhost.mydomain", 0),
            ("1.2.3.0/24", 0),
            ("1.2.3.400", 0),
            ("-1.0.0.0", 0),
            ("2001:db8::10005", 0),
            ("1.2.3.4:80", 0),
            ("[2001:db8::1]", 0),
            ("[2001:db8::1]:80", 0),
            ("example.com:80", 0),
            ("1234::abcd%eth0", 0),
            ("169.254.0.0%eth0", 0),
            ("1.2.3", 0),
            ("1.2.3.4.5", 0),
            ("1..2.3", 0),
            ("1:2:3:4:5:6:7:8:9", 0),
            ("1::2::3", 0),
            ("1:2:3:4:5:6:7::8", 0),
            ("1:2:3:4:5:6:7:", 0),
            ("00001::", 0),
            ("1:2:3:4:5:1.2.3.4", 0),
            (":", 0),
            (":::", 0),
        ];
        for &(input, family) in cases {
            assert_eq!(is_valid_ip(input).is_empty(), family != 0, "is_valid_ip({input:?})");
            assert_eq!(is_valid_ipv4_address(input).is_empty(), family == 4, "ipv4({input:?})");
            assert_eq!(is_valid_ipv6_address(input).is_empty(), family == 6, "ipv6({input:?})");
        }
        assert_eq!(is_valid_ip("x"), vec![s("must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")]);
        assert_eq!(is_valid_ipv4_address("::1"), vec![s("must be a valid IPv4 address")]);
        assert_eq!(is_valid_ipv6_address("1.2.3.4"), vec![s("must be a valid IPv6 address")]);
        assert_eq!(parse_ip_sloppy("010.1.2.3"), Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3))));
        assert_eq!(parse_ip_sloppy("::ffff:1.2.3.4"), Some(IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4))));
        assert_eq!(parse_ip_sloppy("2001:db8::1"), "2001:db8::1".parse::<IpAddr>().ok());
        assert_eq!(parse_ip_sloppy("::1.2.3.4"), "::1.2.3.4".parse::<IpAddr>().ok());
        assert_eq!(parse_ip_sloppy("1::"), "1::".parse::<IpAddr>().ok());
    }

    #[test]
    fn go_quoting() {
        assert_eq!(go_quote("abc"), "\"abc\"");
        assert_eq!(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(go_quote("\n\t\r\u{7}\u{8}\u{c}\u{b}"), "\"\\n\\t\\r\\a\\b\\f\\v\"");
        assert_eq!(go_quote("\u{0}\u{1f}\u{7f}"), "\"\\x00\\x1f\\x7f\"");
        assert_eq!(go_quote("rā ü 日本"), "\"rā ü 日本\"");
        assert_eq!(go_quote("\u{a0}\u{200b}\u{feff}"), "\"\\u00a0\\u200b\\ufeff\"");
        assert_eq!(go_quote("\u{85}"), "\"\\u0085\"");
        assert_eq!(go_quote("\u{f0000}"), "\"\\U000f0000\"");
        assert_eq!(go_quote("😀"), "\"😀\"");
        assert_eq!(go_string_slice(&[]), "[]string(nil)");
        assert_eq!(go_string_slice(&[s("a"), s("b\"")]), "[]string{\"a\", \"b\\\"\"}");
    }

    #[test]
    fn object_meta_names() {
        assert!(validate_object_meta_name("ok", "", name_is_dns_subdomain).is_empty());
        assert_eq!(
            validate_object_meta_name("", "", name_is_dns_subdomain),
            vec![FieldIssue::required("metadata.name", "name or generateName is required")]
        );
        assert_eq!(
            validate_object_meta_name("", "", name_is_dns_subdomain)[0].to_string(),
            "metadata.name: Required value: name or generateName is required"
        );
        // name generation is expected to have happened already
        assert_eq!(validate_object_meta_name("", "gen-", name_is_dns_subdomain).len(), 1);
        assert!(validate_object_meta_name("gen-abcde", "gen-", name_is_dns_subdomain).is_empty());
        let issues = validate_object_meta_name("Bad", "Gen-", name_is_dns_subdomain);
        assert_eq!(issues.len(), 2);
        assert_eq!(issues[0].to_string(), format!("metadata.generateName: Invalid value: \"Gen-\": {SUBDOMAIN_MSG}"));
        assert_eq!(issues[1].to_string(), format!("metadata.name: Invalid value: \"Bad\": {SUBDOMAIN_MSG}"));
        assert_eq!(
            validate_object_meta_name("a.b", "", name_is_dns_label)[0].to_string(),
            "metadata.name: Invalid value: \"a.b\": must not contain dots"
        );
        assert_eq!(
            validate_object_meta_name("1abc", "", name_is_dns1035_label)[0].to_string(),
            format!("metadata.name: Invalid value: \"1abc\": {DNS1035_MSG}")
        );
    }

    #[test]
    fn prefix_names_mask_trailing_dash() {
        assert!(name_is_dns_subdomain("gen-", true).is_empty());
        assert!(name_is_dns_label("gen-", true).is_empty());
        assert!(name_is_dns1035_label("gen-", true).is_empty());
        assert_eq!(name_is_dns_subdomain("gen-", false), vec![s(SUBDOMAIN_MSG)]);
        // a lone "-" is not masked
        assert_eq!(name_is_dns_subdomain("-", true), vec![s(SUBDOMAIN_MSG)]);
        // upstream drops two bytes: "a.-" becomes "aa"
        assert!(name_is_dns_label("a.-", true).is_empty());
        // a multi-byte character before the dash does not panic
        assert_eq!(name_is_dns_subdomain("é-", true), vec![s(SUBDOMAIN_MSG)]);
        // the masked name is one byte shorter, so 254 bytes with a trailing dash pass
        assert!(name_is_dns_subdomain(&format!("{}-", "a".repeat(253)), true).is_empty());
        assert_eq!(validate_namespace_name("kube-system", false), Vec::<String>::new());
    }

    #[test]
    fn namespace_field() {
        assert!(validate_namespace_field("default", true).is_empty());
        assert!(validate_namespace_field("", false).is_empty());
        assert_eq!(validate_namespace_field("", true)[0].to_string(), "metadata.namespace: Required value");
        assert_eq!(
            validate_namespace_field("x", false)[0].to_string(),
            "metadata.namespace: Forbidden: not allowed on this type"
        );
        assert_eq!(
            validate_namespace_field("a.b", true)[0].to_string(),
            "metadata.namespace: Invalid value: \"a.b\": must not contain dots"
        );
    }

    #[test]
    fn labels_and_annotations() {
        let mut labels = BTreeMap::new();
        labels.insert(s("app"), s("web"));
        labels.insert(s("example.com/tier"), s(""));
        assert!(validate_labels(&labels, "metadata.labels").is_empty());
        labels.insert(s("bad key"), s("bad value"));
        let issues = validate_labels(&labels, "metadata.labels");
        assert_eq!(issues.len(), 2);
        assert_eq!(issues[0].to_string(), format!("metadata.labels: Invalid value: \"bad key\": {NAME_PART_MSG}"));
        assert_eq!(issues[1].to_string(), format!("metadata.labels: Invalid value: \"bad value\": {LABEL_VALUE_MSG}"));
        assert_eq!(issues[0].kind.reason(), "FieldValueInvalid");

        let mut ann = BTreeMap::new();
        ann.insert(s("Example.COM/Some_Key"), s("anything at all: \n"));
        assert!(validate_annotations(&ann, "metadata.annotations").is_empty());
        ann.insert(s("a/b/c"), s(""));
        let issues = validate_annotations(&ann, "metadata.annotations");
        assert_eq!(issues.len(), 1);
        assert!(issues[0].to_string().starts_with("metadata.annotations: Invalid value: \"a/b/c\": a qualified name must"));

        let mut big = BTreeMap::new();
        big.insert(s("k"), "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT_B - 1));
        assert!(validate_annotations(&big, "metadata.annotations").is_empty());
        big.insert(s("l"), s(""));
        let issues = validate_annotations(&big, "metadata.annotations");
        assert_eq!(issues, vec![FieldIssue::too_long("metadata.annotations", 262144)]);
        assert_eq!(issues[0].to_string(), "metadata.annotations: Too long: may not be more than 262144 bytes");
    }

    #[test]
    fn label_selectors() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;
        let req = |k: &str, op: &str, v: Option<Vec<&str>>| LabelSelectorRequirement {
            key: s(k),
            operator: s(op),
            values: v.map(|v| v.into_iter().map(s).collect()),
        };
        let sel = LabelSelector {
            match_labels: Some([(s("app"), s("bad value"))].into_iter().collect()),
            match_expressions: Some(vec![
                req("a", "In", None),
                req("b", "Exists", Some(vec!["x"])),
                req("c", "Foo", None),
                req("d e", "NotIn", Some(vec!["ok", "bad!"])),
            ]),
        };
        let got: Vec<String> = validate_label_selector(&sel, "spec.selector", false).iter().map(|i| i.to_string()).collect();
        assert_eq!(
            got,
            vec![
                format!("spec.selector.matchLabels: Invalid value: \"bad value\": {LABEL_VALUE_MSG}"),
                s("spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"),
                s("spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
                s("spec.selector.matchExpressions[2].operator: Invalid value: \"Foo\": not a valid selector operator"),
                format!("spec.selector.matchExpressions[3].key: Invalid value: \"d e\": {NAME_PART_MSG}"),
                format!("spec.selector.matchExpressions[3].values[1]: Invalid value: \"bad!\": {LABEL_VALUE_MSG}"),
            ]
        );
        assert_eq!(validate_label_selector(&sel, "spec.selector", true).len(), 5);
        assert!(validate_label_selector(&LabelSelector::default(), "s", false).is_empty());
    }

    #[test]
    fn finalizers() {
        assert!(validate_finalizers(&[s("kubernetes"), s("example.com/x")], "metadata.finalizers").is_empty());
        let issues = validate_finalizers(&[s("bad name")], "metadata.finalizers");
        assert_eq!(issues[0].to_string(), format!("metadata.finalizers: Invalid value: \"bad name\": {NAME_PART_MSG}"));
        let issues = validate_finalizers(&[s("orphan"), s("foregroundDeletion")], "metadata.finalizers");
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].detail, "finalizer orphan and foregroundDeletion cannot be both set");
        assert_eq!(issues[0].kind, IssueKind::Invalid);

        let kube = validate_kube_finalizer_names(
            &[s("kubernetes"), s("foo"), s("orphan"), s("x.io/y"), s("foregroundDeletion"), s("a.b")],
            "metadata.finalizers",
        );
        let got: Vec<String> = kube.iter().map(|i| i.to_string()).collect();
        assert_eq!(
            got,
            vec![
                s("metadata.finalizers[1]: Invalid value: \"foo\": name is neither a standard finalizer name nor is it fully qualified"),
                s("metadata.finalizers[5]: Invalid value: \"a.b\": name is neither a standard finalizer name nor is it fully qualified"),
            ]
        );

        assert!(validate_no_new_finalizers(&[s("a")], &[s("a")], "metadata.finalizers").is_empty());
        assert_eq!(
            validate_no_new_finalizers(&[s("c"), s("a"), s("b")], &[s("a")], "metadata.finalizers")[0].to_string(),
            "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"b\", \"c\"}"
        );

        let w = finalizer_warnings(&[s("b.io/x"), s("foo"), s("foo.bar"), s("orphan"), s("old")], Some(&[s("old")]));
        assert_eq!(
            w,
            vec![
                s("metadata.finalizers: \"foo\": prefer a domain-qualified finalizer name to avoid accidental conflicts with other finalizer writers"),
                s("metadata.finalizers: \"foo.bar\": prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers"),
            ]
        );
        let w = finalizer_warnings(&[s("a b")], None);
        assert_eq!(w[0], format!("metadata.finalizers: \"a b\": {NAME_PART_MSG}"));
        assert_eq!(w.len(), 2);
    }

    fn owner(api: &str, kind: &str, name: &str, uid: &str, controller: Option<bool>) -> OwnerReference {
        OwnerReference {
            api_version: s(api),
            kind: s(kind),
            name: s(name),
            uid: s(uid),
            controller,
            block_owner_deletion: None,
        }
    }

    #[test]
    fn owner_references() {
        let p = "metadata.ownerReferences";
        assert!(validate_owner_references(&[owner("apps/v1", "ReplicaSet", "rs", "u1", Some(true))], p).is_empty());
        let got: Vec<String> = validate_owner_references(&[owner("", "", "", "", None)], p).iter().map(|i| i.to_string()).collect();
        assert_eq!(
            got,
            vec![
                s("metadata.ownerReferences.apiVersion: Invalid value: \"\": version must not be empty"),
                s("metadata.ownerReferences.kind: Invalid value: \"\": kind must not be empty"),
                s("metadata.ownerReferences.name: Invalid value: \"\": name must not be empty"),
                s("metadata.ownerReferences.uid: Invalid value: \"\": uid must not be empty"),
            ]
        );
        for api in ["apps/", "a/b/c", "/"] {
            let issues = validate_owner_references(&[owner(api, "K", "n", "u", None)], p);
            assert_eq!(issues.len(), 1, "{api}");
            assert_eq!(issues[0].detail, "version must not be empty");
        }
        assert!(validate_owner_references(&[owner("/v1", "K", "n", "u", None)], p).is_empty());
        let ev = validate_owner_references(&[owner("v1", "Event", "e", "u", None)], p);
        assert_eq!(ev[0].detail, "/v1, Kind=Event is disallowed from being an owner");
        assert!(validate_owner_references(&[owner("events.k8s.io/v1", "Event", "e", "u", None)], p).is_empty());
        let two = validate_owner_references(
            &[
                owner("apps/v1", "ReplicaSet", "a", "1", Some(true)),
                owner("apps/v1", "Deployment", "b", "2", Some(false)),
                owner("apps/v1", "StatefulSet", "c", "3", Some(true)),
            ],
            p,
        );
        assert_eq!(two.len(), 1);
        assert_eq!(
            two[0].detail,
            "Only one reference can have Controller set to true. Found \"true\" in references for ReplicaSet/a and StatefulSet/c"
        );
    }

    #[test]
    fn meta_maps_and_conversion() {
        let meta = ObjectMeta {
            generation: Some(-1),
            labels: Some([(s("a b"), s("v"))].into_iter().collect()),
            finalizers: Some(vec![s("x/y")]),
            ..Default::default()
        };
        let errs = validate_meta_maps(&meta);
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].to_string(), "metadata.generation: Invalid value: -1: must be greater than or equal to 0");
        assert_eq!(errs[1].path, "metadata.labels");
        assert_eq!(errs[1].kind, ErrorKind::Invalid);
        assert!(validate_meta_maps(&ObjectMeta::default()).is_empty());

        let fe = FieldIssue::required("metadata.name", "x").to_field_error();
        assert_eq!(fe.to_string(), "metadata.name: Required value: x");
        let fe: FieldError = FieldIssue::invalid("p", "v", "d").into();
        assert_eq!(fe.to_string(), "p: Invalid value: \"v\": d");
        assert_eq!(IssueKind::TooMany.text(), "Too many");
        assert_eq!(IssueKind::NotSupported.reason(), "FieldValueNotSupported");
        let dup = FieldIssue { path: s("p"), kind: IssueKind::Duplicate, value: Some(s("x")), detail: String::new() };
        assert_eq!(dup.to_string(), "p: Duplicate value: \"x\"");
        let none = FieldIssue { path: s("p"), kind: IssueKind::Invalid, value: None, detail: s("d") };
        assert_eq!(none.body(), "Invalid value: null: d");
    }
}
