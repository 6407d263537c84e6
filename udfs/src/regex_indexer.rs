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

use std::collections::hash_map::DefaultHasher;
use std::hash::Hash;

use arrow::datatypes::Int32Type;
use regex::Regex;

use crate::shown::Shown;
use crate::string_lookup::{StringLookup, StringLookupUdf};

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
            .ok_or_else(|| {
                format!(
                    "no regex matches '{}' and there is no default_value",
                    Shown(s)
                )
            })
    }
}

impl StringLookup for RegexIndex {
    type Output = Int32Type;

    fn apply(&self, s: Option<&str>) -> std::result::Result<i32, String> {
        RegexIndex::apply(self, s)
    }

    fn fingerprint(&self, h: &mut DefaultHasher) {
        for (r, i) in &self.lookup {
            r.as_str().hash(h);
            i.hash(h);
        }
        self.default.hash(h);
    }
}

/// `regex_indexer`: `string → int`.
pub type RegexIndexerUdf = StringLookupUdf<RegexIndex>;

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
        let m = strict.apply(Some(&"z\n".repeat(5000))).unwrap_err();
        assert!(m.len() < 400 && !m.contains('\n'), "{m}");
        assert!(m.contains("… (10000 chars in all)"), "{m}");
        let err = RegexIndex::new(&["(?<=a)b".to_string()], &[1], None).unwrap_err();
        assert!(err.contains("(?<=a)b"), "{err}");
    }
}
