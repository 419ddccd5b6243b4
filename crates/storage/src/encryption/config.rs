//! The `EncryptionConfiguration` file: its types, decoding (YAML or JSON), validation with
//! upstream's messages and field paths, and YAML output.

use std::collections::HashSet;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Deserializer, Serialize};
use zeroize::Zeroizing;

use super::{Error, ProviderKind};

/// The apiVersion written by ferrokube and read from upstream's files.
pub const API_VERSION: &str = "apiserver.config.k8s.io/v1";
/// The kind of the configuration object.
pub const KIND: &str = "EncryptionConfiguration";
/// The pre-1.13 apiVersion, still accepted on input.
pub const LEGACY_API_VERSION: &str = "v1";
/// The pre-1.13 kind, still accepted on input (with [`LEGACY_API_VERSION`]).
pub const LEGACY_KIND: &str = "EncryptionConfig";

/// AES key sizes that upstream accepts for `aesgcm` and `aescbc` (AES-128, AES-192, AES-256).
const AES_KEY_SIZES: &[usize] = &[16, 24, 32];
/// The only key size of `secretbox` (XSalsa20-Poly1305).
const SECRETBOX_KEY_SIZES: &[usize] = &[32];

/// The parsed and validated content of an `EncryptionConfiguration` file.
///
/// Its `Debug` output names keys but never shows their secrets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptionConfiguration {
    /// The rules, in order: which resources use which providers.
    #[serde(default, deserialize_with = "null_as_default")]
    pub resources: Vec<ResourceConfiguration>,
}

/// One rule: a list of resources and the providers used for them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceConfiguration {
    /// `resource` (core group), `resource.group`, `*.group`, `*.` (all of the core group) or
    /// `*.*` (everything).
    #[serde(default, deserialize_with = "null_as_default")]
    pub resources: Vec<String>,
    /// The providers: the first one encrypts new writes, all are tried in order to read.
    #[serde(default, deserialize_with = "null_as_default")]
    pub providers: Vec<ProviderConfiguration>,
}

/// One provider; exactly one of its fields must be set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfiguration {
    /// AES-GCM with a random 96-bit nonce; the storage key is authenticated data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aesgcm: Option<KeysConfiguration>,
    /// AES-CBC with PKCS#7 padding (upstream calls it weak: no authentication).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aescbc: Option<KeysConfiguration>,
    /// NaCl secretbox (XSalsa20-Poly1305) with a random 192-bit nonce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secretbox: Option<KeysConfiguration>,
    /// No encryption: writes plaintext, reads data that has no `k8s:enc:` prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityConfiguration>,
    /// An envelope provider backed by a KMS plugin. Decoded only to be rejected: ferrokube
    /// does not support KMS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms: Option<serde_json::Value>,
}

/// The keys of an `aesgcm`, `aescbc` or `secretbox` provider. The first key encrypts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysConfiguration {
    /// The keys, in order.
    #[serde(default, deserialize_with = "null_as_default")]
    pub keys: Vec<Key>,
}

/// A named key. `Debug` redacts the secret.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Key {
    /// The name, written into every value it encrypts (`k8s:enc:<provider>:v1:<name>:`).
    #[serde(default)]
    pub name: String,
    /// The key bytes, standard base64.
    #[serde(default)]
    pub secret: String,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("name", &self.name)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

/// The (empty) configuration of the identity provider; written as `identity: {}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfiguration {}

impl ProviderConfiguration {
    /// A provider with only `identity: {}` set.
    pub fn identity() -> Self {
        ProviderConfiguration {
            identity: Some(IdentityConfiguration {}),
            ..Default::default()
        }
    }

    /// A `secretbox` provider with these keys.
    pub fn secretbox(keys: Vec<Key>) -> Self {
        ProviderConfiguration {
            secretbox: Some(KeysConfiguration { keys }),
            ..Default::default()
        }
    }

    /// The kind of the provider, if exactly one supported kind is set (`None` for kms, for
    /// none and for several).
    pub fn kind(&self) -> Option<ProviderKind> {
        let set = [
            (self.aesgcm.is_some(), Some(ProviderKind::AesGcm)),
            (self.aescbc.is_some(), Some(ProviderKind::AesCbc)),
            (self.secretbox.is_some(), Some(ProviderKind::Secretbox)),
            (self.identity.is_some(), Some(ProviderKind::Identity)),
            (self.kms.is_some(), None),
        ];
        let mut found = set.iter().filter(|(on, _)| *on);
        match (found.next(), found.next()) {
            (Some((_, kind)), None) => *kind,
            _ => None,
        }
    }

    /// The keys of a keyed provider (`aesgcm`, `aescbc`, `secretbox`); `None` otherwise.
    pub fn keys(&self) -> Option<&[Key]> {
        self.aesgcm
            .as_ref()
            .or(self.aescbc.as_ref())
            .or(self.secretbox.as_ref())
            .map(|k| k.keys.as_slice())
    }

    /// Mutable access to the keys of a keyed provider.
    pub fn keys_mut(&mut self) -> Option<&mut Vec<Key>> {
        self.aesgcm
            .as_mut()
            .or(self.aescbc.as_mut())
            .or(self.secretbox.as_mut())
            .map(|k| &mut k.keys)
    }
}

/// What is wrong with one field, as upstream's `field.Error` types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldErrorType {
    /// "Required value".
    Required,
    /// "Invalid value".
    Invalid,
    /// "Duplicate value".
    Duplicate,
    /// "Forbidden".
    Forbidden,
}

impl FieldErrorType {
    fn as_str(self) -> &'static str {
        match self {
            FieldErrorType::Required => "Required value",
            FieldErrorType::Invalid => "Invalid value",
            FieldErrorType::Duplicate => "Duplicate value",
            FieldErrorType::Forbidden => "Forbidden",
        }
    }
}

/// One validation error, displayed as upstream's: `<field>: <type>[: <value>]: <detail>`.
/// Secrets are always shown as `"REDACTED"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The path of the field, e.g. `resources[0].providers[1].secretbox.keys[0].secret`.
    pub field: String,
    /// The kind of error.
    pub error_type: FieldErrorType,
    /// The offending value, already rendered (quoted strings, lists); never key material.
    pub value: Option<String>,
    /// What is wrong.
    pub detail: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.error_type.as_str())?;
        if let Some(value) = &self.value {
            write!(f, ": {value}")?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// All validation errors of a configuration (displayed like upstream's aggregate: one error
/// alone, several as `[e1, e2]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let [one] = self.0.as_slice() {
            return write!(f, "{one}");
        }
        f.write_str("[")?;
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{e}")?;
        }
        f.write_str("]")
    }
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A `group`/`resource` pair as upstream's `schema.ParseGroupResource` reads `resource.group`:
/// everything before the first dot is the resource, the rest the group (`secrets` → core group).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct GroupResource {
    pub group: String,
    pub resource: String,
}

impl GroupResource {
    pub fn parse(text: &str) -> Self {
        match text.split_once('.') {
            Some((resource, group)) => GroupResource {
                group: group.to_string(),
                resource: resource.to_string(),
            },
            None => GroupResource {
                group: String::new(),
                resource: text.to_string(),
            },
        }
    }

    pub fn any() -> Self {
        GroupResource {
            group: "*".into(),
            resource: "*".into(),
        }
    }

    /// As upstream writes it in errors: `*.` for the whole core group, `resource.group`, or
    /// `resource` alone for the core group.
    pub fn yaml_string(&self) -> String {
        if self.group.is_empty() && self.resource == "*" {
            "*.".to_string()
        } else if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }
}

impl EncryptionConfiguration {
    /// Decodes a configuration file's text (YAML, or JSON when it starts with `{`) and
    /// validates it as upstream does. Accepts `apiserver.config.k8s.io/v1`
    /// `EncryptionConfiguration` and the legacy `v1` `EncryptionConfig`; unknown fields are
    /// errors (upstream decodes strictly). `kms` providers are rejected.
    ///
    /// Errors never quote key material.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let config = decode(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the configuration as upstream's `ValidateEncryptionConfiguration`, plus
    /// ferrokube's own rules (no kms; key names unique within a provider).
    pub fn validate(&self) -> Result<(), Error> {
        let errors = validate(self);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(FieldErrors(errors)))
        }
    }

    /// The configuration as a YAML document with `apiVersion` and `kind`, ready to be written
    /// to a file (which must then be readable only by its owner: it holds the keys).
    pub fn to_yaml(&self) -> String {
        #[derive(Serialize)]
        struct Document<'a> {
            #[serde(rename = "apiVersion")]
            api_version: &'a str,
            kind: &'a str,
            resources: &'a [ResourceConfiguration],
        }
        let doc = Document {
            api_version: API_VERSION,
            kind: KIND,
            resources: &self.resources,
        };
        // Serializing plain strings, lists and maps cannot fail.
        serde_saphyr::to_string(&doc).expect("an EncryptionConfiguration serializes to YAML")
    }
}

fn decode(text: &str) -> Result<EncryptionConfiguration, Error> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Err(Error::Decode(
            "the encryption provider configuration is empty".into(),
        ));
    }
    let yaml = || {
        let options = serde_saphyr::options! { with_snippet: false };
        serde_saphyr::from_str_with_options::<serde_json::Value>(trimmed, options).map_err(|e| {
            Error::Decode(format!(
                "invalid YAML: {}",
                redact_serde_message(&e.to_string())
            ))
        })
    };
    let value = if trimmed.starts_with('{') {
        // JSON; a YAML flow mapping also starts with '{', so fall back to YAML, but report
        // the JSON error when that fails too.
        match serde_json::from_str(trimmed) {
            Ok(value) => value,
            Err(json) => yaml().map_err(|_| {
                Error::Decode(format!(
                    "invalid JSON: {}",
                    redact_serde_message(&json.to_string())
                ))
            })?,
        }
    } else {
        yaml()?
    };
    let serde_json::Value::Object(mut object) = value else {
        return Err(Error::Decode(
            "the encryption provider configuration is not an object".into(),
        ));
    };
    let api_version = take_string(&mut object, "apiVersion")?;
    let kind = take_string(&mut object, "kind")?;
    match (api_version.as_deref(), kind.as_deref()) {
        (Some(API_VERSION), Some(KIND)) | (Some(LEGACY_API_VERSION), Some(LEGACY_KIND)) => {}
        (_, None) => return Err(Error::Decode("Object 'Kind' is missing".into())),
        (None, Some(_)) => return Err(Error::Decode("Object 'apiVersion' is missing".into())),
        (Some(v), Some(k)) => {
            return Err(Error::Decode(format!(
                "no kind {k:?} is registered for version {v:?}: expected apiVersion {API_VERSION:?} and kind {KIND:?}"
            )));
        }
    }
    serde_path_to_error::deserialize(serde_json::Value::Object(object)).map_err(|e| {
        let path = e.path().to_string();
        let message = redact_serde_message(&e.into_inner().to_string());
        if path == "." || path.is_empty() {
            Error::Decode(format!("strict decoding error: {message}"))
        } else {
            Error::Decode(format!("strict decoding error: {path}: {message}"))
        }
    })
}

fn take_string(
    object: &mut serde_json::Map<String, serde_json::Value>,
    field: &str,
) -> Result<Option<String>, Error> {
    match object.remove(field) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.is_empty() => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::Decode(format!("{field}: expected a string"))),
    }
}

/// serde's "invalid type"/"invalid value" messages quote the value they saw, which may be a key
/// (`keys: ["c2VjcmV0..."]`): keep only what was expected.
fn redact_serde_message(message: &str) -> String {
    for prefix in ["invalid type:", "invalid value:", "invalid length"] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let expected = rest
                .find(", expected ")
                .map(|i| &rest[i + 2..])
                .unwrap_or("");
            let head = prefix.trim_end_matches(':');
            return if expected.is_empty() {
                format!("{head} (value redacted)")
            } else {
                format!("{head} (value redacted), {expected}")
            };
        }
    }
    message.to_string()
}

// --- validation (upstream's validation_encryption.go, with its messages) ---

const MORE_THAN_ONE_ELEMENT_ERR: &str = "more than one provider specified in a single element, should split into different list elements";
const NO_PROVIDER_ERR: &str = "provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity";
const EVENTS_GROUP_ERR: &str = "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file";
const EXTENSIONS_GROUP_ERR: &str =
    "'extensions' group has been removed and cannot be used for encryption";
const STAR_RESOURCE_ERR: &str =
    "use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources";
const OVERLAP_ERR: &str = "using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked";
const NON_REST_API_RESOURCE_ERR: &str =
    "resources which do not have REST API/s cannot be encrypted";
const RESOURCE_NAME_ERR: &str = "resource name should not contain capital letters";
const RESOURCE_ACROSS_GROUP_ERR: &str =
    "encrypting the same resource across groups is not supported";
const DUPLICATE_RESOURCE_ERR: &str = "the same resource cannot be specified multiple times";
/// ferrokube's own rule.
pub(crate) const KMS_UNSUPPORTED_ERR: &str = "kms providers are not supported by ferrokube";

fn required(field: String, detail: String) -> FieldError {
    FieldError {
        field,
        error_type: FieldErrorType::Required,
        value: None,
        detail,
    }
}

fn invalid(field: String, value: Option<String>, detail: impl Into<String>) -> FieldError {
    FieldError {
        field,
        error_type: FieldErrorType::Invalid,
        value,
        detail: detail.into(),
    }
}

fn quoted(s: &str) -> String {
    format!("{s:?}")
}

fn quoted_list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| quoted(s)).collect();
    format!("[{}]", inner.join(", "))
}

fn validate(c: &EncryptionConfiguration) -> Vec<FieldError> {
    let root = "resources";
    let mut errs = Vec::new();
    if c.resources.is_empty() {
        errs.push(required(
            root.into(),
            format!("at least one {root} is required"),
        ));
        return errs;
    }
    for (i, conf) in c.resources.iter().enumerate() {
        let r = format!("{root}[{i}].resources");
        let p = format!("{root}[{i}].providers");
        if conf.resources.is_empty() {
            errs.push(required(r.clone(), format!("at least one {r} is required")));
        }
        validate_resource_overlap(&conf.resources, &r, &mut errs);
        validate_resource_names(&conf.resources, &r, &mut errs);
        if conf.providers.is_empty() {
            errs.push(required(p.clone(), format!("at least one {p} is required")));
        }
        for (j, provider) in conf.providers.iter().enumerate() {
            let path = format!("{p}[{j}]");
            let found = [
                provider.kms.is_some(),
                provider.aesgcm.is_some(),
                provider.aescbc.is_some(),
                provider.secretbox.is_some(),
                provider.identity.is_some(),
            ]
            .iter()
            .filter(|on| **on)
            .count();
            if found == 0 {
                errs.push(invalid(path, None, NO_PROVIDER_ERR));
                continue;
            }
            if found > 1 {
                // Like upstream, the keys of the first kind set are still checked.
                errs.push(invalid(path.clone(), None, MORE_THAN_ONE_ELEMENT_ERR));
            }
            if provider.kms.is_some() {
                errs.push(FieldError {
                    field: format!("{path}.kms"),
                    error_type: FieldErrorType::Forbidden,
                    value: None,
                    detail: KMS_UNSUPPORTED_ERR.into(),
                });
            } else if let Some(k) = &provider.aesgcm {
                validate_keys(
                    &k.keys,
                    &format!("{path}.aesgcm.keys"),
                    AES_KEY_SIZES,
                    &mut errs,
                );
            } else if let Some(k) = &provider.aescbc {
                validate_keys(
                    &k.keys,
                    &format!("{path}.aescbc.keys"),
                    AES_KEY_SIZES,
                    &mut errs,
                );
            } else if let Some(k) = &provider.secretbox {
                validate_keys(
                    &k.keys,
                    &format!("{path}.secretbox.keys"),
                    SECRETBOX_KEY_SIZES,
                    &mut errs,
                );
            }
        }
    }
    errs
}

fn validate_resource_overlap(resources: &[String], path: &str, errs: &mut Vec<FieldError>) {
    if resources.len() < 2 {
        return;
    }
    let parsed: Vec<GroupResource> = resources.iter().map(|r| GroupResource::parse(r)).collect();
    let any = GroupResource::any();
    let (mut has_overlap, mut has_duplicate) = (false, false);
    // The same (order-dependent) walk as upstream, so that the same errors come out.
    for (i, r1) in parsed.iter().enumerate() {
        for (j, r2) in parsed.iter().enumerate() {
            if i == j {
                continue;
            }
            if r1 == r2 && !has_duplicate {
                has_duplicate = true;
                continue;
            }
            if has_overlap {
                continue;
            }
            if *r1 == any {
                has_overlap = true;
                continue;
            }
            if r1.group != r2.group {
                continue;
            }
            if r1.resource == "*" || r2.resource == "*" {
                has_overlap = true;
            }
        }
    }
    if has_duplicate {
        errs.push(invalid(
            path.into(),
            Some(quoted_list(resources)),
            DUPLICATE_RESOURCE_ERR,
        ));
    }
    if has_overlap {
        errs.push(invalid(
            path.into(),
            Some(quoted_list(resources)),
            OVERLAP_ERR,
        ));
    }
}

fn validate_resource_names(resources: &[String], path: &str, errs: &mut Vec<FieldError>) {
    for (j, res) in resources.iter().enumerate() {
        let jj = format!("{path}[{j}]");
        let detail = if res.to_lowercase() != *res {
            RESOURCE_NAME_ERR
        } else if res == "*" {
            STAR_RESOURCE_ERR
        } else if matches!(
            res.as_str(),
            "apiserveripinfo" | "serviceipallocations" | "servicenodeportallocations"
        ) {
            NON_REST_API_RESOURCE_ERR
        } else {
            let gr = GroupResource::parse(res);
            if gr.group == "events.k8s.io" {
                EVENTS_GROUP_ERR
            } else if gr.group == "extensions" {
                EXTENSIONS_GROUP_ERR
            } else if gr.group == "*" && gr.resource != "*" {
                RESOURCE_ACROSS_GROUP_ERR
            } else {
                continue;
            }
        };
        errs.push(invalid(jj, Some(quoted(res)), detail));
    }
}

fn validate_keys(keys: &[Key], path: &str, sizes: &[usize], errs: &mut Vec<FieldError>) {
    if keys.is_empty() {
        errs.push(required(
            path.into(),
            "at least one keys is required".into(),
        ));
        return;
    }
    let mut names = HashSet::new();
    for (i, key) in keys.iter().enumerate() {
        let kp = format!("{path}[{i}]");
        if key.name.is_empty() {
            errs.push(required(
                format!("{kp}.name"),
                "name is a mandatory field for a key".into(),
            ));
        } else if !names.insert(key.name.as_str()) {
            // ferrokube's rule: two keys of one provider with the same name share a prefix, so
            // which one a value was written with would be a guess.
            errs.push(FieldError {
                field: format!("{kp}.name"),
                error_type: FieldErrorType::Duplicate,
                value: Some(quoted(&key.name)),
                detail: String::new(),
            });
        }
        if key.secret.is_empty() {
            errs.push(required(
                format!("{kp}.secret"),
                "secret is a mandatory field for a key".into(),
            ));
            continue;
        }
        let redacted = Some(quoted("REDACTED"));
        match decode_secret(&key.secret) {
            None => errs.push(invalid(
                format!("{kp}.secret"),
                redacted,
                "secrets must be base64 encoded",
            )),
            Some(secret) if !sizes.contains(&secret.len()) => {
                let expected: Vec<String> = sizes.iter().map(|s| s.to_string()).collect();
                errs.push(invalid(
                    format!("{kp}.secret"),
                    redacted,
                    format!(
                        "secret is not of the expected length, got {}, expected one of [{}]",
                        secret.len(),
                        expected.join(" ")
                    ),
                ));
            }
            Some(_) => {}
        }
    }
}

/// Decodes a key's base64 secret into a buffer that is wiped when dropped.
pub(crate) fn decode_secret(secret: &str) -> Option<Zeroizing<Vec<u8>>> {
    BASE64.decode(secret.as_bytes()).ok().map(Zeroizing::new)
}
