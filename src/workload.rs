//! The normalised workload view every rule sees as `input.workload`: which pod spec an object runs,
//! where it sits inside the object, its replicas (with Kubernetes' defaults), pod labels and every
//! container with its path. Rules never re-implement the kind-to-pod-spec mapping.

use std::collections::BTreeMap;

use regorus::Value as RegoValue;

use crate::finding::ObjectRef;
use crate::manifest::node::{Node, PathStep, Value};
use crate::namespaces::effective_namespace;
use crate::selector::{labels_from_rego, LabelSelector};

/// Where a kind keeps its pod spec, and how many pods it asks for when `spec.replicas` is unset.
struct Shape {
    pod_template: &'static [&'static str],
    replicas: Replicas,
}

enum Replicas {
    /// `spec.replicas`, defaulting to 1.
    Field,
    /// A bare Pod is one pod.
    One,
    /// DaemonSets, Jobs and CronJobs have no replica count.
    None,
}

fn shape(api_version: &str, kind: &str) -> Option<Shape> {
    let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    let template: &'static [&'static str] = &["spec", "template"];
    let (pod_template, replicas) = match (group, kind) {
        ("", "Pod") => (&[][..], Replicas::One),
        ("", "ReplicationController") => (template, Replicas::Field),
        ("apps" | "extensions", "Deployment" | "StatefulSet" | "ReplicaSet") => {
            (template, Replicas::Field)
        }
        ("apps" | "extensions", "DaemonSet") => (template, Replicas::None),
        ("batch", "Job") => (template, Replicas::None),
        ("batch", "CronJob") => (
            &["spec", "jobTemplate", "spec", "template"][..],
            Replicas::None,
        ),
        ("argoproj.io", "Rollout") => (template, Replicas::Field),
        _ => return None,
    };
    Some(Shape {
        pod_template,
        replicas,
    })
}

/// The paths of a workload's pod metadata and pod spec inside the object.
pub struct PodPaths {
    pub metadata: Vec<PathStep>,
    pub spec: Vec<PathStep>,
}

pub fn pod_paths(api_version: &str, kind: &str) -> Option<PodPaths> {
    let shape = shape(api_version, kind)?;
    let base: Vec<PathStep> = shape
        .pod_template
        .iter()
        .map(|k| PathStep::Key(k.to_string()))
        .collect();
    let mut metadata = base.clone();
    metadata.push(PathStep::Key("metadata".into()));
    let mut spec = base;
    spec.push(PathStep::Key("spec".into()));
    Some(PodPaths { metadata, spec })
}

/// Builds `input.workload` for an object, or None when it runs no pods (or its pod spec is missing,
/// as for a Rollout that points at a Deployment with `workloadRef`). `object` is `root` already
/// converted for the engine: the view shares its parts instead of converting them again.
pub fn view(root: &Node, object: &RegoValue) -> Option<RegoValue> {
    let api_version = root.get("apiVersion")?.as_str()?;
    let kind = root.get("kind")?.as_str()?;
    let shape = shape(api_version, kind)?;
    let paths = pod_paths(api_version, kind)?;
    let pod_spec = root.at(&paths.spec).filter(|n| n.as_map().is_some())?;
    let pod_spec_value = value_at(object, &paths.spec);
    let pod_meta_value = value_at(object, &paths.metadata);

    let replicas = match shape.replicas {
        Replicas::One => RegoValue::from(1i64),
        Replicas::None => RegoValue::Null,
        Replicas::Field => match root.get_path(&["spec", "replicas"]) {
            None => RegoValue::from(1i64),
            Some(n) if n.is_null() => RegoValue::from(1i64),
            Some(n) => n.to_rego(),
        },
    };

    let mut all = Vec::new();
    for (list, default_type) in [
        ("initContainers", "init"),
        ("containers", "container"),
        ("ephemeralContainers", "ephemeral"),
    ] {
        let Some(items) = pod_spec.get(list).and_then(Node::as_seq) else {
            continue;
        };
        for (index, container) in items.iter().enumerate() {
            let restarts_always =
                container.get("restartPolicy").and_then(Node::as_str) == Some("Always");
            let kind = if default_type == "init" && restarts_always {
                "sidecar"
            } else {
                default_type
            };
            let mut path: Vec<RegoValue> = paths.spec.iter().map(step_value).collect();
            path.push(RegoValue::from(list));
            path.push(RegoValue::from(index));
            let container_value = &pod_spec_value[list][index];
            all.push(object_value([
                ("type", RegoValue::from(kind)),
                ("name", defined_or_null(&container_value["name"])),
                (
                    "display_name",
                    display_name(&container_value["name"], list, index),
                ),
                ("container", container_value.clone()),
                ("path", RegoValue::from(path)),
                ("quantities", quantities(&container_value["resources"])),
            ]));
        }
    }

    let meta_field = |key: &str| match &pod_meta_value[key] {
        value @ RegoValue::Object(_) => value.clone(),
        _ => RegoValue::new_object(),
    };
    let path_value =
        |path: &[PathStep]| RegoValue::from(path.iter().map(step_value).collect::<Vec<_>>());
    let containers = match &pod_spec_value["containers"] {
        RegoValue::Undefined => RegoValue::new_array(),
        value => value.clone(),
    };
    Some(object_value([
        ("kind", RegoValue::from(kind)),
        ("api_version", RegoValue::from(api_version)),
        ("name", defined_or_null(&object["metadata"]["name"])),
        (
            "namespace",
            defined_or_null(&object["metadata"]["namespace"]),
        ),
        ("replicas", replicas),
        ("pod_spec_path", path_value(&paths.spec)),
        ("pod_metadata_path", path_value(&paths.metadata)),
        ("pod_spec", pod_spec_value.clone()),
        ("pod_labels", meta_field("labels")),
        ("pod_annotations", meta_field("annotations")),
        ("containers", containers),
        ("all_containers", RegoValue::from(all)),
        (
            "spread_terms",
            spread_terms(&pod_spec_value, &paths.spec, &meta_field("labels"), object),
        ),
    ]))
}

/// Every pod anti-affinity term and topology spread constraint, with whether its label selector
/// selects the pod's own labels (the selector semantics live in `selector`). A term that does not
/// select its own pods spreads nothing.
fn spread_terms(
    pod_spec: &RegoValue,
    spec_path: &[PathStep],
    pod_labels: &RegoValue,
    object: &RegoValue,
) -> RegoValue {
    let labels = labels_from_rego(pod_labels);
    let own_namespace = object["metadata"]["namespace"]
        .as_string()
        .map(|s| s.to_string())
        .unwrap_or_else(|_| crate::namespaces::DEFAULT_NAMESPACE.to_string());
    let mut terms = Vec::new();
    let mut push = |mechanism: &str, required: bool, term: &RegoValue, path: Vec<RegoValue>| {
        let selector = LabelSelector::from_rego(&term["labelSelector"]);
        // An affinity term counts pods of the namespaces it lists (its own when none).
        let namespaces = match (&term["namespaces"], &term["namespaceSelector"]) {
            (RegoValue::Array(list), RegoValue::Undefined | RegoValue::Null)
                if !list.is_empty() =>
            {
                list.iter()
                    .any(|n| n.as_string().is_ok_and(|n| **n == *own_namespace))
            }
            _ => true,
        };
        let topology_key = match &term["topologyKey"] {
            RegoValue::String(s) => RegoValue::String(s.clone()),
            _ => RegoValue::Null,
        };
        terms.push(object_value([
            ("mechanism", RegoValue::from(mechanism)),
            ("required", RegoValue::from(required)),
            ("topology_key", topology_key),
            ("has_selector", RegoValue::from(selector.is_some())),
            (
                "selects_own_pods",
                RegoValue::from(namespaces && selector.is_some_and(|s| s.matches(&labels))),
            ),
            ("path", RegoValue::from(path)),
        ]));
    };
    let base: Vec<RegoValue> = spec_path.iter().map(step_value).collect();
    let at = |steps: &[RegoValue]| {
        let mut path = base.clone();
        path.extend(steps.iter().cloned());
        path
    };
    let anti = &pod_spec["affinity"]["podAntiAffinity"];
    let required_key = "requiredDuringSchedulingIgnoredDuringExecution";
    let preferred_key = "preferredDuringSchedulingIgnoredDuringExecution";
    if let RegoValue::Array(items) = &anti[required_key] {
        for (i, term) in items.iter().enumerate() {
            let path = at(&[
                "affinity".into(),
                "podAntiAffinity".into(),
                required_key.into(),
                RegoValue::from(i),
            ]);
            push("pod-anti-affinity", true, term, path);
        }
    }
    if let RegoValue::Array(items) = &anti[preferred_key] {
        for (i, weighted) in items.iter().enumerate() {
            let path = at(&[
                "affinity".into(),
                "podAntiAffinity".into(),
                preferred_key.into(),
                RegoValue::from(i),
                "podAffinityTerm".into(),
            ]);
            push(
                "pod-anti-affinity",
                false,
                &weighted["podAffinityTerm"],
                path,
            );
        }
    }
    if let RegoValue::Array(items) = &pod_spec["topologySpreadConstraints"] {
        for (i, constraint) in items.iter().enumerate() {
            let required = constraint["whenUnsatisfiable"]
                .as_string()
                .map_or(true, |w| &**w != "ScheduleAnyway");
            let path = at(&["topologySpreadConstraints".into(), RegoValue::from(i)]);
            push("topology-spread", required, constraint, path);
        }
    }
    RegoValue::from(terms)
}

/// Fills in the view of every Argo Rollout that takes its pod template from a Deployment with
/// `spec.workloadRef` (`view` gives such a Rollout none: it has no template of its own). The
/// Deployment must be among `objects`, in the Rollout's namespace; `views[i]` is the view of
/// `objects[i]` as [`view`] built it. Call it once every view is built and before the relations
/// between objects are worked out (`context::Context::build`), so budgets, spreading and replica
/// rules see the Rollout's pods.
///
/// The Rollout's view takes the pod labels, annotations and spread terms from the Deployment's
/// template and the replica count from the Rollout (Argo scales the Deployment itself down). Its
/// containers are left empty and its pod spec holds only what spreading reads: the template's
/// containers and pod-level settings are the Deployment's, checked (and reported) on the
/// Deployment where they are written. Every path points at `spec.workloadRef` of the Rollout;
/// `template_from` names the Deployment.
pub fn resolve_workload_refs(objects: &[(&ObjectRef, &Node)], views: &mut [Option<RegoValue>]) {
    let mut deployments: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (index, (id, _)) in objects.iter().enumerate() {
        let group = id
            .api_version
            .rsplit_once('/')
            .map(|(g, _)| g)
            .unwrap_or("");
        if matches!(group, "apps" | "extensions") && id.kind == "Deployment" {
            if let (Some(ns), Some(name)) = (effective_namespace(id), id.name.as_ref()) {
                deployments.insert((ns.to_string(), name.clone()), index);
            }
        }
    }
    for (index, (id, root)) in objects.iter().enumerate() {
        if id.kind != "Rollout" || !id.api_version.starts_with("argoproj.io/") {
            continue;
        }
        if views.get(index).is_none_or(Option::is_some) {
            continue;
        }
        let Some((ns, name)) = deployment_reference(id, root) else {
            continue;
        };
        let Some(&target) = deployments.get(&(ns.to_string(), name.to_string())) else {
            continue;
        };
        let Some(template) = views.get(target).cloned().flatten() else {
            continue;
        };
        views[index] = Some(referenced_view(id, root, name, &template));
    }
}

/// The namespace and name of the Deployment an Argo Rollout takes its pod template from
/// (`spec.workloadRef`), if it does.
pub fn deployment_reference<'a>(id: &'a ObjectRef, root: &'a Node) -> Option<(&'a str, &'a str)> {
    if id.kind != "Rollout" || !id.api_version.starts_with("argoproj.io/") {
        return None;
    }
    let reference = root.get_path(&["spec", "workloadRef"])?;
    let kind = reference.get("kind").and_then(Node::as_str);
    let name = reference.get("name").and_then(Node::as_str)?;
    (kind == Some("Deployment")).then_some((effective_namespace(id)?, name))
}

/// The view of a Rollout whose pod template is the referenced Deployment's (`template` is that
/// Deployment's view), with the Rollout's own identity and replica count; lint and the webhook
/// (from its cache) both build it here.
pub fn referenced_view(
    id: &ObjectRef,
    root: &Node,
    target: &str,
    template: &RegoValue,
) -> RegoValue {
    let at_ref = RegoValue::from(vec![
        RegoValue::from("spec"),
        RegoValue::from("workloadRef"),
    ]);
    let replicas = match root.get_path(&["spec", "replicas"]) {
        None => RegoValue::from(1i64),
        Some(n) if n.is_null() => RegoValue::from(1i64),
        Some(n) => n.to_rego(),
    };
    let spread_terms = match &template["spread_terms"] {
        RegoValue::Array(terms) => RegoValue::from(
            terms
                .iter()
                .map(|term| {
                    let mut term = term.clone();
                    if let Ok(fields) = term.as_object_mut() {
                        fields.insert(RegoValue::from("path"), at_ref.clone());
                    }
                    term
                })
                .collect::<Vec<_>>(),
        ),
        _ => RegoValue::new_array(),
    };
    let pod_spec = &template["pod_spec"];
    let mut spread_spec = BTreeMap::new();
    for key in ["affinity", "topologySpreadConstraints"] {
        if !matches!(pod_spec[key], RegoValue::Undefined) {
            spread_spec.insert(RegoValue::from(key), pod_spec[key].clone());
        }
    }
    let text = |value: &Option<String>| value.as_deref().map_or(RegoValue::Null, RegoValue::from);
    object_value([
        ("kind", RegoValue::from(id.kind.as_str())),
        ("api_version", RegoValue::from(id.api_version.as_str())),
        ("name", text(&id.name)),
        ("namespace", text(&id.namespace)),
        ("replicas", replicas),
        ("pod_spec_path", at_ref.clone()),
        ("pod_metadata_path", at_ref.clone()),
        ("pod_spec", RegoValue::from(spread_spec)),
        ("pod_labels", template["pod_labels"].clone()),
        ("pod_annotations", template["pod_annotations"].clone()),
        ("containers", RegoValue::new_array()),
        ("all_containers", RegoValue::new_array()),
        ("spread_terms", spread_terms),
        (
            "template_from",
            object_value([
                ("kind", RegoValue::from("Deployment")),
                ("name", RegoValue::from(target)),
            ]),
        ),
    ])
}

/// `resources.requests` and `resources.limits` as exact nano-unit numbers (see `quantity`), so
/// rules compare quantities as the API server does. Values that do not parse are left out.
fn quantities(resources: &RegoValue) -> RegoValue {
    let parsed = |list: &RegoValue| -> RegoValue {
        let RegoValue::Object(entries) = list else {
            return RegoValue::new_object();
        };
        RegoValue::from(
            entries
                .iter()
                .filter_map(|(name, value)| {
                    let q = crate::quantity::from_rego(value)?;
                    Some((name.clone(), RegoValue::from(q.nanos)))
                })
                .collect::<BTreeMap<_, _>>(),
        )
    };
    object_value([
        ("requests", parsed(&resources["requests"])),
        ("limits", parsed(&resources["limits"])),
    ])
}

fn defined_or_null(value: &RegoValue) -> RegoValue {
    match value {
        RegoValue::Undefined => RegoValue::Null,
        value => value.clone(),
    }
}

/// How findings name a container: its name when that is a non-empty string, else where it is
/// (`containers[1]`). Computed once here: every finding of a container rule quotes it, and a Rego
/// helper call per finding costs more than the rest of the message.
fn display_name(name: &RegoValue, list: &str, index: usize) -> RegoValue {
    match name {
        RegoValue::String(text) if !text.is_empty() => name.clone(),
        _ => RegoValue::from(format!("{list}[{index}]")),
    }
}

fn step_value(step: &PathStep) -> RegoValue {
    match step {
        PathStep::Key(k) => RegoValue::from(k.as_str()),
        PathStep::Index(i) => RegoValue::from(*i),
    }
}

/// The part of an engine value at a path (Undefined when absent).
fn value_at(value: &RegoValue, path: &[PathStep]) -> RegoValue {
    let mut current = value;
    for step in path {
        current = match step {
            PathStep::Key(k) => &current[k.as_str()],
            PathStep::Index(i) => &current[*i],
        };
    }
    current.clone()
}

/// Builds an engine object from string keys.
pub fn object_value<const N: usize>(fields: [(&str, RegoValue); N]) -> RegoValue {
    let map: BTreeMap<RegoValue, RegoValue> = fields
        .into_iter()
        .map(|(k, v)| (RegoValue::from(k), v))
        .collect();
    RegoValue::from(map)
}

/// The container name at a finding's path, for exemptions by container.
pub fn container_at(root: &Node, path: &[PathStep]) -> Option<String> {
    let position = path.iter().position(|s| {
        matches!(s, PathStep::Key(k) if k == "containers" || k == "initContainers" || k == "ephemeralContainers")
    })?;
    let container = root.at(path.get(..position + 2)?)?;
    match &container.get("name")?.value {
        Value::String(s) => Some(s.to_string()),
        _ => None,
    }
}

/// True for node-level infrastructure: a DaemonSet whose pods share the node's network or process
/// namespace, or run a privileged container (CNI plugins, CSI node drivers, kube-proxy, node
/// agents). Such pods need host privileges by design; the `node-infrastructure` profile
/// (`config::Profile`) exempts them from the rules about those privileges.
pub fn is_node_level(root: &Node) -> bool {
    let (Some(api_version), Some(kind)) = (
        root.get("apiVersion").and_then(Node::as_str),
        root.get("kind").and_then(Node::as_str),
    ) else {
        return false;
    };
    let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    if !matches!(group, "apps" | "extensions") || kind != "DaemonSet" {
        return false;
    }
    let Some(paths) = pod_paths(api_version, kind) else {
        return false;
    };
    let Some(pod_spec) = root.at(&paths.spec) else {
        return false;
    };
    let is_true = |node: Option<&Node>| node.is_some_and(|n| n.value == Value::Bool(true));
    let host_namespace = is_true(pod_spec.get("hostNetwork")) || is_true(pod_spec.get("hostPID"));
    let privileged = ["initContainers", "containers"].iter().any(|list| {
        pod_spec
            .get(list)
            .and_then(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .any(|c| is_true(c.get_path(&["securityContext", "privileged"])))
    });
    host_namespace || privileged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rollout_with_workload_ref_takes_labels_and_spreading_from_its_deployment() {
        let deployment = node(serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"replicas": 0, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [{"name": "web", "image": "web:1"}],
                    "hostNetwork": true,
                    "topologySpreadConstraints": [{
                        "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                        "labelSelector": {"matchLabels": {"app": "web"}}
                    }]
                }
            }}
        }));
        let rollout = |namespace: &str| {
            node(serde_json::json!({
                "apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                "metadata": {"name": "web", "namespace": namespace},
                "spec": {"replicas": 4, "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}
            }))
        };
        let id = |root: &Node| ObjectRef {
            api_version: root
                .get("apiVersion")
                .and_then(Node::as_str)
                .unwrap_or_default()
                .into(),
            kind: root
                .get("kind")
                .and_then(Node::as_str)
                .unwrap_or_default()
                .into(),
            namespace: root
                .get_path(&["metadata", "namespace"])
                .and_then(Node::as_str)
                .map(String::from),
            name: root
                .get_path(&["metadata", "name"])
                .and_then(Node::as_str)
                .map(String::from),
        };
        let (same, other) = (rollout("shop"), rollout("other"));
        let roots = [&deployment, &same, &other];
        let ids: Vec<ObjectRef> = roots.iter().map(|r| id(r)).collect();
        let mut views: Vec<Option<RegoValue>> =
            roots.iter().map(|r| view(r, &r.to_rego())).collect();
        assert!(views[1].is_none(), "no template of its own");
        let objects: Vec<(&ObjectRef, &Node)> = ids.iter().zip(roots).collect();
        resolve_workload_refs(&objects, &mut views);

        let resolved = views[1].as_ref().expect("resolved from the Deployment");
        assert_eq!(resolved["kind"], RegoValue::from("Rollout"));
        assert_eq!(
            resolved["replicas"],
            RegoValue::from(4i64),
            "the Rollout's count"
        );
        assert_eq!(resolved["pod_labels"]["app"], RegoValue::from("web"));
        assert_eq!(resolved["template_from"]["name"], RegoValue::from("web"));
        let at_ref = RegoValue::from(vec![
            RegoValue::from("spec"),
            RegoValue::from("workloadRef"),
        ]);
        assert_eq!(resolved["pod_spec_path"], at_ref);
        let terms = resolved["spread_terms"].as_array().expect("terms");
        assert_eq!(terms.len(), 1);
        assert_eq!(terms[0]["selects_own_pods"], RegoValue::from(true));
        assert_eq!(terms[0]["path"], at_ref, "paths point into the Rollout");
        assert_eq!(
            resolved["all_containers"],
            RegoValue::new_array(),
            "containers are checked on the Deployment"
        );
        assert_eq!(resolved["pod_spec"]["hostNetwork"], RegoValue::Undefined);
        assert!(
            views[2].is_none(),
            "a Deployment of another namespace is not it"
        );
    }

    fn node(json: serde_json::Value) -> Node {
        Node::from_json(&json)
    }

    #[test]
    fn node_level_means_a_daemonset_with_host_namespaces_or_privileges() {
        let daemonset = |spec: serde_json::Value| {
            node(serde_json::json!({
                "apiVersion": "apps/v1", "kind": "DaemonSet",
                "metadata": {"name": "cni"},
                "spec": {"template": {"spec": spec}}
            }))
        };
        let container = serde_json::json!({"name": "agent", "image": "agent:1"});
        let privileged = serde_json::json!({"name": "agent", "image": "agent:1", "securityContext": {"privileged": true}});
        assert!(is_node_level(&daemonset(
            serde_json::json!({"hostNetwork": true, "containers": [container]})
        )));
        assert!(is_node_level(&daemonset(
            serde_json::json!({"hostPID": true, "containers": [container]})
        )));
        assert!(is_node_level(&daemonset(
            serde_json::json!({"containers": [container], "initContainers": [privileged]})
        )));
        assert!(
            !is_node_level(&daemonset(serde_json::json!({"containers": [container]}))),
            "a DaemonSet without host privileges is an ordinary workload"
        );
        assert!(
            !is_node_level(&daemonset(
                serde_json::json!({"hostNetwork": "true", "containers": [container]})
            )),
            "only the boolean counts"
        );
        let deployment = node(serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"hostNetwork": true, "containers": [container]}}}
        }));
        assert!(
            !is_node_level(&deployment),
            "only DaemonSets run one pod per node"
        );
    }
}
