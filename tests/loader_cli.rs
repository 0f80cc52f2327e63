//! The manifest loader through the real binary: files kubectl reads are linted, hostile files are
//! bounded and reported where they break, and inputs that are not regular files do not hang.

use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

fn seaworthy(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("seaworthy").expect("binary is built");
    cmd.current_dir(dir).env_remove("NO_COLOR");
    cmd.timeout(Duration::from_secs(60));
    cmd
}

/// Runs `seaworthy lint --format json ARGS`, returns the exit code and the parsed report.
fn lint_json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let output = seaworthy(dir)
        .arg("lint")
        .args(["--format", "json"])
        .args(args)
        .output()
        .expect("binary runs");
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}); stderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), report)
}

fn findings_of<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn line_column(finding: &Value) -> (u64, u64) {
    (
        finding["location"]["line"].as_u64().unwrap_or(0),
        finding["location"]["column"].as_u64().unwrap_or(0),
    )
}

fn config_map(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n")
}

/// The two shapes from Tekton's release manifests that go-yaml v2 reads and yaml-rust2 refused.
const TEKTON_SHAPES: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: controller
  namespace: pipelines
  annotations:
    example.com/config: '[
      {"a": 1}
    ]'
spec:
  replicas: 1
  selector:
    matchLabels: {app: controller}
  template:
    metadata:
      labels: {app: controller}
    spec:
      containers:
      - name: controller
        image: registry.example.com/controller:1.0.0
        args: [
          "-flag", "value"
        ]
"#;

#[test]
fn files_kubectl_reads_are_linted_not_rejected() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("controller.yaml"), TEKTON_SHAPES).unwrap();
    let (code, report) = lint_json(dir.path(), &["controller.yaml"]);
    assert!(
        findings_of(&report, "invalid-manifest").is_empty(),
        "{report:#}"
    );
    assert_eq!(report["summary"]["objects"], 1, "{report:#}");
    assert_eq!(
        code, 1,
        "the Deployment has findings, and nothing is malformed"
    );
    assert!(
        report["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["object"]["name"] == "controller")),
        "{report:#}"
    );
}

/// A document whose aliases add 95 × 1,001 = 95,095 nodes: under the per-document limit.
fn aliasing_document(index: usize) -> String {
    let items = vec!["x"; 1_000].join(", ");
    let aliases = vec!["*base"; 95].join(", ");
    format!(
        "{}data:\n  base: &base [{items}]\n  uses: [{aliases}]\n",
        config_map(&format!("doc-{index}"))
    )
}

#[test]
fn alias_expansion_is_bounded_per_file_and_other_files_are_still_linted() {
    let dir = tempfile::tempdir().unwrap();
    // Eleven documents just under the per-document limit add up to over a million nodes.
    let bomb: Vec<String> = (0..12).map(aliasing_document).collect();
    std::fs::write(dir.path().join("bomb.yaml"), bomb.join("---\n")).unwrap();
    std::fs::write(dir.path().join("other.yaml"), TEKTON_SHAPES).unwrap();
    let started = Instant::now();
    let (code, report) = lint_json(dir.path(), &["bomb.yaml", "other.yaml"]);
    assert_eq!(code, 2, "{report:#}");
    let refused = findings_of(&report, "invalid-manifest");
    assert_eq!(
        refused.len(),
        2,
        "documents 11 and 12 are refused: {report:#}"
    );
    let first = refused[0];
    assert_eq!(first["location"]["file"], "bomb.yaml");
    // Document 11 (index 10) starts on line 10 * 8 + 1; its aliases are on its 7th line.
    assert_eq!(line_column(first).0, 10 * 8 + 7, "{first:#}");
    let message = first["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("more than 1000000 nodes in this file"),
        "{message}"
    );
    // The ten documents under the limit and the other file are linted.
    assert_eq!(report["summary"]["objects"], 11, "{report:#}");
    assert!(
        report["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["location"]["file"] == "other.yaml")),
        "{report:#}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn invalid_utf8_is_reported_at_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("latin1.yaml"),
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: latin1\ndata:\n  city: Z\xfcrich\n",
    )
    .unwrap();
    let (code, report) = lint_json(dir.path(), &["latin1.yaml"]);
    assert_eq!(code, 2);
    let invalid = findings_of(&report, "invalid-manifest");
    assert_eq!(invalid.len(), 1, "{report:#}");
    assert_eq!(line_column(invalid[0]), (6, 10));
    let message = invalid[0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("0xFC"), "{message}");
    assert!(!message.contains("offset"), "{message}");
    // The object is still read, as kubectl reads it.
    assert_eq!(report["summary"]["objects"], 1, "{report:#}");
}

#[test]
fn lone_carriage_returns_give_the_right_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = (config_map("cr") + "data:\n  a: b\n  a: c\n").replace('\n', "\r");
    std::fs::write(dir.path().join("cr.yaml"), text).unwrap();
    let (_, report) = lint_json(dir.path(), &["cr.yaml"]);
    let duplicates = findings_of(&report, "duplicate-key");
    assert_eq!(duplicates.len(), 1, "{report:#}");
    assert_eq!(line_column(duplicates[0]), (7, 3));
}

#[test]
fn a_directive_is_reported_as_kubectl_rejects_it_and_the_document_after_it_is_linted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("directive.yaml"),
        format!("%YAML 1.1\n---\n{}", config_map("after")),
    )
    .unwrap();
    let (code, report) = lint_json(dir.path(), &["directive.yaml"]);
    assert_eq!(code, 2);
    let invalid = findings_of(&report, "invalid-manifest");
    assert_eq!(invalid.len(), 1, "{report:#}");
    assert_eq!(line_column(invalid[0]), (1, 1));
    assert_eq!(report["summary"]["objects"], 1, "{report:#}");
}

#[cfg(unix)]
fn make_fifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
}

#[cfg(unix)]
#[test]
fn a_named_pipe_nobody_writes_to_is_reported_instead_of_hanging() {
    let dir = tempfile::tempdir().unwrap();
    make_fifo(&dir.path().join("pipe.yaml"));
    std::fs::write(dir.path().join("cm.yaml"), config_map("still-read")).unwrap();
    let started = Instant::now();
    let (code, report) = lint_json(dir.path(), &["pipe.yaml", "cm.yaml"]);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(code, 2, "{report:#}");
    let invalid = findings_of(&report, "invalid-manifest");
    assert_eq!(invalid.len(), 1, "{report:#}");
    assert_eq!(invalid[0]["location"]["file"], "pipe.yaml");
    let message = invalid[0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("named pipe"), "{message}");
    assert_eq!(report["summary"]["objects"], 1, "{report:#}");
}

#[cfg(unix)]
#[test]
fn a_named_pipe_with_a_writer_is_read_as_a_stream() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let pipe = dir.path().join("pipe.yaml");
    make_fifo(&pipe);
    let writer = {
        let pipe = pipe.clone();
        std::thread::spawn(move || {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open(pipe)
                .expect("open the pipe for writing");
            // Written in two parts with a pause: the reader must wait for the end of the stream.
            file.write_all(b"apiVersion: v1\nkind: ConfigMap\n")
                .expect("write");
            std::thread::sleep(Duration::from_millis(300));
            file.write_all(b"metadata:\n  name: through-a-pipe\n")
                .expect("write");
        })
    };
    let (code, report) = lint_json(dir.path(), &["pipe.yaml"]);
    writer.join().expect("writer thread");
    assert!(
        findings_of(&report, "invalid-manifest").is_empty(),
        "{report:#}"
    );
    assert_eq!(report["summary"]["objects"], 1, "{report:#}");
    assert_ne!(code, 2, "{report:#}");
}
