//! `seaworthy test`, the real binary: the project's own rule fixtures through it, a user's rule with
//! fixtures next to it, expected-findings files, and every way a suite can fail.

mod common;

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn seaworthy(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("seaworthy").expect("binary built");
    cmd.current_dir(dir).env("SEAWORTHY_NO_CACHE", "1");
    cmd
}

/// A user's rule: Deployments must carry a `team` label.
const TEAM_LABEL_RULE: &str = r#"# What it does: flags Deployments without a team label.
# Why: someone must own every workload.
# Example:
#   metadata: {labels: {team: payments}}
# Fix: add a team label.
package seaworthy.rules.org.team_label

import rego.v1

metadata := {
	"id": "team-label",
	"area": "org",
	"severity": "warning",
	"kinds": ["Deployment"],
	"summary": "Workload has no team label",
	"remediation": "Add a team label.",
}

violations contains v if {
	not input.object.metadata.labels.team
	v := {"msg": "no team label", "path": ["metadata", "labels"]}
}
"#;

const LABELLED: &str =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  labels: {team: x}\nspec: {}\n";
/// The `labels` key is on line 5, column 3.
const UNLABELLED: &str =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n  labels: {app: x}\nspec: {}\n";

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// A policy folder as a user keeps it: the rule, and its fixtures beside it.
fn user_suite() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "policies/team-label.rego", TEAM_LABEL_RULE);
    write(
        dir.path(),
        "policies/team-label/pass/labelled.yaml",
        LABELLED,
    );
    write(
        dir.path(),
        "policies/team-label/fail/unlabelled.yaml",
        UNLABELLED,
    );
    dir
}

fn fixture_count(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| {
            let parent = e.path().parent().and_then(|p| p.file_name());
            e.file_type().is_file()
                && parent.is_some_and(|p| p == "pass" || p == "fail")
                && e.path()
                    .extension()
                    .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
        })
        .count()
}

#[test]
fn every_built_in_rule_passes_its_own_fixtures() {
    let root = common::root();
    let out = seaworthy(&root)
        .args(["test", "fixtures/rules", "--no-config", "--format", "json"])
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let failed: Vec<&Value> = report["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["passed"] != true)
        .collect();
    assert!(failed.is_empty(), "failing cases: {failed:#?}");
    assert_eq!(out.status.code(), Some(0));
    let summary = &report["summary"];
    assert_eq!(
        summary["cases"].as_u64(),
        Some(fixture_count(&root.join("fixtures/rules")) as u64)
    );
    let catalog = seaworthy::engine::Catalog::load(&[]).expect("built-in rules load");
    assert_eq!(
        summary["rules_tested"].as_u64(),
        Some(catalog.rules.len() as u64)
    );
}

#[test]
fn a_users_rule_is_tested_with_its_fixtures_next_to_it() {
    let dir = user_suite();
    seaworthy(dir.path())
        .args(["test", "policies", "--no-config"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "ok   team-label pass policies/team-label/pass/labelled.yaml",
        ))
        .stdout(predicate::str::contains(
            "ok   team-label fail policies/team-label/fail/unlabelled.yaml (1 finding)",
        ))
        .stdout(predicate::str::contains(
            "test result: ok. 2 passed, 0 failed, 2 cases of 1 rule",
        ));
}

#[test]
fn a_wrong_fixture_fails_the_run_and_says_why() {
    let dir = user_suite();
    // A pass fixture the rule flags, and a fail fixture it does not.
    write(
        dir.path(),
        "policies/team-label/pass/unlabelled-too.yaml",
        UNLABELLED,
    );
    write(
        dir.path(),
        "policies/team-label/fail/labelled-too.yaml",
        LABELLED,
    );
    seaworthy(dir.path())
        .args(["test", "policies", "--no-config"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "FAIL team-label pass policies/team-label/pass/unlabelled-too.yaml\n     flagged: 5:3 [team-label] metadata.labels: no team label",
        ))
        .stdout(predicate::str::contains(
            "FAIL team-label fail policies/team-label/fail/labelled-too.yaml\n     no finding of team-label",
        ))
        .stdout(predicate::str::contains("test result: FAILED. 2 passed, 2 failed"));
}

#[test]
fn expected_findings_pin_where_a_finding_lands() {
    let dir = user_suite();
    let expect = "policies/team-label/fail/unlabelled.expect.yaml";
    write(
        dir.path(),
        expect,
        "- line: 5\n  column: 3\n  message: no team\n",
    );
    seaworthy(dir.path())
        .args(["test", "policies", "--no-config"])
        .assert()
        .code(0)
        // The expectation file is not itself a fixture.
        .stdout(predicate::str::contains("2 cases of 1 rule"));

    write(dir.path(), expect, "- line: 6\n  message: no team\n");
    seaworthy(dir.path())
        .args(["test", "policies", "--no-config"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "expected a finding [team-label] on line 6 with a message containing \"no team\"",
        ))
        .stdout(predicate::str::contains(
            "unexpected: 5:3 [team-label] metadata.labels: no team label",
        ));
}

#[test]
fn a_broken_expectation_file_is_an_error_at_its_line() {
    let dir = user_suite();
    write(
        dir.path(),
        "policies/team-label/fail/unlabelled.expect.yaml",
        "- line: 5\n  mesage: no team\n",
    );
    seaworthy(dir.path())
        .args(["test", "policies", "--no-config"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "policies/team-label/fail/unlabelled.expect.yaml:2:3:",
        ))
        .stderr(predicate::str::contains("mesage"));
}

#[test]
fn a_fixture_directory_named_after_no_rule_fails_with_a_suggestion() {
    let dir = user_suite();
    write(dir.path(), "policies/team-labels/fail/x.yaml", UNLABELLED);
    seaworthy(dir.path())
        .args(["test", "policies", "--no-config"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "no rule \"team-labels\" is loaded (did you mean \"team-label\"?)",
        ));
}

#[test]
fn a_fixture_that_does_not_parse_fails_its_case() {
    let dir = user_suite();
    write(
        dir.path(),
        "policies/team-label/fail/broken.yaml",
        "kind: [unclosed\n",
    );
    seaworthy(dir.path())
        .args(["test", "policies", "--no-config"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "FAIL team-label fail policies/team-label/fail/broken.yaml",
        ))
        .stdout(predicate::str::contains("fixture does not load: 1:"));
}

#[test]
fn a_rule_the_config_disables_is_still_tested_and_untested_rules_are_named() {
    let dir = user_suite();
    write(
        dir.path(),
        ".seaworthy.yaml",
        "rules:\n  team-label: {enabled: false}\n",
    );
    let second = TEAM_LABEL_RULE
        .replace("team_label", "owner_label")
        .replace("\"team-label\"", "\"owner-label\"");
    write(dir.path(), "policies/owner-label.rego", &second);
    let out = seaworthy(dir.path())
        .args(["test", "policies", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["summary"]["passed"], 2);
    assert_eq!(
        report["summary"]["untested_rules"],
        serde_json::json!(["owner-label"])
    );
    let fail_case = report["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["expect"] == "fail")
        .expect("the fail case");
    assert_eq!(fail_case["findings"][0]["line"], 5);
    assert_eq!(fail_case["findings"][0]["rule"], "team-label");
}

#[test]
fn no_fixtures_at_all_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    seaworthy(dir.path())
        .args(["test", "--no-config"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no fixtures found in ."));
}
