//! `StandardScalerModel`.

use std::sync::Arc;

use ember_udfs::standard_scaler::{StandardScaler as Scaler, StandardScalerUdf};

use crate::stages::{Origin, StageDecl};
use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::{DataRow, SparkStageDir};
use crate::stage::{ColumnMeta, ColumnSpec, ColumnType, Stage, StageContext, StagePlan};

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.StandardScalerModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, StandardScaler::from_spark).mleap("standard_scaler", StandardScaler::from_mleap),
];

/// A fitted StandardScaler.
#[derive(Debug)]
pub struct StandardScaler {
    uid: String,
    input: String,
    output: String,
    with_mean: bool,
    with_std: bool,
    model: Arc<Scaler>,
}

impl StandardScaler {
    /// A scaler from fitted `mean` and `std`.
    pub fn new(
        uid: impl Into<String>,
        input: String,
        output: String,
        mean: &[f64],
        std: &[f64],
        with_mean: bool,
        with_std: bool,
    ) -> Self {
        Self {
            uid: uid.into(),
            input,
            output,
            with_mean,
            with_std,
            model: Arc::new(Scaler::new(mean, std, with_mean, with_std)),
        }
    }

    /// The stage, after checking that `mean` and `std` have one value per feature.
    fn build(
        at: &Origin,
        input: String,
        output: String,
        (mean, std): (&[f64], &[f64]),
        with_mean: bool,
        with_std: bool,
    ) -> Result<Arc<dyn Stage>> {
        if mean.len() != std.len() {
            return Err(at.error(
                "mean",
                format!("{} mean values but {} std values", mean.len(), std.len()),
            ));
        }
        Ok(Arc::new(Self::new(
            at.uid.clone(),
            input,
            output,
            mean,
            std,
            with_mean,
            with_std,
        )))
    }

    /// Loads a Spark-saved `StandardScalerModel` (`std`, `mean` vectors).
    pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
        let data = dir.data()?;
        let row = DataRow::new(dir, &data);
        let (mean, std) = (row.vector("mean")?, row.vector("std")?);
        Self::build(
            &dir.into(),
            dir.required_string("inputCol")?,
            dir.required_string("outputCol")?,
            (&mean, &std),
            dir.bool_or("withMean", false)?,
            dir.bool_or("withStd", true)?,
        )
    }

    /// Loads MLeap's `standard_scaler` op: `mean` present iff withMean, `std` iff withStd.
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        let mean = node.opt_attr("mean", Attributes::f64s)?;
        let std = node.opt_attr("std", Attributes::f64s)?;
        let size = match (&mean, &std) {
            (Some(v), _) | (None, Some(v)) => v.len(),
            (None, None) => return Err(node.error("std", "neither mean nor std is present")),
        };
        let zeros = vec![0.0; size];
        Self::build(
            &node.into(),
            node.required_input("input")?,
            node.required_output("output")?,
            (
                mean.as_deref().unwrap_or(&zeros),
                std.as_deref().unwrap_or(&zeros),
            ),
            mean.is_some(),
            std.is_some(),
        )
    }
}

impl Stage for StandardScaler {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn class(&self) -> &'static str {
        CLASS
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        vec![ColumnSpec::new(&self.input, ColumnType::Vector)]
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        vec![
            ColumnSpec::new(&self.output, ColumnType::Vector).with_meta(ColumnMeta {
                vector_size: Some(self.model.size),
                labels: None,
            }),
        ]
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("withMean", self.with_mean.to_string()),
            ("withStd", self.with_std.to_string()),
            ("size", self.model.size.to_string()),
        ]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        let udf = StandardScalerUdf::new(
            ctx.udf_name(""),
            ctx.stage_ref(),
            self.input.as_str(),
            Arc::clone(&self.model),
        );
        Ok(StagePlan::columns(vec![(
            self.output.clone(),
            ctx.call(udf, vec![ctx.vector(&self.input)?]),
        )]))
    }
}
