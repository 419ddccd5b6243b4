//! The kubelet's volume manager and container environment against a real server, with a node's
//! identity (`system:node:n1`): a pod bound to the node gets its configMap, secret, projected
//! (service account token, kube-root-ca.crt, namespace), downwardAPI, emptyDir (disk and
//! memory), hostPath and local-PV claim volumes with upstream's contents and modes; contents
//! follow changes of the objects; tokens are renewed past 80% of their lifetime; objects of
//! other nodes' pods are refused by the Node authorizer; teardown unmounts and removes all.
//! The environment test covers envFrom, valueFrom, `$(VAR)` and service links.

mod support;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use base64::Engine;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::PostParams;
use kubelet::volumes::{VolumeManager, host};
use support::{Server, eventually};

/// A kube-rs client from a kubeconfig file.
async fn client_from(path: &Path) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(path).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default()).await.unwrap();
    kube::Client::try_from(cfg).unwrap()
}

/// Unmounts whatever is still mounted under the test's directory, even when the test fails.
struct MountGuard(PathBuf);

impl Drop for MountGuard {
    fn drop(&mut self) {
        if let Ok(real) = std::fs::canonicalize(&self.0) {
            for m in host::mounts_under(&real).unwrap_or_default() {
                let _ = std::process::Command::new("umount").arg(&m).status();
            }
        }
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn jwt_claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Creates the privileged namespace `ns` and waits for its default ServiceAccount and
/// kube-root-ca.crt ConfigMap.
fn namespace(s: &Server, ns: &str) {
    s.ok(&["create", "namespace", ns]);
    s.ok(&["label", "namespace", ns, "pod-security.kubernetes.io/enforce=privileged"]);
    eventually(Duration::from_secs(30), "default service account and root CA", || {
        s.kubectl(&["get", "-n", ns, "serviceaccount/default", "configmap/kube-root-ca.crt"]).status.success()
    });
}

async fn create_pod(admin: &kube::Client, ns: &str, pod: serde_json::Value) -> Pod {
    let api: Api<Pod> = Api::namespaced(admin.clone(), ns);
    api.create(&PostParams::default(), &serde_json::from_value(pod).unwrap()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volumes_of_a_pod_on_the_node() {
    let s = Server::start();
    namespace(&s, "vol");
    let admin = s.client().await;
    let node = client_from(&s.user_kubeconfig("system:node:n1", &["system:nodes"])).await;

    let work = s.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let _guard = MountGuard(work.clone());
    let pods_dir = work.join("pods");
    let local_pv = work.join("local-pv");
    std::fs::create_dir_all(&local_pv).unwrap();
    let host_dir = work.join("host/made");

    s.ok_stdin(
        &["apply", "-f", "-"],
        &format!(
            r#"
apiVersion: v1
kind: ConfigMap
metadata: {{name: cfg, namespace: vol}}
data: {{a: "1", b: "2"}}
binaryData: {{bin: AAEC}}
---
apiVersion: v1
kind: Secret
metadata: {{name: sec, namespace: vol}}
stringData: {{user: admin, pass: hunter2}}
---
apiVersion: v1
kind: PersistentVolume
metadata: {{name: pv-local}}
spec:
  capacity: {{storage: 1Gi}}
  accessModes: [ReadWriteOnce]
  storageClassName: local
  local: {{path: {local}}}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions: [{{key: kubernetes.io/hostname, operator: In, values: [n1]}}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {{name: data, namespace: vol}}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: local
  volumeName: pv-local
  resources: {{requests: {{storage: 1Gi}}}}
"#,
            local = local_pv.display()
        ),
    );
    // The claim names its volume: the server's PersistentVolume binder binds the two.
    eventually(Duration::from_secs(20), "the claim bound", || s.kubectl(&["get", "pvc", "-n", "vol", "data", "-o", "jsonpath={.status.phase}"]).stdout == b"Bound");
    let pvc_uid = s.ok(&["get", "pvc", "-n", "vol", "data", "-o", "jsonpath={.metadata.uid}"]);
    assert_eq!(s.ok(&["get", "pv", "pv-local", "-o", "jsonpath={.spec.claimRef.uid}"]), pvc_uid);

    let pod = create_pod(
        &admin,
        "vol",
        serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "p", "namespace": "vol", "labels": {"app": "web", "tier": "a"}, "annotations": {"note": "say \"hi\"\n"}},
            "spec": {
                "nodeName": "n1",
                "containers": [{
                    "name": "c", "image": "busybox:1.35",
                    "resources": {"limits": {"memory": "64Mi", "cpu": "500m"}},
                    "volumeMounts": [
                        {"name": "cfg", "mountPath": "/cfg"},
                        {"name": "cfg-items", "mountPath": "/items"},
                        {"name": "sec", "mountPath": "/sec"},
                        {"name": "proj", "mountPath": "/proj"},
                        {"name": "info", "mountPath": "/info"},
                        {"name": "scratch", "mountPath": "/scratch"},
                        {"name": "scratch", "mountPath": "/logs", "subPathExpr": "logs/$(POD_NAME)"},
                        {"name": "mem", "mountPath": "/mem"},
                        {"name": "hp", "mountPath": "/hp"},
                        {"name": "claim", "mountPath": "/data"},
                        {"name": "cfg", "mountPath": "/a-file", "subPath": "a"}
                    ]
                }],
                "initContainers": [{"name": "init", "image": "busybox:1.35", "volumeMounts": [{"name": "scratch", "mountPath": "/s"}]}],
                "volumes": [
                    {"name": "cfg", "configMap": {"name": "cfg"}},
                    {"name": "cfg-items", "configMap": {"name": "cfg", "defaultMode": 0o440,
                        "items": [{"key": "a", "path": "sub/x", "mode": 0o400}, {"key": "bin", "path": "y"}]}},
                    {"name": "sec", "secret": {"secretName": "sec", "defaultMode": 0o400}},
                    {"name": "proj", "projected": {"sources": [
                        {"serviceAccountToken": {"path": "vault-token", "audience": "vault", "expirationSeconds": 600}},
                        {"secret": {"name": "sec", "items": [{"key": "user", "path": "user"}]}},
                        {"configMap": {"name": "absent", "optional": true}},
                        {"downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                            {"path": "notes", "fieldRef": {"fieldPath": "metadata.annotations"}}]}}
                    ]}},
                    {"name": "info", "downwardAPI": {"items": [
                        {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
                        {"path": "mem", "resourceFieldRef": {"containerName": "c", "resource": "limits.memory", "divisor": "1Mi"}}
                    ]}},
                    {"name": "scratch", "emptyDir": {}},
                    {"name": "mem", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
                    {"name": "hp", "hostPath": {"path": host_dir.to_string_lossy(), "type": "DirectoryOrCreate"}},
                    {"name": "claim", "persistentVolumeClaim": {"claimName": "data"}},
                    {"name": "unused", "configMap": {"name": "does-not-exist"}}
                ]
            }
        }),
    )
    .await;
    let uid = pod.metadata.uid.clone().unwrap();
    // The ServiceAccount admission plugin added the kube-api-access volume and mounts.
    let api_access = pod.spec.as_ref().unwrap().volumes.iter().flatten().find(|v| v.name.starts_with("kube-api-access-")).unwrap().name.clone();

    let offset = Arc::new(AtomicI64::new(0));
    let clock_offset = offset.clone();
    let vm = VolumeManager::new(node.clone(), pods_dir.clone(), "n1".into()).with_clock(Arc::new(move || {
        jiff::Timestamp::now() + jiff::SignedDuration::from_secs(clock_offset.load(Ordering::SeqCst))
    }));
    let vols = vm.setup(&pod).await.unwrap();
    let vdir = pods_dir.join(&uid).join("volumes");
    assert!(!vols.volumes.contains_key("unused"), "volumes no container mounts are skipped");

    // configMap: every key, 0644 files behind ..data links, a 0777 directory on disk.
    let cfg = vdir.join("kubernetes.io~configmap/cfg");
    assert_eq!(vols.volumes["cfg"].host_path, cfg);
    assert_eq!(read(&cfg.join("a")), "1");
    assert_eq!(std::fs::read(cfg.join("bin")).unwrap(), vec![0, 1, 2]);
    assert_eq!(std::fs::read_link(cfg.join("a")).unwrap(), Path::new("..data/a"));
    assert_eq!(mode(&cfg.join("..data/a")), 0o644);
    assert_eq!(mode(&cfg), 0o777);
    assert!(!host::is_mount_point(&std::fs::canonicalize(&cfg).unwrap()).unwrap(), "configMaps live on disk");
    let items = vdir.join("kubernetes.io~configmap/cfg-items");
    assert_eq!(read(&items.join("sub/x")), "1");
    assert_eq!(mode(&items.join("..data/sub/x")), 0o400);
    assert_eq!(mode(&items.join("..data/y")), 0o440);
    assert_eq!(std::fs::read(items.join("y")).unwrap(), vec![0, 1, 2]);
    assert!(!items.join("a").exists());

    // secret: on its own tmpfs, defaultMode applied.
    let sec = vdir.join("kubernetes.io~secret/sec");
    assert!(host::is_mount_point(&std::fs::canonicalize(&sec).unwrap()).unwrap(), "secrets live on tmpfs");
    assert_eq!(read(&sec.join("pass")), "hunter2");
    assert_eq!(mode(&sec.join("..data/user")), 0o400);

    // projected: a token bound to the pod for the audience, the secret item, the labels.
    let proj = vdir.join("kubernetes.io~projected/proj");
    assert!(host::is_mount_point(&std::fs::canonicalize(&proj).unwrap()).unwrap());
    let token = read(&proj.join("vault-token"));
    let claims = jwt_claims(&token);
    assert_eq!(claims["aud"], serde_json::json!(["vault"]), "{claims}");
    assert_eq!(claims["kubernetes.io"]["pod"]["uid"], uid.as_str(), "{claims}");
    assert_eq!(claims["sub"], "system:serviceaccount:vol:default");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 600);
    assert_eq!(mode(&proj.join("..data/vault-token")), 0o644);
    assert_eq!(read(&proj.join("user")), "admin");
    assert_eq!(read(&proj.join("labels")), "app=\"web\"\ntier=\"a\"");
    assert_eq!(read(&proj.join("notes")), "note=\"say \\\"hi\\\"\\n\"", "values quoted as Go's %q");
    // The kube-api-access volume admission added: token, ca.crt, namespace.
    let access = vdir.join("kubernetes.io~projected").join(&api_access);
    let ca = read(&access.join("ca.crt"));
    assert_eq!(ca, read(&s.data_dir().join("tls/ca.crt")));
    assert_eq!(read(&access.join("namespace")), "vol");
    assert_eq!(jwt_claims(&read(&access.join("token")))["aud"].as_array().map(|a| a.is_empty()), Some(false));

    // downwardAPI.
    let info = vdir.join("kubernetes.io~downward-api/info");
    assert_eq!(read(&info.join("name")), "p");
    assert_eq!(read(&info.join("mem")), "64");

    // emptyDir: 0777 on disk; Memory: a tmpfs of sizeLimit.
    let scratch = vdir.join("kubernetes.io~empty-dir/scratch");
    assert_eq!(mode(&scratch), 0o777);
    let mem = std::fs::canonicalize(vdir.join("kubernetes.io~empty-dir/mem")).unwrap();
    assert_eq!(host::tmpfs_size(&mem).unwrap(), Some(1 << 20));

    // hostPath DirectoryOrCreate made the directory; the claim is the local PV's path.
    assert!(host_dir.is_dir());
    assert_eq!(mode(&host_dir), 0o755);
    assert_eq!(vols.volumes["claim"].host_path, local_pv);

    // Container mounts.
    let env = vec![cri::api::KeyValue { key: "POD_NAME".into(), value: "p".into() }];
    let mounts = vols.mounts("c", &env).unwrap();
    let by_path = |p: &str| mounts.iter().find(|m| m.container_path == p).unwrap_or_else(|| panic!("no mount {p}: {mounts:?}"));
    assert!(by_path("/cfg").readonly && by_path("/sec").readonly && by_path("/proj").readonly && by_path("/info").readonly);
    assert!(!by_path("/scratch").readonly && !by_path("/data").readonly && !by_path("/hp").readonly);
    assert_eq!(by_path("/data").host_path, local_pv.to_string_lossy());
    let logs = std::fs::canonicalize(scratch.join("logs/p")).unwrap();
    assert_eq!(by_path("/logs").host_path, logs.to_string_lossy(), "subPathExpr created inside the volume");
    let a_file = PathBuf::from(&by_path("/a-file").host_path);
    assert_eq!(read(&a_file), "1");
    assert!(a_file.starts_with(std::fs::canonicalize(&cfg).unwrap()));
    let api_mount = by_path("/var/run/secrets/kubernetes.io/serviceaccount");
    assert!(api_mount.readonly);
    assert_eq!(vols.mounts("init", &[]).unwrap().len(), 2, "the init container's own mount plus kube-api-access");
    assert!(vols.mounts("c", &[]).unwrap_err().to_string().contains("missing value for POD_NAME"));

    // A second setup changes nothing (same timestamped directories, same token).
    let data_before = std::fs::read_link(cfg.join("..data")).unwrap();
    vm.setup(&pod).await.unwrap();
    assert_eq!(std::fs::read_link(cfg.join("..data")).unwrap(), data_before);
    assert_eq!(read(&proj.join("vault-token")), token);

    // The pod's Secrets and ConfigMaps are watched one by one (sec; cfg, the optional absent
    // one, kube-root-ca.crt), so refreshes read no object again: the audit log shows no GET of
    // them by the node.
    assert_eq!(vm.watched_objects(), 4);
    let audit = s.data_dir().join("audit.log");
    let node_gets = || {
        std::fs::read_to_string(&audit)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|e| e["user"]["username"] == "system:node:n1" && e["verb"] == "get" && matches!(e["objectRef"]["resource"].as_str(), Some("secrets" | "configmaps")))
            .count()
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let gets_before = node_gets();
    for _ in 0..5 {
        vm.refresh(&pod).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(node_gets(), gets_before, "refreshes read the watched objects from the cache");

    // Changes of the objects reach the files through refresh (as soon as the watch has seen
    // them); a held old file keeps its data.
    let old_a = std::fs::File::open(cfg.join("a")).unwrap();
    s.ok(&["patch", "configmap", "-n", "vol", "cfg", "--type=json", "-p", r#"[{"op":"replace","path":"/data/a","value":"10"},{"op":"remove","path":"/data/b"}]"#]);
    s.ok(&["patch", "secret", "-n", "vol", "sec", "--type=merge", "-p", r#"{"stringData":{"user":"root"}}"#]);
    s.ok(&["label", "pod", "-n", "vol", "p", "tier=b", "--overwrite"]);
    let pod = Api::<Pod>::namespaced(admin.clone(), "vol").get("p").await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        vm.refresh(&pod).await.unwrap();
        if read(&cfg.join("a")) == "10" && read(&sec.join("user")) == "root" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the changes never reached the volumes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(std::fs::symlink_metadata(cfg.join("b")).is_err(), "removed keys disappear");
    assert_eq!(std::io::read_to_string(old_a).unwrap(), "1");
    assert_ne!(std::fs::read_link(cfg.join("..data")).unwrap(), data_before);
    assert_eq!(read(&sec.join("user")), "root");
    assert_eq!(read(&proj.join("user")), "root");
    assert_eq!(read(&proj.join("labels")), "app=\"web\"\ntier=\"b\"");
    assert_eq!(read(&items.join("sub/x")), "10");
    assert_eq!(read(&proj.join("vault-token")), token, "a fresh token is kept");

    // Token renewal: at 67% of the lifetime the token stays, past 80% (+ jitter) it is renewed.
    offset.store(400, Ordering::SeqCst);
    vm.refresh(&pod).await.unwrap();
    assert_eq!(read(&proj.join("vault-token")), token, "not yet due");
    offset.store(500, Ordering::SeqCst);
    vm.refresh(&pod).await.unwrap();
    let renewed = read(&proj.join("vault-token"));
    assert_ne!(renewed, token, "renewed past 80% of 600 s");
    assert_eq!(jwt_claims(&renewed)["kubernetes.io"]["pod"]["uid"], uid.as_str());

    // A deleted configMap keeps the last contents and reports upstream's text.
    s.ok(&["delete", "configmap", "-n", "vol", "cfg"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let err = loop {
        if let Err(e) = vm.refresh(&pod).await {
            break e.to_string();
        }
        assert!(std::time::Instant::now() < deadline, "the deletion never reached the kubelet");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(err, "MountVolume.SetUp failed for volume \"cfg\" : configmap \"cfg\" not found");
    assert_eq!(read(&cfg.join("a")), "10");

    // Teardown unmounts every tmpfs and removes the pod's directory.
    let pod_dir = std::fs::canonicalize(pods_dir.join(&uid)).unwrap();
    assert!(host::mounts_under(&pod_dir).unwrap().len() >= 5, "secret, 2 projected, downwardAPI, memory emptyDir");
    vm.teardown(&uid).await.unwrap();
    assert_eq!(vm.watched_objects(), 0, "no pod uses them: their watches are stopped");
    assert!(host::mounts_under(&pod_dir).unwrap().is_empty());
    assert!(!pod_dir.exists());
    assert!(local_pv.is_dir() && host_dir.is_dir(), "host paths and local volumes are left alone");
    // A late refresh of the torn-down pod recreates nothing.
    vm.refresh(&pod).await.unwrap();
    assert!(!pod_dir.exists());
    vm.teardown(&uid).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volume_failures_and_node_authorization() {
    let s = Server::start();
    namespace(&s, "vol");
    let admin = s.client().await;
    let node = client_from(&s.user_kubeconfig("system:node:n1", &["system:nodes"])).await;
    let work = s.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let _guard = MountGuard(work.clone());
    let vm = VolumeManager::new(node.clone(), work.join("pods"), "n1".into());
    s.ok(&["create", "secret", "generic", "-n", "vol", "other", "--from-literal=k=v"]);
    s.ok(&["create", "configmap", "-n", "vol", "cm", "--from-literal=k=v"]);

    let pod = |name: &str, node: &str, fs_group: Option<i64>, volumes: serde_json::Value| {
        let mounts: Vec<serde_json::Value> = volumes
            .as_array()
            .unwrap()
            .iter()
            .map(|v| serde_json::json!({"name": v["name"], "mountPath": format!("/{}", v["name"].as_str().unwrap())}))
            .collect();
        serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "vol"},
            "spec": {"nodeName": node, "automountServiceAccountToken": false,
                "securityContext": {"fsGroup": fs_group},
                "containers": [{"name": "c", "image": "busybox:1.35", "volumeMounts": mounts}],
                "volumes": volumes}
        })
    };

    // Missing objects: upstream's FailedMount texts; optional ones give empty volumes.
    let missing = create_pod(
        &admin,
        "vol",
        pod(
            "missing",
            "n1",
            None,
            serde_json::json!([
                {"name": "opt", "secret": {"secretName": "nope", "optional": true}},
                {"name": "keys", "configMap": {"name": "cm", "items": [{"key": "absent", "path": "x"}]}},
                {"name": "gone", "configMap": {"name": "nope"}}
            ]),
        ),
    )
    .await;
    let err = vm.setup(&missing).await.unwrap_err().to_string();
    assert_eq!(err, "MountVolume.SetUp failed for volume \"keys\" : configmap references non-existent config key: absent");
    let uid = missing.metadata.uid.clone().unwrap();
    let opt = work.join("pods").join(&uid).join("volumes/kubernetes.io~secret/opt");
    assert!(opt.join("..data").exists(), "optional and absent: an empty volume");
    vm.teardown(&uid).await.unwrap();

    let gone = create_pod(&admin, "vol", pod("gone", "n1", None, serde_json::json!([{"name": "gone", "secret": {"secretName": "nope"}}]))).await;
    assert_eq!(
        vm.setup(&gone).await.unwrap_err().to_string(),
        "MountVolume.SetUp failed for volume \"gone\" : secret \"nope\" not found"
    );
    assert!(
        host::mounts_under(&std::fs::canonicalize(&work).unwrap()).unwrap().is_empty(),
        "nothing is mounted for a secret that does not exist"
    );
    vm.teardown(gone.metadata.uid.as_deref().unwrap()).await.unwrap();

    // A pod bound to another node: the Node authorizer refuses its secret to n1.
    let foreign = create_pod(&admin, "vol", pod("foreign", "n2", None, serde_json::json!([{"name": "s", "secret": {"secretName": "other"}}]))).await;
    let err = vm.setup(&foreign).await.unwrap_err().to_string();
    assert!(err.starts_with("MountVolume.SetUp failed for volume \"s\" : secrets \"other\" is forbidden"), "{err}");
    assert!(err.contains("no relationship found between node 'n1' and this object"), "{err}");
    vm.teardown(foreign.metadata.uid.as_deref().unwrap()).await.unwrap();

    // Unsupported sources and unbound claims are refused with what to do.
    s.ok_stdin(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: pending, namespace: vol}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n",
    );
    let odd = create_pod(
        &admin,
        "vol",
        pod(
            "odd",
            "n1",
            None,
            serde_json::json!([
                {"name": "claim", "persistentVolumeClaim": {"claimName": "pending"}},
                {"name": "nfs", "nfs": {"server": "127.0.0.1", "path": "/x"}}
            ]),
        ),
    )
    .await;
    let err = vm.setup(&odd).await.unwrap_err().to_string();
    // a new claim is Pending, as upstream
    assert_eq!(s.ok(&["get", "pvc", "-n", "vol", "pending", "-o", "jsonpath={.status.phase}"]), "Pending");
    assert_eq!(err, "MountVolume.SetUp failed for volume \"claim\" : PVC vol/pending has non-bound phase (\"Pending\") or empty pvc.Spec.VolumeName (\"\")");
    let mut only_nfs = odd.clone();
    only_nfs.spec.as_mut().unwrap().volumes.as_mut().unwrap().retain(|v| v.name == "nfs");
    let err = vm.setup(&only_nfs).await.unwrap_err().to_string();
    assert!(err.contains("volume type nfs is not supported by this node"), "{err}");
    vm.teardown(odd.metadata.uid.as_deref().unwrap()).await.unwrap();


    // fsGroup: group ownership and setgid directories, tokens 0600 → 0640.
    let grouped = create_pod(
        &admin,
        "vol",
        pod(
            "grouped",
            "n1",
            Some(2000),
            serde_json::json!([
                {"name": "scratch", "emptyDir": {}},
                {"name": "cm", "configMap": {"name": "cm"}},
                {"name": "tok", "projected": {"sources": [{"serviceAccountToken": {"path": "t", "expirationSeconds": 3600}}]}}
            ]),
        ),
    )
    .await;
    let uid = grouped.metadata.uid.clone().unwrap();
    let vols = vm.setup(&grouped).await.unwrap();
    let scratch = &vols.volumes["scratch"].host_path;
    assert_eq!(std::fs::metadata(scratch).unwrap().gid(), 2000);
    assert_eq!(mode(scratch), 0o2777);
    let cm = &vols.volumes["cm"].host_path;
    assert_eq!(std::fs::metadata(cm.join("k")).unwrap().gid(), 2000);
    assert_eq!(mode(&cm.join("..data/k")), 0o644);
    let tok = &vols.volumes["tok"].host_path;
    assert_eq!(mode(&tok.join("..data/t")), 0o640);
    assert_eq!(std::fs::metadata(tok.join("t")).unwrap().gid(), 2000);
    vm.teardown(&uid).await.unwrap();
    assert!(host::mounts_under(&std::fs::canonicalize(&work).unwrap()).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn container_environment() {
    let s = Server::start();
    namespace(&s, "env");
    let admin = s.client().await;
    let node = client_from(&s.user_kubeconfig("system:node:n1", &["system:nodes"])).await;
    s.ok(&["create", "configmap", "-n", "env", "cfg", "--from-literal=MODE=fast", "--from-literal=1bad=x", "--from-literal=LEVEL=3"]);
    s.ok(&["create", "secret", "generic", "-n", "env", "sec", "--from-literal=TOKEN=s3cret", "--from-literal=2bad=y"]);
    s.ok(&["create", "service", "clusterip", "my-svc", "-n", "env", "--tcp=80:8080", "--tcp=443:8443"]);
    s.ok(&["create", "service", "clusterip", "other", "-n", "default", "--tcp=81:81"]);
    let my_ip = s.ok(&["get", "svc", "-n", "env", "my-svc", "-o", "jsonpath={.spec.clusterIP}"]);
    let kube_ip = s.ok(&["get", "svc", "-n", "default", "kubernetes", "-o", "jsonpath={.spec.clusterIP}"]);

    let spec = |links: bool, env: serde_json::Value, env_from: serde_json::Value| {
        serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"generateName": "p-", "namespace": "env", "labels": {"app": "x"}, "annotations": {"note": "hi"}},
            "spec": {"nodeName": "n1", "serviceAccountName": "default", "enableServiceLinks": links,
                "containers": [{"name": "c", "image": "busybox:1.35",
                    "resources": {"requests": {"cpu": "250m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
                    "env": env, "envFrom": env_from}]}
        })
    };
    let env_of = |pod: &Pod| pod.spec.as_ref().unwrap().containers[0].clone();
    let pod = create_pod(
        &admin,
        "env",
        spec(
            true,
            serde_json::json!([
                {"name": "A", "value": "a"},
                {"name": "B", "value": "$(A)-$(MODE)-$(MY_SVC_SERVICE_HOST)-$(LATER)-$$(A)"},
                {"name": "LATER", "value": "l"},
                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                {"name": "UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
                {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
                {"name": "NOTE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['note']"}}},
                {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                {"name": "SA", "valueFrom": {"fieldRef": {"fieldPath": "spec.serviceAccountName"}}},
                {"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
                {"name": "POD_IPS", "valueFrom": {"fieldRef": {"fieldPath": "status.podIPs"}}},
                {"name": "MEM_MI", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
                {"name": "CPU_REQ_M", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu", "divisor": "1m"}}},
                {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "TOKEN"}}},
                {"name": "OPT", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "nope", "optional": true}}},
                {"name": "OPT_CM", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "k", "optional": true}}},
                {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "LEVEL"}}},
                {"name": "MODE", "value": "overridden"}
            ]),
            serde_json::json!([
                {"configMapRef": {"name": "cfg"}},
                {"secretRef": {"name": "sec"}, "prefix": "S_"},
                {"configMapRef": {"name": "absent", "optional": true}}
            ]),
        ),
    )
    .await;
    let got = kubelet::env::container_env_with_warnings(&node, &pod, &env_of(&pod), &["10.1.0.5".into(), "fd00::5".into()], &["127.0.0.1".into()])
        .await
        .unwrap();
    let get = |k: &str| got.vars.iter().find(|kv| kv.key == k).map(|kv| kv.value.clone());
    assert_eq!(get("B").unwrap(), format!("a-fast-{my_ip}-$(LATER)-$(A)"));
    assert_eq!(get("MODE").unwrap(), "overridden", "env overrides envFrom");
    assert_eq!(get("S_TOKEN").unwrap(), "s3cret");
    assert_eq!(get("POD").as_deref(), pod.metadata.name.as_deref());
    assert_eq!(get("NS").unwrap(), "env");
    assert_eq!(get("UID").as_deref(), pod.metadata.uid.as_deref());
    assert_eq!(get("APP").unwrap(), "x");
    assert_eq!(get("NOTE").unwrap(), "hi");
    assert_eq!(get("NODE").unwrap(), "n1");
    assert_eq!(get("SA").unwrap(), "default");
    assert_eq!(get("HOST_IP").unwrap(), "127.0.0.1");
    assert_eq!(get("POD_IPS").unwrap(), "10.1.0.5,fd00::5");
    assert_eq!(get("MEM_MI").unwrap(), "64");
    assert_eq!(get("CPU_REQ_M").unwrap(), "250");
    assert_eq!(get("TOKEN").unwrap(), "s3cret");
    assert_eq!(get("LEVEL").unwrap(), "3");
    assert_eq!(get("OPT"), None);
    assert_eq!(get("OPT_CM"), None);
    assert_eq!(get("1bad"), None);
    assert_eq!(get("S_2bad").unwrap(), "y", "the prefix is applied before the name check");
    assert_eq!(get("MY_SVC_SERVICE_HOST").unwrap(), my_ip);
    assert_eq!(get("MY_SVC_SERVICE_PORT").unwrap(), "80");
    assert_eq!(get("MY_SVC_PORT_443_TCP").unwrap(), format!("tcp://{my_ip}:443"));
    assert_eq!(get("MY_SVC_PORT_443_TCP_PORT").unwrap(), "443");
    assert_eq!(get("KUBERNETES_SERVICE_HOST").unwrap(), kube_ip);
    assert_eq!(get("KUBERNETES_SERVICE_PORT").unwrap(), "443");
    assert_eq!(get("KUBERNETES_PORT_443_TCP_ADDR").unwrap(), kube_ip);
    assert_eq!(get("OTHER_SERVICE_HOST"), None, "services of other namespaces are not linked");
    let keys: Vec<&str> = got.vars.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(&keys[..5], ["LEVEL", "MODE", "S_2bad", "S_TOKEN", "A"], "envFrom keys first, then env in order: {keys:?}");
    assert_eq!(
        got.warnings,
        [
            "Keys [1bad] from the EnvFrom configMap env/cfg were skipped since they are considered invalid environment variable names."
        ]
    );

    // enableServiceLinks: false keeps only the kubernetes service's variables.
    let quiet = create_pod(&admin, "env", spec(false, serde_json::json!([]), serde_json::json!([]))).await;
    let vars = kubelet::env::container_env(&node, &quiet, &env_of(&quiet), &[], &[]).await.unwrap();
    assert!(vars.iter().any(|kv| kv.key == "KUBERNETES_SERVICE_HOST"));
    assert!(!vars.iter().any(|kv| kv.key.starts_with("MY_SVC")), "{vars:?}");

    // Errors carry upstream's texts.
    for (env, want) in [
        (serde_json::json!([{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "k"}}}]), "configmap \"absent\" not found"),
        (serde_json::json!([{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k"}}}]), "couldn't find key k in ConfigMap env/cfg"),
        (serde_json::json!([{"name": "X", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "k"}}}]), "couldn't find key k in Secret env/sec"),
    ] {
        let p = create_pod(&admin, "env", spec(true, env, serde_json::json!([]))).await;
        let err = kubelet::env::container_env(&node, &p, &env_of(&p), &[], &[]).await.unwrap_err();
        assert_eq!(err.to_string(), want);
    }
    let p = create_pod(&admin, "env", spec(true, serde_json::json!([]), serde_json::json!([{"secretRef": {"name": "absent"}}]))).await;
    assert_eq!(kubelet::env::container_env(&node, &p, &env_of(&p), &[], &[]).await.unwrap_err().to_string(), "secret \"absent\" not found");

    // The node may not read a secret no pod of its references.
    s.ok(&["create", "secret", "generic", "-n", "env", "private", "--from-literal=K=v"]);
    let mut forged = pod.clone();
    forged.spec.as_mut().unwrap().containers[0].env_from =
        Some(vec![serde_json::from_value(serde_json::json!({"secretRef": {"name": "private"}})).unwrap()]);
    let err = kubelet::env::container_env(&node, &forged, &env_of(&forged), &[], &[]).await.unwrap_err().to_string();
    assert!(err.contains("forbidden"), "{err}");
}

/// A generic ephemeral volume's claim (`<pod>-<volume>`) must be owned by the pod.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_claims_belong_to_their_pod() {
    let s = Server::start();
    namespace(&s, "vol");
    let admin = s.client().await;
    let node = client_from(&s.user_kubeconfig("system:node:n1", &["system:nodes"])).await;
    let work = s.path().join("work");
    let vm = VolumeManager::new(node, work.join("pods"), "n1".into());
    let pod = |name: &str, _node: &str, _g: Option<i64>, volumes: serde_json::Value| {
        serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "vol"},
            "spec": {"nodeName": "n1", "automountServiceAccountToken": false,
                "containers": [{"name": "c", "image": "busybox:1.35", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                "volumes": volumes}
        })
    };
    let eph = create_pod(
        &admin,
        "vol",
        pod(
            "eph",
            "n1",
            None,
            serde_json::json!([{"name": "data", "ephemeral": {"volumeClaimTemplate": {"spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}}}]),
        ),
    )
    .await;
    s.ok_stdin(
        &["apply", "-f", "-"],
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: eph-data, namespace: vol}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}\n",
    );
    assert_eq!(
        vm.setup(&eph).await.unwrap_err().to_string(),
        "MountVolume.SetUp failed for volume \"data\" : PVC vol/eph-data was not created for pod vol/eph (pod is not owner)"
    );
    // Owned by the pod and bound to a hostPath volume: mounted from the volume's path.
    let uid = eph.metadata.uid.clone().unwrap();
    let dir = work.join("hp-pv");
    s.ok(&["delete", "pvc", "-n", "vol", "eph-data"]);
    s.ok_stdin(
        &["apply", "-f", "-"],
        &format!(
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: eph-data\n  namespace: vol\n  ownerReferences: [{{apiVersion: v1, kind: Pod, name: eph, uid: {uid}, controller: true}}]\nspec:\n  accessModes: [ReadWriteOnce]\n  volumeName: pv-hp\n  resources: {{requests: {{storage: 1Gi}}}}\n---\napiVersion: v1\nkind: PersistentVolume\nmetadata: {{name: pv-hp}}\nspec:\n  capacity: {{storage: 1Gi}}\n  accessModes: [ReadWriteOnce]\n  hostPath: {{path: {}, type: DirectoryOrCreate}}\n",
            dir.display()
        ),
    );
    let pvc_uid = s.ok(&["get", "pvc", "-n", "vol", "eph-data", "-o", "jsonpath={.metadata.uid}"]);
    s.ok(&["patch", "pv", "pv-hp", "--type=merge", "-p", &format!(r#"{{"spec":{{"claimRef":{{"namespace":"vol","name":"eph-data","uid":"{pvc_uid}"}}}}}}"#)]);
    s.ok(&["patch", "pvc", "-n", "vol", "eph-data", "--subresource=status", "--type=merge", "-p", r#"{"status":{"phase":"Bound"}}"#]);
    let vols = vm.setup(&eph).await.unwrap();
    assert_eq!(vols.volumes["data"].host_path, dir);
    assert!(dir.is_dir());
    vm.teardown(&uid).await.unwrap();
}
