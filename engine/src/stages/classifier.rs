//! What every probabilistic classifier stage shares: its column params, its `thresholds`
//! param, its output columns and the column chaining of Spark's
//! `ProbabilisticClassificationModel.transform` (see `ember_udfs::classifier`).

use std::sync::Arc;

use datafusion::common::Column;
use datafusion::logical_expr::{Expr, col};
use ember_udfs::classifier::{ClassifierOutput, ClassifierUdf, ProbabilisticClassifier};

use crate::error::Result;
use crate::formats::mleap::{Attributes, MleapNode};
use crate::formats::spark::SparkStageDir;
use crate::stage::{ColumnMeta, ColumnSpec, ColumnType, StageContext, StagePlan};

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
            filter: None,
        })
    }
}

/// The `thresholds` param when set explicitly, checked against `num_classes`.
pub fn spark_thresholds(dir: &SparkStageDir, num_classes: usize) -> Result<Option<Vec<f64>>> {
    let thresholds = dir.f64s("thresholds")?.filter(|_| dir.is_set("thresholds"));
    check_thresholds(thresholds, num_classes).map_err(|m| dir.param_error("thresholds", m))
}

/// MLeap's optional `thresholds` attribute, checked against `num_classes`.
pub fn mleap_thresholds(node: &MleapNode, num_classes: usize) -> Result<Option<Vec<f64>>> {
    let thresholds = node.opt_attr("thresholds", Attributes::f64s)?;
    check_thresholds(thresholds, num_classes).map_err(|m| node.error("thresholds", m))
}

fn check_thresholds(
    thresholds: Option<Vec<f64>>,
    num_classes: usize,
) -> std::result::Result<Option<Vec<f64>>, String> {
    match thresholds {
        Some(t) if t.len() != num_classes => {
            Err(format!("{} thresholds for {num_classes} classes", t.len()))
        }
        t => Ok(t),
    }
}
