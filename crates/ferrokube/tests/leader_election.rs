//! Leader election (`controllers::leaderelection`) against a real `ferrokube server`: two
//! candidates on one Lease in kube-system with short timings (lease 2 s, renew deadline 1.5 s,
//! retry 0.3 s). Exactly one leads and runs its work; the Lease shows the holder and the
//! transitions; a dead leader (aborted, no release) is replaced once its lease has expired by
//! the other candidate's clock; a clean release hands over at once; a leader that cannot renew
//! stops its work after the renew deadline and waits again.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use controllers::leaderelection::{LeaderElector, LeaseLock, Leadership, Timing};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, PostParams};
use support::Server;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const NS: &str = "kube-system";
const LEASE: Duration = Duration::from_secs(2);
const RETRY: Duration = Duration::from_millis(300);
/// The longest jittered retry pause (retry × 2.2).
const MAX_RETRY: Duration = Duration::from_millis(660);
/// Room for API round trips on a loaded machine.
const SLACK: Duration = Duration::from_millis(1500);

fn timing() -> Timing {
    Timing { lease_duration: LEASE, renew_deadline: Duration::from_millis(1500), retry_period: RETRY }
}

/// A candidate's guarded work: how many terms started it, how many copies run now.
#[derive(Default)]
struct Work {
    started: AtomicUsize,
    running: AtomicUsize,
}

struct Running(Arc<Work>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Work {
    fn started(&self) -> usize {
        self.started.load(Ordering::SeqCst)
    }
    fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }
}

struct Candidate {
    id: String,
    leadership: Leadership,
    work: Arc<Work>,
    task: Option<JoinHandle<()>>,
    stop: Option<oneshot::Sender<()>>,
}

impl Candidate {
    fn start(client: kube::Client, lease: &str, id: &str) -> Candidate {
        let lock = LeaseLock { namespace: NS.into(), name: lease.into(), identity: id.into() };
        let elector = LeaderElector::new(client, lock, timing()).unwrap().release_on_cancel(true);
        let leadership = elector.leadership();
        let work = Arc::new(Work::default());
        let (stop, stopped) = oneshot::channel::<()>();
        let w = work.clone();
        let task = tokio::spawn(elector.run(
            async move {
                let _ = stopped.await;
            },
            move || {
                let w = w.clone();
                async move {
                    w.started.fetch_add(1, Ordering::SeqCst);
                    w.running.fetch_add(1, Ordering::SeqCst);
                    let _running = Running(w);
                    std::future::pending::<()>().await;
                }
            },
        ));
        Candidate { id: id.into(), leadership, work, task: Some(task), stop: Some(stop) }
    }

    fn leads(&self) -> bool {
        self.leadership.is_leader()
    }

    /// Dies: the elector's task is aborted, nothing is released.
    async fn kill(&mut self) {
        let task = self.task.take().unwrap();
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
    }

    /// Shuts down cleanly (stops the work, releases the lease) and waits for the end.
    async fn shutdown(&mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(5), self.task.take().unwrap()).await.expect("elector ends").unwrap();
    }
}

impl Drop for Candidate {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Polls `f` every 20 ms until it holds; returns how long it took. Panics after `timeout`.
async fn until(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

async fn get(api: &Api<Lease>, name: &str) -> Lease {
    api.get(name).await.unwrap()
}

fn holder(l: &Lease) -> String {
    l.spec.as_ref().and_then(|s| s.holder_identity.clone()).unwrap_or_default()
}

fn transitions(l: &Lease) -> i32 {
    l.spec.as_ref().and_then(|s| s.lease_transitions).unwrap_or(-1)
}

fn duration_seconds(l: &Lease) -> i32 {
    l.spec.as_ref().and_then(|s| s.lease_duration_seconds).unwrap_or(-1)
}

fn acquire_time(l: &Lease) -> k8s_openapi::jiff::Timestamp {
    l.spec.as_ref().and_then(|s| s.acquire_time.clone()).expect("acquireTime").0
}

fn renew_time(l: &Lease) -> k8s_openapi::jiff::Timestamp {
    l.spec.as_ref().and_then(|s| s.renew_time.clone()).expect("renewTime").0
}

/// Checks for `d` that exactly `leader` leads and runs its work, and `other` does neither.
async fn only_one_leads(leader: &Candidate, other: &Candidate, d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        assert!(leader.leads(), "{} stopped leading", leader.id);
        assert!(!other.leads(), "{} leads too", other.id);
        assert_eq!(other.work.running(), 0, "{}'s work runs", other.id);
        assert_eq!(leader.work.started(), 1, "{}'s work restarted", leader.id);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_leader_and_a_takeover_when_it_dies() {
    let s = Server::start();
    let client = s.client().await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), NS);

    let mut a = Candidate::start(client.clone(), "le-takeover", "a");
    until(Duration::from_secs(10), "a leads", || a.leads() && a.work.running() == 1).await;
    let b = Candidate::start(client.clone(), "le-takeover", "b");
    until(Duration::from_secs(5), "b observes a", || b.leadership.leader() == "a").await;
    // a keeps the lease well beyond its duration: b sees it renewed, never takes it
    only_one_leads(&a, &b, LEASE + LEASE / 2).await;

    // the Lease as the API shows it
    let first = get(&leases, "le-takeover").await;
    assert_eq!(holder(&first), "a");
    assert_eq!(duration_seconds(&first), 2);
    assert_eq!(transitions(&first), 0);
    assert!(acquire_time(&first) <= renew_time(&first));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let later = get(&leases, "le-takeover").await;
    assert_eq!(holder(&later), "a");
    assert_eq!(acquire_time(&later), acquire_time(&first), "a renewal keeps acquireTime");
    assert!(renew_time(&later) > renew_time(&first), "renewTime moves: {:?} then {:?}", renew_time(&first), renew_time(&later));
    let kubectl = tokio::task::block_in_place(|| s.ok(&["get", "lease", "le-takeover", "-n", NS, "-o", "jsonpath={.spec.holderIdentity}/{.spec.leaseTransitions}"]));
    assert_eq!(kubectl, "a/0");

    // a dies without releasing: b waits for the lease to expire by its own clock
    let killed = Instant::now();
    a.kill().await;
    until(Duration::from_secs(1), "a's work aborted with its elector", || a.work.running() == 0).await;
    let took = until(LEASE + MAX_RETRY + SLACK, "b takes over", || b.leads()).await;
    // a renewed at most one retry period before dying; b must not take over before the lease
    // it last saw has aged lease_duration
    assert!(took >= LEASE - RETRY - Duration::from_millis(100), "b took over after {took:?}, before the lease expired");
    until(Duration::from_secs(1), "b's work runs", || b.work.running() == 1).await;
    assert_eq!(b.work.started(), 1);

    let taken = get(&leases, "le-takeover").await;
    assert_eq!(holder(&taken), "b");
    assert_eq!(transitions(&taken), 1, "one change of holder");
    assert_eq!(duration_seconds(&taken), 2);
    assert!(acquire_time(&taken) > acquire_time(&later), "a new term");
    assert!(killed.elapsed() < Duration::from_secs(10));
    let kubectl = tokio::task::block_in_place(|| s.ok(&["get", "lease", "le-takeover", "-n", NS, "-o", "jsonpath={.spec.holderIdentity}/{.spec.leaseTransitions}"]));
    assert_eq!(kubectl, "b/1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_release_hands_over_at_once() {
    let s = Server::start();
    let client = s.client().await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), NS);

    let mut a = Candidate::start(client.clone(), "le-release", "a");
    until(Duration::from_secs(10), "a leads", || a.leads() && a.work.running() == 1).await;
    let b = Candidate::start(client.clone(), "le-release", "b");
    until(Duration::from_secs(5), "b observes a", || b.leadership.leader() == "a").await;
    only_one_leads(&a, &b, Duration::from_secs(1)).await;

    let released = Instant::now();
    a.shutdown().await;
    // the work stopped before the lease was given up
    assert_eq!(a.work.running(), 0);
    assert!(!a.leads());
    let after = get(&leases, "le-release").await;
    if holder(&after).is_empty() {
        // not yet taken: released as client-go releases
        assert_eq!(duration_seconds(&after), 1);
        assert_eq!(transitions(&after), 0);
    } else {
        assert_eq!(holder(&after), "b");
    }
    let took = until(LEASE + MAX_RETRY + SLACK, "b takes over", || b.leads()).await;
    // far sooner than an expiry: b's next try takes the released lease
    assert!(released.elapsed() < LEASE, "b took over after {took:?}: the release did not hand over");
    until(Duration::from_secs(1), "b's work runs", || b.work.running() == 1).await;

    let taken = get(&leases, "le-release").await;
    assert_eq!(holder(&taken), "b");
    assert_eq!(transitions(&taken), 1);
    assert_eq!(duration_seconds(&taken), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_that_cannot_renew_stops_its_work_and_waits_again() {
    let s = Server::start();
    let client = s.client().await;
    let leases: Api<Lease> = Api::namespaced(client.clone(), NS);

    let a = Candidate::start(client.clone(), "le-lost", "a");
    until(Duration::from_secs(10), "a leads", || a.leads() && a.work.running() == 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // someone else takes the Lease over behind a's back, with a renewTime long past: only a
    // candidate comparing renewTime with its clock would think it expired
    let intruded = loop {
        let mut l = get(&leases, "le-lost").await;
        let spec = l.spec.as_mut().unwrap();
        spec.holder_identity = Some("intruder".into());
        spec.lease_duration_seconds = Some(3);
        let past = MicroTime("2000-01-01T00:00:00Z".parse().unwrap());
        spec.acquire_time = Some(past.clone());
        spec.renew_time = Some(past);
        match leases.replace("le-lost", &PostParams::default(), &l).await {
            Ok(_) => break Instant::now(),
            Err(kube::Error::Api(e)) if e.code == 409 => continue,
            Err(e) => panic!("{e}"),
        }
    };

    // a keeps trying until its renew deadline passes, then stops its work
    let lost = until(Duration::from_millis(1500) + RETRY + SLACK, "a loses the lease", || !a.leads()).await;
    assert!(lost >= Duration::from_millis(1000), "a gave up after {lost:?}, before its renew deadline");
    until(Duration::from_secs(1), "a's work aborted", || a.work.running() == 0).await;
    assert_eq!(a.leadership.leader(), "intruder");

    // back to waiting: the intruder's 3-second lease expires by a's clock, not by its renewTime
    let back = until(Duration::from_secs(3) + MAX_RETRY + SLACK, "a leads again", || a.leads()).await;
    let since = intruded.elapsed();
    assert!(since >= Duration::from_millis(2700), "a took the lease back {since:?} after the intrusion (lost after {lost:?}, back after {back:?})");
    until(Duration::from_secs(1), "a's work runs again", || a.work.running() == 1).await;
    assert_eq!(a.work.started(), 2, "a new term starts the work again");

    let l = get(&leases, "le-lost").await;
    assert_eq!(holder(&l), "a");
    assert_eq!(duration_seconds(&l), 2);
    assert_eq!(transitions(&l), 1);
    assert!(acquire_time(&l) > "2020-01-01T00:00:00Z".parse::<k8s_openapi::jiff::Timestamp>().unwrap());
}
