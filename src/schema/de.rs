//! A serde `Deserializer` over the loader's [`Node`] tree that the k8s-openapi types read as the API
//! server's decoder would, and that notes on the way what the types do not read. Reading the tree
//! directly (rather than a JSON copy through `serde_ignored` and `serde_path_to_error`) keeps every
//! path exact, avoids a copy of each object, and lets the check see the names of the fields a type
//! knows (serde hands them to `deserialize_struct`), which is where the suggestions come from.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use crate::manifest::node::{Entry, Node, Value};
use crate::path::PathStep;

/// A key the type at its place does not know: the API server drops it (or, with strict field
/// validation, rejects the object).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Unknown {
    pub path: Vec<PathStep>,
    /// The name of the type that holds the key (`Container`).
    pub holder: &'static str,
    /// The fields that type knows.
    pub known: &'static [&'static str],
}

/// Why a value could not be read: the first problem of one pass, with where it is.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Error {
    pub path: Option<Vec<PathStep>>,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Problem {
    /// The value has a type the field does not take; both as serde describes them
    /// (`string "3"`, `i32`).
    WrongType { found: String, expected: String },
    /// The value has the right type but cannot be read (a malformed timestamp or base64 text).
    Invalid(String),
}

impl Error {
    /// The error placed at `at` unless a deeper value already placed it.
    fn at(mut self, at: &Segment<'_>) -> Error {
        if self.path.is_none() {
            self.path = Some(at.to_path());
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::WrongType { found, expected } => {
                write!(f, "invalid type: {found}, expected {expected}")
            }
            Problem::Invalid(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Error {
            path: None,
            problem: Problem::Invalid(message.to_string()),
        }
    }

    fn invalid_type(found: de::Unexpected<'_>, expected: &dyn de::Expected) -> Self {
        Error {
            path: None,
            problem: Problem::WrongType {
                found: found.to_string(),
                expected: expected.to_string(),
            },
        }
    }
}

/// Where a value is, as a chain of borrowed steps: a path is only built when something is found.
pub(super) enum Segment<'s> {
    Root,
    Key(&'s Segment<'s>, &'s str),
    Index(&'s Segment<'s>, usize),
}

impl Segment<'_> {
    fn to_path(&self) -> Vec<PathStep> {
        let mut steps = Vec::new();
        let mut at = self;
        loop {
            match at {
                Segment::Root => break,
                Segment::Key(parent, key) => {
                    steps.push(PathStep::Key((*key).to_string()));
                    at = parent;
                }
                Segment::Index(parent, index) => {
                    steps.push(PathStep::Index(*index));
                    at = parent;
                }
            }
        }
        steps.reverse();
        steps
    }
}

/// The type whose fields a mapping holds: its name and the names of its fields.
type Holder = (&'static str, &'static [&'static str]);

/// One node to read, where it is, and where unknown keys are noted.
pub(super) struct De<'s> {
    pub node: &'s Node,
    pub at: &'s Segment<'s>,
    pub unknown: &'s RefCell<Vec<Unknown>>,
    /// Set when the node is a value in a mapping that a struct reads: then a value the struct
    /// skips (serde's `IgnoredAny`) is under a key the struct does not know.
    pub holder: Option<Holder>,
}

impl De<'_> {
    fn child<'c>(&'c self, node: &'c Node, at: &'c Segment<'c>, holder: Option<Holder>) -> De<'c> {
        De {
            node,
            at,
            unknown: self.unknown,
            holder,
        }
    }
}

/// A number that is a whole number, as the API server reads it (YAML `3.0` arrives as JSON `3`).
fn whole(f: f64) -> Option<i64> {
    const LIMIT: f64 = 9.007_199_254_740_992e15; // 2^53: beyond it a float is no exact integer
    (f.fract() == 0.0 && f.abs() <= LIMIT).then_some(f as i64)
}

impl<'de> de::Deserializer<'de> for De<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let result = match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => match whole(*f) {
                Some(i) => visitor.visit_i64(i),
                None => visitor.visit_f64(*f),
            },
            Value::String(s) => visitor.visit_str(s),
            Value::Seq(items) => visitor.visit_seq(SeqDe {
                items: items.iter().enumerate(),
                parent: &self,
            }),
            Value::Map(entries) => visitor.visit_map(MapDe {
                entries: entries.iter(),
                current: None,
                parent: &self,
                holder: None,
            }),
        };
        result.map_err(|e| e.at(self.at))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.node.is_null() {
            return visitor.visit_none();
        }
        let at = self.at;
        visitor.visit_some(self).map_err(|e| e.at(at))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let at = self.at;
        visitor.visit_newtype_struct(self).map_err(|e| e.at(at))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Map(entries) => visitor
                .visit_map(MapDe {
                    entries: entries.iter(),
                    current: None,
                    parent: &self,
                    holder: Some((name, fields)),
                })
                .map_err(|e| e.at(self.at)),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if let Some((holder, known)) = self.holder {
            self.unknown.borrow_mut().push(Unknown {
                path: self.at.to_path(),
                holder,
                known,
            });
        }
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map enum identifier
    }
}

struct SeqDe<'a, 's> {
    items: std::iter::Enumerate<std::slice::Iter<'s, Node>>,
    parent: &'a De<'s>,
}

impl<'de> de::SeqAccess<'de> for SeqDe<'_, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some((index, node)) = self.items.next() else {
            return Ok(None);
        };
        let at = Segment::Index(self.parent.at, index);
        seed.deserialize(self.parent.child(node, &at, None))
            .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapDe<'a, 's> {
    entries: std::slice::Iter<'s, Entry>,
    current: Option<&'s Entry>,
    parent: &'a De<'s>,
    holder: Option<Holder>,
}

impl<'de> de::MapAccess<'de> for MapDe<'_, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        self.current = Some(entry);
        let key: de::value::StrDeserializer<'_, Error> = (*entry.key).into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let Some(entry) = self.current.take() else {
            return Err(de::Error::custom("a value was read before its key"));
        };
        let at = Segment::Key(self.parent.at, &entry.key);
        seed.deserialize(self.parent.child(&entry.value, &at, self.holder))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}
