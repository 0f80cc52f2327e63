//! The built-in exemption profiles of `.seaworthy.yaml` (`profiles: [node-infrastructure]`).

mod common;

use seaworthy::config::{Config, NODE_INFRASTRUCTURE_RULES};
use seaworthy::engine::Catalog;

fn active_rules(outcome: &seaworthy::lint::Outcome, object: &str) -> Vec<String> {
    let mut rules: Vec<String> = outcome
        .active()
        .filter(|f| {
            f.object
                .as_ref()
                .is_some_and(|o| o.name.as_deref() == Some(object))
        })
        .map(|f| f.rule.clone())
        .collect();
    rules.sort();
    rules.dedup();
    rules
}

#[test]
fn node_infrastructure_lifts_host_access_rules_from_node_level_daemonsets_only() {
    let file = common::root().join("fixtures/profiles/node-agents.yaml");
    let plain = common::lint(&[&file]);
    let config = Config::parse("c.yaml", "profiles: [node-infrastructure]\n").expect("parses");
    let profiled = common::lint_with(&config, &[&file]);

    let before = active_rules(&plain, "cni-agent");
    for rule in [
        "host-namespaces",
        "privileged-container",
        "host-path-volume",
        "dangerous-capabilities",
    ] {
        assert!(
            before.contains(&rule.to_string()),
            "{rule} flags the agent without the profile: {before:?}"
        );
    }
    let after = active_rules(&profiled, "cni-agent");
    for rule in NODE_INFRASTRUCTURE_RULES {
        assert!(
            !after.contains(&rule.to_string()),
            "{rule} still active with the profile: {after:?}"
        );
    }
    for rule in [
        "missing-liveness-probe",
        "missing-memory-limit",
        "missing-seccomp-profile",
    ] {
        assert!(
            after.contains(&rule.to_string()),
            "{rule} is not a host-access rule and stays: {after:?}"
        );
    }
    let suppressed = profiled
        .findings
        .iter()
        .filter(|f| {
            f.suppressed
                .as_deref()
                .is_some_and(|r| r.contains("node-infrastructure"))
        })
        .count();
    assert!(suppressed >= 4, "suppressed findings are kept and say why");

    assert_eq!(
        active_rules(&plain, "log-collector"),
        active_rules(&profiled, "log-collector"),
        "a DaemonSet without host network, host PID or privileges is not node-level infrastructure"
    );
}

#[test]
fn every_rule_the_profile_names_exists() {
    let catalog = Catalog::load(&[]).expect("built-in policies load");
    for rule in NODE_INFRASTRUCTURE_RULES {
        assert!(catalog.rule(rule).is_some(), "{rule} is not a rule");
    }
}
