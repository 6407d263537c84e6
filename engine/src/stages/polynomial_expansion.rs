//! `PolynomialExpansion`.

use std::sync::Arc;

use ember_udfs::polynomial_expansion::PolynomialExpansion;

use super::vector_map::VectorMapStage;
use crate::stages::StageDecl;
use crate::error::{EmberError, Result};
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::SparkStageDir;
use crate::stage::Stage;

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.PolynomialExpansion";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, from_spark).mleap("polynomial_expansion", from_mleap),
];

fn build(
    uid: String,
    input: String,
    output: String,
    degree: i64,
    err: impl Fn(String) -> EmberError,
) -> Result<Arc<dyn Stage>> {
    let degree = usize::try_from(degree)
        .ok()
        .filter(|d| *d >= 1)
        .ok_or_else(|| err(format!("degree must be >= 1, found {degree}")))?;
    Ok(Arc::new(VectorMapStage::new(
        uid,
        CLASS,
        input,
        output,
        None,
        vec![("degree", degree.to_string())],
        PolynomialExpansion { degree },
    )))
}

/// Loads a Spark-saved `PolynomialExpansion` (param `degree`, default 2).
pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
    let degree = match dir.param("degree") {
        None => 2,
        Some(v) => v
            .as_i64()
            .ok_or_else(|| dir.param_error("degree", format!("expected an integer, found {v}")))?,
    };
    build(
        dir.uid.clone(),
        dir.required_string("inputCol")?,
        dir.required_string("outputCol")?,
        degree,
        |m| dir.param_error("degree", m),
    )
}

/// Loads MLeap's `polynomial_expansion` op (`degree`).
pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    build(
        node.name.clone(),
        node.required_input("input")?,
        node.required_output("output")?,
        node.attr("degree", Attributes::i64)?,
        |m| node.error("degree", m),
    )
}
