//! Gatekeeper ConstraintTemplates and Constraints, unchanged: each Constraint becomes a rule
//! `gatekeeper/<kind, lowercase>/<constraint name>` of the catalog. Its generated source matches
//! the object as Gatekeeper's `spec.match` does, builds Gatekeeper's input (`input.review`,
//! `input.parameters`) and evaluates the template's `violation` with it (`with input as`, so the
//! rule runs on the interpreter); `data.inventory` is seaworthy's, which has Gatekeeper's layout.
//! The template's Rego and libs keep their text and their lines (the source is padded so that an
//! error names the line of the YAML file); only package names are rewritten, so that templates
//! and their `lib.*` packages cannot collide, as Gatekeeper does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{json, Value as Json};

use crate::engine::{Catalog, PolicyError, PolicySource};
use crate::manifest::{self, node::Node, LoadOptions, Object};

/// The Gatekeeper target whose Rego seaworthy runs (admission of Kubernetes objects).
const TARGET: &str = "admission.k8s.gatekeeper.sh";
const TEMPLATE_GROUP: &str = "templates.gatekeeper.sh/";
const CONSTRAINT_GROUP: &str = "constraints.gatekeeper.sh/";
/// The package of the generated matching helpers.
const MATCHING: &str = "seaworthy.gatekeeper.matching";
/// Gatekeeper's annotation naming the kinds a template reads from `data.inventory`.
const SYNC_ANNOTATION: &str = "metadata.gatekeeper.sh/requires-sync-data";

/// What loading policies of another tool gave: the sources of the rules that load, and an error
/// for each template, constraint or policy file that does not (the others still run).
#[derive(Default)]
pub struct Loaded {
    pub sources: Vec<PolicySource>,
    pub errors: Vec<PolicyError>,
}

struct Template {
    file: String,
    line: u32,
    name: String,
    kind: String,
    /// The Rego sources (the template's, then its libs), padded and renamed.
    sources: Vec<String>,
    reads_inventory: bool,
    reads: Vec<String>,
    title: Option<String>,
}

struct Constraint {
    file: String,
    line: u32,
    kind: String,
    name: String,
    matcher: Json,
    parameters: Json,
    action: String,
}

/// Reads every YAML and JSON file under `dirs` and builds the rules of the Constraints whose
/// template is there. A template or constraint that cannot load is an error naming its file and
/// line; the others still load.
pub fn load(dirs: &[PathBuf]) -> Loaded {
    let mut loaded = Loaded::default();
    let mut templates: BTreeMap<String, Template> = BTreeMap::new();
    let mut constraints: Vec<Constraint> = Vec::new();
    for dir in dirs {
        let files = match files_in(dir, &[".yaml", ".yml", ".json"]) {
            Ok(files) => files,
            Err(e) => {
                loaded.errors.push(e);
                continue;
            }
        };
        for path in files {
            let name = path.display().to_string();
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) => {
                    loaded.errors.push(PolicyError::Read {
                        path: name,
                        message: e.to_string(),
                    });
                    continue;
                }
            };
            if !text.contains("gatekeeper.sh") {
                continue;
            }
            let file = manifest::load_text(&name, &text, &LoadOptions::default());
            for problem in &file.problems {
                if problem.rule == manifest::INVALID_MANIFEST {
                    loaded.errors.push(PolicyError::Syntax {
                        file: name.clone(),
                        position: format!("{}:{}", problem.location.line, problem.location.column),
                        message: problem.message.clone(),
                    });
                }
            }
            for object in &file.objects {
                let result = if object.id.kind == "ConstraintTemplate"
                    && object.id.api_version.starts_with(TEMPLATE_GROUP)
                {
                    template_of(object, &name, &text).map(|t| {
                        if let Some(other) = templates.get(&t.kind) {
                            return Err(invalid(
                                &name,
                                t.line,
                                format!(
                                    "a ConstraintTemplate for kind {} is already defined in {}:{}",
                                    t.kind, other.file, other.line
                                ),
                            ));
                        }
                        templates.insert(t.kind.clone(), t);
                        Ok(())
                    })
                } else if object.id.api_version.starts_with(CONSTRAINT_GROUP) {
                    constraint_of(object, &name).map(|c| {
                        constraints.push(c);
                        Ok(())
                    })
                } else {
                    Ok(Ok(()))
                };
                if let Err(e) | Ok(Err(e)) = result {
                    loaded.errors.push(e);
                }
            }
        }
    }
    let mut wrappers: BTreeMap<String, Vec<PolicySource>> = BTreeMap::new();
    let mut seen: BTreeMap<String, (String, u32)> = BTreeMap::new();
    for (index, constraint) in constraints.iter().enumerate() {
        let Some(template) = templates.get(&constraint.kind) else {
            loaded.errors.push(invalid(
                &constraint.file,
                constraint.line,
                format!(
                    "constraint {} has kind {}, and no ConstraintTemplate in the Gatekeeper folders defines that kind",
                    constraint.name, constraint.kind
                ),
            ));
            continue;
        };
        let id = rule_id(&constraint.kind, &constraint.name);
        if let Some((file, line)) =
            seen.insert(id.clone(), (constraint.file.clone(), constraint.line))
        {
            loaded.errors.push(invalid(
                &constraint.file,
                constraint.line,
                format!("constraint {id} is already defined in {file}:{line}"),
            ));
            continue;
        }
        match wrapper(template, constraint, index) {
            Ok(source) => wrappers
                .entry(constraint.kind.clone())
                .or_default()
                .push(source),
            Err(e) => loaded.errors.push(e),
        }
    }
    let mut matching_added = false;
    for (kind, template) in &templates {
        let mut sources: Vec<PolicySource> = template
            .sources
            .iter()
            .map(|text| PolicySource {
                file: template.file.clone(),
                text: text.clone(),
                builtin: false,
                rego_v0: true,
            })
            .collect();
        let rules = wrappers.remove(kind).unwrap_or_default();
        sources.extend(rules);
        // Each template with its constraints is checked alone first, so that a broken one is
        // an error of its own file and the others still run.
        let mut check = vec![matching_source()];
        check.extend(sources.iter().cloned());
        if let Err(e) = Catalog::from_policy_sources(check) {
            loaded.errors.push(e);
            continue;
        }
        if !matching_added {
            loaded.sources.push(matching_source());
            matching_added = true;
        }
        loaded.sources.extend(sources);
    }
    loaded
}

/// The rule id of a constraint: `gatekeeper/<kind, lowercase>/<name>`.
pub fn rule_id(kind: &str, name: &str) -> String {
    format!("gatekeeper/{}/{}", kind.to_ascii_lowercase(), name)
}

fn invalid(file: &str, line: u32, message: String) -> PolicyError {
    PolicyError::Syntax {
        file: file.to_string(),
        position: format!("{line}:1"),
        message,
    }
}

fn text_at<'a>(node: &'a Node, path: &[&str]) -> Option<&'a str> {
    node.get_path(path).and_then(Node::as_str)
}

fn template_of(object: &Object, file: &str, text: &str) -> Result<Template, PolicyError> {
    let root = &object.root;
    let line = root.span.line;
    let name = object.id.name.clone().unwrap_or_default();
    let kind = text_at(root, &["spec", "crd", "spec", "names", "kind"])
        .ok_or_else(|| {
            invalid(
                file,
                line,
                format!("ConstraintTemplate {name} has no spec.crd.spec.names.kind"),
            )
        })?
        .to_string();
    if !kind.chars().all(|c| c.is_ascii_alphanumeric()) || kind.is_empty() {
        return Err(invalid(
            file,
            line,
            format!("ConstraintTemplate {name}: kind {kind:?} is not a Kubernetes kind name"),
        ));
    }
    let targets = root
        .get_path(&["spec", "targets"])
        .and_then(Node::as_seq)
        .unwrap_or_default();
    let target = targets
        .iter()
        .find(|t| text_at(t, &["target"]) == Some(TARGET))
        .ok_or_else(|| {
            invalid(
                file,
                line,
                format!("ConstraintTemplate {name} has no target {TARGET}"),
            )
        })?;
    // Gatekeeper 3.x: `rego` and `libs` on the target; newer templates may carry them as a
    // `code` entry of engine Rego beside a CEL one.
    let rego_code = target
        .get("code")
        .and_then(Node::as_seq)
        .and_then(|code| {
            code.iter()
                .find(|c| text_at(c, &["engine"]) == Some("Rego"))
        })
        .and_then(|c| c.get("source"));
    let holder = match (target.get("rego"), rego_code) {
        (Some(_), _) => target,
        (None, Some(source)) => source,
        (None, None) => {
            return Err(invalid(
                file,
                line,
                format!(
                    "ConstraintTemplate {name} has no Rego (only Rego templates run here; CEL `K8sNativeValidation` code is not supported)"
                ),
            ))
        }
    };
    let rego_node = holder
        .get("rego")
        .ok_or_else(|| invalid(file, line, format!("ConstraintTemplate {name} has no rego")))?;
    let lower = kind.to_ascii_lowercase();
    let base = format!("seaworthy.gatekeeper.{lower}");
    let mut sources = vec![source_of(
        rego_node,
        text,
        file,
        &format!("{base}.template"),
        &base,
        None,
    )?];
    for lib in holder
        .get("libs")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        sources.push(source_of(lib, text, file, "", &base, Some("lib"))?);
    }
    let reads_inventory = sources.iter().any(|s| s.contains("data.inventory"));
    let annotation = |key: &str| {
        root.get_path(&["metadata", "annotations", key])
            .and_then(Node::as_str)
            .map(str::to_string)
    };
    let reads = annotation(SYNC_ANNOTATION)
        .map(|text| sync_kinds(&text))
        .unwrap_or_default();
    Ok(Template {
        file: file.to_string(),
        line,
        name,
        kind,
        sources,
        reads_inventory,
        reads,
        title: annotation("metadata.gatekeeper.sh/title").or_else(|| annotation("description")),
    })
}

/// `[[{"groups": [...], "versions": [...], "kinds": [...]}]]` → `group/version/Kind` strings.
fn sync_kinds(text: &str) -> Vec<String> {
    let Ok(Json::Array(outer)) = serde_json::from_str::<Json>(text.trim()) else {
        return Vec::new();
    };
    let mut out = BTreeSet::new();
    let list = |v: &Json, key: &str| -> Vec<String> {
        v.get(key)
            .and_then(Json::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    for entry in outer
        .iter()
        .flat_map(|inner| inner.as_array().cloned().unwrap_or_default())
    {
        for group in list(&entry, "groups") {
            for version in list(&entry, "versions") {
                for kind in list(&entry, "kinds") {
                    out.insert(if group.is_empty() {
                        format!("{version}/{kind}")
                    } else {
                        format!("{group}/{version}/{kind}")
                    });
                }
            }
        }
    }
    out.into_iter().collect()
}

/// One Rego text of a template (its `rego` or a lib): padded with empty lines so that its lines
/// are the YAML file's, its package renamed under `base` (a lib keeps its `lib.*` name below
/// it), and its references to `data.lib` pointed at the renamed libs.
fn source_of(
    node: &Node,
    file_text: &str,
    file: &str,
    package: &str,
    base: &str,
    lib: Option<&str>,
) -> Result<String, PolicyError> {
    let line = node.span.line;
    let rego = node
        .as_str()
        .ok_or_else(|| invalid(file, line, "the template's rego must be a string".into()))?;
    // A block scalar (`rego: |`) starts on the line after its indicator.
    let indicator = file_text
        .lines()
        .nth(line.saturating_sub(1) as usize)
        .map(str::trim_end)
        .unwrap_or_default();
    let block = indicator
        .trim_end_matches(|c: char| c == '-' || c == '+' || c.is_ascii_digit())
        .ends_with(['|', '>']);
    let first_line = if block { line + 1 } else { line };
    let Some(original) = crate::engine::policy::package_of(rego) else {
        return Err(invalid(file, first_line, "the Rego has no package".into()));
    };
    let package = match lib {
        None => package.to_string(),
        Some(prefix) => {
            if original != prefix && !original.starts_with(&format!("{prefix}.")) {
                return Err(invalid(
                    file,
                    first_line,
                    format!("lib package {original} must be under lib. (as Gatekeeper requires)"),
                ));
            }
            format!("{base}.{original}")
        }
    };
    let mut text = "\n".repeat(first_line.saturating_sub(1) as usize);
    let mut renamed = false;
    for source_line in rego.lines() {
        let trimmed = source_line.trim_start();
        if !renamed && trimmed.starts_with("package ") {
            text.push_str(&format!("package {package}"));
            renamed = true;
        } else {
            text.push_str(&rename_lib_refs(source_line, base));
        }
        text.push('\n');
    }
    Ok(text)
}

/// `data.lib.x` → `data.<base>.lib.x`, outside comments and strings.
fn rename_lib_refs(line: &str, base: &str) -> String {
    const FROM: &str = "data.lib";
    let mut out = String::with_capacity(line.len());
    let mut in_string = false;
    let mut chars = line.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if !in_string && c == '#' {
            out.push_str(&line[at..]);
            return out;
        }
        if c == '"' {
            in_string = !in_string;
        }
        if c == '\\' && in_string {
            out.push(c);
            if let Some((_, next)) = chars.next() {
                out.push(next);
            }
            continue;
        }
        if !in_string && line[at..].starts_with(FROM) {
            let before = line[..at].chars().last();
            let after = line[at + FROM.len()..].chars().next();
            let starts = !before.is_some_and(|b| b.is_alphanumeric() || b == '_' || b == '.');
            let ends = !after.is_some_and(|a| a.is_alphanumeric() || a == '_');
            if starts && ends {
                out.push_str(&format!("data.{base}.lib"));
                for _ in 1..FROM.len() {
                    chars.next();
                }
                continue;
            }
        }
        out.push(c);
    }
    out
}

fn constraint_of(object: &Object, file: &str) -> Result<Constraint, PolicyError> {
    let root = &object.root;
    let line = root.span.line;
    let name = object.id.name.clone().ok_or_else(|| {
        invalid(
            file,
            line,
            format!("{} constraint has no metadata.name", object.id.kind),
        )
    })?;
    let spec = root.get("spec");
    let json_at = |key: &str| {
        spec.and_then(|s| s.get(key))
            .map(Node::to_json)
            .filter(|v| !v.is_null())
    };
    let matcher = json_at("match").unwrap_or_else(|| json!({}));
    if !matcher.is_object() {
        return Err(invalid(
            file,
            line,
            format!("constraint {name}: spec.match must be a mapping"),
        ));
    }
    let parameters = json_at("parameters").unwrap_or_else(|| json!({}));
    let action = spec
        .and_then(|s| text_at(s, &["enforcementAction"]))
        .unwrap_or("deny")
        .to_string();
    if !matches!(action.as_str(), "deny" | "warn" | "dryrun") {
        return Err(invalid(
            file,
            line,
            format!(
                "constraint {name}: enforcementAction {action:?} is not one of deny, warn, dryrun"
            ),
        ));
    }
    let id = rule_id(&object.id.kind, &name);
    if !crate::engine::policy::is_valid_id(&id) {
        return Err(invalid(
            file,
            line,
            format!("constraint name {name:?} is not a Kubernetes object name"),
        ));
    }
    Ok(Constraint {
        file: file.to_string(),
        line,
        kind: object.id.kind.clone(),
        name,
        matcher,
        parameters,
        action,
    })
}

/// The generated rule of one constraint.
fn wrapper(
    template: &Template,
    constraint: &Constraint,
    index: usize,
) -> Result<PolicySource, PolicyError> {
    let id = rule_id(&constraint.kind, &constraint.name);
    let severity = match constraint.action.as_str() {
        "warn" => "warning",
        "dryrun" => "notice",
        _ => "error",
    };
    // The evaluator runs the rule only on the kinds it names: the constraint's kinds when each
    // entry names them.
    let entries = constraint
        .matcher
        .get("kinds")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    let mut kinds = BTreeSet::new();
    let mut every_kind = entries.is_empty();
    for entry in &entries {
        let names: Vec<&str> = entry
            .get("kinds")
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        if names.is_empty() || names.contains(&"*") {
            every_kind = true;
        }
        kinds.extend(names.into_iter().map(str::to_string));
    }
    let mut reads: BTreeSet<String> = template.reads.iter().cloned().collect();
    if constraint.matcher.get("namespaceSelector").is_some() {
        reads.insert("v1/Namespace".into());
    }
    let mut metadata = json!({
        "id": id,
        "area": "gatekeeper",
        "severity": severity,
        "summary": template.title.clone().map_or_else(
            || format!("Gatekeeper constraint {} {}", constraint.kind, constraint.name),
            |t| t.split_whitespace().collect::<Vec<_>>().join(" "),
        ),
        "remediation": format!(
            "Change the object so that {} constraint {} admits it, or exempt it.",
            constraint.kind, constraint.name
        ),
        "params": {"match": constraint.matcher, "parameters": constraint.parameters},
        "scope": if template.reads_inventory { "related" } else { "object" },
        "reads": reads,
    });
    if !every_kind {
        metadata["kinds"] = json!(kinds);
    }
    let base = format!(
        "seaworthy.gatekeeper.{}",
        constraint.kind.to_ascii_lowercase()
    );
    let text = format!(
        r#"# What it does: runs Gatekeeper constraint {name} ({file}) of ConstraintTemplate {template} ({template_file}).
# Why: the template's own rule, run unchanged.
# Example: see the template's samples.
# Fix: change the object as the message says, or exempt it.
package seaworthy.rules.gatekeeper.c{index}

import rego.v1

metadata := {metadata:#}

# Reads input.request, the admission request in serve (its operation, oldObject and userInfo).
violations contains v if {{
	review := data.{MATCHING}.review(input.object, object.get(input, "request", {{}}))
	data.{MATCHING}.matches(input.params.match, review)
	results := data.{base}.template.violation with input as {{"review": review, "parameters": input.params.parameters}}
	some result in results
	v := data.{MATCHING}.finding(result)
}}
"#,
        name = constraint.name,
        file = constraint.file,
        template = template.name,
        template_file = template.file,
    );
    Ok(PolicySource {
        file: constraint.file.clone(),
        text,
        builtin: false,
        rego_v0: false,
    })
}

/// The helpers every generated rule uses: Gatekeeper's review of an object and its match.
fn matching_source() -> PolicySource {
    let cluster_scoped: Vec<String> = crate::namespaces::CLUSTER_SCOPED
        .iter()
        .map(|k| rego_string(k))
        .collect();
    PolicySource {
        file: "<gatekeeper matching>".into(),
        text: MATCHING_REGO.replace("CLUSTER_SCOPED", &cluster_scoped.join(", ")),
        builtin: false,
        rego_v0: false,
    }
}

const MATCHING_REGO: &str = r#"package seaworthy.gatekeeper.matching

import rego.v1

cluster_scoped := {CLUSTER_SCOPED}

# The namespace of the request: the object's; `default` for a namespaced kind that names none
# (as applied without -n); "" for a cluster-scoped kind.
review_namespace(obj) := ns if {
	ns := obj.metadata.namespace
	is_string(ns)
	ns != ""
} else := "" if {
	obj.kind in cluster_scoped
} else := "default"

group_version(api_version) := ["", api_version] if {
	not contains(api_version, "/")
} else := split(api_version, "/")

# Gatekeeper's review of an object: in serve, `request` (the operation, the old object of an
# UPDATE, the user) replaces lint's CREATE.
review(obj, request) := object.union(created(obj), {key: request[key] | some key in ["operation", "oldObject", "userInfo", "dryRun"]})

created(obj) := {
	"object": obj,
	"kind": {"group": gv[0], "version": gv[1], "kind": object.get(obj, "kind", "")},
	"name": object.get(obj, ["metadata", "name"], ""),
	"namespace": review_namespace(obj),
	"operation": "CREATE",
	"dryRun": false,
	"userInfo": {"username": "", "groups": []},
} if {
	gv := group_version(object.get(obj, "apiVersion", ""))
}

matches(m, r) if {
	kinds_match(object.get(m, "kinds", []), r.kind)
	scope_match(object.get(m, "scope", "*"), r)
	namespaces_match(object.get(m, "namespaces", []), r)
	not excluded(object.get(m, "excludedNamespaces", []), r)
	name_match(object.get(m, "name", ""), r)
	label_match(object.get(m, "labelSelector", null), r.object)
	namespace_selector_match(object.get(m, "namespaceSelector", null), r)
}

kinds_match(kinds, _) if count(kinds) == 0

kinds_match(kinds, gvk) if {
	some entry in kinds
	listed(object.get(entry, "kinds", []), gvk.kind)
	listed(object.get(entry, "apiGroups", []), gvk.group)
}

listed(names, _) if count(names) == 0

listed(names, _) if "*" in names

listed(names, name) if name in names

scope_match("*", _) := true

scope_match("Cluster", r) if r.namespace == ""

scope_match("Namespaced", r) if r.namespace != ""

is_namespace(r) if {
	r.kind.kind == "Namespace"
	r.kind.group == ""
}

# The namespace the namespace matchers judge: a Namespace's own name, a namespaced object's
# namespace; undefined for other cluster-scoped objects, which they do not restrict.
judged_namespace(r) := r.object.metadata.name if is_namespace(r)

judged_namespace(r) := r.namespace if {
	not is_namespace(r)
	r.namespace != ""
}

namespaces_match(names, _) if count(names) == 0

namespaces_match(names, r) if {
	count(names) > 0
	not judged_namespace(r)
}

namespaces_match(names, r) if {
	some pattern in names
	glob_match(pattern, judged_namespace(r))
}

excluded(names, r) if {
	some pattern in names
	glob_match(pattern, judged_namespace(r))
}

# Gatekeeper's globs: a trailing `*` matches a prefix, a leading one a suffix.
glob_match(pattern, name) if pattern == name

glob_match(pattern, name) if {
	endswith(pattern, "*")
	startswith(name, trim_suffix(pattern, "*"))
}

glob_match(pattern, name) if {
	startswith(pattern, "*")
	endswith(name, trim_prefix(pattern, "*"))
}

name_match("", _) := true

name_match(pattern, r) if {
	pattern != ""
	glob_match(pattern, r.name)
}

labels_of(obj) := object.get(obj, ["metadata", "labels"], {})

label_match(null, _) := true

label_match(selector, obj) if {
	selector != null
	selects(selector, labels_of(obj))
}

namespace_selector_match(null, _) := true

namespace_selector_match(selector, r) if {
	selector != null
	is_namespace(r)
	selects(selector, labels_of(r.object))
}

# Cluster-scoped objects other than Namespaces are not restricted by a namespace selector.
namespace_selector_match(selector, r) if {
	selector != null
	not is_namespace(r)
	r.namespace == ""
}

namespace_selector_match(selector, r) if {
	selector != null
	not is_namespace(r)
	ns := data.inventory.cluster.v1.Namespace[r.namespace]
	selects(selector, labels_of(ns))
}

# A Namespace that is not known (not in the linted unit, not in the cluster cache) does not
# narrow the constraint: it applies, so an unknown namespace never lets an object through.
namespace_selector_match(selector, r) if {
	selector != null
	not is_namespace(r)
	r.namespace != ""
	not data.inventory.cluster.v1.Namespace[r.namespace]
}

selects(selector, labels) if {
	every key, value in object.get(selector, "matchLabels", {}) {
		labels[key] == value
	}
	every expression in object.get(selector, "matchExpressions", []) {
		expression_matches(expression, labels)
	}
}

expression_matches(e, labels) if {
	e.operator == "In"
	labels[e.key] in e.values
}

expression_matches(e, labels) if {
	e.operator == "NotIn"
	not labels[e.key] in e.values
}

expression_matches(e, labels) if {
	e.operator == "Exists"
	_ = labels[e.key]
}

expression_matches(e, labels) if {
	e.operator == "DoesNotExist"
	not has_key(labels, e.key)
}

has_key(o, key) if _ = o[key]

finding(result) := {"msg": message(result), "path": details_path(result)}

message(result) := result.msg if {
	is_string(result.msg)
} else := sprintf("%v", [result.msg]) if {
	result.msg
} else := "violation (the template gave no msg)"

# `details.path` names the field: a list of keys and indices, or a dotted string
# (`spec.containers[0].image`). Without one the finding is at the object.
details_path(result) := result.details.path if {
	is_array(result.details.path)
} else := [step(part) | some part in regex.find_n(`[^.\[\]]+`, result.details.path, -1)] if {
	is_string(result.details.path)
} else := []

step(part) := to_number(part) if {
	regex.match(`^[0-9]+$`, part)
} else := part
"#;

/// The files under `dir` (or `dir` itself, a file) whose name ends with one of `extensions`,
/// sorted.
pub fn files_in(dir: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>, PolicyError> {
    let read_err = |message: String| PolicyError::Read {
        path: dir.display().to_string(),
        message,
    };
    if dir.is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    if !dir.is_dir() {
        return Err(read_err("not a directory".into()));
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| read_err(e.to_string()))?;
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_file() && extensions.iter().any(|ext| name.ends_with(ext)) {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

/// A Rego string literal (JSON's syntax is Rego's).
pub fn rego_string(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}
