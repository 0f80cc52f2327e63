//! The CI formats through the real binary, on the seeds' manifests: SARIF validates against the
//! SARIF 2.1.0 schema, JUnit parses as XML, GitHub workflow commands carry the right file, line
//! and column; and baselines: a new violation fails, lines moving do not.

mod common;

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const MANIFESTS: &str = "fixtures/manifests";

fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let output = Command::cargo_bin("seaworthy")
        .expect("binary is built")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("binary runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    (output.status.code().unwrap_or(-1), stdout)
}

/// The findings of the JSON format: the reference the other formats are compared with.
fn json_findings(dir: &Path, paths: &[&str]) -> Vec<Value> {
    let mut args = vec!["lint", "--no-config", "--format", "json"];
    args.extend_from_slice(paths);
    let (_, stdout) = run(dir, &args);
    let report: Value = serde_json::from_str(&stdout).expect("JSON output");
    report["findings"].as_array().expect("findings").clone()
}

fn location(f: &Value) -> (String, u64, u64) {
    (
        f["location"]["file"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        f["location"]["line"].as_u64().unwrap_or_default(),
        f["location"]["column"].as_u64().unwrap_or_default(),
    )
}

#[test]
fn sarif_validates_against_the_schema_and_points_at_the_findings() {
    let root = common::root();
    let validator = common::sarif_validator();

    let (code, stdout) = run(
        &root,
        &["lint", "--no-config", "--format", "sarif", MANIFESTS],
    );
    assert_eq!(code, 1, "the seeds' manifests have errors");
    let sarif: Value = serde_json::from_str(&stdout).expect("SARIF is JSON");
    let errors = common::sarif_errors(&validator, &sarif);
    assert!(
        errors.is_empty(),
        "SARIF schema violations:\n{}",
        errors.join("\n")
    );
    // The validator does bite: a level SARIF does not know is rejected.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("notice");
    assert!(!validator.is_valid(&broken));

    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let results = run["results"].as_array().expect("results");
    let expected = json_findings(&root, &[MANIFESTS]);
    assert_eq!(results.len(), expected.len());
    assert!(!results.is_empty());
    for (result, finding) in results.iter().zip(&expected) {
        assert_eq!(result["ruleId"], finding["rule"]);
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(
            rules[index]["id"], finding["rule"],
            "ruleIndex points at the rule"
        );
        let level = match finding["severity"].as_str() {
            Some("notice") => "note",
            other => other.unwrap_or_default(),
        };
        assert_eq!(result["level"], level);
        let physical = &result["locations"][0]["physicalLocation"];
        let uri = physical["artifactLocation"]["uri"].as_str().expect("uri");
        let (file, line, column) = location(finding);
        assert_eq!(uri, file, "artifact URI relative to the working directory");
        assert!(!uri.starts_with('/') && !uri.starts_with("file:"));
        assert_eq!(physical["region"]["startLine"].as_u64(), Some(line));
        assert_eq!(physical["region"]["startColumn"].as_u64(), Some(column));
        let help = rules[index]["help"]["text"].as_str().unwrap_or_default();
        assert!(!help.is_empty(), "rule {uri} has help text");
    }
}

#[test]
fn sarif_uris_are_relative_to_the_working_directory() {
    let root = common::root();
    let absolute = root.join("fixtures/manifests/example/deployment.yaml");
    let (_, stdout) = run(
        &root.join("fixtures"),
        &[
            "lint",
            "--no-config",
            "--format",
            "sarif",
            absolute.to_str().expect("UTF-8 path"),
        ],
    );
    let sarif: Value = serde_json::from_str(&stdout).expect("SARIF is JSON");
    let uri = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
        ["artifactLocation"]["uri"];
    assert_eq!(uri, "manifests/example/deployment.yaml");
}

#[test]
fn junit_has_a_test_case_per_object_and_a_failure_per_error() {
    let root = common::root();
    let (code, xml) = run(
        &root,
        &["lint", "--no-config", "--format", "junit", MANIFESTS],
    );
    assert_eq!(code, 1);
    let doc = roxmltree::Document::parse(&xml).expect("JUnit output parses as XML");
    let suites = doc.root_element();
    assert_eq!(suites.tag_name().name(), "testsuites");

    let (_, json) = run(
        &root,
        &["lint", "--no-config", "--format", "json", MANIFESTS],
    );
    let report: Value = serde_json::from_str(&json).expect("JSON output");
    let objects = report["summary"]["objects"].as_u64().expect("objects") as usize;
    let findings = report["findings"].as_array().expect("findings");

    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), objects, "one test case per object");
    let failures: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .collect();
    // Under the default --fail-on error, only errors fail a test case (see tests/output.rs for
    // the other levels).
    let errors: Vec<&Value> = findings
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert!(errors.len() < findings.len(), "the seeds have warnings too");
    assert_eq!(failures.len(), errors.len(), "one failure per error");
    for finding in errors {
        let (file, line, column) = location(finding);
        let rule = finding["rule"].as_str().unwrap_or_default();
        let at = format!("{file}:{line}:{column}: ");
        assert!(
            failures.iter().any(|f| f.attribute("type") == Some(rule)
                && f.text().is_some_and(|t| t.starts_with(&at))),
            "no <failure type={rule:?}> at {at}"
        );
    }
    let failed_cases = suites
        .attribute("failures")
        .and_then(|n| n.parse::<usize>().ok())
        .expect("failures count");
    let with_failures = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .count();
    assert_eq!(failed_cases, with_failures);
    assert!(with_failures < cases.len(), "clean objects pass");
}

#[test]
fn github_commands_carry_file_line_and_column() {
    let root = common::root();
    let (code, out) = run(
        &root,
        &["lint", "--no-config", "--format", "github", MANIFESTS],
    );
    assert_eq!(code, 1);
    let commands: Vec<&str> = out.lines().filter(|l| l.starts_with("::")).collect();
    let expected = json_findings(&root, &[MANIFESTS]);
    assert_eq!(commands.len(), expected.len());
    for (line, finding) in commands.iter().zip(&expected) {
        let (file, row, column) = location(finding);
        let level = match finding["severity"].as_str() {
            Some("error") => "error",
            Some("warning") => "warning",
            _ => "notice",
        };
        let prefix = format!(
            "::{level} file={file},line={row},col={column},title={}::",
            finding["rule"].as_str().unwrap_or_default()
        );
        assert!(line.starts_with(&prefix), "{line}\n  expected {prefix}");
    }
}

#[test]
fn github_messages_are_escaped() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A name with a comma and a colon in the file name, and a message with a newline-free text.
    let file = dir.path().join("a,b:c.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: \"50%\"\n      image: x:1\n      securityContext: {privileged: true}\n",
    )
    .expect("write");
    let (_, out) = run(
        dir.path(),
        &["lint", "--no-config", "--format", "github", "a,b:c.yaml"],
    );
    let line = out
        .lines()
        .find(|l| l.contains("title=privileged-container"))
        .expect("privileged finding");
    assert!(line.starts_with("::error file=a%2Cb%3Ac.yaml,"), "{line}");
    assert!(
        line.contains("container \"50%25\" runs privileged"),
        "{line}"
    );
}

const WEB: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
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
          resources:
            limits: {memory: 256Mi}
";

#[test]
fn baseline_reports_only_new_findings_and_survives_moving_lines() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("web.yaml");
    std::fs::write(&path, WEB).expect("write");
    let (code, _) = run(
        dir.path(),
        &[
            "lint",
            "--no-config",
            "web.yaml",
            "--write-baseline",
            "baseline.json",
        ],
    );
    assert_eq!(code, 0, "writing a baseline accepts today's findings");
    let baseline: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("baseline.json")).expect("baseline written"),
    )
    .expect("baseline is JSON");
    assert!(!baseline["findings"].as_array().expect("entries").is_empty());

    let lint = |dir: &Path| {
        run(
            dir,
            &[
                "lint",
                "--no-config",
                "--format",
                "json",
                "web.yaml",
                "--baseline",
                "baseline.json",
            ],
        )
    };
    let (code, out) = lint(dir.path());
    assert_eq!(code, 0, "{out}");

    // Lines move: comments on top, the document after another one, keys reordered.
    let moved = format!(
        "# moved down\n# by a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: shop}}\ndata: {{a: b}}\n---\n{}",
        WEB.replace("  replicas: 3\n", "").replace("spec:\n  selector", "spec:\n  replicas: 3\n  selector")
    );
    std::fs::write(&path, &moved).expect("write");
    let (code, out) = lint(dir.path());
    assert_eq!(code, 0, "moving lines must not fail:\n{out}");

    // A new violation: a second container without a memory limit, and privileged.
    let added = moved.replace(
        "          resources:\n            limits: {memory: 256Mi}\n",
        "          resources:\n            limits: {memory: 256Mi}\n        - name: debug\n          image: busybox:1.36\n          securityContext: {privileged: true}\n",
    );
    std::fs::write(&path, &added).expect("write");
    let (code, out) = lint(dir.path());
    assert_eq!(code, 1, "a new violation fails");
    let report: Value = serde_json::from_str(&out).expect("JSON");
    let findings = report["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    for f in findings {
        assert!(
            f["location"]["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("spec.template.spec.containers[1]")),
            "only the new container's findings are reported: {f}"
        );
    }
}

#[test]
fn a_broken_baseline_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("web.yaml"), WEB).expect("write");
    std::fs::write(dir.path().join("baseline.json"), "{\"findings\": 3}").expect("write");
    let output = Command::cargo_bin("seaworthy")
        .expect("binary")
        .current_dir(dir.path())
        .args([
            "lint",
            "--no-config",
            "web.yaml",
            "--baseline",
            "baseline.json",
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("baseline.json"), "{stderr}");
    let (code, _) = run(
        dir.path(),
        &[
            "lint",
            "--no-config",
            "web.yaml",
            "--baseline",
            "missing.json",
        ],
    );
    assert_eq!(code, 2);
}
