//! The webhook's limits against the real `seaworthy serve` on 127.0.0.1 over HTTPS, with small
//! numbers: the connection cap, the handshake, header, body and idle timeouts, the budget of
//! request bodies in flight, the per-object budget, bounded metric labels, certificate validity,
//! a stalled log pipe and the drain on SIGTERM. Every loop here is bounded in count and time.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::https::{
    connect, deployment_with_containers, fixture, tls_client_config, Options, Server,
};
use rustls::pki_types::ServerName;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

fn start(args: &[&str]) -> Server {
    Server::start(Options {
        args: args.iter().map(|a| a.to_string()).collect(),
        files: Vec::new(),
    })
}

/// A TLS connection to the server without HTTP on top, to write requests byte by byte.
async fn raw_tls(server: &Server) -> Result<TlsStream<TcpStream>, String> {
    let config = tls_client_config(&server.ca.cert_pem, None)?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(server.addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let name = ServerName::try_from("127.0.0.1").map_err(|e| e.to_string())?;
    connector
        .connect(name.to_owned(), tcp)
        .await
        .map_err(|e| format!("TLS handshake: {e}"))
}

/// Reads until the peer closes (Ok with what came) or `within` passes (Err). A reset counts as
/// closed.
async fn read_until_closed<S: AsyncReadExt + Unpin>(
    stream: &mut S,
    within: Duration,
) -> Result<Vec<u8>, String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return Err(format!("still open after {within:?}")),
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// The status code of a raw HTTP/1.1 answer.
fn status_of(answer: &[u8]) -> u16 {
    String::from_utf8_lossy(answer)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn post_head(length: usize) -> String {
    format!(
        "POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
}

fn response(review: &Value) -> &Value {
    assert_eq!(review["kind"], "AdmissionReview", "{review}");
    &review["response"]
}

// Multi-threaded: the client's connection tasks must run while the test thread polls the metrics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_after_the_cap_is_closed_at_once() {
    let server = start(&["--no-config", "--max-connections", "8"]);
    let mut held = Vec::new();
    for i in 0..8 {
        held.push(
            server
                .connect()
                .await
                .unwrap_or_else(|e| panic!("connection {i}: {e}")),
        );
    }
    server.wait_for("8 open connections", Duration::from_secs(5), || {
        server.metric("seaworthy_open_connections") >= 8.0
    });
    let started = Instant::now();
    let ninth = server.connect().await;
    assert!(ninth.is_err(), "the 9th connection must be refused");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "refused at once, not queued: {:?}",
        started.elapsed()
    );
    assert_eq!(
        server.metric(r#"seaworthy_connections_closed_by_limit_total{reason="max_connections"}"#),
        1.0
    );
    // The held ones still work, and a closed one frees its slot.
    assert_eq!(held[0].review(fixture("pod-create-pass.json")).await.0, 200);
    held.pop();
    server.wait_for("a free slot", Duration::from_secs(5), || {
        server.metric("seaworthy_open_connections") <= 7.0
    });
    let mut tenth = server.connect().await.expect("a slot came free");
    assert_eq!(tenth.review(fixture("pod-create-pass.json")).await.0, 200);
}

#[tokio::test]
async fn a_client_that_never_finishes_the_handshake_is_dropped() {
    let server = start(&["--no-config", "--handshake-timeout", "300ms"]);
    let mut tcp = TcpStream::connect(server.addr).await.expect("tcp connect");
    let started = Instant::now();
    read_until_closed(&mut tcp, Duration::from_secs(3))
        .await
        .expect("closed by the handshake timeout");
    assert!(started.elapsed() >= Duration::from_millis(250));
    server.wait_for("the count", Duration::from_secs(2), || {
        server.metric(r#"seaworthy_connections_closed_by_limit_total{reason="handshake_timeout"}"#)
            == 1.0
    });
}

#[tokio::test]
async fn a_slow_header_writer_is_closed_but_an_idle_keep_alive_connection_is_not() {
    let server = start(&["--no-config", "--header-timeout", "500ms"]);
    // A kept-alive connection idle for longer than the header timeout is still good.
    let mut idle = server.connect().await.expect("connect");
    assert_eq!(idle.review(fixture("pod-create-pass.json")).await.0, 200);

    let mut slow = raw_tls(&server).await.expect("connect");
    let head = post_head(10);
    let started = Instant::now();
    let mut closed = false;
    // One header byte every 100 ms: the head would take 9 s; it must be cut after about 0.5 s.
    for byte in head.as_bytes().iter().take(40) {
        if slow.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        let _ = slow.flush().await;
        let mut probe = [0u8; 64];
        match tokio::time::timeout(Duration::from_millis(100), slow.read(&mut probe)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            _ => {}
        }
    }
    assert!(
        closed,
        "a slowloris connection must be closed; log:\n{}",
        server.logs()
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(
        server.metric(r#"seaworthy_connections_closed_by_limit_total{reason="header_timeout"}"#),
        1.0
    );
    assert!(started.elapsed() > Duration::from_millis(500));
    assert_eq!(
        idle.review(fixture("pod-create-pass.json")).await.0,
        200,
        "idle is not slow"
    );
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let server = start(&["--no-config", "--idle-timeout", "500ms"]);
    let mut stream = raw_tls(&server).await.expect("connect");
    let body = fixture("pod-create-pass.json");
    stream
        .write_all(post_head(body.len()).as_bytes())
        .await
        .expect("head");
    stream.write_all(&body).await.expect("body");
    let started = Instant::now();
    // The answer arrives, then the connection stays open until the idle timeout closes it.
    let answer = read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("closed by the idle timeout");
    assert_eq!(status_of(&answer), 200);
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        server.metric(r#"seaworthy_connections_closed_by_limit_total{reason="idle_timeout"}"#),
        1.0
    );
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_gets_408() {
    let server = start(&["--no-config", "--body-timeout", "500ms"]);
    let mut stream = raw_tls(&server).await.expect("connect");
    stream
        .write_all(post_head(5000).as_bytes())
        .await
        .expect("head");
    stream
        .write_all(&[b' '; 100])
        .await
        .expect("part of the body");
    let started = Instant::now();
    let answer = read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("answered and closed");
    assert_eq!(
        status_of(&answer),
        408,
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(String::from_utf8_lossy(&answer).contains("--body-timeout"));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        server.metric(r#"seaworthy_http_rejected_total{status="408"}"#),
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_in_flight_budget_get_a_quick_503() {
    let server = start(&[
        "--no-config",
        "--max-body-size",
        "1MiB",
        "--body-budget",
        "1MiB",
        "--eval-timeout",
        "500ms",
        "--body-timeout",
        "20s",
    ]);
    // One client holds most of the budget with a body it never finishes.
    let mut holder = raw_tls(&server).await.expect("connect");
    holder
        .write_all(post_head(1_000_000).as_bytes())
        .await
        .expect("head");
    holder.write_all(&[b' '; 1000]).await.expect("some body");
    server.wait_for("the reservation", Duration::from_secs(5), || {
        server.metric("seaworthy_body_bytes_in_flight") >= 1_000_000.0
    });

    // A normal review still fits in what is left.
    let mut conn = server.connect().await.expect("connect");
    assert_eq!(conn.review(fixture("pod-create-pass.json")).await.0, 200);

    // A 100 kB body does not: an explicit answer within the request's time budget.
    let started = Instant::now();
    let (status, body) = conn
        .post("/validate", "application/json", vec![b' '; 100_000])
        .await
        .expect("answered");
    let took = started.elapsed();
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    assert!(
        String::from_utf8_lossy(&body).contains("--body-budget"),
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(
        server.metric(r#"seaworthy_http_rejected_total{status="503"}"#),
        1.0
    );

    // Once the holder goes, its bytes are released.
    drop(holder);
    server.wait_for("the release", Duration::from_secs(5), || {
        server.metric("seaworthy_body_bytes_in_flight") < 1.0
    });
    let mut conn = server.connect().await.expect("connect");
    assert_eq!(conn.review(fixture("pod-create-pass.json")).await.0, 200);
}

#[tokio::test]
async fn an_object_over_the_container_budget_is_answered_without_evaluation() {
    for (mode, allowed) in [("enforce", false), ("warn", true)] {
        let server = start(&["--no-config", "--max-containers", "50", "--mode", mode]);
        let mut conn = server.connect().await.expect("connect");
        let (status, review) = conn
            .review(deployment_with_containers(
                "deployment-create-denied.json",
                51,
            ))
            .await;
        assert_eq!(status, 200);
        let r = response(&review);
        assert_eq!(r["allowed"], allowed, "{mode}: {r}");
        let text = r.to_string();
        assert!(
            text.contains("51 containers") && text.contains("--max-containers"),
            "{mode}: {text}"
        );
        assert_eq!(
            server.metric(r#"seaworthy_object_budget_exceeded_total{limit="containers"}"#),
            1.0
        );
        // Within the budget it is evaluated as usual: this fixture has deny findings.
        let (_, review) = conn
            .review(deployment_with_containers(
                "deployment-create-denied.json",
                50,
            ))
            .await;
        let text = response(&review).to_string();
        assert!(!text.contains("--max-containers"), "{mode}: {text}");
        assert!(
            text.contains("host-namespaces") || text.contains("hostNetwork"),
            "{mode}: {text}"
        );
    }
}

#[tokio::test]
async fn made_up_kinds_share_one_metric_label() {
    let server = start(&["--no-config"]);
    let mut conn = server.connect().await.expect("connect");
    let base: Value = serde_json::from_slice(&fixture("pod-create-pass.json")).expect("fixture");
    for i in 0..40 {
        let mut review = base.clone();
        let kind = format!("MadeUp{i}");
        review["request"]["kind"]["kind"] = Value::from(kind.clone());
        review["request"]["object"]["kind"] = Value::from(kind);
        let (status, _) = conn
            .review(serde_json::to_vec(&review).expect("json"))
            .await;
        assert_eq!(status, 200);
    }
    assert_eq!(conn.review(fixture("pod-create-pass.json")).await.0, 200);
    let (_, metrics) = server.health_get("/metrics");
    assert!(!metrics.contains("MadeUp"), "{metrics}");
    let other: f64 = metrics
        .lines()
        .filter(|l| {
            l.starts_with("seaworthy_admission_requests_total") && l.contains(r#"kind="other""#)
        })
        .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
        .sum();
    assert_eq!(other, 40.0, "{metrics}");
    assert!(
        metrics.contains(r#"kind="Pod""#),
        "known kinds keep their label: {metrics}"
    );
}

/// 2021-01-01T00:00:00Z and 2090-01-01T00:00:00Z in seconds since the epoch.
const Y2021: f64 = 1_609_459_200.0;
const Y2090: f64 = 3_786_912_000.0;

#[tokio::test]
async fn an_expired_certificate_at_startup_is_logged_loudly_and_its_expiry_exported() {
    let ca = common::https::Ca::new("other test CA");
    let expired = ca.leaf_valid(&["127.0.0.1"], (2020, 1, 1), (2021, 1, 1));
    let server = Server::start(Options {
        args: vec!["--no-config".into()],
        files: vec![("tls.crt", expired.cert_pem), ("tls.key", expired.key_pem)],
    });
    server.wait_for("the warning", Duration::from_secs(5), || {
        server.logs().contains("NOT VALID")
    });
    assert!(
        server.logs().contains("expired at 2021-01-01"),
        "{}",
        server.logs()
    );
    assert_eq!(
        server.metric("seaworthy_tls_certificate_expiry_timestamp_seconds"),
        Y2021
    );
}

#[tokio::test]
async fn a_rotation_to_a_certificate_not_valid_now_is_refused() {
    let server = start(&["--no-config"]);
    let first = server.connect().await.expect("connect").server_cert;
    assert!(server.metric("seaworthy_tls_certificate_expiry_timestamp_seconds") > Y2090);

    let expired = server
        .ca
        .leaf_valid(&["127.0.0.1"], (2020, 1, 1), (2021, 1, 1));
    std::fs::write(server.path("tls.key"), &expired.key_pem).expect("write key");
    std::fs::write(server.path("tls.crt"), &expired.cert_pem).expect("write cert");
    // (The key and the certificate are written one after the other: the watcher may also see,
    // and refuse, the new key with the old certificate in between.)
    server.wait_for("the refusal", Duration::from_secs(10), || {
        server.logs().contains("expired at 2021-01-01")
    });
    assert!(server.metric(r#"seaworthy_tls_reloads_total{result="failure"}"#) >= 1.0);
    let conn = server
        .connect()
        .await
        .expect("still serving the old certificate");
    assert_eq!(conn.server_cert, first);

    let future = server
        .ca
        .leaf_valid(&["127.0.0.1"], (2089, 1, 1), (2090, 1, 1));
    std::fs::write(server.path("tls.key"), &future.key_pem).expect("write key");
    std::fs::write(server.path("tls.crt"), &future.cert_pem).expect("write cert");
    server.wait_for("the second refusal", Duration::from_secs(10), || {
        server.logs().contains("not valid yet")
    });
    // Reported once, not at every look (the watcher looks every 100 ms).
    let failures = server.metric(r#"seaworthy_tls_reloads_total{result="failure"}"#);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        server.metric(r#"seaworthy_tls_reloads_total{result="failure"}"#),
        failures
    );
    assert_eq!(server.connect().await.expect("connect").server_cert, first);

    let good = server
        .ca
        .leaf_valid(&["127.0.0.1"], (2020, 1, 1), (2090, 1, 1));
    std::fs::write(server.path("tls.key"), &good.key_pem).expect("write key");
    std::fs::write(server.path("tls.crt"), &good.cert_pem).expect("write cert");
    server.wait_for("the reload", Duration::from_secs(10), || {
        server.metric(r#"seaworthy_tls_reloads_total{result="success"}"#) >= 1.0
    });
    assert_eq!(
        server.metric("seaworthy_tls_certificate_expiry_timestamp_seconds"),
        Y2090
    );
    assert_ne!(server.connect().await.expect("connect").server_cert, first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_fails_readiness_first_and_keeps_answering_kept_alive_connections() {
    let mut server = start(&[
        "--no-config",
        "--shutdown-delay",
        "3s",
        "--shutdown-timeout",
        "5s",
    ]);
    let mut kept = server.connect().await.expect("connect");
    assert_eq!(kept.review(fixture("pod-create-pass.json")).await.0, 200);
    assert_eq!(server.health_get("/readyz").0, 200);

    let pid = server.child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let sent = Instant::now();
    server.wait_for("readiness to fail", Duration::from_secs(1), || {
        let (status, body) = server.health_get("/readyz");
        status == 503 && body.contains("shutting down")
    });
    // A request written on the idle kept-alive connection during the drain is answered.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, review) = kept.review(fixture("pod-create-pass.json")).await;
    assert_eq!(status, 200);
    assert_eq!(response(&review)["allowed"], true);
    assert!(sent.elapsed() < Duration::from_secs(3), "within the delay");

    let code = server.child.wait().expect("exit status").code();
    assert_eq!(code, Some(0), "{}", server.logs());
    assert!(
        sent.elapsed() >= Duration::from_secs(3),
        "kept serving for the delay"
    );
    assert!(connect(server.addr, &server.ca.cert_pem, None)
        .await
        .is_err());
}

/// Nobody reads the server's log output (a stalled log collector): its pipe fills after a few
/// hundred lines, and with logs written in the request path every review would then wait on it.
/// Lines go through a queue to a writer thread instead: the reviews are all answered in time,
/// no line is dropped (the queue holds far more), and every line arrives once the pipe drains.
#[tokio::test]
async fn a_stalled_log_pipe_never_stalls_reviews() {
    const REVIEWS: usize = 1500;
    let server = start(&["--no-config"]);
    let mut conn = server.connect().await.expect("connect");
    server
        .log_paused
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let body = fixture("deployment-delete.json");
    let started = Instant::now();
    for i in 0..REVIEWS {
        let answered =
            tokio::time::timeout(Duration::from_secs(10), conn.review(body.clone())).await;
        let Ok((status, _)) = answered else {
            panic!("review {i} was not answered within 10 s while the log pipe was full");
        };
        assert_eq!(status, 200, "review {i}");
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(120),
        "{REVIEWS} reviews took {took:?}"
    );
    assert_eq!(server.metric("seaworthy_log_lines_dropped_total"), 0.0);
    server
        .log_paused
        .store(false, std::sync::atomic::Ordering::Relaxed);
    server.wait_for("every review's log line", Duration::from_secs(30), || {
        server
            .logs()
            .lines()
            .filter(|l| l.contains("operation=DELETE"))
            .count()
            >= REVIEWS
    });
}
