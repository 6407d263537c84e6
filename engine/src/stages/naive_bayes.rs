//! `NaiveBayesModel` (multinomial, complement, Bernoulli, Gaussian).

use std::sync::Arc;

use ember_udfs::naive_bayes::{ModelType, NaiveBayes as Model};

use super::classifier::ClassifierColumns;
use crate::stages::StageDecl;
use crate::error::{EmberError, Result};
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::{DataRow, SparkStageDir};
use crate::stage::{ColumnSpec, ColumnType, Stage, StageContext, StagePlan};

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.classification.NaiveBayesModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, NaiveBayes::from_spark).mleap("naive_bayes", NaiveBayes::from_mleap),
];

/// A fitted naive Bayes classifier.
#[derive(Debug)]
pub struct NaiveBayes {
    uid: String,
    columns: ClassifierColumns,
    model: Arc<Model>,
}

/// Checks the fitted shapes and builds the model (`theta`, `sigma` row-major).
#[allow(clippy::too_many_arguments)]
fn model(
    model_type: ModelType,
    pi: Vec<f64>,
    (theta_rows, theta_cols, theta): (usize, usize, Vec<f64>),
    sigma: Option<(usize, usize, Vec<f64>)>,
    thresholds: Option<Vec<f64>>,
    err: impl Fn(&str, String) -> EmberError,
) -> Result<Model> {
    let classes = pi.len();
    if classes == 0 || theta_rows != classes || theta.len() != theta_rows * theta_cols {
        return Err(err(
            "theta",
            format!(
                "{theta_rows}x{theta_cols} theta with {} values does not fit {classes} classes",
                theta.len()
            ),
        ));
    }
    let sigma = match (model_type, sigma) {
        (ModelType::Gaussian, Some((r, c, v))) if r == theta_rows && c == theta_cols => v,
        (ModelType::Gaussian, _) => {
            return Err(err(
                "sigma",
                "a Gaussian model needs a sigma matrix shaped like theta".into(),
            ));
        }
        _ => Vec::new(),
    };
    if let Some(t) = &thresholds
        && t.len() != classes
    {
        return Err(err(
            "thresholds",
            format!("{} thresholds for {classes} classes", t.len()),
        ));
    }
    Ok(Model::new(model_type, pi, theta, sigma, thresholds))
}

fn parse_type(value: &str, err: impl Fn(&str, String) -> EmberError) -> Result<ModelType> {
    ModelType::parse(value).ok_or_else(|| {
        err(
            "modelType",
            format!(
                "'{value}' is not supported (supported: multinomial, complement, bernoulli, \
                 gaussian)"
            ),
        )
    })
}

impl NaiveBayes {
    /// Loads a Spark-saved `NaiveBayesModel`: `pi`, `theta` and (Spark ≥ 3) `sigma`; params
    /// `modelType` and `thresholds`.
    pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
        let err = |p: &str, m: String| dir.param_error(p, m);
        let model_type = parse_type(
            &dir.string("modelType")?
                .unwrap_or_else(|| "multinomial".into()),
            err,
        )?;
        let data = dir.data()?;
        let row = DataRow::new(dir, &data);
        let sigma = if row.has("sigma") {
            Some(row.matrix("sigma")?)
        } else {
            None
        };
        let thresholds = dir.f64s("thresholds")?.filter(|_| dir.is_set("thresholds"));
        let model = model(
            model_type,
            row.vector("pi")?,
            row.matrix("theta")?,
            sigma,
            thresholds,
            err,
        )?;
        Ok(Arc::new(Self {
            uid: dir.uid.clone(),
            columns: ClassifierColumns::from_spark(dir)?,
            model: Arc::new(model),
        }))
    }

    /// Loads MLeap's `naive_bayes` op: `pi`, `theta` (column-major classes × features),
    /// `model_type`, optional `thresholds` and (Gaussian) `sigma`.
    pub fn from_mleap(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        let err = |p: &str, m: String| node.error(p, m);
        let model_type = parse_type(
            &node
                .opt_attr("model_type", Attributes::string)?
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "multinomial".into()),
            err,
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
        let model = model(
            model_type,
            node.attr("pi", Attributes::f64s)?,
            matrix("theta")?,
            sigma,
            node.opt_attr("thresholds", Attributes::f64s)?,
            err,
        )?;
        Ok(Arc::new(Self {
            uid: node.name.clone(),
            columns: ClassifierColumns::from_mleap(node)?,
            model: Arc::new(model),
        }))
    }
}

impl Stage for NaiveBayes {
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
        self.columns.outputs(self.model.num_classes())
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = vec![
            ("modelType", self.model.model_type().as_str().to_string()),
            ("numClasses", self.model.num_classes().to_string()),
        ];
        if let Some(t) = self.model.thresholds() {
            p.push(("thresholds", format!("{t:?}")));
        }
        p
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        self.columns.compile(ctx, &self.model)
    }
}
