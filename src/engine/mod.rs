//! The rule engine: loads policies (built-in and `--policies DIR`), checks their metadata,
//! compiles every enabled rule once, and evaluates the applicable rules per object, objects in
//! parallel. Two regorus back ends are kept: the RVM (compiled bytecode, the default: faster on this
//! rule set, see README "Performance") and the tree interpreter, selectable for comparison.

mod analysis;
pub mod cache;
pub mod policy;

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_policies.rs"));
}

use std::collections::{BTreeMap, HashMap, HashSet};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;
use regorus::rvm::program::{DeserializationResult, Program};
use regorus::rvm::vm::RegoVM;
use regorus::utils::limits::ExecutionTimerConfig;
use regorus::Value;

use crate::finding::Severity;
use crate::manifest::node::PathStep;
pub use cache::Cache;
use cache::Key;
pub use policy::{ReadKind, RuleDoc, RuleMeta, Scope};

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{file}:{position}: {message}")]
    Syntax {
        file: String,
        position: String,
        message: String,
    },
    #[error("cannot read policies from {path}: {message}")]
    Read { path: String, message: String },
    #[error("{0}")]
    Compile(String),
}

/// One rule: its metadata and doc, where it came from.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Rule {
    pub meta: RuleMeta,
    pub doc: RuleDoc,
    pub file: String,
    pub package: String,
    pub builtin: bool,
    /// Why the rule can never run (it reaches a recursive rule or function): found at load, it
    /// is a `policy-error` of this rule on every object it applies to, and nothing runs it.
    #[serde(default)]
    pub broken: Option<String>,
    /// The rule reaches a complete rule or function of a custom policy defined more than once:
    /// it runs on the interpreter, which raises conflicting values as OPA does (the RVM makes
    /// them silently undefined).
    #[serde(default)]
    pub may_conflict: bool,
}

impl Rule {
    fn entry_point(&self) -> String {
        format!("data.{}.violations", self.package)
    }
}

/// One policy file: its name, its Rego source, and whether it is built in.
#[derive(Debug, Clone)]
pub struct PolicySource {
    pub file: String,
    pub text: String,
    pub builtin: bool,
}

/// Every policy of the run, parsed and checked, not yet compiled for evaluation.
pub struct Catalog {
    pub rules: Vec<Rule>,
    sources: Vec<PolicySource>,
    /// The parsed policies, when this run had to parse them; parsed on demand otherwise (a cache
    /// hit needs no parsing at all with the RVM back end).
    engine: Option<regorus::Engine>,
    cache: Cache,
}

impl Catalog {
    /// The built-in policies plus every `.rego` file under each extra directory.
    pub fn load(extra_dirs: &[PathBuf]) -> Result<Catalog, PolicyError> {
        Catalog::load_with_cache(extra_dirs, &Cache::disabled())
    }

    /// As [`Catalog::load`], taking the rules' metadata from `cache` when it holds an entry for
    /// exactly these policy sources (and filling it when not).
    pub fn load_with_cache(extra_dirs: &[PathBuf], cache: &Cache) -> Result<Catalog, PolicyError> {
        let mut sources: Vec<PolicySource> = builtin::BUILTIN_POLICIES
            .iter()
            .map(|(name, text)| PolicySource {
                file: name.to_string(),
                text: text.to_string(),
                builtin: true,
            })
            .collect();
        for dir in extra_dirs {
            for (file, text) in read_policy_dir(dir)? {
                sources.push(PolicySource {
                    file,
                    text,
                    builtin: false,
                });
            }
        }
        let key = sources_key("catalog", &sources);
        let cached = cache
            .load(&key)
            .and_then(|payload| serde_json::from_slice::<Vec<Rule>>(&payload).ok());
        if let Some(rules) = cached {
            return Ok(Catalog {
                rules,
                sources,
                engine: None,
                cache: cache.clone(),
            });
        }
        let mut catalog = Catalog::from_policy_sources(sources)?;
        if let Ok(payload) = serde_json::to_vec(&catalog.rules) {
            cache.store(&key, &payload);
        }
        catalog.cache = cache.clone();
        Ok(catalog)
    }

    /// Builds a catalog from `(file name, Rego source, is built-in)` triples.
    pub fn from_sources(sources: Vec<(String, String, bool)>) -> Result<Catalog, PolicyError> {
        Catalog::from_policy_sources(
            sources
                .into_iter()
                .map(|(file, text, builtin)| PolicySource {
                    file,
                    text,
                    builtin,
                })
                .collect(),
        )
    }

    fn from_policy_sources(sources: Vec<PolicySource>) -> Result<Catalog, PolicyError> {
        let mut engine = parse_policies(&sources)?;
        let builtin: HashSet<&str> = sources
            .iter()
            .filter(|s| s.builtin)
            .map(|s| s.file.as_str())
            .collect();
        let analysis = analysis::analyze(engine.get_modules(), |file| builtin.contains(file))?;
        let mut rules = Vec::new();
        let mut seen: HashMap<String, String> = HashMap::new();
        for source in &sources {
            let package = policy::package_of(&source.text).unwrap_or_default();
            if !package.starts_with(policy::RULES_PACKAGE_PREFIX) {
                continue;
            }
            let file = &source.file;
            let invalid = |message: String| PolicyError::Invalid {
                file: file.clone(),
                message,
            };
            if let Some(why) = analysis.broken(&format!("data.{package}.metadata")) {
                return Err(invalid(format!("metadata cannot be evaluated: {why}")));
            }
            let metadata = engine
                .eval_rule(format!("data.{package}.metadata"))
                .map_err(|e| invalid(format!("cannot evaluate metadata: {e}")))?;
            if metadata == Value::Undefined {
                return Err(invalid(format!("package {package} has no `metadata` rule")));
            }
            let json = serde_json::to_value(&metadata)
                .map_err(|e| invalid(format!("metadata is not plain data: {e}")))?;
            let meta = policy::parse_meta(&json).map_err(invalid)?;
            if !source.text.contains("violations") {
                return Err(invalid(
                    "no `violations` rule: a rule reports through `violations contains v if {...}`"
                        .into(),
                ));
            }
            if let Some(other) = seen.insert(meta.id.clone(), file.clone()) {
                return Err(invalid(format!(
                    "rule id {:?} is already defined in {other}",
                    meta.id
                )));
            }
            rules.push(Rule {
                meta,
                doc: policy::parse_doc(&source.text),
                file: file.clone(),
                broken: analysis.broken(&format!("data.{package}.violations")),
                may_conflict: analysis.may_conflict(&format!("data.{package}.violations")),
                package,
                builtin: source.builtin,
            });
        }
        rules.sort_by(|a, b| a.meta.id.cmp(&b.meta.id));
        Ok(Catalog {
            rules,
            sources,
            engine: Some(engine),
            cache: Cache::disabled(),
        })
    }

    /// Every policy source of the catalog (rules and libraries).
    pub fn sources(&self) -> &[PolicySource] {
        &self.sources
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.meta.id == id)
    }

    /// The parsed policies: the ones parsed while loading, or parsed now.
    fn take_engine(&mut self) -> Result<regorus::Engine, PolicyError> {
        match self.engine.take() {
            Some(engine) => Ok(engine),
            None => parse_policies(&self.sources),
        }
    }
}

/// Parses every policy into one engine (Rego v1).
fn parse_policies(sources: &[PolicySource]) -> Result<regorus::Engine, PolicyError> {
    let mut engine = regorus::Engine::new();
    engine.set_rego_v0(false);
    for source in sources {
        analysis::check_nesting(&source.file, &source.text)?;
        engine
            .add_policy(source.file.clone(), source.text.clone())
            .map_err(|e| syntax_error(&e.to_string(), &source.file))?;
    }
    Ok(engine)
}

/// A cache key over every policy's name and full text.
fn sources_key(kind: &'static str, sources: &[PolicySource]) -> Key {
    let mut key = Key::new(kind);
    for source in sources {
        key.add(source.file.as_bytes());
        key.add(source.text.as_bytes());
        key.add(&[u8::from(source.builtin)]);
    }
    key
}

/// regorus reports `--> file:line:col`, a source excerpt and `error: message` on separate lines;
/// this makes it the one-line `file:line:col: message` that editors and CI logs link to.
fn syntax_error(message: &str, file: &str) -> PolicyError {
    let location = message.lines().find_map(|l| {
        l.trim()
            .strip_prefix("-->")
            .map(|rest| rest.trim().to_string())
    });
    let error = message.lines().find_map(|l| {
        l.trim()
            .strip_prefix("error:")
            .map(|rest| rest.trim().to_string())
    });
    match (location, error) {
        (Some(location), Some(error)) => {
            let position = location
                .strip_prefix(file)
                .map(|p| p.trim_start_matches(':'))
                .unwrap_or(&location);
            PolicyError::Syntax {
                file: file.to_string(),
                position: position.to_string(),
                message: error,
            }
        }
        _ => PolicyError::Invalid {
            file: file.to_string(),
            message: message.trim().to_string(),
        },
    }
}

fn read_policy_dir(dir: &Path) -> Result<Vec<(String, String)>, PolicyError> {
    let read_err = |message: String| PolicyError::Read {
        path: dir.display().to_string(),
        message,
    };
    if !dir.is_dir() {
        return Err(read_err("not a directory".into()));
    }
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| read_err(e.to_string()))?;
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "rego") {
            let text = std::fs::read_to_string(entry.path())
                .map_err(|e| read_err(format!("{}: {e}", entry.path().display())))?;
            out.push((entry.path().display().to_string(), text));
        }
    }
    Ok(out)
}

/// How each rule is run: on or off, its severity, its parameters.
#[derive(Debug, Clone)]
pub struct RuleSetting {
    pub enabled: bool,
    pub severity: Severity,
    pub params: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    #[default]
    Rvm,
    Interpreter,
}

/// A compiled rule ready to run.
#[derive(Clone)]
struct Active {
    index: usize,
    entry: String,
    params: Value,
    severity: Severity,
    /// Why the rule cannot run (see [`Rule::broken`]): not compiled, reported as an error.
    broken: Option<String>,
    /// Runs on the interpreter with either back end (see [`Rule::may_conflict`]).
    interpreted: bool,
}

/// What a rule reported for one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub rule: usize,
    pub severity: Severity,
    pub message: String,
    pub path: Vec<PathStep>,
}

/// The input of one object: the object as written, its workload view and what relates to it
/// (see `context`).
pub struct Subject {
    pub kind: String,
    pub object: Value,
    pub workload: Option<Value>,
    pub related: Option<Value>,
}

/// What the rules found on one subject, and the rules that failed on it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluated {
    pub violations: Vec<Violation>,
    /// One per rule that failed; a time-out, if any, is the last one (nothing ran after it).
    pub errors: Vec<EvalError>,
}

impl Evaluated {
    /// The time budget ran out before every rule had run.
    pub fn timed_out(&self) -> bool {
        self.errors.iter().any(|e| e.timed_out)
    }
}

/// A rule that failed on an object, reported as a finding of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalError {
    pub rule: usize,
    pub message: String,
    /// The evaluation ran out of its time budget (rather than failing).
    pub timed_out: bool,
}

pub struct Evaluator {
    pub rules: Vec<Rule>,
    active: Vec<Active>,
    by_kind: HashMap<String, Vec<usize>>,
    any_kind: Vec<usize>,
    /// With the RVM, the applicable rules of each kind grouped into batches that run as one
    /// execution (see [`Batch`]); keyed like `by_kind`.
    batches_by_kind: HashMap<String, Vec<Batch>>,
    any_kind_batches: Vec<Batch>,
    compiled: Compiled,
    /// With the RVM, the interpreter for the rules that run on it (see [`Rule::may_conflict`]).
    fallback: Option<Box<regorus::Engine>>,
    data: Value,
    uses_inventory: bool,
}

/// What evaluation runs on.
enum Compiled {
    /// No rule is enabled: nothing to run.
    Nothing,
    Vm(Arc<Program>),
    Interpreter(Box<regorus::Engine>),
}

impl Evaluator {
    /// Compiles the enabled rules once. `settings` is keyed by rule id; rules without an entry run
    /// with their metadata defaults. With the RVM back end the compiled program comes from the
    /// catalog's cache when it holds one for exactly these policies and entry points.
    pub fn new(
        catalog: Catalog,
        settings: &HashMap<String, RuleSetting>,
        backend: Backend,
    ) -> Result<Evaluator, PolicyError> {
        let mut catalog = catalog;
        let rules = std::mem::take(&mut catalog.rules);
        let mut active = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            let setting = settings.get(&rule.meta.id);
            if setting.is_some_and(|s| !s.enabled) {
                continue;
            }
            let mut params = rule.meta.params.clone();
            if let Some(s) = setting {
                params.extend(s.params.clone());
            }
            active.push(Active {
                index,
                entry: rule.entry_point(),
                params: Value::from(serde_json::Value::Object(params)),
                severity: setting.map(|s| s.severity).unwrap_or(rule.meta.severity),
                broken: rule.broken.clone(),
                interpreted: rule.may_conflict,
            });
        }
        let mut by_kind: HashMap<String, Vec<usize>> = HashMap::new();
        let mut any_kind = Vec::new();
        for (slot, a) in active.iter().enumerate() {
            match &rules[a.index].meta.kinds {
                Some(kinds) => kinds
                    .iter()
                    .for_each(|k| by_kind.entry(k.clone()).or_default().push(slot)),
                None => any_kind.push(slot),
            }
        }
        for slots in by_kind.values_mut() {
            slots.extend(any_kind.iter().copied());
            slots.sort_unstable();
            slots.dedup();
        }
        let uses_inventory = catalog
            .sources
            .iter()
            .any(|s| s.text.contains("data.inventory"));
        let plan = plan_batches(&active, &rules, &by_kind, &any_kind);
        let mut entries: Vec<&str> = active
            .iter()
            .filter(|a| a.broken.is_none() && !a.interpreted)
            .map(|a| a.entry.as_str())
            .collect();
        let fallback = match backend {
            Backend::Rvm if active.iter().any(|a| a.broken.is_none() && a.interpreted) => {
                let mut engine = parse_policies(&catalog.sources)?;
                engine.set_strict_builtin_errors(false);
                Some(Box::new(engine))
            }
            _ => None,
        };
        entries.extend(plan.entries.iter().map(String::as_str));
        let compiled = match backend {
            Backend::Rvm if entries.is_empty() => Compiled::Nothing,
            Backend::Interpreter if active.iter().all(|a| a.broken.is_some()) => Compiled::Nothing,
            Backend::Rvm => Compiled::Vm(compile_program(&mut catalog, &plan.module, &entries)?),
            Backend::Interpreter => {
                let mut engine = catalog.take_engine()?;
                // A builtin that fails makes its expression undefined, as in the RVM (which
                // cannot do otherwise inside a rule body) and in OPA by default. Some of the
                // interpreter's builtins ignore this and fail the rule: that rule alone.
                engine.set_strict_builtin_errors(false);
                Compiled::Interpreter(Box::new(engine))
            }
        };
        Ok(Evaluator {
            rules,
            active,
            by_kind,
            any_kind,
            batches_by_kind: plan.by_kind,
            any_kind_batches: plan.any_kind,
            compiled,
            fallback,
            data: Value::new_object(),
            uses_inventory,
        })
    }

    /// The rules that run (enabled by the settings), in catalog order.
    pub fn enabled_rules(&self) -> impl Iterator<Item = &Rule> {
        self.active.iter().map(|a| &self.rules[a.index])
    }

    /// True when some policy reads `data.inventory`, so the caller must build it.
    pub fn uses_inventory(&self) -> bool {
        self.uses_inventory
    }

    /// Sets `data` (the inventory) for every later evaluation. Called once per run.
    pub fn set_data(&mut self, data: Value) {
        self.data = data;
    }

    /// The rules that apply to a kind, in catalog order (kind-specific and kind-less rules merged
    /// when the evaluator was built, so the hot path only looks up).
    fn applicable(&self, kind: &str) -> &[usize] {
        self.by_kind.get(kind).map_or(&self.any_kind, Vec::as_slice)
    }

    /// True when at least one enabled rule applies to objects of this kind.
    pub fn applies_to(&self, kind: &str) -> bool {
        !self.any_kind.is_empty() || self.by_kind.contains_key(kind)
    }

    /// Evaluates every applicable rule on every subject, subjects in parallel.
    /// Runs on [`eval_pool`]'s threads, whose stacks are sized for deep evaluations.
    pub fn evaluate_all(&self, subjects: &[Subject]) -> Vec<Evaluated> {
        const BATCH: usize = 32;
        let run = || {
            subjects
                .par_chunks(BATCH)
                .flat_map_iter(|batch| {
                    let mut runner = self.runner();
                    batch
                        .iter()
                        .map(move |s| runner.evaluate(s))
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        match eval_pool() {
            Some(pool) => pool.install(run),
            None => run(),
        }
    }

    /// A single-threaded evaluator state (one VM or interpreter clone), reusable across objects.
    pub fn runner(&self) -> Runner<'_> {
        Runner {
            evaluator: self,
            state: self.state(),
        }
    }

    /// A fresh evaluation state, owned by the caller (the webhook keeps a pool of them).
    pub fn state(&self) -> EvalState {
        let machine = match &self.compiled {
            Compiled::Nothing => Machine::Nothing,
            Compiled::Vm(program) => {
                let mut vm = RegoVM::new();
                vm.load_program(program.clone());
                // The VM's default stops a rule after 25,000 instructions, which a large object
                // (dozens of containers, hundreds of env entries) can reach legitimately. Time is
                // bounded by the deadline where there is one (the webhook); this cap only stops a
                // runaway policy in lint.
                vm.set_max_instructions(MAX_INSTRUCTIONS);
                Machine::Vm(Box::new(vm))
            }
            Compiled::Interpreter(engine) => Machine::Interpreter(engine.clone()),
        };
        EvalState {
            machine,
            data: None,
            fallback: self.fallback.as_ref().map(|engine| {
                Box::new(EvalState {
                    machine: Machine::Interpreter(engine.clone()),
                    data: None,
                    fallback: None,
                })
            }),
        }
    }

    /// Evaluates every rule that applies to the subject. `data` is what policies see as `data`
    /// (besides the rules themselves); it is installed only when it differs from the state's.
    /// With a deadline, the evaluation stops inside regorus once it has passed.
    ///
    /// A rule that fails costs only itself: the violations of the rules that ran come back with
    /// one error per failing rule (a batch that fails is run again rule by rule). A time-out
    /// stops the evaluation; it is the last error.
    pub fn evaluate(
        &self,
        state: &mut EvalState,
        subject: &Subject,
        data: &Value,
        deadline: Option<Instant>,
    ) -> Evaluated {
        let mut out = Evaluated::default();
        let applicable = self.applicable(&subject.kind);
        for &slot in applicable {
            let active = &self.active[slot];
            if let Some(why) = &active.broken {
                out.errors.push(EvalError {
                    rule: active.index,
                    message: why.clone(),
                    timed_out: false,
                });
            }
        }
        if !matches!(self.compiled, Compiled::Vm(_)) {
            for &slot in applicable {
                if self.active[slot].broken.is_none()
                    && !self.evaluate_rule(state, subject, data, deadline, slot, &mut out)
                {
                    break;
                }
            }
            return out;
        }
        let batches = self
            .batches_by_kind
            .get(&subject.kind)
            .unwrap_or(&self.any_kind_batches);
        for batch in batches {
            let input = input_of(subject, &batch.params);
            let result = match run_entry(state, &batch.entry, input, data, deadline) {
                Ok(result) => result,
                Err(failure) if failure.timed_out => {
                    out.errors
                        .push(failure.of(self.active[batch.slots[0]].index));
                    return out;
                }
                // Some rule of the batch failed: run them one by one, so that only the failing
                // ones are lost.
                Err(_) => {
                    for &slot in &batch.slots {
                        if !self.evaluate_rule(state, subject, data, deadline, slot, &mut out) {
                            return out;
                        }
                    }
                    continue;
                }
            };
            let Value::Set(results) = &result else {
                // No rule in the batch defined `violations`.
                continue;
            };
            // `[slot, violations]` pairs, in slot order (the set is ordered), so findings come
            // out in catalog order as with one rule at a time.
            for pair in results.iter() {
                let (slot, violations) = (&pair[0], &pair[1]);
                let Some(active) = slot.as_u64().ok().and_then(|s| self.active.get(s as usize))
                else {
                    continue;
                };
                decode_into(violations, active, &mut out);
            }
        }
        for &slot in applicable {
            let active = &self.active[slot];
            if active.interpreted
                && active.broken.is_none()
                && !self.evaluate_rule(state, subject, data, deadline, slot, &mut out)
            {
                break;
            }
        }
        out
    }

    /// One rule on its own: the interpreter's way, and how the RVM runs the rules of a failed
    /// batch. False when the time budget ran out (the caller stops).
    fn evaluate_rule(
        &self,
        state: &mut EvalState,
        subject: &Subject,
        data: &Value,
        deadline: Option<Instant>,
        slot: usize,
        out: &mut Evaluated,
    ) -> bool {
        let active = &self.active[slot];
        let input = input_of(subject, &active.params);
        let state = match state.fallback.as_deref_mut() {
            Some(fallback) if active.interpreted => fallback,
            _ => state,
        };
        match run_entry(state, &active.entry, input, data, deadline) {
            Ok(result) => {
                decode_into(&result, active, out);
                true
            }
            Err(failure) => {
                let timed_out = failure.timed_out;
                out.errors.push(failure.of(active.index));
                !timed_out
            }
        }
    }
}

/// Decodes one rule's `violations` into `out`: all of them, or none and an error naming the rule.
fn decode_into(result: &Value, active: &Active, out: &mut Evaluated) {
    let mut found = Vec::new();
    match decode_violations(result, active, &mut found) {
        Ok(()) => out.violations.extend(found),
        Err(message) => out.errors.push(EvalError {
            rule: active.index,
            message,
            timed_out: false,
        }),
    }
}

/// What a rule sees as `input`: the object, its workload view, what relates to it, its params.
fn input_of(subject: &Subject, params: &Value) -> Value {
    let mut input = BTreeMap::new();
    input.insert(Value::from("object"), subject.object.clone());
    if let Some(w) = &subject.workload {
        input.insert(Value::from("workload"), w.clone());
    }
    if let Some(r) = &subject.related {
        input.insert(Value::from("related"), r.clone());
    }
    input.insert(Value::from("params"), params.clone());
    Value::from(input)
}

/// An evaluation that failed, before it is pinned on a rule.
struct Failure {
    message: String,
    timed_out: bool,
}

impl Failure {
    fn of(self, rule: usize) -> EvalError {
        EvalError {
            rule,
            message: self.message,
            timed_out: self.timed_out,
        }
    }
}

/// Runs one entry point (a rule's `violations` or a batch) on `input`, installing `data` first
/// when the state holds other data, and stopping inside regorus at the deadline.
fn run_entry(
    state: &mut EvalState,
    entry: &str,
    input: Value,
    data: &Value,
    deadline: Option<Instant>,
) -> Result<Value, Failure> {
    let failed = |message: String| Failure {
        message,
        timed_out: false,
    };
    let timer = match deadline {
        None => None,
        Some(deadline) => {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Failure {
                    message: "the evaluation time budget ran out".into(),
                    timed_out: true,
                });
            }
            Some(ExecutionTimerConfig {
                limit: left,
                check_interval: TIMER_CHECK_INTERVAL,
            })
        }
    };
    let fresh_data = state.data.as_ref() != Some(data);
    let result = match &mut state.machine {
        Machine::Nothing => Value::Undefined,
        Machine::Vm(vm) => {
            if fresh_data {
                vm.set_data(data.clone())
                    .map_err(|e| failed(e.to_string()))?;
            }
            vm.set_execution_timer_config(timer);
            vm.set_input(input);
            vm.execute_entry_point_by_name(entry).map_err(|e| Failure {
                timed_out: matches!(e, regorus::rvm::vm::VmError::TimeLimitExceeded { .. }),
                message: one_line(&e.to_string()),
            })?
        }
        Machine::Interpreter(engine) => {
            if fresh_data {
                engine.clear_data();
                engine
                    .add_data(data.clone())
                    .map_err(|e| failed(e.to_string()))?;
            }
            if let Some(timer) = timer {
                engine.set_execution_timer_config(timer);
            }
            engine.set_input(input);
            engine.eval_rule(entry.to_string()).map_err(|e| {
                let message = e.to_string();
                Failure {
                    timed_out: message.contains("time limit"),
                    message: one_line(&message),
                }
            })?
        }
    };
    if fresh_data {
        state.data = Some(data.clone());
    }
    Ok(result)
}

/// regorus's evaluation errors as one line: `file:line:col: message` when they carry a source
/// excerpt (`--> file:line:col`, the excerpt, `error: message`), else their lines joined.
fn one_line(message: &str) -> String {
    let location = message
        .lines()
        .find_map(|l| l.trim().strip_prefix("-->").map(str::trim));
    let error = message
        .lines()
        .find_map(|l| l.trim().strip_prefix("error:").map(str::trim));
    match (location, error) {
        (Some(location), Some(error)) => format!("{location}: {error}"),
        _ => message
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Rules that run as one VM execution. The RVM starts each execution afresh (rule cache,
/// registers, input), and shared helpers are computed anew each time, which costs more than most
/// of these rules do; so a kind's rules run as one generated entry point, a set of
/// `[slot, violations]` pairs. `input.params` is one value per execution, so only rules with equal
/// params share a batch.
struct Batch {
    entry: String,
    params: Value,
    slots: Vec<usize>,
}

/// The package of the generated batch entry points. It is outside `seaworthy.rules`, so the
/// catalog never takes it for a rule.
const BATCH_PACKAGE: &str = "seaworthy.engine.batches";

/// The batches of every kind (and of kinds no rule names), the Rego module defining them, and
/// their entry points, each once: kinds with the same applicable rules share entry points.
struct BatchPlan {
    by_kind: HashMap<String, Vec<Batch>>,
    any_kind: Vec<Batch>,
    module: String,
    entries: Vec<String>,
}

fn plan_batches(
    active: &[Active],
    rules: &[Rule],
    by_kind: &HashMap<String, Vec<usize>>,
    any_kind: &[usize],
) -> BatchPlan {
    let mut module = format!("package {BATCH_PACKAGE}\n\nimport rego.v1\n");
    let mut entries: HashMap<Vec<usize>, String> = HashMap::new();
    let mut entry_order: Vec<String> = Vec::new();
    let mut batches_of = |slots: &[usize]| -> Vec<Batch> {
        let mut groups: Vec<(Value, Vec<usize>)> = Vec::new();
        for &slot in slots {
            if active[slot].broken.is_some() || active[slot].interpreted {
                continue;
            }
            let params = &active[slot].params;
            match groups.iter_mut().find(|(p, _)| p == params) {
                Some((_, group)) => group.push(slot),
                None => groups.push((params.clone(), vec![slot])),
            }
        }
        groups
            .into_iter()
            .map(|(params, slots)| {
                let next = entries.len();
                let entry = entries.entry(slots.clone()).or_insert_with(|| {
                    let name = format!("b{next}");
                    for &slot in &slots {
                        let package = &rules[active[slot].index].package;
                        module.push_str(&format!(
                            "\n{name} contains [{slot}, v] if {{\n\tv := data.{package}.violations\n}}\n"
                        ));
                    }
                    let entry = format!("data.{BATCH_PACKAGE}.{name}");
                    entry_order.push(entry.clone());
                    entry
                });
                Batch {
                    entry: entry.clone(),
                    params,
                    slots,
                }
            })
            .collect()
    };
    let mut kinds: Vec<(&String, &Vec<usize>)> = by_kind.iter().collect();
    kinds.sort();
    let by_kind = kinds
        .into_iter()
        .map(|(kind, slots)| (kind.clone(), batches_of(slots)))
        .collect();
    let any_kind = if any_kind.is_empty() {
        Vec::new()
    } else {
        batches_of(any_kind)
    };
    BatchPlan {
        by_kind,
        any_kind,
        module,
        entries: entry_order,
    }
}

/// The RVM program for these entry points: from the cache, or compiled (and then cached).
/// `batch_module` is the generated Rego that defines the batch entry points.
fn compile_program(
    catalog: &mut Catalog,
    batch_module: &str,
    entries: &[&str],
) -> Result<Arc<Program>, PolicyError> {
    let mut key = sources_key("program", &catalog.sources);
    key.add(batch_module.as_bytes());
    for entry in entries {
        key.add(entry.as_bytes());
    }
    let cached =
        catalog
            .cache
            .load(&key)
            .and_then(|bytes| match Program::deserialize_binary(&bytes) {
                Ok(DeserializationResult::Complete(program)) => Some(program),
                // A partial program needs recompiling, which is what a miss does anyway.
                Ok(DeserializationResult::Partial(_)) | Err(_) => None,
            });
    if let Some(program) = cached {
        return Ok(Arc::new(program));
    }
    let Some(first) = entries.first() else {
        return Err(PolicyError::Compile("no rule to compile".into()));
    };
    let mut engine = catalog.take_engine()?;
    engine
        .add_policy("<seaworthy batches>".into(), batch_module.into())
        .map_err(|e| PolicyError::Compile(format!("generated batches: {e}")))?;
    let compiled = engine
        .compile_with_entrypoint(&(*first).into())
        .map_err(|e| PolicyError::Compile(e.to_string()))?;
    let program =
        regorus::languages::rego::compiler::Compiler::compile_from_policy(&compiled, entries)
            .map_err(|e| PolicyError::Compile(e.to_string()))?;
    if let Ok(bytes) = program.serialize_binary() {
        catalog.cache.store(&key, &bytes);
    }
    Ok(program)
}

/// Instructions one rule may run on one object: seconds of work, far beyond any real rule.
pub const MAX_INSTRUCTIONS: usize = 200_000_000;

/// The stack of every thread that evaluates rules (lint's pool here, the webhook's blocking pool):
/// regorus evaluates by native recursion, as deep as a policy nests (at most
/// [`analysis::MAX_NESTING`] brackets, recursion refused at load) and as its input does. Only
/// touched pages are committed, so a large reservation costs address space, not memory.
pub const EVAL_STACK_BYTES: usize = 64 << 20;

/// The threads lint evaluates on: as many as rayon's global pool, with [`EVAL_STACK_BYTES`] of
/// stack each. None if the pool cannot be built (then the global pool is used).
fn eval_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(rayon::current_num_threads())
            .stack_size(EVAL_STACK_BYTES)
            .thread_name(|i| format!("seaworthy-eval-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// How many VM instructions run between two reads of the clock: often enough that a 2 s budget is
/// kept to within a few microseconds, rarely enough that the clock costs nothing measurable.
const TIMER_CHECK_INTERVAL: NonZeroU32 = match NonZeroU32::new(1024) {
    Some(n) => n,
    None => unreachable!(),
};

enum Machine {
    /// No rule is enabled: nothing to run.
    Nothing,
    Vm(Box<RegoVM>),
    Interpreter(Box<regorus::Engine>),
}

/// One evaluation context (a VM or an interpreter clone) and the `data` installed in it.
pub struct EvalState {
    machine: Machine,
    data: Option<Value>,
    /// With the RVM, the interpreter of the rules that run on it.
    fallback: Option<Box<EvalState>>,
}

pub struct Runner<'a> {
    evaluator: &'a Evaluator,
    state: EvalState,
}

impl Runner<'_> {
    pub fn evaluate(&mut self, subject: &Subject) -> Evaluated {
        let ev = self.evaluator;
        ev.evaluate(&mut self.state, subject, &ev.data, None)
    }
}

/// Reads `violations`: a set (or array) of `{"msg": string, "path": [key | index, ...]}`.
fn decode_violations(
    result: &Value,
    active: &Active,
    out: &mut Vec<Violation>,
) -> Result<(), String> {
    let items: Vec<&Value> = match result {
        Value::Undefined | Value::Null => return Ok(()),
        Value::Set(set) => set.iter().collect(),
        Value::Array(items) => items.iter().collect(),
        other => return Err(format!("violations must be a set of objects, got {other}")),
    };
    let mut seen = HashSet::new();
    for item in items {
        let message = match &item["msg"] {
            Value::String(s) => s.to_string(),
            _ => return Err(format!("violation {item} has no string \"msg\"")),
        };
        let path = match &item["path"] {
            Value::Undefined | Value::Null => Vec::new(),
            Value::Array(steps) => steps
                .iter()
                .map(|step| match step {
                    Value::String(s) => Ok(PathStep::Key(s.to_string())),
                    Value::Number(_) => step
                        .as_u64()
                        .ok()
                        .and_then(|n| usize::try_from(n).ok())
                        .map(PathStep::Index)
                        .ok_or_else(|| format!("path step {step} is not an index")),
                    other => Err(format!("path step {other} must be a string or an index")),
                })
                .collect::<Result<Vec<_>, _>>()?,
            other => return Err(format!("violation path must be a list, got {other}")),
        };
        if seen.insert((message.clone(), path.clone())) {
            out.push(Violation {
                rule: active.index,
                severity: active.severity,
                message,
                path,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rule that reports `input.params.limit` when the object's `spec.size` is over it; `kinds`
    /// is the metadata's list, or empty for a rule of every kind.
    fn limit_rule(name: &str, kinds: &str, limit: u32) -> (String, String, bool) {
        let kinds = if kinds.is_empty() {
            String::new()
        } else {
            format!("\"kinds\": {kinds},")
        };
        let text = format!(
            r#"package seaworthy.rules.test.{name}

import rego.v1

metadata := {{
	"id": "{id}",
	"area": "test",
	"severity": "warning",
	{kinds}
	"summary": "Size over the limit",
	"remediation": "Make it smaller.",
	"params": {{"limit": {limit}}},
}}

violations contains v if {{
	input.object.spec.size > input.params.limit
	v := {{"msg": sprintf("{id}: size over %d", [input.params.limit]), "path": ["spec", "size"]}}
}}
"#,
            id = name.replace('_', "-"),
        );
        (format!("{name}.rego"), text, false)
    }

    fn catalog() -> Catalog {
        Catalog::from_sources(vec![
            limit_rule("small_a", r#"["Deployment", "Pod"]"#, 1),
            limit_rule("small_b", r#"["Deployment", "Pod"]"#, 1),
            limit_rule("large", r#"["Deployment"]"#, 5),
            limit_rule("any_kind", "", 1),
        ])
        .expect("test policies load")
    }

    fn messages(evaluator: &Evaluator, kind: &str, size: u32) -> Vec<String> {
        let object = serde_json::json!({"kind": kind, "spec": {"size": size}});
        let subject = Subject {
            kind: kind.to_string(),
            object: Value::from(object),
            workload: None,
            related: None,
        };
        let mut state = evaluator.state();
        let evaluated = evaluator.evaluate(&mut state, &subject, &Value::new_object(), None);
        assert_eq!(evaluated.errors, []);
        let mut found: Vec<String> = evaluated
            .violations
            .into_iter()
            .map(|v| v.message)
            .collect();
        found.sort();
        found
    }

    #[test]
    fn rules_with_equal_params_share_a_batch_and_kinds_share_entry_points() {
        let evaluator = Evaluator::new(catalog(), &HashMap::new(), Backend::Rvm).expect("compiles");
        let slots_of = |batches: &[Batch]| -> Vec<Vec<String>> {
            batches
                .iter()
                .map(|b| {
                    b.slots
                        .iter()
                        .map(|&s| evaluator.rules[evaluator.active[s].index].meta.id.clone())
                        .collect()
                })
                .collect()
        };
        let deployment = &evaluator.batches_by_kind["Deployment"];
        assert_eq!(
            slots_of(deployment),
            [vec!["any-kind", "small-a", "small-b"], vec!["large"]],
            "limit 1 together, limit 5 apart"
        );
        let pod = &evaluator.batches_by_kind["Pod"];
        assert_eq!(slots_of(pod), [vec!["any-kind", "small-a", "small-b"]]);
        assert_eq!(
            pod[0].entry, deployment[0].entry,
            "the same rules, one entry point"
        );
        assert_eq!(slots_of(&evaluator.any_kind_batches), [vec!["any-kind"]]);
    }

    #[test]
    fn each_rule_sees_its_own_params_in_a_batch() {
        let mut settings = HashMap::new();
        let mut params = serde_json::Map::new();
        params.insert("limit".into(), serde_json::json!(3));
        settings.insert(
            "small-b".to_string(),
            RuleSetting {
                enabled: true,
                severity: Severity::Warning,
                params,
            },
        );
        for backend in [Backend::Rvm, Backend::Interpreter] {
            let evaluator = Evaluator::new(catalog(), &settings, backend).expect("compiles");
            assert_eq!(
                messages(&evaluator, "Deployment", 4),
                [
                    "any-kind: size over 1",
                    "small-a: size over 1",
                    "small-b: size over 3"
                ],
                "{:?}",
                backend
            );
            assert_eq!(
                messages(&evaluator, "Deployment", 9),
                [
                    "any-kind: size over 1",
                    "large: size over 5",
                    "small-a: size over 1",
                    "small-b: size over 3"
                ]
            );
            assert_eq!(
                messages(&evaluator, "Pod", 2),
                ["any-kind: size over 1", "small-a: size over 1"]
            );
            assert_eq!(
                messages(&evaluator, "ConfigMap", 2),
                ["any-kind: size over 1"]
            );
            assert!(messages(&evaluator, "Deployment", 1).is_empty());
        }
    }

    #[test]
    fn a_rule_whose_violations_are_malformed_is_named_from_inside_its_batch() {
        let mut sources = vec![limit_rule("small_a", r#"["Deployment"]"#, 1)];
        sources.push((
            "broken.rego".into(),
            r#"package seaworthy.rules.test.broken

import rego.v1

metadata := {"id": "broken", "area": "test", "severity": "error", "kinds": ["Deployment"], "summary": "Broken", "remediation": "Fix it.", "params": {"limit": 1}}

violations := "not a set"
"#
            .into(),
            false,
        ));
        let catalog = Catalog::from_sources(sources.clone()).expect("loads");
        let evaluator = Evaluator::new(catalog, &HashMap::new(), Backend::Rvm).expect("compiles");
        assert_eq!(
            evaluator.batches_by_kind["Deployment"].len(),
            1,
            "one batch, so the batch fails as a whole"
        );
        let subject = Subject {
            kind: "Deployment".into(),
            object: Value::from(serde_json::json!({"spec": {"size": 2}})),
            workload: None,
            related: None,
        };
        for backend in [Backend::Rvm, Backend::Interpreter] {
            let catalog = Catalog::from_sources(sources.clone()).expect("loads");
            let evaluator = Evaluator::new(catalog, &HashMap::new(), backend).expect("compiles");
            let evaluated =
                evaluator.evaluate(&mut evaluator.state(), &subject, &Value::new_object(), None);
            let [error] = evaluated.errors.as_slice() else {
                panic!("one error: {:?}", evaluated.errors);
            };
            assert_eq!(evaluator.rules[error.rule].meta.id, "broken");
            assert!(error.message.contains("must be a set"), "{}", error.message);
            assert!(!error.timed_out);
            let found: Vec<&str> = evaluated
                .violations
                .iter()
                .map(|v| v.message.as_str())
                .collect();
            assert_eq!(
                found,
                ["small-a: size over 1"],
                "the other rule's verdict stands"
            );
        }
    }

    #[test]
    fn a_rule_that_fails_inside_a_batch_costs_only_itself() {
        let mut sources = vec![
            limit_rule("small_a", r#"["Deployment"]"#, 1),
            limit_rule("small_b", r#"["Deployment"]"#, 1),
        ];
        sources.push((
            "failing.rego".into(),
            r#"package seaworthy.rules.test.failing

import rego.v1

metadata := {"id": "failing", "area": "test", "severity": "error", "kinds": ["Deployment"], "summary": "Fails", "remediation": "Fix it.", "params": {"limit": 1}}

violations contains v if {
	input.object.spec.size > 0
	v := {"msg": "bad path", "path": [{"not": "a step"}]}
}
"#
            .into(),
            false,
        ));
        let subject = Subject {
            kind: "Deployment".into(),
            object: Value::from(serde_json::json!({"spec": {"size": 2}})),
            workload: None,
            related: None,
        };
        for backend in [Backend::Rvm, Backend::Interpreter] {
            let catalog = Catalog::from_sources(sources.clone()).expect("loads");
            let evaluator = Evaluator::new(catalog, &HashMap::new(), backend).expect("compiles");
            let evaluated =
                evaluator.evaluate(&mut evaluator.state(), &subject, &Value::new_object(), None);
            let ids: Vec<&str> = evaluated
                .errors
                .iter()
                .map(|e| evaluator.rules[e.rule].meta.id.as_str())
                .collect();
            assert_eq!(ids, ["failing"], "{backend:?}: {:?}", evaluated.errors);
            assert!(
                evaluated.errors[0].message.contains("path step"),
                "{backend:?}: {}",
                evaluated.errors[0].message
            );
            assert_eq!(evaluated.violations.len(), 2, "{backend:?}");
        }
    }

    #[test]
    fn a_deadline_already_past_stops_before_running() {
        let evaluator = Evaluator::new(catalog(), &HashMap::new(), Backend::Rvm).expect("compiles");
        let subject = Subject {
            kind: "Deployment".into(),
            object: Value::from(serde_json::json!({"spec": {"size": 2}})),
            workload: None,
            related: None,
        };
        let past = Instant::now() - std::time::Duration::from_millis(1);
        let evaluated = evaluator.evaluate(
            &mut evaluator.state(),
            &subject,
            &Value::new_object(),
            Some(past),
        );
        assert!(evaluated.timed_out(), "no time left");
        assert!(evaluated.violations.is_empty());
    }
}
