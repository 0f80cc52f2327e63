//! Deciding which findings stand: config exemptions (namespace, kind, name glob, label selector,
//! container, each with a reason) and the object annotation `seaworthy.dev/ignore`.
//! Loading problems (`invalid-manifest`) are never suppressed: there is no object to excuse.

use crate::config::Exemption;
use crate::finding::Finding;
use crate::manifest::{Object, INVALID_MANIFEST};
use crate::selector::labels_of;

pub const IGNORE_ANNOTATION: &str = "seaworthy.dev/ignore";
pub const IGNORE_REASON_ANNOTATION: &str = "seaworthy.dev/ignore-reason";

fn glob_matches(pattern: &str, text: &str) -> bool {
    glob::Pattern::new(pattern)
        .map(|p| p.matches(text))
        .unwrap_or(pattern == text)
}

impl Exemption {
    /// True when every criterion given matches the finding and its object.
    pub fn covers(&self, finding: &Finding, object: &Object) -> bool {
        let id = &object.id;
        let any = |list: &Option<Vec<String>>, f: &dyn Fn(&String) -> bool| {
            list.as_ref().is_none_or(|l| l.iter().any(f))
        };
        any(&self.rules, &|r| *r == finding.rule)
            && any(&self.namespaces, &|n| {
                Some(n.as_str()) == crate::inventory::effective_namespace(id)
            })
            && any(&self.kinds, &|k| *k == id.kind)
            && any(&self.names, &|g| {
                id.name.as_deref().is_some_and(|name| glob_matches(g, name))
            })
            && self
                .selector
                .as_ref()
                .is_none_or(|s| s.matches(&labels_of(object.labels())))
            && (!self.node_level_only || crate::workload::is_node_level(&object.root))
            && match &self.containers {
                None => true,
                Some(names) => crate::workload::container_at(&object.root, &finding.path)
                    .is_some_and(|c| names.contains(&c)),
            }
    }
}

/// The rules an object's `seaworthy.dev/ignore` annotation names (`"rule-a, rule-b"`; `*` for all).
fn ignored_by_annotation(object: &Object, rule: &str) -> bool {
    object.annotation(IGNORE_ANNOTATION).is_some_and(|list| {
        list.split([',', ' '])
            .map(str::trim)
            .any(|r| r == rule || r == "*")
    })
}

#[derive(Clone, Copy)]
pub struct Suppressor<'a> {
    pub exemptions: &'a [Exemption],
    pub allow_annotations: bool,
}

impl Suppressor<'_> {
    /// Marks suppressed findings with the reason; they stay in the list for `--show-suppressed`.
    pub fn apply(&self, findings: &mut [Finding], objects: &[Object]) {
        for finding in findings.iter_mut() {
            if finding.rule == INVALID_MANIFEST {
                continue;
            }
            let Some(object) = finding.subject.and_then(|i| objects.get(i)) else {
                continue;
            };
            if self.allow_annotations && ignored_by_annotation(object, &finding.rule) {
                let reason = object
                    .annotation(IGNORE_REASON_ANNOTATION)
                    .unwrap_or("no reason given");
                finding.suppressed = Some(format!("annotation {IGNORE_ANNOTATION}: {reason}"));
            } else if let Some(ex) = self.exemptions.iter().find(|ex| ex.covers(finding, object)) {
                finding.suppressed = Some(format!("config exemption: {}", ex.reason));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_globs() {
        assert!(glob_matches("node-exporter*", "node-exporter-abc"));
        assert!(!glob_matches("node-exporter*", "exporter"));
        assert!(glob_matches("web", "web"));
    }
}
