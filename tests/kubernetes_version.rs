//! The target Kubernetes version: `--kubernetes-version` on the command line, `kubernetes_version`
//! in the config (which `serve` reads too), the newest known version by default; and the API
//! table behind removed-api and deprecated-api.

mod common;

use assert_cmd::Command;
use serde_json::{json, Value};

use seaworthy::config::Config;
use seaworthy::engine::{Backend, Catalog};
use seaworthy::webhook::admission::AdmissionRequest;
use seaworthy::webhook::review::{Policy, Reviewer};
use seaworthy::webhook::snapshot::Snapshot;

const CRONJOB_V1BETA1: &str = r#"apiVersion: batch/v1beta1
kind: CronJob
metadata:
  name: report
  namespace: shop
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: registry.example.com/shop/report:1.0.0
"#;

/// (rule, message) of the API findings of `seaworthy lint` on `input`, run in `dir`.
fn api_findings(dir: &std::path::Path, args: &[&str], input: &str) -> (i32, Vec<(String, String)>) {
    let output = Command::cargo_bin("seaworthy")
        .expect("binary is built")
        .current_dir(dir)
        .args(["lint", "-", "--format", "json", "--no-cache"])
        .args(args)
        .write_stdin(input)
        .output()
        .expect("runs");
    let code = output.status.code().unwrap_or(-1);
    if code == 2 {
        return (code, Vec::new());
    }
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    let findings = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "removed-api" || f["rule"] == "deprecated-api")
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    (code, findings)
}

#[test]
fn the_target_version_decides_between_served_deprecated_and_removed() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Default: the newest known version, where batch/v1beta1 is long gone.
    let (_, found) = api_findings(dir.path(), &[], CRONJOB_V1BETA1);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "removed-api");
    assert!(
        found[0].1.contains("removed in Kubernetes 1.25") && found[0].1.contains("use batch/v1"),
        "{found:?}"
    );
    // 1.25 is the release that removed it: removed "at or before" the target.
    let (_, found) = api_findings(
        dir.path(),
        &["--kubernetes-version", "v1.25.0"],
        CRONJOB_V1BETA1,
    );
    assert_eq!(
        found.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
        ["removed-api"]
    );
    // 1.24: still served, deprecated since 1.21: a warning naming the removal.
    let (_, found) = api_findings(
        dir.path(),
        &["--kubernetes-version", "1.24"],
        CRONJOB_V1BETA1,
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "deprecated-api");
    assert!(
        found[0]
            .1
            .contains("deprecated since Kubernetes 1.21 and removed in 1.25 (target 1.24)"),
        "{found:?}"
    );
    // 1.20: not yet deprecated.
    let (_, found) = api_findings(
        dir.path(),
        &["--kubernetes-version", "1.20"],
        CRONJOB_V1BETA1,
    );
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn the_config_sets_the_version_and_the_flag_wins() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join(".seaworthy.yaml"),
        "kubernetes_version: '1.23'\n",
    )
    .expect("write config");
    let (_, found) = api_findings(dir.path(), &[], CRONJOB_V1BETA1);
    assert_eq!(
        found.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
        ["deprecated-api"]
    );
    let (_, found) = api_findings(
        dir.path(),
        &["--kubernetes-version", "1.30"],
        CRONJOB_V1BETA1,
    );
    assert_eq!(
        found.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
        ["removed-api"]
    );
}

#[test]
fn a_version_that_is_not_one_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::cargo_bin("seaworthy")
        .expect("binary is built")
        .current_dir(dir.path())
        .args(["lint", "-", "--kubernetes-version", "latest"])
        .write_stdin(CRONJOB_V1BETA1)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("latest"));
    std::fs::write(
        dir.path().join(".seaworthy.yaml"),
        "kubernetes_version: 1.x\n",
    )
    .expect("write config");
    let (code, _) = api_findings(dir.path(), &[], CRONJOB_V1BETA1);
    assert_eq!(code, 2);
}

/// The API rules judge the file as written (`scope: manifest`): at admission the API server has
/// converted the object to the version the webhook is registered for (`matchPolicy: Equivalent`),
/// so even a request written as batch/v1beta1 is no finding there, whatever the target version.
#[test]
fn serve_leaves_api_versions_to_lint() {
    let object: Value = cronjob_v1beta1_json();
    let request: AdmissionRequest = serde_json::from_value(json!({
        "uid": "v",
        "kind": {"group": "batch", "version": "v1beta1", "kind": "CronJob"},
        "namespace": "shop",
        "name": "report",
        "operation": "CREATE",
        "userInfo": {"username": "alice@example.com"},
        "object": object,
    }))
    .expect("an AdmissionRequest");
    let rules_of = |config: &Config| -> Vec<String> {
        let reviewer = Reviewer::new(
            Catalog::load(&[]).expect("built-in policies"),
            config,
            Policy::default(),
            Backend::Rvm,
        )
        .expect("compiles");
        let verdict = reviewer.review(&request, &Snapshot::disabled(), None);
        verdict
            .findings
            .iter()
            .map(|j| j.finding.rule.clone())
            .filter(|r| r.ends_with("-api"))
            .collect()
    };
    assert_eq!(rules_of(&Config::default()), Vec::<String>::new());
    let config = Config::parse("c.yaml", "kubernetes_version: '1.22'\n").expect("parses");
    assert_eq!(rules_of(&config), Vec::<String>::new());
}

fn cronjob_v1beta1_json() -> Value {
    json!({
        "apiVersion": "batch/v1beta1",
        "kind": "CronJob",
        "metadata": {"name": "report", "namespace": "shop"},
        "spec": {
            "schedule": "0 3 * * *",
            "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "OnFailure",
                "containers": [{"name": "report", "image": "registry.example.com/shop/report:1.0.0"}]
            }}}}
        }
    })
}

/// Every kind of the API table is among the kinds both rules apply to (a kind missing from
/// `metadata.kinds` would never be looked up).
#[test]
fn the_rules_apply_to_every_kind_of_the_table() {
    let catalog = Catalog::load(&[]).expect("built-in policies");
    let source = catalog
        .sources()
        .iter()
        .find(|s| s.file.ends_with("lib/kubernetes_apis.rego"))
        .map(|s| s.text.clone())
        .expect("the API table");
    let table_kinds: std::collections::BTreeSet<String> = source
        .match_indices("\": {\"deprecated\"")
        .filter_map(|(at, _)| source[..at].rsplit('"').next().map(str::to_string))
        .collect();
    assert!(table_kinds.len() > 30, "{table_kinds:?}");
    for id in ["removed-api", "deprecated-api"] {
        let kinds = catalog
            .rule(id)
            .and_then(|r| r.meta.kinds.clone())
            .expect("kinds");
        for kind in &table_kinds {
            if id == "removed-api" && kind == "Endpoints" {
                continue; // deprecated, never removed
            }
            assert!(kinds.contains(kind), "{id} does not apply to {kind}");
        }
    }
}
