//! The rule engine: loads policies (built-in and `--policies DIR`), checks their metadata,
//! compiles every enabled rule once, and evaluates the applicable rules per object, objects in
//! parallel: `catalog` (load), `compile` (batches and the RVM program), `evaluate` (run, isolate
//! failures, decode), with `analysis` (what a policy may not do) and `cache` beside them. Two regorus back ends are kept: the RVM (compiled bytecode, the default: faster on this
//! rule set, see README "Performance") and the tree interpreter, selectable for comparison.

mod analysis;
mod bindings;
mod bounded;
pub mod cache;
mod catalog;
mod compile;
mod evaluate;
pub mod policy;
mod programs;
mod state_pool;
mod timings;

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
pub use catalog::*;
use compile::*;
pub use evaluate::*;
pub use policy::{ReadKind, RuleDoc, RuleMeta, Scope};
use programs::{Loan, Programs};
pub use state_pool::StatePool;
use timings::Timings;
pub use timings::{table as timings_table, RuleTiming};

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

#[cfg(test)]
mod tests {
    use super::*;

    /// Uses about `depth` KiB of stack.
    #[inline(never)]
    fn recurse(depth: usize) -> usize {
        let frame = std::hint::black_box([1u8; 1024]);
        if depth == 0 {
            return frame[0] as usize;
        }
        frame[depth % 1024] as usize + recurse(depth - 1)
    }

    /// 16 MiB of recursion overflows a test thread's 2 MiB stack and the main thread's 8 MiB
    /// (aborting the process), and fits the load thread's stack.
    #[test]
    fn work_on_the_eval_stack_may_recurse_past_a_threads_usual_stack() {
        assert_eq!(on_eval_stack(|| recurse(16 * 1024)), 16 * 1024 + 1);
    }

    #[test]
    fn a_panic_on_the_eval_stack_is_raised_again_in_the_caller() {
        let caught = std::panic::catch_unwind(|| on_eval_stack(|| panic!("policy bug")));
        let payload = caught.expect_err("the panic reaches the caller");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"policy bug"));
    }

    /// Every built-in rule runs on the RVM: none holds a binding the RVM would let through
    /// undefined (see `bindings`), which would send it to the slower interpreter.
    #[test]
    fn every_built_in_rule_runs_on_the_rvm() {
        let catalog = Catalog::load(&[]).expect("built-in policies load");
        let interpreted: Vec<&str> = catalog
            .rules
            .iter()
            .filter(|rule| rule.may_conflict)
            .map(|rule| rule.meta.id.as_str())
            .collect();
        assert!(catalog.rules.len() > 60);
        assert_eq!(interpreted, Vec::<&str>::new());
    }

    /// A test rule's policy file: its metadata (`extra` adds fields to it) and `rules`.
    fn rule_file(name: &str, extra: &str, rules: &str) -> (String, String, bool) {
        let text = format!(
            r#"package seaworthy.rules.test.{name}

import rego.v1

metadata := {{
	"id": "{id}",
	"area": "test",
	"severity": "warning",
	{extra}
	"summary": "A test rule",
	"remediation": "None.",
}}

{rules}
"#,
            id = name.replace('_', "-"),
        );
        (format!("{name}.rego"), text, false)
    }

    /// A rule that reports `input.params.limit` when the object's `spec.size` is over it; `kinds`
    /// is the metadata's list, or empty for a rule of every kind.
    fn limit_rule(name: &str, kinds: &str, limit: u32) -> (String, String, bool) {
        let kinds = if kinds.is_empty() {
            String::new()
        } else {
            format!("\"kinds\": {kinds},")
        };
        let id = name.replace('_', "-");
        rule_file(
            name,
            &format!("{kinds}\n\t\"params\": {{\"limit\": {limit}}},"),
            &format!(
                r#"violations contains v if {{
	input.object.spec.size > input.params.limit
	v := {{"msg": sprintf("{id}: size over %d", [input.params.limit]), "path": ["spec", "size"]}}
}}"#
            ),
        )
    }

    fn catalog() -> Catalog {
        Catalog::from_sources(vec![
            limit_rule("small_a", r#"["Deployment", "Pod", "Job"]"#, 1),
            limit_rule("small_b", r#"["Deployment", "Pod", "Job"]"#, 1),
            limit_rule("large", r#"["Deployment"]"#, 5),
            limit_rule("any_kind", "", 1),
        ])
        .expect("test policies load")
    }

    /// The rule ids of each batch, in order.
    fn batch_ids(evaluator: &Evaluator, batches: &[Batch]) -> Vec<Vec<String>> {
        batches
            .iter()
            .map(|b| {
                b.slots
                    .iter()
                    .map(|&s| evaluator.rules[evaluator.active[s].index].meta.id.clone())
                    .collect()
            })
            .collect()
    }

    /// An object of this kind whose `spec.size` is `size`, as the limit rules read it.
    fn sized(kind: &str, size: u32) -> Subject {
        let object = serde_json::json!({"kind": kind, "spec": {"size": size}});
        Subject {
            kind: kind.to_string(),
            object: Value::from(object),
            workload: None,
            related: None,
            schema: None,
            request: None,
        }
    }

    fn messages(evaluator: &Evaluator, kind: &str, size: u32) -> Vec<String> {
        let mut state = evaluator.state();
        let subject = sized(kind, size);
        sorted_messages(evaluator.evaluate(&mut state, &subject, &Value::new_object(), None))
    }

    /// The messages of an evaluation without errors, sorted.
    fn sorted_messages(evaluated: Evaluated) -> Vec<String> {
        assert_eq!(evaluated.errors, []);
        let mut found: Vec<String> = evaluated
            .violations
            .into_iter()
            .map(|v| v.message)
            .collect();
        found.sort();
        found
    }

    /// A custom rule whose `violations` is a complete rule (`violations := ... if`), which is
    /// undefined when its body does not hold, with the rest of its batch. `value` is its value.
    fn complete_rule(name: &str, value: &str, condition: &str) -> (String, String, bool) {
        rule_file(
            name,
            "\"kinds\": [\"Deployment\"],",
            &format!("violations := {value} if {{\n\t{condition}\n}}"),
        )
    }

    #[test]
    fn a_rule_whose_violations_is_undefined_loses_no_finding_of_its_batch() {
        let catalog = Catalog::from_sources(vec![
            limit_rule("small_a", r#"["Deployment"]"#, 1),
            complete_rule(
                "never",
                r#"{{"msg": "never", "path": ["spec"]}}"#,
                "input.object.kind == \"Pod\"",
            ),
            complete_rule(
                "listed",
                r#"[{"msg": "as an array", "path": ["spec"]}]"#,
                "input.object.spec.size > 3",
            ),
            limit_rule("small_b", r#"["Deployment"]"#, 1),
        ])
        .expect("test policies load");
        let always: Vec<(String, bool)> = catalog
            .rules
            .iter()
            .map(|r| (r.meta.id.clone(), r.violations_always_a_set))
            .collect();
        assert_eq!(
            always,
            [
                ("listed".to_string(), false),
                ("never".to_string(), false),
                ("small-a".to_string(), true),
                ("small-b".to_string(), true),
            ]
        );
        let evaluator = Evaluator::new(catalog, &HashMap::new(), Backend::Rvm).expect("compiles");
        let batches = evaluator
            .batches_by_kind
            .get("Deployment")
            .expect("batched");
        assert_eq!(
            batch_ids(&evaluator, batches),
            [["listed", "never", "small-a", "small-b"]],
            "one execution for all four"
        );
        assert_eq!(
            messages(&evaluator, "Deployment", 9),
            [
                "as an array",
                "small-a: size over 1",
                "small-b: size over 1"
            ]
        );
        assert_eq!(
            messages(&evaluator, "Deployment", 2),
            ["small-a: size over 1", "small-b: size over 1"],
            "both complete rules undefined"
        );
    }

    #[test]
    fn rules_asked_about_alone_report_what_they_report_in_the_batch_and_nothing_else() {
        let evaluator = Evaluator::new(catalog(), &HashMap::new(), Backend::Rvm).expect("compiles");
        let index = |id: &str| {
            evaluator
                .rules
                .iter()
                .position(|r| r.meta.id == id)
                .expect("a rule of the catalog")
        };
        let object = serde_json::json!({"kind": "Deployment", "spec": {"size": 9}});
        let subject = Subject {
            kind: "Deployment".to_string(),
            object: Value::from(object),
            workload: None,
            related: None,
            schema: None,
            request: None,
        };
        let data = Value::new_object();
        let mut state = evaluator.state();
        let all = sorted_messages(evaluator.evaluate(&mut state, &subject, &data, None));
        assert_eq!(all.len(), 4, "every rule fires on size 9: {all:?}");
        let asked = [index("large"), index("any-kind")];
        let alone =
            sorted_messages(evaluator.evaluate_rules(&mut state, &subject, &data, None, &asked));
        assert_eq!(alone, ["any-kind: size over 1", "large: size over 5"]);
        let expected: Vec<&String> = all.iter().filter(|m| alone.contains(m)).collect();
        assert_eq!(
            expected.len(),
            alone.len(),
            "the same findings as in the batch"
        );
        // A rule that does not judge the kind is not run for it.
        let pod = Subject {
            kind: "Pod".to_string(),
            ..subject
        };
        let none = sorted_messages(evaluator.evaluate_rules(
            &mut state,
            &pod,
            &data,
            None,
            &[index("large")],
        ));
        assert_eq!(none, Vec::<String>::new());
    }

    /// An evaluator of one rule made by `limit_rule`, with `metadata` lines added before its
    /// params and `body` lines added to its `violations`.
    fn limit_rule_with(kinds: &str, metadata: &str, body: &str) -> Evaluator {
        let source = limit_rule("rule", kinds, 1)
            .1
            .replace("\"params\":", &format!("{metadata} \"params\":"))
            .replace(
                "input.object.spec.size > input.params.limit",
                &format!("input.object.spec.size > input.params.limit\n\t{body}"),
            );
        let catalog =
            Catalog::from_sources(vec![("rule.rego".to_string(), source, false)]).expect("loads");
        Evaluator::new(catalog, &HashMap::new(), Backend::Rvm).expect("compiles")
    }

    #[test]
    fn only_what_some_rule_may_read_of_a_kind_is_read() {
        use Reading::{Content, Identity, Nothing};
        let crd = ("apiextensions.k8s.io", "CustomResourceDefinition");
        let reading =
            |evaluator: &Evaluator, (group, kind): (&str, &str)| evaluator.reading_of(group, kind);

        let reads_pdbs = limit_rule_with(
            r#"["Deployment"]"#,
            r#""reads": ["policy/v1/PodDisruptionBudget"],"#,
            "true",
        );
        assert_eq!(
            reading(&reads_pdbs, ("apps", "Deployment")),
            Content,
            "judged"
        );
        assert_eq!(
            reading(&reads_pdbs, ("policy", "PodDisruptionBudget")),
            Content,
            "declared in reads"
        );
        assert_eq!(
            reading(&reads_pdbs, ("", "PodDisruptionBudget")),
            Nothing,
            "another group's kind"
        );
        assert_eq!(reading(&reads_pdbs, crd), Nothing);
        assert_eq!(reading(&reads_pdbs, ("", "ConfigMap")), Nothing);

        let any_kind = Evaluator::new(catalog(), &HashMap::new(), Backend::Rvm).expect("compiles");
        assert_eq!(
            reading(&any_kind, crd),
            Content,
            "a rule without kinds judges every kind, and may read all of it"
        );
        // A rule that judges every kind but declares the content it reads sees the others'
        // identity only (as the built-in unknown-field and invalid-field-type do).
        let any_kind_content = limit_rule_with("", r#""content": ["Deployment"],"#, "true");
        assert_eq!(reading(&any_kind_content, ("apps", "Deployment")), Content);
        assert_eq!(reading(&any_kind_content, crd), Identity);
        let judges_no_content = limit_rule_with(r#"["Deployment"]"#, r#""content": [],"#, "true");
        assert_eq!(
            reading(&judges_no_content, ("apps", "Deployment")),
            Identity
        );
        assert_eq!(reading(&judges_no_content, crd), Nothing);

        let inventory = "count(data.inventory) >= 0";
        let reads_inventory = limit_rule_with(r#"["Deployment"]"#, "", inventory);
        assert_eq!(
            reading(&reads_inventory, ("", "ConfigMap")),
            Content,
            "data.inventory may hold any kind: without `content`, everything is read in full"
        );
        let declares_content = limit_rule_with(
            r#"["Deployment"]"#,
            r#""content": ["Deployment"], "reads": ["v1/Secret"],"#,
            inventory,
        );
        assert_eq!(reading(&declares_content, ("apps", "Deployment")), Content);
        assert_eq!(
            reading(&declares_content, ("", "Secret")),
            Content,
            "in reads"
        );
        assert_eq!(
            reading(&declares_content, ("", "ConfigMap")),
            Identity,
            "found in data.inventory by its identity"
        );
        assert_eq!(reading(&declares_content, crd), Identity);
    }

    /// An evaluator of one rule (`violations` body given) and a library it may call.
    fn one_rule(body: &str, library: &str) -> Evaluator {
        let rule = format!(
            r#"package seaworthy.rules.test.probe

import rego.v1

import data.seaworthy.lib.helper
{body}

metadata := {{"id": "probe", "area": "test", "severity": "warning", "kinds": ["Pod"],
	"summary": "Probe", "remediation": "Fix it."}}
"#
        );
        let lib = format!("package seaworthy.lib.helper\n\nimport rego.v1\n\n{library}\n");
        let catalog = Catalog::from_sources(vec![
            ("probe.rego".to_string(), rule, false),
            ("helper.rego".to_string(), lib, false),
        ])
        .expect("loads");
        Evaluator::new(catalog, &HashMap::new(), Backend::Rvm).expect("compiles")
    }

    #[test]
    fn a_rule_is_read_straight_in_its_batch_only_when_its_violations_cannot_be_undefined() {
        let set = "violations contains {\"msg\": \"m\"} if input.object.spec.x";
        let cases = [
            (set.to_string(), true),
            (
                format!("{set}\n\nviolations contains {{\"msg\": \"n\"}} if input.object.spec.y"),
                true,
            ),
            (
                "violations := {{\"msg\": \"m\"}} if input.object.spec.x".to_string(),
                false,
            ),
            ("violations := [{\"msg\": \"m\"}]".to_string(), false),
            (
                "violations[\"m\"] := {\"msg\": \"m\"} if input.object.spec.x".to_string(),
                false,
            ),
            (
                format!(
                    "{set}\n\nviolations.extra contains {{\"msg\": \"n\"}} if input.object.spec.y"
                ),
                false,
            ),
        ];
        for (body, always) in cases {
            let rule = format!(
                "package seaworthy.rules.test.probe\n\nimport rego.v1\n\n{body}\n\nmetadata := {{\"id\": \"probe\", \
                 \"area\": \"test\", \"severity\": \"warning\", \"summary\": \"Probe\", \"remediation\": \"Fix it.\"}}\n"
            );
            let catalog = Catalog::from_sources(vec![("probe.rego".to_string(), rule, false)])
                .unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!(catalog.rules[0].violations_always_a_set, always, "{body}");
        }
    }

    #[test]
    fn what_a_rule_reads_of_its_input_and_the_inventory_is_found_through_its_calls() {
        let plain = "violations contains {\"msg\": \"m\"} if input.object.spec.x";
        let helper = "named(x) := x.metadata.name";
        let cases = [
            (plain, helper, false, false),
            ("violations contains {\"msg\": \"m\"} if count(input.schema.unknown_fields) > 0", helper, true, false),
            ("violations contains {\"msg\": \"m\"} if input[\"schema\"]", helper, true, false),
            ("violations contains {\"msg\": \"m\"} if { x := input; x.object }", helper, true, false),
            ("import input.schema as found\nviolations contains {\"msg\": \"m\"} if found.wrong_types", helper, true, false),
            ("violations contains {\"msg\": \"m\"} if helper.odd", "odd if input.schema.builtin", true, false),
            ("violations contains {\"msg\": \"m\"} if helper.odd", "odd if data.inventory.cluster", false, true),
            ("violations contains {\"msg\": \"m\"} if { some k, _ in data; k }", helper, false, true),
            // A library rule that reads the inventory counts only for the rules that reach it.
            ("violations contains {\"msg\": \"m\"} if helper.named(input.object)", "named(x) := x.metadata.name\n\nodd if data.inventory.cluster", false, false),
        ];
        for (body, library, schema, inventory) in cases {
            let evaluator = one_rule(body, library);
            assert_eq!(
                evaluator.reads_schema(),
                schema,
                "input.schema: {body} / {library}"
            );
            assert_eq!(
                evaluator.uses_inventory(),
                inventory,
                "data.inventory: {body} / {library}"
            );
        }
    }

    #[test]
    fn a_disabled_rule_that_reads_the_inventory_does_not_make_the_run_build_it() {
        let mut settings = HashMap::new();
        settings.insert(
            "probe".to_string(),
            RuleSetting {
                enabled: false,
                severity: Severity::Warning,
                params: serde_json::Map::new(),
            },
        );
        let rule = limit_rule("plain", r#"["Deployment"]"#, 1);
        let inventory = limit_rule("inventory_reader", r#"["Pod"]"#, 1).1.replace(
            "input.object.spec.size > input.params.limit",
            "input.object.spec.size > input.params.limit\n\tcount(data.inventory) >= 0",
        );
        let sources = vec![
            rule,
            ("inventory_reader.rego".to_string(), inventory, false),
        ];
        let all = Evaluator::new(
            Catalog::from_sources(sources.clone()).expect("loads"),
            &HashMap::new(),
            Backend::Rvm,
        )
        .expect("compiles");
        assert!(all.uses_inventory());
        settings.insert("inventory-reader".to_string(), settings["probe"].clone());
        let without = Evaluator::new(
            Catalog::from_sources(sources).expect("loads"),
            &settings,
            Backend::Rvm,
        )
        .expect("compiles");
        assert!(!without.uses_inventory());
        assert_eq!(without.reading_of("", "ConfigMap"), Reading::Nothing);
    }

    /// The program a state's machine runs on, after one evaluation.
    fn program_of(evaluator: &Evaluator, state: &mut EvalState) -> *const Program {
        evaluator.evaluate(state, &sized("Deployment", 9), &Value::new_object(), None);
        state
            ._loan
            .as_ref()
            .expect("an RVM state that evaluated")
            .program_address()
    }

    #[test]
    fn states_alive_at_once_run_on_programs_of_their_own_and_later_states_reuse_them() {
        let evaluator = Evaluator::new(catalog(), &HashMap::new(), Backend::Rvm).expect("compiles");
        let expected = messages(&evaluator, "Deployment", 9);
        assert_eq!(expected.len(), 4, "{expected:?}");
        let idle = evaluator.state();
        assert!(
            idle._loan.is_none(),
            "a state borrows a program when it first evaluates"
        );
        let (mut first, mut second) = (evaluator.state(), evaluator.state());
        let first_program = program_of(&evaluator, &mut first);
        assert_ne!(first_program, program_of(&evaluator, &mut second));
        drop(first);
        let mut third = evaluator.state();
        assert_eq!(
            program_of(&evaluator, &mut third),
            first_program,
            "a dropped state's program is lent again"
        );
        // A copy gives what the compiled program gives, on two threads at once.
        let subject = sized("Deployment", 9);
        let found: Vec<Vec<String>> = std::thread::scope(|scope| {
            [second, third]
                .map(|mut state| {
                    let (evaluator, subject) = (&evaluator, &subject);
                    scope.spawn(move || {
                        (0..50)
                            .map(|_| {
                                let evaluated = evaluator.evaluate(
                                    &mut state,
                                    subject,
                                    &Value::new_object(),
                                    None,
                                );
                                sorted_messages(evaluated)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .into_iter()
                .flat_map(|thread| thread.join().expect("no panic"))
                .collect()
        });
        assert_eq!(found.len(), 100);
        assert!(
            found.iter().all(|messages| *messages == expected),
            "{found:?}"
        );
    }

    #[test]
    fn a_pooled_state_is_lent_again_to_the_thread_that_gave_it_back() {
        let evaluator = Evaluator::new(catalog(), &HashMap::new(), Backend::Rvm).expect("compiles");
        let pool = StatePool::default();
        let (mut mine, mut theirs) = (pool.take(&evaluator), pool.take(&evaluator));
        let mine_program = program_of(&evaluator, &mut mine);
        let their_program = program_of(&evaluator, &mut theirs);
        assert_ne!(mine_program, their_program);
        pool.give_back(mine);
        // The other thread gives its state back last: handed out last in, first out, it would
        // be the next one this thread takes.
        let their_thread = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    pool.give_back(theirs);
                    std::thread::current().id()
                })
                .join()
                .expect("no panic")
        });
        assert_ne!(their_thread, std::thread::current().id());
        let mut again = pool.take(&evaluator);
        assert_eq!(program_of(&evaluator, &mut again), mine_program);
        // With none of its own left, a thread takes another's rather than making one.
        let mut next = pool.take(&evaluator);
        assert_eq!(program_of(&evaluator, &mut next), their_program);
        let evaluated = evaluator.evaluate(
            &mut again,
            &sized("Deployment", 9),
            &Value::new_object(),
            None,
        );
        assert_eq!(
            sorted_messages(evaluated),
            messages(&evaluator, "Deployment", 9)
        );
    }

    #[test]
    fn rules_with_params_share_their_kinds_batch_and_kinds_share_entry_points() {
        let evaluator = Evaluator::new(catalog(), &HashMap::new(), Backend::Rvm).expect("compiles");
        let deployment = &evaluator.batches_by_kind["Deployment"];
        assert_eq!(
            batch_ids(&evaluator, deployment),
            [vec!["any-kind", "large", "small-a", "small-b"]],
            "limit 1 and limit 5 in one execution: the params are compiled in"
        );
        let pod = &evaluator.batches_by_kind["Pod"];
        assert_eq!(
            batch_ids(&evaluator, pod),
            [vec!["any-kind", "small-a", "small-b"]]
        );
        let job = &evaluator.batches_by_kind["Job"];
        assert_eq!(
            pod[0].entry, job[0].entry,
            "the same rules, one entry point"
        );
        assert_ne!(pod[0].entry, deployment[0].entry);
        assert_eq!(
            batch_ids(&evaluator, &evaluator.any_kind_batches),
            [vec!["any-kind"]]
        );
    }

    /// A disabled rule's module still reads only its own params: it does not stop the others'
    /// from being compiled in (serve turns off rules by scope, and this kept its batches apart).
    #[test]
    fn a_disabled_rule_with_params_does_not_split_the_batch() {
        let mut settings = HashMap::new();
        settings.insert(
            "small-b".to_string(),
            RuleSetting {
                enabled: false,
                severity: Severity::Warning,
                params: serde_json::Map::new(),
            },
        );
        let evaluator = Evaluator::new(catalog(), &settings, Backend::Rvm).expect("compiles");
        assert_eq!(
            batch_ids(&evaluator, &evaluator.batches_by_kind["Deployment"]),
            [vec!["any-kind", "large", "small-a"]]
        );
        assert_eq!(
            messages(&evaluator, "Deployment", 9),
            [
                "any-kind: size over 1",
                "large: size over 5",
                "small-a: size over 1"
            ]
        );
    }

    /// A rule that reads `input` another way than `input.<field>` (here `input["params"]`)
    /// could read its params where they were not replaced: it keeps them in `input`, and a batch
    /// of its own when they differ from the others'. A library that reads `input.params` stops
    /// every rule's params from being compiled in (whose would it read?).
    #[test]
    fn params_stay_in_input_where_a_policy_could_read_them_another_way() {
        let indexed = limit_rule("indexed", r#"["Deployment"]"#, 7).1.replace(
            "input.object.spec.size > input.params.limit",
            "input.object.spec.size > input[\"params\"].limit",
        );
        let mut sources = vec![
            limit_rule("small_a", r#"["Deployment"]"#, 1),
            limit_rule("large", r#"["Deployment"]"#, 5),
            ("indexed.rego".to_string(), indexed, false),
        ];
        let catalog = Catalog::from_sources(sources.clone()).expect("loads");
        let evaluator = Evaluator::new(catalog, &HashMap::new(), Backend::Rvm).expect("compiles");
        assert_eq!(
            batch_ids(&evaluator, &evaluator.batches_by_kind["Deployment"]),
            [vec!["indexed"], vec!["large", "small-a"]]
        );
        assert_eq!(
            messages(&evaluator, "Deployment", 6),
            ["large: size over 5", "small-a: size over 1"]
        );
        assert_eq!(
            messages(&evaluator, "Deployment", 8),
            [
                "indexed: size over 7",
                "large: size over 5",
                "small-a: size over 1"
            ]
        );

        sources.push((
            "lib.rego".into(),
            "package seaworthy.lib.limits\n\nlimit := input.params.limit\n".into(),
            false,
        ));
        let catalog = Catalog::from_sources(sources).expect("loads");
        let evaluator = Evaluator::new(catalog, &HashMap::new(), Backend::Rvm).expect("compiles");
        assert_eq!(
            evaluator.batches_by_kind["Deployment"].len(),
            3,
            "one batch per distinct params, as before"
        );
        assert_eq!(
            messages(&evaluator, "Deployment", 6),
            ["large: size over 5", "small-a: size over 1"]
        );
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
            if backend == Backend::Rvm {
                assert_eq!(
                    evaluator.batches_by_kind["Deployment"].len(),
                    1,
                    "limits 1, 3 and 5 in one execution"
                );
            }
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
            schema: None,
            request: None,
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
            schema: None,
            request: None,
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
            schema: None,
            request: None,
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
