//! The JSON contract of DESIGN.md: `{"findings": [...], "summary": {...}}`.

use serde::Serialize;

use crate::finding::Finding;
use crate::lint::{Outcome, Summary};

#[derive(Serialize)]
struct Report<'a> {
    findings: Vec<&'a Finding>,
    summary: &'a Summary,
}

pub fn render(outcome: &Outcome, show_suppressed: bool) -> String {
    let report = Report {
        findings: outcome
            .findings
            .iter()
            .filter(|f| show_suppressed || f.suppressed.is_none())
            .collect(),
        summary: &outcome.summary,
    };
    let mut text =
        serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
