//! The kubelet's pod behaviours end to end: a server with its node agent on this machine (real
//! containerd, runc, CNI), driven by kubectl 1.32 only. Crash loops with growing back-off, OOM
//! kills reported as `OOMKilled`, liveness restarts, readiness gating the Ready condition and a
//! Service's EndpointSlice, volumes seen from inside the container, restricted security contexts
//! and upstream's runAsNonRoot refusal, adoption of running pods by a restarted agent, nothing
//! left on the machine after a pod is deleted, and init containers with a sidecar.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Server, eventually};

/// Creates namespace `ns` with the Pod Security `enforce` level `level` and waits for its
/// default ServiceAccount (pods need it).
fn namespace(s: &Server, ns: &str, level: &str) {
    s.ok(&["create", "namespace", ns]);
    s.ok(&["label", "namespace", ns, &format!("pod-security.kubernetes.io/enforce={level}")]);
    eventually(Duration::from_secs(30), "the default service account", || s.kubectl(&["get", "-n", ns, "serviceaccount/default"]).status.success());
}

fn apply(s: &Server, yaml: &str) {
    s.ok_stdin(&["apply", "-f", "-"], yaml);
}

/// The object as JSON (Null when it cannot be read).
fn get(s: &Server, ns: &str, what: &str) -> Value {
    let out = s.kubectl(&["get", "-n", ns, what, "-o", "json"]);
    if !out.status.success() {
        return Value::Null;
    }
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// The status of container `name` (app or init) of a pod's JSON.
fn cstatus<'a>(pod: &'a Value, name: &str) -> &'a Value {
    for key in ["containerStatuses", "initContainerStatuses"] {
        if let Some(c) = pod["status"][key].as_array().and_then(|v| v.iter().find(|c| c["name"] == name)) {
            return c;
        }
    }
    &Value::Null
}

fn condition(pod: &Value, type_: &str) -> Value {
    pod["status"]["conditions"].as_array().and_then(|v| v.iter().find(|c| c["type"] == type_)).cloned().unwrap_or(Value::Null)
}

/// Polls the pod until `f` holds, returning the pod's JSON; panics with the pod and the server
/// log's tail after `timeout`.
fn wait_pod(s: &Server, ns: &str, name: &str, timeout: Duration, what: &str, mut f: impl FnMut(&Value) -> bool) -> Value {
    let deadline = Instant::now() + timeout;
    let mut last = Value::Null;
    while Instant::now() < deadline {
        last = get(s, ns, &format!("pod/{name}"));
        if !last.is_null() && f(&last) {
            return last;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("timed out waiting for {what} of pod {ns}/{name}; pod status: {:#}\nserver log tail:\n{}", last["status"], support::tail(&s.log_text(), 40));
}

fn running(s: &Server, ns: &str, name: &str) -> Value {
    wait_pod(s, ns, name, Duration::from_secs(45), "phase Running", |p| p["status"]["phase"] == "Running")
}

/// The events about `name` in `ns`: (type, reason, message).
fn events(s: &Server, ns: &str, name: &str) -> Vec<(String, String, String)> {
    let v = get(s, ns, "events");
    v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["involvedObject"]["name"] == name)
        .map(|e| (e["type"].as_str().unwrap_or("").to_string(), e["reason"].as_str().unwrap_or("").to_string(), e["message"].as_str().unwrap_or("").to_string()))
        .collect()
}

fn has_event(s: &Server, ns: &str, name: &str, type_: &str, reason: &str, message_part: &str) -> bool {
    events(s, ns, name).iter().any(|(t, r, m)| t == type_ && r == reason && m.contains(message_part))
}

/// The STATUS column of `kubectl get pod`.
fn status_column(s: &Server, ns: &str, name: &str) -> String {
    let out = s.kubectl(&["get", "pod", "-n", ns, name, "--no-headers"]);
    String::from_utf8_lossy(&out.stdout).split_whitespace().nth(2).unwrap_or("").to_string()
}

fn exec(s: &Server, ns: &str, pod: &str, cmd: &[&str]) -> String {
    let mut args = vec!["exec", "-n", ns, pod, "--"];
    args.extend_from_slice(cmd);
    s.ok(&args).trim_end().to_string()
}

fn seconds(t: &Value) -> i64 {
    t.as_str().and_then(|s| s.parse::<jiff::Timestamp>().ok()).map(|t| t.as_second()).unwrap_or_else(|| panic!("not a timestamp: {t}"))
}

#[test]
fn a_crashing_container_backs_off_into_crash_loop() {
    let s = Server::start_node("n1", &[]);
    namespace(&s, "t", "baseline");
    apply(
        &s,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: crash, namespace: t}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "exit 1"]
"#,
    );
    let created = seconds(&get(&s, "t", "pod/crash")["metadata"]["creationTimestamp"]);
    // restartCount n with the container exited: lastState is attempt n's termination
    let mut attempts: BTreeMap<u64, (i64, i64)> = BTreeMap::new();
    let mut saw_crash_loop = false;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline && !(attempts.contains_key(&3) && saw_crash_loop) {
        let p = get(&s, "t", "pod/crash");
        let c = cstatus(&p, "c");
        if let Some(n) = c["restartCount"].as_u64()
            && c["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        {
            saw_crash_loop = true;
            let t = &c["lastState"]["terminated"];
            assert_eq!(t["exitCode"], 1, "{c:#}");
            assert_eq!(t["reason"], "Error", "{c:#}");
            let msg = c["state"]["waiting"]["message"].as_str().unwrap_or("");
            assert!(msg.starts_with("back-off ") && msg.contains("restarting failed container=c pod=crash_t("), "{msg}");
            attempts.insert(n, (seconds(&t["startedAt"]), seconds(&t["finishedAt"])));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(attempts.contains_key(&3) && saw_crash_loop, "three restarts in CrashLoopBackOff within 60 s; saw {attempts:?}\n{}", support::tail(&s.log_text(), 30));
    // upstream: the first restart is immediate, then 10 s, 20 s, ... between them
    let first = attempts.get(&1).map(|a| a.0).unwrap_or(created);
    assert!(first - created <= 8, "the first restart came {} s after creation", first - created);
    let start = |n: u64| attempts.get(&n).unwrap_or_else(|| panic!("attempt {n} not seen in CrashLoopBackOff: {attempts:?}")).0;
    let (s1, s2, s3) = (start(1), start(2), start(3));
    assert!(s2 - s1 >= 10, "attempt 2 started {} s after attempt 1: {attempts:?}", s2 - s1);
    assert!(s3 - s2 >= 20, "attempt 3 started {} s after attempt 2: {attempts:?}", s3 - s2);
    assert!(s3 - s2 < 30, "the back-off doubles, not more: {attempts:?}");
    assert_eq!(status_column(&s, "t", "crash"), "CrashLoopBackOff");
    let uid = get(&s, "t", "pod/crash")["metadata"]["uid"].as_str().unwrap().to_string();
    eventually(Duration::from_secs(10), "a BackOff event", || {
        has_event(&s, "t", "crash", "Warning", "BackOff", &format!("Back-off restarting failed container c in pod crash_t({uid})"))
    });
}

#[test]
fn a_memory_hog_is_oom_killed() {
    let s = Server::start_node("n1", &[]);
    namespace(&s, "t", "baseline");
    let pod = |name: &str, policy: &str, cmd: &str| {
        format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: t}}
spec:
  restartPolicy: {policy}
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "{cmd}"]
    resources: {{limits: {{memory: 32Mi}}}}
    volumeMounts: [{{name: d, mountPath: /d}}]
  volumes: [{{name: d, emptyDir: {{}}}}]
"#
        )
    };
    // dd's block buffer is 64 MiB, twice the limit
    let hog = "sleep 1; dd if=/dev/zero of=/dev/null bs=64M count=1";
    apply(&s, &pod("hog", "Never", hog));
    // OOM-killed once, then an exit 137 of its own, then it stays up
    apply(&s, &pod("hog-again", "Always", &format!("if [ -f /d/2 ]; then exec sleep 600; fi; if [ -f /d/1 ]; then touch /d/2; sleep 1; exit 137; fi; touch /d/1; {hog}")));
    // exit 137 that is not an OOM kill
    apply(&s, &pod("killed", "Never", "sleep 1; exit 137"));

    let p = wait_pod(&s, "t", "hog", Duration::from_secs(45), "a terminated container", |p| !cstatus(p, "c")["state"]["terminated"].is_null());
    let t = &cstatus(&p, "c")["state"]["terminated"];
    assert_eq!((t["exitCode"].as_i64(), t["reason"].as_str()), (Some(137), Some("OOMKilled")), "{t:#}");
    wait_pod(&s, "t", "hog", Duration::from_secs(20), "phase Failed", |p| p["status"]["phase"] == "Failed");
    assert_eq!(status_column(&s, "t", "hog"), "OOMKilled");

    // every terminated instance seen, by container ID: (startedAt, exit code, reason)
    let mut seen: BTreeMap<String, (String, i64, String)> = BTreeMap::new();
    wait_pod(&s, "t", "hog-again", Duration::from_secs(60), "two terminations", |p| {
        let c = cstatus(p, "c");
        for t in [&c["state"]["terminated"], &c["lastState"]["terminated"]] {
            if let Some(id) = t["containerID"].as_str() {
                let entry = (t["startedAt"].as_str().unwrap_or("").to_string(), t["exitCode"].as_i64().unwrap_or(-1), t["reason"].as_str().unwrap_or("").to_string());
                seen.insert(id.to_string(), entry);
            }
        }
        seen.len() >= 2
    });
    let mut by_start: Vec<_> = seen.values().cloned().collect();
    by_start.sort();
    let outcomes: Vec<(i64, &str)> = by_start.iter().map(|(_, code, reason)| (*code, reason.as_str())).collect();
    assert_eq!(outcomes, vec![(137, "OOMKilled"), (137, "Error")], "an OOM kill, then an exit 137 that is not one");

    let p = wait_pod(&s, "t", "killed", Duration::from_secs(45), "a terminated container", |p| !cstatus(p, "c")["state"]["terminated"].is_null());
    let t = &cstatus(&p, "c")["state"]["terminated"];
    assert_eq!((t["exitCode"].as_i64(), t["reason"].as_str()), (Some(137), Some("Error")), "a SIGKILL that is not the OOM killer: {t:#}");
}

#[test]
fn liveness_restarts_and_readiness_gates_endpoints() {
    let s = Server::start_node("n1", &[]);
    namespace(&s, "t", "baseline");
    apply(
        &s,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: live, namespace: t}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "touch /tmp/healthy; sleep 4; rm /tmp/healthy; sleep 600"]
    livenessProbe:
      exec: {command: ["cat", "/tmp/healthy"]}
      periodSeconds: 1
      failureThreshold: 2
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: t}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: t, labels: {app: web}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "sleep 8; touch /tmp/ready; sleep 600"]
    readinessProbe:
      exec: {command: ["cat", "/tmp/ready"]}
      periodSeconds: 1
"#,
    );
    // readiness: running but not Ready, and the endpoint says so; then both turn ready
    let endpoint_ready = || -> Option<bool> {
        let v = get(&s, "t", "endpointslices");
        let slice = v["items"].as_array()?.iter().find(|sl| sl["metadata"]["labels"]["kubernetes.io/service-name"] == "web")?.clone();
        slice["endpoints"].as_array()?.first()?["conditions"]["ready"].as_bool()
    };
    let p = wait_pod(&s, "t", "web", Duration::from_secs(30), "a running container", |p| !cstatus(p, "c")["state"]["running"].is_null());
    assert_eq!(condition(&p, "Ready")["status"], "False", "{:#}", p["status"]);
    assert_eq!(condition(&p, "Ready")["reason"], "ContainersNotReady");
    assert_eq!(cstatus(&p, "c")["ready"], false);
    eventually(Duration::from_secs(10), "a not-ready endpoint", || endpoint_ready() == Some(false));
    assert_eq!(condition(&get(&s, "t", "pod/web"), "Ready")["status"], "False", "the endpoint turned up while the pod was still unready");
    let p = wait_pod(&s, "t", "web", Duration::from_secs(30), "Ready", |p| condition(p, "Ready")["status"] == "True");
    assert_eq!(cstatus(&p, "c")["ready"], true);
    assert_eq!(cstatus(&p, "c")["restartCount"], 0, "readiness never restarts");
    eventually(Duration::from_secs(15), "a ready endpoint", || endpoint_ready() == Some(true));
    assert!(has_event(&s, "t", "web", "Warning", "Unhealthy", "Readiness probe failed: cat: can't open '/tmp/ready'"), "{:?}", events(&s, "t", "web"));

    // liveness: the container is killed and restarted
    let p = wait_pod(&s, "t", "live", Duration::from_secs(40), "a restart", |p| cstatus(p, "c")["restartCount"].as_u64() >= Some(1));
    let c = cstatus(&p, "c");
    assert_eq!(c["lastState"]["terminated"]["exitCode"], 137, "{c:#}");
    eventually(Duration::from_secs(10), "Unhealthy and Killing events", || {
        has_event(&s, "t", "live", "Warning", "Unhealthy", "Liveness probe failed: cat: can't open '/tmp/healthy'")
            && has_event(&s, "t", "live", "Normal", "Killing", "Container c failed liveness probe, will be restarted")
    });
    wait_pod(&s, "t", "live", Duration::from_secs(10), "running again", |p| !cstatus(p, "c")["state"]["running"].is_null());
}

#[test]
fn volumes_are_seen_from_inside_the_container() {
    let s = Server::start_node("n1", &[]);
    namespace(&s, "t", "baseline");
    apply(
        &s,
        r#"
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: t}
stringData: {password: s3cret}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: t}
data: {a: one, b: two}
---
apiVersion: v1
kind: Pod
metadata: {name: vols, namespace: t}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "600"]
    volumeMounts:
    - {name: secret, mountPath: /etc/creds}
    - {name: config, mountPath: /etc/settings}
    - {name: token, mountPath: /var/run/tok}
  volumes:
  - name: secret
    secret: {secretName: creds}
  - name: config
    configMap:
      name: settings
      items: [{key: a, path: sub/a.txt, mode: 0400}]
  - name: token
    projected:
      sources:
      - serviceAccountToken: {path: token, expirationSeconds: 3600, audience: vault}
"#,
    );
    running(&s, "t", "vols");
    let sh = |cmd: &str| exec(&s, "t", "vols", &["sh", "-c", cmd]);
    assert_eq!(sh("cat /etc/creds/password"), "s3cret");
    assert_eq!(sh("stat -L -c %a /etc/creds/password"), "644");
    assert_eq!(sh("cat /etc/settings/sub/a.txt"), "one");
    assert_eq!(sh("stat -L -c %a /etc/settings/sub/a.txt"), "400");
    assert_eq!(sh("ls /etc/settings"), "sub", "only the listed items are projected");
    assert_eq!(sh("stat -L -c %a /var/run/tok/token"), "644");
    let token = sh("cat /var/run/tok/token");
    let payload = token.split('.').nth(1).expect("a JWT");
    use base64::Engine;
    let claims: Value = serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["sub"], "system:serviceaccount:t:default");
    assert_eq!(claims["aud"], serde_json::json!(["vault"]));
    assert_eq!(claims["kubernetes.io"]["pod"]["name"], "vols", "the token is bound to the pod");
    assert!(sh("grep -c ' /etc/creds ' /proc/mounts").parse::<u32>().unwrap() >= 1);
    assert!(sh("grep ' /etc/creds ' /proc/mounts").contains("tmpfs"), "secrets live on tmpfs");

    // a change of the configMap reaches the mounted file (upstream syncs within about a minute)
    let changed = Instant::now();
    s.ok(&["patch", "configmap", "-n", "t", "settings", "-p", r#"{"data":{"a":"uno"}}"#]);
    let deadline = changed + Duration::from_secs(70);
    loop {
        if sh("cat /etc/settings/sub/a.txt") == "uno" {
            break;
        }
        assert!(Instant::now() < deadline, "the configMap change did not reach the container in 70 s");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(sh("stat -L -c %a /etc/settings/sub/a.txt"), "400", "the mode survives the update");
}

#[test]
fn restricted_pods_run_as_their_user_and_root_images_are_refused() {
    let s = Server::start_node("n1", &[]);
    namespace(&s, "t", "restricted");
    namespace(&s, "p", "privileged");
    let pod = |ns: &str, name: &str, user: &str| {
        format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {ns}}}
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    runAsNonRoot: true
    {user}
    seccompProfile: {{type: RuntimeDefault}}
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "600"]
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {{drop: [ALL]}}
"#
        )
    };
    apply(&s, &pod("t", "restricted", "runAsUser: 1000"));
    apply(&s, &pod("t", "rootimg", ""));
    apply(&s, &pod("p", "root-uid", "runAsUser: 0"));
    running(&s, "t", "restricted");
    assert_eq!(exec(&s, "t", "restricted", &["id", "-u"]), "1000");
    let status = exec(&s, "t", "restricted", &["cat", "/proc/1/status"]);
    let field = |k: &str| status.lines().find_map(|l| l.strip_prefix(&format!("{k}:"))).map(|v| v.trim().to_string()).unwrap_or_default();
    assert_eq!(field("NoNewPrivs"), "1");
    assert_eq!(field("Seccomp"), "2", "RuntimeDefault is a seccomp filter");
    assert_eq!(field("CapEff"), "0000000000000000");
    assert_eq!(field("CapBnd"), "0000000000000000");

    let uid = |ns: &str, name: &str| get(&s, ns, &format!("pod/{name}"))["metadata"]["uid"].as_str().unwrap_or("").to_string();
    let p = wait_pod(&s, "t", "rootimg", Duration::from_secs(30), "a config error", |p| cstatus(p, "c")["state"]["waiting"]["reason"] == "CreateContainerConfigError");
    let want = format!("container has runAsNonRoot and image will run as root (pod: \"rootimg_t({})\", container: c)", uid("t", "rootimg"));
    assert_eq!(cstatus(&p, "c")["state"]["waiting"]["message"], want.as_str());
    assert_eq!(p["status"]["phase"], "Pending");
    assert_eq!(status_column(&s, "t", "rootimg"), "CreateContainerConfigError");
    eventually(Duration::from_secs(10), "the Failed event", || has_event(&s, "t", "rootimg", "Warning", "Failed", &format!("Error: {want}")));

    let p = wait_pod(&s, "p", "root-uid", Duration::from_secs(30), "a config error", |p| cstatus(p, "c")["state"]["waiting"]["reason"] == "CreateContainerConfigError");
    let want = format!("container's runAsUser breaks non-root policy (pod: \"root-uid_p({})\", container: c)", uid("p", "root-uid"));
    assert_eq!(cstatus(&p, "c")["state"]["waiting"]["message"], want.as_str());
    // nothing was created for the refused containers: one sandbox each, one app container
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(s.runtime_containers().len(), 4, "three sandboxes and the restricted pod's container");
}

#[test]
fn a_restarted_agent_adopts_running_pods() {
    let mut s = Server::start_node("n1", &[]);
    namespace(&s, "t", "baseline");
    apply(
        &s,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: keep, namespace: t}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sleep", "600"]
"#,
    );
    let before = wait_pod(&s, "t", "keep", Duration::from_secs(45), "Ready", |p| condition(p, "Ready")["status"] == "True");
    let containers: BTreeSet<String> = s.runtime_containers().into_iter().collect();
    assert_eq!(containers.len(), 2, "a sandbox and a container: {containers:?}");
    let id = cstatus(&before, "c")["containerID"].clone();
    s.restart();
    eventually(Duration::from_secs(60), "the node to be Ready again", || {
        s.kubectl(&["get", "node", "n1", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]).stdout == b"True"
    });
    // the new kubelet syncs the pod (it serves exec for it) and changes nothing
    eventually(Duration::from_secs(30), "exec through the restarted kubelet", || s.kubectl(&["exec", "-n", "t", "keep", "--", "true"]).status.success());
    std::thread::sleep(Duration::from_secs(5));
    let after = get(&s, "t", "pod/keep");
    let c = cstatus(&after, "c");
    assert_eq!(c["containerID"], id);
    assert_eq!(c["restartCount"], 0);
    assert_eq!(after["status"]["phase"], "Running");
    assert_eq!(after["status"]["podIP"], before["status"]["podIP"]);
    assert_eq!(condition(&after, "Ready")["status"], "True");
    let now: BTreeSet<String> = s.runtime_containers().into_iter().collect();
    assert_eq!(now, containers, "no duplicate sandbox or container");
    // and it still owns the pod: deleting it removes the containers
    s.ok(&["delete", "pod", "-n", "t", "keep"]);
    eventually(Duration::from_secs(20), "no runtime containers", || s.runtime_containers().is_empty());
}

/// The network namespaces (by name) holding `ip`.
fn netns_with(ip: &str) -> Vec<String> {
    let out = std::process::Command::new("ip").args(["netns", "list"]).output().unwrap();
    let mut found = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(name) = line.split_whitespace().next() else { continue };
        let addrs = std::process::Command::new("ip").args(["-n", name, "-4", "-o", "addr"]).output().unwrap();
        if String::from_utf8_lossy(&addrs.stdout).contains(&format!("inet {ip}/")) {
            found.push(name.to_string());
        }
    }
    found
}

/// The mount points below `dir` (from /proc/self/mountinfo).
fn mounts_under(dir: &std::path::Path) -> Vec<String> {
    let real = std::fs::canonicalize(dir).unwrap();
    let prefix = format!("{}/", real.display());
    std::fs::read_to_string("/proc/self/mountinfo").unwrap().lines().filter_map(|l| l.split(' ').nth(4)).filter(|m| m.starts_with(&prefix)).map(String::from).collect()
}

/// The pod's cgroup directories in every hierarchy.
fn pod_cgroups(uid: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for h in std::fs::read_dir("/sys/fs/cgroup").unwrap().flatten() {
        for qos in ["", "burstable/", "besteffort/"] {
            let p = h.path().join(format!("kubepods/{qos}pod{uid}"));
            if p.exists() {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn nothing_is_left_after_a_pod_is_deleted() {
    let s = Server::start_node("n1", &[]);
    namespace(&s, "t", "baseline");
    apply(
        &s,
        r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: t}
data: {a: one}
---
apiVersion: v1
kind: Pod
metadata: {name: tidy, namespace: t}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.35
    command: ["sh", "-c", "echo hi > /scratch/x; sleep 600"]
    resources: {limits: {memory: 64Mi}}
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
    - {name: config, mountPath: /etc/settings}
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: config, configMap: {name: settings}}
"#,
    );
    let p = running(&s, "t", "tidy");
    let uid = p["metadata"]["uid"].as_str().unwrap().to_string();
    let ip = p["status"]["podIP"].as_str().expect("a pod IP").to_string();
    let agent = s.data.join("agent");
    let ipam = agent.join("cni/ipam");
    let ipam_files = || -> Vec<String> {
        walk(&ipam).into_iter().filter(|p| p.file_name().is_some_and(|n| n == ip.as_str())).map(|p| p.display().to_string()).collect()
    };
    // everything that must go is there first
    assert!(!s.runtime_containers().is_empty());
    let mem = pod_cgroups(&uid);
    assert!(mem.iter().any(|p| p.starts_with("/sys/fs/cgroup/memory")), "the pod's memory cgroup: {mem:?}");
    assert_eq!(std::fs::read_to_string(mem.iter().find(|p| p.starts_with("/sys/fs/cgroup/memory")).unwrap().join("memory.limit_in_bytes")).unwrap().trim(), "67108864");
    assert_eq!(ipam_files().len(), 1, "host-local's allocation of {ip}");
    assert!(!mounts_under(&agent).is_empty());
    assert_eq!(netns_with(&ip).len(), 1, "one netns holds {ip}");
    assert!(agent.join("pods").join(&uid).exists());

    s.ok(&["delete", "pod", "-n", "t", "tidy"]);
    eventually(Duration::from_secs(10), "no runtime containers", || s.runtime_containers().is_empty());
    let left = || -> Vec<String> {
        let mut v = Vec::new();
        v.extend(pod_cgroups(&uid).iter().map(|p| format!("cgroup {}", p.display())));
        v.extend(ipam_files().into_iter().map(|f| format!("IPAM {f}")));
        v.extend(mounts_under(&agent).into_iter().map(|m| format!("mount {m}")));
        v.extend(netns_with(&ip).into_iter().map(|n| format!("netns {n}")));
        if agent.join("pods").join(&uid).exists() {
            v.push("pod dir".into());
        }
        v
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !left().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(left(), Vec::<String>::new(), "left after deletion");
    let logs: Vec<_> = std::fs::read_dir(agent.join("pod-logs")).map(|rd| rd.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
    assert!(logs.is_empty(), "pod logs left: {logs:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn init_containers_run_in_order_and_sidecars_keep_running() {
    let s = Server::start_node("n1", &[]);
    namespace(&s, "t", "baseline");
    apply(
        &s,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: ordered, namespace: t}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - {name: one, image: busybox:1.35, command: ["sh", "-c", "sleep 3; echo one >> /work/order"], volumeMounts: [{name: w, mountPath: /work}]}
  - {name: two, image: busybox:1.35, command: ["sh", "-c", "sleep 3; echo two >> /work/order"], volumeMounts: [{name: w, mountPath: /work}]}
  containers:
  - {name: app, image: busybox:1.35, command: ["sh", "-c", "cat /work/order; sleep 600"], volumeMounts: [{name: w, mountPath: /work}]}
  volumes: [{name: w, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata: {name: sidecar, namespace: t}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - {name: side, restartPolicy: Always, image: busybox:1.35, command: ["sh", "-c", "touch /work/up; sleep 600"], volumeMounts: [{name: w, mountPath: /work}]}
  containers:
  - {name: app, image: busybox:1.35, command: ["sh", "-c", "test -f /work/up && echo saw-sidecar; sleep 600"], volumeMounts: [{name: w, mountPath: /work}]}
  volumes: [{name: w, emptyDir: {}}]
"#,
    );
    // the STATUS column walks through the init containers
    let mut seen: Vec<String> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(45);
    while Instant::now() < deadline && seen.last().map(String::as_str) != Some("Running") {
        let st = status_column(&s, "t", "ordered");
        if !st.is_empty() && seen.last() != Some(&st) {
            seen.push(st);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let pos = |x: &str| seen.iter().position(|s| s == x);
    assert!(pos("Init:0/2").is_some() && pos("Init:1/2").is_some() && pos("Running").is_some(), "statuses seen: {seen:?}");
    assert!(pos("Init:0/2") < pos("Init:1/2") && pos("Init:1/2") < pos("Running"), "statuses seen: {seen:?}");
    let p = get(&s, "t", "pod/ordered");
    for name in ["one", "two"] {
        let t = &cstatus(&p, name)["state"]["terminated"];
        assert_eq!((t["exitCode"].as_i64(), t["reason"].as_str()), (Some(0), Some("Completed")), "{name}: {t:#}");
    }
    assert!(seconds(&cstatus(&p, "one")["state"]["terminated"]["finishedAt"]) <= seconds(&cstatus(&p, "two")["state"]["terminated"]["startedAt"]));
    assert_eq!(condition(&p, "Initialized")["status"], "True");
    eventually(Duration::from_secs(10), "the app's output", || s.kubectl(&["logs", "-n", "t", "ordered", "-c", "app"]).stdout == b"one\ntwo\n");

    let p = wait_pod(&s, "t", "sidecar", Duration::from_secs(45), "Ready", |p| condition(p, "Ready")["status"] == "True");
    let side = cstatus(&p, "side");
    assert!(!side["state"]["running"].is_null(), "{side:#}");
    assert_eq!((side["started"].as_bool(), side["ready"].as_bool()), (Some(true), Some(true)));
    let out = s.ok(&["get", "pod", "-n", "t", "sidecar", "--no-headers"]);
    assert_eq!(out.split_whitespace().nth(1), Some("2/2"), "{out}");
    eventually(Duration::from_secs(10), "the app saw the sidecar", || s.kubectl(&["logs", "-n", "t", "sidecar", "-c", "app"]).stdout == b"saw-sidecar\n");
    std::thread::sleep(Duration::from_secs(3));
    let p = get(&s, "t", "pod/sidecar");
    assert!(!cstatus(&p, "side")["state"]["running"].is_null() && cstatus(&p, "side")["restartCount"] == 0, "the sidecar keeps running beside the app");
    assert!(!cstatus(&p, "app")["state"]["running"].is_null());
}
