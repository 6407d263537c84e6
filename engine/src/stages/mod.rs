//! The stage implementations, one file each, and the registry of loaders per model format.
//!
//! Adding a stage: a file here with the params struct, `impl Stage` (inputs, outputs, compile)
//! and a loader per format; its kernels in `ember-udfs`; a line in [`spark_registry`]; a
//! fixture case in `scripts/gen_spark_fixtures.py`.

pub mod coalesce;
pub mod imputer;
pub mod index_to_string;
pub mod linear_regression;
pub mod linear_svc;
pub mod logistic_regression;
pub mod math_binary;
pub mod math_unary;
pub mod one_hot_encoder;
pub mod regex_indexer;
pub mod standard_scaler;
pub mod string_indexer;
pub mod string_map;
pub mod vector_assembler;

use ember_udfs::HandleInvalid;

use crate::error::Result;
use crate::formats::mleap::{Attributes, MleapLoader, MleapNode};
use crate::formats::spark::{SparkLoader, SparkStageDir};

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
        ("math_unary", math_unary::MathUnary::from_mleap),
        ("math_binary", math_binary::MathBinary::from_mleap),
        ("imputer", imputer::Imputer::from_mleap),
        ("string_map", string_map::StringMap::from_mleap),
        ("coalesce", coalesce::Coalesce::from_mleap),
        ("regex_indexer", regex_indexer::RegexIndexer::from_mleap),
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
    HandleInvalid::parse(&value)
        .filter(|h| allowed.contains(&h.as_str()))
        .ok_or_else(|| {
            node.error(
                "handle_invalid",
                format!(
                    "'{value}' is not supported here (supported: {})",
                    allowed.join(", ")
                ),
            )
        })
}

/// The `handleInvalid` param (default `error`), restricted to the values the stage supports.
pub(crate) fn handle_invalid(dir: &SparkStageDir, allowed: &[&str]) -> Result<HandleInvalid> {
    let value = dir
        .string("handleInvalid")?
        .unwrap_or_else(|| "error".into());
    HandleInvalid::parse(&value)
        .filter(|h| allowed.contains(&h.as_str()))
        .ok_or_else(|| {
            dir.param_error(
                "handleInvalid",
                format!(
                    "'{value}' is not supported here (supported: {})",
                    allowed.join(", ")
                ),
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
