//! The unit of relation through the real binary: objects without a namespace relate only within
//! their directory (or file, or the run, with `--relate`), objects with one across the run; copies
//! of one object count once; kustomize patch files are skipped and counted. Fixtures:
//! `fixtures/units/<case>/`, each linted from its own directory.

mod common;

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

fn case(name: &str) -> PathBuf {
    common::root().join("fixtures/units").join(name)
}

/// `seaworthy lint --format json --no-config ARGS...` in the case's directory; the exit code must
/// be 0 or 1 (findings), never 2 (broken input).
fn lint_json(name: &str, args: &[&str]) -> (Value, String) {
    let output = Command::cargo_bin("seaworthy")
        .expect("binary is built")
        .current_dir(case(name))
        .args([
            "lint",
            "--format",
            "json",
            "--no-config",
            "--fail-on",
            "never",
        ])
        .args(args)
        .assert()
        .code(0)
        .get_output()
        .clone();
    let report = serde_json::from_slice(&output.stdout).expect("stdout is JSON");
    (report, String::from_utf8_lossy(&output.stderr).into_owned())
}

fn findings<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn files_of(findings: &[&Value]) -> Vec<String> {
    let mut files: Vec<String> = findings
        .iter()
        .map(|f| f["location"]["file"].as_str().unwrap_or("?").to_string())
        .collect();
    files.sort();
    files.dedup();
    files
}

#[test]
fn an_autoscaler_in_another_folder_does_not_scale_a_deployment_without_namespace() {
    let (report, _) = lint_json("hpa-elsewhere", &["."]);
    let few = findings(&report, "too-few-replicas");
    assert_eq!(
        files_of(&few),
        ["app/deployment.yaml"],
        "the HPA of autoscaling/ must not lift web's single replica: {few:#?}"
    );
    assert_eq!(few[0]["unit"], "app");
}

#[test]
fn an_autoscaler_beside_its_deployment_still_counts() {
    let (report, _) = lint_json("hpa-beside", &["."]);
    assert!(
        findings(&report, "too-few-replicas").is_empty(),
        "minReplicas: 3 of the HPA in the same directory covers web: {report:#}"
    );
}

#[test]
fn relate_run_relates_every_folder_as_one_cluster() {
    let (report, _) = lint_json("hpa-elsewhere", &["--relate", "run", "."]);
    assert!(findings(&report, "too-few-replicas").is_empty());
    assert_eq!(report["units"][0]["name"], "run");
}

#[test]
fn relate_file_separates_files_of_one_directory() {
    let (report, _) = lint_json("hpa-beside", &["--relate", "file", "."]);
    let few = findings(&report, "too-few-replicas");
    assert_eq!(files_of(&few), ["deployment.yaml"]);
    assert_eq!(few[0]["unit"], "deployment.yaml");
}

#[test]
fn a_cluster_role_binding_in_another_folder_does_not_reach_a_workload_without_namespace() {
    let (report, _) = lint_json("binding-elsewhere", &["."]);
    let automount = findings(&report, "automount-service-account-token");
    assert_eq!(
        files_of(&automount),
        ["worker/deployment.yaml"],
        "rbac/'s binding (data.inventory.cluster) belongs to another unit: {report:#}"
    );
    // Listed together (one unit), the binding is read as before.
    let (report, _) = lint_json("binding-elsewhere", &["--relate", "run", "rbac", "worker"]);
    assert!(findings(&report, "automount-service-account-token").is_empty());
}

#[test]
fn objects_that_name_their_namespace_relate_across_folders() {
    let (report, _) = lint_json("named-namespace", &["."]);
    assert!(
        findings(&report, "missing-pdb").is_empty(),
        "budgets/pdb.yaml covers shop/api: {report:#}"
    );
    assert!(findings(&report, "pdb-selects-nothing").is_empty());
    let units: Vec<&str> = report["units"]
        .as_array()
        .expect("units")
        .iter()
        .filter_map(|u| u["name"].as_str())
        .collect();
    assert_eq!(units, ["budgets", "deploy"]);
}

#[test]
fn copies_of_one_budget_in_a_unit_count_once() {
    let (report, _) = lint_json("copies", &["."]);
    assert!(
        findings(&report, "overlapping-pdbs").is_empty(),
        "the two install variants define one PodDisruptionBudget: {report:#}"
    );
    assert!(findings(&report, "missing-pdb").is_empty());
    assert_eq!(
        report["summary"]["objects"], 3,
        "each copy is still an object"
    );
}

#[test]
fn kustomize_patch_files_are_skipped_counted_and_explained() {
    // Literal mode: without it the overlay is built, and its patches are part of the build.
    let (report, stderr) = lint_json("patches", &[".", "--no-render"]);
    let files: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["location"]["file"].as_str().map(str::to_string))
        .filter(|f| f.starts_with("overlay/"))
        .collect();
    assert!(files.is_empty(), "findings on patch files: {files:?}");
    assert_eq!(report["summary"]["patch_files"], 3);
    assert_eq!(
        report["patch_files"],
        serde_json::json!([
            "overlay/env.yaml",
            "overlay/ops/port.yaml",
            "overlay/replicas.yaml"
        ])
    );
    assert!(
        stderr.contains("skipped 3 kustomize patch file(s)") && stderr.contains("--kustomize DIR"),
        "{stderr}"
    );
    // The base's Deployment, a whole object, is still linted.
    assert!(findings(&report, "missing-liveness-probe")
        .iter()
        .any(|f| f["location"]["file"] == "base/deployment.yaml"));
}

#[test]
fn a_kustomization_in_the_tree_is_built_and_its_patches_are_not_linted_alone() {
    let (report, _) = lint_json("patches", &["."]);
    assert!(report["summary"].get("patch_files").is_none(), "{report:#}");
    let files: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["location"]["file"].as_str())
        .collect();
    assert!(!files.is_empty());
    // Every finding is on a source file of the overlay's build: the base or a patch.
    assert!(
        files
            .iter()
            .all(|f| f.starts_with("base/") || f.starts_with("overlay/")),
        "{files:?}"
    );
}

#[test]
fn a_patch_file_given_alone_is_found_by_its_kustomization() {
    let (report, _) = lint_json("patches", &["overlay/env.yaml", "base"]);
    assert_eq!(report["summary"]["patch_files"], 1);
    assert_eq!(
        report["patch_files"],
        serde_json::json!(["overlay/env.yaml"])
    );
}

#[test]
fn of_several_definitions_an_object_relates_to_the_one_in_its_own_file() {
    let (report, _) = lint_json("copies-differ", &["."]);
    assert!(
        findings(&report, "pdb-blocks-eviction").is_empty(),
        "the budget of b-highly-available.yaml covers its own two replicas, not a-single.yaml's one: {report:#}"
    );
}
