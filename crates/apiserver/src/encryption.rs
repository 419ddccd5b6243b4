//! Encryption at rest in the apiserver: a [`storage::Backend`] decorator that encrypts values
//! on their way to storage and decrypts them on their way back, with the transformers of an
//! EncryptionConfiguration (`storage::encryption`), chosen per resource from the key.
//!
//! The configuration file is watched: a changed file (a rotated key) is loaded without a
//! restart, and [`Encryption::reencrypt`] rewrites every value not written with the current
//! first key. `/ferrokube/v1/secrets-encrypt/{status,reload,reencrypt}` expose this to
//! `ferrokube secrets-encrypt` (non-resource URLs: only cluster administrators may call them).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use parking_lot::RwLock;
use serde_json::json;
use storage::encryption::{EncryptionConfiguration, Transformers};
use storage::{Backend, KeyValue, RangeRequest, RangeResponse, Revision, TxnOp, TxnResponse, WatchStream};

use crate::cache::ROOT;

/// Maps a storage key to the (group, resource) it belongs to.
pub type Resolver = Arc<dyn Fn(&str) -> Option<(String, String)> + Send + Sync>;

struct Loaded {
    text: String,
    transformers: Transformers,
    config: EncryptionConfiguration,
}

/// Encryption state shared by the decorator and the management endpoints.
pub struct Encryption {
    path: PathBuf,
    loaded: RwLock<Arc<Loaded>>,
    resolver: Resolver,
    inner: Arc<dyn Backend>,
}

impl std::fmt::Debug for Encryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encryption").field("path", &self.path).finish_non_exhaustive()
    }
}

fn load(path: &PathBuf) -> Result<Loaded, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let config = EncryptionConfiguration::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let transformers = Transformers::from_config(&config).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Loaded { text, transformers, config })
}

impl Encryption {
    /// Loads the configuration at `path` (creating ferrokube's default — secrets under
    /// secretbox with a fresh key — when it does not exist) and wraps `inner`.
    pub fn open(path: PathBuf, inner: Arc<dyn Backend>, resolver: Resolver) -> Result<Arc<Encryption>, String> {
        if !path.exists() {
            let text = storage::encryption::generate_default_config();
            pki::write_file(&path, text.as_bytes(), 0o600).map_err(|e| e.to_string())?;
        }
        let loaded = load(&path)?;
        Ok(Arc::new(Encryption { path, loaded: RwLock::new(Arc::new(loaded)), resolver, inner }))
    }

    fn transform_out(&self, key: &str, value: Bytes) -> Bytes {
        let Some((g, r)) = (self.resolver)(key) else { return value };
        let loaded = self.loaded.read().clone();
        let Some(t) = loaded.transformers.for_resource(&g, &r) else { return value };
        match t.encrypt(key.as_bytes(), &value) {
            Ok(v) => Bytes::from(v),
            Err(e) => {
                tracing::error!(key, error = %e, "encryption failed; value not written");
                Bytes::new()
            }
        }
    }

    fn transform_in(&self, kv: &mut KeyValue) {
        if kv.value.is_empty() {
            return;
        }
        let Some((g, r)) = (self.resolver)(&kv.key) else { return };
        let loaded = self.loaded.read().clone();
        let t = loaded.transformers.for_resource_or_identity(&g, &r);
        match t.decrypt(kv.key.as_bytes(), &kv.value) {
            Ok((plain, _stale)) => kv.value = Bytes::from(plain),
            Err(e) => tracing::error!(key = %kv.key, error = %e, "stored value does not decrypt with the configured keys"),
        }
    }

    /// Reloads the configuration file if it changed. Returns whether it did.
    pub fn reload(&self) -> Result<bool, String> {
        let text = std::fs::read_to_string(&self.path).map_err(|e| e.to_string())?;
        if text == self.loaded.read().text {
            return Ok(false);
        }
        let loaded = load(&self.path)?;
        *self.loaded.write() = Arc::new(loaded);
        tracing::info!(file = %self.path.display(), "encryption configuration reloaded");
        Ok(true)
    }

    /// Watches the configuration file, reloading it when it changes.
    pub async fn watch_file(self: Arc<Self>) {
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            if let Err(e) = self.reload() {
                tracing::warn!(error = %e, "encryption configuration not reloaded; keeping the previous one");
            }
        }
    }

    /// Rewrites every stored value not written with the current first provider and key.
    /// Returns (values checked, values rewritten).
    pub async fn reencrypt(&self) -> Result<(u64, u64), storage::Error> {
        let (mut checked, mut rewritten) = (0u64, 0u64);
        let mut start = ROOT.to_string();
        let end = storage::prefix_end(ROOT);
        loop {
            let resp = self.inner.range(RangeRequest { start: start.clone(), end: end.clone(), revision: 0, limit: 500, count_only: false }).await?;
            for kv in &resp.kvs {
                let Some((g, r)) = (self.resolver)(&kv.key) else { continue };
                let loaded = self.loaded.read().clone();
                let t = loaded.transformers.for_resource_or_identity(&g, &r);
                checked += 1;
                let Ok(Some(new)) = t.reencrypt(kv.key.as_bytes(), &kv.value) else { continue };
                // compare-and-swap: a concurrent write already wrote with the current key
                if self.inner.txn(&kv.key, kv.mod_revision, TxnOp::Put(Bytes::from(new))).await?.succeeded {
                    rewritten += 1;
                }
            }
            match resp.kvs.last() {
                Some(last) if resp.more => start = format!("{}\0", last.key),
                _ => break,
            }
        }
        Ok((checked, rewritten))
    }

    /// The status document.
    pub fn status(&self) -> serde_json::Value {
        let loaded = self.loaded.read().clone();
        let st = storage::encryption::status(&loaded.config);
        json!({
            "configFile": self.path.display().to_string(),
            "encryptionEnabled": st.encryption_enabled(),
            "rules": st.entries.iter().map(|e| json!({
                "resources": e.resources,
                "activeKey": e.active.to_string(),
                "keys": e.keys.iter().map(ToString::to_string).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }
}

/// The storage decorator.
pub struct EncryptedBackend(pub Arc<Encryption>);

#[async_trait]
impl Backend for EncryptedBackend {
    async fn range(&self, req: RangeRequest) -> storage::Result<RangeResponse> {
        let mut resp = self.0.inner.range(req).await?;
        for kv in &mut resp.kvs {
            self.0.transform_in(kv);
        }
        Ok(resp)
    }
    async fn txn(&self, key: &str, expected_mod_revision: Revision, op: TxnOp) -> storage::Result<TxnResponse> {
        let op = match op {
            TxnOp::Put(v) => {
                let v = self.0.transform_out(key, v);
                if v.is_empty() {
                    return Err(storage::Error::Backend(format!("encryption of {key} failed")));
                }
                TxnOp::Put(v)
            }
            TxnOp::Delete => TxnOp::Delete,
        };
        self.0.inner.txn(key, expected_mod_revision, op).await
    }
    async fn watch(&self, prefix: &str, start_revision: Revision) -> storage::Result<WatchStream> {
        let enc = self.0.clone();
        let stream = self.0.inner.watch(prefix, start_revision).await?;
        Ok(stream
            .map(move |r| {
                r.map(|mut resp| {
                    for ev in &mut resp.events {
                        enc.transform_in(&mut ev.kv);
                        if let Some(p) = ev.prev_kv.as_mut() {
                            enc.transform_in(p);
                        }
                    }
                    resp
                })
            })
            .boxed())
    }
    async fn current_revision(&self) -> storage::Result<Revision> {
        self.0.inner.current_revision().await
    }
    async fn compact(&self, revision: Revision) -> storage::Result<()> {
        self.0.inner.compact(revision).await
    }
    async fn compact_revision(&self) -> storage::Result<Revision> {
        self.0.inner.compact_revision().await
    }
}

/// A resolver from the built-in registry's storage prefixes; keys of custom resources
/// (`/registry/<group>/<plural>/...`) resolve by their segments.
pub fn registry_resolver(reg: &crate::registry::Registry) -> Resolver {
    let mut prefixes: Vec<(String, String, String)> =
        reg.resources.iter().map(|r| (r.prefix.clone(), r.info.group.clone(), r.info.plural.clone())).collect();
    prefixes.sort_by_key(|p| (std::cmp::Reverse(p.0.len()), p.0.clone()));
    prefixes.dedup_by(|a, b| a.0 == b.0);
    Arc::new(move |key: &str| {
        if let Some((_, g, r)) = prefixes.iter().find(|(p, _, _)| key.starts_with(p.as_str())) {
            return Some((g.clone(), r.clone()));
        }
        let rest = key.strip_prefix(ROOT)?;
        let mut parts = rest.split('/');
        let (group, plural) = (parts.next()?, parts.next()?);
        group.contains('.').then(|| (group.to_string(), plural.to_string()))
    })
}

/// Serves `/ferrokube/v1/secrets-encrypt/*`, if the path is one of them.
pub async fn handle(api: &crate::Api, method: &http::Method, path: &str) -> Option<http::Response<crate::response::Body>> {
    let action = path.strip_prefix("/ferrokube/v1/secrets-encrypt/")?;
    let Some(enc) = &api.encryption else {
        return Some(crate::response::error(&apimachinery::ApiError::path_not_found()));
    };
    let ok = |v: serde_json::Value| crate::response::json(http::StatusCode::OK, serde_json::to_vec(&v).unwrap_or_default());
    let err = |m: String| crate::response::error(&apimachinery::ApiError::internal(m));
    Some(match (method.as_str(), action) {
        ("GET", "status") => ok(enc.status()),
        ("POST", "reload") => match enc.reload() {
            Ok(changed) => ok(json!({"reloaded": changed, "status": enc.status()})),
            Err(e) => crate::response::error(&apimachinery::ApiError::bad_request(e)),
        },
        ("POST", "reencrypt") => {
            if let Err(e) = enc.reload() {
                return Some(crate::response::error(&apimachinery::ApiError::bad_request(e)));
            }
            match enc.reencrypt().await {
                Ok((checked, rewritten)) => ok(json!({"checked": checked, "rewritten": rewritten, "status": enc.status()})),
                Err(e) => err(e.to_string()),
            }
        }
        _ => crate::response::error(&apimachinery::ApiError::path_not_found()),
    })
}
