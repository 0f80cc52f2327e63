//! Pod Security Standards conformance, against the fixtures the Kubernetes project uses for its own
//! Pod Security Admission (policy version v1.37), read in place from `$SEAWORTHY_PSA_CORPUS` or
//! `../shared/corpus/pod-security-admission`. They are not ours to copy, so this is not part of
//! `cargo test` (Cargo.toml: `test = false`): `scripts/conformance` runs it, and CI runs that. The
//! repository's own Pod Security tests, written from the standard, are `tests/pod_security.rs`.
//! Each pod is linted on its own with `pod_security` set to the level under test:
//!
//! - every `<level>/fail` pod gets at least one finding from a rule that reports the control its
//!   file name names (`runasnonroot0.yaml` → `runAsNonRoot`, as `expectations.tsv` records);
//! - every `<level>/pass` pod gets no finding from any rule of area `security`.
//!
//! Agreement must be 100%; a failure lists every disagreement. The control → rule table below must
//! cover every control of the corpus and every rule that declares a `control`, so a new PSS rule
//! cannot be left out of this test.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use seaworthy::config::{Config, PodSecurity};
use seaworthy::engine::{Backend, Catalog};
use seaworthy::lint::{self, Outcome};
use seaworthy::manifest::{Input, LoadOptions};
use seaworthy::suppress::Suppressor;

const CORPUS: &str = "../shared/corpus/pod-security-admission";

/// Which rules report each control. The first rule is the one whose metadata names the control;
/// any others are rules of the other level that report part of it. Upstream, a restricted check
/// overrides its baseline counterpart and reports everything itself; seaworthy reports each mistake
/// once, so e.g. seccompProfile type Unconfined is `seccomp-unconfined`'s finding at both levels.
const CONTROL_RULES: &[(&str, &[&str])] = &[
    // Baseline.
    ("appArmorProfile", &["apparmor-unconfined"]),
    ("capabilities_baseline", &["dangerous-capabilities"]),
    ("hostNamespaces", &["host-namespaces"]),
    ("hostPathVolumes", &["host-path-volume"]),
    ("hostPorts", &["host-port"]),
    ("hostProbesAndHostLifecycle", &["host-field-in-handler"]),
    ("privileged", &["privileged-container"]),
    ("procMount", &["unmasked-proc-mount"]),
    ("seccompProfile_baseline", &["seccomp-unconfined"]),
    ("seLinuxOptions", &["selinux-override"]),
    ("sysctls", &["unsafe-sysctl"]),
    ("windowsHostProcess", &["host-process"]),
    // Restricted.
    (
        "allowPrivilegeEscalation",
        &["privilege-escalation-allowed"],
    ),
    // dangerous-capabilities: adding a capability outside the baseline set.
    (
        "capabilities_restricted",
        &["capabilities-not-dropped", "dangerous-capabilities"],
    ),
    // unmasked-proc-mount: an unmasked /proc outside a user namespace.
    (
        "procMount_restricted",
        &["unmasked-proc-mount-userns", "unmasked-proc-mount"],
    ),
    // host-path-volume: hostPath volumes.
    (
        "restrictedVolumes",
        &["restricted-volume-type", "host-path-volume"],
    ),
    ("runAsNonRoot", &["missing-run-as-non-root"]),
    ("runAsUser", &["run-as-root"]),
    // seccomp-unconfined: a type other than RuntimeDefault and Localhost (Unconfined, a typo).
    (
        "seccompProfile_restricted",
        &["missing-seccomp-profile", "seccomp-unconfined"],
    ),
];

/// The area of the Pod Security Standards rules: a pass pod must get no finding from any of them.
const SECURITY_AREA: &str = "security";

/// One row of `expectations.tsv`.
#[derive(Debug, Clone)]
struct Expectation {
    /// Relative to the corpus directory, `restricted/fail/runasnonroot0.yaml`.
    file: String,
    level: String,
    /// The control the pod exercises, or a `(minimal-valid:...)` marker for the base pods.
    check: String,
    fails: bool,
}

impl Expectation {
    fn control(&self) -> Option<&str> {
        (!self.check.starts_with('(')).then_some(self.check.as_str())
    }
}

fn corpus() -> PathBuf {
    match std::env::var_os("SEAWORTHY_PSA_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => common::root().join(CORPUS),
    }
}

/// Reads `expectations.tsv`. A missing corpus fails the test: it is the reference, not optional.
fn expectations() -> Vec<Expectation> {
    let path = corpus().join("expectations.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the Pod Security Admission corpus is missing: cannot read {}: {e}",
            path.display()
        )
    });
    let mut lines = text.lines();
    assert_eq!(
        lines.next().map(str::trim_end),
        Some("file\tlevel\tcheck\texpected"),
        "{}: unexpected header",
        path.display()
    );
    let rows: Vec<Expectation> = lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.trim_end().split('\t').collect();
            let &[file, level, check, expected] = fields.as_slice() else {
                panic!(
                    "{}: expected 4 tab-separated fields: {line:?}",
                    path.display()
                );
            };
            assert!(
                matches!(level, "baseline" | "restricted"),
                "{}: unknown level in {line:?}",
                path.display()
            );
            let fails = match expected {
                "fail" => true,
                "pass" => false,
                other => panic!("{}: unknown verdict {other:?} in {line:?}", path.display()),
            };
            Expectation {
                file: file.to_string(),
                level: level.to_string(),
                check: check.to_string(),
                fails,
            }
        })
        .collect();
    assert!(!rows.is_empty(), "{}: no rows", path.display());
    rows
}

/// `runasnonroot0.yaml` → `runasnonroot`.
fn control_in_file_name(file: &str) -> String {
    let stem = Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    stem.trim_end_matches(|c: char| c.is_ascii_digit())
        .to_string()
}

fn rules_for(control: &str) -> Option<&'static [&'static str]> {
    CONTROL_RULES
        .iter()
        .find(|(c, _)| *c == control)
        .map(|(_, rules)| *rules)
}

/// Lints each pod of a level on its own, as the corpus intends, with one evaluator for the level.
fn lint_each(level: PodSecurity, files: &[&Expectation]) -> BTreeMap<String, Outcome> {
    let config = Config {
        pod_security: level,
        ..Config::default()
    };
    let mut evaluator =
        lint::evaluator_for(&config, &[], Backend::Rvm).expect("built-in policies load");
    let suppressor = Suppressor {
        exemptions: &config.exemptions,
        allow_annotations: true,
    };
    files
        .iter()
        .map(|row| {
            let path = corpus().join(&row.file);
            assert!(path.is_file(), "{} is listed but missing", path.display());
            let outcome = lint::lint_inputs(
                &[Input::Path(path)],
                &LoadOptions::default(),
                &mut evaluator,
                &suppressor,
            );
            (row.file.clone(), outcome)
        })
        .collect()
}

/// `rule: message (line:column)` for each active finding whose rule passes `keep`.
fn describe(outcome: &Outcome, keep: impl Fn(&str) -> bool) -> Vec<String> {
    outcome
        .active()
        .filter(|f| keep(&f.rule))
        .map(|f| {
            format!(
                "{} at {}:{}: {}",
                f.rule, f.location.line, f.location.column, f.message
            )
        })
        .collect()
}

fn check_level(level: &str, pod_security: PodSecurity) {
    let catalog = Catalog::load(&[]).expect("built-in policies load");
    let security: BTreeSet<String> = catalog
        .rules
        .iter()
        .filter(|r| r.meta.area == SECURITY_AREA)
        .map(|r| r.meta.id.clone())
        .collect();
    let rows = expectations();
    let rows: Vec<&Expectation> = rows.iter().filter(|r| r.level == level).collect();
    assert!(!rows.is_empty(), "no {level} rows in expectations.tsv");
    let outcomes = lint_each(pod_security, &rows);

    let mut disagreements = Vec::new();
    // Controls whose own rule (the first of its entry) flagged at least one of their fail pods.
    let mut exercised = BTreeSet::new();
    for row in &rows {
        let outcome = &outcomes[&row.file];
        if outcome.broken {
            let problems = describe(outcome, |_| true);
            disagreements.push(format!(
                "{}: does not load or a rule failed: {problems:?}",
                row.file
            ));
            continue;
        }
        if row.fails {
            let Some(control) = row.control() else {
                disagreements.push(format!("{}: a fail row names no control", row.file));
                continue;
            };
            let Some(rules) = rules_for(control) else {
                disagreements.push(format!(
                    "{}: control {control} has no rule in CONTROL_RULES",
                    row.file
                ));
                continue;
            };
            let found = describe(outcome, |rule| rules.contains(&rule));
            if found.is_empty() {
                let other = describe(outcome, |rule| security.contains(rule));
                disagreements.push(format!(
                    "{}: expected a finding of {rules:?} (control {control}), found {}",
                    row.file,
                    if other.is_empty() {
                        "no security finding".to_string()
                    } else {
                        format!("only {other:?}")
                    }
                ));
            }
            if outcome.active().any(|f| f.rule == rules[0]) {
                exercised.insert(control.to_string());
            }
        } else {
            let found = describe(outcome, |rule| security.contains(rule));
            if !found.is_empty() {
                disagreements.push(format!(
                    "{}: expected no security finding, found {found:?}",
                    row.file
                ));
            }
        }
    }
    let fail_controls: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.fails)
        .filter_map(|r| r.control())
        .collect();
    for control in fail_controls {
        if !exercised.contains(control) {
            if let Some(rules) = rules_for(control) {
                disagreements.push(format!(
                    "control {control}: its own rule {} flagged none of its {level}/fail pods",
                    rules[0]
                ));
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} {level} pods (or controls) disagree with Pod Security Admission:\n  {}",
        disagreements.len(),
        rows.len(),
        disagreements.join("\n  ")
    );
}

#[test]
fn baseline_agrees_with_pod_security_admission() {
    check_level("baseline", PodSecurity::Baseline);
}

#[test]
fn restricted_agrees_with_pod_security_admission() {
    check_level("restricted", PodSecurity::Restricted);
}

#[test]
fn every_corpus_file_has_an_expectation_named_after_its_control() {
    let rows = expectations();
    let listed: BTreeSet<String> = rows.iter().map(|r| r.file.clone()).collect();
    assert_eq!(listed.len(), rows.len(), "a file is listed twice");
    let mut on_disk = BTreeSet::new();
    for level in ["baseline", "restricted"] {
        for verdict in ["pass", "fail"] {
            let dir = corpus().join(level).join(verdict);
            let entries = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
            for entry in entries {
                let name = entry.expect("directory entry").file_name();
                let name = name.to_string_lossy();
                if name.ends_with(".yaml") {
                    on_disk.insert(format!("{level}/{verdict}/{name}"));
                }
            }
        }
    }
    let unlisted: Vec<&String> = on_disk.difference(&listed).collect();
    let missing: Vec<&String> = listed.difference(&on_disk).collect();
    assert!(
        unlisted.is_empty() && missing.is_empty(),
        "corpus and expectations.tsv differ: not listed {unlisted:?}, listed but missing {missing:?}"
    );
    for row in &rows {
        let verdict = if row.fails { "fail" } else { "pass" };
        assert!(
            row.file.starts_with(&format!("{}/{verdict}/", row.level)),
            "{}: level {} / verdict {verdict} do not match its folder",
            row.file,
            row.level
        );
        if let Some(control) = row.control() {
            assert_eq!(
                control_in_file_name(&row.file),
                control.to_lowercase(),
                "{}: the file name does not name control {control}",
                row.file
            );
        } else {
            assert!(!row.fails, "{}: a fail row names no control", row.file);
        }
    }
}

#[test]
fn control_table_covers_the_corpus_and_every_pss_rule() {
    let catalog = Catalog::load(&[]).expect("built-in policies load");
    let rows = expectations();

    // Every control of the corpus has rules, and the table lists no control the corpus lacks.
    let corpus_controls: BTreeSet<&str> = rows.iter().filter_map(|r| r.control()).collect();
    let table_controls: BTreeSet<&str> = CONTROL_RULES.iter().map(|(c, _)| *c).collect();
    assert_eq!(
        CONTROL_RULES.len(),
        table_controls.len(),
        "a control is listed twice in CONTROL_RULES"
    );
    let unmapped: Vec<&&str> = corpus_controls.difference(&table_controls).collect();
    assert!(
        unmapped.is_empty(),
        "controls of expectations.tsv missing from CONTROL_RULES: {unmapped:?}"
    );
    let unknown: Vec<&&str> = table_controls.difference(&corpus_controls).collect();
    assert!(
        unknown.is_empty(),
        "CONTROL_RULES lists controls that expectations.tsv does not have: {unknown:?}"
    );

    // The lowest level a control fails at is its level: restricted-only controls are the ones
    // with no baseline/fail pod.
    let level_of = |control: &str| {
        if rows
            .iter()
            .any(|r| r.fails && r.level == "baseline" && r.control() == Some(control))
        {
            "baseline"
        } else {
            "restricted"
        }
    };

    for (control, rules) in CONTROL_RULES {
        assert!(!rules.is_empty(), "control {control} lists no rule");
        for id in *rules {
            let rule = catalog
                .rule(id)
                .unwrap_or_else(|| panic!("control {control}: no built-in rule {id:?}"));
            assert_eq!(
                rule.meta.area, SECURITY_AREA,
                "rule {id} (control {control}) is not in area {SECURITY_AREA}"
            );
            assert!(
                rule.meta.control.is_some(),
                "rule {id} (control {control}) declares no control in its metadata"
            );
        }
        let own = catalog.rule(rules[0]).map(|r| &r.meta);
        assert_eq!(
            own.and_then(|m| m.control.as_deref()),
            Some(*control),
            "the first rule of control {control}, {}, must declare that control",
            rules[0]
        );
        assert_eq!(
            own.and_then(|m| m.level.as_deref()),
            Some(level_of(control)),
            "rule {} declares the wrong level for control {control}",
            rules[0]
        );
    }

    // Every rule that declares a control is that control's own rule in the table.
    for rule in &catalog.rules {
        let Some(control) = rule.meta.control.as_deref() else {
            continue;
        };
        let id = &rule.meta.id;
        let rules = rules_for(control).unwrap_or_else(|| {
            panic!("rule {id} declares control {control:?}, which CONTROL_RULES does not list")
        });
        assert_eq!(
            rules[0], id,
            "rule {id} declares control {control}, but CONTROL_RULES gives {} as its rule",
            rules[0]
        );
        assert!(
            rule.meta.level.is_some(),
            "rule {id} declares a control but no level"
        );
    }
}
