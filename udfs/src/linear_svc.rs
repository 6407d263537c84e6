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
//! The output columns chain as Spark's classifier transform does, through the shared
//! [`ClassifierUdf`] (see `classifier`).
//!
//! # Null Handling
//! A null features vector fails, as does a vector whose size differs from the model's.

use std::collections::hash_map::DefaultHasher;
use std::hash::Hash;

use crate::classifier::{ClassifierUdf, ProbabilisticClassifier};
use crate::common::hash_f64s;
use crate::vector::VectorRef;

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

impl ProbabilisticClassifier for LinearSvm {
    fn num_features(&self) -> usize {
        self.coefficients.len()
    }

    fn output_size(&self) -> usize {
        2
    }

    fn thresholds(&self) -> Option<&[f64]> {
        match &self.decision {
            SvmDecision::Thresholds(t) => t.as_deref(),
            SvmDecision::Threshold(_) => None,
        }
    }

    /// `[-m, m]`.
    #[inline]
    fn predict_raw(&self, x: &VectorRef<'_>, out: &mut [f64]) -> std::result::Result<(), String> {
        let m = x.dot(&self.coefficients) + self.intercept;
        out[0] = -m;
        out[1] = m;
        Ok(())
    }

    /// MLeap's `rawToProbabilityInPlace`: the identity.
    fn raw_to_probability(&self, _raw: &mut [f64]) -> std::result::Result<(), String> {
        Ok(())
    }

    /// Spark's LinearSVC: `p[1] > threshold`; MLeap's SVM: the shared (thresholded) argmax.
    fn probability_to_prediction(&self, p: &[f64]) -> f64 {
        match &self.decision {
            SvmDecision::Threshold(t) => {
                if p[1] > *t {
                    1.0
                } else {
                    0.0
                }
            }
            SvmDecision::Thresholds(None) => crate::classifier::argmax(p),
            // MLeap's rule: `t = 0` scales to +∞ whatever the sign of the raw value (the raw
            // "probability" of an SVM may be negative, unlike a real probability)
            SvmDecision::Thresholds(Some(t)) => {
                let scaled: Vec<f64> = p
                    .iter()
                    .zip(t)
                    .map(|(p, t)| if *t == 0.0 { f64::INFINITY } else { p / t })
                    .collect();
                crate::classifier::argmax(&scaled)
            }
        }
    }

    /// The probability is the raw vector, so the same rule applies to it.
    fn raw_to_prediction(&self, raw: &mut [f64]) -> std::result::Result<f64, String> {
        Ok(self.probability_to_prediction(raw))
    }

    fn fingerprint(&self, h: &mut DefaultHasher) {
        "linear_svm".hash(h);
        hash_f64s(h, &self.coefficients);
        hash_f64s(h, &[self.intercept]);
        match &self.decision {
            SvmDecision::Threshold(t) => hash_f64s(h, &[*t]),
            SvmDecision::Thresholds(t) => {
                t.is_some().hash(h);
                hash_f64s(h, t.as_deref().unwrap_or(&[]));
            }
        }
    }
}

/// One output of a linear SVM.
pub type LinearSvcUdf = ClassifierUdf<LinearSvm>;

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
        svm.predict_raw(&x, &mut raw).unwrap();
        assert_eq!(raw, [0.5, -0.5]);
        assert_eq!(svm.predict(&x, &mut raw), Ok(0.0));
        svm.decision = SvmDecision::Threshold(-1.0);
        assert_eq!(svm.predict(&x, &mut raw), Ok(1.0));
        // MLeap: argmax of [-m, m]; a tie (m = 0) is class 0
        svm.decision = SvmDecision::Thresholds(None);
        assert_eq!(svm.raw_to_prediction(&mut [0.0, 0.0]), Ok(0.0));
        assert_eq!(svm.raw_to_prediction(&mut [-0.1, 0.1]), Ok(1.0));
        // thresholds scale: [-m/t0, m/t1]; t = 0 is +inf
        svm.decision = SvmDecision::Thresholds(Some(vec![0.5, 2.0]));
        assert_eq!(svm.raw_to_prediction(&mut [-1.0, 1.0]), Ok(1.0));
        assert_eq!(svm.raw_to_prediction(&mut [1.0, -1.0]), Ok(0.0));
        svm.decision = SvmDecision::Thresholds(Some(vec![1.0, 0.0]));
        assert_eq!(svm.raw_to_prediction(&mut [5.0, -5.0]), Ok(1.0));
    }
}
