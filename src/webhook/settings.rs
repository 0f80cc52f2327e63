//! `seaworthy serve` settings: flags, then environment variables (clap reads both), then the
//! `serve:` section of the config file, then defaults. Pure: the server gets a resolved value.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::{self, Config, FailureMode, LogFormat, Mode, UpdatePolicy};

use super::review::Policy;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeFlags {
    /// HTTPS address for POST /validate [default: 0.0.0.0:8443].
    #[arg(long, env = "SEAWORTHY_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Plain HTTP address for /healthz, /readyz and /metrics [default: 0.0.0.0:8080].
    #[arg(long, env = "SEAWORTHY_HEALTH_LISTEN", value_name = "ADDR")]
    pub health_listen: Option<SocketAddr>,
    /// PEM certificate chain (reloaded when the file changes).
    #[arg(long, env = "SEAWORTHY_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (reloaded when the file changes).
    #[arg(long, env = "SEAWORTHY_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA: clients must present a certificate it signed (mTLS from the API server).
    #[arg(long, env = "SEAWORTHY_CLIENT_CA", value_name = "FILE")]
    pub client_ca: Option<PathBuf>,
    /// `warn` turns every deny into a warning (for a first rollout) [default: enforce].
    #[arg(long, env = "SEAWORTHY_MODE", value_enum)]
    pub mode: Option<Mode>,
    /// The answer when an evaluation fails or runs out of time [default: allow].
    #[arg(long, env = "SEAWORTHY_FAILURE_MODE", value_enum)]
    pub failure_mode: Option<FailureMode>,
    /// `ratchet`: on UPDATE, a violation the old object had warns instead of denying [default: ratchet].
    #[arg(long, env = "SEAWORTHY_UPDATE_POLICY", value_enum)]
    pub update_policy: Option<UpdatePolicy>,
    /// Time budget of one review, below the webhook's timeoutSeconds [default: 2s].
    #[arg(long, env = "SEAWORTHY_EVAL_TIMEOUT", value_name = "DURATION", value_parser = config::parse_duration)]
    pub eval_timeout: Option<Duration>,
    /// Watch PDBs, NetworkPolicies, Services, HPAs, LimitRanges and Namespaces for the
    /// cross-object rules (in-cluster credentials or KUBECONFIG).
    #[arg(long, env = "SEAWORTHY_CLUSTER_CONTEXT", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub cluster_context: Option<bool>,
    /// The webhook's own namespace, always exempt [default: POD_NAMESPACE or the service account's].
    #[arg(long, env = "SEAWORTHY_NAMESPACE", value_name = "NS")]
    pub namespace: Option<String>,
    /// Log lines as text or JSON [default: text].
    #[arg(long, env = "SEAWORTHY_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Largest AdmissionReview body accepted [default: 3MiB].
    #[arg(long, env = "SEAWORTHY_MAX_BODY_SIZE", value_name = "SIZE", value_parser = config::parse_size)]
    pub max_body_size: Option<u64>,
    /// Evaluations run at once; more requests wait for a slot within their time budget
    /// [default: the number of CPUs].
    #[arg(long, env = "SEAWORTHY_MAX_CONCURRENCY", value_name = "N")]
    pub max_concurrency: Option<usize>,
    /// How long SIGTERM waits for requests in flight [default: 20s].
    #[arg(long, env = "SEAWORTHY_SHUTDOWN_TIMEOUT", value_name = "DURATION", value_parser = config::parse_duration)]
    pub shutdown_timeout: Option<Duration>,
    /// HTTPS connections open at once; one more is closed as soon as it is accepted [default: 1024].
    #[arg(long, env = "SEAWORTHY_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,
    /// Time a client has to complete the TLS handshake [default: 5s].
    #[arg(long, env = "SEAWORTHY_HANDSHAKE_TIMEOUT", value_name = "DURATION", value_parser = config::parse_duration)]
    pub handshake_timeout: Option<Duration>,
    /// Time from a request's first byte to its last header byte (HTTP/1.1) [default: 5s].
    #[arg(long, env = "SEAWORTHY_HEADER_TIMEOUT", value_name = "DURATION", value_parser = config::parse_duration)]
    pub header_timeout: Option<Duration>,
    /// Time to receive a request's whole body once its headers are in [default: 5s].
    #[arg(long, env = "SEAWORTHY_BODY_TIMEOUT", value_name = "DURATION", value_parser = config::parse_duration)]
    pub body_timeout: Option<Duration>,
    /// A connection with no request for this long is closed gracefully [default: 120s, longer
    /// than the API server's 90 s, so the client closes first].
    #[arg(long, env = "SEAWORTHY_IDLE_TIMEOUT", value_name = "DURATION", value_parser = config::parse_duration)]
    pub idle_timeout: Option<Duration>,
    /// Request bytes held by all requests in flight (reserved before a body is read, released
    /// when its review is answered); at least --max-body-size [default: 64MiB].
    #[arg(long, env = "SEAWORTHY_BODY_BUDGET", value_name = "SIZE", value_parser = config::parse_size)]
    pub body_budget: Option<u64>,
    /// After SIGTERM, /readyz answers 503 and the webhook keeps serving for this long before it
    /// stops accepting and drains [default: 0s; the chart's preStop sleep plays this part].
    #[arg(long, env = "SEAWORTHY_SHUTDOWN_DELAY", value_name = "DURATION", value_parser = config::parse_duration)]
    pub shutdown_delay: Option<Duration>,
    /// Containers (init and ephemeral included) one object may have; more is answered without
    /// evaluation, as a denial (a warning in warn mode) [default: 200].
    #[arg(long, env = "SEAWORTHY_MAX_CONTAINERS", value_name = "N")]
    pub max_containers: Option<usize>,
    /// How often the certificate, config and policy files are checked for changes.
    #[arg(long, env = "SEAWORTHY_WATCH_INTERVAL", value_name = "DURATION", value_parser = config::parse_duration, default_value = "5s")]
    pub watch_interval: Duration,
}

impl Limits {
    /// Zero would switch a limit off or refuse everything; a budget below one body could never
    /// admit a body of the largest accepted size.
    fn check(&self) -> Result<(), String> {
        let max_body_size = self.max_body_size;
        if self.max_connections == 0 {
            return Err("--max-connections must be at least 1".into());
        }
        if self.max_containers == 0 {
            return Err("--max-containers must be at least 1".into());
        }
        for (flag, value) in [
            ("--handshake-timeout", self.handshake_timeout),
            ("--header-timeout", self.header_timeout),
            ("--body-timeout", self.body_timeout),
            ("--idle-timeout", self.idle_timeout),
        ] {
            if value.is_zero() {
                return Err(format!("{flag} must be more than 0"));
            }
        }
        if self.body_budget < max_body_size {
            return Err(format!(
                "--body-budget ({} bytes) must be at least --max-body-size ({max_body_size} bytes)",
                self.body_budget
            ));
        }
        // The budget is a semaphore of bytes: its permits are counted in a usize.
        if usize::try_from(self.body_budget).is_err() || self.body_budget > (1 << 40) {
            return Err(format!(
                "--body-budget ({} bytes) is larger than 1TiB",
                self.body_budget
            ));
        }
        Ok(())
    }
}

/// Everything the server needs, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub health_listen: SocketAddr,
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    pub client_ca: Option<PathBuf>,
    pub eval_timeout: Duration,
    pub cluster_context: bool,
    pub namespace: Option<String>,
    pub log_format: LogFormat,
    pub max_concurrency: usize,
    pub shutdown_timeout: Duration,
    pub watch_interval: Duration,
    pub limits: Limits,
    pub shutdown_delay: Duration,
}

/// What one client, or all of them together, can hold of the server.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body_size: u64,
    pub max_connections: usize,
    pub handshake_timeout: Duration,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    pub body_budget: u64,
    pub max_containers: usize,
}

const SERVICE_ACCOUNT_NAMESPACE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

impl Settings {
    /// Flags (and environment) over the config file over defaults. The config was checked by
    /// `Config::check_serve`, so its sizes, durations and addresses parse.
    pub fn resolve(flags: &ServeFlags, config: &Config) -> Result<Settings, String> {
        let file = config.serve.clone().unwrap_or_default();
        let path = |flag: &Option<PathBuf>, from_file: &Option<PathBuf>| {
            flag.clone()
                .or_else(|| from_file.as_ref().map(|p| config.resolve_path(p)))
        };
        let tls_cert = path(&flags.tls_cert, &file.tls_cert)
            .ok_or("--tls-cert is required (or serve.tls_cert in the config)")?;
        let tls_key = path(&flags.tls_key, &file.tls_key)
            .ok_or("--tls-key is required (or serve.tls_key in the config)")?;
        let address = |flag: Option<SocketAddr>, from_file: &Option<String>, default: &str| {
            flag.or_else(|| from_file.as_deref().and_then(|a| a.parse().ok()))
                .or_else(|| default.parse().ok())
                .ok_or_else(|| format!("bad default address {default}"))
        };
        let duration = |flag: Option<Duration>, from_file: &Option<String>, default| {
            flag.or_else(|| {
                from_file
                    .as_deref()
                    .and_then(|d| config::parse_duration(d).ok())
            })
            .unwrap_or(default)
        };
        let eval_timeout = duration(
            flags.eval_timeout,
            &file.eval_timeout,
            Duration::from_secs(2),
        );
        if eval_timeout.is_zero() {
            return Err("--eval-timeout must be more than 0".into());
        }
        let namespace = flags
            .namespace
            .clone()
            .or_else(|| std::env::var("POD_NAMESPACE").ok())
            .or_else(|| file.namespace.clone())
            .or_else(|| {
                std::fs::read_to_string(SERVICE_ACCOUNT_NAMESPACE)
                    .ok()
                    .map(|ns| ns.trim().to_string())
            })
            .filter(|ns| !ns.is_empty());
        let max_concurrency = flags
            .max_concurrency
            .or(file.max_concurrency)
            .unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2)
            });
        if max_concurrency == 0 {
            return Err("--max-concurrency must be at least 1".into());
        }
        let max_body_size = flags
            .max_body_size
            .or_else(|| {
                file.max_body_size
                    .as_deref()
                    .and_then(|s| config::parse_size(s).ok())
            })
            .unwrap_or(3 << 20);
        let limits = Limits {
            max_body_size,
            max_connections: flags
                .max_connections
                .or(file.max_connections)
                .unwrap_or(1024),
            handshake_timeout: duration(
                flags.handshake_timeout,
                &file.handshake_timeout,
                Duration::from_secs(5),
            ),
            header_timeout: duration(
                flags.header_timeout,
                &file.header_timeout,
                Duration::from_secs(5),
            ),
            body_timeout: duration(
                flags.body_timeout,
                &file.body_timeout,
                Duration::from_secs(5),
            ),
            idle_timeout: duration(
                flags.idle_timeout,
                &file.idle_timeout,
                Duration::from_secs(120),
            ),
            body_budget: flags
                .body_budget
                .or_else(|| {
                    file.body_budget
                        .as_deref()
                        .and_then(|s| config::parse_size(s).ok())
                })
                .unwrap_or(64 << 20),
            max_containers: flags.max_containers.or(file.max_containers).unwrap_or(200),
        };
        limits.check()?;
        Ok(Settings {
            listen: address(flags.listen, &file.listen, "0.0.0.0:8443")?,
            health_listen: address(flags.health_listen, &file.health_listen, "0.0.0.0:8080")?,
            tls_cert,
            tls_key,
            client_ca: path(&flags.client_ca, &file.client_ca),
            eval_timeout,
            cluster_context: flags
                .cluster_context
                .or(file.cluster_context)
                .unwrap_or(false),
            namespace,
            log_format: flags.log_format.or(file.log_format).unwrap_or_default(),
            max_concurrency,
            shutdown_timeout: duration(
                flags.shutdown_timeout,
                &file.shutdown_timeout,
                Duration::from_secs(20),
            ),
            watch_interval: flags.watch_interval.max(Duration::from_millis(50)),
            limits,
            shutdown_delay: duration(flags.shutdown_delay, &file.shutdown_delay, Duration::ZERO),
        })
    }

    /// How findings are judged: flags over the config file over defaults. Called again at every
    /// policy or config reload.
    pub fn policy(&self, flags: &ServeFlags, config: &Config) -> Policy {
        let file = config.serve.clone().unwrap_or_default();
        let mut exempt_namespaces = file
            .exempt_namespaces
            .clone()
            .unwrap_or_else(|| vec!["kube-system".to_string()]);
        // The webhook must never block its own rollout.
        if let Some(own) = &self.namespace {
            if !exempt_namespaces.contains(own) {
                exempt_namespaces.push(own.clone());
            }
        }
        Policy {
            mode: flags.mode.or(file.mode).unwrap_or_default(),
            failure_mode: flags.failure_mode.or(file.failure_mode).unwrap_or_default(),
            update_policy: flags
                .update_policy
                .or(file.update_policy)
                .unwrap_or_default(),
            exempt_namespaces,
            // Off unless asked for: the requester writes the object's annotations.
            allow_annotation_suppression: file.allow_annotation_suppression.unwrap_or(false),
            controller_users: file
                .controller_users
                .clone()
                .unwrap_or_else(super::review::default_controller_users),
            actions: file.actions.into_iter().collect(),
            exemptions: config.exemptions.clone(),
            cluster_context: self.cluster_context,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(args: &[&str]) -> Result<Settings, String> {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            flags: ServeFlags,
        }
        let mut all = vec!["serve", "--tls-cert", "c.pem", "--tls-key", "k.pem"];
        all.extend_from_slice(args);
        let cli = <Cli as clap::Parser>::try_parse_from(all).map_err(|e| e.to_string())?;
        Settings::resolve(&cli.flags, &Config::default())
    }

    #[test]
    fn limits_have_safe_defaults_and_refuse_nonsense() {
        let settings = resolve(&[]).expect("defaults resolve");
        let limits = &settings.limits;
        assert_eq!(limits.max_connections, 1024);
        assert_eq!(limits.body_budget, 64 << 20);
        assert_eq!(limits.idle_timeout, Duration::from_secs(120));
        assert_eq!(settings.shutdown_delay, Duration::ZERO);

        let error = resolve(&["--body-budget", "1MiB"]).expect_err("below one body");
        assert!(
            error.contains("--body-budget") && error.contains("--max-body-size"),
            "{error}"
        );
        let error = resolve(&["--max-connections", "0"]).expect_err("zero connections");
        assert!(error.contains("--max-connections"), "{error}");
        let error = resolve(&["--header-timeout", "0s"]).expect_err("zero timeout");
        assert!(error.contains("--header-timeout"), "{error}");
    }
}
