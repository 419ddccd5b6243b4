//! Fidelity end to end: objects rich in optional fields come back from the API with every field
//! they were sent (defaults may add fields; none may be lost or altered).

#![recursion_limit = "512"]

mod support;

use http::{Method, Request};
use serde_json::{Value, json};
use support::Server;

/// Every path of `sent` must hold the same value in `got`.
fn missing(sent: &Value, got: &Value, path: &str, out: &mut Vec<String>) {
    match (sent, got) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => missing(v, w, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k} lost")),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                missing(v, w, &format!("{path}[{i}]"), out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(format!("{path}: sent {a}, got {b}")),
    }
}

fn rich_pod_spec() -> Value {
    json!({
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}]},
                "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 10, "preference": {"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["n1"]}]}}]
            },
            "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {"matchLabels": {"app": "rich"}}, "topologyKey": "kubernetes.io/hostname", "matchLabelKeys": ["pod-template-hash"]}]},
            "podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 5, "podAffinityTerm": {"labelSelector": {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, "namespaces": ["default"], "topologyKey": "zone"}}]}
        },
        "tolerations": [
            {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60},
            // both NoExecute node tolerations given, so DefaultTolerationSeconds adds nothing
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 120}
        ],
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "rich"}}, "minDomains": 2, "nodeAffinityPolicy": "Honor", "nodeTaintsPolicy": "Ignore"}],
        "securityContext": {"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000, "runAsNonRoot": true, "fsGroupChangePolicy": "OnRootMismatch",
            "seccompProfile": {"type": "RuntimeDefault"}, "supplementalGroups": [4000], "sysctls": [{"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"}]},
        "serviceAccountName": "default",
        "automountServiceAccountToken": false,
        "enableServiceLinks": false,
        "shareProcessNamespace": true,
        "hostname": "rich-host",
        "subdomain": "rich-sub",
        "priorityClassName": "system-node-critical",
        "dnsPolicy": "None",
        "dnsConfig": {"nameservers": ["127.0.0.53"], "searches": ["svc.cluster.local"], "options": [{"name": "ndots", "value": "2"}]},
        "hostAliases": [{"ip": "127.0.0.2", "hostnames": ["alias.local"]}],
        "readinessGates": [{"conditionType": "example.com/ready"}],
        "terminationGracePeriodSeconds": 45,
        "activeDeadlineSeconds": 3600,
        "nodeSelector": {"disk": "ssd"},
        "initContainers": [{"name": "init", "image": "busybox:1.36", "command": ["sh", "-c", "true"], "restartPolicy": "Always"}],
        "containers": [{
            "name": "app",
            "image": "registry.local/app:1.0",
            "command": ["/app"],
            "args": ["--port", "8080"],
            "workingDir": "/srv",
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}, {"containerPort": 9090, "protocol": "UDP", "hostIP": "127.0.0.1"}],
            "env": [
                {"name": "PLAIN", "value": "x"},
                {"name": "NODE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}},
                {"name": "MEM", "valueFrom": {"resourceFieldRef": {"containerName": "app", "resource": "limits.memory", "divisor": "1Mi"}}},
                {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "s", "key": "pw", "optional": true}}},
                {"name": "CFG", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}
            ],
            "envFrom": [{"prefix": "P_", "configMapRef": {"name": "c"}}, {"secretRef": {"name": "s", "optional": true}}],
            "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}},
            "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": true, "subPath": "x"}, {"name": "proj", "mountPath": "/proj"}],
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP", "httpHeaders": [{"name": "X-Probe", "value": "1"}]}, "initialDelaySeconds": 3, "periodSeconds": 7, "timeoutSeconds": 2, "failureThreshold": 4, "successThreshold": 1},
            "readinessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 5},
            "startupProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "failureThreshold": 30},
            "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}, "postStart": {"httpGet": {"path": "/start", "port": 8080}}},
            "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true, "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}, "seccompProfile": {"type": "RuntimeDefault"}},
            "stdin": true,
            "tty": true,
            "terminationMessagePolicy": "FallbackToLogsOnError",
            "imagePullPolicy": "Never"
        }],
        "volumes": [
            {"name": "data", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
            {"name": "proj", "projected": {"defaultMode": 288, "sources": [
                {"serviceAccountToken": {"audience": "api", "expirationSeconds": 3600, "path": "token"}},
                {"configMap": {"name": "c", "items": [{"key": "k", "path": "k.txt", "mode": 256}]}},
                {"secret": {"name": "s", "optional": true}},
                {"downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}}
            ]}},
            {"name": "host", "hostPath": {"path": "/var/log", "type": "Directory"}},
            {"name": "claim", "persistentVolumeClaim": {"claimName": "pvc", "readOnly": true}},
            {"name": "cfg", "configMap": {"name": "c", "defaultMode": 420, "optional": false}},
            {"name": "down", "downwardAPI": {"items": [{"path": "cpu", "resourceFieldRef": {"containerName": "app", "resource": "requests.cpu", "divisor": "1m"}}]}}
        ]
    })
}

async fn post(c: &kube::Client, path: &str, body: &Value) -> (u16, Value) {
    let req = Request::builder().method(Method::POST).uri(path).header("content-type", "application/json").body(kube::client::Body::from(serde_json::to_vec(body).unwrap())).unwrap();
    let resp = c.send(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect_bytes().await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

async fn get(c: &kube::Client, path: &str) -> Value {
    let req = Request::get(path).body(kube::client::Body::empty()).unwrap();
    let resp = c.send(req).await.unwrap();
    serde_json::from_slice(&resp.into_body().collect_bytes().await.unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rich_objects_keep_every_field() {
    let s = Server::start();
    let c = s.raw_client().await;
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "rich", "labels": {"app": "rich"}, "annotations": {"note": "kept"}}, "spec": rich_pod_spec()});
    // the rich pod mounts a hostPath: a namespace whose Pod Security level is privileged
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "rich", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}});
    assert_eq!(post(&c, "/api/v1/namespaces", &ns).await.0, 201);
    let (code, created) = post(&c, "/api/v1/namespaces/rich/pods", &pod).await;
    assert_eq!(code, 201, "{created}");
    let got = get(&c, "/api/v1/namespaces/rich/pods/rich").await;
    let mut lost = Vec::new();
    missing(&pod["spec"], &got["spec"], "spec", &mut lost);
    missing(&pod["metadata"]["annotations"], &got["metadata"]["annotations"], "metadata.annotations", &mut lost);
    assert!(lost.is_empty(), "pod fields lost or altered:\n{}", lost.join("\n"));

    // a template may not set what only bare pods may (upstream validation)
    let mut template_spec = rich_pod_spec();
    template_spec.as_object_mut().unwrap().remove("activeDeadlineSeconds");
    let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "rich"},
        "spec": {"replicas": 0, "minReadySeconds": 3, "paused": true, "revisionHistoryLimit": 2, "progressDeadlineSeconds": 120,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2, "maxUnavailable": "10%"}},
            "selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["rich"]}]},
            "template": {"metadata": {"labels": {"app": "rich"}}, "spec": template_spec}}});
    let (code, created) = post(&c, "/apis/apps/v1/namespaces/default/deployments", &deploy).await;
    assert_eq!(code, 201, "{created}");
    let got = get(&c, "/apis/apps/v1/namespaces/default/deployments/rich").await;
    let mut lost = Vec::new();
    missing(&deploy["spec"], &got["spec"], "spec", &mut lost);
    assert!(lost.is_empty(), "deployment fields lost or altered:\n{}", lost.join("\n"));

    let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "rich"},
        "spec": {"serviceName": "rich", "replicas": 1, "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Retain"},
            "selector": {"matchLabels": {"app": "rich"}},
            "template": {"metadata": {"labels": {"app": "rich"}}, "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "", "resources": {"requests": {"storage": "1Gi"}}}}]}});
    let (code, created) = post(&c, "/apis/apps/v1/namespaces/default/statefulsets", &sts).await;
    assert_eq!(code, 201, "{created}");
    let got = get(&c, "/apis/apps/v1/namespaces/default/statefulsets/rich").await;
    let mut lost = Vec::new();
    missing(&sts["spec"], &got["spec"], "spec", &mut lost);
    assert!(lost.is_empty(), "statefulset fields lost or altered:\n{}", lost.join("\n"));
}
