//! [`Pipeline`]: a loaded model and everything that can be done with it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::{LogicalPlan, ScalarUDF};
use datafusion::prelude::SessionContext;

use crate::compile::{CompiledPipeline, PipelineSteps, apply_steps, df_schema, plan_steps};
use crate::error::{EmberError, Result};
use crate::formats::mleap::{
    self,
    files::{BundleLimits, open_bundle},
};
use crate::formats::spark;
use crate::stage::{ColumnSpec, ColumnType, Stage};
use crate::stages::{mleap_registry, spark_registry};

/// Where a pipeline was loaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelFormat {
    /// A directory written by Spark's `PipelineModel.save()`.
    SparkDirectory {
        /// The Spark version recorded in the metadata.
        spark_version: String,
    },
    /// An MLeap bundle.
    Mleap {
        /// The MLeap version recorded in `bundle.json`.
        version: String,
    },
    /// Built in code.
    InMemory,
}

/// A fitted Spark ML pipeline: its stages in order, ready to compile.
///
/// ```no_run
/// use ember_engine::Pipeline;
/// # async fn demo() -> ember_engine::Result<()> {
/// let pipeline = Pipeline::load("examples/car-evaluation/model")?;
/// let ctx = datafusion::prelude::SessionContext::new();
/// let input = ctx.read_csv("examples/car-evaluation/input.csv", Default::default()).await?;
/// let scored = pipeline.transform(input)?;          // a DataFrame: a lazy DataFusion plan
/// scored.show().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Pipeline {
    uid: String,
    path: Option<PathBuf>,
    format: ModelFormat,
    stages: Vec<Arc<dyn Stage>>,
}

impl Pipeline {
    /// Loads a model from `path`, detecting its format from the files: a directory written by
    /// Spark's `PipelineModel.save()`, or an MLeap bundle (a directory, a `.zip`, or a tar
    /// archive such as SageMaker's `model.tar.gz`), with the default [`BundleLimits`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::load_with_limits(path, BundleLimits::default())
    }

    /// [`Pipeline::load`] with explicit bounds on reading archived bundles.
    pub fn load_with_limits(path: impl AsRef<Path>, limits: BundleLimits) -> Result<Self> {
        let path = path.as_ref();
        if !path.exists() {
            return Err(EmberError::format(path, "no such file or directory"));
        }
        if path.join("metadata").is_dir() {
            let model = spark::load_with_limits(path, limits, &spark_registry())?;
            return Ok(Self {
                uid: model.uid,
                path: Some(path.to_path_buf()),
                format: ModelFormat::SparkDirectory {
                    spark_version: model.spark_version,
                },
                stages: model.stages,
            });
        }
        // anything but a directory goes to open_bundle, which refuses FIFOs and devices by name
        let bundle = if !path.is_dir() || path.join("bundle.json").is_file() {
            path.to_path_buf()
        } else {
            single_archive(path)?
        };
        let files = open_bundle(&bundle, limits)?;
        let model = mleap::load(files.as_ref(), &mleap_registry())?;
        Ok(Self {
            uid: model.info.name.clone(),
            path: Some(path.to_path_buf()),
            format: ModelFormat::Mleap {
                version: model.info.version,
            },
            stages: model.stages,
        })
    }

    /// A pipeline from stages built in code.
    pub fn from_stages(uid: impl Into<String>, stages: Vec<Arc<dyn Stage>>) -> Self {
        Self {
            uid: uid.into(),
            path: None,
            format: ModelFormat::InMemory,
            stages,
        }
    }

    /// The pipeline's uid.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// Where it was loaded from.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The model format.
    pub fn format(&self) -> &ModelFormat {
        &self.format
    }

    /// The stages in execution order (nested pipelines flattened).
    pub fn stages(&self) -> &[Arc<dyn Stage>] {
        &self.stages
    }

    /// The columns the pipeline reads from its input, with the kind the first stage reading
    /// each one needs.
    pub fn input_columns(&self) -> Vec<ColumnSpec> {
        let mut produced: Vec<String> = Vec::new();
        let mut needed: Vec<ColumnSpec> = Vec::new();
        let known = |list: &[String], n: &str| list.iter().any(|p| p.eq_ignore_ascii_case(n));
        for stage in &self.stages {
            for input in stage.inputs() {
                let seen = needed
                    .iter()
                    .any(|c| c.name.eq_ignore_ascii_case(&input.name));
                if !known(&produced, &input.name) && !seen {
                    needed.push(input);
                }
            }
            produced.extend(stage.outputs(&|_| None).into_iter().map(|o| o.name));
        }
        needed
    }

    /// Every column the stages produce and keep, in output order, with the metadata known
    /// statically (a column a later stage replaces is listed once, with its last spec; one a
    /// later stage drops is not listed).
    pub fn output_columns(&self) -> Vec<ColumnSpec> {
        let mut out: Vec<ColumnSpec> = Vec::new();
        for stage in &self.stages {
            let produced = out.clone();
            let lookup = move |n: &str| produced.iter().find(|c| c.name == n).cloned();
            for spec in stage.outputs(&lookup) {
                match out.iter_mut().find(|c| c.name == spec.name) {
                    Some(existing) => *existing = spec,
                    None => out.push(spec),
                }
            }
            let dropped = stage.dropped();
            out.retain(|c| !dropped.contains(&c.name));
        }
        out
    }

    /// The schema to read an untyped source (CSV) with, given its header: the pipeline's
    /// input columns typed as their stages need them (matched case-insensitively), every other
    /// column as text.
    pub fn read_schema(&self, header: &[String]) -> Result<Schema> {
        let inputs = self.input_columns();
        for needed in &inputs {
            if !header.iter().any(|h| h.eq_ignore_ascii_case(&needed.name)) {
                return Err(missing_column(&needed.name, header));
            }
            if needed.ty.is_nested() {
                return Err(EmberError::Data {
                    context: format!("column '{}'", needed.name),
                    message: format!(
                        "the pipeline reads it as {}, which CSV cannot hold (Spark's CSV source \
                         refuses {} too); use JSON lines or Parquet input",
                        needed.ty, needed.ty
                    ),
                });
            }
        }
        Ok(Schema::new(
            header
                .iter()
                .map(|h| {
                    let ty = inputs
                        .iter()
                        .find(|c| c.name == *h)
                        .or_else(|| inputs.iter().find(|c| c.name.eq_ignore_ascii_case(h)))
                        .map(|c| c.ty.read_type())
                        .unwrap_or(ColumnType::Text.read_type());
                    Field::new(h, ty, true)
                })
                .collect::<Vec<_>>(),
        ))
    }

    /// The schema of a minimal input: exactly the pipeline's input columns, typed as the
    /// stages read them.
    pub fn input_schema(&self) -> Schema {
        Schema::new(
            self.input_columns()
                .iter()
                .map(|c| Field::new(&c.name, c.ty.arrow_type(), true))
                .collect::<Vec<_>>(),
        )
    }

    /// Compiles the stages against an input schema into steps (logical expressions).
    pub fn steps(&self, input: &Schema) -> Result<PipelineSteps> {
        self.check_inputs(input)?;
        plan_steps(&self.stages, df_schema(input)?)
    }

    fn check_inputs(&self, input: &Schema) -> Result<()> {
        let names: Vec<String> = input.fields().iter().map(|f| f.name().clone()).collect();
        for needed in self.input_columns() {
            let exact = names.contains(&needed.name);
            let folded = names
                .iter()
                .filter(|n| n.eq_ignore_ascii_case(&needed.name))
                .count();
            if !exact && folded != 1 {
                return Err(missing_column(&needed.name, &names));
            }
        }
        Ok(())
    }

    /// Applies the pipeline on top of any logical plan, returning the new plan: the input's
    /// columns followed by every stage's outputs, as Spark's `transform` returns them.
    pub fn plan(&self, input: LogicalPlan) -> Result<LogicalPlan> {
        let schema = Arc::clone(input.schema());
        self.check_inputs(schema.as_arrow())?;
        let steps = plan_steps(&self.stages, schema)?;
        apply_steps(input, &steps)
    }

    /// Applies the pipeline to a DataFrame (lazily: nothing runs until it is collected).
    pub fn transform(&self, df: DataFrame) -> Result<DataFrame> {
        let (state, plan) = df.into_parts();
        let plan = self.plan(plan)?;
        Ok(DataFrame::new(state, plan))
    }

    /// Compiles the pipeline for batches of `input`'s schema into physical expressions: build
    /// once, then [`CompiledPipeline::evaluate`] each batch with no planning cost.
    pub fn compile(&self, input: SchemaRef) -> Result<CompiledPipeline> {
        let steps = self.steps(&input)?;
        CompiledPipeline::new(&self.stages, &steps)
    }

    /// Compiles for `input` like [`Pipeline::compile`], computing only what `outputs` need: the
    /// result's batches hold the input columns followed by `outputs`. Columns nothing asked for
    /// are not computed, and single-use intermediate columns are fused into the expressions
    /// reading them (see [`PipelineSteps::for_outputs`]), which makes scoring a few rows
    /// several times faster than the full [`Pipeline::compile`]. Rows dropped by
    /// `handleInvalid = skip` are dropped exactly as there.
    pub fn compile_for(&self, input: SchemaRef, outputs: &[&str]) -> Result<CompiledPipeline> {
        let steps = self.steps(&input)?.for_outputs(outputs)?;
        CompiledPipeline::selecting(&self.stages, &steps, outputs)
    }

    /// Transforms one batch (compiling for its schema first; use [`Pipeline::compile`] to
    /// transform many batches of one schema).
    pub fn transform_batch(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        self.compile(batch.schema())?.evaluate(batch)
    }

    /// The UDFs of every stage (named after the stage uids, e.g. `stringindexer_1a2b3c`), plus
    /// ember's helper UDFs.
    pub fn udfs(&self) -> Result<Vec<Arc<ScalarUDF>>> {
        let mut udfs = self.steps(&self.input_schema())?.udfs();
        for f in ember_udfs::functions() {
            if !udfs.iter().any(|u| u.name() == f.name()) {
                udfs.push(f);
            }
        }
        Ok(udfs)
    }

    /// Registers [`Pipeline::udfs`] on a session, for use from SQL.
    pub fn register_udfs(&self, ctx: &SessionContext) -> Result<()> {
        for udf in self.udfs()? {
            ctx.register_udf(udf.as_ref().clone());
        }
        Ok(())
    }
}

fn missing_column(name: &str, available: &[String]) -> EmberError {
    EmberError::Data {
        context: format!("column '{name}'"),
        message: format!(
            "the pipeline needs this column but the input does not have it (input columns: {})",
            available.join(", ")
        ),
    }
}

/// A directory that is neither a Spark model nor an exploded bundle may hold exactly one
/// archived bundle (e.g. `/opt/ml/model/model.zip`).
fn single_archive(dir: &Path) -> Result<PathBuf> {
    let not_a_model = || {
        EmberError::format(
            dir,
            "not a model ember can read: expected a directory written by Spark's \
             PipelineModel.save() (with a metadata/ folder) or an MLeap bundle (bundle.json, \
             or a single .zip / .tar.gz bundle file)",
        )
    };
    let entries = std::fs::read_dir(dir).map_err(|source| EmberError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let archives: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    [".zip", ".tar.gz", ".tgz", ".tar"]
                        .iter()
                        .any(|x| n.ends_with(x))
                })
        })
        .collect();
    match archives.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(not_a_model()),
    }
}
