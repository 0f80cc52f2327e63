//! The normalised workload view (`input.workload`): which kinds have one, where their pod spec is,
//! replicas with Kubernetes' defaults, pod labels and annotations, and every container with its path.

use regorus::Value as Rego;
use seaworthy::manifest::{load_text, LoadOptions};
use seaworthy::workload::view;

/// Parses one manifest (which must load cleanly into exactly one object) and returns its view.
fn view_of(yaml: &str) -> Option<Rego> {
    let loaded = load_text("workload.yaml", yaml, &LoadOptions::default());
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(loaded.objects.len(), 1, "one object in:\n{yaml}");
    let root = &loaded.objects[0].root;
    view(root, &root.to_rego())
}

fn json(text: &str) -> Rego {
    Rego::from_json_str(text).unwrap_or_else(|e| panic!("bad expected JSON {text}: {e}"))
}

const POD_TEMPLATE: &str = "
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: app
        image: nginx";

fn templated(api_version: &str, kind: &str, spec_extra: &str) -> String {
    format!(
        "apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: w\n  namespace: ns\nspec:\n{spec_extra}  template:{POD_TEMPLATE}\n"
    )
}

struct Case {
    what: &'static str,
    yaml: String,
    pod_spec_path: &'static str,
    replicas: &'static str,
}

fn workload_cases() -> Vec<Case> {
    let template_path = r#"["spec","template","spec"]"#;
    vec![
        Case {
            what: "Pod",
            yaml: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: w\n  namespace: ns\n  labels:\n    app: web\nspec:\n  containers:\n  - name: app\n    image: nginx\n".into(),
            pod_spec_path: r#"["spec"]"#,
            replicas: "1",
        },
        Case {
            what: "Deployment without replicas",
            yaml: templated("apps/v1", "Deployment", ""),
            pod_spec_path: template_path,
            replicas: "1",
        },
        Case {
            what: "Deployment with replicas",
            yaml: templated("apps/v1", "Deployment", "  replicas: 3\n"),
            pod_spec_path: template_path,
            replicas: "3",
        },
        Case {
            what: "Deployment with replicas: 0",
            yaml: templated("apps/v1", "Deployment", "  replicas: 0\n"),
            pod_spec_path: template_path,
            replicas: "0",
        },
        Case {
            what: "Deployment with replicas: null",
            yaml: templated("apps/v1", "Deployment", "  replicas: ~\n"),
            pod_spec_path: template_path,
            replicas: "1",
        },
        Case {
            what: "StatefulSet",
            yaml: templated("apps/v1", "StatefulSet", "  replicas: 5\n  serviceName: w\n"),
            pod_spec_path: template_path,
            replicas: "5",
        },
        Case {
            what: "ReplicaSet",
            yaml: templated("apps/v1", "ReplicaSet", ""),
            pod_spec_path: template_path,
            replicas: "1",
        },
        Case {
            what: "ReplicationController (core v1)",
            yaml: templated("v1", "ReplicationController", "  replicas: 2\n"),
            pod_spec_path: template_path,
            replicas: "2",
        },
        Case {
            what: "DaemonSet",
            yaml: templated("apps/v1", "DaemonSet", ""),
            pod_spec_path: template_path,
            replicas: "null",
        },
        Case {
            what: "Job",
            yaml: templated("batch/v1", "Job", "  backoffLimit: 2\n"),
            pod_spec_path: template_path,
            replicas: "null",
        },
        Case {
            what: "CronJob",
            yaml: "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: w\n  namespace: ns\nspec:\n  schedule: \"*/5 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        metadata:\n          labels:\n            app: web\n        spec:\n          containers:\n          - name: app\n            image: nginx\n".into(),
            pod_spec_path: r#"["spec","jobTemplate","spec","template","spec"]"#,
            replicas: "null",
        },
        Case {
            what: "Argo Rollout",
            yaml: templated("argoproj.io/v1alpha1", "Rollout", "  replicas: 4\n"),
            pod_spec_path: template_path,
            replicas: "4",
        },
    ]
}

#[test]
fn each_workload_kind_has_its_pod_spec_path_and_replicas() {
    for case in workload_cases() {
        let what = case.what;
        let v = view_of(&case.yaml).unwrap_or_else(|| panic!("{what}: no workload view"));
        assert_eq!(
            v["pod_spec_path"],
            json(case.pod_spec_path),
            "{what}: pod_spec_path"
        );
        assert_eq!(v["replicas"], json(case.replicas), "{what}: replicas");
        // Every case has one container "app" and pod labels app=web.
        assert_eq!(
            v["pod_spec"]["containers"][0usize]["name"],
            Rego::from("app"),
            "{what}: pod_spec is the pod spec"
        );
        assert_eq!(
            v["pod_labels"],
            json(r#"{"app":"web"}"#),
            "{what}: pod_labels"
        );
        assert_eq!(v["name"], Rego::from("w"), "{what}: name");
        assert_eq!(v["namespace"], Rego::from("ns"), "{what}: namespace");
    }
}

#[test]
fn view_reports_kind_and_api_version() {
    let v = view_of(&templated("apps/v1", "StatefulSet", "")).expect("a view");
    assert_eq!(v["kind"], Rego::from("StatefulSet"));
    assert_eq!(v["api_version"], Rego::from("apps/v1"));
    assert_eq!(
        v["pod_metadata_path"],
        json(r#"["spec","template","metadata"]"#)
    );
}

#[test]
fn objects_that_run_no_pods_have_no_view() {
    let cases: &[(&str, &str)] = &[
        (
            "ConfigMap",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n",
        ),
        (
            "CustomResourceDefinition",
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names:\n    kind: Widget\n    plural: widgets\n  scope: Namespaced\n  versions: []\n",
        ),
        (
            "Deployment of another API group",
            "apiVersion: example.com/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: nginx\n",
        ),
        (
            "Pod of another API group",
            "apiVersion: example.com/v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: nginx\n",
        ),
        (
            "Rollout with workloadRef and no template",
            "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: r\nspec:\n  replicas: 3\n  workloadRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web\n",
        ),
        (
            "Deployment whose template spec is not a mapping",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec: []\n",
        ),
    ];
    for (what, yaml) in cases {
        assert!(view_of(yaml).is_none(), "{what} must have no workload view");
    }
}

#[test]
fn pod_labels_and_annotations_default_to_empty_objects() {
    let bare = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  labels:\n    object-label: x\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: nginx\n";
    let v = view_of(bare).expect("a view");
    // The Deployment's own labels are not its pods' labels.
    assert_eq!(v["pod_labels"], Rego::new_object());
    assert_eq!(v["pod_annotations"], Rego::new_object());

    let annotated = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    metadata:\n      labels:\n        app: web\n        tier: front\n      annotations:\n        prometheus.io/scrape: \"true\"\n    spec:\n      containers:\n      - name: app\n        image: nginx\n";
    let v = view_of(annotated).expect("a view");
    assert_eq!(v["pod_labels"], json(r#"{"app":"web","tier":"front"}"#));
    assert_eq!(
        v["pod_annotations"],
        json(r#"{"prometheus.io/scrape":"true"}"#)
    );

    // A Pod's pod metadata is its own metadata.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    team: payments\nspec:\n  containers:\n  - name: app\n    image: nginx\n";
    let v = view_of(pod).expect("a view");
    assert_eq!(v["pod_labels"], Rego::new_object());
    assert_eq!(v["pod_annotations"], json(r#"{"team":"payments"}"#));
}

const MIXED_CONTAINERS: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: mixed
spec:
  template:
    spec:
      initContainers:
      - name: migrate
        image: migrate:1
      - name: proxy
        image: envoy:1
        restartPolicy: Always
      containers:
      - name: app
        image: app:1
        ports:
        - containerPort: 8080
      - name: logger
        image: fluent:1
        restartPolicy: Always
";

#[test]
fn containers_are_given_as_written() {
    let v = view_of(MIXED_CONTAINERS).expect("a view");
    assert_eq!(
        v["containers"],
        json(
            r#"[
              {"name":"app","image":"app:1","ports":[{"containerPort":8080}]},
              {"name":"logger","image":"fluent:1","restartPolicy":"Always"}
            ]"#
        )
    );
}

#[test]
fn all_containers_have_type_name_and_full_path() {
    let v = view_of(MIXED_CONTAINERS).expect("a view");
    let all = v["all_containers"]
        .as_array()
        .expect("all_containers is an array");
    let summary: Vec<(Rego, Rego, Rego)> = all
        .iter()
        .map(|c| (c["type"].clone(), c["name"].clone(), c["path"].clone()))
        .collect();
    let expected = vec![
        (
            Rego::from("init"),
            Rego::from("migrate"),
            json(r#"["spec","template","spec","initContainers",0]"#),
        ),
        (
            Rego::from("sidecar"),
            Rego::from("proxy"),
            json(r#"["spec","template","spec","initContainers",1]"#),
        ),
        (
            Rego::from("container"),
            Rego::from("app"),
            json(r#"["spec","template","spec","containers",0]"#),
        ),
        (
            // restartPolicy: Always makes only init containers sidecars.
            Rego::from("container"),
            Rego::from("logger"),
            json(r#"["spec","template","spec","containers",1]"#),
        ),
    ];
    assert_eq!(summary, expected);
    // Each entry carries the container as written.
    assert_eq!(all[1]["container"]["image"], Rego::from("envoy:1"));
    assert_eq!(
        all[2]["container"]["ports"][0usize]["containerPort"],
        Rego::from(8080i64)
    );
}

#[test]
fn a_container_is_named_by_its_name_or_else_by_where_it_is() {
    // What findings call each container: a name that is a non-empty string as written; for a
    // container without one (missing, empty, not a string) its list and index.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  initContainers:\n  - image: busybox\n  - name: \"\"\n    image: busybox\n  containers:\n  - name: app\n    image: app:1\n  - name: 7\n    image: app:1\n  ephemeralContainers:\n  - name: debugger\n    image: busybox\n";
    let v = view_of(pod).expect("a view");
    let names: Vec<Rego> = v["all_containers"]
        .as_array()
        .expect("all_containers is an array")
        .iter()
        .map(|c| c["display_name"].clone())
        .collect();
    let expected: Vec<Rego> = [
        "initContainers[0]",
        "initContainers[1]",
        "app",
        "containers[1]",
        "debugger",
    ]
    .into_iter()
    .map(Rego::from)
    .collect();
    assert_eq!(names, expected);
    // `name` stays as written (null when missing), for rules that test it.
    assert_eq!(v["all_containers"][0usize]["name"], Rego::Null);
    assert_eq!(v["all_containers"][3usize]["name"], Rego::from(7i64));
}

#[test]
fn all_container_paths_follow_the_kind() {
    let cronjob = "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: c\nspec:\n  schedule: \"@daily\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          initContainers:\n          - name: setup\n            image: busybox\n          containers:\n          - name: run\n            image: busybox\n";
    let v = view_of(cronjob).expect("a view");
    assert_eq!(
        v["all_containers"][0usize]["path"],
        json(r#"["spec","jobTemplate","spec","template","spec","initContainers",0]"#)
    );
    assert_eq!(
        v["all_containers"][1usize]["path"],
        json(r#"["spec","jobTemplate","spec","template","spec","containers",0]"#)
    );

    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: x\n  - name: b\n    image: y\n";
    let v = view_of(pod).expect("a view");
    assert_eq!(
        v["all_containers"][1usize]["path"],
        json(r#"["spec","containers",1]"#)
    );
    assert_eq!(v["all_containers"][1usize]["type"], Rego::from("container"));
}

#[test]
fn a_pod_spec_without_containers_has_empty_lists() {
    let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      nodeName: n1\n";
    let v = view_of(yaml).expect("a view: the pod spec exists");
    assert_eq!(v["containers"], Rego::new_array());
    assert_eq!(v["all_containers"], Rego::new_array());
}

#[test]
fn yaml_1_1_replicas_are_read_as_kubectl_reads_them() {
    // `replicas: 010` is octal in YAML 1.1, so Kubernetes stores 8.
    let v = view_of(&templated("apps/v1", "Deployment", "  replicas: 010\n")).expect("a view");
    assert_eq!(v["replicas"], Rego::from(8i64));
}
