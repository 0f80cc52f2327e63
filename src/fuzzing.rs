//! The ways untrusted input gets in, each as one function from bytes to a summary: the entry points
//! of the fuzz targets (`fuzz/`) and of the regression corpus that `cargo test` replays
//! (`tests/fuzz_corpus.rs`). Each runs the same library functions the binary runs on that input, end
//! to end; the summary only keeps the work from being optimised away. None of them may panic or
//! abort on any input: a bad input is an error value, a finding or a verdict.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::check::Converted;
use crate::config::Config;
use crate::engine::{Backend, Catalog, Evaluator, PolicyError, Subject, EVAL_STACK_BYTES};
use crate::manifest::{self, LoadOptions};
use crate::webhook::admission::decode_review;
use crate::webhook::budget::ObjectBudget;
use crate::webhook::review::{Decision, Policy, Reviewer};
use crate::webhook::snapshot::Snapshot;

/// `seaworthy lint` on one file: bytes → documents with spans (and loading findings) → engine
/// values and workload views, every finding's source line and every node's location looked up as
/// the reporters do. Returns how many objects and loading findings there were.
pub fn load_manifest(bytes: &[u8]) -> (usize, usize) {
    let load = manifest::load_bytes("fuzz.yaml", bytes, &LoadOptions::default());
    let files = [load.file];
    for problem in &load.problems {
        std::hint::black_box(files[0].line(problem.location.line));
    }
    std::hint::black_box(Converted::all(&load.objects, None));
    for object in &load.objects {
        std::hint::black_box(object.root.to_json());
        let mut paths = Vec::new();
        collect_paths(&object.root, &mut Vec::new(), &mut paths);
        for path in &paths {
            let location = object.location(&files, path);
            std::hint::black_box(files[0].line(location.line));
        }
    }
    (load.objects.len(), load.problems.len())
}

/// Paths of the first nodes of a tree (depth first), as rules report them.
fn collect_paths(
    node: &manifest::node::Node,
    prefix: &mut Vec<manifest::node::PathStep>,
    out: &mut Vec<Vec<manifest::node::PathStep>>,
) {
    use manifest::node::{PathStep, Value};
    const MAX_PATHS: usize = 256;
    if out.len() >= MAX_PATHS {
        return;
    }
    out.push(prefix.clone());
    match &node.value {
        Value::Map(entries) => {
            for entry in entries {
                prefix.push(PathStep::Key(entry.key.to_string()));
                collect_paths(&entry.value, prefix, out);
                prefix.pop();
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                prefix.push(PathStep::Index(i));
                collect_paths(item, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// The webhook's time budget by default (`--eval-timeout`).
const REVIEW_TIMEOUT: Duration = Duration::from_secs(2);
/// The webhook's container budget by default (`--max-containers`).
const REVIEW_MAX_CONTAINERS: usize = 200;

/// The built-in rules compiled for serving, once per process, with the default settings.
fn reviewer() -> &'static Reviewer {
    static REVIEWER: OnceLock<Reviewer> = OnceLock::new();
    REVIEWER.get_or_init(|| {
        let catalog = Catalog::load(&[]).expect("the built-in policies load");
        Reviewer::new(catalog, &Config::default(), Policy::default(), Backend::Rvm)
            .expect("the built-in policies compile")
    })
}

/// `POST /validate` without the socket: the body decoded as the server decodes it, then triage,
/// the object budget and the review by the built-in rules (no cluster context), within the
/// webhook's default time budget, on a thread with the evaluation stack the server gives it.
/// Returns the decision, or the 400 answer's message.
pub fn review_admission(body: &[u8]) -> Result<Decision, String> {
    let mut request = decode_review(body)?;
    let reviewer = reviewer();
    let object = request.object.take();
    let object = match reviewer.triage(&request, object) {
        Err(verdict) => return Ok(verdict.decision),
        Ok(object) => object,
    };
    let budget = ObjectBudget {
        max_containers: REVIEW_MAX_CONTAINERS,
    };
    if let Some((verdict, _)) = budget.check(reviewer, &request, &object) {
        return Ok(verdict.decision);
    }
    let deadline = Instant::now() + REVIEW_TIMEOUT;
    let snapshot = Snapshot::disabled();
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(EVAL_STACK_BYTES)
            .spawn_scoped(scope, || {
                reviewer
                    .review_object(&request, &object, &snapshot, Some(deadline))
                    .decision
            })
            .map_err(|e| format!("cannot start the evaluation thread: {e}"))?
            .join()
            .map_err(|_| "the review panicked".to_string())
    })
}

/// How long [`load_policy`] lets the policy run on its sample object.
const POLICY_EVAL_TIMEOUT: Duration = Duration::from_millis(500);

/// `--policies DIR` with one custom policy file: its text loaded (nesting check, parse, load-time
/// analysis, metadata), compiled for the RVM, and run once on a sample Deployment within a time
/// budget, as `lint` would. The built-in policies are left out (they are the same on every input
/// and would make each run many times slower). Returns how many findings and rule errors there
/// were, or why the policy was refused.
pub fn load_policy(text: &[u8]) -> Result<(usize, usize), PolicyError> {
    let text = String::from_utf8_lossy(text).into_owned();
    let catalog = Catalog::from_sources(vec![("fuzz.rego".to_string(), text, false)])?;
    let evaluator = Evaluator::new(catalog, &HashMap::new(), Backend::Rvm)?;
    let object = serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {
            "replicas": 3,
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}
            }
        }
    });
    let node = manifest::node::Node::from_json(&object);
    let value = node.to_rego();
    let subject = Subject {
        kind: "Deployment".to_string(),
        workload: crate::workload::view(&node, &value),
        object: value,
        related: None,
        schema: None,
        request: None,
    };
    let deadline = Instant::now() + POLICY_EVAL_TIMEOUT;
    let data = regorus::Value::new_object();
    let evaluated = std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .stack_size(EVAL_STACK_BYTES)
            .spawn_scoped(scope, || {
                evaluator.evaluate(&mut evaluator.state(), &subject, &data, Some(deadline))
            })
            .map_err(|e| PolicyError::Compile(format!("cannot start the evaluation: {e}")))?;
        // A panic of the evaluation is what the fuzzer looks for: raised again here, where the
        // fuzzer and the regression replay (`tests/fuzz_corpus.rs`) see it.
        match thread.join() {
            Ok(evaluated) => Ok(evaluated),
            Err(payload) => std::panic::resume_unwind(payload),
        }
    })?;
    Ok((evaluated.violations.len(), evaluated.errors.len()))
}
