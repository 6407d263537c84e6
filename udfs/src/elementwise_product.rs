//! ElementwiseProduct: the Hadamard product with a fixed scaling vector.
//!
//! Spark's `transformDense`/`transformSparse`: `x[i] * w[i]`; a dense vector stays dense and a
//! sparse one keeps its indices (explicit zeros included).
//!
//! # Null Handling
//! A null vector is an error (Spark's UDF fails on it). A vector whose size differs from the
//! scaling vector's fails with Spark's message (`vector sizes do not match: ...`).

use std::collections::hash_map::DefaultHasher;
use std::hash::Hash;
use std::sync::Arc;

use crate::common::hash_f64s;
use crate::max_abs_scaler::scale_keeping_representation;
use crate::vector::{VectorBuilder, VectorRef};
use crate::vector_map::{VectorMap, VectorMapUdf};

/// The scaling vector.
#[derive(Debug, Clone)]
pub struct ElementwiseProduct {
    /// Spark's `scalingVec`.
    pub scaling: Arc<[f64]>,
}

impl VectorMap for ElementwiseProduct {
    fn transform(&self, v: VectorRef<'_>, out: &mut VectorBuilder) -> Result<(), String> {
        let n = self.scaling.len();
        if v.size() != n {
            return Err(format!(
                "requirement failed: vector sizes do not match: Expected {n} but found {}",
                v.size()
            ));
        }
        scale_keeping_representation(&self.scaling, v, out);
        Ok(())
    }

    fn fingerprint(&self, h: &mut DefaultHasher) {
        "elementwise_product".hash(h);
        hash_f64s(h, &self.scaling);
    }

    fn width_hint(&self) -> usize {
        self.scaling.len()
    }
}

/// `ElementwiseProduct`: `vector → vector`.
pub type ElementwiseProductUdf = VectorMapUdf<ElementwiseProduct>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::VectorArray;

    #[test]
    fn products_and_size_check() {
        let m = ElementwiseProduct {
            scaling: Arc::from(vec![2.0, 0.0, -1.0]),
        };
        let mut b = VectorBuilder::default();
        m.transform(VectorRef::Dense(&[1.0, 5.0, 3.0]), &mut b)
            .unwrap();
        m.transform(
            VectorRef::Sparse {
                size: 3,
                indices: &[1, 2],
                values: &[4.0, 0.5],
            },
            &mut b,
        )
        .unwrap();
        let out = b.finish_array();
        let v = VectorArray::try_new(&out).unwrap();
        assert_eq!(
            v.value(0).unwrap(),
            Some(VectorRef::Dense(&[2.0, 0.0, -3.0]))
        );
        assert_eq!(
            v.value(1).unwrap(),
            Some(VectorRef::Sparse {
                size: 3,
                indices: &[1, 2],
                values: &[0.0, -0.5]
            })
        );
        let e = m
            .transform(VectorRef::Dense(&[1.0]), &mut VectorBuilder::default())
            .unwrap_err();
        assert_eq!(
            e,
            "requirement failed: vector sizes do not match: Expected 3 but found 1"
        );
    }
}
