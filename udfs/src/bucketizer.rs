//! Bucketizer: map a double to the index of its bucket between consecutive splits.
//!
//! Spark's `binarySearchForBuckets` exactly: NaN is invalid; a value equal to the last split
//! goes into the last bucket; otherwise Java's `Arrays.binarySearch` (which orders `-0.0`
//! before `0.0`) gives the split at or below the value; a value outside `[first, last]` is an
//! error in every mode (`Feature value v out of Bucketizer bounds [a, b]. ...`).
//!
//! # Null Handling
//! A null input gives a null output (Spark's UDF takes a primitive double) under `error` and
//! `keep`. NaN fails under `error` and maps to the extra bucket `splits.len() - 1` under `keep`.
//! Under `skip` Spark drops rows whose input is null or NaN before transforming: the UDF returns
//! null for them and the stage filters those rows out. A multi-column Bucketizer drops a row when
//! any of its inputs is null or NaN, before bucketing any column, so under `skip` each column's
//! UDF also receives the other input columns ([`BucketizerUdf::with_skip_guards`]) and returns
//! null without bucketing (and so without an out-of-bounds error) when one of them is invalid.

use std::sync::Arc;

use arrow::array::{Array, Float64Builder};
use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use crate::common::{
    ArgKind, HandleInvalid, StageRef, arrays, as_f64, fingerprint, hash_f64s, single_arg_field,
    volatility,
};
use crate::java_fmt::java_double_to_string;

/// Java's `Arrays.binarySearch(double[], double)`: the index of `key`, or `-(insertion point) - 1`.
/// Equal values are told apart by their bit patterns, so `-0.0` sorts before `0.0`.
pub fn java_binary_search(a: &[f64], key: f64) -> isize {
    let (mut low, mut high) = (0isize, a.len() as isize - 1);
    while low <= high {
        let mid = (low + high) / 2;
        let mid_val = a[mid as usize];
        if mid_val < key {
            low = mid + 1;
        } else if mid_val > key {
            high = mid - 1;
        } else {
            let mid_bits = canonical_bits(mid_val);
            let key_bits = canonical_bits(key);
            if mid_bits == key_bits {
                return mid;
            } else if mid_bits < key_bits {
                low = mid + 1;
            } else {
                high = mid - 1;
            }
        }
    }
    -(low + 1)
}

/// Java's `Double.doubleToLongBits` (NaN canonicalised) as a signed long.
fn canonical_bits(x: f64) -> i64 {
    if x.is_nan() {
        0x7ff8_0000_0000_0000
    } else {
        x.to_bits() as i64
    }
}

/// Spark's `Bucketizer.binarySearchForBuckets`: `Ok(None)` for an invalid (NaN) value under
/// `skip`, an error message for a row Spark fails on.
pub fn bucket(
    splits: &[f64],
    x: f64,
    handle_invalid: HandleInvalid,
) -> std::result::Result<Option<f64>, String> {
    let n = splits.len();
    if x.is_nan() {
        return match handle_invalid {
            HandleInvalid::Keep => Ok(Some((n - 1) as f64)),
            HandleInvalid::Skip => Ok(None),
            HandleInvalid::Error => {
                Err("Bucketizer encountered NaN value. To handle or skip NaNs, \
                                         try setting Bucketizer.handleInvalid."
                    .into())
            }
        };
    }
    if x == splits[n - 1] {
        return Ok(Some((n - 2) as f64));
    }
    let idx = java_binary_search(splits, x);
    if idx >= 0 {
        return Ok(Some(idx as f64));
    }
    let insert = (-idx - 1) as usize;
    if insert == 0 || insert == n {
        Err(format!(
            "Feature value {} out of Bucketizer bounds [{}, {}]. Check your features, or loosen \
             the lower/upper bound constraints.",
            java_double_to_string(x),
            java_double_to_string(splits[0]),
            java_double_to_string(splits[n - 1])
        ))
    } else {
        Ok(Some((insert - 1) as f64))
    }
}

/// `Bucketizer` for one column: `double → double`.
#[derive(Debug)]
pub struct BucketizerUdf {
    name: String,
    signature: Signature,
    stage: StageRef,
    column: String,
    splits: Arc<[f64]>,
    handle_invalid: HandleInvalid,
    guards: usize,
    fingerprint: u64,
}

crate::udf_identity!(BucketizerUdf);

impl BucketizerUdf {
    /// A UDF named `name` bucketing `column` of `stage` by `splits` (at least three, strictly
    /// increasing; the loader checks).
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        column: impl Into<String>,
        splits: Arc<[f64]>,
        handle_invalid: HandleInvalid,
    ) -> Self {
        Self {
            name: name.into(),
            signature: Signature::any(1, volatility(handle_invalid)),
            stage,
            column: column.into(),
            fingerprint: fingerprint(|h| {
                use std::hash::Hash;
                hash_f64s(h, &splits);
                handle_invalid.hash(h);
            }),
            splits,
            handle_invalid,
            guards: 0,
        }
    }

    /// Under `skip`, the UDF takes `guards` more double arguments (the stage's other input
    /// columns) and returns null for a row where any of them is null or NaN.
    pub fn with_skip_guards(mut self, guards: usize) -> Self {
        self.guards = guards;
        self.signature = Signature::any(1 + guards, volatility(self.handle_invalid));
        self
    }
}

impl ScalarUDFImpl for BucketizerUdf {
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
        if self.guards > 0 {
            let ok = args.arg_fields.len() == 1 + self.guards
                && args
                    .arg_fields
                    .iter()
                    .all(|f| f.data_type() == &DataType::Float64);
            if !ok {
                return datafusion::common::plan_err!(
                    "{}: {} expects {} double arguments",
                    self.name,
                    self.stage,
                    1 + self.guards
                );
            }
            return Ok(Arc::new(arrow::datatypes::Field::new(
                &self.name,
                DataType::Float64,
                true,
            )));
        }
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
        let guards = input[1..]
            .iter()
            .map(|a| as_f64(&self.name, a))
            .collect::<Result<Vec<_>>>()?;
        let dropped = |row: usize| {
            guards
                .iter()
                .any(|g| g.is_null(row) || g.value(row).is_nan())
        };
        let mut out = Float64Builder::with_capacity(x.len());
        for (row, v) in x.iter().enumerate() {
            match v {
                None => out.append_null(),
                Some(_) if dropped(row) => out.append_null(),
                Some(v) => out.append_option(
                    bucket(&self.splits, v, self.handle_invalid)
                        .map_err(|m| self.stage.error(&self.column, row, m))?,
                ),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Float64Array;

    const INF: f64 = f64::INFINITY;

    #[test]
    fn buckets_like_spark() {
        let s = [-INF, -1.0, 0.0, 2.5, INF];
        let b = |x| bucket(&s, x, HandleInvalid::Error).unwrap().unwrap();
        assert_eq!(b(-INF), 0.0);
        assert_eq!(b(-5.0), 0.0);
        assert_eq!(b(-1.0), 1.0);
        assert_eq!(b(-0.0), 1.0); // Java orders -0.0 below the 0.0 split
        assert_eq!(b(0.0), 2.0);
        assert_eq!(b(2.5), 3.0);
        assert_eq!(b(INF), 3.0);
        assert_eq!(
            bucket(&s, f64::NAN, HandleInvalid::Keep).unwrap(),
            Some(4.0)
        );
        assert_eq!(bucket(&s, f64::NAN, HandleInvalid::Skip).unwrap(), None);
        assert!(
            bucket(&s, f64::NAN, HandleInvalid::Error)
                .unwrap_err()
                .starts_with("Bucketizer encountered NaN value")
        );
        let finite = [0.0, 10.0, 20.0];
        assert_eq!(
            bucket(&finite, 20.0, HandleInvalid::Keep).unwrap(),
            Some(1.0)
        );
        assert_eq!(
            bucket(&finite, 20.5, HandleInvalid::Keep).unwrap_err(),
            "Feature value 20.5 out of Bucketizer bounds [0.0, 20.0]. Check your features, or \
             loosen the lower/upper bound constraints."
        );
        assert!(bucket(&finite, -1e-300, HandleInvalid::Keep).is_err());
    }

    #[test]
    fn nulls_pass_and_skip_nulls_nan() {
        let udf = BucketizerUdf::new(
            "b",
            StageRef::new("s", "Bucketizer"),
            "x",
            Arc::from(vec![0.0, 1.0, 2.0]),
            HandleInvalid::Skip,
        );
        let input = Arc::new(Float64Array::from(vec![Some(0.5), None, Some(f64::NAN)]));
        let out = crate::testing::invoke(&udf, vec![input]).unwrap();
        let out = out.as_any().downcast_ref::<Float64Array>().unwrap();
        assert_eq!(out.value(0), 0.0);
        assert!(out.is_null(1) && out.is_null(2));
    }

    #[test]
    fn skip_guards_drop_rows_before_bounds_checks() {
        let udf = BucketizerUdf::new(
            "b",
            StageRef::new("s", "Bucketizer"),
            "x",
            Arc::from(vec![0.0, 1.0, 2.0]),
            HandleInvalid::Skip,
        )
        .with_skip_guards(1);
        // row 0: x out of bounds but the other column is NaN: dropped, no error
        let x = Arc::new(Float64Array::from(vec![Some(5.0), Some(1.5), Some(0.5)]));
        let other = Arc::new(Float64Array::from(vec![Some(f64::NAN), None, Some(3.0)]));
        let out = crate::testing::invoke(&udf, vec![x, other]).unwrap();
        let out = out.as_any().downcast_ref::<Float64Array>().unwrap();
        assert!(out.is_null(0) && out.is_null(1));
        assert_eq!(out.value(2), 0.0);
        // without the NaN guard, the out-of-bounds value fails
        let x = Arc::new(Float64Array::from(vec![Some(5.0)]));
        let other = Arc::new(Float64Array::from(vec![Some(1.0)]));
        assert!(crate::testing::invoke(&udf, vec![x, other]).is_err());
    }
}
