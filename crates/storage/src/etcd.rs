//! The etcd backend: [`EtcdStore`] fulfils the [`Backend`] contract over etcd's v3 gRPC API (the
//! `etcd-client` crate; TLS through rustls). Keys are used as they are, as upstream's apiserver
//! does with `/registry/...`.
//!
//! **Mapping.** Each contract call is one etcd request, plus the reads noted below:
//! - `range`: an etcd Range. A read at a past revision answers that revision (etcd's header
//!   carries the current one); `count_only` answers `more = false`, as the embedded store does.
//!   Inverted ranges and the empty key are answered empty (etcd would read an end key of `"\0"`
//!   as "every key from the start", and refuses an empty start key). etcd's "required revision
//!   has been compacted" / "is a future revision" become [`Error::Compacted`] /
//!   [`Error::FutureRevision`], completed with the compact or current revision.
//! - `txn`: one etcd Txn: `mod_revision(key) == expected` (etcd compares a missing key's mod
//!   revision as 0), then a Put or DeleteRange with `prev_kv`, else a Range of the key. A delete
//!   of a missing key whose compare holds succeeds without a revision, as in the embedded store.
//! - `watch`: one etcd watch per stream, over the whole key space, filtered to the prefix here.
//!   That is what makes progress exact: a write outside the prefix still tells the stream that
//!   the store moved on, so the stream reports progress (at most one response per
//!   [`EtcdOptions::progress_interval`]) just as the embedded store does. (etcd's own progress
//!   notifications come only every ten minutes by default, and on-demand progress requests are
//!   not ordered with events before etcd 3.4.24/3.5.8.) A response's revision is its last
//!   event's revision: etcd's header can run ahead of events still to come when a catching-up
//!   watcher's batch is cut. Start revision 0 becomes the current revision + 1 (one read); any
//!   other start is first checked with a read, so that a compacted start is the call's error as
//!   in the embedded store (a compaction after that check is the stream's first item). Dropping
//!   the stream cancels the etcd watch (the gRPC stream is reset).
//! - `compact`: an etcd Compact (not physical); "already compacted" is swallowed.
//! - `compact_revision`: etcd has no call for it. A read at revision `r` fails as compacted
//!   exactly when `r` is below the compact revision, so the revision is found by bisecting reads
//!   between the last known compact revision and the current revision (one read when nothing
//!   was compacted since the last answer). That also sees compactions made by other clients
//!   (`etcdctl compact`, another apiserver). A compaction racing the search can yield a value
//!   between the old and the new compact revision.
//!
//! **Differences from the embedded store** that etcd itself imposes: a delete exactly at the
//! compact revision is gone from the history (etcd's compaction drops tombstones at the compact
//! revision), so a watch from the compact revision does not see it; a watch event whose previous
//! state was compacted away before etcd sent it has no `prev_kv`; requests are limited to etcd's
//! `--max-request-bytes` (1.5 MiB by default). etcd cannot tell a compact revision of 1 from
//! none, so `compact_revision` answers 0 for it unless this client compacted at 1.
//!
//! Watching the whole key space needs read access to all of it where etcd's own authentication is
//! on (it is off in the usual client-certificate setups).
//!
//! **Failures** are [`Error::Backend`] naming the endpoints. Every request is bounded by
//! [`EtcdOptions::request_timeout`]. Reads and compactions (which may safely run twice) are
//! retried for a few seconds while no working member answers (no leader, leader changed,
//! connection refused or lost); a transaction is not (its answer may be lost after it happened).
//! HTTP/2 keep-alives end a watch stream with an error once its connection is dead; the caller
//! watches again from its last revision + 1.

#[cfg(feature = "testing")]
pub mod testing;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use etcd_client as ec;
use futures::StreamExt;
use tokio::time::Instant;

use crate::{
    Backend, Error, Event, EventType, KeyValue, RangeRequest, RangeResponse, Result, Revision, TxnOp, TxnResponse,
    WatchResponse, WatchStream,
};

/// The key read to learn the current revision and to probe revisions (it need not exist).
const PROBE_KEY: &str = "/";
/// How long requests that may run twice are retried while no member answers.
const RETRY_FOR: Duration = Duration::from_secs(5);
/// Largest gRPC message accepted from etcd (etcd's own default send limit is 2 GiB).
const MAX_MESSAGE: usize = i32::MAX as usize;

/// How to reach etcd.
#[derive(Clone, Debug)]
pub struct EtcdOptions {
    /// Client URLs of the members, `http://host:port` or `https://host:port` (all the same scheme).
    pub endpoints: Vec<String>,
    /// PEM CA bundle that signed the members' serving certificates (required for `https://`).
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate (with `key_file`), for etcd's `--client-cert-auth`.
    pub cert_file: Option<PathBuf>,
    /// PEM private key of `cert_file`.
    pub key_file: Option<PathBuf>,
    /// Longest wait for a TCP/TLS connection to a member (default 5 s).
    pub connect_timeout: Duration,
    /// Longest wait for the answer to one request (default 60 s).
    pub request_timeout: Duration,
    /// HTTP/2 keep-alive: a ping after this much silence, the connection is dead if no answer
    /// comes within as long again (default 10 s). etcd answers pings more frequent than its
    /// `--grpc-keepalive-min-time` (5 s by default) by closing the connection.
    pub keep_alive: Duration,
    /// Least time between two progress responses of one watch (default 100 ms).
    pub progress_interval: Duration,
}

impl Default for EtcdOptions {
    fn default() -> Self {
        EtcdOptions {
            endpoints: Vec::new(),
            ca_file: None,
            cert_file: None,
            key_file: None,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(60),
            keep_alive: Duration::from_secs(10),
            progress_interval: Duration::from_millis(100),
        }
    }
}

impl EtcdOptions {
    /// Options for these endpoints, everything else default.
    pub fn new(endpoints: impl IntoIterator<Item = impl Into<String>>) -> Self {
        EtcdOptions { endpoints: endpoints.into_iter().map(Into::into).collect(), ..Default::default() }
    }
}

/// The etcd [`Backend`]. Connect with [`EtcdStore::connect`].
pub struct EtcdStore {
    kv: ec::KvClient,
    watch: ec::WatchClient,
    /// The endpoints, for error messages.
    endpoints: Arc<str>,
    opts: EtcdOptions,
    /// A lower bound of etcd's compact revision (it only grows).
    known_compact: AtomicI64,
}

impl std::fmt::Debug for EtcdStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdStore").field("endpoints", &self.endpoints).finish_non_exhaustive()
    }
}

/// What an etcd error means for the contract.
enum Failure {
    Compacted,
    Future,
    Other(Error),
}

fn read_pem(what: &str, path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::Backend(format!("reading the etcd {what} {}: {e}", path.display())))
}

fn to_kv(kv: ec::KeyValue) -> KeyValue {
    let (create_revision, mod_revision, version) = (kv.create_revision(), kv.mod_revision(), kv.version());
    let (key, value) = kv.into_key_value();
    KeyValue { key: key_string(key), value: Bytes::from(value), create_revision, mod_revision, version }
}

fn to_kv_ref(kv: &ec::KeyValue) -> KeyValue {
    KeyValue {
        key: key_string(kv.key().to_vec()),
        value: Bytes::copy_from_slice(kv.value()),
        create_revision: kv.create_revision(),
        mod_revision: kv.mod_revision(),
        version: kv.version(),
    }
}

/// Keys this crate writes are UTF-8; anything else another client wrote is shown lossily.
fn key_string(key: Vec<u8>) -> String {
    String::from_utf8(key).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Whether a failure means the request reached no working member (worth another try).
fn transient(e: &ec::Error) -> bool {
    match e {
        ec::Error::GRpcStatus(s) => matches!(s.code(), tonic::Code::Unavailable | tonic::Code::Cancelled),
        ec::Error::TransportError(_) => true,
        _ => false,
    }
}

fn header_revision(h: Option<&ec::ResponseHeader>) -> Revision {
    h.map_or(0, ec::ResponseHeader::revision)
}

impl EtcdStore {
    /// Connects to etcd and checks that it answers (a read of the current revision).
    pub async fn connect(opts: EtcdOptions) -> Result<Arc<EtcdStore>> {
        if opts.endpoints.is_empty() {
            return Err(Error::Backend("no etcd endpoints given".into()));
        }
        let endpoints: Arc<str> = opts.endpoints.join(",").into();
        let https = opts.endpoints.iter().all(|e| e.starts_with("https://"));
        let http = opts.endpoints.iter().all(|e| e.starts_with("http://"));
        if !https && !http {
            return Err(Error::Backend(format!(
                "etcd endpoints {endpoints}: each must start with http:// or https://, all the same"
            )));
        }
        let mut copts = ec::ConnectOptions::new()
            .with_connect_timeout(opts.connect_timeout)
            .with_keep_alive(opts.keep_alive, opts.keep_alive)
            .with_require_leader(true);
        let client_pair = match (&opts.cert_file, &opts.key_file) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => return Err(Error::Backend("etcd client certificate and key must be given together".into())),
        };
        if https {
            let Some(ca) = &opts.ca_file else {
                return Err(Error::Backend(format!("etcd endpoints {endpoints} use https: a CA file is required")));
            };
            let mut tls = ec::TlsOptions::new().ca_certificate(ec::Certificate::from_pem(read_pem("CA file", ca)?));
            if let Some((c, k)) = client_pair {
                tls = tls
                    .identity(ec::Identity::from_pem(read_pem("client certificate", c)?, read_pem("client key", k)?));
            }
            copts = copts.with_tls(tls);
        } else if opts.ca_file.is_some() || client_pair.is_some() {
            return Err(Error::Backend(format!(
                "etcd endpoints {endpoints} use http: TLS files are only used with https endpoints"
            )));
        }
        let client = tokio::time::timeout(opts.request_timeout, ec::Client::connect(&opts.endpoints, Some(copts)))
            .await
            .map_err(|_| {
                Error::Backend(format!("etcd at {endpoints}: no connection within {:?}", opts.request_timeout))
            })?
            .map_err(|e| Error::Backend(format!("etcd at {endpoints}: {e}")))?;
        let store = EtcdStore {
            kv: client.kv_client().max_decoding_message_size(MAX_MESSAGE),
            watch: client.watch_client().max_decoding_message_size(MAX_MESSAGE),
            endpoints,
            opts,
            known_compact: AtomicI64::new(0),
        };
        store.current_revision().await.map_err(|e| match e {
            Error::Backend(msg) => Error::Backend(format!("cannot use {msg}")),
            other => other,
        })?;
        Ok(Arc::new(store))
    }

    /// The endpoints, comma-separated.
    pub fn endpoints(&self) -> &str {
        &self.endpoints
    }

    fn classify(&self, e: ec::Error) -> Failure {
        if let ec::Error::GRpcStatus(s) = &e {
            let msg = s.message();
            if msg.contains("required revision has been compacted") {
                return Failure::Compacted;
            }
            if msg.contains("required revision is a future revision") {
                return Failure::Future;
            }
        }
        Failure::Other(self.backend(e))
    }

    fn backend(&self, e: impl std::fmt::Display) -> Error {
        Error::Backend(format!("etcd at {}: {e}", self.endpoints))
    }

    /// Runs a request under the request timeout. With `retry` (for requests that may safely run
    /// twice: reads and compactions), failures that mean no working member answered (no leader,
    /// leader changed, connection refused or lost) are tried again for up to [`RETRY_FOR`].
    async fn call<T, Fut>(
        &self,
        retry: bool,
        mut request: impl FnMut(ec::KvClient) -> Fut,
    ) -> std::result::Result<T, Failure>
    where
        Fut: Future<Output = std::result::Result<T, ec::Error>>,
    {
        let start = Instant::now();
        let deadline = start + self.opts.request_timeout;
        let retry_until = start + RETRY_FOR.min(self.opts.request_timeout);
        let mut pause = Duration::from_millis(20);
        loop {
            match tokio::time::timeout_at(deadline, request(self.kv.clone())).await {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) if retry && transient(&e) && Instant::now() + pause < retry_until => {
                    tracing::debug!(endpoints = %self.endpoints, error = %e, "etcd request failed; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(500));
                }
                Ok(Err(e)) => return Err(self.classify(e)),
                Err(_) => {
                    let e = self.backend(format!("no answer within {:?}", self.opts.request_timeout));
                    return Err(Failure::Other(e));
                }
            }
        }
    }

    /// A count-only read of the probe key at `revision` (0 = latest); its header revision.
    async fn probe(&self, revision: Revision) -> std::result::Result<Revision, Failure> {
        let mut o = ec::GetOptions::new().with_count_only();
        if revision > 0 {
            o = o.with_revision(revision);
        }
        let resp = self
            .call(true, |mut kv| {
                let o = o.clone();
                async move { kv.get(PROBE_KEY, Some(o)).await }
            })
            .await?;
        Ok(header_revision(resp.header()))
    }

    /// Turns a revision failure of a request for `requested` into the contract's error.
    async fn revision_error(&self, f: Failure, requested: Revision) -> Error {
        match f {
            Failure::Compacted => match self.compact_revision().await {
                Ok(compacted) => Error::Compacted { requested, compacted },
                Err(e) => e,
            },
            Failure::Future => match self.current_revision().await {
                Ok(current) => Error::FutureRevision { requested, current },
                Err(e) => e,
            },
            Failure::Other(e) => e,
        }
    }

    /// Whether a read at `revision` (> 0, not above the current revision) is still possible.
    async fn readable(&self, revision: Revision) -> Result<bool> {
        match self.probe(revision).await {
            Ok(_) => Ok(true),
            Err(Failure::Compacted) => Ok(false),
            Err(Failure::Future) => Err(self.backend(format!("revision {revision} became a future revision"))),
            Err(Failure::Other(e)) => Err(e),
        }
    }
}

#[async_trait::async_trait]
impl Backend for EtcdStore {
    async fn range(&self, req: RangeRequest) -> Result<RangeResponse> {
        // etcd refuses an empty key; "" and "\0" start the same ranges (no key is empty).
        let start = if req.start.is_empty() { "\0" } else { req.start.as_str() };
        let empty = if req.end.is_empty() { req.start.is_empty() } else { req.end.as_str() <= start };
        if empty {
            // Still answer revision errors and the revision as a real read would.
            return match self.probe(req.revision).await {
                Ok(rev) => Ok(RangeResponse {
                    revision: if req.revision > 0 { req.revision } else { rev },
                    ..Default::default()
                }),
                Err(f) => Err(self.revision_error(f, req.revision).await),
            };
        }
        let mut o = ec::GetOptions::new();
        if !req.end.is_empty() {
            o = o.with_range(req.end.as_str());
        }
        if req.revision > 0 {
            o = o.with_revision(req.revision);
        }
        if req.limit > 0 {
            o = o.with_limit(req.limit);
        }
        if req.count_only {
            o = o.with_count_only();
        }
        let mut resp = match self
            .call(true, |mut kv| {
                let o = o.clone();
                async move { kv.get(start, Some(o)).await }
            })
            .await
        {
            Ok(r) => r,
            Err(f) => return Err(self.revision_error(f, req.revision).await),
        };
        let revision = if req.revision > 0 { req.revision } else { header_revision(resp.header()) };
        let (more, count) = (resp.more(), resp.count());
        if req.count_only {
            return Ok(RangeResponse { kvs: Vec::new(), more: false, count, revision });
        }
        let kvs = resp.take_kvs().into_iter().map(to_kv).collect();
        Ok(RangeResponse { kvs, more, count, revision })
    }

    async fn txn(&self, key: &str, expected_mod_revision: Revision, op: TxnOp) -> Result<TxnResponse> {
        if key.is_empty() {
            return Err(Error::Backend("empty key".into()));
        }
        let compare = ec::Compare::mod_revision(key, ec::CompareOp::Equal, expected_mod_revision);
        let (write, value) = match op {
            TxnOp::Put(v) => (ec::TxnOp::put(key, v.to_vec(), Some(ec::PutOptions::new().with_prev_key())), Some(v)),
            TxnOp::Delete => (ec::TxnOp::delete(key, Some(ec::DeleteOptions::new().with_prev_key())), None),
        };
        let txn = ec::Txn::new().when([compare]).and_then([write]).or_else([ec::TxnOp::get(key, None)]);
        // Not retried: a write whose answer was lost may have happened.
        let resp = self
            .call(false, |mut kv| {
                let txn = txn.clone();
                async move { kv.txn(txn).await }
            })
            .await
            .map_err(|f| match f {
                Failure::Other(e) => e,
                _ => self.backend("unexpected revision error from a transaction"),
            })?;
        let revision = header_revision(resp.header());
        let answer = resp.op_responses().into_iter().next();
        let kv = match (resp.succeeded(), answer, value) {
            (true, Some(ec::TxnOpResponse::Put(p)), Some(value)) => {
                let prev = p.prev_key();
                Some(KeyValue {
                    key: key.to_string(),
                    value,
                    create_revision: prev.map_or(revision, ec::KeyValue::create_revision),
                    mod_revision: revision,
                    version: prev.map_or(1, |p| p.version() + 1),
                })
            }
            (true, Some(ec::TxnOpResponse::Delete(mut d)), None) => d.take_prev_kvs().into_iter().next().map(to_kv),
            (false, Some(ec::TxnOpResponse::Get(mut g)), _) => g.take_kvs().into_iter().next().map(to_kv),
            (succeeded, other, _) => {
                return Err(self.backend(format!(
                    "unexpected transaction answer (succeeded: {succeeded}, response: {})",
                    match other {
                        None => "none",
                        Some(ec::TxnOpResponse::Put(_)) => "put",
                        Some(ec::TxnOpResponse::Get(_)) => "range",
                        Some(ec::TxnOpResponse::Delete(_)) => "delete",
                        Some(ec::TxnOpResponse::Txn(_)) => "txn",
                    }
                )));
            }
        };
        Ok(TxnResponse { succeeded: resp.succeeded(), revision, kv })
    }

    async fn watch(&self, prefix: &str, start_revision: Revision) -> Result<WatchStream> {
        let start = if start_revision <= 0 {
            self.current_revision().await? + 1
        } else {
            // Answer a compacted start here, as the embedded store does (a compaction after this
            // check still arrives as the stream's first item).
            match self.probe(start_revision).await {
                Ok(_) | Err(Failure::Future) => start_revision,
                Err(f) => return Err(self.revision_error(f, start_revision).await),
            }
        };
        let o =
            ec::WatchOptions::new().with_all_keys().with_start_revision(start).with_prev_key().with_progress_notify();
        let stream = match tokio::time::timeout(self.opts.request_timeout, self.watch.clone().watch("", Some(o))).await
        {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(self.backend(e)),
            Err(_) => return Err(self.backend(format!("no watch within {:?}", self.opts.request_timeout))),
        };
        let w = EtcdWatch {
            stream,
            prefix: prefix.as_bytes().to_vec(),
            next: start,
            pending: None,
            last_sent: None,
            interval: self.opts.progress_interval,
            endpoints: self.endpoints.clone(),
            done: false,
        };
        Ok(futures::stream::unfold(w, |mut w| async move {
            let item = w.next_item().await?;
            Some((item, w))
        })
        .boxed())
    }

    async fn current_revision(&self) -> Result<Revision> {
        self.probe(0).await.map_err(|f| match f {
            Failure::Other(e) => e,
            _ => self.backend("unexpected revision error from a read at the latest revision"),
        })
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        if revision <= 0 {
            return Ok(());
        }
        match self.call(true, |mut kv| async move { kv.compact(revision, None).await }).await {
            // After either, etcd's compact revision is at least `revision`.
            Ok(_) | Err(Failure::Compacted) => {
                self.known_compact.fetch_max(revision, Ordering::AcqRel);
                Ok(())
            }
            Err(f) => Err(self.revision_error(f, revision).await),
        }
    }

    async fn compact_revision(&self) -> Result<Revision> {
        // A read at r fails as compacted exactly when r < the compact revision, which only grows.
        let known = self.known_compact.load(Ordering::Acquire);
        let low = known.max(1);
        let current = self.current_revision().await?;
        if low >= current || self.readable(low).await? {
            return Ok(known);
        }
        // unreadable(bad), readable(good): the compact revision is in (bad, good].
        let (mut bad, mut good) = (low, current);
        while good - bad > 1 {
            let mid = bad + (good - bad) / 2;
            if self.readable(mid).await? {
                good = mid;
            } else {
                bad = mid;
            }
        }
        self.known_compact.fetch_max(good, Ordering::AcqRel);
        Ok(good)
    }
}

/// The state of one watch stream.
struct EtcdWatch {
    /// Owns the gRPC stream: dropping it resets the stream, which ends the watch in etcd.
    stream: ec::WatchStream,
    prefix: Vec<u8>,
    /// The next revision to deliver.
    next: Revision,
    /// A revision to report as progress (no events in the prefix up to it).
    pending: Option<Revision>,
    /// When the last response went out.
    last_sent: Option<Instant>,
    interval: Duration,
    endpoints: Arc<str>,
    done: bool,
}

impl EtcdWatch {
    fn fail(&mut self, e: Error) -> Option<Result<WatchResponse>> {
        self.done = true;
        Some(Err(e))
    }

    async fn next_item(&mut self) -> Option<Result<WatchResponse>> {
        if self.done {
            return None;
        }
        loop {
            let due = self.pending.map(|_| match self.last_sent {
                None => Instant::now(),
                Some(t) => {
                    t.checked_add(self.interval).unwrap_or_else(|| Instant::now() + Duration::from_secs(1 << 30))
                }
            });
            if let (Some(rev), Some(due)) = (self.pending, due)
                && Instant::now() >= due
            {
                self.pending = None;
                self.last_sent = Some(Instant::now());
                return Some(Ok(WatchResponse { events: Vec::new(), revision: rev }));
            }
            let msg = match due {
                Some(due) => tokio::select! {
                    m = self.stream.message() => m,
                    _ = tokio::time::sleep_until(due) => continue,
                },
                None => self.stream.message().await,
            };
            let resp = match msg {
                Ok(Some(r)) => r,
                Ok(None) => {
                    let e = Error::Backend(format!("etcd at {}: the watch stream ended", self.endpoints));
                    return self.fail(e);
                }
                Err(e) => return self.fail(Error::Backend(format!("etcd at {}: watch: {e}", self.endpoints))),
            };
            if resp.compact_revision() != 0 {
                let e = Error::Compacted { requested: self.next, compacted: resp.compact_revision() };
                return self.fail(e);
            }
            if resp.canceled() {
                let e = Error::Backend(format!("etcd at {}: watch canceled: {}", self.endpoints, resp.cancel_reason()));
                return self.fail(e);
            }
            if resp.created() {
                // Its header is etcd's revision when the watch was made, not a promise that
                // everything up to it was delivered.
                continue;
            }
            let events = resp.events();
            let Some(last) = events.last().and_then(|e| e.kv()).map(ec::KeyValue::mod_revision) else {
                // A progress notification (etcd sends these only for a caught-up watcher).
                let rev = header_revision(resp.header());
                if rev >= self.next {
                    self.next = rev + 1;
                    self.pending = Some(rev);
                }
                continue;
            };
            let mut out = Vec::new();
            for e in events {
                let Some(kv) = e.kv() else { continue };
                if !kv.key().starts_with(&self.prefix) {
                    continue;
                }
                let kind = match e.event_type() {
                    ec::EventType::Put => EventType::Put,
                    ec::EventType::Delete => EventType::Delete,
                };
                out.push(Event { kind, kv: to_kv_ref(kv), prev_kv: e.prev_kv().map(to_kv_ref) });
            }
            self.next = self.next.max(last + 1);
            if out.is_empty() {
                self.pending = Some(last);
                continue;
            }
            self.pending = None;
            self.last_sent = Some(Instant::now());
            return Some(Ok(WatchResponse { events: out, revision: last }));
        }
    }
}
