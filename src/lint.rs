//! One lint run: load inputs, build the workload view and the inventory, evaluate, suppress, summarise.
//! Pure apart from reading the inputs; the CLI prints what it returns.

use serde::Serialize;

use crate::config::FailOn;

use rayon::prelude::*;
use regorus::Value as RegoValue;

use crate::check::{Batch, Checked, Checker, Converted, Evaluation};
use crate::context::{Context, Origin};
use crate::engine::Evaluator;
use crate::finding::{Finding, ObjectRef, Severity};
use crate::inventory::UnitInventory;
use crate::manifest::{self, Input, LoadOptions, Loaded, Object, SourceFile, INVALID_MANIFEST};
use crate::suppress::Suppressor;
use crate::unit::{implicitly_namespaced, Grouping, Relate, UnitId, Units};

pub use crate::check::POLICY_ERROR;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files: usize,
    pub objects: usize,
    pub errors: usize,
    pub warnings: usize,
    pub notices: usize,
    pub suppressed: usize,
    /// Kustomize patch files (partial objects) that were not linted; see `patch_files`.
    #[serde(skip_serializing_if = "is_zero")]
    pub patch_files: usize,
    /// YAML and JSON files found in the tree that hold no Kubernetes object (Compose files, CI
    /// workflows, values files, Helm templates outside a chart): skipped, not errors.
    #[serde(skip_serializing_if = "is_zero")]
    pub skipped: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
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
    /// The unit of relation it belongs to (see `unit`): a directory, a file, `<stdin>`, `run`, or
    /// a render.
    pub unit: String,
}

pub struct Outcome {
    /// The files read; without their text when the run's reports quote no source line (see
    /// [`FilesPass::quote_lines`]).
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
    /// The kustomize patch files that were skipped, as named in reports.
    pub patch_files: Vec<String>,
    /// The files skipped as not Kubernetes manifests, as named in reports.
    pub skipped_files: Vec<String>,
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
            patch_files: Vec::new(),
            skipped_files: Vec::new(),
        };
        for part in parts {
            let offset = merged.objects.len();
            if merged.findings.is_empty() && offset == 0 {
                // The first part's findings are moved, not copied: a run of one input (the usual
                // case) held every finding twice here, the largest allocation of its peak.
                merged.findings = part.findings;
            } else {
                merged
                    .findings
                    .extend(part.findings.into_iter().map(|mut f| {
                        f.subject = f.subject.map(|i| i + offset);
                        f
                    }));
            }
            merged.files.extend(part.files);
            for template in part.templates {
                if !merged.templates.iter().any(|t| t.name == template.name) {
                    merged.templates.push(template);
                }
            }
            merged.objects.extend(part.objects);
            merged.broken |= part.broken;
            merged.patch_files.extend(part.patch_files);
            merged.skipped_files.extend(part.skipped_files);
        }
        merged.summary = Summary::count(merged.files.len(), merged.objects.len(), &merged.findings);
        merged.summary.patch_files = merged.patch_files.len();
        merged.summary.skipped = merged.skipped_files.len();
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
        self.summary = Summary {
            patch_files: self.summary.patch_files,
            skipped: self.summary.skipped,
            ..Summary::count(self.summary.files, self.summary.objects, &self.findings)
        };
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

/// Lints files, directories and stdin, relating objects within directories (the default of
/// `--relate`).
pub fn lint_inputs(
    inputs: &[Input],
    load: &LoadOptions,
    evaluator: &mut Evaluator,
    suppressor: &Suppressor,
) -> Outcome {
    lint_inputs_relating(inputs, Relate::default(), true, load, evaluator, suppressor)
}

/// Lints files, directories and stdin with units of relation grouped as `relate` says. Kustomize
/// patch files in the linted tree are skipped (counted in the summary).
pub fn lint_inputs_relating(
    inputs: &[Input],
    relate: Relate,
    quote_lines: bool,
    load: &LoadOptions,
    evaluator: &mut Evaluator,
    suppressor: &Suppressor,
) -> Outcome {
    let roots: Vec<std::path::PathBuf> = inputs
        .iter()
        .filter_map(|input| match input {
            Input::Path(path) if path.is_dir() => Some(path.clone()),
            _ => None,
        })
        .collect();
    lint_files(
        inputs,
        &FilesPass {
            relate,
            roots: &roots,
            skip_non_manifests: false,
            quote_lines,
        },
        load,
        evaluator,
        suppressor,
    )
}

/// How the plain files of a run are linted.
pub struct FilesPass<'a> {
    pub relate: Relate,
    /// The directories given on the command line, where kustomizations listing patch files are
    /// looked for.
    pub roots: &'a [std::path::PathBuf],
    /// Skip (and count) documents that are not Kubernetes objects instead of reporting them.
    pub skip_non_manifests: bool,
    /// Keep the files' text for reports that quote source lines (the text report); without, it
    /// is freed before the check and the outcome's files hold no text.
    pub quote_lines: bool,
}

/// Lints files (as found by `discover`, or given) and stdin. Kustomize patch files are skipped
/// (counted in the summary); with `skip_non_manifests`, so is YAML that is no Kubernetes object.
pub fn lint_files(
    inputs: &[Input],
    pass: &FilesPass<'_>,
    load: &LoadOptions,
    evaluator: &mut Evaluator,
    suppressor: &Suppressor,
) -> Outcome {
    let mut loaded = manifest::load_inputs(inputs, load);
    let patches = crate::patch_files::find(&loaded.files, pass.roots);
    let patch_files = skip_patch_files(&mut loaded, &patches.files);
    let skipped = if pass.skip_non_manifests {
        skip_non_manifests(&mut loaded)
    } else {
        Vec::new()
    };
    if !pass.quote_lines {
        loaded.release_text();
    }
    let mut outcome = lint_loaded(
        loaded,
        &Grouping::Inputs(pass.relate),
        evaluator,
        suppressor,
    );
    outcome.summary.patch_files = patch_files.len();
    outcome.patch_files = patch_files;
    outcome.summary.skipped = skipped.len();
    outcome.skipped_files = skipped;
    outcome
}

/// A file that could not be read at all is reported whatever it would have held.
fn is_read_failure(problem: &Finding) -> bool {
    problem.message.starts_with("cannot read") || problem.message.starts_with("input is ")
}

/// What loading says of a document that names no kind of object.
const NO_KIND: &str = "object has no apiVersion and kind";
const NOT_A_MAPPING: &str = "document is not a mapping";

/// Takes the documents that are not Kubernetes objects out of the run: a document that is not a
/// mapping, or a mapping with neither `kind` nor `metadata` (Compose files,
/// CI workflows, values files, `Chart.yaml`, JSON configs); and Helm templates outside a chart
/// (a file with `{{` under a `templates` directory), and files that do not parse and have no
/// top-level `kind:` or `apiVersion:` line anywhere. A
/// document that has a `kind` stays, and is still an error when it is broken. Returns the files
/// that held nothing else, which the summary counts as skipped.
pub fn skip_non_manifests(loaded: &mut Loaded) -> Vec<String> {
    let mut skipped_docs: std::collections::HashMap<String, Vec<u32>> = Default::default();
    let mut templates: std::collections::HashSet<usize> = Default::default();
    for (index, file) in loaded.files.iter().enumerate() {
        let in_templates = std::path::Path::new(&file.name)
            .components()
            .any(|c| c.as_os_str() == "templates");
        if in_templates && file.text.contains("{{") {
            templates.insert(index);
            continue;
        }
        let complains = |p: &Finding| {
            p.rule == INVALID_MANIFEST && p.location.file == file.name && !is_read_failure(p)
        };
        if !loaded.problems.iter().any(complains) {
            continue;
        }
        // YAML that does not parse and names no kind anywhere (an Alertmanager config with a
        // bad indent) is not a broken manifest: there is no object it could have been.
        let names_a_kind = file
            .text
            .lines()
            .any(|l| l.starts_with("kind:") || l.starts_with("apiVersion:"))
            || file.text.contains("\"kind\"");
        let has_objects = loaded.objects.iter().any(|o| o.file == index);
        let unparsable = loaded
            .problems
            .iter()
            .any(|p| complains(p) && p.message.starts_with("cannot parse YAML"));
        // A Go template anywhere (`{{ .Values.x }}` as a key) is not a manifest as written.
        let template = file.text.contains("{{");
        if unparsable && (!names_a_kind || template) && !has_objects {
            templates.insert(index);
            continue;
        }
        let lines: Vec<u32> = crate::manifest::split::split_documents(&file.text)
            .into_iter()
            .filter_map(|chunk| {
                let docs = crate::manifest::yaml::parse_str(
                    chunk.text,
                    chunk.first_line,
                    crate::manifest::yaml::Limits::default(),
                )
                .ok()?;
                Some(docs)
            })
            .flatten()
            .filter_map(|doc| doc.root)
            .filter(|root| match root.as_map() {
                None => true,
                Some(_) => root.get("kind").is_none() && root.get("metadata").is_none(),
            })
            .map(|root| root.span.line)
            .collect();
        if !lines.is_empty() {
            skipped_docs.insert(file.name.clone(), lines);
        }
    }
    if skipped_docs.is_empty() && templates.is_empty() {
        return Vec::new();
    }
    let template_names: std::collections::HashSet<&str> = templates
        .iter()
        .filter_map(|&i| loaded.files.get(i).map(|f| f.name.as_str()))
        .collect();
    loaded.objects.retain(|o| !templates.contains(&o.file));
    loaded.problems.retain(|p| {
        if template_names.contains(p.location.file.as_str()) {
            return is_read_failure(p);
        }
        if p.rule != INVALID_MANIFEST {
            return true;
        }
        let skipped = skipped_docs.get(&p.location.file).is_some_and(|lines| {
            lines.contains(&p.location.line)
                && (p.message.starts_with(NO_KIND) || p.message.starts_with(NOT_A_MAPPING))
        });
        !skipped
    });
    let mut names = Vec::new();
    for (index, file) in loaded.files.iter().enumerate() {
        let touched = templates.contains(&index) || skipped_docs.contains_key(&file.name);
        let holds_something = loaded.objects.iter().any(|o| o.file == index)
            || loaded.problems.iter().any(|p| p.location.file == file.name);
        if touched && !holds_something {
            names.push(file.name.clone());
        }
    }
    names
}

/// Takes the objects of patch files out of the run, with what loading said about their content
/// (a JSON 6902 patch is a list, not an object); failures to read or parse them stay. Returns the
/// files' names.
fn skip_patch_files(loaded: &mut Loaded, patches: &[usize]) -> Vec<String> {
    if patches.is_empty() {
        return Vec::new();
    }
    let names: Vec<String> = patches
        .iter()
        .filter_map(|&i| loaded.files.get(i).map(|f| f.name.clone()))
        .collect();
    loaded
        .objects
        .retain(|o| patches.binary_search(&o.file).is_err());
    loaded.problems.retain(|p| {
        !names.contains(&p.location.file)
            || (p.rule == INVALID_MANIFEST && p.message.starts_with("cannot "))
    });
    names
}

/// Lints loaded objects: the objects of each unit of `grouping` relate to each other, and objects
/// with a namespace relate across units.
pub fn lint_loaded(
    loaded: Loaded,
    grouping: &Grouping,
    evaluator: &mut Evaluator,
    suppressor: &Suppressor,
) -> Outcome {
    let Loaded {
        files,
        objects,
        mut problems,
    } = loaded;
    let units = Units::assign(&files, grouping);
    let unit_of = |file: usize| units.of_file.get(file).copied().unwrap_or(0);

    // Every object is converted once; its workload view and the relations between objects
    // (selectors, HPA targets, NetworkPolicy isolation) are worked out once, in Rust, for all
    // units together (each object sees them from its unit and file through `Context::for_viewer`).
    let converted = Converted::all(&objects, Some(evaluator));
    let context = Context::build_in_units(
        objects.iter().zip(&converted).map(|(o, c)| {
            let origin = Origin {
                unit: unit_of(o.file),
                file: o.file,
            };
            (c.entry(o), origin)
        }),
        units.isolated,
    );
    let broken_input = problems.iter().any(|f| f.rule == INVALID_MANIFEST);
    // Duplicate keys are attributed to the object of their document, so they can be suppressed.
    for finding in problems.iter_mut() {
        if let Some(id) = &finding.object {
            finding.subject = objects
                .iter()
                .position(|o| &o.id == id && files[o.file].name == finding.location.file);
        }
    }

    // Objects are checked in groups that see the same relations: same unit, and, where
    // `data.inventory` differs for them, the same kind of namespace (named or not).
    let uses_inventory = evaluator.uses_inventory();
    let keys: Vec<GroupKey> = objects
        .iter()
        .map(|o| GroupKey {
            unit: if units.isolated { unit_of(o.file) } else { 0 },
            implicit: units.isolated && uses_inventory && implicitly_namespaced(&o.id),
            file: o.file,
        })
        .collect();
    let mut inventory = UnitInventory::new();
    if uses_inventory {
        for ((object, converted), key) in objects.iter().zip(&converted).zip(&keys) {
            if units.isolated {
                inventory.add(key.unit, &object.id, converted.value.clone());
            } else {
                // One unit: objects without a namespace are in `default`, as applied without -n.
                let id = ObjectRef {
                    namespace: crate::inventory::effective_namespace(&object.id)
                        .map(str::to_string),
                    ..object.id.clone()
                };
                inventory.add(0, &id, converted.value.clone());
            }
        }
    }
    let (objects, mut findings, failed) = check_in_groups(
        objects,
        converted,
        &keys,
        problems,
        &context,
        &mut inventory,
        uses_inventory,
        &Checker {
            evaluator,
            suppressor: *suppressor,
        },
        &files,
    );
    // Stable, so findings with equal keys keep the order the groups produced them in.
    findings.par_sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));

    let summary = Summary::count(files.len(), objects.len(), &findings);
    let listed = objects
        .into_par_iter()
        .map(|Seen { id, file }| ListedObject {
            file: files[file].name.clone(),
            render: None,
            id,
            unit: units.name(unit_of(file)).to_string(),
        })
        .collect();
    // The context and the inventory die here: freeing them is a few percent of a run, which the
    // report need not wait for. (The parsed trees went with their groups.)
    drop_in_background((context, inventory));
    let objects = listed;
    Outcome {
        files,
        templates: Vec::new(),
        findings,
        summary,
        objects,
        broken: broken_input || failed,
        patch_files: Vec::new(),
        skipped_files: Vec::new(),
    }
}

/// The rule id of the notice about an unknown id in `seaworthy.dev/ignore`.
pub const UNKNOWN_IGNORED_RULE: &str = "unknown-ignored-rule";

/// A notice for each id in an object's `seaworthy.dev/ignore` that names no rule: a typo there
/// silently suppresses nothing. Ids of the loader's and renderer's own findings count as known.
fn unknown_ignored_rules(
    objects: &[Object],
    files: &[SourceFile],
    rules: &[crate::engine::Rule],
) -> Vec<Finding> {
    let builtin = [
        INVALID_MANIFEST,
        manifest::DUPLICATE_KEY,
        POLICY_ERROR,
        crate::finding::RENDER_ERROR,
        "*",
    ];
    let mut notices = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        let Some(list) = object.annotation(crate::suppress::IGNORE_ANNOTATION) else {
            continue;
        };
        for id in list
            .split([',', ' '])
            .map(str::trim)
            .filter(|i| !i.is_empty())
        {
            if builtin.contains(&id) || rules.iter().any(|r| r.meta.id == id) {
                continue;
            }
            let suggestion = did_you_mean(id, rules.iter().map(|r| r.meta.id.as_str()))
                .map(|s| format!("; did you mean {s}?"))
                .unwrap_or_default();
            let path = [
                crate::path::PathStep::Key("metadata".into()),
                crate::path::PathStep::Key("annotations".into()),
                crate::path::PathStep::Key(crate::suppress::IGNORE_ANNOTATION.into()),
            ];
            notices.push(Finding {
                rule: UNKNOWN_IGNORED_RULE.to_string(),
                severity: Severity::Notice,
                message: format!(
                    "{} names {id:?}, which is no rule, so it suppresses nothing{suggestion}",
                    crate::suppress::IGNORE_ANNOTATION
                ),
                object: Some(object.id.clone()),
                location: object.location(files, &path),
                path: path.to_vec(),
                subject: Some(index),
                suppressed: None,
                fingerprint: format!(
                    "{UNKNOWN_IGNORED_RULE}|{}|{}|{}|{id}",
                    object.id.kind,
                    object.id.namespace.as_deref().unwrap_or(""),
                    object.id.name.as_deref().unwrap_or("")
                ),
            });
        }
    }
    notices
}

/// Objects that see the same relations: the same `data.inventory` (unit, and whether they name a
/// namespace) and the same context view (unit and file, see `Context::for_viewer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct GroupKey {
    unit: UnitId,
    implicit: bool,
    file: usize,
}

/// One evaluation task: the objects `start..end` of the sorted objects with their conversions,
/// and their group's key (None for the task that holds only problems attributed to no object).
struct Task {
    start: usize,
    key: Option<GroupKey>,
    objects: Vec<Object>,
    converted: Vec<Converted>,
    problems: Vec<Finding>,
}

/// What is left of a checked object once its group is done: what reports list.
struct Seen {
    id: ObjectRef,
    file: usize,
}

/// Objects per evaluation task: small enough to spread over threads, large enough that the
/// engine state is reused.
const GROUP_SIZE: usize = 32;

/// Checks the objects group by group (each group with its unit's view of the context and its
/// `data`), groups in parallel, and returns what is left of the objects in their original order
/// with the findings (subjects indexing that order; the notices about unknown ids in
/// `seaworthy.dev/ignore` included) and whether a rule failed.
///
/// Each group's objects are freed as soon as it is checked: their parsed trees were the largest
/// part of a run's memory, and every finding has its location by then.
#[allow(clippy::too_many_arguments)]
fn check_in_groups(
    objects: Vec<Object>,
    converted: Vec<Converted>,
    keys: &[GroupKey],
    problems: Vec<Finding>,
    context: &Context,
    inventory: &mut UnitInventory,
    uses_inventory: bool,
    checker: &Checker<'_>,
    files: &[SourceFile],
) -> (Vec<Seen>, Vec<Finding>, bool) {
    // Stable order by key: objects of one group are contiguous, in their original order.
    let mut items: Vec<(usize, Object, Converted)> = objects
        .into_iter()
        .zip(converted)
        .enumerate()
        .map(|(i, (o, c))| (i, o, c))
        .collect();
    items.sort_by_key(|(i, _, _)| keys[*i]);
    let order: Vec<usize> = items.iter().map(|(i, _, _)| *i).collect();
    let mut position = vec![0; order.len()];
    for (at, &original) in order.iter().enumerate() {
        position[original] = at;
    }

    // Cut into groups: (start, end, key).
    let mut groups: Vec<(usize, usize, GroupKey)> = Vec::new();
    for (at, &original) in order.iter().enumerate() {
        let key = keys[original];
        match groups.last_mut() {
            Some((start, end, k)) if *k == key && *end - *start < GROUP_SIZE => *end = at + 1,
            _ => groups.push((at, at + 1, key)),
        }
    }
    let empty = RegoValue::new_object();
    let mut data: std::collections::HashMap<(UnitId, bool), RegoValue> = Default::default();
    if uses_inventory {
        for (_, _, key) in &groups {
            data.entry((key.unit, key.implicit))
                .or_insert_with(|| inventory.data_for(key.unit, key.implicit));
        }
    }
    // Problems go with the group of their object, in that group's numbering; the others are
    // checked in a group of their own.
    let mut group_problems: Vec<Vec<Finding>> = vec![Vec::new(); groups.len() + 1];
    for mut problem in problems {
        let at = problem.subject.and_then(|i| position.get(i).copied());
        let group = at.map(|at| groups.partition_point(|(_, end, _)| *end <= at));
        match (
            at,
            group.and_then(|g| groups.get(g).map(|(start, _, _)| (g, *start))),
        ) {
            (Some(at), Some((group, start))) => {
                problem.subject = Some(at - start);
                group_problems[group].push(problem);
            }
            _ => {
                problem.subject = None;
                group_problems[groups.len()].push(problem);
            }
        }
    }

    let mut rest = items.into_iter();
    let mut tasks: Vec<Task> = groups
        .iter()
        .map(|&(start, end, key)| {
            let (objects, converted) = rest
                .by_ref()
                .take(end - start)
                .map(|(_, o, c)| (o, c))
                .unzip();
            (start, Some(key), objects, converted)
        })
        .chain(std::iter::once((0, None, Vec::new(), Vec::new())))
        .zip(group_problems)
        .map(|((start, key, objects, converted), problems)| Task {
            start,
            key,
            objects,
            converted,
            problems,
        })
        .collect();
    let rules = &checker.evaluator.rules;
    let results: Vec<(usize, Checked, Vec<Seen>)> = tasks
        .par_drain(..)
        .map_init(
            || checker.evaluator.state(),
            |state,
             Task {
                 start,
                 key,
                 objects,
                 converted,
                 problems,
             }| {
                let view = context.for_viewer(key.map_or(0, |k| k.unit), key.map(|k| k.file));
                let data = key
                    .and_then(|k| data.get(&(k.unit, k.implicit)))
                    .unwrap_or(&empty);
                let mut checked = checker.check(
                    Batch {
                        objects: &objects,
                        files,
                        converted,
                        context: &view,
                        problems,
                        request: None,
                    },
                    Evaluation::Budgeted {
                        state,
                        data,
                        deadline: None,
                        only: None,
                    },
                );
                checked
                    .findings
                    .extend(unknown_ignored_rules(&objects, files, rules));
                let seen = objects
                    .into_iter()
                    .map(|o| Seen {
                        id: o.id,
                        file: o.file,
                    })
                    .collect();
                (start, checked, seen)
            },
        )
        .collect();
    let mut findings = Vec::with_capacity(results.iter().map(|(_, c, _)| c.findings.len()).sum());
    let mut seen: Vec<Option<Seen>> = Vec::with_capacity(order.len());
    seen.resize_with(order.len(), || None);
    let mut failed = false;
    for (start, checked, group) in results {
        failed |= checked.failed;
        findings.extend(checked.findings.into_iter().map(|mut f| {
            f.subject = f.subject.map(|local| order[start + local]);
            f
        }));
        for (local, object) in group.into_iter().enumerate() {
            seen[order[start + local]] = Some(object);
        }
    }
    drop_in_background(data);
    (seen.into_iter().flatten().collect(), findings, failed)
}

/// Frees `garbage` on a pool thread instead of the caller's. At the end of a CLI run the process
/// may exit before that is done, which is as good: the memory goes back with the process.
fn drop_in_background<T: Send + 'static>(garbage: T) {
    rayon::spawn(move || drop(garbage));
}

/// Why a run could not start: a policy or the config is broken.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Policy(#[from] crate::engine::PolicyError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("{flag} {id}: no such rule{suggestion} (run `seaworthy rules` for the list)")]
    UnknownRule {
        flag: &'static str,
        id: String,
        suggestion: String,
    },
}

/// `--enable` and `--disable` of one run: rules turned on or off over the config.
#[derive(Debug, Clone, Default)]
pub struct RuleSwitches {
    pub enable: Vec<String>,
    pub disable: Vec<String>,
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
    evaluator_with_switches(config, extra_dirs, backend, cache, &RuleSwitches::default())
}

/// As [`evaluator_with_cache`], with rules enabled and disabled for this run (`--enable`,
/// `--disable`, which win over the config; `--disable` wins over `--enable`). An unknown id is
/// an error that suggests the nearest known one.
pub fn evaluator_with_switches(
    config: &crate::config::Config,
    extra_dirs: &[std::path::PathBuf],
    backend: crate::engine::Backend,
    cache: &crate::engine::Cache,
    switches: &RuleSwitches,
) -> Result<Evaluator, SetupError> {
    let folders = crate::foreign::Folders::default().with_config(config);
    let foreign = crate::foreign::load_all(&folders)?;
    evaluator_with_sources(config, extra_dirs, foreign, backend, cache, switches)
}

/// As [`evaluator_with_switches`], with the rules generated for Gatekeeper and conftest policies
/// (see `foreign::load`) given.
pub fn evaluator_with_sources(
    config: &crate::config::Config,
    extra_dirs: &[std::path::PathBuf],
    foreign: Vec<crate::engine::PolicySource>,
    backend: crate::engine::Backend,
    cache: &crate::engine::Cache,
    switches: &RuleSwitches,
) -> Result<Evaluator, SetupError> {
    let mut dirs = config.policy_dirs();
    dirs.extend(extra_dirs.iter().cloned());
    let catalog = crate::engine::Catalog::load_with_sources(&dirs, foreign, cache)?;
    let mut settings = config.rule_settings(&catalog)?;
    for (flag, ids, enabled) in [
        ("--enable", &switches.enable, true),
        ("--disable", &switches.disable, false),
    ] {
        for id in ids {
            let Some(setting) = settings.get_mut(id) else {
                let known = catalog.rules.iter().map(|r| r.meta.id.as_str());
                return Err(SetupError::UnknownRule {
                    flag,
                    id: id.clone(),
                    suggestion: did_you_mean(id, known)
                        .map(|s| format!("; did you mean {s}?"))
                        .unwrap_or_default(),
                });
            };
            setting.enabled = enabled;
        }
    }
    Ok(Evaluator::new(catalog, &settings, backend)?)
}

/// The known id nearest to a mistyped one, when it is near enough to be what was meant.
pub fn did_you_mean<'a>(id: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    known
        .map(|k| (strsim::levenshtein(id, k), k))
        .filter(|(d, k)| *d <= (k.len().max(id.len()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}
