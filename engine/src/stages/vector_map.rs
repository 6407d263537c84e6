//! The stage shell shared by the `vector → vector` feature transformers whose kernel is a
//! [`VectorMap`] (MinMaxScaler, MaxAbsScaler, Normalizer, IDF, ...): one input column, one
//! output column, one UDF.

use std::fmt::Debug;
use std::sync::Arc;

use ember_udfs::vector_map::{VectorMap, VectorMapUdf};

use crate::error::Result;
use crate::stage::{ColumnMeta, ColumnSpec, ColumnType, Stage, StageContext, StagePlan};

/// A fitted `vector → vector` stage.
#[derive(Debug)]
pub struct VectorMapStage<M: VectorMap> {
    uid: String,
    class: &'static str,
    input: String,
    output: String,
    /// Output width when the model fixes it (`None`: the input's width, when known).
    size: Option<usize>,
    params: Vec<(&'static str, String)>,
    model: Arc<M>,
}

impl<M: VectorMap> VectorMapStage<M> {
    /// A stage of Spark class `class` mapping `input` to `output` with `model`.
    pub fn new(
        uid: impl Into<String>,
        class: &'static str,
        input: String,
        output: String,
        size: Option<usize>,
        params: Vec<(&'static str, String)>,
        model: M,
    ) -> Self {
        Self {
            uid: uid.into(),
            class,
            input,
            output,
            size,
            params,
            model: Arc::new(model),
        }
    }
}

impl<M: VectorMap> Stage for VectorMapStage<M> {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn class(&self) -> &'static str {
        self.class
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        vec![ColumnSpec::new(&self.input, ColumnType::Vector)]
    }

    fn outputs(&self, upstream: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        let size = self
            .size
            .or_else(|| upstream(&self.input).and_then(|c| c.meta.vector_size));
        vec![
            ColumnSpec::new(&self.output, ColumnType::Vector).with_meta(ColumnMeta {
                vector_size: size,
                labels: None,
            }),
        ]
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        self.params.clone()
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        let udf = VectorMapUdf::new(
            ctx.udf_name(""),
            ctx.stage_ref(),
            self.input.as_str(),
            Arc::clone(&self.model),
        );
        Ok(StagePlan::columns(vec![(
            self.output.clone(),
            ctx.call(udf, vec![ctx.vector(&self.input)?]),
        )]))
    }
}
