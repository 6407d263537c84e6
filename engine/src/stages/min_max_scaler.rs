//! `MinMaxScalerModel`.

use std::sync::Arc;

use ember_udfs::min_max_scaler::MinMaxScaler;

use super::vector_map::VectorMapStage;
use crate::stages::{Origin, StageDecl};
use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::{DataRow, SparkStageDir};
use crate::stage::Stage;

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.MinMaxScalerModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, from_spark).mleap("min_max_scaler", from_mleap),
];

/// The stage, after checking that `originalMin` and `originalMax` have one value per feature.
fn build(
    at: &Origin,
    input: String,
    output: String,
    original_min: &[f64],
    original_max: &[f64],
    min: f64,
    max: f64,
) -> Result<Arc<dyn Stage>> {
    if original_min.len() != original_max.len() {
        return Err(at.error(
            "originalMax",
            format!(
                "{} originalMin values but {} originalMax values",
                original_min.len(),
                original_max.len()
            ),
        ));
    }
    let params = vec![
        ("min", min.to_string()),
        ("max", max.to_string()),
        ("size", original_min.len().to_string()),
    ];
    Ok(Arc::new(VectorMapStage::new(
        at.uid.clone(),
        CLASS,
        input,
        output,
        Some(original_min.len()),
        params,
        MinMaxScaler::new(original_min, original_max, min, max),
    )))
}

/// Loads a Spark-saved `MinMaxScalerModel` (`originalMin`, `originalMax`; params `min`, `max`).
pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
    let data = dir.data()?;
    let row = DataRow::new(dir, &data);
    let (lo, hi) = (row.vector("originalMin")?, row.vector("originalMax")?);
    build(
        &dir.into(),
        dir.required_string("inputCol")?,
        dir.required_string("outputCol")?,
        &lo,
        &hi,
        dir.f64("min")?.unwrap_or(0.0),
        dir.f64("max")?.unwrap_or(1.0),
    )
}

/// Loads MLeap's `min_max_scaler` op: `min`, `max` tensors (the fitted `originalMin` and
/// `originalMax`), optional `minValue`/`maxValue` (the target range; absent in bundles written
/// before MLeap 0.17, meaning Spark's defaults 0 and 1).
pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    let lo = node.attr("min", Attributes::f64s)?;
    let hi = node.attr("max", Attributes::f64s)?;
    build(
        &node.into(),
        node.required_input("input")?,
        node.required_output("output")?,
        &lo,
        &hi,
        node.opt_attr("minValue", Attributes::f64)?.unwrap_or(0.0),
        node.opt_attr("maxValue", Attributes::f64)?.unwrap_or(1.0),
    )
}
