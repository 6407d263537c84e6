//! VectorAssembler: concatenate numeric and vector columns into one vector.
//!
//! # Null Handling
//! Spark's `assemble`: a NaN or null scalar, or a null vector, fails under `handleInvalid =
//! error`. Under `keep`, a null contributes NaN for each of its positions (its width must be
//! known: 1 for a scalar, the column's vector size otherwise) and a NaN scalar stays NaN. Under
//! `skip` the row yields null here and the compiled plan drops it (Spark's `na.drop` on the
//! input columns: nulls, and NaN in numeric columns). NaN inside a vector is never invalid.
//! The result is Spark's `Vectors.sparse(n, indices, values).compressed`: sparse when
//! `1.5 * (nnz + 1) < n`, otherwise dense. An assembled size past `i32::MAX` (Spark's bound) is
//! the row's error, naming the column that overflows it.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use crate::common::{HandleInvalid, StageRef, arrays, fingerprint, volatility};
use crate::vector::{
    SPARK_MAX_VECTOR_SIZE, VectorArray, VectorBuilder, checked_size, is_vector_type,
    vector_data_type,
};

/// One input of the assembler. Whether it is a number or a vector is decided by the argument's
/// type when the UDF runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AssemblerInput {
    /// Input column name (for error messages).
    pub column: String,
    /// For a vector column, its width when known before reading data: the number of NaNs a
    /// null contributes under `handleInvalid = keep`.
    pub vector_size: Option<usize>,
}

/// `VectorAssembler`: `(double | vector)* → vector`.
#[derive(Debug)]
pub struct VectorAssemblerUdf {
    name: String,
    signature: Signature,
    stage: StageRef,
    inputs: Vec<AssemblerInput>,
    handle_invalid: HandleInvalid,
    fingerprint: u64,
}

crate::udf_identity!(VectorAssemblerUdf);

enum Arg<'a> {
    Scalar(&'a Float64Array),
    Vector(VectorArray<'a>),
}

impl VectorAssemblerUdf {
    /// A UDF named `name` assembling `inputs` (in order) for `stage`.
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        inputs: Vec<AssemblerInput>,
        handle_invalid: HandleInvalid,
    ) -> Self {
        let fingerprint = fingerprint(|h| {
            use std::hash::Hash;
            inputs.hash(h);
            handle_invalid.hash(h);
        });
        Self {
            name: name.into(),
            signature: Signature::variadic_any(volatility(handle_invalid)),
            stage,
            inputs,
            handle_invalid,
            fingerprint,
        }
    }

    fn invalid(&self, k: usize, row: usize, what: &str) -> datafusion::common::DataFusionError {
        self.stage.error(
            &self.inputs[k].column,
            row,
            format!(
                "Encountered {what} while assembling a row with handleInvalid = \"error\". \
                 Consider removing {what}s from dataset or using handleInvalid = \"keep\" or \
                 \"skip\"."
            ),
        )
    }
}

impl VectorAssemblerUdf {
    /// The row's error when the assembled size would pass Spark's `Int` bound.
    fn too_large(
        &self,
        k: usize,
        row: usize,
        at: usize,
        adding: usize,
    ) -> datafusion::common::DataFusionError {
        self.stage.error(
            &self.inputs[k].column,
            row,
            format!(
                "the assembled vector would have {} elements (size {at} so far plus {adding} \
                 from this column), more than a vector can hold ({SPARK_MAX_VECTOR_SIZE})",
                at as u128 + adding as u128
            ),
        )
    }
}

impl ScalarUDFImpl for VectorAssemblerUdf {
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
        if args.arg_fields.len() != self.inputs.len() {
            return plan_err!(
                "{}: {} expects {} inputs, got {}",
                self.name,
                self.stage,
                self.inputs.len(),
                args.arg_fields.len()
            );
        }
        for (f, input) in args.arg_fields.iter().zip(&self.inputs) {
            let ok = f.data_type() == &DataType::Float64 || is_vector_type(f.data_type());
            if !ok {
                return plan_err!(
                    "{}: {} input '{}' has unsupported type {}",
                    self.name,
                    self.stage,
                    input.column,
                    f.data_type()
                );
            }
        }
        Ok(Arc::new(Field::new(&self.name, vector_data_type(), true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input: Vec<ArrayRef> = arrays(&args.args, args.number_rows)?;
        let mut cols = Vec::with_capacity(input.len());
        for a in &input {
            if a.data_type() == &DataType::Float64 {
                cols.push(Arg::Scalar(a.as_primitive::<Float64Type>()));
            } else if is_vector_type(a.data_type()) {
                cols.push(Arg::Vector(VectorArray::try_new(a.as_ref())?));
            } else {
                return exec_err!("{}: unsupported input type {}", self.name, a.data_type());
            }
        }
        let rows = args.number_rows;
        // a capacity hint only: a wide sparse input (a hashed feature space) must not reserve
        // its declared width per row
        let width = self
            .inputs
            .iter()
            .fold(0usize, |w, i| w.saturating_add(i.vector_size.unwrap_or(1)))
            .min(1024);
        let mut out = VectorBuilder::with_capacity(rows, width);
        let mut indices: Vec<i32> = Vec::with_capacity(width);
        let mut values: Vec<f64> = Vec::with_capacity(width);
        let keep = self.handle_invalid == HandleInvalid::Keep;
        'rows: for row in 0..rows {
            indices.clear();
            values.clear();
            let mut at: usize = 0;
            for (k, col) in cols.iter().enumerate() {
                let width_if_null = match col {
                    Arg::Scalar(a) if a.is_valid(row) => {
                        let v = a.value(row);
                        if v.is_nan() {
                            match self.handle_invalid {
                                HandleInvalid::Error => return Err(self.invalid(k, row, "NaN")),
                                HandleInvalid::Skip => {
                                    out.push_null();
                                    continue 'rows;
                                }
                                HandleInvalid::Keep => {}
                            }
                        }
                        let Some(end) = checked_size(at, 1) else {
                            return Err(self.too_large(k, row, at, 1));
                        };
                        if v != 0.0 {
                            indices.push(at as i32);
                            values.push(v);
                        }
                        at = end;
                        continue;
                    }
                    Arg::Scalar(_) => Some(1),
                    Arg::Vector(va) => match va
                        .value(row)
                        .map_err(|e| self.stage.error(&self.inputs[k].column, row, e.to_string()))?
                    {
                        Some(v) => {
                            let Some(end) = checked_size(at, v.size()) else {
                                return Err(self.too_large(k, row, at, v.size()));
                            };
                            // every position is below `end` <= i32::MAX
                            v.for_each_active(|i, x| {
                                if x != 0.0 {
                                    indices.push((at + i) as i32);
                                    values.push(x);
                                }
                            });
                            at = end;
                            continue;
                        }
                        None => self.inputs[k].vector_size,
                    },
                };
                // a null input
                match self.handle_invalid {
                    HandleInvalid::Error => return Err(self.invalid(k, row, "null")),
                    HandleInvalid::Skip => {
                        out.push_null();
                        continue 'rows;
                    }
                    HandleInvalid::Keep => {}
                }
                debug_assert!(keep);
                let Some(n) = width_if_null else {
                    return Err(self.stage.error(
                        &self.inputs[k].column,
                        row,
                        "Can not infer the length of a null vector with handleInvalid = \"keep\": \
                         the column's vector size is unknown (Spark needs VectorSizeHint \
                         metadata here too)",
                    ));
                };
                let Some(end) = checked_size(at, n) else {
                    return Err(self.too_large(k, row, at, n));
                };
                for i in 0..n {
                    indices.push((at + i) as i32);
                    values.push(f64::NAN);
                }
                at = end;
            }
            out.push_compressed(at, &indices, &values);
        }
        Ok(ColumnarValue::Array(out.finish_array()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::invoke;
    use crate::vector::{VectorRef, dense_vectors};

    fn udf(h: HandleInvalid) -> VectorAssemblerUdf {
        let inputs = vec![
            AssemblerInput {
                column: "a".into(),
                vector_size: None,
            },
            AssemblerInput {
                column: "v".into(),
                vector_size: Some(2),
            },
        ];
        VectorAssemblerUdf::new("va", StageRef::new("va_1", "VectorAssembler"), inputs, h)
    }

    fn inputs() -> Vec<ArrayRef> {
        vec![
            Arc::new(Float64Array::from(vec![
                Some(1.0),
                Some(f64::NAN),
                None,
                Some(0.0),
            ])),
            Arc::new(dense_vectors([
                Some(&[2.0, 3.0][..]),
                Some(&[0.0, 4.0][..]),
                Some(&[5.0, 6.0][..]),
                None,
            ])),
        ]
    }

    #[test]
    fn keep_fills_nan() {
        let out = invoke(&udf(HandleInvalid::Keep), inputs()).unwrap();
        let v = VectorArray::try_new(&out).unwrap();
        assert_eq!(
            v.value(0).unwrap(),
            Some(VectorRef::Dense(&[1.0, 2.0, 3.0]))
        );
        let r1 = v.value(1).unwrap().unwrap().to_dense();
        assert!(r1[0].is_nan() && r1[1] == 0.0 && r1[2] == 4.0);
        let r2 = v.value(2).unwrap().unwrap().to_dense();
        assert!(r2[0].is_nan() && r2[1] == 5.0);
        let r3 = v.value(3).unwrap().unwrap().to_dense();
        assert!(r3[0] == 0.0 && r3[1].is_nan() && r3[2].is_nan());
    }

    #[test]
    fn an_assembled_size_past_i32_is_the_rows_error_not_a_wrap() {
        let inputs = vec![
            AssemblerInput {
                column: "v".into(),
                vector_size: None,
            },
            AssemblerInput {
                column: "a".into(),
                vector_size: None,
            },
        ];
        let udf = VectorAssemblerUdf::new(
            "va",
            StageRef::new("va_1", "VectorAssembler"),
            inputs,
            HandleInvalid::Error,
        );
        let mut b = VectorBuilder::default();
        b.push_sparse(i32::MAX as usize - 1, &[0], &[1.0]); // fits with one more element
        b.push_sparse(i32::MAX as usize, &[0], &[1.0]); // one more passes i32::MAX
        let args: Vec<ArrayRef> = vec![
            b.finish_array(),
            Arc::new(Float64Array::from(vec![2.0, 2.0])),
        ];
        let e = invoke(&udf, args.iter().map(|a| a.slice(1, 1)).collect())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("VectorAssembler 'va_1' on column 'a'") && e.contains("2147483648"),
            "{e}"
        );
        let out = invoke(&udf, args.iter().map(|a| a.slice(0, 1)).collect()).unwrap();
        let v = VectorArray::try_new(&out).unwrap();
        assert_eq!(
            v.value(0).unwrap(),
            Some(VectorRef::Sparse {
                size: i32::MAX as usize,
                indices: &[0, i32::MAX - 1],
                values: &[1.0, 2.0]
            })
        );
    }

    #[test]
    fn skip_nulls_rows_and_error_names_column() {
        let out = invoke(&udf(HandleInvalid::Skip), inputs()).unwrap();
        assert_eq!(out.null_count(), 3);
        let e = invoke(&udf(HandleInvalid::Error), inputs())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("on column 'a'") && e.contains("Encountered NaN"),
            "{e}"
        );
    }
}
