//! What a rule needs to know about the objects around the one it checks, worked out once per run in
//! Rust (label selectors, HPA targets, NetworkPolicy isolation, LimitRange defaults) and handed to
//! the rules as plain data:
//!
//! - on a workload's view (`input.workload`): `hpa`, `min_replicas`, `pdbs`, `network_policies`,
//!   `limit_range`, `services` (the Services that select its pods);
//! - on every namespaced object, `input.related.namespace`: what its namespace holds (including
//!   network policies of other APIs, Cilium, Calico, Antrea, AdminNetworkPolicy, which may isolate
//!   pods where no Kubernetes NetworkPolicy does);
//! - on a PodDisruptionBudget, NetworkPolicy or Service, `input.related.workloads`: the workloads
//!   it selects (each with its images and declared port names).
//!
//! Only objects of the same namespace ever relate. In lint the objects are those of the run, and
//! objects without `metadata.namespace` (and cluster-scoped ones) relate only within their unit
//! (see `unit`); the webhook builds the same context from its cluster cache plus the object under
//! review, as one unit. The same object (API group, kind, namespace, name) defined several times
//! counts once: alternative install manifests are one object in a cluster.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;
use regorus::Value as RegoValue;

use crate::finding::ObjectRef;
use crate::inventory::{effective_namespace, DEFAULT_NAMESPACE};
use crate::selector::{labels_from_rego, LabelSelector, Labels};
use crate::unit::UnitId;
use crate::workload::object_value;

/// One object as the context sees it: identity, value, and workload view when it runs pods.
pub struct Entry<'a> {
    pub id: &'a ObjectRef,
    pub object: &'a RegoValue,
    pub view: Option<&'a RegoValue>,
}

pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("")
}

/// True for the objects whose content the context reads (see [`Context::build_in_units`]):
/// PodDisruptionBudgets, NetworkPolicies, Services, HorizontalPodAutoscalers, LimitRanges and
/// everything that runs pods. Of the others it reads the identity at most.
pub fn reads_content(id: &ObjectRef) -> bool {
    matches!(
        (group_of(&id.api_version), id.kind.as_str()),
        ("policy", "PodDisruptionBudget")
            | ("networking.k8s.io", "NetworkPolicy")
            | ("", "Service" | "LimitRange")
            | ("autoscaling", "HorizontalPodAutoscaler")
    ) || crate::workload::pod_paths(&id.api_version, &id.kind).is_some()
}

fn int_of(value: &RegoValue) -> Option<i64> {
    value.as_i64().ok()
}

/// Where one definition of an object comes from. The same object (API group, kind, namespace,
/// name) may be defined in several files (alternative install manifests); it is one object, and a
/// viewer relates to the copy in its own file when there is one, else to the first definition.
#[derive(Clone, Copy, Default)]
struct Definition {
    file: usize,
    /// The first definition of this object in its namespace (or unit).
    primary: bool,
}

/// Of each object among `items`, the definition a viewer in `file` relates to: the copy in that
/// file when there is one, else the first. `all` is every definition of the kind in the namespace.
fn chosen<'a, T: 'a>(
    all: &'a [T],
    items: impl Iterator<Item = &'a T>,
    definition: impl Fn(&T) -> Definition,
    identity: impl Fn(&T) -> (&str, &str),
    file: Option<usize>,
) -> impl Iterator<Item = &'a T> {
    let local: HashSet<(&str, &str)> = all
        .iter()
        .filter(|t| Some(definition(t).file) == file)
        .map(&identity)
        .collect();
    items.filter(move |t| {
        let d = definition(t);
        Some(d.file) == file || (d.primary && !local.contains(&identity(t)))
    })
}

struct Service {
    definition: Definition,
    name: String,
    selector: Labels,
}

struct Workload {
    definition: Definition,
    api_version: String,
    kind: String,
    name: String,
    /// The name its own workload view carries (`metadata.name`, null without one), so a rule can
    /// recognise the workload a namespace summary names even when it is generated or nameless.
    view_name: RegoValue,
    labels: Labels,
    replicas: Option<i64>,
    hpa: Option<Hpa>,
    /// The images its containers run, without tag or digest (`registry.example.com/shop/web`).
    images: Vec<String>,
    /// The names of the ports its containers declare (what a Service's named targetPort finds).
    port_names: Vec<String>,
}

impl Workload {
    fn min_replicas(&self) -> Option<i64> {
        effective_min(self.replicas, self.hpa.as_ref())
    }

    fn summary(&self) -> RegoValue {
        object_value([
            ("api_version", RegoValue::from(self.api_version.as_str())),
            ("kind", RegoValue::from(self.kind.as_str())),
            ("name", RegoValue::from(self.name.as_str())),
            (
                "replicas",
                self.replicas.map_or(RegoValue::Null, RegoValue::from),
            ),
            (
                "min_replicas",
                self.min_replicas().map_or(RegoValue::Null, RegoValue::from),
            ),
            (
                "hpa",
                self.hpa.as_ref().map_or(RegoValue::Null, Hpa::summary),
            ),
            ("labels", labels_value(&self.labels)),
            ("images", strings_value(&self.images)),
            ("port_names", strings_value(&self.port_names)),
        ])
    }
}

fn labels_value(labels: &Labels) -> RegoValue {
    RegoValue::from(
        labels
            .iter()
            .map(|(k, v)| (RegoValue::from(k.as_str()), RegoValue::from(v.as_str())))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn strings_value(items: &[String]) -> RegoValue {
    RegoValue::from(
        items
            .iter()
            .map(|s| RegoValue::from(s.as_str()))
            .collect::<Vec<_>>(),
    )
}

#[derive(Clone)]
struct Hpa {
    definition: Definition,
    name: String,
    target_group: String,
    target_kind: String,
    target_name: String,
    min_replicas: i64,
    max_replicas: Option<i64>,
    /// The resources it scales on by utilization (a percentage of the containers' requests).
    utilization: Vec<RegoValue>,
}

impl Hpa {
    fn from_object(name: &str, object: &RegoValue) -> Option<Hpa> {
        let spec = &object["spec"];
        let target = &spec["scaleTargetRef"];
        let target_kind = target["kind"].as_string().ok()?.to_string();
        let target_name = target["name"].as_string().ok()?.to_string();
        Some(Hpa {
            definition: Definition::default(),
            name: name.to_string(),
            // Without apiVersion the HPA controller looks the kind up in the core group, where
            // only a ReplicationController would be found.
            target_group: target["apiVersion"]
                .as_string()
                .map(|v| group_of(v).to_string())
                .unwrap_or_default(),
            target_kind,
            target_name,
            // minReplicas defaults to 1 (autoscaling/v1 and v2 alike).
            min_replicas: int_of(&spec["minReplicas"]).unwrap_or(1),
            max_replicas: int_of(&spec["maxReplicas"]),
            utilization: utilization_targets(spec),
        })
    }

    fn targets(&self, api_version: &str, kind: &str, name: &str) -> bool {
        self.target_kind == kind
            && self.target_name == name
            && self.target_group == group_of(api_version)
    }

    fn summary(&self) -> RegoValue {
        object_value([
            ("name", RegoValue::from(self.name.as_str())),
            ("min_replicas", RegoValue::from(self.min_replicas)),
            (
                "max_replicas",
                self.max_replicas.map_or(RegoValue::Null, RegoValue::from),
            ),
            ("utilization", RegoValue::from(self.utilization.clone())),
        ])
    }
}

/// The resources an HPA scales on by utilization, each `{resource, container}` (container null
/// for a `Resource` metric, which sums every container of the pod). autoscaling/v1's
/// targetCPUUtilizationPercentage and an HPA without metrics (the controller then targets 80% CPU)
/// count as CPU; autoscaling/v2beta1 wrote the target as targetAverageUtilization.
fn utilization_targets(spec: &RegoValue) -> Vec<RegoValue> {
    let target = |resource: &RegoValue, container: RegoValue| {
        object_value([("resource", resource.clone()), ("container", container)])
    };
    let cpu = RegoValue::from("cpu");
    let metrics = match &spec["metrics"] {
        RegoValue::Array(metrics) if !metrics.is_empty() => metrics.clone(),
        _ => return vec![target(&cpu, RegoValue::Null)],
    };
    let utilization = |source: &RegoValue| {
        source["target"]["type"] == RegoValue::from("Utilization")
            || !matches!(
                source["targetAverageUtilization"],
                RegoValue::Undefined | RegoValue::Null
            )
    };
    metrics
        .iter()
        .filter_map(|metric| match metric["type"].as_string().ok()?.as_ref() {
            "Resource" if utilization(&metric["resource"]) => {
                Some(target(&metric["resource"]["name"], RegoValue::Null))
            }
            "ContainerResource" if utilization(&metric["containerResource"]) => Some(target(
                &metric["containerResource"]["name"],
                metric["containerResource"]["container"].clone(),
            )),
            _ => None,
        })
        .filter(|t| matches!(t["resource"], RegoValue::String(_)))
        .collect()
}

struct Pdb {
    definition: Definition,
    name: String,
    selector: Option<LabelSelector>,
    min_available: RegoValue,
    max_unavailable: RegoValue,
}

impl Pdb {
    fn from_object(name: &str, api_version: &str, object: &RegoValue) -> Pdb {
        let spec = &object["spec"];
        let mut selector = LabelSelector::from_rego(&spec["selector"]);
        // policy/v1beta1 read an empty selector as "no pods"; policy/v1 as "every pod".
        if api_version == "policy/v1beta1" && selector.as_ref().is_some_and(|s| s.is_empty()) {
            selector = None;
        }
        Pdb {
            definition: Definition::default(),
            name: name.to_string(),
            selector,
            min_available: defined_or_null(&spec["minAvailable"]),
            max_unavailable: defined_or_null(&spec["maxUnavailable"]),
        }
    }

    fn selects(&self, labels: &Labels) -> bool {
        self.selector.as_ref().is_some_and(|s| s.matches(labels))
    }

    fn summary(&self) -> RegoValue {
        object_value([
            ("name", RegoValue::from(self.name.as_str())),
            ("min_available", self.min_available.clone()),
            ("max_unavailable", self.max_unavailable.clone()),
        ])
    }
}

struct NetworkPolicy {
    definition: Definition,
    name: String,
    selector: Option<LabelSelector>,
    ingress: bool,
    egress: bool,
    /// A rule of that direction admits every peer (no `from` / `to`), so isolating it denies
    /// nothing.
    allows_all_ingress: bool,
    allows_all_egress: bool,
}

impl NetworkPolicy {
    fn from_object(name: &str, object: &RegoValue) -> NetworkPolicy {
        let spec = &object["spec"];
        // podSelector is a required field with no `omitempty`: left out, it is the empty selector,
        // which selects every pod of the namespace.
        let selector = match &spec["podSelector"] {
            RegoValue::Undefined | RegoValue::Null => Some(LabelSelector::default()),
            value => LabelSelector::from_rego(value),
        };
        let (ingress, egress) = isolation(spec);
        let allows_all = |rules: &RegoValue, peers: &str| match rules {
            RegoValue::Array(rules) => rules.iter().any(|rule| match &rule[peers] {
                RegoValue::Array(list) => list.is_empty(),
                _ => true,
            }),
            _ => false,
        };
        NetworkPolicy {
            definition: Definition::default(),
            name: name.to_string(),
            selector,
            ingress,
            egress,
            allows_all_ingress: allows_all(&spec["ingress"], "from"),
            allows_all_egress: allows_all(&spec["egress"], "to"),
        }
    }

    fn selects(&self, labels: &Labels) -> bool {
        self.selector.as_ref().is_some_and(|s| s.matches(labels))
    }

    fn selects_every_pod(&self) -> bool {
        self.selector.as_ref().is_some_and(LabelSelector::is_empty)
    }

    fn summary(&self) -> RegoValue {
        object_value([
            ("name", RegoValue::from(self.name.as_str())),
            ("ingress", RegoValue::from(self.ingress)),
            ("egress", RegoValue::from(self.egress)),
        ])
    }
}

/// Which directions a NetworkPolicy isolates the pods it selects for, as the API defaults
/// `policyTypes`: when it is unset, Ingress always, and Egress when the policy has egress rules.
pub fn isolation(spec: &RegoValue) -> (bool, bool) {
    match &spec["policyTypes"] {
        // The API defaults an empty list as it defaults a missing one.
        RegoValue::Array(types) if !types.is_empty() => {
            let has = |t: &str| types.iter().any(|v| v.as_string().is_ok_and(|s| &**s == t));
            (has("Ingress"), has("Egress"))
        }
        _ => {
            let has_egress_rules =
                matches!(&spec["egress"], RegoValue::Array(rules) if !rules.is_empty());
            (true, has_egress_rules)
        }
    }
}

/// The defaults a namespace's LimitRanges give containers at admission, after the API server's own
/// defaulting of the LimitRange: `default` falls back to `max`, `defaultRequest` to `default`, then
/// to `min`.
#[derive(Default)]
struct LimitDefaults {
    names: Vec<String>,
    limits: BTreeMap<String, RegoValue>,
    requests: BTreeMap<String, RegoValue>,
}

impl LimitDefaults {
    fn add(&mut self, name: &str, object: &RegoValue) {
        let RegoValue::Array(items) = &object["spec"]["limits"] else {
            return;
        };
        let mut any = false;
        for item in items.iter() {
            if item["type"].as_string().ok().map(|s| &**s) != Some("Container") {
                continue;
            }
            let entries = |field: &str| match &item[field] {
                RegoValue::Object(map) => map
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_string().ok()?.to_string(), v.clone())))
                    .collect::<BTreeMap<_, _>>(),
                _ => BTreeMap::new(),
            };
            let mut default = entries("default");
            let mut default_request = entries("defaultRequest");
            for (k, v) in entries("max") {
                default.entry(k).or_insert(v);
            }
            for (k, v) in &default {
                default_request.entry(k.clone()).or_insert(v.clone());
            }
            for (k, v) in entries("min") {
                default_request.entry(k).or_insert(v);
            }
            any |= !default.is_empty() || !default_request.is_empty();
            for (k, v) in default {
                self.limits.entry(k).or_insert(v);
            }
            for (k, v) in default_request {
                self.requests.entry(k).or_insert(v);
            }
        }
        if any {
            self.names.push(name.to_string());
        }
    }

    fn summary(&self) -> RegoValue {
        let map = |m: &BTreeMap<String, RegoValue>| {
            RegoValue::from(
                m.iter()
                    .map(|(k, v)| (RegoValue::from(k.as_str()), v.clone()))
                    .collect::<BTreeMap<_, _>>(),
            )
        };
        object_value([
            (
                "names",
                RegoValue::from(
                    self.names
                        .iter()
                        .map(|n| RegoValue::from(n.as_str()))
                        .collect::<Vec<_>>(),
                ),
            ),
            ("limits", map(&self.limits)),
            ("requests", map(&self.requests)),
        ])
    }
}

#[derive(Default)]
struct Namespace {
    /// A Namespace object for it is among the objects.
    declared: bool,
    workloads: Vec<Workload>,
    pdbs: Vec<Pdb>,
    policies: Vec<NetworkPolicy>,
    hpas: Vec<Hpa>,
    /// Services with a selector (not ExternalName), which send traffic to the pods they select.
    services: Vec<Service>,
    /// `Kind/name` of network policies of other APIs that apply here (see `other_network_policy`).
    other_policies: Vec<String>,
    limits: LimitDefaults,
    /// (API group, kind, name) of the objects already counted, so a second definition of the same
    /// object (another install variant) is not counted again.
    seen: HashSet<(String, String, String)>,
    /// Set by `summarize` once every object is in; without cluster-wide policies (they depend on
    /// the unit looking, see `Context::related`).
    summary: Option<RegoValue>,
}

impl Namespace {
    /// True the first time an object of this identity is counted here.
    fn first_definition(&mut self, group: &str, kind: &str, name: &str) -> bool {
        self.seen
            .insert((group.to_string(), kind.to_string(), name.to_string()))
    }

    /// The autoscaler of a workload, as a viewer in `file` sees it (see `chosen`).
    fn hpa_for(
        &self,
        api_version: &str,
        kind: &str,
        name: &str,
        file: Option<usize>,
    ) -> Option<&Hpa> {
        chosen(
            &self.hpas,
            self.hpas
                .iter()
                .filter(|h| h.targets(api_version, kind, name)),
            |h| h.definition,
            |h| ("", h.name.as_str()),
            file,
        )
        // Two HPAs on one target fight; the lower floor is the one that can bite.
        .min_by_key(|h| h.min_replicas)
    }

    fn summarize(&mut self, name: &str) {
        let names = |policies: Vec<&NetworkPolicy>| {
            RegoValue::from(
                policies
                    .into_iter()
                    .map(|p| RegoValue::from(p.name.as_str()))
                    .collect::<Vec<_>>(),
            )
        };
        let default_deny = |direction: fn(&NetworkPolicy) -> bool| {
            names(
                self.policies
                    .iter()
                    .filter(|p| p.definition.primary && p.selects_every_pod() && direction(p))
                    .collect(),
            )
        };
        let primary_workloads = self.workloads.iter().filter(|w| w.definition.primary);
        let first_workload = primary_workloads
            .clone()
            .next()
            .map_or(RegoValue::Null, |w| {
                object_value([
                    ("api_version", RegoValue::from(w.api_version.as_str())),
                    ("kind", RegoValue::from(w.kind.as_str())),
                    ("name", w.view_name.clone()),
                ])
            });
        self.summary = Some(object_value([
            ("name", RegoValue::from(name)),
            ("declared", RegoValue::from(self.declared)),
            ("workloads", RegoValue::from(primary_workloads.count())),
            ("first_workload", first_workload),
            (
                "network_policies",
                names(
                    self.policies
                        .iter()
                        .filter(|p| p.definition.primary)
                        .collect(),
                ),
            ),
            (
                "other_network_policies",
                RegoValue::from(
                    self.other_policies
                        .iter()
                        .map(|p| RegoValue::from(p.as_str()))
                        .collect::<Vec<_>>(),
                ),
            ),
            (
                "default_deny",
                object_value([
                    (
                        "ingress",
                        default_deny(|p| p.ingress && !p.allows_all_ingress),
                    ),
                    ("egress", default_deny(|p| p.egress && !p.allows_all_egress)),
                ]),
            ),
        ]));
    }
}

/// Where a namespaced object relates.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Scope {
    /// A namespace named by the objects (or a `Namespace` object): shared across the run.
    Namespace(String),
    /// The objects of a unit that name no namespace: they land wherever the unit is applied
    /// (`default` without `-n`), so they relate only to each other.
    Implicit(UnitId),
}

/// The relations between the objects of one run (or of the cluster cache).
#[derive(Default)]
struct Relations {
    namespaces: HashMap<Scope, Namespace>,
    /// Cluster-wide policies of other network policy APIs, by the unit that holds them (they
    /// apply to every namespace that unit's objects see).
    cluster_network_policies: HashMap<UnitId, Vec<String>>,
    /// Objects without a namespace relate only within their unit (false: they are in `default`).
    isolated: bool,
}

/// The relations between the objects of one run (or of the cluster cache), as seen from one unit:
/// [`Context::for_viewer`] gives the view of another unit without rebuilding anything.
#[derive(Default, Clone)]
pub struct Context {
    relations: Arc<Relations>,
    viewer: UnitId,
    viewer_file: Option<usize>,
}

/// Where an object of the run comes from: its unit of relation and its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub unit: UnitId,
    pub file: usize,
}

enum PolicyScope {
    Namespace,
    Cluster,
}

/// Network policies of other APIs (CNI plugins, AdminNetworkPolicy) that may isolate pods where
/// no Kubernetes NetworkPolicy does: the rules cannot read them, so they must not claim the pods
/// are open.
fn other_network_policy(id: &ObjectRef) -> Option<PolicyScope> {
    match (group_of(&id.api_version), id.kind.as_str()) {
        ("cilium.io", "CiliumNetworkPolicy")
        | ("projectcalico.org" | "crd.projectcalico.org", "NetworkPolicy")
        | ("crd.antrea.io", "NetworkPolicy") => Some(PolicyScope::Namespace),
        ("cilium.io", "CiliumClusterwideNetworkPolicy")
        | ("projectcalico.org" | "crd.projectcalico.org", "GlobalNetworkPolicy")
        | ("crd.antrea.io", "ClusterNetworkPolicy")
        | ("policy.networking.k8s.io", "AdminNetworkPolicy" | "BaselineAdminNetworkPolicy") => {
            Some(PolicyScope::Cluster)
        }
        _ => None,
    }
}

/// What one object gives the context, worked out from it alone (see
/// [`Context::build_in_units`]); where it goes depends on the objects before it.
enum Part {
    Pdb(Pdb),
    NetworkPolicy(NetworkPolicy),
    /// A Service's selector (a Service without one, or of type ExternalName, gives `Nothing`).
    Service(Labels),
    Hpa(Hpa),
    LimitRange,
    Workload(Workload),
    Nothing,
}

impl Part {
    fn of(entry: &Entry<'_>) -> Part {
        let id = entry.id;
        // Only what runs pods has a workload view.
        let workload = |name: &str| match entry.view {
            Some(view) => Part::Workload(workload_of(id, name, view)),
            None => Part::Nothing,
        };
        let Some(name) = id.name.as_deref() else {
            return workload("");
        };
        match (group_of(&id.api_version), id.kind.as_str()) {
            ("policy", "PodDisruptionBudget") => {
                Part::Pdb(Pdb::from_object(name, &id.api_version, entry.object))
            }
            ("networking.k8s.io", "NetworkPolicy") => {
                Part::NetworkPolicy(NetworkPolicy::from_object(name, entry.object))
            }
            ("", "Service") => service_selector(entry.object).map_or(Part::Nothing, Part::Service),
            ("autoscaling", "HorizontalPodAutoscaler") => {
                Hpa::from_object(name, entry.object).map_or(Part::Nothing, Part::Hpa)
            }
            ("", "LimitRange") => Part::LimitRange,
            _ => workload(name),
        }
    }
}

impl Context {
    /// The context of objects that all relate as in one cluster (the webhook's cache): objects
    /// without a namespace are in `default`, as in a lint run with `--relate run`, which goes
    /// through [`Context::build_in_units`].
    ///
    /// Built on the calling thread: the webhook builds one for each review, on the worker thread
    /// that serves it, where handing work to another pool would cost more than it saves.
    pub fn build<'a>(entries: impl IntoIterator<Item = Entry<'a>>) -> Context {
        let entries: Vec<(Entry<'a>, Origin)> = entries
            .into_iter()
            .map(|e| (e, Origin { unit: 0, file: 0 }))
            .collect();
        let parts = entries.iter().map(|(entry, _)| Part::of(entry)).collect();
        Context::assemble(entries, parts, false)
    }

    /// The context of objects grouped into units. With `isolated`, objects without a namespace
    /// and cluster-scoped objects relate only to objects of their own unit; objects with a
    /// namespace relate across units. The returned context views unit 0 (see `for_viewer`).
    ///
    /// What each object gives it is worked out on the thread pool, in parallel (a lint run: the
    /// main thread built it alone while the pool waited).
    pub fn build_in_units<'a>(
        entries: impl IntoIterator<Item = (Entry<'a>, Origin)>,
        isolated: bool,
    ) -> Context {
        let entries: Vec<(Entry<'a>, Origin)> = entries.into_iter().collect();
        let parts = entries
            .par_iter()
            .map(|(entry, _)| Part::of(entry))
            .collect();
        Context::assemble(entries, parts, isolated)
    }

    /// Files each object's part (`parts[i]` is `entries[i]`'s) under its namespace, in order:
    /// which definition of an object is the first, and LimitRange merging, depend on the objects
    /// before it.
    fn assemble(entries: Vec<(Entry<'_>, Origin)>, parts: Vec<Part>, isolated: bool) -> Context {
        let mut relations = Relations {
            isolated,
            ..Relations::default()
        };
        let mut pending_workloads = Vec::new();
        for ((entry, Origin { unit, file }), part) in entries.into_iter().zip(parts) {
            let id = entry.id;
            if id.kind == "Namespace" && id.api_version == "v1" {
                if let Some(name) = &id.name {
                    relations
                        .namespace_mut(Scope::Namespace(name.clone()))
                        .declared = true;
                }
                continue;
            }
            if let Some(scope) = other_network_policy(id) {
                let label = format!("{}/{}", id.kind, id.name.as_deref().unwrap_or(""));
                let cluster_unit = relations.cluster_unit(unit);
                let policies = match scope {
                    PolicyScope::Cluster => relations
                        .cluster_network_policies
                        .entry(cluster_unit)
                        .or_default(),
                    PolicyScope::Namespace => {
                        let scope = relations
                            .scope_of(id, unit)
                            .unwrap_or(Scope::Namespace(DEFAULT_NAMESPACE.to_string()));
                        &mut relations.namespace_mut(scope).other_policies
                    }
                };
                if !policies.contains(&label) {
                    policies.push(label);
                }
                continue;
            }
            let Some(scope) = relations.scope_of(id, unit) else {
                continue;
            };
            // Every namespace an object lives in gets a summary, even one holding nothing else,
            // and even when the object has no name (nothing can refer to it, but it is there).
            let namespace = relations.namespace_mut(scope.clone());
            let Some(name) = id.name.as_deref() else {
                if let Part::Workload(workload) = part {
                    // A nameless workload still runs pods in its namespace.
                    let definition = Definition {
                        file,
                        primary: true,
                    };
                    pending_workloads.push((
                        scope,
                        Workload {
                            definition,
                            ..workload
                        },
                    ));
                }
                continue;
            };
            let definition = Definition {
                file,
                primary: namespace.first_definition(group_of(&id.api_version), &id.kind, name),
            };
            match part {
                Part::Pdb(pdb) => namespace.pdbs.push(Pdb { definition, ..pdb }),
                Part::NetworkPolicy(policy) => namespace.policies.push(NetworkPolicy {
                    definition,
                    ..policy
                }),
                Part::Service(selector) => namespace.services.push(Service {
                    definition,
                    name: name.to_string(),
                    selector,
                }),
                Part::Hpa(hpa) => namespace.hpas.push(Hpa { definition, ..hpa }),
                // LimitRange defaults merge, the first definition of each key winning.
                Part::LimitRange if definition.primary => namespace.limits.add(name, entry.object),
                Part::Workload(workload) => pending_workloads.push((
                    scope,
                    Workload {
                        definition,
                        ..workload
                    },
                )),
                Part::LimitRange | Part::Nothing => {}
            }
        }
        for (scope, mut workload) in pending_workloads {
            let namespace = relations.namespace_mut(scope);
            workload.hpa = namespace
                .hpa_for(
                    &workload.api_version,
                    &workload.kind,
                    &workload.name,
                    Some(workload.definition.file),
                )
                .cloned();
            namespace.workloads.push(workload);
        }
        for (scope, namespace) in relations.namespaces.iter_mut() {
            let name = match scope {
                Scope::Namespace(name) => name.as_str(),
                Scope::Implicit(_) => DEFAULT_NAMESPACE,
            };
            namespace.summarize(name);
        }
        Context {
            relations: Arc::new(relations),
            viewer: 0,
            viewer_file: None,
        }
    }

    /// The same relations as seen by the objects of `unit` from `file` (of several definitions of
    /// one object they relate to the one in their own file, see `chosen`).
    pub fn for_viewer(&self, unit: UnitId, file: Option<usize>) -> Context {
        Context {
            relations: Arc::clone(&self.relations),
            viewer: unit,
            viewer_file: file,
        }
    }

    fn namespace_of(&self, id: &ObjectRef) -> Option<&Namespace> {
        let scope = if id.kind == "Namespace" && id.api_version == "v1" {
            Scope::Namespace(id.name.clone()?)
        } else {
            self.relations.scope_of(id, self.viewer)?
        };
        self.relations.namespaces.get(&scope)
    }

    /// Adds `hpa`, `min_replicas`, `pdbs`, `network_policies` and `limit_range` to a workload view.
    pub fn extend_view(&self, id: &ObjectRef, view: &mut RegoValue) {
        // A workload whose namespace holds nothing else gets the same fields, all empty.
        let alone = Namespace::default();
        let namespace = self.namespace_of(id).unwrap_or(&alone);
        let labels = labels_from_rego(&view["pod_labels"]);
        let name = id.name.as_deref().unwrap_or_default();
        let file = self.viewer_file;
        let hpa = namespace
            .hpa_for(&id.api_version, &id.kind, name, file)
            .cloned();
        let replicas = int_of(&view["replicas"]);
        let min_replicas = effective_min(replicas, hpa.as_ref());
        let pdbs: Vec<RegoValue> = chosen(
            &namespace.pdbs,
            namespace.pdbs.iter().filter(|p| p.selects(&labels)),
            |p| p.definition,
            |p| ("", p.name.as_str()),
            file,
        )
        .map(Pdb::summary)
        .collect();
        let policies: Vec<RegoValue> = chosen(
            &namespace.policies,
            namespace.policies.iter().filter(|p| p.selects(&labels)),
            |p| p.definition,
            |p| ("", p.name.as_str()),
            file,
        )
        .map(NetworkPolicy::summary)
        .collect();
        let mut services: Vec<&str> = chosen(
            &namespace.services,
            namespace
                .services
                .iter()
                .filter(|s| s.selector.iter().all(|(k, v)| labels.get(k) == Some(v))),
            |s| s.definition,
            |s| ("", s.name.as_str()),
            file,
        )
        .map(|s| s.name.as_str())
        .collect();
        services.sort_unstable();
        services.dedup();
        let Ok(fields) = view.as_object_mut() else {
            return;
        };
        let mut set = |key: &str, value: RegoValue| {
            fields.insert(RegoValue::from(key), value);
        };
        set("hpa", hpa.as_ref().map_or(RegoValue::Null, Hpa::summary));
        set(
            "min_replicas",
            min_replicas.map_or(RegoValue::Null, RegoValue::from),
        );
        set("pdbs", RegoValue::from(pdbs));
        set("network_policies", RegoValue::from(policies));
        set("limit_range", namespace.limits.summary());
        set(
            "services",
            RegoValue::from(
                services
                    .into_iter()
                    .map(RegoValue::from)
                    .collect::<Vec<_>>(),
            ),
        );
    }

    /// `input.related`: the object's namespace; for a PodDisruptionBudget, NetworkPolicy or
    /// Service (one with a selector), the workloads it selects; for a NetworkPolicy also `isolates` (`ingress`, `egress`), with
    /// `policyTypes` defaulted (see `isolation`), so no policy re-implements the defaulting.
    pub fn related(&self, id: &ObjectRef, object: &RegoValue) -> Option<RegoValue> {
        let namespace = self.namespace_of(id)?;
        let group = group_of(&id.api_version);
        let mut isolates = None;
        let selected: Option<Vec<RegoValue>> = match (group, id.kind.as_str()) {
            ("policy", "PodDisruptionBudget") => {
                let pdb = Pdb::from_object("", &id.api_version, object);
                Some(select(namespace, self.viewer_file, |labels| {
                    pdb.selects(labels)
                }))
            }
            ("networking.k8s.io", "NetworkPolicy") => {
                let policy = NetworkPolicy::from_object("", object);
                isolates = Some(object_value([
                    ("ingress", RegoValue::from(policy.ingress)),
                    ("egress", RegoValue::from(policy.egress)),
                ]));
                Some(select(namespace, self.viewer_file, |labels| {
                    policy.selects(labels)
                }))
            }
            ("", "Service") => service_selector(object).map(|selector| {
                select(namespace, self.viewer_file, |labels| {
                    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
                })
            }),
            _ => None,
        };
        let mut summary = namespace.summary.clone()?;
        let cluster_policies = self
            .relations
            .cluster_network_policies
            .get(&self.relations.cluster_unit(self.viewer))
            .filter(|p| !p.is_empty());
        if let (Some(policies), Ok(fields)) = (cluster_policies, summary.as_object_mut()) {
            let key = RegoValue::from("other_network_policies");
            let mut all: Vec<RegoValue> = match fields.get(&key) {
                Some(RegoValue::Array(existing)) => existing.to_vec(),
                _ => Vec::new(),
            };
            all.extend(policies.iter().map(|p| RegoValue::from(p.as_str())));
            fields.insert(key, RegoValue::from(all));
        }
        let mut fields = vec![("namespace", summary)];
        if let Some(isolates) = isolates {
            fields.push(("isolates", isolates));
        }
        if let Some(workloads) = selected {
            fields.push(("workloads", RegoValue::from(workloads)));
        }
        Some(RegoValue::from(
            fields
                .into_iter()
                .map(|(k, v)| (RegoValue::from(k), v))
                .collect::<BTreeMap<_, _>>(),
        ))
    }
}

impl Relations {
    fn namespace_mut(&mut self, scope: Scope) -> &mut Namespace {
        self.namespaces.entry(scope).or_default()
    }

    /// Where a namespaced object of `unit` relates; None for cluster-scoped objects.
    fn scope_of(&self, id: &ObjectRef, unit: UnitId) -> Option<Scope> {
        let namespace = effective_namespace(id)?;
        Some(match &id.namespace {
            None if self.isolated => Scope::Implicit(unit),
            _ => Scope::Namespace(namespace.to_string()),
        })
    }

    /// The unit whose cluster-scoped objects `unit` sees: its own, or the run's as a whole.
    fn cluster_unit(&self, unit: UnitId) -> UnitId {
        if self.isolated {
            unit
        } else {
            0
        }
    }
}

/// The fewest pods a workload runs: the HPA's floor when one targets it, except that a workload
/// scaled to zero stays at zero (the HPA leaves it alone).
fn effective_min(replicas: Option<i64>, hpa: Option<&Hpa>) -> Option<i64> {
    match (replicas, hpa) {
        (Some(0), _) => Some(0),
        (_, Some(hpa)) => Some(hpa.min_replicas),
        (replicas, None) => replicas,
    }
}

fn select(
    namespace: &Namespace,
    file: Option<usize>,
    selects: impl Fn(&Labels) -> bool,
) -> Vec<RegoValue> {
    chosen(
        &namespace.workloads,
        namespace.workloads.iter().filter(|w| selects(&w.labels)),
        |w| w.definition,
        |w| (w.kind.as_str(), w.name.as_str()),
        file,
    )
    .map(Workload::summary)
    .collect()
}

/// A Service's selector: its labels, when it has any. A Service without one (or of type
/// ExternalName) selects no pods by design: its endpoints are managed by hand or elsewhere.
fn service_selector(object: &RegoValue) -> Option<Labels> {
    let spec = &object["spec"];
    if spec["type"] == RegoValue::from("ExternalName") {
        return None;
    }
    let labels = labels_from_rego(&spec["selector"]);
    (!labels.is_empty()).then_some(labels)
}

/// `registry.example.com/shop/web:1.2@sha256:...` → `registry.example.com/shop/web`.
fn image_name(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => image,
    }
}

fn workload_of(id: &ObjectRef, name: &str, view: &RegoValue) -> Workload {
    let mut images = Vec::new();
    let mut port_names = Vec::new();
    if let RegoValue::Array(containers) = &view["all_containers"] {
        for container in containers.iter().map(|c| &c["container"]) {
            if let RegoValue::String(image) = &container["image"] {
                let image = image_name(image).to_string();
                if !images.contains(&image) {
                    images.push(image);
                }
            }
            if let RegoValue::Array(ports) = &container["ports"] {
                for port in ports.iter() {
                    if let RegoValue::String(port_name) = &port["name"] {
                        port_names.push(port_name.to_string());
                    }
                }
            }
        }
    }
    Workload {
        images,
        port_names,
        definition: Definition::default(),
        api_version: id.api_version.clone(),
        kind: id.kind.clone(),
        name: name.to_string(),
        view_name: defined_or_null(&view["name"]),
        labels: labels_from_rego(&view["pod_labels"]),
        replicas: int_of(&view["replicas"]),
        hpa: None,
    }
}

fn defined_or_null(value: &RegoValue) -> RegoValue {
    match value {
        RegoValue::Undefined => RegoValue::Null,
        value => value.clone(),
    }
}
