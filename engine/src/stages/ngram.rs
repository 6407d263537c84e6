//! `NGram` (MLeap `ngram`): array of strings → array of space-joined n-grams.

use std::sync::Arc;

use ember_udfs::ngram::NGram;

use super::text::{TextStage, mleap_single, spark_int, spark_single};
use crate::stages::StageDecl;
use crate::error::Result;
use crate::stages::multi_column::ColumnPairs;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::SparkStageDir;
use crate::stage::{ColumnType, Stage};

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.NGram";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, from_spark).mleap("ngram", from_mleap),
];

fn stage(uid: &str, columns: ColumnPairs, n: usize) -> Arc<dyn Stage> {
    TextStage::boxed(
        uid,
        CLASS,
        columns,
        ColumnType::TextList,
        ColumnType::TextList,
        None,
        vec![("n", n.to_string())],
        NGram { n },
    )
}

/// Loads a Spark-saved `NGram` (`n`, default 2).
pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
    let n = spark_int(dir, "n", 2, 1)? as usize;
    Ok(stage(&dir.uid, spark_single(dir)?, n))
}

/// Loads MLeap's `ngram` op (`n`).
pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    let n = node.attr("n", Attributes::i64)?;
    if n < 1 || n > i64::from(i32::MAX) {
        return Err(node.error("n", format!("must be >= 1, found {n}")));
    }
    Ok(stage(&node.name, mleap_single(node)?, n as usize))
}
