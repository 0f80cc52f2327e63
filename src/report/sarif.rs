//! SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it: one `tool.driver.rules`
//! entry per rule of the catalog (and per problem the loader and engine report themselves), one
//! result per finding with a physical location relative to the working directory, so the
//! annotation lands on the right line.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;
use serde_json::{json, Value};

use crate::engine::Rule;
use crate::finding::{Finding, Position, Severity};
use crate::lint::{Outcome, POLICY_ERROR};
use crate::manifest::{DUPLICATE_KEY, INVALID_MANIFEST};
use crate::render::RENDER_ERROR;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/seaworthy-dev/seaworthy";
/// The rule reference (`docs/rules.md`, one `## <id>` section per rule) of the built-in rules, as
/// published with the project: each built-in rule's `helpUri` is this with `#<id>`.
pub const RULES_DOC_URL: &str =
    "https://github.com/seaworthy-dev/seaworthy/blob/main/docs/rules.md";

/// Areas whose rules guard against attack rather than outage: their rules carry the `security`
/// tag and a `security-severity`, which GitHub code scanning needs to file them as security
/// alerts and sorts them by.
const SECURITY_AREAS: [&str; 3] = ["security", "hardening", "network"];

/// GitHub's scale: 9.0 and up critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low. A rule's default
/// severity says how bad a breach is (the Pod Security baseline controls, which let a pod reach
/// the node, are errors; the restricted ones warnings), so it maps to one band each. None outside
/// the security areas.
fn security_severity(area: &str, severity: Severity) -> Option<&'static str> {
    if !SECURITY_AREAS.contains(&area) {
        return None;
    }
    Some(match severity {
        Severity::Error => "8.0",
        Severity::Warning => "5.5",
        Severity::Notice => "2.0",
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Notice => "note",
    }
}

/// A driver rule entry.
struct Descriptor {
    id: String,
    short: String,
    full: String,
    help: String,
    severity: Severity,
    tags: Vec<String>,
    help_uri: Option<String>,
    security_severity: Option<&'static str>,
}

/// Where a rule's documentation is: `rules_doc_url#<id>` for every rule when the user names the
/// page (a mirror, or the reference generated with their own policies by `seaworthy rules --format
/// markdown`), else the project's page for built-in rules only (a user's policy has no section
/// there).
fn help_uri(rule: &Rule, rules_doc_url: Option<&str>) -> Option<String> {
    match rules_doc_url {
        Some(url) => Some(format!("{url}#{}", rule.meta.id)),
        None if rule.builtin => Some(format!("{RULES_DOC_URL}#{}", rule.meta.id)),
        None => None,
    }
}

fn descriptors(rules: &[Rule], rules_doc_url: Option<&str>) -> Vec<Descriptor> {
    let mut out: Vec<Descriptor> = rules
        .iter()
        .map(|r| {
            let security_severity = security_severity(&r.meta.area, r.meta.severity);
            let mut tags = Vec::new();
            if security_severity.is_some() && r.meta.area != "security" {
                tags.push("security".to_string());
            }
            tags.push(r.meta.area.clone());
            if let Some(level) = &r.meta.level {
                tags.push(format!("pod-security-{level}"));
            }
            Descriptor {
                id: r.meta.id.clone(),
                short: r.meta.summary.clone(),
                full: format!("{} {}", capitalized(&r.doc.what), capitalized(&r.doc.why))
                    .trim()
                    .to_string(),
                help: help_text(r),
                severity: r.meta.severity,
                tags,
                help_uri: help_uri(r, rules_doc_url),
                security_severity,
            }
        })
        .collect();
    let remediations = super::remediations(&[]);
    for (id, short) in [
        (
            INVALID_MANIFEST,
            "Document cannot be read as a Kubernetes object",
        ),
        (DUPLICATE_KEY, "Mapping repeats a key"),
        (POLICY_ERROR, "A rule failed to evaluate on an object"),
        (
            RENDER_ERROR,
            "A Helm chart or kustomization failed to render",
        ),
    ] {
        out.push(Descriptor {
            id: id.to_string(),
            short: short.to_string(),
            full: short.to_string(),
            help: remediations.get(id).cloned().unwrap_or_default(),
            severity: Severity::Error,
            tags: vec!["input".to_string()],
            help_uri: None,
            security_severity: None,
        });
    }
    out
}

/// The doc sections read as continuations of "What it does:", "Why:"; standalone they need a capital.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The help shown beside an alert: the remediation, then the doc's fix and its example.
fn help_text(rule: &Rule) -> String {
    let mut help = rule.meta.remediation.clone();
    if !rule.doc.fix.is_empty() {
        help.push_str("\n\n");
        help.push_str(&capitalized(&rule.doc.fix));
    }
    if !rule.doc.example.is_empty() {
        help.push_str("\n\nExample:\n");
        help.push_str(&rule.doc.example);
    }
    help
}

/// The artifact URI of a finding's file: relative to `base` when it lies below it, with forward
/// slashes, percent-encoded as a URI reference.
pub fn artifact_uri(file: &str, base: &Path) -> String {
    let path = Path::new(file);
    let relative = if path.is_absolute() {
        path.strip_prefix(base).unwrap_or(path)
    } else {
        path.strip_prefix(".").unwrap_or(path)
    };
    let text = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|c| c != "/")
        .collect::<Vec<_>>()
        .join("/");
    let mut uri = String::with_capacity(text.len());
    if path.is_absolute() && relative == path {
        uri.push_str("file:///");
    }
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(byte as char)
            }
            other => uri.push_str(&format!("%{other:02X}")),
        }
    }
    uri
}

// The report, typed: it holds one result per finding (29k on the bench corpus), and as JSON
// values (maps that keep their keys' order) they took several times the bytes of the report.
// Fields are in the order the SARIF of earlier builds printed them; the report is byte-identical.

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'a str,
    version: &'a str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: [Invocation; 1],
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

/// The rules' descriptors stay JSON values: one per rule, a few dozen.
#[derive(Serialize)]
struct Driver<'a> {
    name: &'a str,
    version: &'a str,
    #[serde(rename = "informationUri")]
    information_uri: &'a str,
    rules: Vec<Value>,
}

#[derive(Serialize)]
struct Invocation {
    #[serde(rename = "executionSuccessful")]
    execution_successful: bool,
}

#[derive(Serialize)]
struct SarifResult<'a> {
    #[serde(rename = "ruleId")]
    rule_id: &'a str,
    level: &'static str,
    message: Text<'a>,
    locations: [SarifLocation<'a>; 1],
    #[serde(
        rename = "partialFingerprints",
        skip_serializing_if = "Option::is_none"
    )]
    partial_fingerprints: Option<Fingerprints<'a>>,
    #[serde(rename = "ruleIndex", skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    #[serde(skip_serializing_if = "Properties::is_empty")]
    properties: Properties<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressions: Option<[Suppression<'a>; 1]>,
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct SarifLocation<'a> {
    #[serde(rename = "physicalLocation", skip_serializing_if = "Option::is_none")]
    physical: Option<PhysicalLocation>,
    #[serde(rename = "logicalLocations", skip_serializing_if = "Option::is_none")]
    logical: Option<[LogicalLocation<'a>; 1]>,
}

#[derive(Serialize)]
struct PhysicalLocation {
    #[serde(rename = "artifactLocation")]
    artifact: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
struct Region {
    #[serde(rename = "startLine")]
    start_line: u32,
    #[serde(rename = "startColumn")]
    start_column: u32,
}

#[derive(Serialize)]
struct LogicalLocation<'a> {
    #[serde(rename = "fullyQualifiedName")]
    fully_qualified_name: String,
    kind: &'a str,
}

#[derive(Serialize)]
struct Fingerprints<'a> {
    #[serde(rename = "seaworthy/v1")]
    seaworthy_v1: &'a str,
}

#[derive(Serialize)]
struct Properties<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    render: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rendered: Option<&'a Position>,
}

impl Properties<'_> {
    fn is_empty(&self) -> bool {
        self.path.is_none()
            && self.template.is_none()
            && self.render.is_none()
            && self.rendered.is_none()
    }
}

#[derive(Serialize)]
struct Suppression<'a> {
    kind: &'a str,
    justification: &'a str,
}

fn result<'a>(finding: &'a Finding, rule_index: Option<usize>, base: &Path) -> SarifResult<'a> {
    let location = &finding.location;
    // Code scanning needs a file of the repository: rendered output that could not be mapped to
    // its template is attached to the file it was rendered from.
    let physical = location
        .on_disk()
        .map(|(file, line, column)| PhysicalLocation {
            artifact: ArtifactLocation {
                uri: artifact_uri(file, base),
            },
            region: Region {
                start_line: line,
                start_column: column,
            },
        });
    let logical = finding.object.as_ref().map(|object| {
        let fully_qualified_name = if location.path.is_empty() {
            object.to_string()
        } else {
            format!("{object} {}", location.path)
        };
        [LogicalLocation {
            fully_qualified_name,
            kind: "object",
        }]
    });
    SarifResult {
        rule_id: &finding.rule,
        level: level(finding.severity),
        message: Text {
            text: &finding.message,
        },
        locations: [SarifLocation { physical, logical }],
        // Lets code scanning follow an alert when lines move (the baseline uses the same key).
        partial_fingerprints: (!finding.fingerprint.is_empty()).then_some(Fingerprints {
            seaworthy_v1: &finding.fingerprint,
        }),
        rule_index,
        properties: Properties {
            path: (!location.path.is_empty()).then_some(location.path.as_str()),
            template: location.template.as_deref(),
            render: location.render.as_deref(),
            rendered: location.rendered.as_ref(),
        },
        suppressions: finding.suppressed.as_deref().map(|reason| {
            [Suppression {
                kind: "external",
                justification: reason,
            }]
        }),
    }
}

/// Renders the run. `base` is the directory artifact URIs are relative to (the working directory);
/// `rules_doc_url` the page rules' `helpUri`s point into (see [`RULES_DOC_URL`]).
pub fn render(
    outcome: &Outcome,
    rules: &[Rule],
    show_suppressed: bool,
    base: &Path,
    rules_doc_url: Option<&str>,
) -> String {
    let descriptors = descriptors(rules, rules_doc_url);
    let index: HashMap<&str, usize> = descriptors
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    let driver_rules: Vec<Value> = descriptors
        .iter()
        .map(|d| {
            let mut rule = json!({
                "id": d.id,
                "name": d.id,
                "shortDescription": {"text": d.short},
                "fullDescription": {"text": d.full},
                "help": {"text": d.help},
                "defaultConfiguration": {"level": level(d.severity)},
                "properties": {"tags": d.tags},
            });
            if let Some(uri) = &d.help_uri {
                rule["helpUri"] = json!(uri);
            }
            if let Some(score) = d.security_severity {
                rule["properties"]["security-severity"] = json!(score);
            }
            rule
        })
        .collect();
    let results: Vec<SarifResult> = outcome
        .findings
        .iter()
        .filter(|f| show_suppressed || f.suppressed.is_none())
        .map(|f| result(f, index.get(f.rule.as_str()).copied(), base))
        .collect();
    let report = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "seaworthy",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: INFORMATION_URI,
                    rules: driver_rules,
                },
            },
            invocations: [Invocation {
                execution_successful: !outcome.broken,
            }],
            results,
        }],
    };
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
    text.push('\n');
    text
}
