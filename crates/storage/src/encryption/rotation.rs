//! ferrokube's default configuration and the `secrets-encrypt` helpers: generate, rotate,
//! prune, status.

use std::collections::HashSet;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use zeroize::Zeroizing;

use super::cipher::fill_random;
use super::{
    EncryptionConfiguration, Error, Key, ProviderConfiguration, ProviderKind,
    ResourceConfiguration, Result, Transformers,
};

const HEADER: &str = "# Encryption at rest for ferrokube (upstream's EncryptionConfiguration).\n\
# This file holds the keys of the stored secrets: keep it readable by its owner only, and\n\
# back it up with the data: without it the encrypted values cannot be read.\n";

/// A new key named `key-<unix time>` with 32 random bytes from the operating system (a
/// `secretbox` key, valid for `aesgcm` and `aescbc` too).
pub fn generate_key() -> Result<Key> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    generate_key_named(format!("key-{now}"))
}

fn generate_key_named(name: String) -> Result<Key> {
    let mut secret = Zeroizing::new([0u8; 32]);
    fill_random(secret.as_mut_slice())?;
    Ok(Key {
        name,
        secret: BASE64.encode(secret.as_slice()),
    })
}

/// ferrokube's secure default: `secrets` encrypted with `secretbox` under one fresh key, then
/// `identity` so that secrets written in plaintext before stay readable.
///
/// # Panics
///
/// If the operating system's random number generator fails.
pub fn generate_default_config() -> String {
    let key = generate_key().expect("the operating system's random number generator failed");
    let config = EncryptionConfiguration {
        resources: vec![ResourceConfiguration {
            resources: vec!["secrets".into()],
            providers: vec![
                ProviderConfiguration::secretbox(vec![key]),
                ProviderConfiguration::identity(),
            ],
        }],
    };
    format!("{HEADER}{}", config.to_yaml())
}

/// Step 1 of a key rotation: returns the configuration with a new `secretbox` key in first
/// place of every rule that encrypts, so that new writes use it while the old keys (and
/// providers) stay as readers. A rule whose first provider is `secretbox` gets the key in
/// front of its keys; a rule whose first provider is `aesgcm` or `aescbc` gets a new
/// `secretbox` provider in front. Rules that do not encrypt (first provider `identity`) are left
/// as they are.
///
/// The result is written in canonical form (`apiserver.config.k8s.io/v1`; comments are not
/// kept).
pub fn rotate(config_text: &str) -> Result<String> {
    let mut config = EncryptionConfiguration::parse(config_text)?;
    let base = generate_key()?.name;
    let mut rotated = 0;
    for rule in &mut config.resources {
        let first = rule.providers.first().and_then(|p| p.kind());
        if matches!(first, None | Some(ProviderKind::Identity)) {
            continue;
        }
        let taken: HashSet<&str> = rule
            .providers
            .iter()
            .filter(|p| p.secretbox.is_some())
            .filter_map(|p| p.keys())
            .flatten()
            .map(|k| k.name.as_str())
            .collect();
        let name = (0..)
            .map(|n| {
                if n == 0 {
                    base.clone()
                } else {
                    format!("{base}-{n}")
                }
            })
            .find(|n| !taken.contains(n.as_str()))
            .expect("an unused name exists");
        let key = generate_key_named(name)?;
        match (first, rule.providers[0].secretbox.as_mut()) {
            (Some(ProviderKind::Secretbox), Some(secretbox)) => secretbox.keys.insert(0, key),
            _ => rule
                .providers
                .insert(0, ProviderConfiguration::secretbox(vec![key])),
        }
        rotated += 1;
    }
    if rotated == 0 {
        return Err(Error::NothingToRotate);
    }
    Transformers::from_config(&config)?;
    Ok(format!("{HEADER}{}", config.to_yaml()))
}

/// Step 3 of a key rotation, after every value has been rewritten: returns the configuration
/// with only the write key of every rule that encrypts (its first provider with its first
/// key), and that rule's `identity` provider if it had one. Rules that do not encrypt are left
/// as they are.
///
/// Values still written with a dropped key become unreadable: run it only after the rewrite.
pub fn prune(config_text: &str) -> Result<String> {
    let mut config = EncryptionConfiguration::parse(config_text)?;
    for rule in &mut config.resources {
        let first = rule.providers.first().and_then(|p| p.kind());
        if matches!(first, None | Some(ProviderKind::Identity)) {
            continue;
        }
        let had_identity = rule.providers.iter().any(|p| p.identity.is_some());
        rule.providers.truncate(1);
        if let Some(keys) = rule.providers[0].keys_mut() {
            keys.truncate(1);
        }
        if had_identity {
            rule.providers.push(ProviderConfiguration::identity());
        }
    }
    Transformers::from_config(&config)?;
    Ok(format!("{HEADER}{}", config.to_yaml()))
}

/// A provider and (for a keyed provider) one of its keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderKey {
    /// The provider.
    pub provider: ProviderKind,
    /// The key's name; `None` for identity.
    pub key: Option<String>,
}

impl ProviderKey {
    /// The prefix of the values written with this key, as stored: e.g.
    /// `k8s:enc:secretbox:v1:key1:`; empty for identity.
    pub fn prefix(&self) -> String {
        match &self.key {
            Some(name) => format!("{}{name}:", self.provider.prefix()),
            None => String::new(),
        }
    }
}

impl fmt::Display for ProviderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key {
            Some(name) => write!(f, "{}:{name}", self.provider),
            None => write!(f, "{}", self.provider),
        }
    }
}

/// What one rule of a configuration does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryStatus {
    /// The resources of the rule, as written.
    pub resources: Vec<String>,
    /// The provider and key that encrypt writes (identity: not encrypted).
    pub active: ProviderKey,
    /// Every provider and key that reads, in the order they are tried (the first is `active`).
    pub keys: Vec<ProviderKey>,
}

/// The state of a configuration, for `ferrokube secrets-encrypt status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// One entry per rule, in order.
    pub entries: Vec<EntryStatus>,
}

impl Status {
    /// Whether any rule encrypts writes.
    pub fn encryption_enabled(&self) -> bool {
        self.entries
            .iter()
            .any(|e| e.active.provider != ProviderKind::Identity)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.entries {
            let readers: Vec<String> = e.keys.iter().map(|k| k.to_string()).collect();
            writeln!(
                f,
                "{}: writes with {}; reads {}",
                e.resources.join(", "),
                e.active,
                readers.join(", ")
            )?;
        }
        Ok(())
    }
}

/// The active provider and key, and all keys, of every rule (key names only).
pub fn status(config: &EncryptionConfiguration) -> Status {
    let entries = config
        .resources
        .iter()
        .map(|rule| {
            let mut keys = Vec::new();
            for p in &rule.providers {
                match (p.kind(), p.keys()) {
                    (Some(kind), Some(k)) => keys.extend(k.iter().map(|k| ProviderKey {
                        provider: kind,
                        key: Some(k.name.clone()),
                    })),
                    (Some(kind), None) => keys.push(ProviderKey {
                        provider: kind,
                        key: None,
                    }),
                    (None, _) => {}
                }
            }
            let active = keys.first().cloned().unwrap_or(ProviderKey {
                provider: ProviderKind::Identity,
                key: None,
            });
            EntryStatus {
                resources: rule.resources.clone(),
                active,
                keys,
            }
        })
        .collect();
    Status { entries }
}
