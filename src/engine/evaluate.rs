//! Evaluating: the compiled rules on one object (or many in parallel), within an instruction cap
//! and a deadline, each failing rule isolated, violations decoded.

use super::*;

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
pub(super) struct Active {
    pub(super) index: usize,
    pub(super) entry: String,
    pub(super) params: Value,
    pub(super) severity: Severity,
    /// Why the rule cannot run (see [`Rule::broken`]): not compiled, reported as an error.
    pub(super) broken: Option<String>,
    /// Runs on the interpreter with either back end (see [`Rule::may_conflict`]).
    pub(super) interpreted: bool,
}

/// What a rule reported for one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub rule: usize,
    pub severity: Severity,
    pub message: String,
    pub path: Vec<PathStep>,
}

/// How much of an object of some kind a run hands to the engine ([`Evaluator::reading_of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// No enabled rule judges the kind or may find it in `data.inventory`: it is counted and
    /// listed, never converted.
    Nothing,
    /// Rules judge it or may find it in `data.inventory`, but none reads more than its
    /// `apiVersion`, `kind` and `metadata`: only those are converted.
    Identity,
    /// Some rule may read all of it.
    Content,
}

/// The input of one object: the object as written, its workload view and what relates to it
/// (see `context`).
pub struct Subject {
    pub kind: String,
    pub object: Value,
    pub workload: Option<Value>,
    pub related: Option<Value>,
    /// What the schema check found (see `schema::to_rego`); None for a kind it cannot check.
    pub schema: Option<Value>,
    /// The admission request around the object (`operation`, `oldObject`, `userInfo`), in serve
    /// when some rule reads it (the Gatekeeper constraints' review); `input.request`.
    pub request: Option<Value>,
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
    pub(super) active: Vec<Active>,
    pub(super) by_kind: HashMap<String, Vec<usize>>,
    pub(super) any_kind: Vec<usize>,
    /// With the RVM, the applicable rules of each kind grouped into batches that run as one
    /// execution (see [`Batch`]); keyed like `by_kind`.
    pub(super) batches_by_kind: HashMap<String, Vec<Batch>>,
    pub(super) any_kind_batches: Vec<Batch>,
    pub(super) compiled: Compiled,
    /// With the RVM, the interpreter for the rules that run on it (see [`Rule::may_conflict`]).
    pub(super) fallback: Option<Box<regorus::Engine>>,
    pub(super) data: Value,
    pub(super) uses_inventory: bool,
    /// Set by [`Evaluator::time_rules`]: each rule then runs on its own and is timed.
    pub(super) timings: Option<Timings>,
}

/// What evaluation runs on.
pub(super) enum Compiled {
    /// No rule is enabled: nothing to run.
    Nothing,
    Vm(Arc<Programs>),
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
        let uses_inventory = active.iter().any(|a| rules[a.index].reads_inventory);
        let inlined = match backend {
            Backend::Rvm => inline_params(&active, &rules, &catalog.sources),
            Backend::Interpreter => InlinedParams::default(),
        };
        let plan = plan_batches(&active, &rules, &by_kind, &any_kind, &inlined.slots);
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
            Backend::Rvm => {
                let (program, bytes) =
                    compile_program(&mut catalog, &inlined, &plan.module, &entries)?;
                Compiled::Vm(Programs::new(program, bytes))
            }
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
            timings: None,
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

    /// Times every rule from now on (`seaworthy lint --timings`): each runs in an execution of its
    /// own, so a timed run is slower; see [`Evaluator::rule_timings`].
    pub fn time_rules(&mut self) {
        self.timings = Some(Timings::new(self.active.len()));
    }

    /// What each rule cost so far, costliest first; None unless [`Evaluator::time_rules`] was
    /// called.
    pub fn rule_timings(&self) -> Option<Vec<RuleTiming>> {
        let timings = self.timings.as_ref()?;
        Some(timings.report(|slot| self.rules[self.active[slot].index].meta.id.as_str()))
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

    /// True when every enabled rule that applies to objects of this kind is a built-in rule.
    /// Their builtin calls are bounded by the object's size; a custom policy's may run for
    /// seconds in one call that regorus cannot interrupt (`sprintf` of a million numbers).
    pub fn only_builtin_rules_for(&self, kind: &str) -> bool {
        self.applicable(kind)
            .iter()
            .all(|&slot| self.rules[self.active[slot].index].builtin)
    }

    /// True when at least one enabled rule applies to objects of this kind.
    pub fn applies_to(&self, kind: &str) -> bool {
        !self.any_kind.is_empty() || self.by_kind.contains_key(kind)
    }

    /// True when some enabled rule may read `input.schema`: otherwise the schema check is not
    /// run on the objects.
    pub fn reads_schema(&self) -> bool {
        self.active.iter().any(|a| self.rules[a.index].reads_schema)
    }

    /// How much of an object of this kind the enabled rules may read (see [`Reading`]): its
    /// content when some rule names the kind in its metadata `reads`, or names it in its
    /// `content`, or has no `content` and judges the kind or reads `data.inventory` (which may
    /// hold any kind); else its identity when some rule judges the kind or reads the inventory;
    /// else nothing.
    pub fn reading_of(&self, group: &str, kind: &str) -> Reading {
        let reads_content = self.active.iter().any(|a| {
            let rule = &self.rules[a.index];
            let meta = &rule.meta;
            meta.reads
                .iter()
                .any(|read| read.kind == kind && read.group == group)
                || match &meta.content {
                    Some(kinds) => kinds.iter().any(|k| k == kind),
                    None => {
                        rule.reads_inventory
                            || meta
                                .kinds
                                .as_ref()
                                .is_none_or(|kinds| kinds.iter().any(|k| k == kind))
                    }
                }
        });
        if reads_content {
            Reading::Content
        } else if self.uses_inventory || self.applies_to(kind) {
            Reading::Identity
        } else {
            Reading::Nothing
        }
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
            Compiled::Vm(programs) => Machine::Unstarted(programs.clone()),
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
                    _loan: None,
                })
            }),
            _loan: None,
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
        if let Some(timings) = &self.timings {
            for &slot in applicable {
                if self.active[slot].broken.is_some() {
                    continue;
                }
                let started = Instant::now();
                let go_on = self.evaluate_rule(state, subject, data, deadline, slot, &mut out);
                timings.record(slot, started.elapsed());
                if !go_on {
                    break;
                }
            }
            return out;
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
            let Value::Array(results) = &result else {
                // Not an array only if the batch is undefined, which a defaulted element never is.
                continue;
            };
            // `[slot, violations]` pairs, in slot order, so findings come out in catalog order as
            // with one rule at a time.
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

    /// Only the rules at `rules` (indexes into [`Evaluator::rules`]) that apply to the subject,
    /// each in an execution of its own. The ratchet asks an UPDATE's old object about the few
    /// rules that would deny the new one: a handful of executions cost less than the kind's whole
    /// batch. A rule that cannot run (broken) is left out: it judged nothing.
    pub fn evaluate_rules(
        &self,
        state: &mut EvalState,
        subject: &Subject,
        data: &Value,
        deadline: Option<Instant>,
        rules: &[usize],
    ) -> Evaluated {
        let mut out = Evaluated::default();
        for &slot in self.applicable(&subject.kind) {
            let active = &self.active[slot];
            if active.broken.is_some() || !rules.contains(&active.index) {
                continue;
            }
            if !self.evaluate_rule(state, subject, data, deadline, slot, &mut out) {
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
pub(super) fn decode_into(result: &Value, active: &Active, out: &mut Evaluated) {
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

/// What a rule sees as `input`: the object, its workload view, what relates to it, what the schema
/// check found, its params.
pub(super) fn input_of(subject: &Subject, params: &Value) -> Value {
    let mut input = BTreeMap::new();
    input.insert(Value::from("object"), subject.object.clone());
    if let Some(w) = &subject.workload {
        input.insert(Value::from("workload"), w.clone());
    }
    if let Some(r) = &subject.related {
        input.insert(Value::from("related"), r.clone());
    }
    if let Some(s) = &subject.schema {
        input.insert(Value::from("schema"), s.clone());
    }
    if let Some(r) = &subject.request {
        input.insert(Value::from("request"), r.clone());
    }
    input.insert(Value::from("params"), params.clone());
    Value::from(input)
}

/// An evaluation that failed, before it is pinned on a rule.
pub(super) struct Failure {
    pub(super) message: String,
    pub(super) timed_out: bool,
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
pub(super) fn run_entry(
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
    let result = match state.machine() {
        Machine::Nothing | Machine::Unstarted(_) => Value::Undefined,
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
pub(super) fn one_line(message: &str) -> String {
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

/// Instructions one rule may run on one object: seconds of work, far beyond any real rule.
pub const MAX_INSTRUCTIONS: usize = 200_000_000;

/// The stack of every thread that evaluates rules (lint's pool here, the webhook's blocking pool):
/// regorus evaluates by native recursion, as deep as a policy nests (at most
/// [`analysis::MAX_NESTING`] brackets, recursion refused at load) and as its input does. Only
/// touched pages are committed, so a large reservation costs address space, not memory.
pub const EVAL_STACK_BYTES: usize = 64 << 20;

/// The threads lint evaluates on: as many as rayon's global pool, with [`EVAL_STACK_BYTES`] of
/// stack each. None if the pool cannot be built (then the global pool is used).
pub(super) fn eval_pool() -> Option<&'static rayon::ThreadPool> {
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

/// Runs `work` on a thread with [`EVAL_STACK_BYTES`] of stack and returns its result (a panic is
/// raised again here). Parsing and compiling policies recurse in regorus as deep as the policy
/// text nests; the load-time checks refuse the recursions we know of
/// ([`analysis::check_nesting`]), and this margin keeps one we don't know of from overflowing the
/// caller's stack (8 MiB on the main thread, 2 MiB on others), which aborts the whole process.
/// If no thread can be started, `work` runs here.
pub fn on_eval_stack<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    let mut work = Some(work);
    let outcome = std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("seaworthy-load".into())
            .stack_size(EVAL_STACK_BYTES)
            .spawn_scoped(scope, || work.take().map(|work| work()));
        spawned.ok().map(|thread| thread.join())
    });
    match outcome {
        Some(Ok(Some(result))) => result,
        Some(Err(payload)) => std::panic::resume_unwind(payload),
        // The thread could not start (so `work` was not taken): run it on this one.
        _ => match work.take() {
            Some(work) => work(),
            None => unreachable!("the work ran on the thread that returned it"),
        },
    }
}

/// How many VM instructions run between two reads of the clock: often enough that a 2 s budget is
/// kept to within a few microseconds, rarely enough that the clock costs nothing measurable.
pub(super) const TIMER_CHECK_INTERVAL: NonZeroU32 = match NonZeroU32::new(1024) {
    Some(n) => n,
    None => unreachable!(),
};

pub(super) enum Machine {
    /// No rule is enabled: nothing to run.
    Nothing,
    /// The VM is made at the state's first evaluation (see [`EvalState::machine`]).
    Unstarted(Arc<Programs>),
    Vm(Box<RegoVM>),
    Interpreter(Box<regorus::Engine>),
}

/// One evaluation context (a VM or an interpreter clone) and the `data` installed in it.
pub struct EvalState {
    pub(super) machine: Machine,
    pub(super) data: Option<Value>,
    /// With the RVM, the interpreter of the rules that run on it.
    pub(super) fallback: Option<Box<EvalState>>,
    /// With the RVM, the program the machine runs, this state's alone while it lives (see
    /// [`Programs`]). After `machine`, so the machine lets go of it first.
    pub(super) _loan: Option<Loan>,
}

impl EvalState {
    /// The machine, the VM made first if this is the first evaluation: a state that never
    /// evaluates (lint's group of load problems alone) borrows no program, so a one-file lint
    /// runs on the compiled program without copying it.
    fn machine(&mut self) -> &mut Machine {
        if let Machine::Unstarted(programs) = &self.machine {
            let loan = programs.lend();
            let mut vm = RegoVM::new();
            vm.load_program(loan.program());
            // The VM's default stops a rule after 25,000 instructions, which a large object
            // (dozens of containers, hundreds of env entries) can reach legitimately. Time is
            // bounded by the deadline where there is one (the webhook); this cap only stops a
            // runaway policy in lint.
            vm.set_max_instructions(MAX_INSTRUCTIONS);
            self._loan = Some(loan);
            self.machine = Machine::Vm(Box::new(vm));
        }
        &mut self.machine
    }
}

pub struct Runner<'a> {
    pub(super) evaluator: &'a Evaluator,
    pub(super) state: EvalState,
}

impl Runner<'_> {
    pub fn evaluate(&mut self, subject: &Subject) -> Evaluated {
        let ev = self.evaluator;
        ev.evaluate(&mut self.state, subject, &ev.data, None)
    }
}

/// Reads `violations`: a set (or array) of `{"msg": string, "path": [key | index, ...]}`.
pub(super) fn decode_violations(
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
