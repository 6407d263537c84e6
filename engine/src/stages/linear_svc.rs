//! Linear SVMs: Spark's `LinearSVCModel` (MLeap op `linear_svc`) and MLeap's
//! `support_vector_machine` op (mleap-spark-extension's wrapper of mllib's `SVMModel`). The
//! math and the two decision rules are in `ember_udfs::linear_svc`; the output columns chain
//! through [`ClassifierColumns::compile`], shared by every classifier.

use std::sync::Arc;

use ember_udfs::linear_svc::{LinearSvm, SvmDecision};

use crate::error::Result;
use crate::stages::{Origin, StageDecl};
use crate::formats::mleap::{Attributes, BundleFiles, MleapNode};
use crate::formats::spark::{DataRow, SparkStageDir};
use crate::stage::Stage;
use crate::stages::classifier::{ClassifierColumns, ClassifierStage};

/// Spark class name.
pub const CLASS: &str = "org.apache.spark.ml.classification.LinearSVCModel";

/// mleap-spark-extension's class behind MLeap's `support_vector_machine` op.
pub const MLEAP_SVM_CLASS: &str = "org.apache.spark.ml.mleap.classification.SVMModel";

/// What loads this module's stages.
pub const DECL: &[StageDecl] = &[
    StageDecl::spark(CLASS, from_spark).mleap("linear_svc", from_mleap_linear_svc),
    StageDecl::mleap_only(MLEAP_SVM_CLASS, "support_vector_machine", from_mleap_svm),
];

fn check_binary(node: &MleapNode) -> Result<()> {
    match node.opt_attr("num_classes", Attributes::i64)? {
        None | Some(2) => Ok(()),
        Some(n) => Err(node.error(
            "num_classes",
            format!("{n} classes; MLeap only supports binary SVMs"),
        )),
    }
}

/// The stage of `class` around `model` (the classifier shell checks `thresholds`).
fn build(
    at: &Origin,
    class: &'static str,
    columns: ClassifierColumns,
    model: LinearSvm,
) -> Result<Arc<dyn Stage>> {
    let mut params = vec![("numFeatures", model.coefficients.len().to_string())];
    if let SvmDecision::Threshold(t) = &model.decision {
        params.push(("threshold", t.to_string()));
    }
    ClassifierStage::boxed(at, class, columns, model, params)
}

/// Loads a Spark-saved `LinearSVCModel`: data `coefficients`, `intercept`; params
/// `threshold` (default 0.0), `featuresCol`, `rawPredictionCol`, `predictionCol`.
pub fn from_spark(dir: &SparkStageDir) -> Result<Arc<dyn Stage>> {
    let data = dir.data()?;
    let row = DataRow::new(dir, &data);
    let mut columns = ClassifierColumns::from_spark(dir)?;
    // LinearSVCModel has no probability column
    columns.probability = String::new();
    let model = LinearSvm {
        coefficients: row.vector("coefficients")?,
        intercept: row.f64("intercept")?,
        decision: SvmDecision::Threshold(dir.f64("threshold")?.unwrap_or(0.0)),
    };
    build(&dir.into(), CLASS, columns, model)
}

/// Loads MLeap's `linear_svc` op: `coefficients`, `intercept`, `threshold`, `num_classes`
/// (must be 2); ports `features` → `raw_prediction`, `prediction`.
pub fn from_mleap_linear_svc(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    check_binary(node)?;
    let mut columns = ClassifierColumns::from_mleap(node)?;
    columns.probability = String::new();
    let model = LinearSvm {
        coefficients: node.attr("coefficients", Attributes::f64s)?,
        intercept: node.opt_attr("intercept", Attributes::f64)?.unwrap_or(0.0),
        decision: SvmDecision::Threshold(
            node.opt_attr("threshold", Attributes::f64)?.unwrap_or(0.0),
        ),
    };
    build(&node.into(), CLASS, columns, model)
}

/// Loads MLeap's `support_vector_machine` op: `coefficients`, `intercept`, `num_classes`
/// (must be 2), optional `thresholds` (two values); ports `features` → `raw_prediction`,
/// `probability` (the raw vector again), `prediction`.
pub fn from_mleap_svm(node: &MleapNode, _: &dyn BundleFiles) -> Result<Arc<dyn Stage>> {
    check_binary(node)?;
    let model = LinearSvm {
        coefficients: node.attr("coefficients", Attributes::f64s)?,
        intercept: node.opt_attr("intercept", Attributes::f64)?.unwrap_or(0.0),
        decision: SvmDecision::Thresholds(node.opt_attr("thresholds", Attributes::f64s)?),
    };
    build(
        &node.into(),
        MLEAP_SVM_CLASS,
        ClassifierColumns::from_mleap(node)?,
        model,
    )
}
