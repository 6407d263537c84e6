//! LogisticRegressionModel: margins, probabilities and predictions, as Spark computes them.
//!
//! Spark's `ProbabilisticClassificationModel.transform` chains columns to avoid recomputation:
//! `rawPrediction = predictRaw(features)`; `probability = raw2probability(rawPrediction)` when
//! the raw column is produced, else `predictProbability(features)`; `prediction =
//! raw2prediction(rawPrediction)`, else `probability2prediction(probability)`, else
//! `predict(features)`. The paths differ slightly (binomial `predict` compares the sigmoid
//! with the threshold, `raw2prediction` compares the margin with `log(t / (1 - t))`), so the
//! compiled stage picks the same path Spark picks and this UDF offers each of them.
//!
//! Math, per Spark 3/4: binomial margin `m = x·w + b`, raw `[-m, m]`, probability
//! `p0 = 1 / (1 + exp(-raw0))`, `p1 = 1 - p0`. Multinomial margins `x·W_c + b_c`; probability
//! is `Utils.softmax`: subtract the largest margin, exponentiate, multiply by `1 / sum`; a `+∞`
//! margin gives a one-hot probability. Predictions are `argmax` (first maximum), or with
//! `thresholds` the argmax of `p_i / t_i`.
//!
//! # Null Handling
//! A null features vector fails (Spark's UDF dereferences it), as does a vector whose size
//! differs from the model's.

use std::sync::Arc;

use arrow::array::Float64Builder;
use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::common::{ArgKind, StageRef, arrays, fingerprint, hash_f64s, single_arg_field};
use crate::vector::{VectorArray, VectorBuilder, VectorRef, vector_data_type};

/// A fitted logistic regression model.
#[derive(Debug, Clone)]
pub struct LogisticRegression {
    /// Number of classes (2 for binomial).
    pub num_classes: usize,
    /// Number of features.
    pub num_features: usize,
    /// Row-major coefficients: one row per class (multinomial) or a single row (binomial).
    pub coefficients: Vec<f64>,
    /// One intercept per coefficient row.
    pub intercepts: Vec<f64>,
    /// Multinomial (softmax) model, as opposed to binomial (sigmoid on one margin).
    pub multinomial: bool,
    /// Binomial decision threshold on the probability of class 1 (Spark's `getThreshold`,
    /// which derives it from `thresholds` when those are set).
    pub threshold: f64,
    /// Per-class thresholds (Spark's `thresholds` param), if set.
    pub thresholds: Option<Vec<f64>>,
}

/// Spark's `DenseVector.argmax` as a prediction (-1 for an empty vector).
pub fn argmax(v: &[f64]) -> f64 {
    // Spark's DenseVector.argmax: first maximum; comparisons with NaN are false.
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

/// Spark's `ProbabilisticClassificationModel.probability2prediction`: the argmax of the
/// probabilities, or with `thresholds` the first argmax of `p_i / t_i` (a zero threshold wins
/// unless its probability is 0 too, which gives NaN).
pub fn probability_to_prediction(p: &[f64], thresholds: Option<&[f64]>) -> f64 {
    match thresholds {
        None => argmax(p),
        Some(t) => {
            let mut best = 0usize;
            let mut max = f64::NEG_INFINITY;
            for (i, (pi, ti)) in p.iter().zip(t).enumerate() {
                let scaled = pi / ti;
                if scaled > max {
                    max = scaled;
                    best = i;
                }
            }
            best as f64
        }
    }
}

/// Spark's `Utils.softmax`, in place.
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

impl LogisticRegression {
    /// Width of the raw prediction and probability vectors.
    pub fn output_size(&self) -> usize {
        if self.multinomial {
            self.num_classes
        } else {
            2
        }
    }

    /// Spark's `predictRaw`: margins into `out` (length [`Self::output_size`]).
    #[inline]
    pub fn predict_raw(&self, x: &VectorRef<'_>, out: &mut [f64]) {
        let f = self.num_features;
        if self.multinomial {
            for (c, o) in out.iter_mut().enumerate() {
                *o = x.dot(&self.coefficients[c * f..(c + 1) * f]) + self.intercepts[c];
            }
        } else {
            let m = x.dot(&self.coefficients[..f]) + self.intercepts[0];
            out[0] = -m;
            out[1] = m;
        }
    }

    /// Spark's `raw2probabilityInPlace`: binomial `p0 = 1 / (1 + exp(-raw0))`, `p1 = 1 - p0`;
    /// multinomial `Utils.softmax` (subtract the largest margin, exponentiate, multiply by
    /// `1 / sum`; a `+∞` margin gives a one-hot vector at the first one).
    #[inline]
    pub fn raw_to_probability(&self, raw: &mut [f64]) {
        if self.multinomial {
            softmax(raw);
        } else {
            raw[0] = 1.0 / (1.0 + (-raw[0]).exp());
            raw[1] = 1.0 - raw[0];
        }
    }

    /// Spark's `probability2prediction`.
    pub fn probability_to_prediction(&self, p: &[f64]) -> f64 {
        if !self.multinomial {
            return if p[1] > self.threshold { 1.0 } else { 0.0 };
        }
        probability_to_prediction(p, self.thresholds.as_deref())
    }

    /// Spark's `raw2prediction` (may reuse `raw` as scratch space).
    pub fn raw_to_prediction(&self, raw: &mut [f64]) -> f64 {
        if !self.multinomial {
            let t = self.threshold;
            let raw_threshold = if t == 0.0 {
                f64::NEG_INFINITY
            } else if t == 1.0 {
                f64::INFINITY
            } else {
                (t / (1.0 - t)).ln()
            };
            return if raw[1] > raw_threshold { 1.0 } else { 0.0 };
        }
        if self.thresholds.is_some() {
            self.raw_to_probability(raw);
            self.probability_to_prediction(raw)
        } else {
            argmax(raw)
        }
    }

    /// Spark's `predict(features)`.
    pub fn predict(&self, x: &VectorRef<'_>, scratch: &mut [f64]) -> f64 {
        self.predict_raw(x, scratch);
        if self.multinomial {
            self.raw_to_prediction(scratch)
        } else {
            let score = 1.0 / (1.0 + (-scratch[1]).exp());
            if score > self.threshold { 1.0 } else { 0.0 }
        }
    }
}

/// What a [`ClassifierUdf`] computes, and from which column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LrOutput {
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

impl LrOutput {
    fn is_vector(&self) -> bool {
        matches!(
            self,
            LrOutput::Raw | LrOutput::ProbabilityFromFeatures | LrOutput::ProbabilityFromRaw
        )
    }
}

/// The math of a probabilistic classifier, split as Spark's `ProbabilisticClassificationModel`
/// splits it, so [`ClassifierUdf`] can chain the output columns the way Spark does.
pub trait ProbabilisticClassifier: std::fmt::Debug + Send + Sync + 'static {
    /// Size of the features vector.
    fn num_features(&self) -> usize;
    /// Width of the raw prediction and probability vectors.
    fn output_size(&self) -> usize;
    /// Spark's `predictRaw` into `out` (length [`Self::output_size`]); an error is the message
    /// Spark fails the row with.
    fn predict_raw(&self, x: &VectorRef<'_>, out: &mut [f64]) -> std::result::Result<(), String>;
    /// Spark's `raw2probabilityInPlace`.
    fn raw_to_probability(&self, raw: &mut [f64]);
    /// Spark's `raw2prediction` (may reuse `raw` as scratch space).
    fn raw_to_prediction(&self, raw: &mut [f64]) -> f64;
    /// Spark's `probability2prediction`.
    fn probability_to_prediction(&self, p: &[f64]) -> f64;
    /// Spark's `predict(features)`.
    fn predict(&self, x: &VectorRef<'_>, scratch: &mut [f64]) -> std::result::Result<f64, String>;
    /// Hashes the fitted parameters (UDF identity).
    fn fingerprint(&self, h: &mut std::collections::hash_map::DefaultHasher);
}

impl ProbabilisticClassifier for LogisticRegression {
    fn num_features(&self) -> usize {
        self.num_features
    }

    fn output_size(&self) -> usize {
        LogisticRegression::output_size(self)
    }

    fn predict_raw(&self, x: &VectorRef<'_>, out: &mut [f64]) -> std::result::Result<(), String> {
        LogisticRegression::predict_raw(self, x, out);
        Ok(())
    }

    fn raw_to_probability(&self, raw: &mut [f64]) {
        LogisticRegression::raw_to_probability(self, raw)
    }

    fn raw_to_prediction(&self, raw: &mut [f64]) -> f64 {
        LogisticRegression::raw_to_prediction(self, raw)
    }

    fn probability_to_prediction(&self, p: &[f64]) -> f64 {
        LogisticRegression::probability_to_prediction(self, p)
    }

    fn predict(&self, x: &VectorRef<'_>, scratch: &mut [f64]) -> std::result::Result<f64, String> {
        Ok(LogisticRegression::predict(self, x, scratch))
    }

    fn fingerprint(&self, h: &mut std::collections::hash_map::DefaultHasher) {
        use std::hash::Hash;
        (self.num_classes, self.num_features, self.multinomial).hash(h);
        hash_f64s(h, &self.coefficients);
        hash_f64s(h, &self.intercepts);
        hash_f64s(h, &[self.threshold]);
        hash_f64s(h, self.thresholds.as_deref().unwrap_or(&[]));
    }
}

/// One output column of a probabilistic classifier: `vector → vector | double`.
#[derive(Debug)]
pub struct ClassifierUdf<M: ProbabilisticClassifier> {
    name: String,
    signature: Signature,
    stage: StageRef,
    column: String,
    output: LrOutput,
    model: Arc<M>,
    fingerprint: u64,
}

/// `LogisticRegressionModel`, one output column.
pub type LogisticRegressionUdf = ClassifierUdf<LogisticRegression>;

impl<M: ProbabilisticClassifier> PartialEq for ClassifierUdf<M> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.fingerprint == other.fingerprint
    }
}

impl<M: ProbabilisticClassifier> Eq for ClassifierUdf<M> {}

impl<M: ProbabilisticClassifier> std::hash::Hash for ClassifierUdf<M> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.fingerprint.hash(state);
    }
}

impl<M: ProbabilisticClassifier> ClassifierUdf<M> {
    /// A UDF named `name` computing `output` of `stage` from input `column`.
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        column: impl Into<String>,
        output: LrOutput,
        model: Arc<M>,
    ) -> Self {
        let fingerprint = fingerprint(|h| {
            use std::hash::Hash;
            output.hash(h);
            model.fingerprint(h);
        });
        Self {
            name: name.into(),
            signature: Signature::any(1, Volatility::Immutable),
            stage,
            column: column.into(),
            output,
            model,
            fingerprint,
        }
    }

    fn expected_size(&self) -> usize {
        match self.output {
            LrOutput::Raw
            | LrOutput::ProbabilityFromFeatures
            | LrOutput::PredictionFromFeatures => self.model.num_features(),
            _ => self.model.output_size(),
        }
    }
}

impl<M: ProbabilisticClassifier> ScalarUDFImpl for ClassifierUdf<M> {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(if self.output.is_vector() {
            vector_data_type()
        } else {
            DataType::Float64
        })
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        single_arg_field(
            &self.name,
            &self.stage,
            &args,
            ArgKind::Vector,
            self.return_type(&[])?,
        )
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let input = arrays(&args.args, args.number_rows)?;
        let va = VectorArray::try_new(input[0].as_ref())?;
        let n = va.len();
        let k = self.model.output_size();
        let expected = self.expected_size();
        let m = self.model.as_ref();
        let err = |row: usize| move |msg: String| self.stage.error(&self.column, row, msg);
        let row_vector = |row: usize| {
            let v = va
                .value(row)
                .map_err(|e| self.stage.error(&self.column, row, e.to_string()))?
                .ok_or_else(|| self.stage.error(&self.column, row, "null vector"))?;
            if v.size() != expected {
                return Err(self.stage.error(
                    &self.column,
                    row,
                    format!(
                        "vector size {} does not match the model's {expected}",
                        v.size()
                    ),
                ));
            }
            Ok(v)
        };
        let array: arrow::array::ArrayRef = if self.output.is_vector() {
            let mut out = VectorBuilder::with_capacity(n, k);
            for row in 0..n {
                let v = row_vector(row)?;
                let slot = out.dense_row(k);
                match self.output {
                    LrOutput::Raw => m.predict_raw(&v, slot).map_err(err(row))?,
                    LrOutput::ProbabilityFromFeatures => {
                        m.predict_raw(&v, slot).map_err(err(row))?;
                        m.raw_to_probability(slot);
                    }
                    _ => {
                        v.write_dense(slot);
                        m.raw_to_probability(slot);
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
                    LrOutput::PredictionFromFeatures => {
                        m.predict(&v, &mut scratch).map_err(err(row))?
                    }
                    LrOutput::PredictionFromRaw => {
                        v.write_dense(&mut scratch);
                        m.raw_to_prediction(&mut scratch)
                    }
                    _ => {
                        v.write_dense(&mut scratch);
                        m.probability_to_prediction(&scratch)
                    }
                };
                out.append_value(p);
            }
            Arc::new(out.finish())
        };
        Ok(ColumnarValue::Array(array))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binomial(threshold: f64) -> LogisticRegression {
        LogisticRegression {
            num_classes: 2,
            num_features: 2,
            coefficients: vec![1.0, -2.0],
            intercepts: vec![0.5],
            multinomial: false,
            threshold,
            thresholds: None,
        }
    }

    #[test]
    fn binomial_chain() {
        let m = binomial(0.5);
        let x = VectorRef::Dense(&[1.0, 1.0]);
        let mut raw = [0.0; 2];
        m.predict_raw(&x, &mut raw);
        assert_eq!(raw, [0.5, -0.5]);
        let mut p = raw;
        m.raw_to_probability(&mut p);
        assert_eq!(p[0], 1.0 / (1.0 + (-0.5f64).exp()));
        assert_eq!(p[1], 1.0 - p[0]);
        assert_eq!(m.probability_to_prediction(&p), 0.0);
        assert_eq!(m.raw_to_prediction(&mut raw.clone()), 0.0);
        // threshold 0 predicts 1 everywhere, threshold 1 never
        assert_eq!(binomial(0.0).raw_to_prediction(&mut raw.clone()), 1.0);
        assert_eq!(binomial(1.0).raw_to_prediction(&mut [-100.0, 100.0]), 0.0);
    }

    #[test]
    fn multinomial_softmax_and_thresholds() {
        let mut m = LogisticRegression {
            num_classes: 3,
            num_features: 1,
            coefficients: vec![1.0, 2.0, 3.0],
            intercepts: vec![0.0, 0.0, 0.0],
            multinomial: true,
            threshold: 0.5,
            thresholds: None,
        };
        let mut raw = [0.0; 3];
        m.predict_raw(&VectorRef::Dense(&[1.0]), &mut raw);
        assert_eq!(raw, [1.0, 2.0, 3.0]);
        let mut p = raw;
        m.raw_to_probability(&mut p);
        let e = [(1.0f64 - 3.0).exp(), (2.0f64 - 3.0).exp(), 1.0];
        let s: f64 = e.iter().sum();
        assert_eq!(p, [e[0] * (1.0 / s), e[1] * (1.0 / s), e[2] * (1.0 / s)]);
        assert_eq!(m.probability_to_prediction(&p), 2.0);
        m.thresholds = Some(vec![0.01, 1.0, 1.0]);
        assert_eq!(m.probability_to_prediction(&p), 0.0);
        let mut inf = [1.0, f64::INFINITY, 2.0];
        m.raw_to_probability(&mut inf);
        assert_eq!(inf, [0.0, 1.0, 0.0]);
    }
}
