//! Compiling: the enabled rules of each kind planned into batches that run as one VM execution,
//! and the RVM program built once (or taken from the cache).

use super::*;

/// Rules that run as one VM execution. The RVM starts each execution afresh (rule cache,
/// registers, input), and shared helpers are computed anew each time, which costs more than most
/// of these rules do; so a kind's rules run as one generated entry point, a set of
/// `[slot, violations]` pairs. `input.params` is one value per execution, so only rules with equal
/// params share a batch.
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
pub(super) fn compile_program(
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
