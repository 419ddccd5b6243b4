//! The kubelet's watch-based cache of the Secrets and ConfigMaps its pods use (upstream's
//! `Watch` change-detection strategy): one single-object watch (`fieldSelector=
//! metadata.name=<name>`) per object that some pod on the node references, started on first
//! use and stopped when the last pod using it is forgotten. Volume refreshes, which run at every
//! pod sync, read the cache instead of GETting each object again.
//!
//! It must not watch or list anything no pod of this node references: the Node authorizer
//! allows a node only the objects its pods use, and only by name.
//! When a watch has not delivered its first list (or failed before it), a plain GET answers, so
//! an error reads exactly as the apiserver's.

use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::NamespaceResourceScope;
use kube::Resource;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;
use tokio::sync::watch;

/// How long a first use waits for the new watch's list before asking with a GET.
const FIRST_LIST: Duration = Duration::from_secs(5);

/// What a watch knows of its object.
#[derive(Clone, Debug)]
enum Known<K> {
    /// Not listed yet.
    Pending,
    /// The object (`None`: it does not exist).
    Listed(Option<Arc<K>>),
    /// The watch failed before its first list (it keeps retrying).
    Failed,
}

struct Entry<K> {
    users: HashSet<String>,
    state: watch::Receiver<Known<K>>,
    task: tokio::task::JoinHandle<()>,
}

impl<K> Drop for Entry<K> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The cache of one kind of namespaced object.
pub struct ObjectCache<K> {
    client: kube::Client,
    entries: parking_lot::Mutex<HashMap<(String, String), Entry<K>>>,
}

impl<K> ObjectCache<K>
where
    K: Resource<Scope = NamespaceResourceScope> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Default,
{
    /// An empty cache reading through `client` (the node's identity).
    pub fn new(client: kube::Client) -> Self {
        ObjectCache { client, entries: parking_lot::Mutex::new(HashMap::new()) }
    }

    /// The object `namespace/name` as last seen (`None`: it does not exist), used by the pod
    /// `pod_uid` (which keeps it watched until [`release`](Self::release)).
    pub async fn get(&self, pod_uid: &str, namespace: &str, name: &str) -> Result<Option<Arc<K>>, String> {
        let mut state = {
            let mut entries = self.entries.lock();
            let entry = entries.entry((namespace.to_string(), name.to_string())).or_insert_with(|| self.start(namespace, name));
            entry.users.insert(pod_uid.to_string());
            entry.state.clone()
        };
        let first = tokio::time::timeout(FIRST_LIST, state.wait_for(|k| !matches!(k, Known::Pending))).await;
        match first.ok().and_then(|r| r.ok()).map(|k| k.clone()) {
            Some(Known::Listed(obj)) => Ok(obj),
            // not listed (yet): the apiserver answers, with its own words on failure
            _ => crate::env::get_opt::<K>(&self.client, namespace, name).await.map(|o| o.map(Arc::new)),
        }
    }

    /// Forgets the uses of pod `pod_uid`; objects no pod uses any more stop being watched.
    pub fn release(&self, pod_uid: &str) {
        self.entries.lock().retain(|_, e| {
            e.users.remove(pod_uid);
            !e.users.is_empty()
        });
    }

    /// How many objects are watched.
    pub fn watched(&self) -> usize {
        self.entries.lock().len()
    }

    fn start(&self, namespace: &str, name: &str) -> Entry<K> {
        let (tx, rx) = watch::channel(Known::Pending);
        let api: Api<K> = Api::namespaced(self.client.clone(), namespace);
        let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
        let task = tokio::spawn(async move {
            let mut events = watcher(api, config).default_backoff().boxed();
            // a (re)list arrives as Init, InitApply..., InitDone: the object is what it lists
            let mut listing: Option<Arc<K>> = None;
            while let Some(ev) = events.next().await {
                match ev {
                    Ok(watcher::Event::Init) => listing = None,
                    Ok(watcher::Event::InitApply(o)) => listing = Some(Arc::new(o)),
                    Ok(watcher::Event::InitDone) => {
                        tx.send_replace(Known::Listed(listing.take()));
                    }
                    Ok(watcher::Event::Apply(o)) => {
                        tx.send_replace(Known::Listed(Some(Arc::new(o))));
                    }
                    Ok(watcher::Event::Delete(_)) => {
                        tx.send_replace(Known::Listed(None));
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "object watch");
                        // what was listed stays valid until the next list; before one, say so
                        tx.send_if_modified(|k| {
                            if matches!(k, Known::Pending) {
                                *k = Known::Failed;
                                true
                            } else {
                                false
                            }
                        });
                    }
                }
            }
        });
        Entry { users: HashSet::new(), state: rx, task }
    }
}
