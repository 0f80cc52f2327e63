//! `seaworthy serve`: the validating admission webhook. The same catalog and verdicts as lint,
//! in front of the API server. See DESIGN.md "The webhook" and README "seaworthy serve".
//!
//! - `admission`: the AdmissionReview v1 wire types;
//! - `review`: the decision, a pure function from request (and cluster snapshot) to response;
//! - `snapshot` / `cluster`: the cluster context, from kube-rs reflectors;
//! - `tls`: certificates, reloaded when their files change;
//! - `server`: HTTPS and health endpoints; `connection`: per-connection timers; `budget`: the
//!   per-object budget checked before evaluation; `metrics`: Prometheus; `settings`: flags and
//!   config.

pub mod admission;
pub mod budget;
pub mod cluster;
pub mod connection;
pub mod evaluators;
pub mod log_writer;
pub mod metrics;
pub mod review;
pub mod server;
pub mod settings;
pub mod snapshot;
pub mod tls;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

use crate::config::{Config, LogFormat};
use crate::engine::{Backend, Catalog};

use cluster::ClusterCache;
use metrics::Metrics;
use review::Reviewer;
use server::AppState;
use settings::{ServeFlags, Settings};
use snapshot::Snapshot;

/// Where the rules and the config come from, kept to rebuild them on reload.
#[derive(Debug, Clone)]
pub struct PolicySource {
    /// The config file, if any (found once at startup, then watched).
    pub config_path: Option<PathBuf>,
    /// `--policies` directories (the config's own `policies:` are added at each load).
    pub extra_policies: Vec<PathBuf>,
    /// `--gatekeeper` and `--conftest` folders (the config's are added at each load).
    pub folders: crate::foreign::Folders,
    pub backend: Backend,
}

impl PolicySource {
    pub fn load_config(&self) -> Result<Config, String> {
        match &self.config_path {
            None => Ok(Config::default()),
            Some(path) => Config::load(path).map_err(|e| e.to_string()),
        }
    }

    fn policy_dirs(&self, config: &Config) -> Vec<PathBuf> {
        let mut dirs = config.policy_dirs();
        dirs.extend(self.extra_policies.iter().cloned());
        dirs
    }

    /// Loads config and policies and compiles them for serving; any error leaves nothing built.
    pub fn build(
        &self,
        flags: &ServeFlags,
        settings: &Settings,
    ) -> Result<(Reviewer, Config), String> {
        let config = self.load_config()?;
        let foreign = crate::foreign::load_all(&self.folders.with_config(&config))
            .map_err(|e| e.to_string())?;
        let catalog = Catalog::load_with_sources(
            &self.policy_dirs(&config),
            foreign,
            &crate::engine::Cache::disabled(),
        )
        .map_err(|e| e.to_string())?;
        config.check_serve(&catalog).map_err(|e| e.to_string())?;
        let policy = settings.policy(flags, &config);
        let reviewer =
            Reviewer::new(catalog, &config, policy, self.backend).map_err(|e| e.to_string())?;
        Ok((reviewer, config))
    }

    /// A cheap summary of the watched files (path, size, modification time): when it changes, a
    /// reload is due.
    fn fingerprint(&self, config: &Config) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
        let mut files: Vec<PathBuf> = self.config_path.iter().cloned().collect();
        files.extend(self.folders.with_config(config).files());
        for dir in self.policy_dirs(config) {
            files.extend(
                walkdir::WalkDir::new(dir)
                    .follow_links(true)
                    .into_iter()
                    .filter_map(Result::ok)
                    .filter(|e| e.file_type().is_file())
                    .map(|e| e.into_path()),
            );
        }
        files.sort();
        files
            .into_iter()
            .map(|path| {
                let meta = std::fs::metadata(&path).ok();
                let size = meta.as_ref().map(|m| m.len()).unwrap_or(0);
                let modified = meta.and_then(|m| m.modified().ok());
                (path, size, modified)
            })
            .collect()
    }
}

/// The log thread (dropping it writes out what is buffered) and the writer whose count of
/// dropped lines the metrics read, set by the first `init_logging` of the process.
static LOG_WRITER: std::sync::Mutex<Option<log_writer::Flusher>> = std::sync::Mutex::new(None);
static LOG_DROPPED: std::sync::OnceLock<log_writer::BatchWriter> = std::sync::OnceLock::new();

/// Log lines dropped so far because the log pipe could not keep up.
pub fn log_lines_dropped() -> u64 {
    LOG_DROPPED
        .get()
        .map_or(0, log_writer::BatchWriter::dropped_lines)
}

fn init_logging(format: LogFormat) {
    let (writer, flusher) = match log_writer::start(std::io::stderr()) {
        Ok(started) => started,
        Err(e) => {
            eprintln!("error: cannot start the log thread: {e}");
            return;
        }
    };
    let builder = tracing_subscriber::fmt()
        .with_writer(writer.clone())
        .with_target(false)
        .with_max_level(tracing::Level::INFO);
    // A second call (tests running servers in one process) keeps the first subscriber.
    let installed = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
    };
    if installed.is_ok() {
        let _ = LOG_DROPPED.set(writer);
        if let Ok(mut slot) = LOG_WRITER.lock() {
            *slot = Some(flusher);
        }
    }
}

/// Writes out the log lines still queued (before the process exits).
fn flush_logs() {
    if let Ok(mut slot) = LOG_WRITER.lock() {
        drop(slot.take());
    }
}

/// Runs the webhook until SIGTERM or SIGINT. Returns the process exit code: 0 after a clean
/// shutdown, 2 when it cannot start (bad config, policies, certificates or addresses).
pub fn run(flags: ServeFlags, source: PolicySource) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // The workers convert the admitted object, by recursion as deep as it nests, and
        // evaluate most reviews themselves (`server::evaluate`): stacks as deep as lint's.
        .thread_stack_size(crate::engine::EVAL_STACK_BYTES)
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return 2;
        }
    };
    let code = match runtime.block_on(serve(flags, source)) {
        Ok(()) => 0,
        Err(message) => {
            tracing::error!("{message}");
            flush_logs();
            eprintln!("error: {message}");
            2
        }
    };
    flush_logs();
    code
}

async fn serve(flags: ServeFlags, source: PolicySource) -> Result<(), String> {
    let first_config = source.load_config()?;
    let settings = Settings::resolve(&flags, &first_config)?;
    init_logging(settings.log_format);
    let (reviewer, config) = source.build(&flags, &settings)?;

    let provider = tls::provider();
    let pair =
        tls::PairBytes::read(&settings.tls_cert, &settings.tls_key).map_err(|e| e.to_string())?;
    let key = tls::certified_key(&pair, &settings.tls_cert, &settings.tls_key, &provider)
        .map_err(|e| e.to_string())?;
    let metrics = Arc::new(Metrics::new());
    // An expired certificate still starts the server (refusing would crash-loop every replica,
    // and /metrics must be up to show why), but loudly: every API server call will fail.
    match tls::validity(&pair.cert, &settings.tls_cert) {
        Ok(validity) => {
            metrics.tls_expiry.set(validity.not_after);
            if let Err(e) = validity.check_now(&settings.tls_cert) {
                tracing::error!(error = %e, "THE SERVING CERTIFICATE IS NOT VALID: the API server will refuse every TLS handshake until it is replaced");
            }
        }
        Err(e) => tracing::error!(error = %e, "cannot read the serving certificate's validity"),
    }
    let store = Arc::new(tls::CertStore::new(key));
    let tls_config = tls::server_config(
        store.clone(),
        settings.client_ca.as_deref(),
        provider.clone(),
    )
    .map_err(|e| e.to_string())?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls_config));

    let bind = |addr| async move {
        TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))
    };
    let listener = bind(settings.listen).await?;
    let health_listener = bind(settings.health_listen).await?;

    let cluster = Arc::new(ClusterCache::new(
        Snapshot::disabled(),
        !settings.cluster_context,
    ));
    // Before the "starting" line, which is what tests and operators wait for: everything said
    // about the configuration is then already in the log.
    log_skipped_rules(&reviewer, settings.cluster_context);
    tracing::info!(
        listen = %listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        health = %health_listener.local_addr().map(|a| a.to_string()).unwrap_or_default(),
        rules = reviewer.evaluator.rules.len(),
        mode = ?reviewer.policy.mode,
        failure_mode = ?reviewer.policy.failure_mode,
        update_policy = ?reviewer.policy.update_policy,
        exempt_namespaces = %reviewer.policy.exempt_namespaces.join(","),
        mtls = settings.client_ca.is_some(),
        eval_timeout_ms = settings.eval_timeout.as_millis() as u64,
        max_concurrency = settings.max_concurrency,
        max_connections = settings.limits.max_connections,
        body_budget = settings.limits.body_budget,
        max_containers = settings.limits.max_containers,
        "seaworthy serve starting"
    );
    if settings.cluster_context {
        let client = kube::Client::try_default().await.map_err(|e| {
            format!("--cluster-context: cannot reach the Kubernetes API (in-cluster config or KUBECONFIG): {e}")
        })?;
        // The kinds are fixed at startup: a policy reload that reads new kinds needs a restart.
        let kinds = cluster::watched_kinds(&reviewer.evaluator);
        tracing::info!(kinds = %kinds.iter().map(ToString::to_string).collect::<Vec<_>>().join(","), "cluster cache watches");
        tokio::spawn(cluster::start(
            client,
            cluster.clone(),
            metrics.clone(),
            kinds,
        ));
    }

    let state = Arc::new(
        AppState::new(
            reviewer,
            cluster,
            metrics.clone(),
            settings.max_concurrency,
            settings.eval_timeout,
            settings.limits.clone(),
            settings.cluster_context,
        )
        .map_err(|e| format!("cannot start the evaluation threads: {e}"))?,
    );
    // Installed before anything serves: a SIGTERM that arrives once `/readyz` can answer must
    // start the drain, not kill the process by default action.
    let term =
        signal(SignalKind::terminate()).map_err(|e| format!("cannot handle SIGTERM: {e}"))?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (health_shutdown_tx, health_shutdown_rx) = watch::channel(false);

    tokio::spawn(watch_certificates(
        tls::PairFiles {
            cert: settings.tls_cert.clone(),
            key: settings.tls_key.clone(),
            loaded: pair,
            refused: None,
        },
        store,
        provider,
        metrics.clone(),
        settings.watch_interval,
    ));
    tokio::spawn(watch_policies(
        source.clone(),
        flags.clone(),
        settings.clone(),
        config,
        state.clone(),
    ));

    let webhook = tokio::spawn(server::serve_tls(
        listener,
        acceptor,
        server::webhook_router(state.clone()),
        state.clone(),
        shutdown_rx,
        settings.shutdown_timeout,
    ));
    let health = tokio::spawn(server::serve_plain(
        health_listener,
        server::health_router(state.clone()),
        health_shutdown_rx,
    ));

    wait_for_termination(term).await?;
    // Zero-downtime order: readiness fails first while everything still serves (clients that
    // reuse a connection are told `Connection: close` with their answer), then no new
    // connections, idle ones closed and busy ones drained, and the health port last.
    state.begin_shutdown();
    if !settings.shutdown_delay.is_zero() {
        tracing::info!(
            delay_ms = settings.shutdown_delay.as_millis() as u64,
            "shutting down: /readyz answers 503, still serving until the delay is over"
        );
        tokio::time::sleep(settings.shutdown_delay).await;
    }
    tracing::info!("shutting down: no new connections, draining requests in flight");
    let _ = shutdown_tx.send(true);
    let _ = webhook.await;
    let _ = health_shutdown_tx.send(true);
    let _ = health.await;
    tracing::info!("stopped");
    Ok(())
}

fn log_skipped_rules(reviewer: &Reviewer, cluster_context: bool) {
    if reviewer.skipped_rules.is_empty() {
        return;
    }
    let ids: Vec<&str> = reviewer
        .skipped_rules
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    if cluster_context {
        tracing::info!(rules = %ids.join(","), "rules that need a complete inventory are skipped in serve");
    } else {
        tracing::warn!(
            rules = %ids.join(","),
            "no cluster context (--cluster-context): cross-object rules are skipped"
        );
    }
}

async fn wait_for_termination(mut term: tokio::signal::unix::Signal) -> Result<(), String> {
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
    }
    Ok(())
}

async fn watch_certificates(
    mut files: tls::PairFiles,
    store: Arc<tls::CertStore>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    metrics: Arc<Metrics>,
    interval: Duration,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match files.reload(&store, &provider) {
            tls::Reload::Unchanged => {}
            tls::Reload::Replaced(validity) => {
                metrics.tls_expiry.set(validity.not_after);
                metrics.reload(&metrics.tls_reloads, true);
                tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded");
            }
            tls::Reload::Refused(e) => {
                metrics.reload(&metrics.tls_reloads, false);
                tracing::error!(error = %e, "new TLS certificate refused; still serving the old one");
            }
        }
    }
}

/// Rebuilds the rules on SIGHUP or when the config or a policy file changes. A set that does not
/// load (a syntax error mid-edit, an unknown rule id) is refused and the running one stays.
async fn watch_policies(
    source: PolicySource,
    flags: ServeFlags,
    settings: Settings,
    config: Config,
    state: Arc<AppState>,
) {
    let mut hangup = match signal(SignalKind::hangup()) {
        Ok(hangup) => Some(hangup),
        Err(e) => {
            tracing::warn!(error = %e, "cannot handle SIGHUP; reloading on file changes only");
            None
        }
    };
    let mut seen = source.fingerprint(&config);
    let mut ticker = tokio::time::interval(settings.watch_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let by_signal = tokio::select! {
            _ = ticker.tick() => false,
            _ = async { match hangup.as_mut() { Some(h) => { h.recv().await; } None => std::future::pending::<()>().await } } => true,
        };
        let current_config = source.load_config().unwrap_or_else(|_| config.clone());
        let now = source.fingerprint(&current_config);
        if !by_signal && now == seen {
            continue;
        }
        seen = now;
        let built = tokio::task::spawn_blocking({
            let (source, flags, settings) = (source.clone(), flags.clone(), settings.clone());
            move || source.build(&flags, &settings)
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
        match built {
            Ok((reviewer, _)) => {
                let rules = reviewer.evaluator.rules.len();
                state.replace_reviewer(reviewer);
                state.metrics.reload(&state.metrics.policy_reloads, true);
                tracing::info!(rules, by_signal, "policies and config reloaded");
            }
            Err(e) => {
                state.metrics.reload(&state.metrics.policy_reloads, false);
                tracing::error!(error = %e, "reload refused; still serving the previous policies");
            }
        }
    }
}
