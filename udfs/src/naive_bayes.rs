//! NaiveBayesModel: multinomial, complement, Bernoulli and Gaussian, as Spark 3/4 score them.
//!
//! `pi` holds log class priors, `theta` (classes × features) log conditional probabilities
//! (Gaussian: means), `sigma` the Gaussian variances. Raw predictions, per Spark:
//! * multinomial: `theta · x + pi` (features must be non-negative);
//! * complement: `theta · x`, then minus its log-sum-exp (max-shifted, as Spark computes it);
//! * Bernoulli: `(theta - log1p(-exp(theta))) · x + (Σ_j log1p(-exp(theta_j)) + pi)` (features
//!   must be 0 or 1);
//! * Gaussian: `pi - (Σ_j (x_j - theta_j)² / sigma_j + Σ_j ln sigma_j) / 2`.
//!
//! Probability is `Utils.softmax` of the raw prediction; prediction is its argmax, or with
//! `thresholds` the argmax of `p_i / t_i` (Spark's `ProbabilisticClassificationModel`), through
//! the same [`ClassifierUdf`] as logistic regression.
//!
//! # Null Handling
//! A null features vector fails (Spark's UDF dereferences it), as does a vector whose size
//! differs from the model's, and (multinomial, complement, Bernoulli) a feature value Spark's
//! `require` rejects, with Spark's message.

use std::collections::hash_map::DefaultHasher;
use std::hash::Hash;

use crate::cast::write_vector;
use crate::classifier::{ClassifierUdf, ProbabilisticClassifier, softmax};
use crate::common::hash_f64s;
use crate::shown::Shown;
use crate::vector::VectorRef;

/// Spark's `modelType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelType {
    /// `multinomial` (the default).
    Multinomial,
    /// `complement`.
    Complement,
    /// `bernoulli`.
    Bernoulli,
    /// `gaussian`.
    Gaussian,
}

impl ModelType {
    /// Parses Spark's param value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "multinomial" => Some(Self::Multinomial),
            "complement" => Some(Self::Complement),
            "bernoulli" => Some(Self::Bernoulli),
            "gaussian" => Some(Self::Gaussian),
            _ => None,
        }
    }

    /// The param value as Spark writes it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Multinomial => "multinomial",
            Self::Complement => "complement",
            Self::Bernoulli => "bernoulli",
            Self::Gaussian => "gaussian",
        }
    }
}

/// A fitted naive Bayes model.
#[derive(Debug, Clone)]
pub struct NaiveBayes {
    model_type: ModelType,
    num_classes: usize,
    num_features: usize,
    pi: Vec<f64>,
    /// Row-major classes × features: `theta`, or for Bernoulli `theta - log1p(-exp(theta))`.
    weights: Vec<f64>,
    /// Per class: `pi`, Bernoulli `Σ log1p(-exp(theta)) + pi`, Gaussian `Σ ln sigma`.
    offsets: Vec<f64>,
    /// Gaussian means (row-major), else empty.
    theta: Vec<f64>,
    /// Gaussian variances (row-major), else empty.
    sigma: Vec<f64>,
    thresholds: Option<Vec<f64>>,
}

impl NaiveBayes {
    /// From Spark's fitted `pi` (classes), `theta` and `sigma` (row-major classes × features;
    /// `sigma` only for Gaussian). The caller checks the sizes.
    pub fn new(
        model_type: ModelType,
        pi: Vec<f64>,
        theta: Vec<f64>,
        sigma: Vec<f64>,
        thresholds: Option<Vec<f64>>,
    ) -> Self {
        let num_classes = pi.len();
        let num_features = theta.len().checked_div(num_classes).unwrap_or(0);
        let f = num_features;
        let (weights, offsets, theta, sigma) = match model_type {
            ModelType::Multinomial | ModelType::Complement => {
                (theta, pi.clone(), Vec::new(), Vec::new())
            }
            ModelType::Bernoulli => {
                let weights = theta.iter().map(|t| t - (-t.exp()).ln_1p()).collect();
                let offsets = (0..num_classes)
                    .map(|c| {
                        let neg: f64 = theta[c * f..(c + 1) * f]
                            .iter()
                            .fold(0.0, |s, t| s + (-t.exp()).ln_1p());
                        neg + pi[c]
                    })
                    .collect();
                (weights, offsets, Vec::new(), Vec::new())
            }
            ModelType::Gaussian => {
                let offsets = (0..num_classes)
                    .map(|c| {
                        sigma[c * f..(c + 1) * f]
                            .iter()
                            .fold(0.0, |s, v| s + v.ln())
                    })
                    .collect();
                (Vec::new(), offsets, theta, sigma)
            }
        };
        Self {
            model_type,
            num_classes,
            num_features,
            pi,
            weights,
            offsets,
            theta,
            sigma,
            thresholds,
        }
    }

    /// The model type.
    pub fn model_type(&self) -> ModelType {
        self.model_type
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// The per-class thresholds, if set.
    pub fn thresholds(&self) -> Option<&[f64]> {
        self.thresholds.as_deref()
    }

    fn require(x: &VectorRef<'_>, ok: impl Fn(f64) -> bool, what: &str) -> Result<(), String> {
        let mut bad = false;
        x.for_each_active(|_, v| {
            if v != 0.0 && !ok(v) {
                bad = true;
            }
        });
        if bad {
            let mut text = String::new();
            write_vector(&mut text, x);
            Err(format!(
                "requirement failed: {what} but found {}.",
                Shown(&text)
            ))
        } else {
            Ok(())
        }
    }
}

impl ProbabilisticClassifier for NaiveBayes {
    fn num_features(&self) -> usize {
        self.num_features
    }

    fn output_size(&self) -> usize {
        self.num_classes
    }

    fn predict_raw(&self, x: &VectorRef<'_>, out: &mut [f64]) -> Result<(), String> {
        let f = self.num_features;
        match self.model_type {
            ModelType::Multinomial | ModelType::Complement => Self::require(
                x,
                |v| v > 0.0,
                "Naive Bayes requires nonnegative feature values",
            )?,
            ModelType::Bernoulli => Self::require(
                x,
                |v| v == 1.0,
                "Bernoulli naive Bayes requires 0 or 1 feature values",
            )?,
            ModelType::Gaussian => {}
        }
        match self.model_type {
            ModelType::Multinomial | ModelType::Bernoulli => {
                for (c, o) in out.iter_mut().enumerate() {
                    *o = x.dot(&self.weights[c * f..(c + 1) * f]) + self.offsets[c];
                }
            }
            ModelType::Complement => {
                for (c, o) in out.iter_mut().enumerate() {
                    *o = x.dot(&self.weights[c * f..(c + 1) * f]);
                }
                let max = out.iter().fold(f64::NEG_INFINITY, |m, v| m.max(*v));
                let sum_exp = out.iter().fold(0.0, |s, v| s + (v - max).exp());
                let log_sum_exp = sum_exp.ln() + max;
                out.iter_mut().for_each(|v| *v -= log_sum_exp);
            }
            ModelType::Gaussian => {
                for (c, o) in out.iter_mut().enumerate() {
                    let mut s = 0.0;
                    for j in 0..f {
                        let d = x.get(j) - self.theta[c * f + j];
                        s += d * d / self.sigma[c * f + j];
                    }
                    *o = self.pi[c] - (s + self.offsets[c]) / 2.0;
                }
            }
        }
        Ok(())
    }

    fn thresholds(&self) -> Option<&[f64]> {
        self.thresholds.as_deref()
    }

    fn raw_to_probability(&self, raw: &mut [f64]) -> Result<(), String> {
        softmax(raw);
        Ok(())
    }

    fn fingerprint(&self, h: &mut DefaultHasher) {
        "naive_bayes".hash(h);
        (self.model_type, self.num_classes, self.num_features).hash(h);
        hash_f64s(h, &self.pi);
        hash_f64s(h, &self.weights);
        hash_f64s(h, &self.offsets);
        hash_f64s(h, &self.theta);
        hash_f64s(h, &self.sigma);
        hash_f64s(h, self.thresholds.as_deref().unwrap_or(&[]));
    }
}

/// `NaiveBayesModel`, one output column.
pub type NaiveBayesUdf = ClassifierUdf<NaiveBayes>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multinomial_and_validation() {
        let m = NaiveBayes::new(
            ModelType::Multinomial,
            vec![-0.5, -1.0],
            vec![-1.0, -2.0, -3.0, -0.5],
            vec![],
            None,
        );
        let mut raw = [0.0; 2];
        m.predict_raw(&VectorRef::Dense(&[2.0, 1.0]), &mut raw)
            .unwrap();
        assert_eq!(raw, [-2.0 - 2.0 - 0.5, -6.0 - 0.5 - 1.0]);
        assert_eq!(m.raw_to_prediction(&mut raw.clone()), Ok(0.0));
        let e = m
            .predict_raw(&VectorRef::Dense(&[2.0, -1.0]), &mut raw)
            .unwrap_err();
        assert_eq!(
            e,
            "requirement failed: Naive Bayes requires nonnegative feature values but found \
             [2.0,-1.0]."
        );
        assert!(
            m.predict_raw(&VectorRef::Dense(&[f64::NAN, 0.0]), &mut raw)
                .is_err()
        );
    }

    #[test]
    fn bernoulli_gaussian_complement() {
        let theta = vec![(0.2f64).ln(), (0.7f64).ln(), (0.6f64).ln(), (0.1f64).ln()];
        let pi = vec![(0.4f64).ln(), (0.6f64).ln()];
        let b = NaiveBayes::new(
            ModelType::Bernoulli,
            pi.clone(),
            theta.clone(),
            vec![],
            None,
        );
        let mut raw = [0.0; 2];
        b.predict_raw(&VectorRef::Dense(&[1.0, 0.0]), &mut raw)
            .unwrap();
        // log P(c) + log p(x0 = 1 | c) + log (1 - p(x1 = 1 | c))
        assert!((raw[0] - (0.4f64.ln() + 0.2f64.ln() + 0.3f64.ln())).abs() < 1e-12);
        assert!((raw[1] - (0.6f64.ln() + 0.6f64.ln() + 0.9f64.ln())).abs() < 1e-12);
        assert!(
            b.predict_raw(&VectorRef::Dense(&[2.0, 0.0]), &mut raw)
                .is_err()
        );

        let g = NaiveBayes::new(
            ModelType::Gaussian,
            vec![0.0, 0.0],
            vec![0.0, 0.0, 1.0, 1.0],
            vec![1.0, 4.0, 1.0, 1.0],
            None,
        );
        g.predict_raw(&VectorRef::Dense(&[1.0, 2.0]), &mut raw)
            .unwrap();
        assert_eq!(raw[0], -(1.0 + 1.0 + 4.0f64.ln()) / 2.0);
        assert_eq!(raw[1], -(0.0 + 1.0 + 0.0) / 2.0);

        let c = NaiveBayes::new(
            ModelType::Complement,
            pi,
            theta,
            vec![],
            Some(vec![1.0, 0.0]),
        );
        c.predict_raw(&VectorRef::Dense(&[1.0, 1.0]), &mut raw)
            .unwrap();
        let total: f64 = raw.iter().map(|v| v.exp()).sum();
        assert!((total - 1.0).abs() < 1e-12);
        // a zero threshold always wins
        assert_eq!(c.raw_to_prediction(&mut raw.clone()), Ok(1.0));
    }
}
