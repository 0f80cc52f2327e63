//! `/metrics`: what an operator watches before switching from warn to enforce, and what pages them
//! when the webhook struggles. OpenMetrics text, which Prometheus scrapes natively.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub operation: String,
    pub kind: String,
    pub decision: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FindingLabels {
    pub rule: String,
    pub action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RuleLabels {
    pub rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResourceLabels {
    pub resource: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabels {
    pub limit: String,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Histogram,
    pub findings: Family<FindingLabels, Counter>,
    pub eval_failures: Family<ReasonLabels, Counter>,
    pub rule_errors: Family<RuleLabels, Counter>,
    pub rejected: Family<StatusLabels, Counter>,
    pub tls_reloads: Family<ResultLabels, Counter>,
    pub policy_reloads: Family<ResultLabels, Counter>,
    pub cache_synced: Family<ResourceLabels, Gauge>,
    pub cache_objects: Gauge,
    pub in_flight: Gauge,
    /// Evaluations that outran the worker thread's budget and started over on an evaluation
    /// thread (see `server::evaluate`).
    pub moved_evaluations: Counter,
    pub open_connections: Gauge,
    /// Connections refused or closed by a limit (connections, handshake, header, idle).
    pub connections_closed: Family<ReasonLabels, Counter>,
    /// Request bytes reserved by requests in flight (see `--body-budget`).
    pub body_bytes_in_flight: Gauge,
    /// Objects answered without evaluation because they exceed a per-object budget.
    pub object_budget_exceeded: Family<LimitLabels, Counter>,
    /// notAfter of the certificate being served, in seconds since the epoch.
    pub tls_expiry: Gauge<i64>,
    /// Log lines dropped because the log pipe could not keep up (brought up to date at scrape).
    pub log_lines_dropped: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("seaworthy");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "admission_requests",
            "AdmissionReviews answered, by operation, kind and decision",
            requests.clone(),
        );
        // 0.25 ms to 4 s: the interesting part is under 10 ms, the tail is the time budget.
        let latency = Histogram::new([
            0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
            1.0, 2.0, 4.0,
        ]);
        registry.register(
            "admission_duration_seconds",
            "Time from a request's arrival to its answer",
            latency.clone(),
        );
        let findings = Family::<FindingLabels, Counter>::default();
        registry.register(
            "findings",
            "Findings in admitted or denied requests, by rule and action",
            findings.clone(),
        );
        let eval_failures = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "evaluation_failures",
            "Evaluations that gave no verdict (timeout, overloaded, error); the failure mode answered",
            eval_failures.clone(),
        );
        let rule_errors = Family::<RuleLabels, Counter>::default();
        registry.register(
            "rule_errors",
            "Rules that failed to evaluate on a request (judged by the failure mode alone; the \
             other rules' verdicts stand), by rule",
            rule_errors.clone(),
        );
        let rejected = Family::<StatusLabels, Counter>::default();
        registry.register(
            "http_rejected",
            "Requests refused before review (bad JSON, too large, wrong content type), by HTTP status",
            rejected.clone(),
        );
        let tls_reloads = Family::<ResultLabels, Counter>::default();
        registry.register(
            "tls_reloads",
            "Certificate reloads, by result (a failed one keeps the old certificate)",
            tls_reloads.clone(),
        );
        let policy_reloads = Family::<ResultLabels, Counter>::default();
        registry.register(
            "policy_reloads",
            "Policy and config reloads, by result (a failed one keeps the old set)",
            policy_reloads.clone(),
        );
        let cache_synced = Family::<ResourceLabels, Gauge>::default();
        registry.register(
            "cache_synced",
            "1 when the cluster cache of a resource has synced",
            cache_synced.clone(),
        );
        let cache_objects = Gauge::default();
        registry.register(
            "cache_objects",
            "Objects in the cluster cache",
            cache_objects.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "in_flight_reviews",
            "Reviews being evaluated or waiting for an evaluation slot",
            in_flight.clone(),
        );
        let moved_evaluations = Counter::default();
        registry.register(
            "evaluations_moved",
            "Evaluations that outran their time on the worker thread and started over on an evaluation thread",
            moved_evaluations.clone(),
        );
        let open_connections = Gauge::default();
        registry.register(
            "open_connections",
            "HTTPS connections open (handshaking, idle or busy)",
            open_connections.clone(),
        );
        let connections_closed = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "connections_closed_by_limit",
            "HTTPS connections refused or closed by a limit: max_connections, handshake_timeout, header_timeout, idle_timeout",
            connections_closed.clone(),
        );
        let body_bytes_in_flight = Gauge::default();
        registry.register(
            "body_bytes_in_flight",
            "Request body bytes reserved by requests in flight, out of --body-budget",
            body_bytes_in_flight.clone(),
        );
        let object_budget_exceeded = Family::<LimitLabels, Counter>::default();
        registry.register(
            "object_budget_exceeded",
            "Objects answered without evaluation because they exceed a per-object budget, by limit",
            object_budget_exceeded.clone(),
        );
        let tls_expiry = Gauge::<i64>::default();
        registry.register(
            "tls_certificate_expiry_timestamp_seconds",
            "notAfter of the serving certificate, in seconds since the Unix epoch",
            tls_expiry.clone(),
        );
        let log_lines_dropped = Counter::default();
        registry.register(
            "log_lines_dropped",
            "Log lines dropped because the log output could not keep up (the queue was full)",
            log_lines_dropped.clone(),
        );
        Metrics {
            registry,
            log_lines_dropped,
            open_connections,
            connections_closed,
            body_bytes_in_flight,
            object_budget_exceeded,
            tls_expiry,
            requests,
            latency,
            findings,
            eval_failures,
            rule_errors,
            rejected,
            tls_reloads,
            policy_reloads,
            cache_synced,
            cache_objects,
            in_flight,
            moved_evaluations,
        }
    }

    pub fn encode(&self) -> String {
        let dropped = super::log_lines_dropped();
        let counted = self.log_lines_dropped.get();
        if dropped > counted {
            self.log_lines_dropped.inc_by(dropped - counted);
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    pub fn closed_by_limit(&self, reason: &str) {
        self.connections_closed
            .get_or_create(&ReasonLabels {
                reason: reason.to_string(),
            })
            .inc();
    }

    pub fn reload(&self, family: &Family<ResultLabels, Counter>, ok: bool) {
        let result = if ok { "success" } else { "failure" };
        family
            .get_or_create(&ResultLabels {
                result: result.to_string(),
            })
            .inc();
    }
}
