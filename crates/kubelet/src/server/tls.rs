//! The kubelet's serving certificate, swappable at runtime (rotation), and the TLS settings of
//! its server: TLS 1.2+, client certificates requested and, when given, verified against the
//! cluster CA.

use std::sync::Arc;

use parking_lot::RwLock;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;

/// What can be wrong with TLS material.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key did not parse.
    #[error("kubelet serving certificate: {0}")]
    Pem(#[from] pki::Error),
    /// The key is of a kind rustls cannot sign with.
    #[error("kubelet serving key: {0}")]
    Key(rustls::Error),
    /// The key does not belong to the certificate.
    #[error("kubelet serving certificate and key do not match: {0}")]
    Mismatch(rustls::Error),
    /// The cluster CA could not be used to verify clients.
    #[error("cluster CA for client certificates: {0}")]
    ClientCa(String),
    /// rustls refused the configuration.
    #[error("tls configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The serving certificate the kubelet presents; [`CertSlot::set`] replaces it for every
/// handshake that follows (connections already open keep theirs). Until a certificate is set,
/// handshakes fail.
#[derive(Default)]
pub struct CertSlot {
    current: RwLock<Option<Arc<CertifiedKey>>>,
}

impl std::fmt::Debug for CertSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertSlot").field("set", &self.is_set()).finish()
    }
}

impl CertSlot {
    /// An empty slot.
    pub fn new() -> CertSlot {
        CertSlot::default()
    }

    /// Serves `cert_pem` (the leaf first, then any intermediates) with `key_pem` from now on.
    /// The old certificate stays in place when the new one is unusable.
    pub fn set(&self, cert_pem: &str, key_pem: &str) -> Result<(), TlsError> {
        let chain = pki::certs_from_pem(cert_pem)?;
        if chain.is_empty() {
            return Err(TlsError::Pem(pki::Error::BadPem("serving certificate".into())));
        }
        let key = pki::key_from_pem(key_pem)?;
        let signer = rustls::crypto::ring::sign::any_supported_type(&key).map_err(TlsError::Key)?;
        let certified = CertifiedKey::new(chain, signer);
        certified.keys_match().map_err(TlsError::Mismatch)?;
        *self.current.write() = Some(Arc::new(certified));
        Ok(())
    }

    /// Whether a certificate has been set.
    pub fn is_set(&self) -> bool {
        self.current.read().is_some()
    }
}

impl ResolvesServerCert for CertSlot {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().clone()
    }
}

/// The server's TLS configuration: the certificate from `certs`, client certificates optional
/// but verified against `client_ca_pem` when presented, ALPN h2 and http/1.1.
pub fn server_config(certs: Arc<CertSlot>, client_ca_pem: &str) -> Result<rustls::ServerConfig, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in pki::certs_from_pem(client_ca_pem)? {
        roots.add(c).map_err(|e| TlsError::ClientCa(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(TlsError::ClientCa("no certificate in the PEM text".into()));
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|e| TlsError::ClientCa(e.to_string()))?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(certs);
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_takes_matching_pairs_only() {
        let ca = pki::Ca::generate("test-ca").unwrap();
        let a = ca.issue_server("node-a", &["node-a".into()], &[]).unwrap();
        let b = ca.issue_server("node-b", &["node-b".into()], &[]).unwrap();
        let slot = CertSlot::new();
        assert!(!slot.is_set());
        assert!(matches!(slot.set(&a.cert_pem, &b.key_pem), Err(TlsError::Mismatch(_))));
        assert!(!slot.is_set());
        assert!(slot.set("garbage", &a.key_pem).is_err());
        slot.set(&a.cert_pem, &a.key_pem).unwrap();
        assert!(slot.is_set());
        assert!(server_config(Arc::new(CertSlot::new()), "not a pem").is_err());
        assert!(server_config(Arc::new(CertSlot::new()), &ca.pair.cert_pem).is_ok());
    }
}
