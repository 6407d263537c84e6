//! `OneHotEncoderModel` (single and multi-column).

use std::sync::Arc;

use ember_udfs::HandleInvalid;
use ember_udfs::one_hot_encoder::{OneHotColumn, OneHotEncoderUdf};

use crate::error::Result;
use crate::stages::multi_column::ColumnPairs;
use crate::stages::{Origin, StageDecl};
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
    columns: ColumnPairs,
    specs: Vec<OneHotColumn>,
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
            columns: ColumnPairs { inputs, outputs },
            specs: category_sizes
                .iter()
                .map(|s| OneHotColumn {
                    category_size: *s,
                    drop_last,
                    keep_invalid,
                })
                .collect(),
        }
    }

    /// The stage, after checking one non-negative category size per column pair.
    fn build(
        at: &Origin,
        columns: ColumnPairs,
        sizes: Vec<i64>,
        drop_last: bool,
        handle_invalid: HandleInvalid,
    ) -> Result<Arc<dyn Stage>> {
        columns.check(at, "categorySizes", "category sizes", sizes.len())?;
        let sizes = sizes
            .into_iter()
            .map(|n| {
                usize::try_from(n)
                    .map_err(|_| at.error("categorySizes", format!("negative size {n}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let ColumnPairs { inputs, outputs } = columns;
        Ok(Arc::new(Self::new(
            at.uid.clone(),
            inputs,
            outputs,
            &sizes,
            drop_last,
            handle_invalid,
        )))
    }

    /// Loads a Spark-saved `OneHotEncoderModel` (`categorySizes`).
    pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
        let columns = ColumnPairs::from_spark(dir)?;
        let handle_invalid = super::handle_invalid(dir, &["error", "keep"])?;
        let drop_last = dir.bool_or("dropLast", true)?;
        let data = dir.data()?;
        let sizes = DataRow::new(dir, &data).ints("categorySizes")?;
        Self::build(&dir.into(), columns, sizes, drop_last, handle_invalid)
    }

    /// Loads MLeap's `one_hot_encoder` op: `category_sizes`, `drop_last`, `handle_invalid`
    /// (Spark 3 era), or the legacy `size` (the output width) + `drop_last` written for Spark
    /// 2's OneHotEncoder. MLeap scores a legacy encoder as `keep` when `drop_last` is set, so
    /// every index ≥ `size` encodes as all zeros, as Spark 2's encoder did.
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        let drop_last = node
            .opt_attr("drop_last", Attributes::bool)?
            .unwrap_or(true);
        let (sizes, handle_invalid) = match node.opt_attr("category_sizes", Attributes::i64s)? {
            Some(sizes) => (sizes, super::mleap_handle_invalid(node, &["error", "keep"])?),
            None => {
                let h = if drop_last {
                    HandleInvalid::Keep
                } else {
                    HandleInvalid::Error
                };
                (vec![node.attr("size", Attributes::i64)?], h)
            }
        };
        Self::build(
            &node.into(),
            ColumnPairs::from_mleap(node),
            sizes,
            drop_last,
            handle_invalid,
        )
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
        self.columns.input_specs(ColumnType::Double)
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        self.columns.output_specs(|i, c| {
            ColumnSpec::new(c, ColumnType::Vector).with_meta(ColumnMeta {
                vector_size: Some(self.specs[i].output_size()),
                labels: None,
            })
        })
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        let c = self.specs.first();
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
                self.specs
                    .iter()
                    .map(|c| c.category_size.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        self.columns.compile(ctx, false, |i, name, input| {
            let udf = OneHotEncoderUdf::new(name, ctx.stage_ref(), input, self.specs[i]);
            Ok(ctx.call(udf, vec![ctx.double(input)?]))
        })
    }
}
