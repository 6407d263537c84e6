//! `LinearRegressionModel`: `prediction = features · coefficients + intercept`, on the
//! regressor shell.

use std::sync::Arc;

use ember_udfs::linear_regression::LinearModel;

use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::{DataRow, SparkStageDir};
use crate::stage::Stage;
use crate::stages::regressor::{RegressorColumns, RegressorStage};
use crate::stages::{Origin, StageDecl};

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.regression.LinearRegressionModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] =
    &[StageDecl::spark(CLASS, from_spark).mleap("linear_regression", from_mleap)];

/// The stage predicting with `coefficients` and `intercept`.
pub fn build(
    at: &Origin,
    columns: RegressorColumns,
    coefficients: Vec<f64>,
    intercept: f64,
) -> Arc<dyn Stage> {
    let params = vec![
        ("numFeatures", coefficients.len().to_string()),
        ("intercept", intercept.to_string()),
    ];
    let model = LinearModel {
        coefficients,
        intercept,
    };
    RegressorStage::boxed(at, CLASS, columns, model, params)
}

/// Loads a Spark-saved `LinearRegressionModel` (`coefficients`, `intercept`).
pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
    let data = dir.data()?;
    let row = DataRow::new(dir, &data);
    Ok(build(
        &dir.into(),
        RegressorColumns::from_spark(dir)?,
        row.vector("coefficients")?,
        row.f64("intercept")?,
    ))
}

/// Loads MLeap's `linear_regression` op (`coefficients`, `intercept`; ports `features` →
/// `prediction`).
pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    Ok(build(
        &node.into(),
        RegressorColumns::from_mleap(node)?,
        node.attr("coefficients", Attributes::f64s)?,
        node.opt_attr("intercept", Attributes::f64)?.unwrap_or(0.0),
    ))
}
