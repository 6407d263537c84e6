//! LinearRegressionModel: `prediction = features · coefficients + intercept`.
//!
//! # Null Handling
//! A null features vector, or one whose size differs from the model's, fails (as in Spark).

use std::collections::hash_map::DefaultHasher;

use crate::common::hash_f64s;
use crate::regressor::{Regressor, RegressorUdf};
use crate::vector::VectorRef;

/// A fitted linear model.
#[derive(Debug, Clone)]
pub struct LinearModel {
    /// One coefficient per feature.
    pub coefficients: Vec<f64>,
    /// The intercept (0 when fitted without one).
    pub intercept: f64,
}

impl Regressor for LinearModel {
    fn num_features(&self) -> usize {
        self.coefficients.len()
    }

    #[inline]
    fn predict(&self, x: &VectorRef<'_>) -> f64 {
        x.dot(&self.coefficients) + self.intercept
    }

    fn fingerprint(&self, h: &mut DefaultHasher) {
        hash_f64s(h, &self.coefficients);
        hash_f64s(h, &[self.intercept]);
    }
}

/// `LinearRegressionModel`: `vector → double`.
pub type LinearRegressionUdf = RegressorUdf<LinearModel>;
