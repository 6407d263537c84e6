//! `StopWordsRemover` (MLeap `stopwords_remover`): single or multi-column.

use std::sync::Arc;

use ember_udfs::stopwords_remover::StopWordsRemover;

use super::text::TextStage;
use crate::stages::StageDecl;
use crate::error::Result;
use crate::stages::multi_column::ColumnPairs;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::SparkStageDir;
use crate::stage::{ColumnType, Stage};

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.StopWordsRemover";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, from_spark).mleap("stopwords_remover", from_mleap),
];

fn stage(uid: &str, columns: ColumnPairs, m: StopWordsRemover) -> Arc<dyn Stage> {
    let params = vec![
        ("stopWords", m.stop_words.len().to_string() + " words"),
        ("caseSensitive", m.case_sensitive.to_string()),
        ("locale", m.locale.clone()),
    ];
    TextStage::boxed(
        uid,
        CLASS,
        columns,
        ColumnType::TextList,
        ColumnType::TextList,
        None,
        params,
        m,
    )
}

/// Loads a Spark-saved `StopWordsRemover` (`stopWords`, `caseSensitive`, `locale`;
/// `inputCol(s)`/`outputCol(s)`).
pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
    let columns = ColumnPairs::from_spark(dir)?;
    let words = dir
        .strings("stopWords")?
        .ok_or_else(|| dir.param_error("stopWords", "missing"))?;
    let locale = dir.string("locale")?.unwrap_or_else(|| "en".into());
    let m = StopWordsRemover::new(words, dir.bool_or("caseSensitive", false)?, locale);
    Ok(stage(&dir.uid, columns, m))
}

/// Loads MLeap's `stopwords_remover` op (`stop_words`, `case_sensitive`; ports `input`/`output`
/// or `input0..N`/`output0..N`). MLeap has no locale: it lower-cases with the JVM default,
/// taken here as a non-Turkic locale.
pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    let columns = ColumnPairs::from_mleap(node);
    columns.check_pairs(&node.into(), "input")?;
    let m = StopWordsRemover::new(
        node.attr("stop_words", Attributes::strings)?,
        node.opt_attr("case_sensitive", Attributes::bool)?
            .unwrap_or(false),
        "en",
    );
    Ok(stage(&node.name, columns, m))
}
