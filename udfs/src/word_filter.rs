//! MLeap's `word_filter` (WordLengthFilterModel): keeps the words made only of letters whose
//! length exceeds `length`.
//!
//! MLeap: `words.filter(w => w.forall(_.isLetter) && w.length > length)`, with Java's UTF-16
//! `length` and `Character.isLetter` per UTF-16 unit (so a character outside the Basic
//! Multilingual Plane, being two surrogates, is never a letter). ember tests letters with
//! Rust's `char::is_alphabetic` (Unicode `Alphabetic`), which also admits letter-like marks and
//! numbers (e.g. combining vowel signs, Roman numerals) that Java's general-category test
//! rejects.
//!
//! # Null Handling
//! A null array or a null word is an error (MLeap's filter dereferences it).

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use datafusion::common::Result;

use crate::common::{ArgKind, StageRef};
use crate::text::{
    StringListBuilder, TextKernel, TextUdf, for_each_string_list, java_length, null_row_error,
    string_list_type,
};

/// A WordLengthFilter.
#[derive(Debug, Clone)]
pub struct WordFilter {
    /// Words must be longer than this (UTF-16 code units).
    pub length: i64,
}

impl WordFilter {
    /// True when `w` is kept.
    pub fn keeps(&self, w: &str) -> bool {
        w.chars().all(|c| c.len_utf16() == 1 && c.is_alphabetic())
            && java_length(w) as i64 > self.length
    }
}

impl TextKernel for WordFilter {
    const INPUT: ArgKind = ArgKind::StringList;

    fn output_type(&self) -> DataType {
        string_list_type()
    }

    fn fingerprint(&self, h: &mut std::collections::hash_map::DefaultHasher) {
        use std::hash::Hash;
        self.length.hash(h);
    }

    fn transform(&self, stage: &StageRef, column: &str, input: &ArrayRef) -> Result<ArrayRef> {
        let mut out = StringListBuilder::with_capacity(input.len());
        for_each_string_list(stage.uid.as_ref(), input, |row, words| {
            let words = words.ok_or_else(|| null_row_error(stage, column, row))?;
            for w in words {
                let w = w.ok_or_else(|| null_row_error(stage, column, row))?;
                if self.keeps(w) {
                    out.token(Some(w));
                }
            }
            out.end_row();
            Ok(())
        })?;
        Ok(out.finish())
    }
}

/// Wraps a WordLengthFilter as a UDF: `array<string> → array<string>`.
pub fn udf(
    name: impl Into<String>,
    stage: StageRef,
    column: impl Into<String>,
    model: Arc<WordFilter>,
) -> TextUdf<WordFilter> {
    TextUdf::new(name, stage, column, model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_only_and_strictly_longer() {
        let f = WordFilter { length: 3 };
        assert!(f.keeps("word"));
        assert!(!f.keeps("the"));
        assert!(!f.keeps("abc1"));
        assert!(f.keeps("ünïcödé"));
        assert!(!f.keeps("a😀bcd"));
        assert!(!f.keeps(""));
        assert!(WordFilter { length: -1 }.keeps(""));
    }
}
