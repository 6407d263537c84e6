//! Linear support vector machines: Spark's `LinearSVCModel` (MLeap op `linear_svc`) and MLeap's
//! `support_vector_machine` op (MLeap's `SupportVectorMachineModel`, wrapping an mllib
//! `SVMModel`).
//!
//! Both have the margin `m = x · w + b` and the raw prediction `[-m, m]`. They differ after:
//! * Spark `LinearSVCModel`: no probability; `prediction = 1` iff `m > threshold` (default
//!   0.0), computed from the raw column (`raw[1] > threshold`) or from the features.
//! * MLeap `support_vector_machine`: `probability` is the raw vector itself
//!   (`rawToProbabilityInPlace` is the identity; it is not a probability); `prediction` is
//!   the argmax of the probability (first maximum: `m > 0` wins class 1), or with
//!   `thresholds` the argmax of `p_i / t_i` (`+∞` where `t_i = 0`).
//!
//! The output columns chain as Spark's classifier transform does (see
//! `logistic_regression`), selected with [`LrOutput`].
//!
//! # Null Handling
//! A null features vector fails, as does a vector whose size differs from the model's.

use std::sync::Arc;

use arrow::array::Float64Builder;
use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::common::{ArgKind, StageRef, arrays, fingerprint, hash_f64s, single_arg_field};
pub use crate::logistic_regression::LrOutput;
use crate::vector::{VectorArray, VectorBuilder, VectorRef, vector_data_type};

/// How a linear SVM turns its margin into a prediction.
#[derive(Debug, Clone, PartialEq)]
pub enum SvmDecision {
    /// Spark's `LinearSVCModel`: class 1 iff the margin exceeds `threshold`.
    Threshold(f64),
    /// MLeap's `support_vector_machine`: argmax of the raw vector, scaled by `thresholds`
    /// when present.
    Thresholds(Option<Vec<f64>>),
}

/// A fitted linear SVM.
#[derive(Debug, Clone)]
pub struct LinearSvm {
    /// One coefficient per feature.
    pub coefficients: Vec<f64>,
    /// The intercept.
    pub intercept: f64,
    /// The decision rule.
    pub decision: SvmDecision,
}

fn argmax2(v: &[f64]) -> f64 {
    // Spark's argmax: the first maximum; comparisons with NaN are false
    if v[1] > v[0] { 1.0 } else { 0.0 }
}

impl LinearSvm {
    /// `[-m, m]` into `out` (length 2).
    #[inline]
    pub fn predict_raw(&self, x: &VectorRef<'_>, out: &mut [f64]) {
        let m = x.dot(&self.coefficients) + self.intercept;
        out[0] = -m;
        out[1] = m;
    }

    /// MLeap's `rawToProbabilityInPlace`: the identity.
    #[inline]
    pub fn raw_to_probability(&self, _raw: &mut [f64]) {}

    /// The prediction from the probability column.
    pub fn probability_to_prediction(&self, p: &[f64]) -> f64 {
        match &self.decision {
            SvmDecision::Threshold(t) => {
                if p[1] > *t {
                    1.0
                } else {
                    0.0
                }
            }
            SvmDecision::Thresholds(None) => argmax2(p),
            SvmDecision::Thresholds(Some(t)) => {
                let scaled: Vec<f64> = p
                    .iter()
                    .zip(t)
                    .map(|(p, t)| if *t == 0.0 { f64::INFINITY } else { p / t })
                    .collect();
                argmax2(&scaled)
            }
        }
    }

    /// The prediction from the raw column.
    pub fn raw_to_prediction(&self, raw: &[f64]) -> f64 {
        self.probability_to_prediction(raw)
    }

    /// The prediction from the features.
    pub fn predict(&self, x: &VectorRef<'_>) -> f64 {
        let mut raw = [0.0; 2];
        self.predict_raw(x, &mut raw);
        self.raw_to_prediction(&raw)
    }
}

/// One output of a linear SVM: `vector → vector | double`.
#[derive(Debug)]
pub struct LinearSvcUdf {
    name: String,
    signature: Signature,
    stage: StageRef,
    column: String,
    output: LrOutput,
    model: Arc<LinearSvm>,
    fingerprint: u64,
}

crate::udf_identity!(LinearSvcUdf);

fn is_vector(o: LrOutput) -> bool {
    matches!(
        o,
        LrOutput::Raw | LrOutput::ProbabilityFromFeatures | LrOutput::ProbabilityFromRaw
    )
}

impl LinearSvcUdf {
    /// A UDF named `name` computing `output` of `stage` from input `column`.
    pub fn new(
        name: impl Into<String>,
        stage: StageRef,
        column: impl Into<String>,
        output: LrOutput,
        model: Arc<LinearSvm>,
    ) -> Self {
        let fingerprint = fingerprint(|h| {
            use std::hash::Hash;
            output.hash(h);
            hash_f64s(h, &model.coefficients);
            hash_f64s(h, &[model.intercept]);
            match &model.decision {
                SvmDecision::Threshold(t) => hash_f64s(h, &[*t]),
                SvmDecision::Thresholds(t) => {
                    t.is_some().hash(h);
                    hash_f64s(h, t.as_deref().unwrap_or(&[]));
                }
            }
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
            | LrOutput::PredictionFromFeatures => self.model.coefficients.len(),
            _ => 2,
        }
    }
}

impl ScalarUDFImpl for LinearSvcUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(if is_vector(self.output) {
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
        let expected = self.expected_size();
        let m = &self.model;
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
        let array: arrow::array::ArrayRef = if is_vector(self.output) {
            let mut out = VectorBuilder::with_capacity(n, 2);
            for row in 0..n {
                let v = row_vector(row)?;
                let slot = out.dense_row(2);
                match self.output {
                    LrOutput::ProbabilityFromRaw => {
                        v.write_dense(slot);
                        m.raw_to_probability(slot);
                    }
                    _ => {
                        m.predict_raw(&v, slot);
                        m.raw_to_probability(slot);
                    }
                }
            }
            out.finish_array()
        } else {
            let mut scratch = [0.0; 2];
            let mut out = Float64Builder::with_capacity(n);
            for row in 0..n {
                let v = row_vector(row)?;
                let p = match self.output {
                    LrOutput::PredictionFromFeatures => m.predict(&v),
                    LrOutput::PredictionFromRaw => {
                        v.write_dense(&mut scratch);
                        m.raw_to_prediction(&scratch)
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

    #[test]
    fn spark_threshold_and_mleap_thresholds() {
        let mut svm = LinearSvm {
            coefficients: vec![1.0, -1.0],
            intercept: 0.5,
            decision: SvmDecision::Threshold(0.0),
        };
        let x = VectorRef::Dense(&[1.0, 2.0]);
        let mut raw = [0.0; 2];
        svm.predict_raw(&x, &mut raw);
        assert_eq!(raw, [0.5, -0.5]);
        assert_eq!(svm.predict(&x), 0.0);
        svm.decision = SvmDecision::Threshold(-1.0);
        assert_eq!(svm.predict(&x), 1.0);
        // MLeap: argmax of [-m, m]; a tie (m = 0) is class 0
        svm.decision = SvmDecision::Thresholds(None);
        assert_eq!(svm.raw_to_prediction(&[0.0, 0.0]), 0.0);
        assert_eq!(svm.raw_to_prediction(&[-0.1, 0.1]), 1.0);
        // thresholds scale: [-m/t0, m/t1]; t = 0 is +inf
        svm.decision = SvmDecision::Thresholds(Some(vec![0.5, 2.0]));
        assert_eq!(svm.raw_to_prediction(&[-1.0, 1.0]), 1.0);
        assert_eq!(svm.raw_to_prediction(&[1.0, -1.0]), 0.0);
        svm.decision = SvmDecision::Thresholds(Some(vec![1.0, 0.0]));
        assert_eq!(svm.raw_to_prediction(&[5.0, -5.0]), 1.0);
    }
}
