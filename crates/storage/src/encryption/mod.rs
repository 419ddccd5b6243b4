//! Encryption at rest: upstream Kubernetes' `EncryptionConfiguration` (1.32) and the value
//! transformers it configures, reading and writing the same stored format as kube-apiserver.
//!
//! A configuration ([`EncryptionConfiguration`], parsed from the file given to
//! `--encryption-provider-config`) lists rules; each rule names resources and an ordered list of
//! providers. [`Transformers`] turns it into one [`Transformer`] per resource:
//!
//! - the **first** provider (with its **first** key) encrypts every write;
//! - reads try the providers in order by prefix, and report the value **stale** when it was not
//!   written by the first provider and key, so the caller knows to rewrite it.
//!
//! Stored values (the prefix is what `etcdctl get ... | hexdump` shows upstream):
//!
//! | provider | stored value |
//! |---|---|
//! | `identity` | the plaintext, unprefixed |
//! | `aesgcm` | `k8s:enc:aesgcm:v1:<key>:` nonce(12) ‖ AES-GCM ciphertext ‖ tag(16); the storage key is authenticated data |
//! | `aescbc` | `k8s:enc:aescbc:v1:<key>:` IV(16) ‖ AES-CBC(plaintext ‖ PKCS#7) |
//! | `secretbox` | `k8s:enc:secretbox:v1:<key>:` nonce(24) ‖ NaCl secretbox (XSalsa20-Poly1305) |
//!
//! The storage key given to [`Transformer::encrypt`] and [`Transformer::decrypt`] must be the
//! full key of the value in the store (upstream uses the etcd key, e.g.
//! `/registry/secrets/default/s1`): aesgcm authenticates it, so a value copied to another key
//! does not decrypt. aescbc and secretbox ignore it, as upstream does. Resources that no rule
//! names are stored in plaintext ([`Transformers::for_resource`] returns `None`; reading an
//! encrypted value for them fails, as upstream's identity check does).
//!
//! `kms` providers are rejected ("kms providers are not supported by ferrokube").
//!
//! # Secure by default and key rotation (`ferrokube secrets-encrypt`)
//!
//! [`generate_default_config`] writes a configuration that encrypts `secrets` with
//! `secretbox` and one fresh 32-byte key, with `identity` after it so that secrets written
//! before encryption was enabled stay readable (and are reported stale). To rotate:
//!
//! 1. [`rotate`] the file: a new `secretbox` key is put first; the old keys stay as readers.
//!    Write the result back, then restart (or reload) the server: new writes use the new key.
//!    (With several API servers, first give every server the new key as a *second* key, then
//!    move it first; ferrokube runs one.)
//! 2. Re-encrypt: rewrite every value of the encrypted resources, e.g. with
//!    [`Transformer::reencrypt`] over the store, or by replacing every secret through the API.
//!    [`status`] shows which keys are configured; a value read with `stale == true` still
//!    needs rewriting.
//! 3. Only after that, [`prune`] the file to drop the old keys, and restart again.
//!
//! # What this module must not do
//!
//! No I/O: it parses and produces text that it is given, and never reads or writes files, the
//! store or the network (it reads the operating system's random number generator for keys and
//! nonces). It never logs, and no `Debug` output or error message contains key material: keys
//! are named, their secrets appear as `REDACTED`.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use zeroize::Zeroizing;

mod cipher;
mod config;
mod rotation;
#[cfg(test)]
mod tests;

use cipher::KeyCipher;
use config::GroupResource;
pub use config::{
    API_VERSION, EncryptionConfiguration, FieldError, FieldErrorType, FieldErrors,
    IdentityConfiguration, KIND, Key, KeysConfiguration, LEGACY_API_VERSION, LEGACY_KIND,
    ProviderConfiguration, ResourceConfiguration,
};
pub use rotation::{
    EntryStatus, ProviderKey, Status, generate_default_config, generate_key, prune, rotate, status,
};

/// The prefix every encrypted value starts with; `identity` refuses to read such data.
pub const ENCRYPTED_PREFIX: &[u8] = b"k8s:enc:";

/// What went wrong while loading a configuration or transforming a value. Never contains key
/// material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration text is not a decodable `EncryptionConfiguration`.
    #[error("error decoding encryption provider configuration: {0}")]
    Decode(String),
    /// The configuration does not validate; the message lists each field.
    #[error("{0}")]
    Invalid(FieldErrors),
    /// A resource is named after a wildcard rule that already covers it.
    #[error("resource {resource:?} is masked by earlier rule {rule:?}")]
    Masked {
        /// The masked resource, as written in the file.
        resource: String,
        /// The earlier wildcard (`*.group`, `*.` or `*.*`).
        rule: String,
    },
    /// [`rotate`] found no rule whose first provider encrypts.
    #[error(
        "no resource is encrypted (every rule's first provider is identity): nothing to rotate"
    )]
    NothingToRotate,
    /// A stored value carries no prefix of the configured providers.
    #[error("no matching prefix found")]
    NoMatchingPrefix,
    /// A stored value has a provider's prefix but none of its key names.
    #[error("no matching key was found for the provided {} transformer", .0.upstream_label())]
    NoMatchingKey(ProviderKind),
    /// The value is encrypted, but the resource is not configured for encryption.
    #[error("identity transformer tried to read encrypted data")]
    IdentityReadEncrypted,
    /// A key with a matching name could not open the value (wrong key, tampered data, a
    /// different storage key for aesgcm, bad padding).
    #[error("{provider} key {key:?}: {reason}")]
    Decrypt {
        /// The provider whose prefix matched.
        provider: ProviderKind,
        /// The name of the key that was tried.
        key: String,
        /// What failed.
        reason: &'static str,
    },
    /// Several failures while reading one value (each provider that matched).
    #[error("[{}]", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(", "))]
    Aggregate(Vec<Error>),
    /// The cipher refused to encrypt (it does not for the sizes that the store holds).
    #[error("encryption failed")]
    Encrypt,
    /// The operating system's random number generator failed.
    #[error("unable to read sufficient random bytes")]
    Random,
}

/// The result type of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The kinds of provider ferrokube implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// `aesgcm`.
    AesGcm,
    /// `aescbc`.
    AesCbc,
    /// `secretbox`.
    Secretbox,
    /// `identity` (no encryption).
    Identity,
}

impl ProviderKind {
    /// The provider's name in the configuration file and in stored prefixes.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::AesGcm => "aesgcm",
            ProviderKind::AesCbc => "aescbc",
            ProviderKind::Secretbox => "secretbox",
            ProviderKind::Identity => "identity",
        }
    }

    /// The prefix of the values this provider writes, before the key name: e.g.
    /// `k8s:enc:secretbox:v1:`; empty for identity.
    pub fn prefix(self) -> &'static str {
        match self {
            ProviderKind::AesGcm => "k8s:enc:aesgcm:v1:",
            ProviderKind::AesCbc => "k8s:enc:aescbc:v1:",
            ProviderKind::Secretbox => "k8s:enc:secretbox:v1:",
            ProviderKind::Identity => "",
        }
    }

    fn upstream_label(self) -> &'static str {
        match self {
            ProviderKind::AesGcm | ProviderKind::AesCbc => "AES",
            ProviderKind::Secretbox => "Secretbox",
            ProviderKind::Identity => "identity",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One key of a provider: its name, its full stored prefix, its cipher.
#[derive(Clone)]
struct NamedKey {
    name: String,
    /// `<name>:`, matched after the provider's prefix.
    name_prefix: Vec<u8>,
    cipher: KeyCipher,
}

impl fmt::Debug for NamedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ({:?})", self.name, self.cipher)
    }
}

/// One configured provider.
#[derive(Clone, Debug)]
enum Provider {
    Identity,
    Keyed {
        kind: ProviderKind,
        keys: Vec<NamedKey>,
    },
}

impl Provider {
    fn build(config: &ProviderConfiguration) -> Result<Self> {
        let kind = config.kind().ok_or_else(|| {
            // validate() rejects these first; this is the same message for a caller that
            // skipped it.
            Error::Decode(config::KMS_UNSUPPORTED_ERR.into())
        })?;
        let Some(keys_config) = config.keys() else {
            return Ok(Provider::Identity);
        };
        let mut keys = Vec::with_capacity(keys_config.len());
        for key in keys_config {
            let bytes: Zeroizing<Vec<u8>> =
                config::decode_secret(&key.secret).ok_or_else(|| {
                    Error::Decode(format!(
                        "could not obtain secret for named key {}",
                        key.name
                    ))
                })?;
            let cipher = KeyCipher::new(kind, &bytes).ok_or_else(|| {
                Error::Decode(format!(
                    "unexpected key size {} for {kind} provider (named key {})",
                    bytes.len(),
                    key.name
                ))
            })?;
            keys.push(NamedKey {
                name: key.name.clone(),
                name_prefix: format!("{}:", key.name).into_bytes(),
                cipher,
            });
        }
        Ok(Provider::Keyed { kind, keys })
    }

    fn key(&self) -> ProviderKey {
        match self {
            Provider::Identity => ProviderKey {
                provider: ProviderKind::Identity,
                key: None,
            },
            Provider::Keyed { kind, keys } => ProviderKey {
                provider: *kind,
                key: keys.first().map(|k| k.name.clone()),
            },
        }
    }
}

/// The transformer of one resource: encrypts with the first provider, decrypts with any.
///
/// `Debug` shows providers and key names only.
#[derive(Clone, Debug)]
pub struct Transformer {
    providers: Vec<Arc<Provider>>,
}

impl Transformer {
    /// The transformer of a resource that no rule names: writes plaintext, reads only values
    /// without the `k8s:enc:` prefix.
    pub fn identity() -> Self {
        Transformer {
            providers: vec![Arc::new(Provider::Identity)],
        }
    }

    /// The provider and key that [`encrypt`](Self::encrypt) uses.
    pub fn write_key(&self) -> ProviderKey {
        self.providers[0].key()
    }

    /// Whether writes are encrypted (the first provider is not identity).
    pub fn encrypts(&self) -> bool {
        !matches!(*self.providers[0], Provider::Identity)
    }

    /// Every provider and key that [`decrypt`](Self::decrypt) tries, in order.
    pub fn read_keys(&self) -> Vec<ProviderKey> {
        let mut out = Vec::new();
        for p in &self.providers {
            match &**p {
                Provider::Identity => out.push(p.key()),
                Provider::Keyed { kind, keys } => out.extend(keys.iter().map(|k| ProviderKey {
                    provider: *kind,
                    key: Some(k.name.clone()),
                })),
            }
        }
        out
    }

    /// Transforms a value for storage under `storage_key` with the first provider and its first
    /// key: the provider's and key's prefix, then the ciphertext (identity: the plaintext).
    pub fn encrypt(&self, storage_key: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        match &*self.providers[0] {
            Provider::Identity => Ok(plaintext.to_vec()),
            Provider::Keyed { kind, keys } => {
                let key = &keys[0];
                let prefix = kind.prefix().as_bytes();
                let mut out =
                    Vec::with_capacity(prefix.len() + key.name_prefix.len() + plaintext.len() + 48);
                out.extend_from_slice(prefix);
                out.extend_from_slice(&key.name_prefix);
                key.cipher.seal(storage_key, plaintext, &mut out)?;
                Ok(out)
            }
        }
    }

    /// Reads a stored value: tries the providers in order by prefix (identity reads any value
    /// without the `k8s:enc:` prefix) and the keys of a provider by name. Returns the plaintext
    /// and whether it is stale, i.e. was not written by the first provider with its first key
    /// and should be rewritten.
    ///
    /// As upstream, a failure with one matching key does not stop the search: the same prefix
    /// may appear in several providers during a rotation.
    pub fn decrypt(&self, storage_key: &[u8], stored: &[u8]) -> Result<(Vec<u8>, bool)> {
        let mut errors = Vec::new();
        for (i, provider) in self.providers.iter().enumerate() {
            match &**provider {
                Provider::Identity => {
                    if !stored.starts_with(ENCRYPTED_PREFIX) {
                        return Ok((stored.to_vec(), i != 0));
                    }
                }
                Provider::Keyed { kind, keys } => {
                    let Some(rest) = stored.strip_prefix(kind.prefix().as_bytes()) else {
                        continue;
                    };
                    let mut key_errors = Vec::new();
                    for (j, key) in keys.iter().enumerate() {
                        let Some(data) = rest.strip_prefix(key.name_prefix.as_slice()) else {
                            continue;
                        };
                        match key.cipher.open(storage_key, data) {
                            Ok(plaintext) => return Ok((plaintext, i != 0 || j != 0)),
                            Err(reason) => key_errors.push(Error::Decrypt {
                                provider: *kind,
                                key: key.name.clone(),
                                reason,
                            }),
                        }
                    }
                    if key_errors.is_empty() {
                        errors.push(Error::NoMatchingKey(*kind));
                    } else {
                        errors.extend(key_errors);
                    }
                }
            }
        }
        match errors.len() {
            0 if self
                .providers
                .iter()
                .all(|p| matches!(**p, Provider::Identity)) =>
            {
                Err(Error::IdentityReadEncrypted)
            }
            0 => Err(Error::NoMatchingPrefix),
            1 => Err(errors.remove(0)),
            _ => Err(Error::Aggregate(errors)),
        }
    }

    /// For a rewrite pass after a key rotation: decrypts `stored` and, when it is stale,
    /// returns it encrypted with the current write key. `None` means the value is current.
    pub fn reencrypt(&self, storage_key: &[u8], stored: &[u8]) -> Result<Option<Vec<u8>>> {
        let (plaintext, stale) = self.decrypt(storage_key, stored)?;
        let plaintext = Zeroizing::new(plaintext);
        if stale {
            self.encrypt(storage_key, &plaintext).map(Some)
        } else {
            Ok(None)
        }
    }
}

/// The transformers of every configured resource, looked up as upstream does.
#[derive(Clone, Debug, Default)]
pub struct Transformers {
    /// group → resource (or `*`) → transformer; group `*` holds the `*.*` rule.
    by_group: HashMap<String, HashMap<String, Transformer>>,
}

impl Transformers {
    /// Parses and validates a configuration file's text, then builds its transformers.
    pub fn parse(text: &str) -> Result<Self> {
        Self::from_config(&EncryptionConfiguration::parse(text)?)
    }

    /// Builds the transformers of a configuration (validating it first).
    ///
    /// A resource named in several rules gets the providers of all of them, in rule order
    /// (so the first rule's first provider writes), as upstream does. A resource named after a
    /// wildcard rule that covers it (`*.group`, `*.`, `*.*`) is an error, since that later
    /// rule would never apply.
    pub fn from_config(config: &EncryptionConfiguration) -> Result<Self> {
        config.validate()?;
        let mut providers: HashMap<GroupResource, Vec<Arc<Provider>>> = HashMap::new();
        for rule in &config.resources {
            let built: Vec<Arc<Provider>> = rule
                .providers
                .iter()
                .map(|p| Provider::build(p).map(Arc::new))
                .collect::<Result<_>>()?;
            for resource in &rule.resources {
                let gr = GroupResource::parse(resource);
                let any_in_group = GroupResource {
                    group: gr.group.clone(),
                    resource: "*".into(),
                };
                for rule in [any_in_group, GroupResource::any()] {
                    if providers.contains_key(&rule) {
                        return Err(Error::Masked {
                            resource: gr.yaml_string(),
                            rule: rule.yaml_string(),
                        });
                    }
                }
                providers
                    .entry(gr)
                    .or_default()
                    .extend(built.iter().cloned());
            }
        }
        let mut by_group: HashMap<String, HashMap<String, Transformer>> = HashMap::new();
        for (gr, providers) in providers {
            by_group
                .entry(gr.group)
                .or_default()
                .insert(gr.resource, Transformer { providers });
        }
        Ok(Transformers { by_group })
    }

    /// The transformer of a resource (`group` empty for the core group): an exact
    /// `resource.group` rule, else `*.group` (`*.` for the core group), else `*.*`. `None`
    /// when no rule covers the resource: store it in plaintext.
    pub fn for_resource(&self, group: &str, resource: &str) -> Option<&Transformer> {
        let in_group = self.by_group.get(group);
        in_group
            .and_then(|g| g.get(resource).or_else(|| g.get("*")))
            .or_else(|| self.by_group.get("*").and_then(|g| g.get("*")))
    }

    /// Like [`for_resource`](Self::for_resource), with the identity transformer for resources
    /// that no rule covers (upstream's default: plaintext, and encrypted data is an error).
    pub fn for_resource_or_identity(&self, group: &str, resource: &str) -> Transformer {
        self.for_resource(group, resource)
            .cloned()
            .unwrap_or_else(Transformer::identity)
    }

    /// Whether no resource is configured (everything is stored in plaintext).
    pub fn is_empty(&self) -> bool {
        self.by_group.is_empty()
    }
}
