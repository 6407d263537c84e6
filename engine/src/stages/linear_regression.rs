//! `LinearRegressionModel`.

use std::sync::Arc;

use ember_udfs::linear_regression::{LinearModel, LinearRegressionUdf};

use crate::stages::StageDecl;
use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::{DataRow, SparkStageDir};
use crate::stage::{ColumnSpec, ColumnType, Stage, StageContext, StagePlan};

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.regression.LinearRegressionModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, LinearRegression::from_spark).mleap("linear_regression", LinearRegression::from_mleap),
];

/// A fitted linear regression.
#[derive(Debug)]
pub struct LinearRegression {
    uid: String,
    features: String,
    prediction: String,
    model: Arc<LinearModel>,
}

impl LinearRegression {
    /// A stage predicting `prediction` from `features` (an empty prediction name produces
    /// nothing, as in Spark).
    pub fn new(
        uid: impl Into<String>,
        features: String,
        prediction: String,
        coefficients: Vec<f64>,
        intercept: f64,
    ) -> Self {
        Self {
            uid: uid.into(),
            features,
            prediction,
            model: Arc::new(LinearModel {
                coefficients,
                intercept,
            }),
        }
    }

    /// Loads a Spark-saved `LinearRegressionModel` (`coefficients`, `intercept`).
    pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
        let data = dir.data()?;
        let row = DataRow::new(dir, &data);
        Ok(Arc::new(Self::new(
            dir.uid.clone(),
            dir.string("featuresCol")?
                .unwrap_or_else(|| "features".into()),
            dir.string("predictionCol")?
                .unwrap_or_else(|| "prediction".into()),
            row.vector("coefficients")?,
            row.f64("intercept")?,
        )))
    }

    /// Loads MLeap's `linear_regression` op (`coefficients`, `intercept`; ports `features` →
    /// `prediction`).
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        Ok(Arc::new(Self::new(
            node.name.clone(),
            node.required_input("features")?,
            node.output("prediction").unwrap_or_default().to_string(),
            node.attr("coefficients", Attributes::f64s)?,
            node.opt_attr("intercept", Attributes::f64)?.unwrap_or(0.0),
        )))
    }
}

impl Stage for LinearRegression {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn class(&self) -> &'static str {
        CLASS
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        vec![ColumnSpec::new(&self.features, ColumnType::Vector)]
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        if self.prediction.is_empty() {
            return vec![];
        }
        vec![ColumnSpec::new(&self.prediction, ColumnType::Double)]
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("numFeatures", self.model.coefficients.len().to_string()),
            ("intercept", self.model.intercept.to_string()),
        ]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        if self.prediction.is_empty() {
            return Ok(StagePlan::default());
        }
        let udf = LinearRegressionUdf::new(
            ctx.udf_name(""),
            ctx.stage_ref(),
            self.features.as_str(),
            Arc::clone(&self.model),
        );
        Ok(StagePlan::columns(vec![(
            self.prediction.clone(),
            ctx.call(udf, vec![ctx.vector(&self.features)?]),
        )]))
    }
}
