//! `StringIndexerModel` (single and multi-column).

use std::sync::Arc;

use datafusion::logical_expr::col;
use ember_udfs::HandleInvalid;
use ember_udfs::string_indexer::{StringIndex, StringIndexerUdf};

use crate::stages::StageDecl;
use crate::error::Result;
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
    inputs: Vec<String>,
    outputs: Vec<String>,
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
            inputs,
            outputs,
            indexes: labels
                .into_iter()
                .map(|l| Arc::new(StringIndex::new(l)))
                .collect(),
            handle_invalid,
        }
    }

    /// Loads a Spark-saved `StringIndexerModel` (`labelsArray`, or Spark 2's `labels`).
    pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
        let (inputs, outputs) = dir.in_out_columns()?;
        let handle_invalid = super::handle_invalid(dir, &["error", "skip", "keep"])?;
        let data = dir.data()?;
        let row = DataRow::new(dir, &data);
        let labels = if row.has("labelsArray") {
            row.string_lists("labelsArray")?
        } else {
            vec![row.strings("labels")?]
        };
        if labels.len() != inputs.len() {
            return Err(dir.param_error(
                "labelsArray",
                format!(
                    "{} label lists for {} input columns",
                    labels.len(),
                    inputs.len()
                ),
            ));
        }
        Ok(Arc::new(Self::new(
            dir.uid.clone(),
            inputs,
            outputs,
            labels,
            handle_invalid,
        )))
    }

    /// Loads MLeap's `string_indexer` op: `labels_length` + `labels_array_{k}` (Spark 3 era), or
    /// the legacy single `labels` list; ports `input`/`output` or `input0..N`/`output0..N`.
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        let inputs = MleapNode::numbered(&node.inputs, "input");
        let outputs = MleapNode::numbered(&node.outputs, "output");
        let labels = match node.opt_attr("labels_length", Attributes::i64)? {
            Some(n) => (0..n)
                .map(|k| node.attr(&format!("labels_array_{k}"), Attributes::strings))
                .collect::<Result<Vec<_>>>()?,
            None => vec![node.attr("labels", Attributes::strings)?],
        };
        if inputs.is_empty() || inputs.len() != outputs.len() || inputs.len() != labels.len() {
            return Err(node.error(
                "labels",
                format!(
                    "{} input ports, {} output ports and {} label lists do not match",
                    inputs.len(),
                    outputs.len(),
                    labels.len()
                ),
            ));
        }
        let handle_invalid = super::mleap_handle_invalid(node, &["error", "skip", "keep"])?;
        Ok(Arc::new(Self::new(
            node.name.clone(),
            inputs,
            outputs,
            labels,
            handle_invalid,
        )))
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
        self.inputs
            .iter()
            .map(|c| ColumnSpec::new(c, ColumnType::Text))
            .collect()
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        self.outputs
            .iter()
            .zip(&self.indexes)
            .map(|(c, idx)| {
                // Spark's output metadata: the labels, plus "__unknown" under keep
                let mut labels = idx.labels().to_vec();
                if self.handle_invalid == HandleInvalid::Keep {
                    labels.push("__unknown".to_string());
                }
                ColumnSpec::new(c, ColumnType::Double).with_meta(ColumnMeta {
                    vector_size: None,
                    labels: Some(labels.into()),
                })
            })
            .collect()
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
        let mut columns = Vec::with_capacity(self.inputs.len());
        for (i, ((input, output), index)) in self
            .inputs
            .iter()
            .zip(&self.outputs)
            .zip(&self.indexes)
            .enumerate()
        {
            let name = ctx.column_udf_name(i, self.inputs.len());
            let udf = StringIndexerUdf::new(
                name,
                ctx.stage_ref(),
                input.as_str(),
                Arc::clone(index),
                self.handle_invalid,
            );
            columns.push((output.clone(), ctx.call(udf, vec![ctx.text(input)?])));
        }
        let plan = StagePlan::columns(columns);
        Ok(if self.handle_invalid == HandleInvalid::Skip {
            plan.keep_non_null(
                self.outputs
                    .iter()
                    .map(|o| col(datafusion::common::Column::from_name(o))),
            )
        } else {
            plan
        })
    }
}
