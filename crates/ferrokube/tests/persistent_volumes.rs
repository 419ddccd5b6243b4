//! The PersistentVolume binder through kubectl 1.32: claims bind to the smallest fitting volume
//! of their class, a claim naming a volume gets it, a claim nothing fits waits with upstream's
//! event, a deleted claim releases its volume, and a `WaitForFirstConsumer` claim is bound to
//! the local volume on the node the scheduler chose for its pod (simulated node).

mod support;

use std::time::Duration;

use support::{Server, eventually};

fn get(s: &Server, args: &[&str]) -> String {
    s.ok(args).trim().to_string()
}

fn pv(name: &str, class: &str, size: &str, extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: {name}\nspec:\n  capacity: {{storage: {size}}}\n  accessModes: [ReadWriteOnce]\n  \
         storageClassName: \"{class}\"\n  hostPath: {{path: /tmp/fk-pv-{name}}}\n{extra}---\n"
    )
}

fn pvc(name: &str, class: &str, size: &str, extra: &str) -> String {
    format!(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {name}\nspec:\n  accessModes: [ReadWriteOnce]\n  storageClassName: \"{class}\"\n  \
         resources: {{requests: {{storage: {size}}}}}\n{extra}---\n"
    )
}

fn events_of(s: &Server, name: &str) -> String {
    s.ok(&["get", "events", "--field-selector", &format!("involvedObject.name={name}"), "-o", "jsonpath={range .items[*]}{.type}/{.reason}/{.message}\n{end}"])
}

#[test]
fn claims_bind_to_volumes_and_release_them() {
    let s = Server::start();
    let manifests = [
        pv("pv-small", "manual", "1Gi", ""),
        pv("pv-big", "manual", "5Gi", ""),
        pv("pv-other", "fast", "1Gi", ""),
        pv("pv-named", "manual", "2Gi", ""),
        pvc("data", "manual", "800Mi", ""),
        pvc("wants-named", "manual", "1Gi", "  volumeName: pv-named\n"),
        pvc("too-big", "", "50Gi", ""),
    ]
    .concat();
    s.ok_stdin(&["apply", "-f", "-"], &manifests);

    // the smallest fitting volume of the class, bound both ways with upstream's annotations
    eventually(Duration::from_secs(20), "data bound", || s.kubectl(&["get", "pvc", "data", "-o", "jsonpath={.status.phase}"]).stdout == b"Bound");
    let claim = get(&s, &["get", "pvc", "data", "-o", "jsonpath={.spec.volumeName} {.status.capacity.storage} {.status.accessModes[0]} {.metadata.annotations.pv\\.kubernetes\\.io/bind-completed} {.metadata.uid}"]);
    let f: Vec<&str> = claim.split(' ').collect();
    assert_eq!(&f[..4], &["pv-small", "1Gi", "ReadWriteOnce", "yes"], "{claim}");
    let volume = get(&s, &["get", "pv", "pv-small", "-o", "jsonpath={.status.phase} {.spec.claimRef.namespace}/{.spec.claimRef.name} {.spec.claimRef.uid} {.metadata.annotations.pv\\.kubernetes\\.io/bound-by-controller}"]);
    assert_eq!(volume, format!("Bound default/data {} yes", f[4]));
    // kubectl's own columns
    let row = get(&s, &["get", "pvc", "data", "--no-headers"]);
    assert!(row.split_whitespace().take(4).eq(["data", "Bound", "pv-small", "1Gi"]), "{row}");

    // a claim naming its volume gets that one
    eventually(Duration::from_secs(20), "wants-named bound", || {
        s.kubectl(&["get", "pvc", "wants-named", "-o", "jsonpath={.status.phase}/{.spec.volumeName}"]).stdout == b"Bound/pv-named"
    });
    assert_eq!(get(&s, &["get", "pv", "pv-named", "-o", "jsonpath={.status.phase} {.spec.claimRef.name}"]), "Bound wants-named");

    // nothing fits: Pending, with upstream's event; the other volumes stay Available
    eventually(Duration::from_secs(20), "the FailedBinding event", || {
        events_of(&s, "too-big").contains("Warning/FailedBinding/no persistent volumes available for this claim and no storage class is set")
    });
    assert_eq!(get(&s, &["get", "pvc", "too-big", "-o", "jsonpath={.status.phase}"]), "Pending");
    assert_eq!(get(&s, &["get", "pv", "pv-big", "pv-other", "-o", "jsonpath={.items[*].status.phase}"]), "Available Available");

    // a deleted claim releases its volume (Retain keeps the data and the claimRef)
    s.ok(&["delete", "pvc", "data"]);
    eventually(Duration::from_secs(20), "pv-small released", || s.kubectl(&["get", "pv", "pv-small", "-o", "jsonpath={.status.phase}"]).stdout == b"Released");
    // a new claim does not get a released volume
    s.ok_stdin(&["apply", "-f", "-"], &pvc("again", "manual", "800Mi", ""));
    eventually(Duration::from_secs(20), "again bound", || s.kubectl(&["get", "pvc", "again", "-o", "jsonpath={.status.phase}"]).stdout == b"Bound");
    assert_eq!(get(&s, &["get", "pvc", "again", "-o", "jsonpath={.spec.volumeName}"]), "pv-big");
}

#[test]
fn wait_for_first_consumer_binds_the_local_volume_of_the_chosen_node() {
    let s = Server::start();
    let _sim = s.sim(2, &[]);
    let class = "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: local\nprovisioner: kubernetes.io/no-provisioner\nvolumeBindingMode: WaitForFirstConsumer\n---\n";
    let affinity = "  nodeAffinity:\n    required:\n      nodeSelectorTerms:\n      - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [sim-1]}]\n";
    let local = pv("local-1", "local", "1Gi", affinity).replace("hostPath: {path: /tmp/fk-pv-local-1}", "local: {path: /mnt/disk1}");
    s.ok_stdin(&["apply", "-f", "-"], &[class.to_string(), local, pvc("scratch", "local", "1Gi", "")].concat());
    eventually(Duration::from_secs(20), "the WaitForFirstConsumer event", || {
        events_of(&s, "scratch").contains("Normal/WaitForFirstConsumer/waiting for first consumer to be created before binding")
    });
    assert_eq!(get(&s, &["get", "pvc", "scratch", "-o", "jsonpath={.status.phase}"]), "Pending");

    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: user\nspec:\n  containers:\n  - name: main\n    image: busybox\n    \
               volumeMounts: [{name: data, mountPath: /data}]\n  volumes:\n  - name: data\n    persistentVolumeClaim: {claimName: scratch}\n";
    s.ok_stdin(&["apply", "-f", "-"], pod);
    eventually(Duration::from_secs(30), "scratch bound", || s.kubectl(&["get", "pvc", "scratch", "-o", "jsonpath={.status.phase}"]).stdout == b"Bound");
    assert_eq!(get(&s, &["get", "pvc", "scratch", "-o", "jsonpath={.spec.volumeName}"]), "local-1");
    assert_eq!(get(&s, &["get", "pv", "local-1", "-o", "jsonpath={.status.phase}"]), "Bound");
    eventually(Duration::from_secs(30), "the pod running on sim-1", || {
        s.kubectl(&["get", "pod", "user", "-o", "jsonpath={.spec.nodeName}/{.status.phase}"]).stdout == b"sim-1/Running"
    });
}
