//! MLeap's `word_filter` op (WordLengthFilterModel; no Spark class): keeps the all-letter words
//! longer than `length`.

use std::sync::Arc;

use ember_udfs::word_filter::WordFilter;

use super::text::{TextStage, mleap_single};
use crate::stages::StageDecl;
use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::stage::{ColumnType, Stage};

/// The MLeap model class (there is no Spark class).
pub const CLASS: &str = "ml.combust.mleap.core.feature.WordLengthFilterModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::mleap_only(CLASS, "word_filter", from_mleap),
];

/// Loads MLeap's `word_filter` op (`length`, default 3 as in MLeap's model).
pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    let length = node.opt_attr("length", Attributes::i64)?.unwrap_or(3);
    Ok(TextStage::boxed(
        &node.name,
        CLASS,
        mleap_single(node)?,
        ColumnType::TextList,
        ColumnType::TextList,
        None,
        vec![("length", length.to_string())],
        WordFilter { length },
    ))
}
