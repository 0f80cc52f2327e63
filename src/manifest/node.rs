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

/// A node's value. Strings, sequences and mappings are boxed to their exact size: a tree lives for
/// most of a run and is a large part of its memory (a `Node` is 32 bytes, an `Entry` 56, where
/// growable `String`s and `Vec`s made them 40 and 72).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(Box<str>),
    Seq(Box<[Node]>),
    Map(Box<[Entry]>),
}

const _: () = assert!(std::mem::size_of::<Node>() == 32);
const _: () = assert!(std::mem::size_of::<Entry>() == 56);

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: Box<str>,
    pub key_span: Span,
    pub value: Node,
}

pub use crate::path::{display_path, PathStep};

/// Adds an entry at the end of a mapping: the rare edit of a finished tree (a list item's inferred
/// identity, an admission request's namespace).
pub fn push_entry(entries: &mut Box<[Entry]>, entry: Entry) {
    let mut grown = std::mem::take(entries).into_vec();
    grown.push(entry);
    *entries = grown.into_boxed_slice();
}

/// Removes every entry of a mapping with this key.
pub fn remove_key(entries: &mut Box<[Entry]>, key: &str) {
    let mut kept = std::mem::take(entries).into_vec();
    kept.retain(|e| &*e.key != key);
    *entries = kept.into_boxed_slice();
}

impl Node {
    pub fn new(value: Value, span: Span) -> Self {
        Node { value, span }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| &*e.key == key).map(|e| &e.value),
            _ => None,
        }
    }

    pub fn get_path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    /// The node at a path of keys and indices, if there is one.
    pub fn at(&self, path: &[PathStep]) -> Option<&Node> {
        path.iter().try_fold(self, |node, step| match step {
            PathStep::Key(key) => node.get(key),
            PathStep::Index(index) => node.as_seq().and_then(|items| items.get(*index)),
        })
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
                    .find(|e| *e.key == **k)
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
        match &self.value {
            Value::Null => regorus::Value::Null,
            Value::Bool(b) => regorus::Value::from(*b),
            Value::Int(i) => regorus::Value::from(*i),
            Value::Float(f) => regorus::Value::from(*f),
            Value::String(s) => rego_string(s),
            Value::Seq(items) => {
                regorus::Value::from(items.iter().map(Node::to_rego).collect::<Vec<_>>())
            }
            Value::Map(entries) => map_to_rego(entries.iter()),
        }
    }

    /// The identity of an object as an engine value: the `apiVersion`, `kind` and `metadata` of
    /// a mapping, converted as [`Node::to_rego`] does; nothing else of it.
    pub fn identity_to_rego(&self) -> regorus::Value {
        match &self.value {
            Value::Map(entries) => map_to_rego(
                entries
                    .iter()
                    .filter(|e| matches!(&*e.key, "apiVersion" | "kind" | "metadata")),
            ),
            _ => self.to_rego(),
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
            serde_json::Value::String(s) => Value::String(s.as_str().into()),
            serde_json::Value::Array(items) => {
                Value::Seq(items.iter().map(Node::from_json).collect())
            }
            serde_json::Value::Object(map) => Value::Map(
                map.iter()
                    .map(|(key, value)| Entry {
                        key: key.as_str().into(),
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
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.to_string(), e.value.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Keys longer than this are converted each time; shorter ones are shared (see [`rego_key`]).
const SHARED_KEY_MAX_LEN: usize = 48;

/// Distinct keys a thread keeps for sharing: the field names of every Kubernetes kind and of
/// typical custom resources fit many times over; past it, new keys are converted each time.
const SHARED_KEYS_MAX: usize = 8192;

thread_local! {
    static SHARED_KEYS: std::cell::RefCell<std::collections::HashMap<Box<str>, regorus::Value>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Mapping entries as an engine object keyed by strings.
fn map_to_rego<'a>(entries: impl Iterator<Item = &'a Entry>) -> regorus::Value {
    let map: std::collections::BTreeMap<regorus::Value, regorus::Value> = entries
        .map(|e| (rego_key(&e.key), e.value.to_rego()))
        .collect();
    regorus::Value::from(map)
}

/// A mapping key as an engine value. The same few hundred field names (`name`, `image`,
/// `containers`, `description`, ...) make up most keys of every object, so each thread converts
/// each once and shares it (a reference count) instead of allocating a string per key per
/// object: less memory for the converted objects and less time converting them.
fn rego_key(key: &str) -> regorus::Value {
    if key.len() > SHARED_KEY_MAX_LEN {
        return regorus::Value::from(key);
    }
    SHARED_KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        if let Some(value) = keys.get(key) {
            return value.clone();
        }
        let value = regorus::Value::from(key);
        if keys.len() < SHARED_KEYS_MAX {
            keys.insert(key.into(), value.clone());
        }
        value
    })
}

/// String values up to this length are shared through a small cache (see [`rego_string`]).
const SHARED_STRING_MAX_LEN: usize = 32;

/// Slots of each thread's cache of short string values.
const SHARED_STRING_SLOTS: usize = 4096;

thread_local! {
    static SHARED_STRINGS: std::cell::RefCell<Vec<regorus::Value>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// A string value as an engine value. Short values repeat across the objects of a run (`TCP`,
/// `IfNotPresent`, `Always`, label values, image names of a chart), so each thread keeps the last
/// one it converted for each of a fixed number of slots and shares it (a reference count) when the
/// same text comes again. Direct-mapped rather than a map that fills up: a run of unique names
/// replaces each other in their slots instead of crowding the repeated values out.
fn rego_string(text: &str) -> regorus::Value {
    use std::hash::BuildHasher;
    if text.len() > SHARED_STRING_MAX_LEN {
        return regorus::Value::from(text);
    }
    let hash = std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default().hash_one(text);
    // The remainder is below SHARED_STRING_SLOTS, so it fits a usize.
    let slot = (hash % SHARED_STRING_SLOTS as u64) as usize;
    SHARED_STRINGS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.is_empty() {
            cache.resize(SHARED_STRING_SLOTS, regorus::Value::Null);
        }
        if let regorus::Value::String(shared) = &cache[slot] {
            if **shared == *text {
                return cache[slot].clone();
            }
        }
        let value = regorus::Value::from(text);
        cache[slot] = value.clone();
        value
    })
}

/// A tree straight from a serde deserializer (an AdmissionReview's object as the webhook decodes
/// it), with no intermediate JSON value: every span is 0:0, as from [`Node::from_json`]. Numbers
/// read as that does (an integer that fits i64, else a float), and of repeated keys the last wins,
/// as in serde_json's own map, so both ways give the same tree.
impl<'de> serde::Deserialize<'de> for Node {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Node, D::Error> {
        deserializer
            .deserialize_any(NodeVisitor)
            .map(|value| Node::new(value, Span::default()))
    }
}

struct NodeVisitor;

impl<'de> serde::de::Visitor<'de> for NodeVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(match i64::try_from(u) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Float(u as f64),
        })
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.into()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s.into_boxed_str()))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items.into_boxed_slice()))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<Entry> = Vec::new();
        // Where each key is, once a mapping is too big to search for repeats one by one.
        let mut index: Option<std::collections::HashMap<Box<str>, usize>> = None;
        while let Some((key, value)) = map.next_entry::<String, Node>()? {
            let key = key.into_boxed_str();
            if entries.len() == 32 && index.is_none() {
                index = Some(
                    entries
                        .iter()
                        .enumerate()
                        .map(|(i, e)| (e.key.clone(), i))
                        .collect(),
                );
            }
            let repeated = match &mut index {
                Some(index) => match index.get(&key) {
                    Some(&at) => Some(at),
                    None => {
                        index.insert(key.clone(), entries.len());
                        None
                    }
                },
                None => entries.iter().position(|e| e.key == key),
            };
            match repeated {
                Some(at) => entries[at].value = value,
                None => entries.push(Entry {
                    key,
                    key_span: Span::default(),
                    value,
                }),
            }
        }
        Ok(Value::Map(entries.into_boxed_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many more distinct short strings than the cache has slots, converted in an order that
    /// makes them collide and return: each one converts to its own text, never to a slot's
    /// earlier occupant, and a string converted twice in a row is the same shared value.
    #[test]
    fn shared_string_values_are_always_the_text_converted() {
        let texts: Vec<String> = (0..3 * SHARED_STRING_SLOTS)
            .map(|i| format!("v{i}"))
            .collect();
        for round in 0..2 {
            for text in texts.iter().rev().skip(round) {
                let value = rego_string(text);
                assert_eq!(value.as_string().expect("a string").as_ref(), text.as_str());
                let again = rego_string(text);
                match (&value, &again) {
                    (regorus::Value::String(a), regorus::Value::String(b)) => {
                        assert!(std::sync::Arc::ptr_eq(a, b), "{text} is shared")
                    }
                    _ => panic!("strings"),
                }
            }
        }
        let long = "x".repeat(SHARED_STRING_MAX_LEN + 1);
        assert_eq!(
            rego_string(&long).as_string().expect("a string").as_ref(),
            long
        );
    }

    #[test]
    fn decoding_straight_into_a_tree_gives_the_tree_from_a_json_value() {
        let many_keys: String = (0..100).map(|i| format!("\"k{i}\": {i}, ")).collect();
        let text = format!(
            r#"{{"apiVersion": "v1", "kind": "Pod", "n": [1, -2, 3.5, 1.0, 18446744073709551615,
                null, true, "s", {{}}, []], "repeated": 1, "m": {{"a": {{"b": [{{"c": "d"}}]}}}},
                "repeated": 2, "big": {{ {many_keys} "k7": "again" }}}}"#
        );
        let decoded: Node = serde_json::from_str(&text).expect("decodes");
        let value: serde_json::Value = serde_json::from_str(&text).expect("parses");
        assert_eq!(decoded, Node::from_json(&value));
        assert_eq!(
            decoded.get("repeated").map(|n| n.value.clone()),
            Some(Value::Int(2)),
            "the last of repeated keys wins, at the first one's place"
        );
        let big = decoded.get("big").and_then(Node::as_map).expect("a map");
        assert_eq!(big.len(), 100, "a repeat in a large mapping is found too");
        assert_eq!(big[7].value.as_str(), Some("again"));
        assert_eq!(
            decoded.at(&[
                PathStep::Key("m".into()),
                PathStep::Key("a".into()),
                PathStep::Key("b".into()),
                PathStep::Index(0),
                PathStep::Key("c".into()),
            ]),
            Some(&Node::new(Value::String("d".into()), Span::default()))
        );
    }
}
