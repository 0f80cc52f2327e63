//! The HTTP side: HTTPS for POST /validate (rustls, HTTP/2 and HTTP/1.1), plain HTTP for health
//! and metrics. It only moves bytes: parsing, limits and status codes here, the decision in
//! `review`, run on the worker thread when it is quick and on a fixed set of evaluation threads
//! when it is not (see `evaluate`), with the work in flight bounded by cost-weighted evaluation
//! slots.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::BodyExt;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore, SemaphorePermit};
use tokio_rustls::TlsAcceptor;
use tower::Service;

use super::admission::{decode_review, AdmissionRequest, AdmissionResponse};
use super::budget::{slots_for, ObjectBudget};
use super::cluster::ClusterCache;
use super::connection::{Activity, Judgement, TrackedIo};
use super::evaluators::Evaluators;
use super::metrics::{
    FindingLabels, LimitLabels, Metrics, ReasonLabels, RequestLabels, RuleLabels, StatusLabels,
};
use super::review::{Failure, Reviewer, Verdict};
use super::settings::Limits;

/// Kinds always given their own metric label, besides those some rule names: the workloads.
const CORE_KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
];

/// The `kind` label of every other kind: the caller chooses `request.kind.kind`, and one series
/// per made-up kind would grow the registry (and every scrape) without bound.
const OTHER_KIND: &str = "other";

/// The kinds that get their own metric label with this rule set.
fn known_kinds(reviewer: &Reviewer) -> HashSet<String> {
    let mut kinds: HashSet<String> = CORE_KINDS.iter().map(|k| k.to_string()).collect();
    for rule in &reviewer.evaluator.rules {
        kinds.extend(rule.meta.kinds.iter().flatten().cloned());
    }
    kinds
}

/// What every request handler shares.
pub struct AppState {
    reviewer: RwLock<(Arc<Reviewer>, Arc<HashSet<String>>)>,
    pub cluster: Arc<ClusterCache>,
    pub metrics: Arc<Metrics>,
    /// Evaluation slots, one per evaluation thread; an object takes as many as its size says
    /// (see [`slots_for`]).
    slots: Semaphore,
    max_concurrency: usize,
    evaluators: Evaluators,
    eval_timeout: Duration,
    pub limits: Limits,
    /// Bytes of request bodies in flight, reserved before a body is read (see `read_body`).
    body_budget: Semaphore,
    object_budget: ObjectBudget,
    /// Cross-object rules need the cache synced before the webhook says it is ready.
    needs_sync: bool,
    shutting_down: AtomicBool,
}

impl AppState {
    pub fn new(
        reviewer: Reviewer,
        cluster: Arc<ClusterCache>,
        metrics: Arc<Metrics>,
        max_concurrency: usize,
        eval_timeout: Duration,
        limits: Limits,
        needs_sync: bool,
    ) -> std::io::Result<AppState> {
        let kinds = Arc::new(known_kinds(&reviewer));
        Ok(AppState {
            reviewer: RwLock::new((Arc::new(reviewer), kinds)),
            cluster,
            metrics,
            slots: Semaphore::new(max_concurrency),
            max_concurrency,
            // As many threads as slots: an evaluation that holds a slot always finds a thread.
            evaluators: Evaluators::start(max_concurrency)?,
            eval_timeout,
            // Settings::resolve checked that the budget fits in a usize.
            body_budget: Semaphore::new(
                usize::try_from(limits.body_budget).unwrap_or(usize::MAX >> 4),
            ),
            object_budget: ObjectBudget {
                max_containers: limits.max_containers,
            },
            limits,
            needs_sync,
            shutting_down: AtomicBool::new(false),
        })
    }

    pub fn reviewer(&self) -> Arc<Reviewer> {
        self.loaded().0
    }

    fn loaded(&self) -> (Arc<Reviewer>, Arc<HashSet<String>>) {
        match self.reviewer.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Swaps in a freshly built rule set; reviews in flight finish with the old one.
    pub fn replace_reviewer(&self, reviewer: Reviewer) {
        let kinds = Arc::new(known_kinds(&reviewer));
        let loaded = (Arc::new(reviewer), kinds);
        match self.reviewer.write() {
            Ok(mut r) => *r = loaded,
            Err(poisoned) => *poisoned.into_inner() = loaded,
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Release);
    }

    fn is_ready(&self) -> bool {
        !self.shutting_down.load(Ordering::Acquire)
            && (!self.needs_sync || self.cluster.is_synced())
    }
}

/// POST /validate.
pub fn webhook_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/validate", post(validate))
        .with_state(state)
}

/// /healthz, /readyz, /metrics.
pub fn health_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn ready(State(state): State<Arc<AppState>>) -> Response {
    if state.is_ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        let why = if state.shutting_down.load(Ordering::Acquire) {
            "shutting down\n"
        } else {
            "cluster cache not synced yet\n"
        };
        (StatusCode::SERVICE_UNAVAILABLE, why).into_response()
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

/// A transport-level refusal: a short JSON body the caller can read.
fn reject(state: &AppState, status: StatusCode, message: String) -> Response {
    state
        .metrics
        .rejected
        .get_or_create(&StatusLabels {
            status: status.as_u16().to_string(),
        })
        .inc();
    tracing::warn!(status = status.as_u16(), %message, "request rejected");
    (
        status,
        axum::Json(serde_json::json!({ "error": message, "status": status.as_u16() })),
    )
        .into_response()
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// Bytes of the body budget held by one request until its answer is sent.
struct Reservation<'a> {
    _permit: SemaphorePermit<'a>,
    bytes: i64,
    metrics: &'a Metrics,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.metrics.body_bytes_in_flight.dec_by(self.bytes);
    }
}

/// Reads and drops what the client is still sending (up to a bound in bytes and time) before a
/// refusal: closing a connection with unread bytes resets it, and the client would lose the
/// answer. Nothing is kept, so this costs no memory.
async fn discard(body: Body, max_bytes: u64, within: Duration) {
    let bound = usize::try_from(max_bytes).unwrap_or(usize::MAX);
    let _ = tokio::time::timeout(within, async move {
        let mut body = http_body_util::Limited::new(body, bound);
        while let Some(Ok(_)) = body.frame().await {}
    })
    .await;
}

/// Reserves the body's bytes in the budget of bodies in flight, then reads it within the body
/// timeout. A body is never buffered before its bytes are reserved, so the memory bodies hold is
/// bounded by the budget whatever clients do; a large body takes a large share, and its bytes stay
/// reserved through its evaluation (the parsed object is bigger still).
async fn read_body<'a>(
    state: &'a AppState,
    headers: &HeaderMap,
    body: Body,
    deadline: Instant,
) -> Result<(Bytes, Reservation<'a>), Response> {
    let limit = state.limits.max_body_size;
    let too_large = || {
        reject(
            state,
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than the limit of {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        discard(body, limit.saturating_mul(4), state.limits.body_timeout).await;
        return Err(too_large());
    }
    // Without a Content-Length (chunked), the body may be as large as the limit.
    let reserve = declared.unwrap_or(limit).max(1);
    let permits = u32::try_from(reserve).unwrap_or(u32::MAX);
    let permit =
        match tokio::time::timeout_at(deadline.into(), state.body_budget.acquire_many(permits))
            .await
        {
            Ok(Ok(permit)) => permit,
            _ => {
                discard(body, limit, Duration::from_millis(500)).await;
                return Err(with_close(reject(
                    state,
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "request bodies in flight hold the webhook's body budget of {} bytes \
                         (--body-budget); this {reserve}-byte body was not read",
                        state.limits.body_budget
                    ),
                )));
            }
        };
    let bytes = i64::from(permits);
    state.metrics.body_bytes_in_flight.inc_by(bytes);
    let reservation = Reservation {
        _permit: permit,
        bytes,
        metrics: &state.metrics,
    };
    let limited = http_body_util::Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX));
    match tokio::time::timeout(state.limits.body_timeout, limited.collect()).await {
        Ok(Ok(collected)) => Ok((collected.to_bytes(), reservation)),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err(reject(
            state,
            StatusCode::BAD_REQUEST,
            format!("cannot read the request body: {e}"),
        )),
        Err(_) => Err(with_close(reject(
            state,
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} (--body-timeout)",
                humantime::format_duration(state.limits.body_timeout)
            ),
        ))),
    }
}

/// Tells an HTTP/1.1 client not to reuse the connection (hyper then closes it after the answer).
fn with_close(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

async fn validate(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    if !is_json(&headers) {
        return reject(
            &state,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content type must be application/json".to_string(),
        );
    }
    let (bytes, reservation) =
        match read_body(&state, &headers, body, started + state.eval_timeout).await {
            Ok(read) => read,
            Err(response) => return response,
        };
    let decoded = decode_review(&bytes);
    drop(bytes);
    let mut request = match decoded {
        Ok(request) => request,
        Err(message) => return reject(&state, StatusCode::BAD_REQUEST, message),
    };

    let (reviewer, kinds) = state.loaded();
    let object = request.object.take();
    // Shared with the evaluation thread without copying the old object of an UPDATE.
    let request = Arc::new(request);
    let verdict = match reviewer.triage(&request, object) {
        Err(verdict) => *verdict,
        Ok(object) => match state.object_budget.check(&reviewer, &request, &object) {
            Some((verdict, exceeded)) => {
                state
                    .metrics
                    .object_budget_exceeded
                    .get_or_create(&LimitLabels {
                        limit: exceeded.limit_name().to_string(),
                    })
                    .inc();
                verdict
            }
            None => {
                state.metrics.in_flight.inc();
                let verdict = evaluate(&state, reviewer, &request, object, started).await;
                state.metrics.in_flight.dec();
                verdict
            }
        },
    };
    let elapsed = started.elapsed();
    record(&state, &kinds, &request, &verdict, elapsed);
    let response = (
        StatusCode::OK,
        axum::Json(AdmissionResponse::into_review(verdict.response)),
    )
        .into_response();
    drop(reservation);
    response
}

/// Waits for the object's evaluation slots, then evaluates, all within the time budget: at the
/// deadline the answer is the failure mode's, whatever the evaluation is still doing.
///
/// An object within one slot, judged by built-in rules only, is first evaluated right here, on
/// the worker thread that read it, with at most [`INLINE_BUDGET`] of its time: nearly every
/// review takes well under a millisecond, and handing it to an evaluation thread and back cost
/// two thread wake-ups, more server CPU and most of the tail latency. An evaluation that needs
/// longer (an unusual object) is dropped at that budget and starts over on an evaluation thread,
/// where the deadline is kept even inside a builtin, so a worker is never held for much longer
/// than the budget (the built-in rules' builtin calls are bounded by the object's size) and the
/// other connections keep being served. A custom policy may spend seconds in one builtin call
/// that regorus cannot interrupt, which would hold the worker: objects it judges go to the
/// evaluation threads at once, as larger objects do.
async fn evaluate(
    state: &Arc<AppState>,
    reviewer: Arc<Reviewer>,
    request: &Arc<AdmissionRequest>,
    object: crate::manifest::Object,
    started: Instant,
) -> Verdict {
    let deadline = started + state.eval_timeout;
    let weight = slots_for(
        super::budget::containers(request, &object),
        state.max_concurrency,
    );
    let id = object.id.clone();
    // At most max_concurrency; one slot in the absurd case of a count beyond u32.
    let weight = u32::try_from(weight).unwrap_or(1);
    let permit =
        match tokio::time::timeout_at(deadline.into(), state.slots.acquire_many(weight)).await {
            Ok(Ok(permit)) => permit,
            // No slot came free within the budget (or the semaphore closed at shutdown).
            _ => return reviewer.failed_request(request, id, Failure::Overloaded),
        };
    let snapshot = state.cluster.snapshot();
    if weight == 1 && reviewer.evaluator.only_builtin_rules_for(&id.kind) {
        let inline_deadline = deadline.min(Instant::now() + INLINE_BUDGET);
        let inline = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            reviewer.review_object(request, &object, &snapshot, Some(inline_deadline))
        }));
        let verdict = match inline {
            Ok(verdict)
                if verdict.failure == Some(Failure::Timeout) && inline_deadline < deadline =>
            {
                None
            }
            Ok(verdict) => Some(verdict),
            Err(_) => Some(panicked(&reviewer, request, id.clone())),
        };
        if let Some(verdict) = verdict {
            drop(permit);
            count_rule_errors(state, &verdict);
            return verdict;
        }
        state.metrics.moved_evaluations.inc();
    }
    let owned_request = Arc::clone(request);
    let owned_reviewer = reviewer.clone();
    let mut evaluation = state.evaluators.run(move || {
        owned_reviewer.review_object(&owned_request, &object, &snapshot, Some(deadline))
    });
    let verdict = match tokio::time::timeout_at(deadline.into(), &mut evaluation).await {
        Ok(evaluated) => {
            drop(permit);
            evaluated.unwrap_or_else(|_| panicked(&reviewer, request, id))
        }
        // Still running past the deadline: inside a builtin regorus cannot interrupt (its timer
        // is read between instructions). Answer now; the evaluation keeps its slot until it
        // ends, so runaway evaluations never outnumber the concurrency limit.
        Err(_) => {
            permit.forget();
            let state = state.clone();
            tokio::spawn(async move {
                let _ = evaluation.await;
                state.slots.add_permits(weight as usize);
            });
            reviewer.failed_request(request, id, Failure::Timeout)
        }
    };
    count_rule_errors(state, &verdict);
    verdict
}

/// How long an evaluation may hold the worker thread that read its request (see `evaluate`):
/// over a hundred times a typical review (0.1–0.5 ms) and three times the largest object within
/// one slot (a Deployment of 25 containers, about 6 ms).
const INLINE_BUDGET: Duration = Duration::from_millis(20);

fn panicked(
    reviewer: &Reviewer,
    request: &AdmissionRequest,
    id: crate::finding::ObjectRef,
) -> Verdict {
    reviewer.failed_request(
        request,
        id,
        Failure::Error("the evaluation failed: it panicked".to_string()),
    )
}

fn count_rule_errors(state: &AppState, verdict: &Verdict) {
    for judged in &verdict.findings {
        if let Some(rule) = crate::check::failed_rule(&judged.finding) {
            state
                .metrics
                .rule_errors
                .get_or_create(&RuleLabels {
                    rule: rule.to_string(),
                })
                .inc();
        }
    }
}

fn record(
    state: &AppState,
    known_kinds: &HashSet<String>,
    request: &AdmissionRequest,
    verdict: &Verdict,
    elapsed: Duration,
) {
    let m = &state.metrics;
    m.latency.observe(elapsed.as_secs_f64());
    let kind = if known_kinds.contains(&request.kind.kind) {
        request.kind.kind.clone()
    } else {
        OTHER_KIND.to_string()
    };
    m.requests
        .get_or_create(&RequestLabels {
            operation: request.operation.as_str().to_string(),
            kind,
            decision: verdict.decision.as_str().to_string(),
        })
        .inc();
    for judged in &verdict.findings {
        m.findings
            .get_or_create(&FindingLabels {
                rule: judged.finding.rule.clone(),
                action: judged.action.as_str().to_string(),
            })
            .inc();
    }
    if let Some(failure) = &verdict.failure {
        m.eval_failures
            .get_or_create(&ReasonLabels {
                reason: failure.kind().to_string(),
            })
            .inc();
    }
    let object = verdict.object.as_ref();
    let rules: Vec<String> = verdict
        .findings
        .iter()
        .map(|j| format!("{}:{}", j.finding.rule, j.action.as_str()))
        .collect();
    let namespace = object
        .and_then(|o| o.namespace.as_deref())
        .or(request.namespace.as_deref())
        .unwrap_or("");
    let name = object
        .and_then(|o| o.name.as_deref())
        .or(request.name.as_deref())
        .unwrap_or("");
    let user = request
        .user_info
        .as_ref()
        .and_then(|u| u.username.as_deref())
        .unwrap_or("");
    tracing::info!(
        uid = %request.uid,
        operation = %request.operation.as_str(),
        kind = %request.kind.kind,
        namespace = %namespace,
        name = %name,
        user = %user,
        dry_run = request.dry_run.unwrap_or(false),
        decision = %verdict.decision.as_str(),
        findings = %rules.join(","),
        failure = %verdict.failure.as_ref().map(|f| f.kind()).unwrap_or(""),
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        "review"
    );
}

/// How often each connection's timers are looked at: often enough that a timeout is kept to
/// within a quarter of itself, seldom enough that 10,000 idle connections cost nothing.
fn check_interval(limits: &Limits) -> Duration {
    (limits.header_timeout.min(limits.idle_timeout) / 4)
        .clamp(Duration::from_millis(25), Duration::from_secs(1))
}

/// Accepts HTTPS connections until `shutdown` flips, then stops accepting, closes idle
/// connections and asks busy ones to close after their answer, and waits (at most `drain`) for
/// them to finish.
///
/// Limits: at most `max_connections` open (one more is closed at once, so the client fails fast
/// instead of queueing), a handshake within `handshake_timeout`, a request's headers within
/// `header_timeout` of its first byte (HTTP/1.1), and a connection with no request for
/// `idle_timeout` is closed gracefully.
pub async fn serve_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
    state: Arc<AppState>,
    mut shutdown: watch::Receiver<bool>,
    drain: Duration,
) {
    let limits = state.limits.clone();
    let connection_slots = Arc::new(Semaphore::new(limits.max_connections));
    // HTTP/2 by ALPN only: a connection is one protocol or the other, so the header timer (which
    // would misread HTTP/2's control frames as a slow request) runs for HTTP/1.1 only.
    let mut http1 = auto::Builder::new(TokioExecutor::new()).http1_only();
    // hyper's own header timer also runs while a kept-alive connection waits for its next
    // request; the connection's timers below tell the two apart.
    http1.http1().header_read_timeout(None);
    let http1 = Arc::new(http1);
    let mut http2 = auto::Builder::new(TokioExecutor::new()).http2_only();
    http2
        .http2()
        .timer(hyper_util::rt::TokioTimer::new())
        // A peer that vanished without a FIN is found by a PING it does not answer.
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(10))
        .max_concurrent_streams(Some(64));
    let http2 = Arc::new(http2);
    let (stop_tx, stop_rx) = watch::channel(false);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let Ok(slot) = connection_slots.clone().try_acquire_owned() else {
            // Dropping the socket closes it: the client learns at once, and its retry can reach
            // another replica, rather than waiting in the accept queue.
            state.metrics.closed_by_limit("max_connections");
            tracing::debug!(%peer, limit = limits.max_connections, "connection refused: at the connection limit");
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let router = router.clone();
        let (http1, http2) = (http1.clone(), http2.clone());
        let state = state.clone();
        let limits = limits.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let metrics = state.metrics.clone();
            metrics.open_connections.inc();
            let _open = scopeguard(move || {
                metrics.open_connections.dec();
            });
            let tls =
                match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        state.metrics.closed_by_limit("handshake_timeout");
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                };
            let is_http2 = tls.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
            let activity = Activity::new();
            let service = ConnectionService {
                router,
                state: state.clone(),
                activity: activity.clone(),
            };
            let io = TokioIo::new(TrackedIo::new(tls, activity.clone()));
            let builder = if is_http2 { http2 } else { http1 };
            let connection = builder.serve_connection(io, TowerToHyperService::new(service));
            let mut connection = std::pin::pin!(connection);
            // HTTP/2 has no request head to time: its streams' headers come in frames among
            // control frames, and an idle HTTP/2 connection is still closed by the idle timer.
            let header_timeout = if is_http2 {
                Duration::MAX
            } else {
                limits.header_timeout
            };
            let mut ticker = tokio::time::interval(check_interval(&limits));
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut closing = *stop.borrow();
            if closing {
                connection.as_mut().graceful_shutdown();
            }
            loop {
                tokio::select! {
                    ended = connection.as_mut() => {
                        if let Err(e) = ended {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                        return;
                    }
                    _ = ticker.tick() => match activity.judge(header_timeout, limits.idle_timeout) {
                        // Draining: an HTTP/2 client gets a GOAWAY at once and moves its new
                        // streams to a new connection without losing any (HTTP/1.1 clients are
                        // told with `Connection: close` on their next answer).
                        _ if is_http2 && !closing && state.is_shutting_down() => {
                            connection.as_mut().graceful_shutdown();
                            closing = true;
                        }
                        Judgement::Fine => {}
                        Judgement::HeaderTimeout => {
                            state.metrics.closed_by_limit("header_timeout");
                            tracing::debug!(%peer, "request headers not complete in time: connection closed");
                            return;
                        }
                        Judgement::Idle if !closing => {
                            state.metrics.closed_by_limit("idle_timeout");
                            connection.as_mut().graceful_shutdown();
                            closing = true;
                        }
                        Judgement::Idle => {}
                    },
                    _ = stop.changed(), if !closing => {
                        connection.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection task holds a slot until it ends: all slots back means all drained.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    tokio::select! {
        _ = connection_slots.acquire_many(all) => tracing::info!("all connections drained"),
        _ = tokio::time::sleep(drain) => tracing::warn!("shutdown timeout: closing connections still open"),
    }
}

/// Runs a closure when dropped (the open-connections gauge, whichever way a task ends).
fn scopeguard<F: FnOnce()>(f: F) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}

/// The router as one connection sees it: each request is noted for the connection's timers, and
/// once shutdown has begun an HTTP/1.1 answer says `Connection: close`, so a client stops reusing
/// the connection after an answer instead of writing into one the server is about to close.
#[derive(Clone)]
struct ConnectionService {
    router: Router,
    state: Arc<AppState>,
    activity: Arc<Activity>,
}

impl Service<axum::http::Request<hyper::body::Incoming>> for ConnectionService {
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Response, std::convert::Infallible>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: axum::http::Request<hyper::body::Incoming>) -> Self::Future {
        let guard = self.activity.begin();
        let http1 = request.version() < axum::http::Version::HTTP_2;
        let state = self.state.clone();
        let answered = self.router.call(request.map(Body::new));
        Box::pin(async move {
            let response = answered.await?;
            drop(guard);
            Ok(if http1 && state.is_shutting_down() {
                with_close(response)
            } else {
                response
            })
        })
    }
}

/// Plain HTTP for probes and scrapes, until `shutdown` flips. It stops after the HTTPS side has
/// drained, so during the drain /readyz answers 503 instead of refusing connections.
pub async fn serve_plain(
    listener: TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let result = axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = shutdown.changed().await;
        })
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "health server failed");
    }
}
