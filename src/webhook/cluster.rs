//! Cluster context for the webhook: kube-rs reflectors (list, then watch, relisting after errors)
//! on the objects the cross-object rules read. Each change marks the cache dirty; a snapshot for
//! the reviews is rebuilt at most every `REBUILD_EVERY`, off the request path.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::reflector::{self, store::Writer, Store};
use kube::runtime::{watcher, WatchStreamExt};
use tokio::sync::Notify;

use crate::engine::{Evaluator, ReadKind, Scope};

use super::metrics::{Metrics, ResourceLabels};
use super::snapshot::Snapshot;

/// What the cache watches: Namespaces (every review's context reads their labels) and every kind
/// an enabled rule declares in its metadata `reads`, so the cache holds exactly what the rules read
/// (and the chart's RBAC grants exactly that; `tests/chart.rs` checks it).
pub fn watched_kinds(evaluator: &Evaluator) -> Vec<ReadKind> {
    let mut kinds: Vec<ReadKind> = evaluator
        .enabled_rules()
        .filter(|rule| !matches!(rule.meta.scope, Scope::Complete | Scope::Manifest))
        .flat_map(|rule| rule.meta.reads.iter().cloned())
        .collect();
    kinds.extend(ReadKind::parse("v1/Namespace"));
    kinds.sort();
    kinds.dedup();
    kinds
}

/// A burst of changes (a `helm install` of fifty objects) costs one rebuild.
const REBUILD_EVERY: Duration = Duration::from_millis(250);

/// The snapshot reviews read, and whether every watched resource has been listed once.
pub struct ClusterCache {
    snapshot: RwLock<Arc<Snapshot>>,
    synced: AtomicBool,
}

impl ClusterCache {
    pub fn new(snapshot: Snapshot, synced: bool) -> ClusterCache {
        ClusterCache {
            snapshot: RwLock::new(Arc::new(snapshot)),
            synced: AtomicBool::new(synced),
        }
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn replace(&self, snapshot: Snapshot) {
        match self.snapshot.write() {
            Ok(mut s) => *s = Arc::new(snapshot),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(snapshot),
        }
    }

    pub fn is_synced(&self) -> bool {
        self.synced.load(Ordering::Acquire)
    }
}

fn api_resource(kind: &ReadKind) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(&kind.group, &kind.version, &kind.kind),
        &kind.plural(),
    )
}

/// Whether the API server serves a resource at all. A kind that some rule reads but that the
/// cluster does not have (Cilium policies without Cilium) must not keep the webhook unready: it
/// is simply empty.
async fn served(api: &Api<DynamicObject>) -> bool {
    !matches!(
        api.list(&kube::api::ListParams::default().limit(1)).await,
        Err(kube::Error::Api(status)) if status.code == 404
    )
}

/// The JSON of a cached object, with the apiVersion and kind list responses leave out.
fn object_json(object: &DynamicObject, resource: &ApiResource) -> Option<serde_json::Value> {
    let mut json = serde_json::to_value(object).ok()?;
    let map = json.as_object_mut()?;
    map.entry("apiVersion")
        .or_insert_with(|| resource.api_version.clone().into());
    map.entry("kind")
        .or_insert_with(|| resource.kind.clone().into());
    Some(json)
}

fn cached_objects(stores: &[(ApiResource, Store<DynamicObject>)]) -> Vec<serde_json::Value> {
    stores
        .iter()
        .flat_map(|(resource, store)| {
            store
                .state()
                .into_iter()
                .filter_map(|o| object_json(&o, resource))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Starts one reflector per watched resource and keeps `cache` up to date until the process ends.
/// Returns once every resource has been listed (the cache is then marked synced).
pub async fn start(
    client: kube::Client,
    cache: Arc<ClusterCache>,
    metrics: Arc<Metrics>,
    kinds: Vec<ReadKind>,
) {
    let dirty = Arc::new(Notify::new());
    let mut stores: Vec<(ApiResource, Store<DynamicObject>)> = Vec::new();
    for kind in &kinds {
        let resource = api_resource(kind);
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        if !served(&api).await {
            tracing::info!(resource = %resource.plural, kind = %kind, "not served by this cluster; rules that read it see none");
            metrics
                .cache_synced
                .get_or_create(&ResourceLabels {
                    resource: resource.plural.clone(),
                })
                .set(1);
            continue;
        }
        let writer = Writer::new(resource.clone());
        stores.push((resource.clone(), writer.as_reader()));
        let stream = reflector::reflector(writer, watcher(api, watcher::Config::default()))
            .default_backoff();
        let dirty = dirty.clone();
        tokio::spawn(async move {
            futures::pin_mut!(stream);
            while let Some(event) = stream.next().await {
                match event {
                    Ok(_) => dirty.notify_one(),
                    // The watcher relists with backoff; the cache keeps what it had meanwhile.
                    Err(e) => {
                        tracing::warn!(resource = %resource.plural, error = %e, "watch failed; retrying")
                    }
                }
            }
        });
    }

    let rebuild_stores = stores.clone();
    let rebuild_cache = cache.clone();
    let rebuild_metrics = metrics.clone();
    tokio::spawn(async move {
        loop {
            dirty.notified().await;
            tokio::time::sleep(REBUILD_EVERY).await;
            let objects = cached_objects(&rebuild_stores);
            let snapshot = Snapshot::from_objects(&objects);
            rebuild_metrics.cache_objects.set(objects.len() as i64);
            rebuild_cache.replace(snapshot);
        }
    });

    for (resource, store) in &stores {
        if store.wait_until_ready().await.is_ok() {
            metrics
                .cache_synced
                .get_or_create(&ResourceLabels {
                    resource: resource.plural.clone(),
                })
                .set(1);
            tracing::info!(resource = %resource.plural, objects = store.len(), "cache synced");
        }
    }
    // The first snapshot is built now, so the webhook is never ready with an empty cache.
    let objects = cached_objects(&stores);
    metrics.cache_objects.set(objects.len() as i64);
    cache.replace(Snapshot::from_objects(&objects));
    cache.synced.store(true, Ordering::Release);
}
