//! The Helm chart (`charts/seaworthy`), rendered by the real Helm SDK — helm-python-sdk, Helm's Go
//! SDK behind a C ABI, driven by `tests/helm_sdk.py` — then checked object by object, linted by
//! seaworthy itself (it must practise what it preaches) and by Helm's own linter.
//!
//! Needs `python3` with `helm-python-sdk` (`scripts/test` installs the pinned version). Without them these
//! tests fail with the command to run; they never skip.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use seaworthy::manifest::{self, yaml, LoadOptions};
use serde_json::{json, Value};

const RELEASE: &str = "seaworthy";
const NAMESPACE: &str = "seaworthy-system";
const SDK_PIN: &str = "helm-python-sdk==0.2.2";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn chart_dir() -> PathBuf {
    root().join("charts/seaworthy")
}

/// Runs `tests/helm_sdk.py` with the chart. A machine without Python or the SDK fails here.
fn helm_sdk(command: &str, values: &Value, extra: &[&str]) -> Output {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let output = Command::new(&python)
        .arg(root().join("tests/helm_sdk.py"))
        .arg(command)
        .arg(chart_dir())
        .args(["--name", RELEASE, "--namespace", NAMESPACE])
        .arg("--values")
        .arg(values.to_string())
        .args(extra)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{python}` ({e}): the chart tests need Python 3 with the Helm SDK \
                 (`pip install {SDK_PIN}`; .ci/run does it)"
            )
        });
    if output.status.code() == Some(3) {
        panic!(
            "the Helm SDK is missing: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    output
}

/// The chart rendered as `helm install` would, parsed back by seaworthy's own manifest loader.
struct Rendered {
    manifest: String,
    notes: String,
    objects: Vec<Value>,
}

impl Rendered {
    fn of_kind(&self, kind: &str) -> Vec<&Value> {
        self.objects.iter().filter(|o| o["kind"] == kind).collect()
    }

    fn one(&self, kind: &str, name: &str) -> &Value {
        self.objects
            .iter()
            .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name:?} in:\n{}", self.inventory()))
    }

    /// `Kind/name` of every object, sorted.
    fn inventory(&self) -> String {
        let mut ids: Vec<String> = self
            .objects
            .iter()
            .map(|o| {
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap_or("?"),
                    o["metadata"]["name"].as_str().unwrap_or("?")
                )
            })
            .collect();
        ids.sort();
        ids.join("\n")
    }

    fn kinds(&self) -> BTreeMap<String, usize> {
        let mut kinds = BTreeMap::new();
        for o in &self.objects {
            *kinds
                .entry(o["kind"].as_str().unwrap_or("?").to_string())
                .or_insert(0) += 1;
        }
        kinds
    }

    fn deployment(&self) -> &Value {
        self.one("Deployment", RELEASE)
    }

    fn container(&self) -> &Value {
        let containers = &self.deployment()["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers.as_array().map(Vec::len), Some(1), "{containers}");
        &containers[0]
    }

    fn webhook(&self) -> &Value {
        let config = self.one("ValidatingWebhookConfiguration", RELEASE);
        let hooks = config["webhooks"].as_array().expect("webhooks");
        assert_eq!(hooks.len(), 1, "{config}");
        &hooks[0]
    }

    /// The `.seaworthy.yaml` in the ConfigMap.
    fn config_text(&self) -> &str {
        self.one("ConfigMap", RELEASE)["data"]["config.yaml"]
            .as_str()
            .expect("ConfigMap data config.yaml")
    }

    fn config(&self) -> Value {
        parse_yaml(self.config_text())
    }

    /// The value of `--flag=value` in the container's args.
    fn arg(&self, flag: &str) -> Option<String> {
        let prefix = format!("{flag}=");
        self.container()["args"]
            .as_array()
            .expect("args")
            .iter()
            .filter_map(Value::as_str)
            .find_map(|a| a.strip_prefix(&prefix).map(str::to_string))
    }

    fn has_flag(&self, flag: &str) -> bool {
        self.container()["args"]
            .as_array()
            .expect("args")
            .iter()
            .any(|a| a == flag)
    }
}

fn parse_yaml(text: &str) -> Value {
    let docs = yaml::parse_str(text, 1, yaml::Limits::default()).expect("valid YAML");
    assert_eq!(docs.len(), 1, "one document expected:\n{text}");
    docs[0].root.as_ref().expect("a document").to_json()
}

fn render_as(values: Value, extra: &[&str]) -> Rendered {
    let output = helm_sdk("render", &values, extra);
    assert!(
        output.status.success(),
        "the chart does not render with {values}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: Value = serde_json::from_slice(&output.stdout).expect("helm_sdk.py answers JSON");
    let manifest = result["manifest"].as_str().expect("manifest").to_string();
    let notes = result["notes"].as_str().expect("notes").to_string();
    let loaded = manifest::load_text("rendered.yaml", &manifest, &LoadOptions::default());
    let problems: Vec<String> = loaded.problems.iter().map(|p| p.message.clone()).collect();
    assert!(
        problems.is_empty(),
        "rendered YAML with problems: {problems:?}\n{manifest}"
    );
    let objects = loaded.objects.iter().map(|o| o.root.to_json()).collect();
    Rendered {
        manifest,
        notes,
        objects,
    }
}

fn render(values: Value) -> Rendered {
    render_as(values, &[])
}

/// Renders values the chart must refuse; returns Helm's message.
fn render_error(values: Value) -> String {
    let output = helm_sdk("render", &values, &[]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "the chart renders with {values}, which it must refuse (stderr: {})",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn seaworthy(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seaworthy"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the seaworthy binary runs")
}

/// `seaworthy lint` of the rendered chart, as a platform team would run it on `helm template`:
/// every finding (suppressed ones too) and the exit code at --fail-on notice.
fn lint_rendered(rendered: &Rendered) -> (Option<i32>, Vec<Value>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("rendered.yaml");
    std::fs::write(&file, &rendered.manifest).expect("write rendered chart");
    let output = seaworthy(&[
        "lint",
        file.to_str().expect("utf-8 path"),
        "--no-config",
        "--format",
        "json",
        "--fail-on",
        "notice",
        "--show-suppressed",
    ]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "seaworthy lint gave no JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let findings = report["findings"].as_array().expect("findings").clone();
    (output.status.code(), findings)
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_else(|| panic!("not a string: {v}")))
        .collect()
}

fn string_set(value: &Value) -> BTreeSet<&str> {
    strings(value).into_iter().collect()
}

/// The value sets the chart is tested with: the defaults, each TLS mode, the enforcing rollout,
/// and every optional object switched on or off.
fn value_sets() -> Vec<(&'static str, Value)> {
    vec![
        ("defaults", json!({})),
        ("tls cert-manager", json!({"tls": {"mode": "cert-manager"}})),
        (
            "tls cert-manager, existing issuer",
            json!({"tls": {"mode": "cert-manager", "certManager": {"issuerRef": {"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}}}}),
        ),
        (
            "enforce",
            json!({"mode": "enforce", "failurePolicy": "Fail", "replicaCount": 3}),
        ),
        (
            "everything on",
            json!({
                "metrics": {"serviceMonitor": {"enabled": true, "labels": {"release": "kube-prometheus-stack"}}},
                "networkPolicy": {"webhookFrom": [{"ipBlock": {"cidr": "10.0.0.0/16"}}]},
                "exemptNamespaces": ["monitoring"],
                "image": {"digest": format!("sha256:{}", "a".repeat(64))},
                "priorityClassName": "system-cluster-critical",
                "mtls": {"enabled": true, "clientCA": {"secretName": "apiserver-client-ca"}},
            }),
        ),
        (
            "no cluster context",
            json!({"clusterContext": {"enabled": false}}),
        ),
    ]
}

#[test]
fn default_values_install_the_whole_webhook() {
    let r = render(json!({}));
    let expected: BTreeMap<String, usize> = [
        ("ClusterRole", 1),
        ("ClusterRoleBinding", 1),
        ("ConfigMap", 1),
        ("Deployment", 1),
        ("NetworkPolicy", 2),
        ("PodDisruptionBudget", 1),
        ("Secret", 1),
        ("Service", 1),
        ("ServiceAccount", 1),
        ("ValidatingWebhookConfiguration", 1),
    ]
    .into_iter()
    .map(|(k, n)| (k.to_string(), n))
    .collect();
    assert_eq!(r.kinds(), expected, "{}", r.inventory());
    for o in &r.objects {
        let cluster_scoped = [
            "ClusterRole",
            "ClusterRoleBinding",
            "ValidatingWebhookConfiguration",
        ]
        .contains(&o["kind"].as_str().unwrap_or_default());
        if !cluster_scoped {
            assert_eq!(o["metadata"]["namespace"], NAMESPACE, "{o}");
        }
        assert_eq!(
            o["metadata"]["labels"]["app.kubernetes.io/instance"], RELEASE,
            "{o}"
        );
    }
    // Helm's `# Source:` markers are kept, so lint findings name the template.
    assert!(r
        .manifest
        .contains("# Source: seaworthy/templates/deployment.yaml\n"));
    assert!(r.notes.contains("Mode: warn"), "{}", r.notes);
}

#[test]
fn deployment_runs_three_spread_probed_restricted_replicas() {
    let r = render(json!({}));
    let deployment = r.deployment();
    let spec = &deployment["spec"];
    let pod = &spec["template"]["spec"];
    let selector = &spec["selector"]["matchLabels"];
    let pod_labels = &spec["template"]["metadata"]["labels"];
    assert_eq!(spec["replicas"], 3);
    for (key, value) in selector.as_object().expect("matchLabels") {
        assert_eq!(
            &pod_labels[key], value,
            "selector label {key} not on the pods"
        );
    }
    assert_eq!(spec["strategy"]["rollingUpdate"]["maxUnavailable"], 0);

    // Spread over nodes and zones, each constraint selecting the pods themselves.
    let spread = pod["topologySpreadConstraints"].as_array().expect("spread");
    let keys: BTreeSet<&str> = spread
        .iter()
        .map(|c| c["topologyKey"].as_str().expect("topologyKey"))
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["kubernetes.io/hostname", "topology.kubernetes.io/zone"])
    );
    for constraint in spread {
        assert_eq!(&constraint["labelSelector"]["matchLabels"], selector);
        assert_eq!(constraint["maxSkew"], 1);
        assert_eq!(constraint["matchLabelKeys"], json!(["pod-template-hash"]));
        assert_eq!(constraint["nodeTaintsPolicy"], "Honor");
    }

    // Restricted security context.
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], 65532);
    assert_eq!(pod["securityContext"]["runAsGroup"], 65532);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let c = r.container();
    let security = &c["securityContext"];
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault");

    // Requests and limits.
    for field in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            assert!(
                c["resources"][field][resource].is_string(),
                "no {field}.{resource}: {}",
                c["resources"]
            );
        }
    }

    // The image is the chart's appVersion, which is this crate's version; never `latest`.
    let chart = parse_yaml(&std::fs::read_to_string(chart_dir().join("Chart.yaml")).unwrap());
    assert_eq!(chart["appVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        c["image"],
        format!(
            "ghcr.io/seaworthy-dev/seaworthy:{}",
            env!("CARGO_PKG_VERSION")
        )
    );

    // The ports seaworthy serve listens on are the container ports the probes and Service use.
    let ports: BTreeMap<&str, i64> = c["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["containerPort"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(ports, BTreeMap::from([("health", 8080), ("webhook", 8443)]));
    assert_eq!(r.arg("--listen").as_deref(), Some("0.0.0.0:8443"));
    assert_eq!(r.arg("--health-listen").as_deref(), Some("0.0.0.0:8080"));
    for (probe, path) in [
        ("startupProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
        ("livenessProbe", "/healthz"),
    ] {
        assert_eq!(c[probe]["httpGet"]["port"], "health", "{probe}");
        assert_eq!(c[probe]["httpGet"]["path"], path, "{probe}");
    }
    assert_eq!(c["args"][0], "serve");
    // On SIGTERM seaworthy keeps serving for the shutdown delay (readiness failing, clients told
    // to close), then drains; draining ends before the kubelet's SIGKILL.
    assert_eq!(pod["terminationGracePeriodSeconds"], 30);
    assert!(c.get("lifecycle").is_none(), "{c}");
    assert_eq!(r.arg("--shutdown-delay").as_deref(), Some("5s"));
    assert_eq!(r.arg("--shutdown-timeout").as_deref(), Some("23s"));
    let with_sleep = render(json!({"preStopSleepSeconds": 3}));
    assert_eq!(
        with_sleep.container()["lifecycle"]["preStop"]["sleep"]["seconds"],
        3
    );
    assert_eq!(with_sleep.arg("--shutdown-timeout").as_deref(), Some("20s"));
    let message = render_error(
        json!({"terminationGracePeriodSeconds": 10, "shutdownDelaySeconds": 4, "preStopSleepSeconds": 5}),
    );
    assert!(
        message.contains("must exceed preStopSleepSeconds + shutdownDelaySeconds (9)"),
        "{message}"
    );
    assert!(r.has_flag("--cluster-context"));
    assert_eq!(c["env"][0]["name"], "SEAWORTHY_NAMESPACE");
    assert_eq!(
        c["env"][0]["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.namespace"
    );

    // Config and certificate come from the chart's ConfigMap and Secret, mounted where the args say.
    let mounts: BTreeMap<&str, &str> = c["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap(),
                m["mountPath"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        r.arg("--config").unwrap(),
        format!("{}/config.yaml", mounts["config"])
    );
    assert_eq!(
        r.arg("--tls-cert").unwrap(),
        format!("{}/tls.crt", mounts["tls"])
    );
    assert_eq!(
        r.arg("--tls-key").unwrap(),
        format!("{}/tls.key", mounts["tls"])
    );
    let volumes = pod["volumes"].as_array().expect("volumes");
    let volume = |name: &str| volumes.iter().find(|v| v["name"] == name).unwrap();
    assert_eq!(volume("config")["configMap"]["name"], RELEASE);
    assert_eq!(volume("tls")["secret"]["secretName"], "seaworthy-tls");
    // No subPath: a renewed certificate must reach the running pod.
    assert!(c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m.get("subPath").is_none()));

    // The token is mounted because the cluster cache watches the API; the account is bound.
    assert_eq!(pod["automountServiceAccountToken"], true);
    assert_eq!(pod["serviceAccountName"], RELEASE);
    assert_eq!(
        r.one("ServiceAccount", RELEASE)["automountServiceAccountToken"],
        false
    );
}

#[test]
fn pdb_service_and_network_policies_select_the_webhook_pods() {
    let r = render(json!({}));
    let selector = r.deployment()["spec"]["selector"]["matchLabels"].clone();

    let pdb = r.one("PodDisruptionBudget", RELEASE);
    assert_eq!(pdb["spec"]["selector"]["matchLabels"], selector);
    assert_eq!(pdb["spec"]["maxUnavailable"], 1);
    assert!(pdb["spec"].get("minAvailable").is_none());

    let service = r.one("Service", RELEASE);
    assert_eq!(service["spec"]["selector"], selector);
    let ports: BTreeMap<&str, (i64, &str)> = service["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                (
                    p["port"].as_i64().unwrap(),
                    p["targetPort"].as_str().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(
        ports,
        BTreeMap::from([
            ("https-webhook", (443, "webhook")),
            ("http-metrics", (8080, "health"))
        ])
    );

    // A default deny for the namespace, and the webhook's own policy opening its two ports only.
    let deny = r.one("NetworkPolicy", "seaworthy-default-deny");
    assert_eq!(deny["spec"]["podSelector"], json!({}));
    assert_eq!(deny["spec"]["policyTypes"], json!(["Ingress"]));
    assert!(deny["spec"].get("ingress").is_none());
    let policy = r.one("NetworkPolicy", RELEASE);
    assert_eq!(policy["spec"]["podSelector"]["matchLabels"], selector);
    assert_eq!(policy["spec"]["policyTypes"], json!(["Ingress"]));
    let opened: Vec<&str> = policy["spec"]["ingress"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rule| rule["ports"].as_array().unwrap())
        .map(|p| p["port"].as_str().unwrap())
        .collect();
    assert_eq!(opened, ["webhook", "health"]);
    // Metrics only from Prometheus pods by default.
    assert_eq!(
        policy["spec"]["ingress"][1]["from"][0]["podSelector"]["matchLabels"]
            ["app.kubernetes.io/name"],
        "prometheus"
    );

    // Restricting the webhook port's sources drops the suppression that covered the open port.
    let restricted =
        render(json!({"networkPolicy": {"webhookFrom": [{"ipBlock": {"cidr": "10.0.0.0/16"}}]}}));
    let policy = restricted.one("NetworkPolicy", RELEASE);
    assert_eq!(
        policy["spec"]["ingress"][0]["from"],
        json!([{"ipBlock": {"cidr": "10.0.0.0/16"}}])
    );
    assert!(policy["metadata"].get("annotations").is_none(), "{policy}");

    // The API server's addresses as CIDRs: ipBlock sources, before any other peers.
    let cidrs = render(json!({"networkPolicy": {
        "apiServerCIDRs": ["10.0.0.0/24", "fd00::/64"],
        "webhookFrom": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "konnectivity"}}}],
    }}));
    let policy = cidrs.one("NetworkPolicy", RELEASE);
    assert_eq!(
        policy["spec"]["ingress"][0]["from"],
        json!([
            {"ipBlock": {"cidr": "10.0.0.0/24"}},
            {"ipBlock": {"cidr": "fd00::/64"}},
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "konnectivity"}}},
        ])
    );
    assert!(policy["metadata"].get("annotations").is_none(), "{policy}");
    assert!(!cidrs.notes.contains("accepts connections from any source"));
    assert!(
        r.notes.contains("accepts connections from any source"),
        "the open default is said at install: {}",
        r.notes
    );
    let message = render_error(json!({"networkPolicy": {"apiServerCIDRs": ["10.0.0.1"]}}));
    assert!(message.contains("apiServerCIDRs"), "{message}");

    let no_policies = render(json!({"networkPolicy": {"enabled": false}}));
    assert!(no_policies.of_kind("NetworkPolicy").is_empty());
    let no_deny = render(json!({"networkPolicy": {"defaultDeny": false}}));
    assert_eq!(no_deny.of_kind("NetworkPolicy").len(), 1);
}

#[test]
fn rbac_grants_only_reads_of_what_the_cluster_cache_watches() {
    let r = render(json!({}));
    let role = r.one("ClusterRole", RELEASE);
    let mut granted = BTreeSet::new();
    for rule in role["rules"].as_array().unwrap() {
        assert_eq!(
            string_set(&rule["verbs"]),
            BTreeSet::from(["get", "list", "watch"]),
            "{rule}"
        );
        for group in strings(&rule["apiGroups"]) {
            for resource in strings(&rule["resources"]) {
                granted.insert(format!("{group}/{resource}"));
            }
        }
    }
    // Exactly what the cache watches: the kinds the enabled built-in rules declare they read.
    let evaluator = seaworthy::lint::evaluator_for(
        &seaworthy::config::Config::default(),
        &[],
        seaworthy::engine::Backend::Rvm,
    )
    .expect("built-in rules");
    let cache: BTreeSet<String> = seaworthy::webhook::cluster::watched_kinds(&evaluator)
        .iter()
        .map(|kind| format!("{}/{}", kind.group, kind.plural()))
        .collect();
    assert_eq!(granted, cache);

    let binding = r.one("ClusterRoleBinding", RELEASE);
    assert_eq!(binding["roleRef"]["name"], RELEASE);
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": RELEASE, "namespace": NAMESPACE}])
    );

    // Without the cluster cache: no grant, no token, no flag.
    let r = render(json!({"clusterContext": {"enabled": false}}));
    assert!(r.of_kind("ClusterRole").is_empty());
    assert!(r.of_kind("ClusterRoleBinding").is_empty());
    assert_eq!(
        r.deployment()["spec"]["template"]["spec"]["automountServiceAccountToken"],
        false
    );
    assert!(!r.has_flag("--cluster-context"));
}

/// Maps the kinds rules judge to the resources an admission rule names.
fn resource_of(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Pod" => "/pods",
        "ReplicationController" => "/replicationcontrollers",
        "Namespace" => "/namespaces",
        "Deployment" => "apps/deployments",
        "StatefulSet" => "apps/statefulsets",
        "DaemonSet" => "apps/daemonsets",
        "ReplicaSet" => "apps/replicasets",
        "Job" => "batch/jobs",
        "CronJob" => "batch/cronjobs",
        "PodDisruptionBudget" => "policy/poddisruptionbudgets",
        "NetworkPolicy" => "networking.k8s.io/networkpolicies",
        "Ingress" => "networking.k8s.io/ingresses",
        _ => return None,
    })
}

#[test]
fn webhook_configuration_sends_what_the_rules_judge() {
    let r = render(json!({}));
    let hook = r.webhook();
    assert_eq!(hook["sideEffects"], "None");
    assert_eq!(hook["admissionReviewVersions"], json!(["v1"]));
    assert_eq!(hook["timeoutSeconds"], 5);
    assert_eq!(hook["failurePolicy"], "Ignore");
    assert_eq!(
        hook["clientConfig"]["service"],
        json!({"name": RELEASE, "namespace": NAMESPACE, "path": "/validate", "port": 443})
    );

    // kube-system and the release namespace are never sent.
    let expressions = hook["namespaceSelector"]["matchExpressions"]
        .as_array()
        .unwrap();
    let exempt = expressions
        .iter()
        .find(|e| e["key"] == "kubernetes.io/metadata.name" && e["operator"] == "NotIn")
        .expect("a NotIn on kubernetes.io/metadata.name");
    assert_eq!(
        string_set(&exempt["values"]),
        BTreeSet::from(["kube-system", NAMESPACE])
    );

    // Every kind a built-in rule judges at admission is sent on CREATE and UPDATE, and nothing
    // else. Argo Rollouts and Istio VirtualServices are custom resources: webhook.extraRules adds
    // them where installed.
    let output = seaworthy(&["rules", "--format", "json", "--no-config"]);
    assert!(output.status.success());
    let catalog: Value = serde_json::from_slice(&output.stdout).expect("rules JSON");
    let mut judged = BTreeSet::new();
    for rule in catalog.as_array().expect("rule list") {
        if rule["scope"] == "complete" || rule["scope"] == "manifest" {
            continue; // the webhook skips rules that need every object or judge the file as written
        }
        if rule["kinds"].is_null() {
            continue; // a rule of every kind judges whatever is sent (unknown-field)
        }
        for kind in strings(&rule["kinds"]) {
            match resource_of(kind) {
                Some(resource) => {
                    judged.insert(resource.to_string());
                }
                None => assert!(
                    ["Rollout", "VirtualService"].contains(&kind),
                    "rule {} judges {kind}",
                    rule["id"]
                ),
            }
        }
    }
    let mut sent = BTreeSet::new();
    for rule in hook["rules"].as_array().unwrap() {
        assert_eq!(
            string_set(&rule["operations"]),
            BTreeSet::from(["CREATE", "UPDATE"])
        );
        assert_eq!(rule["apiVersions"], json!(["v1"]));
        for group in strings(&rule["apiGroups"]) {
            for resource in strings(&rule["resources"]) {
                sent.insert(format!("{group}/{resource}"));
            }
        }
    }
    assert_eq!(sent, judged);

    // Objects a controller makes from a judged owner are skipped (a CEL match condition), unless
    // asked; user conditions come after it. The skip needs a controller owner AND a controller
    // identity as the requester: an owner reference alone is written by the requester.
    let conditions = hook["matchConditions"].as_array().expect("matchConditions");
    assert_eq!(conditions.len(), 1, "{conditions:?}");
    assert_eq!(conditions[0]["name"], "not-controlled");
    let expression = conditions[0]["expression"].as_str().unwrap();
    let compact: String = expression.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        compact.starts_with("!(has(object.metadata.ownerReferences) && object.metadata.ownerReferences.exists(r, has(r.controller) && r.controller) && request.userInfo.username in ["),
        "{compact}"
    );
    let users: Value = serde_json::from_str(
        compact
            .split(" in ")
            .nth(1)
            .and_then(|rest| rest.strip_suffix(')'))
            .expect("a list of users"),
    )
    .expect("the users are a JSON (and CEL) list of strings");
    assert!(strings(&users).contains(&"system:serviceaccount:kube-system:replicaset-controller"));
    assert!(
        !strings(&users).iter().any(|u| u.contains('*')),
        "CEL compares exact names"
    );
    // The webhook applies the same list itself.
    assert_eq!(r.config()["serve"]["controller_users"], users);
    let argo = render(
        json!({"webhook": {"controllerUsers": ["system:serviceaccount:argo-rollouts:argo-rollouts"]}}),
    );
    assert!(argo.webhook()["matchConditions"][0]["expression"]
        .as_str()
        .unwrap()
        .contains(r#"["system:serviceaccount:argo-rollouts:argo-rollouts"]"#));
    let every_object = render(json!({"webhook": {"skipControlledObjects": false}}));
    assert!(every_object.webhook().get("matchConditions").is_none());
    let user = json!({"name": "not-ci", "expression": "request.userInfo.username != 'ci'"});
    let both = render(json!({"webhook": {"matchConditions": [user.clone()]}}));
    assert_eq!(both.webhook()["matchConditions"][1], user);

    // The evaluation budget is below the API server's timeout.
    let eval = r.arg("--eval-timeout").expect("--eval-timeout");
    let millis: u64 = eval.strip_suffix("ms").unwrap().parse().unwrap();
    assert_eq!(millis, 3000);
    let longer = render(json!({"webhook": {"timeoutSeconds": 10}}));
    assert_eq!(longer.arg("--eval-timeout").as_deref(), Some("6000ms"));
    assert_eq!(longer.webhook()["timeoutSeconds"], 10);
    let explicit = render(json!({"webhook": {"evalTimeoutMillis": 1500}}));
    assert_eq!(explicit.arg("--eval-timeout").as_deref(), Some("1500ms"));
    let message =
        render_error(json!({"webhook": {"timeoutSeconds": 2, "evalTimeoutMillis": 2000}}));
    assert!(
        message.contains("must be below webhook.timeoutSeconds"),
        "{message}"
    );
}

#[test]
fn values_choose_mode_failure_policy_and_exemptions() {
    let warn = render(json!({}));
    let config = warn.config();
    assert_eq!(config["serve"]["mode"], "warn");
    assert_eq!(config["serve"]["failure_mode"], "allow");
    assert_eq!(warn.webhook()["failurePolicy"], "Ignore");

    let enforce = render(json!({
        "mode": "enforce",
        "failurePolicy": "Fail",
        "exemptNamespaces": ["monitoring", "istio-system"],
    }));
    let config = enforce.config();
    assert_eq!(config["serve"]["mode"], "enforce");
    assert_eq!(config["serve"]["failure_mode"], "deny");
    assert_eq!(enforce.webhook()["failurePolicy"], "Fail");
    let namespaces = BTreeSet::from(["kube-system", NAMESPACE, "monitoring", "istio-system"]);
    assert_eq!(
        string_set(&config["serve"]["exempt_namespaces"]),
        namespaces
    );
    let selector = &enforce.webhook()["namespaceSelector"]["matchExpressions"][0];
    assert_eq!(string_set(&selector["values"]), namespaces);
    assert!(!enforce.notes.contains("Nothing is rejected yet"));

    // failureMode can differ from failurePolicy when asked.
    let mixed = render(json!({"failurePolicy": "Fail", "failureMode": "allow"}));
    assert_eq!(mixed.config()["serve"]["failure_mode"], "allow");

    // Fewer than 3 replicas with failurePolicy Fail gets a warning in the notes.
    let risky = render(json!({"failurePolicy": "Fail", "replicaCount": 1}));
    assert!(risky.notes.contains("WARNING"), "{}", risky.notes);

    // A changed config rolls the pods.
    let checksum = |r: &Rendered| {
        r.deployment()["spec"]["template"]["metadata"]["annotations"]["checksum/config"].clone()
    };
    assert_ne!(checksum(&warn), checksum(&enforce));
}

#[test]
fn helm_tls_mode_generates_a_ca_and_fills_the_ca_bundle() {
    for extra in [&[][..], &["--upgrade"][..]] {
        let r = render_as(json!({"tls": {"mode": "helm"}}), extra);
        let secret = r.one("Secret", "seaworthy-tls");
        assert_eq!(secret["type"], "kubernetes.io/tls");
        let data = &secret["data"];
        let pem = |key: &str| {
            let b64 = data[key].as_str().unwrap_or_else(|| panic!("no {key}"));
            decode_base64(b64)
        };
        assert!(pem("ca.crt").starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pem("tls.crt").starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pem("tls.key").contains("PRIVATE KEY-----"));
        assert_ne!(pem("ca.crt"), pem("tls.crt"));
        // The caBundle is the CA that signed the Secret's certificate (one generation per render).
        assert_eq!(r.webhook()["clientConfig"]["caBundle"], data["ca.crt"]);
        // The hosts the certificate was made for, remembered so an upgrade can reuse it.
        let hosts = secret["metadata"]["annotations"]["seaworthy.dev/dns-names"]
            .as_str()
            .unwrap();
        assert!(
            hosts
                .split(',')
                .any(|h| h == format!("{RELEASE}.{NAMESPACE}.svc")),
            "{hosts}"
        );
        let config = r.one("ValidatingWebhookConfiguration", RELEASE);
        assert!(config["metadata"].get("annotations").is_none(), "{config}");
        assert!(r.of_kind("Certificate").is_empty());
    }
    // Without a cluster, `lookup` finds no earlier Secret, so every render makes a new CA: the
    // reason the chart recommends cert-manager for GitOps tools that render offline.
    let first = render(json!({}));
    let second = render(json!({}));
    assert_ne!(
        first.webhook()["clientConfig"]["caBundle"],
        second.webhook()["clientConfig"]["caBundle"]
    );
}

fn decode_base64(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes().filter(|b| *b != b'=') {
        let value = ALPHABET
            .iter()
            .position(|a| *a == byte)
            .unwrap_or_else(|| panic!("not base64: {text}"));
        bits = (bits << 6) | value as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8(out).expect("PEM is text")
}

#[test]
fn cert_manager_tls_mode_issues_and_injects_the_certificate() {
    let r = render(json!({"tls": {"mode": "cert-manager"}}));
    assert!(
        r.of_kind("Secret").is_empty(),
        "cert-manager writes the Secret"
    );

    // A self-signed root, a CA from it, an Issuer for that CA, and the serving certificate.
    let selfsigned = r.one("Issuer", "seaworthy-selfsigned");
    assert_eq!(selfsigned["spec"]["selfSigned"], json!({}));
    let ca = r.one("Certificate", "seaworthy-ca");
    assert_eq!(ca["spec"]["isCA"], true);
    assert_eq!(ca["spec"]["issuerRef"]["name"], "seaworthy-selfsigned");
    let ca_issuer = r.one("Issuer", "seaworthy-ca");
    assert_eq!(
        ca_issuer["spec"]["ca"]["secretName"],
        ca["spec"]["secretName"]
    );

    let serving = r.one("Certificate", "seaworthy-tls");
    assert_eq!(serving["spec"]["secretName"], "seaworthy-tls");
    assert_eq!(serving["spec"]["issuerRef"]["name"], "seaworthy-ca");
    assert_eq!(serving["spec"]["issuerRef"]["kind"], "Issuer");
    let names = string_set(&serving["spec"]["dnsNames"]);
    let service_host = format!("{RELEASE}.{NAMESPACE}.svc");
    assert!(names.contains(service_host.as_str()), "{names:?}");
    let volumes = &r.deployment()["spec"]["template"]["spec"]["volumes"];
    assert!(volumes
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["secret"]["secretName"] == "seaworthy-tls"));

    // The CA injector fills the caBundle from the serving certificate's Secret.
    let config = r.one("ValidatingWebhookConfiguration", RELEASE);
    assert_eq!(
        config["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
        format!("{NAMESPACE}/seaworthy-tls")
    );
    assert!(r.webhook()["clientConfig"].get("caBundle").is_none());

    // An existing issuer replaces the chart's own CA.
    let r = render(json!({"tls": {"mode": "cert-manager", "certManager": {
        "issuerRef": {"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}}}}));
    assert!(r.of_kind("Issuer").is_empty());
    assert_eq!(r.of_kind("Certificate").len(), 1);
    assert_eq!(
        r.one("Certificate", "seaworthy-tls")["spec"]["issuerRef"],
        json!({"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"})
    );
}

#[test]
fn service_monitor_is_optional() {
    assert!(render(json!({})).of_kind("ServiceMonitor").is_empty());
    let r = render(
        json!({"metrics": {"serviceMonitor": {"enabled": true, "labels": {"release": "prom"}}}}),
    );
    let monitor = r.one("ServiceMonitor", RELEASE);
    assert_eq!(monitor["metadata"]["labels"]["release"], "prom");
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "http-metrics");
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/metrics");
    let service = r.one("Service", RELEASE);
    for (key, value) in monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .unwrap()
    {
        assert_eq!(&service["metadata"]["labels"][key], value);
    }
}

/// mTLS: the client CA from a Secret or a ConfigMap, mounted and passed as --client-ca.
#[test]
fn mtls_mounts_the_client_ca_and_requires_client_certificates() {
    let off = render(json!({}));
    assert_eq!(off.arg("--client-ca"), None);
    let volumes = |r: &Rendered| r.deployment()["spec"]["template"]["spec"]["volumes"].clone();
    assert!(!volumes(&off).to_string().contains("client-ca"));

    let secret = render(
        json!({"mtls": {"enabled": true, "clientCA": {"secretName": "apiserver-client-ca"}}}),
    );
    assert_eq!(
        secret.arg("--client-ca").as_deref(),
        Some("/etc/seaworthy/client-ca/ca.crt")
    );
    let volume = volumes(&secret)
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "client-ca")
        .cloned()
        .expect("client-ca volume");
    assert_eq!(volume["secret"]["secretName"], "apiserver-client-ca");
    assert_eq!(
        volume["secret"]["items"],
        json!([{"key": "ca.crt", "path": "ca.crt"}])
    );
    let mount = secret.container()["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "client-ca")
        .cloned()
        .expect("client-ca mount");
    assert_eq!(mount["mountPath"], "/etc/seaworthy/client-ca");
    assert_eq!(mount["readOnly"], true);
    assert!(!secret.notes.contains("accepts connections from any source"));

    let config_map = render(
        json!({"mtls": {"enabled": true, "clientCA": {"configMapName": "front-proxy", "key": "client-ca.pem"}}}),
    );
    assert_eq!(
        config_map.arg("--client-ca").as_deref(),
        Some("/etc/seaworthy/client-ca/client-ca.pem")
    );
    let volume = volumes(&config_map)
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "client-ca")
        .cloned()
        .expect("client-ca volume");
    assert_eq!(volume["configMap"]["name"], "front-proxy");
    assert_eq!(
        volume["configMap"]["items"],
        json!([{"key": "client-ca.pem", "path": "client-ca.pem"}])
    );

    let message = render_error(json!({"mtls": {"enabled": true}}));
    assert!(
        message.contains("mtls.enabled needs the client CA"),
        "{message}"
    );
    let message = render_error(
        json!({"mtls": {"enabled": true, "clientCA": {"secretName": "a", "configMapName": "b"}}}),
    );
    assert!(message.contains("not both"), "{message}");
}

/// The limits reach the container as flags the real binary accepts and resolves.
#[test]
fn limits_are_passed_as_flags_seaworthy_accepts() {
    use clap::Parser;
    use seaworthy::webhook::settings::Settings;

    let r = render(
        json!({"limits": {"maxConnections": 300, "bodyBudget": "16MiB", "idleTimeout": "100s"}}),
    );
    let args: Vec<String> = r.container()["args"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str().map(String::from))
        .filter(|a| !a.starts_with("--config="))
        .collect();
    let cli =
        seaworthy::cli::Cli::try_parse_from(std::iter::once("seaworthy".to_string()).chain(args))
            .unwrap_or_else(|e| panic!("the chart's args do not parse: {e}"));
    let seaworthy::cli::Command::Serve(serve) = cli.command else {
        panic!("not serve");
    };
    let settings = Settings::resolve(&serve.serve, &seaworthy::config::Config::default())
        .expect("the chart's settings resolve");
    let limits = &settings.limits;
    assert_eq!(limits.max_connections, 300);
    assert_eq!(limits.body_budget, 16 << 20);
    assert_eq!(limits.max_containers, 200);
    assert_eq!(limits.handshake_timeout, std::time::Duration::from_secs(5));
    assert_eq!(limits.header_timeout, std::time::Duration::from_secs(5));
    assert_eq!(limits.body_timeout, std::time::Duration::from_secs(5));
    assert_eq!(limits.idle_timeout, std::time::Duration::from_secs(100));
    assert_eq!(settings.shutdown_delay, std::time::Duration::from_secs(5));

    let message = render_error(json!({"limits": {"bodyBudget": "lots"}}));
    assert!(message.contains("/limits/bodyBudget"), "{message}");
}

/// The chart practises what seaworthy preaches: nothing at any severity. One finding is
/// suppressed, with its reason on the object: the webhook port must accept the API server, whose
/// address depends on the cluster; it goes as soon as networkPolicy.webhookFrom is set.
#[test]
fn rendered_chart_passes_seaworthy_lint() {
    for (name, values) in value_sets() {
        let rendered = render(values.clone());
        let (code, findings) = lint_rendered(&rendered);
        let (suppressed, active): (Vec<&Value>, Vec<&Value>) =
            findings.iter().partition(|f| f.get("suppressed").is_some());
        assert!(
            active.is_empty(),
            "{name}: seaworthy finds problems in its own chart:\n{}",
            serde_json::to_string_pretty(&active).unwrap()
        );
        assert_eq!(code, Some(0), "{name}");
        // Each suppression is one the chart explains in its ignore-reason, and only where it holds:
        // the NetworkPolicy open to any source unless restricted, the server's own shutdown delay
        // standing in for a preStop sleep, and the TLS Secret the chart generates at install.
        let restricted = values["networkPolicy"]["webhookFrom"].is_array();
        let generated_tls = values["tls"]["mode"].as_str().unwrap_or("helm") == "helm";
        let mut expected: Vec<(&str, &str)> = vec![("missing-prestop-delay", "Deployment")];
        if !restricted {
            expected.push(("network-policy-port-open-to-all", "NetworkPolicy"));
        }
        if generated_tls {
            expected.push(("secret-in-manifest", "Secret"));
        }
        expected.sort();
        let mut got: Vec<(&str, &str)> = suppressed
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap(),
                    f["object"]["kind"].as_str().unwrap(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(got, expected, "{name}");
    }
}

/// The lint above can fail: a chart without its PodDisruptionBudget and NetworkPolicies is flagged.
#[test]
fn seaworthy_lint_notices_a_weakened_chart() {
    let rendered = render(json!({
        "podDisruptionBudget": {"enabled": false},
        "networkPolicy": {"enabled": false},
        "replicaCount": 1,
    }));
    let (code, findings) = lint_rendered(&rendered);
    let rules: BTreeSet<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(code, Some(1));
    for rule in [
        "missing-network-policy",
        "missing-default-deny",
        "too-few-replicas",
    ] {
        assert!(rules.contains(rule), "{rule} not in {rules:?}");
    }
}

#[test]
fn helm_lint_is_clean() {
    for (name, values) in value_sets() {
        let output = helm_sdk("lint", &values, &[]);
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: Value = serde_json::from_slice(&output.stdout).expect("lint JSON");
        assert_eq!(report["total_charts_linted"], 1, "{name}: {report}");
        assert_eq!(report["messages"], json!([]), "{name}: {report}");
        assert_eq!(report["errors"], json!([]), "{name}: {report}");
    }
    // And Helm's lint does report a broken value set.
    let output = helm_sdk("lint", &json!({"replicaCount": "three"}), &[]);
    let report: Value = serde_json::from_slice(&output.stdout).expect("lint JSON");
    assert_ne!(report["errors"], json!([]), "{report}");
}

#[test]
fn values_schema_rejects_wrong_types_and_unknown_keys() {
    for (values, expected) in [
        (json!({"replicaCount": "3"}), "/replicaCount"),
        (json!({"mode": "audit"}), "/mode"),
        (json!({"failurePolicy": "fail"}), "/failurePolicy"),
        (
            json!({"webhook": {"timeoutSeconds": 60}}),
            "/webhook/timeoutSeconds",
        ),
        (json!({"image": {"tag": "latest"}}), "/image/tag"),
        (
            json!({"clusterContext": {"enabled": "yes"}}),
            "/clusterContext/enabled",
        ),
        (
            json!({"rules": {"missing-pdb": {"enabeld": false}}}),
            "enabeld",
        ),
        (
            json!({"rules": {"no-such-rule": {"enabled": false}}}),
            "no-such-rule",
        ),
        (
            json!({"actions": {"latest-image-tag": "block"}}),
            "/actions/latest-image-tag",
        ),
        (
            json!({"exemptions": [{"rules": ["missing-pdb"]}]}),
            "reason",
        ),
        (json!({"replicas": 3}), "replicas"),
    ] {
        let message = render_error(values.clone());
        assert!(
            message.contains("HelmValuesError") && message.contains(expected),
            "{values}: {message}"
        );
    }
}

/// The schema's rule ids are seaworthy's: a rule added to the catalog must be added to the chart.
#[test]
fn values_schema_knows_every_rule_id() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(chart_dir().join("values.schema.json")).unwrap(),
    )
    .expect("values.schema.json is JSON");
    let in_schema = string_set(&schema["definitions"]["ruleId"]["enum"]);
    let output = seaworthy(&["rules", "--format", "json", "--no-config"]);
    let catalog: Value = serde_json::from_slice(&output.stdout).expect("rules JSON");
    let ids: BTreeSet<&str> = catalog
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(in_schema, ids);
}

/// The ConfigMap's config is a valid .seaworthy.yaml that says what the values say.
#[test]
fn rendered_config_is_accepted_by_seaworthy() {
    let example = "fixtures/manifests/example/deployment.yaml";
    let lint = |config: Option<&Path>| -> (Option<i32>, Vec<Value>) {
        let mut args = vec!["lint", example, "--format", "json"];
        match config {
            Some(path) => args.extend(["--config", path.to_str().unwrap()]),
            None => args.push("--no-config"),
        }
        let output = seaworthy(&args);
        assert_ne!(
            output.status.code(),
            Some(2),
            "seaworthy rejects the chart's config: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: Value = serde_json::from_slice(&output.stdout).expect("lint JSON");
        (
            output.status.code(),
            report["findings"].as_array().unwrap().clone(),
        )
    };
    let severity_of = |findings: &[Value], rule: &str| {
        findings
            .iter()
            .find(|f| f["rule"] == rule)
            .map(|f| f["severity"].as_str().unwrap().to_string())
    };

    let dir = tempfile::tempdir().unwrap();
    for (name, values) in value_sets() {
        let path = dir.path().join(format!("{}.yaml", name.replace(' ', "-")));
        std::fs::write(&path, render(values).config_text()).unwrap();
        lint(Some(&path));
    }

    // Overrides of every kind, checked against the same example without them.
    let (_, plain) = lint(None);
    for rule in [
        "missing-readiness-probe",
        "missing-pdb",
        "missing-run-as-non-root",
    ] {
        assert!(
            severity_of(&plain, rule).is_some(),
            "{rule} expected on the example"
        );
    }
    assert_eq!(
        severity_of(&plain, "missing-memory-limit").as_deref(),
        Some("error")
    );
    let rendered = render(json!({
        "mode": "enforce",
        "failurePolicy": "Fail",
        "podSecurity": "baseline",
        "rules": {
            "missing-readiness-probe": {"enabled": false},
            "missing-memory-limit": {"severity": "warning"},
            "too-few-replicas": {"params": {"min_replicas": 2}},
        },
        "actions": {"latest-image-tag": "deny", "missing-pdb": "audit"},
        "exemptions": [{"reason": "example shop, tracked in OPS-1", "rules": ["missing-pdb"], "namespaces": ["shop"]}],
        "exemptNamespaces": ["monitoring"],
        "updatePolicy": "full",
        "allowAnnotationSuppression": true,
    }));
    let path = dir.path().join("overrides.yaml");
    std::fs::write(&path, rendered.config_text()).unwrap();
    let (_, findings) = lint(Some(&path));
    assert_eq!(severity_of(&findings, "missing-readiness-probe"), None);
    assert_eq!(severity_of(&findings, "missing-pdb"), None);
    assert_eq!(severity_of(&findings, "missing-run-as-non-root"), None);
    assert_eq!(
        severity_of(&findings, "missing-memory-limit").as_deref(),
        Some("warning")
    );
    let serve = &rendered.config()["serve"];
    assert_eq!(
        serve["actions"],
        json!({"latest-image-tag": "deny", "missing-pdb": "audit"})
    );
    assert_eq!(serve["update_policy"], "full");
    assert_eq!(serve["allow_annotation_suppression"], true);
}
