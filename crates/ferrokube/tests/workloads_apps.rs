//! Workload controllers end to end with real kubectl 1.32, the scheduler and simulated nodes: Deployments
//! (rollout, history, undo, pause/resume, restart, scale), the bounds of a rolling update
//! observed by a watcher, ReplicaSet adoption and release, ReplicationControllers, the garbage
//! collector's three propagation policies and PodGC.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};
use support::{Server, eventually};

const LONG: Duration = Duration::from_secs(90);

fn out(s: &Server, args: &[&str]) -> String {
    s.ok(args).trim().to_string()
}

fn running_pods(s: &Server, selector: &str) -> usize {
    out(s, &["get", "pods", "-l", selector, "--field-selector", "status.phase=Running", "-o", "name"]).lines().count()
}

fn pods_of(s: &Server, selector: &str) -> Vec<String> {
    out(s, &["get", "pods", "-l", selector, "-o", "name"]).lines().map(String::from).collect()
}

/// What the pod watcher saw over a rollout: most pods not terminating, fewest of them available.
#[derive(Default, Debug)]
struct Bounds {
    max_pods: usize,
    min_available: usize,
    samples: usize,
}

/// Watches the pods matching `selector` and records the bounds while `armed`.
fn watch_bounds(rt: &tokio::runtime::Runtime, s: &Server, selector: &str, armed: Arc<Mutex<bool>>) -> Arc<Mutex<Bounds>> {
    let client = rt.block_on(s.client());
    let bounds = Arc::new(Mutex::new(Bounds { max_pods: 0, min_available: usize::MAX, samples: 0 }));
    let b = bounds.clone();
    let cfg = watcher::Config::default().labels(selector);
    rt.spawn(async move {
        let pods: Api<Pod> = Api::namespaced(client, "default");
        let mut state: BTreeMap<String, Pod> = BTreeMap::new();
        let mut stream = std::pin::pin!(watcher(pods, cfg).default_backoff());
        while let Some(ev) = stream.next().await {
            match ev {
                Ok(watcher::Event::Apply(p)) | Ok(watcher::Event::InitApply(p)) => {
                    state.insert(p.metadata.name.clone().unwrap_or_default(), p);
                }
                Ok(watcher::Event::Delete(p)) => {
                    state.remove(&p.metadata.name.clone().unwrap_or_default());
                }
                _ => continue,
            }
            if !*armed.lock().unwrap() {
                continue;
            }
            let live: Vec<&Pod> = state.values().filter(|p| p.metadata.deletion_timestamp.is_none()).collect();
            let available = live
                .iter()
                .filter(|p| {
                    p.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
                })
                .count();
            let mut g = b.lock().unwrap();
            g.max_pods = g.max_pods.max(live.len());
            g.min_available = g.min_available.min(available);
            g.samples += 1;
        }
    });
    bounds
}

fn rollout_status(s: &Server, name: &str) {
    let o = out(s, &["rollout", "status", name, "--timeout=120s"]);
    assert!(o.contains("successfully rolled out"), "{o}");
}

fn image_of(s: &Server, deploy: &str) -> String {
    out(s, &["get", "deployment", deploy, "-o", "jsonpath={.spec.template.spec.containers[0].image}"])
}

fn replicasets_of(s: &Server, selector: &str) -> BTreeSet<String> {
    out(s, &["get", "rs", "-l", selector, "-o", "name"]).lines().map(String::from).collect()
}

#[test]
fn deployment_rollout_history_undo_pause_restart_and_scale() {
    let s = Server::start();
    let _sim = s.sim(3, &[]);
    let rt = tokio::runtime::Runtime::new().unwrap();

    s.ok(&["create", "deployment", "web", "--image=busybox:1.36", "--replicas=5"]);
    eventually(LONG, "5 running pods", || running_pods(&s, "app=web") == 5);
    rollout_status(&s, "deployment/web");
    // placed by the scheduler on the simulated nodes
    let nodes = out(&s, &["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].spec.nodeName}"]);
    assert!(nodes.split_whitespace().count() == 5 && nodes.split_whitespace().all(|n| n.starts_with("sim-")), "{nodes}");
    // the ReplicaSet is named after the template hash, which is also its pods' label
    let rs = replicasets_of(&s, "app=web");
    assert_eq!(rs.len(), 1, "{rs:?}");
    let rs1 = rs.iter().next().unwrap().trim_start_matches("replicaset.apps/").to_string();
    let hash = out(&s, &["get", "rs", &rs1, "-o", "jsonpath={.metadata.labels.pod-template-hash}"]);
    assert_eq!(rs1, format!("web-{hash}"));
    assert_eq!(out(&s, &["get", "rs", &rs1, "-o", "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}"]), "1");
    let owner = out(&s, &["get", "rs", &rs1, "-o", "jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}"]);
    assert_eq!(owner, "Deployment/web/true");
    let pod_hashes: BTreeSet<String> = out(&s, &["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.labels.pod-template-hash}"]).split_whitespace().map(String::from).collect();
    assert_eq!(pod_hashes, BTreeSet::from([hash.clone()]));
    let conds = out(&s, &["get", "deployment", "web", "-o", "jsonpath={range .status.conditions[*]}{.type}={.status}/{.reason};{end}"]);
    assert!(conds.contains("Available=True/MinimumReplicasAvailable"), "{conds}");
    assert!(conds.contains("Progressing=True/NewReplicaSetAvailable"), "{conds}");
    let status = out(&s, &["get", "deployment", "web", "-o", "jsonpath={.status.replicas}/{.status.updatedReplicas}/{.status.readyReplicas}/{.status.availableReplicas}"]);
    assert_eq!(status, "5/5/5/5");

    // a rolling update within maxSurge (25% of 5 -> 2, up) and maxUnavailable (25% -> 1, down)
    let armed = Arc::new(Mutex::new(false));
    let bounds = watch_bounds(&rt, &s, "app=web", armed.clone());
    std::thread::sleep(Duration::from_millis(500));
    *armed.lock().unwrap() = true;
    s.ok(&["annotate", "deployment", "web", "kubernetes.io/change-cause=to busybox 1.37"]);
    s.ok(&["set", "image", "deployment/web", "busybox=busybox:1.37"]);
    rollout_status(&s, "deployment/web");
    eventually(LONG, "5 running pods of the new image", || {
        out(&s, &["get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].spec.containers[0].image}"]).split_whitespace().filter(|i| *i == "busybox:1.37").count() == 5
            && running_pods(&s, "app=web") == 5
    });
    *armed.lock().unwrap() = false;
    {
        let b = bounds.lock().unwrap();
        eprintln!("rolling update bounds: {b:?}");
        assert!(b.samples > 5 && b.max_pods > 5, "the watcher saw the rollout surge: {b:?}");
        assert!(b.max_pods <= 7, "never more than replicas + maxSurge pods: {b:?}");
        assert!(b.min_available >= 4, "never fewer than replicas - maxUnavailable available: {b:?}");
    }
    assert_eq!(replicasets_of(&s, "app=web").len(), 2);
    let old_replicas = out(&s, &["get", "rs", &rs1, "-o", "jsonpath={.spec.replicas}"]);
    assert_eq!(old_replicas, "0");
    assert_eq!(out(&s, &["get", "deployment", "web", "-o", "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}"]), "2");

    // history lists both revisions with the change cause
    let hist = out(&s, &["rollout", "history", "deployment/web"]);
    assert!(hist.lines().any(|l| l.trim_start().starts_with('1')), "{hist}");
    assert!(hist.lines().any(|l| l.trim_start().starts_with('2') && l.contains("to busybox 1.37")), "{hist}");
    let rev1 = out(&s, &["rollout", "history", "deployment/web", "--revision=1"]);
    assert!(rev1.contains("busybox:1.36"), "{rev1}");

    // undo returns to the previous template; the old ReplicaSet becomes revision 3
    s.ok(&["rollout", "undo", "deployment/web"]);
    assert_eq!(image_of(&s, "web"), "busybox:1.36");
    rollout_status(&s, "deployment/web");
    assert_eq!(out(&s, &["get", "rs", &rs1, "-o", "jsonpath={.spec.replicas}/{.metadata.annotations.deployment\\.kubernetes\\.io/revision}"]), "5/3");
    assert_eq!(replicasets_of(&s, "app=web").len(), 2, "undo reuses the old ReplicaSet");

    // pause: template changes roll nothing out until resumed
    s.ok(&["rollout", "pause", "deployment/web"]);
    eventually(LONG, "the paused condition", || {
        out(&s, &["get", "deployment", "web", "-o", "jsonpath={.status.conditions[?(@.type==\"Progressing\")].reason}"]) == "DeploymentPaused"
    });
    s.ok(&["set", "image", "deployment/web", "busybox=busybox:1.38"]);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(replicasets_of(&s, "app=web").len(), 2, "no new ReplicaSet while paused");
    s.ok(&["rollout", "resume", "deployment/web"]);
    rollout_status(&s, "deployment/web");
    assert_eq!(replicasets_of(&s, "app=web").len(), 3);

    // restart: a new ReplicaSet whose template carries restartedAt
    s.ok(&["rollout", "restart", "deployment/web"]);
    rollout_status(&s, "deployment/web");
    let restarted = out(&s, &["get", "rs", "-l", "app=web", "-o", "jsonpath={.items[*].spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}"]);
    assert!(!restarted.is_empty(), "a ReplicaSet with restartedAt");
    assert_eq!(replicasets_of(&s, "app=web").len(), 4);

    // scale down and back up through the scale subresource
    s.ok(&["scale", "deployment/web", "--replicas=2"]);
    eventually(LONG, "2 pods", || pods_of(&s, "app=web").len() == 2);
    rollout_status(&s, "deployment/web");
    s.ok(&["scale", "deployment/web", "--replicas=5"]);
    eventually(LONG, "5 running pods again", || running_pods(&s, "app=web") == 5 && pods_of(&s, "app=web").len() == 5);
    rollout_status(&s, "deployment/web");
    assert_eq!(out(&s, &["get", "deployment", "web", "-o", "jsonpath={.status.availableReplicas}/{.status.observedGeneration}"]), format!("5/{}", out(&s, &["get", "deployment", "web", "-o", "jsonpath={.metadata.generation}"])));
}

#[test]
fn recreate_and_revision_history_limit() {
    let s = Server::start();
    let _sim = s.sim(2, &[]);
    let yaml = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: rec}
spec:
  replicas: 3
  revisionHistoryLimit: 1
  strategy: {type: Recreate}
  selector: {matchLabels: {app: rec}}
  template:
    metadata: {labels: {app: rec}}
    spec: {containers: [{name: c, image: "busybox:1"}]}
"#;
    s.ok_stdin(&["apply", "-f", "-"], yaml);
    rollout_status(&s, "deployment/rec");
    for img in ["busybox:2", "busybox:3"] {
        s.ok(&["set", "image", "deployment/rec", &format!("c={img}")]);
        rollout_status(&s, "deployment/rec");
        let images: BTreeSet<String> = out(&s, &["get", "pods", "-l", "app=rec", "-o", "jsonpath={.items[*].spec.containers[0].image}"]).split_whitespace().map(String::from).collect();
        assert_eq!(images, BTreeSet::from([img.to_string()]));
    }
    // only one old ReplicaSet is kept beside the current one
    eventually(LONG, "old ReplicaSets cleaned up", || replicasets_of(&s, "app=rec").len() == 2);
}

#[test]
fn deletion_propagation_background_orphan_foreground() {
    let s = Server::start();
    let _sim = s.sim(2, &[]);
    for d in ["bg", "or", "fg"] {
        s.ok(&["create", "deployment", d, "--image=busybox", "--replicas=2"]);
    }
    for d in ["bg", "or", "fg"] {
        eventually(LONG, "2 running pods", || running_pods(&s, &format!("app={d}")) == 2);
    }

    // background (kubectl's default): the ReplicaSet and the pods follow
    s.ok(&["delete", "deployment", "bg"]);
    eventually(LONG, "bg's ReplicaSet and pods gone", || replicasets_of(&s, "app=bg").is_empty() && pods_of(&s, "app=bg").is_empty());

    // orphan: the ReplicaSet and pods stay, without the reference to the deleted owner
    s.ok(&["delete", "deployment", "or", "--cascade=orphan"]);
    s.fails(&["get", "deployment", "or"]);
    let rs = replicasets_of(&s, "app=or");
    assert_eq!(rs.len(), 1);
    let rs = rs.into_iter().next().unwrap();
    eventually(LONG, "ownerReferences removed", || out(&s, &["get", &rs, "-o", "jsonpath={.metadata.ownerReferences}"]).is_empty());
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(running_pods(&s, "app=or"), 2, "orphaned pods keep running");
    assert_eq!(replicasets_of(&s, "app=or").len(), 1);

    // foreground: kubectl waits until the dependents are gone, then the owner
    let rs_fg = replicasets_of(&s, "app=fg");
    assert_eq!(rs_fg.len(), 1);
    let (mut watch, lines) = s.kubectl_lines(&["get", "deployment", "fg", "-w", "-o", "jsonpath={.metadata.finalizers}{\"\\n\"}"]);
    s.ok(&["delete", "deployment", "fg", "--cascade=foreground", "--timeout=90s"]);
    let _ = watch.kill();
    let seen: Vec<String> = lines.try_iter().collect();
    assert!(seen.iter().any(|l| l.contains("foregroundDeletion")), "the owner carried foregroundDeletion: {seen:?}");
    assert!(replicasets_of(&s, "app=fg").is_empty());
    assert!(pods_of(&s, "app=fg").is_empty());
}

#[test]
fn replicaset_adopts_releases_and_replication_controller_keeps_replicas() {
    let s = Server::start();
    let _sim = s.sim(2, &[]);

    s.ok(&["run", "stray", "--image=busybox", "--labels=app=adopt,tier=x"]);
    eventually(LONG, "the stray pod running", || running_pods(&s, "app=adopt") == 1);
    let rs = r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: adopter}
spec:
  replicas: 2
  selector: {matchLabels: {app: adopt}}
  template:
    metadata: {labels: {app: adopt}}
    spec: {containers: [{name: c, image: busybox}]}
"#;
    s.ok_stdin(&["apply", "-f", "-"], rs);
    eventually(LONG, "the stray pod adopted", || out(&s, &["get", "pod", "stray", "-o", "jsonpath={.metadata.ownerReferences[0].name}"]) == "adopter");
    eventually(LONG, "2 ready replicas", || out(&s, &["get", "rs", "adopter", "-o", "jsonpath={.status.readyReplicas}"]) == "2");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(pods_of(&s, "app=adopt").len(), 2, "one pod created beside the adopted one");
    assert_eq!(out(&s, &["get", "rs", "adopter", "-o", "jsonpath={.status.fullyLabeledReplicas}"]), "2");

    // a pod relabelled out of the selector is released and replaced
    s.ok(&["label", "pod", "stray", "app=gone", "--overwrite"]);
    eventually(LONG, "the stray pod released", || out(&s, &["get", "pod", "stray", "-o", "jsonpath={.metadata.ownerReferences}"]).is_empty());
    eventually(LONG, "a replacement pod", || pods_of(&s, "app=adopt").len() == 2);

    // minReadySeconds: ready pods count as available only after it
    let slow = r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: minready}
spec:
  replicas: 2
  minReadySeconds: 6
  selector: {matchLabels: {app: minready}}
  template:
    metadata: {labels: {app: minready}}
    spec: {containers: [{name: c, image: busybox}]}
"#;
    s.ok_stdin(&["apply", "-f", "-"], slow);
    eventually(LONG, "2 ready replicas", || out(&s, &["get", "rs", "minready", "-o", "jsonpath={.status.readyReplicas}"]) == "2");
    let early = out(&s, &["get", "rs", "minready", "-o", "jsonpath={.status.availableReplicas}"]);
    assert!(early.is_empty() || early == "0", "not yet available: {early}");
    eventually(LONG, "2 available replicas", || out(&s, &["get", "rs", "minready", "-o", "jsonpath={.status.availableReplicas}"]) == "2");

    // ReplicationController
    let rc = r#"
apiVersion: v1
kind: ReplicationController
metadata: {name: rc}
spec:
  replicas: 3
  selector: {app: rc}
  template:
    metadata: {labels: {app: rc}}
    spec: {containers: [{name: c, image: busybox}]}
"#;
    s.ok_stdin(&["apply", "-f", "-"], rc);
    eventually(LONG, "3 running rc pods", || running_pods(&s, "app=rc") == 3);
    let victim = pods_of(&s, "app=rc").into_iter().next().unwrap();
    s.ok(&["delete", &victim]);
    eventually(LONG, "3 rc pods again", || {
        let p = pods_of(&s, "app=rc");
        p.len() == 3 && !p.contains(&victim)
    });
    eventually(LONG, "rc status", || out(&s, &["get", "rc", "rc", "-o", "jsonpath={.status.replicas}/{.status.readyReplicas}"]) == "3/3");
    s.ok(&["scale", "rc", "rc", "--replicas=1"]);
    eventually(LONG, "1 rc pod", || pods_of(&s, "app=rc").len() == 1);
    s.ok(&["delete", "rc", "rc"]);
    eventually(LONG, "rc pods collected", || pods_of(&s, "app=rc").is_empty());
}

#[test]
fn replicaset_reports_quota_failure() {
    let s = Server::start();
    s.ok(&["create", "quota", "q", "--hard=pods=1"]);
    eventually(LONG, "the quota counted", || out(&s, &["get", "quota", "q", "-o", "jsonpath={.status.hard.pods}"]) == "1");
    let rs = r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: capped}
spec:
  replicas: 3
  selector: {matchLabels: {app: capped}}
  template:
    metadata: {labels: {app: capped}}
    spec: {containers: [{name: c, image: busybox}]}
"#;
    s.ok_stdin(&["apply", "-f", "-"], rs);
    eventually(LONG, "ReplicaFailure", || {
        out(&s, &["get", "rs", "capped", "-o", "jsonpath={.status.conditions[?(@.type==\"ReplicaFailure\")].reason}"]) == "FailedCreate"
    });
    let msg = out(&s, &["get", "rs", "capped", "-o", "jsonpath={.status.conditions[?(@.type==\"ReplicaFailure\")].message}"]);
    assert!(msg.contains("exceeded quota"), "{msg}");
    // (exactly one is expected; concurrent creates inside one slow-start batch may both pass
    // quota admission today, an apiserver matter)
    assert!(pods_of(&s, "app=capped").len() < 3);
    let events = out(&s, &["get", "events", "--field-selector", "reason=FailedCreate", "-o", "jsonpath={.items[*].message}"]);
    assert!(events.contains("Error creating:"), "{events}");
    // more room: the failure clears
    s.ok(&["patch", "quota", "q", "-p", r#"{"spec":{"hard":{"pods":"3"}}}"#]);
    eventually(LONG, "3 pods and no failure", || {
        pods_of(&s, "app=capped").len() == 3
            && out(&s, &["get", "rs", "capped", "-o", "jsonpath={.status.conditions[?(@.type==\"ReplicaFailure\")].reason}"]).is_empty()
    });
}

#[test]
fn podgc_collects_pods_of_deleted_nodes() {
    let s = Server::start();
    s.ok_stdin(&["apply", "-f", "-"], "apiVersion: v1\nkind: Node\nmetadata: {name: ghost}\n");
    let pod = r#"
apiVersion: v1
kind: Pod
metadata: {name: stranded}
spec:
  nodeName: ghost
  containers: [{name: c, image: busybox}]
"#;
    s.ok_stdin(&["apply", "-f", "-"], pod);
    std::thread::sleep(Duration::from_secs(3));
    out(&s, &["get", "pod", "stranded"]);
    let (mut watch, lines) = s.kubectl_lines(&[
        "get", "pod", "stranded", "-w", "-o",
        "jsonpath={.status.phase}/{.status.conditions[?(@.type==\"DisruptionTarget\")].reason}{\"\\n\"}",
    ]);
    s.ok(&["delete", "node", "ghost"]);
    eventually(Duration::from_secs(150), "the orphaned pod collected", || s.kubectl(&["get", "pod", "stranded"]).status.code() == Some(1));
    std::thread::sleep(Duration::from_millis(500));
    let _ = watch.kill();
    let seen: Vec<String> = lines.try_iter().collect();
    assert!(seen.iter().any(|l| l == "Failed/DeletionByPodGC"), "failed with DisruptionTarget before deletion: {seen:?}");
}

#[test]
fn progress_deadline_and_events() {
    let s = Server::start();
    // no nodes: the pods never run, the rollout times out
    let yaml = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: slow}
spec:
  replicas: 2
  progressDeadlineSeconds: 3
  selector: {matchLabels: {app: slow}}
  template:
    metadata: {labels: {app: slow}}
    spec: {containers: [{name: c, image: busybox}]}
"#;
    s.ok_stdin(&["apply", "-f", "-"], yaml);
    eventually(LONG, "ProgressDeadlineExceeded", || {
        out(&s, &["get", "deployment", "slow", "-o", "jsonpath={.status.conditions[?(@.type==\"Progressing\")].reason}"]) == "ProgressDeadlineExceeded"
    });
    let msg = out(&s, &["get", "deployment", "slow", "-o", "jsonpath={.status.conditions[?(@.type==\"Progressing\")].message}"]);
    assert!(msg.starts_with("ReplicaSet \"slow-") && msg.ends_with("\" has timed out progressing."), "{msg}");
    let avail = out(&s, &["get", "deployment", "slow", "-o", "jsonpath={.status.conditions[?(@.type==\"Available\")].status}/{.status.conditions[?(@.type==\"Available\")].reason}"]);
    assert_eq!(avail, "False/MinimumReplicasUnavailable");
    assert_eq!(out(&s, &["get", "deployment", "slow", "-o", "jsonpath={.status.unavailableReplicas}"]), "2");
    let err = String::from_utf8_lossy(&s.kubectl(&["rollout", "status", "deployment/slow", "--timeout=20s"]).stderr).to_string();
    assert!(err.contains("exceeded its progress deadline"), "{err}");
    // the controllers' events, as kubectl describe shows them
    let d = out(&s, &["describe", "deployment", "slow"]);
    assert!(d.contains("ScalingReplicaSet") && d.contains("Scaled up replica set slow-") && d.contains("from 0 to 2"), "{d}");
    let rs = out(&s, &["get", "rs", "-l", "app=slow", "-o", "jsonpath={.items[0].metadata.name}"]);
    let r = out(&s, &["describe", "rs", &rs]);
    assert!(r.contains("SuccessfulCreate") && r.contains("Created pod: slow-"), "{r}");
}

#[test]
fn garbage_collector_follows_any_resource_including_custom_ones() {
    let s = Server::start();
    // core objects owned by a ConfigMap
    s.ok(&["create", "configmap", "owner"]);
    let uid = out(&s, &["get", "configmap", "owner", "-o", "jsonpath={.metadata.uid}"]);
    let dep = |kind: &str, name: &str| {
        format!(
            "apiVersion: v1\nkind: {kind}\nmetadata:\n  name: {name}\n  ownerReferences:\n  - {{apiVersion: v1, kind: ConfigMap, name: owner, uid: {uid}}}\n"
        )
    };
    s.ok_stdin(&["apply", "-f", "-"], &dep("ConfigMap", "child"));
    s.ok_stdin(&["apply", "-f", "-"], &format!("{}stringData: {{a: b}}\ntype: Opaque\n", dep("Secret", "child-secret")));
    // an object whose owner never existed goes too
    s.ok_stdin(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dangling\n  ownerReferences:\n  - {apiVersion: v1, kind: ConfigMap, name: ghost, uid: 00000000-0000-0000-0000-000000000001}\n",
    );
    eventually(LONG, "the dangling dependent collected", || s.kubectl(&["get", "configmap", "dangling"]).status.code() == Some(1));
    assert!(s.kubectl(&["get", "configmap", "child"]).status.success(), "a dependent of a live owner stays");
    s.ok(&["delete", "configmap", "owner"]);
    eventually(LONG, "dependents collected", || {
        s.kubectl(&["get", "configmap", "child"]).status.code() == Some(1) && s.kubectl(&["get", "secret", "child-secret"]).status.code() == Some(1)
    });

    // a custom resource defined after the collector started (found by its discovery refresh)
    let crd = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"#;
    s.ok_stdin(&["apply", "-f", "-"], crd);
    s.ok(&["wait", "--for", "condition=established", "crd/gadgets.example.com", "--timeout=20s"]);
    s.ok_stdin(&["apply", "-f", "-"], "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: parent}\n");
    let puid = out(&s, &["get", "gadget", "parent", "-o", "jsonpath={.metadata.uid}"]);
    s.ok_stdin(
        &["apply", "-f", "-"],
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gadget-child\n  ownerReferences:\n  - {{apiVersion: example.com/v1, kind: Gadget, name: parent, uid: {puid}}}\n"),
    );
    s.ok_stdin(
        &["apply", "-f", "-"],
        &format!("apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: gadget-grandchild\n  ownerReferences:\n  - {{apiVersion: v1, kind: ConfigMap, name: gadget-child, uid: {}}}\n", out(&s, &["get", "configmap", "gadget-child", "-o", "jsonpath={.metadata.uid}"])),
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(s.kubectl(&["get", "configmap", "gadget-child"]).status.success(), "a live custom owner keeps its dependent");
    s.ok(&["delete", "gadget", "parent"]);
    eventually(Duration::from_secs(120), "the chain under a custom owner collected", || {
        s.kubectl(&["get", "configmap", "gadget-child"]).status.code() == Some(1) && s.kubectl(&["get", "gadget", "gadget-grandchild"]).status.code() == Some(1)
    });
}
