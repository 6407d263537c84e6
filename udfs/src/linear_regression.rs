//! LinearRegressionModel: `prediction = features · coefficients + intercept`.
//!
//! # Null Handling
//! A null features vector, or one whose size differs from the model's, fails (as in Spark).

use std::sync::Arc;

use arrow::array::Float64Builder;
use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::common::{ArgKind, StageRef, arrays, fingerprint, hash_f64s, single_arg_field};
use crate::vector::VectorArray;

/// A fitted linear model.
#[derive(Debug, Clone)]
pub struct LinearModel {
    /// One coefficient per feature.
    pub coefficients: Vec<f64>,
    /// The intercept (0 when fitted without one).
    pub intercept: f64,
}

/// `LinearRegressionModel`: `vector → double`.
#[derive(Debug)]
pub struct LinearRegressionUdf {
    name: String,
    signature: Signature,
    stage: StageRef,
    column: String,
    model: Arc<LinearModel>,
    fingerprint: u64,
}

crate::udf_identity!(LinearRegressionUdf);

impl LinearRegressionUdf {
    /// A UDF named `name` predicting from `column` for `stage`.
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        column: impl Into<String>,
        model: Arc<LinearModel>,
    ) -> Self {
        let fingerprint = fingerprint(|h| {
            hash_f64s(h, &model.coefficients);
            hash_f64s(h, &[model.intercept]);
        });
        Self {
            name: name.into(),
            signature: Signature::any(1, Volatility::Immutable),
            stage,
            column: column.into(),
            model,
            fingerprint,
        }
    }
}

impl ScalarUDFImpl for LinearRegressionUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        single_arg_field(
            &self.name,
            &self.stage,
            &args,
            ArgKind::Vector,
            DataType::Float64,
        )
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args.args, args.number_rows)?;
        let va = VectorArray::try_new(input[0].as_ref())?;
        let w = &self.model.coefficients;
        let mut out = Float64Builder::with_capacity(va.len());
        for row in 0..va.len() {
            let v = va
                .value(row)
                .map_err(|e| self.stage.error(&self.column, row, e.to_string()))?
                .ok_or_else(|| self.stage.error(&self.column, row, "null vector"))?;
            if v.size() != w.len() {
                return Err(self.stage.error(
                    &self.column,
                    row,
                    format!(
                        "vector size {} does not match the model's {}",
                        v.size(),
                        w.len()
                    ),
                ));
            }
            out.append_value(v.dot(w) + self.model.intercept);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}
