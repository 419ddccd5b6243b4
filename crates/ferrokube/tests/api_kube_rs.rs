//! kube-rs against `ferrokube server`: typed lists, the runtime watcher, a reflector kept in
//! sync, and a watch resumed across a server restart.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use support::Server;

fn cm(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some(name.into()),
            labels: Some(BTreeMap::from([("test".to_string(), "watch".to_string())])),
            ..Default::default()
        },
        data: Some(BTreeMap::from([("v".to_string(), value.to_string())])),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_list_and_get() {
    let s = Server::start();
    let client = s.client().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let names: Vec<String> = namespaces.list(&ListParams::default()).await.unwrap().items.into_iter().filter_map(|n| n.metadata.name).collect();
    for want in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(names.contains(&want.to_string()), "{names:?}");
    }
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for i in 0..5 {
        cms.create(&PostParams::default(), &cm(&format!("c{i}"), "x")).await.unwrap();
    }
    let page = cms.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(page.items.len(), 2);
    let token = page.metadata.continue_.clone().expect("continue token");
    let rest = cms.list(&ListParams::default().limit(10).continue_token(&token)).await.unwrap();
    assert!(rest.items.len() >= 3);
    let got = cms.get("c3").await.unwrap();
    assert_eq!(got.data.unwrap()["v"], "x");
    let err = cms.get("nope").await.unwrap_err();
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 404);
            assert_eq!(s.reason, "NotFound");
        }
        other => panic!("{other:?}"),
    }
    let pods: Api<Pod> = Api::all(client);
    assert!(pods.list(&ListParams::default()).await.unwrap().items.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_and_reflector_stay_in_sync() {
    let s = Server::start();
    let client = s.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    cms.create(&PostParams::default(), &cm("before", "1")).await.unwrap();

    let (reader, writer) = reflector::store::<ConfigMap>();
    let stream = reflector(writer, watcher(cms.clone(), watcher::Config::default())).applied_objects().boxed();
    let task = tokio::spawn(async move {
        let mut stream = stream;
        while let Some(_ev) = stream.try_next().await.unwrap() {}
    });
    reader.wait_until_ready().await.unwrap();
    let has = |name: &str, v: &str| {
        reader.state().iter().any(|c| c.metadata.name.as_deref() == Some(name) && c.data.as_ref().is_some_and(|d| d["v"] == v))
    };
    assert!(has("before", "1"));
    cms.create(&PostParams::default(), &cm("after", "1")).await.unwrap();
    let mut updated = cms.get("before").await.unwrap();
    updated.data = Some(BTreeMap::from([("v".to_string(), "2".to_string())]));
    cms.replace("before", &PostParams::default(), &updated).await.unwrap();
    cms.delete("after", &DeleteParams::default()).await.unwrap();
    cms.create(&PostParams::default(), &cm("third", "3")).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let names: Vec<String> = reader.state().iter().filter_map(|c| c.metadata.name.clone()).collect();
        if has("before", "2") && has("third", "3") && !names.contains(&"after".to_string()) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "reflector out of sync: {names:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    task.abort();

    // the streaming-list form (sendInitialEvents) of the watcher
    let mut events = watcher(cms.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut init = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.try_next()).await.unwrap().unwrap() {
            Some(watcher::Event::InitApply(c)) => init.push(c.metadata.name.unwrap()),
            Some(watcher::Event::InitDone) => break,
            Some(_) => {}
            None => panic!("stream ended"),
        }
    }
    init.sort();
    assert!(init.contains(&"before".to_string()) && init.contains(&"third".to_string()), "{init:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_resumes_after_restart() {
    let mut s = Server::start();
    let client = s.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let first = cms.create(&PostParams::default(), &cm("one", "1")).await.unwrap();
    let rv = first.metadata.resource_version.clone().unwrap();
    s.restart();
    // after the restart, changes made since `rv` are still delivered from that revision
    let client = s.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    cms.create(&PostParams::default(), &cm("two", "2")).await.unwrap();
    // (only this test's objects: the root-CA publisher writes kube-root-ca.crt here too)
    let mut stream = cms.watch(&WatchParams::default().labels("test=watch"), &rv).await.unwrap().boxed();
    let ev = tokio::time::timeout(Duration::from_secs(10), stream.try_next()).await.unwrap().unwrap().unwrap();
    match ev {
        WatchEvent::Added(c) => {
            assert_eq!(c.metadata.name.as_deref(), Some("two"));
            assert!(c.metadata.resource_version.unwrap().parse::<i64>().unwrap() > rv.parse::<i64>().unwrap());
        }
        // a server that no longer has the history must say so with 410, and the client relists
        WatchEvent::Error(e) => assert_eq!(e.code, 410, "{e:?}"),
        other => panic!("unexpected {other:?}"),
    }
    // the runtime watcher copes either way: it ends up with both objects
    let (reader, writer) = reflector::store::<ConfigMap>();
    let stream = reflector(writer, watcher(cms.clone(), watcher::Config::default())).applied_objects().boxed();
    let task = tokio::spawn(async move {
        let mut stream = stream;
        while let Ok(Some(_)) = stream.try_next().await {}
    });
    reader.wait_until_ready().await.unwrap();
    let names: Vec<String> = reader.state().iter().filter_map(|c| c.metadata.name.clone()).collect();
    assert!(names.contains(&"one".to_string()) && names.contains(&"two".to_string()), "{names:?}");
    task.abort();
}
