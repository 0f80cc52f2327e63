//! The decision: an AdmissionRequest and a snapshot of the cluster in, an AdmissionResponse out.
//! Pure apart from the evaluation states it reuses; the server only moves bytes around it, and the
//! tests call it without HTTP.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use crate::check::{Batch, Checker, Converted, Evaluation, POLICY_ERROR};
use crate::config::{Action, Config, Exemption, FailureMode, Mode, UpdatePolicy};
use crate::engine::{Backend, Catalog, Evaluator, PolicyError, Scope, StatePool};
use crate::finding::{Finding, ObjectRef, Severity};
use crate::manifest::node::{self, Node, PathStep};
use crate::manifest::Object;
use crate::suppress::Suppressor;

use super::admission::{AdmissionRequest, AdmissionResponse, Operation};
use super::snapshot::Snapshot;
use crate::manifest::identity::identity;

/// The API server keeps at most 4 KiB of warnings and cuts long ones; ours stay well inside.
const MAX_WARNINGS: usize = 10;
const MAX_WARNING_CHARS: usize = 200;
/// Denying rules given a line of their own in a denial message; the rest are named in one line.
const MAX_DENIAL_LINES: usize = 15;

/// How the webhook judges, resolved from the config (flags merged in).
#[derive(Debug, Clone)]
pub struct Policy {
    pub mode: Mode,
    pub failure_mode: FailureMode,
    pub update_policy: UpdatePolicy,
    /// Requests in these namespaces are allowed without evaluation.
    pub exempt_namespaces: Vec<String>,
    /// Whether `seaworthy.dev/ignore` annotations excuse findings. Off by default: the requester
    /// writes the annotations of the object it sends.
    pub allow_annotation_suppression: bool,
    /// Users (globs) whose requests for objects with a controller owner reference are not judged
    /// again: the controllers that make Pods, ReplicaSets and Jobs from an object already judged.
    /// Both must hold: an owner reference alone is a field any requester can write.
    pub controller_users: Vec<String>,
    /// Configured actions by rule id (the rest follow severity and scope).
    pub actions: HashMap<String, Action>,
    pub exemptions: Vec<Exemption>,
    /// Whether cross-object rules have a cluster cache to read.
    pub cluster_context: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            mode: Mode::Enforce,
            failure_mode: FailureMode::Allow,
            update_policy: UpdatePolicy::Ratchet,
            exempt_namespaces: vec!["kube-system".to_string()],
            allow_annotation_suppression: false,
            controller_users: default_controller_users(),
            actions: HashMap::new(),
            exemptions: Vec::new(),
            cluster_context: false,
        }
    }
}

/// The identities kube-controller-manager's controllers act as: its own user, or one service
/// account per controller with `--use-service-account-credentials` (the kubeadm default).
pub fn default_controller_users() -> Vec<String> {
    [
        "system:kube-controller-manager",
        "system:serviceaccount:kube-system:replicaset-controller",
        "system:serviceaccount:kube-system:replication-controller",
        "system:serviceaccount:kube-system:deployment-controller",
        "system:serviceaccount:kube-system:daemon-set-controller",
        "system:serviceaccount:kube-system:statefulset-controller",
        "system:serviceaccount:kube-system:job-controller",
        "system:serviceaccount:kube-system:cronjob-controller",
    ]
    .map(str::to_string)
    .to_vec()
}

/// What became of a request, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Evaluated, nothing to say.
    Allowed,
    /// Evaluated and allowed, with warnings.
    Warned,
    Denied,
    /// In an exempt namespace.
    Exempt,
    /// Nothing to evaluate: DELETE, CONNECT, a status update, a kind no rule reads.
    Skipped,
    /// The evaluation failed or ran out of time; the failure mode decided.
    FailedOpen,
    FailedClosed,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::Warned => "warned",
            Decision::Denied => "denied",
            Decision::Exempt => "exempt",
            Decision::Skipped => "skipped",
            Decision::FailedOpen => "failed_open",
            Decision::FailedClosed => "failed_closed",
        }
    }
}

/// Why an evaluation gave no verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Timeout,
    /// No evaluation slot came free within the time budget.
    Overloaded,
    Error(String),
}

impl Failure {
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::Overloaded => "overloaded",
            Failure::Error(_) => "error",
        }
    }

    fn describe(&self) -> String {
        match self {
            Failure::Timeout => "the evaluation ran out of its time budget".to_string(),
            Failure::Overloaded => "the webhook is overloaded".to_string(),
            Failure::Error(message) => message.clone(),
        }
    }
}

/// A finding and what the webhook does about it.
#[derive(Debug, Clone)]
pub struct Judged {
    pub finding: Finding,
    pub action: Action,
    /// The old object of an UPDATE had it too, in a field the update leaves alone (ratchet: it
    /// warns instead of denying).
    pub preexisting: bool,
    /// Its rule would deny it, but the ratchet or `mode: warn` made it a warning.
    pub would_deny: bool,
}

#[derive(Debug, Clone)]
pub struct Verdict {
    pub response: AdmissionResponse,
    pub decision: Decision,
    /// The object under review, when there was one.
    pub object: Option<ObjectRef>,
    /// Every unsuppressed finding with its action (audit ones included).
    pub findings: Vec<Judged>,
    pub failure: Option<Failure>,
}

/// The rules compiled for serving and the settings that judge their findings. Built once per
/// policy or config (re)load and shared by every request.
pub struct Reviewer {
    pub evaluator: Evaluator,
    pub policy: Policy,
    /// Rules switched off for serving and why (logged at startup).
    pub skipped_rules: Vec<(String, &'static str)>,
    states: StatePool,
    /// `policy.controller_users` compiled once (a pattern that is not a valid glob matches
    /// itself only).
    controller_users: Vec<UserPattern>,
    /// Some rule reads `input.request` (the Gatekeeper constraints): only then is it built.
    reads_request: bool,
}

enum UserPattern {
    Glob(glob::Pattern),
    Exact(String),
}

impl UserPattern {
    fn new(pattern: &str) -> UserPattern {
        glob::Pattern::new(pattern).map_or_else(
            |_| UserPattern::Exact(pattern.to_string()),
            UserPattern::Glob,
        )
    }

    fn matches(&self, user: &str) -> bool {
        match self {
            UserPattern::Glob(p) => p.matches(user),
            UserPattern::Exact(p) => p == user,
        }
    }
}

impl Reviewer {
    /// Compiles the catalog for serving. Rules that need every object of the cluster
    /// (`scope: complete`) are off; rules that read other objects (`scope: related`) are off
    /// without cluster context, since they would judge an object alone as if nothing else existed.
    pub fn new(
        catalog: Catalog,
        config: &Config,
        policy: Policy,
        backend: Backend,
    ) -> Result<Reviewer, PolicyError> {
        let mut settings = config
            .rule_settings(&catalog)
            .map_err(|e| PolicyError::Invalid {
                file: e.file.clone(),
                message: format!("{}:{}: {}", e.line, e.column, e.message),
            })?;
        let mut skipped_rules = Vec::new();
        for rule in &catalog.rules {
            let why = match rule.meta.scope {
                Scope::Complete => Some("needs every object of the cluster (lint only)"),
                Scope::Manifest => {
                    Some("judges the manifest as written in the repository (lint only)")
                }
                Scope::Related if !policy.cluster_context => {
                    Some("reads other objects (needs --cluster-context)")
                }
                _ => None,
            };
            if let (Some(why), Some(setting)) = (why, settings.get_mut(&rule.meta.id)) {
                if setting.enabled {
                    setting.enabled = false;
                    skipped_rules.push((rule.meta.id.clone(), why));
                }
            }
        }
        let reads_request = catalog
            .sources()
            .iter()
            .any(|s| !s.builtin && s.text.contains("input.request"));
        let evaluator = Evaluator::new(catalog, &settings, backend)?;
        Ok(Reviewer {
            evaluator,
            controller_users: policy
                .controller_users
                .iter()
                .map(|p| UserPattern::new(p))
                .collect(),
            policy,
            skipped_rules,
            states: StatePool::default(),
            reads_request,
        })
    }

    /// Judges one request. `deadline` bounds the evaluation (old and new object together).
    pub fn review(
        &self,
        request: &AdmissionRequest,
        cluster: &Snapshot,
        deadline: Option<Instant>,
    ) -> Verdict {
        match self.triage(request, request.object.clone()) {
            Err(verdict) => *verdict,
            Ok(object) => self.review_object(request, &object, cluster, deadline),
        }
    }

    /// The requests answered without evaluation (DELETE, CONNECT, status updates, exempt
    /// namespaces, kinds no rule reads) get their verdict here, at once; the others give the
    /// object to evaluate. `object` is the request's object, taken out of it (the server does not
    /// copy it; see [`Reviewer::review`] for a caller that keeps the request whole).
    pub fn triage(
        &self,
        request: &AdmissionRequest,
        object: Option<Node>,
    ) -> Result<Object, Box<Verdict>> {
        let skip = |decision, object: Option<ObjectRef>| {
            Box::new(Verdict {
                response: AdmissionResponse::allow(&request.uid),
                decision,
                object,
                findings: Vec::new(),
                failure: None,
            })
        };
        if matches!(request.operation, Operation::Delete | Operation::Connect)
            || request.sub_resource.as_deref() == Some("status")
        {
            return Err(skip(Decision::Skipped, None));
        }
        let Some(object) = object.and_then(|o| admitted_object(request, o)) else {
            return Err(skip(Decision::Skipped, None));
        };
        let namespace = crate::inventory::effective_namespace(&object.id);
        if namespace.is_some_and(|ns| self.policy.exempt_namespaces.iter().any(|e| e == ns)) {
            return Err(skip(Decision::Exempt, Some(object.id)));
        }
        if !self.evaluator.applies_to(&object.id.kind) {
            return Err(skip(Decision::Skipped, Some(object.id)));
        }
        if self.made_by_controller(request, &object) {
            return Err(skip(Decision::Skipped, Some(object.id)));
        }
        Ok(object)
    }

    /// True for an object a controller makes from one already judged (the Pods of a ReplicaSet):
    /// the request comes from a controller identity AND the object names a controller owner.
    /// Either alone is not enough: any requester can write an owner reference.
    fn made_by_controller(&self, request: &AdmissionRequest, object: &Object) -> bool {
        let user = request
            .user_info
            .as_ref()
            .and_then(|u| u.username.as_deref())
            .unwrap_or("");
        has_controller_owner(object) && self.controller_users.iter().any(|p| p.matches(user))
    }

    /// The verdict when the object `triage` let through (`object` is its identity) could not be
    /// evaluated, by the failure mode.
    pub fn failed_request(
        &self,
        request: &AdmissionRequest,
        object: ObjectRef,
        failure: Failure,
    ) -> Verdict {
        self.failed(&request.uid, object, failure)
    }

    /// Evaluates an object `triage` let through (and, for a ratcheted UPDATE, its old version).
    /// Borrowed: the server may evaluate it again with a longer deadline (see `server::evaluate`).
    pub fn review_object(
        &self,
        request: &AdmissionRequest,
        object: &Object,
        cluster: &Snapshot,
        deadline: Option<Instant>,
    ) -> Verdict {
        let uid = request.uid.as_str();
        let around = self.reads_request.then(|| request_value(request));
        let mut findings = match self.evaluate(object, around, cluster, deadline, None) {
            Ok(findings) => findings,
            Err(failure) => return self.failed(uid, object.id.clone(), failure),
        };
        // The ratchet (see README "Updates"): a violation the old object had too, at a field this
        // update leaves as it was, warns instead of denying. A violation in a field the update
        // changes is judged in full, whether or not the old object had it: an object never judged
        // (created while the webhook was down, or in warn mode) cannot carry one forward.
        let old_object = match (&request.operation, &request.old_object) {
            (Operation::Update, Some(old))
                if self.policy.update_policy == UpdatePolicy::Ratchet =>
            {
                admitted_object(request, old.clone())
            }
            _ => None,
        };
        findings.retain(|f| f.suppressed.is_none());
        // Only a denial in a part the update leaves alone can be held back, so the old object is
        // asked about those denials' rules alone (none: it is not evaluated at all).
        let ratchet_rules: Vec<usize> = match &old_object {
            None => Vec::new(),
            Some(old) => self.rules_of(findings.iter().filter(|f| {
                self.action_for(f) == Action::Deny && !touched(&old.root, &object.root, &f.path)
            })),
        };
        let preexisting: HashSet<String> = match &old_object {
            Some(old) if !ratchet_rules.is_empty() => {
                match self.evaluate(old, None, cluster, deadline, Some(&ratchet_rules)) {
                    Ok(old_findings) => old_findings
                        .into_iter()
                        // A rule that failed judged nothing: nothing to grandfather.
                        .filter(|f| f.suppressed.is_none() && f.rule != POLICY_ERROR)
                        .map(|f| f.fingerprint)
                        .collect(),
                    Err(failure) => return self.failed(uid, object.id.clone(), failure),
                }
            }
            _ => HashSet::new(),
        };
        let judged: Vec<Judged> = findings
            .into_iter()
            .map(|finding| {
                let wanted = self.action_for(&finding);
                // Only a denial is held back (a warning has nothing to hold back, and its
                // message must not say it would deny).
                let grandfathered = wanted == Action::Deny
                    && old_object.as_ref().is_some_and(|old| {
                        preexisting.contains(&finding.fingerprint)
                            && !touched(&old.root, &object.root, &finding.path)
                    });
                let mut action = wanted;
                if grandfathered && action == Action::Deny {
                    action = Action::Warn;
                }
                if self.policy.mode == Mode::Warn && action == Action::Deny {
                    action = Action::Warn;
                }
                Judged {
                    finding,
                    action,
                    preexisting: grandfathered,
                    would_deny: wanted == Action::Deny && action != Action::Deny,
                }
            })
            .collect();
        respond(uid, object.id.clone(), judged)
    }

    /// The action the rules want for a finding: the configured one, else by severity
    /// (cross-object rules warn at most, since a PDB may arrive just after its Deployment). The
    /// ratchet and `mode: warn` may soften it (see `review_object`).
    fn action_for(&self, finding: &Finding) -> Action {
        let configured = self.policy.actions.get(&finding.rule).copied();
        configured.unwrap_or_else(|| {
            let by_severity = Action::for_severity(finding.severity);
            let related = self
                .evaluator
                .rules
                .iter()
                .find(|r| r.meta.id == finding.rule)
                .is_some_and(|r| r.meta.scope != Scope::Object);
            if related {
                by_severity.min(Action::Warn)
            } else {
                by_severity
            }
        })
    }

    fn failed(&self, uid: &str, object: ObjectRef, failure: Failure) -> Verdict {
        let reason = failure.describe();
        let (response, decision) = match self.policy.failure_mode {
            FailureMode::Allow => {
                let mut response = AdmissionResponse::allow(uid);
                response.warnings.push(bounded(&format!(
                    "seaworthy could not check this object ({reason}); allowed by failure mode"
                )));
                (response, Decision::FailedOpen)
            }
            FailureMode::Deny => (
                AdmissionResponse::deny(
                    uid,
                    format!(
                        "seaworthy could not check {object} ({reason}); denied by failure mode"
                    ),
                ),
                Decision::FailedClosed,
            ),
        };
        Verdict {
            response,
            decision,
            object: Some(object),
            findings: Vec::new(),
            failure: Some(failure),
        }
    }

    /// The indexes (into the evaluator's rules) of the rules that made `findings`, each once.
    fn rules_of<'f>(&self, findings: impl Iterator<Item = &'f Finding>) -> Vec<usize> {
        let mut rules: Vec<usize> = findings
            .filter_map(|f| {
                let rules = &self.evaluator.rules;
                rules.iter().position(|r| r.meta.id == f.rule)
            })
            .collect();
        rules.sort_unstable();
        rules.dedup();
        rules
    }

    /// Findings (suppressed ones marked) of one object, checked with its namespace's context;
    /// with `only`, by those rules alone (indexes into the evaluator's rules).
    fn evaluate(
        &self,
        object: &Object,
        request: Option<regorus::Value>,
        cluster: &Snapshot,
        deadline: Option<Instant>,
        only: Option<&[usize]>,
    ) -> Result<Vec<Finding>, Failure> {
        let mut converted = Converted::of(object, Some(&self.evaluator));
        // An Argo Rollout with workloadRef runs the pods of a Deployment the cache holds.
        if converted.view.is_none() {
            if let Some((namespace, name)) =
                crate::workload::deployment_reference(&object.id, &object.root)
            {
                if let Some(template) = cluster.deployment_view(namespace, name) {
                    converted.view = Some(crate::workload::referenced_view(
                        &object.id,
                        &object.root,
                        name,
                        template,
                    ));
                }
            }
        }
        let context = cluster.context_for(&object.id, &converted.value, converted.view.as_ref());
        let mut state = self.states.take(&self.evaluator);
        let checked = Checker {
            evaluator: &self.evaluator,
            suppressor: Suppressor {
                exemptions: &self.policy.exemptions,
                allow_annotations: self.policy.allow_annotation_suppression,
            },
        }
        .check(
            Batch {
                objects: std::slice::from_ref(object),
                files: &[],
                converted: vec![converted],
                context: &context,
                problems: Vec::new(),
                request,
            },
            Evaluation::Budgeted {
                state: &mut state,
                data: &cluster.data,
                deadline,
                only,
            },
        );
        self.states.give_back(state);
        if checked.timed_out {
            return Err(Failure::Timeout);
        }
        // A rule that failed judges only itself, by the failure mode: a warning naming it
        // (allow) or a denial naming it (deny); the other rules' verdicts stand.
        let severity = match self.policy.failure_mode {
            FailureMode::Allow => Severity::Warning,
            FailureMode::Deny => Severity::Error,
        };
        let mut findings = checked.findings;
        for finding in findings.iter_mut().filter(|f| f.rule == POLICY_ERROR) {
            finding.severity = severity;
        }
        Ok(findings)
    }
}

/// What the rules that read `input.request` see of the request: its operation, the old object of
/// an UPDATE and the requesting user.
fn request_value(request: &AdmissionRequest) -> regorus::Value {
    let mut value = regorus::Value::from(serde_json::json!({
        "operation": request.operation.as_str(),
        "dryRun": request.dry_run.unwrap_or(false),
        "userInfo": {
            "username": request.user_info.as_ref().and_then(|u| u.username.clone()).unwrap_or_default(),
        },
    }));
    if let (Some(old), Ok(fields)) = (&request.old_object, value.as_object_mut()) {
        fields.insert(regorus::Value::from("oldObject"), old.to_rego());
    }
    value
}

/// The object of a request as the API server will store it: identity from the object, else from
/// the request, and the request's namespace filled in when the object leaves it out. None unless
/// the object is a mapping with an identity.
fn admitted_object(request: &AdmissionRequest, mut root: Node) -> Option<Object> {
    root.as_map()?;
    let fallback = ObjectRef {
        api_version: request.kind.api_version(),
        kind: request.kind.kind.clone(),
        namespace: request.namespace.clone().filter(|n| !n.is_empty()),
        name: request.name.clone().filter(|n| !n.is_empty()),
    };
    let id = identity(&root, Some(&fallback))?;
    if let Some(ns) = &id.namespace {
        set_namespace(&mut root, ns);
    }
    Some(Object {
        id,
        root,
        file: 0,
        template: None,
    })
}

/// Fills `metadata.namespace` when the object leaves it out (the API server takes it from the
/// request path), so rules and the workload view see where the object will live.
fn set_namespace(root: &mut Node, namespace: &str) {
    use crate::manifest::node::{push_entry, remove_key, Entry, Span, Value};
    let Value::Map(entries) = &mut root.value else {
        return;
    };
    let at = entries.iter().position(|e| &*e.key == "metadata");
    let index = match at {
        Some(index) => index,
        None => {
            push_entry(
                entries,
                Entry {
                    key: "metadata".into(),
                    key_span: Span::default(),
                    value: Node::new(Value::Map(Box::default()), Span::default()),
                },
            );
            entries.len() - 1
        }
    };
    let Value::Map(metadata) = &mut entries[index].value.value else {
        return;
    };
    let missing = metadata
        .iter()
        .all(|e| &*e.key != "namespace" || e.value.is_null());
    if missing {
        remove_key(metadata, "namespace");
        push_entry(
            metadata,
            Entry {
                key: "namespace".into(),
                key_span: Span::default(),
                value: Node::new(Value::String(namespace.into()), Span::default()),
            },
        );
    }
}

/// True when `metadata.ownerReferences` names a controller.
fn has_controller_owner(object: &Object) -> bool {
    object
        .root
        .get_path(&["metadata", "ownerReferences"])
        .and_then(Node::as_seq)
        .is_some_and(|owners| {
            owners.iter().any(|owner| {
                owner
                    .get("controller")
                    .is_some_and(|c| c.value == node::Value::Bool(true))
            })
        })
}

/// Whether an update changes what a finding is about: the whole container when the finding is
/// in one (a new image makes a team own the container's violations), else the field itself; a
/// finding on the whole object is about its `spec`, so metadata-only updates leave it alone.
/// Admitted objects carry no source spans, so nodes compare by value.
fn touched(old: &Node, new: &Node, path: &[PathStep]) -> bool {
    if path.is_empty() {
        return old.get("spec") != new.get("spec");
    }
    let scope = path
        .windows(2)
        .position(|pair| {
            matches!(&pair[0], PathStep::Key(k) if CONTAINER_LISTS.contains(&k.as_str()))
                && matches!(pair[1], PathStep::Index(_))
        })
        .map_or(path, |at| &path[..at + 2]);
    old.at(scope) != new.at(scope)
}

const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// How much a warning matters, most first: what a rule would deny (held back by the ratchet or
/// `mode: warn`), then by severity.
fn consequence(j: &Judged) -> (bool, std::cmp::Reverse<crate::finding::Severity>) {
    (!j.would_deny, std::cmp::Reverse(j.finding.severity))
}

/// Findings grouped by rule, most consequential rule first, each group in path order.
fn by_rule<'a>(judged: impl Iterator<Item = &'a Judged>) -> Vec<Vec<&'a Judged>> {
    let mut groups: BTreeMap<&str, Vec<&Judged>> = BTreeMap::new();
    for j in judged {
        groups.entry(j.finding.rule.as_str()).or_default().push(j);
    }
    let mut groups: Vec<Vec<&Judged>> = groups.into_values().collect();
    for group in groups.iter_mut() {
        group.sort_by_key(|j| consequence(j));
    }
    groups.sort_by_key(|g| consequence(g[0]));
    groups
}

/// " (and 199 more)" after the first message of a rule that fired several times.
fn more(count: usize) -> String {
    if count > 1 {
        format!(" (and {} more)", count - 1)
    } else {
        String::new()
    }
}

fn respond(uid: &str, object: ObjectRef, mut judged: Vec<Judged>) -> Verdict {
    judged.sort_by(|a, b| {
        b.action
            .cmp(&a.action)
            .then_with(|| a.finding.rule.cmp(&b.finding.rule))
            .then_with(|| a.finding.path.cmp(&b.finding.path))
    });
    let denials = by_rule(judged.iter().filter(|j| j.action == Action::Deny));
    let mut response = if denials.is_empty() {
        AdmissionResponse::allow(uid)
    } else {
        AdmissionResponse::deny(uid, denial_message(&object, &denials))
    };
    let warnings = by_rule(judged.iter().filter(|j| j.action == Action::Warn));
    for group in warnings.iter().take(MAX_WARNINGS) {
        let first = group[0];
        let note = match (first.preexisting, first.would_deny) {
            (true, _) => " (already there before this update; would deny)",
            (false, true) => " (would deny)",
            (false, false) => "",
        };
        response.warnings.push(bounded(&format!(
            "seaworthy {}: {}{}{note}",
            first.finding.rule,
            first.finding.message,
            more(group.len())
        )));
    }
    if warnings.len() > MAX_WARNINGS {
        let rest: Vec<&str> = warnings[MAX_WARNINGS..]
            .iter()
            .map(|g| g[0].finding.rule.as_str())
            .collect();
        response.warnings.push(bounded(&format!(
            "seaworthy: {} more rules warn: {} (run `seaworthy lint` on the manifest for all)",
            rest.len(),
            rest.join(", ")
        )));
    }
    let audited: BTreeMap<&str, ()> = judged
        .iter()
        .filter(|j| j.action == Action::Audit)
        .map(|j| (j.finding.rule.as_str(), ()))
        .collect();
    if !audited.is_empty() {
        let rules: Vec<&str> = audited.into_keys().collect();
        response
            .audit_annotations
            .insert("audit-findings".to_string(), rules.join(","));
    }
    let decision = if !denials.is_empty() {
        Decision::Denied
    } else if !response.warnings.is_empty() {
        Decision::Warned
    } else {
        Decision::Allowed
    };
    Verdict {
        response,
        decision,
        object: Some(object),
        findings: judged,
        failure: None,
    }
}

/// `seaworthy denied Deployment shop/web (N violations):` then one line per denying rule with its
/// first message and field, as kubectl shows it after "admission webhook ... denied the request:".
/// Every denying rule is named: past `MAX_DENIAL_LINES` rules, the rest are listed by id.
fn denial_message(object: &ObjectRef, denials: &[Vec<&Judged>]) -> String {
    let count: usize = denials.iter().map(Vec::len).sum();
    let mut message = format!(
        "seaworthy denied {object} ({count} violation{}):",
        if count == 1 { "" } else { "s" }
    );
    for group in denials.iter().take(MAX_DENIAL_LINES) {
        let f = &group[0].finding;
        message.push_str(&format!("\n- [{}] {}", f.rule, f.message));
        if !f.path.is_empty() {
            message.push_str(&format!(" (at {})", node::display_path(&f.path)));
        }
        message.push_str(&more(group.len()));
    }
    if denials.len() > MAX_DENIAL_LINES {
        let rest: Vec<&str> = denials[MAX_DENIAL_LINES..]
            .iter()
            .map(|g| g[0].finding.rule.as_str())
            .collect();
        message.push_str(&format!("\n- also denied by: {}", rest.join(", ")));
    }
    if count > denials.len() {
        message.push_str("\n(run `seaworthy lint` on the manifest for every finding)");
    }
    message
}

/// A warning cut to a length the API server keeps whole.
fn bounded(text: &str) -> String {
    if text.chars().count() <= MAX_WARNING_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_WARNING_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_warnings_are_cut() {
        let long = "x".repeat(500);
        let cut = bounded(&long);
        assert_eq!(cut.chars().count(), MAX_WARNING_CHARS);
        assert!(cut.ends_with('…'));
        assert_eq!(bounded("short"), "short");
    }
}
