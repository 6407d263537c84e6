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
use http_body_util::BodyExt;

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
    limits: DataLimits,
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
            limits: config.data_limits,
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
        let max_columns = self.limits.max_schema_columns;
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
    let worker = Arc::new(Worker {
        scorer: Scorer::new(state.coalesce, Arc::clone(&state.metrics)),
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
    HttpService { worker, router }
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
        if route == "invocations" && method == Method::POST {
            Box::pin(async move {
                let response = invocations(&worker, req).await;
                Ok(track(&worker, route, &method, id, started, response))
            })
        } else {
            let routed = tower_service::Service::call(&mut self.router.clone(), req.map(Body::new));
            Box::pin(async move {
                let response = match routed.await {
                    Ok(r) => r,
                    Err(never) => match never {},
                };
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
    let format =
        body_format(content_type).ok_or_else(|| ApiError::unsupported_media(content_type))?;
    let accept = parse_accept(
        parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    )?
    .unwrap_or(state.default_accept);
    let body = read_body(&parts.headers, body, state.max_body_bytes).await?;
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
        &state.limits.render,
    )?;
    let mut response = Response::new(Body::from(text));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(accept.content_type()),
    );
    Ok(response)
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
    let shown = id.to_str().unwrap_or("(not text)");
    let message = response
        .extensions()
        .get::<error::ErrorMessage>()
        .map(|m| m.0.as_str())
        .unwrap_or("");
    if status.is_server_error() {
        tracing::error!(request_id = shown, %method, route, status = status.as_u16(), micros = elapsed.as_micros() as u64, message, "request failed");
    } else if status.is_client_error() {
        tracing::info!(request_id = shown, %method, route, status = status.as_u16(), micros = elapsed.as_micros() as u64, message, "request rejected");
    } else {
        tracing::debug!(request_id = shown, %method, route, status = status.as_u16(), micros = elapsed.as_micros() as u64, "request");
    }
    response.headers_mut().insert("x-request-id", id);
    response
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
}

/// A connection handed from the acceptor to a serving thread.
type Handed = (std::net::TcpStream, SocketAddr);

/// One serving thread: serves the connections the acceptor hands it with HTTP/1.1 until `stop`
/// turns true, then lets each connection finish its request in flight and waits for them.
async fn serve_thread(
    state: Arc<AppState>,
    mut handed: tokio::sync::mpsc::UnboundedReceiver<Handed>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let service = service(state);
    let mut connections = tokio::task::JoinSet::new();
    let mut stopping = stop.clone();
    loop {
        let (stream, peer) = tokio::select! {
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
        let service = service.clone();
        let mut stop = stop.clone();
        connections.spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(io), service);
            let mut conn = std::pin::pin!(conn);
            let served = tokio::select! {
                biased;
                r = conn.as_mut() => r,
                () = async { let _ = stop.wait_for(|s| *s).await; } => {
                    // finish the request in flight, then close
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = served {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    while connections.join_next().await.is_some() {}
}

impl Server {
    /// Loads the model and binds the listener (call inside a Tokio runtime).
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
        Ok(Self {
            listener,
            workers,
            state,
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

    /// Serves until `shutdown` resolves (or a serving thread fails), then finishes in-flight
    /// requests on every thread.
    ///
    /// This task accepts connections and hands them round-robin to the serving threads; each
    /// thread runs its own single-threaded runtime, so a connection's requests are read,
    /// scored and answered on one thread with no hand-off between threads.
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
                        .map(|rt| rt.block_on(serve_thread(state, rx, stop)));
                    let _ = done.send(served);
                })?;
        }
        drop(done_tx);
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
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, peer)) => match stream.into_std() {
                        Ok(stream) => {
                            let _ = hand[next % hand.len()].send((stream, peer));
                            next = next.wrapping_add(1);
                        }
                        Err(e) => tracing::warn!(error = %e, "cannot hand over a connection"),
                    },
                    Err(e) => {
                        // e.g. out of file descriptors: back off instead of spinning
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                },
            }
        }
        drop(self.listener);
        let _ = stop_tx.send(true);
        drop(hand);
        while finished < self.workers {
            match done_rx.recv().await {
                Some(Err(e)) if result.is_ok() => result = Err(e),
                Some(_) => {}
                None => break,
            }
            finished += 1;
        }
        result
    }
}
