//! VectorSlicer: a sub-vector of selected indices, in the order given.
//!
//! Spark: a dense input gives `Vectors.dense(indices.map(v(_)))` (an index past the end fails
//! with Java's `Index i out of bounds for length n`); a sparse input gives
//! `SparseVector.slice`: a sparse vector of `indices.len()` elements holding the stored non-zero
//! values at the selected positions (Spark 4 drops explicit zeros here; NaN is kept); indices
//! past the end select nothing.
//!
//! # Null Handling
//! A null vector is an error (Spark's UDF fails on it).

use std::collections::hash_map::DefaultHasher;
use std::hash::Hash;
use std::sync::Arc;

use crate::vector::{VectorBuilder, VectorRef};
use crate::vector_map::{VectorMap, VectorMapUdf};

/// The selected indices, in output order.
#[derive(Debug, Clone)]
pub struct VectorSlicer {
    /// Distinct, non-negative positions.
    pub indices: Arc<[usize]>,
}

impl VectorMap for VectorSlicer {
    fn transform(&self, v: VectorRef<'_>, out: &mut VectorBuilder) -> Result<(), String> {
        match v {
            VectorRef::Dense(values) => {
                if let Some(bad) = self.indices.iter().find(|i| **i >= values.len()) {
                    return Err(format!(
                        "Index {bad} out of bounds for length {}",
                        values.len()
                    ));
                }
                let row = out.dense_row(self.indices.len());
                for (o, i) in row.iter_mut().zip(self.indices.iter()) {
                    *o = values[*i];
                }
            }
            VectorRef::Sparse {
                indices, values, ..
            } => {
                let mut out_idx = Vec::new();
                let mut out_val = Vec::new();
                for (k, i) in self.indices.iter().enumerate() {
                    if let Ok(pos) = i32::try_from(*i)
                        .map_err(|_| ())
                        .and_then(|i| indices.binary_search(&i).map_err(|_| ()))
                        && values[pos] != 0.0
                    {
                        out_idx.push(k as i32);
                        out_val.push(values[pos]);
                    }
                }
                out.push_sparse(self.indices.len(), &out_idx, &out_val);
            }
        }
        Ok(())
    }

    fn fingerprint(&self, h: &mut DefaultHasher) {
        "vector_slicer".hash(h);
        self.indices.hash(h);
    }

    fn width_hint(&self) -> usize {
        self.indices.len()
    }
}

/// `VectorSlicer`: `vector → vector`.
pub type VectorSlicerUdf = VectorMapUdf<VectorSlicer>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::VectorArray;

    #[test]
    fn dense_and_sparse_slices() {
        let m = VectorSlicer {
            indices: Arc::from(vec![2, 0, 5]),
        };
        let mut b = VectorBuilder::default();
        m.transform(VectorRef::Dense(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), &mut b)
            .unwrap();
        m.transform(
            VectorRef::Sparse {
                size: 6,
                indices: &[0, 4, 5],
                values: &[7.0, 8.0, 0.0],
            },
            &mut b,
        )
        .unwrap();
        let out = b.finish_array();
        let v = VectorArray::try_new(&out).unwrap();
        assert_eq!(
            v.value(0).unwrap(),
            Some(VectorRef::Dense(&[3.0, 1.0, 6.0]))
        );
        assert_eq!(
            v.value(1).unwrap(),
            Some(VectorRef::Sparse {
                size: 3,
                indices: &[1],
                values: &[7.0]
            })
        );
        let e = m
            .transform(VectorRef::Dense(&[1.0, 2.0]), &mut VectorBuilder::default())
            .unwrap_err();
        assert_eq!(e, "Index 2 out of bounds for length 2");
    }
}
