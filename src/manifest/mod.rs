//! Loading manifests: files, directories and stdin; YAML streams and JSON; `List` expansion;
//! Helm `# Source:` markers; object identity. Every problem becomes a finding that names the file and
//! line, and never stops the other documents from being read.

pub mod identity;
pub mod lines;
pub mod node;
pub mod split;
pub mod yaml;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use rayon::prelude::*;

use crate::finding::{Finding, Location, ObjectRef, Severity};
use node::{Node, PathStep, Span, Value};

pub use crate::finding::STDIN_NAME;
pub const INVALID_MANIFEST: &str = "invalid-manifest";
pub const DUPLICATE_KEY: &str = "duplicate-key";

/// Where manifests come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Path(PathBuf),
    Stdin,
}

impl Input {
    pub fn parse(arg: &str) -> Input {
        if arg == "-" {
            Input::Stdin
        } else {
            Input::Path(PathBuf::from(arg))
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    pub max_file_size: u64,
    pub limits: yaml::Limits,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            max_file_size: 16 * 1024 * 1024,
            limits: yaml::Limits::default(),
        }
    }
}

/// A file that was read, kept so reporters can quote source lines.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
}

impl SourceFile {
    /// The text of a 1-based line, without its line break (`\n`, `\r\n` or a lone `\r`).
    pub fn line(&self, line: u32) -> Option<&str> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        lines::lines(&self.text).nth(index)
    }
}

/// One Kubernetes object of the run.
#[derive(Debug, Clone)]
pub struct Object {
    pub id: ObjectRef,
    pub root: Node,
    /// Index into [`Loaded::files`].
    pub file: usize,
    pub template: Option<String>,
}

impl Object {
    pub fn location(&self, files: &[SourceFile], path: &[PathStep]) -> Location {
        let span = self.root.locate(path);
        let file = files.get(self.file).map_or("", |f| f.name.as_str());
        Location {
            path: node::display_path(path),
            template: self.template.clone(),
            ..Location::at(file, span.line, span.column)
        }
    }

    pub fn labels(&self) -> Option<&Node> {
        self.root.get_path(&["metadata", "labels"])
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.root
            .get_path(&["metadata", "annotations", key])
            .and_then(Node::as_str)
    }
}

/// Everything a lint run read: files, the objects in them, and the findings loading produced.
#[derive(Debug, Default)]
pub struct Loaded {
    pub files: Vec<SourceFile>,
    pub objects: Vec<Object>,
    pub problems: Vec<Finding>,
}

impl Loaded {
    /// Frees the files' text once everything in them is parsed, for a run whose reports quote no
    /// source line (only the text report does): the text stayed alive through the whole check,
    /// about a tenth of lint's peak memory. [`SourceFile::line`] then finds no line.
    pub fn release_text(&mut self) {
        for file in &mut self.files {
            file.text = Arc::from("");
        }
    }

    fn absorb(&mut self, other: FileLoad) {
        let index = self.files.len();
        self.files.push(other.file);
        self.objects.extend(other.objects.into_iter().map(|mut o| {
            o.file = index;
            o
        }));
        self.problems.extend(other.problems);
    }
}

/// What one file yields; merged into [`Loaded`] in input order so output is deterministic.
pub struct FileLoad {
    pub file: SourceFile,
    pub objects: Vec<Object>,
    pub problems: Vec<Finding>,
}

/// Reads every input. Directories are walked recursively for `.yaml`, `.yml` and `.json` files,
/// skipping hidden entries; files are parsed in parallel.
pub fn load_inputs(inputs: &[Input], options: &LoadOptions) -> Loaded {
    let mut loaded = Loaded::default();
    let mut jobs: Vec<Job> = Vec::new();
    for input in inputs {
        match input {
            Input::Stdin => jobs.push(Job::Stdin),
            Input::Path(path) if path.is_dir() => {
                let (files, problems) = walk_dir(path);
                jobs.extend(files.into_iter().map(Job::File));
                loaded.problems.extend(problems);
            }
            Input::Path(path) => jobs.push(Job::File(path.clone())),
        }
    }
    let run_aliases = AtomicUsize::new(0);
    let results: Vec<FileLoad> = jobs
        .into_par_iter()
        .map(|job| job.run(options, &run_aliases))
        .collect();
    for result in results {
        loaded.absorb(result);
    }
    loaded
}

enum Job {
    Stdin,
    File(PathBuf),
}

impl Job {
    fn run(self, options: &LoadOptions, run_aliases: &AtomicUsize) -> FileLoad {
        let (name, read) = match self {
            Job::Stdin => (
                STDIN_NAME.to_string(),
                read_limited(std::io::stdin().lock(), options.max_file_size, 0),
            ),
            Job::File(path) => {
                let name = display_name(&path);
                (name, read_file(&path, options.max_file_size))
            }
        };
        match read {
            Ok(bytes) => load_bytes_within(&name, &bytes, options, run_aliases),
            Err(message) => FileLoad {
                file: SourceFile {
                    name: name.clone(),
                    text: Arc::from(""),
                },
                objects: Vec::new(),
                problems: vec![file_problem(&name, message)],
            },
        }
    }
}

/// Paths are shown as given, without a leading `./`.
fn display_name(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.strip_prefix("./").unwrap_or(&text).to_string()
}

fn file_problem(name: &str, message: String) -> Finding {
    Finding {
        rule: INVALID_MANIFEST.to_string(),
        severity: Severity::Error,
        message,
        object: None,
        location: Location::at(name, 1, 1),
        path: Vec::new(),
        subject: None,
        suppressed: None,
        fingerprint: String::new(),
    }
}

/// Manifest files under `root`, sorted, hidden entries skipped. Symbolic links are followed, as
/// `kubectl apply -f DIR` does (a ConfigMap mounted as a volume is a tree of links); a loop or an
/// unreadable entry is reported and the rest of the tree is still read.
fn walk_dir(root: &Path) -> (Vec<PathBuf>, Vec<Finding>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walker {
        match entry {
            Ok(entry) if entry.file_type().is_file() && is_manifest_file(entry.path()) => {
                files.push(entry.into_path());
            }
            Ok(_) => {}
            Err(err) => {
                let name = err
                    .path()
                    .map(display_name)
                    .unwrap_or_else(|| display_name(root));
                problems.push(file_problem(
                    &name,
                    format!("cannot read directory entry: {err}"),
                ));
            }
        }
    }
    (files, problems)
}

fn is_manifest_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| matches!(e.to_ascii_lowercase().as_str(), "yaml" | "yml" | "json"))
        .unwrap_or(false)
}

/// How long to wait for a writer to open a named pipe given as an input. `seaworthy lint
/// <(helm template ...)` passes a pipe that already has its writer; a FIFO nobody writes to would
/// otherwise block the run forever.
const PIPE_OPEN_TIMEOUT: Duration = Duration::from_secs(5);

fn read_file(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let file = if is_fifo(path) {
        open_pipe(path)?
    } else {
        std::fs::File::open(path).map_err(|e| format!("cannot read file: {e}"))?
    };
    let mut expected = 0;
    if let Ok(meta) = file.metadata() {
        if meta.is_file() && meta.len() > max {
            return Err(too_large(meta.len(), max));
        }
        if meta.is_file() {
            expected = meta.len();
        }
    }
    read_limited(file, max, expected)
}

#[cfg(unix)]
fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

#[cfg(not(unix))]
fn is_fifo(_path: &Path) -> bool {
    false
}

/// Opens a named pipe to read it as a stream, as standard input is read, but gives up when no
/// writer opens it within [`PIPE_OPEN_TIMEOUT`]. The opening thread then stays blocked until a
/// writer comes or the process exits; nothing waits for it.
fn open_pipe(path: &Path) -> Result<std::fs::File, String> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let owned = path.to_path_buf();
    std::thread::Builder::new()
        .name("open-pipe".to_string())
        .spawn(move || {
            // The receiver may have given up already; then the file is dropped unread.
            let _ = sender.send(std::fs::File::open(owned));
        })
        .map_err(|e| format!("cannot read named pipe: {e}"))?;
    match receiver.recv_timeout(PIPE_OPEN_TIMEOUT) {
        Ok(opened) => opened.map_err(|e| format!("cannot read named pipe: {e}")),
        Err(_) => Err(format!(
            "named pipe (FIFO): no writer opened it within {} s, so there is nothing to read",
            PIPE_OPEN_TIMEOUT.as_secs()
        )),
    }
}

/// Reads at most `max` bytes (one more tells it is too large). `expected` is the size the file
/// says it has: read into a buffer of that size at once rather than one that doubles as it grows,
/// which touched (and the kernel zeroed) up to twice the pages.
fn read_limited(reader: impl Read, max: u64, expected: u64) -> Result<Vec<u8>, String> {
    let capacity = usize::try_from(expected.min(max).saturating_add(1)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    reader
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read input: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(too_large(bytes.len() as u64, max));
    }
    Ok(bytes)
}

/// A file's text as kubectl decodes it: UTF-16 when it starts with a UTF-16 byte order mark,
/// otherwise UTF-8 with each invalid sequence replaced by U+FFFD. The first invalid sequence is
/// remembered so that it can be reported where it is.
struct Decoded {
    text: String,
    invalid: Option<InvalidUtf8>,
}

struct InvalidUtf8 {
    /// Byte offset in the decoded text of the U+FFFD that replaced the first invalid sequence.
    offset: usize,
    byte: u8,
    count: usize,
}

impl InvalidUtf8 {
    fn problem(&self, name: &str, file: &SourceFile) -> Finding {
        let span = lines::Positions::new(&file.text).span(self.offset);
        let others = match self.count {
            1 => String::new(),
            n => format!(" ({} more invalid sequences after it)", n - 1),
        };
        Finding {
            location: Location::at(name, span.line, span.column),
            ..file_problem(
                name,
                format!(
                    "input is not valid UTF-8: byte 0x{:02X} here{others}; kubectl reads each invalid sequence as U+FFFD (\u{FFFD}), which is what the cluster would store",
                    self.byte
                ),
            )
        }
    }
}

fn decode(bytes: &[u8]) -> Decoded {
    let utf16 = |units: &[u8], unit: fn([u8; 2]) -> u16| Decoded {
        text: String::from_utf16_lossy(
            &units
                .chunks(2)
                .map(|pair| unit([pair[0], pair.get(1).copied().unwrap_or(0)]))
                .collect::<Vec<u16>>(),
        ),
        invalid: None,
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => return utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => return utf16(rest, u16::from_be_bytes),
        _ => {}
    }
    let mut text = String::with_capacity(bytes.len());
    let mut invalid: Option<InvalidUtf8> = None;
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                text.push_str(valid);
                break;
            }
            Err(err) => {
                let (valid, after) = rest.split_at(err.valid_up_to());
                // Everything up to `valid_up_to` is valid UTF-8, so this never falls back.
                text.push_str(std::str::from_utf8(valid).unwrap_or_default());
                match &mut invalid {
                    Some(first) => first.count += 1,
                    None => {
                        invalid = Some(InvalidUtf8 {
                            offset: text.len(),
                            byte: after.first().copied().unwrap_or(0),
                            count: 1,
                        })
                    }
                }
                text.push('\u{FFFD}');
                let skip = err.error_len().unwrap_or(after.len()).max(1);
                rest = after.get(skip..).unwrap_or_default();
            }
        }
    }
    Decoded { text, invalid }
}

fn too_large(size: u64, max: u64) -> String {
    format!("input is {size} bytes, above the limit of {max} bytes (raise it with --max-file-size)")
}

/// Parses one file's bytes as kubectl decodes them (UTF-16 by its byte order mark, else UTF-8
/// with each invalid sequence read as U+FFFD and the first one reported where it is).
pub fn load_bytes(name: &str, bytes: &[u8], options: &LoadOptions) -> FileLoad {
    load_bytes_within(name, bytes, options, &AtomicUsize::new(0))
}

/// [`load_bytes`] as one file of a run (see [`load_text_within`]).
pub fn load_bytes_within(
    name: &str,
    bytes: &[u8],
    options: &LoadOptions,
    run_aliases: &AtomicUsize,
) -> FileLoad {
    let decoded = decode(bytes);
    let mut load = load_text_within(name, &decoded.text, options, run_aliases);
    if let Some(invalid) = decoded.invalid {
        load.problems.insert(0, invalid.problem(name, &load.file));
    }
    load
}

/// Parses one file's text. Each document is parsed on its own, so a broken one is reported and
/// the rest are still read.
pub fn load_text(name: &str, text: &str, options: &LoadOptions) -> FileLoad {
    load_text_within(name, text, options, &AtomicUsize::new(0))
}

/// [`load_text`] as one file of a run: YAML alias expansion counts against `run_aliases` too.
pub fn load_text_within(
    name: &str,
    text: &str,
    options: &LoadOptions,
    run_aliases: &AtomicUsize,
) -> FileLoad {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut objects = Vec::new();
    let mut problems = Vec::new();
    let mut aliases = yaml::AliasBudget::new(run_aliases);
    for chunk in split::split_documents(text) {
        if let Some((column, content)) = split::separator_content(&chunk) {
            problems.push(problem(
                name,
                INVALID_MANIFEST,
                format!(
                    "content after the `---` separator: kubectl accepts only a comment there and rejects the file (\"invalid Yaml document separator: {content}\"); move {content:?} to the next line"
                ),
                Span::new(chunk.first_line + 1, column),
                None,
                &chunk,
            ));
        }
        let body = split::body(&chunk);
        if let Some(line) = body.ignored_from {
            // go-yaml stops at the end of the first document of a `---` section.
            problems.push(problem(
                name,
                INVALID_MANIFEST,
                "kubectl ignores everything from here to the next `---` line: it follows a `...` end marker, and kubectl reads only the first document between two `---` lines; put `---` before it".to_string(),
                Span::new(line + 1, 1),
                None,
                &chunk,
            ));
        }
        match yaml::parse_str_within(body.text, body.first_line, options.limits, &mut aliases) {
            Err(err) => {
                // At the end of a chunk the parser points past its last line; point at that line.
                let mut span = err.span();
                let last_line =
                    body.first_line + lines::lines(body.text.trim_end()).count().max(1) as u32;
                if span.line > last_line {
                    span = Span::new(last_line, 1);
                }
                let message = match split::lone_directive(&chunk) {
                    Some((line, directive)) => {
                        span = Span::new(chunk.first_line + line + 1, 1);
                        format!(
                            "directive `{directive}` is not read: kubectl splits files at `---` lines, so the directive is a document of its own, which it rejects (\"did not find expected <document start>\"); remove it (Kubernetes reads YAML 1.1 without directives)"
                        )
                    }
                    None => format!("cannot parse YAML: {err}"),
                };
                problems.push(problem(name, INVALID_MANIFEST, message, span, None, &chunk));
            }
            Ok(docs) => {
                for doc in docs {
                    let Some(root) = doc.root else { continue };
                    let first = objects.len();
                    expand_object(root, None, name, &chunk, &mut objects, &mut problems, 0);
                    let in_document: &[Object] = &objects[first..];
                    for dup in doc.duplicates {
                        // The object whose document (or List item) the key is in: the last one
                        // starting at or before it. Objects come in source order.
                        let starts_before =
                            in_document.partition_point(|o| o.root.span <= dup.span);
                        let object = starts_before
                            .checked_sub(1)
                            .and_then(|i| in_document.get(i))
                            .map(|o| o.id.clone());
                        problems.push(problem(
                            name,
                            DUPLICATE_KEY,
                            format!(
                                "mapping key {:?} is given twice (first on line {}); the later value is used",
                                dup.key, dup.first.line
                            ),
                            dup.span,
                            object,
                            &chunk,
                        ));
                    }
                }
            }
        }
    }
    FileLoad {
        file: SourceFile {
            name: name.to_string(),
            text: Arc::from(text),
        },
        objects,
        problems,
    }
}

fn problem(
    name: &str,
    rule: &str,
    message: String,
    span: Span,
    object: Option<ObjectRef>,
    chunk: &split::Chunk,
) -> Finding {
    Finding {
        rule: rule.to_string(),
        severity: Severity::Error,
        message,
        object,
        location: Location {
            template: chunk.source.clone(),
            ..Location::at(name, span.line, span.column)
        },
        path: Vec::new(),
        subject: None,
        suppressed: None,
        fingerprint: String::new(),
    }
}

const MAX_LIST_NESTING: usize = 8;

/// Turns a document root into objects: checks apiVersion and kind, expands `List` and `*List`.
fn expand_object(
    root: Node,
    list: Option<(&str, &str)>,
    name: &str,
    chunk: &split::Chunk,
    objects: &mut Vec<Object>,
    problems: &mut Vec<Finding>,
    depth: usize,
) {
    let span = root.span;
    let fail = |problems: &mut Vec<Finding>, message: String, span: Span| {
        problems.push(problem(name, INVALID_MANIFEST, message, span, None, chunk));
    };
    if root.as_map().is_none() {
        return fail(
            problems,
            "document is not a mapping, so it is not a Kubernetes object".to_string(),
            span,
        );
    }
    let field = |key: &str| -> Result<Option<String>, String> {
        match root.get(key) {
            None => Ok(None),
            Some(n) => match &n.value {
                Value::String(s) if !s.is_empty() => Ok(Some(s.to_string())),
                Value::Null => Ok(None),
                _ => Err(format!("{key} must be a non-empty string")),
            },
        }
    };
    // Items of a typed list (`kubectl get deploy -o yaml` with DeploymentList) may omit both fields.
    let (api_version, kind) = match (field("apiVersion"), field("kind")) {
        (Err(e), _) | (_, Err(e)) => return fail(problems, e, span),
        (Ok(a), Ok(k)) => (
            a.or_else(|| list.map(|(a, _)| a.to_string())),
            k.or_else(|| {
                list.and_then(|(_, k)| {
                    k.strip_suffix("List")
                        .filter(|k| !k.is_empty())
                        .map(str::to_string)
                })
            }),
        ),
    };
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        return fail(
            problems,
            "object has no apiVersion and kind, so Kubernetes cannot tell what it is".to_string(),
            span,
        );
    };
    if let Some(meta) = root.get("metadata") {
        if meta.as_map().is_none() && !meta.is_null() {
            return fail(
                problems,
                "metadata must be a mapping".to_string(),
                meta.span,
            );
        }
    }
    if kind.ends_with("List") {
        if let Some(items) = root.get("items") {
            let Value::Seq(items) = items.value.clone() else {
                return fail(problems, format!("{kind}.items must be a list"), items.span);
            };
            if depth >= MAX_LIST_NESTING {
                return fail(problems, "lists nested too deeply".to_string(), span);
            }
            for item in items.into_vec() {
                expand_object(
                    item,
                    Some((&api_version, &kind)),
                    name,
                    chunk,
                    objects,
                    problems,
                    depth + 1,
                );
            }
            return;
        }
    }
    let inferred = ObjectRef {
        api_version,
        kind,
        namespace: None,
        name: None,
    };
    let id = identity::identity(&root, Some(&inferred)).unwrap_or(inferred);
    let mut root = root;
    if list.is_some() {
        fill_identity(&mut root, &id);
    }
    objects.push(Object {
        id,
        root,
        file: 0,
        template: chunk.source.clone(),
    });
}

/// Items of a typed list get the apiVersion and kind they were inferred to have, so rules see them.
fn fill_identity(root: &mut Node, id: &ObjectRef) {
    if let Value::Map(entries) = &mut root.value {
        for (key, value) in [("apiVersion", &id.api_version), ("kind", &id.kind)] {
            if !entries.iter().any(|e| &*e.key == key) {
                node::push_entry(
                    entries,
                    node::Entry {
                        key: key.into(),
                        key_span: root.span,
                        value: Node::new(Value::String(value.as_str().into()), root.span),
                    },
                );
            }
        }
    }
}
