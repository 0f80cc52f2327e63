//! rustc-style text: severity and rule, message, `--> file:line:col`, the source line with a caret
//! under the column, the object and the remediation.

use std::collections::HashMap;
use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use super::SourceLines;
use crate::finding::{Finding, Severity};
use crate::lint::Outcome;

struct Palette {
    color: bool,
}

impl Palette {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }

    fn severity(&self, severity: Severity) -> Style {
        let color = match severity {
            Severity::Error => AnsiColor::Red,
            Severity::Warning => AnsiColor::Yellow,
            Severity::Notice => AnsiColor::Cyan,
        };
        Style::new().fg_color(Some(color.into())).bold()
    }
}

pub fn render(
    outcome: &Outcome,
    remediations: &HashMap<String, String>,
    show_suppressed: bool,
    color: bool,
) -> String {
    let p = Palette { color };
    let blue = Style::new().fg_color(Some(AnsiColor::Blue.into())).bold();
    let bold = Style::new().bold();
    let mut out = String::new();
    let mut sources = SourceLines::new(outcome);
    for finding in outcome
        .findings
        .iter()
        .filter(|f| show_suppressed || f.suppressed.is_none())
    {
        render_one(
            &mut out,
            finding,
            &mut sources,
            remediations,
            &p,
            blue,
            bold,
        );
    }
    if let Some(line) = per_rule_counts(outcome) {
        let _ = writeln!(out, "{}: {line}", p.paint(bold, "by rule"));
    }
    let s = &outcome.summary;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let found = if s.errors + s.warnings + s.notices == 0 {
        "no findings".to_string()
    } else {
        format!(
            "{}, {}, {}",
            plural(s.errors, "error"),
            plural(s.warnings, "warning"),
            plural(s.notices, "notice")
        )
    };
    let _ = write!(
        out,
        "{}: {found} in {} from {}",
        p.paint(bold, "summary"),
        plural(s.objects, "object"),
        plural(s.files, "file")
    );
    if s.skipped > 0 {
        let _ = write!(
            out,
            ", {} skipped (not Kubernetes manifests)",
            plural(s.skipped, "file")
        );
    }
    if s.suppressed > 0 {
        let _ = write!(
            out,
            " ({} suppressed{})",
            s.suppressed,
            if show_suppressed {
                ""
            } else {
                ", see --show-suppressed"
            }
        );
    }
    out.push('\n');
    out
}

/// `missing-cpu-request 12, missing-readiness-probe 3`: how many active findings each rule gave,
/// most first, so a team sees at a glance which rules to tune or exempt. None without findings.
fn per_rule_counts(outcome: &Outcome) -> Option<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for finding in outcome.active() {
        *counts.entry(finding.rule.as_str()).or_default() += 1;
    }
    if counts.is_empty() {
        return None;
    }
    let mut counts: Vec<(&str, usize)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    Some(
        counts
            .iter()
            .map(|(rule, n)| format!("{rule} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
    )
}

fn render_one(
    out: &mut String,
    f: &Finding,
    sources: &mut SourceLines<'_>,
    remediations: &HashMap<String, String>,
    p: &Palette,
    blue: Style,
    bold: Style,
) {
    let head = format!("{}[{}]", f.severity, f.rule);
    let _ = writeln!(
        out,
        "{}{} {}",
        p.paint(p.severity(f.severity), &head),
        p.paint(bold, ":"),
        p.paint(bold, &f.message)
    );
    let loc = &f.location;
    let gutter = " ".repeat(loc.line.to_string().len());
    // A finding mapped back to its template already names it; an unmapped one names it here.
    let mapped = loc.rendered.as_ref().is_some_and(|r| r.file != loc.file);
    let in_template = loc.template.as_deref().is_some_and(|t| {
        t.split_once('/')
            .is_some_and(|(_, inside)| loc.file.ends_with(inside))
    });
    let template = match &loc.template {
        Some(t) if !in_template => format!(" (template {t})"),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "{gutter}{} {}:{}:{}{template}",
        p.paint(blue, "-->"),
        loc.file,
        loc.line,
        loc.column
    );
    let source_line = sources
        .line(&loc.file, loc.line)
        .filter(|_| !may_hold_a_secret(f));
    if let Some(text) = source_line {
        let caret_pad: String = text
            .chars()
            .take(loc.column.saturating_sub(1) as usize)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let _ = writeln!(out, "{gutter} {}", p.paint(blue, "|"));
        let _ = writeln!(
            out,
            "{} {} {}",
            p.paint(blue, &loc.line.to_string()),
            p.paint(blue, "|"),
            text.trim_end()
        );
        let _ = writeln!(
            out,
            "{gutter} {} {caret_pad}{}",
            p.paint(blue, "|"),
            p.paint(p.severity(f.severity), "^")
        );
    }
    if let Some(object) = &f.object {
        let field = if loc.path.is_empty() {
            String::new()
        } else {
            format!(", {}", loc.path)
        };
        let _ = writeln!(
            out,
            "{gutter} {} object: {object}{field}",
            p.paint(blue, "=")
        );
    }
    match (&loc.render, &loc.rendered) {
        (Some(render), Some(at)) if mapped => {
            let _ = writeln!(
                out,
                "{gutter} {} render: {render}, at {}:{}:{}",
                p.paint(blue, "="),
                at.file,
                at.line,
                at.column
            );
        }
        (Some(render), _) => {
            let _ = writeln!(out, "{gutter} {} render: {render}", p.paint(blue, "="));
        }
        (None, Some(at)) if mapped => {
            let _ = writeln!(
                out,
                "{gutter} {} rendered at {}:{}:{}",
                p.paint(blue, "="),
                at.file,
                at.line,
                at.column
            );
        }
        _ => {}
    }
    if let Some(reason) = &f.suppressed {
        let _ = writeln!(out, "{gutter} {} suppressed: {reason}", p.paint(blue, "="));
    }
    if let Some(help) = remediations.get(&f.rule) {
        let _ = writeln!(out, "{gutter} {} help: {help}", p.paint(blue, "="));
    }
    out.push('\n');
}

/// Rules whose findings point at a line that may hold a secret value outside a Secret object.
const SECRET_VALUE_RULES: [&str; 1] = ["secret-in-env"];

/// A finding whose source line may hold a secret value (any line of a Secret, a literal credential
/// in an environment variable): the line is not echoed, so the report never prints the value.
fn may_hold_a_secret(finding: &Finding) -> bool {
    finding.object.as_ref().is_some_and(|o| o.kind == "Secret")
        || SECRET_VALUE_RULES.contains(&finding.rule.as_str())
}
