//! Lint throughput, parser comparison, engine comparison, peak memory and start-up.
//!
//!     cargo bench --bench lint               # 5,000 objects
//!     cargo bench --bench lint -- 20000      # another corpus size
//!     cargo bench --bench lint -- --write-corpus DIR   # only write the corpus (for profiling)
//!     cargo bench --bench lint -- --cli-only           # only the whole-CLI phases
//!
//! Generates a corpus of mixed kinds at realistic sizes (Deployments, StatefulSets, CronJobs,
//! Services, ConfigMaps, HPAs, PDBs, NetworkPolicies, and a few large CRDs, which is where most bytes
//! of a real repository are), writes it to a temporary directory, then measures, each phase in a child
//! process of its own so its peak RSS is its own:
//!   - parse-only: seaworthy's loader (libyaml events) and the same tree builder fed by yaml-rust2 and
//!     by saphyr-parser;
//!   - full lint: loading, the workload view and every built-in rule, with the RVM and the interpreter;
//!   - whole CLI: the release binary `seaworthy lint` on the corpus, report included, with text, JSON
//!     and SARIF output written to a file (wall time, best of the rounds, and a hash of the output so
//!     two builds can be checked for identical reports);
//!   - start-up: wall time of the release binary linting one Deployment file, with the policy
//!     cache warm and without it.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use seaworthy::config::Config;
use seaworthy::engine::Backend;
use seaworthy::manifest::node::Span;
use seaworthy::manifest::yaml::{self, Event, EventSource, ScalarStyle, SyntaxError};
use seaworthy::manifest::{split, Input, LoadOptions};
use seaworthy::suppress::Suppressor;

/// The binary's allocator (main.rs), so that the in-process phases measure the time and peak RSS
/// `seaworthy lint` gets, not glibc's (which held about 40 MiB more at lint's peak).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The purge delay the binary sets for its one-shot commands (main.rs), given to each phase's
/// process through mimalloc's environment variable.
const ONE_SHOT_PURGE_DELAY: &str = "10";

const ROUNDS: usize = 5;
const OBJECTS_PER_FILE: usize = 50;

fn deployment(i: usize, kind: &str) -> String {
    let strategy = if kind == "Deployment" {
        "  strategy:\n    type: RollingUpdate\n    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}\n"
    } else {
        ""
    };
    format!(
        r#"apiVersion: apps/v1
kind: {kind}
metadata:
  name: svc-{i}
  namespace: team-{ns}
  labels:
    app.kubernetes.io/name: svc-{i}
    app.kubernetes.io/part-of: shop
    team: team-{ns}
  annotations:
    description: "service {i} of the benchmark corpus"
spec:
  replicas: {replicas}
{strategy}  selector:
    matchLabels:
      app.kubernetes.io/name: svc-{i}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: svc-{i}
        version: v1.{i}
    spec:
      serviceAccountName: svc-{i}
      securityContext:
        runAsNonRoot: true
        seccompProfile: {{type: RuntimeDefault}}
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
                    app.kubernetes.io/name: svc-{i}
      initContainers:
        - name: migrate
          image: registry.example.com/svc-{i}-migrate:1.{i}.0
          resources:
            requests: {{cpu: 50m, memory: 64Mi}}
            limits: {{memory: 128Mi}}
      containers:
        - name: app
          image: registry.example.com/svc-{i}:1.{i}.0
          ports:
            - name: http
              containerPort: 8080
          env:
            - name: SPRING_PROFILES_ACTIVE
              value: production
            - name: DB_HOST
              valueFrom:
                secretKeyRef: {{name: svc-{i}-db, key: host}}
          resources:
            requests:
              cpu: 250m
              memory: 256Mi
            limits:
              memory: {memory}
          readinessProbe:
            httpGet: {{path: /ready, port: http}}
            periodSeconds: 5
          livenessProbe:
            httpGet: {{path: /healthz, port: http}}
            initialDelaySeconds: 10
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {{drop: [ALL]}}
        - name: proxy
          image: envoyproxy/envoy:v1.31.0
          resources:
            requests: {{cpu: 50m, memory: 64Mi}}
"#,
        ns = i % 7,
        replicas = 1 + i % 4,
        memory = if i.is_multiple_of(5) {
            "1Gi".to_string()
        } else {
            format!("{}Mi", 256 + i % 256)
        },
    )
}

fn cronjob(i: usize) -> String {
    format!(
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: report-{i}\n  namespace: team-{}\nspec:\n  schedule: \"0 3 * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers:\n            - name: report\n              image: registry.example.com/report:2.{i}\n              args: [\"--since\", \"24h\"]\n              resources:\n                limits: {{memory: 512Mi}}\n",
        i % 7
    )
}

fn small(i: usize) -> String {
    let ns = i % 7;
    match i % 5 {
        0 => format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i}\n  namespace: team-{ns}\nspec:\n  selector:\n    app.kubernetes.io/name: svc-{i}\n  ports:\n    - name: http\n      port: 80\n      targetPort: http\n"),
        1 => format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-{i}\n  namespace: team-{ns}\ndata:\n  application.yaml: |\n    server:\n      port: 8080\n    logging:\n      level: INFO\n    feature-{i}: enabled\n"),
        2 => format!("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: svc-{i}\n  namespace: team-{ns}\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: svc-{i}}}\n  minReplicas: 3\n  maxReplicas: 10\n  metrics:\n    - type: Resource\n      resource:\n        name: cpu\n        target: {{type: Utilization, averageUtilization: 70}}\n"),
        3 => format!("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: svc-{i}\n  namespace: team-{ns}\nspec:\n  minAvailable: 2\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: svc-{i}\n"),
        _ => format!("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: allow-{i}\n  namespace: team-{ns}\nspec:\n  podSelector:\n    matchLabels:\n      app.kubernetes.io/name: svc-{i}\n  policyTypes: [Ingress]\n  ingress:\n    - from:\n        - namespaceSelector:\n            matchLabels: {{kubernetes.io/metadata.name: ingress-nginx}}\n      ports:\n        - port: 8080\n"),
    }
}

/// A CRD with a large OpenAPI schema, like the ones operators ship (hundreds of KB each).
/// A CRD with 400 fields under `spec.config` (each under `properties`, so the schema check finds
/// nothing unknown: an earlier version of this corpus indented them one level short).
fn crd(i: usize) -> String {
    let mut props = String::new();
    for p in 0..400 {
        props.push_str(&format!(
            "                    field{p}:\n                      description: \"Field {p} of the spec. It controls part {p} of the behaviour; see the operator documentation for the defaults and for how it interacts with the other fields.\"\n                      type: object\n                      properties:\n                        enabled: {{type: boolean}}\n                        mode: {{type: string, enum: [Auto, Manual, Disabled]}}\n                        limit: {{type: integer, format: int64, minimum: 0}}\n"
        ));
    }
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets{i}.example.com\nspec:\n  group: example.com\n  names: {{kind: Widget{i}, plural: widgets{i}}}\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          properties:\n            spec:\n              type: object\n              properties:\n                config:\n                  type: object\n                  properties:\n{props}"
    )
}

/// Objects in the proportions of a real repository: mostly small objects, a few large CRDs.
fn corpus(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| match i % 100 {
            0 => crd(i),
            1..=29 => deployment(i, "Deployment"),
            30..=34 => deployment(i, "StatefulSet"),
            35..=39 => cronjob(i),
            _ => small(i),
        })
        .collect()
}

fn write_corpus(dir: &Path, objects: &[String]) -> u64 {
    let mut bytes = 0;
    for (f, chunk) in objects.chunks(OBJECTS_PER_FILE).enumerate() {
        let text = chunk.join("---\n");
        bytes += text.len() as u64;
        std::fs::write(dir.join(format!("file-{f:04}.yaml")), text).expect("write corpus");
    }
    bytes
}

/// yaml-rust2 (the loader's parser before libyaml) feeding the same tree builder.
pub struct YamlRust2Source<'a> {
    parser: yaml_rust2::parser::Parser<std::str::Chars<'a>>,
    line_offset: u32,
    done: bool,
}

impl<'a> YamlRust2Source<'a> {
    pub fn new(text: &'a str, line_offset: u32) -> Self {
        YamlRust2Source {
            parser: yaml_rust2::parser::Parser::new(text.chars()),
            line_offset,
            done: false,
        }
    }
}

impl<'a> EventSource<'a> for YamlRust2Source<'a> {
    fn next_event(&mut self) -> Option<Result<(Event<'a>, Span), SyntaxError>> {
        use yaml_rust2::parser::Event as E;
        use yaml_rust2::scanner::TScalarStyle;
        if self.done {
            return None;
        }
        let offset = self.line_offset;
        // yaml-rust2 lines are 1-based, columns 0-based (in characters).
        let span = |m: &yaml_rust2::scanner::Marker| {
            Span::new(m.line() as u32 + offset, m.col() as u32 + 1)
        };
        let tag = |t: Option<yaml_rust2::parser::Tag>| {
            t.map(|t| yaml::classify_tag(&t.handle, &t.suffix))
        };
        Some(match self.parser.next_token() {
            Err(e) => {
                self.done = true;
                Err(SyntaxError {
                    message: e.info().to_string(),
                    span: span(e.marker()),
                })
            }
            Ok((event, marker)) => {
                let event = match event {
                    E::Nothing | E::StreamStart => Event::StreamStart,
                    E::StreamEnd => {
                        self.done = true;
                        Event::StreamEnd
                    }
                    E::DocumentStart => Event::DocumentStart,
                    E::DocumentEnd => Event::DocumentEnd,
                    E::Alias(id) => Event::Alias(id),
                    E::Scalar(text, style, anchor, t) => {
                        let style = match style {
                            TScalarStyle::Plain => ScalarStyle::Plain,
                            TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => {
                                ScalarStyle::Quoted
                            }
                            TScalarStyle::Literal | TScalarStyle::Folded => ScalarStyle::Block,
                        };
                        Event::Scalar(Cow::Owned(text), style, anchor, tag(t))
                    }
                    E::SequenceStart(anchor, t) => Event::SequenceStart(anchor, tag(t)),
                    E::SequenceEnd => Event::SequenceEnd,
                    E::MappingStart(anchor, t) => Event::MappingStart(anchor, tag(t)),
                    E::MappingEnd => Event::MappingEnd,
                };
                Ok((event, span(&marker)))
            }
        })
    }
}

/// saphyr-parser feeding the same tree builder, to compare the parsers on equal terms.
pub struct SaphyrSource<'a> {
    parser: saphyr_parser::Parser<'a, saphyr_parser::StrInput<'a>>,
    line_offset: u32,
}

impl<'a> SaphyrSource<'a> {
    pub fn new(text: &'a str, line_offset: u32) -> Self {
        SaphyrSource {
            parser: saphyr_parser::Parser::new_from_str(text),
            line_offset,
        }
    }
}

impl<'a> EventSource<'a> for SaphyrSource<'a> {
    fn next_event(&mut self) -> Option<Result<(Event<'a>, Span), SyntaxError>> {
        use saphyr_parser::Event as E;
        let offset = self.line_offset;
        let to_span =
            |m: &saphyr_parser::Marker| Span::new(m.line() as u32 + offset, m.col() as u32 + 1);
        let tag = |t: Option<Cow<'_, saphyr_parser::Tag>>| {
            t.map(|t| yaml::classify_tag(&t.handle, &t.suffix))
        };
        let item = self.parser.next_event()?;
        Some(match item {
            Err(e) => Err(SyntaxError {
                message: e.info().to_string(),
                span: to_span(e.marker()),
            }),
            Ok((event, span)) => {
                let event = match event {
                    E::Nothing | E::StreamStart => Event::StreamStart,
                    E::StreamEnd => Event::StreamEnd,
                    E::DocumentStart(_) => Event::DocumentStart,
                    E::DocumentEnd => Event::DocumentEnd,
                    E::Alias(id) => Event::Alias(id),
                    E::Scalar(text, style, anchor, t) => {
                        let style = match style {
                            saphyr_parser::ScalarStyle::Plain => ScalarStyle::Plain,
                            saphyr_parser::ScalarStyle::SingleQuoted
                            | saphyr_parser::ScalarStyle::DoubleQuoted => ScalarStyle::Quoted,
                            _ => ScalarStyle::Block,
                        };
                        Event::Scalar(text, style, anchor, tag(t))
                    }
                    E::SequenceStart(anchor, t) => Event::SequenceStart(anchor, tag(t)),
                    E::SequenceEnd => Event::SequenceEnd,
                    E::MappingStart(anchor, t) => Event::MappingStart(anchor, tag(t)),
                    E::MappingEnd => Event::MappingEnd,
                };
                Ok((event, to_span(&span.start)))
            }
        })
    }
}

/// Single-threaded parse of in-memory text with either parser; returns the number of objects.
fn parse_in_memory(texts: &[String], parser: &str) -> usize {
    let limits = yaml::Limits::default();
    let mut documents = 0;
    for text in texts {
        for chunk in split::split_documents(text) {
            let docs = match parser {
                "libyaml" => yaml::parse_str(chunk.text, chunk.first_line, limits),
                "yaml-rust2" => yaml::build_documents(
                    &mut YamlRust2Source::new(chunk.text, chunk.first_line),
                    limits,
                ),
                _ => yaml::build_documents(
                    &mut SaphyrSource::new(chunk.text, chunk.first_line),
                    limits,
                ),
            };
            documents += docs
                .map(|d| d.iter().filter(|d| d.root.is_some()).count())
                .unwrap_or(0);
        }
    }
    documents
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn best_of<F: FnMut() -> usize>(mut run: F) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut count = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        count = run();
        best = best.min(start.elapsed());
    }
    (best, count)
}

/// Runs one phase in this process and prints `seconds objects peak_kib`.
fn child(phase: &str, dir: &Path) {
    let files: Vec<PathBuf> = {
        let mut f: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("corpus dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        f.sort();
        f
    };
    let (elapsed, objects) = match phase {
        "parse-saphyr" | "parse-yaml-rust2" | "parse-libyaml" => {
            let texts: Vec<String> = files
                .iter()
                .map(|f| std::fs::read_to_string(f).expect("read"))
                .collect();
            let parser = phase.trim_start_matches("parse-");
            best_of(|| parse_in_memory(&texts, parser))
        }
        "load" => {
            let inputs = vec![Input::Path(dir.to_path_buf())];
            best_of(|| {
                seaworthy::manifest::load_inputs(&inputs, &LoadOptions::default())
                    .objects
                    .len()
            })
        }
        "lint-rvm" | "lint-interpreter" => {
            let backend = if phase == "lint-rvm" {
                Backend::Rvm
            } else {
                Backend::Interpreter
            };
            let config = Config::default();
            let inputs = vec![Input::Path(dir.to_path_buf())];
            best_of(|| {
                let mut evaluator =
                    seaworthy::lint::evaluator_for(&config, &[], backend).expect("policies");
                let suppressor = Suppressor {
                    exemptions: &[],
                    allow_annotations: true,
                };
                let outcome = seaworthy::lint::lint_inputs(
                    &inputs,
                    &LoadOptions::default(),
                    &mut evaluator,
                    &suppressor,
                );
                assert!(outcome.summary.errors > 0, "the corpus has findings");
                outcome.summary.objects
            })
        }
        other => panic!("unknown phase {other}"),
    };
    println!("{} {} {}", elapsed.as_secs_f64(), objects, peak_rss_kib());
}

fn run_phase(phase: &str, dir: &Path) -> (f64, usize, u64) {
    let exe = std::env::current_exe().expect("current exe");
    let out = Command::new(exe)
        .args(["--phase", phase, &dir.display().to_string()])
        .env("MIMALLOC_PURGE_DELAY", ONE_SHOT_PURGE_DELAY)
        .output()
        .expect("run phase");
    assert!(
        out.status.success(),
        "phase {phase} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace();
    let seconds: f64 = parts.next().and_then(|s| s.parse().ok()).expect("seconds");
    let objects: usize = parts.next().and_then(|s| s.parse().ok()).expect("objects");
    let kib: u64 = parts.next().and_then(|s| s.parse().ok()).expect("peak");
    (seconds, objects, kib)
}

/// The whole CLI path: `seaworthy lint --format FORMAT` of the corpus, output to a file, as a user
/// runs it (loading, evaluation, the serial tail, the report, writing it and exiting). Returns the
/// best wall time of the rounds, the output's size and a hash of it (FNV-1a: identical reports
/// across builds have identical hashes).
fn cli(dir: &Path, corpus: &Path, format: &str) -> (Duration, usize, u64) {
    let exe = env!("CARGO_BIN_EXE_seaworthy");
    let out_path = dir.join(format!("report.{format}"));
    let mut best = Duration::MAX;
    for _ in 0..ROUNDS {
        let out = std::fs::File::create(&out_path).expect("create report file");
        let start = Instant::now();
        let status = Command::new(exe)
            .args([
                "lint",
                "--no-config",
                "--color",
                "never",
                "--format",
                format,
            ])
            .arg(corpus)
            .env("XDG_CACHE_HOME", dir.join("cache"))
            .env_remove("SEAWORTHY_NO_CACHE")
            .stdout(out)
            .status()
            .expect("run binary");
        best = best.min(start.elapsed());
        assert_eq!(status.code(), Some(1), "the corpus has errors ({format})");
    }
    let report = std::fs::read(&out_path).expect("read report");
    let hash = report.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (best, report.len(), hash)
}

/// Median wall time of `seaworthy lint` on one Deployment file, with the policy cache warm (in a
/// cache directory of its own, filled by a first run) or turned off.
fn startup(dir: &Path, cached: bool) -> Duration {
    let file = dir.join("one.yaml");
    std::fs::write(&file, deployment(1, "Deployment")).expect("write");
    let exe = env!("CARGO_BIN_EXE_seaworthy");
    let lint = || {
        let mut command = Command::new(exe);
        command
            .args(["lint", "--no-config"])
            .arg(&file)
            .env("XDG_CACHE_HOME", dir.join("cache"))
            .env_remove("SEAWORTHY_NO_CACHE");
        if !cached {
            command.arg("--no-cache");
        }
        let start = Instant::now();
        let status = command.output().expect("run binary").status;
        assert!(
            matches!(status.code(), Some(0 | 1)),
            "lint of one file runs"
        );
        start.elapsed()
    };
    if cached {
        lint();
    }
    let mut times: Vec<Duration> = (0..21).map(|_| lint()).collect();
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("--phase") {
        child(&args[1], Path::new(&args[2]));
        return;
    }
    let n: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(5000);
    // `--write-corpus DIR`: only write the corpus, for profiling the binary on it.
    if let Some(i) = args.iter().position(|a| a == "--write-corpus") {
        let out = Path::new(args.get(i + 1).expect("--write-corpus DIR"));
        std::fs::create_dir_all(out).expect("mkdir");
        let bytes = write_corpus(out, &corpus(n));
        println!("wrote {n} objects, {bytes} bytes, to {}", out.display());
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus_dir = dir.path().join("corpus");
    std::fs::create_dir(&corpus_dir).expect("mkdir");
    let bytes = write_corpus(&corpus_dir, &corpus(n));
    let mb = bytes as f64 / 1e6;
    println!("corpus: {n} objects in {} files, {mb:.1} MB ({} CRDs); best of {ROUNDS} rounds; {} threads", n.div_ceil(OBJECTS_PER_FILE), n.div_ceil(100), rayon::current_num_threads());
    println!(
        "{:<34} {:>12} {:>10} {:>12}",
        "phase", "objects/s", "MB/s", "peak RSS"
    );
    let mut rates = std::collections::HashMap::new();
    // `--cli-only`: only the whole-CLI phases (comparing two builds' reports and times).
    let cli_only = args.iter().any(|a| a == "--cli-only");
    let phases = [
        ("parse-libyaml", "parse, libyaml (1 thread)"),
        ("parse-saphyr", "parse, saphyr-parser (1 thread)"),
        ("parse-yaml-rust2", "parse, yaml-rust2 (1 thread)"),
        ("load", "parse-only: load (all threads)"),
        ("lint-rvm", "full lint, RVM (all threads)"),
        ("lint-interpreter", "full lint, interpreter"),
    ];
    for (phase, label) in phases.into_iter().filter(|_| !cli_only) {
        let (seconds, objects, kib) = run_phase(phase, &corpus_dir);
        let rate = objects as f64 / seconds;
        rates.insert(phase, rate);
        println!(
            "{label:<34} {rate:>12.0} {:>10.1} {:>9.1} MiB",
            mb / seconds,
            kib as f64 / 1024.0
        );
    }
    for format in ["text", "json", "sarif"] {
        let (elapsed, size, hash) = cli(dir.path(), &corpus_dir, format);
        let rate = n as f64 / elapsed.as_secs_f64();
        rates.insert(format, rate);
        println!(
            "{:<34} {rate:>12.0} {:>10.1}   (report {:.1} MB, hash {hash:016x})",
            format!("whole CLI, --format {format}"),
            mb / elapsed.as_secs_f64(),
            size as f64 / 1e6
        );
    }
    if cli_only {
        return;
    }
    println!(
        "full lint (RVM) / parse-only: {:.0}%",
        100.0 * rates["lint-rvm"] / rates["load"]
    );
    println!(
        "whole CLI (text) / parse-only: {:.0}%",
        100.0 * rates["text"] / rates["load"]
    );
    println!(
        "RVM / interpreter: {:.2}x",
        rates["lint-rvm"] / rates["lint-interpreter"]
    );
    println!(
        "libyaml / yaml-rust2: {:.2}x, libyaml / saphyr-parser: {:.2}x",
        rates["parse-libyaml"] / rates["parse-yaml-rust2"],
        rates["parse-libyaml"] / rates["parse-saphyr"]
    );
    println!(
        "start-up: `seaworthy lint` of one Deployment file, median of 21 runs: {:.1} ms with the policy cache warm, {:.1} ms with --no-cache",
        startup(dir.path(), true).as_secs_f64() * 1e3,
        startup(dir.path(), false).as_secs_f64() * 1e3
    );
}
