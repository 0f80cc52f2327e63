//! Custom resources against the `openAPIV3Schema` of their CustomResourceDefinition, when the run
//! holds it: the keys the API server prunes (a key the schema does not declare where neither
//! `x-kubernetes-preserve-unknown-fields` nor `additionalProperties` keeps it) and values whose type
//! the schema does not allow. Only the structural part of a schema is read (`type`, `properties`,
//! `additionalProperties`, `items`, the `x-kubernetes-*` markers); value validations (`enum`,
//! `pattern`, CEL rules, ...) are the API server's business.

use std::collections::HashMap;

use super::{describe, suggest, Report, UnknownField, WrongType};
use crate::manifest::node::{Node, Value};
use crate::path::PathStep;

/// Every custom resource version defined in a run, by apiVersion and kind. A version that two
/// definitions in the run give different schemas (an old copy of a CRD beside the current one) is
/// None: which one the cluster has is unknown, so its resources are not checked.
#[derive(Debug, Default, Clone)]
///
/// The schemas are borrowed from the definitions' trees: the CRDs of a chart are often half the
/// bytes of a run, and a copy of their schemas was the largest allocation of lint's peak.
pub struct CrdSchemas<'a> {
    schemas: HashMap<(String, String), Option<Schema<'a>>>,
}

/// One version's schema and what the messages call it.
#[derive(Debug, Clone)]
pub(super) struct Schema<'a> {
    root: &'a Node,
    name: String,
}

impl<'a> CrdSchemas<'a> {
    /// The schemas of the `apiextensions.k8s.io/v1` CustomResourceDefinitions among `roots`.
    pub fn of(roots: impl IntoIterator<Item = &'a Node>) -> CrdSchemas<'a> {
        let mut schemas = HashMap::new();
        for root in roots {
            let is_crd = root.get("apiVersion").and_then(Node::as_str)
                == Some("apiextensions.k8s.io/v1")
                && root.get("kind").and_then(Node::as_str) == Some("CustomResourceDefinition");
            if !is_crd {
                continue;
            }
            let group = root.get_path(&["spec", "group"]).and_then(Node::as_str);
            let kind = root
                .get_path(&["spec", "names", "kind"])
                .and_then(Node::as_str);
            let (Some(group), Some(kind)) = (group, kind) else {
                continue;
            };
            let versions = root
                .get_path(&["spec", "versions"])
                .and_then(Node::as_seq)
                .unwrap_or_default();
            for version in versions {
                let name = version.get("name").and_then(Node::as_str);
                let schema = version.get_path(&["schema", "openAPIV3Schema"]);
                if let (Some(name), Some(schema)) = (name, schema) {
                    let api_version = format!("{group}/{name}");
                    let name = format!("{kind} {api_version} in its CustomResourceDefinition");
                    schemas
                        .entry((api_version, kind.to_string()))
                        .and_modify(|known: &mut Option<Schema>| {
                            if known
                                .as_ref()
                                .is_some_and(|k| k.root.to_json() != schema.to_json())
                            {
                                *known = None;
                            }
                        })
                        .or_insert_with(|| Some(Schema { root: schema, name }));
                }
            }
        }
        CrdSchemas { schemas }
    }

    pub(super) fn get(&self, api_version: &str, kind: &str) -> Option<&Schema<'a>> {
        self.schemas
            .get(&(api_version.to_string(), kind.to_string()))?
            .as_ref()
    }

    pub fn is_empty(&self) -> bool {
        self.schemas.is_empty()
    }
}

/// Checks a custom resource. The object's own `apiVersion`, `kind` and `metadata` are the API
/// server's, whatever the schema says of them (`metadata` is checked as ObjectMeta by the caller).
pub(super) fn check(root: &Node, schema: &Schema<'_>, report: &mut Report) {
    let Value::Map(entries) = &root.value else {
        return;
    };
    for entry in entries {
        if matches!(&*entry.key, "apiVersion" | "kind" | "metadata") {
            continue;
        }
        let path = vec![PathStep::Key(entry.key.to_string())];
        match property(schema.root, &entry.key) {
            Some(Some(child)) => walk(&entry.value, child, path, &schema.name, report),
            Some(None) => {}
            None => report
                .unknown_fields
                .push(unknown(path, schema.root, &schema.name)),
        }
    }
}

/// The schema of `key` in an object schema: Some(Some) declared or under `additionalProperties`,
/// Some(None) kept without a schema, None pruned.
fn property<'a>(schema: &'a Node, key: &str) -> Option<Option<&'a Node>> {
    if let Some(declared) = schema.get("properties").and_then(|p| p.get(key)) {
        return Some(Some(declared));
    }
    match schema.get("additionalProperties") {
        Some(Node {
            value: Value::Bool(false),
            ..
        }) => {}
        Some(Node {
            value: Value::Bool(true),
            ..
        }) => return Some(None),
        Some(
            additional @ Node {
                value: Value::Map(_),
                ..
            },
        ) => return Some(Some(additional)),
        _ => {}
    }
    if flag(schema, "x-kubernetes-preserve-unknown-fields") {
        return Some(None);
    }
    if flag(schema, "x-kubernetes-embedded-resource")
        && matches!(key, "apiVersion" | "kind" | "metadata")
    {
        return Some(None);
    }
    None
}

fn flag(schema: &Node, name: &str) -> bool {
    matches!(
        schema.get(name),
        Some(Node {
            value: Value::Bool(true),
            ..
        })
    )
}

fn walk(node: &Node, schema: &Node, path: Vec<PathStep>, name: &str, report: &mut Report) {
    if node.is_null() {
        return;
    }
    if flag(schema, "x-kubernetes-int-or-string") {
        if !matches!(node.value, Value::String(_)) && !is_integer(node) {
            report
                .wrong_types
                .push(wrong(path, node, "an integer or a string"));
        }
        return;
    }
    let declared = schema.get("type").and_then(Node::as_str);
    match (declared, &node.value) {
        (Some("object"), Value::Map(entries)) => {
            for entry in entries {
                let mut child_path = path.clone();
                child_path.push(PathStep::Key(entry.key.to_string()));
                match property(schema, &entry.key) {
                    Some(Some(child)) => walk(&entry.value, child, child_path, name, report),
                    Some(None) => {}
                    None => report
                        .unknown_fields
                        .push(unknown(child_path, schema, name)),
                }
            }
        }
        (Some("array"), Value::Seq(items)) => {
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    let mut child_path = path.clone();
                    child_path.push(PathStep::Index(index));
                    walk(item, item_schema, child_path, name, report);
                }
            }
        }
        (Some("string"), Value::String(_))
        | (Some("boolean"), Value::Bool(_))
        | (Some("number"), Value::Int(_) | Value::Float(_)) => {}
        (Some("integer"), _) if is_integer(node) => {}
        (Some(expected), _) => {
            let text = match expected {
                "object" => "an object",
                "array" => "a list",
                "string" => "a string",
                "boolean" => "true or false",
                "number" => "a number",
                "integer" => "an integer",
                _ => return,
            };
            report.wrong_types.push(wrong(path, node, text));
        }
        (None, _) => {}
    }
}

fn is_integer(node: &Node) -> bool {
    match node.value {
        Value::Int(_) => true,
        Value::Float(f) => f.fract() == 0.0,
        _ => false,
    }
}

fn wrong(path: Vec<PathStep>, node: &Node, expected: &str) -> WrongType {
    WrongType {
        path,
        found: describe(node),
        expected: Some(expected.to_string()),
        reason: None,
    }
}

fn unknown(path: Vec<PathStep>, schema: &Node, name: &str) -> UnknownField {
    let key = match path.last() {
        Some(PathStep::Key(key)) => key.as_str(),
        _ => "",
    };
    let known: Vec<&str> = schema
        .get("properties")
        .and_then(Node::as_map)
        .map(|entries| entries.iter().map(|e| &*e.key).collect())
        .unwrap_or_default();
    let suggestion = suggest(key, &known).map(str::to_string);
    UnknownField {
        path,
        holder: name.to_string(),
        suggestion,
        belongs: None,
    }
}
