use super::*;
use crate::manifest::{load_text, LoadOptions};

fn objects(yaml: &str) -> Vec<Object> {
    let loaded = load_text("test.yaml", yaml, &LoadOptions::default());
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    loaded.objects
}

/// The report on the last object of `yaml`, with the CRDs of all of them.
fn report(yaml: &str) -> Option<Report> {
    let objects = objects(yaml);
    let crds = crds_of(&objects);
    check(&objects.last().expect("an object").root, &crds)
}

fn paths(report: &Report) -> (Vec<String>, Vec<String>) {
    (
        report
            .unknown_fields
            .iter()
            .map(|u| crate::path::display_path(&u.path))
            .collect(),
        report
            .wrong_types
            .iter()
            .map(|w| crate::path::display_path(&w.path))
            .collect(),
    )
}

const POD_HEAD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n";

#[test]
fn a_clean_pod_has_nothing() {
    let found = report(&format!(
        "{POD_HEAD}  containers:\n    - name: a\n      image: x\n      ports:\n        - containerPort: 80\n"
    ))
    .expect("a built-in kind");
    assert_eq!(found, clean_builtin());
}

#[test]
fn a_misspelt_key_is_found_with_the_field_meant() {
    let found = report(&format!(
        "{POD_HEAD}  containers:\n    - name: a\n      image: x\n      livenessprobe: {{}}\n"
    ))
    .expect("a built-in kind");
    assert_eq!(found.unknown_fields.len(), 1, "{found:?}");
    let unknown = &found.unknown_fields[0];
    assert_eq!(
        crate::path::display_path(&unknown.path),
        "spec.containers[0].livenessprobe"
    );
    assert_eq!(unknown.suggestion.as_deref(), Some("livenessProbe"));
    assert_eq!(unknown.holder, "Container in Kubernetes 1.33");
}

#[test]
fn a_key_one_level_off_says_where_it_belongs() {
    let found = report(&format!(
        "{POD_HEAD}  livenessProbe: {{}}\n  containers:\n    - name: a\n      image: x\n"
    ))
    .expect("a built-in kind");
    assert_eq!(found.unknown_fields.len(), 1, "{found:?}");
    assert_eq!(found.unknown_fields[0].suggestion, None);
    assert_eq!(
        found.unknown_fields[0].belongs,
        Some("a container (containers[])")
    );
}

#[test]
fn every_wrong_type_is_found_not_only_the_first() {
    let found = report(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: \"3\"\n  \
         selector: {}\n  template:\n    spec:\n      terminationGracePeriodSeconds: \"30\"\n      \
         containers:\n        - name: a\n          image: x\n          ports: [{containerPort: http}]\n          \
         livenessprobe: {}\n",
    )
    .expect("a built-in kind");
    let (unknown, wrong) = paths(&found);
    assert_eq!(
        wrong,
        [
            "spec.replicas",
            "spec.template.spec.terminationGracePeriodSeconds",
            "spec.template.spec.containers[0].ports[0].containerPort",
        ]
    );
    assert_eq!(unknown, ["spec.template.spec.containers[0].livenessprobe"]);
    assert_eq!(found.wrong_types[0].found, "the string \"3\"");
    assert_eq!(found.wrong_types[0].expected.as_deref(), Some("an integer"));
}

#[test]
fn what_the_api_server_accepts_is_not_flagged() {
    // Null fields (stored as absent), a whole number written as a float, quantities as numbers,
    // int-or-string ports in both forms, a status block.
    let found = report(&format!(
        "{POD_HEAD}  priority: null\n  terminationGracePeriodSeconds: 30.0\n  containers:\n    \
         - name: a\n      image: x\n      resources: {{limits: {{cpu: 1, memory: 1.5}}}}\n      \
         readinessProbe: {{httpGet: {{port: http}}}}\n      livenessProbe: {{tcpSocket: {{port: 80}}}}\n\
         status:\n  phase: Running\n"
    ))
    .expect("a built-in kind");
    assert_eq!(found, clean_builtin());
    let meta = report(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  creationTimestamp: null\n",
    )
    .expect("a built-in kind");
    assert_eq!(meta, clean_builtin());
}

#[test]
fn a_list_item_of_the_wrong_type_is_reported_at_the_item() {
    let found = report(&format!(
        "{POD_HEAD}  containers:\n    - name: a\n      image: x\n      args: [run, 1]\n"
    ))
    .expect("a built-in kind");
    let (_, wrong) = paths(&found);
    assert_eq!(wrong, ["spec.containers[0].args[1]"]);
}

#[test]
fn a_custom_resource_is_skipped_without_its_crd() {
    assert_eq!(
        report("apiVersion: example.com/v1\nkind: Backup\nmetadata:\n  name: b\nspec:\n  x: 1\n"),
        None
    );
}

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n\
metadata:\n  name: backups.example.com\nspec:\n  group: example.com\n  names: {kind: Backup, plural: backups}\n  \
scope: Namespaced\n  versions:\n    - name: v1\n      schema:\n        openAPIV3Schema:\n          \
type: object\n          properties:\n            spec:\n              type: object\n              \
properties:\n                days: {type: integer}\n                open: {type: object, additionalProperties: true}\n                \
kept: {type: object, x-kubernetes-preserve-unknown-fields: true}\n---\n";

#[test]
fn a_custom_resource_is_checked_against_its_crd() {
    let found = report(&format!(
        "{CRD}apiVersion: example.com/v1\nkind: Backup\nmetadata:\n  name: b\n  lables: {{}}\nspec:\n  \
         dayz: 1\n  days: \"7\"\n  open: {{a: 1}}\n  kept: {{b: 2}}\n"
    ))
    .expect("its CRD is in the run");
    let (unknown, wrong) = paths(&found);
    assert_eq!(unknown, ["spec.dayz", "metadata.lables"]);
    assert_eq!(wrong, ["spec.days"]);
    assert_eq!(found.unknown_fields[0].suggestion.as_deref(), Some("days"));
    assert_eq!(
        found.unknown_fields[1].suggestion.as_deref(),
        Some("labels")
    );
    // A CRD's schema may leave parts open: invalid-field-type still checks by hand.
    assert!(!found.builtin, "checked against a CRD, not a built-in type");
}

#[test]
fn another_version_of_a_custom_resource_is_skipped() {
    assert_eq!(
        report(&format!(
            "{CRD}apiVersion: example.com/v2\nkind: Backup\nmetadata:\n  name: b\nspec:\n  dayz: 1\n"
        )),
        None
    );
}

#[test]
fn suggestions_are_a_small_edit_away() {
    let known = [
        "livenessProbe",
        "readinessProbe",
        "image",
        "imagePullPolicy",
        "name",
    ];
    assert_eq!(suggest("livenessprobe", &known), Some("livenessProbe"));
    assert_eq!(suggest("imagePullpolicy", &known), Some("imagePullPolicy"));
    assert_eq!(suggest("imgae", &known), Some("image"));
    assert_eq!(suggest("readinesProbe", &known), Some("readinessProbe"));
    assert_eq!(suggest("nmae", &known), Some("name"));
    assert_eq!(suggest("foo", &known), None);
    assert_eq!(suggest("probe", &known), None);
}

#[test]
fn the_rules_input_names_each_finding() {
    let found = report(&format!(
        "{POD_HEAD}  containers:\n    - name: a\n      image: x\n      livenessprobe: {{}}\n"
    ))
    .expect("a built-in kind");
    let value = to_rego(&found);
    let unknown = &value["unknown_fields"][0];
    assert_eq!(unknown["field"], RegoValue::from("livenessprobe"));
    assert_eq!(unknown["suggestion"], RegoValue::from("livenessProbe"));
    assert_eq!(
        unknown["path"],
        RegoValue::from(vec![
            RegoValue::from("spec"),
            RegoValue::from("containers"),
            RegoValue::from(0usize),
            RegoValue::from("livenessprobe"),
        ])
    );
}

#[test]
fn a_map_value_of_the_wrong_type_is_reported_once() {
    let found = report(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels: {canary: true, team: a}\ndata:\n  debug: yes\n  port: 8080\n",
    )
    .expect("a built-in kind");
    let (_, wrong) = paths(&found);
    assert_eq!(wrong, ["metadata.labels.canary", "data.debug", "data.port"]);
    assert_eq!(found.wrong_types[0].found, "true");
    assert_eq!(found.wrong_types[2].found, "the number 8080");
}

#[test]
fn a_custom_resource_with_two_different_crds_in_the_run_is_skipped() {
    let other = CRD.replace("days: {type: integer}", "dayz: {type: integer}");
    assert_eq!(
        report(&format!(
            "{CRD}{other}apiVersion: example.com/v1\nkind: Backup\nmetadata:\n  name: b\nspec:\n  dayz: 1\n"
        )),
        None
    );
    // The same definition twice (a chart rendered with its CRDs, and the CRDs alone) still checks.
    assert!(report(&format!(
        "{CRD}{CRD}apiVersion: example.com/v1\nkind: Backup\nmetadata:\n  name: b\nspec:\n  dayz: 1\n"
    ))
    .is_some());
}

/// What the check reports on a well-typed object of a built-in kind: nothing, read into its type.
fn clean_builtin() -> Report {
    Report {
        builtin: true,
        ..Report::default()
    }
}
