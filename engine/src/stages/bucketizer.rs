//! `Bucketizer` (single and multi-column).

use std::sync::Arc;

use ember_udfs::HandleInvalid;
use ember_udfs::bucketizer::BucketizerUdf;

use crate::error::Result;
use crate::stages::multi_column::ColumnPairs;
use crate::stages::{Origin, StageDecl};
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
    columns: ColumnPairs,
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
    /// The stage, after checking one valid list of splits per column pair.
    fn build(
        at: &Origin,
        columns: ColumnPairs,
        splits: Vec<Vec<f64>>,
        handle_invalid: HandleInvalid,
    ) -> Result<Arc<dyn Stage>> {
        columns.check(at, "splitsArray", "split lists", splits.len())?;
        for s in &splits {
            check_splits(s).map_err(|m| at.error("splits", m))?;
        }
        Ok(Arc::new(Self {
            uid: at.uid.clone(),
            columns,
            splits: splits.into_iter().map(Arc::from).collect(),
            handle_invalid,
        }))
    }

    /// Loads a Spark-saved `Bucketizer`: `inputCol`/`outputCol`/`splits` or
    /// `inputCols`/`outputCols`/`splitsArray`, and `handleInvalid`.
    pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
        let columns = ColumnPairs::from_spark(dir)?;
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
            &dir.into(),
            columns,
            splits,
            super::handle_invalid(dir, &["error", "skip", "keep"])?,
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
        let columns = ColumnPairs {
            inputs: vec![node.required_input("input")?],
            outputs: vec![node.required_output("output")?],
        };
        Self::build(
            &node.into(),
            columns,
            vec![splits],
            super::mleap_handle_invalid(node, &["error", "skip", "keep"])?,
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
        self.columns.input_specs(ColumnType::Double)
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        self.columns
            .output_specs(|_, c| ColumnSpec::new(c, ColumnType::Double))
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
        let inputs = &self.columns.inputs;
        let skip = self.handle_invalid == HandleInvalid::Skip;
        self.columns.compile(ctx, skip, |i, name, input| {
            let udf = BucketizerUdf::new(
                name,
                ctx.stage_ref(),
                input,
                Arc::clone(&self.splits[i]),
                self.handle_invalid,
            );
            let mut args = vec![ctx.double(input)?];
            let udf = if inputs.len() > 1 && skip {
                // Spark drops a row with any invalid input before bucketing any column
                for (j, other) in inputs.iter().enumerate() {
                    if j != i {
                        args.push(ctx.double(other)?);
                    }
                }
                udf.with_skip_guards(inputs.len() - 1)
            } else {
                udf
            };
            Ok(ctx.call(udf, args))
        })
    }
}
