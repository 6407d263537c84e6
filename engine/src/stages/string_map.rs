//! MLeap's `string_map` op (`org.apache.spark.ml.mleap.feature.StringMap`, from
//! mleap-spark-extension / mleap.pyspark): a fixed label → double map.

use std::sync::Arc;

use ember_udfs::HandleInvalid;
use ember_udfs::string_map::{StringMap as Model, StringMapUdf};

use crate::stages::StageDecl;
use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::stage::{ColumnSpec, ColumnType, Stage, StageContext, StagePlan};

/// The Spark transformer MLeap's extension defines for this op.
pub const CLASS: &str = "org.apache.spark.ml.mleap.feature.StringMap";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::mleap_only(CLASS, "string_map", StringMap::from_mleap),
];

/// A string → double lookup.
#[derive(Debug)]
pub struct StringMap {
    uid: String,
    input: String,
    output: String,
    model: Arc<Model>,
}

impl StringMap {
    /// Loads MLeap's `string_map` op: `labels` and `values` (parallel lists), `handle_invalid`
    /// (`error`, the default, or `keep`), `default_value` (default 0.0); ports `input` →
    /// `output`.
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        let labels = node.attr("labels", Attributes::strings)?;
        let values = node.attr("values", Attributes::f64s)?;
        if labels.len() != values.len() {
            return Err(node.error(
                "values",
                format!("{} labels but {} values", labels.len(), values.len()),
            ));
        }
        let keep =
            crate::stages::mleap_handle_invalid(node, &["error", "keep"])? == HandleInvalid::Keep;
        let default = node
            .opt_attr("default_value", Attributes::f64)?
            .unwrap_or(0.0);
        Ok(Arc::new(Self {
            uid: node.name.clone(),
            input: node.required_input("input")?,
            output: node.required_output("output")?,
            model: Arc::new(Model::new(&labels, &values, keep.then_some(default))),
        }))
    }
}

impl Stage for StringMap {
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
        vec![ColumnSpec::new(&self.output, ColumnType::Double)]
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = vec![
            ("labels", self.model.map.len().to_string()),
            (
                "handleInvalid",
                if self.model.default.is_some() {
                    "keep"
                } else {
                    "error"
                }
                .to_string(),
            ),
        ];
        if let Some(d) = self.model.default {
            p.push(("defaultValue", d.to_string()));
        }
        p
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        let udf = StringMapUdf::new(
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
