//! Policies written for other tools, run unchanged: Gatekeeper ConstraintTemplates with their
//! Constraints (`gatekeeper`) and conftest policies (`conftest`). Each becomes ordinary rules of
//! the catalog (generated Rego sources with metadata, ids `gatekeeper/<kind>/<name>` and
//! `conftest/<package>/<rule>`), so `--enable`/`--disable`, config `rules:` and exemptions,
//! annotations, baselines, every output format and the webhook treat them as the built-in ones,
//! through the same check step.

use std::path::PathBuf;

use crate::config::Config;
use crate::engine::{PolicyError, PolicySource};

/// The folders of foreign policies of one run: the config's and the command line's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Folders {
    pub gatekeeper: Vec<PathBuf>,
    pub conftest: Vec<PathBuf>,
    /// The conftest packages whose `deny`, `violation` and `warn` rules run (conftest's
    /// `--namespace`); `main` when none is named.
    pub conftest_namespaces: Vec<String>,
}

impl Folders {
    /// The config's folders (relative to the config file) followed by these (the command line's).
    pub fn with_config(&self, config: &Config) -> Folders {
        let mut gatekeeper = config.gatekeeper_dirs();
        gatekeeper.extend(self.gatekeeper.iter().cloned());
        let mut conftest = config.conftest_dirs();
        conftest.extend(self.conftest.iter().cloned());
        let mut conftest_namespaces = config.conftest_namespaces.clone();
        conftest_namespaces.extend(self.conftest_namespaces.iter().cloned());
        Folders {
            gatekeeper,
            conftest,
            conftest_namespaces,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.gatekeeper.is_empty() && self.conftest.is_empty()
    }

    /// Every file under the folders (to notice changes).
    pub fn files(&self) -> Vec<PathBuf> {
        self.gatekeeper
            .iter()
            .chain(&self.conftest)
            .flat_map(|dir| {
                walkdir::WalkDir::new(dir)
                    .follow_links(true)
                    .into_iter()
                    .filter_map(Result::ok)
                    .filter(|e| e.file_type().is_file())
                    .map(|e| e.into_path())
            })
            .collect()
    }
}

pub use crate::gatekeeper::Loaded;

/// Loads every folder. Nothing is read when there is no folder.
pub fn load(folders: &Folders) -> Loaded {
    let mut loaded = Loaded::default();
    if !folders.gatekeeper.is_empty() {
        let gatekeeper = crate::gatekeeper::load(&folders.gatekeeper);
        loaded.sources.extend(gatekeeper.sources);
        loaded.errors.extend(gatekeeper.errors);
    }
    if !folders.conftest.is_empty() {
        let conftest = crate::conftest::load(&folders.conftest, &folders.conftest_namespaces);
        loaded.sources.extend(conftest.sources);
        loaded.errors.extend(conftest.errors);
    }
    loaded
}

/// As [`load`], failing on the first error (the webhook and the commands that only list rules:
/// a half-loaded policy set is no set to serve).
pub fn load_all(folders: &Folders) -> Result<Vec<PolicySource>, PolicyError> {
    let Loaded { sources, errors } = load(folders);
    match errors.into_iter().next() {
        Some(error) => Err(error),
        None => Ok(sources),
    }
}
