//! The real binary: formats, exit codes, stdin, config, suppression, bad input, the rules command.

mod common;

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web, team: storefront}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          livenessProbe:
            httpGet: {path: /healthz, port: 8080}
          resources:
            limits: {memory: 256Mi}
"#;

const CLEAN: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: api
          image: api:1.0
          readinessProbe: {httpGet: {path: /ready, port: 8080}}
          livenessProbe: {httpGet: {path: /healthz, port: 8080}}
          resources: {limits: {memory: 128Mi}}
"#;

fn cmd(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("seaworthy").expect("binary is built");
    cmd.current_dir(dir).env_remove("NO_COLOR");
    cmd
}

/// Runs the binary, checks the exit code, returns stdout.
fn stdout_of(dir: &Path, args: &[&str], code: i32) -> Vec<u8> {
    cmd(dir)
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone()
}

/// Runs the binary and checks it exits 2 with every `needle` in its error output.
fn fails_saying(dir: &Path, args: &[&str], needles: &[&str]) {
    let out = cmd(dir)
        .args(args)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let stderr = String::from_utf8_lossy(&out);
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "stderr lacks {needle:?}:\n{stderr}"
        );
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create dir");
    }
    std::fs::write(path, text).expect("write fixture");
}

fn json_of(output: &[u8]) -> Value {
    serde_json::from_slice(output).expect("stdout is JSON")
}

fn rules_of(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["rule"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn json_output_follows_the_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "web.yaml", DEPLOYMENT);
    let out = stdout_of(dir.path(), &["lint", "web.yaml", "--format", "json"], 1);
    let report = json_of(&out);
    let finding = &report["findings"][0];
    assert_eq!(finding["rule"], "missing-readiness-probe");
    assert_eq!(finding["severity"], "error");
    assert_eq!(
        finding["message"],
        "container \"web\" has no readinessProbe"
    );
    assert_eq!(
        finding["object"],
        serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "web"})
    );
    assert_eq!(
        finding["location"],
        serde_json::json!({"file": "web.yaml", "line": 16, "column": 11, "path": "spec.template.spec.containers[0]"})
    );
    assert_eq!(
        report["summary"],
        serde_json::json!({"files": 1, "objects": 1, "errors": 1, "warnings": 0, "notices": 0, "suppressed": 0})
    );
}

#[test]
fn text_output_quotes_the_line_with_a_caret() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "web.yaml", DEPLOYMENT);
    let out = stdout_of(dir.path(), &["lint", "web.yaml", "--color", "never"], 1);
    let text = String::from_utf8(out).expect("utf-8");
    let expected = "error[missing-readiness-probe]: container \"web\" has no readinessProbe\n  --> web.yaml:16:11\n   |\n16 |         - name: web\n   |           ^\n";
    assert!(text.contains(expected), "{text}");
    assert!(text.contains("= help: Add a readinessProbe"), "{text}");
    assert!(
        text.contains("summary: 1 error, 0 warnings, 0 notices in 1 object from 1 file"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "no colour when asked for none");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "web.yaml", DEPLOYMENT);
    let always = stdout_of(dir.path(), &["lint", "web.yaml", "--color", "always"], 1);
    assert!(
        String::from_utf8_lossy(&always).contains("\u{1b}["),
        "escape codes with --color always"
    );
    // Captured stdout is a pipe, not a terminal: auto means no colour.
    let auto = stdout_of(dir.path(), &["lint", "web.yaml"], 1);
    assert!(
        !String::from_utf8_lossy(&auto).contains('\u{1b}'),
        "no escape codes into a pipe"
    );
}

#[test]
fn exit_codes_follow_fail_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "clean.yaml", CLEAN);
    write(dir.path(), "web.yaml", DEPLOYMENT);
    cmd(dir.path())
        .args(["lint", "clean.yaml"])
        .assert()
        .code(0);
    cmd(dir.path()).args(["lint", "web.yaml"]).assert().code(1);
    cmd(dir.path())
        .args(["lint", "web.yaml", "--fail-on", "never"])
        .assert()
        .code(0);
    // A liveness-only problem is a warning: passes at the default level, fails at --fail-on warning.
    let warn_only = CLEAN.replace(
        "          livenessProbe: {httpGet: {path: /healthz, port: 8080}}\n",
        "",
    );
    write(dir.path(), "warn.yaml", &warn_only);
    cmd(dir.path()).args(["lint", "warn.yaml"]).assert().code(0);
    cmd(dir.path())
        .args(["lint", "warn.yaml", "--fail-on", "warning"])
        .assert()
        .code(1);
    cmd(dir.path())
        .args(["lint", "warn.yaml", "--fail-on", "bogus"])
        .assert()
        .code(2);
}

#[test]
fn stdin_is_read_with_dash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = cmd(dir.path())
        .args(["lint", "-", "--format", "json"])
        .write_stdin(DEPLOYMENT)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let report = json_of(&out);
    assert_eq!(report["findings"][0]["location"]["file"], "<stdin>");
    assert_eq!(report["findings"][0]["location"]["line"], 16);
}

#[test]
fn a_malformed_file_beside_good_ones_still_reports_them_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "manifests/a-broken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: [unclosed\n",
    );
    write(dir.path(), "manifests/b-web.yaml", DEPLOYMENT);
    write(
        dir.path(),
        "manifests/c-nokind.yaml",
        "metadata:\n  name: nothing\n",
    );
    let out = stdout_of(dir.path(), &["lint", "manifests", "--format", "json"], 2);
    let report = json_of(&out);
    let findings = report["findings"].as_array().expect("findings");
    let broken: Vec<(&str, u64)> = findings
        .iter()
        .filter(|f| f["rule"] == "invalid-manifest")
        .map(|f| {
            (
                f["location"]["file"].as_str().unwrap_or(""),
                f["location"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        broken,
        vec![
            ("manifests/a-broken.yaml", 5),
            ("manifests/c-nokind.yaml", 1)
        ]
    );
    assert!(
        rules_of(&report).contains(&"missing-readiness-probe".to_string()),
        "the good file is still checked"
    );
}

#[test]
fn no_objects_at_all_is_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "empty.yaml", "# nothing here\n---\n");
    fails_saying(
        dir.path(),
        &["lint", "empty.yaml"],
        &["no Kubernetes objects"],
    );
    cmd(dir.path())
        .args(["lint", "missing.yaml"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("missing.yaml"));
    cmd(dir.path()).arg("lint").assert().code(2);
}

#[test]
fn file_size_limit_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "web.yaml", DEPLOYMENT);
    write(dir.path(), "clean.yaml", CLEAN);
    let out = stdout_of(
        dir.path(),
        &[
            "lint",
            "web.yaml",
            "clean.yaml",
            "--max-file-size",
            "400",
            "--format",
            "json",
        ],
        2,
    );
    let report = json_of(&out);
    let first = &report["findings"][0];
    assert_eq!(first["rule"], "invalid-manifest");
    assert_eq!(first["location"]["file"], "web.yaml");
    assert!(
        first["message"]
            .as_str()
            .unwrap_or("")
            .contains("limit of 400 bytes"),
        "{first}"
    );
    assert_eq!(
        report["summary"]["objects"], 1,
        "the small file is still read"
    );
}

#[test]
fn duplicate_keys_are_findings() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "dup.yaml",
        &CLEAN.replace("  name: api\n", "  name: api\n  name: api2\n"),
    );
    let out = stdout_of(dir.path(), &["lint", "dup.yaml", "--format", "json"], 1);
    let report = json_of(&out);
    assert_eq!(rules_of(&report), vec!["duplicate-key"]);
    assert_eq!(report["findings"][0]["location"]["line"], 5);
    assert_eq!(report["findings"][0]["object"]["name"], "api2");
}

#[test]
fn annotation_suppression_is_counted_and_shown_on_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let annotated = DEPLOYMENT.replace(
        "  namespace: shop\n",
        "  namespace: shop\n  annotations:\n    seaworthy.dev/ignore: \"missing-readiness-probe, missing-liveness-probe\"\n    seaworthy.dev/ignore-reason: \"batch worker, no traffic\"\n",
    );
    write(dir.path(), "web.yaml", &annotated);
    let out = stdout_of(dir.path(), &["lint", "web.yaml", "--format", "json"], 0);
    let report = json_of(&out);
    assert!(rules_of(&report).is_empty());
    assert_eq!(report["summary"]["suppressed"], 1);
    let out = stdout_of(
        dir.path(),
        &["lint", "web.yaml", "--format", "json", "--show-suppressed"],
        0,
    );
    let report = json_of(&out);
    assert_eq!(rules_of(&report), vec!["missing-readiness-probe"]);
    assert!(report["findings"][0]["suppressed"]
        .as_str()
        .unwrap_or("")
        .contains("batch worker, no traffic"));
}

#[test]
fn config_is_found_upward_and_changes_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "deploy/web.yaml", DEPLOYMENT);
    write(
        dir.path(),
        ".seaworthy.yaml",
        "rules:\n  missing-readiness-probe:\n    severity: notice\n",
    );
    let out = cmd(&dir.path().join("deploy"))
        .args(["lint", "web.yaml", "--format", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    assert_eq!(json_of(&out)["findings"][0]["severity"], "notice");
    // --no-config ignores it; --config points at another file.
    cmd(&dir.path().join("deploy"))
        .args(["lint", "web.yaml", "--no-config"])
        .assert()
        .code(1);
    write(
        dir.path(),
        "other.yaml",
        "rules:\n  missing-readiness-probe:\n    enabled: false\nfail_on: notice\n",
    );
    let out = cmd(&dir.path().join("deploy"))
        .args([
            "lint",
            "web.yaml",
            "--config",
            "../other.yaml",
            "--format",
            "json",
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    assert!(rules_of(&json_of(&out)).is_empty());
    // fail_on from the file, overridden by the flag.
    write(
        dir.path(),
        "strict.yaml",
        "fail_on: notice\nrules:\n  missing-readiness-probe:\n    severity: notice\n",
    );
    cmd(&dir.path().join("deploy"))
        .args(["lint", "web.yaml", "--config", "../strict.yaml"])
        .assert()
        .code(1);
    cmd(&dir.path().join("deploy"))
        .args([
            "lint",
            "web.yaml",
            "--config",
            "../strict.yaml",
            "--fail-on",
            "error",
        ])
        .assert()
        .code(0);
}

#[test]
fn config_typos_are_errors_naming_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "web.yaml", DEPLOYMENT);
    write(
        dir.path(),
        "typo.yaml",
        "rules:\n  missing-readiness-probe:\n    enabeld: false\n",
    );
    fails_saying(
        dir.path(),
        &["lint", "web.yaml", "--config", "typo.yaml"],
        &["typo.yaml:3:5", "enabeld"],
    );
    write(
        dir.path(),
        "unknown.yaml",
        "rules:\n  missing-readines-probe:\n    enabled: false\n",
    );
    cmd(dir.path())
        .args(["lint", "web.yaml", "--config", "unknown.yaml"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("unknown.yaml:2:3")
                .and(predicate::str::contains("unknown rule id")),
        );
    write(dir.path(), "top.yaml", "fial_on: error\n");
    fails_saying(
        dir.path(),
        &["lint", "web.yaml", "--config", "top.yaml"],
        &["top.yaml:1:1"],
    );
}

#[test]
fn exemptions_match_every_criterion() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "web.yaml", DEPLOYMENT);
    let run = |config: &str| -> Value {
        write(dir.path(), "c.yaml", config);
        let out = cmd(dir.path())
            .args(["lint", "web.yaml", "--config", "c.yaml", "--format", "json"])
            .output()
            .expect("runs");
        json_of(&out.stdout)
    };
    let exempted = |config: &str| run(config)["summary"]["suppressed"].as_u64().unwrap_or(99);
    let base = "exemptions:\n  - reason: tracked in OPS-1\n    rules: [missing-readiness-probe]\n";
    assert_eq!(exempted(base), 1);
    assert_eq!(exempted(&format!("{base}    namespaces: [shop]\n")), 1);
    assert_eq!(exempted(&format!("{base}    namespaces: [other]\n")), 0);
    assert_eq!(exempted(&format!("{base}    kinds: [Deployment]\n")), 1);
    assert_eq!(exempted(&format!("{base}    kinds: [DaemonSet]\n")), 0);
    assert_eq!(exempted(&format!("{base}    names: [\"we*\"]\n")), 1);
    assert_eq!(exempted(&format!("{base}    names: [\"api*\"]\n")), 0);
    assert_eq!(
        exempted(&format!(
            "{base}    selector: {{matchLabels: {{team: storefront}}}}\n"
        )),
        1
    );
    assert_eq!(exempted(&format!("{base}    selector: {{matchExpressions: [{{key: team, operator: NotIn, values: [storefront]}}]}}\n")), 0);
    assert_eq!(exempted(&format!("{base}    containers: [web]\n")), 1);
    assert_eq!(exempted(&format!("{base}    containers: [sidecar]\n")), 0);
    assert_eq!(
        exempted("exemptions:\n  - reason: all rules\n    namespaces: [shop]\n"),
        1
    );
    // The reason is required.
    write(
        dir.path(),
        "c.yaml",
        "exemptions:\n  - namespaces: [shop]\n",
    );
    fails_saying(
        dir.path(),
        &["lint", "web.yaml", "--config", "c.yaml"],
        &["reason"],
    );
}

const CUSTOM_POLICY: &str = r#"# What it does: flags Deployments without a team label.
# Why: someone must own every workload.
# Example:
#   metadata: {labels: {team: a}}
# Fix: add a team label.
package seaworthy.rules.org.missing_team_label

import rego.v1

metadata := {
	"id": "missing-team-label",
	"area": "org",
	"severity": "warning",
	"kinds": ["Deployment"],
	"summary": "Workload has no team label",
	"remediation": "Add a team label.",
	"params": {"label": "team"},
}

violations contains v if {
	not input.object.metadata.labels[input.params.label]
	v := {"msg": sprintf("no %q label", [input.params.label]), "path": ["metadata", "labels"]}
}
"#;

#[test]
fn custom_policies_use_the_same_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "web.yaml", DEPLOYMENT);
    write(dir.path(), "org/team.rego", CUSTOM_POLICY);
    let out = stdout_of(
        dir.path(),
        &[
            "lint",
            "web.yaml",
            "--policies",
            "org",
            "--format",
            "json",
            "--fail-on",
            "warning",
        ],
        1,
    );
    assert!(
        !rules_of(&json_of(&out)).contains(&"missing-team-label".to_string()),
        "web has a team label"
    );
    // Parameters come from the config.
    write(
        dir.path(),
        "c.yaml",
        "policies: [org]\nrules:\n  missing-team-label:\n    params: {label: owner}\n",
    );
    let out = stdout_of(
        dir.path(),
        &["lint", "web.yaml", "--config", "c.yaml", "--format", "json"],
        1,
    );
    let report = json_of(&out);
    let custom: Vec<&Value> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "missing-team-label")
        .collect();
    assert_eq!(custom.len(), 1);
    assert_eq!(custom[0]["message"], "no \"owner\" label");
    assert_eq!(custom[0]["location"]["line"], 6);
    // An undeclared parameter is a typo, reported.
    write(
        dir.path(),
        "c.yaml",
        "policies: [org]\nrules:\n  missing-team-label:\n    params: {lable: owner}\n",
    );
    fails_saying(
        dir.path(),
        &["lint", "web.yaml", "--config", "c.yaml"],
        &["lable"],
    );
}

#[test]
fn broken_policies_are_errors_naming_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "web.yaml", DEPLOYMENT);
    write(
        dir.path(),
        "bad/syntax.rego",
        "package seaworthy.rules.x.y\n\nimport rego.v1\n\nviolations contains v if {\n  v := \n}\n",
    );
    fails_saying(
        dir.path(),
        &["lint", "web.yaml", "--policies", "bad"],
        &["syntax.rego", ":6:"],
    );
    write(
        dir.path(),
        "dup/dup.rego",
        &CUSTOM_POLICY.replace("missing-team-label", "missing-readiness-probe"),
    );
    fails_saying(
        dir.path(),
        &["lint", "web.yaml", "--policies", "dup"],
        &["already defined"],
    );
    write(
        dir.path(),
        "sev/sev.rego",
        &CUSTOM_POLICY.replace("\"warning\"", "\"fatal\""),
    );
    fails_saying(
        dir.path(),
        &["lint", "web.yaml", "--policies", "sev"],
        &["sev.rego", "severity"],
    );
    write(
        dir.path(),
        "nometa/nometa.rego",
        "package seaworthy.rules.x.z\n\nimport rego.v1\n\nviolations contains 1 if false\n",
    );
    fails_saying(
        dir.path(),
        &["lint", "web.yaml", "--policies", "nometa"],
        &["metadata"],
    );
    fails_saying(
        dir.path(),
        &["lint", "web.yaml", "--policies", "does-not-exist"],
        &["does-not-exist"],
    );
}

#[test]
fn a_policy_that_fails_at_evaluation_is_reported_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "web.yaml", DEPLOYMENT);
    let bad = CUSTOM_POLICY.replace(
        "v := {\"msg\": sprintf(\"no %q label\", [input.params.label]), \"path\": [\"metadata\", \"labels\"]}",
        "v := {\"message\": \"wrong field\"}",
    );
    write(
        dir.path(),
        "org/team.rego",
        &bad.replace(
            "not input.object.metadata.labels[input.params.label]",
            "true",
        ),
    );
    let out = stdout_of(
        dir.path(),
        &["lint", "web.yaml", "--policies", "org", "--format", "json"],
        2,
    );
    let report = json_of(&out);
    assert!(
        rules_of(&report).contains(&"policy-error".to_string()),
        "{report}"
    );
}

#[test]
fn rules_command_lists_and_documents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = stdout_of(dir.path(), &["rules"], 0);
    let list = String::from_utf8(list).expect("utf-8");
    for id in [
        "missing-readiness-probe",
        "missing-liveness-probe",
        "missing-memory-limit",
        "privileged-container",
    ] {
        assert!(list.contains(id), "{id} listed");
    }
    assert!(list
        .lines()
        .any(|l| l.starts_with("missing-readiness-probe")
            && l.contains("probes")
            && l.contains("error")));
    cmd(dir.path())
        .args(["rules", "missing-readiness-probe"])
        .assert()
        .code(0)
        .stdout(
            predicate::str::contains("What it does:")
                .and(predicate::str::contains("Why:"))
                .and(predicate::str::contains("Fix:"))
                .and(predicate::str::contains("Example:")),
        );
    let json = stdout_of(dir.path(), &["rules", "--format", "json"], 0);
    let json = json_of(&json);
    let ids: Vec<&str> = json
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert!(ids.contains(&"privileged-container"));
    let one = stdout_of(
        dir.path(),
        &["rules", "privileged-container", "--format", "json"],
        0,
    );
    let one = json_of(&one);
    assert_eq!(one["severity"], "error");
    assert_eq!(one["level"], "baseline");
    assert!(one["doc"]["why"].as_str().is_some_and(|s| !s.is_empty()));
    fails_saying(dir.path(), &["rules", "no-such-rule"], &["unknown rule id"]);
}

#[test]
fn helm_output_names_the_template() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rendered = format!("---\n# Source: shop/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\n# Source: shop/templates/deployment.yaml\n{DEPLOYMENT}");
    write(dir.path(), "rendered.yaml", &rendered);
    let out = stdout_of(
        dir.path(),
        &["lint", "rendered.yaml", "--format", "json"],
        1,
    );
    let report = json_of(&out);
    assert_eq!(
        report["findings"][0]["location"]["template"],
        "shop/templates/deployment.yaml"
    );
    assert_eq!(report["findings"][0]["location"]["line"], 24);
    let text = stdout_of(dir.path(), &["lint", "rendered.yaml"], 1);
    assert!(String::from_utf8_lossy(&text)
        .contains("rendered.yaml:24:11 (template shop/templates/deployment.yaml)"));
}

#[test]
fn the_interpreter_and_the_rvm_agree() {
    let manifests = common::root().join("fixtures");
    let run = |engine: &str| {
        let out = cmd(&common::root())
            .args([
                "lint",
                "fixtures/rules",
                "--format",
                "json",
                "--engine",
                engine,
            ])
            .output()
            .expect("runs");
        json_of(&out.stdout)
    };
    assert!(manifests.is_dir());
    let (rvm, interpreter) = (run("rvm"), run("interpreter"));
    assert!(rvm["summary"]["errors"].as_u64().unwrap_or(0) > 0);
    assert_eq!(rvm, interpreter);
}

#[test]
fn docs_rules_md_is_generated_from_the_policies() {
    let out = stdout_of(
        &common::root(),
        &["rules", "--format", "markdown", "--no-config"],
        0,
    );
    let committed = std::fs::read_to_string(common::root().join("docs/rules.md"))
        .expect("docs/rules.md exists");
    assert!(
        String::from_utf8_lossy(&out) == committed,
        "docs/rules.md is out of date: run `cargo run -- rules --format markdown --no-config > docs/rules.md`"
    );
}

const PDB_POLICY: &str = r#"# What it does: test policy reading the inventory.
package seaworthy.rules.test.needs_pdb

import rego.v1

metadata := {"id": "needs-pdb", "area": "test", "severity": "error", "kinds": ["Deployment"], "summary": "s", "remediation": "Add one."}

namespace := object.get(input.object.metadata, "namespace", "default")

violations contains v if {
	count(object.get(data.inventory.namespace, [namespace, "policy/v1", "PodDisruptionBudget"], {})) == 0
	v := {"msg": sprintf("no PodDisruptionBudget in namespace %q", [namespace]), "path": ["metadata", "name"]}
}
"#;

#[test]
fn rules_see_every_object_of_the_run_in_the_inventory() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "policy/pdb.rego", PDB_POLICY);
    let pdb = |ns: &str| {
        format!("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n{ns}spec:\n  maxUnavailable: 1\n")
    };
    let run = |files: &[&str]| -> Vec<String> {
        let mut args = vec![
            "lint",
            "--policies",
            "policy",
            "--format",
            "json",
            "--no-config",
        ];
        args.extend_from_slice(files);
        let out = cmd(dir.path()).args(&args).output().expect("runs");
        let report = json_of(&out.stdout);
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule"] == "needs-pdb")
            .map(|f| f["message"].as_str().unwrap_or("").to_string())
            .collect()
    };
    write(dir.path(), "web.yaml", DEPLOYMENT);
    assert_eq!(
        run(&["web.yaml"]),
        vec!["no PodDisruptionBudget in namespace \"shop\""]
    );
    // The PDB is in another file of the same run, same namespace: seen.
    write(dir.path(), "pdb-shop.yaml", &pdb("  namespace: shop\n"));
    assert!(run(&["web.yaml", "pdb-shop.yaml"]).is_empty());
    // A PDB in another namespace does not count.
    write(dir.path(), "pdb-other.yaml", &pdb("  namespace: other\n"));
    assert_eq!(run(&["web.yaml", "pdb-other.yaml"]).len(), 1);
    // Objects without a namespace land in "default", as kubectl apply without -n puts them.
    write(dir.path(), "pdb-default.yaml", &pdb(""));
    let unnamespaced = CLEAN.replace("  namespace: shop\n", "");
    write(dir.path(), "api.yaml", &unnamespaced);
    assert!(run(&["api.yaml", "pdb-default.yaml"]).is_empty());
}

#[test]
fn pod_security_none_turns_the_security_rules_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let privileged = CLEAN.replace(
        "          resources:",
        "          securityContext: {privileged: true}\n          resources:",
    );
    write(dir.path(), "priv.yaml", &privileged);
    let out = stdout_of(
        dir.path(),
        &["lint", "priv.yaml", "--format", "json", "--no-config"],
        1,
    );
    assert_eq!(rules_of(&json_of(&out)), vec!["privileged-container"]);
    write(dir.path(), "c.yaml", "pod_security: none\n");
    cmd(dir.path())
        .args(["lint", "priv.yaml", "--config", "c.yaml"])
        .assert()
        .code(0);
    write(dir.path(), "c.yaml", "pod_security: baseline\n");
    cmd(dir.path())
        .args(["lint", "priv.yaml", "--config", "c.yaml"])
        .assert()
        .code(1);
}
