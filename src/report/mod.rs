//! Reporters: one file per output format. Each takes the outcome of a run and returns text.

pub mod github;
pub mod json;
pub mod junit;
pub mod rules;
pub mod sarif;
pub mod text;

use std::collections::HashMap;

use crate::engine::Rule;
use crate::lint::POLICY_ERROR;
use crate::manifest::{DUPLICATE_KEY, INVALID_MANIFEST};

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
