//! One line per finding, `file:line:col: severity[rule] message`, the shape compilers print and
//! editors (Vim's quickfix, Emacs' compilation mode, VS Code problem matchers) and grep read. No
//! summary line: a clean run prints nothing.

use std::fmt::Write as _;

use crate::lint::Outcome;

pub fn render(outcome: &Outcome, show_suppressed: bool) -> String {
    let mut out = String::new();
    for f in outcome
        .findings
        .iter()
        .filter(|f| show_suppressed || f.suppressed.is_none())
    {
        let loc = &f.location;
        let _ = write!(
            out,
            "{}:{}:{}: {}[{}] {}",
            loc.file,
            loc.line,
            loc.column,
            f.severity,
            f.rule,
            one_line(&f.message)
        );
        if let Some(reason) = &f.suppressed {
            let _ = write!(out, " [suppressed: {}]", one_line(reason));
        }
        out.push('\n');
    }
    out
}

/// A multi-line message (a render error quotes helm's output) written on one line: its line breaks
/// become the two characters `\n`, so each finding stays one line for grep and editors.
fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(['\n', '\r']) {
        text.replace("\r\n", "\\n")
            .replace(['\n', '\r'], "\\n")
            .into()
    } else {
        text.into()
    }
}
