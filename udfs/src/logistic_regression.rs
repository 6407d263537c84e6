//! LogisticRegressionModel: margins, probabilities and predictions, as Spark computes them.
//!
//! The column chaining and the UDF are the shared probabilistic-classifier machinery
//! ([`crate::classifier`]); this file holds the model's own steps. The binomial paths differ
//! slightly (`predict` compares the sigmoid with the threshold, `raw2prediction` compares the
//! margin with `log(t / (1 - t))`), which is why the compiled stage picks the same path Spark
//! picks.
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

use std::collections::hash_map::DefaultHasher;

use crate::classifier::{
    ClassifierUdf, ProbabilisticClassifier, argmax, softmax, thresholded_argmax,
};
use crate::common::hash_f64s;
use crate::vector::VectorRef;

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

impl ProbabilisticClassifier for LogisticRegression {
    fn num_features(&self) -> usize {
        self.num_features
    }

    /// `num_classes` (multinomial) or 2 (binomial).
    fn output_size(&self) -> usize {
        if self.multinomial {
            self.num_classes
        } else {
            2
        }
    }

    fn thresholds(&self) -> Option<&[f64]> {
        self.thresholds.as_deref()
    }

    /// Margins: binomial `[-m, m]`, multinomial one per class.
    #[inline]
    fn predict_raw(&self, x: &VectorRef<'_>, out: &mut [f64]) -> std::result::Result<(), String> {
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
        Ok(())
    }

    /// Binomial `p0 = 1 / (1 + exp(-raw0))`, `p1 = 1 - p0`; multinomial `Utils.softmax`
    /// (subtract the largest margin, exponentiate, multiply by `1 / sum`; a `+∞` margin gives a
    /// one-hot vector at the first one).
    #[inline]
    fn raw_to_probability(&self, raw: &mut [f64]) -> Result<(), String> {
        if self.multinomial {
            softmax(raw);
        } else {
            raw[0] = 1.0 / (1.0 + (-raw[0]).exp());
            raw[1] = 1.0 - raw[0];
        }
        Ok(())
    }

    /// Binomial: `p1 > threshold`; multinomial: the shared rule.
    fn probability_to_prediction(&self, p: &[f64]) -> f64 {
        if !self.multinomial {
            return if p[1] > self.threshold { 1.0 } else { 0.0 };
        }
        match &self.thresholds {
            None => argmax(p),
            Some(t) => thresholded_argmax(p, t),
        }
    }

    /// Binomial: the margin against `log(t / (1 - t))`; multinomial: the shared rule.
    fn raw_to_prediction(&self, raw: &mut [f64]) -> Result<f64, String> {
        if !self.multinomial {
            let t = self.threshold;
            let raw_threshold = if t == 0.0 {
                f64::NEG_INFINITY
            } else if t == 1.0 {
                f64::INFINITY
            } else {
                (t / (1.0 - t)).ln()
            };
            return Ok(if raw[1] > raw_threshold { 1.0 } else { 0.0 });
        }
        if self.thresholds.is_some() {
            self.raw_to_probability(raw)?;
            Ok(self.probability_to_prediction(raw))
        } else {
            Ok(argmax(raw))
        }
    }

    /// Binomial: the sigmoid of the margin against the threshold; multinomial: the shared rule.
    fn predict(&self, x: &VectorRef<'_>, scratch: &mut [f64]) -> Result<f64, String> {
        self.predict_raw(x, scratch)?;
        if self.multinomial {
            self.raw_to_prediction(scratch)
        } else {
            let score = 1.0 / (1.0 + (-scratch[1]).exp());
            Ok(if score > self.threshold { 1.0 } else { 0.0 })
        }
    }

    fn fingerprint(&self, h: &mut DefaultHasher) {
        use std::hash::Hash;
        (self.num_classes, self.num_features, self.multinomial).hash(h);
        hash_f64s(h, &self.coefficients);
        hash_f64s(h, &self.intercepts);
        hash_f64s(h, &[self.threshold]);
        hash_f64s(h, self.thresholds.as_deref().unwrap_or(&[]));
    }
}

/// `LogisticRegressionModel`, one output column (see [`ClassifierUdf`]).
pub type LogisticRegressionUdf = ClassifierUdf<LogisticRegression>;

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
        m.predict_raw(&x, &mut raw).unwrap();
        assert_eq!(raw, [0.5, -0.5]);
        let mut p = raw;
        m.raw_to_probability(&mut p).unwrap();
        assert_eq!(p[0], 1.0 / (1.0 + (-0.5f64).exp()));
        assert_eq!(p[1], 1.0 - p[0]);
        assert_eq!(m.probability_to_prediction(&p), 0.0);
        assert_eq!(m.raw_to_prediction(&mut raw.clone()), Ok(0.0));
        // threshold 0 predicts 1 everywhere, threshold 1 never
        assert_eq!(binomial(0.0).raw_to_prediction(&mut raw.clone()), Ok(1.0));
        assert_eq!(
            binomial(1.0).raw_to_prediction(&mut [-100.0, 100.0]),
            Ok(0.0)
        );
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
        m.predict_raw(&VectorRef::Dense(&[1.0]), &mut raw).unwrap();
        assert_eq!(raw, [1.0, 2.0, 3.0]);
        let mut p = raw;
        m.raw_to_probability(&mut p).unwrap();
        let e = [(1.0f64 - 3.0).exp(), (2.0f64 - 3.0).exp(), 1.0];
        let s: f64 = e.iter().sum();
        assert_eq!(p, [e[0] * (1.0 / s), e[1] * (1.0 / s), e[2] * (1.0 / s)]);
        assert_eq!(m.probability_to_prediction(&p), 2.0);
        m.thresholds = Some(vec![0.01, 1.0, 1.0]);
        assert_eq!(m.probability_to_prediction(&p), 0.0);
        let mut inf = [1.0, f64::INFINITY, 2.0];
        m.raw_to_probability(&mut inf).unwrap();
        assert_eq!(inf, [0.0, 1.0, 0.0]);
    }
}
