//! Baselines: `--write-baseline FILE` records the findings of today, `--baseline FILE` then reports
//! only new ones, so a team can adopt seaworthy on an existing repository and fail only on what it
//! adds.
//!
//! A finding is recognised by its fingerprint: the rule, the object (kind, namespace, name) and
//! the field path, where list items that have a name (containers, volumes, ports) are named rather
//! than numbered. Lines moving, documents reordered or files split leave it unchanged; a new
//! violation, or the same one on another container or object, does not match.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::finding::Finding;
use crate::manifest::node::{Node, PathStep};
use crate::manifest::{Object, INVALID_MANIFEST};

const FORMAT_VERSION: u32 = 1;

/// Input that cannot be read or rendered is never accepted: it hides everything in it.
fn is_broken_input(finding: &Finding) -> bool {
    finding.rule == INVALID_MANIFEST || finding.rule == crate::finding::RENDER_ERROR
}

/// The identity of a finding across edits (see the module doc).
pub fn fingerprint(finding: &Finding, object: Option<&Object>) -> String {
    let Some(object) = object else {
        // No object (a file that cannot be read): the file and rule are all there is.
        return format!("{}|{}", finding.rule, finding.location.file);
    };
    let id = &object.id;
    let namespace = crate::inventory::effective_namespace(id).unwrap_or("");
    format!(
        "{}|{}|{}|{}|{}",
        finding.rule,
        id.kind,
        namespace,
        id.name.as_deref().unwrap_or(""),
        stable_path(&object.root, &finding.path)
    )
}

/// `spec.template.spec.containers[name=web].resources`: indices replaced by the item's name when
/// it has one, so reordering a list keeps the fingerprint.
fn stable_path(root: &Node, path: &[PathStep]) -> String {
    let mut out = String::new();
    let mut node = Some(root);
    for step in path {
        match step {
            PathStep::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
                node = node.and_then(|n| n.get(k));
            }
            PathStep::Index(i) => {
                let item = node
                    .and_then(|n| n.as_seq())
                    .and_then(|items| items.get(*i));
                match item.and_then(|n| n.get("name")).and_then(Node::as_str) {
                    Some(name) => out.push_str(&format!("[name={name}]")),
                    None => out.push_str(&format!("[{i}]")),
                }
                node = item;
            }
        }
    }
    out
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    fingerprint: String,
    rule: String,
    /// For a reader of the file: which object and what was wrong.
    #[serde(default)]
    object: String,
    #[serde(default)]
    message: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct File {
    seaworthy_baseline: u32,
    findings: Vec<Entry>,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline {path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: not a seaworthy baseline: {message}")]
    Invalid { path: String, message: String },
    #[error("cannot write baseline {path}: {message}")]
    Write { path: String, message: String },
}

/// The accepted findings: fingerprint → how many times.
#[derive(Debug, Default)]
pub struct Baseline {
    name: String,
    counts: HashMap<String, usize>,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| BaselineError::Read {
            path: name.clone(),
            message: e.to_string(),
        })?;
        let file: File = serde_json::from_str(&text).map_err(|e| BaselineError::Invalid {
            path: name.clone(),
            message: e.to_string(),
        })?;
        if file.seaworthy_baseline != FORMAT_VERSION {
            return Err(BaselineError::Invalid {
                path: name,
                message: format!(
                    "format version {} (this seaworthy reads {FORMAT_VERSION})",
                    file.seaworthy_baseline
                ),
            });
        }
        let mut counts = HashMap::new();
        for entry in file.findings {
            *counts.entry(entry.fingerprint).or_insert(0) += 1;
        }
        Ok(Baseline { name, counts })
    }

    /// Marks every finding the baseline accepts as suppressed (each entry covers one finding).
    /// Returns how many were matched.
    pub fn apply(&self, findings: &mut [Finding]) -> usize {
        let mut left = self.counts.clone();
        let mut matched = 0;
        for finding in findings.iter_mut() {
            if finding.suppressed.is_some() || is_broken_input(finding) {
                continue;
            }
            if let Some(count) = left.get_mut(&finding.fingerprint).filter(|c| **c > 0) {
                *count -= 1;
                matched += 1;
                finding.suppressed = Some(format!("in baseline {}", self.name));
            }
        }
        matched
    }
}

/// Writes the active findings (not suppressed, not unreadable input) as a baseline file.
pub fn write(path: &Path, findings: &[Finding]) -> Result<usize, BaselineError> {
    let entries: Vec<Entry> = findings
        .iter()
        .filter(|f| f.suppressed.is_none() && !is_broken_input(f))
        .map(|f| Entry {
            fingerprint: f.fingerprint.clone(),
            rule: f.rule.clone(),
            object: f.object.as_ref().map(|o| o.to_string()).unwrap_or_default(),
            message: f.message.clone(),
        })
        .collect();
    let count = entries.len();
    let file = File {
        seaworthy_baseline: FORMAT_VERSION,
        findings: entries,
    };
    let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
    text.push('\n');
    std::fs::write(path, text).map_err(|e| BaselineError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(count)
}
