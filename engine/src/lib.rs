//! ember-engine: load fitted Spark ML pipelines and compile them to DataFusion.
//!
//! * [`formats`]: readers for model files (Spark's `PipelineModel.save()` directories).
//! * [`stages`]: one [`Stage`] per supported Spark class: params, inputs/outputs, compilation.
//! * [`compile`]: stages → logical plans, or → pre-compiled physical expressions.
//! * [`Pipeline`]: the entry point.
//!
//! ```no_run
//! use std::sync::Arc;
//! use ember_engine::Pipeline;
//! # fn demo(batch: arrow::array::RecordBatch) -> ember_engine::Result<()> {
//! let pipeline = Pipeline::load("examples/car-evaluation/model")?;
//! let compiled = pipeline.compile(batch.schema())?;   // once
//! let scored = compiled.evaluate(&batch)?;             // per batch, microseconds for a row
//! # Ok(()) }
//! ```

pub mod compile;
pub mod error;
pub mod formats;
pub mod io;
pub mod pipeline;
pub mod stage;
pub mod stages;

pub use compile::CompiledPipeline;
pub use error::{EmberError, Result};
pub use formats::mleap::files::BundleLimits;
pub use pipeline::{ModelFormat, Pipeline};
pub use stage::{ColumnMeta, ColumnSpec, ColumnType, Stage, StageContext, StagePlan};
