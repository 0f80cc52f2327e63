//! What is installed and how: `seaworthy version` / `--version`, shell completions, the installer
//! script the prebuilt pre-commit hook and the GitHub Action use (against a release site on
//! 127.0.0.1), the Action's lint step, and the agreement between the Dockerfile, the chart's default
//! image, the release workflow, LICENSE and README.md.

mod common;
#[path = "helpers/release_site.rs"]
mod release_site;

use std::path::Path;
use std::process::Command;

fn seaworthy() -> Command {
    Command::new(env!("CARGO_BIN_EXE_seaworthy"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(common::root().join(path))
        .unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn cargo_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// `seaworthy 0.1.0 (commit 0123456789ab, built 2026-12-04)` → (version, commit, date).
fn parse_version_line(line: &str) -> (String, String, String) {
    let rest = line
        .strip_prefix("seaworthy ")
        .unwrap_or_else(|| panic!("{line:?} does not start with the name"));
    let (version, rest) = rest.split_once(" (commit ").expect("a commit");
    let (commit, rest) = rest.split_once(", built ").expect("a build date");
    let date = rest.strip_suffix(')').expect("a closing parenthesis");
    (version.to_string(), commit.to_string(), date.to_string())
}

#[test]
fn version_and_dash_dash_version_print_version_commit_and_build_date() {
    let by_command = seaworthy().arg("version").output().expect("runs");
    let by_flag = seaworthy().arg("--version").output().expect("runs");
    assert!(by_command.status.success() && by_flag.status.success());
    let by_command = String::from_utf8(by_command.stdout).expect("UTF-8");
    let by_flag = String::from_utf8(by_flag.stdout).expect("UTF-8");
    assert_eq!(by_command, by_flag, "both say the same");
    let (version, commit, date) = parse_version_line(by_command.trim_end());
    assert_eq!(version, cargo_version());

    // The commit is the checkout's, when this is a git checkout (a fresh clone is).
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(common::root())
        .output();
    match head {
        Ok(out) if out.status.success() => {
            assert_eq!(commit, String::from_utf8_lossy(&out.stdout).trim());
        }
        _ => assert_eq!(commit, "unknown"),
    }

    // A real calendar date, UTC.
    let parts: Vec<u32> = date
        .split('-')
        .map(|p| p.parse().expect("numeric date parts"))
        .collect();
    assert!(
        matches!(parts.as_slice(), [y, m, d] if *y >= 2024 && (1..=12).contains(m) && (1..=31).contains(d)),
        "{date}"
    );
    assert_eq!(date.len(), 10, "{date}");
}

#[test]
fn completions_are_generated_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "complete -F _seaworthy"),
        ("zsh", "#compdef seaworthy"),
        ("fish", "complete -c seaworthy"),
    ] {
        let out = seaworthy()
            .args(["completions", shell])
            .output()
            .expect("runs");
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).expect("UTF-8");
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        // Every subcommand and a lint flag are completed.
        for word in [
            "lint",
            "serve",
            "rules",
            "version",
            "completions",
            "fail-on",
        ] {
            assert!(script.contains(word), "{shell}: {word} is not completed");
        }
    }
    // The bash script is valid bash.
    let out = seaworthy()
        .args(["completions", "bash"])
        .output()
        .expect("runs");
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("seaworthy.bash");
    std::fs::write(&file, out.stdout).expect("write");
    let check = Command::new("bash")
        .arg("-n")
        .arg(&file)
        .output()
        .expect("bash");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = seaworthy()
        .args(["completions", "tcsh"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("tcsh") && stderr.contains("bash"),
        "{stderr}"
    );
}

fn install(site: &release_site::ReleaseSite, to: &Path) -> std::process::Output {
    Command::new(common::root().join("scripts/install"))
        .args(["--version", &site.version, "--to"])
        .arg(to)
        .env("SEAWORTHY_RELEASE_URL", &site.url)
        .output()
        .expect("scripts/install runs")
}

#[test]
fn the_installer_downloads_checks_and_installs_the_release_binary() {
    let binary = Path::new(env!("CARGO_BIN_EXE_seaworthy")).to_path_buf();
    let site = release_site::publish(&cargo_version(), &binary, false);
    let dir = tempfile::tempdir().expect("temporary directory");
    let to = dir.path().join("bin");
    let out = install(&site, &to);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let installed = to.join("seaworthy");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        installed.display().to_string()
    );
    let version = Command::new(&installed)
        .arg("--version")
        .output()
        .expect("the installed binary runs");
    assert!(String::from_utf8_lossy(&version.stdout)
        .starts_with(&format!("seaworthy {}", cargo_version())));
}

#[test]
fn the_installer_refuses_an_archive_that_does_not_match_its_checksum() {
    let binary = Path::new(env!("CARGO_BIN_EXE_seaworthy")).to_path_buf();
    let site = release_site::publish(&cargo_version(), &binary, true);
    let dir = tempfile::tempdir().expect("temporary directory");
    let to = dir.path().join("bin");
    let out = install(&site, &to);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not match its published SHA-256"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!to.join("seaworthy").exists(), "nothing is installed");
}

#[test]
fn the_installer_names_a_release_it_cannot_find() {
    let binary = Path::new(env!("CARGO_BIN_EXE_seaworthy")).to_path_buf();
    let site = release_site::publish(&cargo_version(), &binary, false);
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = Command::new(common::root().join("scripts/install"))
        .args(["--version", "9.9.9", "--to"])
        .arg(dir.path())
        .env("SEAWORTHY_RELEASE_URL", &site.url)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot download") && stderr.contains("v9.9.9"),
        "{stderr}"
    );
}

/// Runs the Action's lint step as the runner would: its environment from the inputs, a
/// `$GITHUB_OUTPUT` file, the installed binary on PATH.
fn action_lint(paths: &str, args: &str, workdir: &Path) -> (String, String, String) {
    let binary = Path::new(env!("CARGO_BIN_EXE_seaworthy")).to_path_buf();
    let bin_dir = binary.parent().expect("the binary's directory");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output_file = workdir.join("github-output");
    std::fs::write(&output_file, "").expect("GITHUB_OUTPUT");
    let out = Command::new(common::root().join("scripts/action-lint"))
        .current_dir(workdir)
        .env("PATH", path)
        .env("SEAWORTHY_PATHS", paths)
        .env("SEAWORTHY_ARGS", args)
        .env("SEAWORTHY_SARIF", "out.sarif")
        .env("SEAWORTHY_NO_CACHE", "1")
        .env("GITHUB_OUTPUT", &output_file)
        .output()
        .expect("scripts/action-lint runs");
    assert!(out.status.success(), "the step itself never fails");
    (
        std::fs::read_to_string(&output_file).expect("GITHUB_OUTPUT"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        std::fs::read_to_string(workdir.join("out.sarif")).expect("the SARIF file"),
    )
}

#[test]
fn the_action_writes_sarif_annotates_and_records_the_exit_code() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let deploy = dir.path().join("deploy");
    std::fs::create_dir(&deploy).expect("mkdir");
    std::fs::copy(
        common::root().join("fixtures/manifests/example/deployment.yaml"),
        deploy.join("web.yaml"),
    )
    .expect("copy the example");

    let (outputs, annotations, sarif) = action_lint("deploy", "--no-config", dir.path());
    assert_eq!(outputs.trim(), "exit-code=1", "the example has errors");
    let sarif: serde_json::Value = serde_json::from_str(&sarif).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert!(results
        .iter()
        .any(|r| r["ruleId"] == "missing-readiness-probe"));
    assert!(
        annotations.contains("::error file=deploy/web.yaml,line="),
        "{annotations}"
    );

    // Flags pass through: nothing fails the run with --fail-on never.
    let (outputs, _, _) = action_lint("deploy\n", "--no-config\n--fail-on never", dir.path());
    assert_eq!(outputs.trim(), "exit-code=0");
}

#[test]
fn the_action_installs_with_the_installer_and_lints_with_the_lint_step() {
    let action = read("action.yml");
    assert!(action.contains("using: composite"));
    assert!(action.contains("\"$GITHUB_ACTION_PATH/scripts/install\" --version"));
    assert!(action.contains("$GITHUB_ACTION_PATH/scripts/action-lint"));
    assert!(action.contains("github/codeql-action/upload-sarif@"));
    // The step that fails the job comes after the upload, so findings reach code scanning.
    let upload = action.find("upload-sarif@").expect("upload step");
    let fail = action.find("name: Fail on findings").expect("fail step");
    assert!(upload < fail);
}

/// `key: value` of the first line that starts with `key:` (after indentation) in a YAML file.
fn yaml_scalar(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        line.trim_start()
            .strip_prefix(&format!("{key}:"))
            .map(|v| v.trim().trim_matches('"').to_string())
    })
}

#[test]
fn the_charts_default_image_is_the_one_the_dockerfile_and_release_workflow_build() {
    let values = read("charts/seaworthy/values.yaml");
    let chart = read("charts/seaworthy/Chart.yaml");
    let dockerfile = read("Dockerfile");
    let release = read(".github/workflows/release.yml");
    let deployment = read("charts/seaworthy/templates/deployment.yaml");

    let repository = yaml_scalar(&values, "repository").expect("image.repository");
    assert_eq!(repository, "ghcr.io/seaworthy-dev/seaworthy");
    assert!(
        release.contains(&format!("IMAGE: {repository}")),
        "the release workflow pushes {repository}"
    );
    assert_eq!(
        yaml_scalar(&chart, "appVersion").as_deref(),
        Some(cargo_version().as_str()),
        "the chart's default tag (appVersion) is this version"
    );

    // Non-root as the chart runs it, no shell, the binary as the entrypoint (the chart passes
    // `serve ...` as args).
    let user = yaml_scalar(&deployment, "runAsUser").expect("runAsUser");
    assert!(dockerfile.contains(&format!("\nUSER {user}:{user}\n")));
    assert!(dockerfile.contains("\nENTRYPOINT [\"/usr/local/bin/seaworthy\"]\n"));
    assert!(deployment.contains("readOnlyRootFilesystem: true"));
    let final_stage = dockerfile.rsplit("\nFROM ").next().expect("a final stage");
    assert!(
        final_stage.starts_with("scratch"),
        "the final stage is empty: {final_stage}"
    );
    assert!(
        !final_stage.contains("RUN "),
        "nothing runs in the final stage"
    );
    for label in [
        "title",
        "description",
        "url",
        "source",
        "documentation",
        "vendor",
        "licenses",
        "version",
        "revision",
        "created",
    ] {
        assert!(
            final_stage.contains(&format!("org.opencontainers.image.{label}=")),
            "OCI label {label}"
        );
    }
    let version_default = format!("ARG VERSION={}", cargo_version());
    assert!(dockerfile.contains(&version_default), "{version_default}");
}

#[test]
fn the_licence_is_the_apache_2_0_text_cargo_toml_declares() {
    let licence = read("LICENSE");
    assert!(read("Cargo.toml").contains("license = \"Apache-2.0\""));
    for part in [
        "Apache License\n                           Version 2.0, January 2004",
        "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
        "9. Accepting Warranty or Additional Liability.",
        "END OF TERMS AND CONDITIONS",
        "APPENDIX: How to apply the Apache License to your work.",
    ] {
        assert!(licence.contains(part), "LICENSE lacks {part:?}");
    }
    assert_eq!(licence.lines().count(), 202, "the full text, 202 lines");
}

#[test]
fn readme_names_the_rust_version_and_the_test_command() {
    let manifest = read("Cargo.toml");
    let rust_version = yaml_scalar(&manifest.replace(" = ", ": "), "rust-version")
        .expect("rust-version in Cargo.toml");
    let readme = read("README.md");
    assert!(
        readme.contains(&format!("Rust {rust_version} or newer")),
        "README.md names Rust {rust_version}"
    );
    assert!(
        readme.contains("\nscripts/test "),
        "the quick start runs scripts/test"
    );
    assert!(readme.contains("scripts/conformance"));
    assert!(readme.contains("cargo install --locked"));
    for path in [
        "scripts/test",
        "scripts/conformance",
        "scripts/install",
        "scripts/pre-commit-hook",
    ] {
        let mode =
            std::fs::metadata(common::root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert!(
                mode.permissions().mode() & 0o111 != 0,
                "{path} is executable"
            );
        }
        let _ = mode;
    }
}
