//! `.seaworthy.yaml`: found by searching upward from the working directory (or `--config FILE`),
//! read by lint and serve alike. Unknown keys and unknown rule ids are errors that name the line, so
//! a typo never silently disables a check.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::engine::{Catalog, Rule, RuleSetting};
use crate::finding::Severity;
use crate::manifest::node::{Node, PathStep};
use crate::manifest::{split, yaml};
use crate::selector::LabelSelector;

pub const FILE_NAME: &str = ".seaworthy.yaml";

#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PodSecurity {
    #[default]
    Restricted,
    Baseline,
    None,
}

/// The level at or above which findings fail the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    #[default]
    Error,
    Warning,
    Notice,
    Never,
}

impl FailOn {
    pub fn fails(self, severity: Severity) -> bool {
        match self {
            FailOn::Never => false,
            FailOn::Error => severity >= Severity::Error,
            FailOn::Warning => severity >= Severity::Warning,
            FailOn::Notice => true,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub enabled: Option<bool>,
    pub severity: Option<Severity>,
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
}

/// A standing exception: every given criterion must match. Each needs a reason, for the reviewer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exemption {
    pub reason: String,
    /// Rule ids; omitted means every rule.
    pub rules: Option<Vec<String>>,
    pub namespaces: Option<Vec<String>>,
    pub kinds: Option<Vec<String>>,
    /// Object name globs (`node-exporter*`).
    pub names: Option<Vec<String>>,
    /// Matches the object's own labels.
    pub selector: Option<LabelSelector>,
    /// Container names; the finding must be about one of these containers.
    pub containers: Option<Vec<String>>,
    /// Only node-level infrastructure (see `workload::is_node_level`); set by built-in profiles.
    #[serde(skip)]
    pub node_level_only: bool,
}

/// A built-in set of exemptions a team opts into with `profiles: [...]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// Node-level infrastructure (CNI, CSI node drivers, kube-proxy, node agents): DaemonSets
    /// whose pods use the host network or PID namespace or run privileged, exempt from the rules
    /// about the host access and privileges they need by design.
    NodeInfrastructure,
}

/// The rules the node-infrastructure profile lifts: host access and privileges. Probes,
/// resources, image tags and every other rule still apply.
pub const NODE_INFRASTRUCTURE_RULES: &[&str] = &[
    "capabilities-not-dropped",
    "dangerous-capabilities",
    "host-namespaces",
    "host-path-volume",
    "host-port",
    "missing-run-as-non-root",
    "privilege-escalation-allowed",
    "privileged-container",
    "run-as-root",
    "selinux-override",
    "writable-root-filesystem",
];

impl Profile {
    pub fn exemptions(self) -> Vec<Exemption> {
        match self {
            Profile::NodeInfrastructure => vec![Exemption {
                reason: "profile node-infrastructure: a node-level DaemonSet (host network, host \
                         PID or privileged) needs host access by design"
                    .into(),
                rules: Some(
                    NODE_INFRASTRUCTURE_RULES
                        .iter()
                        .map(|r| r.to_string())
                        .collect(),
                ),
                namespaces: None,
                kinds: Some(vec!["DaemonSet".into()]),
                names: None,
                selector: None,
                containers: None,
                node_level_only: true,
            }],
        }
    }
}

/// What the webhook does with deny-level findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Deny-level findings deny the request.
    #[default]
    Enforce,
    /// Every deny becomes a warning (for a first rollout).
    Warn,
}

/// The answer when an evaluation fails or runs out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FailureMode {
    #[default]
    Allow,
    Deny,
}

/// How an UPDATE is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum UpdatePolicy {
    /// A violation the old object already had warns instead of denying.
    #[default]
    Ratchet,
    /// Every violation counts, old or new.
    Full,
}

/// What the webhook does with a finding of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Logged and counted only.
    Audit,
    /// Returned in `response.warnings` (kubectl prints them).
    Warn,
    /// The request is denied.
    Deny,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Audit => "audit",
            Action::Warn => "warn",
            Action::Deny => "deny",
        }
    }

    /// The default action of a severity: error denies, warning warns, notice is recorded.
    pub fn for_severity(severity: Severity) -> Action {
        match severity {
            Severity::Error => Action::Deny,
            Severity::Warning => Action::Warn,
            Severity::Notice => Action::Audit,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The `serve:` section. Every key can also be given as a flag or an environment variable
/// (flags win, then the environment, then this file).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    pub mode: Option<Mode>,
    pub failure_mode: Option<FailureMode>,
    pub update_policy: Option<UpdatePolicy>,
    /// Replaces the default list (`kube-system`); the webhook's own namespace is always exempt.
    pub exempt_namespaces: Option<Vec<String>>,
    /// Whether `seaworthy.dev/ignore` annotations excuse findings in serve (default false: anyone
    /// who can create a Pod writes its annotations).
    pub allow_annotation_suppression: Option<bool>,
    /// Users (globs) whose requests for controller-owned objects are not judged again; replaces
    /// the default list of kube-controller-manager identities.
    pub controller_users: Option<Vec<String>>,
    #[serde(default)]
    pub actions: BTreeMap<String, Action>,
    pub listen: Option<String>,
    pub health_listen: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub client_ca: Option<PathBuf>,
    /// A duration: `2s`, `1500ms`.
    pub eval_timeout: Option<String>,
    pub cluster_context: Option<bool>,
    pub namespace: Option<String>,
    pub log_format: Option<LogFormat>,
    /// A size: `3MiB`.
    pub max_body_size: Option<String>,
    pub max_concurrency: Option<usize>,
    pub shutdown_timeout: Option<String>,
    /// Connection limits and timeouts (see README "Limits"): sizes like `32MiB`, durations like `10s`.
    pub max_connections: Option<usize>,
    pub handshake_timeout: Option<String>,
    pub header_timeout: Option<String>,
    pub body_timeout: Option<String>,
    pub idle_timeout: Option<String>,
    pub body_budget: Option<String>,
    pub shutdown_delay: Option<String>,
    pub max_containers: Option<usize>,
}

/// `16MiB`, `3M`, `100`: a byte count with an optional decimal or binary suffix.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (try 16MiB)"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit {other:?} (use K, M, G, KiB, MiB or GiB)"
            ))
        }
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// The rule parameter the `kubernetes_version` setting fills.
pub const KUBERNETES_VERSION_PARAM: &str = "kubernetes_version";

/// `1.29`, `v1.29`, `1.29.3` → `1.29`: a Kubernetes release as the version rules compare it.
pub fn parse_kubernetes_version(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    let bare = trimmed.strip_prefix('v').unwrap_or(trimmed);
    let parts: Vec<&str> = bare.split('.').collect();
    let number = |part: &str| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit());
    match parts.as_slice() {
        ["1", minor] | ["1", minor, _] if number(minor) && parts.iter().all(|p| number(p)) => {
            let minor: u32 = minor
                .parse()
                .map_err(|_| format!("{text:?}: the minor version is too large"))?;
            Ok(format!("1.{minor}"))
        }
        _ => Err(format!(
            "{text:?} is not a Kubernetes version (write it as 1.29, v1.29 or 1.29.3)"
        )),
    }
}

/// `2s`, `1500ms`, `1m`: a duration as humans write it.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("{text:?} is not a duration (try 2s or 1500ms): {e}"))
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub pod_security: PodSecurity,
    pub fail_on: Option<FailOn>,
    /// Extra policy directories, relative to the config file.
    #[serde(default)]
    pub policies: Vec<PathBuf>,
    /// Folders of Gatekeeper ConstraintTemplates and Constraints, relative to the config file.
    #[serde(default)]
    pub gatekeeper: Vec<PathBuf>,
    /// Folders of conftest policies, relative to the config file.
    #[serde(default)]
    pub conftest: Vec<PathBuf>,
    /// The conftest packages to run (conftest's `--namespace`); `main` when empty.
    #[serde(default)]
    pub conftest_namespaces: Vec<String>,
    #[serde(default)]
    pub rules: BTreeMap<String, RuleConfig>,
    #[serde(default)]
    pub exemptions: Vec<Exemption>,
    /// Built-in exemption profiles; their exemptions are appended to `exemptions` on load.
    #[serde(default)]
    pub profiles: Vec<Profile>,
    pub serve: Option<ServeConfig>,
    /// Globs of files and directories `seaworthy lint` leaves out (as `--exclude`).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// How charts found in a linted tree are rendered.
    #[serde(default)]
    pub charts: ChartsConfig,
    /// The Kubernetes version the manifests are deployed to (`1.29`), normalised to `1.N`: the
    /// rules with a `kubernetes_version` parameter (removed-api, deprecated-api) judge against it.
    pub kubernetes_version: Option<String>,
    /// Where the file was read from, for errors and relative paths.
    #[serde(skip)]
    pub source: Option<LoadedFile>,
}

/// `charts:` in the config: how `seaworthy lint` renders the charts it finds in a tree.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ChartsConfig {
    /// Values files (globs relative to each chart directory) to render the chart with, one render
    /// each; when none matches, `ci/*-values.yaml`, else the chart's own values.yaml alone.
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct LoadedFile {
    pub path: PathBuf,
    pub root: Node,
}

/// `.seaworthy.yaml` in `start` or the nearest parent that has one.
pub fn find_upward(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|p| p.is_file())
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let error = |line, column, message: String| ConfigError {
            file: file.clone(),
            line,
            column,
            message,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| error(1, 1, format!("cannot read config: {e}")))?;
        Config::parse(&file, &text).map(|mut c| {
            if let Some(src) = &mut c.source {
                src.path = path.to_path_buf();
            }
            c
        })
    }

    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        let error = |span: crate::manifest::node::Span, message: String| ConfigError {
            file: file.to_string(),
            line: span.line.max(1),
            column: span.column.max(1),
            message,
        };
        let chunks = split::split_documents(text);
        let mut docs = Vec::new();
        for chunk in chunks {
            let parsed = yaml::parse_str(chunk.text, chunk.first_line, yaml::Limits::default())
                .map_err(|e| error(e.span(), format!("cannot parse YAML: {e}")))?;
            docs.extend(parsed);
        }
        let mut roots = docs.into_iter().filter_map(|d| {
            if let Some(dup) = d.duplicates.first() {
                return Some(Err(error(
                    dup.span,
                    format!("key {:?} is given twice", dup.key),
                )));
            }
            d.root.map(Ok)
        });
        let root = match roots.next() {
            None => return Ok(Config::default()),
            Some(root) => root?,
        };
        if roots.next().is_some() {
            return Err(error(
                Default::default(),
                "config must be a single YAML document".into(),
            ));
        }
        let json = root.to_json();
        let mut config: Config = serde_path_to_error::deserialize(json).map_err(|e| {
            let mut path: Vec<PathStep> = e
                .path()
                .iter()
                .filter_map(|seg| match seg {
                    serde_path_to_error::Segment::Seq { index } => Some(PathStep::Index(*index)),
                    serde_path_to_error::Segment::Map { key } => Some(PathStep::Key(key.clone())),
                    serde_path_to_error::Segment::Enum { .. }
                    | serde_path_to_error::Segment::Unknown => None,
                })
                .collect();
            let message = e.inner().to_string();
            if let Some(field) = message
                .strip_prefix("unknown field `")
                .and_then(|m| m.split('`').next())
            {
                path.push(PathStep::Key(field.to_string()));
            }
            let shown = crate::manifest::node::display_path(&path);
            let message = if shown.is_empty() {
                message
            } else {
                format!("{shown}: {message}")
            };
            error(root.locate(&path), message)
        })?;
        for (index, exemption) in config.exemptions.iter().enumerate() {
            if exemption.reason.trim().is_empty() {
                let path = [
                    PathStep::Key("exemptions".into()),
                    PathStep::Index(index),
                    PathStep::Key("reason".into()),
                ];
                return Err(error(
                    root.locate(&path),
                    "an exemption needs a non-empty reason".into(),
                ));
            }
        }
        if let Some(text) = &config.kubernetes_version {
            let normalised = parse_kubernetes_version(text).map_err(|message| {
                error(
                    root.locate(&[PathStep::Key("kubernetes_version".into())]),
                    format!("kubernetes_version: {message}"),
                )
            })?;
            config.kubernetes_version = Some(normalised);
        }
        for profile in config.profiles.clone() {
            config.exemptions.extend(profile.exemptions());
        }
        config.source = Some(LoadedFile {
            path: PathBuf::from(file),
            root,
        });
        Ok(config)
    }

    fn error_at(&self, path: &[PathStep], message: String) -> ConfigError {
        let (file, span) = match &self.source {
            Some(src) => (src.path.display().to_string(), src.root.locate(path)),
            None => ("<config>".to_string(), Default::default()),
        };
        ConfigError {
            file,
            line: span.line.max(1),
            column: span.column.max(1),
            message,
        }
    }

    /// Checks the `serve:` section against the catalog: action rule ids must exist, sizes and
    /// durations must parse. Errors name the line.
    pub fn check_serve(&self, catalog: &Catalog) -> Result<(), ConfigError> {
        let Some(serve) = &self.serve else {
            return Ok(());
        };
        let at = |key: &str| [PathStep::Key("serve".into()), PathStep::Key(key.into())];
        for id in serve.actions.keys() {
            if catalog.rule(id).is_none() {
                let mut path = at("actions").to_vec();
                path.push(PathStep::Key(id.clone()));
                return Err(self.error_at(
                    &path,
                    format!("unknown rule id {id:?} (see `seaworthy rules`)"),
                ));
            }
        }
        for (key, value) in [
            ("eval_timeout", &serve.eval_timeout),
            ("shutdown_timeout", &serve.shutdown_timeout),
            ("handshake_timeout", &serve.handshake_timeout),
            ("header_timeout", &serve.header_timeout),
            ("body_timeout", &serve.body_timeout),
            ("idle_timeout", &serve.idle_timeout),
            ("shutdown_delay", &serve.shutdown_delay),
        ] {
            if let Some(text) = value {
                parse_duration(text).map_err(|m| self.error_at(&at(key), m))?;
            }
        }
        for (key, value) in [
            ("max_body_size", &serve.max_body_size),
            ("body_budget", &serve.body_budget),
        ] {
            if let Some(text) = value {
                parse_size(text).map_err(|m| self.error_at(&at(key), m))?;
            }
        }
        for (key, value) in [
            ("listen", &serve.listen),
            ("health_listen", &serve.health_listen),
        ] {
            if let Some(text) = value {
                text.parse::<std::net::SocketAddr>().map_err(|e| {
                    self.error_at(
                        &at(key),
                        format!("{text:?} is not an address (host:port): {e}"),
                    )
                })?;
            }
        }
        Ok(())
    }

    /// A path from the config file, made relative to the file's directory.
    pub fn resolve_path(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            return path.to_path_buf();
        }
        match self.source.as_ref().and_then(|s| s.path.parent()) {
            Some(dir) => dir.join(path),
            None => path.to_path_buf(),
        }
    }

    /// Extra policy directories with paths made relative to the config file's directory.
    pub fn policy_dirs(&self) -> Vec<PathBuf> {
        self.policies.iter().map(|p| self.resolve_path(p)).collect()
    }

    /// Gatekeeper folders with paths made relative to the config file's directory.
    pub fn gatekeeper_dirs(&self) -> Vec<PathBuf> {
        self.gatekeeper
            .iter()
            .map(|p| self.resolve_path(p))
            .collect()
    }

    /// conftest folders with paths made relative to the config file's directory.
    pub fn conftest_dirs(&self) -> Vec<PathBuf> {
        self.conftest.iter().map(|p| self.resolve_path(p)).collect()
    }

    /// Checks rule ids and parameter names against the catalog and turns the config into settings.
    pub fn rule_settings(
        &self,
        catalog: &Catalog,
    ) -> Result<HashMap<String, RuleSetting>, ConfigError> {
        let known = |id: &str| catalog.rule(id).is_some();
        for (id, rule) in &self.rules {
            let here = [PathStep::Key("rules".into()), PathStep::Key(id.clone())];
            let Some(def) = catalog.rule(id) else {
                return Err(self.error_at(
                    &here,
                    format!("unknown rule id {id:?} (see `seaworthy rules`)"),
                ));
            };
            if let Some(value) = rule.params.get(KUBERNETES_VERSION_PARAM) {
                let checked = match value.as_str() {
                    Some(text) => parse_kubernetes_version(text).map(|_| ()),
                    None => Err(format!(
                        "{value} is not a Kubernetes version (write it as \"1.29\")"
                    )),
                };
                if let Err(message) = checked {
                    let mut path = here.to_vec();
                    path.extend([
                        PathStep::Key("params".into()),
                        PathStep::Key(KUBERNETES_VERSION_PARAM.into()),
                    ]);
                    return Err(self.error_at(&path, message));
                }
            }
            for (param, value) in &rule.params {
                let mut path = here.to_vec();
                path.extend([PathStep::Key("params".into()), PathStep::Key(param.clone())]);
                let Some(default) = def.meta.params.get(param) else {
                    let known: Vec<&String> = def.meta.params.keys().collect();
                    return Err(self.error_at(
                        &path,
                        format!("rule {id} has no parameter {param:?} (it has: {known:?})"),
                    ));
                };
                if let Some(expected) = json_type_mismatch(default, value) {
                    return Err(self.error_at(
                        &path,
                        format!(
                            "rule {id}: parameter {param} must be {expected} (its default is {default}), not {}",
                            describe_json(value)
                        ),
                    ));
                }
            }
        }
        for (index, exemption) in self.exemptions.iter().enumerate() {
            for (i, id) in exemption.rules.iter().flatten().enumerate() {
                if !known(id) && id != crate::manifest::DUPLICATE_KEY {
                    let path = [
                        PathStep::Key("exemptions".into()),
                        PathStep::Index(index),
                        PathStep::Key("rules".into()),
                        PathStep::Index(i),
                    ];
                    return Err(self.error_at(
                        &path,
                        format!("unknown rule id {id:?} (see `seaworthy rules`)"),
                    ));
                }
            }
        }
        let mut settings = HashMap::new();
        for rule in &catalog.rules {
            let configured = self.rules.get(&rule.meta.id);
            let level_enabled = !matches!(
                (rule.meta.level.as_deref(), self.pod_security),
                (Some(_), PodSecurity::None) | (Some("restricted"), PodSecurity::Baseline)
            );
            settings.insert(
                rule.meta.id.clone(),
                RuleSetting {
                    enabled: configured.and_then(|c| c.enabled).unwrap_or(level_enabled),
                    severity: configured
                        .and_then(|c| c.severity)
                        .unwrap_or(rule.meta.severity),
                    params: self.params_of(rule, configured),
                },
            );
        }
        Ok(settings)
    }
}

/// The kind of value a parameter must have, when `value` is not of the kind of its `default`
/// (a null default accepts anything; any number fits a number).
fn json_type_mismatch(
    default: &serde_json::Value,
    value: &serde_json::Value,
) -> Option<&'static str> {
    use serde_json::Value as J;
    let expected = match default {
        J::Null => return None,
        J::Bool(_) => "a boolean",
        J::Number(_) => "a number",
        J::String(_) => "a string",
        J::Array(_) => "a list",
        J::Object(_) => "a mapping",
    };
    let same = matches!(
        (default, value),
        (J::Bool(_), J::Bool(_))
            | (J::Number(_), J::Number(_))
            | (J::String(_), J::String(_))
            | (J::Array(_), J::Array(_))
            | (J::Object(_), J::Object(_))
    );
    (!same).then_some(expected)
}

fn describe_json(value: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match value {
        J::Null => "null".to_string(),
        J::Bool(b) => format!("the boolean {b}"),
        J::Number(n) => format!("the number {n}"),
        J::String(s) => format!("the string {s:?}"),
        J::Array(_) => "a list".to_string(),
        J::Object(_) => "a mapping".to_string(),
    }
}

impl Config {
    /// A rule's parameters from the config: its own `params`, with the run's Kubernetes version
    /// (normalised) where the rule takes one and does not set it itself.
    fn params_of(
        &self,
        rule: &Rule,
        configured: Option<&RuleConfig>,
    ) -> serde_json::Map<String, serde_json::Value> {
        let mut params = configured.map(|c| c.params.clone()).unwrap_or_default();
        if let Some(serde_json::Value::String(text)) = params.get(KUBERNETES_VERSION_PARAM) {
            if let Ok(normalised) = parse_kubernetes_version(text) {
                params.insert(KUBERNETES_VERSION_PARAM.into(), normalised.into());
            }
        } else if let Some(version) = &self.kubernetes_version {
            if rule.meta.params.contains_key(KUBERNETES_VERSION_PARAM) {
                params.insert(KUBERNETES_VERSION_PARAM.into(), version.clone().into());
            }
        }
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_name_their_line() {
        let err = Config::parse(
            "c.yaml",
            "fail_on: error\nrules:\n  x:\n    enabeld: false\n",
        )
        .unwrap_err();
        assert_eq!((err.line, err.column), (4, 5), "{err}");
        assert!(err.message.contains("enabeld"), "{err}");
    }

    #[test]
    fn exemption_without_reason_is_rejected() {
        let err =
            Config::parse("c.yaml", "exemptions:\n  - reason: ''\n    kinds: [Pod]\n").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        let err = Config::parse("c.yaml", "exemptions:\n  - kinds: [Pod]\n").unwrap_err();
        assert!(err.message.contains("reason"), "{err}");
    }

    #[test]
    fn profiles_add_their_exemptions_and_unknown_ones_are_rejected() {
        let config = Config::parse("c.yaml", "profiles: [node-infrastructure]\n").expect("parses");
        assert_eq!(config.exemptions.len(), 1);
        assert!(config.exemptions[0].node_level_only);
        let err = Config::parse("c.yaml", "profiles: [node-infra]\n").unwrap_err();
        assert!(err.message.contains("node-infra"), "{err}");
        assert_eq!(err.line, 1, "{err}");
    }

    #[test]
    fn kubernetes_versions_are_normalised_or_rejected_at_their_line() {
        assert_eq!(parse_kubernetes_version("1.29").as_deref(), Ok("1.29"));
        assert_eq!(parse_kubernetes_version("v1.25.3").as_deref(), Ok("1.25"));
        assert_eq!(parse_kubernetes_version(" 1.30 ").as_deref(), Ok("1.30"));
        for bad in ["1", "2.1", "1.x", "1.29.3.1", "latest", "", "1.-2", "1..2"] {
            assert!(parse_kubernetes_version(bad).is_err(), "{bad:?}");
        }
        let config = Config::parse("c.yaml", "kubernetes_version: v1.27.4\n").expect("parses");
        assert_eq!(config.kubernetes_version.as_deref(), Some("1.27"));
        let err = Config::parse("c.yaml", "fail_on: error\nkubernetes_version: one-thirty\n")
            .unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        assert!(err.message.contains("one-thirty"), "{err}");
    }

    #[test]
    fn the_kubernetes_version_reaches_the_rules_that_take_it() {
        let catalog = Catalog::load(&[]).expect("built-in policies");
        let config = Config::parse(
            "c.yaml",
            "kubernetes_version: '1.22'\nrules:\n  deprecated-api:\n    params: {kubernetes_version: v1.19}\n",
        )
        .expect("parses");
        let settings = config.rule_settings(&catalog).expect("valid");
        let version = |id: &str| settings[id].params.get(KUBERNETES_VERSION_PARAM).cloned();
        assert_eq!(version("removed-api"), Some("1.22".into()));
        // A rule's own parameter wins over the run's version.
        assert_eq!(version("deprecated-api"), Some("1.19".into()));
        // Rules without the parameter do not get it (an unknown parameter would be an error).
        assert_eq!(version("missing-readiness-probe"), None);
        let bad = Config::parse(
            "c.yaml",
            "rules:\n  removed-api:\n    params: {kubernetes_version: 25}\n",
        )
        .expect("parses");
        let err = bad.rule_settings(&catalog).unwrap_err();
        assert_eq!(err.line, 3, "{err}");
    }

    #[test]
    fn fail_on_levels() {
        assert!(FailOn::Warning.fails(Severity::Error));
        assert!(!FailOn::Warning.fails(Severity::Notice));
        assert!(!FailOn::Never.fails(Severity::Error));
    }
}
