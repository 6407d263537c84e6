//! MLeap's `math_unary` op (`org.apache.spark.ml.mleap.feature.MathUnary`, from
//! mleap-spark-extension): a `java.lang.Math` function of one double column.

use std::sync::Arc;

use ember_udfs::math_unary::{MathUnaryUdf, UnaryOperation};

use crate::stages::StageDecl;
use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::stage::{ColumnSpec, ColumnType, Stage, StageContext, StagePlan};

/// The Spark transformer MLeap's extension defines for this op.
pub const CLASS: &str = "org.apache.spark.ml.mleap.feature.MathUnary";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::mleap_only(CLASS, "math_unary", MathUnary::from_mleap),
];

/// A unary math transform.
#[derive(Debug)]
pub struct MathUnary {
    uid: String,
    input: String,
    output: String,
    operation: UnaryOperation,
}

impl MathUnary {
    /// A stage applying `operation` to `input`, written to `output`.
    pub fn new(
        uid: impl Into<String>,
        input: String,
        output: String,
        operation: UnaryOperation,
    ) -> Self {
        Self {
            uid: uid.into(),
            input,
            output,
            operation,
        }
    }

    /// Loads MLeap's `math_unary` op: `operation` (log, exp, sqrt, sin, cos, tan, abs, logit,
    /// floor, ceil, round); ports `input` → `output`.
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        let name = node.attr("operation", Attributes::string)?;
        let operation = UnaryOperation::parse(&name).ok_or_else(|| {
            node.error(
                "operation",
                format!(
                    "unsupported unary operation '{name}' (supported: {})",
                    UnaryOperation::ALL
                        .iter()
                        .map(|o| o.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        Ok(Arc::new(Self::new(
            node.name.clone(),
            node.required_input("input")?,
            node.required_output("output")?,
            operation,
        )))
    }
}

impl Stage for MathUnary {
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
        vec![ColumnSpec::new(&self.output, ColumnType::Double)]
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        vec![("operation", self.operation.name().to_string())]
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        let udf = MathUnaryUdf::new(
            ctx.udf_name(""),
            ctx.stage_ref(),
            self.input.as_str(),
            self.operation,
        );
        Ok(StagePlan::columns(vec![(
            self.output.clone(),
            ctx.call(udf, vec![ctx.double(&self.input)?]),
        )]))
    }
}
