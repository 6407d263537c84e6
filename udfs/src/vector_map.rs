//! A row-wise `vector → vector` UDF shared by the feature transformers whose output row depends
//! only on the input row (MinMaxScaler, MaxAbsScaler, Normalizer, IDF, ...).
//!
//! Each stage supplies a [`VectorMap`]: the per-row transform (which also picks Spark's
//! dense/sparse representation) and the fitted parameters' fingerprint. The UDF around it reads
//! the column, applies the null policy and reports a row's error with the stage and column.
//!
//! # Null Handling
//! A null vector is an error: Spark's UDFs for these stages dereference their input.

use std::collections::hash_map::DefaultHasher;
use std::fmt::Debug;
use std::sync::Arc;

use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use crate::common::{ArgKind, ModelUdf, StageRef, arrays, fingerprint};
use crate::vector::{VectorArray, VectorBuilder, VectorRef, vector_data_type};

/// The per-row transform of a `vector → vector` stage.
pub trait VectorMap: Debug + Send + Sync + 'static {
    /// Transforms one vector into `out` (exactly one row appended on success). An error is the
    /// message Spark fails with for this row.
    fn transform(
        &self,
        v: VectorRef<'_>,
        out: &mut VectorBuilder,
    ) -> std::result::Result<(), String>;

    /// Hashes the fitted parameters (UDF identity).
    fn fingerprint(&self, h: &mut DefaultHasher);

    /// Expected width of the output rows, for buffer sizing.
    fn width_hint(&self) -> usize {
        0
    }
}

/// A `vector → vector` UDF applying a [`VectorMap`] to every row.
#[derive(Debug)]
pub struct VectorMapUdf<M: VectorMap> {
    core: ModelUdf<M>,
}

crate::udf_identity!(VectorMapUdf<M: VectorMap> by core);

impl<M: VectorMap> VectorMapUdf<M> {
    /// A UDF named `name` transforming `column` of `stage` with `model`.
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        column: impl Into<String>,
        model: Arc<M>,
    ) -> Self {
        let fingerprint = fingerprint(|h| model.fingerprint(h));
        Self {
            core: ModelUdf::new(name, stage, column, model, fingerprint),
        }
    }
}

impl<M: VectorMap> ScalarUDFImpl for VectorMapUdf<M> {
    fn name(&self) -> &str {
        &self.core.name
    }

    fn signature(&self) -> &Signature {
        &self.core.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(vector_data_type())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.core
            .return_field(&args, ArgKind::Vector, vector_data_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args.args, args.number_rows)?;
        let va = VectorArray::try_new(input[0].as_ref())?;
        let mut out = VectorBuilder::with_capacity(va.len(), self.core.model.width_hint());
        for row in 0..va.len() {
            let v = self.core.vector_row(&va, row, None)?;
            self.core
                .model
                .transform(v, &mut out)
                .map_err(|m| self.core.error(row, m))?;
        }
        Ok(ColumnarValue::Array(out.finish_array()))
    }
}

/// Appends `values` as Spark's `Vectors.dense(values).compressed` does: sparse (zeros dropped)
/// when `1.5 * (nnz + 1) < size`, nnz counting the values that are not `0.0` (NaN counts),
/// otherwise dense.
pub fn push_dense_compressed(out: &mut VectorBuilder, values: &[f64]) {
    let nnz = values.iter().filter(|v| **v != 0.0).count();
    if 1.5 * (nnz as f64 + 1.0) < values.len() as f64 {
        let mut indices = Vec::with_capacity(nnz);
        let mut kept = Vec::with_capacity(nnz);
        for (i, v) in values.iter().enumerate() {
            if *v != 0.0 {
                indices.push(i as i32);
                kept.push(*v);
            }
        }
        out.push_sparse(values.len(), &indices, &kept);
    } else {
        out.push_dense(values);
    }
}

/// Spark's `require(vector.size == expected)`-style check, as an error message.
pub fn check_size(v: &VectorRef<'_>, expected: usize) -> std::result::Result<(), String> {
    if v.size() == expected {
        Ok(())
    } else {
        Err(format!(
            "vector size {} does not match the model's {expected}",
            v.size()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_from_dense_follows_spark() {
        let mut b = VectorBuilder::default();
        push_dense_compressed(&mut b, &[0.0, 0.0, 5.0, 0.0]); // 1.5 * 2 = 3 < 4: sparse
        push_dense_compressed(&mut b, &[0.0, 1.0, 5.0, 0.0]); // 4.5 < 4 false: dense
        push_dense_compressed(&mut b, &[f64::NAN, 0.0, 0.0, 0.0]); // NaN counts as non-zero
        let arr = b.finish();
        let v = VectorArray::try_new(&arr).unwrap();
        assert_eq!(
            v.value(0).unwrap(),
            Some(VectorRef::Sparse {
                size: 4,
                indices: &[2],
                values: &[5.0]
            })
        );
        assert_eq!(
            v.value(1).unwrap(),
            Some(VectorRef::Dense(&[0.0, 1.0, 5.0, 0.0]))
        );
        assert!(matches!(
            v.value(2).unwrap(),
            Some(VectorRef::Sparse { indices: &[0], .. })
        ));
    }
}
