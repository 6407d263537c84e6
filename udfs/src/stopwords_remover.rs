//! StopWordsRemover: drops the stop words from an array of strings.
//!
//! Spark 3+: case-sensitive, a token is dropped when it is one of `stopWords`; otherwise both
//! the stop words and each token are lower-cased with `toLowerCase(new Locale(locale))` (see
//! [`java_lowercase`]) before the comparison. Null tokens are never stop words and are kept.
//!
//! # Null Handling
//! A null array is an error (Spark's UDF dereferences it). Null tokens are kept.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use datafusion::common::Result;

use crate::common::{ArgKind, StageRef};
use crate::text::{
    StringListBuilder, TextKernel, TextUdf, for_each_string_list, java_lowercase, null_row_error,
    string_list_type,
};

/// A fitted StopWordsRemover.
#[derive(Debug, Clone)]
pub struct StopWordsRemover {
    /// The stop words as given.
    pub stop_words: Vec<String>,
    /// Compare case-sensitively.
    pub case_sensitive: bool,
    /// The locale for case-insensitive comparison (Java's `new Locale(locale)`).
    pub locale: String,
    set: HashSet<String>,
}

impl StopWordsRemover {
    /// A remover over `stop_words`.
    pub fn new(stop_words: Vec<String>, case_sensitive: bool, locale: impl Into<String>) -> Self {
        let locale = locale.into();
        let set = stop_words
            .iter()
            .map(|w| {
                if case_sensitive {
                    w.clone()
                } else {
                    java_lowercase(w, &locale)
                }
            })
            .collect();
        Self {
            stop_words,
            case_sensitive,
            locale,
            set,
        }
    }

    /// True when `token` is a stop word.
    pub fn is_stop_word(&self, token: &str) -> bool {
        if self.case_sensitive {
            self.set.contains(token)
        } else {
            self.set.contains(&java_lowercase(token, &self.locale))
        }
    }
}

impl TextKernel for StopWordsRemover {
    const INPUT: ArgKind = ArgKind::StringList;

    fn output_type(&self) -> DataType {
        string_list_type()
    }

    fn fingerprint(&self, h: &mut std::collections::hash_map::DefaultHasher) {
        use std::hash::Hash;
        (&self.stop_words, self.case_sensitive, &self.locale).hash(h);
    }

    fn transform(&self, stage: &StageRef, column: &str, input: &ArrayRef) -> Result<ArrayRef> {
        let mut out = StringListBuilder::with_capacity(input.len());
        for_each_string_list(stage.uid.as_ref(), input, |row, terms| {
            let terms = terms.ok_or_else(|| null_row_error(stage, column, row))?;
            out.row(
                terms
                    .iter()
                    .copied()
                    .filter(|t| t.is_none_or(|t| !self.is_stop_word(t))),
            );
            Ok(())
        })?;
        Ok(out.finish())
    }
}

/// Wraps a remover as a UDF: `array<string> → array<string>`.
pub fn udf(
    name: impl Into<String>,
    stage: StageRef,
    column: impl Into<String>,
    model: Arc<StopWordsRemover>,
) -> TextUdf<StopWordsRemover> {
    TextUdf::new(name, stage, column, model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::invoke;

    fn lists(rows: &[Option<Vec<Option<&str>>>]) -> ArrayRef {
        let mut b = StringListBuilder::with_capacity(rows.len());
        for r in rows {
            match r {
                Some(t) => b.row(t.iter().copied()),
                None => b.null(),
            }
        }
        b.finish()
    }

    fn run(
        m: StopWordsRemover,
        rows: &[Option<Vec<Option<&str>>>],
    ) -> Result<Vec<Vec<Option<String>>>> {
        let u = udf(
            "s",
            StageRef::new("s1", "StopWordsRemover"),
            "t",
            Arc::new(m),
        );
        let out = invoke(&u, vec![lists(rows)])?;
        let mut res = Vec::new();
        for_each_string_list("t", &out, |_, r| {
            res.push(r.unwrap().iter().map(|t| t.map(str::to_string)).collect());
            Ok(())
        })?;
        Ok(res)
    }

    #[test]
    fn case_rules_and_null_tokens() {
        let words = vec!["the".to_string(), "Is".to_string()];
        let row = [Some(vec![
            Some("The"),
            Some("is"),
            None,
            Some("cat"),
            Some("the"),
        ])];
        let ci = run(StopWordsRemover::new(words.clone(), false, "en_US"), &row).unwrap();
        assert_eq!(ci[0], vec![None, Some("cat".to_string())]);
        let cs = run(StopWordsRemover::new(words, true, "en_US"), &row).unwrap();
        assert_eq!(
            cs[0],
            vec![
                Some("The".into()),
                Some("is".into()),
                None,
                Some("cat".into())
            ]
        );
        // Turkish: "I" lower-cases to dotless ı, so "IS" is not "is"
        let tr = run(
            StopWordsRemover::new(vec!["is".into()], false, "tr"),
            &[Some(vec![Some("IS"), Some("İs")])],
        )
        .unwrap();
        assert_eq!(tr[0], vec![Some("IS".to_string())]);
    }

    #[test]
    fn null_array_is_an_error() {
        let err = run(StopWordsRemover::new(vec![], false, "en"), &[None]).unwrap_err();
        assert!(err.to_string().contains("NullPointerException"));
    }
}
