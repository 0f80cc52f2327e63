//! The webhook end to end: the real `seaworthy serve` binary on 127.0.0.1, spoken to over HTTPS
//! with a CA made in the test. AdmissionReview bodies are in fixtures/admission/ (see its README).

mod common;

use std::time::Duration;

use common::https::{connect, denial, fixture, response, warnings, Options, Server};
use serde_json::Value;

fn start(args: &[&str]) -> Server {
    Server::start(Options {
        args: args.iter().map(|a| a.to_string()).collect(),
        files: Vec::new(),
    })
}

/// A rule that loops for a while: `params.n`² iterations, each a VM instruction or more.
const SLOW_POLICY: &str = r#"# What it does: spins, to test time budgets.
# Why: a policy can be slow; the webhook must not be.
# Example:
#   kind: Pod
# Fix: nothing.
package seaworthy.rules.test.slow_rule

import rego.v1

metadata := {
	"id": "slow-rule",
	"area": "test",
	"severity": "error",
	"kinds": ["Pod", "Deployment"],
	"summary": "Spins",
	"remediation": "Do nothing.",
	"params": {"n": 1500},
}

violations contains v if {
	total := count({x | some i in numbers.range(1, input.params.n); some j in numbers.range(1, input.params.n); x := i * j})
	total < 0
	v := {"msg": "never", "path": []}
}
"#;

#[tokio::test]
async fn fixtures_get_the_verdicts_their_readme_gives() {
    let server = start(&["--no-config"]);
    let mut conn = server.connect().await.expect("connect");

    // (fixture, uid, allowed, rules that must deny, warnings that must appear)
    type Case<'a> = (&'a str, &'a str, bool, &'a [&'a str], &'a [&'a str]);
    let cases: &[Case] = &[
        ("pod-create-pass.json", "pod-pass", true, &[], &[]),
        (
            "pod-create-denied.json",
            "pod-denied",
            false,
            &["privileged-container"],
            &[],
        ),
        (
            "pod-create-warn.json",
            "pod-warn",
            true,
            &[],
            &["latest-image-tag"],
        ),
        ("deployment-create-pass.json", "deploy-pass", true, &[], &[]),
        (
            "deployment-create-denied.json",
            "deploy-denied",
            false,
            &["host-namespaces", "missing-readiness-probe"],
            &[],
        ),
        (
            "deployment-create-warn.json",
            "deploy-warn",
            true,
            &[],
            &["writable-root-filesystem"],
        ),
        // The old object was already privileged: scaling it must not be blocked, only warned.
        (
            "deployment-update-ratchet.json",
            "deploy-ratchet",
            true,
            &[],
            &["privileged-container"],
        ),
        (
            "deployment-update-new-violation.json",
            "deploy-new-violation",
            false,
            &["privileged-container"],
            &[],
        ),
        ("deployment-delete.json", "deploy-delete", true, &[], &[]),
        (
            "deployment-dry-run.json",
            "deploy-dry-run",
            false,
            &["privileged-container"],
            &[],
        ),
        ("pod-exempt-namespace.json", "pod-exempt", true, &[], &[]),
    ];
    for (file, uid, allowed, denying, warning) in cases {
        let (status, review) = conn.review(fixture(file)).await;
        assert_eq!(status, 200, "{file}: {review}");
        let response = response(&review);
        assert_eq!(response["uid"], *uid, "{file}: uid echoed");
        assert_eq!(response["allowed"], *allowed, "{file}: {response}");
        let message = denial(response);
        if *allowed {
            assert!(response["status"].is_null(), "{file}: {response}");
        } else {
            assert_eq!(response["status"]["code"], 403, "{file}");
            assert!(
                message.starts_with("seaworthy denied "),
                "{file}: {message}"
            );
        }
        for rule in *denying {
            assert!(
                message.contains(&format!("[{rule}]")),
                "{file}: {rule} in {message}"
            );
        }
        let warned = warnings(response);
        for rule in *warning {
            assert!(
                warned.iter().any(|w| w.contains(rule)),
                "{file}: {rule} in {warned:?}"
            );
        }
        if *allowed && warning.is_empty() {
            assert!(warned.is_empty(), "{file}: unexpected warnings {warned:?}");
        }
        for w in &warned {
            assert!(w.chars().count() <= 200, "{file}: warning too long: {w}");
        }
    }

    // The denial names the rule, the message and the field, as kubectl will print them.
    let (_, review) = conn.review(fixture("deployment-create-denied.json")).await;
    let message = denial(response(&review));
    assert!(
        message.contains("[host-namespaces] pod uses the host network (hostNetwork: true) (at spec.template.spec.hostNetwork)"),
        "{message}"
    );
    // The ratchet says why it only warns.
    let (_, review) = conn.review(fixture("deployment-update-ratchet.json")).await;
    assert!(
        warnings(response(&review))
            .iter()
            .any(|w| w.contains("privileged-container")
                && w.contains("already there before this update")),
        "{review}"
    );
    // Every answer is counted, by operation, kind and decision.
    assert!(server.metric(r#"seaworthy_admission_requests_total{operation="CREATE",kind="Deployment",decision="denied"}"#) >= 2.0);
    assert_eq!(
        server.metric(r#"seaworthy_admission_requests_total{operation="DELETE",kind="Deployment",decision="skipped"}"#),
        1.0
    );
    assert!(
        server.metric(r#"seaworthy_findings_total{rule="privileged-container",action="deny"}"#)
            >= 2.0
    );
    // The log line of a review carries uid, kind, namespace/name, operation and decision (it
    // comes through the server's log writer thread, a moment after the answer).
    server.wait_for("the review's log line", Duration::from_secs(10), || {
        server.logs().lines().any(|l| {
            l.contains("uid=deploy-dry-run")
                && l.contains("dry_run=true")
                && l.contains("decision=denied")
                && l.contains("namespace=shop")
                && l.contains("name=api")
        })
    });
}

#[tokio::test]
async fn update_policy_full_denies_old_violations_and_mode_warn_never_denies() {
    let full = start(&["--no-config", "--update-policy", "full"]);
    let mut conn = full.connect().await.expect("connect");
    let (_, review) = conn.review(fixture("deployment-update-ratchet.json")).await;
    assert_eq!(response(&review)["allowed"], false, "{review}");
    drop(conn);

    let warn = start(&["--no-config", "--mode", "warn"]);
    let mut conn = warn.connect().await.expect("connect");
    let (_, review) = conn.review(fixture("pod-create-denied.json")).await;
    let response = response(&review);
    assert_eq!(response["allowed"], true, "{response}");
    assert!(
        warnings(response)
            .iter()
            .any(|w| w.contains("privileged-container")),
        "{response}"
    );
}

#[tokio::test]
async fn config_file_sets_actions_exemptions_and_suppression() {
    let config = r#"
serve:
  actions:
    latest-image-tag: deny
    privileged-container: audit
  exempt_namespaces: [legacy]
  allow_annotation_suppression: false
"#;
    let server = Server::start(Options {
        args: vec!["--config".into(), "seaworthy.yaml".into()],
        files: vec![("seaworthy.yaml", config.to_string())],
    });
    let mut conn = server.connect().await.expect("connect");
    let (_, review) = conn.review(fixture("pod-create-warn.json")).await;
    assert_eq!(
        response(&review)["allowed"],
        false,
        "latest-image-tag: deny: {review}"
    );
    // Audit: allowed, no warning, recorded in the audit annotation and the metrics.
    let (_, review) = conn.review(fixture("pod-create-denied.json")).await;
    let r = response(&review);
    assert_eq!(r["allowed"], true, "{r}");
    assert!(
        !warnings(r)
            .iter()
            .any(|w| w.contains("privileged-container")),
        "{r}"
    );
    assert!(
        r["auditAnnotations"]["audit-findings"]
            .as_str()
            .is_some_and(|a| a.contains("privileged-container")),
        "{r}"
    );
    assert_eq!(
        server.metric(r#"seaworthy_findings_total{rule="privileged-container",action="audit"}"#),
        1.0
    );
    // Annotation suppression is off: the ignore annotation does not excuse the tag.
    let mut body: Value = serde_json::from_slice(&fixture("pod-create-warn.json")).expect("json");
    body["request"]["object"]["metadata"]["annotations"] =
        serde_json::json!({"seaworthy.dev/ignore": "latest-image-tag"});
    let (_, review) = conn.review(serde_json::to_vec(&body).expect("json")).await;
    assert_eq!(response(&review)["allowed"], false, "{review}");
    // The configured list replaces kube-system: a privileged pod there is now checked ...
    let (_, review) = conn.review(fixture("pod-exempt-namespace.json")).await;
    assert!(
        warnings(response(&review))
            .iter()
            .any(|w| w.contains("privilege-escalation")),
        "{review}"
    );
    // ... and the `legacy` namespace is exempt.
    body["request"]["namespace"] = "legacy".into();
    body["request"]["object"]["metadata"]["namespace"] = "legacy".into();
    let (_, review) = conn.review(serde_json::to_vec(&body).expect("json")).await;
    let r = response(&review);
    assert_eq!(r["allowed"], true, "{r}");
    assert!(warnings(r).is_empty(), "{r}");
}

#[tokio::test]
async fn bad_bodies_get_http_errors_and_the_server_keeps_serving() {
    let server = start(&["--no-config", "--max-body-size", "64KiB"]);
    let mut conn = server.connect().await.expect("connect");

    let (status, body) = conn
        .post("/validate", "application/json", fixture("malformed.json"))
        .await
        .expect("answered");
    assert_eq!(status, 400);
    let error: Value = serde_json::from_slice(&body).expect("JSON error");
    assert!(
        error["error"]
            .as_str()
            .is_some_and(|e| e.contains("not an AdmissionReview")),
        "{error}"
    );

    let big = vec![b' '; 65 * 1024];
    let (status, body) = conn
        .post("/validate", "application/json", big)
        .await
        .expect("answered");
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
    assert!(serde_json::from_slice::<Value>(&body).is_ok());

    let mut conn = server.connect().await.expect("reconnect after 413");
    let (status, _) = conn
        .post("/validate", "text/plain", fixture("pod-create-pass.json"))
        .await
        .expect("answered");
    assert_eq!(status, 415);

    let (status, body) = conn
        .post(
            "/validate",
            "application/json",
            br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{}}"#
                .to_vec(),
        )
        .await
        .expect("answered");
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("admission.k8s.io/v1"));

    let (status, _) = conn
        .post(
            "/validate",
            "application/json",
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":5}}"#
                .to_vec(),
        )
        .await
        .expect("answered");
    assert_eq!(status, 400, "wrong types are a bad request");

    // And a good request still gets its verdict.
    let (status, review) = conn.review(fixture("pod-create-denied.json")).await;
    assert_eq!(status, 200);
    assert_eq!(response(&review)["allowed"], false);
    assert_eq!(
        server.metric(r#"seaworthy_http_rejected_total{status="400"}"#),
        3.0
    );
    assert_eq!(
        server.metric(r#"seaworthy_http_rejected_total{status="413"}"#),
        1.0
    );
    assert_eq!(
        server.metric(r#"seaworthy_http_rejected_total{status="415"}"#),
        1.0
    );
}

#[tokio::test]
async fn health_endpoints_answer_on_plain_http() {
    let server = start(&["--no-config"]);
    assert_eq!(server.health_get("/healthz").0, 200);
    assert_eq!(
        server.health_get("/readyz").0,
        200,
        "no cluster context: ready at once"
    );
    let (status, metrics) = server.health_get("/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("# TYPE seaworthy_admission_duration_seconds histogram"),
        "{metrics}"
    );
    assert!(
        metrics.ends_with("# EOF\n"),
        "OpenMetrics text ends with EOF"
    );
    // Cross-object rules are skipped without cluster context, and the log says which.
    let logs = server.logs();
    assert!(
        logs.contains("cross-object rules are skipped") && logs.contains("missing-pdb"),
        "{logs}"
    );
}

#[tokio::test]
async fn rotated_certificate_is_served_to_new_connections_without_cutting_old_ones() {
    let server = start(&["--no-config"]);
    let mut old = server.connect().await.expect("connect");
    let first_cert = old.server_cert.clone();
    assert_eq!(old.review(fixture("pod-create-pass.json")).await.0, 200);

    // Rotate: a new pair from the same CA, written as a Secret mount would be updated.
    let next = server.ca.leaf(&["127.0.0.1", "localhost"]);
    std::fs::write(server.path("tls.key"), &next.key_pem).expect("write key");
    std::fs::write(server.path("tls.crt"), &next.cert_pem).expect("write cert");
    server.wait_for("the TLS reload", Duration::from_secs(10), || {
        server.metric(r#"seaworthy_tls_reloads_total{result="success"}"#) >= 1.0
    });

    let mut new = server.connect().await.expect("connect after rotation");
    assert_ne!(
        new.server_cert, first_cert,
        "new handshakes get the new certificate"
    );
    assert_eq!(new.review(fixture("pod-create-pass.json")).await.0, 200);
    // The connection opened before the rotation still works.
    assert_eq!(old.review(fixture("pod-create-pass.json")).await.0, 200);

    // A broken pair (a key that belongs to another certificate) is refused; the last good one stays.
    let stray = server.ca.leaf(&["127.0.0.1"]);
    std::fs::write(server.path("tls.key"), &stray.key_pem).expect("write mismatched key");
    server.wait_for("the refused reload", Duration::from_secs(10), || {
        server.metric(r#"seaworthy_tls_reloads_total{result="failure"}"#) >= 1.0
    });
    let mut after = server.connect().await.expect("still serving");
    assert_eq!(
        after.server_cert, new.server_cert,
        "the last good certificate stays"
    );
    assert_eq!(after.review(fixture("pod-create-pass.json")).await.0, 200);
    server.wait_for("the refusal in the log", Duration::from_secs(10), || {
        server.logs().contains("new TLS certificate refused")
    });

    // Garbage is refused the same way.
    std::fs::write(server.path("tls.crt"), "not a certificate").expect("write garbage");
    server.wait_for("the second refused reload", Duration::from_secs(10), || {
        server.metric(r#"seaworthy_tls_reloads_total{result="failure"}"#) >= 2.0
    });
    assert!(server.connect().await.is_ok());
}

#[tokio::test]
async fn mutual_tls_requires_a_client_certificate_from_the_ca() {
    let server = start(&["--no-config"]);
    // Without --client-ca, no client certificate is needed.
    assert!(server.connect().await.is_ok());
    drop(server);

    let server = start(&["--no-config", "--client-ca", "ca.crt"]);
    let ca = &server.ca;
    match connect(server.addr, &ca.cert_pem, None).await {
        Err(_) => {}
        // TLS 1.3 reports the missing certificate on the first read, not in the handshake.
        Ok(mut conn) => assert!(
            conn.post(
                "/validate",
                "application/json",
                fixture("pod-create-pass.json")
            )
            .await
            .is_err(),
            "a client without a certificate must be refused"
        ),
    }
    let client = ca.leaf(&["kube-apiserver"]);
    let mut conn = connect(server.addr, &ca.cert_pem, Some(&client))
        .await
        .expect("a client certificate from the CA is accepted");
    assert_eq!(conn.review(fixture("pod-create-pass.json")).await.0, 200);
    // A certificate from another CA is refused.
    let other = common::https::Ca::new("someone else").leaf(&["kube-apiserver"]);
    match connect(server.addr, &ca.cert_pem, Some(&other)).await {
        Err(_) => {}
        Ok(mut conn) => assert!(conn
            .post(
                "/validate",
                "application/json",
                fixture("pod-create-pass.json")
            )
            .await
            .is_err()),
    }
}

#[tokio::test]
async fn an_evaluation_over_budget_follows_the_failure_mode() {
    for (mode, allowed) in [("allow", true), ("deny", false)] {
        let server = Server::start(Options {
            args: vec![
                "--no-config".into(),
                "--policies".into(),
                "slow".into(),
                "--eval-timeout".into(),
                "100ms".into(),
                "--failure-mode".into(),
                mode.into(),
            ],
            files: vec![("slow/slow.rego", SLOW_POLICY.replace("1500", "100000"))],
        });
        let mut conn = server.connect().await.expect("connect");
        let started = std::time::Instant::now();
        let (status, review) = conn.review(fixture("pod-create-pass.json")).await;
        let took = started.elapsed();
        assert_eq!(status, 200);
        let r = response(&review);
        assert_eq!(r["allowed"], allowed, "{mode}: {r}");
        let text = format!("{r}");
        assert!(
            text.contains("ran out of its time budget"),
            "{mode}: {text}"
        );
        assert!(
            took < Duration::from_secs(2),
            "{mode}: the budget is kept: {took:?}"
        );
        assert_eq!(
            server.metric(r#"seaworthy_evaluation_failures_total{reason="timeout"}"#),
            1.0
        );
        // A custom policy's review goes to an evaluation thread at once, never to the worker.
        assert_eq!(server.metric("seaworthy_evaluations_moved_total"), 0.0);
    }
}

// Multi-threaded: the requests must progress while the test thread polls the metrics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_requests_in_flight_and_exits_zero() {
    let mut server = Server::start(Options {
        args: vec![
            "--no-config".into(),
            "--policies".into(),
            "slow".into(),
            "--eval-timeout".into(),
            "20s".into(),
            // The drain must outlast the slow requests even on a loaded machine (each takes
            // seconds there); what is tested is that none is cut, not how fast they are.
            "--shutdown-timeout".into(),
            "120s".into(),
        ],
        files: vec![("slow/slow.rego", SLOW_POLICY.to_string())],
    });
    // Calibrate: one request alone, so the in-flight ones take long enough to overlap SIGTERM.
    let mut probe = server.connect().await.expect("connect");
    let started = std::time::Instant::now();
    assert_eq!(probe.review(fixture("pod-create-pass.json")).await.0, 200);
    let single = started.elapsed();
    assert!(
        single > Duration::from_millis(20),
        "the slow rule is slow: {single:?}"
    );

    let mut inflight = Vec::new();
    for _ in 0..4 {
        let mut conn = server.connect().await.expect("connect");
        inflight.push(tokio::spawn(async move {
            conn.review(fixture("deployment-create-pass.json")).await
        }));
    }
    // Let all of them arrive (two evaluating, two waiting for a slot), then ask the server to stop.
    server.wait_for("requests in flight", Duration::from_secs(10), || {
        server.metric("seaworthy_in_flight_reviews") >= 4.0
    });
    let pid = server.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    for task in inflight {
        let (status, review) = task.await.expect("request task");
        assert_eq!(status, 200, "a request in flight was answered: {review}");
        assert_eq!(response(&review)["allowed"], true);
    }
    let status = server.child.wait().expect("exit status");
    assert_eq!(status.code(), Some(0), "{}", server.logs());
    // Every queued line is written before the process exits; the reader may lag behind it.
    server.wait_for("the shutdown line", Duration::from_secs(10), || {
        server.logs().contains("shutting down")
    });
    // New connections are refused once it has stopped.
    assert!(connect(server.addr, &server.ca.cert_pem, None)
        .await
        .is_err());
}

#[tokio::test]
async fn a_broken_policy_edit_keeps_the_running_rules() {
    let custom = r#"# What it does: flags Pods without a team label.
# Why: someone must own every workload.
# Example:
#   metadata: {labels: {team: a}}
# Fix: add a team label.
package seaworthy.rules.org.missing_team_label

import rego.v1

metadata := {
	"id": "missing-team-label",
	"area": "org",
	"severity": "error",
	"kinds": ["Pod"],
	"summary": "Pod has no team label",
	"remediation": "Add a team label.",
}

violations contains v if {
	not input.object.metadata.labels.team
	v := {"msg": "no team label", "path": ["metadata", "labels"]}
}
"#;
    let server = Server::start(Options {
        args: vec!["--no-config".into(), "--policies".into(), "org".into()],
        files: vec![("org/team.rego", custom.to_string())],
    });
    let mut conn = server.connect().await.expect("connect");
    let (_, review) = conn.review(fixture("pod-create-pass.json")).await;
    assert!(
        denial(response(&review)).contains("[missing-team-label]"),
        "{review}"
    );

    // A syntax error mid-edit: refused, the old rules keep answering.
    std::fs::write(
        server.path("org/team.rego"),
        "package broken\nviolations contains v if {",
    )
    .expect("write");
    server.wait_for("the refused reload", Duration::from_secs(10), || {
        server.metric(r#"seaworthy_policy_reloads_total{result="failure"}"#) >= 1.0
    });
    let (status, review) = conn.review(fixture("pod-create-pass.json")).await;
    assert_eq!(status, 200);
    assert!(
        denial(response(&review)).contains("[missing-team-label]"),
        "{review}"
    );

    // The fixed file (warning instead of error) is picked up.
    std::fs::write(
        server.path("org/team.rego"),
        custom.replace("\"severity\": \"error\"", "\"severity\": \"warning\""),
    )
    .expect("write");
    server.wait_for("the reload", Duration::from_secs(10), || {
        server.metric(r#"seaworthy_policy_reloads_total{result="success"}"#) >= 1.0
    });
    let (_, review) = conn.review(fixture("pod-create-pass.json")).await;
    let r = response(&review);
    assert_eq!(r["allowed"], true, "{r}");
    assert!(
        warnings(r).iter().any(|w| w.contains("missing-team-label")),
        "{r}"
    );
}

#[test]
fn bad_startup_input_exits_2_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("bad.crt"), "junk").expect("write");
    std::fs::write(dir.path().join("bad.key"), "junk").expect("write");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_seaworthy"))
            .current_dir(dir.path())
            .arg("serve")
            .args(args)
            .output()
            .expect("run")
    };
    let out = run(&["--no-config", "--tls-key", "bad.key"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-cert is required"));

    let out = run(&[
        "--no-config",
        "--tls-cert",
        "bad.crt",
        "--tls-key",
        "bad.key",
        "--listen",
        "127.0.0.1:0",
        "--health-listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.crt") && stderr.contains("CERTIFICATE"),
        "{stderr}"
    );

    std::fs::write(
        dir.path().join("c.yaml"),
        "serve:\n  actions:\n    no-such-rule: deny\n",
    )
    .expect("write");
    let out = run(&[
        "--config",
        "c.yaml",
        "--tls-cert",
        "bad.crt",
        "--tls-key",
        "bad.key",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("c.yaml:3:5") && stderr.contains("no-such-rule"),
        "{stderr}"
    );
}
