//! Linear SVMs: Spark's `LinearSVCModel` (MLeap op `linear_svc`) and MLeap's
//! `support_vector_machine` op (mleap-spark-extension's wrapper of mllib's `SVMModel`). The
//! math and the two decision rules are in `ember_udfs::linear_svc`; the output columns chain
//! through [`ClassifierColumns::compile`], shared by every classifier.

use std::sync::Arc;

use ember_udfs::linear_svc::{LinearSvm, SvmDecision};

use crate::stages::StageDecl;
use crate::error::Result;
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::{DataRow, SparkStageDir};
use crate::stage::{ColumnMeta, ColumnSpec, ColumnType, Stage, StageContext, StagePlan};
use crate::stages::classifier::ClassifierColumns;

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.classification.LinearSVCModel";

/// mleap-spark-extension's class behind MLeap's `support_vector_machine` op.
pub const MLEAP_SVM_CLASS: &str = "org.apache.spark.ml.mleap.classification.SVMModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, LinearSvc::from_spark).mleap("linear_svc", LinearSvc::from_mleap_linear_svc),
    StageDecl::mleap_only(MLEAP_SVM_CLASS, "support_vector_machine", LinearSvc::from_mleap_svm),
];

/// A fitted linear SVM.
#[derive(Debug)]
pub struct LinearSvc {
    uid: String,
    class: &'static str,
    columns: ClassifierColumns,
    model: Arc<LinearSvm>,
}

fn check_binary(node: &MleapNode) -> Result<()> {
    match node.opt_attr("num_classes", Attributes::i64)? {
        None | Some(2) => Ok(()),
        Some(n) => Err(node.error(
            "num_classes",
            format!("{n} classes; MLeap only supports binary SVMs"),
        )),
    }
}

impl LinearSvc {
    /// Loads a Spark-saved `LinearSVCModel`: data `coefficients`, `intercept`; params
    /// `threshold` (default 0.0), `featuresCol`, `rawPredictionCol`, `predictionCol`.
    pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
        let data = dir.data()?;
        let row = DataRow::new(dir, &data);
        let mut columns = ClassifierColumns::from_spark(dir)?;
        // LinearSVCModel has no probability column
        columns.probability = String::new();
        Ok(Arc::new(Self {
            uid: dir.uid.clone(),
            class: CLASS,
            columns,
            model: Arc::new(LinearSvm {
                coefficients: row.vector("coefficients")?,
                intercept: row.f64("intercept")?,
                decision: SvmDecision::Threshold(dir.f64("threshold")?.unwrap_or(0.0)),
            }),
        }))
    }

    /// Loads MLeap's `linear_svc` op: `coefficients`, `intercept`, `threshold`, `num_classes`
    /// (must be 2); ports `features` → `raw_prediction`, `prediction`.
    pub fn from_mleap_linear_svc(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        check_binary(node)?;
        let mut columns = ClassifierColumns::from_mleap(node)?;
        columns.probability = String::new();
        Ok(Arc::new(Self {
            uid: node.name.clone(),
            class: CLASS,
            columns,
            model: Arc::new(LinearSvm {
                coefficients: node.attr("coefficients", Attributes::f64s)?,
                intercept: node.opt_attr("intercept", Attributes::f64)?.unwrap_or(0.0),
                decision: SvmDecision::Threshold(
                    node.opt_attr("threshold", Attributes::f64)?.unwrap_or(0.0),
                ),
            }),
        }))
    }

    /// Loads MLeap's `support_vector_machine` op: `coefficients`, `intercept`, `num_classes`
    /// (must be 2), optional `thresholds` (two values); ports `features` → `raw_prediction`,
    /// `probability` (the raw vector again), `prediction`.
    pub fn from_mleap_svm(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
        check_binary(node)?;
        let thresholds = node.opt_attr("thresholds", Attributes::f64s)?;
        if let Some(t) = &thresholds
            && t.len() != 2
        {
            return Err(node.error(
                "thresholds",
                format!("{} thresholds for 2 classes", t.len()),
            ));
        }
        Ok(Arc::new(Self {
            uid: node.name.clone(),
            class: MLEAP_SVM_CLASS,
            columns: ClassifierColumns::from_mleap(node)?,
            model: Arc::new(LinearSvm {
                coefficients: node.attr("coefficients", Attributes::f64s)?,
                intercept: node.opt_attr("intercept", Attributes::f64)?.unwrap_or(0.0),
                decision: SvmDecision::Thresholds(thresholds),
            }),
        }))
    }
}

impl Stage for LinearSvc {
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
        let c = &self.columns;
        let width = ColumnMeta {
            vector_size: Some(2),
            labels: None,
        };
        let mut out = Vec::new();
        for name in [&c.raw_prediction, &c.probability] {
            if !name.is_empty() {
                out.push(ColumnSpec::new(name, ColumnType::Vector).with_meta(width.clone()));
            }
        }
        if !c.prediction.is_empty() {
            out.push(ColumnSpec::new(&c.prediction, ColumnType::Double));
        }
        out
    }

    fn params(&self) -> Vec<(&'static str, String)> {
        let m = &self.model;
        let mut p = vec![("numFeatures", m.coefficients.len().to_string())];
        match &m.decision {
            SvmDecision::Threshold(t) => p.push(("threshold", t.to_string())),
            SvmDecision::Thresholds(Some(t)) => p.push(("thresholds", format!("{t:?}"))),
            SvmDecision::Thresholds(None) => {}
        }
        p
    }

    fn compile(&self, ctx: &StageContext<'_>) -> Result<StagePlan> {
        self.columns.compile(ctx, &self.model)
    }
}
