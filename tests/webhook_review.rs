//! The webhook's decision without HTTP: cross-object rules with a cluster inventory injected in
//! the test, and the reflectors that fill it, run against a mocked Kubernetes API (tower-test).

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::{json, Value};

use seaworthy::config::{Action, Config};
use seaworthy::engine::{Backend, Catalog};
use seaworthy::webhook::admission::AdmissionRequest;
use seaworthy::webhook::cluster::{self, ClusterCache};
use seaworthy::webhook::metrics::Metrics;
use seaworthy::webhook::review::{Decision, Policy, Reviewer, Verdict};
use seaworthy::webhook::snapshot::Snapshot;

fn reviewer(cluster_context: bool) -> Reviewer {
    let catalog = Catalog::load(&[]).expect("built-in policies");
    let policy = Policy {
        cluster_context,
        ..Policy::default()
    };
    Reviewer::new(catalog, &Config::default(), policy, Backend::Rvm).expect("compiles")
}

fn deployment() -> Value {
    let fixture = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/admission/deployment-create-pass.json"),
    )
    .expect("fixture");
    let review: Value = serde_json::from_slice(&fixture).expect("json");
    review["request"]["object"].clone()
}

fn request(operation: &str, object: &Value, old: Option<&Value>) -> AdmissionRequest {
    let kind = object["kind"].as_str().unwrap_or_default();
    let (group, version) = match object["apiVersion"]
        .as_str()
        .unwrap_or_default()
        .split_once('/')
    {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (
            String::new(),
            object["apiVersion"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ),
    };
    serde_json::from_value(json!({
        "uid": "test",
        "kind": {"group": group, "version": version, "kind": kind},
        "namespace": object["metadata"]["namespace"],
        "name": object["metadata"]["name"],
        "operation": operation,
        "object": object,
        "oldObject": old,
    }))
    .expect("request")
}

fn pdb(name: &str, app: &str) -> Value {
    json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
           "metadata": {"name": name, "namespace": "shop"},
           "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": app}}}})
}

fn network_policies() -> Vec<Value> {
    vec![
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": "default-deny", "namespace": "shop"},
               "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": "api", "namespace": "shop"},
               "spec": {"podSelector": {"matchLabels": {"app": "api"}}, "policyTypes": ["Ingress"],
                        "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]}}),
    ]
}

fn rules_of(verdict: &Verdict) -> Vec<(String, Action)> {
    verdict
        .findings
        .iter()
        .map(|j| (j.finding.rule.clone(), j.action))
        .collect()
}

#[test]
fn cross_object_rules_read_the_injected_inventory() {
    let reviewer = reviewer(true);
    let deployment = deployment();

    // Nothing else in the cluster: the PDB and NetworkPolicy rules speak, and only warn.
    let empty = Snapshot::from_objects(&[]);
    let verdict = reviewer.review(&request("CREATE", &deployment, None), &empty, None);
    let rules = rules_of(&verdict);
    assert!(
        rules.contains(&("missing-pdb".into(), Action::Warn)),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("missing-network-policy".into(), Action::Warn)),
        "{rules:?}"
    );
    assert_eq!(verdict.decision, Decision::Warned);
    assert!(verdict.response.allowed);

    // With its PDB and NetworkPolicies in the cache, the Deployment is clean.
    let mut objects = network_policies();
    objects.push(pdb("api", "api"));
    objects.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}));
    let cluster = Snapshot::from_objects(&objects);
    let verdict = reviewer.review(&request("CREATE", &deployment, None), &cluster, None);
    assert!(verdict.findings.is_empty(), "{:?}", rules_of(&verdict));
    assert_eq!(verdict.decision, Decision::Allowed);

    // The same objects in another namespace do not count.
    let elsewhere: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut o = o.clone();
            o["metadata"]["namespace"] = "other".into();
            o
        })
        .collect();
    let verdict = reviewer.review(
        &request("CREATE", &deployment, None),
        &Snapshot::from_objects(&elsewhere),
        None,
    );
    assert!(rules_of(&verdict).iter().any(|(r, _)| r == "missing-pdb"));

    // A second PDB over the same pods: overlapping-pdbs is an error, but a cross-object rule
    // warns by default (the other PDB may be on its way out).
    objects.push(pdb("api-extra", "api"));
    let verdict = reviewer.review(
        &request("CREATE", &deployment, None),
        &Snapshot::from_objects(&objects),
        None,
    );
    let rules = rules_of(&verdict);
    assert!(
        rules.contains(&("overlapping-pdbs".into(), Action::Warn)),
        "{rules:?}"
    );
    assert!(verdict.response.allowed);
}

#[test]
fn a_reviewed_object_replaces_its_cached_version_and_complete_rules_stay_off() {
    let reviewer = reviewer(true);
    // An UPDATE of the PDB to select nothing in the cache: judged as it will be. pdb-selects-nothing
    // needs every workload of the cluster, which the cache does not hold: it stays off.
    let cluster = Snapshot::from_objects(&[pdb("api", "api")]);
    let new = pdb("api", "nobody");
    let verdict = reviewer.review(
        &request("UPDATE", &new, Some(&pdb("api", "api"))),
        &cluster,
        None,
    );
    assert!(
        !rules_of(&verdict)
            .iter()
            .any(|(r, _)| r == "pdb-selects-nothing"),
        "{:?}",
        rules_of(&verdict)
    );
    assert!(reviewer
        .skipped_rules
        .iter()
        .any(|(id, _)| id == "pdb-selects-nothing"));
    // The Deployment sees the PDB in its cached version (selecting it).
    let verdict = reviewer.review(&request("CREATE", &deployment(), None), &cluster, None);
    assert!(!rules_of(&verdict).iter().any(|(r, _)| r == "missing-pdb"));
}

#[test]
fn without_cluster_context_cross_object_rules_are_off() {
    let reviewer = reviewer(false);
    let verdict = reviewer.review(
        &request("CREATE", &deployment(), None),
        &Snapshot::disabled(),
        None,
    );
    assert!(verdict.findings.is_empty(), "{:?}", rules_of(&verdict));
    let skipped: Vec<&str> = reviewer
        .skipped_rules
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    for id in [
        "missing-pdb",
        "missing-network-policy",
        "overlapping-pdbs",
        "pdb-selects-nothing",
    ] {
        assert!(skipped.contains(&id), "{id} in {skipped:?}");
    }
    // Rules about the object alone still run.
    let mut privileged = deployment();
    privileged["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] =
        true.into();
    let verdict = reviewer.review(
        &request("CREATE", &privileged, None),
        &Snapshot::disabled(),
        None,
    );
    assert_eq!(verdict.decision, Decision::Denied);
}

/// Answers the reflectors' list and watch calls like the API server would: lists from `lists`
/// (by resource path), and every watch gets the `events` for its path, then ends (the watcher
/// reconnects, as it does when the API server closes a watch).
async fn fake_api(
    mut handle: tower_test::mock::Handle<
        http::Request<kube::client::Body>,
        http::Response<Full<Bytes>>,
    >,
    lists: Vec<(&'static str, Vec<Value>)>,
    events: Vec<(&'static str, Value)>,
) {
    while let Some((request, respond)) = handle.next_request().await {
        let path = request.uri().path().to_string();
        let query = request.uri().query().unwrap_or_default().to_string();
        // A cluster without Cilium: its kinds are not served.
        if path.starts_with("/apis/cilium.io/") {
            let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                "reason": "NotFound", "code": 404, "message": "the server could not find the requested resource"});
            respond.send_response(
                http::Response::builder()
                    .status(404)
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(status.to_string())))
                    .expect("response"),
            );
            continue;
        }
        let body = if query.contains("watch=true") {
            let mut lines = String::new();
            for (p, object) in &events {
                if *p == path {
                    lines.push_str(&json!({"type": "ADDED", "object": object}).to_string());
                    lines.push('\n');
                }
            }
            // Slow the reconnect loop down a little.
            tokio::time::sleep(Duration::from_millis(50)).await;
            lines
        } else {
            let items = lists
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, items)| items.clone())
                .unwrap_or_default();
            json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": "1"}, "items": items})
                .to_string()
        };
        respond.send_response(
            http::Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body)))
                .expect("response"),
        );
    }
}

#[tokio::test]
async fn reflectors_fill_the_cache_from_list_and_watch() {
    let (service, handle) =
        tower_test::mock::pair::<http::Request<kube::client::Body>, http::Response<Full<Bytes>>>();
    let policies = network_policies();
    let with_version = |mut o: Value| {
        o["metadata"]["resourceVersion"] = "2".into();
        o
    };
    tokio::spawn(fake_api(
        handle,
        vec![
            (
                "/apis/policy/v1/poddisruptionbudgets",
                vec![with_version(pdb("api", "api"))],
            ),
            (
                "/api/v1/namespaces",
                vec![with_version(json!({"metadata": {"name": "shop"}}))],
            ),
        ],
        vec![
            (
                "/apis/networking.k8s.io/v1/networkpolicies",
                with_version(policies[0].clone()),
            ),
            (
                "/apis/networking.k8s.io/v1/networkpolicies",
                with_version(policies[1].clone()),
            ),
        ],
    ));
    let client = kube::Client::new(service, "default");
    let cache = Arc::new(ClusterCache::new(Snapshot::disabled(), false));
    let metrics = Arc::new(Metrics::new());
    assert!(!cache.is_synced());
    let reviewer = reviewer(true);
    let kinds = cluster::watched_kinds(&reviewer.evaluator);
    assert!(
        kinds.iter().any(|k| k.kind == "CiliumNetworkPolicy"),
        "the network rules read Cilium policies: {kinds:?}"
    );
    tokio::time::timeout(
        Duration::from_secs(20),
        cluster::start(client, cache.clone(), metrics.clone(), kinds.clone()),
    )
    .await
    .expect("every resource lists and syncs, or is not served");
    assert!(cache.is_synced());
    let encoded = metrics.encode();
    for plural in kinds.iter().map(|k| k.plural()) {
        assert!(
            encoded.contains(&format!(
                "seaworthy_cache_synced{{resource=\"{plural}\"}} 1"
            )),
            "{plural}: {encoded}"
        );
    }

    // The watch events arrive after the lists: wait until both policies are in the snapshot.
    let started = Instant::now();
    while cache.snapshot().len() < 4 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "watch events never reached the snapshot ({} objects)",
            cache.snapshot().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let snapshot = cache.snapshot();
    assert!(snapshot.enabled);
    let verdict = reviewer.review(&request("CREATE", &deployment(), None), &snapshot, None);
    assert!(
        verdict.findings.is_empty(),
        "PDB from the list and NetworkPolicies from the watch count: {:?}",
        rules_of(&verdict)
    );
}
