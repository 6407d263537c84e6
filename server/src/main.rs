//! The `ember` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ember_engine::io::DataFormat;
use ember_engine::{BundleLimits, Pipeline};
use ember_server::score::{ScoreOptions, score, stop_on_signals};
use ember_server::serve::conn::ConnLimits;
use ember_server::serve::contract::{DEFAULT_MAX_SCHEMA_COLUMNS, DataLimits};
use ember_server::serve::render::{DEFAULT_MAX_DENSE_SIZE, DEFAULT_MAX_RESPONSE_MB, RenderLimits};
use ember_server::serve::scorer::Coalesce;
use ember_server::serve::{ACCEPT_ENV, SCHEMA_ENV, ServeConfig, Server, shutdown_signal};
use ember_udfs::vector::DEFAULT_MAX_VECTOR_SIZE;
use std::time::Duration;

/// mimalloc: a request allocates a few dozen small Arrow buffers, and glibc's malloc showed as a
/// fifth of the server's CPU in `perf` (benches/http_side_by_side.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Run Apache Spark ML pipelines without Spark and without a JVM.
#[derive(Parser, Debug)]
#[command(name = "ember", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Score files with a pipeline: CSV, JSON lines or Parquet in; Parquet, CSV or JSON lines out.
    Score {
        /// The model: a Spark PipelineModel directory or an MLeap bundle (directory, .zip,
        /// model.tar.gz).
        #[arg(long, short)]
        model: PathBuf,
        /// Largest decompressed size of an archived MLeap bundle, in MB.
        #[arg(long, default_value_t = DEFAULT_BUNDLE_MB)]
        max_bundle_mb: u64,
        /// Largest single model file (MLeap bundle.json/node/model/tree files, Spark metadata
        /// files), in MB.
        #[arg(long, default_value_t = DEFAULT_MODEL_FILE_MB)]
        max_model_file_mb: u64,
        /// Input file; repeat to read several files in order as one input.
        #[arg(long = "input", short, required = true)]
        inputs: Vec<PathBuf>,
        /// Output file (replaced only once scoring succeeds; a symlink is followed and kept), or
        /// `-` for standard output; a FIFO or character device is streamed to.
        #[arg(long, short)]
        output: PathBuf,
        /// Input format when the extension does not tell: csv, jsonl, parquet.
        #[arg(long, value_parser = parse_format)]
        input_format: Option<DataFormat>,
        /// Output format when the extension does not tell: parquet, csv, jsonl.
        #[arg(long, value_parser = parse_format)]
        output_format: Option<DataFormat>,
        /// Output columns to keep, comma-separated, in this order (default: all).
        #[arg(long, value_delimiter = ',')]
        select: Option<Vec<String>>,
        /// Rows per batch.
        #[arg(long, default_value_t = 8192)]
        batch_size: usize,
        /// Partitions scored in parallel (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Never draw a progress bar.
        #[arg(long)]
        quiet: bool,
        /// Largest declared size of a vector in Spark's text form (`(size,[indices],[values])`)
        /// in CSV or JSON input; a larger one fails the run naming the column (at most
        /// 2147483647, Spark's bound).
        #[arg(long, default_value_t = DEFAULT_MAX_VECTOR_SIZE)]
        max_vector_size: usize,
    },
    /// Serve the SageMaker SparkML Serving contract over HTTP (GET /ping, GET
    /// /execution-parameters, POST /invocations, GET /metrics).
    Serve {
        /// The model: a Spark PipelineModel directory or an MLeap bundle (directory, .zip,
        /// model.tar.gz).
        #[arg(long, short, default_value = "/opt/ml/model")]
        model: PathBuf,
        /// Largest decompressed size of an archived MLeap bundle, in MB.
        #[arg(long, default_value_t = DEFAULT_BUNDLE_MB)]
        max_bundle_mb: u64,
        /// Largest single model file (MLeap bundle.json/node/model/tree files, Spark metadata
        /// files), in MB.
        #[arg(long, default_value_t = DEFAULT_MODEL_FILE_MB)]
        max_model_file_mb: u64,
        /// Address to listen on.
        #[arg(long, default_value = "0.0.0.0")]
        host: String,
        /// Port to listen on.
        #[arg(long, env = "SAGEMAKER_BIND_TO_PORT", default_value_t = 8080)]
        port: u16,
        /// Largest request body in MB (larger requests get 413).
        #[arg(long, default_value_t = 6)]
        max_body_mb: usize,
        /// Coalesce concurrent requests into one batch: `off`, or the longest wait in
        /// microseconds for more requests once one is queued (`0`: only those already queued).
        #[arg(long, default_value = "0")]
        coalesce: String,
        /// Records per coalesced batch at most.
        #[arg(long, default_value_t = 1024)]
        coalesce_max_records: usize,
        /// Serving threads, each with its own single-threaded runtime and batcher; one
        /// listener, whose acceptor hands them connections round-robin (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
        // connection limits and timeouts (docs/SERVING.md, "Connections, timeouts and shutdown")
        /// Seconds a new connection has to send its first request head, and a request head
        /// that has begun has to complete; then the connection is closed.
        #[arg(long, env = "EMBER_HEADER_TIMEOUT_SECS", default_value_t = 10)]
        header_timeout_secs: u64,
        /// Seconds a request body has to arrive whole after its head; then 408.
        #[arg(long, env = "EMBER_BODY_TIMEOUT_SECS", default_value_t = 60)]
        body_timeout_secs: u64,
        /// Seconds a keep-alive connection may sit idle between requests before it is closed
        /// (longer than the 60 s idle timeout of AWS's load balancers, so they close first).
        #[arg(long, env = "EMBER_IDLE_TIMEOUT_SECS", default_value_t = 75)]
        idle_timeout_secs: u64,
        /// Open connections at most (lowered to fit the open-file limit); over it a connection
        /// is shed: `GET /ping` 200, anything else 503 with Retry-After.
        #[arg(long, env = "EMBER_MAX_CONNECTIONS", default_value_t = 1024)]
        max_connections: usize,
        /// `POST /invocations` requests in flight per serving thread at most; more get 503
        /// with Retry-After.
        #[arg(long, env = "EMBER_MAX_IN_FLIGHT", default_value_t = 128)]
        max_in_flight: usize,
        /// Seconds SIGTERM / SIGINT leave in-flight requests to finish before the remaining
        /// connections are closed (SageMaker sends SIGKILL 30 s after SIGTERM).
        #[arg(long, env = "EMBER_SHUTDOWN_GRACE_SECS", default_value_t = 25)]
        shutdown_grace_secs: u64,
        /// Rejected (4xx) and refused (503) requests logged per second at most at INFO/WARN;
        /// the rest at DEBUG, with a count of them at INFO.
        #[arg(long, env = "EMBER_LOG_REJECTED_PER_SEC", default_value_t = 10)]
        log_rejected_per_sec: u32,
        /// Largest declared size of a vector in Spark's text form (`(size,[indices],[values])`)
        /// in a request; a larger one is a 400 naming the column (at most 2147483647, Spark's
        /// bound).
        #[arg(long, default_value_t = DEFAULT_MAX_VECTOR_SIZE)]
        max_vector_size: usize,
        /// Sparse output vectors up to this size are rendered dense, as the SageMaker container
        /// renders every vector; larger ones are rendered sparse: `(size,[indices],[values])`,
        /// or `{"size":..,"indices":[..],"values":[..]}` with application/jsonlines.
        #[arg(long, default_value_t = DEFAULT_MAX_DENSE_SIZE)]
        max_dense_output_size: usize,
        /// Largest answer body in MB; a request whose answer would be longer gets 413.
        #[arg(long, default_value_t = DEFAULT_MAX_RESPONSE_MB)]
        max_response_mb: usize,
        /// Most input columns a schema (a request's or SAGEMAKER_SPARKML_SCHEMA) may declare;
        /// more is a 400.
        #[arg(long, default_value_t = DEFAULT_MAX_SCHEMA_COLUMNS)]
        max_schema_columns: usize,
    },
    /// Describe a model: its stages, the input columns it needs and the columns it produces.
    Inspect {
        /// The model: a Spark PipelineModel directory or an MLeap bundle (directory, .zip,
        /// model.tar.gz).
        #[arg(long, short)]
        model: PathBuf,
        /// Largest decompressed size of an archived MLeap bundle, in MB.
        #[arg(long, default_value_t = DEFAULT_BUNDLE_MB)]
        max_bundle_mb: u64,
        /// Largest single model file (MLeap bundle.json/node/model/tree files, Spark metadata
        /// files), in MB.
        #[arg(long, default_value_t = DEFAULT_MODEL_FILE_MB)]
        max_model_file_mb: u64,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// The default `--max-bundle-mb` (2 GiB, [`BundleLimits::default`]).
const DEFAULT_BUNDLE_MB: u64 = ember_engine::formats::mleap::files::DEFAULT_MAX_BUNDLE_MB;

/// The default `--max-model-file-mb` (256 MiB, [`BundleLimits::default`]).
const DEFAULT_MODEL_FILE_MB: u64 = ember_engine::formats::mleap::files::DEFAULT_MAX_FILE_MB;

fn limits(bundle_mb: u64, model_file_mb: u64) -> BundleLimits {
    BundleLimits::with_max_mb(bundle_mb).with_max_file_mb(model_file_mb)
}

fn parse_format(s: &str) -> Result<DataFormat, String> {
    DataFormat::parse(s).ok_or_else(|| format!("unknown format '{s}' (csv, jsonl, parquet)"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ember: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Serve {
            model,
            max_bundle_mb,
            max_model_file_mb,
            host,
            port,
            max_body_mb,
            coalesce,
            coalesce_max_records,
            threads,
            header_timeout_secs,
            body_timeout_secs,
            idle_timeout_secs,
            max_connections,
            max_in_flight,
            shutdown_grace_secs,
            log_rejected_per_sec,
            max_vector_size,
            max_dense_output_size,
            max_response_mb,
            max_schema_columns,
        } => {
            tracing_subscriber::fmt()
                .with_env_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
                )
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .init();
            let coalesce = match coalesce.as_str() {
                "off" | "false" | "no" => Coalesce::Off,
                us => Coalesce::On {
                    window: std::time::Duration::from_micros(us.parse().map_err(|_| {
                        format!("--coalesce: expected off or microseconds, got '{us}'")
                    })?),
                    max_records: coalesce_max_records,
                },
            };
            let config = ServeConfig {
                model,
                host,
                port,
                max_body_bytes: max_body_mb.saturating_mul(1024 * 1024),
                coalesce,
                schema: std::env::var(SCHEMA_ENV).ok(),
                default_accept: std::env::var(ACCEPT_ENV).ok(),
                bundle_limits: limits(max_bundle_mb, max_model_file_mb),
                workers: threads.unwrap_or(0),
                conn: ConnLimits {
                    header_timeout: Duration::from_secs(header_timeout_secs.max(1)),
                    body_timeout: Duration::from_secs(body_timeout_secs.max(1)),
                    idle_timeout: Duration::from_secs(idle_timeout_secs.max(1)),
                    max_connections: max_connections.max(1),
                    max_in_flight: max_in_flight.max(1),
                    shutdown_grace: Duration::from_secs(shutdown_grace_secs),
                    log_rejected_per_sec,
                },
                data_limits: DataLimits {
                    max_schema_columns,
                    max_vector_size,
                    render: RenderLimits {
                        max_dense_size: max_dense_output_size,
                        max_response_bytes: max_response_mb.saturating_mul(1024 * 1024),
                    },
                },
            };
            // this runtime only loads, binds and waits for a signal: each serving thread runs
            // its own (see ServeConfig::workers)
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let server = Server::bind(&config).await?;
                let addr = server.local_addr().map_err(|e| e.to_string())?;
                let p = server.state().pipeline();
                tracing::info!(
                    model = %config.model.display(),
                    stages = p.stages().len(),
                    schema = server.state().has_default_schema(),
                    "ember serving on http://{addr}"
                );
                server
                    .run(shutdown_signal())
                    .await
                    .map_err(|e| e.to_string())
            })?;
            Ok(())
        }
        Command::Inspect {
            model,
            max_bundle_mb,
            max_model_file_mb,
            json,
        } => {
            let p = Pipeline::load_with_limits(&model, limits(max_bundle_mb, max_model_file_mb))?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&ember_server::inspect::to_json(&p))?
                );
            } else {
                print!("{}", ember_server::inspect::to_text(&p));
            }
            Ok(())
        }
        Command::Score {
            model,
            max_bundle_mb,
            max_model_file_mb,
            inputs,
            output,
            input_format,
            output_format,
            select,
            batch_size,
            threads,
            quiet,
            max_vector_size,
        } => {
            ember_udfs::vector::set_max_vector_size(max_vector_size);
            let pipeline =
                Pipeline::load_with_limits(&model, limits(max_bundle_mb, max_model_file_mb))?;
            let mut opts = ScoreOptions::new(inputs, output);
            opts.input_format = input_format;
            opts.output_format = output_format;
            opts.select = select;
            opts.batch_size = batch_size;
            if let Some(t) = threads {
                opts.threads = t;
            }
            opts.progress = !quiet;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(opts.threads.max(1))
                .enable_all()
                .build()?;
            // before any output file exists: a signal removes the partial output and exits
            // 130 (SIGINT) or 143 (SIGTERM)
            stop_on_signals(&rt)?;
            let summary = rt.block_on(score(&pipeline, &opts))?;
            eprintln!(
                "ember: {} -> {}: {summary}",
                opts.inputs
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                opts.output.display()
            );
            Ok(())
        }
    }
}
