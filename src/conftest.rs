//! conftest policies, unchanged: the `deny`, `violation` and `warn` rules (and conftest's
//! `deny_<name>` forms) of the packages named by `--conftest-namespace` (default `main`) become
//! rules `conftest/<package>/<rule>` of the catalog. Their generated source evaluates the rule
//! with the object itself as `input` (conftest's per-document input), so it runs on the
//! interpreter. Files are loaded as they are: Rego v1 (`deny contains msg if`) or, when that does
//! not parse, v0 (`deny[msg] { ... }`). `_test.rego` files are left out, as `conftest test` does.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::json;

use crate::engine::{parse_alone, Catalog, PolicyError, PolicySource};
use crate::gatekeeper::{files_in, rego_string, Loaded};

/// The rule names conftest reads, and what each reports as.
const KINDS: [(&str, &str); 3] = [
    ("deny", "error"),
    ("violation", "error"),
    ("warn", "warning"),
];

struct File {
    name: String,
    text: String,
    rego_v0: bool,
    package: String,
}

/// Loads every `.rego` file under `dirs` (not `_test.rego`) and makes a rule of each `deny`,
/// `violation` and `warn` rule of the `namespaces` (`main` when empty).
pub fn load(dirs: &[PathBuf], namespaces: &[String]) -> Loaded {
    let mut loaded = Loaded::default();
    let namespaces: Vec<String> = if namespaces.is_empty() {
        vec!["main".to_string()]
    } else {
        namespaces.to_vec()
    };
    let mut files = Vec::new();
    for dir in dirs {
        let paths = match files_in(dir, &[".rego"]) {
            Ok(paths) => paths,
            Err(e) => {
                loaded.errors.push(e);
                continue;
            }
        };
        for path in paths {
            let name = path.display().to_string();
            if name.ends_with("_test.rego") {
                continue;
            }
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) => {
                    loaded.errors.push(PolicyError::Read {
                        path: name,
                        message: e.to_string(),
                    });
                    continue;
                }
            };
            match parse(&name, &text) {
                Ok(rego_v0) => {
                    let package = crate::engine::policy::package_of(&text).unwrap_or_default();
                    files.push(File {
                        name,
                        text,
                        rego_v0,
                        package,
                    });
                }
                Err(e) => loaded.errors.push(e),
            }
        }
    }
    // (package, rule name) → the first file defining it.
    let mut rules: BTreeMap<(String, String), String> = BTreeMap::new();
    for file in &files {
        if !namespaces.contains(&file.package) {
            continue;
        }
        for rule in rule_names(&file.text) {
            rules
                .entry((file.package.clone(), rule))
                .or_insert_with(|| file.name.clone());
        }
    }
    if rules.is_empty() && loaded.errors.is_empty() && !files.is_empty() {
        loaded.errors.push(PolicyError::Invalid {
            file: dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            message: format!(
                "no deny, violation or warn rule in package {} (name the packages with --conftest-namespace)",
                namespaces.join(", ")
            ),
        });
    }
    let policies: Vec<PolicySource> = files
        .into_iter()
        .map(|f| PolicySource {
            file: f.name,
            text: f.text,
            builtin: false,
            rego_v0: f.rego_v0,
        })
        .collect();
    let wrappers: Vec<PolicySource> = rules
        .iter()
        .enumerate()
        .map(|(index, ((package, rule), file))| wrapper(package, rule, file, index))
        .collect();
    let mut all = policies;
    all.extend(wrappers);
    // Checked together (packages span files); an error names its file and line.
    match Catalog::from_policy_sources(all.clone()) {
        Ok(_) => loaded.sources.extend(all),
        Err(e) => loaded.errors.push(e),
    }
    loaded
}

/// The rule id of a conftest rule: `conftest/<package>/<rule>`, lowercase.
pub fn rule_id(package: &str, rule: &str) -> String {
    format!(
        "conftest/{}/{}",
        package.to_ascii_lowercase(),
        rule.to_ascii_lowercase()
    )
}

/// Parses a file as Rego v1, else as v0 (true), with the catalog's guards ([`parse_alone`]). The
/// error is the v1 parser's when the file uses v1's keywords, else the v0 parser's.
fn parse(name: &str, text: &str) -> Result<bool, PolicyError> {
    let v1 = match parse_alone(name, text, false) {
        Ok(()) => return Ok(false),
        Err(e) => e,
    };
    match parse_alone(name, text, true) {
        Ok(()) => Ok(true),
        Err(v0) => {
            let looks_v1 = text.contains("import rego.v1")
                || text.contains(" if ")
                || text.contains(" contains ");
            Err(if looks_v1 { v1 } else { v0 })
        }
    }
}

/// The conftest rules a file defines: `deny`, `violation`, `warn` and their `_<name>` forms,
/// at the start of a line. `test_` rules are never among them.
fn rule_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        let ident: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let known = KINDS.iter().any(|(kind, _)| {
            ident == *kind
                || ident
                    .strip_prefix(kind)
                    .is_some_and(|rest| rest.starts_with('_'))
        });
        if known && !names.contains(&ident) {
            names.push(ident);
        }
    }
    names
}

fn wrapper(package: &str, rule: &str, file: &str, index: usize) -> PolicySource {
    let (kind, severity) = KINDS
        .iter()
        .find(|(kind, _)| rule == *kind || rule.starts_with(&format!("{kind}_")))
        .copied()
        .unwrap_or(("deny", "error"));
    // conftest's exceptions name a rule by what follows its kind: `deny_foo` → "foo", `deny` → "".
    let short = rule
        .strip_prefix(kind)
        .map(|rest| rest.trim_start_matches('_'))
        .unwrap_or_default();
    let metadata = json!({
        "id": rule_id(package, rule),
        "area": "conftest",
        "severity": severity,
        "summary": format!("conftest rule {rule} of package {package}"),
        "remediation": "Change the object so that the conftest policy passes, or add a conftest exception.",
    });
    let short = rego_string(short);
    let text = format!(
        r#"# What it does: runs the conftest rule {rule} of package {package} ({file}) on each object.
# Why: the conftest policy's own rule, run unchanged.
# Example: see the policy's tests.
# Fix: change the object as the message says.
package seaworthy.rules.conftest.p{index}

import rego.v1

metadata := {metadata:#}

violations contains v if {{
	results := data.{package}.{rule} with input as input.object
	not is_boolean(results)
	not excepted
	some result in results
	v := {{"msg": message(result), "path": []}}
}}

violations contains v if {{
	results := data.{package}.{rule} with input as input.object
	results == true
	not excepted
	v := {{"msg": "{rule} of package {package}", "path": []}}
}}

excepted if {{
	exceptions := data.{package}.exception with input as input.object
	some names in exceptions
	{short} in names
}}

message(result) := result if {{
	is_string(result)
}} else := result.msg if {{
	is_string(result.msg)
}} else := sprintf("%v", [result])
"#
    );
    PolicySource {
        file: file.to_string(),
        text,
        builtin: false,
        rego_v0: false,
    }
}
