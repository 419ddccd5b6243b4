//! ferrokube's public-key infrastructure: the cluster certificate authority, the certificates it
//! issues (serving certificates with SANs, client certificates whose CN is the user and whose O
//! entries are the groups, as Kubernetes reads them), PEM files on disk with safe modes, and
//! kubeconfig files that point a client at the apiserver.
//!
//! It may read and write PEM/kubeconfig files it is told about. It must never open network
//! connections and never know Kubernetes objects beyond the kubeconfig format.

pub mod jwt;

use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

/// Errors of certificate handling.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Generating or signing failed.
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A PEM file holds no usable certificate or key.
    #[error("{0}: not a valid PEM certificate or key")]
    BadPem(String),
}

/// `Result` with the pki [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A certificate and its private key, both PEM.
#[derive(Clone, Debug)]
pub struct CertKey {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The private key, PEM (PKCS#8).
    pub key_pem: String,
}

/// A certificate authority that can issue certificates.
pub struct Ca {
    /// The CA certificate and key.
    pub pair: CertKey,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca").finish_non_exhaustive()
    }
}

fn validity(params: &mut CertificateParams, days: i64) {
    validity_seconds(params, days * 86400);
}

fn validity_seconds(params: &mut CertificateParams, seconds: i64) {
    let now = rcgen::date_time_ymd(1970, 1, 1);
    let secs = jiff::Timestamp::now().as_second();
    // five minutes of back-dating tolerate clock skew between machines
    params.not_before = now + std::time::Duration::from_secs((secs - 300).max(0) as u64);
    params.not_after = now + std::time::Duration::from_secs((secs + seconds).max(0) as u64);
}

fn serial(params: &mut CertificateParams) {
    let bytes: [u8; 16] = rand::random();
    let mut b = bytes.to_vec();
    b[0] &= 0x7f; // positive
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&b));
}

impl Ca {
    /// Generates a new self-signed CA (ECDSA P-256, 10 years).
    pub fn generate(common_name: &str) -> Result<Ca> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        validity(&mut params, 3650);
        serial(&mut params);
        let cert = params.self_signed(&key)?;
        let pair = CertKey { cert_pem: cert.pem(), key_pem: key.serialize_pem() };
        let issuer = Issuer::new(params, key);
        Ok(Ca { pair, issuer })
    }

    /// Loads a CA from its PEM certificate and key.
    pub fn from_pem(pair: CertKey) -> Result<Ca> {
        let key = KeyPair::from_pem(&pair.key_pem)?;
        let issuer = Issuer::from_ca_cert_pem(&pair.cert_pem, key)?;
        Ok(Ca { pair, issuer })
    }

    /// Issues a serving certificate for the given DNS names and IP addresses (1 year).
    pub fn issue_server(&self, common_name: &str, dns: &[String], ips: &[IpAddr]) -> Result<CertKey> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        for d in dns {
            params.subject_alt_names.push(SanType::DnsName(d.clone().try_into()?));
        }
        for ip in ips {
            params.subject_alt_names.push(SanType::IpAddress(*ip));
        }
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        validity(&mut params, 365);
        serial(&mut params);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(CertKey { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }

    /// Signs a PEM certificate signing request as a client certificate valid for `seconds`
    /// (the kubernetes.io/kube-apiserver-client signer): the subject is kept (CN = user,
    /// O = groups), the extensions are the signer's own. Returns the certificate PEM.
    pub fn sign_client_csr(&self, csr_pem: &str, seconds: i64) -> Result<String> {
        let csr = rcgen::CertificateSigningRequestParams::from_pem(csr_pem)?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name = csr.params.distinguished_name.clone();
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        validity_seconds(&mut params, seconds);
        serial(&mut params);
        Ok(params.signed_by(&csr.public_key, &self.issuer)?.pem())
    }

    /// Signs a PEM certificate signing request as a serving certificate valid for `seconds`
    /// (the kubernetes.io/kubelet-serving signer): subject and requested DNS/IP SANs are kept,
    /// the extensions are the signer's own. Returns the certificate PEM.
    pub fn sign_serving_csr(&self, csr_pem: &str, seconds: i64) -> Result<String> {
        let csr = rcgen::CertificateSigningRequestParams::from_pem(csr_pem)?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name = csr.params.distinguished_name.clone();
        params.subject_alt_names = csr
            .params
            .subject_alt_names
            .iter()
            .filter(|s| matches!(s, SanType::DnsName(_) | SanType::IpAddress(_)))
            .cloned()
            .collect();
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        validity_seconds(&mut params, seconds);
        serial(&mut params);
        Ok(params.signed_by(&csr.public_key, &self.issuer)?.pem())
    }

    /// Issues a client certificate valid for `seconds`: CN = user, one O per group.
    pub fn issue_client_for(&self, user: &str, groups: &[String], seconds: i64) -> Result<CertKey> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        for g in groups {
            dn.push(DnType::OrganizationName, g.as_str());
        }
        dn.push(DnType::CommonName, user);
        params.distinguished_name = dn;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        validity_seconds(&mut params, seconds);
        serial(&mut params);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(CertKey { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
    }

    /// Issues a client certificate: CN = user, one O per group (`days` of validity).
    pub fn issue_client(&self, user: &str, groups: &[String], days: i64) -> Result<CertKey> {
        self.issue_client_for(user, groups, days * 86400)
    }
}

/// Facts read from a PEM certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertInfo {
    /// Subject CN.
    pub common_name: String,
    /// Subject O entries.
    pub organizations: Vec<String>,
    /// DNS SANs.
    pub dns_names: Vec<String>,
    /// IP SANs.
    pub ips: Vec<IpAddr>,
    /// Other SANs (email addresses, URIs, ...), as text.
    pub other_names: Vec<String>,
    /// Expiry, seconds since the epoch.
    pub not_after: i64,
}

fn add_general_names(info: &mut CertInfo, names: &[x509_parser::extensions::GeneralName<'_>]) {
    for name in names {
        match name {
            x509_parser::extensions::GeneralName::DNSName(d) => info.dns_names.push(d.to_string()),
            x509_parser::extensions::GeneralName::IPAddress(b) => {
                if let Ok(a) = <[u8; 4]>::try_from(*b) {
                    info.ips.push(IpAddr::from(a));
                } else if let Ok(a) = <[u8; 16]>::try_from(*b) {
                    info.ips.push(IpAddr::from(a));
                } else {
                    info.other_names.push(format!("{b:?}"));
                }
            }
            other => info.other_names.push(other.to_string()),
        }
    }
}

/// Reads subject, SANs and expiry from a DER certificate.
pub fn cert_info_der(der: &[u8]) -> Option<CertInfo> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let mut info = CertInfo { not_after: cert.validity().not_after.timestamp(), ..Default::default() };
    for cn in cert.subject().iter_common_name() {
        if let Ok(s) = cn.as_str() {
            info.common_name = s.to_string();
        }
    }
    for o in cert.subject().iter_organization() {
        if let Ok(s) = o.as_str() {
            info.organizations.push(s.to_string());
        }
    }
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        add_general_names(&mut info, &san.value.general_names);
    }
    Some(info)
}

/// Reads the subject (CN, O) and the requested SANs of a PEM certificate signing request.
pub fn csr_subject(pem: &str) -> Option<CertInfo> {
    let block = pem.split("-----BEGIN CERTIFICATE REQUEST-----").nth(1)?.split("-----END CERTIFICATE REQUEST-----").next()?;
    let der = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.decode(block.split_whitespace().collect::<String>()).ok()?
    };
    use x509_parser::prelude::FromDer;
    let (_, csr) = x509_parser::certification_request::X509CertificationRequest::from_der(&der).ok()?;
    let subject = &csr.certification_request_info.subject;
    let mut info = CertInfo::default();
    if let Some(exts) = csr.requested_extensions() {
        for ext in exts {
            if let x509_parser::extensions::ParsedExtension::SubjectAlternativeName(san) = ext {
                add_general_names(&mut info, &san.general_names);
            }
        }
    }
    for cn in subject.iter_common_name() {
        if let Ok(s) = cn.as_str() {
            info.common_name = s.to_string();
        }
    }
    for o in subject.iter_organization() {
        if let Ok(s) = o.as_str() {
            info.organizations.push(s.to_string());
        }
    }
    Some(info)
}

/// Reads subject, SANs and expiry from the first certificate of a PEM text.
pub fn cert_info(pem: &str) -> Option<CertInfo> {
    let der = certs_from_pem(pem).ok()?.into_iter().next()?;
    cert_info_der(&der)
}

/// Parses every certificate in a PEM text.
pub fn certs_from_pem(pem: &str) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>> {
    let mut rd = pem.as_bytes();
    let certs: Vec<_> = rustls_pemfile::certs(&mut rd).filter_map(|c| c.ok()).collect();
    if certs.is_empty() {
        return Err(Error::BadPem("certificate".into()));
    }
    Ok(certs)
}

/// Parses the private key in a PEM text.
pub fn key_from_pem(pem: &str) -> Result<rustls::pki_types::PrivateKeyDer<'static>> {
    let mut rd = pem.as_bytes();
    rustls_pemfile::private_key(&mut rd).ok().flatten().ok_or_else(|| Error::BadPem("private key".into()))
}

fn io_err(path: &Path, source: std::io::Error) -> Error {
    Error::Io { path: path.display().to_string(), source }
}

/// Writes a file atomically with the given mode (written to a temporary name, then renamed).
pub fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)
            .map_err(|e| io_err(&tmp, e))?;
        f.write_all(contents).map_err(|e| io_err(&tmp, e))?;
        f.sync_all().map_err(|e| io_err(&tmp, e))?;
    }
    fs::set_permissions(&tmp, fs::Permissions::from_mode(mode)).map_err(|e| io_err(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| io_err(path, e))?;
    Ok(())
}

/// Reads a certificate/key pair `<dir>/<name>.crt` and `<dir>/<name>.key` if both exist.
pub fn read_pair(dir: &Path, name: &str) -> Result<Option<CertKey>> {
    let crt = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    if !crt.exists() || !key.exists() {
        return Ok(None);
    }
    let cert_pem = fs::read_to_string(&crt).map_err(|e| io_err(&crt, e))?;
    let key_pem = fs::read_to_string(&key).map_err(|e| io_err(&key, e))?;
    Ok(Some(CertKey { cert_pem, key_pem }))
}

/// Writes a pair as `<dir>/<name>.crt` (0644) and `<dir>/<name>.key` (0600).
pub fn write_pair(dir: &Path, name: &str, pair: &CertKey) -> Result<()> {
    write_file(&dir.join(format!("{name}.key")), pair.key_pem.as_bytes(), 0o600)?;
    write_file(&dir.join(format!("{name}.crt")), pair.cert_pem.as_bytes(), 0o644)?;
    Ok(())
}

/// A kubeconfig with one cluster, one user (client certificate) and one current context.
pub fn kubeconfig(server: &str, cluster: &str, user: &str, ca_pem: &str, client: &CertKey) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {cluster}\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: {user}\n  user:\n    client-certificate-data: {cert}\n    client-key-data: {key}\ncontexts:\n- name: {cluster}\n  context:\n    cluster: {cluster}\n    user: {user}\ncurrent-context: {cluster}\npreferences: {{}}\n",
        ca = b64(ca_pem),
        cert = b64(&client.cert_pem),
        key = b64(&client.key_pem),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issues_certificates_with_subjects_and_sans() {
        let ca = Ca::generate("ferrokube-ca").unwrap();
        let server = ca
            .issue_server("kube-apiserver", &["localhost".into(), "kubernetes.default".into()], &["127.0.0.1".parse().unwrap()])
            .unwrap();
        let info = cert_info(&server.cert_pem).unwrap();
        assert_eq!(info.common_name, "kube-apiserver");
        assert!(info.dns_names.contains(&"kubernetes.default".to_string()));
        assert_eq!(info.ips, vec!["127.0.0.1".parse::<IpAddr>().unwrap()]);
        assert!(info.not_after > jiff::Timestamp::now().as_second() + 300 * 86400);

        let client = ca.issue_client("admin", &["system:masters".into()], 365).unwrap();
        let info = cert_info(&client.cert_pem).unwrap();
        assert_eq!(info.common_name, "admin");
        assert_eq!(info.organizations, vec!["system:masters".to_string()]);
        key_from_pem(&client.key_pem).unwrap();

        // a reloaded CA issues certificates that chain to the same root
        let again = Ca::from_pem(ca.pair.clone()).unwrap();
        let c2 = again.issue_client("u", &[], 1).unwrap();
        let ca_der = certs_from_pem(&ca.pair.cert_pem).unwrap().remove(0);
        let c2_der = certs_from_pem(&c2.cert_pem).unwrap().remove(0);
        let (_, ca_x) = x509_parser::parse_x509_certificate(&ca_der).unwrap();
        let (_, c_x) = x509_parser::parse_x509_certificate(&c2_der).unwrap();
        assert_eq!(c_x.issuer(), ca_x.subject());
        c_x.verify_signature(Some(ca_x.public_key())).unwrap();
    }

    #[test]
    fn signs_a_csr_keeping_its_subject() {
        let ca = Ca::generate("x").unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "devs");
        dn.push(DnType::CommonName, "jane");
        params.distinguished_name = dn;
        let csr = params.serialize_request(&key).unwrap().pem().unwrap();
        let subject = csr_subject(&csr).unwrap();
        assert_eq!((subject.common_name.as_str(), subject.organizations.clone()), ("jane", vec!["devs".to_string()]));
        let cert = ca.sign_client_csr(&csr, 3600).unwrap();
        let info = cert_info(&cert).unwrap();
        assert_eq!(info.common_name, "jane");
        assert_eq!(info.organizations, vec!["devs".to_string()]);
        let left = info.not_after - jiff::Timestamp::now().as_second();
        assert!((3500..=3600).contains(&left), "{left}");
        assert!(ca.sign_client_csr("not a csr", 3600).is_err());
    }

    #[test]
    fn signs_a_serving_csr_keeping_its_names() {
        let ca = Ca::generate("x").unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["node-1".to_string()]).unwrap();
        params.subject_alt_names.push(SanType::IpAddress("127.0.0.5".parse().unwrap()));
        params.subject_alt_names.push(SanType::Rfc822Name("a@b.c".try_into().unwrap()));
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "system:nodes");
        dn.push(DnType::CommonName, "system:node:node-1");
        params.distinguished_name = dn;
        let csr = params.serialize_request(&key).unwrap().pem().unwrap();
        let asked = csr_subject(&csr).unwrap();
        assert_eq!(asked.dns_names, vec!["node-1".to_string()]);
        assert_eq!(asked.ips, vec!["127.0.0.5".parse::<IpAddr>().unwrap()]);
        assert_eq!(asked.other_names.len(), 1, "{:?}", asked.other_names);
        let cert = ca.sign_serving_csr(&csr, 7200).unwrap();
        let info = cert_info(&cert).unwrap();
        assert_eq!(info.common_name, "system:node:node-1");
        assert_eq!(info.dns_names, vec!["node-1".to_string()]);
        assert_eq!(info.ips, vec!["127.0.0.5".parse::<IpAddr>().unwrap()]);
        // the email SAN is not the signer's to grant
        assert!(info.other_names.is_empty(), "{:?}", info.other_names);
        let der = certs_from_pem(&cert).unwrap().remove(0);
        let (_, x) = x509_parser::parse_x509_certificate(&der).unwrap();
        let eku = x.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.server_auth && !eku.client_auth);
    }

    #[test]
    fn files_have_safe_modes() {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::generate("x").unwrap();
        write_pair(dir.path(), "ca", &ca.pair).unwrap();
        let mode = |n: &str| fs::metadata(dir.path().join(n)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode("ca.key"), 0o600);
        assert_eq!(mode("ca.crt"), 0o644);
        let back = read_pair(dir.path(), "ca").unwrap().unwrap();
        assert_eq!(back.cert_pem, ca.pair.cert_pem);
        assert!(read_pair(dir.path(), "missing").unwrap().is_none());
    }
}

/// The certificates of a cluster, kept in one directory (mode 0700):
/// `ca.{crt,key}` (the cluster CA), `apiserver.{crt,key}` (serving certificate),
/// `admin.{crt,key}` (the cluster administrator, `O=system:masters`) and one client pair per
/// component identity.
pub struct ClusterPki {
    dir: std::path::PathBuf,
    /// The CA.
    pub ca: Ca,
    /// The apiserver's serving certificate.
    pub apiserver: CertKey,
    /// The administrator's client certificate.
    pub admin: CertKey,
    /// The key that signs ServiceAccount tokens (`service-account.key`).
    pub service_account: jwt::SigningKey,
}

impl std::fmt::Debug for ClusterPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterPki").field("dir", &self.dir).finish_non_exhaustive()
    }
}

/// Renew a certificate that expires within this many seconds.
const RENEW_BEFORE: i64 = 30 * 86400;

fn still_good(pair: &CertKey, dns: &[String], ips: &[IpAddr]) -> bool {
    let Some(info) = cert_info(&pair.cert_pem) else { return false };
    if info.not_after - jiff::Timestamp::now().as_second() < RENEW_BEFORE {
        return false;
    }
    dns.iter().all(|d| info.dns_names.contains(d)) && ips.iter().all(|i| info.ips.contains(i))
}

impl ClusterPki {
    /// Loads the cluster's certificates from `dir`, creating what is missing: the CA on first
    /// start, the serving certificate when missing, expiring or lacking one of the wanted SANs,
    /// the admin certificate when missing or expiring.
    pub fn load_or_create(dir: &Path, dns: &[String], ips: &[IpAddr]) -> Result<ClusterPki> {
        fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| io_err(dir, e))?;
        let ca = match read_pair(dir, "ca")? {
            Some(pair) => Ca::from_pem(pair)?,
            None => {
                let ca = Ca::generate(&format!("ferrokube-ca@{}", jiff::Timestamp::now().as_second()))?;
                write_pair(dir, "ca", &ca.pair)?;
                ca
            }
        };
        let apiserver = match read_pair(dir, "apiserver")? {
            Some(p) if still_good(&p, dns, ips) => p,
            _ => {
                let p = ca.issue_server("kube-apiserver", dns, ips)?;
                write_pair(dir, "apiserver", &p)?;
                p
            }
        };
        let admin = Self::client_in(dir, &ca, "admin", "admin", &["system:masters".to_string()])?;
        let sa_path = dir.join("service-account.key");
        let service_account = match fs::read_to_string(&sa_path) {
            Ok(pem) => jwt::SigningKey::from_pem(&pem)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let k = jwt::SigningKey::generate()?;
                write_file(&sa_path, k.to_pem().as_bytes(), 0o600)?;
                k
            }
            Err(e) => return Err(io_err(&sa_path, e)),
        };
        Ok(ClusterPki { dir: dir.to_path_buf(), ca, apiserver, admin, service_account })
    }

    fn client_in(dir: &Path, ca: &Ca, file: &str, user: &str, groups: &[String]) -> Result<CertKey> {
        match read_pair(dir, file)? {
            Some(p) if still_good(&p, &[], &[]) && cert_info(&p.cert_pem).is_some_and(|i| i.common_name == user && i.organizations == groups) => Ok(p),
            _ => {
                let p = ca.issue_client(user, groups, 365)?;
                write_pair(dir, file, &p)?;
                Ok(p)
            }
        }
    }

    /// The client certificate of a component identity (created on first use, kept in the
    /// directory as `<file>.{crt,key}`).
    pub fn client(&self, file: &str, user: &str, groups: &[String]) -> Result<CertKey> {
        Self::client_in(&self.dir, &self.ca, file, user, groups)
    }
}

#[cfg(test)]
mod cluster_tests {
    use super::*;

    #[test]
    fn created_once_then_reused_and_renewed_for_new_sans() {
        let dir = tempfile::tempdir().unwrap();
        let ips: Vec<IpAddr> = vec!["127.0.0.1".parse().unwrap()];
        let dns = vec!["localhost".to_string()];
        let a = ClusterPki::load_or_create(dir.path(), &dns, &ips).unwrap();
        let b = ClusterPki::load_or_create(dir.path(), &dns, &ips).unwrap();
        assert_eq!(a.ca.pair.cert_pem, b.ca.pair.cert_pem);
        assert_eq!(a.apiserver.cert_pem, b.apiserver.cert_pem);
        assert_eq!(a.admin.cert_pem, b.admin.cert_pem);
        assert_eq!(a.service_account.kid(), b.service_account.kid());
        let admin = cert_info(&a.admin.cert_pem).unwrap();
        assert_eq!(admin.organizations, vec!["system:masters".to_string()]);
        // a new SAN forces a new serving certificate from the same CA
        let more: Vec<IpAddr> = vec!["127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap()];
        let c = ClusterPki::load_or_create(dir.path(), &dns, &more).unwrap();
        assert_eq!(c.ca.pair.cert_pem, a.ca.pair.cert_pem);
        assert_ne!(c.apiserver.cert_pem, a.apiserver.cert_pem);
        assert!(cert_info(&c.apiserver.cert_pem).unwrap().ips.contains(&more[1]));
        let mode = fs::metadata(dir.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}
