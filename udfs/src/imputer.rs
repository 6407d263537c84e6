//! ImputerModel (Spark's `org.apache.spark.ml.feature.ImputerModel`, and MLeap's `imputer` op):
//! replace missing values of a numeric column by the fitted surrogate.
//!
//! Which values are missing differs between the two:
//! * Spark: null, or equal to `missingValue` with Spark SQL's equality, where NaN equals NaN.
//!   So NaN is missing only when `missingValue` is NaN (its default); with another
//!   `missingValue`, NaN inputs stay NaN.
//! * MLeap (`ImputerModel.apply`): null, NaN, or equal to `missing_value` — NaN is always
//!   missing.
//!
//! Both are "null, NaN when `nan_is_missing`, or equal to `missing`"; the stage sets
//! `nan_is_missing` to `missing.is_nan()` for Spark and to true for MLeap.
//!
//! # Null Handling
//! Null is always missing: the output is the surrogate, never null.

use std::sync::Arc;

use arrow::array::{Array, Float64Builder};
use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::common::{ArgKind, StageRef, arrays, as_f64, fingerprint, hash_f64s, single_arg_field};

/// The fitted replacement of one column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Imputation {
    /// The value written for missing inputs.
    pub surrogate: f64,
    /// The placeholder that marks a value as missing.
    pub missing: f64,
    /// Whether NaN inputs are missing whatever `missing` is.
    pub nan_is_missing: bool,
}

impl Imputation {
    /// Imputes one value (`None` = null).
    #[inline]
    pub fn apply(&self, x: Option<f64>) -> f64 {
        match x {
            None => self.surrogate,
            Some(v) if v.is_nan() && self.nan_is_missing => self.surrogate,
            Some(v) if v == self.missing => self.surrogate,
            Some(v) => v,
        }
    }
}

/// The imputer on one column: `double → double`.
#[derive(Debug)]
pub struct ImputerUdf {
    name: String,
    signature: Signature,
    stage: StageRef,
    imputation: Imputation,
    fingerprint: u64,
}

crate::udf_identity!(ImputerUdf);

impl ImputerUdf {
    /// A UDF named `name` applying `imputation` for `stage`.
    pub fn new(name: impl Into<String>, stage: StageRef, imputation: Imputation) -> Self {
        let fingerprint = fingerprint(|h| {
            use std::hash::Hash;
            hash_f64s(h, &[imputation.surrogate, imputation.missing]);
            imputation.nan_is_missing.hash(h);
        });
        Self {
            name: name.into(),
            signature: Signature::any(1, Volatility::Immutable),
            stage,
            imputation,
            fingerprint,
        }
    }
}

impl ScalarUDFImpl for ImputerUdf {
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
            ArgKind::Double,
            DataType::Float64,
        )
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args.args, args.number_rows)?;
        let x = as_f64(&self.name, &input[0])?;
        let mut out = Float64Builder::with_capacity(x.len());
        for row in 0..x.len() {
            let v = (!x.is_null(row)).then(|| x.value(row));
            out.append_value(self.imputation.apply(v));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_and_mleap_missing_values() {
        let spark_nan = Imputation {
            surrogate: 5.0,
            missing: f64::NAN,
            nan_is_missing: true,
        };
        assert_eq!(spark_nan.apply(None), 5.0);
        assert_eq!(spark_nan.apply(Some(f64::NAN)), 5.0);
        assert_eq!(spark_nan.apply(Some(1.0)), 1.0);
        let spark_minus_one = Imputation {
            surrogate: 5.0,
            missing: -1.0,
            nan_is_missing: false,
        };
        assert_eq!(spark_minus_one.apply(Some(-1.0)), 5.0);
        assert!(spark_minus_one.apply(Some(f64::NAN)).is_nan());
        assert_eq!(spark_minus_one.apply(None), 5.0);
        let mleap = Imputation {
            nan_is_missing: true,
            ..spark_minus_one
        };
        assert_eq!(mleap.apply(Some(f64::NAN)), 5.0);
        assert_eq!(mleap.apply(Some(-1.0)), 5.0);
        assert_eq!(mleap.apply(Some(0.0)), 0.0);
    }
}
