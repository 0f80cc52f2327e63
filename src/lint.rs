//! One lint run: load inputs, build the workload view and the inventory, evaluate, suppress, summarise.
//! Pure apart from reading the inputs; the CLI prints what it returns.

use serde::Serialize;

use crate::config::FailOn;

use crate::check::{Batch, Checker, Converted, Evaluation};
use crate::context::Context;
use crate::engine::Evaluator;
use crate::finding::{Finding, ObjectRef, Severity};
use crate::inventory::Inventory;
use crate::manifest::{self, Input, LoadOptions, Loaded, SourceFile, INVALID_MANIFEST};
use crate::suppress::Suppressor;

pub use crate::check::POLICY_ERROR;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files: usize,
    pub objects: usize,
    pub errors: usize,
    pub warnings: usize,
    pub notices: usize,
    pub suppressed: usize,
}

impl Summary {
    fn count(files: usize, objects: usize, findings: &[Finding]) -> Summary {
        let mut summary = Summary {
            files,
            objects,
            ..Summary::default()
        };
        for f in findings {
            match (&f.suppressed, f.severity) {
                (Some(_), _) => summary.suppressed += 1,
                (None, Severity::Error) => summary.errors += 1,
                (None, Severity::Warning) => summary.warnings += 1,
                (None, Severity::Notice) => summary.notices += 1,
            }
        }
        summary
    }
}

/// An object of the run as reports list it (reporters that list clean objects too need them).
#[derive(Debug, Clone, PartialEq)]
pub struct ListedObject {
    /// The file its findings point at (for rendered input, the template when mapped).
    pub file: String,
    /// The render it comes from (`Location::render`), if any.
    pub render: Option<String>,
    pub id: ObjectRef,
}

pub struct Outcome {
    pub files: Vec<SourceFile>,
    /// Files findings point into that were not linted themselves (the Helm templates rendered
    /// output maps back to), so reports can quote their lines.
    pub templates: Vec<SourceFile>,
    /// Every finding, suppressed ones included (marked), sorted by file, line, column and rule
    /// within each part of the run (the inputs, then each render).
    pub findings: Vec<Finding>,
    pub summary: Summary,
    pub objects: Vec<ListedObject>,
    /// True when an input could not be read or parsed, a render failed, or a rule failed to
    /// evaluate.
    pub broken: bool,
}

impl Outcome {
    /// One outcome of several parts of a run (the inputs, each render), in order: each part was
    /// linted on its own, with only its own objects related to each other.
    pub fn merge(parts: Vec<Outcome>) -> Outcome {
        let mut merged = Outcome {
            files: Vec::new(),
            templates: Vec::new(),
            findings: Vec::new(),
            summary: Summary::default(),
            objects: Vec::new(),
            broken: false,
        };
        for part in parts {
            let offset = merged.objects.len();
            merged
                .findings
                .extend(part.findings.into_iter().map(|mut f| {
                    f.subject = f.subject.map(|i| i + offset);
                    f
                }));
            merged.files.extend(part.files);
            for template in part.templates {
                if !merged.templates.iter().any(|t| t.name == template.name) {
                    merged.templates.push(template);
                }
            }
            merged.objects.extend(part.objects);
            merged.broken |= part.broken;
        }
        merged.summary = Summary::count(merged.files.len(), merged.objects.len(), &merged.findings);
        merged
    }

    /// The text of a line of a file findings point into (an input or a template), if known.
    pub fn source_line(&self, file: &str, line: u32) -> Option<&str> {
        self.files
            .iter()
            .chain(&self.templates)
            .find(|f| f.name == file)
            .and_then(|f| f.line(line))
    }

    pub fn active(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppressed.is_none())
    }

    /// Suppresses the findings a baseline accepts and recounts; returns how many it matched.
    pub fn apply_baseline(&mut self, baseline: &crate::baseline::Baseline) -> usize {
        let matched = baseline.apply(&mut self.findings);
        self.summary = Summary::count(self.summary.files, self.summary.objects, &self.findings);
        matched
    }

    /// 0: nothing at or above `fail_on`; 1: findings at or above it; 2: broken input or no objects.
    pub fn exit_code(&self, fail_on: FailOn) -> i32 {
        if self.broken || self.summary.objects == 0 {
            2
        } else if self.active().any(|f| fail_on.fails(f.severity)) {
            1
        } else {
            0
        }
    }
}

pub fn lint_inputs(
    inputs: &[Input],
    load: &LoadOptions,
    evaluator: &mut Evaluator,
    suppressor: &Suppressor,
) -> Outcome {
    let loaded = manifest::load_inputs(inputs, load);
    lint_loaded(loaded, evaluator, suppressor)
}

pub fn lint_loaded(loaded: Loaded, evaluator: &mut Evaluator, suppressor: &Suppressor) -> Outcome {
    let Loaded {
        files,
        objects,
        mut problems,
    } = loaded;

    // Every object is converted once; its workload view and the relations between objects
    // (selectors, HPA targets, NetworkPolicy isolation) are worked out once, in Rust.
    let converted = Converted::all(&objects);
    let context = Context::build(objects.iter().zip(&converted).map(|(o, c)| c.entry(o)));
    if evaluator.uses_inventory() {
        let mut inventory = Inventory::new();
        for (object, converted) in objects.iter().zip(&converted) {
            inventory.add(&object.id, converted.value.clone());
        }
        evaluator.set_data(inventory.to_data());
    }
    let broken_input = problems.iter().any(|f| f.rule == INVALID_MANIFEST);
    // Duplicate keys are attributed to the object of their document, so they can be suppressed.
    for finding in problems.iter_mut() {
        if let Some(id) = &finding.object {
            finding.subject = objects
                .iter()
                .position(|o| &o.id == id && files[o.file].name == finding.location.file);
        }
    }
    let checked = Checker {
        evaluator,
        suppressor: *suppressor,
    }
    .check(
        Batch {
            objects: &objects,
            files: &files,
            converted,
            context: &context,
            problems,
        },
        Evaluation::Parallel,
    );
    let mut findings = checked.findings;
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));

    let summary = Summary::count(files.len(), objects.len(), &findings);
    let objects = objects
        .iter()
        .map(|o| ListedObject {
            file: files[o.file].name.clone(),
            render: None,
            id: o.id.clone(),
        })
        .collect();
    Outcome {
        files,
        templates: Vec::new(),
        findings,
        summary,
        objects,
        broken: broken_input || checked.failed,
    }
}

/// Why a run could not start: a policy or the config is broken.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Policy(#[from] crate::engine::PolicyError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

/// Loads the built-in policies, the config's and `extra_dirs`, checks the config against them and
/// compiles the enabled rules.
pub fn evaluator_for(
    config: &crate::config::Config,
    extra_dirs: &[std::path::PathBuf],
    backend: crate::engine::Backend,
) -> Result<Evaluator, SetupError> {
    evaluator_with_cache(
        config,
        extra_dirs,
        backend,
        &crate::engine::Cache::disabled(),
    )
}

/// As [`evaluator_for`], with the rules' metadata and the compiled program taken from `cache`
/// when it holds them for exactly these policies (see `engine::cache`).
pub fn evaluator_with_cache(
    config: &crate::config::Config,
    extra_dirs: &[std::path::PathBuf],
    backend: crate::engine::Backend,
    cache: &crate::engine::Cache,
) -> Result<Evaluator, SetupError> {
    let mut dirs = config.policy_dirs();
    dirs.extend(extra_dirs.iter().cloned());
    let catalog = crate::engine::Catalog::load_with_cache(&dirs, cache)?;
    let settings = config.rule_settings(&catalog)?;
    Ok(Evaluator::new(catalog, &settings, backend)?)
}
