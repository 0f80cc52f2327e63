//! Paths into an object (`spec.template.spec.containers[0]`): what a finding points at, what
//! rules return, what the reporters print. A leaf module: it depends on nothing of the crate.

use std::fmt;

/// One step of a path into an object: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(untagged)]
pub enum PathStep {
    Key(String),
    Index(usize),
}

impl fmt::Display for PathStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathStep::Key(k) => f.write_str(k),
            PathStep::Index(i) => write!(f, "{i}"),
        }
    }
}

/// Renders a path the way kubectl explain and most linters do: `spec.template.spec.containers[0]`.
/// Keys that are not plain identifiers are quoted: `metadata.annotations["seaworthy.dev/ignore"]`.
pub fn display_path(path: &[PathStep]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            PathStep::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
            PathStep::Key(k) => {
                let plain = !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if plain {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                } else {
                    out.push_str(&format!("[{}]", serde_json::Value::String(k.clone())));
                }
            }
        }
    }
    out
}
