//! The node's identities: its client certificate (`system:node:<name>`, obtained through a CSR made
//! with a bootstrap token, renewed through a CSR made with itself) and its serving certificate
//! (a `kubernetes.io/kubelet-serving` CSR naming the node's addresses).
//!
//! Private keys are generated here and never leave the node: only CSRs are sent.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::certificates::v1::{CertificateSigningRequest, CertificateSigningRequestSpec};
use kube::api::{Api, PostParams};
use kube::runtime::watcher;

/// The signer of node client certificates.
pub const CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";
/// The signer of kubelet serving certificates.
pub const SERVING_SIGNER: &str = "kubernetes.io/kubelet-serving";

/// What can go wrong getting a certificate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Key or CSR generation failed.
    #[error("generating a key and CSR: {0}")]
    Generate(#[from] rcgen::Error),
    /// The API refused or failed.
    #[error("certificate signing request: {0}")]
    Api(#[from] kube::Error),
    /// The CSR was denied or failed.
    #[error("certificate signing request {name} was {how}: {message}")]
    Refused {
        /// CSR name.
        name: String,
        /// Denied or Failed.
        how: String,
        /// The condition's message.
        message: String,
    },
    /// Nobody signed in time.
    #[error("certificate signing request {0} was not signed within {1:?} (is the controller manager running?)")]
    Timeout(String, Duration),
    /// Files.
    #[error("{0}")]
    Pki(#[from] pki::Error),
    /// The kubeconfig could not be used.
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    /// The server's CA could not be fetched or does not match the join token's pin.
    #[error("the cluster CA of {server}: {message}")]
    CaPin {
        /// The server.
        server: String,
        /// What went wrong.
        message: String,
    },
    /// The server answered the bootstrap token with 401 or 403.
    #[error("the server refused the bootstrap token (HTTP {code}: {message}): it is mistyped, expired or deleted, or lacks usage-bootstrap-authentication; `ferrokube token create` on the server prints a new one")]
    TokenRefused {
        /// The HTTP status.
        code: u16,
        /// The server's message.
        message: String,
    },
}

impl Error {
    /// This error and its causes, as one line.
    pub fn chain_text(&self) -> String {
        let mut parts = vec![self.to_string()];
        for text in self.causes() {
            // a cause's text often repeats its own cause's: each once
            if !parts.iter().any(|p| p.contains(&text)) {
                parts.push(text);
            }
        }
        parts.join(": ")
    }

    /// The texts of the causes.
    fn causes(&self) -> Vec<String> {
        let mut parts = Vec::new();
        let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(self);
        while let Some(e) = cur {
            parts.push(e.to_string());
            cur = e.source();
        }
        parts
    }

    /// Whether the server could not be reached or answered that it is not ready (a refused or
    /// failed connection, 5xx, 429): worth trying again. A refused TLS handshake is not.
    pub fn is_unreachable(&self) -> bool {
        match self {
            Error::Api(kube::Error::Api(s)) => s.code >= 500 || s.code == 429,
            Error::Api(_) => !self.is_tls_failure(),
            _ => false,
        }
    }

    /// Whether the server's certificate could not be verified (the wrong CA, say).
    pub fn is_tls_failure(&self) -> bool {
        // only the causes: this error's own text says "certificate signing request"
        let text = self.causes().join(": ").to_lowercase();
        text.contains("certificate") || text.contains("handshake") || text.contains("tls")
    }
}

/// A certificate and key, PEM.
pub type CertKey = pki::CertKey;

/// A new P-256 key and a PEM CSR for `CN=system:node:<node>, O=system:nodes` with the given SANs.
pub fn node_csr(node: &str, dns: &[String], ips: &[IpAddr]) -> Result<(String, String), Error> {
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::default();
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::OrganizationName, "system:nodes");
    dn.push(rcgen::DnType::CommonName, format!("system:node:{node}"));
    params.distinguished_name = dn;
    for d in dns {
        params.subject_alt_names.push(rcgen::SanType::DnsName(d.clone().try_into()?));
    }
    for ip in ips {
        params.subject_alt_names.push(rcgen::SanType::IpAddress(*ip));
    }
    let csr = params.serialize_request(&key)?;
    Ok((csr.pem()?, key.serialize_pem()))
}

/// Submits a CSR for `signer` and waits until it carries a certificate. Returns the PEM chain.
pub async fn request(client: &kube::Client, csr_pem: &str, signer: &str, usages: &[&str], wait: Duration) -> Result<String, Error> {
    let api: Api<CertificateSigningRequest> = Api::all(client.clone());
    let csr = CertificateSigningRequest {
        metadata: kube::api::ObjectMeta { generate_name: Some("csr-".into()), ..Default::default() },
        spec: CertificateSigningRequestSpec {
            request: k8s_openapi::ByteString(csr_pem.as_bytes().to_vec()),
            signer_name: signer.into(),
            usages: Some(usages.iter().map(|u| u.to_string()).collect()),
            ..Default::default()
        },
        status: None,
    };
    let created = api.create(&PostParams::default(), &csr).await?;
    let name = created.metadata.name.clone().unwrap_or_default();
    let watch = watcher(api, watcher::Config::default().fields(&format!("metadata.name={name}")));
    let done = async {
        let mut stream = std::pin::pin!(kube::runtime::WatchStreamExt::applied_objects(watch));
        while let Some(ev) = stream.next().await {
            let Ok(obj) = ev else { continue };
            let Some(status) = obj.status else { continue };
            for c in status.conditions.unwrap_or_default() {
                if (c.type_ == "Denied" || c.type_ == "Failed") && c.status == "True" {
                    return Err(Error::Refused { name: name.clone(), how: c.type_.to_lowercase(), message: c.message.unwrap_or_default() });
                }
            }
            if let Some(cert) = status.certificate.filter(|c| !c.0.is_empty()) {
                return Ok(String::from_utf8_lossy(&cert.0).into_owned());
            }
        }
        Err(Error::Timeout(name.clone(), wait))
    };
    tokio::time::timeout(wait, done).await.map_err(|_| Error::Timeout(name.clone(), wait))?
}

/// Where the node's client credentials live.
pub struct ClientFiles {
    /// `<agent>/kubelet.kubeconfig` (client certificate inline).
    pub kubeconfig: PathBuf,
}

impl ClientFiles {
    /// The files of an agent directory.
    pub fn new(agent_dir: &Path) -> ClientFiles {
        ClientFiles { kubeconfig: agent_dir.join("kubelet.kubeconfig") }
    }
}

/// A client from a kubeconfig text.
pub async fn client_from_kubeconfig(text: &str) -> Result<kube::Client, Error> {
    let kc = kube::config::Kubeconfig::from_yaml(text).map_err(|e| Error::Kubeconfig(e.to_string()))?;
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default()).await.map_err(|e| Error::Kubeconfig(e.to_string()))?;
    kube::Client::try_from(cfg).map_err(|e| Error::Kubeconfig(e.to_string()))
}

/// A kubeconfig authenticating with a bootstrap token.
pub fn token_kubeconfig(server: &str, ca_pem: &str, token: &str) -> String {
    use base64::Engine;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem.as_bytes());
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: bootstrap\n  user:\n    token: {token}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: bootstrap\ncurrent-context: c\n"
    )
}

/// The expiry (seconds since the epoch) and start of the client certificate in a kubeconfig
/// written by [`write_client_kubeconfig`], read back from its `.crt` sibling.
pub fn client_cert_expiry(agent_dir: &Path) -> Option<i64> {
    let pem = std::fs::read_to_string(agent_dir.join("kubelet-client.crt")).ok()?;
    pki::cert_info(&pem).map(|i| i.not_after)
}

/// The node's current client kubeconfig for `server`, from its certificate files (the server's
/// address may have changed since they were written).
pub fn current_kubeconfig(agent_dir: &Path, server: &str, ca_pem: &str, node: &str) -> Result<Option<String>, Error> {
    let Some(pair) = pki::read_pair(agent_dir, "kubelet-client")? else { return Ok(None) };
    Ok(Some(write_client_kubeconfig(agent_dir, server, ca_pem, node, &pair)?))
}

/// Writes the node's client certificate (`kubelet-client.{crt,key}`) and a kubeconfig using it.
pub fn write_client_kubeconfig(agent_dir: &Path, server: &str, ca_pem: &str, node: &str, pair: &CertKey) -> Result<String, Error> {
    pki::write_pair(agent_dir, "kubelet-client", pair)?;
    let text = pki::kubeconfig(server, "ferrokube", &format!("system:node:{node}"), ca_pem, pair);
    pki::write_file(&ClientFiles::new(agent_dir).kubeconfig, text.as_bytes(), 0o600)?;
    Ok(text)
}

/// Joins with a bootstrap token: a node client CSR, signed once the controller approves it.
pub async fn bootstrap(server: &str, ca_pem: &str, token: &str, node: &str, agent_dir: &Path) -> Result<String, Error> {
    validate_node_name(node).map_err(Error::Kubeconfig)?;
    let boot = client_from_kubeconfig(&token_kubeconfig(server, ca_pem, token)).await?;
    let (csr, key) = node_csr(node, &[], &[])?;
    let cert = match request(&boot, &csr, CLIENT_SIGNER, &["digital signature", "client auth"], Duration::from_secs(120)).await {
        Err(Error::Api(kube::Error::Api(s))) if s.code == 401 || s.code == 403 => return Err(Error::TokenRefused { code: s.code, message: s.message }),
        other => other?,
    };
    write_client_kubeconfig(agent_dir, server, ca_pem, node, &CertKey { cert_pem: cert, key_pem: key })
}

/// Checks that `name` can name a Node (a DNS-1123 subdomain: lower-case letters, digits, `-`
/// and `.`, at most 253 characters), so that a bad `--node-name` fails at start rather than
/// at every registration attempt.
pub fn validate_node_name(name: &str) -> Result<(), String> {
    let errs = apimachinery::validation::is_dns1123_subdomain(name);
    if errs.is_empty() { Ok(()) } else { Err(format!("node name {name:?}: {}", errs.join("; "))) }
}

/// Renews the client certificate with the current identity. Returns the new kubeconfig text.
pub async fn renew_client(client: &kube::Client, server: &str, ca_pem: &str, node: &str, agent_dir: &Path) -> Result<String, Error> {
    let (csr, key) = node_csr(node, &[], &[])?;
    let cert = request(client, &csr, CLIENT_SIGNER, &["digital signature", "client auth"], Duration::from_secs(120)).await?;
    write_client_kubeconfig(agent_dir, server, ca_pem, node, &CertKey { cert_pem: cert, key_pem: key })
}

/// When to renew a certificate valid from `now` until `not_after`: at 80% of its remaining life
/// (upstream's kubelet picks 70–90%), never sooner than 10 seconds (a failed renewal is retried
/// at that pace, not in a loop).
pub fn renew_in(now: i64, not_after: i64) -> Duration {
    let left = (not_after - now).max(0) as u64;
    Duration::from_secs((left * 8 / 10).max(10))
}

/// A join token: the bootstrap token, with the SHA-256 of the cluster CA's DER when it is in the
/// secure form `K10<sha256 hex>::<id>.<secret>` (as k3s prints them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinToken {
    /// The CA's SHA-256, lower-case hex, when the token pins it.
    pub ca_hash: Option<String>,
    /// `<id>.<secret>`.
    pub bootstrap: String,
}

impl JoinToken {
    /// Parses either form.
    pub fn parse(text: &str) -> JoinToken {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("K10")
            && let Some((hash, token)) = rest.split_once("::")
        {
            return JoinToken { ca_hash: Some(hash.to_ascii_lowercase()), bootstrap: token.to_string() };
        }
        JoinToken { ca_hash: None, bootstrap: text.to_string() }
    }

    /// The secure form for a CA (PEM) and a bootstrap token.
    pub fn secure(ca_pem: &str, bootstrap: &str) -> Result<String, Error> {
        let der = pki::certs_from_pem(ca_pem)?.into_iter().next().ok_or_else(|| Error::Kubeconfig("no CA certificate".into()))?;
        Ok(format!("K10{}::{bootstrap}", sha256_hex(der.as_ref())))
    }
}

fn sha256_hex(data: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, data).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Records the server's certificates and accepts the handshake; the caller pins the CA among
/// them and verifies the server's certificate with it before anything is sent.
#[derive(Debug)]
struct Capture {
    seen: parking_lot::Mutex<Vec<rustls::pki_types::CertificateDer<'static>>>,
    provider: std::sync::Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for Capture {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let mut seen = self.seen.lock();
        seen.push(end_entity.clone().into_owned());
        seen.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(&self, message: &[u8], cert: &rustls::pki_types::CertificateDer<'_>, dss: &rustls::DigitallySignedStruct) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }
    fn verify_tls13_signature(&self, message: &[u8], cert: &rustls::pki_types::CertificateDer<'_>, dss: &rustls::DigitallySignedStruct) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// Fetches the cluster CA from the server's TLS handshake and accepts it only when its SHA-256 is
/// `ca_hash` and it verifies the server's certificate for the server's name. Nothing is sent to
/// the server. Returns the CA as PEM.
pub async fn fetch_pinned_ca(server: &str, ca_hash: &str) -> Result<String, Error> {
    let err = |m: String| Error::CaPin { server: server.to_string(), message: m };
    let url: http::Uri = server.parse().map_err(|e| err(format!("not a URL: {e}")))?;
    let host = url.host().ok_or_else(|| err("no host".into()))?.trim_matches(['[', ']']).to_string();
    let port = url.port_u16().unwrap_or(443);
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let capture = std::sync::Arc::new(Capture { seen: parking_lot::Mutex::new(Vec::new()), provider: provider.clone() });
    let cfg = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| err(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(capture.clone())
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.clone()).map_err(|e| err(format!("server name: {e}")))?;
    let tcp = tokio::time::timeout(Duration::from_secs(10), tokio::net::TcpStream::connect((host.as_str(), port)))
        .await
        .map_err(|_| err("connect timed out".into()))?
        .map_err(|e| err(format!("connect: {e}")))?;
    let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(cfg)).connect(name.clone(), tcp).await.map_err(|e| err(format!("TLS handshake: {e}")))?;
    drop(tls);
    let seen = capture.seen.lock().clone();
    let Some(ca) = seen.iter().find(|c| sha256_hex(c.as_ref()) == ca_hash) else {
        return Err(err(format!("no certificate the server presented has the SHA-256 the join token names ({ca_hash}): this is not the cluster the token was made for")));
    };
    // the pinned CA must vouch for the server's own certificate and name
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).map_err(|e| err(format!("the pinned CA: {e}")))?;
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(std::sync::Arc::new(roots), provider).build().map_err(|e| err(e.to_string()))?;
    let leaf = seen.first().ok_or_else(|| err("the server presented no certificate".into()))?;
    let rest: Vec<_> = seen[1..].to_vec();
    rustls::client::danger::ServerCertVerifier::verify_server_cert(verifier.as_ref(), leaf, &rest, &name, &[], rustls::pki_types::UnixTime::now())
        .map_err(|e| err(format!("the server's certificate is not valid under the pinned CA: {e}")))?;
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(ca.as_ref());
    let body: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or("")).collect();
    Ok(format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", body.join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrs_carry_the_node_identity_and_sans() {
        let (csr, key) = node_csr("n1", &["n1".into()], &["127.0.0.5".parse().unwrap()]).unwrap();
        assert!(key.contains("PRIVATE KEY"));
        let info = pki::csr_subject(&csr).unwrap();
        assert_eq!(info.common_name, "system:node:n1");
        assert_eq!(info.organizations, vec!["system:nodes".to_string()]);
        assert_eq!(info.dns_names, vec!["n1".to_string()]);
        assert_eq!(info.ips, vec!["127.0.0.5".parse::<IpAddr>().unwrap()]);
    }

    #[test]
    fn node_names_are_dns_subdomains() {
        assert!(validate_node_name("worker-1.example").is_ok());
        let err = validate_node_name("Worker_1").unwrap_err();
        assert!(err.contains("Worker_1") && err.contains("lowercase"), "{err}");
        assert!(validate_node_name("").is_err());
    }

    #[test]
    fn refused_tokens_and_unreachable_servers_are_told_apart() {
        let status = |code: u16| Error::Api(kube::Error::Api(kube::core::Status { code, message: "m".into(), ..Default::default() }.boxed()));
        assert!(status(503).is_unreachable());
        assert!(status(429).is_unreachable());
        assert!(!status(401).is_unreachable());
        assert!(!status(403).is_unreachable());
        let refused = Error::TokenRefused { code: 401, message: "Unauthorized".into() };
        assert!(!refused.is_unreachable());
        assert!(refused.to_string().contains("ferrokube token create"));
    }

    #[test]
    fn join_tokens_in_both_forms() {
        assert_eq!(JoinToken::parse("abcdef.0123456789abcdef"), JoinToken { ca_hash: None, bootstrap: "abcdef.0123456789abcdef".into() });
        let t = JoinToken::parse("K10ABCD::abcdef.0123456789abcdef\n");
        assert_eq!(t, JoinToken { ca_hash: Some("abcd".into()), bootstrap: "abcdef.0123456789abcdef".into() });
        let ca = pki::Ca::generate("test-ca").unwrap();
        let secure = JoinToken::secure(&ca.pair.cert_pem, "abcdef.0123456789abcdef").unwrap();
        let back = JoinToken::parse(&secure);
        assert_eq!(back.ca_hash.as_deref().map(str::len), Some(64));
        assert_eq!(back.bootstrap, "abcdef.0123456789abcdef");
    }

    #[test]
    fn renewal_comes_at_eighty_percent() {
        assert_eq!(renew_in(0, 1000), Duration::from_secs(800));
        assert_eq!(renew_in(0, 45), Duration::from_secs(36));
        assert_eq!(renew_in(0, 10), Duration::from_secs(10));
        assert_eq!(renew_in(100, 50), Duration::from_secs(10));
    }
}
