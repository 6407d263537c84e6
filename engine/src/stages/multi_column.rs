//! The multi-column shell: the `inputCol`/`outputCol` or `inputCols`/`outputCols` pairs of a
//! Spark 3 multi-column stage (MLeap: ports `input`/`output` or `input0..`/`output0..`), their
//! count checks, and the compile loop — one expression per pair, each UDF named for its column
//! (`column_udf_name`), and under `handleInvalid = skip` the filter keeping the rows where every
//! output is non-null. StringIndexer, OneHotEncoder, Bucketizer, Binarizer, Imputer and the
//! text stages use it.

use datafusion::common::Column;
use datafusion::logical_expr::{Expr, col};

use crate::error::Result;
use crate::formats::mleap::MleapNode;
use crate::formats::spark::SparkStageDir;
use crate::stage::{ColumnSpec, ColumnType, StageContext, StagePlan};
use crate::stages::Origin;

/// The input → output column pairs of a multi-column stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnPairs {
    /// Input columns, in order.
    pub inputs: Vec<String>,
    /// Output columns, one per input.
    pub outputs: Vec<String>,
}

impl ColumnPairs {
    /// `inputCol`/`outputCol`, or `inputCols`/`outputCols`.
    pub fn from_spark(dir: &SparkStageDir) -> Result<Self> {
        let (inputs, outputs) = dir.in_out_columns()?;
        Ok(Self { inputs, outputs })
    }

    /// MLeap's `input`/`output` ports, or `input0..N`/`output0..N`.
    pub fn from_mleap(node: &MleapNode) -> Self {
        Self {
            inputs: MleapNode::numbered(&node.inputs, "input"),
            outputs: MleapNode::numbered(&node.outputs, "output"),
        }
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// True when there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }

    /// Checks that there is at least one column, as many outputs as inputs, and `n` values of
    /// the per-column param `param` (`what` names them in the message).
    pub fn check(&self, at: &Origin, param: &str, what: &str, n: usize) -> Result<()> {
        if self.inputs.is_empty() || self.inputs.len() != self.outputs.len() || n != self.len() {
            return Err(at.error(
                param,
                format!(
                    "{} input columns, {} output columns and {n} {what} do not match",
                    self.inputs.len(),
                    self.outputs.len(),
                ),
            ));
        }
        Ok(())
    }

    /// Checks that there is at least one column and as many outputs as inputs (`param` names
    /// the error).
    pub fn check_pairs(&self, at: &Origin, param: &str) -> Result<()> {
        if self.inputs.is_empty() || self.inputs.len() != self.outputs.len() {
            return Err(at.error(
                param,
                format!(
                    "{} input columns but {} output columns",
                    self.inputs.len(),
                    self.outputs.len()
                ),
            ));
        }
        Ok(())
    }

    /// The pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.inputs.iter().zip(&self.outputs)
    }

    /// Every input column, read as `ty`.
    pub fn input_specs(&self, ty: ColumnType) -> Vec<ColumnSpec> {
        self.inputs
            .iter()
            .map(|c| ColumnSpec::new(c, ty.clone()))
            .collect()
    }

    /// One output column per pair, from `spec(i, name)`.
    pub fn output_specs(&self, spec: impl Fn(usize, &str) -> ColumnSpec) -> Vec<ColumnSpec> {
        self.outputs
            .iter()
            .enumerate()
            .map(|(i, o)| spec(i, o))
            .collect()
    }

    /// The plan computing `column(i, udf_name, input)` into each output column; with `skip`,
    /// only the rows where every output is non-null are kept (the UDFs return null for a row
    /// `skip` drops).
    pub fn compile(
        &self,
        ctx: &StageContext<'_>,
        skip: bool,
        mut column: impl FnMut(usize, String, &str) -> Result<Expr>,
    ) -> Result<StagePlan> {
        let mut columns = Vec::with_capacity(self.len());
        for (i, (input, output)) in self.iter().enumerate() {
            let name = ctx.column_udf_name(i, self.len());
            columns.push((output.clone(), column(i, name, input)?));
        }
        let plan = StagePlan::columns(columns);
        Ok(if skip {
            plan.keep_non_null(self.outputs.iter().map(|o| col(Column::from_name(o))))
        } else {
            plan
        })
    }
}
