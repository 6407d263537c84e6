//! `Normalizer`.

use std::sync::Arc;

use ember_udfs::normalizer::Normalizer;

use super::vector_map::VectorMapStage;
use crate::stages::StageDecl;
use crate::error::{EmberError, Result};
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::SparkStageDir;
use crate::stage::Stage;

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.Normalizer";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, from_spark).mleap("normalizer", from_mleap),
];

fn build(
    uid: String,
    input: String,
    output: String,
    p: f64,
    err: impl FnOnce(String) -> EmberError,
) -> Result<Arc<dyn Stage>> {
    // Spark's ParamValidators.gtEq(1)
    if p.is_nan() || p < 1.0 {
        return Err(err(format!("p must be >= 1, found {p}")));
    }
    Ok(Arc::new(VectorMapStage::new(
        uid,
        CLASS,
        input,
        output,
        None,
        vec![("p", p.to_string())],
        Normalizer { p },
    )))
}

/// Loads a Spark-saved `Normalizer` (param `p`, default 2; `"Inf"` for the maximum norm).
pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
    build(
        dir.uid.clone(),
        dir.required_string("inputCol")?,
        dir.required_string("outputCol")?,
        dir.f64("p")?.unwrap_or(2.0),
        |m| dir.param_error("p", m),
    )
}

/// Loads MLeap's `normalizer` op (`p_norm`; infinity is written as `null`, which reads as NaN
/// and means the maximum norm here, since NaN is not a valid p).
pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    let p = node.attr("p_norm", Attributes::f64)?;
    let p = if p.is_nan() { f64::INFINITY } else { p };
    build(
        node.name.clone(),
        node.required_input("input")?,
        node.required_output("output")?,
        p,
        |m| node.error("p_norm", m),
    )
}
