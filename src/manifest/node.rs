//! The document tree every later stage reads: plain JSON-like values, each node with its source span.

/// A position in a source file, 1-based line and column (column counted in characters, as editors do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
pub struct Span {
    pub line: u32,
    pub column: u32,
}

impl Span {
    pub fn new(line: u32, column: u32) -> Self {
        Span { line, column }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

pub use crate::path::{display_path, PathStep};

impl Node {
    pub fn new(value: Value, span: Span) -> Self {
        Node { value, span }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key).map(|e| &e.value),
            _ => None,
        }
    }

    pub fn get_path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The position a finding at `path` should point at: the key of the deepest mapping entry or the
    /// deepest sequence item that exists. A missing field resolves to its nearest existing parent,
    /// so "container has no readinessProbe" points at the container.
    pub fn locate(&self, path: &[PathStep]) -> Span {
        let mut node = self;
        let mut span = self.span;
        for step in path {
            let next = match (step, &node.value) {
                (PathStep::Key(k), Value::Map(entries)) => entries
                    .iter()
                    .rev()
                    .find(|e| &e.key == k)
                    .map(|e| (e.key_span, &e.value)),
                (PathStep::Index(i), Value::Seq(items)) => items.get(*i).map(|n| (n.span, n)),
                _ => None,
            };
            match next {
                Some((s, child)) => {
                    span = s;
                    node = child;
                }
                None => break,
            }
        }
        span
    }

    /// Number of nodes in this subtree, used to bound alias expansion.
    pub fn size(&self) -> usize {
        match &self.value {
            Value::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            Value::Map(entries) => 1 + entries.iter().map(|e| 1 + e.value.size()).sum::<usize>(),
            _ => 1,
        }
    }

    /// Converts to the value type of the Rego engine. Mappings become objects keyed by strings.
    pub fn to_rego(&self) -> regorus::Value {
        use std::collections::BTreeMap;
        match &self.value {
            Value::Null => regorus::Value::Null,
            Value::Bool(b) => regorus::Value::from(*b),
            Value::Int(i) => regorus::Value::from(*i),
            Value::Float(f) => regorus::Value::from(*f),
            Value::String(s) => regorus::Value::from(s.as_str()),
            Value::Seq(items) => {
                regorus::Value::from(items.iter().map(Node::to_rego).collect::<Vec<_>>())
            }
            Value::Map(entries) => {
                let map: BTreeMap<regorus::Value, regorus::Value> = entries
                    .iter()
                    .map(|e| (regorus::Value::from(e.key.as_str()), e.value.to_rego()))
                    .collect();
                regorus::Value::from(map)
            }
        }
    }

    /// A tree from JSON that has no source text (an AdmissionReview's object): every span is 0:0.
    pub fn from_json(value: &serde_json::Value) -> Node {
        let value = match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => {
                Value::Seq(items.iter().map(Node::from_json).collect())
            }
            serde_json::Value::Object(map) => Value::Map(
                map.iter()
                    .map(|(key, value)| Entry {
                        key: key.clone(),
                        key_span: Span::default(),
                        value: Node::from_json(value),
                    })
                    .collect(),
            ),
        };
        Node::new(value, Span::default())
    }

    /// Converts to a serde_json value (used for config deserialisation and JSON output).
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }
}
