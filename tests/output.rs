//! The report side through the real binary: several reports in one run (`--output FORMAT=FILE`),
//! the compact and GitLab Code Quality formats, JUnit failing only what fails the run, and SARIF's
//! rule links, security severities and tags.

mod common;

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const MANIFESTS: &str = "fixtures/manifests";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let output = Command::cargo_bin("seaworthy")
        .expect("binary is built")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 output"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 errors"),
    }
}

/// The findings of the JSON format (active ones only, as by default).
fn json_findings(dir: &Path, paths: &[&str]) -> Vec<Value> {
    let mut args = vec!["lint", "--no-config", "--format", "json"];
    args.extend_from_slice(paths);
    let report: Value = serde_json::from_str(&run(dir, &args).stdout).expect("JSON output");
    report["findings"].as_array().expect("findings").clone()
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn rank(severity: &str) -> u8 {
    match severity {
        "error" => 3,
        "warning" => 2,
        _ => 1,
    }
}

// --- several outputs in one run -------------------------------------------------------------

#[test]
fn text_on_the_terminal_and_sarif_to_a_file_in_one_run() {
    let root = common::root();
    let dir = tempfile::tempdir().expect("temp dir");
    let sarif_path = dir.path().join("results.sarif");
    let junit_path = dir.path().join("junit.xml");
    let both = run(
        &root,
        &[
            "lint",
            "--no-config",
            "--output",
            &format!("sarif={}", sarif_path.display()),
            "--output",
            &format!("junit={}", junit_path.display()),
            MANIFESTS,
        ],
    );
    assert_eq!(both.code, 1, "{}", both.stderr);
    let alone = |format: &str| {
        run(
            &root,
            &["lint", "--no-config", "--format", format, MANIFESTS],
        )
    };
    // Standard output keeps the default text report, byte for byte.
    assert_eq!(both.stdout, alone("text").stdout);
    assert!(both.stdout.contains("summary: "));
    // Each file holds exactly what that format prints on its own.
    let sarif = std::fs::read_to_string(&sarif_path).expect("SARIF file written");
    assert_eq!(sarif, alone("sarif").stdout);
    let junit = std::fs::read_to_string(&junit_path).expect("JUnit file written");
    assert_eq!(junit, alone("junit").stdout);
}

/// `lint` with JSON on standard output and a text report to a file, plus `extra` options: the run
/// (exit 1: the manifests have errors) and the text file.
fn json_out_and_text_file(root: &Path, extra: &[&str]) -> (Run, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let text_path = dir.path().join("report.txt");
    let text_output = format!("text={}", text_path.display());
    let mut args = vec!["lint", "--no-config"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--output", "json=-", "--output", &text_output, MANIFESTS]);
    let out = run(root, &args);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let text = std::fs::read_to_string(&text_path).expect("text file written");
    (out, text)
}

#[test]
fn an_output_to_stdout_replaces_the_text_report() {
    let root = common::root();
    let (out, text) = json_out_and_text_file(&root, &["--color", "always"]);
    let report: Value = serde_json::from_str(&out.stdout).expect("stdout is the JSON report");
    assert!(!report["findings"].as_array().expect("findings").is_empty());
    assert!(text.contains("summary"));
    // --color always colors a file too (auto would not).
    assert!(text.contains('\u{1b}'));
}

/// A run frees the files' text before the check when no report quotes source lines: a text report
/// written to a file, beside JSON on standard output, still quotes them, exactly as alone.
#[test]
fn a_text_report_beside_json_quotes_the_source_lines_as_alone() {
    let root = common::root();
    let (out, text) = json_out_and_text_file(&root, &[]);
    let alone = run(&root, &["lint", "--no-config", MANIFESTS]);
    assert_eq!(text, alone.stdout);
    // The quoted lines are there: a line number, a bar and the source.
    assert!(
        text.lines()
            .any(|l| l.contains(" | ") && l.contains("image:")),
        "{text}"
    );
    // JSON alone (text freed) reports the same findings as beside the text report.
    let json_alone = run(
        &root,
        &["lint", "--no-config", "--format", "json", MANIFESTS],
    );
    assert_eq!(json_alone.stdout, out.stdout);
}

#[test]
fn bad_outputs_are_usage_errors_that_name_the_problem() {
    let root = common::root();
    let dir = tempfile::tempdir().expect("temp dir");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--output".into(), "xml=out.xml".into()],
            "unknown format \"xml\"",
        ),
        (
            vec!["--output".into(), "sarif".into()],
            "expected FORMAT=FILE",
        ),
        (vec!["--output".into(), "sarif=".into()], "no file after"),
        (
            vec![
                "--output".into(),
                format!("sarif={}", dir.path().join("no/such/dir/x.sarif").display()),
            ],
            "no/such/dir/x.sarif",
        ),
        (
            vec![
                "--output".into(),
                "json=-".into(),
                "--output".into(),
                "sarif=-".into(),
            ],
            "would go to standard output",
        ),
        (
            vec![
                "--format".into(),
                "json".into(),
                "--output".into(),
                "sarif=-".into(),
            ],
            "both name the report on standard output",
        ),
        (
            vec![
                "--output".into(),
                format!("json={}", dir.path().join("same").display()),
                "--output".into(),
                format!("sarif={}", dir.path().join("same").display()),
            ],
            "both a json and a sarif report",
        ),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["lint", "--no-config"];
        args.extend(flags.iter().map(String::as_str));
        args.push(MANIFESTS);
        let out = run(&root, &args);
        assert_eq!(out.code, 2, "{flags:?} is a usage error");
        assert!(
            out.stderr.contains(expected),
            "{flags:?}: stderr does not say {expected:?}:\n{}",
            out.stderr
        );
        assert!(
            out.stdout.is_empty(),
            "{flags:?}: no report before the error"
        );
    }
}

// --- compact ---------------------------------------------------------------------------------

#[test]
fn compact_is_one_line_per_finding_in_the_json_order() {
    let root = common::root();
    let out = run(
        &root,
        &["lint", "--no-config", "--format", "compact", MANIFESTS],
    );
    assert_eq!(out.code, 1);
    let expected = json_findings(&root, &[MANIFESTS]);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines.len(),
        expected.len(),
        "one line per finding, nothing else"
    );
    for (line, f) in lines.iter().zip(&expected) {
        let want = format!(
            "{}:{}:{}: {}[{}] {}",
            text(&f["location"]["file"]),
            f["location"]["line"],
            f["location"]["column"],
            text(&f["severity"]),
            text(&f["rule"]),
            text(&f["message"])
        );
        assert_eq!(*line, want);
    }
}

#[test]
fn compact_reports_an_unreadable_document_on_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A manifest that does not parse: the parser's message is the finding's.
    std::fs::write(
        dir.path().join("bad.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: [\n",
    )
    .expect("write");
    let out = run(
        dir.path(),
        &["lint", "--no-config", "--format", "compact", "bad.yaml"],
    );
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    assert!(out.stdout.starts_with("bad.yaml:"), "{}", out.stdout);
    assert!(
        out.stdout.contains(": error[invalid-manifest] "),
        "{}",
        out.stdout
    );
}

#[test]
fn a_clean_run_prints_nothing_in_compact() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\ndata: {a: b}\n",
    )
    .expect("write");
    let out = run(
        dir.path(),
        &["lint", "--no-config", "--format", "compact", "cm.yaml"],
    );
    assert_eq!((out.code, out.stdout.as_str()), (0, ""));
}

// --- GitLab Code Quality ---------------------------------------------------------------------

fn gitlab_validator() -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(common::root().join("tests/schemas/gitlab-code-quality.json"))
            .expect("schema");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::draft7::new(&schema).expect("schema compiles")
}

#[test]
fn gitlab_report_has_the_documented_fields_and_unique_fingerprints() {
    let root = common::root();
    let validator = gitlab_validator();
    let out = run(
        &root,
        &["lint", "--no-config", "--format", "gitlab", MANIFESTS],
    );
    assert_eq!(out.code, 1);
    let issues: Value = serde_json::from_str(&out.stdout).expect("GitLab report is JSON");
    let errors: Vec<String> = validator
        .iter_errors(&issues)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "schema violations:\n{}",
        errors.join("\n")
    );
    // The schema bites: a severity GitLab does not know is rejected.
    let mut broken = issues.clone();
    broken[0]["severity"] = Value::from("error");
    assert!(!validator.is_valid(&broken));

    let issues = issues.as_array().expect("array");
    let expected = json_findings(&root, &[MANIFESTS]);
    assert_eq!(issues.len(), expected.len());
    let mut fingerprints = std::collections::HashSet::new();
    for (issue, f) in issues.iter().zip(&expected) {
        assert_eq!(issue["check_name"], f["rule"]);
        assert!(text(&issue["description"]).starts_with(text(&f["message"])));
        assert_eq!(issue["location"]["path"], f["location"]["file"]);
        assert_eq!(issue["location"]["lines"]["begin"], f["location"]["line"]);
        let severity = match text(&f["severity"]) {
            "error" => "major",
            "warning" => "minor",
            _ => "info",
        };
        assert_eq!(issue["severity"], severity);
        assert!(
            fingerprints.insert(text(&issue["fingerprint"]).to_string()),
            "fingerprint repeated: {issue}"
        );
    }
}

#[test]
fn gitlab_fingerprints_survive_lines_moving_and_paths_are_relative() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers:\n    - name: a\n      image: x:1\n      securityContext: {privileged: true}\n";
    let file = dir.path().join("pod.yaml");
    std::fs::write(&file, pod).expect("write");
    let absolute = file.to_str().expect("UTF-8 path").to_string();
    let report = |args: &[&str]| -> Vec<Value> {
        let mut all = vec!["lint", "--no-config", "--format", "gitlab"];
        all.extend_from_slice(args);
        serde_json::from_str::<Value>(&run(dir.path(), &all).stdout)
            .expect("JSON")
            .as_array()
            .expect("array")
            .clone()
    };
    let before = report(&[&absolute]);
    assert!(!before.is_empty());
    // Absolute inputs are named relative to the working directory (the repository in CI).
    assert!(before.iter().all(|i| i["location"]["path"] == "pod.yaml"));
    std::fs::write(&file, format!("# a comment\n# another\n{pod}")).expect("write");
    let after = report(&["pod.yaml"]);
    let prints = |issues: &[Value]| -> Vec<String> {
        issues
            .iter()
            .map(|i| text(&i["fingerprint"]).to_string())
            .collect()
    };
    assert_eq!(prints(&before), prints(&after));
    assert_ne!(
        before[0]["location"]["lines"],
        after[0]["location"]["lines"]
    );
}

// --- JUnit -----------------------------------------------------------------------------------

#[test]
fn junit_fails_only_what_fails_the_run() {
    let root = common::root();
    let findings = json_findings(&root, &[MANIFESTS]);
    assert!(
        findings.iter().any(|f| f["severity"] != "error"),
        "the seeds have findings below error"
    );
    for (fail_on, threshold) in [("never", 4), ("error", 3), ("warning", 2), ("notice", 1)] {
        let out = run(
            &root,
            &[
                "lint",
                "--no-config",
                "--format",
                "junit",
                "--fail-on",
                fail_on,
                MANIFESTS,
            ],
        );
        let doc = roxmltree::Document::parse(&out.stdout).expect("XML");
        let failures = doc
            .descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count();
        let failing = findings
            .iter()
            .filter(|f| rank(text(&f["severity"])) >= threshold)
            .count();
        assert_eq!(failures, failing, "--fail-on {fail_on}");
        // A test case is red exactly when it has a failure, and the counts say so.
        let red = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
            .count();
        let counted: usize = doc
            .root_element()
            .attribute("failures")
            .and_then(|n| n.parse().ok())
            .expect("failures count");
        assert_eq!(red, counted, "--fail-on {fail_on}");
        assert_eq!(
            red == 0,
            out.code == 0,
            "red tests exactly when the job fails ({fail_on})"
        );
        // What does not fail is still listed, in the case's system-out.
        let listed: usize = doc
            .descendants()
            .filter(|n| n.has_tag_name("system-out"))
            .filter_map(|n| n.text())
            .map(|t| t.split("\n\n").count())
            .sum();
        assert_eq!(listed, findings.len() - failing, "--fail-on {fail_on}");
    }
}

// --- SARIF -----------------------------------------------------------------------------------

#[test]
fn sarif_rules_link_their_doc_and_rank_security_rules() {
    let root = common::root();
    let validator = common::sarif_validator();
    let catalog: Value =
        serde_json::from_str(&run(&root, &["rules", "--no-config", "--format", "json"]).stdout)
            .expect("rules JSON");
    let area_of = |id: &str| -> String {
        catalog
            .as_array()
            .expect("rules")
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| text(&r["area"]).to_string())
            .unwrap_or_default()
    };
    for (extra, base) in [
        (
            vec![],
            "https://github.com/seaworthy-dev/seaworthy/blob/main/docs/rules.md",
        ),
        (
            vec![
                "--rules-doc-url",
                "https://docs.example.com/seaworthy/rules",
            ],
            "https://docs.example.com/seaworthy/rules",
        ),
    ] {
        let mut args = vec!["lint", "--no-config", "--format", "sarif"];
        args.extend(extra);
        args.push(MANIFESTS);
        let sarif: Value = serde_json::from_str(&run(&root, &args).stdout).expect("SARIF");
        let errors = common::sarif_errors(&validator, &sarif);
        assert!(
            errors.is_empty(),
            "SARIF schema violations:\n{}",
            errors.join("\n")
        );
        let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules");
        let mut security = 0;
        for rule in rules {
            let id = text(&rule["id"]);
            let area = area_of(id);
            if area.is_empty() {
                // Problems of the loader and engine: no doc section, no link.
                assert!(rule.get("helpUri").is_none(), "{id}");
                continue;
            }
            assert_eq!(rule["helpUri"], format!("{base}#{id}"), "{id}");
            let tags: Vec<&str> = rule["properties"]["tags"]
                .as_array()
                .expect("tags")
                .iter()
                .map(text)
                .collect();
            assert!(
                tags.contains(&area.as_str()),
                "{id} is tagged with its area"
            );
            let score = rule["properties"]["security-severity"].as_str();
            if ["security", "hardening", "network"].contains(&area.as_str()) {
                security += 1;
                assert!(tags.contains(&"security"), "{id} is tagged security");
                let score: f64 = score.and_then(|s| s.parse().ok()).expect("a number");
                assert!((0.1..=10.0).contains(&score), "{id}: {score}");
                let expected = match text(&rule["defaultConfiguration"]["level"]) {
                    "error" => 7.0..9.0,
                    "warning" => 4.0..7.0,
                    _ => 0.1..4.0,
                };
                assert!(expected.contains(&score), "{id}: {score} fits its level");
            } else {
                assert!(score.is_none(), "{id} is not a security rule");
                assert!(!tags.contains(&"security"), "{id}");
            }
        }
        assert!(security > 10, "the Pod Security rules are security rules");
    }
}

#[test]
fn a_user_policy_gets_a_help_uri_only_from_the_flag() {
    let root = common::root();
    let dir = tempfile::tempdir().expect("temp dir");
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).expect("mkdir");
    std::fs::write(policies.join("team_label.rego"), TEAM_LABEL).expect("write policy");
    let policies = policies.to_str().expect("UTF-8 path");
    let rule = |extra: &[&str]| -> Value {
        let mut args = vec![
            "lint",
            "--no-config",
            "--format",
            "sarif",
            "--policies",
            policies,
        ];
        args.extend_from_slice(extra);
        args.push("fixtures/manifests/example/deployment.yaml");
        let out = run(&root, &args);
        let sarif: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
            panic!("SARIF: {e}\n{}", out.stderr);
        });
        sarif["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .find(|r| r["id"] == "team-label")
            .cloned()
            .expect("the user's rule is listed")
    };
    assert!(rule(&[]).get("helpUri").is_none());
    assert_eq!(
        rule(&["--rules-doc-url", "https://wiki.example.com/k8s-rules"])["helpUri"],
        "https://wiki.example.com/k8s-rules#team-label"
    );
}

const TEAM_LABEL: &str = r#"# What it does: flags Deployments without a team label.
# Why: someone must own each workload.
# Example:
#   metadata: {labels: {team: shop}}
# Fix: add a team label.
package seaworthy.rules.ownership.team_label

import rego.v1

metadata := {
	"id": "team-label",
	"area": "ownership",
	"severity": "warning",
	"kinds": ["Deployment"],
	"summary": "Workload has no team label",
	"remediation": "Add metadata.labels.team.",
}

violations contains v if {
	not input.object.metadata.labels.team
	v := {"msg": "no team label", "path": ["metadata"]}
}
"#;
