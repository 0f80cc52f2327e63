//! Rendered inputs: a Helm chart through `helm template`, a Kustomize directory through
//! `kubectl kustomize` (or `kustomize build`), run as child processes; and mapping a finding in the
//! rendered output back to the line of the template it came from, which is what the user edits.
//!
//! Running the tools and reading templates are the I/O edges ([`helm`], [`kustomize`],
//! [`lint_render`]); finding an object's document in a template and a field in that document are
//! pure functions over text ([`template_position`]).

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::engine::Evaluator;
use crate::finding::{Finding, Location, Position, Severity};
use crate::lint::{self, Outcome, Summary};
use crate::manifest::node::PathStep;
use crate::manifest::{self, LoadOptions, Loaded, Object, SourceFile};
use crate::suppress::Suppressor;

pub use crate::finding::RENDER_ERROR;

/// Why rendering could not even start.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{0}")]
    NotFound(String),
    #[error("cannot run {program}: {message}")]
    Spawn { program: String, message: String },
}

/// What to render a Helm chart with (the flags of `seaworthy lint --helm`).
#[derive(Debug, Clone, Default)]
pub struct HelmRequest {
    /// `--helm-bin`: a path, or a name looked up on PATH; `helm` when not given.
    pub bin: Option<PathBuf>,
    pub chart: PathBuf,
    pub release: String,
    pub namespace: Option<String>,
    pub values: Vec<PathBuf>,
    pub sets: Vec<String>,
    /// One render per values file instead of one with all of them.
    pub matrix: bool,
    /// How long `helm template` may run (`--render-timeout`).
    pub timeout: Duration,
}

/// How long a render may run unless `--render-timeout` says otherwise: far more than any real
/// chart or kustomization needs, short enough that a hung one (a remote base that never answers,
/// a named pipe among the resources) fails the CI job with a message rather than stalling it.
pub const DEFAULT_RENDER_TIMEOUT: Duration = Duration::from_secs(120);

/// One rendering to lint.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The name findings in the output carry as their file: `<helm CHART -f values-prod.yaml>`.
    pub name: String,
    /// The values set it was rendered with (`values-prod.yaml`, or "default values"); none for
    /// Kustomize.
    pub label: Option<String>,
    /// The chart directory, to map findings back to template files.
    pub chart: Option<PathBuf>,
    /// A file on disk the render comes from (Chart.yaml, the kustomization), for reports that must
    /// attach an unmapped finding to a real file.
    pub origin: Option<String>,
    /// The tool's standard output, or its error message when it failed.
    pub output: Result<String, String>,
    /// `helm template`, `kubectl kustomize`: how error messages name the tool.
    pub tool: String,
    /// The `--set` values it was rendered with, named when the render fails.
    pub sets: Vec<String>,
    /// The kustomization directory, to map findings back to the files it builds from.
    pub kustomization: Option<PathBuf>,
}

/// Runs `helm template`, once with every values file or (`matrix`) once per values file, renders
/// in parallel. A render that fails is returned with its error; only a missing or unrunnable
/// binary is an error here.
pub fn helm(request: &HelmRequest) -> Result<Vec<Rendered>, RenderError> {
    let bin = resolve_program(
        request.bin.as_deref().unwrap_or(Path::new("helm")),
        "--helm-bin",
        "install Helm (https://helm.sh/docs/intro/install/) or pass --helm-bin PATH",
    )?;
    let chart = display_path(&request.chart);
    let sets: Vec<Vec<&PathBuf>> = if request.matrix && !request.values.is_empty() {
        request.values.iter().map(|v| vec![v]).collect()
    } else {
        vec![request.values.iter().collect()]
    };
    let origin = ["Chart.yaml", "Chart.yml"]
        .iter()
        .map(|name| request.chart.join(name))
        .find(|path| path.is_file())
        .map(|path| display_path(&path));
    sets.par_iter()
        .map(|values| {
            let mut args: Vec<OsString> = vec![
                "template".into(),
                request.release.clone().into(),
                request.chart.clone().into(),
            ];
            if let Some(ns) = &request.namespace {
                args.extend(["--namespace".into(), ns.into()]);
            }
            let mut name = format!("<helm {chart}");
            for v in values {
                args.extend(["--values".into(), v.as_os_str().to_owned()]);
                name.push_str(&format!(" -f {}", display_path(v)));
            }
            for s in &request.sets {
                args.extend(["--set".into(), s.into()]);
                name.push_str(&format!(" --set {s}"));
            }
            name.push('>');
            let label = if values.is_empty() {
                "default values".to_string()
            } else {
                values
                    .iter()
                    .map(|v| display_path(v))
                    .collect::<Vec<_>>()
                    .join(" + ")
            };
            Ok(Rendered {
                name,
                label: Some(label),
                chart: Some(request.chart.clone()),
                origin: origin.clone(),
                output: run(&bin, &args, request.timeout)?,
                tool: "helm template".into(),
                sets: request.sets.clone(),
                kustomization: None,
            })
        })
        .collect()
}

/// Runs `kubectl kustomize DIR`, or `kustomize build DIR` when only kustomize is on PATH. With
/// `bin`, a program whose name starts with "kustomize" is run as `kustomize build`, any other as
/// `kubectl kustomize`.
pub fn kustomize(
    dir: &Path,
    bin: Option<&Path>,
    timeout: Duration,
) -> Result<Rendered, RenderError> {
    let hint =
        "install kubectl (it builds kustomizations) or kustomize, or pass --kustomize-bin PATH";
    let program = match bin {
        Some(bin) => resolve_program(bin, "--kustomize-bin", hint)?,
        None => find_on_path(Path::new("kubectl"))
            .or_else(|| find_on_path(Path::new("kustomize")))
            .ok_or_else(|| {
                RenderError::NotFound(format!("neither kubectl nor kustomize is on PATH: {hint}"))
            })?,
    };
    let standalone = program
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("kustomize"));
    let (tool, subcommand) = if standalone {
        ("kustomize build", "build")
    } else {
        ("kubectl kustomize", "kustomize")
    };
    let args: Vec<OsString> = vec![subcommand.into(), dir.as_os_str().to_owned()];
    let origin = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
        .map(|path| display_path(&path));
    Ok(Rendered {
        name: format!("<kustomize {}>", display_path(dir)),
        label: None,
        chart: None,
        origin,
        output: run(&program, &args, timeout)?,
        tool: tool.into(),
        sets: Vec::new(),
        kustomization: Some(dir.to_path_buf()),
    })
}

/// Paths are shown as given, without a leading `./` (as manifest file names are).
fn display_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.strip_prefix("./").unwrap_or(&text).to_string()
}

/// A program given by path is used as is; a bare name is looked up on PATH.
fn resolve_program(program: &Path, flag: &str, hint: &str) -> Result<PathBuf, RenderError> {
    if program.components().count() > 1 {
        return if program.is_file() {
            Ok(program.to_path_buf())
        } else {
            Err(RenderError::NotFound(format!(
                "{flag} {}: no such file",
                program.display()
            )))
        };
    }
    find_on_path(program).ok_or_else(|| {
        RenderError::NotFound(format!("{} not found on PATH: {hint}", program.display()))
    })
}

fn find_on_path(name: &Path) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Runs a program: its standard output, or (inner error) the message it failed with, or that it
/// did not finish within `timeout` (then it is killed; a child of it that keeps the pipes open
/// is left to the readers, which nothing waits for).
fn run(
    program: &Path,
    args: &[OsString],
    timeout: Duration,
) -> Result<Result<String, String>, RenderError> {
    let spawn_error = |e: std::io::Error| RenderError::Spawn {
        program: program.display().to_string(),
        message: e.to_string(),
    };
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_error)?;
    let read_all = |pipe: Option<Box<dyn Read + Send>>| {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            let _ = sender.send(bytes);
        });
        receiver
    };
    let stdout = read_all(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = read_all(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().map_err(spawn_error)? {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Ok(Err(format!(
                    "did not finish within {} (--render-timeout), so it was stopped",
                    humantime::format_duration(timeout)
                )));
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    let left = deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(1);
    let stdout = stdout.recv_timeout(left).unwrap_or_default();
    let stderr = stderr.recv_timeout(left).unwrap_or_default();
    if !status.success() {
        return Ok(Err(tool_message(
            &String::from_utf8_lossy(&stderr),
            &status.to_string(),
        )));
    }
    Ok(String::from_utf8(stdout).map_err(|_| "the output is not UTF-8".to_string()))
}

/// What a failed tool said: everything from its first `Error:` line on, whole (helm and kubectl
/// print warnings before it; a values schema error lists each violation on a line of its own),
/// or all it printed, or its exit status.
pub fn tool_message(stderr: &str, status: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    let first_error = lines
        .iter()
        .position(|l| l.trim_start().starts_with("Error:"));
    if let Some(first) = first_error {
        let mut message = lines[first]
            .trim_start()
            .trim_start_matches("Error:")
            .trim()
            .to_string();
        for line in &lines[first + 1..] {
            let line = line.trim_end();
            if line.trim().is_empty() {
                continue;
            }
            message.push('\n');
            message.push_str(
                line.trim_start()
                    .strip_prefix("Error:")
                    .map_or(line, str::trim),
            );
        }
        message
    } else if !stderr.trim().is_empty() {
        stderr.trim().to_string()
    } else {
        format!("it exited with {status} and printed nothing")
    }
}

/// Lints one rendering on its own (its objects relate only to each other) and points its
/// findings at the templates they come from.
pub fn lint_render(
    rendered: &Rendered,
    load: &LoadOptions,
    evaluator: &mut Evaluator,
    suppressor: &Suppressor,
) -> Outcome {
    let text = match &rendered.output {
        Ok(text) if text.len() as u64 > load.max_file_size => {
            return failed(
                rendered,
                format!(
                    "the output is {} bytes, above the limit of {} bytes (raise it with --max-file-size)",
                    text.len(),
                    load.max_file_size
                ),
                load.max_file_size,
            )
        }
        Ok(text) => text,
        Err(message) if message.contains(MISSING_DEPENDENCIES) => {
            let origin = rendered.origin.clone().unwrap_or_else(|| rendered.name.clone());
            return not_rendered(
                &origin,
                &format!(
                    "its dependencies are not in its charts/ directory (run `helm dependency build {}` first): {message}",
                    rendered.chart.as_deref().map(display_path).unwrap_or_default()
                ),
            );
        }
        Err(message) => return failed(rendered, message.clone(), load.max_file_size),
    };
    let file = manifest::load_text(&rendered.name, text, load);
    let loaded = Loaded {
        files: vec![file.file],
        objects: file.objects,
        problems: file.problems,
    };
    let mut templates = Templates::new(rendered.chart.as_deref(), load.max_file_size);
    let anchors = anchor_objects(&loaded.objects, &mut templates);
    // Kustomize: the built objects, kept to find their fields in the files they are built from.
    let kustomize = rendered.kustomization.as_deref().map(|dir| {
        (
            crate::kustomize_source::Sources::load(dir, load),
            loaded.objects.clone(),
        )
    });
    // A render is one unit of relation: everything in it is deployed together.
    let grouping = crate::unit::Grouping::Stream(rendered.name.clone());
    let mut outcome = lint::lint_loaded(loaded, &grouping, evaluator, suppressor);
    for finding in &mut outcome.findings {
        let anchor = finding
            .subject
            .and_then(|i| anchors.get(i))
            .and_then(|a| a.as_ref());
        place(finding, rendered, anchor.cloned(), &mut templates);
        if let Some((sources, built)) = &kustomize {
            place_in_sources(finding, sources, built);
        }
    }
    for (index, (object, anchor)) in outcome.objects.iter_mut().zip(&anchors).enumerate() {
        object.render = rendered.label.clone();
        if let Some(Anchor::Document { template, .. }) = anchor {
            object.file = templates.files[*template].name.clone();
        }
        if let Some((sources, built)) = &kustomize {
            if let Some((file, _)) = built.get(index).and_then(|b| sources.locate(b, &[])) {
                object.file = sources.files[file].name.clone();
            }
        }
    }
    outcome.templates = templates.files;
    if let Some((sources, _)) = kustomize {
        outcome.templates.extend(sources.files);
    }
    outcome
}

/// Points a finding on a built object at the resource or patch file where its field is written;
/// the built position stays in `rendered` (set by [`place`]).
fn place_in_sources(
    finding: &mut Finding,
    sources: &crate::kustomize_source::Sources,
    built: &[Object],
) {
    if finding.rule == manifest::DUPLICATE_KEY {
        return;
    }
    let Some(object) = finding.subject.and_then(|i| built.get(i)) else {
        return;
    };
    if let Some((file, span)) = sources.locate(object, &finding.path) {
        let location = &mut finding.location;
        location.file = sources.files[file].name.clone();
        location.line = span.line;
        location.column = span.column;
        location.artifact = None;
    }
}

/// Points a finding of rendered output at its template (when its object was found there), keeps
/// the rendered position beside it, and names the render.
fn place(
    finding: &mut Finding,
    rendered: &Rendered,
    anchor: Option<Anchor>,
    templates: &mut Templates,
) {
    let location = &mut finding.location;
    location.rendered = Some(Position {
        file: location.file.clone(),
        line: location.line,
        column: location.column,
    });
    location.render = rendered.label.clone();
    // A duplicate key is about a line of the output, not a field of the object: it stays there.
    let anchor = anchor.filter(|_| finding.rule != manifest::DUPLICATE_KEY);
    match anchor {
        Some(Anchor::Document { template, document }) => {
            let file = &templates.files[template];
            let (line, column) = locate_in_document(&file.text, &document, &finding.path);
            location.file = file.name.clone();
            location.line = line;
            location.column = column;
        }
        Some(Anchor::File(template)) => {
            location.artifact = Some(templates.files[template].name.clone())
        }
        None => {
            // Not an object's finding (a document that does not parse): its template, if known.
            let template = location.template.as_deref().and_then(|m| templates.get(m));
            location.artifact = match template {
                Some(index) => Some(templates.files[index].name.clone()),
                None => rendered.origin.clone(),
            };
        }
    }
    if let Some(label) = &rendered.label {
        // The same object in two renders is two deployments: a baseline tells them apart.
        finding.fingerprint = format!("{}|render={label}", finding.fingerprint);
    }
}

/// The dependencies a chart's `Chart.yaml` lists that are not in its `charts/` directory (as a
/// directory or a `NAME-VERSION.tgz` archive): helm refuses to render such a chart until
/// `helm dependency build` has downloaded them.
pub fn missing_dependencies(chart: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(chart.join(crate::discover::CHART_FILE)) else {
        return Vec::new();
    };
    let Ok(documents) = manifest::yaml::parse_str(&text, 0, manifest::yaml::Limits::default())
    else {
        return Vec::new();
    };
    let names: Vec<String> = documents
        .iter()
        .filter_map(|d| d.root.as_ref())
        .filter_map(|root| root.get("dependencies").and_then(|d| d.as_seq()))
        .flatten()
        .filter_map(|dep| dep.get("name").and_then(|n| n.as_str()))
        .map(str::to_string)
        .collect();
    let archives: Vec<String> = std::fs::read_dir(chart.join("charts"))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names
        .into_iter()
        .filter(|name| {
            !chart.join("charts").join(name).is_dir()
                && !archives.iter().any(|a| {
                    a.strip_prefix(name.as_str())
                        .and_then(|rest| rest.strip_prefix('-'))
                        .is_some_and(|rest| rest.ends_with(".tgz"))
                })
        })
        .collect()
}

/// What helm says when a chart's dependencies were not downloaded into its `charts/` directory:
/// the checkout lacks them, the chart is not broken.
const MISSING_DEPENDENCIES: &str = "missing in charts/ directory";

/// A chart or kustomization found in the tree that could not be rendered (no helm or kubectl,
/// or its dependencies are not downloaded): one `not-rendered` notice on its Chart.yaml or
/// kustomization file, instead of errors about templates nobody meant as manifests.
pub fn not_rendered(origin: &str, reason: &str) -> Outcome {
    let what = if origin.ends_with(crate::discover::CHART_FILE) {
        "chart"
    } else {
        "kustomization"
    };
    let finding = Finding {
        rule: NOT_RENDERED.to_string(),
        severity: Severity::Notice,
        message: format!("{what} not rendered, so not linted: {reason}"),
        object: None,
        fingerprint: format!("{NOT_RENDERED}|{origin}"),
        location: Location::at(origin, 1, 1),
        path: Vec::new(),
        subject: None,
        suppressed: None,
    };
    let text = std::fs::read_to_string(origin).unwrap_or_default();
    Outcome {
        files: vec![SourceFile {
            name: origin.to_string(),
            text: Arc::from(text.as_str()),
        }],
        templates: Vec::new(),
        summary: Summary {
            files: 1,
            notices: 1,
            ..Summary::default()
        },
        findings: vec![finding],
        objects: Vec::new(),
        broken: false,
        patch_files: Vec::new(),
        skipped_files: Vec::new(),
    }
}

/// The rule id of [`not_rendered`] notices.
pub const NOT_RENDERED: &str = "not-rendered";

/// The outcome of a render that failed: one `render-error` finding, pointing at the template
/// file and line the tool names when it names one.
fn failed(rendered: &Rendered, message: String, max_size: u64) -> Outcome {
    let mut templates = Templates::new(rendered.chart.as_deref(), max_size);
    // Unless the tool names a template, the finding is about the (missing) rendered output.
    let mut location = Location {
        render: rendered.label.clone(),
        rendered: Some(Position {
            file: rendered.name.clone(),
            line: 1,
            column: 1,
        }),
        artifact: rendered.origin.clone(),
        ..Location::at(&rendered.name, 1, 1)
    };
    if let Some((marker, line, column)) = helm_error_position(&message) {
        location.template = Some(marker.to_string());
        if let Some(index) = templates.get(marker) {
            location.file = templates.files[index].name.clone();
            location.line = line;
            location.column = column.unwrap_or(1);
            location.rendered = None;
            location.artifact = None;
        }
    }
    let mut used: Vec<String> = rendered.label.iter().cloned().collect();
    used.extend(rendered.sets.iter().map(|s| format!("--set {s}")));
    let within = if used.is_empty() {
        String::new()
    } else {
        format!(" with {}", used.join(" "))
    };
    let finding = Finding {
        rule: RENDER_ERROR.to_string(),
        severity: Severity::Error,
        message: format!("{} failed{within}: {message}", rendered.tool),
        object: None,
        fingerprint: format!("{RENDER_ERROR}|{}", rendered.name),
        location,
        path: Vec::new(),
        subject: None,
        suppressed: None,
    };
    let findings = vec![finding];
    Outcome {
        files: vec![SourceFile {
            name: rendered.name.clone(),
            text: Arc::from(""),
        }],
        templates: templates.files,
        summary: Summary {
            files: 1,
            errors: 1,
            ..Summary::default()
        },
        findings,
        objects: Vec::new(),
        broken: true,
        patch_files: Vec::new(),
        skipped_files: Vec::new(),
    }
}

/// Where helm's error message says the problem is: `(web/templates/deployment.yaml:11:20)` in an
/// execution error, `template: web/templates/x.yaml:3:4: executing ...`, `(web/templates/x.yaml:3)`
/// in a parse error, `on web/templates/x.yaml:` in a YAML error (whose line, counted within the
/// rendered document, is not given with the file and so not taken).
pub fn helm_error_position(message: &str) -> Option<(&str, u32, Option<u32>)> {
    let token = message
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == '"')
        .find(|t| t.contains("/templates/"))?
        .trim_end_matches([':', ',']);
    let mut parts = token.splitn(3, ':');
    let file = parts.next()?;
    let line = parts.next().and_then(|l| l.parse().ok());
    let column = parts.next().and_then(|c| c.parse().ok());
    Some((file, line.unwrap_or(1), column.filter(|_| line.is_some())))
}

/// Template files of a chart, read once each.
struct Templates {
    chart: Option<PathBuf>,
    max_size: u64,
    files: Vec<SourceFile>,
    /// `# Source:` marker → index into `files`, or None when there is no such file.
    by_marker: HashMap<String, Option<usize>>,
}

impl Templates {
    fn new(chart: Option<&Path>, max_size: u64) -> Templates {
        Templates {
            chart: chart.map(Path::to_path_buf),
            max_size,
            files: Vec::new(),
            by_marker: HashMap::new(),
        }
    }

    /// The template a `# Source:` marker names, read from the chart directory.
    fn get(&mut self, marker: &str) -> Option<usize> {
        if let Some(found) = self.by_marker.get(marker) {
            return *found;
        }
        let found = self
            .chart
            .as_deref()
            .and_then(|chart| template_path(chart, marker))
            .and_then(|path| {
                let meta = std::fs::metadata(&path).ok()?;
                if !meta.is_file() || meta.len() > self.max_size {
                    return None;
                }
                let text = std::fs::read_to_string(&path).ok()?;
                self.files.push(SourceFile {
                    name: display_path(&path),
                    text: Arc::from(text.strip_prefix('\u{feff}').unwrap_or(&text)),
                });
                Some(self.files.len() - 1)
            });
        self.by_marker.insert(marker.to_string(), found);
        found
    }
}

/// The file a `# Source:` marker names inside the chart directory. The marker starts with the
/// chart's name (`web/templates/x.yaml`, `web/charts/db/templates/y.yaml`), which need not be the
/// directory's name; a marker that would leave the chart directory names nothing.
pub fn template_path(chart: &Path, marker: &str) -> Option<PathBuf> {
    let (_, inside) = marker.split_once('/')?;
    let inside = Path::new(inside);
    if !inside
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return None;
    }
    Some(chart.join(inside))
}

/// Where an object of the rendered output is written in its template.
#[derive(Debug, Clone)]
enum Anchor {
    /// Its document in the template (index into `Templates::files`).
    Document { template: usize, document: Document },
    /// Its template exists (index into `Templates::files`), but the object's document could not
    /// be told apart in it (generated by `include`, say): reports needing a file use the template.
    File(usize),
}

fn anchor_objects(objects: &[Object], templates: &mut Templates) -> Vec<Option<Anchor>> {
    // Objects of one kind from one template are matched with its documents together, in order.
    let mut groups: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (index, object) in objects.iter().enumerate() {
        if let Some(marker) = object.template.as_deref() {
            groups
                .entry((marker, &object.id.kind))
                .or_default()
                .push(index);
        }
    }
    let mut anchors: Vec<Option<Anchor>> = vec![None; objects.len()];
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort();
    for ((marker, kind), members) in groups {
        let Some(template) = templates.get(marker) else {
            continue;
        };
        let file = &templates.files[template];
        let names: Vec<Option<&str>> = members
            .iter()
            .map(|&i| objects[i].id.name.as_deref())
            .collect();
        let documents = assign_documents(&file.text, kind, &names);
        for (&index, document) in members.iter().zip(documents) {
            anchors[index] = Some(match document {
                Some(document) => Anchor::Document { template, document },
                None => Anchor::File(template),
            });
        }
    }
    anchors
}

/// A line of a template that holds YAML content (not blank, not a comment, not a line that is only
/// a template action like `{{- if .Values.x }}` or `{{ include "x" . | nindent 4 }}`).
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    /// 0-based line number in the file.
    number: usize,
    /// Spaces before the first character.
    indent: usize,
    /// The line starts a sequence item (`- `).
    item: bool,
    /// Column (0-based) where the content after any `- ` starts.
    content: usize,
    /// The content after any `- `.
    text: &'a str,
}

fn content_lines(text: &str) -> Vec<Line<'_>> {
    text.lines()
        .enumerate()
        .filter_map(|(number, raw)| {
            let rest = raw.trim_start_matches(' ');
            let indent = raw.len() - rest.len();
            let rest = rest.trim_end();
            if rest.is_empty() || rest.starts_with('#') || rest.starts_with("{{") {
                return None;
            }
            let (item, content, text) = match rest.strip_prefix('-') {
                Some("") => (true, indent + 2, ""),
                Some(after) if after.starts_with(' ') => {
                    let body = after.trim_start();
                    (true, indent + 1 + (after.len() - body.len()), body)
                }
                _ => (false, indent, rest),
            };
            Some(Line {
                number,
                indent,
                item,
                content,
                text,
            })
        })
        .collect()
}

/// The mapping key a line starts with: `name:`, `"name":`, `'name':`.
fn key_of(text: &str) -> Option<&str> {
    for quote in ['"', '\''] {
        if let Some(rest) = text.strip_prefix(quote) {
            let end = rest.find(quote)?;
            return rest[end + 1..].starts_with(':').then_some(&rest[..end]);
        }
    }
    let colon = text
        .find(": ")
        .or_else(|| text.strip_suffix(':').map(str::len))?;
    let key = &text[..colon];
    (!key.is_empty() && !key.contains("{{")).then_some(key)
}

/// The scalar after `key:` on a line, unquoted, without a trailing comment.
fn value_of(text: &str) -> &str {
    let after = text.split_once(':').map_or("", |(_, v)| v);
    let after = match after.find(" #") {
        Some(i) => &after[..i],
        None => after,
    };
    after.trim().trim_matches(['"', '\''])
}

/// One document of a template: a range of its content lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    from: usize,
    to: usize,
}

fn is_separator(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

/// The documents of a template, as ranges of `lines` (split at `---` lines of the text).
fn documents(text: &str, lines: &[Line]) -> Vec<Document> {
    let separators: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| is_separator(l.trim_end()))
        .map(|(n, _)| n)
        .collect();
    let mut documents = Vec::new();
    let mut from = 0;
    for separator in separators.iter().copied().chain([usize::MAX]) {
        let to = lines[from..]
            .iter()
            .position(|l| l.number > separator)
            .map_or(lines.len(), |i| from + i);
        if to > from {
            documents.push(Document { from, to });
        }
        from = to;
    }
    documents
}

/// The documents of a template that objects of one kind from it come from, in rendered order
/// (`names`: their names). Candidates are the documents whose top-level `kind:` is that kind (or
/// is computed). An object whose name is a document's literal `metadata.name` comes from that
/// document; the others are matched in order with the documents whose name is computed, the
/// surplus (a `range` loop makes several objects of one document) with the last of them.
pub fn assign_documents(text: &str, kind: &str, names: &[Option<&str>]) -> Vec<Option<Document>> {
    let lines = content_lines(text);
    let candidates: Vec<(Document, Option<String>)> = documents(text, &lines)
        .into_iter()
        .filter_map(|doc| {
            let top = &lines[doc.from..doc.to];
            let doc_kind = top
                .iter()
                .find(|l| l.indent == 0 && !l.item && key_of(l.text) == Some("kind"))
                .map(|l| value_of(l.text))?;
            if doc_kind != kind && !doc_kind.contains("{{") {
                return None;
            }
            let doc_name = find_key(&lines, (doc.from, doc.to), "metadata")
                .and_then(|(_, block)| find_key(&lines, block, "name"))
                .map(|(at, _)| value_of(lines[at].text).to_string())
                .filter(|n| !n.contains("{{") && !n.is_empty());
            Some((doc, doc_name))
        })
        .collect();
    let open: Vec<&Document> = candidates
        .iter()
        .filter(|(_, n)| n.is_none())
        .map(|(d, _)| d)
        .collect();
    let mut next_open = 0;
    names
        .iter()
        .map(|name| {
            let literal = candidates
                .iter()
                .find(|(_, n)| n.is_some() && n.as_deref() == *name);
            if let Some((doc, _)) = literal {
                return Some(doc.clone());
            }
            let doc = open.get(next_open).or(open.last()).map(|d| (*d).clone());
            next_open += 1;
            doc
        })
        .collect()
}

/// Line and column (1-based) in the template where the field at `path` is written, or the deepest
/// part of it that is: keys a template produces with `toYaml` or `include` are not in its text,
/// so the search stops at the last one found, which is where the generated block is.
fn locate_in_document(text: &str, document: &Document, path: &[PathStep]) -> (u32, u32) {
    let lines = content_lines(text);
    let position = |line: &Line| (line.number as u32 + 1, line.content as u32 + 1);
    let Some(first) = lines.get(document.from) else {
        return (1, 1);
    };
    let mut best = position(first);
    let mut block = (document.from, document.to.min(lines.len()));
    for step in path {
        let next = match step {
            PathStep::Key(key) => find_key(&lines, block, key),
            PathStep::Index(index) => find_item(&lines, block, *index),
        };
        match next {
            Some((at, inner)) => {
                best = position(&lines[at]);
                block = inner;
            }
            None => break,
        }
    }
    best
}

/// The key `key` among the entries of a mapping block (the lines at the block's first content
/// column): its line, and the block of its value.
fn find_key(
    lines: &[Line],
    (from, to): (usize, usize),
    key: &str,
) -> Option<(usize, (usize, usize))> {
    let level = lines.get(from).filter(|_| from < to)?.content;
    let at =
        (from..to).find(|&i| lines[i].content == level && key_of(lines[i].text) == Some(key))?;
    // The value: deeper lines, and a sequence written at the key's own indentation.
    let end = (at + 1..to)
        .find(|&i| lines[i].indent < level || (lines[i].indent == level && !lines[i].item))
        .unwrap_or(to);
    Some((at, (at + 1, end)))
}

/// The `index`-th item of a sequence block: its line, and the block of its content (starting on
/// the item's own line).
fn find_item(
    lines: &[Line],
    (from, to): (usize, usize),
    index: usize,
) -> Option<(usize, (usize, usize))> {
    let level = lines.get(from).filter(|l| from < to && l.item)?.indent;
    let at = (from..to)
        .take_while(|&i| lines[i].indent >= level)
        .filter(|&i| lines[i].item && lines[i].indent == level)
        .nth(index)?;
    let end = (at + 1..to)
        .find(|&i| lines[i].indent <= level)
        .unwrap_or(to);
    Some((at, (at, end)))
}

/// Where in a template the field at `path` of the object `kind`/`name` is written, the object
/// being the only one of its kind the template produced: 1-based line and column.
pub fn template_position(
    text: &str,
    kind: &str,
    name: Option<&str>,
    path: &[PathStep],
) -> Option<(u32, u32)> {
    let document = assign_documents(text, kind, &[name]).pop().flatten()?;
    Some(locate_in_document(text, &document, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> Vec<PathStep> {
        text.split('.')
            .filter(|s| !s.is_empty())
            .map(|s| match s.parse() {
                Ok(i) => PathStep::Index(i),
                Err(_) => PathStep::Key(s.to_string()),
            })
            .collect()
    }

    const TEMPLATE: &str = r#"{{- $fullName := include "web.fullname" . -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $fullName }}
  labels:
    {{- include "web.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  template:
    spec:
      containers:
        - name: web
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          ports:
            - name: http
              containerPort: 8080
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
        {{- if .Values.sidecar.enabled }}
        - name: sidecar
          image: busybox
        {{- end }}
      securityContext:
        runAsNonRoot: true
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 80
    targetPort: http
"#;

    fn at(p: &str) -> Option<(u32, u32)> {
        template_position(TEMPLATE, "Deployment", Some("release-web"), &path(p))
    }

    #[test]
    fn finds_fields_lists_and_stops_at_generated_blocks() {
        assert_eq!(at(""), Some((2, 1)), "the object: its first line");
        assert_eq!(at("spec.replicas"), Some((10, 3)));
        assert_eq!(at("spec.template.spec.containers.0"), Some((15, 11)));
        assert_eq!(at("spec.template.spec.containers.0.image"), Some((16, 11)));
        assert_eq!(
            at("spec.template.spec.containers.0.ports.0.containerPort"),
            Some((19, 15))
        );
        // Missing field: its nearest parent that is written.
        assert_eq!(
            at("spec.template.spec.containers.0.readinessProbe"),
            Some((15, 11))
        );
        // Generated by toYaml: the key that holds the generated block.
        assert_eq!(
            at("spec.template.spec.containers.0.resources.limits.cpu"),
            Some((20, 11))
        );
        assert_eq!(at("spec.template.spec.containers.1.image"), Some((24, 11)));
        assert_eq!(
            at("spec.template.spec.securityContext.runAsNonRoot"),
            Some((27, 9))
        );
        // An index past the written items stops at the list.
        assert_eq!(at("spec.template.spec.containers.2.image"), Some((14, 7)));
        assert_eq!(at("metadata.labels.app"), Some((6, 3)));
    }

    #[test]
    fn picks_the_document_by_kind_name_and_order() {
        let service = template_position(
            TEMPLATE,
            "Service",
            Some("web"),
            &path("spec.ports.0.targetPort"),
        );
        assert_eq!(
            service,
            Some((36, 5)),
            "a sequence at its key's indentation"
        );
        assert_eq!(template_position(TEMPLATE, "ConfigMap", None, &[]), None);

        let three = "kind: ConfigMap\nmetadata:\n  name: fixed\ndata:\n  c: 3\n---\nkind: ConfigMap\nmetadata:\n  name: {{ .a }}\ndata:\n  a: 1\n---\nkind: ConfigMap\nmetadata:\n  name: {{ .b }}\ndata:\n  b: 2\n";
        let first_lines = |names: &[Option<&str>]| -> Vec<Option<u32>> {
            let lines = content_lines(three);
            assign_documents(three, "ConfigMap", names)
                .into_iter()
                .map(|d| d.map(|d| lines[d.from].number as u32 + 1))
                .collect()
        };
        // A literal name wins wherever it is; the others go in order to the computed names.
        assert_eq!(
            first_lines(&[Some("x-a"), Some("fixed"), Some("x-b")]),
            [Some(7), Some(1), Some(13)]
        );
        // More objects than documents (a range loop): the surplus to the last computed one.
        assert_eq!(
            first_lines(&[Some("x-a"), Some("x-b"), Some("x-c")]),
            [Some(7), Some(13), Some(13)]
        );
        assert_eq!(first_lines(&[Some("x")]), [Some(7)]);
        assert_eq!(
            assign_documents(three, "Secret", &[Some("x")]),
            [None],
            "no document of that kind"
        );
    }

    #[test]
    fn reads_helm_error_positions() {
        assert_eq!(
            helm_error_position(
                "execution error at (web/templates/deployment.yaml:11:20): image is required"
            ),
            Some(("web/templates/deployment.yaml", 11, Some(20)))
        );
        assert_eq!(
            helm_error_position(
                "parse error at (web/templates/svc.yaml:3): unexpected \"}\" in operand"
            ),
            Some(("web/templates/svc.yaml", 3, None))
        );
        assert_eq!(
            helm_error_position(
                "YAML parse error on web/templates/cm.yaml: error converting YAML to JSON"
            ),
            Some(("web/templates/cm.yaml", 1, None))
        );
        assert_eq!(
            helm_error_position("template: web/templates/x.yaml:3:4: executing \"web/templates/x.yaml\" at <.Values.a.b>: nil pointer"),
            Some(("web/templates/x.yaml", 3, Some(4)))
        );
        assert_eq!(helm_error_position("Chart.yaml file is missing"), None);
    }

    #[test]
    fn template_paths_stay_inside_the_chart() {
        let chart = Path::new("charts/web");
        assert_eq!(
            template_path(chart, "web/templates/x.yaml"),
            Some(PathBuf::from("charts/web/templates/x.yaml"))
        );
        assert_eq!(
            template_path(chart, "web/charts/db/templates/y.yaml"),
            Some(PathBuf::from("charts/web/charts/db/templates/y.yaml"))
        );
        assert_eq!(template_path(chart, "web/../../etc/passwd"), None);
        assert_eq!(template_path(chart, "nochart"), None);
    }

    #[test]
    fn tool_messages_keep_the_error_lines() {
        assert_eq!(
            tool_message("walk.go:75: warning: x\nError: boom\n", "exit status: 1"),
            "boom"
        );
        assert_eq!(
            tool_message("something broke\n", "exit status: 1"),
            "something broke"
        );
        assert!(tool_message("", "exit status: 3").contains("exit status: 3"));
    }
}
