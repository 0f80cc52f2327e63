//! `--helm` and `--kustomize` through the real binary and real renderers: the Helm SDK behind
//! `tests/helpers/helm` (a `helm template` stand-in, see its doc) and Debian's kubectl. Findings
//! point at the template line, keep the rendered position, name their values set; a failed render
//! is reported beside the others; every output format carries the mapped locations.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const CHART: &str = "fixtures/helm/web";
const OVERLAY: &str = "fixtures/kustomize/overlays/prod";

fn helm_stand_in() -> String {
    common::root()
        .join("tests/helpers/helm")
        .to_string_lossy()
        .into_owned()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_in(dir: &Path, args: &[&str], path_env: Option<&str>) -> Run {
    let mut cmd = Command::cargo_bin("seaworthy").expect("binary is built");
    cmd.current_dir(dir)
        .args(args)
        .env("SEAWORTHY_NO_CACHE", "1");
    if let Some(path) = path_env {
        cmd.env("PATH", path);
    }
    let output = cmd.output().expect("binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

/// `seaworthy lint --no-config --helm CHART --helm-bin <stand-in> ARGS...` in the crate root.
fn lint_chart(args: &[&str]) -> Run {
    let bin = helm_stand_in();
    let mut all = vec!["lint", "--no-config", "--helm", CHART, "--helm-bin", &bin];
    all.extend_from_slice(args);
    run_in(&common::root(), &all, None)
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        )
    })
}

fn findings<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn only<'a>(report: &'a Value, rule: &str) -> &'a Value {
    let found = findings(report, rule);
    assert_eq!(found.len(), 1, "one {rule} finding: {report:#}");
    found[0]
}

/// The 1-based number of the only line of a fixture file that holds `needle`.
fn line_of(file: &str, needle: &str) -> u64 {
    let text = std::fs::read_to_string(common::root().join(file)).expect("fixture");
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(lines.len(), 1, "{needle:?} once in {file}");
    lines[0] as u64
}

fn program_on_path(name: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").expect("PATH"))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is on PATH (scripts/test installs it)"))
}

#[test]
fn a_render_matrix_reports_a_template_error_and_a_violation_each_naming_its_values_set() {
    // As in a chart's own repository: the values sets named as the user names them.
    let chart = common::root().join(CHART);
    let bin = helm_stand_in();
    let args = [
        "lint",
        "--no-config",
        "--helm",
        ".",
        "--helm-bin",
        &bin,
        "--render-matrix",
        "--values",
        "values-prod.yaml",
        "--values",
        "values-broken.yaml",
        "--format",
        "json",
    ];
    let run = run_in(&chart, &args, None);
    assert_eq!(run.code, 2, "a failed render exits 2: {}", run.stderr);
    let report = json(&run);

    let error = only(&report, "render-error");
    assert_eq!(error["location"]["render"], "values-broken.yaml");
    assert_eq!(error["location"]["file"], "templates/deployment.yaml");
    assert_eq!(
        error["location"]["line"].as_u64(),
        Some(line_of(
            "fixtures/helm/web/templates/deployment.yaml",
            "image.tag is required"
        ))
    );
    let message = error["message"].as_str().unwrap_or_default();
    for needle in [
        "values-broken.yaml",
        "web/templates/deployment.yaml",
        "image.tag is required",
    ] {
        assert!(message.contains(needle), "{message:?} names {needle:?}");
    }

    let readiness = only(&report, "missing-readiness-probe");
    assert_eq!(readiness["location"]["render"], "values-prod.yaml");
    assert_eq!(readiness["location"]["file"], "templates/deployment.yaml");
    assert_eq!(
        readiness["location"]["template"],
        "web/templates/deployment.yaml"
    );
    // The other render was linted: every finding but the error comes from values-prod.yaml.
    for f in report["findings"].as_array().expect("findings") {
        if f["rule"] != "render-error" {
            assert_eq!(f["location"]["render"], "values-prod.yaml", "{f}");
        }
    }

    let text = run_in(&chart, &args[..args.len() - 2], None);
    assert_eq!(text.code, 2);
    for needle in [
        "error[render-error]: helm template failed with values-broken.yaml",
        "--> templates/deployment.yaml:",
        "= render: values-prod.yaml, at <helm . -f values-prod.yaml>:",
        "= render: values-broken.yaml",
    ] {
        assert!(
            text.stdout.contains(needle),
            "{needle:?} in\n{}",
            text.stdout
        );
    }
}

#[test]
fn findings_point_at_the_template_line_and_keep_the_rendered_position() {
    let run = lint_chart(&[
        "--values",
        "fixtures/helm/web/values-prod.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = json(&run);
    let deployment = "fixtures/helm/web/templates/deployment.yaml";

    let readiness = only(&report, "missing-readiness-probe");
    let location = &readiness["location"];
    assert_eq!(location["file"], deployment);
    assert_eq!(
        location["line"].as_u64(),
        Some(line_of(deployment, "- name: web"))
    );
    assert_eq!(location["column"], 11);
    assert_eq!(location["path"], "spec.template.spec.containers[0]");
    assert_eq!(location["render"], "fixtures/helm/web/values-prod.yaml");

    // The rendered position is kept, and is where the same field is in helm's output.
    let rendered = &location["rendered"];
    assert_eq!(
        rendered["file"],
        "<helm fixtures/helm/web -f fixtures/helm/web/values-prod.yaml>"
    );
    let output = std::process::Command::new(helm_stand_in())
        .current_dir(common::root())
        .args([
            "template",
            "release-name",
            CHART,
            "--values",
            "fixtures/helm/web/values-prod.yaml",
        ])
        .output()
        .expect("stand-in runs");
    let output = String::from_utf8(output.stdout).expect("UTF-8");
    let rendered_line = rendered["line"].as_u64().expect("line") as usize;
    assert_eq!(
        output.lines().nth(rendered_line - 1).map(str::trim),
        Some("- name: web")
    );
    assert_ne!(
        rendered["line"], location["line"],
        "helpers expand: the lines differ"
    );

    // A field generated by toYaml: the line of the key that holds the generated block.
    let cpu = only(&report, "request-exceeds-limit");
    assert_eq!(
        cpu["location"]["path"],
        "spec.template.spec.containers[0].resources.requests.cpu"
    );
    assert_eq!(
        cpu["location"]["line"].as_u64(),
        Some(line_of(deployment, "resources:"))
    );

    // Two NetworkPolicies in one template, both with computed names: the second document (it
    // opens its port to every source).
    let policy = only(&report, "network-policy-port-open-to-all");
    assert_eq!(
        policy["location"]["file"],
        "fixtures/helm/web/templates/networkpolicy.yaml"
    );
    assert_eq!(
        policy["location"]["line"].as_u64(),
        Some(line_of(
            "fixtures/helm/web/templates/networkpolicy.yaml",
            "- ports:"
        ))
    );
}

#[test]
fn without_a_matrix_values_files_merge_in_order_as_helm_does() {
    // values.yaml after values-prod.yaml turns the probes back on and the CPU request down.
    let run = lint_chart(&[
        "-f",
        "fixtures/helm/web/values-prod.yaml",
        "-f",
        "fixtures/helm/web/values.yaml",
        "--format",
        "json",
    ]);
    let report = json(&run);
    assert!(findings(&report, "missing-readiness-probe").is_empty());
    assert!(findings(&report, "request-exceeds-limit").is_empty());
    let any = &report["findings"][0];
    assert_eq!(
        any["location"]["render"],
        "fixtures/helm/web/values-prod.yaml + fixtures/helm/web/values.yaml"
    );
    assert_eq!(report["summary"]["files"], 1, "one render");

    // --set applies on top of every values file.
    let run = lint_chart(&[
        "-f",
        "fixtures/helm/web/values.yaml",
        "--set",
        "probes.enabled=false",
        "--release-name",
        "shop",
        "--format",
        "json",
    ]);
    let report = json(&run);
    let readiness = only(&report, "missing-readiness-probe");
    assert_eq!(readiness["object"]["name"], "shop-web");
    assert_eq!(run.code, 1);
}

#[test]
fn a_missing_helm_is_a_clear_error() {
    let empty = tempfile::tempdir().expect("tempdir");
    let path = empty.path().to_string_lossy().into_owned();
    let run = run_in(
        &common::root(),
        &["lint", "--no-config", "--helm", CHART],
        Some(&path),
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("helm not found on PATH") && run.stderr.contains("--helm-bin"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "nothing is linted: {}", run.stdout);

    let run = run_in(
        &common::root(),
        &[
            "lint",
            "--no-config",
            "--helm",
            CHART,
            "--helm-bin",
            "/nonexistent/helm",
        ],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("/nonexistent/helm: no such file"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_chart_that_cannot_load_is_a_render_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("empty")).expect("mkdir");
    let bin = helm_stand_in();
    let run = run_in(
        dir.path(),
        &[
            "lint",
            "--no-config",
            "--helm",
            "empty",
            "--helm-bin",
            &bin,
            "--format",
            "sarif",
        ],
        None,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let sarif: Value = serde_json::from_str(&run.stdout).expect("SARIF");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "render-error");
    assert!(
        result["message"]["text"]
            .as_str()
            .is_some_and(|m| m.contains("Chart.yaml")),
        "{result}"
    );
    // No file of the chart exists to attach it to: no physical location rather than a made-up one.
    assert!(result["locations"][0].get("physicalLocation").is_none());
    assert!(common::sarif_errors(&common::sarif_validator(), &sarif).is_empty());
}

#[test]
fn kustomize_overlays_are_built_with_kubectl() {
    let run = run_in(
        &common::root(),
        &[
            "lint",
            "--no-config",
            "--kustomize",
            OVERLAY,
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(run.code, 0, "warnings only: {}", run.stderr);
    let report = json(&run);
    let built = std::process::Command::new(program_on_path("kubectl"))
        .current_dir(common::root())
        .args(["kustomize", OVERLAY])
        .output()
        .expect("kubectl runs");
    let built = String::from_utf8(built.stdout).expect("UTF-8");

    // The overlay's patch and prefix are what is linted.
    let replicas = only(&report, "too-few-replicas");
    assert_eq!(replicas["object"]["name"], "prod-api");
    assert_eq!(replicas["object"]["namespace"], "shop-prod");
    let location = &replicas["location"];
    // The finding is in the patch that set the field; the built position is kept beside it.
    assert_eq!(
        location["file"],
        "fixtures/kustomize/overlays/prod/deployment-patch.yaml"
    );
    assert_eq!(location["line"], 6);
    assert_eq!(
        location["rendered"]["file"],
        "<kustomize fixtures/kustomize/overlays/prod>"
    );
    let line = location["rendered"]["line"].as_u64().expect("line") as usize;
    assert_eq!(
        built.lines().nth(line - 1).map(str::trim),
        Some("replicas: 1")
    );
    assert!(location.get("render").is_none());
    let tag = only(&report, "latest-image-tag");
    assert!(tag["message"]
        .as_str()
        .is_some_and(|m| m.contains("shop/api:latest")));

    let failing = run_in(
        &common::root(),
        &[
            "lint",
            "--no-config",
            "--kustomize",
            OVERLAY,
            "--fail-on",
            "warning",
        ],
        None,
    );
    assert_eq!(failing.code, 1);
    assert!(
        failing
            .stdout
            .contains("--> fixtures/kustomize/overlays/prod/deployment-patch.yaml:6:3"),
        "{}",
        failing.stdout
    );
}

#[test]
fn a_broken_kustomization_is_a_render_error_beside_the_other_inputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let overlay = dir.path().join("overlay");
    std::fs::create_dir_all(&overlay).expect("mkdir");
    std::fs::write(
        overlay.join("kustomization.yaml"),
        "resources:\n  - missing.yaml\n",
    )
    .expect("write");
    let example = common::root().join("fixtures/manifests/example/deployment.yaml");
    let run = run_in(
        dir.path(),
        &[
            "lint",
            "--no-config",
            "--kustomize",
            "overlay",
            example.to_str().expect("UTF-8 path"),
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(run.code, 2);
    let report = json(&run);
    let error = only(&report, "render-error");
    assert!(
        error["message"].as_str().is_some_and(
            |m| m.starts_with("kubectl kustomize failed: ") && m.contains("missing.yaml")
        ),
        "{error}"
    );
    assert_eq!(error["location"]["file"], "<kustomize overlay>");
    assert!(
        !findings(&report, "missing-readiness-probe").is_empty(),
        "the file beside it is still linted"
    );
}

#[test]
fn kustomize_build_is_used_when_kubectl_is_not_there() {
    let kubectl = program_on_path("kubectl");
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("args.log");
    // A `kustomize` that records how it is called and builds with kubectl's built-in kustomize.
    let script = dir.path().join("kustomize");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\n[ \"$1\" = build ] || exit 3\nexec '{}' kustomize \"$2\"\n",
            log.display(),
            kubectl.display()
        ),
    )
    .expect("write script");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let only_kustomize = dir.path().to_string_lossy().into_owned();
    let run = run_in(
        &common::root(),
        &[
            "lint",
            "--no-config",
            "--kustomize",
            OVERLAY,
            "--format",
            "json",
        ],
        Some(&only_kustomize),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        only(&json(&run), "too-few-replicas")["object"]["name"],
        "prod-api"
    );
    let script_path = script.to_string_lossy().into_owned();
    let chosen = run_in(
        &common::root(),
        &[
            "lint",
            "--no-config",
            "--kustomize",
            OVERLAY,
            "--kustomize-bin",
            &script_path,
        ],
        None,
    );
    assert_eq!(chosen.code, 0, "{}", chosen.stderr);
    let calls = std::fs::read_to_string(&log).expect("the script ran");
    assert_eq!(calls, format!("build {OVERLAY}\nbuild {OVERLAY}\n"));

    let empty = tempfile::tempdir().expect("tempdir");
    let run = run_in(
        &common::root(),
        &["lint", "--no-config", "--kustomize", OVERLAY],
        Some(&empty.path().to_string_lossy()),
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("neither kubectl nor kustomize"),
        "{}",
        run.stderr
    );
}

/// The matrix run every format is checked on: a mapped violation, a render error, plus a
/// kustomize render whose findings cannot be mapped.
fn format_run(format: &str) -> Run {
    let bin = helm_stand_in();
    run_in(
        &common::root(),
        &[
            "lint",
            "--no-config",
            "--helm",
            CHART,
            "--helm-bin",
            &bin,
            "--render-matrix",
            "-f",
            "fixtures/helm/web/values-prod.yaml",
            "-f",
            "fixtures/helm/web/values-broken.yaml",
            "--kustomize",
            OVERLAY,
            "--format",
            format,
        ],
        None,
    )
}

#[test]
fn every_format_carries_the_mapped_locations() {
    let reference = json(&format_run("json"));
    let all: Vec<&Value> = reference["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .collect();
    let readiness = only(&reference, "missing-readiness-probe");
    let (file, line, column) = (
        readiness["location"]["file"].as_str().expect("file"),
        readiness["location"]["line"].as_u64().expect("line"),
        readiness["location"]["column"].as_u64().expect("column"),
    );
    assert_eq!(file, "fixtures/helm/web/templates/deployment.yaml");

    // SARIF: validates; every artifact is a file that exists; mapped findings at the template line.
    let run = format_run("sarif");
    assert_eq!(run.code, 2);
    let sarif: Value = serde_json::from_str(&run.stdout).expect("SARIF is JSON");
    let errors = common::sarif_errors(&common::sarif_validator(), &sarif);
    assert!(
        errors.is_empty(),
        "SARIF schema violations:\n{}",
        errors.join("\n")
    );
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), all.len());
    for result in results {
        let physical = &result["locations"][0]["physicalLocation"];
        let uri = physical["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or_else(|| panic!("a physical location: {result}"));
        assert!(common::root().join(uri).is_file(), "{uri} exists");
    }
    let sarif_readiness = results
        .iter()
        .find(|r| r["ruleId"] == "missing-readiness-probe")
        .expect("readiness result");
    let physical = &sarif_readiness["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], file);
    assert_eq!(physical["region"]["startLine"].as_u64(), Some(line));
    assert_eq!(physical["region"]["startColumn"].as_u64(), Some(column));
    let properties = &sarif_readiness["properties"];
    assert_eq!(properties["render"], "fixtures/helm/web/values-prod.yaml");
    assert_eq!(properties["rendered"], readiness["location"]["rendered"]);
    let replicas = results
        .iter()
        .find(|r| r["ruleId"] == "too-few-replicas")
        .expect("kustomize result");
    assert_eq!(
        replicas["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "fixtures/kustomize/overlays/prod/deployment-patch.yaml"
    );

    // GitHub: the template file and line; kustomize findings on the patch that set the field.
    let run = format_run("github");
    let expected = format!(
        "::error file={file},line={line},col={column},title=missing-readiness-probe::container \"web\" has no readinessProbe"
    );
    assert!(
        run.stdout.lines().any(|l| l.starts_with(&expected)
            && l.ends_with("[render: fixtures/helm/web/values-prod.yaml]")),
        "{expected} in\n{}",
        run.stdout
    );
    assert!(run.stdout.lines().any(|l| l.starts_with(
        "::warning file=fixtures/kustomize/overlays/prod/deployment-patch.yaml,line=6,col=3,title=too-few-replicas::"
    )), "{}", run.stdout);
    assert!(run.stdout.contains(
        "title=render-error::helm template failed with fixtures/helm/web/values-broken.yaml"
    ));

    // JUnit: parses; the case names its render; the failure gives both positions.
    let run = format_run("junit");
    let doc = roxmltree::Document::parse(&run.stdout).expect("JUnit parses");
    let case = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("testcase")
                && n.attribute("name")
                    == Some("Deployment release-name-web [fixtures/helm/web/values-prod.yaml]")
        })
        .expect("a case for the rendered Deployment");
    assert_eq!(case.attribute("file"), Some(file));
    let failure = case
        .children()
        .find(|n| n.attribute("type") == Some("missing-readiness-probe"))
        .expect("its failure");
    let body = failure.text().unwrap_or_default();
    assert!(
        body.starts_with(&format!("{file}:{line}:{column}: ")),
        "{body}"
    );
    assert!(
        body.contains("\nrendered: <helm fixtures/helm/web -f"),
        "{body}"
    );
    // Only findings at or above --fail-on (error) are failures; the others are in <system-out>.
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count(),
        all.iter().filter(|f| f["severity"] == "error").count()
    );

    // Text: the template's own line under the caret.
    let run = format_run("text");
    let arrow = format!("--> {file}:{line}:{column}\n");
    let at = run.stdout.find(&arrow).expect("the arrow at the template");
    let quoted = &run.stdout[at..];
    assert!(
        quoted
            .lines()
            .nth(2)
            .is_some_and(|l| l.ends_with("        - name: web")),
        "{quoted}"
    );
}

#[test]
fn a_baseline_of_a_render_holds_when_it_is_rendered_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let baseline = dir.path().join("baseline.json");
    let baseline = baseline.to_str().expect("UTF-8 path");
    let args = [
        "-f",
        "fixtures/helm/web/values-prod.yaml",
        "--render-matrix",
    ];
    let first = lint_chart(&[&args[..], &["--write-baseline", baseline]].concat());
    assert_eq!(first.code, 0, "{}", first.stderr);
    let again = lint_chart(&[&args[..], &["--baseline", baseline]].concat());
    assert_eq!(again.code, 0, "{}", again.stdout);
    // Another values set is another deployment: its findings are its own.
    let other = lint_chart(&[
        "-f",
        "fixtures/helm/web/values.yaml",
        "--set",
        "probes.enabled=false",
        "--render-matrix",
        "--baseline",
        baseline,
    ]);
    assert_eq!(other.code, 1, "{}", other.stdout);
}

#[test]
fn an_object_a_template_only_includes_stays_at_its_rendered_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chart = dir.path().join("gen");
    std::fs::create_dir_all(chart.join("templates")).expect("mkdir");
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: gen\nversion: 0.1.0\n",
    )
    .expect("write");
    std::fs::write(
        chart.join("templates/_pod.tpl"),
        "{{- define \"gen.pod\" -}}\napiVersion: v1\nkind: Pod\nmetadata:\n  name: worker\nspec:\n  containers:\n    - name: worker\n      image: busybox:1.36\n      ports:\n        - containerPort: 8080\n{{- end -}}\n",
    )
    .expect("write");
    std::fs::write(
        chart.join("templates/pod.yaml"),
        "{{ include \"gen.pod\" . }}\n",
    )
    .expect("write");
    let bin = helm_stand_in();
    let lint = |format: &str| {
        run_in(
            dir.path(),
            &[
                "lint",
                "--no-config",
                "--helm",
                "gen",
                "--helm-bin",
                &bin,
                "--format",
                format,
            ],
            None,
        )
    };
    let run = lint("json");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = json(&run);
    let readiness = only(&report, "missing-readiness-probe");
    let location = &readiness["location"];
    assert_eq!(location["file"], "<helm gen>");
    assert_eq!(location["rendered"]["file"], "<helm gen>");
    assert_eq!(location["rendered"]["line"], location["line"]);
    assert_eq!(location["template"], "gen/templates/pod.yaml");

    // SARIF and GitHub attach it to the template that includes it.
    let sarif: Value = serde_json::from_str(&lint("sarif").stdout).expect("SARIF");
    let result = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["ruleId"] == "missing-readiness-probe")
        .expect("result");
    let physical = &result["locations"][0]["physicalLocation"];
    assert_eq!(
        physical["artifactLocation"]["uri"],
        "gen/templates/pod.yaml"
    );
    assert_eq!(physical["region"]["startLine"], 1);
    assert!(lint("github").stdout.contains(
        "::error file=gen/templates/pod.yaml,line=1,col=1,title=missing-readiness-probe::"
    ));
}

/// A kustomization that never finishes building (here a named pipe nobody writes among its
/// resources: kubectl blocks opening it, as it would on a remote base that never answers) is
/// stopped at `--render-timeout` and reported as a render error; the file beside it is still
/// linted and the run ends.
#[cfg(unix)]
#[test]
fn a_render_that_hangs_is_stopped_at_the_render_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let overlay = dir.path().join("overlay");
    std::fs::create_dir_all(&overlay).expect("mkdir");
    std::fs::write(
        overlay.join("kustomization.yaml"),
        "resources:\n  - pipe.yaml\n",
    )
    .expect("write");
    let made = std::process::Command::new("mkfifo")
        .arg(overlay.join("pipe.yaml"))
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let example = common::root().join("fixtures/manifests/example/deployment.yaml");
    let started = std::time::Instant::now();
    let run = run_in(
        dir.path(),
        &[
            "lint",
            "--no-config",
            "--kustomize",
            "overlay",
            "--render-timeout",
            "2s",
            example.to_str().expect("UTF-8 path"),
            "--format",
            "json",
        ],
        None,
    );
    let took = started.elapsed();
    assert_eq!(run.code, 2, "{}", run.stderr);
    let report = json(&run);
    let error = only(&report, "render-error");
    assert_eq!(
        error["message"],
        "kubectl kustomize failed: did not finish within 2s (--render-timeout), so it was stopped"
    );
    assert!(
        !findings(&report, "missing-readiness-probe").is_empty(),
        "the file beside it is still linted"
    );
    assert!(
        took < std::time::Duration::from_secs(60),
        "stopped at the timeout, not hung: {took:?}"
    );
}
