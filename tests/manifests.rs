//! The seeds' manifests end to end: every finding points at the line and column of the field it
//! names (checked against the source text itself), and the full list is recorded in a snapshot.

mod common;

use seaworthy::manifest::node::PathStep;

#[test]
fn findings_on_the_seed_manifests_point_at_their_fields() {
    let dir = common::root().join("fixtures/manifests");
    let outcome = common::lint(&[&dir]);
    assert!(!outcome.broken, "the seed manifests all load");
    assert!(
        outcome.summary.objects > 40,
        "all seed objects are read: {}",
        outcome.summary.objects
    );
    let mut checked = 0;
    for finding in outcome.active() {
        let file = outcome
            .files
            .iter()
            .find(|f| f.name == finding.location.file)
            .expect("file of the finding");
        let line = file.line(finding.location.line).expect("line exists");
        let at: String = line
            .chars()
            .skip(finding.location.column as usize - 1)
            .collect();
        // The deepest key of the path that exists in the object is what the caret points at.
        let object = finding.object.as_ref().expect("object findings");
        let expected_key = finding.path.iter().rev().find_map(|step| match step {
            PathStep::Key(k) if at.starts_with(&format!("{k}:")) => Some(k.clone()),
            _ => None,
        });
        let points_at_item = line[..line.len() - at.len()].trim_end().ends_with('-');
        assert!(
            expected_key.is_some() || points_at_item,
            "{}:{}:{} ({object}, {}) points at {at:?}",
            finding.location.file,
            finding.location.line,
            finding.location.column,
            finding.location.path
        );
        checked += 1;
    }
    assert!(checked > 0);
    let listing: Vec<String> = outcome
        .active()
        .map(|f| {
            format!(
                "{}:{}:{} [{}] {}",
                f.location
                    .file
                    .trim_start_matches(&format!("{}/", common::root().display())),
                f.location.line,
                f.location.column,
                f.rule,
                f.message
            )
        })
        .collect();
    insta::assert_snapshot!("seed_manifests", listing.join("\n"));
}

#[test]
fn the_quick_start_example_points_at_the_container_and_its_resources() {
    let file = common::root().join("fixtures/manifests/example/deployment.yaml");
    let outcome = common::lint(&[&file]);
    // The README's quick start shows these two; the other rules' findings on the example are in
    // the seed snapshot above.
    let shown = ["missing-readiness-probe", "missing-memory-limit"];
    let got: Vec<(String, u32, u32, String)> = outcome
        .active()
        .filter(|f| shown.contains(&f.rule.as_str()))
        .map(|f| {
            (
                f.rule.clone(),
                f.location.line,
                f.location.column,
                f.location.path.clone(),
            )
        })
        .collect();
    let text = std::fs::read_to_string(&file).expect("read example");
    let line_of = |needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .map(|i| i as u32 + 1)
            .expect("needle in example")
    };
    assert_eq!(
        got,
        vec![
            (
                "missing-readiness-probe".to_string(),
                line_of("- name: web"),
                11,
                "spec.template.spec.containers[0]".to_string()
            ),
            (
                "missing-memory-limit".to_string(),
                line_of("resources:"),
                11,
                "spec.template.spec.containers[0].resources.limits.memory".to_string()
            ),
        ]
    );
}
