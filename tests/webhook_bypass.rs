//! Ways around the webhook, tried as a pod author would, against the real `seaworthy serve` on
//! 127.0.0.1 over HTTPS: the requester writes every field of the object (annotations, owner
//! references) and can create objects while the webhook is away. Each test is a sequence an
//! attacker (or a careless team) would try, and the verdict the webhook must give.

mod common;

use common::https::{denial, fixture, response, warnings, Options, Server};
use serde_json::{json, Value};

fn start(args: &[&str]) -> Server {
    Server::start(Options {
        args: args.iter().map(|a| a.to_string()).collect(),
        files: Vec::new(),
    })
}

fn body(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).expect("fixture JSON")
}

fn bytes(review: &Value) -> Vec<u8> {
    serde_json::to_vec(review).expect("JSON")
}

const REPLICASET_CONTROLLER: &str = "system:serviceaccount:kube-system:replicaset-controller";

/// The privileged Pod of `pod-create-denied.json`, claiming a ReplicaSet as its controller.
fn forged_pod(user: &str) -> Value {
    let mut review = body("pod-create-denied.json");
    review["request"]["object"]["metadata"]["ownerReferences"] = json!([{
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "name": "api-7d9f8",
        "uid": "0b4c2a1e-0000-4000-8000-000000000001",
        "controller": true,
        "blockOwnerDeletion": true
    }]);
    review["request"]["userInfo"]["username"] = user.into();
    review
}

#[tokio::test]
async fn the_ignore_annotation_excuses_nothing_in_serve_by_default() {
    let server = start(&["--no-config"]);
    let mut conn = server.connect().await.expect("connect");
    let mut review = body("pod-create-denied.json");
    review["request"]["object"]["metadata"]["annotations"] = json!({
        "seaworthy.dev/ignore": "*",
        "seaworthy.dev/ignore-reason": "trust me"
    });
    let (_, answer) = conn.review(bytes(&review)).await;
    let r = response(&answer);
    assert_eq!(r["allowed"], false, "{r}");
    assert!(denial(r).contains("[privileged-container]"), "{r}");

    // Only an explicit choice in the config turns it on.
    let config = "serve:\n  allow_annotation_suppression: true\n";
    let trusting = Server::start(Options {
        args: vec!["--config".into(), "seaworthy.yaml".into()],
        files: vec![("seaworthy.yaml", config.to_string())],
    });
    let mut conn = trusting.connect().await.expect("connect");
    let (_, answer) = conn.review(bytes(&review)).await;
    assert_eq!(response(&answer)["allowed"], true, "{answer}");
}

#[tokio::test]
async fn a_forged_owner_reference_does_not_skip_review() {
    let server = start(&["--no-config"]);
    let mut conn = server.connect().await.expect("connect");

    // A user who writes a controller owner on a privileged Pod is judged like anyone else.
    let (_, answer) = conn.review(bytes(&forged_pod("alice@example.com"))).await;
    let r = response(&answer);
    assert_eq!(
        r["allowed"], false,
        "forged owner must not skip review: {r}"
    );
    assert!(denial(r).contains("[privileged-container]"), "{r}");

    // So is a controller identity creating an object with no controller owner.
    let mut no_owner = body("pod-create-denied.json");
    no_owner["request"]["userInfo"]["username"] = REPLICASET_CONTROLLER.into();
    let (_, answer) = conn.review(bytes(&no_owner)).await;
    assert_eq!(response(&answer)["allowed"], false, "{answer}");

    // The ReplicaSet controller making a Pod from its (judged) template is not judged again.
    let (_, answer) = conn.review(bytes(&forged_pod(REPLICASET_CONTROLLER))).await;
    let r = response(&answer);
    assert_eq!(r["allowed"], true, "{r}");
    assert!(warnings(r).is_empty(), "skipped, not evaluated: {r}");
    server.wait_for(
        "the skip in the log",
        std::time::Duration::from_secs(5),
        || {
            server
                .logs()
                .lines()
                .any(|l| l.contains("decision=skipped") && l.contains(REPLICASET_CONTROLLER))
        },
    );

    // The configured list replaces the default: Argo Rollouts' controller, and no one else.
    let config = "serve:\n  controller_users: [\"system:serviceaccount:argo-rollouts:*\"]\n";
    let custom = Server::start(Options {
        args: vec!["--config".into(), "seaworthy.yaml".into()],
        files: vec![("seaworthy.yaml", config.to_string())],
    });
    let mut conn = custom.connect().await.expect("connect");
    let (_, answer) = conn
        .review(bytes(&forged_pod(
            "system:serviceaccount:argo-rollouts:argo-rollouts",
        )))
        .await;
    assert_eq!(response(&answer)["allowed"], true, "{answer}");
    let (_, answer) = conn.review(bytes(&forged_pod(REPLICASET_CONTROLLER))).await;
    assert_eq!(response(&answer)["allowed"], false, "{answer}");
}

/// An UPDATE of `deployment-update-ratchet.json`'s old object (privileged, never judged: created
/// while the webhook was away) with `change` applied to the new object.
fn update_of_unjudged(change: impl FnOnce(&mut Value)) -> Value {
    let mut review = body("deployment-update-ratchet.json");
    let old = review["request"]["oldObject"].clone();
    let mut new = old.clone();
    change(&mut new);
    review["request"]["object"] = new;
    review
}

#[tokio::test]
async fn an_object_never_judged_carries_its_violations_only_through_fields_the_update_leaves_alone()
{
    let server = start(&["--no-config"]);
    let mut conn = server.connect().await.expect("connect");

    // A metadata-only update (a label) leaves the pod template alone: allowed, and the warning
    // says the privileged container would be denied.
    let labelled = update_of_unjudged(|new| {
        new["metadata"]["labels"] = json!({"team": "shop"});
    });
    let (_, answer) = conn.review(bytes(&labelled)).await;
    let r = response(&answer);
    assert_eq!(r["allowed"], true, "{r}");
    let first = warnings(r).first().cloned().unwrap_or_default();
    assert!(
        first.contains("privileged-container") && first.contains("would deny"),
        "the would-deny finding comes first: {r}"
    );

    // Touching the privileged container (a new image) judges it in full: denied.
    let new_image = update_of_unjudged(|new| {
        new["spec"]["template"]["spec"]["containers"][0]["image"] =
            "registry.example.com/shop/api:1.0.4".into();
    });
    let (_, answer) = conn.review(bytes(&new_image)).await;
    let r = response(&answer);
    assert_eq!(r["allowed"], false, "{r}");
    assert!(denial(r).contains("[privileged-container]"), "{r}");

    // So does changing the offending field itself, even to another violating value.
    let still_privileged = update_of_unjudged(|new| {
        let security = &mut new["spec"]["template"]["spec"]["containers"][0]["securityContext"];
        security["privileged"] = true.into();
        security["allowPrivilegeEscalation"] = true.into();
        security["capabilities"] = json!({"drop": ["ALL"], "add": ["SYS_ADMIN"]});
    });
    let (_, answer) = conn.review(bytes(&still_privileged)).await;
    assert_eq!(response(&answer)["allowed"], false, "{answer}");
}

#[tokio::test]
async fn the_ratchet_holds_back_only_denials_the_old_object_had_in_parts_the_update_leaves_alone() {
    let server = start(&["--no-config"]);
    let mut conn = server.connect().await.expect("connect");

    // Relabelled, with a second privileged container added: the old container's denial is held
    // back, the new container's is not, though both are the same rule's. (The old object is
    // asked only about the rules that would deny; its findings must still match one by one.)
    let added = update_of_unjudged(|new| {
        new["metadata"]["labels"] = json!({"team": "shop"});
        let containers = &mut new["spec"]["template"]["spec"]["containers"];
        let mut second = containers[0].clone();
        second["name"] = "helper".into();
        if let Some(list) = containers.as_array_mut() {
            list.push(second);
        }
    });
    let (_, answer) = conn.review(bytes(&added)).await;
    let r = response(&answer);
    assert_eq!(r["allowed"], false, "{r}");
    let message = denial(r);
    assert!(
        message.contains("[privileged-container] container \"helper\""),
        "{message}"
    );
    assert!(
        !message.contains("(and 1 more)"),
        "only the new container: {message}"
    );
    assert!(
        warnings(r)
            .iter()
            .any(|w| w.contains("privileged-container")
                && w.contains("\"api\"")
                && w.contains("already there before this update")),
        "{r}"
    );

    // A warning the old object had too is a warning, not something that "would deny".
    let labelled = update_of_unjudged(|new| {
        new["metadata"]["labels"] = json!({"team": "shop"});
    });
    let (_, answer) = conn.review(bytes(&labelled)).await;
    let r = response(&answer);
    assert_eq!(r["allowed"], true, "{r}");
    let escalation: Vec<String> = warnings(r)
        .into_iter()
        .filter(|w| w.contains("privilege-escalation-allowed"))
        .collect();
    assert_eq!(escalation.len(), 1, "{r}");
    assert!(!escalation[0].contains("would deny"), "{escalation:?}");
}

/// A Deployment of `count` containers without readiness probes, one of them privileged.
fn wide_deployment(count: usize, mode: &str) -> (Server, Value) {
    let mut review = body("deployment-create-pass.json");
    let template = review["request"]["object"]["spec"]["template"]["spec"]["containers"][0].clone();
    let containers: Vec<Value> = (0..count)
        .map(|i| {
            let mut c = template.clone();
            c["name"] = format!("c{i}").into();
            c.as_object_mut().map(|o| o.remove("readinessProbe"));
            if i == count - 1 {
                c["securityContext"]["privileged"] = true.into();
                c["securityContext"]["allowPrivilegeEscalation"] = true.into();
            }
            c
        })
        .collect();
    review["request"]["object"]["spec"]["template"]["spec"]["containers"] = containers.into();
    (start(&["--no-config", "--mode", mode]), review)
}

#[tokio::test]
async fn a_denial_names_every_denying_rule_however_many_findings_one_rule_has() {
    let (server, review) = wide_deployment(200, "enforce");
    let mut conn = server.connect().await.expect("connect");
    let (_, answer) = conn.review(bytes(&review)).await;
    let r = response(&answer);
    assert_eq!(r["allowed"], false, "{r}");
    let message = denial(r);
    assert!(message.contains("[privileged-container]"), "{message}");
    assert!(message.contains("[missing-readiness-probe]"), "{message}");
    assert!(message.contains("(and 199 more)"), "{message}");
    assert!(message.lines().count() < 20, "one line per rule: {message}");
}

#[tokio::test]
async fn in_warn_mode_what_would_deny_comes_first_and_repeats_are_grouped() {
    let (server, review) = wide_deployment(40, "warn");
    let mut conn = server.connect().await.expect("connect");
    let (_, answer) = conn.review(bytes(&review)).await;
    let r = response(&answer);
    assert_eq!(r["allowed"], true, "{r}");
    let warnings = warnings(r);
    let would_deny: Vec<usize> = warnings
        .iter()
        .enumerate()
        .filter(|(_, w)| w.contains("would deny"))
        .map(|(i, _)| i)
        .collect();
    assert!(!would_deny.is_empty(), "{warnings:#?}");
    assert_eq!(
        would_deny,
        (0..would_deny.len()).collect::<Vec<_>>(),
        "would-deny warnings first: {warnings:#?}"
    );
    assert!(
        warnings[..would_deny.len()]
            .iter()
            .any(|w| w.contains("privileged-container")),
        "{warnings:#?}"
    );
    let readiness: Vec<&String> = warnings
        .iter()
        .filter(|w| w.contains("missing-readiness-probe"))
        .collect();
    assert_eq!(readiness.len(), 1, "grouped: {warnings:#?}");
    assert!(readiness[0].contains("(and 39 more)"), "{warnings:#?}");
}
