//! NGram: the `n`-grams of an array of strings, each joined with single spaces.
//!
//! Spark's `sliding(n).withPartial(false).map(_.mkString(" "))`: a document shorter than `n`
//! gives an empty array; a null token prints as `null` inside its n-grams.
//!
//! # Null Handling
//! A null array is an error (Spark's UDF dereferences it).

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use datafusion::common::Result;

use crate::common::{ArgKind, StageRef};
use crate::text::{
    StringListBuilder, TextKernel, TextUdf, for_each_string_list, null_row_error, string_list_type,
};

/// An NGram transformer.
#[derive(Debug, Clone)]
pub struct NGram {
    /// The n-gram length (at least 1).
    pub n: usize,
}

impl NGram {
    /// Appends the n-grams of `terms` as one row.
    pub fn transform_row(&self, terms: &[Option<&str>], out: &mut StringListBuilder) {
        let mut gram = String::new();
        for w in terms.windows(self.n.max(1)) {
            gram.clear();
            for (i, t) in w.iter().enumerate() {
                if i > 0 {
                    gram.push(' ');
                }
                gram.push_str(t.unwrap_or("null"));
            }
            out.token(Some(&gram));
        }
        out.end_row();
    }
}

impl TextKernel for NGram {
    const INPUT: ArgKind = ArgKind::StringList;

    fn output_type(&self) -> DataType {
        string_list_type()
    }

    fn fingerprint(&self, h: &mut std::collections::hash_map::DefaultHasher) {
        use std::hash::Hash;
        self.n.hash(h);
    }

    fn transform(&self, stage: &StageRef, column: &str, input: &ArrayRef) -> Result<ArrayRef> {
        let mut out = StringListBuilder::with_capacity(input.len());
        for_each_string_list(stage.uid.as_ref(), input, |row, terms| {
            let terms = terms.ok_or_else(|| null_row_error(stage, column, row))?;
            self.transform_row(terms, &mut out);
            Ok(())
        })?;
        Ok(out.finish())
    }
}

/// Wraps an NGram as a UDF: `array<string> → array<string>`.
pub fn udf(
    name: impl Into<String>,
    stage: StageRef,
    column: impl Into<String>,
    model: Arc<NGram>,
) -> TextUdf<NGram> {
    TextUdf::new(name, stage, column, model)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grams(n: usize, terms: &[Option<&str>]) -> Vec<Option<String>> {
        let mut b = StringListBuilder::with_capacity(1);
        NGram { n }.transform_row(terms, &mut b);
        let a = b.finish();
        let mut out = Vec::new();
        for_each_string_list("n", &a, |_, r| {
            out = r.unwrap().iter().map(|t| t.map(str::to_string)).collect();
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn windows_nulls_and_short_documents() {
        let t = [Some("a"), None, Some("c")];
        assert_eq!(
            grams(2, &t),
            vec![Some("a null".to_string()), Some("null c".to_string())]
        );
        assert_eq!(grams(4, &t), Vec::<Option<String>>::new());
        assert_eq!(grams(1, &[Some("")]), vec![Some(String::new())]);
    }
}
