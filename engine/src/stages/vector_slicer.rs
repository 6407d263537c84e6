//! `VectorSlicer`.

use std::sync::Arc;

use ember_udfs::vector_slicer::VectorSlicer;
use serde_json::Value;

use super::vector_map::VectorMapStage;
use crate::stages::StageDecl;
use crate::error::{EmberError, Result};
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::SparkStageDir;
use crate::stage::Stage;

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.VectorSlicer";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, from_spark).mleap("vector_slicer", from_mleap),
];

fn build(
    uid: String,
    input: String,
    output: String,
    indices: Vec<i64>,
    err: impl Fn(String) -> EmberError,
) -> Result<Arc<dyn Stage>> {
    if indices.is_empty() {
        return Err(err(
            "VectorSlicer requires that at least one feature be selected.".into(),
        ));
    }
    let indices = indices
        .iter()
        .map(|i| usize::try_from(*i).map_err(|_| err(format!("negative index {i}"))))
        .collect::<Result<Vec<_>>>()?;
    let mut seen = indices.clone();
    seen.sort_unstable();
    seen.dedup();
    if seen.len() != indices.len() {
        return Err(err(format!("duplicate indices in {indices:?}")));
    }
    Ok(Arc::new(VectorMapStage::new(
        uid,
        CLASS,
        input,
        output,
        Some(indices.len()),
        vec![("indices", format!("{indices:?}"))],
        VectorSlicer {
            indices: indices.into(),
        },
    )))
}

/// Loads a Spark-saved `VectorSlicer` (`indices`). Selection by `names` needs the input
/// column's ML attribute metadata, which ember does not carry: such a model is a load error.
pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
    if dir.strings("names")?.is_some_and(|n| !n.is_empty()) {
        return Err(dir.param_error(
            "names",
            "selecting features by name is not supported (it needs Spark's ML attribute \
             metadata); use indices",
        ));
    }
    let indices = match dir.param("indices") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_i64())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| dir.param_error("indices", "expected an array of integers"))?,
        Some(v) => return Err(dir.param_error("indices", format!("expected an array, found {v}"))),
    };
    build(
        dir.uid.clone(),
        dir.required_string("inputCol")?,
        dir.required_string("outputCol")?,
        indices,
        |m| dir.param_error("indices", m),
    )
}

/// Loads MLeap's `vector_slicer` op: `indices` then `named_indices` (the positions MLeap
/// resolved the `names` to when it wrote the bundle), as MLeap's runtime concatenates them.
pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    let mut indices = node
        .opt_attr("indices", Attributes::i64s)?
        .unwrap_or_default();
    indices.extend(
        node.opt_attr("named_indices", Attributes::i64s)?
            .unwrap_or_default(),
    );
    build(
        node.name.clone(),
        node.required_input("input")?,
        node.required_output("output")?,
        indices,
        |m| node.error("indices", m),
    )
}
