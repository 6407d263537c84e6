//! ember: run Apache Spark ML pipelines without Spark and without a JVM.
//!
//! Load a pipeline saved by Spark's `PipelineModel.save()`, then score with it three ways,
//! all through the same vectorized kernels:
//!
//! * as a DataFusion plan over any `DataFrame` ([`Pipeline::transform`]) — files, SQL, your own
//!   sources, streamed and parallel;
//! * on single `RecordBatch`es with no planning per call ([`Pipeline::compile`] once, then
//!   [`CompiledPipeline::evaluate`]) — request/response serving;
//! * from SQL, after [`Pipeline::register_udfs`].
//!
//! ```no_run
//! use ember::Pipeline;
//! use datafusion::prelude::*;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let pipeline = Pipeline::load("examples/car-evaluation/model")?;
//! let ctx = SessionContext::new();
//! let input = ctx.read_csv("examples/car-evaluation/input.csv", CsvReadOptions::new()).await?;
//! let scored = pipeline.transform(input)?;
//! scored.select_columns(&["buying", "safety", "predicted_class"])?.show().await?;
//! # Ok(()) }
//! ```
//!
//! The crates behind the facade: `ember-engine` (model formats, stages, compilation) and
//! `ember-udfs` (Arrow kernels and DataFusion UDFs).

pub use ember_engine::{
    BundleLimits, ColumnMeta, ColumnSpec, ColumnType, CompiledPipeline, EmberError, ModelFormat,
    Pipeline, Result, Stage, StageContext, StagePlan, compile, error, formats, stage, stages,
};
pub use ember_udfs as udfs;
