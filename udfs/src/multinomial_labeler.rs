//! MLeap's `multinomial_labeler` op (`MultinomialLabelerModel`): the entries of a vector that
//! reach a threshold, as their values (`array<double>`) and as their labels (`array<string>`).
//!
//! For each row, the indices `i` of the vector (read densely: a sparse vector's zeros count)
//! whose value satisfies `value >= threshold`, in index order; `probabilities` holds those
//! values and `labels` holds `labels[i]`. NaN never passes (Scala's `>=` on doubles).
//!
//! An `array<double>` column is `List<Float64>` with a nullable item named `element`, as
//! Spark's Parquet LIST reads (see [`double_list_type`]).
//!
//! # Null Handling
//! A null vector fails (MLeap's transformer and the Spark extension's UDF throw on null), and
//! so does a passing index with no label (MLeap's reverse-indexer lookup throws).

use std::collections::hash_map::DefaultHasher;
use std::hash::Hash;
use std::sync::Arc;

use arrow::array::{Float64Builder, ListBuilder};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use crate::common::{ArgKind, ModelUdf, StageRef, arrays, fingerprint, hash_f64s};
use crate::text::{StringListBuilder, string_list_type};
use crate::udf_identity;
use crate::vector::{VectorArray, VectorRef};

/// The item field of an `array<double>` column.
pub fn double_list_item() -> FieldRef {
    Arc::new(Field::new("element", DataType::Float64, true))
}

/// The Arrow type of an `array<double>` column inside ember.
pub fn double_list_type() -> DataType {
    DataType::List(double_list_item())
}

/// The fitted labeler.
#[derive(Debug, Clone, PartialEq)]
pub struct MultinomialLabeler {
    /// Values `>=` this pass.
    pub threshold: f64,
    /// The label of each vector index.
    pub labels: Vec<String>,
}

impl MultinomialLabeler {
    /// The `(index, value)` pairs of `v` that pass the threshold, in index order, into `out`
    /// (cleared first).
    pub fn select(&self, v: &VectorRef<'_>, out: &mut Vec<(usize, f64)>) {
        out.clear();
        let t = self.threshold;
        match v {
            VectorRef::Dense(xs) => out.extend(
                xs.iter()
                    .enumerate()
                    .filter(|(_, x)| **x >= t)
                    .map(|(i, x)| (i, *x)),
            ),
            // the implicit zeros pass too: walk every index, merging the stored ones
            VectorRef::Sparse {
                size,
                indices,
                values,
            } if 0.0 >= t => {
                let mut stored = indices.iter().zip(values.iter()).peekable();
                for i in 0..*size {
                    let x = match stored.peek() {
                        Some((j, x)) if **j as usize == i => {
                            let x = **x;
                            stored.next();
                            x
                        }
                        _ => 0.0,
                    };
                    if x >= t {
                        out.push((i, x));
                    }
                }
            }
            VectorRef::Sparse {
                indices, values, ..
            } => out.extend(
                indices
                    .iter()
                    .zip(values.iter())
                    .filter(|(_, x)| **x >= t)
                    .map(|(i, x)| (*i as usize, *x)),
            ),
        }
    }

    /// The label of index `i`; `Err` when the model has no label for it.
    pub fn label(&self, i: usize) -> std::result::Result<&str, String> {
        self.labels.get(i).map(String::as_str).ok_or_else(|| {
            format!(
                "value at index {i} reaches the threshold {} but the model has only {} labels \
                 (key not found: {i})",
                self.threshold,
                self.labels.len()
            )
        })
    }

    fn fingerprint(&self, h: &mut DefaultHasher) {
        hash_f64s(h, &[self.threshold]);
        self.labels.hash(h);
    }
}

/// Which of the op's two outputs a UDF computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LabelerOutput {
    /// The passing values, `array<double>`.
    Probabilities,
    /// Their labels, `array<string>`.
    Labels,
}

impl LabelerOutput {
    fn data_type(self) -> DataType {
        match self {
            LabelerOutput::Probabilities => double_list_type(),
            LabelerOutput::Labels => string_list_type(),
        }
    }
}

/// One output of `multinomial_labeler`: `vector → array<double>` or `vector → array<string>`.
#[derive(Debug)]
pub struct MultinomialLabelerUdf {
    core: ModelUdf<MultinomialLabeler>,
    output: LabelerOutput,
}

udf_identity!(MultinomialLabelerUdf by core);

impl MultinomialLabelerUdf {
    /// A UDF named `name` computing `output` from the vectors of `column` for `stage`.
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        column: impl Into<String>,
        output: LabelerOutput,
        model: Arc<MultinomialLabeler>,
    ) -> Self {
        let fingerprint = fingerprint(|h| {
            model.fingerprint(h);
            output.hash(h);
        });
        Self {
            core: ModelUdf::new(name, stage, column, model, fingerprint),
            output,
        }
    }
}

impl MultinomialLabelerUdf {
    /// Calls `f(row, passing (index, value) pairs)` for each row; a null or malformed vector
    /// is a row error.
    fn for_each_row(
        &self,
        va: &VectorArray<'_>,
        mut f: impl FnMut(usize, &[(usize, f64)]) -> Result<()>,
    ) -> Result<()> {
        let mut picked = Vec::new();
        for row in 0..va.len() {
            let v = self.core.vector_row(va, row, None)?;
            self.core.model.select(&v, &mut picked);
            f(row, &picked)?;
        }
        Ok(())
    }
}

impl ScalarUDFImpl for MultinomialLabelerUdf {
    fn name(&self) -> &str {
        &self.core.name
    }

    fn signature(&self) -> &Signature {
        &self.core.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.output.data_type())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.core
            .return_field(&args, ArgKind::Vector, self.output.data_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args.args, args.number_rows)?;
        let va = VectorArray::try_new(input[0].as_ref())?;
        let rows = va.len();
        let out = match self.output {
            LabelerOutput::Probabilities => {
                let mut b = ListBuilder::with_capacity(Float64Builder::with_capacity(rows), rows)
                    .with_field(double_list_item());
                self.for_each_row(&va, |_, picked| {
                    for (_, x) in picked {
                        b.values().append_value(*x);
                    }
                    b.append(true);
                    Ok(())
                })?;
                Arc::new(b.finish()) as _
            }
            LabelerOutput::Labels => {
                let mut b = StringListBuilder::with_capacity(rows);
                self.for_each_row(&va, |row, picked| {
                    for (i, _) in picked {
                        let label = self
                            .core
                            .model
                            .label(*i)
                            .map_err(|m| self.core.error(row, m))?;
                        b.token(Some(label));
                    }
                    b.end_row();
                    Ok(())
                })?;
                b.finish()
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, ArrayRef, AsArray};
    use arrow::datatypes::Float64Type;

    use crate::testing::invoke;
    use crate::vector::VectorBuilder;

    fn model(threshold: f64) -> Arc<MultinomialLabeler> {
        Arc::new(MultinomialLabeler {
            threshold,
            labels: vec!["hello1".into(), "world2".into(), "!3".into()],
        })
    }

    fn picked(m: &MultinomialLabeler, v: VectorRef<'_>) -> Vec<(usize, f64)> {
        let mut out = vec![(9, 9.0)];
        m.select(&v, &mut out);
        out
    }

    #[test]
    fn selects_in_index_order_at_or_above_the_threshold() {
        // MLeap's MultinomialLabelerSpec: threshold 9, [0, 10, 20]
        let m = model(9.0);
        assert_eq!(
            picked(&m, VectorRef::Dense(&[0.0, 10.0, 20.0])),
            vec![(1, 10.0), (2, 20.0)]
        );
        assert_eq!(
            picked(&m, VectorRef::Dense(&[9.0, f64::NAN, 8.99])),
            vec![(0, 9.0)]
        );
        assert_eq!(picked(&m, VectorRef::Dense(&[])), vec![]);
    }

    #[test]
    fn sparse_zeros_pass_only_when_zero_does() {
        let v = VectorRef::Sparse {
            size: 4,
            indices: &[1, 3],
            values: &[0.5, -1.0],
        };
        assert_eq!(picked(&model(0.1), v), vec![(1, 0.5)]);
        assert_eq!(picked(&model(0.0), v), vec![(0, 0.0), (1, 0.5), (2, 0.0)]);
        assert_eq!(
            picked(&model(-2.0), v),
            vec![(0, 0.0), (1, 0.5), (2, 0.0), (3, -1.0)]
        );
        assert_eq!(picked(&model(f64::NAN), v), vec![]);
    }

    fn run(output: LabelerOutput, rows: &[Option<&[f64]>]) -> Result<ArrayRef> {
        let mut b = VectorBuilder::with_capacity(rows.len(), 3);
        for r in rows {
            match r {
                Some(xs) => b.push_dense(xs),
                None => b.push_null(),
            }
        }
        let udf = MultinomialLabelerUdf::new(
            "ml",
            StageRef::new("multinomial_labeler", "MultinomialLabelerModel"),
            "features",
            output,
            model(9.0),
        );
        invoke(&udf, vec![b.finish_array()])
    }

    #[test]
    fn udf_builds_both_outputs_and_fails_nulls_and_missing_labels() {
        let rows: [Option<&[f64]>; 2] = [Some(&[0.0, 10.0, 20.0]), Some(&[1.0, 2.0, 3.0])];
        let p = run(LabelerOutput::Probabilities, &rows).unwrap();
        assert_eq!(p.data_type(), &double_list_type());
        let p = p.as_list::<i32>();
        assert_eq!(
            p.value(0).as_primitive::<Float64Type>().values().to_vec(),
            vec![10.0, 20.0]
        );
        assert_eq!(p.value(1).len(), 0);
        let l = run(LabelerOutput::Labels, &rows).unwrap();
        assert_eq!(l.data_type(), &string_list_type());
        let l = l.as_list::<i32>();
        let first: Vec<_> = l
            .value(0)
            .as_string::<i32>()
            .iter()
            .flatten()
            .map(str::to_string)
            .collect();
        assert_eq!(first, vec!["world2", "!3"]);

        let err = run(LabelerOutput::Labels, &[Some(&[1.0]), None])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("null vector") && err.contains("features"),
            "{err}"
        );
        // a fourth element passing: no label for index 3; the probabilities have no labels to miss
        let err = run(LabelerOutput::Labels, &[Some(&[0.0, 0.0, 0.0, 10.0])])
            .unwrap_err()
            .to_string();
        assert!(err.contains("index 3") && err.contains("3 labels"), "{err}");
        assert!(
            run(
                LabelerOutput::Probabilities,
                &[Some(&[0.0, 0.0, 0.0, 10.0])]
            )
            .is_ok()
        );
    }
}
