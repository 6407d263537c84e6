//! `ember serve`: the SageMaker SparkML Serving contract over HTTP.
//!
//! * `GET /ping` — 200 once the model is loaded (the server binds only after loading).
//! * `GET /execution-parameters` — what Batch Transform may use.
//! * `POST /invocations` — CSV, JSON or JSON-lines records in, predictions out.
//! * `GET /metrics` — Prometheus text.
//!
//! The pipeline is compiled once per input schema (at start-up for `SAGEMAKER_SPARKML_SCHEMA`)
//! into physical expressions; a request only parses, evaluates and renders. See docs/SERVING.md
//! for the contract and where ember deliberately differs from the original container.

pub mod conn;
pub mod contract;
pub mod decode;
pub mod error;
pub mod metrics;
pub mod render;
pub mod scorer;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::BytesMut;
use ember_engine::{BundleLimits, Pipeline};
use ember_udfs::shown::{Shown, shown_message};
use http_body_util::BodyExt;

use conn::{Admission, ConnLimits, ConnState, Phase, RateLimit, Throttled, Watched, flags};
use contract::{Accept, BodyFormat, DataLimits, DataSchema, Prepared, body_format, parse_accept};
use decode::parse_body;
use error::ApiError;
use metrics::Metrics;
use scorer::{Coalesce, Scorer};

/// The environment variable holding the default schema.
pub const SCHEMA_ENV: &str = "SAGEMAKER_SPARKML_SCHEMA";
/// The environment variable holding the default Accept.
pub const ACCEPT_ENV: &str = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT";
/// The message the original container answers when no schema is available.
pub const NO_SCHEMA: &str =
    "Input schema has to be provided either via environment variable or via the request";

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The model (Spark PipelineModel directory or MLeap bundle).
    pub model: PathBuf,
    /// Address to listen on.
    pub host: String,
    /// Port to listen on (0: any free port).
    pub port: u16,
    /// Largest request body in bytes (larger: 413).
    pub max_body_bytes: usize,
    /// Request coalescing.
    pub coalesce: Coalesce,
    /// The default schema JSON (`SAGEMAKER_SPARKML_SCHEMA`).
    pub schema: Option<String>,
    /// The default Accept (`SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`).
    pub default_accept: Option<String>,
    /// Bounds on reading an archived MLeap bundle.
    pub bundle_limits: BundleLimits,
    /// Serving threads (0: one per core). Each runs its own single-threaded Tokio runtime and
    /// batcher and serves the connections handed to it, so a request is read, scored and
    /// answered on one thread with no hand-off between threads.
    pub workers: usize,
    /// Connection timeouts and limits, shutdown grace, rejected-request log rate.
    pub conn: ConnLimits,
    /// Bounds on request data: schema columns, declared vector sizes, rendering and answer
    /// size (docs/SERVING.md, "Limits" → "Request data").
    pub data_limits: DataLimits,
}

/// Everything a request needs, built once at start-up.
#[derive(Debug)]
pub struct AppState {
    pipeline: Pipeline,
    env_schema: Option<Arc<Prepared>>,
    default_accept: Accept,
    schemas: Mutex<HashMap<DataSchema, Arc<Prepared>>>,
    coalesce: Coalesce,
    metrics: Arc<Metrics>,
    max_body_bytes: usize,
    next_id: AtomicU64,
    limits: ConnLimits,
    rejected_log: RateLimit,
    data_limits: DataLimits,
}

/// Request schemas kept compiled at most (beyond that the cache starts over).
const SCHEMA_CACHE: usize = 256;

impl AppState {
    /// Loads and compiles everything for `config` (call inside a Tokio runtime). Errors are
    /// start-up failures, worded for the operator.
    pub fn load(config: &ServeConfig) -> Result<Arc<Self>, String> {
        let started = Instant::now();
        // read by every vector parser of this process (request bodies, Spark's text form)
        ember_udfs::vector::set_max_vector_size(config.data_limits.max_vector_size);
        let pipeline = Pipeline::load_with_limits(&config.model, config.bundle_limits)
            .map_err(|e| format!("cannot load the model at {}: {e}", config.model.display()))?;
        let env_schema = match config
            .schema
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(json) => Some(Arc::new(
                Prepared::new(&pipeline, json, config.data_limits.max_schema_columns)
                    .map_err(|e| format!("{SCHEMA_ENV}: {e}"))?,
            )),
        };
        let default_accept = parse_accept(config.default_accept.as_deref())
            .map_err(|_| {
                format!(
                    "{ACCEPT_ENV}='{}' is not text/csv, application/jsonlines or \
                     application/jsonlines;data=text",
                    config.default_accept.as_deref().unwrap_or("")
                )
            })?
            .unwrap_or(Accept::Csv);
        let metrics = Arc::new(Metrics::new(started.elapsed().as_secs_f64()));
        Ok(Arc::new(Self {
            coalesce: config.coalesce,
            pipeline,
            env_schema,
            default_accept,
            schemas: Mutex::new(HashMap::new()),
            metrics,
            max_body_bytes: config.max_body_bytes,
            next_id: AtomicU64::new(1),
            limits: config.conn,
            rejected_log: RateLimit::new(config.conn.log_rejected_per_sec),
            data_limits: config.data_limits,
        }))
    }

    /// The loaded pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Whether a default schema (`SAGEMAKER_SPARKML_SCHEMA`, not blank) was given.
    pub fn has_default_schema(&self) -> bool {
        self.env_schema.is_some()
    }

    /// The compiled form of a request's schema (or of the default one): from the cache, or
    /// compiled on the blocking pool, so a large schema never holds up the serving thread's
    /// other connections (a `/ping` keeps answering meanwhile).
    async fn prepared(&self, schema: Option<DataSchema>) -> Result<Arc<Prepared>, ApiError> {
        let Some(schema) = schema else {
            return self
                .env_schema
                .clone()
                .ok_or_else(|| ApiError::bad_request(NO_SCHEMA));
        };
        let max_columns = self.data_limits.max_schema_columns;
        // before hashing or compiling anything
        Prepared::check_size(&schema, max_columns)
            .map_err(|e| ApiError::bad_request(format!("schema: {e}")))?;
        if let Ok(cache) = self.schemas.lock()
            && let Some(p) = cache.get(&schema)
        {
            return Ok(Arc::clone(p));
        }
        let pipeline = self.pipeline.clone(); // the stages are shared, not copied
        let (schema, compiled) = tokio::task::spawn_blocking(move || {
            let compiled = Prepared::from_schema(&pipeline, &schema, max_columns);
            (schema, compiled)
        })
        .await
        .map_err(|e| ApiError::internal(format!("compiling the request schema: {e}")))?;
        let prepared =
            Arc::new(compiled.map_err(|e| ApiError::bad_request(format!("schema: {e}")))?);
        if let Ok(mut cache) = self.schemas.lock() {
            if cache.len() >= SCHEMA_CACHE {
                cache.clear();
            }
            cache.insert(schema, Arc::clone(&prepared));
        }
        Ok(prepared)
    }
}

/// What one serving thread's handlers see: the shared state and the thread's own scorer.
#[derive(Debug)]
pub struct Worker {
    app: Arc<AppState>,
    scorer: Scorer,
    /// `POST /invocations` requests in the service on this thread.
    in_flight: Admission,
}

impl std::ops::Deref for Worker {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.app
    }
}

/// The hyper service every HTTP/1.1 connection runs: request tracking (metrics, request id,
/// log line) around a direct path for `POST /invocations` and the axum router for everything
/// else (the other routes, and the 404/405 answers). Call [`service`] inside the Tokio runtime
/// that will serve it (its batcher, when coalescing, is spawned there).
///
/// The direct path is the hot one: it reads the headers in place, collects hyper's body itself
/// (within the size limit) and scores, without boxing the body or the router's per-request
/// service clones and boxed futures.
#[derive(Clone)]
pub struct HttpService {
    worker: Arc<Worker>,
    router: Router,
    /// The connection's watchdog state (none: not watched).
    conn: Option<Arc<ConnState>>,
}

impl HttpService {
    /// This service for one connection, reporting its requests to the connection's watchdog.
    pub fn for_connection(&self, conn: Arc<ConnState>) -> Self {
        Self {
            worker: Arc::clone(&self.worker),
            router: self.router.clone(),
            conn: Some(conn),
        }
    }
}

impl std::fmt::Debug for HttpService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpService")
            .field("worker", &self.worker)
            .finish()
    }
}

/// The HTTP service for one serving thread (see [`HttpService`]).
pub fn service(state: Arc<AppState>) -> HttpService {
    let max_in_flight = state.limits.max_in_flight.max(1);
    let worker = Arc::new(Worker {
        scorer: Scorer::new(state.coalesce, Arc::clone(&state.metrics), max_in_flight),
        in_flight: Admission::new(max_in_flight),
        app: state,
    });
    let router = Router::new()
        .route("/ping", get(ping))
        .route("/ping/", get(ping))
        .route("/execution-parameters", get(execution_parameters))
        .route("/execution-parameters/", get(execution_parameters))
        .route("/invocations", post(invocations_route))
        .route("/invocations/", post(invocations_route))
        .route("/metrics", get(metrics_text))
        .with_state(Arc::clone(&worker));
    HttpService {
        worker,
        router,
        conn: None,
    }
}

impl hyper::service::Service<hyper::Request<hyper::body::Incoming>> for HttpService {
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Response, Self::Error>> + Send + 'static>,
    >;

    fn call(&self, req: hyper::Request<hyper::body::Incoming>) -> Self::Future {
        let started = Instant::now();
        let worker = Arc::clone(&self.worker);
        let route = route_name(req.uri().path());
        // the caller's id when it sent one, else a sequence number (no string built for it)
        let id = req
            .headers()
            .get("x-amzn-requestid")
            .or_else(|| req.headers().get("x-request-id"))
            .cloned()
            .unwrap_or_else(|| HeaderValue::from(worker.next_id.fetch_add(1, Ordering::Relaxed)));
        let method = req.method().clone();
        // the request is in the service (its connection's watchdog leaves it be) until answered
        let busy = self.conn.as_ref().map(ConnState::request);
        if route == "invocations" && method == Method::POST {
            Box::pin(async move {
                let response = match worker.in_flight.enter() {
                    Some(place) => {
                        let r = invocations(&worker, req).await;
                        drop(place);
                        r
                    }
                    // its body is not read: the connection closes after the answer
                    None => closing(
                        ApiError::overloaded(format_args!(
                            "{} requests in flight on this serving thread ({})",
                            worker.in_flight.max(),
                            flags::MAX_IN_FLIGHT
                        ))
                        .into_response(),
                    ),
                };
                drop(busy);
                Ok(track(&worker, route, &method, id, started, response))
            })
        } else {
            // no other route reads a body: one that is sent is left unread, so the connection
            // closes after the answer, and the answer says so
            let unread_body = !hyper::body::Body::is_end_stream(req.body());
            let routed = tower_service::Service::call(&mut self.router.clone(), req.map(Body::new));
            Box::pin(async move {
                let response = match routed.await {
                    Ok(r) if unread_body => closing(r),
                    Ok(r) => r,
                    Err(never) => match never {},
                };
                drop(busy);
                Ok(track(&worker, route, &method, id, started, response))
            })
        }
    }
}

async fn ping() -> StatusCode {
    StatusCode::OK
}

async fn execution_parameters(State(state): State<Arc<Worker>>) -> Response {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mb = (state.max_body_bytes / (1024 * 1024)).max(1);
    let body = format!(
        "{{\"MaxConcurrentTransforms\":{cores},\"BatchStrategy\":\"MULTI_RECORD\",\"MaxPayloadInMB\":{mb}}}"
    );
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn metrics_text(State(state): State<Arc<Worker>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// `POST /invocations` when it reaches the router (the service answers it directly; this
/// route exists so the router knows the path and answers other methods with 405).
async fn invocations_route(State(state): State<Arc<Worker>>, req: Request) -> Response {
    invocations(&state, req).await
}

async fn invocations<B>(state: &Worker, req: hyper::Request<B>) -> Response
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Display,
{
    match score_request(state, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn score_request<B>(state: &Worker, req: hyper::Request<B>) -> Result<Response, ApiError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Display,
{
    let (parts, body) = req.into_parts();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let checked = body_format(content_type)
        .ok_or_else(|| ApiError::unsupported_media(content_type))
        .and_then(|format| {
            let accept = parse_accept(
                parts
                    .headers
                    .get(header::ACCEPT)
                    .and_then(|v| v.to_str().ok()),
            )?;
            Ok((format, accept.unwrap_or(state.default_accept)))
        });
    let (format, accept) = match checked {
        Ok(c) => c,
        // answered before the body was read: hyper closes the connection rather than read on,
        // so say so (a keep-alive client would otherwise send its next request into a closed
        // connection)
        Err(e) => return Ok(closing(e.into_response())),
    };
    let timeout = state.limits.body_timeout;
    let body = match tokio::time::timeout(
        timeout,
        read_body(&parts.headers, body, state.max_body_bytes),
    )
    .await
    {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => return Ok(closing(e.into_response())),
        Err(_) => return Err(ApiError::request_timeout(timeout)),
    };
    let (schema, records) = parse_body(format, &body)?;
    if format == BodyFormat::Csv && schema.is_none() && state.env_schema.is_none() {
        return Err(ApiError::bad_request(NO_SCHEMA));
    }
    let prepared = state.prepared(schema).await?;
    let scored = state.scorer.score(Arc::clone(&prepared), records).await?;
    let text = render::render(
        &scored.column,
        scored.rows.as_deref(),
        scored.records,
        accept,
        prepared.output.structure,
        &state.data_limits.render,
    )?;
    let mut response = Response::new(Body::from(text));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(accept.content_type()),
    );
    Ok(response)
}

/// `response` with `Connection: close`: for an answer given before the request body was read
/// whole.
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// How far past the limit an oversized body is still read (and dropped) before the 413 is sent,
/// so that a client that writes its whole body before reading the answer gets the 413 instead of
/// a broken connection.
const DRAIN_BYTES: u64 = 16 * 1024 * 1024;

/// Collects a request body of at most `limit` bytes; a larger one (declared or actual) is a 413.
/// A body that arrives in one piece is kept as it is, without a copy.
async fn read_body<B>(headers: &HeaderMap, body: B, limit: usize) -> Result<Bytes, ApiError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Display,
{
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || ApiError::payload_too_large(limit);
    if declared.is_some_and(|n| n > limit as u64 + DRAIN_BYTES) {
        return Err(too_large()); // not worth reading: the connection closes after the answer
    }
    let mut body = std::pin::pin!(body);
    let mut first: Option<Bytes> = None;
    let mut more: Option<BytesMut> = None;
    let mut total = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}")))?;
        let Ok(chunk) = frame.into_data() else {
            continue; // trailers
        };
        total += chunk.len() as u64;
        if total > limit as u64 || declared.is_some_and(|n| n > limit as u64) {
            // over the limit: drop what was kept and read on (up to DRAIN_BYTES more)
            first = None;
            more = None;
            if total > limit as u64 + DRAIN_BYTES {
                return Err(too_large());
            }
            continue;
        }
        match (&mut first, &mut more) {
            (None, _) => first = Some(chunk),
            (Some(f), None) => {
                let capacity = declared.unwrap_or(total) as usize;
                let mut all = BytesMut::with_capacity(capacity);
                all.extend_from_slice(f);
                all.extend_from_slice(&chunk);
                more = Some(all);
            }
            (Some(_), Some(all)) => all.extend_from_slice(&chunk),
        }
    }
    if total > limit as u64 || declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    Ok(match (first, more) {
        (_, Some(all)) => all.freeze(),
        (Some(f), None) => f,
        (None, None) => Bytes::new(),
    })
}

fn route_name(path: &str) -> &'static str {
    match path {
        "/invocations" | "/invocations/" => "invocations",
        "/ping" | "/ping/" => "ping",
        "/execution-parameters" | "/execution-parameters/" => "execution-parameters",
        "/metrics" | "/metrics/" => "metrics",
        _ => "other",
    }
}

/// Counts a response, times `/invocations`, logs it with its request id and returns it with
/// the id header.
///
/// Log levels: a 2xx/3xx is DEBUG; a 5xx other than 503 is ERROR; a 4xx (INFO) or a 503 (WARN,
/// the server at a capacity limit) is rate-limited to `log_rejected_per_sec` lines a second,
/// the others going to DEBUG, and the number not logged at INFO is logged with the next line
/// that is. The client's request id and the error message are quoted through
/// [`Shown`]/[`shown_message`], so they stay short and on one line.
fn track(
    state: &Worker,
    route: &'static str,
    method: &Method,
    id: HeaderValue,
    started: Instant,
    mut response: Response,
) -> Response {
    let status = response.status();
    state.metrics.request(route, status.as_u16());
    let elapsed = started.elapsed();
    if route == "invocations" {
        state.metrics.invocation(elapsed.as_secs_f64());
    }
    if status.is_client_error()
        || status.is_server_error()
        || tracing::enabled!(tracing::Level::DEBUG)
    {
        log_response(state, route, method, &id, elapsed, &response);
    }
    response.headers_mut().insert("x-request-id", id);
    response
}

fn log_response(
    state: &Worker,
    route: &'static str,
    method: &Method,
    id: &HeaderValue,
    elapsed: std::time::Duration,
    response: &Response,
) {
    let status = response.status();
    let code = status.as_u16();
    let micros = elapsed.as_micros() as u64;
    let request_id = Shown(id.to_str().unwrap_or("(not text)"));
    let error = response
        .extensions()
        .get::<error::ErrorMessage>()
        .map(|m| shown_message(&m.0))
        .unwrap_or_default();
    let rejected = status.is_client_error() || status == StatusCode::SERVICE_UNAVAILABLE;
    if !rejected {
        if status.is_server_error() {
            tracing::error!(request_id = %request_id, %method, route, status = code, micros, error, "request failed");
        } else {
            tracing::debug!(request_id = %request_id, %method, route, status = code, micros, "request");
        }
        return;
    }
    let verdict = state.rejected_log.check();
    if verdict.suppressed_before > 0 {
        tracing::info!(
            suppressed = verdict.suppressed_before,
            "{} rejected requests were logged at DEBUG only: at most {} a second are logged at \
             INFO ({})",
            verdict.suppressed_before,
            state.limits.log_rejected_per_sec,
            flags::LOG_REJECTED
        );
    }
    match (verdict.pass, status == StatusCode::SERVICE_UNAVAILABLE) {
        (true, true) => {
            tracing::warn!(request_id = %request_id, %method, route, status = code, micros, error, "request refused")
        }
        (true, false) => {
            tracing::info!(request_id = %request_id, %method, route, status = code, micros, error, "request rejected")
        }
        (false, _) => {
            tracing::debug!(request_id = %request_id, %method, route, status = code, micros, error, "request rejected")
        }
    }
}

/// Resolves when SIGINT or SIGTERM arrives.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// A bound, ready server.
pub struct Server {
    listener: tokio::net::TcpListener,
    workers: usize,
    state: Arc<AppState>,
    /// The open-connection cap in force (fitted to the file-descriptor limit).
    max_connections: usize,
}

/// The largest read buffer of a connection: bounds a request head (a larger one is answered
/// 431) and what a connection holds while it waits for the rest of one.
const MAX_CONNECTION_BUFFER: usize = 64 * 1024;

/// Counts an open connection in `ember_connections_open` (and, shed, in the shedding gauge)
/// until dropped.
struct OpenConn {
    metrics: Arc<Metrics>,
    shed: bool,
}

impl OpenConn {
    /// Counts a connection just accepted; returns it with the number open now.
    fn new(metrics: &Arc<Metrics>) -> (Self, usize) {
        let n = metrics.connections.open.fetch_add(1, Ordering::Relaxed) + 1;
        let open = Self {
            metrics: Arc::clone(metrics),
            shed: false,
        };
        (open, n)
    }

    /// Counts it as shed too.
    fn shed(&mut self) {
        self.metrics
            .connections
            .shedding
            .fetch_add(1, Ordering::Relaxed);
        self.shed = true;
    }
}

impl Drop for OpenConn {
    fn drop(&mut self) {
        let c = &self.metrics.connections;
        c.open.fetch_sub(1, Ordering::Relaxed);
        if self.shed {
            c.shedding.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// A connection handed from the acceptor to a serving thread.
type Handed = (std::net::TcpStream, SocketAddr, OpenConn);

/// One serving thread: serves the connections the acceptor hands it with HTTP/1.1 until `stop`
/// turns true, then lets each connection finish its request in flight for at most the
/// shutdown grace period, and closes those still open after it.
async fn serve_thread(
    state: Arc<AppState>,
    mut handed: tokio::sync::mpsc::UnboundedReceiver<Handed>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let limits = state.limits;
    let metrics = Arc::clone(&state.metrics);
    let service = service(state);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .max_buf_size(MAX_CONNECTION_BUFFER)
        .max_header_size(MAX_CONNECTION_BUFFER);
    let mut connections = tokio::task::JoinSet::new();
    let mut stopping = stop.clone();
    loop {
        let (stream, peer, open) = tokio::select! {
            biased;
            () = async { let _ = stopping.wait_for(|s| *s).await; } => break,
            h = handed.recv() => match h {
                Some(h) => h,
                None => break, // the acceptor stopped
            },
            // reap finished connections as they end
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let io = match tokio::net::TcpStream::from_std(stream) {
            Ok(io) => io,
            Err(e) => {
                tracing::warn!(error = %e, %peer, "cannot take over a connection");
                continue;
            }
        };
        let _ = io.set_nodelay(true);
        let watch = Arc::new(ConnState::new());
        let service = service.for_connection(Arc::clone(&watch));
        let builder = builder.clone();
        let metrics = Arc::clone(&metrics);
        let mut stop = stop.clone();
        connections.spawn(async move {
            let _open = open;
            let io = hyper_util::rt::TokioIo::new(Watched::new(io, Arc::clone(&watch)));
            let conn = builder.serve_connection(io, service);
            let mut conn = std::pin::pin!(conn);
            let expired = watch.expired(&limits);
            let mut expired = std::pin::pin!(expired);
            let served = tokio::select! {
                biased;
                r = conn.as_mut() => Ok(r),
                phase = expired.as_mut() => Err(phase),
                () = async { let _ = stop.wait_for(|s| *s).await; } => {
                    // finish the request in flight, then close
                    conn.as_mut().graceful_shutdown();
                    tokio::select! {
                        r = conn.as_mut() => Ok(r),
                        phase = expired.as_mut() => Err(phase),
                    }
                }
            };
            match served {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::debug!(error = %e, %peer, "connection ended with an error"),
                Err(phase) => {
                    let c = &metrics.connections;
                    match phase {
                        Phase::Headers => c.timed_out_headers.fetch_add(1, Ordering::Relaxed),
                        Phase::Idle => c.timed_out_idle.fetch_add(1, Ordering::Relaxed),
                    };
                    tracing::debug!(%peer, ?phase, "connection closed by its timeout");
                }
            }
        });
    }
    drop(handed); // connections handed but not taken are closed
    let grace = tokio::time::sleep(limits.shutdown_grace);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            r = connections.join_next() => if r.is_none() { break },
            () = &mut grace => {
                let left = connections.len();
                metrics.connections.aborted.fetch_add(left as u64, Ordering::Relaxed);
                tracing::warn!(
                    connections = left,
                    "the shutdown grace period of {} s is over: closing the connections still \
                     open ({})",
                    limits.shutdown_grace.as_secs_f64(),
                    flags::SHUTDOWN_GRACE
                );
                connections.abort_all();
                while connections.join_next().await.is_some() {}
                break;
            }
        }
    }
}

/// Serves a connection over the connection cap: one request, read with a short header
/// timeout; `GET /ping` is 200, anything else 503 with `Retry-After`; then the connection
/// closes.
async fn shed_connection(
    stream: tokio::net::TcpStream,
    open: OpenConn,
    state: Arc<AppState>,
    cap: usize,
) {
    let _open = open;
    let _ = stream.set_nodelay(true);
    let timeout = conn::SHED_HEADER_TIMEOUT.min(state.limits.header_timeout);
    let metrics = Arc::clone(&state.metrics);
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let route = route_name(req.uri().path());
        let response = if route == "ping" && req.method() == Method::GET {
            metrics.request(route, 200);
            Response::new(Body::empty())
        } else {
            metrics.request(route, 503);
            ApiError::overloaded(format_args!(
                "{cap} open connections ({})",
                flags::MAX_CONNECTIONS
            ))
            .into_response()
        };
        std::future::ready(Ok::<_, std::convert::Infallible>(response))
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(timeout)
        .keep_alive(false)
        .max_buf_size(MAX_CONNECTION_BUFFER)
        .max_header_size(MAX_CONNECTION_BUFFER);
    let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    // the answer is tiny: writing it is bounded too
    let _ = tokio::time::timeout(timeout * 2, conn).await;
}

impl Server {
    /// Loads the model and binds the listener (call inside a Tokio runtime). Raises the soft
    /// open-file limit to the hard one, and lowers the connection cap to fit it.
    pub async fn bind(config: &ServeConfig) -> Result<Self, String> {
        let state = AppState::load(config)?;
        let addr = format!("{}:{}", config.host, config.port);
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let workers = match config.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let wanted = config.conn.max_connections;
        let max_connections = match conn::raise_fd_limit() {
            Some(fds) => {
                let cap = conn::fitting_cap(wanted, fds);
                if cap < wanted {
                    tracing::warn!(
                        "the connection cap of {wanted} ({}) is lowered to {cap} to fit the \
                         open-file limit of {fds} (less {} kept for the model, the runtime and \
                         shed connections)",
                        flags::MAX_CONNECTIONS,
                        conn::FD_HEADROOM + conn::SHED_SLOTS
                    );
                }
                cap
            }
            None => wanted.max(1),
        };
        Ok(Self {
            listener,
            workers,
            state,
            max_connections,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The server's state (model, metrics).
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// The open-connection cap in force (`--max-connections`, fitted to the open-file limit).
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// Serves until `shutdown` resolves (or a serving thread fails), then finishes in-flight
    /// requests on every thread within the shutdown grace period and closes the rest.
    ///
    /// This task accepts connections and hands them round-robin to the serving threads; each
    /// thread runs its own single-threaded runtime, so a connection's requests are read,
    /// scored and answered on one thread with no hand-off between threads. Connections over
    /// the cap are served here, in shedding mode (see [`conn::SHED_SLOTS`]).
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
        let mut hand = Vec::with_capacity(self.workers);
        for i in 0..self.workers {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            hand.push(tx);
            let state = Arc::clone(&self.state);
            let stop = stop_rx.clone();
            let done = done_tx.clone();
            std::thread::Builder::new()
                .name(format!("ember-http-{i}"))
                .spawn(move || {
                    let served = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map(|rt| {
                            rt.block_on(serve_thread(state, rx, stop));
                            // do not wait long for blocking scoring tasks still running
                            rt.shutdown_timeout(std::time::Duration::from_secs(1));
                        });
                    let _ = done.send(served);
                })?;
        }
        drop(done_tx);
        let metrics = Arc::clone(&self.state.metrics);
        let cap = self.max_connections;
        let accept_log = Throttled::new(std::time::Duration::from_secs(10));
        let cap_log = Throttled::new(std::time::Duration::from_secs(10));
        const MIN_BACKOFF: std::time::Duration = std::time::Duration::from_millis(5);
        let mut backoff = MIN_BACKOFF;
        let mut shed = tokio::task::JoinSet::new();
        let mut shed_slots: std::collections::VecDeque<tokio::task::AbortHandle> =
            std::collections::VecDeque::with_capacity(conn::SHED_SLOTS);
        let mut result = Ok(());
        let mut finished = 0;
        let mut next = 0usize;
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                r = done_rx.recv() => {
                    finished += 1;
                    if let Some(Err(e)) = r {
                        result = Err(e);
                    }
                    break;
                }
                Some(_) = shed.join_next(), if !shed.is_empty() => {}
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        backoff = MIN_BACKOFF;
                        let (mut open, n) = OpenConn::new(&metrics);
                        if n <= cap {
                            match stream.into_std() {
                                Ok(stream) => {
                                    let _ = hand[next % hand.len()].send((stream, peer, open));
                                    next = next.wrapping_add(1);
                                }
                                Err(e) => tracing::warn!(error = %e, "cannot hand over a connection"),
                            }
                            continue;
                        }
                        // over the cap: shed it; with every shedding slot taken, the oldest shed
                        // connection (the one silent longest) makes room, so a client that
                        // sends its request at once (a health check) is answered even while
                        // silent connections flood in
                        open.shed();
                        metrics.connections.shed.fetch_add(1, Ordering::Relaxed);
                        shed_slots.retain(|h| !h.is_finished());
                        if shed_slots.len() >= conn::SHED_SLOTS
                            && let Some(oldest) = shed_slots.pop_front()
                        {
                            oldest.abort();
                            metrics.connections.evicted.fetch_add(1, Ordering::Relaxed);
                        }
                        shed_slots.push_back(shed.spawn(shed_connection(
                            stream,
                            open,
                            Arc::clone(&self.state),
                            cap,
                        )));
                        if let Some(count) = cap_log.hit() {
                            tracing::warn!(
                                connections = count,
                                "open connections are at the cap of {cap} ({}): new ones are \
                                 shed (GET /ping 200, anything else 503 with Retry-After; past \
                                 {} shed at a time the oldest is closed) (logged at most every \
                                 10 s)",
                                flags::MAX_CONNECTIONS,
                                conn::SHED_SLOTS
                            );
                        }
                    }
                    Err(e) => {
                        // e.g. out of file descriptors: back off (up to 1 s) instead of
                        // spinning, and log once per interval
                        metrics.connections.accept_errors.fetch_add(1, Ordering::Relaxed);
                        if let Some(count) = accept_log.hit() {
                            tracing::warn!(error = %e, failures = count, "accept failed; backing off (logged at most every 10 s)");
                        }
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(std::time::Duration::from_secs(1));
                    }
                },
            }
        }
        drop(self.listener);
        let _ = stop_tx.send(true);
        drop(hand);
        shed.abort_all();
        // every thread ends within the grace period (it then aborts its connections); do not
        // wait for ever on one that does not
        let deadline = tokio::time::Instant::now()
            + self.state.limits.shutdown_grace
            + std::time::Duration::from_secs(3);
        while finished < self.workers {
            match tokio::time::timeout_at(deadline, done_rx.recv()).await {
                Ok(Some(Err(e))) if result.is_ok() => result = Err(e),
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => {
                    tracing::error!("a serving thread did not stop in time; exiting anyway");
                    break;
                }
            }
            finished += 1;
        }
        result
    }
}
