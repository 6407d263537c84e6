//! PolynomialExpansion: all monomials of the features up to a degree.
//!
//! Spark's recursion exactly (`PolynomialExpansion.expandDense`/`expandSparse`): for features
//! `x_0..x_{n-1}` and degree `d` the output has `C(n + d, d) - 1` elements (the constant 1 is
//! dropped), ordered as Spark's `f([a, b, c], d) = f([a, b], d) ++ f([a, b], d - 1) * c ++ ...`;
//! a zero multiplier skips its monomials. A dense input gives a dense output, a sparse input a
//! sparse output holding only the monomials of the stored non-zero values.
//!
//! # Null Handling
//! A null vector is an error (Spark's UDF fails on it). An output wider than `i32::MAX` is an
//! error (Spark's `require`), and so is a dense one wider than the process's
//! [`crate::vector::max_vector_size`] (a dense expansion allocates its whole width).

use std::collections::hash_map::DefaultHasher;
use std::hash::Hash;

use crate::vector::{VectorBuilder, VectorRef, max_vector_size};
use crate::vector_map::{VectorMap, VectorMapUdf};

/// The expansion degree.
#[derive(Debug, Clone, Copy)]
pub struct PolynomialExpansion {
    /// `>= 1`.
    pub degree: usize,
}

/// `C(n + d, d)`, or `None` past `i32::MAX` (Spark's `getPolySize` requirement).
pub fn poly_size(n: usize, d: usize) -> Option<usize> {
    let k = d.min(n);
    let mut c: u128 = 1;
    for i in 0..k {
        c = c * (n + d - i) as u128 / (i as u128 + 1);
        if c > i32::MAX as u128 {
            return None;
        }
    }
    Some(c as usize)
}

fn size(n: usize, d: usize) -> usize {
    // sizes of sub-problems never exceed the checked total
    poly_size(n, d).unwrap_or(usize::MAX)
}

fn expand_dense(
    values: &[f64],
    last: isize,
    degree: usize,
    multiplier: f64,
    out: &mut [f64],
    cur: isize,
) -> isize {
    if multiplier == 0.0 {
        // nothing
    } else if degree == 0 || last < 0 {
        if cur >= 0 {
            out[cur as usize] = multiplier;
        }
    } else {
        let v = values[last as usize];
        let mut alpha = multiplier;
        let mut start = cur;
        let mut i = 0;
        while i <= degree && alpha != 0.0 {
            start = expand_dense(values, last - 1, degree - i, alpha, out, start);
            i += 1;
            alpha *= v;
        }
    }
    cur + size((last + 1) as usize, degree) as isize
}

#[allow(clippy::too_many_arguments)]
fn expand_sparse(
    indices: &[i32],
    values: &[f64],
    last: isize,
    last_feature: isize,
    degree: usize,
    multiplier: f64,
    out_idx: &mut Vec<i32>,
    out_val: &mut Vec<f64>,
    cur: isize,
) -> isize {
    if multiplier == 0.0 {
        // nothing
    } else if degree == 0 || last < 0 {
        if cur >= 0 {
            out_idx.push(cur as i32);
            out_val.push(multiplier);
        }
    } else {
        let v = values[last as usize];
        let last_feature1 = indices[last as usize] as isize - 1;
        let mut alpha = multiplier;
        let mut start = cur;
        let mut i = 0;
        while i <= degree && alpha != 0.0 {
            start = expand_sparse(
                indices,
                values,
                last - 1,
                last_feature1,
                degree - i,
                alpha,
                out_idx,
                out_val,
                start,
            );
            i += 1;
            alpha *= v;
        }
    }
    cur + size((last_feature + 1) as usize, degree) as isize
}

impl VectorMap for PolynomialExpansion {
    fn transform(&self, v: VectorRef<'_>, out: &mut VectorBuilder) -> Result<(), String> {
        let d = self.degree;
        let total = poly_size(v.size(), d)
            .ok_or_else(|| "requirement failed: the expanded vector is too large".to_string())?;
        match v {
            VectorRef::Dense(values) => {
                // a dense expansion allocates its whole size: bounded like a declared size
                let max = max_vector_size();
                if total - 1 > max {
                    return Err(format!(
                        "the expanded vector would have {} elements, more than the largest \
                         vector size {max} (set with --max-vector-size)",
                        total - 1
                    ));
                }
                let row = out.dense_row(total - 1);
                expand_dense(values, values.len() as isize - 1, d, 1.0, row, -1);
            }
            VectorRef::Sparse {
                size,
                indices,
                values,
            } => {
                let mut idx = Vec::new();
                let mut val = Vec::new();
                expand_sparse(
                    indices,
                    values,
                    values.len() as isize - 1,
                    size as isize - 1,
                    d,
                    1.0,
                    &mut idx,
                    &mut val,
                    -1,
                );
                out.push_sparse(total - 1, &idx, &val);
            }
        }
        Ok(())
    }

    fn fingerprint(&self, h: &mut DefaultHasher) {
        "polynomial_expansion".hash(h);
        self.degree.hash(h);
    }
}

/// `PolynomialExpansion`: `vector → vector`.
pub type PolynomialExpansionUdf = VectorMapUdf<PolynomialExpansion>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::VectorArray;

    #[test]
    fn spark_order_dense_and_sparse() {
        assert_eq!(poly_size(2, 2), Some(6));
        assert_eq!(poly_size(3, 3), Some(20));
        let m = PolynomialExpansion { degree: 2 };
        let mut b = VectorBuilder::default();
        // (x, y) -> (x, x², y, xy, y²)
        m.transform(VectorRef::Dense(&[2.0, 3.0]), &mut b).unwrap();
        m.transform(
            VectorRef::Sparse {
                size: 3,
                indices: &[1],
                values: &[3.0],
            },
            &mut b,
        )
        .unwrap();
        let out = b.finish_array();
        let v = VectorArray::try_new(&out).unwrap();
        assert_eq!(
            v.value(0).unwrap(),
            Some(VectorRef::Dense(&[2.0, 4.0, 3.0, 6.0, 9.0]))
        );
        // (a, b, c) -> (a, a², b, ab, b², c, ac, bc, c²) with only b = 3 non-zero
        assert_eq!(
            v.value(1).unwrap(),
            Some(VectorRef::Sparse {
                size: 9,
                indices: &[2, 4],
                values: &[3.0, 9.0]
            })
        );
        assert_eq!(poly_size(100_000, 10), None);
        // 20,000 dense features at degree 2: 200 million outputs, under i32::MAX but over the
        // default largest vector size, so nothing is allocated
        let wide = vec![1.0; 20_000];
        let e = m
            .transform(VectorRef::Dense(&wide), &mut VectorBuilder::default())
            .unwrap_err();
        assert!(
            e.contains("200030000") && e.contains("--max-vector-size"),
            "{e}"
        );
    }
}
