//! Deciding which findings stand: config exemptions (namespace, kind, name glob, label selector,
//! container, each with a reason) and the object annotation `seaworthy.dev/ignore`.
//! Loading problems (`invalid-manifest`) are never suppressed: there is no object to excuse.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::config::Exemption;
use crate::finding::Finding;
use crate::manifest::node::{Node, Value};
use crate::manifest::{Object, INVALID_MANIFEST};

pub const IGNORE_ANNOTATION: &str = "seaworthy.dev/ignore";
pub const IGNORE_REASON_ANNOTATION: &str = "seaworthy.dev/ignore-reason";

/// A Kubernetes label selector (`matchLabels` and `matchExpressions`).
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub match_expressions: Vec<SelectorRequirement>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SelectorRequirement {
    pub key: String,
    pub operator: SelectorOperator,
    #[serde(default)]
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
    /// An empty selector matches everything, as in the Kubernetes API.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
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
}

/// The string labels of a mapping node (non-string values are ignored, as the API would reject them).
pub fn labels_of(node: Option<&Node>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(entries) = node.and_then(Node::as_map) {
        for e in entries {
            if let Value::String(s) = &e.value.value {
                out.insert(e.key.clone(), s.clone());
            }
        }
    }
    out
}

fn glob_matches(pattern: &str, text: &str) -> bool {
    glob::Pattern::new(pattern)
        .map(|p| p.matches(text))
        .unwrap_or(pattern == text)
}

impl Exemption {
    /// True when every criterion given matches the finding and its object.
    pub fn covers(&self, finding: &Finding, object: &Object) -> bool {
        let id = &object.id;
        let any = |list: &Option<Vec<String>>, f: &dyn Fn(&String) -> bool| {
            list.as_ref().is_none_or(|l| l.iter().any(f))
        };
        any(&self.rules, &|r| *r == finding.rule)
            && any(&self.namespaces, &|n| {
                Some(n.as_str()) == crate::inventory::effective_namespace(id)
            })
            && any(&self.kinds, &|k| *k == id.kind)
            && any(&self.names, &|g| {
                id.name.as_deref().is_some_and(|name| glob_matches(g, name))
            })
            && self
                .selector
                .as_ref()
                .is_none_or(|s| s.matches(&labels_of(object.labels())))
            && match &self.containers {
                None => true,
                Some(names) => crate::workload::container_at(&object.root, &finding.path)
                    .is_some_and(|c| names.contains(&c)),
            }
    }
}

/// The rules an object's `seaworthy.dev/ignore` annotation names (`"rule-a, rule-b"`; `*` for all).
fn ignored_by_annotation(object: &Object, rule: &str) -> bool {
    object.annotation(IGNORE_ANNOTATION).is_some_and(|list| {
        list.split([',', ' '])
            .map(str::trim)
            .any(|r| r == rule || r == "*")
    })
}

pub struct Suppressor<'a> {
    pub exemptions: &'a [Exemption],
    pub allow_annotations: bool,
}

impl Suppressor<'_> {
    /// Marks suppressed findings with the reason; they stay in the list for `--show-suppressed`.
    pub fn apply(&self, findings: &mut [Finding], objects: &[Object]) {
        for finding in findings.iter_mut() {
            if finding.rule == INVALID_MANIFEST {
                continue;
            }
            let Some(object) = finding.subject.and_then(|i| objects.get(i)) else {
                continue;
            };
            if self.allow_annotations && ignored_by_annotation(object, &finding.rule) {
                let reason = object
                    .annotation(IGNORE_REASON_ANNOTATION)
                    .unwrap_or("no reason given");
                finding.suppressed = Some(format!("annotation {IGNORE_ANNOTATION}: {reason}"));
            } else if let Some(ex) = self.exemptions.iter().find(|ex| ex.covers(finding, object)) {
                finding.suppressed = Some(format!("config exemption: {}", ex.reason));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn req(key: &str, operator: SelectorOperator, values: &[&str]) -> SelectorRequirement {
        SelectorRequirement {
            key: key.into(),
            operator,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn selector_semantics() {
        use SelectorOperator::*;
        let pod = labels(&[("app", "web"), ("tier", "front")]);
        let cases: Vec<(LabelSelector, bool)> = vec![
            (LabelSelector::default(), true),
            (
                LabelSelector {
                    match_labels: labels(&[("app", "web")]),
                    ..Default::default()
                },
                true,
            ),
            (
                LabelSelector {
                    match_labels: labels(&[("app", "db")]),
                    ..Default::default()
                },
                false,
            ),
            (
                LabelSelector {
                    match_expressions: vec![req("tier", In, &["front", "back"])],
                    ..Default::default()
                },
                true,
            ),
            (
                LabelSelector {
                    match_expressions: vec![req("tier", NotIn, &["front"])],
                    ..Default::default()
                },
                false,
            ),
            (
                LabelSelector {
                    match_expressions: vec![req("zone", NotIn, &["a"])],
                    ..Default::default()
                },
                true,
            ),
            (
                LabelSelector {
                    match_expressions: vec![req("app", Exists, &[])],
                    ..Default::default()
                },
                true,
            ),
            (
                LabelSelector {
                    match_expressions: vec![req("app", DoesNotExist, &[])],
                    ..Default::default()
                },
                false,
            ),
            (
                LabelSelector {
                    match_expressions: vec![req("zone", In, &["a"])],
                    ..Default::default()
                },
                false,
            ),
        ];
        for (i, (selector, expected)) in cases.iter().enumerate() {
            assert_eq!(selector.matches(&pod), *expected, "case {i}: {selector:?}");
        }
    }

    #[test]
    fn name_globs() {
        assert!(glob_matches("node-exporter*", "node-exporter-abc"));
        assert!(!glob_matches("node-exporter*", "exporter"));
        assert!(glob_matches("web", "web"));
    }
}
