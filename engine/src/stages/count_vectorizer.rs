//! `CountVectorizerModel` (MLeap `count_vectorizer`): array of strings → sparse counts over a
//! fitted vocabulary.

use std::sync::Arc;

use ember_udfs::count_vectorizer::CountVectorizer;

use super::text::{TextStage, mleap_single, spark_single};
use crate::stages::StageDecl;
use crate::error::Result;
use crate::stages::multi_column::ColumnPairs;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::{DataRow, SparkStageDir};
use crate::stage::{ColumnType, Stage};

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.CountVectorizerModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, from_spark).mleap("count_vectorizer", from_mleap),
];

fn stage(uid: &str, columns: ColumnPairs, m: CountVectorizer) -> Arc<dyn Stage> {
    let params = vec![
        ("vocabSize", m.vocabulary.len().to_string()),
        ("minTF", m.min_tf.to_string()),
        ("binary", m.binary.to_string()),
    ];
    let size = m.vocabulary.len();
    TextStage::boxed(
        uid,
        CLASS,
        columns,
        ColumnType::TextList,
        ColumnType::Vector,
        Some(size),
        params,
        m,
    )
}

/// Loads a Spark-saved `CountVectorizerModel` (data `vocabulary`; params `minTF`, `binary`).
pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
    let data = dir.data()?;
    let vocabulary = DataRow::new(dir, &data).strings("vocabulary")?;
    let min_tf = dir.f64("minTF")?.unwrap_or(1.0);
    if min_tf.is_nan() || min_tf < 0.0 {
        return Err(dir.param_error("minTF", format!("must be >= 0, found {min_tf}")));
    }
    let m = CountVectorizer::new(vocabulary, min_tf, dir.bool_or("binary", false)?);
    Ok(stage(&dir.uid, spark_single(dir)?, m))
}

/// Loads MLeap's `count_vectorizer` op (`vocabulary`, `binary`, `min_tf`).
pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    let min_tf = node.opt_attr("min_tf", Attributes::f64)?.unwrap_or(1.0);
    if min_tf.is_nan() || min_tf < 0.0 {
        return Err(node.error("min_tf", format!("must be >= 0, found {min_tf}")));
    }
    let m = CountVectorizer::new(
        node.attr("vocabulary", Attributes::strings)?,
        min_tf,
        node.opt_attr("binary", Attributes::bool)?.unwrap_or(false),
    );
    Ok(stage(&node.name, mleap_single(node)?, m))
}
