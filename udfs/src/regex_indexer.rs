//! MLeap's `regex_indexer` op (`RegexIndexerModel`): the index of the first regex that occurs
//! anywhere in the string (an unanchored search, Java's `Matcher.find`), else `default_value`.
//!
//! The patterns are Java regexes, compiled here with the `regex` crate. Patterns using what
//! the crate does not support (look-around, back-references, possessive quantifiers) are load
//! errors. Known differences on supported syntax: `\w`, `\d`, `\s` and `\b` match Unicode
//! classes here but ASCII only in Java, and `.` excludes only `\n` here but also `\r`,
//! `\u0085`, `\u2028` and `\u2029` in Java — identical on ASCII text without carriage returns.
//!
//! # Null Handling
//! A null input fails (MLeap's model dereferences it), as does a string no regex matches when
//! there is no `default_value`.

use std::sync::Arc;

use arrow::array::Int32Builder;
use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use regex::Regex;

use crate::common::{ArgKind, StageRef, arrays, fingerprint, for_each_str, single_arg_field};

/// The fitted lookup: regexes in order with their indices.
#[derive(Debug, Clone)]
pub struct RegexIndex {
    /// (pattern, index), tried in order.
    pub lookup: Vec<(Regex, i32)>,
    /// The index of strings no regex matches; `None` fails such rows.
    pub default: Option<i32>,
}

impl RegexIndex {
    /// Compiles the patterns; `Err` names the first pattern that does not compile.
    pub fn new(
        patterns: &[String],
        indices: &[i32],
        default: Option<i32>,
    ) -> std::result::Result<Self, String> {
        let lookup = patterns
            .iter()
            .zip(indices)
            .map(|(p, i)| {
                Regex::new(p)
                    .map(|r| (r, *i))
                    .map_err(|e| format!("regex '{p}' is not supported: {e}"))
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Self { lookup, default })
    }

    /// The index for one string (`None` = null); `Err` carries the message.
    pub fn apply(&self, s: Option<&str>) -> std::result::Result<i32, String> {
        let s = s.ok_or("null input")?;
        self.lookup
            .iter()
            .find(|(r, _)| r.is_match(s))
            .map(|(_, i)| *i)
            .or(self.default)
            .ok_or_else(|| format!("no regex matches '{s}' and there is no default_value"))
    }
}

/// `regex_indexer`: `string → int`.
#[derive(Debug)]
pub struct RegexIndexerUdf {
    name: String,
    signature: Signature,
    stage: StageRef,
    column: String,
    model: Arc<RegexIndex>,
    fingerprint: u64,
}

crate::udf_identity!(RegexIndexerUdf);

impl RegexIndexerUdf {
    /// A UDF named `name` indexing `column` for `stage`.
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        column: impl Into<String>,
        model: Arc<RegexIndex>,
    ) -> Self {
        let fingerprint = fingerprint(|h| {
            use std::hash::Hash;
            for (r, i) in &model.lookup {
                r.as_str().hash(h);
                i.hash(h);
            }
            model.default.hash(h);
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

impl ScalarUDFImpl for RegexIndexerUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        single_arg_field(
            &self.name,
            &self.stage,
            &args,
            ArgKind::String,
            DataType::Int32,
        )
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args.args, args.number_rows)?;
        let mut out = Int32Builder::with_capacity(input[0].len());
        for_each_str(&self.name, &input[0], |row, v| {
            let i = self
                .model
                .apply(v)
                .map_err(|m| self.stage.error(&self.column, row, m))?;
            out.append_value(i);
            Ok(())
        })?;
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_match_default_and_errors() {
        let p = ["^a".to_string(), "b+".to_string(), "[0-9]{3}".to_string()];
        let idx = RegexIndex::new(&p, &[10, 20, 30], Some(-1)).unwrap();
        assert_eq!(idx.apply(Some("abc")), Ok(10));
        assert_eq!(idx.apply(Some("xbb")), Ok(20));
        assert_eq!(idx.apply(Some("x123")), Ok(30));
        assert_eq!(idx.apply(Some("zzz")), Ok(-1));
        assert!(idx.apply(None).is_err());
        let strict = RegexIndex::new(&p, &[10, 20, 30], None).unwrap();
        assert!(
            strict
                .apply(Some("zzz"))
                .unwrap_err()
                .contains("no regex matches")
        );
        let err = RegexIndex::new(&["(?<=a)b".to_string()], &[1], None).unwrap_err();
        assert!(err.contains("(?<=a)b"), "{err}");
    }
}
