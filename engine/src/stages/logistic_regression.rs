//! `LogisticRegressionModel` (binomial and multinomial).

use std::sync::Arc;

use datafusion::common::Column;
use datafusion::logical_expr::{Expr, col};
use ember_udfs::logistic_regression::{
    LogisticRegression as Model, LogisticRegressionUdf, LrOutput,
};

use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::{DataRow, SparkStageDir};
use crate::stage::{ColumnMeta, ColumnSpec, ColumnType, Stage, StageContext, StagePlan};

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.classification.LogisticRegressionModel";

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
}

impl ClassifierColumns {
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
}

/// A fitted logistic regression.
#[derive(Debug)]
pub struct LogisticRegression {
    uid: String,
    columns: ClassifierColumns,
    model: Arc<Model>,
}

impl LogisticRegression {
    /// A stage around a fitted model.
    pub fn new(uid: impl Into<String>, columns: ClassifierColumns, model: Model) -> Self {
        Self {
            uid: uid.into(),
            columns,
            model: Arc::new(model),
        }
    }

    /// Loads a Spark-saved `LogisticRegressionModel`: Spark ≥ 2.1 data (`coefficientMatrix`,
    /// `interceptVector`, `isMultinomial`) or Spark 2.0 data (`coefficients`, `intercept`).
    pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
        let data = dir.data()?;
        let row = DataRow::new(dir, &data);
        let num_classes = usize::try_from(row.int("numClasses")?)
            .map_err(|_| dir.param_error("numClasses", "negative"))?;
        let num_features = usize::try_from(row.int("numFeatures")?)
            .map_err(|_| dir.param_error("numFeatures", "negative"))?;
        let (coefficients, intercepts, multinomial) = if row.has("coefficientMatrix") {
            let (rows, cols, values) = row.matrix("coefficientMatrix")?;
            let intercepts = row.vector("interceptVector")?;
            let multinomial = row.bool("isMultinomial")?;
            if cols != num_features
                || rows != intercepts.len()
                || rows != if multinomial { num_classes } else { 1 }
            {
                return Err(dir.param_error(
                    "coefficientMatrix",
                    format!(
                        "{rows}x{cols} does not fit {num_classes} classes, {num_features} features"
                    ),
                ));
            }
            (values, intercepts, multinomial)
        } else {
            (
                row.vector("coefficients")?,
                vec![row.f64("intercept")?],
                false,
            )
        };
        if !multinomial && coefficients.len() != num_features {
            return Err(dir.param_error("coefficients", "size does not match numFeatures"));
        }
        let thresholds = dir.f64s("thresholds")?.filter(|_| dir.is_set("thresholds"));
        if let Some(t) = &thresholds
            && t.len() != num_classes
        {
            return Err(dir.param_error(
                "thresholds",
                format!("{} thresholds for {num_classes} classes", t.len()),
            ));
        }
        // Spark's getThreshold: derived from thresholds when those are set (binomial)
        let threshold = match (&thresholds, multinomial) {
            (Some(t), false) => 1.0 / (1.0 + t[0] / t[1]),
            _ => dir.f64("threshold")?.unwrap_or(0.5),
        };
        let model = Model {
            num_classes,
            num_features,
            coefficients,
            intercepts,
            multinomial,
            threshold,
            thresholds,
        };
        Ok(Arc::new(Self::new(
            dir.uid.clone(),
            ClassifierColumns::from_spark(dir)?,
            model,
        )))
    }

    /// Loads MLeap's `logistic_regression` op: binomial (`coefficients`, `intercept`,
    /// `threshold`) or multinomial (`coefficient_matrix` column-major [classes × features],
    /// `intercept_vector`, optional `thresholds`).
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        let columns = ClassifierColumns::from_mleap(node)?;
        let num_classes = node.opt_attr("num_classes", Attributes::i64)?.unwrap_or(2);
        let thresholds = node.opt_attr("thresholds", Attributes::f64s)?;
        let model = if node.attributes.has("coefficient_matrix") {
            let values = node.attr("coefficient_matrix", Attributes::f64s)?;
            let shape = node.attr("coefficient_matrix", Attributes::shape)?;
            let intercepts = node.attr("intercept_vector", Attributes::f64s)?;
            let [rows, cols] = shape[..] else {
                return Err(node.error("coefficient_matrix", "not a matrix (rank 2 tensor)"));
            };
            if rows * cols != values.len() || rows != intercepts.len() || rows < 2 {
                return Err(node.error(
                    "coefficient_matrix",
                    format!(
                        "{rows}x{cols} with {} values and {} intercepts",
                        values.len(),
                        intercepts.len()
                    ),
                ));
            }
            // column-major (Spark's Matrix.toArray) → row-major
            let coefficients = (0..rows)
                .flat_map(|r| (0..cols).map(move |c| (r, c)))
                .map(|(r, c)| values[c * rows + r])
                .collect();
            Model {
                num_classes: rows,
                num_features: cols,
                coefficients,
                intercepts,
                multinomial: true,
                threshold: 0.5,
                thresholds,
            }
        } else {
            let coefficients = node.attr("coefficients", Attributes::f64s)?;
            let threshold = match &thresholds {
                Some(t) if t.len() == 2 => 1.0 / (1.0 + t[0] / t[1]),
                _ => node.opt_attr("threshold", Attributes::f64)?.unwrap_or(0.5),
            };
            Model {
                num_classes: 2,
                num_features: coefficients.len(),
                coefficients,
                intercepts: vec![node.opt_attr("intercept", Attributes::f64)?.unwrap_or(0.0)],
                multinomial: false,
                threshold,
                thresholds,
            }
        };
        if num_classes > 2 && !model.multinomial {
            return Err(node.error(
                "num_classes",
                format!("{num_classes} classes but no coefficient_matrix"),
            ));
        }
        if let Some(t) = &model.thresholds
            && t.len() != model.num_classes
        {
            return Err(node.error(
                "thresholds",
                format!("{} thresholds for {} classes", t.len(), model.num_classes),
            ));
        }
        Ok(Arc::new(Self::new(node.name.clone(), columns, model)))
    }

    fn udf(
        &self,
        ctx: &StageContext<'_>,
        output: LrOutput,
        suffix: &str,
        input: &str,
        arg: Expr,
    ) -> Expr {
        let udf = LogisticRegressionUdf::new(
            ctx.udf_name(suffix),
            ctx.stage_ref(),
            input,
            output,
            Arc::clone(&self.model),
        );
        ctx.call(udf, vec![arg])
    }
}

impl Stage for LogisticRegression {
    fn uid(&self) -> &str {
        &self.uid
    }

    fn class(&self) -> &'static str {
        CLASS
    }

    fn inputs(&self) -> Vec<ColumnSpec> {
        vec![ColumnSpec::new(&self.columns.features, ColumnType::Vector)]
    }

    fn outputs(&self, _: &dyn Fn(&str) -> Option<ColumnSpec>) -> Vec<ColumnSpec> {
        let c = &self.columns;
        let width = ColumnMeta {
            vector_size: Some(self.model.output_size()),
            labels: None,
        };
        let mut out = Vec::new();
        if !c.raw_prediction.is_empty() {
            out.push(
                ColumnSpec::new(&c.raw_prediction, ColumnType::Vector).with_meta(width.clone()),
            );
        }
        if !c.probability.is_empty() {
            out.push(ColumnSpec::new(&c.probability, ColumnType::Vector).with_meta(width));
        }
        if !c.prediction.is_empty() {
            out.push(ColumnSpec::new(&c.prediction, ColumnType::Double));
        }
        out
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        let m = &self.model;
        let mut p = vec![
            (
                "family",
                if m.multinomial {
                    "multinomial"
                } else {
                    "binomial"
                }
                .to_string(),
            ),
            ("numClasses", m.num_classes.to_string()),
            ("numFeatures", m.num_features.to_string()),
        ];
        match &m.thresholds {
            Some(t) => p.push(("thresholds", format!("{t:?}"))),
            None if !m.multinomial => p.push(("threshold", m.threshold.to_string())),
            None => {}
        }
        p
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        classifier_plan(ctx, &self.columns, &|output, suffix, input, arg| {
            self.udf(ctx, output, suffix, input, arg)
        })
    }
}

/// The column chaining of Spark's `ProbabilisticClassificationModel.transform`, for any
/// classifier: `rawPrediction` from the features; `probability` from the raw column when it is
/// produced, else from the features; `prediction` from the raw column, else the probability
/// column, else the features. `udf(output, suffix, input column, argument)` builds the
/// expression computing `output` (the stage's own UDF). Used by logistic regression and the
/// linear SVMs (`linear_svc`); an empty column name in `columns` is a column not produced.
pub(crate) fn classifier_plan(
    ctx: &StageContext<'_>,
    c: &ClassifierColumns,
    udf: &dyn Fn(LrOutput, &str, &str, Expr) -> Expr,
) -> Result<StagePlan> {
    let features = ctx.vector(&c.features)?;
    let (raw, prob, pred) = (
        !c.raw_prediction.is_empty(),
        !c.probability.is_empty(),
        !c.prediction.is_empty(),
    );
    let column = |name: &str| col(Column::from_name(name));
    let mut first = Vec::new();
    let mut second = Vec::new();
    if raw {
        first.push((
            c.raw_prediction.clone(),
            udf(LrOutput::Raw, "_raw", &c.features, features.clone()),
        ));
    }
    if prob {
        let e = if raw {
            udf(
                LrOutput::ProbabilityFromRaw,
                "_probability",
                &c.raw_prediction,
                column(&c.raw_prediction),
            )
        } else {
            udf(
                LrOutput::ProbabilityFromFeatures,
                "_probability",
                &c.features,
                features.clone(),
            )
        };
        if raw {
            second.push((c.probability.clone(), e))
        } else {
            first.push((c.probability.clone(), e))
        }
    }
    if pred {
        let e = if raw {
            udf(
                LrOutput::PredictionFromRaw,
                "_prediction",
                &c.raw_prediction,
                column(&c.raw_prediction),
            )
        } else if prob {
            udf(
                LrOutput::PredictionFromProbability,
                "_prediction",
                &c.probability,
                column(&c.probability),
            )
        } else {
            udf(
                LrOutput::PredictionFromFeatures,
                "_prediction",
                &c.features,
                features.clone(),
            )
        };
        if raw || prob {
            second.push((c.prediction.clone(), e))
        } else {
            first.push((c.prediction.clone(), e))
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
