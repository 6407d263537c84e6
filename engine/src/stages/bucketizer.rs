//! `Bucketizer` (single and multi-column).

use std::sync::Arc;

use ember_udfs::HandleInvalid;
use ember_udfs::bucketizer::BucketizerUdf;

use crate::stages::StageDecl;
use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::SparkStageDir;
use crate::stage::{ColumnSpec, ColumnType, Stage, StageContext, StagePlan};

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.Bucketizer";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, Bucketizer::from_spark).mleap("bucketizer", Bucketizer::from_mleap),
];

/// A Bucketizer: one list of splits per `input → output` column pair.
#[derive(Debug)]
pub struct Bucketizer {
    uid: String,
    inputs: Vec<String>,
    outputs: Vec<String>,
    splits: Vec<Arc<[f64]>>,
    handle_invalid: HandleInvalid,
}

/// Spark's `Bucketizer.checkSplits`: at least three splits, strictly increasing, no NaN.
fn check_splits(splits: &[f64]) -> std::result::Result<(), String> {
    if splits.len() < 3 {
        return Err(format!(
            "Bucketizer splits should be of length >= 3 but got {}",
            splits.len()
        ));
    }
    if splits.iter().any(|s| s.is_nan()) || splits.windows(2).any(|w| w[0] >= w[1]) {
        return Err(format!(
            "Bucketizer splits must be strictly increasing (and not NaN): {splits:?}"
        ));
    }
    Ok(())
}

impl Bucketizer {
    fn build(
        uid: String,
        inputs: Vec<String>,
        outputs: Vec<String>,
        splits: Vec<Vec<f64>>,
        handle_invalid: HandleInvalid,
        err: impl Fn(&str, String) -> crate::error::EmberError,
    ) -> Result<Arc<dyn Stage>> {
        if inputs.is_empty() || inputs.len() != outputs.len() || inputs.len() != splits.len() {
            return Err(err(
                "splitsArray",
                format!(
                    "{} input columns, {} output columns and {} split lists do not match",
                    inputs.len(),
                    outputs.len(),
                    splits.len()
                ),
            ));
        }
        for s in &splits {
            check_splits(s).map_err(|m| err("splits", m))?;
        }
        Ok(Arc::new(Self {
            uid,
            inputs,
            outputs,
            splits: splits.into_iter().map(Arc::from).collect(),
            handle_invalid,
        }))
    }

    /// Loads a Spark-saved `Bucketizer`: `inputCol`/`outputCol`/`splits` or
    /// `inputCols`/`outputCols`/`splitsArray`, and `handleInvalid`.
    pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
        let (inputs, outputs) = dir.in_out_columns()?;
        let splits = if dir.is_set("inputCols") {
            dir.f64_lists("splitsArray")?
                .ok_or_else(|| dir.param_error("splitsArray", "missing"))?
        } else {
            vec![
                dir.f64s("splits")?
                    .ok_or_else(|| dir.param_error("splits", "missing"))?,
            ]
        };
        Self::build(
            dir.uid.clone(),
            inputs,
            outputs,
            splits,
            super::handle_invalid(dir, &["error", "skip", "keep"])?,
            |p, m| dir.param_error(p, m),
        )
    }

    /// Loads MLeap's `bucketizer` op: `splits` (infinite ends written as `null`, read back as
    /// ±∞ as MLeap's `restoreSplits` does) and `handle_invalid`.
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        let mut splits = node.attr("splits", Attributes::f64s)?;
        if let Some(first) = splits.first_mut()
            && first.is_nan()
        {
            *first = f64::NEG_INFINITY;
        }
        if let Some(last) = splits.last_mut()
            && last.is_nan()
        {
            *last = f64::INFINITY;
        }
        Self::build(
            node.name.clone(),
            vec![node.required_input("input")?],
            vec![node.required_output("output")?],
            vec![splits],
            super::mleap_handle_invalid(node, &["error", "skip", "keep"])?,
            |p, m| node.error(p, m),
        )
    }
}

impl Stage for Bucketizer {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn class(&self) -> &'static str {
        CLASS
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        self.inputs
            .iter()
            .map(|c| ColumnSpec::new(c, ColumnType::Double))
            .collect()
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        self.outputs
            .iter()
            .map(|c| ColumnSpec::new(c, ColumnType::Double))
            .collect()
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("handleInvalid", self.handle_invalid.as_str().to_string()),
            (
                "splits",
                self.splits
                    .iter()
                    .map(|s| format!("{:?}", s.as_ref()))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        let multi = self.inputs.len() > 1;
        let mut columns = Vec::with_capacity(self.inputs.len());
        for (i, ((input, output), splits)) in self
            .inputs
            .iter()
            .zip(&self.outputs)
            .zip(&self.splits)
            .enumerate()
        {
            let name = ctx.column_udf_name(i, self.inputs.len());
            let udf = BucketizerUdf::new(
                name,
                ctx.stage_ref(),
                input.as_str(),
                Arc::clone(splits),
                self.handle_invalid,
            );
            let mut args = vec![ctx.double(input)?];
            let udf = if multi && self.handle_invalid == HandleInvalid::Skip {
                // Spark drops a row with any invalid input before bucketing any column
                for (j, other) in self.inputs.iter().enumerate() {
                    if j != i {
                        args.push(ctx.double(other)?);
                    }
                }
                udf.with_skip_guards(self.inputs.len() - 1)
            } else {
                udf
            };
            columns.push((output.clone(), ctx.call(udf, args)));
        }
        let outputs: Vec<_> = columns
            .iter()
            .map(|(name, _)| {
                datafusion::logical_expr::col(datafusion::common::Column::from_name(name))
            })
            .collect();
        let plan = StagePlan::columns(columns);
        Ok(if self.handle_invalid == HandleInvalid::Skip {
            plan.keep_non_null(outputs)
        } else {
            plan
        })
    }
}
