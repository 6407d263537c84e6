//! MLeap's `coalesce` op (`CoalesceModel`): the first non-null of several double columns
//! (NaN is a value, not a null), or null when all are null.

use std::sync::Arc;

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, lit, when};

use crate::stages::StageDecl;
use crate::error::Result;
use crate::formats::mleap::{BundleFiles, MleapNode};
use crate::stage::{ColumnSpec, ColumnType, Stage, StageContext, StagePlan};

/// MLeap's name for the transformer (it has no Spark class).
pub const CLASS: &str = "ml.combust.mleap.runtime.transformer.feature.Coalesce";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::mleap_only(CLASS, "coalesce", Coalesce::from_mleap),
];

/// First non-null of the inputs.
#[derive(Debug)]
pub struct Coalesce {
    uid: String,
    inputs: Vec<String>,
    output: String,
}

impl Coalesce {
    /// Loads MLeap's `coalesce` op: every input port in the node's order (MLeap reads the
    /// shape's inputs in order: `input0`, `input1`, ...); `nullable_inputs` only describes the
    /// schema and is not needed.
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        let inputs: Vec<String> = node.inputs.iter().map(|(_, c)| c.clone()).collect();
        if inputs.is_empty() {
            return Err(node.error("input0", "the node has no input ports"));
        }
        Ok(Arc::new(Self {
            uid: node.name.clone(),
            inputs,
            output: node.required_output("output")?,
        }))
    }
}

impl Stage for Coalesce {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn class(&self) -> &'static str {
        CLASS
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        self.inputs
            .iter()
            .map(|c| ColumnSpec::new(c, ColumnType::Double))
            .collect()
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        vec![ColumnSpec::new(&self.output, ColumnType::Double)]
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        vec![("inputs", self.inputs.len().to_string())]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        let args = self
            .inputs
            .iter()
            .map(|c| ctx.double(c))
            .collect::<Result<Vec<_>>>()?;
        // a CASE rather than DataFusion's coalesce(), which only the logical optimizer lowers
        // (the compiled path evaluates expressions as planned)
        let mut it = args.into_iter();
        let Some(first) = it.next() else {
            return Err(ctx.error(&self.output, "no inputs"));
        };
        let mut case = when(first.clone().is_not_null(), first);
        for a in it {
            case = case.when(a.clone().is_not_null(), a);
        }
        let e: Expr = case.otherwise(lit(ScalarValue::Float64(None)))?;
        Ok(StagePlan::columns(vec![(self.output.clone(), e)]))
    }
}
