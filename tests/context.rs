//! The cross-object semantics worked out in Rust and handed to the rules: label selectors, HPA
//! targets, PodDisruptionBudget and NetworkPolicy selection (with policyTypes defaulting),
//! LimitRange defaults, and whether a spread term selects its own pods. Each table row is a small
//! set of YAML documents, what the API server would make of it, and a name printed on failure.

use regorus::Value as Rego;
use seaworthy::check::Converted;
use seaworthy::context::{isolation, Context};
use seaworthy::manifest::{load_text, LoadOptions, Object};
use seaworthy::selector::{LabelSelector, Labels};

/// The objects of one lint run and the context built from them, as `lint` builds it.
struct Run {
    objects: Vec<Object>,
    converted: Vec<Converted>,
    context: Context,
}

impl Run {
    fn new(yaml: &str) -> Run {
        let loaded = load_text("context.yaml", yaml, &LoadOptions::default());
        assert!(loaded.problems.is_empty(), "{:?}\n{yaml}", loaded.problems);
        let objects = loaded.objects;
        let converted = Converted::all(&objects, None);
        let context = Context::build(objects.iter().zip(&converted).map(|(o, c)| c.entry(o)));
        Run {
            objects,
            converted,
            context,
        }
    }

    /// The object named `Kind/name` or `Kind/namespace/name`.
    fn index(&self, which: &str) -> usize {
        let parts: Vec<&str> = which.split('/').collect();
        let (kind, namespace, name) = match parts.as_slice() {
            [kind, name] => (*kind, None, *name),
            [kind, namespace, name] => (*kind, Some(*namespace), *name),
            _ => panic!("bad object reference {which}"),
        };
        let found: Vec<usize> = self
            .objects
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                o.id.kind == kind
                    && o.id.name.as_deref() == Some(name)
                    && namespace.is_none_or(|ns| o.id.namespace.as_deref() == Some(ns))
            })
            .map(|(i, _)| i)
            .collect();
        assert_eq!(found.len(), 1, "exactly one {which} in the run");
        found[0]
    }

    /// `input.workload` of a workload, with the context fields added.
    fn workload(&self, which: &str) -> Rego {
        let index = self.index(which);
        let mut view = self.converted[index]
            .view
            .clone()
            .unwrap_or_else(|| panic!("{which} has no workload view"));
        self.context.extend_view(&self.objects[index].id, &mut view);
        view
    }

    /// `input.related` of an object.
    fn related(&self, which: &str) -> Rego {
        let index = self.index(which);
        self.context
            .related(&self.objects[index].id, &self.converted[index].value)
            .unwrap_or(Rego::Null)
    }
}

fn json(text: &str) -> Rego {
    Rego::from_json_str(text).unwrap_or_else(|e| panic!("bad expected JSON {text}: {e}"))
}

/// The value without these keys (when it is an object).
fn without(value: &Rego, keys: &[&str]) -> Rego {
    let mut value = value.clone();
    if let Ok(map) = value.as_object_mut() {
        for key in keys {
            map.remove(&Rego::from(*key));
        }
    }
    value
}

fn show(value: &Rego) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("<{e}>"))
}

/// Checks every row, then fails once listing every row that did not hold (so one run shows all).
fn report(table: &str, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{table}: {} row(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ------------------------------------------------------------------------------------------------
// Label selectors

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A selector as the engine reads one from an object; `None` (not accepted) selects nothing.
fn selects(selector_json: &str, pod: &Labels) -> bool {
    LabelSelector::from_rego(&json(selector_json)).is_some_and(|s| s.matches(pod))
}

#[test]
fn label_selectors() {
    let web = labels(&[("app", "web"), ("tier", "frontend")]);
    let bare = labels(&[]);
    let empty_value = labels(&[("app", "")]);
    // (name, selector, pod labels, selected)
    let rows: Vec<(&str, &str, &Labels, bool)> = vec![
        ("empty selector selects a labelled pod", "{}", &web, true),
        (
            "empty selector selects a pod without labels",
            "{}",
            &bare,
            true,
        ),
        (
            "empty matchLabels and matchExpressions are the empty selector",
            r#"{"matchLabels": {}, "matchExpressions": []}"#,
            &bare,
            true,
        ),
        (
            "matchLabels equal",
            r#"{"matchLabels": {"app": "web"}}"#,
            &web,
            true,
        ),
        (
            "matchLabels other value",
            r#"{"matchLabels": {"app": "api"}}"#,
            &web,
            false,
        ),
        (
            "matchLabels key missing",
            r#"{"matchLabels": {"team": "a"}}"#,
            &web,
            false,
        ),
        (
            "matchLabels pairs are ANDed",
            r#"{"matchLabels": {"app": "web", "tier": "backend"}}"#,
            &web,
            false,
        ),
        (
            "matchLabels empty value matches an empty label value",
            r#"{"matchLabels": {"app": ""}}"#,
            &empty_value,
            true,
        ),
        (
            "matchLabels empty value does not match a missing key",
            r#"{"matchLabels": {"app": ""}}"#,
            &bare,
            false,
        ),
        (
            "In with the value",
            r#"{"matchExpressions": [{"key": "tier", "operator": "In", "values": ["edge", "frontend"]}]}"#,
            &web,
            true,
        ),
        (
            "In without the value",
            r#"{"matchExpressions": [{"key": "tier", "operator": "In", "values": ["backend"]}]}"#,
            &web,
            false,
        ),
        (
            "In on a missing key",
            r#"{"matchExpressions": [{"key": "team", "operator": "In", "values": ["a"]}]}"#,
            &web,
            false,
        ),
        (
            "NotIn with the value",
            r#"{"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["frontend"]}]}"#,
            &web,
            false,
        ),
        (
            "NotIn with another value",
            r#"{"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["backend"]}]}"#,
            &web,
            true,
        ),
        (
            "NotIn matches a pod without the key",
            r#"{"matchExpressions": [{"key": "track", "operator": "NotIn", "values": ["canary"]}]}"#,
            &web,
            true,
        ),
        (
            "Exists with the key",
            r#"{"matchExpressions": [{"key": "app", "operator": "Exists"}]}"#,
            &web,
            true,
        ),
        (
            "Exists with an empty value",
            r#"{"matchExpressions": [{"key": "app", "operator": "Exists"}]}"#,
            &empty_value,
            true,
        ),
        (
            "Exists without the key",
            r#"{"matchExpressions": [{"key": "team", "operator": "Exists"}]}"#,
            &web,
            false,
        ),
        (
            "DoesNotExist without the key",
            r#"{"matchExpressions": [{"key": "team", "operator": "DoesNotExist"}]}"#,
            &web,
            true,
        ),
        (
            "DoesNotExist with the key",
            r#"{"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}"#,
            &web,
            false,
        ),
        (
            "matchLabels and matchExpressions are ANDed (both hold)",
            r#"{"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend"]}]}"#,
            &web,
            true,
        ),
        (
            "matchLabels and matchExpressions are ANDed (one fails)",
            r#"{"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["frontend"]}]}"#,
            &web,
            false,
        ),
        (
            "expressions are ANDed",
            r#"{"matchExpressions": [{"key": "app", "operator": "Exists"}, {"key": "team", "operator": "Exists"}]}"#,
            &web,
            false,
        ),
        // What the API server would reject selects nothing.
        (
            "invalid: In without values",
            r#"{"matchExpressions": [{"key": "tier", "operator": "In", "values": []}]}"#,
            &web,
            false,
        ),
        (
            "invalid: NotIn without values (would otherwise match everything)",
            r#"{"matchExpressions": [{"key": "tier", "operator": "NotIn"}]}"#,
            &web,
            false,
        ),
        (
            "invalid: Exists with values",
            r#"{"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["web"]}]}"#,
            &web,
            false,
        ),
        (
            "invalid: DoesNotExist with values (would otherwise match)",
            r#"{"matchExpressions": [{"key": "team", "operator": "DoesNotExist", "values": ["a"]}]}"#,
            &web,
            false,
        ),
        (
            "invalid: unknown operator",
            r#"{"matchExpressions": [{"key": "app", "operator": "Equals", "values": ["web"]}]}"#,
            &web,
            false,
        ),
        (
            "invalid: lower-case operator",
            r#"{"matchExpressions": [{"key": "app", "operator": "in", "values": ["web"]}]}"#,
            &web,
            false,
        ),
        (
            "invalid: unknown field",
            r#"{"matchLabel": {"app": "web"}}"#,
            &web,
            false,
        ),
        ("invalid: a string", r#""app=web""#, &web, false),
        ("null selects nothing", "null", &web, false),
        // A field that is null is a field left out (Go decodes null into the zero value).
        (
            "matchLabels: null is an empty matchLabels",
            r#"{"matchLabels": null}"#,
            &web,
            true,
        ),
        (
            "matchExpressions: null with matchLabels",
            r#"{"matchLabels": {"app": "web"}, "matchExpressions": null}"#,
            &web,
            true,
        ),
        (
            "Exists with values: null",
            r#"{"matchExpressions": [{"key": "app", "operator": "Exists", "values": null}]}"#,
            &web,
            true,
        ),
    ];
    let mut failures = Vec::new();
    for (name, selector, pod, expected) in rows {
        let got = selects(selector, pod);
        if got != expected {
            failures.push(format!(
                "  {name}: selector {selector} on {pod:?}: expected {expected}, got {got}"
            ));
        }
    }
    report("label selectors", failures);
}

#[test]
fn missing_selector_is_none_and_empty_is_some() {
    assert_eq!(LabelSelector::from_rego(&Rego::Undefined), None);
    let empty = LabelSelector::from_rego(&json("{}")).expect("{} is a valid selector");
    assert!(empty.is_empty());
    assert!(empty.matches(&Labels::new()));
}

// ------------------------------------------------------------------------------------------------
// HorizontalPodAutoscaler targets

const WEB_DEPLOYMENT: &str = "---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
        tier: frontend
    spec:
      containers:
        - name: web
          image: nginx
";

fn hpa(api_version: &str, namespace: &str, name: &str, target: &str, min: Option<i64>) -> String {
    let min = min.map_or(String::new(), |m| format!("  minReplicas: {m}\n"));
    let namespace = if namespace.is_empty() {
        String::new()
    } else {
        format!("  namespace: {namespace}\n")
    };
    format!(
        "---\napiVersion: {api_version}\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: {name}\n{namespace}spec:\n  scaleTargetRef:\n{target}{min}  maxReplicas: 10\n"
    )
}

fn target(api_version: Option<&str>, kind: &str, name: &str) -> String {
    let api_version = api_version.map_or(String::new(), |v| format!("    apiVersion: {v}\n"));
    format!("{api_version}    kind: {kind}\n    name: {name}\n")
}

#[test]
fn hpa_targets() {
    let web = || target(Some("apps/v1"), "Deployment", "web");
    // (name, extra objects, the workload, expected hpa, expected min_replicas)
    let rows: Vec<(&str, String, &str, &str, &str)> = vec![
        ("no HPA", String::new(), "Deployment/web", "null", "3"),
        (
            "autoscaling/v2 HPA on the Deployment",
            hpa("autoscaling/v2", "shop", "web", &web(), Some(2)),
            "Deployment/web",
            r#"{"name": "web", "min_replicas": 2, "max_replicas": 10}"#,
            "2",
        ),
        (
            "autoscaling/v1 HPA on the Deployment",
            hpa("autoscaling/v1", "shop", "web", &web(), Some(4)),
            "Deployment/web",
            r#"{"name": "web", "min_replicas": 4, "max_replicas": 10}"#,
            "4",
        ),
        (
            "minReplicas defaults to 1",
            hpa("autoscaling/v2", "shop", "web", &web(), None),
            "Deployment/web",
            r#"{"name": "web", "min_replicas": 1, "max_replicas": 10}"#,
            "1",
        ),
        (
            "another version of the same group matches",
            hpa(
                "autoscaling/v2",
                "shop",
                "web",
                &target(Some("apps/v1beta2"), "Deployment", "web"),
                Some(2),
            ),
            "Deployment/web",
            r#"{"name": "web", "min_replicas": 2, "max_replicas": 10}"#,
            "2",
        ),
        (
            "wrong kind",
            hpa(
                "autoscaling/v2",
                "shop",
                "web",
                &target(Some("apps/v1"), "StatefulSet", "web"),
                Some(2),
            ),
            "Deployment/web",
            "null",
            "3",
        ),
        (
            "wrong name",
            hpa(
                "autoscaling/v2",
                "shop",
                "web",
                &target(Some("apps/v1"), "Deployment", "api"),
                Some(2),
            ),
            "Deployment/web",
            "null",
            "3",
        ),
        (
            "wrong group (an Argo Rollout named web)",
            hpa(
                "autoscaling/v2",
                "shop",
                "web",
                &target(Some("argoproj.io/v1alpha1"), "Deployment", "web"),
                Some(2),
            ),
            "Deployment/web",
            "null",
            "3",
        ),
        (
            // The HPA controller parses a missing apiVersion as the core group (""), where there is
            // no Deployment: it cannot scale the target.
            "no apiVersion is the core group, not apps",
            hpa(
                "autoscaling/v2",
                "shop",
                "web",
                &target(None, "Deployment", "web"),
                Some(2),
            ),
            "Deployment/web",
            "null",
            "3",
        ),
        (
            "no apiVersion is the core group: a ReplicationController matches",
            format!(
                "---\napiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: legacy\n  namespace: shop\nspec:\n  replicas: 4\n  template:\n    metadata:\n      labels: {{app: legacy}}\n    spec:\n      containers: [{{name: legacy, image: nginx}}]\n{}",
                hpa(
                    "autoscaling/v1",
                    "shop",
                    "legacy",
                    &target(None, "ReplicationController", "legacy"),
                    Some(2),
                )
            ),
            "ReplicationController/legacy",
            r#"{"name": "legacy", "min_replicas": 2, "max_replicas": 10}"#,
            "2",
        ),
        (
            "HPA in another namespace",
            hpa("autoscaling/v2", "other", "web", &web(), Some(2)),
            "Deployment/web",
            "null",
            "3",
        ),
        (
            "HPA without a namespace is in default, not shop",
            hpa("autoscaling/v2", "", "web", &web(), Some(2)),
            "Deployment/web",
            "null",
            "3",
        ),
        (
            "two HPAs on one target: the lower minReplicas",
            format!(
                "{}{}",
                hpa("autoscaling/v2", "shop", "web-a", &web(), Some(5)),
                hpa("autoscaling/v2", "shop", "web-b", &web(), Some(2))
            ),
            "Deployment/web",
            r#"{"name": "web-b", "min_replicas": 2, "max_replicas": 10}"#,
            "2",
        ),
        (
            "an HPA on a Rollout",
            format!(
                "---\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 6\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers: [{{name: web, image: nginx}}]\n{}",
                hpa(
                    "autoscaling/v2",
                    "shop",
                    "web-rollout",
                    &target(Some("argoproj.io/v1alpha1"), "Rollout", "web"),
                    Some(3),
                )
            ),
            "Rollout/web",
            r#"{"name": "web-rollout", "min_replicas": 3, "max_replicas": 10}"#,
            "3",
        ),
        (
            "the Deployment is not the Rollout's target",
            hpa(
                "autoscaling/v2",
                "shop",
                "web-rollout",
                &target(Some("argoproj.io/v1alpha1"), "Rollout", "web"),
                Some(3),
            ),
            "Deployment/web",
            "null",
            "3",
        ),
        (
            "both without a namespace meet in default",
            format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers: [{{name: api, image: nginx}}]\n{}",
                hpa(
                    "autoscaling/v2",
                    "",
                    "api",
                    &target(Some("apps/v1"), "Deployment", "api"),
                    Some(2),
                )
            ),
            "Deployment/api",
            r#"{"name": "api", "min_replicas": 2, "max_replicas": 10}"#,
            "2",
        ),
        (
            "explicit namespace default meets an HPA without one",
            format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: default\nspec:\n  template:\n    spec:\n      containers: [{{name: api, image: nginx}}]\n{}",
                hpa(
                    "autoscaling/v2",
                    "",
                    "api",
                    &target(Some("apps/v1"), "Deployment", "api"),
                    Some(2),
                )
            ),
            "Deployment/api",
            r#"{"name": "api", "min_replicas": 2, "max_replicas": 10}"#,
            "2",
        ),
    ];
    let mut failures = Vec::new();
    for (name, extra, which, expected_hpa, expected_min) in rows {
        let run = Run::new(&format!("{WEB_DEPLOYMENT}{extra}"));
        let view = run.workload(which);
        // The scaling targets (`utilization`) are the autoscaling rules' to test.
        let hpa = &without(&view["hpa"], &["utilization"]);
        let min = &view["min_replicas"];
        if *hpa != json(expected_hpa) || *min != json(expected_min) {
            failures.push(format!(
                "  {name}: expected hpa {expected_hpa}, min_replicas {expected_min}; got {}, {}",
                show(hpa),
                show(min)
            ));
        }
    }
    report("HPA targets", failures);
}

// ------------------------------------------------------------------------------------------------
// PodDisruptionBudgets

fn pdb(api_version: &str, namespace: &str, spec: &str) -> String {
    format!(
        "---\napiVersion: {api_version}\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n  namespace: {namespace}\nspec:\n{spec}"
    )
}

#[test]
fn pdb_selection() {
    let web_selector = "  minAvailable: 1\n  selector:\n    matchLabels:\n      app: web\n";
    // (name, PDB, the PDB's summary on the workload or "none")
    let rows: Vec<(&str, String, &str)> = vec![
        (
            "policy/v1 matchLabels",
            pdb("policy/v1", "shop", web_selector),
            r#"{"name": "web", "min_available": 1, "max_unavailable": null}"#,
        ),
        (
            "policy/v1beta1 matchLabels",
            pdb("policy/v1beta1", "shop", web_selector),
            r#"{"name": "web", "min_available": 1, "max_unavailable": null}"#,
        ),
        (
            "maxUnavailable as a percentage",
            pdb(
                "policy/v1",
                "shop",
                "  maxUnavailable: 25%\n  selector:\n    matchLabels:\n      app: web\n",
            ),
            r#"{"name": "web", "min_available": null, "max_unavailable": "25%"}"#,
        ),
        (
            "matchExpressions",
            pdb(
                "policy/v1",
                "shop",
                "  minAvailable: 1\n  selector:\n    matchExpressions:\n      - {key: tier, operator: In, values: [frontend]}\n",
            ),
            r#"{"name": "web", "min_available": 1, "max_unavailable": null}"#,
        ),
        (
            "policy/v1 empty selector selects every pod",
            pdb("policy/v1", "shop", "  minAvailable: 1\n  selector: {}\n"),
            r#"{"name": "web", "min_available": 1, "max_unavailable": null}"#,
        ),
        (
            "policy/v1beta1 empty selector selects no pod",
            pdb("policy/v1beta1", "shop", "  minAvailable: 1\n  selector: {}\n"),
            "none",
        ),
        (
            "null selector selects no pod",
            pdb("policy/v1", "shop", "  minAvailable: 1\n  selector: null\n"),
            "none",
        ),
        (
            "missing selector selects no pod",
            pdb("policy/v1", "shop", "  minAvailable: 1\n"),
            "none",
        ),
        (
            "other labels",
            pdb(
                "policy/v1",
                "shop",
                "  minAvailable: 1\n  selector:\n    matchLabels:\n      app: api\n",
            ),
            "none",
        ),
        (
            "the Deployment's selector labels are not enough: all of matchLabels must hold",
            pdb(
                "policy/v1",
                "shop",
                "  minAvailable: 1\n  selector:\n    matchLabels:\n      app: web\n      tier: backend\n",
            ),
            "none",
        ),
        (
            "another namespace, matching labels",
            pdb("policy/v1", "other", web_selector),
            "none",
        ),
        (
            "another namespace, empty selector",
            pdb("policy/v1", "other", "  minAvailable: 1\n  selector: {}\n"),
            "none",
        ),
    ];
    let mut failures = Vec::new();
    for (name, extra, expected) in rows {
        let run = Run::new(&format!("{WEB_DEPLOYMENT}{extra}"));
        let pdbs = run.workload("Deployment/web")["pdbs"].clone();
        let expected_pdbs = if expected == "none" {
            json("[]")
        } else {
            json(&format!("[{expected}]"))
        };
        if pdbs != expected_pdbs {
            failures.push(format!(
                "  {name}: workload pdbs: expected {}, got {}",
                show(&expected_pdbs),
                show(&pdbs)
            ));
        }
        // The PDB's side: the workloads it selects.
        let selected = run.related("PodDisruptionBudget/web")["workloads"].clone();
        let names: Vec<String> = match &selected {
            Rego::Array(items) => items.iter().map(|w| show(&w["name"])).collect(),
            other => vec![format!("not a list: {}", show(other))],
        };
        let expected_names: Vec<String> = if expected == "none" {
            vec![]
        } else {
            vec![r#""web""#.to_string()]
        };
        if names != expected_names {
            failures.push(format!(
                "  {name}: related.workloads: expected {expected_names:?}, got {names:?}"
            ));
        }
    }
    report("PDB selection", failures);
}

#[test]
fn pdb_related_workloads_carry_replicas_and_hpa() {
    let run = Run::new(&format!(
        "{WEB_DEPLOYMENT}{}{}",
        pdb(
            "policy/v1",
            "shop",
            "  minAvailable: 1\n  selector:\n    matchLabels:\n      app: web\n"
        ),
        hpa(
            "autoscaling/v2",
            "shop",
            "web",
            &target(Some("apps/v1"), "Deployment", "web"),
            Some(2)
        )
    ));
    let related = run.related("PodDisruptionBudget/web");
    // Labels, images, port names and scaling targets are the Service and autoscaling rules' to test.
    let workloads = match &related["workloads"] {
        Rego::Array(items) => Rego::from(
            items
                .iter()
                .map(|w| {
                    let mut w = without(w, &["labels", "images", "port_names"]);
                    if let Ok(map) = w.as_object_mut() {
                        let key = Rego::from("hpa");
                        if let Some(hpa) = map.get(&key).map(|h| without(h, &["utilization"])) {
                            map.insert(key, hpa);
                        }
                    }
                    w
                })
                .collect::<Vec<_>>(),
        ),
        other => other.clone(),
    };
    assert_eq!(
        workloads,
        json(
            r#"[{"api_version": "apps/v1", "kind": "Deployment", "name": "web", "replicas": 3,
                 "min_replicas": 2, "hpa": {"name": "web", "min_replicas": 2, "max_replicas": 10}}]"#
        ),
        "{}",
        show(&related)
    );
}

// ------------------------------------------------------------------------------------------------
// NetworkPolicies

#[test]
fn network_policy_types_defaulting() {
    // (name, spec, (isolates ingress, isolates egress)), as SetDefaults_NetworkPolicySpec: when
    // policyTypes is empty, Ingress, plus Egress when there are egress rules.
    let rows: Vec<(&str, &str, (bool, bool))> = vec![
        ("no policyTypes, no rules", "{}", (true, false)),
        (
            "no policyTypes, ingress rules",
            r#"{"ingress": [{}]}"#,
            (true, false),
        ),
        (
            "no policyTypes, egress rules",
            r#"{"egress": [{"to": [{"podSelector": {}}]}]}"#,
            (true, true),
        ),
        (
            "no policyTypes, egress: [] present but empty",
            r#"{"egress": []}"#,
            (true, false),
        ),
        (
            "no policyTypes, egress: null",
            r#"{"egress": null}"#,
            (true, false),
        ),
        (
            "policyTypes: null, egress rules",
            r#"{"policyTypes": null, "egress": [{}]}"#,
            (true, true),
        ),
        (
            "explicit [Egress] only",
            r#"{"policyTypes": ["Egress"]}"#,
            (false, true),
        ),
        (
            "explicit [Egress] with ingress rules (ignored)",
            r#"{"policyTypes": ["Egress"], "ingress": [{}]}"#,
            (false, true),
        ),
        (
            "explicit [Ingress] with egress rules (ignored)",
            r#"{"policyTypes": ["Ingress"], "egress": [{}]}"#,
            (true, false),
        ),
        (
            "explicit [Ingress, Egress] without rules",
            r#"{"policyTypes": ["Ingress", "Egress"]}"#,
            (true, true),
        ),
        // len(policyTypes) == 0 is defaulted like an unset field (a template rendering an empty
        // list gives this).
        (
            "policyTypes: [] is defaulted",
            r#"{"policyTypes": []}"#,
            (true, false),
        ),
        (
            "policyTypes: [] with egress rules is defaulted",
            r#"{"policyTypes": [], "egress": [{}]}"#,
            (true, true),
        ),
    ];
    let mut failures = Vec::new();
    for (name, spec, expected) in rows {
        let got = isolation(&json(spec));
        if got != expected {
            failures.push(format!(
                "  {name}: spec {spec}: expected (ingress, egress) {expected:?}, got {got:?}"
            ));
        }
    }
    report("policyTypes defaulting", failures);
}

fn network_policy(namespace: &str, name: &str, spec: &str) -> String {
    let namespace = if namespace.is_empty() {
        String::new()
    } else {
        format!("  namespace: {namespace}\n")
    };
    format!(
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}\n{namespace}spec:\n{spec}"
    )
}

#[test]
fn network_policy_selection() {
    let web = "  podSelector:\n    matchLabels:\n      app: web\n";
    // (name, policies, expected input.workload.network_policies of the web Deployment)
    let rows: Vec<(&str, String, &str)> = vec![
        ("no policy", String::new(), "[]"),
        (
            "matchLabels, no policyTypes, no rules: ingress",
            network_policy("shop", "np", web),
            r#"[{"name": "np", "ingress": true, "egress": false}]"#,
        ),
        (
            "egress rules, no policyTypes: ingress and egress",
            network_policy(
                "shop",
                "np",
                &format!("{web}  egress:\n    - to:\n        - podSelector: {{}}\n"),
            ),
            r#"[{"name": "np", "ingress": true, "egress": true}]"#,
        ),
        (
            "explicit [Egress] only",
            network_policy("shop", "np", &format!("{web}  policyTypes: [Egress]\n")),
            r#"[{"name": "np", "ingress": false, "egress": true}]"#,
        ),
        (
            "egress: [] present but empty",
            network_policy("shop", "np", &format!("{web}  egress: []\n")),
            r#"[{"name": "np", "ingress": true, "egress": false}]"#,
        ),
        (
            "empty podSelector selects every pod",
            network_policy("shop", "np", "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n"),
            r#"[{"name": "np", "ingress": true, "egress": true}]"#,
        ),
        (
            "missing podSelector selects every pod",
            network_policy("shop", "np", "  policyTypes: [Ingress]\n"),
            r#"[{"name": "np", "ingress": true, "egress": false}]"#,
        ),
        (
            "podSelector: null selects every pod",
            network_policy("shop", "np", "  podSelector: null\n"),
            r#"[{"name": "np", "ingress": true, "egress": false}]"#,
        ),
        (
            "podSelector with matchLabels: null selects every pod",
            network_policy("shop", "np", "  podSelector:\n    matchLabels: null\n"),
            r#"[{"name": "np", "ingress": true, "egress": false}]"#,
        ),
        (
            "policyTypes: [] with egress rules is defaulted to [Ingress, Egress]",
            network_policy(
                "shop",
                "np",
                &format!("{web}  policyTypes: []\n  egress:\n    - to:\n        - podSelector: {{}}\n"),
            ),
            r#"[{"name": "np", "ingress": true, "egress": true}]"#,
        ),
        (
            "matchExpressions podSelector",
            network_policy(
                "shop",
                "np",
                "  podSelector:\n    matchExpressions:\n      - {key: tier, operator: In, values: [frontend, edge]}\n      - {key: track, operator: NotIn, values: [canary]}\n",
            ),
            r#"[{"name": "np", "ingress": true, "egress": false}]"#,
        ),
        (
            "matchExpressions that exclude the pods",
            network_policy(
                "shop",
                "np",
                "  podSelector:\n    matchExpressions:\n      - {key: tier, operator: NotIn, values: [frontend]}\n",
            ),
            "[]",
        ),
        (
            "a podSelector the API would reject selects nothing",
            network_policy(
                "shop",
                "np",
                "  podSelector:\n    matchExpressions:\n      - {key: tier, operator: In}\n",
            ),
            "[]",
        ),
        (
            "the Deployment's own labels do not count, only the pod template's",
            network_policy("shop", "np", "  podSelector:\n    matchLabels:\n      owner: team-a\n"),
            "[]",
        ),
        (
            "a policy in another namespace does not count",
            network_policy("other", "np", "  podSelector: {}\n"),
            "[]",
        ),
        (
            "a policy without a namespace is in default, not shop",
            network_policy("", "np", "  podSelector: {}\n"),
            "[]",
        ),
        (
            "policies add up",
            format!(
                "{}{}{}",
                network_policy("shop", "a-egress", &format!("{web}  policyTypes: [Egress]\n")),
                network_policy("shop", "b-deny", "  podSelector: {}\n"),
                network_policy("other", "c-elsewhere", "  podSelector: {}\n"),
            ),
            r#"[{"name": "a-egress", "ingress": false, "egress": true},
                {"name": "b-deny", "ingress": true, "egress": false}]"#,
        ),
        (
            "a Calico NetworkPolicy (another group) is not a Kubernetes NetworkPolicy",
            "---\napiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: calico\n  namespace: shop\nspec:\n  selector: all()\n  types: [Ingress]\n".to_string(),
            "[]",
        ),
    ];
    let owned = WEB_DEPLOYMENT.replace(
        "  namespace: shop\n",
        "  namespace: shop\n  labels:\n    owner: team-a\n",
    );
    let mut failures = Vec::new();
    for (name, extra, expected) in rows {
        let run = Run::new(&format!("{owned}{extra}"));
        let got = run.workload("Deployment/web")["network_policies"].clone();
        if got != json(expected) {
            failures.push(format!(
                "  {name}: expected {}, got {}",
                show(&json(expected)),
                show(&got)
            ));
        }
    }
    report("NetworkPolicy selection", failures);
}

const API_DEPLOYMENT: &str = "
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
        - name: api
          image: nginx
";

#[test]
fn namespace_summary() {
    // (name, objects, the object whose input.related.namespace is read, expected summary)
    let rows: Vec<(&str, String, &str, &str)> = vec![
        (
            "workloads, no policy, Namespace not declared: the first workload is named",
            format!("{WEB_DEPLOYMENT}{API_DEPLOYMENT}"),
            "Deployment/api",
            r#"{"name": "shop", "declared": false, "workloads": 2,
                "first_workload": {"api_version": "apps/v1", "kind": "Deployment", "name": "web"},
                "network_policies": [], "other_network_policies": [], "default_deny": {"ingress": [], "egress": []}}"#,
        ),
        (
            "the Namespace object sees its own namespace",
            format!(
                "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n{WEB_DEPLOYMENT}"
            ),
            "Namespace/shop",
            r#"{"name": "shop", "declared": true, "workloads": 1,
                "first_workload": {"api_version": "apps/v1", "kind": "Deployment", "name": "web"},
                "network_policies": [], "other_network_policies": [], "default_deny": {"ingress": [], "egress": []}}"#,
        ),
        (
            "a declared namespace without workloads",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: empty\n".to_string(),
            "Namespace/empty",
            r#"{"name": "empty", "declared": true, "workloads": 0, "first_workload": null,
                "network_policies": [], "other_network_policies": [], "default_deny": {"ingress": [], "egress": []}}"#,
        ),
        (
            "default-deny lists: empty or missing podSelector, by direction",
            format!(
                "{WEB_DEPLOYMENT}{}{}{}{}{}",
                network_policy("shop", "deny-ingress", "  podSelector: {}\n"),
                network_policy("shop", "deny-egress", "  podSelector: {}\n  policyTypes: [Egress]\n"),
                network_policy("shop", "deny-both", "  policyTypes: [Ingress, Egress]\n"),
                network_policy("shop", "web-only", "  podSelector:\n    matchLabels:\n      app: web\n"),
                network_policy("other", "elsewhere", "  podSelector: {}\n"),
            ),
            "Deployment/web",
            r#"{"name": "shop", "declared": false, "workloads": 1,
                "first_workload": {"api_version": "apps/v1", "kind": "Deployment", "name": "web"},
                "network_policies": ["deny-ingress", "deny-egress", "deny-both", "web-only"],
                "other_network_policies": [], "default_deny": {"ingress": ["deny-ingress", "deny-both"],
                                 "egress": ["deny-egress", "deny-both"]}}"#,
        ),
        (
            "a namespace holding only a policy",
            network_policy("lonely", "np", "  podSelector: {}\n"),
            "NetworkPolicy/np",
            r#"{"name": "lonely", "declared": false, "workloads": 0, "first_workload": null,
                "network_policies": ["np"], "other_network_policies": [], "default_deny": {"ingress": ["np"], "egress": []}}"#,
        ),
        (
            "an allow-all policy with an empty podSelector is no default deny",
            format!(
                "{WEB_DEPLOYMENT}{}",
                network_policy("shop", "allow-all", "  podSelector: {}\n  ingress:\n    - {}\n"),
            ),
            "Deployment/web",
            r#"{"name": "shop", "declared": false, "workloads": 1,
                "first_workload": {"api_version": "apps/v1", "kind": "Deployment", "name": "web"},
                "network_policies": ["allow-all"], "other_network_policies": [],
                "default_deny": {"ingress": [], "egress": []}}"#,
        ),
        (
            "policies of other APIs: namespaced ones in their namespace, cluster-wide ones everywhere",
            format!(
                "{WEB_DEPLOYMENT}---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: lock\n  namespace: shop\n---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: theirs\n  namespace: other\n---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: deny-all\n"
            ),
            "Deployment/web",
            r#"{"name": "shop", "declared": false, "workloads": 1,
                "first_workload": {"api_version": "apps/v1", "kind": "Deployment", "name": "web"},
                "network_policies": [],
                "other_network_policies": ["CiliumNetworkPolicy/lock", "GlobalNetworkPolicy/deny-all"],
                "default_deny": {"ingress": [], "egress": []}}"#,
        ),
        (
            "objects without a namespace are in default",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: [{name: c, image: nginx}]\n".to_string(),
            "Pod/p",
            r#"{"name": "default", "declared": false, "workloads": 1,
                "first_workload": {"api_version": "v1", "kind": "Pod", "name": "p"},
                "network_policies": [], "other_network_policies": [], "default_deny": {"ingress": [], "egress": []}}"#,
        ),
    ];
    let mut failures = Vec::new();
    for (name, objects, which, expected) in rows {
        let run = Run::new(&objects);
        let got = run.related(which)["namespace"].clone();
        if got != json(expected) {
            failures.push(format!(
                "  {name}: expected {}, got {}",
                show(&json(expected)),
                show(&got)
            ));
        }
    }
    report("namespace summary", failures);
}

#[test]
fn network_policy_related_workloads() {
    // (name, policy spec, names of the shop workloads it selects)
    let rows: Vec<(&str, &str, &[&str])> =
        vec![
        ("empty podSelector", "  podSelector: {}\n", &["web", "api"]),
        ("missing podSelector", "  policyTypes: [Ingress]\n", &["web", "api"]),
        (
            "matchLabels",
            "  podSelector:\n    matchLabels:\n      app: api\n",
            &["api"],
        ),
        (
            "DoesNotExist",
            "  podSelector:\n    matchExpressions:\n      - {key: tier, operator: DoesNotExist}\n",
            &["api"],
        ),
        (
            "selects nothing",
            "  podSelector:\n    matchLabels:\n      app: cart\n",
            &[],
        ),
    ];
    let mut failures = Vec::new();
    for (name, spec, expected) in rows {
        let run = Run::new(&format!(
            "{WEB_DEPLOYMENT}{API_DEPLOYMENT}{}",
            network_policy("shop", "np", spec)
        ));
        let got: Vec<String> = match &run.related("NetworkPolicy/np")["workloads"] {
            Rego::Array(items) => items
                .iter()
                .map(|w| {
                    w["name"]
                        .as_string()
                        .map(|s| s.to_string())
                        .unwrap_or_default()
                })
                .collect(),
            other => vec![format!("not a list: {}", show(other))],
        };
        if got != expected {
            failures.push(format!("  {name}: expected {expected:?}, got {got:?}"));
        }
    }
    report("NetworkPolicy related workloads", failures);
}

// ------------------------------------------------------------------------------------------------
// LimitRange defaults

fn limit_range(namespace: &str, name: &str, items: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: LimitRange\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  limits:\n{items}"
    )
}

#[test]
fn limit_range_defaults() {
    // (name, LimitRanges, expected input.workload.limit_range of the web Deployment)
    let rows: Vec<(&str, String, &str)> = vec![
        (
            "no LimitRange",
            String::new(),
            r#"{"names": [], "limits": {}, "requests": {}}"#,
        ),
        (
            "default and defaultRequest as written",
            limit_range(
                "shop",
                "lr",
                "    - type: Container\n      default: {cpu: 500m, memory: 512Mi}\n      defaultRequest: {cpu: 100m, memory: 256Mi}\n",
            ),
            r#"{"names": ["lr"], "limits": {"cpu": "500m", "memory": "512Mi"},
                "requests": {"cpu": "100m", "memory": "256Mi"}}"#,
        ),
        (
            "defaultRequest falls back to default",
            limit_range("shop", "lr", "    - type: Container\n      default: {memory: 512Mi}\n"),
            r#"{"names": ["lr"], "limits": {"memory": "512Mi"}, "requests": {"memory": "512Mi"}}"#,
        ),
        (
            "default falls back to max, and defaultRequest to that default",
            limit_range("shop", "lr", "    - type: Container\n      max: {memory: 1Gi, cpu: 2}\n"),
            r#"{"names": ["lr"], "limits": {"cpu": 2, "memory": "1Gi"},
                "requests": {"cpu": 2, "memory": "1Gi"}}"#,
        ),
        (
            "defaultRequest falls back to min (when there is no default)",
            limit_range("shop", "lr", "    - type: Container\n      min: {cpu: 50m}\n"),
            r#"{"names": ["lr"], "limits": {}, "requests": {"cpu": "50m"}}"#,
        ),
        (
            "default comes before min for defaultRequest",
            limit_range(
                "shop",
                "lr",
                "    - type: Container\n      default: {cpu: 500m}\n      min: {cpu: 50m}\n",
            ),
            r#"{"names": ["lr"], "limits": {"cpu": "500m"}, "requests": {"cpu": "500m"}}"#,
        ),
        (
            "explicit default beats max",
            limit_range(
                "shop",
                "lr",
                "    - type: Container\n      default: {cpu: 500m}\n      max: {cpu: 2}\n",
            ),
            r#"{"names": ["lr"], "limits": {"cpu": "500m"}, "requests": {"cpu": "500m"}}"#,
        ),
        (
            "explicit defaultRequest beats default and min",
            limit_range(
                "shop",
                "lr",
                "    - type: Container\n      default: {cpu: 500m}\n      defaultRequest: {cpu: 200m}\n      min: {cpu: 50m}\n",
            ),
            r#"{"names": ["lr"], "limits": {"cpu": "500m"}, "requests": {"cpu": "200m"}}"#,
        ),
        (
            "type Pod and PersistentVolumeClaim items give containers nothing",
            limit_range(
                "shop",
                "lr",
                "    - type: Pod\n      max: {cpu: 4}\n    - type: PersistentVolumeClaim\n      min: {storage: 1Gi}\n",
            ),
            r#"{"names": [], "limits": {}, "requests": {}}"#,
        ),
        (
            "a LimitRange in another namespace",
            limit_range("other", "lr", "    - type: Container\n      default: {cpu: 500m}\n"),
            r#"{"names": [], "limits": {}, "requests": {}}"#,
        ),
        (
            "two LimitRanges add up",
            format!(
                "{}{}",
                limit_range("shop", "cpu", "    - type: Container\n      default: {cpu: 500m}\n"),
                limit_range("shop", "mem", "    - type: Container\n      defaultRequest: {memory: 128Mi}\n"),
            ),
            r#"{"names": ["cpu", "mem"], "limits": {"cpu": "500m"},
                "requests": {"cpu": "500m", "memory": "128Mi"}}"#,
        ),
    ];
    let mut failures = Vec::new();
    for (name, extra, expected) in rows {
        let run = Run::new(&format!("{WEB_DEPLOYMENT}{extra}"));
        let got = run.workload("Deployment/web")["limit_range"].clone();
        if got != json(expected) {
            failures.push(format!(
                "  {name}: expected {}, got {}",
                show(&json(expected)),
                show(&got)
            ));
        }
    }
    report("LimitRange defaults", failures);
}

// ------------------------------------------------------------------------------------------------
// Spread terms: does the selector select the pod's own labels, in its own namespace?

fn spread_deployment(namespace: Option<&str>, pod_spec_extra: &str) -> String {
    let namespace = namespace.map_or(String::new(), |ns| format!("  namespace: {ns}\n"));
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n{namespace}spec:\n  replicas: 3\n  template:\n    metadata:\n      labels:\n        app: web\n        tier: frontend\n    spec:\n      containers: [{{name: web, image: nginx}}]\n{pod_spec_extra}"
    )
}

fn anti_affinity(term: &str) -> String {
    format!(
        "      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            - topologyKey: kubernetes.io/hostname\n{term}"
    )
}

fn preferred_anti_affinity(term: &str) -> String {
    format!(
        "      affinity:\n        podAntiAffinity:\n          preferredDuringSchedulingIgnoredDuringExecution:\n            - weight: 100\n              podAffinityTerm:\n                topologyKey: topology.kubernetes.io/zone\n{term}"
    )
}

fn spread_constraint(extra: &str) -> String {
    format!(
        "      topologySpreadConstraints:\n        - maxSkew: 1\n          topologyKey: topology.kubernetes.io/zone\n          whenUnsatisfiable: DoNotSchedule\n{extra}"
    )
}

#[test]
fn spread_terms_select_own_pods() {
    let own =
        "              labelSelector:\n                matchLabels:\n                  app: web\n";
    let other =
        "              labelSelector:\n                matchLabels:\n                  app: api\n";
    // (name, namespace of the Deployment, pod spec extra, expected (has_selector, selects_own_pods))
    type Row<'a> = (&'a str, Option<&'a str>, String, (bool, bool));
    let rows: Vec<Row> = vec![
        ("anti-affinity on own labels", Some("shop"), anti_affinity(own), (true, true)),
        ("anti-affinity on other values", Some("shop"), anti_affinity(other), (true, false)),
        (
            "anti-affinity with matchExpressions on own labels",
            Some("shop"),
            anti_affinity(
                "              labelSelector:\n                matchExpressions:\n                  - {key: tier, operator: In, values: [frontend]}\n                  - {key: track, operator: NotIn, values: [canary]}\n",
            ),
            (true, true),
        ),
        (
            "anti-affinity with an empty selector selects every pod, its own included",
            Some("shop"),
            anti_affinity("              labelSelector: {}\n"),
            (true, true),
        ),
        (
            "anti-affinity without labelSelector selects no pod",
            Some("shop"),
            anti_affinity(""),
            (false, false),
        ),
        (
            "anti-affinity with an invalid selector selects no pod",
            Some("shop"),
            anti_affinity(
                "              labelSelector:\n                matchExpressions:\n                  - {key: app, operator: In}\n",
            ),
            (false, false),
        ),
        (
            "namespaces lists only another namespace",
            Some("shop"),
            anti_affinity(&format!("{own}              namespaces: [other]\n")),
            (true, false),
        ),
        (
            "namespaces lists the own namespace",
            Some("shop"),
            anti_affinity(&format!("{own}              namespaces: [other, shop]\n")),
            (true, true),
        ),
        (
            "empty namespaces list means the own namespace",
            Some("shop"),
            anti_affinity(&format!("{own}              namespaces: []\n")),
            (true, true),
        ),
        (
            "namespaceSelector: {} adds every namespace to the list",
            Some("shop"),
            anti_affinity(&format!(
                "{own}              namespaces: [other]\n              namespaceSelector: {{}}\n"
            )),
            (true, true),
        ),
        (
            "without a namespace the own namespace is default",
            None,
            anti_affinity(&format!("{own}              namespaces: [default]\n")),
            (true, true),
        ),
        (
            "without a namespace, a list naming shop does not count",
            None,
            anti_affinity(&format!("{own}              namespaces: [shop]\n")),
            (true, false),
        ),
        (
            "preferred anti-affinity on own labels",
            Some("shop"),
            preferred_anti_affinity(
                "                labelSelector:\n                  matchLabels:\n                    app: web\n",
            ),
            (true, true),
        ),
        (
            "topology spread on own labels",
            Some("shop"),
            spread_constraint(
                "          labelSelector:\n            matchLabels:\n              tier: frontend\n",
            ),
            (true, true),
        ),
        (
            "topology spread on other values",
            Some("shop"),
            spread_constraint(
                "          labelSelector:\n            matchLabels:\n              tier: backend\n",
            ),
            (true, false),
        ),
        (
            "topology spread without labelSelector",
            Some("shop"),
            spread_constraint(""),
            (false, false),
        ),
    ];
    let mut failures = Vec::new();
    for (name, namespace, extra, expected) in rows {
        let run = Run::new(&spread_deployment(namespace, &extra));
        let terms = run.workload("Deployment/web")["spread_terms"].clone();
        let got = match &terms {
            Rego::Array(items) if items.len() == 1 => (
                items[0]["has_selector"] == Rego::from(true),
                items[0]["selects_own_pods"] == Rego::from(true),
            ),
            _ => {
                failures.push(format!("  {name}: expected one term, got {}", show(&terms)));
                continue;
            }
        };
        if got != expected {
            failures.push(format!(
                "  {name}: expected (has_selector, selects_own_pods) {expected:?}, got {got:?}"
            ));
        }
    }
    report("spread terms", failures);
}
