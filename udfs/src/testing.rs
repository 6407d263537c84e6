//! Test helper: invoke a UDF on arrays the way DataFusion does.

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::Field;
use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::logical_expr::{ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl};

/// Plans the return field and invokes `udf` on `args` (all of the same length).
pub fn invoke(udf: &dyn ScalarUDFImpl, args: Vec<ArrayRef>) -> Result<ArrayRef> {
    let arg_fields: Vec<_> = args
        .iter()
        .enumerate()
        .map(|(i, a)| Arc::new(Field::new(format!("a{i}"), a.data_type().clone(), true)))
        .collect();
    let scalars: Vec<_> = args.iter().map(|_| None).collect();
    let return_field = udf.return_field_from_args(ReturnFieldArgs {
        arg_fields: &arg_fields,
        scalar_arguments: &scalars,
    })?;
    let number_rows = args.first().map(|a| a.len()).unwrap_or(0);
    let out = udf.invoke_with_args(ScalarFunctionArgs {
        args: args.into_iter().map(ColumnarValue::Array).collect(),
        arg_fields,
        number_rows,
        return_field,
        config_options: Arc::new(ConfigOptions::default()),
    })?;
    out.to_array(number_rows)
}
