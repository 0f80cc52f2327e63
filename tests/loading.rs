//! Loading manifests the way kubectl reads them: YAML 1.1 scalars, multi-document streams, JSON,
//! `List` expansion, duplicate keys, malformed input, limits, directories, Helm markers, anchors and
//! merge keys, and mapping a path back to a line and column.

use std::path::{Path, PathBuf};

use seaworthy::finding::{ObjectRef, Severity};
use seaworthy::manifest::node::{display_path, Node, PathStep, Span, Value};
use seaworthy::manifest::yaml::{parse_str, resolve_plain, BuildError, Limits};
use seaworthy::manifest::{
    load_inputs, load_text, FileLoad, Input, LoadOptions, Object, DUPLICATE_KEY, INVALID_MANIFEST,
};

// ---------------------------------------------------------------------------------------------
// Helpers

fn load(text: &str) -> FileLoad {
    load_text("test.yaml", text, &LoadOptions::default())
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/loading")
        .join(name)
}

fn key(k: &str) -> PathStep {
    PathStep::Key(k.to_string())
}

fn keys(path: &[&str]) -> Vec<PathStep> {
    path.iter().map(|k| key(k)).collect()
}

/// The node at a path of keys, failing the test with the path when it is missing.
fn at<'a>(object: &'a Object, path: &[&str]) -> &'a Node {
    object
        .root
        .get_path(path)
        .unwrap_or_else(|| panic!("{} has no {}", object.id, path.join(".")))
}

fn names(objects: &[Object]) -> Vec<String> {
    objects
        .iter()
        .map(|o| o.id.name.clone().unwrap_or_default())
        .collect()
}

fn rules(load: &FileLoad) -> Vec<&str> {
    load.problems.iter().map(|p| p.rule.as_str()).collect()
}

fn string(s: &str) -> Value {
    Value::String(s.into())
}

/// 1-based (line, column) of the first occurrence of `needle` in `text`, columns in characters.
fn position_of(text: &str, needle: &str) -> (u32, u32) {
    for (index, line) in text.lines().enumerate() {
        if let Some(byte) = line.find(needle) {
            let column = line[..byte].chars().count() + 1;
            return (index as u32 + 1, column as u32);
        }
    }
    panic!("{needle:?} not found in text");
}

fn config_map(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n")
}

// ---------------------------------------------------------------------------------------------
// 1. YAML 1.1 scalars, as kubectl (sigs.k8s.io/yaml over go-yaml v2) reads them

/// Plain scalar text and the value go-yaml v2 gives it.
fn plain_scalar_table() -> Vec<(&'static str, Value)> {
    vec![
        ("yes", Value::Bool(true)),
        ("Yes", Value::Bool(true)),
        ("YES", Value::Bool(true)),
        ("no", Value::Bool(false)),
        ("NO", Value::Bool(false)),
        ("on", Value::Bool(true)),
        ("ON", Value::Bool(true)),
        ("off", Value::Bool(false)),
        ("OFF", Value::Bool(false)),
        ("y", Value::Bool(true)),
        ("Y", Value::Bool(true)),
        ("n", Value::Bool(false)),
        ("N", Value::Bool(false)),
        ("true", Value::Bool(true)),
        ("True", Value::Bool(true)),
        ("FALSE", Value::Bool(false)),
        ("0755", Value::Int(493)),
        ("0x1F", Value::Int(31)),
        ("0b101", Value::Int(5)),
        ("1_000", Value::Int(1000)),
        ("+1", Value::Int(1)),
        ("-12", Value::Int(-12)),
        ("0", Value::Int(0)),
        ("42", Value::Int(42)),
        ("1e3", Value::Float(1000.0)),
        (".5", Value::Float(0.5)),
        ("1.5", Value::Float(1.5)),
        ("-2.5e-1", Value::Float(-0.25)),
        ("09", Value::Float(9.0)),
        ("~", Value::Null),
        ("null", Value::Null),
        ("Null", Value::Null),
        ("", Value::Null),
        ("1:20", string("1:20")),
        ("-", string("-")),
        ("hello", string("hello")),
        ("1.2.3", string("1.2.3")),
        ("0x", string("0x")),
        ("yess", string("yess")),
        ("500m", string("500m")),
        ("1.", Value::Float(1.0)),
        (".", string(".")),
        ("+", string("+")),
        ("0o17", Value::Int(15)),
        ("-0x10", Value::Int(-16)),
        // Timestamps stay strings when decoded into interface{} (go-yaml v2 compatibility rule).
        ("2001-12-14", string("2001-12-14")),
        ("1Gi", string("1Gi")),
    ]
}

#[test]
fn resolve_plain_follows_yaml_1_1_as_go_yaml_v2_does() {
    let mut wrong = Vec::new();
    for (text, expected) in plain_scalar_table() {
        let got = resolve_plain(text);
        if got != expected {
            wrong.push(format!("{text:?}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "wrong scalars:\n{}", wrong.join("\n"));
}

#[test]
fn special_floats_resolve() {
    assert_eq!(resolve_plain(".inf"), Value::Float(f64::INFINITY));
    assert_eq!(resolve_plain("-.Inf"), Value::Float(f64::NEG_INFINITY));
    assert!(matches!(resolve_plain(".NaN"), Value::Float(f) if f.is_nan()));
}

#[test]
fn loaded_documents_resolve_scalars_like_kubectl() {
    // `-` alone cannot be a block mapping value (it starts a sequence), so it is only in the
    // resolve_plain table.
    let table: Vec<(&str, Value)> = plain_scalar_table()
        .into_iter()
        .filter(|(text, _)| *text != "-")
        .collect();
    let mut doc = config_map("scalars");
    doc.push_str("spec:\n");
    for (i, (text, _)) in table.iter().enumerate() {
        doc.push_str(&format!("  k{i}: {text}\n"));
    }
    let loaded = load(&doc);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(loaded.objects.len(), 1);
    let object = &loaded.objects[0];
    let mut wrong = Vec::new();
    for (i, (text, expected)) in table.iter().enumerate() {
        let got = &at(object, &["spec", &format!("k{i}")]).value;
        if got != expected {
            wrong.push(format!(
                "k{i}: {text:?}: expected {expected:?}, got {got:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "wrong scalars:\n{}", wrong.join("\n"));
}

#[test]
fn quoted_block_and_tagged_scalars_stay_strings() {
    let doc = format!(
        "{}data:\n  double: \"yes\"\n  single: 'on'\n  number: \"0755\"\n  tagged: !!str 123\n  tagged-bool: !!str true\n  block: |\n    yes\n  folded: >-\n    0755\n  int-tag: !!int \"12\"\n",
        config_map("quoted")
    );
    let loaded = load(&doc);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let object = &loaded.objects[0];
    assert_eq!(at(object, &["data", "double"]).value, string("yes"));
    assert_eq!(at(object, &["data", "single"]).value, string("on"));
    assert_eq!(at(object, &["data", "number"]).value, string("0755"));
    assert_eq!(at(object, &["data", "tagged"]).value, string("123"));
    assert_eq!(at(object, &["data", "tagged-bool"]).value, string("true"));
    assert_eq!(at(object, &["data", "block"]).value, string("yes\n"));
    assert_eq!(at(object, &["data", "folded"]).value, string("0755"));
    assert_eq!(at(object, &["data", "int-tag"]).value, Value::Int(12));
}

#[test]
fn non_string_keys_become_their_json_text() {
    // sigs.k8s.io/yaml turns the YAML 1.1 key `on` (a boolean) into the JSON key "true".
    let doc = format!(
        "{}data:\n  on: a\n  1: b\n  \"on\": c\n",
        config_map("keys")
    );
    let loaded = load(&doc);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let object = &loaded.objects[0];
    assert_eq!(at(object, &["data", "true"]).value, string("a"));
    assert_eq!(at(object, &["data", "1"]).value, string("b"));
    assert_eq!(at(object, &["data", "on"]).value, string("c"));
}

// ---------------------------------------------------------------------------------------------
// 2. Multi-document streams, CRLF, BOM

#[test]
fn stream_with_comments_empty_documents_and_document_end_markers() {
    let text = "\
--- # the first document
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
---   
# a document that is only a comment
---
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: b
...
--- # after a document end marker
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
---
";
    let loaded = load(text);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(names(&loaded.objects), ["a", "b", "c"]);
    // Line numbers count from the top of the file, not of the document.
    assert_eq!(
        loaded.objects[1].root.locate(&keys(&["metadata", "name"])),
        Span::new(13, 3)
    );
    assert_eq!(
        loaded.objects[2].root.locate(&keys(&["metadata", "name"])),
        Span::new(19, 3)
    );
}

#[test]
fn a_stream_without_leading_separator_and_one_with_only_comments() {
    // (Not `y`: unquoted, that name would be the boolean true.)
    let loaded = load(&format!("{}---\n{}", config_map("x"), config_map("z")));
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(names(&loaded.objects), ["x", "z"]);

    let empty = load("# nothing here\n\n# still nothing\n");
    assert!(empty.problems.is_empty(), "{:?}", empty.problems);
    assert!(empty.objects.is_empty());

    let blank = load("");
    assert!(blank.problems.is_empty(), "{:?}", blank.problems);
    assert!(blank.objects.is_empty());
}

#[test]
fn crlf_line_endings() {
    let text = "apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: one\r\ndata:\r\n  flag: on\r\n---\r\napiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: two\r\n";
    let loaded = load(text);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(names(&loaded.objects), ["one", "two"]);
    assert_eq!(
        at(&loaded.objects[0], &["data", "flag"]).value,
        Value::Bool(true)
    );
    assert_eq!(
        loaded.objects[1].root.locate(&keys(&["metadata", "name"])),
        Span::new(11, 3)
    );
}

#[test]
fn crlf_file_from_disk() {
    let path = fixture("crlf.yaml");
    let raw = std::fs::read(&path).expect("fixture readable");
    assert!(
        raw.windows(2).any(|w| w == b"\r\n"),
        "fixture lost its CRLF line endings (check git's eol settings)"
    );
    let loaded = load_inputs(&[Input::Path(path)], &LoadOptions::default());
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(names(&loaded.objects), ["first", "second"]);
    let second = &loaded.objects[1];
    assert_eq!(at(second, &["data", "enabled"]).value, Value::Bool(true));
    assert_eq!(
        second.root.locate(&keys(&["data", "enabled"])),
        Span::new(12, 3)
    );
}

#[test]
fn utf8_byte_order_mark_is_ignored() {
    let loaded = load(&format!("\u{feff}{}", config_map("bom")));
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(names(&loaded.objects), ["bom"]);
    assert_eq!(loaded.objects[0].id.kind, "ConfigMap");
    assert_eq!(
        loaded.objects[0].root.locate(&keys(&["apiVersion"])),
        Span::new(1, 1)
    );

    let path = fixture("bom.yaml");
    let raw = std::fs::read(&path).expect("fixture readable");
    assert!(raw.starts_with(b"\xef\xbb\xbf"), "fixture lost its BOM");
    let from_disk = load_inputs(&[Input::Path(path)], &LoadOptions::default());
    assert!(from_disk.problems.is_empty(), "{:?}", from_disk.problems);
    assert_eq!(names(&from_disk.objects), ["with-bom"]);
    assert_eq!(
        from_disk.objects[0].root.locate(&keys(&["data", "key"])),
        Span::new(7, 3)
    );
    assert_eq!(from_disk.files[0].line(2), Some("apiVersion: v1"));
}

// ---------------------------------------------------------------------------------------------
// 3. JSON files

fn check_json_deployment(file: &str, name: &str) {
    let path = fixture(file);
    let text = std::fs::read_to_string(&path).expect("fixture readable");
    let loaded = load_inputs(&[Input::Path(path)], &LoadOptions::default());
    assert!(loaded.problems.is_empty(), "{file}: {:?}", loaded.problems);
    assert_eq!(loaded.objects.len(), 1, "{file}");
    let object = &loaded.objects[0];
    assert_eq!(
        object.id,
        ObjectRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: Some(name.into()),
        }
    );
    assert_eq!(at(object, &["spec", "replicas"]).value, Value::Int(3));
    // Quoted JSON strings are never YAML 1.1 booleans.
    let env = at(object, &["spec", "template", "spec", "containers"])
        .as_seq()
        .and_then(|c| c[0].get("env"))
        .and_then(Node::as_seq)
        .expect("env list");
    assert_eq!(env[0].get("value").map(|v| &v.value), Some(&string("yes")));

    let (line, column) = position_of(&text, "\"replicas\"");
    assert_eq!(
        object.root.locate(&keys(&["spec", "replicas"])),
        Span::new(line, column),
        "{file}: spec.replicas"
    );
    let (line, column) = position_of(&text, "\"image\"");
    let image = vec![
        key("spec"),
        key("template"),
        key("spec"),
        key("containers"),
        PathStep::Index(0),
        key("image"),
    ];
    assert_eq!(
        object.root.locate(&image),
        Span::new(line, column),
        "{file}: image"
    );
}

#[test]
fn json_deployment_loads_with_line_numbers() {
    check_json_deployment("deployment.json", "json-web");
}

#[test]
fn tab_indented_json_deployment_loads_with_line_numbers() {
    let text = std::fs::read_to_string(fixture("deployment-tab-indented.json")).unwrap();
    assert!(text.contains("\n\t\t\"replicas\""), "fixture lost its tabs");
    check_json_deployment("deployment-tab-indented.json", "json-tabs");
}

// ---------------------------------------------------------------------------------------------
// 4. List kinds

#[test]
fn kind_list_expands_into_its_items() {
    let text = "\
apiVersion: v1
kind: List
metadata: {}
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: one
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: two
    namespace: prod
  spec:
    replicas: 2
";
    let loaded = load(text);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let ids: Vec<(&str, &str)> = loaded
        .objects
        .iter()
        .map(|o| (o.id.kind.as_str(), o.id.name.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(ids, [("ConfigMap", "one"), ("Deployment", "two")]);
    let deployment = &loaded.objects[1];
    assert_eq!(deployment.id.namespace.as_deref(), Some("prod"));
    assert_eq!(
        deployment.root.locate(&keys(&["spec", "replicas"])),
        Span::new(15, 5)
    );
    assert_eq!(
        deployment.root.locate(&keys(&["metadata", "namespace"])),
        Span::new(13, 5)
    );
}

#[test]
fn typed_list_items_get_their_api_version_and_kind_inferred() {
    let text = "\
apiVersion: apps/v1
kind: DeploymentList
items:
- metadata:
    name: web
  spec:
    replicas: 4
    template:
      spec:
        containers:
        - name: app
          image: nginx
- metadata:
    name: api
";
    let loaded = load(text);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(loaded.objects.len(), 2);
    for object in &loaded.objects {
        assert_eq!(object.id.api_version, "apps/v1");
        assert_eq!(object.id.kind, "Deployment");
        // The inferred identity is written into the object, so rules and the workload view see it.
        assert_eq!(at(object, &["apiVersion"]).value, string("apps/v1"));
        assert_eq!(at(object, &["kind"]).value, string("Deployment"));
    }
    assert_eq!(names(&loaded.objects), ["web", "api"]);
    let web = &loaded.objects[0];
    let view = seaworthy::workload::view(&web.root, &web.root.to_rego())
        .expect("an inferred Deployment has a view");
    assert_eq!(view["replicas"], regorus::Value::from(4i64));
    let image = vec![
        key("spec"),
        key("template"),
        key("spec"),
        key("containers"),
        PathStep::Index(0),
        key("image"),
    ];
    assert_eq!(web.root.locate(&image), Span::new(12, 11));
}

#[test]
fn list_item_without_kind_is_invalid() {
    // A plain `List` names no item kind, so an item without one cannot be identified.
    let text = "\
apiVersion: v1
kind: List
items:
- metadata:
    name: nameless
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: fine
";
    let loaded = load(text);
    assert_eq!(rules(&loaded), [INVALID_MANIFEST]);
    assert_eq!(loaded.problems[0].location.line, 4);
    assert_eq!(names(&loaded.objects), ["fine"]);
}

// ---------------------------------------------------------------------------------------------
// 5. Duplicate keys

#[test]
fn duplicate_key_is_reported_at_the_second_key_and_the_later_value_wins() {
    let text = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: dup
data:
  key: first
  other: x
  key: second
";
    let loaded = load(text);
    assert_eq!(loaded.objects.len(), 1);
    assert_eq!(rules(&loaded), [DUPLICATE_KEY]);
    let finding = &loaded.problems[0];
    assert_eq!(finding.severity, Severity::Error);
    assert_eq!(finding.location.file, "test.yaml");
    assert_eq!((finding.location.line, finding.location.column), (8, 3));
    assert!(finding.message.contains("\"key\""), "{}", finding.message);
    assert!(finding.message.contains("line 6"), "{}", finding.message);
    assert_eq!(finding.object.as_ref(), Some(&loaded.objects[0].id));

    let object = &loaded.objects[0];
    assert_eq!(at(object, &["data", "key"]).value, string("second"));
    assert_eq!(object.root.locate(&keys(&["data", "key"])), Span::new(8, 3));
    let data_keys: Vec<&str> = at(object, &["data"])
        .as_map()
        .unwrap()
        .iter()
        .map(|e| &*e.key)
        .collect();
    assert_eq!(
        data_keys,
        ["key", "other"],
        "the duplicate is not kept twice"
    );
}

#[test]
fn duplicate_keys_in_two_documents_point_at_their_own_lines() {
    let text = format!(
        "{}data:\n  a: 1\n  a: 2\n---\n{}  name: again\n",
        config_map("one"),
        config_map("two")
    );
    let loaded = load(&text);
    let lines: Vec<(u32, u32)> = loaded
        .problems
        .iter()
        .map(|p| (p.location.line, p.location.column))
        .collect();
    assert_eq!(rules(&loaded), [DUPLICATE_KEY, DUPLICATE_KEY]);
    assert_eq!(lines, [(7, 3), (13, 3)]);
    assert_eq!(names(&loaded.objects), ["one", "again"]);
    assert_eq!(
        loaded.problems[1].object.as_ref(),
        Some(&loaded.objects[1].id)
    );
}

#[test]
fn duplicate_key_in_a_list_item_names_that_item() {
    let text = "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: one
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: two
  data:
    a: x
    a: y
";
    let loaded = load(text);
    assert_eq!(names(&loaded.objects), ["one", "two"]);
    assert_eq!(rules(&loaded), [DUPLICATE_KEY]);
    let finding = &loaded.problems[0];
    assert_eq!((finding.location.line, finding.location.column), (14, 5));
    assert_eq!(
        finding.object.as_ref(),
        Some(&loaded.objects[1].id),
        "the duplicate is in ConfigMap two, not in the list's first item"
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Malformed input

#[test]
fn a_syntax_error_is_reported_and_neighbouring_documents_still_load() {
    let text = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: before
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: broken: value
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: after
";
    let loaded = load(text);
    assert_eq!(names(&loaded.objects), ["before", "after"]);
    assert_eq!(rules(&loaded), [INVALID_MANIFEST]);
    let finding = &loaded.problems[0];
    assert_eq!(finding.severity, Severity::Error);
    assert_eq!(finding.location.file, "test.yaml");
    assert_eq!(finding.location.line, 9, "{finding:?}");
    assert!(
        finding.message.starts_with("cannot parse YAML"),
        "{}",
        finding.message
    );
}

#[test]
fn an_error_at_the_end_of_a_document_points_into_that_document() {
    // The unterminated quote runs to the end of its document; the error must not point at the
    // next document (or past the end of the file).
    let text = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: \"unterminated
data:
  a: b

---
apiVersion: v1
kind: ConfigMap
metadata:
  name: after
";
    let loaded = load(text);
    assert_eq!(names(&loaded.objects), ["after"]);
    assert_eq!(rules(&loaded), [INVALID_MANIFEST]);
    let line = loaded.problems[0].location.line;
    assert!(
        (4..=7).contains(&line),
        "error on line {line}, outside the broken document"
    );
}

#[test]
fn documents_that_are_not_kubernetes_objects_are_invalid() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "no apiVersion and kind",
            "metadata:\n  name: x\n",
            "no apiVersion and kind",
        ),
        (
            "no kind",
            "apiVersion: v1\nmetadata:\n  name: x\n",
            "no apiVersion and kind",
        ),
        (
            "empty kind",
            "apiVersion: v1\nkind: \"\"\n",
            "kind must be a non-empty string",
        ),
        ("scalar document", "hello\n", "not a mapping"),
        ("sequence document", "- a\n- b\n", "not a mapping"),
        (
            "integer kind",
            "apiVersion: v1\nkind: 5\n",
            "kind must be a non-empty string",
        ),
        (
            "boolean kind",
            "apiVersion: v1\nkind: yes\n",
            "kind must be a non-empty string",
        ),
        (
            "mapping kind",
            "apiVersion: v1\nkind: {a: b}\n",
            "kind must be a non-empty string",
        ),
        (
            "integer apiVersion",
            "apiVersion: 1\nkind: Pod\n",
            "apiVersion must be a non-empty string",
        ),
        (
            "scalar metadata",
            "apiVersion: v1\nkind: Pod\nmetadata: web\n",
            "metadata must be a mapping",
        ),
    ];
    for (what, body, message) in cases {
        // A valid object before, so the broken one's line is not line 1.
        let text = format!("{}---\n{body}", config_map("ok"));
        let loaded = load(&text);
        assert_eq!(names(&loaded.objects), ["ok"], "{what}");
        assert_eq!(rules(&loaded), [INVALID_MANIFEST], "{what}");
        let finding = &loaded.problems[0];
        assert!(
            finding.message.contains(message),
            "{what}: {:?} does not contain {message:?}",
            finding.message
        );
        assert!(
            (6..=8).contains(&finding.location.line),
            "{what}: line {}",
            finding.location.line
        );
    }
}

#[test]
fn scalar_document_finding_points_at_its_line() {
    let loaded = load(&format!("{}---\nhello\n", config_map("ok")));
    assert_eq!(rules(&loaded), [INVALID_MANIFEST]);
    assert_eq!(
        (
            loaded.problems[0].location.line,
            loaded.problems[0].location.column
        ),
        (6, 1)
    );
}

#[test]
fn unknown_alias_is_an_error_not_a_panic() {
    let loaded = load(&format!("{}data:\n  a: *nowhere\n", config_map("x")));
    assert!(loaded.objects.is_empty());
    assert_eq!(rules(&loaded), [INVALID_MANIFEST]);
    assert_eq!(loaded.problems[0].location.line, 6);
}

// ---------------------------------------------------------------------------------------------
// 7. Limits

fn nested_flow(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn nesting_up_to_max_depth_is_accepted_and_one_more_is_too_deep() {
    let limits = Limits {
        max_depth: 4,
        ..Limits::default()
    };
    assert!(parse_str(&nested_flow(4), 0, limits).is_ok());
    let err = parse_str(&nested_flow(5), 0, limits).expect_err("five levels with a limit of four");
    assert_eq!(
        err,
        BuildError::TooDeep {
            span: Span::new(1, 5),
            limit: 4
        }
    );
    assert_eq!(err.to_string(), "nesting deeper than 4 levels");
}

#[test]
fn too_deep_document_gives_a_finding_and_others_still_load() {
    let limit = Limits::default().max_depth;
    let text = format!(
        "{}spec: {}\n---\n{}",
        config_map("deep"),
        nested_flow(limit + 10),
        config_map("shallow")
    );
    let loaded = load(&text);
    assert_eq!(names(&loaded.objects), ["shallow"]);
    assert_eq!(rules(&loaded), [INVALID_MANIFEST]);
    let finding = &loaded.problems[0];
    assert!(
        finding
            .message
            .contains(&format!("nesting deeper than {limit} levels")),
        "{}",
        finding.message
    );
    assert_eq!(finding.location.line, 5);

    // The limit is the one the options carry.
    let strict = LoadOptions {
        limits: Limits {
            max_depth: 3,
            ..Limits::default()
        },
        ..LoadOptions::default()
    };
    let loaded = load_text("s.yaml", &config_map("x"), &strict);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let loaded = load_text(
        "s.yaml",
        &format!("{}spec:\n  a:\n    b:\n      c: 1\n", config_map("x")),
        &strict,
    );
    assert!(loaded.objects.is_empty());
    assert_eq!(rules(&loaded), [INVALID_MANIFEST]);
    assert!(loaded.problems[0]
        .message
        .contains("nesting deeper than 3 levels"));
}

/// A "billion laughs" document: each level aliases the previous one ten times.
fn billion_laughs(levels: usize) -> String {
    let mut text = config_map("lol");
    text.push_str("data:\n");
    text.push_str("  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..levels {
        let previous = format!("*l{}", level - 1);
        let items = [previous.as_str(); 10].join(", ");
        text.push_str(&format!("  l{level}: &l{level} [{items}]\n"));
    }
    text
}

#[test]
fn billion_laughs_is_refused_by_the_alias_limit() {
    let text = billion_laughs(10);
    let err = parse_str(&text, 0, Limits::default()).expect_err("alias expansion must be bounded");
    match err {
        BuildError::AliasExpansion { limit, span, .. } => {
            assert_eq!(limit, Limits::default().max_alias_nodes);
            // 11 + 110 + 1110 + 11110 nodes fit under 100 000; the level after does not.
            assert_eq!(
                span.line, 10,
                "refused at the first level that crosses the limit"
            );
        }
        other => panic!("expected AliasExpansion, got {other:?}"),
    }

    let loaded = load(&format!("{text}---\n{}", config_map("after")));
    assert_eq!(
        names(&loaded.objects),
        ["after"],
        "no object is built from the bomb"
    );
    assert_eq!(rules(&loaded), [INVALID_MANIFEST]);
    assert!(
        loaded.problems[0]
            .message
            .contains("aliases expand to more than 100000 nodes"),
        "{}",
        loaded.problems[0].message
    );
}

#[test]
fn alias_expansion_up_to_the_limit_is_accepted() {
    // `*base` is a sequence of two scalars: 3 nodes per alias, 6 for two aliases.
    let text = "base: &base [a, b]\nuse: [*base, *base]\n";
    let at_limit = Limits {
        max_alias_nodes: 6,
        ..Limits::default()
    };
    let docs = parse_str(text, 0, at_limit).expect("6 alias nodes with a limit of 6");
    let root = docs[0].root.as_ref().expect("a root");
    let used = root
        .get("use")
        .and_then(Node::as_seq)
        .expect("use is a list");
    assert_eq!(used.len(), 2);
    assert_eq!(used[1].as_seq().map(<[Node]>::len), Some(2));

    let below = Limits {
        max_alias_nodes: 5,
        ..Limits::default()
    };
    assert!(matches!(
        parse_str(text, 0, below),
        Err(BuildError::AliasExpansion { limit: 5, .. })
    ));
}

#[test]
fn file_over_the_size_limit_is_reported_and_other_files_load() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    let small = dir.path().join("small.yaml");
    let exact = dir.path().join("exact.yaml");
    let mut big_text = config_map("big");
    big_text.push_str(&format!("data:\n  filler: {}\n", "x".repeat(400)));
    std::fs::write(&big, &big_text).unwrap();
    std::fs::write(&small, config_map("small")).unwrap();
    let exact_text = config_map("exact");
    std::fs::write(&exact, &exact_text).unwrap();

    let options = LoadOptions {
        max_file_size: 200,
        ..LoadOptions::default()
    };
    let loaded = load_inputs(
        &[
            Input::Path(big.clone()),
            Input::Path(small.clone()),
            Input::Path(exact.clone()),
        ],
        &options,
    );
    assert_eq!(names(&loaded.objects), ["small", "exact"]);
    assert_eq!(loaded.problems.len(), 1, "{:?}", loaded.problems);
    let finding = &loaded.problems[0];
    assert_eq!(finding.rule, INVALID_MANIFEST);
    assert_eq!(finding.severity, Severity::Error);
    assert_eq!(finding.location.file, big.to_string_lossy());
    assert!(finding.message.contains("200 bytes"), "{}", finding.message);
    assert!(
        finding.message.contains(&big_text.len().to_string()),
        "{}",
        finding.message
    );

    // A file of exactly the limit is not over it.
    let exact_limit = LoadOptions {
        max_file_size: exact_text.len() as u64,
        ..LoadOptions::default()
    };
    let loaded = load_inputs(&[Input::Path(exact)], &exact_limit);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(names(&loaded.objects), ["exact"]);
}

#[test]
fn unreadable_inputs_are_findings() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yaml");
    let binary = dir.path().join("binary.yaml");
    std::fs::write(&binary, b"apiVersion: v1\nkind: \xff\xfe\n").unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, config_map("good")).unwrap();
    let loaded = load_inputs(
        &[
            Input::Path(missing.clone()),
            Input::Path(binary.clone()),
            Input::Path(good),
        ],
        &LoadOptions::default(),
    );
    // The binary file is read as kubectl reads it (U+FFFD for each invalid byte), and reported.
    let kinds: Vec<&str> = loaded.objects.iter().map(|o| o.id.kind.as_str()).collect();
    assert_eq!(kinds, ["\u{fffd}\u{fffd}", "ConfigMap"]);
    let files: Vec<&str> = loaded
        .problems
        .iter()
        .map(|p| p.location.file.as_str())
        .collect();
    let missing_name = missing.to_string_lossy();
    let binary_name = binary.to_string_lossy();
    assert_eq!(files, [missing_name.as_ref(), binary_name.as_ref()]);
    assert!(loaded.problems.iter().all(|p| p.rule == INVALID_MANIFEST));
    let invalid = &loaded.problems[1];
    assert!(invalid.message.contains("UTF-8"), "{}", invalid.message);
    assert_eq!((invalid.location.line, invalid.location.column), (2, 7));
}

// ---------------------------------------------------------------------------------------------
// 8. Directories

#[test]
fn directories_are_walked_recursively_skipping_hidden_entries_and_other_extensions() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |relative: &str, name: &str| {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, config_map(name)).unwrap();
    };
    // Written out of order, so the order below comes from the loader, not from creation.
    write("e.Yaml", "e");
    write("f.yaml.bak", "backup");
    write("notes.txt", "notes");
    write(".hidden.yaml", "hidden-file");
    write(".git/config.yaml", "git");
    write("b/.secret/x.yaml", "hidden-dir");
    write("b/c.yml", "c");
    write("b/deeper/d.yaml", "d");
    write("a.yaml", "a");
    std::fs::write(
        root.join("g.JSON"),
        r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "g"}}"#,
    )
    .unwrap();
    write("h.YML", "h");

    let loaded = load_inputs(&[Input::Path(root.to_path_buf())], &LoadOptions::default());
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let relative: Vec<String> = loaded
        .files
        .iter()
        .map(|f| {
            Path::new(&f.name)
                .strip_prefix(root)
                .unwrap_or_else(|_| panic!("{} is not under the root", f.name))
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    assert_eq!(
        relative,
        [
            "a.yaml",
            "b/c.yml",
            "b/deeper/d.yaml",
            "e.Yaml",
            "g.JSON",
            "h.YML"
        ]
    );
    assert_eq!(names(&loaded.objects), ["a", "c", "d", "e", "g", "h"]);
    // Each object points at the file it came from.
    for object in &loaded.objects {
        let file = &loaded.files[object.file].name;
        let name = object.id.name.as_deref().unwrap();
        assert!(
            Path::new(file).file_stem().unwrap().to_string_lossy() == name,
            "{name} attributed to {file}"
        );
    }

    // Deterministic: the same walk twice gives the same order.
    let again = load_inputs(&[Input::Path(root.to_path_buf())], &LoadOptions::default());
    let first: Vec<&str> = loaded.files.iter().map(|f| f.name.as_str()).collect();
    let second: Vec<&str> = again.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(first, second);
}

#[test]
fn inputs_keep_their_order_and_a_hidden_file_named_explicitly_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let hidden = dir.path().join(".hidden.yaml");
    let plain = dir.path().join("plain.yaml");
    std::fs::write(&hidden, config_map("hidden")).unwrap();
    std::fs::write(&plain, config_map("plain")).unwrap();
    let loaded = load_inputs(
        &[Input::Path(plain), Input::Path(hidden)],
        &LoadOptions::default(),
    );
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(names(&loaded.objects), ["plain", "hidden"]);
}

#[cfg(unix)]
#[test]
fn symlinked_manifest_files_in_a_directory_are_read() {
    // A ConfigMap mounted as a volume looks like this: every file is a symlink into the hidden
    // `..data` directory. `kubectl apply -f DIR` reads such files.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("manifests");
    std::fs::create_dir_all(root.join("..2024_01_01")).unwrap();
    std::fs::write(root.join("..2024_01_01/app.yaml"), config_map("linked")).unwrap();
    std::os::unix::fs::symlink("..2024_01_01", root.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/app.yaml", root.join("app.yaml")).unwrap();
    std::fs::write(root.join("plain.yaml"), config_map("plain")).unwrap();

    let loaded = load_inputs(&[Input::Path(root)], &LoadOptions::default());
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(
        names(&loaded.objects),
        ["linked", "plain"],
        "the symlinked app.yaml is read once, the hidden ..data directory is not walked"
    );
}

// ---------------------------------------------------------------------------------------------
// 9. Helm output

#[test]
fn helm_source_markers_name_the_template_of_each_object() {
    let text = "\
---
# Source: mychart/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: web
---
# Source: mychart/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  replicas: 2
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: unmarked
";
    let loaded = load_text("rendered.yaml", text, &LoadOptions::default());
    let templates: Vec<Option<&str>> = loaded
        .objects
        .iter()
        .map(|o| o.template.as_deref())
        .collect();
    assert_eq!(
        templates,
        [
            Some("mychart/templates/service.yaml"),
            Some("mychart/templates/deployment.yaml"),
            None
        ]
    );
    // Findings carry the template too, and still name the rendered file and its line.
    assert_eq!(rules(&loaded), [DUPLICATE_KEY]);
    let finding = &loaded.problems[0];
    assert_eq!(finding.location.file, "rendered.yaml");
    assert_eq!(finding.location.line, 15);
    assert_eq!(
        finding.location.template.as_deref(),
        Some("mychart/templates/deployment.yaml")
    );

    let files = vec![loaded.file.clone()];
    let location = loaded.objects[1].location(&files, &keys(&["spec", "replicas"]));
    assert_eq!(location.file, "rendered.yaml");
    assert_eq!((location.line, location.column), (15, 3));
    assert_eq!(location.path, "spec.replicas");
    assert_eq!(
        location.template.as_deref(),
        Some("mychart/templates/deployment.yaml")
    );
}

// ---------------------------------------------------------------------------------------------
// 10. Anchors and merge keys

#[test]
fn merge_keys_fill_in_what_the_mapping_does_not_set() {
    let text = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: merged
defaults: &defaults
  a: base-a
  b: base-b
extra: &extra
  b: extra-b
  d: extra-d
data:
  <<: *defaults
  b: own-b
  c: own-c
before:
  b: own-b
  <<: *defaults
several:
  <<: [*defaults, *extra]
copy: *defaults
";
    let loaded = load(text);
    assert!(
        loaded.problems.is_empty(),
        "merging is not duplication: {:?}",
        loaded.problems
    );
    let object = &loaded.objects[0];
    let as_pairs = |path: &[&str]| -> Vec<(String, Value)> {
        let mut pairs: Vec<(String, Value)> = at(object, path)
            .as_map()
            .unwrap()
            .iter()
            .map(|e| (e.key.to_string(), e.value.value.clone()))
            .collect();
        pairs.sort_by(|x, y| x.0.cmp(&y.0));
        pairs
    };
    let pairs = |items: &[(&str, &str)]| -> Vec<(String, Value)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), string(v)))
            .collect()
    };
    assert_eq!(
        as_pairs(&["data"]),
        pairs(&[("a", "base-a"), ("b", "own-b"), ("c", "own-c")])
    );
    assert_eq!(
        as_pairs(&["before"]),
        pairs(&[("a", "base-a"), ("b", "own-b")])
    );
    // With several merged mappings, the earlier one wins.
    assert_eq!(
        as_pairs(&["several"]),
        pairs(&[("a", "base-a"), ("b", "base-b"), ("d", "extra-d")])
    );
    assert_eq!(
        as_pairs(&["copy"]),
        pairs(&[("a", "base-a"), ("b", "base-b")])
    );
    assert!(
        at(object, &["data"]).get("<<").is_none(),
        "the merge key itself is not kept"
    );
}

#[test]
fn an_anchor_on_a_mapping_key_can_be_aliased() {
    // go-yaml (and so kubectl) accepts anchors on keys; the alias then stands for the key's text.
    let text = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    &app app.kubernetes.io/name: web
spec:
  selector:
    matchLabels:
      *app : web
";
    let loaded = load(text);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(names(&loaded.objects), ["web"]);
    let object = &loaded.objects[0];
    assert_eq!(
        at(
            object,
            &["spec", "selector", "matchLabels", "app.kubernetes.io/name"]
        )
        .value,
        string("web")
    );
}

// ---------------------------------------------------------------------------------------------
// 11. Node::locate and display_path

const LOCATE_DOC: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: nginx
        args:
          - --port
          - \"8080\"
      -   name: sidecar
          image: envoy
";

fn containers() -> Vec<PathStep> {
    keys(&["spec", "template", "spec", "containers"])
}

fn with(mut base: Vec<PathStep>, rest: &[PathStep]) -> Vec<PathStep> {
    base.extend_from_slice(rest);
    base
}

#[test]
fn locate_points_at_keys_items_and_nearest_parents() {
    let loaded = load(LOCATE_DOC);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let root = &loaded.objects[0].root;
    let cases: Vec<(&str, Vec<PathStep>, Span)> = vec![
        ("the document", vec![], Span::new(1, 1)),
        (
            "existing field",
            keys(&["metadata", "name"]),
            Span::new(4, 3),
        ),
        ("containers key", containers(), Span::new(8, 7)),
        (
            "first item",
            with(containers(), &[PathStep::Index(0)]),
            Span::new(9, 9),
        ),
        (
            "second item, written with extra spaces after the dash",
            with(containers(), &[PathStep::Index(1)]),
            Span::new(14, 11),
        ),
        (
            "field of an item",
            with(containers(), &[PathStep::Index(1), key("image")]),
            Span::new(15, 11),
        ),
        (
            "scalar item",
            with(
                containers(),
                &[PathStep::Index(0), key("args"), PathStep::Index(1)],
            ),
            Span::new(13, 13),
        ),
        (
            "missing field of an item → the item",
            with(containers(), &[PathStep::Index(0), key("readinessProbe")]),
            Span::new(9, 9),
        ),
        (
            "missing nested field → nearest existing parent",
            keys(&["spec", "template", "metadata", "labels"]),
            Span::new(6, 3),
        ),
        (
            "missing top-level field",
            keys(&["spec", "replicas"]),
            Span::new(5, 1),
        ),
        (
            "index past the end → the list",
            with(containers(), &[PathStep::Index(7)]),
            Span::new(8, 7),
        ),
        (
            "key into a list → the list",
            with(containers(), &[key("name")]),
            Span::new(8, 7),
        ),
    ];
    for (what, path, expected) in cases {
        assert_eq!(
            root.locate(&path),
            expected,
            "{what}: {}",
            display_path(&path)
        );
    }
}

#[test]
fn locate_in_a_flow_sequence_item() {
    let loaded = load(&format!(
        "{}spec:\n  ports: [{{port: 80}}, {{port: 443, name: https}}]\n",
        config_map("flow")
    ));
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let root = &loaded.objects[0].root;
    let second = vec![key("spec"), key("ports"), PathStep::Index(1)];
    let name = with(second.clone(), &[key("name")]);
    assert_eq!(root.locate(&name), Span::new(6, 35));
    // The item's own position is its opening brace or its first key, never the previous item.
    let item = root.locate(&second);
    assert_eq!(item.line, 6);
    assert!(
        (23..=24).contains(&item.column),
        "item at column {}",
        item.column
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    let line = "  labels: {owner: \"José 🚀\", team: café, tier: web}";
    let text = format!("{}{line}\n", config_map("utf8"));
    let loaded = load(&text);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let root = &loaded.objects[0].root;
    let (l, c) = position_of(&text, "tier:");
    assert_eq!(c, 41, "self-check: `tier` is the 41st character");
    assert_eq!(
        root.locate(&keys(&["metadata", "labels", "tier"])),
        Span::new(l, c)
    );
    let (l, c) = position_of(&text, "team:");
    assert_eq!(
        root.locate(&keys(&["metadata", "labels", "team"])),
        Span::new(l, c)
    );
}

#[test]
fn display_path_renders_kubectl_style_paths() {
    let path = with(containers(), &[PathStep::Index(2), key("image")]);
    assert_eq!(
        display_path(&path),
        "spec.template.spec.containers[2].image"
    );
    assert_eq!(
        display_path(&keys(&["metadata", "annotations", "seaworthy.dev/ignore"])),
        "metadata.annotations[\"seaworthy.dev/ignore\"]"
    );
    assert_eq!(display_path(&[]), "");
}

// ---------------------------------------------------------------------------------------------
// 11. YAML as kubectl reads it: shapes go-yaml v2 accepts, the conformance fixtures, and what it
//     rejects (every fixture was checked with `kubectl label --local -f FILE k=v -o json`)

fn conformance(kind: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/yaml-conformance")
        .join(kind)
        .join(name)
}

fn locate(object: &Object, path: &[PathStep]) -> (u32, u32) {
    let span = object.root.locate(path);
    (span.line, span.column)
}

/// Whether every step of `path` exists (`locate` falls back to the nearest parent).
fn exists(node: &Node, path: &[PathStep]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return true;
    };
    let child = match (first, &node.value) {
        (PathStep::Key(k), Value::Map(_)) => node.get(k),
        (PathStep::Index(i), Value::Seq(items)) => items.get(*i),
        _ => None,
    };
    child.is_some_and(|c| exists(c, rest))
}

fn step(s: &str) -> PathStep {
    match s.parse::<usize>() {
        Ok(i) => PathStep::Index(i),
        Err(_) => key(s),
    }
}

/// A dotted path whose numeric steps are indices: `spec.containers.0.args`.
fn dotted(path: &str) -> Vec<PathStep> {
    path.split('.').map(step).collect()
}

#[test]
fn a_flow_sequence_closed_at_its_keys_indentation_is_read() {
    // Tekton's release manifests close `args: [` at the key's indentation; go-yaml v2 does not
    // check indentation inside flow collections.
    let text = "\
apiVersion: v1
kind: Pod
metadata:
  name: sleeper
spec:
  containers:
  - name: sleeper
    image: busybox
    args: [
      \"sleep\", \"3600\"
    ]
";
    let loaded = load(text);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let pod = &loaded.objects[0];
    let args = dotted("spec.containers.0.args");
    assert_eq!(
        pod.root
            .get_path(&["spec"])
            .and_then(|s| s.get("containers"))
            .and_then(Node::as_seq)
            .and_then(|c| c[0].get("args"))
            .and_then(Node::as_seq)
            .map(<[Node]>::len),
        Some(2)
    );
    assert_eq!(locate(pod, &args), (9, 5));
    assert_eq!(
        locate(pod, &with(args.clone(), &[PathStep::Index(1)])),
        (10, 16)
    );
}

#[test]
fn a_multi_line_quoted_scalar_closed_left_of_its_key_is_read() {
    let text = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: quoted
  annotations:
    example.com/json: '[
      {\"a\": 1}
    ]'
    example.com/double: \"one
  two
\"
    example.com/after: x
";
    let loaded = load(text);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let object = &loaded.objects[0];
    let annotations = ["metadata", "annotations"];
    let annotation = |k: &str| {
        let mut path = annotations.to_vec();
        path.push(k);
        at(object, &path).value.clone()
    };
    // Line breaks in a flow scalar fold into spaces, as kubectl stores them.
    assert_eq!(annotation("example.com/json"), string("[ {\"a\": 1} ]"));
    assert_eq!(annotation("example.com/double"), string("one two "));
    assert_eq!(
        locate(
            object,
            &keys(&["metadata", "annotations", "example.com/after"])
        ),
        (12, 5)
    );
}

/// Every `.yaml` fixture of a conformance folder, sorted.
fn conformance_files(kind: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(conformance(kind, ""))
        .expect("conformance fixtures")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_conformance_fixture_reads_as_kubectl_reads_it() {
    let files = conformance_files("valid");
    assert!(files.len() >= 8, "fixtures missing: {files:?}");
    for file in files {
        let loaded = load_inputs(&[Input::Path(file.clone())], &LoadOptions::default());
        assert!(
            loaded.problems.is_empty(),
            "{}: {:?}",
            file.display(),
            loaded.problems
        );
        let ours: Vec<serde_json::Value> =
            loaded.objects.iter().map(|o| o.root.to_json()).collect();
        let expected_file = file.with_extension("kubectl.json");
        let expected: Vec<serde_json::Value> = serde_json::from_str(
            &std::fs::read_to_string(&expected_file).expect("kubectl's reading of the fixture"),
        )
        .expect("valid JSON");
        assert_eq!(
            serde_json::Value::Array(ours),
            serde_json::Value::Array(expected),
            "{} is read differently from kubectl",
            file.display()
        );
    }
}

/// (fixture, object index, dotted path, line, column) — where a finding at that path points.
const CONFORMANCE_POSITIONS: &[(&str, usize, &str, u32, u32)] = &[
    ("flow-across-lines.yaml", 0, "metadata.labels.tier", 8, 5),
    (
        "flow-across-lines.yaml",
        0,
        "spec.containers.0.args.0",
        16,
        9,
    ),
    (
        "flow-across-lines.yaml",
        0,
        "spec.containers.0.args.1",
        16,
        18,
    ),
    (
        "flow-across-lines.yaml",
        0,
        "spec.containers.0.env.1.value",
        21,
        10,
    ),
    ("flow-across-lines.yaml", 0, "spec.containers.1", 23, 7),
    (
        "flow-across-lines.yaml",
        0,
        "spec.containers.1.args.2",
        26,
        20,
    ),
    (
        "flow-across-lines.yaml",
        0,
        "spec.containers.1.ports.0.name",
        29,
        3,
    ),
    ("flow-across-lines.yaml", 0, "spec.tolerations", 30, 3),
    (
        "flow-across-lines.yaml",
        0,
        "spec.nodeSelector.disktype",
        33,
        3,
    ),
    (
        "quoted-scalars.yaml",
        0,
        "metadata.annotations.example.com/left",
        10,
        5,
    ),
    (
        "quoted-scalars.yaml",
        0,
        "metadata.annotations.example.com/single",
        15,
        5,
    ),
    ("quoted-scalars.yaml", 0, "data.closing-at-key", 19, 3),
    ("quoted-scalars.yaml", 0, "data.plain-multi", 22, 3),
    ("block-scalars.yaml", 0, "data.strip", 21, 3),
    ("block-scalars.yaml", 0, "data.indicator", 23, 3),
    ("block-scalars.yaml", 0, "data.after", 28, 3),
    (
        "sequence-indentation.yaml",
        0,
        "spec.template.spec.containers.0.args.1",
        18,
        11,
    ),
    (
        "sequence-indentation.yaml",
        0,
        "spec.template.spec.containers.1",
        22,
        9,
    ),
    (
        "sequence-indentation.yaml",
        0,
        "spec.template.spec.containers.1.env.0.value",
        26,
        15,
    ),
    (
        "sequence-indentation.yaml",
        0,
        "spec.template.spec.containers.1.env.1.valueFrom",
        28,
        13,
    ),
    (
        "sequence-indentation.yaml",
        0,
        "spec.template.spec.volumes.1.name",
        34,
        11,
    ),
    ("tabs.yaml", 0, "data.after-colon", 9, 3),
    ("tabs.yaml", 0, "data.single", 11, 3),
    ("anchors-merge.yaml", 0, "spec.selector.matchLabels", 11, 5),
    (
        "anchors-merge.yaml",
        0,
        "spec.template.spec.containers.1.name",
        23,
        11,
    ),
    // A merged key points where it is written: in the anchored mapping.
    (
        "anchors-merge.yaml",
        0,
        "spec.template.spec.containers.1.image",
        19,
        11,
    ),
    (
        "anchors-merge.yaml",
        0,
        "spec.template.spec.containers.2.resources.requests",
        28,
        13,
    ),
    ("document-markers.yaml", 0, "kind", 4, 1),
    ("document-markers.yaml", 1, "metadata.name", 12, 3),
    ("document-markers.yaml", 2, "data.dashes", 22, 3),
    ("comments.yaml", 0, "metadata.name", 7, 3),
    (
        "comments.yaml",
        0,
        "metadata.annotations.example.com/b",
        11,
        5,
    ),
    ("comments.yaml", 0, "data.list.1", 14, 5),
    ("comments.yaml", 0, "data.last", 17, 3),
];

/// Rewrites a fixture's text: its line endings, a byte order mark.
type Rewrite = fn(&str) -> String;

/// Splits a dotted path, keeping keys that contain dots (`example.com/left`) whole.
fn conformance_path(path: &str) -> Vec<PathStep> {
    match path.find("example.com/") {
        Some(at) => {
            let mut steps = dotted(path[..at].trim_end_matches('.'));
            steps.push(key(&path[at..]));
            steps
        }
        None => dotted(path),
    }
}

#[test]
fn conformance_fixtures_keep_their_positions_with_every_line_ending_and_a_bom() {
    let variants: [(&str, Rewrite); 4] = [
        ("LF", |t| t.to_string()),
        ("CRLF", |t| t.replace('\n', "\r\n")),
        ("lone CR", |t| t.replace('\n', "\r")),
        ("BOM + CRLF", |t| {
            format!("\u{feff}{}", t.replace('\n', "\r\n"))
        }),
    ];
    for (variant, transform) in variants {
        for (file, index, path, line, column) in CONFORMANCE_POSITIONS {
            let text = std::fs::read_to_string(conformance("valid", file)).expect("fixture");
            let loaded = load_text(file, &transform(&text), &LoadOptions::default());
            assert!(
                loaded.problems.is_empty(),
                "{file} ({variant}): {:?}",
                loaded.problems
            );
            let object = &loaded.objects[*index];
            let steps = conformance_path(path);
            assert!(
                exists(&object.root, &steps),
                "{file}: {path} does not exist"
            );
            assert_eq!(
                locate(object, &steps),
                (*line, *column),
                "{file} ({variant}): {path}"
            );
        }
    }
}

#[test]
fn every_line_ending_reads_to_the_same_values() {
    for file in conformance_files("valid") {
        let text = std::fs::read_to_string(&file).expect("fixture");
        let values = |text: &str| -> Vec<serde_json::Value> {
            load_text("x.yaml", text, &LoadOptions::default())
                .objects
                .iter()
                .map(|o| o.root.to_json())
                .collect()
        };
        let lf = values(&text);
        assert_eq!(
            values(&text.replace('\n', "\r\n")),
            lf,
            "{}",
            file.display()
        );
        assert_eq!(values(&text.replace('\n', "\r")), lf, "{}", file.display());
    }
}

/// (fixture, line, column or 0 for any, text the message contains, objects still read)
const REJECTED: &[(&str, u32, u32, &str, &[&str])] = &[
    ("bad-dedent.yaml", 5, 2, "did not find expected key", &[]),
    (
        "content-on-separator.yaml",
        1,
        5,
        "invalid Yaml document separator",
        &["inline"],
    ),
    (
        "control-character.yaml",
        6,
        0,
        "control characters are not allowed",
        &[],
    ),
    (
        "mapping-after-scalar.yaml",
        5,
        11,
        "mapping values are not allowed in this context",
        &[],
    ),
    (
        "tab-indentation.yaml",
        4,
        1,
        "found character that cannot start any token",
        &[],
    ),
    (
        "unclosed-flow.yaml",
        6,
        0,
        "did not find expected ',' or ']'",
        &[],
    ),
    ("unknown-alias.yaml", 6, 6, "unknown anchor", &[]),
    (
        "unterminated-quote.yaml",
        0,
        0,
        "found unexpected end of stream",
        &[],
    ),
    (
        "yaml-directive.yaml",
        1,
        1,
        "directive `%YAML 1.1`",
        &["after-directive"],
    ),
];

#[test]
fn what_kubectl_rejects_is_rejected_where_it_is() {
    let files = conformance_files("invalid");
    assert_eq!(
        files.len(),
        REJECTED.len(),
        "every rejected fixture has an expectation"
    );
    for (file, line, column, message, objects) in REJECTED {
        let loaded = load_inputs(
            &[Input::Path(conformance("invalid", file))],
            &LoadOptions::default(),
        );
        assert_eq!(names(&loaded.objects), *objects, "{file}");
        let found: Vec<&str> = loaded.problems.iter().map(|p| p.rule.as_str()).collect();
        assert_eq!(found, [INVALID_MANIFEST], "{file}: {:?}", loaded.problems);
        let finding = &loaded.problems[0];
        assert!(
            finding.message.contains(message),
            "{file}: {}",
            finding.message
        );
        if *line != 0 {
            assert_eq!(finding.location.line, *line, "{file}: {}", finding.message);
        }
        if *column != 0 {
            assert_eq!(
                finding.location.column, *column,
                "{file}: {}",
                finding.message
            );
        }
    }
}

#[test]
fn parse_errors_never_claim_kubectl_rejects_what_it_reads() {
    // A message may say kubectl rejects a file only for the shapes kubectl was seen to reject.
    for file in conformance_files("invalid") {
        let loaded = load_inputs(&[Input::Path(file.clone())], &LoadOptions::default());
        for problem in &loaded.problems {
            let name = file.file_name().unwrap_or_default().to_string_lossy();
            if problem.message.contains("kubectl") {
                assert!(
                    name == "content-on-separator.yaml" || name == "yaml-directive.yaml",
                    "{name}: {}",
                    problem.message
                );
            }
        }
    }
}

#[test]
fn yaml_1_2_directive_is_refused_as_go_yaml_v2_refuses_it() {
    // libyaml takes `%YAML 1.2`; go-yaml v2 ("found incompatible YAML document") does not.
    let err =
        parse_str("%YAML 1.2\n---\na: 1\n", 0, Limits::default()).expect_err("YAML 1.2 is refused");
    assert!(err.to_string().contains("incompatible"), "{err}");
    assert_eq!(err.span(), Span::new(1, 1));
    let docs = parse_str(
        "%YAML 1.1\n%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
        0,
        Limits::default(),
    )
    .expect("YAML 1.1 and %TAG are YAML go-yaml v2 reads within one document");
    let root = docs[0].root.as_ref().expect("a root");
    assert_eq!(root.get("a").map(|n| n.value.clone()), Some(string("1")));
}

#[test]
fn a_document_after_an_end_marker_without_a_separator_is_reported_not_linted() {
    // kubectl reads "e1" only: its reader splits at `---` lines, go-yaml decodes the first document.
    let text = format!(
        "{}...\n{}---\n{}",
        config_map("e1"),
        config_map("e2"),
        config_map("e3")
    );
    let loaded = load(&text);
    assert_eq!(names(&loaded.objects), ["e1", "e3"]);
    assert_eq!(rules(&loaded), [INVALID_MANIFEST]);
    let finding = &loaded.problems[0];
    assert_eq!((finding.location.line, finding.location.column), (6, 1));
    assert!(
        finding
            .message
            .contains("kubectl ignores everything from here"),
        "{}",
        finding.message
    );
}

#[test]
fn lone_carriage_returns_count_as_line_breaks() {
    let text = config_map("cr").replace('\n', "\r") + "data:\r  a: b\r  a: c\r";
    let loaded = load(&text);
    assert_eq!(names(&loaded.objects), ["cr"]);
    assert_eq!(locate(&loaded.objects[0], &keys(&["data", "a"])), (7, 3));
    assert_eq!(rules(&loaded), [DUPLICATE_KEY]);
    assert_eq!(loaded.problems[0].location.line, 7);
    assert_eq!(loaded.file.line(6), Some("  a: b"));

    let broken = load("apiVersion: v1\rkind: ConfigMap\rmetadata:\r  name: x\r  bad: [\r");
    assert_eq!(rules(&broken), [INVALID_MANIFEST]);
    assert_eq!(broken.problems[0].location.line, 5, "{:?}", broken.problems);
}

#[test]
fn a_byte_order_mark_at_the_start_of_a_later_document_is_ignored() {
    let text = format!("{}---\n\u{feff}{}", config_map("one"), config_map("two"));
    let loaded = load(&text);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(names(&loaded.objects), ["one", "two"]);
    assert_eq!(locate(&loaded.objects[1], &keys(&["kind"])), (7, 1));
    assert_eq!(locate(&loaded.objects[1], &keys(&["apiVersion"])), (6, 1));
}

#[test]
fn invalid_utf8_is_reported_at_its_line_and_column_and_read_as_kubectl_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.yaml");
    std::fs::write(
        &path,
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: latin1\ndata:\n  city: \"Z\xfcrich\"\n  other: \xe9\n",
    )
    .unwrap();
    let loaded = load_inputs(&[Input::Path(path.clone())], &LoadOptions::default());
    assert_eq!(names(&loaded.objects), ["latin1"]);
    assert_eq!(
        at(&loaded.objects[0], &["data", "city"]).value,
        string("Z\u{fffd}rich")
    );
    assert_eq!(loaded.problems.len(), 1, "{:?}", loaded.problems);
    assert_eq!(loaded.problems[0].rule, INVALID_MANIFEST);
    let finding = &loaded.problems[0];
    assert_eq!((finding.location.line, finding.location.column), (6, 11));
    assert!(finding.message.contains("0xFC"), "{}", finding.message);
    assert!(finding.message.contains("1 more"), "{}", finding.message);
    assert!(!finding.message.contains("offset"), "{}", finding.message);
}

#[test]
fn utf16_files_with_a_byte_order_mark_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("utf16.yaml");
    let mut bytes = vec![0xFF, 0xFE];
    for unit in config_map("wide").encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    std::fs::write(&path, bytes).unwrap();
    let loaded = load_inputs(&[Input::Path(path)], &LoadOptions::default());
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(names(&loaded.objects), ["wide"]);
}

// ---------------------------------------------------------------------------------------------
// 12. A linter that cannot be tied up

#[test]
fn duplicate_keys_in_a_huge_mapping_are_found_in_linear_time() {
    let keys_count = 200_000;
    let mut text = config_map("huge");
    text.push_str("data:\n");
    for i in 0..keys_count {
        text.push_str(&format!("  k{i}: v\n"));
    }
    text.push_str("  k7: again\n  k199999: again\n");
    let started = std::time::Instant::now();
    let loaded = load(&text);
    let elapsed = started.elapsed();
    assert_eq!(rules(&loaded), [DUPLICATE_KEY, DUPLICATE_KEY]);
    let lines: Vec<u32> = loaded.problems.iter().map(|p| p.location.line).collect();
    assert_eq!(lines, [keys_count + 6, keys_count + 7]);
    assert!(loaded.problems[0].message.contains("first on line 13"));
    assert_eq!(
        at(&loaded.objects[0], &["data", "k7"]).value,
        string("again")
    );
    // Quadratic, this took minutes; linear, it takes well under a second in a release build.
    assert!(
        elapsed < std::time::Duration::from_secs(30),
        "200,000 keys took {elapsed:?}"
    );
}

#[test]
fn duplicate_keys_across_many_list_items_name_their_own_item() {
    let mut text = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for i in 0..2_000 {
        text.push_str(&format!(
            "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: cm{i}, name: cm{i}}}\n"
        ));
    }
    let loaded = load(&text);
    assert_eq!(loaded.objects.len(), 2_000);
    assert_eq!(loaded.problems.len(), 2_000);
    let last = loaded.problems.last().expect("a finding");
    assert_eq!(
        last.object.as_ref().and_then(|o| o.name.as_deref()),
        Some("cm1999")
    );
}

/// A document of `aliases` aliases to a 10-item list: 11 nodes each.
fn aliasing_document(name: &str, aliases: usize) -> String {
    let mut text = config_map(name);
    text.push_str("data:\n  base: &base [a, b, c, d, e, f, g, h, i, j]\n  uses: [");
    text.push_str(&vec!["*base"; aliases].join(", "));
    text.push_str("]\n");
    text
}

#[test]
fn alias_expansion_is_capped_per_file_across_its_documents() {
    let limits = Limits {
        max_alias_nodes: 1_000,
        max_alias_nodes_per_file: 5_000,
        ..Limits::default()
    };
    let options = LoadOptions {
        limits,
        ..LoadOptions::default()
    };
    // Each document adds 990 nodes, under the per-document limit; the sixth crosses 5,000.
    let text: Vec<String> = (0..8)
        .map(|i| aliasing_document(&format!("d{i}"), 90))
        .collect();
    let loaded = load_text("many.yaml", &text.join("---\n"), &options);
    assert_eq!(names(&loaded.objects), ["d0", "d1", "d2", "d3", "d4"]);
    assert_eq!(loaded.problems.len(), 3, "{:?}", loaded.problems);
    let first = &loaded.problems[0];
    assert_eq!(first.rule, INVALID_MANIFEST);
    assert_eq!(first.location.file, "many.yaml");
    // The sixth document starts on line 5 * 8 + 1; its aliases are on its 7th line.
    assert_eq!(first.location.line, 5 * 8 + 7, "{}", first.message);
    assert!(
        first.message.contains("more than 5000 nodes in this file"),
        "{}",
        first.message
    );
    // A document without aliases after the cap is still read.
    let mixed = format!("{}---\n{}", text.join("---\n"), config_map("plain"));
    assert!(names(&load_text("many.yaml", &mixed, &options).objects).contains(&"plain".to_string()));
}

#[test]
fn alias_expansion_is_capped_per_run_across_files() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..4 {
        std::fs::write(
            dir.path().join(format!("aliases-{i}.yaml")),
            aliasing_document(&format!("a{i}"), 90),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("plain.yaml"), config_map("plain")).unwrap();
    let options = LoadOptions {
        limits: Limits {
            max_alias_nodes_per_run: 3_000,
            ..Limits::default()
        },
        ..LoadOptions::default()
    };
    let loaded = load_inputs(&[Input::Path(dir.path().to_path_buf())], &options);
    // 990 nodes per file: three files fit in 3,000, the fourth (whichever is read last) does not.
    assert_eq!(loaded.objects.len(), 4, "{:?}", names(&loaded.objects));
    assert!(names(&loaded.objects).contains(&"plain".to_string()));
    assert_eq!(loaded.problems.len(), 1, "{:?}", loaded.problems);
    let problem = &loaded.problems[0];
    assert!(problem.location.file.contains("aliases-"), "{problem:?}");
    assert_eq!(problem.location.line, 7);
    assert!(
        problem.message.contains("in this run (all files together)"),
        "{}",
        problem.message
    );
}
