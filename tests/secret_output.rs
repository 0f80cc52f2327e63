//! Secret values never reach a report: the secret rules' findings on literal credentials name
//! keys and variables only, in every output format, and the text format does not echo the
//! source lines they point at (a flow-style `data: {tls.key: ...}` holds the value on that line).

mod common;

use assert_cmd::Command;

/// Every value of the secret rules' fail fixtures, as written and decoded.
const VALUES: &[&str] = &[
    "payment_user",
    "encrypted-password",
    "payment_service",
    "change-me",
    "CHANGE-ME",
    "c3VwZXItc2VjcmV0LXRva2Vu",
    "super-secret-token",
    "cGFzc3dvcmQ=",
    "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t",
    "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t",
    "s3cr3t-hunter2",
    "sk_live_51Habcdefghijklmnop",
];

#[test]
fn no_format_prints_a_secret_value() {
    let fixtures = common::root().join("fixtures/rules");
    let files = [
        fixtures.join("secret-in-manifest/fail/string-data-with-placeholders.yaml"),
        fixtures.join("secret-in-manifest/fail/base64-data.yaml"),
        fixtures.join("secret-in-env/fail/literal-credentials.yaml"),
    ];
    for format in ["text", "json", "sarif", "junit", "github"] {
        let output = Command::cargo_bin("seaworthy")
            .expect("binary is built")
            .args([
                "lint",
                "--no-config",
                "--no-cache",
                "--color",
                "always",
                "--format",
                format,
            ])
            .args(&files)
            .output()
            .expect("runs");
        assert_eq!(
            output.status.code(),
            Some(1),
            "{format}: findings fail the run"
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        for rule in ["secret-in-manifest", "secret-in-env"] {
            assert!(
                stdout.contains(rule),
                "{format}: {rule} reported:\n{stdout}"
            );
        }
        for value in VALUES {
            assert!(
                !stdout.contains(value) && !stderr.contains(value),
                "{format} prints the secret value {value:?}:\n{stdout}\n{stderr}"
            );
        }
        // The keys and variables are named, so the finding can be acted on.
        for name in ["db-password", "tls.key", "STRIPE_API_KEY"] {
            assert!(stdout.contains(name), "{format} names {name}:\n{stdout}");
        }
    }
}

/// The text format still shows the source line of other findings on the same object (the
/// redaction is narrow): too-few-replicas points at `replicas: 2`.
#[test]
fn the_text_format_still_shows_other_source_lines() {
    let file = common::root().join("fixtures/rules/secret-in-env/fail/literal-credentials.yaml");
    let output = Command::cargo_bin("seaworthy")
        .expect("binary is built")
        .args([
            "lint",
            "--no-config",
            "--no-cache",
            "--color",
            "never",
            "--format",
            "text",
        ])
        .arg(&file)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("|   replicas: 2"), "{stdout}");
}
