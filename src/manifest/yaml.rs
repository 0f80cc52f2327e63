//! YAML events to [`Node`] trees, read the way kubectl reads them (sigs.k8s.io/yaml over go-yaml v2):
//! YAML 1.1 plain scalars (`yes`/`on`/`off` are booleans, `0755` is octal, `1_000` is 1000),
//! merge keys, anchors and aliases. Duplicate keys are reported rather than merged, and nesting depth
//! and alias expansion are bounded so a hostile file cannot exhaust memory.
//!
//! The builder is generic over [`EventSource`] so that more than one parser can feed it
//! (`benches/lint.rs` measures yaml-rust2 against saphyr-parser through the same builder).

use std::borrow::Cow;
use std::collections::HashMap;

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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_alias_nodes: 100_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BuildError {
    #[error("{}", .0.message)]
    Syntax(SyntaxError),
    #[error("nesting deeper than {limit} levels")]
    TooDeep { span: Span, limit: usize },
    #[error("YAML aliases expand to more than {limit} nodes (a \"billion laughs\" document?)")]
    AliasExpansion { span: Span, limit: usize },
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
    pub key: String,
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
        key: Option<(String, Span, bool)>,
        merges: Vec<Node>,
    },
}

/// Reads every document of the stream. Stops at the first error: the caller splits streams into
/// documents beforehand, so one broken document does not hide the others.
pub fn build_documents<'a>(
    source: &mut dyn EventSource<'a>,
    limits: Limits,
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
                docs.push(done.finish());
            }
            other => builder.push(other, span)?,
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

    fn push(&mut self, event: Event<'_>, span: Span) -> Result<(), BuildError> {
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
                self.alias_nodes = self.alias_nodes.saturating_add(size);
                if self.alias_nodes > self.limits.max_alias_nodes {
                    return Err(BuildError::AliasExpansion {
                        span,
                        limit: self.limits.max_alias_nodes,
                    });
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
                }) => self.complete(Node::new(Value::Seq(items), span), anchor),
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
                    self.complete(Node::new(Value::Map(entries), span), anchor)
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
                key,
                merges,
                ..
            }) => {
                let Some((key, key_span, is_merge)) = key.take() else {
                    return Err(BuildError::ComplexKey { span: node.span });
                };
                if is_merge {
                    merges.push(node);
                } else if let Some(existing) = entries.iter_mut().find(|e| e.key == key) {
                    // Later wins, as the API server does for JSON bodies; the duplicate is reported.
                    self.duplicates.push(DuplicateKey {
                        key,
                        span: key_span,
                        first: existing.key_span,
                    });
                    existing.key_span = key_span;
                    existing.value = node;
                } else {
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

/// `<<: *base` and `<<: [*a, *b]`: keys of the merged mappings that the mapping does not set itself;
/// with several, the earlier one wins (go-yaml's semantics).
fn apply_merges(entries: &mut Vec<Entry>, merges: Vec<Node>) {
    for merge in merges {
        let sources: Vec<Node> = match merge.value {
            Value::Map(_) => vec![merge],
            Value::Seq(items) => items,
            _ => continue,
        };
        for source in sources {
            if let Value::Map(merged) = source.value {
                for entry in merged {
                    if !entries.iter().any(|e| e.key == entry.key) {
                        entries.push(entry);
                    }
                }
            }
        }
    }
}

fn key_string(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> String {
    match resolve_scalar(text, style, tag) {
        Value::String(s) => s,
        other => scalar_key_text(&other),
    }
}

/// How sigs.k8s.io/yaml turns a non-string key into a JSON object key.
fn scalar_key_text(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::String(s) => s.clone(),
        Value::Seq(_) | Value::Map(_) => String::new(),
    }
}

/// Resolves a scalar as go-yaml v2 does. Quoted and block scalars are strings; plain ones follow
/// the YAML 1.1 tables. An explicit core tag (`!!str 1`) decides the type itself.
pub fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(Tag::Core(suffix)) = tag {
        match suffix.as_str() {
            "str" | "binary" | "timestamp" => return Value::String(text.to_string()),
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
        return Value::String(text.to_string());
    }
    if style != ScalarStyle::Plain || matches!(tag, Some(Tag::Other(_))) {
        return Value::String(text.to_string());
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
            resolve_number(text).unwrap_or_else(|| Value::String(text.to_string()))
        }
        _ => Value::String(text.to_string()),
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

/// yaml-rust2 as an [`EventSource`]: positions shifted by the line the chunk starts on.
/// (It measured a few percent faster than saphyr-parser through this builder: README "Performance".)
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
        let tag =
            |t: Option<yaml_rust2::parser::Tag>| t.map(|t| classify_tag(&t.handle, &t.suffix));
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

/// Parses YAML (or JSON) text. `line_offset` is added to every line number.
pub fn parse_str(
    text: &str,
    line_offset: u32,
    limits: Limits,
) -> Result<Vec<Document>, BuildError> {
    build_documents(&mut YamlRust2Source::new(text, line_offset), limits)
}
