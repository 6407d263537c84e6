//! The regressor shell: a fitted regression model of any kind, `featuresCol` → `predictionCol`
//! (a double), computed by a `Regressor` kernel (`ember_udfs::regressor`) — linear regression
//! and the tree regressors. A regressor's own file holds its loaders and the checks of its
//! fitted values.

use std::sync::Arc;

use ember_udfs::regressor::{Regressor, RegressorUdf};

use crate::error::Result;
use crate::formats::mleap::MleapNode;
use crate::formats::spark::SparkStageDir;
use crate::stage::{ColumnSpec, ColumnType, Stage, StageContext, StagePlan};
use crate::stages::Origin;

/// `featuresCol` and `predictionCol`; an empty prediction name produces nothing, as in Spark.
#[derive(Debug, Clone)]
pub struct RegressorColumns {
    /// `featuresCol`.
    pub features: String,
    /// `predictionCol`.
    pub prediction: String,
}

impl RegressorColumns {
    /// The two column params with Spark's defaults.
    pub fn from_spark(dir: &SparkStageDir) -> Result<Self> {
        Ok(Self {
            features: dir
                .string("featuresCol")?
                .unwrap_or_else(|| "features".into()),
            prediction: dir
                .string("predictionCol")?
                .unwrap_or_else(|| "prediction".into()),
        })
    }

    /// MLeap's ports `features` → `prediction` (an absent output port produces nothing).
    pub fn from_mleap(node: &MleapNode) -> Result<Self> {
        Ok(Self {
            features: node.required_input("features")?,
            prediction: node.output("prediction").unwrap_or_default().to_string(),
        })
    }
}

/// A fitted regressor: one `vector → double` UDF.
#[derive(Debug)]
pub struct RegressorStage<M: Regressor> {
    uid: String,
    class: &'static str,
    columns: RegressorColumns,
    params: Vec<(&'static str, String)>,
    model: Arc<M>,
}

impl<M: Regressor> RegressorStage<M> {
    /// The stage of class `class` loaded from `at`; `params` are shown by `ember inspect`.
    pub fn boxed(
        at: &Origin,
        class: &'static str,
        columns: RegressorColumns,
        model: M,
        params: Vec<(&'static str, String)>,
    ) -> Arc<dyn Stage> {
        Arc::new(Self {
            uid: at.uid.clone(),
            class,
            columns,
            params,
            model: Arc::new(model),
        })
    }
}

impl<M: Regressor> Stage for RegressorStage<M> {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn class(&self) -> &'static str {
        self.class
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        vec![ColumnSpec::new(&self.columns.features, ColumnType::Vector)]
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        if self.columns.prediction.is_empty() {
            return vec![];
        }
        vec![ColumnSpec::new(
            &self.columns.prediction,
            ColumnType::Double,
        )]
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        self.params.clone()
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        if self.columns.prediction.is_empty() {
            return Ok(StagePlan::default());
        }
        let udf = RegressorUdf::new(
            ctx.udf_name(""),
            ctx.stage_ref(),
            self.columns.features.as_str(),
            Arc::clone(&self.model),
        );
        Ok(StagePlan::columns(vec![(
            self.columns.prediction.clone(),
            ctx.call(udf, vec![ctx.vector(&self.columns.features)?]),
        )]))
    }
}
