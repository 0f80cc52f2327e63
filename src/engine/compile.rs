//! Compiling: the enabled rules of each kind planned into batches that run as one VM execution,
//! and the RVM program built once (or taken from the cache).

use super::*;
use cache::Payload;

/// Rules that run as one VM execution. The RVM starts each execution afresh (rule cache,
/// registers, input), and shared helpers are computed anew each time, which costs more than most
/// of these rules do; so a kind's rules run as one generated entry point, an array of
/// `[slot, violations]` pairs in slot order. `input.params` is one value per execution, so only
/// rules with equal params share a batch.
///
/// The array is one rule body. A set with one body per rule (`b contains [slot, v] if {...}`)
/// gives the same pairs, but regorus sets up each body afresh (registers, a `jump_to`): 6 % of
/// the machine instructions of a compliant Deployment's evaluation. An element that is undefined
/// makes the whole array undefined, so a rule whose `violations` may be undefined (not a
/// `contains` set in every definition) is read through a generated rule with a default: an
/// empty set, which reports nothing, as a missing pair did.
pub(super) struct Batch {
    pub(super) entry: String,
    pub(super) params: Value,
    pub(super) slots: Vec<usize>,
}

/// The package of the generated batch entry points. It is outside `seaworthy.rules`, so the
/// catalog never takes it for a rule.
pub(super) const BATCH_PACKAGE: &str = "seaworthy.engine.batches";

/// The batches of every kind (and of kinds no rule names), the Rego module defining them, and
/// their entry points, each once: kinds with the same applicable rules share entry points.
pub(super) struct BatchPlan {
    pub(super) by_kind: HashMap<String, Vec<Batch>>,
    pub(super) any_kind: Vec<Batch>,
    pub(super) module: String,
    pub(super) entries: Vec<String>,
}

pub(super) fn plan_batches(
    active: &[Active],
    rules: &[Rule],
    by_kind: &HashMap<String, Vec<usize>>,
    any_kind: &[usize],
    inlined: &HashSet<usize>,
) -> BatchPlan {
    let no_params = Value::new_object();
    let mut module = format!("package {BATCH_PACKAGE}\n\nimport rego.v1\n");
    // One defaulted reading per rule that needs it, whichever batches use it.
    for (slot, a) in active.iter().enumerate() {
        let rule = &rules[a.index];
        if a.broken.is_none() && !a.interpreted && !rule.violations_always_a_set {
            let name = defaulted(slot);
            module.push_str(&format!(
                "\ndefault {name} := set()\n\n{name} := data.{}.violations\n",
                rule.package
            ));
        }
    }
    let mut entries: HashMap<Vec<usize>, String> = HashMap::new();
    let mut entry_order: Vec<String> = Vec::new();
    let mut batches_of = |slots: &[usize]| -> Vec<Batch> {
        let mut groups: Vec<(Value, Vec<usize>)> = Vec::new();
        for &slot in slots {
            if active[slot].broken.is_some() || active[slot].interpreted {
                continue;
            }
            // A rule whose params are compiled in reads none from `input`.
            let params = if inlined.contains(&slot) {
                &no_params
            } else {
                &active[slot].params
            };
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
                    module.push_str(&format!("\n{name} := ["));
                    for &slot in &slots {
                        let rule = &rules[active[slot].index];
                        let package = &rule.package;
                        if rule.violations_always_a_set {
                            module.push_str(&format!("\n\t[{slot}, data.{package}.violations],"));
                        } else {
                            module.push_str(&format!("\n\t[{slot}, {}],", defaulted(slot)));
                        }
                    }
                    module.push_str("\n]\n");
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

/// The generated rule that reads the `violations` of the rule at `slot`, or an empty set where it
/// is undefined.
fn defaulted(slot: usize) -> String {
    format!("violations_of_{slot}")
}

/// The RVM program for these entry points: from the cache, or compiled (and then cached).
/// `batch_module` is the generated Rego that defines the batch entry points; `inlined` the rules'
/// params compiled in (see [`inline_params`]).
pub(super) fn compile_program(
    catalog: &mut Catalog,
    inlined: &InlinedParams,
    batch_module: &str,
    entries: &[&str],
) -> Result<(Arc<Program>, Option<Payload>), PolicyError> {
    let sources = inlined.sources.as_deref().unwrap_or(&catalog.sources);
    let mut key = sources_key("program", sources);
    key.add(batch_module.as_bytes());
    key.add(inlined.module.as_bytes());
    for entry in entries {
        key.add(entry.as_bytes());
    }
    let cached =
        catalog
            .cache
            .load(&key)
            .and_then(|bytes| match Program::deserialize_binary(&bytes) {
                Ok(DeserializationResult::Complete(program)) => Some((program, bytes)),
                // A partial program needs recompiling, which is what a miss does anyway.
                Ok(DeserializationResult::Partial(_)) | Err(_) => None,
            });
    if let Some((program, bytes)) = cached {
        return Ok((Arc::new(program), Some(bytes)));
    }
    let Some(first) = entries.first() else {
        return Err(PolicyError::Compile("no rule to compile".into()));
    };
    let mut engine = match &inlined.sources {
        Some(sources) => parse_policies(sources)?,
        None => catalog.take_engine()?,
    };
    engine
        .add_policy("<seaworthy batches>".into(), batch_module.into())
        .map_err(|e| PolicyError::Compile(format!("generated batches: {e}")))?;
    if !inlined.slots.is_empty() {
        engine
            .add_policy("<seaworthy params>".into(), inlined.module.clone())
            .map_err(|e| PolicyError::Compile(format!("generated params: {e}")))?;
    }
    // Compiling recurses as deep as the policies nest, like parsing: on a deep stack too.
    let program = on_eval_stack(|| {
        let compiled = engine
            .compile_with_entrypoint(&(*first).into())
            .map_err(|e| PolicyError::Compile(e.to_string()))?;
        regorus::languages::rego::compiler::Compiler::compile_from_policy(&compiled, entries)
            .map_err(|e| PolicyError::Compile(e.to_string()))
    })?;
    let bytes = program.serialize_binary().ok().map(Payload::from);
    if let Some(bytes) = &bytes {
        catalog.cache.store(&key, bytes);
    }
    Ok((program, bytes))
}

/// The package of the generated constants that hold rules' params (see [`inline_params`]).
pub(super) const PARAMS_PACKAGE: &str = "seaworthy.engine.params";

/// Rules whose params are compiled in, so that rules with different params still share their
/// kind's batch (one VM execution per object instead of one more per rule with params).
#[derive(Default)]
pub(super) struct InlinedParams {
    /// The slots (indexes into the active rules) whose params are compiled in.
    pub(super) slots: HashSet<usize>,
    /// The generated module: one constant per such rule (`r<slot> := {...}`).
    pub(super) module: String,
    /// Every policy source, those rules' own modules reading `data.seaworthy.engine.params.r<slot>`
    /// where they read `input.params`; None when no rule's params are compiled in.
    pub(super) sources: Option<Vec<PolicySource>>,
}

/// Compiles each rule's params in as a constant of a generated module, and makes the rule's own
/// module read that constant where it reads `input.params`, so each rule still sees only its own
/// params while every rule of a kind runs in one execution (`with input.params as ...` would say
/// the same, but the RVM rejects `with`). Only what is compiled changes: the interpreter and the
/// sources reports quote are untouched.
///
/// A rule keeps its params in `input` (and a batch of its own) unless this is certain to be
/// exact: its package is in one file, that file reaches `input` only through `input.<field>`
/// (`input[...]`, a bare `input` or `with input` could reach the params another way), and no
/// library (a policy file that is no rule's) names `input.params` or a bare `input` (a library
/// reading params would not know whose).
pub(super) fn inline_params(
    active: &[Active],
    rules: &[Rule],
    sources: &[PolicySource],
) -> InlinedParams {
    let with_params: Vec<usize> = (0..active.len())
        .filter(|&slot| {
            let a = &active[slot];
            a.broken.is_none() && !a.interpreted && a.params != Value::new_object()
        })
        .collect();
    if with_params.is_empty() {
        return InlinedParams::default();
    }
    // Every rule's file, enabled or not: a rule's module reads its own params (the contract), a
    // library's would read whichever rule's called it.
    let rule_files: HashSet<&str> = rules.iter().map(|rule| rule.file.as_str()).collect();
    let others_clean = sources
        .iter()
        .filter(|s| !rule_files.contains(s.file.as_str()))
        .all(|s| rewrite_input_params(&s.text, "").is_some_and(|(_, n)| n == 0));
    if !others_clean {
        return InlinedParams::default();
    }
    let mut inlined = InlinedParams {
        module: format!("package {PARAMS_PACKAGE}\n"),
        ..InlinedParams::default()
    };
    let mut rewritten: Vec<PolicySource> = sources.to_vec();
    let declarations = package_declarations(sources);
    for slot in with_params {
        let rule = &rules[active[slot].index];
        let Some([index]) = declarations.get(rule.package.as_str()).map(Vec::as_slice) else {
            continue;
        };
        let reference = format!("data.{PARAMS_PACKAGE}.r{slot}");
        let Some((text, _)) = rewrite_input_params(&rewritten[*index].text, &reference) else {
            continue;
        };
        let Ok(constant) = serde_json::to_string(&active[slot].params) else {
            continue;
        };
        rewritten[*index].text = text;
        inlined
            .module
            .push_str(&format!("\nr{slot} := {constant}\n"));
        inlined.slots.insert(slot);
    }
    if !inlined.slots.is_empty() {
        inlined.sources = Some(rewritten);
    }
    inlined
}

/// For each package, the sources (by index) that declare it: one pass over every source.
fn package_declarations(sources: &[PolicySource]) -> HashMap<&str, Vec<usize>> {
    let mut declarations: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, source) in sources.iter().enumerate() {
        for (start, end) in code_spans(&source.text) {
            for line in source.text[start..end].split('\n') {
                let mut words = line.split_whitespace();
                if let (Some("package"), Some(package)) = (words.next(), words.next()) {
                    let found = declarations.entry(package).or_default();
                    if found.last() != Some(&index) {
                        found.push(index);
                    }
                }
            }
        }
    }
    declarations
}

/// `text` with every `input.params` written in code (not in a string or comment) replaced by
/// `replacement`, and how many were; None when the code reaches `input` in another way than
/// `input.<field>`, through which the params could be read unreplaced.
pub(super) fn rewrite_input_params(text: &str, replacement: &str) -> Option<(String, usize)> {
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut replaced = 0;
    for (start, end) in code_spans(text) {
        let mut i = start;
        while i < end {
            if !is_ident(bytes[i]) {
                i += 1;
                continue;
            }
            let word_start = i;
            while i < end && is_ident(bytes[i]) {
                i += 1;
            }
            // A field (`x.input`) or part of a number is not the root document.
            let after_dot = word_start > 0 && bytes[word_start - 1] == b'.';
            if &text[word_start..i] != "input" || after_dot || bytes[word_start].is_ascii_digit() {
                continue;
            }
            if i >= end || bytes[i] != b'.' {
                return None;
            }
            let field_start = i + 1;
            let mut field_end = field_start;
            while field_end < end && is_ident(bytes[field_end]) {
                field_end += 1;
            }
            if field_end == field_start {
                return None;
            }
            if &text[field_start..field_end] == "params" {
                out.push_str(&text[copied..word_start]);
                out.push_str(replacement);
                copied = field_end;
                replaced += 1;
            }
            i = field_end;
        }
    }
    out.push_str(&text[copied..]);
    Some((out, replaced))
}

/// The byte ranges of `text` that are Rego code: outside comments (`#` to the end of the line),
/// strings (`"..."` with escapes) and raw strings (`` `...` ``).
fn code_spans(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        if i >= bytes.len() {
            return None;
        }
        let start = i;
        while i < bytes.len() && !matches!(bytes[i], b'#' | b'"' | b'`') {
            i += 1;
        }
        let span = (start, i);
        if i < bytes.len() {
            match bytes[i] {
                b'#' => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'"' => {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                        i += if bytes[i] == b'\\' { 2 } else { 1 };
                    }
                    i = (i + 1).min(bytes.len());
                }
                _ => {
                    i += 1;
                    while i < bytes.len() && bytes[i] != b'`' {
                        i += 1;
                    }
                    i = (i + 1).min(bytes.len());
                }
            }
        }
        Some(span)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_params_in_code_is_replaced_and_strings_and_comments_are_not() {
        let text = "# input.params in a comment\nx := input.params.limit if {\n\t\"input.params\" != `input.params`\n\tinput.object.spec\n\ty := input.params[\"k\"]\n}\n";
        let (out, n) = rewrite_input_params(text, "data.p.r1").expect("rewritable");
        assert_eq!(n, 2);
        assert_eq!(
            out,
            "# input.params in a comment\nx := data.p.r1.limit if {\n\t\"input.params\" != `input.params`\n\tinput.object.spec\n\ty := data.p.r1[\"k\"]\n}\n"
        );
    }

    #[test]
    fn other_ways_to_reach_input_are_not_rewritten() {
        for text in [
            "x := input[\"params\"]",
            "x := object.get(input, \"params\", {})",
            "v := f(x) with input as {}",
            "import input",
        ] {
            assert!(rewrite_input_params(text, "r").is_none(), "{text}");
        }
        // A field named input, or a word ending in input, is not the root document.
        assert_eq!(
            rewrite_input_params("x := y.input + my_input", "r"),
            Some(("x := y.input + my_input".to_string(), 0))
        );
    }

    #[test]
    fn a_package_is_found_by_its_declaration_only() {
        let source = |text: &str| PolicySource {
            file: "f.rego".into(),
            text: text.into(),
            builtin: false,
            rego_v0: false,
        };
        let sources = [
            source("package a.b\n"),
            source("# package a.b\npackage a.bc\n"),
            source("package a.b\n\nimport rego.v1\n"),
        ];
        let declarations = package_declarations(&sources);
        assert_eq!(declarations["a.b"], [0, 2]);
        assert_eq!(declarations["a.bc"], [1]);
        assert_eq!(declarations.len(), 2, "{declarations:?}");
    }
}
