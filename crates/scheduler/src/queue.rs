//! The scheduling queue: active pods ordered by priority (higher first) then creation time,
//! pods backing off after a failed attempt (1 s doubling to 10 s), and unschedulable pods
//! parked until a cluster change (node added or updated, pod deleted) may help them, or for
//! at most 5 minutes.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::time::Instant;

/// The first back-off.
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// The longest back-off.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How long an unschedulable pod waits at most for an event before it is retried.
pub const MAX_UNSCHEDULABLE: Duration = Duration::from_secs(300);

/// The back-off after `attempts` failed attempts.
pub fn backoff(attempts: u32) -> Duration {
    if attempts == 0 {
        return Duration::ZERO;
    }
    let mut d = INITIAL_BACKOFF;
    for _ in 1..attempts {
        d *= 2;
        if d >= MAX_BACKOFF {
            return MAX_BACKOFF;
        }
    }
    d
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Where {
    Active,
    Backoff,
    Unschedulable,
    InFlight,
}

struct Entry {
    pod: Arc<Pod>,
    attempts: u32,
    last_failure: Option<Instant>,
    parked_at: Option<Instant>,
    place: Where,
    /// Generation of the heap entry that is current (older heap entries are stale).
    seq: u64,
    /// Scheduling cycle when popped (to see whether a move request came meanwhile).
    cycle: u64,
}

#[derive(PartialEq, Eq)]
struct ActiveKey {
    priority: i32,
    created: i64,
    seq: u64,
    uid: String,
}

impl Ord for ActiveKey {
    fn cmp(&self, o: &Self) -> Ordering {
        self.priority.cmp(&o.priority).then(o.created.cmp(&self.created)).then(o.seq.cmp(&self.seq))
    }
}
impl PartialOrd for ActiveKey {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    active: BinaryHeap<ActiveKey>,
    backoff: BinaryHeap<Reverse<(Instant, u64, String)>>,
    seq: u64,
    cycle: u64,
    move_cycle: u64,
    /// When parked pods were last checked for the 5-minute limit.
    last_stale_check: Option<Instant>,
    /// The parked pods (so a cluster event costs nothing when none is parked).
    parked: std::collections::HashSet<String>,
}

/// The queue; cheap to share.
#[derive(Default)]
pub struct Queue {
    inner: Mutex<Inner>,
    notify: Notify,
}

fn uid(pod: &Pod) -> String {
    pod.metadata.uid.clone().unwrap_or_default()
}

fn created(pod: &Pod) -> i64 {
    pod.metadata.creation_timestamp.as_ref().map(|t| t.0.as_nanosecond() as i64).unwrap_or(0)
}

impl Inner {
    fn push_active(&mut self, uid: &str) {
        self.parked.remove(uid);
        self.seq += 1;
        let seq = self.seq;
        if let Some(e) = self.entries.get_mut(uid) {
            e.place = Where::Active;
            e.seq = seq;
            let key = ActiveKey { priority: crate::helpers::pod_priority(&e.pod), created: created(&e.pod), seq, uid: uid.to_string() };
            self.active.push(key);
        }
    }

    fn push_backoff(&mut self, uid: &str, now: Instant) {
        self.parked.remove(uid);
        self.seq += 1;
        let seq = self.seq;
        if let Some(e) = self.entries.get_mut(uid) {
            let until = e.last_failure.unwrap_or(now) + backoff(e.attempts);
            if until <= now {
                self.push_active(uid);
                return;
            }
            e.place = Where::Backoff;
            e.seq = seq;
            self.backoff.push(Reverse((until, seq, uid.to_string())));
        }
    }

    fn flush(&mut self, now: Instant) {
        while let Some(Reverse((t, seq, _))) = self.backoff.peek() {
            if *t > now {
                break;
            }
            let seq = *seq;
            let Some(Reverse((_, _, uid))) = self.backoff.pop() else {
                break;
            };
            if self.entries.get(&uid).is_some_and(|e| e.place == Where::Backoff && e.seq == seq) {
                self.push_active(&uid);
            }
        }
        if self.last_stale_check.is_some_and(|t| now.duration_since(t) < Duration::from_secs(1)) {
            return;
        }
        self.last_stale_check = Some(now);
        let stale: Vec<String> = self
            .parked
            .iter()
            .filter(|k| self.entries.get(*k).is_some_and(|e| e.parked_at.is_some_and(|t| now.duration_since(t) >= MAX_UNSCHEDULABLE)))
            .cloned()
            .collect();
        for uid in stale {
            self.push_backoff(&uid, now);
        }
    }
}

impl Queue {
    /// Adds a new pending pod, or updates the one queued (an update of a parked pod's spec or
    /// labels may make it schedulable: it is retried).
    pub fn add_or_update(&self, pod: Arc<Pod>) {
        let id = uid(&pod);
        let mut q = self.inner.lock();
        let now = Instant::now();
        match q.entries.get_mut(&id) {
            None => {
                q.entries.insert(
                    id.clone(),
                    Entry { pod, attempts: 0, last_failure: None, parked_at: None, place: Where::Active, seq: 0, cycle: 0 },
                );
                q.push_active(&id);
                drop(q);
                self.notify.notify_one();
            }
            Some(e) => {
                let changed = e.pod.spec != pod.spec
                    || e.pod.metadata.labels != pod.metadata.labels
                    || e.pod.metadata.annotations != pod.metadata.annotations;
                e.pod = pod;
                if changed && e.place == Where::Unschedulable {
                    q.push_backoff(&id, now);
                    drop(q);
                    self.notify.notify_one();
                }
            }
        }
    }

    /// Forgets a pod (deleted, or bound elsewhere).
    pub fn delete(&self, uid: &str) {
        let mut q = self.inner.lock();
        q.entries.remove(uid);
        q.parked.remove(uid);
    }

    /// Whether the queue holds the pod.
    pub fn contains(&self, uid: &str) -> bool {
        self.inner.lock().entries.contains_key(uid)
    }

    /// A cluster change: every parked pod goes back to back-off or active.
    pub fn move_all_unschedulable(&self) {
        let mut q = self.inner.lock();
        q.move_cycle = q.cycle;
        let now = Instant::now();
        if q.parked.is_empty() {
            return;
        }
        let parked: Vec<String> = q.parked.iter().cloned().collect();
        for uid in parked {
            q.push_backoff(&uid, now);
        }
        drop(q);
        self.notify.notify_one();
    }

    /// After a failed attempt: park the pod, or back it off when the cluster changed while it
    /// was being scheduled.
    pub fn requeue_unschedulable(&self, uid: &str) {
        let mut q = self.inner.lock();
        let now = Instant::now();
        let move_cycle = q.move_cycle;
        let Some(e) = q.entries.get_mut(uid) else {
            return;
        };
        if e.place != Where::InFlight {
            return;
        }
        e.attempts += 1;
        e.last_failure = Some(now);
        if move_cycle >= e.cycle {
            q.push_backoff(uid, now);
        } else {
            e.place = Where::Unschedulable;
            e.parked_at = Some(now);
            q.parked.insert(uid.to_string());
        }
        drop(q);
        self.notify.notify_one();
    }

    /// After an error (API failure): back off and retry.
    pub fn requeue_backoff(&self, uid: &str) {
        let mut q = self.inner.lock();
        let now = Instant::now();
        let Some(e) = q.entries.get_mut(uid) else {
            return;
        };
        e.attempts += 1;
        e.last_failure = Some(now);
        q.push_backoff(uid, now);
        drop(q);
        self.notify.notify_one();
    }

    /// Puts back a pod whose binding failed: it retries after its back-off.
    pub fn add_backoff(&self, pod: Arc<Pod>) {
        let id = uid(&pod);
        let mut q = self.inner.lock();
        let now = Instant::now();
        let attempts = q.entries.get(&id).map_or(0, |e| e.attempts) + 1;
        q.entries
            .insert(id.clone(), Entry { pod, attempts, last_failure: Some(now), parked_at: None, place: Where::Backoff, seq: 0, cycle: 0 });
        q.push_backoff(&id, now);
        drop(q);
        self.notify.notify_one();
    }

    /// The pod was scheduled: forget it.
    pub fn done(&self, uid: &str) {
        self.delete(uid);
    }

    /// Number of pods held (any state).
    pub fn len(&self) -> usize {
        self.inner.lock().entries.len()
    }

    /// Whether the queue holds no pod.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes the most important active pod, waiting for one.
    pub async fn pop(&self) -> Arc<Pod> {
        loop {
            let wait = {
                let mut q = self.inner.lock();
                let now = Instant::now();
                q.flush(now);
                while let Some(key) = q.active.pop() {
                    let cycle = q.cycle + 1;
                    let Some(e) = q.entries.get_mut(&key.uid) else {
                        continue;
                    };
                    if e.place != Where::Active || e.seq != key.seq {
                        continue;
                    }
                    e.place = Where::InFlight;
                    e.cycle = cycle;
                    let pod = e.pod.clone();
                    q.cycle = cycle;
                    return pod;
                }
                q.backoff
                    .peek()
                    .map(|Reverse((t, _, _))| t.saturating_duration_since(now))
                    .unwrap_or(Duration::from_secs(1))
                    .min(Duration::from_secs(1))
            };
            let _ = tokio::time::timeout(wait.max(Duration::from_millis(1)), self.notify.notified()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(uid: &str, prio: i32, created: &str) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(
                json!({"metadata": {"uid": uid, "name": uid, "creationTimestamp": created}, "spec": {"priority": prio, "containers": []}}),
            )
            .unwrap(),
        )
    }

    #[test]
    fn backoff_doubles_to_ten_seconds() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(4), Duration::from_secs(8));
        assert_eq!(backoff(5), Duration::from_secs(10));
        assert_eq!(backoff(50), Duration::from_secs(10));
    }

    #[tokio::test]
    async fn priority_then_age() {
        let q = Queue::default();
        q.add_or_update(pod("old-low", 0, "2024-01-01T00:00:00Z"));
        q.add_or_update(pod("new-high", 10, "2024-01-02T00:00:00Z"));
        q.add_or_update(pod("old-high", 10, "2024-01-01T00:00:00Z"));
        let order: Vec<String> = [q.pop().await, q.pop().await, q.pop().await].iter().map(|p| uid(p)).collect();
        assert_eq!(order, vec!["old-high", "new-high", "old-low"]);
    }

    #[tokio::test(start_paused = true)]
    async fn unschedulable_waits_for_a_move_then_backs_off() {
        let q = Queue::default();
        q.add_or_update(pod("a", 0, "2024-01-01T00:00:00Z"));
        let p = q.pop().await;
        q.requeue_unschedulable(&uid(&p));
        // parked: nothing to pop
        assert!(tokio::time::timeout(Duration::from_secs(30), q.pop()).await.is_err());
        q.move_all_unschedulable();
        let t = Instant::now();
        let p = q.pop().await;
        assert_eq!(uid(&p), "a");
        assert!(t.elapsed() <= Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn move_during_flight_backs_off_instead_of_parking() {
        let q = Queue::default();
        q.add_or_update(pod("a", 0, "2024-01-01T00:00:00Z"));
        let p = q.pop().await;
        q.move_all_unschedulable();
        q.requeue_unschedulable(&uid(&p));
        let t = Instant::now();
        let _ = q.pop().await;
        assert!(t.elapsed() >= Duration::from_secs(1));
    }
}
