//! YAML events to [`Node`] trees, read the way kubectl reads them (sigs.k8s.io/yaml over go-yaml v2):
//! YAML 1.1 plain scalars (`yes`/`on`/`off` are booleans, `0755` is octal, `1_000` is 1000),
//! merge keys, anchors and aliases. Duplicate keys are reported rather than merged, and nesting depth
//! and alias expansion are bounded so a hostile file cannot exhaust memory.
//!
//! The parser is libyaml ([`LibyamlSource`]), the C library go-yaml v2 is a port of. The builder is
//! generic over [`EventSource`] so that other parsers can feed it (`benches/lint.rs` compares
//! libyaml with yaml-rust2 and saphyr-parser through the same builder).

use std::borrow::Cow;
use std::collections::HashMap;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicUsize, Ordering};

use unsafe_libyaml_norway as unsafe_sys;

use super::lines::Positions;

use super::node::{Entry, Node, Span, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    Plain,
    Quoted,
    Block,
}

/// A node tag, reduced to what resolution needs: the core-schema suffix (`str`, `int`, ...) or another tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tag {
    Core(String),
    Other(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    StreamStart,
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    Alias(usize),
    Scalar(Cow<'a, str>, ScalarStyle, usize, Option<Tag>),
    SequenceStart(usize, Option<Tag>),
    SequenceEnd,
    MappingStart(usize, Option<Tag>),
    MappingEnd,
}

/// A YAML syntax error as the parser reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub message: String,
    pub span: Span,
}

pub trait EventSource<'a> {
    /// The next event with its position, `None` at the end of the stream.
    fn next_event(&mut self) -> Option<Result<(Event<'a>, Span), SyntaxError>>;
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest nesting of mappings and sequences accepted.
    pub max_depth: usize,
    /// Most nodes that alias expansion may add to one document ("billion laughs" guard).
    pub max_alias_nodes: usize,
    /// Most nodes alias expansion may add to all documents of one file together: a file of many
    /// documents, each just under the per-document limit, must not add up to gigabytes.
    pub max_alias_nodes_per_file: usize,
    /// Most nodes alias expansion may add to all files of one run together.
    pub max_alias_nodes_per_run: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_alias_nodes: 100_000,
            max_alias_nodes_per_file: 1_000_000,
            max_alias_nodes_per_run: 4_000_000,
        }
    }
}

/// Where an alias expansion limit was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasScope {
    Document,
    File,
    Run,
}

impl std::fmt::Display for AliasScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AliasScope::Document => "in this document",
            AliasScope::File => "in this file (all its documents together)",
            AliasScope::Run => "in this run (all files together)",
        })
    }
}

/// Alias expansion so far in one file, and in the whole run (shared by the files read in parallel).
#[derive(Debug)]
pub struct AliasBudget<'run> {
    file: usize,
    run: &'run AtomicUsize,
}

impl<'run> AliasBudget<'run> {
    pub fn new(run: &'run AtomicUsize) -> Self {
        AliasBudget { file: 0, run }
    }

    /// Counts `nodes` more against the file; the limit they exceed, if any.
    fn spend(&mut self, nodes: usize, limits: &Limits) -> Option<(AliasScope, usize)> {
        self.file = self.file.saturating_add(nodes);
        (self.file > limits.max_alias_nodes_per_file)
            .then_some((AliasScope::File, limits.max_alias_nodes_per_file))
    }

    /// Counts a finished document's expansion against the run. Settled per document (each bounded
    /// by the per-document limit), so that of files read in parallel exactly the documents that
    /// push the total over the limit are refused, whatever the threads' timing.
    fn settle(&self, nodes: usize, limits: &Limits) -> Option<(AliasScope, usize)> {
        if nodes == 0 {
            return None;
        }
        let before = self.run.fetch_add(nodes, Ordering::Relaxed);
        (before.saturating_add(nodes) > limits.max_alias_nodes_per_run)
            .then_some((AliasScope::Run, limits.max_alias_nodes_per_run))
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BuildError {
    #[error("{}", .0.message)]
    Syntax(SyntaxError),
    #[error("nesting deeper than {limit} levels")]
    TooDeep { span: Span, limit: usize },
    #[error(
        "YAML aliases expand to more than {limit} nodes {scope} (a \"billion laughs\" document?)"
    )]
    AliasExpansion {
        span: Span,
        limit: usize,
        scope: AliasScope,
    },
    #[error("alias refers to an unknown anchor")]
    UnknownAnchor { span: Span },
    #[error("mapping key must be a scalar (Kubernetes objects only have string keys)")]
    ComplexKey { span: Span },
}

impl BuildError {
    pub fn span(&self) -> Span {
        match self {
            BuildError::Syntax(e) => e.span,
            BuildError::TooDeep { span, .. }
            | BuildError::AliasExpansion { span, .. }
            | BuildError::UnknownAnchor { span }
            | BuildError::ComplexKey { span } => *span,
        }
    }
}

/// A mapping key given twice in one mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateKey {
    pub key: Box<str>,
    pub span: Span,
    pub first: Span,
}

/// One document of a stream: its root node (None for an empty document) and its duplicate keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub root: Option<Node>,
    pub duplicates: Vec<DuplicateKey>,
}

enum Frame {
    Seq {
        span: Span,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        span: Span,
        anchor: usize,
        entries: Vec<Entry>,
        /// Position of each key in `entries`, built once the mapping outgrows a linear scan, so
        /// that finding duplicates stays linear in the number of keys.
        index: Option<HashMap<Box<str>, usize>>,
        key: Option<(Box<str>, Span, bool)>,
        merges: Vec<Node>,
    },
}

/// Mappings with more keys than this get a hash index for the duplicate check.
const LINEAR_SCAN_KEYS: usize = 16;

/// Reads every document of the stream. Stops at the first error: the caller splits streams into
/// documents beforehand, so one broken document does not hide the others.
pub fn build_documents<'a>(
    source: &mut dyn EventSource<'a>,
    limits: Limits,
) -> Result<Vec<Document>, BuildError> {
    let run = AtomicUsize::new(0);
    build_documents_within(source, limits, &mut AliasBudget::new(&run))
}

/// [`build_documents`], counting alias expansion against a file's and a run's budget.
pub fn build_documents_within<'a>(
    source: &mut dyn EventSource<'a>,
    limits: Limits,
    budget: &mut AliasBudget<'_>,
) -> Result<Vec<Document>, BuildError> {
    let mut docs = Vec::new();
    let mut builder = Builder::new(limits);
    while let Some(event) = source.next_event() {
        let (event, span) = event.map_err(BuildError::Syntax)?;
        match event {
            Event::StreamStart | Event::StreamEnd => {}
            Event::DocumentStart => builder = Builder::new(limits),
            Event::DocumentEnd => {
                let done = std::mem::replace(&mut builder, Builder::new(limits));
                if let (Some(span), Some((scope, limit))) =
                    (done.first_alias, budget.settle(done.alias_nodes, &limits))
                {
                    return Err(BuildError::AliasExpansion { span, limit, scope });
                }
                docs.push(done.finish());
            }
            other => builder.push(other, span, budget)?,
        }
    }
    Ok(docs)
}

struct Builder {
    limits: Limits,
    stack: Vec<Frame>,
    root: Option<Node>,
    anchors: HashMap<usize, Node>,
    alias_nodes: usize,
    /// Where the document's first alias is, to name the document when the run's budget is spent.
    first_alias: Option<Span>,
    duplicates: Vec<DuplicateKey>,
}

impl Builder {
    fn new(limits: Limits) -> Self {
        Builder {
            limits,
            stack: Vec::new(),
            root: None,
            anchors: HashMap::new(),
            alias_nodes: 0,
            first_alias: None,
            duplicates: Vec::new(),
        }
    }

    fn finish(self) -> Document {
        let root = self.root.filter(|n| !n.is_null());
        Document {
            root,
            duplicates: self.duplicates,
        }
    }

    fn push(
        &mut self,
        event: Event<'_>,
        span: Span,
        budget: &mut AliasBudget<'_>,
    ) -> Result<(), BuildError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                // A scalar in key position stays text: keys are strings in Kubernetes objects.
                if let Some(Frame::Map {
                    key: key @ None, ..
                }) = self.stack.last_mut()
                {
                    let is_merge = style == ScalarStyle::Plain && tag.is_none() && text == "<<";
                    *key = Some((key_string(&text, style, tag.as_ref()), span, is_merge));
                    if anchor != 0 {
                        let node = Node::new(resolve_scalar(&text, style, tag.as_ref()), span);
                        self.anchors.insert(anchor, node);
                    }
                    return Ok(());
                }
                let node = Node::new(resolve_scalar(&text, style, tag.as_ref()), span);
                self.complete(node, anchor)
            }
            Event::Alias(id) => {
                let target = self
                    .anchors
                    .get(&id)
                    .ok_or(BuildError::UnknownAnchor { span })?;
                let size = target.size();
                self.first_alias.get_or_insert(span);
                self.alias_nodes = self.alias_nodes.saturating_add(size);
                let exceeded = if self.alias_nodes > self.limits.max_alias_nodes {
                    Some((AliasScope::Document, self.limits.max_alias_nodes))
                } else {
                    budget.spend(size, &self.limits)
                };
                if let Some((scope, limit)) = exceeded {
                    return Err(BuildError::AliasExpansion { span, limit, scope });
                }
                if let Some(Frame::Map { key: None, .. }) = self.stack.last() {
                    let key = match &target.value {
                        Value::String(s) => s.clone(),
                        Value::Seq(_) | Value::Map(_) => {
                            return Err(BuildError::ComplexKey { span })
                        }
                        other => scalar_key_text(other),
                    };
                    if let Some(Frame::Map { key: slot, .. }) = self.stack.last_mut() {
                        *slot = Some((key, span, false));
                    }
                    return Ok(());
                }
                let mut node = target.clone();
                node.span = span;
                self.complete(node, 0)
            }
            Event::SequenceStart(anchor, _) => {
                self.check_key_position(span)?;
                self.enter(span)?;
                self.stack.push(Frame::Seq {
                    span,
                    anchor,
                    items: Vec::new(),
                });
                Ok(())
            }
            Event::MappingStart(anchor, _) => {
                self.check_key_position(span)?;
                self.enter(span)?;
                self.stack.push(Frame::Map {
                    span,
                    anchor,
                    entries: Vec::new(),
                    index: None,
                    key: None,
                    merges: Vec::new(),
                });
                Ok(())
            }
            Event::SequenceEnd => match self.stack.pop() {
                Some(Frame::Seq {
                    span,
                    anchor,
                    items,
                }) => self.complete(
                    Node::new(Value::Seq(items.into_boxed_slice()), span),
                    anchor,
                ),
                _ => Ok(()),
            },
            Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Map {
                    span,
                    anchor,
                    mut entries,
                    merges,
                    ..
                }) => {
                    // yaml-rust2 marks a block mapping where its first value is, not its first key;
                    // the mapping starts at whichever comes first.
                    let span = entries
                        .first()
                        .map_or(span, |first| first.key_span.min(span));
                    apply_merges(&mut entries, merges);
                    self.complete(
                        Node::new(Value::Map(entries.into_boxed_slice()), span),
                        anchor,
                    )
                }
                _ => Ok(()),
            },
            Event::StreamStart | Event::StreamEnd | Event::DocumentStart | Event::DocumentEnd => {
                Ok(())
            }
        }
    }

    fn enter(&self, span: Span) -> Result<(), BuildError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(BuildError::TooDeep {
                span,
                limit: self.limits.max_depth,
            });
        }
        Ok(())
    }

    fn check_key_position(&self, span: Span) -> Result<(), BuildError> {
        match self.stack.last() {
            Some(Frame::Map { key: None, .. }) => Err(BuildError::ComplexKey { span }),
            _ => Ok(()),
        }
    }

    fn complete(&mut self, node: Node, anchor: usize) -> Result<(), BuildError> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                index,
                key,
                merges,
                ..
            }) => {
                let Some((key, key_span, is_merge)) = key.take() else {
                    return Err(BuildError::ComplexKey { span: node.span });
                };
                if is_merge {
                    merges.push(node);
                    return Ok(());
                }
                if index.is_none() && entries.len() >= LINEAR_SCAN_KEYS {
                    *index = Some(key_positions(entries));
                }
                let existing = match index {
                    Some(index) => index.get(&key).copied(),
                    None => entries.iter().position(|e| e.key == key),
                };
                if let Some(existing) = existing.and_then(|i| entries.get_mut(i)) {
                    // Later wins, as the API server does for JSON bodies; the duplicate is reported.
                    self.duplicates.push(DuplicateKey {
                        key,
                        span: key_span,
                        first: existing.key_span,
                    });
                    existing.key_span = key_span;
                    existing.value = node;
                } else {
                    if let Some(index) = index {
                        index.insert(key.clone(), entries.len());
                    }
                    entries.push(Entry {
                        key,
                        key_span,
                        value: node,
                    });
                }
            }
        }
        Ok(())
    }
}

fn key_positions(entries: &[Entry]) -> HashMap<Box<str>, usize> {
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.key.clone(), i))
        .collect()
}

/// `<<: *base` and `<<: [*a, *b]`: keys of the merged mappings that the mapping does not set itself;
/// with several, the earlier one wins (go-yaml's semantics).
fn apply_merges(entries: &mut Vec<Entry>, merges: Vec<Node>) {
    if merges.is_empty() {
        return;
    }
    let mut present: std::collections::HashSet<Box<str>> =
        entries.iter().map(|e| e.key.clone()).collect();
    for merge in merges {
        let sources: Vec<Node> = match merge.value {
            Value::Map(_) => vec![merge],
            Value::Seq(items) => items.into_vec(),
            _ => continue,
        };
        for source in sources {
            if let Value::Map(merged) = source.value {
                for entry in merged.into_vec() {
                    if present.insert(entry.key.clone()) {
                        entries.push(entry);
                    }
                }
            }
        }
    }
}

fn key_string(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Box<str> {
    match resolve_scalar(text, style, tag) {
        Value::String(s) => s,
        other => scalar_key_text(&other),
    }
}

/// How sigs.k8s.io/yaml turns a non-string key into a JSON object key.
fn scalar_key_text(value: &Value) -> Box<str> {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string().into(),
        Value::Int(i) => i.to_string().into(),
        Value::Float(f) => f.to_string().into(),
        Value::String(s) => s.clone(),
        Value::Seq(_) | Value::Map(_) => "".into(),
    }
}

/// Resolves a scalar as go-yaml v2 does. Quoted and block scalars are strings; plain ones follow
/// the YAML 1.1 tables. An explicit core tag (`!!str 1`) decides the type itself.
pub fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(Tag::Core(suffix)) = tag {
        match suffix.as_str() {
            "str" | "binary" | "timestamp" => return Value::String(text.into()),
            "null" => return Value::Null,
            "bool" => {
                if let Some(b) = resolve_bool(text) {
                    return Value::Bool(b);
                }
            }
            "int" | "float" => {
                if let Some(v) = resolve_number(text) {
                    return v;
                }
            }
            _ => {}
        }
        return Value::String(text.into());
    }
    if style != ScalarStyle::Plain || matches!(tag, Some(Tag::Other(_))) {
        return Value::String(text.into());
    }
    resolve_plain(text)
}

pub fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        _ => {}
    }
    if let Some(b) = resolve_bool(text) {
        return Value::Bool(b);
    }
    match text.as_bytes().first() {
        Some(b'0'..=b'9' | b'+' | b'-' | b'.') => {
            resolve_number(text).unwrap_or_else(|| Value::String(text.into()))
        }
        _ => Value::String(text.into()),
    }
}

fn resolve_bool(text: &str) -> Option<bool> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

/// go-yaml v2: drop underscores, then Go's `ParseInt(s, 0, 64)` (0x, 0o, 0b prefixes, a leading 0
/// means octal), then the YAML float pattern.
fn resolve_number(text: &str) -> Option<Value> {
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    if let Some(i) = parse_go_int(&plain) {
        return Some(Value::Int(i));
    }
    if is_yaml_float(&plain) {
        return plain.parse::<f64>().ok().map(Value::Float);
    }
    None
}

fn parse_go_int(s: &str) -> Option<i64> {
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let (radix, body) = if let Some(rest) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        (16, rest)
    } else if let Some(rest) = digits
        .strip_prefix("0b")
        .or_else(|| digits.strip_prefix("0B"))
    {
        (2, rest)
    } else if let Some(rest) = digits
        .strip_prefix("0o")
        .or_else(|| digits.strip_prefix("0O"))
    {
        (8, rest)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()?;
    if negative {
        if magnitude <= i64::MAX as u64 + 1 {
            Some((magnitude as i128).checked_neg().map(|v| v as i64)?)
        } else {
            None
        }
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, go-yaml v2's float pattern.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Normalises a parser's tag: `!!int` and `tag:yaml.org,2002:int` are the core tag `int`.
pub fn classify_tag(handle: &str, suffix: &str) -> Tag {
    if handle == "!!" || handle == "tag:yaml.org,2002:" {
        Tag::Core(suffix.to_string())
    } else if handle.is_empty() {
        match suffix.strip_prefix("tag:yaml.org,2002:") {
            Some(core) => Tag::Core(core.to_string()),
            None => Tag::Other(suffix.to_string()),
        }
    } else {
        Tag::Other(format!("{handle}{suffix}"))
    }
}

/// libyaml as an [`EventSource`]. go-yaml v2, which kubectl reads manifests with, is a line-by-line
/// port of libyaml, so the two accept and reject the same documents (a flow sequence closed at its
/// key's indentation, a quoted scalar continued left of its key, tabs inside scalars, ...).
/// libyaml reports byte offsets; [`Positions`] turns them into lines and columns as editors count
/// them, so a lone `\r` or a NEL inside a scalar does not shift the lines after it.
pub struct LibyamlSource<'a> {
    parser: Box<MaybeUninit<unsafe_sys::yaml_parser_t>>,
    positions: Positions<'a>,
    /// Bytes of `text` that precede what the parser reads (a byte order mark it is not given).
    skipped: usize,
    line_offset: u32,
    /// Anchor names of the current document, each definition under a new number: an alias refers
    /// to the latest definition of its name.
    anchors: HashMap<Vec<u8>, usize>,
    next_anchor: usize,
    initialised: bool,
    done: bool,
}

/// Anchor number of an alias whose name was never defined; the builder reports it.
const UNDEFINED_ANCHOR: usize = usize::MAX;

impl<'a> LibyamlSource<'a> {
    pub fn new(text: &'a str, line_offset: u32) -> Self {
        // libyaml drops a leading byte order mark without counting it in its offsets.
        let skipped = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let input = &text.as_bytes()[skipped..];
        let mut parser = Box::new(MaybeUninit::<unsafe_sys::yaml_parser_t>::uninit());
        // SAFETY: the parser lives in a box that is never moved out of (libyaml keeps a pointer
        // to it as its read handler's data) and is deleted in `Drop`; the input it points at is
        // `text`, which outlives `self` ('a).
        let initialised = unsafe {
            let raw = parser.as_mut_ptr();
            if unsafe_sys::yaml_parser_initialize(raw).fail {
                false
            } else {
                unsafe_sys::yaml_parser_set_encoding(raw, unsafe_sys::YAML_UTF8_ENCODING);
                unsafe_sys::yaml_parser_set_input_string(raw, input.as_ptr(), input.len() as u64);
                true
            }
        };
        LibyamlSource {
            parser,
            positions: Positions::new(text),
            skipped,
            line_offset,
            anchors: HashMap::new(),
            next_anchor: 1,
            initialised,
            done: !initialised,
        }
    }

    fn span(&mut self, mark: unsafe_sys::yaml_mark_t) -> Span {
        let offset = usize::try_from(mark.index)
            .unwrap_or(usize::MAX)
            .saturating_add(self.skipped);
        let span = self.positions.span(offset);
        Span::new(span.line + self.line_offset, span.column)
    }

    fn define_anchor(&mut self, name: *const u8) -> usize {
        let Some(name) = c_bytes(name) else { return 0 };
        let id = self.next_anchor;
        self.next_anchor += 1;
        self.anchors.insert(name.to_vec(), id);
        id
    }

    fn error(&mut self) -> SyntaxError {
        // SAFETY: only called after `yaml_parser_parse` failed, so the parser is initialised.
        let (problem, mut problem_mark, context, context_mark, reader_offset) = unsafe {
            let parser = &*self.parser.as_ptr();
            let reader_offset =
                (parser.error == unsafe_sys::YAML_READER_ERROR).then_some(parser.problem_offset);
            (
                c_bytes(parser.problem.cast()),
                parser.problem_mark,
                c_bytes(parser.context.cast()),
                parser.context_mark,
                reader_offset,
            )
        };
        let problem = problem.map_or_else(
            || "the YAML parser failed".to_string(),
            |p| String::from_utf8_lossy(p).into_owned(),
        );
        // The reader (control characters, ...) reports a byte offset of the whole input instead
        // of a mark; that offset already counts a leading byte order mark.
        if let Some(offset) = reader_offset {
            problem_mark.index = offset.saturating_sub(self.skipped as u64);
        }
        let span = self.span(problem_mark);
        let message = match context {
            Some(context) => {
                let at = self.span(context_mark);
                format!(
                    "{problem} ({} that starts on line {})",
                    String::from_utf8_lossy(context),
                    at.line
                )
            }
            None => problem,
        };
        SyntaxError { message, span }
    }
}

impl Drop for LibyamlSource<'_> {
    fn drop(&mut self) {
        // SAFETY: deleting an initialised parser once; a failed initialisation left nothing to free
        // (libyaml frees its buffers itself when `yaml_parser_initialize` fails).
        if self.initialised {
            unsafe { unsafe_sys::yaml_parser_delete(self.parser.as_mut_ptr()) }
        }
    }
}

/// The bytes of a NUL-terminated string libyaml owns, `None` for a null pointer.
fn c_bytes<'p>(ptr: *const u8) -> Option<&'p [u8]> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: libyaml's strings (anchors, tags, messages) are NUL-terminated and live as long as
    // the event or parser they belong to; callers copy them before either is released.
    Some(unsafe { std::ffi::CStr::from_ptr(ptr.cast()) }.to_bytes())
}

fn c_tag(ptr: *const u8) -> Option<Tag> {
    c_bytes(ptr).map(|tag| classify_tag("", &String::from_utf8_lossy(tag)))
}

impl<'a> EventSource<'a> for LibyamlSource<'a> {
    fn next_event(&mut self) -> Option<Result<(Event<'a>, Span), SyntaxError>> {
        if self.done {
            return None;
        }
        let mut raw = MaybeUninit::<unsafe_sys::yaml_event_t>::uninit();
        // SAFETY: the parser is initialised; a parsed event is read here, its strings copied, and
        // deleted before returning.
        unsafe {
            if unsafe_sys::yaml_parser_parse(self.parser.as_mut_ptr(), raw.as_mut_ptr()).fail {
                self.done = true;
                return Some(Err(self.error()));
            }
            let event = &*raw.as_ptr();
            let converted = self.convert(event);
            let span = self.span(event.start_mark);
            unsafe_sys::yaml_event_delete(raw.as_mut_ptr());
            Some(converted.map(|event| (event, span)))
        }
    }
}

impl LibyamlSource<'_> {
    /// # Safety
    /// `event` must be an event the parser just produced, not yet deleted.
    unsafe fn convert<'e>(
        &mut self,
        event: &unsafe_sys::yaml_event_t,
    ) -> Result<Event<'e>, SyntaxError> {
        Ok(match event.type_ {
            // YAML_NO_EVENT, and any event type a later libyaml adds, carries nothing to build.
            unsafe_sys::YAML_STREAM_START_EVENT => Event::StreamStart,
            unsafe_sys::YAML_STREAM_END_EVENT => {
                self.done = true;
                Event::StreamEnd
            }
            unsafe_sys::YAML_DOCUMENT_START_EVENT => {
                let version = event.data.document_start.version_directive;
                // go-yaml v2 reads YAML 1.1 only; libyaml also takes `%YAML 1.2`.
                if !version.is_null() && ((*version).major != 1 || (*version).minor != 1) {
                    let span = self.span(event.start_mark);
                    self.done = true;
                    return Err(SyntaxError {
                        message: format!(
                            "found incompatible YAML document (%YAML {}.{}; kubectl reads YAML 1.1 only)",
                            (*version).major,
                            (*version).minor
                        ),
                        span,
                    });
                }
                self.anchors.clear();
                Event::DocumentStart
            }
            unsafe_sys::YAML_DOCUMENT_END_EVENT => Event::DocumentEnd,
            unsafe_sys::YAML_ALIAS_EVENT => {
                let name = c_bytes(event.data.alias.anchor).unwrap_or_default();
                Event::Alias(self.anchors.get(name).copied().unwrap_or(UNDEFINED_ANCHOR))
            }
            unsafe_sys::YAML_SCALAR_EVENT => {
                let scalar = event.data.scalar;
                let bytes = if scalar.value.is_null() {
                    &[][..]
                } else {
                    std::slice::from_raw_parts(
                        scalar.value,
                        usize::try_from(scalar.length).unwrap_or(0),
                    )
                };
                // libyaml's reader has checked the input's UTF-8, so the fast validation holds
                // (the lossy one walks the bytes in chunks, a few per cent of a CRD-heavy load).
                let text = std::str::from_utf8(bytes).map_or_else(
                    |_| String::from_utf8_lossy(bytes).into_owned(),
                    str::to_owned,
                );
                let style = match scalar.style {
                    unsafe_sys::YAML_SINGLE_QUOTED_SCALAR_STYLE
                    | unsafe_sys::YAML_DOUBLE_QUOTED_SCALAR_STYLE => ScalarStyle::Quoted,
                    unsafe_sys::YAML_LITERAL_SCALAR_STYLE
                    | unsafe_sys::YAML_FOLDED_SCALAR_STYLE => ScalarStyle::Block,
                    _ => ScalarStyle::Plain,
                };
                let anchor = self.define_anchor(scalar.anchor);
                Event::Scalar(Cow::Owned(text), style, anchor, c_tag(scalar.tag))
            }
            unsafe_sys::YAML_SEQUENCE_START_EVENT => {
                let start = event.data.sequence_start;
                let anchor = self.define_anchor(start.anchor);
                Event::SequenceStart(anchor, c_tag(start.tag))
            }
            unsafe_sys::YAML_SEQUENCE_END_EVENT => Event::SequenceEnd,
            unsafe_sys::YAML_MAPPING_START_EVENT => {
                let start = event.data.mapping_start;
                let anchor = self.define_anchor(start.anchor);
                Event::MappingStart(anchor, c_tag(start.tag))
            }
            unsafe_sys::YAML_MAPPING_END_EVENT => Event::MappingEnd,
            _ => Event::StreamStart,
        })
    }
}

/// Parses YAML (or JSON) text. `line_offset` is added to every line number.
pub fn parse_str(
    text: &str,
    line_offset: u32,
    limits: Limits,
) -> Result<Vec<Document>, BuildError> {
    build_documents(&mut LibyamlSource::new(text, line_offset), limits)
}

/// [`parse_str`] for one document of a file: alias expansion counts against the file and the run.
pub fn parse_str_within(
    text: &str,
    line_offset: u32,
    limits: Limits,
    budget: &mut AliasBudget<'_>,
) -> Result<Vec<Document>, BuildError> {
    build_documents_within(&mut LibyamlSource::new(text, line_offset), limits, budget)
}
