//! `HashingTF` (MLeap `hashing_term_frequency`): array of strings → sparse term frequencies.

use std::sync::Arc;

use ember_udfs::hashing_tf::{HashVersion, HashingTf};

use super::text::{TextStage, mleap_single, spark_int, spark_single};
use crate::stages::StageDecl;
use crate::error::Result;
use crate::stages::multi_column::ColumnPairs;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::SparkStageDir;
use crate::stage::{ColumnType, Stage};

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.HashingTF";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, from_spark).mleap("hashing_term_frequency", from_mleap),
];

fn stage(uid: &str, columns: ColumnPairs, m: HashingTf) -> Arc<dyn Stage> {
    let params = vec![
        ("numFeatures", m.num_features.to_string()),
        ("binary", m.binary.to_string()),
        (
            "hash",
            match m.version {
                HashVersion::V1 => "murmur3 (Spark 2)".into(),
                HashVersion::V2 => "murmur3 (Spark 3+)".to_string(),
            },
        ),
    ];
    TextStage::boxed(
        uid,
        CLASS,
        columns,
        ColumnType::TextList,
        ColumnType::Vector,
        Some(m.num_features),
        params,
        m,
    )
}

/// Loads a Spark-saved `HashingTF` (`numFeatures`, `binary`). Models saved by Spark 2.x use
/// Spark 2's byte hash, as Spark 3+ does when it loads them.
pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
    let major = dir
        .spark_version
        .split('.')
        .next()
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(3);
    let m = HashingTf {
        num_features: spark_int(dir, "numFeatures", 1 << 18, 1)? as usize,
        binary: dir.bool_or("binary", false)?,
        version: if major < 3 {
            HashVersion::V1
        } else {
            HashVersion::V2
        },
    };
    Ok(stage(&dir.uid, spark_single(dir)?, m))
}

/// Loads MLeap's `hashing_term_frequency` op (`num_features`, `binary`,
/// `hashUnsafeBytesVersion`: 2 for Spark 3 hashing, absent or 1 for Spark 2's).
pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    let n = node.attr("num_features", Attributes::i64)?;
    if n < 1 || n > i64::from(i32::MAX) {
        return Err(node.error("num_features", format!("must be a positive int, found {n}")));
    }
    let version = match node
        .opt_attr("hashUnsafeBytesVersion", Attributes::i64)?
        .unwrap_or(1)
    {
        1 => HashVersion::V1,
        2 => HashVersion::V2,
        v => {
            return Err(node.error(
                "hashUnsafeBytesVersion",
                format!("unknown hash version {v} (known: 1, 2)"),
            ));
        }
    };
    let m = HashingTf {
        num_features: n as usize,
        binary: node.opt_attr("binary", Attributes::bool)?.unwrap_or(false),
        version,
    };
    Ok(stage(&node.name, mleap_single(node)?, m))
}
