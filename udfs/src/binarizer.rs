//! Binarizer: `1.0` above a threshold, `0.0` otherwise, for doubles and vectors.
//!
//! Doubles: `1.0` when `x > t`, else `0.0` (NaN is never `> t`). Spark 4's
//! `when(!isnan(x) && x > t, 1.0).otherwise(0.0)` also maps null to `0.0`; Spark 3's UDF over a
//! primitive double keeps null.
//! Vectors, as Spark's two UDFs: with `t >= 0` the stored values `> t` become `1.0` in a sparse
//! vector, then `compressedWithNNZ` (dense when `1.5 * (nnz + 1) >= size`); with `t < 0` every
//! element starts at `1.0` and stored values `<= t` become `0.0` (zeros are never `<= t`), then
//! the same compression. NaN is never `> t` nor `<= t`.
//!
//! # Null Handling
//! A null double gives `0.0` (Spark 4) or null (Spark 3), per [`BinarizerUdf::new`]. A null
//! vector is an error (Spark's UDF fails on it).

use std::collections::hash_map::DefaultHasher;
use std::hash::Hash;
use std::sync::Arc;

use arrow::array::Float64Array;
use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::common::{ArgKind, StageRef, arrays, as_f64, fingerprint, hash_f64s, single_arg_field};
use crate::vector::{VectorBuilder, VectorRef};
use crate::vector_map::{VectorMap, VectorMapUdf, push_dense_compressed};

/// A threshold.
#[derive(Debug, Clone, Copy)]
pub struct Binarizer {
    /// Values strictly above it map to 1.
    pub threshold: f64,
}

impl Binarizer {
    /// One double.
    #[inline]
    pub fn scalar(&self, x: f64) -> f64 {
        if !x.is_nan() && x > self.threshold {
            1.0
        } else {
            0.0
        }
    }
}

impl VectorMap for Binarizer {
    fn transform(&self, v: VectorRef<'_>, out: &mut VectorBuilder) -> Result<(), String> {
        let t = self.threshold;
        if t >= 0.0 {
            let mut indices = Vec::new();
            v.for_each_active(|i, x| {
                if x != 0.0 && x > t {
                    indices.push(i as i32);
                }
            });
            let ones = vec![1.0; indices.len()];
            out.push_compressed(v.size(), &indices, &ones);
        } else {
            let mut values = vec![1.0; v.size()];
            v.for_each_active(|i, x| {
                if x != 0.0 && x <= t {
                    values[i] = 0.0;
                }
            });
            push_dense_compressed(out, &values);
        }
        Ok(())
    }

    fn fingerprint(&self, h: &mut DefaultHasher) {
        "binarizer".hash(h);
        hash_f64s(h, &[self.threshold]);
    }
}

/// `Binarizer` on a vector column: `vector → vector`.
pub type BinarizerVectorUdf = VectorMapUdf<Binarizer>;

/// `Binarizer` on a double column: `double → double`.
#[derive(Debug)]
pub struct BinarizerUdf {
    name: String,
    signature: Signature,
    stage: StageRef,
    model: Binarizer,
    null_as_zero: bool,
    fingerprint: u64,
}

crate::udf_identity!(BinarizerUdf);

impl BinarizerUdf {
    /// A UDF named `name` binarizing a double column of `stage`; a null input gives `0.0`
    /// with `null_as_zero` (Spark 4), null otherwise (Spark 3).
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        model: Binarizer,
        null_as_zero: bool,
    ) -> Self {
        Self {
            name: name.into(),
            signature: Signature::any(1, Volatility::Immutable),
            stage,
            fingerprint: fingerprint(|h| {
                model.fingerprint(h);
                null_as_zero.hash(h);
            }),
            model,
            null_as_zero,
        }
    }
}

impl ScalarUDFImpl for BinarizerUdf {
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
        let out: Float64Array = x
            .iter()
            .map(|v| match v {
                Some(v) => Some(self.model.scalar(v)),
                None => self.null_as_zero.then_some(0.0),
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::invoke;
    use crate::vector::VectorArray;
    use arrow::array::Array;

    #[test]
    fn doubles() {
        let run = |null_as_zero: bool| {
            let udf = BinarizerUdf::new(
                "b",
                StageRef::new("s", "Binarizer"),
                Binarizer { threshold: 0.5 },
                null_as_zero,
            );
            let input = Arc::new(Float64Array::from(vec![None, Some(0.6)]));
            invoke(&udf, vec![input]).unwrap()
        };
        assert_eq!(run(true).null_count(), 0);
        assert_eq!(run(false).null_count(), 1);
        let udf = BinarizerUdf::new(
            "b",
            StageRef::new("s", "Binarizer"),
            Binarizer { threshold: 0.5 },
            true,
        );
        let input = Arc::new(Float64Array::from(vec![
            Some(0.5),
            Some(0.6),
            None,
            Some(f64::NAN),
            Some(-1.0),
        ]));
        let out = invoke(&udf, vec![input]).unwrap();
        let out = out.as_any().downcast_ref::<Float64Array>().unwrap();
        assert_eq!(out.values().as_ref(), &[0.0, 1.0, 0.0, 0.0, 0.0]);
        assert_eq!(out.null_count(), 0);
    }

    #[test]
    fn vectors_both_threshold_signs() {
        let run = |t: f64, v: VectorRef<'_>| {
            let mut b = VectorBuilder::default();
            Binarizer { threshold: t }.transform(v, &mut b).unwrap();
            b.finish_array()
        };
        let out = run(1.0, VectorRef::Dense(&[2.0, 0.0, 1.0, f64::NAN, 0.0, 0.0]));
        assert_eq!(
            VectorArray::try_new(&out).unwrap().value(0).unwrap(),
            Some(VectorRef::Sparse {
                size: 6,
                indices: &[0],
                values: &[1.0]
            })
        );
        let out = run(0.0, VectorRef::Dense(&[2.0, 3.0]));
        assert_eq!(
            VectorArray::try_new(&out).unwrap().value(0).unwrap(),
            Some(VectorRef::Dense(&[1.0, 1.0]))
        );
        // negative threshold: implicit zeros become 1; NaN stays 1
        let out = run(
            -1.0,
            VectorRef::Sparse {
                size: 4,
                indices: &[1, 2],
                values: &[-1.0, f64::NAN],
            },
        );
        assert_eq!(
            VectorArray::try_new(&out).unwrap().value(0).unwrap(),
            Some(VectorRef::Dense(&[1.0, 0.0, 1.0, 1.0]))
        );
        let out = run(-1.0, VectorRef::Dense(&[-5.0, -5.0, -5.0, -5.0, -5.0, 1.0]));
        assert_eq!(
            VectorArray::try_new(&out).unwrap().value(0).unwrap(),
            Some(VectorRef::Sparse {
                size: 6,
                indices: &[5],
                values: &[1.0]
            })
        );
    }
}
