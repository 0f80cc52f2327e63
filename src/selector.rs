//! Kubernetes label selectors, implemented once for every rule and exemption that needs them.
//!
//! The API's semantics, which peers often get wrong:
//! - every `matchLabels` pair and every `matchExpressions` requirement must hold (AND);
//! - `In` needs the key with one of the values; `NotIn` also matches pods without the key;
//!   `Exists` / `DoesNotExist` look at the key only;
//! - an empty selector (`{}`) selects everything in the namespace, a missing (null) one nothing
//!   (except where an API says otherwise: see the callers);
//! - a selector the API server would reject (unknown operator, `In` without values, `Exists` with
//!   values) selects nothing here.

use std::collections::BTreeMap;

use regorus::Value as RegoValue;
use serde::Deserialize;

use crate::manifest::node::{Node, Value};

pub type Labels = BTreeMap<String, String>;

/// A label selector (`matchLabels` and `matchExpressions`).
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default, deserialize_with = "null_as_default")]
    pub match_labels: Labels,
    #[serde(default, deserialize_with = "null_as_default")]
    pub match_expressions: Vec<SelectorRequirement>,
}

/// Go decodes `null` as "unset": a template that renders `matchLabels:` with nothing under it
/// leaves an empty selector, not a broken one.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SelectorRequirement {
    pub key: String,
    pub operator: SelectorOperator,
    #[serde(default, deserialize_with = "null_as_default")]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub enum SelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelector {
    /// True when the labels satisfy every requirement. An empty selector matches everything.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|req| {
                let value = labels.get(&req.key);
                match req.operator {
                    SelectorOperator::In => value.is_some_and(|v| req.values.contains(v)),
                    SelectorOperator::NotIn => value.is_none_or(|v| !req.values.contains(v)),
                    SelectorOperator::Exists => value.is_some(),
                    SelectorOperator::DoesNotExist => value.is_none(),
                }
            })
    }

    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// Why the API server would reject this selector, if it would.
    pub fn problem(&self) -> Option<String> {
        self.match_expressions.iter().find_map(|req| {
            let has_values = !req.values.is_empty();
            match req.operator {
                SelectorOperator::In | SelectorOperator::NotIn if !has_values => Some(format!(
                    "matchExpressions on {:?}: {:?} needs values",
                    req.key, req.operator
                )),
                SelectorOperator::Exists | SelectorOperator::DoesNotExist if has_values => {
                    Some(format!(
                        "matchExpressions on {:?}: {:?} takes no values",
                        req.key, req.operator
                    ))
                }
                _ => None,
            }
        })
    }

    /// Reads a selector from an object: `None` when it is missing, null or not one the API would
    /// accept (so it selects nothing).
    pub fn from_rego(value: &RegoValue) -> Option<LabelSelector> {
        if !matches!(value, RegoValue::Object(_)) {
            return None;
        }
        let json = serde_json::to_value(value).ok()?;
        let selector: LabelSelector = serde_json::from_value(json).ok()?;
        selector.problem().is_none().then_some(selector)
    }
}

/// The string labels of an engine value (anything else is left out, as the API would reject it).
pub fn labels_from_rego(value: &RegoValue) -> Labels {
    match value {
        RegoValue::Object(map) => map
            .iter()
            .filter_map(|(k, v)| match (k, v) {
                (RegoValue::String(k), RegoValue::String(v)) => {
                    Some((k.to_string(), v.to_string()))
                }
                _ => None,
            })
            .collect(),
        _ => Labels::new(),
    }
}

/// The string labels of a mapping node (non-string values are ignored, as the API would reject them).
pub fn labels_of(node: Option<&Node>) -> Labels {
    let mut out = Labels::new();
    if let Some(entries) = node.and_then(Node::as_map) {
        for e in entries {
            if let Value::String(s) = &e.value.value {
                out.insert(e.key.to_string(), s.to_string());
            }
        }
    }
    out
}
