//! JUnit XML, the report format GitLab, Jenkins and Azure Pipelines render as test results: one
//! test suite per file, one test case per object, one `<failure>` per finding that fails the run
//! (at or above `--fail-on`, not suppressed) with the rule, the message and the location. Findings
//! below that level are listed in the case's `<system-out>`, so a test case is red exactly when
//! the job is: a notice never fails a test under `--fail-on error` or `never`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::config::FailOn;
use crate::finding::Finding;
use crate::lint::Outcome;

/// Escapes text for XML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// The same object rendered with two values sets is two test cases.
fn case_name(name: &str, render: Option<&str>) -> String {
    match render {
        Some(render) => format!("{name} [{render}]"),
        None => name.to_string(),
    }
}

/// A test case: an object of a file, or the file itself for problems that have no object.
#[derive(Default)]
struct Case<'a> {
    /// Findings that fail the run: each a `<failure>`.
    failures: Vec<&'a Finding>,
    /// Findings below `--fail-on`, or suppressed: listed in `<system-out>`.
    others: Vec<&'a Finding>,
}

impl Case<'_> {
    fn failed(&self) -> bool {
        !self.failures.is_empty()
    }
}

/// The finding as a failure's body or a line of `<system-out>`: where, what, and the context.
fn body(f: &Finding) -> String {
    let mut body = format!(
        "{}:{}:{}: {} [{}]",
        f.location.file, f.location.line, f.location.column, f.message, f.rule
    );
    if !f.location.path.is_empty() {
        let _ = write!(body, "\nfield: {}", f.location.path);
    }
    if let Some(template) = &f.location.template {
        let _ = write!(body, "\ntemplate: {template}");
    }
    if let Some(render) = &f.location.render {
        let _ = write!(body, "\nrender: {render}");
    }
    if let Some(r) = &f.location.rendered {
        let _ = write!(body, "\nrendered: {}:{}:{}", r.file, r.line, r.column);
    }
    if let Some(reason) = &f.suppressed {
        let _ = write!(body, "\nsuppressed: {reason}");
    }
    body
}

pub fn render(outcome: &Outcome, show_suppressed: bool, fail_on: FailOn) -> String {
    // file -> case name -> findings; every file and object of the run appears, clean ones too.
    let mut suites: BTreeMap<&str, BTreeMap<String, Case>> = BTreeMap::new();
    for file in &outcome.files {
        suites.entry(file.name.as_str()).or_default();
    }
    for object in &outcome.objects {
        suites
            .entry(object.file.as_str())
            .or_default()
            .entry(case_name(&object.id.to_string(), object.render.as_deref()))
            .or_default();
    }
    for finding in outcome
        .findings
        .iter()
        .filter(|f| show_suppressed || f.suppressed.is_none())
    {
        let case = finding
            .object
            .as_ref()
            .map(|o| o.to_string())
            .unwrap_or_else(|| format!("document at line {}", finding.location.line));
        let case = case_name(&case, finding.location.render.as_deref());
        let case = suites
            .entry(finding.location.file.as_str())
            .or_default()
            .entry(case)
            .or_default();
        if finding.suppressed.is_none() && fail_on.fails(finding.severity) {
            case.failures.push(finding);
        } else {
            case.others.push(finding);
        }
    }

    let total_cases: usize = suites.values().map(BTreeMap::len).sum();
    let total_failures: usize = suites
        .values()
        .flat_map(BTreeMap::values)
        .filter(|c| c.failed())
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"seaworthy\" tests=\"{total_cases}\" failures=\"{total_failures}\">"
    );
    for (file, cases) in &suites {
        let failures = cases.values().filter(|c| c.failed()).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">",
            escape(file),
            cases.len()
        );
        for (name, case) in cases {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\"",
                escape(name),
                escape(file),
                escape(file)
            );
            if case.failures.is_empty() && case.others.is_empty() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            for f in &case.failures {
                let _ = writeln!(
                    out,
                    "      <failure type=\"{}\" message=\"{}: {}\">{}</failure>",
                    escape(&f.rule),
                    f.severity.as_str(),
                    escape(&f.message),
                    escape(&body(f))
                );
            }
            if !case.others.is_empty() {
                let listed: Vec<String> = case
                    .others
                    .iter()
                    .map(|f| format!("{}: {}", f.severity.as_str(), body(f)))
                    .collect();
                let _ = writeln!(
                    out,
                    "      <system-out>{}</system-out>",
                    escape(&listed.join("\n\n"))
                );
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
