//! The HTTP surface beyond what kubectl exercises: authentication of anonymous requests,
//! content negotiation (406/415/Table/PartialObjectMetadata/YAML), size limits, aggregated
//! discovery, OpenAPI, optimistic concurrency, watch semantics (bookmarks, 410), deletion options.

mod support;

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use support::Server;

struct Reply {
    status: StatusCode,
    headers: http::HeaderMap,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn ct(&self) -> String {
        self.headers.get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
    }
}

async fn call(c: &kube::Client, method: Method, path: &str, headers: &[(&str, &str)], body: impl Into<Vec<u8>>) -> Reply {
    let mut b = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let req = b.body(kube::client::Body::from(body.into())).unwrap();
    let resp = c.send(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect_bytes().await.unwrap();
    Reply { status, headers, body }
}

async fn get(c: &kube::Client, path: &str) -> Reply {
    call(c, Method::GET, path, &[], Vec::new()).await
}

async fn post_json(c: &kube::Client, path: &str, v: &Value) -> Reply {
    call(c, Method::POST, path, &[("content-type", "application/json")], serde_json::to_vec(v).unwrap()).await
}

async fn anonymous(s: &Server) -> kube::Client {
    let ca = std::fs::read_to_string(s.data_dir().join("tls/ca.crt")).unwrap();
    let mut cfg = kube::Config::new(s.url.parse().unwrap());
    let der = {
        use base64::Engine;
        let b64: String = ca.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD.decode(b64).unwrap()
    };
    cfg.root_cert = Some(vec![der]);
    kube::Client::try_from(cfg).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_requests_reach_only_health_and_version() {
    let s = Server::start();
    let anon = anonymous(&s).await;
    for p in ["/healthz", "/livez", "/readyz", "/version"] {
        let r = get(&anon, p).await;
        assert_eq!(r.status, 200, "{p}");
    }
    assert_eq!(get(&anon, "/version").await.json()["minor"], "32");
    for p in ["/api", "/apis", "/api/v1", "/api/v1/namespaces", "/api/v1/namespaces/default/pods", "/apis/apps/v1/deployments", "/openapi/v3", "/openapi/v2"] {
        let r = get(&anon, p).await;
        assert_eq!(r.status, 401, "{p}");
        assert_eq!(r.json()["reason"], "Unauthorized");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negotiation_and_limits() {
    let s = Server::start();
    let c = s.raw_client().await;
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "n1"}, "data": {"a": "1"}});
    assert_eq!(post_json(&c, "/api/v1/namespaces/default/configmaps", &cm).await.status, 201);
    let path = "/api/v1/namespaces/default/configmaps/n1";
    // protobuf with a JSON alternative gets JSON; protobuf only gets 406
    let r = call(&c, Method::GET, path, &[("accept", "application/vnd.kubernetes.protobuf,application/json")], Vec::new()).await;
    assert_eq!(r.status, 200);
    assert!(r.ct().starts_with("application/json"));
    let r = call(&c, Method::GET, path, &[("accept", "application/vnd.kubernetes.protobuf")], Vec::new()).await;
    assert_eq!(r.status, 406);
    assert_eq!(r.json()["reason"], "NotAcceptable");
    // YAML out
    let r = call(&c, Method::GET, path, &[("accept", "application/yaml")], Vec::new()).await;
    assert_eq!(r.status, 200);
    assert!(String::from_utf8_lossy(&r.body).contains("kind: ConfigMap"));
    // YAML in
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fromyaml\ndata:\n  on: yes\n";
    let r = call(&c, Method::POST, "/api/v1/namespaces/default/configmaps", &[("content-type", "application/yaml")], yaml).await;
    assert_eq!(r.status, 400, "a YAML boolean in a string map is a type error: {}", String::from_utf8_lossy(&r.body));
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fromyaml\ndata:\n  on: \"yes\"\n";
    let r = call(&c, Method::POST, "/api/v1/namespaces/default/configmaps", &[("content-type", "application/yaml")], yaml).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    // malformed protobuf is a 400; unknown body types are a 415
    let r = call(&c, Method::POST, "/api/v1/namespaces/default/configmaps", &[("content-type", "application/vnd.kubernetes.protobuf")], vec![1, 2, 3]).await;
    assert_eq!(r.status, 400);
    let r = call(&c, Method::POST, "/api/v1/namespaces/default/configmaps", &[("content-type", "application/cbor")], vec![1, 2, 3]).await;
    assert_eq!(r.status, 415);
    assert_eq!(r.json()["reason"], "UnsupportedMediaType");
    // malformed JSON and YAML are 400
    for (ct, body) in [("application/json", "{\"apiVersion\": "), ("application/yaml", "a: [1\nb: }"), ("application/json", "[1,2]")] {
        let r = call(&c, Method::POST, "/api/v1/namespaces/default/configmaps", &[("content-type", ct)], body).await;
        assert_eq!(r.status, 400, "{ct} {body}: {}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.json()["kind"], "Status");
    }
    // a wrong type in a field is 400 naming the field
    let r = post_json(&c, "/api/v1/namespaces/default/configmaps", &json!({"metadata": {"name": "t"}, "data": {"a": 5}})).await;
    assert_eq!(r.status, 400);
    assert!(r.json()["message"].as_str().unwrap().contains("data.a"), "{}", r.json());
    // more than 3 MiB is 413
    let big = json!({"metadata": {"name": "big"}, "data": {"x": "a".repeat(3 * 1024 * 1024 + 10)}});
    let r = post_json(&c, "/api/v1/namespaces/default/configmaps", &big).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["reason"], "RequestEntityTooLarge");
    // nothing half-written
    assert_eq!(get(&c, "/api/v1/namespaces/default/configmaps/big").await.status, 404);
    // unknown paths and methods
    assert_eq!(get(&c, "/api/v1/nothings").await.status, 404);
    assert_eq!(get(&c, "/apis/nope.example.com/v1").await.status, 404);
    let r = call(&c, Method::POST, path, &[("content-type", "application/json")], serde_json::to_vec(&cm).unwrap()).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.json()["reason"], "MethodNotAllowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_partial_metadata_and_discovery() {
    let s = Server::start();
    let c = s.raw_client().await;
    let table_accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    let r = call(&c, Method::GET, "/api/v1/namespaces", &[("accept", table_accept)], Vec::new()).await;
    let t = r.json();
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
    let cols: Vec<&str> = t["columnDefinitions"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(cols, vec!["Name", "Status", "Age"]);
    let row = t["rows"].as_array().unwrap().iter().find(|r| r["cells"][0] == "default").unwrap();
    assert_eq!(row["cells"][1], "Active");
    assert_eq!(row["object"]["kind"], "PartialObjectMetadata");
    let r = call(&c, Method::GET, "/api/v1/namespaces?includeObject=Object", &[("accept", table_accept)], Vec::new()).await;
    assert_eq!(r.json()["rows"][0]["object"]["kind"], "Namespace");
    let r = call(&c, Method::GET, "/api/v1/namespaces?includeObject=Bogus", &[("accept", table_accept)], Vec::new()).await;
    assert_eq!(r.status, 400);

    let r = call(&c, Method::GET, "/api/v1/namespaces", &[("accept", "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io")], Vec::new()).await;
    let l = r.json();
    assert_eq!(l["kind"], "PartialObjectMetadataList");
    assert!(l["items"][0]["metadata"]["name"].is_string());
    assert!(l["items"][0].get("spec").is_none());
    // a metadata-only watch: each event's object is the metadata alone
    let r = call(&c, Method::GET, "/api/v1/namespaces?watch=1&timeoutSeconds=1", &[("accept", "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io")], Vec::new()).await;
    let events: Vec<Value> = String::from_utf8_lossy(&r.body).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let default = events.iter().find(|e| e["object"]["metadata"]["name"] == "default").unwrap_or_else(|| panic!("{events:?}"));
    assert_eq!((default["type"].as_str(), default["object"]["kind"].as_str(), default["object"]["apiVersion"].as_str()), (Some("ADDED"), Some("PartialObjectMetadata"), Some("meta.k8s.io/v1")));
    assert!(default["object"].get("spec").is_none() && default["object"].get("status").is_none(), "{default}");
    assert!(default["object"]["metadata"]["uid"].is_string());

    // aggregated discovery v2 with its exact content type
    let acc = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    let r = call(&c, Method::GET, "/apis", &[("accept", acc)], Vec::new()).await;
    assert_eq!(r.ct(), "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    let d = r.json();
    assert_eq!(d["kind"], "APIGroupDiscoveryList");
    let apps = d["items"].as_array().unwrap().iter().find(|g| g["metadata"]["name"] == "apps").unwrap();
    let deploy = apps["versions"][0]["resources"].as_array().unwrap().iter().find(|r| r["resource"] == "deployments").unwrap();
    assert_eq!(deploy["scope"], "Namespaced");
    assert_eq!(deploy["shortNames"], json!(["deploy"]));
    assert_eq!(deploy["categories"], json!(["all"]));
    let r = call(&c, Method::GET, "/api", &[("accept", acc)], Vec::new()).await;
    let core = r.json();
    let pods = core["items"][0]["versions"][0]["resources"].as_array().unwrap().iter().find(|r| r["resource"] == "pods").unwrap();
    assert!(pods["subresources"].as_array().unwrap().iter().any(|s| s["subresource"] == "status"));
    // legacy discovery
    let g = get(&c, "/apis/apps").await.json();
    assert_eq!(g["preferredVersion"]["groupVersion"], "apps/v1");
    let l = get(&c, "/api/v1").await.json();
    assert!(l["resources"].as_array().unwrap().iter().any(|r| r["name"] == "pods/status"));

    // OpenAPI v3: an index, and group documents whose writes declare fieldValidation
    let idx = get(&c, "/openapi/v3").await.json();
    let url = idx["paths"]["apis/apps/v1"]["serverRelativeURL"].as_str().unwrap().to_string();
    let doc = get(&c, &url).await.json();
    let patch = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert_eq!(patch["x-kubernetes-group-version-kind"]["kind"], "Deployment");
    assert!(patch["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "fieldValidation"));
    let schema = &doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"];
    assert_eq!(schema["x-kubernetes-group-version-kind"][0]["kind"], "Deployment");
    let containers = &doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
    assert!(containers.is_object());
    // upstream's patch metadata, which kubectl's strategic merge patches rely on
    let core_doc = get(&c, idx["paths"]["api/v1"]["serverRelativeURL"].as_str().unwrap()).await.json();
    let containers = &core_doc["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name", "{containers}");
    assert_eq!(containers["x-kubernetes-patch-strategy"], "merge");
    assert_eq!(containers["x-kubernetes-list-type"], "map");
    let v2 = get(&c, "/openapi/v2").await;
    assert_eq!(v2.status, 200);
    assert!(v2.json()["definitions"]["io.k8s.api.core.v1.Pod"].is_object());
    let pb = call(&c, Method::GET, "/openapi/v2", &[("accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")], Vec::new()).await;
    assert_eq!(pb.status, 200);
    assert_eq!(pb.ct(), "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
    // gnostic's Document: field 1 is `swagger` ("2.0")
    assert_eq!(&pb.body[..5], b"\x0a\x032.0");
    let none = call(&c, Method::GET, "/openapi/v2", &[("accept", "application/xml")], Vec::new()).await;
    assert_eq!(none.status, 406);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_generation_and_deletion() {
    let s = Server::start();
    let c = s.raw_client().await;
    let base = "/api/v1/namespaces/default/configmaps";
    let created = post_json(&c, base, &json!({"metadata": {"generateName": "gen-"}, "data": {"a": "1"}})).await;
    assert_eq!(created.status, 201);
    let obj = created.json();
    let name = obj["metadata"]["name"].as_str().unwrap().to_string();
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");
    assert!(obj["metadata"].get("generation").is_none(), "configmaps have no generation");
    let rv = obj["metadata"]["resourceVersion"].as_str().unwrap().to_string();
    // update with the current resourceVersion succeeds, a stale one conflicts with upstream's text
    let mut upd = obj.clone();
    upd["data"]["a"] = json!("2");
    let r = call(&c, Method::PUT, &format!("{base}/{name}"), &[("content-type", "application/json")], serde_json::to_vec(&upd).unwrap()).await;
    assert_eq!(r.status, 200);
    let rv2 = r.json()["metadata"]["resourceVersion"].as_str().unwrap().to_string();
    assert_ne!(rv, rv2);
    let r = call(&c, Method::PUT, &format!("{base}/{name}"), &[("content-type", "application/json")], serde_json::to_vec(&upd).unwrap()).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json()["message"],
        format!("Operation cannot be fulfilled on configmaps \"{name}\": the object has been modified; please apply your changes to the latest version and try again")
    );
    // a no-op update keeps the resourceVersion
    let cur = get(&c, &format!("{base}/{name}")).await.json();
    let r = call(&c, Method::PUT, &format!("{base}/{name}"), &[("content-type", "application/json")], serde_json::to_vec(&cur).unwrap()).await;
    assert_eq!(r.json()["metadata"]["resourceVersion"], cur["metadata"]["resourceVersion"]);

    // generation moves with the spec of kinds that track it, not with metadata or status.
    // An Ingress: it tracks generation, has a status subresource and no controller here
    // writes to it, so the resourceVersions below stay ours.
    let ing_base = "/apis/networking.k8s.io/v1/namespaces/default/ingresses";
    let backend = |svc: &str| json!({"service": {"name": svc, "port": {"number": 80}}});
    let ing = json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "d"},
        "spec": {"defaultBackend": backend("a")}});
    let r = post_json(&c, ing_base, &ing).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let d = r.json();
    assert_eq!(d["metadata"]["generation"], 1);
    let put = |url: String, body: serde_json::Value| {
        let c = &c;
        async move { call(c, Method::PUT, &url, &[("content-type", "application/json")], serde_json::to_vec(&body).unwrap()).await }
    };
    let mut d2 = d.clone();
    d2["metadata"]["labels"] = json!({"x": "y"});
    let r = put(format!("{ing_base}/d"), d2).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let d2 = r.json();
    assert_eq!(d2["metadata"]["generation"], 1);
    let mut d3 = d2.clone();
    d3["spec"]["defaultBackend"] = backend("b");
    d3["status"] = json!({"loadBalancer": {"ingress": [{"ip": "127.0.0.9"}]}});
    let r = put(format!("{ing_base}/d"), d3).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let d3 = r.json();
    assert_eq!(d3["metadata"]["generation"], 2);
    assert!(d3["status"]["loadBalancer"]["ingress"].is_null(), "status is not written through the main resource: {d3}");
    // ...but through /status, which leaves the spec alone
    let mut st = d3.clone();
    st["status"] = json!({"loadBalancer": {"ingress": [{"ip": "127.0.0.9"}]}});
    st["spec"]["defaultBackend"] = backend("c");
    let r = put(format!("{ing_base}/d/status"), st).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let st = r.json();
    assert_eq!(st["status"]["loadBalancer"]["ingress"][0]["ip"], "127.0.0.9");
    assert_eq!(st["spec"]["defaultBackend"]["service"]["name"], "b");
    assert_eq!(st["metadata"]["generation"], 2);

    // a Deployment starts at generation 1 with its replicas defaulted
    let dep = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {
        "selector": {"matchLabels": {"app": "d"}},
        "template": {"metadata": {"labels": {"app": "d"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}});
    let r = post_json(&c, "/apis/apps/v1/namespaces/default/deployments", &dep).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["metadata"]["generation"], 1);
    assert_eq!(r.json()["spec"]["replicas"], 1);

    // delete preconditions
    let r = call(&c, Method::DELETE, &format!("{base}/{name}"), &[("content-type", "application/json")], serde_json::to_vec(&json!({"preconditions": {"uid": "not-the-uid"}})).unwrap()).await;
    assert_eq!(r.status, 409);
    assert!(r.json()["message"].as_str().unwrap().contains("Precondition failed: UID in precondition: not-the-uid"));
    // finalizers hold an object until they are removed
    let fin = post_json(&c, base, &json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}})).await.json();
    let r = call(&c, Method::DELETE, &format!("{base}/held"), &[], Vec::new()).await;
    assert_eq!(r.status, 200);
    let held = get(&c, &format!("{base}/held")).await.json();
    assert!(held["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(held["metadata"]["uid"], fin["metadata"]["uid"]);
    let mut released = held.clone();
    released["metadata"]["finalizers"] = json!([]);
    let r = call(&c, Method::PUT, &format!("{base}/held"), &[("content-type", "application/json")], serde_json::to_vec(&released).unwrap()).await;
    assert_eq!(r.status, 200);
    assert_eq!(get(&c, &format!("{base}/held")).await.status, 404);
    // deletecollection with a selector
    for n in ["x1", "x2", "y1"] {
        let lbl = if n.starts_with('x') { "x" } else { "y" };
        post_json(&c, base, &json!({"metadata": {"name": n, "labels": {"g": lbl}}})).await;
    }
    let r = call(&c, Method::DELETE, &format!("{base}?labelSelector=g%3Dx"), &[], Vec::new()).await;
    assert_eq!(r.status, 200);
    assert_eq!(get(&c, &format!("{base}/x1")).await.status, 404);
    assert_eq!(get(&c, &format!("{base}/y1")).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_get_cluster_ips_and_node_ports() {
    let s = Server::start();
    let c = s.raw_client().await;
    let k = get(&c, "/api/v1/namespaces/default/services/kubernetes").await.json();
    assert_eq!(k["spec"]["clusterIP"], "10.43.0.1");
    assert_eq!(k["spec"]["ports"][0]["port"], 443);
    let svc = |name: &str, ty: &str| json!({"metadata": {"name": name}, "spec": {"type": ty, "selector": {"app": name}, "ports": [{"port": 80}]}});
    let a = post_json(&c, "/api/v1/namespaces/default/services", &svc("a", "ClusterIP")).await.json();
    let b = post_json(&c, "/api/v1/namespaces/default/services", &svc("b", "NodePort")).await.json();
    let ip_a = a["spec"]["clusterIP"].as_str().unwrap();
    let ip_b = b["spec"]["clusterIP"].as_str().unwrap();
    assert!(ip_a.starts_with("10.43.") && ip_b.starts_with("10.43.") && ip_a != ip_b, "{ip_a} {ip_b}");
    assert_eq!(a["spec"]["ports"][0]["targetPort"], 80);
    assert_eq!(a["spec"]["ports"][0]["protocol"], "TCP");
    let np = b["spec"]["ports"][0]["nodePort"].as_i64().unwrap();
    assert!((30000..=32767).contains(&np));
    // taking a used IP or port is refused with upstream's message
    let mut dup = svc("c", "NodePort");
    dup["spec"]["clusterIP"] = json!(ip_a);
    let r = post_json(&c, "/api/v1/namespaces/default/services", &dup).await;
    assert_eq!(r.status, 422);
    assert!(r.json()["message"].as_str().unwrap().contains("provided IP is already allocated"), "{}", r.json());
    let mut dup = svc("c", "NodePort");
    dup["spec"]["ports"][0]["nodePort"] = json!(np);
    let r = post_json(&c, "/api/v1/namespaces/default/services", &dup).await;
    assert_eq!(r.status, 422);
    assert!(r.json()["message"].as_str().unwrap().contains("provided port is already allocated"), "{}", r.json());
    // deleting releases: the IP can be taken again
    assert_eq!(call(&c, Method::DELETE, "/api/v1/namespaces/default/services/a", &[], Vec::new()).await.status, 200);
    let mut again = svc("d", "ClusterIP");
    again["spec"]["clusterIP"] = json!(ip_a);
    assert_eq!(post_json(&c, "/api/v1/namespaces/default/services", &again).await.status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_semantics() {
    let s = Server::start();
    let c = s.raw_client().await;
    let base = "/api/v1/namespaces/default/configmaps";
    let first = post_json(&c, base, &json!({"metadata": {"name": "w1"}})).await.json();
    let rv1 = first["metadata"]["resourceVersion"].as_str().unwrap().to_string();
    post_json(&c, base, &json!({"metadata": {"name": "w2", "labels": {"pick": "yes"}}})).await;
    // a watch from rv1 replays what came after it, filtered by the selector
    let req = Request::get(format!("{base}?watch=true&resourceVersion={rv1}&labelSelector=pick%3Dyes&allowWatchBookmarks=true&timeoutSeconds=5")).body(kube::client::Body::empty()).unwrap();
    let resp = c.send(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let mut body = resp.into_body().into_data_stream();
    let mut buf = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !buf.ends_with(b"\n") && tokio::time::Instant::now() < deadline {
        if let Ok(Some(Ok(chunk))) = tokio::time::timeout(Duration::from_secs(5), body.next()).await {
            buf.extend_from_slice(&chunk);
        }
    }
    let ev: Value = serde_json::from_slice(buf.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(ev["type"], "ADDED");
    assert_eq!(ev["object"]["metadata"]["name"], "w2");
    // the stream ends at timeoutSeconds
    let ended = tokio::time::timeout(Duration::from_secs(15), async { while body.next().await.is_some() {} }).await;
    assert!(ended.is_ok(), "watch did not end at its timeout");

    // a resourceVersion older than the retained history is a 410 Expired
    let r = get(&c, &format!("{base}?watch=true&resourceVersion=1&timeoutSeconds=2")).await;
    let text = String::from_utf8_lossy(&r.body).to_string();
    if r.status == 200 {
        // history since revision 1 may still be there on a fresh server: then it is a replay
        assert!(text.contains("\"type\":\"ADDED\"") || text.contains("\"type\":\"ERROR\""), "{text}");
    } else {
        assert_eq!(r.status, 410, "{text}");
    }
    // a resourceVersion in the future waits, then times out with 504
    let r = get(&c, &format!("{base}?resourceVersion=999999999")).await;
    assert_eq!(r.status, 504);
    assert_eq!(r.json()["reason"], "Timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compacted_history_answers_410() {
    let mut s = Server::start_with(&["--compaction-interval-seconds", "1"]);
    let c = s.raw_client().await;
    let base = "/api/v1/namespaces/default/configmaps";
    let first = post_json(&c, base, &json!({"metadata": {"name": "old"}})).await.json();
    let old_rv = first["metadata"]["resourceVersion"].as_str().unwrap().to_string();
    for i in 0..5 {
        post_json(&c, base, &json!({"metadata": {"name": format!("n{i}")}})).await;
    }
    // a continue token taken now outlives the history it points into
    let page = get(&c, &format!("{base}?limit=2")).await.json();
    let token = page["metadata"]["continue"].as_str().unwrap().to_string();
    // two compaction rounds, then a restart: the watch cache reloads from the compacted store
    tokio::time::sleep(Duration::from_millis(2500)).await;
    post_json(&c, base, &json!({"metadata": {"name": "after"}})).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    s.restart();
    let c = s.raw_client().await;
    let r = get(&c, &format!("{base}?watch=true&resourceVersion={old_rv}&timeoutSeconds=2")).await;
    assert_eq!(r.status, 200);
    let ev: Value = serde_json::from_slice(r.body.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(ev["type"], "ERROR", "{ev}");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");
    assert!(ev["object"]["message"].as_str().unwrap().starts_with("too old resource version"), "{ev}");
    let r = get(&c, &format!("{base}?resourceVersion={old_rv}&resourceVersionMatch=Exact")).await;
    assert_eq!(r.status, 410, "{}", String::from_utf8_lossy(&r.body));
    let r = get(&c, &format!("{base}?limit=2&continue={token}")).await;
    assert_eq!(r.status, 410, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.json()["message"].as_str().unwrap().starts_with("The provided continue parameter is too old"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_validation_modes() {
    let s = Server::start();
    let c = s.raw_client().await;
    let body = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"NAME","labels":{"a":"1"}},"data":{"k":"v"},"bogus":1,"data":{"k":"w"}}"#;
    let post = |mode: &'static str, name: &'static str| {
        let c = c.clone();
        let body = String::from_utf8_lossy(body).replace("NAME", name);
        async move {
            let q = if mode.is_empty() { String::new() } else { format!("?fieldValidation={mode}") };
            call(&c, Method::POST, &format!("/api/v1/namespaces/default/configmaps{q}"), &[("content-type", "application/json")], body.into_bytes()).await
        }
    };
    let r = post("Strict", "strict").await;
    assert_eq!(r.status, 400);
    let msg = r.json()["message"].as_str().unwrap().to_string();
    assert!(msg.starts_with("strict decoding error: "), "{msg}");
    assert!(msg.contains("unknown field \"bogus\"") && msg.contains("duplicate field \"data\""), "{msg}");
    let r = post("Warn", "warn").await;
    assert_eq!(r.status, 201);
    let warnings: Vec<String> = r.headers.get_all("warning").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    assert!(warnings.iter().any(|w| w.contains("unknown field \\\"bogus\\\"") || w.contains("unknown field \"bogus\"")), "{warnings:?}");
    assert!(warnings.iter().any(|w| w.contains("duplicate field")), "{warnings:?}");
    assert_eq!(r.json()["data"]["k"], "w", "the last duplicate wins");
    assert!(r.json().get("bogus").is_none(), "unknown fields are never stored");
    let r = post("Ignore", "ignore").await;
    assert_eq!(r.status, 201);
    assert!(r.headers.get("warning").is_none());
    let r = post("Sloppy", "sloppy").await;
    assert_eq!(r.status, 400);
    // the default (no parameter) warns
    let r = post("", "default").await;
    assert_eq!(r.status, 201);
    assert!(r.headers.get("warning").is_some());
    let stored = get(&c, "/api/v1/namespaces/default/configmaps/default").await.json();
    assert!(stored.get("bogus").is_none());
}
