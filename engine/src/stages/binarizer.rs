//! `Binarizer` (single and multi-column; double or vector inputs).

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use ember_udfs::binarizer::{Binarizer as Threshold, BinarizerUdf, BinarizerVectorUdf};

use crate::stages::StageDecl;
use crate::error::Result;
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
    inputs: Vec<String>,
    outputs: Vec<String>,
    thresholds: Vec<f64>,
    /// Spark 4 maps a null double to 0.0; Spark 3 (and MLeap) keep it null.
    null_as_zero: bool,
}

impl Binarizer {
    /// Loads a Spark-saved `Binarizer`: `inputCol`/`outputCol` with `threshold`, or
    /// `inputCols`/`outputCols` with `thresholds` (else `threshold` for every column). A null
    /// double gives 0.0 for models saved by Spark 4, null for earlier ones (as each version's
    /// transform does).
    pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
        let (inputs, outputs) = dir.in_out_columns()?;
        let threshold = dir.f64("threshold")?.unwrap_or(0.0);
        let thresholds = match dir.f64s("thresholds")?.filter(|_| dir.is_set("thresholds")) {
            Some(t) if dir.is_set("inputCols") => t,
            Some(_) => {
                return Err(dir.param_error(
                    "thresholds",
                    "thresholds can't be set for single-column Binarizer.",
                ));
            }
            None => vec![threshold; inputs.len()],
        };
        if thresholds.len() != inputs.len() {
            return Err(dir.param_error(
                "thresholds",
                format!(
                    "{} thresholds for {} columns",
                    thresholds.len(),
                    inputs.len()
                ),
            ));
        }
        let major = dir
            .spark_version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok());
        Ok(Arc::new(Self {
            uid: dir.uid.clone(),
            inputs,
            outputs,
            thresholds,
            null_as_zero: major.is_none_or(|m| m >= 4),
        }))
    }

    /// Loads MLeap's `binarizer` op: ports `input`/`output` (or `input0..`/`output0..`),
    /// `threshold` (single column) or `thresholds` (multi-column). The data-shape attributes
    /// (`input_shapes`, `input_shapes_list`, or `input_shape` in 0.8 bundles) are not needed:
    /// the input column's type decides between the double and vector paths, as in Spark. A
    /// null double stays null, as in Spark 3 (MLeap has no Spark 4 rule for it).
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        let inputs = MleapNode::numbered(&node.inputs, "input");
        let outputs = MleapNode::numbered(&node.outputs, "output");
        let thresholds = match node.opt_attr("thresholds", Attributes::f64s)? {
            Some(t) => t,
            None => vec![node.opt_attr("threshold", Attributes::f64)?.unwrap_or(0.0); inputs.len()],
        };
        if inputs.is_empty() || inputs.len() != outputs.len() || inputs.len() != thresholds.len() {
            return Err(node.error(
                "thresholds",
                format!(
                    "{} input ports, {} output ports and {} thresholds do not match",
                    inputs.len(),
                    outputs.len(),
                    thresholds.len()
                ),
            ));
        }
        Ok(Arc::new(Self {
            uid: node.name.clone(),
            inputs,
            outputs,
            thresholds,
            null_as_zero: false,
        }))
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
        self.inputs
            .iter()
            .map(|c| ColumnSpec::new(c, ColumnType::DoubleOrVector))
            .collect()
    }

    fn outputs(&self, upstream: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        self.inputs
            .iter()
            .zip(&self.outputs)
            .map(|(i, o)| match upstream(i) {
                Some(s) if s.ty == ColumnType::Vector => ColumnSpec::new(o, ColumnType::Vector)
                    .with_meta(ColumnMeta {
                        vector_size: s.meta.vector_size,
                        labels: None,
                    }),
                Some(s) if s.ty == ColumnType::Double => ColumnSpec::new(o, ColumnType::Double),
                _ => ColumnSpec::new(o, ColumnType::DoubleOrVector),
            })
            .collect()
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("thresholds", format!("{:?}", self.thresholds)),
            ("nullAsZero", self.null_as_zero.to_string()),
        ]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        let mut columns = Vec::with_capacity(self.inputs.len());
        for (i, ((input, output), t)) in self
            .inputs
            .iter()
            .zip(&self.outputs)
            .zip(&self.thresholds)
            .enumerate()
        {
            let name = ctx.column_udf_name(i, self.inputs.len());
            let model = Threshold { threshold: *t };
            let (_, field) = ctx.resolve(input)?;
            let t = field.data_type();
            let expr = if t.is_numeric() || matches!(t, DataType::Boolean | DataType::Null) {
                ctx.call(
                    BinarizerUdf::new(name, ctx.stage_ref(), model, self.null_as_zero),
                    vec![ctx.double(input)?],
                )
            } else {
                let udf =
                    BinarizerVectorUdf::new(name, ctx.stage_ref(), input.as_str(), Arc::new(model));
                ctx.call(udf, vec![ctx.vector(input)?])
            };
            columns.push((output.clone(), expr));
        }
        Ok(StagePlan::columns(columns))
    }
}
