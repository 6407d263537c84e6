//! `Word2VecModel` (MLeap `word_to_vector`): array of strings → average word vector.

use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type};
use ember_udfs::word2vec::{Word2Vec, Word2VecKernel};

use super::text::{TextStage, mleap_single, spark_int, spark_single};
use crate::stages::StageDecl;
use crate::stages::multi_column::ColumnPairs;
use crate::error::{EmberError, Result};
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::SparkStageDir;
use crate::stage::{ColumnType, Stage};

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.feature.Word2VecModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, from_spark).mleap("word_to_vector", from_mleap),
];

fn stage(uid: &str, columns: ColumnPairs, m: Word2Vec) -> Arc<dyn Stage> {
    let params = vec![
        ("vectorSize", m.size.to_string()),
        ("numWords", m.num_words().to_string()),
        (
            "kernel",
            match m.kernel {
                Word2VecKernel::Average => "average".into(),
                Word2VecKernel::Sqrt => "sqrt".to_string(),
            },
        ),
    ];
    let size = m.size;
    TextStage::boxed(
        uid,
        CLASS,
        columns,
        ColumnType::TextList,
        ColumnType::Vector,
        Some(size),
        params,
        m,
    )
}

/// Loads a Spark-saved `Word2VecModel` (Spark 2.2+ data: one row per word, `word: string`,
/// `vector: array<float>`; param `vectorSize`).
pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
    let size = spark_int(dir, "vectorSize", 100, 1)? as usize;
    let data = dir.data()?;
    let bad = |m: String| EmberError::format(dir.path.join("data"), m);
    let (Some(words), Some(vecs)) = (data.column_by_name("word"), data.column_by_name("vector"))
    else {
        return Err(bad(
            "expected columns 'word' and 'vector' (models saved before Spark 2.2 are not supported)"
                .into(),
        ));
    };
    let words = arrow::compute::cast(words, &DataType::Utf8)?;
    let words = words.as_string::<i32>();
    let DataType::List(_) = vecs.data_type() else {
        return Err(bad(format!(
            "'vector' is {}, expected array<float>",
            vecs.data_type()
        )));
    };
    let vecs = vecs.as_list::<i32>();
    let mut index = Vec::with_capacity(words.len());
    let mut flat = Vec::with_capacity(words.len() * size);
    for r in 0..words.len() {
        if words.is_null(r) || vecs.is_null(r) {
            return Err(bad(format!("row {r} has a null word or vector")));
        }
        let v = arrow::compute::cast(&vecs.value(r), &DataType::Float64)?;
        let v = v.as_primitive::<Float64Type>();
        if v.len() != size || v.null_count() > 0 {
            return Err(bad(format!(
                "the vector of '{}' has {} values, expected vectorSize {size}",
                words.value(r),
                v.len()
            )));
        }
        index.push((words.value(r).to_string(), r));
        flat.extend(v.values().iter());
    }
    let m = Word2Vec::new(index, flat, size, Word2VecKernel::Average)
        .map_err(|m| dir.param_error("vectorSize", m))?;
    Ok(stage(&dir.uid, spark_single(dir)?, m))
}

/// Loads MLeap's `word_to_vector` op (`words`, `indices`, flat `word_vectors` whose width is
/// `len / words`, optional `kernel`: `default` or `sqrt`).
pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    let words = node.attr("words", Attributes::strings)?;
    let indices = node.attr("indices", Attributes::i64s)?;
    let vectors = node.attr("word_vectors", Attributes::f64s)?;
    if words.len() != indices.len() || words.is_empty() {
        return Err(node.error(
            "indices",
            format!("{} words but {} indices", words.len(), indices.len()),
        ));
    }
    let size = vectors.len() / words.len();
    let kernel = match node
        .opt_attr("kernel", Attributes::string)?
        .unwrap_or_default()
        .as_str()
    {
        "" | "default" => Word2VecKernel::Average,
        "sqrt" => Word2VecKernel::Sqrt,
        k => {
            return Err(node.error(
                "kernel",
                format!("unknown kernel '{k}' (known: default, sqrt)"),
            ));
        }
    };
    let pairs = words
        .into_iter()
        .zip(indices)
        .map(|(w, i)| usize::try_from(i).map(|i| (w, i)))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| node.error("indices", "negative index"))?;
    let m =
        Word2Vec::new(pairs, vectors, size, kernel).map_err(|m| node.error("word_vectors", m))?;
    Ok(stage(&node.name, mleap_single(node)?, m))
}
