//! `ElementwiseProduct`.

use std::sync::Arc;

use ember_udfs::elementwise_product::ElementwiseProduct;
use serde_json::Value;

use super::vector_map::VectorMapStage;
use crate::stages::StageDecl;
use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::SparkStageDir;
use crate::stage::Stage;

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.ElementwiseProduct";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, from_spark).mleap("elementwise_product", from_mleap),
];

fn build(uid: String, input: String, output: String, scaling: Vec<f64>) -> Arc<dyn Stage> {
    Arc::new(VectorMapStage::new(
        uid,
        CLASS,
        input,
        output,
        Some(scaling.len()),
        vec![("scalingVec", format!("{scaling:?}"))],
        ElementwiseProduct {
            scaling: scaling.into(),
        },
    ))
}

/// A vector param as Spark's `VectorParam` writes it: `{"type":1,"values":[..]}` (dense) or
/// `{"type":0,"size":n,"indices":[..],"values":[..]}` (sparse).
fn json_vector(v: &Value) -> Option<Vec<f64>> {
    let num = |x: &Value| -> Option<f64> {
        match x {
            Value::String(s) if s == "NaN" => Some(f64::NAN),
            Value::String(s) if s == "Inf" || s == "Infinity" => Some(f64::INFINITY),
            Value::String(s) if s == "-Inf" || s == "-Infinity" => Some(f64::NEG_INFINITY),
            other => other.as_f64(),
        }
    };
    let values: Vec<f64> = v
        .get("values")?
        .as_array()?
        .iter()
        .map(num)
        .collect::<Option<_>>()?;
    match v.get("type")?.as_i64()? {
        1 => Some(values),
        0 => {
            let size = usize::try_from(v.get("size")?.as_u64()?).ok()?;
            let mut out = vec![0.0; size];
            let indices = v.get("indices")?.as_array()?;
            if indices.len() != values.len() {
                return None;
            }
            for (i, x) in indices.iter().zip(values) {
                *out.get_mut(usize::try_from(i.as_u64()?).ok()?)? = x;
            }
            Some(out)
        }
        _ => None,
    }
}

/// Loads a Spark-saved `ElementwiseProduct` (param `scalingVec`).
pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
    let scaling = dir
        .param("scalingVec")
        .and_then(json_vector)
        .ok_or_else(|| dir.param_error("scalingVec", "missing or not a vector"))?;
    Ok(build(
        dir.uid.clone(),
        dir.required_string("inputCol")?,
        dir.required_string("outputCol")?,
        scaling,
    ))
}

/// Loads MLeap's `elementwise_product` op (`scaling_vec` tensor).
pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    Ok(build(
        node.name.clone(),
        node.required_input("input")?,
        node.required_output("output")?,
        node.attr("scaling_vec", Attributes::f64s)?,
    ))
}
