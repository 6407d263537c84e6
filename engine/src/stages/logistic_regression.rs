//! `LogisticRegressionModel` (binomial and multinomial).
//!
//! Both front ends translate names into [`Fitted`]; [`Fitted::build`] checks the shapes once
//! and the classifier shell checks `thresholds`.

use std::sync::Arc;

use ember_udfs::logistic_regression::LogisticRegression as Model;

use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::{DataRow, SparkStageDir};
use crate::stage::Stage;
pub use crate::stages::classifier::ClassifierColumns;
use crate::stages::classifier::{ClassifierStage, spark_thresholds};
use crate::stages::{Origin, StageDecl};

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.classification.LogisticRegressionModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[StageDecl::spark(CLASS, from_spark).mleap(
    "logistic_regression",
    from_mleap,
)];

/// The fitted values of a logistic regression, named as Spark names them.
#[derive(Debug, Clone)]
pub struct Fitted {
    /// `numClasses`.
    pub num_classes: usize,
    /// `numFeatures`.
    pub num_features: usize,
    /// `coefficientMatrix`: rows, columns and the row-major values (binomial: one row).
    pub coefficients: (usize, usize, Vec<f64>),
    /// `interceptVector`: one intercept per coefficient row.
    pub intercepts: Vec<f64>,
    /// `isMultinomial`.
    pub multinomial: bool,
    /// The `threshold` param (binomial), if set.
    pub threshold: Option<f64>,
    /// The `thresholds` param, if set.
    pub thresholds: Option<Vec<f64>>,
}

impl Fitted {
    /// The stage, after checking that the coefficients fit the classes and features (the
    /// classifier shell checks `thresholds`).
    pub fn build(self, at: &Origin, columns: ClassifierColumns) -> Result<Arc<dyn Stage>> {
        let (rows, cols, values) = self.coefficients;
        let expected_rows = if self.multinomial {
            self.num_classes
        } else {
            1
        };
        if self.multinomial && self.num_classes < 2 {
            return Err(at.error(
                "numClasses",
                format!("{} classes in a multinomial model", self.num_classes),
            ));
        }
        if !self.multinomial && self.num_classes > 2 {
            return Err(at.error(
                "numClasses",
                format!(
                    "{} classes but a binomial model (no coefficient matrix)",
                    self.num_classes
                ),
            ));
        }
        if rows != expected_rows || cols != self.num_features || values.len() != rows * cols {
            return Err(at.error(
                "coefficientMatrix",
                format!(
                    "{rows}x{cols} with {} values does not fit {} classes, {} features",
                    values.len(),
                    self.num_classes,
                    self.num_features
                ),
            ));
        }
        if self.intercepts.len() != rows {
            return Err(at.error(
                "interceptVector",
                format!(
                    "{} intercepts for {rows} coefficient rows",
                    self.intercepts.len()
                ),
            ));
        }
        // Spark's getThreshold: derived from thresholds when those are set (binomial)
        let threshold = match (&self.thresholds, self.multinomial) {
            (Some(t), false) if t.len() == 2 => 1.0 / (1.0 + t[0] / t[1]),
            _ => self.threshold.unwrap_or(0.5),
        };
        let model = Model {
            num_classes: self.num_classes,
            num_features: self.num_features,
            coefficients: values,
            intercepts: self.intercepts,
            multinomial: self.multinomial,
            threshold,
            thresholds: self.thresholds,
        };
        let mut params = vec![
            (
                "family",
                if model.multinomial {
                    "multinomial"
                } else {
                    "binomial"
                }
                .to_string(),
            ),
            ("numClasses", model.num_classes.to_string()),
            ("numFeatures", model.num_features.to_string()),
        ];
        if model.thresholds.is_none() && !model.multinomial {
            params.push(("threshold", model.threshold.to_string()));
        }
        ClassifierStage::boxed(at, CLASS, columns, model, params)
    }
}

/// Loads a Spark-saved `LogisticRegressionModel`: Spark ≥ 2.1 data (`coefficientMatrix`,
/// `interceptVector`, `isMultinomial`) or Spark 2.0 data (`coefficients`, `intercept`).
pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
    let data = dir.data()?;
    let row = DataRow::new(dir, &data);
    let count = |name: &str| {
        usize::try_from(row.int(name)?).map_err(|_| dir.param_error(name, "negative"))
    };
    let (num_classes, num_features) = (count("numClasses")?, count("numFeatures")?);
    let (coefficients, intercepts, multinomial) = if row.has("coefficientMatrix") {
        (
            row.matrix("coefficientMatrix")?,
            row.vector("interceptVector")?,
            row.bool("isMultinomial")?,
        )
    } else {
        let c = row.vector("coefficients")?;
        ((1, c.len(), c), vec![row.f64("intercept")?], false)
    };
    Fitted {
        num_classes,
        num_features,
        coefficients,
        intercepts,
        multinomial,
        threshold: dir.f64("threshold")?,
        thresholds: spark_thresholds(dir)?,
    }
    .build(&dir.into(), ClassifierColumns::from_spark(dir)?)
}

/// Loads MLeap's `logistic_regression` op: binomial (`coefficients`, `intercept`,
/// `threshold`) or multinomial (`coefficient_matrix` column-major [classes × features],
/// `intercept_vector`), optional `num_classes` and `thresholds`.
pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    let columns = ClassifierColumns::from_mleap(node)?;
    let num_classes = node.opt_attr("num_classes", Attributes::i64)?.unwrap_or(2);
    let num_classes = usize::try_from(num_classes)
        .map_err(|_| node.error("num_classes", format!("negative: {num_classes}")))?;
    let thresholds = node.opt_attr("thresholds", Attributes::f64s)?;
    let fitted = if node.attributes.has("coefficient_matrix") {
        let values = node.attr("coefficient_matrix", Attributes::f64s)?;
        let shape = node.attr("coefficient_matrix", Attributes::shape)?;
        let [rows, cols] = shape[..] else {
            return Err(node.error("coefficient_matrix", "not a matrix (rank 2 tensor)"));
        };
        // column-major (Spark's Matrix.toArray) → row-major; a short list is left short for
        // the shape check
        let coefficients = if values.len() == rows * cols {
            (0..rows)
                .flat_map(|r| (0..cols).map(move |c| (r, c)))
                .map(|(r, c)| values[c * rows + r])
                .collect()
        } else {
            values
        };
        Fitted {
            num_classes: rows,
            num_features: cols,
            coefficients: (rows, cols, coefficients),
            intercepts: node.attr("intercept_vector", Attributes::f64s)?,
            multinomial: true,
            threshold: None,
            thresholds,
        }
    } else {
        let coefficients = node.attr("coefficients", Attributes::f64s)?;
        Fitted {
            num_classes,
            num_features: coefficients.len(),
            coefficients: (1, coefficients.len(), coefficients),
            intercepts: vec![node.opt_attr("intercept", Attributes::f64)?.unwrap_or(0.0)],
            multinomial: false,
            threshold: node.opt_attr("threshold", Attributes::f64)?,
            thresholds,
        }
    };
    fitted.build(&node.into(), columns)
}
