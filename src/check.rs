//! The one check step that `lint` and `serve` share: objects and what surrounds them in, findings
//! out. Building each object's subject (its value, its workload view extended by the context, what
//! relates to it), evaluating the rules, turning violations into findings (a rule that fails becomes
//! a `policy-error` finding), suppression and fingerprints happen here and nowhere else, so the
//! same object gets the same verdict from both faces. `lint` adds loading and reporting around it;
//! `serve` adds HTTP, admission policy and the cluster cache.

use std::time::Instant;

use rayon::prelude::*;
use regorus::Value as RegoValue;

use crate::context::{Context, Entry};
use crate::engine::{EvalState, Evaluated, Evaluator, Reading, Subject};
use crate::finding::{Finding, Severity};
use crate::manifest::{Object, SourceFile};
use crate::schema::{self, CrdSchemas};
use crate::suppress::Suppressor;
use crate::workload;

/// A rule evaluation that failed (a broken custom policy): reported like a finding.
pub const POLICY_ERROR: &str = "policy-error";

/// An object converted for the engine once: its value, its workload view when it runs pods, and
/// what the schema check found in it.
pub struct Converted {
    pub value: RegoValue,
    pub view: Option<RegoValue>,
    pub schema: Option<RegoValue>,
}

impl Converted {
    /// One object alone (an admission request): a custom resource's schema is not at hand.
    /// With `rules`, the schema check runs only if some enabled rule reads its report.
    pub fn of(object: &Object, rules: Option<&Evaluator>) -> Converted {
        Converted::with_crds(object, &CrdSchemas::default(), reads_schema(rules))
    }

    fn with_crds(object: &Object, crds: &CrdSchemas<'_>, check_schema: bool) -> Converted {
        let value = object.root.to_rego();
        let view = workload::view(&object.root, &value);
        Converted {
            value,
            view,
            schema: schema_report(object, crds, check_schema),
        }
    }

    /// An object whose content no rule reads: its identity (`apiVersion`, `kind`, `metadata`)
    /// and the schema check's report, which is worked out from the tree.
    fn identity(object: &Object, crds: &CrdSchemas<'_>, check_schema: bool) -> Converted {
        Converted {
            value: object.root.identity_to_rego(),
            view: None,
            schema: schema_report(object, crds, check_schema),
        }
    }

    /// Nothing of an object that nothing reads (see [`Converted::all`]).
    fn unread() -> Converted {
        Converted {
            value: RegoValue::Null,
            view: None,
            schema: None,
        }
    }

    /// Every object converted, in parallel, in order. An Argo Rollout that takes its pod template
    /// from a Deployment of the same objects (`workloadRef`) gets its view from it; a custom
    /// resource is checked against the schema of its CustomResourceDefinition among them.
    ///
    /// With `rules`, only what the enabled rules and the context read is converted (see
    /// [`Evaluator::reading_of`]): an object whose content neither a rule nor the context reads
    /// is converted as its identity alone (the large CustomResourceDefinitions of a chart, which
    /// rules judge by their schema check's report and find in `data.inventory` by name), and one
    /// of a kind that no rule judges, names in its metadata `reads` or may find in
    /// `data.inventory` is left unconverted; the schema check runs only when some rule reads its
    /// report. Without `rules`, everything is converted.
    pub fn all(objects: &[Object], rules: Option<&Evaluator>) -> Vec<Converted> {
        let crds = schema::crds_of(objects);
        let check_schema = reads_schema(rules);
        let reading = |object: &Object| {
            let id = &object.id;
            match rules {
                None => Reading::Content,
                Some(_) if crate::context::reads_content(id) => Reading::Content,
                Some(rules) => {
                    rules.reading_of(crate::context::group_of(&id.api_version), &id.kind)
                }
            }
        };
        let mut converted: Vec<Converted> = objects
            .par_iter()
            .map(|object| match reading(object) {
                Reading::Content => Converted::with_crds(object, &crds, check_schema),
                Reading::Identity => Converted::identity(object, &crds, check_schema),
                Reading::Nothing => Converted::unread(),
            })
            .collect();
        let mut views: Vec<Option<RegoValue>> =
            converted.iter_mut().map(|c| c.view.take()).collect();
        let roots: Vec<_> = objects.iter().map(|o| (&o.id, &o.root)).collect();
        workload::resolve_workload_refs(&roots, &mut views);
        for (c, view) in converted.iter_mut().zip(views) {
            c.view = view;
        }
        converted
    }

    /// The object as the context sees it.
    pub fn entry<'a>(&'a self, object: &'a Object) -> Entry<'a> {
        Entry {
            id: &object.id,
            object: &self.value,
            view: self.view.as_ref(),
        }
    }
}

/// True unless `rules` are given and none of them reads `input.schema`.
fn reads_schema(rules: Option<&Evaluator>) -> bool {
    rules.is_none_or(Evaluator::reads_schema)
}

/// The schema check's report of an object, for the engine, when a rule reads it.
fn schema_report(object: &Object, crds: &CrdSchemas<'_>, check_schema: bool) -> Option<RegoValue> {
    check_schema
        .then(|| schema::check(&object.root, crds).map(|report| schema::to_rego(&report)))
        .flatten()
}

/// How the evaluations run.
pub enum Evaluation<'a> {
    /// Every object in parallel, with the data set on the evaluator and no deadline (lint).
    Parallel,
    /// One object after the other on the caller's evaluation state, with `data` and a deadline
    /// (the webhook, which pools states and answers within a time budget).
    Budgeted {
        state: &'a mut EvalState,
        data: &'a RegoValue,
        deadline: Option<Instant>,
        /// Only these rules (indexes into the evaluator's rules), each on its own; None for all
        /// (see [`Evaluator::evaluate_rules`]).
        only: Option<&'a [usize]>,
    },
}

/// The objects to check together and what surrounds them.
pub struct Batch<'a> {
    pub objects: &'a [Object],
    /// The files the objects came from (`Object::file` indexes it); empty for an admission request.
    pub files: &'a [SourceFile],
    /// `objects` converted, in the same order (see [`Converted::all`]).
    pub converted: Vec<Converted>,
    /// What relates to the objects: the other objects of the run, or the cluster cache.
    pub context: &'a Context,
    /// Findings that loading made on these objects (duplicate keys), suppressed and fingerprinted
    /// with the rest.
    pub problems: Vec<Finding>,
    /// The admission request around the objects, for the rules that read it (see
    /// [`crate::engine::Subject::request`]); None in lint.
    pub request: Option<RegoValue>,
}

/// What the check found.
pub struct Checked {
    /// Every finding, suppressed ones marked, each with its fingerprint; in object order.
    pub findings: Vec<Finding>,
    /// Some rule failed to evaluate on some object (its `policy-error` finding is in `findings`).
    pub failed: bool,
    /// The deadline passed before every rule had run.
    pub timed_out: bool,
}

/// The rules and the suppressions that decide which findings stand.
pub struct Checker<'a> {
    pub evaluator: &'a Evaluator,
    pub suppressor: Suppressor<'a>,
}

impl Checker<'_> {
    pub fn check(&self, batch: Batch<'_>, evaluation: Evaluation<'_>) -> Checked {
        let Batch {
            objects,
            files,
            converted,
            context,
            problems,
            request,
        } = batch;
        let mut subjects = Vec::new();
        let mut subject_objects = Vec::new();
        for (index, (object, converted)) in objects.iter().zip(converted).enumerate() {
            if !self.evaluator.applies_to(&object.id.kind) {
                continue;
            }
            let Converted {
                value,
                mut view,
                schema,
            } = converted;
            if let Some(view) = view.as_mut() {
                context.extend_view(&object.id, view);
            }
            subjects.push(Subject {
                kind: object.id.kind.clone(),
                related: context.related(&object.id, &value),
                object: value,
                workload: view,
                schema,
                request: request.clone(),
            });
            subject_objects.push(index);
        }

        let results = match evaluation {
            Evaluation::Parallel => self.evaluator.evaluate_all(&subjects),
            Evaluation::Budgeted {
                state,
                data,
                deadline,
                only,
            } => subjects
                .iter()
                .map(|subject| match only {
                    None => self.evaluator.evaluate(state, subject, data, deadline),
                    Some(rules) => self
                        .evaluator
                        .evaluate_rules(state, subject, data, deadline, rules),
                })
                .collect(),
        };

        let mut findings = problems;
        let mut failed = false;
        let mut timed_out = false;
        for (result, &index) in results.into_iter().zip(&subject_objects) {
            failed |= !result.errors.is_empty();
            timed_out |= result.timed_out();
            findings.extend(self.findings_of(result, &objects[index], index, files));
        }
        self.suppressor.apply(&mut findings, objects);
        for finding in findings.iter_mut() {
            let object = finding.subject.and_then(|i| objects.get(i));
            finding.fingerprint = crate::baseline::fingerprint(finding, object);
        }
        Checked {
            findings,
            failed,
            timed_out,
        }
    }

    /// The findings of one object's evaluation: the violations of the rules that ran, and a
    /// `policy-error` finding for each rule that failed, naming it and its file.
    fn findings_of(
        &self,
        result: Evaluated,
        object: &Object,
        index: usize,
        files: &[SourceFile],
    ) -> Vec<Finding> {
        let rules = &self.evaluator.rules;
        let violations = result.violations.into_iter().map(|v| Finding {
            rule: rules[v.rule].meta.id.clone(),
            severity: v.severity,
            message: v.message,
            object: Some(object.id.clone()),
            location: object.location(files, &v.path),
            path: v.path,
            subject: Some(index),
            suppressed: None,
            fingerprint: String::new(),
        });
        let errors = result.errors.into_iter().map(|err| {
            let rule = &rules[err.rule];
            Finding {
                rule: POLICY_ERROR.to_string(),
                severity: Severity::Error,
                message: format!(
                    "{FAILED_RULE_PREFIX}{} ({}) failed to evaluate: {}",
                    rule.meta.id, rule.file, err.message
                ),
                object: Some(object.id.clone()),
                location: object.location(files, &[]),
                path: Vec::new(),
                subject: Some(index),
                suppressed: None,
                fingerprint: String::new(),
            }
        });
        violations.chain(errors).collect()
    }
}

/// How a `policy-error` finding's message starts: the failing rule's id follows.
const FAILED_RULE_PREFIX: &str = "rule ";

/// The id of the rule a `policy-error` finding is about (None for any other finding).
pub fn failed_rule(finding: &Finding) -> Option<&str> {
    if finding.rule != POLICY_ERROR {
        return None;
    }
    finding
        .message
        .strip_prefix(FAILED_RULE_PREFIX)
        .and_then(|rest| rest.split(' ').next())
}
