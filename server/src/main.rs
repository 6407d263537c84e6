//! The `ember` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ember_engine::Pipeline;
use ember_engine::io::DataFormat;
use ember_server::score::{ScoreOptions, score};

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
        /// The model: a directory written by Spark's PipelineModel.save().
        #[arg(long, short)]
        model: PathBuf,
        /// Input file; repeat to read several files in order as one input.
        #[arg(long = "input", short, required = true)]
        inputs: Vec<PathBuf>,
        /// Output file (replaced only once scoring succeeds).
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
    },
    /// Describe a model: its stages, the input columns it needs and the columns it produces.
    Inspect {
        /// The model directory.
        #[arg(long, short)]
        model: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
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
        Command::Inspect { model, json } => {
            let p = Pipeline::load(&model)?;
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
            inputs,
            output,
            input_format,
            output_format,
            select,
            batch_size,
            threads,
            quiet,
        } => {
            let pipeline = Pipeline::load(&model)?;
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
