//! Cost-weighted evaluation slots, against the real `seaworthy serve` on 127.0.0.1: an object
//! takes one slot per 25 containers, so a large object holds the slots its work needs and a
//! 1-container Pod arriving meanwhile waits for one, while an object within one slot's worth
//! leaves the other slot free. And where an evaluation runs: on the worker thread, or moved to
//! an evaluation thread when it takes longer.

mod common;

use std::time::{Duration, Instant};

use common::https::{deployment_with_containers, fixture, Options, Server};

/// Spins until the deadline on a workload of 20 containers or more; quick on anything else.
const SPIN_ON_LARGE: &str = r#"# What it does: spins on large workloads, to test evaluation slots.
# Why: evaluation cost grows with containers.
# Example:
#   kind: Deployment
# Fix: nothing.
package seaworthy.rules.test.spin_on_large

import rego.v1

metadata := {
	"id": "spin-on-large",
	"area": "test",
	"severity": "error",
	"kinds": ["Pod", "Deployment"],
	"summary": "Spins on large workloads",
	"remediation": "Do nothing.",
}

violations contains v if {
	count(input.workload.containers) >= 20
	total := count({x | some i in numbers.range(1, 100000); some j in numbers.range(1, 100000); x := i * j})
	total < 0
	v := {"msg": "never", "path": []}
}
"#;

/// How long a 1-container Pod takes while a Deployment of `containers` containers spins in
/// evaluation on a server with two slots and a 2 s budget.
async fn pod_latency_beside(containers: usize) -> Duration {
    let server = Server::start(Options {
        args: [
            "--no-config",
            "--policies",
            "spin",
            "--max-concurrency",
            "2",
            "--eval-timeout",
            "2s",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect(),
        files: vec![("spin/spin.rego", SPIN_ON_LARGE.to_string())],
    });
    let mut large = server.connect().await.expect("connect");
    let mut small = server.connect().await.expect("connect");
    let spinning = tokio::spawn(async move {
        large
            .review(deployment_with_containers(
                "deployment-create-pass.json",
                containers,
            ))
            .await
    });
    server.wait_for(
        "the large object in evaluation",
        Duration::from_secs(10),
        || server.metric("seaworthy_in_flight_reviews") >= 1.0,
    );
    let started = Instant::now();
    let (status, review) = small.review(fixture("pod-create-pass.json")).await;
    let took = started.elapsed();
    assert_eq!(status, 200, "{review}");
    let (status, review) = spinning.await.expect("large request");
    assert_eq!(status, 200, "{review}");
    assert!(
        review.to_string().contains("time budget"),
        "the large object spins to its deadline: {review}"
    );
    // A custom policy may hold a thread for seconds in one builtin call: what it judges is never
    // evaluated on a worker thread (see the test below for what is), so nothing was moved.
    assert_eq!(server.metric("seaworthy_evaluations_moved_total"), 0.0);
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_object_holds_the_slots_its_work_needs() {
    let beside_20 = pod_latency_beside(20).await;
    assert!(
        beside_20 < Duration::from_millis(1000),
        "20 containers take one slot of two: the Pod runs at once ({beside_20:?})"
    );
    let beside_30 = pod_latency_beside(30).await;
    assert!(
        beside_30 > Duration::from_millis(1000),
        "30 containers take both slots: the Pod waits for the large object's deadline \
         ({beside_30:?})"
    );
}

/// What only built-in rules judge, within one slot, starts on the worker thread that read it; an
/// object that takes longer there than its share (24 containers of 400 environment variables
/// each: about 65 ms in a release build, far more than the 20 ms) starts over on an evaluation
/// thread and gets its verdict, not a failure; a small Pod after it stays on its worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evaluation_that_outruns_the_worker_thread_moves_and_still_gets_its_verdict() {
    let server = Server::start(Options {
        args: [
            "--no-config",
            "--eval-timeout",
            "20s",
            "--failure-mode",
            "deny",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect(),
        files: Vec::new(),
    });
    let mut review: serde_json::Value = serde_json::from_slice(&deployment_with_containers(
        "deployment-create-pass.json",
        24,
    ))
    .expect("json");
    for container in review["request"]["object"]["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .expect("containers")
    {
        container["env"] = (0..400)
            .map(|i| serde_json::json!({"name": format!("VAR_{i}"), "value": format!("v{i}")}))
            .collect();
    }
    let mut conn = server.connect().await.expect("connect");
    let (status, answer) = conn
        .review(serde_json::to_vec(&review).expect("json"))
        .await;
    assert_eq!(status, 200, "{answer}");
    let text = answer.to_string();
    assert!(
        !text.contains("could not check"),
        "a verdict, not the failure mode's: {text}"
    );
    assert_eq!(answer["response"]["allowed"], true, "{text}");
    assert_eq!(server.metric("seaworthy_evaluations_moved_total"), 1.0);
    let (status, answer) = conn.review(fixture("pod-create-pass.json")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    assert_eq!(server.metric("seaworthy_evaluations_moved_total"), 1.0);
}
