//! `IndexToString`.

use std::sync::Arc;

use ember_udfs::index_to_string::IndexToStringUdf;

use crate::stages::StageDecl;
use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::SparkStageDir;
use crate::stage::{ColumnSpec, ColumnType, Stage, StageContext, StagePlan};

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.IndexToString";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, IndexToString::from_spark).mleap("reverse_string_indexer", IndexToString::from_mleap),
];

/// An IndexToString transformer. Without a `labels` param it uses the labels recorded on its
/// input column (the output of a StringIndexer), as Spark reads them from column metadata.
#[derive(Debug)]
pub struct IndexToString {
    uid: String,
    input: String,
    output: String,
    labels: Option<Arc<[String]>>,
}

impl IndexToString {
    /// An IndexToString from `input` to `output`.
    pub fn new(
        uid: impl Into<String>,
        input: String,
        output: String,
        labels: Option<Vec<String>>,
    ) -> Self {
        Self {
            uid: uid.into(),
            input,
            output,
            labels: labels.filter(|l| !l.is_empty()).map(Into::into),
        }
    }

    /// Loads a Spark-saved `IndexToString`.
    pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
        Ok(Arc::new(Self::new(
            dir.uid.clone(),
            dir.required_string("inputCol")?,
            dir.required_string("outputCol")?,
            dir.strings("labels")?,
        )))
    }

    /// Loads MLeap's `reverse_string_indexer` op (`labels`).
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        Ok(Arc::new(Self::new(
            node.name.clone(),
            node.required_input("input")?,
            node.required_output("output")?,
            Some(node.attr("labels", Attributes::strings)?),
        )))
    }
}

impl Stage for IndexToString {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn class(&self) -> &'static str {
        CLASS
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        vec![ColumnSpec::new(&self.input, ColumnType::Double)]
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        vec![ColumnSpec::new(&self.output, ColumnType::Text)]
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        vec![(
            "labels",
            match &self.labels {
                Some(l) => l.join(", "),
                None => "(from the input column's metadata)".to_string(),
            },
        )]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        let labels = match &self.labels {
            Some(l) => Arc::clone(l),
            None => ctx.meta(&self.input).labels.ok_or_else(|| {
                ctx.error(
                    &self.input,
                    "IndexToString has no labels param and the input column carries no labels \
                     (it is not the output of a StringIndexer in this pipeline)",
                )
            })?,
        };
        let udf = IndexToStringUdf::new(
            ctx.udf_name(""),
            ctx.stage_ref(),
            self.input.as_str(),
            labels,
        );
        Ok(StagePlan::columns(vec![(
            self.output.clone(),
            ctx.call(udf, vec![ctx.double(&self.input)?]),
        )]))
    }
}
