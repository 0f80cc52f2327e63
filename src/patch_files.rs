//! Kustomize patch files in the linted tree. A file listed under `patches`, `patchesStrategicMerge`
//! or `patchesJson6902` of a kustomization is a partial object (often only a name and the one field
//! it changes), so linting it as a whole object reports fields the patch never meant to set. Lint
//! skips such files and says so; `--kustomize DIR` lints the built result instead.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::discover::normalize;
use crate::manifest::node::Node;
use crate::manifest::yaml::{self, Limits};
use crate::manifest::{SourceFile, STDIN_NAME};

/// The file names kustomize reads a kustomization from.
pub const KUSTOMIZATION_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// The patch files among the files of a run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PatchFiles {
    /// Indices into the run's files, ascending.
    pub files: Vec<usize>,
}

/// Finds the files of `files` that a kustomization lists as patches. Kustomizations are looked for
/// in the directory of each file and, for files found under a directory given on the command line
/// (`roots`), in every directory between the file and that root (a kustomization may list
/// `patches/replicas.yaml`).
pub fn find(files: &[SourceFile], roots: &[PathBuf]) -> PatchFiles {
    let roots: Vec<PathBuf> = roots.iter().map(|r| normalize(r)).collect();
    let mut dirs: HashSet<PathBuf> = HashSet::new();
    for file in files.iter().filter(|f| f.name != STDIN_NAME) {
        let path = normalize(Path::new(&file.name));
        for (depth, dir) in path.ancestors().skip(1).enumerate() {
            if depth > 0 && !roots.iter().any(|r| dir.starts_with(r)) {
                break;
            }
            // A directory seen before had its ancestors seen then too.
            if !dirs.insert(dir.to_path_buf()) {
                break;
            }
        }
    }
    let mut patches: HashSet<PathBuf> = HashSet::new();
    for dir in &dirs {
        for name in KUSTOMIZATION_NAMES {
            let path = if dir.as_os_str().is_empty() {
                PathBuf::from(name)
            } else {
                dir.join(name)
            };
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            for listed in listed_patches(&text) {
                patches.insert(normalize(&dir.join(listed)));
            }
        }
    }
    let by_path: HashMap<PathBuf, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (normalize(Path::new(&f.name)), i))
        .collect();
    let mut found: Vec<usize> = patches
        .iter()
        .filter_map(|p| by_path.get(p).copied())
        .collect();
    found.sort_unstable();
    PatchFiles { files: found }
}

/// The patch file paths a kustomization lists (relative to its directory). Inline patches and a
/// kustomization that cannot be read as YAML give none: kustomize reports those itself.
fn listed_patches(text: &str) -> Vec<String> {
    let Ok(documents) = yaml::parse_str(text, 1, Limits::default()) else {
        return Vec::new();
    };
    let mut paths = Vec::new();
    for root in documents.iter().filter_map(|d| d.root.as_ref()) {
        let items = |key: &str| root.get(key).and_then(Node::as_seq).unwrap_or(&[]);
        // `patchesStrategicMerge` items are file paths or inline patches (which span lines).
        for item in items("patchesStrategicMerge") {
            if let Some(path) = item.as_str().filter(|p| !p.contains('\n')) {
                paths.push(path.trim().to_string());
            }
        }
        for key in ["patches", "patchesJson6902"] {
            for item in items(key) {
                if let Some(path) = item.get("path").and_then(Node::as_str) {
                    paths.push(path.trim().to_string());
                }
            }
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_patch_field() {
        let text = "resources: [deploy.yaml]\n\
                    patchesStrategicMerge:\n- replicas.yaml\n- |-\n  apiVersion: v1\n  kind: X\n\
                    patches:\n- path: env.yaml\n  target: {kind: Deployment}\n- patch: inline\n\
                    patchesJson6902:\n- target: {kind: Service}\n  path: ops/port.yaml\n";
        assert_eq!(
            listed_patches(text),
            ["replicas.yaml", "env.yaml", "ops/port.yaml"]
        );
    }

    #[test]
    fn normalizes_lexically() {
        assert_eq!(
            normalize(Path::new("./a/../b/./c.yaml")),
            PathBuf::from("b/c.yaml")
        );
        assert_eq!(
            normalize(Path::new("../x.yaml")),
            PathBuf::from("../x.yaml")
        );
    }
}
