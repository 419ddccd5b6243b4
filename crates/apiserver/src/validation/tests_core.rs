//! Tests for core/v1 kinds against upstream's exact error texts.

use serde_json::{Value, json};

use super::tests_support::*;
use super::*;
use k8s_openapi::api::core::v1 as api;

fn rich_pod() -> Value {
    serde_json::from_str(RICH_POD).unwrap()
}

const RICH_POD: &str = r#"{
        "metadata": {"name": "web-0", "namespace": "default",
            "annotations": {"controller.kubernetes.io/pod-deletion-cost": "10"}},
        "spec": {
            "serviceAccountName": "web",
            "restartPolicy": "Always",
            "dnsPolicy": "ClusterFirst",
            "terminationGracePeriodSeconds": 30,
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "priorityClassName": "high",
            "hostname": "web-0",
            "subdomain": "web",
            "securityContext": {
                "runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000, "runAsNonRoot": true,
                "supplementalGroups": [4000],
                "seccompProfile": {"type": "RuntimeDefault"},
                "sysctls": [{"name": "net.ipv4.ip_local_port_range", "value": "1024 65000"}],
                "fsGroupChangePolicy": "OnRootMismatch"
            },
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                        {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["a", "b"]}]},
                        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-1"]}]}
                    ]},
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 10, "preference": {"matchExpressions": [{"key": "disk", "operator": "Exists"}]}}
                    ]
                },
                "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": "kubernetes.io/hostname"}
                ]},
                "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 100, "podAffinityTerm": {
                        "labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]},
                        "namespaces": ["default"],
                        "topologyKey": "topology.kubernetes.io/zone"}}
                ]}
            },
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"},
                {"operator": "Exists"}
            ],
            "topologySpreadConstraints": [
                {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
                 "labelSelector": {"matchLabels": {"app": "web"}}, "minDomains": 2,
                 "matchLabelKeys": ["pod-template-hash"]}
            ],
            "dnsConfig": {"nameservers": ["10.0.0.10"], "searches": ["svc.cluster.local."], "options": [{"name": "ndots", "value": "2"}]},
            "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["foo.local", "bar"]}],
            "readinessGates": [{"conditionType": "example.com/ready"}],
            "initContainers": [
                {"name": "init", "image": "busybox:1.36", "command": ["sh", "-c", "true"],
                 "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
                {"name": "proxy", "image": "envoy:1", "restartPolicy": "Always",
                 "startupProbe": {"tcpSocket": {"port": 15000}, "failureThreshold": 30, "periodSeconds": 1},
                 "ports": [{"name": "admin", "containerPort": 15000}]}
            ],
            "containers": [{
                "name": "web",
                "image": "nginx:1.27",
                "imagePullPolicy": "IfNotPresent",
                "ports": [
                    {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                    {"name": "metrics", "containerPort": 9090, "hostPort": 9090}
                ],
                "env": [
                    {"name": "MODE", "value": "prod"},
                    {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}},
                    {"name": "APP_LABEL", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
                    {"name": "MEM_LIMIT", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
                    {"name": "CFG", "valueFrom": {"configMapKeyRef": {"name": "web-config", "key": "mode"}}},
                    {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "web-secret", "key": "password", "optional": true}}},
                    {"name": "my.dotted-name", "value": "x"}
                ],
                "envFrom": [{"configMapRef": {"name": "web-env"}, "prefix": "CFG_"}, {"secretRef": {"name": "web-secret-env"}}],
                "resources": {
                    "requests": {"cpu": "250m", "memory": "64Mi", "ephemeral-storage": "1Gi", "example.com/gpu": "1"},
                    "limits": {"cpu": "1", "memory": "128Mi", "example.com/gpu": "1"}
                },
                "volumeMounts": [
                    {"name": "config", "mountPath": "/etc/nginx/conf.d", "readOnly": true},
                    {"name": "data", "mountPath": "/data", "subPath": "web"},
                    {"name": "token", "mountPath": "/var/run/secrets/tokens", "readOnly": true, "recursiveReadOnly": "IfPossible"},
                    {"name": "cache", "mountPath": "/cache"},
                    {"name": "host-logs", "mountPath": "/host/logs", "mountPropagation": "HostToContainer"}
                ],
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP",
                    "httpHeaders": [{"name": "X-Probe", "value": "1"}]},
                    "initialDelaySeconds": 5, "periodSeconds": 10, "timeoutSeconds": 2, "successThreshold": 1, "failureThreshold": 3,
                    "terminationGracePeriodSeconds": 10},
                "readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "successThreshold": 2},
                "startupProbe": {"grpc": {"port": 9090}},
                "lifecycle": {
                    "preStop": {"sleep": {"seconds": 5}},
                    "postStart": {"exec": {"command": ["sh", "-c", "echo started"]}}
                },
                "securityContext": {
                    "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true, "runAsUser": 101,
                    "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
                    "seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/web.json"},
                    "appArmorProfile": {"type": "RuntimeDefault"},
                    "procMount": "Default"
                },
                "terminationMessagePolicy": "FallbackToLogsOnError"
            }],
            "volumes": [
                {"name": "config", "configMap": {"name": "web-config", "defaultMode": 420,
                    "items": [{"key": "nginx.conf", "path": "default.conf", "mode": 256}]}},
                {"name": "data", "persistentVolumeClaim": {"claimName": "web-data"}},
                {"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
                {"name": "secret", "secret": {"secretName": "web-secret", "items": [{"key": "tls.crt", "path": "tls/cert.pem"}]}},
                {"name": "host-logs", "hostPath": {"path": "/var/log", "type": "Directory"}},
                {"name": "token", "projected": {"defaultMode": 420, "sources": [
                    {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600, "audience": "api"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
                ]}},
                {"name": "podinfo", "downwardAPI": {"items": [
                    {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                    {"path": "cpu_limit", "resourceFieldRef": {"containerName": "web", "resource": "limits.cpu", "divisor": "1m"}}
                ]}},
                {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"metadata": {"labels": {"type": "scratch"}},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}}},
                {"name": "nfs", "nfs": {"server": "nfs.local", "path": "/exports"}},
                {"name": "csi", "csi": {"driver": "secrets-store.csi.k8s.io", "readOnly": true}}
            ]
        }
    }"#;

fn minimal_pod() -> Value {
    json!({
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}
    })
}

#[test]
fn rich_pod_is_valid() {
    let p: api::Pod = obj(rich_pod());
    assert_eq!(strings(pod(&p)), Vec::<String>::new());
    assert_eq!(strings(pod_update(&p, &p)), Vec::<String>::new());
    let m: api::Pod = obj(minimal_pod());
    assert!(pod(&m).is_empty());
}

#[test]
fn pod_container_errors() {
    let c = |v: Value| json!({"spec": {"containers": [merge(&json!({"name": "c", "image": "nginx"}), &v)]}});
    let cases = vec![
        ("bad name", c(json!({"name": "Bad_Name"})), vec![format!("spec.containers[0].name: Invalid value: \"Bad_Name\": {LABEL_MSG}")]),
        ("no name", c(json!({"name": ""})), vec![s("spec.containers[0].name: Required value")]),
        ("no image", c(json!({"image": null})), vec![s("spec.containers[0].image: Required value")]),
        (
            "image whitespace",
            c(json!({"image": " nginx"})),
            vec![s("spec.containers[0].image: Invalid value: \" nginx\": must not have leading or trailing whitespace")],
        ),
        ("no containers", json!({"spec": {"containers": []}}), vec![s("spec.containers: Required value")]),
        (
            "duplicate names",
            json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]}}),
            vec![s("spec.containers[1].name: Duplicate value: \"a\"")],
        ),
        (
            "duplicate across init",
            json!({"spec": {"initContainers": [{"name": "c", "image": "x"}]}}),
            vec![s("spec.initContainers[0].name: Duplicate value: \"c\"")],
        ),
        ("port zero", c(json!({"ports": [{"containerPort": 0}]})), vec![s("spec.containers[0].ports[0].containerPort: Required value")]),
        (
            "port range",
            c(json!({"ports": [{"containerPort": 70000, "hostPort": -1}]})),
            vec![
                s("spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"),
                s("spec.containers[0].ports[0].hostPort: Invalid value: -1: must be between 1 and 65535, inclusive"),
            ],
        ),
        (
            "port name",
            c(json!({"ports": [{"containerPort": 80, "name": "HTTP"}]})),
            vec![
                s("spec.containers[0].ports[0].name: Invalid value: \"HTTP\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"),
                s("spec.containers[0].ports[0].name: Invalid value: \"HTTP\": must contain at least one letter (a-z)"),
            ],
        ),
        (
            "port name too long and numeric",
            c(json!({"ports": [{"containerPort": 80, "name": "1234567890123456"}]})),
            vec![
                s("spec.containers[0].ports[0].name: Invalid value: \"1234567890123456\": must be no more than 15 characters"),
                s("spec.containers[0].ports[0].name: Invalid value: \"1234567890123456\": must contain at least one letter (a-z)"),
            ],
        ),
        (
            "duplicate port name",
            c(json!({"ports": [{"containerPort": 80, "name": "web"}, {"containerPort": 81, "name": "web"}]})),
            vec![s("spec.containers[0].ports[1].name: Duplicate value: \"web\"")],
        ),
        (
            "protocol",
            c(json!({"ports": [{"containerPort": 80, "protocol": "HTTP"}]})),
            vec![s("spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"")],
        ),
        (
            "host port conflict",
            json!({"spec": {"containers": [
                {"name": "a", "image": "x", "ports": [{"containerPort": 80, "hostPort": 8080}]},
                {"name": "b", "image": "x", "ports": [{"containerPort": 81, "hostPort": 8080}]}]}}),
            vec![s("spec.containers[1].ports[0].hostPort: Duplicate value: \"TCP//8080\"")],
        ),
        (
            "env name",
            c(json!({"env": [{"name": "A=B"}, {"name": ""}]})),
            vec![
                s("spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='"),
                s("spec.containers[0].env[1].name: Required value"),
            ],
        ),
        (
            "env valueFrom empty",
            c(json!({"env": [{"name": "A", "valueFrom": {}}]})),
            vec![s("spec.containers[0].env[0].valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`")],
        ),
        (
            "env value and valueFrom",
            c(json!({"env": [{"name": "A", "value": "x", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]})),
            vec![s("spec.containers[0].env[0].valueFrom: Invalid value: \"\": may not be specified when `value` is not empty")],
        ),
        (
            "env two sources",
            c(json!({"env": [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}, "secretKeyRef": {"name": "s", "key": "k"}}}]})),
            vec![s("spec.containers[0].env[0].valueFrom: Invalid value: \"\": may not have more than one field specified at a time")],
        ),
        (
            "env fieldRef",
            c(json!({"env": [
                {"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.foo"}}},
                {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "status.phase"}}},
                {"name": "C", "valueFrom": {"fieldRef": {"apiVersion": "v2", "fieldPath": "metadata.name"}}},
                {"name": "D", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['bad key']"}}}]})),
            vec![
                s("spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Invalid value: \"spec.foo\": error converting fieldPath: field label not supported: spec.foo"),
                s("spec.containers[0].env[1].valueFrom.fieldRef.fieldPath: Unsupported value: \"status.phase\": supported values: \"metadata.name\", \"metadata.namespace\", \"metadata.uid\", \"spec.nodeName\", \"spec.serviceAccountName\", \"status.hostIP\", \"status.hostIPs\", \"status.podIP\", \"status.podIPs\""),
                s("spec.containers[0].env[2].valueFrom.fieldRef.fieldPath: Invalid value: \"metadata.name\": error converting fieldPath: unsupported pod version: v2"),
                format!("spec.containers[0].env[3].valueFrom.fieldRef: Invalid value: \"bad key\": {NAME_PART_MSG}"),
            ],
        ),
        (
            "env resourceFieldRef",
            c(json!({"env": [
                {"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.gpu"}}},
                {"name": "B", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1Mi"}}}]})),
            vec![
                s("spec.containers[0].env[0].valueFrom.resourceFieldRef.resource: Unsupported value: \"limits.gpu\": supported values: \"limits.cpu\", \"limits.ephemeral-storage\", \"limits.memory\", \"requests.cpu\", \"requests.ephemeral-storage\", \"requests.memory\""),
                s("spec.containers[0].env[1].valueFrom.resourceFieldRef.divisor: Invalid value: \"limits.cpu\": only divisor's values 1m and 1 are supported with the cpu resource"),
            ],
        ),
        (
            "env key refs",
            c(json!({"env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "", "key": "a b"}}}]})),
            vec![
                format!("spec.containers[0].env[0].valueFrom.configMapKeyRef.name: Invalid value: \"\": {SUBDOMAIN_MSG}"),
                format!("spec.containers[0].env[0].valueFrom.configMapKeyRef.key: Invalid value: \"a b\": {CONFIG_KEY_MSG}"),
            ],
        ),
        (
            "envFrom",
            c(json!({"envFrom": [{"prefix": "1="}, {"configMapRef": {"name": ""}}]})),
            vec![
                s("spec.containers[0].envFrom[0].prefix: Invalid value: \"1=\": a valid environment variable name must consist only of printable ASCII characters other than '='"),
                s("spec.containers[0].envFrom: Invalid value: \"\": must specify one of: `configMapRef` or `secretRef`"),
                s("spec.containers[0].envFrom[1].configMapRef.name: Required value"),
            ],
        ),
        (
            "restartPolicy on container",
            c(json!({"restartPolicy": "Always"})),
            vec![s("spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers")],
        ),
        (
            "pull policy",
            c(json!({"imagePullPolicy": "Sometimes"})),
            vec![s("spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"")],
        ),
        (
            "termination message policy",
            c(json!({"terminationMessagePolicy": "Log"})),
            vec![s("spec.containers[0].terminationMessagePolicy: Unsupported value: \"Log\": supported values: \"File\", \"FallbackToLogsOnError\"")],
        ),
    ];
    check_table::<api::Pod>(&minimal_pod(), pod, &cases);
}

#[test]
fn pod_resource_errors() {
    let r = |v: Value| json!({"spec": {"containers": [{"name": "c", "image": "nginx", "resources": v}]}});
    let cases = vec![
        (
            "request above limit",
            r(json!({"requests": {"cpu": "2"}, "limits": {"cpu": "1000m"}})),
            vec![s("spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1")],
        ),
        (
            "memory request above limit",
            r(json!({"requests": {"memory": "1.5Gi"}, "limits": {"memory": "1Gi"}})),
            vec![s("spec.containers[0].resources.requests: Invalid value: \"1536Mi\": must be less than or equal to memory limit of 1Gi")],
        ),
        (
            "negative",
            r(json!({"requests": {"memory": "-1"}})),
            vec![s("spec.containers[0].resources.requests[memory]: Invalid value: \"-1\": must be greater than or equal to 0")],
        ),
        (
            "unknown resource",
            r(json!({"limits": {"foo": "1"}})),
            vec![
                s("spec.containers[0].resources.limits[foo]: Invalid value: \"foo\": must be a standard resource type or fully qualified"),
                s("spec.containers[0].resources.limits[foo]: Invalid value: \"foo\": must be a standard resource for containers"),
            ],
        ),
        (
            "extended resource must be integer and equal",
            r(json!({"requests": {"example.com/gpu": "500m"}, "limits": {"example.com/gpu": "1"}})),
            vec![
                s("spec.containers[0].resources.requests[example.com/gpu]: Invalid value: \"500m\": must be an integer"),
                s("spec.containers[0].resources.requests: Invalid value: \"500m\": must be equal to example.com/gpu limit of 1"),
            ],
        ),
        (
            "extended resource needs limit",
            r(json!({"requests": {"example.com/gpu": "1"}})),
            vec![s("spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources")],
        ),
        (
            "hugepages",
            r(json!({"requests": {"hugepages-2Mi": "3Mi"}, "limits": {"hugepages-2Mi": "3Mi"}})),
            vec![
                s("spec.containers[0].resources.limits[hugepages-2Mi]: Invalid value: \"3Mi\": 3Mi is not positive integer multiple of hugepages-2Mi"),
                s("spec.containers[0].resources.requests[hugepages-2Mi]: Invalid value: \"3Mi\": 3Mi is not positive integer multiple of hugepages-2Mi"),
                s("spec.containers[0].resources: Forbidden: HugePages require cpu or memory"),
            ],
        ),
        (
            "bad quantity",
            r(json!({"limits": {"cpu": "one"}})),
            vec![s("spec.containers[0].resources.limits[cpu]: Invalid value: \"one\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")],
        ),
    ];
    check_table::<api::Pod>(&minimal_pod(), pod, &cases);
}

#[test]
fn pod_probe_and_lifecycle_errors() {
    let c = |v: Value| json!({"spec": {"containers": [merge(&json!({"name": "c", "image": "nginx"}), &v)]}});
    let cases = vec![
        (
            "liveness success threshold",
            c(json!({"livenessProbe": {"tcpSocket": {"port": 80}, "successThreshold": 2}})),
            vec![s("spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1")],
        ),
        ("no handler", c(json!({"livenessProbe": {}})), vec![s("spec.containers[0].livenessProbe: Required value: must specify a handler type")]),
        (
            "two handlers",
            c(json!({"readinessProbe": {"exec": {"command": ["x"]}, "tcpSocket": {"port": 80}}})),
            vec![s("spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type")],
        ),
        (
            "negative period, bad port, readiness grace",
            c(json!({"readinessProbe": {"httpGet": {"port": 0}, "periodSeconds": -1, "terminationGracePeriodSeconds": 5}})),
            vec![
                s("spec.containers[0].readinessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive"),
                s("spec.containers[0].readinessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0"),
                s("spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not be set for readinessProbes"),
            ],
        ),
        (
            "probe grace zero",
            c(json!({"startupProbe": {"exec": {"command": ["x"]}, "terminationGracePeriodSeconds": 0}})),
            vec![s("spec.containers[0].startupProbe.terminationGracePeriodSeconds: Invalid value: 0: must be greater than 0")],
        ),
        (
            "exec without command, bad scheme, bad header",
            c(json!({"livenessProbe": {"exec": {}}, "readinessProbe": {"httpGet": {"port": "http", "scheme": "FTP", "httpHeaders": [{"name": "X Y", "value": "1"}]}}})),
            vec![
                s("spec.containers[0].livenessProbe.exec.command: Required value"),
                s("spec.containers[0].readinessProbe.httpGet.scheme: Unsupported value: \"FTP\": supported values: \"HTTP\", \"HTTPS\""),
                s("spec.containers[0].readinessProbe.httpGet.httpHeaders: Invalid value: \"X Y\": a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"),
            ],
        ),
        (
            "sleep longer than grace",
            c(json!({"lifecycle": {"preStop": {"sleep": {"seconds": 60}}}})),
            vec![s("spec.containers[0].lifecycle.preStop.sleep: Invalid value: 60: must be greater than 0 and less than terminationGracePeriodSeconds (30). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.")],
        ),
        (
            "init container probes",
            json!({"spec": {"initContainers": [{"name": "i", "image": "x", "livenessProbe": {"exec": {"command": ["x"]}}, "restartPolicy": "OnFailure"}]}}),
            vec![
                s("spec.initContainers[0].restartPolicy: Unsupported value: \"OnFailure\": supported values: \"Always\""),
                s("spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always"),
            ],
        ),
    ];
    check_table::<api::Pod>(&minimal_pod(), pod, &cases);
}

#[test]
fn pod_volume_errors() {
    let v = |vols: Value, mounts: Value| {
        json!({"spec": {"volumes": vols, "containers": [{"name": "c", "image": "nginx", "volumeMounts": mounts}]}})
    };
    let cases = vec![
        (
            "mount of missing volume",
            v(json!([]), json!([{"name": "missing", "mountPath": "/x"}])),
            vec![s("spec.containers[0].volumeMounts[0].name: Not found: \"missing\"")],
        ),
        (
            "mount paths",
            v(json!([{"name": "a", "emptyDir": {}}]), json!([{"name": "a", "mountPath": ""}, {"name": "a", "mountPath": ""}])),
            vec![
                s("spec.containers[0].volumeMounts[0].mountPath: Required value"),
                s("spec.containers[0].volumeMounts[1].mountPath: Required value"),
                s("spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"\": must be unique"),
            ],
        ),
        (
            "subPath",
            v(json!([{"name": "a", "emptyDir": {}}]), json!([{"name": "a", "mountPath": "/a", "subPath": "../x"}, {"name": "a", "mountPath": "/b", "subPath": "/abs"}])),
            vec![
                s("spec.containers[0].volumeMounts.subPath: Invalid value: \"../x\": must not contain '..'"),
                s("spec.containers[0].volumeMounts.subPath: Invalid value: \"/abs\": must be a relative path"),
            ],
        ),
        (
            "bidirectional needs privileged",
            v(json!([{"name": "a", "emptyDir": {}}]), json!([{"name": "a", "mountPath": "/a", "mountPropagation": "Bidirectional"}])),
            vec![s("spec.containers[0].volumeMounts.mountPropagation: Forbidden: Bidirectional mount propagation is available only to privileged containers")],
        ),
        (
            "two sources",
            v(json!([{"name": "a", "emptyDir": {}, "hostPath": {"path": "/x"}}]), json!([])),
            vec![s("spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type")],
        ),
        ("no source", v(json!([{"name": "a"}]), json!([])), vec![s("spec.volumes[0]: Required value: must specify a volume type")]),
        (
            "volume names",
            v(json!([{"name": "A_b", "emptyDir": {}}, {"name": "x", "emptyDir": {}}, {"name": "x", "emptyDir": {}}]), json!([])),
            vec![
                format!("spec.volumes[0].name: Invalid value: \"A_b\": {LABEL_MSG}"),
                s("spec.volumes[2].name: Duplicate value: \"x\""),
            ],
        ),
        (
            "secret and configMap",
            v(
                json!([{"name": "s", "secret": {"defaultMode": 512}},
                       {"name": "c", "configMap": {"name": "cm", "items": [{"key": "", "path": "/etc"}, {"key": "k", "path": "..x"}]}}]),
                json!([]),
            ),
            vec![
                s("spec.volumes[0].secret.secretName: Required value"),
                s("spec.volumes[0].secret.defaultMode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive"),
                s("spec.volumes[1].configMap.items[0].key: Required value"),
                s("spec.volumes[1].configMap.items[0].path: Invalid value: \"/etc\": must be a relative path"),
                s("spec.volumes[1].configMap.items[1].path: Invalid value: \"..x\": must not start with '..'"),
            ],
        ),
        (
            "hostPath",
            v(json!([{"name": "h", "hostPath": {"path": "/a/../b", "type": "Bogus"}}, {"name": "e", "hostPath": {"path": ""}}]), json!([])),
            vec![
                s("spec.volumes[0].hostPath.path: Invalid value: \"/a/../b\": must not contain '..'"),
                s("spec.volumes[0].hostPath.type: Unsupported value: \"Bogus\": supported values: \"\", \"BlockDevice\", \"CharDevice\", \"Directory\", \"DirectoryOrCreate\", \"File\", \"FileOrCreate\", \"Socket\""),
                s("spec.volumes[1].hostPath.path: Required value"),
            ],
        ),
        (
            "pvc, nfs, emptyDir",
            v(json!([{"name": "p", "persistentVolumeClaim": {"claimName": ""}}, {"name": "n", "nfs": {"server": "", "path": "rel"}},
                     {"name": "e", "emptyDir": {"sizeLimit": "-1Gi"}}]), json!([])),
            vec![
                s("spec.volumes[0].persistentVolumeClaim.claimName: Required value"),
                s("spec.volumes[1].nfs.server: Required value"),
                s("spec.volumes[1].nfs.path: Invalid value: \"rel\": must be an absolute path"),
                s("spec.volumes[2].emptyDir.sizeLimit: Forbidden: SizeLimit field must be a valid resource quantity"),
            ],
        ),
        (
            "projected",
            v(json!([{"name": "t", "projected": {"sources": [
                {"serviceAccountToken": {"path": "token", "expirationSeconds": 60}},
                {"configMap": {"name": "a", "items": [{"key": "k", "path": "token"}]}, "secret": {"name": "b"}}
            ]}}]), json!([])),
            vec![
                s("spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes"),
                s("spec.volumes[0].projected.sources[1]: Forbidden: may not specify more than 1 volume type per source"),
                s("spec.volumes[0].projected.sources[0].serviceAccountToken: Forbidden: must not be specified when serviceAccountName is not set"),
            ],
        ),
        (
            "downwardAPI",
            v(json!([{"name": "d", "downwardAPI": {"items": [{"path": "x"}, {"path": "y", "fieldRef": {"fieldPath": "spec.nodeName"}}]}}]), json!([])),
            vec![
                s("spec.volumes[0].downwardAPI: Required value: one of fieldRef and resourceFieldRef is required"),
                s("spec.volumes[0].downwardAPI.fieldRef.fieldPath: Unsupported value: \"spec.nodeName\": supported values: \"metadata.annotations\", \"metadata.labels\", \"metadata.name\", \"metadata.namespace\", \"metadata.uid\""),
            ],
        ),
        (
            "ephemeral",
            v(json!([{"name": "e", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": []}}}}]), json!([])),
            vec![
                s("spec.volumes[0].ephemeral.volumeClaimTemplate.spec.accessModes: Required value: at least 1 access mode is required"),
                s("spec.volumes[0].ephemeral.volumeClaimTemplate.spec.resources[storage]: Required value"),
            ],
        ),
        (
            "csi driver",
            v(json!([{"name": "c", "csi": {"driver": "Bad_Driver"}}]), json!([])),
            vec![format!("spec.volumes[0].csi.driver: Invalid value: \"Bad_Driver\": {SUBDOMAIN_MSG}")],
        ),
    ];
    check_table::<api::Pod>(&minimal_pod(), pod, &cases);
}

#[test]
fn pod_spec_errors() {
    let cases = vec![
        (
            "restart policy",
            json!({"spec": {"restartPolicy": "Sometimes"}}),
            vec![s("spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"")],
        ),
        (
            "dns policy",
            json!({"spec": {"dnsPolicy": "Custom"}}),
            vec![s("spec.dnsPolicy: Unsupported value: \"Custom\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"")],
        ),
        (
            "dns none without config",
            json!({"spec": {"dnsPolicy": "None"}}),
            vec![s("spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None")],
        ),
        (
            "dns config",
            json!({"spec": {"dnsConfig": {"nameservers": ["1.1.1.1", "8.8.8.8", "9.9.9.9", "x"], "searches": ["Bad_Domain"], "options": [{"value": "1"}]}}}),
            vec![
                s("spec.dnsConfig.nameservers: Invalid value: [\"1.1.1.1\",\"8.8.8.8\",\"9.9.9.9\",\"x\"]: must not have more than 3 nameservers"),
                s("spec.dnsConfig.nameservers[3]: Invalid value: \"x\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"),
                format!("spec.dnsConfig.searches[0]: Invalid value: \"Bad_Domain\": {SUBDOMAIN_MSG}"),
                s("spec.dnsConfig.options[0]: Required value: must not be empty"),
            ],
        ),
        (
            "node selector",
            json!({"spec": {"nodeSelector": {"disk": "bad value"}}}),
            vec![format!("spec.nodeSelector: Invalid value: \"bad value\": {LABEL_VALUE_MSG}")],
        ),
        (
            "active deadline",
            json!({"spec": {"activeDeadlineSeconds": 0}}),
            vec![s("spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive")],
        ),
        ("negative grace period is tolerated", json!({"spec": {"terminationGracePeriodSeconds": -1}}), vec![]),
        (
            "hostname, subdomain, nodeName, serviceAccountName",
            json!({"spec": {"hostname": "a.b", "subdomain": "X", "nodeName": "Node_1", "serviceAccountName": "Sa"}}),
            vec![
                format!("spec.serviceAccountName: Invalid value: \"Sa\": {SUBDOMAIN_MSG}"),
                format!("spec.nodeName: Invalid value: \"Node_1\": {SUBDOMAIN_MSG}"),
                s("spec.hostname: Invalid value: \"a.b\": must not contain dots"),
                format!("spec.subdomain: Invalid value: \"X\": {LABEL_MSG}"),
            ],
        ),
        (
            "tolerations",
            json!({"spec": {"tolerations": [
                {"operator": "Equal", "value": "x"},
                {"key": "k", "effect": "Bad"},
                {"key": "k", "effect": "NoSchedule", "tolerationSeconds": 10},
                {"key": "k", "operator": "Exists", "value": "x"},
                {"key": "k", "operator": "In"},
                {"key": "bad key"}
            ]}}),
            vec![
                s("spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\""),
                s("spec.tolerations[1].effect: Unsupported value: \"Bad\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""),
                s("spec.tolerations[2].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set"),
                s("spec.tolerations[3].operator: Invalid value: \"x\": value must be empty when `operator` is 'Exists'"),
                s("spec.tolerations[4].operator: Unsupported value: \"In\": supported values: \"Equal\", \"Exists\""),
                format!("spec.tolerations[5].key: Invalid value: \"bad key\": {NAME_PART_MSG}"),
            ],
        ),
        (
            "security contexts",
            json!({"spec": {"securityContext": {"fsGroup": -1, "runAsUser": 2147483648i64, "sysctls": [{"name": "Bad", "value": "1"}]},
                    "containers": [{"name": "c", "image": "x", "securityContext": {"runAsUser": -1, "procMount": "Unmasked",
                        "allowPrivilegeEscalation": false, "privileged": true,
                        "seccompProfile": {"type": "Localhost"}, "appArmorProfile": {"type": "Bogus"}}}]}}),
            vec![
                s("spec.containers[0].securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive"),
                s("spec.containers[0].securityContext.procMount: Invalid value: \"Unmasked\": `hostUsers` must be false to use `Unmasked`"),
                s("spec.containers[0].securityContext.seccompProfile.localhostProfile: Required value: must be set when seccomp type is Localhost"),
                s("spec.containers[0].securityContext: Invalid value: {\"allowPrivilegeEscalation\":false,\"appArmorProfile\":{\"type\":\"Bogus\"},\"privileged\":true,\"procMount\":\"Unmasked\",\"runAsUser\":-1,\"seccompProfile\":{\"type\":\"Localhost\"}}: cannot set `allowPrivilegeEscalation` to false and `privileged` to true"),
                s("spec.containers[0].securityContext.appArmorProfile.type: Unsupported value: \"Bogus\": supported values: \"Localhost\", \"RuntimeDefault\", \"Unconfined\""),
                s("spec.securityContext.fsGroup: Invalid value: -1: must be between 0 and 2147483647, inclusive"),
                s("spec.securityContext.runAsUser: Invalid value: 2147483648: must be between 0 and 2147483647, inclusive"),
                s("spec.securityContext.sysctls[0].name: Invalid value: \"Bad\": must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$"),
            ],
        ),
        (
            "host network ports",
            json!({"spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 80, "hostPort": 81}]}],
                    "securityContext": {"sysctls": [{"name": "net.core.somaxconn", "value": "1"}]}}}),
            vec![
                s("spec.containers[0].ports[0].hostPort: Invalid value: 81: must match `containerPort` when `hostNetwork` is true"),
                s("spec.securityContext.sysctls[0].name: Invalid value: \"net.core.somaxconn\": may not be specified when 'hostNetwork' is true"),
            ],
        ),
        (
            "share process namespace with host pid",
            json!({"spec": {"hostPID": true, "shareProcessNamespace": true}}),
            vec![s("spec.securityContext.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and HostPID cannot both be enabled")],
        ),
        (
            "node affinity",
            json!({"spec": {"affinity": {"nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "a", "operator": "Foo"}, {"key": "b", "operator": "In"}, {"key": "c", "operator": "Exists", "values": ["x"]},
                    {"key": "d", "operator": "Gt", "values": ["1", "2"]}], "matchFields": [{"key": "metadata.uid", "operator": "In", "values": ["x"]}]}]},
                "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 0, "preference": {}}]}}}}),
            vec![
                s("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator: Invalid value: \"Foo\": not a valid selector operator"),
                s("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[1].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"),
                s("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[2].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
                s("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[3].values: Required value: must be specified single value when `operator` is 'Lt' or 'Gt'"),
                s("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key: Invalid value: \"metadata.uid\": not a valid field selector key"),
                s("spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: must be in the range 1-100"),
            ],
        ),
        (
            "empty node selector terms",
            json!({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}}}}),
            vec![s("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term")],
        ),
        (
            "pod affinity",
            json!({"spec": {"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": "bad value"}}, "topologyKey": "", "namespaces": ["Bad"]}]}}}}),
            vec![
                format!("spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels: Invalid value: \"bad value\": {LABEL_VALUE_MSG}"),
                format!("spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].namespace: Invalid value: \"Bad\": {LABEL_MSG}"),
                s("spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: can not be empty"),
                s("spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: \"\": name part must be non-empty"),
                format!("spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: \"\": {NAME_PART_MSG}"),
            ],
        ),
        (
            "topology spread",
            json!({"spec": {"topologySpreadConstraints": [
                {"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "Maybe", "minDomains": 1},
                {"maxSkew": 1, "topologyKey": "", "whenUnsatisfiable": "DoNotSchedule"},
                {"maxSkew": 1, "topologyKey": "", "whenUnsatisfiable": "DoNotSchedule", "matchLabelKeys": ["app"]}]}}),
            vec![
                s("spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero"),
                s("spec.topologySpreadConstraints[0].whenUnsatisfiable: Unsupported value: \"Maybe\": supported values: \"DoNotSchedule\", \"ScheduleAnyway\""),
                s("spec.topologySpreadConstraints[0].minDomains: Invalid value: 1: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not Maybe"),
                s("spec.topologySpreadConstraints[1].topologyKey: Required value: can not be empty"),
                s("spec.topologySpreadConstraints[1].{topologyKey, whenUnsatisfiable}: Duplicate value: \"{, DoNotSchedule}\""),
                s("spec.topologySpreadConstraints[2].topologyKey: Required value: can not be empty"),
                s("spec.topologySpreadConstraints[2].matchLabelKeys: Forbidden: must not be specified when labelSelector is not set"),
            ],
        ),
        (
            "ephemeral containers on create",
            json!({"spec": {"ephemeralContainers": [{"name": "debug", "image": "busybox", "targetContainerName": "c"}]}}),
            vec![s("spec.ephemeralContainers: Forbidden: cannot be set on create")],
        ),
        (
            "nodeName with scheduling gates",
            json!({"spec": {"nodeName": "n1", "schedulingGates": [{"name": "example.com/gate"}, {"name": "example.com/gate"}]}}),
            vec![
                s("spec.schedulingGates[1]: Duplicate value: \"example.com/gate\""),
                s("spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared"),
            ],
        ),
        (
            "os windows",
            json!({"spec": {"os": {"name": "windows"}, "hostPID": true, "securityContext": {"runAsUser": 1}}}),
            vec![
                s("spec.hostPID: Forbidden: cannot be set for a windows pod"),
                s("spec.securityContext.runAsUser: Forbidden: cannot be set for a windows pod"),
            ],
        ),
        ("os unknown", json!({"spec": {"os": {"name": "plan9"}}}), vec![s("spec.os: Unsupported value: \"plan9\": supported values: \"linux\", \"windows\"")]),
        (
            "deletion cost annotation",
            json!({"metadata": {"annotations": {"controller.kubernetes.io/pod-deletion-cost": "x"}}}),
            vec![s("metadata.annotations[controller.kubernetes.io/pod-deletion-cost]: Invalid value: \"x\": must be a 32bit integer")],
        ),
    ];
    check_table::<api::Pod>(&minimal_pod(), pod, &cases);
}

#[test]
fn pod_update_rules() {
    let old: api::Pod = obj(rich_pod());
    let upd = |patch: Value| -> Vec<String> {
        let new: api::Pod = obj(merge(&rich_pod(), &patch));
        strings(pod_update(&new, &old))
    };
    // image changes are allowed
    let mut new = old.clone();
    new.spec.as_mut().unwrap().containers[0].image = Some("nginx:1.28".into());
    assert!(pod_update(&new, &old).is_empty());
    // defaulting noise (empty vs absent) is not a change
    let mut new = old.clone();
    new.spec.as_mut().unwrap().containers[0].args = Some(vec![]);
    assert!(pod_update(&new, &old).is_empty());
    // other spec changes are forbidden
    let got = upd(json!({"spec": {"containers": [merge(&rich_pod()["spec"]["containers"][0], &json!({"workingDir": "/tmp"}))]}}));
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"), "{got:?}");
    assert!(got[0].contains("containers[0].workingDir"), "{got:?}");
    let extra = json!({"spec": {"containers": [rich_pod()["spec"]["containers"][0].clone(), {"name": "side", "image": "x"}]}});
    assert_eq!(upd(extra), vec![s("spec.containers: Forbidden: pod updates may not add or remove containers")]);
    let tol = json!({"spec": {"tolerations": [{"key": "other", "operator": "Exists"}]}});
    assert_eq!(upd(tol), vec![s("spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds")]);
    // activeDeadlineSeconds may only decrease
    let mut a = old.clone();
    a.spec.as_mut().unwrap().active_deadline_seconds = Some(10);
    let mut b = a.clone();
    b.spec.as_mut().unwrap().active_deadline_seconds = Some(20);
    assert_eq!(strings(pod_update(&b, &a)), vec![s("spec.activeDeadlineSeconds: Invalid value: 20: must be less than or equal to previous value")]);
    b.spec.as_mut().unwrap().active_deadline_seconds = Some(5);
    assert!(pod_update(&b, &a).is_empty());
    b.spec.as_mut().unwrap().active_deadline_seconds = None;
    assert_eq!(strings(pod_update(&b, &a)), vec![s("spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value")]);
    // scheduling gates may only be removed
    let mut g = old.clone();
    g.spec.as_mut().unwrap().scheduling_gates = Some(vec![api::PodSchedulingGate { name: "example.com/a".into() }]);
    let mut g2 = g.clone();
    g2.spec.as_mut().unwrap().scheduling_gates = Some(vec![]);
    assert!(pod_update(&g2, &g).is_empty());
    assert_eq!(
        strings(pod_update(&g, &old)),
        vec![s("spec.schedulingGates[0].name: Forbidden: only deletion is allowed, but found new scheduling gate 'example.com/a'")]
    );
}

#[test]
fn pod_status_updates() {
    let mut old: api::Pod = obj(minimal_pod());
    old.spec.as_mut().unwrap().restart_policy = Some("Never".into());
    old.status = Some(obj(json!({"containerStatuses": [{"name": "c", "image": "nginx", "imageID": "", "ready": false, "restartCount": 0,
        "state": {"terminated": {"exitCode": 0}}}]})));
    let mut new = old.clone();
    new.status = Some(obj(json!({"containerStatuses": [{"name": "c", "image": "nginx", "imageID": "", "ready": true, "restartCount": 0,
        "state": {"running": {}}}], "podIPs": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "qosClass": "BestEffort"})));
    assert_eq!(
        strings(pod_status_update(&new, &old)),
        vec![
            s("status.qosClass: Invalid value: \"BestEffort\": field is immutable"),
            s("status.containerStatuses[0].state: Forbidden: may not be transitioned to non-terminated state"),
            s("status.podIPs: Invalid value: [{\"ip\":\"10.0.0.1\"},{\"ip\":\"10.0.0.2\"}]: may specify no more than one IP for each IP family"),
        ]
    );
}

#[test]
fn pod_templates() {
    let pt: api::PodTemplate = obj(json!({"metadata": {"name": "t"}, "template": {"metadata": {"labels": {"app": "bad value"}},
        "spec": {"containers": [{"name": "c", "image": " x"}], "ephemeralContainers": [{"name": "e", "image": "x"}]}}}));
    assert_eq!(
        strings(pod_template(&pt)),
        vec![
            format!("template.labels: Invalid value: \"bad value\": {LABEL_VALUE_MSG}"),
            s("template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template"),
        ]
    );
    let ok: api::PodTemplate = obj(json!({"template": {"spec": rich_pod()["spec"].clone()}}));
    assert_eq!(strings(pod_template(&ok)), Vec::<String>::new());
}

fn base_service() -> Value {
    json!({"metadata": {"name": "web", "namespace": "default"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})
}

#[test]
fn services() {
    let valid = [
        base_service(),
        merge(&base_service(), &json!({"spec": {"clusterIP": "None", "ports": null}})),
        merge(&base_service(), &json!({"spec": {"type": "ExternalName", "externalName": "example.com.", "ports": null, "selector": null}})),
        merge(&base_service(), &json!({"spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "healthCheckNodePort": 31000,
            "loadBalancerSourceRanges": ["10.0.0.0/8", " 192.168.0.0/16"], "allocateLoadBalancerNodePorts": true,
            "ports": [{"name": "http", "port": 80, "nodePort": 30080}, {"name": "https", "port": 443, "nodePort": 30443, "appProtocol": "https"}]}})),
        merge(&base_service(), &json!({"spec": {"clusterIP": "10.0.0.10", "clusterIPs": ["10.0.0.10", "fd00::10"], "ipFamilies": ["IPv4", "IPv6"],
            "ipFamilyPolicy": "RequireDualStack", "sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 3600}},
            "externalIPs": ["203.0.113.7"], "internalTrafficPolicy": "Local", "trafficDistribution": "PreferClose"}})),
    ];
    for v in valid {
        let svc: api::Service = obj(v.clone());
        assert_eq!(strings(service(&svc)), Vec::<String>::new(), "{v}");
    }
    let cases = vec![
        ("no ports", json!({"spec": {"ports": []}}), vec![s("spec.ports: Required value")]),
        (
            "port rules",
            json!({"spec": {"ports": [{"port": 0, "protocol": "HTTP", "targetPort": 70000}, {"name": "Bad", "port": 80, "targetPort": "Http"}, {"name": "x", "port": 80}]}}),
            vec![
                s("spec.ports[0].name: Required value"),
                s("spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"),
                s("spec.ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\""),
                s("spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive"),
                format!("spec.ports[1].name: Invalid value: \"Bad\": {LABEL_MSG}"),
                s("spec.ports[1].targetPort: Invalid value: \"Http\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"),
                s("spec.ports[2]: Duplicate value: {\"port\":80,\"protocol\":\"TCP\"}"),
            ],
        ),
        (
            "duplicate names",
            json!({"spec": {"ports": [{"name": "a", "port": 80}, {"name": "a", "port": 81}]}}),
            vec![s("spec.ports[1].name: Duplicate value: \"a\"")],
        ),
        (
            "type",
            json!({"spec": {"type": "Internal"}}),
            vec![s("spec.type: Unsupported value: \"Internal\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"")],
        ),
        (
            "nodePort on ClusterIP",
            json!({"spec": {"ports": [{"name": "http", "port": 80, "nodePort": 30000}]}}),
            vec![s("spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'")],
        ),
        (
            "duplicate nodePort",
            json!({"spec": {"type": "NodePort", "ports": [{"name": "a", "port": 80, "nodePort": 30000}, {"name": "b", "port": 81, "nodePort": 30000}]}}),
            vec![s("spec.ports[1].nodePort: Duplicate value: 30000")],
        ),
        (
            "externalName",
            json!({"spec": {"type": "ExternalName", "clusterIP": "10.0.0.1", "ports": null, "externalName": "Bad_Name"}}),
            vec![
                s("spec.clusterIPs: Forbidden: may not be set for ExternalName services"),
                format!("spec.externalName: Invalid value: \"Bad_Name\": {SUBDOMAIN_MSG}"),
            ],
        ),
        (
            "externalName required",
            json!({"spec": {"type": "ExternalName", "ports": null}}),
            vec![s("spec.externalName: Required value")],
        ),
        (
            "headless NodePort",
            json!({"spec": {"type": "NodePort", "clusterIP": "None"}}),
            vec![s("spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services")],
        ),
        (
            "selector",
            json!({"spec": {"selector": {"app": "-bad"}}}),
            vec![format!("spec.selector: Invalid value: \"-bad\": {LABEL_VALUE_MSG}")],
        ),
        (
            "session affinity",
            json!({"spec": {"sessionAffinity": "Cookie"}}),
            vec![s("spec.sessionAffinity: Unsupported value: \"Cookie\": supported values: \"ClientIP\", \"None\"")],
        ),
        (
            "session affinity timeout",
            json!({"spec": {"sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 0}}}}),
            vec![s("spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400")],
        ),
        (
            "cluster IPs",
            json!({"spec": {"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.2"]}}),
            vec![s("spec.clusterIPs: Invalid value: [\"10.0.0.2\"]: first value must match `clusterIP`")],
        ),
        (
            "cluster IPs without clusterIP",
            json!({"spec": {"clusterIPs": ["10.0.0.2"]}}),
            vec![s("spec.clusterIPs: Invalid value: [\"10.0.0.2\"]: must be empty when `clusterIP` is not specified")],
        ),
        (
            "cluster IP invalid and families",
            json!({"spec": {"clusterIP": "300.1.1.1", "ipFamilies": ["IPv5"], "ipFamilyPolicy": "Mixed"}}),
            vec![
                s("spec.ipFamilies[0]: Unsupported value: \"IPv5\": supported values: \"IPv4\", \"IPv6\""),
                s("spec.ipFamilyPolicy: Unsupported value: \"Mixed\": supported values: \"PreferDualStack\", \"RequireDualStack\", \"SingleStack\""),
                s("spec.clusterIPs[0]: Invalid value: \"300.1.1.1\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"),
            ],
        ),
        (
            "same family twice",
            json!({"spec": {"clusterIP": "10.0.0.1", "clusterIPs": ["10.0.0.1", "10.0.0.2"], "ipFamilies": ["IPv6"]}}),
            vec![
                s("spec.clusterIPs: Invalid value: [\"10.0.0.1\",\"10.0.0.2\"]: may specify no more than one IP for each IP family"),
                s("spec.clusterIPs[0]: Invalid value: \"10.0.0.1\": expected an IPv6 value as indicated by `ipFamilies[0]`"),
            ],
        ),
        (
            "external IPs",
            json!({"spec": {"externalIPs": ["127.0.0.1", "nope"]}}),
            vec![
                s("spec.externalIPs[0]: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)"),
                s("spec.externalIPs[1]: Invalid value: \"nope\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"),
            ],
        ),
        (
            "LB-only fields",
            json!({"spec": {"loadBalancerSourceRanges": ["10.0.0.0/33"], "allocateLoadBalancerNodePorts": true, "loadBalancerClass": "x/y"}}),
            vec![
                s("spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"),
                s("spec.LoadBalancerSourceRanges[0]: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"),
                s("spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'"),
                s("spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'"),
            ],
        ),
        (
            "traffic policies",
            json!({"spec": {"externalTrafficPolicy": "Local", "healthCheckNodePort": 30001, "internalTrafficPolicy": "Node", "trafficDistribution": "Nearest"}}),
            vec![
                s("spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set for externally-accessible services"),
                s("spec.healthCheckNodePort: Invalid value: 30001: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"),
                s("spec.internalTrafficPolicy: Unsupported value: \"Node\": supported values: \"Cluster\", \"Local\""),
                s("spec.trafficDistribution: Unsupported value: \"Nearest\": supported values: \"PreferClose\""),
            ],
        ),
    ];
    check_table::<api::Service>(&base_service(), service, &cases);
}

#[test]
fn service_updates() {
    let old: api::Service = obj(merge(&base_service(), &json!({"spec": {"clusterIP": "10.0.0.10", "clusterIPs": ["10.0.0.10"], "ipFamilies": ["IPv4"]}})));
    // unchanged, and allocated values omitted by the client, are fine
    assert!(service_update(&old, &old).is_empty());
    let omitted: api::Service = obj(base_service());
    assert_eq!(strings(service_update(&omitted, &old)), Vec::<String>::new());
    let changed: api::Service = obj(merge(&base_service(), &json!({"spec": {"clusterIP": "10.0.0.11"}})));
    assert_eq!(
        strings(service_update(&changed, &old)),
        vec![s("spec.clusterIPs[0]: Invalid value: [\"10.0.0.11\"]: may not change once set")]
    );
    let fam: api::Service = obj(merge(&base_service(), &json!({"spec": {"clusterIP": "10.0.0.10", "ipFamilies": ["IPv6"]}})));
    let got = strings(service_update(&fam, &old));
    assert_eq!(got[0], "spec.ipFamilies[0]: Invalid value: [\"IPv6\"]: may not change once set");
    // switching to ExternalName drops the cluster IPs
    let ext: api::Service = obj(merge(&base_service(), &json!({"spec": {"type": "ExternalName", "externalName": "example.com", "clusterIP": "10.0.0.10", "ipFamilies": ["IPv4"]}})));
    assert_eq!(strings(service_update(&ext, &old)), Vec::<String>::new());
    let st: api::Service = obj(merge(&base_service(), &json!({"status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}})));
    assert_eq!(
        strings(service_status_update(&st, &st)),
        vec![s("status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is 'LoadBalancer'")]
    );
    let lb: api::Service = obj(merge(&base_service(), &json!({"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4", "ipMode": "Magic"}, {"hostname": "1.2.3.4"}]}}})));
    assert_eq!(
        strings(service_status_update(&lb, &lb)),
        vec![
            s("status.loadBalancer.ingress[0].ipMode: Unsupported value: \"Magic\": supported values: \"Proxy\", \"VIP\""),
            s("status.loadBalancer.ingress[1].hostname: Invalid value: \"1.2.3.4\": must be a DNS name, not an IP address"),
        ]
    );
}

#[test]
fn config_maps_and_secrets() {
    let cm: api::ConfigMap = obj(json!({"data": {"a.conf": "x", "bad key": "y", "dup": "1"}, "binaryData": {"dup": "AAE="}}));
    assert_eq!(
        strings(config_map(&cm)),
        vec![
            format!("data[bad key]: Invalid value: \"bad key\": {CONFIG_KEY_MSG}"),
            s("data[dup]: Invalid value: \"dup\": duplicate of key present in binaryData"),
        ]
    );
    let big: api::ConfigMap = obj(json!({"data": {"a": "x".repeat(MAX_SECRET_SIZE), "b": "y"}}));
    assert_eq!(strings(config_map(&big)), vec![s("Too long: may not be more than 1048576 bytes")]);
    let imm_old: api::ConfigMap = obj(json!({"data": {"a": "1"}, "immutable": true}));
    let imm_new: api::ConfigMap = obj(json!({"data": {"a": "2"}}));
    assert_eq!(
        strings(config_map_update(&imm_new, &imm_old)),
        vec![
            s("immutable: Forbidden: field is immutable when `immutable` is set"),
            s("data: Forbidden: field is immutable when `immutable` is set"),
        ]
    );
    assert!(config_map_update(&imm_old, &imm_old).is_empty());

    let sec = |v: Value| -> Vec<String> { strings(secret(&obj::<api::Secret>(v))) };
    assert_eq!(sec(json!({"type": "Opaque", "data": {"a": "eA=="}, "stringData": {"b": "y"}})), Vec::<String>::new());
    assert_eq!(sec(json!({"stringData": {"..": "y"}})), vec![s("data[..]: Invalid value: \"..\": must not be '..'")]);
    assert_eq!(
        sec(json!({"type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}})),
        vec![s("data[tls.key]: Required value")]
    );
    assert_eq!(
        sec(json!({"type": "kubernetes.io/basic-auth"})),
        vec![s("data[username]: Required value"), s("data[password]: Required value")]
    );
    assert_eq!(sec(json!({"type": "kubernetes.io/basic-auth", "stringData": {"password": ""}})), Vec::<String>::new());
    assert_eq!(sec(json!({"type": "kubernetes.io/ssh-auth", "data": {"ssh-privatekey": ""}})), vec![s("data[ssh-privatekey]: Required value")]);
    assert_eq!(sec(json!({"type": "kubernetes.io/dockerconfigjson"})), vec![s("data[.dockerconfigjson]: Required value")]);
    assert_eq!(
        sec(json!({"type": "kubernetes.io/dockerconfigjson", "stringData": {".dockerconfigjson": "x"}})),
        vec![s("data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": invalid character 'x' looking for beginning of value")]
    );
    assert_eq!(sec(json!({"type": "kubernetes.io/dockerconfigjson", "stringData": {".dockerconfigjson": "{\"auths\":{}}"}})), Vec::<String>::new());
    assert_eq!(
        sec(json!({"type": "kubernetes.io/service-account-token"})),
        vec![s("metadata.annotations[kubernetes.io/service-account.name]: Required value")]
    );
    let big: api::Secret = obj(json!({"stringData": {"a": "x".repeat(MAX_SECRET_SIZE + 1)}}));
    assert_eq!(strings(secret(&big)), vec![s("data: Too long: may not be more than 1048576 bytes")]);
    let old: api::Secret = obj(json!({"type": "Opaque", "data": {"a": "eA=="}, "immutable": true}));
    let new: api::Secret = obj(json!({"type": "kubernetes.io/tls", "data": {"a": "eQ==", "tls.crt": "", "tls.key": ""}, "immutable": true}));
    assert_eq!(
        strings(secret_update(&new, &old)),
        vec![
            s("type: Invalid value: \"kubernetes.io/tls\": field is immutable"),
            s("data: Forbidden: field is immutable when `immutable` is set"),
        ]
    );
}

fn base_rc() -> Value {
    json!({"spec": {"replicas": 2, "selector": {"app": "web"},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
}

#[test]
fn replication_controllers() {
    let ok: api::ReplicationController = obj(base_rc());
    assert!(replication_controller(&ok).is_empty());
    assert!(replication_controller_update(&ok, &ok).is_empty());
    // an empty selector defaults to the template labels
    assert!(replication_controller(&obj(merge(&base_rc(), &json!({"spec": {"selector": null}})))).is_empty());
    let cases = vec![
        (
            "selector mismatch",
            json!({"spec": {"selector": {"app": "db"}}}),
            vec![s("spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`")],
        ),
        (
            "replicas and minReadySeconds",
            json!({"spec": {"replicas": -1, "minReadySeconds": -5}}),
            vec![
                s("spec.minReadySeconds: Invalid value: -5: must be greater than or equal to 0"),
                s("spec.replicas: Invalid value: -1: must be greater than or equal to 0"),
            ],
        ),
        (
            "restart policy and deadline",
            json!({"spec": {"template": {"spec": {"restartPolicy": "OnFailure", "activeDeadlineSeconds": 10}}}}),
            vec![
                s("spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\": supported values: \"Always\""),
                s("spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicationController is not Supported"),
            ],
        ),
        ("no template", json!({"spec": {"template": null}}), vec![s("spec.template: Required value")]),
        (
            "no selector or labels",
            json!({"spec": {"selector": null, "template": {"metadata": {"labels": null}}}}),
            vec![s("spec.selector: Required value")],
        ),
    ];
    check_table::<api::ReplicationController>(&base_rc(), replication_controller, &cases);
    let st: api::ReplicationController = obj(merge(&base_rc(), &json!({"status": {"replicas": 1, "readyReplicas": 2, "availableReplicas": 3}})));
    assert_eq!(
        strings(replication_controller_status_update(&st, &st)),
        vec![
            s("status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas"),
            s("status.availableReplicas: Invalid value: 3: cannot be greater than status.replicas"),
            s("status.availableReplicas: Invalid value: 3: cannot be greater than readyReplicas"),
        ]
    );
}

#[test]
fn namespaces_nodes_endpoints_events() {
    let ns: api::Namespace = obj(json!({"spec": {"finalizers": ["kubernetes", "custom", "example.com/x"]}}));
    assert_eq!(
        strings(namespace(&ns)),
        vec![s("spec.finalizers: Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified")]
    );
    let st: api::Namespace = obj(json!({"status": {"phase": "Terminating"}}));
    assert_eq!(
        strings(namespace_status_update(&st, &st)),
        vec![s("status.Phase: Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` is empty")]
    );

    let node_v: api::Node = obj(json!({"spec": {"podCIDRs": ["10.244.0.0/24", "10.245.0.0/24"],
        "taints": [{"key": "k", "effect": "NoSchedule"}, {"key": "k", "effect": "NoSchedule", "value": "x"}, {"key": "k2", "effect": "Never"}]},
        "status": {"capacity": {"cpu": "-1", "pods": "1.5"}}}));
    assert_eq!(
        strings(node(&node_v)),
        vec![
            s("metadata.taints[1]: Duplicate value: {\"effect\":\"NoSchedule\",\"key\":\"k\",\"value\":\"x\"}: taints must be unique by key and effect pair"),
            s("metadata.taints[2].effect: Unsupported value: \"Never\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""),
            s("status.capacity.cpu: Invalid value: \"-1\": must be greater than or equal to 0"),
            s("status.capacity.pods: Invalid value: \"1500m\": must be an integer"),
            s("spec.podCIDRs: Invalid value: [\"10.244.0.0/24\",\"10.245.0.0/24\"]: may specify no more than one CIDR for each IP family"),
        ]
    );
    let old_node: api::Node = obj(json!({"spec": {"podCIDRs": ["10.244.0.0/24"], "providerID": "aws://a"}}));
    let new_node: api::Node = obj(json!({"spec": {"podCIDRs": ["10.244.1.0/24"], "providerID": "aws://b"}}));
    assert_eq!(
        strings(node_update(&new_node, &old_node)),
        vec![
            s("spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" to valid"),
            s("spec.providerID: Forbidden: node updates may not change providerID except from \"\" to valid"),
        ]
    );

    let ep: api::Endpoints = obj(json!({"subsets": [
        {"addresses": [{"ip": "10.0.0.1", "hostname": "web-0", "nodeName": "node-1"}], "ports": [{"name": "http", "port": 80}, {"port": 443, "protocol": "TLS"}]},
        {"notReadyAddresses": [{"ip": "169.254.1.1"}]},
        {}
    ]}));
    assert_eq!(
        strings(endpoints(&ep)),
        vec![
            s("subsets[0].ports[1].name: Required value"),
            s("subsets[0].ports[1].protocol: Unsupported value: \"TLS\": supported values: \"SCTP\", \"TCP\", \"UDP\""),
            s("subsets[1].notReadyAddresses[0].ip: Invalid value: \"169.254.1.1\": may not be in the link-local range (169.254.0.0/16, fe80::/10)"),
            s("subsets[2]: Required value: must specify `addresses` or `notReadyAddresses`"),
        ]
    );

    let ev: api::Event = obj(json!({"metadata": {"namespace": "default"}, "involvedObject": {"namespace": "other"}}));
    assert_eq!(
        strings(event(&ev)),
        vec![s("involvedObject.namespace: Invalid value: \"other\": does not match event.namespace")]
    );
    let ev2: api::Event = obj(json!({"metadata": {"namespace": "default"}, "involvedObject": {"namespace": "default"},
        "eventTime": "2024-01-01T00:00:00.000000Z", "reportingComponent": "kubelet"}));
    assert_eq!(
        strings(event(&ev2)),
        vec![s("reportingInstance: Required value"), s("action: Required value"), s("reason: Required value")]
    );
}

#[test]
fn limit_ranges_and_quotas() {
    let lr: api::LimitRange = obj(json!({"spec": {"limits": [
        {"type": "Container", "min": {"cpu": "500m"}, "max": {"cpu": "100m"}, "default": {"cpu": "200m"}, "defaultRequest": {"memory": "1Gi"}, "maxLimitRequestRatio": {"memory": "500m"}},
        {"type": "Pod", "default": {"cpu": "1"}},
        {"type": "PersistentVolumeClaim"},
        {"type": "Node"}
    ]}}));
    assert_eq!(
        strings(limit_range(&lr)),
        vec![
            s("spec.limits[0].min[cpu]: Invalid value: \"500m\": min value 500m is greater than max value 100m"),
            s("spec.limits[0].default[cpu]: Invalid value: \"500m\": min value 500m is greater than default value 200m"),
            s("spec.limits[0].default[cpu]: Invalid value: \"100m\": default value 200m is greater than max value 100m"),
            s("spec.limits[0].maxLimitRequestRatio[memory]: Invalid value: \"500m\": ratio 500m is less than 1"),
            s("spec.limits[1].default: Forbidden: may not be specified when `type` is 'Pod'"),
            s("spec.limits[2].limits: Required value: either minimum or maximum storage value is required, but neither was provided"),
            s("spec.limits[3].type: Invalid value: \"Node\": must be a standard limit type or fully qualified"),
        ]
    );
    let ratio: api::LimitRange = obj(json!({"spec": {"limits": [{"type": "Container", "min": {"cpu": "100m"}, "max": {"cpu": "200m"}, "maxLimitRequestRatio": {"cpu": "3"}}]}}));
    assert_eq!(
        strings(limit_range(&ratio)),
        vec![s("spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: \"3\": ratio 3 is greater than max/min = 2.000000")]
    );

    let rq: api::ResourceQuota = obj(json!({"spec": {"hard": {"pods": "10", "requests.cpu": "4", "count/deployments.apps": "5", "widgets": "1"},
        "scopes": ["BestEffort", "NotBestEffort"]}}));
    assert_eq!(
        strings(resource_quota(&rq)),
        vec![
            s("spec.hard[widgets]: Invalid value: \"widgets\": must be a standard resource type or fully qualified"),
            s("spec.hard[widgets]: Invalid value: \"widgets\": must be a standard resource for quota"),
            s("spec.scopes: Invalid value: [\"BestEffort\",\"NotBestEffort\"]: unsupported scope applied to resource"),
            s("spec.scopes: Invalid value: [\"BestEffort\",\"NotBestEffort\"]: conflicting scopes"),
        ]
    );
    let sel: api::ResourceQuota = obj(json!({"spec": {"hard": {"pods": "1"}, "scopeSelector": {"matchExpressions": [
        {"scopeName": "PriorityClass", "operator": "In"}, {"scopeName": "Terminating", "operator": "In", "values": ["x"]}]}}}));
    assert_eq!(
        strings(resource_quota(&sel)),
        vec![
            s("spec.scopeSelector.matchExpressions.values: Required value: must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"),
            s("spec.scopeSelector.matchExpressions.operator: Invalid value: \"In\": must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity"),
        ]
    );
    let old: api::ResourceQuota = obj(json!({"spec": {"hard": {"pods": "1"}, "scopes": ["Terminating"]}}));
    let new: api::ResourceQuota = obj(json!({"spec": {"hard": {"pods": "1"}, "scopes": ["NotTerminating"]}}));
    assert_eq!(strings(resource_quota_update(&new, &old)), vec![s("spec.scopes: Invalid value: [\"NotTerminating\"]: field is immutable")]);
}

#[test]
fn persistent_volumes_and_claims() {
    let pvc_base = json!({"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "storageClassName": "fast"}});
    assert!(persistent_volume_claim(&obj(pvc_base.clone())).is_empty());
    let cases = vec![
        (
            "modes and size",
            json!({"spec": {"accessModes": ["ReadWriteOncePod", "ReadOnlyMany", "WriteAll"], "resources": {"requests": {"storage": "0"}}}}),
            vec![
                s("spec.accessModes: Unsupported value: \"WriteAll\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\""),
                s("spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes"),
                s("spec.resources[storage]: Invalid value: \"0\": must be greater than zero"),
            ],
        ),
        (
            "data source",
            json!({"spec": {"dataSource": {"kind": "Snapshot", "name": "s"}, "volumeMode": "Raw"}}),
            vec![
                s("spec.volumeMode: Unsupported value: \"Raw\": supported values: \"Block\", \"Filesystem\""),
                s("spec.dataSource: Invalid value: \"Snapshot\": must be 'PersistentVolumeClaim' when referencing the default apiGroup"),
            ],
        ),
    ];
    check_table::<api::PersistentVolumeClaim>(&pvc_base, persistent_volume_claim, &cases);

    let old: api::PersistentVolumeClaim = obj(merge(&pvc_base, &json!({"status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}})));
    let grow: api::PersistentVolumeClaim = obj(merge(&pvc_base, &json!({"spec": {"resources": {"requests": {"storage": "2Gi"}}, "volumeName": "pv-1"}, "status": {"phase": "Bound"}})));
    assert_eq!(strings(persistent_volume_claim_update(&grow, &old)), Vec::<String>::new());
    let shrink: api::PersistentVolumeClaim = obj(merge(&pvc_base, &json!({"spec": {"resources": {"requests": {"storage": "500Mi"}}}, "status": {"phase": "Bound"}})));
    assert_eq!(
        strings(persistent_volume_claim_update(&shrink, &old)),
        vec![s("spec.resources.requests.storage: Forbidden: field can not be less than status.capacity")]
    );
    let class: api::PersistentVolumeClaim = obj(merge(&pvc_base, &json!({"spec": {"storageClassName": "slow"}, "status": {"phase": "Bound"}})));
    let got = strings(persistent_volume_claim_update(&class, &old));
    assert_eq!(got.len(), 1);
    assert!(got[0].starts_with("spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n"), "{got:?}");

    let pv_base = json!({"metadata": {"name": "pv-1"}, "spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "10Gi"},
        "persistentVolumeReclaimPolicy": "Retain", "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-1",
        "nodePublishSecretRef": {"name": "s", "namespace": "ns"}}}});
    assert!(persistent_volume(&obj(pv_base.clone())).is_empty());
    let cases = vec![
        (
            "capacity and policy",
            json!({"spec": {"capacity": {"storage": "0", "cpu": "1"}, "persistentVolumeReclaimPolicy": "Keep", "accessModes": []}}),
            vec![
                s("spec.accessModes: Required value"),
                s("spec.capacity: Unsupported value: {\"cpu\":\"1\",\"storage\":\"0\"}: supported values: \"storage\""),
                s("spec.capacity[storage]: Invalid value: \"0\": must be greater than zero"),
                s("spec.persistentVolumeReclaimPolicy: Unsupported value: \"Keep\": supported values: \"Delete\", \"Recycle\", \"Retain\""),
            ],
        ),
        (
            "sources",
            json!({"spec": {"csi": null, "local": {"path": "/mnt"}, "hostPath": {"path": "/"}, "persistentVolumeReclaimPolicy": "Recycle"}}),
            vec![
                s("spec.local: Forbidden: may not specify more than 1 volume type"),
                s("spec.persistentVolumeReclaimPolicy: Forbidden: may not be 'recycle' for a hostPath mount of '/'"),
            ],
        ),
        ("local needs affinity", json!({"spec": {"csi": null, "local": {"path": "/mnt"}}}), vec![s("spec.nodeAffinity: Required value: Local volume requires node affinity")]),
        (
            "csi secret ref",
            json!({"spec": {"csi": {"volumeHandle": "", "nodePublishSecretRef": {"name": "", "namespace": "Bad"}}}}),
            vec![
                s("spec.csi.volumeHandle: Required value"),
                s("spec.csi.nodePublishSecretRef.name: Required value"),
                format!("spec.csi.nodePublishSecretRef.namespace: Invalid value: \"Bad\": {LABEL_MSG}"),
            ],
        ),
    ];
    check_table::<api::PersistentVolume>(&pv_base, persistent_volume, &cases);
    let old_pv: api::PersistentVolume = obj(pv_base.clone());
    let new_pv: api::PersistentVolume = obj(merge(&pv_base, &json!({"spec": {"csi": {"volumeHandle": "vol-2"}, "volumeMode": "Block"}})));
    let got = strings(persistent_volume_update(&new_pv, &old_pv));
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0].starts_with("spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation\n"), "{got:?}");
    assert_eq!(got[1], "volumeMode: Invalid value: \"Block\": field is immutable");
}
