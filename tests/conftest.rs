//! conftest policies run unchanged (`--conftest DIR`): v0 and v1 syntax, `deny`, `violation`,
//! `warn` and `deny_<name>` rules, `exception`, namespaces, `_test.rego` files left out, and
//! load errors naming file and line. Fixtures: fixtures/conftest/ (written for these tests).

use assert_cmd::Command;
use serde_json::Value;

/// A finding of a conftest rule or a load error: (rule, severity, object name, message).
type Row = (String, String, String, String);

fn lint(args: &[&str]) -> (i32, Vec<Row>, Value) {
    let output = Command::cargo_bin("seaworthy")
        .expect("binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["lint", "--no-config", "--format", "json"])
        .args(args)
        .output()
        .expect("runs");
    let json: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    let mut findings: Vec<Row> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            let rule = f["rule"].as_str().unwrap_or_default();
            rule.starts_with("conftest/") || rule == "policy-error"
        })
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["severity"].as_str().unwrap_or_default().to_string(),
                f["object"]["name"].as_str().unwrap_or_default().to_string(),
                f["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    findings.sort();
    (output.status.code().unwrap_or(-1), findings, json)
}

const OBJECTS: &str = "fixtures/conftest/objects";

fn row(rule: &str, severity: &str, name: &str, message: &str) -> Row {
    (rule.into(), severity.into(), name.into(), message.into())
}

#[test]
fn v0_rules_of_package_main_report_with_the_object_as_input() {
    let (code, findings, _) = lint(&["--conftest", "fixtures/conftest/policy", OBJECTS]);
    assert_eq!(code, 1);
    assert_eq!(
        findings,
        [
            row(
                "conftest/main/deny",
                "error",
                "web",
                "Deployment web: containers must not run as root"
            ),
            // api carries the exception annotation: deny_latest is excepted for it.
            row(
                "conftest/main/deny_latest",
                "error",
                "web",
                "container web uses the latest tag"
            ),
            // violation results are objects: their msg is the message.
            row(
                "conftest/main/violation",
                "error",
                "web",
                "Service web is a NodePort"
            ),
            row(
                "conftest/main/warn",
                "warning",
                "web",
                "Deployment web has no team label"
            ),
        ]
    );
}

#[test]
fn v1_rules_of_a_named_namespace_run_and_main_is_then_not_implied() {
    let (_, findings, _) = lint(&[
        "--conftest",
        "fixtures/conftest/v1",
        "--conftest-namespace",
        "kubernetes.labels",
        OBJECTS,
    ]);
    assert_eq!(
        findings,
        [
            row(
                "conftest/kubernetes.labels/deny",
                "error",
                "web",
                "Deployment web has no owner label"
            ),
            row(
                "conftest/kubernetes.labels/deny",
                "error",
                "web",
                "Service web has no owner label"
            ),
        ]
    );
    // The v1 folder has no package main.
    let (code, findings, _) = lint(&["--conftest", "fixtures/conftest/v1", OBJECTS]);
    assert_eq!(code, 2);
    assert!(
        findings[0]
            .3
            .contains("no deny, violation or warn rule in package main"),
        "{findings:?}"
    );
}

#[test]
fn rule_ids_switch_off_and_reach_the_output() {
    let (_, findings, _) = lint(&[
        "--conftest",
        "fixtures/conftest/policy",
        "--disable",
        "conftest/main/warn",
        OBJECTS,
    ]);
    assert!(findings.iter().all(|f| f.0 != "conftest/main/warn"));
    assert!(findings.iter().any(|f| f.0 == "conftest/main/deny"));
}

#[test]
fn an_unknown_rule_id_is_a_usage_error() {
    let output = Command::cargo_bin("seaworthy")
        .expect("binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "lint",
            "--no-config",
            "--conftest",
            "fixtures/conftest/policy",
            "--disable",
            "conftest/main/dney",
            OBJECTS,
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("did you mean conftest/main/deny"),
        "{stderr}"
    );
}

#[test]
fn http_send_fails_at_load_naming_file_and_line_and_the_rest_still_runs() {
    let (code, findings, json) = lint(&["--conftest", "fixtures/conftest/broken", OBJECTS]);
    assert_eq!(code, 2);
    let error = findings
        .iter()
        .find(|f| f.0 == "policy-error")
        .expect("load error");
    assert!(error.3.contains("http.send"), "{error:?}");
    let location = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "policy-error")
        .map(|f| f["location"].clone())
        .expect("location");
    assert_eq!(location["file"], "fixtures/conftest/broken/bad.rego");
    assert_eq!(location["line"], 4);
    // The built-in rules still ran on the objects.
    assert!(
        json["summary"]["objects"].as_u64() == Some(3),
        "{}",
        json["summary"]
    );
}

#[test]
fn a_boolean_rule_in_v1_without_the_import_reports_once() {
    // OPA 1.0 parses files as v1 without `import rego.v1`; a boolean deny reports its name.
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("service.rego"),
        "package main\n\ndeny if input.kind == \"Service\"\n",
    )
    .expect("write");
    let policy = dir.path().display().to_string();
    let (code, findings, _) = lint(&["--conftest", &policy, OBJECTS]);
    assert_eq!(code, 1);
    assert_eq!(
        findings,
        [row(
            "conftest/main/deny",
            "error",
            "web",
            "deny of package main"
        )]
    );
}

/// A conftest file passes the same load-time checks as any policy before regorus parses it: a
/// run of thousands of minus signs (each parsed by recursion) used to reach the parser unchecked
/// and overflow the stack, aborting lint (exit 134). Now a policy error naming the file, and the
/// other conftest file and the built-in rules still run.
#[test]
fn a_conftest_file_nested_past_the_limits_is_refused_and_the_rest_still_runs() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("deep.rego"),
        format!(
            "package main\n\nx := ({}1)\n\ndeny[msg] {{\n  x == 0\n  msg := \"never\"\n}}\n",
            "-\n".repeat(20_000)
        ),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("service.rego"),
        "package main\n\ndeny[msg] {\n  input.kind == \"Service\"\n  msg := \"no services\"\n}\n",
    )
    .expect("write");
    let policies = dir.path().to_str().expect("utf-8");
    let (code, findings, json) = lint(&["--conftest", policies, OBJECTS]);
    assert_eq!(code, 2, "{findings:?}");
    let error = findings
        .iter()
        .find(|f| f.0 == "policy-error")
        .expect("load error");
    assert!(error.3.contains("minus signs in a row"), "{error:?}");
    let file = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "policy-error")
        .map(|f| f["location"]["file"].clone())
        .expect("location");
    assert!(
        file.as_str().is_some_and(|f| f.ends_with("deep.rego")),
        "{file}"
    );
    assert!(
        findings.iter().any(|f| f.0 == "conftest/main/deny"),
        "the other file's rule ran: {findings:?}"
    );
    assert_eq!(json["summary"]["objects"].as_u64(), Some(3));
}
