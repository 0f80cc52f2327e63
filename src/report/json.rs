//! The JSON contract of DESIGN.md: `{"findings": [...], "summary": {...}}`, plus each finding's
//! unit of relation (`unit`) and the run's units (`units`), so a user can see why two objects were
//! related (see `unit`).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::engine::RuleTiming;
use crate::finding::Finding;
use crate::lint::{Outcome, Summary};

#[derive(Serialize)]
struct Report<'a> {
    findings: Vec<Reported<'a>>,
    summary: &'a Summary,
    units: Vec<Unit<'a>>,
    /// The kustomize patch files that were skipped (partial objects).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    patch_files: &'a [String],
    /// Per-rule timings, when asked for (`--timings`), costliest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    timings: Option<&'a [RuleTiming]>,
}

#[derive(Serialize)]
struct Reported<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    /// The unit of relation of the finding's object.
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'a str>,
}

/// A unit of relation: objects without a namespace relate only to objects of the same unit.
#[derive(Serialize)]
struct Unit<'a> {
    name: &'a str,
    /// Objects of the unit (those without a namespace relate only within it).
    objects: usize,
    files: Vec<&'a str>,
}

pub fn render(outcome: &Outcome, show_suppressed: bool, timings: Option<&[RuleTiming]>) -> String {
    // Indexed by name, and each unit's files by name, so that a run of many small units (one per
    // file with `--relate file`) is not quadratic.
    let mut units: Vec<Unit> = Vec::new();
    let mut unit_at: HashMap<&str, usize> = HashMap::new();
    let mut listed: HashSet<(usize, &str)> = HashSet::new();
    for object in &outcome.objects {
        let at = *unit_at.entry(object.unit.as_str()).or_insert_with(|| {
            units.push(Unit {
                name: &object.unit,
                objects: 0,
                files: Vec::new(),
            });
            units.len() - 1
        });
        let unit = &mut units[at];
        unit.objects += 1;
        if listed.insert((at, object.file.as_str())) {
            unit.files.push(&object.file);
        }
    }
    let report = Report {
        findings: outcome
            .findings
            .iter()
            .filter(|f| show_suppressed || f.suppressed.is_none())
            .map(|finding| Reported {
                finding,
                unit: finding
                    .subject
                    .and_then(|i| outcome.objects.get(i))
                    .map(|o| o.unit.as_str()),
            })
            .collect(),
        summary: &outcome.summary,
        units,
        patch_files: &outcome.patch_files,
        timings,
    };
    let mut text =
        serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
