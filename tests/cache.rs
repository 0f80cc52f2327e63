//! The cache of compiled policies, through the real binary: a warm run reports exactly what a cold
//! one does; a damaged, foreign or unwritable cache is ignored; a policy edit is never served stale;
//! `--no-cache` and SEAWORTHY_NO_CACHE leave no trace.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// Runs `seaworthy` in the crate root with its user cache under `cache_home`.
fn run(cache_home: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::cargo_bin("seaworthy")
        .expect("binary is built")
        .current_dir(common::root())
        .env("XDG_CACHE_HOME", cache_home)
        .env_remove("SEAWORTHY_NO_CACHE")
        .args(args)
        .output()
        .expect("binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    )
}

fn entries(cache_home: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cache_home.join("seaworthy"))
        .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
}

const LINT: &[&str] = &[
    "lint",
    "--no-config",
    "--format",
    "json",
    "fixtures/manifests",
];

#[test]
fn a_warm_cache_reports_exactly_what_a_cold_run_does() {
    let home = tempfile::tempdir().expect("tempdir");
    let cold = run(home.path(), LINT);
    assert_eq!(cold.0, 1, "the seeds' manifests have errors: {}", cold.2);
    let written = entries(home.path());
    let names: Vec<String> = written
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("catalog-"))
            && names.iter().any(|n| n.starts_with("program-")),
        "the cold run fills the cache: {names:?}"
    );
    let stamps: Vec<_> = written
        .iter()
        .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .collect();

    let warm = run(home.path(), LINT);
    assert_eq!(warm, cold);
    // A hit rewrites nothing.
    let after: Vec<_> = entries(home.path())
        .iter()
        .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .collect();
    assert_eq!(after, stamps);

    // The uncached run agrees too, and so does the interpreter on a warm catalog.
    assert_eq!(run(home.path(), &[LINT, &["--no-cache"]].concat()), cold);
    assert_eq!(
        run(home.path(), &[LINT, &["--engine", "interpreter"]].concat()),
        cold
    );
    // `rules` reads the cached metadata.
    let (code, rules, _) = run(home.path(), &["rules", "--no-config", "--format", "json"]);
    let (_, uncached, _) = run(
        home.path(),
        &["rules", "--no-config", "--format", "json", "--no-cache"],
    );
    assert_eq!((code, &rules), (0, &uncached));
}

#[test]
fn damaged_cache_files_are_ignored() {
    let home = tempfile::tempdir().expect("tempdir");
    let cold = run(home.path(), LINT);
    let files = entries(home.path());
    assert!(files.len() >= 2);
    let originals: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).expect("read entry"))
        .collect();
    type Damage = fn(&mut Vec<u8>);
    let damages: [(&str, Damage); 4] = [
        ("truncated", |b| b.truncate(b.len() / 2)),
        ("a byte flipped in the middle", |b| {
            let middle = b.len() / 2;
            b[middle] ^= 0x55;
        }),
        ("garbage", |b| *b = b"not a cache file".to_vec()),
        ("empty", Vec::clear),
    ];
    for (what, damage) in damages {
        for (file, original) in files.iter().zip(&originals) {
            let mut bytes = original.clone();
            damage(&mut bytes);
            std::fs::write(file, &bytes).expect("damage entry");
        }
        assert_eq!(run(home.path(), LINT), cold, "cache files {what}");
        // The damaged entries were replaced by good ones.
        for (file, original) in files.iter().zip(&originals) {
            assert_eq!(
                &std::fs::read(file).expect("entry rewritten"),
                original,
                "{what}"
            );
        }
    }
}

#[test]
fn an_unwritable_cache_is_ignored() {
    let home = tempfile::tempdir().expect("tempdir");
    let expected = run(home.path(), &[LINT, &["--no-cache"]].concat());
    // The cache directory's place is taken by a file: nothing can be created below it.
    let blocked = home.path().join("blocked");
    std::fs::write(&blocked, "a file, not a directory").expect("write");
    assert_eq!(run(&blocked, LINT), expected);
    assert_eq!(run(&blocked, LINT), expected);
}

#[test]
fn no_cache_writes_nothing() {
    let home = tempfile::tempdir().expect("tempdir");
    let (code, _, _) = run(home.path(), &[LINT, &["--no-cache"]].concat());
    assert_eq!(code, 1);
    assert!(entries(home.path()).is_empty());
    let output = Command::cargo_bin("seaworthy")
        .expect("binary is built")
        .current_dir(common::root())
        .env("XDG_CACHE_HOME", home.path())
        .env("SEAWORTHY_NO_CACHE", "1")
        .args(LINT)
        .output()
        .expect("binary runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(entries(home.path()).is_empty());
}

#[test]
fn an_edited_policy_is_never_served_from_the_cache() {
    let home = tempfile::tempdir().expect("tempdir");
    let policies = tempfile::tempdir().expect("tempdir");
    let policy = |message: &str| {
        format!(
            r#"# What it does: flags every Deployment.
# Why: to test the cache.
# Example:
#   kind: Deployment
# Fix: none.
package seaworthy.rules.org.flag_all

import rego.v1

metadata := {{"id": "flag-all", "area": "org", "severity": "warning", "kinds": ["Deployment"],
  "summary": "Flags every Deployment", "remediation": "Do nothing."}}

violations contains {{"msg": "{message}", "path": []}} if input.object.kind == "Deployment"
"#
        )
    };
    let file = policies.path().join("flag.rego");
    let args = |dir: &Path| -> Vec<String> {
        [
            "lint",
            "--no-config",
            "--format",
            "json",
            "--policies",
            dir.to_str().expect("UTF-8 path"),
            "fixtures/manifests/example/deployment.yaml",
        ]
        .map(str::to_string)
        .to_vec()
    };
    let messages = |stdout: &str| -> Vec<String> {
        let report: serde_json::Value = serde_json::from_str(stdout).expect("JSON");
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule"] == "flag-all")
            .map(|f| f["message"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let args = args(policies.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    std::fs::write(&file, policy("first")).expect("write policy");
    let (_, first, _) = run(home.path(), &args);
    assert_eq!(messages(&first), ["first"]);
    std::fs::write(&file, policy("second")).expect("write policy");
    let (_, second, _) = run(home.path(), &args);
    assert_eq!(messages(&second), ["second"]);
    // Disabling a rule changes the entry points: a program compiled without it is a new entry.
    let config = policies.path().join("config.yaml");
    std::fs::write(&config, "rules:\n  flag-all:\n    enabled: false\n").expect("write config");
    let with_config: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| *a != "--no-config")
        .chain(["--config", config.to_str().expect("UTF-8 path")])
        .collect();
    let (_, disabled, stderr) = run(home.path(), &with_config);
    assert!(messages(&disabled).is_empty(), "{stderr}");
    let (_, again, _) = run(home.path(), &args);
    assert_eq!(messages(&again), ["second"]);
}
