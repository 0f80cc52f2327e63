//! Load benchmark of `seaworthy serve`: the release binary runs as its own process with all the
//! built-in rules; this client sends AdmissionReviews of realistic Deployments over keep-alive
//! HTTPS at a fixed rate and reports throughput, latency percentiles, errors and the server's peak
//! memory.
//!
//! `cargo bench --bench webhook [-- --rate 2000 --duration 30 --connections 16]`, and
//! `--fixtures a.json,b.json` (from `fixtures/admission/`) to send other reviews,
//! `--decision-rounds N` for the in-process phase, `--decision-only` to stop after it (to profile),
//! `--disable a,b` to run without some rules (the in-process decision and the server both).
//!
//! The rate is open-loop: request i is due at start + i/rate whatever happened before. Its latency
//! counts from when it was due if its connection was still busy then, so a stall shows up in the
//! tail instead of slowing the client down (no coordinated omission), and from when it was sent
//! otherwise, so the client's own timer slack (tokio's timer has millisecond resolution) is not
//! charged to the server.

#[path = "../tests/common/https.rs"]
mod https;

/// The allocator the server binary uses, so the in-process decision costs what it costs there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::{Duration, Instant};

use https::{Options, Server};

struct Args {
    rate: u64,
    duration: u64,
    connections: u64,
    /// Reviews decided in-process before the load phase (`--decision-rounds`).
    decision_rounds: u64,
    /// Stop after the in-process phase (`--decision-only`), e.g. to profile the decision.
    decision_only: bool,
    /// Comma-separated AdmissionReview fixtures to send (`--fixtures`).
    fixtures: String,
    /// Time the decision with each rule alone enabled (`--rule-costs`), then stop.
    rule_costs: bool,
    /// Rules off for the decision and the server (`--disable a,b`), e.g. to time an older rule set.
    disable: Vec<String>,
}

fn args() -> Args {
    let mut args = Args {
        rate: 2000,
        duration: 30,
        connections: 16,
        decision_rounds: 2000,
        decision_only: false,
        fixtures: DEFAULT_FIXTURES.to_string(),
        rule_costs: false,
        disable: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let text = |value: Option<String>| value.unwrap_or_else(|| panic!("{flag} needs a value"));
        let number = |value: Option<String>| {
            value
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{flag} needs a number"))
        };
        match flag.as_str() {
            "--rate" => args.rate = number(it.next()),
            "--duration" => args.duration = number(it.next()),
            "--connections" => args.connections = number(it.next()),
            "--decision-rounds" => args.decision_rounds = number(it.next()),
            "--decision-only" => args.decision_only = true,
            "--fixtures" => args.fixtures = text(it.next()),
            "--rule-costs" => args.rule_costs = true,
            "--disable" => args.disable = text(it.next()).split(',').map(str::to_string).collect(),
            // `cargo bench` passes --bench.
            _ => {}
        }
    }
    args
}

/// Deployments as teams write them: the compliant one, one with warnings, one that is denied, and
/// an UPDATE that ratchets (two objects evaluated).
const DEFAULT_FIXTURES: &str = "deployment-create-pass.json,deployment-create-warn.json,deployment-create-denied.json,deployment-update-ratchet.json";

/// The request bodies, sent in turn: AdmissionReviews from `fixtures/admission/`.
fn bodies(fixtures: &str) -> Vec<Vec<u8>> {
    fixtures.split(',').map(https::fixture).collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// CPU time (user + system) a process has used so far, from /proc (clock ticks of 10 ms).
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The requests of the bodies, decoded as the server decodes them.
fn requests(bodies: &[Vec<u8>]) -> Vec<seaworthy::webhook::admission::AdmissionRequest> {
    bodies
        .iter()
        .map(|b| {
            let review: serde_json::Value = serde_json::from_slice(b).expect("json");
            serde_json::from_value(review["request"].clone()).expect("request")
        })
        .collect()
}

/// A reviewer with the built-in rules and `config`'s settings.
fn reviewer(config: &seaworthy::config::Config) -> seaworthy::webhook::review::Reviewer {
    use seaworthy::webhook::review::{Policy, Reviewer};
    let catalog = seaworthy::engine::Catalog::load(&[]).expect("policies");
    Reviewer::new(
        catalog,
        config,
        Policy::default(),
        seaworthy::engine::Backend::Rvm,
    )
    .expect("compiles")
}

/// Mean time of one review over `rounds` reviews of the requests in turn.
fn time_reviews(
    reviewer: &seaworthy::webhook::review::Reviewer,
    requests: &[seaworthy::webhook::admission::AdmissionRequest],
    rounds: u64,
) -> Duration {
    let snapshot = seaworthy::webhook::snapshot::Snapshot::disabled();
    let started = Instant::now();
    for i in 0..rounds {
        let deadline = Some(Instant::now() + Duration::from_secs(2));
        let verdict = reviewer.review(&requests[i as usize % requests.len()], &snapshot, deadline);
        std::hint::black_box(verdict);
    }
    started.elapsed() / rounds.max(1) as u32
}

/// The decision alone, in this process, without HTTP or TLS: what one review costs in CPU.
fn decision_cost(bodies: &[Vec<u8>], rounds: u64, disable: &[String]) {
    let mut config = seaworthy::config::Config::default();
    for id in disable {
        config.rules.insert(
            id.clone(),
            seaworthy::config::RuleConfig {
                enabled: Some(false),
                ..Default::default()
            },
        );
    }
    let reviewer = reviewer(&config);
    let each = time_reviews(&reviewer, &requests(bodies), rounds);
    println!(
        "decision only (1 thread, no HTTP): {:.3} ms per review, {:.0} reviews/s",
        each.as_secs_f64() * 1000.0,
        1.0 / each.as_secs_f64()
    );
}

/// What each rule adds to the decision: the decision with that rule alone enabled, less the
/// decision with no rule enabled (decoding, conversion, the context), costliest first.
fn rule_costs(bodies: &[Vec<u8>], rounds: u64) {
    use seaworthy::config::{Config, RuleConfig};
    let requests = requests(bodies);
    let catalog = seaworthy::engine::Catalog::load(&[]).expect("policies");
    let ids: Vec<String> = catalog.rules.iter().map(|r| r.meta.id.clone()).collect();
    let only = |enabled: Option<&str>| {
        let mut config = Config::default();
        for id in &ids {
            config.rules.insert(
                id.clone(),
                RuleConfig {
                    enabled: Some(Some(id.as_str()) == enabled),
                    ..RuleConfig::default()
                },
            );
        }
        config
    };
    let base = time_reviews(&reviewer(&only(None)), &requests, rounds);
    let mut costs: Vec<(f64, &str)> = ids
        .iter()
        .map(|id| {
            let each = time_reviews(&reviewer(&only(Some(id))), &requests, rounds);
            (
                each.as_secs_f64() * 1e6 - base.as_secs_f64() * 1e6,
                id.as_str(),
            )
        })
        .collect();
    costs.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!(
        "no rule enabled: {:.1} us per review",
        base.as_secs_f64() * 1e6
    );
    let total: f64 = costs.iter().map(|c| c.0).sum();
    for (us, id) in &costs {
        println!("{us:8.1} us  {id}");
    }
    println!("{total:8.1} us  sum of the rules alone");
}

fn main() {
    let args = args();
    let bodies = bodies(&args.fixtures);
    if args.rule_costs {
        rule_costs(&bodies, args.decision_rounds);
        return;
    }
    decision_cost(&bodies, args.decision_rounds, &args.disable);
    if args.decision_only {
        return;
    }
    // The rules left out of the decision are left out of the served ones too, by a config file.
    let (config_args, files) = if args.disable.is_empty() {
        (vec!["--no-config".to_string()], Vec::new())
    } else {
        let rules: String = args
            .disable
            .iter()
            .map(|rule| format!("  {rule}:\n    enabled: false\n"))
            .collect();
        (
            vec!["--config".to_string(), "seaworthy.yaml".to_string()],
            vec![("seaworthy.yaml", format!("rules:\n{rules}"))],
        )
    };
    let server = Server::start(Options {
        args: config_args
            .into_iter()
            .chain(["--log-format".to_string(), "json".to_string()])
            .collect(),
        files,
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let total = args.rate * args.duration;
    let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
    println!(
        "seaworthy serve load: {} reviews/s for {} s over {} keep-alive HTTPS connections ({} requests)",
        args.rate, args.duration, args.connections, total
    );
    let server_pid = server.child.id().to_string();
    let cpu_before = (cpu_seconds(&server_pid), cpu_seconds("self"));
    let (latencies, errors, elapsed) = runtime.block_on(async {
        // Warm up: every connection's handshake and a first review each.
        let mut conns = Vec::new();
        for _ in 0..args.connections {
            let mut conn = server.connect().await.expect("connect");
            let (status, _) = conn.review(bodies[0].clone()).await;
            assert_eq!(status, 200);
            conns.push(conn);
        }
        let start = Instant::now() + Duration::from_millis(100);
        let mut tasks = Vec::new();
        for (k, mut conn) in conns.into_iter().enumerate() {
            let bodies = bodies.clone();
            let connections = args.connections;
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                let mut i = k as u64;
                while i < total {
                    let due = start + interval.mul_f64(i as f64);
                    // A request that could not go out on time because this connection was still
                    // waiting for an earlier answer counts from when it was due: the server's
                    // delay. One sent from an idle connection counts from when it was sent:
                    // tokio's timer wakes up to a millisecond late, and that is the client's.
                    let busy_past_due = Instant::now() > due;
                    tokio::time::sleep_until(due.into()).await;
                    let sent = if busy_past_due { due } else { Instant::now() };
                    let body = bodies[(i as usize) % bodies.len()].clone();
                    match conn.post("/validate", "application/json", body).await {
                        Ok((200, _)) => latencies.push(sent.elapsed()),
                        _ => errors += 1,
                    }
                    i += connections;
                }
                (latencies, errors)
            }));
        }
        let mut latencies = Vec::new();
        let mut errors = 0;
        for task in tasks {
            let (l, e) = task.await.expect("client task");
            latencies.extend(l);
            errors += e;
        }
        (latencies, errors, start.elapsed())
    });
    let cpu_after = (cpu_seconds(&server_pid), cpu_seconds("self"));
    let mut sorted = latencies;
    sorted.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("completed:   {} ok, {} errors", sorted.len(), errors);
    println!(
        "throughput:  {:.0} reviews/s",
        sorted.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency:     p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
        ms(percentile(&sorted, 50.0)),
        ms(percentile(&sorted, 99.0)),
        ms(percentile(&sorted, 99.9)),
        ms(sorted.last().copied().unwrap_or_default())
    );
    // The server's own view: time from a request's arrival to its answer, from its log lines,
    // which it writes out in batches: the last batch first.
    std::thread::sleep(seaworthy::webhook::log_writer::FLUSH_INTERVAL * 4);
    let mut server_side: Vec<Duration> = server
        .log
        .lock()
        .expect("log")
        .iter()
        .filter_map(|line| {
            let at = line.find("\"duration_ms\":")? + "\"duration_ms\":".len();
            let number: String = line[at..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            number
                .parse::<f64>()
                .ok()
                .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        })
        .collect();
    server_side.sort_unstable();
    println!(
        "server-side: p50 {:.2} ms, p99 {:.2} ms (arrival to answer, from its logs)",
        ms(percentile(&server_side, 50.0)),
        ms(percentile(&server_side, 99.0))
    );
    if let ((Some(s0), Some(c0)), (Some(s1), Some(c1))) = (cpu_before, cpu_after) {
        let per_review = |seconds: f64| seconds * 1e6 / sorted.len().max(1) as f64;
        println!(
            "cpu:         server {:.0} us per review ({:.2} cores), client {:.0} us per review",
            per_review(s1 - s0),
            (s1 - s0) / elapsed.as_secs_f64(),
            per_review(c1 - c0)
        );
    }
    match peak_rss_kib(server.child.id()) {
        Some(kib) => println!("server peak RSS: {:.1} MiB", kib as f64 / 1024.0),
        None => println!("server peak RSS: unknown (no /proc)"),
    }
}
