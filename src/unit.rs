//! The unit of relation: which objects of a lint run are deployed together, so cross-object rules
//! relate them (DESIGN.md, "One verdict path, and what relates to what").
//!
//! - An object with `metadata.namespace` relates across the whole run, as in a cluster: it is in
//!   that namespace wherever its file sits.
//! - An object without one (a namespaced kind without `metadata.namespace`, or a cluster-scoped
//!   object other than a `Namespace`) lands wherever its unit is applied, so it relates only to
//!   the objects of its own unit: by default the directory of its file, or the stdin stream, or
//!   one Helm render or kustomization build.
//!
//! A `Namespace` object is about the namespace it names, so it relates to that namespace's
//! objects across the run.

use std::path::Path;

use crate::finding::ObjectRef;
use crate::manifest::{SourceFile, STDIN_NAME};
use crate::namespaces::is_cluster_scoped;

/// Index of a unit in [`Units::names`].
pub type UnitId = usize;

/// How files given or found on the command line are grouped into units (`--relate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Relate {
    /// The files of one directory (not its subdirectories) form a unit; stdin is one unit.
    #[default]
    Directory,
    /// Each file (and stdin) is a unit of its own.
    File,
    /// The whole run is one unit, and objects without a namespace land in `default`, as if the
    /// run were applied to one cluster with `kubectl apply` without `-n`.
    Run,
}

impl Relate {
    pub fn name(self) -> &'static str {
        match self {
            Relate::Directory => "directory",
            Relate::File => "file",
            Relate::Run => "run",
        }
    }
}

/// How the files of one lint pass are grouped into units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grouping {
    /// Files given or found on the command line, grouped as `--relate` says.
    Inputs(Relate),
    /// One stream as a whole, named (a Helm render, a kustomization build).
    Stream(String),
}

/// The unit of each file of a lint pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Units {
    /// Each unit's name, as JSON output shows it: a directory (`.` for the working directory),
    /// a file, `<stdin>`, `run`, or the render's name.
    pub names: Vec<String>,
    /// The unit of each file, indexed like `Loaded::files`.
    pub of_file: Vec<UnitId>,
    /// False with `--relate run`: objects without a namespace then share `default` with the
    /// objects that name it, as before units existed.
    pub isolated: bool,
}

impl Units {
    pub fn assign(files: &[SourceFile], grouping: &Grouping) -> Units {
        let mut names: Vec<String> = Vec::new();
        let mut of_file = Vec::with_capacity(files.len());
        let mut index = std::collections::HashMap::new();
        for file in files {
            let name = match grouping {
                Grouping::Stream(name) => name.clone(),
                Grouping::Inputs(Relate::Run) => "run".to_string(),
                Grouping::Inputs(Relate::File) => file.name.clone(),
                Grouping::Inputs(Relate::Directory) => directory_of(&file.name),
            };
            let id = *index.entry(name.clone()).or_insert_with(|| {
                names.push(name);
                names.len() - 1
            });
            of_file.push(id);
        }
        Units {
            names,
            of_file,
            isolated: grouping != &Grouping::Inputs(Relate::Run),
        }
    }

    pub fn name(&self, unit: UnitId) -> &str {
        self.names.get(unit).map_or("", String::as_str)
    }
}

/// The directory a file name (as shown: relative as given, or absolute) sits in.
fn directory_of(file: &str) -> String {
    if file == STDIN_NAME {
        return file.to_string();
    }
    match Path::new(file).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_string_lossy().into_owned(),
        _ => ".".to_string(),
    }
}

/// True when the object names no namespace and is of a namespaced kind: where it lands depends
/// on how its unit is applied.
pub fn implicitly_namespaced(id: &ObjectRef) -> bool {
    id.namespace.is_none() && !is_cluster_scoped(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn files(names: &[&str]) -> Vec<SourceFile> {
        names
            .iter()
            .map(|n| SourceFile {
                name: n.to_string(),
                text: Arc::from(""),
            })
            .collect()
    }

    #[test]
    fn directories_files_and_stdin_are_units() {
        let files = files(&["a/x.yaml", "a/y.yaml", "a/b/z.yaml", "top.yaml", "<stdin>"]);
        let units = Units::assign(&files, &Grouping::Inputs(Relate::Directory));
        assert_eq!(units.names, ["a", "a/b", ".", "<stdin>"]);
        assert_eq!(units.of_file, [0, 0, 1, 2, 3]);
        assert!(units.isolated);
        let units = Units::assign(&files, &Grouping::Inputs(Relate::File));
        assert_eq!(units.of_file, [0, 1, 2, 3, 4]);
        let units = Units::assign(&files, &Grouping::Inputs(Relate::Run));
        assert_eq!(units.of_file, [0, 0, 0, 0, 0]);
        assert!(!units.isolated);
    }
}
