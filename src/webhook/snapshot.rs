//! What the webhook knows of the cluster at one moment: the objects the cross-object rules read
//! (PDBs, NetworkPolicies, Services, HPAs, LimitRanges, Namespaces), converted for the engine once
//! per cache change and grouped by namespace, so a review only builds the context of its own
//! namespace.

use std::collections::HashMap;

use regorus::Value as RegoValue;

use crate::context::{Context, Entry};
use crate::finding::ObjectRef;
use crate::inventory::{effective_namespace, Inventory};
use crate::manifest::identity::identity;
use crate::manifest::node::Node;

struct Cached {
    id: ObjectRef,
    value: RegoValue,
    /// The workload view of a cached workload, so a PDB or NetworkPolicy under review sees the
    /// workloads it selects.
    view: Option<RegoValue>,
}

pub struct Snapshot {
    /// False when the webhook runs without cluster context: cross-object rules are then off.
    pub enabled: bool,
    by_namespace: HashMap<String, Vec<Cached>>,
    namespaces: HashMap<String, Cached>,
    /// Cluster-scoped objects (cluster-wide network policies, ClusterRoleBindings): part of every
    /// namespace's context.
    cluster: Vec<Cached>,
    /// `data` for policies: `data.inventory` in Gatekeeper's layout.
    pub data: RegoValue,
}

impl Snapshot {
    /// No cluster context: every review sees only its own object.
    pub fn disabled() -> Snapshot {
        Snapshot {
            enabled: false,
            by_namespace: HashMap::new(),
            namespaces: HashMap::new(),
            cluster: Vec::new(),
            data: RegoValue::new_object(),
        }
    }

    /// A snapshot of these objects (JSON as the API server serves them; each must carry
    /// `apiVersion` and `kind`). Objects without them are skipped.
    pub fn from_objects<'a>(objects: impl IntoIterator<Item = &'a serde_json::Value>) -> Snapshot {
        let mut snapshot = Snapshot {
            enabled: true,
            ..Snapshot::disabled()
        };
        let mut inventory = Inventory::new();
        for json in objects {
            let root = Node::from_json(json);
            let Some(id) = identity(&root, None) else {
                continue;
            };
            let value = root.to_rego();
            let view = crate::workload::view(&root, &value);
            inventory.add(&id, value.clone());
            let cached = Cached { id, value, view };
            if cached.id.kind == "Namespace" && cached.id.api_version == "v1" {
                if let Some(name) = cached.id.name.clone() {
                    snapshot.namespaces.insert(name, cached);
                }
            } else if let Some(ns) = effective_namespace(&cached.id) {
                snapshot
                    .by_namespace
                    .entry(ns.to_string())
                    .or_default()
                    .push(cached);
            } else {
                snapshot.cluster.push(cached);
            }
        }
        snapshot.data = inventory.to_data();
        snapshot
    }

    /// How many objects the snapshot holds.
    pub fn len(&self) -> usize {
        self.namespaces.len()
            + self.cluster.len()
            + self.by_namespace.values().map(Vec::len).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The workload view of a cached Deployment (for an Argo Rollout that takes its pod template
    /// from it).
    pub fn deployment_view(&self, namespace: &str, name: &str) -> Option<&RegoValue> {
        self.by_namespace.get(namespace)?.iter().find_map(|c| {
            let group = c.id.api_version.rsplit_once('/').map_or("", |(g, _)| g);
            (c.id.kind == "Deployment"
                && matches!(group, "apps" | "extensions")
                && c.id.name.as_deref() == Some(name))
            .then_some(c.view.as_ref())
            .flatten()
        })
    }

    /// The context of one object under review: the cached objects of its namespace, with the
    /// object itself in place of any cached version of it (an UPDATE of a PDB is judged as it
    /// will be, not as it was).
    pub fn context_for(
        &self,
        id: &ObjectRef,
        value: &RegoValue,
        view: Option<&RegoValue>,
    ) -> Context {
        let mut entries = vec![Entry {
            id,
            object: value,
            view,
        }];
        if let Some(ns) = effective_namespace(id) {
            if let Some(namespace) = self.namespaces.get(ns) {
                if namespace.id != *id {
                    entries.push(entry(namespace));
                }
            }
            if let Some(cached) = self.by_namespace.get(ns) {
                entries.extend(cached.iter().filter(|c| !same_object(&c.id, id)).map(entry));
            }
        }
        entries.extend(
            self.cluster
                .iter()
                .filter(|c| !same_object(&c.id, id))
                .map(entry),
        );
        Context::build(entries)
    }
}

fn entry(cached: &Cached) -> Entry<'_> {
    Entry {
        id: &cached.id,
        object: &cached.value,
        view: cached.view.as_ref(),
    }
}

/// Same kind, namespace and name (an apiVersion change between versions is the same object).
fn same_object(a: &ObjectRef, b: &ObjectRef) -> bool {
    a.kind == b.kind && a.name == b.name && effective_namespace(a) == effective_namespace(b)
}
