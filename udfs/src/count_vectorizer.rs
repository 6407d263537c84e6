//! CountVectorizerModel: counts of vocabulary terms in an array of strings.
//!
//! Spark: each token in the vocabulary adds 1 at its index; every token (in the vocabulary or
//! not, null included) counts towards the document length. A term is kept when its count is at
//! least `minTF` (an absolute count when `minTF >= 1`, else a fraction of the document length);
//! with `binary` kept terms are 1.0. The output is sparse with the vocabulary's size, indices
//! ascending.
//!
//! # Null Handling
//! A null array is an error (Spark's UDF dereferences it); null tokens are never in the
//! vocabulary but count towards the document length.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use datafusion::common::Result;

use crate::common::{ArgKind, StageRef, hash_f64s};
use crate::text::{TextKernel, TextUdf, for_each_string_list, null_row_error};
use crate::vector::{VectorBuilder, vector_data_type};

/// A fitted CountVectorizerModel.
#[derive(Debug, Clone)]
pub struct CountVectorizer {
    /// The vocabulary, in index order.
    pub vocabulary: Vec<String>,
    /// Minimum count (>= 1) or fraction of the document length (< 1).
    pub min_tf: f64,
    /// Presence (1.0) instead of counts.
    pub binary: bool,
    index: HashMap<String, i32>,
}

impl CountVectorizer {
    /// A model over `vocabulary` (a repeated word maps to its last index, as Scala's `toMap`).
    pub fn new(vocabulary: Vec<String>, min_tf: f64, binary: bool) -> Self {
        let index = vocabulary
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as i32))
            .collect();
        Self {
            vocabulary,
            min_tf,
            binary,
            index,
        }
    }

    /// Transforms one document into `out`.
    pub fn transform_row(&self, terms: &[Option<&str>], out: &mut VectorBuilder) {
        let mut counts: BTreeMap<i32, f64> = BTreeMap::new();
        for t in terms.iter().flatten() {
            if let Some(i) = self.index.get(*t) {
                *counts.entry(*i).or_default() += 1.0;
            }
        }
        let min = if self.min_tf >= 1.0 {
            self.min_tf
        } else {
            terms.len() as f64 * self.min_tf
        };
        let (idx, val): (Vec<i32>, Vec<f64>) = counts
            .into_iter()
            .filter(|(_, c)| *c >= min)
            .map(|(i, c)| (i, if self.binary { 1.0 } else { c }))
            .unzip();
        out.push_sparse(self.vocabulary.len(), &idx, &val);
    }
}

impl TextKernel for CountVectorizer {
    const INPUT: ArgKind = ArgKind::StringList;

    fn output_type(&self) -> DataType {
        vector_data_type()
    }

    fn fingerprint(&self, h: &mut std::collections::hash_map::DefaultHasher) {
        use std::hash::Hash;
        (&self.vocabulary, self.binary).hash(h);
        hash_f64s(h, &[self.min_tf]);
    }

    fn transform(&self, stage: &StageRef, column: &str, input: &ArrayRef) -> Result<ArrayRef> {
        let mut out = VectorBuilder::with_capacity(input.len(), 8);
        for_each_string_list(stage.uid.as_ref(), input, |row, terms| {
            let terms = terms.ok_or_else(|| null_row_error(stage, column, row))?;
            self.transform_row(terms, &mut out);
            Ok(())
        })?;
        Ok(out.finish_array())
    }
}

/// Wraps a CountVectorizerModel as a UDF: `array<string> → vector`.
pub fn udf(
    name: impl Into<String>,
    stage: StageRef,
    column: impl Into<String>,
    model: Arc<CountVectorizer>,
) -> TextUdf<CountVectorizer> {
    TextUdf::new(name, stage, column, model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::{VectorArray, VectorRef};

    fn run(m: &CountVectorizer, terms: &[Option<&str>]) -> (Vec<i32>, Vec<f64>) {
        let mut b = VectorBuilder::default();
        m.transform_row(terms, &mut b);
        let a = b.finish_array();
        let v = VectorArray::try_new(a.as_ref()).unwrap();
        match v.value(0).unwrap().unwrap() {
            VectorRef::Sparse {
                size,
                indices,
                values,
            } => {
                assert_eq!(size, m.vocabulary.len());
                (indices.to_vec(), values.to_vec())
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn counts_min_tf_and_binary() {
        let vocab: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let doc = [Some("b"), Some("a"), Some("b"), Some("z"), None];
        let m = CountVectorizer::new(vocab.clone(), 1.0, false);
        assert_eq!(run(&m, &doc), (vec![0, 1], vec![1.0, 2.0]));
        let m = CountVectorizer::new(vocab.clone(), 2.0, false);
        assert_eq!(run(&m, &doc), (vec![1], vec![2.0]));
        // fraction of all five tokens: 0.3 * 5 = 1.5
        let m = CountVectorizer::new(vocab.clone(), 0.3, true);
        assert_eq!(run(&m, &doc), (vec![1], vec![1.0]));
    }
}
