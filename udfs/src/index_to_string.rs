//! IndexToString: index → label.
//!
//! # Null Handling
//! Spark's UDF takes a primitive double, so null stays null. The index is truncated the way
//! Java's `(int)` cast does (toward zero, NaN → 0, saturating), then must fall in
//! `[0, labels.len())`; anything else fails with Spark's `Unseen index` message.

use std::sync::Arc;

use arrow::array::StringBuilder;
use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::common::{ArgKind, StageRef, arrays, as_f64, fingerprint, single_arg_field};
use crate::java_fmt::java_double_to_string;

/// The label of one index, for one row: Java's `(int)` truncation (toward zero, NaN → 0,
/// saturating; Rust's `as` agrees), then a lookup; an index outside the labels is Spark's
/// `Unseen index` message.
pub fn label_of(labels: &[String], index: f64) -> std::result::Result<&str, String> {
    let i = index as i32;
    usize::try_from(i)
        .ok()
        .and_then(|i| labels.get(i))
        .map(String::as_str)
        .ok_or_else(|| format!("Unseen index: {} ??", java_double_to_string(index)))
}

/// `IndexToString`: `double → string`.
#[derive(Debug)]
pub struct IndexToStringUdf {
    name: String,
    signature: Signature,
    stage: StageRef,
    column: String,
    labels: Arc<[String]>,
    fingerprint: u64,
}

crate::udf_identity!(IndexToStringUdf);

impl IndexToStringUdf {
    /// A UDF named `name` mapping `column` of `stage` through `labels`.
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        column: impl Into<String>,
        labels: Arc<[String]>,
    ) -> Self {
        Self {
            name: name.into(),
            signature: Signature::any(1, Volatility::Immutable),
            stage,
            column: column.into(),
            fingerprint: fingerprint(|h| std::hash::Hash::hash(&labels, h)),
            labels,
        }
    }
}

impl ScalarUDFImpl for IndexToStringUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        single_arg_field(
            &self.name,
            &self.stage,
            &args,
            ArgKind::Double,
            DataType::Utf8,
        )
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args.args, args.number_rows)?;
        let input = as_f64(&self.name, &input[0])?;
        let mut out = StringBuilder::with_capacity(input.len(), input.len() * 8);
        for (row, v) in input.iter().enumerate() {
            match v {
                None => out.append_null(),
                Some(index) => match label_of(&self.labels, index) {
                    Ok(label) => out.append_value(label),
                    Err(m) => return Err(self.stage.error(&self.column, row, m)),
                },
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::invoke;
    use arrow::array::{Array, AsArray, Float64Array};

    #[test]
    fn truncates_like_java() {
        let labels: Arc<[String]> = vec!["a".to_string(), "b".into(), "c".into()].into();
        let udf = IndexToStringUdf::new("its", StageRef::new("i", "IndexToString"), "k", labels);
        let input = Float64Array::from(vec![
            Some(0.0),
            Some(1.7),
            Some(-0.5),
            Some(f64::NAN),
            None,
            Some(2.99),
        ]);
        let out = invoke(&udf, vec![Arc::new(input)]).unwrap();
        let out = out.as_string::<i32>();
        assert_eq!(out.value(0), "a");
        assert_eq!(out.value(1), "b");
        assert_eq!(out.value(2), "a");
        assert_eq!(out.value(3), "a");
        assert!(out.is_null(4));
        assert_eq!(out.value(5), "c");
        let e = invoke(&udf, vec![Arc::new(Float64Array::from(vec![3.0]))]).unwrap_err();
        assert!(e.to_string().contains("Unseen index: 3.0 ??"), "{e}");
        let e = invoke(&udf, vec![Arc::new(Float64Array::from(vec![-1.0]))]).unwrap_err();
        assert!(e.to_string().contains("Unseen index: -1.0 ??"), "{e}");
    }
}
