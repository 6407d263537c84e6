//! MLeap's `regex_indexer` op: the index of the first matching regex (an `int` column).

use std::sync::Arc;

use ember_udfs::regex_indexer::{RegexIndex, RegexIndexerUdf};

use crate::stages::StageDecl;
use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::stage::{ColumnSpec, ColumnType, Stage, StageContext, StagePlan};

/// MLeap's name for the transformer (it has no Spark class).
pub const CLASS: &str = "ml.combust.mleap.runtime.transformer.feature.RegexIndexer";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::mleap_only(CLASS, "regex_indexer", RegexIndexer::from_mleap),
];

/// A regex → index lookup.
#[derive(Debug)]
pub struct RegexIndexer {
    uid: String,
    input: String,
    output: String,
    model: Arc<RegexIndex>,
}

impl RegexIndexer {
    /// Loads MLeap's `regex_indexer` op: `regexes` and `indices` (parallel lists),
    /// optional `default_value`; ports `input` → `output`.
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        let regexes = node.attr("regexes", Attributes::strings)?;
        let indices = node.attr("indices", Attributes::i64s)?;
        if regexes.len() != indices.len() {
            return Err(node.error(
                "indices",
                format!("{} regexes but {} indices", regexes.len(), indices.len()),
            ));
        }
        let int = |name: &str, v: i64| {
            i32::try_from(v).map_err(|_| node.error(name, format!("{v} is not an int")))
        };
        let indices = indices
            .into_iter()
            .map(|v| int("indices", v))
            .collect::<Result<Vec<_>>>()?;
        let default = node
            .opt_attr("default_value", Attributes::i64)?
            .map(|v| int("default_value", v))
            .transpose()?;
        let model =
            RegexIndex::new(&regexes, &indices, default).map_err(|m| node.error("regexes", m))?;
        Ok(Arc::new(Self {
            uid: node.name.clone(),
            input: node.required_input("input")?,
            output: node.required_output("output")?,
            model: Arc::new(model),
        }))
    }
}

impl Stage for RegexIndexer {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn class(&self) -> &'static str {
        CLASS
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        vec![ColumnSpec::new(&self.input, ColumnType::Text)]
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        vec![ColumnSpec::new(&self.output, ColumnType::Integer)]
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = vec![(
            "regexes",
            format!(
                "{:?}",
                self.model
                    .lookup
                    .iter()
                    .map(|(r, i)| format!("{} -> {i}", r.as_str()))
                    .collect::<Vec<_>>()
            ),
        )];
        if let Some(d) = self.model.default {
            p.push(("defaultValue", d.to_string()));
        }
        p
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        let udf = RegexIndexerUdf::new(
            ctx.udf_name(""),
            ctx.stage_ref(),
            self.input.as_str(),
            Arc::clone(&self.model),
        );
        Ok(StagePlan::columns(vec![(
            self.output.clone(),
            ctx.call(udf, vec![ctx.text(&self.input)?]),
        )]))
    }
}
