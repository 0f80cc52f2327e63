//! The contract every rule keeps beyond its own fixtures: it never drops a finding in silence.
//!
//! - Names: a rule whose message quotes a name must still report an object named by the API server
//!   (`metadata.generateName`), an object with no name at all, and containers without names (in
//!   Rego, `sprintf("%q", [null])` is undefined and the violation vanishes).
//! - Types: when a field a rule reads has a type the API does not accept there (`ports: "8080"`,
//!   `containers: null`, a probe written as a string, ...), either the rule's finding still appears
//!   or the object gets an `invalid-field-type` (or `policy-error`) finding. A malformed object that
//!   passes every check says "all clear" about something that would never run.
//!
//! Both run every rule's fail fixtures, mutated, through the real lint path.
//!
//! - Reads: a run builds `data.inventory` and runs the schema check only when an enabled rule may
//!   read them, as the load-time analysis finds; for every built-in rule that finding matches
//!   what its source and the libraries it imports say (so no rule loses its input when others
//!   are turned off).
//! - Content: a run hands the engine only the identity (`apiVersion`, `kind`, `metadata`) of an
//!   object whose content no enabled rule reads, as their metadata `content` declares; every
//!   built-in rule's verdicts on every fixture are the same as when everything is converted in
//!   full, and a custom policy sees what its declaration says.

mod common;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use seaworthy::config::Config;
use seaworthy::engine::{Backend, Catalog, Evaluator, Reading};
use seaworthy::lint::{self, Outcome};
use seaworthy::manifest::{self, Input, LoadOptions};
use seaworthy::suppress::Suppressor;

/// Where a malformed object must show up when a rule cannot judge it.
const SURFACES: &[&str] = &["invalid-field-type", "policy-error"];

/// One compiled evaluator for every run, and a scratch file the mutated documents are written to.
struct Harness {
    evaluator: Evaluator,
    config: Config,
    dir: tempfile::TempDir,
}

impl Harness {
    fn new() -> Harness {
        let config = Config::default();
        let evaluator =
            lint::evaluator_for(&config, &[], Backend::Rvm).expect("built-in policies load");
        Harness {
            evaluator,
            config,
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Lints documents as one YAML stream (each document written as JSON, which is YAML).
    fn lint(&mut self, docs: &[Value]) -> Outcome {
        let file = self.dir.path().join("objects.yaml");
        let text: String = docs
            .iter()
            .map(|d| format!("---\n{}\n", serde_json::to_string(d).expect("JSON")))
            .collect();
        std::fs::write(&file, text).expect("write scratch file");
        let suppressor = Suppressor {
            exemptions: &self.config.exemptions,
            allow_annotations: true,
        };
        lint::lint_inputs(
            &[Input::Path(file)],
            &LoadOptions::default(),
            &mut self.evaluator,
            &suppressor,
        )
    }
}

fn count(outcome: &Outcome, rule: &str) -> usize {
    outcome.active().filter(|f| f.rule == rule).count()
}

fn findings_text(outcome: &Outcome) -> String {
    common::summarize(outcome, None)
}

fn fail_fixtures(id: &str) -> Vec<PathBuf> {
    let dir = common::root().join("fixtures/rules").join(id).join("fail");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| {
        p.extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
    });
    files.sort();
    files
}

/// The objects of a fixture file as JSON, as the loader reads them.
fn documents(file: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(file).expect("fixture readable");
    let loaded = manifest::load_text(&file.display().to_string(), &text, &LoadOptions::default());
    loaded.objects.iter().map(|o| o.root.to_json()).collect()
}

fn kind_of(doc: &Value) -> &str {
    doc["kind"].as_str().unwrap_or_default()
}

/// Does the rule look at objects of this document's kind?
fn applies(kinds: &Option<Vec<String>>, doc: &Value) -> bool {
    kinds
        .as_ref()
        .is_none_or(|kinds| kinds.iter().any(|k| k == kind_of(doc)))
}

/// The JSON pointer of a workload's pod spec ("/spec/template/spec"), None for other kinds.
fn pod_spec_pointer(doc: &Value) -> Option<String> {
    let paths = seaworthy::workload::pod_paths(doc["apiVersion"].as_str()?, kind_of(doc))?;
    Some(pointer_of(&paths.spec))
}

fn pod_metadata_pointer(doc: &Value) -> Option<String> {
    let paths = seaworthy::workload::pod_paths(doc["apiVersion"].as_str()?, kind_of(doc))?;
    Some(pointer_of(&paths.metadata))
}

fn pointer_of(path: &[seaworthy::manifest::node::PathStep]) -> String {
    use seaworthy::manifest::node::PathStep;
    path.iter()
        .map(|step| match step {
            PathStep::Key(k) => format!("/{k}"),
            PathStep::Index(i) => format!("/{i}"),
        })
        .collect()
}

/// Sets the value at a JSON pointer whose parent exists; false when it does not.
fn set(doc: &mut Value, pointer: &str, value: Value) -> bool {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return false;
    };
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(key.to_string(), value);
            true
        }
        Some(Value::Array(items)) => match key.parse::<usize>().ok().and_then(|i| items.get_mut(i))
        {
            Some(slot) => {
                *slot = value;
                true
            }
            None => false,
        },
        _ => false,
    }
}

const CONTAINER_LISTS: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];

/// The pointers of every container of a workload document.
fn containers(doc: &Value) -> Vec<String> {
    let Some(spec) = pod_spec_pointer(doc) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for list in CONTAINER_LISTS {
        let pointer = format!("{spec}/{list}");
        if let Some(Value::Array(items)) = doc.pointer(&pointer) {
            out.extend((0..items.len()).map(|i| format!("{pointer}/{i}")));
        }
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Naming {
    /// `metadata.name` replaced by `metadata.generateName` (the name with a trailing dash).
    Generated,
    /// No name at all.
    Absent,
}

/// The document with its own name and its containers' names taken away.
fn without_names(doc: &Value, naming: Naming) -> Value {
    let mut doc = doc.clone();
    if let Some(Value::Object(metadata)) = doc.get_mut("metadata") {
        if let Some(Value::String(name)) = metadata.remove("name") {
            if let Naming::Generated = naming {
                metadata.insert("generateName".into(), json!(format!("{name}-")));
            }
        }
    }
    for pointer in containers(&doc.clone()) {
        if let Some(Value::Object(container)) = doc.pointer_mut(&pointer) {
            container.remove("name");
        }
    }
    doc
}

/// Is this document the target of another one by name (an autoscaler's scaleTargetRef, an Argo
/// Rollout's workloadRef)? Such a name is a relation, not a label: without it the reference points
/// at nothing, and the verdict changes for a reason that has nothing to do with how messages quote
/// names.
fn targeted_by_name(doc: &Value, docs: &[Value]) -> bool {
    docs.iter().any(|other| {
        ["scaleTargetRef", "workloadRef"].iter().any(|field| {
            let target = &other["spec"][field];
            target["kind"] == doc["kind"] && target["name"] == doc["metadata"]["name"]
        })
    })
}

#[test]
fn every_rule_reports_objects_and_containers_without_names() {
    let catalog = Catalog::load(&[]).expect("built-in policies load");
    let mut harness = Harness::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for rule in &catalog.rules {
        let id = &rule.meta.id;
        for file in fail_fixtures(id) {
            let docs = documents(&file);
            let named = harness.lint(&docs);
            let expected = count(&named, id);
            assert!(
                expected > 0,
                "{id}: {} gives no finding once re-serialized:\n{}",
                file.display(),
                findings_text(&named)
            );
            for naming in [Naming::Generated, Naming::Absent] {
                // Only the objects the rule judges lose their names: a budget or an autoscaler
                // finds its workload by name or labels, and a workload without a name is one no
                // other object can point at.
                let mutated: Vec<Value> = docs
                    .iter()
                    .map(|d| {
                        if applies(&rule.meta.kinds, d) && !targeted_by_name(d, &docs) {
                            without_names(d, naming)
                        } else {
                            d.clone()
                        }
                    })
                    .collect();
                let outcome = harness.lint(&mutated);
                checked += 1;
                let found = count(&outcome, id);
                let errors = count(&outcome, "policy-error");
                let lost = found < expected || errors > 0;
                if lost {
                    failures.push(format!(
                        "{id}: {} with names {naming:?}: {found} finding(s) instead of {expected}:\n{}",
                        file.display(),
                        findings_text(&outcome)
                    ));
                }
            }
        }
    }
    assert!(checked > 80, "only {checked} variants checked");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A field set to a value of a type the API rejects there.
struct Mutation {
    what: String,
    doc: Value,
}

/// Every way this test breaks a document's types: a field the rules read set to a value of the
/// wrong type, where the field (or its parent) exists.
fn mutations(doc: &Value) -> Vec<Mutation> {
    let mut out = Vec::new();
    let mut try_set = |pointer: String, value: Value, only_if_present: bool| {
        if only_if_present && doc.pointer(&pointer).is_none() {
            return;
        }
        let mut mutated = doc.clone();
        if set(&mut mutated, &pointer, value.clone()) {
            out.push(Mutation {
                what: format!("{pointer} = {value}"),
                doc: mutated,
            });
        }
    };
    if let Some(spec) = pod_spec_pointer(doc) {
        try_set(format!("{spec}/containers"), Value::Null, false);
        try_set(format!("{spec}/containers"), json!("web"), false);
        try_set(
            format!("{spec}/securityContext"),
            json!("restricted"),
            false,
        );
        try_set(format!("{spec}/volumes"), json!("data"), true);
        try_set(format!("{spec}/hostNetwork"), json!("true"), true);
        try_set(
            format!("{spec}/topologySpreadConstraints"),
            json!("zone"),
            true,
        );
        try_set(format!("{spec}/affinity"), json!("spread"), true);
        if let Some(meta) = pod_metadata_pointer(doc) {
            try_set(format!("{meta}/labels"), json!(["app"]), true);
        }
        try_set("/spec/replicas".into(), json!("3"), true);
        for container in containers(doc) {
            try_set(container.clone(), json!("web"), false);
            try_set(format!("{container}/ports"), json!("8080"), false);
            try_set(format!("{container}/resources"), json!("small"), false);
            try_set(format!("{container}/resources/limits"), json!("1Gi"), true);
            try_set(
                format!("{container}/resources/requests"),
                json!(["1"]),
                true,
            );
            try_set(
                format!("{container}/securityContext"),
                json!("privileged"),
                false,
            );
            try_set(
                format!("{container}/securityContext/capabilities"),
                json!("ALL"),
                true,
            );
            try_set(
                format!("{container}/securityContext/capabilities/add"),
                json!("NET_ADMIN"),
                true,
            );
            try_set(
                format!("{container}/securityContext/capabilities/drop"),
                json!("ALL"),
                true,
            );
            if let Some(Value::Array(ports)) = doc.pointer(&format!("{container}/ports")) {
                for j in 0..ports.len() {
                    try_set(format!("{container}/ports/{j}"), json!("8080"), false);
                    try_set(
                        format!("{container}/ports/{j}/containerPort"),
                        json!([8080]),
                        true,
                    );
                }
            }
            for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                try_set(format!("{container}/{probe}"), json!("httpGet"), true);
                for action in ["httpGet", "tcpSocket", "grpc"] {
                    try_set(format!("{container}/{probe}/{action}"), json!("/"), true);
                    try_set(
                        format!("{container}/{probe}/{action}/port"),
                        json!([8080]),
                        true,
                    );
                }
            }
        }
    }
    match kind_of(doc) {
        "PodDisruptionBudget" => {
            try_set("/spec/selector".into(), json!("app=web"), true);
            try_set("/spec/selector/matchLabels".into(), json!("app"), true);
            try_set("/spec/minAvailable".into(), json!([1]), true);
            try_set("/spec/maxUnavailable".into(), json!({"count": 0}), true);
        }
        "NetworkPolicy" => {
            try_set("/spec/podSelector".into(), json!("all"), true);
            try_set("/spec/podSelector/matchLabels".into(), json!("app"), true);
            try_set("/spec/policyTypes".into(), json!("Ingress"), true);
            for (direction, peers) in [("ingress", "from"), ("egress", "to")] {
                try_set(format!("/spec/{direction}"), json!("all"), true);
                if let Some(Value::Array(rules)) = doc.pointer(&format!("/spec/{direction}")) {
                    for i in 0..rules.len() {
                        let rule = format!("/spec/{direction}/{i}");
                        try_set(rule.clone(), json!("all"), false);
                        try_set(format!("{rule}/{peers}"), json!("anywhere"), true);
                        try_set(format!("{rule}/ports"), json!("80"), true);
                        if let Some(Value::Array(ports)) = doc.pointer(&format!("{rule}/ports")) {
                            for j in 0..ports.len() {
                                try_set(format!("{rule}/ports/{j}"), json!(80), false);
                                try_set(format!("{rule}/ports/{j}/port"), json!([80]), true);
                            }
                        }
                    }
                }
            }
        }
        _ => {}
    }
    out
}

#[test]
fn fields_of_the_wrong_type_never_silence_a_rule() {
    let catalog = Catalog::load(&[]).expect("built-in policies load");
    let mut harness = Harness::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for rule in &catalog.rules {
        let id = &rule.meta.id;
        for file in fail_fixtures(id) {
            let docs = documents(&file);
            for (index, doc) in docs.iter().enumerate() {
                if !applies(&rule.meta.kinds, doc) {
                    continue;
                }
                for mutation in mutations(doc) {
                    let mut mutated = docs.clone();
                    mutated[index] = mutation.doc;
                    let outcome = harness.lint(&mutated);
                    checked += 1;
                    let surfaced = count(&outcome, id) > 0
                        || SURFACES.iter().any(|rule| count(&outcome, rule) > 0);
                    if !surfaced {
                        failures.push(format!(
                            "{id}: {} with {} ({} {:?}) reports nothing:\n{}",
                            file.display(),
                            mutation.what,
                            kind_of(doc),
                            doc["metadata"]["name"],
                            findings_text(&outcome)
                        ));
                    }
                }
            }
        }
    }
    assert!(checked > 500, "only {checked} mutations checked");
    assert!(
        failures.is_empty(),
        "{} silent mutation(s):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn invalid_field_type_names_the_field_and_both_types() {
    let mut harness = Harness::new();
    let doc = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "ports": "8080"}]}
            }
        }
    });
    let outcome = harness.lint(&[doc]);
    let found: Vec<String> = outcome
        .active()
        .filter(|f| f.rule == "invalid-field-type")
        .map(|f| format!("{}: {}", f.location.path, f.message))
        .collect();
    assert_eq!(
        found,
        ["spec.template.spec.containers[0].ports: spec.template.spec.containers[0].ports is the string \"8080\", but the API expects a list: the API server rejects the object, and other rules cannot check it"]
    );
}

/// `(rule, message, path)` of every active finding, sorted: what a verdict is, whatever line a
/// missing field resolves to.
fn verdicts(outcome: &Outcome) -> Vec<String> {
    let mut out: Vec<String> = outcome
        .active()
        .map(|f| format!("[{}] {} @ {}", f.rule, f.message, f.location.path))
        .collect();
    out.sort();
    out
}

#[test]
fn a_null_field_is_judged_as_an_absent_one() {
    // What a template leaves when it renders nothing: the API server stores it as absent, so every
    // rule must give the same verdicts either way.
    const CONTAINER_KEYS: &[&str] = &[
        "ports",
        "env",
        "resources",
        "securityContext",
        "livenessProbe",
        "readinessProbe",
        "startupProbe",
        "lifecycle",
    ];
    const POD_KEYS: &[&str] = &[
        "securityContext",
        "volumes",
        "affinity",
        "topologySpreadConstraints",
        "initContainers",
        "hostNetwork",
        "automountServiceAccountToken",
        "serviceAccountName",
    ];
    let catalog = Catalog::load(&[]).expect("built-in policies load");
    let mut harness = Harness::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for rule in &catalog.rules {
        for file in fail_fixtures(&rule.meta.id) {
            let docs = documents(&file);
            for (index, doc) in docs.iter().enumerate() {
                let Some(spec) = pod_spec_pointer(doc) else {
                    continue;
                };
                let mut fields: Vec<String> =
                    POD_KEYS.iter().map(|k| format!("{spec}/{k}")).collect();
                for container in containers(doc) {
                    fields.extend(CONTAINER_KEYS.iter().map(|k| format!("{container}/{k}")));
                }
                for pointer in fields {
                    if doc.pointer(&pointer).is_none() {
                        continue;
                    }
                    let Some((parent, key)) = pointer.rsplit_once('/') else {
                        continue;
                    };
                    let mut nulled = docs.clone();
                    set(&mut nulled[index], &pointer, Value::Null);
                    let mut removed = docs.clone();
                    if let Some(Value::Object(map)) = removed[index].pointer_mut(parent) {
                        map.remove(key);
                    }
                    checked += 1;
                    let (with_null, without) = (
                        verdicts(&harness.lint(&nulled)),
                        verdicts(&harness.lint(&removed)),
                    );
                    if with_null != without {
                        let only_null: Vec<&String> =
                            with_null.iter().filter(|v| !without.contains(v)).collect();
                        let only_absent: Vec<&String> =
                            without.iter().filter(|v| !with_null.contains(v)).collect();
                        failures.push(format!(
                            "{} {pointer}: null gives {only_null:?}, absent gives {only_absent:?}",
                            file.display()
                        ));
                    }
                }
            }
        }
    }
    failures.sort();
    failures.dedup();
    assert!(checked > 200, "only {checked} fields checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The library packages (`seaworthy.lib.x`) a policy imports.
fn imported_libraries(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("import data."))
        .map(|path| {
            path.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[test]
fn the_analysis_finds_every_built_in_rule_that_reads_the_inventory_or_the_schema_report() {
    let catalog = Catalog::load(&[]).expect("built-in policies load");
    let package_of = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("package "))
            .map(|p| p.trim().to_string())
            .unwrap_or_default()
    };
    let texts: std::collections::HashMap<String, &str> = catalog
        .sources()
        .iter()
        .map(|s| (package_of(&s.text), s.text.as_str()))
        .collect();
    // What a rule's own text and the libraries it reaches (transitively) mention.
    let mentions = |package: &str, needle: &str| {
        let mut stack = vec![package.to_string()];
        let mut seen = std::collections::HashSet::new();
        while let Some(package) = stack.pop() {
            if !seen.insert(package.clone()) {
                continue;
            }
            let Some(text) = texts.get(&package) else {
                continue;
            };
            if text.contains(needle) {
                return true;
            }
            stack.extend(imported_libraries(text));
        }
        false
    };
    let mut inventory_readers = 0;
    for rule in &catalog.rules {
        assert_eq!(
            rule.reads_inventory,
            mentions(&rule.package, "data.inventory"),
            "{}: data.inventory",
            rule.meta.id
        );
        assert_eq!(
            rule.reads_schema,
            mentions(&rule.package, "input.schema"),
            "{}: input.schema",
            rule.meta.id
        );
        inventory_readers += usize::from(rule.reads_inventory);
    }
    assert!(
        inventory_readers >= 8,
        "the built-in inventory readers are found"
    );
    let schema = catalog.rules.iter().filter(|r| r.reads_schema).count();
    assert_eq!(
        schema, 2,
        "unknown-field and invalid-field-type read the schema report"
    );
}

/// A custom rule that reads `data.inventory` without declaring `content`: a run that enables it
/// converts every object in full, as runs did before `content` existed. It finds nothing.
const READS_EVERYTHING: &str = r#"# What it does: nothing; it reads the inventory.
# Why: a test.
# Example:
#   kind: Deployment
# Fix: none.
package seaworthy.rules.test.reads_everything

import rego.v1

metadata := {
	"id": "reads-everything",
	"area": "test",
	"severity": "notice",
	"summary": "Reads the inventory",
	"remediation": "None.",
}

violations contains v if {
	count(data.inventory) < 0
	v := {"msg": "never", "path": []}
}
"#;

/// Every active finding of the built-in rules, with its file, place and message.
fn built_in_findings(outcome: &Outcome) -> Vec<String> {
    let mut findings: Vec<String> = outcome
        .active()
        .filter(|f| f.rule != "reads-everything")
        .map(|f| {
            format!(
                "{}:{}:{} {} [{}]: {}",
                f.location.file,
                f.location.line,
                f.location.column,
                f.location.path,
                f.rule,
                f.message
            )
        })
        .collect();
    findings.sort();
    findings
}

fn lint_dir(evaluator: &mut Evaluator, dir: &Path) -> Outcome {
    let suppressor = Suppressor {
        exemptions: &[],
        allow_annotations: true,
    };
    lint::lint_inputs(
        &[Input::Path(dir.to_path_buf())],
        &LoadOptions::default(),
        evaluator,
        &suppressor,
    )
}

#[test]
fn declared_content_leaves_every_built_in_verdict_as_full_conversion_gives_it() {
    let config = Config::default();
    let mut declared =
        lint::evaluator_for(&config, &[], Backend::Rvm).expect("built-in policies load");
    let policies = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        policies.path().join("reads_everything.rego"),
        READS_EVERYTHING,
    )
    .expect("write policy");
    let mut full = lint::evaluator_for(&config, &[policies.path().to_path_buf()], Backend::Rvm)
        .expect("policies load");
    // The default catalog reads a CustomResourceDefinition's identity alone; with the custom
    // rule, all of it. (The fixtures below hold CRDs, custom resources and other kinds no rule
    // reads in full.)
    let crd = ("apiextensions.k8s.io", "CustomResourceDefinition");
    assert_eq!(declared.reading_of(crd.0, crd.1), Reading::Identity);
    assert_eq!(full.reading_of(crd.0, crd.1), Reading::Content);
    for dir in ["fixtures/rules", "fixtures/manifests"] {
        let dir = common::root().join(dir);
        let with_declared = built_in_findings(&lint_dir(&mut declared, &dir));
        let with_full = built_in_findings(&lint_dir(&mut full, &dir));
        assert!(with_declared.len() > 100, "{}: findings", dir.display());
        if with_declared != with_full {
            let only = |a: &[String], b: &[String]| -> Vec<String> {
                a.iter().filter(|f| !b.contains(f)).cloned().collect()
            };
            panic!(
                "{}: verdicts differ\nonly with declared content:\n{}\nonly with full content:\n{}",
                dir.display(),
                only(&with_declared, &with_full).join("\n"),
                only(&with_full, &with_declared).join("\n")
            );
        }
    }
}

/// A custom rule on Deployments that tells the size of each Widget in the inventory of its
/// namespace (`unknown` when it cannot see it), with `content` as given (or none).
fn widget_policy(content: Option<&str>) -> String {
    let content = content.map_or(String::new(), |kinds| format!("\"content\": {kinds},"));
    format!(
        r#"# What it does: names the Widgets of the namespace.
# Why: a test.
# Example:
#   kind: Deployment
# Fix: none.
package seaworthy.rules.test.widgets

import rego.v1

metadata := {{
	"id": "widgets",
	"area": "test",
	"severity": "warning",
	"kinds": ["Deployment"],
	{content}
	"summary": "Names the Widgets",
	"remediation": "None.",
}}

violations contains v if {{
	some name, widget in data.inventory.namespace[input.object.metadata.namespace]["example.com/v1"].Widget
	v := {{"msg": sprintf("widget %s (%s) of size %v", [name, widget.metadata.labels.team, object.get(widget, ["spec", "size"], "unknown")]), "path": []}}
}}
"#
    )
}

#[test]
fn a_custom_rule_reads_the_content_its_metadata_declares_and_all_without_a_declaration() {
    let objects = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        objects.path().join("objects.yaml"),
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1, namespace: team, labels: {team: blue}}\nspec: {size: 3}\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: team}\n\
         spec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx:1.27}]\n",
    )
    .expect("write objects");
    let messages = |content: Option<&str>| -> Vec<String> {
        let policies = tempfile::tempdir().expect("temp dir");
        std::fs::write(policies.path().join("widgets.rego"), widget_policy(content))
            .expect("write policy");
        let mut evaluator = lint::evaluator_for(
            &Config::default(),
            &[policies.path().to_path_buf()],
            Backend::Rvm,
        )
        .expect("policies load");
        let outcome = lint_dir(&mut evaluator, objects.path());
        outcome
            .active()
            .filter(|f| f.rule == "widgets")
            .map(|f| f.message.clone())
            .collect()
    };
    // No declaration: the rule may read anything in the inventory, so everything is whole.
    assert_eq!(messages(None), ["widget w1 (blue) of size 3"]);
    // Declared and named: whole.
    assert_eq!(
        messages(Some(r#"["Deployment", "Widget"]"#)),
        ["widget w1 (blue) of size 3"]
    );
    // Declared without Widget: the Widget is found by its identity, metadata and all, and its
    // spec is not there.
    assert_eq!(
        messages(Some(r#"["Deployment"]"#)),
        ["widget w1 (blue) of size unknown"]
    );
}
