//! GitHub Actions workflow commands: `::error file=F,line=L,col=C,title=RULE::MESSAGE`, one per
//! finding, which the runner turns into annotations on the pull request's diff. Notices become
//! `::notice`, warnings `::warning`.

use std::fmt::Write as _;

use crate::finding::Severity;
use crate::lint::Outcome;

/// Escapes a command's message, as the runner's toolkit does.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (file, title), which also may not hold `:` or `,`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(outcome: &Outcome, show_suppressed: bool) -> String {
    let mut out = String::new();
    for f in outcome
        .findings
        .iter()
        .filter(|f| show_suppressed || f.suppressed.is_none())
    {
        let command = match (f.severity, &f.suppressed) {
            (_, Some(_)) => "notice",
            (Severity::Error, None) => "error",
            (Severity::Warning, None) => "warning",
            (Severity::Notice, None) => "notice",
        };
        let mut message = f.message.clone();
        if let Some(object) = &f.object {
            let _ = write!(message, " ({object})");
        }
        if let Some(reason) = &f.suppressed {
            let _ = write!(message, " [suppressed: {reason}]");
        }
        let _ = writeln!(
            out,
            "::{command} file={},line={},col={},title={}::{}",
            escape_property(&f.location.file),
            f.location.line,
            f.location.column,
            escape_property(&f.rule),
            escape_data(&message)
        );
    }
    let s = &outcome.summary;
    let _ = writeln!(
        out,
        "seaworthy: {} files, {} objects: {} errors, {} warnings, {} notices",
        s.files, s.objects, s.errors, s.warnings, s.notices
    );
    out
}
