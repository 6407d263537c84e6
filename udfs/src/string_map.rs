//! MLeap's `string_map` op (`StringMapModel`): look a string up in a fixed label → double map.
//!
//! An absent label gives `default_value` under `handle_invalid = keep`, and fails under
//! `error` with MLeap's message.
//!
//! # Null Handling
//! A null input is a label like any other that is never in the map: `keep` gives the default,
//! `error` fails ("Missing label: null"), as MLeap's Scala map lookup does.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::Float64Builder;
use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::common::{
    ArgKind, StageRef, arrays, fingerprint, for_each_str, hash_f64s, single_arg_field,
};

/// The fitted map.
#[derive(Debug, Clone)]
pub struct StringMap {
    /// Label → value (a repeated label keeps its last value, as Scala's `toMap`).
    pub map: HashMap<String, f64>,
    /// `Some(default)` under `keep`, `None` under `error`.
    pub default: Option<f64>,
}

impl StringMap {
    /// From MLeap's parallel `labels` and `values` lists.
    pub fn new(labels: &[String], values: &[f64], default: Option<f64>) -> Self {
        Self {
            map: labels.iter().cloned().zip(values.iter().copied()).collect(),
            default,
        }
    }

    /// Maps one label (`None` = null); `Err` carries MLeap's message.
    pub fn apply(&self, label: Option<&str>) -> std::result::Result<f64, String> {
        if let Some(v) = label.and_then(|l| self.map.get(l)) {
            return Ok(*v);
        }
        self.default.ok_or_else(|| {
            format!(
                "Missing label: {}. To handle unseen labels, set handleInvalid to keep and \
                 optionally set a custom defaultValue",
                label.unwrap_or("null")
            )
        })
    }
}

/// `string_map`: `string → double`.
#[derive(Debug)]
pub struct StringMapUdf {
    name: String,
    signature: Signature,
    stage: StageRef,
    column: String,
    model: Arc<StringMap>,
    fingerprint: u64,
}

crate::udf_identity!(StringMapUdf);

impl StringMapUdf {
    /// A UDF named `name` mapping `column` for `stage`.
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        column: impl Into<String>,
        model: Arc<StringMap>,
    ) -> Self {
        let fingerprint = fingerprint(|h| {
            use std::hash::Hash;
            let mut entries: Vec<_> = model.map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            for (k, v) in entries {
                k.hash(h);
                hash_f64s(h, &[*v]);
            }
            model.default.map(f64::to_bits).hash(h);
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

impl ScalarUDFImpl for StringMapUdf {
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
        let mut out = Float64Builder::with_capacity(input[0].len());
        for_each_str(&self.name, &input[0], |row, v| {
            let y = self
                .model
                .apply(v)
                .map_err(|m| self.stage.error(&self.column, row, m))?;
            out.append_value(y);
            Ok(())
        })?;
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_and_error() {
        let labels = ["a".to_string(), "b".to_string(), "a".to_string()];
        let keep = StringMap::new(&labels, &[1.0, 2.0, 3.0], Some(-1.0));
        assert_eq!(keep.apply(Some("a")), Ok(3.0));
        assert_eq!(keep.apply(Some("b")), Ok(2.0));
        assert_eq!(keep.apply(Some("c")), Ok(-1.0));
        assert_eq!(keep.apply(None), Ok(-1.0));
        let error = StringMap::new(&labels, &[1.0, 2.0, 3.0], None);
        assert!(
            error
                .apply(Some("c"))
                .unwrap_err()
                .starts_with("Missing label: c.")
        );
        assert!(
            error
                .apply(None)
                .unwrap_err()
                .starts_with("Missing label: null.")
        );
    }
}
