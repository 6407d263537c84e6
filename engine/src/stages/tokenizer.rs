//! `Tokenizer` and `RegexTokenizer` (MLeap `tokenizer`, `regex_tokenizer`): string → array of
//! tokens. See `ember_udfs::tokenizer` for the semantics and the Java-regex differences.

use std::sync::Arc;

use ember_udfs::tokenizer::RegexTokenizer;

use super::text::{TextStage, mleap_single, spark_int, spark_single};
use crate::stages::StageDecl;
use crate::error::Result;
use crate::stages::multi_column::ColumnPairs;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::SparkStageDir;
use crate::stage::{ColumnType, Stage};

/// Spark class name of Tokenizer.
pub const CLASS: &str = "org.apache.spark.ml.feature.Tokenizer";
/// Spark class name of RegexTokenizer.
pub const REGEX_CLASS: &str = "org.apache.spark.ml.feature.RegexTokenizer";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, tokenizer_from_spark).mleap("tokenizer", tokenizer_from_mleap),
    StageDecl::spark(REGEX_CLASS, regex_tokenizer_from_spark).mleap("regex_tokenizer", regex_tokenizer_from_mleap),
];

fn stage(
    uid: &str,
    class: &'static str,
    columns: ColumnPairs,
    t: RegexTokenizer,
) -> Arc<dyn Stage> {
    let params = if class == CLASS {
        vec![]
    } else {
        vec![
            ("pattern", t.pattern.clone()),
            ("gaps", t.gaps.to_string()),
            ("minTokenLength", t.min_token_length.to_string()),
            ("toLowercase", t.to_lowercase.to_string()),
        ]
    };
    TextStage::boxed(
        uid,
        class,
        columns,
        ColumnType::Text,
        ColumnType::TextList,
        None,
        params,
        t,
    )
}

/// Loads a Spark-saved `Tokenizer`.
pub fn tokenizer_from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
    Ok(stage(
        &dir.uid,
        CLASS,
        spark_single(dir)?,
        RegexTokenizer::tokenizer(),
    ))
}

/// Loads MLeap's `tokenizer` op (no attributes).
pub fn tokenizer_from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    Ok(stage(
        &node.name,
        CLASS,
        mleap_single(node)?,
        RegexTokenizer::tokenizer(),
    ))
}

/// Loads a Spark-saved `RegexTokenizer` (`pattern`, `gaps`, `minTokenLength`, `toLowercase`).
pub fn regex_tokenizer_from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
    let pattern = dir.string("pattern")?.unwrap_or_else(|| r"\s+".into());
    let t = RegexTokenizer::new(
        &pattern,
        dir.bool_or("gaps", true)?,
        spark_int(dir, "minTokenLength", 1, 0)? as usize,
        dir.bool_or("toLowercase", true)?,
    )
    .map_err(|m| dir.param_error("pattern", m))?;
    Ok(stage(&dir.uid, REGEX_CLASS, spark_single(dir)?, t))
}

/// Loads MLeap's `regex_tokenizer` op (`regex`, `match_gaps`, `token_min_length`,
/// `lowercase_text`).
pub fn regex_tokenizer_from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    let pattern = node.attr("regex", Attributes::string)?;
    let min = node
        .opt_attr("token_min_length", Attributes::i64)?
        .unwrap_or(1);
    if min < 0 {
        return Err(node.error("token_min_length", "must be >= 0"));
    }
    let t = RegexTokenizer::new(
        &pattern,
        node.opt_attr("match_gaps", Attributes::bool)?
            .unwrap_or(true),
        min as usize,
        node.opt_attr("lowercase_text", Attributes::bool)?
            .unwrap_or(true),
    )
    .map_err(|m| node.error("regex", m))?;
    Ok(stage(&node.name, REGEX_CLASS, mleap_single(node)?, t))
}
