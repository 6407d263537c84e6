//! The classifier shell: what every probabilistic classifier stage shares — its column params,
//! its `thresholds` check, its output columns, the column chaining of Spark's
//! `ProbabilisticClassificationModel.transform` (see `ember_udfs::classifier`) and `impl Stage`
//! ([`ClassifierStage`]). A classifier's own file holds its loaders and the checks of its
//! fitted values; its kernel implements `ProbabilisticClassifier` in `ember-udfs`.

use std::sync::Arc;

use datafusion::common::Column;
use datafusion::logical_expr::{Expr, col};
use ember_udfs::classifier::{ClassifierOutput, ClassifierUdf, ProbabilisticClassifier};

use crate::error::Result;
use crate::formats::mleap::MleapNode;
use crate::formats::spark::SparkStageDir;
use crate::stage::{ColumnMeta, ColumnSpec, ColumnType, Stage, StageContext, StagePlan};
use crate::stages::Origin;

/// Output column names; an empty name means the column is not produced (Spark's convention).
#[derive(Debug, Clone)]
pub struct ClassifierColumns {
    /// `featuresCol`.
    pub features: String,
    /// `rawPredictionCol`.
    pub raw_prediction: String,
    /// `probabilityCol`.
    pub probability: String,
    /// `predictionCol`.
    pub prediction: String,
}

impl ClassifierColumns {
    /// Reads the four column params with Spark's defaults.
    pub fn from_spark(dir: &SparkStageDir) -> Result<Self> {
        Ok(Self {
            features: dir
                .string("featuresCol")?
                .unwrap_or_else(|| "features".into()),
            raw_prediction: dir
                .string("rawPredictionCol")?
                .unwrap_or_else(|| "rawPrediction".into()),
            probability: dir
                .string("probabilityCol")?
                .unwrap_or_else(|| "probability".into()),
            prediction: dir
                .string("predictionCol")?
                .unwrap_or_else(|| "prediction".into()),
        })
    }

    /// Reads MLeap's classifier ports: `features` → `raw_prediction`, `probability`,
    /// `prediction`; an absent output port is a column not produced.
    pub fn from_mleap(node: &MleapNode) -> Result<Self> {
        let out = |p: &str| node.output(p).unwrap_or_default().to_string();
        Ok(Self {
            features: node.required_input("features")?,
            raw_prediction: out("raw_prediction"),
            probability: out("probability"),
            prediction: out("prediction"),
        })
    }

    /// The output columns: raw prediction and probability vectors of `width`, the prediction
    /// double; the ones with an empty name are left out.
    pub fn outputs(&self, width: usize) -> Vec<ColumnSpec> {
        let width = ColumnMeta {
            vector_size: Some(width),
            labels: None,
        };
        let mut out = Vec::new();
        if !self.raw_prediction.is_empty() {
            out.push(
                ColumnSpec::new(&self.raw_prediction, ColumnType::Vector).with_meta(width.clone()),
            );
        }
        if !self.probability.is_empty() {
            out.push(ColumnSpec::new(&self.probability, ColumnType::Vector).with_meta(width));
        }
        if !self.prediction.is_empty() {
            out.push(ColumnSpec::new(&self.prediction, ColumnType::Double));
        }
        out
    }

    /// Compiles the outputs of `model` with the column chaining of Spark's
    /// `ProbabilisticClassificationModel.transform`: raw from features; probability from the
    /// raw column when it is produced, else from features; prediction from the raw column, else
    /// the probability column, else features. Outputs reading another output go in a second
    /// projection layer.
    pub fn compile<M: ProbabilisticClassifier>(
        &self,
        ctx: &StageContext<'_>,
        model: &Arc<M>,
    ) -> Result<StagePlan> {
        let features = ctx.vector(&self.features)?;
        let (raw, prob, pred) = (
            !self.raw_prediction.is_empty(),
            !self.probability.is_empty(),
            !self.prediction.is_empty(),
        );
        let udf = |output: ClassifierOutput, suffix: &str, input: &str, arg: Expr| {
            ctx.call(
                ClassifierUdf::new(
                    ctx.udf_name(suffix),
                    ctx.stage_ref(),
                    input,
                    output,
                    Arc::clone(model),
                ),
                vec![arg],
            )
        };
        let column = |name: &str| col(Column::from_name(name));
        let mut first = Vec::new();
        let mut second = Vec::new();
        if raw {
            first.push((
                self.raw_prediction.clone(),
                udf(
                    ClassifierOutput::Raw,
                    "_raw",
                    &self.features,
                    features.clone(),
                ),
            ));
        }
        if prob {
            if raw {
                second.push((
                    self.probability.clone(),
                    udf(
                        ClassifierOutput::ProbabilityFromRaw,
                        "_probability",
                        &self.raw_prediction,
                        column(&self.raw_prediction),
                    ),
                ));
            } else {
                first.push((
                    self.probability.clone(),
                    udf(
                        ClassifierOutput::ProbabilityFromFeatures,
                        "_probability",
                        &self.features,
                        features.clone(),
                    ),
                ));
            }
        }
        if pred {
            let (output, input) = if raw {
                (ClassifierOutput::PredictionFromRaw, &self.raw_prediction)
            } else if prob {
                (
                    ClassifierOutput::PredictionFromProbability,
                    &self.probability,
                )
            } else {
                (ClassifierOutput::PredictionFromFeatures, &self.features)
            };
            let arg = if raw || prob {
                column(input)
            } else {
                features.clone()
            };
            let e = udf(output, "_prediction", input, arg);
            if raw || prob {
                second.push((self.prediction.clone(), e));
            } else {
                first.push((self.prediction.clone(), e));
            }
        }
        let layers = [first, second]
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect();
        Ok(StagePlan {
            layers,
            ..StagePlan::default()
        })
    }
}

/// A fitted probabilistic classifier of any kind: features in, Spark's raw prediction,
/// probability and prediction columns out (each optional), computed by `model`.
#[derive(Debug)]
pub struct ClassifierStage<M: ProbabilisticClassifier> {
    uid: String,
    class: &'static str,
    columns: ClassifierColumns,
    params: Vec<(&'static str, String)>,
    model: Arc<M>,
}

impl<M: ProbabilisticClassifier> ClassifierStage<M> {
    /// The stage of class `class` loaded from `at`, after checking what every classifier
    /// shares: `thresholds`, when set, has one value per class. `params` are the model's own
    /// params for `ember inspect` (`thresholds` is added here).
    pub fn boxed(
        at: &Origin,
        class: &'static str,
        columns: ClassifierColumns,
        model: M,
        params: Vec<(&'static str, String)>,
    ) -> Result<Arc<dyn Stage>> {
        let classes = model.output_size();
        let mut params = params;
        if let Some(t) = model.thresholds() {
            if t.len() != classes {
                return Err(at.error(
                    "thresholds",
                    format!("{} thresholds for {classes} classes", t.len()),
                ));
            }
            params.push(("thresholds", format!("{t:?}")));
        }
        Ok(Arc::new(Self {
            uid: at.uid.clone(),
            class,
            columns,
            params,
            model: Arc::new(model),
        }))
    }
}

impl<M: ProbabilisticClassifier> Stage for ClassifierStage<M> {
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
        self.columns.outputs(self.model.output_size())
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        self.params.clone()
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        self.columns.compile(ctx, &self.model)
    }
}

/// The `thresholds` param when set explicitly (checked by [`ClassifierStage::new`]).
pub fn spark_thresholds(dir: &SparkStageDir) -> Result<Option<Vec<f64>>> {
    Ok(dir.f64s("thresholds")?.filter(|_| dir.is_set("thresholds")))
}
