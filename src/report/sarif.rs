//! SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it: one `tool.driver.rules`
//! entry per rule of the catalog (and per problem the loader and engine report themselves), one
//! result per finding with a physical location relative to the working directory, so the
//! annotation lands on the right line.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Value};

use crate::engine::Rule;
use crate::finding::{Finding, Severity};
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

fn result(finding: &Finding, rule_index: Option<usize>, base: &Path) -> Value {
    let mut location = json!({});
    // Code scanning needs a file of the repository: rendered output that could not be mapped to
    // its template is attached to the file it was rendered from.
    if let Some((file, line, column)) = finding.location.on_disk() {
        location["physicalLocation"] = json!({
            "artifactLocation": {"uri": artifact_uri(file, base)},
            "region": {"startLine": line, "startColumn": column},
        });
    }
    if let Some(object) = &finding.object {
        let mut logical = json!({"fullyQualifiedName": object.to_string(), "kind": "object"});
        if !finding.location.path.is_empty() {
            logical["fullyQualifiedName"] = json!(format!("{object} {}", finding.location.path));
        }
        location["logicalLocations"] = json!([logical]);
    }
    let mut value = json!({
        "ruleId": finding.rule,
        "level": level(finding.severity),
        "message": {"text": finding.message},
        "locations": [location],
    });
    if !finding.fingerprint.is_empty() {
        // Lets code scanning follow an alert when lines move (the baseline uses the same key).
        value["partialFingerprints"] = json!({"seaworthy/v1": finding.fingerprint});
    }
    if let Some(index) = rule_index {
        value["ruleIndex"] = json!(index);
    }
    let mut properties = serde_json::Map::new();
    if !finding.location.path.is_empty() {
        properties.insert("path".into(), json!(finding.location.path));
    }
    if let Some(template) = &finding.location.template {
        properties.insert("template".into(), json!(template));
    }
    if let Some(render) = &finding.location.render {
        properties.insert("render".into(), json!(render));
    }
    if let Some(rendered) = &finding.location.rendered {
        properties.insert("rendered".into(), json!(rendered));
    }
    if !properties.is_empty() {
        value["properties"] = Value::Object(properties);
    }
    if let Some(reason) = &finding.suppressed {
        value["suppressions"] = json!([{"kind": "external", "justification": reason}]);
    }
    value
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
    let results: Vec<Value> = outcome
        .findings
        .iter()
        .filter(|f| show_suppressed || f.suppressed.is_none())
        .map(|f| result(f, index.get(f.rule.as_str()).copied(), base))
        .collect();
    let report = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "seaworthy",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": INFORMATION_URI,
                "rules": driver_rules,
            }},
            "invocations": [{"executionSuccessful": !outcome.broken}],
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
    text.push('\n');
    text
}
