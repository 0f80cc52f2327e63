//! What a tree holds, as a user means it: Helm charts (a directory with `Chart.yaml`, rendered),
//! kustomizations (a directory with a kustomization file, built), and the plain manifest files
//! that are left. Files a kustomization uses (its resources, patches, generator inputs) are linted
//! through its build, not again on their own; a kustomization another one in the tree uses is
//! linted through that one.
//!
//! Pure apart from reading directories and kustomization files.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use crate::manifest::node::Node;
use crate::manifest::yaml::{self, Limits};

/// The file names kustomize reads a kustomization from.
pub const KUSTOMIZATION_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The file that makes a directory a Helm chart.
pub const CHART_FILE: &str = "Chart.yaml";

/// `--exclude` globs and the config's `exclude:` list. A pattern with a `/` matches the whole path
/// as shown (relative to the working directory, without `./`); one without matches any single
/// file or directory name on the path. A directory that matches is not entered.
#[derive(Debug, Clone, Default)]
pub struct Exclude {
    patterns: Vec<glob::Pattern>,
}

impl Exclude {
    pub fn new<'a>(globs: impl IntoIterator<Item = &'a str>) -> Result<Exclude, String> {
        let patterns = globs
            .into_iter()
            .map(|g| {
                glob::Pattern::new(g.trim_end_matches('/'))
                    .map_err(|e| format!("--exclude {g:?} is not a glob: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Exclude { patterns })
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    pub fn matches(&self, path: &Path) -> bool {
        if self.patterns.is_empty() {
            return false;
        }
        let shown = display_path(path);
        let options = glob::MatchOptions {
            require_literal_separator: true,
            ..glob::MatchOptions::new()
        };
        self.patterns.iter().any(|p| {
            if p.as_str().contains('/') {
                p.matches_with(&shown, options)
            } else {
                Path::new(&shown)
                    .components()
                    .any(|c| p.matches_with(&c.as_os_str().to_string_lossy(), options))
            }
        })
    }
}

/// What was found under the inputs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tree {
    /// Plain files to load as manifests, in walk order.
    pub files: Vec<PathBuf>,
    /// Chart directories to render.
    pub charts: Vec<PathBuf>,
    /// Kustomization directories to build: those no other kustomization found uses.
    pub kustomizations: Vec<PathBuf>,
    /// Library charts (`type: library`), which cannot be rendered on their own.
    pub library_charts: Vec<PathBuf>,
    /// Files left out because a kustomization uses them.
    pub used_by_kustomizations: usize,
    /// Files and directories left out by `--exclude` or `exclude:`.
    pub excluded: usize,
    /// Directory entries that could not be read: (path as shown, message).
    pub problems: Vec<(String, String)>,
}

/// Walks the given directories (files given by name are taken as they are, unless excluded).
/// Without `detect`, charts and kustomizations are not looked for: every manifest file is plain.
pub fn discover(inputs: &[PathBuf], exclude: &Exclude, detect: bool) -> Tree {
    let mut tree = Tree::default();
    let mut candidates: Vec<PathBuf> = Vec::new();
    let mut found_kustomizations: Vec<PathBuf> = Vec::new();
    for input in inputs {
        if !input.is_dir() {
            if exclude.matches(input) {
                tree.excluded += 1;
            } else {
                candidates.push(input.clone());
            }
            continue;
        }
        let mut walker = walkdir::WalkDir::new(input)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter();
        while let Some(entry) = walker.next() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    let name = err.path().unwrap_or(input.as_path());
                    tree.problems.push((
                        display_path(name),
                        format!("cannot read directory entry: {err}"),
                    ));
                    continue;
                }
            };
            let path = entry.path();
            let hidden = entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.');
            if hidden {
                if entry.file_type().is_dir() {
                    walker.skip_current_dir();
                }
                continue;
            }
            if entry.depth() > 0 && exclude.matches(path) {
                tree.excluded += 1;
                if entry.file_type().is_dir() {
                    walker.skip_current_dir();
                }
                continue;
            }
            if entry.file_type().is_dir() {
                if !detect {
                    continue;
                }
                if path.join(CHART_FILE).is_file() {
                    if is_library_chart(&path.join(CHART_FILE)) {
                        tree.library_charts.push(path.to_path_buf());
                    } else {
                        tree.charts.push(path.to_path_buf());
                    }
                    // Its templates, values and subcharts are the render's business.
                    walker.skip_current_dir();
                } else if kustomization_file(path).is_some() {
                    found_kustomizations.push(path.to_path_buf());
                }
            } else if entry.file_type().is_file() && is_manifest_file(path) {
                candidates.push(path.to_path_buf());
            }
        }
    }

    // Everything the kustomizations use, and the kustomizations other ones use.
    let mut used_files: HashSet<PathBuf> = HashSet::new();
    let mut used_dirs: HashSet<PathBuf> = HashSet::new();
    for dir in &found_kustomizations {
        let mut seen = HashSet::new();
        collect_uses(dir, &mut used_files, &mut used_dirs, &mut seen, 0);
    }
    for dir in &found_kustomizations {
        let key = normalize(dir);
        let component = kustomization_file(dir)
            .and_then(|f| read_kustomization(&f))
            .is_some_and(|k| k.is_component);
        if !used_dirs.contains(&key) && !component {
            tree.kustomizations.push(dir.clone());
        }
    }
    for file in candidates {
        if used_files.contains(&normalize(&file)) {
            tree.used_by_kustomizations += 1;
        } else {
            tree.files.push(file);
        }
    }
    tree
}

fn is_manifest_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "yaml" | "yml" | "json"))
}

fn is_library_chart(chart_file: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(chart_file) else {
        return false;
    };
    yaml::parse_str(&text, 0, Limits::default())
        .ok()
        .and_then(|docs| docs.into_iter().next())
        .and_then(|d| d.root)
        .and_then(|root| root.get("type").and_then(Node::as_str).map(str::to_string))
        .is_some_and(|t| t.trim() == "library")
}

/// The kustomization file of a directory, if it has one.
pub fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_NAMES
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

/// A patch a kustomization applies, as far as lint needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchRef {
    /// The patch file, relative to the kustomization's directory.
    pub path: String,
    /// The `target:` kind and name, when given.
    pub target_kind: Option<String>,
    pub target_name: Option<String>,
}

/// The parts of a kustomization file lint reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kustomization {
    /// `resources`, `bases`, `components`: files or directories (remote URLs left out).
    pub resources: Vec<String>,
    pub patches: Vec<PatchRef>,
    /// Other files it reads (generator inputs, CRDs, configurations, replacements, ...).
    pub other_files: Vec<String>,
    pub is_component: bool,
}

/// Reads a kustomization file; None when it cannot be read or parsed (kustomize says why).
pub fn read_kustomization(file: &Path) -> Option<Kustomization> {
    let text = std::fs::read_to_string(file).ok()?;
    parse_kustomization(&text)
}

pub fn parse_kustomization(text: &str) -> Option<Kustomization> {
    let documents = yaml::parse_str(text, 0, Limits::default()).ok()?;
    let root = documents.into_iter().find_map(|d| d.root)?;
    let mut k = Kustomization {
        is_component: root.get("kind").and_then(Node::as_str) == Some("Component"),
        ..Kustomization::default()
    };
    let items = |key: &str| root.get(key).and_then(Node::as_seq).unwrap_or(&[]).to_vec();
    let local = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && !s.contains('\n') && !s.contains("://") && !s.starts_with("github.com/"))
            .then(|| s.to_string())
    };
    for key in ["resources", "bases", "components"] {
        k.resources
            .extend(items(key).iter().filter_map(Node::as_str).filter_map(local));
    }
    for item in items("patchesStrategicMerge") {
        if let Some(path) = item.as_str().and_then(local) {
            k.patches.push(PatchRef {
                path,
                target_kind: None,
                target_name: None,
            });
        }
    }
    for key in ["patches", "patchesJson6902"] {
        for item in items(key) {
            let Some(path) = item.get("path").and_then(Node::as_str).and_then(local) else {
                continue;
            };
            let target = |field: &str| {
                item.get_path(&["target", field])
                    .and_then(Node::as_str)
                    .map(str::to_string)
            };
            k.patches.push(PatchRef {
                path,
                target_kind: target("kind"),
                target_name: target("name"),
            });
        }
    }
    for key in [
        "crds",
        "configurations",
        "transformers",
        "generators",
        "validators",
    ] {
        k.other_files
            .extend(items(key).iter().filter_map(Node::as_str).filter_map(local));
    }
    for item in items("replacements") {
        if let Some(path) = item.get("path").and_then(Node::as_str).and_then(local) {
            k.other_files.push(path);
        }
    }
    for key in ["configMapGenerator", "secretGenerator"] {
        for item in items(key) {
            for list in ["files", "envs"] {
                for file in item.get(list).and_then(Node::as_seq).unwrap_or(&[]) {
                    // `files` items may be `key=path`.
                    if let Some(path) = file.as_str().map(|f| f.rsplit('=').next().unwrap_or(f)) {
                        k.other_files.extend(local(path));
                    }
                }
            }
            if let Some(env) = item.get("env").and_then(Node::as_str) {
                k.other_files.extend(local(env));
            }
        }
    }
    Some(k)
}

/// Deepest chain of kustomizations followed (a cycle is kustomize's error to report).
const MAX_DEPTH: usize = 32;

fn collect_uses(
    dir: &Path,
    files: &mut HashSet<PathBuf>,
    dirs: &mut HashSet<PathBuf>,
    seen: &mut HashSet<PathBuf>,
    depth: usize,
) {
    if depth > MAX_DEPTH || !seen.insert(normalize(dir)) {
        return;
    }
    let Some(file) = kustomization_file(dir) else {
        return;
    };
    files.insert(normalize(&file));
    let Some(k) = read_kustomization(&file) else {
        return;
    };
    let listed = k
        .resources
        .iter()
        .chain(k.patches.iter().map(|p| &p.path))
        .chain(&k.other_files);
    for entry in listed {
        let path = dir.join(entry);
        if path.is_dir() {
            dirs.insert(normalize(&path));
            collect_uses(&path, files, dirs, seen, depth + 1);
        } else {
            files.insert(normalize(&path));
        }
    }
}

/// The resource files of a kustomization and of the kustomizations it uses, in order, each with
/// the patches that apply in its own layer and above: what a built object may come from.
pub fn resource_files(dir: &Path) -> (Vec<PathBuf>, Vec<(PathBuf, PatchRef)>) {
    let mut files = Vec::new();
    let mut patches = Vec::new();
    let mut seen = HashSet::new();
    walk_resources(dir, &mut files, &mut patches, &mut seen, 0);
    (files, patches)
}

fn walk_resources(
    dir: &Path,
    files: &mut Vec<PathBuf>,
    patches: &mut Vec<(PathBuf, PatchRef)>,
    seen: &mut HashSet<PathBuf>,
    depth: usize,
) {
    if depth > MAX_DEPTH || !seen.insert(normalize(dir)) {
        return;
    }
    let Some(k) = kustomization_file(dir).and_then(|f| read_kustomization(&f)) else {
        return;
    };
    for resource in &k.resources {
        let path = dir.join(resource);
        if path.is_dir() {
            walk_resources(&path, files, patches, seen, depth + 1);
        } else if path.is_file() {
            files.push(clean(&path));
        }
    }
    for patch in k.patches {
        patches.push((clean(&dir.join(&patch.path)), patch));
    }
}

/// A path as shown in reports: `.` and `..` resolved lexically, no leading `./`.
pub fn clean(path: &Path) -> PathBuf {
    normalize(path)
}

/// Paths are shown as given, without a leading `./`.
pub fn display_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.strip_prefix("./").unwrap_or(&text).to_string()
}

/// A path with `.` and `..` resolved lexically, so `base/../overlay/p.yaml` and `overlay/p.yaml`
/// compare equal (symbolic links are not followed: kustomize names files as written too).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excludes_by_name_or_by_path() {
        let exclude = Exclude::new(["vendor", "docs/*.yaml", "**/testdata/**"]).expect("globs");
        assert!(exclude.matches(Path::new("./a/vendor")));
        assert!(exclude.matches(Path::new("a/vendor/x.yaml")));
        assert!(exclude.matches(Path::new("docs/x.yaml")));
        assert!(!exclude.matches(Path::new("docs/sub/x.yaml")));
        assert!(exclude.matches(Path::new("pkg/testdata/x/y.yaml")));
        assert!(!exclude.matches(Path::new("a/b.yaml")));
        assert!(Exclude::new(["[z-a"]).is_err());
    }

    #[test]
    fn reads_what_a_kustomization_uses() {
        let k = parse_kustomization(
            "kind: Kustomization\nresources: [deploy.yaml, ../base, https://github.com/x/y]\n\
             components: [../comp]\npatchesStrategicMerge:\n- replicas.yaml\n\
             patches:\n- path: env.yaml\n  target: {kind: Deployment, name: web}\n- patch: inline\n\
             configMapGenerator:\n- name: c\n  files: [app.properties, key=conf/x.json]\n  envs: [.env]\n",
        )
        .expect("parses");
        assert_eq!(k.resources, ["deploy.yaml", "../base", "../comp"]);
        assert_eq!(k.patches.len(), 2);
        assert_eq!(k.patches[1].target_name.as_deref(), Some("web"));
        assert_eq!(k.other_files, ["app.properties", "conf/x.json", ".env"]);
        assert!(!k.is_component);
    }
}
