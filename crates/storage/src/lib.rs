//! The storage layer of ferrokube: the revisioned key-value contract that etcd defines, and the
//! backends that fulfil it.
//!
//! The contract (the [`Backend`] trait): keys are strings (the apiserver uses
//! `/registry/<resource>/<namespace>/<name>`), values are opaque bytes, and every successful write
//! bumps one global revision. Each key remembers the revision that created it and the revision that
//! last modified it; writes are compare-and-swap on that mod revision; ranges can be read at the
//! latest revision or at any revision not yet compacted; watches deliver every change from a
//! revision on, in order; compaction forgets history and makes older revisions answer
//! [`Error::Compacted`] (which the apiserver turns into 410 Gone).
//!
//! Backends: [`embedded`] (the default: a durable store in the data directory) and [`etcd`] (an
//! etcd v3 cluster over gRPC, with TLS client certificates; `etcd::testing`, feature `testing`,
//! starts real etcd processes for tests). [`bench`](mod@bench) measures a backend's write throughput.
//!
//! This crate knows keys, bytes and revisions — never a Kubernetes resource type, never HTTP.
//! It must not depend on `apimachinery` or `apiserver`.

use bytes::Bytes;
use futures::stream::BoxStream;

pub mod bench;
pub mod embedded;
pub mod encryption;
pub mod etcd;

/// A global, monotonically increasing store revision. Revision 0 means "none".
pub type Revision = i64;

/// One key and the metadata the store keeps for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    /// The key.
    pub key: String,
    /// The value (empty for the `kv` of a delete event).
    pub value: Bytes,
    /// Revision of the write that created the key (since its last deletion).
    pub create_revision: Revision,
    /// Revision of the last write to the key (for a delete event: the delete's revision).
    pub mod_revision: Revision,
    /// Number of writes to the key since it was created (1 after creation).
    pub version: i64,
}

/// The write in a [`Backend::txn`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnOp {
    /// Set the key to this value.
    Put(Bytes),
    /// Delete the key.
    Delete,
}

/// The outcome of a [`Backend::txn`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnResponse {
    /// Whether the compare held and the write happened.
    pub succeeded: bool,
    /// On success: the revision of this write. On failure: the store's current revision.
    pub revision: Revision,
    /// On success with `Put`: the key as written. On success with `Delete`: the key as it was
    /// before the delete. On failure: the key's current value, or `None` if it does not exist.
    pub kv: Option<KeyValue>,
}

/// A read of a key range.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeRequest {
    /// First key (inclusive).
    pub start: String,
    /// End key (exclusive). Empty means "only `start`"; use [`prefix_end`] for a prefix.
    pub end: String,
    /// Read at this revision; 0 means the latest.
    pub revision: Revision,
    /// At most this many keys; 0 means no limit.
    pub limit: i64,
    /// Only count, return no key values.
    pub count_only: bool,
}

impl RangeRequest {
    /// A read of every key starting with `prefix`, at the latest revision.
    pub fn prefix(prefix: &str) -> Self {
        RangeRequest { start: prefix.to_string(), end: prefix_end(prefix), ..Default::default() }
    }
    /// A read of one key, at the latest revision.
    pub fn key(key: &str) -> Self {
        RangeRequest { start: key.to_string(), ..Default::default() }
    }
}

/// The answer to a [`RangeRequest`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeResponse {
    /// The keys found, in key order (empty with `count_only`).
    pub kvs: Vec<KeyValue>,
    /// Whether keys beyond `limit` exist in the range.
    pub more: bool,
    /// The number of keys in the whole range (ignoring `limit`).
    pub count: i64,
    /// The revision the read was served at (the store's revision for a latest read).
    pub revision: Revision,
}

/// What happened to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// Created or modified.
    Put,
    /// Deleted.
    Delete,
}

/// One change delivered by a watch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Put or delete.
    pub kind: EventType,
    /// The key after the change (for a delete: key, `mod_revision` = the delete's revision,
    /// empty value).
    pub kv: KeyValue,
    /// The key before the change, if it existed.
    pub prev_kv: Option<KeyValue>,
}

/// A batch delivered by a watch stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchResponse {
    /// Events in revision order. Empty for a progress notification.
    pub events: Vec<Event>,
    /// The store revision this response is current to: every change up to this revision in the
    /// watched range has been delivered.
    pub revision: Revision,
}

/// A watch: an endless stream of responses; it ends only with an error or when the store closes.
pub type WatchStream = BoxStream<'static, Result<WatchResponse, Error>>;

/// Errors of the storage layer. All but `Compacted` and `FutureRevision` mean the store is not
/// healthy; callers report them as internal errors and may retry.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The requested revision has been compacted away.
    #[error("required revision {requested} has been compacted (compacted up to {compacted})")]
    Compacted {
        /// The revision asked for.
        requested: Revision,
        /// The store's compact revision.
        compacted: Revision,
    },
    /// The requested revision is newer than the store's current revision.
    #[error("required revision {requested} is a future revision (current {current})")]
    FutureRevision {
        /// The revision asked for.
        requested: Revision,
        /// The store's current revision.
        current: Revision,
    },
    /// A watcher fell too far behind and was dropped; re-watch from its last revision + 1.
    #[error("watcher fell behind and was dropped")]
    WatchLagged,
    /// I/O failure in the backend.
    #[error("storage i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The data on disk is not readable.
    #[error("storage data corrupt: {0}")]
    Corrupt(String),
    /// The store was closed.
    #[error("storage closed")]
    Closed,
    /// Any other backend error (for example from etcd).
    #[error("storage backend error: {0}")]
    Backend(String),
}

/// `Result` with the storage [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The revisioned key-value store contract (etcd v3 semantics, restricted to what the apiserver
/// uses).
#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Reads a key range, at the latest revision or at `req.revision`.
    /// Errors: `Compacted` if `req.revision` is not 0 and below the compact revision,
    /// `FutureRevision` if it is above the current revision.
    async fn range(&self, req: RangeRequest) -> Result<RangeResponse>;

    /// Atomically: if the key's mod revision equals `expected_mod_revision` (0 = the key must not
    /// exist), apply `op`; otherwise return the key's current state. Returns only once the write
    /// is durable.
    async fn txn(&self, key: &str, expected_mod_revision: Revision, op: TxnOp) -> Result<TxnResponse>;

    /// Watches every key starting with `prefix`, delivering every change with
    /// `mod_revision >= start_revision` in order (0 = changes after the current revision).
    /// A `start_revision` (other than 0) below the compact revision fails with `Compacted`
    /// (as the stream's first item or as the call's error).
    async fn watch(&self, prefix: &str, start_revision: Revision) -> Result<WatchStream>;

    /// The current (latest durable) revision.
    async fn current_revision(&self) -> Result<Revision>;

    /// Forgets history below `revision`: reads and watches at revisions `< revision` then fail
    /// with `Compacted`. Compacting at or below the current compact revision is a no-op.
    async fn compact(&self, revision: Revision) -> Result<()>;

    /// The revision below which history is gone (0 if nothing has been compacted).
    async fn compact_revision(&self) -> Result<Revision>;
}

/// One page of the whole key space as of `revision`: up to `limit` keys from `start` on (`""`:
/// from the first key), and where the next page starts (`None` after the last page). Paging at
/// one fixed revision reads a consistent state however long it takes, as long as that revision
/// is not compacted meanwhile (then `Compacted`).
pub async fn page_at(
    backend: &dyn Backend,
    revision: Revision,
    start: &str,
    limit: i64,
) -> Result<(Vec<KeyValue>, Option<String>)> {
    // keys are never empty: "\0" is below every one of them
    let start = if start.is_empty() { "\0".to_string() } else { start.to_string() };
    let page = backend.range(RangeRequest { start, end: prefix_end(""), revision, limit, count_only: false }).await?;
    let next = match (page.more, page.kvs.last()) {
        (true, Some(last)) => Some(format!("{}\0", last.key)),
        _ => None,
    };
    Ok((page.kvs, next))
}

/// The exclusive end key of the range of all keys that start with `prefix` (etcd's prefix end:
/// the prefix with its last character incremented; for ASCII, its last byte).
pub fn prefix_end(prefix: &str) -> String {
    // Incrementing the last *byte* (as etcd does) can produce invalid UTF-8 for a non-ASCII
    // prefix (e.g. "\u{bf}" ends in 0xbf); incrementing the last *character* gives the same
    // bound in UTF-8 (= code point) order and stays valid.
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{d7ff}' => Some('\u{e000}'),
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(n) = next {
            chars.push(n);
            return chars.into_iter().collect();
        }
    }
    // Empty, or all U+10FFFF: no upper bound a string can express; this is above every key that
    // does not itself start with U+10FFFF.
    "\u{10ffff}".to_string()
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn prefix_end_bounds_exactly_the_prefix() {
        assert_eq!(prefix_end("/registry/pods/"), "/registry/pods0");
        assert_eq!(prefix_end("a"), "b");
        // The old byte increment turned "\u{bf}" (c2 bf) into invalid UTF-8 ("\u{fffd}\u{fffd}"),
        // a bound that let keys starting with "\u{c0}" into the range.
        let end = prefix_end("x\u{bf}");
        assert_eq!(end, "x\u{c0}");
        for inside in ["x\u{bf}", "x\u{bf}\u{10ffff}", "x\u{bf}zz"] {
            assert!(inside < end.as_str(), "{inside:?}");
        }
        assert!("x\u{c0}" >= end.as_str());
        assert_eq!(prefix_end("a\u{d7ff}"), "a\u{e000}");
        assert_eq!(prefix_end("a\u{10ffff}"), "b");
        assert_eq!(prefix_end(""), "\u{10ffff}");
    }
}
