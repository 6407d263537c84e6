//! `NaiveBayesModel` (multinomial, complement, Bernoulli, Gaussian).

use std::sync::Arc;

use ember_udfs::naive_bayes::{ModelType, NaiveBayes as Model};

use super::classifier::{ClassifierColumns, ClassifierStage, spark_thresholds};
use crate::error::Result;
use crate::stages::{Origin, StageDecl};
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::{DataRow, SparkStageDir};
use crate::stage::Stage;

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.classification.NaiveBayesModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, from_spark).mleap("naive_bayes", from_mleap),
];

/// The stage from Spark's fitted values (`theta`, `sigma` row-major), after checking their
/// shapes (the classifier shell checks `thresholds`).
fn build(
    at: &Origin,
    columns: ClassifierColumns,
    model_type: ModelType,
    pi: Vec<f64>,
    (theta_rows, theta_cols, theta): (usize, usize, Vec<f64>),
    sigma: Option<(usize, usize, Vec<f64>)>,
    thresholds: Option<Vec<f64>>,
) -> Result<Arc<dyn Stage>> {
    let classes = pi.len();
    if classes == 0 || theta_rows != classes || theta.len() != theta_rows * theta_cols {
        return Err(at.error(
            "theta",
            format!(
                "{theta_rows}x{theta_cols} theta with {} values does not fit {classes} classes",
                theta.len()
            ),
        ));
    }
    let sigma = match (model_type, sigma) {
        (ModelType::Gaussian, Some((r, c, v)))
            if r == theta_rows && c == theta_cols && v.len() == r * c =>
        {
            v
        }
        (ModelType::Gaussian, _) => {
            return Err(at.error(
                "sigma",
                "a Gaussian model needs a sigma matrix shaped like theta",
            ));
        }
        _ => Vec::new(),
    };
    let model = Model::new(model_type, pi, theta, sigma, thresholds);
    let params = vec![
        ("modelType", model.model_type().as_str().to_string()),
        ("numClasses", model.num_classes().to_string()),
    ];
    ClassifierStage::boxed(at, CLASS, columns, model, params)
}

fn parse_type(value: &str, at: &Origin) -> Result<ModelType> {
    ModelType::parse(value).ok_or_else(|| {
        at.error(
            "modelType",
            format!(
                "'{value}' is not supported (supported: multinomial, complement, bernoulli, \
                 gaussian)"
            ),
        )
    })
}

/// Loads a Spark-saved `NaiveBayesModel`: `pi`, `theta` and (Spark ≥ 3) `sigma`; params
/// `modelType` and `thresholds`.
pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
    let at = Origin::from(dir);
    let model_type = parse_type(
        &dir.string("modelType")?
            .unwrap_or_else(|| "multinomial".into()),
        &at,
    )?;
    let data = dir.data()?;
    let row = DataRow::new(dir, &data);
    let sigma = if row.has("sigma") {
        Some(row.matrix("sigma")?)
    } else {
        None
    };
    build(
        &at,
        ClassifierColumns::from_spark(dir)?,
        model_type,
        row.vector("pi")?,
        row.matrix("theta")?,
        sigma,
        spark_thresholds(dir)?,
    )
}

/// Loads MLeap's `naive_bayes` op: `pi`, `theta` (column-major classes × features),
/// `model_type`, optional `thresholds` and (Gaussian) `sigma`.
pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    let at = Origin::from(node);
    let model_type = parse_type(
        &node
            .opt_attr("model_type", Attributes::string)?
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "multinomial".into()),
        &at,
    )?;
    let matrix = |name: &str| -> Result<(usize, usize, Vec<f64>)> {
        let values = node.attr(name, Attributes::f64s)?;
        let shape = node.attr(name, Attributes::shape)?;
        let [rows, cols] = shape[..] else {
            return Err(node.error(name, "not a matrix (rank 2 tensor)"));
        };
        if rows * cols != values.len() {
            return Err(node.error(name, format!("{rows}x{cols} with {} values", values.len())));
        }
        // column-major (Spark's Matrix.toArray) → row-major
        let row_major = (0..rows)
            .flat_map(|r| (0..cols).map(move |c| (r, c)))
            .map(|(r, c)| values[c * rows + r])
            .collect();
        Ok((rows, cols, row_major))
    };
    let sigma = if model_type == ModelType::Gaussian {
        Some(matrix("sigma")?)
    } else {
        None
    };
    build(
        &at,
        ClassifierColumns::from_mleap(node)?,
        model_type,
        node.attr("pi", Attributes::f64s)?,
        matrix("theta")?,
        sigma,
        node.opt_attr("thresholds", Attributes::f64s)?,
    )
}
