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
        self.inner
            .return_type(arg_types.get(1..).unwrap_or_default())
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
                        Ok(Transformed::yes(Expr::ScalarFunction(
                            ScalarFunction::new_udf(udf, args),
                        )))
                    }
                    x => Ok(Transformed::no(x)),
                })?;
                Ok(out.update_data(|e| saved.restore(e)))
            })
        })?
        .data;
    Ok(DataFrame::new(state, plan))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{RecordBatch, StringArray, UInt64Array};
    use arrow::datatypes::{Field, Schema};
    use datafusion::datasource::MemTable;
    use datafusion::logical_expr::col;
    use datafusion::prelude::SessionContext;
    use ember_udfs::HandleInvalid;
    use ember_udfs::string_indexer::{StringIndex, StringIndexerUdf};

    fn indexer(name: &str, labels: &[&str], h: HandleInvalid) -> Arc<ScalarUDF> {
        let index = Arc::new(StringIndex::new(
            labels.iter().map(|l| l.to_string()).collect(),
        ));
        Arc::new(ScalarUDF::from(StringIndexerUdf::new(
            name,
            ember_udfs::StageRef::new(name, "StringIndexerModel"),
            "x",
            index,
            h,
        )))
    }

    /// Two batches (rows 0-2 and 3-5); a skip stage drops the "zz" rows, then a stage that
    /// knows only "a" rejects the "b" of input row 4, the second row left in its batch.
    async fn run(numbered: bool) -> EmberError {
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Utf8, true),
            Field::new(ROW_COLUMN, DataType::UInt64, false),
        ]));
        let batch = |xs: Vec<&str>, first: u64| {
            let n = xs.len() as u64;
            RecordBatch::try_new(
                Arc::clone(&schema),
                vec![
                    Arc::new(StringArray::from(xs)),
                    Arc::new(UInt64Array::from_iter_values(first..first + n)),
                ],
            )
            .unwrap()
        };
        let table = MemTable::try_new(
            Arc::clone(&schema),
            vec![vec![
                batch(vec!["a", "a", "a"], 0),
                batch(vec!["zz", "b", "a"], 3),
            ]],
        )
        .unwrap();
        let ctx = SessionContext::new();
        let skip = indexer("skip_1", &["a", "b"], HandleInvalid::Skip);
        let strict = indexer("strict_1", &["a"], HandleInvalid::Error);
        let df = ctx
            .read_table(Arc::new(table))
            .unwrap()
            .filter(skip.call(vec![col("x")]).is_not_null())
            .unwrap()
            .with_column("y", strict.call(vec![col("x")]))
            .unwrap();
        let df = if numbered {
            number_stage_errors(df, &[skip, strict]).unwrap()
        } else {
            df
        };
        let err = df.collect().await.unwrap_err();
        crate::error::surface(EmberError::DataFusion(err))
    }

    #[tokio::test]
    async fn rejected_rows_are_numbered_in_the_input_through_filters_and_batches() {
        match run(true).await {
            EmberError::Row { row, source } => {
                assert_eq!(row, 4);
                assert_eq!(source.stage.uid.as_ref(), "strict_1");
                assert!(source.message.contains("Unseen label: b."), "{source}");
            }
            e => panic!("expected a located row, got {e:?}"),
        }
    }

    #[tokio::test]
    async fn without_numbering_only_the_batch_index_is_known() {
        // the wrapper is what makes the difference: the stage alone knows only its index in
        // the (filtered, coalesced) batch it was given
        match run(false).await {
            EmberError::Stage(se) => assert_ne!(se.row, 4, "{se:?}"),
            e => panic!("expected a stage error, got {e:?}"),
        }
    }
}
