//! Word2VecModel: the average of the word vectors of a document.
//!
//! Spark: an empty document gives an all-zero sparse vector of `vectorSize`; otherwise the
//! vectors of the words in the vocabulary are summed (Spark stores them as floats; the sum is
//! in doubles, in document order) and the sum is multiplied by `1.0 / n`, where `n` counts
//! every token, known or not. The result is dense. MLeap's `word_to_vector` does the same with
//! its `default` kernel; its `sqrt` kernel divides the sum by its Euclidean norm instead.
//!
//! # Null Handling
//! A null array is an error (Spark's UDF dereferences it). A null token is not in the
//! vocabulary but counts towards `n` (Scala's map lookup of null finds nothing).

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use datafusion::common::Result;

use crate::common::{ArgKind, StageRef, hash_f64s};
use crate::text::{TextKernel, TextUdf, for_each_string_list, null_row_error};
use crate::vector::{VectorBuilder, vector_data_type};

/// How the summed word vectors become the document vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Word2VecKernel {
    /// Multiply by `1.0 / n` (Spark; MLeap `default`).
    Average,
    /// Divide by the sum's Euclidean norm (MLeap `sqrt`).
    Sqrt,
}

/// A fitted Word2VecModel.
#[derive(Debug, Clone)]
pub struct Word2Vec {
    index: HashMap<String, usize>,
    /// Row-major word vectors: word `i` owns `vectors[i * size..(i + 1) * size]`.
    vectors: Vec<f64>,
    /// The vector size.
    pub size: usize,
    /// How the sum is scaled.
    pub kernel: Word2VecKernel,
}

impl Word2Vec {
    /// A model from `(word, index)` pairs and row-major vectors of width `size`; an error
    /// message when an index is out of range.
    pub fn new(
        words: impl IntoIterator<Item = (String, usize)>,
        vectors: Vec<f64>,
        size: usize,
        kernel: Word2VecKernel,
    ) -> std::result::Result<Self, String> {
        let index: HashMap<String, usize> = words.into_iter().collect();
        let rows = vectors.len().checked_div(size).unwrap_or(0);
        if size == 0 || !vectors.len().is_multiple_of(size) {
            return Err(format!(
                "{} vector values are not a whole number of vectors of size {size}",
                vectors.len()
            ));
        }
        if let Some((w, i)) = index.iter().find(|(_, i)| **i >= rows) {
            return Err(format!(
                "word '{w}' has index {i} but there are {rows} vectors"
            ));
        }
        Ok(Self {
            index,
            vectors,
            size,
            kernel,
        })
    }

    /// Number of words.
    pub fn num_words(&self) -> usize {
        self.index.len()
    }

    /// Transforms one document into `out`.
    pub fn transform_row(&self, words: &[Option<&str>], out: &mut VectorBuilder) {
        if words.is_empty() {
            out.push_sparse(self.size, &[], &[]);
            return;
        }
        let row = out.dense_row(self.size);
        for w in words.iter().flatten() {
            if let Some(&i) = self.index.get(*w) {
                let v = &self.vectors[i * self.size..(i + 1) * self.size];
                for (s, x) in row.iter_mut().zip(v) {
                    *s += x;
                }
            }
        }
        match self.kernel {
            Word2VecKernel::Average => {
                let scale = 1.0 / words.len() as f64;
                row.iter_mut().for_each(|x| *x *= scale);
            }
            Word2VecKernel::Sqrt => {
                let norm = row.iter().map(|x| x * x).sum::<f64>().sqrt();
                row.iter_mut().for_each(|x| *x /= norm);
            }
        }
    }
}

impl TextKernel for Word2Vec {
    const INPUT: ArgKind = ArgKind::StringList;

    fn output_type(&self) -> DataType {
        vector_data_type()
    }

    fn fingerprint(&self, h: &mut std::collections::hash_map::DefaultHasher) {
        use std::hash::Hash;
        (self.size, self.kernel, self.index.len()).hash(h);
        let mut words: Vec<_> = self.index.iter().collect();
        words.sort();
        words.hash(h);
        hash_f64s(h, &self.vectors);
    }

    fn transform(&self, stage: &StageRef, column: &str, input: &ArrayRef) -> Result<ArrayRef> {
        let mut out = VectorBuilder::with_capacity(input.len(), self.size);
        for_each_string_list(stage.uid.as_ref(), input, |row, words| {
            let words = words.ok_or_else(|| null_row_error(stage, column, row))?;
            self.transform_row(words, &mut out);
            Ok(())
        })?;
        Ok(out.finish_array())
    }
}

/// Wraps a Word2VecModel as a UDF: `array<string> → vector`.
pub fn udf(
    name: impl Into<String>,
    stage: StageRef,
    column: impl Into<String>,
    model: Arc<Word2Vec>,
) -> TextUdf<Word2Vec> {
    TextUdf::new(name, stage, column, model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::{VectorArray, VectorRef};

    fn model(kernel: Word2VecKernel) -> Word2Vec {
        Word2Vec::new(
            [("a".to_string(), 0), ("b".to_string(), 1)],
            vec![1.0, 2.0, 3.0, -4.0],
            2,
            kernel,
        )
        .unwrap()
    }

    fn run(m: &Word2Vec, words: &[Option<&str>]) -> Vec<f64> {
        let mut b = VectorBuilder::default();
        m.transform_row(words, &mut b);
        let a = b.finish_array();
        let v = VectorArray::try_new(a.as_ref()).unwrap();
        match v.value(0).unwrap().unwrap() {
            VectorRef::Dense(x) => x.to_vec(),
            VectorRef::Sparse { size, indices, .. } => {
                assert!(indices.is_empty());
                vec![f64::NAN; size]
            }
        }
    }

    #[test]
    fn average_counts_unknown_and_null_words() {
        let m = model(Word2VecKernel::Average);
        assert_eq!(run(&m, &[Some("a"), Some("b")]), vec![2.0, -1.0]);
        // four tokens, two known: (1+3)/4, (2-4)/4
        assert_eq!(
            run(&m, &[Some("a"), Some("zz"), Some("b"), None]),
            vec![1.0, -0.5]
        );
        assert!(run(&m, &[]).iter().all(|x| x.is_nan()));
        let s = model(Word2VecKernel::Sqrt);
        assert_eq!(run(&s, &[Some("b")]), vec![0.6, -0.8]);
    }

    #[test]
    fn bad_layouts_are_rejected() {
        assert!(
            Word2Vec::new(
                [("a".into(), 1)],
                vec![1.0, 2.0],
                2,
                Word2VecKernel::Average
            )
            .is_err()
        );
        assert!(Word2Vec::new([], vec![1.0, 2.0, 3.0], 2, Word2VecKernel::Average).is_err());
    }
}
