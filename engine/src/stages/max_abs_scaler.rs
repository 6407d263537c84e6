//! `MaxAbsScalerModel`.

use std::sync::Arc;

use ember_udfs::max_abs_scaler::MaxAbsScaler;

use super::vector_map::VectorMapStage;
use crate::stages::StageDecl;
use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::{DataRow, SparkStageDir};
use crate::stage::Stage;

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.MaxAbsScalerModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, from_spark).mleap("max_abs_scaler", from_mleap),
];

fn build(uid: String, input: String, output: String, max_abs: &[f64]) -> Arc<dyn Stage> {
    Arc::new(VectorMapStage::new(
        uid,
        CLASS,
        input,
        output,
        Some(max_abs.len()),
        vec![("size", max_abs.len().to_string())],
        MaxAbsScaler::new(max_abs),
    ))
}

/// Loads a Spark-saved `MaxAbsScalerModel` (`maxAbs`).
pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
    let data = dir.data()?;
    let max_abs = DataRow::new(dir, &data).vector("maxAbs")?;
    Ok(build(
        dir.uid.clone(),
        dir.required_string("inputCol")?,
        dir.required_string("outputCol")?,
        &max_abs,
    ))
}

/// Loads MLeap's `max_abs_scaler` op (`maxAbs` tensor).
pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    Ok(build(
        node.name.clone(),
        node.required_input("input")?,
        node.required_output("output")?,
        &node.attr("maxAbs", Attributes::f64s)?,
    ))
}
