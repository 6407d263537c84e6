//! StringIndexerModel: label → index lookup.
//!
//! # Null Handling
//! Spark casts the input to string first. A label found in the fitted labels maps to its
//! position (as a double). A null or unseen label fails under `handleInvalid = error`, maps to
//! `labels.len()` under `keep`, and under `skip` yields null here — the compiled plan then drops
//! the row, as Spark's `na.drop` + filter does.

use std::sync::Arc;

use arrow::array::Float64Array;
use arrow::buffer::{NullBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};
use hashbrown::HashMap;

use crate::common::{
    ArgKind, HandleInvalid, StageRef, arrays, fingerprint, for_each_str, single_arg_field,
    volatility,
};
use crate::shown::Shown;

/// The fitted labels of one input column.
#[derive(Debug)]
pub struct StringIndex {
    labels: Vec<String>,
    index: HashMap<String, u32>,
}

impl StringIndex {
    /// Indexes `labels` by position (a repeated label keeps its last position, as Spark's map
    /// update does).
    pub fn new(labels: Vec<String>) -> Self {
        let mut index = HashMap::with_capacity(labels.len());
        for (i, l) in labels.iter().enumerate() {
            index.insert(l.clone(), i as u32);
        }
        Self { labels, index }
    }

    /// The fitted labels in index order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The index of `label`, if it was seen during fitting.
    #[inline]
    pub fn lookup(&self, label: &str) -> Option<u32> {
        self.index.get(label).copied()
    }
}

/// `StringIndexerModel` for one input column: `string → double`.
#[derive(Debug)]
pub struct StringIndexerUdf {
    name: String,
    signature: Signature,
    stage: StageRef,
    column: String,
    index: Arc<StringIndex>,
    handle_invalid: HandleInvalid,
    fingerprint: u64,
}

crate::udf_identity!(StringIndexerUdf);

impl StringIndexerUdf {
    /// A UDF named `name` indexing `column` of `stage` with `index`.
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        column: impl Into<String>,
        index: Arc<StringIndex>,
        handle_invalid: HandleInvalid,
    ) -> Self {
        let fingerprint = fingerprint(|h| {
            use std::hash::Hash;
            index.labels.hash(h);
            handle_invalid.hash(h);
        });
        Self {
            name: name.into(),
            signature: Signature::any(1, volatility(handle_invalid)),
            stage,
            column: column.into(),
            index,
            handle_invalid,
            fingerprint,
        }
    }
}

impl ScalarUDFImpl for StringIndexerUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        single_arg_field(
            &self.name,
            &self.stage,
            &args,
            ArgKind::String,
            DataType::Float64,
        )
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args.args, args.number_rows)?;
        // values and validity straight into the array's buffers (no builder to finish)
        let mut values: Vec<f64> = Vec::with_capacity(args.number_rows);
        let mut valid: Option<Vec<bool>> = None;
        let mut push = |v: Option<f64>| match v {
            Some(x) => {
                values.push(x);
                if let Some(valid) = &mut valid {
                    valid.push(true);
                }
            }
            None => {
                let rows = values.len();
                values.push(0.0);
                valid.get_or_insert_with(|| vec![true; rows]).push(false);
            }
        };
        let unseen = self.index.labels.len() as f64;
        for_each_str(&self.name, &input[0], |row, v| {
            match v {
                Some(label) => match self.index.lookup(label) {
                    Some(i) => push(Some(f64::from(i))),
                    None => match self.handle_invalid {
                        HandleInvalid::Keep => push(Some(unseen)),
                        HandleInvalid::Skip => push(None),
                        HandleInvalid::Error => {
                            return Err(self.stage.error(
                                &self.column,
                                row,
                                format!(
                                    "Unseen label: {}. To handle unseen labels, set Param \
                                     handleInvalid to keep.",
                                    Shown(label)
                                ),
                            ));
                        }
                    },
                },
                None => match self.handle_invalid {
                    HandleInvalid::Keep => push(Some(unseen)),
                    HandleInvalid::Skip => push(None),
                    HandleInvalid::Error => {
                        return Err(self.stage.error(
                            &self.column,
                            row,
                            "StringIndexer encountered NULL value. To handle or skip NULLS, try \
                             setting StringIndexer.handleInvalid.",
                        ));
                    }
                },
            }
            Ok(())
        })?;
        Ok(ColumnarValue::Array(Arc::new(Float64Array::new(
            ScalarBuffer::from(values),
            valid.map(NullBuffer::from),
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::invoke;
    use arrow::array::{Array, ArrayRef, AsArray, StringArray, StringViewArray};
    use arrow::datatypes::Float64Type;

    fn udf(h: HandleInvalid) -> StringIndexerUdf {
        let idx = Arc::new(StringIndex::new(vec!["b".into(), "a".into(), "".into()]));
        StringIndexerUdf::new(
            "si",
            StageRef::new("si_1", "StringIndexerModel"),
            "c",
            idx,
            h,
        )
    }

    #[test]
    fn modes() {
        let input: ArrayRef = Arc::new(StringArray::from(vec![
            Some("a"),
            Some(""),
            Some("b"),
            Some("zz"),
            None,
        ]));
        let keep = invoke(&udf(HandleInvalid::Keep), vec![Arc::clone(&input)]).unwrap();
        let keep = keep.as_primitive::<Float64Type>();
        assert_eq!(keep.values().to_vec(), vec![1.0, 2.0, 0.0, 3.0, 3.0]);
        let skip = invoke(&udf(HandleInvalid::Skip), vec![Arc::clone(&input)]).unwrap();
        assert_eq!(skip.null_count(), 2);
        let err = invoke(&udf(HandleInvalid::Error), vec![input]).unwrap_err();
        assert!(err.to_string().contains("Unseen label: zz"), "{err}");
        assert!(
            err.to_string()
                .contains("StringIndexerModel 'si_1' on column 'c'"),
            "{err}"
        );
    }

    #[test]
    fn unseen_labels_are_quoted_short_and_on_one_line() {
        let long = "v".repeat(1 << 20);
        let input: ArrayRef = Arc::new(StringArray::from(vec![long.as_str(), "x\ny\u{1b}[2J"]));
        let err = invoke(&udf(HandleInvalid::Error), vec![input]).unwrap_err();
        let m = err.to_string();
        assert!(m.len() < 1024, "{} bytes", m.len());
        assert!(
            m.contains(&format!("{}… (1048576 chars in all)", "v".repeat(100))),
            "{m}"
        );
        let input: ArrayRef = Arc::new(StringArray::from(vec!["x\ny\u{1b}[2J"]));
        let m = invoke(&udf(HandleInvalid::Error), vec![input])
            .unwrap_err()
            .to_string();
        assert!(m.contains("Unseen label: x\\ny\\u{1b}[2J."), "{m}");
        assert!(!m.contains('\n') && !m.contains('\u{1b}'), "{m}");
    }

    #[test]
    fn string_views_and_null_error() {
        let input = Arc::new(StringViewArray::from(vec![Some("b"), None]));
        let err = invoke(&udf(HandleInvalid::Error), vec![input]).unwrap_err();
        assert!(err.to_string().contains("NULL value"), "{err}");
        let ok = invoke(
            &udf(HandleInvalid::Error),
            vec![Arc::new(StringViewArray::from(vec!["b"]))],
        );
        assert_eq!(ok.unwrap().as_primitive::<Float64Type>().value(0), 0.0);
    }
}
