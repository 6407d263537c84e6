//! MLeap's `math_binary` op (`org.apache.spark.ml.mleap.feature.MathBinary`, from
//! mleap-spark-extension): Java double arithmetic on two operands, each a column (ports
//! `input_a`, `input_b`) or a fixed value (attributes `da`, `db`).

use std::sync::Arc;

use datafusion::logical_expr::lit;
use ember_udfs::math_binary::{BinaryOperation, MathBinaryUdf, Operands};

use crate::stages::StageDecl;
use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::stage::{ColumnSpec, ColumnType, Stage, StageContext, StagePlan};

/// The Spark transformer MLeap's extension defines for this op.
pub const CLASS: &str = "org.apache.spark.ml.mleap.feature.MathBinary";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::mleap_only(CLASS, "math_binary", MathBinary::from_mleap),
];

/// One operand: a column or a fixed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// Read from this column.
    Column(String),
    /// This value for every row.
    Value(f64),
}

/// A binary math transform.
#[derive(Debug)]
pub struct MathBinary {
    uid: String,
    a: Operand,
    b: Operand,
    output: String,
    operation: BinaryOperation,
}

impl MathBinary {
    /// A stage computing `operation(a, b)` into `output`.
    pub fn new(
        uid: impl Into<String>,
        a: Operand,
        b: Operand,
        output: String,
        operation: BinaryOperation,
    ) -> Self {
        Self {
            uid: uid.into(),
            a,
            b,
            output,
            operation,
        }
    }

    /// Loads MLeap's `math_binary` op: `operation` (add, sub, mul, div, rem, log_n, pow, min,
    /// max), optional `da`/`db`; an operand's port wins over its default (MLeap's runtime
    /// picks the function by the ports present), and an operand with neither is an error
    /// (MLeap fails on every row).
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        let name = node.attr("operation", Attributes::string)?;
        let operation = BinaryOperation::parse(&name).ok_or_else(|| {
            node.error(
                "operation",
                format!(
                    "unsupported binary operation '{name}' (supported: {})",
                    BinaryOperation::ALL
                        .iter()
                        .map(|o| o.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        let operand = |port: &str, default: &str| -> Result<Operand> {
            if let Some(c) = node.input(port) {
                return Ok(Operand::Column(c.to_string()));
            }
            match node.opt_attr(default, Attributes::f64)? {
                Some(v) => Ok(Operand::Value(v)),
                None => Err(node.error(
                    port,
                    format!("the node has neither an {port} port nor a '{default}' default"),
                )),
            }
        };
        Ok(Arc::new(Self::new(
            node.name.clone(),
            operand("input_a", "da")?,
            operand("input_b", "db")?,
            node.required_output("output")?,
            operation,
        )))
    }
}

impl Stage for MathBinary {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn class(&self) -> &'static str {
        CLASS
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        [&self.a, &self.b]
            .into_iter()
            .filter_map(|o| match o {
                Operand::Column(c) => Some(ColumnSpec::new(c, ColumnType::Double)),
                Operand::Value(_) => None,
            })
            .collect()
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        vec![ColumnSpec::new(&self.output, ColumnType::Double)]
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = vec![("operation", self.operation.name().to_string())];
        if let Operand::Value(v) = self.a {
            p.push(("da", v.to_string()));
        }
        if let Operand::Value(v) = self.b {
            p.push(("db", v.to_string()));
        }
        p
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        let op = self.operation;
        let (operands, columns) = match (&self.a, &self.b) {
            (Operand::Value(a), Operand::Value(b)) => {
                // no input columns: the same value on every row
                return Ok(StagePlan::columns(vec![(
                    self.output.clone(),
                    lit(op.apply(*a, *b)),
                )]));
            }
            (Operand::Column(a), Operand::Column(b)) => (Operands::Both, vec![a, b]),
            (Operand::Column(a), Operand::Value(b)) => (Operands::A { b: *b }, vec![a]),
            (Operand::Value(a), Operand::Column(b)) => (Operands::B { a: *a }, vec![b]),
        };
        let args = columns
            .iter()
            .map(|c| ctx.double(c))
            .collect::<Result<Vec<_>>>()?;
        let udf = MathBinaryUdf::new(
            ctx.udf_name(""),
            ctx.stage_ref(),
            columns.into_iter().cloned().collect(),
            op,
            operands,
        );
        Ok(StagePlan::columns(vec![(
            self.output.clone(),
            ctx.call(udf, args),
        )]))
    }
}
