//! Signed JSON Web Tokens for ServiceAccount tokens: an ECDSA P-256 key (ES256, which
//! kube-apiserver accepts for `--service-account-signing-key-file`), compact JWS signing and
//! verification, and the JSON Web Key Set the OIDC discovery endpoint publishes.
//!
//! Only the signature and the token's shape are checked here; the claims (issuer, audience,
//! expiry, bound objects) are the apiserver's to judge.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};

/// DER prefix of a SubjectPublicKeyInfo for an uncompressed P-256 point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// Why a token was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// Not three base64url parts, or undecodable JSON.
    #[error("malformed token")]
    Malformed,
    /// Signed by another key or algorithm.
    #[error("invalid signature")]
    BadSignature,
}

/// The ServiceAccount signing key.
pub struct SigningKey {
    pair: EcdsaKeyPair,
    pkcs8_der: Vec<u8>,
    kid: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh random key.
    pub fn generate() -> crate::Result<SigningKey> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| crate::Error::BadPem("generated service account key".into()))?;
        Self::from_pkcs8(doc.as_ref())
    }

    /// Loads a PKCS#8 DER key.
    pub fn from_pkcs8(der: &[u8]) -> crate::Result<SigningKey> {
        let pair = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der, &SystemRandom::new())
            .map_err(|_| crate::Error::BadPem("service account key (want a PKCS#8 P-256 key)".into()))?;
        // upstream's key id: base64url of the SHA-256 of the public key's DER encoding
        let digest = ring::digest::digest(&ring::digest::SHA256, &spki(pair.public_key().as_ref()));
        let kid = B64.encode(digest.as_ref());
        Ok(SigningKey { pair, pkcs8_der: der.to_vec(), kid })
    }

    /// Loads a `PRIVATE KEY` PEM.
    pub fn from_pem(pem: &str) -> crate::Result<SigningKey> {
        let der = crate::key_from_pem(pem)?;
        Self::from_pkcs8(der.secret_der())
    }

    /// The key as a `PRIVATE KEY` PEM.
    pub fn to_pem(&self) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.pkcs8_der);
        let mut out = String::from("-----BEGIN PRIVATE KEY-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
            out.push('\n');
        }
        out.push_str("-----END PRIVATE KEY-----\n");
        out
    }

    /// The key id (`kid` header).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs claims into a compact JWS.
    pub fn sign(&self, claims: &Value) -> crate::Result<String> {
        let header = json!({"alg": "ES256", "kid": self.kid});
        let mut input = B64.encode(header.to_string());
        input.push('.');
        input.push_str(&B64.encode(claims.to_string()));
        let sig = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .map_err(|_| crate::Error::BadPem("signing failed".into()))?;
        input.push('.');
        input.push_str(&B64.encode(sig.as_ref()));
        Ok(input)
    }

    /// Verifies a token's signature and returns its claims.
    pub fn verify(&self, token: &str) -> Result<Value, TokenError> {
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(TokenError::Malformed);
        };
        let header: Value = serde_json::from_slice(&B64.decode(h).map_err(|_| TokenError::Malformed)?).map_err(|_| TokenError::Malformed)?;
        if header.get("alg").and_then(Value::as_str) != Some("ES256") {
            return Err(TokenError::BadSignature);
        }
        let sig = B64.decode(s).map_err(|_| TokenError::Malformed)?;
        let public = signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, self.pair.public_key().as_ref());
        let signed = &token[..h.len() + 1 + c.len()];
        public.verify(signed.as_bytes(), &sig).map_err(|_| TokenError::BadSignature)?;
        let claims: Value = serde_json::from_slice(&B64.decode(c).map_err(|_| TokenError::Malformed)?).map_err(|_| TokenError::Malformed)?;
        if !claims.is_object() {
            return Err(TokenError::Malformed);
        }
        Ok(claims)
    }

    /// The JSON Web Key Set holding the public key (`/openid/v1/jwks`).
    pub fn jwks(&self) -> Value {
        let point = self.pair.public_key().as_ref();
        json!({"keys": [{
            "use": "sig",
            "kty": "EC",
            "kid": self.kid,
            "crv": "P-256",
            "alg": "ES256",
            "x": B64.encode(&point[1..33]),
            "y": B64.encode(&point[33..65]),
        }]})
    }
}

fn spki(point: &[u8]) -> Vec<u8> {
    let mut v = P256_SPKI_PREFIX.to_vec();
    v.extend_from_slice(point);
    v
}

/// Issuer of legacy Secret-based ServiceAccount tokens (upstream's constant).
pub const LEGACY_ISSUER: &str = "kubernetes/serviceaccount";

/// The claims of a legacy (Secret-based, non-expiring) ServiceAccount token, as upstream's
/// token controller writes them.
pub fn legacy_claims(namespace: &str, service_account: &str, service_account_uid: &str, secret: &str) -> Value {
    json!({
        "iss": LEGACY_ISSUER,
        "kubernetes.io/serviceaccount/namespace": namespace,
        "kubernetes.io/serviceaccount/secret.name": secret,
        "kubernetes.io/serviceaccount/service-account.name": service_account,
        "kubernetes.io/serviceaccount/service-account.uid": service_account_uid,
        "sub": format!("system:serviceaccount:{namespace}:{service_account}"),
    })
}

/// Whether a bearer token looks like a JWT (three dot-separated parts, the first a JSON header).
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3 && token.starts_with("eyJ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_roundtrip_and_tamper() {
        let k = SigningKey::generate().unwrap();
        let t = k.sign(&json!({"sub": "system:serviceaccount:default:x", "exp": 10})).unwrap();
        assert!(looks_like_jwt(&t));
        assert_eq!(k.verify(&t).unwrap()["sub"], "system:serviceaccount:default:x");
        // another key does not verify it
        let other = SigningKey::generate().unwrap();
        assert_eq!(other.verify(&t), Err(TokenError::BadSignature));
        // a changed claim breaks the signature
        let parts: Vec<&str> = t.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], B64.encode(r#"{"sub":"system:admin"}"#), parts[2]);
        assert_eq!(k.verify(&forged), Err(TokenError::BadSignature));
        assert_eq!(k.verify("a.b"), Err(TokenError::Malformed));
        assert_eq!(k.verify("not-a-token"), Err(TokenError::Malformed));
    }

    #[test]
    fn pem_roundtrip_keeps_kid_and_jwks_shape() {
        let k = SigningKey::generate().unwrap();
        let back = SigningKey::from_pem(&k.to_pem()).unwrap();
        assert_eq!(back.kid(), k.kid());
        let t = k.sign(&json!({"a": 1})).unwrap();
        assert!(back.verify(&t).is_ok());
        let jwks = k.jwks();
        let key = &jwks["keys"][0];
        assert_eq!(key["kty"], "EC");
        assert_eq!(key["kid"], k.kid());
        assert_eq!(B64.decode(key["x"].as_str().unwrap()).unwrap().len(), 32);
    }
}
