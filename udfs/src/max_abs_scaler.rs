//! MaxAbsScalerModel: divide each feature by its largest absolute value in training.
//!
//! Spark's formula exactly: `scale[i] = if maxAbs[i] == 0 { 1 } else { 1 / maxAbs[i] }` and
//! `x * scale[i]` (StandardScaler's scale-only path): a dense vector stays dense, a sparse one
//! keeps its indices (explicit zeros too).
//!
//! # Null Handling
//! A null vector is an error (Spark's UDF fails on it). A vector whose size differs from the
//! model's is an error (Spark fails or silently truncates, depending on the representation).

use std::collections::hash_map::DefaultHasher;
use std::hash::Hash;
use std::sync::Arc;

use crate::common::hash_f64s;
use crate::vector::{VectorBuilder, VectorRef};
use crate::vector_map::{VectorMap, VectorMapUdf, check_size};

/// The fitted per-feature multipliers.
#[derive(Debug, Clone)]
pub struct MaxAbsScaler {
    /// `1 / maxAbs`, 1 where maxAbs is 0.
    pub scale: Arc<[f64]>,
}

impl MaxAbsScaler {
    /// From Spark's fitted `maxAbs`.
    pub fn new(max_abs: &[f64]) -> Self {
        Self {
            scale: max_abs
                .iter()
                .map(|v| if *v == 0.0 { 1.0 } else { 1.0 / v })
                .collect(),
        }
    }

    /// Number of features.
    pub fn size(&self) -> usize {
        self.scale.len()
    }
}

impl VectorMap for MaxAbsScaler {
    fn transform(&self, v: VectorRef<'_>, out: &mut VectorBuilder) -> Result<(), String> {
        check_size(&v, self.size())?;
        scale_keeping_representation(&self.scale, v, out);
        Ok(())
    }

    fn fingerprint(&self, h: &mut DefaultHasher) {
        "max_abs_scaler".hash(h);
        hash_f64s(h, &self.scale);
    }

    fn width_hint(&self) -> usize {
        self.size()
    }
}

/// `x[i] * scale[i]` keeping the representation: a dense vector stays dense, a sparse one keeps
/// its indices (explicit zeros included). `v.size()` must equal `scale.len()`.
pub fn scale_keeping_representation(scale: &[f64], v: VectorRef<'_>, out: &mut VectorBuilder) {
    match v {
        VectorRef::Dense(values) => {
            let row = out.dense_row(values.len());
            for ((o, x), s) in row.iter_mut().zip(values).zip(scale) {
                *o = x * s;
            }
        }
        VectorRef::Sparse {
            size,
            indices,
            values,
        } => {
            let scaled: Vec<f64> = indices
                .iter()
                .zip(values)
                .map(|(i, x)| x * scale[*i as usize])
                .collect();
            out.push_sparse(size, indices, &scaled);
        }
    }
}

/// `MaxAbsScalerModel`: `vector → vector`.
pub type MaxAbsScalerUdf = VectorMapUdf<MaxAbsScaler>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::StageRef;
    use crate::testing::invoke;
    use crate::vector::VectorArray;

    #[test]
    fn scales_and_keeps_representation() {
        let m = Arc::new(MaxAbsScaler::new(&[4.0, 0.0, 0.5]));
        let udf = MaxAbsScalerUdf::new("ma", StageRef::new("s", "MaxAbsScalerModel"), "v", m);
        let mut b = VectorBuilder::default();
        b.push_dense(&[2.0, 3.0, f64::NAN]);
        b.push_sparse(3, &[1, 2], &[0.0, -1.0]);
        let out = invoke(&udf, vec![b.finish_array()]).unwrap();
        let v = VectorArray::try_new(&out).unwrap();
        match v.value(0).unwrap().unwrap() {
            VectorRef::Dense(x) => {
                assert_eq!(&x[..2], &[2.0 * (1.0 / 4.0), 3.0]);
                assert!(x[2].is_nan());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            v.value(1).unwrap(),
            Some(VectorRef::Sparse {
                size: 3,
                indices: &[1, 2],
                values: &[0.0, -(1.0 / 0.5)]
            })
        );
        let mut b = VectorBuilder::default();
        b.push_dense(&[1.0]);
        assert!(invoke(&udf, vec![b.finish_array()]).is_err());
    }
}
