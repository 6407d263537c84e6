//! The shared shape of the text stages: one UDF per `input → output` column pair (the
//! multi-column shell's [`ColumnPairs`]), a string or an array of strings in, an array of
//! strings or a vector out. The stage files
//! (`tokenizer.rs`, `stopwords_remover.rs`, ...) hold the loaders; this file holds `impl Stage`.

use std::sync::Arc;

use ember_udfs::text::{TextKernel, TextUdf};

use crate::error::Result;
use crate::formats::mleap::MleapNode;
use crate::formats::spark::SparkStageDir;
use crate::stage::{ColumnMeta, ColumnSpec, ColumnType, Stage, StageContext, StagePlan};
use crate::stages::multi_column::ColumnPairs;

/// A fitted text stage computed by kernel `K`.
#[derive(Debug)]
pub struct TextStage<K: TextKernel> {
    uid: String,
    class: &'static str,
    columns: ColumnPairs,
    input: ColumnType,
    output: ColumnType,
    output_size: Option<usize>,
    params: Vec<(&'static str, String)>,
    kernel: Arc<K>,
}

impl<K: TextKernel> TextStage<K> {
    /// A stage of `class` applying `kernel` to each `(input, output)` column pair.
    /// `input` is [`ColumnType::Text`] or [`ColumnType::TextList`]; `output_size` is the width
    /// of a vector output.
    #[allow(clippy::too_many_arguments)]
    pub fn boxed(
        uid: impl Into<String>,
        class: &'static str,
        columns: ColumnPairs,
        input: ColumnType,
        output: ColumnType,
        output_size: Option<usize>,
        params: Vec<(&'static str, String)>,
        kernel: K,
    ) -> Arc<dyn Stage> {
        Arc::new(Self {
            uid: uid.into(),
            class,
            columns,
            input,
            output,
            output_size,
            params,
            kernel: Arc::new(kernel),
        })
    }
}

impl<K: TextKernel> Stage for TextStage<K> {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn class(&self) -> &'static str {
        self.class
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        self.columns.input_specs(self.input.clone())
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        self.columns.output_specs(|_, o| {
            ColumnSpec::new(o, self.output.clone()).with_meta(ColumnMeta {
                vector_size: self.output_size,
                labels: None,
            })
        })
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        self.params.clone()
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        self.columns.compile(ctx, false, |_, name, input| {
            let arg = match self.input {
                ColumnType::TextList => ctx.text_list(input)?,
                _ => ctx.string(input)?,
            };
            let udf = TextUdf::new(name, ctx.stage_ref(), input, Arc::clone(&self.kernel));
            Ok(ctx.call(udf, vec![arg]))
        })
    }
}

/// `inputCol → outputCol` of a Spark stage.
pub(crate) fn spark_single(dir: &SparkStageDir) -> Result<ColumnPairs> {
    Ok(ColumnPairs {
        inputs: vec![dir.required_string("inputCol")?],
        outputs: vec![dir.required_string("outputCol")?],
    })
}

/// `input → output` ports of an MLeap node.
pub(crate) fn mleap_single(node: &MleapNode) -> Result<ColumnPairs> {
    Ok(ColumnPairs {
        inputs: vec![node.required_input("input")?],
        outputs: vec![node.required_output("output")?],
    })
}

/// An integer param (Spark writes IntParams as JSON numbers) within `min..`, or `default`.
pub(crate) fn spark_int(dir: &SparkStageDir, name: &str, default: i64, min: i64) -> Result<i64> {
    let v = match dir.f64(name)? {
        None => return Ok(default),
        Some(v) => v,
    };
    if v.fract() != 0.0 || v < min as f64 || v > i32::MAX as f64 {
        return Err(dir.param_error(name, format!("expected an integer >= {min}, found {v}")));
    }
    Ok(v as i64)
}
