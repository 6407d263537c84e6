//! StandardScalerModel: centre and/or scale a vector.
//!
//! Spark's formulas exactly: `scale[i] = if std[i] == 0 { 0 } else { 1 / std[i] }`, then
//! `(x - mean) * scale` with both, `x - mean` with mean only, `x * scale` with std only, and the
//! identity with neither. Centring always yields a dense vector; scaling alone keeps a sparse
//! vector sparse (same indices, explicit zeros kept).
//!
//! # Null Handling
//! Spark's UDF fails on a null vector (its pattern match throws), so a null is an error — except
//! with neither `withMean` nor `withStd`, where Spark returns its input unchanged. A vector whose
//! size differs from the model's is an error (Spark reads out of bounds or silently truncates).

use std::sync::Arc;

use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::common::{ArgKind, StageRef, arrays, fingerprint, hash_f64s, single_arg_field};
use crate::vector::{VectorArray, VectorBuilder, VectorRef, vector_data_type};

/// The fitted statistics and flags.
#[derive(Debug, Clone)]
pub struct StandardScaler {
    /// Per-feature mean to subtract (`withMean`).
    pub shift: Option<Arc<[f64]>>,
    /// Per-feature multiplier `1/std`, 0 where std is 0 (`withStd`).
    pub scale: Option<Arc<[f64]>>,
    /// The model's vector size.
    pub size: usize,
}

impl StandardScaler {
    /// From Spark's fitted `mean` and `std` and the two flags.
    pub fn new(mean: &[f64], std: &[f64], with_mean: bool, with_std: bool) -> Self {
        Self {
            shift: with_mean.then(|| mean.into()),
            scale: with_std.then(|| {
                std.iter()
                    .map(|s| if *s == 0.0 { 0.0 } else { 1.0 / s })
                    .collect()
            }),
            size: std.len().max(mean.len()),
        }
    }

    /// Transforms one vector into `out`.
    pub fn transform(&self, v: VectorRef<'_>, out: &mut VectorBuilder) {
        match (&self.shift, &self.scale) {
            (Some(shift), Some(scale)) => {
                let row = out.dense_row(v.size());
                v.write_dense(row);
                for ((x, m), s) in row.iter_mut().zip(shift.iter()).zip(scale.iter()) {
                    *x = (*x - m) * s;
                }
            }
            (Some(shift), None) => {
                let row = out.dense_row(v.size());
                v.write_dense(row);
                for (x, m) in row.iter_mut().zip(shift.iter()) {
                    *x -= m;
                }
            }
            (None, Some(scale)) => match v {
                VectorRef::Dense(values) => {
                    let row = out.dense_row(values.len());
                    for ((o, x), s) in row.iter_mut().zip(values).zip(scale.iter()) {
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
            },
            (None, None) => out.push(v),
        }
    }
}

/// `StandardScalerModel`: `vector → vector`.
#[derive(Debug)]
pub struct StandardScalerUdf {
    name: String,
    signature: Signature,
    stage: StageRef,
    column: String,
    model: Arc<StandardScaler>,
    fingerprint: u64,
}

crate::udf_identity!(StandardScalerUdf);

impl StandardScalerUdf {
    /// A UDF named `name` scaling `column` of `stage`.
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        column: impl Into<String>,
        model: Arc<StandardScaler>,
    ) -> Self {
        let fingerprint = fingerprint(|h| {
            use std::hash::Hash;
            model.size.hash(h);
            model.shift.is_some().hash(h);
            model.scale.is_some().hash(h);
            hash_f64s(h, model.shift.as_deref().unwrap_or(&[]));
            hash_f64s(h, model.scale.as_deref().unwrap_or(&[]));
        });
        Self {
            name: name.into(),
            signature: Signature::any(1, Volatility::Immutable),
            stage,
            column: column.into(),
            model,
            fingerprint,
        }
    }
}

impl ScalarUDFImpl for StandardScalerUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(vector_data_type())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        single_arg_field(
            &self.name,
            &self.stage,
            &args,
            ArgKind::Vector,
            vector_data_type(),
        )
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args.args, args.number_rows)?;
        let va = VectorArray::try_new(input[0].as_ref())?;
        let identity = self.model.shift.is_none() && self.model.scale.is_none();
        if identity {
            return Ok(ColumnarValue::Array(Arc::clone(&input[0])));
        }
        let mut out = VectorBuilder::with_capacity(va.len(), self.model.size);
        for row in 0..va.len() {
            let v = self
                .stage
                .vector_row(&self.column, &va, row, Some(self.model.size))?;
            self.model.transform(v, &mut out);
        }
        Ok(ColumnarValue::Array(out.finish_array()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::invoke;
    use crate::vector::VectorBuilder;

    #[test]
    fn formulas_and_representation() {
        let mut b = VectorBuilder::default();
        b.push_dense(&[3.0, 5.0]);
        b.push_sparse(2, &[1], &[4.0]);
        let input = b.finish_array();
        let run = |m: bool, s: bool| {
            let model = Arc::new(StandardScaler::new(&[1.0, 2.0], &[2.0, 0.0], m, s));
            let udf =
                StandardScalerUdf::new("ss", StageRef::new("s", "StandardScalerModel"), "f", model);
            invoke(&udf, vec![Arc::clone(&input)]).unwrap()
        };
        let both = run(true, true);
        let v = VectorArray::try_new(&both).unwrap();
        assert_eq!(v.value(0).unwrap(), Some(VectorRef::Dense(&[1.0, 0.0])));
        assert_eq!(v.value(1).unwrap(), Some(VectorRef::Dense(&[-0.5, 0.0])));
        let std_only = run(false, true);
        let v = VectorArray::try_new(&std_only).unwrap();
        assert_eq!(v.value(0).unwrap(), Some(VectorRef::Dense(&[1.5, 0.0])));
        assert_eq!(
            v.value(1).unwrap(),
            Some(VectorRef::Sparse {
                size: 2,
                indices: &[1],
                values: &[0.0]
            })
        );
        let mean_only = run(true, false);
        let v = VectorArray::try_new(&mean_only).unwrap();
        assert_eq!(v.value(1).unwrap(), Some(VectorRef::Dense(&[-1.0, 2.0])));
    }
}
