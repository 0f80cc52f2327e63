//! Custom policies that crash, loop, allocate or fail must cost only their own rule (issue 14):
//! a `policy-error` finding that names the rule and its file, every other rule's findings kept,
//! in `lint` (the real binary) and in `serve` (the real server on 127.0.0.1 over HTTPS).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use common::https::{denial, fixture, response, warnings, Options, Server};
use serde_json::Value;

/// A privileged Pod: `privileged-container` (an error, a denial in serve) and more built-in findings.
const PRIVILEGED_POD: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: api
  namespace: shop
  labels: {app: api}
spec:
  containers:
    - name: api
      image: registry.example.com/api:1.4.2
      securityContext:
        privileged: true
"#;

/// A custom rule for Pods whose `violations` rule (and helpers) is `body`.
fn custom_rule(id: &str, body: &str) -> String {
    let package = id.replace('-', "_");
    // The body's imports go where Rego wants them, before the first rule.
    let (imports, body): (Vec<&str>, Vec<&str>) =
        body.lines().partition(|line| line.starts_with("import "));
    let imports: String = imports.iter().map(|line| format!("{line}\n")).collect();
    let body = body.join("\n");
    format!(
        r#"# What it does: tests a broken policy.
# Why: a broken rule must cost only itself.
# Example:
#   kind: Pod
# Fix: nothing.
package seaworthy.rules.test.{package}

import rego.v1
{imports}
metadata := {{
	"id": "{id}",
	"area": "test",
	"severity": "error",
	"kinds": ["Pod"],
	"summary": "Broken on purpose",
	"remediation": "Fix the policy.",
}}

{body}
"#
    )
}

const SELF_RECURSION: &str = r#"f(x) := y if {
	y := f(x + 1)
}

violations contains v if {
	f(1) > 0
	v := {"msg": "never", "path": []}
}"#;

/// A function recursing through a name an import of `input` also binds: the recursion check
/// must still see the call (found by the policy fuzzer after the analysis learnt to follow
/// `input` imports, which for a moment hid the function behind the alias).
const RECURSION_BEHIND_AN_IMPORT: &str = r#"import input.f as f

f(x) := y if {
	y := f(x + 1)
}

violations contains v if {
	f(1) > 0
	v := {"msg": "never", "path": []}
}"#;

const MUTUAL_RECURSION: &str = r#"g(x) := y if {
	y := h(x + 1)
}

h(x) := y if {
	y := g(x + 1)
}

violations contains v if {
	g(1) > 0
	v := {"msg": "never", "path": []}
}"#;

const MALFORMED_VIOLATIONS: &str = r#"violations := "not a set""#;

const BAD_PATH: &str = r#"violations contains v if {
	input.object.kind == "Pod"
	v := {"msg": "x", "path": [{"not": "a step"}]}
}"#;

const BUILTIN_ERROR: &str = r#"violations contains v if {
	n := to_number(input.object.metadata.name)
	v := {"msg": sprintf("%v", [n]), "path": []}
}"#;

const CONFLICTING_VALUES: &str = r#"owner := "a" if input.object.kind == "Pod"

owner := "b" if input.object.metadata.name == "api"

violations contains v if {
	owner == "c"
	v := {"msg": "never", "path": []}
}"#;

const HUGE_RANGE: &str = r#"violations contains v if {
	count(numbers.range(1, 100000000)) < 0
	v := {"msg": "never", "path": []}
}"#;

/// A range whose bounds are computed when the rule runs: regorus would reserve the whole array at
/// once (8 PB here: the process aborts); bounded, it is an error of the rule.
const COMPUTED_RANGE: &str = r#"violations contains v if {
	count(numbers.range(1, to_number("1e15"))) < 0
	v := {"msg": "never", "path": []}
}"#;

/// Computed bounds within the limit: the same range as regorus makes, on either back end.
const SMALL_COMPUTED_RANGES: &str = r#"violations contains v if {
	numbers.range(1, to_number("3")) == [1, 2, 3]
	numbers.range(to_number("3"), 1) == [3, 2, 1]
	numbers.range_step(0, to_number("10"), 4) == [0, 4, 8]
	count(numbers.range(1, to_number("1000000"))) == 1000000
	not numbers.range(1, to_number("1.5"))
	v := {"msg": "ranges agree", "path": []}
}"#;

fn cmd(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("seaworthy").expect("binary");
    cmd.current_dir(dir)
        .env_remove("SEAWORTHY_CONFIG")
        .env("SEAWORTHY_NO_CACHE", "1");
    cmd
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// `lint pod.yaml --policies org --format json` with the rule `id` defined by `body`, on the given
/// back end: (exit code, report, stderr).
fn lint_with_rule(id: &str, body: &str, engine: &str) -> (Option<i32>, Value, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "pod.yaml", PRIVILEGED_POD);
    write(
        dir.path(),
        &format!("org/{id}.rego"),
        &custom_rule(id, body),
    );
    let output = cmd(dir.path())
        .args([
            "lint",
            "pod.yaml",
            "--no-config",
            "--policies",
            "org",
            "--format",
            "json",
            "--engine",
            engine,
        ])
        .timeout(Duration::from_secs(120))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{id} ({engine}): no JSON report ({e}), exit {:?}, stderr: {stderr}",
            output.status.code()
        )
    });
    (output.status.code(), report, stderr)
}

fn findings(report: &Value) -> Vec<(String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The built-in findings of the privileged Pod with no custom rule.
fn builtin_rules() -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "pod.yaml", PRIVILEGED_POD);
    let output = cmd(dir.path())
        .args(["lint", "pod.yaml", "--no-config", "--format", "json"])
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&output.stdout).expect("json");
    let mut rules: Vec<String> = findings(&report).into_iter().map(|(r, _)| r).collect();
    rules.sort();
    rules
}

/// The broken rule is one `policy-error` finding naming the rule and its file (and saying why),
/// every built-in finding is still there, and the exit code is 2 (a policy failed).
fn assert_isolated(id: &str, body: &str, why: &[&str]) {
    assert_isolated_on(id, body, why, &["rvm", "interpreter"]);
}

fn assert_isolated_on(id: &str, body: &str, why: &[&str], engines: &[&str]) {
    let expected = builtin_rules();
    assert!(
        expected.contains(&"privileged-container".to_string()),
        "{expected:?}"
    );
    for &engine in engines {
        let started = Instant::now();
        let (code, report, stderr) = lint_with_rule(id, body, engine);
        let took = started.elapsed();
        let found = findings(&report);
        let errors: Vec<&String> = found
            .iter()
            .filter(|(r, _)| r == "policy-error")
            .map(|(_, m)| m)
            .collect();
        assert_eq!(errors.len(), 1, "{id} ({engine}): {found:?}\n{stderr}");
        let message = errors[0];
        assert!(
            message.contains(id) && message.contains(&format!("{id}.rego")),
            "{id} ({engine}): the error names the rule and its file: {message}"
        );
        for word in why {
            assert!(
                message.to_lowercase().contains(word),
                "{id} ({engine}): {word:?} in {message}"
            );
        }
        let mut others: Vec<String> = found
            .iter()
            .filter(|(r, _)| r != "policy-error")
            .map(|(r, _)| r.clone())
            .collect();
        others.sort();
        assert_eq!(
            others, expected,
            "{id} ({engine}): the other rules' findings stand"
        );
        assert_eq!(code, Some(2), "{id} ({engine}): a policy failed");
        assert!(
            took < Duration::from_secs(60),
            "{id} ({engine}): bounded: {took:?}"
        );
    }
}

#[test]
fn lint_self_recursion_is_a_policy_error_of_that_rule() {
    assert_isolated("self-recursion", SELF_RECURSION, &["recursi"]);
}

#[test]
fn lint_recursion_behind_an_import_alias_is_a_policy_error_of_that_rule() {
    assert_isolated(
        "recursion-behind-import",
        RECURSION_BEHIND_AN_IMPORT,
        &["recursi"],
    );
}

#[test]
fn lint_mutual_recursion_is_a_policy_error_of_that_rule() {
    assert_isolated("mutual-recursion", MUTUAL_RECURSION, &["recursi"]);
}

#[test]
fn lint_malformed_violations_cost_only_their_rule() {
    assert_isolated("malformed-violations", MALFORMED_VIOLATIONS, &["set"]);
}

/// A builtin that fails makes its expression undefined on both back ends (the RVM cannot do
/// otherwise inside a rule body in regorus 0.14; OPA does the same by default): the rule finds
/// nothing, no crash, and the other rules' findings stand.
#[test]
fn lint_a_builtin_error_is_undefined_on_both_back_ends() {
    for engine in ["rvm", "interpreter"] {
        let (code, report, stderr) = lint_with_rule("builtin-error", BUILTIN_ERROR, engine);
        let mut rules: Vec<String> = findings(&report).into_iter().map(|(r, _)| r).collect();
        rules.sort();
        assert_eq!(rules, builtin_rules(), "{engine}: {stderr}");
        assert_eq!(code, Some(1), "{engine}");
    }
}

/// Bindings of a missing field, used only where regorus's RVM does not fail on undefined (under
/// `not`, in a comprehension, in another binding, nowhere, in a partial object or a complete
/// rule, in a value with an `else` after it): in Rego each ends its body, so the rule reports the
/// control (a binding of a field the Pod has) and the `else`. The RVM went on, reported six more
/// and lost the `else`; such a rule now runs on the interpreter.
const UNDEFINED_BINDINGS: &str = r#"violations contains v if {
	x := input.object.spec.missing
	not startswith(x, "a")
	v := {"msg": "negated", "path": []}
}

violations contains v if {
	x := input.object.spec.missing
	count([y | some y in x]) == 0
	v := {"msg": "comprehension", "path": []}
}

violations contains v if {
	x := input.object.spec.missing
	y := x
	v := {"msg": "chained", "path": []}
}

violations contains v if {
	x := input.object.spec.missing
	v := {"msg": "unused", "path": []}
}

violations contains v if {
	count(keyed) > 0
	v := {"msg": "partial object", "path": []}
}

violations contains v if {
	flag == 1
	v := {"msg": "complete rule", "path": []}
}

violations contains v if {
	[a, b] := input.object.spec.missing
	v := {"msg": "destructured", "path": []}
}

violations contains v if {
	x := input.object.metadata.name
	not startswith(x, "z")
	v := {"msg": "control", "path": []}
}

violations contains v if {
	v := {"msg": fallback(input.object), "path": []}
}

fallback(o) := n if {
	n := o.spec.missing
} else := "else"

keyed[k] := 1 if k := input.object.spec.missing

flag := 1 if {
	x := input.object.spec.missing
}"#;

#[test]
fn a_binding_of_an_undefined_value_ends_its_body_on_both_back_ends() {
    for engine in ["rvm", "interpreter"] {
        let (code, report, stderr) =
            lint_with_rule("undefined-bindings", UNDEFINED_BINDINGS, engine);
        let mut messages: Vec<String> = findings(&report)
            .into_iter()
            .filter(|(rule, _)| rule == "undefined-bindings" || rule == "policy-error")
            .map(|(_, message)| message)
            .collect();
        messages.sort();
        assert_eq!(messages, ["control", "else"], "{engine}: {stderr}");
        assert_eq!(code, Some(1), "{engine}");
    }
}

#[test]
fn lint_conflicting_values_of_a_complete_rule_are_an_error() {
    assert_isolated(
        "conflicting-values",
        CONFLICTING_VALUES,
        &["conflicts with rule at", "conflicting-values.rego:19:"],
    );
}

/// Two definitions of a complete rule that agree are no conflict: the rule runs (on the
/// interpreter) and reports.
#[test]
fn agreeing_definitions_of_a_complete_rule_are_no_conflict() {
    let agreeing = CONFLICTING_VALUES
        .replace("owner := \"b\"", "owner := \"a\"")
        .replace("owner == \"c\"", "owner == \"a\"")
        .replace("\"never\"", "\"owner a\"");
    for engine in ["rvm", "interpreter"] {
        let (code, report, stderr) = lint_with_rule("agreeing-values", &agreeing, engine);
        let found = findings(&report);
        assert!(
            found
                .iter()
                .any(|(r, m)| r == "agreeing-values" && m == "owner a"),
            "{engine}: {found:?} {stderr}"
        );
        assert!(!found.iter().any(|(r, _)| r == "policy-error"), "{engine}");
        assert_eq!(code, Some(1), "{engine}");
    }
}

#[test]
fn lint_an_allocation_by_argument_is_capped() {
    assert_isolated("huge-range", HUGE_RANGE, &["numbers.range"]);
}

/// Bounds computed at evaluation (from the object, or here from a builtin the load-time check
/// cannot see through) are capped too: the rule runs on the interpreter, whose `numbers.range`
/// fails over the limit. Before, regorus reserved the whole array and the process aborted.
#[test]
fn lint_an_allocation_by_computed_argument_is_capped() {
    assert_isolated(
        "computed-range",
        COMPUTED_RANGE,
        &[
            "numbers.range(1, 1000000000000000)",
            "over the limit of 1000000",
        ],
    );
    let step = COMPUTED_RANGE.replace(
        "numbers.range(1, to_number(\"1e15\"))",
        "numbers.range_step(1, to_number(\"1e15\"), 2)",
    );
    assert_isolated(
        "computed-range-step",
        &step,
        &["numbers.range_step(", "over the limit"],
    );
    let shift = COMPUTED_RANGE.replace(
        "count(numbers.range(1, to_number(\"1e15\")))",
        "bits.lsh(1, to_number(\"4000000000\"))",
    );
    assert_isolated(
        "computed-shift",
        &shift,
        &["bits.lsh(1, 4000000000)", "1024 bits"],
    );
}

#[test]
fn computed_ranges_within_the_limit_are_unchanged() {
    for engine in ["rvm", "interpreter"] {
        let (code, report, stderr) = lint_with_rule("small-ranges", SMALL_COMPUTED_RANGES, engine);
        let found = findings(&report);
        assert!(
            found
                .iter()
                .any(|(r, m)| r == "small-ranges" && m == "ranges agree"),
            "{engine}: {found:?} {stderr}"
        );
        assert!(!found.iter().any(|(r, _)| r == "policy-error"), "{engine}");
        assert_eq!(code, Some(1), "{engine}");
    }
}

/// A step that is not a positive integer, written in the policy: regorus (builtin errors not
/// strict) divided by zero or reserved a negative count and panicked, which ended the whole run
/// (found by the policy fuzzer). Such a call is undefined, as in OPA, on both back ends.
#[test]
fn a_range_step_that_is_not_positive_is_undefined_not_a_crash() {
    let steps = r#"violations contains v if {
	not numbers.range_step(0, 100000000, 0)
	not numbers.range_step(0, 10, -1)
	not numbers.range_step(0, 10, 0.5)
	numbers.range_step(0, 10, 5) == [0, 5, 10]
	v := {"msg": "bad steps are undefined", "path": []}
}"#;
    for engine in ["rvm", "interpreter"] {
        let (code, report, stderr) = lint_with_rule("range-steps", steps, engine);
        let found = findings(&report);
        assert!(
            found
                .iter()
                .any(|(r, m)| r == "range-steps" && m == "bad steps are undefined"),
            "{engine}: {found:?} {stderr}"
        );
        assert!(!found.iter().any(|(r, _)| r == "policy-error"), "{engine}");
        assert_eq!(code, Some(1), "{engine}: {stderr}");
    }
}

/// A `sprintf` padding width written in the policy is checked at load: regorus builds the padding
/// in one step (`%4000000000d` is 4 GB), and panics on a width with a digit other than 0-9.
#[test]
fn lint_a_sprintf_width_over_the_limit_is_a_policy_error() {
    let wide = r#"violations contains v if {
	v := {"msg": sprintf("%4000000000d", [1]), "path": []}
}"#;
    assert_isolated(
        "wide-sprintf",
        wide,
        &["width 4000000000", "over the limit"],
    );
    let digits = r#"violations contains v if {
	v := {"msg": sprintf("%\u0663d", [1]), "path": []}
}"#;
    assert_isolated("unicode-width", digits, &["digit other than 0-9"]);
}

/// Lints the privileged Pod with one custom rule (`custom_rule(id, body)`) in text format: the
/// exit code and stderr, for policies that must be refused at load.
fn lint_policy(id: &str, body: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "pod.yaml", PRIVILEGED_POD);
    write(
        dir.path(),
        &format!("org/{id}.rego"),
        &custom_rule(id, body),
    );
    let output = cmd(dir.path())
        .args(["lint", "pod.yaml", "--no-config", "--policies", "org"])
        .timeout(Duration::from_secs(120))
        .output()
        .expect("runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Comprehensions nested thousands deep: a policy error naming the file at load (exit 2), not a
/// stack overflow in the parser.
#[test]
fn deeply_nested_policy_source_is_refused_at_load() {
    // One bracket a line: regorus refuses lines over 1,024 columns before nesting matters.
    let depth = 5_000;
    let nested = format!("{}1{}", "[x | x :=\n".repeat(depth), "]\n".repeat(depth));
    let body = format!(
        "violations contains v if {{\n\tcount({nested}) < 0\n\tv := {{\"msg\": \"never\", \"path\": []}}\n}}"
    );
    let (code, stderr) = lint_policy("deep", &body);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("deep.rego") && stderr.contains("nest"),
        "{stderr}"
    );
}

/// Thousands of minus signs in a row, one a line (regorus refuses lines over 1,024 columns):
/// each is a unary minus, which regorus's parser takes by recursion, so the run overflowed the
/// stack and aborted lint (exit 134; found by fuzzing). Refused at load, naming the place; a
/// policy's usual `x - -1` loads.
#[test]
fn a_long_run_of_minus_signs_is_refused_at_load() {
    for (body, refused) in [
        (format!("x := ({}1)", "-\n".repeat(5_000)), true),
        ("x := 3 - -1".to_string(), false),
    ] {
        let body = format!(
            "{body}\n\nviolations contains v if {{\n\tx == 0\n\tv := {{\"msg\": \"never\", \"path\": []}}\n}}"
        );
        let (code, stderr) = lint_policy("minus", &body);
        let refusal = refused.then_some(("minus.rego:35:", "minus signs in a row"));
        assert_loaded_or_refused(code, &stderr, refusal);
    }
}

/// What `lint_policy` must give: with `refusal`, the policy refused at load (exit 2) with an error
/// naming the place and saying why; without, the policy loaded (exit 1, the Pod's own findings).
fn assert_loaded_or_refused(code: Option<i32>, stderr: &str, refusal: Option<(&str, &str)>) {
    match refusal {
        Some((place, why)) => {
            assert_eq!(code, Some(2), "{stderr}");
            assert!(stderr.contains(place) && stderr.contains(why), "{stderr}");
        }
        None => assert_eq!(code, Some(1), "{stderr}"),
    }
}

/// A number in scientific notation with a huge exponent: regorus computes ten to that power when
/// it loads the policy, so `0e55555550` took 35 s (found by fuzzing) and a larger one minutes and
/// a gigabyte. Refused at load, naming the place; exponents a policy uses, and names and strings
/// that merely look like one, load.
#[test]
fn a_number_with_a_huge_exponent_is_refused_at_load() {
    for (value, refused) in [
        ("0e55555550", true),
        ("0.0E+1001", true),
        ("1e300", false),
        ("2.5e-3", false),
        ("count([\"0e55555550\"])", false),
    ] {
        let body = format!(
            "x := {value}\n\nviolations contains v if {{\n\tx == -1\n\tv := {{\"msg\": \"never\", \"path\": []}}\n}}"
        );
        let started = Instant::now();
        let (code, stderr) = lint_policy("exponent", &body);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{value}: took {:?}",
            started.elapsed()
        );
        let refusal = refused.then_some(("exponent.rego:", "an exponent over 1000"));
        assert_loaded_or_refused(code, &format!("{value}: {stderr}"), refusal);
    }
}

/// Objects nested 20 deep, well under the bracket limit: regorus's parser tries each level as a
/// comprehension and parses it again, doubling the time per level (found by fuzzing: 16 levels
/// took 13 s). Refused at once, naming the place; 14 levels, as deep as public policies go, load.
#[test]
fn deeply_nested_collections_are_refused_before_parsing() {
    for (depth, refused) in [(20, true), (14, false)] {
        let nested = format!("{}1{}", "{\"a\": ".repeat(depth), "}".repeat(depth));
        let body = format!(
            "data_value := {nested}\n\nviolations contains v if {{\n\tdata_value == 1\n\tv := {{\"msg\": \"never\", \"path\": []}}\n}}"
        );
        let started = Instant::now();
        let (code, stderr) = lint_policy("objects", &body);
        let took = started.elapsed();
        if refused {
            assert_eq!(code, Some(2), "{stderr}");
            assert!(
                stderr.contains("objects.rego:19:") && stderr.contains("nested more than 14 deep"),
                "{stderr}"
            );
            assert!(took < Duration::from_secs(10), "{took:?}");
        } else {
            assert_eq!(code, Some(1), "{depth}: {stderr}");
        }
    }
}

#[test]
fn print_and_trace_errors_name_the_file() {
    for (name, call) in [
        ("printing", "print(input.object.nope.nope)"),
        ("tracing", "trace(1)"),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "pod.yaml", PRIVILEGED_POD);
        let body = format!(
            "violations contains v if {{\n\t{call}\n\tv := {{\"msg\": \"x\", \"path\": []}}\n}}"
        );
        write(
            dir.path(),
            &format!("org/{name}.rego"),
            &custom_rule(name, &body),
        );
        let output = cmd(dir.path())
            .args([
                "lint",
                "pod.yaml",
                "--no-config",
                "--policies",
                "org",
                "--format",
                "json",
            ])
            .timeout(Duration::from_secs(120))
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.code() == Some(2) || output.status.code() == Some(1),
            "{name}: {:?} {stderr}",
            output.status.code()
        );
        if output.status.code() == Some(2) {
            assert!(
                stderr.contains(&format!("{name}.rego"))
                    || stdout.contains(&format!("{name}.rego")),
                "{name}: the error names the file: {stderr}{stdout}"
            );
        }
    }
}

// --- serve -------------------------------------------------------------------------------------

fn start(rule: &str, body: &str, extra: &[&str]) -> Server {
    let mut args: Vec<String> = ["--no-config", "--policies", "org"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    Server::start(Options {
        args,
        files: vec![(
            Box::leak(format!("org/{rule}.rego").into_boxed_str()),
            custom_rule(rule, body),
        )],
    })
}

/// Failure mode allow: the broken rule warns (named), the built-ins still deny the privileged Pod,
/// and the error is counted by rule. Failure mode deny: the denial names the broken rule too.
#[tokio::test]
async fn serve_a_broken_rule_judges_only_itself() {
    for (rule, body) in [
        ("malformed-violations", MALFORMED_VIOLATIONS),
        ("bad-path", BAD_PATH),
        ("self-recursion", SELF_RECURSION),
        ("computed-range", COMPUTED_RANGE),
    ] {
        for mode in ["allow", "deny"] {
            let server = start(rule, body, &["--failure-mode", mode]);
            let mut conn = server.connect().await.expect("connect");
            let (status, review) = conn.review(fixture("pod-create-denied.json")).await;
            assert_eq!(status, 200, "{rule} {mode}: {review}");
            let r = response(&review);
            assert_eq!(r["allowed"], false, "{rule} {mode}: still denied: {r}");
            let message = denial(r);
            assert!(
                message.contains("[privileged-container]"),
                "{rule} {mode}: the built-in verdict stands: {message}"
            );
            match mode {
                "allow" => assert!(
                    warnings(r).iter().any(|w| w.contains(rule)),
                    "{rule} {mode}: a warning names the broken rule: {r}"
                ),
                _ => assert!(
                    message.contains(rule),
                    "{rule} {mode}: the denial names the broken rule: {message}"
                ),
            }
            assert_eq!(
                server.metric(&format!(r#"seaworthy_rule_errors_total{{rule="{rule}"}}"#)),
                1.0,
                "{rule} {mode}"
            );
            assert_eq!(
                server.metric(r#"seaworthy_evaluation_failures_total{reason="error"}"#),
                0.0,
                "{rule} {mode}: not a whole-review failure"
            );
            // The server is alive and judges the next request the same way.
            let (status, review) = conn.review(fixture("pod-create-pass.json")).await;
            assert_eq!(status, 200, "{rule} {mode}: {review}");
            assert_eq!(
                response(&review)["allowed"],
                mode == "allow",
                "{rule} {mode}: {review}"
            );
        }
    }
}

/// The webhook judges by the same catalog: a custom rule (severity error) that binds a field the
/// Pod lacks and uses it only under `not` denied every Pod on the RVM. It now admits the Pod, as
/// OPA would; the same rule on a field the Pod has still denies, so the rule does run.
#[tokio::test]
async fn serve_does_not_deny_on_a_binding_of_an_undefined_value() {
    let rule = r#"violations contains v if {
	x := input.object.FIELD
	not startswith(x, "zzz")
	v := {"msg": "bound FIELD", "path": []}
}"#;
    for (field, allowed) in [("spec.missingField", true), ("metadata.name", false)] {
        let server = start("undefined-binding", &rule.replace("FIELD", field), &[]);
        let mut conn = server.connect().await.expect("connect");
        let (status, review) = conn.review(fixture("pod-create-pass.json")).await;
        assert_eq!(status, 200, "{field}: {review}");
        let r = response(&review);
        assert_eq!(r["allowed"], allowed, "{field}: {r}");
        if !allowed {
            assert!(denial(r).contains("[undefined-binding]"), "{field}: {r}");
        }
    }
}

/// An allocation that takes seconds and gigabytes in regorus: answered within the budget by the
/// failure mode, counted as a timeout, and the server keeps answering.
#[tokio::test]
async fn serve_answers_within_the_budget_whatever_the_rule_does() {
    // Each builtin call is within the limits, but formatting eight million numbers is one step
    // that regorus's timer cannot interrupt: the deadline must hold. It takes seconds in a debug
    // build and about half a second in a release build, several times the budget in both.
    let slow = r#"big := numbers.range(1, 1000000)

violations contains v if {
	count(sprintf("%v", [[big, big, big, big, big, big, big, big]])) < 0
	v := {"msg": "never", "path": []}
}"#;
    let server = start(
        "slow-format",
        slow,
        &["--eval-timeout", "100ms", "--failure-mode", "deny"],
    );
    let mut conn = server.connect().await.expect("connect");
    for round in 0..2 {
        let started = Instant::now();
        let (status, review) = conn.review(fixture("pod-create-pass.json")).await;
        let took = started.elapsed();
        assert_eq!(status, 200, "{review}");
        let r = response(&review);
        assert!(
            took < Duration::from_millis(1500),
            "round {round}: {took:?}"
        );
        assert_eq!(r["allowed"], false, "{r}");
        assert!(format!("{r}").contains("time budget"), "{r}");
    }
    assert_eq!(
        server.metric(r#"seaworthy_evaluation_failures_total{reason="timeout"}"#),
        2.0
    );
    // Never on a worker thread, where the call would have held it for seconds: a custom policy
    // judges this Pod, so it went to an evaluation thread at once.
    assert_eq!(server.metric("seaworthy_evaluations_moved_total"), 0.0);
}
