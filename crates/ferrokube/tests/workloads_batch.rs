//! The workload controllers of kube-controller-manager (StatefulSet, DaemonSet, Job, CronJob,
//! TTL-after-finished) against simulated nodes, driven with kubectl 1.32.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use support::{Server, eventually};

fn get(s: &Server, args: &[&str]) -> String {
    s.ok(args).trim().to_string()
}

/// A Job manifest; `annotations` go on the pod template (the sim's exit plans).
fn job(name: &str, extra_spec: &str, annotations: &str) -> String {
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\nspec:\n{extra_spec}  template:\n    metadata:\n      annotations: {{{annotations}}}\n    spec:\n      \
         restartPolicy: Never\n      containers:\n      - name: main\n        image: busybox\n"
    )
}

fn ts(s: &str) -> jiff::Timestamp {
    s.parse().unwrap_or_else(|e| panic!("timestamp {s:?}: {e}"))
}

#[test]
fn job_runs_to_completion_and_kubectl_wait_sees_it() {
    let s = Server::start();
    let _sim = s.sim(2, &[]);
    s.ok_stdin(&["apply", "-f", "-"], &job("pi", "  completions: 3\n  parallelism: 2\n", "sim.ferrokube.io/succeed-after: 1s"));
    // never more than `parallelism` pods at once
    let mut max_active = 0;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        let active = get(&s, &["get", "job", "pi", "-o", "jsonpath={.status.active}"]).parse::<i32>().unwrap_or(0);
        max_active = max_active.max(active);
        std::thread::sleep(Duration::from_millis(100));
    }
    s.ok(&["wait", "--for=condition=complete", "job/pi", "--timeout=60s"]);
    assert!((1..=2).contains(&max_active), "active peaked at {max_active}");
    let status = get(&s, &["get", "job", "pi", "-o", "jsonpath={.status.succeeded} {.status.failed} {.status.active} {.status.terminating}"]);
    assert_eq!(status, "3 0 0 0");
    let conds = get(&s, &["get", "job", "pi", "-o", "jsonpath={range .status.conditions[*]}{.type}={.status}/{.reason};{end}"]);
    assert_eq!(conds, "SuccessCriteriaMet=True/CompletionsReached;Complete=True/CompletionsReached;");
    let times = get(&s, &["get", "job", "pi", "-o", "jsonpath={.status.startTime} {.status.completionTime}"]);
    let (a, b) = times.split_once(' ').unwrap();
    assert!(ts(a) <= ts(b), "{times}");
    // the pods: labelled, owned, released from the tracking finalizer once counted
    let pods = get(&s, &["get", "pods", "-l", "batch.kubernetes.io/job-name=pi", "-o", "jsonpath={range .items[*]}{.status.phase} {.metadata.ownerReferences[0].kind} [{.metadata.finalizers}]\n{end}"]);
    let lines: Vec<&str> = pods.lines().collect();
    assert_eq!(lines.len(), 3, "{pods}");
    for l in lines {
        assert_eq!(l, "Succeeded Job []", "{pods}");
    }
    let events = s.ok(&["get", "events", "--field-selector", "involvedObject.name=pi", "-o", "jsonpath={range .items[*]}{.reason}\n{end}"]);
    assert!(events.lines().filter(|l| *l == "SuccessfulCreate").count() == 3, "{events}");
    assert!(events.lines().any(|l| l == "Completed"), "{events}");
}

#[test]
fn failing_pods_back_off_and_exceed_the_backoff_limit() {
    let s = Server::start();
    let _sim = s.sim(1, &[]);
    s.ok_stdin(&["apply", "-f", "-"], &job("flaky", "  backoffLimit: 1\n", "sim.ferrokube.io/fail-after: 1s"));
    s.ok(&["wait", "--for=condition=failed", "job/flaky", "--timeout=90s"]);
    let status = get(&s, &["get", "job", "flaky", "-o", "jsonpath={.status.failed} {.status.succeeded} {.status.active}"]);
    assert_eq!(status, "2 0 0");
    let failed = get(&s, &["get", "job", "flaky", "-o", "jsonpath={.status.conditions[?(@.type==\"Failed\")].reason}|{.status.conditions[?(@.type==\"Failed\")].message}"]);
    assert_eq!(failed, "BackoffLimitExceeded|Job has reached the specified backoff limit");
    let target = get(&s, &["get", "job", "flaky", "-o", "jsonpath={.status.conditions[?(@.type==\"FailureTarget\")].reason}"]);
    assert_eq!(target, "BackoffLimitExceeded");
    // the replacement pod waited the 10 s back-off after the first failure
    let created = get(&s, &["get", "pods", "-l", "batch.kubernetes.io/job-name=flaky", "--sort-by=.metadata.creationTimestamp", "-o", "jsonpath={.items[*].metadata.creationTimestamp}"]);
    let created: Vec<jiff::Timestamp> = created.split(' ').map(ts).collect();
    assert_eq!(created.len(), 2);
    let gap = created[1].duration_since(created[0]).as_secs();
    assert!(gap >= 10, "replacement after {gap}s");
    let events = s.ok(&["get", "events", "--field-selector", "involvedObject.name=flaky", "-o", "jsonpath={range .items[*]}{.type}/{.reason}\n{end}"]);
    assert!(events.lines().any(|l| l == "Warning/BackoffLimitExceeded"), "{events}");
}

#[test]
fn pod_failure_policy_fails_the_job_at_once() {
    let s = Server::start();
    let _sim = s.sim(1, &[]);
    let spec = "  backoffLimit: 6\n  podFailurePolicy:\n    rules:\n    - action: FailJob\n      onExitCodes:\n        containerName: main\n        operator: In\n        values: [1]\n";
    s.ok_stdin(&["apply", "-f", "-"], &job("pfp", spec, "sim.ferrokube.io/fail-after: 1s"));
    s.ok(&["wait", "--for=condition=failed", "job/pfp", "--timeout=60s"]);
    let failed = get(&s, &["get", "job", "pfp", "-o", "jsonpath={.status.conditions[?(@.type==\"Failed\")].reason}|{.status.conditions[?(@.type==\"Failed\")].message}|{.status.failed}"]);
    let (reason, rest) = failed.split_once('|').unwrap();
    assert_eq!(reason, "PodFailurePolicy");
    assert!(rest.starts_with("Container main for pod default/pfp-") && rest.ends_with("failed with exit code 1 matching FailJob rule at index 0|1"), "{failed}");
}

#[test]
fn active_deadline_stops_a_running_job() {
    let s = Server::start();
    let _sim = s.sim(1, &[]);
    s.ok_stdin(&["apply", "-f", "-"], &job("slow", "  activeDeadlineSeconds: 3\n  parallelism: 2\n", ""));
    eventually(Duration::from_secs(30), "two running pods", || get(&s, &["get", "job", "slow", "-o", "jsonpath={.status.ready}"]) == "2");
    s.ok(&["wait", "--for=condition=failed", "job/slow", "--timeout=60s"]);
    let reason = get(&s, &["get", "job", "slow", "-o", "jsonpath={.status.conditions[?(@.type==\"Failed\")].reason} {.status.active} {.status.failed}"]);
    assert_eq!(reason, "DeadlineExceeded 0 2");
    eventually(Duration::from_secs(30), "the pods gone", || get(&s, &["get", "pods", "-l", "batch.kubernetes.io/job-name=slow", "-o", "name"]).is_empty());
}

#[test]
fn suspended_job_waits_and_resumes() {
    let s = Server::start();
    let _sim = s.sim(1, &[]);
    s.ok_stdin(&["apply", "-f", "-"], &job("later", "  suspend: true\n  completions: 2\n", "sim.ferrokube.io/succeed-after: 1s"));
    eventually(Duration::from_secs(20), "the Suspended condition", || {
        get(&s, &["get", "job", "later", "-o", "jsonpath={.status.conditions[?(@.type==\"Suspended\")].status}/{.status.conditions[?(@.type==\"Suspended\")].reason}"]) == "True/JobSuspended"
    });
    std::thread::sleep(Duration::from_secs(2));
    assert!(get(&s, &["get", "pods", "-l", "batch.kubernetes.io/job-name=later", "-o", "name"]).is_empty());
    assert_eq!(get(&s, &["get", "job", "later", "-o", "jsonpath={.status.startTime}"]), "");
    s.ok(&["patch", "job", "later", "--type=merge", "-p", "{\"spec\":{\"suspend\":false}}"]);
    s.ok(&["wait", "--for=condition=complete", "job/later", "--timeout=60s"]);
    let susp = get(&s, &["get", "job", "later", "-o", "jsonpath={.status.conditions[?(@.type==\"Suspended\")].status}/{.status.conditions[?(@.type==\"Suspended\")].reason} {.status.succeeded}"]);
    assert_eq!(susp, "False/JobResumed 2");
}

#[test]
fn deleting_a_running_job_releases_and_removes_its_pods() {
    let s = Server::start();
    let _sim = s.sim(1, &[]);
    s.ok_stdin(&["apply", "-f", "-"], &job("gone", "  parallelism: 2\n  completions: 4\n", ""));
    eventually(Duration::from_secs(30), "two running pods", || get(&s, &["get", "job", "gone", "-o", "jsonpath={.status.ready}"]) == "2");
    let fins = get(&s, &["get", "pods", "-l", "batch.kubernetes.io/job-name=gone", "-o", "jsonpath={.items[*].metadata.finalizers[0]}"]);
    assert_eq!(fins, "batch.kubernetes.io/job-tracking batch.kubernetes.io/job-tracking");
    s.ok(&["delete", "job", "gone"]);
    // the garbage collector deletes the pods; the job controller lets go of their finalizers
    eventually(Duration::from_secs(40), "the pods gone", || get(&s, &["get", "pods", "-l", "batch.kubernetes.io/job-name=gone", "-o", "name"]).is_empty());
}

#[test]
fn indexed_job_completes_every_index() {
    let s = Server::start();
    let _sim = s.sim(2, &[]);
    s.ok_stdin(&["apply", "-f", "-"], &job("idx", "  completions: 4\n  parallelism: 2\n  completionMode: Indexed\n", "sim.ferrokube.io/succeed-after: 1s"));
    s.ok(&["wait", "--for=condition=complete", "job/idx", "--timeout=60s"]);
    let status = get(&s, &["get", "job", "idx", "-o", "jsonpath={.status.completedIndexes} {.status.succeeded}"]);
    assert_eq!(status, "0-3 4");
    let pods = get(&s, &["get", "pods", "-l", "batch.kubernetes.io/job-name=idx", "-o", "jsonpath={range .items[*]}{.metadata.annotations.batch\\.kubernetes\\.io/job-completion-index} {.spec.hostname} {.spec.containers[0].env[?(@.name==\"JOB_COMPLETION_INDEX\")].valueFrom.fieldRef.fieldPath}\n{end}"]);
    let mut seen = BTreeSet::new();
    for l in pods.lines() {
        let parts: Vec<&str> = l.split(' ').collect();
        assert_eq!(parts.len(), 3, "{pods}");
        assert_eq!(parts[1], format!("idx-{}", parts[0]));
        assert_eq!(parts[2], "metadata.annotations['batch.kubernetes.io/job-completion-index']");
        seen.insert(parts[0].to_string());
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec!["0", "1", "2", "3"]);
}

#[test]
fn backoff_limit_per_index_retries_each_index_then_fails_it() {
    let s = Server::start();
    let _sim = s.sim(2, &[]);
    let spec = "  completions: 2\n  parallelism: 2\n  completionMode: Indexed\n  backoffLimitPerIndex: 1\n";
    s.ok_stdin(&["apply", "-f", "-"], &job("per-index", spec, "sim.ferrokube.io/fail-after: 1s"));
    // the API defaults backoffLimit to the largest int32 when the limit is per index
    assert_eq!(get(&s, &["get", "job", "per-index", "-o", "jsonpath={.spec.backoffLimit}"]), "2147483647");
    s.ok(&["wait", "--for=condition=failed", "job/per-index", "--timeout=90s"]);
    let status = get(&s, &["get", "job", "per-index", "-o", "jsonpath={.status.failedIndexes}|{.status.failed}|{.status.succeeded}|{.status.active}"]);
    assert_eq!(status, "0,1|4|0|0");
    let failed = get(&s, &["get", "job", "per-index", "-o", "jsonpath={.status.conditions[?(@.type==\"Failed\")].reason}|{.status.conditions[?(@.type==\"Failed\")].message}"]);
    assert_eq!(failed, "FailedIndexes|Job has failed indexes");
    // each index ran twice: its replacement carries the index's failure count and came after
    // the index's own 10 s back-off
    let pods = get(&s, &[
        "get", "pods", "-l", "batch.kubernetes.io/job-name=per-index", "--sort-by=.metadata.creationTimestamp", "-o",
        "jsonpath={range .items[*]}{.metadata.annotations.batch\\.kubernetes\\.io/job-completion-index} {.metadata.annotations.batch\\.kubernetes\\.io/job-index-failure-count} {.metadata.creationTimestamp}\n{end}",
    ]);
    let rows: Vec<Vec<&str>> = pods.lines().map(|l| l.split(' ').collect()).collect();
    assert_eq!(rows.len(), 4, "{pods}");
    for index in ["0", "1"] {
        let mine: Vec<&Vec<&str>> = rows.iter().filter(|r| r[0] == index).collect();
        assert_eq!(mine.iter().map(|r| r[1]).collect::<Vec<_>>(), vec!["0", "1"], "{pods}");
        let gap = ts(mine[1][2]).duration_since(ts(mine[0][2])).as_secs();
        assert!(gap >= 10, "index {index} replaced after {gap}s");
    }
}

#[test]
fn fail_index_rule_and_max_failed_indexes_end_the_job_early() {
    let s = Server::start();
    let _sim = s.sim(2, &[]);
    let spec = "  completions: 3\n  parallelism: 3\n  completionMode: Indexed\n  backoffLimitPerIndex: 5\n  maxFailedIndexes: 1\n  \
                podFailurePolicy:\n    rules:\n    - action: FailIndex\n      onExitCodes:\n        operator: In\n        values: [1]\n";
    s.ok_stdin(&["apply", "-f", "-"], &job("fail-index", spec, "sim.ferrokube.io/fail-after: 1s"));
    s.ok(&["wait", "--for=condition=failed", "job/fail-index", "--timeout=60s"]);
    let failed = get(&s, &["get", "job", "fail-index", "-o", "jsonpath={.status.conditions[?(@.type==\"Failed\")].reason}|{.status.conditions[?(@.type==\"Failed\")].message}"]);
    assert_eq!(failed, "MaxFailedIndexesExceeded|Job has exceeded the specified maximal number of failed indexes");
    let failed_indexes = get(&s, &["get", "job", "fail-index", "-o", "jsonpath={.status.failedIndexes}"]);
    assert!(indexes_in(&failed_indexes) >= 2, "more than maxFailedIndexes: {failed_indexes}");
    // FailIndex fails an index at its first failure, whatever the limit: nothing was retried
    let counts = get(&s, &["get", "pods", "-l", "batch.kubernetes.io/job-name=fail-index", "-o", "jsonpath={.items[*].metadata.annotations.batch\\.kubernetes\\.io/job-index-failure-count}"]);
    assert!(counts.split(' ').all(|c| c == "0"), "{counts}");
}

/// How many indexes an interval list ("0,2-3") names.
fn indexes_in(list: &str) -> usize {
    list.split(',').filter(|p| !p.is_empty()).map(|p| match p.split_once('-') {
        Some((a, b)) => b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1,
        None => 1,
    }).sum()
}

#[test]
fn ttl_after_finished_deletes_the_job_and_its_pods() {
    let s = Server::start();
    let _sim = s.sim(1, &[]);
    s.ok_stdin(&["apply", "-f", "-"], &job("short", "  ttlSecondsAfterFinished: 2\n", "sim.ferrokube.io/succeed-after: 1s"));
    s.ok(&["wait", "--for=condition=complete", "job/short", "--timeout=60s"]);
    let done = Instant::now();
    eventually(Duration::from_secs(30), "the job deleted", || !s.kubectl(&["get", "job", "short"]).status.success());
    assert!(done.elapsed() >= Duration::from_secs(1), "deleted before its TTL");
}

#[test]
fn cronjob_fires_every_minute() {
    let s = Server::start();
    let _sim = s.sim(1, &[]);
    let cj = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: tick\nspec:\n  schedule: \"* * * * *\"\n  timeZone: Etc/UTC\n  jobTemplate:\n    metadata:\n      labels: {from: cron}\n    spec:\n      template:\n        metadata:\n          annotations: {sim.ferrokube.io/succeed-after: 1s}\n        spec:\n          restartPolicy: Never\n          containers:\n          - name: main\n            image: busybox\n";
    s.ok_stdin(&["apply", "-f", "-"], cj);
    let mut name = String::new();
    eventually(Duration::from_secs(80), "a job from the cronjob", || {
        name = get(&s, &["get", "jobs", "-l", "from=cron", "-o", "jsonpath={.items[*].metadata.name}"]).split(' ').next().unwrap_or("").to_string();
        !name.is_empty()
    });
    let stamp = get(&s, &["get", "job", &name, "-o", "jsonpath={.metadata.annotations.batch\\.kubernetes\\.io/cronjob-scheduled-timestamp}"]);
    let scheduled = ts(&stamp);
    assert_eq!(scheduled.as_second() % 60, 0, "{stamp}");
    assert_eq!(name, format!("tick-{}", scheduled.as_second() / 60));
    let owner = get(&s, &["get", "job", &name, "-o", "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}"]);
    assert_eq!(owner, "CronJob/tick");
    let last = get(&s, &["get", "cronjob", "tick", "-o", "jsonpath={.status.lastScheduleTime}"]);
    assert_eq!(ts(&last), scheduled);
    s.ok(&["wait", "--for=condition=complete", &format!("job/{name}"), "--timeout=60s"]);
    eventually(Duration::from_secs(20), "lastSuccessfulTime and no active job", || {
        let st = get(&s, &["get", "cronjob", "tick", "-o", "jsonpath={.status.lastSuccessfulTime}|{.status.active}"]);
        st.ends_with('|') && st.len() > 1
    });
}

// ---------------------------------------------------------------------------------------------
// StatefulSet

fn statefulset(name: &str, replicas: i32, extra_spec: &str, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: {name}\nspec:\n  replicas: {replicas}\n  serviceName: {name}-svc\n  selector:\n    matchLabels: {{app: {name}}}\n{extra_spec}  \
         template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n      - name: main\n        image: {image}\n"
    )
}

/// Reads `kubectl get -w --output-watch-events` lines "TYPE NAME READY" until `until` holds.
fn watch_until(rx: &std::sync::mpsc::Receiver<String>, timeout: Duration, seen: &mut Vec<String>, until: impl Fn(&[String]) -> bool) {
    let deadline = Instant::now() + timeout;
    while !until(seen) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "timed out; events so far:\n{}", seen.join("\n"));
        if let Ok(l) = rx.recv_timeout(left.min(Duration::from_millis(500))) {
            seen.push(l);
        }
    }
}

const WATCH_FMT: &str = "jsonpath={.type} {.object.metadata.name} {.object.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}";

fn first_index(seen: &[String], f: impl Fn(&[&str]) -> bool) -> Option<usize> {
    seen.iter().position(|l| f(&l.split(' ').collect::<Vec<_>>()))
}

#[test]
fn statefulset_ordered_ready_creates_in_order_and_scales_down_in_reverse() {
    let s = Server::start();
    let _sim = s.sim(1, &[]);
    let (mut child, rx) = s.kubectl_lines(&["get", "pods", "-l", "app=web", "-w", "--output-watch-events", "-o", WATCH_FMT]);
    s.ok_stdin(&["apply", "-f", "-"], &statefulset("web", 3, "", "nginx:1"));
    s.ok(&["rollout", "status", "sts/web", "--timeout=90s"]);
    let mut seen = Vec::new();
    watch_until(&rx, Duration::from_secs(30), &mut seen, |seen| first_index(seen, |p| p[1] == "web-2" && p.get(2) == Some(&"True")).is_some());
    for k in 1..3 {
        let added = first_index(&seen, |p| p[0] == "ADDED" && p[1] == format!("web-{k}")).unwrap();
        let prev_ready = first_index(&seen, |p| p[1] == format!("web-{}", k - 1) && p.get(2) == Some(&"True"))
            .unwrap_or_else(|| panic!("web-{} never ready:\n{}", k - 1, seen.join("\n")));
        assert!(prev_ready < added, "web-{k} created before web-{} was ready:\n{}", k - 1, seen.join("\n"));
    }
    let status = get(&s, &["get", "sts", "web", "-o", "jsonpath={.status.replicas} {.status.readyReplicas} {.status.currentReplicas} {.status.updatedReplicas} {.status.availableReplicas}"]);
    assert_eq!(status, "3 3 3 3 3");
    let pod = get(&s, &["get", "pod", "web-1", "-o", "jsonpath={.metadata.labels.statefulset\\.kubernetes\\.io/pod-name} {.metadata.labels.apps\\.kubernetes\\.io/pod-index} {.spec.hostname} {.spec.subdomain} {.metadata.labels.controller-revision-hash}"]);
    let rev = get(&s, &["get", "sts", "web", "-o", "jsonpath={.status.updateRevision}"]);
    assert_eq!(pod, format!("web-1 1 web-1 web-svc {rev}"));
    assert_eq!(get(&s, &["get", "controllerrevision", &rev, "-o", "jsonpath={.revision}"]), "1");

    // scale down: web-2 goes before web-1
    seen.clear();
    s.ok(&["scale", "sts/web", "--replicas=1"]);
    watch_until(&rx, Duration::from_secs(60), &mut seen, |seen| first_index(seen, |p| p[0] == "DELETED" && p[1] == "web-1").is_some());
    let d2 = first_index(&seen, |p| p[0] == "DELETED" && p[1] == "web-2").expect("web-2 deleted");
    let d1 = first_index(&seen, |p| p[0] == "DELETED" && p[1] == "web-1").unwrap();
    assert!(d2 < d1, "{}", seen.join("\n"));
    eventually(Duration::from_secs(20), "status of one replica", || get(&s, &["get", "sts", "web", "-o", "jsonpath={.status.replicas}/{.status.readyReplicas}"]) == "1/1");
    let _ = child.kill();
}

#[test]
fn statefulset_rolling_update_replaces_pods_from_the_top() {
    let s = Server::start();
    let _sim = s.sim(1, &[]);
    s.ok_stdin(&["apply", "-f", "-"], &statefulset("roll", 3, "", "nginx:1"));
    s.ok(&["rollout", "status", "sts/roll", "--timeout=90s"]);
    let old_rev = get(&s, &["get", "sts", "roll", "-o", "jsonpath={.status.currentRevision}"]);
    let (mut child, rx) = s.kubectl_lines(&["get", "pods", "-l", "app=roll", "-w", "--output-watch-events", "-o", WATCH_FMT]);
    s.ok_stdin(&["apply", "-f", "-"], &statefulset("roll", 3, "", "nginx:2"));
    s.ok(&["rollout", "status", "sts/roll", "--timeout=90s"]);
    let st = get(&s, &["get", "sts", "roll", "-o", "jsonpath={.status.currentRevision} {.status.updateRevision} {.status.updatedReplicas} {.status.currentReplicas}"]);
    let parts: Vec<&str> = st.split(' ').collect();
    assert_ne!(parts[1], old_rev);
    assert_eq!(parts, vec![parts[1], parts[1], "3", "3"], "{st}");
    let images = get(&s, &["get", "pods", "-l", "app=roll", "-o", "jsonpath={.items[*].spec.containers[0].image}"]);
    assert_eq!(images, "nginx:2 nginx:2 nginx:2");
    let mut seen = Vec::new();
    watch_until(&rx, Duration::from_secs(20), &mut seen, |seen| first_index(seen, |p| p[0] == "DELETED" && p[1] == "roll-0").is_some());
    let order: Vec<&str> = seen.iter().filter_map(|l| l.strip_prefix("DELETED ")).map(|l| l.split(' ').next().unwrap_or("")).collect();
    assert_eq!(order, vec!["roll-2", "roll-1", "roll-0"], "{}", seen.join("\n"));
    let revs = get(&s, &["get", "controllerrevisions", "-o", "jsonpath={.items[*].revision}"]);
    let mut revs: Vec<&str> = revs.split(' ').collect();
    revs.sort();
    assert_eq!(revs, vec!["1", "2"]);
    let history = s.ok(&["rollout", "history", "sts/roll"]);
    assert!(history.contains('1') && history.contains('2'), "{history}");
    let _ = child.kill();
}

#[test]
fn statefulset_parallel_creates_all_pods_and_their_claims_at_once() {
    // no nodes: pods stay Pending, which only Parallel management looks past
    let s = Server::start();
    let claims = "  podManagementPolicy: Parallel\n  persistentVolumeClaimRetentionPolicy:\n    whenDeleted: Delete\n    whenScaled: Retain\n  volumeClaimTemplates:\n  - metadata:\n      name: data\n    spec:\n      accessModes: [ReadWriteOnce]\n      resources:\n        requests:\n          storage: 1Gi\n";
    s.ok_stdin(&["apply", "-f", "-"], &statefulset("db", 3, claims, "postgres"));
    eventually(Duration::from_secs(20), "three pods", || get(&s, &["get", "pods", "-l", "app=db", "-o", "name"]).lines().count() == 3);
    let pvcs = get(&s, &["get", "pvc", "-o", "jsonpath={range .items[*]}{.metadata.name} {.metadata.labels.app} {.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}\n{end}"]);
    assert_eq!(pvcs, "data-db-0 db StatefulSet/db\ndata-db-1 db StatefulSet/db\ndata-db-2 db StatefulSet/db");
    let vol = get(&s, &["get", "pod", "db-2", "-o", "jsonpath={.spec.volumes[?(@.name==\"data\")].persistentVolumeClaim.claimName}"]);
    assert_eq!(vol, "data-db-2");

    // whenScaled: Retain keeps the claims of removed pods; whenDeleted: Delete lets the garbage
    // collector remove them with the StatefulSet
    s.ok(&["scale", "sts/db", "--replicas=1"]);
    eventually(Duration::from_secs(20), "one pod", || get(&s, &["get", "pods", "-l", "app=db", "-o", "name"]) == "pod/db-0");
    assert_eq!(get(&s, &["get", "pvc", "-o", "name"]).lines().count(), 3);
    s.ok(&["delete", "sts", "db"]);
    eventually(Duration::from_secs(30), "the claims collected", || get(&s, &["get", "pvc", "-o", "name"]).is_empty());

    // OrderedReady with the same Pending pods stops at the first
    s.ok_stdin(&["apply", "-f", "-"], &statefulset("ord", 3, "", "postgres"));
    eventually(Duration::from_secs(20), "ord-0", || s.kubectl(&["get", "pod", "ord-0"]).status.success());
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(get(&s, &["get", "pods", "-l", "app=ord", "-o", "name"]), "pod/ord-0");
    assert_eq!(get(&s, &["get", "sts", "ord", "-o", "jsonpath={.status.replicas} {.status.readyReplicas}"]), "1 0");
}

// ---------------------------------------------------------------------------------------------
// DaemonSet

fn daemonset(name: &str, extra_pod_spec: &str, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: {name}\nspec:\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n{extra_pod_spec}      \
         containers:\n      - name: main\n        image: {image}\n"
    )
}

/// The node each of the DaemonSet's pods is for (from the pinned node affinity).
fn ds_targets(s: &Server, app: &str) -> Vec<String> {
    let out = get(s, &["get", "pods", "-l", &format!("app={app}"), "-o", "jsonpath={range .items[*]}{.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values[0]}\n{end}"]);
    let mut v: Vec<String> = out.lines().map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn daemonset_runs_one_pod_per_node_including_later_nodes() {
    let s = Server::start();
    let _sim = s.sim(2, &[]);
    s.ok_stdin(&["apply", "-f", "-"], &daemonset("agent", "", "agent:1"));
    eventually(Duration::from_secs(30), "a pod per node", || ds_targets(&s, "agent") == vec!["sim-0", "sim-1"]);
    let tolerations = get(&s, &["get", "pods", "-l", "app=agent", "-o", "jsonpath={.items[0].spec.tolerations[*].key}"]);
    for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable", "node.kubernetes.io/disk-pressure", "node.kubernetes.io/memory-pressure", "node.kubernetes.io/pid-pressure", "node.kubernetes.io/unschedulable"] {
        assert!(tolerations.contains(key), "{tolerations}");
    }
    assert!(!tolerations.contains("network-unavailable"), "{tolerations}");
    let hash = get(&s, &["get", "pods", "-l", "app=agent", "-o", "jsonpath={.items[0].metadata.labels.controller-revision-hash}"]);
    assert_eq!(get(&s, &["get", "controllerrevision", &format!("agent-{hash}"), "-o", "jsonpath={.revision}"]), "1");
    eventually(Duration::from_secs(20), "desired 2", || get(&s, &["get", "ds", "agent", "-o", "jsonpath={.status.desiredNumberScheduled} {.status.currentNumberScheduled} {.status.numberMisscheduled}"]) == "2 2 0");
    // the scheduler places each pod on the node its affinity names
    s.ok(&["rollout", "status", "ds/agent", "--timeout=60s"]);
    let placed = get(&s, &["get", "pods", "-l", "app=agent", "-o", "jsonpath={range .items[*]}{.spec.nodeName}={.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values[0]}\n{end}"]);
    for l in placed.lines() {
        let (a, b) = l.split_once('=').unwrap();
        assert_eq!(a, b, "{placed}");
    }
    assert_eq!(get(&s, &["get", "ds", "agent", "-o", "jsonpath={.status.numberReady} {.status.numberAvailable} {.status.updatedNumberScheduled}"]), "2 2 2");

    // a node that joins later gets its pod
    let _more = s.sim(1, &["--name-prefix", "late-"]);
    eventually(Duration::from_secs(30), "a pod for the late node", || ds_targets(&s, "agent") == vec!["late-0", "sim-0", "sim-1"]);
    eventually(Duration::from_secs(20), "desired 3", || get(&s, &["get", "ds", "agent", "-o", "jsonpath={.status.desiredNumberScheduled}"]) == "3");
}

#[test]
fn daemonset_follows_node_labels_and_taints() {
    let s = Server::start();
    let _sim = s.sim(2, &[]);
    s.ok_stdin(&["apply", "-f", "-"], &daemonset("gpu", "      nodeSelector: {gpu: \"yes\"}\n", "gpu:1"));
    std::thread::sleep(Duration::from_secs(2));
    assert!(ds_targets(&s, "gpu").is_empty());
    assert_eq!(get(&s, &["get", "ds", "gpu", "-o", "jsonpath={.status.desiredNumberScheduled}"]), "0");
    s.ok(&["label", "node", "sim-1", "gpu=yes"]);
    eventually(Duration::from_secs(30), "a pod on the labelled node", || ds_targets(&s, "gpu") == vec!["sim-1"]);
    // a NoExecute taint the pod does not tolerate evicts it
    s.ok(&["taint", "node", "sim-1", "dedicated=other:NoExecute"]);
    eventually(Duration::from_secs(30), "the pod removed", || ds_targets(&s, "gpu").is_empty());
    s.ok(&["taint", "node", "sim-1", "dedicated-"]);
    eventually(Duration::from_secs(30), "the pod back", || ds_targets(&s, "gpu") == vec!["sim-1"]);
    s.ok(&["label", "node", "sim-1", "gpu-"]);
    eventually(Duration::from_secs(30), "the pod removed again", || ds_targets(&s, "gpu").is_empty());
}

#[test]
fn daemonset_rolling_update_replaces_every_pod() {
    let s = Server::start();
    let _sim = s.sim(3, &[]);
    s.ok_stdin(&["apply", "-f", "-"], &daemonset("roll", "", "agent:1"));
    s.ok(&["rollout", "status", "ds/roll", "--timeout=60s"]);
    let old_hash = get(&s, &["get", "pods", "-l", "app=roll", "-o", "jsonpath={.items[0].metadata.labels.controller-revision-hash}"]);
    s.ok_stdin(&["apply", "-f", "-"], &daemonset("roll", "", "agent:2"));
    s.ok(&["rollout", "status", "ds/roll", "--timeout=90s"]);
    let st = get(&s, &["get", "ds", "roll", "-o", "jsonpath={.status.desiredNumberScheduled} {.status.currentNumberScheduled} {.status.updatedNumberScheduled} {.status.numberReady} {.status.numberAvailable}"]);
    assert_eq!(st, "3 3 3 3 3");
    eventually(Duration::from_secs(30), "only new pods", || {
        let pods = get(&s, &["get", "pods", "-l", "app=roll", "-o", "jsonpath={range .items[*]}{.spec.containers[0].image} {.metadata.labels.controller-revision-hash}\n{end}"]);
        pods.lines().count() == 3 && pods.lines().all(|l| l.starts_with("agent:2 ") && !l.ends_with(&format!(" {old_hash}")))
    });
    let revs = get(&s, &["get", "controllerrevisions", "-l", "app=roll", "-o", "name"]);
    assert_eq!(revs.lines().count(), 2, "{revs}");
}
