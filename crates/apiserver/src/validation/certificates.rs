//! CertificateSigningRequests and ClusterTrustBundle names (certificates.k8s.io).

use apimachinery::field::{ErrorList, Path};
use apimachinery::validation as v;
use k8s_openapi::api::certificates::v1 as cert;

use super::common::*;

/// Upstream's `ValidateSignerName`.
pub(crate) fn signer_name_errors(path: &Path, signer: &str) -> Errs {
    let mut e = Vec::new();
    if signer.is_empty() {
        return vec![required(path, "")];
    }
    let segments: Vec<&str> = signer.split('/').collect();
    if segments.len() != 2 {
        return vec![invalid(path, signer, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
    }
    if segments[0].len() > 253 {
        e.push(too_long(path, 253));
    }
    let domain_labels: Vec<&str> = segments[0].split('.').collect();
    for lbl in &domain_labels {
        let errs = v::is_dns1123_label(lbl);
        if !errs.is_empty() {
            for err in errs {
                e.push(invalid(path, segments[0], format!("validating label {lbl:?}: {err}")));
            }
            break;
        }
    }
    if domain_labels.len() < 2 {
        e.push(invalid(path, segments[0], "should be a domain with at least two segments separated by dots"));
    }
    for lbl in segments[1].split('.') {
        let errs = v::is_dns1123_subdomain(lbl);
        if !errs.is_empty() {
            for err in errs {
                e.push(invalid(path, segments[1], format!("validating component {lbl:?}: {err}")));
            }
            break;
        }
    }
    let max = 253 + (253 + 63 + 1) + 1;
    if signer.len() > max {
        e.push(too_long(path, max));
    }
    e
}

/// Upstream's `ValidateClusterTrustBundleName(signerName)(name, false)`.
pub(crate) fn cluster_trust_bundle_name_errors(signer: &str, name: &str) -> Vec<String> {
    if signer.is_empty() {
        if name.contains(':') {
            return vec!["ClusterTrustBundle without signer name must not have \":\" in its name".to_string()];
        }
        return v::name_is_dns_subdomain(name, false);
    }
    let prefix = format!("{}:", signer.replace('/', ":"));
    match name.strip_prefix(&prefix) {
        Some(rest) => v::name_is_dns_subdomain(rest, false),
        None => vec![format!("ClusterTrustBundle for signerName {signer} must be named with prefix {prefix}")],
    }
}

// ---------------------------------------------------------------------------------------------
// CertificateSigningRequest
// ---------------------------------------------------------------------------------------------

const LEGACY_UNKNOWN_SIGNER_NAME: &str = "kubernetes.io/legacy-unknown";

/// The key usages upstream accepts, sorted.
const VALID_USAGES: &[&str] = &[
    "any",
    "cert sign",
    "client auth",
    "code signing",
    "content commitment",
    "crl sign",
    "data encipherment",
    "decipher only",
    "digital signature",
    "email protection",
    "encipher only",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "key agreement",
    "key encipherment",
    "microsoft sgc",
    "netscape sgc",
    "ocsp signing",
    "s/mime",
    "server auth",
    "signing",
    "timestamping",
];

/// One decoded PEM block.
struct PemBlock {
    type_: String,
    has_headers: bool,
    bytes: Vec<u8>,
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    let mut pad = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                pad += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        if pad > 0 {
            return None;
        }
        buf = (buf << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Go's `pem.Decode`, simplified: the first well-formed block and the rest of the input.
fn pem_decode(data: &[u8]) -> Option<(PemBlock, &[u8])> {
    let text = std::str::from_utf8(data).ok()?;
    let mut search = 0;
    loop {
        let start = search + text[search..].find("-----BEGIN ")?;
        let after = &text[start + 11..];
        let type_end = after.find("-----")?;
        let type_ = &after[..type_end];
        let body_start = start + 11 + type_end + 5;
        let end_marker = format!("-----END {type_}-----");
        let Some(end_rel) = text[body_start..].find(&end_marker) else {
            search = start + 11;
            continue;
        };
        let body = &text[body_start..body_start + end_rel];
        // headers are "Key: value" lines before a blank line
        let mut has_headers = false;
        let mut b64 = String::new();
        let mut lines = body.lines().peekable();
        if body.lines().find(|l| !l.trim().is_empty()).is_some_and(|l| l.contains(':')) {
            has_headers = true;
            for l in lines.by_ref() {
                if l.trim().is_empty() {
                    break;
                }
            }
        }
        for l in lines {
            b64.push_str(l.trim());
        }
        let Some(bytes) = base64_decode(&b64) else {
            search = start + 11;
            continue;
        };
        let rest_start = body_start + end_rel + end_marker.len();
        let rest = &data[rest_start.min(data.len())..];
        return Some((PemBlock { type_: type_.to_string(), has_headers, bytes }, rest));
    }
}

/// The PEM part of upstream's `validateCertificate` (X.509 parsing is not done here).
fn certificate_errors(mut data: &[u8]) -> Option<String> {
    if data.is_empty() {
        return None;
    }
    let mut blocks = 0;
    while let Some((block, rest)) = pem_decode(data) {
        if block.type_ != "CERTIFICATE" {
            return Some(format!("only CERTIFICATE PEM blocks are allowed, found {}", v::go_quote(&block.type_)));
        }
        if block.has_headers {
            return Some("no PEM block headers are permitted".to_string());
        }
        if block.bytes.is_empty() {
            return Some("found CERTIFICATE PEM block containing 0 certificates".to_string());
        }
        blocks += 1;
        data = rest;
    }
    if blocks == 0 {
        return Some("must contain at least one CERTIFICATE PEM block".to_string());
    }
    None
}

#[derive(Default, Clone, Copy)]
struct CsrOpts {
    allow_legacy_signer_name: bool,
    allow_duplicate_condition_types: bool,
    allow_empty_condition_type: bool,
    allow_arbitrary_certificate: bool,
    allow_duplicate_usages: bool,
    allow_unknown_usages: bool,
    allow_both_approved_and_denied: bool,
    allow_setting_certificate: bool,
    allow_setting_approval_conditions: bool,
}

fn conditions_of(csr: &cert::CertificateSigningRequest) -> Vec<cert::CertificateSigningRequestCondition> {
    csr.status.as_ref().and_then(|s| s.conditions.clone()).unwrap_or_default()
}

fn certificate_of(csr: &cert::CertificateSigningRequest) -> Vec<u8> {
    csr.status.as_ref().and_then(|s| s.certificate.as_ref()).map(|b| b.0.clone()).unwrap_or_default()
}

fn has_duplicates<'a>(items: impl Iterator<Item = &'a str>) -> bool {
    let mut seen = std::collections::BTreeSet::new();
    items.into_iter().any(|x| !seen.insert(x))
}

fn csr_opts(new: &cert::CertificateSigningRequest, old: Option<&cert::CertificateSigningRequest>) -> CsrOpts {
    let Some(old) = old else { return CsrOpts::default() };
    let oc = conditions_of(old);
    let usages = &old.spec.usages;
    let usages: &[String] = usages.as_deref().unwrap_or(&[]);
    CsrOpts {
        allow_legacy_signer_name: old.spec.signer_name == LEGACY_UNKNOWN_SIGNER_NAME,
        allow_duplicate_condition_types: has_duplicates(oc.iter().map(|c| c.type_.as_str())),
        allow_empty_condition_type: oc.iter().any(|c| c.type_.is_empty()),
        allow_arbitrary_certificate: certificate_of(new) == certificate_of(old) || certificate_errors(&certificate_of(old)).is_some(),
        allow_duplicate_usages: has_duplicates(usages.iter().map(|u| u.as_str())),
        allow_unknown_usages: usages.iter().any(|u| !VALID_USAGES.contains(&u.as_str())),
        allow_both_approved_and_denied: oc.iter().any(|c| c.type_ == "Approved") && oc.iter().any(|c| c.type_ == "Denied"),
        ..Default::default()
    }
}

fn csr_errs(csr: &cert::CertificateSigningRequest, opts: CsrOpts) -> Errs {
    let mut e = Vec::new();
    let sp = p("spec");
    let request = &csr.spec.request.0;
    match pem_decode(request) {
        Some((block, _)) if block.type_ == "CERTIFICATE REQUEST" => {}
        _ => e.push(invalid(&sp.child("request"), json(&csr.spec.request), "PEM block type must be CERTIFICATE REQUEST")),
    }
    let usages: &[String] = csr.spec.usages.as_deref().unwrap_or(&[]);
    let up = sp.child("usages");
    if usages.is_empty() {
        e.push(required(&up, ""));
    }
    if !opts.allow_unknown_usages {
        for (i, u) in usages.iter().enumerate() {
            if !VALID_USAGES.contains(&u.as_str()) {
                e.push(not_supported(&up.index(i), u.as_str(), VALID_USAGES));
            }
        }
    }
    if !opts.allow_duplicate_usages {
        let mut seen = std::collections::BTreeSet::new();
        for (i, u) in usages.iter().enumerate() {
            if !seen.insert(u.as_str()) {
                e.push(duplicate(&up.index(i), u.as_str()));
            }
        }
    }
    let signer = csr.spec.signer_name.as_str();
    if !opts.allow_legacy_signer_name && signer == LEGACY_UNKNOWN_SIGNER_NAME {
        e.push(invalid(&sp.child("signerName"), signer, "the legacy signerName is not allowed via this API version"));
    } else {
        e.extend(signer_name_errors(&sp.child("signerName"), signer));
    }
    if let Some(exp) = csr.spec.expiration_seconds
        && exp < 600
    {
        e.push(invalid(&sp.child("expirationSeconds"), exp, "may not specify a duration less than 600 seconds (10 minutes)"));
    }
    let cp = p("status").child("conditions");
    let mut seen = std::collections::BTreeSet::new();
    let (mut approved, mut denied) = (false, false);
    for (i, c) in conditions_of(csr).iter().enumerate() {
        let ip = cp.index(i);
        if !opts.allow_empty_condition_type && c.type_.is_empty() {
            e.push(required(&ip.child("type"), ""));
        }
        let allowed: &[&str] = if ["Approved", "Denied", "Failed"].contains(&c.type_.as_str()) { &["True"] } else { &["False", "True", "Unknown"] };
        if c.status.is_empty() {
            e.push(required(&ip.child("status"), ""));
        } else if !allowed.contains(&c.status.as_str()) {
            e.push(not_supported(&ip.child("status"), c.status.as_str(), allowed));
        }
        if !opts.allow_both_approved_and_denied {
            const EXCLUSIVE: &str = "Approved and Denied conditions are mutually exclusive";
            match c.type_.as_str() {
                "Approved" => {
                    approved = true;
                    if denied {
                        e.push(invalid(&ip.child("type"), c.type_.as_str(), EXCLUSIVE));
                    }
                }
                "Denied" => {
                    denied = true;
                    if approved {
                        e.push(invalid(&ip.child("type"), c.type_.as_str(), EXCLUSIVE));
                    }
                }
                _ => {}
            }
        }
        if !opts.allow_duplicate_condition_types && !seen.insert(c.type_.clone()) {
            e.push(duplicate(&ip.child("type"), c.type_.as_str()));
        }
    }
    if !opts.allow_arbitrary_certificate
        && let Some(msg) = certificate_errors(&certificate_of(csr))
    {
        e.push(invalid(&p("status").child("certificate"), "<certificate data>", msg));
    }
    e
}

fn csr_update_errs(new: &cert::CertificateSigningRequest, old: &cert::CertificateSigningRequest, opts: CsrOpts) -> ErrorList {
    let mut e = csr_errs(new, opts);
    let cp = p("status").child("conditions");
    let find = |csr: &cert::CertificateSigningRequest, t: &str| -> Vec<cert::CertificateSigningRequestCondition> {
        conditions_of(csr).into_iter().filter(|c| c.type_ == t).collect()
    };
    for t in ["Approved", "Denied", "Failed"] {
        if find(new, t).len() < find(old, t).len() {
            e.push(forbidden(&cp, format!("updates may not remove a condition of type {}", v::go_quote(t))));
        }
    }
    if !opts.allow_setting_approval_conditions {
        for t in ["Approved", "Denied"] {
            let (oc, nc) = (find(old, t), find(new, t));
            if nc.len() > oc.len() {
                e.push(forbidden(&cp, format!("updates may not add a condition of type {}", v::go_quote(t))));
            } else if nc.len() == oc.len() && !sem_eq(&oc, &nc) {
                let diff = simple_diff(&sem_json(&oc), &sem_json(&nc));
                e.push(forbidden(&cp, format!("updates may not modify a condition of type {}\n{diff}", v::go_quote(t))));
            }
        }
    }
    let (nc, oc) = (certificate_of(new), certificate_of(old));
    if nc != oc {
        let certp = p("status").child("certificate");
        if !opts.allow_setting_certificate {
            e.push(forbidden(&certp, "updates may not set certificate content"));
        } else if !oc.is_empty() {
            e.push(forbidden(&certp, "updates may not modify existing certificate content"));
        }
    }
    done(e)
}

/// CertificateSigningRequest create: request is a `CERTIFICATE REQUEST` PEM block (the X.509
/// parse and signature check are not done), usages (required, known, unique), signerName
/// (the legacy signer refused), expirationSeconds ≥ 600, status conditions and certificate
/// PEM blocks.
pub fn certificate_signing_request(csr: &cert::CertificateSigningRequest) -> ErrorList {
    done(csr_errs(csr, csr_opts(csr, None)))
}

/// CertificateSigningRequest update: the create rules (tolerating what the old object already
/// had) plus: Approved/Denied/Failed conditions may not be removed, Approved/Denied not added
/// or modified (the diff is simplified), and the certificate may not be set.
pub fn certificate_signing_request_update(new: &cert::CertificateSigningRequest, old: &cert::CertificateSigningRequest) -> ErrorList {
    csr_update_errs(new, old, csr_opts(new, Some(old)))
}

/// CertificateSigningRequest `/status` update: as update, but the certificate may be set once.
pub fn certificate_signing_request_status_update(new: &cert::CertificateSigningRequest, old: &cert::CertificateSigningRequest) -> ErrorList {
    let opts = CsrOpts { allow_setting_certificate: true, ..csr_opts(new, Some(old)) };
    csr_update_errs(new, old, opts)
}

/// CertificateSigningRequest `/approval` update: as update, but Approved/Denied conditions may
/// be added or changed.
pub fn certificate_signing_request_approval_update(new: &cert::CertificateSigningRequest, old: &cert::CertificateSigningRequest) -> ErrorList {
    let opts = CsrOpts { allow_setting_approval_conditions: true, ..csr_opts(new, Some(old)) };
    csr_update_errs(new, old, opts)
}
