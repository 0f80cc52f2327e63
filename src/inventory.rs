//! The objects a rule can look across, under `data.inventory` in the layout Gatekeeper uses:
//! `namespace[ns][apiVersion][kind][name]` and `cluster[apiVersion][kind][name]`.
//! In lint it holds every object of the run; the webhook fills it from its cluster cache.

use std::collections::BTreeMap;

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
        fn nest<V: Clone + Into<Value>>(map: &BTreeMap<Value, V>) -> Value {
            Value::from(
                map.iter()
                    .map(|(k, v)| (k.clone(), v.clone().into()))
                    .collect::<BTreeMap<_, _>>(),
            )
        }
        let namespaced: BTreeMap<Value, Value> = self
            .namespaced
            .iter()
            .map(|(ns, apis)| {
                let apis: BTreeMap<Value, Value> = apis
                    .iter()
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
                    .collect();
                (ns.clone(), Value::from(apis))
            })
            .collect();
        let cluster: BTreeMap<Value, Value> = self
            .cluster
            .iter()
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
            .collect();
        crate::workload::object_value([(
            "inventory",
            crate::workload::object_value([
                ("namespace", Value::from(namespaced)),
                ("cluster", Value::from(cluster)),
            ]),
        )])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
