//! `Binarizer` (single and multi-column; double or vector inputs).

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use ember_udfs::binarizer::{Binarizer as Threshold, BinarizerUdf, BinarizerVectorUdf};

use crate::error::Result;
use crate::stages::multi_column::ColumnPairs;
use crate::stages::{Origin, StageDecl};
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::SparkStageDir;
use crate::stage::{ColumnMeta, ColumnSpec, ColumnType, Stage, StageContext, StagePlan};

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.Binarizer";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, Binarizer::from_spark).mleap("binarizer", Binarizer::from_mleap),
];

/// A Binarizer: one threshold per `input → output` column pair.
#[derive(Debug)]
pub struct Binarizer {
    uid: String,
    columns: ColumnPairs,
    thresholds: Vec<f64>,
    /// Spark 4 maps a null double to 0.0; Spark 3 (and MLeap) keep it null.
    null_as_zero: bool,
}

impl Binarizer {
    /// The stage, after checking one threshold per column pair.
    fn build(
        at: &Origin,
        columns: ColumnPairs,
        thresholds: Vec<f64>,
        null_as_zero: bool,
    ) -> Result<Arc<dyn Stage>> {
        columns.check(at, "thresholds", "thresholds", thresholds.len())?;
        Ok(Arc::new(Self {
            uid: at.uid.clone(),
            columns,
            thresholds,
            null_as_zero,
        }))
    }

    /// Loads a Spark-saved `Binarizer`: `inputCol`/`outputCol` with `threshold`, or
    /// `inputCols`/`outputCols` with `thresholds` (else `threshold` for every column). A null
    /// double gives 0.0 for models saved by Spark 4, null for earlier ones (as each version's
    /// transform does).
    pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
        let columns = ColumnPairs::from_spark(dir)?;
        let threshold = dir.f64("threshold")?.unwrap_or(0.0);
        let thresholds = match dir.f64s("thresholds")?.filter(|_| dir.is_set("thresholds")) {
            Some(t) if dir.is_set("inputCols") => t,
            Some(_) => {
                return Err(dir.param_error(
                    "thresholds",
                    "thresholds can't be set for single-column Binarizer.",
                ));
            }
            None => vec![threshold; columns.len()],
        };
        let major = dir
            .spark_version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok());
        Self::build(
            &dir.into(),
            columns,
            thresholds,
            major.is_none_or(|m| m >= 4),
        )
    }

    /// Loads MLeap's `binarizer` op: ports `input`/`output` (or `input0..`/`output0..`),
    /// `threshold` (single column) or `thresholds` (multi-column). The data-shape attributes
    /// (`input_shapes`, `input_shapes_list`, or `input_shape` in 0.8 bundles) are not needed:
    /// the input column's type decides between the double and vector paths, as in Spark. A
    /// null double stays null, as in Spark 3 (MLeap has no Spark 4 rule for it).
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        let columns = ColumnPairs::from_mleap(node);
        let thresholds = match node.opt_attr("thresholds", Attributes::f64s)? {
            Some(t) => t,
            None => vec![
                node.opt_attr("threshold", Attributes::f64)?
                    .unwrap_or(0.0);
                columns.len()
            ],
        };
        Self::build(&node.into(), columns, thresholds, false)
    }
}

impl Stage for Binarizer {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn class(&self) -> &'static str {
        CLASS
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        self.columns.input_specs(ColumnType::DoubleOrVector)
    }

    fn outputs(&self, upstream: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        self.columns.output_specs(|i, o| match upstream(&self.columns.inputs[i]) {
            Some(s) if s.ty == ColumnType::Vector => {
                ColumnSpec::new(o, ColumnType::Vector).with_meta(ColumnMeta {
                    vector_size: s.meta.vector_size,
                    labels: None,
                })
            }
            Some(s) if matches!(s.ty, ColumnType::Double | ColumnType::Integer) => {
                ColumnSpec::new(o, ColumnType::Double)
            }
            _ => ColumnSpec::new(o, ColumnType::DoubleOrVector),
        })
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("thresholds", format!("{:?}", self.thresholds)),
            ("nullAsZero", self.null_as_zero.to_string()),
        ]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        self.columns.compile(ctx, false, |i, name, input| {
            let model = Threshold {
                threshold: self.thresholds[i],
            };
            let (_, field) = ctx.resolve(input)?;
            let t = field.data_type();
            Ok(
                if t.is_numeric() || matches!(t, DataType::Boolean | DataType::Null) {
                    ctx.call(
                        BinarizerUdf::new(name, ctx.stage_ref(), model, self.null_as_zero),
                        vec![ctx.double(input)?],
                    )
                } else {
                    let udf =
                        BinarizerVectorUdf::new(name, ctx.stage_ref(), input, Arc::new(model));
                    ctx.call(udf, vec![ctx.vector(input)?])
                },
            )
        })
    }
}
