//! `OneHotEncoderModel` (single and multi-column).

use std::sync::Arc;

use ember_udfs::HandleInvalid;
use ember_udfs::one_hot_encoder::{OneHotColumn, OneHotEncoderUdf};

use crate::stages::StageDecl;
use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::{DataRow, SparkStageDir};
use crate::stage::{ColumnMeta, ColumnSpec, ColumnType, Stage, StageContext, StagePlan};

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.OneHotEncoderModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, OneHotEncoder::from_spark).mleap("one_hot_encoder", OneHotEncoder::from_mleap),
];

/// A fitted OneHotEncoder.
#[derive(Debug)]
pub struct OneHotEncoder {
    uid: String,
    inputs: Vec<String>,
    outputs: Vec<String>,
    columns: Vec<OneHotColumn>,
}

impl OneHotEncoder {
    /// An encoder over `inputs → outputs`, one category size per column.
    pub fn new(
        uid: impl Into<String>,
        inputs: Vec<String>,
        outputs: Vec<String>,
        category_sizes: &[usize],
        drop_last: bool,
        handle_invalid: HandleInvalid,
    ) -> Self {
        let keep_invalid = handle_invalid == HandleInvalid::Keep;
        Self {
            uid: uid.into(),
            inputs,
            outputs,
            columns: category_sizes
                .iter()
                .map(|s| OneHotColumn {
                    category_size: *s,
                    drop_last,
                    keep_invalid,
                })
                .collect(),
        }
    }

    /// Loads a Spark-saved `OneHotEncoderModel` (`categorySizes`).
    pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
        let (inputs, outputs) = dir.in_out_columns()?;
        let handle_invalid = super::handle_invalid(dir, &["error", "keep"])?;
        let drop_last = dir.bool_or("dropLast", true)?;
        let data = dir.data()?;
        let sizes = DataRow::new(dir, &data).ints("categorySizes")?;
        if sizes.len() != inputs.len() {
            return Err(dir.param_error(
                "categorySizes",
                format!("{} sizes for {} input columns", sizes.len(), inputs.len()),
            ));
        }
        let sizes = sizes
            .iter()
            .map(|s| {
                usize::try_from(*s).map_err(|_| dir.param_error("categorySizes", "negative size"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(Self::new(
            dir.uid.clone(),
            inputs,
            outputs,
            &sizes,
            drop_last,
            handle_invalid,
        )))
    }

    /// Loads MLeap's `one_hot_encoder` op: `category_sizes`, `drop_last`, `handle_invalid`
    /// (Spark 3 era), or the legacy `size` (the output width) + `drop_last` written for Spark
    /// 2's OneHotEncoder. MLeap scores a legacy encoder as `keep` when `drop_last` is set, so
    /// every index ≥ `size` encodes as all zeros, as Spark 2's encoder did.
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        let inputs = MleapNode::numbered(&node.inputs, "input");
        let outputs = MleapNode::numbered(&node.outputs, "output");
        let drop_last = node
            .opt_attr("drop_last", Attributes::bool)?
            .unwrap_or(true);
        let to_size = |n: i64, attr: &str| {
            usize::try_from(n).map_err(|_| node.error(attr, format!("negative size {n}")))
        };
        let (sizes, handle_invalid) = match node.opt_attr("category_sizes", Attributes::i64s)? {
            Some(sizes) => (
                sizes
                    .into_iter()
                    .map(|n| to_size(n, "category_sizes"))
                    .collect::<Result<Vec<_>>>()?,
                super::mleap_handle_invalid(node, &["error", "keep"])?,
            ),
            None => {
                let size = to_size(node.attr("size", Attributes::i64)?, "size")?;
                let h = if drop_last {
                    HandleInvalid::Keep
                } else {
                    HandleInvalid::Error
                };
                (vec![size], h)
            }
        };
        if inputs.is_empty() || inputs.len() != outputs.len() || inputs.len() != sizes.len() {
            return Err(node.error(
                "category_sizes",
                format!(
                    "{} input ports, {} output ports and {} sizes do not match",
                    inputs.len(),
                    outputs.len(),
                    sizes.len()
                ),
            ));
        }
        Ok(Arc::new(Self::new(
            node.name.clone(),
            inputs,
            outputs,
            &sizes,
            drop_last,
            handle_invalid,
        )))
    }
}

impl Stage for OneHotEncoder {
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
            .zip(&self.columns)
            .map(|(c, spec)| {
                ColumnSpec::new(c, ColumnType::Vector).with_meta(ColumnMeta {
                    vector_size: Some(spec.output_size()),
                    labels: None,
                })
            })
            .collect()
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        let c = self.columns.first();
        vec![
            (
                "dropLast",
                c.map(|c| c.drop_last.to_string()).unwrap_or_default(),
            ),
            (
                "handleInvalid",
                c.map(|c| if c.keep_invalid { "keep" } else { "error" }.to_string())
                    .unwrap_or_default(),
            ),
            (
                "categorySizes",
                self.columns
                    .iter()
                    .map(|c| c.category_size.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        let mut columns = Vec::with_capacity(self.inputs.len());
        for (i, ((input, output), spec)) in self
            .inputs
            .iter()
            .zip(&self.outputs)
            .zip(&self.columns)
            .enumerate()
        {
            let name = ctx.column_udf_name(i, self.inputs.len());
            let udf = OneHotEncoderUdf::new(name, ctx.stage_ref(), input.as_str(), *spec);
            columns.push((output.clone(), ctx.call(udf, vec![ctx.double(input)?])));
        }
        Ok(StagePlan::columns(columns))
    }
}
