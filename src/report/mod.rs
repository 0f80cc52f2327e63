//! Reporters: one file per output format. Each takes the outcome of a run and returns text.

pub mod compact;
pub mod github;
pub mod gitlab;
pub mod json;
pub mod junit;
pub mod rules;
pub mod sarif;
pub mod text;

use std::collections::HashMap;

use crate::engine::Rule;
use crate::lint::{Outcome, POLICY_ERROR};
use crate::manifest::{lines, DUPLICATE_KEY, INVALID_MANIFEST};

/// The lines of the files a run's findings point into, split once per file, so that quoting a
/// finding's source line costs a lookup instead of a scan from the top of its file (scanning per
/// finding was most of a whole run's time on a large repository).
pub struct SourceLines<'a> {
    files: HashMap<&'a str, &'a str>,
    split: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> SourceLines<'a> {
    /// An index of the outcome's inputs and templates; a file is split when first quoted. Where two
    /// files share a name, the first (inputs before templates) is the one quoted.
    pub fn new(outcome: &'a Outcome) -> Self {
        let mut files = HashMap::with_capacity(outcome.files.len() + outcome.templates.len());
        for file in outcome.files.iter().chain(&outcome.templates) {
            files.entry(file.name.as_str()).or_insert(&*file.text);
        }
        SourceLines {
            files,
            split: HashMap::new(),
        }
    }

    /// The text of a 1-based line of a file, without its line break (as `SourceFile::line`).
    pub fn line(&mut self, file: &str, line: u32) -> Option<&'a str> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        let (&name, &text) = self.files.get_key_value(file)?;
        let lines = self
            .split
            .entry(name)
            .or_insert_with(|| lines::lines(text).collect());
        lines.get(index).copied()
    }
}

/// Remediation sentences by rule id, including the rules the loader and engine report themselves.
pub fn remediations(rules: &[Rule]) -> HashMap<String, String> {
    let mut map: HashMap<String, String> = rules
        .iter()
        .map(|r| (r.meta.id.clone(), r.meta.remediation.clone()))
        .collect();
    map.insert(
        INVALID_MANIFEST.into(),
        "Fix the document as the message says; every other document was still checked.".into(),
    );
    map.insert(
        DUPLICATE_KEY.into(),
        "Remove one of the two keys; kubectl keeps only the later value, so the earlier one is silently lost.".into(),
    );
    map.insert(
        crate::render::RENDER_ERROR.into(),
        "Fix the chart, its values or the kustomization so it renders; every other render was still checked."
            .into(),
    );
    map.insert(
        POLICY_ERROR.into(),
        "Fix the policy so it evaluates on this object (see the message).".into(),
    );
    map
}
