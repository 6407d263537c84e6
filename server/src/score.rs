//! `ember score`: files in, scored files out, as one streaming DataFusion plan.
//!
//! The plan is `inputs (one ordered stream, numbered rows) → repartition across cores →
//! pipeline projections and filters → merge back in row order → writer`. Memory stays bounded
//! by a few batches per core however large the input, every core scores, and rows come out in
//! input order. The output is written to a temporary file beside the target and renamed into
//! place only when everything succeeded.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use datafusion::logical_expr::{ScalarUDF, col, ident};
use datafusion::prelude::{SessionConfig, SessionContext};
use ember_engine::io::{
    DataFormat, Inputs, LineFormat, ROW_COLUMN, RenderLinesUdf, Sink, number_stage_errors,
};

/// Column holding rendered CSV/JSON lines inside the plan.
const LINE_COLUMN: &str = "__ember_line";
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

fn partial_path(output: &Path) -> PathBuf {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "output".into());
    output.with_file_name(format!(".{name}.ember-partial-{}", std::process::id()))
}

/// Scores `opts.inputs` with `pipeline` into `opts.output`.
pub async fn score(pipeline: &Pipeline, opts: &ScoreOptions) -> Result<ScoreSummary> {
    let started = Instant::now();
    let first = opts.inputs.first().ok_or_else(|| EmberError::Data {
        context: "score".into(),
        message: "no input files".into(),
    })?;
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

    let partial = partial_path(&opts.output);
    let result = async {
        let mut sink = Sink::create(&partial, out_format, &schema)?;
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
        Ok::<u64, EmberError>(rows_out)
    }
    .await;
    ticker.abort();
    bar.finish_and_clear();
    match result {
        Ok(rows_out) => {
            std::fs::rename(&partial, &opts.output).map_err(|source| EmberError::Io {
                path: opts.output.clone(),
                source,
            })?;
            Ok(ScoreSummary {
                rows_in: progress.rows.load(Ordering::Relaxed),
                rows_out,
                seconds: started.elapsed().as_secs_f64(),
            })
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(locate_row(ember_engine::error::surface(e), &inputs))
        }
    }
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
