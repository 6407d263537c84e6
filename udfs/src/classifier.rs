//! Spark's `ProbabilisticClassificationModel` output logic, shared by every probabilistic
//! classifier (logistic regression, decision trees, random forests, gradient-boosted trees).
//!
//! Spark's `ProbabilisticClassificationModel.transform` chains columns to avoid recomputation:
//! `rawPrediction = predictRaw(features)`; `probability = raw2probability(rawPrediction)` when
//! the raw column is produced, else `predictProbability(features)`; `prediction =
//! raw2prediction(rawPrediction)`, else `probability2prediction(probability)`, else
//! `predict(features)`. Models override some of these steps (binomial logistic regression
//! compares with one threshold, a decision tree's `predict` reads the leaf's stored
//! prediction, GBT's `predict` tests the margin's sign), so a model implements
//! [`ProbabilisticClassifier`] and [`ClassifierUdf`] applies whichever step the compiled stage
//! asks for.
//!
//! Defaults, as Spark's base class: `raw2prediction` is the first `argmax` of the raw vector,
//! or with `thresholds` set, `probability2prediction(raw2probability(raw))`;
//! `probability2prediction` is the `argmax`, or with `thresholds` the first maximum of
//! `p_i / t_i`; `predict` is `raw2prediction(predictRaw(features))`.
//!
//! # Null Handling
//! A null input vector fails (Spark's UDF dereferences it), as does a vector whose size differs
//! from what the step reads (the model's feature count, or its raw/probability width).

use std::collections::hash_map::DefaultHasher;
use std::fmt::Debug;
use std::sync::Arc;

use arrow::array::Float64Builder;
use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
};

use crate::common::{ArgKind, ModelUdf, StageRef, arrays, fingerprint};
use crate::vector::{VectorArray, VectorBuilder, VectorRef, vector_data_type};

/// Spark's `DenseVector.argmax`: the first maximum (comparisons with NaN are false); -1 for an
/// empty vector.
pub fn argmax(v: &[f64]) -> f64 {
    let mut best = 0usize;
    let mut max = match v.first() {
        Some(x) => *x,
        None => return -1.0,
    };
    for (i, x) in v.iter().enumerate().skip(1) {
        if *x > max {
            max = *x;
            best = i;
        }
    }
    best as f64
}

/// Spark's `Utils.softmax`, in place (multinomial logistic regression and naive Bayes turn
/// raw predictions into probabilities with it).
pub fn softmax(v: &mut [f64]) {
    let mut max = -f64::MAX;
    let mut infinite = None;
    for (i, x) in v.iter().enumerate() {
        if *x == f64::INFINITY && infinite.is_none() {
            infinite = Some(i);
        }
        if *x > max {
            max = *x;
        }
    }
    if let Some(k) = infinite {
        v.iter_mut()
            .enumerate()
            .for_each(|(i, x)| *x = if i == k { 1.0 } else { 0.0 });
        return;
    }
    let mut sum = 0.0;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    let scale = 1.0 / sum;
    v.iter_mut().for_each(|x| *x *= scale);
}

/// Spark's `probability2prediction` with `thresholds`: the first maximum of `p_i / t_i`,
/// starting from `-∞` (so a NaN ratio never wins, and a class with threshold 0 and probability
/// above 0 always does).
pub fn thresholded_argmax(p: &[f64], thresholds: &[f64]) -> f64 {
    let mut best = 0usize;
    let mut max = f64::NEG_INFINITY;
    for (i, (pi, ti)) in p.iter().zip(thresholds).enumerate() {
        let scaled = pi / ti;
        if scaled > max {
            max = scaled;
            best = i;
        }
    }
    best as f64
}

/// Spark's `ProbabilisticClassificationModel.normalizeToProbabilitiesInPlace`: every value must
/// be non-negative and the sum positive; each value is divided by the sum.
pub fn normalize_to_probabilities(v: &mut [f64]) -> std::result::Result<(), String> {
    if v.iter().any(|x| *x < 0.0) {
        return Err("The input raw predictions should be nonnegative.".into());
    }
    let sum: f64 = v.iter().sum();
    if sum.is_nan() || sum <= 0.0 {
        return Err("Can't normalize the 0-vector.".into());
    }
    v.iter_mut().for_each(|x| *x /= sum);
    Ok(())
}

/// A fitted probabilistic classifier, as Spark's `ProbabilisticClassificationModel` sees it.
/// Implementations override the steps their Spark class overrides.
pub trait ProbabilisticClassifier: Debug + Send + Sync + 'static {
    /// Number of features the model reads (the input vector size).
    fn num_features(&self) -> usize;

    /// Width of the raw prediction and probability vectors.
    fn output_size(&self) -> usize;

    /// The `thresholds` param, if set.
    fn thresholds(&self) -> Option<&[f64]>;

    /// Spark's `predictRaw`, into `out` (length [`Self::output_size`]); an error (a feature
    /// value the model rejects) carries Spark's message.
    fn predict_raw(&self, x: &VectorRef<'_>, out: &mut [f64]) -> std::result::Result<(), String>;

    /// Spark's `raw2probabilityInPlace`; an error carries Spark's message.
    fn raw_to_probability(&self, raw: &mut [f64]) -> std::result::Result<(), String>;

    /// Spark's `probability2prediction`.
    fn probability_to_prediction(&self, p: &[f64]) -> f64 {
        match self.thresholds() {
            None => argmax(p),
            Some(t) => thresholded_argmax(p, t),
        }
    }

    /// Spark's `raw2prediction` (may reuse `raw` as scratch space).
    fn raw_to_prediction(&self, raw: &mut [f64]) -> std::result::Result<f64, String> {
        if self.thresholds().is_some() {
            self.raw_to_probability(raw)?;
            Ok(self.probability_to_prediction(raw))
        } else {
            Ok(argmax(raw))
        }
    }

    /// Spark's `predict(features)`; `scratch` has length [`Self::output_size`].
    fn predict(&self, x: &VectorRef<'_>, scratch: &mut [f64]) -> std::result::Result<f64, String> {
        self.predict_raw(x, scratch)?;
        self.raw_to_prediction(scratch)
    }

    /// Hashes the fitted parameters (for UDF identity).
    fn fingerprint(&self, h: &mut DefaultHasher);
}

/// What a [`ClassifierUdf`] computes, and from which column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClassifierOutput {
    /// `rawPrediction` from features.
    Raw,
    /// `probability` from features (`predictProbability`).
    ProbabilityFromFeatures,
    /// `probability` from the raw prediction column (`raw2probability`).
    ProbabilityFromRaw,
    /// `prediction` from features (`predict`).
    PredictionFromFeatures,
    /// `prediction` from the raw prediction column (`raw2prediction`).
    PredictionFromRaw,
    /// `prediction` from the probability column (`probability2prediction`).
    PredictionFromProbability,
}

impl ClassifierOutput {
    /// True for the outputs that are vectors (raw prediction and probability).
    pub fn is_vector(&self) -> bool {
        matches!(
            self,
            Self::Raw | Self::ProbabilityFromFeatures | Self::ProbabilityFromRaw
        )
    }

    /// True for the outputs computed from the features column.
    pub fn reads_features(&self) -> bool {
        matches!(
            self,
            Self::Raw | Self::ProbabilityFromFeatures | Self::PredictionFromFeatures
        )
    }
}

/// One output column of a probabilistic classifier: `vector → vector | double`.
#[derive(Debug)]
pub struct ClassifierUdf<M: ProbabilisticClassifier> {
    core: ModelUdf<M>,
    output: ClassifierOutput,
}

crate::udf_identity!(ClassifierUdf<M: ProbabilisticClassifier> by core);

impl<M: ProbabilisticClassifier> ClassifierUdf<M> {
    /// A UDF named `name` computing `output` of `stage` from input `column`.
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        column: impl Into<String>,
        output: ClassifierOutput,
        model: Arc<M>,
    ) -> Self {
        let fingerprint = fingerprint(|h| {
            use std::hash::Hash;
            output.hash(h);
            model.fingerprint(h);
        });
        Self {
            core: ModelUdf::new(name, stage, column, model, fingerprint),
            output,
        }
    }

    fn expected_size(&self) -> usize {
        if self.output.reads_features() {
            self.core.model.num_features()
        } else {
            self.core.model.output_size()
        }
    }
}

impl<M: ProbabilisticClassifier> ScalarUDFImpl for ClassifierUdf<M> {
    fn name(&self) -> &str {
        &self.core.name
    }

    fn signature(&self) -> &Signature {
        &self.core.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(if self.output.is_vector() {
            vector_data_type()
        } else {
            DataType::Float64
        })
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.core
            .return_field(&args, ArgKind::Vector, self.return_type(&[])?)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args.args, args.number_rows)?;
        let va = VectorArray::try_new(input[0].as_ref())?;
        let n = va.len();
        let k = self.core.model.output_size();
        let expected = self.expected_size();
        let m = self.core.model.as_ref();
        let fail = |row: usize, message: String| self.core.error(row, message);
        let row_vector = |row: usize| self.core.vector_row(&va, row, Some(expected));
        let array: arrow::array::ArrayRef = if self.output.is_vector() {
            let mut out = VectorBuilder::with_capacity(n, k);
            for row in 0..n {
                let v = row_vector(row)?;
                let slot = out.dense_row(k);
                match self.output {
                    ClassifierOutput::Raw => m.predict_raw(&v, slot).map_err(|e| fail(row, e))?,
                    ClassifierOutput::ProbabilityFromFeatures => {
                        m.predict_raw(&v, slot).map_err(|e| fail(row, e))?;
                        m.raw_to_probability(slot).map_err(|e| fail(row, e))?;
                    }
                    _ => {
                        v.write_dense(slot);
                        m.raw_to_probability(slot).map_err(|e| fail(row, e))?;
                    }
                }
            }
            out.finish_array()
        } else {
            let mut scratch = vec![0.0; k];
            let mut out = Float64Builder::with_capacity(n);
            for row in 0..n {
                let v = row_vector(row)?;
                let p = match self.output {
                    ClassifierOutput::PredictionFromFeatures => m.predict(&v, &mut scratch),
                    ClassifierOutput::PredictionFromRaw => {
                        v.write_dense(&mut scratch);
                        m.raw_to_prediction(&mut scratch)
                    }
                    _ => {
                        v.write_dense(&mut scratch);
                        Ok(m.probability_to_prediction(&scratch))
                    }
                };
                out.append_value(p.map_err(|e| fail(row, e))?);
            }
            Arc::new(out.finish())
        };
        Ok(ColumnarValue::Array(array))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1.0);
        assert_eq!(argmax(&[f64::NAN, 1.0]), 0.0);
        assert_eq!(argmax(&[]), -1.0);
    }

    #[test]
    fn thresholds_scale_probabilities() {
        assert_eq!(thresholded_argmax(&[0.6, 0.4], &[1.0, 0.5]), 1.0);
        // threshold 0 with a positive probability wins; with probability 0 it is NaN and loses
        assert_eq!(thresholded_argmax(&[0.9, 0.1], &[1.0, 0.0]), 1.0);
        assert_eq!(thresholded_argmax(&[1.0, 0.0], &[1.0, 0.0]), 0.0);
    }

    #[test]
    fn normalization_rejects_negative_and_zero_vectors() {
        let mut v = [1.0, 3.0];
        normalize_to_probabilities(&mut v).unwrap();
        assert_eq!(v, [0.25, 0.75]);
        assert!(normalize_to_probabilities(&mut [0.0, 0.0]).is_err());
        assert!(normalize_to_probabilities(&mut [-1.0, 2.0]).is_err());
    }
}
