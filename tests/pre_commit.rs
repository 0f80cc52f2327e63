//! The pre-commit hooks (.pre-commit-hooks.yaml, scripts/pre-commit-hook) end to end, with the real
//! `pre-commit` from PyPI (`$PYTHON -m pre_commit`; scripts/test installs it) in temporary git
//! repositories: a hook repository holding this checkout's hook files, and a user's repository that
//! uses it from `.pre-commit-config.yaml`, as a user would.
//!
//! The binary: `seaworthy-lint` builds it with `cargo install --locked` on first use; compiling a
//! release build here would take longer than the rest of the suite, so these tests give that hook
//! the binary under test through `$SEAWORTHY_BIN` (the hook's documented override) and check the
//! install command separately; `seaworthy-lint-prebuilt` really downloads and verifies a release
//! archive, from a release site on 127.0.0.1.

mod common;
#[path = "helpers/release_site.rs"]
mod release_site;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BINARY: &str = env!("CARGO_BIN_EXE_seaworthy");

/// A Deployment of three replicas and no namespace: it needs a PodDisruptionBudget in its unit.
const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.example.com/shop/web:1.0.0
";

const BUDGET: &str = "\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 2
  selector:
    matchLabels: {app: web}
";

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

/// A git repository holding this checkout's hook: what pre-commit clones at `rev`.
fn hook_repo(dir: &Path) -> String {
    let root = common::root();
    for file in [
        ".pre-commit-hooks.yaml",
        "scripts/pre-commit-hook",
        "scripts/install",
        "Cargo.toml",
    ] {
        let to = dir.join(file);
        std::fs::create_dir_all(to.parent().expect("a parent")).expect("mkdir");
        std::fs::copy(root.join(file), &to).unwrap_or_else(|e| panic!("copy {file}: {e}"));
    }
    git(dir, &["init", "-q"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "hook"]);
    git(dir, &["rev-parse", "HEAD"])
}

struct Setup {
    _tmp: tempfile::TempDir,
    repo: PathBuf,
    home: PathBuf,
}

/// A user's repository with `deploy/web.yaml` and `deploy/pdb.yaml` committed, using `hook` with
/// `args` from the hook repository.
fn setup(hook: &str, args: &[&str]) -> Setup {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let hooks = tmp.path().join("hooks");
    std::fs::create_dir(&hooks).expect("mkdir");
    let rev = hook_repo(&hooks);
    let repo = tmp.path().join("repo");
    std::fs::create_dir(&repo).expect("mkdir");
    git(&repo, &["init", "-q"]);
    write(&repo.join("deploy/web.yaml"), DEPLOYMENT);
    write(&repo.join("deploy/pdb.yaml"), BUDGET);
    let args = args
        .iter()
        .map(|a| format!("{a:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    write(
        &repo.join(".pre-commit-config.yaml"),
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: {hook}\n        files: ^deploy/\n        args: [{args}]\n",
            hooks.display()
        ),
    );
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "manifests"]);
    let home = tmp.path().join("pre-commit-home");
    Setup {
        _tmp: tmp,
        repo,
        home,
    }
}

fn pre_commit(setup: &Setup, envs: &[(&str, &str)]) -> Output {
    pre_commit_with(setup, &[], envs)
}

fn pre_commit_with(setup: &Setup, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(python());
    cmd.args(["-m", "pre_commit", "run", "--verbose", "--color", "never"])
        .args(args)
        .current_dir(&setup.repo)
        .env("PRE_COMMIT_HOME", &setup.home)
        .env("SEAWORTHY_NO_CACHE", "1")
        .env_remove("SEAWORTHY_BIN");
    for (key, value) in envs {
        cmd.env(key, value);
    }
    let out = cmd.output().unwrap_or_else(|e| {
        panic!(
            "{} -m pre_commit: {e} (scripts/test installs pre-commit and sets $PYTHON)",
            python()
        )
    });
    let combined = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !combined.contains("No module named pre_commit"),
        "pre-commit is not installed for {} (scripts/test installs it): {combined}",
        python()
    );
    out
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Changes the Deployment only and stages it, as a commit that touches one file would.
fn stage_a_change_to_the_deployment(setup: &Setup) {
    write(
        &setup.repo.join("deploy/web.yaml"),
        &DEPLOYMENT.replace("web:1.0.0", "web:1.0.1"),
    );
    git(&setup.repo, &["add", "deploy/web.yaml"]);
}

#[test]
fn a_staged_deployment_is_linted_with_the_budget_beside_it() {
    let setup = setup("seaworthy-lint", &["--fail-on=never", "--no-config"]);
    stage_a_change_to_the_deployment(&setup);

    // The reference: the staged file alone gets a missing-pdb finding (what the old hook did).
    let alone = Command::new(BINARY)
        .args(["lint", "--no-config", "--fail-on=never", "deploy/web.yaml"])
        .current_dir(&setup.repo)
        .env("SEAWORTHY_NO_CACHE", "1")
        .output()
        .expect("seaworthy runs");
    assert!(
        text(&alone).contains("missing-pdb"),
        "the reference run must show the false positive: {}",
        text(&alone)
    );

    let out = pre_commit(&setup, &[("SEAWORTHY_BIN", BINARY)]);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("seaworthy lint"), "the hook ran: {log}");
    assert!(!log.contains("missing-pdb"), "a false missing-pdb: {log}");
    // Both files of the unit were read, though only one was staged.
    assert!(log.contains("from 2 files"), "{log}");
}

#[test]
fn the_hook_fails_the_commit_on_findings_and_shows_them() {
    let setup = setup("seaworthy-lint", &["--no-config"]);
    // The budget goes away in the same commit: the unit now lacks it.
    git(&setup.repo, &["rm", "-q", "deploy/pdb.yaml"]);
    stage_a_change_to_the_deployment(&setup);
    let out = pre_commit(&setup, &[("SEAWORTHY_BIN", BINARY)]);
    let log = text(&out);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains("missing-pdb"), "{log}");
    assert!(log.contains("deploy/web.yaml"), "{log}");
}

#[test]
fn units_are_directories_not_their_subdirectories_nor_untracked_files() {
    let setup = setup("seaworthy-lint", &["--fail-on=never", "--no-config"]);
    // An untracked file and a file in a subdirectory: neither is part of deploy/'s unit.
    write(
        &setup.repo.join("deploy/scratch.yaml"),
        "not: [a manifest\n",
    );
    write(&setup.repo.join("deploy/sub/other.yaml"), BUDGET);
    git(&setup.repo, &["add", "deploy/sub/other.yaml"]);
    git(&setup.repo, &["commit", "-q", "-m", "sub"]);
    stage_a_change_to_the_deployment(&setup);
    let out = pre_commit(&setup, &[("SEAWORTHY_BIN", BINARY)]);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("from 2 files"), "{log}");
    assert!(!log.contains("scratch.yaml"), "{log}");
    assert!(!log.contains("invalid-manifest"), "{log}");
}

#[test]
fn the_prebuilt_hook_downloads_the_release_and_checks_it() {
    let version = env!("CARGO_PKG_VERSION");
    let site = release_site::publish(version, Path::new(BINARY), false);
    let setup = setup(
        "seaworthy-lint-prebuilt",
        &["--fail-on=never", "--no-config"],
    );
    stage_a_change_to_the_deployment(&setup);
    let out = pre_commit(&setup, &[("SEAWORTHY_RELEASE_URL", &site.url)]);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(!log.contains("missing-pdb"), "{log}");
    assert!(log.contains("from 2 files"), "{log}");

    // A tampered release is refused and fails the hook.
    let tampered = release_site::publish(version, Path::new(BINARY), true);
    let setup = setup_again(&setup);
    let out = pre_commit(&setup, &[("SEAWORTHY_RELEASE_URL", &tampered.url)]);
    let log = text(&out);
    assert!(!out.status.success(), "{log}");
    assert!(
        log.contains("does not match its published SHA-256"),
        "{log}"
    );
}

/// The same repository with a fresh pre-commit home (no installed binary).
fn setup_again(setup: &Setup) -> Setup {
    let tmp = tempfile::tempdir().expect("temporary directory");
    Setup {
        repo: setup.repo.clone(),
        home: tmp.path().join("home"),
        _tmp: tmp,
    }
}

#[test]
fn the_source_hook_installs_with_cargo_install_locked() {
    // A `cargo` that records how it is called and installs the binary under test where
    // `cargo install --root` would: the real compile is minutes long (see the module doc).
    let setup = setup("seaworthy-lint", &["--fail-on=never", "--no-config"]);
    let fake = setup.home.parent().expect("tmp").join("fake-cargo");
    std::fs::create_dir_all(&fake).expect("mkdir");
    let log_file = fake.join("calls");
    let script = format!(
        "#!/bin/sh\necho \"$@\" >> '{log}'\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = --root ]; then root=$2; fi\n  shift\ndone\nmkdir -p \"$root/bin\" && cp '{bin}' \"$root/bin/seaworthy\"\n",
        log = log_file.display(),
        bin = BINARY
    );
    write(&fake.join("cargo"), &script);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(fake.join("cargo"), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
    }
    stage_a_change_to_the_deployment(&setup);
    let path = format!(
        "{}:{}",
        fake.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = pre_commit(&setup, &[("PATH", &path)]);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    let calls = std::fs::read_to_string(&log_file).expect("cargo was called");
    assert_eq!(calls.lines().count(), 1, "{calls}");
    assert!(
        calls.starts_with("install --locked ") && calls.contains(" --path "),
        "{calls}"
    );
    // Installed once: a second run (over every file) uses it.
    let out = pre_commit_with(&setup, &["--all-files"], &[("PATH", &path)]);
    assert!(out.status.success(), "{}", text(&out));
    let calls = std::fs::read_to_string(&log_file).expect("calls");
    assert_eq!(calls.lines().count(), 1, "installed once: {calls}");
}
