//! Stage errors located in the input on the streamed plan of `ember score`.
//!
//! A stage UDF names the rejected row by its index in the batch it was evaluated on, but in a
//! DataFusion plan over streamed, repartitioned (and, with `handleInvalid = skip`, filtered)
//! batches that index says nothing about the input. [`number_stage_errors`] therefore wraps
//! every stage UDF call of the plan in [`LocatedUdf`], which passes the input's row-number
//! column ([`ROW_COLUMN`]) alongside the arguments: both are evaluated on the same batch, so
//! when the stage rejects batch row `i`, the wrapper turns the error into an
//! [`EmberError::Row`] carrying `row_numbers[i]`, the row's zero-based position in the input.
//! [`crate::error::surface`] brings it out of the plan's error and
//! [`crate::io::Inputs::locate`] turns the number into a file line or row.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, FieldRef, UInt64Type};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, Result as DfResult, ScalarValue};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{
    ColumnarValue, Expr, LogicalPlan, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature,
};
use datafusion::prelude::DataFrame;
use ember_udfs::StageError;

use super::read::ROW_COLUMN;
use crate::error::{EmberError, Result};

/// A stage UDF called with the input's row numbers as an extra first argument, so that the
/// row it rejects is reported by its position in the input ([`EmberError::Row`]).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct LocatedUdf {
    inner: Arc<ScalarUDF>,
    signature: Signature,
}

impl LocatedUdf {
    /// `inner`, taking the row numbers (`UInt64`) before its own arguments.
    pub fn new(inner: Arc<ScalarUDF>) -> Self {
        let signature = Signature::variadic_any(inner.signature().volatility);
        Self { inner, signature }
    }
}

impl ScalarUDFImpl for LocatedUdf {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> DfResult<DataType> {
        self.inner.return_type(arg_types.get(1..).unwrap_or_default())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> DfResult<FieldRef> {
        self.inner.return_field_from_args(ReturnFieldArgs {
            arg_fields: args.arg_fields.get(1..).unwrap_or_default(),
            scalar_arguments: args.scalar_arguments.get(1..).unwrap_or_default(),
        })
    }

    fn invoke_with_args(&self, mut args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        if args.args.is_empty() {
            return self.inner.invoke_with_args(args);
        }
        let rows = args.args.remove(0);
        args.arg_fields.remove(0);
        self.inner
            .invoke_with_args(args)
            .map_err(|e| locate(e, &rows))
    }
}

/// `err` as an [`EmberError::Row`] numbered from `rows` when it is a stage's rejection of a
/// row; any other error unchanged.
fn locate(err: DataFusionError, rows: &ColumnarValue) -> DataFusionError {
    let Some(se) = StageError::find(&err) else {
        return err;
    };
    let row = match rows {
        ColumnarValue::Array(a) => a
            .as_primitive_opt::<UInt64Type>()
            .filter(|a| se.row < a.len())
            .map(|a| a.value(se.row)),
        ColumnarValue::Scalar(ScalarValue::UInt64(v)) => *v,
        ColumnarValue::Scalar(_) => None,
    };
    match row.and_then(|r| usize::try_from(r).ok()) {
        Some(row) => DataFusionError::External(Box::new(EmberError::Row {
            row,
            source: se.clone(),
        })),
        None => err,
    }
}

/// Wraps every call of `udfs` (by name) in `df`'s projections and filters in a
/// [`LocatedUdf`] reading [`ROW_COLUMN`], so that a stage's rejection of a row surfaces as an
/// [`EmberError::Row`] numbering the row in the input. Nodes whose input has no
/// [`ROW_COLUMN`] are left as they are. Output names and types do not change.
pub fn number_stage_errors(df: DataFrame, udfs: &[Arc<ScalarUDF>]) -> Result<DataFrame> {
    let names: HashSet<&str> = udfs.iter().map(|u| u.name()).collect();
    let (state, plan) = df.into_parts();
    let plan = plan
        .transform_up(|node| {
            if !matches!(node, LogicalPlan::Projection(_) | LogicalPlan::Filter(_)) {
                return Ok(Transformed::no(node));
            }
            let Some(input) = node.inputs().first().map(|i| Arc::clone(i.schema())) else {
                return Ok(Transformed::no(node));
            };
            let Ok((qualifier, _)) = input.qualified_field_with_unqualified_name(ROW_COLUMN) else {
                return Ok(Transformed::no(node));
            };
            let rows = Expr::Column(Column::new(qualifier.cloned(), ROW_COLUMN));
            let preserver = NamePreserver::new(&node);
            node.map_expressions(|e| {
                let saved = preserver.save(&e);
                let out = e.transform_up(|x| match x {
                    Expr::ScalarFunction(f) if names.contains(f.func.name()) => {
                        let mut args = Vec::with_capacity(f.args.len() + 1);
                        args.push(rows.clone());
                        args.extend(f.args);
                        let udf = Arc::new(ScalarUDF::from(LocatedUdf::new(f.func)));
                        Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction::new_udf(
                            udf, args,
                        ))))
                    }
                    x => Ok(Transformed::no(x)),
                })?;
                Ok(out.update_data(|e| saved.restore(e)))
            })
        })?
        .data;
    Ok(DataFrame::new(state, plan))
}
