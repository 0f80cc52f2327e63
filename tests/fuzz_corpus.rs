//! Replays the fuzz targets' regression corpus (`fuzz/regressions/<target>/`: the seeds, and every
//! input that crashed or was slow) through the same entry functions the fuzz targets call
//! (`seaworthy::fuzzing`). An input fails the test when it panics or runs longer than a generous
//! limit; an abort kills the test binary, which fails too. README "Fuzzing" says how to add one.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Far above what any input takes here (a debug build): a time-out means unbounded work.
const SLOW: Duration = Duration::from_secs(20);

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "{target}: the corpus has {} inputs",
        files.len()
    );
    files
}

/// Runs `entry` on every input of `target`'s corpus; returns the summaries by file name.
fn replay<T: std::fmt::Debug>(target: &str, entry: impl Fn(&[u8]) -> T) -> Vec<(String, T)> {
    let mut failures = Vec::new();
    let mut results = Vec::new();
    for path in inputs(target) {
        let bytes = std::fs::read(&path).expect("read input");
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| entry(&bytes)));
        let took = started.elapsed();
        match outcome {
            Err(_) => failures.push(format!("{name}: panicked")),
            Ok(_) if took > SLOW => failures.push(format!("{name}: took {took:?}")),
            Ok(result) => results.push((name, result)),
        }
    }
    assert!(failures.is_empty(), "{target}: {failures:#?}");
    results
}

fn result_of<'a, T>(results: &'a [(String, T)], name: &str) -> &'a T {
    &results
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} is in the corpus"))
        .1
}

#[test]
fn manifest_corpus_loads_without_panics() {
    let results = replay("manifest", seaworthy::fuzzing::load_manifest);
    // The entry point does the real work: objects come out of the seeds, problems are reported.
    assert_eq!(*result_of(&results, "seed-deployment.yaml"), (1, 0));
    let (objects, problems) = *result_of(&results, "seed-syntax-errors.yaml");
    assert!(objects >= 1 && problems >= 2, "{objects} {problems}");
}

#[test]
fn admission_corpus_reviews_without_panics() {
    use seaworthy::webhook::review::Decision;
    let results = replay("admission", seaworthy::fuzzing::review_admission);
    assert_eq!(
        *result_of(&results, "seed-pod-create-denied.json"),
        Ok(Decision::Denied)
    );
    assert_eq!(
        *result_of(&results, "seed-deployment-delete.json"),
        Ok(Decision::Skipped)
    );
    assert!(result_of(&results, "seed-own-v1beta1.json").is_err());
}

#[test]
fn policy_corpus_loads_without_panics() {
    let results = replay("policy", |text| {
        seaworthy::fuzzing::load_policy(text).map_err(|e| e.to_string())
    });
    assert_eq!(*result_of(&results, "seed-containers.rego"), Ok((1, 0)));
    let refused = result_of(&results, "seed-nesting.rego");
    assert!(
        refused.as_ref().is_err_and(|e| e.contains("nested")),
        "{refused:?}"
    );
}
