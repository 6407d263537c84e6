//! `LogisticRegressionModel` (binomial and multinomial).

use std::sync::Arc;

use ember_udfs::classifier::ProbabilisticClassifier;
use ember_udfs::logistic_regression::LogisticRegression as Model;

use crate::stages::StageDecl;
use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::{DataRow, SparkStageDir};
use crate::stage::{ColumnSpec, ColumnType, Stage, StageContext, StagePlan};
pub use crate::stages::classifier::ClassifierColumns;
use crate::stages::classifier::spark_thresholds;

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.classification.LogisticRegressionModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, LogisticRegression::from_spark).mleap("logistic_regression", LogisticRegression::from_mleap),
];

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
        let thresholds = spark_thresholds(dir, num_classes)?;
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
        self.columns.outputs(self.model.output_size())
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
        self.columns.compile(ctx, &self.model)
    }
}
