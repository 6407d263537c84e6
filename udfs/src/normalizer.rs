//! Normalizer: scale each vector to unit p-norm.
//!
//! Spark's `Vectors.norm` over the stored values: `p = 1` sums `|x|`, `p = 2` takes
//! `sqrt(Σ x²)`, `p = ∞` the largest `|x|` (starting from 0, so NaN never wins), any other `p`
//! `(Σ |x|^p)^(1/p)`. A non-zero norm divides every stored value (`x / norm`), keeping the
//! representation (a sparse vector keeps its indices); a zero norm returns the input unchanged.
//! A NaN norm (NaN input with finite p) is not zero, so every value becomes NaN, as in Spark.
//!
//! # Null Handling
//! A null vector is an error (Spark's UDF fails on it).

use std::collections::hash_map::DefaultHasher;
use std::hash::Hash;

use crate::common::hash_f64s;
use crate::vector::{VectorBuilder, VectorRef};
use crate::vector_map::{VectorMap, VectorMapUdf};

/// The `p` of the norm.
#[derive(Debug, Clone, Copy)]
pub struct Normalizer {
    /// Norm order, `>= 1` (may be `f64::INFINITY`).
    pub p: f64,
}

impl Normalizer {
    /// Spark's `Vectors.norm(values, p)` over the stored values.
    pub fn norm(&self, values: &[f64]) -> f64 {
        let p = self.p;
        if p == 1.0 {
            values.iter().fold(0.0, |s, x| s + x.abs())
        } else if p == 2.0 {
            values.iter().fold(0.0, |s, x| s + x * x).sqrt()
        } else if p == f64::INFINITY {
            values
                .iter()
                .fold(0.0, |m: f64, x| if x.abs() > m { x.abs() } else { m })
        } else {
            values
                .iter()
                .fold(0.0, |s, x| s + x.abs().powf(p))
                .powf(1.0 / p)
        }
    }
}

impl VectorMap for Normalizer {
    fn transform(&self, v: VectorRef<'_>, out: &mut VectorBuilder) -> Result<(), String> {
        let values = match v {
            VectorRef::Dense(values) => values,
            VectorRef::Sparse { values, .. } => values,
        };
        let norm = self.norm(values);
        if norm == 0.0 {
            out.push(v);
            return Ok(());
        }
        match v {
            VectorRef::Dense(values) => {
                let row = out.dense_row(values.len());
                for (o, x) in row.iter_mut().zip(values) {
                    *o = x / norm;
                }
            }
            VectorRef::Sparse {
                size,
                indices,
                values,
            } => {
                let scaled: Vec<f64> = values.iter().map(|x| x / norm).collect();
                out.push_sparse(size, indices, &scaled);
            }
        }
        Ok(())
    }

    fn fingerprint(&self, h: &mut DefaultHasher) {
        "normalizer".hash(h);
        hash_f64s(h, &[self.p]);
    }
}

/// `Normalizer`: `vector → vector`.
pub type NormalizerUdf = VectorMapUdf<Normalizer>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::common::StageRef;
    use crate::testing::invoke;
    use crate::vector::VectorArray;

    #[test]
    fn norms() {
        let v = [3.0, -4.0];
        assert_eq!(Normalizer { p: 1.0 }.norm(&v), 7.0);
        assert_eq!(Normalizer { p: 2.0 }.norm(&v), 5.0);
        assert_eq!(Normalizer { p: f64::INFINITY }.norm(&v), 4.0);
        assert_eq!(
            Normalizer { p: 3.0 }.norm(&v),
            (27.0f64 + 64.0).powf(1.0 / 3.0)
        );
        // the infinity norm skips NaN, the others propagate it
        assert_eq!(Normalizer { p: f64::INFINITY }.norm(&[f64::NAN, 2.0]), 2.0);
        assert!(Normalizer { p: 2.0 }.norm(&[f64::NAN, 2.0]).is_nan());
    }

    #[test]
    fn divides_stored_values_and_keeps_zero_vectors() {
        let udf = NormalizerUdf::new(
            "n",
            StageRef::new("s", "Normalizer"),
            "v",
            Arc::new(Normalizer { p: 1.0 }),
        );
        let mut b = VectorBuilder::default();
        b.push_sparse(4, &[1, 3], &[1.0, -3.0]);
        b.push_dense(&[0.0, 0.0]);
        b.push_sparse(3, &[0], &[0.0]);
        let out = invoke(&udf, vec![b.finish_array()]).unwrap();
        let v = VectorArray::try_new(&out).unwrap();
        assert_eq!(
            v.value(0).unwrap(),
            Some(VectorRef::Sparse {
                size: 4,
                indices: &[1, 3],
                values: &[1.0 / 4.0, -3.0 / 4.0]
            })
        );
        assert_eq!(v.value(1).unwrap(), Some(VectorRef::Dense(&[0.0, 0.0])));
        assert_eq!(
            v.value(2).unwrap(),
            Some(VectorRef::Sparse {
                size: 3,
                indices: &[0],
                values: &[0.0]
            })
        );
    }
}
