//! `StringIndexerModel` (single and multi-column).

use std::sync::Arc;

use ember_udfs::HandleInvalid;
use ember_udfs::string_indexer::{StringIndex, StringIndexerUdf};

use crate::error::Result;
use crate::stages::multi_column::ColumnPairs;
use crate::stages::{Origin, StageDecl};
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::{DataRow, SparkStageDir};
use crate::stage::{ColumnMeta, ColumnSpec, ColumnType, Stage, StageContext, StagePlan};

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.StringIndexerModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, StringIndexer::from_spark).mleap("string_indexer", StringIndexer::from_mleap),
];

/// A fitted StringIndexer: one label list per input column.
#[derive(Debug)]
pub struct StringIndexer {
    uid: String,
    columns: ColumnPairs,
    indexes: Vec<Arc<StringIndex>>,
    handle_invalid: HandleInvalid,
}

impl StringIndexer {
    /// A StringIndexer over `inputs → outputs` with one label list per column.
    pub fn new(
        uid: impl Into<String>,
        inputs: Vec<String>,
        outputs: Vec<String>,
        labels: Vec<Vec<String>>,
        handle_invalid: HandleInvalid,
    ) -> Self {
        Self {
            uid: uid.into(),
            columns: ColumnPairs { inputs, outputs },
            indexes: labels
                .into_iter()
                .map(|l| Arc::new(StringIndex::new(l)))
                .collect(),
            handle_invalid,
        }
    }

    /// The stage, after checking one label list per column pair.
    fn build(
        at: &Origin,
        columns: ColumnPairs,
        labels: Vec<Vec<String>>,
        handle_invalid: HandleInvalid,
    ) -> Result<Arc<dyn Stage>> {
        columns.check(at, "labelsArray", "label lists", labels.len())?;
        let ColumnPairs { inputs, outputs } = columns;
        Ok(Arc::new(Self::new(
            at.uid.clone(),
            inputs,
            outputs,
            labels,
            handle_invalid,
        )))
    }

    /// Loads a Spark-saved `StringIndexerModel` (`labelsArray`, or Spark 2's `labels`).
    pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
        let columns = ColumnPairs::from_spark(dir)?;
        let handle_invalid = super::handle_invalid(dir, &["error", "skip", "keep"])?;
        let data = dir.data()?;
        let row = DataRow::new(dir, &data);
        let labels = if row.has("labelsArray") {
            row.string_lists("labelsArray")?
        } else {
            vec![row.strings("labels")?]
        };
        Self::build(&dir.into(), columns, labels, handle_invalid)
    }

    /// Loads MLeap's `string_indexer` op: `labels_length` + `labels_array_{k}` (Spark 3 era), or
    /// the legacy single `labels` list; ports `input`/`output` or `input0..N`/`output0..N`.
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        let labels = match node.opt_attr("labels_length", Attributes::i64)? {
            Some(n) => (0..n)
                .map(|k| node.attr(&format!("labels_array_{k}"), Attributes::strings))
                .collect::<Result<Vec<_>>>()?,
            None => vec![node.attr("labels", Attributes::strings)?],
        };
        let handle_invalid = super::mleap_handle_invalid(node, &["error", "skip", "keep"])?;
        Self::build(
            &node.into(),
            ColumnPairs::from_mleap(node),
            labels,
            handle_invalid,
        )
    }
}

impl Stage for StringIndexer {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn class(&self) -> &'static str {
        CLASS
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        self.columns.input_specs(ColumnType::Text)
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        self.columns.output_specs(|i, c| {
            // Spark's output metadata: the labels, plus "__unknown" under keep
            let mut labels = self.indexes[i].labels().to_vec();
            if self.handle_invalid == HandleInvalid::Keep {
                labels.push("__unknown".to_string());
            }
            ColumnSpec::new(c, ColumnType::Double).with_meta(ColumnMeta {
                vector_size: None,
                labels: Some(labels.into()),
            })
        })
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        let sizes: Vec<String> = self
            .indexes
            .iter()
            .map(|i| i.labels().len().to_string())
            .collect();
        vec![
            ("handleInvalid", self.handle_invalid.as_str().to_string()),
            ("labels", sizes.join(", ")),
        ]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        let skip = self.handle_invalid == HandleInvalid::Skip;
        self.columns.compile(ctx, skip, |i, name, input| {
            let udf = StringIndexerUdf::new(
                name,
                ctx.stage_ref(),
                input,
                Arc::clone(&self.indexes[i]),
                self.handle_invalid,
            );
            Ok(ctx.call(udf, vec![ctx.text(input)?]))
        })
    }
}
