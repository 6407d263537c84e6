//! MLeap's `multinomial_labeler` op (`MultinomialLabelerModel`; no Spark class in Spark
//! itself): the vector entries at or above `threshold`, as values (`array<double>`) and labels
//! (`array<string>`).

use std::sync::Arc;

use ember_udfs::multinomial_labeler::{
    LabelerOutput, MultinomialLabeler as Model, MultinomialLabelerUdf,
};

use crate::stages::StageDecl;
use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::stage::{ColumnSpec, ColumnType, Stage, StageContext, StagePlan};

/// The MLeap model class (there is no Spark class).
pub const CLASS: &str = "ml.combust.mleap.core.feature.MultinomialLabelerModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::mleap_only(CLASS, "multinomial_labeler", MultinomialLabeler::from_mleap),
];

/// A fitted labeler with its columns; either output may be absent.
#[derive(Debug)]
pub struct MultinomialLabeler {
    uid: String,
    features: String,
    probabilities: Option<String>,
    labels: Option<String>,
    model: Arc<Model>,
}

impl MultinomialLabeler {
    /// Loads MLeap's `multinomial_labeler` op: `threshold` (double) and `labels` (list of
    /// strings); input port `features`, output ports `probabilities` and `labels` (at least one).
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        let threshold = node.attr("threshold", Attributes::f64)?;
        let labels = node.attr("labels", Attributes::strings)?;
        let probabilities = node.output("probabilities").map(str::to_string);
        let label_col = node.output("labels").map(str::to_string);
        if probabilities.is_none() && label_col.is_none() {
            return Err(node.error(
                "probabilities",
                "the node has neither a probabilities nor a labels output port",
            ));
        }
        Ok(Arc::new(Self {
            uid: node.name.clone(),
            features: node.required_input("features")?,
            probabilities,
            labels: label_col,
            model: Arc::new(Model { threshold, labels }),
        }))
    }
}

impl Stage for MultinomialLabeler {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn class(&self) -> &'static str {
        CLASS
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        vec![ColumnSpec::new(&self.features, ColumnType::Vector)]
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        let mut out = Vec::new();
        if let Some(p) = &self.probabilities {
            out.push(ColumnSpec::new(p, ColumnType::DoubleList));
        }
        if let Some(l) = &self.labels {
            out.push(ColumnSpec::new(l, ColumnType::TextList));
        }
        out
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("threshold", self.model.threshold.to_string()),
            ("labels", format!("{:?}", self.model.labels)),
        ]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        let features = ctx.vector(&self.features)?;
        let udf = |output: LabelerOutput, suffix: &str| {
            ctx.call(
                MultinomialLabelerUdf::new(
                    ctx.udf_name(suffix),
                    ctx.stage_ref(),
                    self.features.as_str(),
                    output,
                    Arc::clone(&self.model),
                ),
                vec![features.clone()],
            )
        };
        let mut columns = Vec::new();
        if let Some(p) = &self.probabilities {
            columns.push((
                p.clone(),
                udf(LabelerOutput::Probabilities, "_probabilities"),
            ));
        }
        if let Some(l) = &self.labels {
            columns.push((l.clone(), udf(LabelerOutput::Labels, "_labels")));
        }
        Ok(StagePlan::columns(columns))
    }
}
