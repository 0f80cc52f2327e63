//! Where a field of a kustomize-built object is written: the base resource it comes from, or the
//! patch that set it. A finding on built output then points at the file the user edits, as
//! findings on `helm template` output point at the template (the built position is kept beside).
//!
//! A built object is matched with a resource of the same kind whose name it is (kustomize adds
//! `namePrefix`/`nameSuffix`, so the longest resource name the built name contains wins). A field
//! is looked for along the finding's path in the resource and in each patch that targets the
//! object; list items are matched by their `name`, as a strategic merge patch does, since a patch
//! may list only the container it changes. The patch that writes more of the path than the
//! resource wins (the last such patch, as patches apply in order); otherwise the resource.

use std::path::Path;

use crate::discover::{self, PatchRef};
use crate::manifest::node::{Node, PathStep, Span, Value};
use crate::manifest::{self, Input, LoadOptions, Object, SourceFile};

/// A JSON patch (RFC 6902) operation of a patch file: the path it writes and where it is.
#[derive(Debug, Clone)]
struct Operation {
    path: Vec<PathStep>,
    span: Span,
}

#[derive(Debug, Clone)]
enum PatchBody {
    /// A strategic merge patch: a partial object.
    Merge(usize),
    /// A JSON 6902 patch: a list of operations on the target.
    Json(Vec<Operation>),
}

#[derive(Debug, Clone)]
struct Patch {
    /// Index into `Sources::files`.
    file: usize,
    target_kind: Option<String>,
    target_name: Option<String>,
    body: PatchBody,
}

/// The files a kustomization builds from, read once per build.
#[derive(Debug, Default)]
pub struct Sources {
    pub files: Vec<SourceFile>,
    /// Resource objects and strategic merge patch objects (file index into `files`).
    objects: Vec<Object>,
    /// How many of `objects` are resources; the rest are patches.
    resources: usize,
    patches: Vec<Patch>,
}

impl Sources {
    pub fn load(dir: &Path, options: &LoadOptions) -> Sources {
        let (resource_paths, patch_refs) = discover::resource_files(dir);
        let inputs: Vec<Input> = resource_paths.iter().cloned().map(Input::Path).collect();
        let loaded = manifest::load_inputs(&inputs, options);
        let mut sources = Sources {
            resources: loaded.objects.len(),
            files: loaded.files,
            objects: loaded.objects,
            patches: Vec::new(),
        };
        for (path, patch) in patch_refs {
            sources.add_patch(&path, &patch, options);
        }
        sources
    }

    fn add_patch(&mut self, path: &Path, patch: &PatchRef, options: &LoadOptions) {
        let loaded = manifest::load_inputs(&[Input::Path(path.to_path_buf())], options);
        let Some(file) = loaded.files.into_iter().next() else {
            return;
        };
        let index = self.files.len();
        let text = file.text.clone();
        self.files.push(file);
        let target_kind = patch.target_kind.clone();
        let target_name = patch.target_name.clone();
        if loaded.objects.is_empty() {
            let operations = json_operations(&text);
            if !operations.is_empty() {
                self.patches.push(Patch {
                    file: index,
                    target_kind,
                    target_name,
                    body: PatchBody::Json(operations),
                });
            }
            return;
        }
        for mut object in loaded.objects {
            object.file = index;
            self.objects.push(object);
            self.patches.push(Patch {
                file: index,
                target_kind: target_kind.clone(),
                target_name: target_name.clone(),
                body: PatchBody::Merge(self.objects.len() - 1),
            });
        }
    }

    /// The file (index into `files`) and position where the field at `path` of the built object
    /// is written, or None when no resource of the build is that object (a generated one).
    pub fn locate(&self, built: &Object, path: &[PathStep]) -> Option<(usize, Span)> {
        let built_name = built.id.name.as_deref()?;
        let resource = best_match(
            self.objects[..self.resources]
                .iter()
                .filter(|o| o.id.kind == built.id.kind),
            built_name,
        )?;
        let (depth, _) = walk(&built.root, &resource.root, path);
        let mut best: (usize, Span, usize) = (
            resource.file,
            resource
                .root
                .locate(&translate(&built.root, &resource.root, path)),
            depth,
        );
        for patch in &self.patches {
            let kind_fits = |kind: &str| patch.target_kind.as_deref().is_none_or(|k| k == kind);
            match &patch.body {
                PatchBody::Merge(index) => {
                    let object = &self.objects[*index];
                    let targets = kind_fits(&built.id.kind)
                        && (object.id.kind == built.id.kind || patch.target_kind.is_some())
                        && name_fits(
                            patch.target_name.as_deref().or(object.id.name.as_deref()),
                            built_name,
                        );
                    if !targets {
                        continue;
                    }
                    let (depth, translated) = walk(&built.root, &object.root, path);
                    // On a tie, the patch set the field only if it writes its value; a patch
                    // that names a container to change one of its fields did not write the
                    // container.
                    let wins = depth > best.2
                        || depth == best.2 && writes_a_value(&object.root, &translated);
                    if wins && sets_a_field(path, depth) {
                        let translated = translate(&built.root, &object.root, path);
                        best = (patch.file, object.root.locate(&translated), depth);
                    }
                }
                PatchBody::Json(operations) => {
                    let targets = patch.target_kind.as_deref() == Some(built.id.kind.as_str())
                        && name_fits(patch.target_name.as_deref(), built_name);
                    if !targets {
                        continue;
                    }
                    for op in operations {
                        let depth = op.path.len();
                        if depth > 0
                            && depth <= path.len()
                            && path[..depth] == op.path[..]
                            && depth >= best.2
                        {
                            best = (patch.file, op.span, depth);
                        }
                    }
                }
            }
        }
        Some((best.0, best.1))
    }
}

/// True when the node at `path` is a scalar (not a mapping or a list).
fn writes_a_value(root: &Node, path: &[PathStep]) -> bool {
    let mut node = root;
    for step in path {
        let next = match (step, &node.value) {
            (PathStep::Key(key), _) => node.get(key),
            (PathStep::Index(i), Value::Seq(items)) => items.get(*i),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return false,
        }
    }
    !matches!(node.value, Value::Map(_) | Value::Seq(_))
}

/// True when a patch that writes `depth` steps of `path` writes more than the identity every
/// strategic merge patch repeats (`metadata.name`).
fn sets_a_field(path: &[PathStep], depth: usize) -> bool {
    match path.first() {
        None => false,
        Some(PathStep::Key(first)) if first == "metadata" => {
            depth > 2 || (depth == 2 && path.get(1) != Some(&PathStep::Key("name".into())))
        }
        Some(_) => depth > 0,
    }
}

/// Whether a resource or patch name names the built object (kustomize may have added a prefix
/// and a suffix). A missing name targets every object of the kind.
fn name_fits(name: Option<&str>, built: &str) -> bool {
    name.is_none_or(|n| !n.is_empty() && built.contains(n))
}

/// The object whose name the built name is exactly, else the longest name it contains.
fn best_match<'a>(candidates: impl Iterator<Item = &'a Object>, built: &str) -> Option<&'a Object> {
    candidates
        .filter_map(|o| {
            let name = o.id.name.as_deref()?;
            if name == built {
                Some((usize::MAX, o))
            } else if !name.is_empty() && built.contains(name) {
                Some((name.len(), o))
            } else {
                None
            }
        })
        .max_by_key(|(score, _)| *score)
        .map(|(_, o)| o)
}

/// The step into a list of the built object, as an index into the same list in a source: the
/// item with the same `name` when the items have names, else the same index.
fn source_index(built_list: Option<&Node>, source_list: &Node, index: usize) -> Option<usize> {
    let items = source_list.as_seq()?;
    let name = built_list
        .and_then(Node::as_seq)
        .and_then(|b| b.get(index))
        .and_then(|item| item.get("name"))
        .and_then(Node::as_str);
    match name {
        Some(name) => items
            .iter()
            .position(|item| item.get("name").and_then(Node::as_str) == Some(name)),
        None => (index < items.len()).then_some(index),
    }
}

/// How many steps of `path` (a path in the built object) the source writes, and the path in the
/// source's own numbering.
fn walk(built: &Node, source: &Node, path: &[PathStep]) -> (usize, Vec<PathStep>) {
    let mut built_node = Some(built);
    let mut source_node = source;
    let mut translated = Vec::new();
    for step in path {
        let (next_source, next_step) = match step {
            PathStep::Key(key) => (source_node.get(key), step.clone()),
            PathStep::Index(index) => match source_index(built_node, source_node, *index) {
                Some(i) => (
                    source_node.as_seq().and_then(|s| s.get(i)),
                    PathStep::Index(i),
                ),
                None => (None, step.clone()),
            },
        };
        let Some(next) = next_source else {
            break;
        };
        built_node = built_node.and_then(|b| match (step, &b.value) {
            (PathStep::Key(key), _) => b.get(key),
            (PathStep::Index(i), Value::Seq(items)) => items.get(*i),
            _ => None,
        });
        source_node = next;
        translated.push(next_step);
    }
    (translated.len(), translated)
}

fn translate(built: &Node, source: &Node, path: &[PathStep]) -> Vec<PathStep> {
    walk(built, source, path).1
}

/// The operations of a JSON 6902 patch file (YAML or JSON): each op's path, and where the op is
/// written (its `value`, else the op itself).
fn json_operations(text: &str) -> Vec<Operation> {
    let Ok(documents) = manifest::yaml::parse_str(text, 0, manifest::yaml::Limits::default())
    else {
        return Vec::new();
    };
    let mut operations = Vec::new();
    for root in documents.iter().filter_map(|d| d.root.as_ref()) {
        for item in root.as_seq().unwrap_or(&[]) {
            let Some(pointer) = item.get("path").and_then(Node::as_str) else {
                continue;
            };
            let path = pointer
                .split('/')
                .skip(1)
                .map(|part| {
                    let part = part.replace("~1", "/").replace("~0", "~");
                    match part.parse::<usize>() {
                        Ok(i) => PathStep::Index(i),
                        Err(_) => PathStep::Key(part),
                    }
                })
                .collect();
            let span = item.get("value").map_or(item.span, |v| v.span);
            operations.push(Operation { path, span });
        }
    }
    operations
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(text: &str) -> Object {
        let mut load = manifest::load_text("x.yaml", text, &LoadOptions::default());
        load.objects.remove(0)
    }

    #[test]
    fn list_items_match_by_name() {
        let built = object("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: p-web}\nspec:\n  containers:\n  - name: side\n  - name: web\n    image: x\n");
        let patch = object("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  containers:\n  - name: web\n    image: y\n");
        let path = [
            PathStep::Key("spec".into()),
            PathStep::Key("containers".into()),
            PathStep::Index(1),
            PathStep::Key("image".into()),
        ];
        let (depth, translated) = walk(&built.root, &patch.root, &path);
        assert_eq!(depth, 4);
        assert_eq!(translated[2], PathStep::Index(0));
        assert_eq!(patch.root.locate(&translated).line, 7);
    }

    #[test]
    fn names_with_prefix_and_suffix_match_the_longest() {
        assert!(name_fits(Some("web"), "prod-web-v2"));
        assert!(!name_fits(Some("api"), "prod-web"));
        assert!(name_fits(None, "x"));
        assert!(sets_a_field(&[PathStep::Key("spec".into())], 1));
        assert!(!sets_a_field(
            &[
                PathStep::Key("metadata".into()),
                PathStep::Key("name".into())
            ],
            2
        ));
    }

    #[test]
    fn reads_json_patch_operations() {
        let ops = json_operations("- op: replace\n  path: /spec/replicas\n  value: 1\n- op: add\n  path: /metadata/annotations/a~1b\n  value: x\n");
        assert_eq!(ops.len(), 2);
        assert_eq!(
            ops[0].path,
            [
                PathStep::Key("spec".into()),
                PathStep::Key("replicas".into())
            ]
        );
        assert_eq!(ops[0].span.line, 3);
        assert_eq!(ops[1].path[2], PathStep::Key("a/b".into()));
    }
}
