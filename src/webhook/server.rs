//! The HTTP side: HTTPS for POST /validate (rustls, HTTP/2 and HTTP/1.1), plain HTTP for health
//! and metrics. It only moves bytes: parsing, limits and status codes here, the decision in
//! `review`, run off the async executor with a bounded number of evaluations at once.

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
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;

use super::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, API_VERSION};
use super::cluster::ClusterCache;
use super::metrics::{FindingLabels, Metrics, ReasonLabels, RequestLabels, StatusLabels};
use super::review::{Failure, Reviewer, Verdict};

/// A TLS handshake that takes longer than this is dropped (a stuck client holds no slot for long).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What every request handler shares.
pub struct AppState {
    reviewer: RwLock<Arc<Reviewer>>,
    pub cluster: Arc<ClusterCache>,
    pub metrics: Arc<Metrics>,
    slots: Semaphore,
    eval_timeout: Duration,
    max_body_size: u64,
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
        max_body_size: u64,
        needs_sync: bool,
    ) -> AppState {
        AppState {
            reviewer: RwLock::new(Arc::new(reviewer)),
            cluster,
            metrics,
            slots: Semaphore::new(max_concurrency),
            eval_timeout,
            max_body_size,
            needs_sync,
            shutting_down: AtomicBool::new(false),
        }
    }

    pub fn reviewer(&self) -> Arc<Reviewer> {
        match self.reviewer.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Swaps in a freshly built rule set; reviews in flight finish with the old one.
    pub fn replace_reviewer(&self, reviewer: Reviewer) {
        match self.reviewer.write() {
            Ok(mut r) => *r = Arc::new(reviewer),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(reviewer),
        }
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

async fn read_body(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    let limit = state.max_body_size;
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
        // Read and drop what the client is sending (up to a bound) before answering: closing a
        // connection with unread bytes resets it, and the client would lose the 413.
        let drain = usize::try_from(limit.saturating_mul(4)).unwrap_or(usize::MAX);
        let _ = http_body_util::Limited::new(body, drain).collect().await;
        return Err(too_large());
    }
    let limited = http_body_util::Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX));
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(e) => Err(reject(
            state,
            StatusCode::BAD_REQUEST,
            format!("cannot read the request body: {e}"),
        )),
    }
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
    let bytes = match read_body(&state, &headers, body).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let review: AdmissionReview = match serde_json::from_slice(&bytes) {
        Ok(review) => review,
        Err(e) => {
            return reject(
                &state,
                StatusCode::BAD_REQUEST,
                format!("not an AdmissionReview: {e}"),
            )
        }
    };
    if review.api_version.as_deref() != Some(API_VERSION) {
        return reject(
            &state,
            StatusCode::BAD_REQUEST,
            format!(
                "apiVersion must be {API_VERSION} (got {}); set admissionReviewVersions: [v1]",
                review.api_version.as_deref().unwrap_or("none")
            ),
        );
    }
    let Some(raw_request) = review.request else {
        return reject(
            &state,
            StatusCode::BAD_REQUEST,
            "AdmissionReview has no request".to_string(),
        );
    };
    let request: AdmissionRequest = match serde_json::from_str(raw_request.get()) {
        Ok(request) => request,
        Err(e) => {
            return reject(
                &state,
                StatusCode::BAD_REQUEST,
                format!("not an AdmissionReview: request: {e}"),
            )
        }
    };

    let reviewer = state.reviewer();
    let verdict = match reviewer.triage(&request) {
        Err(verdict) => *verdict,
        Ok(object) => {
            state.metrics.in_flight.inc();
            let verdict = evaluate(&state, reviewer, &request, object, started).await;
            state.metrics.in_flight.dec();
            verdict
        }
    };
    let elapsed = started.elapsed();
    record(&state, &request, &verdict, elapsed);
    (
        StatusCode::OK,
        axum::Json(AdmissionResponse::into_review(verdict.response)),
    )
        .into_response()
}

/// Waits for an evaluation slot, then evaluates on the blocking pool, all within the time budget.
async fn evaluate(
    state: &AppState,
    reviewer: Arc<Reviewer>,
    request: &AdmissionRequest,
    object: crate::manifest::Object,
    started: Instant,
) -> Verdict {
    let deadline = started + state.eval_timeout;
    let permit = match tokio::time::timeout_at(deadline.into(), state.slots.acquire()).await {
        Ok(Ok(permit)) => permit,
        // No slot came free within the budget (or the semaphore closed at shutdown).
        _ => return reviewer.failed_request(request, Failure::Overloaded),
    };
    let snapshot = state.cluster.snapshot();
    let owned_request = request.clone();
    let owned_reviewer = reviewer.clone();
    let evaluated = tokio::task::spawn_blocking(move || {
        owned_reviewer.review_object(&owned_request, object, &snapshot, Some(deadline))
    })
    .await;
    drop(permit);
    evaluated.unwrap_or_else(|e| {
        reviewer.failed_request(
            request,
            Failure::Error(format!("the evaluation failed: {e}")),
        )
    })
}

fn record(state: &AppState, request: &AdmissionRequest, verdict: &Verdict, elapsed: Duration) {
    let m = &state.metrics;
    m.latency.observe(elapsed.as_secs_f64());
    m.requests
        .get_or_create(&RequestLabels {
            operation: request.operation.as_str().to_string(),
            kind: request.kind.kind.clone(),
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

/// Accepts HTTPS connections until `shutdown` flips, then stops accepting and waits (at most
/// `drain`) for the connections it has to finish their requests.
pub async fn serve_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
    drain: Duration,
) {
    let graceful = GracefulShutdown::new();
    let builder = Arc::new(auto::Builder::new(TokioExecutor::new()));
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
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(router.clone());
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let connection = builder.serve_connection(TokioIo::new(tls), service);
            if let Err(e) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => tracing::info!("all connections drained"),
        _ = tokio::time::sleep(drain) => tracing::warn!("shutdown timeout: closing connections still open"),
    }
}

/// Plain HTTP for probes and scrapes, until `shutdown` flips.
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
