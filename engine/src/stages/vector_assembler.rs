//! `VectorAssembler`.

use std::sync::Arc;

use datafusion::logical_expr::col;
use ember_udfs::HandleInvalid;
use ember_udfs::vector_assembler::{AssemblerInput, VectorAssemblerUdf};

use crate::stages::StageDecl;
use crate::error::Result;
use crate::formats::mleap::{BundleFiles, MleapNode};
use crate::formats::spark::SparkStageDir;
use crate::stage::{ColumnMeta, ColumnSpec, ColumnType, Stage, StageContext, StagePlan};

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.VectorAssembler";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, VectorAssembler::from_spark).mleap("vector_assembler", VectorAssembler::from_mleap),
];

/// A VectorAssembler (a transformer: nothing fitted).
#[derive(Debug)]
pub struct VectorAssembler {
    uid: String,
    inputs: Vec<String>,
    output: String,
    handle_invalid: HandleInvalid,
}

impl VectorAssembler {
    /// An assembler of `inputs` into `output`.
    pub fn new(
        uid: impl Into<String>,
        inputs: Vec<String>,
        output: String,
        handle_invalid: HandleInvalid,
    ) -> Self {
        Self {
            uid: uid.into(),
            inputs,
            output,
            handle_invalid,
        }
    }

    /// Loads a Spark-saved `VectorAssembler`.
    pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
        let inputs = dir
            .strings("inputCols")?
            .ok_or_else(|| dir.param_error("inputCols", "missing"))?;
        let output = dir.required_string("outputCol")?;
        let handle_invalid = super::handle_invalid(dir, &["error", "skip", "keep"])?;
        Ok(Arc::new(Self::new(
            dir.uid.clone(),
            inputs,
            output,
            handle_invalid,
        )))
    }

    /// Loads MLeap's `vector_assembler` op (ports `input0..N` → `output`; `input_shapes` only
    /// describes the inputs, which ember reads from the data). MLeap has no handleInvalid for
    /// it: invalid values fail, Spark's default.
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        let inputs = MleapNode::numbered(&node.inputs, "input");
        if inputs.is_empty() {
            return Err(node.error("input0", "the node has no input ports"));
        }
        Ok(Arc::new(Self::new(
            node.name.clone(),
            inputs,
            node.required_output("output")?,
            HandleInvalid::Error,
        )))
    }

    fn width(spec: Option<ColumnSpec>) -> Option<usize> {
        match spec {
            Some(s) if s.ty == ColumnType::Vector => s.meta.vector_size,
            Some(_) => Some(1),
            None => None,
        }
    }
}

impl Stage for VectorAssembler {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn class(&self) -> &'static str {
        CLASS
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        self.inputs
            .iter()
            .map(|c| ColumnSpec::new(c, ColumnType::DoubleOrVector))
            .collect()
    }

    fn outputs(&self, upstream: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        let size = self.inputs.iter().map(|c| Self::width(upstream(c))).sum();
        vec![
            ColumnSpec::new(&self.output, ColumnType::Vector).with_meta(ColumnMeta {
                vector_size: size,
                labels: None,
            }),
        ]
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        vec![("handleInvalid", self.handle_invalid.as_str().to_string())]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        let mut args = Vec::with_capacity(self.inputs.len());
        let mut inputs = Vec::with_capacity(self.inputs.len());
        for c in &self.inputs {
            args.push(ctx.double_or_vector(c)?);
            inputs.push(AssemblerInput {
                column: c.clone(),
                vector_size: ctx.meta(c).vector_size,
            });
        }
        let udf = VectorAssemblerUdf::new(
            ctx.udf_name(""),
            ctx.stage_ref(),
            inputs,
            self.handle_invalid,
        );
        let plan = StagePlan::columns(vec![(self.output.clone(), ctx.call(udf, args))]);
        Ok(if self.handle_invalid == HandleInvalid::Skip {
            plan.keep_non_null([col(datafusion::common::Column::from_name(&self.output))])
        } else {
            plan
        })
    }
}
