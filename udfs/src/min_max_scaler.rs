//! MinMaxScalerModel: rescale each feature to `[min, max]`.
//!
//! Spark's formula exactly: `scale[i] = (max - min) / (originalMax[i] - originalMin[i])`, 0 when
//! the range is 0; a non-NaN `x` becomes `(x - originalMin[i]) * scale[i] + min`, or
//! `(min + max) / 2` for a constant feature (`scale[i] == 0`); NaN stays NaN. The output is
//! `Vectors.dense(values).compressed` (sparse or dense input alike).
//!
//! # Null Handling
//! A null vector is an error (Spark's UDF dereferences it), as is a vector whose size differs
//! from the model's (Spark: `Number of features must be N but got M`).

use std::collections::hash_map::DefaultHasher;
use std::hash::Hash;
use std::sync::Arc;

use crate::common::hash_f64s;
use crate::vector::{VectorBuilder, VectorRef};
use crate::vector_map::{VectorMap, VectorMapUdf, push_dense_compressed};

/// The fitted statistics and the target range.
#[derive(Debug, Clone)]
pub struct MinMaxScaler {
    /// Per-feature minimum seen in training (`originalMin`).
    pub original_min: Arc<[f64]>,
    /// Per-feature multiplier `(max - min) / range`, 0 for constant features.
    pub scale: Arc<[f64]>,
    /// Lower bound of the output range (`min`).
    pub min: f64,
    /// Output for a constant feature: `(min + max) / 2`.
    pub constant: f64,
}

impl MinMaxScaler {
    /// From Spark's `originalMin`, `originalMax` and the `min`/`max` params.
    pub fn new(original_min: &[f64], original_max: &[f64], min: f64, max: f64) -> Self {
        let span = max - min;
        Self {
            original_min: original_min.into(),
            scale: original_min
                .iter()
                .zip(original_max)
                .map(|(lo, hi)| {
                    let range = hi - lo;
                    if range != 0.0 { span / range } else { 0.0 }
                })
                .collect(),
            min,
            constant: (min + max) / 2.0,
        }
    }

    /// Number of features.
    pub fn size(&self) -> usize {
        self.scale.len()
    }
}

impl VectorMap for MinMaxScaler {
    fn transform(&self, v: VectorRef<'_>, out: &mut VectorBuilder) -> Result<(), String> {
        let n = self.size();
        if v.size() != n {
            return Err(format!(
                "requirement failed: Number of features must be {n} but got {}",
                v.size()
            ));
        }
        let mut values = v.to_dense();
        for ((x, lo), s) in values
            .iter_mut()
            .zip(self.original_min.iter())
            .zip(self.scale.iter())
        {
            if !x.is_nan() {
                *x = if *s != 0.0 {
                    (*x - lo) * s + self.min
                } else {
                    self.constant
                };
            }
        }
        push_dense_compressed(out, &values);
        Ok(())
    }

    fn fingerprint(&self, h: &mut DefaultHasher) {
        "min_max_scaler".hash(h);
        hash_f64s(h, &self.original_min);
        hash_f64s(h, &self.scale);
        hash_f64s(h, &[self.min, self.constant]);
    }

    fn width_hint(&self) -> usize {
        self.size()
    }
}

/// `MinMaxScalerModel`: `vector → vector`.
pub type MinMaxScalerUdf = VectorMapUdf<MinMaxScaler>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::StageRef;
    use crate::testing::invoke;
    use crate::vector::VectorArray;

    #[test]
    fn formula_constant_feature_nan_and_representation() {
        // feature 0 in [1, 3], feature 1 constant 5, features 2..4 in [0, 10]
        let m = MinMaxScaler::new(&[1.0, 5.0, 0.0, 0.0], &[3.0, 5.0, 10.0, 10.0], -1.0, 1.0);
        let mut b = VectorBuilder::default();
        b.push_dense(&[2.0, 7.0, f64::NAN, 10.0]);
        b.push_sparse(4, &[0], &[1.0]);
        b.push_dense(&[1.0, 5.0, 5.0, 5.0]);
        let input = b.finish_array();
        let udf = MinMaxScalerUdf::new(
            "mm",
            StageRef::new("s", "MinMaxScalerModel"),
            "v",
            Arc::new(m),
        );
        let out = invoke(&udf, vec![input]).unwrap();
        let v = VectorArray::try_new(&out).unwrap();
        match v.value(0).unwrap().unwrap() {
            VectorRef::Dense(x) => {
                assert_eq!(x[0], (2.0 - 1.0) * (2.0 / 2.0) + -1.0);
                assert_eq!(x[1], 0.0);
                assert!(x[2].is_nan());
                assert_eq!(x[3], (10.0 - 0.0) * (2.0 / 10.0) - 1.0);
            }
            other => panic!("{other:?}"),
        }
        // zeros of a sparse input are rescaled too: [-1, 0, -1, -1]
        assert_eq!(
            v.value(1).unwrap(),
            Some(VectorRef::Dense(&[-1.0, 0.0, -1.0, -1.0]))
        );
        // [-1, 0, 0, 0] compresses to sparse (1.5 * 2 < 4)
        assert_eq!(
            v.value(2).unwrap(),
            Some(VectorRef::Sparse {
                size: 4,
                indices: &[0],
                values: &[-1.0]
            })
        );
    }

    #[test]
    fn wrong_size_and_null_are_errors() {
        let m = Arc::new(MinMaxScaler::new(&[0.0, 0.0], &[1.0, 1.0], 0.0, 1.0));
        let udf = MinMaxScalerUdf::new("mm", StageRef::new("s", "MinMaxScalerModel"), "v", m);
        let mut b = VectorBuilder::default();
        b.push_dense(&[1.0]);
        let e = invoke(&udf, vec![b.finish_array()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("Number of features must be 2 but got 1"), "{e}");
        let mut b = VectorBuilder::default();
        b.push_null();
        assert!(invoke(&udf, vec![b.finish_array()]).is_err());
    }
}
