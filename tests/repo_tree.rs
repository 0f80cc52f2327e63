//! `seaworthy lint DIR` on a repository as users keep it (fixtures/trees/): charts found and
//! rendered (a render per ci/*-values.yaml), kustomizations built with their findings in the
//! resource and patch files, YAML that is no Kubernetes object skipped and counted, a missing
//! helm or kubectl reported once per chart or kustomization, per-run rule and path control, and
//! errors that keep their cause. Through the real binary, the Helm SDK behind tests/helpers/helm
//! and Debian's kubectl.

mod common;

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const REPO: &str = "fixtures/trees/repo";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("JSON output ({e}): {}\n{}", self.stdout, self.stderr))
    }
}

/// PATH with the helm stand-in first, kubectl from the system after it.
fn path_with_helm() -> String {
    let helpers = common::root().join("tests/helpers");
    format!(
        "{}:{}",
        helpers.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn run_with(dir: &Path, args: &[&str], path_env: &str) -> Run {
    let mut cmd = Command::cargo_bin("seaworthy").expect("binary is built");
    cmd.current_dir(dir)
        .args(args)
        .env("SEAWORTHY_NO_CACHE", "1")
        .env("PATH", path_env);
    let output = cmd.output().expect("binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

fn run(args: &[&str]) -> Run {
    run_with(&common::root(), args, &path_with_helm())
}

fn findings(json: &Value) -> Vec<&Value> {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .collect()
}

fn of_rule<'a>(json: &'a Value, rule: &str) -> Vec<&'a Value> {
    findings(json)
        .into_iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn object_named(finding: &Value) -> &str {
    finding["object"]["name"].as_str().unwrap_or("")
}

/// The units of a JSON report: name and files.
fn units(json: &Value) -> Vec<(String, Vec<String>)> {
    json["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|u| {
            let files = u["files"]
                .as_array()
                .expect("files")
                .iter()
                .map(|f| f.as_str().unwrap_or("").to_string())
                .collect();
            (u["name"].as_str().unwrap_or("").to_string(), files)
        })
        .collect()
}

#[test]
fn a_repository_is_linted_as_it_is() {
    let run = run(&[
        "lint",
        REPO,
        "--no-config",
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert!(
        of_rule(&json, "invalid-manifest").is_empty(),
        "no parse errors from non-manifests: {:#?}",
        of_rule(&json, "invalid-manifest")
    );
    // Compose, the CI workflow, the JSON config and the stray template; not Chart.yaml, values or
    // the kustomization's files (those are the renders' business).
    assert_eq!(json["summary"]["skipped"], 4, "{}", json["summary"]);
    assert!(run.stderr.contains("skipped 4 file(s)"), "{}", run.stderr);

    // The plain manifest; the chart twice (one render per ci values file); the overlay's build,
    // whose object is in its base resource; the base is not linted on its own.
    let units = units(&json);
    assert_eq!(
        units,
        [
            ("fixtures/trees/repo/apps".to_string(), vec!["fixtures/trees/repo/apps/worker.yaml".to_string()]),
            (
                "<helm fixtures/trees/repo/charts/shop -f fixtures/trees/repo/charts/shop/ci/latest-values.yaml>".to_string(),
                vec!["fixtures/trees/repo/charts/shop/templates/deployment.yaml".to_string()]
            ),
            (
                "<helm fixtures/trees/repo/charts/shop -f fixtures/trees/repo/charts/shop/ci/small-values.yaml>".to_string(),
                vec!["fixtures/trees/repo/charts/shop/templates/deployment.yaml".to_string()]
            ),
            (
                "<kustomize fixtures/trees/repo/deploy/overlays/prod>".to_string(),
                vec!["fixtures/trees/repo/deploy/base/api.yaml".to_string()]
            ),
        ]
    );
    assert!(!findings(&json).iter().any(|f| object_named(f) == "api"));

    // The chart's latest tag: only in the render with ci/latest-values.yaml, at the template line.
    let latest = of_rule(&json, "latest-image-tag");
    let chart_latest: Vec<&&Value> = latest
        .iter()
        .filter(|f| object_named(f) == "release-name-shop")
        .collect();
    assert_eq!(chart_latest.len(), 1, "{latest:#?}");
    assert_eq!(
        chart_latest[0]["location"]["file"],
        "fixtures/trees/repo/charts/shop/templates/deployment.yaml"
    );
    assert_eq!(chart_latest[0]["location"]["line"], 16);
    assert_eq!(
        chart_latest[0]["location"]["render"],
        "fixtures/trees/repo/charts/shop/ci/latest-values.yaml"
    );

    // Kustomize: the image comes from the overlay's strategic merge patch, at its line; the
    // built position is kept beside it.
    let api_latest: Vec<&&Value> = latest
        .iter()
        .filter(|f| object_named(f) == "prod-api")
        .collect();
    assert_eq!(api_latest.len(), 1, "{latest:#?}");
    let location = &api_latest[0]["location"];
    assert_eq!(
        location["file"],
        "fixtures/trees/repo/deploy/overlays/prod/image.yaml"
    );
    assert_eq!(location["line"], 10, "{location}");
    assert_eq!(
        location["rendered"]["file"],
        "<kustomize fixtures/trees/repo/deploy/overlays/prod>"
    );

    // The replica count comes from the JSON 6902 patch's value.
    let replicas: Vec<&Value> = of_rule(&json, "too-few-replicas")
        .into_iter()
        .filter(|f| object_named(f) == "prod-api")
        .collect();
    assert_eq!(
        replicas.len(),
        1,
        "{:#?}",
        of_rule(&json, "too-few-replicas")
    );
    assert_eq!(
        replicas[0]["location"]["file"],
        "fixtures/trees/repo/deploy/overlays/prod/replicas.yaml"
    );
    assert_eq!(replicas[0]["location"]["line"], 3);

    // A field no patch touches is in the base resource.
    let probes: Vec<&Value> = of_rule(&json, "missing-readiness-probe")
        .into_iter()
        .filter(|f| object_named(f) == "prod-api")
        .collect();
    assert_eq!(probes.len(), 1);
    assert_eq!(
        probes[0]["location"]["file"],
        "fixtures/trees/repo/deploy/base/api.yaml"
    );
    assert_eq!(probes[0]["location"]["line"], 14);
}

#[test]
fn text_output_quotes_the_source_line_of_a_kustomize_finding() {
    let run = run(&[
        "lint",
        "fixtures/trees/repo/deploy",
        "--no-config",
        "--color",
        "never",
    ]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("fixtures/trees/repo/deploy/overlays/prod/image.yaml:10"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("image: registry.example.com/api:latest"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_text_summary_counts_the_skipped_files() {
    let run = run(&[
        "lint",
        "fixtures/trees/repo",
        "--no-config",
        "--color",
        "never",
    ]);
    let summary = run
        .stdout
        .lines()
        .find(|l| l.starts_with("summary: "))
        .unwrap_or_default();
    assert!(
        summary.contains(", 4 files skipped (not Kubernetes manifests)"),
        "{}",
        run.stdout
    );
}

#[test]
fn no_render_keeps_the_literal_behaviour() {
    let run = run(&[
        "lint",
        REPO,
        "--no-config",
        "--no-render",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let json = run.json();
    let invalid = of_rule(&json, "invalid-manifest");
    assert!(
        invalid
            .iter()
            .any(|f| f["location"]["file"] == "fixtures/trees/repo/docker-compose.yml"),
        "{invalid:#?}"
    );
    assert!(json["summary"].get("skipped").is_none());
}

#[test]
fn a_broken_manifest_is_still_an_error_beside_a_skipped_file() {
    let run = run(&[
        "lint",
        "fixtures/trees/broken",
        "--no-config",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let json = run.json();
    let invalid = of_rule(&json, "invalid-manifest");
    assert_eq!(invalid.len(), 1, "{invalid:#?}");
    assert_eq!(
        invalid[0]["location"]["file"],
        "fixtures/trees/broken/configmap.yaml"
    );
    // compose.yaml, and alertmanager.yml: it does not parse, but names no kind.
    assert_eq!(json["summary"]["skipped"], 2);
}

#[test]
fn without_helm_and_kubectl_each_chart_and_kustomization_is_one_notice() {
    let empty = tempfile::tempdir().expect("temp dir");
    let run = run_with(
        &common::root(),
        &[
            "lint",
            REPO,
            "--no-config",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
        &empty.path().to_string_lossy(),
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert!(of_rule(&json, "invalid-manifest").is_empty());
    let notices = of_rule(&json, "not-rendered");
    let mut files: Vec<&str> = notices
        .iter()
        .map(|f| f["location"]["file"].as_str().unwrap_or(""))
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "fixtures/trees/repo/charts/shop/Chart.yaml",
            "fixtures/trees/repo/deploy/overlays/prod/kustomization.yaml"
        ],
        "{notices:#?}"
    );
    assert!(notices.iter().all(|f| f["severity"] == "notice"));
    assert!(notices.iter().any(|f| f["message"]
        .as_str()
        .is_some_and(|m| m.contains("helm not found on PATH"))));
    assert!(notices.iter().any(|f| f["message"]
        .as_str()
        .is_some_and(|m| m.contains("neither kubectl nor kustomize"))));
}

#[test]
fn helm_and_kustomize_are_repeatable_and_each_is_a_unit() {
    let run = run(&[
        "lint",
        "--no-config",
        "--format",
        "json",
        "--fail-on",
        "never",
        "--helm",
        "fixtures/trees/repo/charts/shop",
        "--helm",
        "fixtures/helm/web",
        "--kustomize",
        "fixtures/trees/repo/deploy/overlays/prod",
        "--kustomize",
        "fixtures/kustomize/overlays/prod",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    let mut units: Vec<String> = units(&json).into_iter().map(|(name, _)| name).collect();
    units.sort();
    assert_eq!(
        units,
        [
            "<helm fixtures/helm/web>",
            "<helm fixtures/trees/repo/charts/shop>",
            "<kustomize fixtures/kustomize/overlays/prod>",
            "<kustomize fixtures/trees/repo/deploy/overlays/prod>",
        ]
    );
}

#[test]
fn rules_are_enabled_and_disabled_per_run() {
    let base = [
        "lint",
        "fixtures/trees/repo/apps",
        "--no-config",
        "--format",
        "json",
    ];
    let all = run(&base);
    assert!(!of_rule(&all.json(), "latest-image-tag").is_empty());

    let mut args = base.to_vec();
    args.extend(["--disable", "latest-image-tag"]);
    let disabled = run(&args);
    assert!(of_rule(&disabled.json(), "latest-image-tag").is_empty());

    let mut args = base.to_vec();
    args.extend(["--disable", "latest-image-tagg"]);
    let typo = run(&args);
    assert_eq!(typo.code, 2);
    assert!(
        typo.stderr
            .contains("--disable latest-image-tagg: no such rule")
            && typo.stderr.contains("did you mean latest-image-tag?"),
        "{}",
        typo.stderr
    );

    // --enable wins over the config.
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, "rules:\n  latest-image-tag:\n    enabled: false\n").expect("write");
    let config = config.to_string_lossy().into_owned();
    let args = [
        "lint",
        "fixtures/trees/repo/apps",
        "--config",
        &config,
        "--format",
        "json",
    ];
    assert!(of_rule(&run(&args).json(), "latest-image-tag").is_empty());
    let mut enabled = args.to_vec();
    enabled.extend(["--enable", "latest-image-tag"]);
    assert!(!of_rule(&run(&enabled).json(), "latest-image-tag").is_empty());
}

#[test]
fn paths_are_excluded_by_flag_and_by_config() {
    let run_excluding = |extra: &[&str]| {
        let mut args = vec!["lint", REPO, "--format", "json", "--fail-on", "never"];
        args.extend(extra);
        let run = run(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let json = run.json();
        let mut names: Vec<String> = findings(&json)
            .iter()
            .map(|f| object_named(f).to_string())
            .collect();
        names.sort();
        names.dedup();
        names
    };
    let names = run_excluding(&[
        "--no-config",
        "--exclude",
        "charts",
        "--exclude",
        "**/repo/deploy",
    ]);
    assert_eq!(names, ["worker"]);

    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        "exclude: [apps, 'fixtures/trees/repo/charts/**']\n",
    )
    .expect("write");
    let names = run_excluding(&["--config", &config.to_string_lossy()]);
    assert_eq!(names, ["prod-api"]);

    let bad = run(&["lint", REPO, "--no-config", "--exclude", "[z-a"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("--exclude \"[z-a\""), "{}", bad.stderr);
}

#[test]
fn a_failed_helm_render_keeps_the_whole_message_and_names_the_set_values() {
    let run = run(&[
        "lint",
        "--no-config",
        "--format",
        "json",
        "--helm",
        "fixtures/trees/schema-chart",
        "--set",
        "replicas=two",
        "--set",
        "port=99999",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let json = run.json();
    let errors = of_rule(&json, "render-error");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let message = errors[0]["message"].as_str().expect("message");
    for part in [
        "--set replicas=two",
        "--set port=99999",
        "values don't meet the specifications",
        "at '/replicas'",
        "at '/port'",
    ] {
        assert!(message.contains(part), "{part:?} in {message}");
    }
}

#[test]
fn a_rule_parameter_of_the_wrong_type_is_a_config_error_at_its_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        "fail_on: error\nrules:\n  too-few-replicas:\n    params:\n      min_replicas: \"two\"\n",
    )
    .expect("write");
    let run = run(&[
        "lint",
        "fixtures/trees/repo/apps",
        "--config",
        &config.to_string_lossy(),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("config.yaml:5:7")
            && run.stderr.contains("min_replicas must be a number")
            && run.stderr.contains("not the string \"two\""),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unknown_rule_in_the_ignore_annotation_is_a_notice() {
    let run = run(&[
        "lint",
        "fixtures/trees/skip-rule",
        "--no-config",
        "--format",
        "json",
    ]);
    let json = run.json();
    let notices = of_rule(&json, "unknown-ignored-rule");
    assert_eq!(notices.len(), 1, "{notices:#?}");
    assert_eq!(notices[0]["severity"], "notice");
    assert_eq!(notices[0]["location"]["line"], 7);
    let message = notices[0]["message"].as_str().expect("message");
    assert!(
        message.contains("\"latest-image-tagg\"")
            && message.contains("did you mean latest-image-tag?"),
        "{message}"
    );
}

#[test]
fn a_rule_outside_the_rules_package_is_an_error_naming_its_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = dir.path().join("replicas.rego");
    std::fs::write(
        &policy,
        "package org.replicas\n\nimport rego.v1\n\nmetadata := {\"id\": \"org-replicas\"}\n\nviolations contains v if {\n\tfalse\n\tv := {}\n}\n",
    )
    .expect("write");
    // A helper library outside the package is fine.
    std::fs::write(
        dir.path().join("helpers.rego"),
        "package org.helpers\n\nimport rego.v1\n\nis_prod(ns) if startswith(ns, \"prod-\")\n",
    )
    .expect("write");
    let run = run(&[
        "lint",
        "fixtures/trees/repo/apps",
        "--no-config",
        "--policies",
        &dir.path().to_string_lossy(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("replicas.rego")
            && run
                .stderr
                .contains("package org.replicas is outside seaworthy.rules"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_chart_whose_dependencies_are_not_downloaded_is_one_notice() {
    let run = run(&[
        "lint",
        "fixtures/trees/deps",
        "--no-config",
        "--format",
        "json",
    ]);
    // Nothing else in the tree: no objects at all is exit 2, and the notice says why.
    assert_eq!(run.code, 2, "{}", run.stderr);
    let json = run.json();
    let notices = of_rule(&json, "not-rendered");
    assert_eq!(notices.len(), 1, "{:#?}", findings(&json));
    assert_eq!(
        notices[0]["location"]["file"],
        "fixtures/trees/deps/app/Chart.yaml"
    );
    let message = notices[0]["message"].as_str().expect("message");
    assert!(
        message.contains("redis")
            && message.contains("helm dependency build fixtures/trees/deps/app"),
        "{message}"
    );
    assert!(of_rule(&json, "render-error").is_empty());
}
