//! What every stage produces and every reporter prints.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::path::PathStep;

/// The file name findings in standard input carry.
pub const STDIN_NAME: &str = "<stdin>";
/// A Helm chart or kustomization that could not be rendered (not a Rego rule).
pub const RENDER_ERROR: &str = "render-error";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Notice,
    Warning,
    Error,
}

impl Severity {
    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "notice" => Some(Severity::Notice),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Notice => "notice",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which object a finding is about, as Kubernetes names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        match (&self.namespace, &self.name) {
            (Some(ns), Some(name)) => write!(f, " {ns}/{name}"),
            (None, Some(name)) => write!(f, " {name}"),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub column: u32,
    /// The field the finding is about, `spec.template.spec.containers[0]`; empty for the whole document.
    pub path: String,
    /// The Helm template the object came from (`# Source:` marker in rendered output), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Which render of a `--helm` chart the finding comes from: the values file(s) it was rendered
    /// with (`values-prod.yaml`), or "default values".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub render: Option<String>,
    /// For `--helm` and `--kustomize` inputs, the position in the rendered output. `file`, `line`
    /// and `column` then point into the template when the finding could be mapped back to it, and
    /// equal this position when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered: Option<Position>,
    /// A file on disk to attach the finding to when `file` is rendered output that exists nowhere
    /// (the chart's Chart.yaml, the kustomization): reports that must name a real file use it.
    #[serde(skip)]
    pub artifact: Option<String>,
}

impl Location {
    /// A location at a file's line and column, with no field, template or render.
    pub fn at(file: &str, line: u32, column: u32) -> Location {
        Location {
            file: file.to_string(),
            line,
            column,
            path: String::new(),
            template: None,
            render: None,
            rendered: None,
            artifact: None,
        }
    }

    /// The file, line and column of a file on disk that this location is in or stands for, if
    /// any: the location itself, or (for rendered output that could not be mapped to a template)
    /// the start of the file it was rendered from; none for standard input.
    pub fn on_disk(&self) -> Option<(&str, u32, u32)> {
        match &self.artifact {
            Some(artifact) => Some((artifact, 1, 1)),
            None if self.file == STDIN_NAME
                || self.rendered.as_ref().is_some_and(|r| r.file == self.file) =>
            {
                None
            }
            None => Some((&self.file, self.line.max(1), self.column.max(1))),
        }
    }
}

/// A file, line and column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    pub object: Option<ObjectRef>,
    pub location: Location,
    /// Path steps behind `location.path`, for exemptions by container and for fingerprints.
    #[serde(skip)]
    pub path: Vec<PathStep>,
    /// Index of the object in the lint run (for suppressions that read the object), if any.
    #[serde(skip)]
    pub subject: Option<usize>,
    /// The finding's identity across edits (see `baseline::fingerprint`); set at the end of a run.
    #[serde(skip)]
    pub fingerprint: String,
    /// Why the finding was suppressed, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
}

impl Finding {
    /// Stable order for every report: file, line, column, rule.
    pub fn sort_key(&self) -> (&str, u32, u32, &str, &str) {
        (
            &self.location.file,
            self.location.line,
            self.location.column,
            &self.rule,
            &self.message,
        )
    }
}
