//! GitLab Code Quality: a JSON array of issues (a subset of the Code Climate spec) that GitLab shows
//! in the merge request widget and diff. Each issue has the fields GitLab documents as required:
//! `description`, `check_name`, `fingerprint`, `severity`, `location.path` and
//! `location.lines.begin`.
//!
//! The fingerprint is how GitLab tells a new issue from an old one between the base and the merge
//! request: it is the finding's identity (rule, object, field; the baseline's key, which survives
//! lines moving), hashed, with a count for repeats so that every issue has its own. Suppressed
//! findings are never listed: Code Quality has no way to mark them, and listing them would show
//! accepted findings as open issues.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::finding::{Finding, Severity};
use crate::lint::Outcome;

#[derive(Serialize)]
struct Issue<'a> {
    description: String,
    check_name: &'a str,
    fingerprint: String,
    severity: &'static str,
    location: IssueLocation,
}

#[derive(Serialize)]
struct IssueLocation {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

/// GitLab's scale is info, minor, major, critical, blocker. An error fails the run as a major issue
/// would block a review; the two top levels are left for tools that rank by exploitability.
fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "major",
        Severity::Warning => "minor",
        Severity::Notice => "info",
    }
}

/// A path relative to `base` (the working directory, which in CI is the repository's root) with
/// forward slashes, as GitLab matches it against the files of the diff.
fn repository_path(file: &str, base: &Path) -> String {
    let path = Path::new(file);
    let relative = if path.is_absolute() {
        match path.strip_prefix(base) {
            Ok(relative) => relative,
            // Outside the repository: nothing in the diff to match, so say where it is.
            Err(_) => return file.to_string(),
        }
    } else {
        path.strip_prefix(".").unwrap_or(path)
    };
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .filter(|c| c != "/")
        .collect::<Vec<_>>()
        .join("/")
}

/// FNV-1a, 128 bits: stable across builds and platforms (GitLab compares fingerprints of two
/// pipelines, possibly run by two versions), in hex.
fn hash(text: &str) -> String {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let value = text
        .bytes()
        .fold(OFFSET, |h, b| (h ^ u128::from(b)).wrapping_mul(PRIME));
    format!("{value:032x}")
}

fn identity(f: &Finding) -> String {
    if f.fingerprint.is_empty() {
        // Problems found before an object existed (a document that does not parse): the place.
        format!(
            "{}|{}|{}|{}|{}",
            f.rule, f.location.file, f.location.line, f.location.column, f.message
        )
    } else {
        f.fingerprint.clone()
    }
}

pub fn render(outcome: &Outcome, base: &Path) -> String {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let issues: Vec<Issue> = outcome
        .active()
        .map(|f| {
            let identity = identity(f);
            let repeat = seen.entry(identity.clone()).or_insert(0);
            *repeat += 1;
            let key = if *repeat == 1 {
                identity
            } else {
                format!("{identity}#{repeat}")
            };
            let (file, line) = match f.location.on_disk() {
                Some((file, line, _)) => (file, line),
                None => (f.location.file.as_str(), f.location.line.max(1)),
            };
            let mut description = f.message.clone();
            if let Some(object) = &f.object {
                let _ = write!(description, " ({object})");
            }
            Issue {
                description,
                check_name: &f.rule,
                fingerprint: hash(&key),
                severity: severity(f.severity),
                location: IssueLocation {
                    path: repository_path(file, base),
                    lines: Lines { begin: line },
                },
            }
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".to_string());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_fnv1a_128() {
        // Reference values of FNV-1a 128 (the empty string is the offset basis).
        assert_eq!(hash(""), "6c62272e07bb014262b821756295c58d");
        assert_eq!(hash("a"), "d228cb696f1a8caf78912b704e4a8964");
    }

    #[test]
    fn paths_are_relative_with_forward_slashes() {
        let base = Path::new("/repo");
        assert_eq!(repository_path("/repo/k8s/app.yaml", base), "k8s/app.yaml");
        assert_eq!(repository_path("./k8s/app.yaml", base), "k8s/app.yaml");
        assert_eq!(repository_path("k8s/app.yaml", base), "k8s/app.yaml");
        assert_eq!(
            repository_path("/elsewhere/a.yaml", base),
            "/elsewhere/a.yaml"
        );
    }
}
