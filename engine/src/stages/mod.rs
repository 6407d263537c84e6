//! The stage implementations, one file each, and the table of what loads them.
//!
//! Adding a stage: a file here with the params struct, `impl Stage` (inputs, outputs, compile),
//! a loader per format and its `pub const DECL: &[StageDecl]`; its module name in the
//! `stages!` list below; its kernels in `ember-udfs`; a fixture case in
//! `scripts/gen_spark_fixtures.py`; its row in the README's stage table.

pub mod classifier;
pub mod multi_column;
pub mod regressor;
pub mod text;
pub mod vector_map;

use ember_udfs::HandleInvalid;

use crate::error::{EmberError, Result};
use crate::formats::mleap::{Attributes, MleapLoad, MleapLoader, MleapNestedLoader, MleapNode};
use crate::formats::spark::{SparkLoad, SparkLoader, SparkNestedLoader, SparkStageDir};

/// How one class is loaded: the class its stages report, the loader of a Spark-saved
/// directory of that class, and the MLeap op that loads onto the same stage. Every stage module
/// declares its classes once, in a `pub const DECL: &[StageDecl]`; [`DECLS`] collects them.
#[derive(Debug, Clone, Copy)]
pub struct StageDecl {
    /// The class the loaded stages report ([`crate::Stage::class`]): Spark's class name, or
    /// for an MLeap op without a Spark class, the MLeap (or mleap-spark-extension) class.
    pub class: &'static str,
    /// The loader of a Spark directory whose metadata names `class` (`None` for MLeap-only
    /// ops).
    pub spark: Option<SparkLoad>,
    /// The MLeap op loading onto the same stage, and its loader.
    pub mleap: Option<(&'static str, MleapLoad)>,
}

impl StageDecl {
    /// A Spark class loaded by `load` into one stage.
    pub const fn spark(class: &'static str, load: SparkLoader) -> Self {
        Self {
            class,
            spark: Some(SparkLoad::One(load)),
            mleap: None,
        }
    }

    /// A Spark class loaded by `load` into several stages (possibly from nested model
    /// directories: [`SparkStageDir::load_nested`]).
    pub const fn spark_many(class: &'static str, load: SparkNestedLoader) -> Self {
        Self {
            class,
            spark: Some(SparkLoad::Many(load)),
            mleap: None,
        }
    }

    /// An MLeap op with no Spark class, loaded into one stage reporting `class`.
    pub const fn mleap_only(class: &'static str, op: &'static str, load: MleapLoader) -> Self {
        Self {
            class,
            spark: None,
            mleap: Some((op, MleapLoad::One(load))),
        }
    }

    /// With the MLeap op `op` loading onto the same stage.
    pub const fn mleap(mut self, op: &'static str, load: MleapLoader) -> Self {
        self.mleap = Some((op, MleapLoad::One(load)));
        self
    }

    /// With the MLeap op `op` loading into several stages (possibly from nested nodes:
    /// [`crate::formats::mleap::load_nested`]).
    pub const fn mleap_many(mut self, op: &'static str, load: MleapNestedLoader) -> Self {
        self.mleap = Some((op, MleapLoad::Many(load)));
        self
    }

    /// The MLeap op, if any.
    pub fn op(&self) -> Option<&'static str> {
        self.mleap.map(|(op, _)| op)
    }
}

/// Declares the stage modules: each is a `pub mod` and its `DECL` joins [`DECLS`].
macro_rules! stages {
    ($($module:ident),* $(,)?) => {
        $(pub mod $module;)*

        /// Every stage ember implements, module by module (each module's `DECL`).
        pub static DECLS: &[&[StageDecl]] = &[$($module::DECL),*];
    };
}

stages!(
    binarizer,
    bucketizer,
    coalesce,
    count_vectorizer,
    elementwise_product,
    hashing_tf,
    idf,
    imputer,
    index_to_string,
    linear_regression,
    linear_svc,
    logistic_regression,
    map_entry_selector,
    math_binary,
    math_unary,
    max_abs_scaler,
    min_max_scaler,
    multinomial_labeler,
    naive_bayes,
    ngram,
    normalizer,
    one_hot_encoder,
    polynomial_expansion,
    regex_indexer,
    standard_scaler,
    stopwords_remover,
    string_indexer,
    string_map,
    tokenizer,
    tree_models,
    vector_assembler,
    vector_slicer,
    word2vec,
    word_filter,
);

/// Every declaration, in [`DECLS`] order.
pub fn declarations() -> impl Iterator<Item = &'static StageDecl> {
    DECLS.iter().flat_map(|d| d.iter())
}

/// Spark class name → loader, for every declared class with a Spark loader (what
/// [`crate::formats::spark::load`] takes).
pub fn spark_registry() -> Vec<(&'static str, SparkLoad)> {
    declarations()
        .filter_map(|d| d.spark.map(|l| (d.class, l)))
        .collect()
}

/// MLeap op name → loader, for every declared op (what [`crate::formats::mleap::load`] takes;
/// the `pipeline` op is built in).
pub fn mleap_registry() -> Vec<(&'static str, MleapLoad)> {
    declarations().filter_map(|d| d.mleap).collect()
}

/// The stage a loader is reading, as its load errors name it: the uid, and the class as the
/// model file names it (Spark's class name, or `MLeap op <op>`). Both front ends build the
/// stage through the same constructor, which reports every param error through this.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The stage's uid (Spark's uid, MLeap's node name).
    pub uid: String,
    /// Spark's class name or `MLeap op <op>`.
    pub class: String,
}

impl Origin {
    /// A param error about this stage.
    pub fn error(&self, param: &str, message: impl Into<String>) -> EmberError {
        EmberError::Param {
            uid: self.uid.clone(),
            class: self.class.clone(),
            param: param.to_string(),
            message: message.into(),
        }
    }
}

impl From<&SparkStageDir> for Origin {
    fn from(dir: &SparkStageDir) -> Self {
        Self {
            uid: dir.uid.clone(),
            class: dir.class.clone(),
        }
    }
}

impl From<&MleapNode> for Origin {
    fn from(node: &MleapNode) -> Self {
        Self {
            uid: node.name.clone(),
            class: format!("MLeap op {}", node.op),
        }
    }
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
    use super::*;

    #[test]
    fn classes_and_ops_are_declared_once() {
        let mut classes: Vec<_> = declarations().map(|d| d.class).collect();
        let n = classes.len();
        classes.sort();
        classes.dedup();
        assert_eq!(classes.len(), n, "a class is declared twice");
        let mut ops: Vec<_> = declarations().filter_map(|d| d.op()).collect();
        let n = ops.len();
        ops.sort();
        ops.dedup();
        assert_eq!(ops.len(), n, "an op is declared twice");
        assert!(
            ops.iter().all(|op| *op != "pipeline"),
            "pipeline is built in"
        );
        assert!(declarations().all(|d| d.spark.is_some() || d.mleap.is_some()));
    }
}
