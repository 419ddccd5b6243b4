//! kube-rs write paths: every `Patch` kind, server-side apply with a field manager and force,
//! and a derived `CustomResource` created, listed, watched and status-patched.
#![allow(missing_docs)] // the derive generates public items

mod support;

use std::time::Duration;

use futures::TryStreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResource;
use kube::CustomResourceExt;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use support::Server;

/// The spec of a test custom resource, defined the way kube-rs users define theirs.
#[derive(CustomResource, Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq)]
#[kube(group = "ferrokube.example", version = "v1", kind = "Gadget", namespaced, status = "GadgetStatus", shortname = "gd")]
pub struct GadgetSpec {
    /// A color.
    pub color: String,
    /// A count.
    pub count: i32,
}

/// Its status.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Default)]
pub struct GadgetStatus {
    /// Whether it is ready.
    pub ready: bool,
}

fn deployment() -> serde_json::Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "a"}},
            "template": {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_patch_kind() {
    let s = Server::start();
    let client = s.client().await;
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    // apply creates
    let pp = PatchParams::apply("ferrokube-test");
    let d = deploys.patch("app", &pp, &Patch::Apply(deployment())).await.unwrap();
    assert_eq!(d.spec.as_ref().unwrap().replicas, Some(1));
    let mf = d.metadata.managed_fields.clone().unwrap();
    assert_eq!(mf[0].manager.as_deref(), Some("ferrokube-test"));
    assert_eq!(mf[0].operation.as_deref(), Some("Apply"));
    // another manager's apply conflicts, force takes over
    let mut other = deployment();
    other["spec"]["replicas"] = json!(4);
    let err = deploys.patch("app", &PatchParams::apply("other"), &Patch::Apply(other.clone())).await.unwrap_err();
    match err {
        kube::Error::Api(st) => {
            assert_eq!(st.code, 409);
            assert!(st.message.contains("conflict with \"ferrokube-test\""), "{}", st.message);
        }
        e => panic!("{e:?}"),
    }
    let d = deploys.patch("app", &PatchParams::apply("other").force(), &Patch::Apply(other)).await.unwrap();
    assert_eq!(d.spec.as_ref().unwrap().replicas, Some(4));
    // strategic: merge a container by name
    let d = deploys
        .patch("app", &PatchParams::default(), &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox:2"}]}}}})))
        .await
        .unwrap();
    let containers = &d.spec.unwrap().template.spec.unwrap().containers;
    assert_eq!(containers.len(), 1);
    assert_eq!(containers[0].image.as_deref(), Some("busybox:2"));
    // merge and JSON patch
    let d = deploys.patch("app", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}}))).await.unwrap();
    assert_eq!(d.metadata.labels.unwrap()["x"], "y");
    let ops: json_patch_ops::Patch = serde_json::from_value(json!([{"op": "replace", "path": "/spec/replicas", "value": 2}])).unwrap();
    let d = deploys.patch("app", &PatchParams::default(), &Patch::Json::<()>(ops)).await.unwrap();
    assert_eq!(d.spec.unwrap().replicas, Some(2));
    // dry run leaves storage alone
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "dry"}})).unwrap();
    cms.create(&PostParams { dry_run: true, ..Default::default() }, &cm).await.unwrap();
    assert!(cms.get_opt("dry").await.unwrap().is_none());
}

/// `kube::api::Patch::Json` takes the json-patch crate's type.
mod json_patch_ops {
    pub use json_patch::Patch;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derived_custom_resource() {
    let s = Server::start();
    let client = s.client().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(&PostParams::default(), &Gadget::crd()).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let crd = crds.get("gadgets.ferrokube.example").await.unwrap();
        let established = crd.status.and_then(|s| s.conditions).unwrap_or_default().iter().any(|c| c.type_ == "Established" && c.status == "True");
        if established {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "CRD not established");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let gadgets: Api<Gadget> = Api::namespaced(client.clone(), "default");
    let (reader, writer) = kube::runtime::reflector::store::<Gadget>();
    let stream = kube::runtime::reflector(writer, watcher(gadgets.clone(), watcher::Config::default())).applied_objects();
    let task = tokio::spawn(async move {
        futures::pin_mut!(stream);
        while let Ok(Some(_)) = stream.try_next().await {}
    });
    reader.wait_until_ready().await.unwrap();
    let g = Gadget::new("g1", GadgetSpec { color: "red".into(), count: 3 });
    let created = gadgets.create(&PostParams::default(), &g).await.unwrap();
    assert_eq!(created.spec, g.spec);
    let listed = gadgets.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    // status through the status subresource
    let patched = gadgets
        .patch_status("g1", &PatchParams::default(), &Patch::Merge(json!({"status": {"ready": true}})))
        .await
        .unwrap();
    assert_eq!(patched.status, Some(GadgetStatus { ready: true }));
    // status written through the main resource is ignored
    let main = gadgets.patch("g1", &PatchParams::default(), &Patch::Merge(json!({"status": {"ready": false}, "spec": {"count": 4}}))).await.unwrap();
    assert_eq!(main.status, Some(GadgetStatus { ready: true }));
    assert_eq!(main.spec.count, 4);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !reader.state().iter().any(|g| g.spec.count == 4 && g.status == Some(GadgetStatus { ready: true })) {
        assert!(tokio::time::Instant::now() < deadline, "watcher did not see the status");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    task.abort();
}
