//! The real binary: formats, exit codes, stdin, config, suppression, bad input, the rules command.

mod common;

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

/// The Deployment `web`, production-ready in every respect but one: its container has no readinessProbe
/// (an error). The PodDisruptionBudget and NetworkPolicies after it keep the availability and network
/// rules quiet, so the readiness finding is the only one and tests can count exactly.
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
          ports: [{name: http, containerPort: 8080}]
          livenessProbe: {httpGet: {path: /healthz, port: http}}
          resources:
            requests: {cpu: 100m, memory: 256Mi}
            limits: {cpu: 500m, memory: 256Mi}
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
            readOnlyRootFilesystem: true
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: DoNotSchedule
          labelSelector: {matchLabels: {app: web}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
  namespace: shop
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {app: web}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-from-gateway
  namespace: shop
spec:
  podSelector:
    matchLabels: {app: web}
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector:
            matchLabels: {app: gateway}
      ports: [{port: 8080}]
"#;

/// A workload that is fit for production under the default config (every rule, pod_security
/// restricted): replicas spread over nodes, probes on a declared port, requests and limits, the
/// restricted security context, a pinned image, a PodDisruptionBudget, a default deny and an allow
/// policy. `exit_codes_follow_fail_on` checks that it gives no finding at all.
const CLEAN: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  replicas: 3
  selector:
    matchLabels: {app: api}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxUnavailable: 0, maxSurge: 1}
  template:
    metadata:
      labels: {app: api}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector: {matchLabels: {app: api}}
      containers:
        - name: api
          image: registry.example.com/shop/api:1.0.3
          ports: [{name: http, containerPort: 8080}]
          readinessProbe: {httpGet: {path: /ready, port: http}}
          livenessProbe: {httpGet: {path: /healthz, port: http}}
          resources:
            requests: {cpu: 250m, memory: 128Mi}
            limits: {cpu: "1", memory: 128Mi}
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
            readOnlyRootFilesystem: true
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: api
  namespace: shop
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {app: api}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api-from-web
  namespace: shop
spec:
  podSelector:
    matchLabels: {app: api}
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector:
            matchLabels: {app: web}
      ports: [{port: http}]
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

/// The findings of one rule, for tests about that rule whatever else the catalog reports.
fn findings_of<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

#[test]
fn json_output_follows_the_contract() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "web.yaml", DEPLOYMENT);
    let out = stdout_of(dir.path(), &["lint", "web.yaml", "--format", "json"], 1);
    let report = json_of(&out);
    assert_eq!(rules_of(&report), vec!["missing-readiness-probe"]);
    let finding = &report["findings"][0];
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
        serde_json::json!({"files": 1, "objects": 4, "errors": 1, "warnings": 0, "notices": 0, "suppressed": 0})
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
        text.contains("summary: 1 error, 0 warnings, 0 notices in 4 objects from 1 file"),
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
    // Clean means no finding at all, not even a notice.
    let out = stdout_of(
        dir.path(),
        &[
            "lint",
            "clean.yaml",
            "--fail-on",
            "notice",
            "--format",
            "json",
        ],
        0,
    );
    assert!(rules_of(&json_of(&out)).is_empty(), "CLEAN has findings");
    cmd(dir.path()).args(["lint", "web.yaml"]).assert().code(1);
    cmd(dir.path())
        .args(["lint", "web.yaml", "--fail-on", "never"])
        .assert()
        .code(0);
    // A liveness-only problem is a warning: passes at the default level, fails at --fail-on warning.
    let warn_only = CLEAN.replace(
        "          livenessProbe: {httpGet: {path: /healthz, port: http}}\n",
        "",
    );
    assert_ne!(warn_only, CLEAN);
    write(dir.path(), "warn.yaml", &warn_only);
    let out = stdout_of(dir.path(), &["lint", "warn.yaml", "--format", "json"], 0);
    let report = json_of(&out);
    assert_eq!(rules_of(&report), vec!["missing-liveness-probe"]);
    assert_eq!(report["findings"][0]["severity"], "warning");
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
    let readiness = findings_of(&report, "missing-readiness-probe");
    assert_eq!(readiness.len(), 1);
    assert_eq!(readiness[0]["location"]["file"], "<stdin>");
    assert_eq!(readiness[0]["location"]["line"], 16);
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
    write(
        dir.path(),
        "settings.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\n",
    );
    assert!(DEPLOYMENT.len() > 400, "web.yaml is over the limit");
    let out = stdout_of(
        dir.path(),
        &[
            "lint",
            "web.yaml",
            "settings.yaml",
            "--max-file-size",
            "400",
            "--format",
            "json",
        ],
        2,
    );
    let report = json_of(&out);
    let invalid = findings_of(&report, "invalid-manifest");
    assert_eq!(invalid.len(), 1, "{report}");
    let first = invalid[0];
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
        &CLEAN.replacen("  name: api\n", "  name: api\n  name: api2\n", 1),
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
    let annotated = DEPLOYMENT.replacen(
        "  namespace: shop\n",
        "  namespace: shop\n  annotations:\n    seaworthy.dev/ignore: \"missing-readiness-probe, missing-liveness-probe\"\n    seaworthy.dev/ignore-reason: \"batch worker, no traffic\"\n",
        1,
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
    let report = json_of(&out);
    let readiness = findings_of(&report, "missing-readiness-probe");
    assert_eq!(readiness.len(), 1);
    assert_eq!(readiness[0]["severity"], "notice");
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
    let readiness = findings_of(&report, "missing-readiness-probe");
    assert_eq!(readiness.len(), 1);
    assert_eq!(
        readiness[0]["location"]["template"],
        "shop/templates/deployment.yaml"
    );
    assert_eq!(readiness[0]["location"]["line"], 24);
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
    // Bare Deployments: DEPLOYMENT and CLEAN bring their own PodDisruptionBudget.
    let deployment = |name: &str, ns: &str| {
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n{ns}spec:\n  template:\n    spec:\n      containers: [{{name: {name}, image: {name}:1.0}}]\n")
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
    write(
        dir.path(),
        "web.yaml",
        &deployment("web", "  namespace: shop\n"),
    );
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
    write(dir.path(), "api.yaml", &deployment("api", ""));
    assert_eq!(
        run(&["api.yaml"]),
        vec!["no PodDisruptionBudget in namespace \"default\""]
    );
    assert!(run(&["api.yaml", "pdb-default.yaml"]).is_empty());
}

#[test]
fn pod_security_none_turns_the_security_rules_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The API server rejects privileged with allowPrivilegeEscalation false, so both change.
    let privileged = CLEAN.replace(
        "            allowPrivilegeEscalation: false\n",
        "            privileged: true\n            allowPrivilegeEscalation: true\n",
    );
    assert_ne!(privileged, CLEAN);
    write(dir.path(), "priv.yaml", &privileged);
    // restricted (the default): the baseline rule and the restricted one.
    let out = stdout_of(
        dir.path(),
        &["lint", "priv.yaml", "--format", "json", "--no-config"],
        1,
    );
    let mut rules = rules_of(&json_of(&out));
    rules.sort();
    assert_eq!(
        rules,
        vec!["privilege-escalation-allowed", "privileged-container"]
    );
    write(dir.path(), "c.yaml", "pod_security: none\n");
    let out = stdout_of(
        dir.path(),
        &[
            "lint",
            "priv.yaml",
            "--config",
            "c.yaml",
            "--format",
            "json",
            "--fail-on",
            "notice",
        ],
        0,
    );
    assert!(rules_of(&json_of(&out)).is_empty());
    // baseline: only the baseline rule.
    write(dir.path(), "c.yaml", "pod_security: baseline\n");
    let out = stdout_of(
        dir.path(),
        &[
            "lint",
            "priv.yaml",
            "--config",
            "c.yaml",
            "--format",
            "json",
        ],
        1,
    );
    assert_eq!(rules_of(&json_of(&out)), vec!["privileged-container"]);
}

const PERL_CLASSES_POLICY: &str = r#"# What it does: test policy matching with the Perl classes \d, \s and \w.
package seaworthy.rules.test.perl_classes

import rego.v1

metadata := {"id": "release-annotation", "area": "test", "severity": "warning", "kinds": ["Deployment"], "summary": "s", "remediation": "Remove it."}

violations contains v if {
	regex.match(`^\w+\s\d+$`, input.object.metadata.annotations.build)
	v := {"msg": "build annotation names a release", "path": ["metadata", "annotations", "build"]}
}
"#;

#[test]
fn custom_policies_can_use_perl_regex_classes() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "perl/release.rego", PERL_CLASSES_POLICY);
    let fires = |build: &str, engine: &str| -> bool {
        let annotated = DEPLOYMENT.replacen(
            "  namespace: shop\n",
            &format!("  namespace: shop\n  annotations: {{build: \"{build}\"}}\n"),
            1,
        );
        write(dir.path(), "web.yaml", &annotated);
        let out = cmd(dir.path())
            .args([
                "lint",
                "web.yaml",
                "--policies",
                "perl",
                "--no-config",
                "--format",
                "json",
                "--engine",
                engine,
            ])
            .output()
            .expect("runs");
        let report = json_of(&out.stdout);
        let found = findings_of(&report, "release-annotation");
        assert!(found.len() <= 1, "{report}");
        found.len() == 1
    };
    for engine in ["rvm", "interpreter"] {
        assert!(fires("release 42", engine), "{engine}: \\w+\\s\\d+ matches");
        // Each class means its class, not a literal letter.
        assert!(!fires("release-42", engine), "{engine}: \\s is whitespace");
        assert!(!fires("release 4x", engine), "{engine}: \\d is a digit");
        assert!(
            !fires("rel.ease 42", engine),
            "{engine}: \\w is a word character"
        );
    }
}

/// `--timings` reports every rule that ran, user rules included, costliest first, on standard
/// error and under `timings` in JSON, and changes no finding; without it there is neither.
#[test]
fn timings_list_each_rule_that_ran_and_change_no_finding() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "web.yaml", DEPLOYMENT);
    write(dir.path(), "team/team_label.rego", CUSTOM_POLICY);
    let base = ["lint", "web.yaml", "--no-config", "--policies", "team"];
    let run = |extra: &[&str]| {
        let out = cmd(dir.path())
            .args(base)
            .args(["--format", "json"])
            .args(extra)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        (
            json_of(&out.stdout),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (plain, plain_err) = run(&[]);
    let (timed, timed_err) = run(&["--timings"]);
    assert!(plain.get("timings").is_none(), "{plain}");
    assert!(!plain_err.contains("evaluations"), "{plain_err}");
    assert_eq!(
        rules_of(&plain),
        rules_of(&timed),
        "timing changes no finding"
    );

    let timings = timed["timings"].as_array().expect("timings in JSON");
    let rules: Vec<&str> = timings.iter().filter_map(|t| t["rule"].as_str()).collect();
    for rule in [
        "privileged-container",
        "missing-readiness-probe",
        "missing-team-label",
    ] {
        assert!(rules.contains(&rule), "{rule} not timed: {rules:?}");
    }
    // Rules of other kinds never ran on the Deployment: not listed.
    assert!(!rules.contains(&"service-selects-nothing"), "{rules:?}");
    let totals: Vec<f64> = timings
        .iter()
        .filter_map(|t| t["total_ms"].as_f64())
        .collect();
    assert_eq!(totals.len(), timings.len());
    assert!(
        totals.windows(2).all(|w| w[0] >= w[1]),
        "costliest first: {totals:?}"
    );
    for t in timings {
        let evaluations = t["evaluations"].as_u64().expect("evaluations");
        assert!(evaluations >= 1, "{t}");
        if t["rule"] == "privileged-container" {
            assert_eq!(evaluations, 1, "one workload, one evaluation: {t}");
        }
        let mean_of_total = t["total_ms"].as_f64().expect("total_ms") * 1000.0 / evaluations as f64;
        let mean = t["mean_us"].as_f64().expect("mean_us");
        assert!((mean_of_total - mean).abs() < 1e-6, "{t}");
    }
    // The same table for people on standard error, one line per timed rule.
    let header = timed_err
        .lines()
        .position(|l| l.starts_with("rule ") && l.contains("evaluations"))
        .unwrap_or_else(|| panic!("no timings table:\n{timed_err}"));
    let listed = timed_err.lines().skip(header + 1).take(rules.len());
    for (line, rule) in listed.zip(&rules) {
        assert!(line.starts_with(rule), "{line:?} is not {rule}");
    }
}
