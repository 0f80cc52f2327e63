//! Gatekeeper ConstraintTemplates and Constraints run unchanged (`--gatekeeper DIR`): match
//! semantics, parameters, libs, `data.inventory`, enforcement actions, load errors, and the
//! findings going through suppression, baselines, config and output formats like built-in ones.
//! Fixtures: fixtures/gatekeeper/ (written for these tests).

mod common;

use assert_cmd::Command;
use serde_json::Value;

use common::https::{denial, response, warnings, Options, Server};

fn seaworthy() -> Command {
    let mut cmd = Command::cargo_bin("seaworthy").expect("binary");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// Runs `lint --format json` and returns (exit code, findings of gatekeeper rules and policy
/// errors as (rule, severity, object name, line, message)).
/// A finding of a constraint or a load error: (rule, severity, object name, line, message).
type Row = (String, String, String, u64, String);

fn lint(args: &[&str]) -> (i32, Vec<Row>, Value) {
    let output = seaworthy()
        .args(["lint", "--no-config", "--format", "json"])
        .args(args)
        .output()
        .expect("runs");
    let json: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    let findings = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            let rule = f["rule"].as_str().unwrap_or_default();
            rule.starts_with("gatekeeper/") || rule == "policy-error"
        })
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["severity"].as_str().unwrap_or_default().to_string(),
                f["object"]["name"].as_str().unwrap_or_default().to_string(),
                f["location"]["line"].as_u64().unwrap_or_default(),
                f["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    (output.status.code().unwrap_or(-1), findings, json)
}

const POLICIES: &str = "fixtures/gatekeeper/policies";
const OBJECTS: &str = "fixtures/gatekeeper/objects";

fn flagged(findings: &[Row], rule: &str) -> Vec<String> {
    let mut names: Vec<String> = findings
        .iter()
        .filter(|f| f.0 == rule)
        .map(|f| f.2.clone())
        .collect();
    names.sort();
    names
}

#[test]
fn match_fields_select_the_objects_gatekeeper_would() {
    let (code, findings, _) = lint(&["--gatekeeper", POLICIES, OBJECTS]);
    assert_eq!(code, 1, "{findings:?}");
    // kinds (apps/Deployment), excludedNamespaces kube-*, labelSelector tier NotIn [test]:
    // system-app and test-tier are out; has-owner, eu-app and sandbox-app have the label.
    assert_eq!(
        flagged(&findings, "gatekeeper/testrequiredlabels/must-have-owner"),
        ["no-owner"]
    );
    // scope Namespaced, namespaces prod-*, namespaceSelector env=prod (the Namespace objects of
    // the run): prod-sandbox's app is out, and cluster-scoped Namespaces too.
    assert_eq!(
        flagged(
            &findings,
            "gatekeeper/testrequiredlabels/prod-needs-cost-center"
        ),
        ["eu-app"]
    );
    // kinds ""/Service and name web*: api is out.
    assert_eq!(
        flagged(&findings, "gatekeeper/testrequiredlabels/named-web-audit"),
        ["web-front"]
    );
    // scope Cluster on Namespaces: scratch has no env label.
    assert_eq!(
        flagged(
            &findings,
            "gatekeeper/testrequiredlabels/namespaces-need-env"
        ),
        ["scratch"]
    );
}

#[test]
fn parameters_libs_and_the_review_reach_the_template() {
    let (_, findings, json) = lint(&["--gatekeeper", POLICIES, OBJECTS]);
    let message = &findings
        .iter()
        .find(|f| f.2 == "no-owner")
        .expect("no-owner flagged")
        .4;
    // input.parameters.labels, input.review.kind/namespace/name and the lib's helper.
    assert_eq!(
        message,
        "Deployment shop/no-owner is missing labels {\"owner\"}"
    );
    // details.path names the field the finding points at.
    let finding = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| {
            f["object"]["name"] == "no-owner"
                && f["rule"] == "gatekeeper/testrequiredlabels/must-have-owner"
        })
        .expect("finding");
    assert_eq!(finding["location"]["path"], "metadata.labels");
}

#[test]
fn enforcement_actions_map_to_severities_and_exit_codes() {
    let (_, findings, _) = lint(&["--gatekeeper", POLICIES, OBJECTS]);
    let severity = |name: &str| {
        findings
            .iter()
            .find(|f| f.0.ends_with(name))
            .map(|f| f.1.clone())
            .expect(name)
    };
    assert_eq!(severity("/must-have-owner"), "error");
    assert_eq!(severity("/prod-needs-cost-center"), "warning");
    assert_eq!(severity("/named-web-audit"), "notice");
    // A dryrun finding (notice) alone does not fail the run, even at --fail-on warning.
    let dir = tempfile::tempdir().expect("tmp");
    let service = dir.path().join("service.yaml");
    std::fs::write(
        &service,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web-front\n  namespace: shop\nspec:\n  ports: [{port: 80}]\n",
    )
    .expect("write");
    let path = service.display().to_string();
    let (code, findings, json) = lint(&["--gatekeeper", POLICIES, "--fail-on", "warning", &path]);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].1, "notice");
    assert_eq!(code, 0, "{json}");
}

#[test]
fn an_unknown_namespace_does_not_narrow_a_namespace_selector() {
    // Without the Namespace objects in the run, prod-sandbox's labels are unknown: the
    // constraint applies (an unknown namespace never lets an object through).
    let (_, findings, _) = lint(&[
        "--gatekeeper",
        POLICIES,
        "fixtures/gatekeeper/objects/deployments.yaml",
    ]);
    assert_eq!(
        flagged(
            &findings,
            "gatekeeper/testrequiredlabels/prod-needs-cost-center"
        ),
        ["eu-app", "sandbox-app"]
    );
}

#[test]
fn data_inventory_holds_the_other_objects_of_the_unit() {
    let (_, findings, json) = lint(&["--gatekeeper", "fixtures/gatekeeper/inventory", OBJECTS]);
    assert_eq!(
        flagged(&findings, "gatekeeper/testuniqueingresshost/unique-hosts"),
        ["shop", "shop-copy"]
    );
    let copy = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| {
            f["object"]["name"] == "shop-copy"
                && f["rule"] == "gatekeeper/testuniqueingresshost/unique-hosts"
        })
        .expect("finding");
    // details.path as a list of steps.
    assert_eq!(copy["location"]["path"], "spec.rules[1].host");
    assert_eq!(copy["location"]["line"], 18);
}

#[test]
fn external_data_is_refused_at_load_naming_the_template_line_and_the_rest_still_runs() {
    let (code, findings, _) = lint(&[
        "--gatekeeper",
        "fixtures/gatekeeper/external",
        "--gatekeeper",
        POLICIES,
        OBJECTS,
    ]);
    assert_eq!(code, 2);
    let error = findings
        .iter()
        .find(|f| f.0 == "policy-error")
        .expect("load error");
    assert!(error.4.contains("external_data"), "{error:?}");
    assert_eq!(error.3, 17, "the line of the call in external.yaml");
    assert!(findings.iter().any(|f| f.0.ends_with("/must-have-owner")));
}

#[test]
fn bad_rego_and_a_constraint_without_template_name_their_file_and_line() {
    let output = seaworthy()
        .args([
            "lint",
            "--no-config",
            "--format",
            "json",
            "--gatekeeper",
            "fixtures/gatekeeper/broken",
            "--gatekeeper",
            POLICIES,
            OBJECTS,
        ])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let json: Value = serde_json::from_slice(&output.stdout).expect("json");
    let errors: Vec<(String, u64, String)> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "policy-error")
        .map(|f| {
            (
                f["location"]["file"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                f["location"]["line"].as_u64().unwrap_or_default(),
                f["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        errors
            .iter()
            .any(|(file, line, m)| file.ends_with("broken.yaml")
                && *line == 16
                && m.contains("string")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|(file, line, m)| file.ends_with("broken.yaml")
                && *line == 19
                && m.contains("TestMissingTemplate")),
        "{errors:?}"
    );
    assert!(json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .any(|f| f["rule"] == "gatekeeper/testrequiredlabels/must-have-owner"));
}

#[test]
fn suppressions_exemptions_and_baselines_apply() {
    let dir = tempfile::tempdir().expect("tmp");
    let objects = dir.path().join("objects.yaml");
    std::fs::write(
        &objects,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: quiet\n  namespace: shop\n  annotations:\n    seaworthy.dev/ignore: gatekeeper/testrequiredlabels/must-have-owner\n    seaworthy.dev/ignore-reason: tested\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: loud\n  namespace: shop\n",
    )
    .expect("write");
    let policies = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(POLICIES);
    let config = dir.path().join(".seaworthy.yaml");
    std::fs::write(
        &config,
        format!(
            "gatekeeper: [{}]\nexemptions:\n  - reason: tested\n    rules: [gatekeeper/testrequiredlabels/must-have-owner]\n    names: [\"exempt-*\"]\nrules:\n  gatekeeper/testrequiredlabels/namespaces-need-env:\n    enabled: false\n",
            policies.display()
        ),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("exempt.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: exempt-me\n  namespace: shop\n",
    )
    .expect("write");
    let run = |extra: &[&str]| -> Value {
        let output = Command::cargo_bin("seaworthy")
            .expect("binary")
            .current_dir(dir.path())
            .args(["lint", "--format", "json", "--config", ".seaworthy.yaml"])
            .args(extra)
            .arg(".")
            .output()
            .expect("runs");
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)))
    };
    let json = run(&[]);
    let active: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "gatekeeper/testrequiredlabels/must-have-owner")
        .map(|f| f["object"]["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        active,
        ["loud"],
        "annotation and config exemption apply: {json}"
    );
    let baseline = dir.path().join("baseline.json");
    let output = Command::cargo_bin("seaworthy")
        .expect("binary")
        .current_dir(dir.path())
        .args(["lint", "--config", ".seaworthy.yaml", "--write-baseline"])
        .arg(&baseline)
        .arg(".")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
    let output = Command::cargo_bin("seaworthy")
        .expect("binary")
        .current_dir(dir.path())
        .args([
            "lint",
            "--config",
            ".seaworthy.yaml",
            "--fail-on",
            "notice",
            "--baseline",
        ])
        .arg(&baseline)
        .arg(".")
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn sarif_lists_the_constraint_rules() {
    let output = seaworthy()
        .args([
            "lint",
            "--no-config",
            "--format",
            "sarif",
            "--gatekeeper",
            POLICIES,
            OBJECTS,
        ])
        .output()
        .expect("runs");
    let sarif: Value = serde_json::from_slice(&output.stdout).expect("sarif");
    let rules: Vec<&str> = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert!(
        rules.contains(&"gatekeeper/testrequiredlabels/must-have-owner"),
        "{rules:?}"
    );
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert!(results
        .iter()
        .any(|r| r["ruleId"] == "gatekeeper/testrequiredlabels/must-have-owner"));
}

/// An AdmissionReview CREATE of `object`.
fn admission(uid: &str, object: Value) -> Vec<u8> {
    admission_of(uid, "CREATE", object, None)
}

fn admission_of(uid: &str, operation: &str, object: Value, old: Option<Value>) -> Vec<u8> {
    let kind = object["kind"].as_str().unwrap_or_default().to_string();
    let (group, version) = match object["apiVersion"]
        .as_str()
        .unwrap_or_default()
        .split_once('/')
    {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (
            String::new(),
            object["apiVersion"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ),
    };
    serde_json::to_vec(&serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": "deployments"},
            "namespace": object["metadata"]["namespace"],
            "name": object["metadata"]["name"],
            "operation": operation,
            "userInfo": {"username": "alice"},
            "object": object,
            "oldObject": old,
        }
    }))
    .expect("json")
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_denies_by_a_gatekeeper_constraint_and_a_conftest_rule() {
    let root = env!("CARGO_MANIFEST_DIR");
    let server = Server::start(Options {
        args: vec![
            "--no-config".into(),
            "--gatekeeper".into(),
            format!("{root}/{POLICIES}"),
            "--conftest".into(),
            format!("{root}/fixtures/conftest/policy"),
        ],
        files: Vec::new(),
    });
    let mut conn = server.connect().await.expect("connect");
    let deployment = serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "no-owner", "namespace": "shop"},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0"}]}}}
    });
    let (status, review) = conn.review(admission("gk-1", deployment)).await;
    assert_eq!(status, 200);
    let answer = response(&review);
    assert_eq!(answer["allowed"], false, "{answer}");
    let message = denial(answer);
    assert!(
        message.contains("gatekeeper/testrequiredlabels/must-have-owner"),
        "{message}"
    );
    assert!(message.contains("conftest/main/deny"), "{message}");
    // The warn constraint warns.
    let deployment = serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "eu-app", "namespace": "prod-eu", "labels": {"owner": "bob", "team": "a"}},
        "spec": {"template": {"spec": {"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "app", "image": "registry.example/app:1.0"}]}}}
    });
    let (_, review) = conn.review(admission("gk-2", deployment)).await;
    let answer = response(&review);
    let warned = warnings(answer);
    assert!(
        warned.iter().any(|w| w.contains("prod-needs-cost-center")),
        "{answer}"
    );
    // A dryrun constraint never denies nor warns (recorded as audit).
    let service = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web-front", "namespace": "shop", "labels": {"owner": "bob"}},
        "spec": {"ports": [{"port": 80}]}
    });
    let (_, review) = conn.review(admission("gk-5", service)).await;
    let answer = response(&review);
    assert_eq!(answer["allowed"], true, "{answer}");
    assert!(
        warnings(answer)
            .iter()
            .all(|w| !w.contains("named-web-audit")),
        "{answer}"
    );
    server.wait_for(
        "the audited finding in the log",
        std::time::Duration::from_secs(5),
        || {
            server
                .logs()
                .contains("gatekeeper/testrequiredlabels/named-web-audit")
        },
    );
    // The real operation and old object reach the template: an UPDATE that changes the image.
    let frozen = |image: &str| {
        serde_json::json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "app", "namespace": "frozen", "labels": {"owner": "bob", "team": "a"}},
            "spec": {"template": {"spec": {"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "app", "image": image}]}}}
        })
    };
    let (_, review) = conn
        .review(admission_of(
            "gk-3",
            "UPDATE",
            frozen("app:2"),
            Some(frozen("app:1")),
        ))
        .await;
    let answer = response(&review);
    assert_eq!(answer["allowed"], false, "{answer}");
    let message = denial(answer);
    assert!(
        message.contains("container app: image app:1 may not change to app:2 (asked by alice)"),
        "{message}"
    );
    let (_, review) = conn.review(admission("gk-4", frozen("app:2"))).await;
    assert!(
        !denial(response(&review)).contains("frozen-images"),
        "a CREATE is no update: {review}"
    );
}

#[test]
fn lint_reviews_objects_as_created() {
    let (_, findings, _) = lint(&["--gatekeeper", POLICIES, OBJECTS]);
    assert!(
        findings.iter().all(|f| !f.0.contains("frozen-images")),
        "{findings:?}"
    );
}

#[test]
fn long_parameters_load() {
    // The generated rule carries the constraint's parameters: a long list must not make a line
    // longer than the Rego parser takes.
    let dir = tempfile::tempdir().expect("tmp");
    let template = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(POLICIES)
        .join("requiredlabels.yaml");
    let text = std::fs::read_to_string(template).expect("template");
    let template_only = text.split("\n---\n").next().expect("template document");
    let labels: Vec<String> = (0..200).map(|i| format!("\"label-number-{i}\"")).collect();
    std::fs::write(
        dir.path().join("policy.yaml"),
        format!(
            "{template_only}\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: TestRequiredLabels\nmetadata:\n  name: many\nspec:\n  parameters:\n    labels: [{}]\n",
            labels.join(", ")
        ),
    )
    .expect("write");
    let policies = dir.path().display().to_string();
    let (code, findings, _) = lint(&[
        "--gatekeeper",
        &policies,
        "fixtures/gatekeeper/objects/deployments.yaml",
    ]);
    assert_eq!(code, 1, "{findings:?}");
    assert!(
        findings.iter().all(|f| f.0 != "policy-error"),
        "{findings:?}"
    );
    assert!(findings
        .iter()
        .any(|f| f.0 == "gatekeeper/testrequiredlabels/many"));
}

#[test]
fn rego_in_a_code_entry_runs_and_config_folders_are_relative_to_the_config_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let policies = dir.path().join("policy/gatekeeper");
    std::fs::create_dir_all(&policies).expect("mkdir");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/gatekeeper/code/hostnetwork.yaml");
    std::fs::copy(fixture, policies.join("hostnetwork.yaml")).expect("copy");
    std::fs::write(
        dir.path().join("seaworthy.yaml"),
        "gatekeeper: [policy/gatekeeper]\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("pods.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: hostnet\n  namespace: shop\nspec:\n  hostNetwork: true\n  containers: [{name: app, image: app:1}]\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: plain\n  namespace: shop\nspec:\n  containers: [{name: app, image: app:1}]\n",
    )
    .expect("write");
    let config = dir.path().join("seaworthy.yaml").display().to_string();
    let pods = dir.path().join("pods.yaml").display().to_string();
    // Run from the repository root: the folder is found relative to the config file.
    let output = seaworthy()
        .args(["lint", "--format", "json", "--config", &config, &pods])
        .output()
        .expect("runs");
    let json: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    let found: Vec<(&str, &str, u64)> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "gatekeeper/testhostnetwork/no-host-network")
        .map(|f| {
            (
                f["object"]["name"].as_str().unwrap_or_default(),
                f["message"].as_str().unwrap_or_default(),
                f["location"]["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(found, [("hostnet", "hostnet uses the host network", 7)]);
}
