//! The stage implementations, one file each, and the registry of loaders per model format.
//!
//! Adding a stage: a file here with the params struct, `impl Stage` (inputs, outputs, compile)
//! and a loader per format; its kernels in `ember-udfs`; a line in [`spark_registry`]; a
//! fixture case in `scripts/gen_spark_fixtures.py`.

pub mod binarizer;
pub mod bucketizer;
pub mod classifier;
pub mod coalesce;
pub mod count_vectorizer;
pub mod elementwise_product;
pub mod hashing_tf;
pub mod idf;
pub mod imputer;
pub mod index_to_string;
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
pub mod standard_scaler;
pub mod stopwords_remover;
pub mod string_indexer;
pub mod string_map;
pub mod text;
pub mod tokenizer;
pub mod tree_models;
pub mod vector_assembler;
pub mod vector_map;
pub mod vector_slicer;
pub mod word2vec;
pub mod word_filter;

use ember_udfs::HandleInvalid;

use crate::error::Result;
use crate::formats::mleap::{Attributes, MleapLoader, MleapNode};
use crate::formats::spark::{SparkLoader, SparkStageDir};
use tree_models::{TreeClassifierStage, TreeRegressorStage};

/// Spark class name → loader, for every stage ember implements.
pub fn spark_registry() -> Vec<(&'static str, SparkLoader)> {
    vec![
        (
            string_indexer::CLASS,
            string_indexer::StringIndexer::from_spark,
        ),
        (
            one_hot_encoder::CLASS,
            one_hot_encoder::OneHotEncoder::from_spark,
        ),
        (
            vector_assembler::CLASS,
            vector_assembler::VectorAssembler::from_spark,
        ),
        (
            index_to_string::CLASS,
            index_to_string::IndexToString::from_spark,
        ),
        (
            standard_scaler::CLASS,
            standard_scaler::StandardScaler::from_spark,
        ),
        (
            logistic_regression::CLASS,
            logistic_regression::LogisticRegression::from_spark,
        ),
        (
            linear_regression::CLASS,
            linear_regression::LinearRegression::from_spark,
        ),
        (min_max_scaler::CLASS, min_max_scaler::from_spark),
        (max_abs_scaler::CLASS, max_abs_scaler::from_spark),
        (normalizer::CLASS, normalizer::from_spark),
        (binarizer::CLASS, binarizer::Binarizer::from_spark),
        (bucketizer::CLASS, bucketizer::Bucketizer::from_spark),
        (idf::CLASS, idf::from_spark),
        (naive_bayes::CLASS, naive_bayes::NaiveBayes::from_spark),
        (elementwise_product::CLASS, elementwise_product::from_spark),
        (vector_slicer::CLASS, vector_slicer::from_spark),
        (
            polynomial_expansion::CLASS,
            polynomial_expansion::from_spark,
        ),
        (tokenizer::CLASS, tokenizer::tokenizer_from_spark),
        (
            tokenizer::REGEX_CLASS,
            tokenizer::regex_tokenizer_from_spark,
        ),
        (stopwords_remover::CLASS, stopwords_remover::from_spark),
        (hashing_tf::CLASS, hashing_tf::from_spark),
        (count_vectorizer::CLASS, count_vectorizer::from_spark),
        (ngram::CLASS, ngram::from_spark),
        (word2vec::CLASS, word2vec::from_spark),
        (
            tree_models::DT_CLASSIFIER,
            TreeClassifierStage::dt_from_spark,
        ),
        (
            tree_models::RF_CLASSIFIER,
            TreeClassifierStage::rf_from_spark,
        ),
        (
            tree_models::GBT_CLASSIFIER,
            TreeClassifierStage::gbt_from_spark,
        ),
        (tree_models::DT_REGRESSOR, TreeRegressorStage::dt_from_spark),
        (tree_models::RF_REGRESSOR, TreeRegressorStage::rf_from_spark),
        (
            tree_models::GBT_REGRESSOR,
            TreeRegressorStage::gbt_from_spark,
        ),
        (imputer::CLASS, imputer::Imputer::from_spark),
        (linear_svc::CLASS, linear_svc::LinearSvc::from_spark),
    ]
}

/// MLeap op name → loader, for every op ember implements (the `pipeline` op is built in).
pub fn mleap_registry() -> Vec<(&'static str, MleapLoader)> {
    vec![
        ("string_indexer", string_indexer::StringIndexer::from_mleap),
        (
            "one_hot_encoder",
            one_hot_encoder::OneHotEncoder::from_mleap,
        ),
        (
            "vector_assembler",
            vector_assembler::VectorAssembler::from_mleap,
        ),
        (
            "reverse_string_indexer",
            index_to_string::IndexToString::from_mleap,
        ),
        (
            "standard_scaler",
            standard_scaler::StandardScaler::from_mleap,
        ),
        (
            "logistic_regression",
            logistic_regression::LogisticRegression::from_mleap,
        ),
        (
            "linear_regression",
            linear_regression::LinearRegression::from_mleap,
        ),
        ("min_max_scaler", min_max_scaler::from_mleap),
        ("max_abs_scaler", max_abs_scaler::from_mleap),
        ("normalizer", normalizer::from_mleap),
        ("binarizer", binarizer::Binarizer::from_mleap),
        ("bucketizer", bucketizer::Bucketizer::from_mleap),
        ("idf", idf::from_mleap),
        ("naive_bayes", naive_bayes::NaiveBayes::from_mleap),
        ("elementwise_product", elementwise_product::from_mleap),
        ("vector_slicer", vector_slicer::from_mleap),
        ("polynomial_expansion", polynomial_expansion::from_mleap),
        ("tokenizer", tokenizer::tokenizer_from_mleap),
        ("regex_tokenizer", tokenizer::regex_tokenizer_from_mleap),
        ("stopwords_remover", stopwords_remover::from_mleap),
        ("hashing_term_frequency", hashing_tf::from_mleap),
        ("count_vectorizer", count_vectorizer::from_mleap),
        ("ngram", ngram::from_mleap),
        ("word_filter", word_filter::from_mleap),
        ("word_to_vector", word2vec::from_mleap),
        (
            "decision_tree_classifier",
            TreeClassifierStage::dt_from_mleap,
        ),
        (
            "random_forest_classifier",
            TreeClassifierStage::rf_from_mleap,
        ),
        ("gbt_classifier", TreeClassifierStage::gbt_from_mleap),
        (
            "decision_tree_regression",
            TreeRegressorStage::dt_from_mleap,
        ),
        (
            "random_forest_regression",
            TreeRegressorStage::rf_from_mleap,
        ),
        ("gbt_regression", TreeRegressorStage::gbt_from_mleap),
        ("math_unary", math_unary::MathUnary::from_mleap),
        ("math_binary", math_binary::MathBinary::from_mleap),
        ("imputer", imputer::Imputer::from_mleap),
        ("string_map", string_map::StringMap::from_mleap),
        ("coalesce", coalesce::Coalesce::from_mleap),
        ("regex_indexer", regex_indexer::RegexIndexer::from_mleap),
        (
            "multinomial_labeler",
            multinomial_labeler::MultinomialLabeler::from_mleap,
        ),
        (
            "map_entry_selector",
            map_entry_selector::MapEntrySelector::from_mleap,
        ),
        ("linear_svc", linear_svc::LinearSvc::from_mleap_linear_svc),
        (
            "support_vector_machine",
            linear_svc::LinearSvc::from_mleap_svm,
        ),
    ]
}

/// MLeap's `handle_invalid` attribute (absent or `{}` means `error`), restricted to the values
/// the stage supports.
pub(crate) fn mleap_handle_invalid(node: &MleapNode, allowed: &[&str]) -> Result<HandleInvalid> {
    let value = node
        .opt_attr("handle_invalid", Attributes::string)?
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "error".into());
    allowed_handle_invalid(&value, allowed).map_err(|m| node.error("handle_invalid", m))
}

/// The `handleInvalid` param (default `error`), restricted to the values the stage supports.
pub(crate) fn handle_invalid(dir: &SparkStageDir, allowed: &[&str]) -> Result<HandleInvalid> {
    let value = dir
        .string("handleInvalid")?
        .unwrap_or_else(|| "error".into());
    allowed_handle_invalid(&value, allowed).map_err(|m| dir.param_error("handleInvalid", m))
}

fn allowed_handle_invalid(
    value: &str,
    allowed: &[&str],
) -> std::result::Result<HandleInvalid, String> {
    HandleInvalid::parse(value)
        .filter(|h| allowed.contains(&h.as_str()))
        .ok_or_else(|| {
            format!(
                "'{value}' is not supported here (supported: {})",
                allowed.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn registry_has_unique_classes() {
        let mut classes: Vec<_> = super::spark_registry().iter().map(|(c, _)| *c).collect();
        let n = classes.len();
        classes.sort();
        classes.dedup();
        assert_eq!(classes.len(), n);
        let mut ops: Vec<_> = super::mleap_registry().iter().map(|(c, _)| *c).collect();
        let n = ops.len();
        ops.sort();
        ops.dedup();
        assert_eq!(ops.len(), n);
    }
}
