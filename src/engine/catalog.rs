//! Loading: policy sources (built-in and `--policies DIR`), their doc comments and metadata checked,
//! parsed once (or taken from the cache), into a [`Catalog`].

use super::*;

/// One rule: its metadata and doc, where it came from.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Rule {
    pub meta: RuleMeta,
    pub doc: RuleDoc,
    pub file: String,
    pub package: String,
    pub builtin: bool,
    /// Why the rule can never run (it reaches a recursive rule or function): found at load, it
    /// is a `policy-error` of this rule on every object it applies to, and nothing runs it.
    #[serde(default)]
    pub broken: Option<String>,
    /// The rule runs on the interpreter (see `analysis::Analysis::needs_interpreter`): it
    /// reaches a complete rule or function of a custom policy defined more than once (the
    /// interpreter raises conflicting values as OPA does, the RVM makes them silently undefined),
    /// a call the interpreter bounds and the RVM cannot (`numbers.range` with computed bounds),
    /// or a binding the RVM lets through undefined where Rego ends the body (`engine::bindings`).
    #[serde(default)]
    pub may_conflict: bool,
    /// The rule may read `data.inventory` (see `analysis::Analysis::reads_inventory`), so a run
    /// that enables it builds the inventory.
    #[serde(default = "may_read")]
    pub reads_inventory: bool,
    /// The rule may read `input.schema` (see `analysis::Analysis::reads_schema`), so the schema
    /// check runs on the objects it judges.
    #[serde(default = "may_read")]
    pub reads_schema: bool,
    /// Every definition of the rule's `violations` adds to a set (`violations contains v if`),
    /// so evaluating it never gives undefined (see `analysis::Analysis::always_a_set`).
    #[serde(default)]
    pub violations_always_a_set: bool,
}

/// A rule from a cache entry written without the field may read anything.
fn may_read() -> bool {
    true
}

impl Rule {
    pub(super) fn entry_point(&self) -> String {
        format!("data.{}.violations", self.package)
    }
}

/// One policy file: its name, its Rego source, and whether it is built in.
#[derive(Debug, Clone)]
pub struct PolicySource {
    pub file: String,
    pub text: String,
    pub builtin: bool,
    /// Parsed as Rego v0 (Gatekeeper templates, older conftest policies): `import rego.v1` in
    /// the file still switches it to v1. Seaworthy's own rules are v1.
    pub rego_v0: bool,
}

/// Every policy of the run, parsed and checked, not yet compiled for evaluation.
pub struct Catalog {
    pub rules: Vec<Rule>,
    pub(super) sources: Vec<PolicySource>,
    /// The parsed policies, when this run had to parse them; parsed on demand otherwise (a cache
    /// hit needs no parsing at all with the RVM back end).
    pub(super) engine: Option<regorus::Engine>,
    pub(super) cache: Cache,
}

impl Catalog {
    /// The built-in policies plus every `.rego` file under each extra directory.
    pub fn load(extra_dirs: &[PathBuf]) -> Result<Catalog, PolicyError> {
        Catalog::load_with_cache(extra_dirs, &Cache::disabled())
    }

    /// As [`Catalog::load`], taking the rules' metadata from `cache` when it holds an entry for
    /// exactly these policy sources (and filling it when not).
    pub fn load_with_cache(extra_dirs: &[PathBuf], cache: &Cache) -> Result<Catalog, PolicyError> {
        Catalog::load_with_sources(extra_dirs, Vec::new(), cache)
    }

    /// As [`Catalog::load_with_cache`], with policy sources made elsewhere (the rules generated
    /// for Gatekeeper constraints and conftest policies) after the directories' files.
    pub fn load_with_sources(
        extra_dirs: &[PathBuf],
        extra_sources: Vec<PolicySource>,
        cache: &Cache,
    ) -> Result<Catalog, PolicyError> {
        let mut sources: Vec<PolicySource> = builtin::BUILTIN_POLICIES
            .iter()
            .map(|(name, text)| PolicySource {
                file: name.to_string(),
                text: text.to_string(),
                builtin: true,
                rego_v0: false,
            })
            .collect();
        for dir in extra_dirs {
            for (file, text) in read_policy_dir(dir)? {
                sources.push(PolicySource {
                    file,
                    text,
                    builtin: false,
                    rego_v0: false,
                });
            }
        }
        sources.extend(extra_sources);
        let key = sources_key("catalog", &sources);
        let cached = cache
            .load(&key)
            .and_then(|payload| serde_json::from_slice::<Vec<Rule>>(&payload).ok());
        if let Some(rules) = cached {
            return Ok(Catalog {
                rules,
                sources,
                engine: None,
                cache: cache.clone(),
            });
        }
        let mut catalog = Catalog::from_policy_sources(sources)?;
        if let Ok(payload) = serde_json::to_vec(&catalog.rules) {
            cache.store(&key, &payload);
        }
        catalog.cache = cache.clone();
        Ok(catalog)
    }

    /// Builds a catalog from `(file name, Rego source, is built-in)` triples.
    pub fn from_sources(sources: Vec<(String, String, bool)>) -> Result<Catalog, PolicyError> {
        Catalog::from_policy_sources(
            sources
                .into_iter()
                .map(|(file, text, builtin)| PolicySource {
                    file,
                    text,
                    builtin,
                    rego_v0: false,
                })
                .collect(),
        )
    }

    /// Builds a catalog from policy sources (see [`PolicySource`]).
    pub fn from_policy_sources(sources: Vec<PolicySource>) -> Result<Catalog, PolicyError> {
        let mut engine = parse_policies(&sources)?;
        let builtin: HashSet<&str> = sources
            .iter()
            .filter(|s| s.builtin)
            .map(|s| s.file.as_str())
            .collect();
        let analysis = analysis::analyze(engine.get_modules(), |file| builtin.contains(file))?;
        let mut rules = Vec::new();
        let mut seen: HashMap<String, String> = HashMap::new();
        for source in &sources {
            let package = policy::package_of(&source.text).unwrap_or_default();
            if !package.starts_with(policy::RULES_PACKAGE_PREFIX) {
                // A helper library may live anywhere; a rule (metadata and violations) outside
                // `seaworthy.rules.` would silently never run.
                if !source.builtin
                    && source.text.contains("violations")
                    && source.text.contains("metadata")
                {
                    return Err(PolicyError::Invalid {
                        file: source.file.clone(),
                        message: format!(
                            "package {package} is outside {}, so its rule would never run (name it {}<area>.<rule>)",
                            policy::RULES_PACKAGE_PREFIX.trim_end_matches('.'),
                            policy::RULES_PACKAGE_PREFIX
                        ),
                    });
                }
                continue;
            }
            let file = &source.file;
            let invalid = |message: String| PolicyError::Invalid {
                file: file.clone(),
                message,
            };
            if let Some(why) = analysis.broken(&format!("data.{package}.metadata")) {
                return Err(invalid(format!("metadata cannot be evaluated: {why}")));
            }
            let metadata = engine
                .eval_rule(format!("data.{package}.metadata"))
                .map_err(|e| invalid(format!("cannot evaluate metadata: {e}")))?;
            if metadata == Value::Undefined {
                return Err(invalid(format!("package {package} has no `metadata` rule")));
            }
            let json = serde_json::to_value(&metadata)
                .map_err(|e| invalid(format!("metadata is not plain data: {e}")))?;
            let meta = policy::parse_meta(&json).map_err(invalid)?;
            if !source.text.contains("violations") {
                return Err(invalid(
                    "no `violations` rule: a rule reports through `violations contains v if {...}`"
                        .into(),
                ));
            }
            if let Some(other) = seen.insert(meta.id.clone(), file.clone()) {
                return Err(invalid(format!(
                    "rule id {:?} is already defined in {other}",
                    meta.id
                )));
            }
            rules.push(Rule {
                meta,
                doc: policy::parse_doc(&source.text),
                file: file.clone(),
                broken: analysis.broken(&format!("data.{package}.violations")),
                may_conflict: analysis.needs_interpreter(&format!("data.{package}.violations")),
                reads_inventory: analysis.reads_inventory(&format!("data.{package}.violations")),
                reads_schema: analysis.reads_schema(&format!("data.{package}.violations")),
                violations_always_a_set: analysis
                    .always_a_set(&format!("data.{package}.violations")),
                package,
                builtin: source.builtin,
            });
        }
        rules.sort_by(|a, b| a.meta.id.cmp(&b.meta.id));
        Ok(Catalog {
            rules,
            sources,
            engine: Some(engine),
            cache: Cache::disabled(),
        })
    }

    /// Every policy source of the catalog (rules and libraries).
    pub fn sources(&self) -> &[PolicySource] {
        &self.sources
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.meta.id == id)
    }

    /// The parsed policies: the ones parsed while loading, or parsed now.
    pub(super) fn take_engine(&mut self) -> Result<regorus::Engine, PolicyError> {
        match self.engine.take() {
            Some(engine) => Ok(engine),
            None => parse_policies(&self.sources),
        }
    }
}

/// Parses every policy into one engine (Rego v1), on a deep stack ([`on_eval_stack`]).
pub(super) fn parse_policies(sources: &[PolicySource]) -> Result<regorus::Engine, PolicyError> {
    on_eval_stack(|| parse_policies_here(sources))
}

fn parse_policies_here(sources: &[PolicySource]) -> Result<regorus::Engine, PolicyError> {
    let mut engine = regorus::Engine::new();
    engine.set_rego_v0(false);
    bounded::install(&mut engine)?;
    for source in sources {
        analysis::check_nesting(&source.file, &source.text)?;
        engine.set_rego_v0(source.rego_v0);
        engine
            .add_policy(source.file.clone(), source.text.clone())
            .map_err(|e| syntax_error(&e.to_string(), &source.file))?;
    }
    engine.set_rego_v0(false);
    Ok(engine)
}

/// Parses one policy alone, in Rego v0 or v1, with the guards every policy gets: the nesting
/// checks first, then regorus's parser on a deep stack. For a caller that must know whether a
/// file parses before it joins a catalog (conftest, which tries both dialects).
pub fn parse_alone(file: &str, text: &str, rego_v0: bool) -> Result<(), PolicyError> {
    analysis::check_nesting(file, text)?;
    on_eval_stack(|| {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(rego_v0);
        engine
            .add_policy(file.to_string(), text.to_string())
            .map(drop)
            .map_err(|e| syntax_error(&e.to_string(), file))
    })
}

/// A cache key over every policy's name and full text.
pub(super) fn sources_key(kind: &'static str, sources: &[PolicySource]) -> Key {
    let mut key = Key::new(kind);
    key.reserve(
        sources
            .iter()
            .map(|s| s.file.len() + s.text.len() + 2 + 3 * 8)
            .sum(),
    );
    for source in sources {
        key.add(source.file.as_bytes());
        key.add(source.text.as_bytes());
        key.add(&[u8::from(source.builtin), u8::from(source.rego_v0)]);
    }
    key
}

/// regorus reports `--> file:line:col`, a source excerpt and `error: message` on separate lines;
/// this makes it the one-line `file:line:col: message` that editors and CI logs link to.
pub(super) fn syntax_error(message: &str, file: &str) -> PolicyError {
    let location = message.lines().find_map(|l| {
        l.trim()
            .strip_prefix("-->")
            .map(|rest| rest.trim().to_string())
    });
    let error = message.lines().find_map(|l| {
        l.trim()
            .strip_prefix("error:")
            .map(|rest| rest.trim().to_string())
    });
    match (location, error) {
        (Some(location), Some(error)) => {
            let position = location
                .strip_prefix(file)
                .map(|p| p.trim_start_matches(':'))
                .unwrap_or(&location);
            PolicyError::Syntax {
                file: file.to_string(),
                position: position.to_string(),
                message: error,
            }
        }
        _ => PolicyError::Invalid {
            file: file.to_string(),
            message: message.trim().to_string(),
        },
    }
}

pub(super) fn read_policy_dir(dir: &Path) -> Result<Vec<(String, String)>, PolicyError> {
    let read_err = |message: String| PolicyError::Read {
        path: dir.display().to_string(),
        message,
    };
    if !dir.is_dir() {
        return Err(read_err("not a directory".into()));
    }
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| read_err(e.to_string()))?;
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "rego") {
            let text = std::fs::read_to_string(entry.path())
                .map_err(|e| read_err(format!("{}: {e}", entry.path().display())))?;
            out.push((entry.path().display().to_string(), text));
        }
    }
    Ok(out)
}
