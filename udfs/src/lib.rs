//! Arrow kernels and DataFusion scalar UDFs for Spark ML stages.
//!
//! One file per stage. Each holds the stage's math over plain slices (testable without Arrow),
//! a `ScalarUDFImpl` that applies it to Arrow arrays, and the stage's null policy under
//! `# Null Handling`. UDFs carry their fitted parameters, so each fitted stage gets its own
//! named UDF instance; `ember-engine` builds them from model files and wires them into plans.
//!
//! Vectors use Spark's VectorUDT struct layout throughout (see [`vector`]).
//!
//! ```
//! use std::sync::Arc;
//! use datafusion::logical_expr::ScalarUDF;
//! use ember_udfs::common::{HandleInvalid, StageRef};
//! use ember_udfs::string_indexer::{StringIndex, StringIndexerUdf};
//!
//! let index = Arc::new(StringIndex::new(vec!["b".into(), "a".into()]));
//! let udf = ScalarUDF::from(StringIndexerUdf::new(
//!     "color_index",
//!     StageRef::new("StringIndexer_1", "StringIndexerModel"),
//!     "color",
//!     index,
//!     HandleInvalid::Keep,
//! ));
//! assert_eq!(udf.name(), "color_index");
//! ```

pub mod binarizer;
pub mod bucketizer;
pub mod cast;
pub mod classifier;
pub mod common;
pub mod count_vectorizer;
pub mod elementwise_product;
pub mod hashing_tf;
pub mod idf;
pub mod imputer;
pub mod index_to_string;
pub mod java_fmt;
pub mod linear_regression;
pub mod linear_svc;
pub mod logistic_regression;
pub mod map_entry_selector;
pub mod math_binary;
pub mod math_unary;
pub mod max_abs_scaler;
pub mod min_max_scaler;
pub mod multinomial_labeler;
pub mod naive_bayes;
pub mod ngram;
pub mod normalizer;
pub mod one_hot_encoder;
pub mod polynomial_expansion;
pub mod regex_indexer;
pub mod regressor;
pub mod shown;
pub mod standard_scaler;
pub mod stopwords_remover;
pub mod string_indexer;
pub mod string_lookup;
pub mod string_map;
pub mod text;
pub mod tokenizer;
pub mod tree;
pub mod vector;
pub mod vector_assembler;
pub mod vector_map;
pub mod vector_slicer;
pub mod word2vec;
pub mod word_filter;

#[cfg(test)]
mod testing;

use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;

pub use common::{HandleInvalid, StageError, StageRef};

/// The parameter-free helper UDFs (`ember_cast_string`, `ember_to_vector`,
/// `ember_vector_to_string`), for registering on a `SessionContext`.
pub fn functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        Arc::new(ScalarUDF::from(cast::CastToStringUdf::default())),
        Arc::new(ScalarUDF::from(cast::ToVectorUdf::default())),
        Arc::new(ScalarUDF::from(cast::VectorToStringUdf::default())),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn helper_names_are_unique() {
        let mut names: Vec<_> = super::functions()
            .iter()
            .map(|f| f.name().to_string())
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), super::functions().len());
    }
}
