//! `seaworthy test`: every rule against its own pass and fail fixtures, the way policy authors test
//! their rules with `opa test`, `gator verify` or `kyverno test`, but through the same lint path (and
//! so the same verdicts) as `seaworthy lint`.
//!
//! Layout, found anywhere under the directories given: `<rule-id>/pass/*.yaml` must give no finding
//! of that rule, `<rule-id>/fail/*.yaml` at least one. A fail fixture may pin its findings with
//! `<stem>.expect.yaml` beside it: a list of `{rule, line, column, path, message}` (all optional;
//! `rule` defaults to the case's rule, `message` is a substring). Then the case's rule must give
//! exactly the listed findings, one for each entry, and no others.
//!
//! Discovery ([`discover`]) and judging ([`judge`]) are pure; running a case is `lint` on its file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::{Evaluator, RuleSetting};
use crate::finding::Finding;
use crate::lint::{self, Outcome};
use crate::manifest::node::{display_path, PathStep};
use crate::manifest::{split, yaml};
use crate::manifest::{Input, LoadOptions, INVALID_MANIFEST};
use crate::suppress::Suppressor;
use crate::unit::Relate;

/// What a fixture says about its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    Pass,
    Fail,
}

impl Expect {
    fn of_dir(name: &str) -> Option<Expect> {
        match name {
            "pass" => Some(Expect::Pass),
            "fail" => Some(Expect::Fail),
            _ => None,
        }
    }
}

/// One finding a fail fixture must give. Every field left out matches anything.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// The field path as findings print it, `spec.template.spec.containers[0]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A part of the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Expectation {
    fn matches(&self, case_rule: &str, finding: &Finding) -> bool {
        self.rule.as_deref().unwrap_or(case_rule) == finding.rule
            && self.line.is_none_or(|l| l == finding.location.line)
            && self.column.is_none_or(|c| c == finding.location.column)
            && self
                .path
                .as_deref()
                .is_none_or(|p| p == finding.location.path)
            && self
                .message
                .as_deref()
                .is_none_or(|m| finding.message.contains(m))
    }

    fn describe(&self, case_rule: &str) -> String {
        let mut parts = vec![format!("[{}]", self.rule.as_deref().unwrap_or(case_rule))];
        match (self.line, self.column) {
            (Some(line), Some(column)) => parts.push(format!("at {line}:{column}")),
            (Some(line), None) => parts.push(format!("on line {line}")),
            (None, Some(column)) => parts.push(format!("at column {column}")),
            (None, None) => {}
        }
        if let Some(path) = &self.path {
            parts.push(format!("at {path}"));
        }
        if let Some(message) = &self.message {
            parts.push(format!("with a message containing {message:?}"));
        }
        parts.join(" ")
    }
}

/// One fixture of one rule.
#[derive(Debug, Clone)]
pub struct Case {
    pub rule: String,
    pub expect: Expect,
    pub file: PathBuf,
    /// The fixture's `.expect.yaml`, when it has one.
    pub expectations: Option<Vec<Expectation>>,
}

/// Everything found under the directories: the cases, the directories holding policies (`.rego`
/// files next to their fixtures), and what could not be read.
#[derive(Debug, Default)]
pub struct Suite {
    pub cases: Vec<Case>,
    pub policy_dirs: Vec<PathBuf>,
    pub problems: Vec<String>,
}

fn is_fixture(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let is_manifest = name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json");
    is_manifest && !expectation_file_name(&name)
}

fn expectation_file_name(name: &str) -> bool {
    name.ends_with(".expect.yaml") || name.ends_with(".expect.yml")
}

fn hidden(entry: &walkdir::DirEntry) -> bool {
    entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.')
}

/// Walks `dirs` for `<rule-id>/pass` and `<rule-id>/fail` fixture directories and for `.rego` files.
pub fn discover(dirs: &[PathBuf]) -> Suite {
    let mut suite = Suite::default();
    for dir in dirs {
        if !dir.is_dir() {
            suite
                .problems
                .push(format!("{}: not a directory", dir.display()));
            continue;
        }
        let mut holds_policies = false;
        let walk = walkdir::WalkDir::new(dir)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| !hidden(e));
        for entry in walk {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    suite.problems.push(e.to_string());
                    continue;
                }
            };
            let path = entry.path();
            if entry.file_type().is_file() {
                holds_policies |= path.extension().is_some_and(|e| e == "rego");
                continue;
            }
            let Some(expect) = path
                .file_name()
                .and_then(|n| Expect::of_dir(&n.to_string_lossy()))
            else {
                continue;
            };
            // `dir` itself may be a rule's directory, or its pass/fail directory.
            let owner = path.canonicalize().ok().and_then(|p| {
                p.parent()
                    .and_then(|p| p.file_name())
                    .map(|n| n.to_os_string())
            });
            let Some(rule) = owner.map(|n| n.to_string_lossy().to_string()) else {
                continue;
            };
            suite
                .cases
                .extend(cases_in(path, &rule, expect, &mut suite.problems));
        }
        if holds_policies {
            suite.policy_dirs.push(dir.clone());
        }
    }
    suite
}

fn cases_in(dir: &Path, rule: &str, expect: Expect, problems: &mut Vec<String>) -> Vec<Case> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && is_fixture(p))
            .collect(),
        Err(e) => {
            problems.push(format!("{}: {e}", dir.display()));
            return Vec::new();
        }
    };
    files.sort();
    files
        .into_iter()
        .map(|file| {
            let expectations = match read_expectations(&file) {
                Ok(found) => found,
                Err(problem) => {
                    problems.push(problem);
                    None
                }
            };
            Case {
                rule: rule.to_string(),
                expect,
                file,
                expectations,
            }
        })
        .collect()
}

/// The `<stem>.expect.yaml` beside `fixture`, parsed, if there is one.
fn read_expectations(fixture: &Path) -> Result<Option<Vec<Expectation>>, String> {
    let Some(stem) = fixture.file_stem() else {
        return Ok(None);
    };
    let candidates = ["expect.yaml", "expect.yml"]
        .map(|ext| fixture.with_file_name(format!("{}.{ext}", stem.to_string_lossy())));
    let Some(file) = candidates.iter().find(|p| p.is_file()) else {
        return Ok(None);
    };
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file).map_err(|e| format!("{name}: cannot read: {e}"))?;
    parse_expectations(&name, &text).map(Some)
}

/// Parses an expected-findings file: a YAML list of [`Expectation`]s. Errors name `file:line:col`.
pub fn parse_expectations(file: &str, text: &str) -> Result<Vec<Expectation>, String> {
    let at = |line: u32, column: u32, message: String| {
        format!("{file}:{}:{}: {message}", line.max(1), column.max(1))
    };
    let mut roots = Vec::new();
    for chunk in split::split_documents(text) {
        let docs = yaml::parse_str(chunk.text, chunk.first_line, yaml::Limits::default()).map_err(
            |e| {
                let span = e.span();
                at(span.line, span.column, format!("cannot parse YAML: {e}"))
            },
        )?;
        roots.extend(docs.into_iter().filter_map(|d| d.root));
    }
    let Some(root) = roots.first() else {
        return Ok(Vec::new());
    };
    if roots.len() > 1 {
        return Err(at(
            1,
            1,
            "expected one YAML document: a list of findings".into(),
        ));
    }
    serde_path_to_error::deserialize(root.to_json()).map_err(|e| {
        let path: Vec<PathStep> = e
            .path()
            .iter()
            .filter_map(|segment| match segment {
                serde_path_to_error::Segment::Seq { index } => Some(PathStep::Index(*index)),
                serde_path_to_error::Segment::Map { key } => Some(PathStep::Key(key.clone())),
                _ => None,
            })
            .collect();
        let span = root.locate(&path);
        let shown = display_path(&path);
        let message = if shown.is_empty() {
            format!(
                "expected a list of findings ({{rule, line, column, path, message}}): {}",
                e.inner()
            )
        } else {
            format!("{shown}: {}", e.inner())
        };
        at(span.line, span.column, message)
    })
}

/// What linting a fixture gave, as far as judging needs it.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// The fixture's own problems (it does not parse, is not an object...).
    pub load_problems: Vec<String>,
    /// Active findings of every rule, `policy-error` ones included.
    pub findings: Vec<Finding>,
}

/// A judged case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub rule: String,
    pub expect: Expect,
    pub file: String,
    pub passed: bool,
    /// Why it failed, one line each.
    pub problems: Vec<String>,
    /// The findings of the case's rule (and of the rules its expectations name).
    pub findings: Vec<ShownFinding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShownFinding {
    pub rule: String,
    pub line: u32,
    pub column: u32,
    pub path: String,
    pub message: String,
}

impl ShownFinding {
    fn of(finding: &Finding) -> ShownFinding {
        ShownFinding {
            rule: finding.rule.clone(),
            line: finding.location.line,
            column: finding.location.column,
            path: finding.location.path.clone(),
            message: finding.message.clone(),
        }
    }
}

impl std::fmt::Display for ShownFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{} [{}]", self.line, self.column, self.rule)?;
        if !self.path.is_empty() {
            write!(f, " {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Judges one case from what linting its fixture gave. `known_rule` says whether the case's rule is
/// loaded, with the closest loaded id when it is not.
pub fn judge(
    case: &Case,
    observed: &Observed,
    known_rule: Result<(), Option<String>>,
) -> CaseResult {
    let mut problems = Vec::new();
    if let Err(suggestion) = known_rule {
        problems.push(match suggestion {
            Some(close) => format!(
                "no rule {:?} is loaded (did you mean {close:?}?); the fixture directory must be named after a rule id",
                case.rule
            ),
            None => format!(
                "no rule {:?} is loaded; the fixture directory must be named after a rule id (see `seaworthy rules`)",
                case.rule
            ),
        });
    }
    problems.extend(
        observed
            .load_problems
            .iter()
            .map(|p| format!("fixture does not load: {p}")),
    );
    let rules_of_interest: Vec<&str> = std::iter::once(case.rule.as_str())
        .chain(
            case.expectations
                .iter()
                .flatten()
                .filter_map(|e| e.rule.as_deref()),
        )
        .collect();
    let mine: Vec<&Finding> = observed
        .findings
        .iter()
        .filter(|f| rules_of_interest.contains(&f.rule.as_str()))
        .collect();
    for finding in &observed.findings {
        if crate::check::failed_rule(finding).is_some_and(|r| rules_of_interest.contains(&r)) {
            problems.push(format!("the rule failed: {}", finding.message));
        }
    }
    match (case.expect, &case.expectations) {
        (Expect::Pass, Some(_)) => problems.push(
            "a pass fixture cannot have expected findings (move it to fail/ or delete its .expect.yaml)"
                .into(),
        ),
        (Expect::Pass, None) => {
            for finding in mine.iter().filter(|f| f.rule == case.rule) {
                problems.push(format!("flagged: {}", ShownFinding::of(finding)));
            }
        }
        (Expect::Fail, None) => {
            if !mine.iter().any(|f| f.rule == case.rule) {
                problems.push(format!("no finding of {}", case.rule));
            }
        }
        (Expect::Fail, Some(expectations)) => {
            problems.extend(match_expectations(&case.rule, expectations, &mine));
        }
    }
    CaseResult {
        rule: case.rule.clone(),
        expect: case.expect,
        file: case.file.display().to_string(),
        passed: problems.is_empty(),
        problems,
        findings: mine.iter().map(|f| ShownFinding::of(f)).collect(),
    }
}

/// Pairs each expectation with a distinct finding (first fit, in order); the case's rule may give
/// no finding that no expectation accounts for.
fn match_expectations(
    rule: &str,
    expectations: &[Expectation],
    findings: &[&Finding],
) -> Vec<String> {
    let mut problems = Vec::new();
    if expectations.is_empty() {
        problems.push("the .expect.yaml lists no finding: a fail fixture must give one".into());
    }
    let mut used = vec![false; findings.len()];
    for expectation in expectations {
        let hit = findings
            .iter()
            .enumerate()
            .position(|(i, f)| !used[i] && expectation.matches(rule, f));
        match hit {
            Some(i) => used[i] = true,
            None => problems.push(format!("expected a finding {}", expectation.describe(rule))),
        }
    }
    for (finding, _) in findings.iter().zip(&used).filter(|(_, used)| !**used) {
        if finding.rule == rule {
            problems.push(format!("unexpected: {}", ShownFinding::of(finding)));
        }
    }
    problems
}

/// Lints each case's fixture on its own (its file is its unit of relation) and judges it.
/// `evaluator` must have every rule with a case enabled (see [`enable_for`]).
pub fn run_cases(
    cases: &[Case],
    evaluator: &mut Evaluator,
    load: &LoadOptions,
    loaded_ids: &[String],
) -> Vec<CaseResult> {
    let suppressor = Suppressor {
        exemptions: &[],
        allow_annotations: true,
    };
    cases
        .iter()
        .map(|case| {
            let outcome = lint::lint_inputs_relating(
                &[Input::Path(case.file.clone())],
                Relate::File,
                true,
                load,
                evaluator,
                &suppressor,
            );
            let known = if loaded_ids.contains(&case.rule) {
                Ok(())
            } else {
                Err(
                    lint::did_you_mean(&case.rule, loaded_ids.iter().map(String::as_str))
                        .map(str::to_string),
                )
            };
            judge(case, &observe(&outcome), known)
        })
        .collect()
}

fn observe(outcome: &Outcome) -> Observed {
    let (load, findings): (Vec<&Finding>, Vec<&Finding>) =
        outcome.active().partition(|f| f.rule == INVALID_MANIFEST);
    let mut load_problems: Vec<String> = load
        .iter()
        .map(|f| format!("{}:{}: {}", f.location.line, f.location.column, f.message))
        .collect();
    if load_problems.is_empty() && outcome.summary.objects == 0 {
        load_problems.push("it holds no Kubernetes object".into());
    }
    Observed {
        load_problems,
        findings: findings.into_iter().cloned().collect(),
    }
}

/// Turns on every rule some case is about: a test of a rule the config disables still runs it.
pub fn enable_for(cases: &[Case], settings: &mut HashMap<String, RuleSetting>) {
    for case in cases {
        if let Some(setting) = settings.get_mut(&case.rule) {
            setting.enabled = true;
        }
    }
}

/// The whole run's result.
#[derive(Debug, Serialize)]
pub struct Report {
    pub cases: Vec<CaseResult>,
    pub summary: ReportSummary,
}

#[derive(Debug, Serialize)]
pub struct ReportSummary {
    pub cases: usize,
    pub passed: usize,
    pub failed: usize,
    /// Rules with at least one case.
    pub rules_tested: usize,
    /// Custom rules loaded from the tested directories that have no fixture.
    pub untested_rules: Vec<String>,
}

impl Report {
    pub fn new(cases: Vec<CaseResult>, untested_rules: Vec<String>) -> Report {
        let passed = cases.iter().filter(|c| c.passed).count();
        let mut rules: Vec<&str> = cases.iter().map(|c| c.rule.as_str()).collect();
        rules.sort_unstable();
        rules.dedup();
        let summary = ReportSummary {
            cases: cases.len(),
            passed,
            failed: cases.len() - passed,
            rules_tested: rules.len(),
            untested_rules,
        };
        Report { cases, summary }
    }

    pub fn succeeded(&self) -> bool {
        self.summary.failed == 0
    }

    /// One line per case (failures followed by their reasons), then the summary.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for case in &self.cases {
            let status = if case.passed { "ok  " } else { "FAIL" };
            let expect = match case.expect {
                Expect::Pass => "pass",
                Expect::Fail => "fail",
            };
            out.push_str(&format!("{status} {} {expect} {}", case.rule, case.file));
            if case.passed && case.expect == Expect::Fail {
                let n = case.findings.iter().filter(|f| f.rule == case.rule).count();
                out.push_str(&format!(" ({n} finding{})", if n == 1 { "" } else { "s" }));
            }
            out.push('\n');
            for problem in &case.problems {
                out.push_str(&format!("     {problem}\n"));
            }
        }
        let s = &self.summary;
        let verdict = if self.succeeded() { "ok" } else { "FAILED" };
        out.push_str(&format!(
            "\ntest result: {verdict}. {} passed, {} failed, {} case{} of {} rule{}",
            s.passed,
            s.failed,
            s.cases,
            if s.cases == 1 { "" } else { "s" },
            s.rules_tested,
            if s.rules_tested == 1 { "" } else { "s" },
        ));
        if !s.untested_rules.is_empty() {
            out.push_str(&format!(
                "; no fixtures for: {}",
                s.untested_rules.join(", ")
            ));
        }
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Location, Severity};

    fn finding(rule: &str, line: u32, message: &str) -> Finding {
        Finding {
            rule: rule.into(),
            severity: Severity::Error,
            message: message.into(),
            object: None,
            location: Location {
                path: "spec".into(),
                ..Location::at("f.yaml", line, 3)
            },
            path: Vec::new(),
            subject: None,
            fingerprint: String::new(),
            suppressed: None,
        }
    }

    fn case(expect: Expect, expectations: Option<Vec<Expectation>>) -> Case {
        Case {
            rule: "r".into(),
            expect,
            file: "fixtures/r/fail/x.yaml".into(),
            expectations,
        }
    }

    fn observed(findings: Vec<Finding>) -> Observed {
        Observed {
            load_problems: Vec::new(),
            findings,
        }
    }

    #[test]
    fn pass_and_fail_cases_are_judged_by_their_rule_only() {
        let other = observed(vec![finding("other", 1, "m")]);
        assert!(judge(&case(Expect::Pass, None), &other, Ok(())).passed);
        assert!(!judge(&case(Expect::Fail, None), &other, Ok(())).passed);
        let mine = observed(vec![finding("r", 4, "bad")]);
        let flagged = judge(&case(Expect::Pass, None), &mine, Ok(()));
        assert!(!flagged.passed);
        assert_eq!(flagged.problems, vec!["flagged: 4:3 [r] spec: bad"]);
        assert!(judge(&case(Expect::Fail, None), &mine, Ok(())).passed);
    }

    #[test]
    fn expectations_pair_one_to_one_and_leave_nothing_unexplained() {
        let at = |line| Expectation {
            rule: None,
            line: Some(line),
            column: None,
            path: None,
            message: Some("bad".into()),
        };
        let two = observed(vec![finding("r", 4, "bad a"), finding("r", 9, "bad b")]);
        assert!(judge(&case(Expect::Fail, Some(vec![at(4), at(9)])), &two, Ok(())).passed);
        let missing = judge(&case(Expect::Fail, Some(vec![at(4)])), &two, Ok(()));
        assert_eq!(missing.problems, vec!["unexpected: 9:3 [r] spec: bad b"]);
        let wrong = judge(&case(Expect::Fail, Some(vec![at(4), at(5)])), &two, Ok(()));
        assert_eq!(
            wrong.problems,
            vec![
                "expected a finding [r] on line 5 with a message containing \"bad\"",
                "unexpected: 9:3 [r] spec: bad b"
            ]
        );
        // One finding cannot satisfy two entries.
        let one = observed(vec![finding("r", 4, "bad")]);
        assert!(!judge(&case(Expect::Fail, Some(vec![at(4), at(4)])), &one, Ok(())).passed);
    }

    #[test]
    fn a_fixture_that_does_not_load_or_names_no_rule_fails() {
        let broken = Observed {
            load_problems: vec!["1:1: cannot parse".into()],
            findings: vec![finding("r", 1, "m")],
        };
        assert!(!judge(&case(Expect::Fail, None), &broken, Ok(())).passed);
        let unknown = judge(
            &case(Expect::Pass, None),
            &observed(vec![]),
            Err(Some("rr".into())),
        );
        assert!(unknown.problems[0].contains("did you mean \"rr\""));
    }

    #[test]
    fn a_failing_rule_fails_its_case_and_another_rules_failure_does_not() {
        let error = |rule: &str| {
            finding(
                crate::check::POLICY_ERROR,
                1,
                &format!("rule {rule} (r.rego) failed to evaluate: boom"),
            )
        };
        let mine = judge(
            &case(Expect::Pass, None),
            &observed(vec![error("r")]),
            Ok(()),
        );
        assert_eq!(
            mine.problems,
            vec!["the rule failed: rule r (r.rego) failed to evaluate: boom"]
        );
        let other = judge(
            &case(Expect::Pass, None),
            &observed(vec![error("q")]),
            Ok(()),
        );
        assert!(other.passed, "{:?}", other.problems);
    }

    #[test]
    fn expectation_files_are_read_with_their_errors_located() {
        let ok =
            parse_expectations("e.yaml", "- line: 4\n  message: bad\n- rule: other\n").unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].rule.as_deref(), Some("other"));
        let typo = parse_expectations("e.yaml", "- line: 4\n  mesage: bad\n").unwrap_err();
        assert!(typo.starts_with("e.yaml:2:3:"), "{typo}");
        assert!(typo.contains("mesage"), "{typo}");
        let wrong_type = parse_expectations("e.yaml", "- line: four\n").unwrap_err();
        assert!(
            wrong_type.starts_with("e.yaml:1:3: [0].line:"),
            "{wrong_type}"
        );
    }
}
