//! The text report's one-line count of findings per rule, above the summary.

use assert_cmd::Command;

const TWO_WORKERS: &str = "apiVersion: apps/v1
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
          image: nginx
          ports: [{containerPort: 80}]
        - name: sidecar
          image: busybox
          ports: [{containerPort: 9000}]
";

#[test]
fn text_output_counts_findings_per_rule_most_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("web.yaml"), TWO_WORKERS).expect("write");
    let out = Command::cargo_bin("seaworthy")
        .expect("binary")
        .current_dir(dir.path())
        .args(["lint", "web.yaml", "--color", "never", "--no-config"])
        .output()
        .expect("runs");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let line = text
        .lines()
        .find(|l| l.starts_with("by rule: "))
        .unwrap_or_else(|| panic!("no per-rule line:\n{text}"));
    assert!(
        line.starts_with("by rule: capabilities-not-dropped 2, latest-image-tag 2,"),
        "two containers give two findings of each container rule, sorted by count then id: {line}"
    );
    assert!(line.contains("missing-pdb 1"), "{line}");
    let summary = text.lines().position(|l| l.starts_with("summary: "));
    let by_rule = text.lines().position(|l| l.starts_with("by rule: "));
    assert_eq!(by_rule.map(|i| i + 1), summary, "right above the summary");
}
