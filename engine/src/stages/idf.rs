//! `IDFModel`.

use std::sync::Arc;

use ember_udfs::idf::Idf;

use super::vector_map::VectorMapStage;
use crate::stages::StageDecl;
use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::{DataRow, SparkStageDir};
use crate::stage::Stage;

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.IDFModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, from_spark).mleap("idf", from_mleap),
];

fn build(uid: String, input: String, output: String, idf: Vec<f64>) -> Arc<dyn Stage> {
    Arc::new(VectorMapStage::new(
        uid,
        CLASS,
        input,
        output,
        Some(idf.len()),
        vec![("size", idf.len().to_string())],
        Idf { idf: idf.into() },
    ))
}

/// Loads a Spark-saved `IDFModel` (`idf`; `docFreq` and `numDocs` are not needed to score).
pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
    let data = dir.data()?;
    let idf = DataRow::new(dir, &data).vector("idf")?;
    Ok(build(
        dir.uid.clone(),
        dir.required_string("inputCol")?,
        dir.required_string("outputCol")?,
        idf,
    ))
}

/// Loads MLeap's `idf` op (`idf` tensor).
pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    Ok(build(
        node.name.clone(),
        node.required_input("input")?,
        node.required_output("output")?,
        node.attr("idf", Attributes::f64s)?,
    ))
}
