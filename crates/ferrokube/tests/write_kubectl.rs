//! kubectl 1.32 write paths: client-side and server-side apply, dry run, diff, every patch type,
//! labels and annotations, edit, scale, set image, custom resources, finalizers.

mod support;

use std::time::Duration;

use support::{Server, eventually};

const DEPLOY: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
    team: a
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        env:
        - name: MODE
          value: blue
        - name: DEBUG
          value: "0"
"#;

#[test]
fn client_side_apply_three_times_with_changes() {
    let s = Server::start();
    let f = s.file("d1.yaml", DEPLOY);
    assert_eq!(s.ok(&["apply", "-f", &f]).trim(), "deployment.apps/web created");
    // changed: image and replicas; added: a label and a container; removed: an env var
    let v2 = DEPLOY
        .replace("nginx:1.27", "nginx:1.28")
        .replace("replicas: 2", "replicas: 3")
        .replace("    team: a\n", "    team: a\n    tier: front\n")
        .replace("        - name: DEBUG\n          value: \"0\"\n", "")
        .replace("          value: blue\n", "          value: blue\n      - name: sidecar\n        image: busybox:1.36\n");
    let f2 = s.file("d2.yaml", &v2);
    assert_eq!(s.ok(&["apply", "-f", &f2]).trim(), "deployment.apps/web configured");
    let got = |p: &str| s.ok(&["get", "deploy", "web", "-o", &format!("jsonpath={p}")]);
    assert_eq!(got("{.spec.replicas}"), "3");
    assert_eq!(got("{.spec.template.spec.containers[*].name}"), "nginx sidecar");
    assert_eq!(got("{.spec.template.spec.containers[0].image}"), "nginx:1.28");
    assert_eq!(got("{.spec.template.spec.containers[0].env[*].name}"), "MODE");
    assert_eq!(got("{.metadata.labels.tier}"), "front");
    // a field set by someone else survives apply (three-way merge)
    s.ok(&["annotate", "deploy", "web", "owner=ops"]);
    // third apply: the sidecar and the label are removed again
    let v3 = v2.replace("    tier: front\n", "").replace("      - name: sidecar\n        image: busybox:1.36\n", "");
    let f3 = s.file("d3.yaml", &v3);
    assert_eq!(s.ok(&["apply", "-f", &f3]).trim(), "deployment.apps/web configured");
    assert_eq!(got("{.spec.template.spec.containers[*].name}"), "nginx");
    assert_eq!(got("{.metadata.labels}"), r#"{"app":"web","team":"a"}"#);
    assert_eq!(got("{.metadata.annotations.owner}"), "ops");
    let last = got("{.metadata.annotations.kubectl\\.kubernetes\\.io/last-applied-configuration}");
    let last: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(last["spec"]["template"]["spec"]["containers"].as_array().unwrap().len(), 1);
    // an unchanged apply writes nothing
    let rv = got("{.metadata.resourceVersion}");
    assert_eq!(s.ok(&["apply", "-f", &f3]).trim(), "deployment.apps/web unchanged");
    assert_eq!(got("{.metadata.resourceVersion}"), rv);
}

#[test]
fn server_side_apply_conflicts_and_force() {
    let s = Server::start();
    let f = s.file("d.yaml", DEPLOY);
    assert_eq!(s.ok(&["apply", "--server-side", "-f", &f]).trim(), "deployment.apps/web serverside-applied");
    let mf = s.ok(&["get", "deploy", "web", "-o", "json", "--show-managed-fields"]);
    let mf: serde_json::Value = serde_json::from_str(&mf).unwrap();
    let entry = &mf["metadata"]["managedFields"][0];
    assert_eq!(entry["manager"], "kubectl");
    assert_eq!(entry["operation"], "Apply");
    assert!(entry["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"nginx\"}"]["f:image"].is_object(), "{entry}");
    // another manager takes replicas
    s.ok(&["scale", "deploy", "web", "--replicas=5"]);
    let err = s.fails(&["apply", "--server-side", "-f", &f]);
    assert!(err.contains("Apply failed with 1 conflict: conflict with"), "{err}");
    assert!(err.contains(".spec.replicas"), "{err}");
    assert_eq!(s.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]), "5");
    assert_eq!(s.ok(&["apply", "--server-side", "--force-conflicts", "-f", &f]).trim(), "deployment.apps/web serverside-applied");
    assert_eq!(s.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]), "2");
    // a field the applier stops applying is removed
    let fewer = DEPLOY.replace("    team: a\n", "");
    let f2 = s.file("d2.yaml", &fewer);
    s.ok(&["apply", "--server-side", "-f", &f2]);
    assert_eq!(s.ok(&["get", "deploy", "web", "-o", "jsonpath={.metadata.labels}"]), r#"{"app":"web"}"#);
}

#[test]
fn dry_run_and_diff() {
    let s = Server::start();
    let f = s.file("d.yaml", DEPLOY);
    assert_eq!(s.ok(&["apply", "-f", &f, "--dry-run=server"]).trim(), "deployment.apps/web created (server dry run)");
    let err = s.fails(&["get", "deploy", "web"]);
    assert!(err.contains("not found"), "{err}");
    s.ok(&["apply", "-f", &f]);
    let changed = s.file("d2.yaml", &DEPLOY.replace("replicas: 2", "replicas: 4"));
    let out = s.kubectl(&["diff", "-f", &changed]);
    assert_eq!(out.status.code(), Some(1), "kubectl diff exits 1 when there are differences");
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(diff.contains("-  replicas: 2") && diff.contains("+  replicas: 4"), "{diff}");
    assert_eq!(s.ok(&["apply", "-f", &changed, "--dry-run=server"]).trim(), "deployment.apps/web configured (server dry run)");
    assert_eq!(s.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]), "2");
    let out = s.kubectl(&["diff", "-f", &f]);
    assert_eq!(out.status.code(), Some(0), "no differences: {}", String::from_utf8_lossy(&out.stdout));
    // dry-run deletes delete nothing
    s.ok(&["delete", "deploy", "web", "--dry-run=server"]);
    s.ok(&["get", "deploy", "web"]);
}

#[test]
fn patches_labels_annotations_scale_set_image() {
    let s = Server::start();
    let f = s.file("d.yaml", DEPLOY);
    s.ok(&["create", "-f", &f]);
    let got = |p: &str| s.ok(&["get", "deploy", "web", "-o", &format!("jsonpath={p}")]);
    s.ok(&["patch", "deploy", "web", "--type", "strategic", "-p", r#"{"spec":{"template":{"spec":{"containers":[{"name":"nginx","env":[{"name":"MODE","value":"green"}]}]}}}}"#]);
    assert_eq!(got("{.spec.template.spec.containers[0].env[?(@.name==\"MODE\")].value}"), "green");
    assert_eq!(got("{.spec.template.spec.containers[0].env[*].name}"), "MODE DEBUG");
    s.ok(&["patch", "deploy", "web", "--type", "merge", "-p", r#"{"spec":{"minReadySeconds":5}}"#]);
    assert_eq!(got("{.spec.minReadySeconds}"), "5");
    s.ok(&["patch", "deploy", "web", "--type", "json", "-p", r#"[{"op":"test","path":"/spec/replicas","value":2},{"op":"replace","path":"/spec/replicas","value":3}]"#]);
    assert_eq!(got("{.spec.replicas}"), "3");
    let err = s.fails(&["patch", "deploy", "web", "--type", "json", "-p", r#"[{"op":"test","path":"/spec/replicas","value":99}]"#]);
    assert!(err.contains("test"), "{err}");
    // a patch that changes nothing
    let out = s.ok(&["patch", "deploy", "web", "--type", "merge", "-p", r#"{"spec":{"replicas":3}}"#]);
    assert_eq!(out.trim(), "deployment.apps/web patched (no change)");

    assert_eq!(s.ok(&["label", "deploy", "web", "stage=dev"]).trim(), "deployment.apps/web labeled");
    let err = s.fails(&["label", "deploy", "web", "stage=prod"]);
    assert!(err.contains("already has a value (dev)"), "{err}");
    s.ok(&["label", "deploy", "web", "stage=prod", "--overwrite"]);
    assert_eq!(got("{.metadata.labels.stage}"), "prod");
    assert_eq!(s.ok(&["label", "deploy", "web", "stage-"]).trim(), "deployment.apps/web unlabeled");
    assert_eq!(got("{.metadata.labels.stage}"), "");
    s.ok(&["annotate", "deploy", "web", "note=one"]);
    s.ok(&["annotate", "deploy", "web", "note=two", "--overwrite"]);
    assert_eq!(got("{.metadata.annotations.note}"), "two");
    s.ok(&["annotate", "deploy", "web", "note-"]);
    assert_eq!(got("{.metadata.annotations.note}"), "");

    assert_eq!(s.ok(&["scale", "deploy", "web", "--replicas=7"]).trim(), "deployment.apps/web scaled");
    assert_eq!(got("{.spec.replicas}"), "7");
    let scale = s.ok(&["get", "--raw", "/apis/apps/v1/namespaces/default/deployments/web/scale"]);
    let scale: serde_json::Value = serde_json::from_str(&scale).unwrap();
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["spec"]["replicas"], 7);
    assert_eq!(scale["status"]["selector"], "app=web");
    assert_eq!(s.ok(&["set", "image", "deploy/web", "nginx=nginx:1.29"]).trim(), "deployment.apps/web image updated");
    assert_eq!(got("{.spec.template.spec.containers[0].image}"), "nginx:1.29");
    // deployments move generation with spec and annotation changes (not labels): create, three
    // spec patches, three annotation changes, scale, set image
    assert_eq!(got("{.metadata.generation}"), "9");
}

#[test]
fn edit_with_an_editor_script() {
    let s = Server::start();
    s.ok(&["create", "configmap", "edited", "--from-literal=color=red"]);
    let editor = s.file("editor.sh", "#!/bin/sh\nsed -i 's/color: red/color: green/' \"$1\"\n");
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let home = s.path().join("home");
    let out = std::process::Command::new(support::KUBECTL)
        .env("HOME", &home)
        .env("KUBE_EDITOR", &editor)
        .arg("--kubeconfig")
        .arg(&s.kubeconfig)
        .args(["edit", "configmap", "edited"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "configmap/edited edited");
    assert_eq!(s.ok(&["get", "cm", "edited", "-o", "jsonpath={.data.color}"]), "green");
}

const CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wd]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
    additionalPrinterColumns:
    - name: Size
      type: string
      jsonPath: .spec.size
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
    schema:
      openAPIV3Schema:
        type: object
        description: A widget of the example group.
        properties:
          spec:
            type: object
            description: What the widget should be.
            properties:
              size:
                type: string
                description: How big.
                enum: [small, large]
              replicas:
                type: integer
                minimum: 0
          status:
            type: object
            properties:
              replicas:
                type: integer
"#;

#[test]
fn custom_resources_end_to_end() {
    let s = Server::start();
    let crd = s.file("crd.yaml", CRD);
    assert_eq!(s.ok(&["create", "-f", &crd]).trim(), "customresourcedefinition.apiextensions.k8s.io/widgets.example.com created");
    s.ok(&["wait", "--for", "condition=established", "crd/widgets.example.com", "--timeout=20s"]);
    let w = s.file("w.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: small\n  replicas: 2\n");
    assert_eq!(s.ok(&["create", "-f", &w]).trim(), "widget.example.com/w1 created");
    let table = s.ok(&["get", "widgets"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, vec!["NAME", "SIZE", "REPLICAS", "AGE"], "{table}");
    let row: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(&row[..3], &["w1", "small", "2"], "{table}");
    assert!(s.ok(&["get", "wd", "-o", "name"]).contains("widget.example.com/w1"));
    let d = s.ok(&["describe", "widget", "w1"]);
    assert!(d.contains("Name:") && d.contains("w1") && d.contains("Size:") && d.contains("small"), "{d}");
    let e = s.ok(&["explain", "widget.spec"]);
    assert!(e.contains("What the widget should be.") && e.contains("size") && e.contains("How big."), "{e}");
    s.ok(&["patch", "widget", "w1", "--type", "merge", "-p", r#"{"spec":{"size":"large"}}"#]);
    assert_eq!(s.ok(&["get", "widget", "w1", "-o", "jsonpath={.spec.size}"]), "large");
    // strategic merge patch does not apply to custom resources
    let err = s.fails(&["patch", "widget", "w1", "--type", "strategic", "-p", r#"{"spec":{"size":"small"}}"#]);
    assert!(err.contains("UnsupportedMediaType") || err.contains("unknown format"), "{err}");
    // schema validation
    let bad = s.file("bad.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w2\nspec:\n  size: huge\n");
    let err = s.fails(&["create", "-f", &bad]);
    assert!(err.contains("spec.size: Unsupported value: \"huge\""), "{err}");
    // scale subresource
    s.ok(&["scale", "widget", "w1", "--replicas=5"]);
    assert_eq!(s.ok(&["get", "widget", "w1", "-o", "jsonpath={.spec.replicas}"]), "5");
    // deleting the CRD deletes its objects
    s.ok(&["delete", "-f", &crd, "--timeout=30s"]);
    eventually(Duration::from_secs(20), "the widgets API to disappear", || s.kubectl(&["get", "widgets"]).status.code() != Some(0));
    let err = s.fails(&["get", "crd", "widgets.example.com"]);
    assert!(err.contains("not found"), "{err}");
}

#[test]
fn finalizers_hold_deletion() {
    let s = Server::start();
    let cm = s.file("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  finalizers:\n  - example.com/hold\ndata:\n  a: b\n");
    s.ok(&["create", "-f", &cm]);
    s.ok(&["delete", "configmap", "held", "--wait=false"]);
    let ts = s.ok(&["get", "configmap", "held", "-o", "jsonpath={.metadata.deletionTimestamp}"]);
    assert!(!ts.is_empty(), "marked for deletion");
    std::thread::sleep(Duration::from_millis(300));
    s.ok(&["get", "configmap", "held"]);
    s.ok(&["patch", "configmap", "held", "--type", "json", "-p", r#"[{"op":"remove","path":"/metadata/finalizers"}]"#]);
    eventually(Duration::from_secs(10), "the configmap to go", || s.kubectl(&["get", "configmap", "held"]).status.code() == Some(1));
}

#[test]
fn custom_resource_schema_rules() {
    let s = Server::start();
    let crd = CRD
        .replace("                enum: [small, large]\n", "                enum: [small, large]\n                default: small\n")
        .replace(
            "            description: What the widget should be.\n",
            "            description: What the widget should be.\n            x-kubernetes-validations:\n            - rule: self.replicas <= 10\n              message: at most ten replicas\n",
        )
        .replace("    subresources:\n", "    selectableFields:\n    - jsonPath: .spec.size\n    subresources:\n");
    let f = s.file("crd.yaml", &crd);
    s.ok(&["create", "-f", &f]);
    s.ok(&["wait", "--for", "condition=established", "crd/widgets.example.com", "--timeout=20s"]);
    // defaulting and pruning (kubectl's strict validation reports the unknown field)
    let w = s.file("w.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  replicas: 1\n");
    s.ok(&["create", "-f", &w]);
    assert_eq!(s.ok(&["get", "widget", "w1", "-o", "jsonpath={.spec.size}"]), "small");
    let unknown = s.file("u.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w2\nspec:\n  replicas: 1\n  colour: blue\n");
    let err = s.fails(&["create", "-f", &unknown]);
    assert!(err.contains("unknown field \"spec.colour\""), "{err}");
    s.ok(&["create", "-f", &unknown, "--validate=false"]);
    assert_eq!(s.ok(&["get", "widget", "w2", "-o", "jsonpath={.spec}"]), r#"{"replicas":1,"size":"small"}"#);
    // CEL rule
    let many = s.file("m.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w3\nspec:\n  replicas: 11\n");
    let err = s.fails(&["create", "-f", &many]);
    assert!(err.contains("at most ten replicas"), "{err}");
    // schema keywords
    let neg = s.file("n.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w4\nspec:\n  replicas: -1\n");
    let err = s.fails(&["create", "-f", &neg]);
    assert!(err.contains("spec.replicas") && err.contains("greater than or equal to 0"), "{err}");
    // selectable fields
    let large = s.file("l.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: big\nspec:\n  size: large\n  replicas: 1\n");
    s.ok(&["create", "-f", &large]);
    assert_eq!(s.ok(&["get", "widgets", "--field-selector", "spec.size=large", "-o", "name"]).trim(), "widget.example.com/big");
    // a CRD whose schema is not structural is refused
    let bad = CRD.replace("              replicas:\n                type: integer\n", "              replicas:\n                minimum: 0\n").replace("widgets", "gizmos").replace("Widget", "Gizmo").replace("widget", "gizmo").replace("[wd]", "[gz]");
    let f = s.file("bad.yaml", &bad);
    let err = s.fails(&["create", "-f", &f]);
    assert!(err.contains("is invalid") && err.contains("type: Required value"), "{err}");
}

#[test]
fn pod_binding_eviction_and_graceful_deletion() {
    let s = Server::start();
    let pod = |name: &str, extra: &str| {
        s.file(&format!("{name}.yaml"), &format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels:\n    app: guarded\nspec:\n{extra}  containers:\n  - name: c\n    image: busybox:1.36\n"))
    };
    // a pod nobody scheduled goes at once
    s.ok(&["create", "-f", &pod("loose", "")]);
    assert_eq!(s.ok(&["get", "pod", "loose", "-o", "jsonpath={.status.phase} {.status.qosClass}"]), "Pending BestEffort");
    s.ok(&["delete", "pod", "loose", "--wait=false"]);
    assert!(s.fails(&["get", "pod", "loose"]).contains("not found"));
    // binding assigns a node, once
    s.ok(&["create", "-f", &pod("bound", "")]);
    let binding = s.file("binding.json", r#"{"apiVersion":"v1","kind":"Binding","metadata":{"name":"bound"},"target":{"apiVersion":"v1","kind":"Node","name":"node-a"}}"#);
    s.ok(&["create", "--raw", "/api/v1/namespaces/default/pods/bound/binding", "-f", &binding]);
    assert_eq!(s.ok(&["get", "pod", "bound", "-o", "jsonpath={.spec.nodeName}"]), "node-a");
    // as upstream's BindingREST (a direct storage update), the binding adds no managedFields entry
    let managed = s.ok(&["get", "pod", "bound", "--show-managed-fields", "-o", "jsonpath={range .metadata.managedFields[*]}{.manager}/{.subresource};{end}"]);
    assert!(!managed.is_empty() && !managed.contains("binding"), "{managed}");
    let err = s.fails(&["create", "--raw", "/api/v1/namespaces/default/pods/bound/binding", "-f", &binding]);
    assert!(err.contains("already assigned to node"), "{err}");
    // a pod on a node waits for its kubelet: the grace period is recorded, the pod stays
    s.ok(&["delete", "pod", "bound", "--wait=false"]);
    assert_eq!(s.ok(&["get", "pod", "bound", "-o", "jsonpath={.metadata.deletionGracePeriodSeconds}"]), "30");
    assert_eq!(s.ok(&["get", "pod", "bound"]).lines().nth(1).map(|l| l.contains("Terminating")), Some(true));
    s.ok(&["delete", "pod", "bound", "--grace-period=0", "--force"]);
    assert!(s.fails(&["get", "pod", "bound"]).contains("not found"));
    // eviction honours a disruption budget that allows nothing (its status computed by the
    // disruption controller from the pod's readiness, reported here as a kubelet would)
    s.ok(&["create", "-f", &pod("guarded", "  nodeName: node-a\n")]);
    let ready = s.file("ready.json", r#"{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}"#);
    s.ok(&["patch", "pod", "guarded", "--subresource=status", "--type=merge", "--patch-file", &ready]);
    s.ok(&["create", "pdb", "guard", "--selector=app=guarded", "--min-available=1"]);
    let budget = || s.ok(&["get", "pdb", "guard", "-o", "jsonpath={.status.currentHealthy} {.status.desiredHealthy} {.status.disruptionsAllowed}"]);
    eventually(Duration::from_secs(20), "budget computed", || budget() == "1 1 0");
    let eviction = s.file("ev.json", r#"{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"guarded"}}"#);
    let err = s.fails(&["create", "--raw", "/api/v1/namespaces/default/pods/guarded/eviction", "-f", &eviction]);
    assert!(err.contains("Cannot evict pod as it would violate the pod's disruption budget"), "{err}");
    s.ok(&["patch", "pdb", "guard", "--type=merge", "-p", r#"{"spec":{"minAvailable":0}}"#]);
    eventually(Duration::from_secs(20), "budget allows one", || budget() == "1 0 1");
    s.ok(&["create", "--raw", "/api/v1/namespaces/default/pods/guarded/eviction", "-f", &eviction]);
    assert!(!s.ok(&["get", "pod", "guarded", "-o", "jsonpath={.metadata.deletionTimestamp}"]).is_empty());
    assert_eq!(s.ok(&["get", "pdb", "guard", "-o", "jsonpath={.status.disruptionsAllowed}"]), "0");
}

#[test]
fn propagation_policies_are_recorded_for_the_garbage_collector() {
    let s = Server::start();
    for (name, policy, finalizer) in [("fg", "foreground", "foregroundDeletion"), ("or", "orphan", "orphan")] {
        let f = s.file(&format!("{name}.yaml"), &DEPLOY.replace("name: web\n", &format!("name: {name}\n")));
        s.ok(&["create", "-f", &f]);
        // the garbage collector removes the finalizer soon after: watch for it
        let (mut watch, lines) = s.kubectl_lines(&["get", "deploy", name, "-w", "-o", "jsonpath={.metadata.finalizers}{\"\\n\"}"]);
        lines.recv_timeout(std::time::Duration::from_secs(20)).expect("the watch starts");
        s.ok(&["delete", "deploy", name, &format!("--cascade={policy}"), "--wait=false"]);
        let want = format!("[\"{finalizer}\"]");
        let recorded = std::iter::from_fn(|| lines.recv_timeout(std::time::Duration::from_secs(20)).ok()).any(|l| l == want);
        let _ = watch.kill();
        assert!(recorded, "{name}: deletion recorded with {want}");
        eventually(std::time::Duration::from_secs(30), "the collector finishing the deletion", || {
            !s.kubectl(&["get", "deploy", name]).status.success()
        });
    }
}

#[test]
fn custom_resource_versions_share_storage() {
    let s = Server::start();
    let crd = CRD.replace(
        "  versions:\n  - name: v1\n    served: true\n    storage: true\n",
        "  versions:\n  - name: v1beta1\n    served: true\n    storage: false\n    schema:\n      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n  - name: v1\n    served: true\n    storage: true\n",
    );
    let f = s.file("crd.yaml", &crd);
    s.ok(&["create", "-f", &f]);
    s.ok(&["wait", "--for", "condition=established", "crd/widgets.example.com", "--timeout=20s"]);
    let old = s.file("old.yaml", "apiVersion: example.com/v1beta1\nkind: Widget\nmetadata:\n  name: legacy\nspec:\n  size: large\n  replicas: 1\n");
    s.ok(&["create", "-f", &old]);
    let v1 = s.ok(&["get", "--raw", "/apis/example.com/v1/namespaces/default/widgets/legacy"]);
    let v1: serde_json::Value = serde_json::from_str(&v1).unwrap();
    assert_eq!(v1["apiVersion"], "example.com/v1");
    assert_eq!(v1["spec"]["size"], "large");
    let beta = s.ok(&["get", "--raw", "/apis/example.com/v1beta1/namespaces/default/widgets/legacy"]);
    let beta: serde_json::Value = serde_json::from_str(&beta).unwrap();
    assert_eq!(beta["apiVersion"], "example.com/v1beta1");
    assert_eq!(beta["metadata"]["uid"], v1["metadata"]["uid"]);
    let versions = s.ok(&["api-versions"]);
    assert!(versions.contains("example.com/v1\n") && versions.contains("example.com/v1beta1"), "{versions}");
    let crd_status = s.ok(&["get", "crd", "widgets.example.com", "-o", "jsonpath={.status.storedVersions}"]);
    assert_eq!(crd_status, r#"["v1"]"#);
}
