//! The promise "the same object gets the same verdict from `lint` and from `serve`", checked on
//! every rule fixture and the seed manifests: each object of a file is linted with the others of
//! its file, and reviewed by the webhook as a CREATE with the same other objects as its cluster
//! cache. Both must report the same rule ids with the same severities, object by object, except
//! for the differences the design names (`ALLOWED_DIFFERENCES`).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use seaworthy::config::Config;
use seaworthy::engine::{Backend, Catalog, ReadKind, Scope};
use seaworthy::inventory::effective_namespace;
use seaworthy::lint;
use seaworthy::manifest::{Input, LoadOptions, DUPLICATE_KEY, INVALID_MANIFEST};
use seaworthy::suppress::Suppressor;
use seaworthy::webhook::admission::AdmissionRequest;
use seaworthy::webhook::cluster::watched_kinds;
use seaworthy::webhook::review::{Policy, Reviewer};
use seaworthy::webhook::snapshot::Snapshot;

/// What lint reports and serve does not, and why (the design allows exactly these):
/// - loading problems (`invalid-manifest`, `duplicate-key`): the API server hands the webhook
///   parsed JSON, so there is no document to be malformed;
/// - rules whose metadata says `scope: complete` (e.g. "this PDB selects nothing"): only right
///   when every object that could relate is known, as in a lint run over a repository; a cluster
///   cache of the kinds rules read is not that;
/// - `missing-default-deny`, a finding about a namespace: lint reports it once per namespace (on
///   the Namespace object, else on its first workload), the webhook on each workload admitted to
///   a namespace without a default-deny policy (it sees one object at a time, so there is no
///   "first", and it does not cache workloads to count them for a Namespace);
/// - the schema rules on a custom resource: lint checks it against the CustomResourceDefinition
///   of the same run, an admission request carries no CRD, so the webhook does not check it.
const ALLOWED_DIFFERENCES: &str =
    "loading problems; scope: complete rules; missing-default-deny (once per namespace in lint, per admitted workload in serve); schema rules on a custom resource defined in the run";
const SCHEMA_RULES: [&str; 2] = ["unknown-field", "invalid-field-type"];
const PER_NAMESPACE: &str = "missing-default-deny";

/// (rule, severity) → count, for one object.
type Verdicts = BTreeMap<(String, String), usize>;

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(path);
        }
    }
}

/// Whether the webhook's cluster cache watches objects of this kind (any version of its group).
fn watched(kinds: &[ReadKind], object: &Value) -> bool {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    kinds
        .iter()
        .any(|k| k.group == group && object["kind"] == k.kind.as_str())
}

fn request(object: &Value, namespace: Option<&str>) -> AdmissionRequest {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    serde_json::from_value(json!({
        "uid": "parity",
        "kind": {"group": group, "version": version, "kind": object["kind"]},
        "namespace": namespace,
        "name": object["metadata"]["name"],
        "operation": "CREATE",
        "userInfo": {"username": "alice@example.com"},
        "object": object,
    }))
    .expect("an AdmissionRequest")
}

#[test]
fn lint_and_serve_give_the_same_verdicts_on_every_fixture() {
    let catalog = Catalog::load(&[]).expect("built-in policies");
    let lint_only: Vec<String> = catalog
        .rules
        .iter()
        .filter(|r| matches!(r.meta.scope, Scope::Complete | Scope::Manifest))
        .map(|r| r.meta.id.clone())
        .collect();
    let config = Config::default();
    let policy = Policy {
        cluster_context: true,
        // Namespaces are exempted by configuration, not by the verdict: judge them all here.
        exempt_namespaces: Vec::new(),
        ..Policy::default()
    };
    let reviewer =
        Reviewer::new(catalog, &config, policy, Backend::Rvm).expect("the rules compile");
    let kinds = watched_kinds(&reviewer.evaluator);
    let mut evaluator = lint::evaluator_for(&config, &[], Backend::Rvm).expect("rules");
    // Annotation suppression is a setting (on in lint, off by default in serve), not a verdict:
    // compare with it off on both sides.
    let suppressor = Suppressor {
        exemptions: &[],
        allow_annotations: false,
    };

    let mut files = Vec::new();
    yaml_files(&common::root().join("fixtures/rules"), &mut files);
    yaml_files(&common::root().join("fixtures/manifests"), &mut files);
    assert!(files.len() > 100, "fixtures found: {}", files.len());

    let mut objects_compared = 0;
    let mut differences = Vec::new();
    for file in &files {
        let outcome = lint::lint_inputs(
            &[Input::Path(file.clone())],
            &LoadOptions::default(),
            &mut evaluator,
            &suppressor,
        );
        let loaded =
            seaworthy::manifest::load_inputs(&[Input::Path(file.clone())], &LoadOptions::default());
        if loaded.objects.is_empty() {
            continue;
        }
        let jsons: Vec<Value> = loaded.objects.iter().map(|o| o.root.to_json()).collect();
        // The webhook's cache holds only the kinds it watches; the others of the file are not
        // there for it to relate to.
        let cluster = Snapshot::from_objects(jsons.iter().filter(|json| watched(&kinds, json)));
        for (index, (object, json)) in loaded.objects.iter().zip(&jsons).enumerate() {
            let defined_in_run = loaded.objects.iter().any(|o| {
                o.id.kind == "CustomResourceDefinition"
                    && o.root
                        .get_path(&["spec", "names", "kind"])
                        .and_then(|n| n.as_str())
                        == Some(object.id.kind.as_str())
            });
            let mut from_lint = Verdicts::new();
            for f in outcome.active().filter(|f| f.subject == Some(index)) {
                if (defined_in_run && SCHEMA_RULES.contains(&f.rule.as_str()))
                    || f.rule == INVALID_MANIFEST
                    || f.rule == DUPLICATE_KEY
                    || f.rule == PER_NAMESPACE
                    || lint_only.contains(&f.rule)
                {
                    continue;
                }
                *from_lint
                    .entry((f.rule.clone(), f.severity.to_string()))
                    .or_default() += 1;
            }
            let verdict = reviewer.review(
                &request(json, effective_namespace(&object.id)),
                &cluster,
                None,
            );
            assert!(
                verdict.failure.is_none(),
                "{}: {}: {:?}",
                file.display(),
                object.id,
                verdict.failure
            );
            let mut from_serve = Verdicts::new();
            for j in verdict
                .findings
                .iter()
                .filter(|j| j.finding.rule != PER_NAMESPACE)
            {
                *from_serve
                    .entry((j.finding.rule.clone(), j.finding.severity.to_string()))
                    .or_default() += 1;
            }
            objects_compared += 1;
            if from_lint != from_serve {
                let only = |a: &Verdicts, b: &Verdicts| -> Vec<String> {
                    a.iter()
                        .filter(|(k, n)| b.get(*k) != Some(n))
                        .map(|((rule, severity), n)| format!("{rule} ({severity}) x{n}"))
                        .collect()
                };
                differences.push(format!(
                    "{} {}: lint only {:?}, serve only {:?}",
                    file.strip_prefix(common::root()).unwrap_or(file).display(),
                    object.id,
                    only(&from_lint, &from_serve),
                    only(&from_serve, &from_lint),
                ));
            }
        }
    }
    assert!(
        objects_compared > 100,
        "objects compared: {objects_compared}"
    );
    assert!(
        differences.is_empty(),
        "lint and serve disagree (allowed differences: {ALLOWED_DIFFERENCES}) on {} of {objects_compared} objects:\n{}",
        differences.len(),
        differences.join("\n")
    );
}
