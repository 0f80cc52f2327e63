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
        if let Some(r) = &f.location.render {
            let _ = write!(message, " [render: {r}]");
        }
        if let (Some(at), Some(_)) = (&f.location.rendered, &f.location.artifact) {
            // Attached to the file it was rendered from: say where in the output it is.
            let _ = write!(message, " [rendered {}:{}:{}]", at.file, at.line, at.column);
        }
        // An annotation needs a file of the repository (see `Location::on_disk`); without one it
        // is shown on the run, not on a line.
        let place = match f.location.on_disk() {
            Some((file, line, column)) => {
                format!(" file={},line={line},col={column},", escape_property(file))
            }
            None => " ".to_string(),
        };
        let _ = writeln!(
            out,
            "::{command}{place}title={}::{}",
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
