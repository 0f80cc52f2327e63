//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use seaworthy::config::Config;
use seaworthy::engine::Backend;
use seaworthy::lint::{self, Outcome};
use seaworthy::manifest::{Input, LoadOptions};
use seaworthy::suppress::Suppressor;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Lints paths with the built-in rules and the given config, as `seaworthy lint` does.
pub fn lint_with(config: &Config, paths: &[&Path]) -> Outcome {
    let mut evaluator =
        lint::evaluator_for(config, &[], Backend::Rvm).expect("built-in policies load");
    let inputs: Vec<Input> = paths.iter().map(|p| Input::Path(p.to_path_buf())).collect();
    let suppressor = Suppressor {
        exemptions: &config.exemptions,
        allow_annotations: true,
    };
    lint::lint_inputs(
        &inputs,
        &LoadOptions::default(),
        &mut evaluator,
        &suppressor,
    )
}

pub fn lint(paths: &[&Path]) -> Outcome {
    lint_with(&Config::default(), paths)
}

/// `line:column rule: message` for each active finding, the compact form snapshots use.
pub fn summarize(outcome: &Outcome, rule: Option<&str>) -> String {
    outcome
        .active()
        .filter(|f| rule.is_none_or(|r| f.rule == r))
        .map(|f| {
            format!(
                "{}:{} {} [{}]: {}",
                f.location.line, f.location.column, f.location.path, f.rule, f.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
pub mod https;

/// The SARIF 2.1.0 schema vendored in tests/schemas, compiled.
pub fn sarif_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("tests/schemas/sarif-schema-2.1.0.json"))
        .expect("vendored schema");
    // The published schema's `run.language` pattern ends in `]?$`: ECMA-262 reads the lone `]` as
    // a literal, Rust's regex engine rejects it. Escaping it keeps the meaning.
    let text = text.replace(r#"-[a-zA-Z]{2}]?$"#, r#"-[a-zA-Z]{2}\\]?$"#);
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::draft7::new(&schema).expect("schema compiles")
}

/// Every way a SARIF document breaks the schema, one per line (empty when it validates).
pub fn sarif_errors(validator: &jsonschema::Validator, sarif: &serde_json::Value) -> Vec<String> {
    validator
        .iter_errors(sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}
