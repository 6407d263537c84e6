//! `ImputerModel`: Spark's `org.apache.spark.ml.feature.ImputerModel` (one or many columns)
//! and MLeap's `imputer` op (one column; written by mleap-spark-extension's own
//! `org.apache.spark.ml.mleap.feature.ImputerModel` and by MLeap's scikit-learn support).
//!
//! The two differ in which values count as missing (see `ember_udfs::imputer`) and in the
//! output type: Spark casts the result back to the input column's type (an integer column's
//! surrogate is truncated), MLeap always writes doubles.

use std::sync::Arc;

use datafusion::logical_expr::cast;
use ember_udfs::imputer::{Imputation, ImputerUdf};

use crate::error::Result;
use crate::stages::StageDecl;
use crate::stages::multi_column::ColumnPairs;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::{DataRow, SparkStageDir};
use crate::stage::{ColumnSpec, ColumnType, Stage, StageContext, StagePlan};

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.ImputerModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, Imputer::from_spark).mleap("imputer", Imputer::from_mleap),
];

/// A fitted imputer.
#[derive(Debug)]
pub struct Imputer {
    uid: String,
    columns: ColumnPairs,
    /// One surrogate per column pair.
    surrogates: Vec<f64>,
    missing: f64,
    strategy: String,
    /// MLeap semantics: NaN always missing, double output.
    mleap: bool,
}

impl Imputer {
    /// An imputer over `columns` (input, output, surrogate). `mleap` selects MLeap's
    /// semantics (NaN always missing, double output) over Spark's.
    pub fn new(
        uid: impl Into<String>,
        columns: Vec<(String, String, f64)>,
        missing: f64,
        strategy: String,
        mleap: bool,
    ) -> Self {
        let (inputs, (outputs, surrogates)) = columns
            .into_iter()
            .map(|(i, o, s)| (i, (o, s)))
            .unzip();
        Self {
            uid: uid.into(),
            columns: ColumnPairs { inputs, outputs },
            surrogates,
            missing,
            strategy,
            mleap,
        }
    }

    /// Loads a Spark-saved `ImputerModel`: `inputCol(s)`/`outputCol(s)`, `missingValue`
    /// (default NaN), `strategy`; the surrogates are the one row of `data/` (the
    /// `surrogateDF`, one column per input column).
    pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
        let ColumnPairs { inputs, outputs } = ColumnPairs::from_spark(dir)?;
        let data = dir.data()?;
        let row = DataRow::new(dir, &data);
        let columns = inputs
            .into_iter()
            .zip(outputs)
            .map(|(i, o)| {
                let s = row.f64(&i)?;
                Ok((i, o, s))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(Self::new(
            dir.uid.clone(),
            columns,
            dir.f64("missingValue")?.unwrap_or(f64::NAN),
            dir.string("strategy")?.unwrap_or_else(|| "mean".into()),
            false,
        )))
    }

    /// Loads MLeap's `imputer` op: `surrogate_value`, `missing_value` (absent or null = NaN),
    /// `strategy`, `nullable_input` (ignored: null is always imputed); ports `input` →
    /// `output`.
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        let surrogate = node.attr("surrogate_value", Attributes::f64)?;
        let missing = node
            .opt_attr("missing_value", Attributes::f64)?
            .unwrap_or(f64::NAN);
        let strategy = node
            .opt_attr("strategy", Attributes::string)?
            .unwrap_or_default();
        Ok(Arc::new(Self::new(
            node.name.clone(),
            vec![(
                node.required_input("input")?,
                node.required_output("output")?,
                surrogate,
            )],
            missing,
            strategy,
            true,
        )))
    }
}

impl Stage for Imputer {
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
        // Spark's output has the input's numeric type; ember's column kinds only say "double"
        self.columns
            .output_specs(|_, o| ColumnSpec::new(o, ColumnType::Double))
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("strategy", self.strategy.clone()),
            ("missingValue", self.missing.to_string()),
            (
                "surrogates",
                format!("{:?}", self.surrogates),
            ),
            (
                "semantics",
                if self.mleap { "mleap" } else { "spark" }.to_string(),
            ),
        ]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        self.columns.compile(ctx, false, |k, name, input| {
            let (_, field) = ctx.resolve(input)?;
            let input_type = field.data_type().clone();
            let udf = ImputerUdf::new(
                name,
                ctx.stage_ref(),
                Imputation {
                    surrogate: self.surrogates[k],
                    missing: self.missing,
                    nan_is_missing: self.mleap || self.missing.is_nan(),
                },
            );
            let mut e = ctx.call(udf, vec![ctx.double(input)?]);
            // Spark casts the result back to the input's numeric type
            if !self.mleap && input_type != arrow::datatypes::DataType::Float64 {
                if !input_type.is_numeric() {
                    return Err(ctx.error(
                        input,
                        format!("must be a numeric column, but it is {input_type}"),
                    ));
                }
                e = cast(e, input_type);
            }
            Ok(e)
        })
    }
}
