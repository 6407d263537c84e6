//! OneHotEncoderModel: category index → sparse one-hot vector.
//!
//! # Null Handling
//! A null input gives a null vector (Spark's UDF takes a primitive double). A value in
//! `[0, categorySize)` sets position `trunc(value)`; anything else (negative, too large, NaN) is
//! invalid: an error under `handleInvalid = error`, the extra "invalid" category under `keep`.
//! Output width follows Spark's `getConfigedCategorySizes`: `categorySize - 1` with `dropLast`
//! and error, `categorySize + 1` with keep and no `dropLast`, `categorySize` otherwise; an index
//! at or past the width gives the all-zero vector.

use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::common::{ArgKind, StageRef, arrays, as_f64, fingerprint, single_arg_field};
use crate::java_fmt::java_double_to_string;
use crate::vector::{VectorBuilder, vector_data_type};

/// Encoding of one input column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OneHotColumn {
    /// Number of categories seen during fitting (Spark's `categorySizes(i)`).
    pub category_size: usize,
    /// Whether the last category is dropped.
    pub drop_last: bool,
    /// `handleInvalid = keep` (otherwise `error`; Spark's OneHotEncoder has no `skip`).
    pub keep_invalid: bool,
}

impl OneHotColumn {
    /// The output vector width (Spark's `getConfigedCategorySizes`).
    pub fn output_size(&self) -> usize {
        match (self.drop_last, self.keep_invalid) {
            (false, true) => self.category_size + 1,
            (true, false) => self.category_size.saturating_sub(1),
            _ => self.category_size,
        }
    }

    /// The position one label sets, for one row: `Some(i)` for the one-hot position `i`,
    /// `None` for the all-zero vector (the dropped last category, or `keep`'s invalid
    /// category past the width); an invalid label under `error` is Spark's message.
    pub fn encode(&self, label: f64) -> std::result::Result<Option<usize>, String> {
        let orig = self.category_size as f64;
        let idx = if label >= 0.0 && label < orig {
            label
        } else if self.keep_invalid {
            orig
        } else if label < 0.0 {
            return Err(format!(
                "Negative value: {}. Input can't be negative. To handle invalid values, set \
                 Param handleInvalid to keep",
                java_double_to_string(label)
            ));
        } else {
            return Err(format!(
                "Unseen value: {}. To handle unseen values, set Param handleInvalid to keep.",
                java_double_to_string(label)
            ));
        };
        Ok((idx < self.output_size() as f64).then_some(idx as usize))
    }
}

/// `OneHotEncoderModel` for one input column: `double → vector`.
#[derive(Debug)]
pub struct OneHotEncoderUdf {
    name: String,
    signature: Signature,
    stage: StageRef,
    column: String,
    spec: OneHotColumn,
    fingerprint: u64,
}

crate::udf_identity!(OneHotEncoderUdf);

impl OneHotEncoderUdf {
    /// A UDF named `name` encoding `column` of `stage`.
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        column: impl Into<String>,
        spec: OneHotColumn,
    ) -> Self {
        Self {
            name: name.into(),
            signature: Signature::any(1, Volatility::Immutable),
            stage,
            column: column.into(),
            fingerprint: fingerprint(|h| std::hash::Hash::hash(&spec, h)),
            spec,
        }
    }
}

impl ScalarUDFImpl for OneHotEncoderUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(vector_data_type())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        single_arg_field(
            &self.name,
            &self.stage,
            &args,
            ArgKind::Double,
            vector_data_type(),
        )
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args.args, args.number_rows)?;
        let input = as_f64(&self.name, &input[0])?;
        let size = self.spec.output_size();
        let mut out = VectorBuilder::with_capacity(input.len(), 1);
        for (row, label) in input.iter().enumerate() {
            let Some(label) = label else {
                out.push_null();
                continue;
            };
            match self.spec.encode(label) {
                Ok(Some(i)) => out.push_sparse(size, &[i as i32], &[1.0]),
                Ok(None) => out.push_sparse(size, &[], &[]),
                Err(m) => return Err(self.stage.error(&self.column, row, m)),
            }
        }
        Ok(ColumnarValue::Array(out.finish_array()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::invoke;
    use crate::vector::{VectorArray, VectorRef};
    use arrow::array::Float64Array;

    fn run(spec: OneHotColumn, input: Vec<Option<f64>>) -> Result<Vec<Option<Vec<f64>>>> {
        let udf = OneHotEncoderUdf::new("ohe", StageRef::new("o", "OneHotEncoderModel"), "x", spec);
        let out = invoke(&udf, vec![std::sync::Arc::new(Float64Array::from(input))])?;
        let v = VectorArray::try_new(&out).unwrap();
        Ok((0..v.len())
            .map(|i| v.value(i).unwrap().map(|r: VectorRef| r.to_dense()))
            .collect())
    }

    #[test]
    fn drop_last_and_keep() {
        let spec = |drop_last, keep_invalid| OneHotColumn {
            category_size: 3,
            drop_last,
            keep_invalid,
        };
        let out = run(
            spec(true, false),
            vec![Some(0.0), Some(2.0), Some(1.7), None],
        )
        .unwrap();
        assert_eq!(out[0], Some(vec![1.0, 0.0]));
        assert_eq!(out[1], Some(vec![0.0, 0.0]));
        assert_eq!(out[2], Some(vec![0.0, 1.0]));
        assert_eq!(out[3], None);
        let out = run(
            spec(false, true),
            vec![Some(5.0), Some(f64::NAN), Some(-1.0)],
        )
        .unwrap();
        assert_eq!(out[0], Some(vec![0.0, 0.0, 0.0, 1.0]));
        assert_eq!(out[1], Some(vec![0.0, 0.0, 0.0, 1.0]));
        assert_eq!(out[2], Some(vec![0.0, 0.0, 0.0, 1.0]));
        let out = run(spec(true, true), vec![Some(7.0), Some(2.0)]).unwrap();
        assert_eq!(out[0], Some(vec![0.0, 0.0, 0.0]));
        assert_eq!(out[1], Some(vec![0.0, 0.0, 1.0]));
    }

    #[test]
    fn errors_name_the_value() {
        let spec = OneHotColumn {
            category_size: 3,
            drop_last: true,
            keep_invalid: false,
        };
        let e = run(spec, vec![Some(-2.0)]).unwrap_err().to_string();
        assert!(e.contains("Negative value: -2.0"), "{e}");
        let e = run(spec, vec![Some(1.0e7)]).unwrap_err().to_string();
        assert!(e.contains("Unseen value: 1.0E7"), "{e}");
        let e = run(spec, vec![Some(f64::NAN)]).unwrap_err().to_string();
        assert!(e.contains("Unseen value: NaN"), "{e}");
    }
}
