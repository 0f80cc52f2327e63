//! The command line: `seaworthy lint`, `seaworthy rules`, `seaworthy serve`, `seaworthy test`,
//! `seaworthy version` and `seaworthy completions`. Parses flags, merges them over the
//! config file, runs the library and prints. Exit codes: 0 clean, 1 findings at or above
//! `--fail-on`, 2 usage error, unreadable or malformed input, broken policy, or no objects.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::config::{self, Config, FailOn};
use crate::discover;
use crate::engine::{Backend, Cache, Catalog};
use crate::lint;
use crate::manifest::{yaml, Input, LoadOptions};
use crate::render;
use crate::report;
use crate::suppress::Suppressor;

#[derive(Debug, Parser)]
#[command(
    name = "seaworthy",
    version = VERSION,
    about = "Checks that Kubernetes workloads are fit for production."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The version, the commit it was built from and the build date (build.rs), as `--version` and
/// `seaworthy version` print them: `0.1.0 (commit 0123456789ab, built 2026-12-04)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SEAWORTHY_COMMIT"),
    ", built ",
    env!("SEAWORTHY_BUILD_DATE"),
    ")"
);

// Parsed once per process: the size of the serve variant (its limits flags) costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint manifests: files, directories (recursive), or `-` for stdin.
    Lint(LintArgs),
    /// List the rules, or print one rule's documentation.
    Rules(RulesArgs),
    /// Run the validating admission webhook (HTTPS, AdmissionReview v1).
    Serve(ServeArgs),
    /// Test rules against their fixtures: `<rule-id>/pass/*.yaml` and `<rule-id>/fail/*.yaml`.
    Test(TestArgs),
    /// Print the version, the commit it was built from and the build date.
    Version,
    /// Print a shell completion script (e.g. `seaworthy completions bash > /etc/bash_completion.d/seaworthy`).
    Completions(CompletionsArgs),
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub serve: crate::webhook::settings::ServeFlags,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-style, with the source line and a caret.
    Text,
    /// The stable JSON contract (findings and summary).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// JUnit XML, for CI test reports (GitLab, Jenkins, Azure Pipelines).
    Junit,
    /// GitHub Actions workflow commands (annotations on the pull request).
    Github,
    /// GitLab Code Quality JSON (the merge request widget and diff).
    Gitlab,
    /// One line per finding, `file:line:col: severity[rule] message`, for editors and grep.
    Compact,
}

/// Where a report goes: standard output or a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Stdout,
    File(PathBuf),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Stdout => f.write_str("standard output"),
            Target::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// One report of a run: `--output FORMAT=FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub format: Format,
    pub target: Target,
}

/// Parses `FORMAT=FILE` (`-` for standard output).
fn parse_output(text: &str) -> Result<Output, String> {
    let (format, file) = text.split_once('=').ok_or_else(|| {
        format!("expected FORMAT=FILE, as in sarif=results.sarif (`-` for standard output), got {text:?}")
    })?;
    let format = Format::from_str(format, true).map_err(|_| {
        let known: Vec<String> = Format::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        format!("unknown format {format:?} (one of: {})", known.join(", "))
    })?;
    let target = match file {
        "" => return Err(format!("no file after {text:?} (`-` for standard output)")),
        "-" => Target::Stdout,
        path => Target::File(PathBuf::from(path)),
    };
    Ok(Output { format, target })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum EngineChoice {
    #[default]
    Rvm,
    Interpreter,
}

#[derive(Debug, clap::Args)]
pub struct PolicyArgs {
    /// Config file (default: .seaworthy.yaml in the working directory or the nearest parent).
    #[arg(long, value_name = "FILE", env = "SEAWORTHY_CONFIG")]
    pub config: Option<PathBuf>,
    /// Ignore any .seaworthy.yaml.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Extra directory of Rego policies (repeatable), same contract as the built-in rules.
    #[arg(long = "policies", value_name = "DIR")]
    pub policies: Vec<PathBuf>,
    /// Folder of Gatekeeper ConstraintTemplates and Constraints, run unchanged (repeatable):
    /// each Constraint is a rule gatekeeper/<kind>/<name>.
    #[arg(long = "gatekeeper", value_name = "DIR")]
    pub gatekeeper: Vec<PathBuf>,
    /// Folder of conftest policies, run unchanged (repeatable): each deny, violation and warn
    /// rule is a rule conftest/<package>/<rule>.
    #[arg(long = "conftest", value_name = "DIR")]
    pub conftest: Vec<PathBuf>,
    /// conftest package whose rules run (conftest's --namespace; repeatable) [default: main].
    #[arg(long = "conftest-namespace", value_name = "NS")]
    pub conftest_namespaces: Vec<String>,
    /// Rego back end (the RVM is faster; the interpreter is kept for comparison).
    #[arg(long, value_enum, default_value_t, hide = true)]
    pub engine: EngineChoice,
    /// Do not read or write the cache of compiled policies (also: SEAWORTHY_NO_CACHE=1).
    #[arg(long)]
    pub no_cache: bool,
}

impl PolicyArgs {
    /// The Gatekeeper and conftest folders of the command line and of `config`.
    pub fn folders(&self, config: &Config) -> crate::foreign::Folders {
        crate::foreign::Folders {
            gatekeeper: self.gatekeeper.clone(),
            conftest: self.conftest.clone(),
            conftest_namespaces: self.conftest_namespaces.clone(),
        }
        .with_config(config)
    }

    /// The policy cache this run uses: the user's cache directory unless turned off.
    pub fn cache(&self) -> Cache {
        if self.no_cache {
            Cache::disabled()
        } else {
            Cache::from_env()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RelateChoice {
    Directory,
    File,
    Run,
}

impl From<RelateChoice> for crate::unit::Relate {
    fn from(choice: RelateChoice) -> Self {
        match choice {
            RelateChoice::Directory => crate::unit::Relate::Directory,
            RelateChoice::File => crate::unit::Relate::File,
            RelateChoice::Run => crate::unit::Relate::Run,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// Files or directories to lint; `-` reads standard input.
    #[arg(required_unless_present_any = ["helm", "kustomize"], value_name = "PATH")]
    pub paths: Vec<String>,
    /// Format of the report on standard output [default: text].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Also write a report in FORMAT to FILE (repeatable; `-` is standard output, which then
    /// replaces the --format report): `--output sarif=results.sarif` keeps text on the terminal.
    #[arg(long = "output", value_name = "FORMAT=FILE", value_parser = parse_output)]
    pub outputs: Vec<Output>,
    /// Page that SARIF `helpUri`s point into, as `URL#<rule-id>` for every rule [default: the
    /// project's docs/rules.md, for built-in rules only].
    #[arg(long, value_name = "URL")]
    pub rules_doc_url: Option<String>,
    /// Time every rule and print, per rule, its evaluations, total and mean time, costliest
    /// first, on standard error (and under `timings` in JSON output). Each rule then runs on its
    /// own instead of in its kind's batch, so the run is slower.
    #[arg(long)]
    pub timings: bool,
    /// Which objects without metadata.namespace (and cluster-scoped objects) relate to each other:
    /// those of one directory, one file, or the whole run (then they share `default` with the
    /// objects that name it). Objects with a namespace relate across the run in every case;
    /// each --helm render and --kustomize build is a unit of its own.
    #[arg(long, value_enum, default_value_t = RelateChoice::Directory, value_name = "UNIT")]
    pub relate: RelateChoice,
    /// Lowest severity that makes the exit code 1 [default: error, or fail_on from the config].
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub fail_on: Option<FailOn>,
    #[arg(long, value_enum, default_value_t, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Also list findings suppressed by annotations or config exemptions.
    #[arg(long)]
    pub show_suppressed: bool,
    /// Kubernetes version the manifests are deployed to (1.29, v1.29.3): APIs it no longer serves
    /// are errors, deprecated ones warnings [default: kubernetes_version from the config, else the
    /// newest version seaworthy knows].
    #[arg(long, value_name = "VERSION", value_parser = config::parse_kubernetes_version)]
    pub kubernetes_version: Option<String>,
    /// Report only findings that are not in this baseline file (see --write-baseline).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record every current finding in FILE as accepted, then exit 0 unless the input is broken.
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    pub write_baseline: Option<PathBuf>,
    /// Largest input file accepted, in bytes (suffixes K, M, G, KiB, MiB, GiB).
    #[arg(long, value_name = "SIZE", default_value = "16MiB", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Deepest YAML nesting accepted.
    #[arg(long, value_name = "N", default_value_t = yaml::Limits::default().max_depth)]
    pub max_depth: usize,
    /// Lint files as they are: no chart or kustomization detection and rendering, and YAML that
    /// is no Kubernetes object is an error.
    #[arg(long)]
    pub no_render: bool,
    /// Run this rule even if the config or the Pod Security level turns it off (repeatable).
    #[arg(long = "enable", value_name = "RULE")]
    pub enable: Vec<String>,
    /// Do not run this rule (repeatable); wins over --enable and the config.
    #[arg(long = "disable", value_name = "RULE")]
    pub disable: Vec<String>,
    /// Leave out files and directories matching this glob (repeatable; also `exclude:` in the
    /// config). A glob with a `/` matches the path as shown, one without matches any file or
    /// directory name: `--exclude vendor --exclude 'docs/**'`.
    #[arg(long = "exclude", value_name = "GLOB")]
    pub exclude: Vec<String>,
    #[command(flatten)]
    pub policy: PolicyArgs,
    // Last: its help heading applies to every flag after it. Boxed: it would make `lint` the
    // one large variant of `Command`.
    #[command(flatten)]
    pub render: Box<RenderArgs>,
}

/// Rendered inputs: a Helm chart or a kustomization, linted as the tool renders it.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Rendered inputs")]
pub struct RenderArgs {
    /// Render this Helm chart with `helm template` and lint the output; findings point at the
    /// templates (repeatable; charts found under the PATHs are rendered too).
    #[arg(long, value_name = "CHART_DIR")]
    pub helm: Vec<PathBuf>,
    /// Values file for the chart (repeatable; merged in order, as helm does).
    #[arg(long = "values", short = 'f', value_name = "FILE", requires = "helm")]
    pub values: Vec<PathBuf>,
    /// A value for the chart, as `helm template --set` takes it (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE", requires = "helm")]
    pub sets: Vec<String>,
    /// Render once per --values file and report each render on its own.
    #[arg(long, requires = "helm")]
    pub render_matrix: bool,
    /// Release name the chart is rendered with.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "release-name",
        requires = "helm"
    )]
    pub release_name: String,
    /// Namespace the chart is rendered for.
    #[arg(long, value_name = "NS", requires = "helm")]
    pub namespace: Option<String>,
    /// The helm program [default: helm on PATH].
    #[arg(long, value_name = "PATH")]
    pub helm_bin: Option<PathBuf>,
    /// Build this kustomization with `kubectl kustomize` (or `kustomize build`) and lint the
    /// output; findings point at the resource or patch files (repeatable; kustomizations found
    /// under the PATHs are built too).
    #[arg(long, value_name = "DIR")]
    pub kustomize: Vec<PathBuf>,
    /// The kubectl or kustomize program [default: kubectl on PATH, else kustomize].
    #[arg(long, value_name = "PATH")]
    pub kustomize_bin: Option<PathBuf>,
    /// How long one `helm template` or kustomize build may run before it is stopped and reported
    /// as a render error (e.g. `90s`, `5m`).
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = config::parse_duration)]
    pub render_timeout: Duration,
}

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// A rule id: print that rule's whole documentation.
    pub id: Option<String>,
    #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
    pub format: RulesFormat,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Directories holding `<rule-id>/pass` and `<rule-id>/fail` fixture directories, anywhere
    /// below them. `.rego` files found in them are loaded as policies (fixtures may sit next to
    /// their rule).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dirs: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = TestFormat::Text)]
    pub format: TestFormat,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

use crate::config::parse_size;

/// An error that ends the run before any output: printed to stderr, exit code 2.
#[derive(Debug)]
pub struct Fatal(pub String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal(e.to_string())
    }
}

fn load_config(args: &PolicyArgs) -> Result<Config, Fatal> {
    if args.no_config {
        return Ok(Config::default());
    }
    let path = match &args.config {
        Some(path) => Some(path.clone()),
        None => std::env::current_dir()
            .ok()
            .and_then(|dir| config::find_upward(&dir)),
    };
    Ok(match path {
        Some(path) => Config::load(&path)?,
        None => Config::default(),
    })
}

fn load_catalog(args: &PolicyArgs, config: &Config) -> Result<Catalog, Fatal> {
    let mut dirs = config.policy_dirs();
    dirs.extend(args.policies.iter().cloned());
    let foreign = crate::foreign::load_all(&args.folders(config))?;
    Ok(Catalog::load_with_sources(&dirs, foreign, &args.cache())?)
}

/// Runs a parsed command line and returns the exit code.
pub fn run(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Lint(args) => run_lint(args),
        Command::Rules(args) => run_rules(args),
        Command::Serve(args) => run_serve(args),
        Command::Test(args) => run_test(args),
        Command::Version => write_stdout(&format!("seaworthy {VERSION}\n")).map(|()| 0),
        Command::Completions(args) => run_completions(args),
    };
    match result {
        Ok(code) => code,
        Err(Fatal(message)) => {
            eprintln!("error: {message}");
            2
        }
    }
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
                && std::env::var("TERM").map(|t| t != "dumb").unwrap_or(true)
        }
    }
}

/// The reports of a run: each `--output`, and the `--format` report on standard output unless an
/// `--output` takes it. Two reports for one place are a usage error.
fn plan_outputs(format: Option<Format>, outputs: &[Output]) -> Result<Vec<Output>, Fatal> {
    let mut planned: Vec<Output> = Vec::with_capacity(outputs.len() + 1);
    for output in outputs {
        if let Some(earlier) = planned.iter().find(|o| o.target == output.target) {
            return Err(Fatal(format!(
                "--output: both a {} and a {} report would go to {}",
                format_name(earlier.format),
                format_name(output.format),
                output.target
            )));
        }
        planned.push(output.clone());
    }
    match (format, planned.iter().any(|o| o.target == Target::Stdout)) {
        (Some(format), true) => {
            return Err(Fatal(format!(
            "--format {} and an --output to `-` both name the report on standard output; use one",
            format_name(format)
        )))
        }
        (format, false) => planned.insert(
            0,
            Output {
                format: format.unwrap_or(Format::Text),
                target: Target::Stdout,
            },
        ),
        (None, true) => {}
    }
    Ok(planned)
}

fn format_name(format: Format) -> String {
    format
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// A report's destination, opened before the run so that an unwritable file ends it before any work.
enum Sink {
    Stdout,
    File(PathBuf, std::fs::File),
}

fn open_sinks(outputs: &[Output]) -> Result<Vec<Sink>, Fatal> {
    outputs
        .iter()
        .map(|o| match &o.target {
            Target::Stdout => Ok(Sink::Stdout),
            Target::File(path) => std::fs::File::create(path)
                .map(|file| Sink::File(path.clone(), file))
                .map_err(|e| Fatal(format!("cannot write {}: {e}", path.display()))),
        })
        .collect()
}

/// What reporters need beside the outcome.
struct ReportContext<'a> {
    rules: &'a [crate::engine::Rule],
    show_suppressed: bool,
    fail_on: FailOn,
    color: ColorChoice,
    rules_doc_url: Option<&'a str>,
    timings: Option<&'a [crate::engine::RuleTiming]>,
}

fn render_report(
    format: Format,
    target: &Target,
    outcome: &lint::Outcome,
    cx: &ReportContext<'_>,
) -> String {
    match format {
        Format::Text => {
            let remediations = report::remediations(cx.rules);
            // Color only for a terminal, or a file when asked for always.
            let color = match target {
                Target::Stdout => use_color(cx.color),
                Target::File(_) => cx.color == ColorChoice::Always,
            };
            report::text::render(outcome, &remediations, cx.show_suppressed, color)
        }
        Format::Json => report::json::render(outcome, cx.show_suppressed, cx.timings),
        Format::Sarif => {
            let base = std::env::current_dir().unwrap_or_default();
            report::sarif::render(
                outcome,
                cx.rules,
                cx.show_suppressed,
                &base,
                cx.rules_doc_url,
            )
        }
        Format::Junit => report::junit::render(outcome, cx.show_suppressed, cx.fail_on),
        Format::Github => report::github::render(outcome, cx.show_suppressed),
        Format::Gitlab => {
            let base = std::env::current_dir().unwrap_or_default();
            report::gitlab::render(outcome, &base)
        }
        Format::Compact => report::compact::render(outcome, cx.show_suppressed),
    }
}

pub fn run_lint(args: LintArgs) -> Result<i32, Fatal> {
    let outputs = plan_outputs(args.format, &args.outputs)?;
    let mut config = load_config(&args.policy)?;
    if let Some(version) = &args.kubernetes_version {
        config.kubernetes_version = Some(version.clone());
    }
    let backend = match args.policy.engine {
        EngineChoice::Rvm => Backend::Rvm,
        EngineChoice::Interpreter => Backend::Interpreter,
    };
    // A Gatekeeper template or conftest file that does not load is reported (exit 2) and the
    // others still run.
    let foreign = crate::foreign::load(&args.policy.folders(&config));
    let mut evaluator = lint::evaluator_with_sources(
        &config,
        &args.policy.policies,
        foreign.sources,
        backend,
        &args.policy.cache(),
        &lint::RuleSwitches {
            enable: args.enable.clone(),
            disable: args.disable.clone(),
        },
    )?;
    if args.timings {
        evaluator.time_rules();
    }
    let load = LoadOptions {
        max_file_size: args.max_file_size,
        limits: yaml::Limits {
            max_depth: args.max_depth,
            ..yaml::Limits::default()
        },
    };
    let inputs: Vec<Input> = args.paths.iter().map(|p| Input::parse(p)).collect();
    let suppressor = Suppressor {
        exemptions: &config.exemptions,
        allow_annotations: true,
    };
    // A bad baseline is a usage error found before any work is done.
    let baseline = args
        .baseline
        .as_deref()
        .map(crate::baseline::Baseline::load)
        .transpose()?;
    let exclude = discover::Exclude::new(
        config
            .exclude
            .iter()
            .chain(&args.exclude)
            .map(String::as_str),
    )
    .map_err(Fatal)?;
    let sinks = open_sinks(&outputs)?;
    // Renders the user asked for first: a missing helm or kubectl ends the run before anything
    // is linted.
    let mut renders = render_inputs(&args.render)?;
    // Only the text report quotes source lines; without one, the files' text is freed early.
    let quote_lines = outputs.iter().any(|o| o.format == Format::Text);
    let mut parts = Vec::new();
    if args.no_render && exclude.is_empty() {
        if !inputs.is_empty() {
            parts.push(lint::lint_inputs_relating(
                &inputs,
                args.relate.into(),
                quote_lines,
                &load,
                &mut evaluator,
                &suppressor,
            ));
        }
    } else {
        let paths: Vec<PathBuf> = inputs
            .iter()
            .filter_map(|input| match input {
                Input::Path(path) => Some(path.clone()),
                Input::Stdin => None,
            })
            .collect();
        let tree = discover::discover(&paths, &exclude, !args.no_render);
        let (found, not_rendered) = render_found(&tree, &args.render, &config);
        renders.extend(found);
        let mut files: Vec<Input> = Vec::new();
        if matches!(inputs.first(), Some(Input::Stdin)) {
            files.push(Input::Stdin);
        }
        files.extend(tree.files.iter().cloned().map(Input::Path));
        if inputs.len() > 1 && matches!(inputs.last(), Some(Input::Stdin)) {
            files.push(Input::Stdin);
        }
        let mut outcome = lint::lint_files(
            &files,
            &lint::FilesPass {
                relate: args.relate.into(),
                roots: &paths
                    .iter()
                    .filter(|p| p.is_dir())
                    .cloned()
                    .collect::<Vec<_>>(),
                skip_non_manifests: !args.no_render,
                quote_lines,
            },
            &load,
            &mut evaluator,
            &suppressor,
        );
        outcome
            .findings
            .extend(
                tree.problems
                    .iter()
                    .map(|(file, message)| crate::finding::Finding {
                        rule: crate::manifest::INVALID_MANIFEST.to_string(),
                        severity: crate::finding::Severity::Error,
                        message: message.clone(),
                        object: None,
                        location: crate::finding::Location::at(file, 1, 1),
                        path: Vec::new(),
                        subject: None,
                        suppressed: None,
                        fingerprint: String::new(),
                    }),
            );
        outcome.broken |= !tree.problems.is_empty();
        if !inputs.is_empty() {
            parts.push(outcome);
        }
        parts.extend(not_rendered);
    }
    for rendered in &renders {
        parts.push(render::lint_render(
            rendered,
            &load,
            &mut evaluator,
            &suppressor,
        ));
    }
    let mut outcome = lint::Outcome::merge(parts);
    for error in &foreign.errors {
        outcome.findings.push(policy_load_error(error));
        outcome.broken = true;
    }
    let mut fail_on = args.fail_on.or(config.fail_on).unwrap_or_default();
    if let Some(baseline) = &baseline {
        outcome.apply_baseline(baseline);
    }
    if let Some(path) = &args.write_baseline {
        let count = crate::baseline::write(path, &outcome.findings)?;
        eprintln!(
            "seaworthy: wrote {count} finding(s) to baseline {}",
            path.display()
        );
        // Everything found is now accepted: only broken input still fails.
        fail_on = FailOn::Never;
    }

    let timings = evaluator.rule_timings();
    let cx = ReportContext {
        rules: &evaluator.rules,
        show_suppressed: args.show_suppressed,
        fail_on,
        color: args.color,
        rules_doc_url: args.rules_doc_url.as_deref(),
        timings: timings.as_deref(),
    };
    // Reports are independent of each other: rendered in parallel, written in order.
    let reports: Vec<String> = {
        use rayon::prelude::*;
        outputs
            .par_iter()
            .map(|o| render_report(o.format, &o.target, &outcome, &cx))
            .collect()
    };
    for (sink, text) in sinks.into_iter().zip(&reports) {
        match sink {
            Sink::Stdout => write_stdout(text)?,
            Sink::File(path, mut file) => file
                .write_all(text.as_bytes())
                .and_then(|_| file.flush())
                .map_err(|e| Fatal(format!("cannot write {}: {e}", path.display())))?,
        }
    }
    if let Some(timings) = &timings {
        eprint!("{}", crate::engine::timings_table(timings));
    }
    if !outcome.patch_files.is_empty() {
        eprintln!(
            "note: skipped {} kustomize patch file(s), which hold partial objects ({}{}); lint the built result with --kustomize DIR",
            outcome.patch_files.len(),
            outcome.patch_files[..outcome.patch_files.len().min(3)].join(", "),
            if outcome.patch_files.len() > 3 { ", ..." } else { "" },
        );
    }
    if !outcome.skipped_files.is_empty() {
        eprintln!(
            "note: skipped {} file(s) that hold no Kubernetes object ({}{}); use --no-render to lint every file as a manifest",
            outcome.skipped_files.len(),
            outcome.skipped_files[..outcome.skipped_files.len().min(3)].join(", "),
            if outcome.skipped_files.len() > 3 { ", ..." } else { "" },
        );
    }
    if outcome.summary.objects == 0 && !outcome.broken {
        eprintln!("error: no Kubernetes objects found in the inputs");
    }
    let code = outcome.exit_code(fail_on);
    // The process exits as soon as this returns (main), with the output flushed above: freeing
    // every finding, source text, report and the compiled policies first would only cost time.
    std::mem::forget((outcome, reports, evaluator, timings));
    Ok(code)
}

/// A Gatekeeper or conftest policy that failed to load, as a `policy-error` finding at its file
/// and line.
fn policy_load_error(error: &crate::engine::PolicyError) -> crate::finding::Finding {
    use crate::engine::PolicyError;
    let (file, line, column, message) = match error {
        PolicyError::Syntax {
            file,
            position,
            message,
        } => {
            let mut parts = position.split(':').map(|p| p.parse::<u32>().unwrap_or(1));
            let line = parts.next().unwrap_or(1);
            let column = parts.next().unwrap_or(1);
            (file.clone(), line, column, message.clone())
        }
        PolicyError::Invalid { file, message } => (file.clone(), 1, 1, message.clone()),
        PolicyError::Read { path, message } => {
            (path.clone(), 1, 1, format!("cannot read: {message}"))
        }
        PolicyError::Compile(message) => (String::new(), 1, 1, message.clone()),
    };
    crate::finding::Finding {
        rule: crate::check::POLICY_ERROR.to_string(),
        severity: crate::finding::Severity::Error,
        message: format!("policy does not load: {message}"),
        object: None,
        location: crate::finding::Location::at(&file, line, column),
        path: Vec::new(),
        subject: None,
        suppressed: None,
        fingerprint: String::new(),
    }
}

pub fn run_serve(args: ServeArgs) -> Result<i32, Fatal> {
    let config_path = if args.policy.no_config {
        None
    } else {
        args.policy.config.clone().or_else(|| {
            std::env::current_dir()
                .ok()
                .and_then(|dir| config::find_upward(&dir))
        })
    };
    let source = crate::webhook::PolicySource {
        config_path,
        extra_policies: args.policy.policies.clone(),
        folders: crate::foreign::Folders {
            gatekeeper: args.policy.gatekeeper.clone(),
            conftest: args.policy.conftest.clone(),
            conftest_namespaces: args.policy.conftest_namespaces.clone(),
        },
        backend: match args.policy.engine {
            EngineChoice::Rvm => Backend::Rvm,
            EngineChoice::Interpreter => Backend::Interpreter,
        },
    };
    Ok(crate::webhook::run(args.serve, source))
}

fn run_completions(args: CompletionsArgs) -> Result<i32, Fatal> {
    let mut script = Vec::new();
    clap_complete::generate(
        args.shell,
        &mut <Cli as clap::CommandFactory>::command(),
        "seaworthy",
        &mut script,
    );
    write_stdout(&String::from_utf8_lossy(&script))?;
    Ok(0)
}

/// Runs `helm template` and `kubectl kustomize` as asked.
fn render_inputs(args: &RenderArgs) -> Result<Vec<render::Rendered>, Fatal> {
    let mut renders = Vec::new();
    for chart in &args.helm {
        renders.extend(render::helm(&render::HelmRequest {
            bin: args.helm_bin.clone(),
            chart: chart.clone(),
            release: args.release_name.clone(),
            namespace: args.namespace.clone(),
            values: args.values.clone(),
            sets: args.sets.clone(),
            matrix: args.render_matrix,
            timeout: args.render_timeout,
        })?);
    }
    for dir in &args.kustomize {
        renders.push(render::kustomize(
            dir,
            args.kustomize_bin.as_deref(),
            args.render_timeout,
        )?);
    }
    Ok(renders)
}

/// Renders the charts and builds the kustomizations found in the tree (those not also given
/// with --helm or --kustomize), in parallel. One that cannot be rendered (no helm or kubectl) is
/// a `not-rendered` notice on its Chart.yaml or kustomization file.
fn render_found(
    tree: &discover::Tree,
    args: &RenderArgs,
    config: &Config,
) -> (Vec<render::Rendered>, Vec<lint::Outcome>) {
    use rayon::prelude::*;
    let given = |list: &[PathBuf], dir: &PathBuf| {
        list.iter()
            .any(|g| discover::normalize(g) == discover::normalize(dir))
    };
    let charts = tree.charts.iter().filter(|c| !given(&args.helm, c));
    let kustomizations = tree
        .kustomizations
        .iter()
        .filter(|k| !given(&args.kustomize, k));
    let jobs: Vec<(bool, &PathBuf)> = charts
        .map(|c| (true, c))
        .chain(kustomizations.map(|k| (false, k)))
        .collect();
    // Boxed: an outcome is large, and most jobs render.
    let results: Vec<Result<Vec<render::Rendered>, Box<lint::Outcome>>> = jobs
        .par_iter()
        .map(|(chart, dir)| {
            if *chart {
                let missing = render::missing_dependencies(dir);
                if !missing.is_empty() {
                    let origin = discover::display_path(&dir.join(discover::CHART_FILE));
                    return Err(Box::new(render::not_rendered(
                        &origin,
                        &format!(
                            "its dependencies {} are not in its charts/ directory (run `helm dependency build {}` first)",
                            missing.join(", "),
                            discover::display_path(dir)
                        ),
                    )));
                }
                render::helm(&render::HelmRequest {
                    bin: args.helm_bin.clone(),
                    chart: (*dir).clone(),
                    release: args.release_name.clone(),
                    namespace: args.namespace.clone(),
                    values: chart_values(dir, config),
                    sets: Vec::new(),
                    matrix: true,
                    timeout: args.render_timeout,
                })
                .map_err(|e| {
                    let origin = discover::display_path(&dir.join(discover::CHART_FILE));
                    Box::new(render::not_rendered(&origin, &e.to_string()))
                })
            } else {
                render::kustomize(dir, args.kustomize_bin.as_deref(), args.render_timeout)
                    .map(|r| vec![r])
                    .map_err(|e| {
                        let origin = discover::kustomization_file(dir)
                            .map(|f| discover::display_path(&f))
                            .unwrap_or_else(|| discover::display_path(dir));
                        Box::new(render::not_rendered(&origin, &e.to_string()))
                    })
            }
        })
        .collect();
    let mut renders = Vec::new();
    let mut notices = Vec::new();
    for result in results {
        match result {
            Ok(found) => renders.extend(found),
            Err(notice) => notices.push(*notice),
        }
    }
    (renders, notices)
}

/// The values files a found chart is rendered with, one render each: the config's `charts.values`
/// globs, else `ci/*-values.yaml` (chart-testing's convention); none means the chart's own
/// values.yaml alone.
fn chart_values(chart: &std::path::Path, config: &Config) -> Vec<PathBuf> {
    let patterns: Vec<String> = if config.charts.values.is_empty() {
        vec!["ci/*-values.yaml".to_string()]
    } else {
        config.charts.values.clone()
    };
    let mut files = Vec::new();
    for pattern in patterns {
        let full = chart.join(&pattern);
        let Ok(found) = glob::glob(&full.to_string_lossy()) else {
            continue;
        };
        files.extend(found.flatten().filter(|p| p.is_file()));
    }
    files.sort();
    files.dedup();
    files
}

pub fn run_rules(args: RulesArgs) -> Result<i32, Fatal> {
    let config = load_config(&args.policy)?;
    let catalog = load_catalog(&args.policy, &config)?;
    let text = match &args.id {
        Some(id) => {
            let rule = catalog.rule(id).ok_or_else(|| {
                Fatal(format!(
                    "unknown rule id {id:?} (run `seaworthy rules` for the list)"
                ))
            })?;
            match args.format {
                RulesFormat::Text => report::rules::text_one(rule),
                RulesFormat::Json => report::rules::json_one(rule),
                RulesFormat::Markdown => report::rules::markdown(std::slice::from_ref(rule)),
            }
        }
        None => match args.format {
            RulesFormat::Text => report::rules::text_list(&catalog.rules),
            RulesFormat::Json => report::rules::json_list(&catalog.rules),
            RulesFormat::Markdown => report::rules::markdown(&catalog.rules),
        },
    };
    write_stdout(&text)?;
    Ok(0)
}

/// `seaworthy test`: exit 0 when every case passed, 1 when one failed, 2 when nothing could run
/// (a broken policy or config, no fixtures found, an unreadable expected-findings file).
pub fn run_test(args: TestArgs) -> Result<i32, Fatal> {
    use crate::policy_test;
    let suite = policy_test::discover(&args.dirs);
    if let Some(problem) = suite.problems.first() {
        return Err(Fatal(problem.clone()));
    }
    if suite.cases.is_empty() {
        return Err(Fatal(format!(
            "no fixtures found in {}: expected <rule-id>/pass/*.yaml and <rule-id>/fail/*.yaml",
            args.dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let config = load_config(&args.policy)?;
    let mut dirs = config.policy_dirs();
    dirs.extend(args.policy.policies.iter().cloned());
    let listed: Vec<PathBuf> = dirs.iter().filter_map(|d| d.canonicalize().ok()).collect();
    let found_here: Vec<PathBuf> = suite
        .policy_dirs
        .iter()
        .filter(|d| d.canonicalize().is_ok_and(|c| !listed.contains(&c)))
        .cloned()
        .collect();
    dirs.extend(found_here.iter().cloned());
    let catalog = Catalog::load_with_cache(&dirs, &args.policy.cache())?;
    let mut settings = config.rule_settings(&catalog)?;
    policy_test::enable_for(&suite.cases, &mut settings);
    let loaded_ids: Vec<String> = catalog.rules.iter().map(|r| r.meta.id.clone()).collect();
    // Custom rules of the tested directories that no fixture exercises are named in the summary.
    let tested_dirs: Vec<PathBuf> = found_here
        .iter()
        .chain(&args.policy.policies)
        .filter_map(|d| d.canonicalize().ok())
        .collect();
    let mut untested: Vec<String> = catalog
        .rules
        .iter()
        .filter(|r| !r.builtin)
        .filter(|r| {
            std::path::Path::new(&r.file)
                .canonicalize()
                .is_ok_and(|f| tested_dirs.iter().any(|d| f.starts_with(d)))
        })
        .filter(|r| !suite.cases.iter().any(|c| c.rule == r.meta.id))
        .map(|r| r.meta.id.clone())
        .collect();
    untested.sort();
    let backend = match args.policy.engine {
        EngineChoice::Rvm => Backend::Rvm,
        EngineChoice::Interpreter => Backend::Interpreter,
    };
    let mut evaluator = crate::engine::Evaluator::new(catalog, &settings, backend)?;
    let results = policy_test::run_cases(
        &suite.cases,
        &mut evaluator,
        &LoadOptions::default(),
        &loaded_ids,
    );
    let report = policy_test::Report::new(results, untested);
    let text = match args.format {
        TestFormat::Text => report.render_text(),
        TestFormat::Json => {
            let mut json = serde_json::to_string_pretty(&report)?;
            json.push('\n');
            json
        }
    };
    write_stdout(&text)?;
    Ok(if report.succeeded() { 0 } else { 1 })
}

/// Writes to stdout; a closed pipe (`seaworthy lint . | head`) is not an error.
fn write_stdout(text: &str) -> Result<(), Fatal> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Fatal(format!("cannot write output: {e}")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("2k"), Ok(2000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3 parsecs").is_err());
    }
}
