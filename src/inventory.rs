//! The objects a rule can look across, under `data.inventory` in the layout Gatekeeper uses:
//! `namespace[ns][apiVersion][kind][name]` and `cluster[apiVersion][kind][name]`.
//! In lint it holds the objects a unit relates to (see `unit` and [`UnitInventory`]); the webhook
//! fills it from its cluster cache.

use std::collections::{BTreeMap, HashMap};

use regorus::Value;

use crate::finding::ObjectRef;

pub use crate::namespaces::{effective_namespace, is_cluster_scoped, DEFAULT_NAMESPACE};

/// apiVersion → kind → name → object.
type ByApiVersion = BTreeMap<Value, BTreeMap<Value, BTreeMap<Value, Value>>>;

#[derive(Default)]
pub struct Inventory {
    namespaced: BTreeMap<Value, ByApiVersion>,
    cluster: ByApiVersion,
}

impl Inventory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an object. Objects without a name cannot be looked up by name and are left out.
    pub fn add(&mut self, id: &ObjectRef, object: Value) {
        let Some(name) = &id.name else { return };
        let (api, kind, name) = (
            Value::from(id.api_version.as_str()),
            Value::from(id.kind.as_str()),
            Value::from(name.as_str()),
        );
        match effective_namespace(id) {
            Some(ns) => {
                self.namespaced
                    .entry(Value::from(ns))
                    .or_default()
                    .entry(api)
                    .or_default()
                    .entry(kind)
                    .or_default()
                    .insert(name, object);
            }
            None => {
                self.cluster
                    .entry(api)
                    .or_default()
                    .entry(kind)
                    .or_default()
                    .insert(name, object);
            }
        }
    }

    /// The `data` document: `{"inventory": {"namespace": ..., "cluster": ...}}`.
    pub fn to_data(&self) -> Value {
        data_of(self.namespaces_value(), by_api_value(&self.cluster))
    }

    fn namespaces_value(&self) -> BTreeMap<Value, Value> {
        self.namespaced
            .iter()
            .map(|(ns, apis)| (ns.clone(), by_api_value(apis)))
            .collect()
    }
}

fn by_api_value(apis: &ByApiVersion) -> Value {
    fn nest<V: Clone + Into<Value>>(map: &BTreeMap<Value, V>) -> Value {
        Value::from(
            map.iter()
                .map(|(k, v)| (k.clone(), v.clone().into()))
                .collect::<BTreeMap<_, _>>(),
        )
    }
    Value::from(
        apis.iter()
            .map(|(api, kinds)| {
                (
                    api.clone(),
                    Value::from(
                        kinds
                            .iter()
                            .map(|(k, names)| (k.clone(), nest(names)))
                            .collect::<BTreeMap<_, _>>(),
                    ),
                )
            })
            .collect::<BTreeMap<_, _>>(),
    )
}

fn data_of(namespaces: BTreeMap<Value, Value>, cluster: Value) -> Value {
    crate::workload::object_value([(
        "inventory",
        crate::workload::object_value([
            ("namespace", Value::from(namespaces)),
            ("cluster", cluster),
        ]),
    )])
}

fn insert(apis: &mut ByApiVersion, id: &ObjectRef, name: &str, object: Value) {
    apis.entry(Value::from(id.api_version.as_str()))
        .or_default()
        .entry(Value::from(id.kind.as_str()))
        .or_default()
        .insert(Value::from(name), object);
}

/// The inventory of a lint run split by unit of relation (see `unit`): objects with a namespace are
/// seen by every unit, objects without one (they land in `default` when applied without `-n`) and
/// cluster-scoped objects only by their own unit (`unit::UnitId`, a plain index here so this module
/// stays below `unit`). Each unit's `data` shares the run-wide part.
#[derive(Default)]
pub struct UnitInventory {
    explicit: Inventory,
    implicit: HashMap<usize, ByApiVersion>,
    cluster: HashMap<usize, ByApiVersion>,
    /// The run-wide namespaces as values, built on first use.
    explicit_namespaces: Option<BTreeMap<Value, Value>>,
    /// The data of a unit with nothing of its own (shared, so the engine need not reinstall it).
    shared: Option<Value>,
}

impl UnitInventory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an object of `unit`. Objects without a name cannot be looked up by name and are left
    /// out. A second definition of the same object replaces the first, as applying it would.
    pub fn add(&mut self, unit: usize, id: &ObjectRef, object: Value) {
        let Some(name) = &id.name else { return };
        match (&id.namespace, is_cluster_scoped(id)) {
            (Some(_), _) => self.explicit.add(id, object),
            (None, true) => insert(self.cluster.entry(unit).or_default(), id, name, object),
            (None, false) => insert(self.implicit.entry(unit).or_default(), id, name, object),
        }
    }

    /// `data` for the objects of `unit`: every namespace named in the run, the unit's cluster-scoped
    /// objects, and, for objects without a namespace (`implicit`), `default` holding only the
    /// unit's objects without a namespace (they are where the unit is applied, not in the run's
    /// `default`).
    pub fn data_for(&mut self, unit: usize, implicit: bool) -> Value {
        let namespaces = self
            .explicit_namespaces
            .get_or_insert_with(|| self.explicit.namespaces_value());
        let cluster = self.cluster.get(&unit);
        if !implicit && cluster.is_none() {
            return self
                .shared
                .get_or_insert_with(|| data_of(namespaces.clone(), Value::new_object()))
                .clone();
        }
        let mut namespaces = namespaces.clone();
        if implicit {
            let default = Value::from(DEFAULT_NAMESPACE);
            match self.implicit.get(&unit) {
                Some(apis) => namespaces.insert(default, by_api_value(apis)),
                None => namespaces.remove(&default),
            };
        }
        data_of(
            namespaces,
            cluster.map_or_else(Value::new_object, by_api_value),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_see_named_namespaces_and_only_their_own_implicit_and_cluster_objects() {
        let mut inv = UnitInventory::new();
        inv.add(0, &id("v1", "ServiceAccount", None, "a"), Value::from("a0"));
        inv.add(1, &id("v1", "ServiceAccount", None, "b"), Value::from("b1"));
        inv.add(
            1,
            &id("v1", "ServiceAccount", Some("default"), "x"),
            Value::from("x"),
        );
        inv.add(
            1,
            &id("v1", "ServiceAccount", Some("shop"), "s"),
            Value::from("s"),
        );
        let crb = id(
            "rbac.authorization.k8s.io/v1",
            "ClusterRoleBinding",
            None,
            "c",
        );
        inv.add(1, &crb, Value::from("c1"));
        let sa = |data: &Value, ns: &str, name: &str| {
            data["inventory"]["namespace"][ns]["v1"]["ServiceAccount"][name].clone()
        };
        let implicit0 = inv.data_for(0, true);
        assert_eq!(sa(&implicit0, "default", "a"), Value::from("a0"));
        assert_eq!(sa(&implicit0, "default", "b"), Value::Undefined);
        assert_eq!(sa(&implicit0, "default", "x"), Value::Undefined);
        assert_eq!(sa(&implicit0, "shop", "s"), Value::from("s"));
        assert_eq!(
            implicit0["inventory"]["cluster"],
            Value::new_object(),
            "unit 0 sees no cluster-scoped object of unit 1"
        );
        let explicit0 = inv.data_for(0, false);
        assert_eq!(sa(&explicit0, "default", "x"), Value::from("x"));
        assert_eq!(sa(&explicit0, "default", "a"), Value::Undefined);
        let explicit1 = inv.data_for(1, false);
        assert_eq!(
            explicit1["inventory"]["cluster"]["rbac.authorization.k8s.io/v1"]["ClusterRoleBinding"]
                ["c"],
            Value::from("c1")
        );
    }

    fn id(api: &str, kind: &str, ns: Option<&str>, name: &str) -> ObjectRef {
        ObjectRef {
            api_version: api.into(),
            kind: kind.into(),
            namespace: ns.map(Into::into),
            name: Some(name.into()),
        }
    }

    #[test]
    fn gatekeeper_layout() {
        let mut inv = Inventory::new();
        inv.add(
            &id("apps/v1", "Deployment", Some("shop"), "web"),
            Value::from("d"),
        );
        inv.add(
            &id("policy/v1", "PodDisruptionBudget", None, "web"),
            Value::from("p"),
        );
        inv.add(&id("v1", "Namespace", None, "shop"), Value::from("n"));
        let data = inv.to_data();
        assert_eq!(
            data["inventory"]["namespace"]["shop"]["apps/v1"]["Deployment"]["web"],
            Value::from("d")
        );
        assert_eq!(
            data["inventory"]["namespace"]["default"]["policy/v1"]["PodDisruptionBudget"]["web"],
            Value::from("p")
        );
        assert_eq!(
            data["inventory"]["cluster"]["v1"]["Namespace"]["shop"],
            Value::from("n")
        );
    }
}
