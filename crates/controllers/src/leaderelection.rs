//! Leader election on a `coordination.k8s.io/v1` Lease, with client-go's semantics
//! (`tools/leaderelection` and its `LeaseLock`).
//!
//! A candidate only trusts its own clock. It never compares the Lease's `renewTime` with local
//! time: it remembers when it last saw the election record *change* (client-go's
//! `observedTime`) and considers the lease expired once it has not changed for
//! `leaseDurationSeconds` by its own monotonic clock. Writes use optimistic concurrency (the
//! `resourceVersion` of the object last read or written; a 409 means someone else won).
//!
//! - acquiring: try at once, then every `retry_period` with client-go's jitter (factor 1.2),
//!   until the lease is free (no holder, or expired as observed) or already ours;
//! - leading: renew every `retry_period`; when a renewal has not succeeded within
//!   `renew_deadline`, leadership is lost;
//! - releasing (`release_on_cancel`): the holder writes an empty `holderIdentity` and
//!   `leaseDurationSeconds: 1`, so the others take over on their next try.
//!
//! `leaseTransitions` grows by one whenever a candidate takes the lease from another holder (or
//! from the released, empty holder); `acquireTime` is the start of the current holder's term and
//! `renewTime` its last renewal.
//!
//! [`LeaderElector::run`] is the server's loop: wait to acquire, run the guarded work while
//! leading, abort it when leadership is lost, go back to waiting; on shutdown stop the work and
//! release the lease. As upstream says, this is not fencing: a partitioned former leader may act
//! for up to `renew_deadline` after its last renewal, which is why `lease_duration` must exceed
//! it.
//!
//! ```no_run
//! use controllers::leaderelection::{default_identity, LeaderElector, LeaseLock, Timing};
//! # async fn f(client: kube::Client, shutdown: tokio::sync::oneshot::Receiver<()>) {
//! let lock = LeaseLock { namespace: "kube-system".into(), name: "kube-controller-manager".into(), identity: default_identity("host") };
//! let elector = LeaderElector::new(client.clone(), lock, Timing::default()).unwrap().release_on_cancel(true);
//! let leadership = elector.leadership(); // for health checks, metrics, tests
//! elector
//!     .run(async { let _ = shutdown.await; }, move || {
//!         let client = client.clone();
//!         async move {
//!             // the guarded work: everything inside this future stops when leadership is lost
//!             let mut set = tokio::task::JoinSet::new();
//!             set.spawn(controllers::namespace::run(client.clone()));
//!             set.spawn(controllers::tokencleaner::run(client));
//!             while set.join_next().await.is_some() {}
//!         }
//!     })
//!     .await;
//! # }
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, ObjectMeta, PostParams};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// client-go's `JitterFactor`: a waiting candidate retries after `retry_period * (1 + 1.2 * r)`,
/// `r` uniform in [0, 1).
pub const JITTER_FACTOR: f64 = 1.2;

/// The Lease that is the lock, and who we are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseLock {
    /// Namespace of the Lease (kube-system for the control plane's components).
    pub namespace: String,
    /// Name of the Lease (e.g. `kube-controller-manager`).
    pub name: String,
    /// This candidate's identity, written as `holderIdentity` (see [`default_identity`]).
    pub identity: String,
}

impl LeaseLock {
    /// `namespace/name`, as client-go's `Describe`.
    pub fn describe(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// The three durations of an election (client-go's `LeaseDuration`, `RenewDeadline`,
/// `RetryPeriod`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// How long non-leaders wait, without seeing the record change, before taking over.
    pub lease_duration: Duration,
    /// How long the leader keeps retrying a failing renewal before giving up leadership.
    pub renew_deadline: Duration,
    /// The pause between tries.
    pub retry_period: Duration,
}

impl Default for Timing {
    /// The core components' defaults: 15 s, 10 s, 2 s.
    fn default() -> Self {
        Timing { lease_duration: Duration::from_secs(15), renew_deadline: Duration::from_secs(10), retry_period: Duration::from_secs(2) }
    }
}

impl Timing {
    /// client-go's checks of a `LeaderElectionConfig`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.lease_duration <= self.renew_deadline {
            return Err(ConfigError::LeaseNotLongerThanRenew);
        }
        if self.renew_deadline <= self.retry_period.mul_f64(JITTER_FACTOR) {
            return Err(ConfigError::RenewNotLongerThanRetry);
        }
        if self.lease_duration.is_zero() {
            return Err(ConfigError::Zero("leaseDuration"));
        }
        if self.renew_deadline.is_zero() {
            return Err(ConfigError::Zero("renewDeadline"));
        }
        if self.retry_period.is_zero() {
            return Err(ConfigError::Zero("retryPeriod"));
        }
        Ok(())
    }

    /// `leaseDurationSeconds` as written to the Lease: whole seconds (as client-go truncates),
    /// at least 1 (the API rejects 0).
    pub fn lease_duration_seconds(&self) -> i32 {
        i32::try_from(self.lease_duration.as_secs()).unwrap_or(i32::MAX).max(1)
    }
}

/// A configuration client-go would refuse (its messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `lease_duration <= renew_deadline`.
    #[error("leaseDuration must be greater than renewDeadline")]
    LeaseNotLongerThanRenew,
    /// `renew_deadline <= retry_period * 1.2`.
    #[error("renewDeadline must be greater than retryPeriod*JitterFactor")]
    RenewNotLongerThanRetry,
    /// A zero duration.
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    /// An empty identity.
    #[error("Lock identity is empty")]
    EmptyIdentity,
}

/// An identity unique to this process: `hostname_uuid`, as the core components build theirs.
pub fn default_identity(hostname: &str) -> String {
    format!("{hostname}_{}", uuid::Uuid::new_v4())
}

/// The election record held in a Lease's spec (client-go's `LeaderElectionRecord`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// The holder; empty when released.
    pub holder_identity: String,
    /// How long others must wait without seeing a change before taking over.
    pub lease_duration_seconds: i32,
    /// Start of the current holder's term.
    pub acquire_time: Option<Timestamp>,
    /// Last renewal.
    pub renew_time: Option<Timestamp>,
    /// How many times the lease changed hands.
    pub lease_transitions: i32,
}

impl Record {
    /// The record of a Lease's spec (missing fields are empty/zero).
    pub fn from_spec(spec: Option<&LeaseSpec>) -> Record {
        let Some(s) = spec else { return Record::default() };
        Record {
            holder_identity: s.holder_identity.clone().unwrap_or_default(),
            lease_duration_seconds: s.lease_duration_seconds.unwrap_or(0),
            acquire_time: s.acquire_time.as_ref().map(|t| t.0),
            renew_time: s.renew_time.as_ref().map(|t| t.0),
            lease_transitions: s.lease_transitions.unwrap_or(0),
        }
    }

    /// Writes the record into a Lease spec, keeping the spec's other fields.
    pub fn apply_to(&self, spec: &mut LeaseSpec) {
        spec.holder_identity = Some(self.holder_identity.clone());
        spec.lease_duration_seconds = Some(self.lease_duration_seconds);
        spec.acquire_time = self.acquire_time.map(MicroTime);
        spec.renew_time = self.renew_time.map(MicroTime);
        spec.lease_transitions = Some(self.lease_transitions);
    }
}

/// A record and when this candidate first saw it (client-go's `observedRecord` and
/// `observedTime`), on the local monotonic clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    /// The record last seen.
    pub record: Record,
    /// When it was first seen unchanged.
    pub observed_at: Instant,
}

impl Observation {
    /// Whether the lease is still valid by our clock: the record has changed within its
    /// `leaseDurationSeconds` (client-go's `isLeaseValid`).
    pub fn is_valid(&self, now: Instant) -> bool {
        let secs = u64::try_from(self.record.lease_duration_seconds).unwrap_or(0);
        self.observed_at + Duration::from_secs(secs) > now
    }

    /// How long until the lease expires by our clock (zero if it has).
    pub fn expires_in(&self, now: Instant) -> Duration {
        let secs = u64::try_from(self.record.lease_duration_seconds).unwrap_or(0);
        (self.observed_at + Duration::from_secs(secs)).saturating_duration_since(now)
    }
}

/// Folds a freshly read record into the previous observation: the observed time moves only
/// when the record changed. A holder that keeps renewing keeps changing `renewTime`; one that
/// stopped leaves the record still, and its lease expires `leaseDurationSeconds` after we first
/// saw that last record — whatever the timestamps inside say.
pub fn observe(previous: Option<&Observation>, fetched: Record, now: Instant) -> Observation {
    match previous {
        Some(p) if p.record == fetched => p.clone(),
        _ => Observation { record: fetched, observed_at: now },
    }
}

/// What a candidate does after reading the lock (client-go's `tryAcquireOrRenew` decision).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// There is no Lease: create it, holding it.
    Create(Record),
    /// Write this record over the one read (a renewal of our own term, or a takeover).
    Update(Record),
    /// Another candidate holds a lease that has not expired by our clock.
    Wait {
        /// The holder.
        holder: String,
        /// Time left by our clock.
        expires_in: Duration,
    },
}

/// The decision of candidate `me` given the current observation of the lock (`None`: no
/// Lease), the monotonic `now` and the wall-clock `wall` written as `acquireTime`/`renewTime`.
pub fn decide(current: Option<&Observation>, now: Instant, wall: Timestamp, me: &str, lease_duration_seconds: i32) -> Decision {
    let Some(obs) = current else {
        return Decision::Create(Record {
            holder_identity: me.to_string(),
            lease_duration_seconds,
            acquire_time: Some(wall),
            renew_time: Some(wall),
            lease_transitions: 0,
        });
    };
    let held = &obs.record;
    if !held.holder_identity.is_empty() && held.holder_identity != me && obs.is_valid(now) {
        return Decision::Wait { holder: held.holder_identity.clone(), expires_in: obs.expires_in(now) };
    }
    if held.holder_identity == me {
        Decision::Update(renewal(held, me, lease_duration_seconds, wall))
    } else {
        Decision::Update(Record {
            holder_identity: me.to_string(),
            lease_duration_seconds,
            acquire_time: Some(wall),
            renew_time: Some(wall),
            lease_transitions: held.lease_transitions.saturating_add(1),
        })
    }
}

/// The record renewing our own term: same `acquireTime` and transitions, new `renewTime`.
pub fn renewal(held: &Record, me: &str, lease_duration_seconds: i32, wall: Timestamp) -> Record {
    Record {
        holder_identity: me.to_string(),
        lease_duration_seconds,
        acquire_time: held.acquire_time,
        renew_time: Some(wall),
        lease_transitions: held.lease_transitions,
    }
}

/// The record releasing our term (client-go's `release`): no holder, a 1-second lease,
/// transitions kept.
pub fn release_record(held: &Record, wall: Timestamp) -> Record {
    Record {
        holder_identity: String::new(),
        lease_duration_seconds: 1,
        acquire_time: Some(wall),
        renew_time: Some(wall),
        lease_transitions: held.lease_transitions,
    }
}

/// Whether the leader may renew optimistically, writing over the object it wrote last without
/// reading it first (client-go's fast path): we hold the lease and it is valid by our clock.
pub fn may_renew_optimistically(observed: Option<&Observation>, now: Instant, me: &str) -> bool {
    observed.is_some_and(|o| o.record.holder_identity == me && o.is_valid(now))
}

/// A retry pause with client-go's jitter: `period * (1 + JITTER_FACTOR * r)`, `r` in [0, 1).
pub fn jittered(period: Duration) -> Duration {
    jitter(period, rand::random::<f64>())
}

fn jitter(period: Duration, r: f64) -> Duration {
    period + period.mul_f64(JITTER_FACTOR * r.clamp(0.0, 1.0))
}

/// The wall clock at microsecond precision (what a MicroTime keeps), so the record we write
/// compares equal to the one we read back.
fn now_micros() -> Timestamp {
    let now = Timestamp::now();
    Timestamp::from_microsecond(now.as_microsecond()).unwrap_or(now)
}

/// What observers see of an elector.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// True from a successful acquisition until leadership is lost or given up: while the
    /// guarded work runs.
    pub leading: bool,
    /// The holder last observed in the Lease (client-go's `GetLeader`); empty if none yet.
    pub leader: String,
}

/// A cloneable view of an elector's status, valid after the elector moved into its task.
#[derive(Clone, Debug)]
pub struct Leadership {
    rx: watch::Receiver<Status>,
    identity: Arc<str>,
}

impl Leadership {
    /// Whether the elector is leading now.
    pub fn is_leader(&self) -> bool {
        self.rx.borrow().leading
    }

    /// The holder last observed (empty if none yet).
    pub fn leader(&self) -> String {
        self.rx.borrow().leader.clone()
    }

    /// The elector's identity.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The current status.
    pub fn status(&self) -> Status {
        self.rx.borrow().clone()
    }

    /// A receiver notified on every change of the status.
    pub fn subscribe(&self) -> watch::Receiver<Status> {
        self.rx.clone()
    }

    /// Waits until the elector leads (at once if it does). Returns false if the elector is gone.
    pub async fn wait_leading(&self) -> bool {
        let mut rx = self.rx.clone();
        rx.wait_for(|s| s.leading).await.is_ok()
    }
}

/// Aborts a task when dropped, so the guarded work stops even when the elector's own future is
/// dropped (its task aborted).
struct AbortOnDrop(Option<JoinHandle<()>>);

impl AbortOnDrop {
    /// Aborts the task and waits for it to end; cancellation is the normal end.
    async fn stop(mut self) -> Result<(), tokio::task::JoinError> {
        let Some(handle) = self.0.take() else { return Ok(()) };
        handle.abort();
        match handle.await {
            Err(e) if e.is_cancelled() => Ok(()),
            other => other,
        }
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.abort();
        }
    }
}

/// A leader election client on one Lease.
pub struct LeaderElector {
    api: Api<Lease>,
    lock: LeaseLock,
    timing: Timing,
    release_on_cancel: bool,
    /// The record last seen or written, and when.
    observed: Option<Observation>,
    /// The Lease object last read or written: its resourceVersion guards our next write.
    lease: Option<Lease>,
    status: watch::Sender<Status>,
}

impl LeaderElector {
    /// An elector for `lock` with `timing` (checked as client-go checks it).
    pub fn new(client: kube::Client, lock: LeaseLock, timing: Timing) -> Result<LeaderElector, ConfigError> {
        timing.validate()?;
        if lock.identity.is_empty() {
            return Err(ConfigError::EmptyIdentity);
        }
        Ok(LeaderElector {
            api: Api::namespaced(client, &lock.namespace),
            lock,
            timing,
            release_on_cancel: false,
            observed: None,
            lease: None,
            status: watch::Sender::new(Status::default()),
        })
    }

    /// Whether to release the lease when [`run`](Self::run) is shut down (client-go's
    /// `ReleaseOnCancel`), after the guarded work has been stopped.
    pub fn release_on_cancel(mut self, release: bool) -> LeaderElector {
        self.release_on_cancel = release;
        self
    }

    /// A view of the status for observers.
    pub fn leadership(&self) -> Leadership {
        Leadership { rx: self.status.subscribe(), identity: self.lock.identity.as_str().into() }
    }

    /// Whether this elector is leading now.
    pub fn is_leader(&self) -> bool {
        self.status.borrow().leading
    }

    /// The holder last observed (client-go's `GetLeader`).
    pub fn leader(&self) -> String {
        self.status.borrow().leader.clone()
    }

    /// The lock.
    pub fn lock(&self) -> &LeaseLock {
        &self.lock
    }

    /// The timing.
    pub fn timing(&self) -> Timing {
        self.timing
    }

    /// Whether the last observed holder is us (client-go's `IsLeader`, used for decisions).
    fn holds(&self) -> bool {
        self.observed.as_ref().is_some_and(|o| o.record.holder_identity == self.lock.identity)
    }

    fn set_observed(&mut self, observation: Observation) {
        let holder = observation.record.holder_identity.clone();
        self.observed = Some(observation);
        let changed = self.status.send_if_modified(|s| {
            if s.leader == holder {
                return false;
            }
            s.leader = holder.clone();
            true
        });
        if changed && !holder.is_empty() {
            tracing::info!(lease = %self.lock.describe(), leader = %holder, "new leader observed");
        }
    }

    fn set_leading(&self, leading: bool) {
        self.status.send_if_modified(|s| {
            let changed = s.leading != leading;
            s.leading = leading;
            changed
        });
    }

    /// Writes `record` over `base` (optimistic concurrency on its resourceVersion).
    async fn write(&self, base: &Lease, record: &Record) -> Result<Lease, kube::Error> {
        let mut lease = base.clone();
        record.apply_to(lease.spec.get_or_insert_with(Default::default));
        self.api.replace(&self.lock.name, &PostParams::default(), &lease).await
    }

    /// One try to acquire or renew (client-go's `tryAcquireOrRenew`); true if we hold the lease.
    pub async fn try_acquire_or_renew(&mut self) -> bool {
        let me = self.lock.identity.clone();
        let seconds = self.timing.lease_duration_seconds();

        // 1. fast path: the leader renews over the object it wrote last
        if may_renew_optimistically(self.observed.as_ref(), Instant::now(), &me)
            && let (Some(obs), Some(base)) = (self.observed.as_ref(), self.lease.as_ref())
        {
            let record = renewal(&obs.record, &me, seconds, now_micros());
            match self.write(base, &record).await {
                Ok(written) => {
                    self.lease = Some(written);
                    self.set_observed(Observation { record, observed_at: Instant::now() });
                    return true;
                }
                Err(e) => tracing::info!(lease = %self.lock.describe(), "Failed to update lock optimistically: {e}, falling back to slow path"),
            }
        }

        // 2. read (or create) the lock
        let current = match self.api.get_opt(&self.lock.name).await {
            Ok(current) => current,
            Err(e) => {
                tracing::warn!("error retrieving resource lock {}: {e}", self.lock.describe());
                return false;
            }
        };
        let now = Instant::now();
        let Some(current) = current else {
            let (Decision::Create(record) | Decision::Update(record)) = decide(None, now, now_micros(), &me, seconds) else { return false };
            let mut lease = Lease {
                metadata: ObjectMeta { name: Some(self.lock.name.clone()), namespace: Some(self.lock.namespace.clone()), ..Default::default() },
                spec: Some(LeaseSpec::default()),
            };
            record.apply_to(lease.spec.get_or_insert_with(Default::default));
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(created) => {
                    self.lease = Some(created);
                    self.set_observed(Observation { record, observed_at: Instant::now() });
                    true
                }
                Err(e) => {
                    tracing::info!("error initially creating leader election record: {e}");
                    false
                }
            };
        };

        // 3. observe the record: its observed time moves only when it changed
        let observation = observe(self.observed.as_ref(), Record::from_spec(current.spec.as_ref()), now);
        self.set_observed(observation);
        self.lease = Some(current);

        // 4. take it, renew it, or wait
        match decide(self.observed.as_ref(), now, now_micros(), &me, seconds) {
            Decision::Wait { holder, expires_in } => {
                tracing::debug!(lease = %self.lock.describe(), ?expires_in, "lock is held by {holder} and has not yet expired");
                false
            }
            Decision::Update(record) | Decision::Create(record) => {
                let Some(base) = self.lease.as_ref() else { return false };
                match self.write(base, &record).await {
                    Ok(written) => {
                        self.lease = Some(written);
                        self.set_observed(Observation { record, observed_at: Instant::now() });
                        true
                    }
                    Err(e) => {
                        tracing::info!(lease = %self.lock.describe(), "Failed to update lock: {e}");
                        false
                    }
                }
            }
        }
    }

    /// Tries until the lease is ours: at once, then after jittered retry periods (client-go's
    /// `acquire`). Cancel by dropping the future.
    pub async fn acquire(&mut self) {
        let desc = self.lock.describe();
        tracing::info!("attempting to acquire leader lease {desc}...");
        loop {
            // a hung request must not stall the candidate: bound each try
            let acquired = tokio::time::timeout(self.timing.renew_deadline, self.try_acquire_or_renew()).await.unwrap_or(false);
            if acquired {
                tracing::info!("successfully acquired lease {desc}");
                self.set_leading(true);
                return;
            }
            tracing::trace!("failed to acquire lease {desc}");
            tokio::time::sleep(jittered(self.timing.retry_period)).await;
        }
    }

    /// Keeps renewing every retry period; returns when a renewal has not succeeded within the
    /// renew deadline — leadership is lost (client-go's `renew`). Cancel by dropping the future.
    pub async fn renew(&mut self) {
        let desc = self.lock.describe();
        let (deadline, retry) = (self.timing.renew_deadline, self.timing.retry_period);
        loop {
            let renewed = tokio::time::timeout(deadline, async {
                while !self.try_acquire_or_renew().await {
                    tokio::time::sleep(retry).await;
                }
            })
            .await
            .is_ok();
            if !renewed {
                tracing::warn!("failed to renew lease {desc}: timed out waiting for the condition");
                self.set_leading(false);
                return;
            }
            tracing::trace!("successfully renewed lease {desc}");
            tokio::time::sleep(retry).await;
        }
    }

    /// Gives the lease up if we hold it (client-go's `release`): an empty holder and a
    /// 1-second lease, so the others take over on their next try. A conflicting write is
    /// retried once over a fresh read, and only while that read still shows us as the holder.
    /// Returns whether the lease is not ours any more.
    pub async fn release(&mut self) -> bool {
        self.set_leading(false);
        if !self.holds() {
            return true;
        }
        let deadline = self.timing.renew_deadline;
        let released = tokio::time::timeout(deadline, async {
            let mut base = self.lease.clone();
            for _ in 0..2 {
                let (Some(b), Some(obs)) = (base.as_ref(), self.observed.as_ref()) else { break };
                let record = release_record(&obs.record, now_micros());
                match self.write(b, &record).await {
                    Ok(written) => {
                        self.lease = Some(written);
                        self.set_observed(Observation { record, observed_at: Instant::now() });
                        return true;
                    }
                    Err(kube::Error::Api(e)) if e.code == 409 => {
                        // our last write may have landed unseen: look again
                        match self.api.get_opt(&self.lock.name).await {
                            Ok(Some(fresh)) => {
                                let observation = observe(self.observed.as_ref(), Record::from_spec(fresh.spec.as_ref()), Instant::now());
                                self.set_observed(observation);
                                if !self.holds() {
                                    return true;
                                }
                                base = Some(fresh);
                            }
                            Ok(None) => return true,
                            Err(e) => {
                                tracing::error!("Failed to release lock: {e}");
                                return false;
                            }
                        }
                    }
                    Err(e) => {
                        tracing::error!("Failed to release lock: {e}");
                        return false;
                    }
                }
            }
            false
        })
        .await
        .unwrap_or(false);
        if released {
            tracing::info!("released lease {}", self.lock.describe());
        }
        released
    }

    /// The election loop of a component: wait to acquire; while leading run `on_leading()` in
    /// its own task; when leadership is lost abort that task, wait for it to end, and go back
    /// to waiting. When `shutdown` completes: abort the work, wait for it to end, release the
    /// lease if [`release_on_cancel`](Self::release_on_cancel) is set, return.
    ///
    /// The work is aborted as a task: whatever it spawned with `tokio::spawn` keeps running, so
    /// it should run its parts inside its own future (`join!`, `join_all`) or own them in a
    /// `tokio::task::JoinSet`, which aborts them when dropped. Dropping the `run` future also
    /// aborts the work (without releasing — as a crash would). Work that ends by itself does
    /// not end the term: the elector keeps the lease until lost or shut down.
    pub async fn run<S, F, Fut>(mut self, shutdown: S, mut on_leading: F)
    where
        S: Future<Output = ()>,
        F: FnMut() -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = self.acquire() => {}
            }
            let work = AbortOnDrop(Some(tokio::spawn(on_leading())));
            let shut_down = tokio::select! {
                biased;
                () = &mut shutdown => true,
                () = self.renew() => false,
            };
            self.set_leading(false);
            if let Err(e) = work.stop().await {
                tracing::warn!(lease = %self.lock.describe(), "the work of the leader ended with: {e}");
            }
            if shut_down {
                break;
            }
            tracing::error!(lease = %self.lock.describe(), "leaderelection lost");
            if self.release_on_cancel {
                // as client-go: a lost leader that still believes it holds the lease gives it up
                self.release().await;
            }
        }
        self.set_leading(false);
        if self.release_on_cancel {
            self.release().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn held_by(holder: &str, transitions: i32) -> Record {
        Record {
            holder_identity: holder.into(),
            lease_duration_seconds: 15,
            acquire_time: Some(ts("2025-01-01T00:00:00Z")),
            renew_time: Some(ts("2025-01-01T00:00:10Z")),
            lease_transitions: transitions,
        }
    }

    #[test]
    fn timing_is_checked_as_client_go() {
        assert_eq!(Timing::default().validate(), Ok(()));
        let t = |l, r, p| Timing { lease_duration: Duration::from_millis(l), renew_deadline: Duration::from_millis(r), retry_period: Duration::from_millis(p) };
        assert_eq!(t(10_000, 10_000, 2_000).validate(), Err(ConfigError::LeaseNotLongerThanRenew));
        assert_eq!(t(15_000, 2_400, 2_000).validate(), Err(ConfigError::RenewNotLongerThanRetry));
        assert_eq!(t(15_000, 2_401, 2_000).validate(), Ok(()));
        assert_eq!(t(2_000, 1_500, 300).validate(), Ok(()));
        assert_eq!(t(2_000, 1_500, 0).validate(), Err(ConfigError::Zero("retryPeriod")));
        assert_eq!(ConfigError::RenewNotLongerThanRetry.to_string(), "renewDeadline must be greater than retryPeriod*JitterFactor");
        assert_eq!(t(2_900, 1_500, 300).lease_duration_seconds(), 2);
        assert_eq!(t(900, 500, 100).lease_duration_seconds(), 1);
        assert_eq!(Timing::default().lease_duration_seconds(), 15);
    }

    #[test]
    fn no_lease_means_create_with_zero_transitions() {
        let now = Instant::now();
        let wall = ts("2025-01-01T00:01:00Z");
        let d = decide(None, now, wall, "me", 15);
        assert_eq!(
            d,
            Decision::Create(Record { holder_identity: "me".into(), lease_duration_seconds: 15, acquire_time: Some(wall), renew_time: Some(wall), lease_transitions: 0 })
        );
    }

    #[test]
    fn a_lease_held_by_another_is_respected_until_it_expires_by_our_clock() {
        let t0 = Instant::now();
        let obs = Observation { record: held_by("other", 3), observed_at: t0 };
        // the renewTime inside says nothing: only how long we have seen the record unchanged
        let wall = ts("2030-01-01T00:00:00Z");
        assert_eq!(decide(Some(&obs), t0, wall, "me", 15), Decision::Wait { holder: "other".into(), expires_in: Duration::from_secs(15) });
        assert_eq!(
            decide(Some(&obs), t0 + Duration::from_millis(14_999), wall, "me", 15),
            Decision::Wait { holder: "other".into(), expires_in: Duration::from_millis(1) }
        );
        // expired: take over, a new term (acquireTime now, one more transition)
        let d = decide(Some(&obs), t0 + Duration::from_secs(15), wall, "me", 15);
        assert_eq!(
            d,
            Decision::Update(Record { holder_identity: "me".into(), lease_duration_seconds: 15, acquire_time: Some(wall), renew_time: Some(wall), lease_transitions: 4 })
        );
    }

    #[test]
    fn the_records_duration_counts_not_ours() {
        let t0 = Instant::now();
        let mut rec = held_by("other", 0);
        rec.lease_duration_seconds = 60;
        let obs = Observation { record: rec, observed_at: t0 };
        assert!(matches!(decide(Some(&obs), t0 + Duration::from_secs(30), Timestamp::now(), "me", 15), Decision::Wait { .. }));
        assert!(matches!(decide(Some(&obs), t0 + Duration::from_secs(60), Timestamp::now(), "me", 15), Decision::Update(_)));
    }

    #[test]
    fn observed_time_moves_only_when_the_record_changes() {
        let t0 = Instant::now();
        let first = observe(None, held_by("other", 0), t0);
        assert_eq!(first.observed_at, t0);
        // the same record read again later keeps the old observed time: it is aging
        let again = observe(Some(&first), held_by("other", 0), t0 + Duration::from_secs(10));
        assert_eq!(again.observed_at, t0);
        assert!(!again.is_valid(t0 + Duration::from_secs(15)));
        // a renewal (new renewTime) restarts the clock, whatever time it claims
        let mut renewed = held_by("other", 0);
        renewed.renew_time = Some(ts("2000-01-01T00:00:00Z"));
        let later = observe(Some(&again), renewed, t0 + Duration::from_secs(12));
        assert_eq!(later.observed_at, t0 + Duration::from_secs(12));
        assert!(later.is_valid(t0 + Duration::from_secs(26)));
        assert!(!later.is_valid(t0 + Duration::from_secs(27)));
    }

    #[test]
    fn the_holder_renews_keeping_its_term() {
        let t0 = Instant::now();
        let obs = Observation { record: held_by("me", 2), observed_at: t0 };
        let wall = ts("2025-01-01T00:00:12Z");
        // valid or not (e.g. we restarted with the same identity), our own lease is renewed
        for at in [t0, t0 + Duration::from_secs(100)] {
            let d = decide(Some(&obs), at, wall, "me", 15);
            assert_eq!(
                d,
                Decision::Update(Record {
                    holder_identity: "me".into(),
                    lease_duration_seconds: 15,
                    acquire_time: Some(ts("2025-01-01T00:00:00Z")),
                    renew_time: Some(wall),
                    lease_transitions: 2,
                })
            );
        }
        assert!(may_renew_optimistically(Some(&obs), t0 + Duration::from_secs(14), "me"));
        assert!(!may_renew_optimistically(Some(&obs), t0 + Duration::from_secs(15), "me"));
        assert!(!may_renew_optimistically(Some(&obs), t0, "other"));
        assert!(!may_renew_optimistically(None, t0, "me"));
    }

    #[test]
    fn a_released_lease_is_taken_at_once() {
        let t0 = Instant::now();
        let wall = ts("2025-01-01T00:00:20Z");
        let released = release_record(&held_by("other", 5), wall);
        assert_eq!(
            released,
            Record { holder_identity: String::new(), lease_duration_seconds: 1, acquire_time: Some(wall), renew_time: Some(wall), lease_transitions: 5 }
        );
        let obs = Observation { record: released, observed_at: t0 };
        match decide(Some(&obs), t0, wall, "me", 15) {
            Decision::Update(r) => {
                assert_eq!(r.holder_identity, "me");
                assert_eq!(r.lease_transitions, 6);
                assert_eq!(r.lease_duration_seconds, 15);
            }
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn records_round_trip_through_the_lease_spec() {
        let rec = held_by("a_1", 7);
        let mut spec = LeaseSpec { strategy: Some("OldestEmulationVersion".into()), ..Default::default() };
        rec.apply_to(&mut spec);
        assert_eq!(spec.strategy.as_deref(), Some("OldestEmulationVersion"));
        assert_eq!(Record::from_spec(Some(&spec)), rec);
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(json["holderIdentity"], "a_1");
        assert_eq!(json["renewTime"], "2025-01-01T00:00:10.000000Z");
        assert_eq!(Record::from_spec(None), Record::default());
        // a written MicroTime reads back equal
        let now = now_micros();
        let back: MicroTime = serde_json::from_value(serde_json::to_value(MicroTime(now)).unwrap()).unwrap();
        assert_eq!(back.0, now);
    }

    #[test]
    fn jitter_is_client_gos() {
        let p = Duration::from_secs(2);
        assert_eq!(jitter(p, 0.0), p);
        assert_eq!(jitter(p, 0.5), Duration::from_millis(3_200));
        for _ in 0..100 {
            let j = jittered(p);
            assert!(j >= p && j < Duration::from_millis(4_400), "{j:?}");
        }
    }

    #[test]
    fn identities_are_hostname_and_uuid() {
        let a = default_identity("node-1");
        let b = default_identity("node-1");
        assert!(a.starts_with("node-1_") && a.len() == "node-1_".len() + 36, "{a}");
        assert_ne!(a, b);
    }
}
