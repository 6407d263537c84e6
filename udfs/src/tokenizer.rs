//! Tokenizer and RegexTokenizer: a string to an array of tokens.
//!
//! Spark's `Tokenizer` is `s.toLowerCase.split("\\s")`; `RegexTokenizer` lower-cases when
//! `toLowercase` is set, then either splits on the pattern (`gaps = true`, Java's
//! `Pattern.split`: empty tokens between adjacent separators kept, trailing empty tokens
//! dropped) or collects its matches (`gaps = false`), and keeps tokens whose Java length
//! (UTF-16 code units) is at least `minTokenLength`. Both are one kernel here: Tokenizer is the
//! pattern `\s` with gaps and no minimum length.
//!
//! Java regular expressions run on the `regex` crate after [`java_regex_to_rust`]: `\s`, `\d`,
//! `\w` keep Java's ASCII meaning (`\b` is Unicode in both). Differences that remain: look-around, back-references
//! and possessive quantifiers are rejected when the model loads; `.` also matches `\r`,
//! U+0085, U+2028 and U+2029 (Java excludes them); with `gaps = false`, an empty match right
//! after a non-empty one is not reported (Java reports it; it only matters for patterns that
//! can match the empty string with `minTokenLength` 0). Lower-casing uses the Unicode default
//! mapping (Java's `toLowerCase()` in a non-Turkic default locale).
//!
//! # Null Handling
//! A null string is an error: Spark's UDF dereferences it (NullPointerException).

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use datafusion::common::Result;

use crate::common::{ArgKind, StageRef, for_each_str};
use crate::text::{
    StringListBuilder, TextKernel, TextUdf, java_length, java_regex_to_rust, java_split,
    null_row_error, string_list_type,
};

/// A fitted (Regex)Tokenizer.
#[derive(Debug, Clone)]
pub struct RegexTokenizer {
    /// The Java pattern, as given.
    pub pattern: String,
    regex: regex::Regex,
    /// Split on the pattern (true) or collect its matches (false).
    pub gaps: bool,
    /// Minimum token length in UTF-16 code units.
    pub min_token_length: usize,
    /// Lower-case the text first.
    pub to_lowercase: bool,
}

impl RegexTokenizer {
    /// A RegexTokenizer; an error message when the Java pattern has no equivalent.
    pub fn new(
        pattern: &str,
        gaps: bool,
        min_token_length: usize,
        to_lowercase: bool,
    ) -> std::result::Result<Self, String> {
        let regex = regex::Regex::new(&java_regex_to_rust(pattern))
            .map_err(|e| format!("the pattern '{pattern}' cannot be used: {e}"))?;
        Ok(Self {
            pattern: pattern.to_string(),
            regex,
            gaps,
            min_token_length,
            to_lowercase,
        })
    }

    /// Spark's `Tokenizer`: lower-case, split on single whitespace characters.
    pub fn tokenizer() -> Self {
        Self::new(r"\s", true, 0, true).expect("a valid pattern")
    }

    /// Tokenizes one string into `out` (one row).
    pub fn tokenize(&self, s: &str, out: &mut StringListBuilder) {
        let lowered;
        let s = if self.to_lowercase {
            lowered = s.to_lowercase();
            lowered.as_str()
        } else {
            s
        };
        let keep = |t: &&str| java_length(t) >= self.min_token_length;
        if self.gaps {
            out.row(
                java_split(&self.regex, s)
                    .into_iter()
                    .filter(keep)
                    .map(Some),
            );
        } else {
            out.row(
                self.regex
                    .find_iter(s)
                    .map(|m| m.as_str())
                    .filter(keep)
                    .map(Some),
            );
        }
    }
}

impl TextKernel for RegexTokenizer {
    const INPUT: ArgKind = ArgKind::String;

    fn output_type(&self) -> DataType {
        string_list_type()
    }

    fn fingerprint(&self, h: &mut std::collections::hash_map::DefaultHasher) {
        use std::hash::Hash;
        (
            &self.pattern,
            self.gaps,
            self.min_token_length,
            self.to_lowercase,
        )
            .hash(h);
    }

    fn transform(&self, stage: &StageRef, column: &str, input: &ArrayRef) -> Result<ArrayRef> {
        let mut out = StringListBuilder::with_capacity(input.len());
        for_each_str(stage.uid.as_ref(), input, |row, s| {
            let s = s.ok_or_else(|| null_row_error(stage, column, row))?;
            self.tokenize(s, &mut out);
            Ok(())
        })?;
        Ok(out.finish())
    }
}

/// The Tokenizer / RegexTokenizer UDF: `string → array<string>`.
pub type RegexTokenizerUdf = TextUdf<RegexTokenizer>;

/// Wraps a tokenizer as a UDF.
pub fn udf(
    name: impl Into<String>,
    stage: StageRef,
    column: impl Into<String>,
    model: Arc<RegexTokenizer>,
) -> RegexTokenizerUdf {
    TextUdf::new(name, stage, column, model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::invoke;
    use crate::text::for_each_string_list;
    use arrow::array::StringArray;

    fn run(t: RegexTokenizer, input: Vec<Option<&str>>) -> Result<Vec<Vec<String>>> {
        let a: ArrayRef = Arc::new(StringArray::from(input));
        let u = udf("t", StageRef::new("t1", "Tokenizer"), "s", Arc::new(t));
        let out = invoke(&u, vec![a])?;
        let mut rows = Vec::new();
        for_each_string_list("t", &out, |_, r| {
            rows.push(r.unwrap().iter().map(|t| t.unwrap().to_string()).collect());
            Ok(())
        })?;
        Ok(rows)
    }

    #[test]
    fn tokenizer_is_lowercase_split_on_single_whitespace() {
        let rows = run(
            RegexTokenizer::tokenizer(),
            vec![Some("Hello  World"), Some(""), Some(" Ünïcode\tTAB ")],
        )
        .unwrap();
        assert_eq!(rows[0], vec!["hello", "", "world"]);
        assert_eq!(rows[1], vec![""]);
        assert_eq!(rows[2], vec!["", "ünïcode", "tab"]);
    }

    #[test]
    fn regex_tokenizer_gaps_matches_and_min_length() {
        let gaps = RegexTokenizer::new(r"\s+", true, 1, true).unwrap();
        assert_eq!(
            run(gaps, vec![Some("  A b  c ")]).unwrap()[0],
            vec!["a", "b", "c"]
        );
        let words = RegexTokenizer::new(r"\w+", false, 2, false).unwrap();
        assert_eq!(
            run(words, vec![Some("I am Ünï x😀y")]).unwrap()[0],
            vec!["am"]
        );
        // UTF-16 length: an emoji counts two
        let emoji = RegexTokenizer::new(" ", true, 2, false).unwrap();
        assert_eq!(
            run(emoji, vec![Some("😀 a bc")]).unwrap()[0],
            vec!["😀", "bc"]
        );
    }

    #[test]
    fn null_is_an_error_and_bad_patterns_are_rejected() {
        let err = run(RegexTokenizer::tokenizer(), vec![None]).unwrap_err();
        assert!(err.to_string().contains("NullPointerException"), "{err}");
        assert!(RegexTokenizer::new(r"(?=a)", true, 1, true).is_err());
    }
}
