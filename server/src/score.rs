//! `ember score`: files in, scored files out, as one streaming DataFusion plan.
//!
//! The plan is `inputs (one ordered stream, numbered rows) → repartition across cores →
//! pipeline projections and filters → merge back in row order → writer`. Memory stays bounded
//! by a few batches per core however large the input, every core scores, and rows come out in
//! input order. A file output is written to a temporary file beside the target and renamed into
//! place only when everything succeeded; the temporary file is removed on any error, panic,
//! SIGINT or SIGTERM. `-` (standard output), a FIFO or a character device is streamed instead
//! (see [`OutputTarget`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use datafusion::logical_expr::{ScalarUDF, col, ident};
use datafusion::prelude::{SessionConfig, SessionContext};
use ember_engine::io::{
    DataFormat, Inputs, LineFormat, ROW_COLUMN, RenderLinesUdf, Sink, SinkOutput,
    number_stage_errors,
};

/// Column holding rendered CSV/JSON lines inside the plan.
const LINE_COLUMN: &str = "__ember_line";
use ember_engine::formats::file_kind_name;
use ember_engine::{EmberError, Pipeline, Result};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What to score and where to write it.
#[derive(Debug, Clone)]
pub struct ScoreOptions {
    /// Input files, read in order as one input.
    pub inputs: Vec<PathBuf>,
    /// Input format (default: from the first input's extension).
    pub input_format: Option<DataFormat>,
    /// Output file.
    pub output: PathBuf,
    /// Output format (default: from the output's extension).
    pub output_format: Option<DataFormat>,
    /// Output columns to keep, in this order (default: all, as Spark's transform returns).
    pub select: Option<Vec<String>>,
    /// Rows per batch.
    pub batch_size: usize,
    /// Partitions scored in parallel (default: available cores).
    pub threads: usize,
    /// Draw a progress bar on stderr (only when it is a terminal).
    pub progress: bool,
}

impl ScoreOptions {
    /// Options for scoring `inputs` into `output` with defaults for the rest.
    pub fn new(inputs: Vec<PathBuf>, output: PathBuf) -> Self {
        Self {
            inputs,
            input_format: None,
            output,
            output_format: None,
            select: None,
            batch_size: 8192,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            progress: false,
        }
    }
}

/// What a scoring run did.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreSummary {
    /// Rows read.
    pub rows_in: u64,
    /// Rows written.
    pub rows_out: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl ScoreSummary {
    /// Rows dropped by stages with `handleInvalid = skip`.
    pub fn rows_skipped(&self) -> u64 {
        self.rows_in.saturating_sub(self.rows_out)
    }

    /// Input rows per second.
    pub fn rows_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.rows_in as f64 / self.seconds
        } else {
            0.0
        }
    }
}

impl std::fmt::Display for ScoreSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rows in {}, rows out {}, rows skipped {}, {:.2} s, {:.0} rows/s",
            self.rows_in,
            self.rows_out,
            self.rows_skipped(),
            self.seconds,
            self.rows_per_second()
        )
    }
}

/// Where `--output` sends the scored rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputTarget {
    /// `-`: standard output, streamed as rows are scored (not atomic).
    Stdout,
    /// An existing FIFO or character device (after following symlinks): opened for writing
    /// and streamed (not atomic); never replaced.
    Stream(PathBuf),
    /// A regular file, existing or not (after following symlinks, so a symlink is kept and
    /// its target replaced): written to a hidden temporary file in the same directory and
    /// renamed onto this path only once scoring succeeded.
    Atomic(PathBuf),
}

/// Symlinks followed at most, as the kernel does (`ELOOP`).
const MAX_LINKS: usize = 40;

fn output_error(output: &Path, message: impl Into<String>) -> EmberError {
    EmberError::Data {
        context: format!("--output {}", output.display()),
        message: message.into(),
    }
}

impl OutputTarget {
    /// What `output` is: checked before anything is read or written, so a directory or a
    /// missing parent directory is an error naming `output`, and no temporary file is made.
    pub fn resolve(output: &Path) -> Result<Self> {
        if output.as_os_str() == "-" {
            return Ok(Self::Stdout);
        }
        let mut path = output.to_path_buf();
        for _ in 0..MAX_LINKS {
            let via = if path == output {
                String::new()
            } else {
                format!(" (the symlink's target {})", path.display())
            };
            match std::fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => {
                    let target = std::fs::read_link(&path).map_err(|e| {
                        output_error(output, format!("cannot read the symlink{via}: {e}"))
                    })?;
                    path = match path.parent() {
                        Some(dir) if target.is_relative() => dir.join(target),
                        _ => target,
                    };
                }
                Ok(m) => {
                    let t = m.file_type();
                    if t.is_file() {
                        return Ok(Self::Atomic(path));
                    }
                    if is_stream(&t) {
                        return Ok(Self::Stream(path));
                    }
                    return Err(output_error(
                        output,
                        format!(
                            "is {}{via}; --output must be a file path, a FIFO, a character \
                             device or - (standard output)",
                            file_kind_name(&t)
                        ),
                    ));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let dir = parent_dir(&path);
                    return match std::fs::metadata(dir) {
                        Ok(m) if m.is_dir() => Ok(Self::Atomic(path)),
                        Ok(_) => Err(output_error(
                            output,
                            format!("{} is not a directory{via}", dir.display()),
                        )),
                        Err(_) => Err(output_error(
                            output,
                            format!("the directory {} does not exist{via}", dir.display()),
                        )),
                    };
                }
                Err(e) => return Err(output_error(output, format!("{e}{via}"))),
            }
        }
        Err(output_error(
            output,
            format!("more than {MAX_LINKS} levels of symlinks"),
        ))
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn is_stream(t: &std::fs::FileType) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        t.is_fifo() || t.is_char_device()
    }
    #[cfg(not(unix))]
    {
        let _ = t;
        false
    }
}

/// The temporary file of the run in progress, removed when a signal stops the run (see
/// [`stop_on_signals`]). Set and cleared under its lock, so a signal never misses a file.
static PARTIAL: Mutex<Option<PathBuf>> = Mutex::new(None);

fn partial_registry() -> std::sync::MutexGuard<'static, Option<PathBuf>> {
    PARTIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A hidden temporary file beside the output (`.NAME.ember-partial-XXXXXX`), removed when
/// dropped (an error, a panic) unless renamed onto the output by [`PartialOutput::persist`].
struct PartialOutput {
    temp: Option<tempfile::NamedTempFile>,
}

impl PartialOutput {
    fn create(target: &Path, output: &Path) -> Result<Self> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "output".into());
        let prefix = format!(".{name}.ember-partial-");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        #[cfg(unix)]
        {
            // what File::create gives (0666 less the umask), not tempfile's 0600
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let mut registry = partial_registry();
        let temp = builder
            .tempfile_in(parent_dir(target))
            .map_err(|source| EmberError::Io {
                path: output.to_path_buf(),
                source,
            })?;
        // replacing a file keeps its permissions
        if let Ok(m) = std::fs::metadata(target) {
            let _ = std::fs::set_permissions(temp.path(), m.permissions());
        }
        *registry = Some(temp.path().to_path_buf());
        Ok(Self { temp: Some(temp) })
    }

    fn file(&self, output: &Path) -> Result<SinkOutput> {
        let temp = self
            .temp
            .as_ref()
            .ok_or_else(|| output_error(output, "no file"))?;
        let file = temp
            .as_file()
            .try_clone()
            .map_err(|source| EmberError::Io {
                path: output.to_path_buf(),
                source,
            })?;
        Ok(Box::new(file))
    }

    fn persist(mut self, target: &Path, output: &Path) -> Result<()> {
        let mut registry = partial_registry();
        if let Some(temp) = self.temp.take() {
            // on failure the file comes back in the error and is removed as it drops
            temp.persist(target).map_err(|e| EmberError::Io {
                path: output.to_path_buf(),
                source: e.error,
            })?;
        }
        *registry = None;
        Ok(())
    }
}

impl Drop for PartialOutput {
    fn drop(&mut self) {
        let mut registry = partial_registry();
        drop(self.temp.take());
        *registry = None;
    }
}

/// A signal that stops `ember score`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGINT (Ctrl-C): exit status 130.
    Interrupt,
    /// SIGTERM: exit status 143.
    Terminate,
}

impl Stop {
    /// The shell's exit status for the signal (128 + its number).
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Interrupt => 130,
            Self::Terminate => 143,
        }
    }

    /// The signal's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
        }
    }
}

/// Installs SIGINT and SIGTERM handlers on `rt` (before scoring starts): on either, the
/// temporary output file of the run in progress is removed and the process exits with 130
/// (SIGINT) or 143 (SIGTERM). It runs on the runtime's workers, so a scoring thread blocked
/// writing to a FIFO does not delay it. A streamed output (stdout, a FIFO) keeps what was
/// written before the signal.
pub fn stop_on_signals(rt: &tokio::runtime::Runtime) -> std::io::Result<()> {
    let _enter = rt.enter();
    #[cfg(unix)]
    let stop = {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        async move {
            tokio::select! {
                _ = int.recv() => Stop::Interrupt,
                _ = term.recv() => Stop::Terminate,
            }
        }
    };
    #[cfg(not(unix))]
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
        Stop::Interrupt
    };
    rt.spawn(async move {
        let stop = stop.await;
        let mut registry = partial_registry();
        let removed = registry.take().map(|p| std::fs::remove_file(p).is_ok());
        eprintln!(
            "ember: stopped by {}{}",
            stop.name(),
            if removed == Some(true) {
                "; the partial output was removed"
            } else {
                ""
            }
        );
        std::process::exit(stop.exit_code().into());
    });
    Ok(())
}

/// Opens the output for the sink: standard output, the FIFO or device (opened on a blocking
/// thread, since opening a FIFO waits for a reader), or a temporary file beside the target.
async fn open_output(
    target: &OutputTarget,
    output: &Path,
) -> Result<(SinkOutput, Option<PartialOutput>)> {
    match target {
        OutputTarget::Stdout => Ok((Box::new(std::io::stdout()), None)),
        OutputTarget::Stream(path) => {
            let path = path.clone();
            let opened = tokio::task::spawn_blocking(move || {
                std::fs::OpenOptions::new().write(true).open(path)
            })
            .await
            .map_err(|e| output_error(output, e.to_string()))?;
            let file = opened.map_err(|source| EmberError::Io {
                path: output.to_path_buf(),
                source,
            })?;
            Ok((Box::new(file), None))
        }
        OutputTarget::Atomic(path) => {
            let partial = PartialOutput::create(path, output)?;
            Ok((partial.file(output)?, Some(partial)))
        }
    }
}

/// Scores `opts.inputs` with `pipeline` into `opts.output`.
pub async fn score(pipeline: &Pipeline, opts: &ScoreOptions) -> Result<ScoreSummary> {
    let started = Instant::now();
    let first = opts.inputs.first().ok_or_else(|| EmberError::Data {
        context: "score".into(),
        message: "no input files".into(),
    })?;
    let target = OutputTarget::resolve(&opts.output)?;
    let in_format = DataFormat::resolve(first, opts.input_format)?;
    let out_format = DataFormat::resolve(&opts.output, opts.output_format)?;
    let inputs = Inputs::open(&opts.inputs, in_format, pipeline, opts.batch_size)?;
    // compiled against the input's own columns first, so that no error (a missing column, a
    // wrong type) lists the internal row-number column
    let steps = pipeline.steps(inputs.schema())?;

    let config = SessionConfig::new()
        .with_target_partitions(opts.threads.max(1))
        .with_batch_size(opts.batch_size);
    let ctx = SessionContext::new_with_config(config);
    let df = ctx.read_table(Arc::new(inputs.table()?))?;
    let df = pipeline.transform(df)?;
    // a row a stage rejects is reported by its place in the input files (see `located`)
    let df = number_stage_errors(df, &steps.udfs())?;
    let available: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| n != ROW_COLUMN)
        .collect();
    let keep: Vec<String> = match &opts.select {
        None => available.clone(),
        Some(cols) => {
            for c in cols {
                if !available.contains(c) {
                    return Err(EmberError::Data {
                        context: format!("--select {c}"),
                        message: format!(
                            "no such output column (available: {})",
                            available.join(", ")
                        ),
                    });
                }
            }
            cols.clone()
        }
    };
    let selected = df
        .clone()
        .select(keep.iter().map(ident).collect::<Vec<_>>())?;
    let schema = Arc::new(selected.schema().as_arrow().clone());
    // CSV and JSON: render lines inside the parallel part of the plan, before the merge
    let line_format = LineFormat::for_output(out_format, &schema);
    let df = match &line_format {
        Some(format) => {
            let render = ScalarUDF::from(RenderLinesUdf::new(format.clone()));
            df.select(vec![
                render
                    .call(keep.iter().map(ident).collect())
                    .alias(LINE_COLUMN),
                col(ROW_COLUMN),
            ])?
            .sort(vec![col(ROW_COLUMN).sort(true, false)])?
            .select(vec![col(LINE_COLUMN)])?
        }
        None => df
            .sort(vec![col(ROW_COLUMN).sort(true, false)])?
            .select(keep.iter().map(ident).collect::<Vec<_>>())?,
    };

    let bar = progress_bar(opts.progress, &inputs);
    let progress = inputs.progress();
    let ticker = {
        let bar = bar.clone();
        let progress = Arc::clone(&progress);
        let parquet = in_format == DataFormat::Parquet;
        tokio::spawn(async move {
            loop {
                let p = if parquet {
                    &progress.rows
                } else {
                    &progress.bytes
                };
                bar.set_position(p.load(Ordering::Relaxed));
                bar.set_message(format!("{} rows", progress.rows.load(Ordering::Relaxed)));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    let result = async {
        let (out, partial) = open_output(&target, &opts.output).await?;
        let mut sink = Sink::new(out, out_format, &schema)?;
        let mut stream = df.execute_stream().await?;
        let mut rows_out = 0u64;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            rows_out += batch.num_rows() as u64;
            if line_format.is_some() {
                sink.write_lines(batch.column(0))?;
            } else {
                sink.write(&batch)?;
            }
        }
        sink.finish()?;
        if let (Some(partial), OutputTarget::Atomic(path)) = (partial, &target) {
            partial.persist(path, &opts.output)?;
        }
        Ok::<u64, EmberError>(rows_out)
    }
    .await;
    ticker.abort();
    bar.finish_and_clear();
    let rows_out = result.map_err(|e| locate_row(ember_engine::error::surface(e), &inputs))?;
    Ok(ScoreSummary {
        rows_in: progress.rows.load(Ordering::Relaxed),
        rows_out,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// A row a stage rejected, named by its place in the input files (`line 5`, `row 3`, with the
/// file's name when there are several) instead of its number in the stream.
fn locate_row(e: EmberError, inputs: &Inputs) -> EmberError {
    match e {
        EmberError::Row { row, source } => EmberError::InputRow {
            at: inputs
                .locate(row as u64)
                .unwrap_or_else(|_| format!("input row {}", row + 1)),
            source,
        },
        e => e,
    }
}

fn progress_bar(enabled: bool, inputs: &Inputs) -> ProgressBar {
    use std::io::IsTerminal;
    if !enabled || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(inputs.total()), ProgressDrawTarget::stderr());
    let unit = if inputs.format() == DataFormat::Parquet {
        "{pos}/{len} rows"
    } else {
        "{bytes}/{total_bytes}"
    };
    let template =
        format!("{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {unit} {{msg}} ({{eta}})");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}
