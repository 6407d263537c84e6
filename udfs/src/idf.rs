//! IDFModel: multiply term frequencies by their inverse document frequency.
//!
//! Spark's `transformDense`/`transformSparse`: `x[i] * idf[i]`; a dense vector stays dense and
//! a sparse one keeps its indices (explicit zeros included), so sparse stays sparse.
//!
//! # Null Handling
//! A null vector is an error (Spark's UDF fails on it), as is a vector whose size differs from
//! the model's (Spark fails or reads past the input, depending on the representation).

use std::collections::hash_map::DefaultHasher;
use std::hash::Hash;
use std::sync::Arc;

use crate::common::hash_f64s;
use crate::max_abs_scaler::scale_keeping_representation;
use crate::vector::{VectorBuilder, VectorRef};
use crate::vector_map::{VectorMap, VectorMapUdf, check_size};

/// The fitted inverse document frequencies.
#[derive(Debug, Clone)]
pub struct Idf {
    /// One weight per term (0 for terms below `minDocFreq`).
    pub idf: Arc<[f64]>,
}

impl VectorMap for Idf {
    fn transform(&self, v: VectorRef<'_>, out: &mut VectorBuilder) -> Result<(), String> {
        check_size(&v, self.idf.len())?;
        scale_keeping_representation(&self.idf, v, out);
        Ok(())
    }

    fn fingerprint(&self, h: &mut DefaultHasher) {
        "idf".hash(h);
        hash_f64s(h, &self.idf);
    }

    fn width_hint(&self) -> usize {
        self.idf.len()
    }
}

/// `IDFModel`: `vector → vector`.
pub type IdfUdf = VectorMapUdf<Idf>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::StageRef;
    use crate::testing::invoke;
    use crate::vector::VectorArray;

    #[test]
    fn sparse_stays_sparse() {
        let m = Arc::new(Idf {
            idf: Arc::from(vec![0.5, 0.0, 2.0]),
        });
        let udf = IdfUdf::new("i", StageRef::new("s", "IDFModel"), "v", m);
        let mut b = VectorBuilder::default();
        b.push_sparse(3, &[1, 2], &[4.0, 3.0]);
        b.push_dense(&[2.0, 1.0, f64::INFINITY]);
        let out = invoke(&udf, vec![b.finish_array()]).unwrap();
        let v = VectorArray::try_new(&out).unwrap();
        assert_eq!(
            v.value(0).unwrap(),
            Some(VectorRef::Sparse {
                size: 3,
                indices: &[1, 2],
                values: &[0.0, 6.0]
            })
        );
        assert_eq!(
            v.value(1).unwrap(),
            Some(VectorRef::Dense(&[1.0, 0.0, f64::INFINITY]))
        );
        let mut b = VectorBuilder::default();
        b.push_sparse(4, &[], &[]);
        assert!(invoke(&udf, vec![b.finish_array()]).is_err());
    }
}
