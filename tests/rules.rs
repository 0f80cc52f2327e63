//! Every rule's fixtures: pass files give no finding of that rule, fail files give at least one,
//! and a snapshot records exactly what is reported (line:column, field path, message).
//! Also checks each rule meets the contract: a complete doc comment and both kinds of fixture.

mod common;

use std::path::{Path, PathBuf};

use seaworthy::engine::Catalog;

fn fixture_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| {
        p.extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
    });
    files.sort();
    files
}

#[test]
fn every_rule_has_doc_and_fixtures() {
    let catalog = Catalog::load(&[]).expect("built-in policies load");
    assert!(!catalog.rules.is_empty());
    for rule in &catalog.rules {
        let id = &rule.meta.id;
        assert!(
            rule.doc.is_complete(),
            "{id}: doc comment needs What it does / Why / Example / Fix: {:?}",
            rule.doc
        );
        assert!(
            rule.meta.remediation.ends_with('.'),
            "{id}: remediation should be a sentence ending with a period"
        );
        let dir = common::root().join("fixtures/rules").join(id);
        assert!(
            !fixture_files(&dir.join("pass")).is_empty(),
            "{id}: no pass fixtures in {}",
            dir.display()
        );
        assert!(
            !fixture_files(&dir.join("fail")).is_empty(),
            "{id}: no fail fixtures in {}",
            dir.display()
        );
    }
}

#[test]
fn fixtures_give_the_expected_findings() {
    let catalog = Catalog::load(&[]).expect("built-in policies load");
    let ids: Vec<String> = catalog.rules.iter().map(|r| r.meta.id.clone()).collect();
    for id in ids {
        let dir = common::root().join("fixtures/rules").join(&id);
        for file in fixture_files(&dir.join("pass")) {
            let outcome = common::lint(&[&file]);
            assert!(!outcome.broken, "{}: fixture does not load", file.display());
            let found = common::summarize(&outcome, Some(&id));
            assert!(
                found.is_empty(),
                "{id}: pass fixture {} was flagged:\n{found}",
                file.display()
            );
        }
        for file in fixture_files(&dir.join("fail")) {
            let outcome = common::lint(&[&file]);
            assert!(!outcome.broken, "{}: fixture does not load", file.display());
            let found = common::summarize(&outcome, Some(&id));
            assert!(
                !found.is_empty(),
                "{id}: fail fixture {} was not flagged",
                file.display()
            );
            let stem = file
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            insta::assert_snapshot!(format!("{id}__{stem}"), found);
        }
    }
}
